//! Running compiled code: the protocol between the VM and a native-code
//! backend (the `jit` crate), and the dispatcher that runs a thread in
//! mixed mode.
//!
//! Compiled code is *resumable*: each compiled Dis function can be entered
//! at any instruction of its body, and it leaves (returns to the
//! dispatcher) for everything that is not local to the function: calls and
//! returns, blocking, preemption and exceptions. The Dis frame in memory is
//! the whole state of a function, so leaving costs nothing and Dis
//! recursion never grows the native stack.
//!
//! Calls within a module can also be native calls: [`call`] does the Dis
//! half of the call (checks, the callee's frame registers) and compiled
//! code then calls the callee's compiled function, which leaves with
//! [`EXIT_RET`] when it returns. Any other exit goes straight up to the
//! dispatcher, which finds every frame's state in memory as usual; a
//! limit on the native stack they take keeps it short.
//!
//! Instructions the backend does not compile inline run through
//! [`exec_one`], the interpreter's implementation of them, so every
//! instruction has one implementation of its semantics besides the inline
//! fast paths.

use std::cell::Cell;
use std::mem::offset_of;

use crate::heap::Ptr;
use crate::interp::check::Mem;
use crate::interp::{self, Status};
use crate::module::{self, Module};
use crate::prog::Prog;
use crate::shadow::Access;
use crate::stack::{frame_type, reg, REG_FP, REG_LR, REG_MR};
use crate::types::Type;
use crate::{exc, Vm, EX_BOUNDS, EX_NILREF, EX_SEGV, EX_ZDIV};

/// What compiled code shares with the dispatcher and the runtime calls it
/// makes. Generated code addresses its fields by the `CTX_*` offsets.
#[repr(C)]
pub struct Ctx {
    /// The running function's frame.
    pub fp: *mut u8,
    /// The running module instance's data.
    pub mp: *mut u8,
    /// Where execution continues after compiled code leaves with
    /// [`EXIT_JUMP`], [`EXIT_RET`], [`EXIT_YIELD`] or a trap (the faulting
    /// instruction).
    pub pc: u64,
    /// Preemption budget: compiled code subtracts the instructions of each
    /// loop iteration and call, and yields when it is spent.
    pub budget: i64,
    /// The lowest native stack address a compiled function may call
    /// another from: deeper calls go through the dispatcher.
    pub stack_floor: usize,
    /// The thread's stack, where compiled code allocates and frees frames
    /// inline (the `STACK_*` offsets of `stack`).
    pub stack: *mut crate::stack::Stack,
    /// The heap's shadow map ([`crate::shadow::Shadow::table`]), which
    /// compiled code consults inline to check computed addresses.
    pub shadow: *const usize,
    vm: *mut Vm,
    prog: *mut Prog,
    /// Set by [`exec_one`] when the thread stopped (blocked, exited, died).
    stopped: Option<Status>,
}

pub const CTX_FP: i32 = offset_of!(Ctx, fp) as i32;
pub const CTX_MP: i32 = offset_of!(Ctx, mp) as i32;
pub const CTX_PC: i32 = offset_of!(Ctx, pc) as i32;
pub const CTX_BUDGET: i32 = offset_of!(Ctx, budget) as i32;
pub const CTX_STACK_FLOOR: i32 = offset_of!(Ctx, stack_floor) as i32;
pub const CTX_STACK: i32 = offset_of!(Ctx, stack) as i32;
pub const CTX_SHADOW: i32 = offset_of!(Ctx, shadow) as i32;

/// The native stack that calls between compiled functions may take in one
/// entry to compiled code, below the dispatcher; deeper calls go through
/// the dispatcher, so that Dis recursion never grows the native stack much.
pub const NATIVE_STACK: usize = 256 << 10;

/// About where the native stack is: the address of a local.
fn stack_here() -> usize {
    let here = 0u8;
    std::ptr::addr_of!(here) as usize
}

