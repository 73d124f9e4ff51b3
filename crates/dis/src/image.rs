//! The module image: a `.dis` file as data, before any runtime memory exists.

use crate::opcode::Opcode;

/// `XMAGIC`: an ordinary module.
pub const XMAGIC: i32 = 819248;
/// `SMAGIC`: a signed module; a signature follows the magic.
pub const SMAGIC: i32 = 923426;

/// Runtime flags in the header (`MUSTCOMPILE` …).
pub mod flags {
    pub const MUSTCOMPILE: i32 = 1 << 0;
    pub const DONTCOMPILE: i32 = 1 << 1;
    pub const SHAREMP: i32 = 1 << 2;
    pub const DYNMOD: i32 = 1 << 3;
    pub const HASLDT0: i32 = 1 << 4;
    pub const HASEXCEPT: i32 = 1 << 5;
    pub const HASLDT: i32 = 1 << 6;
    /// Names in the order the disassembler prints them.
    pub const NAMES: [(i32, &str); 7] = [
        (MUSTCOMPILE, "mustcompile"),
        (DONTCOMPILE, "dontcompile"),
        (SHAREMP, "sharemp"),
        (DYNMOD, "dynmod"),
        (HASLDT0, "hasldt0"),
        (HASEXCEPT, "hasexcept"),
        (HASLDT, "hasldt"),
    ];
}

/// Frame header registers: link pc, caller fp, module link, frame type,
/// return-value pointer. The first argument follows them.
pub const NREG: usize = 5;

/// Word size of a Dis dialect: 8 for 64-bit Dis (the target), 4 for classic Dis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WordSize {
    W4 = 4,
    W8 = 8,
}

impl WordSize {
    pub fn bytes(self) -> usize {
        self as usize
    }
}

/// One operand of an instruction, as addressed in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Operand {
    #[default]
    None,
    /// `$v`: an immediate value.
    Imm(i32),
    /// `n(fp)`: a slot in the current frame.
    Fp(i32),
    /// `n(mp)`: a slot in module data.
    Mp(i32),
    /// `off(ptr(fp))`: offset `off` into the object whose address is in frame slot `ptr`.
    IndFp { ptr: i32, off: i32 },
    /// `off(ptr(mp))`: offset `off` into the object whose address is in module-data slot `ptr`.
    IndMp { ptr: i32, off: i32 },
}

impl Operand {
    pub fn is_none(self) -> bool {
        self == Operand::None
    }
}

/// One instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Inst {
    pub op: Opcode,
    pub src: Operand,
    /// Only `None`, `Imm`, `Fp` or `Mp`: the encoding has no indirect middle operand.
    pub mid: Operand,
    pub dst: Operand,
}

/// A type descriptor: object size and a map of which words hold pointers
/// (most significant bit of each byte first).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeDesc {
    pub id: i32,
    pub size: i32,
    pub map: Vec<u8>,
}

impl TypeDesc {
    /// True if the word-aligned slot at byte `offset` holds a pointer.
    pub fn is_pointer(&self, offset: usize, word: usize) -> bool {
        if !offset.is_multiple_of(word) {
            return false;
        }
        let w = offset / word;
        self.map.get(w / 8).is_some_and(|b| b & (0x80 >> (w % 8)) != 0)
    }

    /// True if any pointer slot overlaps bytes `offset .. offset+len`.
    pub fn has_pointer_in(&self, offset: usize, len: usize, word: usize) -> bool {
        if len == 0 {
            return false;
        }
        let first = offset / word;
        let last = (offset + len - 1) / word;
        (first..=last).any(|w| self.is_pointer(w * word, word))
    }

    /// Byte offsets of all pointer slots.
    pub fn pointer_offsets(&self, word: usize) -> impl Iterator<Item = usize> + '_ {
        self.map.iter().enumerate().flat_map(move |(i, &b)| {
            (0..8).filter(move |bit| b & (0x80 >> bit) != 0).map(move |bit| (i * 8 + bit) * word)
        })
    }
}

/// A data item that initialises module data (or, between `Index` and `Pop`,
/// the elements of an array).
#[derive(Clone, Debug, PartialEq)]
pub enum Datum {
    /// `DEFB`: bytes.
    Bytes { offset: i32, bytes: Vec<u8> },
    /// `DEFW`: 32-bit words in the file, sign-extended into word slots.
    Words { offset: i32, words: Vec<i32> },
    /// `DEFS`: a string pointer, from the bytes the file holds: UTF-8 as
    /// Limbo writes it (which encodes surrogates too), though any bytes
    /// load, as Inferno decodes them leniently.
    String { offset: i32, text: Vec<u8> },
    /// `DEFF`: reals, kept as IEEE bits so that every value round-trips.
    Reals { offset: i32, bits: Vec<u64> },
    /// `DEFA`: a new zeroed array of `len` elements of type `elem`.
    Array { offset: i32, elem: i32, len: i32, count: i32 },
    /// `DIND`: following items initialise the array at `offset`, from element `index`.
    Index { offset: i32, index: i32, count: i32 },
    /// `DAPOP`: back to the enclosing area.
    Pop { offset: i32, count: i32 },
    /// `DEFL`: bigs.
    Longs { offset: i32, longs: Vec<i64> },
}

