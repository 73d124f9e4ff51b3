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
}

/// Offset of [`Type::size`], which compiled code reads.
pub const TYPE_SIZE: i32 = std::mem::offset_of!(Type, size) as i32;

impl Type {
    /// A record type from a module's type descriptor.
    pub fn from_desc(d: &TypeDesc, word: usize) -> &'static Type {
        let ptrs: Vec<u32> = d.pointer_offsets(word).map(|o| o as u32).collect();
        Type::leak(d.size as usize, ptrs, Kind::Record)
    }

    /// A type that lives for the rest of the process.
    pub fn leak(size: usize, ptrs: Vec<u32>, kind: Kind) -> &'static Type {
        Box::leak(Box::new(Type { size, ptrs: Box::leak(ptrs.into_boxed_slice()), kind }))
    }

    /// A plain record of `size` bytes with no pointers.
    pub fn bytes(size: usize) -> &'static Type {
        Type::leak(size, Vec::new(), Kind::Record)
    }

    pub fn has_pointers(&self) -> bool {
        !self.ptrs.is_empty()
    }
}

/// Element types of the primitive channels and lists.
pub static BYTE: Type = Type { size: 1, ptrs: &[], kind: Kind::Record };
pub static WORD: Type = Type { size: 8, ptrs: &[], kind: Kind::Record };
pub static BIG: Type = Type { size: 8, ptrs: &[], kind: Kind::Record };
pub static REAL: Type = Type { size: 8, ptrs: &[], kind: Kind::Record };
pub static POINTER: Type = Type { size: 8, ptrs: &[0], kind: Kind::Record };
