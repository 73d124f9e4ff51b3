//! Arithmetic, logic, shifts, compare-and-branch and conversions, each
//! opcode over edge values, against Inferno's semantics on 8-byte words
//! (`libinterp/xec.c`) with dite's definitions where the reference depends
//! on the host CPU (division of the most negative value by -1 wraps, shift
//! counts use their low six bits, real-to-integer conversions saturate).

mod common;

use common::{ops, ops_nums, ops_raise, ops_with};

/// Word operands, stored as `long`s in module data from offset 32.
const W: [i64; 14] = [
    0,
    1,
    -1,
    2,
    7,
    -7,
    63,
    64,
    65,
    i64::MAX,
    i64::MIN,
    0x1234_5678_9abc_def0,
    -0x0123_4567_89ab_cdef,
    1 << 32,
];

/// Module data holding `vals` as longs from offset 32.
fn longs(vals: &[i64]) -> String {
    let list: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
    format!("mp {} f0\nlong @mp+32,{}", 32 + 8 * vals.len(), list.join(","))
}

/// Runs `op a, b` for every pair of `vals` (a the source, b the middle
/// operand; the instruction computes `b op a`), with `mov` moving results
/// of width `print` out; returns what was printed, one value a line.
fn pairs(op: &str, vals: &[i64], print: &str, skip: impl Fn(i64, i64) -> bool) -> Vec<i64> {
    let mut body = String::new();
    for (i, &a) in vals.iter().enumerate() {
        for (j, &b) in vals.iter().enumerate() {
            if skip(a, b) {
                continue;
            }
            body += &format!("{op}\t{}(mp),{}(mp),160(fp)\n{print}\t160(fp)\n", 32 + 8 * i, 32 + 8 * j);
        }
    }
    let out = ops_with(&body, &longs(vals));
    out.lines().map(|l| l.parse().unwrap()).collect()
}

/// What `pairs` should print, computed by `f(b, a)` (middle, source).
fn expect(vals: &[i64], f: impl Fn(i64, i64) -> i64, skip: impl Fn(i64, i64) -> bool) -> Vec<i64> {
    let mut v = Vec::new();
    for &a in vals {
        for &b in vals {
            if !skip(a, b) {
                v.push(f(b, a));
            }
        }
    }
    v
}

fn check_words(op: &str, f: impl Fn(i64, i64) -> i64 + Copy, skip: impl Fn(i64, i64) -> bool + Copy) {
    assert_eq!(pairs(op, &W, "print.w", skip), expect(&W, f, skip), "{op}");
}

fn check_bigs(op: &str, f: impl Fn(i64, i64) -> i64 + Copy, skip: impl Fn(i64, i64) -> bool + Copy) {
    assert_eq!(pairs(op, &W, "print.l", skip), expect(&W, f, skip), "{op}");
}

fn never(_: i64, _: i64) -> bool {
    false
}

fn zero_divisor(a: i64, _: i64) -> bool {
    a == 0
}

#[test]
fn word_arithmetic_wraps_at_64_bits() {
    check_words("addw", |b, a| b.wrapping_add(a), never);
    check_words("subw", |b, a| b.wrapping_sub(a), never);
    check_words("mulw", |b, a| b.wrapping_mul(a), never);
    check_words("andw", |b, a| b & a, never);
    check_words("orw", |b, a| b | a, never);
    check_words("xorw", |b, a| b ^ a, never);
}

#[test]
fn word_division_truncates_and_min_by_minus_one_wraps() {
    check_words("divw", |b, a| b.wrapping_div(a), zero_divisor);
    check_words("modw", |b, a| b.wrapping_rem(a), zero_divisor);
    let out = ops_with("divw\t$-1,32(mp),160(fp)\nprint.w\t160(fp)", &longs(&[i64::MIN]));
    assert_eq!(out, format!("{}\n", i64::MIN));
    for op in ["divw", "modw"] {
        assert_eq!(
            ops_raise(&format!("movw\t$0,168(fp)\n{op}\t168(fp),$5,160(fp)\nprint.w\t160(fp)"), ""),
            "zero divide"
        );
    }
}

