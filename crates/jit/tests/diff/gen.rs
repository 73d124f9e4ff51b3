//! Random well-formed test cases.
//!
//! A case is a function over the scratch frame ([`layout::fr`]): a short
//! prologue that allocates records and arrays and loads edge values, then
//! random statements (arithmetic, conversions, forward branches, bounded
//! loops, loads and stores through records and element addresses, string
//! and array operations, allocation, pointer moves, raises and calls to
//! helper functions, directly or through the module's own link), then a
//! call of the dump function, which prints every scratch slot. Handlers
//! catch some exceptions, report them through the dump and sometimes
//! resume; others reach init.
//!
//! Well-formedness is by construction: every slot has one role (see
//! [`layout`]), so operands are drawn from per-kind pools; element
//! addresses are cleared whenever the array they may point into could be
//! freed; recursion is bounded by a depth argument and loops by counters
//! nothing else writes.

use dis::opcode::{Kind, Slot, Ty};
use dis::Opcode;

use super::ir::{ins, Case, Func, Handler, Item, Label, Opd, Stmt};
use super::layout::{self, fr, mp, rec, ty};

/// splitmix64: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// In `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// An index into `weights`, chosen in proportion to them.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut r = self.below(total as usize) as u32;
        for (k, &w) in weights.iter().enumerate() {
            if r < w {
                return k;
            }
            r -= w;
        }
        unreachable!()
    }
}

/// Arithmetic, moves and conversions between scalar types: their operands
/// follow from the opcode table.
const SCALAR_OPS: &[&str] = &[
    "addw", "subw", "mulw", "divw", "modw", "andw", "orw", "xorw", "shlw", "shrw", "lsrw", "expw", "addl",
    "subl", "mull", "divl", "modl", "andl", "orl", "xorl", "shll", "shrl", "lsrl", "expl", "addb", "subb",
    "mulb", "divb", "modb", "andb", "orb", "xorb", "shlb", "shrb", "addf", "subf", "mulf", "divf", "negf",
    "expf", "movw", "movl", "movb", "movf", "cvtbw", "cvtwb", "cvtwl", "cvtlw", "cvtwf", "cvtfw", "cvtlf",
    "cvtfl", "cvtws", "cvtsw", "cvtfr", "cvtrf",
];

/// Fixed-point arithmetic, which also reads the frame's temporaries.
const FIXED_OPS: &[&str] =
    &["mulx", "divx", "cvtxx", "mulx0", "divx0", "cvtxx0", "mulx1", "divx1", "cvtxx1", "cvtfx", "cvtxf"];

const SCALAR_BRANCHES: &[&str] = &[
    "beqb", "bneb", "bltb", "bleb", "bgtb", "bgeb", "beqw", "bnew", "bltw", "blew", "bgtw", "bgew", "beql",
    "bnel", "bltl", "blel", "bgtl", "bgel", "beqf", "bnef", "bltf", "blef", "bgtf", "bgef",
];

const STRING_BRANCHES: &[&str] = &["beqc", "bnec", "bltc", "blec", "bgtc", "bgec"];

/// Names handlers catch: the runtime's errors and some raised strings.
const CATCH_NAMES: &[&str] = &[
    "zero divide",
    "array bounds error",
    "dereference of nil",
    "negative array size",
    "out of memory: heap",
    "module not loaded",
    "fail:*",
    "fail:boom",
    "",
];

/// Immediate words: small values and 30-bit edges.
const IMM_EDGES: &[i64] =
    &[63, 64, 65, 127, 128, 255, 256, 1000003, -7, (1 << 29) - 1, -(1 << 29), 32767, -32768];

/// The kinds of [`Gen::simple`] statements.
#[derive(Clone, Copy)]
enum Simple {
    Scalar,
    Strings,
    Index,
    Lea,
    Alloc,
    PointerMove,
    BlockMove,
    Raise,
    Arrays,
    Lists,
    Fixed,
    Call,
    Dump,
    Nop,
    Exit,
}

/// How often each kind of simple statement comes: calls only where there
/// are helpers to call, `exit` only in single-case modules.
const SIMPLE: &[(u32, Simple)] = &[
    (40, Simple::Scalar),
    (10, Simple::Strings),
    (9, Simple::Index),
    (3, Simple::Lea),
    (6, Simple::Alloc),
    (8, Simple::PointerMove),
    (2, Simple::BlockMove),
    (2, Simple::Raise),
    (4, Simple::Arrays),
    (5, Simple::Lists),
    (2, Simple::Fixed),
    (5, Simple::Call),
    (1, Simple::Dump),
    (1, Simple::Nop),
    (1, Simple::Exit),
];

/// What a pointer slot holds. Each pointer slot holds one kind or nil.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum P {
    Str,
    Rec,
    /// Arrays of words, reals, bytes, strings, records.
    Aw,
    Af,
    Ab,
    As,
    Ar,
    /// Lists of 8-byte heads, of strings.
    Lw,
    Ls,
}

const ARRAYS: [P; 5] = [P::Aw, P::Af, P::Ab, P::As, P::Ar];

