//! Scheduling: one task per probed target, spread over the interval, with a global bound on
//! probes in flight.
//!
//! A target's task probes, hands the result to the monitor, and sleeps until its next turn:
//! the first turn after a random phase within the interval, then once per interval, up to 10%
//! early and never late, so a thousand targets spread out instead of probing in the same
//! instant, and detection stays within `k × interval + timeout`. One target never has two
//! probes in flight (the task awaits its probe). A probe that hangs only occupies its own task
//! until its timeout. The [`Limiter`] bounds probes in flight over all targets
//! (`health.max_in_flight`); a reload can change the bound.
//!
//! The monitor owns the tasks: it aborts a target's task when the target goes away or its
//! check changes, and starts a new one with the new settings.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::AbortHandle;
use tracing::warn;

use super::checks;
use super::monitor::{Monitor, TargetKey};
use super::probe::Prober;
use crate::gslb::Check;
use crate::gslb::rng::with_thread_rng;

/// When a new task probes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FirstProbe {
    /// At once: a new target, or a check whose results so far do not count any more.
    Now,
    /// At a random moment within the interval: the target's state is known and only its timing
    /// changed, so there is no hurry and no burst of probes right after a reload.
    WithinInterval,
}

/// The bound on probes in flight over all targets.
///
/// Each probe holds a permit of the current semaphore. A new bound replaces the semaphore:
/// probes started after the change count against the new one, probes already in flight finish
/// under the old one (so for at most one probe timeout both are in flight).
pub(super) struct Limiter {
    current: Mutex<(usize, Arc<Semaphore>)>,
}

impl Limiter {
    /// A bound of `n` probes in flight (at least 1).
    pub(super) fn new(n: usize) -> Limiter {
        let n = n.max(1);
        Limiter {
            current: Mutex::new((n, Arc::new(Semaphore::new(n)))),
        }
    }

    /// Sets a new bound; returns whether it changed.
    pub(super) fn resize(&self, n: usize) -> bool {
        let n = n.max(1);
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if cur.0 == n {
            return false;
        }
        *cur = (n, Arc::new(Semaphore::new(n)));
        true
    }

    fn semaphore(&self) -> Arc<Semaphore> {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }
}

/// A running probe task. Its id comes with every result it reports, so a result that was on
/// its way while the task was replaced (its check changed on reload) is recognised and dropped
/// instead of being judged under the new check.
pub(super) struct Task {
    /// Unique over the process's lifetime.
    pub(super) id: u64,
    handle: AbortHandle,
}

impl Task {
    /// Stops the task (at its next await point; a late result is dropped by its id).
    pub(super) fn abort(&self) {
        self.handle.abort();
    }
}

/// Starts probing `key` with `check`; `None` for checks that are not probed over the network
/// (fixed states, files) and for checks whose prober cannot be built (logged).
pub(super) fn spawn(
    monitor: &Monitor,
    key: &TargetKey,
    check: &Check,
    first: FirstProbe,
) -> Option<Task> {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    if !checks::is_probed(check) {
        return None;
    }
    let prober = match Prober::new(check) {
        Ok(p) => p,
        Err(e) => {
            warn!(
                "check {}: {e}; target {} not probed",
                key.check, key.address
            );
            return None;
        }
    };
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let me = monitor.clone();
    let key = key.clone();
    let interval = check.interval;
    let interval_ms = interval.as_millis().max(1) as u64;
    let handle = tokio::spawn(async move {
        let phase = Duration::from_millis(with_thread_rng(|r| r.below(interval_ms)));
        let mut next = match first {
            FirstProbe::Now => Instant::now(),
            FirstProbe::WithinInterval => Instant::now() + phase,
        };
        let mut spread = first == FirstProbe::Now;
        loop {
            tokio::time::sleep_until(next.into()).await;
            let result = {
                let limiter = me.limiter().semaphore();
                let Ok(_permit) = limiter.acquire().await else {
                    return;
                };
                prober.probe(key.address).await
            };
            me.record(&key, id, result);
            let scheduled = if spread {
                // The probe right at start is followed by one at a random phase, so
                // targets started together drift apart at once.
                spread = false;
                next + phase
            } else {
                // Up to 10% early, never late: detection stays within k x interval
                // + timeout, and targets drift apart instead of bunching up.
                let jitter = with_thread_rng(|r| r.below(interval_ms / 10 + 1));
                next + interval - Duration::from_millis(jitter)
            };
            next = scheduled.max(Instant::now());
        }
    })
    .abort_handle();
    Some(Task { id, handle })
}
