//! Limbo's print formatting (`Sys->print`, `sprint`, `fprint`, `aprint`) and
//! the string conversions of the `cvt*c` instructions, as Inferno does them.
//!
//! Inferno formats in two stages, and the quirks users see come from that:
//! the Sys module scans each `%` directive up to a verb it knows
//! (`d o x X c s q e f g G E r %`), fetches one argument of the type the
//! verb implies (a `%b` prefix making integers `big`), and hands the
//! directive text to Plan 9's `fmt` with that single argument. So `%d`
//! prints an `int` word's low 32 bits, `%bd` all 64, `%c` prints a rune,
//! and a directive Plan 9 does not know prints as `%z%`. Reals go through
//! `dtoa`: `%g` with neither width nor precision is the shortest form that
//! reads back exactly, without a leading zero (`.3333333333333333`).
//!
//! Text is bytes, as Inferno's UTF-8 of 16-bit runes (see
//! [`crate::string`]): surrogates print as their three bytes, `%c` prints
//! its argument's low 16 bits as a rune, and a string argument ends at its
//! first NUL, as the C string Inferno hands to `fmt` does.

use crate::string::{char_to_rune, encode_rune};

/// Where formatting reads its arguments from: the variadic part of a frame.
pub trait Args {
    fn word(&mut self) -> i64;
    fn big(&mut self) -> i64;
    fn real(&mut self) -> f64;
    /// A string argument's UTF-8 bytes (nil is none).
    fn string(&mut self) -> Vec<u8>;
}

/// The runes of Inferno's UTF-8 (as [`crate::string::to_utf8`] makes it),
/// each with the bytes it takes.
fn runes(mut b: &[u8]) -> impl Iterator<Item = (u32, usize)> + '_ {
    std::iter::from_fn(move || {
        if b.is_empty() {
            return None;
        }
        let (r, n) = char_to_rune(b);
        b = &b[n..];
        Some((r, n))
    })
}

/// Formats `fmt` (a string's UTF-8) as Limbo's `sprint` does; `errstr` is
/// what `%r` prints. The result is bytes: with NULs where `%c` printed
/// them, and surrogates as their three bytes.
pub fn format(fmt: &[u8], args: &mut dyn Args, errstr: &str) -> Vec<u8> {
    let mut out = Vec::new();
    // Runes that are no characters (surrogates) stand for themselves in
    // the text; inside a directive, where only ASCII means anything, they
    // are U+FFFD.
    let mut it = runes(fmt).map(|(r, _)| (r, char::from_u32(r).unwrap_or(char::REPLACEMENT_CHARACTER)));
    while let Some((r, c)) = it.next() {
        if c != '%' {
            encode_rune(&mut out, r);
            continue;
        }
        // The directive as Plan 9's fmt will see it.
        let mut spec = String::from("%");
        let mut big = false;
        // A directive cut off by the end of the format prints nothing.
        for (_, c) in it.by_ref() {
            let arg = match c {
                '*' => {
                    spec.push_str(&(args.word() as i32).to_string());
                    continue;
                }
                'b' => {
                    spec.push_str("ll");
                    big = true;
                    continue;
                }
                '%' => {
                    out.push(b'%');
                    break;
                }
                'r' => {
                    out.extend_from_slice(errstr.as_bytes());
                    break;
                }
                's' | 'q' => {
                    let mut s = args.string();
                    if let Some(k) = s.iter().position(|&b| b == 0) {
                        s.truncate(k);
                    }
                    Arg::Str(s)
                }
                'e' | 'f' | 'g' | 'G' | 'E' => Arg::Real(args.real()),
                'd' | 'o' | 'x' | 'X' | 'c' => Arg::Int(if big { args.big() } else { args.word() }),
                _ => {
                    spec.push(c);
                    continue;
                }
            };
            // Words print `%c` as a rune; `E` is spelled `É` in Inferno to
            // keep clear of the network code's Ethernet-address verb.
            spec.push(match c {
                'c' if !big => 'C',
                'E' => 'É',
                c => c,
            });
            plan9(&mut out, &spec, arg);
            break;
        }
    }
    out
}

/// The one argument a directive was given.
#[derive(Clone, Debug)]
enum Arg {
    Int(i64),
    Real(f64),
    Str(Vec<u8>),
    /// Read past the one argument: what C would find there is undefined;
    /// dite reads zero.
    Gone,
}

