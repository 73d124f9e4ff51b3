//! The runtime's guarantees hold in compiled code too (DESIGN R2–R5):
//! the interpreter's runtime tests, run with every module compiled.

#[path = "../../vm/tests/common/mod.rs"]
mod common;

use vm::Outcome;

include!("../../vm/tests/programs.rs");

fn run_jit(src: &str) -> (String, Outcome, vm::Vm) {
    common::run_asm_with(src, &[], Some(jit::backend().expect("a JIT for this host")))
}

#[test]
fn recursion_a_million_deep_in_compiled_code() {
    let (out, outcome, _) = run_jit(&recursion(1_000_000));
    assert_eq!((out.as_str(), outcome), ("1000000\n", Outcome::Done));
}

#[test]
fn runaway_recursion_and_allocation_raise_out_of_memory_in_compiled_code() {
    let config = vm::Config { heap_limit: Some(SMALL_HEAP), ..vm::Config::default() };
    let jit = || Some(jit::backend().expect("a JIT for this host"));
    let (_, outcome, _) = common::run_asm_config(&recursion(100_000_000), &[], config.clone(), jit());
    assert_eq!(outcome, Outcome::Broken("out of memory: main".into()));
    let (_, outcome, vm) = common::run_asm_config(RUNAWAY_LIST, &[], config, jit());
    assert_eq!(outcome, Outcome::Broken("out of memory: heap".into()));
    assert_eq!(vm.heap.stats().objects, 0, "the list is freed as the thread dies");
}

#[test]
fn a_thread_spinning_in_compiled_code_does_not_starve_others() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run_jit(SPIN).1);
    });
    let outcome = rx.recv_timeout(std::time::Duration::from_secs(120)).expect("the spinner starved main");
    assert_eq!(outcome, Outcome::Done);
}

#[test]
fn cyclic_garbage_made_by_compiled_code_is_collected() {
    let (_, outcome, vm) = run_jit(&cycles(1_000_000));
    assert_eq!(outcome, Outcome::Done);
    let st = vm.heap.stats();
    assert!(st.peak_bytes < 100 << 20, "{st:?}");
}

#[test]
fn blocked_threads_are_reclaimed_and_deadlock_is_reported() {
    let (_, outcome, vm) = run_jit(BLOCKED);
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(vm.heap.stats().objects, 0, "{:?}", vm.heap.stats());
    assert_eq!(run_jit(STUCK).1, Outcome::Deadlock);
}

/// A module of three instructions is compiled (InferNode's JIT skips
/// modules under 128 instructions), and its runtime errors are raised.
#[test]
fn small_modules_compile_and_raise() {
    let src = "\tstack\t1024\n\
         \tmovw\t$0,80(fp)\n\
         \tdivw\t80(fp),$1,88(fp)\n\
         \tret\n\
         \tentry\t0, 1\n\
         \tdesc\t$0,0,\"\"\n\
         \tdesc\t$1,96,\"\"\n\
         \tvar\t@mp,0\n\
         \tmodule\tZdiv\n\
         \tlink\t1,0,0x4244b354,\"init\"\n";
    let m = dis::asm::assemble(src).unwrap();
    let loaded = dis::load(&dis::write::encode(&m).unwrap(), dis::WordSize::W8).unwrap();
    let module = vm::module::Module::new("zdiv", loaded);
    let code = vm::native::Backend::compile(&*jit::backend().unwrap(), &module, false);
    assert!(code.is_some_and(|c| c.enters(&module, 0)), "compiled");
    assert_eq!(run_jit(src).1, Outcome::Broken("zero divide".into()));
}
