//! The interpreter: runs a thread's instructions for a quantum.
//!
//! Registers live in a [`Cpu`] while the thread runs. Operands resolve to
//! [`Addr`]s; what the loader proved (frame and module-data offsets, branch
//! targets, type indices) is not checked again, what it could not (nil
//! pointers, array indices, frames handed to `call`) is.

use std::cmp::Ordering;

use dis::Opcode as O;

use crate::heap::{load_ptr, Heap, Ptr};
use crate::mem::{obj, Addr};
use crate::module::{self, Callee, Inst, Mode, Module, Opnd};
use crate::prog::{Prog, State};
use crate::stack::{self, frame_type, reg, REG_FP, REG_LR, REG_MR, REG_RET};
use crate::types::{self, Type};
use crate::{array, builtin, chan, exc, list, string, Exception, Trap, Vm};
use crate::{EX_BOUNDS, EX_FRAME, EX_MODULE, EX_NEGSIZE, EX_NILREF, EX_PC, EX_SPAWN, EX_TCHECK, EX_ZDIV};

/// Why the interpreter stopped running a thread.
#[derive(Debug)]
pub enum Status {
    /// The quantum ran out.
    Yield,
    /// The thread blocked (channel, alt, sleep).
    Blocked,
    /// The thread finished.
    Exit,
    /// The thread died of an unhandled exception: message and module name.
    Broken(String, String),
}

/// The running thread's registers.
struct Cpu {
    pc: usize,
    fp: *mut u8,
    mp: *mut u8,
    /// Current module link; holds a reference.
    ml: Ptr,
    /// The current module's code; kept alive by `ml`.
    m: *const Module,
}

impl Cpu {
    fn module(&self) -> &Module {
        // SAFETY: `ml` holds the instance that holds this module.
        unsafe { &*self.m }
    }

    /// Switches to module link `ml` (which the caller has given a reference).
    fn enter(&mut self, ml: Ptr) {
        self.ml = ml;
        let inst = module::instance(ml);
        self.mp = inst.mp;
        self.m = match inst.dis() {
            Some(m) => &**m,
            None => std::ptr::null(),
        };
    }

    /// The running module's interpreter code and the length of its code.
    fn xcode(&self) -> (*const XInst, usize) {
        let m = self.module();
        (m.xcode.as_ptr(), m.code.len())
    }

    fn frame(&self) -> Addr {
        // SAFETY: fp is the running function's frame.
        unsafe { Addr::new(self.fp) }
    }

    /// The address an operand names. Frame operands, most of all, take
    /// one compare; the other modes are out of line.
    ///
    /// An immediate's address is that of its value in the instruction,
    /// which only reads: the loader lets nothing write an immediate, and
    /// `lea`, which takes one's address, gets the pool cell
    /// ([`Cpu::imm_cell`]).
    #[inline(always)]
    fn addr(&self, o: &Opnd) -> Result<Addr, Trap> {
        // The loader checked frame offsets against the frame extent, which
        // every call checks against the frame it gets, and module-data
        // offsets against the data size.
        // SAFETY: so every address below lies inside its frame or data.
        unsafe {
            if o.mode == Mode::Fp {
                Ok(Addr::new(self.fp.add(o.v as usize)))
            } else if o.mode == Mode::Imm {
                Ok(Addr::new(&o.v as *const i64 as *mut u8))
            } else if o.mode == Mode::Mp {
                Ok(Addr::new(self.mp.add(o.v as usize)))
            } else if o.mode == Mode::IndFp {
                // Arguments and results pass through frame pointers.
                let b = load_ptr(self.fp.add(o.base as usize));
                if b.is_null() {
                    return Err(exc(EX_NILREF));
                }
                Ok(Addr::new(b.add(o.v as usize)))
            } else {
                self.addr_other(o)
            }
        }
    }

    /// The writable cell holding an immediate operand's value.
    fn imm_cell(&self, o: &Opnd) -> Addr {
        // SAFETY: pool cells live as long as the module and may be written.
        unsafe { Addr::new(self.module().imms[o.base as usize].as_ptr() as *mut u8) }
    }

    /// Indirect operands: through a pointer in the frame or module data.
    #[inline(never)]
    fn addr_other(&self, o: &Opnd) -> Result<Addr, Trap> {
        let base = match o.mode {
            Mode::IndFp => self.fp,
            Mode::IndMp => self.mp,
            _ => return Err(exc(EX_PC)),
        };
        // The loader checked the pointer slot's offset; the pointer is
        // checked for nil here.
        // SAFETY: so the slot lies inside the frame or data, and `b` is an object.
        unsafe {
            let b = load_ptr(base.add(o.base as usize));
            if b.is_null() {
                return Err(exc(EX_NILREF));
            }
            Ok(Addr::new(b.add(o.v as usize)))
        }
    }

    /// The middle operand, or the destination when it is absent.
    #[inline(always)]
    fn mid(&self, i: &Inst) -> Result<Addr, Trap> {
        if i.mid.mode == Mode::None {
            self.addr(&i.dst)
        } else {
            self.addr(&i.mid)
        }
    }

    fn jump(&mut self, target: i64) -> Result<(), Trap> {
        if target < 0 || target as usize >= self.module().code.len() {
            return Err(exc(EX_PC));
        }
        self.pc = target as usize;
        Ok(())
    }
}

/// What an instruction asks of the loop.
enum Next {
    Go,
    Block,
}

// ---------------------------------------------------------------------------
// The fast path.
//
// At load time every instruction gets an interpreter form, an [`XInst`]:
// an [`XOp`] that names the opcode *and* the addressing modes of its
// operands, for the combinations programs use most, with the operands'
// offsets and immediates unpacked beside it. Their handlers are generic over
// the modes, so each is compiled to straight-line loads and stores from the
// frame or module data. Everything else is `XOp::Slow`, which runs the
// general [`step`].

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

/// The interpreter's form of an instruction. For an immediate the operand's
/// first field is its value; for `n(fp)` and `n(mp)` it is `n`; for the
/// indirect modes the first field is the pointer's offset and the second
/// the offset inside the object. `aux` holds what a handler would otherwise
/// look up: a type, a callee's frame extent.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct XInst {
    pub x: XOp,
    pub s: i32,
    pub s2: i32,
    pub m: i32,
    pub d: i32,
    pub d2: i32,
    pub aux: u64,
}

/// The registers the fast handlers use.
struct Regs {
    fp: *mut u8,
    mp: *mut u8,
    pc: usize,
}

/// A fast handler's outcome: an exception's message on failure.
type Res = Result<(), &'static str>;

/// The address of a non-immediate operand of kind `K`.
///
/// The loader checked `n(fp)` and `n(mp)` offsets (and the pointer slots of
/// the indirect modes) against the frame extent, which every call checks,
/// and the module data size; pointers are checked for nil here.
#[inline(always)]
fn ea<const K: u8>(r: &Regs, a: i32, b: i32) -> Result<*mut u8, &'static str> {
    // SAFETY: as above, the results lie inside the frame, module data or
    // the object the operand names.
    unsafe {
        match K {
            k::F => Ok(r.fp.add(a as usize)),
            k::M => Ok(r.mp.add(a as usize)),
            k::X | k::Y => {
                let base = if K == k::X { r.fp } else { r.mp };
                let p = load_ptr(base.add(a as usize));
                if p.is_null() {
                    Err(EX_NILREF)
                } else {
                    Ok(p.add(b as i64 as usize))
                }
            }
            _ => unreachable!("no address for operand kind {K}"),
        }
    }
}

#[inline(always)]
fn at<const K: u8>(r: &Regs, a: i32, b: i32) -> Result<Addr, &'static str> {
    // SAFETY: ea gives addresses valid for the operand's access.
    ea::<K>(r, a, b).map(|p| unsafe { Addr::new(p) })
}

/// Operand values of each width; an immediate is its value, read as the
/// general path reads the immediate's 8-byte cell.
#[inline(always)]
fn gw<const K: u8>(r: &Regs, a: i32, b: i32) -> Result<i64, &'static str> {
    if K == k::I {
        Ok(a as i64)
    } else {
        Ok(at::<K>(r, a, b)?.w())
    }
}

