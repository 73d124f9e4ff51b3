//! Dis stacks: frames bump-allocated in segments, so that recursion depth is
//! bounded by memory, not by the native stack.
//!
//! Frame layout (64-bit Dis): five registers — return pc, caller frame,
//! caller module link, frame type, return-value address — then three words
//! of compiler temporaries, then the arguments at [`ARGS`].
//!
//! Every frame is preceded by one hidden word, its *link*: the address of
//! the frame allocated before it (0 for the oldest). The links chain every
//! live frame, called or not, from the newest, so the stack needs no list
//! of its frames: allocating and freeing a frame touch only the frame and
//! the stack's own fields.
//!
//! Compiled code allocates and frees frames inline on the common path, by
//! the field offsets `STACK_*` and [`frame_bytes`]; it leaves segment
//! changes to [`Stack::alloc`] and the interpreter's `ret`.

use std::cell::Cell;
use std::rc::Rc;

use crate::heap::{Heap, Ptr};
use crate::mem::Addr;
use crate::shadow::{self, Access};
use crate::types::Type;

pub const REG_LR: usize = 0;
pub const REG_FP: usize = 8;
pub const REG_MR: usize = 16;
pub const REG_TYPE: usize = 24;
pub const REG_RET: usize = 32;
/// The fixed-point instructions' scratch words (`Stmp`, `Dtmp`).
pub const STMP: usize = 40;
pub const DTMP: usize = 56;
/// Offset of the first argument.
pub const ARGS: usize = 64;

/// Bytes of the hidden link word before every frame.
pub const LINK: usize = 8;
/// Bytes in a thread's first stack segment: most threads stay shallow.
const FIRST_SEGMENT: usize = 4 * 1024;
/// Bytes in later stack segments; a larger frame gets a segment of its own.
const SEGMENT: usize = 64 * 1024;

struct Segment {
    mem: Box<[u64]>,
    /// Where allocation stood in this segment when the stack moved on to
    /// the next one: where it resumes when it comes back.
    saved_sp: usize,
}

impl Segment {
    fn new(bytes: usize) -> Segment {
        let mem = vec![0u64; bytes / 8].into_boxed_slice();
        let saved_sp = mem.as_ptr() as usize;
        Segment { mem, saved_sp }
    }
    fn base(&self) -> usize {
        self.mem.as_ptr() as usize
    }
    fn end(&self) -> usize {
        self.base() + self.bytes()
    }
    fn bytes(&self) -> usize {
        self.mem.len() * 8
    }
}

/// A thread's stack of frames.
pub struct Stack {
    segs: Vec<Segment>,
    /// Index of the segment in use.
    cur: usize,
    /// Start and end of the segment in use.
    base: usize,
    limit: usize,
    /// Next free byte in the current segment.
    sp: usize,
    /// The newest live frame, 0 when there is none.
    top: usize,
    /// Bytes of segments of all the VM's stacks, this one's included: the
    /// frames' share of memory, which has a limit ([`crate::heap::Heap::exhausted`]).
    usage: Rc<Cell<usize>>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let mine: usize = self.segs.iter().map(Segment::bytes).sum();
        self.usage.set(self.usage.get() - mine);
    }
}

impl Default for Stack {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes a frame of type `t` occupies, its link word not included.
#[inline(always)]
pub fn frame_bytes(t: &Type) -> usize {
    (t.size.max(ARGS) + 7) & !7
}

/// Whether `size` bytes at offset `o` of a frame of type `t` allow `acc`:
/// past the registers, inside the frame, aligned, and plain data or a
/// pointer slot as the access needs.
#[inline]
pub fn frame_allows(t: &Type, o: usize, size: usize, acc: Access) -> bool {
    o >= REG_RET
        && o + size.max(1) <= frame_bytes(t)
        && shadow::aligned(o, size)
        && match acc {
            Access::Read => true,
            Access::Write => !t.has_pointer_in(o, size),
            Access::Ptr => size == 8 && t.is_pointer(o),
        }
}

/// Offsets of the [`Stack`] fields compiled code reads and writes.
pub const STACK_BASE: i32 = std::mem::offset_of!(Stack, base) as i32;
pub const STACK_LIMIT: i32 = std::mem::offset_of!(Stack, limit) as i32;
pub const STACK_SP: i32 = std::mem::offset_of!(Stack, sp) as i32;
pub const STACK_TOP: i32 = std::mem::offset_of!(Stack, top) as i32;

impl Stack {
    pub fn new() -> Stack {
        Stack::counted(Rc::default())
    }

    /// A stack whose segments count in `usage`, shared by a VM's stacks.
    pub fn counted(usage: Rc<Cell<usize>>) -> Stack {
        let seg = Segment::new(FIRST_SEGMENT);
        let (base, limit) = (seg.base(), seg.end());
        usage.set(usage.get() + seg.bytes());
        Stack { segs: vec![seg], cur: 0, base, limit, sp: base, top: 0, usage }
    }

