//! dite's JIT: Dis functions compiled to native code with Cranelift, for
//! x86-64 and AArch64 from one translator.
//!
//! A module is compiled when it loads, every function the loader found
//! (see `dis::Analysis`), into one executable mapping. Compiled functions
//! are resumable (see `vm::native`): the VM's dispatcher enters them at any
//! instruction and they leave for module calls, blocking, preemption and
//! exceptions, so Dis recursion depth, fairness and exception handling are
//! the interpreter's. Calls within the module are native calls through a
//! table of the module's functions, to a bounded depth. Generated code keeps no VM state in registers across
//! runtime calls: Cranelift follows the platform ABI and the frame in
//! memory is the truth.

mod code;
mod glue;
mod slots;
mod translate;

use std::time::Instant;

use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use dis::flags;
use vm::module::Module;
use vm::native::{Backend, Code, Ctx};

use code::CodeMemory;

/// The Cranelift backend for the host machine.
pub struct Jit {
    isa: OwnedTargetIsa,
}

impl Jit {
    /// A JIT for the machine dite runs on.
    pub fn host() -> Result<Jit, String> {
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").map_err(|e| e.to_string())?;
        // Cranelift's IR verifier is a check on our translator: on in debug
        // builds (every test), off in release, where it costs compile time.
        let verify = if cfg!(debug_assertions) { "true" } else { "false" };
        flags.set("enable_verifier", verify).map_err(|e| e.to_string())?;
        let builder = cranelift_native::builder().map_err(|e| e.to_string())?;
        let isa = builder.finish(settings::Flags::new(flags)).map_err(|e| e.to_string())?;
        Ok(Jit { isa })
    }

    fn isa(&self) -> &dyn TargetIsa {
        &*self.isa
    }
}

impl Backend for Jit {
    fn compile(&self, m: &Module, verbose: bool) -> Option<Box<dyn Code>> {
        if m.image.flags & flags::DONTCOMPILE != 0 {
            if verbose {
                eprintln!("dite: jit: {}: not compiled (dontcompile)", m.name);
            }
            return None;
        }
        let start = Instant::now();
        // Every function gets a slot in the table compiled calls go
        // through, holding the interpreter's stub until its code is mapped.
        let funcs: Vec<&dis::Function> = m.analysis.functions.values().collect();
        let mut table = vec![glue::interpreted as glue::Entry; funcs.len()].into_boxed_slice();
        let callees: translate::Callees = funcs
            .iter()
            .enumerate()
            .map(|(k, f)| (f.entry, (&table[k] as *const glue::Entry as i64, 0)))
            .collect();
        let mut ws = translate::Workspace::default();
        let mut text: Vec<u8> = Vec::new();
        let mut placed: Vec<(usize, usize)> = Vec::new(); // (function, offset)
        let mut resume = vec![NONE; m.code.len()];
        let (mut insts, mut fell_back) = (0, Vec::new());
        for (k, f) in funcs.iter().enumerate() {
            if !f.complete {
                fell_back.push((f.entry, "jump table in module data hides its successors".to_string()));
                continue;
            }
            match translate::compile(self.isa(), &mut ws, m, f.entry, &f.body, &callees) {
                Ok(c) => {
                    let off = text.len().next_multiple_of(16);
                    text.resize(off, 0);
                    text.extend_from_slice(&c.code);
                    for (idx, &pc) in c.resume.iter().enumerate() {
                        // A pc in several bodies (shared code) resumes in the
                        // function that starts there, else the first found.
                        if resume[pc] == NONE || pc == f.entry {
                            resume[pc] = (k as u32, idx as u32);
                        }
                    }
                    placed.push((k, off));
                    insts += f.body.len();
                }
                Err(e) => fell_back.push((f.entry, e)),
            }
        }
        let compiled = placed.len();
        if compiled == 0 {
            return None;
        }
        let mem = match CodeMemory::new(&text) {
            Ok(mem) => mem,
            Err(e) => {
                eprintln!("dite: jit: {}: cannot map code: {e}", m.name);
                return None;
            }
        };
        for &(k, off) in &placed {
            // SAFETY: `off` starts a function of signature `Entry` in `mem`, owned by `Compiled`.
            table[k] = unsafe { std::mem::transmute::<*const u8, glue::Entry>(mem.addr(off)) };
        }
        if verbose {
            let us = start.elapsed().as_micros();
            eprintln!(
                "dite: jit: {}: compiled {compiled} functions, {insts} instructions, {} bytes \
                 in {us} µs ({:.2} µs per instruction)",
                m.name,
                text.len(),
                us as f64 / insts.max(1) as f64
            );
            for (pc, why) in &fell_back {
                eprintln!("dite: jit: {}: function at pc {pc} interpreted: {why}", m.name);
            }
        }
        Some(Box::new(Compiled { _mem: mem, table, resume }))
    }
}

const NONE: (u32, u32) = (u32::MAX, 0);

/// A module's compiled functions.
struct Compiled {
    /// Owns the code the entries point into.
    _mem: CodeMemory,
    /// The native entry of every function (see `Jit::compile`); compiled
    /// calls read it in place, so it never moves.
    table: Box<[glue::Entry]>,
    /// For each pc where compiled code can be entered: the function and
    /// the index of the pc among its resume points.
    resume: Vec<(u32, u32)>,
}

impl Code for Compiled {
    fn enters(&self, pc: usize) -> bool {
        self.resume.get(pc).is_some_and(|r| r.0 != NONE.0)
    }

    fn run(&self, ctx: &mut Ctx, pc: usize) -> u32 {
        let (f, idx) = self.resume[pc];
        // SAFETY: entries live in `self`'s mapping; `idx` indexes function `f`'s body.
        unsafe { glue::enter(self.table[f as usize], ctx, idx) }
    }
}

/// The JIT as the VM's backend.
pub fn backend() -> Result<Box<dyn Backend>, String> {
    Ok(Box::new(Jit::host()?))
}
