//! `$Sys` over the host: files, formatting, time, tokenizing.
//!
//! Paths are host paths, resolved against one current directory that the
//! whole VM shares (`chdir` changes it for every thread until the hosted
//! namespace gives each process its own). File descriptors are numbers in
//! one table, also VM-wide; each `Sys->FD` object holds a reference to its
//! number, released when the object dies, and a number is closed when its
//! last reference goes.
//!
//! Blocking: host files are read synchronously, so a read of a slow file
//! (a FIFO, a device) stops the whole VM. An in-VM pipe and standard input
//! block only the calling Dis thread: the call returns [`Flow::Wait`] after
//! recording the thread among the pipe's (or standard input's) waiters;
//! the interpreter parks the thread with its frame and pc left on the call,
//! and whatever changes the pipe (a write, a read, an end closing) or
//! brings input hands the waiters to [`SysState::woken`], which the
//! scheduler makes ready, so the call runs again. Standard input is read
//! by a host thread of its own ([`super::stdin`]); the scheduler polls it
//! while threads wait for it, and waits for it when no thread can run.
//! Calls that must keep progress across waits (`readn`, `stream`) keep it
//! per thread in `SysState::progress`.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Seek, SeekFrom, Write};
use std::rc::Rc;

use super::fmt::{self, Args};
use super::{results, Call, Flow, Func, Module};
use crate::heap::{Heap, Ptr};
use crate::mem::obj;
use crate::string::{char_to_rune, full_rune, RUNE_ERROR, UTF_MAX};
use crate::types::{Kind, Type};
use crate::{array, Trap};

/// What a descriptor number refers to.
pub enum Host {
    Stdin,
    Stdout,
    Stderr,
    File {
        file: std::fs::File,
        /// The absolute, cleaned host path (`fd2path`).
        path: String,
        /// `ORCLOSE`: remove the file when the descriptor closes.
        remove_on_close: bool,
    },
    /// A directory opened for reading its entries.
    Dir {
        path: String,
        entries: Option<Vec<HostDir>>,
        next: usize,
        remove_on_close: bool,
    },
    /// One end of an in-VM pipe.
    Pipe {
        pipe: Rc<RefCell<Pipe>>,
        end: usize,
    },
}

/// How many bytes a pipe holds before writers wait (InferNode's
/// `pipeqsize`); also its `iounit`.
pub const PIPE_LIMIT: usize = 32 * 1024;

/// A pipe: what is written to one end is read from the other. As in
/// Inferno, each write is a block and a read returns from one block only
/// (the rest of it stays for the next read); an empty write makes a read
/// return 0.
#[derive(Default)]
pub struct Pipe {
    /// Blocks waiting to be read at each end.
    queued: [VecDeque<Vec<u8>>; 2],
    /// Descriptors open on each end.
    open: [usize; 2],
    /// Threads waiting for the pipe to change.
    waiters: Vec<i32>,
}

impl Pipe {
    /// Bytes waiting at `end`.
    fn bytes(&self, end: usize) -> usize {
        self.queued[end].iter().map(|b| b.len()).sum()
    }

    /// Records `pid` as waiting for a change.
    fn park(&mut self, pid: i32) {
        if !self.waiters.contains(&pid) {
            self.waiters.push(pid);
        }
    }
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
            Host::Dir { path, entries, next, .. } => Host::Dir {
                path: path.clone(),
                entries: entries.clone(),
                next: *next,
                remove_on_close: false,
            },
            Host::Pipe { pipe, end } => {
                pipe.borrow_mut().open[*end] += 1;
                Host::Pipe { pipe: pipe.clone(), end: *end }
            }
        })
    }

    /// Closes the descriptor; threads waiting on it go to `woken`.
    fn close(self, woken: &mut Vec<i32>) {
        match self {
            Host::Pipe { pipe, end } => {
                let mut p = pipe.borrow_mut();
                p.open[end] -= 1;
                if p.open[end] == 0 {
                    // Nobody reads this end any more.
                    p.queued[end].clear();
                }
                woken.append(&mut p.waiters);
            }
            Host::File { path, remove_on_close: true, .. } => {
                let _ = std::fs::remove_file(path);
            }
            Host::Dir { path, remove_on_close: true, .. } => {
                let _ = std::fs::remove_dir(path);
            }
            _ => {}
        }
    }
}

struct Entry {
    host: Host,
    /// `Sys->FD` objects holding it.
    refs: usize,
    /// Held by the process whatever objects exist: 0, 1 and 2, and the
    /// numbers `dup` makes.
    held: bool,
}

/// The host-facing state of `$Sys`.
pub struct SysState {
    fds: HashMap<i64, Entry>,
    /// `Sys->FD` objects still alive for numbers that were closed under
    /// them (by `dup` onto the number, or `pctl(NEWFD)`): their deaths
    /// must not release the number's next occupant. (Inferno's FD objects
    /// remember their descriptor table instead.)
    orphans: HashMap<i64, usize>,
    /// The current directory (absolute, cleaned): VM-wide, see the module
    /// comment.
    cwd: String,
    /// Threads a pipe change or input has woken; the scheduler makes them
    /// ready.
    pub woken: Vec<i32>,
    /// Descriptor 0's input (every `Host::Stdin` descriptor reads it).
    pub stdin: super::stdin::Stdin,
    /// Per-thread progress of a call that waits part way (`readn`,
    /// `stream`, a write waiting for a full pipe to drain).
    progress: HashMap<i32, usize>,
    /// The size of the descriptor table, which grows as Inferno's does,
    /// `DELTAFD` at a time: `dup` to a number beyond the next step fails.
    nfd: i64,
    /// `Math->FPcontrol` and `FPstatus` words.
    pub fp_control: i64,
    pub fp_status: i64,
}

impl Default for SysState {
    fn default() -> Self {
        let mut fds = HashMap::new();
        fds.insert(0, Entry { host: Host::Stdin, refs: 0, held: true });
        fds.insert(1, Entry { host: Host::Stdout, refs: 0, held: true });
        fds.insert(2, Entry { host: Host::Stderr, refs: 0, held: true });
        let cwd = std::env::current_dir().map_or_else(|_| "/".into(), |d| d.to_string_lossy().into_owned());
        SysState {
            fds,
            orphans: HashMap::new(),
            cwd: clean(&cwd),
            woken: Vec::new(),
            stdin: Default::default(),
            progress: HashMap::new(),
            nfd: DELTAFD,
            fp_control: super::math::FP_CONTROL,
            fp_status: 0,
        }
    }
}