/// Exit codes of compiled code and of [`exec_one`].
///
/// `exec_one` returns [`EXIT_NONE`] when the instruction completed and
/// execution goes on at the next one in the same frame.
pub const EXIT_NONE: u32 = 0;
/// A runtime call changed the thread's registers (call, return, a jump
/// through a table, an exception caught, a thread stopped): the dispatcher
/// continues from the thread's registers.
pub const EXIT_REGS: u32 = 1;
/// Continue at `ctx.pc` in frame `ctx.fp` (a jump out of the compiled
/// body, a call the caller does not make natively).
pub const EXIT_JUMP: u32 = 2;
/// The function returned: continue at `ctx.pc` in the caller's frame
/// `ctx.fp`, natively when the caller called natively.
pub const EXIT_RET: u32 = 3;
/// The budget is spent; continue at `ctx.pc` in `ctx.fp` next quantum.
pub const EXIT_YIELD: u32 = 4;
/// Runtime errors raised by inline checks, at the instruction `ctx.pc`.
pub const EXIT_BOUNDS: u32 = 5;
pub const EXIT_NILREF: u32 = 6;
pub const EXIT_ZDIV: u32 = 7;
pub const EXIT_SEGV: u32 = 8;

/// A backend that compiles modules to native code.
pub trait Backend {
    /// Prepares a module's compiled code, which may compile functions
    /// later, as they first run. Functions it cannot compile are left to
    /// the interpreter; `verbose` asks for a report of both.
    fn compile(&self, m: &Module, verbose: bool) -> Option<Box<dyn Code>>;
}

/// A module's compiled code.
pub trait Code {
    /// Whether compiled code of module `m` (whose code this is) can be
    /// entered at `pc`; the first run of a function may compile it.
    fn enters(&self, m: &Module, pc: usize) -> bool;
    /// For each pc of the module's code and one past its end, whether
    /// [`Code::enters`] may be true there: the interpreter, running the
    /// module in mixed mode, stops there for the dispatcher to look.
    fn stops(&self) -> &[Cell<bool>];
    /// Runs compiled code from `pc` (which [`Code::enters`]) with the
    /// registers in `ctx`, until it leaves; returns the exit code.
    fn run(&self, ctx: &mut Ctx, pc: usize) -> u32;
}

/// How many times as many instructions compiled code runs in a quantum as
/// the interpreter, about as much faster as it is: a thread's time slice
/// stays about the same, and compiled loops go back to the scheduler less
/// often. An instruction the interpreter runs here counts as many.
pub const NATIVE_SPEEDUP: i64 = 8;

/// Runs thread `p` in mixed mode for about the time the interpreter takes
/// for `budget` instructions: compiled code where the module has it, the
/// interpreter elsewhere.
pub fn run(vm: &mut Vm, p: &mut Prog, budget: u32) -> Status {
    interp::resume_alt(p);
    let mut left = budget as i64 * NATIVE_SPEEDUP;
    loop {
        if left <= 0 {
            return Status::Yield;
        }
        let inst = module::instance(p.regs.ml);
        // A reference for the duration: a call or return in compiled code
        // may drop the thread's last link to the module.
        let module =
            inst.dis().filter(|m| m.native.as_ref().is_some_and(|c| c.enters(m, p.regs.pc))).cloned();
        let Some(module) = module else {
            // The interpreter, until compiled code may take over.
            let (status, ran) = interp::run_until_native(vm, p, (left / NATIVE_SPEEDUP).max(1) as u32);
            left -= ran as i64 * NATIVE_SPEEDUP;
            match status {
                Status::Yield => {}
                s => return s,
            }
            continue;
        };
        let code = module.native.as_deref().expect("checked above");
        let mut ctx = Ctx {
            fp: p.regs.fp,
            mp: inst.mp,
            pc: p.regs.pc as u64,
            budget: left,
            stack_floor: stack_here().saturating_sub(NATIVE_STACK),
            stack: &mut p.stack,
            shadow: vm.heap.shadow.table(),
            vm,
            prog: p,
            stopped: None,
        };
        let pc = p.regs.pc;
        let exit = code.run(&mut ctx, pc);
        left = ctx.budget;
        if let Some(s) = ctx.stopped.take() {
            return s;
        }
        if exit != EXIT_REGS {
            p.regs.pc = ctx.pc as usize;
            p.regs.fp = ctx.fp;
        }
        match exit {
            EXIT_REGS | EXIT_JUMP | EXIT_RET => {}
            EXIT_YIELD => return Status::Yield,
            EXIT_BOUNDS | EXIT_NILREF | EXIT_ZDIV | EXIT_SEGV => {
                let msg = match exit {
                    EXIT_BOUNDS => EX_BOUNDS,
                    EXIT_NILREF => EX_NILREF,
                    EXIT_ZDIV => EX_ZDIV,
                    _ => EX_SEGV,
                };
                if let Some(s) = interp::throw(vm, p, exc(msg)) {
                    return s;
                }
            }
            _ => unreachable!("compiled code exit code {exit}"),
        }
    }
}

