//! The k-of-n state machine that turns probe results into UP/DOWN.
//!
//! One probe result says little: a packet lost, a GC pause, a deploy. A member changes state
//! only when enough of its recent results agree: `down: k/n` takes it DOWN on the probe after
//! which at least `k` of the last `n` results are failures, `up: k/n` brings it back on the probe
//! after which at least `k` of the last `n` results are successes. Choosing the up rule stricter
//! than the down rule (defaults `down: 3/5`, `up: 5/5`) is the hysteresis that keeps a flapping
//! backend out of answers: with `down: 10/20, up: 20/20` a member goes DOWN on its 10th failure
//! among the last 20 probes (successes in between or not) and comes back only after 20
//! consecutive successes.
//!
//! The two rules may look at windows of different sizes, so the window keeps the last
//! `max(n_down, n_up)` results (at most 256) as a bit ring; anything older is forgotten. A
//! state change is never triggered by a result that points the other way: a failure never
//! brings a member UP and a success never takes it DOWN. That matters only for configurations
//! whose rules overlap (`k_down + k_up <= n`), where the window can satisfy the opposite rule
//! right after a change; with them the member changes back on the next result that agrees.

/// Most results a window keeps; the configuration rejects larger `n`.
pub const MAX_WINDOW: u32 = 256;

/// Number of 64-bit words in the ring.
const WORDS: usize = (MAX_WINDOW as usize).div_ceil(64);

/// The last `n` probe results of one target and its current state.
///
/// Plain data with no locking: the monitor owns one per target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// `k` failures among the last `n` results take an UP member DOWN.
    down: (u32, u32),
    /// `k` successes among the last `n` results bring a DOWN member UP.
    up: (u32, u32),
    /// Results kept: `max(n_down, n_up)`.
    cap: u32,
    /// Ring of results, bit set = success; slot `(next + cap - 1) % cap` is the newest.
    bits: [u64; WORDS],
    /// Slot the next result goes to.
    next: u32,
    /// Results held, up to `cap`.
    len: u32,
    /// Current state.
    is_up: bool,
}

/// What one result did to the state, so the caller knows when to publish and log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The state did not change.
    None,
    /// The member was UP and is now DOWN.
    WentDown,
    /// The member was DOWN and is now UP.
    WentUp,
}

/// A window as plain data, for the state file: the state survives a restart without the
/// member flapping back to "up until probed", and the recent results keep counting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WindowState {
    /// Whether the member was up.
    pub is_up: bool,
    /// Recent results, oldest first, `true` = success.
    pub results: Vec<bool>,
}

/// Clamps a configured `k/n` into `1 <= k <= n <= MAX_WINDOW`, so a window is always valid
/// even when built from unchecked input (the configuration already rejects such values).
fn clamp_rule((k, n): (u32, u32)) -> (u32, u32) {
    let n = n.clamp(1, MAX_WINDOW);
    (k.clamp(1, n), n)
}

impl Window {
    /// A window with no results yet, in the given state.
    ///
    /// `down` and `up` are `(k, n)`; out-of-range values are clamped into
    /// `1 <= k <= n <= 256`. Members start up (a target with no result yet is up) unless a
    /// state file or the check says otherwise.
    pub fn new(down: (u32, u32), up: (u32, u32), initially_up: bool) -> Self {
        let down = clamp_rule(down);
        let up = clamp_rule(up);
        Window {
            down,
            up,
            cap: down.1.max(up.1),
            bits: [0; WORDS],
            next: 0,
            len: 0,
            is_up: initially_up,
        }
    }

    /// Applies one probe result and says whether the state changed.
    ///
    /// While UP: DOWN when this result is a failure and at least `k_down` of the last `n_down`
    /// results (this one included) are failures. While DOWN: UP when this result is a success
    /// and at least `k_up` of the last `n_up` results are successes.
    pub fn record(&mut self, ok: bool) -> Transition {
        let slot = self.next as usize;
        let (word, bit) = (slot / 64, slot % 64);
        if ok {
            self.bits[word] |= 1 << bit;
        } else {
            self.bits[word] &= !(1 << bit);
        }
        self.next = (self.next + 1) % self.cap;
        self.len = (self.len + 1).min(self.cap);

        if self.is_up && !ok && self.failures_in(self.down.1) >= self.down.0 {
            self.is_up = false;
            Transition::WentDown
        } else if !self.is_up && ok && self.successes_in(self.up.1) >= self.up.0 {
            self.is_up = true;
            Transition::WentUp
        } else {
            Transition::None
        }
    }

    /// Whether the member is up now.
    pub fn is_up(&self) -> bool {
        self.is_up
    }

    /// Failures among the last `last` results (fewer if fewer are held), for status pages
    /// and for "3 of the last 5 failed" log lines.
    pub fn failures_in(&self, last: u32) -> u32 {
        let n = last.min(self.len);
        n - self.successes_in(n)
    }