impl P {
    /// The element type, the frame slot that holds this kind and the
    /// address slot for its elements.
    fn array(self) -> (i32, i32, i32) {
        match self {
            P::Aw => (ty::WORD, fr::AW, fr::AD_W),
            P::Af => (ty::WORD, fr::AF, fr::AD_F),
            P::Ab => (ty::BYTE, fr::AB, fr::AD_B),
            P::As => (ty::STR, fr::AS, fr::AD_S),
            P::Ar => (ty::REC, fr::AR, fr::AD_R),
            P::Str | P::Rec | P::Lw | P::Ls => unreachable!("not an array"),
        }
    }
}

/// What a helper returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ret {
    Int,
    Real,
    Str,
}

#[derive(Clone, Copy)]
struct Sig {
    entry: Label,
    ret: Ret,
    /// The type of its frames.
    frame: i32,
}

/// The function being generated.
#[derive(Clone, Copy)]
struct Within {
    /// Index of the helper, or None in the case function.
    helper: Option<usize>,
    /// A single-case module that is meant to die: `exit` is allowed.
    single: bool,
}

struct Gen {
    rng: Rng,
    id: u32,
    labels: u32,
    dumps: u32,
    helpers: Vec<Sig>,
    within: Within,
}

/// Generates case `id` from `seed`. With `single` it will be the only
/// case of a module without a catch-all in init, so it leaves more
/// exceptions unhandled.
pub fn case(seed: u64, id: u32, single: bool) -> Case {
    let mut g = Gen {
        rng: Rng::new(seed),
        id,
        labels: 0,
        dumps: 0,
        helpers: Vec::new(),
        within: Within { helper: None, single },
    };
    let nhelpers = [0, 0, 0, 0, 0, 1, 1, 2][g.rng.below(8)];
    let mut helpers = Vec::new();
    for j in 0..nhelpers {
        let ret = g.rng.pick(&[Ret::Int, Ret::Real, Ret::Str]);
        let entry = g.label();
        let frame = [ty::SCRATCH, ty::SCRATCH_BIG, ty::SCRATCH_HUGE][g.rng.weighted(&[8, 6, 1])];
        g.helpers.push(Sig { entry, ret, frame });
        g.within.helper = Some(j);
        helpers.push(g.helper(j));
    }
    g.within.helper = None;
    let mut funcs = vec![g.main()];
    funcs.extend(helpers);
    Case { id, funcs }
}

impl Gen {
    fn label(&mut self) -> Label {
        self.labels += 1;
        Label { scope: self.id + 1, id: self.labels }
    }

    fn in_helper(&self) -> bool {
        self.within.helper.is_some()
    }

    /// The case function.
    fn main(&mut self) -> Func {
        let entry = self.label();
        let end = self.label();
        let mut body = self.prologue(1);
        let n = self.rng.range(3, 11) as usize;
        body.extend(self.block(n, 0));
        let mut tail = self.dump_call();
        tail.push(ins("ret", &[]));
        let mut f = Func { entry, frame: ty::SCRATCH, body, end, tail, handlers: Vec::new() };
        let wildcard = !self.within.single || self.rng.one_in(3);
        self.handlers(&mut f, wildcard);
        f
    }

    /// Helper `j`: takes a word, a real, a string and a depth, returns a
    /// value of its `Ret` type through the return-value pointer.
    fn helper(&mut self, j: usize) -> Func {
        let sig = self.helpers[j];
        let end = self.label();
        let mut body = self.prologue(3);
        let n = self.rng.range(2, 5) as usize;
        body.extend(self.block(n, 0));
        let mut tail = if self.rng.one_in(4) { self.dump_call() } else { Vec::new() };
        // The result comes from direct slots only: a handler that resets
        // the frame's pointers may have left element addresses dangling.
        let ret = Opd::IFp { off: 0, ptr: 32 };
        tail.push(match sig.ret {
            Ret::Int => {
                let v = self.rng.pick(&[Opd::Fp(fr::INTS[2]), Opd::Fp(fr::ARG_W), Opd::Mp(mp::MI[1])]);
                ins(self.rng.pick(&["movw", "movl"]), &[v, ret])
            }
            Ret::Real => ins("movf", &[self.rng.pick(&[Opd::Fp(fr::REALS[1]), Opd::Fp(fr::ARG_F)]), ret]),
            Ret::Str => ins("movp", &[self.rng.pick(&[Opd::Fp(fr::STRS[0]), Opd::Fp(fr::ARG_S)]), ret]),
        });
        tail.push(ins("ret", &[]));
        let mut f = Func { entry: sig.entry, frame: sig.frame, body, end, tail, handlers: Vec::new() };
        if self.rng.one_in(3) {
            self.handlers(&mut f, true);
        }
        f
    }

