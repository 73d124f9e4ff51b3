//! Dis strings: immutable sequences of runes. Nil is the empty string.
//!
//! A string whose runes are all ASCII keeps one byte per rune, any other
//! four, so that indexing is constant time either way.
//!
//! Runes are 16 bits, as in InferNode, whose `Rune` is C's `ushort`: a
//! value stored into a string keeps its low 16 bits (`s[i] = 16r1F600`
//! stores U+F600), Inferno's UTF-8 stops at three bytes, and the bytes of
//! a longer sequence (a character past U+FFFF) decode as one error rune
//! each. Surrogates (U+D800 to U+DFFF) are runes like any other and encode
//! as three bytes.

use std::cmp::Ordering;

use crate::heap::{Heap, Ptr};
use crate::mem::{obj, Addr};
use crate::types::{Kind, Type};

#[repr(C)]
struct StrHdr {
    len: usize,
    /// 0: one byte a rune; 1: four.
    wide: usize,
}

const HDR: usize = std::mem::size_of::<StrHdr>();
/// The layout compiled code reads: the rune count, whether runes take four
/// bytes (else one), and where they start.
pub const LEN: usize = std::mem::offset_of!(StrHdr, len);
pub const WIDE: usize = std::mem::offset_of!(StrHdr, wide);
pub const DATA: usize = HDR;

pub static STRING: Type = Type::new(HDR, &[], Kind::String);

/// Inferno's error rune (`Runeerror`, not U+FFFD): what bytes that are not
/// UTF-8 and runes that are not characters become.
pub const RUNE_ERROR: u32 = 0x80;
/// The largest rune (Inferno's runes are 16 bits).
pub const RUNE_MAX: u32 = 0xFFFF;

/// The rune a word becomes when stored into a string (`insc`): its low 16
/// bits, as C's conversion to `Rune` keeps them.
pub fn rune_of_word(w: i64) -> u32 {
    w as u16 as u32
}

fn hdr(p: Ptr) -> (usize, bool) {
    let a = obj(p);
    // SAFETY: a string object starts with its header.
    let wide = unsafe { a.offset(8) }.w() != 0;
    (a.w() as usize, wide)
}

fn data(p: Ptr) -> Addr {
    // SAFETY: the runes follow the header inside the object.
    unsafe { obj(p).offset(HDR) }
}

fn alloc(heap: &mut Heap, len: usize, wide: bool) -> Ptr {
    let p = heap.alloc(&STRING, if wide { len * 4 } else { len });
    obj(p).set_w(len as i64);
    // SAFETY: the header's second word.
    unsafe { obj(p).offset(8) }.set_w(wide as i64);
    p
}

/// Number of runes.
pub fn len(p: Ptr) -> usize {
    if p.is_null() {
        0
    } else {
        hdr(p).0
    }
}

/// Rune `i`, which must be less than `len(p)`.
#[inline]
pub fn rune(p: Ptr, i: usize) -> u32 {
    let (n, wide) = hdr(p);
    assert!(i < n, "rune index checked by the caller");
    // SAFETY: i < len, inside the data.
    unsafe {
        if wide {
            (data(p).ptr().add(i * 4) as *const u32).read_unaligned()
        } else {
            *data(p).ptr().add(i) as u32
        }
    }
}

/// A new string of these runes.
pub fn from_runes(heap: &mut Heap, runes: &[u32]) -> Ptr {
    if runes.is_empty() {
        return std::ptr::null_mut();
    }
    let wide = runes.iter().any(|&r| r >= 0x80);
    let p = alloc(heap, runes.len(), wide);
    let d = data(p).ptr();
    for (i, &r) in runes.iter().enumerate() {
        // SAFETY: i < len inside the fresh object.
        unsafe {
            if wide {
                (d.add(i * 4) as *mut u32).write_unaligned(r)
            } else {
                *d.add(i) = r as u8
            }
        }
    }
    p
}