#[inline(always)]
fn gb<const K: u8>(r: &Regs, a: i32, b: i32) -> Result<u8, &'static str> {
    if K == k::I {
        Ok(a as u8)
    } else {
        Ok(at::<K>(r, a, b)?.b())
    }
}

#[inline(always)]
fn gf<const K: u8>(r: &Regs, a: i32, b: i32) -> Result<f64, &'static str> {
    if K == k::I {
        Ok(f64::from_bits(a as i64 as u64))
    } else {
        Ok(at::<K>(r, a, b)?.f())
    }
}

#[inline(always)]
fn gp<const K: u8>(r: &Regs, a: i32, b: i32) -> Result<Ptr, &'static str> {
    Ok(gw::<K>(r, a, b)? as Ptr)
}

/// The middle operand's value, or the destination's when it is absent.
macro_rules! mid {
    ($g:ident, $r:expr, $i:expr, $M:ident, $D:ident) => {
        if $M == k::N {
            $g::<$D>($r, $i.d, $i.d2)?
        } else {
            $g::<$M>($r, $i.m, 0)?
        }
    };
}

/// Three-operand arithmetic: `dst = mid OP src`.
macro_rules! fast_arith {
    ($($name:ident: $g:ident $set:ident |$a:ident, $b:ident| $e:expr;)*) => {$(
        #[inline(always)]
        fn $name<const S: u8, const M: u8, const D: u8>(r: &mut Regs, _h: &mut Heap, i: &XInst) -> Res {
            let $b = $g::<S>(r, i.s, i.s2)?;
            let $a = mid!($g, r, i, M, D);
            at::<D>(r, i.d, i.d2)?.$set($e);
            Ok(())
        }
    )*};
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
    ($($name:ident: $f:ident;)*) => {$(
        #[inline(always)]
        fn $name<const S: u8, const M: u8, const D: u8>(r: &mut Regs, _h: &mut Heap, i: &XInst) -> Res {
            let b = gw::<S>(r, i.s, i.s2)?;
            let a = mid!(gw, r, i, M, D);
            if b == 0 {
                return Err(EX_ZDIV);
            }
            at::<D>(r, i.d, i.d2)?.set_w(a.$f(b));
            Ok(())
        }
    )*};
}

fast_div! {
    divw: wrapping_div;
    modw: wrapping_rem;
}

/// Moves and conversions: `dst = f(src)`.
macro_rules! fast_move {
    ($($name:ident: $g:ident $set:ident |$v:ident| $e:expr;)*) => {$(
        #[inline(always)]
        fn $name<const S: u8, const M: u8, const D: u8>(r: &mut Regs, _h: &mut Heap, i: &XInst) -> Res {
            let $v = $g::<S>(r, i.s, i.s2)?;
            at::<D>(r, i.d, i.d2)?.$set($e);
            Ok(())
        }
    )*};
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
    lena: gp set_w |v| array::len(v) as i64;
    lenc: gp set_w |v| string::len(v) as i64;
}

/// Conditional branches: to the destination's pc when `src OP mid`.
macro_rules! fast_branch {
    ($($name:ident: $g:ident $op:tt;)*) => {$(
        #[inline(always)]
        fn $name<const S: u8, const M: u8, const D: u8>(r: &mut Regs, _h: &mut Heap, i: &XInst) -> Res {
            if $g::<S>(r, i.s, i.s2)? $op $g::<M>(r, i.m, 0)? {
                r.pc = i.d as usize;
            }
            Ok(())
        }
    )*};
}

fast_branch! {
    beqw: gw ==; bnew: gw !=; bltw: gw <; blew: gw <=; bgtw: gw >; bgew: gw >=;
    beqb: gb ==; bneb: gb !=; bltb: gb <; bleb: gb <=; bgtb: gb >; bgeb: gb >=;
    beqf: gf ==; bnef: gf !=; bltf: gf <; blef: gf <=; bgtf: gf >; bgef: gf >=;
}

#[inline(always)]
fn movp<const S: u8, const M: u8, const D: u8>(r: &mut Regs, h: &mut Heap, i: &XInst) -> Res {
    let v = gp::<S>(r, i.s, i.s2)?;
    at::<D>(r, i.d, i.d2)?.copy_p(h, v);
    Ok(())
}

#[inline(always)]
fn lea<const S: u8, const M: u8, const D: u8>(r: &mut Regs, _h: &mut Heap, i: &XInst) -> Res {
    let a = ea::<S>(r, i.s, i.s2)?;
    at::<D>(r, i.d, i.d2)?.set_w(a as i64);
    Ok(())
}

/// `indx` and its kin: the address of element `dst` of array `src` into `mid`.
#[inline(always)]
fn ind<const S: u8, const M: u8, const D: u8>(r: &mut Regs, _h: &mut Heap, i: &XInst) -> Res {
    let a = gp::<S>(r, i.s, i.s2)?;
    let k = gw::<D>(r, i.d, i.d2)?;
    if k < 0 || k as usize >= array::len(a) {
        return Err(EX_BOUNDS);
    }
    at::<M>(r, i.m, 0)?.set_w(array::elem(a, k as usize).ptr() as i64);
    Ok(())
}

#[inline(always)]
fn indc<const S: u8, const M: u8, const D: u8>(r: &mut Regs, _h: &mut Heap, i: &XInst) -> Res {
    let s = gp::<S>(r, i.s, i.s2)?;
    if s.is_null() {
        return Err(EX_NILREF);
    }
    let k = gw::<M>(r, i.m, 0)?;
    if k < 0 || k as usize >= string::len(s) {
        return Err(EX_BOUNDS);
    }
    at::<D>(r, i.d, i.d2)?.set_w(string::rune(s, k as usize) as i64);
    Ok(())
}

#[inline(always)]
fn tail<const S: u8, const M: u8, const D: u8>(r: &mut Regs, h: &mut Heap, i: &XInst) -> Res {
    let l = gp::<S>(r, i.s, i.s2)?;
    if l.is_null() {
        return Err(EX_NILREF);
    }
    at::<D>(r, i.d, i.d2)?.copy_p(h, list::tail(l));
    Ok(())
}

#[inline(always)]
fn headp<const S: u8, const M: u8, const D: u8>(r: &mut Regs, h: &mut Heap, i: &XInst) -> Res {
    let l = gp::<S>(r, i.s, i.s2)?;
    if l.is_null() {
        return Err(EX_NILREF);
    }
    at::<D>(r, i.d, i.d2)?.copy_p(h, list::head(l).p());
    Ok(())
}

#[inline(always)]
fn headw<const S: u8, const M: u8, const D: u8>(r: &mut Regs, _h: &mut Heap, i: &XInst) -> Res {
    let l = gp::<S>(r, i.s, i.s2)?;
    if l.is_null() {
        return Err(EX_NILREF);
    }
    at::<D>(r, i.d, i.d2)?.set_w(list::head(l).w());
    Ok(())
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

/// The instruction kinds the interpreter knows: the general path, those
/// with hand-written fast paths, and the table's.
macro_rules! gen_xop {
    ({} $($name:ident: $fam:ident [$($op:ident)*] ($s:ident $m:ident $d:ident);)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u16)]
        pub enum XOp {
            /// Run by the general path, [`step`].
            Slow,
            /// Past the end of the code.
            BadPc,
            Jmp,
            Frame,
            Call,
            Ret,
            New,
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
    };
}

fast_table!(gen_xop! {});

/// The dispatch on an instruction's kind: the table's handlers, then the
/// arms given.
macro_rules! gen_dispatch {
    ({ $x:expr, $r:ident, $heap:expr, $i:ident, { $($arms:tt)* } }
     $($name:ident: $fam:ident [$($op:ident)*] ($s:ident $m:ident $d:ident);)*) => {
        match $x {
            $( XOp::$name => $fam::<{ k::$s }, { k::$m }, { k::$d }>(&mut $r, $heap, $i), )*
            $($arms)*
        }
    };
}

