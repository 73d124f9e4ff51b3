//! `$Sys`, function by function: `fixtures/dis/sysall.dis` (from
//! `fixtures/tests/sysall.b`) runs one section per group of functions, and
//! each section's output must be the one InferNode's emu printed, recorded
//! in `fixtures/expected/sysall.out`. Sections InferNode cannot run the same
//! way (no network in dite, blocking forever) have their expected output
//! here.

mod common;

use std::path::PathBuf;

use common::Capture;
use vm::{Config, Outcome, Vm};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Runs `sysall` on a scratch directory of its own with `sections`.
fn run(sections: &[&str]) -> (String, Outcome) {
    let scratch =
        std::env::temp_dir().join(format!("dite-sys-{}-{}", sections.join("-"), std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let prog = fixtures().join("dis/sysall.dis").to_string_lossy().into_owned();
    let out = Capture::default();
    let mut vm = Vm::with_output(Config::default(), Box::new(out.clone()));
    let mut argv = vec![prog.clone(), scratch.to_string_lossy().into_owned()];
    argv.extend(sections.iter().map(|s| s.to_string()));
    let outcome = vm.run_program(&prog, &argv).unwrap();
    drop(vm);
    let _ = std::fs::remove_dir_all(&scratch);
    let text = String::from_utf8(out.0.borrow().clone()).unwrap();
    (text, outcome)
}

/// The section of InferNode's output for `name`, header included.
fn expected(name: &str) -> String {
    let all = std::fs::read_to_string(fixtures().join("expected/sysall.out")).unwrap();
    let head = format!("== {name}\n");
    let start = all.find(&head).unwrap_or_else(|| panic!("no section {name}"));
    let rest = &all[start + head.len()..];
    let end = rest.find("\n== ").map_or(rest.len(), |k| k + 1);
    format!("{head}{}", &rest[..end])
}

/// Runs section `name` and compares it with InferNode's.
fn check(name: &str) {
    let (got, outcome) = run(&[name]);
    assert_eq!(outcome, Outcome::Done, "{got}");
    assert_eq!(got, expected(name));
}

#[test]
fn print_fprint_sprint_aprint() {
    check("print");
}

#[test]
fn werrstr_and_error_strings() {
    check("errstr");
}

#[test]
fn open_and_create() {
    check("open");
}

#[test]
fn read_readn_write_pread_pwrite_seek() {
    check("rw");
}

#[test]
fn stat_fstat_wstat_fwstat() {
    check("stat");
}

#[test]
fn dirread() {
    check("dirread");
}

#[test]
fn remove() {
    check("remove");
}

#[test]
fn chdir() {
    check("chdir");
}

#[test]
fn dup_and_fildes() {
    check("dup");
}

#[test]
fn fd2path() {
    check("fd2path");
}

#[test]
fn iounit() {
    check("iounit");
}

#[test]
fn pipe() {
    check("pipe");
}

/// Reading an empty pipe and writing a full one block only the thread.
#[test]
fn pipes_block_only_their_thread() {
    check("block");
}

#[test]
fn stream() {
    check("stream");
}

#[test]
fn pctl() {
    check("pctl");
}

#[test]
fn tokenize() {
    check("tokenize");
}

#[test]
fn byte2char_char2byte_utfbytes() {
    check("utf");
}

#[test]
fn millisec_and_sleep() {
    check("time");
}

/// bind, unmount, mount, export, fauth, fversion and file2chan fail as
/// InferNode's do for these arguments.
#[test]
fn namespace_calls_fail() {
    check("ns");
}

/// Every section in one run, as the fixture runner does: the whole of
/// InferNode's output.
#[test]
fn all_sections() {
    let (got, outcome) = run(&[]);
    assert_eq!(outcome, Outcome::Done);
    let want = std::fs::read_to_string(fixtures().join("expected/sysall.out")).unwrap();
    assert_eq!(got, want);
}

/// dial, announce and listen: no network in dite yet, an error and nils.
#[test]
fn network_calls_fail() {
    let (got, outcome) = run(&["net"]);
    assert_eq!(outcome, Outcome::Done);
    let e = "not supported in dite without a namespace";
    assert_eq!(got, format!("== net\ndial -1 1 {e}\nannounce -1 1\nlisten -1 1\nbind -1 {e}\n"));
}

/// A thread reading a pipe that only it can write blocks forever: the VM
/// reports the deadlock instead of spinning.
#[test]
fn reading_a_pipe_nobody_writes_deadlocks() {
    let (got, outcome) = run(&["deadlock"]);
    assert_eq!(got, "== deadlock\nreading a pipe nobody else can write\n");
    assert_eq!(outcome, Outcome::Deadlock);
}

/// The write end dies with the main thread's frame; the blocked reader
/// wakes and sees the end of the pipe (InferNode prints the same).
#[test]
fn closing_a_pipe_wakes_its_reader() {
    let (got, outcome) = run(&["leftreader"]);
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(got, "== leftreader\nmain done\nreader saw the end: 0\n");
}