impl Arg {
    fn take(&mut self) -> Arg {
        std::mem::replace(self, Arg::Gone)
    }

    fn int(&mut self) -> i64 {
        match self.take() {
            Arg::Int(v) => v,
            Arg::Real(f) => f.to_bits() as i64,
            _ => 0,
        }
    }
}

const LEFT: u32 = 1;
const SIGN: u32 = 1 << 1;
const SPACE: u32 = 1 << 2;
const SHARP: u32 = 1 << 3;
const ZERO: u32 = 1 << 4;
const COMMA: u32 = 1 << 5;
const UNSIGNED: u32 = 1 << 6;
const SHORT: u32 = 1 << 7;
const BYTE: u32 = 1 << 8;
const LONG: u32 = 1 << 9;
const VLONG: u32 = 1 << 10;
const WIDTH: u32 = 1 << 11;
const PREC: u32 = 1 << 12;

/// One directive's flags, width and precision.
#[derive(Clone, Copy, Default)]
struct Spec {
    flags: u32,
    width: i64,
    prec: i64,
}

/// Plan 9's `fmt` of `spec` (text and directives) with the one argument.
fn plan9(out: &mut Vec<u8>, spec: &str, mut arg: Arg) {
    let mut it = spec.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            continue;
        }
        let mut f = Spec::default();
        loop {
            let Some(r) = it.next() else { return };
            match r {
                '.' => f.flags |= WIDTH | PREC,
                '0' if f.flags & WIDTH == 0 => f.flags |= ZERO,
                '0'..='9' => {
                    let mut n = r as i64 - '0' as i64;
                    while let Some(d) = it.peek().and_then(|d| d.to_digit(10)) {
                        n = n.saturating_mul(10).saturating_add(d as i64);
                        it.next();
                    }
                    number(&mut f, n);
                }
                '*' => {
                    let mut n = arg.int() as i32 as i64;
                    if n < 0 {
                        n = -n;
                        f.flags |= LEFT;
                    }
                    number(&mut f, n);
                }
                ',' => f.flags |= COMMA,
                '-' => f.flags |= LEFT,
                '+' => f.flags |= SIGN,
                '#' => f.flags |= SHARP,
                ' ' => f.flags |= SPACE,
                'u' => f.flags |= UNSIGNED,
                'h' => f.flags |= if f.flags & SHORT != 0 { BYTE | SHORT } else { SHORT },
                'l' => f.flags |= if f.flags & LONG != 0 { VLONG | LONG } else { LONG },
                'd' | 'x' | 'X' | 'o' | 'b' | 'p' => {
                    integer(out, f, r, &mut arg);
                    break;
                }
                'C' => {
                    // A rune: the low 16 bits.
                    let mut r = Vec::new();
                    encode_rune(&mut r, crate::string::rune_of_word(arg.int()));
                    copy(out, f, &r);
                    break;
                }
                'c' => {
                    // A byte: a character only when it is ASCII.
                    let b = arg.int() as u8;
                    let f = Spec { flags: f.flags | PREC, prec: 1, ..f };
                    let text = [b];
                    copy(out, f, if b < 0x80 { &text } else { &[] });
                    break;
                }
                's' | 'S' => {
                    let s = match arg.take() {
                        Arg::Str(s) => s,
                        _ => Vec::new(),
                    };
                    copy(out, f, &s);
                    break;
                }
                'q' | 'Q' => {
                    let s = match arg.take() {
                        Arg::Str(s) => s,
                        _ => Vec::new(),
                    };
                    quoted(out, f, &s);
                    break;
                }
                'e' | 'f' | 'g' | 'G' | 'É' => {
                    let d = match arg.take() {
                        Arg::Real(d) => d,
                        Arg::Int(v) => f64::from_bits(v as u64),
                        _ => 0.0,
                    };
                    real(out, f, r, d);
                    break;
                }
                '%' => {
                    copy(out, Spec { flags: f.flags | PREC, prec: 1, ..f }, b"%");
                    break;
                }
                'n' | 'r' => break,
                _ => {
                    copy(out, Spec { flags: f.flags | PREC, prec: 3, ..f }, format!("%{r}%").as_bytes());
                    break;
                }
            }
        }
    }
}

/// A number in a directive: the width, or after a `.` the precision.
fn number(f: &mut Spec, n: i64) {
    if f.flags & WIDTH != 0 {
        f.flags |= PREC;
        f.prec = n;
    } else {
        f.flags |= WIDTH;
        f.width = n;
    }
}