impl SysState {
    /// Drops the references of `Sys->FD` objects that died.
    pub fn close_released(&mut self, heap: &mut Heap) {
        for fd in heap.released_fds.drain(..) {
            if let Some(k) = self.orphans.get_mut(&fd) {
                *k -= 1;
                if *k == 0 {
                    self.orphans.remove(&fd);
                }
                continue;
            }
            if let Some(e) = self.fds.get_mut(&fd) {
                e.refs = e.refs.saturating_sub(1);
                if e.refs == 0 && !e.held {
                    if let Some(e) = self.fds.remove(&fd) {
                        e.host.close(&mut self.woken);
                    }
                }
            }
        }
    }

    /// Closes descriptor `fd` now, whatever holds it.
    fn close_now(&mut self, fd: i64) {
        if let Some(e) = self.fds.remove(&fd) {
            if e.refs > 0 {
                *self.orphans.entry(fd).or_default() += e.refs;
            }
            e.host.close(&mut self.woken);
        }
    }

    /// Puts `host` at number `fd`, held by the process, closing what was there.
    fn put(&mut self, fd: i64, host: Host) {
        self.close_now(fd);
        self.fds.insert(fd, Entry { host, refs: 0, held: true });
    }

    /// The host path for a module path a program loads.
    pub fn resolve(&self, path: &str) -> String {
        self.host_path(path)
    }

    /// A path resolved against the current directory and cleaned.
    pub fn host_path(&self, path: &str) -> String {
        if path.starts_with('/') {
            clean(path)
        } else {
            clean(&format!("{}/{}", self.cwd, path))
        }
    }

    /// The current directory.
    pub fn cwd(&self) -> &str {
        &self.cwd
    }

    /// Adds an entry at the lowest free number.
    pub fn add(&mut self, host: Host) -> i64 {
        // Numbers with orphans stay unused until those objects die, so
        // every death is charged to the right number.
        let fd = (0..)
            .find(|n| !self.fds.contains_key(n) && !self.orphans.contains_key(n))
            .expect("a free descriptor");
        while fd >= self.nfd {
            self.nfd += DELTAFD;
        }
        self.fds.insert(fd, Entry { host, refs: 0, held: false });
        fd
    }

    /// Whether number `fd` can be used by `dup`, growing the table a step
    /// if need be.
    fn grow(&mut self, fd: i64) -> bool {
        if fd < self.nfd {
            return true;
        }
        let n = (self.nfd + DELTAFD).min(MAXNFD);
        if fd >= n {
            return false;
        }
        self.nfd = n;
        true
    }

    /// Whether threads wait for standard input.
    pub fn stdin_waiting(&self) -> bool {
        self.stdin.waiting()
    }

    /// Wakes the threads waiting for standard input if some has come.
    pub fn poll_stdin(&mut self) {
        self.stdin.poll(&mut self.woken);
    }

    /// Waits at most `timeout` (`None`: as long as it takes) for standard
    /// input, and wakes the threads waiting for it if some came.
    pub fn wait_stdin(&mut self, timeout: Option<std::time::Duration>) {
        self.stdin.wait(timeout, &mut self.woken);
    }

    pub fn host(&mut self, fd: i64) -> Option<&mut Host> {
        self.fds.get_mut(&fd).map(|e| &mut e.host)
    }
}

/// The descriptor table's growth step and limit (Inferno's).
const DELTAFD: i64 = 20;
const MAXNFD: i64 = 4000;

/// Cleans an absolute path lexically as Inferno's `cleanname` does:
/// no empty, `.` or `..` elements (`..` at the root stays at the root).
pub fn clean(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for e in path.split('/') {
        match e {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            e => out.push(e),
        }
    }
    format!("/{}", out.join("/"))
}

/// The type of `Sys->FD` objects: `adt { fd: int; }`.
pub static FD: Type = Type::new(8, &[], Kind::Fd);

/// A new `Sys->FD` object for descriptor `fd` (taking a reference to it).
pub fn new_fd(c: &mut Call, fd: i64) -> Ptr {
    if let Some(e) = c.vm.sys.fds.get_mut(&fd) {
        e.refs += 1;
    }
    let p = c.vm.heap.alloc(&FD, 0);
    obj(p).set_w(fd);
    p
}

/// The descriptor number of a `Sys->FD` argument (-1 for nil, as
/// Inferno's `fdchk`). A `ref Sys->FD` a program made itself works too.
pub fn fd_of(p: Ptr) -> Option<i64> {
    (!p.is_null() && Heap::type_of(p).size >= 8).then(|| obj(p).w())
}

/// What a write did.
enum Wrote {
    Bytes(usize),
    /// A full pipe: the thread waits (it is recorded on the pipe).
    Wait,
}

/// Writes bytes to a descriptor; the error string on failure. `force`
/// writes to a pipe however full it is.
fn write_fd(c: &mut Call, fd: i64, b: &[u8], force: bool) -> Result<Wrote, String> {
    let vm = &mut *c.vm;
    match vm.sys.fds.get_mut(&fd).map(|e| &mut e.host) {
        Some(Host::Stdout) => vm.out.write_all(b).map(|_| Wrote::Bytes(b.len())).map_err(|e| os_error(&e)),
        Some(Host::Stderr) => {
            let _ = vm.out.flush();
            std::io::stderr().write_all(b).map(|_| Wrote::Bytes(b.len())).map_err(|e| os_error(&e))
        }
        Some(Host::File { file, .. }) => file.write(b).map(Wrote::Bytes).map_err(|e| os_error(&e)),
        Some(Host::Pipe { pipe, end }) => {
            // As Inferno's queues: the block goes in, then the writer
            // waits while the pipe is over its limit. Coming back from
            // that wait, the count is in `progress`.
            let mut p = pipe.borrow_mut();
            let other = 1 - *end;
            let full = |p: &Pipe| !force && p.open[other] > 0 && p.bytes(other) >= PIPE_LIMIT;
            if !force {
                if let Some(n) = vm.sys.progress.remove(&c.pid) {
                    if full(&p) {
                        vm.sys.progress.insert(c.pid, n);
                        p.park(c.pid);
                        return Ok(Wrote::Wait);
                    }
                    return Ok(Wrote::Bytes(n));
                }
            }
            if p.open[other] == 0 {
                return Err(E_PIPE.into());
            }
            p.queued[other].push_back(b.to_vec());
            vm.sys.woken.append(&mut p.waiters);
            if full(&p) {
                vm.sys.progress.insert(c.pid, b.len());
                p.park(c.pid);
                return Ok(Wrote::Wait);
            }
            Ok(Wrote::Bytes(b.len()))
        }
        Some(Host::Dir { .. }) => Err(E_ISDIR.into()),
        Some(Host::Stdin) => Err(E_PERM.into()),
        None => Err(E_BADFD.into()),
    }
}

