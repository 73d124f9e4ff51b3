//! The interpreter's fast path.
//!
//! At load time every instruction gets an interpreter form, an [`XInst`]:
//! its handler, chosen for the opcode *and* the addressing modes of its
//! operands, with the operands' offsets and immediates unpacked beside it.
//! The handlers of the common combinations are generic over the modes, so
//! each compiles to straight-line loads and stores from the frame or module
//! data; `call`, `ret`, `frame` and a few more have hand-written ones, and
//! everything else runs the general [`step`](super::step).
//!
//! The loop calls one handler per instruction; a handler returns the next
//! instruction, or null when the thread stops or an exception is raised
//! (then `St::out` says which). Handlers are separate small functions, so
//! that each is compiled on its own and the loop keeps its few registers.

use std::cell::Cell;

use dis::Opcode as O;

use super::check::Mem;
use super::{elem_fits, exc, list_head, of_kind, raise, round, sh, slow, Cpu, Status};
use crate::heap::{load_ptr, Ptr};
use crate::mem::Addr;
use crate::module::{Mode, Module, Opnd};
use crate::prog::Prog;
use crate::shadow::Access;
use crate::stack::{frame_type, reg, REG_FP, REG_LR, REG_MR};
use crate::types::Type;
use crate::{array, chan, list, string, Vm};
use crate::{EX_BOUNDS, EX_FRAME, EX_NILREF, EX_PC, EX_ZDIV};

/// Operand kinds, the const parameters of the fast handlers: none (the
/// middle operand absent: the destination stands for it), immediate,
/// `n(fp)`, `n(mp)`, `n(m(fp))` and `n(m(mp))`.
mod k {
    pub const N: u8 = 0;
    pub const I: u8 = 1;
    pub const F: u8 = 2;
    pub const M: u8 = 3;
    pub const X: u8 = 4;
    pub const Y: u8 = 5;
}

fn kind(o: &Opnd) -> u8 {
    match o.mode {
        Mode::None => k::N,
        Mode::Imm => k::I,
        Mode::Fp => k::F,
        Mode::Mp => k::M,
        Mode::IndFp => k::X,
        Mode::IndMp => k::Y,
    }
}

/// A handler: runs the instruction at `ip` and returns the next one, or
/// null when the loop must look at `St::out`.
pub(crate) type Handler = for<'a, 'b> fn(&'b mut St<'a>, *const XInst) -> *const XInst;

/// The interpreter's form of an instruction. For an immediate the operand's
/// first field is its value; for `n(fp)` and `n(mp)` it is `n`; for the
/// indirect modes the first field is the pointer's offset and the second
/// the offset inside the object; a branch target is a pc. `aux` holds what a
/// handler would otherwise look up: a type, a callee's frame extent.
#[derive(Clone, Copy)]
#[repr(C)]
pub(crate) struct XInst {
    h: Handler,
    x: XOp,
    s: i32,
    s2: i32,
    m: i32,
    d: i32,
    d2: i32,
    aux: u64,
}

/// Why a handler returned null.
pub(crate) enum Out {
    /// The instruction at this address raised this exception.
    Raise(&'static str, *const XInst),
    /// The thread stopped; `cpu` holds its registers.
    Stop(Status),
}

/// The running thread, as the handlers see it: the registers they use, and
/// the general path's [`Cpu`], which is current only outside handlers.
pub(crate) struct St<'a> {
    fp: *mut u8,
    mp: *mut u8,
    /// The running module's interpreter code and the length of its code
    /// (one less than the interpreter code's).
    code: *const XInst,
    len: usize,
    /// Where in the running module compiled code may be entered, one entry
    /// a pc and one past the end (`native::Code::stops`), or null: where
    /// the interpreter stops in mixed mode.
    stops: *const Cell<bool>,
    vm: &'a mut Vm,
    p: &'a mut Prog,
    cpu: Cpu,
    out: Option<Out>,
}

impl<'a> St<'a> {
    /// The pc of instruction `ip`.
    #[inline(always)]
    fn pc_of(&self, ip: *const XInst) -> usize {
        (ip as usize - self.code as usize) / std::mem::size_of::<XInst>()
    }

    /// The instruction at `pc`, which must be at most the code's length.
    #[inline(always)]
    fn at_pc(&self, pc: usize) -> *const XInst {
        debug_assert!(pc <= self.len);
        // SAFETY: the interpreter code has len + 1 instructions.
        unsafe { self.code.add(pc) }
    }

    /// What checks of computed addresses consult.
    #[inline(always)]
    fn mem(&self) -> Mem<'_> {
        Mem { shadow: &self.vm.heap.shadow, stack: &self.p.stack, module: self.cpu.module() }
    }

    /// Makes `cpu` current, with `ip` the next instruction.
    #[inline(always)]
    fn store(&mut self, ip: *const XInst) {
        self.cpu.pc = self.pc_of(ip);
        self.cpu.fp = self.fp;
    }

    /// Takes the registers back from `cpu`; returns the next instruction.
    /// A pc past the end of the code becomes the end, where `BadPc` waits.
    fn reload(&mut self) -> *const XInst {
        (self.code, self.len) = self.cpu.xcode();
        let stops = self.cpu.module().native.as_deref().map(|c| c.stops());
        self.stops = stops.filter(|s| s.len() > self.len).map_or(std::ptr::null(), |s| s.as_ptr());
        self.fp = self.cpu.fp;
        self.mp = self.cpu.mp;
        self.at_pc(self.cpu.pc.min(self.len))
    }

    #[cold]
    #[inline(never)]
    fn raise(&mut self, ip: *const XInst, e: &'static str) -> *const XInst {
        self.out = Some(Out::Raise(e, ip));
        std::ptr::null()
    }

    /// Stops the thread with `s`, `ip` being the next instruction.
    #[cold]
    fn stop(&mut self, ip: *const XInst, s: Status) -> *const XInst {
        self.store(ip);
        self.out = Some(Out::Stop(s));
        std::ptr::null()
    }
}

/// A fast handler body's outcome: an exception's message on failure.
type Res<T = ()> = Result<T, &'static str>;

/// The instruction after `ip`, or the exception `r` failed with.
#[inline(always)]
fn next(st: &mut St, ip: *const XInst, r: Res) -> *const XInst {
    match r {
        // SAFETY: every instruction but the last (BadPc, which never
        // completes) has one after it.
        Ok(()) => unsafe { ip.add(1) },
        Err(e) => st.raise(ip, e),
    }
}

/// The address of a non-immediate operand of kind `K`, for an access of
/// `size` bytes (0: only the address is wanted, as `lea` wants it).
///
/// The loader checked `n(fp)` and `n(mp)` offsets (and the pointer slots of
/// the indirect modes) against the frame extent, which every call checks,
/// and the module data size; what an indirect operand reaches is checked
/// here, for nil and then for the access.
#[inline(always)]
fn ea<const K: u8>(st: &St, a: i32, b: i32, size: usize, acc: Access) -> Res<*mut u8> {
    // SAFETY: as above, the direct operands lie inside the frame or module
    // data, and so does the pointer slot of an indirect one.
    unsafe {
        match K {
            k::F => Ok(st.fp.add(a as usize)),
            k::M => Ok(st.mp.add(a as usize)),
            k::X | k::Y => {
                let base = if K == k::X { st.fp } else { st.mp };
                let p = load_ptr(base.add(a as usize));
                if p.is_null() {
                    return Err(EX_NILREF);
                }
                let p = p.wrapping_add(b as i64 as usize);
                if size == 0 {
                    Ok(p)
                } else {
                    st.mem().check(p, size, acc).map(|a| a.ptr())
                }
            }
            _ => unreachable!("no address for operand kind {K}"),
        }
    }
}

#[inline(always)]
fn at<const K: u8>(st: &St, a: i32, b: i32, size: usize, acc: Access) -> Res<Addr> {
    // SAFETY: ea gives addresses valid for the access.
    ea::<K>(st, a, b, size, acc).map(|p| unsafe { Addr::new(p) })
}

