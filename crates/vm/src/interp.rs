//! The interpreter: runs a thread's instructions for a quantum.
//!
//! Most instructions run on the fast path (`fast`): handlers chosen at
//! load time for each instruction's opcode and addressing modes. The rest,
//! and everything rare, run here on the general path, `step`, with the
//! registers in a [`Cpu`]. Either way, what the loader proved (frame and
//! module-data offsets, branch targets, type indices) is not checked again,
//! what it could not (nil pointers, array indices, frames handed to `call`)
//! is.

use std::cmp::Ordering;

use dis::Opcode as O;

use crate::heap::{load_ptr, Heap, Ptr};
use crate::mem::{obj, Addr};
use crate::module::{self, Callee, Inst, Mode, Module, Opnd};
use crate::prog::{Prog, State};
use crate::shadow::Access;
use crate::stack::{self, frame_type, reg, REG_FP, REG_LR, REG_MR, REG_RET};
use crate::types::{self, Type};
use crate::{array, builtin, chan, exc, list, string, Exception, Trap, Vm};
use crate::{
    EX_BOUNDS, EX_FRAME, EX_MODULE, EX_NEGSIZE, EX_NILREF, EX_PC, EX_SEGV, EX_SPAWN, EX_TCHECK, EX_ZDIV,
};

