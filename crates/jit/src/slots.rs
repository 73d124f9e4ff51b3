//! Which frame slots a compiled function keeps in registers.
//!
//! Dis is memory to memory: every instruction reads and writes its frame.
//! A slot only this function's inline code reads and writes as one 8-byte
//! integer or real can live in a Cranelift variable instead, as long as
//! memory has its value whenever anything else may look: the translator
//! stores every such slot before compiled code leaves or calls the
//! interpreter, and loads them all when the dispatcher enters it.
//!
//! What the opcode table says of each operand decides: a slot is out if any
//! instruction uses it as a pointer (reference counts, the collector), as a
//! byte or short, as the start of a block of run-time size (`lea`, `movm`,
//! `recv`: those may reach any later slot, even from outside the function,
//! so every slot from there on is out), or as both an integer and a real.
//! Slots below the arguments (the frame's registers and the compiler's
//! temporaries) are out. The indirect operands' base slots count as reads
//! of integers: addresses that `ind*` computed are kept, pointers are out
//! through the instructions that write them.

use std::collections::HashMap;

use cranelift_codegen::ir::{self, types};
use dis::{Kind, Slot, Ty};
use vm::module::{Inst, Mode, Module, Opnd};
use vm::stack::ARGS;

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

/// The slots of `body` to keep in variables.
pub fn cached(m: &Module, body: &[usize]) -> Vec<Cached> {
    let mut uses: HashMap<i64, (Use, usize)> = HashMap::new();
    let mut written: Vec<i64> = Vec::new();
    // Ranges [from, to) no slot may touch.
    let mut out: Vec<(i64, i64)> = vec![(0, ARGS as i64)];
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
        let info = i.op.info();
        for (o, slot) in [(&i.src, info.src), (&i.mid, info.mid), (&i.dst, info.dst)] {
            if let Some(kind) = slot.kind() {
                note(o, kind);
            }
        }
        // An absent middle operand is the destination, read as well.
        if i.mid.mode == Mode::None && info.mid != Slot::No {
            if let Some(kind) = info.mid.kind() {
                note(&i.dst, kind);
            }
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