/// A new string from Rust text. Characters past U+FFFF become error runes
/// as in [`from_utf8`].
pub fn from_str(heap: &mut Heap, s: &str) -> Ptr {
    if s.bytes().any(|c| c >= 0xf0) {
        return from_inferno_utf8(heap, s.as_bytes());
    }
    if s.is_ascii() {
        if s.is_empty() {
            return std::ptr::null_mut();
        }
        let p = alloc(heap, s.len(), false);
        data(p).copy_from(
            // SAFETY: the source is a Rust str of s.len() bytes, read only.
            unsafe { Addr::new(s.as_ptr() as *mut u8) },
            s.len(),
        );
        p
    } else {
        let runes: Vec<u32> = s.chars().map(|c| c as u32).collect();
        from_runes(heap, &runes)
    }
}

/// A new string from UTF-8 bytes, as Inferno's `string a` decodes them:
/// each malformed sequence becomes one `RUNE_ERROR`, and a character cut
/// short by the end of the bytes is left out.
pub fn from_utf8(heap: &mut Heap, b: &[u8]) -> Ptr {
    match std::str::from_utf8(b) {
        Ok(s) => from_str(heap, s),
        Err(_) => from_inferno_utf8(heap, b),
    }
}

/// [`from_utf8`] rune by rune.
fn from_inferno_utf8(heap: &mut Heap, b: &[u8]) -> Ptr {
    let mut runes = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest[0] >= 0x80 && rest.len() < UTF_MAX && !full_rune(rest) {
            break;
        }
        let (r, n) = char_to_rune(rest);
        runes.push(r);
        i += n;
    }
    from_runes(heap, &runes)
}

/// C's white space, as the string-to-number conversions skip it.
fn skip_space(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')).count();
    &b[n..]
}

/// White space, then an optional sign: whether it was `-`, and the rest.
fn sign(b: &[u8]) -> (bool, &[u8]) {
    let b = skip_space(b);
    match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    }
}

/// `int s` (`cvtcw`): C's `strtol` in base 10 on a 64-bit word, which
/// saturates when the value does not fit.
pub fn to_word(s: Ptr) -> i64 {
    let b = to_utf8(s);
    let (neg, b) = sign(&b);
    let mut v: i128 = 0;
    for &c in b.iter().take_while(|c| c.is_ascii_digit()) {
        v = (v * 10 + (c - b'0') as i128).min(1 << 64);
    }
    let v = if neg { -v } else { v };
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// `big s` (`cvtcl`): Inferno's own `strtoll` in base 10, which wraps
/// around when the value does not fit.
pub fn to_big(s: Ptr) -> i64 {
    let b = to_utf8(s);
    let (neg, b) = sign(&b);
    let mut v: i64 = 0;
    for &c in b.iter().take_while(|c| c.is_ascii_digit()) {
        v = v.wrapping_mul(10).wrapping_add((c - b'0') as i64);
    }
    if neg {
        v.wrapping_neg()
    } else {
        v
    }
}

/// `real s` (`cvtcf`): the `strtod` of Inferno's math library (David Gay's):
/// white space, a sign, then decimal digits with an optional point and
/// exponent, or `infinity` or `nan` in any case (`inf` alone is not a
/// number); 0 when nothing is a number.
pub fn to_real(s: Ptr) -> f64 {
    let b = to_utf8(s);
    let (neg, b) = sign(&b);
    let v = real_prefix(b);
    if neg {
        -v
    } else {
        v
    }
}

fn real_prefix(b: &[u8]) -> f64 {
    let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(b);
    let mut i = int;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        frac = digits(&b[i + 1..]);
        i += 1 + frac;
    }
    if int + frac == 0 {
        let lower = b.to_ascii_lowercase();
        if lower.starts_with(b"infinity") {
            return f64::INFINITY;
        }
        if lower.starts_with(b"nan") {
            return f64::NAN;
        }
        return 0.0;
    }
    let mut text: String = String::from_utf8_lossy(&b[..i]).into_owned();
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        let eneg = b.get(j) == Some(&b'-');
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let n = digits(&b[j..]);
        if n > 0 {
            // Exponents past 19999 mean the same as 19999.
            let e = b[j..j + n].iter().fold(0i64, |e, &c| (e * 10 + (c - b'0') as i64).min(19999));
            text.push_str(&format!("e{}{e}", if eneg { "-" } else { "" }));
        }
    }
    text.parse().unwrap_or(0.0)
}