    /// Handlers for `f`: one over the whole body that goes to the end,
    /// maybe catching everything, and up to two over parts of it that
    /// resume after the part. Ranges are in top-level statements, so a
    /// handler never resumes inside its own range or a loop.
    fn handlers(&mut self, f: &mut Func, wildcard: bool) {
        let mut marks: Vec<(usize, Label)> = Vec::new();
        for _ in 0..self.rng.below(3) {
            let a = self.rng.below(f.body.len() + 1);
            let b = a + 1 + self.rng.below(f.body.len() + 1 - a);
            let (from, to) = (self.label(), self.label());
            marks.push((a, from));
            marks.push((b.min(f.body.len()), to));
            let n = 1 + self.rng.below(2);
            let cases = self.catch_names(to, n);
            let wildcard = self.rng.one_in(3).then_some(to);
            f.handlers.push(Handler { from, to, eoff: fr::EXC, desc: -1, cases, wildcard });
        }
        let start = self.label();
        marks.push((0, start));
        marks.sort_by_key(|&(at, _)| std::cmp::Reverse(at));
        for (at, l) in marks {
            f.body.insert(at, Stmt::Label(l));
        }
        let n = self.rng.below(3);
        let cases = self.catch_names(f.end, n);
        // Resetting the frame's pointers leaves element addresses
        // dangling, so only the handler that ends the function does it.
        let desc = if self.rng.one_in(8) { ty::SCRATCH } else { -1 };
        let wildcard = (wildcard && !self.rng.one_in(5)).then_some(f.end);
        f.handlers.push(Handler { from: start, to: f.end, eoff: fr::EXC, desc, cases, wildcard });
    }

    fn catch_names(&mut self, to: Label, n: usize) -> Vec<(String, Label)> {
        (0..n).map(|_| (self.rng.pick(CATCH_NAMES).to_string(), to)).collect()
    }

    /// `n` statements, with forward branches to labels among them and
    /// loops (nested at most two deep) whose bodies are blocks too.
    fn block(&mut self, n: usize, depth: usize) -> Vec<Stmt> {
        let mut stmts = Vec::with_capacity(n);
        let mut targets: Vec<(usize, Label)> = Vec::new();
        for i in 0..n {
            let loops = if depth < 2 { 3 } else { 0 };
            match self.rng.weighted(&[8, loops, 88]) {
                0 => {
                    let l = self.label();
                    targets.push((i + 1 + self.rng.below(n - i), l));
                    stmts.push(Stmt::Code(self.branch(l)));
                }
                1 => {
                    let top = self.label();
                    let times = self.rng.range(1, 4);
                    let m = self.rng.range(1, 4) as usize;
                    let body = self.block(m, depth + 1);
                    stmts.push(Stmt::Loop { counter: fr::COUNTERS[depth], times, top, body });
                }
                _ => stmts.push(Stmt::Code(self.simple(depth))),
            }
        }
        let mut out = Vec::with_capacity(n + targets.len());
        for (i, s) in stmts.into_iter().enumerate() {
            out.extend(targets.iter().filter(|t| t.0 == i).map(|t| Stmt::Label(t.1)));
            out.push(s);
        }
        out.extend(targets.iter().filter(|t| t.0 == n).map(|t| Stmt::Label(t.1)));
        out
    }

    /// Statements that give the frame something to work on, each with a
    /// chance in percent (divided by `rarer`): a call of the setup
    /// function, which makes what most loads and stores go through; more
    /// records and arrays; strings; edge values.
    fn prologue(&mut self, rarer: usize) -> Vec<Stmt> {
        use Opd::*;
        let mut out = Vec::new();
        let chance = |g: &mut Gen, percent: usize| g.rng.below(100 * rarer) < percent;
        if chance(self, 95) {
            out.push(vec![
                ins("frame", &[Imm(ty::DUMP as i64), Fp(fr::CALL)]),
                match layout::SETUP_BASE {
                    0 => ins("movw", &[Fp(fr::SELF), ind(fr::CALL, 64)]),
                    base => ins("lea", &[Fp(base), ind(fr::CALL, 64)]),
                },
                ins("call", &[Fp(fr::CALL), Lab(layout::SETUP)]),
            ]);
        }
        for (percent, dst) in [(25, Fp(fr::RECS[1])), (10, Mp(mp::MR))] {
            if chance(self, percent) {
                out.push(vec![ins("new", &[Imm(ty::REC as i64), dst])]);
            }
        }
        for p in [P::As, P::Ar] {
            if chance(self, 20) {
                let (elem, slot, ad) = p.array();
                let n = self.rng.range(2, 5);
                out.push(vec![
                    ins("newa", &[Imm(n), Imm(elem as i64), Fp(slot)]),
                    ins("indx", &[Fp(slot), Fp(ad), Imm(self.rng.range(0, n - 1))]),
                ]);
            }
        }
        for (percent, list) in [(30, fr::LW), (20, fr::LS)] {
            for _ in 0..(if chance(self, percent) { self.rng.range(1, 2) } else { 0 }) {
                let head = if list == fr::LW { self.const_int() } else { self.const_str() };
                let op = if list == fr::LW { "consl" } else { "consp" };
                out.push(vec![ins(op, &[head, Fp(list)])]);
            }
        }
        if chance(self, 10) {
            let n = Imm(self.rng.range(0, 4));
            out.push(self.writing("newa", &[n, Imm(ty::WORD as i64), Mp(mp::MA)]));
        }
        for (percent, dst) in [(40, Fp(fr::STRS[0])), (20, Fp(fr::STRS[1])), (15, ind(fr::RECS[0], rec::S))] {
            if chance(self, percent) {
                out.push(vec![ins("movp", &[self.const_str(), dst])]);
            }
        }
        for _ in 0..self.rng.range(0, 3) / rarer as i64 {
            let k = self.rng.below(6);
            out.push(vec![match self.rng.below(3) {
                0 => ins("movw", &[self.const_int(), Fp(fr::INTS[k])]),
                1 => ins("movl", &[self.const_int(), Fp(fr::INTS[k + 2])]),
                _ => ins("movf", &[self.const_real(), Fp(fr::REALS[k])]),
            }]);
        }
        out.into_iter().map(Stmt::Code).collect()
    }

