//! Reading the assembler syntax that [`crate::disasm`] writes back into a
//! [`Module`]. One instruction or directive per line; `#` starts a comment.
//! Errors name the line and column.

use crate::error::AsmError;
use crate::image::*;
use crate::opcode::{Opcode, Slot};

/// One argument of a line, with the column it starts at.
struct Arg<'a> {
    text: &'a str,
    col: usize,
}

struct Line<'a> {
    no: usize,
    word: &'a str,
    word_col: usize,
    args: Vec<Arg<'a>>,
}

impl Line<'_> {
    fn err(&self, col: usize, msg: impl Into<String>) -> AsmError {
        AsmError { line: self.no, col, msg: msg.into() }
    }

    fn want(&self, n: usize) -> Result<(), AsmError> {
        if self.args.len() != n {
            return Err(self
                .err(self.word_col, format!("{} takes {n} arguments, got {}", self.word, self.args.len())));
        }
        Ok(())
    }

    fn int<T: std::str::FromStr>(&self, k: usize) -> Result<T, AsmError> {
        let a = &self.args[k];
        parse_int(a.text).ok_or_else(|| self.err(a.col, format!("bad number {:?}", a.text)))
    }

    fn string(&self, k: usize) -> Result<String, AsmError> {
        let a = &self.args[k];
        unquote(a.text).map_err(|m| self.err(a.col, m))
    }

    /// A quoted string's bytes (string data, which need not be UTF-8).
    fn bytes(&self, k: usize) -> Result<Vec<u8>, AsmError> {
        let a = &self.args[k];
        unquote_bytes(a.text).map_err(|m| self.err(a.col, m))
    }

    /// `@mp+N` (or `@mp`): a data offset.
    fn data_offset(&self, k: usize) -> Result<i32, AsmError> {
        let a = &self.args[k];
        let rest = a.text.strip_prefix("@mp").ok_or_else(|| self.err(a.col, "expected @mp+offset"))?;
        if rest.is_empty() {
            return Ok(0);
        }
        rest.strip_prefix('+')
            .and_then(parse_int)
            .ok_or_else(|| self.err(a.col, format!("bad data offset {:?}", a.text)))
    }

    /// `$N`: a type or immediate number.
    fn dollar(&self, k: usize) -> Result<i32, AsmError> {
        let a = &self.args[k];
        a.text
            .strip_prefix('$')
            .and_then(parse_int)
            .ok_or_else(|| self.err(a.col, format!("expected $number, got {:?}", a.text)))
    }

    /// The optional trailing count of array, index and pop items.
    fn count_at(&self, k: usize) -> Result<i32, AsmError> {
        if self.args.len() > k {
            self.int(k)
        } else {
            Ok(1)
        }
    }
}

/// Parses decimal, `0x` hex, or a leading `-`, into any integer type.
fn parse_int<T: std::str::FromStr>(s: &str) -> Option<T> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x") {
        // Hex goes through u64/i128 so that signatures like 0xffffffff fit u32.
        let v = u64::from_str_radix(h, 16).ok()?;
        return v.to_string().parse().ok();
    }
    if let Some(h) = s.strip_prefix("-0x") {
        let v = i128::from_str_radix(h, 16).ok()?;
        return (-v).to_string().parse().ok();
    }
    s.parse().ok()
}

/// A quoted string's text, which must be UTF-8 (names).
fn unquote(s: &str) -> Result<String, String> {
    String::from_utf8(unquote_bytes(s)?).map_err(|_| format!("{s}: \\x escapes make no UTF-8 text"))
}