/// Runs the instruction at `pc` of the running function with the
/// interpreter, for compiled code. Returns [`EXIT_NONE`] when execution
/// goes on at `pc + 1` in the same frame, [`EXIT_REGS`] otherwise.
pub fn exec_one(ctx: &mut Ctx, pc: u64) -> u32 {
    let fp = ctx.fp;
    let (vm, p) = vm_prog(ctx);
    p.regs.pc = pc as usize;
    p.regs.fp = fp;
    let ml: Ptr = p.regs.ml;
    let status = interp::run(vm, p, 1);
    let same = p.regs.pc == pc as usize + 1 && p.regs.fp == fp && p.regs.ml == ml;
    ctx.budget -= 1;
    match status {
        Status::Yield => {
            if same {
                EXIT_NONE
            } else {
                EXIT_REGS
            }
        }
        s => {
            ctx.stopped = Some(s);
            EXIT_REGS
        }
    }
}

/// The VM and thread compiled code runs for.
fn vm_prog(ctx: &mut Ctx) -> (&mut Vm, &mut Prog) {
    // The dispatcher set these from the `&mut`s it holds and leaves them
    // alone while compiled code runs, which passes back its own `ctx`.
    // SAFETY: so these are the only live references to the VM and thread.
    unsafe { (&mut *ctx.vm, &mut *ctx.prog) }
}

/// What checks of computed addresses consult, for the running thread.
fn mem(ctx: &mut Ctx) -> Mem<'_> {
    let (vm, p) = vm_prog(ctx);
    let module = module::instance(p.regs.ml).dis().expect("compiled code runs a Dis module");
    Mem { shadow: &vm.heap.shadow, stack: &p.stack, module }
}

/// The exit for an exception a check raised.
fn exit_for(e: &str) -> u32 {
    if e == EX_NILREF {
        EXIT_NILREF
    } else {
        EXIT_SEGV
    }
}

/// Checks `size` bytes at `a` for access `acc` where the shadow map,
/// which compiled code looked at first, refused it: they may lie in a
/// frame of the thread or in the module's immediates. Returns
/// [`EXIT_NONE`] or the exit for the exception.
pub fn check(ctx: &mut Ctx, a: *mut u8, size: usize, acc: Access) -> u32 {
    match mem(ctx).check(a, size, acc) {
        Ok(_) => EXIT_NONE,
        Err(e) => exit_for(e),
    }
}

/// `frame`: a new frame of type `t` on the thread's stack.
pub fn frame(ctx: &mut Ctx, t: &'static Type) -> *mut u8 {
    vm_prog(ctx).1.stack.alloc(t).ptr()
}

