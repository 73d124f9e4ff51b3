//! `$Sys` over the host: files, formatting, time, tokenizing.
//!
//! File descriptors are numbers in one table; each `Sys->FD` object holds a
//! reference to its number, released when the object dies, and a number is
//! closed when its last reference goes.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Seek, SeekFrom, Write};
use std::rc::Rc;

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
    File {
        file: std::fs::File,
        path: String,
        /// `ORCLOSE`: remove the file when the descriptor closes.
        remove_on_close: bool,
    },
    /// A directory opened for reading its entries.
    Dir {
        path: String,
        entries: Option<Vec<HostDir>>,
        next: usize,
    },
    /// One end of an in-VM pipe.
    Pipe {
        pipe: Rc<RefCell<Pipe>>,
        end: usize,
    },
}

/// A pipe: bytes written to one end are read from the other.
#[derive(Default)]
pub struct Pipe {
    /// Bytes waiting to be read at each end.
    queued: [VecDeque<u8>; 2],
    /// Descriptors open on each end.
    open: [usize; 2],
}

impl Host {
    /// Another descriptor for the same open file (`dup`).
    fn share(&self) -> std::io::Result<Host> {
        Ok(match self {
            Host::Stdin => Host::Stdin,
            Host::Stdout => Host::Stdout,
            Host::Stderr => Host::Stderr,
            Host::File { file, path, .. } => {
                Host::File { file: file.try_clone()?, path: path.clone(), remove_on_close: false }
            }
            Host::Dir { path, entries, next } => {
                Host::Dir { path: path.clone(), entries: entries.clone(), next: *next }
            }
            Host::Pipe { pipe, end } => {
                pipe.borrow_mut().open[*end] += 1;
                Host::Pipe { pipe: pipe.clone(), end: *end }
            }
        })
    }

    fn close(self) {
        match self {
            Host::Pipe { pipe, end } => pipe.borrow_mut().open[end] -= 1,
            Host::File { path, remove_on_close: true, .. } => {
                let _ = std::fs::remove_file(path);
            }
            _ => {}
        }
    }
}

struct Entry {
    host: Host,
    /// `Sys->FD` objects (and the process, for 0, 1 and 2) holding it.
    refs: usize,
}

/// The host-facing state of `$Sys`.
pub struct SysState {
    fds: HashMap<i64, Entry>,
    /// `Math->FPcontrol` and `FPstatus` words.
    pub fp_control: i64,
    pub fp_status: i64,
}

impl Default for SysState {
    fn default() -> Self {
        let mut fds = HashMap::new();
        fds.insert(0, Entry { host: Host::Stdin, refs: 1 });
        fds.insert(1, Entry { host: Host::Stdout, refs: 1 });
        fds.insert(2, Entry { host: Host::Stderr, refs: 1 });
        SysState { fds, fp_control: super::math::FP_CONTROL, fp_status: 0 }
    }
}