/// Operand values of each width; an immediate is its value, read as the
/// general path reads the immediate's 8-byte cell.
#[inline(always)]
fn gw<const K: u8>(st: &St, a: i32, b: i32) -> Res<i64> {
    if K == k::I {
        Ok(a as i64)
    } else {
        Ok(at::<K>(st, a, b, 8, Access::Read)?.w())
    }
}

#[inline(always)]
fn gb<const K: u8>(st: &St, a: i32, b: i32) -> Res<u8> {
    if K == k::I {
        Ok(a as u8)
    } else {
        Ok(at::<K>(st, a, b, 1, Access::Read)?.b())
    }
}

#[inline(always)]
fn gf<const K: u8>(st: &St, a: i32, b: i32) -> Res<f64> {
    if K == k::I {
        Ok(f64::from_bits(a as i64 as u64))
    } else {
        Ok(at::<K>(st, a, b, 8, Access::Read)?.f())
    }
}

#[inline(always)]
fn gp<const K: u8>(st: &St, a: i32, b: i32) -> Res<Ptr> {
    if K == k::I {
        Ok(a as i64 as Ptr)
    } else {
        Ok(at::<K>(st, a, b, 8, Access::Ptr)?.raw_p())
    }
}

/// Destinations of each width.
#[inline(always)]
fn set_w<const K: u8>(st: &St, a: i32, b: i32, v: i64) -> Res {
    at::<K>(st, a, b, 8, Access::Write)?.set_w(v);
    Ok(())
}

#[inline(always)]
fn set_b<const K: u8>(st: &St, a: i32, b: i32, v: u8) -> Res {
    at::<K>(st, a, b, 1, Access::Write)?.set_b(v);
    Ok(())
}

#[inline(always)]
fn set_f<const K: u8>(st: &St, a: i32, b: i32, v: f64) -> Res {
    at::<K>(st, a, b, 8, Access::Write)?.set_f(v);
    Ok(())
}

/// A pointer destination.
#[inline(always)]
fn pd<const K: u8>(st: &St, a: i32, b: i32) -> Res<Addr> {
    at::<K>(st, a, b, 8, Access::Ptr)
}

/// The middle operand's value, or the destination's when it is absent.
macro_rules! mid {
    ($g:ident, $st:expr, $i:expr, $M:ident, $D:ident) => {
        if $M == k::N {
            $g::<$D>($st, $i.d, $i.d2)?
        } else {
            $g::<$M>($st, $i.m, 0)?
        }
    };
}

/// Defines handlers from bodies over `st` and the instruction `i`.
macro_rules! handlers {
    ($($name:ident($st:ident, $i:ident) $body:block)*) => {$(
        fn $name<const S: u8, const M: u8, const D: u8>($st: &mut St, ip: *const XInst) -> *const XInst {
            // SAFETY: handlers run instructions of the running module's code.
            let $i = unsafe { &*ip };
            let r = (|| -> Res { $body })();
            next($st, ip, r)
        }
    )*};
}

/// Three-operand arithmetic: `dst = mid OP src`.
macro_rules! fast_arith {
    ($($name:ident: $g:ident $set:ident |$a:ident, $b:ident| $e:expr;)*) => {
        handlers! {$(
            $name(st, i) {
                let $b = $g::<S>(st, i.s, i.s2)?;
                let $a = mid!($g, st, i, M, D);
                $set::<D>(st, i.d, i.d2, $e)?;
                Ok(())
            }
        )*}
    };
}

fast_arith! {
    addw: gw set_w |a, b| a.wrapping_add(b);
    subw: gw set_w |a, b| a.wrapping_sub(b);
    mulw: gw set_w |a, b| a.wrapping_mul(b);
    andw: gw set_w |a, b| a & b;
    orw: gw set_w |a, b| a | b;
    xorw: gw set_w |a, b| a ^ b;
    shlw: gw set_w |a, b| a.wrapping_shl(sh(b));
    shrw: gw set_w |a, b| a >> sh(b);
    lsrw: gw set_w |a, b| ((a as u64) >> sh(b)) as i64;
    addb: gb set_b |a, b| a.wrapping_add(b);
    subb: gb set_b |a, b| a.wrapping_sub(b);
    mulb: gb set_b |a, b| a.wrapping_mul(b);
    andb: gb set_b |a, b| a & b;
    orb: gb set_b |a, b| a | b;
    xorb: gb set_b |a, b| a ^ b;
    addf: gf set_f |a, b| a + b;
    subf: gf set_f |a, b| a - b;
    mulf: gf set_f |a, b| a * b;
    divf: gf set_f |a, b| a / b;
}

/// Word division and remainder, which check for a zero divisor.
macro_rules! fast_div {
    ($($name:ident: $f:ident;)*) => {
        handlers! {$(
            $name(st, i) {
                let b = gw::<S>(st, i.s, i.s2)?;
                let a = mid!(gw, st, i, M, D);
                if b == 0 {
                    return Err(EX_ZDIV);
                }
                set_w::<D>(st, i.d, i.d2, a.$f(b))?;
                Ok(())
            }
        )*}
    };
}

fast_div! {
    divw: wrapping_div;
    modw: wrapping_rem;
}

/// Moves and conversions: `dst = f(src)`.
macro_rules! fast_move {
    ($($name:ident: $g:ident $set:ident |$v:ident| $e:expr;)*) => {
        handlers! {$(
            $name(st, i) {
                let $v = $g::<S>(st, i.s, i.s2)?;
                $set::<D>(st, i.d, i.d2, $e)?;
                Ok(())
            }
        )*}
    };
}

fast_move! {
    movw: gw set_w |v| v;
    movb: gb set_b |v| v;
    movf: gf set_f |v| v;
    cvtwf: gw set_f |v| v as f64;
    cvtfw: gf set_w |v| round(v);
    cvtbw: gb set_w |v| v as i64;
    cvtwb: gw set_b |v| v as u8;
    cvtlf: gw set_f |v| v as f64;
    cvtfl: gf set_w |v| round(v);
    cvtwl: gw set_w |v| v;
    cvtlw: gw set_w |v| v;
    negf: gf set_f |v| -v;
    movpc: gw set_w |v| v;
    lena: gp set_w |v| array::len(of_kind(v, &array::ARRAY)?) as i64;
    lenc: gp set_w |v| string::len(of_kind(v, &string::STRING)?) as i64;
}

/// Conditional branches: to the destination's pc when `src OP mid`.
macro_rules! fast_branch {
    ($($name:ident: $g:ident $op:tt;)*) => {$(
        fn $name<const S: u8, const M: u8, const D: u8>(st: &mut St, ip: *const XInst) -> *const XInst {
            // SAFETY: handlers run instructions of the running module's code.
            let i = unsafe { &*ip };
            let taken = (|| -> Res<bool> { Ok($g::<S>(st, i.s, i.s2)? $op $g::<M>(st, i.m, 0)?) })();
            match taken {
                // translate checked the target.
                Ok(true) => st.at_pc(i.d as usize),
                // SAFETY: as in next.
                Ok(false) => unsafe { ip.add(1) },
                Err(e) => st.raise(ip, e),
            }
        }
    )*};
}

fast_branch! {
    beqw: gw ==; bnew: gw !=; bltw: gw <; blew: gw <=; bgtw: gw >; bgew: gw >=;
    beqb: gb ==; bneb: gb !=; bltb: gb <; bleb: gb <=; bgtb: gb >; bgeb: gb >=;
    beqf: gf ==; bnef: gf !=; bltf: gf <; blef: gf <=; bgtf: gf >; bgef: gf >=;
}

