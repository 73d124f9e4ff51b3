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
//! Instructions the backend does not compile inline run through
//! [`exec_one`], the interpreter's implementation of them, so every
//! instruction has one implementation of its semantics besides the inline
//! fast paths.

use std::mem::offset_of;

use crate::heap::Ptr;
use crate::interp::{self, Status};
use crate::module::{self, Module};
use crate::prog::Prog;
use crate::{exc, Vm, EX_BOUNDS, EX_NILREF, EX_ZDIV};

/// What compiled code shares with the dispatcher and the runtime calls it
/// makes. Generated code addresses its fields by the `CTX_*` offsets.
#[repr(C)]
pub struct Ctx {
    /// The running function's frame.
    pub fp: *mut u8,
    /// The running module instance's data.
    pub mp: *mut u8,
    /// Where execution continues after compiled code leaves with
    /// [`EXIT_JUMP`], [`EXIT_YIELD`] or a trap (the faulting instruction).
    pub pc: u64,
    /// Preemption budget: compiled code subtracts the instructions of each
    /// loop iteration and call, and yields when it is spent.
    pub budget: i64,
    vm: *mut Vm,
    prog: *mut Prog,
    /// Set by [`exec_one`] when the thread stopped (blocked, exited, died).
    stopped: Option<Status>,
}

pub const CTX_FP: i32 = offset_of!(Ctx, fp) as i32;
pub const CTX_MP: i32 = offset_of!(Ctx, mp) as i32;
pub const CTX_PC: i32 = offset_of!(Ctx, pc) as i32;
pub const CTX_BUDGET: i32 = offset_of!(Ctx, budget) as i32;

/// Exit codes of compiled code and of [`exec_one`].
///
/// `exec_one` returns [`EXIT_NONE`] when the instruction completed and
/// execution goes on at the next one in the same frame.
pub const EXIT_NONE: u32 = 0;
/// A runtime call changed the thread's registers (call, return, a jump
/// through a table, an exception caught, a thread stopped): the dispatcher
/// continues from the thread's registers.
pub const EXIT_REGS: u32 = 1;
/// Continue at `ctx.pc` in the same frame (a jump out of the compiled body).
pub const EXIT_JUMP: u32 = 2;
/// The budget is spent; continue at `ctx.pc` next quantum.
pub const EXIT_YIELD: u32 = 3;
/// Runtime errors raised by inline checks, at the instruction `ctx.pc`.
pub const EXIT_BOUNDS: u32 = 4;
pub const EXIT_NILREF: u32 = 5;
pub const EXIT_ZDIV: u32 = 6;

/// A backend that compiles modules to native code.
pub trait Backend {
    /// Compiles what it can of a module. Functions it cannot compile are
    /// left to the interpreter; `verbose` asks for a report of both.
    fn compile(&self, m: &Module, verbose: bool) -> Option<Box<dyn Code>>;
}

/// A module's compiled code.
pub trait Code {
    /// Whether compiled code can be entered at `pc`.
    fn enters(&self, pc: usize) -> bool;
    /// Runs compiled code from `pc` (which [`Code::enters`]) with the
    /// registers in `ctx`, until it leaves; returns the exit code.
    fn run(&self, ctx: &mut Ctx, pc: usize) -> u32;
}

/// Runs thread `p` in mixed mode for about `budget` instructions:
/// compiled code where the module has it, the interpreter elsewhere.
pub fn run(vm: &mut Vm, p: &mut Prog, budget: u32) -> Status {
    interp::resume_alt(p);
    let mut left = budget as i64;
    loop {
        if left <= 0 {
            return Status::Yield;
        }
        let inst = module::instance(p.regs.ml);
        // A reference for the duration: a call or return in compiled code
        // may drop the thread's last link to the module.
        let module = inst.dis().filter(|m| m.native.as_ref().is_some_and(|c| c.enters(p.regs.pc))).cloned();
        let Some(module) = module else {
            match interp::run(vm, p, 1) {
                Status::Yield => left -= 1,
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
            vm,
            prog: p,
            stopped: None,
        };
        let pc = p.regs.pc;
        let exit = code.run(&mut ctx, pc);
        left = ctx.budget;
        let at = ctx.pc as usize;
        if let Some(s) = ctx.stopped.take() {
            return s;
        }
        match exit {
            EXIT_REGS => {}
            EXIT_JUMP => p.regs.pc = at,
            EXIT_YIELD => {
                p.regs.pc = at;
                return Status::Yield;
            }
            EXIT_BOUNDS | EXIT_NILREF | EXIT_ZDIV => {
                p.regs.pc = at;
                let msg = match exit {
                    EXIT_BOUNDS => EX_BOUNDS,
                    EXIT_NILREF => EX_NILREF,
                    _ => EX_ZDIV,
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
    // The dispatcher set these from the `&mut`s it holds and leaves them
    // alone while compiled code runs, which passes back its own `ctx`.
    // SAFETY: so these are the only live references to the VM and thread.
    let (vm, p) = unsafe { (&mut *ctx.vm, &mut *ctx.prog) };
    p.regs.pc = pc as usize;
    p.regs.fp = ctx.fp;
    let ml: Ptr = p.regs.ml;
    ctx.budget -= 1;
    match interp::run(vm, p, 1) {
        Status::Yield => {
            if p.regs.pc == pc as usize + 1 && p.regs.fp == ctx.fp && p.regs.ml == ml {
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