    /// Successes among the last `last` results (fewer if fewer are held).
    pub fn successes_in(&self, last: u32) -> u32 {
        let n = last.min(self.len);
        (0..n).filter(|&i| self.nth_newest(i)).count() as u32
    }

    /// Results held: grows with each probe up to `max(n_down, n_up)`.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether no result has been recorded yet (the state is still the initial one).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The state and results as plain data, for the state file.
    pub fn snapshot(&self) -> WindowState {
        WindowState {
            is_up: self.is_up,
            results: (0..self.len).rev().map(|i| self.nth_newest(i)).collect(),
        }
    }

    /// A window from saved data, possibly under different rules (the check was edited between
    /// runs): the state is kept as saved, and the newest results that fit the new window are
    /// replayed without triggering transitions.
    pub fn restore(down: (u32, u32), up: (u32, u32), state: &WindowState) -> Self {
        let mut w = Window::new(down, up, state.is_up);
        let skip = state.results.len().saturating_sub(w.cap as usize);
        for &ok in &state.results[skip..] {
            w.push_quiet(ok);
        }
        w
    }

    /// Result `i` counting back from the newest (`0` = newest); `i < len`.
    fn nth_newest(&self, i: u32) -> bool {
        let slot = ((self.next + self.cap - 1 - i) % self.cap) as usize;
        self.bits[slot / 64] & (1 << (slot % 64)) != 0
    }