handlers! {
    movp(st, i) {
        let v = gp::<S>(st, i.s, i.s2)?;
        let d = pd::<D>(st, i.d, i.d2)?;
        d.copy_p(&mut st.vm.heap, v);
        Ok(())
    }

    lea(st, i) {
        let a = ea::<S>(st, i.s, i.s2, 0, Access::Read)?;
        set_w::<D>(st, i.d, i.d2, a as i64)?;
        Ok(())
    }

    // `indx` and its kin: the address of element `dst` of array `src` into `mid`.
    ind(st, i) {
        let a = of_kind(gp::<S>(st, i.s, i.s2)?, &array::ARRAY)?;
        let k = gw::<D>(st, i.d, i.d2)?;
        if k < 0 || k as usize >= array::len(a) || !elem_fits(i.aux as usize, array::elem_type(a).size) {
            return Err(EX_BOUNDS);
        }
        set_w::<M>(st, i.m, 0, array::elem(a, k as usize).ptr() as i64)?;
        Ok(())
    }

    indc(st, i) {
        let s = of_kind(gp::<S>(st, i.s, i.s2)?, &string::STRING)?;
        if s.is_null() {
            return Err(EX_NILREF);
        }
        let k = gw::<M>(st, i.m, 0)?;
        if k < 0 || k as usize >= string::len(s) {
            return Err(EX_BOUNDS);
        }
        set_w::<D>(st, i.d, i.d2, string::rune(s, k as usize) as i64)?;
        Ok(())
    }

    tail(st, i) {
        let l = of_kind(gp::<S>(st, i.s, i.s2)?, &list::LIST)?;
        if l.is_null() {
            return Err(EX_NILREF);
        }
        let d = pd::<D>(st, i.d, i.d2)?;
        d.copy_p(&mut st.vm.heap, list::tail(l));
        Ok(())
    }

    headp(st, i) {
        let l = of_kind(gp::<S>(st, i.s, i.s2)?, &list::LIST)?;
        if l.is_null() {
            return Err(EX_NILREF);
        }
        let d = pd::<D>(st, i.d, i.d2)?;
        d.copy_p(&mut st.vm.heap, list_head(l, 8, true)?.p());
        Ok(())
    }

    headw(st, i) {
        let l = of_kind(gp::<S>(st, i.s, i.s2)?, &list::LIST)?;
        if l.is_null() {
            return Err(EX_NILREF);
        }
        set_w::<D>(st, i.d, i.d2, list_head(l, 8, false)?.w())?;
        Ok(())
    }
}

/// Anything without a fast handler: the general path.
fn h_slow(st: &mut St, ip: *const XInst) -> *const XInst {
    // SAFETY: as in next.
    st.store(unsafe { ip.add(1) });
    if let Some(s) = slow(st.vm, st.p, &mut st.cpu) {
        st.out = Some(Out::Stop(s));
        return std::ptr::null();
    }
    st.reload()
}

/// The end of the code.
fn h_badpc(st: &mut St, ip: *const XInst) -> *const XInst {
    st.raise(ip, EX_PC)
}

fn h_jmp(st: &mut St, ip: *const XInst) -> *const XInst {
    // SAFETY: handlers run instructions of the running module's code;
    // translate checked the target.
    st.at_pc(unsafe { (*ip).d } as usize)
}

/// `frame $t, n(fp)`.
fn h_frame(st: &mut St, ip: *const XInst) -> *const XInst {
    // SAFETY: as in h_jmp; translate stored a module type in aux, and the
    // destination is a frame operand the loader checked.
    unsafe {
        let i = &*ip;
        let f = st.p.stack.alloc(&*(i.aux as *const Type));
        Addr::new(st.fp.add(i.d as usize)).set_w(f.ptr() as i64);
        ip.add(1)
    }
}

/// `new $t, n(fp)`.
fn h_new(st: &mut St, ip: *const XInst) -> *const XInst {
    // SAFETY: as in h_frame.
    unsafe {
        let i = &*ip;
        let o = st.vm.heap.alloc(&*(i.aux as *const Type), 0);
        Addr::new(st.fp.add(i.d as usize)).put_p(&mut st.vm.heap, o);
        ip.add(1)
    }
}

/// `call n(fp), $pc`: the frame must be the thread's newest, and as large
/// as the callee's operands reach (aux, `u32::MAX` if pc is no entry).
fn h_call(st: &mut St, ip: *const XInst) -> *const XInst {
    // SAFETY: as in h_frame.
    let i = unsafe { &*ip };
    // SAFETY: a frame operand the loader checked.
    let fv = unsafe { Addr::new(st.fp.add(i.s as usize)) }.w() as usize;
    let top = st.p.stack.top_addr();
    if top == 0 || fv != top {
        return st.raise(ip, EX_FRAME);
    }
    // SAFETY: top is the newest live frame.
    let f = unsafe { Addr::new(top as *mut u8) };
    let (t, want) = (frame_type(f), i.aux as *const Type);
    // SAFETY: translate stored the callee's frame type (`Module::entry_type`)
    // or null in aux.
    if !std::ptr::eq(t, want) && !unsafe { want.as_ref() }.is_some_and(|w| w.same_layout(t)) {
        return st.raise(ip, EX_FRAME);
    }
    reg(f, REG_LR).set_w(st.pc_of(ip) as i64 + 1);
    reg(f, REG_FP).set_raw_p(st.fp);
    st.fp = f.ptr();
    st.at_pc(i.d as usize)
}

fn h_ret(st: &mut St, ip: *const XInst) -> *const XInst {
    // SAFETY: fp is the running frame.
    let f = unsafe { Addr::new(st.fp) };
    let caller = reg(f, REG_FP).raw_p();
    if caller.is_null() {
        // SAFETY: as in next.
        return st.stop(unsafe { ip.add(1) }, Status::Exit);
    }
    let lr = reg(f, REG_LR).w() as usize;
    let mr = reg(f, REG_MR).raw_p();
    let heap = &mut st.vm.heap;
    if !st.p.stack.pop(heap, f) {
        // Frames above the returning one (allocated and never called) go
        // with it.
        st.p.stack.free_from(heap, f);
    }
    st.fp = caller;
    if !mr.is_null() {
        let old = st.cpu.ml;
        st.cpu.enter(mr);
        st.vm.heap.dec(old);
        (st.code, st.len) = st.cpu.xcode();
        st.mp = st.cpu.mp;
    }
    // The return pc is frame memory the program could have written.
    st.at_pc(lr.min(st.len))
}

/// `send` and `recv` between frame operands.
fn h_send(st: &mut St, ip: *const XInst) -> *const XInst {
    chan_op(st, ip, true)
}

fn h_recv(st: &mut St, ip: *const XInst) -> *const XInst {
    chan_op(st, ip, false)
}

#[inline(always)]
fn chan_op(st: &mut St, ip: *const XInst, send: bool) -> *const XInst {
    // SAFETY: as in h_frame; both operands are frame operands the loader
    // checked.
    let (s, d) = unsafe {
        let i = &*ip;
        (Addr::new(st.fp.add(i.s as usize)), Addr::new(st.fp.add(i.d as usize)))
    };
    let (c, v) = if send { (d.p(), s) } else { (s.p(), d) };
    // The value must fit the frame and match its pointer map.
    let checked = match chan::elem_type(c) {
        Ok(t) => st.mem().check_typed(v.ptr(), t, !send),
        Err(_) => Err(EX_NILREF),
    };
    let v = match checked {
        Ok(v) => v,
        Err(e) => return st.raise(ip, e),
    };
    let done = if send { chan::send(st.vm, st.p, c, v) } else { chan::recv(st.vm, st.p, c, v) };
    match done {
        // SAFETY: as in next.
        Ok(true) => unsafe { ip.add(1) },
        // SAFETY: as in next.
        Ok(false) => st.stop(unsafe { ip.add(1) }, Status::Blocked),
        // Their only exception: a nil channel.
        Err(_) => st.raise(ip, EX_NILREF),
    }
}

/// Runs thread `p` for at most `budget` instructions.
pub(crate) fn run(vm: &mut Vm, p: &mut Prog, budget: u32) -> Status {
    run_until::<false>(vm, p, budget).0
}