/// The interpreter form of a module's code, with one `BadPc` past its end.
pub(crate) fn translate(m: &Module) -> Box<[XInst]> {
    let n = m.code.len();
    let mut out = Vec::with_capacity(n + 1);
    for i in m.code.iter() {
        let (ks, km, kd) = (kind(&i.src), kind(&i.mid), kind(&i.dst));
        let parts = |o: &Opnd| -> (i32, i32) {
            match o.mode {
                Mode::IndFp | Mode::IndMp => (o.base as i32, o.v as i32),
                _ => (o.v as i32, 0),
            }
        };
        let (s, s2) = parts(&i.src);
        let (m_, _) = parts(&i.mid);
        let (d, d2) = parts(&i.dst);
        let mut aux = 0u64;
        // Branch targets were validated; the check keeps a bad one off the
        // fast path, which does not check.
        let target_ok = kd == k::I && (i.dst.v as usize) < n;
        let x = match i.op {
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
                aux = m.entry_extent[i.dst.v as usize] as u64;
                XOp::Call
            }
            O::Ret => XOp::Ret,
            O::Send if ks == k::F && km == k::N && kd == k::F => XOp::Send,
            O::Recv if ks == k::F && km == k::N && kd == k::F => XOp::Recv,
            op => match table_op(op, ks, km, kd) {
                Some(_) if op.is_cond_branch() && !target_ok => XOp::Slow,
                Some(x) => x,
                None => XOp::Slow,
            },
        };
        out.push(XInst { x, s, s2, m: m_, d, d2, aux });
    }
    out.push(XInst { x: XOp::BadPc, s: 0, s2: 0, m: 0, d: 0, d2: 0, aux: 0 });
    out.into_boxed_slice()
}

/// Runs thread `p` for at most `budget` instructions.
pub fn run(vm: &mut Vm, p: &mut Prog, budget: u32) -> Status {
    let mut cpu =
        Cpu { pc: p.regs.pc, fp: p.regs.fp, mp: std::ptr::null_mut(), ml: p.regs.ml, m: std::ptr::null() };
    cpu.enter(p.regs.ml);
    resume_alt(p);
    let mut r = Regs { fp: cpu.fp, mp: cpu.mp, pc: cpu.pc };
    // The running module's interpreter code and its length (without the
    // `BadPc` past the end). The pc is at most the length throughout.
    let (mut code, mut len) = cpu.xcode();
    r.pc = r.pc.min(len);
    // Loads the registers back from `cpu` after the general path ran.
    macro_rules! reload {
        () => {{
            (code, len) = cpu.xcode();
            r = Regs { fp: cpu.fp, mp: cpu.mp, pc: cpu.pc.min(len) };
        }};
    }
    macro_rules! store {
        () => {{
            cpu.pc = r.pc;
            cpu.fp = r.fp;
        }};
    }
    let mut left = budget;
    let status = loop {
        if left == 0 {
            store!();
            break Status::Yield;
        }
        left -= 1;
        // SAFETY: pc <= len and the code has len + 1 instructions; the
        // code lives as long as `cpu.ml`, which an instruction drops only
        // after it has finished with `i`.
        let i: &XInst = unsafe { &*code.add(r.pc) };
        r.pc += 1;
        let res = fast_table!(gen_dispatch! { i.x, r, &mut vm.heap, i, {
            XOp::Slow => {
                store!();
                if let Some(s) = slow(vm, p, &mut cpu) {
                    break s;
                }
                reload!();
                Ok(())
            }
            XOp::BadPc => Err(EX_PC),
            XOp::Jmp => {
                r.pc = i.d as usize;
                Ok(())
            }
            XOp::Frame => {
                // SAFETY: translate stored a module type here.
                let t: &'static Type = unsafe { &*(i.aux as *const Type) };
                let f = p.stack.alloc(t);
                // SAFETY: a frame operand the loader checked.
                unsafe { Addr::new(r.fp.add(i.d as usize)) }.set_w(f.ptr() as i64);
                Ok(())
            }
            XOp::New => {
                // SAFETY: translate stored a module type here.
                let t: &'static Type = unsafe { &*(i.aux as *const Type) };
                let o = vm.heap.alloc(t, 0);
                // SAFETY: a frame operand the loader checked.
                unsafe { Addr::new(r.fp.add(i.d as usize)) }.put_p(&mut vm.heap, o);
                Ok(())
            }
            XOp::Call => {
                // SAFETY: a frame operand the loader checked.
                let fv = unsafe { Addr::new(r.fp.add(i.s as usize)) }.w() as usize;
                let top = p.stack.top_addr();
                if top == 0 || fv != top {
                    Err(EX_FRAME)
                } else {
                    // SAFETY: top is the newest live frame.
                    let f = unsafe { Addr::new(top as *mut u8) };
                    // The callee needs a frame as large as its operands
                    // reach: aux is its extent, u32::MAX if not an entry.
                    if i.aux as usize > frame_type(f).size {
                        Err(EX_FRAME)
                    } else {
                        reg(f, REG_LR).set_w(r.pc as i64);
                        reg(f, REG_FP).set_raw_p(r.fp);
                        r.fp = f.ptr();
                        r.pc = i.d as usize;
                        Ok(())
                    }
                }
            }
            XOp::Send | XOp::Recv => {
                // SAFETY: frame operands the loader checked.
                let (sa, da) = unsafe { (Addr::new(r.fp.add(i.s as usize)), Addr::new(r.fp.add(i.d as usize))) };
                let done = if i.x == XOp::Send {
                    chan::send(vm, p, da.p(), sa)
                } else {
                    chan::recv(vm, p, sa.p(), da)
                };
                match done {
                    Ok(true) => Ok(()),
                    Ok(false) => {
                        store!();
                        break Status::Blocked;
                    }
                    // Its only exception: a nil channel.
                    Err(_) => Err(EX_NILREF),
                }
            }
            XOp::Ret => {
                // SAFETY: fp is the running frame.
                let f = unsafe { Addr::new(r.fp) };
                let caller = reg(f, REG_FP).raw_p();
                if caller.is_null() {
                    store!();
                    break Status::Exit;
                }
                let lr = reg(f, REG_LR).w() as usize;
                let mr = reg(f, REG_MR).raw_p();
                if !p.stack.pop(&mut vm.heap, f) {
                    // Frames above the returning one (allocated and never
                    // called) go with it.
                    if let Some(k) = p.stack.index_of(f) {
                        p.stack.truncate(&mut vm.heap, k);
                    }
                }
                r.fp = caller;
                if !mr.is_null() {
                    let old = cpu.ml;
                    cpu.enter(mr);
                    vm.heap.dec(old);
                    (code, len) = cpu.xcode();
                    r.mp = cpu.mp;
                }
                // The return pc is frame memory the program could write.
                r.pc = lr.min(len);
                Ok(())
            }
        } });
        if let Err(e) = res {
            // The faulting instruction is the one before pc.
            r.pc -= 1;
            store!();
            match raise(vm, p, &mut cpu, exc(e)) {
                Ok(()) => reload!(),
                Err(s) => break s,
            }
        }
    };
    p.regs.pc = cpu.pc;
    p.regs.fp = cpu.fp;
    p.regs.ml = cpu.ml;
    status
}

/// Runs the instruction before `cpu.pc` on the general path; a status when
/// the thread stops.
#[inline(never)]
fn slow(vm: &mut Vm, p: &mut Prog, cpu: &mut Cpu) -> Option<Status> {
    let m = cpu.module();
    // The fast path ran instruction pc - 1, which is inside the code.
    // SAFETY of the borrow: the code lives as long as `ml`, which this
    // instruction cannot drop before it has finished with `i`.
    let i: &Inst = unsafe { &*(&m.code[cpu.pc - 1] as *const Inst) };
    match step(vm, p, cpu, i) {
        Ok(Next::Go) => None,
        Ok(Next::Block) => Some(Status::Blocked),
        Err(Trap::Exit) => Some(Status::Exit),
        Err(t) => {
            // The faulting instruction is the one before pc.
            cpu.pc -= 1;
            raise(vm, p, cpu, t).err()
        }
    }
}

/// A thread resumed after a blocking alt stores the chosen arm.
pub(crate) fn resume_alt(p: &mut Prog) {
    if let Some(arm) = p.alt_result.take() {
        if let Some(dst) = p.chan_ptr.take() {
            dst.set_w(arm as i64);
        }
    }
}

