//! The shadow map: what every 8-byte word of the heap is to Dis code.
//!
//! A hostile module can compute any address and use it as the base of an
//! indirect operand. The loader cannot see those values, so every access
//! through one asks this map first: two bits per word say whether the word
//! is Dis data, a pointer slot, or not Dis memory at all (object headers,
//! array and string internals, freed blocks, anything the heap did not
//! allocate); the last word of every live object's header has a tag of its
//! own, which tells a pointer to a live object from any other value. Pointer slots may only be written with counted pointers, and
//! plain data never over a pointer, so a pointer slot always holds nil or a
//! live object.
//!
//! The map is sparse and two-level: a table indexed by the top bits of an
//! address leads to a zero-filled chunk of tags for 256 MiB of address space,
//! whose pages the system commits only when they are first written. It
//! costs one bit of memory per four bytes of heap it describes. Where
//! nothing was tagged, and for addresses beyond the table (its last entry),
//! the table leads to one shared chunk that stays zero, so that a lookup,
//! inline in compiled code too, never branches.
//!
//! Frames are not in the map: they come and go too often to tag. Accesses
//! that the map refuses may still name a live frame of the running thread,
//! which the interpreter checks against its stack (see `interp`).

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::sync::OnceLock;

use crate::types::Type;

/// Not Dis memory.
pub const NONE: u64 = 0;
/// A word of Dis data that is not a pointer.
pub const DATA: u64 = 1;
/// A pointer slot: nil or a counted pointer to a live object.
pub const PTR: u64 = 2;
/// The last word of a live object's header: a pointer to the word after
/// it is a pointer to a live object ([`Shadow::is_object`]).
pub const HEAD: u64 = 3;

/// Address bits one chunk describes: 256 MiB of address space, in an
/// 8 MiB chunk. Small chunks keep the map's address space small too, which
/// matters under `ulimit -v`.
pub const CHUNK_BITS: u32 = 28;
/// Address bits the top table indexes: 21, for 49-bit addresses (Linux
/// gives 47 or 48 to user space).
const TOP_BITS: u32 = 21;
/// The top table's last entry, which every address beyond it uses.
pub const TOP_LIMIT: u64 = 1 << TOP_BITS;
/// Tags in a `u64` of the map.
const PER_WORD: usize = 32;
/// `u64`s of tags in one chunk.
const CHUNK_WORDS: usize = (1usize << CHUNK_BITS) / 8 / PER_WORD;

/// How an instruction uses the memory an operand names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Access {
    /// Reads plain data (a pointer may be read as a word).
    Read,
    /// Writes plain data.
    Write,
    /// Reads or writes a counted pointer.
    Ptr,
}

impl Access {
    /// Whether a word tagged `tag` allows this access.
    #[inline(always)]
    pub fn allows(self, tag: u64) -> bool {
        match self {
            Access::Read => tag == DATA || tag == PTR,
            Access::Write => tag == DATA,
            Access::Ptr => tag == PTR,
        }
    }
}

impl Access {
    /// The access whose discriminant is `n` (compiled code passes it so).
    pub fn from_u8(n: u8) -> Access {
        match n {
            0 => Access::Read,
            1 => Access::Write,
            _ => Access::Ptr,
        }
    }
}

/// Whether `size` bytes at `addr` are aligned as Dis memory must be: a
/// word or more from a word boundary, less within one word.
#[inline(always)]
pub fn aligned(addr: usize, size: usize) -> bool {
    if size >= 8 {
        addr.is_multiple_of(8)
    } else {
        addr % 8 + size <= 8
    }
}

pub struct Shadow {
    /// Chunks by the address bits above [`CHUNK_BITS`], as offsets from
    /// [`zero_chunk`]: 0 where nothing was ever tagged, so that the table,
    /// zero-filled, costs memory only where the heap is. One entry more
    /// than addresses need.
    top: Box<[usize]>,
    zero: usize,
    /// The chunks made, to free: the table is too large to scan.
    chunks: Vec<usize>,
}

/// A chunk's layout. Word alignment, so that the allocator takes fresh,
/// zero pages from the system instead of clearing 8 MiB itself.
fn chunk_layout() -> Layout {
    Layout::from_size_align(CHUNK_WORDS * 8, 8).expect("chunk layout")
}