impl SysState {
    /// Drops the references of `Sys->FD` objects that died.
    pub fn close_released(&mut self, heap: &mut Heap) {
        for fd in heap.released_fds.drain(..) {
            if let Some(e) = self.fds.get_mut(&fd) {
                e.refs -= 1;
                if e.refs == 0 {
                    if let Some(e) = self.fds.remove(&fd) {
                        e.host.close();
                    }
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
        Some(Host::File { file, .. }) => file.write(b).map_err(|e| os_error(&e)),
        Some(Host::Pipe { pipe, end }) => {
            let mut p = pipe.borrow_mut();
            if p.open[1 - *end] == 0 {
                return Err("write on closed pipe".into());
            }
            p.queued[1 - *end].extend(b);
            Ok(b.len())
        }
        Some(Host::Dir { .. }) => Err(E_ISDIR.into()),
        Some(Host::Stdin) => Err(E_PERM.into()),
        None => Err(E_BADFD.into()),
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

/// Inferno's words for the errors programs test for.
const E_NONEXIST: &str = "file does not exist";
const E_EXIST: &str = "file already exists";
const E_PERM: &str = "permission denied";
const E_ISDIR: &str = "file is a directory";
const E_NOTDIR: &str = "not a directory";
const E_BADFD: &str = "fd out of range or not open";
const E_NOTSUP: &str = "not supported in dite without a namespace";

/// A host error in Inferno's words where it has them.
fn os_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => E_NONEXIST.into(),
        K::AlreadyExists => E_EXIST.into(),
        K::PermissionDenied => E_PERM.into(),
        K::IsADirectory => E_ISDIR.into(),
        K::NotADirectory => E_NOTDIR.into(),
        K::DirectoryNotEmpty => "directory not empty".into(),
        _ => {
            let s = e.to_string();
            // "No such device (os error 19)" → "no such device"
            let s = s.split(" (os error").next().unwrap_or(&s);
            let mut c = s.chars();
            c.next().map(|f| f.to_lowercase().chain(c).collect()).unwrap_or_default()
        }
    }
}

// Open modes and permission bits of sys.m.
const OWRITE: i64 = 1;
const ORDWR: i64 = 2;
const OTRUNC: i64 = 16;
const ORCLOSE: i64 = 64;
const OEXCL: i64 = 0x1000;
const DMDIR: i64 = 0x8000_0000;
const QTDIR: i64 = 0x80;

/// A host file's metadata as a `Sys->Dir`.
#[derive(Clone, Debug)]
pub struct HostDir {
    name: String,
    uid: String,
    gid: String,
    qid_path: i64,
    qid_vers: i64,
    qid_type: i64,
    mode: i64,
    atime: i64,
    mtime: i64,
    length: i64,
    dev: i64,
}

impl HostDir {
    fn of(path: &str, md: &std::fs::Metadata) -> HostDir {
        use std::os::unix::fs::MetadataExt;
        let name = std::path::Path::new(path)
            .file_name()
            .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned());
        let dir = md.is_dir();
        HostDir {
            name,
            uid: user_name(md.uid()),
            gid: group_name(md.gid()),
            qid_path: md.ino() as i64,
            qid_vers: md.mtime() as i32 as i64,
            qid_type: if dir { QTDIR } else { 0 },
            mode: (md.mode() & 0o777) as i64 | if dir { DMDIR } else { 0 },
            atime: md.atime() as i32 as i64,
            mtime: md.mtime() as i32 as i64,
            length: if dir { 0 } else { md.len() as i64 },
            dev: md.dev() as i32 as i64,
        }
    }
}

/// A user's name from /etc/passwd, or the number.
fn user_name(id: u32) -> String {
    id_name("/etc/passwd", id)
}

fn group_name(id: u32) -> String {
    id_name("/etc/group", id)
}

fn id_name(file: &str, id: u32) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let num: u32 = f.nth(1)?.parse().ok()?;
            (num == id).then(|| name.to_string())
        })
        .next()
        .unwrap_or_else(|| id.to_string())
}

/// Layout of `Sys->Dir` in 64-bit Dis: four strings, the Qid (path, vers,
/// qtype), mode, atime, mtime, length, dtype, dev.
pub static DIR: Type = Type { size: 104, ptrs: &[0, 8, 16, 24], kind: Kind::Record };

/// Stores `d` as a `Sys->Dir` at `at`, releasing what was there.
fn put_dir(c: &mut Call, at: crate::mem::Addr, d: &HostDir) {
    let heap = &mut c.vm.heap;
    for (off, s) in [(0, &d.name), (8, &d.uid), (16, &d.gid), (24, &String::new())] {
        let p = crate::string::from_str(heap, s);
        super::field(at, off).put_p(heap, p);
    }
    for (off, v) in [
        (32, d.qid_path),
        (40, d.qid_vers),
        (48, d.qid_type),
        (56, d.mode),
        (64, d.atime),
        (72, d.mtime),
        (80, d.length),
        (88, 'U' as i64),
        (96, d.dev),
    ] {
        super::field(at, off).set_w(v);
    }
}

/// The calling thread's error string, and -1 (or nil).
fn fail(c: &mut Call, e: impl Into<String>) -> Result<Flow, Trap> {
    c.set_err(e);
    c.ret_int(-1);
    Ok(Flow::Next)
}

fn fail_nil(c: &mut Call, e: impl Into<String>) -> Result<Flow, Trap> {
    c.set_err(e);
    c.ret_ptr(std::ptr::null_mut());
    Ok(Flow::Next)
}

