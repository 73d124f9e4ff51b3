//! Host standard input, read by a host thread of its own, so that a Dis
//! thread reading descriptor 0 waits alone while the others run.
//!
//! The reader thread starts on the first read of descriptor 0 (a program
//! that never reads it leaves the input unread for whoever comes next). It
//! reads the host's input and hands the VM blocks cut as InferNode's
//! console (`#c/cons`, emu's descriptor 0) cuts them: a block is a line
//! with its newline, or 1024 bytes of a longer line, or what is left of a
//! line at the end of the input; from a terminal, whose own line discipline
//! has already cut lines, each host read is a block and an empty read
//! (end of file typed at the start of a line) is an empty block, after
//! which reading goes on, as ^D does in emu. A Dis read returns from one
//! block only, at most the bytes it asked for, leaving the rest of the
//! block for the next read; after the end of the input every read
//! returns 0.
//!
//! Unlike emu, dite passes the bytes through as they are: emu's console
//! also echoes piped input to its standard output, edits lines (backspace,
//! ^U), drops NUL bytes, turns ^D into an end of line and exits on ^C, and
//! it loses input that comes faster than a program reads it.
//!
//! The blocks come over a bounded channel, so the reader stays at most a
//! few lines ahead of the program. A read that finds no block records its
//! thread among the waiters and the call waits ([`super::Flow::Wait`]);
//! the scheduler polls the channel while there are waiters, and when no
//! thread can run it sleeps on the channel ([`Stdin::wait`]) rather than
//! reporting a deadlock.

use std::io::{IsTerminal, Read};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::time::Duration;

/// The longest block (InferNode's console line buffer).
pub const LINE_MAX: usize = 1024;

/// Blocks the reader may be ahead of the program.
const AHEAD: usize = 64;

/// The VM's side of standard input.
#[derive(Default)]
pub struct Stdin {
    /// Where the input comes from until the reader thread takes it: the
    /// host's standard input when `None`.
    source: Option<Box<dyn Read + Send>>,
    /// Blocks from the reader thread, once it runs.
    rx: Option<Receiver<Vec<u8>>>,
    /// The block being read: what earlier reads left of it.
    block: Option<Vec<u8>>,
    /// The reader has finished: the input ended (or could not be read).
    ended: bool,
    /// Threads waiting for a block.
    waiters: Vec<i32>,
}

impl Stdin {
    /// Reads from `source` instead of the host's standard input (tests).
    /// Has no effect once the input has been read.
    pub fn set_source(&mut self, source: Box<dyn Read + Send>) {
        if self.rx.is_none() && !self.ended {
            self.source = Some(source);
        }
    }

    /// Up to `n` bytes for thread `pid`, or `None` when there are none yet:
    /// the thread is then recorded as waiting. An empty result is the end
    /// of the input (or an empty block).
    pub fn read(&mut self, pid: i32, n: usize) -> Option<Vec<u8>> {
        if self.rx.is_none() && !self.ended {
            self.start();
        }
        if self.block.is_none() {
            self.receive(|rx| rx.try_recv().map_err(|e| e == TryRecvError::Disconnected));
        }
        match self.block.take() {
            Some(mut b) => {
                if b.len() > n {
                    self.block = Some(b.split_off(n));
                }
                Some(b)
            }
            None if self.ended => Some(Vec::new()),
            None => {
                if !self.waiters.contains(&pid) {
                    self.waiters.push(pid);
                }
                None
            }
        }
    }

    /// Whether threads wait for input.
    pub fn waiting(&self) -> bool {
        !self.waiters.is_empty()
    }

    /// Takes a block if one has come (or the end), without waiting, and
    /// then hands the waiters to `woken`.
    pub fn poll(&mut self, woken: &mut Vec<i32>) {
        if self.block.is_none() {
            self.receive(|rx| rx.try_recv().map_err(|e| e == TryRecvError::Disconnected));
        }
        self.wake(woken);
    }

    /// Waits for a block (or the end) at most `timeout` (`None`: as long as
    /// it takes), then hands the waiters to `woken` if one came.
    pub fn wait(&mut self, timeout: Option<Duration>, woken: &mut Vec<i32>) {
        if self.block.is_none() {
            self.receive(|rx| match timeout {
                Some(t) => rx.recv_timeout(t).map_err(|e| e == RecvTimeoutError::Disconnected),
                None => rx.recv().map_err(|_| true),
            });
        }
        self.wake(woken);
    }

