//! The functions of Sun's fdlibm 5.3 (the library InferNode links into
//! `$Math`) whose results the `libm` crate does not reproduce bit for bit:
//! musl, which it ports, has since rewritten them (new kernels, other
//! thresholds, other operation orders). These follow fdlibm's algorithms
//! step by step, so that the roundings are the same.

#![allow(clippy::excessive_precision)] // the constants as fdlibm writes them

/// The high 32 bits of `x`, signed as fdlibm reads them.
fn hi(x: f64) -> i32 {
    (x.to_bits() >> 32) as i32
}

fn lo(x: f64) -> u32 {
    x.to_bits() as u32
}

/// `x` with its high word replaced.
fn with_hi(x: f64, h: i32) -> f64 {
    f64::from_bits(((h as u32 as u64) << 32) | lo(x) as u64)
}

fn from_words(h: i32, l: u32) -> f64 {
    f64::from_bits(((h as u32 as u64) << 32) | l as u64)
}

pub fn cbrt(x: f64) -> f64 {
    const B1: u32 = 715094163;
    const B2: u32 = 696219795;
    const C: f64 = 5.42857142857142815906e-01;
    const D: f64 = -7.05306122448979611050e-01;
    const E: f64 = 1.41428571428571436819e+00;
    const F: f64 = 1.60714285714285720630e+00;
    const G: f64 = 3.57142857142857150787e-01;
    let sign = hi(x) as u32 & 0x8000_0000;
    let hx = hi(x) as u32 ^ sign;
    if hx >= 0x7ff0_0000 {
        return x + x;
    }
    if hx | lo(x) == 0 {
        return x;
    }
    let x = with_hi(x, hx as i32);
    let mut t = if hx < 0x0010_0000 {
        let t = from_words(0x4350_0000, 0) * x;
        from_words(((hi(t) as u32) / 3 + B2) as i32, 0)
    } else {
        from_words((hx / 3 + B1) as i32, 0)
    };
    let r = t * t / x;
    let s = C + r * t;
    t *= G + F / (s + E + D / s);
    t = from_words(hi(t) + 1, 0);
    let s = t * t;
    let r = x / s;
    let w = t + t;
    let r = (r - t) / (w + r);
    t += t * r;
    with_hi(t, (hi(t) as u32 | sign) as i32)
}

pub fn tanh(x: f64) -> f64 {
    let jx = hi(x);
    let ix = jx & 0x7fff_ffff;
    if ix >= 0x7ff0_0000 {
        return if jx >= 0 { 1.0 / x + 1.0 } else { 1.0 / x - 1.0 };
    }
    let z = if ix < 0x4036_0000 {
        if ix < 0x3c80_0000 {
            return x * (1.0 + x);
        }
        if ix >= 0x3ff0_0000 {
            let t = libm::expm1(2.0 * x.abs());
            1.0 - 2.0 / (t + 2.0)
        } else {
            let t = libm::expm1(-2.0 * x.abs());
            -t / (t + 2.0)
        }
    } else {
        1.0 - 1.0e-300
    };
    if jx >= 0 {
        z
    } else {
        -z
    }
}

/// Whether |x| is at most fdlibm's overflow threshold for sinh and cosh.
fn below_overflow(ix: i32, x: f64) -> bool {
    ix < 0x4086_33ce || (ix == 0x4086_33ce && lo(x) <= 0x8fb9_f87d)
}

pub fn sinh(x: f64) -> f64 {
    let jx = hi(x);
    let ix = jx & 0x7fff_ffff;
    if ix >= 0x7ff0_0000 {
        return x + x;
    }
    let h = if jx < 0 { -0.5 } else { 0.5 };
    if ix < 0x4036_0000 {
        if ix < 0x3e30_0000 && 1.0e307 + x > 1.0 {
            return x;
        }
        let t = libm::expm1(x.abs());
        if ix < 0x3ff0_0000 {
            return h * (2.0 * t - t * t / (t + 1.0));
        }
        return h * (t + t / (t + 1.0));
    }
    if ix < 0x4086_2e42 {
        return h * libm::exp(x.abs());
    }
    if below_overflow(ix, x) {
        let w = libm::exp(0.5 * x.abs());
        let t = h * w;
        return t * w;
    }
    x * 1.0e307
}