/// Runs thread `p` for at most `budget` instructions, or `STOPS` until the
/// next instruction is one where compiled code may be entered (after the
/// first); returns how it stopped and how many instructions ran.
pub(crate) fn run_until<const STOPS: bool>(vm: &mut Vm, p: &mut Prog, budget: u32) -> (Status, u32) {
    let mut cpu =
        Cpu { pc: p.regs.pc, fp: p.regs.fp, mp: std::ptr::null_mut(), ml: p.regs.ml, m: std::ptr::null() };
    cpu.enter(p.regs.ml);
    super::resume_alt(p);
    let mut st = St {
        fp: cpu.fp,
        mp: cpu.mp,
        code: std::ptr::null(),
        len: 0,
        stops: std::ptr::null(),
        vm,
        p,
        cpu,
        out: None,
    };
    let mut ip = st.reload();
    let mut left = budget;
    let status = loop {
        if left == 0 {
            st.store(ip);
            break Status::Yield;
        }
        // `reload` made sure `stops` has an entry for every pc up to the code's length.
        // SAFETY: `ip` is an instruction of the code, so its pc has an entry.
        if STOPS && !st.stops.is_null() && unsafe { (*st.stops.add(st.pc_of(ip))).get() } && left != budget {
            st.store(ip);
            break Status::Yield;
        }
        left -= 1;
        // SAFETY: ip is an instruction of the running module's code.
        ip = unsafe { ((*ip).h)(&mut st, ip) };
        if ip.is_null() {
            match st.out.take() {
                Some(Out::Raise(e, at)) => {
                    st.store(at);
                    match raise(st.vm, st.p, &mut st.cpu, exc(e)) {
                        Ok(()) => ip = st.reload(),
                        Err(s) => break s,
                    }
                }
                Some(Out::Stop(s)) => break s,
                None => unreachable!("a handler returned null without saying why"),
            }
        }
    };
    let cpu = &st.cpu;
    st.p.regs.pc = cpu.pc;
    st.p.regs.fp = cpu.fp;
    st.p.regs.ml = cpu.ml;
    (status, budget - left)
}

