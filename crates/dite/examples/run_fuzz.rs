//! The execution fuzzer: runs hostile modules that the loader accepts and
//! sorts how `dite run` ends.
//!
//! Each case takes a fixture from `fixtures/dis`, applies one to three
//! mutations — structured ones on the decoded module (indirect offsets and
//! their base slots, direct frame and module-data offsets, operand modes,
//! immediates, opcodes swapped for others the operands fit, type indices,
//! type sizes and pointer maps, branch and call targets, data items and
//! format strings, handlers, links, the header, instructions swapped or
//! copied) or the loader fuzzer's byte-level ones — and keeps the mutant
//! only if `dis::load` accepts it. Each kept mutant then runs as
//! `dite run -c0|-c1` in a scratch directory holding every fixture (a
//! library such as `modlib.dis` is run through the program that loads it),
//! with stdin from /dev/null, a timeout and `ulimit -v`, and is classed:
//!
//! - `clean`: exit 0, 1 or 2 (a Dis exception, `Broken:`, a loader error,
//!   deadlock) and no panic on stderr;
//! - `panic`: a Rust panic (`panicked at`);
//! - `signal`: killed by SIGSEGV, SIGBUS, SIGILL, SIGABRT, …;
//! - `timeout`: still running after the timeout (its CPU time is noted:
//!   a Dis loop spins, a sleep does not);
//! - `oom`: a failed allocation under the memory limit, or SIGKILL;
//! - `other`: any other exit status.
//!
//! Everything follows from `--seed` and the case number: `--repro K`
//! rebuilds case K, prints its mutations and runs it with
//! `RUST_BACKTRACE=1`, leaving the mutant where gdb can take it. Every
//! non-clean run is saved under `--out` (`crashes/`, the mutant and a
//! report), `report.txt` groups them by panic site or signal, and
//! `cases.tsv` lists every case. `--gdb N` reruns up to N signal cases
//! under `gdb -batch` and records their backtraces; `--steps 1` makes each
//! case a single mutation, so that a crash has one cause; `-j` runs cases
//! in parallel.
//!
//! ```sh
//! cargo build --release -p dite
//! cargo run --release -p dite --example run_fuzz -- --cases 2000 --modes 0,1 --seed 1
//! cargo run --release -p dite --example run_fuzz -- --seed 1 --repro 123
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Parser;
use dis::{Datum, Inst, Kind, Module, Opcode, Operand, Slot, WordSize, OPCODES};

#[derive(Parser, Clone)]
#[command(about = "Run loader-accepted mutants of the fixtures and classify how dite ends")]
struct Opts {
    /// The dite binary (default: target/release/dite of this workspace).
    #[arg(long)]
    dite: Option<PathBuf>,
    /// Directory of fixture modules (default: fixtures/dis).
    #[arg(long)]
    fixtures: Option<PathBuf>,
    /// Compile modes to run each mutant in.
    #[arg(long, default_value = "0,1", value_delimiter = ',')]
    modes: Vec<u8>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of cases (mutants generated, loadable or not).
    #[arg(long, default_value_t = 1000)]
    cases: u64,
    /// First case number.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Seconds before a run is killed.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    /// Address-space limit per run, in MB (`ulimit -v`).
    #[arg(long, default_value_t = 1024)]
    mem: u64,
    /// Where reports, crashing mutants and scratch directories go.
    #[arg(long, default_value = "/tmp/dite-run-fuzz")]
    out: PathBuf,
    /// Runs at a time.
    #[arg(short = 'j', long, default_value_t = 1)]
    jobs: usize,
    /// Only mutate fixtures whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// Rebuild case K, print it and run it with RUST_BACKTRACE=1.
    #[arg(long)]
    repro: Option<u64>,
    /// Most mutations per case (1 makes every crash attributable to one).
    #[arg(long, default_value_t = 3)]
    steps: usize,
    /// Rerun up to this many signal cases under gdb for a backtrace.
    #[arg(long, default_value_t = 0)]
    gdb: usize,
}

// ---------------------------------------------------------------- random

/// SplitMix64: small, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn for_case(seed: u64, case: u64) -> Rng {
        let mut r = Rng(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ case.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() {
            None
        } else {
            Some(&v[self.below(v.len())])
        }
    }

    /// A value a check is likely to get wrong.
    fn interesting(&mut self) -> i32 {
        const V: &[i32] = &[
            0,
            1,
            -1,
            2,
            7,
            8,
            16,
            63,
            64,
            -64,
            127,
            128,
            255,
            256,
            4095,
            4096,
            32767,
            65535,
            65536,
            1 << 20,
            1 << 24,
            dis::codec::OPERAND_MAX,
            dis::codec::OPERAND_MIN,
            dis::codec::OPERAND_MAX - 7,
        ];
        if self.one_in(4) {
            (self.next() as i32) >> (self.below(31) + 1)
        } else {
            *self.pick(V).unwrap()
        }
    }

    /// A new offset near or far from `old`, never negative.
    fn offset(&mut self, old: i32, word: i32) -> i32 {
        let v = match self.below(6) {
            0 => old + word * (self.below(4) as i32 + 1),
            1 => old - word * (self.below(4) as i32 + 1),
            2 => old + self.below(word as usize - 1) as i32 + 1,
            3 => self.below(32) as i32 * word,
            4 => *self.pick(&[256, 4096, 1 << 16, 1 << 20, 1 << 24, dis::codec::OPERAND_MAX & !7]).unwrap(),
            _ => self.interesting(),
        };
        v.max(0)
    }
}

// ------------------------------------------------------------- mutation

const WORD: i32 = 8;

fn slot_of(op: Opcode, pos: usize) -> Slot {
    let info = op.info();
    [info.src, info.mid, info.dst][pos]
}

fn operand(i: &Inst, pos: usize) -> Operand {
    [i.src, i.mid, i.dst][pos]
}