pub(crate) mod check;
use check::Mem;
mod fast;
pub(crate) use fast::{translate, XInst};

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
    fn addr(&self, mem: Mem, o: &Opnd) -> Result<Addr, Trap> {
        // The loader checked frame offsets against the function's frame
        // type, which every call checks against the frame it gets, and
        // module-data offsets against the data size.
        // SAFETY: so every address below lies inside its frame or data.
        let a = unsafe {
            if o.mode == Mode::Fp {
                Addr::new(self.fp.add(o.v as usize))
            } else if o.mode == Mode::Imm {
                // A block operand's immediate is its pool cell, where
                // checks find it.
                if o.size == 0 {
                    return Ok(self.imm_cell(o));
                }
                Addr::new(&o.v as *const i64 as *mut u8)
            } else if o.mode == Mode::Mp {
                Addr::new(self.mp.add(o.v as usize))
            } else {
                return self.indirect(mem, o);
            }
        };
        if o.loose && !mem.nil_or_object(a.raw_p()) {
            return Err(exc(EX_SEGV));
        }
        Ok(a)
    }

    /// The writable cell holding an immediate operand's value.
    fn imm_cell(&self, o: &Opnd) -> Addr {
        // SAFETY: pool cells live as long as the module and may be written.
        unsafe { Addr::new(self.module().imms[o.base as usize].as_ptr() as *mut u8) }
    }

    /// Indirect operands: through a pointer in the frame or module data,
    /// checked for the access the instruction makes (an operand of size 0
    /// is checked by its instruction, which alone knows how much it uses).
    fn indirect(&self, mem: Mem, o: &Opnd) -> Result<Addr, Trap> {
        let base = match o.mode {
            Mode::IndFp => self.fp,
            Mode::IndMp => self.mp,
            _ => return Err(exc(EX_PC)),
        };
        // SAFETY: the loader checked the pointer slot's offset against the
        // function's frame type or the data size.
        let b = unsafe { load_ptr(base.add(o.base as usize)) };
        if b.is_null() {
            return Err(exc(EX_NILREF));
        }
        let a = b.wrapping_add(o.v as usize);
        if o.size != 0 {
            mem.check(a, o.size as usize, o.acc).map_err(exc)
        } else {
            // SAFETY: the instruction checks the block before it uses it.
            Ok(unsafe { Addr::new(a) })
        }
    }

    /// The middle operand, or the destination when it is absent.
    #[inline(always)]
    fn mid(&self, mem: Mem, i: &Inst) -> Result<Addr, Trap> {
        if i.mid.mode == Mode::None {
            self.addr(mem, &i.dst)
        } else {
            self.addr(mem, &i.mid)
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

/// Runs thread `p` for at most `budget` instructions.
pub fn run(vm: &mut Vm, p: &mut Prog, budget: u32) -> Status {
    fast::run(vm, p, budget)
}

/// Runs thread `p` for the mixed-mode dispatcher: at most `budget`
/// instructions, stopping before one where compiled code may be entered
/// (`native::Code::stops`); returns how it stopped and how many ran.
pub fn run_until_native(vm: &mut Vm, p: &mut Prog, budget: u32) -> (Status, u32) {
    fast::run_until::<true>(vm, p, budget)
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
        let found = inst.dis().and_then(|m| find_handler(m, pc, &e.msg, is_str).map(|h| (m, h)));
        // SAFETY: fp is a live frame.
        let found =
            found.filter(|&(m, (_, eoff, desc))| handler_fits(unsafe { Addr::new(fp) }, m, eoff, desc));
        if let Some((_, (hpc, eoff, desc))) = found {
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

/// Whether a handler's exception slot and the locals it resets are pointer
/// slots of the frame it runs in, as Limbo makes them: only those hold
/// references (frames zero nothing else), so only those may be dropped.
/// A handler that does not fit is not taken.
fn handler_fits(f: Addr, m: &Module, eoff: usize, desc: i32) -> bool {
    let t = frame_type(f);
    let is_ptr = |o: usize| o + 8 <= t.size && t.ptrs.contains(&(o as u32));
    let locals = match usize::try_from(desc) {
        Ok(d) => m.types.get(d).is_some_and(|lt| lt.ptrs.iter().all(|&o| is_ptr(o as usize))),
        Err(_) => true,
    };
    is_ptr(eoff) && locals
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
    p.stack.free_above(&mut vm.heap, Some(unsafe { Addr::new(fp) }));
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
    macro_rules! mem {
        () => {
            Mem { shadow: &vm.heap.shadow, stack: &p.stack, module: cpu.module() }
        };
    }
    macro_rules! s {
        () => {
            cpu.addr(mem!(), &i.src)?
        };
    }
    macro_rules! d {
        () => {
            cpu.addr(mem!(), &i.dst)?
        };
    }
    macro_rules! m {
        () => {
            cpu.mid(mem!(), i)?
        };
    }
    // Checks a block operand (size 0 in the table) once its size is known.
    macro_rules! block {
        ($a:expr, $size:expr, $acc:expr) => {
            mem!().check($a.ptr(), $size, $acc).map_err(exc)?
        };
    }
    macro_rules! typed {
        ($a:expr, $t:expr, $write:expr) => {
            mem!().check_typed($a.ptr(), $t, $write).map_err(exc)?
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
            if matches!(string::cmp(kind!(s!(), string::STRING), kind!(m!(), string::STRING)), $($ord)|+) {
                cpu.pc = i.dst.imm() as usize;
            }
        }};
    }
    macro_rules! heap {
        () => {
            &mut vm.heap
        };
    }
    // The pointer at address `$a`, if it is nil or an object of the kind
    // whose type is `$t` (`ARRAY`, `STRING`, `LIST`).
    macro_rules! kind {
        ($a:expr, $t:expr) => {
            of_kind($a.p(), &$t).map_err(exc)?
        };
    }
    match i.op {
        O::Nop | O::Runt | O::Eclr => {}
        O::Movb => d!().set_b(s!().b()),
        O::Movw => d!().set_w(s!().w()),
        O::Movf => d!().set_f(s!().f()),
        O::Movl => d!().set_l(s!().l()),
        O::Movp => {
            let v = s!().p();
            d!().copy_p(heap!(), v);
        }
        O::Movm => {
            let n = m!().w();
            if !(0..=1 << 24).contains(&n) {
                return Err(exc(EX_BOUNDS));
            }
            let n = n as usize;
            let (src, dst) = (block!(s!(), n, Access::Read), block!(d!(), n, Access::Write));
            dst.copy_from(src, n);
        }
        O::Movmp => {
            let t = cpu.module().types[i.mid.imm() as usize];
            let (src, dst) = (typed!(s!(), t, false), typed!(d!(), t, true));
            chan::copy(heap!(), t, dst, src);
        }
        O::Lea => d!().set_w(s!().ptr() as i64),
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
            fixed(cpu, mem!(), i)?
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
            let a = kind!(s!(), array::ARRAY);
            let k = d!().w();
            let k = bounds(k, array::len(a))?;
            if !elem_fits(index_width(i.op), array::elem_type(a).size) {
                return Err(exc(EX_BOUNDS));
            }
            m!().set_w(array::elem(a, k).ptr() as i64);
        }
        O::Lena => d!().set_w(array::len(kind!(s!(), array::ARRAY)) as i64),
        O::Lenc => d!().set_w(string::len(kind!(s!(), string::STRING)) as i64),
        O::Lenl => {
            let mut l = kind!(s!(), list::LIST);
            let mut n = 0;
            while !l.is_null() {
                n += 1;
                l = list::tail(l);
            }
            d!().set_w(n);
        }
        O::Indc => {
            let s = nonnil(kind!(s!(), string::STRING))?;
            let k = bounds(m!().w(), string::len(s))?;
            d!().set_w(string::rune(s, k) as i64);
        }
        O::Insc => {
            let r = s!().w();
            let k = m!().w();
            let d = d!();
            let s = kind!(d, string::STRING);
            if k < 0 || k as usize > string::len(s) {
                return Err(exc(EX_BOUNDS));
            }
            let n = string::insert(heap!(), s, k as usize, string::rune_of_word(r));
            d.put_p(heap!(), n);
        }
        O::Addc => {
            let (b, m, d) = (kind!(s!(), string::STRING), m!(), d!());
            let a = kind!(m, string::STRING);
            // Concatenation doubles a string in one instruction.
            if !vm.heap.has_room(4 * (string::len(a) + string::len(b)) as u128) {
                return Err(exc(crate::EX_HEAP));
            }
            let n = string::add(heap!(), a, b, m.ptr() == d.ptr());
            d.put_p(heap!(), n);
        }
        O::Slicec => {
            let (from, to) = (s!().w(), m!().w());
            let d = d!();
            let s = kind!(d, string::STRING);
            if from < 0 || to < from || to as usize > string::len(s) {
                return Err(exc(EX_BOUNDS));
            }
            let n = string::slice(heap!(), s, from as usize, to as usize);
            d.put_p(heap!(), n);
        }
        O::Slicea => {
            let (from, to) = (s!().w(), m!().w());
            let d = d!();
            let a = kind!(d, array::ARRAY);
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
            let n = array::slice(heap!(), a, from as usize, to as usize);
            d.put_p(heap!(), n);
        }
        O::Slicela => {
            let src = kind!(s!(), array::ARRAY);
            let off = m!().w();
            let dst = kind!(d!(), array::ARRAY);
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
                    chan::copy(heap!(), t, array::elem(dst, off as usize + k), from);
                }
            }
        }
        // Instructions that make an object resolve their destination
        // first: a nil one raises before the object exists, not after,
        // which would leave it unreferenced.
        O::Cvtca => {
            let (b, d) = (string::to_utf8(kind!(s!(), string::STRING)), d!());
            let a = array::from_bytes(heap!(), &b);
            d.put_p(heap!(), a);
        }
        O::Cvtac => {
            let (a, d) = (kind!(s!(), array::ARRAY), d!());
            let s = string::from_utf8(heap!(), array::bytes(a));
            d.put_p(heap!(), s);
        }
        O::Cvtwc => {
            // Inferno formats the word with `%d`, which takes its low 32 bits.
            let (v, d) = (s!().w(), d!());
            let s = string::from_str(heap!(), &(v as i32).to_string());
            d.put_p(heap!(), s);
        }
        O::Cvtlc => {
            let (v, d) = (s!().l(), d!());
            let s = string::from_str(heap!(), &v.to_string());
            d.put_p(heap!(), s);
        }
        O::Cvtfc => {
            let (v, d) = (s!().f(), d!());
            let s = string::from_str(heap!(), &builtin::fmt::real_to_string(v));
            d.put_p(heap!(), s);
        }
        O::Cvtcw => d!().set_w(string::to_word(kind!(s!(), string::STRING))),
        O::Cvtcl => d!().set_l(string::to_big(kind!(s!(), string::STRING))),
        O::Cvtcf => d!().set_f(string::to_real(kind!(s!(), string::STRING))),
        O::New | O::Newz => {
            let t = cpu.module().types[i.src.imm() as usize];
            let d = d!();
            let o = heap!().alloc(t, 0);
            d.put_p(heap!(), o);
        }
        O::Mnewz => {
            let ml = module_link(s!().p())?;
            let k = m!().w();
            let t = match module::instance(ml).dis() {
                Some(m) => *m.types.get(k as usize).ok_or_else(|| exc(EX_BOUNDS))?,
                None => return Err(exc(EX_MODULE)),
            };
            let d = d!();
            let o = heap!().alloc(t, 0);
            d.put_p(heap!(), o);
        }
        O::Newa | O::Newaz => {
            let n = s!().w();
            let t = cpu.module().types[i.mid.imm() as usize];
            if n < 0 {
                return Err(exc(EX_NEGSIZE));
            }
            if !vm.heap.has_room((n as u128) * (t.size as u128)) {
                return Err(exc(crate::EX_HEAP));
            }
            let d = d!();
            let a = array::alloc(heap!(), t, n as usize);
            d.put_p(heap!(), a);
        }
        O::Newcb | O::Newcw | O::Newcf | O::Newcp | O::Newcl | O::Newcm | O::Newcmp => {
            let cap = if i.mid.mode == Mode::None { 0 } else { cpu.addr(mem!(), &i.mid)?.w() };
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
            if !vm.heap.has_room((cap as u128) * (t.size as u128)) {
                return Err(exc(crate::EX_HEAP));
            }
            let d = d!();
            let heap = &mut vm.heap;
            let c = chan::new(heap, t, cap as usize);
            d.put_p(heap, c);
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
            let src = match (i.op, elem) {
                (O::Consm, _) => block!(s!(), size, Access::Read),
                (O::Consmp, Some(t)) => typed!(s!(), t, false),
                _ => s!(),
            };
            let d = d!();
            let cell = list::cons(heap!(), size, elem, kind!(d, list::LIST));
            let h = list::head(cell);
            match i.op {
                O::Consb => h.set_b(src.b()),
                O::Consw | O::Consf | O::Consl => h.set_w(src.w()),
                O::Consp => h.copy_p(heap!(), src.p()),
                O::Consm => h.copy_from(src, size),
                _ => {
                    let t = elem.expect("consmp has a type");
                    src.inc_ptrs(t);
                    h.copy_from(src, t.size);
                }
            }
            d.put_p(heap!(), cell);
        }
        O::Headb | O::Headw | O::Headp | O::Headf | O::Headl | O::Headm | O::Headmp => {
            let l = nonnil(kind!(s!(), list::LIST))?;
            let h = match i.op {
                O::Headb => list_head(l, 1, false),
                O::Headw | O::Headf | O::Headl => list_head(l, 8, false),
                O::Headp => list_head(l, 8, true),
                // headm and headmp check the size they copy below.
                _ => Ok(list::head(l)),
            }
            .map_err(exc)?;
            let d = d!();
            match i.op {
                O::Headb => d.set_b(h.b()),
                O::Headw | O::Headf | O::Headl => d.set_w(h.w()),
                O::Headp => d.copy_p(heap!(), h.p()),
                O::Headm => {
                    let n = m!().w();
                    if !(0..=1 << 24).contains(&n) || n as usize > Heap::size_of(l) - list::HEAD {
                        return Err(exc(EX_BOUNDS));
                    }
                    let d = block!(d, n as usize, Access::Write);
                    d.copy_from(h, n as usize);
                }
                _ => {
                    let t = cpu.module().types[i.mid.imm() as usize];
                    if t.size > Heap::size_of(l) - list::HEAD {
                        return Err(exc(EX_BOUNDS));
                    }
                    // Its pointers are counted: the head must hold them.
                    if !t.ptrs.is_empty() && !list::elem_type(l).is_some_and(|e| e.covers(t)) {
                        return Err(exc(EX_SEGV));
                    }
                    let d = typed!(d, t, true);
                    chan::copy(heap!(), t, d, h);
                }
            }
        }
        O::Tail => {
            let l = nonnil(kind!(s!(), list::LIST))?;
            d!().copy_p(heap!(), list::tail(l));
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
            let v = kind!(s!(), string::STRING);
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
            let ml = module_link(s!().p())?;
            let callee = callee(ml, m!().w())?;
            let f = p.stack.alloc(callee.frame());
            d!().set_w(f.ptr() as i64);
        }
        O::Call => {
            let f = top_frame(p, s!().w())?;
            check_frame(cpu.module(), i.dst.imm() as usize, f)?;
            reg(f, REG_LR).set_w(cpu.pc as i64);
            reg(f, REG_FP).set_raw_p(cpu.fp);
            cpu.fp = f.ptr();
            cpu.pc = i.dst.imm() as usize;
        }
        O::Mcall => {
            let ml = module_link(d!().p())?;
            let f = top_frame(p, s!().w())?;
            let callee = callee(ml, m!().w())?;
            match callee {
                Callee::Dis { pc, .. } => {
                    let inst = module::instance(ml);
                    let m = inst.dis().ok_or_else(|| exc(EX_MODULE))?;
                    check_frame(m, pc, f)?;
                    reg(f, REG_LR).set_w(cpu.pc as i64);
                    reg(f, REG_FP).set_raw_p(cpu.fp);
                    reg(f, REG_MR).set_raw_p(cpu.ml);
                    Heap::inc(ml);
                    cpu.enter(ml);
                    cpu.fp = f.ptr();
                    cpu.pc = pc;
                }
                Callee::Builtin { func } => {
                    // The built-in reads its arguments by its own frame type.
                    if !frame_type(f).covers(func.frame()) {
                        return Err(exc(EX_FRAME));
                    }
                    vm.sys.close_released(&mut vm.heap);
                    let flow = {
                        let m = cpu.module();
                        let mut call = builtin::Call::new(vm, p.pid, f, &p.stack, m);
                        let flow = (func.run)(&mut call);
                        if call.fault {
                            Err(exc(EX_SEGV))
                        } else {
                            flow
                        }
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
            if !p.stack.pop(heap!(), f) {
                // Frames above the returning one (allocated and never
                // called) go with it.
                p.stack.free_from(heap!(), f);
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
            check_frame(cpu.module(), target, f)?;
            spawn(vm, p, f, cpu.ml, target);
        }
        O::Mspawn => {
            let ml = module_link(d!().p())?;
            let f = top_frame(p, s!().w())?;
            match callee(ml, m!().w())? {
                Callee::Dis { pc, .. } => {
                    let m = module::instance(ml).dis().ok_or_else(|| exc(EX_MODULE))?;
                    check_frame(m, pc, f)?;
                    spawn(vm, p, f, ml, pc);
                }
                Callee::Builtin { .. } => return Err(exc(EX_SPAWN)),
            }
        }
        O::Load => {
            let path = string::to_string(kind!(s!(), string::STRING));
            let k = m!().w();
            let ml = load(vm, p, cpu, &path, k);
            d!().put_p(&mut vm.heap, ml);
        }
        O::Self_ => d!().copy_p(heap!(), cpu.ml),
        O::Exit => return Err(Trap::Exit),
        O::Raise => {
            let v = nonnil(s!().p())?;
            let t = Heap::type_of(v);
            let msg = match t.kind {
                types::Kind::String => string::to_string(v),
                // An exception value starts with its name.
                types::Kind::Record if t.is_pointer(0) => string::to_string(kind!(obj(v), string::STRING)),
                _ => return Err(exc(EX_SEGV)),
            };
            Heap::inc(v);
            return Err(Trap::Raise(Exception { msg, value: v, builtin: None }));
        }
        O::Send => {
            let c = d!().p();
            let v = typed!(s!(), chan::elem_type(c)?, false);
            if !chan::send(vm, p, c, v)? {
                return Ok(Next::Block);
            }
        }
        O::Recv => {
            let c = s!().p();
            let v = typed!(d!(), chan::elem_type(c)?, true);
            if !chan::recv(vm, p, c, v)? {
                return Ok(Next::Block);
            }
        }
        O::Alt | O::Nbalt => {
            let block = s!();
            let dst = d!();
            chan::check_alt(block, mem!()).map_err(exc)?;
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
fn fixed(cpu: &Cpu, mem: Mem, i: &Inst) -> Result<(), Trap> {
    let f = cpu.frame();
    let p = reg(f, stack::DTMP).w();
    let a = reg(f, stack::STMP).w();
    let y = cpu.addr(mem, &i.src)?.w();
    let x = cpu.mid(mem, i)?.w();
    let d = cpu.addr(mem, &i.dst)?;
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

/// The bytes an `ind*` instruction's result is used for: at most the
/// array's element size.
pub fn index_width(op: O) -> usize {
    match op {
        O::Indw | O::Indf | O::Indl => 8,
        O::Indb => 1,
        _ => 0,
    }
}

/// Whether elements of `size` bytes suit an `ind*` of `width`: as large, and
/// whole words for a word index, so that every element stays aligned. Limbo
/// never asks for another; a hostile module gets an array bounds error.
#[inline]
pub fn elem_fits(width: usize, size: usize) -> bool {
    width <= size && (width < 8 || size.is_multiple_of(8))
}

/// A frame operand of `call`, `mcall` or `spawn`: it must be the thread's
/// newest frame.
fn top_frame(p: &Prog, f: i64) -> Result<Addr, Trap> {
    match p.stack.top() {
        Some(t) if t.ptr() as i64 == f => Ok(t),
        _ => Err(exc(EX_FRAME)),
    }
}

/// The function at `pc` of `m` runs only in a frame of the type its
/// operands were checked against.
fn check_frame(m: &Module, pc: usize, f: Addr) -> Result<(), Trap> {
    if m.entry_type.get(pc).copied().flatten().is_some_and(|t| t.same_layout(frame_type(f))) {
        Ok(())
    } else {
        Err(exc(EX_FRAME))
    }
}

/// `p` if it is nil or an object of type `t`, one of the built-in kinds'
/// types (`array::ARRAY`, `string::STRING`, `list::LIST`): only a hostile
/// module hands an instruction an object of another kind.
#[inline(always)]
pub(crate) fn of_kind(p: Ptr, t: &'static Type) -> Result<Ptr, &'static str> {
    if p.is_null() || std::ptr::eq(Heap::type_of(p), t) {
        Ok(p)
    } else {
        Err(EX_SEGV)
    }
}

/// The head of list cell `l` (not nil), if it holds `size` bytes, and a
/// pointer at its start when `ptr`: a hostile module may ask a list of
/// bytes for a word, or a list of ints for a pointer.
pub(crate) fn list_head(l: Ptr, size: usize, ptr: bool) -> Result<Addr, &'static str> {
    let fits = Heap::size_of(l) - list::HEAD >= size;
    if fits && (!ptr || list::elem_type(l).is_some_and(|t| t.is_pointer(0))) {
        Ok(list::head(l))
    } else {
        Err(EX_SEGV)
    }
}

/// The name of a built-in module's link.
fn builtin_name(ml: Ptr) -> &'static str {
    match module::instance(ml).module {
        module::ModRef::Builtin(b) => b.name,
        module::ModRef::Dis(_) => "",
    }
}

/// `p` as a module link: nil, or any other kind of object (which only a
/// hostile module could offer), is not a loaded module.
fn module_link(p: Ptr) -> Result<Ptr, Trap> {
    if !p.is_null() && std::ptr::eq(Heap::type_of(p), &module::MODLINK) {
        Ok(p)
    } else {
        Err(exc(EX_MODULE))
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
    let mut stack = stack::Stack::counted(vm.stacks.clone());
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
    let at = k.checked_mul(8).and_then(|o| o.checked_add(table.ptr() as usize));
    match at {
        Some(at) if at >= mp && at.checked_add(8).is_some_and(|end| end <= mp + size) => {
            // SAFETY: inside module data, just checked.
            Ok(unsafe { Addr::new(at as *mut u8) }.w())
        }
        _ => Err(exc(EX_PC)),
    }
}

/// The number of arms of the case table at `t`, whose arms take `stride`
/// words after a head of `head` words and before the default pc. The
/// loader checked the table, but the program may since have rewritten its
/// count, so the whole table must still lie in module data.
fn case_arms(cpu: &Cpu, t: Addr, head: usize, stride: usize) -> Result<usize, Trap> {
    let n = usize::try_from(dis::opcode::case_arms(table_word(cpu, t, 0)?)).map_err(|_| exc(EX_PC))?;
    let default = n.checked_mul(stride).and_then(|w| w.checked_add(head)).ok_or_else(|| exc(EX_PC))?;
    table_word(cpu, t, default)?;
    Ok(n)
}

/// `case`: a count, then (low, high, pc) triples sorted by range, then the
/// default pc.
fn case_word(cpu: &Cpu, t: Addr, v: i64) -> Result<i64, Trap> {
    case_search(cpu, t, v, 1, 3)
}

/// `casel`: a count padded to two words, then (low, high, pc, pad)
/// quadruples of 8-byte values, then the default pc.
fn case_big(cpu: &Cpu, t: Addr, v: i64) -> Result<i64, Trap> {
    case_search(cpu, t, v, 2, 4)
}

/// Binary search of a `case` or `casel` table for the arm holding `v`.
fn case_search(cpu: &Cpu, t: Addr, v: i64, head: usize, stride: usize) -> Result<i64, Trap> {
    let n = case_arms(cpu, t, head, stride)?;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let base = head + mid * stride;
        if v < table_word(cpu, t, base)? {
            hi = mid;
        } else if v >= table_word(cpu, t, base + 1)? {
            lo = mid + 1;
        } else {
            return table_word(cpu, t, base + 2);
        }
    }
    table_word(cpu, t, head + n * stride)
}

/// `casec`: a count, then (low string, high string or nil, pc) triples,
/// then the default pc.
fn case_string(cpu: &Cpu, t: Addr, v: Ptr) -> Result<i64, Trap> {
    let n = case_arms(cpu, t, 1, 3)?;
    let s = |k: usize| -> Result<Ptr, Trap> {
        of_kind(table_word(cpu, t, k)? as Ptr, &string::STRING).map_err(exc)
    };
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