/// Opens a host path as Inferno's `open` and `create` do.
fn open_host(path: &str, mode: i64, create: Option<i64>) -> Result<Host, String> {
    let md = std::fs::metadata(path);
    if let Some(perm) = create {
        if perm & DMDIR != 0 {
            if mode & 3 != 0 {
                return Err(E_PERM.into());
            }
            std::fs::create_dir(path).map_err(|e| os_error(&e))?;
            return Ok(Host::Dir { path: path.to_string(), entries: None, next: 0 });
        }
        if md.as_ref().is_ok_and(|m| m.is_dir()) {
            return Err(E_ISDIR.into());
        }
    } else if let Ok(m) = &md {
        if m.is_dir() {
            if mode & 3 != 0 {
                return Err(E_ISDIR.into());
            }
            return Ok(Host::Dir { path: path.to_string(), entries: None, next: 0 });
        }
    }
    let mut o = std::fs::OpenOptions::new();
    match mode & 3 {
        OWRITE => o.write(true),
        ORDWR => o.read(true).write(true),
        _ => o.read(true),
    };
    if let Some(perm) = create {
        use std::os::unix::fs::OpenOptionsExt;
        if mode & 3 == 0 {
            o.write(true);
        }
        if mode & OEXCL != 0 {
            o.create_new(true);
        } else {
            o.create(true).truncate(true);
        }
        o.mode((perm & 0o777) as u32);
    } else if mode & OTRUNC != 0 {
        o.write(true).truncate(true);
    }
    let file = o.open(path).map_err(|e| os_error(&e))?;
    Ok(Host::File { file, path: path.to_string(), remove_on_close: mode & ORCLOSE != 0 })
}

fn open(c: &mut Call) -> Result<Flow, Trap> {
    let path = c.string();
    let mode = c.int();
    match open_host(&path, mode, None) {
        Ok(h) => {
            let fd = c.vm.sys.add(h);
            let p = new_fd(c, fd);
            c.ret_ptr(p);
            Ok(Flow::Next)
        }
        Err(e) => fail_nil(c, e),
    }
}

fn create(c: &mut Call) -> Result<Flow, Trap> {
    let path = c.string();
    let mode = c.int();
    let perm = c.int();
    match open_host(&path, mode, Some(perm)) {
        Ok(h) => {
            let fd = c.vm.sys.add(h);
            let p = new_fd(c, fd);
            c.ret_ptr(p);
            Ok(Flow::Next)
        }
        Err(e) => fail_nil(c, e),
    }
}

/// What a read found.
enum Got {
    Bytes(Vec<u8>),
    /// An empty pipe whose other end is open: try again later.
    Wait,
}

fn read_fd(c: &mut Call, fd: i64, n: usize, at: Option<u64>) -> Result<Got, String> {
    let vm = &mut *c.vm;
    let _ = vm.out.flush();
    let Some(host) = vm.sys.fds.get_mut(&fd).map(|e| &mut e.host) else {
        return Err(E_BADFD.into());
    };
    let mut buf = vec![0u8; n];
    let k = match host {
        Host::Stdin => std::io::stdin().read(&mut buf).map_err(|e| os_error(&e))?,
        Host::Stdout | Host::Stderr => return Err(E_PERM.into()),
        Host::File { file, .. } => match at {
            Some(off) => {
                use std::os::unix::fs::FileExt;
                file.read_at(&mut buf, off).map_err(|e| os_error(&e))?
            }
            None => file.read(&mut buf).map_err(|e| os_error(&e))?,
        },
        Host::Dir { .. } => return Err(E_ISDIR.into()),
        Host::Pipe { pipe, end } => {
            let mut p = pipe.borrow_mut();
            let q = &mut p.queued[*end];
            if q.is_empty() {
                return if p.open[1 - *end] > 0 { Ok(Got::Wait) } else { Ok(Got::Bytes(Vec::new())) };
            }
            let k = n.min(q.len());
            for (d, b) in buf.iter_mut().zip(q.drain(..k)) {
                *d = b;
            }
            k
        }
    };
    buf.truncate(k);
    Ok(Got::Bytes(buf))
}

