//! Typed access to Dis memory: frames, module data, heap objects and
//! instruction immediates, through [`Addr`], an address the VM has checked.
//!
//! An `Addr` is made only here, from an operand the loader validated (frame
//! and module-data offsets inside their areas) or from a heap object the
//! caller owns; that is what makes its safe accessors sound.

use crate::heap::{Heap, Ptr};

/// An address of Dis memory that is valid for the access the instruction
/// using it makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr(*mut u8);

macro_rules! accessors {
    ($($get:ident $set:ident $t:ty;)*) => {
        impl Addr {
            $(
                #[inline(always)]
                pub fn $get(self) -> $t {
                    // SAFETY: an Addr is valid for its instruction's access.
                    unsafe { (self.0 as *const $t).read_unaligned() }
                }
                #[inline(always)]
                #[allow(clippy::not_unsafe_ptr_arg_deref)] // stores the value; never dereferences it
                pub fn $set(self, v: $t) {
                    // SAFETY: as above.
                    unsafe { (self.0 as *mut $t).write_unaligned(v) }
                }
            )*
        }
    };
}

accessors! {
    b set_b u8;
    w set_w i64;
    f set_f f64;
    s16 set_s16 i16;
    r32 set_r32 f32;
    raw_p set_raw_p Ptr;
}

impl Addr {
    /// # Safety
    /// `p` must be valid for every access made through the result.
    #[inline(always)]
    pub unsafe fn new(p: *mut u8) -> Addr {
        Addr(p)
    }

    pub fn ptr(self) -> *mut u8 {
        self.0
    }

    /// The address `n` bytes further on.
    ///
    /// # Safety
    /// The result must be valid for what is accessed through it.
    #[inline(always)]
    pub unsafe fn offset(self, n: usize) -> Addr {
        // SAFETY: the caller guarantees the result stays valid.
        Addr(unsafe { self.0.add(n) })
    }

    /// Big: the same 8 bytes as a word on this 64-bit machine.
    #[inline(always)]
    pub fn l(self) -> i64 {
        self.w()
    }

    #[inline(always)]
    pub fn set_l(self, v: i64) {
        self.set_w(v)
    }

    /// Reads a pointer.
    #[inline(always)]
    pub fn p(self) -> Ptr {
        self.raw_p()
    }

    /// Stores a pointer the caller already holds a reference for, dropping
    /// the reference held by the old value.
    #[inline(always)]
    pub fn put_p(self, heap: &mut Heap, v: Ptr) {
        let old = self.raw_p();
        self.set_raw_p(v);
        heap.dec(old);
    }

    /// Stores a copy of a pointer: one more reference to it.
    #[inline(always)]
    pub fn copy_p(self, heap: &mut Heap, v: Ptr) {
        Heap::inc(v);
        self.put_p(heap, v);
    }

    /// Copies `n` bytes from `src`.
    #[inline]
    pub fn copy_from(self, src: Addr, n: usize) {
        if n == 8 {
            // A word, most of all (channels of int, list heads): one load
            // and one store rather than a call.
            self.set_w(src.w());
            return;
        }
        // SAFETY: both are valid for n bytes; they may overlap.
        unsafe { std::ptr::copy(src.0, self.0, n) }
    }

    /// Zeroes `n` bytes.
    pub fn zero(self, n: usize) {
        // SAFETY: valid for n bytes.
        unsafe { std::ptr::write_bytes(self.0, 0, n) }
    }

    /// The `n` bytes at this address.
    pub fn bytes<'a>(self, n: usize) -> &'a [u8] {
        // SAFETY: valid for n bytes, which the caller reads before the
        // memory can change.
        unsafe { std::slice::from_raw_parts(self.0, n) }
    }

    /// Adds a reference for every pointer of type `t` stored here.
    pub fn inc_ptrs(self, t: &crate::types::Type) {
        for &o in t.ptrs {
            // SAFETY: the pointer slots of a t-sized area at a valid address.
            Heap::inc(unsafe { self.offset(o as usize) }.p());
        }
    }

    /// Drops the references of every pointer of type `t` stored here and
    /// nils them.
    pub fn dec_ptrs(self, heap: &mut Heap, t: &crate::types::Type) {
        for &o in t.ptrs {
            // SAFETY: as above.
            let a = unsafe { self.offset(o as usize) };
            let p = a.p();
            a.set_raw_p(std::ptr::null_mut());
            heap.dec(p);
        }
    }
}

/// The data of a heap object as an address.
#[inline(always)]
pub fn obj(p: Ptr) -> Addr {
    debug_assert!(!p.is_null());
    Addr(p)
}