#[test]
fn word_shifts_use_the_low_six_bits_of_the_count() {
    let sh = |n: i64| (n & 63) as u32;
    check_words("shlw", |b, a| b.wrapping_shl(sh(a)), never);
    check_words("shrw", |b, a| b >> sh(a), never);
    check_words("lsrw", |b, a| ((b as u64) >> sh(a)) as i64, never);
}

#[test]
fn big_arithmetic_division_and_shifts() {
    let sh = |n: i64| (n & 63) as u32;
    check_bigs("addl", |b, a| b.wrapping_add(a), never);
    check_bigs("subl", |b, a| b.wrapping_sub(a), never);
    check_bigs("mull", |b, a| b.wrapping_mul(a), never);
    check_bigs("andl", |b, a| b & a, never);
    check_bigs("orl", |b, a| b | a, never);
    check_bigs("xorl", |b, a| b ^ a, never);
    check_bigs("divl", |b, a| b.wrapping_div(a), zero_divisor);
    check_bigs("modl", |b, a| b.wrapping_rem(a), zero_divisor);
    // Shift counts are words; the shifted value a big.
    check_bigs("shll", |b, a| b.wrapping_shl(sh(a)), never);
    check_bigs("shrl", |b, a| b >> sh(a), never);
    check_bigs("lsrl", |b, a| ((b as u64) >> sh(a)) as i64, never);
    for op in ["divl", "modl"] {
        let body =
            format!("cvtwl\t$0,160(fp)\ncvtwl\t$9,168(fp)\n{op}\t160(fp),168(fp),176(fp)\nprint.l\t176(fp)");
        assert_eq!(ops_raise(&body, ""), "zero divide", "{op}");
    }
}

#[test]
fn two_operand_forms_use_the_destination_as_middle() {
    // addw $3,x means x += 3; subw $3,x means x -= 3; shlw $2,x means x <<= 2.
    let out = ops_nums(
        "movw\t$10,160(fp)\naddw\t$3,160(fp)\nprint.w\t160(fp)\nsubw\t$20,160(fp)\nprint.w\t160(fp)\n\
         shlw\t$2,160(fp)\nprint.w\t160(fp)\ndivw\t$4,160(fp)\nprint.w\t160(fp)\nmodw\t$4,160(fp)\nprint.w\t160(fp)",
    );
    assert_eq!(out, [13, -7, -28, -7, -3]);
}

/// Byte operands, as bytes in module data from offset 32.
const B: [u8; 9] = [0, 1, 2, 7, 127, 128, 200, 254, 255];

fn check_bytes(op: &str, f: impl Fn(u8, u8) -> Option<u8>) {
    let list: Vec<String> = B.iter().map(|v| v.to_string()).collect();
    let data = format!("mp 48 f0\nbyte @mp+32,{}", list.join(","));
    let mut body = String::new();
    let mut want = Vec::new();
    for (i, &a) in B.iter().enumerate() {
        for (j, &b) in B.iter().enumerate() {
            if let Some(r) = f(b, a) {
                body += &format!("{op}\t{}(mp),{}(mp),160(fp)\nprint.b\t160(fp)\n", 32 + i, 32 + j);
                want.push(r as i64);
            }
        }
    }
    let got: Vec<i64> = ops_with(&body, &data).lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(got, want, "{op}");
}

#[test]
fn byte_arithmetic_is_unsigned_and_wraps_at_8_bits() {
    check_bytes("addb", |b, a| Some(b.wrapping_add(a)));
    check_bytes("subb", |b, a| Some(b.wrapping_sub(a)));
    check_bytes("mulb", |b, a| Some(b.wrapping_mul(a)));
    check_bytes("andb", |b, a| Some(b & a));
    check_bytes("orb", |b, a| Some(b | a));
    check_bytes("xorb", |b, a| Some(b ^ a));
    check_bytes("divb", |b, a| b.checked_div(a));
    check_bytes("modb", |b, a| b.checked_rem(a));
    for op in ["divb", "modb"] {
        let body = format!("cvtwb\t$0,160(fp)\ncvtwb\t$9,168(fp)\n{op}\t160(fp),168(fp),176(fp)");
        assert_eq!(ops_raise(&body, ""), "zero divide", "{op}");
    }
}

