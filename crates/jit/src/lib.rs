//! dite's JIT: Dis functions compiled to native code with Cranelift, for
//! x86-64 and AArch64 from one translator.
//!
//! A module's functions (those the loader found, see `dis::Analysis`) are
//! compiled each when it is hot or when it first runs (see [`When`]), into a
//! mapping of its own. Compiled functions are resumable (see `vm::native`):
//! the VM's dispatcher enters them at any instruction (the interpreter runs
//! the rest) and they leave for module calls, blocking, preemption and
//! exceptions, so Dis recursion depth, fairness and exception handling are
//! the interpreter's. Calls within the module are native calls through a
//! table of the module's functions, within a bounded native stack.
//! Generated code keeps no VM state in registers across runtime calls:
//! Cranelift follows the platform ABI and the frame in memory is the truth.

mod code;
mod glue;
mod slots;
mod translate;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use dis::flags;
use vm::module::Module;
use vm::native::{Backend, Code, Ctx};

use code::CodeMemory;

/// When a function is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Once it is hot: entered [`HOT_CALLS`] times, or its loops have run
    /// [`HOT_LOOPS`] times in the interpreter. Code that runs once (a
    /// program's set-up) costs no compile time: compiling an instruction
    /// takes as long as interpreting it some thousands of times.
    Hot,
    /// When it first runs: every function a program runs is compiled.
    FirstRun,
}

/// Entries of a function that make it hot.
pub const HOT_CALLS: u32 = 8;
/// Iterations of a function's loops in the interpreter that make it hot.
pub const HOT_LOOPS: u32 = 64;

/// The Cranelift backend for the host machine.
pub struct Jit {
    isa: OwnedTargetIsa,
    when: When,
}

impl Jit {
    /// A JIT for the machine dite runs on, compiling every function when it
    /// first runs.
    pub fn host() -> Result<Jit, String> {
        Jit::host_compiling(When::FirstRun)
    }

    /// A JIT for the machine dite runs on, compiling functions `when`.
    pub fn host_compiling(when: When) -> Result<Jit, String> {
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").map_err(|e| e.to_string())?;
        // Cranelift's IR verifier is a check on our translator: on in debug
        // builds (every test), off in release, where it costs compile time.
        let verify = if cfg!(debug_assertions) { "true" } else { "false" };
        flags.set("enable_verifier", verify).map_err(|e| e.to_string())?;
        let builder = cranelift_native::builder().map_err(|e| e.to_string())?;
        let isa = builder.finish(settings::Flags::new(flags)).map_err(|e| e.to_string())?;
        Ok(Jit { isa, when })
    }
}

/// What compiling a module's functions made, and what it took.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Functions compiled.
    pub functions: usize,
    /// Their Dis instructions.
    pub insts: usize,
    /// The Cranelift IR instructions they became: what compile time
    /// grows with.
    pub ir_insts: usize,
    /// Bytes of machine code.
    pub code_bytes: usize,
    pub time: Duration,
}

impl Jit {
    /// Compiles every function of `m` now, as a run would when each first
    /// runs, and drops the code; for measuring compile cost.
    pub fn compile_all(&self, m: &Module) -> Stats {
        let code = Compiled::new(self.isa.clone(), m, When::FirstRun, false);
        for k in 0..code.entries.len() {
            code.compile_function(m, k);
        }
        let stats = code.state.borrow().stats;
        stats
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
        Some(Box::new(Compiled::new(self.isa.clone(), m, self.when, verbose)))
    }
}

const NONE: (u32, u32) = (u32::MAX, 0);