pub fn cosh(x: f64) -> f64 {
    let ix = hi(x) & 0x7fff_ffff;
    if ix >= 0x7ff0_0000 {
        return x * x;
    }
    if ix < 0x3fd6_2e43 {
        let t = libm::expm1(x.abs());
        let w = 1.0 + t;
        if ix < 0x3c80_0000 {
            return w;
        }
        return 1.0 + (t * t) / (w + w);
    }
    if ix < 0x4036_0000 {
        let t = libm::exp(x.abs());
        return 0.5 * t + 0.5 / t;
    }
    if ix < 0x4086_2e42 {
        return 0.5 * libm::exp(x.abs());
    }
    if below_overflow(ix, x) {
        let w = libm::exp(0.5 * x.abs());
        let t = 0.5 * w;
        return t * w;
    }
    1.0e300 * 1.0e300
}

const LN2: f64 = std::f64::consts::LN_2;

pub fn asinh(x: f64) -> f64 {
    let hx = hi(x);
    let ix = hx & 0x7fff_ffff;
    if ix >= 0x7ff0_0000 {
        return x + x;
    }
    if ix < 0x3e30_0000 && 1.0e300 + x > 1.0 {
        return x;
    }
    let w = if ix > 0x41b0_0000 {
        log(x.abs()) + LN2
    } else if ix > 0x4000_0000 {
        let t = x.abs();
        log(2.0 * t + 1.0 / (libm::sqrt(x * x + 1.0) + t))
    } else {
        let t = x * x;
        libm::log1p(x.abs() + t / (1.0 + libm::sqrt(1.0 + t)))
    };
    if hx > 0 {
        w
    } else {
        -w
    }
}

pub fn acosh(x: f64) -> f64 {
    let hx = hi(x);
    if hx < 0x3ff0_0000 {
        f64::NAN // fdlibm: (x-x)/(x-x); NaN arguments never get here
    } else if hx >= 0x41b0_0000 {
        if hx >= 0x7ff0_0000 {
            x + x
        } else {
            log(x) + LN2
        }
    } else if (hx - 0x3ff0_0000) as u32 | lo(x) == 0 {
        0.0
    } else if hx > 0x4000_0000 {
        let t = x * x;
        log(2.0 * x - 1.0 / (x + libm::sqrt(t - 1.0)))
    } else {
        let t = x - 1.0;
        libm::log1p(t + libm::sqrt(2.0 * t + t * t))
    }
}

pub fn atan2(y: f64, x: f64) -> f64 {
    const TINY: f64 = 1.0e-300;
    const PI_O_4: f64 = std::f64::consts::FRAC_PI_4;
    const PI_O_2: f64 = std::f64::consts::FRAC_PI_2;
    const PI: f64 = std::f64::consts::PI;
    const PI_LO: f64 = 1.2246467991473531772E-16;
    if x.is_nan() || y.is_nan() {
        return x + y;
    }
    let (hx, hy) = (hi(x), hi(y));
    let (ix, iy) = (hx & 0x7fff_ffff, hy & 0x7fff_ffff);
    if x == 1.0 {
        return libm::atan(y);
    }
    let m = ((hy >> 31) & 1) | ((hx >> 30) & 2);
    if y == 0.0 {
        return match m {
            0 | 1 => y,
            2 => PI + TINY,
            _ => -PI - TINY,
        };
    }
    if x == 0.0 {
        return if hy < 0 { -PI_O_2 - TINY } else { PI_O_2 + TINY };
    }
    if ix == 0x7ff0_0000 {
        return if iy == 0x7ff0_0000 {
            match m {
                0 => PI_O_4 + TINY,
                1 => -PI_O_4 - TINY,
                2 => 3.0 * PI_O_4 + TINY,
                _ => -3.0 * PI_O_4 - TINY,
            }
        } else {
            match m {
                0 => 0.0,
                1 => -0.0,
                2 => PI + TINY,
                _ => -PI - TINY,
            }
        };
    }
    if iy == 0x7ff0_0000 {
        return if hy < 0 { -PI_O_2 - TINY } else { PI_O_2 + TINY };
    }
    let k = (iy - ix) >> 20;
    let z = if k > 60 {
        PI_O_2 + 0.5 * PI_LO
    } else if hx < 0 && k < -60 {
        0.0
    } else {
        libm::atan((y / x).abs())
    };
    match m {
        0 => z,
        1 => -z,
        2 => PI - (z - PI_LO),
        _ => (z - PI_LO) - PI,
    }
}