/// A zeroed chunk, whose pages the system commits only when written.
fn new_chunk() -> *mut u64 {
    // SAFETY: the layout is non-zero.
    let c = unsafe { alloc_zeroed(chunk_layout()) } as *mut u64;
    if c.is_null() {
        std::alloc::handle_alloc_error(chunk_layout());
    }
    c
}

/// The chunk of the addresses where nothing was ever tagged, shared by
/// every map of the process and never written: compiled code adds a top
/// table entry to its address, a constant.
pub fn zero_chunk() -> usize {
    static ZERO: OnceLock<usize> = OnceLock::new();
    *ZERO.get_or_init(|| new_chunk() as usize)
}

impl Default for Shadow {
    fn default() -> Self {
        Self::new()
    }
}

impl Shadow {
    pub fn new() -> Shadow {
        Shadow {
            top: vec![0; TOP_LIMIT as usize + 1].into_boxed_slice(),
            zero: zero_chunk(),
            chunks: Vec::new(),
        }
    }

    /// The top table, for compiled code's inline lookups.
    pub fn table(&self) -> *const usize {
        self.top.as_ptr()
    }

    /// The tag of the word holding byte `addr`.
    #[inline(always)]
    pub fn tag(&self, addr: usize) -> u64 {
        let chunk =
            self.zero.wrapping_add(self.top[(addr >> CHUNK_BITS).min(TOP_LIMIT as usize)]) as *const u64;
        let i = (addr & ((1 << CHUNK_BITS) - 1)) / 8;
        // SAFETY: a chunk holds CHUNK_WORDS u64s and i / PER_WORD is below that.
        let w = unsafe { *chunk.add(i / PER_WORD) };
        (w >> (2 * (i % PER_WORD))) & 3
    }

    /// Whether the `size` bytes at `addr` allow `acc`. A value of a word or
    /// more must be word-aligned; a smaller one must not cross a word.
    #[inline]
    pub fn allows(&self, addr: usize, size: usize, acc: Access) -> bool {
        if size <= 8 {
            return aligned(addr, size) && acc.allows(self.tag(addr));
        }
        aligned(addr, size) && (addr..addr + size).step_by(8).all(|a| acc.allows(self.tag(a)))
    }

    /// Whether `p` points at a live object of the heap.
    #[inline]
    pub fn is_object(&self, p: usize) -> bool {
        p.is_multiple_of(8) && p >= 8 && self.tag(p - 8) == HEAD
    }

    /// The chunk for `addr`, made on first use.
    fn chunk(&mut self, addr: usize) -> *mut u64 {
        let k = addr >> CHUNK_BITS;
        assert!(k < TOP_LIMIT as usize, "heap address {addr:#x} beyond the shadow map's reach");
        if self.top[k] == 0 {
            let c = new_chunk();
            self.chunks.push(c as usize);
            self.top[k] = (c as usize).wrapping_sub(self.zero);
        }
        self.zero.wrapping_add(self.top[k]) as *mut u64
    }

    /// Tags the `words` words from `addr` (8-byte aligned) with `tag`.
    pub fn fill(&mut self, mut addr: usize, mut words: usize, tag: u64) {
        // The same tag in every position, so each map word takes it as is.
        let pattern = tag * 0x5555_5555_5555_5555;
        while words > 0 {
            let n = self.put_in_word(addr, words, pattern);
            addr += 8 * n;
            words -= n;
        }
    }

    /// Tags a new object of type `t` whose data starts at `addr`: its
    /// header's last word HEAD and, for records, its words by `t`.
    pub fn tag_object(&mut self, addr: usize, t: &Type, record: bool) {
        if !record {
            self.fill(addr - 8, 1, HEAD);
        } else if t.object_tags != 0 {
            self.put(addr - 8, 1 + t.size.div_ceil(8), t.object_tags);
        } else {
            self.fill(addr - 8, 1, HEAD);
            self.tag_type(addr, t);
        }
    }

    /// Writes the `n` (at most 32) tags of `tags`, lowest first, for the
    /// words from `addr` (8-byte aligned).
    fn put(&mut self, mut addr: usize, mut n: usize, mut tags: u64) {
        while n > 0 {
            let k = self.put_in_word(addr, n, tags);
            addr += 8 * k;
            n -= k;
            tags = tags.checked_shr(2 * k as u32).unwrap_or(0);
        }
    }

