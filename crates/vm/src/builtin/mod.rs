//! Built-in modules (`$Sys`, `$Math`): functions written in Rust that Dis
//! code loads and calls like any module's.
//!
//! Each function declares its arguments in a small spec, which lays out its
//! frame as Limbo does (arguments from offset 64, each aligned to its size)
//! and which [`Call`] reads back argument by argument.

pub mod fmt;
pub mod math;
pub mod stdin;
pub mod sys;

use std::sync::OnceLock;

use crate::heap::{Heap, Ptr};
use crate::interp::check::Mem;
use crate::mem::Addr;
use crate::stack::{frame_type, reg, Stack, ARGS, REG_RET};
use crate::types::{Kind, Type};
use crate::{Trap, Vm};

/// What a built-in function asks of the scheduler when it returns.
#[derive(Debug, PartialEq)]
pub enum Flow {
    /// Carry on with the next instruction.
    Next,
    /// Suspend the thread for this many milliseconds (`Sys->sleep`).
    Sleep(u64),
    /// The call cannot complete yet (an empty or full in-VM pipe, no
    /// input on standard input yet): it has
    /// recorded the thread where the change it needs will wake it
    /// ([`sys::SysState::woken`]). The thread sleeps with the call's frame
    /// kept and runs the call again when woken.
    Wait,
}

/// Field `off` of a record at `base` whose type the built-in function
/// knows (a result tuple, an ADT argument, an array element).
pub fn field(base: Addr, off: usize) -> Addr {
    // SAFETY: callers pass offsets inside the record's type, whose storage `base` addresses.
    unsafe { base.offset(off) }
}

pub type Run = fn(&mut Call) -> Result<Flow, Trap>;

/// A built-in function.
pub struct Func {
    pub name: &'static str,
    /// The signature hash Limbo computes for the function's type; imports
    /// must carry the same.
    pub sig: u32,
    /// Argument spec: `w` int, `b` byte, `l` big, `f` real, `p` any pointer
    /// (string, array, list, ref, chan, module), `(...)` an ADT or tuple
    /// passed by value, `*` variadic (the caller lays out the frame).
    pub args: &'static str,
    pub run: Run,
    frame: OnceLock<&'static Type>,
}

impl Func {
    pub const fn new(name: &'static str, sig: u32, args: &'static str, run: Run) -> Func {
        Func { name, sig, args, run, frame: OnceLock::new() }
    }

    /// The frame type callers allocate with `mframe`.
    pub fn frame(&self) -> &'static Type {
        self.frame.get_or_init(|| {
            let l = layout(self.args);
            Type::leak((l.size + 7) & !7, l.ptrs, Kind::Record)
        })
    }
}

/// A built-in module.
pub struct Module {
    /// The path Limbo programs load it by, such as `$Sys`.
    pub name: &'static str,
    pub funcs: &'static [Func],
}

impl Module {
    pub fn func(&self, name: &str) -> Option<&'static Func> {
        self.funcs.iter().find(|f| f.name == name)
    }
}

/// All built-in modules.
pub fn modules() -> [&'static Module; 2] {
    [&sys::MODULE, &math::MODULE]
}

/// The frame layout an argument spec describes.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    /// Offset of each top-level argument.
    pub offsets: Vec<usize>,
    pub size: usize,
    pub ptrs: Vec<u32>,
}

/// Lays out `spec` from offset 64 (see [`Func::args`]).
pub fn layout(spec: &str) -> Layout {
    let mut l = Layout { offsets: Vec::new(), size: ARGS, ptrs: Vec::new() };
    let b = spec.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'*' {
            break;
        }
        let (size, align, ptrs, next) = item(b, i);
        let off = l.size.next_multiple_of(align);
        l.offsets.push(off);
        l.ptrs.extend(ptrs.iter().map(|p| (off + p) as u32));
        l.size = off + size;
        i = next;
    }
    l
}

