//! Runtime behaviour that the fixtures do not pin down: deep recursion,
//! fairness, reclaiming cyclic garbage and blocked threads.

mod common;

use common::run_asm;
use vm::Outcome;

include!("programs.rs");

#[test]
fn recursion_a_million_deep_runs_on_the_dis_stack() {
    let (out, outcome, _) = run_asm(&recursion(1_000_000), &[]);
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(out, "1000000\n");
}

/// Past the heap's limit a thread gets emu's exceptions: `out of memory:
/// main` for frames, `heap` for objects.
#[test]
fn runaway_recursion_and_allocation_raise_out_of_memory() {
    let config = vm::Config { heap_limit: Some(SMALL_HEAP), ..vm::Config::default() };
    let (_, outcome, _) = common::run_asm_config(&recursion(100_000_000), &[], config.clone(), None);
    assert_eq!(outcome, Outcome::Broken("out of memory: main".into()));
    let (_, outcome, vm) = common::run_asm_config(RUNAWAY_LIST, &[], config, None);
    assert_eq!(outcome, Outcome::Broken("out of memory: heap".into()));
    assert_eq!(vm.heap.stats().objects, 0, "the list is freed as the thread dies");
}

#[test]
fn shallow_recursion_prints_its_depth() {
    let (out, _, _) = run_asm(&recursion(3), &[]);
    assert_eq!(out, "3\n");
}

#[test]
fn ten_million_cycles_run_in_bounded_memory() {
    let (_, outcome, vm) = run_asm(&cycles(10_000_000), &[]);
    assert_eq!(outcome, Outcome::Done);
    let st = vm.heap.stats();
    assert!(st.collections > 0, "{st:?}");
    assert!(st.collected >= 19_000_000, "{st:?}");
    assert!(st.peak_bytes < 100 << 20, "{st:?}");
}

#[test]
fn threads_blocked_forever_are_reclaimed_when_the_program_ends() {
    let src = BLOCKED;
    let (_, outcome, vm) = run_asm(src, &[]);
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(vm.heap.stats().objects, 0, "{:?}", vm.heap.stats());
}

#[test]
fn a_main_thread_blocked_forever_is_a_deadlock() {
    let src = STUCK;
    let (_, outcome, vm) = run_asm(src, &[]);
    assert_eq!(outcome, Outcome::Deadlock);
    assert_eq!(vm.heap.stats().objects, 0, "{:?}", vm.heap.stats());
}

#[test]
fn a_spinning_thread_does_not_starve_others() {
    // The spinner loops until main sets a flag; main must get the processor
    // back while the spinner spins, or the program never ends.
    let src = SPIN;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (_, outcome, _) = run_asm(src, &[]);
        let _ = tx.send(outcome);
    });
    let outcome = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the spinner starved main");
    assert_eq!(outcome, Outcome::Done);
}