/// Raises `t` at the thread's pc, for compiled code's runtime errors: the
/// thread goes on in a handler, or stops with the returned status.
pub(crate) fn throw(vm: &mut Vm, p: &mut Prog, t: Trap) -> Option<Status> {
    let mut cpu =
        Cpu { pc: p.regs.pc, fp: p.regs.fp, mp: std::ptr::null_mut(), ml: p.regs.ml, m: std::ptr::null() };
    cpu.enter(p.regs.ml);
    let r = raise(vm, p, &mut cpu, t);
    p.regs.pc = cpu.pc;
    p.regs.fp = cpu.fp;
    p.regs.ml = cpu.ml;
    r.err()
}

/// Finds a handler for an exception raised at `cpu.pc` and transfers to
/// it, unwinding frames; with none, the thread dies.
///
/// Handlers are searched from the raising frame outwards, each frame at the
/// pc of its pending instruction. An exception value (an ADT, not a string)
/// can be caught as a value by the raising function and its immediate
/// caller; past that it continues as its name, a string.
fn raise(vm: &mut Vm, p: &mut Prog, cpu: &mut Cpu, t: Trap) -> Result<(), Status> {
    let mut e = match t {
        Trap::Raise(e) => e,
        Trap::Exit => return Err(Status::Exit),
    };
    let mut is_str = e.value.is_null() || Heap::type_of(e.value).kind == types::Kind::String;
    let mut pc = cpu.pc;
    let mut fp = cpu.fp;
    let mut ml = cpu.ml;
    loop {
        let inst = module::instance(ml);
        if let Some((hpc, eoff, desc)) = inst.dis().and_then(|m| find_handler(m, pc, &e.msg, is_str)) {
            unwind_to(vm, p, cpu, fp);
            // SAFETY: fp is the handler's live frame.
            let fa = unsafe { Addr::new(fp) };
            if desc >= 0 {
                // The handler's locals of this type start afresh.
                let t = cpu.module().types[desc as usize];
                fa.dec_ptrs(&mut vm.heap, t);
            }
            // SAFETY: the exception slot lies in the handler's frame.
            let slot = unsafe { fa.offset(eoff) };
            let v = if e.value.is_null() { string::from_str(&mut vm.heap, &e.msg) } else { e.value };
            slot.put_p(&mut vm.heap, v);
            cpu.pc = hpc;
            return Ok(());
        }
        if !is_str && fp != cpu.fp {
            // Past the immediate caller, an exception value is its name.
            let name = obj(e.value).p();
            Heap::inc(name);
            vm.heap.dec(e.value);
            e.value = name;
            is_str = true;
            continue;
        }
        // SAFETY: fp is a live frame.
        let fa = unsafe { Addr::new(fp) };
        let caller = reg(fa, REG_FP).raw_p();
        if caller.is_null() {
            break;
        }
        pc = (reg(fa, REG_LR).w() as usize).saturating_sub(1);
        let mr = reg(fa, REG_MR).raw_p();
        if !mr.is_null() {
            ml = mr;
        }
        fp = caller;
    }
    vm.heap.dec(e.value);
    if e.msg.is_empty() {
        return Err(Status::Exit);
    }
    let name = e.builtin.unwrap_or_else(|| module::instance(cpu.ml).name());
    Err(Status::Broken(e.msg, name.to_string()))
}

/// Pops every frame above `fp` (called or not), restoring the module link
/// of each frame entered by a module call.
fn unwind_to(vm: &mut Vm, p: &mut Prog, cpu: &mut Cpu, fp: *mut u8) {
    let mut f = cpu.fp;
    while f != fp {
        // SAFETY: f is a live frame on the chain from cpu.fp.
        let fa = unsafe { Addr::new(f) };
        let mr = reg(fa, REG_MR).raw_p();
        if !mr.is_null() {
            let old = cpu.ml;
            cpu.enter(mr);
            vm.heap.dec(old);
        }
        f = reg(fa, REG_FP).raw_p();
    }
    cpu.fp = fp;
    // SAFETY: fp is a live frame.
    if let Some(k) = p.stack.index_of(unsafe { Addr::new(fp) }) {
        p.stack.truncate(&mut vm.heap, k + 1);
    }
}

/// The handler of `m` covering `pc` for exception `name`: its pc, the
/// frame offset for the exception and the type of the locals it resets.
/// The first `ne` cases of a handler name exception values, the rest
/// strings; the `*` arm takes anything.
fn find_handler(m: &Module, pc: usize, name: &str, is_str: bool) -> Option<(usize, usize, i32)> {
    let hs = m.image.handlers.as_ref()?;
    for h in hs {
        if pc < h.pc1 as usize || pc >= h.pc2 as usize {
            continue;
        }
        for (k, c) in h.cases.iter().enumerate() {
            let for_values = (k as i32) < h.ne;
            if for_values != is_str && matches_name(&c.name, name) && c.pc >= 0 {
                return Some((c.pc as usize, h.eoff as usize, h.desc));
            }
        }
        if h.wildcard >= 0 {
            return Some((h.wildcard as usize, h.eoff as usize, h.desc));
        }
    }
    None
}

/// Limbo exception patterns: exact, or a prefix ending in `*` (`*` alone
/// matches everything).
fn matches_name(pat: &str, name: &str) -> bool {
    match pat.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pat == name,
    }
}

fn bounds(i: i64, len: usize) -> Result<usize, Trap> {
    if i < 0 || i as usize >= len {
        Err(exc(EX_BOUNDS))
    } else {
        Ok(i as usize)
    }
}

fn nonnil(p: Ptr) -> Result<Ptr, Trap> {
    if p.is_null() {
        Err(exc(EX_NILREF))
    } else {
        Ok(p)
    }
}

/// Shift counts use the low six bits on every architecture.
#[inline(always)]
fn sh(n: i64) -> u32 {
    (n & 63) as u32
}

fn int_pow(mut x: i64, n: i64) -> i64 {
    let inv = n < 0;
    let mut n = n.unsigned_abs();
    let mut r: i64 = 1;
    loop {
        if n & 1 != 0 {
            r = r.wrapping_mul(x);
        }
        n >>= 1;
        if n == 0 {
            break;
        }
        x = x.wrapping_mul(x);
    }
    if inv {
        // 1/r in integers: 1 for r == 1, -1 for r == -1, else 0, and 0
        // for r == 0 too (0 ** -1 is 0 in Inferno, not a zero divide).
        match r {
            1 | -1 => r,
            _ => 0,
        }
    } else {
        r
    }
}

fn real_pow(mut x: f64, n: i64) -> f64 {
    let inv = n < 0;
    let mut n = n.unsigned_abs();
    let mut r = 1.0;
    loop {
        if n & 1 != 0 {
            r *= x;
        }
        n >>= 1;
        if n == 0 {
            break;
        }
        x *= x;
    }
    if inv {
        1.0 / r
    } else {
        r
    }
}

/// Rounds half away from zero and converts, as Dis's real-to-integer
/// conversions do (saturating where the value does not fit).
fn round(f: f64) -> i64 {
    (if f < 0.0 { f - 0.5 } else { f + 0.5 }) as i64
}

/// Scales by 2^p (left for p >= 0, arithmetic right otherwise).
fn scale(v: i64, p: i64) -> i64 {
    if p >= 0 {
        v.wrapping_shl(sh(p))
    } else {
        v >> sh(p.wrapping_neg())
    }
}