fn operand_mut(i: &mut Inst, pos: usize) -> &mut Operand {
    match pos {
        0 => &mut i.src,
        1 => &mut i.mid,
        _ => &mut i.dst,
    }
}

/// Every (pc, operand position) whose operand satisfies `f`.
fn find_ops(m: &Module, f: impl Fn(Opcode, Slot, Operand) -> bool) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for (pc, i) in m.code.iter().enumerate() {
        for pos in 0..3 {
            if f(i.op, slot_of(i.op, pos), operand(i, pos)) {
                v.push((pc, pos));
            }
        }
    }
    v
}

/// Frame offsets the module uses, directly or as indirect bases.
fn frame_offsets(m: &Module) -> Vec<i32> {
    let mut s = BTreeSet::new();
    for i in &m.code {
        for pos in 0..3 {
            match operand(i, pos) {
                Operand::Fp(o) | Operand::IndFp { ptr: o, .. } => {
                    s.insert(o);
                }
                _ => {}
            }
        }
    }
    s.into_iter().collect()
}

fn is_kind(s: Slot, f: impl Fn(Kind) -> bool) -> bool {
    s.kind().is_some_and(f)
}

/// Whether operand `o` may sit in `slot` (as far as its shape goes).
fn fits(slot: Slot, o: Operand) -> bool {
    match (slot, o) {
        (Slot::No, Operand::None) | (Slot::Opt(_), Operand::None) => true,
        (Slot::No, _) | (Slot::Req(_), Operand::None) => false,
        (Slot::Opt(k) | Slot::Req(k), o) => {
            !matches!(k, Kind::Target | Kind::Type) || matches!(o, Operand::Imm(_))
        }
    }
}

/// A coarse shape: which kind of access each operand makes, ignoring widths.
fn shape(op: Opcode) -> [u8; 3] {
    let f = |s: Slot| match s {
        Slot::No => 0,
        Slot::Opt(k) | Slot::Req(k) => match k {
            Kind::Read(_) => 1,
            Kind::Write(_) => 2,
            Kind::Update => 3,
            Kind::Addr => 4,
            Kind::Val => 5,
            Kind::Target => 6,
            Kind::Type => 7,
        },
    };
    let i = op.info();
    [f(i.src), f(i.mid), f(i.dst)]
}

fn show(m: &Module, pc: usize) -> String {
    format!("pc {pc} `{}`", dis::disasm::inst(&m.code[pc]).replace('\t', " "))
}