    /// Allocates a zeroed frame of type `t` with its type register set.
    #[inline]
    pub fn alloc(&mut self, t: &'static Type) -> Addr {
        let size = frame_bytes(t);
        if self.sp + LINK + size > self.limit {
            self.next_segment(LINK + size);
        }
        let link = self.sp;
        let f = link + LINK;
        self.sp = f + size;
        // SAFETY: [link, f+size) lies inside the current segment, which this
        // stack owns and never moves while frames live in it; it is 8-byte
        // aligned, as segments and frame sizes are.
        //
        // The whole frame is zeroed, not only its pointer slots as Inferno
        // does: the loader cannot prove that code reads pointers only from
        // slots its frame's map marks, and a word left over from an older
        // frame must never be taken for a pointer.
        unsafe {
            *(link as *mut usize) = self.top;
            std::ptr::write_bytes(f as *mut u8, 0, size);
            (f as *mut u64).add(REG_TYPE / 8).write(t as *const Type as u64);
        }
        self.top = f;
        // SAFETY: as above.
        unsafe { Addr::new(f as *mut u8) }
    }

    #[cold]
    #[inline(never)]
    fn next_segment(&mut self, size: usize) {
        self.segs[self.cur].saved_sp = self.sp;
        self.cur += 1;
        let mut used = self.usage.get();
        if self.cur == self.segs.len() || self.segs[self.cur].bytes() < size {
            let seg = Segment::new(size.max(SEGMENT));
            used += seg.bytes();
            if self.cur == self.segs.len() {
                self.segs.push(seg);
            } else {
                used -= std::mem::replace(&mut self.segs[self.cur], seg).bytes();
            }
        }
        // Keep at most one spare segment beyond the one in use.
        for dropped in self.segs.drain((self.cur + 2).min(self.segs.len())..) {
            used -= dropped.bytes();
        }
        self.usage.set(used);
        self.enter_segment(self.segs[self.cur].base());
    }

    fn enter_segment(&mut self, sp: usize) {
        let s = &self.segs[self.cur];
        self.base = s.base();
        self.limit = s.end();
        self.sp = sp;
    }

    /// The most recently allocated live frame.
    #[inline]
    pub fn top(&self) -> Option<Addr> {
        // SAFETY: live frames lie in this stack's segments.
        (self.top != 0).then(|| unsafe { Addr::new(self.top as *mut u8) })
    }

    /// The newest live frame's address, 0 when there is none.
    #[inline(always)]
    pub fn top_addr(&self) -> usize {
        self.top
    }

    /// The frame allocated before live frame `f` (0 for the oldest).
    #[inline(always)]
    fn link(f: usize) -> usize {
        // SAFETY: every live frame is preceded by its link word.
        unsafe { *((f - LINK) as *const usize) }
    }

    /// Takes the top frame off the stack without touching its pointers.
    #[inline(always)]
    fn unlink_top(&mut self) {
        let f = self.top;
        let link = f - LINK;
        self.top = Self::link(f);
        if link == self.base && self.cur > 0 {
            self.prev_segment();
        } else {
            self.sp = link;
        }
    }

    #[cold]
    #[inline(never)]
    fn prev_segment(&mut self) {
        self.cur -= 1;
        let sp = self.segs[self.cur].saved_sp;
        self.enter_segment(sp);
    }

    /// Frees the frames newer than live frame `f` (every frame, for
    /// none), dropping the references in their pointer slots; nothing if
    /// `f` is not a live frame. Returns whether it was.
    pub fn free_above(&mut self, heap: &mut Heap, f: Option<Addr>) -> bool {
        let f = f.map_or(0, |f| f.ptr() as usize);
        if f != 0 && !self.holds(f) {
            return false;
        }
        while self.top != f {
            // SAFETY: top is a live frame of this stack; its type register
            // was written by `alloc`.
            let a = unsafe { Addr::new(self.top as *mut u8) };
            a.dec_ptrs(heap, frame_type(a));
            self.unlink_top();
        }
        true
    }

    /// Frees live frame `f` and the frames newer than it; nothing if `f`
    /// is not a live frame.
    pub fn free_from(&mut self, heap: &mut Heap, f: Addr) {
        if self.free_above(heap, Some(f)) {
            f.dec_ptrs(heap, frame_type(f));
            self.unlink_top();
        }
    }

    /// Whether `f` is a live frame.
    fn holds(&self, f: usize) -> bool {
        let mut x = self.top;
        while x != 0 && x != f {
            x = Self::link(x);
        }
        x == f
    }

    /// Frees frame `f`, which must be the top frame, and returns true; false
    /// if `f` is not the top frame.
    #[inline]
    pub fn pop(&mut self, heap: &mut Heap, f: Addr) -> bool {
        if self.top == 0 || self.top != f.ptr() as usize {
            return false;
        }
        let t = frame_type(f);
        if t.has_pointers() {
            f.dec_ptrs(heap, t);
        }
        self.unlink_top();
        true
    }

