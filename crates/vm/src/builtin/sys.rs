//! `$Sys` over the host: files, formatting, time, tokenizing.
//!
//! File descriptors are numbers in one table; each `Sys->FD` object holds a
//! reference to its number, released when the object dies, and a number is
//! closed when its last reference goes.

use std::collections::HashMap;
use std::io::Write;

use super::fmt::{self, Args};
use super::{Call, Flow, Func, Module};
use crate::heap::{Heap, Ptr};
use crate::mem::obj;
use crate::types::{Kind, Type};
use crate::{array, Trap};

/// What a descriptor number refers to.
pub enum Host {
    Stdin,
    Stdout,
    Stderr,
    File(std::fs::File),
}

struct Entry {
    host: Host,
    /// `Sys->FD` objects (and the process, for 0, 1 and 2) holding it.
    refs: usize,
}

/// The host-facing state of `$Sys`.
pub struct SysState {
    fds: HashMap<i64, Entry>,
}

impl Default for SysState {
    fn default() -> Self {
        let mut fds = HashMap::new();
        fds.insert(0, Entry { host: Host::Stdin, refs: 1 });
        fds.insert(1, Entry { host: Host::Stdout, refs: 1 });
        fds.insert(2, Entry { host: Host::Stderr, refs: 1 });
        SysState { fds }
    }
}

impl SysState {
    /// Drops the references of `Sys->FD` objects that died.
    pub fn close_released(&mut self, heap: &mut Heap) {
        for fd in heap.released_fds.drain(..) {
            if let Some(e) = self.fds.get_mut(&fd) {
                e.refs -= 1;
                if e.refs == 0 {
                    self.fds.remove(&fd);
                }
            }
        }
    }

    /// The host path for a module path a program loads.
    pub fn resolve(&self, path: &str) -> String {
        path.to_string()
    }

    /// Adds an entry at the lowest free number.
    pub fn add(&mut self, host: Host) -> i64 {
        let fd = (0..).find(|n| !self.fds.contains_key(n)).expect("a free descriptor");
        self.fds.insert(fd, Entry { host, refs: 0 });
        fd
    }

    pub fn host(&mut self, fd: i64) -> Option<&mut Host> {
        self.fds.get_mut(&fd).map(|e| &mut e.host)
    }
}

/// The type of `Sys->FD` objects: `adt { fd: int; }`.
pub static FD: Type = Type { size: 8, ptrs: &[], kind: Kind::Fd };

/// A new `Sys->FD` object for descriptor `fd` (taking a reference to it).
pub fn new_fd(c: &mut Call, fd: i64) -> Ptr {
    if let Some(e) = c.vm.sys.fds.get_mut(&fd) {
        e.refs += 1;
    }
    let p = c.vm.heap.alloc(&FD, 0);
    obj(p).set_w(fd);
    p
}

/// The descriptor number of a `Sys->FD` argument, if it is one.
pub fn fd_of(p: Ptr) -> Option<i64> {
    (!p.is_null() && Heap::type_of(p).kind == Kind::Fd).then(|| obj(p).w())
}

/// Writes bytes to a descriptor; the error string on failure.
pub fn write_fd(c: &mut Call, fd: i64, b: &[u8]) -> Result<usize, String> {
    let vm = &mut *c.vm;
    match vm.sys.fds.get_mut(&fd).map(|e| &mut e.host) {
        Some(Host::Stdout) => vm.out.write_all(b).map(|_| b.len()).map_err(|e| e.to_string()),
        Some(Host::Stderr) => {
            let _ = vm.out.flush();
            std::io::stderr().write_all(b).map(|_| b.len()).map_err(|e| e.to_string())
        }
        Some(Host::File(f)) => f.write(b).map_err(|e| e.to_string()),
        Some(Host::Stdin) => Err("permission denied".into()),
        None => Err("bad file descriptor".into()),
    }
}

impl Args for Call<'_> {
    fn word(&mut self) -> i64 {
        self.int()
    }
    fn big(&mut self) -> i64 {
        Call::big(self)
    }
    fn real(&mut self) -> f64 {
        Call::real(self)
    }
    fn string(&mut self) -> String {
        Call::string(self)
    }
}

/// Formats the variadic tail of a print-family call.
fn formatted(c: &mut Call) -> String {
    let f = c.string();
    let err = c.vm.errstr(c.pid).to_string();
    fmt::format(&f, c, &err)
}

fn print(c: &mut Call) -> Result<Flow, Trap> {
    let s = formatted(c);
    let n = write_fd(c, 1, s.as_bytes()).map_or(-1, |n| n as i64);
    c.ret_int(n);
    Ok(Flow::Next)
}

fn fprint(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let s = formatted(c);
    let n = match fd {
        Some(fd) => match write_fd(c, fd, s.as_bytes()) {
            Ok(n) => n as i64,
            Err(e) => {
                c.set_err(e);
                -1
            }
        },
        None => -1,
    };
    c.ret_int(n);
    Ok(Flow::Next)
}

