//! Dis stacks: frames bump-allocated in segments, so that recursion depth is
//! bounded by memory, not by the native stack.
//!
//! Frame layout (64-bit Dis): five registers — return pc, caller frame,
//! caller module link, frame type, return-value address — then three words
//! of compiler temporaries, then the arguments at [`ARGS`].

use crate::heap::{Heap, Ptr};
use crate::mem::Addr;
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

/// Bytes in a thread's first stack segment: most threads stay shallow.
const FIRST_SEGMENT: usize = 4 * 1024;
/// Bytes in later stack segments; a larger frame gets a segment of its own.
const SEGMENT: usize = 64 * 1024;

struct Segment {
    mem: Box<[u64]>,
}

impl Segment {
    fn base(&self) -> usize {
        self.mem.as_ptr() as usize
    }
    fn end(&self) -> usize {
        self.base() + self.mem.len() * 8
    }
}

/// A thread's stack of frames.
pub struct Stack {
    segs: Vec<Segment>,
    /// Index of the segment in use.
    cur: usize,
    /// Next free byte in the current segment.
    sp: usize,
    /// Start of every live frame, oldest first.
    frames: Vec<usize>,
}

impl Default for Stack {
    fn default() -> Self {
        Self::new()
    }
}

impl Stack {
    pub fn new() -> Stack {
        let seg = Segment { mem: vec![0u64; FIRST_SEGMENT / 8].into_boxed_slice() };
        let sp = seg.base();
        Stack { segs: vec![seg], cur: 0, sp, frames: Vec::new() }
    }

    /// Allocates a zeroed frame of type `t` and writes its type register.
    pub fn alloc(&mut self, t: &'static Type) -> Addr {
        let size = (t.size.max(ARGS) + 7) & !7;
        if self.sp + size > self.segs[self.cur].end() {
            self.next_segment(size);
        }
        let f = self.sp;
        self.sp += size;
        self.frames.push(f);
        // SAFETY: [f, f+size) lies inside the current segment, which this
        // stack owns and never moves while frames live in it.
        let a = unsafe { Addr::new(f as *mut u8) };
        a.zero(size);
        // SAFETY: the type register lies in the frame.
        unsafe { a.offset(REG_TYPE) }.set_raw_p(t as *const Type as Ptr);
        a
    }

    fn next_segment(&mut self, size: usize) {
        self.cur += 1;
        if self.cur == self.segs.len() || self.segs[self.cur].mem.len() * 8 < size {
            let words = size.max(SEGMENT) / 8;
            let seg = Segment { mem: vec![0u64; words].into_boxed_slice() };
            if self.cur == self.segs.len() {
                self.segs.push(seg);
            } else {
                self.segs[self.cur] = seg;
            }
        }
        self.sp = self.segs[self.cur].base();
        // Keep at most one spare segment beyond the one in use.
        self.segs.truncate(self.cur + 2);
    }

    /// The most recently allocated live frame.
    pub fn top(&self) -> Option<Addr> {
        // SAFETY: live frames lie in this stack's segments.
        self.frames.last().map(|&f| unsafe { Addr::new(f as *mut u8) })
    }

    /// Number of live frames.
    pub fn depth(&self) -> usize {
        self.frames.len()
    }

    /// Frees every frame from the `depth`-th on, dropping the references in
    /// their pointer slots.
    pub fn truncate(&mut self, heap: &mut Heap, depth: usize) {
        while self.frames.len() > depth {
            let f = self.frames.pop().expect("a live frame");
            // SAFETY: f is a live frame of this stack; its type register was
            // written by `alloc`.
            let a = unsafe { Addr::new(f as *mut u8) };
            a.dec_ptrs(heap, frame_type(a));
            // Step back to the segment holding f.
            while !(f >= self.segs[self.cur].base() && f < self.segs[self.cur].end()) {
                self.cur -= 1;
            }
            self.sp = f;
        }
    }

    /// Frees frame `f`, which must be the top frame, and returns true; false
    /// if `f` is not the top frame.
    pub fn pop(&mut self, heap: &mut Heap, f: Addr) -> bool {
        if self.frames.last() != Some(&(f.ptr() as usize)) {
            return false;
        }
        self.truncate(heap, self.frames.len() - 1);
        true
    }

    /// The position of frame `f` among the live frames.
    pub fn index_of(&self, f: Addr) -> Option<usize> {
        let f = f.ptr() as usize;
        self.frames.iter().rposition(|&x| x == f)
    }

    /// Takes the top frame off the stack without touching its pointers: they
    /// have moved elsewhere (a spawned thread's stack).
    pub fn forget_top(&mut self) {
        if let Some(f) = self.frames.pop() {
            while !(f >= self.segs[self.cur].base() && f < self.segs[self.cur].end()) {
                self.cur -= 1;
            }
            self.sp = f;
        }
    }

    /// Reports every pointer held in live frames, the callers' module
    /// links of [`Stack::caller_links`] included.
    pub fn roots(&self, f: &mut dyn FnMut(Ptr)) {
        for &p in &self.frames {
            // SAFETY: as in truncate.
            let a = unsafe { Addr::new(p as *mut u8) };
            for &o in frame_type(a).ptrs {
                // SAFETY: pointer slots of the frame.
                let c = unsafe { a.offset(o as usize) }.p();
                if !c.is_null() {
                    f(c);
                }
            }
        }
        self.caller_links(f);
    }

    /// Reports the module link of the caller that each frame entered by
    /// `mcall` holds in its `REG_MR` until it returns: a reference the
    /// frame owns, though no pointer map shows it.
    pub fn caller_links(&self, f: &mut dyn FnMut(Ptr)) {
        for &p in &self.frames {
            // SAFETY: as in truncate.
            let ml = reg(unsafe { Addr::new(p as *mut u8) }, REG_MR).raw_p();
            if !ml.is_null() {
                f(ml);
            }
        }
    }
}

/// The type register of a frame.
pub fn frame_type(f: Addr) -> &'static Type {
    // SAFETY: frames store a pointer to a type that lives for the process.
    unsafe { &*(f.offset(REG_TYPE).raw_p() as *const Type) }
}

/// A frame register as an address.
pub fn reg(f: Addr, r: usize) -> Addr {
    // SAFETY: the registers lie at the start of every frame.
    unsafe { f.offset(r) }
}
