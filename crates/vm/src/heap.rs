//! The Dis heap: objects at real addresses, reference counted, with a cycle
//! collector for the garbage that counting cannot see.
//!
//! A Dis pointer is the address of an object's data; its [`Header`] sits just
//! before it. Nil is the null pointer. Every object is on one list so that the
//! cycle collector can sweep: it marks from the roots the VM gives it (thread
//! stacks and what they hold) and frees what it did not reach.
//!
//! Raw memory lives here: every function that takes a [`Ptr`] relies on it
//! being nil or the data address of a live object of this heap.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::Cell;
use std::ptr;

use crate::shadow::{Shadow, NONE};
use crate::types::{Kind, Type};

/// A Dis pointer: nil (null) or the data address of a live heap object.
pub type Ptr = *mut u8;

/// Reports every root pointer to the visitor it is given.
pub type RootWalker<'a> = &'a mut dyn FnMut(&mut dyn FnMut(Ptr));

/// Nil.
pub const NIL: Ptr = ptr::null_mut();

/// What precedes every object's data.
#[repr(C)]
pub struct Header {
    next: *mut Header,
    prev: *mut Header,
    ty: *const Type,
    /// Bytes of data (the type's size plus any variable part).
    size: usize,
    refs: u32,
    /// The collector epoch in which the object was last marked.
    mark: u32,
}

pub const HEADER: usize = std::mem::size_of::<Header>();
/// Where an object's reference count (a `u32`) lies, relative to its data
/// address: compiled code counts references inline.
pub const REFS: i32 = std::mem::offset_of!(Header, refs) as i32 - HEADER as i32;
/// Where an object's type pointer and its size (a `usize`) lie, likewise:
/// compiled code checks an object's kind and a list head's size inline.
pub const TYPE: i32 = std::mem::offset_of!(Header, ty) as i32 - HEADER as i32;
pub const SIZE: i32 = std::mem::offset_of!(Header, size) as i32 - HEADER as i32;
/// The heap size below which the collector never runs.
const MIN_GC: usize = 16 << 20;
const ALIGN: usize = 16;

/// Counts kept for tests, the collector's pacing and `-v`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub objects: usize,
    /// Bytes in live objects, headers included.
    pub bytes: usize,
    /// The most `bytes` has been.
    pub peak_bytes: usize,
    pub allocated_total: u64,
    pub collections: u64,
    pub collected: u64,
}

pub struct Heap {
    /// Sentinel of the circular list of all objects.
    all: Box<Header>,
    stats: Stats,
    /// Collect when `bytes` passes this.
    next_gc: usize,
    epoch: u32,
    /// Objects whose count fell to zero, awaiting destruction (kept as a
    /// list, not recursion, so that freeing a long list never exhausts the
    /// native stack).
    doomed: Vec<Ptr>,
    destroying: Cell<bool>,
    /// Free blocks of each size class, linked through their first word,
    /// and the bytes the lists hold together.
    free_blocks: [*mut u8; CLASSES],
    free_kept: usize,
    /// File descriptor numbers of `Sys->FD` objects that died, for the
    /// runtime to release.
    pub released_fds: Vec<i64>,
    /// What each word of the objects is to Dis code.
    pub shadow: Shadow,
    /// The most bytes of objects the program may hold, and of all its
    /// threads' stacks ([`default_limit`]); past it, the running thread
    /// gets `out of memory: heap` (or `main`, for stacks).
    pub limit: usize,
}

/// emu's heap pool: 512 MiB at most.
const EMU_HEAP: usize = 512 << 20;

/// The limit of objects, and of stacks: emu's, or a quarter of the address
/// space or data the process may use (`ulimit -v`, `-d`) if that is less,
/// so that the exception comes before the system refuses memory.
pub fn default_limit() -> usize {
    let mut limit = EMU_HEAP;
    for resource in [libc::RLIMIT_AS, libc::RLIMIT_DATA] {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes the struct it is given.
        if unsafe { libc::getrlimit(resource, &mut r) } == 0 && r.rlim_cur != libc::RLIM_INFINITY {
            limit = limit.min((r.rlim_cur / 4) as usize);
        }
    }
    limit
}