/// The Dis half of `call f, target` at `pc`, whose callee runs in frames of
/// the type at `want` (`Module::entry_type`): the checks and the callee's frame registers, after which
/// `ctx` describes the callee at its entry. Returns [`EXIT_NONE`] when the
/// caller is to call the callee's compiled code natively; otherwise the
/// exit code to leave with.
pub fn call(ctx: &mut Ctx, f: i64, pc: u64, target: u64, want: u64) -> u32 {
    let Some(top) = vm_prog(ctx).1.stack.top() else {
        return exec_one(ctx, pc);
    };
    if top.ptr() as i64 != f || frame_type(top) as *const Type as u64 != want {
        // The interpreter raises the error (or accepts a frame of another
        // type laid out the same).
        return exec_one(ctx, pc);
    }
    reg(top, REG_LR).set_w(pc as i64 + 1);
    reg(top, REG_FP).set_raw_p(ctx.fp);
    ctx.fp = top.ptr();
    ctx.pc = target;
    ctx.budget -= 1;
    if ctx.budget < 0 {
        EXIT_YIELD
    } else if stack_here() < ctx.stack_floor {
        EXIT_JUMP
    } else {
        EXIT_NONE
    }
}

/// `ret` at `pc`: frees the frame and leaves [`EXIT_RET`] for the caller
/// at its return address. Returns from a module call, of the thread's first
/// function and of a frame not on top go through the interpreter.
pub fn ret(ctx: &mut Ctx, pc: u64) -> u32 {
    // SAFETY: ctx.fp is the running function's frame.
    let f = unsafe { crate::mem::Addr::new(ctx.fp) };
    let caller = reg(f, REG_FP).raw_p();
    if caller.is_null() || !reg(f, REG_MR).raw_p().is_null() {
        return exec_one(ctx, pc);
    }
    let lr = reg(f, REG_LR).w() as u64;
    let (vm, p) = vm_prog(ctx);
    if !p.stack.pop(&mut vm.heap, f) {
        return exec_one(ctx, pc);
    }
    ctx.fp = caller;
    ctx.pc = lr;
    EXIT_RET
}

/// Drops a reference whose count compiled code found to be the last.
pub fn release(ctx: &mut Ctx, obj: Ptr) {
    vm_prog(ctx).0.heap.dec(obj);
}

/// `new`: a zeroed object of type `t`, with one reference.
pub fn alloc(ctx: &mut Ctx, t: &'static Type) -> Ptr {
    vm_prog(ctx).0.heap.alloc(t, 0)
}

/// Compares two strings as the `b*c` branches do: -1, 0 or 1.
pub fn compare_strings(a: Ptr, b: Ptr) -> i64 {
    crate::string::cmp(a, b) as i64
}

/// `send` (`send` true) or `recv` at `pc` on channel `c`, of the value at
/// `v`: the channel code the interpreter runs, without its dispatch. A
/// thread that must wait stops with the instruction done when it wakes.
pub fn channel(ctx: &mut Ctx, pc: u64, c: Ptr, v: *mut u8, send: bool) -> u32 {
    let Ok(t) = crate::chan::elem_type(c) else { return exec_one(ctx, pc) };
    let v = match mem(ctx).check_typed(v, t, !send) {
        Ok(v) => v,
        Err(e) => return exit_for(e),
    };
    let fp = ctx.fp;
    let (vm, p) = vm_prog(ctx);
    let done = if send { crate::chan::send(vm, p, c, v) } else { crate::chan::recv(vm, p, c, v) };
    match done {
        Ok(true) => {
            ctx.budget -= 1;
            EXIT_NONE
        }
        Ok(false) => {
            p.regs.pc = pc as usize + 1;
            p.regs.fp = fp;
            ctx.budget -= 1;
            ctx.stopped = Some(Status::Blocked);
            EXIT_REGS
        }
        // A nil channel, refused before anything changed: the interpreter
        // raises the error.
        Err(_) => exec_one(ctx, pc),
    }
}
