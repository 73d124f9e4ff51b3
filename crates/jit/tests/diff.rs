//! Differential testing: random well-formed Dis programs run under the
//! interpreter (the reference) and with the JIT must print the same text,
//! end the same way and leave the same number of heap objects: none.
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
//! `target/diff-<seed>.{s,out}`; `DITE_DIFF_CASES=<n>` sets how many
//! programs a run generates (plus a single-case module per
//! [`SINGLE_EVERY`]). A mismatch is shrunk to one case and as few
//! statements as still differ, written to `target/diff-fail-<seed>.s`, and
//! reported. Should the process crash instead, `target/diff-running-<part>`
//! names the seed it was running.

#[path = "../../vm/tests/common/mod.rs"]
mod common;
#[path = "diff/mod.rs"]
mod generator;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use generator::gen;
use generator::ir::{render, Case, Item, Label, Opd, Program, Stmt};
use vm::{Config, Outcome, Vm};

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

/// Assembles `src` into a `.dis` file once for both runs (it is the
/// larger part of a run's cost after compiling). Generated programs must
/// be valid: anything else is a generator bug.
fn write_module(src: &str) -> PathBuf {
    let bug = |e: &dyn std::fmt::Display| -> ! { panic!("generator bug: {e}\n{src}") };
    let m = dis::asm::assemble(src).unwrap_or_else(|e| bug(&e));
    dis::validate::validate(&m, dis::WordSize::W8, None).unwrap_or_else(|e| bug(&e));
    let bytes = dis::write::encode(&m).unwrap_or_else(|e| bug(&e));
    let hash =
        src.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let path = std::env::temp_dir().join(format!("dite-diff-{}-{hash:016x}.dis", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs a module under the interpreter or the JIT. A panic in the VM
/// counts as an outcome, so that it is compared and shrunk like any other.
fn run(path: &Path, jit: bool) -> Run {
    let out = common::Capture::default();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut vm = Vm::with_output(Config::default(), Box::new(out.clone()));
        if jit {
            vm.set_backend(jit::backend().expect("a JIT for this host"));
        }
        let path = path.to_string_lossy().into_owned();
        let outcome = vm.run_program(&path, std::slice::from_ref(&path)).expect("the module loads");
        (outcome, vm.heap.stats().objects)
    }));
    let text = String::from_utf8_lossy(&out.0.borrow()).into_owned();
    match result {
        Ok((outcome, objects)) => {
            let outcome = match outcome {
                Outcome::Done => "done".to_string(),
                Outcome::Broken(msg) => format!("broken: {msg}"),
                Outcome::Deadlock => "deadlock".to_string(),
            };
            Run { text, outcome, objects }
        }
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Run { text, outcome: format!("panic: {msg}"), objects: 0 }
        }
    }
}

/// What can be wrong with a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// The JIT's run differs from the interpreter's.
    Differ,
    /// The interpreter panics (whatever the JIT does).
    Panics,
    /// Both runs leave the same objects behind: a reference-count bug
    /// shared by both.
    Leaks,
}

impl Fault {
    fn describe(self) -> &'static str {
        match self {
            Fault::Differ => "the JIT and the interpreter differ",
            Fault::Panics => "the interpreter panics",
            Fault::Leaks => "objects are left after the program",
        }
    }
}

/// A program's source and its runs both ways.
struct Runs {
    src: String,
    interp: Run,
    jit: Run,
}

impl Runs {
    fn of(p: &Program) -> Runs {
        let src = render(p);
        let path = write_module(&src);
        let (interp, jit) = (run(&path, false), run(&path, true));
        std::fs::remove_file(&path).unwrap();
        Runs { src, interp, jit }
    }

