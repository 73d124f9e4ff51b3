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

fn run(mode: &[&str], name: &str, args: &[String], scratch: &Path) -> (Vec<u8>, String) {
    let dis = root().join("dis").join(format!("{name}.dis"));
    let args: Vec<String> = args
        .iter()
        .map(|a| if a == "TMP" { scratch.to_string_lossy().into_owned() } else { a.clone() })
        .collect();
    let out = common::dite().arg("run").args(mode).arg(&dis).args(&args).output().expect("run dite");
    // A signal (a crash) is never a program's outcome.
    assert!(out.status.code().is_some(), "{name} ({mode:?}): dite died: {:?}", out.status);
    (out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Programs that need runtime parts still being written; each must fail
/// today, so this list shrinks as they land.
const PENDING: &[&str] = &[];

fn check_mode(mode: &[&str]) {
    let mut failures = Vec::new();
    for (name, args) in manifest() {
        let tag = mode.concat();
        let scratch = std::env::temp_dir().join(format!("dite-fixture-{name}{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let (stdout, stderr) = run(mode, &name, &args, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        let want = std::fs::read(root().join("expected").join(format!("{name}.out"))).unwrap();
        let pending = PENDING.contains(&name.as_str());
        if pending && stdout == want {
            failures.push(format!("{name} ({mode:?}): passes now; take it off PENDING"));
        } else if !pending && stdout != want {
            failures.push(format!(
                "{name} ({mode:?}): output differs\n--- got\n{}\n--- want\n{}\n--- stderr\n{stderr}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&want)
            ));
        }
    }
    assert!(failures.is_empty(), "{} fixture(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn fixtures_interpreted() {
    check_mode(&["-c0"]);
}

/// Every function compiled when it first runs.
#[test]
fn fixtures_compiled() {
    check_mode(&["-c1"]);
}

/// Hot functions compiled, the rest interpreted.
#[test]
fn fixtures_compiled_when_hot() {
    check_mode(&["-c1", "--hot"]);
}

/// `--hot` compiles what runs hot, `run_sieve` for its loops and `fib` for
/// its calls, and leaves code that runs once (`init`, the dispatch to each
/// workload) to the interpreter; plain `-c1` compiles every function that
/// runs.
#[test]
fn only_hot_functions_are_compiled() {
    let dis = root().join("dis/suite.dis");
    let log = |mode: &[&str]| {
        let out = common::dite()
            .arg("run")
            .args(mode)
            .arg("-v")
            .arg(&dis)
            .args(["sieve=1", "fib=15"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "sieve 1 78498\nfib 15 610\n");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let hot = log(&["-c1", "--hot"]);
    assert!(
        hot.contains("compiled the function at pc 263:") && hot.contains("compiled the function at pc 239:"),
        "{hot}"
    );
    assert!(hot.contains("Suite: 2 of 29 functions compiled"), "{hot}");
    let all = log(&["-c1"]);
    assert!(all.contains("Suite: 5 of 29 functions compiled"), "{all}");
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
    for mode in [&["-c0"][..], &["-c1"], &["-c1", "--hot"]] {
        for (arg, stdout, stderr) in cases {
            let out = common::dite().arg("run").args(mode).arg(&dis).arg(arg).output().expect("run dite");
            assert_eq!(String::from_utf8_lossy(&out.stdout), stdout, "{arg} ({mode:?})");
            assert_eq!(String::from_utf8_lossy(&out.stderr), stderr, "{arg} ({mode:?})");
        }
    }
}

/// `stdin` (`fixtures/tests/stdin.b`): a thread waiting for standard input
/// waits alone. The test writes the input only after the main thread has
/// printed that it waits for the reader, which a VM stopped by the read
/// would never print (the run would time out); the last line comes later,
/// without its newline, so `readn` waits part way. Each mode's output is a
/// section of `expected/stdin.out` (emu prints the same, besides echoing
/// the input). In mode `stuck` every thread is blocked once the input has
/// ended, which dite reports as a deadlock then and not before.
#[test]
fn reading_standard_input_blocks_only_the_reader() {
    use std::io::{Read, Write};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let want = std::fs::read_to_string(root().join("expected/stdin.out")).unwrap();
    let dis = root().join("dis/stdin.dis");
    for mode in [&["-c0"][..], &["-c1"], &["-c1", "--hot"]] {
        for section in ["read", "short", "readn", "stream", "stuck"] {
            let mut child = common::dite()
                .arg("run")
                .args(mode)
                .arg(&dis)
                .arg(section)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run dite");
            let mut stdout = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(k) = stdout.read(&mut buf) {
                    if k == 0 || tx.send(buf[..k].to_vec()).is_err() {
                        break;
                    }
                }
            });
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut out = Vec::new();
            let mut stdin = child.stdin.take();
            let mut fed = false;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(b) => out.extend(b),
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        let _ = child.kill();
                        panic!(
                            "stdin {section} ({mode:?}): timed out; output so far:\n{}",
                            String::from_utf8_lossy(&out)
                        );
                    }
                }
                if !fed && String::from_utf8_lossy(&out).contains("main: waiting for the reader\n") {
                    fed = true;
                    let mut w = stdin.take().unwrap();
                    w.write_all(b"hello\nworld\n").unwrap();
                    w.flush().unwrap();
                    std::thread::sleep(Duration::from_millis(100));
                    w.write_all(b"last").unwrap();
                }
            }
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            let status = child.wait().unwrap();
            if section == "stuck" {
                assert_eq!(status.code(), Some(2), "stdin {section} ({mode:?})");
                assert_eq!(stderr, "dite: deadlock: every thread is blocked\n");
            } else {
                assert!(status.success(), "stdin {section} ({mode:?}): {status:?}\n{stderr}");
            }
            let head = format!("== {section}\n");
            let start = want.find(&head).expect("section") + head.len();
            let end = want[start..].find("== ").map_or(want.len(), |k| start + k);
            assert_eq!(String::from_utf8_lossy(&out), &want[start..end], "stdin {section} ({mode:?})");
        }
    }
}

/// Standard input is read only by a program that reads it: a file given as
/// standard input to `hello` keeps its offset (the descriptor's offset is
/// shared with dite), while `stdin` moves it to the end.
#[test]
fn standard_input_is_left_unread_by_programs_that_never_read_it() {
    use std::io::{Seek, SeekFrom, Write};
    let path = std::env::temp_dir().join(format!("dite-stdin-{}", std::process::id()));
    let mut f =
        std::fs::File::options().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
    f.write_all(b"some input\n").unwrap();
    for (prog, args, want) in [("hello", &["a"][..], 0), ("stdin", &["read"][..], 11)] {
        f.seek(SeekFrom::Start(0)).unwrap();
        let out = common::dite()
            .arg("run")
            .arg(root().join("dis").join(format!("{prog}.dis")))
            .args(args)
            .stdin(f.try_clone().unwrap())
            .output()
            .expect("run dite");
        assert!(out.status.success(), "{prog}: {out:?}");
        assert_eq!(f.stream_position().unwrap(), want, "{prog}");
    }
    let _ = std::fs::remove_file(&path);
}
