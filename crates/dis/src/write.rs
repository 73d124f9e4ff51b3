//! Encoding a [`Module`] as `.dis` bytes, choosing operand widths as Limbo
//! does, so that a parsed file encodes back to the same bytes.

use crate::codec::{encode_operand, encode_word};
use crate::error::EncodeError;
use crate::image::*;

struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn op(&mut self, v: i32) -> Result<(), EncodeError> {
        encode_operand(&mut self.out, v).map_err(|v| EncodeError(format!("operand {v} out of range")))
    }

    fn cstring(&mut self, s: &str) -> Result<(), EncodeError> {
        if s.contains('\0') {
            return Err(EncodeError(format!("string {s:?} contains NUL")));
        }
        self.out.extend_from_slice(s.as_bytes());
        self.out.push(0);
        Ok(())
    }

    /// Writes the operand's value(s); the mode bits are written by the caller.
    fn operand(&mut self, o: Operand) -> Result<(), EncodeError> {
        match o {
            Operand::None => Ok(()),
            Operand::Imm(v) | Operand::Fp(v) | Operand::Mp(v) => self.op(v),
            Operand::IndFp { ptr, off } | Operand::IndMp { ptr, off } => {
                self.op(ptr)?;
                self.op(off)
            }
        }
    }
}

/// Address-mode bits of a source or destination operand.
fn mode(o: Operand) -> u8 {
    match o {
        Operand::Mp(_) => 0,
        Operand::Fp(_) => 1,
        Operand::Imm(_) => 2,
        Operand::None => 3,
        Operand::IndMp { .. } => 4,
        Operand::IndFp { .. } => 5,
    }
}

/// Encodes a module.
pub fn encode(m: &Module) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer { out: Vec::new() };
    match &m.magic {
        Magic::Plain => w.op(XMAGIC)?,
        Magic::Signed(sig) => {
            w.op(SMAGIC)?;
            w.op(sig.len() as i32)?;
            w.out.extend_from_slice(sig);
        }
    }
    for v in [
        m.flags,
        m.stack_extent,
        m.code.len() as i32,
        m.data_size,
        m.types.len() as i32,
        m.links.len() as i32,
        m.entry_pc,
        m.entry_type,
    ] {
        w.op(v)?;
    }
    for (pc, i) in m.code.iter().enumerate() {
        let midbits = match i.mid {
            Operand::None => 0x00,
            Operand::Imm(_) => 0x40,
            Operand::Fp(_) => 0x80,
            Operand::Mp(_) => 0xC0,
            _ => return Err(EncodeError(format!("instruction {pc}: indirect middle operand"))),
        };
        w.out.push(i.op as u8);
        w.out.push(midbits | mode(i.src) << 3 | mode(i.dst));
        w.operand(i.mid)?;
        w.operand(i.src)?;
        w.operand(i.dst)?;
    }
    for t in &m.types {
        w.op(t.id)?;
        w.op(t.size)?;
        w.op(t.map.len() as i32)?;
        w.out.extend_from_slice(&t.map);
    }
    for d in &m.data {
        let (code, count) = d.code_and_count();
        if count > 0 && count < 16 {
            w.out.push(code << 4 | count as u8);
        } else {
            w.out.push(code << 4);
            w.op(count)?;
        }
        w.op(d.offset())?;
        match d {
            Datum::Bytes { bytes, .. } => w.out.extend_from_slice(bytes),
            Datum::Words { words, .. } => words.iter().for_each(|&v| encode_word(&mut w.out, v as u32)),
            Datum::String { text, .. } => w.out.extend_from_slice(text),
            Datum::Reals { bits, .. } => bits.iter().for_each(|b| w.out.extend_from_slice(&b.to_be_bytes())),
            Datum::Longs { longs, .. } => {
                longs.iter().for_each(|l| w.out.extend_from_slice(&l.to_be_bytes()))
            }
            Datum::Array { elem, len, .. } => {
                encode_word(&mut w.out, *elem as u32);
                encode_word(&mut w.out, *len as u32);
            }
            Datum::Index { index, .. } => encode_word(&mut w.out, *index as u32),
            Datum::Pop { .. } => {}
        }
    }
    w.out.push(0);
    w.cstring(&m.name)?;
    for l in &m.links {
        w.op(l.pc)?;
        w.op(l.frame)?;
        encode_word(&mut w.out, l.sig);
        w.cstring(&l.name)?;
    }
    if let Some(imports) = &m.imports {
        w.op(imports.len() as i32)?;
        for list in imports {
            w.op(list.len() as i32)?;
            for i in list {
                encode_word(&mut w.out, i.sig);
                w.cstring(&i.name)?;
            }
        }
        w.out.push(0);
    }
    if let Some(handlers) = &m.handlers {
        w.op(handlers.len() as i32)?;
        for h in handlers {
            for v in [h.eoff, h.pc1, h.pc2, h.desc, h.cases.len() as i32 | h.ne << 16] {
                w.op(v)?;
            }
            for c in &h.cases {
                w.cstring(&c.name)?;
                w.op(c.pc)?;
            }
            w.op(h.wildcard)?;
        }
        w.out.push(0);
    }
    if let Some(src) = &m.source {
        w.cstring(src)?;
    }
    Ok(w.out)
}
