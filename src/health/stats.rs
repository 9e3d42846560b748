//! Per-target probe statistics: how often each kind of result happened and how long probes
//! took, for metrics and the status page.
//!
//! Plain data with no locking inside: the monitor owns one per target and locks around it as
//! it sees fit. Counters are indexed by [`ProbeOutcome::label_index`], so recording is a few
//! array increments, and the label set is fixed so exported series do not grow with whatever
//! a backend answers.

use std::time::Duration;

use super::probe::{ProbeOutcome, ProbeResult};

/// Upper bounds of the latency histogram buckets, in milliseconds; a last, unbounded bucket
/// (`+Inf`) follows. Loopback answers in well under 1 ms, far datacenters in tens, timeouts
/// are at most seconds.
pub const LATENCY_BUCKETS_MS: [u64; 12] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/// Counts and latency histogram of one target's probes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetStats {
    /// Probes per outcome label, indexed like [`ProbeOutcome::LABELS`].
    counts: [u64; ProbeOutcome::LABELS.len()],
    /// Probes per latency bucket (not cumulative); the last one is `+Inf`.
    buckets: [u64; LATENCY_BUCKETS_MS.len() + 1],
    /// Sum of all latencies, for the histogram's `_sum` and averages.
    latency_sum: Duration,
    /// Most recent result, for the status page ("last: HTTP 500, 12 ms").
    last: Option<ProbeResult>,
}

impl TargetStats {
    /// Empty statistics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accounts one probe.
    pub fn record(&mut self, r: &ProbeResult) {
        self.counts[r.outcome.label_index()] += 1;
        let ms = r.latency.as_secs_f64() * 1000.0;
        let b = LATENCY_BUCKETS_MS
            .iter()
            .position(|&le| ms <= le as f64)
            .unwrap_or(LATENCY_BUCKETS_MS.len());
        self.buckets[b] += 1;
        self.latency_sum += r.latency;
        self.last = Some(r.clone());
    }

    /// Probes whose outcome had this label (0 for unknown labels).
    pub fn count(&self, label: &str) -> u64 {
        ProbeOutcome::LABELS
            .iter()
            .position(|&l| l == label)
            .map_or(0, |i| self.counts[i])
    }

    /// Every label with its count, zeros included, in [`ProbeOutcome::LABELS`] order.
    pub fn counts(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        ProbeOutcome::LABELS
            .iter()
            .copied()
            .zip(self.counts.iter().copied())
    }

    /// Probes recorded.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The histogram as Prometheus wants it: `(upper bound in ms or None for +Inf,
    /// cumulative count)`.
    pub fn histogram(&self) -> impl Iterator<Item = (Option<u64>, u64)> + '_ {
        let bounds = LATENCY_BUCKETS_MS.iter().map(|&b| Some(b)).chain([None]);
        bounds.zip(self.buckets.iter()).scan(0u64, |acc, (le, &n)| {
            *acc += n;
            Some((le, *acc))
        })
    }

    /// Sum of all probe latencies.
    pub fn latency_sum(&self) -> Duration {
        self.latency_sum
    }

    /// The most recent result, if any.
    pub fn last(&self) -> Option<&ProbeResult> {
        self.last.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(outcome: ProbeOutcome, ms: u64) -> ProbeResult {
        ProbeResult {
            outcome,
            latency: Duration::from_millis(ms),
        }
    }

    #[test]
    fn counts_and_histogram() {
        let mut s = TargetStats::new();
        s.record(&r(ProbeOutcome::Ok, 0));
        s.record(&r(ProbeOutcome::Ok, 1)); // exactly on a bound: that bucket
        s.record(&r(ProbeOutcome::HttpStatus(503), 30));
        s.record(&r(ProbeOutcome::HttpStatus(500), 7000));
        s.record(&r(ProbeOutcome::Timeout, 1000));
        assert_eq!(s.total(), 5);
        assert_eq!(s.count("ok"), 2);
        assert_eq!(s.count("http_5xx"), 2);
        assert_eq!(s.count("timeout"), 1);
        assert_eq!(s.count("refused"), 0);
        assert_eq!(s.count("nonsense"), 0);
        assert_eq!(s.counts().count(), ProbeOutcome::LABELS.len());
        let h: Vec<_> = s.histogram().collect();
        assert_eq!(h.len(), 13);
        assert_eq!(h[0], (Some(1), 2)); // <= 1 ms
        assert_eq!(h[4], (Some(25), 2));
        assert_eq!(h[5], (Some(50), 3));
        assert_eq!(h[9], (Some(1000), 4));
        assert_eq!(h[11], (Some(5000), 4));
        assert_eq!(h[12], (None, 5));
        assert_eq!(s.latency_sum(), Duration::from_millis(8031));
        assert_eq!(s.last().map(|l| l.outcome.label()), Some("timeout"));
    }

    #[test]
    fn every_outcome_has_its_own_label() {
        let all = [
            ProbeOutcome::Ok,
            ProbeOutcome::Timeout,
            ProbeOutcome::Refused,
            ProbeOutcome::Reset,
            ProbeOutcome::ConnectError(String::new()),
            ProbeOutcome::HttpStatus(100),
            ProbeOutcome::HttpStatus(200),
            ProbeOutcome::HttpStatus(301),
            ProbeOutcome::HttpStatus(404),
            ProbeOutcome::HttpStatus(599),
            ProbeOutcome::HttpStatus(600),
            ProbeOutcome::TlsError(String::new()),
            ProbeOutcome::BodyMismatch(String::new()),
            ProbeOutcome::BodyTooSlow,
            ProbeOutcome::Other(String::new()),
        ];
        let labels: Vec<_> = all.iter().map(ProbeOutcome::label).collect();
        assert_eq!(labels, ProbeOutcome::LABELS);
    }
}