/// Shared by read, readn and pread: `(fd, buf, n[, offset])`.
fn read_into(c: &mut Call, offset: bool, all: bool) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let buf = c.ptr();
    let n = c.int();
    let at = if offset { Some(c.big()) } else { None };
    if buf.is_null() || n < 0 {
        c.ret_int(0);
        return Ok(Flow::Next);
    }
    let n = (n as usize).min(array::len(buf));
    let Some(fd) = fd else { return fail(c, E_BADFD) };
    let mut total = 0;
    while total < n {
        let got = read_fd(c, fd, n - total, at.map(|o| o as u64 + total as u64));
        match got {
            Ok(Got::Wait) if total == 0 => return Ok(Flow::Retry),
            Ok(Got::Wait) => break,
            Ok(Got::Bytes(b)) => {
                if b.is_empty() {
                    break;
                }
                array::elems_mut(buf)[total..total + b.len()].copy_from_slice(&b);
                total += b.len();
                if !all {
                    break;
                }
            }
            Err(e) if total == 0 => return fail(c, e),
            Err(_) => break,
        }
    }
    c.ret_int(total as i64);
    Ok(Flow::Next)
}

fn read(c: &mut Call) -> Result<Flow, Trap> {
    read_into(c, false, false)
}

fn readn(c: &mut Call) -> Result<Flow, Trap> {
    read_into(c, false, true)
}

fn pread(c: &mut Call) -> Result<Flow, Trap> {
    read_into(c, true, false)
}

fn write(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let buf = c.ptr();
    let n = c.int();
    let n = (n.max(0) as usize).min(array::len(buf));
    let Some(fd) = fd else { return fail(c, E_BADFD) };
    let b = array::bytes(buf)[..n].to_vec();
    let r = write_fd(c, fd, &b);
    ret_count(c, r)
}

/// Returns a byte count, or -1 with the error string set.
fn ret_count(c: &mut Call, r: Result<usize, String>) -> Result<Flow, Trap> {
    match r {
        Ok(k) => c.ret_int(k as i64),
        Err(e) => return fail(c, e),
    }
    Ok(Flow::Next)
}

fn pwrite(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let buf = c.ptr();
    let n = c.int();
    let off = c.big();
    let n = (n.max(0) as usize).min(array::len(buf));
    let b = array::bytes(buf)[..n].to_vec();
    let r = match fd.and_then(|fd| c.vm.sys.host(fd)) {
        Some(Host::File { file, .. }) => {
            use std::os::unix::fs::FileExt;
            file.write_at(&b, off as u64).map_err(|e| os_error(&e))
        }
        Some(_) => Err("seek on a stream".to_string()),
        None => Err(E_BADFD.into()),
    };
    ret_count(c, r)
}

fn seek(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let off = c.big();
    let whence = c.int();
    let r = match fd.and_then(|fd| c.vm.sys.host(fd)) {
        Some(Host::File { file, .. }) => {
            let pos = match whence {
                0 if off >= 0 => Ok(SeekFrom::Start(off as u64)),
                1 => Ok(SeekFrom::Current(off)),
                2 => Ok(SeekFrom::End(off)),
                _ => Err("negative seek offset".to_string()),
            };
            pos.and_then(|p| file.seek(p).map_err(|e| os_error(&e)))
        }
        Some(Host::Dir { next, .. }) if whence == 0 && off == 0 => {
            *next = 0;
            Ok(0)
        }
        Some(_) => Err("seek on a stream".to_string()),
        None => Err(E_BADFD.into()),
    };
    match r {
        Ok(p) => c.ret_big(p as i64),
        Err(e) => {
            c.set_err(e);
            c.ret_big(-1);
        }
    }
    Ok(Flow::Next)
}

/// Returns `(0, dir)` or `(-1, zero dir)` with the error string set.
fn ret_stat(c: &mut Call, r: Result<HostDir, String>) -> Result<Flow, Trap> {
    let Some(at) = c.ret() else { return Ok(Flow::Next) };
    match r {
        Ok(d) => {
            at.set_w(0);
            put_dir(c, super::field(at, 8), &d);
        }
        Err(e) => {
            c.set_err(e);
            at.set_w(-1);
            let d = super::field(at, 8);
            for off in [0, 8, 16, 24] {
                super::field(d, off).put_p(&mut c.vm.heap, std::ptr::null_mut());
            }
            for off in (32..104).step_by(8) {
                super::field(d, off).set_w(0);
            }
        }
    }
    Ok(Flow::Next)
}

fn stat(c: &mut Call) -> Result<Flow, Trap> {
    let path = c.string();
    let r = std::fs::metadata(&path).map(|m| HostDir::of(&path, &m)).map_err(|e| os_error(&e));
    ret_stat(c, r)
}

