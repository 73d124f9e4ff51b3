//! Checking that a parsed module means something safe to run: every operand
//! legal for its opcode and inside the memory it names, every branch, type,
//! link and handler reference valid, every data item inside module data and
//! never a non-pointer value in a pointer slot (or the reverse).
//!
//! Writes are checked against type maps, reads are not: Limbo keeps borrowed
//! pointers (say, a string constant that module data holds) in plain word
//! slots, but a value written over a pointer slot, or a counted pointer
//! written into a plain slot, would corrupt reference counts.
//!
//! What validation cannot prove — offsets into heap objects, array indices,
//! nil pointers, the frame a function is called with when no call site shows
//! it — the runtime checks. [`Analysis`] hands it what validation learnt.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::error::LoadError;
use crate::image::*;
use crate::opcode::{Kind, Opcode, Slot, Ty};
use crate::read::Spans;

/// A function: an entry point and the instructions reachable from it
/// without following calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    pub entry: usize,
    /// The frame type its links and call sites give it: the only one the
    /// runtime runs it in (validation refuses a module where it is unknown).
    pub frame_type: Option<i32>,
    /// Instructions reachable from the entry, in pc order: every jump table
    /// is in module data, where validation read its targets.
    pub body: Vec<usize>,
}

/// What validation proved about a module, for the runtime to rely on.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// Functions by entry pc: the module entry, links, and every call
    /// and spawn target.
    pub functions: BTreeMap<usize, Function>,
    /// By pc, the operands (bit 0 source, 1 middle, 2 destination) that
    /// read a pointer from a word not known to hold one: a frame word that
    /// is not a pointer slot of the function's frame type (Limbo keeps
    /// uncounted copies of pointers in such words). The runtime checks that
    /// such a value is nil or a live object before it uses it.
    pub loose_pointers: Vec<u8>,
    /// By pc, whether more than one function reaches the instruction (no
    /// compiler shares code; a hostile module may), so that it may run in
    /// frames of different types.
    pub shared: Vec<bool>,
}

struct Ctx<'a> {
    m: &'a Module,
    spans: Option<&'a Spans>,
    word: usize,
    types: HashMap<i32, &'a TypeDesc>,
}

impl Ctx<'_> {
    fn inst_err(&self, pc: usize, msg: impl std::fmt::Display) -> LoadError {
        let op = self.m.code[pc].op;
        let msg = format!("instruction {pc} ({op}): {msg}");
        match self.spans.and_then(|s| s.insts.get(pc)) {
            Some(&o) => LoadError::at(o, msg),
            None => LoadError::new(msg),
        }
    }

    fn span_err(&self, which: impl Fn(&Spans) -> Option<usize>, msg: String) -> LoadError {
        match self.spans.and_then(which) {
            Some(o) => LoadError::at(o, msg),
            None => LoadError::new(msg),
        }
    }

    fn valid_pc(&self, pc: i32) -> bool {
        pc >= 0 && (pc as usize) < self.m.code.len()
    }

    fn mp_type(&self) -> Option<&TypeDesc> {
        if self.m.data_size > 0 {
            self.types.get(&0).copied()
        } else {
            None
        }
    }
}

/// Validates a module for a machine with the given word size.
pub fn validate(m: &Module, word: WordSize, spans: Option<&Spans>) -> Result<Analysis, LoadError> {
    let mut cx = Ctx { m, spans, word: word.bytes(), types: HashMap::new() };
    check_types(&mut cx)?;
    check_header(&cx)?;
    let image = check_data(&cx)?;
    check_links(&cx)?;
    check_handlers(&cx)?;
    for pc in 0..m.code.len() {
        check_inst(&cx, pc, &image)?;
    }
    let mut analysis = find_functions(&cx, &image)?;
    analysis.loose_pointers = check_frames(&cx, &analysis)?;
    Ok(analysis)
}