    fn const_int(&mut self) -> Opd {
        Opd::Mp(mp::INTS + 8 * self.rng.below(layout::INT_EDGES.len()) as i32)
    }

    fn const_real(&mut self) -> Opd {
        Opd::Mp(mp::REALS + 8 * self.rng.below(layout::REAL_EDGES.len()) as i32)
    }

    fn const_str(&mut self) -> Opd {
        Opd::Mp(mp::STRS + 8 * self.rng.below(layout::STRINGS.len()) as i32)
    }

    /// A statement without control flow of its own (calls aside).
    fn simple(&mut self, depth: usize) -> Vec<Item> {
        use Simple::*;
        // Helpers call others only outside loops: calls stay few.
        let calls = !(self.helpers.is_empty() || self.in_helper() && depth > 0);
        let weights: Vec<u32> = SIMPLE
            .iter()
            .map(|&(w, kind)| match kind {
                Call if !calls => 0,
                Exit if !self.within.single => 0,
                _ => w,
            })
            .collect();
        match SIMPLE[self.rng.weighted(&weights)].1 {
            Scalar => {
                let op = self.rng.pick(SCALAR_OPS);
                let i = self.fill(op);
                // Which of two NaNs `addf` and `mulf` give is not Dis's to
                // say: IEEE 754 leaves it open, and the compilers of
                // Inferno's C and of dite's Rust each swap the operands of
                // a sum or product at will, as Cranelift does. A NaN they
                // make counts as any NaN.
                if matches!(op, "addf" | "mulf") {
                    return self.canonical_nan(i);
                }
                vec![i]
            }
            Strings => self.string_op(),
            Index => self.index(),
            Lea => self.lea(),
            Alloc => self.alloc(),
            PointerMove => self.pointer_move(),
            BlockMove => self.block_move(),
            Raise => {
                // Mostly a name handlers know.
                let src = if self.rng.one_in(3) { self.ptr(P::Str, false) } else { self.const_str() };
                vec![ins("raise", &[src])]
            }
            Arrays => self.array_op(),
            Lists => self.list_op(),
            Fixed => self.fixed(),
            Call => {
                let top = self.within.helper.map_or(self.helpers.len(), |j| j + 1);
                let target = self.rng.below(top);
                self.call(target)
            }
            Dump => self.dump_call(),
            Nop => vec![ins(self.rng.pick(&["nop", "eclr"]), &[])],
            Exit => vec![ins("exit", &[])],
        }
    }

    /// Lists: cons onto one, its head (nil's is a nil dereference), its
    /// tail, its length.
    fn list_op(&mut self) -> Vec<Item> {
        let words = self.rng.one_in(2);
        let (p, list) = if words { (P::Lw, fr::LW) } else { (P::Ls, fr::LS) };
        let src = self.ptr(p, false);
        match (self.rng.below(5), words) {
            (0 | 1, true) => {
                let (op, t) =
                    self.rng.pick(&[("consb", Ty::B), ("consw", Ty::W), ("consl", Ty::L), ("consf", Ty::F)]);
                vec![ins(op, &[self.scalar(t, false), Opd::Fp(list)])]
            }
            (0 | 1, false) => {
                let s = self.ptr(P::Str, false);
                vec![ins("consp", &[s, Opd::Fp(list)])]
            }
            (2, true) => {
                let (op, t) =
                    self.rng.pick(&[("headb", Ty::B), ("headw", Ty::W), ("headl", Ty::L), ("headf", Ty::F)]);
                vec![ins(op, &[src, self.scalar(t, true)])]
            }
            (2, false) => vec![ins("headp", &[src, self.ptr(P::Str, true)])],
            (3, _) => vec![ins("tail", &[src, Opd::Fp(list)])],
            _ => vec![ins("lenl", &[src, self.scalar(Ty::W, true)])],
        }
    }

    /// An instruction whose operands are all scalars, drawn by kind from
    /// the opcode table; a middle operand that may be left out is, half
    /// the time.
    fn fill(&mut self, op: &'static str) -> Item {
        let info = Opcode::from_name(op).unwrap_or_else(|| panic!("no opcode {op}")).info();
        let mut args = Vec::with_capacity(3);
        for (k, slot) in [info.src, info.mid, info.dst].into_iter().enumerate() {
            let kind = match slot {
                Slot::No => continue,
                Slot::Opt(_) if self.rng.one_in(2) => continue,
                Slot::Opt(k) | Slot::Req(k) => k,
            };
            args.push(match kind {
                Kind::Read(t) if k == 1 => self.direct(|g| g.scalar(t, false)),
                Kind::Write(t) if k == 1 => self.direct(|g| g.scalar(t, true)),
                Kind::Read(t) => self.scalar(t, false),
                Kind::Write(t) => self.scalar(t, true),
                // A branch target: the caller adds it.
                Kind::Target => continue,
                k => panic!("{op}: operand kind {k:?} is not scalar"),
            });
        }
        ins(op, &args)
    }

