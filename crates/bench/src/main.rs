//! `dite-bench`: runs `fixtures/dis/suite.dis` one workload per process under
//! each configuration, takes the best of several runs, and writes the
//! milliseconds and peak RSS as a Markdown table.
//!
//! With `EMU=<emu binary> ROOT=<its root>` in the environment it also runs
//! InferNode's emu on the same file in the same invocation, so that the
//! comparison is measured on one machine at one time. Next to the table it
//! draws the same numbers as an SVG chart (`chart.rs`).
//!
//! `--runner qemu-aarch64 --dite <an AArch64 build>` measures dite under
//! an emulator (and `EMU` may then name an AArch64 emu as well).

mod chart;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Parser;

/// The suite's workloads, in its order.
const WORKLOADS: [&str; 16] = [
    "intloop",
    "arraysum",
    "calls",
    "fib",
    "sieve",
    "nested",
    "bintrees",
    "nbody",
    "spectral",
    "fannkuch",
    "mandel",
    "qsort",
    "strcat",
    "chanring",
    "spawnmany",
    "hashmap",
];

#[derive(Parser)]
#[command(about = "Benchmark dite against itself and InferNode")]
struct Args {
    /// The dite binary.
    #[arg(long, default_value = "target/release/dite")]
    dite: PathBuf,
    /// The suite module.
    #[arg(long, default_value = "fixtures/dis/suite.dis")]
    suite: PathBuf,
    /// dite modes to run (`-c0` interprets).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    modes: Vec<u8>,
    /// Runs per measurement; the best is kept.
    #[arg(long, default_value_t = 2)]
    runs: usize,
    /// Where to write the table; the chart goes beside it, as `.svg`.
    #[arg(long, default_value = "docs/bench/latest.md")]
    out: PathBuf,
    /// A program that runs the dite and emu binaries (an emulator such as
    /// `qemu-aarch64`).
    #[arg(long)]
    runner: Option<String>,
    /// Workloads (default: all), optionally `name=size`.
    workloads: Vec<String>,
}

/// One measurement: wall milliseconds as the suite reports them, and the
/// process's peak resident set in KiB.
#[derive(Clone, Copy, Debug)]
struct Sample {
    ms: u64,
    rss_kb: u64,
}

/// Runs `cmd`, returning its combined output and peak RSS.
fn run(mut cmd: Command) -> Result<(String, u64), String> {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let child = child.map_err(|e| format!("{cmd:?}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let out = child.wait_with_output_rusage(pid)?;
    Ok(out)
}

trait WaitRusage {
    fn wait_with_output_rusage(self, pid: libc::pid_t) -> Result<(String, u64), String>;
}

impl WaitRusage for std::process::Child {
    fn wait_with_output_rusage(mut self, pid: libc::pid_t) -> Result<(String, u64), String> {
        use std::io::Read;
        let mut text = String::new();
        let mut err = String::new();
        // Read both pipes to the end (the suite writes little), then reap
        // the child ourselves to get its resource usage.
        let mut so = self.stdout.take().expect("piped");
        let mut se = self.stderr.take().expect("piped");
        let t = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = so.read_to_string(&mut s);
            s
        });
        let _ = se.read_to_string(&mut err);
        text.push_str(&t.join().unwrap_or_default());
        text.push_str(&err);
        let mut status = 0;
        // SAFETY: rusage is plain data that wait4 fills in.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our unreaped child; the pointers are valid.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r != pid {
            return Err(format!("wait4 failed for {pid}"));
        }
        let st = std::process::ExitStatus::from_raw(status);
        if !st.success() && !text.contains("time total") {
            return Err(format!("exited with {st}: {text}"));
        }
        Ok((text, ru.ru_maxrss as u64))
    }
}

/// The `time NAME N ms` line the suite prints.
fn parse_ms(out: &str, name: &str) -> Option<u64> {
    let prefix = format!("time {name} ");
    out.lines()
        .find_map(|l| l.split_once(&prefix).and_then(|(_, r)| r.trim_end_matches(" ms").trim().parse().ok()))
}