fn check_types(cx: &mut Ctx) -> Result<(), LoadError> {
    let m = cx.m;
    for (i, t) in m.types.iter().enumerate() {
        let err = |msg: String| cx.span_err(|s| s.types.get(i).copied(), msg);
        if t.id < 0 || t.id as usize >= m.types.len() || cx.types.contains_key(&t.id) {
            return Err(err(format!("heap id range: type id {} repeated or out of range", t.id)));
        }
        if t.size < 0 {
            return Err(err(format!("type {}: negative size {}", t.id, t.size)));
        }
        if let Some(last) = t.pointer_offsets(cx.word).last() {
            if last + cx.word > t.size as usize {
                return Err(err(format!(
                    "type {}: pointer map marks offset {last} beyond size {}",
                    t.id, t.size
                )));
            }
        }
        cx.types.insert(t.id, t);
    }
    Ok(())
}

fn check_header(cx: &Ctx) -> Result<(), LoadError> {
    let m = cx.m;
    let err = |msg: String| cx.span_err(|s| Some(s.header), msg);
    if m.data_size > 0 {
        match cx.types.get(&0) {
            Some(t) if t.size == m.data_size => {}
            Some(t) => {
                return Err(err(format!(
                    "bad desc for mp: type 0 has size {}, data size is {}",
                    t.size, m.data_size
                )))
            }
            None => return Err(err("missing desc for mp".into())),
        }
    }
    let entry_ok = (m.entry_pc == -1 && m.entry_type == -1)
        || (cx.valid_pc(m.entry_pc) && cx.types.contains_key(&m.entry_type));
    if !entry_ok {
        return Err(err(format!("bad entry: pc {} type {}", m.entry_pc, m.entry_type)));
    }
    if (m.flags & flags::HASLDT != 0) != m.imports.is_some() {
        return Err(err("HASLDT flag and import table disagree".into()));
    }
    if (m.flags & flags::HASEXCEPT != 0) != m.handlers.is_some() {
        return Err(err("HASEXCEPT flag and exception table disagree".into()));
    }
    Ok(())
}

/// An area being initialised: module data or the elements of an array.
struct Area {
    /// Index into `DataImage::areas`.
    id: usize,
    base: usize,
    end: usize,
    ty: Option<i32>,
}

/// Module data as the data items leave it, so that case and goto tables can
/// be checked. Arrays are tracked only by their element type and length.
pub(crate) struct DataImage {
    pub bytes: Vec<u8>,
    /// Pointer slots already given a value, per area (area 0 is module data).
    set: HashSet<(usize, usize)>,
    /// Arrays created by `DEFA`: (area, offset) → (elem type, len, area id).
    arrays: HashMap<(usize, usize), (i32, usize, usize)>,
    nareas: usize,
}