pub fn hypot(x: f64, y: f64) -> f64 {
    let (mut ha, mut hb) = (hi(x) & 0x7fff_ffff, hi(y) & 0x7fff_ffff);
    let (mut a, mut b) = if hb > ha {
        std::mem::swap(&mut ha, &mut hb);
        (y, x)
    } else {
        (x, y)
    };
    a = with_hi(a, ha);
    b = with_hi(b, hb);
    if ha - hb > 0x3c0_0000 {
        return a + b;
    }
    let mut k = 0;
    if ha > 0x5f30_0000 {
        if ha >= 0x7ff0_0000 {
            let mut w = a + b;
            if (ha & 0xfffff) as u32 | lo(a) == 0 {
                w = a;
            }
            if (hb ^ 0x7ff0_0000) as u32 | lo(b) == 0 {
                w = b;
            }
            return w;
        }
        ha -= 0x2580_0000;
        hb -= 0x2580_0000;
        k += 600;
        a = with_hi(a, ha);
        b = with_hi(b, hb);
    }
    if hb < 0x20b0_0000 {
        if hb <= 0x000f_ffff {
            if hb as u32 | lo(b) == 0 {
                return a;
            }
            let t1 = from_words(0x7fd0_0000, 0);
            b *= t1;
            a *= t1;
            k -= 1022;
        } else {
            ha += 0x2580_0000;
            hb += 0x2580_0000;
            k -= 600;
            a = with_hi(a, ha);
            b = with_hi(b, hb);
        }
    }
    let mut w = a - b;
    if w > b {
        let t1 = from_words(ha, 0);
        let t2 = a - t1;
        w = libm::sqrt(t1 * t1 - (b * (-b) - t2 * (a + t1)));
    } else {
        a += a;
        let y1 = from_words(hb, 0);
        let y2 = b - y1;
        let t1 = from_words(ha + 0x0010_0000, 0);
        let t2 = a - t1;
        w = libm::sqrt(t1 * y1 - (w * (-w) - (t1 * y2 + t2 * b)));
    }
    if k != 0 {
        from_words(0x3ff0_0000 + (k << 20), 0) * w
    } else {
        w
    }
}

fn k_cos(x: f64, y: f64) -> f64 {
    const C1: f64 = 4.16666666666666019037e-02;
    const C2: f64 = -1.38888888888741095749e-03;
    const C3: f64 = 2.48015872894767294178e-05;
    const C4: f64 = -2.75573143513906633035e-07;
    const C5: f64 = 2.08757232129817482790e-09;
    const C6: f64 = -1.13596475577881948265e-11;
    let ix = hi(x) & 0x7fff_ffff;
    if ix < 0x3e40_0000 && x as i32 == 0 {
        return 1.0;
    }
    let z = x * x;
    let r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
    if ix < 0x3fd3_3333 {
        return 1.0 - (0.5 * z - (z * r - x * y));
    }
    let qx = if ix > 0x3fe9_0000 { 0.28125 } else { from_words(ix - 0x0020_0000, 0) };
    let hz = 0.5 * z - qx;
    let a = 1.0 - qx;
    a - (hz - (z * r - x * y))
}

fn k_sin(x: f64, y: f64, iy: bool) -> f64 {
    const S1: f64 = -1.66666666666666324348e-01;
    const S2: f64 = 8.33333333332248946124e-03;
    const S3: f64 = -1.98412698298579493134e-04;
    const S4: f64 = 2.75573137070700676789e-06;
    const S5: f64 = -2.50507602534068634195e-08;
    const S6: f64 = 1.58969099521155010221e-10;
    let ix = hi(x) & 0x7fff_ffff;
    if ix < 0x3e40_0000 && x as i32 == 0 {
        return x;
    }
    let z = x * x;
    let v = z * x;
    let r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
    if !iy {
        x + v * (S1 + z * r)
    } else {
        x - ((z * (0.5 * y - v * r) - y) - v * S1)
    }
}

