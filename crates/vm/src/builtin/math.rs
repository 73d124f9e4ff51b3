//! `$Math`: elementary functions, IEEE bit conversions, byte-order
//! conversions of arrays and a few BLAS routines, as InferNode's
//! `libinterp/math.c` provides them.
//!
//! Results are InferNode's bits on every host. InferNode links Sun's
//! fdlibm; most functions here come from the `libm` crate, a port of musl's
//! libm, which descends from fdlibm, and those where musl has changed the
//! algorithm (cbrt, sin/cos kernels, sinh/cosh/tanh, asinh/acosh, atan2,
//! hypot, log, log10, nextafter) follow fdlibm in `fdlibm.rs`. NaN
//! arguments come back quieted with their payload, and NaNs made from
//! numbers are x86-64's (sign set), as on InferNode's reference host.
//! Known differences, all from fdlibm functions not yet followed here:
//! the Bessel functions (j0, j1, y0, y1, jn, yn: a few units in the last
//! place on some arguments), erf/erfc and lgamma on a few arguments,
//! sin/cos beyond 2^19·π/2, and pow of x near -1 to a power beyond 2^31
//! (where fdlibm's result is wrong and dite's right).
//!
//! `FPcontrol`/`FPstatus`: see [`fp_control`]. The rounding mode and trap
//! bits are recorded, not applied: arithmetic is IEEE double precision
//! rounding to nearest without traps, as InferNode's is on x86-64.
//!
//! Integer arrays (`import_int`, `export_int`, `sort`) are read as arrays
//! of Limbo `int`, 8-byte words: InferNode's C reads them as 4-byte ints
//! and so garbles them on 64-bit Dis; dite does what the manual says.

use super::{field, Call, Flow, Func, Module};
use crate::heap::Ptr;
use crate::mem::Addr;
use crate::{array, exc, Trap};

/// `error(exMathia)` in Inferno.
const EX_MATHIA: &str = "invalid math argument";

mod fdlibm;

/// `x` as x86-64 returns a NaN operand: quieted, payload and sign kept.
fn quiet(x: f64) -> f64 {
    f64::from_bits(x.to_bits() | 1 << 51)
}

/// A function of one real as fdlibm computes it: a NaN argument comes back
/// quieted (fdlibm returns `x+x` or the like), and a NaN made from numbers
/// is x86-64's.
fn fd1(x: f64, f: fn(f64) -> f64) -> f64 {
    if x.is_nan() {
        quiet(x)
    } else {
        domain_of(x, f(x))
    }
}

/// A function of two reals given a NaN argument: the first NaN, quieted
/// (fdlibm's `x+y` or `(x*y)/(x*y)`).
fn nan2(x: f64, y: f64) -> Option<f64> {
    if x.is_nan() {
        Some(quiet(x))
    } else if y.is_nan() {
        Some(quiet(y))
    } else {
        None
    }
}

fn fd2(x: f64, y: f64, f: fn(f64, f64) -> f64) -> f64 {
    nan2(x, y).unwrap_or_else(|| domain_of(x, f(x, y)))
}

fn real1(c: &mut Call, f: fn(f64) -> f64) -> Result<Flow, Trap> {
    let x = c.real();
    c.ret_real(fd1(x, f));
    Ok(Flow::Next)
}

/// A function of one real that returns a NaN argument as it is (bit
/// operations in InferNode: not even a signalling NaN is quieted).
fn raw1(c: &mut Call, f: fn(f64) -> f64) -> Result<Flow, Trap> {
    let x = c.real();
    c.ret_real(if x.is_nan() { x } else { f(x) });
    Ok(Flow::Next)
}

/// A function of two reals that handles NaN arguments itself.
fn real2(c: &mut Call, f: fn(f64, f64) -> f64) -> Result<Flow, Trap> {
    let x = c.real();
    let y = c.real();
    let r = f(x, y);
    c.ret_real(if x.is_nan() || y.is_nan() { r } else { domain_of(x, r) });
    Ok(Flow::Next)
}