#[test]
fn byte_shifts_take_a_word_count() {
    // shlb/shrb: the count is a word (low six bits); the value a byte,
    // shifted as an unsigned number and cut to 8 bits.
    let body =
        |op: &str, n: i64| format!("cvtwb\t$129,168(fp)\n{op}\t${n},168(fp),176(fp)\nprint.b\t176(fp)");
    for (n, l, r) in
        [(0, 129, 129), (1, 2, 64), (7, 128, 1), (8, 0, 0), (63, 0, 0), (64, 129, 129), (65, 2, 64)]
    {
        assert_eq!(ops_nums(&body("shlb", n)), [l], "shlb {n}");
        assert_eq!(ops_nums(&body("shrb", n)), [r], "shrb {n}");
    }
}

/// Real operands as bit patterns.
const F: [f64; 12] =
    [0.0, -0.0, 1.0, -1.5, 2.5, 1e300, -1e-300, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 3.0, 0.1];

fn real_data() -> String {
    let list: Vec<String> = F.iter().map(|v| (v.to_bits() as i64).to_string()).collect();
    format!("mp {} f0\nlong @mp+32,{}", 32 + 8 * F.len(), list.join(","))
}

fn check_reals(op: &str, f: impl Fn(f64, f64) -> f64) {
    let mut body = String::new();
    let mut want = Vec::new();
    for (i, &a) in F.iter().enumerate() {
        for (j, &b) in F.iter().enumerate() {
            if matches!(op, "negf" | "movf") {
                body += &format!("movf\t{}(mp),160(fp)\n", 32 + 8 * j);
                body += &format!("{op}\t{}(mp),160(fp)\nprint.f\t160(fp)\n", 32 + 8 * i);
            } else {
                body += &format!("{op}\t{}(mp),{}(mp),160(fp)\nprint.f\t160(fp)\n", 32 + 8 * i, 32 + 8 * j);
            }
            want.push(f(b, a).to_bits() as i64);
        }
    }
    let got: Vec<i64> = ops_with(&body, &real_data()).lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        let (g, w) = (f64::from_bits(*g as u64), f64::from_bits(*w as u64));
        assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "{op} case {k}: {g} != {w}");
    }
}

#[test]
fn real_arithmetic_is_ieee() {
    check_reals("addf", |b, a| b + a);
    check_reals("subf", |b, a| b - a);
    check_reals("mulf", |b, a| b * a);
    // Division by zero is no exception for reals.
    check_reals("divf", |b, a| b / a);
    check_reals("negf", |_, a| -a);
    check_reals("movf", |_, a| a);
}

/// Compare-and-branch: prints 1 when `op` (comparing source with middle)
/// branches, 0 when it falls through, for every pair.
fn branch_table(op: &str, print: &str, n: usize, data: &str, stride: usize) -> Vec<i64> {
    let mut body = String::new();
    for i in 0..n {
        for j in 0..n {
            let k = i * n + j;
            body += &format!(
                "movw\t$1,168(fp)\n{op}\t{}(mp),{}(mp),$<t{k}>\nmovw\t$0,168(fp)\n<t{k}>:\n{print}\t168(fp)\n",
                32 + stride * i,
                32 + stride * j
            );
        }
    }
    let _ = print;
    ops_with(&body, data).lines().map(|l| l.parse().unwrap()).collect()
}

fn expect_cmp<T: Copy>(vals: &[T], f: impl Fn(T, T) -> bool) -> Vec<i64> {
    let mut v = Vec::new();
    for &a in vals {
        for &b in vals {
            v.push(f(a, b) as i64);
        }
    }
    v
}

#[test]
fn word_and_big_branches_compare_signed() {
    let data = longs(&W);
    for (w, l, f) in [
        ("beqw", "beql", (|a, b| a == b) as fn(i64, i64) -> bool),
        ("bnew", "bnel", |a, b| a != b),
        ("bltw", "bltl", |a, b| a < b),
        ("blew", "blel", |a, b| a <= b),
        ("bgtw", "bgtl", |a, b| a > b),
        ("bgew", "bgel", |a, b| a >= b),
    ] {
        let want = expect_cmp(&W, f);
        assert_eq!(branch_table(w, "print.w", W.len(), &data, 8), want, "{w}");
        assert_eq!(branch_table(l, "print.w", W.len(), &data, 8), want, "{l}");
    }
}

