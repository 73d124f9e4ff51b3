//! The Dis runtime: heap, frames, threads, channels, module loading, the
//! built-in modules and the interpreter.
//!
//! Dis memory lives at real addresses (heap objects, frames in stack
//! segments, module data) so that generated code can address it directly;
//! raw memory access is confined to `heap`, `stack` and `mem`.

pub mod array;
pub mod builtin;
pub mod chan;
pub mod heap;
pub mod interp;
pub mod list;
pub mod mem;
pub mod module;
pub mod native;
pub mod prog;
pub mod shadow;
pub mod stack;
pub mod string;
pub mod types;

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

use heap::{Heap, Ptr};
use module::{Callee, Instance, ModRef, Module};
use prog::{Prog, Regs, State};

/// Runtime error messages, in Inferno's words.
pub const EX_BOUNDS: &str = "array bounds error";
pub const EX_NILREF: &str = "dereference of nil";
pub const EX_ZDIV: &str = "zero divide";
pub const EX_NEGSIZE: &str = "negative array size";
pub const EX_MODULE: &str = "module not loaded";
pub const EX_SPAWN: &str = "spawn a builtin module";
pub const EX_TCHECK: &str = "type check";
pub const EX_HEAP: &str = "out of memory: heap";
/// emu's word for its main pool running out, which holds Dis stacks.
pub const EX_MAIN: &str = "out of memory: main";
pub const EX_INVAL: &str = "invalid argument";
pub const EX_RANGE: &str = "value out of range";
/// A call whose frame is not the top of the stack or is too small for the
/// function: only hostile code does this.
pub const EX_FRAME: &str = "bad frame";
/// A jump to an instruction outside the module.
pub const EX_PC: &str = "illegal dis instruction";
/// An access through an address that names no Dis memory the access may
/// touch, as emu reports a fault outside the first page.
pub const EX_SEGV: &str = "sys: segmentation violation";

/// A Dis exception: a runtime error or a raised string or exception value.
#[derive(Debug)]
pub struct Exception {
    /// The exception's name: the raised string, or the name an exception
    /// value carries.
    pub msg: String,
    /// The raised object (holding a reference), or nil for runtime errors.
    pub value: Ptr,
    /// The built-in module whose function raised it, if one did: a thread
    /// the exception kills is reported as that module's, as Inferno does.
    pub builtin: Option<&'static str>,
}

/// Why an instruction did not complete normally.
#[derive(Debug)]
pub enum Trap {
    Raise(Exception),
    /// The thread exits (`exit`, or returning from its first frame).
    Exit,
}

/// A runtime error with Inferno's message.
pub fn exc(msg: &str) -> Trap {
    Trap::Raise(Exception { msg: msg.to_string(), value: std::ptr::null_mut(), builtin: None })
}

/// How a run of the VM ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every thread finished; the main thread did not die of an exception.
    Done,
    /// The main thread died of an unhandled exception.
    Broken(String),
    /// Every remaining thread is blocked forever while the main thread lives.
    Deadlock,
}

#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Report what the VM does (`-v`).
    pub verbose: bool,
    /// Bytes of objects, and of all threads' stacks, past which the running
    /// thread gets `out of memory` (default: [`heap::default_limit`]).
    pub heap_limit: Option<usize>,
}

/// Hashes pids (small integers, mostly consecutive) with one multiply.
#[derive(Default)]
pub struct PidHasher(u64);