fn fd_path(c: &mut Call, fd: Option<i64>) -> Result<String, String> {
    match fd.and_then(|fd| c.vm.sys.host(fd)) {
        Some(Host::File { path, .. } | Host::Dir { path, .. }) => Ok(path.clone()),
        Some(Host::Stdin) => Ok("/fd/0".into()),
        Some(Host::Stdout) => Ok("/fd/1".into()),
        Some(Host::Stderr) => Ok("/fd/2".into()),
        Some(Host::Pipe { end, .. }) => Ok(format!("#|/data{}", if *end == 0 { "" } else { "1" })),
        None => Err(E_BADFD.into()),
    }
}

fn fstat(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let r = match fd.and_then(|fd| c.vm.sys.host(fd)) {
        Some(Host::File { file, path, .. }) => {
            let path = path.clone();
            file.metadata().map(|m| HostDir::of(&path, &m)).map_err(|e| os_error(&e))
        }
        Some(Host::Dir { path, .. }) => {
            let path = path.clone();
            std::fs::metadata(&path).map(|m| HostDir::of(&path, &m)).map_err(|e| os_error(&e))
        }
        Some(_) => {
            let name = fd_path(c, fd).unwrap_or_default();
            Ok(HostDir {
                name,
                uid: String::new(),
                gid: String::new(),
                qid_path: 0,
                qid_vers: 0,
                qid_type: 0,
                mode: 0o600,
                atime: 0,
                mtime: 0,
                length: 0,
                dev: 0,
            })
        }
        None => Err(E_BADFD.into()),
    };
    ret_stat(c, r)
}

/// `wstat` and `fwstat`: apply the fields of `d` that are not "don't
/// touch" (~0 and nil): name, mode, mtime and length on the host.
fn apply_wstat(path: &str, d: crate::mem::Addr) -> Result<(), String> {
    let err = |e: std::io::Error| os_error(&e);
    let length = super::field(d, 80).w();
    if length != -1 {
        let f = std::fs::OpenOptions::new().write(true).open(path).map_err(err)?;
        f.set_len(length.max(0) as u64).map_err(err)?;
    }
    let mode = super::field(d, 56).w();
    if mode != -1 && mode as u32 != u32::MAX {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode((mode & 0o777) as u32))
            .map_err(err)?;
    }
    let mtime = super::field(d, 72).w();
    if mtime != -1 && mtime as u32 != u32::MAX {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime as u32 as u64);
        let f = std::fs::File::options()
            .write(true)
            .open(path)
            .or_else(|_| std::fs::File::open(path))
            .map_err(err)?;
        f.set_modified(t).map_err(err)?;
    }
    let name = crate::string::to_string(super::field(d, 0).p());
    if !name.is_empty() {
        let to = std::path::Path::new(path).with_file_name(&name);
        if to != std::path::Path::new(path) {
            std::fs::rename(path, to).map_err(err)?;
        }
    }
    Ok(())
}

fn wstat(c: &mut Call) -> Result<Flow, Trap> {
    let path = c.string();
    let d = c.arg_block(DIR.size, 8);
    match apply_wstat(&path, d) {
        Ok(()) => c.ret_int(0),
        Err(e) => return fail(c, e),
    }
    Ok(Flow::Next)
}

fn fwstat(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let d = c.arg_block(DIR.size, 8);
    match fd_path(c, fd).and_then(|p| apply_wstat(&p, d)) {
        Ok(()) => c.ret_int(0),
        Err(e) => return fail(c, e),
    }
    Ok(Flow::Next)
}

