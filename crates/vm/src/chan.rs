//! Channels: unbuffered rendezvous or buffered queues of one element type,
//! and `alt` over several of them.
//!
//! A blocked thread waits in a channel's queue with the address of its value
//! (sending) or of its destination (receiving); the thread that completes
//! the exchange copies the value and makes it ready.

use std::collections::VecDeque;

use crate::heap::{Heap, Ptr};
use crate::interp::check::Mem;
use crate::mem::{obj, Addr};
use crate::prog::{Prog, State};
use crate::shadow::Access;
use crate::types::{Kind, Type};
use crate::{exc, Trap, Vm};

/// A thread waiting on a channel.
#[derive(Clone, Copy, Debug)]
struct Waiter {
    pid: i32,
    /// Value to send, or where to receive.
    at: Addr,
    /// For a thread in `alt`: the arm's index.
    arm: Option<usize>,
    /// For an arm over an array of channels: where the index of the
    /// channel that completed goes, and that index.
    index: Option<(Addr, usize)>,
}

pub struct ChanState {
    elem: &'static Type,
    cap: usize,
    /// Buffered elements, `cap * elem.size` bytes used as a ring.
    buf: Box<[u8]>,
    front: usize,
    count: usize,
    sendq: VecDeque<Waiter>,
    recvq: VecDeque<Waiter>,
}

pub static CHANNEL: Type = Type::new(8, &[], Kind::Channel);

/// A new channel of `elem` values with room for `cap` buffered ones.
pub fn new(heap: &mut Heap, elem: &'static Type, cap: usize) -> Ptr {
    let p = heap.alloc(&CHANNEL, 0);
    let st = ChanState {
        elem,
        cap,
        buf: vec![0u8; cap * elem.size].into_boxed_slice(),
        front: 0,
        count: 0,
        sendq: VecDeque::new(),
        recvq: VecDeque::new(),
    };
    obj(p).set_raw_p(Box::into_raw(Box::new(st)) as Ptr);
    p
}

fn state<'a>(c: Ptr) -> &'a mut ChanState {
    // SAFETY: channel objects hold a boxed state until finalized; the VM is
    // single-threaded, and no caller holds two references to one state.
    unsafe { &mut *(obj(c).raw_p() as *mut ChanState) }
}

impl ChanState {
    fn slot(&mut self, i: usize) -> Addr {
        let at = ((self.front + i) % self.cap) * self.elem.size;
        // SAFETY: the slot lies inside the buffer.
        unsafe { Addr::new(self.buf.as_mut_ptr().add(at)) }
    }

    fn push(&mut self, heap: &mut Heap, v: Addr) {
        let s = self.slot(self.count);
        copy(heap, self.elem, s, v);
        self.count += 1;
    }

    /// Moves the front element to `dst` (the buffer's reference moves with it).
    fn pop(&mut self, heap: &mut Heap, dst: Addr) {
        let s = self.slot(0);
        dst.dec_ptrs(heap, self.elem);
        dst.copy_from(s, self.elem.size);
        s.zero(self.elem.size);
        self.front = (self.front + 1) % self.cap;
        self.count -= 1;
    }
}

/// Copies a value of type `t` from `src` to `dst`: both then hold a reference.
pub fn copy(heap: &mut Heap, t: &Type, dst: Addr, src: Addr) {
    if dst == src {
        // Onto itself (`movmp 0(x), $t, 0(x)`): nothing changes. Going on
        // would nil the pointers before copying them over themselves.
        return;
    }
    src.inc_ptrs(t);
    dst.dec_ptrs(heap, t);
    dst.copy_from(src, t.size);
}

pub(crate) fn children(p: Ptr, f: &mut dyn FnMut(Ptr)) {
    let st = state(p);
    if !st.elem.has_pointers() {
        return;
    }
    for i in 0..st.count {
        let s = st.slot(i);
        for &o in st.elem.ptrs {
            // SAFETY: pointer slots of a buffered element.
            let c = unsafe { s.offset(o as usize) }.p();
            if !c.is_null() {
                f(c);
            }
        }
    }
}

pub(crate) fn finalize(p: Ptr) {
    // The collector may finalize a channel whose buffer still holds
    // references; reference counting has released them before otherwise.
    // SAFETY: the box was made by `new` and is dropped once, here.
    drop(unsafe { Box::from_raw(obj(p).raw_p() as *mut ChanState) });
}