/// Copies `s` into a field of the directive's width, cut to its precision
/// (both in runes).
fn copy(out: &mut Vec<u8>, f: Spec, s: &[u8]) {
    let mut n = runes(s).count() as i64;
    let mut s = s;
    if f.flags & PREC != 0 && n > f.prec {
        n = f.prec.max(0);
        s = &s[..runes(s).take(n as usize).map(|(_, k)| k).sum()];
    }
    pad(out, f, s, n);
}

/// Writes `s` (`n` runes) padded with spaces to the field width.
fn pad(out: &mut Vec<u8>, f: Spec, s: &[u8], n: i64) {
    let fill = (f.width - n).max(0) as usize;
    if f.flags & LEFT == 0 {
        out.extend(std::iter::repeat_n(b' ', fill));
    }
    out.extend_from_slice(s);
    if f.flags & LEFT != 0 {
        out.extend(std::iter::repeat_n(b' ', fill));
    }
}

/// `%d %x %X %o %b`: the argument read as C would read it for the flags
/// (plain: a 32-bit `int`; `l` and `ll`: 64 bits; `h`, `hh`: 16 and 8).
fn integer(out: &mut Vec<u8>, mut f: Spec, verb: char, arg: &mut Arg) {
    let raw = arg.int();
    let unsigned = f.flags & UNSIGNED != 0 || verb == 'p';
    let v: i128 = match () {
        _ if verb == 'p' || f.flags & (VLONG | LONG) != 0 => {
            if unsigned {
                raw as u64 as i128
            } else {
                raw as i128
            }
        }
        _ if f.flags & BYTE != 0 => {
            if unsigned {
                raw as u8 as i128
            } else {
                raw as i8 as i128
            }
        }
        _ if f.flags & SHORT != 0 => {
            if unsigned {
                raw as u16 as i128
            } else {
                raw as i16 as i128
            }
        }
        _ if unsigned => raw as u32 as i128,
        _ => raw as i32 as i128,
    };
    let (base, upper) = match verb {
        'd' => (10, false),
        'X' => (16, true),
        'x' | 'p' => (16, false),
        'b' => (2, false),
        _ => (8, false),
    };
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    // Digits, least significant first.
    let mut d: Vec<u8> = Vec::new();
    while u != 0 {
        if f.flags & COMMA != 0 && d.len() % 4 == 3 {
            d.push(b',');
        }
        let k = (u % base) as u8;
        d.push(if k < 10 {
            b'0' + k
        } else if upper {
            b'A' + k - 10
        } else {
            b'a' + k - 10
        });
        u /= base;
    }
    if d.is_empty() {
        d.push(b'0');
    }
    const ROOM: usize = 66;
    while (d.len() as i64) < f.prec && d.len() < ROOM {
        d.push(b'0');
    }
    let mut n = d.len() as i64;
    if neg || f.flags & (SIGN | SPACE) != 0 {
        n += 1;
    }
    let mut sharp = f.flags & SHARP != 0;
    if sharp {
        if base == 16 {
            n += 2;
        } else if base == 8 {
            if d.last() == Some(&b'0') {
                sharp = false;
            } else {
                n += 1;
            }
        }
    }
    if f.flags & ZERO != 0 && f.flags & LEFT == 0 {
        while n < f.width && d.len() < ROOM {
            d.push(b'0');
            n += 1;
        }
        f.width = 0;
    }
    if sharp {
        if base == 16 {
            d.push(if upper { b'X' } else { b'x' });
        }
        if base == 16 || base == 8 {
            d.push(b'0');
        }
    }
    if neg {
        d.push(b'-');
    } else if f.flags & SIGN != 0 {
        d.push(b'+');
    } else if f.flags & SPACE != 0 {
        d.push(b' ');
    }
    d.reverse();
    let n = d.len() as i64;
    pad(out, f, &d, n);
}

/// `%q`: the string in single quotes when it is empty or holds a space,
/// a control character or a quote (doubled inside).
fn quoted(out: &mut Vec<u8>, f: Spec, s: &[u8]) {
    // Bytes of multi-byte characters are all 0x80 or more.
    let quote = f.flags & SHARP != 0 || s.is_empty() || s.iter().any(|&c| c <= b' ' || c == b'\'');
    if !quote {
        return pad(out, f, s, s.len() as i64);
    }
    let mut q = Vec::with_capacity(s.len() + 2);
    q.push(b'\'');
    for &c in s {
        if c == b'\'' {
            q.push(b'\'');
        }
        q.push(c);
    }
    q.push(b'\'');
    let n = q.len() as i64;
    pad(out, f, &q, n);
}

