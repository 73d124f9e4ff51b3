//! Hostile modules: compiled code checks computed addresses as the
//! interpreter does (DESIGN §2).

#[path = "../../vm/tests/common/mod.rs"]
mod common;

#[test]
fn computed_addresses_are_checked_in_compiled_code() {
    common::hostile::check(|src| common::run_asm_with(src, &[], Some(jit::backend().expect("a JIT"))).1);
}
