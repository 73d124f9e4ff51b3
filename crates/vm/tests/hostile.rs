//! Hostile modules: computed addresses are checked (DESIGN §2).

mod common;

#[test]
fn computed_addresses_are_checked() {
    common::hostile::check(|src| common::run_asm(src, &[]).1);
}
