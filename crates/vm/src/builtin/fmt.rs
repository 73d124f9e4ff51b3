//! Limbo's print formatting (`Sys->print`, `sprint`, `fprint`, `aprint`) and
//! the string conversions of the `cvt*c` instructions.
//!
//! PROVISIONAL: a minimal engine, to be replaced by the complete one.

/// Where formatting reads its arguments from: the variadic part of a frame.
pub trait Args {
    fn word(&mut self) -> i64;
    fn big(&mut self) -> i64;
    fn real(&mut self) -> f64;
    /// A string argument (nil is "").
    fn string(&mut self) -> String;
}

/// Formats `fmt` as Limbo's `sprint` does; `errstr` is what `%r` prints.
pub fn format(fmt: &str, args: &mut dyn Args, errstr: &str) -> String {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut big = false;
        while let Some(&n) = it.peek() {
            if n == 'b' && !big {
                big = true;
                it.next();
                continue;
            }
            break;
        }
        match it.next() {
            Some('d') => {
                if big {
                    out.push_str(&args.big().to_string())
                } else {
                    out.push_str(&(args.word() as i32).to_string())
                }
            }
            Some('s') => out.push_str(&args.string()),
            Some('c') => out.push(char::from_u32(args.word() as u32).unwrap_or('\u{FFFD}')),
            Some('x') => out.push_str(&format!("{:x}", args.word() as i32)),
            Some('g') => out.push_str(&real_to_string(args.real())),
            Some('r') => out.push_str(errstr),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

/// `string r` for a real: Limbo prints it as `%g` does.
pub fn real_to_string(f: f64) -> String {
    format!("{f}")
}

/// `int s`: a decimal integer prefix, the low 32 bits kept.
pub fn parse_int(s: &str) -> i64 {
    parse_big(s) as i32 as i64
}

/// `big s`: a decimal integer prefix.
pub fn parse_big(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.wrapping_mul(10).wrapping_add((c - b'0') as i64);
    }
    if neg {
        v.wrapping_neg()
    } else {
        v
    }
}

/// `real s`: a decimal floating-point prefix.
pub fn parse_real(s: &str) -> f64 {
    s.trim().parse().unwrap_or(0.0)
}