    /// Instruction `i`, then: if its result is a NaN, one fixed NaN instead.
    fn canonical_nan(&mut self, i: Item) -> Vec<Item> {
        let Item::I(ins_) = &i else { unreachable!() };
        let dst = *ins_.args.last().expect("a destination");
        let (ok, tmp) = (self.label(), Opd::Fp(fr::TEMP));
        let nan = Opd::Mp(layout::real_const(0x7ff8_0000_0000_0000));
        vec![
            i,
            // Through a temporary: a middle operand cannot be indirect.
            ins("movf", &[dst, tmp]),
            ins("beqf", &[tmp, tmp, Opd::Lab(ok)]),
            ins("movf", &[nan, dst]),
            Item::L(ok),
        ]
    }

    /// An operand from `f` that is not indirect, as middle operands must be.
    fn direct(&mut self, f: impl Fn(&mut Gen) -> Opd) -> Opd {
        loop {
            let o = f(self);
            if !matches!(o, Opd::IFp { .. } | Opd::IMp { .. }) {
                return o;
            }
        }
    }

    /// A scalar operand of type `t`, to read or to write: an immediate
    /// (where one may stand), a frame or module-data slot, an edge value,
    /// or a field reached through a record or an element address.
    fn scalar(&mut self, t: Ty, write: bool) -> Opd {
        use Opd::*;
        let imm = !write && matches!(t, Ty::W | Ty::B);
        let konst = !write && matches!(t, Ty::W | Ty::L | Ty::F);
        // Module data and records have no 16-bit or 32-bit slots.
        let whole = !matches!(t, Ty::S16 | Ty::R32);
        let on = |yes: bool, w: u32| if yes { w } else { 0 };
        let r = self.rng.weighted(&[on(imm, 30), 40, on(konst, 25), on(whole, 10), on(whole, 10), 3]);
        match (r, t) {
            (0, Ty::B) => {
                Imm(if self.rng.one_in(8) { self.rng.pick(&[-1, 300, -200]) } else { self.rng.range(0, 255) })
            }
            (0, _) if self.rng.one_in(3) => Imm(self.rng.pick(IMM_EDGES)),
            (0, _) => Imm(self.rng.range(-3, 8)),
            // The frame.
            (1, Ty::W | Ty::L) => {
                let mut pool = fr::INTS.to_vec();
                pool.push(fr::ARG_W);
                if !write {
                    pool.push(fr::DEPTH);
                }
                Fp(self.rng.pick(&pool))
            }
            (1, Ty::F) => Fp(if self.rng.one_in(7) { fr::ARG_F } else { self.rng.pick(&fr::REALS) }),
            (1, Ty::B) => match self.rng.below(4) {
                0 => Fp(self.rng.pick(&fr::INTS) + self.rng.below(8) as i32),
                1 => Fp(fr::MIX + self.rng.below(8) as i32),
                _ => Fp(fr::BYTES + self.rng.below(8) as i32),
            },
            (1, Ty::S16) => Fp(self.half(2)),
            (1, Ty::R32) => Fp(self.half(4)),
            (2, Ty::F) => self.const_real(),
            (2, _) => self.const_int(),
            // Module data.
            (3, Ty::W | Ty::L) => Mp(self.rng.pick(&mp::MI)),
            (3, Ty::F) => Mp(self.rng.pick(&mp::MF)),
            (3, Ty::B) => Mp(mp::MB + self.rng.below(8) as i32),
            // Through pointers.
            (4, _) => {
                let (field, elem) = match t {
                    Ty::F => (rec::F, fr::AD_F),
                    Ty::B => (rec::B + self.rng.below(8) as i32, fr::AD_B),
                    _ => (rec::W, fr::AD_W),
                };
                // Mostly through what the prologue surely set.
                match self.rng.below(12) {
                    0..=5 => ind(elem, 0),
                    6..=8 => ind(fr::RECS[0], field),
                    9 => ind(fr::AD_R, field),
                    10 => IMp { off: field, ptr: mp::MR },
                    _ => ind(fr::RECS[1], field),
                }
            }
            // Another type's slot: integers in reals, the rest in integers.
            (5, Ty::W | Ty::L) => Fp(self.rng.pick(&fr::REALS)),
            (5, _) => Fp(self.rng.pick(&fr::INTS)),
            _ => unreachable!("no {t:?} operand of kind {r}"),
        }
    }

    /// A 16-bit or 32-bit slot: in the mixed word mostly, else inside an
    /// integer or real.
    fn half(&mut self, size: i32) -> i32 {
        let k = self.rng.below(8 / size as usize) as i32 * size;
        match self.rng.below(4) {
            0 => self.rng.pick(&fr::INTS) + k,
            1 => self.rng.pick(&fr::REALS) + k,
            _ => fr::MIX + k,
        }
    }