/// Refuses nil and, from a hostile module, an object that is no channel.
fn nil_check(c: Ptr) -> Result<(), Trap> {
    if c.is_null() {
        Err(exc(crate::EX_NILREF))
    } else if !std::ptr::eq(Heap::type_of(c), &CHANNEL) {
        Err(exc(crate::EX_SEGV))
    } else {
        Ok(())
    }
}

/// Completes an exchange with a waiting thread: marks it ready and, for a
/// thread in alt, records the arm and takes it off every other queue.
fn wake(vm: &mut Vm, w: Waiter) {
    if let Some(arm) = w.arm {
        if let Some(p) = vm.prog_mut(w.pid) {
            let block = p.alt_block.take();
            p.alt_result = Some(arm);
            if let Some(block) = block {
                for c in alt_channels(block) {
                    if !c.is_null() {
                        let st = state(c);
                        st.sendq.retain(|x| x.pid != w.pid);
                        st.recvq.retain(|x| x.pid != w.pid);
                    }
                }
            }
        }
    }
    if let Some((at, k)) = w.index {
        at.set_w(k as i64);
    }
    vm.make_ready(w.pid);
}

/// `send`: returns true if done, false if the thread must block.
pub fn send(vm: &mut Vm, me: &mut Prog, c: Ptr, v: Addr) -> Result<bool, Trap> {
    nil_check(c)?;
    let st = state(c);
    if let Some(w) = st.recvq.pop_front() {
        copy(&mut vm.heap, st.elem, w.at, v);
        wake(vm, w);
        return Ok(true);
    }
    if st.count < st.cap {
        st.push(&mut vm.heap, v);
        return Ok(true);
    }
    st.sendq.push_back(Waiter { pid: me.pid, at: v, arm: None, index: None });
    me.state = State::Send;
    Ok(false)
}

/// `recv`: returns true if done, false if the thread must block.
pub fn recv(vm: &mut Vm, me: &mut Prog, c: Ptr, dst: Addr) -> Result<bool, Trap> {
    nil_check(c)?;
    let st = state(c);
    if st.count > 0 {
        st.pop(&mut vm.heap, dst);
        // A blocked sender's value takes the freed buffer slot.
        if let Some(w) = st.sendq.pop_front() {
            st.push(&mut vm.heap, w.at);
            wake(vm, w);
        }
        return Ok(true);
    }
    if let Some(w) = st.sendq.pop_front() {
        copy(&mut vm.heap, st.elem, dst, w.at);
        wake(vm, w);
        return Ok(true);
    }
    st.recvq.push_back(Waiter { pid: me.pid, at: dst, arm: None, index: None });
    me.state = State::Recv;
    Ok(false)
}

/// The channels of an alt block: `nsend`, `nrecv`, then (channel, value
/// address) pairs, sends first.
fn alt_channels(block: Addr) -> Vec<Ptr> {
    let (ns, nr) = alt_counts(block);
    (0..ns + nr).flat_map(|i| arm_channels(alt_arm(block, i).0)).map(|(_, c)| c).collect()
}

/// The channels of one arm: the channel itself, or for an array of
/// channels each non-nil element with its index.
fn arm_channels(c: Ptr) -> Vec<(Option<usize>, Ptr)> {
    if c.is_null() {
        return Vec::new();
    }
    match Heap::type_of(c).kind {
        // An array of pointers: its elements are nil or live objects.
        Kind::Array if crate::array::elem_type(c).ptrs == [0] => (0..crate::array::len(c))
            .map(|k| (Some(k), crate::array::elem(c, k).p()))
            .filter(|(_, ch)| !ch.is_null() && Heap::type_of(*ch).kind == Kind::Channel)
            .collect(),
        Kind::Channel => vec![(None, c)],
        _ => Vec::new(),
    }
}

/// Where an arm's value goes or comes from: for an array arm, the tuple
/// (index, value) at `v` holds the value one word in.
fn arm_value(v: Addr, index: Option<usize>) -> (Addr, Option<(Addr, usize)>) {
    match index {
        // SAFETY: the compiler laid out an (int, value) tuple at v.
        Some(k) => (unsafe { v.offset(8) }, Some((v, k))),
        None => (v, None),
    }
}