/// Size, alignment and pointer offsets of the spec item at `i`, and where
/// the next item starts.
fn item(b: &[u8], i: usize) -> (usize, usize, Vec<usize>, usize) {
    match b[i] {
        b'b' => (1, 1, vec![], i + 1),
        b'w' | b'l' | b'f' => (8, 8, vec![], i + 1),
        b'p' => (8, 8, vec![0], i + 1),
        b'(' => {
            let (mut size, mut align, mut ptrs, mut j) = (0usize, 1usize, Vec::new(), i + 1);
            while b[j] != b')' {
                let (s, a, p, next) = item(b, j);
                let off = size.next_multiple_of(a);
                ptrs.extend(p.iter().map(|x| off + x));
                size = off + s;
                align = align.max(a);
                j = next;
            }
            (size.next_multiple_of(align), align, ptrs, j + 1)
        }
        c => panic!("bad built-in argument spec character {:?}", c as char),
    }
}

/// A call of a built-in function: its frame, read argument by argument.
pub struct Call<'a> {
    pub vm: &'a mut Vm,
    /// The calling thread's id.
    pub pid: i32,
    pub frame: Addr,
    /// Offset of the next argument to read.
    next: usize,
    /// The calling thread's stack and module, where the result address
    /// is checked.
    stack: &'a Stack,
    module: &'a crate::module::Module,
    /// Set when an argument or the result address is not what the
    /// function's signature says, which only a hostile caller does: the
    /// call then raises an exception instead of returning. A missing
    /// argument reads as 0 or nil, a bad result is not written.
    pub fault: bool,
}

/// Result types of the built-in functions that return a tuple.
pub mod results {
    use crate::types::{Kind, Type};
    /// `(int, real)`.
    pub static INT_REAL: Type = Type::new(16, &[], Kind::Record);
    /// `(int, int, int)`.
    pub static INT3: Type = Type::new(24, &[], Kind::Record);
    /// `(int, string)`, `(int, list of string)`, `(int, array of Dir)`.
    pub static INT_PTR: Type = Type::new(16, &[8], Kind::Record);
    /// `(int, Dir)`.
    pub static INT_DIR: Type = Type::new(112, &[8, 16, 24, 32], Kind::Record);
    /// `(int, Connection)`.
    pub static INT_CONNECTION: Type = Type::new(32, &[8, 16, 24], Kind::Record);
}

