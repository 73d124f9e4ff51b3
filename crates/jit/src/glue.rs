//! The boundary between compiled code and Rust: the runtime entry points
//! generated code calls (thin `extern "C"` faces of `vm::native`), and the
//! call into generated code.

use vm::heap::Ptr;
use vm::native::{self, Ctx};
use vm::types::Type;

// SAFETY (every entry point below): compiled code passes the `ctx` it was
// entered with, lent to it exclusively for the run, and type pointers taken
// from its module, which outlives its code.

/// Runs one instruction with the interpreter.
pub extern "C" fn exec_one(ctx: *mut Ctx, pc: u64) -> u32 {
    // SAFETY: see above.
    native::exec_one(unsafe { &mut *ctx }, pc)
}

/// `frame`.
pub extern "C" fn frame(ctx: *mut Ctx, t: *const Type) -> *mut u8 {
    // SAFETY: see above.
    native::frame(unsafe { &mut *ctx }, unsafe { &*t })
}

/// The Dis half of `call`.
pub extern "C" fn call(ctx: *mut Ctx, f: i64, pc: u64, target: u64, want: u64) -> u32 {
    // SAFETY: see above.
    native::call(unsafe { &mut *ctx }, f, pc, target, want)
}

/// `ret`.
pub extern "C" fn ret(ctx: *mut Ctx, pc: u64) -> u32 {
    // SAFETY: see above.
    native::ret(unsafe { &mut *ctx }, pc)
}

/// Drops the last reference to an object.
pub extern "C" fn release(ctx: *mut Ctx, obj: Ptr) {
    // SAFETY: see above.
    native::release(unsafe { &mut *ctx }, obj)
}

/// `new`: a zeroed object with one reference.
pub extern "C" fn alloc(ctx: *mut Ctx, t: *const Type) -> Ptr {
    // SAFETY: see above.
    native::alloc(unsafe { &mut *ctx }, unsafe { &*t })
}

/// `send` (`send` non-zero) or `recv`.
pub extern "C" fn channel(ctx: *mut Ctx, pc: u64, c: Ptr, v: *mut u8, send: u64) -> u32 {
    // SAFETY: see above; `native::channel` checks the value's address.
    native::channel(unsafe { &mut *ctx }, pc, c, v, send != 0)
}

/// Checks a computed address the shadow map refused (see `native::check`).
pub extern "C" fn check(ctx: *mut Ctx, a: *mut u8, size: u64, acc: u64) -> u32 {
    // SAFETY: see above.
    native::check(unsafe { &mut *ctx }, a, size as usize, vm::shadow::Access::from_u8(acc as u8))
}

/// Compares strings: -1, 0 or 1.
pub extern "C" fn compare_strings(_ctx: *mut Ctx, a: Ptr, b: Ptr) -> i64 {
    native::compare_strings(a, b)
}

/// What the entry of a function left to the interpreter returns: its
/// compiled caller, which has set `ctx.fp` to the callee's frame, leaves
/// for the dispatcher to run it from its entry.
pub const EXIT_ENTER: u32 = 64;

/// The entry of a function left to the interpreter, in the table of
/// functions compiled code calls.
pub extern "C" fn interpreted(_ctx: *mut Ctx, _resume: u32, _lent: u64) -> u32 {
    EXIT_ENTER
}

/// The type of compiled functions: entered with `ctx` at resume point
/// `resume`, and `lent`, the result address when a compiled caller checked
/// it is a word of plain data in its frame (else 0).
pub type Entry = unsafe extern "C" fn(ctx: *mut Ctx, resume: u32, lent: u64) -> u32;

/// Enters compiled code.
///
/// # Safety
/// `f` must be a function this crate compiled, whose code is still mapped,
/// and `resume` an index into its body.
pub unsafe fn enter(f: Entry, ctx: &mut Ctx, resume: u32) -> u32 {
    // SAFETY: by the contract above; Cranelift compiled `f` for the platform's C ABI.
    unsafe { f(ctx, resume, 0) }
}