fn check_data(cx: &Ctx) -> Result<DataImage, LoadError> {
    let m = cx.m;
    let word = cx.word;
    let mut img = DataImage {
        bytes: vec![0; m.data_size as usize],
        set: HashSet::new(),
        arrays: HashMap::new(),
        nareas: 1,
    };
    let mut area = Area { id: 0, base: 0, end: m.data_size as usize, ty: cx.mp_type().map(|t| t.id) };
    let mut stack: Vec<Area> = Vec::new();
    for (i, d) in m.data.iter().enumerate() {
        let err = |msg: String| cx.span_err(|s| s.data.get(i).copied(), msg);
        let off = d.offset() as usize;
        if matches!(d, Datum::Pop { .. }) {
            area = stack.pop().ok_or_else(|| err("pop range: apop with no array open".into()))?;
            continue;
        }
        if area.base + off > area.end {
            return Err(err(format!(
                "bad data item range: offset {off} outside {} bytes",
                area.end - area.base
            )));
        }
        let at = area.base + off;
        let elem_ty = area.ty.and_then(|t| cx.types.get(&t).copied());
        // Pointer maps repeat with the element size inside arrays (and
        // module data is one element of its own type).
        let is_ptr =
            |p: usize| elem_ty.is_some_and(|t| t.size > 0 && t.is_pointer(p % t.size as usize, word));
        let overlaps_ptr =
            |p: usize, len: usize| len > 0 && (p / word..=(p + len - 1) / word).any(|w| is_ptr(w * word));
        let fits = |len: usize| len <= area.end - at;
        match d {
            Datum::Bytes { bytes, .. } => {
                if !fits(bytes.len()) || overlaps_ptr(at, bytes.len()) {
                    return Err(err(format!("bad byte data range at offset {off}")));
                }
                if area.id == 0 {
                    img.bytes[at..at + bytes.len()].copy_from_slice(bytes);
                }
            }
            Datum::Words { words, .. } => {
                let len = words.len() * word;
                if !fits(len) || !at.is_multiple_of(word) || overlaps_ptr(at, len) {
                    return Err(err(format!("bad word data range at offset {off}")));
                }
                if area.id == 0 {
                    for (k, &v) in words.iter().enumerate() {
                        let p = at + k * word;
                        let v = v as i64;
                        img.bytes[p..p + word].copy_from_slice(&v.to_le_bytes()[..word]);
                    }
                }
            }
            Datum::Longs { longs, .. } => {
                let len = longs.len() * 8;
                if !fits(len) || !at.is_multiple_of(8) || overlaps_ptr(at, len) {
                    return Err(err(format!("bad long data range at offset {off}")));
                }
                if area.id == 0 {
                    for (k, &v) in longs.iter().enumerate() {
                        img.bytes[at + k * 8..at + k * 8 + 8].copy_from_slice(&v.to_le_bytes());
                    }
                }
            }
            Datum::Reals { bits, .. } => {
                let len = bits.len() * 8;
                if !fits(len) || !at.is_multiple_of(8) || overlaps_ptr(at, len) {
                    return Err(err(format!("bad real data range at offset {off}")));
                }
            }
            Datum::String { .. } | Datum::Array { .. } => {
                let what = if matches!(d, Datum::String { .. }) { "string" } else { "array" };
                if !fits(word) || !at.is_multiple_of(word) || !is_ptr(at) || !img.set.insert((area.id, at)) {
                    return Err(err(format!("bad {what} data range at offset {off}")));
                }
                if let Datum::Array { elem, len, .. } = *d {
                    let t = cx.types.get(&elem).ok_or_else(|| err(format!("bad array type {elem}")))?;
                    let bytes = (t.size as u64).saturating_mul(len.max(0) as u64);
                    if len < 0 || bytes > 128 << 20 {
                        return Err(err(format!("bad array size {len}")));
                    }
                    img.arrays.insert((area.id, at), (elem, len as usize, img.nareas));
                    img.nareas += 1;
                }
            }
            Datum::Index { index, .. } => {
                let &(elem, len, id) = img
                    .arrays
                    .get(&(area.id, at))
                    .ok_or_else(|| err(format!("ind not array at offset {off}")))?;
                if *index < 0 || *index as usize > len || stack.len() >= 4 {
                    return Err(err(format!("array init range: index {index} of {len}")));
                }
                let esize = cx.types[&elem].size as usize;
                // Offsets inside an array are relative to the indexed element.
                let next = Area { id, base: *index as usize * esize, end: len * esize, ty: Some(elem) };
                stack.push(std::mem::replace(&mut area, next));
            }
            Datum::Pop { .. } => unreachable!("handled above"),
        }
    }
    if !stack.is_empty() {
        return Err(
            cx.span_err(|s| s.data.last().copied(), "unbalanced array data: indir without apop".into())
        );
    }
    Ok(img)
}

fn check_links(cx: &Ctx) -> Result<(), LoadError> {
    for (i, l) in cx.m.links.iter().enumerate() {
        let ok =
            if l.pc == -1 { l.frame == -1 } else { cx.valid_pc(l.pc) && cx.types.contains_key(&l.frame) };
        if !ok {
            return Err(cx.span_err(
                |s| s.links.get(i).copied(),
                format!("bad module link {:?}: pc {} frame type {}", l.name, l.pc, l.frame),
            ));
        }
    }
    Ok(())
}

fn check_handlers(cx: &Ctx) -> Result<(), LoadError> {
    let n = cx.m.code.len() as i32;
    for (i, h) in cx.m.handlers.iter().flatten().enumerate() {
        let err = |msg: String| {
            cx.span_err(|s| s.handlers.get(i).copied(), format!("bad exception handler {i}: {msg}"))
        };
        if h.pc1 < 0 || h.pc1 >= n || h.pc2 > n || h.pc1 > h.pc2 {
            return Err(err(format!("range {}..{} with {n} instructions", h.pc1, h.pc2)));
        }
        if h.desc != -1 && !cx.types.contains_key(&h.desc) {
            return Err(err(format!("type {}", h.desc)));
        }
        if h.eoff < 0 || !(h.eoff as usize).is_multiple_of(cx.word) {
            return Err(err(format!("exception offset {}", h.eoff)));
        }
        for c in &h.cases {
            if !cx.valid_pc(c.pc) {
                return Err(err(format!("pc {} for {:?}", c.pc, c.name)));
            }
        }
        if h.wildcard != -1 && !cx.valid_pc(h.wildcard) {
            return Err(err(format!("wildcard pc {}", h.wildcard)));
        }
    }
    Ok(())
}

