//! Errors of loading, validating and assembling modules: values, never panics.

use std::fmt;

/// Why a module could not be loaded, and where in the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// Byte offset in the file, when the module came from one.
    pub offset: Option<usize>,
    pub msg: String,
}

impl LoadError {
    pub fn at(offset: usize, msg: impl Into<String>) -> Self {
        LoadError { offset: Some(offset), msg: msg.into() }
    }

    pub fn new(msg: impl Into<String>) -> Self {
        LoadError { offset: None, msg: msg.into() }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "offset {o:#x}: {}", self.msg),
            None => f.write_str(&self.msg),
        }
    }
}

/// Why a module could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode: {0}")]
pub struct EncodeError(pub String);

/// An assembler error at a line and column of the source text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {msg}")]
pub struct AsmError {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}