#[test]
fn byte_branches_compare_unsigned_bytes() {
    let list: Vec<String> = B.iter().map(|v| v.to_string()).collect();
    let data = format!("mp 48 f0\nbyte @mp+32,{}", list.join(","));
    for (op, f) in [
        ("beqb", (|a, b| a == b) as fn(u8, u8) -> bool),
        ("bneb", |a, b| a != b),
        ("bltb", |a, b| a < b),
        ("bleb", |a, b| a <= b),
        ("bgtb", |a, b| a > b),
        ("bgeb", |a, b| a >= b),
    ] {
        assert_eq!(branch_table(op, "print.w", B.len(), &data, 1), expect_cmp(&B, f), "{op}");
    }
}

#[test]
fn real_branches_are_false_for_nan_except_bnef() {
    for (op, f) in [
        ("beqf", (|a, b| a == b) as fn(f64, f64) -> bool),
        ("bnef", |a, b| a != b),
        ("bltf", |a, b| a < b),
        ("blef", |a, b| a <= b),
        ("bgtf", |a, b| a > b),
        ("bgef", |a, b| a >= b),
    ] {
        assert_eq!(branch_table(op, "print.w", F.len(), &real_data(), 8), expect_cmp(&F, f), "{op}");
    }
}

#[test]
fn string_branches_compare_rune_by_rune() {
    // nil, "", "a", "ab", "b", "é", "☺": nil and "" are equal; runes compare
    // as numbers, so "é" (0xe9) sorts after "b" and before "☺".
    let strs = ["", "a", "ab", "b", "é", "☺", "a\u{0}"];
    let mut data = format!("mp {} {}", 32 + 8 * (strs.len() + 1), "fff0");
    for (k, s) in strs.iter().enumerate() {
        if !s.is_empty() {
            data += &format!("\nstring @mp+{},\"{}\"", 32 + 8 * (k + 1), s.replace('\0', "\\z"));
        }
    }
    // Slot 0 (32) stays nil, slot 1 (40) holds nil too as "": Dis has no
    // empty string constant.
    let vals: Vec<&str> = std::iter::once("").chain(strs.iter().copied()).collect();
    for (op, f) in [
        ("beqc", (|a: &str, b: &str| a == b) as fn(&str, &str) -> bool),
        ("bnec", |a, b| a != b),
        ("bltc", |a, b| a < b),
        ("blec", |a, b| a <= b),
        ("bgtc", |a, b| a > b),
        ("bgec", |a, b| a >= b),
    ] {
        assert_eq!(branch_table(op, "print.w", vals.len(), &data, 8), expect_cmp(&vals, f), "{op}");
    }
}

#[test]
fn jmp_goes_to_its_target() {
    assert_eq!(ops_nums("jmp\t$<x>\nprint.w\t$1\n<x>:\nprint.w\t$2"), [2]);
}

#[test]
fn conversions_between_integer_widths() {
    let out = ops_nums(
        "cvtwb\t$300,160(fp)\nprint.b\t160(fp)\n\
         cvtwb\t$-1,160(fp)\ncvtbw\t160(fp),168(fp)\nprint.w\t168(fp)\n\
         cvtwl\t$-5,176(fp)\nprint.l\t176(fp)\n\
         cvtlw\t32(mp),184(fp)\nprint.w\t184(fp)\n\
         cvtws\t$70000,192(fp)\ncvtsw\t192(fp),200(fp)\nprint.w\t200(fp)\n\
         cvtws\t$-32768,192(fp)\ncvtsw\t192(fp),200(fp)\nprint.w\t200(fp)\n\
         cvtws\t$32768,192(fp)\ncvtsw\t192(fp),200(fp)\nprint.w\t200(fp)",
    );
    assert_eq!(out, [44, 255, -5, 0, 70000 - 65536, -32768, -32768]);
    // cvtlw keeps all 64 bits of a big on 8-byte words.
    let out = ops_with("cvtlw\t32(mp),184(fp)\nprint.w\t184(fp)", &longs(&[i64::MIN + 5]));
    assert_eq!(out, format!("{}\n", i64::MIN + 5));
    // A short written by cvtws leaves the bytes after it alone.
    let out = ops_nums("movw\t$-1,160(fp)\ncvtws\t$0,160(fp)\nprint.w\t160(fp)");
    assert_eq!(out, [-65536]);
}

