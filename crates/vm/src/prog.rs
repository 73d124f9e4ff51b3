//! Threads ("progs"): registers, a stack, and what they wait for.

use std::time::Instant;

use crate::heap::Ptr;
use crate::mem::Addr;
use crate::stack::Stack;

/// A thread's registers while it is not running.
#[derive(Clone, Copy, Debug)]
pub struct Regs {
    /// Next instruction.
    pub pc: usize,
    /// Current frame.
    pub fp: *mut u8,
    /// Current module link (holds a reference).
    pub ml: Ptr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum State {
    Ready,
    /// Blocked sending on a channel.
    Send,
    /// Blocked receiving from a channel.
    Recv,
    /// Blocked in `alt` on several channels.
    Alt,
    /// Sleeping until a time.
    Sleep(Instant),
    /// Waiting in a built-in call for an in-VM pipe (`Sys->read` of an
    /// empty one, `write` to a full one) or for standard input; woken
    /// through `SysState::woken`.
    Io,
    /// Finished; kept until the scheduler reaps it.
    Exited,
}

pub struct Prog {
    pub pid: i32,
    pub regs: Regs,
    pub stack: Stack,
    pub state: State,
    /// The error string (`%r`, `werrstr`).
    pub errstr: String,
    /// Process group, for `pctl(NEWPGRP)`.
    pub group: i32,
    /// While blocked on a channel: the address of the value to send or of
    /// the slot to receive into.
    pub chan_ptr: Option<Addr>,
    /// While blocked in alt: the frame address of the alt block.
    pub alt_block: Option<Addr>,
    /// Set when a blocked alt completes: the index of the chosen arm.
    pub alt_result: Option<usize>,
    /// The exception value being raised, for the handler that takes it.
    pub exception: Ptr,
}

impl Prog {
    pub fn new(pid: i32, group: i32, regs: Regs, stack: Stack) -> Prog {
        Prog {
            pid,
            regs,
            stack,
            state: State::Ready,
            errstr: String::new(),
            group,
            chan_ptr: None,
            alt_block: None,
            alt_result: None,
            exception: std::ptr::null_mut(),
        }
    }
}
