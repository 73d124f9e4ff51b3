//! The differential test's program generator (see `diff.rs`).

pub mod gen;
pub mod ir;
pub mod layout;