/// Decodes UTF-8 the way Inferno's `chartorune` does: a byte that does not
/// start a well-formed sequence is one error rune.
pub fn decode_utf8(b: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let (r, n) = char_to_rune(&b[i..]);
        out.push(r);
        i += n;
    }
    out
}

/// Inferno's UTF-8, which stops at three bytes (sys.m's `UTFmax`), and its
/// error rune (`UTFerror`, not U+FFFD).
pub const UTF_MAX: usize = 3;

/// Decodes the character at the start of `b` as Inferno's `chartorune`:
/// the rune and its length, `(RUNE_ERROR, 1)` for a bad sequence. Bytes
/// past the end read as 0 (callers check [`full_rune`] first).
pub fn char_to_rune(b: &[u8]) -> (u32, usize) {
    const BAD: (u32, usize) = (RUNE_ERROR, 1);
    let at = |i: usize| b.get(i).copied().unwrap_or(0) as u32;
    let c = at(0);
    if c < 0x80 {
        return (c, 1);
    }
    let c1 = at(1) ^ 0x80;
    if c1 & 0xc0 != 0 {
        return BAD;
    }
    if c < 0xe0 {
        let r = ((c << 6) | c1) & 0x7ff;
        return if c < 0xc0 || r <= 0x7f { BAD } else { (r, 2) };
    }
    let c2 = at(2) ^ 0x80;
    if c2 & 0xc0 != 0 {
        return BAD;
    }
    if c < 0xf0 {
        let r = ((((c << 6) | c1) << 6) | c2) & 0xffff;
        return if r <= 0x7ff { BAD } else { (r, 3) };
    }
    BAD
}

/// Whether `b` holds a whole character (Inferno's `fullrune`).
pub fn full_rune(b: &[u8]) -> bool {
    match b {
        [] => false,
        [c, ..] if *c < 0x80 => true,
        [c, rest @ ..] => !rest.is_empty() && (*c < 0xe0 || rest.len() > 1),
    }
}

/// Appends the UTF-8 encoding of rune `r` as Inferno's `runetochar` writes
/// it: surrogates too, and anything past [`RUNE_MAX`] as `RUNE_ERROR`.
pub fn encode_rune(out: &mut Vec<u8>, r: u32) {
    let r = if r > RUNE_MAX { RUNE_ERROR } else { r };
    match r {
        0..=0x7F => out.push(r as u8),
        0x80..=0x7FF => out.extend_from_slice(&[0xC0 | (r >> 6) as u8, 0x80 | (r & 0x3F) as u8]),
        _ => out.extend_from_slice(&[
            0xE0 | (r >> 12) as u8,
            0x80 | ((r >> 6) & 0x3F) as u8,
            0x80 | (r & 0x3F) as u8,
        ]),
    }
}

/// The string's UTF-8 bytes.
pub fn to_utf8(p: Ptr) -> Vec<u8> {
    let n = len(p);
    if n == 0 {
        return Vec::new();
    }
    if !hdr(p).1 {
        return data(p).bytes(n).to_vec();
    }
    let mut out = Vec::with_capacity(n * 2);
    for i in 0..n {
        encode_rune(&mut out, rune(p, i));
    }
    out
}

/// The string as Rust text (runes that are not characters become U+FFFD).
pub fn to_string(p: Ptr) -> String {
    let n = len(p);
    if n > 0 && !hdr(p).1 {
        return String::from_utf8_lossy(data(p).bytes(n)).into_owned();
    }
    (0..n).map(|i| char::from_u32(rune(p, i)).unwrap_or('\u{FFFD}')).collect()
}

/// Compares rune by rune, as Limbo's string comparisons do.
pub fn cmp(a: Ptr, b: Ptr) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (la, lb) = (len(a), len(b));
    if la > 0 && lb > 0 && !hdr(a).1 && !hdr(b).1 {
        return data(a).bytes(la).cmp(data(b).bytes(lb));
    }
    for i in 0..la.min(lb) {
        match rune(a, i).cmp(&rune(b, i)) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    la.cmp(&lb)
}

fn runes_of(p: Ptr, from: usize, to: usize) -> impl Iterator<Item = u32> {
    (from..to).map(move |i| rune(p, i))
}