/// One structured mutation, described, or None if it found nothing to change.
fn mutate_module(m: &mut Module, r: &mut Rng) -> Option<String> {
    let ntypes = m.types.len();
    let ncode = m.code.len();
    match r.below(100) {
        // Indirect offset: off(ptr(fp)) past or inside the object.
        0..=17 => {
            let v = find_ops(m, |_, _, o| matches!(o, Operand::IndFp { .. } | Operand::IndMp { .. }));
            let &(pc, pos) = r.pick(&v)?;
            let before = show(m, pc);
            match operand_mut(&mut m.code[pc], pos) {
                Operand::IndFp { off, .. } | Operand::IndMp { off, .. } => *off = r.offset(*off, WORD),
                _ => unreachable!(),
            }
            Some(format!("ind-offset {before} -> {}", show(m, pc)))
        }
        // Indirect base: the pointer comes from another slot.
        18..=29 => {
            let v = find_ops(m, |_, _, o| matches!(o, Operand::IndFp { .. } | Operand::IndMp { .. }));
            let &(pc, pos) = r.pick(&v)?;
            let before = show(m, pc);
            let fo = frame_offsets(m);
            let ds = m.data_size;
            let new = match operand(&m.code[pc], pos) {
                Operand::IndFp { .. } => {
                    let cands: Vec<i32> = fo.iter().copied().filter(|o| o % WORD == 0).collect();
                    if r.one_in(3) {
                        r.below(40) as i32 * WORD
                    } else {
                        *r.pick(&cands)?
                    }
                }
                _ => (r.below((ds / WORD).max(1) as usize) as i32) * WORD,
            };
            match operand_mut(&mut m.code[pc], pos) {
                Operand::IndFp { ptr, .. } | Operand::IndMp { ptr, .. } => *ptr = new,
                _ => unreachable!(),
            }
            Some(format!("ind-base {before} -> {}", show(m, pc)))
        }
        // Direct offset: another frame or data slot, maybe unaligned.
        30..=39 => {
            let v = find_ops(m, |_, _, o| matches!(o, Operand::Fp(_) | Operand::Mp(_)));
            let &(pc, pos) = r.pick(&v)?;
            let before = show(m, pc);
            let fo = frame_offsets(m);
            let ds = m.data_size;
            let unaligned = if r.one_in(5) { r.below(7) as i32 + 1 } else { 0 };
            match operand_mut(&mut m.code[pc], pos) {
                Operand::Fp(o) => *o = r.pick(&fo).copied().unwrap_or(*o) + unaligned,
                Operand::Mp(o) => *o = (r.below((ds / WORD).max(1) as usize) as i32) * WORD + unaligned,
                _ => unreachable!(),
            }
            Some(format!("direct-offset {before} -> {}", show(m, pc)))
        }
        // Operand mode: direct <-> indirect, fp <-> mp, immediate -> slot.
        40..=45 => {
            let v = find_ops(m, |_, s, o| {
                !o.is_none() && !is_kind(s, |k| matches!(k, Kind::Target | Kind::Type))
            });
            let &(pc, pos) = r.pick(&v)?;
            let before = show(m, pc);
            let off = if r.one_in(2) { 0 } else { r.offset(0, WORD) };
            let o = operand_mut(&mut m.code[pc], pos);
            *o = match *o {
                Operand::Fp(n) if pos != 1 && r.one_in(2) => Operand::IndFp { ptr: n & !7, off },
                Operand::Fp(n) => Operand::Mp(n),
                Operand::Mp(n) if pos != 1 && r.one_in(2) => Operand::IndMp { ptr: n & !7, off },
                Operand::Mp(n) => Operand::Fp(n),
                Operand::IndFp { ptr, off } => {
                    if r.one_in(2) {
                        Operand::Fp(ptr)
                    } else {
                        Operand::IndMp { ptr, off }
                    }
                }
                Operand::IndMp { ptr, off } => {
                    if r.one_in(2) {
                        Operand::Mp(ptr)
                    } else {
                        Operand::IndFp { ptr, off }
                    }
                }
                Operand::Imm(v) => Operand::Fp((v.max(0)) & !7),
                Operand::None => Operand::None,
            };
            Some(format!("mode {before} -> {}", show(m, pc)))
        }
        // Immediate value.
        46..=54 => {
            let v = find_ops(m, |_, s, o| {
                matches!(o, Operand::Imm(_)) && !is_kind(s, |k| matches!(k, Kind::Target | Kind::Type))
            });
            let &(pc, pos) = r.pick(&v)?;
            let before = show(m, pc);
            *operand_mut(&mut m.code[pc], pos) = Operand::Imm(r.interesting());
            Some(format!("imm {before} -> {}", show(m, pc)))
        }
        // Opcode swapped for one whose operand rules the operands fit.
        55..=66 => {
            let pc = r.below(ncode);
            let i = m.code[pc];
            let same_shape = r.one_in(2);
            let cands: Vec<Opcode> = OPCODES
                .iter()
                .map(|row| row.op)
                .filter(|&op| op != i.op && (0..3).all(|p| fits(slot_of(op, p), operand(&i, p))))
                .filter(|&op| !same_shape || shape(op) == shape(i.op))
                .collect();
            let &op = r.pick(&cands)?;
            let before = show(m, pc);
            m.code[pc].op = op;
            Some(format!("opcode {before} -> {}", show(m, pc)))
        }
        // Type index in an instruction, the entry, a link or a handler.
        67..=73 => {
            let v = find_ops(m, |_, s, o| matches!(o, Operand::Imm(_)) && is_kind(s, |k| k == Kind::Type));
            let t = r.below(ntypes) as i32;
            match r.below(6) {
                0 => {
                    let old = m.entry_type;
                    m.entry_type = t;
                    Some(format!("entry-type {old} -> {t}"))
                }
                1 if !m.links.is_empty() => {
                    let k = r.below(m.links.len());
                    let old = m.links[k].frame;
                    m.links[k].frame = t;
                    Some(format!("link-frame {:?} {old} -> {t}", m.links[k].name))
                }
                _ => {
                    let &(pc, pos) = r.pick(&v)?;
                    let before = show(m, pc);
                    *operand_mut(&mut m.code[pc], pos) = Operand::Imm(t);
                    Some(format!("type-index {before} -> {}", show(m, pc)))
                }
            }
        }
        // Type size.
        74..=79 => {
            let k = r.below(ntypes);
            let t = &mut m.types[k];
            let old = t.size;
            t.size = match r.below(5) {
                0 => old - WORD * (r.below(4) as i32 + 1),
                1 => old + WORD * (r.below(4) as i32 + 1),
                2 => 0,
                3 => old / 2,
                _ => r.interesting(),
            }
            .max(0);
            // Keep the map inside the new size half the time.
            let mut trimmed = "";
            if r.one_in(2) {
                let words = (t.size / WORD) as usize;
                for w in words..t.map.len() * 8 {
                    t.map[w / 8] &= !(0x80 >> (w % 8));
                }
                trimmed = " (map trimmed)";
            }
            Some(format!("type-size type {} {old} -> {}{trimmed}", t.id, t.size))
        }
        // Pointer map bit.
        80..=84 => {
            let k = r.below(ntypes);
            let t = &mut m.types[k];
            let words = (t.size / WORD) as usize;
            if words == 0 {
                return None;
            }
            let w = r.below(words);
            if t.map.len() <= w / 8 {
                t.map.resize(w / 8 + 1, 0);
            }
            t.map[w / 8] ^= 0x80 >> (w % 8);
            let set = t.map[w / 8] & (0x80 >> (w % 8)) != 0;
            Some(format!(
                "ptr-map type {} word {w} ({}) -> {}",
                t.id,
                w * 8,
                if set { "pointer" } else { "plain" }
            ))
        }
        // Branch, call, spawn or movpc target.
        85..=89 => {
            let v = find_ops(m, |_, s, o| matches!(o, Operand::Imm(_)) && is_kind(s, |k| k == Kind::Target));
            let &(pc, pos) = r.pick(&v)?;
            let before = show(m, pc);
            let Operand::Imm(old) = operand(&m.code[pc], pos) else { unreachable!() };
            let t = if r.one_in(2) { (old + r.below(7) as i32 - 3).max(0) } else { r.below(ncode) as i32 };
            *operand_mut(&mut m.code[pc], pos) = Operand::Imm(t);
            Some(format!("target {before} -> {}", show(m, pc)))
        }
        // Data items.
        90..=94 => mutate_data(m, r),
        // Handlers, links, the entry, the header.
        95..=96 => mutate_tables(m, r),
        // Instructions moved about.
        _ => {
            let (a, b) = (r.below(ncode), r.below(ncode));
            let before = format!("{} / {}", show(m, a), show(m, b));
            match r.below(3) {
                0 => m.code.swap(a, b),
                1 => m.code[b] = m.code[a],
                _ => {
                    m.code[b] =
                        Inst { op: Opcode::Nop, src: Operand::None, mid: Operand::None, dst: Operand::None }
                }
            }
            Some(format!("inst-move {before} -> {} / {}", show(m, a), show(m, b)))
        }
    }
}