/// Digits of a real as `dtoa` gives them: significant digits without
/// trailing zeros, the position of the decimal point, the sign.
struct Digits {
    digits: Vec<u8>,
    decpt: i64,
    neg: bool,
}

impl Digits {
    /// Shortest digits that read back as `d` (dtoa mode 0).
    fn shortest(d: f64) -> Digits {
        Self::from_exp(d, format!("{:e}", d.abs()))
    }

    /// `n >= 1` significant digits, correctly rounded (dtoa mode 2).
    fn significant(d: f64, n: i64) -> Digits {
        Self::from_exp(d, format!("{:.*e}", (n.max(1) - 1) as usize, d.abs()))
    }

    /// Rounded to `n` digits after the point (dtoa mode 3).
    fn fixed(d: f64, n: i64) -> Digits {
        if !d.is_finite() {
            return Self::special(d);
        }
        let s = format!("{:.*}", n.max(0) as usize, d.abs());
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        let all: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let lead = all.iter().take_while(|&&b| b == b'0').count();
        let mut digits = all[lead..].to_vec();
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        let decpt = int.len() as i64 - lead as i64;
        if d == 0.0 {
            return Digits { digits: vec![b'0'], decpt: 1, neg: d.is_sign_negative() };
        }
        Digits { digits, decpt, neg: d.is_sign_negative() }
    }

    fn from_exp(d: f64, s: String) -> Digits {
        if !d.is_finite() {
            return Self::special(d);
        }
        let (mant, exp) = s.split_once('e').expect("exponent form");
        let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
        while digits.len() > 1 && digits.last() == Some(&b'0') {
            digits.pop();
        }
        let exp: i64 = exp.parse().expect("exponent");
        Digits { digits, decpt: exp + 1, neg: d.is_sign_negative() }
    }

    /// Infinity and NaN, which dtoa spells out with `decpt` 9999.
    fn special(d: f64) -> Digits {
        let text: &[u8] = if d.is_nan() { b"NaN" } else { b"Infinity" };
        Digits { digits: text.to_vec(), decpt: 9999, neg: d.is_sign_negative() }
    }
}

/// `%g` with neither width nor precision: the shortest exact digits, in
/// exponent form when the point is far from them.
fn shortest_g(d: f64, echr: char) -> String {
    let Digits { digits, decpt, neg } = Digits::shortest(d);
    let mut b = String::new();
    if neg {
        b.push('-');
    }
    let s = std::str::from_utf8(&digits).expect("ASCII digits");
    let n = digits.len() as i64;
    if decpt == 9999 {
        b.push_str(s);
    } else if decpt <= -4 || decpt > n + 5 {
        b.push_str(&s[..1]);
        if n > 1 {
            b.push('.');
            b.push_str(&s[1..]);
        }
        b.push(echr);
        let e = decpt - 1;
        b.push(if e < 0 { '-' } else { '+' });
        b.push_str(&format!("{:02}", e.abs()));
    } else if decpt <= 0 {
        b.push('.');
        b.extend(std::iter::repeat_n('0', (-decpt) as usize));
        b.push_str(s);
    } else {
        for (i, c) in s.chars().enumerate() {
            b.push(c);
            if i as i64 + 1 == decpt && (i as i64) + 1 < n {
                b.push('.');
            }
        }
        b.extend(std::iter::repeat_n('0', (decpt - n).max(0) as usize));
    }
    b
}

/// String of a real as Limbo's `string r` makes it (`%g`).
pub fn real_to_string(d: f64) -> String {
    shortest_g(d, 'e')
}

