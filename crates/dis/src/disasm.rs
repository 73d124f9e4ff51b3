//! Printing a module in Inferno's assembler syntax: the instructions as
//! `limbo -S` writes them (`movw $1,40(fp)`, `movp 16(24(fp)),32(fp)`) and
//! one directive per header field, type, data item, link, import and
//! handler, so that [`crate::asm::assemble`] rebuilds the same file.
//!
//! Directives: `signed "hex"`, `flags name,...`, `stack n`, `entry pc,type`,
//! `desc $id,size,"map"`, `var @mp,size`, `byte|word|long|real|string
//! @mp+off,...`, `array @mp+off,$type,len`, `indir @mp+off,index`, `apop`,
//! `module Name`, `link type,pc,0xsig,"name"`, `ldt n` followed by n
//! `ext 0xsig,"name"`, `exceptions n`, `exception pc1,pc2,eoff,type,ncases,ne`,
//! `exctab "name",pc` / `exctab *,pc`, `source "path"`.

use std::fmt::Write;

use crate::image::*;

/// Formats an operand as the assembler writes it.
pub fn operand(o: Operand) -> String {
    match o {
        Operand::None => String::new(),
        Operand::Imm(v) => format!("${v}"),
        Operand::Fp(v) => format!("{v}(fp)"),
        Operand::Mp(v) => format!("{v}(mp)"),
        Operand::IndFp { ptr, off } => format!("{off}({ptr}(fp))"),
        Operand::IndMp { ptr, off } => format!("{off}({ptr}(mp))"),
    }
}

/// Formats one instruction: `name\tsrc,mid,dst` with absent operands left out.
pub fn inst(i: &Inst) -> String {
    let ops: Vec<String> = [i.src, i.mid, i.dst].into_iter().filter(|o| !o.is_none()).map(operand).collect();
    if ops.is_empty() {
        i.op.name().to_string()
    } else {
        format!("{}\t{}", i.op.name(), ops.join(","))
    }
}

/// Quotes a string with the escapes the assembler reads.
pub fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            '\0' => q.push_str("\\z"),
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(q, "\\u{{{:x}}}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Quotes bytes as [`quote`] does, with `\x{hh}` for each byte that is not
/// part of a UTF-8 character (a surrogate's three bytes, say).
pub fn quote_bytes(b: &[u8]) -> String {
    let mut q = String::from("\"");
    for chunk in b.utf8_chunks() {
        let s = quote(chunk.valid());
        q.push_str(&s[1..s.len() - 1]);
        for &c in chunk.invalid() {
            let _ = write!(q, "\\x{{{c:x}}}");
        }
    }
    q.push('"');
    q
}

/// Formats a real so that it reads back to the same bits: the shortest
/// decimal where that round-trips, the raw bits (`0x…`) otherwise (NaNs).
pub fn real(bits: u64) -> String {
    let f = f64::from_bits(bits);
    let s = format!("{f:?}");
    match s.parse::<f64>() {
        Ok(g) if g.to_bits() == bits => s,
        _ => format!("{bits:#018x}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn join<T: ToString>(v: impl IntoIterator<Item = T>) -> String {
    v.into_iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")
}

/// Writes `count` only where it differs from the 1 that Limbo writes for
/// array, index and pop items.
fn count_suffix(count: i32) -> String {
    if count == 1 {
        String::new()
    } else {
        format!(",{count}")
    }
}

/// Disassembles a whole module.
pub fn disassemble(m: &Module) -> String {
    let mut s = String::new();
    let o = &mut s;
    if let Magic::Signed(sig) = &m.magic {
        let _ = writeln!(o, "\tsigned\t\"{}\"", hex(sig));
    }
    let mut names: Vec<&str> =
        flags::NAMES.iter().filter(|(b, _)| m.flags & b != 0).map(|&(_, n)| n).collect();
    let known = flags::NAMES.iter().fold(0, |a, (b, _)| a | b);
    let unknown = m.flags & !known;
    let unknown_s = format!("{unknown:#x}");
    if unknown != 0 {
        names.push(&unknown_s);
    }
    if !names.is_empty() {
        let _ = writeln!(o, "\tflags\t{}", names.join(","));
    }
    let _ = writeln!(o, "\tstack\t{}", m.stack_extent);
    for (pc, i) in m.code.iter().enumerate() {
        if pc % 10 == 0 {
            let _ = writeln!(o, "#{pc}");
        }
        let _ = writeln!(o, "\t{}", inst(i));
    }
    let _ = writeln!(o, "\tentry\t{}, {}", m.entry_pc, m.entry_type);
    for t in &m.types {
        let _ = writeln!(o, "\tdesc\t${},{},\"{}\"", t.id, t.size, hex(&t.map));
    }
    let _ = writeln!(o, "\tvar\t@mp,{}", m.data_size);
    for d in &m.data {
        let _ = match d {
            Datum::Bytes { offset, bytes } => writeln!(o, "\tbyte\t@mp+{offset},{}", join(bytes)),
            Datum::Words { offset, words } => writeln!(o, "\tword\t@mp+{offset},{}", join(words)),
            Datum::Longs { offset, longs } => writeln!(o, "\tlong\t@mp+{offset},{}", join(longs)),
            Datum::Reals { offset, bits } => {
                writeln!(o, "\treal\t@mp+{offset},{}", join(bits.iter().map(|&b| real(b))))
            }
            Datum::String { offset, text } => writeln!(o, "\tstring\t@mp+{offset},{}", quote_bytes(text)),
            Datum::Array { offset, elem, len, count } => {
                writeln!(o, "\tarray\t@mp+{offset},${elem},{len}{}", count_suffix(*count))
            }
            Datum::Index { offset, index, count } => {
                writeln!(o, "\tindir\t@mp+{offset},{index}{}", count_suffix(*count))
            }
            Datum::Pop { offset: 0, count: 1 } => writeln!(o, "\tapop"),
            Datum::Pop { offset, count } => writeln!(o, "\tapop\t{offset},{count}"),
        };
    }
    let _ = writeln!(o, "\tmodule\t{}", m.name);
    for l in &m.links {
        let _ = writeln!(o, "\tlink\t{},{},{:#x},{}", l.frame, l.pc, l.sig, quote(&l.name));
    }
    for list in m.imports.iter().flatten() {
        let _ = writeln!(o, "\tldt\t{}", list.len());
        for i in list {
            let _ = writeln!(o, "\text\t{:#x},{}", i.sig, quote(&i.name));
        }
    }
    if let Some(hs) = &m.handlers {
        let _ = writeln!(o, "\texceptions\t{}", hs.len());
        for h in hs {
            let _ = writeln!(
                o,
                "\texception\t{}, {}, {}, {}, {}, {}",
                h.pc1,
                h.pc2,
                h.eoff,
                h.desc,
                h.cases.len(),
                h.ne
            );
            for c in &h.cases {
                let _ = writeln!(o, "\texctab\t{}, {}", quote(&c.name), c.pc);
            }
            let _ = writeln!(o, "\texctab\t*, {}", h.wildcard);
        }
    }
    if let Some(src) = &m.source {
        let _ = writeln!(o, "\tsource\t{}", quote(src));
    }
    s
}