/// Executes one instruction.
#[inline(always)]
fn step(vm: &mut Vm, p: &mut Prog, cpu: &mut Cpu, i: &Inst) -> Result<Next, Trap> {
    macro_rules! s {
        () => {
            cpu.addr(&i.src)?
        };
    }
    macro_rules! d {
        () => {
            cpu.addr(&i.dst)?
        };
    }
    macro_rules! m {
        () => {
            cpu.mid(i)?
        };
    }
    macro_rules! arith {
        ($get:ident, $set:ident, |$a:ident, $b:ident| $e:expr) => {{
            let ($b, $a) = (s!().$get(), m!().$get());
            d!().$set($e);
        }};
    }
    macro_rules! branch {
        ($get:ident, $cmp:tt) => {{
            if s!().$get() $cmp m!().$get() {
                cpu.pc = i.dst.imm() as usize;
            }
        }};
    }
    macro_rules! sbranch {
        ($($ord:pat_param)|+) => {{
            if matches!(string::cmp(s!().p(), m!().p()), $($ord)|+) {
                cpu.pc = i.dst.imm() as usize;
            }
        }};
    }
    let heap = &mut vm.heap;
    match i.op {
        O::Nop | O::Runt | O::Eclr => {}
        O::Movb => d!().set_b(s!().b()),
        O::Movw => d!().set_w(s!().w()),
        O::Movf => d!().set_f(s!().f()),
        O::Movl => d!().set_l(s!().l()),
        O::Movp => {
            let v = s!().p();
            d!().copy_p(heap, v);
        }
        O::Movm => {
            let n = m!().w();
            if !(0..=1 << 24).contains(&n) {
                return Err(exc(EX_BOUNDS));
            }
            d!().copy_from(s!(), n as usize);
        }
        O::Movmp => {
            let t = cpu.module().types[i.mid.imm() as usize];
            chan::copy(heap, t, d!(), s!());
        }
        O::Lea => {
            let a = if i.src.mode == Mode::Imm { cpu.imm_cell(&i.src) } else { s!() };
            d!().set_w(a.ptr() as i64)
        }
        O::Cvtbw => d!().set_w(s!().b() as i64),
        O::Cvtwb => d!().set_b(s!().w() as u8),
        O::Cvtfw => d!().set_w(round(s!().f())),
        O::Cvtwf => d!().set_f(s!().w() as f64),
        O::Cvtlf => d!().set_f(s!().l() as f64),
        O::Cvtfl => d!().set_l(round(s!().f())),
        O::Cvtlw => d!().set_w(s!().l()),
        O::Cvtwl => d!().set_l(s!().w()),
        O::Cvtrf => d!().set_f(s!().r32() as f64),
        O::Cvtfr => d!().set_r32(s!().f() as f32),
        O::Cvtws => d!().set_s16(s!().w() as i16),
        O::Cvtsw => d!().set_w(s!().s16() as i64),
        O::Addb => arith!(b, set_b, |a, b| a.wrapping_add(b)),
        O::Subb => arith!(b, set_b, |a, b| a.wrapping_sub(b)),
        O::Mulb => arith!(b, set_b, |a, b| a.wrapping_mul(b)),
        O::Andb => arith!(b, set_b, |a, b| a & b),
        O::Orb => arith!(b, set_b, |a, b| a | b),
        O::Xorb => arith!(b, set_b, |a, b| a ^ b),
        O::Divb | O::Modb => {
            let (b, a) = (s!().b(), m!().b());
            if b == 0 {
                return Err(exc(EX_ZDIV));
            }
            d!().set_b(if i.op == O::Divb { a / b } else { a % b });
        }
        O::Shlb => {
            let (n, a) = (s!().w(), m!().b());
            d!().set_b(((a as u64) << sh(n)) as u8);
        }
        O::Shrb => {
            let (n, a) = (s!().w(), m!().b());
            d!().set_b(((a as u64) >> sh(n)) as u8);
        }
        O::Addw | O::Addl => arith!(w, set_w, |a, b| a.wrapping_add(b)),
        O::Subw | O::Subl => arith!(w, set_w, |a, b| a.wrapping_sub(b)),
        O::Mulw | O::Mull => arith!(w, set_w, |a, b| a.wrapping_mul(b)),
        O::Andw | O::Andl => arith!(w, set_w, |a, b| a & b),
        O::Orw | O::Orl => arith!(w, set_w, |a, b| a | b),
        O::Xorw | O::Xorl => arith!(w, set_w, |a, b| a ^ b),
        O::Divw | O::Divl | O::Modw | O::Modl => {
            let (b, a) = (s!().w(), m!().w());
            if b == 0 {
                return Err(exc(EX_ZDIV));
            }
            let div = matches!(i.op, O::Divw | O::Divl);
            d!().set_w(if div { a.wrapping_div(b) } else { a.wrapping_rem(b) });
        }
        O::Shlw | O::Shll => {
            let (n, a) = (s!().w(), m!().w());
            d!().set_w(a.wrapping_shl(sh(n)));
        }
        O::Shrw | O::Shrl => {
            let (n, a) = (s!().w(), m!().w());
            d!().set_w(a >> sh(n));
        }
        O::Lsrw | O::Lsrl => {
            let (n, a) = (s!().w(), m!().w());
            d!().set_w(((a as u64) >> sh(n)) as i64);
        }
        O::Addf => arith!(f, set_f, |a, b| a + b),
        O::Subf => arith!(f, set_f, |a, b| a - b),
        O::Mulf => arith!(f, set_f, |a, b| a * b),
        O::Divf => arith!(f, set_f, |a, b| a / b),
        O::Negf => d!().set_f(-s!().f()),
        O::Beqb => branch!(b, ==),
        O::Bneb => branch!(b, !=),
        O::Bltb => branch!(b, <),
        O::Bleb => branch!(b, <=),
        O::Bgtb => branch!(b, >),
        O::Bgeb => branch!(b, >=),
        O::Beqw | O::Beql => branch!(w, ==),
        O::Bnew | O::Bnel => branch!(w, !=),
        O::Bltw | O::Bltl => branch!(w, <),
        O::Blew | O::Blel => branch!(w, <=),
        O::Bgtw | O::Bgtl => branch!(w, >),
        O::Bgew | O::Bgel => branch!(w, >=),
        O::Beqf => branch!(f, ==),
        O::Bnef => branch!(f, !=),
        O::Bltf => branch!(f, <),
        O::Blef => branch!(f, <=),
        O::Bgtf => branch!(f, >),
        O::Bgef => branch!(f, >=),
        O::Beqc => sbranch!(Ordering::Equal),
        O::Bnec => sbranch!(Ordering::Less | Ordering::Greater),
        O::Bltc => sbranch!(Ordering::Less),
        O::Blec => sbranch!(Ordering::Less | Ordering::Equal),
        O::Bgtc => sbranch!(Ordering::Greater),
        O::Bgec => sbranch!(Ordering::Greater | Ordering::Equal),
        O::Jmp => cpu.pc = i.dst.imm() as usize,
        O::Expw => {
            let (n, x) = (s!().w(), m!().w());
            d!().set_w(int_pow(x, n));
        }
        O::Expl => {
            let (n, x) = (s!().w(), m!().l());
            d!().set_l(int_pow(x, n));
        }
        O::Expf => {
            let (n, x) = (s!().w(), m!().f());
            d!().set_f(real_pow(x, n));
        }
        O::Mulx | O::Divx | O::Cvtxx | O::Mulx0 | O::Mulx1 | O::Divx0 | O::Divx1 | O::Cvtxx0 | O::Cvtxx1 => {
            fixed(cpu, i)?
        }
        O::Cvtfx => {
            let v = s!().f() * m!().f();
            d!().set_w(round(v));
        }
        O::Cvtxf => {
            let v = (s!().w() as f64) * m!().f();
            d!().set_f(v);
        }
        O::Indx | O::Indw | O::Indf | O::Indb | O::Indl => {
            let a = s!().p();
            let k = d!().w();
            let k = bounds(k, array::len(a))?;
            m!().set_w(array::elem(a, k).ptr() as i64);
        }
        O::Lena => d!().set_w(array::len(s!().p()) as i64),
        O::Lenc => d!().set_w(string::len(s!().p()) as i64),
        O::Lenl => {
            let mut l = s!().p();
            let mut n = 0;
            while !l.is_null() {
                n += 1;
                l = list::tail(l);
            }
            d!().set_w(n);
        }
        O::Indc => {
            let s = nonnil(s!().p())?;
            let k = bounds(m!().w(), string::len(s))?;
            d!().set_w(string::rune(s, k) as i64);
        }
        O::Insc => {
            let r = s!().w();
            let k = m!().w();
            let d = d!();
            let s = d.p();
            if k < 0 || k as usize > string::len(s) {
                return Err(exc(EX_BOUNDS));
            }
            let r = if (0..=string::RUNE_MAX as i64).contains(&r) { r as u32 } else { string::RUNE_ERROR };
            let n = string::insert(heap, s, k as usize, r);
            d.put_p(heap, n);
        }
        O::Addc => {
            let (b, m, d) = (s!().p(), m!(), d!());
            let a = m.p();
            let n = string::add(heap, a, b, m.ptr() == d.ptr());
            d.put_p(heap, n);
        }
        O::Slicec => {
            let (from, to) = (s!().w(), m!().w());
            let d = d!();
            let s = d.p();
            if from < 0 || to < from || to as usize > string::len(s) {
                return Err(exc(EX_BOUNDS));
            }
            let n = string::slice(heap, s, from as usize, to as usize);
            d.put_p(heap, n);
        }
        O::Slicea => {
            let (from, to) = (s!().w(), m!().w());
            let d = d!();
            let a = d.p();
            if a.is_null() {
                // An empty slice of nil is nil, wherever it starts.
                if from == to {
                    return Ok(Next::Go);
                }
                return Err(exc(EX_NILREF));
            }
            if from < 0 || to < from || to as usize > array::len(a) {
                return Err(exc(EX_BOUNDS));
            }
            let n = array::slice(heap, a, from as usize, to as usize);
            d.put_p(heap, n);
        }
        O::Slicela => {
            let src = s!().p();
            let off = m!().w();
            let dst = d!().p();
            if src.is_null() {
                return Ok(Next::Go);
            }
            nonnil(dst)?;
            let n = array::len(src);
            if off < 0 || off as usize + n > array::len(dst) {
                return Err(exc(EX_BOUNDS));
            }
            let t = array::elem_type(dst);
            if n > 0 {
                // Copy through a buffer so that overlapping ranges work.
                let tmp: Vec<u8> = array::elem(src, 0).bytes(n * t.size).to_vec();
                for k in 0..n {
                    // SAFETY: element k of the temporary copy.
                    let from = unsafe { Addr::new(tmp.as_ptr().add(k * t.size) as *mut u8) };
                    chan::copy(heap, t, array::elem(dst, off as usize + k), from);
                }
            }
        }
        O::Cvtca => {
            let b = string::to_utf8(s!().p());
            let a = array::from_bytes(heap, &b);
            d!().put_p(heap, a);
        }
        O::Cvtac => {
            let a = s!().p();
            let s = string::from_utf8(heap, array::bytes(a));
            d!().put_p(heap, s);
        }
        O::Cvtwc => {
            // Inferno formats the word with `%d`, which takes its low 32 bits.
            let s = string::from_str(heap, &(s!().w() as i32).to_string());
            d!().put_p(heap, s);
        }
        O::Cvtlc => {
            let s = string::from_str(heap, &s!().l().to_string());
            d!().put_p(heap, s);
        }
        O::Cvtfc => {
            let s = string::from_str(heap, &builtin::fmt::real_to_string(s!().f()));
            d!().put_p(heap, s);
        }
        O::Cvtcw => d!().set_w(string::to_word(s!().p())),
        O::Cvtcl => d!().set_l(string::to_big(s!().p())),
        O::Cvtcf => d!().set_f(string::to_real(s!().p())),
        O::New | O::Newz => {
            let t = cpu.module().types[i.src.imm() as usize];
            let o = heap.alloc(t, 0);
            d!().put_p(heap, o);
        }
        O::Mnewz => {
            let ml = nonnil(s!().p()).map_err(|_| exc(EX_MODULE))?;
            let k = m!().w();
            let t = match module::instance(ml).dis() {
                Some(m) => *m.types.get(k as usize).ok_or_else(|| exc(EX_BOUNDS))?,
                None => return Err(exc(EX_MODULE)),
            };
            let o = heap.alloc(t, 0);
            d!().put_p(heap, o);
        }
        O::Newa | O::Newaz => {
            let n = s!().w();
            let t = cpu.module().types[i.mid.imm() as usize];
            if n < 0 {
                return Err(exc(EX_NEGSIZE));
            }
            if (n as u128) * (t.size as u128) > (1u128 << 31) {
                return Err(exc(crate::EX_HEAP));
            }
            let a = array::alloc(heap, t, n as usize);
            d!().put_p(heap, a);
        }
        O::Newcb | O::Newcw | O::Newcf | O::Newcp | O::Newcl | O::Newcm | O::Newcmp => {
            let cap = if i.mid.mode == Mode::None { 0 } else { cpu.addr(&i.mid)?.w() };
            if cap < 0 {
                return Err(exc(EX_NEGSIZE));
            }
            let t: &'static Type = match i.op {
                O::Newcb => &types::BYTE,
                O::Newcw => &types::WORD,
                O::Newcf => &types::REAL,
                O::Newcl => &types::BIG,
                O::Newcp => &types::POINTER,
                O::Newcm => {
                    let size = s!().w();
                    if !(0..=1 << 24).contains(&size) {
                        return Err(exc(EX_NEGSIZE));
                    }
                    vm.sized_type(size as usize)
                }
                _ => cpu.module().types[i.src.imm() as usize],
            };
            if (cap as u128) * (t.size as u128) > (1u128 << 31) {
                return Err(exc(crate::EX_HEAP));
            }
            let heap = &mut vm.heap;
            let c = chan::new(heap, t, cap as usize);
            d!().put_p(heap, c);
        }
        O::Consb | O::Consw | O::Consp | O::Consf | O::Consl | O::Consm | O::Consmp => {
            let (size, elem): (usize, Option<&'static Type>) = match i.op {
                O::Consp => (8, Some(&types::POINTER)),
                O::Consm => {
                    let n = m!().w();
                    if !(0..=1 << 24).contains(&n) {
                        return Err(exc(EX_BOUNDS));
                    }
                    (n as usize, None)
                }
                O::Consmp => {
                    let t = cpu.module().types[i.mid.imm() as usize];
                    (t.size, Some(t))
                }
                _ => (8, None),
            };
            let src = s!();
            let d = d!();
            let cell = list::cons(heap, size, elem, d.p());
            let h = list::head(cell);
            match i.op {
                O::Consb => h.set_b(src.b()),
                O::Consw | O::Consf | O::Consl => h.set_w(src.w()),
                O::Consp => h.copy_p(heap, src.p()),
                O::Consm => h.copy_from(src, size),
                _ => {
                    let t = elem.expect("consmp has a type");
                    src.inc_ptrs(t);
                    h.copy_from(src, t.size);
                }
            }
            d.put_p(heap, cell);
        }
        O::Headb | O::Headw | O::Headp | O::Headf | O::Headl | O::Headm | O::Headmp => {
            let l = nonnil(s!().p())?;
            let h = list::head(l);
            let d = d!();
            match i.op {
                O::Headb => d.set_b(h.b()),
                O::Headw | O::Headf | O::Headl => d.set_w(h.w()),
                O::Headp => d.copy_p(heap, h.p()),
                O::Headm => {
                    let n = m!().w();
                    if !(0..=1 << 24).contains(&n) || n as usize > Heap::size_of(l) - list::HEAD {
                        return Err(exc(EX_BOUNDS));
                    }
                    d.copy_from(h, n as usize);
                }
                _ => {
                    let t = cpu.module().types[i.mid.imm() as usize];
                    if t.size > Heap::size_of(l) - list::HEAD {
                        return Err(exc(EX_BOUNDS));
                    }
                    chan::copy(heap, t, d, h);
                }
            }
        }
        O::Tail => {
            let l = nonnil(s!().p())?;
            d!().copy_p(heap, list::tail(l));
        }
        O::Tcmp => {
            let (a, b) = (s!().p(), d!().p());
            if !a.is_null() && (b.is_null() || !std::ptr::eq(Heap::type_of(a), Heap::type_of(b))) {
                return Err(exc(EX_TCHECK));
            }
        }
        O::Movpc => d!().set_w(i.src.imm()),
        O::Case => {
            let v = s!().w();
            let target = case_word(cpu, d!(), v)?;
            cpu.jump(target)?;
        }
        O::Casel => {
            let v = s!().l();
            let target = case_big(cpu, d!(), v)?;
            cpu.jump(target)?;
        }
        O::Casec => {
            let v = s!().p();
            let target = case_string(cpu, d!(), v)?;
            cpu.jump(target)?;
        }
        O::Goto => {
            let k = s!().w();
            let table = d!();
            let target = goto_target(cpu, table, k)?;
            cpu.jump(target)?;
        }
        O::Frame => {
            let t = cpu.module().types[i.src.imm() as usize];
            let f = p.stack.alloc(t);
            d!().set_w(f.ptr() as i64);
        }
        O::Mframe => {
            let ml = nonnil(s!().p()).map_err(|_| exc(EX_MODULE))?;
            let callee = callee(ml, m!().w())?;
            let f = p.stack.alloc(callee.frame());
            d!().set_w(f.ptr() as i64);
        }
        O::Call => {
            let f = top_frame(p, s!().w())?;
            check_extent(cpu.module(), i.dst.imm() as usize, f)?;
            reg(f, REG_LR).set_w(cpu.pc as i64);
            reg(f, REG_FP).set_raw_p(cpu.fp);
            cpu.fp = f.ptr();
            cpu.pc = i.dst.imm() as usize;
        }
        O::Mcall => {
            let ml = nonnil(d!().p()).map_err(|_| exc(EX_MODULE))?;
            let f = top_frame(p, s!().w())?;
            let callee = callee(ml, m!().w())?;
            match callee {
                Callee::Dis { pc, .. } => {
                    let inst = module::instance(ml);
                    let m = inst.dis().expect("Dis callee in a Dis module");
                    check_extent(m, pc, f)?;
                    reg(f, REG_LR).set_w(cpu.pc as i64);
                    reg(f, REG_FP).set_raw_p(cpu.fp);
                    reg(f, REG_MR).set_raw_p(cpu.ml);
                    Heap::inc(ml);
                    cpu.enter(ml);
                    cpu.fp = f.ptr();
                    cpu.pc = pc;
                }
                Callee::Builtin { func } => {
                    vm.sys.close_released(&mut vm.heap);
                    let flow = {
                        let mut call = builtin::Call::new(vm, p.pid, f);
                        (func.run)(&mut call)
                    };
                    vm.wake_io();
                    if let Ok(builtin::Flow::Wait) = flow {
                        // Park on the mcall with its frame: the call runs
                        // again when what it waits for wakes the thread.
                        cpu.pc -= 1;
                        p.state = State::Io;
                        return Ok(Next::Block);
                    }
                    p.stack.pop(&mut vm.heap, f);
                    let flow = flow.map_err(|t| match t {
                        // The exception is the built-in module's.
                        Trap::Raise(e) => Trap::Raise(Exception { builtin: Some(builtin_name(ml)), ..e }),
                        t => t,
                    });
                    match flow? {
                        builtin::Flow::Next | builtin::Flow::Wait => {}
                        builtin::Flow::Sleep(ms) => {
                            p.state = State::Sleep(
                                std::time::Instant::now() + std::time::Duration::from_millis(ms),
                            );
                            return Ok(Next::Block);
                        }
                    }
                }
            }
        }
        O::Ret => {
            let f = cpu.frame();
            let caller = reg(f, REG_FP).raw_p();
            if caller.is_null() {
                return Err(Trap::Exit);
            }
            let lr = reg(f, REG_LR).w() as usize;
            let mr = reg(f, REG_MR).raw_p();
            if !p.stack.pop(heap, f) {
                // Frames above the returning one (allocated and never
                // called) go with it.
                if let Some(k) = p.stack.index_of(f) {
                    p.stack.truncate(heap, k);
                }
            }
            cpu.fp = caller;
            cpu.pc = lr;
            if !mr.is_null() {
                let old = cpu.ml;
                cpu.enter(mr);
                vm.heap.dec(old);
            }
        }
        O::Spawn => {
            let f = top_frame(p, s!().w())?;
            let target = i.dst.imm() as usize;
            check_extent(cpu.module(), target, f)?;
            spawn(vm, p, f, cpu.ml, target);
        }
        O::Mspawn => {
            let ml = nonnil(d!().p()).map_err(|_| exc(EX_MODULE))?;
            let f = top_frame(p, s!().w())?;
            match callee(ml, m!().w())? {
                Callee::Dis { pc, .. } => {
                    let m = module::instance(ml).dis().expect("Dis callee in a Dis module");
                    check_extent(m, pc, f)?;
                    spawn(vm, p, f, ml, pc);
                }
                Callee::Builtin { .. } => return Err(exc(EX_SPAWN)),
            }
        }
        O::Load => {
            let path = string::to_string(s!().p());
            let k = m!().w();
            let ml = load(vm, p, cpu, &path, k);
            d!().put_p(&mut vm.heap, ml);
        }
        O::Self_ => d!().copy_p(heap, cpu.ml),
        O::Exit => return Err(Trap::Exit),
        O::Raise => {
            let v = nonnil(s!().p())?;
            let msg = match Heap::type_of(v).kind {
                types::Kind::String => string::to_string(v),
                // An exception value starts with its name.
                _ => string::to_string(obj(v).p()),
            };
            Heap::inc(v);
            return Err(Trap::Raise(Exception { msg, value: v, builtin: None }));
        }
        O::Send => {
            let c = d!().p();
            if !chan::send(vm, p, c, s!())? {
                return Ok(Next::Block);
            }
        }
        O::Recv => {
            let c = s!().p();
            if !chan::recv(vm, p, c, d!())? {
                return Ok(Next::Block);
            }
        }
        O::Alt | O::Nbalt => {
            let block = s!();
            let dst = d!();
            match chan::alt(vm, p, block, i.op == O::Alt)? {
                Some(k) => dst.set_w(k as i64),
                None => {
                    p.chan_ptr = Some(dst);
                    return Ok(Next::Block);
                }
            }
        }
    }
    Ok(Next::Go)
}

