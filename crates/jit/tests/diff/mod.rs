//! The differential test's program generator (see `diff.rs`).

pub mod gen;
pub mod ir;
pub mod layout;

// Known bugs kept out of the test until they are fixed (each is reported
// with a reproducer): programs are changed so that they cannot show them.

/// Off: the setup function writes its caller's frame through the frame's
/// own address (which a callee has in its caller-frame register), which the
/// JIT must see after the call (it reloads its register-held slots). On, it
/// would be given a `lea`'d address instead, as Limbo's return values are.
pub const SKIP_CALLEE_WRITES_CALLER_FRAME: bool = false;
