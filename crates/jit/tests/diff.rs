//! Differential testing: random well-formed Dis programs run under the
//! interpreter (the reference) and with the JIT must print the same text,
//! end the same way and leave the same number of heap objects.
//!
//! A generated *program* is one case function (see `diff/gen.rs`); a module
//! packs [`CASES_PER_MODULE`] of them, called in turn from init, which
//! catches what a case lets through so that one case's exception does not
//! end the others. A minority of modules hold a single case and no
//! catch-all, for the path where an exception kills the program.
//!
//! `DITE_DIFF_SEED=<seed>` reruns one module (seeds from [`SINGLE_BASE`]
//! are single-case modules), `DITE_DIFF_CASE=<k>` as well only its case
//! `k`, and writes the module and what the interpreter printed to
//! `target/diff-<seed>.{s,out}`; `DITE_DIFF_CASES=<n>` sets how many programs
//! a run generates. A mismatch is shrunk to one case and as few statements
//! as still differ, written to `target/diff-fail-<seed>.s`, and reported.

#[path = "../../vm/tests/common/mod.rs"]
mod common;
#[path = "diff/mod.rs"]
mod generator;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use generator::gen;
use generator::ir::{render, Case, Program, Stmt};
use vm::Outcome;

const CASES_PER_MODULE: usize = 100;
/// Programs per run unless `DITE_DIFF_CASES` says otherwise.
const DEFAULT_CASES: usize = 10_000;
/// One single-case module per this many programs, on top.
const SINGLE_EVERY: usize = 200;
/// Seeds from here on are single-case modules.
const SINGLE_BASE: u64 = 1 << 32;
/// The run is split into this many tests, to run in parallel.
const PARTS: u64 = 8;

/// What a run shows: printed text, how it ended, heap objects left.
#[derive(Debug, PartialEq)]
struct Run {
    text: String,
    outcome: String,
    objects: usize,
}

/// Runs `src` under the interpreter or the JIT. A panic in the VM counts
/// as an outcome, so that it is compared and shrunk like any other.
fn run(src: &str, jit: bool) -> Run {
    let backend = jit.then(|| jit::backend().expect("a JIT for this host"));
    match catch_unwind(AssertUnwindSafe(|| common::run_asm_with(src, &[], backend))) {
        Ok((text, outcome, vm)) => {
            let outcome = match outcome {
                Outcome::Done => "done".to_string(),
                Outcome::Broken(msg) => format!("broken: {msg}"),
                Outcome::Deadlock => "deadlock".to_string(),
            };
            Run { text, outcome, objects: vm.heap.stats().objects }
        }
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Run { text: String::new(), outcome: format!("panic: {msg}"), objects: 0 }
        }
    }
}

/// The interpreter's and the JIT's runs, if they differ (or the
/// interpreter panicked).
fn differs(p: &Program) -> Option<(String, Run, Run)> {
    let src = render(p);
    check_valid(&src);
    let (interp, jit) = (run(&src, false), run(&src, true));
    // The interpreter must not panic either, whatever the JIT does.
    let bad = interp != jit || interp.outcome.starts_with("panic");
    bad.then_some((src, interp, jit))
}

/// Generated programs must be valid: anything else is a generator bug.
fn check_valid(src: &str) {
    let m = dis::asm::assemble(src).unwrap_or_else(|e| panic!("generator bug: {e}\n{src}"));
    if let Err(e) = dis::validate::validate(&m, dis::WordSize::W8, None) {
        panic!("generator bug: {e}\n{src}");
    }
    if let Err(e) = dis::write::encode(&m) {
        panic!("generator bug: {e}\n{src}");
    }
}

/// The seed of case `k` of module `seed`.
fn case_seed(seed: u64, k: usize) -> u64 {
    let mut r = gen::Rng::new(seed.wrapping_mul(0x1000_0001).wrapping_add(k as u64));
    r.next()
}

/// The module of `seed`.
fn program(seed: u64) -> Program {
    if seed >= SINGLE_BASE {
        return Program { cases: vec![gen::case(case_seed(seed, 0), 0, true)], catch: false };
    }
    let cases = (0..CASES_PER_MODULE).map(|k| gen::case(case_seed(seed, k), k as u32, false)).collect();
    Program { cases, catch: true }
}

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v}: not a number")))
}

/// The seeds of part `part` of the run.
fn seeds(part: u64) -> Vec<u64> {
    if let Some(seed) = env("DITE_DIFF_SEED") {
        return if part == 0 { vec![seed] } else { vec![] };
    }
    let cases = env("DITE_DIFF_CASES").map_or(DEFAULT_CASES, |n| n as usize);
    let modules = cases.div_ceil(CASES_PER_MODULE) as u64;
    let singles = (cases / SINGLE_EVERY) as u64;
    let multi = (0..modules).filter(|m| m % PARTS == part);
    multi.chain((0..singles).filter(|m| m % PARTS == part).map(|m| SINGLE_BASE + m)).collect()
}

fn run_part(part: u64) {
    let start = Instant::now();
    let (mut programs, mut modules) = (0, 0);
    let single = env("DITE_DIFF_SEED").is_some();
    for seed in seeds(part) {
        let mut p = program(seed);
        if let Some(k) = env("DITE_DIFF_CASE") {
            p.cases.retain(|c| c.id as u64 == k);
        }
        programs += p.cases.len();
        modules += 1;
        if let Some((src, interp, jit)) = differs(&p) {
            report(seed, p, &src, &interp, &jit);
        }
        if single {
            // For a look at what a seed does.
            let src = render(&p);
            let r = run(&src, false);
            std::fs::write(target_dir().join(format!("diff-{seed}.s")), &src).unwrap();
            let out = format!("{}\n{}, {} objects left\n", r.text, r.outcome, r.objects);
            std::fs::write(target_dir().join(format!("diff-{seed}.out")), out).unwrap();
        }
    }
    eprintln!("diff part {part}: {programs} programs in {modules} modules, {:.1?}", start.elapsed());
}