fn mutate_data(m: &mut Module, r: &mut Rng) -> Option<String> {
    let k = r.below(m.data.len());
    let d = m.data.get_mut(k)?;
    let before = format!("{d:?}");
    if r.one_in(6) {
        let delta = *r.pick(&[-8, 8, 16, 1, -1]).unwrap();
        if matches!(d, Datum::Pop { .. }) {
            return None;
        }
        let offset = d.offset_mut();
        *offset = (*offset + delta).max(0);
    } else {
        match d {
            Datum::Bytes { bytes, .. } => {
                let i = r.below(bytes.len());
                *bytes.get_mut(i)? = r.next() as u8;
            }
            Datum::Words { words, .. } => {
                let i = r.below(words.len());
                *words.get_mut(i)? = r.interesting();
            }
            Datum::Longs { longs, .. } => {
                let i = r.below(longs.len());
                *longs.get_mut(i)? = (r.interesting() as i64) << r.below(33);
            }
            Datum::Reals { bits, .. } => {
                let i = r.below(bits.len());
                let any = r.next();
                *bits.get_mut(i)? = *r
                    .pick(&[
                        f64::NAN.to_bits(),
                        f64::INFINITY.to_bits(),
                        (-0.0f64).to_bits(),
                        1e300f64.to_bits(),
                        any,
                    ])
                    .unwrap();
            }
            Datum::String { text, .. } => {
                // Format verbs are the interesting part: `%s` over an int
                // argument hands $Sys a forged pointer.
                let verbs = b"dsxcrqgfebuoH%";
                let pct: Vec<usize> =
                    text.iter().enumerate().filter(|(_, &b)| b == b'%').map(|(i, _)| i).collect();
                match (r.below(4), r.pick(&pct)) {
                    (0 | 1, Some(&i)) => {
                        // Replace the verb after this `%` (skipping flags).
                        let rest = text[i + 1..].to_vec();
                        let skip =
                            rest.iter().position(|c| c.is_ascii_alphabetic() || *c == b'%').unwrap_or(0);
                        let vlen = usize::from(skip < rest.len());
                        let v = *r.pick(verbs).unwrap();
                        let mut t = text[..=i].to_vec();
                        t.extend_from_slice(&rest[..skip]);
                        t.push(v);
                        t.extend_from_slice(&rest[skip + vlen..]);
                        *text = t;
                    }
                    (2, _) => {
                        let v = *r.pick(verbs).unwrap();
                        text.push(b'%');
                        text.push(v);
                    }
                    _ => {
                        let n = r.below(text.len() + 1);
                        text.truncate(n);
                    }
                }
            }
            Datum::Array { elem, len, .. } => {
                if r.one_in(2) {
                    *elem = r.below(m.types.len()) as i32;
                } else {
                    *len = *r.pick(&[0, 1, *len - 1, *len + 1, *len * 2, 1 << 20]).unwrap();
                }
            }
            Datum::Index { index, .. } => *index = (*index + r.below(5) as i32 - 2).max(0),
            Datum::Pop { .. } => return None,
        }
    }
    let d = &m.data[k];
    Some(format!("data item {k} {before} -> {d:?}"))
}

fn mutate_tables(m: &mut Module, r: &mut Rng) -> Option<String> {
    let ncode = m.code.len() as i32;
    let pc = r.below(ncode as usize) as i32;
    match r.below(4) {
        0 => {
            let hs = m.handlers.as_mut()?;
            let k = r.below(hs.len());
            let h = hs.get_mut(k)?;
            let before = format!("{h:?}");
            match r.below(6) {
                0 => h.eoff = r.offset(h.eoff, WORD) & !7,
                1 => h.pc1 = pc,
                2 => h.pc2 = pc + 1,
                3 => h.desc = if r.one_in(3) { -1 } else { r.below(m.types.len()) as i32 },
                4 if !h.cases.is_empty() => {
                    let c = r.below(h.cases.len());
                    h.cases[c].pc = pc
                }
                _ => h.wildcard = pc,
            }
            Some(format!("handler {k} {before} -> {h:?}"))
        }
        1 if !m.links.is_empty() => {
            let k = r.below(m.links.len());
            let old = m.links[k].pc;
            m.links[k].pc = pc;
            Some(format!("link-pc {:?} {old} -> {pc}", m.links[k].name))
        }
        2 => {
            let old = m.entry_pc;
            m.entry_pc = pc;
            Some(format!("entry-pc {old} -> {pc}"))
        }
        _ => {
            if r.one_in(2) {
                let old = m.stack_extent;
                m.stack_extent = r.interesting().max(0);
                Some(format!("stack-extent {old} -> {}", m.stack_extent))
            } else {
                let f = *r
                    .pick(&[dis::flags::MUSTCOMPILE, dis::flags::DONTCOMPILE, dis::flags::SHAREMP])
                    .unwrap();
                m.flags ^= f;
                Some(format!("flags ^= {f:#x}"))
            }
        }
    }
}

/// The loader fuzzer's damage, on the encoded bytes.
fn mutate_bytes(b: &mut Vec<u8>, r: &mut Rng) -> String {
    let n = b.len();
    let i = r.below(n);
    match r.below(6) {
        0 => {
            let k = r.below(4) + 1;
            let mut at = Vec::new();
            for _ in 0..k {
                let (j, bit) = (r.below(n), r.below(8));
                b[j] ^= 1 << bit;
                at.push(format!("{j:#x}.{bit}"));
            }
            format!("bytes flip {}", at.join(" "))
        }
        1 => {
            let bytes: Vec<u8> = (0..r.below(12) + 1).map(|_| r.next() as u8).collect();
            for (k, &x) in bytes.iter().enumerate() {
                if let Some(d) = b.get_mut(i + k) {
                    *d = x;
                }
            }
            format!("bytes overwrite {i:#x} {bytes:02x?}")
        }
        2 => {
            let bytes: Vec<u8> = (0..r.below(8) + 1).map(|_| r.next() as u8).collect();
            b.splice(i..i, bytes.iter().copied());
            format!("bytes insert {i:#x} {bytes:02x?}")
        }
        3 => {
            let k = r.below(16) + 1;
            let j = (i + k).min(n);
            b.drain(i..j);
            format!("bytes delete {i:#x}+{k}")
        }
        4 => {
            for (k, x) in [0xffu8, 0xff, 0xff, 0x3f].iter().enumerate() {
                if let Some(d) = b.get_mut(i + k) {
                    *d = *x;
                }
            }
            format!("bytes huge {i:#x}")
        }
        _ => {
            let j = r.below(n);
            b[i] = b[j];
            format!("bytes copy {j:#x} -> {i:#x}")
        }
    }
}