    /// Records a result without evaluating the rules (for [`Window::restore`]).
    fn push_quiet(&mut self, ok: bool) {
        let saved = self.is_up;
        // `record` may flip the state; restore it, since saved results were already acted on.
        let _ = self.record(ok);
        self.is_up = saved;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `results` and returns the 1-based index of every transition.
    fn run(w: &mut Window, results: &[bool]) -> Vec<(usize, Transition)> {
        results
            .iter()
            .enumerate()
            .filter_map(|(i, &ok)| match w.record(ok) {
                Transition::None => None,
                t => Some((i + 1, t)),
            })
            .collect()
    }

    #[test]
    fn seed_down_on_tenth_failure_in_twenty_consecutive() {
        let mut w = Window::new((10, 20), (20, 20), true);
        for i in 1..10 {
            assert_eq!(w.record(false), Transition::None, "failure {i}");
            assert!(w.is_up());
        }
        assert_eq!(w.record(false), Transition::WentDown);
        assert!(!w.is_up());
        assert_eq!(w.failures_in(20), 10);
    }

    #[test]
    fn seed_down_on_tenth_failure_in_twenty_interleaved() {
        // S F S F ... : the 10th failure is probe 20, and then 10 of the last 20 failed.
        let mut w = Window::new((10, 20), (20, 20), true);
        let seq: Vec<bool> = (0..20).map(|i| i % 2 == 0).collect();
        assert_eq!(run(&mut w, &seq), vec![(20, Transition::WentDown)]);

        // 10 successes, then failures with successes in between: 9 failures spread over
        // 18 probes do nothing; the 10th failure within the last 20 does.
        let mut w = Window::new((10, 20), (20, 20), true);
        let mut seq = vec![true; 10];
        seq.extend([false, true].repeat(9)); // probes 11..28: 9 failures
        assert_eq!(run(&mut w, &seq), vec![]);
        assert_eq!(w.failures_in(20), 9);
        assert_eq!(w.record(false), Transition::WentDown); // probe 29
    }

    #[test]
    fn seed_failures_older_than_twenty_are_forgotten() {
        // 9 failures, 11 successes, then one failure: the window of 20 now holds the
        // 8 newer failures + this one = 9 (the first failure slid out), so still up.
        let mut w = Window::new((10, 20), (20, 20), true);
        let mut seq = vec![false; 9];
        seq.extend(vec![true; 11]);
        seq.push(false);
        assert_eq!(run(&mut w, &seq), vec![]);
        assert_eq!(w.failures_in(20), 9);
        assert!(w.is_up());
    }

    #[test]
    fn seed_up_needs_twenty_consecutive_successes() {
        let mut w = Window::new((10, 20), (20, 20), false);
        // 19 successes, a failure: the count restarts.
        let mut seq = vec![true; 19];
        seq.push(false);
        assert_eq!(run(&mut w, &seq), vec![]);
        for i in 1..20 {
            assert_eq!(
                w.record(true),
                Transition::None,
                "success {i} after the failure"
            );
        }
        assert_eq!(w.record(true), Transition::WentUp);
        assert_eq!(w.successes_in(20), 20);
    }

    #[test]
    fn seed_full_cycle() {
        let mut w = Window::new((10, 20), (20, 20), true);
        let mut seq = vec![false; 10]; // down at 10
        seq.extend(vec![true; 20]); // up at 30
        seq.extend(vec![false; 10]); // down at 40
        assert_eq!(
            run(&mut w, &seq),
            vec![
                (10, Transition::WentDown),
                (30, Transition::WentUp),
                (40, Transition::WentDown)
            ]
        );
    }

    #[test]
    fn defaults_three_of_five_and_five_of_five() {
        let mut w = Window::new((3, 5), (5, 5), true);
        // F S F S F: 3 of 5 failed on probe 5.
        assert_eq!(
            run(&mut w, &[false, true, false, true, false]),
            vec![(5, Transition::WentDown)]
        );
        // 4 successes then a failure: not up; then 5 in a row: up on the 5th.
        assert_eq!(run(&mut w, &[true, true, true, true, false]), vec![]);
        assert_eq!(
            run(&mut w, &[true, true, true, true, true]),
            vec![(5, Transition::WentUp)]
        );
        // F S S F S S F: never 3 failures within 5 → stays up.
        let mut w = Window::new((3, 5), (5, 5), true);
        assert_eq!(
            run(&mut w, &[false, true, true, false, true, true, false]),
            vec![]
        );
    }

    #[test]
    fn window_of_one() {
        let mut w = Window::new((1, 1), (1, 1), true);
        assert_eq!(w.record(true), Transition::None);
        assert_eq!(w.record(false), Transition::WentDown);
        assert_eq!(w.record(false), Transition::None);
        assert_eq!(w.record(true), Transition::WentUp);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn k_equals_n_needs_all() {
        let mut w = Window::new((4, 4), (4, 4), true);
        assert_eq!(run(&mut w, &[false, false, false, true, false]), vec![]);
        assert_eq!(
            run(&mut w, &[false, false, false]),
            vec![(3, Transition::WentDown)]
        );
    }

    #[test]
    fn different_window_sizes_keep_the_larger() {
        // down 2/3, up 3/10: 10 results kept; the up rule sees further back than the down rule.
        let mut w = Window::new((2, 3), (3, 10), true);
        assert_eq!(
            run(&mut w, &[false, true, true, false]),
            vec![] // failures 3 apart: never 2 within 3
        );
        assert_eq!(w.record(false), Transition::WentDown); // F F within the last 3
        assert_eq!(w.len(), 5);
        // One success makes 3 successes among the last 10 (two older ones count).
        assert_eq!(w.record(true), Transition::WentUp);
        for _ in 0..20 {
            w.record(true);
        }
        assert_eq!(w.len(), 10);
        assert_eq!(w.successes_in(100), 10);
    }

    #[test]
    fn a_failure_never_brings_a_member_up() {
        // Overlapping rules: down 1/5, up 1/5. After going down the window still holds
        // successes, but the next failure must not count as "1 success among 5".
        let mut w = Window::new((1, 5), (1, 5), true);
        assert_eq!(
            run(&mut w, &[true, true, false, false, true]),
            vec![(3, Transition::WentDown), (5, Transition::WentUp)]
        );
    }

    #[test]
    fn full_ring_of_256_wraps() {
        let mut w = Window::new((256, 256), (256, 256), true);
        for _ in 0..255 {
            assert_eq!(w.record(false), Transition::None);
        }
        assert_eq!(w.record(false), Transition::WentDown);
        for _ in 0..300 {
            w.record(true);
        }
        assert!(w.is_up());
        assert_eq!((w.len(), w.successes_in(256)), (256, 256));
        // One failure in a full ring of successes: exactly one counted at every depth.
        w.record(false);
        assert_eq!(w.failures_in(1), 1);
        assert_eq!(w.failures_in(256), 1);
        assert_eq!(w.failures_in(1000), 1);
    }

    #[test]
    fn out_of_range_rules_are_clamped() {
        let mut w = Window::new((0, 0), (9, 1000), true);
        assert_eq!(w.record(false), Transition::WentDown); // 1/1
        assert!(w.len() <= MAX_WINDOW);
    }

    #[test]
    fn counts_with_fewer_results_than_asked() {
        let mut w = Window::new((3, 5), (5, 5), true);
        assert!(w.is_empty());
        assert_eq!((w.failures_in(5), w.successes_in(5)), (0, 0));
        w.record(false);
        w.record(true);
        assert_eq!((w.failures_in(5), w.successes_in(5), w.len()), (1, 1, 2));
        assert_eq!((w.failures_in(1), w.successes_in(1)), (0, 1));
        assert_eq!(w.failures_in(0), 0);
    }

    #[test]
    fn snapshot_and_restore() {
        let mut w = Window::new((10, 20), (20, 20), true);
        run(&mut w, &[true, false, true, true]);
        let s = w.snapshot();
        assert_eq!(
            s,
            WindowState {
                is_up: true,
                results: vec![true, false, true, true]
            }
        );
        assert_eq!(Window::restore((10, 20), (20, 20), &s), w);

        // Restoring into a smaller window keeps the newest results and the saved state,
        // even where the saved results would satisfy the new rules.
        let saved = WindowState {
            is_up: true,
            results: vec![false, false, false, true, false, false],
        };
        let mut r = Window::restore((3, 5), (5, 5), &saved);
        assert!(r.is_up());
        assert_eq!(r.len(), 5);
        assert_eq!(r.snapshot().results, vec![false, false, true, false, false]);
        assert_eq!(r.record(false), Transition::WentDown);
    }
}
