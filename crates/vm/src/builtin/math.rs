//! `$Math`.
//!
//! PROVISIONAL: a few functions, to be completed.

use super::{Call, Flow, Func, Module};
use crate::Trap;

fn real1(c: &mut Call, f: fn(f64) -> f64) -> Result<Flow, Trap> {
    let x = c.real();
    c.ret_real(f(x));
    Ok(Flow::Next)
}

pub static MODULE: Module = Module { name: "$Math", funcs: &FUNCS };

static FUNCS: [Func; 3] = [
    Func::new("sqrt", 0xa1d1fe48, "f", |c| real1(c, f64::sqrt)),
    Func::new("sin", 0xa1d1fe48, "f", |c| real1(c, f64::sin)),
    Func::new("cos", 0xa1d1fe48, "f", |c| real1(c, f64::cos)),
];