fn dirread(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let batch: Result<Vec<HostDir>, String> = match fd.and_then(|fd| c.vm.sys.host(fd)) {
        Some(Host::Dir { path, entries, next }) => {
            if entries.is_none() {
                let list = std::fs::read_dir(&*path).map_err(|e| os_error(&e)).map(|rd| {
                    let mut v: Vec<HostDir> = rd
                        .filter_map(|e| e.ok())
                        .filter_map(|e| {
                            let p = e.path().to_string_lossy().into_owned();
                            e.metadata().ok().map(|m| HostDir::of(&p, &m))
                        })
                        .collect();
                    v.sort_by(|a, b| a.name.cmp(&b.name));
                    v
                });
                match list {
                    Ok(v) => *entries = Some(v),
                    Err(e) => return fail_pair(c, e),
                }
            }
            let all = entries.as_ref().expect("read above");
            // Inferno returns what fits in one read; dite returns up to 64.
            let k = (all.len() - *next).min(64);
            let out = all[*next..*next + k].to_vec();
            *next += k;
            Ok(out)
        }
        Some(_) => Err(E_NOTDIR.into()),
        None => Err(E_BADFD.into()),
    };
    let batch = match batch {
        Ok(b) => b,
        Err(e) => return fail_pair(c, e),
    };
    let a = array::alloc(&mut c.vm.heap, &DIR, batch.len());
    for (i, d) in batch.iter().enumerate() {
        put_dir(c, array::elem(a, i), d);
    }
    match c.ret() {
        Some(at) => {
            at.set_w(batch.len() as i64);
            super::field(at, 8).put_p(&mut c.vm.heap, a);
        }
        None => c.vm.heap.dec(a),
    }
    Ok(Flow::Next)
}

/// `(-1, nil)` with the error string set.
fn fail_pair(c: &mut Call, e: String) -> Result<Flow, Trap> {
    c.set_err(e);
    if let Some(at) = c.ret() {
        at.set_w(-1);
        super::field(at, 8).put_p(&mut c.vm.heap, std::ptr::null_mut());
    }
    Ok(Flow::Next)
}

fn remove(c: &mut Call) -> Result<Flow, Trap> {
    let path = c.string();
    let r = match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir(&path),
        Ok(_) => std::fs::remove_file(&path),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => c.ret_int(0),
        Err(e) => return fail(c, os_error(&e)),
    }
    Ok(Flow::Next)
}

/// `chdir` changes the directory of the whole VM (dite has one namespace
/// until the hosted namespace arrives).
fn chdir(c: &mut Call) -> Result<Flow, Trap> {
    let path = c.string();
    match std::env::set_current_dir(&path) {
        Ok(()) => c.ret_int(0),
        Err(e) => return fail(c, os_error(&e)),
    }
    Ok(Flow::Next)
}

fn dup(c: &mut Call) -> Result<Flow, Trap> {
    let old = c.int();
    let new = c.int();
    let sys = &mut c.vm.sys;
    let Some(h) = sys.fds.get(&old).map(|e| e.host.share()) else { return fail(c, E_BADFD) };
    let h = match h {
        Ok(h) => h,
        Err(e) => return fail(c, os_error(&e)),
    };
    let fd = if new < 0 {
        sys.add(h)
    } else {
        if let Some(e) = sys.fds.insert(new, Entry { host: h, refs: 0 }) {
            e.host.close();
        }
        new
    };
    // The number stays open until closed by a Sys->FD for it dying.
    if let Some(e) = sys.fds.get_mut(&fd) {
        e.refs += 1;
    }
    c.ret_int(fd);
    Ok(Flow::Next)
}

fn fd2path(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    match fd_path(c, fd) {
        Ok(p) => {
            let p = if p.starts_with('/') || p.starts_with('#') {
                p
            } else {
                std::env::current_dir().map(|d| d.join(&p).to_string_lossy().into_owned()).unwrap_or(p)
            };
            c.ret_str(&p)
        }
        Err(e) => return fail_nil(c, e),
    }
    Ok(Flow::Next)
}

fn iounit(c: &mut Call) -> Result<Flow, Trap> {
    let _ = c.ptr();
    c.ret_int(0);
    Ok(Flow::Next)
}

fn pipe(c: &mut Call) -> Result<Flow, Trap> {
    let a = c.ptr();
    if array::len(a) < 2 {
        return Err(crate::exc(crate::EX_BOUNDS));
    }
    let p = Rc::new(RefCell::new(Pipe { open: [1, 1], ..Pipe::default() }));
    for end in 0..2 {
        let fd = c.vm.sys.add(Host::Pipe { pipe: p.clone(), end });
        let obj = new_fd(c, fd);
        array::elem(a, end).put_p(&mut c.vm.heap, obj);
    }
    c.ret_int(0);
    Ok(Flow::Next)
}

fn pctl(c: &mut Call) -> Result<Flow, Trap> {
    let _flags = c.int();
    let _keep = c.ptr();
    c.ret_int(c.pid as i64);
    Ok(Flow::Next)
}