impl Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    fn write_i32(&mut self, n: i32) {
        self.0 = (n as u32 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Instructions a thread runs before the scheduler moves on.
pub const QUANTUM: u32 = 2048;

pub struct Vm {
    pub heap: Heap,
    /// Bytes of all the threads' stack segments, counted by the stacks.
    pub(crate) stacks: Rc<Cell<usize>>,
    pub config: Config,
    /// Modules by path, loaded once and shared by all instances.
    modules: HashMap<String, Rc<Module>>,
    /// Threads by pid. The running thread's slot is empty: it is off the
    /// table while it runs, but keeps its place, so that switching threads
    /// does not reshape the map. Where the order shows, walks go by pid.
    progs: HashMap<i32, Option<Box<Prog>>, BuildHasherDefault<PidHasher>>,
    runq: VecDeque<i32>,
    next_pid: i32,
    main_pid: i32,
    errstrs: HashMap<i32, String>,
    /// Plain types by size, for `newcm` channels.
    sized: HashMap<usize, &'static types::Type>,
    rng: u64,
    pub start: Instant,
    /// Where `Sys->print` and descriptor 1 go.
    pub out: Box<dyn Write>,
    pub sys: builtin::sys::SysState,
    /// Compiles modules as they load (`-c1`); without one, all is interpreted.
    backend: Option<Box<dyn native::Backend>>,
}

/// An error loading a module, with Inferno's wording where it has one.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: {1}")]
    Format(String, dis::LoadError),
    #[error("{0}")]
    Link(String),
}

impl Vm {
    /// A VM whose standard output is the process's.
    pub fn new(config: Config) -> Vm {
        Vm::with_output(config, Box::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout())))
    }

    /// A VM whose standard output goes to `out`.
    pub fn with_output(config: Config, out: Box<dyn Write>) -> Vm {
        let mut heap = Heap::new();
        if let Some(limit) = config.heap_limit {
            heap.limit = limit;
        }
        Vm {
            heap,
            stacks: Rc::default(),
            config,
            modules: HashMap::new(),
            progs: HashMap::default(),
            runq: VecDeque::new(),
            next_pid: 1,
            main_pid: 0,
            errstrs: HashMap::new(),
            sized: HashMap::new(),
            rng: 0x2545F4914F6CDD1D,
            start: Instant::now(),
            out,
            sys: builtin::sys::SysState::default(),
            backend: None,
        }
    }

    /// Compiles every module loaded from now on with `backend`.
    pub fn set_backend(&mut self, backend: Box<dyn native::Backend>) {
        self.backend = Some(backend);
    }

    /// A pseudo-random number below `n` (alt's choice among ready arms).
    pub fn random(&mut self, n: usize) -> usize {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng % n as u64) as usize
    }

    /// A pointer-free type of `size` bytes, made once per size.
    pub fn sized_type(&mut self, size: usize) -> &'static types::Type {
        self.sized.entry(size).or_insert_with(|| types::Type::bytes(size))
    }

    pub fn set_errstr(&mut self, pid: i32, s: String) {
        self.errstrs.insert(pid, s);
    }

    pub fn errstr(&self, pid: i32) -> &str {
        self.errstrs.get(&pid).map_or("", |s| s.as_str())
    }

    /// Reads and decodes a module file, once per path.
    pub fn load_module(&mut self, path: &str) -> Result<Rc<Module>, LoadError> {
        if let Some(m) = self.modules.get(path) {
            return Ok(m.clone());
        }
        let bytes = std::fs::read(path).map_err(|e| LoadError::Io(path.to_string(), e))?;
        let loaded =
            dis::load(&bytes, dis::WordSize::W8).map_err(|e| LoadError::Format(path.to_string(), e))?;
        let mut m = Module::new(path, loaded);
        if let Some(b) = &self.backend {
            m.native = b.compile(&m, self.config.verbose);
        }
        let m = Rc::new(m);
        if self.config.verbose {
            eprintln!("dite: loaded {} ({}, {} instructions)", path, m.name, m.code.len());
        }
        self.modules.insert(path.to_string(), m.clone());
        Ok(m)
    }

    /// A new instance of a module, linked to the imports `want` (the
    /// importer's names and signatures).
    pub fn instantiate(&mut self, m: &Rc<Module>, want: &[dis::Import]) -> Result<Ptr, LoadError> {
        let mut links = Vec::with_capacity(want.len());
        for w in want {
            let l = m.export(&w.name).ok_or_else(|| {
                LoadError::Link(format!("link failed fn {}->{}() not implemented", m.name, w.name))
            })?;
            if l.sig != w.sig {
                return Err(LoadError::Link(format!(
                    "link typecheck {}->{}() {:x}/{:x}",
                    m.name, w.name, l.sig, w.sig
                )));
            }
            if l.pc < 0 {
                return Err(LoadError::Link(format!("{}: {} is not a function", m.name, w.name)));
            }
            links.push(Callee::Dis { pc: l.pc as usize, frame: m.types[l.frame as usize] });
        }
        let mp = m.new_data(&mut self.heap);
        Ok(module::new_link(&mut self.heap, Instance { module: ModRef::Dis(m.clone()), mp, links }))
    }

    /// A new instance of a built-in module linked to `want`.
    pub fn instantiate_builtin(
        &mut self,
        b: &'static builtin::Module,
        want: &[dis::Import],
    ) -> Result<Ptr, LoadError> {
        let mut links = Vec::with_capacity(want.len());
        for w in want {
            let f = b.func(&w.name).ok_or_else(|| {
                LoadError::Link(format!("link failed fn {}->{}() not implemented", b.name, w.name))
            })?;
            if f.sig != w.sig {
                return Err(LoadError::Link(format!(
                    "link typecheck {}->{}() {:x}/{:x}",
                    b.name, w.name, f.sig, w.sig
                )));
            }
            links.push(Callee::Builtin { func: f });
        }
        Ok(module::new_link(
            &mut self.heap,
            Instance { module: ModRef::Builtin(b), mp: std::ptr::null_mut(), links },
        ))
    }

    pub fn prog_mut(&mut self, pid: i32) -> Option<&mut Prog> {
        self.progs.get_mut(&pid).and_then(|p| p.as_deref_mut())
    }

    /// Makes a blocked thread runnable.
    pub fn make_ready(&mut self, pid: i32) {
        if let Some(Some(p)) = self.progs.get_mut(&pid) {
            if p.state != State::Ready && p.state != State::Exited {
                p.state = State::Ready;
                self.runq.push_back(pid);
            }
        }
    }

    /// Makes ready the threads that `$Sys` woke (a pipe they wait on changed).
    pub fn wake_io(&mut self) {
        for pid in std::mem::take(&mut self.sys.woken) {
            self.make_ready(pid);
        }
    }

    /// How many threads exist besides the running one (which is off the
    /// table while it runs).
    pub fn other_threads(&self) -> usize {
        self.progs.values().flatten().filter(|p| p.state != State::Exited).count()
    }

    /// Adds a new thread, ready to run; returns its pid.
    pub fn add_prog(&mut self, regs: Regs, stack: stack::Stack, group: i32) -> i32 {
        let pid = self.next_pid;
        self.next_pid += 1;
        self.progs.insert(pid, Some(Box::new(Prog::new(pid, group, regs, stack))));
        self.runq.push_back(pid);
        pid
    }

    /// Loads the program at `path` and runs `init(nil, args)` until no
    /// thread can run. The arguments are bytes, decoded as Inferno decodes
    /// UTF-8 (they need not be UTF-8).
    pub fn run_program<A: AsRef<[u8]>>(&mut self, path: &str, args: &[A]) -> Result<Outcome, LoadError> {
        let m = self.load_module(path)?;
        let ml = self.instantiate(&m, &[])?;
        let (pc, ty) = (m.image.entry_pc, m.image.entry_type);
        if pc < 0 {
            return Err(LoadError::Link(format!("{path}: module has no entry point")));
        }
        let mut stack = stack::Stack::counted(self.stacks.clone());
        let f = stack.alloc(m.types[ty as usize]);
        // argv, built back to front.
        let mut argv: Ptr = std::ptr::null_mut();
        for a in args.iter().rev() {
            let cell = list::cons(&mut self.heap, 8, Some(&types::POINTER), argv);
            self.heap.dec(argv);
            let s = string::from_utf8(&mut self.heap, a.as_ref());
            list::head(cell).set_raw_p(s);
            argv = cell;
        }
        // SAFETY: the entry frame type covers init's two arguments.
        unsafe { f.offset(stack::ARGS + 8) }.put_p(&mut self.heap, argv);
        let regs = Regs { pc: pc as usize, fp: f.ptr(), ml };
        self.main_pid = self.add_prog(regs, stack, 1);
        Ok(self.schedule())
    }

    /// Runs threads until none can run.
    /// The heap or the threads' stacks passed their limit while `p` ran: unless
    /// collecting cycles brings it back, `p` gets `out of memory: heap` (or
    /// `main`) where it stands, as a thread of emu's does when a pool is full.
    fn out_of_memory(&mut self, p: Box<Prog>) -> (Box<Prog>, interp::Status) {
        // The collector finds roots in the threads of the table only.
        let pid = p.pid;
        self.put_back(p);
        self.collect();
        let mut p = self.progs.get_mut(&pid).and_then(Option::take).expect("the thread just put back");
        let Some(what) = self.heap.exhausted(self.stacks.get()) else {
            return (p, interp::Status::Yield);
        };
        let status = interp::throw(self, &mut p, exc(what)).unwrap_or(interp::Status::Yield);
        (p, status)
    }

    fn schedule(&mut self) -> Outcome {
        let mut outcome = Outcome::Done;
        loop {
            if self.heap.wants_collection() {
                self.collect();
            }
            if !self.heap.released_fds.is_empty() {
                self.sys.close_released(&mut self.heap);
            }
            if self.sys.stdin_waiting() {
                self.sys.poll_stdin();
            }
            if !self.sys.woken.is_empty() {
                self.wake_io();
            }
            let Some(pid) = self.runq.pop_front() else {
                let wakeup = self.next_wakeup();
                if self.sys.stdin_waiting() {
                    // Input may come: wait for it, or for the first sleeper.
                    let _ = self.out.flush();
                    self.sys.wait_stdin(wakeup);
                    self.wake_sleepers();
                    continue;
                }
                if let Some(wait) = wakeup {
                    let _ = self.out.flush();
                    std::thread::sleep(wait);
                    self.wake_sleepers();
                    continue;
                }
                break;
            };
            let Some(slot) = self.progs.get_mut(&pid) else { continue };
            let Some(mut p) = slot.take() else { continue };
            if p.state != State::Ready {
                *slot = Some(p);
                continue;
            }
            let mut status = if self.backend.is_some() {
                native::run(self, &mut p, QUANTUM)
            } else {
                interp::run(self, &mut p, QUANTUM)
            };
            if matches!(status, interp::Status::Yield) && self.heap.exhausted(self.stacks.get()).is_some() {
                (p, status) = self.out_of_memory(p);
            }
            match status {
                interp::Status::Yield => {
                    self.runq.push_back(pid);
                    self.put_back(p);
                }
                interp::Status::Blocked => {
                    self.put_back(p);
                }
                interp::Status::Exit => {
                    self.progs.remove(&pid);
                    self.end_prog(p);
                }
                interp::Status::Broken(msg, module) => {
                    // A "fail:" exception is a program's way to say it
                    // failed; it is not reported as a broken thread.
                    if !msg.starts_with("fail:") && msg != "interrupted" {
                        let _ = self.out.flush();
                        eprintln!("[{module}] Broken: \"{msg}\"");
                    }
                    if pid == self.main_pid {
                        outcome = Outcome::Broken(msg);
                    }
                    self.progs.remove(&pid);
                    self.end_prog(p);
                }
            }
        }
        if self.progs.contains_key(&self.main_pid) {
            outcome = Outcome::Deadlock;
        }
        // Threads blocked forever are reclaimed with everything they hold.
        let mut left: Vec<i32> = self.progs.keys().copied().collect();
        left.sort_unstable();
        for pid in left {
            if let Some(Some(p)) = self.progs.remove(&pid) {
                self.end_prog(p);
            }
        }
        let _ = self.out.flush();
        outcome
    }

    /// Returns a thread that ran to its slot.
    fn put_back(&mut self, p: Box<Prog>) {
        match self.progs.get_mut(&p.pid) {
            Some(slot) => *slot = Some(p),
            None => {
                self.progs.insert(p.pid, Some(p));
            }
        }
    }

    fn next_wakeup(&self) -> Option<Duration> {
        let now = Instant::now();
        self.progs
            .values()
            .flatten()
            .filter_map(|p| match p.state {
                State::Sleep(t) => Some(t.saturating_duration_since(now)),
                _ => None,
            })
            .min()
    }

    fn wake_sleepers(&mut self) {
        let now = Instant::now();
        let mut due: Vec<i32> = self
            .progs
            .values()
            .flatten()
            .filter(|p| matches!(p.state, State::Sleep(t) if t <= now))
            .map(|p| p.pid)
            .collect();
        due.sort_unstable();
        for pid in due {
            self.make_ready(pid);
        }
    }

    /// Releases a finished (or abandoned) thread's stack and module.
    #[allow(clippy::boxed_local)] // threads live boxed in the run queue; this consumes one
    fn end_prog(&mut self, mut p: Box<Prog>) {
        p.state = State::Exited;
        // Take it off any channel it waits on.
        let pid = p.pid;
        let mut chans = Vec::new();
        p.stack.roots(&mut |c| {
            if Heap::type_of(c).kind == types::Kind::Channel {
                chans.push(c);
            }
        });
        for c in chans {
            chan::forget(c, pid);
        }
        // Frames that a module call entered and that will never return
        // hold their callers' module links.
        let mut links = Vec::new();
        p.stack.caller_links(&mut |ml| links.push(ml));
        p.stack.free_above(&mut self.heap, None);
        for ml in links {
            self.heap.dec(ml);
        }
        self.heap.dec(p.regs.ml);
        p.regs.ml = std::ptr::null_mut();
        let e = std::mem::replace(&mut p.exception, std::ptr::null_mut());
        self.heap.dec(e);
        self.errstrs.remove(&pid);
    }

    /// Runs the cycle collector at a safepoint: every live pointer is in a
    /// frame, module data, or a heap object reachable from them.
    pub fn collect(&mut self) {
        let progs = &self.progs;
        self.heap.collect(&mut |mark| {
            for p in progs.values().flatten() {
                p.stack.roots(mark);
                mark(p.regs.ml);
                mark(p.exception);
            }
        });
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}
