//! Checks of the addresses the loader cannot see: those indirect operands
//! and block instructions reach through pointers that Dis code computed.
//!
//! Heap objects and module data are checked by the shadow map. What it
//! refuses may still be a live frame of the running thread (results and
//! arguments pass through pointers to frames) or a cell of the running
//! module's immediates (`lea $1` gives `alt` a value to send); anything else
//! raises an exception, as a fault does in emu.

use crate::mem::Addr;
use crate::module::Module;
use crate::shadow::{self, Access, Shadow};
use crate::stack::{frame_allows, frame_type, Stack};
use crate::types::Type;
use crate::{EX_NILREF, EX_SEGV};

/// What a check consults: the heap's shadow map, the running thread's
/// stack and the running module.
#[derive(Clone, Copy)]
pub(crate) struct Mem<'a> {
    pub shadow: &'a Shadow,
    pub stack: &'a Stack,
    pub module: &'a Module,
}

impl Mem<'_> {
    /// `a` as an address, if the `size` bytes there allow `acc`.
    #[inline(always)]
    pub fn check(self, a: *mut u8, size: usize, acc: Access) -> Result<Addr, &'static str> {
        let addr = a as usize;
        if self.stack.in_segment(addr) {
            if !in_frames(self.stack, addr, size, acc) {
                return Err(EX_SEGV);
            }
        } else if !self.shadow.allows(addr, size, acc) {
            outside_heap(self.stack, self.module, a, size, acc)?;
        }
        // SAFETY: checked for this access.
        Ok(unsafe { Addr::new(a) })
    }

    /// Whether `p`, a pointer read from a word not known to hold one, is
    /// nil or a live object.
    pub fn nil_or_object(self, p: *mut u8) -> bool {
        p.is_null() || self.shadow.is_object(p as usize)
    }

    /// `a` as an address, if a value of type `t` there may be read (or
    /// written) with its pointers counted.
    pub fn check_typed(self, a: *mut u8, t: &Type, write: bool) -> Result<Addr, &'static str> {
        let plain = if write { Access::Write } else { Access::Read };
        if t.ptrs.is_empty() {
            return self.check(a, t.size, plain);
        }
        let mut o = 0;
        for &p in t.ptrs {
            let p = p as usize;
            if p > o {
                self.check(a.wrapping_add(o), p - o, plain)?;
            }
            self.check(a.wrapping_add(p), 8, Access::Ptr)?;
            o = p + 8;
        }
        if t.size > o {
            self.check(a.wrapping_add(o), t.size - o, plain)?;
        }
        // SAFETY: checked above.
        Ok(unsafe { Addr::new(a) })
    }
}

/// Whether `addr` lies in a live frame of `stack` that allows the access.
#[inline]
fn in_frames(stack: &Stack, addr: usize, size: usize, acc: Access) -> bool {
    stack.frame_at(addr).is_some_and(|f| frame_allows(frame_type(f), addr - f.ptr() as usize, size, acc))
}

/// What the shadow map refused: a frame in an older stack segment, the
/// module's immediates, or an exception.
#[cold]
#[inline(never)]
fn outside_heap(stack: &Stack, m: &Module, a: *mut u8, size: usize, acc: Access) -> Result<(), &'static str> {
    let addr = a as usize;
    if let Some(f) = stack.frame_at(addr) {
        let ok = frame_allows(frame_type(f), addr - f.ptr() as usize, size, acc);
        return if ok { Ok(()) } else { Err(EX_SEGV) };
    }
    let imms = m.imms.as_ptr_range();
    let in_imms = addr >= imms.start as usize && addr + size <= imms.end as usize;
    if in_imms && shadow::aligned(addr, size) && acc != Access::Ptr {
        return Ok(());
    }
    Err(if addr < 512 { EX_NILREF } else { EX_SEGV })
}