#[inline]
fn hdr(p: Ptr) -> *mut Header {
    // SAFETY: callers pass data addresses of live objects, which are
    // HEADER bytes after the start of their allocation.
    unsafe { p.sub(HEADER) as *mut Header }
}

/// Blocks of up to this many bytes, header included, are kept for reuse
/// when their object dies, in size classes [`ALIGN`] bytes apart: most
/// objects are small and short-lived, and a free list is far cheaper than
/// the system allocator.
const CACHED: usize = 512;
const CLASSES: usize = CACHED / ALIGN;
/// At most this many bytes of free blocks are kept, all classes together:
/// enough for a program that frees a large structure and builds another
/// (a binary tree of a million nodes) to reuse its blocks.
const FREE_KEEP: usize = 32 << 20;

/// The size class of an object of `size` bytes of data, if it has one.
#[inline(always)]
fn class(size: usize) -> Option<usize> {
    let total = HEADER + size;
    (total <= CACHED).then(|| (total - 1) / ALIGN)
}

/// The layout of the block holding an object of `size` bytes of data.
#[inline(always)]
fn layout(size: usize) -> Layout {
    match class(size) {
        Some(c) => class_layout(c),
        None => Layout::from_size_align(HEADER + size, ALIGN).expect("object size fits a layout"),
    }
}