fn to_int(c: &mut Call, f: fn(f64) -> i64) -> Result<Flow, Trap> {
    let x = c.real();
    c.ret_int(f(x));
    Ok(Flow::Next)
}

/// `fn(n: int, x: real): real` (`jn`, `yn`); C's `int n` keeps the low 32 bits.
fn int_real(c: &mut Call, f: fn(i32, f64) -> f64) -> Result<Flow, Trap> {
    let n = c.int() as i32;
    let x = c.real();
    c.ret_real(if x.is_nan() { quiet(x) } else { domain_of(x, f(n, x)) });
    Ok(Flow::Next)
}

/// Returns an `(int, real)` tuple.
fn ret_int_real(c: &mut Call, i: i64, r: f64) {
    if let Some(at) = c.ret(&super::results::INT_REAL) {
        at.set_w(i);
        field(at, 8).set_f(r);
    }
}

/// fdlibm's `pow`. Where it differs from musl's: `pow(x, 0)` is 1 even
/// for NaN x but `pow(1, NaN)` is NaN; and for |y| > 2^31 a result that
/// overflows or underflows far from |x| = 1 is +∞ or +0 whatever the
/// sign of x (it never looks at whether such a y is odd).
fn pow(x: f64, y: f64) -> f64 {
    if y == 0.0 {
        return 1.0;
    }
    if let Some(n) = nan2(x, y) {
        return n;
    }
    if y.is_infinite() && x.abs() == 1.0 {
        return f64::from_bits(X86_NAN);
    }
    let r = domain_of(x, libm::pow(x, y));
    let ix = ((x.to_bits() >> 32) as u32) & 0x7fff_ffff;
    let iy = ((y.to_bits() >> 32) as u32) & 0x7fff_ffff;
    let big_y = iy > 0x41e0_0000 && iy < 0x7ff0_0000;
    let x_special = x == 0.0 || x.is_infinite();
    if big_y
        && !x_special
        && x < 0.0
        && !(0x3fef_ffff..=0x3ff0_0000).contains(&ix)
        && (r == 0.0 || r.is_infinite())
    {
        return r.abs();
    }
    r
}

/// 10^n as the host C library's `pow(10, n)` gives it on InferNode's
/// reference system (glibc: correctly rounded for these), which is what
/// the decimal conversion of `1en` gives.
fn pow10_of(n: i32) -> f64 {
    let r: f64 = format!("1e{n}").parse().unwrap_or(f64::NAN);
    // The two exponents (checked over every n giving a finite non-zero
    // result) where glibc's pow is one unit in the last place above.
    if n == 23 || n == 210 {
        f64::from_bits(r.to_bits() + 1)
    } else {
        r
    }
}

fn lgamma(c: &mut Call) -> Result<Flow, Trap> {
    let x = c.real();
    let (r, sign) = libm::lgamma_r(x);
    let r = if x.is_nan() { quiet(x) } else { domain_of(x, r) };
    // fdlibm gives the sign of Γ at ±0 as +1.
    let sign = if x == 0.0 { 1 } else { sign };
    ret_int_real(c, sign as i64, r);
    Ok(Flow::Next)
}

fn modf(c: &mut Call) -> Result<Flow, Trap> {
    let x = c.real();
    let (frac, int) = libm::modf(x);
    ret_int_real(c, x86_int(int), if x.is_nan() { quiet(x) } else { frac });
    Ok(Flow::Next)
}

fn scalbn(c: &mut Call) -> Result<Flow, Trap> {
    let x = c.real();
    let n = c.int() as i32;
    c.ret_real(if x.is_nan() { quiet(x) } else { libm::scalbn(x, n) });
    Ok(Flow::Next)
}

fn pow10(c: &mut Call) -> Result<Flow, Trap> {
    let n = c.int() as i32;
    c.ret_real(pow10_of(n));
    Ok(Flow::Next)
}