    /// A pointer operand of kind `p`: nil and constant strings only to read.
    fn ptr(&mut self, p: P, write: bool) -> Opd {
        use Opd::*;
        if !write && self.rng.one_in(20) {
            return Mp(mp::NIL);
        }
        match p {
            P::Str => match self.rng.below(16) {
                0..=5 => Fp(self.rng.pick(&fr::STRS)),
                6 => Fp(fr::ARG_S),
                7 => Fp(fr::EXC),
                8 => Mp(mp::MS),
                9 | 10 => ind(fr::RECS[0], rec::S),
                11 => self.rng.pick(&[
                    ind(fr::RECS[1], rec::S),
                    IMp { off: rec::S, ptr: mp::MR },
                    ind(fr::AD_S, 0),
                    ind(fr::AD_R, rec::S),
                ]),
                _ if write => Fp(fr::STRS[0]),
                _ => self.const_str(),
            },
            P::Rec => match self.rng.below(5) {
                0 => Mp(mp::MR),
                _ => Fp(self.rng.pick(&fr::RECS)),
            },
            P::Aw => match self.rng.below(8) {
                0..=3 => Fp(fr::AW),
                4 => Mp(mp::MA),
                5 | 6 => ind(fr::RECS[0], rec::A),
                _ => self.rng.pick(&[
                    ind(fr::RECS[1], rec::A),
                    IMp { off: rec::A, ptr: mp::MR },
                    ind(fr::AD_R, rec::A),
                ]),
            },
            P::Lw => Fp(fr::LW),
            P::Ls => Fp(fr::LS),
            _ => Fp(p.array().1),
        }
    }

    /// The address slot that may point into the array in pointer slot
    /// `dst`: it must be cleared before `dst` is written, as that may free
    /// the array.
    fn clear_before(&self, dst: Opd) -> Option<Item> {
        let ad = match dst {
            Opd::Fp(fr::AW) | Opd::Mp(mp::MA) => fr::AD_W,
            Opd::Fp(fr::AF) => fr::AD_F,
            Opd::Fp(fr::AB) => fr::AD_B,
            Opd::Fp(fr::AS) => fr::AD_S,
            Opd::Fp(fr::AR) => fr::AD_R,
            _ => return None,
        };
        Some(ins("movw", &[Opd::Imm(0), Opd::Fp(ad)]))
    }

    /// An instruction whose last operand is a pointer it writes, preceded
    /// by what that write requires.
    fn writing(&self, op: &'static str, args: &[Opd]) -> Vec<Item> {
        let dst = *args.last().expect("a destination");
        self.clear_before(dst).into_iter().chain([ins(op, args)]).collect()
    }

    fn branch(&mut self, to: Label) -> Vec<Item> {
        if self.rng.one_in(6) {
            let a = self.ptr(P::Str, false);
            let b = self.direct(|g| g.ptr(P::Str, false));
            return vec![ins(self.rng.pick(STRING_BRANCHES), &[a, b, Opd::Lab(to)])];
        }
        let op = self.rng.pick(SCALAR_BRANCHES);
        let Item::I(mut i) = self.fill(op) else { unreachable!() };
        i.args.push(Opd::Lab(to));
        vec![Item::I(i)]
    }

    /// Strings: length, indexing, insertion, concatenation, slices and
    /// conversions to and from numbers and byte arrays.
    fn string_op(&mut self) -> Vec<Item> {
        use Opd::*;
        let w = |g: &mut Gen| g.scalar(Ty::W, false);
        let s = |g: &mut Gen| g.ptr(P::Str, false);
        let sd = |g: &mut Gen| g.ptr(P::Str, true);
        match self.rng.below(14) {
            0 => vec![ins("lenc", &[s(self), self.scalar(Ty::W, true)])],
            1 => vec![ins("indc", &[s(self), self.mid_index(), self.scalar(Ty::W, true)])],
            2 => vec![ins("insc", &[w(self), self.mid_index(), sd(self)])],
            3 => {
                // One side is a constant: strings grow a little at a time,
                // where doubling in loops and across calls and cases
                // would not stay small. (d = m + s; an absent m is d.)
                let (k, dst) = (self.const_str(), sd(self));
                match self.rng.below(3) {
                    0 => vec![ins("addc", &[k, dst])],
                    1 => vec![ins("addc", &[s(self), k, dst])],
                    _ => vec![ins("addc", &[k, self.direct(s), dst])],
                }
            }
            4 => {
                let (from, to) = self.slice();
                vec![ins("slicec", &[from, to, sd(self)])]
            }
            5 => vec![ins("cvtwc", &[w(self), sd(self)])],
            6 => vec![ins("cvtlc", &[self.scalar(Ty::L, false), sd(self)])],
            7 => vec![ins("cvtfc", &[self.scalar(Ty::F, false), sd(self)])],
            8 => vec![ins("cvtcw", &[s(self), self.scalar(Ty::W, true)])],
            9 => vec![ins("cvtcl", &[s(self), self.scalar(Ty::L, true)])],
            10 => vec![ins("cvtcf", &[s(self), self.scalar(Ty::F, true)])],
            11 => {
                let src = s(self);
                self.writing("cvtca", &[src, Fp(fr::AB)])
            }
            12 => vec![ins("cvtac", &[self.ptr(P::Ab, false), sd(self)])],
            _ => {
                let (a, b) = (s(self), sd(self));
                vec![ins("movp", &[a, b])]
            }
        }
    }

