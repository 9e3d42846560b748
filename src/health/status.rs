//! Status: what `/status` and `/metrics` read about each target.
//!
//! The monitor keeps its targets behind a lock; [`TargetStatus`] is a copy of one target's
//! state, window counts, rules, members, last change and probe statistics, taken under that
//! lock and then rendered by the admin API without holding it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::checks;
use super::monitor::{Entry, TargetKey};
use super::stats::TargetStats;
use crate::gslb::Force;

/// What `/status` and `explain` show about one target.
#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    /// Address probed.
    pub address: IpAddr,
    /// Check name.
    pub check: String,
    /// Check type.
    pub check_type: String,
    /// Probed state.
    pub up: bool,
    /// Forced state of the member address, if any.
    pub forced: Option<Force>,
    /// Whether at least one result is known (or the state is static).
    pub probed: bool,
    /// Failures among the last `down_n` results.
    pub failures: u32,
    /// Successes among the last `up_n` results.
    pub successes: u32,
    /// `down: k/n`.
    pub down_rule: (u32, u32),
    /// `up: k/n`.
    pub up_rule: (u32, u32),
    /// Time between probes in milliseconds (0 for checks that are not probed), so an operator
    /// can see that a reload changed it.
    pub interval_ms: u64,
    /// The members that use this target ("192.0.2.10 in www/msk").
    pub members: Vec<String>,
    /// When the state last changed (seconds since the epoch) and why.
    pub last_change: Option<(u64, String)>,
    /// The last probe result, described (a probe that could not run here says
    /// "not probed (REASON): ...").
    pub last_result: Option<String>,
    /// When a probe last succeeded (seconds since the epoch; null: never since start), so a
    /// target that has not really been probed for long is visible.
    pub last_ok: Option<u64>,
    /// When a probe last could not run here (seconds since the epoch) and why.
    pub last_not_run: Option<(u64, String)>,
    /// Probes by result label (only labels seen).
    pub results: BTreeMap<&'static str, u64>,
    /// Probe latency: count, average and cumulative histogram buckets.
    pub latency: LatencySummary,
    /// Probe statistics (for /metrics).
    #[serde(skip)]
    pub stats: TargetStats,
}

/// Probe latency of a target, for `/status`.
#[derive(Debug, Clone, Serialize)]
pub struct LatencySummary {
    /// Probes measured.
    pub count: u64,
    /// Average latency in milliseconds.
    pub avg_ms: f64,
    /// Cumulative counts per upper bound in milliseconds ("+Inf" last).
    pub buckets: Vec<(String, u64)>,
}

impl LatencySummary {
    fn of(stats: &TargetStats) -> Self {
        let count = stats.total();
        LatencySummary {
            count,
            avg_ms: if count == 0 {
                0.0
            } else {
                stats.latency_sum().as_secs_f64() * 1000.0 / count as f64
            },
            buckets: stats
                .histogram()
                .map(|(le, n)| {
                    (
                        le.map_or_else(|| "+Inf".to_string(), |ms| ms.to_string()),
                        n,
                    )
                })
                .collect(),
        }
    }
}

impl TargetStatus {
    /// The status of one target, with the member address's forced state if any.
    pub(super) fn of(key: &TargetKey, e: &Entry, forced: Option<Force>) -> TargetStatus {
        let (down, up) = (e.check.down, e.check.up);
        TargetStatus {
            address: key.address,
            check: key.check.clone(),
            check_type: e.check.kind.type_name().to_string(),
            up: e.window.is_up(),
            forced,
            probed: e.probed,
            failures: e.window.failures_in(down.1),
            successes: e.window.successes_in(up.1),
            down_rule: down,
            up_rule: up,
            interval_ms: if checks::is_probed(&e.check) {
                e.check.interval.as_millis() as u64
            } else {
                0
            },
            members: e.members.clone(),
            last_change: e.last_change.as_ref().map(|(t, r)| (secs(*t), r.clone())),
            last_result: e.last_result.clone(),
            last_ok: e.last_ok.map(secs),
            last_not_run: e.last_not_run.as_ref().map(|(t, r)| (secs(*t), r.clone())),
            results: e.stats.counts().filter(|(_, n)| *n > 0).collect(),
            latency: LatencySummary::of(&e.stats),
            stats: e.stats.clone(),
        }
    }
}

/// Seconds since the epoch.
fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