/// The fixed-point instructions, on whole words: `x` is the middle
/// operand, `y` the source, the shift `p` the word at `DTMP` (or the
/// middle operand for the `cvtxx` forms) and the scale factor the word at
/// `STMP`. For the `1` forms, bits 0 and 1 of `p` ask for rounding
/// corrections and the shift is the rest.
fn fixed(cpu: &mut Cpu, i: &Inst) -> Result<(), Trap> {
    let f = cpu.frame();
    let p = reg(f, stack::DTMP).w();
    let a = reg(f, stack::STMP).w();
    let y = cpu.addr(&i.src)?.w();
    let x = cpu.mid(i)?.w();
    let d = cpu.addr(&i.dst)?;
    let div = |n: i64, q: i64| if q == 0 { Err(exc(EX_ZDIV)) } else { Ok(n.wrapping_div(q)) };
    let opposite = |x: i64, y: i64| (x >= 0 && y < 0) || (x < 0 && y >= 0);
    // The correction bits of the `1` forms, and the shift that remains.
    let split = |p: i64| (p & 2 != 0, p & 1 != 0, p >> 2);
    let low = |p: i64| 1i64.wrapping_shl(sh(p.wrapping_neg())).wrapping_sub(1);
    let r = match i.op {
        O::Mulx => scale(x.wrapping_mul(y), p),
        O::Divx => div(scale(x, p), y)?,
        // cvtxx: the middle operand is the shift.
        O::Cvtxx => scale(y, x),
        O::Mulx0 if x == 0 || y == 0 => 0,
        O::Mulx0 => div(scale(x.wrapping_mul(y), p), a)?,
        O::Divx0 if x == 0 => 0,
        O::Divx0 => div(scale(a.wrapping_mul(x), p), y)?,
        // cvtxx0 and cvtxx1 convert the source by the middle operand's shift.
        O::Cvtxx0 if y == 0 => 0,
        O::Cvtxx0 => div(scale(y, x), a)?,
        O::Mulx1 if x == 0 || y == 0 => 0,
        O::Mulx1 => {
            let (vnz, wnz, p) = split(p);
            let v = match vnz {
                false => 0,
                true if opposite(x, y) => a.wrapping_sub(1).wrapping_neg(),
                true => a.wrapping_sub(1),
            };
            let same = (x > 0 && y > 0) || (x < 0 && y < 0);
            let differ = (x > 0 && y < 0) || (x < 0 && y > 0);
            let w = if wnz && ((!vnz && differ) || (vnz && same)) { low(p) } else { 0 };
            div(scale(x.wrapping_mul(y).wrapping_add(w), p).wrapping_add(v), a)?
        }
        O::Divx1 if x == 0 => 0,
        O::Divx1 => {
            let (vnz, wnz, p) = split(p);
            let v = match vnz {
                false => 0,
                true if opposite(x, y) => -1,
                true => 1,
            };
            let w = if wnz && x <= 0 { low(p) } else { 0 };
            div(scale(a.wrapping_mul(x).wrapping_add(w), p), y)?.wrapping_add(v)
        }
        _ if y == 0 => 0,
        _ => {
            // cvtxx1
            let (vnz, wnz, p) = split(x);
            let v = match vnz {
                false => 0,
                true if y < 0 => a.wrapping_sub(1).wrapping_neg(),
                true => a.wrapping_sub(1),
            };
            let w = if wnz && ((!vnz && y < 0) || (vnz && y > 0)) { low(p) } else { 0 };
            div(scale(y.wrapping_add(w), p).wrapping_add(v), a)?
        }
    };
    d.set_w(r);
    Ok(())
}

