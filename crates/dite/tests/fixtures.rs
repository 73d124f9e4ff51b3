//! Every program in `fixtures/MANIFEST` prints exactly its expected output,
//! in every execution mode.

use std::path::{Path, PathBuf};
mod common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// (program, arguments) from the MANIFEST; `TMP` is a fresh scratch directory.
fn manifest() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(root().join("MANIFEST")).expect("MANIFEST");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace().map(str::to_string);
            (w.next().unwrap(), w.collect())
        })
        .collect()
}

fn run(mode: &str, name: &str, args: &[String], scratch: &Path) -> (Vec<u8>, String) {
    let dis = root().join("dis").join(format!("{name}.dis"));
    let args: Vec<String> = args
        .iter()
        .map(|a| if a == "TMP" { scratch.to_string_lossy().into_owned() } else { a.clone() })
        .collect();
    let out = common::dite().arg("run").arg(mode).arg(&dis).args(&args).output().expect("run dite");
    // A signal (a crash) is never a program's outcome.
    assert!(out.status.code().is_some(), "{name} ({mode}): dite died: {:?}", out.status);
    (out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Programs that need runtime parts still being written; each must fail
/// today, so this list shrinks as they land.
const PENDING: &[&str] = &[];

fn check_mode(mode: &str) {
    let mut failures = Vec::new();
    for (name, args) in manifest() {
        let scratch = std::env::temp_dir().join(format!("dite-fixture-{name}{mode}-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let (stdout, stderr) = run(mode, &name, &args, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        let want = std::fs::read(root().join("expected").join(format!("{name}.out"))).unwrap();
        let pending = PENDING.contains(&name.as_str());
        if pending && stdout == want {
            failures.push(format!("{name} ({mode}): passes now; take it off PENDING"));
        } else if !pending && stdout != want {
            failures.push(format!(
                "{name} ({mode}): output differs\n--- got\n{}\n--- want\n{}\n--- stderr\n{stderr}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&want)
            ));
        }
    }
    assert!(failures.is_empty(), "{} fixture(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn fixtures_interpreted() {
    check_mode("-c0");
}

#[test]
fn fixtures_compiled() {
    check_mode("-c1");
}

/// `xmain` raises and catches exceptions across interpreted and compiled
/// code (DESIGN R4, R6), which holds only if dite leaves `xinterp.dis`
/// (built with `limbo -C`) to the interpreter and compiles the rest.
#[test]
fn exceptions_cross_between_interpreted_and_compiled_code() {
    let dis = root().join("dis/xmain.dis");
    let out = common::dite().args(["run", "-c1", "-v"]).arg(&dis).output().expect("run dite");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("jit: XTrap: not compiled (dontcompile)"), "{log}");
    assert!(log.contains("jit: XTrap: compiled") && log.contains("jit: XMain: compiled"), "{log}");
    let want = std::fs::read(root().join("expected/xmain.out")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&want));
}

/// A thread killed by an exception is reported as InferNode's emu reports
/// it: under the module whose code raised it, a built-in module's name when
/// one of its functions did (emu's output for `fixtures/tests/broken.b`).
#[test]
fn broken_threads_name_the_raising_module() {
    let cases = [
        ("math", "", "[$Math] Broken: \"invalid math argument\"\n"),
        ("sys", "", "[$Sys] Broken: \"dereference of nil\"\n"),
        ("dis", "", "[Broken] Broken: \"boom\"\n"),
        ("caught", "caught: invalid math argument\n", ""),
        ("spawned", "main done\n", "[$Math] Broken: \"invalid math argument\"\n"),
    ];
    let dis = root().join("dis").join("broken.dis");
    for mode in ["-c0", "-c1"] {
        for (arg, stdout, stderr) in cases {
            let out = common::dite().arg("run").arg(mode).arg(&dis).arg(arg).output().expect("run dite");
            assert_eq!(String::from_utf8_lossy(&out.stdout), stdout, "{arg} ({mode})");
            assert_eq!(String::from_utf8_lossy(&out.stderr), stderr, "{arg} ({mode})");
        }
    }
}