/// Whether `c` is one of the runes of `delim`.
fn is_delim(c: u32, delim: Ptr) -> bool {
    (0..crate::string::len(delim)).any(|i| crate::string::rune(delim, i) == c)
}

fn tokenize(c: &mut Call) -> Result<Flow, Trap> {
    let s = c.ptr();
    let delim = c.ptr();
    let mut toks: Vec<(usize, usize)> = Vec::new();
    if !s.is_null() && !delim.is_null() {
        let n = crate::string::len(s);
        let mut first = 0;
        while first < n {
            while first < n && is_delim(crate::string::rune(s, first), delim) {
                first += 1;
            }
            let mut last = first;
            while last < n && !is_delim(crate::string::rune(s, last), delim) {
                last += 1;
            }
            if last > first {
                toks.push((first, last));
            }
            first = last;
        }
    }
    let heap = &mut c.vm.heap;
    let mut l: Ptr = std::ptr::null_mut();
    for &(a, b) in toks.iter().rev() {
        let t = crate::string::slice(heap, s, a, b);
        let cell = crate::list::cons(heap, 8, None, l);
        heap.dec(l);
        crate::list::head(cell).set_raw_p(t);
        l = cell;
    }
    match c.ret() {
        Some(at) => {
            at.set_w(toks.len() as i64);
            super::field(at, 8).put_p(&mut c.vm.heap, l);
        }
        None => c.vm.heap.dec(l),
    }
    Ok(Flow::Next)
}

/// Decodes one UTF-8 character at the start of `b`: the rune and its
/// length, or None when `b` ends inside it.
fn decode_one(b: &[u8]) -> Option<(u32, usize)> {
    let c0 = *b.first()? as u32;
    let (len, init) = match c0 {
        0..=0x7f => return Some((c0, 1)),
        0xc0..=0xdf => (2, c0 & 0x1f),
        0xe0..=0xef => (3, c0 & 0x0f),
        0xf0..=0xf7 => (4, c0 & 0x07),
        _ => return Some((crate::string::RUNE_ERROR, 1)),
    };
    let mut r = init;
    for i in 1..len {
        let &c = b.get(i)?;
        if c & 0xc0 != 0x80 {
            return Some((crate::string::RUNE_ERROR, 1));
        }
        r = (r << 6) | (c & 0x3f) as u32;
    }
    let min = [0, 0, 0x80, 0x800, 0x10000][len];
    if r < min || r > crate::string::RUNE_MAX || (0xd800..0xe000).contains(&r) {
        return Some((crate::string::RUNE_ERROR, 1));
    }
    Some((r, len))
}

fn byte2char(c: &mut Call) -> Result<Flow, Trap> {
    let a = c.ptr();
    let n = c.int();
    if a.is_null() || n < 0 || n as usize >= array::len(a) {
        return Err(crate::exc(crate::EX_BOUNDS));
    }
    let b = &array::bytes(a)[n as usize..];
    let (r, len, ok) = match decode_one(b) {
        None => (crate::string::RUNE_ERROR, 0, 0),
        Some((r, 1)) if r == crate::string::RUNE_ERROR && b[0] >= 0x80 => (r, 1, 0),
        Some((r, len)) => (r, len, 1),
    };
    if let Some(at) = c.ret() {
        at.set_w(r as i64);
        super::field(at, 8).set_w(len as i64);
        super::field(at, 16).set_w(ok);
    }
    Ok(Flow::Next)
}

fn char2byte(c: &mut Call) -> Result<Flow, Trap> {
    let ch = c.int();
    let a = c.ptr();
    let n = c.int();
    if a.is_null() || n < 0 || n as usize >= array::len(a) {
        return Err(crate::exc(crate::EX_BOUNDS));
    }
    let ch = if !(0..1 << 16).contains(&ch) { crate::string::RUNE_ERROR } else { ch as u32 };
    let mut enc = Vec::new();
    crate::string::encode_rune(&mut enc, ch);
    let room = array::len(a) - n as usize;
    let k = if enc.len() <= room {
        array::elems_mut(a)[n as usize..n as usize + enc.len()].copy_from_slice(&enc);
        enc.len()
    } else {
        0
    };
    c.ret_int(k as i64);
    Ok(Flow::Next)
}