/// Calls back `$cb!` with the table of fast instructions: a name, the
/// handler, the opcodes it implements and the operand kinds (source,
/// middle, destination) it is compiled for.
macro_rules! fast_table {
    ($cb:ident! { $($pre:tt)* }) => { $cb! { { $($pre)* }
    AddwINF: addw [Addw Addl] (I N F);
    AddwFNF: addw [Addw Addl] (F N F);
    AddwMNF: addw [Addw Addl] (M N F);
    AddwXNF: addw [Addw Addl] (X N F);
    AddwIFF: addw [Addw Addl] (I F F);
    AddwFFF: addw [Addw Addl] (F F F);
    AddwMFF: addw [Addw Addl] (M F F);
    AddwXFF: addw [Addw Addl] (X F F);
    AddwFMF: addw [Addw Addl] (F M F);
    AddwIMF: addw [Addw Addl] (I M F);
    AddwINX: addw [Addw Addl] (I N X);
    AddwFNX: addw [Addw Addl] (F N X);
    AddwIFX: addw [Addw Addl] (I F X);
    AddwFFX: addw [Addw Addl] (F F X);
    AddwXNX: addw [Addw Addl] (X N X);
    AddwINM: addw [Addw Addl] (I N M);
    AddwFNM: addw [Addw Addl] (F N M);
    AddwFFM: addw [Addw Addl] (F F M);
    SubwINF: subw [Subw Subl] (I N F);
    SubwFNF: subw [Subw Subl] (F N F);
    SubwMNF: subw [Subw Subl] (M N F);
    SubwXNF: subw [Subw Subl] (X N F);
    SubwIFF: subw [Subw Subl] (I F F);
    SubwFFF: subw [Subw Subl] (F F F);
    SubwMFF: subw [Subw Subl] (M F F);
    SubwXFF: subw [Subw Subl] (X F F);
    SubwFMF: subw [Subw Subl] (F M F);
    SubwIMF: subw [Subw Subl] (I M F);
    SubwINX: subw [Subw Subl] (I N X);
    SubwFNX: subw [Subw Subl] (F N X);
    SubwIFX: subw [Subw Subl] (I F X);
    SubwFFX: subw [Subw Subl] (F F X);
    SubwXNX: subw [Subw Subl] (X N X);
    SubwINM: subw [Subw Subl] (I N M);
    SubwFNM: subw [Subw Subl] (F N M);
    SubwFFM: subw [Subw Subl] (F F M);
    MulwINF: mulw [Mulw Mull] (I N F);
    MulwFNF: mulw [Mulw Mull] (F N F);
    MulwMNF: mulw [Mulw Mull] (M N F);
    MulwXNF: mulw [Mulw Mull] (X N F);
    MulwIFF: mulw [Mulw Mull] (I F F);
    MulwFFF: mulw [Mulw Mull] (F F F);
    MulwMFF: mulw [Mulw Mull] (M F F);
    MulwXFF: mulw [Mulw Mull] (X F F);
    MulwFMF: mulw [Mulw Mull] (F M F);
    MulwIMF: mulw [Mulw Mull] (I M F);
    MulwINX: mulw [Mulw Mull] (I N X);
    MulwFNX: mulw [Mulw Mull] (F N X);
    MulwIFX: mulw [Mulw Mull] (I F X);
    MulwFFX: mulw [Mulw Mull] (F F X);
    MulwXNX: mulw [Mulw Mull] (X N X);
    MulwINM: mulw [Mulw Mull] (I N M);
    MulwFNM: mulw [Mulw Mull] (F N M);
    MulwFFM: mulw [Mulw Mull] (F F M);
    AndwINF: andw [Andw Andl] (I N F);
    AndwFNF: andw [Andw Andl] (F N F);
    AndwMNF: andw [Andw Andl] (M N F);
    AndwXNF: andw [Andw Andl] (X N F);
    AndwIFF: andw [Andw Andl] (I F F);
    AndwFFF: andw [Andw Andl] (F F F);
    AndwMFF: andw [Andw Andl] (M F F);
    AndwXFF: andw [Andw Andl] (X F F);
    AndwFMF: andw [Andw Andl] (F M F);
    AndwIMF: andw [Andw Andl] (I M F);
    AndwINX: andw [Andw Andl] (I N X);
    AndwFNX: andw [Andw Andl] (F N X);
    AndwIFX: andw [Andw Andl] (I F X);
    AndwFFX: andw [Andw Andl] (F F X);
    AndwXNX: andw [Andw Andl] (X N X);
    AndwINM: andw [Andw Andl] (I N M);
    AndwFNM: andw [Andw Andl] (F N M);
    AndwFFM: andw [Andw Andl] (F F M);
    OrwINF: orw [Orw Orl] (I N F);
    OrwFNF: orw [Orw Orl] (F N F);
    OrwMNF: orw [Orw Orl] (M N F);
    OrwXNF: orw [Orw Orl] (X N F);
    OrwIFF: orw [Orw Orl] (I F F);
    OrwFFF: orw [Orw Orl] (F F F);
    OrwMFF: orw [Orw Orl] (M F F);
    OrwXFF: orw [Orw Orl] (X F F);
    OrwFMF: orw [Orw Orl] (F M F);
    OrwIMF: orw [Orw Orl] (I M F);
    OrwINX: orw [Orw Orl] (I N X);
    OrwFNX: orw [Orw Orl] (F N X);
    OrwIFX: orw [Orw Orl] (I F X);
    OrwFFX: orw [Orw Orl] (F F X);
    OrwXNX: orw [Orw Orl] (X N X);
    OrwINM: orw [Orw Orl] (I N M);
    OrwFNM: orw [Orw Orl] (F N M);
    OrwFFM: orw [Orw Orl] (F F M);
    XorwINF: xorw [Xorw Xorl] (I N F);
    XorwFNF: xorw [Xorw Xorl] (F N F);
    XorwMNF: xorw [Xorw Xorl] (M N F);
    XorwXNF: xorw [Xorw Xorl] (X N F);
    XorwIFF: xorw [Xorw Xorl] (I F F);
    XorwFFF: xorw [Xorw Xorl] (F F F);
    XorwMFF: xorw [Xorw Xorl] (M F F);
    XorwXFF: xorw [Xorw Xorl] (X F F);
    XorwFMF: xorw [Xorw Xorl] (F M F);
    XorwIMF: xorw [Xorw Xorl] (I M F);
    XorwINX: xorw [Xorw Xorl] (I N X);
    XorwFNX: xorw [Xorw Xorl] (F N X);
    XorwIFX: xorw [Xorw Xorl] (I F X);
    XorwFFX: xorw [Xorw Xorl] (F F X);
    XorwXNX: xorw [Xorw Xorl] (X N X);
    XorwINM: xorw [Xorw Xorl] (I N M);
    XorwFNM: xorw [Xorw Xorl] (F N M);
    XorwFFM: xorw [Xorw Xorl] (F F M);
    ShlwINF: shlw [Shlw Shll] (I N F);
    ShlwFNF: shlw [Shlw Shll] (F N F);
    ShlwMNF: shlw [Shlw Shll] (M N F);
    ShlwXNF: shlw [Shlw Shll] (X N F);
    ShlwIFF: shlw [Shlw Shll] (I F F);
    ShlwFFF: shlw [Shlw Shll] (F F F);
    ShlwMFF: shlw [Shlw Shll] (M F F);
    ShlwXFF: shlw [Shlw Shll] (X F F);
    ShlwFMF: shlw [Shlw Shll] (F M F);
    ShlwIMF: shlw [Shlw Shll] (I M F);
    ShlwINX: shlw [Shlw Shll] (I N X);
    ShlwFNX: shlw [Shlw Shll] (F N X);
    ShlwIFX: shlw [Shlw Shll] (I F X);
    ShlwFFX: shlw [Shlw Shll] (F F X);
    ShlwXNX: shlw [Shlw Shll] (X N X);
    ShlwINM: shlw [Shlw Shll] (I N M);
    ShlwFNM: shlw [Shlw Shll] (F N M);
    ShlwFFM: shlw [Shlw Shll] (F F M);
    ShrwINF: shrw [Shrw Shrl] (I N F);
    ShrwFNF: shrw [Shrw Shrl] (F N F);
    ShrwMNF: shrw [Shrw Shrl] (M N F);
    ShrwXNF: shrw [Shrw Shrl] (X N F);
    ShrwIFF: shrw [Shrw Shrl] (I F F);
    ShrwFFF: shrw [Shrw Shrl] (F F F);
    ShrwMFF: shrw [Shrw Shrl] (M F F);
    ShrwXFF: shrw [Shrw Shrl] (X F F);
    ShrwFMF: shrw [Shrw Shrl] (F M F);
    ShrwIMF: shrw [Shrw Shrl] (I M F);
    ShrwINX: shrw [Shrw Shrl] (I N X);
    ShrwFNX: shrw [Shrw Shrl] (F N X);
    ShrwIFX: shrw [Shrw Shrl] (I F X);
    ShrwFFX: shrw [Shrw Shrl] (F F X);
    ShrwXNX: shrw [Shrw Shrl] (X N X);
    ShrwINM: shrw [Shrw Shrl] (I N M);
    ShrwFNM: shrw [Shrw Shrl] (F N M);
    ShrwFFM: shrw [Shrw Shrl] (F F M);
    LsrwINF: lsrw [Lsrw Lsrl] (I N F);
    LsrwFNF: lsrw [Lsrw Lsrl] (F N F);
    LsrwMNF: lsrw [Lsrw Lsrl] (M N F);
    LsrwXNF: lsrw [Lsrw Lsrl] (X N F);
    LsrwIFF: lsrw [Lsrw Lsrl] (I F F);
    LsrwFFF: lsrw [Lsrw Lsrl] (F F F);
    LsrwMFF: lsrw [Lsrw Lsrl] (M F F);
    LsrwXFF: lsrw [Lsrw Lsrl] (X F F);
    LsrwFMF: lsrw [Lsrw Lsrl] (F M F);
    LsrwIMF: lsrw [Lsrw Lsrl] (I M F);
    LsrwINX: lsrw [Lsrw Lsrl] (I N X);
    LsrwFNX: lsrw [Lsrw Lsrl] (F N X);
    LsrwIFX: lsrw [Lsrw Lsrl] (I F X);
    LsrwFFX: lsrw [Lsrw Lsrl] (F F X);
    LsrwXNX: lsrw [Lsrw Lsrl] (X N X);
    LsrwINM: lsrw [Lsrw Lsrl] (I N M);
    LsrwFNM: lsrw [Lsrw Lsrl] (F N M);
    LsrwFFM: lsrw [Lsrw Lsrl] (F F M);
    DivwINF: divw [Divw Divl] (I N F);
    DivwFNF: divw [Divw Divl] (F N F);
    DivwIFF: divw [Divw Divl] (I F F);
    DivwFFF: divw [Divw Divl] (F F F);
    DivwMFF: divw [Divw Divl] (M F F);
    DivwXFF: divw [Divw Divl] (X F F);
    DivwFMF: divw [Divw Divl] (F M F);
    DivwIMF: divw [Divw Divl] (I M F);
    DivwFNX: divw [Divw Divl] (F N X);
    DivwIFX: divw [Divw Divl] (I F X);
    DivwFFX: divw [Divw Divl] (F F X);
    ModwINF: modw [Modw Modl] (I N F);
    ModwFNF: modw [Modw Modl] (F N F);
    ModwIFF: modw [Modw Modl] (I F F);
    ModwFFF: modw [Modw Modl] (F F F);
    ModwMFF: modw [Modw Modl] (M F F);
    ModwXFF: modw [Modw Modl] (X F F);
    ModwFMF: modw [Modw Modl] (F M F);
    ModwIMF: modw [Modw Modl] (I M F);
    ModwFNX: modw [Modw Modl] (F N X);
    ModwIFX: modw [Modw Modl] (I F X);
    ModwFFX: modw [Modw Modl] (F F X);
    AddbINF: addb [Addb] (I N F);
    AddbFNF: addb [Addb] (F N F);
    AddbFFF: addb [Addb] (F F F);
    AddbIFF: addb [Addb] (I F F);
    AddbXNF: addb [Addb] (X N F);
    AddbFNX: addb [Addb] (F N X);
    SubbINF: subb [Subb] (I N F);
    SubbFNF: subb [Subb] (F N F);
    SubbFFF: subb [Subb] (F F F);
    SubbIFF: subb [Subb] (I F F);
    SubbXNF: subb [Subb] (X N F);
    SubbFNX: subb [Subb] (F N X);
    MulbINF: mulb [Mulb] (I N F);
    MulbFNF: mulb [Mulb] (F N F);
    MulbFFF: mulb [Mulb] (F F F);
    MulbIFF: mulb [Mulb] (I F F);
    MulbXNF: mulb [Mulb] (X N F);
    MulbFNX: mulb [Mulb] (F N X);
    AndbINF: andb [Andb] (I N F);
    AndbFNF: andb [Andb] (F N F);
    AndbFFF: andb [Andb] (F F F);
    AndbIFF: andb [Andb] (I F F);
    AndbXNF: andb [Andb] (X N F);
    AndbFNX: andb [Andb] (F N X);
    OrbINF: orb [Orb] (I N F);
    OrbFNF: orb [Orb] (F N F);
    OrbFFF: orb [Orb] (F F F);
    OrbIFF: orb [Orb] (I F F);
    OrbXNF: orb [Orb] (X N F);
    OrbFNX: orb [Orb] (F N X);
    XorbINF: xorb [Xorb] (I N F);
    XorbFNF: xorb [Xorb] (F N F);
    XorbFFF: xorb [Xorb] (F F F);
    XorbIFF: xorb [Xorb] (I F F);
    XorbXNF: xorb [Xorb] (X N F);
    XorbFNX: xorb [Xorb] (F N X);
    AddfFNF: addf [Addf] (F N F);
    AddfFFF: addf [Addf] (F F F);
    AddfMFF: addf [Addf] (M F F);
    AddfFMF: addf [Addf] (F M F);
    AddfXFF: addf [Addf] (X F F);
    AddfXNF: addf [Addf] (X N F);
    AddfFNX: addf [Addf] (F N X);
    AddfFFX: addf [Addf] (F F X);
    AddfMNF: addf [Addf] (M N F);
    AddfXXF: addf [Addf] (X X F);
    AddfFXF: addf [Addf] (F X F);
    AddfXNX: addf [Addf] (X N X);
    AddfXFX: addf [Addf] (X F X);
    AddfMFX: addf [Addf] (M F X);
    AddfFMX: addf [Addf] (F M X);
    SubfFNF: subf [Subf] (F N F);
    SubfFFF: subf [Subf] (F F F);
    SubfMFF: subf [Subf] (M F F);
    SubfFMF: subf [Subf] (F M F);
    SubfXFF: subf [Subf] (X F F);
    SubfXNF: subf [Subf] (X N F);
    SubfFNX: subf [Subf] (F N X);
    SubfFFX: subf [Subf] (F F X);
    SubfMNF: subf [Subf] (M N F);
    SubfXXF: subf [Subf] (X X F);
    SubfFXF: subf [Subf] (F X F);
    SubfXNX: subf [Subf] (X N X);
    SubfXFX: subf [Subf] (X F X);
    SubfMFX: subf [Subf] (M F X);
    SubfFMX: subf [Subf] (F M X);
    MulfFNF: mulf [Mulf] (F N F);
    MulfFFF: mulf [Mulf] (F F F);
    MulfMFF: mulf [Mulf] (M F F);
    MulfFMF: mulf [Mulf] (F M F);
    MulfXFF: mulf [Mulf] (X F F);
    MulfXNF: mulf [Mulf] (X N F);
    MulfFNX: mulf [Mulf] (F N X);
    MulfFFX: mulf [Mulf] (F F X);
    MulfMNF: mulf [Mulf] (M N F);
    MulfXXF: mulf [Mulf] (X X F);
    MulfFXF: mulf [Mulf] (F X F);
    MulfXNX: mulf [Mulf] (X N X);
    MulfXFX: mulf [Mulf] (X F X);
    MulfMFX: mulf [Mulf] (M F X);
    MulfFMX: mulf [Mulf] (F M X);
    DivfFNF: divf [Divf] (F N F);
    DivfFFF: divf [Divf] (F F F);
    DivfMFF: divf [Divf] (M F F);
    DivfFMF: divf [Divf] (F M F);
    DivfXFF: divf [Divf] (X F F);
    DivfXNF: divf [Divf] (X N F);
    DivfFNX: divf [Divf] (F N X);
    DivfFFX: divf [Divf] (F F X);
    DivfMNF: divf [Divf] (M N F);
    DivfXXF: divf [Divf] (X X F);
    DivfFXF: divf [Divf] (F X F);
    DivfXNX: divf [Divf] (X N X);
    DivfXFX: divf [Divf] (X F X);
    DivfMFX: divf [Divf] (M F X);
    DivfFMX: divf [Divf] (F M X);
    MovwINF: movw [Movw Movl] (I N F);
    MovwFNF: movw [Movw Movl] (F N F);
    MovwMNF: movw [Movw Movl] (M N F);
    MovwXNF: movw [Movw Movl] (X N F);
    MovwINX: movw [Movw Movl] (I N X);
    MovwFNX: movw [Movw Movl] (F N X);
    MovwXNX: movw [Movw Movl] (X N X);
    MovwMNX: movw [Movw Movl] (M N X);
    MovwFNM: movw [Movw Movl] (F N M);
    MovwINM: movw [Movw Movl] (I N M);
    MovwXNM: movw [Movw Movl] (X N M);
    MovbINF: movb [Movb] (I N F);
    MovbFNF: movb [Movb] (F N F);
    MovbMNF: movb [Movb] (M N F);
    MovbXNF: movb [Movb] (X N F);
    MovbINX: movb [Movb] (I N X);
    MovbFNX: movb [Movb] (F N X);
    MovbXNX: movb [Movb] (X N X);
    MovbMNX: movb [Movb] (M N X);
    MovbFNM: movb [Movb] (F N M);
    MovbINM: movb [Movb] (I N M);
    MovbXNM: movb [Movb] (X N M);
    MovfFNF: movf [Movf] (F N F);
    MovfMNF: movf [Movf] (M N F);
    MovfXNF: movf [Movf] (X N F);
    MovfFNX: movf [Movf] (F N X);
    MovfXNX: movf [Movf] (X N X);
    MovfMNX: movf [Movf] (M N X);
    MovfFNM: movf [Movf] (F N M);
    MovpFNF: movp [Movp] (F N F);
    MovpMNF: movp [Movp] (M N F);
    MovpXNF: movp [Movp] (X N F);
    MovpFNX: movp [Movp] (F N X);
    MovpMNX: movp [Movp] (M N X);
    MovpXNX: movp [Movp] (X N X);
    MovpFNM: movp [Movp] (F N M);
    MovpMNM: movp [Movp] (M N M);
    MovpXNM: movp [Movp] (X N M);
    LeaFNF: lea [Lea] (F N F);
    LeaFNX: lea [Lea] (F N X);
    LeaXNX: lea [Lea] (X N X);
    LeaXNF: lea [Lea] (X N F);
    LeaMNF: lea [Lea] (M N F);
    LeaMNX: lea [Lea] (M N X);
    CvtwfFNF: cvtwf [Cvtwf] (F N F);
    CvtwfXNF: cvtwf [Cvtwf] (X N F);
    CvtwfFNX: cvtwf [Cvtwf] (F N X);
    CvtwfMNF: cvtwf [Cvtwf] (M N F);
    CvtwfXNX: cvtwf [Cvtwf] (X N X);
    CvtfwFNF: cvtfw [Cvtfw] (F N F);
    CvtfwXNF: cvtfw [Cvtfw] (X N F);
    CvtfwFNX: cvtfw [Cvtfw] (F N X);
    CvtfwMNF: cvtfw [Cvtfw] (M N F);
    CvtfwXNX: cvtfw [Cvtfw] (X N X);
    CvtbwFNF: cvtbw [Cvtbw] (F N F);
    CvtbwXNF: cvtbw [Cvtbw] (X N F);
    CvtbwFNX: cvtbw [Cvtbw] (F N X);
    CvtbwMNF: cvtbw [Cvtbw] (M N F);
    CvtbwXNX: cvtbw [Cvtbw] (X N X);
    CvtwbFNF: cvtwb [Cvtwb] (F N F);
    CvtwbXNF: cvtwb [Cvtwb] (X N F);
    CvtwbFNX: cvtwb [Cvtwb] (F N X);
    CvtwbMNF: cvtwb [Cvtwb] (M N F);
    CvtwbXNX: cvtwb [Cvtwb] (X N X);
    CvtlfFNF: cvtlf [Cvtlf] (F N F);
    CvtlfXNF: cvtlf [Cvtlf] (X N F);
    CvtlfFNX: cvtlf [Cvtlf] (F N X);
    CvtlfMNF: cvtlf [Cvtlf] (M N F);
    CvtlfXNX: cvtlf [Cvtlf] (X N X);
    CvtflFNF: cvtfl [Cvtfl] (F N F);
    CvtflXNF: cvtfl [Cvtfl] (X N F);
    CvtflFNX: cvtfl [Cvtfl] (F N X);
    CvtflMNF: cvtfl [Cvtfl] (M N F);
    CvtflXNX: cvtfl [Cvtfl] (X N X);
    CvtwlFNF: cvtwl [Cvtwl] (F N F);
    CvtwlXNF: cvtwl [Cvtwl] (X N F);
    CvtwlFNX: cvtwl [Cvtwl] (F N X);
    CvtwlMNF: cvtwl [Cvtwl] (M N F);
    CvtwlXNX: cvtwl [Cvtwl] (X N X);
    CvtlwFNF: cvtlw [Cvtlw] (F N F);
    CvtlwXNF: cvtlw [Cvtlw] (X N F);
    CvtlwFNX: cvtlw [Cvtlw] (F N X);
    CvtlwMNF: cvtlw [Cvtlw] (M N F);
    CvtlwXNX: cvtlw [Cvtlw] (X N X);
    NegfFNF: negf [Negf] (F N F);
    NegfXNF: negf [Negf] (X N F);
    NegfFNX: negf [Negf] (F N X);
    NegfMNF: negf [Negf] (M N F);
    NegfXNX: negf [Negf] (X N X);
    BeqwIFI: beqw [Beqw Beql] (I F I);
    BeqwFFI: beqw [Beqw Beql] (F F I);
    BeqwFII: beqw [Beqw Beql] (F I I);
    BeqwFMI: beqw [Beqw Beql] (F M I);
    BeqwMFI: beqw [Beqw Beql] (M F I);
    BeqwXFI: beqw [Beqw Beql] (X F I);
    BeqwXII: beqw [Beqw Beql] (X I I);
    BeqwXMI: beqw [Beqw Beql] (X M I);
    BeqwMII: beqw [Beqw Beql] (M I I);
    BeqwMMI: beqw [Beqw Beql] (M M I);
    BeqwIMI: beqw [Beqw Beql] (I M I);
    BnewIFI: bnew [Bnew Bnel] (I F I);
    BnewFFI: bnew [Bnew Bnel] (F F I);
    BnewFII: bnew [Bnew Bnel] (F I I);
    BnewFMI: bnew [Bnew Bnel] (F M I);
    BnewMFI: bnew [Bnew Bnel] (M F I);
    BnewXFI: bnew [Bnew Bnel] (X F I);
    BnewXII: bnew [Bnew Bnel] (X I I);
    BnewXMI: bnew [Bnew Bnel] (X M I);
    BnewMII: bnew [Bnew Bnel] (M I I);
    BnewMMI: bnew [Bnew Bnel] (M M I);
    BnewIMI: bnew [Bnew Bnel] (I M I);
    BltwIFI: bltw [Bltw Bltl] (I F I);
    BltwFFI: bltw [Bltw Bltl] (F F I);
    BltwFII: bltw [Bltw Bltl] (F I I);
    BltwFMI: bltw [Bltw Bltl] (F M I);
    BltwMFI: bltw [Bltw Bltl] (M F I);
    BltwXFI: bltw [Bltw Bltl] (X F I);
    BltwXII: bltw [Bltw Bltl] (X I I);
    BltwXMI: bltw [Bltw Bltl] (X M I);
    BltwMII: bltw [Bltw Bltl] (M I I);
    BltwMMI: bltw [Bltw Bltl] (M M I);
    BltwIMI: bltw [Bltw Bltl] (I M I);
    BlewIFI: blew [Blew Blel] (I F I);
    BlewFFI: blew [Blew Blel] (F F I);
    BlewFII: blew [Blew Blel] (F I I);
    BlewFMI: blew [Blew Blel] (F M I);
    BlewMFI: blew [Blew Blel] (M F I);
    BlewXFI: blew [Blew Blel] (X F I);
    BlewXII: blew [Blew Blel] (X I I);
    BlewXMI: blew [Blew Blel] (X M I);
    BlewMII: blew [Blew Blel] (M I I);
    BlewMMI: blew [Blew Blel] (M M I);
    BlewIMI: blew [Blew Blel] (I M I);
    BgtwIFI: bgtw [Bgtw Bgtl] (I F I);
    BgtwFFI: bgtw [Bgtw Bgtl] (F F I);
    BgtwFII: bgtw [Bgtw Bgtl] (F I I);
    BgtwFMI: bgtw [Bgtw Bgtl] (F M I);
    BgtwMFI: bgtw [Bgtw Bgtl] (M F I);
    BgtwXFI: bgtw [Bgtw Bgtl] (X F I);
    BgtwXII: bgtw [Bgtw Bgtl] (X I I);
    BgtwXMI: bgtw [Bgtw Bgtl] (X M I);
    BgtwMII: bgtw [Bgtw Bgtl] (M I I);
    BgtwMMI: bgtw [Bgtw Bgtl] (M M I);
    BgtwIMI: bgtw [Bgtw Bgtl] (I M I);
    BgewIFI: bgew [Bgew Bgel] (I F I);
    BgewFFI: bgew [Bgew Bgel] (F F I);
    BgewFII: bgew [Bgew Bgel] (F I I);
    BgewFMI: bgew [Bgew Bgel] (F M I);
    BgewMFI: bgew [Bgew Bgel] (M F I);
    BgewXFI: bgew [Bgew Bgel] (X F I);
    BgewXII: bgew [Bgew Bgel] (X I I);
    BgewXMI: bgew [Bgew Bgel] (X M I);
    BgewMII: bgew [Bgew Bgel] (M I I);
    BgewMMI: bgew [Bgew Bgel] (M M I);
    BgewIMI: bgew [Bgew Bgel] (I M I);
    BeqbIFI: beqb [Beqb] (I F I);
    BeqbFFI: beqb [Beqb] (F F I);
    BeqbFII: beqb [Beqb] (F I I);
    BeqbXMI: beqb [Beqb] (X M I);
    BeqbXFI: beqb [Beqb] (X F I);
    BeqbMFI: beqb [Beqb] (M F I);
    BeqbFMI: beqb [Beqb] (F M I);
    BeqbXII: beqb [Beqb] (X I I);
    BnebIFI: bneb [Bneb] (I F I);
    BnebFFI: bneb [Bneb] (F F I);
    BnebFII: bneb [Bneb] (F I I);
    BnebXMI: bneb [Bneb] (X M I);
    BnebXFI: bneb [Bneb] (X F I);
    BnebMFI: bneb [Bneb] (M F I);
    BnebFMI: bneb [Bneb] (F M I);
    BnebXII: bneb [Bneb] (X I I);
    BltbIFI: bltb [Bltb] (I F I);
    BltbFFI: bltb [Bltb] (F F I);
    BltbFII: bltb [Bltb] (F I I);
    BltbXMI: bltb [Bltb] (X M I);
    BltbXFI: bltb [Bltb] (X F I);
    BltbMFI: bltb [Bltb] (M F I);
    BltbFMI: bltb [Bltb] (F M I);
    BltbXII: bltb [Bltb] (X I I);
    BlebIFI: bleb [Bleb] (I F I);
    BlebFFI: bleb [Bleb] (F F I);
    BlebFII: bleb [Bleb] (F I I);
    BlebXMI: bleb [Bleb] (X M I);
    BlebXFI: bleb [Bleb] (X F I);
    BlebMFI: bleb [Bleb] (M F I);
    BlebFMI: bleb [Bleb] (F M I);
    BlebXII: bleb [Bleb] (X I I);
    BgtbIFI: bgtb [Bgtb] (I F I);
    BgtbFFI: bgtb [Bgtb] (F F I);
    BgtbFII: bgtb [Bgtb] (F I I);
    BgtbXMI: bgtb [Bgtb] (X M I);
    BgtbXFI: bgtb [Bgtb] (X F I);
    BgtbMFI: bgtb [Bgtb] (M F I);
    BgtbFMI: bgtb [Bgtb] (F M I);
    BgtbXII: bgtb [Bgtb] (X I I);
    BgebIFI: bgeb [Bgeb] (I F I);
    BgebFFI: bgeb [Bgeb] (F F I);
    BgebFII: bgeb [Bgeb] (F I I);
    BgebXMI: bgeb [Bgeb] (X M I);
    BgebXFI: bgeb [Bgeb] (X F I);
    BgebMFI: bgeb [Bgeb] (M F I);
    BgebFMI: bgeb [Bgeb] (F M I);
    BgebXII: bgeb [Bgeb] (X I I);
    BeqfFFI: beqf [Beqf] (F F I);
    BeqfFMI: beqf [Beqf] (F M I);
    BeqfMFI: beqf [Beqf] (M F I);
    BeqfXFI: beqf [Beqf] (X F I);
    BeqfMMI: beqf [Beqf] (M M I);
    BnefFFI: bnef [Bnef] (F F I);
    BnefFMI: bnef [Bnef] (F M I);
    BnefMFI: bnef [Bnef] (M F I);
    BnefXFI: bnef [Bnef] (X F I);
    BnefMMI: bnef [Bnef] (M M I);
    BltfFFI: bltf [Bltf] (F F I);
    BltfFMI: bltf [Bltf] (F M I);
    BltfMFI: bltf [Bltf] (M F I);
    BltfXFI: bltf [Bltf] (X F I);
    BltfMMI: bltf [Bltf] (M M I);
    BlefFFI: blef [Blef] (F F I);
    BlefFMI: blef [Blef] (F M I);
    BlefMFI: blef [Blef] (M F I);
    BlefXFI: blef [Blef] (X F I);
    BlefMMI: blef [Blef] (M M I);
    BgtfFFI: bgtf [Bgtf] (F F I);
    BgtfFMI: bgtf [Bgtf] (F M I);
    BgtfMFI: bgtf [Bgtf] (M F I);
    BgtfXFI: bgtf [Bgtf] (X F I);
    BgtfMMI: bgtf [Bgtf] (M M I);
    BgefFFI: bgef [Bgef] (F F I);
    BgefFMI: bgef [Bgef] (F M I);
    BgefMFI: bgef [Bgef] (M F I);
    BgefXFI: bgef [Bgef] (X F I);
    BgefMMI: bgef [Bgef] (M M I);
    IndFFF: ind [Indx Indw Indf Indb Indl] (F F F);
    IndFFI: ind [Indx Indw Indf Indb Indl] (F F I);
    IndXFF: ind [Indx Indw Indf Indb Indl] (X F F);
    IndXFI: ind [Indx Indw Indf Indb Indl] (X F I);
    IndMFF: ind [Indx Indw Indf Indb Indl] (M F F);
    IndMFI: ind [Indx Indw Indf Indb Indl] (M F I);
    IndFFX: ind [Indx Indw Indf Indb Indl] (F F X);
    IndFFM: ind [Indx Indw Indf Indb Indl] (F F M);
    LenaFNF: lena [Lena] (F N F);
    LenaXNF: lena [Lena] (X N F);
    LenaMNF: lena [Lena] (M N F);
    LenaFNX: lena [Lena] (F N X);
    LencFNF: lenc [Lenc] (F N F);
    LencXNF: lenc [Lenc] (X N F);
    LencMNF: lenc [Lenc] (M N F);
    LencFNX: lenc [Lenc] (F N X);
    IndcFFF: indc [Indc] (F F F);
    IndcFIF: indc [Indc] (F I F);
    IndcXFF: indc [Indc] (X F F);
    IndcMFF: indc [Indc] (M F F);
    IndcFMF: indc [Indc] (F M F);
    IndcXIF: indc [Indc] (X I F);
    IndcMIF: indc [Indc] (M I F);
    IndcFFX: indc [Indc] (F F X);
    TailFNF: tail [Tail] (F N F);
    TailXNF: tail [Tail] (X N F);
    TailMNF: tail [Tail] (M N F);
    TailFNX: tail [Tail] (F N X);
    HeadpFNF: headp [Headp] (F N F);
    HeadpXNF: headp [Headp] (X N F);
    HeadpMNF: headp [Headp] (M N F);
    HeadpFNX: headp [Headp] (F N X);
    HeadwFNF: headw [Headw Headf Headl] (F N F);
    HeadwXNF: headw [Headw Headf Headl] (X N F);
    HeadwMNF: headw [Headw Headf Headl] (M N F);
    HeadwFNX: headw [Headw Headf Headl] (F N X);
    MovpcINF: movpc [Movpc] (I N F);

    } };
}