/// Width in bytes of what an operand of this kind touches, if fixed.
fn width(kind: Kind, word: usize) -> Option<usize> {
    match kind {
        Kind::Read(t) | Kind::Write(t) => Some(t.size(word)),
        Kind::Update => Some(word),
        Kind::Addr | Kind::Val | Kind::Target | Kind::Type => None,
    }
}

fn check_inst(cx: &Ctx, pc: usize, img: &DataImage) -> Result<(), LoadError> {
    let m = cx.m;
    let i = &m.code[pc];
    let info = i.op.info();
    let word = cx.word;
    for (name, slot, o) in
        [("source", info.src, i.src), ("middle", info.mid, i.mid), ("destination", info.dst, i.dst)]
    {
        let kind = match (slot, o) {
            (Slot::No, Operand::None) | (Slot::Opt(_), Operand::None) => continue,
            (Slot::No, _) => return Err(cx.inst_err(pc, format!("takes no {name} operand"))),
            (Slot::Req(_), Operand::None) => return Err(cx.inst_err(pc, format!("needs a {name} operand"))),
            (Slot::Opt(k) | Slot::Req(k), _) => k,
        };
        match (kind, o) {
            (Kind::Target, Operand::Imm(t)) if !cx.valid_pc(t) => {
                return Err(cx.inst_err(
                    pc,
                    format!("branch target {t} out of range (code has {} instructions)", m.code.len()),
                ));
            }
            (Kind::Type, Operand::Imm(t)) if !cx.types.contains_key(&t) => {
                return Err(cx.inst_err(pc, format!("type {t} out of range ({} types)", m.types.len())));
            }
            (Kind::Target | Kind::Type, o) if !matches!(o, Operand::Imm(_)) => {
                return Err(cx.inst_err(pc, format!("{name} operand must be an immediate")));
            }
            // `lea $5` takes the address of an immediate; nothing writes one.
            (Kind::Write(_) | Kind::Update | Kind::Addr, Operand::Imm(_))
                if !(i.op == Opcode::Lea && name == "source") =>
            {
                return Err(cx.inst_err(pc, format!("{name} operand cannot be an immediate")));
            }
            (Kind::Read(Ty::P | Ty::F | Ty::L | Ty::S16 | Ty::R32), Operand::Imm(_)) => {
                return Err(cx.inst_err(pc, format!("{name} operand cannot be an immediate of this type")));
            }
            _ => {}
        }
        let w = width(kind, word);
        // A value of a word or more lies on a word boundary, a smaller one
        // inside a word, as Limbo lays them out: both modes then read the
        // same bytes (compiled code keeps whole slots in registers).
        if let (Operand::Fp(off) | Operand::Mp(off), Some(w)) = (o, w) {
            let (off, w) = (off.max(0) as usize, w.min(8));
            if off % 8 + w > 8 || (w == 8 && off % 8 != 0) {
                return Err(
                    cx.inst_err(pc, format!("{name} operand at offset {off} is not aligned for {w} bytes"))
                );
            }
        }
        // The frame's first words are the VM's registers (return pc, caller
        // frame, caller module, type): no operand names them.
        if let Operand::Fp(off) | Operand::IndFp { ptr: off, .. } = o {
            if off >= 0 && (off as usize) < (NREG - 1) * word {
                return Err(cx.inst_err(pc, format!("{name} operand {off}(fp) names a frame register")));
            }
        }
        match o {
            Operand::Fp(off) | Operand::IndFp { ptr: off, .. }
                if (off < 0
                    || (matches!(o, Operand::IndFp { .. }) && !(off as usize).is_multiple_of(word))) =>
            {
                return Err(cx.inst_err(pc, format!("{name} frame offset {off} invalid")));
            }
            Operand::Mp(off) => {
                let len = w.unwrap_or(0);
                check_mp(cx, pc, name, off, len, kind)?;
            }
            Operand::IndMp { ptr, .. } => check_mp(cx, pc, name, ptr, word, Kind::Read(Ty::W))?,
            _ => {}
        }
        if let Operand::IndFp { off, .. } | Operand::IndMp { off, .. } = o {
            if off < 0 {
                return Err(cx.inst_err(pc, format!("{name} operand has negative offset {off}")));
            }
        }
    }
    // Instruction-specific operand values known at load time.
    match i.op {
        Opcode::Frame => {
            if let Some(t) = match i.src {
                Operand::Imm(t) => cx.types.get(&t),
                _ => None,
            } {
                check_frame_registers(cx, pc, t)?;
            }
        }
        Opcode::Load => {
            let n = m.imports.as_ref().map_or(0, |v| v.len());
            if let Operand::Imm(k) = i.mid {
                if k < 0 || k as usize >= n {
                    return Err(cx.inst_err(pc, format!("import table {k} out of range ({n} tables)")));
                }
            }
        }
        Opcode::Case | Opcode::Casel | Opcode::Casec | Opcode::Goto => match i.dst {
            Operand::Mp(off) => check_table(cx, pc, off as usize, img)?,
            _ => return Err(cx.inst_err(pc, "jump table must be in module data")),
        },
        _ => {}
    }
    Ok(())
}

