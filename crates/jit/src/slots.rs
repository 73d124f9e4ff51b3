//! Which frame slots a compiled function keeps in registers.
//!
//! Dis is memory to memory: every instruction reads and writes its frame.
//! A slot only this function's inline code reads and writes as one 8-byte
//! integer or real can live in a Cranelift variable instead, as long as
//! memory has its value whenever anything else may look: the translator
//! stores every such slot before compiled code leaves or calls the
//! interpreter, and loads those it still needs (see [`reloads`]) when the
//! dispatcher enters it or a call returns.
//!
//! What the opcode table says of each operand decides: a slot is out if any
//! instruction uses it as a pointer (reference counts, the collector), as a
//! byte or short, as the start of a block of run-time size (`lea`, `movm`,
//! `recv`: those may reach any later slot, even from outside the function,
//! so every slot from there on is out), or as both an integer and a real.
//! Lending a slot to a callee for its result (`lea X(fp), 32(f(fp))`) is
//! the exception: only the callee writes there, during the call, after
//! which every variable is loaded again, as long as the function cannot
//! find the lent address again (see `may_find_lent_slots`).
//! The frame's registers are out; the compiler's temporaries past them are
//! slots like any other (the fixed-point instructions that read two of them
//! run in the runtime, after the variables are stored). The indirect
//! operands' base slots count as reads of integers: addresses that `ind*`
//! computed are kept, pointers are out through the instructions that write
//! them.

use std::collections::{BTreeMap, HashMap, HashSet};

use cranelift_codegen::ir::{self, types};
use dis::{Kind, Slot, Ty};
use vm::module::{Inst, Mode, Module, Opnd};
use vm::stack::{ARGS, REG_RET, STMP};

/// At most this many slots per function: each costs a load wherever
/// compiled code is entered and a store wherever it leaves.
const MAX_SLOTS: usize = 24;

#[derive(Clone, Copy, PartialEq)]
enum Use {
    Int,
    Real,
    Out,
}

/// A slot to keep in a variable.
pub struct Cached {
    /// Its frame offset.
    pub off: i64,
    pub ty: ir::Type,
    /// Whether the function writes it: a slot it only reads never differs
    /// from memory, so it is never stored back.
    pub written: bool,
}

/// The operands `i` names, with what it does to each by the opcode table;
/// an absent middle operand is the destination, read as well.
fn operands(i: &Inst) -> impl Iterator<Item = (&Opnd, Kind)> {
    let info = i.op.info();
    let implied = (i.mid.mode == Mode::None && info.mid != Slot::No).then_some((&i.dst, info.mid));
    [(&i.src, info.src), (&i.mid, info.mid), (&i.dst, info.dst)]
        .into_iter()
        .chain(implied)
        .filter_map(|(o, slot)| slot.kind().map(|kind| (o, kind)))
}

/// Where `i` branches within its function, if it does: calls and spawns
/// name a target too, but control comes back (or never leaves).
pub fn branch_target(i: &Inst) -> Option<usize> {
    use dis::Opcode as O;
    (i.op.info().dst == Slot::Req(Kind::Target) && !matches!(i.op, O::Call | O::Spawn))
        .then_some(i.dst.v as usize)
}

/// Where control may go after instruction `i` at `pc`: the next
/// instruction unless `i` never falls through, and its branch target.
fn successors(pc: usize, i: &Inst) -> impl Iterator<Item = usize> {
    use dis::Opcode as O;
    let falls = !matches!(i.op, O::Jmp | O::Ret | O::Exit | O::Raise);
    falls.then_some(pc + 1).into_iter().chain(branch_target(i))
}

/// Whether `i` is `lea X(fp), REG_RET(f(fp))`: the address of a slot
/// handed to a callee for its result.
fn lends_result_slot(i: &Inst) -> bool {
    i.op == dis::Opcode::Lea
        && i.src.mode == Mode::Fp
        && i.dst.mode == Mode::IndFp
        && i.dst.v == REG_RET as i64
}

/// Slots that may hold a frame's address, and the least size of such a frame.
type Frames = BTreeMap<i64, usize>;

