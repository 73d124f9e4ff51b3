//! Loaded modules and their instances.
//!
//! A [`Module`] is a `.dis` file's code and types, shared by every load of
//! it. Each `load` makes an [`Instance`]: its own module data and the
//! loader's imports resolved to functions. Dis code holds an instance through
//! a *module link*, a heap object pointing at it.

use std::cell::Cell;
use std::rc::Rc;

use dis::{Datum, Operand, WordSize};

use crate::builtin;
use crate::heap::{Heap, Ptr};
use crate::mem::{obj, Addr};
use crate::shadow::Access;
use crate::types::{Kind, Type};

/// How an instruction addresses an operand, decoded for the interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    None,
    Imm,
    Fp,
    Mp,
    IndFp,
    IndMp,
}

/// A decoded operand. For `Imm` the value is `v`, and `base` indexes the
/// module's pool of immediates, whose cells give the operand an address
/// (`lea $5` and `send $5` use it); for `Fp`/`Mp` the offset is `v`; for
/// the indirect modes the pointer's offset is `base` and the offset inside
/// the object `v`.
///
/// `size` and `acc` say how the instruction uses the operand's memory, for
/// the check an indirect operand gets; `size` is 0 where the instruction
/// knows the size only when it runs, and checks the memory itself.
/// `loose` marks a pointer read from a word not known to hold one
/// (`dis::Analysis::loose_pointers`): the value is checked before use.
#[derive(Clone, Copy, Debug)]
pub struct Opnd {
    pub mode: Mode,
    pub base: u32,
    pub v: i64,
    pub size: u8,
    pub acc: Access,
    pub loose: bool,
}

/// The bytes and access an operand of `kind` makes.
fn access(kind: Option<dis::Kind>) -> (u8, Access) {
    use dis::{Kind as K, Ty};
    let size = |t: Ty| t.size(WordSize::W8.bytes()) as u8;
    match kind {
        Some(K::Read(Ty::P) | K::Write(Ty::P)) | Some(K::Update) => (8, Access::Ptr),
        Some(K::Read(t)) => (size(t), Access::Read),
        Some(K::Write(t)) => (size(t), Access::Write),
        _ => (0, Access::Read),
    }
}

impl Opnd {
    fn decode(o: Operand, kind: Option<dis::Kind>, pool: &mut Vec<Cell<i64>>) -> Opnd {
        let (mode, base, v) = match o {
            Operand::None => (Mode::None, 0, 0),
            Operand::Imm(v) => {
                pool.push(Cell::new(v as i64));
                (Mode::Imm, (pool.len() - 1) as u32, v as i64)
            }
            Operand::Fp(v) => (Mode::Fp, 0, v as i64),
            Operand::Mp(v) => (Mode::Mp, 0, v as i64),
            Operand::IndFp { ptr, off } => (Mode::IndFp, ptr as u32, off as i64),
            Operand::IndMp { ptr, off } => (Mode::IndMp, ptr as u32, off as i64),
        };
        let (size, acc) = access(kind);
        Opnd { mode, base, v, size, acc, loose: false }
    }

    /// The immediate value (for operands the loader checked are immediates).
    pub fn imm(&self) -> i64 {
        self.v
    }
}

/// A decoded instruction.
#[derive(Clone, Copy, Debug)]
pub struct Inst {
    pub op: dis::Opcode,
    pub src: Opnd,
    pub mid: Opnd,
    pub dst: Opnd,
}

impl Inst {
    /// Whether an operand reads a loose pointer ([`Opnd::loose`]): only
    /// the interpreter's general path, which checks it, runs the instruction.
    pub fn reads_loose_pointer(&self) -> bool {
        self.src.loose || self.mid.loose || self.dst.loose
    }
}

