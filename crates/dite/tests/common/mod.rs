//! Running the `dite` binary from tests, also when the tests themselves run
//! under an emulator (`cargo test --target aarch64-…` with qemu-user as the
//! target's runner): then the binary needs the same runner.

use std::process::Command;

/// The target's runner variable, as Cargo names it.
const RUNNER_VAR: &str = if cfg!(target_arch = "aarch64") {
    "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER"
} else {
    "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER"
};

/// A command that runs the `dite` binary built for this test.
pub fn dite() -> Command {
    let exe = env!("CARGO_BIN_EXE_dite");
    match std::env::var(RUNNER_VAR).ok().filter(|r| !r.trim().is_empty()) {
        Some(runner) => {
            let mut words = runner.split_whitespace();
            let mut c = Command::new(words.next().expect("runner"));
            c.args(words).arg(exe);
            c
        }
        None => Command::new(exe),
    }
}