/// `a + b`.
pub fn concat(heap: &mut Heap, a: Ptr, b: Ptr) -> Ptr {
    let (la, lb) = (len(a), len(b));
    if la > 0 && lb > 0 && !hdr(a).1 && !hdr(b).1 {
        let p = alloc(heap, la + lb, false);
        data(p).copy_from(data(a), la);
        // SAFETY: the second part lies inside the new object.
        unsafe { data(p).offset(la) }.copy_from(data(b), lb);
        return p;
    }
    let runes: Vec<u32> = runes_of(a, 0, la).chain(runes_of(b, 0, lb)).collect();
    from_runes(heap, &runes)
}

/// `addc`: `a + b` as a new reference. With `append` (the result replaces
/// `a`, as in `s += t`) an unshared `a` grows in place, and a new one gets
/// a quarter more room than it needs, so that building a string by
/// appending takes linear time, as in Inferno. The result may be `a`
/// itself, with its reference passed on.
pub fn add(heap: &mut Heap, a: Ptr, b: Ptr, append: bool) -> Ptr {
    let (la, lb) = (len(a), len(b));
    if lb == 0 && append && !a.is_null() && Heap::refs(a) == 1 {
        Heap::inc(a);
        return a;
    }
    if la == 0 || lb == 0 || !append {
        return concat(heap, a, b);
    }
    let (wa, wb) = (hdr(a).1, hdr(b).1);
    let wide = wa || wb;
    let width = if wide { 4 } else { 1 };
    let n = la + lb;
    let fits = Heap::refs(a) == 1 && wa == wide && HDR + n * width <= Heap::size_of(a);
    let dst = if fits {
        Heap::inc(a);
        a
    } else {
        let cap = n + n / 4;
        let p = heap.alloc(&STRING, cap * width);
        // SAFETY: the header's second word.
        unsafe { obj(p).offset(8) }.set_w(wide as i64);
        write_runes(p, 0, a, wide);
        p
    };
    write_runes(dst, la, b, wide);
    obj(dst).set_w(n as i64);
    dst
}

/// Writes the runes of `src` into `dst` (of width `wide`) from rune `at`;
/// `dst` has room for them.
fn write_runes(dst: Ptr, at: usize, src: Ptr, wide: bool) {
    let (n, src_wide) = hdr(src);
    if src_wide == wide {
        let w = if wide { 4 } else { 1 };
        // SAFETY: the caller made room for `at + n` runes of this width.
        unsafe { data(dst).offset(at * w) }.copy_from(data(src), n * w);
        return;
    }
    // Widening ASCII into four-byte runes.
    let d = data(dst).ptr();
    for i in 0..n {
        // SAFETY: as above.
        unsafe { (d.add((at + i) * 4) as *mut u32).write_unaligned(rune(src, i)) };
    }
}

/// `s[from:to]`; the caller has checked `from <= to <= len(s)`.
pub fn slice(heap: &mut Heap, s: Ptr, from: usize, to: usize) -> Ptr {
    if from == to {
        return std::ptr::null_mut();
    }
    if !hdr(s).1 {
        let p = alloc(heap, to - from, false);
        // SAFETY: from < to <= len, inside the source.
        data(p).copy_from(unsafe { data(s).offset(from) }, to - from);
        return p;
    }
    let runes: Vec<u32> = runes_of(s, from, to).collect();
    from_runes(heap, &runes)
}

/// `s[i] = r` for `i <= len(s)` (at `len` the string grows), as a string the
/// caller holds one reference to: `s` itself when it was the only holder
/// and the rune fits, a new string otherwise.
pub fn insert(heap: &mut Heap, s: Ptr, i: usize, r: u32) -> Ptr {
    let n = len(s);
    if i < n && Heap::refs(s) == 1 && (hdr(s).1 || r < 0x80) {
        // SAFETY: i < len, inside the data.
        unsafe {
            if hdr(s).1 {
                (data(s).ptr().add(i * 4) as *mut u32).write_unaligned(r)
            } else {
                *data(s).ptr().add(i) = r as u8
            }
        }
        Heap::inc(s);
        return s;
    }
    let mut runes: Vec<u32> = if n > 0 { runes_of(s, 0, n).collect() } else { Vec::new() };
    if i == n {
        runes.push(r);
    } else {
        runes[i] = r;
    }
    from_runes(heap, &runes)
}