/// A case's mutant: its bytes (if the loader accepts them) and what was done.
struct Mutant {
    fixture: usize,
    steps: Vec<String>,
    bytes: Option<Vec<u8>>,
    /// Why it did not load.
    rejected: Option<String>,
}

fn make_mutant(fx: &[Fixture], pool: &[usize], seed: u64, case: u64, max_steps: usize) -> Mutant {
    let mut r = Rng::for_case(seed, case);
    let k = *r.pick(pool).unwrap();
    let f = &fx[k];
    let mut m = f.module.clone();
    let nsteps = match r.below(10) {
        0..=6 => 1,
        7..=8 => 2,
        _ => 3,
    }
    .min(max_steps.max(1));
    let mut steps = Vec::new();
    let mut byte_step = false;
    for _ in 0..nsteps {
        if r.one_in(10) {
            byte_step = true;
            continue;
        }
        // A mutation may find nothing to change; try a few.
        for _ in 0..8 {
            if let Some(s) = mutate_module(&mut m, &mut r) {
                steps.push(s);
                break;
            }
        }
    }
    let mut bytes = match dis::write::encode(&m) {
        Ok(b) => b,
        Err(e) => return Mutant { fixture: k, steps, bytes: None, rejected: Some(e.to_string()) },
    };
    if byte_step {
        steps.push(mutate_bytes(&mut bytes, &mut r));
    }
    if bytes == f.bytes {
        return Mutant { fixture: k, steps, bytes: None, rejected: Some("unchanged".into()) };
    }
    match dis::load(&bytes, WordSize::W8) {
        Ok(_) => Mutant { fixture: k, steps, bytes: Some(bytes), rejected: None },
        Err(e) => Mutant { fixture: k, steps, bytes: None, rejected: Some(e.to_string()) },
    }
}

// ------------------------------------------------------------- fixtures

struct Fixture {
    name: String,
    bytes: Vec<u8>,
    module: Module,
    /// The program run when this one is mutated (a library runs through
    /// the program that loads it), with its arguments.
    driver: String,
    args: Vec<String>,
}

fn load_fixtures(dir: &Path) -> Vec<Fixture> {
    let manifest: BTreeMap<String, Vec<String>> = std::fs::read_to_string(dir.join("../MANIFEST"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace().map(str::to_string);
            (w.next().unwrap(), w.collect())
        })
        .collect();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "dis"))
        .collect();
    paths.sort();
    let mods: Vec<(String, Vec<u8>, Module)> = paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap();
            let m = dis::load(&bytes, WordSize::W8).unwrap_or_else(|e| panic!("{}: {e}", p.display())).module;
            (p.file_stem().unwrap().to_string_lossy().into_owned(), bytes, m)
        })
        .collect();
    let names = |m: &Module, lib: &str| {
        m.data
            .iter()
            .any(|d| matches!(d, Datum::String { text, .. } if *text == format!("{lib}.dis").into_bytes()))
    };
    mods.iter()
        .map(|(name, bytes, module)| {
            let driver = if manifest.contains_key(name) {
                name.clone()
            } else {
                mods.iter()
                    .find(|(n, _, m)| manifest.contains_key(n) && names(m, name))
                    .map_or(name.clone(), |(n, _, _)| n.clone())
            };
            let args = manifest.get(&driver).cloned().unwrap_or_default();
            Fixture { name: name.clone(), bytes: bytes.clone(), module: module.clone(), driver, args }
        })
        .collect()
}

// ---------------------------------------------------------------- running

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Clean,
    Panic,
    Signal,
    Timeout,
    Oom,
    Other,
}

const CLASSES: [Class; 6] =
    [Class::Clean, Class::Panic, Class::Signal, Class::Timeout, Class::Oom, Class::Other];

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Clean => "clean",
            Class::Panic => "panic",
            Class::Signal => "signal",
            Class::Timeout => "timeout",
            Class::Oom => "oom",
            Class::Other => "other",
        }
    }
}

struct Outcome {
    class: Class,
    /// What grouped reports key on: the panic site, the signal, the exit.
    key: String,
    status: String,
    stderr: String,
    /// A hash of the first 64 KB of stdout, to compare the modes.
    stdout: u64,
    ms: u128,
}

fn signal_name(s: i32) -> String {
    match s {
        4 => "SIGILL".into(),
        5 => "SIGTRAP".into(),
        6 => "SIGABRT".into(),
        7 => "SIGBUS".into(),
        8 => "SIGFPE".into(),
        9 => "SIGKILL".into(),
        11 => "SIGSEGV".into(),
        25 => "SIGXFSZ".into(),
        n => format!("signal {n}"),
    }
}

