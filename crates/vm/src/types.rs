//! Runtime type descriptors: an object's size and where its pointers are.
//!
//! Module types come from `.dis` type descriptors; strings, arrays, lists,
//! channels and module links have built-in types whose pointers the kind
//! knows how to find. Types live as long as the process: a module's types are
//! made once when it is first loaded and shared by all its instances.

use dis::TypeDesc;

/// How to find an object's pointers beyond its type map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Plain memory: ADTs, tuples, module data, frames.
    Record,
    String,
    Array,
    List,
    Channel,
    Modlink,
    /// `Sys->FD`: a record whose first word is a file descriptor number,
    /// released when the object dies.
    Fd,
}

/// `repr(C)` because compiled code reads `size` (at offset 0) to index arrays.
#[derive(Debug)]
#[repr(C)]
pub struct Type {
    pub size: usize,
    /// Byte offsets of the pointer slots.
    pub ptrs: &'static [u32],
    pub kind: Kind,
    /// Bit `k` set when word `k` is a pointer slot, for the first 64 words:
    /// checks of computed addresses into frames read it (inline in compiled
    /// code), without a search of `ptrs`.
    pub small_map: u64,
    /// The shadow map's tags for a record of this type with the last word
    /// of its header first ([`crate::shadow::HEAD`], then data or pointer
    /// per word), when it has at most [`OBJECT_TAG_WORDS`] words; 0 when
    /// it is bigger. One write tags a new object.
    pub object_tags: u64,
    /// Bytes that indirect operands may reach in an object of this type:
    /// its size for records, 0 for the built-in kinds, whose insides only
    /// their instructions touch. Compiled code bounds field accesses by it.
    pub field_bytes: usize,
    /// For a frame of this type, bit `k` set when word `k` (of the first
    /// 64) is plain data a result may be written to: past the registers,
    /// inside the type's size, not a pointer slot. Compiled code checks a
    /// write through a callee's result address with it in a few
    /// instructions.
    pub frame_words: u64,
}

/// Words of a record whose tags fit [`Type::object_tags`] beside its header's.
pub const OBJECT_TAG_WORDS: usize = 31;

/// Offsets of the fields of [`Type`] that compiled code reads.
pub const TYPE_SIZE: i32 = std::mem::offset_of!(Type, size) as i32;
pub const TYPE_SMALL_MAP: i32 = std::mem::offset_of!(Type, small_map) as i32;
pub const TYPE_FIELD_BYTES: i32 = std::mem::offset_of!(Type, field_bytes) as i32;
pub const TYPE_FRAME_WORDS: i32 = std::mem::offset_of!(Type, frame_words) as i32;

impl Type {
    pub const fn new(size: usize, ptrs: &'static [u32], kind: Kind) -> Type {
        let mut small_map = 0u64;
        let mut k = 0;
        while k < ptrs.len() {
            let w = ptrs[k] as usize / 8;
            if w < 64 {
                small_map |= 1 << w;
            }
            k += 1;
        }
        let words = size.div_ceil(8);
        let mut object_tags = 0u64;
        if words <= OBJECT_TAG_WORDS {
            object_tags = crate::shadow::HEAD;
            let mut w = 0;
            while w < words {
                let tag = if small_map & 1 << w != 0 { crate::shadow::PTR } else { crate::shadow::DATA };
                object_tags |= tag << (2 * (w + 1));
                w += 1;
            }
        }
        let field_bytes = if matches!(kind, Kind::Record | Kind::Fd) { size } else { 0 };
        let mut frame_words = 0u64;
        let mut w = crate::stack::REG_RET / 8;
        while w < 64 && (w + 1) * 8 <= size {
            if small_map & 1 << w == 0 {
                frame_words |= 1 << w;
            }
            w += 1;
        }
        Type { size, ptrs, kind, small_map, object_tags, field_bytes, frame_words }
    }

    /// Whether word-aligned offset `o` holds a pointer slot.
    #[inline]
    pub fn is_pointer(&self, o: usize) -> bool {
        if o < 512 {
            o.is_multiple_of(8) && self.small_map & 1 << (o / 8) != 0
        } else {
            self.ptrs.binary_search(&(o as u32)).is_ok()
        }
    }

    /// Whether any pointer slot overlaps the `n` bytes from `o`.
    #[inline]
    pub fn has_pointer_in(&self, o: usize, n: usize) -> bool {
        let end = o + n;
        if end <= 512 {
            let (first, last) = (o / 8, end.div_ceil(8));
            let span = if last - first >= 64 { !0 } else { ((1u64 << (last - first)) - 1) << first };
            self.small_map & span != 0
        } else {
            self.ptrs.iter().any(|&p| (p as usize) < end && p as usize + 8 > o)
        }
    }

    /// A record type from a module's type descriptor.
    pub fn from_desc(d: &TypeDesc, word: usize) -> &'static Type {
        let ptrs: Vec<u32> = d.pointer_offsets(word).map(|o| o as u32).collect();
        Type::leak(d.size as usize, ptrs, Kind::Record)
    }

    /// A type that lives for the rest of the process.
    pub fn leak(size: usize, ptrs: Vec<u32>, kind: Kind) -> &'static Type {
        Box::leak(Box::new(Type::new(size, Box::leak(ptrs.into_boxed_slice()), kind)))
    }

    /// A plain record of `size` bytes with no pointers.
    pub fn bytes(size: usize) -> &'static Type {
        Type::leak(size, Vec::new(), Kind::Record)
    }

    /// Whether values of the two types are laid out alike: same size,
    /// pointers in the same places. A frame of either serves a function
    /// checked against the other.
    #[inline]
    pub fn same_layout(&self, o: &Type) -> bool {
        std::ptr::eq(self, o) || (self.size == o.size && self.ptrs == o.ptrs)
    }

    /// Whether a value of this type can stand for a `want`: as large, and
    /// a pointer slot wherever `want` has one (a built-in's frame, whose
    /// callers add variable arguments).
    pub fn covers(&self, want: &Type) -> bool {
        self.size >= want.size && want.ptrs.iter().all(|&o| self.is_pointer(o as usize))
    }

    pub fn has_pointers(&self) -> bool {
        !self.ptrs.is_empty()
    }
}

/// Element types of the primitive channels and lists.
pub static BYTE: Type = Type::new(1, &[], Kind::Record);
pub static WORD: Type = Type::new(8, &[], Kind::Record);
pub static BIG: Type = Type::new(8, &[], Kind::Record);
pub static REAL: Type = Type::new(8, &[], Kind::Record);
pub static POINTER: Type = Type::new(8, &[0], Kind::Record);