/// A frame operand of `call`, `mcall` or `spawn`: it must be the thread's
/// newest frame.
fn top_frame(p: &Prog, f: i64) -> Result<Addr, Trap> {
    match p.stack.top() {
        Some(t) if t.ptr() as i64 == f => Ok(t),
        _ => Err(exc(EX_FRAME)),
    }
}

/// The function at `pc` needs a frame at least as large as its operands reach.
fn check_extent(m: &Module, pc: usize, f: Addr) -> Result<(), Trap> {
    if m.entry_extent.get(pc).is_some_and(|&e| e as usize <= frame_type(f).size) {
        Ok(())
    } else {
        Err(exc(EX_FRAME))
    }
}

/// The name of a built-in module's link.
fn builtin_name(ml: Ptr) -> &'static str {
    match module::instance(ml).module {
        module::ModRef::Builtin(b) => b.name,
        module::ModRef::Dis(_) => "",
    }
}

/// Link `k` of a module link: an import (k >= 0) or the module's own
/// export `-k-1`.
fn callee(ml: Ptr, k: i64) -> Result<Callee, Trap> {
    let inst = module::instance(ml);
    if k >= 0 {
        return inst.links.get(k as usize).copied().ok_or_else(|| exc(EX_BOUNDS));
    }
    let j = (-k - 1) as usize;
    match inst.dis() {
        Some(m) => m.link_callee(j).ok_or_else(|| exc(EX_BOUNDS)),
        None => Err(exc(EX_MODULE)),
    }
}