/// The instruction kinds: the general path, those with hand-written
/// handlers, and the table's.
macro_rules! gen_xop {
    ({} $($name:ident: $fam:ident [$($op:ident)*] ($s:ident $m:ident $d:ident);)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u16)]
        pub(crate) enum XOp {
            /// Run by the general path.
            Slow,
            /// Past the end of the code.
            BadPc,
            Jmp,
            Frame,
            New,
            Call,
            Ret,
            Send,
            Recv,
            $($name,)*
        }

        /// The table's entry for an opcode and operand kinds.
        fn table_op(op: O, s: u8, m: u8, d: u8) -> Option<XOp> {
            $(
                if matches!(op, $(O::$op)|*) && s == k::$s && m == k::$m && d == k::$d {
                    return Some(XOp::$name);
                }
            )*
            None
        }

        /// The handler of each kind.
        fn handler(x: XOp) -> Handler {
            match x {
                XOp::Slow => h_slow,
                XOp::BadPc => h_badpc,
                XOp::Jmp => h_jmp,
                XOp::Frame => h_frame,
                XOp::New => h_new,
                XOp::Call => h_call,
                XOp::Ret => h_ret,
                XOp::Send => h_send,
                XOp::Recv => h_recv,
                $( XOp::$name => $fam::<{ k::$s }, { k::$m }, { k::$d }>, )*
            }
        }
    };
}