/// Ends a write-family call: the count, -1 with the error string set, a
/// wait, or — writing to a pipe nobody reads — Inferno's exception.
fn finish_write(c: &mut Call, r: Result<Wrote, String>) -> Result<Flow, Trap> {
    match r {
        Ok(Wrote::Bytes(n)) => c.ret_int(n as i64),
        Ok(Wrote::Wait) => return Ok(Flow::Wait),
        Err(e) if e == E_PIPE => {
            c.set_err(E_PIPE);
            c.ret_int(-1);
            return Err(crate::exc(E_PIPE));
        }
        Err(e) => return fail(c, e),
    }
    Ok(Flow::Next)
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
    fn string(&mut self) -> Vec<u8> {
        crate::string::to_utf8(self.ptr_of(&crate::string::STRING))
    }
}

/// Formats the variadic tail of a print-family call.
fn formatted(c: &mut Call) -> Vec<u8> {
    let f = crate::string::to_utf8(c.ptr_of(&crate::string::STRING));
    let err = c.vm.errstr(c.pid).to_string();
    fmt::format(&f, c, &err)
}

fn print(c: &mut Call) -> Result<Flow, Trap> {
    let s = formatted(c);
    let r = write_fd(c, 1, &s, false);
    finish_write(c, r)
}

fn fprint(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let s = formatted(c);
    let r = match fd {
        Some(fd) => write_fd(c, fd, &s, false),
        None => Err(E_BADFD.into()),
    };
    finish_write(c, r)
}

/// `sprint`: as Inferno, the text up to its first NUL (the result is made
/// from a C string).
fn sprint(c: &mut Call) -> Result<Flow, Trap> {
    let s = formatted(c);
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    let p = crate::string::from_utf8(c.heap(), &s[..end]);
    c.ret_ptr(p);
    Ok(Flow::Next)
}

fn aprint(c: &mut Call) -> Result<Flow, Trap> {
    let s = formatted(c);
    let a = array::from_bytes(c.heap(), &s);
    c.ret_ptr(a);
    Ok(Flow::Next)
}

/// `fildes(n)`: as Inferno, a new descriptor for what `n` refers to,
/// closed when the returned object dies.
fn fildes(c: &mut Call) -> Result<Flow, Trap> {
    let fd = c.int();
    let shared = c.vm.sys.fds.get(&fd).map(|e| e.host.share());
    match shared {
        Some(Ok(h)) => {
            let n = c.vm.sys.add(h);
            let p = new_fd(c, n);
            c.ret_ptr(p);
            Ok(Flow::Next)
        }
        Some(Err(e)) => fail_nil(c, os_error(&e)),
        None => fail_nil(c, E_BADFD),
    }
}

fn millisec(c: &mut Call) -> Result<Flow, Trap> {
    let ms = c.vm.start.elapsed().as_millis() as i64;
    c.ret_int(ms as i32 as i64);
    Ok(Flow::Next)
}

fn sleep(c: &mut Call) -> Result<Flow, Trap> {
    let ms = c.int();
    c.ret_int(0);
    Ok(if ms > 0 { Flow::Sleep(ms as u64) } else { Flow::Next })
}

/// An error string cut to fit `ERRMAX` bytes as Inferno's `kstrcpy`
/// cuts it: what fits before the last character that would, then "...".
fn errmax(s: String) -> String {
    if s.len() < ERRMAX {
        return s;
    }
    let b = s.as_bytes();
    let mut k = ERRMAX - 5;
    while k > 0 && b[k] & 0xc0 == 0x80 {
        k -= 1;
    }
    format!("{}...", String::from_utf8_lossy(&b[..k]))
}

fn werrstr(c: &mut Call) -> Result<Flow, Trap> {
    let s = c.string();
    c.set_err(errmax(s));
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
const E_BADUSE: &str = "inappropriate use of fd";
const E_BADARG: &str = "bad arg in system call";
const E_NEGOFF: &str = "negative i/o offset";
const E_STREAM: &str = "seek on a stream";
const E_PIPE: &str = "write on closed pipe";
const E_SHORTSTAT: &str = "stat buffer too small";
const E_NOTSUP: &str = "not supported in dite without a namespace";
/// Error strings are at most this long, less one (sys.m's `ERRMAX`).
const ERRMAX: usize = 128;

/// A host error in Inferno's words where it has them, else the host's
/// (as emu's `oserrstr`: "Directory not empty").
fn os_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => E_NONEXIST.into(),
        K::AlreadyExists => E_EXIST.into(),
        K::PermissionDenied => E_PERM.into(),
        K::IsADirectory => E_ISDIR.into(),
        K::NotADirectory => E_NOTDIR.into(),
        _ => {
            let s = e.to_string();
            // "No such device (os error 19)" → "No such device"
            s.split(" (os error").next().unwrap_or(&s).to_string()
        }
    }
}

/// The error for a path that did not resolve, as Inferno's `namec` words
/// it: the prefix of `aname` up to the element that failed, quoted, and
/// why (`'/tmp/x' does not exist`, `'/tmp/f' not a directory`).
fn path_error(sys: &SysState, aname: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    if !matches!(e.kind(), K::NotFound | K::NotADirectory) {
        return os_error(e);
    }
    let b = aname.as_bytes();
    let mut i = 0;
    let mut first = true;
    loop {
        while i < b.len() && b[i] == b'/' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut j = i;
        while j < b.len() && b[j] != b'/' {
            j += 1;
        }
        let more = j < b.len();
        match std::fs::metadata(sys.host_path(&aname[..j])) {
            // A walk that fails at its first element reports the file
            // server's error; one that fails later, how far it got.
            Err(_) if first => return name_error(aname, j, E_NONEXIST),
            Err(_) => return name_error(aname, j, "does not exist"),
            Ok(m) if more && !m.is_dir() => return name_error(aname, j, E_NOTDIR),
            Ok(_) => {}
        }
        if &aname[i..j] != "." {
            first = false;
        }
        i = j;
    }
    os_error(e)
}