/// A quoted string's bytes: `\x{hh}` is one byte, `\u{h…}` a character.
fn unquote_bytes(s: &str) -> Result<Vec<u8>, String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| format!("expected a quoted string, got {s}"))?;
    let mut out = Vec::with_capacity(inner.len());
    let mut it = inner.chars();
    let push = |out: &mut Vec<u8>, c: char| out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    while let Some(c) = it.next() {
        if c != '\\' {
            push(&mut out, c);
            continue;
        }
        match it.next() {
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('r') => out.push(b'\r'),
            Some('z') => out.push(0),
            Some('"') => out.push(b'"'),
            Some('\\') => out.push(b'\\'),
            Some(e @ ('u' | 'x')) => {
                let rest: String = it.by_ref().take_while(|&c| c != '}').collect();
                let bad = || format!("bad \\{e} escape");
                let hex = rest.strip_prefix('{').ok_or_else(bad)?;
                let v = u32::from_str_radix(hex, 16).map_err(|_| bad())?;
                if e == 'x' {
                    out.push(u8::try_from(v).map_err(|_| bad())?);
                } else {
                    push(&mut out, char::from_u32(v).ok_or_else(bad)?);
                }
            }
            other => return Err(format!("unknown escape \\{}", other.map_or(String::new(), String::from))),
        }
    }
    Ok(out)
}

/// Splits a line into its first word and comma-separated arguments, leaving
/// out a `#` comment. Commas inside quotes or parentheses do not split.
fn split(no: usize, line: &str) -> Result<Option<Line<'_>>, AsmError> {
    let mut end = line.len();
    let mut in_str = false;
    let mut esc = false;
    for (i, c) in line.char_indices() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
        } else if c == '#' {
            end = i;
            break;
        }
    }
    if in_str {
        return Err(AsmError { line: no, col: line.len() + 1, msg: "unterminated string".into() });
    }
    let body = &line[..end];
    let start = body.len() - body.trim_start().len();
    let body_t = body.trim();
    if body_t.is_empty() {
        return Ok(None);
    }
    let wend = body_t.find(char::is_whitespace).unwrap_or(body_t.len());
    let word = &body_t[..wend];
    let mut args = Vec::new();
    let rest_start = start + wend;
    let rest = &line[rest_start..start + body_t.len()];
    if !rest.trim().is_empty() {
        let (mut depth, mut in_str, mut esc, mut from) = (0i32, false, false, 0usize);
        let mut push = |from: usize, to: usize| {
            let raw = &rest[from..to];
            let lead = raw.len() - raw.trim_start().len();
            args.push(Arg { text: raw.trim(), col: rest_start + from + lead + 1 });
        };
        for (i, c) in rest.char_indices() {
            if in_str {
                match (esc, c) {
                    (true, _) => esc = false,
                    (false, '\\') => esc = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_str = true,
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    push(from, i);
                    from = i + 1;
                }
                _ => {}
            }
        }
        push(from, rest.len());
    }
    Ok(Some(Line { no, word, word_col: start + 1, args }))
}

fn parse_operand(l: &Line, a: &Arg) -> Result<Operand, AsmError> {
    let t = a.text;
    let bad = || l.err(a.col, format!("bad operand {t:?}"));
    if let Some(v) = t.strip_prefix('$') {
        return parse_int(v).map(Operand::Imm).ok_or_else(bad);
    }
    // n(fp), n(mp), off(ptr(fp)), off(ptr(mp))
    let open = t.find('(').ok_or_else(bad)?;
    let outer: i32 = parse_int(&t[..open]).ok_or_else(bad)?;
    let inner = t[open + 1..].strip_suffix(')').ok_or_else(bad)?;
    match inner {
        "fp" => Ok(Operand::Fp(outer)),
        "mp" => Ok(Operand::Mp(outer)),
        _ => {
            let open2 = inner.find('(').ok_or_else(bad)?;
            let ptr: i32 = parse_int(&inner[..open2]).ok_or_else(bad)?;
            match &inner[open2..] {
                "(fp)" => Ok(Operand::IndFp { ptr, off: outer }),
                "(mp)" => Ok(Operand::IndMp { ptr, off: outer }),
                _ => Err(bad()),
            }
        }
    }
}