fast_table!(gen_xop! {});

/// The interpreter form of a module's code, with one `BadPc` past its end.
pub(crate) fn translate(m: &Module) -> Box<[XInst]> {
    let n = m.code.len();
    let mut out = Vec::with_capacity(n + 1);
    let parts = |o: &Opnd| -> (i32, i32) {
        match o.mode {
            Mode::IndFp | Mode::IndMp => (o.base as i32, o.v as i32),
            _ => (o.v as i32, 0),
        }
    };
    for i in m.code.iter() {
        let (ks, km, kd) = (kind(&i.src), kind(&i.mid), kind(&i.dst));
        let (s, s2) = parts(&i.src);
        let (m_, _) = parts(&i.mid);
        let (d, d2) = parts(&i.dst);
        let mut aux = 0u64;
        // Branch targets were validated; the check keeps a bad one off the
        // fast path, which does not check.
        let target_ok = kd == k::I && (i.dst.v as usize) < n;
        let frame_ops = ks == k::F && km == k::N && kd == k::F;
        if matches!(i.op, O::Indx | O::Indw | O::Indf | O::Indb | O::Indl) {
            // The bytes the element address is used for (see `index_width`).
            aux = super::index_width(i.op) as u64;
        }
        let x = match i.op {
            _ if i.reads_loose_pointer() => XOp::Slow,
            O::Jmp if target_ok => XOp::Jmp,
            O::Frame if ks == k::I && kd == k::F => {
                aux = m.types[i.src.v as usize] as *const Type as u64;
                XOp::Frame
            }
            O::New | O::Newz if ks == k::I && kd == k::F => {
                aux = m.types[i.src.v as usize] as *const Type as u64;
                XOp::New
            }
            O::Call if ks == k::F && target_ok => {
                aux = m.entry_type[i.dst.v as usize].map_or(0, |t| t as *const Type as u64);
                XOp::Call
            }
            O::Ret => XOp::Ret,
            O::Send if frame_ops => XOp::Send,
            O::Recv if frame_ops => XOp::Recv,
            op => match table_op(op, ks, km, kd) {
                Some(_) if op.is_cond_branch() && !target_ok => XOp::Slow,
                Some(x) => x,
                None => XOp::Slow,
            },
        };
        out.push(XInst { h: handler(x), x, s, s2, m: m_, d, d2, aux });
    }
    out.push(XInst { h: h_badpc, x: XOp::BadPc, s: 0, s2: 0, m: 0, d: 0, d2: 0, aux: 0 });
    out.into_boxed_slice()
}