/// `'prefix' why`, the prefix shortened to its last elements when long.
fn name_error(aname: &str, len: usize, why: &str) -> String {
    let shown = match aname[..len].rfind('/') {
        Some(k) if len >= ERRMAX / 3 && k > 0 => format!("...{}", &aname[k..len]),
        _ => aname[..len].to_string(),
    };
    errmax(format!("'{}' {why}", shown.replace('\'', "''")))
}

// Open modes and permission bits of sys.m.
const OWRITE: i64 = 1;
const ORDWR: i64 = 2;
const OTRUNC: i64 = 16;
const ORCLOSE: i64 = 64;
const OEXCL: i64 = 0x1000;
const DMDIR: i64 = 0x8000_0000;
const QTDIR: i64 = 0x80;
// pctl flags.
const NEWFD: i64 = 1;
const FORKFD: i64 = 2;

/// A host file's metadata as a `Sys->Dir`.
#[derive(Clone, Debug)]
pub struct HostDir {
    name: String,
    uid: String,
    gid: String,
    muid: String,
    qid_path: i64,
    qid_vers: i64,
    qid_type: i64,
    mode: i64,
    atime: i64,
    mtime: i64,
    length: i64,
    dtype: i64,
    dev: i64,
}

impl HostDir {
    /// `path` is absolute and clean; the name is its last element.
    fn of(path: &str, md: &std::fs::Metadata) -> HostDir {
        use std::os::unix::fs::MetadataExt;
        let name = match path.rfind('/') {
            Some(k) if k + 1 < path.len() => path[k + 1..].to_string(),
            _ => "/".to_string(),
        };
        let dir = md.is_dir();
        let uid = user_name(md.uid());
        HostDir {
            name,
            muid: uid.clone(),
            uid,
            gid: group_name(md.gid()),
            qid_path: md.ino() as i64,
            qid_vers: md.mtime() as i32 as i64,
            qid_type: if dir { QTDIR } else { 0 },
            mode: (md.mode() & 0o777) as i64 | if dir { DMDIR } else { 0 },
            atime: md.atime() as i32 as i64,
            mtime: md.mtime() as i32 as i64,
            length: if dir { 0 } else { md.len() as i64 },
            dtype: 'U' as i64,
            dev: md.dev() as i32 as i64,
        }
    }

    /// A device file (console, pipe end) with no host metadata.
    fn device(name: &str, mode: i64, length: i64, dtype: char) -> HostDir {
        HostDir {
            name: name.to_string(),
            uid: String::new(),
            gid: String::new(),
            muid: String::new(),
            qid_path: 0,
            qid_vers: 0,
            qid_type: 0,
            mode,
            atime: 0,
            mtime: 0,
            length,
            dtype: dtype as i64,
            dev: 0,
        }
    }

