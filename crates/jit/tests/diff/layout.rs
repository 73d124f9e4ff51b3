//! Memory layout of generated modules: types, frames, module data, the
//! edge values programs start from, and the dump function that prints a
//! frame's every scratch slot.
//!
//! Every slot has one role for a whole program, which is how the generator
//! keeps programs well-formed: values of a kind are only ever written
//! where that kind lives, and addresses (frames, element addresses) only
//! into slots that are never printed or computed with, since they differ
//! from run to run.

use std::fmt::Write;

use super::ir::{ins, Item, Label, Opd};

/// Type descriptor numbers.
pub mod ty {
    /// Module data.
    pub const MP: i32 = 0;
    /// init's frame.
    pub const INIT: i32 = 1;
    /// The frame of every case and helper function.
    pub const SCRATCH: i32 = 2;
    /// The dump function's frame.
    pub const DUMP: i32 = 3;
    /// The dump's `print` frame (its size follows the format).
    pub const DUMP_PRINT: i32 = 4;
    /// init's `print` frame: format, case number, exception.
    pub const INIT_PRINT: i32 = 5;
    /// A record: `w` word at 0, `f` real at 8, `s` string at 16, `a` word
    /// array at 24, `b` 8 bytes at 32.
    pub const REC: i32 = 6;
    /// Array elements: an 8-byte word or real, a byte, a string.
    pub const WORD: i32 = 7;
    pub const BYTE: i32 = 8;
    pub const STR: i32 = 9;
    /// Larger frames for helpers, laid out as [`SCRATCH`]: calls fill a
    /// stack segment sooner, and the largest needs a segment of its own.
    pub const SCRATCH_BIG: i32 = 10;
    pub const SCRATCH_HUGE: i32 = 11;
}

/// Field offsets of a [`ty::REC`].
pub mod rec {
    pub const W: i32 = 0;
    pub const F: i32 = 8;
    pub const S: i32 = 16;
    pub const A: i32 = 24;
    pub const B: i32 = 32;
    pub const SIZE: i32 = 40;
}

/// The scratch frame of cases and helpers ([`ty::SCRATCH`]).
pub mod fr {
    /// A compiler temporary of the frame header (fixed-point instructions
    /// use the other two), for the generator's own use; never printed.
    pub const TEMP: i32 = 48;
    /// Helper arguments: a word, a real, a string, and the recursion depth
    /// left (read-only: it is what bounds recursion).
    pub const ARG_W: i32 = 64;
    pub const ARG_F: i32 = 72;
    pub const ARG_S: i32 = 80;
    pub const DEPTH: i32 = 88;
    /// Integer slots (word or big).
    pub const INTS: [i32; 8] = [96, 104, 112, 120, 128, 136, 144, 152];
    /// Eight byte slots in one word.
    pub const BYTES: i32 = 160;
    /// A word for 16-bit and 32-bit real conversions.
    pub const MIX: i32 = 168;
    pub const REALS: [i32; 6] = [176, 184, 192, 200, 208, 216];
    /// The scalar region, for `movm`: from the first integer to the last real.
    pub const SCALARS: (i32, i32) = (96, 224);
    /// Where `frame` puts a callee's frame.
    pub const CALL: i32 = 224;
    /// Element addresses from `ind*` or `lea`, each of one element kind:
    /// word, real, byte, record, string. Never printed.
    pub const AD_W: i32 = 232;
    pub const AD_F: i32 = 240;
    pub const AD_B: i32 = 248;
    pub const AD_R: i32 = 256;
    pub const AD_S: i32 = 264;
    /// Loop counters by nesting depth; nothing else writes them.
    pub const COUNTERS: [i32; 2] = [272, 280];
    /// Pointers: strings, records, arrays of words, reals, bytes, strings
    /// and records, and the slot handlers store the exception in.
    pub const STRS: [i32; 2] = [288, 296];
    pub const RECS: [i32; 2] = [304, 312];
    pub const AW: i32 = 320;
    pub const AF: i32 = 328;
    pub const AB: i32 = 336;
    pub const AS: i32 = 344;
    pub const AR: i32 = 352;
    pub const EXC: i32 = 360;
    /// This module's own link, for calls through it (`self`, `mframe`,
    /// `mcall`).
    pub const MODULE: i32 = 368;
    /// The frame's own address, which its caller stores: the dump and
    /// setup functions reach the frame through it. Taking the address
    /// with `lea` instead would tell the JIT that anything may reach the
    /// frame's slots, and it would keep none of them in registers.
    pub const SELF: i32 = 376;
    /// Lists: of 8-byte heads (words, bigs, reals or bytes), of strings.
    pub const LW: i32 = 384;
    pub const LS: i32 = 392;
    pub const SIZE: i32 = 400;
    pub const PTRS: [i32; 14] = [ARG_S, 288, 296, 304, 312, 320, 328, 336, 344, 352, 360, 368, LW, LS];
}