/// Real to integer: rounds half away from zero (adding ±0.5 in real
/// arithmetic, then truncating), saturating outside the range; NaN is 0.
fn round(f: f64) -> i64 {
    (if f < 0.0 { f - 0.5 } else { f + 0.5 }) as i64
}

#[test]
fn real_to_integer_rounds_half_away_from_zero() {
    let vals = [
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        -2.5,
        2.4999999,
        0.49999999999999994,
        -0.49999999999999994,
        1e18,
        9.2233720368547e18,
        1e300,
        -1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -0.0,
    ];
    let list: Vec<String> = vals.iter().map(|v| (v.to_bits() as i64).to_string()).collect();
    let data = format!("mp {} f0\nlong @mp+32,{}", 32 + 8 * vals.len(), list.join(","));
    let mut body = String::new();
    for k in 0..vals.len() {
        body += &format!(
            "cvtfw\t{0}(mp),160(fp)\nprint.w\t160(fp)\ncvtfl\t{0}(mp),168(fp)\nprint.l\t168(fp)\n",
            32 + 8 * k
        );
    }
    let got: Vec<i64> = ops_with(&body, &data).lines().map(|l| l.parse().unwrap()).collect();
    let want: Vec<i64> = vals.iter().flat_map(|&v| [round(v), round(v)]).collect();
    assert_eq!(got, want);
    assert_eq!([got[0], got[2], got[4], got[6]], [1, -1, 2, -2]);
    // 0.49999999999999994 + 0.5 rounds up to 1.0 in real arithmetic.
    assert_eq!(got[14], 1);
}

#[test]
fn integer_and_short_real_conversions() {
    let bits = |v: f64| v.to_bits() as i64;
    let out = ops_with(
        "cvtwf\t32(mp),160(fp)\nprint.f\t160(fp)\n\
         cvtlf\t32(mp),160(fp)\nprint.f\t160(fp)\n\
         cvtwf\t40(mp),160(fp)\nprint.f\t160(fp)\n\
         cvtfr\t48(mp),168(fp)\ncvtrf\t168(fp),160(fp)\nprint.f\t160(fp)\n\
         cvtfr\t56(mp),168(fp)\ncvtrf\t168(fp),160(fp)\nprint.f\t160(fp)",
        &format!("mp 64 f0\nlong @mp+32,{},{},{},{}", (1i64 << 53) + 1, i64::MIN, bits(0.1), bits(1e300)),
    );
    let got: Vec<i64> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(
        got,
        [
            bits(9007199254740992.0),
            bits(9007199254740992.0),
            bits(-9.223_372_036_854_776e18),
            bits(0.1f32 as f64),
            bits(f64::INFINITY)
        ]
    );
    // cvtfr writes four bytes only.
    let out = ops_nums("movw\t$-1,160(fp)\ncvtwf\t$0,168(fp)\ncvtfr\t168(fp),160(fp)\nprint.w\t160(fp)");
    assert_eq!(out, [-1 << 32]);
}