    /// Receives with `recv`, whose error says whether the reader has gone.
    fn receive(&mut self, recv: impl FnOnce(&Receiver<Vec<u8>>) -> Result<Vec<u8>, bool>) {
        let Some(rx) = &self.rx else { return };
        match recv(rx) {
            Ok(b) => self.block = Some(b),
            Err(true) => {
                self.ended = true;
                self.rx = None;
            }
            Err(false) => {}
        }
    }

    fn wake(&mut self, woken: &mut Vec<i32>) {
        if self.block.is_some() || self.ended {
            woken.append(&mut self.waiters);
        }
    }

    /// Starts the reader thread.
    fn start(&mut self) {
        let (source, terminal): (Box<dyn Read + Send>, bool) = match self.source.take() {
            Some(s) => (s, false),
            None => (Box::new(std::io::stdin()), std::io::stdin().is_terminal()),
        };
        let (tx, rx) = sync_channel(AHEAD);
        let spawned =
            std::thread::Builder::new().name("dite-stdin".into()).spawn(move || feed(source, terminal, tx));
        match spawned {
            Ok(_) => self.rx = Some(rx),
            // No thread, no input.
            Err(_) => self.ended = true,
        }
    }
}

/// The reader thread: cuts the input into blocks (see the module comment)
/// and sends them until the input ends or the VM is gone.
fn feed(mut source: Box<dyn Read + Send>, terminal: bool, tx: SyncSender<Vec<u8>>) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut line = Vec::with_capacity(LINE_MAX);
    loop {
        let k = match source.read(&mut buf) {
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // As emu: an error ends the input.
            Err(_) => 0,
        };
        let mut sent = Ok(());
        for &b in &buf[..k] {
            line.push(b);
            if b == b'\n' || line.len() == LINE_MAX {
                sent = sent.and_then(|_| tx.send(std::mem::take(&mut line)));
            }
        }
        if (k == 0 || terminal) && !line.is_empty() {
            sent = sent.and_then(|_| tx.send(std::mem::take(&mut line)));
        }
        if k == 0 && terminal {
            sent = sent.and_then(|_| tx.send(Vec::new()));
        }
        if sent.is_err() || (k == 0 && !terminal) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that gives its chunks one read at a time.
    struct Chunks(std::collections::VecDeque<&'static [u8]>);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some(c) = self.0.pop_front() else { return Ok(0) };
            buf[..c.len()].copy_from_slice(c);
            Ok(c.len())
        }
    }

    /// Every read of `n` bytes until the end, waiting as the scheduler does.
    fn reads(chunks: &[&'static [u8]], n: usize) -> Vec<Vec<u8>> {
        let mut s = Stdin::default();
        s.set_source(Box::new(Chunks(chunks.iter().copied().collect())));
        let mut out = Vec::new();
        loop {
            match s.read(1, n) {
                Some(b) if b.is_empty() => return out,
                Some(b) => out.push(b),
                None => {
                    let mut woken = Vec::new();
                    s.wait(None, &mut woken);
                    assert_eq!(woken, [1]);
                }
            }
        }
    }

    #[test]
    fn reads_stop_at_line_ends() {
        let got = reads(&[b"abc\nde", b"f\nlast"], 100);
        assert_eq!(got, [b"abc\n".to_vec(), b"def\n".to_vec(), b"last".to_vec()]);
    }

    #[test]
    fn a_short_read_leaves_the_rest_of_the_line() {
        let got = reads(&[b"abcdefgh\n"], 3);
        assert_eq!(got, [b"abc".to_vec(), b"def".to_vec(), b"gh\n".to_vec()]);
    }

    #[test]
    fn long_lines_come_in_pieces_of_1024() {
        let long: &'static [u8] = Box::leak(vec![b'a'; 3000].into_boxed_slice());
        let got = reads(&[long], 4000);
        assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), [1024, 1024, 952]);
    }

    #[test]
    fn the_end_of_input_reads_as_zero_again_and_again() {
        let mut s = Stdin::default();
        s.set_source(Box::new(Chunks([&b"x\n"[..]].into_iter().collect())));
        let mut next = || loop {
            if let Some(b) = s.read(1, 10) {
                return b;
            }
            s.wait(None, &mut Vec::new());
        };
        assert_eq!(next(), b"x\n");
        for _ in 0..3 {
            assert_eq!(next(), b"");
        }
    }
}