fn check_mp(cx: &Ctx, pc: usize, name: &str, off: i32, len: usize, kind: Kind) -> Result<(), LoadError> {
    let size = cx.m.data_size as usize;
    if off < 0 || off as usize + len.max(1) > size {
        return Err(cx.inst_err(pc, format!("{name} operand {off}(mp) outside module data of {size} bytes")));
    }
    let off = off as usize;
    let word = cx.word;
    if let Some(t) = cx.mp_type() {
        match kind {
            Kind::Write(Ty::P) | Kind::Read(Ty::P) | Kind::Update if !t.is_pointer(off, word) => {
                return Err(cx.inst_err(pc, format!("{name} operand {off}(mp) is not a pointer slot")));
            }
            Kind::Write(ty) if ty != Ty::P && t.has_pointer_in(off, len, word) => {
                return Err(cx.inst_err(pc, format!("{name} operand {off}(mp) writes over a pointer")));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a case, casel, casec or goto table in module data: it fits, and
/// every pc in it is an instruction (or -1, "no default").
fn check_table(cx: &Ctx, pc: usize, off: usize, img: &DataImage) -> Result<(), LoadError> {
    let op = cx.m.code[pc].op;
    let targets = table_targets(cx, op, off, img)
        .ok_or_else(|| cx.inst_err(pc, format!("jump table at {off}(mp) does not fit in module data")))?;
    let ninst = cx.m.code.len() as i64;
    match targets.into_iter().find(|&t| t < -1 || t >= ninst) {
        Some(t) => Err(cx.inst_err(
            pc,
            format!("jump table at {off}(mp): target {t} out of range (code has {ninst} instructions)"),
        )),
        None => Ok(()),
    }
}

/// The targets of a jump table in module data, if it can be read.
fn table_targets(cx: &Ctx, op: Opcode, off: usize, img: &DataImage) -> Option<Vec<i64>> {
    let word = cx.word;
    let read = |o: usize| -> Option<i64> {
        let b = img.bytes.get(o..o + word)?;
        Some(if word == 8 {
            i64::from_le_bytes(b.try_into().ok()?)
        } else {
            i32::from_le_bytes(b.try_into().ok()?) as i64
        })
    };
    // goto: the operand addresses the first of a list of pcs whose count
    // stands in the word before it.
    let (off, n) = if op == Opcode::Goto {
        (off.checked_sub(word)?, read(off.checked_sub(word)?)?)
    } else {
        (off, read(off)?)
    };
    let (first, stride, pc_at) = match op {
        Opcode::Goto => (word, word, 0),
        // casel: a count padded to two words, then 8-byte bounds and a pc
        // padded to two words per arm.
        Opcode::Casel => (2 * word, 16 + 2 * word, 16),
        _ => (word, 3 * word, 2 * word),
    };
    let n = if op == Opcode::Goto { u64::try_from(n).ok()? } else { crate::opcode::case_arms(n) };
    let n = usize::try_from(n).ok()?;
    let last = n.checked_mul(stride)?.checked_add(off + first)?;
    if last.checked_add(if op == Opcode::Goto { 0 } else { word })? > img.bytes.len() {
        return None;
    }
    let mut pcs: Vec<usize> = (0..n).map(|k| off + first + k * stride + pc_at).collect();
    if op != Opcode::Goto {
        pcs.push(last);
    }
    pcs.into_iter().map(read).collect()
}

/// Instructions that never fall through to the next.
fn ends_flow(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::Jmp
            | Opcode::Ret
            | Opcode::Exit
            | Opcode::Raise
            | Opcode::Goto
            | Opcode::Case
            | Opcode::Casec
            | Opcode::Casel
    )
}

/// Finds the functions: every entry point (module entry, links, call,
/// spawn and `movpc` targets) with the instructions reachable from it, and
/// its frame type from its link or from `frame $t, x(fp)` followed by
/// `call x(fp), $pc`.
/// Finds the functions and the frame type each runs in. The runtime lets a
/// function run only in a frame of that type (or one laid out the same),
/// so callers that disagree on it are refused here.
fn find_functions(cx: &Ctx, img: &DataImage) -> Result<Analysis, LoadError> {
    let m = cx.m;
    let mut entries: BTreeMap<usize, Option<i32>> = BTreeMap::new();
    let same_layout = |a: i32, b: i32| match (cx.types.get(&a), cx.types.get(&b)) {
        (Some(a), Some(b)) => a.size == b.size && a.pointer_offsets(cx.word).eq(b.pointer_offsets(cx.word)),
        _ => a == b,
    };
    // `at`: the instruction that shows the type, for the error.
    let mut note = |pc: usize, t: Option<i32>, at: usize| -> Result<(), LoadError> {
        let e = entries.entry(pc).or_insert(t);
        match (*e, t) {
            (None, _) => *e = t,
            (Some(a), Some(b)) if !same_layout(a, b) => {
                return Err(cx.inst_err(
                    at.min(m.code.len().saturating_sub(1)),
                    format!("function at {pc} called with frame type {b}, elsewhere {a}"),
                ))
            }
            _ => {}
        }
        Ok(())
    };
    if m.entry_pc >= 0 {
        note(m.entry_pc as usize, Some(m.entry_type), m.entry_pc as usize)?;
    }
    for l in &m.links {
        if l.pc >= 0 {
            note(l.pc as usize, Some(l.frame), l.pc as usize)?;
        }
    }
    // The frame type last set into each frame slot, for call sites.
    let mut pending: HashMap<i32, i32> = HashMap::new();
    for (pc, i) in m.code.iter().enumerate() {
        match (i.op, i.src, i.dst) {
            (Opcode::Frame, Operand::Imm(t), Operand::Fp(slot)) => {
                pending.insert(slot, t);
            }
            (Opcode::Call | Opcode::Spawn, Operand::Fp(slot), Operand::Imm(target)) => {
                note(target as usize, pending.get(&slot).copied(), pc)?;
            }
            (Opcode::Call | Opcode::Spawn, _, Operand::Imm(target)) => note(target as usize, None, pc)?,
            _ => {}
        }
    }
    let n = m.code.len();
    let handlers = m.handlers.as_deref().unwrap_or(&[]);
    let functions: BTreeMap<usize, Function> = entries
        .into_iter()
        .map(|(entry, frame_type)| {
            let mut seen = vec![false; n];
            let mut work = vec![entry];
            let mut handled = vec![false; handlers.len()];
            while let Some(pc) = work.pop() {
                if pc >= n || seen[pc] {
                    continue;
                }
                seen[pc] = true;
                let i = &m.code[pc];
                if !ends_flow(i.op) {
                    work.push(pc + 1);
                }
                if let Operand::Imm(t) = i.dst {
                    if i.op.info().dst == Slot::Req(Kind::Target)
                        && i.op != Opcode::Call
                        && i.op != Opcode::Spawn
                    {
                        work.push(t as usize);
                    }
                }
                if matches!(i.op, Opcode::Goto | Opcode::Case | Opcode::Casec | Opcode::Casel) {
                    // `check_inst` refused tables outside module data and
                    // tables that do not fit.
                    if let Operand::Mp(off) = i.dst {
                        let targets = table_targets(cx, i.op, off as usize, img).unwrap_or_default();
                        work.extend(targets.into_iter().filter(|&t| t >= 0).map(|t| t as usize));
                    }
                }
                for (k, h) in handlers.iter().enumerate() {
                    if !handled[k] && (h.pc1 as usize..h.pc2 as usize).contains(&pc) {
                        handled[k] = true;
                        work.extend(h.cases.iter().map(|c| c.pc as usize));
                        if h.wildcard >= 0 {
                            work.push(h.wildcard as usize);
                        }
                    }
                }
            }
            let body: Vec<usize> = (0..n).filter(|&pc| seen[pc]).collect();
            (entry, Function { entry, frame_type, body })
        })
        .collect();
    let mut owners = vec![0u8; n];
    for f in functions.values() {
        for &pc in &f.body {
            owners[pc] = owners[pc].saturating_add(1);
        }
    }
    let shared = owners.into_iter().map(|k| k > 1).collect();
    Ok(Analysis { functions, loose_pointers: Vec::new(), shared })
}

/// Every direct frame operand a function reaches must lie inside its frame
/// type and respect its pointer map. Returns the loose pointer reads of
/// [`Analysis::loose_pointers`].
fn check_frames(cx: &Ctx, a: &Analysis) -> Result<Vec<u8>, LoadError> {
    let word = cx.word;
    let mut loose = vec![0u8; cx.m.code.len()];
    for f in a.functions.values() {
        // Its operands are checked against its frame type, which the
        // runtime then holds it to: both must be known.
        let Some(t) = f.frame_type.and_then(|t| cx.types.get(&t).copied()) else {
            return Err(cx.inst_err(f.entry, "no call site or link shows the function's frame type"));
        };
        let size = t.size as usize;
        if size < NREG * word {
            return Err(cx.inst_err(f.entry, format!("frame type {} smaller than a frame header", t.id)));
        }
        check_frame_registers(cx, f.entry, t)?;
        for &pc in &f.body {
            if inst_frame_extent(cx, pc) > size {
                return Err(
                    cx.inst_err(pc, format!("frame operand beyond frame type {} of {size} bytes", t.id))
                );
            }
            let i = &cx.m.code[pc];
            let info = i.op.info();
            for (k, (slot, o)) in
                [(info.src, i.src), (info.mid, i.mid), (info.dst, i.dst)].into_iter().enumerate()
            {
                let Operand::Fp(off) = o else { continue };
                let off = off as usize;
                match slot.kind() {
                    // Not refused: Limbo reads pointers from the untyped
                    // temporaries of the frame header.
                    Some(Kind::Read(Ty::P)) if !t.is_pointer(off, word) => loose[pc] |= 1 << k,
                    Some(Kind::Write(Ty::P) | Kind::Update) if !t.is_pointer(off, word) => {
                        return Err(cx.inst_err(
                            pc,
                            format!("{off}(fp) is not a pointer slot of frame type {}", t.id),
                        ));
                    }
                    Some(k @ Kind::Write(ty))
                        if ty != Ty::P && t.has_pointer_in(off, width(k, word).unwrap_or(0), word) =>
                    {
                        return Err(cx.inst_err(
                            pc,
                            format!("{off}(fp) writes over a pointer of frame type {}", t.id),
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(loose)
}

/// Refuses a type used for frames (at `pc`) that marks one of the VM's
/// frame registers (return pc, caller frame, caller module, type) as a
/// pointer, which freeing the frame would then treat as an object.
fn check_frame_registers(cx: &Ctx, pc: usize, t: &TypeDesc) -> Result<(), LoadError> {
    if t.has_pointer_in(0, (NREG - 1) * cx.word, cx.word) {
        return Err(cx.inst_err(pc, format!("frame type {} maps a frame register as a pointer", t.id)));
    }
    Ok(())
}

fn inst_frame_extent(cx: &Ctx, pc: usize) -> usize {
    let i = &cx.m.code[pc];
    let info = i.op.info();
    [(info.src, i.src), (info.mid, i.mid), (info.dst, i.dst)]
        .iter()
        .filter_map(|&(slot, o)| match o {
            Operand::Fp(off) => Some(off as usize + slot.kind().and_then(|k| width(k, cx.word)).unwrap_or(1)),
            Operand::IndFp { ptr, .. } => Some(ptr as usize + cx.word),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}