/// init's frame ([`ty::INIT`]): its arguments (a context and the argument
/// list) at 64 and 72, then its own slots, the last the position of the
/// case running.
pub mod init {
    pub const ARGV: i32 = 72;
    pub const CALL: i32 = 80;
    pub const EXC: i32 = 88;
    pub const PRINT: i32 = 96;
    pub const CASE: i32 = 104;
    pub const SIZE: i32 = 112;
}

/// The most cases a module holds.
pub const MAX_CASES: usize = 128;

/// The frame of the dump and setup functions ([`ty::DUMP`]).
mod dumpfr {
    /// Arguments: the caller's frame address and a tag for the line.
    pub const BASE: i32 = 64;
    pub const TAG: i32 = 72;
    pub const PRINT: i32 = 80;
    pub const I: i32 = 88;
    pub const N: i32 = 96;
    pub const H: i32 = 104;
    pub const E: i32 = 112;
    pub const T: i32 = 120;
    pub const RP: i32 = 128;
    pub const AP: i32 = 136;
    pub const SP: i32 = 144;
    pub const LP: i32 = 152;
    pub const SIZE: i32 = 160;
}

/// Integer edge values: module data holds them as bigs, since immediates
/// have 30 bits.
pub const INT_EDGES: &[i64] = &[
    0,
    1,
    -1,
    2,
    -2,
    3,
    7,
    8,
    31,
    32,
    63,
    64,
    65,
    127,
    128,
    255,
    256,
    -128,
    -129,
    32767,
    32768,
    -32768,
    -32769,
    65535,
    65536,
    1000003,
    i32::MAX as i64,
    i32::MIN as i64,
    1 << 31,
    u32::MAX as i64,
    1 << 32,
    (1 << 53) + 1,
    1 << 62,
    i64::MAX,
    i64::MIN,
    i64::MIN + 1,
    0x5555_5555_5555_5555,
    -0x0123_4567_89ab_cdef,
];

/// Real edge values, as bits.
pub const REAL_EDGES: &[u64] = &[
    0x0000_0000_0000_0000, // 0
    0x8000_0000_0000_0000, // -0
    0x3ff0_0000_0000_0000, // 1
    0xbff0_0000_0000_0000, // -1
    0x3fe0_0000_0000_0000, // 0.5
    0xbfe0_0000_0000_0000, // -0.5
    0x3fdf_ffff_ffff_ffff, // 0.49999999999999994
    0x3ff8_0000_0000_0000, // 1.5
    0x4004_0000_0000_0000, // 2.5
    0xc004_0000_0000_0000, // -2.5
    0x4330_0000_0000_0001, // 2^52 + 1
    0x4340_0000_0000_0000, // 2^53
    0x43e0_0000_0000_0000, // 2^63
    0xc3e0_0000_0000_0000, // -2^63
    0x43f0_0000_0000_0000, // 2^64
    0x7fef_ffff_ffff_ffff, // max
    0xffef_ffff_ffff_ffff, // -max
    0x0010_0000_0000_0000, // min normal
    0x0000_0000_0000_0001, // min subnormal
    0x47ef_ffff_e000_0000, // f32 max
    0x47f0_0000_0000_0000, // beyond f32
    0x3690_0000_0000_0000, // below f32's subnormals
    0x7ff0_0000_0000_0000, // inf
    0xfff0_0000_0000_0000, // -inf
    0x7ff8_0000_0000_0000, // NaN
    0x400921fb54442d18,    // pi
    0x3fd5_5555_5555_5555, // 1/3
    0x40fe_240c_9fbe_76c9, // 123456.789
    0xc1e0_0000_0020_0000, // -2147483649.0 (just below i32)
];