fn classify(status: Option<ExitStatus>, stderr: &str, cpu_ms: Option<u64>, ms: u128) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    let (class, key, status) = match status {
        None => (
            Class::Timeout,
            match cpu_ms {
                Some(c) if (c as u128) * 4 < ms => "timeout (idle)".to_string(),
                _ => "timeout (busy)".to_string(),
            },
            format!("timeout, cpu {} ms", cpu_ms.map_or("?".into(), |c| c.to_string())),
        ),
        Some(st) => {
            let status = format!("{st}");
            // A Dis thread's `out of memory: heap` is an exception, a clean end.
            if stderr.contains("memory allocation of")
                || (st.signal().is_some() && stderr.contains("out of memory"))
            {
                (Class::Oom, "allocation failed".into(), status)
            } else if let Some(site) = panic_site(stderr) {
                (Class::Panic, site, status)
            } else if let Some(s) = st.signal() {
                if s == 9 {
                    (Class::Oom, "SIGKILL".into(), status)
                } else if stderr.contains("overflowed its stack") {
                    (Class::Signal, "SIGABRT (native stack overflow)".into(), status)
                } else {
                    (Class::Signal, signal_name(s), status)
                }
            } else {
                match st.code() {
                    Some(c @ 0..=2) => (Class::Clean, format!("exit {c}"), status),
                    Some(c) => (Class::Other, format!("exit {c}"), status),
                    None => (Class::Other, status.clone(), status),
                }
            }
        }
    };
    Outcome { class, key, status, stderr: stderr.to_string(), stdout: 0, ms }
}

/// `file:line: message` of a Rust panic.
fn panic_site(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    while let Some(l) = lines.next() {
        if let Some(k) = l.find("panicked at ") {
            let site = l[k + 12..].trim_end_matches(':');
            let msg = lines.next().unwrap_or("");
            // Strip numbers out of the message so that one site groups.
            let msg: String =
                msg.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).take(80).collect();
            return Some(format!("{site}: {msg}"));
        }
    }
    None
}

/// Reads at most `cap` bytes and discards the rest.
fn drain(mut r: impl Read + Send + 'static, cap: usize) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut keep = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            if keep.len() < cap {
                keep.extend_from_slice(&buf[..n.min(cap - keep.len())]);
            }
        }
        keep
    })
}

/// CPU time of a running process, from /proc.
fn cpu_ms(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10)
}

/// A scratch directory holding every fixture and a `tmp` for programs that
/// want one.
struct Work {
    dir: PathBuf,
}

impl Work {
    fn new(dir: PathBuf, fx: &[Fixture]) -> Work {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        for f in fx {
            std::fs::write(dir.join(format!("{}.dis", f.name)), &f.bytes).unwrap();
        }
        Work { dir }
    }

    fn args(&self, f: &Fixture) -> Vec<String> {
        let tmp = self.dir.join("tmp").to_string_lossy().into_owned();
        f.args.iter().map(|a| if a == "TMP" { tmp.clone() } else { a.clone() }).collect()
    }

    /// Puts the fixtures back and removes what a run left behind.
    fn reset(&self, fx: &[Fixture], f: &Fixture) {
        std::fs::write(self.dir.join(format!("{}.dis", f.name)), &f.bytes).unwrap();
        let keep: BTreeSet<String> = fx.iter().map(|f| format!("{}.dis", f.name)).collect();
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n != "tmp" && !keep.contains(&n) {
                    let _ = std::fs::remove_dir_all(e.path()).or_else(|_| std::fs::remove_file(e.path()));
                }
            }
        }
        let _ = std::fs::remove_dir_all(self.dir.join("tmp"));
        let _ = std::fs::create_dir_all(self.dir.join("tmp"));
    }

    fn command(&self, o: &Opts, dite: &Path, f: &Fixture, mode: u8, limits: bool) -> Command {
        let mut c = Command::new("sh");
        let lim = if limits {
            format!("ulimit -c 0; ulimit -v {}; ulimit -f {}; ", o.mem * 1024, 64 * 1024)
        } else {
            String::new()
        };
        c.arg("-c").arg(format!("{lim}exec \"$@\"")).arg("sh");
        c.arg(dite).arg("run").arg(format!("-c{mode}")).arg(self.dir.join(format!("{}.dis", f.driver)));
        c.args(self.args(f));
        c.current_dir(&self.dir).stdin(Stdio::null());
        c
    }

    fn run(&self, o: &Opts, dite: &Path, f: &Fixture, mode: u8, backtrace: bool) -> Outcome {
        let mut c = self.command(o, dite, f, mode, true);
        c.env("RUST_BACKTRACE", if backtrace { "1" } else { "0" })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = c.spawn().expect("spawn sh");
        let out = drain(child.stdout.take().unwrap(), 1 << 16);
        let err = drain(child.stderr.take().unwrap(), 1 << 16);
        let limit = Duration::from_secs_f64(o.timeout);
        let mut nap = Duration::from_millis(1);
        let (status, cpu) = loop {
            if let Some(st) = child.try_wait().expect("wait") {
                break (Some(st), None);
            }
            if start.elapsed() >= limit {
                let cpu = cpu_ms(child.id());
                let _ = child.kill();
                let _ = child.wait();
                break (None, cpu);
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(20));
        };
        let ms = start.elapsed().as_millis();
        let stdout = out.join().unwrap_or_default();
        let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&stdout, &mut h);
        Outcome { stdout: std::hash::Hasher::finish(&h), ..classify(status, &stderr, cpu, ms) }
    }

    /// The backtrace gdb gets for this run: its frames, and the first one
    /// in dite's own source.
    fn gdb(&self, o: &Opts, dite: &Path, f: &Fixture, mode: u8) -> (String, String) {
        let mut c = Command::new("timeout");
        c.arg(format!("{}", (o.timeout * 6.0) as u64 + 30))
            .args(["gdb", "-batch", "-nx", "-ex", "run", "-ex", "bt 25", "--args"]);
        c.arg(dite).arg("run").arg(format!("-c{mode}")).arg(self.dir.join(format!("{}.dis", f.driver)));
        c.args(self.args(f));
        c.current_dir(&self.dir).stdin(Stdio::null()).stderr(Stdio::null());
        let out = c.output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        let frames: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with('#') || l.starts_with("Thread") || l.contains("received signal"))
            .collect();
        // The innermost frame in dite's source and its caller in another
        // file: the check that is missing is usually in one of the two.
        let ours: Vec<(String, String)> = frames
            .iter()
            .filter(|l| l.starts_with('#') && l.contains("crates/"))
            .map(|l| {
                let func = l.split(" in ").nth(1).unwrap_or(l.split_whitespace().nth(1).unwrap_or(""));
                let func = func.split(" (").next().unwrap_or("").trim().to_string();
                let at = l.rsplit("crates/").next().unwrap_or("").to_string();
                (func, at)
            })
            .collect();
        let site = match ours.first() {
            None => "no dite frame".to_string(),
            Some((func, at)) => {
                let file = at.split(':').next().unwrap_or("");
                match ours.iter().find(|(_, a)| !a.starts_with(file)) {
                    Some((f2, a2)) => format!("{func} at {at} <- {f2} at {a2}"),
                    None => format!("{func} at {at}"),
                }
            }
        };
        let top = frames.iter().find(|l| l.starts_with('#')).copied().unwrap_or("");
        let site = if top.contains("?? ()") { format!("generated code <- {site}") } else { site };
        (site, frames.join("\n"))
    }
}