/// Starts a thread running `pc` of module link `ml` in a copy of frame `f`,
/// which leaves this thread's stack.
fn spawn(vm: &mut Vm, p: &mut Prog, f: Addr, ml: Ptr, pc: usize) {
    let t = frame_type(f);
    let mut stack = stack::Stack::new();
    let nf = stack.alloc(t);
    nf.copy_from(f, t.size);
    reg(nf, REG_FP).set_raw_p(std::ptr::null_mut());
    reg(nf, REG_LR).set_w(0);
    reg(nf, REG_MR).set_raw_p(std::ptr::null_mut());
    reg(nf, REG_RET).set_raw_p(std::ptr::null_mut());
    // The pointers moved with the frame.
    p.stack.forget_top();
    Heap::inc(ml);
    let regs = crate::prog::Regs { pc, fp: nf.ptr(), ml };
    vm.add_prog(regs, stack, p.group);
}

/// `load`: a new instance of the module at `path`, linked to this module's
/// import list `k`; nil (with the error string set) if that fails.
fn load(vm: &mut Vm, p: &mut Prog, cpu: &Cpu, path: &str, k: i64) -> Ptr {
    let m = cpu.module();
    let want: Vec<dis::Import> =
        match m.image.imports.as_ref().and_then(|v| usize::try_from(k).ok().and_then(|k| v.get(k))) {
            Some(w) => w.clone(),
            None => {
                vm.set_errstr(p.pid, "bad import table index".into());
                return std::ptr::null_mut();
            }
        };
    let r = if path == "$self" {
        let me = module::instance(cpu.ml).dis().cloned().expect("running a Dis module");
        let mut links = Vec::new();
        let mut err = None;
        for w in &want {
            match me.export(&w.name) {
                Some(l) if l.sig == w.sig && l.pc >= 0 => {
                    links.push(Callee::Dis { pc: l.pc as usize, frame: me.types[l.frame as usize] })
                }
                _ => err = Some(format!("link failed fn {}->{}()", me.name, w.name)),
            }
        }
        match err {
            Some(e) => Err(crate::LoadError::Link(e)),
            None => {
                let mp = module::instance(cpu.ml).mp;
                Heap::inc(mp);
                Ok(module::new_link(
                    &mut vm.heap,
                    module::Instance { module: module::ModRef::Dis(me), mp, links },
                ))
            }
        }
    } else if let Some(b) = builtin::modules().into_iter().find(|b| b.name == path) {
        vm.instantiate_builtin(b, &want)
    } else if path.starts_with('$') {
        Err(crate::LoadError::Link(format!("{path}: no such built-in module")))
    } else {
        let resolved = vm.sys.resolve(path);
        vm.load_module(&resolved).and_then(|m| vm.instantiate(&m, &want))
    };
    match r {
        Ok(ml) => ml,
        Err(e) => {
            vm.set_errstr(p.pid, e.to_string());
            std::ptr::null_mut()
        }
    }
}

/// Reads word `k` of a jump table in module data, which must lie inside it.
fn table_word(cpu: &Cpu, table: Addr, k: usize) -> Result<i64, Trap> {
    let mp = cpu.mp as usize;
    let size = cpu.module().mp_type().map_or(0, |t| t.size);
    let at = table.ptr() as usize + k * 8;
    if at < mp || at + 8 > mp + size {
        return Err(exc(EX_PC));
    }
    // SAFETY: inside module data, just checked.
    Ok(unsafe { Addr::new(at as *mut u8) }.w())
}

/// `case`: a count, then (low, high, pc) triples sorted by range, then the
/// default pc.
fn case_word(cpu: &Cpu, t: Addr, v: i64) -> Result<i64, Trap> {
    let n = table_word(cpu, t, 0)?;
    let n = if n < 0 { -n - 1 } else { n } as usize;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let base = 1 + mid * 3;
        if v < table_word(cpu, t, base)? {
            hi = mid;
        } else if v >= table_word(cpu, t, base + 1)? {
            lo = mid + 1;
        } else {
            return table_word(cpu, t, base + 2);
        }
    }
    table_word(cpu, t, 1 + n * 3)
}

/// `casel`: a count padded to two words, then (low, high, pc, pad)
/// quadruples of 8-byte values, then the default pc.
fn case_big(cpu: &Cpu, t: Addr, v: i64) -> Result<i64, Trap> {
    let n = table_word(cpu, t, 0)?;
    let n = if n < 0 { -n - 1 } else { n } as usize;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let base = 2 + mid * 4;
        if v < table_word(cpu, t, base)? {
            hi = mid;
        } else if v >= table_word(cpu, t, base + 1)? {
            lo = mid + 1;
        } else {
            return table_word(cpu, t, base + 2);
        }
    }
    table_word(cpu, t, 2 + n * 4)
}

/// `casec`: a count, then (low string, high string or nil, pc) triples,
/// then the default pc.
fn case_string(cpu: &Cpu, t: Addr, v: Ptr) -> Result<i64, Trap> {
    let n = table_word(cpu, t, 0)?;
    let n = if n < 0 { -n - 1 } else { n } as usize;
    let s = |k: usize| -> Result<Ptr, Trap> { Ok(table_word(cpu, t, k)? as Ptr) };
    for k in 0..n {
        let base = 1 + k * 3;
        let (lo, hi) = (s(base)?, s(base + 1)?);
        let hit = if hi.is_null() {
            string::cmp(lo, v) == Ordering::Equal
        } else {
            string::cmp(lo, v) != Ordering::Greater && string::cmp(hi, v) != Ordering::Less
        };
        if hit {
            return table_word(cpu, t, base + 2);
        }
    }
    table_word(cpu, t, 1 + n * 3)
}

/// `goto`: entry `k` of the pcs at `table`, whose count is the word before.
fn goto_target(cpu: &Cpu, table: Addr, k: i64) -> Result<i64, Trap> {
    // SAFETY: only read after the bounds check in table_word.
    let count_at = unsafe { Addr::new(table.ptr().wrapping_sub(8)) };
    let n = table_word(cpu, count_at, 0)?;
    if k < 0 || k >= n {
        return Err(exc(EX_PC));
    }
    table_word(cpu, table, k as usize)
}