#[test]
fn integer_powers() {
    let out = ops_nums(
        "expw\t$10,$3,160(fp)\nprint.w\t160(fp)\n\
         expw\t$0,$0,160(fp)\nprint.w\t160(fp)\n\
         expw\t$3,$-3,160(fp)\nprint.w\t160(fp)\n\
         expw\t$64,$2,160(fp)\nprint.w\t160(fp)\n\
         expw\t$63,$2,160(fp)\nprint.w\t160(fp)\n\
         expw\t$-1,$2,160(fp)\nprint.w\t160(fp)\n\
         expw\t$-1,$1,160(fp)\nprint.w\t160(fp)\n\
         expw\t$-3,$-1,160(fp)\nprint.w\t160(fp)\n\
         expw\t$-2,$-1,160(fp)\nprint.w\t160(fp)\n\
         expw\t$-1,$0,160(fp)\nprint.w\t160(fp)\n\
         expw\t$-64,$2,160(fp)\nprint.w\t160(fp)\n\
         expw\t$100,$3,160(fp)\nprint.w\t160(fp)",
    );
    // Negative powers are 1/x**n in integers; 0 ** -1 is 0 as in Inferno
    // (whose 1/0 there is compiled without a division), not an exception.
    assert_eq!(out, [59049, 1, -27, 0, i64::MIN, 0, 1, -1, 1, 0, 0, 3i64.wrapping_pow(100)]);
    let out = ops_nums(
        "cvtwl\t$2,168(fp)\nexpl\t$62,168(fp),176(fp)\nprint.l\t176(fp)\n\
         cvtwl\t$-2,168(fp)\nexpl\t$63,168(fp),176(fp)\nprint.l\t176(fp)\n\
         cvtwl\t$3,168(fp)\nexpl\t$100,168(fp),176(fp)\nprint.l\t176(fp)\n\
         cvtwl\t$0,168(fp)\nexpl\t$-1,168(fp),176(fp)\nprint.l\t176(fp)\n\
         cvtwl\t$-1,168(fp)\nexpl\t$-7,168(fp),176(fp)\nprint.l\t176(fp)",
    );
    assert_eq!(out, [1 << 62, i64::MIN, 3i64.wrapping_pow(100), 0, -1]);
}

#[test]
fn real_powers() {
    let bits = |v: f64| v.to_bits() as i64;
    let out = ops_nums(
        "cvtwf\t$2,168(fp)\nexpf\t$-3,168(fp),176(fp)\nprint.f\t176(fp)\n\
         cvtwf\t$10,168(fp)\nexpf\t$22,168(fp),176(fp)\nprint.f\t176(fp)\n\
         cvtwf\t$0,168(fp)\nexpf\t$-1,168(fp),176(fp)\nprint.f\t176(fp)\n\
         cvtwf\t$7,168(fp)\nexpf\t$0,168(fp),176(fp)\nprint.f\t176(fp)\n\
         cvtwf\t$-2,168(fp)\nexpf\t$3,168(fp),176(fp)\nprint.f\t176(fp)",
    );
    assert_eq!(out, [bits(0.125), bits(1e22), bits(f64::INFINITY), bits(1.0), bits(-8.0)]);
}

/// The fixed-point family on whole words, following xec.c: `x` the middle
/// operand, `y` the source, the scale factor at 40(fp), the shift at 56(fp).
fn fixed(op: &str, x: i64, y: i64, a: i64, p: i64) -> i64 {
    let data = longs(&[x, y, a, p]);
    let body =
        format!("movw\t48(mp),40(fp)\nmovw\t56(mp),56(fp)\n{op}\t40(mp),32(mp),160(fp)\nprint.w\t160(fp)");
    ops_with(&body, &data).trim().parse().unwrap()
}

