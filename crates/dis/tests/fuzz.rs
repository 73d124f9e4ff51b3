//! The loader never panics, never hangs and never allocates out of
//! proportion to its input, whatever the bytes: every fixture is mutated
//! (bit flips, truncation, insertions, deletions, random bytes, huge
//! counts) and loaded. `DITE_FUZZ_CASES` sets the number of cases
//! (100,000 by default).
//!
//! This file holds one test so that the counting allocator sees only the
//! loader's allocations while a case runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; the counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(now, Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: `p` came from `alloc` with this layout.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// How a fixture is damaged.
#[derive(Clone, Debug)]
enum Mutation {
    /// Flip bits at these positions (as fractions of the length).
    Flip(Vec<(f64, u8)>),
    Truncate(f64),
    Insert(f64, Vec<u8>),
    Delete(f64, usize),
    /// Overwrite bytes from here with these.
    Overwrite(f64, Vec<u8>),
    /// Write a huge operand-encoded count (0x3f ff ff ff…) here.
    Huge(f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        prop::collection::vec((at.clone(), 0u8..8), 1..8).prop_map(Mutation::Flip),
        at.clone().prop_map(Mutation::Truncate),
        (at.clone(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(a, b)| Mutation::Insert(a, b)),
        (at.clone(), 1usize..64).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (at.clone(), prop::collection::vec(any::<u8>(), 1..12)).prop_map(|(a, b)| Mutation::Overwrite(a, b)),
        at.prop_map(Mutation::Huge),
    ]
}

fn apply(orig: &[u8], m: &Mutation) -> Vec<u8> {
    let mut b = orig.to_vec();
    let pos = |f: f64, len: usize| ((f * len as f64) as usize).min(len.saturating_sub(1));
    match m {
        Mutation::Flip(bits) => {
            for &(f, bit) in bits {
                let i = pos(f, b.len());
                b[i] ^= 1 << bit;
            }
        }
        Mutation::Truncate(f) => b.truncate(pos(*f, b.len())),
        Mutation::Insert(f, bytes) => {
            let i = pos(*f, b.len());
            b.splice(i..i, bytes.iter().copied());
        }
        Mutation::Delete(f, n) => {
            let i = pos(*f, b.len());
            let j = (i + n).min(b.len());
            b.drain(i..j);
        }
        Mutation::Overwrite(f, bytes) => {
            let i = pos(*f, b.len());
            for (k, &x) in bytes.iter().enumerate() {
                if let Some(d) = b.get_mut(i + k) {
                    *d = x;
                }
            }
        }
        Mutation::Huge(f) => {
            let i = pos(*f, b.len());
            for (k, x) in [0xffu8, 0xff, 0xff, 0x3f].iter().enumerate().rev() {
                if let Some(d) = b.get_mut(i + 3 - k) {
                    *d = *x;
                }
            }
            if let Some(d) = b.get_mut(i) {
                *d = 0xff;
            }
        }
    }
    b
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/dis");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "dis"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    v
}

/// Loads `bytes` and returns the peak bytes the load allocated.
fn load_measured(bytes: &[u8]) -> usize {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let r = dis::load(bytes, dis::WordSize::W8);
    let peak = PEAK.load(Relaxed).saturating_sub(before);
    drop(r);
    peak
}

/// Allocation allowed for loading `n` input bytes (the fixtures need about
/// 10n): decoded instructions and
/// data items are larger than their encodings, by a bounded factor.
fn bound(n: usize) -> usize {
    16 * n + (64 << 10)
}

#[test]
fn mutated_modules_load_or_fail_cleanly() {
    let cases: u32 = std::env::var("DITE_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let files = fixtures();
    assert!(files.len() >= 20, "fixtures missing");
    // The undamaged modules load, within the bound.
    for (name, b) in &files {
        let peak = load_measured(b);
        assert!(dis::load(b, dis::WordSize::W8).is_ok(), "{name} loads");
        assert!(peak <= bound(b.len()), "{name}: {peak} bytes allocated for {} input bytes", b.len());
    }
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let strategy = (0..files.len(), mutation());
    runner
        .run(&strategy, |(k, m)| {
            let bytes = apply(&files[k].1, &m);
            let peak = load_measured(&bytes);
            prop_assert!(
                peak <= bound(bytes.len()),
                "{}: {m:?}: {peak} bytes allocated for {} input bytes",
                files[k].0,
                bytes.len()
            );
            Ok(())
        })
        .unwrap();
}