fn alt_counts(block: Addr) -> (usize, usize) {
    // SAFETY: the counts head the block in the thread's frame.
    let nr = unsafe { block.offset(8) }.w();
    (block.w().max(0) as usize, nr.max(0) as usize)
}

fn alt_arm(block: Addr, i: usize) -> (Ptr, Addr) {
    // SAFETY: arm i of a block the compiler laid out in the frame.
    let at = unsafe { block.offset(16 + i * 16) };
    // SAFETY: the value address is the arm's second word; `check_alt`
    // checked what it points at.
    (at.p(), unsafe { Addr::new(at.offset(8).raw_p()) })
}

/// The element type of channel `c`, which must not be nil.
pub fn elem_type(c: Ptr) -> Result<&'static Type, Trap> {
    nil_check(c)?;
    Ok(state(c).elem)
}

/// Checks an alt block before [`alt`] trusts it: the counts and arms lie in
/// memory the thread may read, and every arm's value address is good for
/// its channel's values (read for a send, written for a receive).
pub(crate) fn check_alt(block: Addr, mem: Mem) -> Result<(), &'static str> {
    mem.check(block.ptr(), 16, Access::Read)?;
    let (ns, nr) = alt_counts(block);
    let n = ns.checked_add(nr).filter(|&n| n <= 1 << 20).ok_or(crate::EX_BOUNDS)?;
    mem.check(block.ptr(), 16 + 16 * n, Access::Read)?;
    for i in 0..n {
        let (c, v) = alt_arm(block, i);
        // Compilers copy the channels into the block as plain words.
        if !c.is_null() && !mem.shadow.is_object(c as usize) {
            return Err(crate::EX_SEGV);
        }
        for (k, c) in arm_channels(c) {
            let (at, index) = arm_value(v, k);
            if index.is_some() {
                mem.check(v.ptr(), 8, Access::Write)?;
            }
            mem.check_typed(at.ptr(), state(c).elem, i >= ns)?;
        }
    }
    Ok(())
}

/// `alt`/`nbalt`: picks a ready arm at random and does it, returning its
/// index; with none ready, `nbalt` returns `nsend + nrecv` and `alt` blocks
/// (returning `None`). An arm may name an array of channels: it is ready
/// when any of them is, and sends or receives an (index, value) tuple.
pub fn alt(vm: &mut Vm, me: &mut Prog, block: Addr, blocking: bool) -> Result<Option<usize>, Trap> {
    let (ns, nr) = alt_counts(block);
    let n = ns + nr;
    let mut ready = Vec::new();
    for i in 0..n {
        for (k, c) in arm_channels(alt_arm(block, i).0) {
            let st = state(c);
            let ok = if i < ns {
                !st.recvq.is_empty() || st.count < st.cap
            } else {
                !st.sendq.is_empty() || st.count > 0
            };
            if ok {
                ready.push((i, k, c));
            }
        }
    }
    if !ready.is_empty() {
        let (i, k, c) = ready[vm.random(ready.len())];
        let (v, index) = arm_value(alt_arm(block, i).1, k);
        let done = if i < ns { send(vm, me, c, v)? } else { recv(vm, me, c, v)? };
        debug_assert!(done, "a ready arm completes");
        if let Some((at, k)) = index {
            at.set_w(k as i64);
        }
        return Ok(Some(i));
    }
    if !blocking {
        return Ok(Some(n));
    }
    for i in 0..n {
        let (c, v) = alt_arm(block, i);
        for (k, c) in arm_channels(c) {
            let (at, index) = arm_value(v, k);
            let w = Waiter { pid: me.pid, at, arm: Some(i), index };
            let st = state(c);
            if i < ns {
                st.sendq.push_back(w);
            } else {
                st.recvq.push_back(w);
            }
        }
    }
    me.state = State::Alt;
    me.alt_block = Some(block);
    me.alt_result = None;
    Ok(None)
}

/// Takes a thread off every channel queue (it is being killed).
pub fn forget(c: Ptr, pid: i32) {
    let st = state(c);
    st.sendq.retain(|w| w.pid != pid);
    st.recvq.retain(|w| w.pid != pid);
}