/// A module's compiled code. Functions compile when they are hot or first
/// run (see [`Code::enters`], [`When`]): a program pays only for the code it
/// uses.
struct Compiled {
    isa: OwnedTargetIsa,
    verbose: bool,
    module: String,
    /// The entry pc of every function the loader found, by index.
    entries: Vec<usize>,
    /// The native entry of every function, by index: the interpreter's stub
    /// until the function is compiled. Compiled calls read it in place, so
    /// it never moves.
    table: Box<[Cell<glue::Entry>]>,
    /// Where in `table` compiled calls find the function starting at a pc,
    /// and what else translation needs of the whole module.
    facts: translate::ModuleFacts,
    /// Where the interpreter stops in mixed mode ([`Code::stops`]).
    stops: Box<[Cell<bool>]>,
    /// For each function, how far it is from hot: entries count
    /// [`HOT_LOOPS`] / [`HOT_CALLS`], loop iterations one.
    cold: Box<[Cell<u32>]>,
    /// The loops' first instructions (backward branches' targets), with
    /// their function's index.
    loops: HashMap<usize, usize>,
    state: RefCell<State>,
}

/// What compiling so far has made.
struct State {
    /// The frontend's and Cranelift's working memory, kept from one
    /// function to the next.
    fctx: FunctionBuilderContext,
    ctx: Context,
    /// Owns the code the entries point into, a mapping a function.
    memory: Vec<CodeMemory>,
    /// For each pc where compiled code can be entered: the function and
    /// the index of the pc among its resume points.
    resume: Vec<(u32, u32)>,
    /// Functions already compiled or found uncompilable.
    tried: Vec<bool>,
    stats: Stats,
}

impl Compiled {
    fn new(isa: OwnedTargetIsa, m: &Module, when: When, verbose: bool) -> Compiled {
        let entries: Vec<usize> = m.analysis.functions.keys().copied().collect();
        let table: Box<[Cell<glue::Entry>]> =
            entries.iter().map(|_| Cell::new(glue::interpreted as glue::Entry)).collect();
        let facts = translate::ModuleFacts {
            index: entries.iter().enumerate().map(|(k, &pc)| (pc, k)).collect(),
            table: table.as_ptr() as i64,
            constants: slots::Constants::of(m),
        };
        let state = State {
            fctx: FunctionBuilderContext::new(),
            ctx: Context::new(),
            memory: Vec::new(),
            resume: vec![NONE; m.code.len()],
            tried: vec![false; entries.len()],
            stats: Stats::default(),
        };
        let loops: HashMap<usize, usize> = match when {
            When::FirstRun => HashMap::new(),
            When::Hot => entries
                .iter()
                .enumerate()
                .flat_map(|(k, pc)| slots::loop_heads(m, &m.analysis.functions[pc].body).map(move |h| (h, k)))
                .collect(),
        };
        let heat = match when {
            When::FirstRun => 0,
            When::Hot => HOT_LOOPS,
        };
        let cold = entries.iter().map(|_| Cell::new(heat)).collect();
        // The interpreter stops where a function may be compiled (entries,
        // loops) and at the resume points of those compiled.
        let stops: Box<[Cell<bool>]> = (0..=m.code.len()).map(|_| Cell::new(false)).collect();
        for &pc in entries.iter().chain(loops.keys()) {
            stops[pc].set(true);
        }
        Compiled {
            isa,
            verbose,
            module: m.name.clone(),
            entries,
            table,
            facts,
            stops,
            cold,
            loops,
            state: RefCell::new(state),
        }
    }

    /// Compiles function `k` of `m`, unless that was tried before.
    fn compile_function(&self, m: &Module, k: usize) {
        if self.state.borrow().tried[k] {
            return;
        }
        self.try_compile(m, k);
        // The interpreter need stop at the entry and loops only if they
        // are compiled.
        let st = self.state.borrow();
        let heads = self.loops.iter().filter(|&(_, &f)| f == k).map(|(&pc, _)| pc);
        for pc in heads.chain([self.entries[k]]) {
            self.stops[pc].set(st.resume[pc] != NONE);
        }
    }

    /// Notes that function `k` ran `heat` more; whether it is now hot.
    fn warms(&self, k: usize, heat: u32) -> bool {
        let left = self.cold[k].get().saturating_sub(heat);
        self.cold[k].set(left);
        left == 0
    }