/// A real converted to an integer as InferNode's C does on x86-64
/// (truncating; out of range and NaN give the most negative value), so
/// that every host gives the same answer.
fn x86_int(x: f64) -> i64 {
    const LIMIT: f64 = 9223372036854775808.0; // 2^63
    if !(-LIMIT..LIMIT).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// fdlibm's `ilogb`: -INT_MAX for zero, INT_MAX for infinities and NaN.
fn ilogb(x: f64) -> i64 {
    if x == 0.0 {
        -(i32::MAX as i64)
    } else if !x.is_finite() {
        i32::MAX as i64
    } else {
        libm::ilogb(x) as i64
    }
}

/// The NaN x86-64 makes of an invalid operation (sign bit set), which
/// fdlibm's `0/0` returns on InferNode's reference host.
const X86_NAN: u64 = 0xfff8_0000_0000_0000;

/// `r`, the result for argument `x` (for two arguments, one that is NaN
/// if either is), with a domain error's NaN (a NaN from numbers) as
/// InferNode gives it on x86-64, on every host.
fn domain_of(x: f64, r: f64) -> f64 {
    if r.is_nan() && !x.is_nan() {
        f64::from_bits(X86_NAN)
    } else {
        r
    }
}

fn bits32real(c: &mut Call) -> Result<Flow, Trap> {
    let b = c.int() as u32;
    c.ret_real(f32::from_bits(b) as f64);
    Ok(Flow::Next)
}

fn bits64real(c: &mut Call) -> Result<Flow, Trap> {
    let b = c.big() as u64;
    c.ret_real(f64::from_bits(b));
    Ok(Flow::Next)
}

fn realbits32(c: &mut Call) -> Result<Flow, Trap> {
    let x = c.real();
    c.ret_int((x as f32).to_bits() as i64);
    Ok(Flow::Next)
}

fn realbits64(c: &mut Call) -> Result<Flow, Trap> {
    let x = c.real();
    c.ret_big(x.to_bits() as i64);
    Ok(Flow::Next)
}

// The control and status words of math.m.
const INVAL: i64 = 1 << 0;
const ZDIV: i64 = 1 << 1;
const OVFL: i64 = 1 << 2;
const UNFL: i64 = 1 << 3;
const INEX: i64 = 1 << 4;
const RND_MASK: i64 = 3 << 8;

/// The control word a program starts with: round to nearest, traps on
/// the exceptions InferNode enables (all but inexact).
pub const FP_CONTROL: i64 = INVAL | ZDIV | OVFL | UNFL;

/// The bits a control word can hold; others are dropped, as InferNode
/// drops what the FPU's control register has no place for.
const FP_CONTROL_BITS: i64 = INVAL | ZDIV | OVFL | UNFL | INEX | RND_MASK;

fn get_fp_control(c: &mut Call) -> Result<Flow, Trap> {
    let v = c.vm.sys.fp_control;
    c.ret_int(v);
    Ok(Flow::Next)
}

/// No exception flag is ever raised: dite does not track IEEE exceptions,
/// and InferNode on x86-64 reads the x87 status word, which its SSE
/// arithmetic never sets, so it too always reads 0.
fn get_fp_status(c: &mut Call) -> Result<Flow, Trap> {
    c.ret_int(0);
    Ok(Flow::Next)
}

/// Sets the bits of `mask` to those of `r`; returns the old masked bits.
/// The word is kept and read back, but arithmetic stays IEEE double
/// precision rounding to nearest with no traps whatever it says: so does
/// InferNode on x86-64, whose word sets the x87 unit while its arithmetic
/// runs on SSE.
fn fp_control(c: &mut Call) -> Result<Flow, Trap> {
    let (r, mask) = (c.int(), c.int());
    let old = c.vm.sys.fp_control;
    c.vm.sys.fp_control = ((r & mask) | (old & !mask)) & FP_CONTROL_BITS;
    c.ret_int(old & mask);
    Ok(Flow::Next)
}

/// Setting flags is accepted and forgotten (InferNode's clears them all);
/// the old flags are always 0.
fn fp_status(c: &mut Call) -> Result<Flow, Trap> {
    let (_r, _mask) = (c.int(), c.int());
    c.vm.sys.fp_status = 0;
    c.ret_int(0);
    Ok(Flow::Next)
}

/// A real array's elements (empty for nil).
fn reals(a: Ptr) -> Vec<f64> {
    (0..array::len(a)).map(|i| array::elem(a, i).f()).collect()
}

fn dot(c: &mut Call) -> Result<Flow, Trap> {
    let (x, y) = (c.array(8)?, c.array(8)?);
    if array::len(x) != array::len(y) {
        return Err(exc(EX_MATHIA));
    }
    let sum = reals(x).iter().zip(reals(y)).fold(0.0, |s, (a, b)| s + a * b);
    c.ret_real(sum);
    Ok(Flow::Next)
}

fn iamax(c: &mut Call) -> Result<Flow, Trap> {
    let x = reals(c.array(8)?);
    let mut m = 0;
    for (i, v) in x.iter().enumerate().skip(1) {
        if x[m].abs() < v.abs() {
            m = i;
        }
    }
    c.ret_int(m as i64);
    Ok(Flow::Next)
}

fn norm1(c: &mut Call) -> Result<Flow, Trap> {
    let s = reals(c.array(8)?).iter().fold(0.0, |s, v| s + v.abs());
    c.ret_real(s);
    Ok(Flow::Next)
}

/// The sum of the squares, as InferNode computes it: without the square
/// root that the name and Inferno's manual (`sqrt(dot(x, x))`) promise.
fn norm2(c: &mut Call) -> Result<Flow, Trap> {
    let s = reals(c.array(8)?).iter().fold(0.0, |s, v| s + v * v);
    c.ret_real(s);
    Ok(Flow::Next)
}

/// `gemm`: C = alpha·op(A)·op(B) + beta·C on column-major matrices with
/// leading dimensions, op being the identity (`'N'`) or transpose (`'T'`,
/// `'C'`); a nil A stands for the identity. The loops are InferNode's (the
/// reference BLAS's), so that sums round alike, and read and write the
/// arrays in place as it does, should they overlap.
fn gemm(c: &mut Call) -> Result<Flow, Trap> {
    let (ta, tb) = (c.int(), c.int());
    let (m, n, k) = (c.int(), c.int(), c.int());
    let alpha = c.real();
    let (a, lda) = (c.array(8)?, c.int());
    let (b, ldb) = (c.array(8)?, c.int());
    let beta = c.real();
    let (cm, ldc) = (c.array(8)?, c.int());
    let (nota, notb) = (ta == b'N' as i64, tb == b'N' as i64);
    let trans_ok = |t: i64| t == b'N' as i64 || t == b'T' as i64 || t == b'C' as i64;
    if !trans_ok(ta) || !trans_ok(tb) || m < 0 || n < 0 || k < 0 {
        return Err(exc(EX_MATHIA));
    }
    let (rows_a, cols_a) = if nota { (m, k) } else { (k, m) };
    let (rows_b, cols_b) = if notb { (k, n) } else { (n, k) };
    // InferNode's checks, then ours: every element the loops touch exists
    // (InferNode would read or write beyond the array).
    let check = |arr: Ptr, ld: i64, rows: i64, cols: i64| -> Result<(), Trap> {
        let len = array::len(arr) as i128;
        let (ld, rows, cols) = (ld as i128, rows as i128, cols as i128);
        if ld < rows || ld * (cols - 1) > len || (rows > 0 && cols > 0 && ld * (cols - 1) + rows > len) {
            return Err(exc(crate::EX_BOUNDS));
        }
        Ok(())
    };
    if !a.is_null() {
        check(a, lda, rows_a, cols_a)?;
    }
    if !b.is_null() {
        check(b, ldb, rows_b, cols_b)?;
    }
    if cm.is_null() {
        return Err(exc(crate::EX_NILREF));
    }
    check(cm, ldc, m, n)?;
    if m == 0 || n == 0 || ((alpha == 0.0 || k == 0) && beta == 1.0) {
        return Ok(Flow::Next);
    }
    let at = |arr: Ptr, i: i64| array::elem(arr, i as usize);
    let cc = |i: i64, j: i64| at(cm, i + j * ldc);
    if alpha == 0.0 {
        for j in 0..n {
            for i in 0..m {
                let e = cc(i, j);
                e.set_f(if beta == 0.0 { 0.0 } else { beta * e.f() });
            }
        }
        return Ok(Flow::Next);
    }
    if b.is_null() {
        return Err(exc(crate::EX_NILREF));
    }
    if a.is_null() {
        // A is the identity: C = alpha·op(B) + beta·C (B must be m×n).
        if !notb {
            check(b, ldb, n, m)?;
        } else {
            check(b, ldb, m, n)?;
        }
        for j in 0..n {
            for i in 0..m {
                let bv = if notb { at(b, i + j * ldb).f() } else { at(b, j + i * ldb).f() };
                let e = cc(i, j);
                e.set_f(alpha * bv + beta * e.f());
            }
        }
        return Ok(Flow::Next);
    }
    let bget = |l: i64, j: i64| if notb { at(b, l + j * ldb).f() } else { at(b, j + l * ldb).f() };
    for j in 0..n {
        if nota {
            // C(:,j) = beta·C(:,j) + sum over l of (alpha·B(l,j))·A(:,l)
            for i in 0..m {
                let e = cc(i, j);
                if beta == 0.0 {
                    e.set_f(0.0);
                } else if beta != 1.0 {
                    e.set_f(beta * e.f());
                }
            }
            for l in 0..k {
                let bv = bget(l, j);
                if bv != 0.0 {
                    let temp = alpha * bv;
                    for i in 0..m {
                        let e = cc(i, j);
                        e.set_f(e.f() + temp * at(a, i + l * lda).f());
                    }
                }
            }
        } else {
            for i in 0..m {
                let mut temp = 0.0;
                for l in 0..k {
                    temp += at(a, l + i * lda).f() * bget(l, j);
                }
                let e = cc(i, j);
                e.set_f(if beta == 0.0 { alpha * temp } else { alpha * temp + beta * e.f() });
            }
        }
    }
    Ok(Flow::Next)
}

/// `sort(x, pi)`: permutes `pi` so that `x[pi[i]]` ascends, with
/// InferNode's quicksort (so that equal keys end in the same order).
fn sort(c: &mut Call) -> Result<Flow, Trap> {
    let (x, pi) = (c.array(8)?, c.array(8)?);
    let xs = reals(x);
    let n = array::len(pi);
    let mut p: Vec<i64> = (0..n).map(|i| array::elem(pi, i).w()).collect();
    if p.iter().any(|&v| v < 0 || v as usize >= xs.len()) {
        return Err(exc(EX_MATHIA));
    }
    rqsort(&mut p, &xs);
    for (i, v) in p.iter().enumerate() {
        array::elem(pi, i).set_w(*v);
    }
    Ok(Flow::Next)
}

fn rqsort(a: &mut [i64], x: &[f64]) {
    use std::cmp::Ordering;
    let cmp = |a: &[i64], u: usize, v: usize| {
        let (p, q) = (x[a[u] as usize], x[a[v] as usize]);
        if p == q {
            Ordering::Equal
        } else if p < q {
            Ordering::Less
        } else {
            Ordering::Greater
        }
    };
    let n = a.len();
    if n < 7 {
        for m in 1..n {
            let mut l = m;
            while l > 0 && cmp(a, l - 1, l) == Ordering::Greater {
                a.swap(l, l - 1);
                l -= 1;
            }
        }
        return;
    }
    let med3 = |a: &[i64], p: usize, q: usize, r: usize| {
        if cmp(a, p, q) == Ordering::Less {
            if cmp(a, q, r) == Ordering::Less {
                q
            } else if cmp(a, p, r) == Ordering::Less {
                r
            } else {
                p
            }
        } else if cmp(a, q, r) == Ordering::Greater {
            q
        } else if cmp(a, p, r) == Ordering::Less {
            p
        } else {
            r
        }
    };
    let mut pm = n / 2;
    if n > 7 {
        let (mut pl, mut pn) = (0, n - 1);
        if n > 40 {
            let d = n / 8;
            pl = med3(a, pl, pl + d, pl + 2 * d);
            pm = med3(a, pm - d, pm, pm + d);
            pn = med3(a, pn - 2 * d, pn - d, pn);
        }
        pm = med3(a, pl, pm, pn);
    }
    a.swap(0, pm);
    let (mut pa, mut pb) = (1usize, 1usize);
    let (mut pc, mut pd) = (n as isize - 1, n as isize - 1);
    loop {
        while pb as isize <= pc {
            let r = cmp(a, pb, 0);
            if r == Ordering::Greater {
                break;
            }
            if r == Ordering::Equal {
                a.swap(pa, pb);
                pa += 1;
            }
            pb += 1;
        }
        while pb as isize <= pc {
            let r = cmp(a, pc as usize, 0);
            if r == Ordering::Less {
                break;
            }
            if r == Ordering::Equal {
                a.swap(pc as usize, pd as usize);
                pd -= 1;
            }
            pc -= 1;
        }
        if pb as isize > pc {
            break;
        }
        a.swap(pb, pc as usize);
        pb += 1;
        pc -= 1;
    }
    let vecswap = |a: &mut [i64], u: usize, v: usize, k: usize| {
        for i in 0..k {
            a.swap(u + i, v + i);
        }
    };
    let r = pa.min(pb - pa);
    vecswap(a, 0, pb - r, r);
    let (pc, pd) = (pc as usize, pd as usize);
    let r = (pd - pc).min(n - pd - 1);
    vecswap(a, pb, n - r, r);
    let r = pb - pa;
    if r > 1 {
        rqsort(&mut a[..r], x);
    }
    let r = pd - pc;
    if r > 1 {
        rqsort(&mut a[n - r..], x);
    }
}

/// Big-endian conversions between byte arrays and arrays of numbers:
/// `size` bytes per element.
fn convert(
    c: &mut Call,
    size: usize,
    import: bool,
    put: fn(Addr, &[u8]),
    get: fn(Addr) -> Vec<u8>,
) -> Result<Flow, Trap> {
    let (b, x) = (c.array(1)?, c.array(8)?);
    let n = array::len(x);
    if b.is_null() || x.is_null() || array::len(b) != size * n {
        return Err(exc(EX_MATHIA));
    }
    let bytes = array::elems_mut(b);
    for i in 0..n {
        let e = array::elem(x, i);
        let chunk = &mut bytes[i * size..(i + 1) * size];
        if import {
            put(e, chunk);
        } else {
            chunk.copy_from_slice(&get(e));
        }
    }
    Ok(Flow::Next)
}

fn import_int(c: &mut Call) -> Result<Flow, Trap> {
    convert(c, 4, true, |e, b| e.set_w(i32::from_be_bytes(b.try_into().expect("4 bytes")) as i64), |_| vec![])
}

fn export_int(c: &mut Call) -> Result<Flow, Trap> {
    convert(c, 4, false, |_, _| {}, |e| (e.w() as i32).to_be_bytes().to_vec())
}

fn import_real32(c: &mut Call) -> Result<Flow, Trap> {
    convert(c, 4, true, |e, b| e.set_f(f32::from_be_bytes(b.try_into().expect("4 bytes")) as f64), |_| vec![])
}

fn export_real32(c: &mut Call) -> Result<Flow, Trap> {
    convert(c, 4, false, |_, _| {}, |e| (e.f() as f32).to_be_bytes().to_vec())
}

fn import_real(c: &mut Call) -> Result<Flow, Trap> {
    convert(c, 8, true, |e, b| e.set_f(f64::from_be_bytes(b.try_into().expect("8 bytes"))), |_| vec![])
}

fn export_real(c: &mut Call) -> Result<Flow, Trap> {
    convert(c, 8, false, |_, _| {}, |e| e.f().to_be_bytes().to_vec())
}

pub static MODULE: Module = Module { name: "$Math", funcs: &FUNCS };

// Signatures, by type: real→real 0xa1d1fe48, (real, real)→real 0xf293f6cf,
// real→int 0x7b2e5f52 (from InferNode's compiler).
static FUNCS: [Func; 68] = [
    Func::new("FPcontrol", 0x6584767b, "ww", fp_control),
    Func::new("FPstatus", 0x6584767b, "ww", fp_status),
    Func::new("acos", 0xa1d1fe48, "f", |c| real1(c, libm::acos)),
    Func::new("acosh", 0xa1d1fe48, "f", |c| real1(c, fdlibm::acosh)),
    Func::new("asin", 0xa1d1fe48, "f", |c| real1(c, libm::asin)),
    Func::new("asinh", 0xa1d1fe48, "f", |c| real1(c, fdlibm::asinh)),
    Func::new("atan", 0xa1d1fe48, "f", |c| real1(c, libm::atan)),
    Func::new("atan2", 0xf293f6cf, "ff", |c| {
        real2(c, |y, x| nan2(x, y).unwrap_or_else(|| domain_of(y, fdlibm::atan2(y, x))))
    }),
    Func::new("atanh", 0xa1d1fe48, "f", |c| real1(c, libm::atanh)),
    Func::new("bits32real", 0x40a58596, "w", bits32real),
    Func::new("bits64real", 0x5463c72c, "l", bits64real),
    Func::new("cbrt", 0xa1d1fe48, "f", |c| real1(c, fdlibm::cbrt)),
    Func::new("ceil", 0xa1d1fe48, "f", |c| raw1(c, libm::ceil)),
    Func::new("copysign", 0xf293f6cf, "ff", |c| real2(c, libm::copysign)),
    Func::new("cos", 0xa1d1fe48, "f", |c| real1(c, fdlibm::cos)),
    Func::new("cosh", 0xa1d1fe48, "f", |c| real1(c, fdlibm::cosh)),
    Func::new("dot", 0xfeca4db6, "pp", dot),
    Func::new("erf", 0xa1d1fe48, "f", |c| real1(c, libm::erf)),
    Func::new("erfc", 0xa1d1fe48, "f", |c| real1(c, libm::erfc)),
    Func::new("exp", 0xa1d1fe48, "f", |c| real1(c, libm::exp)),
    Func::new("expm1", 0xa1d1fe48, "f", |c| real1(c, libm::expm1)),
    Func::new("export_int", 0x3f1d94ee, "pp", export_int),
    Func::new("export_real", 0xd1fb0c8c, "pp", export_real),
    Func::new("export_real32", 0xd1fb0c8c, "pp", export_real32),
    Func::new("fabs", 0xa1d1fe48, "f", |c| {
        let x = c.real();
        c.ret_real(libm::fabs(x));
        Ok(Flow::Next)
    }),
    Func::new("fdim", 0xf293f6cf, "ff", |c| real2(c, |x, y| if x > y { x - y } else { 0.0 })),
    Func::new("finite", 0x7b2e5f52, "f", |c| to_int(c, |x| x.is_finite() as i64)),
    Func::new("floor", 0xa1d1fe48, "f", |c| raw1(c, libm::floor)),
    Func::new("fmax", 0xf293f6cf, "ff", |c| real2(c, |x, y| if y > x { y } else { x })),
    Func::new("fmin", 0xf293f6cf, "ff", |c| real2(c, |x, y| if y < x { y } else { x })),
    Func::new("fmod", 0xf293f6cf, "ff", |c| real2(c, |x, y| fd2(x, y, libm::fmod))),
    Func::new("gemm", 0x53b8cd34, "wwwwwfpwpwfpw", gemm),
    Func::new("getFPcontrol", 0x616977e8, "", get_fp_control),
    Func::new("getFPstatus", 0x616977e8, "", get_fp_status),
    Func::new("hypot", 0xf293f6cf, "ff", |c| real2(c, fdlibm::hypot)),
    Func::new("iamax", 0xa5fc2e4d, "p", iamax),
    Func::new("ilogb", 0x7b2e5f52, "f", |c| to_int(c, ilogb)),
    Func::new("import_int", 0x3f1d94ee, "pp", import_int),
    Func::new("import_real", 0xd1fb0c8c, "pp", import_real),
    Func::new("import_real32", 0xd1fb0c8c, "pp", import_real32),
    Func::new("isnan", 0x7b2e5f52, "f", |c| to_int(c, |x| x.is_nan() as i64)),
    Func::new("j0", 0xa1d1fe48, "f", |c| real1(c, libm::j0)),
    Func::new("j1", 0xa1d1fe48, "f", |c| real1(c, libm::j1)),
    Func::new("jn", 0xb61ffc5b, "wf", |c| int_real(c, libm::jn)),
    Func::new("lgamma", 0x6e97c646, "f", lgamma),
    Func::new("log", 0xa1d1fe48, "f", |c| real1(c, fdlibm::log)),
    Func::new("log10", 0xa1d1fe48, "f", |c| real1(c, fdlibm::log10)),
    Func::new("log1p", 0xa1d1fe48, "f", |c| real1(c, libm::log1p)),
    Func::new("modf", 0x6e97c646, "f", modf),
    Func::new("nextafter", 0xf293f6cf, "ff", |c| real2(c, fdlibm::nextafter)),
    Func::new("norm1", 0x1629207e, "p", norm1),
    Func::new("norm2", 0x1629207e, "p", norm2),
    Func::new("pow", 0xf293f6cf, "ff", |c| real2(c, pow)),
    Func::new("pow10", 0x40a58596, "w", pow10),
    Func::new("realbits32", 0x7b2e5f52, "f", realbits32),
    Func::new("realbits64", 0x9589d476, "f", realbits64),
    Func::new("remainder", 0xf293f6cf, "ff", |c| real2(c, |x, y| fd2(x, y, libm::remainder))),
    Func::new("rint", 0xa1d1fe48, "f", |c| real1(c, libm::rint)),
    Func::new("scalbn", 0x64fa84ba, "fw", scalbn),
    Func::new("sin", 0xa1d1fe48, "f", |c| real1(c, fdlibm::sin)),
    Func::new("sinh", 0xa1d1fe48, "f", |c| real1(c, fdlibm::sinh)),
    Func::new("sort", 0x0fc7c7b8, "pp", sort),
    Func::new("sqrt", 0xa1d1fe48, "f", |c| real1(c, libm::sqrt)),
    Func::new("tan", 0xa1d1fe48, "f", |c| real1(c, libm::tan)),
    Func::new("tanh", 0xa1d1fe48, "f", |c| real1(c, fdlibm::tanh)),
    Func::new("y0", 0xa1d1fe48, "f", |c| real1(c, libm::y0)),
    Func::new("y1", 0xa1d1fe48, "f", |c| real1(c, libm::y1)),
    Func::new("yn", 0xb61ffc5b, "wf", |c| int_real(c, libm::yn)),
];