/// `%e %f %g %G %E` of a real.
fn real(out: &mut Vec<u8>, f: Spec, verb: char, d: f64) {
    let mut prec = if f.flags & PREC != 0 { f.prec.min(30) } else { 6 };
    let mut echr = 'e';
    let fixed_form;
    let digits = match verb {
        'f' => {
            fixed_form = true;
            Digits::fixed(d, prec)
        }
        'e' | 'É' => {
            if verb == 'É' {
                echr = 'E';
            }
            fixed_form = false;
            Digits::significant(d, 1 + prec)
        }
        _ => {
            if verb == 'G' {
                echr = 'E';
            }
            if f.flags & (WIDTH | PREC) == 0 {
                let s = shortest_g(d, echr);
                let n = s.len() as i64;
                return pad(out, f, s.as_bytes(), n);
            }
            let dg = if prec > 0 {
                Digits::significant(d, prec)
            } else {
                let dg = Digits::shortest(d);
                prec = dg.digits.len() as i64;
                if dg.decpt > prec && dg.decpt <= prec + 4 {
                    prec = dg.decpt;
                }
                dg
            };
            let e = dg.decpt;
            if e >= -3 && e <= prec {
                fixed_form = true;
                prec -= e;
            } else {
                fixed_form = false;
                prec -= 1;
            }
            dg
        }
    };
    let Digits { digits, mut decpt, neg } = digits;
    let ndig = digits.len() as i64;
    let mut fixed_form = fixed_form;
    if decpt == 9999 {
        prec = 0;
        decpt = ndig;
        fixed_form = true;
    }
    let sharp = f.flags & SHARP != 0;
    if (verb == 'g' || verb == 'G') && !sharp {
        if fixed_form {
            if prec + decpt > ndig {
                prec = (ndig - decpt).max(0);
            }
        } else if prec > ndig - 1 {
            prec = ndig - 1;
        }
    }
    let prec = prec.max(0);
    let digit = |i: i64| if (0..ndig).contains(&i) { digits[i as usize] as char } else { '0' };
    let mut s = String::new();
    if neg {
        s.push('-');
    } else if f.flags & SIGN != 0 {
        s.push('+');
    } else if f.flags & SPACE != 0 {
        s.push(' ');
    }
    if fixed_form {
        for i in 0..decpt.max(0) {
            s.push(digit(i));
        }
        if decpt <= 0 {
            s.push('0');
        }
        if prec > 0 || sharp {
            s.push('.');
        }
        for i in 0..prec {
            s.push(digit(i + decpt));
        }
    } else {
        s.push(digit(0));
        if prec > 0 || sharp {
            s.push('.');
        }
        for i in 0..prec {
            s.push(if i < ndig - 1 { digit(i + 1) } else { '0' });
        }
        s.push(echr);
        let e = if decpt <= 0 { 1 - decpt } else { decpt - 1 };
        s.push(if decpt <= 0 { '-' } else { '+' });
        s.push_str(&format!("{e:02}"));
    }
    let n = s.len() as i64;
    pad(out, Spec { flags: f.flags & (WIDTH | LEFT), ..f }, s.as_bytes(), n);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arguments in order, as a print call's frame holds them.
    struct List(Vec<Arg>);

    impl Args for List {
        fn word(&mut self) -> i64 {
            self.0.remove(0).int()
        }
        fn big(&mut self) -> i64 {
            self.0.remove(0).int()
        }
        fn real(&mut self) -> f64 {
            match self.0.remove(0) {
                Arg::Real(d) => d,
                _ => 0.0,
            }
        }
        fn string(&mut self) -> Vec<u8> {
            match self.0.remove(0) {
                Arg::Str(s) => s,
                _ => Vec::new(),
            }
        }
    }

    fn f(fmt: &str, args: Vec<Arg>) -> String {
        String::from_utf8(format(fmt.as_bytes(), &mut List(args), "the error")).expect("UTF-8")
    }

    use Arg::{Int as I, Real as R};

    fn s(v: &str) -> Arg {
        Arg::Str(v.as_bytes().to_vec())
    }

    // Expectations below are InferNode's output for the same format and
    // arguments (the fixtures format.b, intops.b, bigops.b and reals.b).
    #[test]
    fn integers() {
        assert_eq!(
            f(
                "[%d] [%5d] [%-5d] [%05d] [%+d] [%x] [%X] [%o] [%#x] [%ud]",
                vec![I(42), I(42), I(42), I(42), I(42), I(255), I(255), I(8), I(255), I(7)]
            ),
            "[42] [   42] [42   ] [00042] [+42] [ff] [FF] [10] [0xff] [7]"
        );
        assert_eq!(f("%d", vec![I(0x1_0000_0005)]), "5");
        assert_eq!(f("%d", vec![I(-1)]), "-1");
        assert_eq!(f("%x", vec![I(-1)]), "-1");
        assert_eq!(f("%ux", vec![I(-1)]), "ffffffff");
        assert_eq!(f("%bx", vec![I(-0x123456789abcdef)]), "-123456789abcdef");
        assert_eq!(
            f("[%bd] [%bx] [%20bd]", vec![I(-1234567890123), I(0xdeadbeefcafe), I(7)]),
            "[-1234567890123] [deadbeefcafe] [                   7]"
        );
        assert_eq!(f("%,d", vec![I(1234567)]), "1,234,567");
        assert_eq!(f("%*d|%-*d|", vec![I(4), I(1), I(-3), I(2)]), "   1|2  |");
        assert_eq!(f("%.3d %#o %#o", vec![I(5), I(8), I(0)]), "005 010 0");
    }

    #[test]
    fn strings_and_runes() {
        assert_eq!(
            f(
                "[%c%c%c] [%s] [%10s] [%-10s] [%.3s] [%q] [%q]",
                vec![
                    I('a' as i64),
                    I(0x263a),
                    I('z' as i64),
                    s("str"),
                    s("right"),
                    s("left"),
                    s("truncate"),
                    s("plain"),
                    s("needs quoting")
                ]
            ),
            "[a☺z] [str] [     right] [left      ] [tru] [plain] ['needs quoting']"
        );
        assert_eq!(f("%q %q", vec![s(""), s("it's")]), "'' 'it''s'");
        assert_eq!(f("%.2s|%3s", vec![s("☺☺☺"), s("é")]), "☺☺|  é");
        assert_eq!(f("[%%] [%d%%] %r", vec![I(50)]), "[%] [50%] the error");
        // Sys stops a directive only at a verb it knows; Plan 9 then finds `%i`
        // unknown. A `%` inside a directive ends it as a literal `%`.
        assert_eq!(f("%id", vec![I(3)]), "%i%d");
        assert_eq!(f("%z %d", vec![I(3)]), "%d");
        assert_eq!(f("end %", vec![]), "end ");
    }

    // InferNode's runes are 16 bits; its print writes C strings.
    #[test]
    fn runes_past_ffff_nuls_and_surrogates() {
        let b = |fmt: &[u8], args: Vec<Arg>| format(fmt, &mut List(args), "");
        // %c keeps the low 16 bits; surrogates print as their bytes; 0 as NUL.
        assert_eq!(b(b"[%c]", vec![I(0x1F600)]), "[\u{F600}]".as_bytes());
        assert_eq!(b(b"[%c]", vec![I(0x10000)]), b"[\0]");
        assert_eq!(b(b"[%c]", vec![I(-1)]), "[\u{FFFF}]".as_bytes());
        assert_eq!(b(b"[%c]", vec![I(0xD800)]), b"[\xed\xa0\x80]");
        // A string argument ends at its first NUL; the format does not.
        assert_eq!(b(b"[%s|%5s]\0.", vec![s("a\0b"), s("a\0b")]), b"[a|    a]\0.");
        // Widths count runes, surrogates among them.
        assert_eq!(
            b(b"[%3s|%.1s]\xed\xb0\x80", vec![s("\u{e9}"), Arg::Str(b"\xed\xa0\x80b".to_vec())]),
            b"[  \xc3\xa9|\xed\xa0\x80]\xed\xb0\x80"
        );
    }

    #[test]
    #[allow(clippy::approx_constant)] // the fixture's value, not π
    fn reals() {
        assert_eq!(
            f(
                "[%g] [%.3g] [%e] [%.1f] [%8.2f] [%G] [%E]",
                vec![R(1.0 / 3.0), R(1.0 / 3.0), R(12345.678), R(0.05), R(-3.14159), R(1e-9), R(1e22)]
            ),
            "[.3333333333333333] [0.333] [1.234568e+04] [0.1] [   -3.14] [1E-09] [1.000000E+22]"
        );
        for (d, want) in [
            (1e10, "1e+10"),
            (-2.5e-7, "-2.5e-07"),
            (0.1, ".1"),
            (-0.5, "-.5"),
            (1e-10, "1e-10"),
            (-4e6, "-4e+06"),
            (10000000001.0, "10000000001"),
            (123456.789, "123456.789"),
            (0.0, "0"),
            (-0.0, "-0"),
            (100.0, "100"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(real_to_string(d), want, "{d}");
            assert_eq!(f("%g", vec![R(d)]), want);
        }
        assert_eq!(f("%.0f %.2f %f", vec![R(2.5), R(0.001), R(1.0)]), "2 0.00 1.000000");
        assert_eq!(f("%10.3e|%-10g|", vec![R(-1234.5), R(0.5)]), "-1.234e+03|0.5       |");
    }
}