/// Adds the frames of `from` to `into`, keeping the lesser size of a slot in both.
fn join(into: &mut Frames, from: &Frames) {
    for (&o, &size) in from {
        let e = into.entry(o).or_insert(size);
        *e = (*e).min(size);
    }
}

/// Whether `body` may find the address of a slot it lent for a result: it
/// reads or writes the registers of a frame it made (`r(f(fp))` with `r`
/// below the arguments), but for lending, or reaches past such a frame's
/// end, through a slot holding that frame's address, or stores such an
/// address anywhere but a frame slot. Limbo does none of these.
///
/// Which slots hold frames is followed through the function's branches,
/// for Limbo reuses slots (a frame, later an element's address), after a
/// call taking a lent slot to hold the callee's result. Where control
/// flow is not all in the code (case tables, exception handlers), every
/// slot that ever holds a frame is taken to hold one everywhere.
fn may_find_lent_slots(m: &Module, body: &[usize]) -> bool {
    use dis::Opcode as O;
    let at: HashMap<usize, usize> = body.iter().enumerate().map(|(k, &pc)| (pc, k)).collect();
    let hidden_flow = body.iter().any(|&pc| matches!(m.code[pc].op, O::Goto | O::Case | O::Casec | O::Casel))
        || m.image
            .handlers
            .iter()
            .flatten()
            .any(|h| body.iter().any(|&pc| (h.pc1 as usize..h.pc2 as usize).contains(&pc)));
    // Applies instruction `i` to the frames held; false if it finds a lent slot.
    let step = |i: &Inst, frames: &mut Frames, lent: &mut Vec<i64>| -> bool {
        for (k, o) in [&i.src, &i.mid, &i.dst].into_iter().enumerate() {
            if o.mode == Mode::IndFp {
                if let Some(&size) = frames.get(&(o.base as i64)) {
                    let register = (0..ARGS as i64).contains(&o.v) && !(k == 2 && lends_result_slot(i));
                    if register || o.v < 0 || (o.v as usize).saturating_add(8) > size {
                        return false;
                    }
                }
            }
        }
        match i.op {
            O::Frame | O::Mframe if i.dst.mode == Mode::Fp => {
                let size = match i.op {
                    O::Frame => m.types.get(i.src.v as usize).map_or(0, |t| t.size),
                    _ => usize::MAX,
                };
                frames.insert(i.dst.v, size);
            }
            O::Lea if lends_result_slot(i) => lent.push(i.src.v),
            O::Call | O::Mcall | O::Spawn | O::Mspawn => {
                for x in lent.drain(..) {
                    frames.remove(&x);
                }
            }
            _ => {
                let from = [&i.src, &i.mid]
                    .into_iter()
                    .filter(|o| o.mode == Mode::Fp)
                    .filter_map(|o| frames.get(&o.v))
                    .min()
                    .copied();
                let writes = matches!(i.op.info().dst.kind(), Some(Kind::Write(_)));
                match (from, i.dst.mode) {
                    (Some(_), Mode::Fp) if !writes => {}
                    (Some(size), Mode::Fp) => {
                        frames.insert(i.dst.v, size);
                    }
                    (Some(_), _) => return false,
                    (None, Mode::Fp) if writes => {
                        frames.remove(&i.dst.v);
                    }
                    _ => {}
                }
            }
        }
        true
    };
    // Every slot that ever holds a frame, everywhere: grown to a fixpoint.
    let everywhere = || {
        let mut frames = Frames::new();
        loop {
            let before = frames.clone();
            for &pc in body {
                let mut lent = Vec::new();
                let mut after = frames.clone();
                if !step(&m.code[pc], &mut after, &mut lent) {
                    return true;
                }
                join(&mut frames, &after);
            }
            if frames == before {
                return false;
            }
        }
    };
    if hidden_flow {
        return everywhere();
    }
    // Frames held (and slots lent) where each instruction starts.
    let mut state: Vec<Option<(Frames, Vec<i64>)>> = vec![None; body.len()];
    state[0] = Some((Frames::new(), Vec::new()));
    let mut work = vec![0];
    while let Some(k) = work.pop() {
        let (mut frames, mut lent) = state[k].clone().expect("reached");
        let i = &m.code[body[k]];
        if !step(i, &mut frames, &mut lent) {
            return true;
        }
        for pc in successors(body[k], i) {
            let Some(&n) = at.get(&pc) else { continue };
            let merged = match &state[n] {
                None => (frames.clone(), lent.clone()),
                Some((f, l)) => {
                    let mut f = f.clone();
                    join(&mut f, &frames);
                    let mut l = l.clone();
                    for &x in &lent {
                        if !l.contains(&x) {
                            l.push(x);
                        }
                    }
                    (f, l)
                }
            };
            if state[n].as_ref() != Some(&merged) {
                state[n] = Some(merged);
                work.push(n);
            }
        }
    }
    // Code not reached from the first instruction is entered some other way.
    state.iter().any(Option::is_none) && everywhere()
}