/// Data item codes (high nibble of an item's first byte).
pub mod item {
    pub const DEFB: u8 = 1;
    pub const DEFW: u8 = 2;
    pub const DEFS: u8 = 3;
    pub const DEFF: u8 = 4;
    pub const DEFA: u8 = 5;
    pub const DIND: u8 = 6;
    pub const DAPOP: u8 = 7;
    pub const DEFL: u8 = 8;
}

impl Datum {
    pub fn offset(&self) -> i32 {
        match *self {
            Datum::Bytes { offset, .. }
            | Datum::Words { offset, .. }
            | Datum::String { offset, .. }
            | Datum::Reals { offset, .. }
            | Datum::Array { offset, .. }
            | Datum::Index { offset, .. }
            | Datum::Pop { offset, .. }
            | Datum::Longs { offset, .. } => offset,
        }
    }

    /// Where the item goes in module data, to change it.
    pub fn offset_mut(&mut self) -> &mut i32 {
        match self {
            Datum::Bytes { offset, .. }
            | Datum::Words { offset, .. }
            | Datum::String { offset, .. }
            | Datum::Reals { offset, .. }
            | Datum::Array { offset, .. }
            | Datum::Index { offset, .. }
            | Datum::Pop { offset, .. }
            | Datum::Longs { offset, .. } => offset,
        }
    }

    /// The item code and the count written in the file.
    pub fn code_and_count(&self) -> (u8, i32) {
        match self {
            Datum::Bytes { bytes, .. } => (item::DEFB, bytes.len() as i32),
            Datum::Words { words, .. } => (item::DEFW, words.len() as i32),
            Datum::String { text, .. } => (item::DEFS, text.len() as i32),
            Datum::Reals { bits, .. } => (item::DEFF, bits.len() as i32),
            Datum::Array { count, .. } => (item::DEFA, *count),
            Datum::Index { count, .. } => (item::DIND, *count),
            Datum::Pop { count, .. } => (item::DAPOP, *count),
            Datum::Longs { longs, .. } => (item::DEFL, longs.len() as i32),
        }
    }
}

/// An exported entry: a function (`pc`, frame type `frame`) or, with
/// `pc == -1`, the module data itself (`.mp`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Link {
    pub pc: i32,
    pub frame: i32,
    pub sig: u32,
    pub name: String,
}

/// A function a module imports from another: signature and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Import {
    pub sig: u32,
    pub name: String,
}

/// One `case` arm of an exception handler: exception name and handler pc.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExcCase {
    pub name: String,
    pub pc: i32,
}

/// An exception handler covering instructions `pc1 .. pc2`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Handler {
    /// Frame offset where the exception value is stored.
    pub eoff: i32,
    pub pc1: i32,
    pub pc2: i32,
    /// Type of the exception object for ADT exceptions, or -1.
    pub desc: i32,
    /// Number of declared exception names (the high half of the count word).
    pub ne: i32,
    pub cases: Vec<ExcCase>,
    /// The `*` arm's pc, or -1.
    pub wildcard: i32,
}

/// How the module is marked: plain or signed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Magic {
    Plain,
    Signed(Vec<u8>),
}

/// A whole `.dis` module.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub magic: Magic,
    pub flags: i32,
    pub stack_extent: i32,
    pub entry_pc: i32,
    pub entry_type: i32,
    pub code: Vec<Inst>,
    pub types: Vec<TypeDesc>,
    /// Size of module data in bytes.
    pub data_size: i32,
    pub data: Vec<Datum>,
    pub name: String,
    pub links: Vec<Link>,
    /// Imports, one list per imported module interface (`HASLDT`).
    pub imports: Option<Vec<Vec<Import>>>,
    /// Exception handlers (`HASEXCEPT`).
    pub handlers: Option<Vec<Handler>>,
    /// Source file path, if the file names one.
    pub source: Option<String>,
}

impl Module {
    /// The type descriptor with this id.
    pub fn type_by_id(&self, id: i32) -> Option<&TypeDesc> {
        // Types are almost always stored in id order; fall back to a search.
        match self.types.get(id as usize) {
            Some(t) if t.id == id => Some(t),
            _ => self.types.iter().find(|t| t.id == id),
        }
    }
}