    fn try_compile(&self, m: &Module, k: usize) {
        let mut st = self.state.borrow_mut();
        st.tried[k] = true;
        let f = &m.analysis.functions[&self.entries[k]];
        let start = Instant::now();
        let st = &mut *st;
        let t = translate::translate(&*self.isa, &mut st.fctx, m, f.entry, &f.body, &self.facts);
        let code = match translate::codegen(&*self.isa, &mut st.ctx, t.func) {
            Ok(code) => code,
            Err(e) => return self.report_fallback(f.entry, &e),
        };
        let mem = match CodeMemory::new(&code) {
            Ok(mem) => mem,
            Err(e) => return self.report_fallback(f.entry, &format!("cannot map code: {e}")),
        };
        // `self` owns the mapping for as long as the table is used.
        // SAFETY: the mapping starts with a function of signature `Entry`.
        self.table[k].set(unsafe { std::mem::transmute::<*const u8, glue::Entry>(mem.addr(0)) });
        st.memory.push(mem);
        for (idx, &pc) in t.resume.iter().enumerate() {
            self.stops[pc].set(true);
            // A pc in several bodies (shared code) resumes in the function
            // that starts there, else in the first compiled.
            if st.resume[pc] == NONE || pc == f.entry {
                st.resume[pc] = (k as u32, idx as u32);
            }
        }
        let took = start.elapsed();
        st.stats.functions += 1;
        st.stats.insts += f.body.len();
        st.stats.ir_insts += t.ir_insts;
        st.stats.code_bytes += code.len();
        st.stats.time += took;
        if self.verbose {
            eprintln!(
                "dite: jit: {}: compiled the function at pc {}: {} instructions ({} in IR), {} bytes in {} µs",
                self.module,
                f.entry,
                f.body.len(),
                t.ir_insts,
                code.len(),
                took.as_micros()
            );
        }
    }

    fn report_fallback(&self, entry: usize, why: &str) {
        if self.verbose {
            eprintln!("dite: jit: {}: function at pc {entry} interpreted: {why}", self.module);
        }
    }
}

impl Code for Compiled {
    fn enters(&self, m: &Module, pc: usize) -> bool {
        if self.state.borrow().resume.get(pc).is_some_and(|r| r.0 != NONE.0) {
            return true;
        }
        let hot = match (self.facts.index.get(&pc), self.loops.get(&pc)) {
            (Some(&k), _) => self.warms(k, HOT_LOOPS / HOT_CALLS).then_some(k),
            (None, Some(&k)) => self.warms(k, 1).then_some(k),
            (None, None) => None,
        };
        let Some(k) = hot else { return false };
        self.compile_function(m, k);
        self.state.borrow().resume[pc].0 != NONE.0
    }

    fn stops(&self) -> &[Cell<bool>] {
        &self.stops
    }

    fn run(&self, ctx: &mut Ctx, pc: usize) -> u32 {
        let (f, idx) = self.state.borrow().resume[pc];
        // SAFETY: entries live in mappings `self` owns; `idx` indexes
        // function `f`'s resume points.
        unsafe { glue::enter(self.table[f as usize].get(), ctx, idx) }
    }
}

impl Drop for Compiled {
    fn drop(&mut self) {
        let st = self.state.borrow().stats;
        if self.verbose {
            let us = st.time.as_micros();
            eprintln!(
                "dite: jit: {}: {} of {} functions compiled, {} instructions ({} in IR) in {us} µs ({:.2} µs per instruction)",
                self.module,
                st.functions,
                self.entries.len(),
                st.insts,
                st.ir_insts,
                us as f64 / st.insts.max(1) as f64
            );
        }
    }
}

/// The JIT as the VM's backend, compiling every function when it first
/// runs.
pub fn backend() -> Result<Box<dyn Backend>, String> {
    backend_compiling(When::FirstRun)
}

/// The JIT as the VM's backend, compiling functions `when`.
pub fn backend_compiling(when: When) -> Result<Box<dyn Backend>, String> {
    Ok(Box::new(Jit::host_compiling(when)?))
}