/// A function another module can call.
#[derive(Clone, Copy)]
pub enum Callee {
    Dis { pc: usize, frame: &'static Type },
    Builtin { func: &'static builtin::Func },
}

impl Callee {
    pub fn frame(&self) -> &'static Type {
        match self {
            Callee::Dis { frame, .. } => frame,
            Callee::Builtin { func } => func.frame(),
        }
    }
}

/// A `.dis` module's code and types.
pub struct Module {
    pub name: String,
    pub path: String,
    pub code: Box<[Inst]>,
    /// The immediates of `code`, where instructions that take an
    /// immediate's address find it.
    pub imms: Box<[Cell<i64>]>,
    /// Types by id.
    pub types: Vec<&'static Type>,
    /// The module as loaded, but for its instructions: they are in `code`.
    pub image: dis::Module,
    /// For each pc that is a function entry, the frame type validation
    /// checked the function's operands against: it runs in no other (or
    /// in one laid out the same, [`Type::same_layout`]).
    pub entry_type: Box<[Option<&'static Type>]>,
    /// The functions validation found, for a compiler.
    pub analysis: dis::Analysis,
    /// Compiled code, when a backend compiled the module.
    pub native: Option<Box<dyn crate::native::Code>>,
    /// The interpreter's form of `code`, one instruction longer.
    pub(crate) xcode: Box<[crate::interp::XInst]>,
}

impl Module {
    /// Decodes a validated module.
    pub fn new(path: &str, loaded: dis::Loaded) -> Module {
        let dis::Loaded { module: mut image, analysis } = loaded;
        let mut types = vec![&crate::types::WORD; image.types.len()];
        for d in &image.types {
            types[d.id as usize] = Type::from_desc(d, WordSize::W8.bytes());
        }
        let mut pool = Vec::new();
        let code: Box<[Inst]> = image
            .code
            .iter()
            .map(|i| {
                let info = i.op.info();
                let src = Opnd::decode(i.src, info.src.kind(), &mut pool);
                let mid = Opnd::decode(i.mid, info.mid.kind(), &mut pool);
                let dst = Opnd::decode(i.dst, info.dst.kind(), &mut pool);
                Inst { op: i.op, src, mid, dst }
            })
            .zip(analysis.loose_pointers.iter().copied().chain(std::iter::repeat(0)))
            .map(|(mut i, loose)| {
                i.src.loose = loose & 1 != 0;
                i.mid.loose = loose & 2 != 0;
                i.dst.loose = loose & 4 != 0;
                i
            })
            .collect();
        let mut entry_type = vec![None; code.len()].into_boxed_slice();
        for f in analysis.functions.values() {
            entry_type[f.entry] = f.frame_type.and_then(|t| types.get(t as usize).copied());
        }
        // Decoded into `code` (and `xcode` below): the image's copy is dead weight.
        image.code = Vec::new();
        let mut m = Module {
            name: image.name.clone(),
            path: path.to_string(),
            code,
            imms: pool.into_boxed_slice(),
            types,
            image,
            entry_type,
            analysis,
            native: None,
            xcode: Box::new([]),
        };
        m.xcode = crate::interp::translate(&m);
        m
    }

    pub fn mp_type(&self) -> Option<&'static Type> {
        (self.image.data_size > 0).then(|| self.types[0])
    }

    /// An exported function by name.
    pub fn export(&self, name: &str) -> Option<&dis::Link> {
        self.image.links.iter().find(|l| l.name == name)
    }

    /// The callee for one of this module's own links (`ext` indices).
    pub fn link_callee(&self, i: usize) -> Option<Callee> {
        let l = self.image.links.get(i)?;
        (l.pc >= 0).then(|| Callee::Dis { pc: l.pc as usize, frame: self.types[l.frame as usize] })
    }