macro_rules! parts {
    ($($name:ident = $k:literal;)*) => {
        $(
            #[test]
            fn $name() {
                run_part($k);
            }
        )*
    };
}

parts! {
    jit_matches_interpreter_0 = 0;
    jit_matches_interpreter_1 = 1;
    jit_matches_interpreter_2 = 2;
    jit_matches_interpreter_3 = 3;
    jit_matches_interpreter_4 = 4;
    jit_matches_interpreter_5 = 5;
    jit_matches_interpreter_6 = 6;
    jit_matches_interpreter_7 = 7;
}

/// Shrinks a failing module, writes it out and fails the test.
fn report(seed: u64, p: Program, src: &str, interp: &Run, jit: &Run) -> ! {
    let dir = target_dir();
    let full = dir.join(format!("diff-fail-{seed}-full.s"));
    std::fs::write(&full, src).unwrap();
    let small = shrink(p);
    let (small_src, a, b) = differs(&small).expect("the shrunk program still differs");
    let path = dir.join(format!("diff-fail-{seed}.s"));
    std::fs::write(&path, &small_src).unwrap();
    let cases: Vec<u32> = small.cases.iter().map(|c| c.id).collect();
    panic!(
        "the JIT and the interpreter differ on seed {seed} (DITE_DIFF_SEED={seed}), case(s) {cases:?}\n\
         shrunk program ({}):\n{small_src}\n\
         interpreter: {} objects left, {}\n{}\n\
         jit: {} objects left, {}\n{}\n\
         whole module ({}): first differing lines:\n{}",
        path.display(),
        a.objects,
        a.outcome,
        a.text,
        b.objects,
        b.outcome,
        b.text,
        full.display(),
        first_difference(interp, jit),
    );
}

/// Cargo's target directory, where failing programs are written.
fn target_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").to_path_buf()
}

/// The first lines where two runs' output differ, and their outcomes.
fn first_difference(a: &Run, b: &Run) -> String {
    let (la, lb): (Vec<_>, Vec<_>) = (a.text.lines().collect(), b.text.lines().collect());
    let k = la.iter().zip(&lb).take_while(|(x, y)| x == y).count();
    let line = |l: &[&str]| l.get(k).copied().unwrap_or("<end of output>").to_string();
    format!(
        "line {}:\n  interpreter: {}\n  jit:         {}\noutcomes: {} / {}, objects left: {} / {}",
        k + 1,
        line(&la),
        line(&lb),
        a.outcome,
        b.outcome,
        a.objects,
        b.objects
    )
}

/// A smaller program that still differs: one case if one differs alone,
/// else the fewest cases that do; then as few statements as still differ.
fn shrink(p: Program) -> Program {
    let alone = |c: &Case| Program { cases: vec![c.clone()], catch: p.catch };
    let mut small = match p.cases.iter().find(|c| differs(&alone(c)).is_some()) {
        Some(c) => alone(c),
        None => {
            // It takes what earlier cases left in module data: the
            // shortest failing prefix, then without the cases it can lose.
            let n = (1..=p.cases.len())
                .find(|&n| differs(&Program { cases: p.cases[..n].to_vec(), catch: p.catch }).is_some())
                .unwrap_or(p.cases.len());
            let mut q = Program { cases: p.cases[..n].to_vec(), catch: p.catch };
            for k in (0..n - 1).rev() {
                let mut r = q.clone();
                r.cases.remove(k);
                if differs(&r).is_some() {
                    q = r;
                }
            }
            q
        }
    };
    // Statements, last first, until a whole pass removes nothing.
    loop {
        let mut progress = false;
        for c in 0..small.cases.len() {
            for f in 0..small.cases[c].funcs.len() {
                let mut k = removable(&small.cases[c].funcs[f].body);
                while k > 0 {
                    k -= 1;
                    let mut r = small.clone();
                    remove(&mut r.cases[c].funcs[f].body, &mut k.clone());
                    if differs(&r).is_some() {
                        small = r;
                        progress = true;
                    }
                }
            }
        }
        if !progress {
            return small;
        }
    }
}

/// Statements that can go (labels stay: branches and handlers name them),
/// nested ones included.
fn removable(stmts: &[Stmt]) -> usize {
    stmts
        .iter()
        .map(|s| match s {
            Stmt::Code(_) => 1,
            Stmt::Label(_) => 0,
            Stmt::Loop { body, .. } => 1 + removable(body),
        })
        .sum()
}

/// Removes the `n`th removable statement in preorder; true once done.
fn remove(stmts: &mut Vec<Stmt>, n: &mut usize) -> bool {
    for i in 0..stmts.len() {
        if matches!(stmts[i], Stmt::Label(_)) {
            continue;
        }
        if *n == 0 {
            // A loop goes whole: only its own statements branch to its labels.
            stmts.remove(i);
            return true;
        }
        *n -= 1;
        if let Stmt::Loop { body, .. } = &mut stmts[i] {
            if remove(body, n) {
                return true;
            }
        }
    }
    false
}
