//! Parsing a `.dis` file into a [`Module`]. This checks the structure (every
//! count, length and terminator); [`crate::validate`] checks the meaning.

use crate::codec::decode_operand;
use crate::error::LoadError;
use crate::image::*;
use crate::opcode::Opcode;

/// Where parts of the module start in the file, so that validation errors
/// can name a file offset.
#[derive(Clone, Debug, Default)]
pub struct Spans {
    pub insts: Vec<usize>,
    pub types: Vec<usize>,
    pub data: Vec<usize>,
    pub links: Vec<usize>,
    pub handlers: Vec<usize>,
    pub header: usize,
}

/// Largest counts a header may claim; anything bigger is not a real module.
const MAX_INSTS: i32 = 1 << 20;
const MAX_TYPES: i32 = 1 << 20;
const MAX_LINKS: i32 = 1 << 20;
const MAX_DATA: i32 = 128 << 20;
const MAX_TYPE_SIZE: i32 = 128 << 20;
const MAX_MAP: i32 = 128 << 10;

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, msg: impl Into<String>) -> LoadError {
        LoadError::at(self.pos, msg)
    }

    fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }

    fn operand(&mut self, what: &str) -> Result<i32, LoadError> {
        match decode_operand(&self.b[self.pos..]) {
            Some((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            None => Err(self.err(format!("truncated Dis file: reading {what}"))),
        }
    }

    /// An operand that must lie in `lo..=hi`.
    fn bounded(&mut self, what: &str, lo: i32, hi: i32) -> Result<i32, LoadError> {
        let at = self.pos;
        let v = self.operand(what)?;
        if v < lo || v > hi {
            return Err(LoadError::at(at, format!("implausible {what} {v}")));
        }
        Ok(v)
    }

    fn byte(&mut self, what: &str) -> Result<u8, LoadError> {
        let b =
            *self.b.get(self.pos).ok_or_else(|| self.err(format!("truncated Dis file: reading {what}")))?;
        self.pos += 1;
        Ok(b)
    }

    fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], LoadError> {
        if n > self.remaining() {
            return Err(
                self.err(format!("truncated Dis file: {what} needs {n} bytes, {} left", self.remaining()))
            );
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn word(&mut self, what: &str) -> Result<u32, LoadError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A NUL-terminated UTF-8 string.
    fn cstring(&mut self, what: &str) -> Result<String, LoadError> {
        let at = self.pos;
        let rest = &self.b[self.pos..];
        let len = rest
            .iter()
            .position(|&c| c == 0)
            .ok_or_else(|| LoadError::at(at, format!("unterminated {what}")))?;
        let s = std::str::from_utf8(&rest[..len])
            .map_err(|_| LoadError::at(at, format!("{what} is not UTF-8")))?;
        self.pos += len + 1;
        Ok(s.to_owned())
    }

    fn operand_of_mode(&mut self, mode: u8, what: &str) -> Result<Operand, LoadError> {
        Ok(match mode {
            0 => Operand::Mp(self.operand(what)?),
            1 => Operand::Fp(self.operand(what)?),
            2 => Operand::Imm(self.operand(what)?),
            3 => Operand::None,
            4 | 5 => {
                let ptr = self.operand(what)?;
                let off = self.operand(what)?;
                if mode == 4 {
                    Operand::IndMp { ptr, off }
                } else {
                    Operand::IndFp { ptr, off }
                }
            }
            _ => return Err(self.err(format!("bad {what} addressing mode {mode}"))),
        })
    }
}

/// Parses the structure of a module. The word size decides nothing here; it
/// is a parameter of validation and layout.
pub fn parse(b: &[u8]) -> Result<(Module, Spans), LoadError> {
    let mut r = Reader { b, pos: 0 };
    let mut spans = Spans::default();
    let magic = match r.operand("magic")? {
        XMAGIC => Magic::Plain,
        SMAGIC => {
            let n = r.bounded("signature length", 0, i32::MAX)?;
            Magic::Signed(r.bytes(n as usize, "signature")?.to_vec())
        }
        m => return Err(LoadError::at(0, format!("bad magic {m}: not a Dis module"))),
    };
    spans.header = r.pos;
    let flags = r.operand("runtime flags")?;
    let stack_extent = r.operand("stack extent")?;
    let ninst = r.bounded("instruction count", 0, MAX_INSTS)?;
    let data_size = r.bounded("data size", 0, MAX_DATA)?;
    let ntype = r.bounded("type count", 0, MAX_TYPES)?;
    let nlink = r.bounded("link count", 0, MAX_LINKS)?;
    let entry_pc = r.operand("entry pc")?;
    let entry_type = r.operand("entry type")?;

    // Counts are checked against what is left of the file before anything
    // is allocated for them: an instruction takes at least 2 bytes, a type
    // or a link at least 3.
    if ninst as usize > r.remaining() / 2 || (ntype as usize + nlink as usize) > r.remaining() / 3 {
        return Err(r.err(format!(
            "truncated Dis file: header claims {ninst} instructions, {ntype} types and {nlink} links in {} bytes",
            r.remaining()
        )));
    }

    let mut code = Vec::with_capacity(ninst as usize);
    for _ in 0..ninst {
        spans.insts.push(r.pos);
        let at = r.pos;
        let opb = r.byte("opcode")?;
        let op = Opcode::from_u8(opb).ok_or_else(|| LoadError::at(at, format!("unknown opcode {opb}")))?;
        let mode = r.byte("addressing mode")?;
        let mid = match mode & 0xC0 {
            0x00 => Operand::None,
            0x40 => Operand::Imm(r.operand("middle operand")?),
            0x80 => Operand::Fp(r.operand("middle operand")?),
            _ => Operand::Mp(r.operand("middle operand")?),
        };
        let src = r.operand_of_mode((mode >> 3) & 7, "source operand")?;
        let dst = r.operand_of_mode(mode & 7, "destination operand")?;
        code.push(Inst { op, src, mid, dst });
    }

    let mut types = Vec::with_capacity(ntype as usize);
    for _ in 0..ntype {
        spans.types.push(r.pos);
        let id = r.bounded("type id", 0, ntype - 1)?;
        let size = r.bounded("type size", 0, MAX_TYPE_SIZE)?;
        let np = r.bounded("type map length", 0, MAX_MAP)?;
        let map = r.bytes(np as usize, "type map")?.to_vec();
        types.push(TypeDesc { id, size, map });
    }

    let mut data = Vec::new();
    loop {
        let at = r.pos;
        let sm = r.byte("data item")?;
        if sm == 0 {
            break;
        }
        spans.data.push(at);
        let mut n = (sm & 0x0F) as i32;
        if n == 0 {
            n = r.bounded("data item count", 0, MAX_DATA)?;
        }
        let offset = r.bounded("data item offset", 0, MAX_DATA)?;
        let count = n as usize;
        let item = match sm >> 4 {
            item::DEFB => Datum::Bytes { offset, bytes: r.bytes(count, "byte data")?.to_vec() },
            item::DEFW => {
                let raw = r.bytes(count.saturating_mul(4), "word data")?;
                let words = raw.chunks(4).map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect();
                Datum::Words { offset, words }
            }
            item::DEFS => {
                let text = r.bytes(count, "string data")?.to_vec();
                Datum::String { offset, text }
            }
            item::DEFF | item::DEFL => {
                let raw = r.bytes(count.saturating_mul(8), "8-byte data")?;
                let vals: Vec<u64> = raw
                    .chunks(8)
                    .map(|c| u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect();
                if sm >> 4 == item::DEFF {
                    Datum::Reals { offset, bits: vals }
                } else {
                    Datum::Longs { offset, longs: vals.into_iter().map(|v| v as i64).collect() }
                }
            }
            item::DEFA => {
                let elem = r.word("array type")? as i32;
                let len = r.word("array length")? as i32;
                Datum::Array { offset, elem, len, count: n }
            }
            item::DIND => Datum::Index { offset, index: r.word("array index")? as i32, count: n },
            item::DAPOP => Datum::Pop { offset, count: n },
            k => return Err(LoadError::at(at, format!("bad data item kind {k}"))),
        };
        data.push(item);
    }

    let name = r.cstring("module name")?;

    let mut links = Vec::with_capacity(nlink as usize);
    for _ in 0..nlink {
        spans.links.push(r.pos);
        let pc = r.operand("link pc")?;
        let frame = r.operand("link frame type")?;
        let sig = r.word("link signature")?;
        let name = r.cstring("link name")?;
        links.push(Link { pc, frame, sig, name });
    }

    if flags & flags::HASLDT0 != 0 {
        return Err(r.err("obsolete dis: HASLDT0 import table"));
    }

    let imports = if flags & flags::HASLDT != 0 {
        let nl = r.bounded("import module count", 0, r.remaining() as i32)?;
        let mut all = Vec::new();
        for _ in 0..nl {
            let n = r.bounded("import count", 0, r.remaining() as i32)?;
            let mut list = Vec::new();
            for _ in 0..n {
                let sig = r.word("import signature")?;
                let name = r.cstring("import name")?;
                list.push(Import { sig, name });
            }
            all.push(list);
        }
        if r.byte("import table end")? != 0 {
            return Err(LoadError::at(r.pos - 1, "import table not terminated"));
        }
        Some(all)
    } else {
        None
    };

    let handlers = if flags & flags::HASEXCEPT != 0 {
        let nh = r.bounded("handler count", 0, r.remaining() as i32)?;
        let mut hs = Vec::new();
        for _ in 0..nh {
            spans.handlers.push(r.pos);
            let eoff = r.operand("handler exception offset")?;
            let pc1 = r.operand("handler start")?;
            let pc2 = r.operand("handler end")?;
            let desc = r.operand("handler type")?;
            let nn = r.bounded("handler case count", 0, i32::MAX)?;
            let mut cases = Vec::new();
            for _ in 0..(nn & 0xFFFF) {
                let name = r.cstring("exception name")?;
                let pc = r.operand("exception handler pc")?;
                cases.push(ExcCase { name, pc });
            }
            let wildcard = r.operand("wildcard handler pc")?;
            hs.push(Handler { eoff, pc1, pc2, desc, ne: nn >> 16, cases, wildcard });
        }
        if r.byte("exception table end")? != 0 {
            return Err(LoadError::at(r.pos - 1, "exception table not terminated"));
        }
        Some(hs)
    } else {
        None
    };

    let source = if r.remaining() > 0 { Some(r.cstring("source path")?) } else { None };
    if r.remaining() > 0 {
        return Err(r.err(format!("{} bytes of trailing garbage", r.remaining())));
    }

    let module = Module {
        magic,
        flags,
        stack_extent,
        entry_pc,
        entry_type,
        code,
        types,
        data_size,
        data,
        name,
        links,
        imports,
        handlers,
        source,
    };
    Ok((module, spans))
}