/// The module-data offset of real edge value `bits`.
pub fn real_const(bits: u64) -> i32 {
    let k = REAL_EDGES.iter().position(|&b| b == bits).expect("a real edge value");
    mp::REALS + 8 * k as i32
}

/// Constant strings: exception names, numbers, UTF-8, the empty string.
/// Strings of runes beyond Latin-1 are kept four bytes a rune.
pub const STRINGS: &[&str] =
    &["", "fail:boom", "zero divide", "héllo", "-42x", " 3.25e2", "9223372036854775807", "fail:", "日本☺𝄞"];

/// Module data ([`ty::MP`]). Pointers come first.
pub mod mp {
    use super::{INT_EDGES, REAL_EDGES, STRINGS};

    pub const SYS_NAME: i32 = 0;
    pub const SYS: i32 = 8;
    pub const DUMP_FMT: i32 = 16;
    pub const INIT_FMT: i32 = 24;
    /// Always nil: the source of nil pointer moves.
    pub const NIL: i32 = 32;
    /// [`STRINGS`], never written.
    pub const STRS: i32 = 40;
    /// Scratch pointers: a string, a record, a word array.
    pub const MS: i32 = STRS + 8 * STRINGS.len() as i32;
    pub const MR: i32 = MS + 8;
    pub const MA: i32 = MR + 8;
    pub const PTR_END: i32 = MA + 8;
    /// Scratch scalars: integers, reals, bytes.
    pub const MI: [i32; 4] = [PTR_END, PTR_END + 8, PTR_END + 16, PTR_END + 24];
    pub const MF: [i32; 2] = [PTR_END + 32, PTR_END + 40];
    pub const MB: i32 = PTR_END + 48;
    /// [`INT_EDGES`] and [`REAL_EDGES`], never written.
    pub const INTS: i32 = PTR_END + 56;
    pub const REALS: i32 = INTS + 8 * INT_EDGES.len() as i32;
    /// init's `goto` table: where it calls each case (its length in the
    /// word before).
    pub const CALLS: i32 = REALS + 8 * REAL_EDGES.len() as i32 + 8;
    pub const SIZE: i32 = CALLS + 8 * super::MAX_CASES as i32;
}

/// Every type: number, size and pointer offsets.
pub fn types(print_size: i32, print_ptrs: &[i32]) -> Vec<(i32, i32, Vec<i32>)> {
    vec![
        (ty::MP, mp::SIZE, (0..mp::PTR_END).step_by(8).collect()),
        (ty::INIT, init::SIZE, vec![init::ARGV, init::EXC]),
        (ty::SCRATCH, fr::SIZE, fr::PTRS.to_vec()),
        (ty::DUMP, dumpfr::SIZE, vec![dumpfr::RP, dumpfr::AP, dumpfr::SP, dumpfr::LP]),
        (ty::DUMP_PRINT, print_size, print_ptrs.to_vec()),
        (ty::INIT_PRINT, 88, vec![64, 80]),
        (ty::REC, rec::SIZE, vec![rec::S, rec::A]),
        (ty::WORD, 8, vec![]),
        (ty::BYTE, 1, vec![]),
        (ty::STR, 8, vec![0]),
        (ty::SCRATCH_BIG, 2048, fr::PTRS.to_vec()),
        (ty::SCRATCH_HUGE, 70000, fr::PTRS.to_vec()),
    ]
}

