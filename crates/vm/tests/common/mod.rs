//! Running small programs written in Dis assembler, for VM tests.

#![allow(dead_code)]

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use vm::{Config, Outcome, Vm};

/// A `Write` whose bytes the test can read afterwards.
#[derive(Clone, Default)]
pub struct Capture(pub Rc<RefCell<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The header every test program shares: module data holds "$Sys" at 0,
/// the Sys link at 8 and format strings from 16; `init`'s frame is type 1.
/// Programs call `print` through import 0.
pub const PRELUDE: &str = "\tflags\thasldt\n\tstack\t1024\n";

/// Assembles `src`, writes it to a temporary `.dis`, runs it with `args`
/// and returns what it printed and how it ended.
pub fn run_asm(src: &str, args: &[&str]) -> (String, Outcome, Vm) {
    run_asm_with(src, args, None)
}

/// As [`run_asm`], with modules compiled by `backend` (the JIT's tests).
pub fn run_asm_with(
    src: &str,
    args: &[&str],
    backend: Option<Box<dyn vm::native::Backend>>,
) -> (String, Outcome, Vm) {
    let module = dis::asm::assemble(src).unwrap_or_else(|e| panic!("{e}\n{src}"));
    dis::validate::validate(&module, dis::WordSize::W8, None).unwrap_or_else(|e| panic!("{e}\n{src}"));
    let bytes = dis::write::encode(&module).unwrap();
    let dir = std::env::temp_dir().join(format!("dite-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{:x}.dis", fxhash(src)));
    std::fs::write(&path, bytes).unwrap();
    let out = Capture::default();
    let mut vm = Vm::with_output(Config::default(), Box::new(out.clone()));
    if let Some(b) = backend {
        vm.set_backend(b);
    }
    let path = path.to_string_lossy().into_owned();
    let mut argv = vec![path.clone()];
    argv.extend(args.iter().map(|s| s.to_string()));
    let outcome = vm.run_program(&path, &argv).unwrap();
    let text = String::from_utf8(out.0.borrow().clone()).unwrap();
    (text, outcome, vm)
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}
