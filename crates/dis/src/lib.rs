//! The Dis module format: everything that reads or writes a `.dis` file.
//!
//! [`load`] parses and validates a module, [`write::encode`] turns it back into
//! bytes (byte-identical for files Limbo wrote), [`disasm::disassemble`] prints
//! it in Inferno's assembler syntax and [`asm::assemble`] reads that back.
//! The [`opcode`] table drives all of them. This crate touches no runtime
//! memory and has no `unsafe`.
#![forbid(unsafe_code)]

pub mod asm;
pub mod codec;
pub mod disasm;
pub mod error;
pub mod image;
pub mod opcode;
pub mod read;
pub mod validate;
pub mod write;

pub use error::{AsmError, EncodeError, LoadError};
pub use image::*;
pub use opcode::{Kind, OpInfo, Opcode, Slot, Ty, OPCODES};
pub use validate::{Analysis, Function};

/// A module that parsed and validated, with what validation learnt about it.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub module: Module,
    pub analysis: Analysis,
}

/// Parses and validates a `.dis` file for a machine with the given word size.
pub fn load(bytes: &[u8], word: WordSize) -> Result<Loaded, LoadError> {
    let (module, spans) = read::parse(bytes)?;
    let analysis = validate::validate(&module, word, Some(&spans))?;
    Ok(Loaded { module, analysis })
}