    /// An index: mostly in or near bounds of a small array or string.
    fn index_value(&mut self) -> Opd {
        match self.rng.below(16) {
            0 => self.scalar(Ty::W, false),
            1 => Opd::Imm(self.rng.pick(&[-1, 2, 3, 4, 5, 6])),
            _ => Opd::Imm(self.rng.range(0, 1)),
        }
    }

    /// The bounds of a slice: mostly a valid one of a short string or array.
    fn slice(&mut self) -> (Opd, Opd) {
        if self.rng.one_in(6) {
            return (self.index_value(), self.mid_index());
        }
        (Opd::Imm(0), Opd::Imm(self.rng.range(0, 1)))
    }

    fn mid_index(&mut self) -> Opd {
        self.direct(Gen::index_value)
    }

    /// An element's address into the address slot of its kind.
    fn index(&mut self) -> Vec<Item> {
        // Mostly the arrays the prologue surely made.
        let p = self.rng.pick(&[P::Aw, P::Aw, P::Af, P::Af, P::Ab, P::Ab, P::As, P::Ar]);
        let (_, slot, ad) = p.array();
        let op = match p {
            P::Aw => self.rng.pick(&["indw", "indl", "indx"]),
            P::Af => self.rng.pick(&["indf", "indx"]),
            P::Ab => self.rng.pick(&["indb", "indx"]),
            _ => "indx",
        };
        let src = if p == P::Aw && self.rng.one_in(8) { Opd::Mp(mp::MA) } else { Opd::Fp(slot) };
        let src = if self.rng.one_in(20) { Opd::Mp(mp::NIL) } else { src };
        vec![ins(op, &[src, Opd::Fp(ad), self.index_value()])]
    }

    /// The address of a scalar slot as an element address: stores
    /// through it alias the slot. Or that of an immediate: its cell in the
    /// module, which stores change but the instruction itself still reads
    /// its own value.
    fn lea(&mut self) -> Vec<Item> {
        use Opd::*;
        if self.rng.one_in(8) {
            return vec![ins("lea", &[Imm(self.rng.pick(IMM_EDGES)), Fp(fr::AD_W)])];
        }
        let k = self.rng.below(8);
        let (frame, data, ad) = match self.rng.below(3) {
            0 => (fr::INTS[k], mp::MI[k % 4], fr::AD_W),
            1 => (fr::REALS[k % 6], mp::MF[k % 2], fr::AD_F),
            _ => (fr::BYTES + k as i32, mp::MB + k as i32, fr::AD_B),
        };
        let src = if self.rng.one_in(3) { Mp(data) } else { Fp(frame) };
        vec![ins("lea", &[src, Fp(ad)])]
    }

    /// A record or an array, of a size that is mostly small and sometimes
    /// negative or too large.
    fn alloc(&mut self) -> Vec<Item> {
        use Opd::*;
        if self.rng.one_in(3) {
            let dst = self.ptr(P::Rec, true);
            return vec![ins(self.rng.pick(&["new", "newz"]), &[Imm(ty::REC as i64), dst])];
        }
        let p = self.rng.pick(&ARRAYS);
        let (elem, _, _) = p.array();
        let dst = self.ptr(p, true);
        let op = self.rng.pick(&["newa", "newaz"]);
        let mut out = Vec::new();
        let n = match self.rng.below(16) {
            0 => Imm(-1),
            // Too large for the heap, refused before allocating.
            1 if elem != ty::BYTE => Imm((1 << 29) - 1),
            2 | 3 => {
                // A computed size, kept small.
                let t = Fp(self.rng.pick(&fr::INTS));
                let v = self.direct(|g| g.scalar(Ty::W, false));
                out.push(ins("andw", &[Imm(7), v, t]));
                t
            }
            4 => Imm(0),
            _ => Imm(self.rng.range(1, 6)),
        };
        out.extend(self.writing(op, &[n, Imm(elem as i64), dst]));
        out
    }

    /// `movp` between slots of one kind, nil included.
    fn pointer_move(&mut self) -> Vec<Item> {
        let p =
            self.rng.pick(&[P::Str, P::Rec, P::Rec, P::Aw, P::Aw, P::Af, P::Ab, P::As, P::Ar, P::Lw, P::Ls]);
        let src = self.ptr(p, false);
        let dst = self.ptr(p, true);
        self.writing("movp", &[src, dst])
    }

    /// `movmp` of a whole record (reference counts and all) or `movm` of
    /// bytes within the frame's scalars.
    fn block_move(&mut self) -> Vec<Item> {
        use Opd::*;
        if self.rng.one_in(2) {
            let rec = |g: &mut Gen| match g.rng.below(6) {
                0..=2 => ind(fr::RECS[0], 0),
                3 => ind(fr::RECS[1], 0),
                4 => IMp { off: 0, ptr: mp::MR },
                _ => ind(fr::AD_R, 0),
            };
            let (src, dst) = (rec(self), rec(self));
            return vec![ins("movmp", &[src, Imm(ty::REC as i64), dst])];
        }
        let (lo, hi) = fr::SCALARS;
        let n = self.rng.range(1, 32) as i32;
        let a = lo + self.rng.below((hi - lo - n + 1) as usize) as i32;
        let b = lo + self.rng.below((hi - lo - n + 1) as usize) as i32;
        vec![ins("movm", &[Fp(a), Imm(n as i64), Fp(b)])]
    }