/// Module data items; `calls` is init's `goto` table.
pub fn data(out: &mut String, dump_fmt: &str, calls: &[usize]) {
    writeln!(out, "\tvar\t@mp,{}", mp::SIZE).unwrap();
    writeln!(out, "\tstring\t@mp+{},\"$Sys\"", mp::SYS_NAME).unwrap();
    writeln!(out, "\tstring\t@mp+{},\"{dump_fmt}\"", mp::DUMP_FMT).unwrap();
    writeln!(out, "\tstring\t@mp+{},\"c%d uncaught [%s]\\n\"", mp::INIT_FMT).unwrap();
    for (k, s) in STRINGS.iter().enumerate() {
        writeln!(out, "\tstring\t@mp+{},\"{s}\"", mp::STRS + 8 * k as i32).unwrap();
    }
    let ints: Vec<String> = INT_EDGES.iter().map(|v| v.to_string()).collect();
    writeln!(out, "\tlong\t@mp+{},{}", mp::INTS, ints.join(",")).unwrap();
    let reals: Vec<String> = REAL_EDGES.iter().map(|v| format!("0x{v:016x}")).collect();
    writeln!(out, "\treal\t@mp+{},{}", mp::REALS, reals.join(",")).unwrap();
    assert!(calls.len() <= MAX_CASES, "{} cases", calls.len());
    let table: Vec<String> =
        std::iter::once(calls.len()).chain(calls.iter().copied()).map(|v| v.to_string()).collect();
    writeln!(out, "\tword\t@mp+{},{}", mp::CALLS - 8, table.join(",")).unwrap();
}

/// The dump function's label.
pub const DUMP: Label = Label { scope: 0, id: 1 };
/// The setup function's label.
pub const SETUP: Label = Label { scope: 0, id: 2 };

/// Where in the frame the address the setup function is given points.
pub const SETUP_BASE: i32 = if super::SKIP_CALLEE_WRITES_CALLER_FRAME { fr::AD_W } else { 0 };

/// The setup function: gives the frame at whose offset [`SETUP_BASE`] the
/// address it is given points a record, and arrays of words, reals and
/// bytes with an element address into each, for the loads and stores of
/// the case to go through.
pub fn setup() -> Vec<Item> {
    use dumpfr::*;
    use Opd::*;
    let caller = |off| IFp { off: off - SETUP_BASE, ptr: BASE };
    let mut code = vec![Item::L(SETUP), ins("new", &[Imm(ty::REC as i64), caller(fr::RECS[0])])];
    for (n, elem, array, ad, k) in [
        (3, ty::WORD, fr::AW, fr::AD_W, 1),
        (2, ty::WORD, fr::AF, fr::AD_F, 0),
        (5, ty::BYTE, fr::AB, fr::AD_B, 3),
    ] {
        code.push(ins("newa", &[Imm(n), Imm(elem as i64), caller(array)]));
        // A middle operand cannot be indirect: through a slot of our own.
        code.push(ins("indx", &[caller(array), Fp(E), Imm(k)]));
        code.push(ins("movw", &[Fp(E), caller(ad)]));
    }
    code.push(ins("ret", &[]));
    code
}

/// The dump function, with its `print` format and frame.
pub struct Dump {
    pub code: Vec<Item>,
    pub fmt: String,
    pub print_size: i32,
    pub print_ptrs: Vec<i32>,
}