#[test]
fn fixed_point_multiply_divide_and_convert() {
    // mulx: (x*y) scaled by 2^p; divx: (x scaled by 2^p)/y; cvtxx: y by 2^x.
    assert_eq!(fixed("mulx", 6, 7, 0, -1), 21);
    assert_eq!(fixed("mulx", -6, 7, 0, 2), -168);
    // The product wraps at 64 bits before the shift: 2^70 + 2^30 is 2^30.
    assert_eq!(fixed("mulx", (1 << 40) + 1, 1 << 30, 0, -6), 1 << 24);
    assert_eq!(fixed("divx", 10, 4, 0, 3), 20);
    assert_eq!(fixed("divx", -10, 4, 0, -1), -1);
    assert_eq!(fixed("cvtxx", 3, 10, 0, 0), 80);
    assert_eq!(fixed("cvtxx", -2, 10, 0, 0), 2);
    assert_eq!(fixed("cvtxx", -2, -10, 0, 0), -3);
    // mulx0: x*y scaled, divided by the factor; 0 when either is 0.
    assert_eq!(fixed("mulx0", 1000, 3000, 7, 1), 857142);
    assert_eq!(fixed("mulx0", 0, 3000, 0, 1), 0);
    // divx0: factor*x scaled, divided by y.
    assert_eq!(fixed("divx0", 1000, 3, 7, -1), 1166);
    assert_eq!(fixed("divx0", 0, 0, 7, -1), 0);
    // cvtxx0: y scaled by x, divided by the factor.
    assert_eq!(fixed("cvtxx0", 4, 1000, 3, 0), 5333);
    assert_eq!(fixed("cvtxx0", 4, 0, 0, 0), 0);
    // The 1 forms: bit 1 of the shift word asks to round away by factor-1
    // (or 1 for divx1), bit 0 to add 2^-p - 1 before shifting right.
    let p = |shift: i64, v: bool, w: bool| (shift << 2) | ((v as i64) << 1) | w as i64;
    assert_eq!(fixed("mulx1", 10, 10, 3, p(0, false, false)), 33);
    assert_eq!(fixed("mulx1", 10, 10, 3, p(0, true, false)), 34);
    assert_eq!(fixed("mulx1", -10, 10, 3, p(0, true, false)), -34);
    assert_eq!(fixed("mulx1", -10, 10, 3, p(-2, false, true)), -8);
    assert_eq!(fixed("mulx1", 10, 10, 3, p(-2, true, true)), 9);
    assert_eq!(fixed("mulx1", 10, 10, 3, p(-2, false, true)), 8);
    assert_eq!(fixed("divx1", 10, 3, 4, p(0, false, false)), 13);
    assert_eq!(fixed("divx1", 10, 3, 4, p(0, true, false)), 14);
    assert_eq!(fixed("divx1", 10, -3, 4, p(0, true, false)), -14);
    assert_eq!(fixed("divx1", -10, 3, 4, p(-1, false, true)), -6);
    assert_eq!(fixed("cvtxx1", p(0, true, false), 10, 3, 0), 4);
    assert_eq!(fixed("cvtxx1", p(0, true, false), -10, 3, 0), -4);
    assert_eq!(fixed("cvtxx1", p(-1, false, true), -9, 1, 0), -4);
    assert_eq!(fixed("cvtxx1", p(-1, false, false), -9, 1, 0), -5);
    // Whole 64-bit words, not 32.
    assert_eq!(fixed("mulx0", 1 << 33, 3, 1, 0), 3 << 33);
    // A zero factor or divisor is a zero divide.
    let raise = |op: &str, y: i64| {
        ops_raise(&format!("movw\t$0,40(fp)\nmovw\t$0,56(fp)\n{op}\t${y},$5,160(fp)\nprint.w\t160(fp)"), "")
    };
    for (op, y) in
        [("divx", 0), ("mulx0", 3), ("divx0", 0), ("mulx1", 3), ("divx1", 0), ("cvtxx0", 3), ("cvtxx1", 3)]
    {
        assert_eq!(raise(op, y), "zero divide", "{op}");
    }
}

#[test]
fn fixed_point_real_conversions() {
    let bits = |v: f64| v.to_bits() as i64;
    // cvtfx: real * scale, rounded; cvtxf: word * scale as a real.
    let data = format!("mp 64 f0\nlong @mp+32,{},{},{}", bits(2.5), bits(0.1), bits(-1.25));
    let out = ops_with(
        "cvtfx\t32(mp),40(mp),160(fp)\nprint.w\t160(fp)\n\
         cvtfx\t48(mp),32(mp),160(fp)\nprint.w\t160(fp)\n\
         cvtxf\t$25,40(mp),168(fp)\nprint.f\t168(fp)",
        &data,
    );
    let got: Vec<i64> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(got, [0, -3, bits(25.0 * 0.1)]);
    let out = ops_with("cvtfx\t32(mp),40(mp),160(fp)\nprint.w\t160(fp)", &longs(&[bits(1e12), bits(1e6)]));
    assert_eq!(out, "1000000000000000000\n");
}

#[test]
fn moves_of_each_width() {
    let out = ops("movw\t$-1,160(fp)\nmovb\t$7,160(fp)\nprint.w\t160(fp)\n\
         movl\t32(mp),168(fp)\nprint.l\t168(fp)\n\
         movf\t32(mp),176(fp)\nprint.f\t176(fp)");
    // movb writes one byte: the word's low byte becomes 7.
    assert_eq!(out.lines().next(), Some("-249"));
}