fn sprint(c: &mut Call) -> Result<Flow, Trap> {
    let s = formatted(c);
    c.ret_str(&s);
    Ok(Flow::Next)
}

fn aprint(c: &mut Call) -> Result<Flow, Trap> {
    let s = formatted(c);
    let a = array::from_bytes(c.heap(), s.as_bytes());
    c.ret_ptr(a);
    Ok(Flow::Next)
}

fn fildes(c: &mut Call) -> Result<Flow, Trap> {
    let fd = c.int();
    let r = if c.vm.sys.fds.contains_key(&fd) { new_fd(c, fd) } else { std::ptr::null_mut() };
    c.ret_ptr(r);
    Ok(Flow::Next)
}

fn millisec(c: &mut Call) -> Result<Flow, Trap> {
    let ms = c.vm.start.elapsed().as_millis() as i64;
    c.ret_int(ms);
    Ok(Flow::Next)
}

fn sleep(c: &mut Call) -> Result<Flow, Trap> {
    let ms = c.int();
    c.ret_int(0);
    Ok(if ms > 0 { Flow::Sleep(ms as u64) } else { Flow::Next })
}

fn werrstr(c: &mut Call) -> Result<Flow, Trap> {
    let s = c.string();
    c.set_err(s);
    c.ret_int(0);
    Ok(Flow::Next)
}

/// Functions not yet written raise an exception.
fn unimplemented(_: &mut Call) -> Result<Flow, Trap> {
    Err(crate::exc("Sys function not implemented"))
}

pub static MODULE: Module = Module { name: "$Sys", funcs: &FUNCS };

static FUNCS: [Func; 43] = [
    Func::new("announce", 0x0b7c4ac0, "p", unimplemented),
    Func::new("aprint", 0x77442d46, "p*", aprint),
    Func::new("bind", 0x66326d91, "ppw", unimplemented),
    Func::new("byte2char", 0x3d6094f9, "pw", unimplemented),
    Func::new("char2byte", 0x2ba5ab41, "wpw", unimplemented),
    Func::new("chdir", 0xc6935858, "p", unimplemented),
    Func::new("create", 0x54db77d9, "pww", unimplemented),
    Func::new("dial", 0x29e90174, "pp", unimplemented),
    Func::new("dirread", 0x72210d71, "p", unimplemented),
    Func::new("dup", 0x6584767b, "ww", unimplemented),
    Func::new("export", 0x6fc6dc03, "ppw", unimplemented),
    Func::new("fauth", 0x20ccc34b, "pp", unimplemented),
    Func::new("fd2path", 0x749c6042, "p", unimplemented),
    Func::new("fildes", 0x1478f993, "w", fildes),
    Func::new("file2chan", 0x9f34d686, "pp", unimplemented),
    Func::new("fprint", 0xf46486c8, "pp*", fprint),
    Func::new("fstat", 0xda4499c2, "p", unimplemented),
    Func::new("fversion", 0xfe9c0a06, "pwp", unimplemented),
    Func::new("fwstat", 0x50a6c7e0, "p(pppp(lww)wwwlww)", unimplemented),
    Func::new("iounit", 0x5583b730, "p", unimplemented),
    Func::new("listen", 0xb97416e0, "(ppp)", unimplemented),
    Func::new("millisec", 0x616977e8, "", millisec),
    Func::new("mount", 0x74c17b3a, "ppwpwp", unimplemented),
    Func::new("open", 0x8f477f99, "pw", unimplemented),
    Func::new("pctl", 0x05df27fb, "wp", unimplemented),
    Func::new("pipe", 0x1f2c52ea, "p", unimplemented),
    Func::new("pread", 0x09d8aac6, "ppwl", unimplemented),
    Func::new("print", 0xac849033, "p*", print),
    Func::new("pwrite", 0x09d8aac6, "ppwl", unimplemented),
    Func::new("read", 0x7cfef557, "ppw", unimplemented),
    Func::new("readn", 0x7cfef557, "ppw", unimplemented),
    Func::new("remove", 0xc6935858, "p", unimplemented),
    Func::new("seek", 0xaeccaddb, "plw", unimplemented),
    Func::new("sleep", 0xe67bf126, "w", sleep),
    Func::new("sprint", 0x4c0624b6, "p*", sprint),
    Func::new("stat", 0x319328dd, "p", unimplemented),
    Func::new("stream", 0xb9e8f9ea, "ppw", unimplemented),
    Func::new("tokenize", 0x57338f20, "pp", unimplemented),
    Func::new("unmount", 0x21e337e3, "pp", unimplemented),
    Func::new("utfbytes", 0x01d4a1f4, "pw", unimplemented),
    Func::new("werrstr", 0xc6935858, "p", werrstr),
    Func::new("write", 0x7cfef557, "ppw", unimplemented),
    Func::new("wstat", 0x56b02096, "p(pppp(lww)wwwlww)", unimplemented),
];