/// Builds the dump function: it prints one line with every scratch slot
/// of the frame whose address it is given (its caller's), module data's
/// scratch slots, records field by field and a length and hash of every
/// array's elements. It never raises.
pub fn dump() -> Dump {
    use dumpfr::*;
    use Opd::*;
    let mut d =
        DumpBuilder { code: vec![Item::L(DUMP)], fmt: String::new(), next: 64, ptrs: vec![], labels: 10 };
    let caller = |off| IFp { off, ptr: BASE };
    d.code.push(ins("frame", &[Imm(ty::DUMP_PRINT as i64), Fp(PRINT)]));
    let fmt = d.arg(true);
    d.code.push(ins("movp", &[Mp(mp::DUMP_FMT), fmt]));
    d.word("t", Fp(TAG), "%d");
    let ints = fr::INTS.iter().chain(&[fr::ARG_W, fr::BYTES, fr::MIX]);
    for &o in ints {
        d.word(" ", caller(o), "%bx");
    }
    d.fmt.push_str(" f");
    for &o in fr::REALS.iter().chain(&[fr::ARG_F]) {
        d.word(" ", caller(o), "%bx");
    }
    d.fmt.push_str(" m");
    for &o in mp::MI.iter().chain(&mp::MF).chain(&[mp::MB]) {
        d.word(" ", Mp(o), "%bx");
    }
    for &o in fr::STRS.iter().chain(&[fr::ARG_S, fr::EXC]) {
        d.string(caller(o));
    }
    d.string(Mp(mp::MS));
    for src in [caller(fr::RECS[0]), caller(fr::RECS[1]), Mp(mp::MR)] {
        d.record(src);
    }
    d.list(caller(fr::LW), Elem::Word);
    d.list(caller(fr::LS), Elem::Str);
    use Elem::*;
    for (src, elem) in [
        (caller(fr::AW), Word),
        (caller(fr::AF), Word),
        (caller(fr::AB), Byte),
        (caller(fr::AS), Str),
        (caller(fr::AR), Rec),
        (Mp(mp::MA), Word),
    ] {
        d.array(src, elem);
    }
    d.fmt.push_str("\\n");
    d.code.push(ins("mcall", &[Fp(PRINT), Imm(0), Mp(mp::SYS)]));
    d.code.push(ins("ret", &[]));
    Dump { code: d.code, fmt: d.fmt, print_size: d.next, print_ptrs: d.ptrs }
}

#[derive(Clone, Copy)]
enum Elem {
    Word,
    Byte,
    Str,
    Rec,
}

struct DumpBuilder {
    code: Vec<Item>,
    fmt: String,
    /// Offset of the next `print` argument.
    next: i32,
    ptrs: Vec<i32>,
    labels: u32,
}

impl DumpBuilder {
    fn label(&mut self) -> Label {
        self.labels += 1;
        Label { scope: 0, id: self.labels }
    }

    /// The next `print` argument slot.
    fn arg(&mut self, ptr: bool) -> Opd {
        let off = self.next;
        self.next += 8;
        if ptr {
            self.ptrs.push(off);
        }
        Opd::IFp { off, ptr: dumpfr::PRINT }
    }

    fn word(&mut self, sep: &str, src: Opd, verb: &str) {
        let a = self.arg(false);
        self.code.push(ins("movw", &[src, a]));
        self.fmt.push_str(sep);
        self.fmt.push_str(verb);
    }

    fn string(&mut self, src: Opd) {
        let a = self.arg(true);
        self.code.push(ins("movp", &[src, a]));
        self.fmt.push_str(" [%s]");
    }

    /// A record's fields, or -1s and an empty string for nil.
    fn record(&mut self, src: Opd) {
        use dumpfr::RP;
        use Opd::*;
        self.code.push(ins("movp", &[src, Fp(RP)]));
        let skip = self.label();
        let words: Vec<Opd> = (0..4).map(|_| self.arg(false)).collect();
        let s = self.arg(true);
        self.fmt.push_str(" r %bx %bx %bx %bd [%s]");
        for &w in &words {
            self.code.push(ins("movw", &[Imm(-1), w]));
        }
        self.code.push(ins("beqw", &[Fp(RP), Imm(0), Lab(skip)]));
        let field = |off| IFp { off, ptr: RP };
        self.code.push(ins("movw", &[field(rec::W), words[0]]));
        self.code.push(ins("movw", &[field(rec::F), words[1]]));
        self.code.push(ins("movw", &[field(rec::B), words[2]]));
        self.code.push(ins("lena", &[field(rec::A), words[3]]));
        self.code.push(ins("movp", &[field(rec::S), s]));
        self.code.push(Item::L(skip));
    }

