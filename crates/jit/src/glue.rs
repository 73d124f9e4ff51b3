//! The boundary between compiled code and Rust: the runtime entry points
//! generated code calls, and the call into generated code.

use vm::native::{self, Ctx};

/// Compiled code's call into the interpreter for one instruction.
pub extern "C" fn exec_one(ctx: *mut Ctx, pc: u64) -> u32 {
    // SAFETY: compiled code passes the `ctx` it was entered with, lent to it exclusively.
    native::exec_one(unsafe { &mut *ctx }, pc)
}

/// The type of compiled functions.
pub type Entry = unsafe extern "C" fn(ctx: *mut Ctx, resume: u32) -> u32;

/// Enters compiled code.
///
/// # Safety
/// `f` must be a function this crate compiled, whose code is still mapped,
/// and `resume` an index into its body.
pub unsafe fn enter(f: Entry, ctx: &mut Ctx, resume: u32) -> u32 {
    // SAFETY: by the contract above; Cranelift compiled `f` for the platform's C ABI.
    unsafe { f(ctx, resume) }
}