fn utfbytes(c: &mut Call) -> Result<Flow, Trap> {
    let a = c.ptr();
    let n = c.int();
    if a.is_null() || n < 0 || n as usize > array::len(a) {
        return Err(crate::exc(crate::EX_BOUNDS));
    }
    let b = &array::bytes(a)[..n as usize];
    let mut i = 0;
    while i < b.len() {
        match decode_one(&b[i..]) {
            Some((_, len)) => i += len,
            None => break,
        }
    }
    c.ret_int(i as i64);
    Ok(Flow::Next)
}

/// Namespace operations need the hosted namespace (a later part of dite).
fn no_namespace(c: &mut Call) -> Result<Flow, Trap> {
    fail(c, E_NOTSUP)
}

/// Namespace operations returning a reference: nil.
fn no_namespace_nil(c: &mut Call) -> Result<Flow, Trap> {
    fail_nil(c, E_NOTSUP)
}

/// Namespace operations returning a tuple headed by an int: (-1, nil).
fn no_namespace_pair(c: &mut Call) -> Result<Flow, Trap> {
    fail_pair(c, E_NOTSUP.to_string())
}

pub static MODULE: Module = Module { name: "$Sys", funcs: &FUNCS };

static FUNCS: [Func; 43] = [
    Func::new("announce", 0x0b7c4ac0, "p", no_namespace_pair),
    Func::new("aprint", 0x77442d46, "p*", aprint),
    Func::new("bind", 0x66326d91, "ppw", no_namespace),
    Func::new("byte2char", 0x3d6094f9, "pw", byte2char),
    Func::new("char2byte", 0x2ba5ab41, "wpw", char2byte),
    Func::new("chdir", 0xc6935858, "p", chdir),
    Func::new("create", 0x54db77d9, "pww", create),
    Func::new("dial", 0x29e90174, "pp", no_namespace_pair),
    Func::new("dirread", 0x72210d71, "p", dirread),
    Func::new("dup", 0x6584767b, "ww", dup),
    Func::new("export", 0x6fc6dc03, "ppw", no_namespace),
    Func::new("fauth", 0x20ccc34b, "pp", no_namespace_nil),
    Func::new("fd2path", 0x749c6042, "p", fd2path),
    Func::new("fildes", 0x1478f993, "w", fildes),
    Func::new("file2chan", 0x9f34d686, "pp", no_namespace_nil),
    Func::new("fprint", 0xf46486c8, "pp*", fprint),
    Func::new("fstat", 0xda4499c2, "p", fstat),
    Func::new("fversion", 0xfe9c0a06, "pwp", no_namespace_pair),
    Func::new("fwstat", 0x50a6c7e0, "p(pppp(lww)wwwlww)", fwstat),
    Func::new("iounit", 0x5583b730, "p", iounit),
    Func::new("listen", 0xb97416e0, "(ppp)", no_namespace_pair),
    Func::new("millisec", 0x616977e8, "", millisec),
    Func::new("mount", 0x74c17b3a, "ppwpwp", no_namespace),
    Func::new("open", 0x8f477f99, "pw", open),
    Func::new("pctl", 0x05df27fb, "wp", pctl),
    Func::new("pipe", 0x1f2c52ea, "p", pipe),
    Func::new("pread", 0x09d8aac6, "ppwl", pread),
    Func::new("print", 0xac849033, "p*", print),
    Func::new("pwrite", 0x09d8aac6, "ppwl", pwrite),
    Func::new("read", 0x7cfef557, "ppw", read),
    Func::new("readn", 0x7cfef557, "ppw", readn),
    Func::new("remove", 0xc6935858, "p", remove),
    Func::new("seek", 0xaeccaddb, "plw", seek),
    Func::new("sleep", 0xe67bf126, "w", sleep),
    Func::new("sprint", 0x4c0624b6, "p*", sprint),
    Func::new("stat", 0x319328dd, "p", stat),
    Func::new("stream", 0xb9e8f9ea, "ppw", no_namespace),
    Func::new("tokenize", 0x57338f20, "pp", tokenize),
    Func::new("unmount", 0x21e337e3, "pp", no_namespace),
    Func::new("utfbytes", 0x01d4a1f4, "pw", utfbytes),
    Func::new("werrstr", 0xc6935858, "p", werrstr),
    Func::new("write", 0x7cfef557, "ppw", write),
    Func::new("wstat", 0x56b02096, "p(pppp(lww)wwwlww)", wstat),
];