struct Record {
    case: u64,
    fixture: String,
    steps: Vec<String>,
    rejected: Option<String>,
    runs: Vec<(u8, Outcome, Option<String>)>,
}

fn first_lines(s: &str, n: usize) -> String {
    s.lines().take(n).collect::<Vec<_>>().join("\n")
}

fn main() {
    let o = Opts::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dite = o.dite.clone().unwrap_or_else(|| root.join("target/release/dite"));
    let dite = dite
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo build --release -p dite)", dite.display()));
    let fxdir = o.fixtures.clone().unwrap_or_else(|| root.join("fixtures/dis"));
    let fx = load_fixtures(&fxdir);
    let pool: Vec<usize> = (0..fx.len())
        .filter(|&k| o.only.as_ref().is_none_or(|s| fx[k].name.contains(s.as_str())))
        .filter(|&k| fx[k].driver != fx[k].name || fx[k].module.entry_pc >= 0)
        .collect();
    assert!(!pool.is_empty(), "no fixture to mutate");
    std::fs::create_dir_all(&o.out).unwrap();

    if let Some(case) = o.repro {
        repro(&o, &dite, &fx, &pool, case);
        return;
    }

    let next = AtomicU64::new(o.first);
    let end = o.first + o.cases;
    let records = Mutex::new(Vec::<Record>::new());
    let gdb_left = AtomicU64::new(o.gdb as u64);
    let crashes = o.out.join("crashes");
    let _ = std::fs::create_dir_all(&crashes);
    let started = Instant::now();
    std::thread::scope(|s| {
        for j in 0..o.jobs.max(1) {
            let (o, fx, pool, dite, next, records, gdb_left, crashes) =
                (&o, &fx, &pool, &dite, &next, &records, &gdb_left, &crashes);
            s.spawn(move || {
                let work = Work::new(o.out.join(format!("work-{j}")), fx);
                loop {
                    let case = next.fetch_add(1, Ordering::Relaxed);
                    if case >= end {
                        break;
                    }
                    let mu = make_mutant(fx, pool, o.seed, case, o.steps);
                    let f = &fx[mu.fixture];
                    let mut runs = Vec::new();
                    if let Some(bytes) = &mu.bytes {
                        std::fs::write(work.dir.join(format!("{}.dis", f.name)), bytes).unwrap();
                        for &mode in &o.modes {
                            let out = work.run(o, dite, f, mode, false);
                            let mut bt = None;
                            if out.class != Class::Clean {
                                if out.class == Class::Signal
                                    && gdb_left
                                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                                            n.checked_sub(1)
                                        })
                                        .is_ok()
                                {
                                    bt = Some(work.gdb(o, dite, f, mode));
                                }
                                save_crash(o, crashes, case, f, &mu, mode, &out, bt.as_ref(), bytes);
                            }
                            runs.push((mode, out, bt.map(|b| b.0)));
                            work.reset(fx, f);
                            std::fs::write(work.dir.join(format!("{}.dis", f.name)), bytes).unwrap();
                        }
                        work.reset(fx, f);
                    }
                    let mut rs = records.lock().unwrap();
                    rs.push(Record {
                        case,
                        fixture: f.name.clone(),
                        steps: mu.steps,
                        rejected: mu.rejected,
                        runs,
                    });
                    if rs.len() % 100 == 0 {
                        eprintln!("{} cases, {:.0} s", rs.len(), started.elapsed().as_secs_f64());
                    }
                }
            });
        }
    });
    let mut rs = records.into_inner().unwrap();
    rs.sort_by_key(|r| r.case);
    let report = summarize(&o, &rs);
    print!("{report}");
    std::fs::write(o.out.join("report.txt"), &report).unwrap();
    let mut tsv = String::from("case\tfixture\tloaded\tmutations");
    for m in &o.modes {
        tsv += &format!("\tc{m}\tc{m}key\tc{m}ms");
    }
    tsv.push('\n');
    for r in &rs {
        tsv += &format!("{}\t{}\t{}\t{}", r.case, r.fixture, r.rejected.is_none(), r.steps.join(" ; "));
        for (_, out, bt) in &r.runs {
            let key = bt.clone().unwrap_or_else(|| out.key.clone());
            tsv += &format!("\t{}\t{}\t{}", out.class.name(), key.replace('\t', " "), out.ms);
        }
        tsv.push('\n');
    }
    std::fs::write(o.out.join("cases.tsv"), tsv).unwrap();
    eprintln!("wrote {}/report.txt, cases.tsv and crashes/", o.out.display());
}