/// Assigns the operands written on a line to source, middle and destination
/// using the opcode table: with two operands an instruction that takes no
/// source has `mid,dst`, one that takes no destination `src,mid`, any other
/// `src,dst`.
fn place(op: Opcode, ops: Vec<Operand>) -> Option<(Operand, Operand, Operand)> {
    let info = op.info();
    let has = |s: Slot| s != Slot::No;
    let n = Operand::None;
    match ops.as_slice() {
        [] => Some((n, n, n)),
        &[a] => {
            if has(info.dst) && !has(info.src) {
                Some((n, n, a))
            } else if has(info.src) && !has(info.dst) {
                Some((a, n, n))
            } else {
                None
            }
        }
        &[a, b] => {
            if !has(info.src) {
                Some((n, a, b))
            } else if !has(info.dst) {
                Some((a, b, n))
            } else {
                Some((a, n, b))
            }
        }
        &[a, b, c] => Some((a, b, c)),
        _ => None,
    }
}

/// Assembles source text into a module (not validated: see [`crate::validate`]).
pub fn assemble(text: &str) -> Result<Module, AsmError> {
    let mut m = Module {
        magic: Magic::Plain,
        flags: 0,
        stack_extent: 0,
        entry_pc: -1,
        entry_type: -1,
        code: Vec::new(),
        types: Vec::new(),
        data_size: 0,
        data: Vec::new(),
        name: String::new(),
        links: Vec::new(),
        imports: None,
        handlers: None,
        source: None,
    };
    let mut have_module = false;
    // Exception cases still to come for the handler being read.
    let mut pending_cases: Option<usize> = None;
    let mut pending_ext = 0usize;
    let mut last_no = 0;
    for (k, raw) in text.lines().enumerate() {
        last_no = k + 1;
        let Some(l) = split(k + 1, raw)? else {
            continue;
        };
        let a = &l.args;
        if pending_ext > 0 && l.word != "ext" {
            return Err(l.err(l.word_col, format!("expected {pending_ext} more ext lines")));
        }
        if pending_cases.is_some() && l.word != "exctab" {
            return Err(l.err(l.word_col, "expected exctab"));
        }
        match l.word {
            "signed" => {
                l.want(1)?;
                let h = l.string(0)?;
                let bytes = (0..h.len())
                    .step_by(2)
                    .map(|i| h.get(i..i + 2).and_then(|x| u8::from_str_radix(x, 16).ok()))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| l.err(a[0].col, "bad signature hex"))?;
                m.magic = Magic::Signed(bytes);
            }
            "flags" => {
                for arg in a {
                    let bit = flags::NAMES
                        .iter()
                        .find(|(_, n)| *n == arg.text)
                        .map(|&(b, _)| b)
                        .or_else(|| parse_int(arg.text))
                        .ok_or_else(|| l.err(arg.col, format!("unknown flag {:?}", arg.text)))?;
                    m.flags |= bit;
                }
                if m.flags & flags::HASLDT != 0 {
                    m.imports.get_or_insert_with(Vec::new);
                }
                if m.flags & flags::HASEXCEPT != 0 {
                    m.handlers.get_or_insert_with(Vec::new);
                }
            }
            "stack" => {
                l.want(1)?;
                m.stack_extent = l.int(0)?;
            }
            "entry" => {
                l.want(2)?;
                m.entry_pc = l.int(0)?;
                m.entry_type = l.int(1)?;
            }
            "desc" => {
                l.want(3)?;
                let id = l.dollar(0)?;
                let size = l.int(1)?;
                let h = l.string(2)?;
                let map = (0..h.len())
                    .step_by(2)
                    .map(|i| h.get(i..i + 2).and_then(|x| u8::from_str_radix(x, 16).ok()))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| l.err(a[2].col, "bad type map hex"))?;
                m.types.push(TypeDesc { id, size, map });
            }
            "var" => {
                l.want(2)?;
                m.data_size = l.int(1)?;
            }
            "byte" | "word" | "long" | "real" => {
                if a.len() < 2 {
                    return Err(l.err(l.word_col, format!("{} needs an offset and values", l.word)));
                }
                let offset = l.data_offset(0)?;
                let vals = 1..a.len();
                m.data.push(match l.word {
                    "byte" => {
                        Datum::Bytes { offset, bytes: vals.map(|k| l.int(k)).collect::<Result<_, _>>()? }
                    }
                    "word" => {
                        Datum::Words { offset, words: vals.map(|k| l.int(k)).collect::<Result<_, _>>()? }
                    }
                    "long" => {
                        Datum::Longs { offset, longs: vals.map(|k| l.int(k)).collect::<Result<_, _>>()? }
                    }
                    _ => {
                        let bits = vals
                            .map(|k| {
                                let t = a[k].text;
                                if let Some(h) = t.strip_prefix("0x") {
                                    u64::from_str_radix(h, 16).ok()
                                } else {
                                    t.parse::<f64>().ok().map(f64::to_bits)
                                }
                                .ok_or_else(|| l.err(a[k].col, format!("bad real {t:?}")))
                            })
                            .collect::<Result<_, _>>()?;
                        Datum::Reals { offset, bits }
                    }
                });
            }
            "string" => {
                l.want(2)?;
                m.data.push(Datum::String { offset: l.data_offset(0)?, text: l.bytes(1)? });
            }
            "array" => {
                if !(3..=4).contains(&a.len()) {
                    return Err(l.err(l.word_col, "array takes @mp+offset,$type,len"));
                }
                m.data.push(Datum::Array {
                    offset: l.data_offset(0)?,
                    elem: l.dollar(1)?,
                    len: l.int(2)?,
                    count: l.count_at(3)?,
                });
            }
            "indir" => {
                if !(2..=3).contains(&a.len()) {
                    return Err(l.err(l.word_col, "indir takes @mp+offset,index"));
                }
                m.data.push(Datum::Index {
                    offset: l.data_offset(0)?,
                    index: l.int(1)?,
                    count: l.count_at(2)?,
                });
            }
            "apop" => {
                let (offset, count) = match a.len() {
                    0 => (0, 1),
                    2 => (l.int(0)?, l.int(1)?),
                    _ => return Err(l.err(l.word_col, "apop takes no arguments or offset,count")),
                };
                m.data.push(Datum::Pop { offset, count });
            }
            "module" => {
                l.want(1)?;
                m.name = a[0].text.to_string();
                have_module = true;
            }
            "link" => {
                l.want(4)?;
                m.links.push(Link { frame: l.int(0)?, pc: l.int(1)?, sig: l.int(2)?, name: l.string(3)? });
            }
            "ldt" => {
                l.want(1)?;
                pending_ext = l.int(0)?;
                m.imports
                    .as_mut()
                    .ok_or_else(|| l.err(l.word_col, "ldt without the hasldt flag"))?
                    .push(Vec::new());
            }
            "ext" => {
                l.want(2)?;
                if pending_ext == 0 {
                    return Err(l.err(l.word_col, "ext outside an ldt"));
                }
                pending_ext -= 1;
                let list = m.imports.as_mut().and_then(|v| v.last_mut()).expect("ldt opened a list");
                list.push(Import { sig: l.int(0)?, name: l.string(1)? });
            }
            "exceptions" => {
                l.want(1)?;
                if m.handlers.is_none() {
                    return Err(l.err(l.word_col, "exceptions without the hasexcept flag"));
                }
            }
            "exception" => {
                l.want(6)?;
                let h = Handler {
                    pc1: l.int(0)?,
                    pc2: l.int(1)?,
                    eoff: l.int(2)?,
                    desc: l.int(3)?,
                    ne: l.int(5)?,
                    cases: Vec::new(),
                    wildcard: -1,
                };
                pending_cases = Some(l.int(4)?);
                m.handlers
                    .as_mut()
                    .ok_or_else(|| l.err(l.word_col, "exception without the hasexcept flag"))?
                    .push(h);
            }
            "exctab" => {
                l.want(2)?;
                let left = pending_cases.ok_or_else(|| l.err(l.word_col, "exctab outside an exception"))?;
                let h = m.handlers.as_mut().and_then(|v| v.last_mut()).expect("exception opened a handler");
                let pc = l.int(1)?;
                if a[0].text == "*" {
                    if left != 0 {
                        return Err(l.err(a[0].col, format!("{left} more named cases expected before *")));
                    }
                    h.wildcard = pc;
                    pending_cases = None;
                } else {
                    if left == 0 {
                        return Err(l.err(a[0].col, "more cases than the exception declared"));
                    }
                    h.cases.push(ExcCase { name: l.string(0)?, pc });
                    pending_cases = Some(left - 1);
                }
            }
            "source" => {
                l.want(1)?;
                m.source = Some(l.string(0)?);
            }
            name => {
                let op = Opcode::from_name(name)
                    .ok_or_else(|| l.err(l.word_col, format!("unknown instruction {name:?}")))?;
                let ops = a.iter().map(|arg| parse_operand(&l, arg)).collect::<Result<Vec<_>, _>>()?;
                let (src, mid, dst) = place(op, ops)
                    .ok_or_else(|| l.err(l.word_col, format!("wrong number of operands for {name}")))?;
                if matches!(mid, Operand::IndFp { .. } | Operand::IndMp { .. }) {
                    let col = a.get(1).map_or(l.word_col, |x| x.col);
                    return Err(l.err(col, "the middle operand cannot be indirect"));
                }
                m.code.push(Inst { op, src, mid, dst });
            }
        }
    }
    if pending_ext > 0 || pending_cases.is_some() {
        return Err(AsmError {
            line: last_no,
            col: 1,
            msg: "unexpected end of text inside ldt or exception".into(),
        });
    }
    if !have_module {
        return Err(AsmError { line: last_no, col: 1, msg: "no module directive".into() });
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opcode::OPCODES;

    #[test]
    fn every_valid_operand_combination_places_back() {
        let o = Operand::Fp(8);
        for row in OPCODES {
            let choices = |s: Slot| match s {
                Slot::No => vec![false],
                Slot::Opt(_) => vec![false, true],
                Slot::Req(_) => vec![true],
            };
            for s in choices(row.src) {
                for mm in choices(row.mid) {
                    for d in choices(row.dst) {
                        let pick = |b: bool| if b { o } else { Operand::None };
                        let want = (pick(s), pick(mm), pick(d));
                        let ops: Vec<Operand> =
                            [want.0, want.1, want.2].into_iter().filter(|x| !x.is_none()).collect();
                        assert_eq!(place(row.op, ops), Some(want), "{}", row.name);
                    }
                }
            }
        }
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = assemble("\tmodule\tM\n\tmovw\t$1,40(xp)\n").unwrap_err();
        assert_eq!((e.line, e.col), (2, 10));
        assert!(e.msg.contains("bad operand"), "{e}");
        let e = assemble("\tfrob\t1\n").unwrap_err();
        assert_eq!(e.to_string(), "1:2: unknown instruction \"frob\"");
        let e = assemble("\tmodule\tM\n\tstring\t@mp+0,\"abc\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.msg.contains("unterminated"));
    }

    #[test]
    fn strings_unescape() {
        assert_eq!(unquote(r#""a\nb\z\"\\\u{7f}""#).unwrap(), "a\nb\0\"\\\u{7f}");
        assert!(unquote(r#""\q""#).is_err());
        // String data need not be UTF-8: a surrogate's bytes, as Limbo
        // writes "\ud800", survive disassembly and assembly.
        let b = b"a\xed\xa0\x80\xff\xc3\xa9".to_vec();
        let q = crate::disasm::quote_bytes(&b);
        assert_eq!(q, r#""a\x{ed}\x{a0}\x{80}\x{ff}é""#);
        assert_eq!(unquote_bytes(&q).unwrap(), b);
        assert!(unquote(&q).is_err());
    }
}