    /// The entry in 9P's stat format, as reading a directory returns it.
    fn pack(&self) -> Vec<u8> {
        let mut b = vec![0, 0];
        b.extend((self.dtype as u16).to_le_bytes());
        b.extend((self.dev as u32).to_le_bytes());
        b.push(self.qid_type as u8);
        b.extend((self.qid_vers as u32).to_le_bytes());
        b.extend((self.qid_path as u64).to_le_bytes());
        b.extend((self.mode as u32).to_le_bytes());
        b.extend((self.atime as u32).to_le_bytes());
        b.extend((self.mtime as u32).to_le_bytes());
        b.extend((self.length as u64).to_le_bytes());
        for s in [&self.name, &self.uid, &self.gid, &self.muid] {
            b.extend((s.len() as u16).to_le_bytes());
            b.extend(s.as_bytes());
        }
        let n = (b.len() - 2) as u16;
        b[..2].copy_from_slice(&n.to_le_bytes());
        b
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

/// The entries of a host directory, sorted by name.
fn read_entries(path: &str) -> Result<Vec<HostDir>, String> {
    let rd = std::fs::read_dir(path).map_err(|e| os_error(&e))?;
    let mut v: Vec<HostDir> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = format!("{}/{}", path.trim_end_matches('/'), e.file_name().to_string_lossy());
            std::fs::metadata(&p).ok().map(|m| HostDir::of(&p, &m))
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

/// Layout of `Sys->Dir` in 64-bit Dis: four strings, the Qid (path, vers,
/// qtype), mode, atime, mtime, length, dtype, dev.
pub static DIR: Type = Type::new(104, &[0, 8, 16, 24], Kind::Record);

/// Stores `d` as a `Sys->Dir` at `at`, releasing what was there.
fn put_dir(c: &mut Call, at: crate::mem::Addr, d: &HostDir) {
    let heap = &mut c.vm.heap;
    for (off, s) in [(0, &d.name), (8, &d.uid), (16, &d.gid), (24, &d.muid)] {
        let p = if s.is_empty() { std::ptr::null_mut() } else { crate::string::from_str(heap, s) };
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
        (88, d.dtype),
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
fn open_host(sys: &SysState, aname: &str, mode: i64, create: Option<i64>) -> Result<Host, String> {
    let path = sys.host_path(aname);
    let err = |e: std::io::Error| path_error(sys, aname, &e);
    let md = std::fs::metadata(&path);
    let rclose = mode & ORCLOSE != 0;
    let is_dir = md.as_ref().is_ok_and(|m| m.is_dir());
    if md.is_ok() && !is_dir && aname.ends_with('/') {
        return Err(name_error(aname, aname.trim_end_matches('/').len(), E_NOTDIR));
    }
    if let Some(perm) = create {
        if md.is_ok() && mode & OEXCL != 0 {
            return Err(E_EXIST.into());
        }
        if perm & DMDIR != 0 {
            if md.is_ok() {
                // Inferno opens it with OTRUNC, which a directory refuses.
                return Err(E_PERM.into());
            }
            if mode & 3 != 0 {
                return Err(E_ISDIR.into());
            }
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().mode((perm & 0o777) as u32).create(&path).map_err(err)?;
            return Ok(Host::Dir { path, entries: None, next: 0, remove_on_close: rclose });
        }
        if is_dir {
            return Err(E_PERM.into());
        }
    } else if is_dir {
        if mode & 3 == OWRITE || mode & 3 == ORDWR || mode & OTRUNC != 0 {
            return Err(E_PERM.into());
        }
        return Ok(Host::Dir { path, entries: None, next: 0, remove_on_close: rclose });
    }
    let mut o = std::fs::OpenOptions::new();
    match mode & 3 {
        OWRITE => o.write(true),
        ORDWR => o.read(true).write(true),
        _ => o.read(true),
    };
    if let Some(perm) = create {
        use std::os::unix::fs::OpenOptionsExt;
        o.write(true);
        if mode & OEXCL != 0 {
            o.create_new(true);
        } else {
            o.create(true).truncate(true);
        }
        o.mode((perm & 0o777) as u32);
    } else if mode & OTRUNC != 0 {
        o.write(true).truncate(true);
    }
    let file = o.open(&path).map_err(err)?;
    Ok(Host::File { file, path, remove_on_close: rclose })
}

/// `open` and `create`: a new `Sys->FD`, or nil with the error string.
fn open_call(c: &mut Call, create: bool) -> Result<Flow, Trap> {
    let path = c.string();
    let mode = c.int();
    let perm = if create { Some(c.int()) } else { None };
    let existed = std::fs::symlink_metadata(c.vm.sys.host_path(&path)).is_ok();
    match open_host(&c.vm.sys, &path, mode, perm) {
        Ok(h) => {
            if create && !existed {
                // Inferno's create looks for the file first and leaves
                // that walk's error behind when it makes a new one.
                c.set_err(E_NONEXIST);
            }
            let fd = c.vm.sys.add(h);
            let p = new_fd(c, fd);
            c.ret_ptr(p);
            Ok(Flow::Next)
        }
        Err(e) => fail_nil(c, e),
    }
}

fn open(c: &mut Call) -> Result<Flow, Trap> {
    open_call(c, false)
}

fn create(c: &mut Call) -> Result<Flow, Trap> {
    open_call(c, true)
}

/// What a read found.
enum Got {
    Bytes(Vec<u8>),
    /// An empty pipe whose other end is open, or no input yet: the thread
    /// waits (it is recorded on the pipe or standard input).
    Wait,
}

/// Reads up to `n` bytes from `fd`, at `at` for `pread` (pipes and
/// devices have no offsets and ignore it, as Inferno's do).
fn read_fd(c: &mut Call, fd: i64, n: usize, at: Option<u64>) -> Result<Got, String> {
    let vm = &mut *c.vm;
    let _ = vm.out.flush();
    let SysState { fds, stdin, woken, .. } = &mut vm.sys;
    let Some(host) = fds.get_mut(&fd).map(|e| &mut e.host) else {
        return Err(E_BADFD.into());
    };
    let mut buf = vec![0u8; n];
    let k = match host {
        Host::Stdin => return Ok(stdin.read(c.pid, n).map_or(Got::Wait, Got::Bytes)),
        Host::Stdout | Host::Stderr => return Err(E_BADUSE.into()),
        Host::File { file, .. } => match at {
            Some(off) => {
                use std::os::unix::fs::FileExt;
                let k = file.read_at(&mut buf, off).map_err(|e| os_error(&e))?;
                // InferNode's pread moves the descriptor's offset on too.
                let _ = file.seek(SeekFrom::Current(k as i64));
                k
            }
            None => file.read(&mut buf).map_err(|e| os_error(&e))?,
        },
        Host::Dir { path, entries, next, .. } => {
            if entries.is_none() {
                *entries = Some(read_entries(path)?);
            }
            let all = entries.as_ref().expect("read above");
            let mut out = Vec::new();
            while let Some(d) = all.get(*next) {
                let b = d.pack();
                if out.len() + b.len() > n {
                    if out.is_empty() {
                        return Err(E_SHORTSTAT.into());
                    }
                    break;
                }
                out.extend(b);
                *next += 1;
            }
            return Ok(Got::Bytes(out));
        }
        Host::Pipe { pipe, end } => {
            let mut p = pipe.borrow_mut();
            let Some(mut block) = p.queued[*end].pop_front() else {
                if p.open[1 - *end] == 0 {
                    return Ok(Got::Bytes(Vec::new()));
                }
                p.park(c.pid);
                return Ok(Got::Wait);
            };
            if block.len() > n {
                let rest = block.split_off(n);
                p.queued[*end].push_front(rest);
            }
            // Writers waiting for room may go on.
            woken.append(&mut p.waiters);
            return Ok(Got::Bytes(block));
        }
    };
    buf.truncate(k);
    Ok(Got::Bytes(buf))
}

/// Shared by read, readn and pread: `(fd, buf, n[, offset])`.
fn read_into(c: &mut Call, offset: bool, all: bool) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let buf = c.array(1)?;
    let n = c.int();
    let at = if offset { Some(c.big()) } else { None };
    if buf.is_null() || n < 0 {
        c.ret_int(0);
        return Ok(Flow::Next);
    }
    let n = (n as usize).min(array::len(buf));
    let Some(fd) = fd else { return fail(c, E_BADFD) };
    if at.is_some_and(|o| o < 0) {
        return fail(c, E_NEGOFF);
    }
    // readn may have read part before it waited.
    let mut total = if all { c.vm.sys.progress.remove(&c.pid).unwrap_or(0) } else { 0 };
    while total < n {
        let got = read_fd(c, fd, n - total, at.map(|o| o as u64 + total as u64));
        match got {
            Ok(Got::Wait) => {
                if total > 0 {
                    c.vm.sys.progress.insert(c.pid, total);
                }
                return Ok(Flow::Wait);
            }
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

/// The first `n` bytes of a write's buffer (nil or `n < 0`: none, and the
/// call returns 0 as Inferno's does).
fn write_args(c: &mut Call) -> Result<(Option<i64>, Option<Vec<u8>>), Trap> {
    let fd = fd_of(c.ptr());
    let buf = c.array(1)?;
    let n = c.int();
    if buf.is_null() || n < 0 {
        return Ok((fd, None));
    }
    let n = (n as usize).min(array::len(buf));
    Ok((fd, Some(array::bytes(buf)[..n].to_vec())))
}

fn write(c: &mut Call) -> Result<Flow, Trap> {
    let (fd, b) = write_args(c)?;
    let Some(b) = b else {
        c.ret_int(0);
        return Ok(Flow::Next);
    };
    let Some(fd) = fd else { return fail(c, E_BADFD) };
    let r = write_fd(c, fd, &b, false);
    finish_write(c, r)
}

fn pwrite(c: &mut Call) -> Result<Flow, Trap> {
    let (fd, b) = write_args(c)?;
    let off = c.big();
    let Some(b) = b else {
        c.ret_int(0);
        return Ok(Flow::Next);
    };
    let Some(fd) = fd else { return fail(c, E_BADFD) };
    if off < 0 {
        return fail(c, E_NEGOFF);
    }
    let r = match c.vm.sys.host(fd) {
        Some(Host::File { file, .. }) => {
            use std::os::unix::fs::FileExt;
            file.write_at(&b, off as u64).map(Wrote::Bytes).map_err(|e| os_error(&e))
        }
        // Streams have no offsets.
        Some(_) => write_fd(c, fd, &b, false),
        None => Err(E_BADFD.into()),
    };
    finish_write(c, r)
}

fn seek(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let off = c.big();
    let whence = c.int();
    let r = match fd.and_then(|fd| c.vm.sys.host(fd)) {
        Some(Host::File { file, .. }) => {
            let base = match whence {
                0 => Ok(0),
                1 => file.stream_position().map(|p| p as i64).map_err(|e| os_error(&e)),
                2 => file.metadata().map(|m| m.len() as i64).map_err(|e| os_error(&e)),
                _ => Err(E_BADARG.to_string()),
            };
            base.and_then(|b| {
                let to = b.wrapping_add(off);
                if to < 0 {
                    return Err(E_NEGOFF.to_string());
                }
                file.seek(SeekFrom::Start(to as u64)).map_err(|e| os_error(&e))
            })
        }
        Some(Host::Dir { next, .. }) => {
            if whence == 0 && off == 0 {
                *next = 0;
                Ok(0)
            } else {
                Err(E_BADARG.to_string())
            }
        }
        Some(_) => Err(E_STREAM.to_string()),
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
    if let Err(e) = &r {
        c.set_err(e.clone());
    }
    let Some(at) = c.ret(&results::INT_DIR) else { return Ok(Flow::Next) };
    match r {
        Ok(d) => {
            at.set_w(0);
            put_dir(c, super::field(at, 8), &d);
        }
        Err(_) => {
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
    let aname = c.string();
    let path = c.vm.sys.host_path(&aname);
    let r = std::fs::metadata(&path)
        .map(|m| HostDir::of(&path, &m))
        .map_err(|e| path_error(&c.vm.sys, &aname, &e));
    ret_stat(c, r)
}

/// The name `fd2path` gives a descriptor.
fn fd_path(c: &mut Call, fd: Option<i64>) -> Result<String, String> {
    match fd.and_then(|fd| c.vm.sys.host(fd)) {
        Some(Host::File { path, .. } | Host::Dir { path, .. }) => Ok(path.clone()),
        Some(Host::Stdin | Host::Stdout | Host::Stderr) => Ok("#c/cons".into()),
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
        Some(Host::Stdin | Host::Stdout | Host::Stderr) => Ok(HostDir::device("cons", 0o666, 0, 'c')),
        Some(Host::Pipe { pipe, end }) => {
            let queued = pipe.borrow().bytes(*end) as i64;
            let name = if *end == 0 { "data" } else { "data1" };
            Ok(HostDir::device(name, 0o660, queued, '|'))
        }
        None => Err(E_BADFD.into()),
    };
    ret_stat(c, r)
}

/// `wstat` and `fwstat`: apply the fields of `d` that are not "don't
/// touch" (~0 and nil): length, mode, mtime and then name on the host.
/// The new path if the name changed.
fn apply_wstat(path: &str, d: crate::mem::Addr) -> Result<Option<String>, String> {
    let err = |e: std::io::Error| os_error(&e);
    let length = super::field(d, 80).w();
    if length != -1 {
        if length < 0 {
            return Err(E_BADARG.into());
        }
        let f = std::fs::OpenOptions::new().write(true).open(path).map_err(err)?;
        f.set_len(length as u64).map_err(err)?;
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
    let name =
        crate::interp::of_kind(super::field(d, 0).p(), &crate::string::STRING).map_err(|_| E_BADARG)?;
    let name = crate::string::to_string(name);
    if !name.is_empty() {
        if name.contains('/') || name == "." || name == ".." {
            return Err(E_BADARG.into());
        }
        let to = std::path::Path::new(path).with_file_name(&name);
        if to != std::path::Path::new(path) {
            if to.exists() {
                return Err(E_EXIST.into());
            }
            std::fs::rename(path, &to).map_err(err)?;
            return Ok(Some(to.to_string_lossy().into_owned()));
        }
    }
    Ok(None)
}

fn wstat(c: &mut Call) -> Result<Flow, Trap> {
    let aname = c.string();
    let d = c.arg_block(DIR.size, 8);
    let path = c.vm.sys.host_path(&aname);
    let r = match std::fs::metadata(&path) {
        Ok(_) => apply_wstat(&path, d),
        Err(e) => Err(path_error(&c.vm.sys, &aname, &e)),
    };
    match r {
        Ok(_) => c.ret_int(0),
        Err(e) => return fail(c, e),
    }
    Ok(Flow::Next)
}

fn fwstat(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let d = c.arg_block(DIR.size, 8);
    let r = match fd.and_then(|fd| c.vm.sys.host(fd)) {
        Some(Host::File { path, .. } | Host::Dir { path, .. }) => apply_wstat(path, d).map(|to| {
            if let Some(to) = to {
                *path = to;
            }
        }),
        Some(_) => Err(E_PERM.to_string()),
        None => Err(E_BADFD.to_string()),
    };
    match r {
        Ok(()) => c.ret_int(0),
        Err(e) => return fail(c, e),
    }
    Ok(Flow::Next)
}

fn dirread(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    let batch: Result<Vec<HostDir>, String> = match fd.and_then(|fd| c.vm.sys.host(fd)) {
        Some(Host::Dir { path, entries, next, .. }) => {
            if entries.is_none() {
                match read_entries(path) {
                    Ok(v) => *entries = Some(v),
                    Err(e) => return fail_pair(c, e),
                }
            }
            let all = entries.as_ref().expect("read above");
            // Inferno returns what one read of the directory gives; dite
            // returns up to 64 entries a call.
            let k = (all.len() - *next).min(64);
            let out = all[*next..*next + k].to_vec();
            *next += k;
            Ok(out)
        }
        // Inferno reads a plain file as directory entries: an empty one
        // has none.
        Some(Host::File { file, .. }) => match file.metadata() {
            Ok(m) if m.len() == 0 => Ok(Vec::new()),
            Ok(_) => Err(E_NOTDIR.into()),
            Err(e) => Err(os_error(&e)),
        },
        Some(_) => Err(E_NOTDIR.into()),
        None => Err(E_BADFD.into()),
    };
    let batch = match batch {
        Ok(b) => b,
        Err(e) => return fail_pair(c, e),
    };
    let Some(at) = c.ret(&results::INT_PTR) else { return Ok(Flow::Next) };
    at.set_w(batch.len() as i64);
    let a = if batch.is_empty() {
        std::ptr::null_mut()
    } else {
        let a = array::alloc(&mut c.vm.heap, &DIR, batch.len());
        for (i, d) in batch.iter().enumerate() {
            put_dir(c, array::elem(a, i), d);
        }
        a
    };
    super::field(at, 8).put_p(&mut c.vm.heap, a);
    Ok(Flow::Next)
}

/// `(-1, nil)` with the error string set.
fn fail_pair(c: &mut Call, e: String) -> Result<Flow, Trap> {
    c.set_err(e);
    if let Some(at) = c.ret(&results::INT_PTR) {
        at.set_w(-1);
        super::field(at, 8).put_p(&mut c.vm.heap, std::ptr::null_mut());
    }
    Ok(Flow::Next)
}

fn remove(c: &mut Call) -> Result<Flow, Trap> {
    let aname = c.string();
    let path = c.vm.sys.host_path(&aname);
    let r = match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir(&path),
        Ok(_) => std::fs::remove_file(&path),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => c.ret_int(0),
        Err(e) => {
            let e = path_error(&c.vm.sys, &aname, &e);
            return fail(c, e);
        }
    }
    Ok(Flow::Next)
}

/// `chdir` changes the directory of the whole VM (see the module comment).
fn chdir(c: &mut Call) -> Result<Flow, Trap> {
    let aname = c.string();
    let path = c.vm.sys.host_path(&aname);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => {
            c.vm.sys.cwd = path;
            c.ret_int(0);
        }
        Ok(_) => return fail(c, E_NOTDIR),
        Err(e) => {
            let e = path_error(&c.vm.sys, &aname, &e);
            return fail(c, e);
        }
    }
    Ok(Flow::Next)
}

fn dup(c: &mut Call) -> Result<Flow, Trap> {
    let old = c.int();
    let new = c.int();
    let sys = &mut c.vm.sys;
    let Some(h) = sys.fds.get(&old).map(|e| e.host.share()) else { return fail(c, E_BADFD) };
    if new < -1 || (new >= 0 && !sys.grow(new)) {
        return fail(c, E_BADFD);
    }
    if new == old {
        c.ret_int(new);
        return Ok(Flow::Next);
    }
    let h = match h {
        Ok(h) => h,
        Err(e) => return fail(c, os_error(&e)),
    };
    // The number stays open until `dup` puts something else there.
    let fd = if new < 0 {
        let fd = sys.add(h);
        if let Some(e) = sys.fds.get_mut(&fd) {
            e.held = true;
        }
        fd
    } else {
        sys.put(new, h);
        new
    };
    c.ret_int(fd);
    Ok(Flow::Next)
}

fn fd2path(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    match fd_path(c, fd) {
        Ok(p) => c.ret_str(&p),
        Err(e) => return fail_nil(c, e),
    }
    Ok(Flow::Next)
}

fn iounit(c: &mut Call) -> Result<Flow, Trap> {
    let fd = fd_of(c.ptr());
    match fd.and_then(|fd| c.vm.sys.host(fd)) {
        Some(Host::Pipe { .. }) => c.ret_int(PIPE_LIMIT as i64),
        Some(_) => c.ret_int(0),
        None => return fail(c, E_BADFD),
    }
    Ok(Flow::Next)
}

fn pipe(c: &mut Call) -> Result<Flow, Trap> {
    let a = c.array(8)?;
    if a.is_null() {
        return Err(crate::exc(crate::EX_NILREF));
    }
    if array::len(a) < 2 {
        return fail(c, E_BADARG);
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

/// The ints of a `list of int`.
fn int_list(mut l: Ptr) -> Vec<i64> {
    let mut v = Vec::new();
    // A list of ints has word heads (a hostile caller may pass another).
    while !l.is_null() && Heap::size_of(l) >= crate::list::HEAD + 8 {
        v.push(crate::list::head(l).w());
        l = crate::list::tail(l);
    }
    v
}

/// `pctl`: returns the pid. The descriptor table is the VM's, so `NEWFD`
/// (keep only the listed descriptors) and `FORKFD` (close the listed
/// ones) change it only while the caller is the only thread; namespace,
/// environment and group flags are accepted and change nothing yet.
fn pctl(c: &mut Call) -> Result<Flow, Trap> {
    let flags = c.int();
    let list = int_list(c.ptr_of(&crate::list::LIST));
    if c.vm.other_threads() == 0 {
        let sys = &mut c.vm.sys;
        if flags & NEWFD != 0 {
            let mut open: Vec<i64> = sys.fds.keys().copied().filter(|fd| !list.contains(fd)).collect();
            open.sort();
            for fd in open {
                sys.close_now(fd);
            }
        } else if flags & FORKFD != 0 {
            for fd in list {
                sys.close_now(fd);
            }
        }
    }
    c.ret_int(c.pid as i64);
    Ok(Flow::Next)
}

/// Whether `c` is one of the runes of `delim`.
fn is_delim(c: u32, delim: Ptr) -> bool {
    (0..crate::string::len(delim)).any(|i| crate::string::rune(delim, i) == c)
}

/// `tokenize`: the runs of `s` between delimiter runes, empty ones
/// skipped; nil for either argument gives `(0, nil)`.
fn tokenize(c: &mut Call) -> Result<Flow, Trap> {
    let s = c.ptr_of(&crate::string::STRING);
    let delim = c.ptr_of(&crate::string::STRING);
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
        let cell = crate::list::cons(heap, 8, Some(&crate::types::POINTER), l);
        heap.dec(l);
        crate::list::head(cell).set_raw_p(t);
        l = cell;
    }
    match c.ret(&results::INT_PTR) {
        Some(at) => {
            at.set_w(toks.len() as i64);
            super::field(at, 8).put_p(&mut c.vm.heap, l);
        }
        None => c.vm.heap.dec(l),
    }
    Ok(Flow::Next)
}

/// An index argument as Inferno reads it: a C int, compared unsigned.
fn index_arg(n: i64) -> u64 {
    n as i32 as i64 as u64
}

fn byte2char(c: &mut Call) -> Result<Flow, Trap> {
    let a = c.array(1)?;
    let n = index_arg(c.int());
    if a.is_null() || n >= array::len(a) as u64 {
        return Err(crate::exc(crate::EX_BOUNDS));
    }
    let b = &array::bytes(a)[n as usize..];
    let (r, len, ok) = if b[0] < 0x80 {
        (b[0] as u32, 1, 1)
    } else if b.len() >= UTF_MAX || full_rune(b) {
        match char_to_rune(b) {
            (RUNE_ERROR, 1) => (RUNE_ERROR, 1, 0),
            (r, w) => (r, w, 1),
        }
    } else {
        (RUNE_ERROR, 0, 0)
    };
    if let Some(at) = c.ret(&results::INT3) {
        at.set_w(r as i64);
        super::field(at, 8).set_w(len as i64);
        super::field(at, 16).set_w(ok);
    }
    Ok(Flow::Next)
}

fn char2byte(c: &mut Call) -> Result<Flow, Trap> {
    let ch = c.int() as i32;
    let a = c.array(1)?;
    let n = index_arg(c.int());
    if a.is_null() || n >= array::len(a) as u64 {
        return Err(crate::exc(crate::EX_BOUNDS));
    }
    let ch = if !(0..1 << 16).contains(&ch) { RUNE_ERROR } else { ch as u32 };
    let enc: Vec<u8> = match ch {
        0..=0x7f => vec![ch as u8],
        0x80..=0x7ff => vec![0xc0 | (ch >> 6) as u8, 0x80 | (ch & 0x3f) as u8],
        _ => vec![0xe0 | (ch >> 12) as u8, 0x80 | ((ch >> 6) & 0x3f) as u8, 0x80 | (ch & 0x3f) as u8],
    };
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

/// `utfbytes`: how many of the first `n` bytes are whole characters (bad
/// bytes count as characters; an incomplete one at the end does not).
fn utfbytes(c: &mut Call) -> Result<Flow, Trap> {
    let a = c.array(1)?;
    let n = index_arg(c.int());
    if a.is_null() || n > array::len(a) as u64 {
        return Err(crate::exc(crate::EX_BOUNDS));
    }
    let b = &array::bytes(a)[..n as usize];
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest[0] < 0x80 {
            i += 1;
        } else if rest.len() >= UTF_MAX || full_rune(rest) {
            i += char_to_rune(rest).1;
        } else {
            break;
        }
    }
    c.ret_int(i as i64);
    Ok(Flow::Next)
}

/// `stream(src, dst, bufsiz)`: copies until `src` ends or a write fails;
/// the bytes copied. Waiting on a pipe keeps the count in `progress`.
fn stream(c: &mut Call) -> Result<Flow, Trap> {
    let src = fd_of(c.ptr()).unwrap_or(-1);
    let dst = fd_of(c.ptr()).unwrap_or(-1);
    let bufsiz = c.int();
    let mut total = c.vm.sys.progress.remove(&c.pid).unwrap_or(0);
    if bufsiz > 0 {
        let chunk = (bufsiz as usize).min(1 << 20);
        loop {
            match read_fd(c, src, chunk, None) {
                Ok(Got::Wait) => {
                    c.vm.sys.progress.insert(c.pid, total);
                    return Ok(Flow::Wait);
                }
                Ok(Got::Bytes(b)) if !b.is_empty() => match write_fd(c, dst, &b, true) {
                    Ok(Wrote::Bytes(k)) if k == b.len() => total += k,
                    Err(e) => {
                        c.set_err(e);
                        break;
                    }
                    _ => break,
                },
                Ok(Got::Bytes(_)) => break,
                Err(e) => {
                    c.set_err(e);
                    break;
                }
            }
        }
    }
    c.ret_int(total as i64);
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

/// `dial`, `announce` and `listen` return `(int, Connection)`: -1 and a
/// Connection of nils.
fn no_network(c: &mut Call) -> Result<Flow, Trap> {
    c.set_err(E_NOTSUP);
    if let Some(at) = c.ret(&results::INT_CONNECTION) {
        at.set_w(-1);
        for off in [8, 16, 24] {
            super::field(at, off).put_p(&mut c.vm.heap, std::ptr::null_mut());
        }
    }
    Ok(Flow::Next)
}
pub static MODULE: Module = Module { name: "$Sys", funcs: &FUNCS };

static FUNCS: [Func; 43] = [
    Func::new("announce", 0x0b7c4ac0, "p", no_network),
    Func::new("aprint", 0x77442d46, "p*", aprint),
    Func::new("bind", 0x66326d91, "ppw", no_namespace),
    Func::new("byte2char", 0x3d6094f9, "pw", byte2char),
    Func::new("char2byte", 0x2ba5ab41, "wpw", char2byte),
    Func::new("chdir", 0xc6935858, "p", chdir),
    Func::new("create", 0x54db77d9, "pww", create),
    Func::new("dial", 0x29e90174, "pp", no_network),
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
    Func::new("listen", 0xb97416e0, "(ppp)", no_network),
    Func::new("millisec", 0x616977e8, "", millisec),
    Func::new("mount", 0x74c17b3a, "pppwp", no_namespace),
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
    Func::new("stream", 0xb9e8f9ea, "ppw", stream),
    Func::new("tokenize", 0x57338f20, "pp", tokenize),
    Func::new("unmount", 0x21e337e3, "pp", no_namespace),
    Func::new("utfbytes", 0x01d4a1f4, "pw", utfbytes),
    Func::new("werrstr", 0xc6935858, "p", werrstr),
    Func::new("write", 0x7cfef557, "ppw", write),
    Func::new("wstat", 0x56b02096, "p(pppp(lww)wwwlww)", wstat),
];
