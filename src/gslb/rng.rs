//! A small, fast random number generator for answer selection.
//!
//! Selection needs a few random numbers per query (shuffles, weighted sampling); they must be
//! cheap and need not be cryptographic. Each UDP/TCP worker thread has its own generator (no
//! sharing, no locks); tests construct one with a fixed seed so random choices are repeatable.

use std::cell::{Cell, RefCell};

/// wyrand: 64-bit state, one multiply per output; passes BigCrush/PractRand.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator with a fixed seed (tests, benchmarks).
    pub fn seeded(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.state) * u128::from(self.state ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) ^ t) as u64
    }

    /// Uniform in `0..n` (n > 0), without modulo bias worth caring about (Lemire's method).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in (0, 1].
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) * (1.0 / (1u64 << 53) as f64)
    }
}

thread_local! {
    static THREAD_STATE: Cell<u64> = Cell::new({
        // Distinct per thread and per process start.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let addr = &t as *const u64 as u64;
        t ^ addr.rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15
    });
}

thread_local! {
    static ROTATIONS: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// This thread's next round-robin position for resource `resource`: consecutive answers of one
/// resource from one worker walk through its subpool groups in turn, whatever other resources
/// the worker answers in between. (The counter array grows once, the first time a worker meets a
/// resource index; after that, no allocation.)
pub fn next_rotation(resource: usize) -> u64 {
    ROTATIONS.with(|r| {
        let mut v = r.borrow_mut();
        if v.len() <= resource {
            v.resize(resource + 1, 0);
        }
        let x = v[resource];
        v[resource] = x.wrapping_add(1);
        x
    })
}

/// Runs `f` with this thread's generator.
pub fn with_thread_rng<R>(f: impl FnOnce(&mut Rng) -> R) -> R {
    THREAD_STATE.with(|s| {
        let mut rng = Rng { state: s.get() };
        let r = f(&mut rng);
        s.set(rng.state);
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_uniform_enough() {
        let mut r = Rng::seeded(7);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[r.below(10) as usize] += 1;
        }
        // Expected 10,000 each; 5 sigma is about 475.
        for c in counts {
            assert!((9_500..=10_500).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn rotation_is_per_resource() {
        // Interleaved answers of two resources: each still walks its own groups in turn.
        let a: Vec<u64> = (0..4)
            .map(|_| {
                next_rotation(1000);
                next_rotation(1001)
            })
            .collect();
        assert_eq!(a, [0, 1, 2, 3]);
        assert_eq!(next_rotation(1000), 4);
    }

    #[test]
    fn unit_is_in_range() {
        let mut r = Rng::seeded(1);
        for _ in 0..10_000 {
            let u = r.unit();
            assert!(u > 0.0 && u <= 1.0);
        }
    }
}