/// The best of `runs` successful samples. A run that fails is reported and
/// tried again, twice at most in all: InferNode's emu now and then faults
/// on a workload it runs cleanly the next time.
fn best(runs: usize, mut f: impl FnMut() -> Result<Sample, String>) -> Result<Sample, String> {
    let mut b: Option<Sample> = None;
    let (mut done, mut failed) = (0, 0);
    while done < runs {
        match f() {
            Ok(s) => {
                done += 1;
                b = Some(match b {
                    Some(x) => Sample { ms: x.ms.min(s.ms), rss_kb: x.rss_kb.min(s.rss_kb) },
                    None => s,
                });
            }
            Err(e) if failed < 2 => {
                failed += 1;
                eprintln!("failed, trying again: {e}");
            }
            Err(e) => return Err(e),
        }
    }
    b.ok_or_else(|| "no runs".into())
}

/// A command running `program`, under the runner if there is one.
fn command(runner: Option<&str>, program: &Path) -> Command {
    match runner {
        Some(r) => {
            let mut cmd = Command::new(r);
            cmd.arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

fn dite_sample(a: &Args, mode: u8, w: &str) -> Result<Sample, String> {
    let name = w.split('=').next().unwrap_or(w);
    let mut cmd = command(a.runner.as_deref(), &a.dite);
    cmd.arg("run").arg(format!("-c{mode}")).arg(&a.suite).arg(w);
    let (out, rss_kb) = run(cmd)?;
    let ms = parse_ms(&out, name).ok_or_else(|| format!("dite -c{mode} {w}: no time in output:\n{out}"))?;
    Ok(Sample { ms, rss_kb })
}

fn emu_sample(
    a: &Args,
    emu: &Path,
    root: &Path,
    mode: u8,
    suite_in_root: &str,
    w: &str,
) -> Result<Sample, String> {
    let name = w.split('=').next().unwrap_or(w);
    let mut cmd = Command::new("timeout");
    cmd.arg("1800");
    cmd.args(a.runner.as_deref());
    cmd.arg(emu).arg(format!("-c{mode}")).arg(format!("-r{}", root.display())).arg(suite_in_root).arg(w);
    let (out, rss_kb) = run(cmd)?;
    let ms = parse_ms(&out, name).ok_or_else(|| format!("emu -c{mode} {w}: no time in output:\n{out}"))?;
    Ok(Sample { ms, rss_kb })
}

fn main() -> Result<(), String> {
    let a = Args::parse();
    let workloads: Vec<String> = if a.workloads.is_empty() {
        WORKLOADS.iter().map(|s| s.to_string()).collect()
    } else {
        a.workloads.clone()
    };
    // Columns: (title, samples by workload).
    let mut cols: Vec<(String, BTreeMap<String, Sample>)> = Vec::new();
    for &mode in &a.modes {
        let mut m = BTreeMap::new();
        for w in &workloads {
            let s = best(a.runs, || dite_sample(&a, mode, w))?;
            eprintln!("dite -c{mode} {w}: {} ms, {} MB", s.ms, s.rss_kb / 1024);
            m.insert(w.clone(), s);
        }
        cols.push((format!("dite -c{mode}"), m));
    }
    if let (Ok(emu), Ok(root)) = (std::env::var("EMU"), std::env::var("ROOT")) {
        let (emu, root) = (PathBuf::from(emu), PathBuf::from(root));
        // emu runs paths inside its root: copy the suite there.
        let dir = root.join("tmp-dite-bench");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::copy(&a.suite, dir.join("suite.dis")).map_err(|e| e.to_string())?;
        for mode in [0u8, 1] {
            if mode == 1 && !a.modes.contains(&1) {
                continue;
            }
            let mut m = BTreeMap::new();
            for w in &workloads {
                let s = best(a.runs, || emu_sample(&a, &emu, &root, mode, "/tmp-dite-bench/suite.dis", w))?;
                eprintln!("InferNode -c{mode} {w}: {} ms, {} MB", s.ms, s.rss_kb / 1024);
                m.insert(w.clone(), s);
            }
            cols.push((format!("InferNode -c{mode}"), m));
        }
    }
    let table = markdown(&workloads, &cols, a.runs);
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&a.out, &table).map_err(|e| format!("{}: {e}", a.out.display()))?;
    print!("{table}");
    let times: Vec<chart::Series> = cols
        .iter()
        .map(|(t, m)| chart::Series { title: t, ms: workloads.iter().map(|w| m[w].ms).collect() })
        .collect();
    let ratios: Vec<(String, Vec<f64>)> = ratio_pairs(&cols)
        .into_iter()
        .map(|(x, y)| {
            let q = workloads.iter().map(|w| cols[x].1[w].ms.max(1) as f64 / cols[y].1[w].ms.max(1) as f64);
            (format!("{} / {}", cols[x].0, cols[y].0), q.collect())
        })
        .collect();
    chart::draw(&a.out.with_extension("svg"), &workloads, &times, &ratios)
}

/// Ratios worth reading, as pairs of columns: each dite mode against
/// InferNode's same mode, and the interpreter against the JIT.
fn ratio_pairs(cols: &[(String, BTreeMap<String, Sample>)]) -> Vec<(usize, usize)> {
    let find = |name: &str| cols.iter().position(|(t, _)| t == name);
    let mut ratios: Vec<(usize, usize)> = Vec::new();
    for mode in 0..2 {
        if let (Some(a), Some(b)) = (find(&format!("dite -c{mode}")), find(&format!("InferNode -c{mode}"))) {
            ratios.push((a, b));
        }
    }
    if let (Some(a), Some(b)) = (find("dite -c0"), find("dite -c1")) {
        ratios.push((a, b));
    }
    ratios
}

fn markdown(workloads: &[String], cols: &[(String, BTreeMap<String, Sample>)], runs: usize) -> String {
    let ratios = ratio_pairs(cols);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Best of {runs} runs; milliseconds as the suite measures them, peak RSS of the process.\n"
    );
    let _ = write!(s, "| workload |");
    for (t, _) in cols {
        let _ = write!(s, " {t} ms | {t} MB |");
    }
    for &(a, b) in &ratios {
        let _ = write!(s, " {} / {} |", cols[a].0, cols[b].0);
    }
    let _ = writeln!(s);
    let _ = write!(s, "|---|");
    for _ in cols {
        let _ = write!(s, "---:|---:|");
    }
    for _ in &ratios {
        let _ = write!(s, "---:|");
    }
    let _ = writeln!(s);
    let mut totals = vec![0u64; cols.len()];
    let mut peaks = vec![0u64; cols.len()];
    for w in workloads {
        let _ = write!(s, "| {w} |");
        for (k, (_, m)) in cols.iter().enumerate() {
            let x = m[w];
            totals[k] += x.ms;
            peaks[k] = peaks[k].max(x.rss_kb);
            let _ = write!(s, " {} | {:.1} |", x.ms, x.rss_kb as f64 / 1024.0);
        }
        for &(a, b) in &ratios {
            let _ = write!(s, " {:.2} |", cols[a].1[w].ms as f64 / cols[b].1[w].ms.max(1) as f64);
        }
        let _ = writeln!(s);
    }
    let _ = write!(s, "| **total** |");
    for k in 0..cols.len() {
        let _ = write!(s, " **{}** | **{:.1}** |", totals[k], peaks[k] as f64 / 1024.0);
    }
    for &(a, b) in &ratios {
        let _ = write!(s, " **{:.2}** |", totals[a] as f64 / totals[b].max(1) as f64);
    }
    let _ = writeln!(s);
    s
}
