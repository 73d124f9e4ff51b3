//! The Dis runtime (see the crate description).