#[allow(clippy::too_many_arguments)]
fn save_crash(
    o: &Opts,
    dir: &Path,
    case: u64,
    f: &Fixture,
    mu: &Mutant,
    mode: u8,
    out: &Outcome,
    bt: Option<&(String, String)>,
    bytes: &[u8],
) {
    let stem = format!("{case}-c{mode}-{}-{}", out.class.name(), f.name);
    let _ = std::fs::write(dir.join(format!("{stem}.dis")), bytes);
    let mut t = format!(
        "seed {} case {case} mode -c{mode}\nfixture {} (run through {}.dis {})\nclass {} ({}), {}, {} ms\n",
        o.seed,
        f.name,
        f.driver,
        f.args.join(" "),
        out.class.name(),
        out.key,
        out.status,
        out.ms
    );
    for s in &mu.steps {
        t += &format!("mutation: {s}\n");
    }
    t += &format!("stderr:\n{}\n", first_lines(&out.stderr, 12));
    if let Some((site, frames)) = bt {
        t += &format!("gdb: {site}\n{frames}\n");
    }
    t += &format!(
        "repro: cargo run --release -p dite --example run_fuzz -- --seed {} --steps {} --modes {mode} --repro {case}\n",
        o.seed, o.steps
    );
    let _ = std::fs::write(dir.join(format!("{stem}.txt")), t);
}

fn summarize(o: &Opts, rs: &[Record]) -> String {
    let tried = rs.len();
    let loaded = rs.iter().filter(|r| r.rejected.is_none()).count();
    let mut s = format!(
        "seed {} cases {}..{} (at most {} mutations each): {tried} tried, {loaded} loaded\n",
        o.seed,
        o.first,
        o.first + o.cases,
        o.steps
    );
    for &mode in &o.modes {
        let mut n: BTreeMap<Class, usize> = BTreeMap::new();
        let mut groups: BTreeMap<(Class, String), Vec<u64>> = BTreeMap::new();
        for r in rs {
            for (m, out, bt) in &r.runs {
                if *m != mode {
                    continue;
                }
                *n.entry(out.class).or_default() += 1;
                if out.class != Class::Clean {
                    let key = match bt {
                        Some(site) => format!("{} @ {site}", out.key),
                        None => out.key.clone(),
                    };
                    groups.entry((out.class, key)).or_default().push(r.case);
                }
            }
        }
        s += &format!("-c{mode}:");
        for c in CLASSES {
            s += &format!(" {} {}", c.name(), n.get(&c).copied().unwrap_or(0));
        }
        s.push('\n');
        for ((c, key), cases) in &groups {
            let some: Vec<String> = cases.iter().take(8).map(|c| c.to_string()).collect();
            s += &format!("  {:7} {:5}  {key}  [cases {}]\n", c.name(), cases.len(), some.join(" "));
        }
    }
    // Runs that ended cleanly and alike in every mode but printed
    // differently: a difference between the interpreter and the JIT, or
    // memory corruption that went unnoticed.
    let differ: Vec<String> = rs
        .iter()
        .filter(|r| {
            r.runs.len() > 1
                && r.runs.iter().all(|(_, out, _)| out.class == Class::Clean && out.key == r.runs[0].1.key)
                && r.runs.iter().any(|(_, out, _)| out.stdout != r.runs[0].1.stdout)
        })
        .map(|r| r.case.to_string())
        .collect();
    if o.modes.len() > 1 {
        s += &format!(
            "clean in every mode with the same exit but different output: {} [cases {}]\n",
            differ.len(),
            differ.iter().take(12).cloned().collect::<Vec<_>>().join(" ")
        );
    }
    // Which mutations the crashing runs came from.
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for r in rs.iter().filter(|r| r.rejected.is_none()) {
        let kinds: BTreeSet<String> =
            r.steps.iter().map(|s| s.split_whitespace().next().unwrap_or("").to_string()).collect();
        let bad =
            r.runs.iter().any(|(_, out, _)| matches!(out.class, Class::Panic | Class::Signal | Class::Oom));
        for k in kinds {
            let e = by_kind.entry(k).or_default();
            e.0 += 1;
            e.1 += bad as usize;
        }
    }
    s += "mutation kind: loaded mutants containing it / of those with a panic, signal or oom\n";
    for (k, (n, bad)) in by_kind {
        s += &format!("  {k:14} {n:6} {bad:6}\n");
    }
    s
}

fn repro(o: &Opts, dite: &Path, fx: &[Fixture], pool: &[usize], case: u64) {
    let mu = make_mutant(fx, pool, o.seed, case, o.steps);
    let f = &fx[mu.fixture];
    println!("seed {} case {case}: fixture {} (run through {}.dis)", o.seed, f.name, f.driver);
    for s in &mu.steps {
        println!("mutation: {s}");
    }
    let Some(bytes) = &mu.bytes else {
        println!("not loaded: {}", mu.rejected.unwrap_or_default());
        return;
    };
    let work = Work::new(o.out.join("repro"), fx);
    let path = work.dir.join(format!("{}.dis", f.name));
    std::fs::write(&path, bytes).unwrap();
    for &mode in &o.modes {
        let out = work.run(o, dite, f, mode, true);
        println!("-c{mode}: {} ({}), {}, {} ms", out.class.name(), out.key, out.status, out.ms);
        println!("{}", first_lines(&out.stderr, 40));
        work.reset(fx, f);
        std::fs::write(&path, bytes).unwrap();
    }
    let cmd = work.command(o, dite, f, o.modes[0], false);
    let args: Vec<String> = cmd.get_args().skip(3).map(|a| a.to_string_lossy().into_owned()).collect();
    println!("mutant: {}", path.display());
    println!("rerun:  cd {} && {}", work.dir.display(), args.join(" "));
    let _ = std::io::stdout().flush();
}