/// The slots of `body` to keep in variables.
pub fn cached(m: &Module, body: &[usize]) -> Vec<Cached> {
    let mut uses: HashMap<i64, (Use, usize)> = HashMap::new();
    let mut written: Vec<i64> = Vec::new();
    // The callee writes a result slot it was lent during the call, after
    // which compiled code loads every variable anyway: lending it need not
    // keep the slots from there on in memory, unless the address can be
    // found again.
    let lending_is_safe = !may_find_lent_slots(m, body);
    // Ranges [from, to) no slot may touch.
    let mut out: Vec<(i64, i64)> = vec![(0, STMP as i64)];
    let mut note = |o: &Opnd, kind: Kind| {
        if o.mode == Mode::IndFp {
            let b = o.base as i64;
            if b % 8 == 0 {
                note_use(&mut uses, b, Use::Int);
            } else {
                out.push((b, b + 8));
            }
            return;
        }
        if o.mode != Mode::Fp {
            return;
        }
        if let Kind::Write(_) = kind {
            written.push(o.v);
        }
        match kind {
            Kind::Read(Ty::W | Ty::L) | Kind::Write(Ty::W | Ty::L) if o.v % 8 == 0 => {
                note_use(&mut uses, o.v, Use::Int)
            }
            Kind::Read(Ty::F) | Kind::Write(Ty::F) if o.v % 8 == 0 => note_use(&mut uses, o.v, Use::Real),
            Kind::Read(t) | Kind::Write(t) => out.push((o.v, o.v + t.size(8) as i64)),
            Kind::Update => out.push((o.v, o.v + 8)),
            Kind::Addr | Kind::Val => out.push((o.v, i64::MAX)),
            Kind::Target | Kind::Type => {}
        }
    };
    for &pc in body {
        let i: &Inst = &m.code[pc];
        for (o, kind) in operands(i) {
            if kind == Kind::Addr && lending_is_safe && lends_result_slot(i) {
                continue;
            }
            note(o, kind);
        }
    }
    // The exception handlers covering the function store the exception there.
    for h in m.image.handlers.iter().flatten() {
        if body.iter().any(|&pc| (h.pc1 as usize..h.pc2 as usize).contains(&pc)) {
            out.push((h.eoff as i64, h.eoff as i64 + 8));
        }
    }
    let mut keep: Vec<(i64, Use, usize)> = uses
        .into_iter()
        .filter(|&(o, (u, _))| u != Use::Out && !out.iter().any(|&(a, b)| o < b && a < o + 8))
        .map(|(o, (u, n))| (o, u, n))
        .collect();
    // The most used first; offsets break ties so that output is stable.
    keep.sort_by_key(|&(o, _, n)| (std::cmp::Reverse(n), o));
    keep.truncate(MAX_SLOTS);
    keep.sort_by_key(|&(o, _, _)| o);
    keep.into_iter()
        .map(|(off, u, _)| Cached {
            off,
            ty: if u == Use::Real { types::F64 } else { types::I64 },
            written: written.contains(&off),
        })
        .collect()
}

fn note_use(uses: &mut HashMap<i64, (Use, usize)>, o: i64, u: Use) {
    let e = uses.entry(o).or_insert((u, 0));
    if e.0 != u {
        e.0 = Use::Out;
    }
    e.1 += 1;
}

/// At most this many array slots per function (see [`arrays`]): each
/// keeps two to four variables live through its loops.
const MAX_ARRAYS: usize = 4;