    /// Whether `addr` lies in the stack segment in use: the frames next to
    /// the running one, which address checks look at before the heap's map.
    #[inline(always)]
    pub fn in_segment(&self, addr: usize) -> bool {
        addr.wrapping_sub(self.base) < self.limit - self.base
    }

    /// The live frame whose bytes hold `addr`, searched from the newest:
    /// results and arguments go through pointers to the frames next to the
    /// running one, so the search is short for code that is not hostile.
    #[inline]
    pub fn frame_at(&self, addr: usize) -> Option<Addr> {
        let mut x = self.top;
        while x != 0 {
            // SAFETY: x is a live frame of this stack.
            let f = unsafe { Addr::new(x as *mut u8) };
            if addr >= x && addr < x + frame_bytes(frame_type(f)) {
                return Some(f);
            }
            x = Self::link(x);
        }
        None
    }

    /// Takes the top frame off the stack without touching its pointers: they
    /// have moved elsewhere (a spawned thread's stack).
    pub fn forget_top(&mut self) {
        if self.top != 0 {
            self.unlink_top();
        }
    }

    /// Reports every pointer held in live frames, the callers' module
    /// links of [`Stack::caller_links`] included.
    pub fn roots(&self, f: &mut dyn FnMut(Ptr)) {
        let mut x = self.top;
        while x != 0 {
            // SAFETY: as in truncate.
            let a = unsafe { Addr::new(x as *mut u8) };
            for &o in frame_type(a).ptrs {
                // SAFETY: pointer slots of the frame.
                let c = unsafe { a.offset(o as usize) }.p();
                if !c.is_null() {
                    f(c);
                }
            }
            x = Self::link(x);
        }
        self.caller_links(f);
    }

    /// Reports the module link of the caller that each frame entered by
    /// `mcall` holds in its `REG_MR` until it returns: a reference the
    /// frame owns, though no pointer map shows it.
    pub fn caller_links(&self, f: &mut dyn FnMut(Ptr)) {
        let mut x = self.top;
        while x != 0 {
            // SAFETY: as in truncate.
            let ml = reg(unsafe { Addr::new(x as *mut u8) }, REG_MR).raw_p();
            if !ml.is_null() {
                f(ml);
            }
            x = Self::link(x);
        }
    }
}

/// The type register of a frame.
#[inline(always)]
pub fn frame_type(f: Addr) -> &'static Type {
    // SAFETY: frames store a pointer to a type that lives for the process.
    unsafe { &*(f.offset(REG_TYPE).raw_p() as *const Type) }
}

/// A frame register as an address.
#[inline(always)]
pub fn reg(f: Addr, r: usize) -> Addr {
    // SAFETY: the registers lie at the start of every frame.
    unsafe { f.offset(r) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames pushed across several segments pop back in order, and the
    /// links keep `free_above`, `free_from` and `roots` working.
    #[test]
    fn frames_cross_segments() {
        let mut heap = Heap::new();
        let small = Type::leak(96, vec![72], crate::types::Kind::Record);
        let big = Type::leak(70_000, vec![64], crate::types::Kind::Record);
        let mut s = Stack::new();
        let mut frames = Vec::new();
        for k in 0..3000 {
            let t = if k % 1000 == 500 { big } else { small };
            let f = s.alloc(t);
            assert_eq!(frame_type(f).size, t.size);
            assert!(reg(f, REG_MR).raw_p().is_null() && reg(f, REG_RET).raw_p().is_null());
            // SAFETY: a pointer slot inside the frame.
            assert!(unsafe { f.offset(t.ptrs[0] as usize) }.p().is_null());
            frames.push(f);
        }
        assert_eq!(s.top(), frames.last().copied());
        assert!(s.holds(frames[1234].ptr() as usize) && s.holds(frames[0].ptr() as usize));
        // A pointer in a frame is a root.
        let o = heap.alloc(&crate::types::WORD, 0);
        // SAFETY: the pointer slot of a live frame.
        unsafe { frames[10].offset(72) }.set_raw_p(o);
        let mut n = 0;
        s.roots(&mut |p| {
            assert_eq!(p, o);
            n += 1
        });
        assert_eq!(n, 1);
        assert!(!s.pop(&mut heap, frames[2998]));
        assert!(s.pop(&mut heap, frames[2999]));
        assert!(s.free_above(&mut heap, Some(frames[999])));
        assert_eq!(s.top(), Some(frames[999]));
        assert!(!s.free_above(&mut heap, Some(frames[1500])));
        // Allocation resumes where the popped frames were.
        let f = s.alloc(small);
        assert_eq!(f, frames[1000]);
        s.free_from(&mut heap, frames[5]);
        assert_eq!(heap.stats().objects, 0);
        s.forget_top();
        assert_eq!(s.top(), Some(frames[3]));
        assert!(s.free_above(&mut heap, None));
        assert_eq!(s.top(), None);
        assert_eq!(s.alloc(small), frames[0]);
    }
}