    /// What is wrong, if anything.
    fn fault(&self) -> Option<Fault> {
        if self.interp.outcome.starts_with("panic") {
            Some(Fault::Panics)
        } else if self.interp != self.jit {
            Some(Fault::Differ)
        } else if self.interp.objects != 0 {
            Some(Fault::Leaks)
        } else {
            None
        }
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
    // Should compiled code crash the process, this names the seed.
    let running = target_dir().join(format!("diff-running-{part}"));
    for seed in seeds(part) {
        std::fs::write(&running, format!("DITE_DIFF_SEED={seed}\n")).unwrap();
        let mut p = program(seed);
        if let Some(k) = env("DITE_DIFF_CASE") {
            p.cases.retain(|c| c.id as u64 == k);
        }
        programs += p.cases.len();
        modules += 1;
        let runs = Runs::of(&p);
        if single {
            // For a look at what a seed does.
            let r = &runs.interp;
            std::fs::write(target_dir().join(format!("diff-{seed}.s")), &runs.src).unwrap();
            let out = format!("{}\n{}, {} objects left\n", r.text, r.outcome, r.objects);
            std::fs::write(target_dir().join(format!("diff-{seed}.out")), out).unwrap();
        }
        if let Some(fault) = runs.fault() {
            report(seed, p, fault, &runs);
        }
    }
    let _ = std::fs::remove_file(&running);
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
fn report(seed: u64, p: Program, fault: Fault, whole: &Runs) -> ! {
    let dir = target_dir();
    let full = dir.join(format!("diff-fail-{seed}-full.s"));
    std::fs::write(&full, &whole.src).unwrap();
    let small = shrink(p, &|q| Runs::of(q).fault() == Some(fault));
    let f = Runs::of(&small);
    let path = dir.join(format!("diff-fail-{seed}.s"));
    std::fs::write(&path, &f.src).unwrap();
    let cases: Vec<u32> = small.cases.iter().map(|c| c.id).collect();
    // One case that fails alone reruns alone (unshrunk).
    let rerun = match cases[..] {
        [k] => format!("DITE_DIFF_SEED={seed} DITE_DIFF_CASE={k}"),
        _ => format!("DITE_DIFF_SEED={seed}"),
    };
    panic!(
        "{} on seed {seed} ({rerun}), case(s) {cases:?}\n\
         shrunk program ({}; the dump function left out):\n{}\n\
         interpreter: {} objects left, {}\n{}\n\
         jit: {} objects left, {}\n{}\n\
         whole module ({}): first differing lines:\n{}",
        fault.describe(),
        path.display(),
        without_dump(&f.src),
        f.interp.objects,
        f.interp.outcome,
        f.interp.text,
        f.jit.objects,
        f.jit.outcome,
        f.jit.text,
        full.display(),
        first_difference(&whole.interp, &whole.jit),
    );
}

/// The source without the dump function's body, which is long and the
/// same in every module.
fn without_dump(src: &str) -> String {
    let mut out = String::new();
    let mut skip = false;
    for line in src.lines() {
        if line.starts_with('#') {
            skip = line.starts_with(generator::ir::DUMP_MARK);
        }
        if !skip || line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
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

/// A smaller program that still `fails`: one case if one fails alone,
/// else the fewest cases that do; then as few statements as still fail.
fn shrink(p: Program, fails: &dyn Fn(&Program) -> bool) -> Program {
    let alone = |c: &Case| Program { cases: vec![c.clone()], catch: p.catch };
    let mut small = match p.cases.iter().find(|c| fails(&alone(c))) {
        Some(c) => alone(c),
        None => {
            // It takes what earlier cases left in module data: the
            // shortest failing prefix, then without the cases it can lose.
            let prefix = |n: usize| Program { cases: p.cases[..n].to_vec(), catch: p.catch };
            let n = (1..=p.cases.len()).find(|&n| fails(&prefix(n))).unwrap_or(p.cases.len());
            let mut q = prefix(n);
            for k in (0..n - 1).rev() {
                let mut r = q.clone();
                r.cases.remove(k);
                if fails(&r) {
                    q = r;
                }
            }
            q
        }
    };
    // Statements, last first, until a whole pass removes nothing; then
    // handlers, and helpers nothing calls any more.
    loop {
        let mut progress = false;
        for c in 0..small.cases.len() {
            for f in 0..small.cases[c].funcs.len() {
                let mut k = removable(&small.cases[c].funcs[f].body);
                while k > 0 {
                    k -= 1;
                    let mut r = small.clone();
                    remove(&mut r.cases[c].funcs[f].body, &mut k.clone());
                    if fails(&r) {
                        small = r;
                        progress = true;
                    }
                }
                for h in (0..small.cases[c].funcs[f].handlers.len()).rev() {
                    let mut r = small.clone();
                    r.cases[c].funcs[f].handlers.remove(h);
                    if fails(&r) {
                        small = r;
                        progress = true;
                    }
                }
            }
            let mut used = Vec::new();
            for f in &small.cases[c].funcs {
                targets(&f.body, &mut used);
            }
            let mut r = small.clone();
            let main = r.cases[c].funcs[0].entry;
            r.cases[c].funcs.retain(|f| f.entry == main || used.contains(&f.entry));
            if r.cases[c].funcs.len() < small.cases[c].funcs.len() && fails(&r) {
                small = r;
            }
        }
        if !progress {
            return small;
        }
    }
}

/// Every label the instructions of `stmts` name.
fn targets(stmts: &[Stmt], out: &mut Vec<Label>) {
    for s in stmts {
        match s {
            Stmt::Code(items) => {
                for it in items {
                    if let Item::I(i) = it {
                        out.extend(i.args.iter().filter_map(|a| match a {
                            Opd::Lab(l) | Opd::Link(l) => Some(*l),
                            _ => None,
                        }));
                    }
                }
            }
            Stmt::Label(_) => {}
            Stmt::Loop { body, .. } => targets(body, out),
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