/// How a function indexes the array in a slot: that decides which arrays
/// compiled code keeps, and so what it must keep of them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Indexing {
    /// Only by bytes (`indb`): arrays of 1-byte elements are kept.
    Bytes,
    /// Only by words (`indw`, `indl`, `indf`): arrays of 8-byte elements.
    Words,
    /// Otherwise (`indx`, or both): arrays whose elements suit a word index
    /// if `words`, else any with elements of at least a byte; their element
    /// size is kept too.
    Any { words: bool },
}

impl Indexing {
    fn words(self) -> bool {
        matches!(self, Indexing::Words | Indexing::Any { words: true })
    }
}

/// The pointer slots through which `body` indexes arrays inside loops
/// (`lena` and `ind*` with the array in a frame slot): compiled code keeps
/// what it checked of their array (length, data, element type) in
/// variables, so that a loop checks its arrays once, not at every index.
/// Only slots no address reaches qualify (none is at or past a `lea`,
/// `movm` or `recv` operand, lent result slots aside), so that nothing but
/// the function's own stores and the runtime changes them; the translator
/// forgets what it knows at both. Each comes with how the function
/// indexes it. `looping` holds the pcs inside loops ([`in_loops`]).
pub fn arrays(m: &Module, body: &[usize], looping: &HashSet<usize>) -> Vec<(i64, Indexing)> {
    use dis::Opcode as O;
    let lending_is_safe = !may_find_lent_slots(m, body);
    let mut uses: HashMap<i64, (usize, Option<Indexing>)> = HashMap::new();
    // The least offset an address reaches from.
    let mut reached = i64::MAX;
    for &pc in body {
        let i: &Inst = &m.code[pc];
        for (o, kind) in operands(i) {
            let addr = matches!(kind, Kind::Addr | Kind::Val);
            if addr && o.mode == Mode::Fp && !(lending_is_safe && lends_result_slot(i)) {
                reached = reached.min(o.v);
            }
        }
        let indexes = matches!(i.op, O::Lena | O::Indw | O::Indl | O::Indf | O::Indb | O::Indx);
        if indexes
            && i.src.mode == Mode::Fp
            && i.src.v % 8 == 0
            && i.src.v >= ARGS as i64
            && looping.contains(&pc)
        {
            let e = uses.entry(i.src.v).or_default();
            e.0 += 1;
            let this = match i.op {
                O::Indw | O::Indl | O::Indf => Some(Indexing::Words),
                O::Indb => Some(Indexing::Bytes),
                O::Indx => Some(Indexing::Any { words: false }),
                _ => None,
            };
            e.1 = match (e.1, this) {
                (a, None) => a,
                (None, b) => b,
                (Some(a), Some(b)) if a == b => Some(a),
                (Some(a), Some(b)) => Some(Indexing::Any { words: a.words() || b.words() }),
            };
        }
    }
    let mut keep: Vec<(i64, (usize, Option<Indexing>))> =
        uses.into_iter().filter(|&(o, _)| o + 8 <= reached).collect();
    keep.sort_by_key(|&(o, (n, _))| (std::cmp::Reverse(n), o));
    keep.truncate(MAX_ARRAYS);
    let mut slots: Vec<(i64, Indexing)> =
        keep.into_iter().map(|(o, (_, how))| (o, how.unwrap_or(Indexing::Any { words: false }))).collect();
    slots.sort_by_key(|&(o, _)| o);
    slots
}

/// The loops of `body`: each backward branch's target and pc.
fn loops<'a>(m: &'a Module, body: &'a [usize]) -> impl Iterator<Item = (usize, usize)> + 'a {
    body.iter().filter_map(|&pc| branch_target(&m.code[pc]).filter(|&t| t <= pc).map(|t| (t, pc)))
}

/// The pcs of `body` inside its loops: from a backward branch's target to
/// the branch.
pub fn in_loops(m: &Module, body: &[usize]) -> HashSet<usize> {
    loops(m, body).flat_map(|(head, end)| (head..=end).filter(|p| body.binary_search(p).is_ok())).collect()
}

/// The first instructions of `body`'s loops.
pub fn loop_heads<'a>(m: &'a Module, body: &'a [usize]) -> impl Iterator<Item = usize> + 'a {
    loops(m, body).map(|(head, _)| head)
}