    /// `lena` and `slicea`.
    fn array_op(&mut self) -> Vec<Item> {
        let p = self.rng.pick(&ARRAYS);
        if self.rng.one_in(2) {
            let src = self.ptr(p, false);
            return vec![ins("lena", &[src, self.scalar(Ty::W, true)])];
        }
        let (from, to) = self.slice();
        let dst = self.ptr(p, true);
        self.writing("slicea", &[from, to, dst])
    }

    /// Fixed-point arithmetic, with its scale and shift words set first.
    fn fixed(&mut self) -> Vec<Item> {
        let mut out = Vec::new();
        for tmp in [vm::stack::STMP, vm::stack::DTMP] {
            if self.rng.one_in(2) {
                out.push(ins("movw", &[self.scalar(Ty::W, false), Opd::Fp(tmp as i32)]));
            }
        }
        let op = self.rng.pick(FIXED_OPS);
        out.push(self.fill(op));
        out
    }

    /// A call of helper `target` with arguments from anywhere and its
    /// result into a slot of its type, directly or through the module's
    /// own link. Calls from helpers happen while the depth argument is
    /// positive, and pass it on less one.
    fn call(&mut self, target: usize) -> Vec<Item> {
        use Opd::*;
        let sig = self.helpers[target];
        let arg = |off| IFp { off, ptr: fr::CALL };
        let mut out = Vec::new();
        let skip = self.in_helper().then(|| self.label());
        if let Some(skip) = skip {
            out.push(ins("blew", &[Fp(fr::DEPTH), Imm(0), Lab(skip)]));
        }
        // The callee may replace module data's array.
        out.push(ins("movw", &[Imm(0), Fp(fr::AD_W)]));
        let linked = self.rng.one_in(3);
        if linked {
            // Mostly a fresh link: a stale nil one is "module not loaded".
            if !self.rng.one_in(8) {
                out.push(ins("self", &[Fp(fr::MODULE)]));
            }
            out.push(ins("mframe", &[Fp(fr::MODULE), Link(sig.entry), Fp(fr::CALL)]));
        } else {
            out.push(ins("frame", &[Imm(sig.frame as i64), Fp(fr::CALL)]));
        }
        out.push(ins("movw", &[Fp(fr::CALL), arg(fr::SELF)]));
        // Arguments left out are zero, as the new frame is.
        if !self.rng.one_in(4) {
            out.push(ins("movw", &[self.scalar(Ty::W, false), arg(fr::ARG_W)]));
        }
        if !self.rng.one_in(4) {
            out.push(ins("movf", &[self.scalar(Ty::F, false), arg(fr::ARG_F)]));
        }
        if !self.rng.one_in(4) {
            out.push(ins("movp", &[self.ptr(P::Str, false), arg(fr::ARG_S)]));
        }
        match (skip, self.rng.range(0, 3)) {
            (Some(_), _) => out.push(ins("subw", &[Imm(1), Fp(fr::DEPTH), arg(fr::DEPTH)])),
            (None, 0) => {}
            (None, depth) => out.push(ins("movw", &[Imm(depth), arg(fr::DEPTH)])),
        }
        if !self.rng.one_in(40) {
            let (k, data) = (self.rng.below(8), self.rng.one_in(3));
            let result = match sig.ret {
                Ret::Int if data => Mp(mp::MI[k % 4]),
                Ret::Int => Fp(fr::INTS[k]),
                Ret::Real => Fp(fr::REALS[k % 6]),
                Ret::Str if data => Mp(mp::MS),
                Ret::Str => Fp(fr::STRS[k % 2]),
            };
            out.push(ins("lea", &[result, arg(32)]));
        }
        out.push(match linked {
            true => ins("mcall", &[Fp(fr::CALL), Link(sig.entry), Fp(fr::MODULE)]),
            false => ins("call", &[Fp(fr::CALL), Lab(sig.entry)]),
        });
        out.extend(skip.map(Item::L));
        out
    }

    /// A call of the dump function on this frame, tagged with the case and
    /// the call site.
    fn dump_call(&mut self) -> Vec<Item> {
        use Opd::*;
        self.dumps += 1;
        let tag = self.id as i64 * 100 + self.dumps as i64;
        vec![
            ins("frame", &[Imm(ty::DUMP as i64), Fp(fr::CALL)]),
            ins("movw", &[Fp(fr::SELF), ind(fr::CALL, 64)]),
            ins("movw", &[Imm(tag), IFp { off: 72, ptr: fr::CALL }]),
            ins("call", &[Fp(fr::CALL), Lab(layout::DUMP)]),
        ]
    }
}

/// `off(slot(fp))`: `off` bytes into what frame slot `slot` points at.
fn ind(slot: i32, off: i32) -> Opd {
    Opd::IFp { off, ptr: slot }
}
