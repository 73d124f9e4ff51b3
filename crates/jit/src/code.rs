//! Executable memory for compiled modules: written while mapped
//! read-write, then mapped read-execute (never both, W^X), with the
//! instruction cache made coherent on AArch64.
//!
//! On macOS (Apple Silicon) code pages must be mapped with `MAP_JIT` and
//! written with the thread's JIT write protection off; that path is here
//! behind `cfg` for when dite runs there.

use std::ptr::NonNull;

/// A read-execute mapping holding one module's code. Unmapped on drop:
/// the owner must outlive every call into it.
pub struct CodeMemory {
    base: NonNull<u8>,
    len: usize,
}

impl CodeMemory {
    /// Maps `code` executable. Errors are the OS's.
    pub fn new(code: &[u8]) -> std::io::Result<CodeMemory> {
        let page = page_size();
        let len = code.len().max(1).next_multiple_of(page);
        // SAFETY: a fresh anonymous private mapping; no existing memory is touched.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), len, PROT_RW, map_flags(), -1, 0) };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let base = base as *mut u8;
        write_protect(false);
        // SAFETY: the mapping is writable, `len >= code.len()` bytes, and not yet shared.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), base, code.len()) };
        write_protect(true);
        // SAFETY: `base..base+len` is the mapping made above.
        if unsafe { libc::mprotect(base as *mut libc::c_void, len, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            let e = std::io::Error::last_os_error();
            // SAFETY: as above; nothing refers to the mapping.
            unsafe { libc::munmap(base as *mut libc::c_void, len) };
            return Err(e);
        }
        flush_icache(base, code.len());
        Ok(CodeMemory { base: NonNull::new(base).expect("mmap never returns null on success"), len })
    }

    /// The address of byte `offset` of the code.
    pub fn addr(&self, offset: usize) -> *const u8 {
        assert!(offset < self.len);
        // SAFETY: in bounds, checked above.
        unsafe { self.base.as_ptr().add(offset) }
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe { libc::munmap(self.base.as_ptr() as *mut libc::c_void, self.len) };
    }
}

const PROT_RW: libc::c_int = libc::PROT_READ | libc::PROT_WRITE;

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

#[cfg(not(target_os = "macos"))]
fn map_flags() -> libc::c_int {
    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS
}

#[cfg(target_os = "macos")]
fn map_flags() -> libc::c_int {
    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_JIT
}

/// Apple Silicon's per-thread switch between writing and running JIT pages.
#[cfg(all(target_os = "macos", target_arch = "aarch64"))]
fn write_protect(on: bool) {
    extern "C" {
        fn pthread_jit_write_protect_np(enabled: libc::c_int);
    }
    // SAFETY: toggles this thread's view of MAP_JIT pages only.
    unsafe { pthread_jit_write_protect_np(on as libc::c_int) };
}

#[cfg(not(all(target_os = "macos", target_arch = "aarch64")))]
fn write_protect(_on: bool) {}

/// Makes freshly written code visible to instruction fetch. x86-64 keeps
/// its caches coherent; AArch64 needs the data cache cleaned to the point
/// of unification and the instruction cache invalidated, line by line.
#[cfg(target_arch = "aarch64")]
fn flush_icache(start: *mut u8, len: usize) {
    use std::arch::asm;
    let ctr: u64;
    // SAFETY: reading CTR_EL0 is allowed at EL0 on Linux and macOS.
    unsafe { asm!("mrs {0}, ctr_el0", out(reg) ctr, options(nomem, nostack)) };
    let dline = 4usize << ((ctr >> 16) & 0xf);
    let iline = 4usize << (ctr & 0xf);
    let (begin, end) = (start as usize, start as usize + len);
    let mut a = begin & !(dline - 1);
    while a < end {
        // SAFETY: cache maintenance on addresses of our own mapping.
        unsafe { asm!("dc cvau, {0}", in(reg) a, options(nostack)) };
        a += dline;
    }
    // SAFETY: barriers have no memory operands.
    unsafe { asm!("dsb ish", options(nostack)) };
    let mut a = begin & !(iline - 1);
    while a < end {
        // SAFETY: as above.
        unsafe { asm!("ic ivau, {0}", in(reg) a, options(nostack)) };
        a += iline;
    }
    // SAFETY: barriers have no memory operands.
    unsafe { asm!("dsb ish", "isb", options(nostack)) };
}

#[cfg(not(target_arch = "aarch64"))]
fn flush_icache(_start: *mut u8, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_code_read_execute() {
        let m = CodeMemory::new(&[0xc3; 100]).unwrap();
        // SAFETY: reading our own mapping, which is readable.
        assert_eq!(unsafe { *m.addr(99) }, 0xc3);
    }
}