    /// Writes as many of the first `n` tags of `tags` (lowest first) as the
    /// map word holding `addr`'s tag has from there; returns how many.
    #[inline(always)]
    fn put_in_word(&mut self, addr: usize, n: usize, tags: u64) -> usize {
        let chunk = self.chunk(addr);
        let i = (addr & ((1 << CHUNK_BITS) - 1)) / 8;
        let (w, b) = (i / PER_WORD, i % PER_WORD);
        let here = n.min(PER_WORD - b);
        let mask = if here == PER_WORD { !0 } else { ((1u64 << (2 * here)) - 1) << (2 * b) };
        // SAFETY: w is below CHUNK_WORDS, as in `tag`.
        unsafe {
            let p = chunk.add(w);
            *p = (*p & !mask) | ((tags << (2 * b)) & mask);
        }
        here
    }

    /// Tags the words of a `t` at `addr`: data, with its pointer slots.
    pub fn tag_type(&mut self, addr: usize, t: &Type) {
        self.fill(addr, t.size.div_ceil(8), DATA);
        for &o in t.ptrs {
            self.fill(addr + o as usize, 1, PTR);
        }
    }

    /// Tags `n` consecutive values of type `t` from `addr`.
    pub fn tag_array(&mut self, addr: usize, t: &Type, n: usize) {
        if t.size.is_multiple_of(8) && t.ptrs.is_empty() {
            self.fill(addr, n * t.size / 8, DATA);
        } else if t.size == 8 && t.ptrs == [0] {
            self.fill(addr, n, PTR);
        } else if t.size.is_multiple_of(8) {
            for k in 0..n {
                self.tag_type(addr + k * t.size, t);
            }
        } else {
            // Elements that share words (bytes): plain data throughout.
            self.fill(addr, (n * t.size).div_ceil(8), DATA);
        }
    }
}

impl Drop for Shadow {
    fn drop(&mut self) {
        for &c in &self.chunks {
            // SAFETY: allocated by `new_chunk` with this layout.
            unsafe { dealloc(c as *mut u8, chunk_layout()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Kind, Type};

    /// A record's tags, written in one go, read back word by word, also
    /// where the record crosses a word of the map and a chunk.
    #[test]
    fn objects_are_tagged_and_untagged() {
        // 24 words: data, with pointer slots at words 1 and 20.
        static T: Type = Type::new(24 * 8, &[8, 160], Kind::Record);
        let mut m = Shadow::new();
        let chunk = 1usize << CHUNK_BITS;
        for base in [0x5000_0000usize, 0x5000_0000 + 8 * 20, 7 * chunk - 8 * 10] {
            m.tag_object(base, &T, true);
            assert!(m.is_object(base), "{base:#x}");
            assert!(!m.is_object(base + 8));
            for w in 0..24 {
                let a = base + 8 * w;
                let ptr = w == 1 || w == 20;
                assert_eq!(m.allows(a, 8, Access::Ptr), ptr, "word {w} at {base:#x}");
                assert_eq!(m.allows(a, 8, Access::Write), !ptr, "word {w} at {base:#x}");
                assert!(m.allows(a, 8, Access::Read));
            }
            assert!(!m.allows(base + 8 * 24, 8, Access::Read), "past the end");
            assert!(!m.allows(base + 4, 8, Access::Read), "misaligned");
            assert!(m.allows(base + 4, 4, Access::Write), "half a word");
            m.fill(base - 8, 25, NONE);
            assert!(!m.is_object(base));
            assert!((0..24).all(|w| !m.allows(base + 8 * w, 1, Access::Read)));
        }
        // Far beyond the table: not Dis memory, and no chunk made.
        assert!(!m.allows(usize::MAX - 7, 8, Access::Read));
        let made: Vec<usize> = (0..TOP_LIMIT as usize).filter(|&k| m.top[k] != 0).collect();
        assert_eq!(made, [4, 5, 6, 7], "the first header word lies in chunk 4");
        assert_eq!(m.chunks.len(), 4);
    }
}