    /// Folds `T` into the hash `H`.
    fn mix(&mut self) {
        use dumpfr::{H, T};
        self.code.push(ins("mulw", &[Opd::Imm(1000003), Opd::Fp(H)]));
        self.code.push(ins("xorw", &[Opd::Fp(T), Opd::Fp(H)]));
    }

    /// An array's length and a hash of its elements.
    fn array(&mut self, src: Opd, elem: Elem) {
        use dumpfr::*;
        use Opd::*;
        let (top, done) = (self.label(), self.label());
        self.code.push(ins("movp", &[src, Fp(AP)]));
        self.code.push(ins("lena", &[Fp(AP), Fp(N)]));
        self.code.push(ins("movw", &[Imm(0), Fp(H)]));
        self.code.push(ins("movw", &[Imm(0), Fp(I)]));
        self.code.push(Item::L(top));
        self.code.push(ins("bgew", &[Fp(I), Fp(N), Lab(done)]));
        self.code.push(ins("indx", &[Fp(AP), Fp(E), Fp(I)]));
        let at = |off| IFp { off, ptr: E };
        match elem {
            Elem::Word => {
                self.code.push(ins("movw", &[at(0), Fp(T)]));
                self.mix();
            }
            Elem::Byte => {
                self.code.push(ins("cvtbw", &[at(0), Fp(T)]));
                self.mix();
            }
            Elem::Str => {
                self.code.push(ins("movp", &[at(0), Fp(SP)]));
                self.string_hash();
            }
            Elem::Rec => {
                for (op, off) in [("movw", rec::W), ("movw", rec::F), ("movw", rec::B), ("lena", rec::A)] {
                    self.code.push(ins(op, &[at(off), Fp(T)]));
                    self.mix();
                }
                self.code.push(ins("movp", &[at(rec::S), Fp(SP)]));
                self.string_hash();
            }
        }
        self.code.push(ins("addw", &[Imm(1), Fp(I)]));
        self.code.push(ins("jmp", &[Lab(top)]));
        self.code.push(Item::L(done));
        self.word(" a ", Fp(N), "%d");
        self.word(":", Fp(H), "%bx");
    }

    /// A list's length and a hash of its heads, which are 8-byte words or
    /// strings.
    fn list(&mut self, src: Opd, elem: Elem) {
        use dumpfr::*;
        use Opd::*;
        let (top, done) = (self.label(), self.label());
        self.code.push(ins("movp", &[src, Fp(LP)]));
        self.code.push(ins("movw", &[Imm(0), Fp(H)]));
        self.code.push(ins("movw", &[Imm(0), Fp(N)]));
        self.code.push(Item::L(top));
        self.code.push(ins("beqw", &[Fp(LP), Imm(0), Lab(done)]));
        match elem {
            Elem::Word => {
                self.code.push(ins("headw", &[Fp(LP), Fp(T)]));
                self.mix();
            }
            _ => {
                self.code.push(ins("headp", &[Fp(LP), Fp(SP)]));
                self.string_hash();
            }
        }
        self.code.push(ins("tail", &[Fp(LP), Fp(LP)]));
        self.code.push(ins("addw", &[Imm(1), Fp(N)]));
        self.code.push(ins("jmp", &[Lab(top)]));
        self.code.push(Item::L(done));
        self.word(" l ", Fp(N), "%d");
        self.word(":", Fp(H), "%bx");
    }

    /// Folds the length and first character of the string at `SP` into the hash.
    fn string_hash(&mut self) {
        use dumpfr::*;
        use Opd::*;
        let empty = self.label();
        self.code.push(ins("lenc", &[Fp(SP), Fp(T)]));
        self.mix();
        self.code.push(ins("beqw", &[Fp(T), Imm(0), Lab(empty)]));
        self.code.push(ins("indc", &[Fp(SP), Imm(0), Fp(T)]));
        self.mix();
        self.code.push(Item::L(empty));
    }
}