/// fdlibm's reduction of `x` by π/2 for |x| up to 2^19·π/2: the quadrant
/// and the remainder as a head and tail. `None` beyond that range.
fn rem_pio2(x: f64) -> Option<(i32, f64, f64)> {
    const INVPIO2: f64 = std::f64::consts::FRAC_2_PI;
    const PIO2_1: f64 = 1.57079632673412561417e+00;
    const PIO2_1T: f64 = 6.07710050650619224932e-11;
    const PIO2_2: f64 = 6.07710050630396597660e-11;
    const PIO2_2T: f64 = 2.02226624879595063154e-21;
    const PIO2_3: f64 = 2.02226624871116645580e-21;
    const PIO2_3T: f64 = 8.47842766036889956997e-32;
    let hx = hi(x);
    let ix = hx & 0x7fff_ffff;
    if ix <= 0x3fe9_21fb {
        return Some((0, x, 0.0));
    }
    if ix < 0x4002_d97c {
        let s = if hx > 0 { 1.0 } else { -1.0 };
        let mut z = x - s * PIO2_1;
        let (y0, y1);
        if ix != 0x3ff9_21fb {
            y0 = z - s * PIO2_1T;
            y1 = (z - y0) - s * PIO2_1T;
        } else {
            z -= s * PIO2_2;
            y0 = z - s * PIO2_2T;
            y1 = (z - y0) - s * PIO2_2T;
        }
        return Some((if hx > 0 { 1 } else { -1 }, y0, y1));
    }
    if ix > 0x4139_21fb {
        return None;
    }
    let t = x.abs();
    let n = (t * INVPIO2 + 0.5) as i32;
    let f = n as f64;
    let mut r = t - f * PIO2_1;
    let mut w = f * PIO2_1T;
    let mut y0 = r - w;
    // fdlibm skips the cancellation check when x's high word differs from
    // that of n·π/2 (n < 32); the check then finds no cancellation anyway.
    let quick = n < 32 && ix != (((n as f64) * std::f64::consts::FRAC_PI_2).to_bits() >> 32) as i32;
    if !quick {
        let j = ix >> 20;
        let i = j - ((hi(y0) >> 20) & 0x7ff);
        if i > 16 {
            let t = r;
            w = f * PIO2_2;
            r = t - w;
            w = f * PIO2_2T - ((t - r) - w);
            y0 = r - w;
            let i = j - ((hi(y0) >> 20) & 0x7ff);
            if i > 49 {
                let t = r;
                w = f * PIO2_3;
                r = t - w;
                w = f * PIO2_3T - ((t - r) - w);
                y0 = r - w;
            }
        }
    }
    let y1 = (r - y0) - w;
    Some(if hx < 0 { (-n, -y0, -y1) } else { (n, y0, y1) })
}

pub fn sin(x: f64) -> f64 {
    let ix = hi(x) & 0x7fff_ffff;
    if ix <= 0x3fe9_21fb {
        return k_sin(x, 0.0, false);
    }
    if ix >= 0x7ff0_0000 {
        return f64::NAN;
    }
    match rem_pio2(x) {
        Some((n, y0, y1)) => match n & 3 {
            0 => k_sin(y0, y1, true),
            1 => k_cos(y0, y1),
            2 => -k_sin(y0, y1, true),
            _ => -k_cos(y0, y1),
        },
        None => libm::sin(x),
    }
}

pub fn cos(x: f64) -> f64 {
    let ix = hi(x) & 0x7fff_ffff;
    if ix <= 0x3fe9_21fb {
        return k_cos(x, 0.0);
    }
    if ix >= 0x7ff0_0000 {
        return f64::NAN;
    }
    match rem_pio2(x) {
        Some((n, y0, y1)) => match n & 3 {
            0 => k_cos(y0, y1),
            1 => -k_sin(y0, y1, true),
            2 => -k_cos(y0, y1),
            _ => k_sin(y0, y1, true),
        },
        None => libm::cos(x),
    }
}

/// fdlibm's `nextafter`: equal arguments give `x` (C99 says `y`).
pub fn nextafter(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return x + y;
    }
    if x == y {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1 | (y.to_bits() & (1 << 63)));
    }
    let b = x.to_bits();
    let away = (x > 0.0) == (y > x);
    f64::from_bits(if away { b + 1 } else { b - 1 })
}

/// The start log and log10 share: subnormals scaled up by 2^54, then `x`,
/// its high word and its binary exponent; `Err` holds the result for zero,
/// negatives, infinities and NaN.
fn log_split(x: f64) -> Result<(f64, i32, i32), f64> {
    const TWO54: f64 = 1.80143985094819840000e+16;
    let mut x = x;
    let mut hx = hi(x);
    let mut k = 0;
    if hx < 0x0010_0000 {
        if x == 0.0 {
            return Err(f64::NEG_INFINITY);
        }
        if hx < 0 {
            return Err(f64::NAN);
        }
        k -= 54;
        x *= TWO54;
        hx = hi(x);
    }
    if hx >= 0x7ff0_0000 {
        return Err(x + x);
    }
    k += (hx >> 20) - 1023;
    Ok((x, hx, k))
}