impl<'a> Call<'a> {
    pub fn new(
        vm: &'a mut Vm,
        pid: i32,
        frame: Addr,
        stack: &'a Stack,
        module: &'a crate::module::Module,
    ) -> Call<'a> {
        Call { vm, pid, frame, next: ARGS, stack, module, fault: false }
    }

    pub fn heap(&mut self) -> &mut Heap {
        &mut self.vm.heap
    }

    /// The next argument's address, if the frame holds one there (and a
    /// pointer slot if `ptr`). The call checked the frame against the
    /// declared arguments; variadic ones are the caller's word: one the
    /// format asks for beyond the frame reads as 0 or nil (emu reads
    /// whatever follows), a pointer where the frame has none is a fault.
    fn arg(&mut self, size: usize, ptr: bool) -> Option<Addr> {
        let off = self.next.next_multiple_of(size.min(8));
        self.next = off + size;
        let t = frame_type(self.frame);
        if off + size > t.size {
            return None;
        }
        if ptr && !t.is_pointer(off) {
            self.fault = true;
            return None;
        }
        // SAFETY: inside the frame, as checked.
        Some(unsafe { self.frame.offset(off) })
    }

    /// The next argument's address, for an ADT or tuple of `size` bytes
    /// aligned to `align`.
    /// Only for declared arguments: the call checked that the frame holds
    /// them, pointers where the signature has them.
    pub fn arg_block(&mut self, size: usize, align: usize) -> Addr {
        let off = self.next.next_multiple_of(align);
        self.next = off + size;
        // SAFETY: the frame's type covers the declared arguments.
        unsafe { self.frame.offset(off) }
    }

    pub fn int(&mut self) -> i64 {
        self.arg(8, false).map_or(0, |a| a.w())
    }

    pub fn byte(&mut self) -> u8 {
        self.arg(1, false).map_or(0, |a| a.b())
    }

    pub fn big(&mut self) -> i64 {
        self.arg(8, false).map_or(0, |a| a.l())
    }

    pub fn real(&mut self) -> f64 {
        self.arg(8, false).map_or(0.0, |a| a.f())
    }

    /// A pointer argument (borrowed: the frame holds the reference).
    pub fn ptr(&mut self) -> Ptr {
        self.arg(8, true).map_or(std::ptr::null_mut(), |a| a.p())
    }

    /// A pointer argument that must be nil or of the kind whose type is
    /// `t` (`string::STRING`, `list::LIST`); anything else reads as nil.
    pub fn ptr_of(&mut self, t: &'static Type) -> Ptr {
        let p = self.ptr();
        crate::interp::of_kind(p, t).unwrap_or_else(|_| {
            self.fault = true;
            std::ptr::null_mut()
        })
    }

    /// An array argument whose elements are `elem` bytes each, as the
    /// function's signature says (or nil). A hostile module may pass
    /// another object; that raises an array bounds error instead of
    /// reading or writing past it.
    pub fn array(&mut self, elem: usize) -> Result<Ptr, Trap> {
        let p = self.ptr();
        let fits =
            p.is_null() || (Heap::type_of(p).kind == Kind::Array && crate::array::elem_type(p).size == elem);
        if fits {
            Ok(p)
        } else {
            Err(crate::exc(crate::EX_BOUNDS))
        }
    }

    /// A string argument as Rust text (nil is "").
    pub fn string(&mut self) -> String {
        crate::string::to_string(self.ptr_of(&crate::string::STRING))
    }

    /// Where a result of type `t` goes, if the caller wants one: the
    /// address the caller put in the return register, checked to hold a
    /// `t` (a hostile caller may put any address there).
    pub fn ret(&mut self, t: &Type) -> Option<Addr> {
        let r = reg(self.frame, REG_RET).raw_p();
        if r.is_null() {
            return None;
        }
        let mem = Mem { shadow: &self.vm.heap.shadow, stack: self.stack, module: self.module };
        let checked = mem.check_typed(r, t, true).ok();
        self.fault |= checked.is_none();
        checked
    }

    pub fn ret_int(&mut self, v: i64) {
        if let Some(r) = self.ret(&crate::types::WORD) {
            r.set_w(v);
        }
    }

    pub fn ret_big(&mut self, v: i64) {
        self.ret_int(v)
    }

    pub fn ret_real(&mut self, v: f64) {
        if let Some(r) = self.ret(&crate::types::REAL) {
            r.set_f(v);
        }
    }

    /// Returns a pointer the function holds a reference to (given to the caller).
    pub fn ret_ptr(&mut self, p: Ptr) {
        match self.ret(&crate::types::POINTER) {
            Some(r) => r.put_p(&mut self.vm.heap, p),
            None => self.vm.heap.dec(p),
        }
    }

    pub fn ret_str(&mut self, s: &str) {
        let p = crate::string::from_str(&mut self.vm.heap, s);
        self.ret_ptr(p);
    }

    /// Sets the calling thread's error string (what `%r` prints).
    pub fn set_err(&mut self, e: impl Into<String>) {
        self.vm.set_errstr(self.pid, e.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_limbo_alignment() {
        // print(s: string, *): the format at 64.
        assert_eq!(layout("p*"), Layout { offsets: vec![64], size: 72, ptrs: vec![64] });
        // read(fd: ref FD, buf: array of byte, n: int)
        assert_eq!(layout("ppw").offsets, vec![64, 72, 80]);
        // seek(fd: ref FD, off: big, start: int)
        assert_eq!(layout("plw").size, 88);
        // a byte then an int: the int is aligned to 8.
        assert_eq!(layout("bw").offsets, vec![64, 72]);
        // wstat(s: string, d: Dir) with Dir =
        // (name, uid, gid, muid: string; qid: (big, int, int); mode, atime, mtime: int;
        //  length: big; dtype, dev: int)
        let l = layout("p(pppp(lww)wwwlww)");
        assert_eq!(l.offsets, vec![64, 72]);
        assert_eq!(l.ptrs, vec![64, 72, 80, 88, 96]);
        assert_eq!(l.size, 72 + 4 * 8 + 24 + 3 * 8 + 8 + 16);
    }
}