/// Whether an exception handler of the module covers `pc`: an exception
/// raised there may be caught in the same frame, which must then be in
/// memory.
pub fn handled(m: &Module, pc: usize) -> bool {
    m.image.handlers.iter().flatten().any(|h| (h.pc1 as usize..h.pc2 as usize).contains(&pc))
}

/// Where compiled code loads its cached slots, and what it takes for
/// possibly newer than memory where paths join.
pub struct Reloads {
    /// For each instruction, the slots of `cached` (bit `k` for
    /// `cached[k]`) to load into their variables where compiled code goes
    /// on there after memory may have changed (entries, runtime calls,
    /// calls).
    pub at: HashMap<usize, u64>,
    /// For each join (a branch target, a handler, code that does not follow
    /// the instruction before), the slots some way in may have written
    /// since they were last loaded: those the translator stores back later.
    pub dirty: HashMap<usize, u64>,
}

/// Finds [`Reloads`]: a slot loads where some path from there may read it
/// before writing it, or carry it unwritten to a join where it may be
/// dirty (stored back from its variable, which must then hold what memory
/// does). A variable not loaded keeps a stale value that no path reads or
/// stores. Nothing carries past a call, after which compiled code loads
/// what the next instruction needs. Every slot loads wherever an exception
/// handler covers the code, and where control flow is not all in the code
/// (case tables), where every slot is also taken for dirty at joins.
pub fn reloads(m: &Module, entry: usize, body: &[usize], cached: &[Cached]) -> Reloads {
    use dis::Opcode as O;
    let all: u64 = if cached.len() >= 64 { !0 } else { (1u64 << cached.len()) - 1 };
    let targets: Vec<usize> = body.iter().filter_map(|&pc| branch_target(&m.code[pc])).collect();
    // Handlers too: entered with what memory holds, and from the code
    // before them with what the variables hold.
    let handlers: Vec<usize> = m
        .image
        .handlers
        .iter()
        .flatten()
        .flat_map(|h| h.cases.iter().map(|c| c.pc).chain([h.wildcard]))
        .filter(|&pc| pc >= 0)
        .map(|pc| pc as usize)
        .collect();
    let joins: Vec<bool> = (0..body.len())
        .map(|k| {
            let first = if k == 0 { body[0] != entry } else { body[k - 1] + 1 != body[k] };
            first || targets.contains(&body[k]) || handlers.contains(&body[k])
        })
        .collect();
    let hidden_flow = body.iter().any(|&pc| matches!(m.code[pc].op, O::Goto | O::Case | O::Casec | O::Casel));
    if hidden_flow {
        return Reloads {
            at: body.iter().map(|&pc| (pc, all)).collect(),
            dirty: body.iter().zip(&joins).filter(|(_, &j)| j).map(|(&pc, _)| (pc, all)).collect(),
        };
    }
    // The slots the bytes [from, to) overlap.
    let overlap = |from: i64, to: i64| -> u64 {
        cached
            .iter()
            .enumerate()
            .filter(|(_, c)| c.off < to && from < c.off + 8)
            .fold(0, |m, (k, _)| m | 1 << k)
    };
    // What each instruction reads (uses), wholly writes (defs), and may
    // write in any way (what it may make dirty).
    let effect = |i: &Inst| -> (u64, u64, u64) {
        let (mut uses, mut defs, mut writes) = (0u64, 0u64, 0u64);
        let mut note = |o: &Opnd, kind: Kind| match o.mode {
            Mode::IndFp => uses |= overlap(o.base as i64, o.base as i64 + 8),
            Mode::Fp => match kind {
                Kind::Write(t) => {
                    let size = t.size(8) as i64;
                    writes |= overlap(o.v, o.v + size);
                    let exact = cached.iter().position(|c| c.off == o.v && size == 8);
                    match exact {
                        Some(k) => defs |= 1 << k,
                        None => uses |= overlap(o.v, o.v + size),
                    }
                }
                Kind::Read(t) => uses |= overlap(o.v, o.v + t.size(8) as i64),
                Kind::Update => {
                    uses |= overlap(o.v, o.v + 8);
                    writes |= overlap(o.v, o.v + 8);
                }
                Kind::Addr | Kind::Val => {
                    uses |= overlap(o.v, i64::MAX);
                    writes |= overlap(o.v, i64::MAX);
                }
                Kind::Target | Kind::Type => {}
            },
            _ => {}
        };
        for (o, kind) in operands(i) {
            // A slot lent for a result is the callee's to write, and loads
            // after the call (see `cached`).
            if !(kind == Kind::Addr && lends_result_slot(i)) {
                note(o, kind);
            }
        }
        (uses, defs & !uses, writes)
    };
    let effects: Vec<(u64, u64, u64)> = body.iter().map(|&pc| effect(&m.code[pc])).collect();
    // After a call, compiled code goes on from what it loads there.
    let calls: Vec<bool> = body.iter().map(|&pc| m.code[pc].op == O::Call).collect();
    let at: HashMap<usize, usize> = body.iter().enumerate().map(|(k, &pc)| (pc, k)).collect();
    let succs: Vec<Vec<usize>> = body
        .iter()
        .map(|&pc| successors(pc, &m.code[pc]).filter_map(|n| at.get(&n).copied()).collect())
        .collect();
    // Dirty: written on some path since the last load (forwards; entries
    // from the dispatcher start clean).
    let mut dirty: Vec<u64> = vec![0; body.len()];
    loop {
        let mut changed = false;
        for k in 0..body.len() {
            let out = if calls[k] { 0 } else { dirty[k] | effects[k].2 };
            for &s in &succs[k] {
                if dirty[s] | out != dirty[s] {
                    dirty[s] |= out;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Needed: read before written, or carried unwritten to a join where
    // it may be dirty (backwards).
    let mut need: Vec<u64> = body.iter().map(|&pc| if handled(m, pc) { all } else { 0 }).collect();
    loop {
        let mut changed = false;
        for k in (0..body.len()).rev() {
            let out = if calls[k] { 0 } else { succs[k].iter().fold(0, |m, &s| m | need[s]) };
            let (uses, defs, _) = effects[k];
            let at_join = if joins[k] { dirty[k] } else { 0 };
            let new = need[k] | uses | at_join | (out & !defs);
            if new != need[k] {
                need[k] = new;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    Reloads {
        at: body.iter().zip(&need).map(|(&pc, &n)| (pc, n & all)).collect(),
        dirty: body
            .iter()
            .zip(&joins)
            .zip(&dirty)
            .filter(|((_, &j), _)| j)
            .map(|((&pc, _), &d)| (pc, d))
            .collect(),
    }
}

/// The bytes of module data that no instruction of the module writes or
/// reaches by address: the compiler's constants (reals, bytes, integers
/// too large for an immediate). Only the loader writes them, so compiled
/// code may load them anywhere, once for a whole loop.
pub struct Constants {
    /// For each byte of module data, whether something may change it.
    changed: Vec<bool>,
}

impl Constants {
    pub fn of(m: &Module) -> Constants {
        let size = m.mp_type().map_or(0, |t| t.size);
        let mut changed = vec![false; size];
        let mut change = |from: i64, to: i64| {
            let (from, to) = (from.clamp(0, size as i64) as usize, to.clamp(0, size as i64) as usize);
            changed[from..to].fill(true);
        };
        for i in m.code.iter() {
            for (o, kind) in operands(i) {
                if o.mode != Mode::Mp {
                    continue;
                }
                match kind {
                    Kind::Read(_) | Kind::Val | Kind::Target | Kind::Type => {}
                    Kind::Write(t) => change(o.v, o.v + t.size(8) as i64),
                    Kind::Update => change(o.v, o.v + 8),
                    // A block of run-time size, or an address kept.
                    Kind::Addr => change(o.v, i64::MAX),
                }
            }
        }
        Constants { changed }
    }

    /// Whether the `size` bytes at `off` in module data are constant.
    pub fn holds(&self, off: i64, size: usize) -> bool {
        let Ok(from) = usize::try_from(off) else { return false };
        from.checked_add(size)
            .and_then(|to| self.changed.get(from..to))
            .is_some_and(|bytes| !bytes.contains(&true))
    }
}