/// The layout of every block of size class `c`.
#[inline(always)]
fn class_layout(c: usize) -> Layout {
    Layout::from_size_align((c + 1) * ALIGN, ALIGN).expect("a size class's layout")
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

impl Heap {
    pub fn new() -> Heap {
        let mut all = Box::new(Header {
            next: ptr::null_mut(),
            prev: ptr::null_mut(),
            ty: ptr::null(),
            size: 0,
            refs: 0,
            mark: 0,
        });
        let s: *mut Header = &mut *all;
        all.next = s;
        all.prev = s;
        Heap {
            all,
            stats: Stats::default(),
            next_gc: MIN_GC,
            epoch: 1,
            doomed: Vec::new(),
            destroying: Cell::new(false),
            free_blocks: [ptr::null_mut(); CLASSES],
            free_kept: 0,
            released_fds: Vec::new(),
            shadow: Shadow::new(),
            limit: default_limit(),
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// What the program has run out of, if anything, when its threads'
    /// stacks take `stacks` bytes: the objects and the stacks have a limit
    /// each, as emu's heap and main pools do.
    pub fn exhausted(&self, stacks: usize) -> Option<&'static str> {
        if self.stats.bytes > self.limit {
            Some(crate::EX_HEAP)
        } else if stacks > self.limit {
            Some(crate::EX_MAIN)
        } else {
            None
        }
    }

    /// Whether `bytes` more fit under the limit: instructions that make
    /// objects of any size ask before they do.
    pub fn has_room(&self, bytes: u128) -> bool {
        bytes <= self.limit.saturating_sub(self.stats.bytes) as u128
    }

    /// True when the heap has grown enough since the last collection that
    /// cyclic garbage may be worth finding.
    pub fn wants_collection(&self) -> bool {
        self.stats.bytes > self.next_gc
    }

    /// Allocates a zeroed object of type `ty` with `extra` bytes after the
    /// type's size, with one reference.
    pub fn alloc(&mut self, ty: &'static Type, extra: usize) -> Ptr {
        let size = ty.size + extra;
        let lay = layout(size);
        let raw = match class(size).map(|c| (c, self.free_blocks[c])) {
            Some((c, block)) if !block.is_null() => {
                // SAFETY: a block on the free list of its class: `lay.size()`
                // bytes, aligned, owned by the heap, its first word the link.
                unsafe {
                    self.free_blocks[c] = *(block as *mut *mut u8);
                    ptr::write_bytes(block, 0, lay.size());
                }
                self.free_kept -= lay.size();
                block as *mut Header
            }
            // SAFETY: the layout is non-zero (HEADER > 0).
            _ => (unsafe { alloc_zeroed(lay) }) as *mut Header,
        };
        if raw.is_null() {
            std::alloc::handle_alloc_error(lay);
        }
        let sentinel: *mut Header = &mut *self.all;
        // SAFETY: raw is a fresh allocation big enough for a Header; the
        // sentinel and its neighbours are live list members.
        unsafe {
            raw.write(Header { next: (*sentinel).next, prev: sentinel, ty, size, refs: 1, mark: 0 });
            (*(*sentinel).next).prev = raw;
            (*sentinel).next = raw;
        }
        self.stats.objects += 1;
        self.stats.bytes += HEADER + size;
        self.stats.peak_bytes = self.stats.peak_bytes.max(self.stats.bytes);
        self.stats.allocated_total += size as u64;
        // SAFETY: data follows the header inside the allocation.
        let p = unsafe { (raw as *mut u8).add(HEADER) };
        self.shadow.tag_object(p as usize, ty, matches!(ty.kind, Kind::Record | Kind::Fd));
        p
    }

    /// The type of a live object.
    pub fn type_of(p: Ptr) -> &'static Type {
        // SAFETY: p is a live object; types are never freed.
        unsafe { &*(*hdr(p)).ty }
    }

    /// Size in bytes of a live object's data.
    pub fn size_of(p: Ptr) -> usize {
        // SAFETY: p is a live object.
        unsafe { (*hdr(p)).size }
    }

    pub fn refs(p: Ptr) -> u32 {
        // SAFETY: p is a live object.
        unsafe { (*hdr(p)).refs }
    }

    /// Adds a reference to `p` (nil is ignored).
    #[inline]
    pub fn inc(p: Ptr) {
        if !p.is_null() {
            // SAFETY: p is a live object.
            unsafe { (*hdr(p)).refs += 1 }
        }
    }

    /// Drops a reference to `p` (nil is ignored), destroying it and what
    /// only it held when the count reaches zero.
    #[inline]
    pub fn dec(&mut self, p: Ptr) {
        if p.is_null() {
            return;
        }
        // SAFETY: p is a live object.
        let h = unsafe { &mut *hdr(p) };
        h.refs -= 1;
        if h.refs == 0 {
            self.doomed.push(p);
            if !self.destroying.get() {
                self.destroy_doomed();
            }
        }
    }

    fn destroy_doomed(&mut self) {
        self.destroying.set(true);
        while let Some(p) = self.doomed.pop() {
            let ty = Heap::type_of(p);
            let doomed = &mut self.doomed;
            ty.children(p, &mut |c| {
                // SAFETY: children of a live object are nil or live objects.
                let h = unsafe { &mut *hdr(c) };
                h.refs -= 1;
                if h.refs == 0 {
                    doomed.push(c);
                }
            });
            ty.finalize(p, &mut self.released_fds);
            self.free(p);
        }
        self.destroying.set(false);
    }

    /// Unlinks and frees an object's memory; its references are not touched.
    fn free(&mut self, p: Ptr) {
        let h = hdr(p);
        if matches!(Heap::type_of(p).kind, Kind::Record | Kind::Fd | Kind::Array) {
            self.shadow.fill(p as usize - 8, 1 + Heap::size_of(p).div_ceil(8), NONE);
        } else {
            self.shadow.fill(p as usize - 8, 1, NONE);
        }
        // SAFETY: h is a live list member allocated by `alloc` with this size.
        unsafe {
            let size = (*h).size;
            (*(*h).prev).next = (*h).next;
            (*(*h).next).prev = (*h).prev;
            self.stats.objects -= 1;
            self.stats.bytes -= HEADER + size;
            let lay = layout(size);
            match class(size) {
                Some(c) if self.free_kept + lay.size() <= FREE_KEEP => {
                    *(h as *mut *mut u8) = self.free_blocks[c];
                    self.free_blocks[c] = h as *mut u8;
                    self.free_kept += lay.size();
                }
                _ => dealloc(h as *mut u8, lay),
            }
        }
    }

    /// Finds the garbage that reference counting cannot: everything not
    /// reachable from `roots`, which must report every pointer the VM holds
    /// outside heap objects. Only call at a safepoint, where every live
    /// pointer is in memory the roots reach.
    pub fn collect(&mut self, roots: RootWalker<'_>) {
        self.epoch = self.epoch.wrapping_add(1).max(1);
        let epoch = self.epoch;
        let mut work: Vec<Ptr> = Vec::new();
        let mark = |p: Ptr, work: &mut Vec<Ptr>| {
            if p.is_null() {
                return;
            }
            // SAFETY: roots and children are nil or live objects.
            let h = unsafe { &mut *hdr(p) };
            if h.mark != epoch {
                h.mark = epoch;
                work.push(p);
            }
        };
        roots(&mut |p| mark(p, &mut work));
        while let Some(p) = work.pop() {
            let ty = Heap::type_of(p);
            let mut kids = Vec::new();
            ty.children(p, &mut |c| kids.push(c));
            for c in kids {
                mark(c, &mut work);
            }
        }
        // Sweep: gather the unmarked, drop the references they hold on
        // marked objects, then free them all at once.
        let mut dead = Vec::new();
        let sentinel: *mut Header = &mut *self.all;
        // SAFETY: walking the circular list of live objects.
        unsafe {
            let mut h = (*sentinel).next;
            while h != sentinel {
                if (*h).mark != epoch {
                    dead.push((h as *mut u8).add(HEADER));
                }
                h = (*h).next;
            }
        }
        for &p in &dead {
            Heap::type_of(p).children(p, &mut |c| {
                // SAFETY: children of a live object are live objects.
                let h = unsafe { &mut *hdr(c) };
                if h.mark == epoch && h.refs > 1 {
                    h.refs -= 1;
                }
            });
        }
        for &p in &dead {
            Heap::type_of(p).finalize(p, &mut self.released_fds);
        }
        for &p in &dead {
            self.free(p);
        }
        self.stats.collections += 1;
        self.stats.collected += dead.len() as u64;
        // Reference counting frees most garbage at once, so the heap grows
        // only by cycles or real growth: collect again when it has doubled.
        self.next_gc = (2 * self.stats.bytes).max(MIN_GC);
    }

    /// Frees every object: the VM is done.
    pub fn clear(&mut self) {
        self.collect(&mut |_| {});
        for c in 0..CLASSES {
            let lay = class_layout(c);
            while !self.free_blocks[c].is_null() {
                let block = self.free_blocks[c];
                // SAFETY: a free block of class `c`, allocated with `lay`;
                // its first word links the next.
                unsafe {
                    self.free_blocks[c] = *(block as *mut *mut u8);
                    dealloc(block, lay);
                }
            }
        }
        self.free_kept = 0;
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Reads the pointer stored at `addr`.
///
/// # Safety
/// `addr` must be valid for reading a pointer.
#[inline]
pub unsafe fn load_ptr(addr: *const u8) -> Ptr {
    // SAFETY: the caller guarantees addr is readable.
    unsafe { (addr as *const Ptr).read_unaligned() }
}

impl Type {
    /// Calls `f` with every non-nil pointer the object holds.
    pub(crate) fn children(&self, p: Ptr, f: &mut dyn FnMut(Ptr)) {
        // SAFETY: p is a live object of this type; offsets come from its map.
        unsafe {
            for &off in self.ptrs.iter() {
                let c = load_ptr(p.add(off as usize));
                if !c.is_null() {
                    f(c);
                }
            }
        }
        match self.kind {
            Kind::Record | Kind::String | Kind::Fd => {}
            Kind::Array => crate::array::children(p, f),
            Kind::List => crate::list::children(p, f),
            Kind::Channel => crate::chan::children(p, f),
            Kind::Modlink => crate::module::children(p, f),
        }
    }

    /// Releases what the object owns outside the heap.
    fn finalize(&self, p: Ptr, released_fds: &mut Vec<i64>) {
        match self.kind {
            Kind::Channel => crate::chan::finalize(p),
            Kind::Modlink => crate::module::finalize(p),
            // SAFETY: an FD object's first word is its descriptor number.
            Kind::Fd => released_fds.push(unsafe { (p as *const i64).read() }),
            _ => {}
        }
    }
}