pub fn log10(x: f64) -> f64 {
    const IVLN10: f64 = std::f64::consts::LOG10_E;
    const LOG10_2HI: f64 = 3.01029995663611771306e-01;
    const LOG10_2LO: f64 = 3.69423907715893078616e-13;
    let (x, mut hx, k) = match log_split(x) {
        Ok(split) => split,
        Err(special) => return special,
    };
    let i = ((k as u32) >> 31) as i32;
    hx = (hx & 0x000f_ffff) | ((0x3ff - i) << 20);
    let y = (k + i) as f64;
    let x = with_hi(x, hx);
    let z = y * LOG10_2LO + IVLN10 * log(x);
    z + y * LOG10_2HI
}

pub fn log(x: f64) -> f64 {
    const LN2_HI: f64 = 6.93147180369123816490e-01;
    const LN2_LO: f64 = 1.90821492927058770002e-10;
    const LG1: f64 = 6.666666666666735130e-01;
    const LG2: f64 = 3.999999999940941908e-01;
    const LG3: f64 = 2.857142874366239149e-01;
    const LG4: f64 = 2.222219843214978396e-01;
    const LG5: f64 = 1.818357216161805012e-01;
    const LG6: f64 = 1.531383769920937332e-01;
    const LG7: f64 = 1.479819860511658591e-01;
    let (x, mut hx, mut k) = match log_split(x) {
        Ok(split) => split,
        Err(special) => return special,
    };
    hx &= 0x000f_ffff;
    let i = (hx + 0x95f64) & 0x10_0000;
    let x = with_hi(x, hx | (i ^ 0x3ff0_0000));
    k += i >> 20;
    let f = x - 1.0;
    let dk = k as f64;
    if (0x000f_ffff & (2 + hx)) < 3 {
        if f == 0.0 {
            return if k == 0 { 0.0 } else { dk * LN2_HI + dk * LN2_LO };
        }
        let r = f * f * (0.5 - 0.33333333333333333 * f);
        return if k == 0 { f - r } else { dk * LN2_HI - ((r - dk * LN2_LO) - f) };
    }
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let i = (hx - 0x6147a) | (0x6b851 - hx);
    let r = t2 + t1;
    if i > 0 {
        let hfsq = 0.5 * f * f;
        if k == 0 {
            f - (hfsq - s * (hfsq + r))
        } else {
            dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f)
        }
    } else if k == 0 {
        f - s * (f - r)
    } else {
        dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: u64) -> f64 {
        f64::from_bits(x)
    }

    /// Values InferNode's emu gives (fixtures/tests/mathall.b with `v all`)
    /// where musl's algorithms round otherwise.
    #[test]
    fn matches_inferno_where_musl_differs() {
        assert_eq!(cbrt(2.5).to_bits(), 0x3ff5b7209557b0ed);
        assert_eq!(cos(0.1).to_bits(), 0x3fefd712f9a817c0);
        assert_eq!(cos(6.0).to_bits(), 0x3feeb9b7097822f6);
        assert_eq!(atan2(0.1, -b(1)).to_bits(), 0x3ff921fb54442d19);
        assert_eq!(tanh(0.3).to_bits(), 0x3fd2a4dda7d914fa);
        assert_eq!(cosh(710.0).to_bits(), 0x7fe3e21a464507fa);
        assert_eq!(sinh(710.0).to_bits(), 0x7fe3e21a464507fa);
        assert_eq!(log10(0.6).to_bits(), (-0x40339a75cdde9ff8i64) as u64);
        assert_eq!(log10(std::f64::consts::PI).to_bits(), 0x3fdfd14db31ba3ba);
        assert!(acosh(-100000.0).is_nan());
        assert_eq!(nextafter(0.0, -0.0).to_bits(), 0);
        assert_eq!(nextafter(-0.0, 0.0).to_bits(), 1 << 63);
        assert_eq!(nextafter(0.0, -1.0).to_bits(), (1 << 63) | 1);
    }
}