    /// Builds a fresh module data object from the data items.
    pub fn new_data(&self, heap: &mut Heap) -> Ptr {
        let Some(t) = self.mp_type() else { return std::ptr::null_mut() };
        let mp = heap.alloc(t, 0);
        // (base address, end) of the areas being filled; arrays nest.
        let mut stack: Vec<(Addr, usize)> = Vec::new();
        let mut area = (obj(mp), t.size);
        for d in &self.image.data {
            // The loader checked every item lies inside its area.
            // SAFETY: offsets were validated against the area sizes.
            let at = unsafe { area.0.offset(d.offset() as usize) };
            match d {
                Datum::Bytes { bytes, .. } => {
                    for (i, &b) in bytes.iter().enumerate() {
                        // SAFETY: inside the area, as validated.
                        unsafe { at.offset(i) }.set_b(b);
                    }
                }
                Datum::Words { words, .. } => {
                    for (i, &w) in words.iter().enumerate() {
                        // SAFETY: as above.
                        unsafe { at.offset(i * 8) }.set_w(w as i64);
                    }
                }
                Datum::Longs { longs, .. } => {
                    for (i, &l) in longs.iter().enumerate() {
                        // SAFETY: as above.
                        unsafe { at.offset(i * 8) }.set_l(l);
                    }
                }
                Datum::Reals { bits, .. } => {
                    for (i, &b) in bits.iter().enumerate() {
                        // SAFETY: as above.
                        unsafe { at.offset(i * 8) }.set_f(f64::from_bits(b));
                    }
                }
                Datum::String { text, .. } => {
                    let s = crate::string::from_utf8(heap, text);
                    at.put_p(heap, s);
                }
                Datum::Array { elem, len, .. } => {
                    let a = crate::array::alloc(heap, self.types[*elem as usize], *len as usize);
                    at.put_p(heap, a);
                }
                Datum::Index { index, .. } => {
                    let a = at.p();
                    let size = crate::array::elem_type(a).size;
                    stack.push(area);
                    let n = crate::array::len(a);
                    let base = if n == 0 { obj(a) } else { crate::array::elem(a, 0) };
                    // SAFETY: index <= len, as validated.
                    area = (unsafe { base.offset(*index as usize * size) }, (n - *index as usize) * size);
                }
                Datum::Pop { .. } => area = stack.pop().expect("validated balance"),
            }
        }
        mp
    }
}

/// What a module link refers to.
pub enum ModRef {
    Dis(Rc<Module>),
    Builtin(&'static builtin::Module),
}

/// One load of a module: its data and the loader's imports.
pub struct Instance {
    pub module: ModRef,
    /// Module data (nil for built-in modules and modules without data).
    pub mp: Ptr,
    /// The importer's functions, by import index.
    pub links: Vec<Callee>,
}

impl Instance {
    pub fn dis(&self) -> Option<&Rc<Module>> {
        match &self.module {
            ModRef::Dis(m) => Some(m),
            ModRef::Builtin(_) => None,
        }
    }

    pub fn name(&self) -> &str {
        match &self.module {
            ModRef::Dis(m) => &m.name,
            ModRef::Builtin(b) => b.name,
        }
    }
}

/// The type of module link objects: one word, the instance.
pub static MODLINK: Type = Type::new(8, &[], Kind::Modlink);

/// Makes a module link object owning `inst`.
pub fn new_link(heap: &mut Heap, inst: Instance) -> Ptr {
    let p = heap.alloc(&MODLINK, 0);
    obj(p).set_raw_p(Box::into_raw(Box::new(inst)) as Ptr);
    p
}

/// The instance a module link refers to.
pub fn instance<'a>(ml: Ptr) -> &'a Instance {
    // SAFETY: module link objects hold a boxed instance until finalized.
    unsafe { &*(obj(ml).raw_p() as *const Instance) }
}

pub(crate) fn children(p: Ptr, f: &mut dyn FnMut(Ptr)) {
    let mp = instance(p).mp;
    if !mp.is_null() {
        f(mp);
    }
}

pub(crate) fn finalize(p: Ptr) {
    // SAFETY: the box was made by new_link and is dropped once, here.
    drop(unsafe { Box::from_raw(obj(p).raw_p() as *mut Instance) });
}
