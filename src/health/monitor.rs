//! The prober: one task per health target, k-of-n windows, state publishing and persistence.
//!
//! Every distinct (probe address, check) is probed once, however many members and resources
//! name it. Each target has its own task: it probes right away (so `serve` can wait for a first
//! round), then once per interval at a random phase, so a thousand targets do not probe in the
//! same instant; a global semaphore bounds probes in flight. Results go through the target's
//! window; a transition is logged once with its reason and wakes the publisher, which builds a
//! new snapshot. Nothing here is touched by the query path.
//!
//! States and the operator's forced states are saved to the state file (atomically, on change
//! and every few seconds) and restored at start when the file is young enough, so a restart
//! does not bring a dead datacenter back into answers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore};
use tracing::{info, warn};

use super::probe::{ProbeResult, Prober};
use super::stats::TargetStats;
use super::window::{Transition, Window, WindowState};
use super::{HealthStates, read_state_file};
use crate::gslb::rng::with_thread_rng;
use crate::gslb::{Answers, Check, CheckKind, Force, Gslb, Overrides};

/// Settings of the prober (`health:` in the server file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthSettings {
    /// Where states and forced states are kept across restarts (None: not kept).
    pub state_file: Option<PathBuf>,
    /// Saved probe states older than this are ignored at start (forced states never are).
    pub state_max_age: Duration,
    /// Most probes in flight at once, over all targets.
    pub max_in_flight: usize,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            state_file: None,
            state_max_age: Duration::from_secs(600),
            max_in_flight: 1024,
        }
    }
}

/// Identifies a target across reloads and restarts: probe address and check name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TargetKey {
    /// Address probed.
    pub address: IpAddr,
    /// Check name.
    pub check: String,
}

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
    /// The members that use this target ("192.0.2.10 in www/msk").
    pub members: Vec<String>,
    /// When the state last changed (seconds since the epoch) and why.
    pub last_change: Option<(u64, String)>,
    /// The last probe result, described.
    pub last_result: Option<String>,
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

struct Entry {
    check: Check,
    window: Window,
    stats: TargetStats,
    probed: bool,
    last_change: Option<(SystemTime, String)>,
    last_result: Option<String>,
    members: Vec<String>,
    task: Option<tokio::task::AbortHandle>,
}

#[derive(Default)]
struct State {
    targets: HashMap<TargetKey, Entry>,
    overrides: Overrides,
    /// Windows read from the state file, used when their target is configured.
    restored: HashMap<TargetKey, WindowState>,
    /// File-check watchers by path.
    watchers: HashMap<PathBuf, tokio::task::AbortHandle>,
    dirty: bool,
    results_since_save: u64,
}

struct Inner {
    state: Mutex<State>,
    changed: Notify,
    first_round: Notify,
    limiter: Arc<Semaphore>,
    settings: HealthSettings,
    /// The last state-file write error, so a persistent problem is logged once, not every
    /// few seconds.
    save_error: Mutex<Option<String>>,
}

/// The running prober. Cheap to clone (shared).
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

/// The state file's format.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SavedState {
    version: u32,
    saved_at: u64,
    #[serde(default)]
    targets: Vec<SavedTarget>,
    #[serde(default)]
    overrides: Overrides,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedTarget {
    address: IpAddr,
    check: String,
    up: bool,
    /// Recent results, oldest first: '1' success, '0' failure.
    results: String,
}

/// What a state file holds, as `serve` and `explain` use it.
pub struct SavedStates {
    /// Seconds since the file was written.
    pub age_secs: u64,
    /// Probe windows, when the file is young enough to trust them.
    pub windows: Option<HashMap<TargetKey, WindowState>>,
    /// Forced states (always kept: an operator's decision does not expire).
    pub overrides: Overrides,
}

impl SavedStates {
    /// Reads a state file; a missing file is `None` silently, a broken one with a warning.
    pub fn read(path: &Path, max_age: Duration) -> Option<SavedStates> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                warn!(
                    "state file {}: {e}; starting without saved states",
                    path.display()
                );
                return None;
            }
        };
        let saved: SavedState = match serde_json::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                warn!(
                    "state file {} is not valid ({e}); starting without saved states",
                    path.display()
                );
                return None;
            }
        };
        let age_secs = now_secs().saturating_sub(saved.saved_at);
        let windows = (age_secs <= max_age.as_secs()).then(|| {
            saved
                .targets
                .into_iter()
                .map(|t| {
                    let results = t.results.bytes().map(|b| b == b'1').collect();
                    (
                        TargetKey {
                            address: t.address,
                            check: t.check,
                        },
                        WindowState {
                            is_up: t.up,
                            results,
                        },
                    )
                })
                .collect()
        });
        Some(SavedStates {
            age_secs,
            windows,
            overrides: saved.overrides,
        })
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Monitor {
    /// A prober with no targets; restores the state file if configured.
    pub fn new(settings: HealthSettings) -> Monitor {
        let m = Monitor {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                changed: Notify::new(),
                first_round: Notify::new(),
                limiter: Arc::new(Semaphore::new(settings.max_in_flight.max(1))),
                settings,
                save_error: Mutex::new(None),
            }),
        };
        m.restore();
        m
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than stopping health checks would; keep going.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn restore(&self) {
        let Some(path) = &self.inner.settings.state_file else {
            return;
        };
        let Some(saved) = SavedStates::read(path, self.inner.settings.state_max_age) else {
            return;
        };
        let mut st = self.lock();
        st.overrides = saved.overrides;
        match saved.windows {
            Some(w) => {
                info!(
                    "restored {} probe state(s) from {} ({} s old)",
                    w.len(),
                    path.display(),
                    saved.age_secs
                );
                st.restored = w;
            }
            None => info!(
                "state file {} is {} s old (max {} s): probe states not restored, forced states kept",
                path.display(),
                saved.age_secs,
                self.inner.settings.state_max_age.as_secs()
            ),
        }
    }

    /// Probes the targets of `gslb`: keeps the state of targets that still exist, stops
    /// probing removed ones, starts new ones. Call from within the tokio runtime.
    pub fn configure(&self, gslb: &Gslb) {
        let mut labels: BTreeMap<TargetKey, Vec<String>> = BTreeMap::new();
        for res in &gslb.resources {
            match &res.answers {
                Answers::Addresses(pools) => {
                    for p in pools {
                        for m in &p.members {
                            if let Some(t) = m.target {
                                let key = key_of(gslb, t);
                                let place = format!("{}/{}", res.name, gslb.dc_name(p.dc));
                                let label = if m.address == key.address {
                                    place
                                } else {
                                    format!("{} in {place}", m.address)
                                };
                                labels.entry(key).or_default().push(label);
                            }
                        }
                    }
                }
                Answers::Cnames(list) => {
                    for c in list {
                        if let Some(t) = c.health {
                            labels.entry(key_of(gslb, t)).or_default().push(format!(
                                "{} in {}/{}",
                                crate::wire::name::to_text(&c.target),
                                res.name,
                                gslb.dc_name(c.dc)
                            ));
                        }
                    }
                }
            }
        }
        let mut st = self.lock();
        let wanted: HashSet<TargetKey> = labels.keys().cloned().collect();
        let gone: Vec<TargetKey> = st
            .targets
            .keys()
            .filter(|k| !wanted.contains(*k))
            .cloned()
            .collect();
        for k in gone {
            if let Some(e) = st.targets.remove(&k)
                && let Some(t) = e.task
            {
                t.abort();
            }
        }
        for (key, members) in labels {
            let check = gslb
                .checks
                .iter()
                .find(|c| c.name == key.check)
                .cloned()
                .expect("every target names a configured check");
            if let Some(e) = st.targets.get_mut(&key) {
                e.members = members;
                if e.check != check {
                    // Same target, new check settings: keep what we know, apply new rules,
                    // restart its schedule.
                    e.window = Window::restore(check.down, check.up, &e.window.snapshot());
                    if let Some(t) = e.task.take() {
                        t.abort();
                    }
                    e.check = check.clone();
                    e.task = self.spawn_prober(&key, &check);
                }
                continue;
            }
            let restored = st.restored.remove(&key);
            let (window, probed) = match (&check.kind, restored) {
                (CheckKind::AlwaysUp, _) => (Window::new(check.down, check.up, true), true),
                (CheckKind::AlwaysDown, _) => (Window::new(check.down, check.up, false), true),
                (CheckKind::File { .. }, _) => (Window::new(check.down, check.up, true), false),
                (_, Some(saved)) => (Window::restore(check.down, check.up, &saved), true),
                (_, None) => (Window::new(check.down, check.up, true), false),
            };
            let task = self.spawn_prober(&key, &check);
            st.targets.insert(
                key,
                Entry {
                    check,
                    window,
                    stats: TargetStats::default(),
                    probed,
                    last_change: None,
                    last_result: None,
                    members,
                    task,
                },
            );
        }
        // File checks: one watcher per file.
        let files: HashSet<PathBuf> = gslb
            .checks
            .iter()
            .filter_map(|c| match &c.kind {
                CheckKind::File { path: p } => Some(p.clone()),
                _ => None,
            })
            .collect();
        let stale: Vec<PathBuf> = st
            .watchers
            .keys()
            .filter(|p| !files.contains(*p))
            .cloned()
            .collect();
        for p in stale {
            if let Some(h) = st.watchers.remove(&p) {
                h.abort();
            }
        }
        let mut reapply = Vec::new();
        for p in files {
            if let std::collections::hash_map::Entry::Vacant(slot) = st.watchers.entry(p.clone()) {
                let me = self.clone();
                let h = tokio::spawn(async move { me.watch_file(p).await }).abort_handle();
                slot.insert(h);
            } else {
                reapply.push(p);
            }
        }
        st.dirty = true;
        drop(st);
        // Watched files may now cover new targets: apply them at once.
        for p in reapply {
            self.apply_file(&p);
        }
        self.inner.changed.notify_one();
    }

    fn spawn_prober(&self, key: &TargetKey, check: &Check) -> Option<tokio::task::AbortHandle> {
        if !matches!(
            check.kind,
            CheckKind::Tcp { .. } | CheckKind::Http(_) | CheckKind::Https { .. }
        ) {
            return None;
        }
        let prober = match Prober::new(check) {
            Ok(p) => p,
            Err(e) => {
                warn!(
                    "check {}: {e}; target {} not probed",
                    check.name, key.address
                );
                return None;
            }
        };
        let me = self.clone();
        let key = key.clone();
        let interval = check.interval;
        Some(
            tokio::spawn(async move {
                // First probe now, then at a random phase within the interval, then every
                // interval (never two probes of one target at once).
                let mut next = Instant::now();
                let phase = with_thread_rng(|r| r.below(interval.as_millis().max(1) as u64));
                let mut first = true;
                loop {
                    tokio::time::sleep_until(next.into()).await;
                    let result = {
                        let Ok(_permit) = me.inner.limiter.acquire().await else {
                            return;
                        };
                        prober.probe(key.address).await
                    };
                    me.record(&key, result);
                    let scheduled = if first {
                        first = false;
                        next + Duration::from_millis(phase)
                    } else {
                        // Up to 10% early, never late: detection stays within k x interval
                        // + timeout, and targets drift apart instead of bunching up.
                        let jitter =
                            with_thread_rng(|r| r.below(interval.as_millis() as u64 / 10 + 1));
                        next + interval - Duration::from_millis(jitter)
                    };
                    next = scheduled.max(Instant::now());
                }
            })
            .abort_handle(),
        )
    }

    /// Applies one probe result to a target's window.
    fn record(&self, key: &TargetKey, result: ProbeResult) {
        let mut st = self.lock();
        st.results_since_save += 1;
        let Some(e) = st.targets.get_mut(key) else {
            return;
        };
        e.stats.record(&result);
        let ok = result.outcome.is_ok();
        let desc = result.outcome.describe();
        e.last_result = Some(format!("{} in {} ms", desc, result.latency.as_millis()));
        let first = !e.probed;
        e.probed = true;
        let transition = if first {
            // No history yet: the first result decides the initial state.
            if ok {
                Transition::None
            } else {
                e.window = Window::new(e.check.down, e.check.up, false);
                e.window.record(false);
                Transition::WentDown
            }
        } else {
            e.window.record(ok)
        };
        let reason = match transition {
            Transition::None => None,
            Transition::WentDown if first => Some(format!("first probe failed ({desc})")),
            Transition::WentDown => Some(format!(
                "{} of last {} probes failed (last: {desc})",
                e.window.failures_in(e.check.down.1),
                e.check.down.1
            )),
            Transition::WentUp => Some(format!(
                "{} of last {} probes succeeded",
                e.window.successes_in(e.check.up.1),
                e.check.up.1
            )),
        };
        if let Some(reason) = reason {
            let (from, to) = if e.window.is_up() {
                ("DOWN", "UP")
            } else {
                ("UP", "DOWN")
            };
            info!(
                "{} ({}, check {}) {from} -> {to}: {reason}",
                describe_target(key, &e.members),
                e.members.join(", "),
                key.check
            );
            e.last_change = Some((SystemTime::now(), reason));
            st.dirty = true;
            self.inner.changed.notify_one();
        }
        if first && st.targets.values().all(|e| e.probed) {
            self.inner.first_round.notify_waiters();
        }
    }

    async fn watch_file(&self, path: PathBuf) {
        let mut last: Option<(SystemTime, u64)> = None;
        loop {
            let meta = std::fs::metadata(&path)
                .ok()
                .map(|m| (m.modified().unwrap_or(UNIX_EPOCH), m.len()));
            if meta != last || last.is_none() {
                last = meta;
                self.apply_file(&path);
                if last.is_none() {
                    last = Some((UNIX_EPOCH, u64::MAX));
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Sets the targets of file checks on `path` from the file's current contents.
    fn apply_file(&self, path: &Path) {
        let states = read_state_file(path);
        let mut st = self.lock();
        let mut changed = false;
        let mut became_ready = false;
        for (key, e) in st.targets.iter_mut() {
            if !matches!(&e.check.kind, CheckKind::File { path: p } if p == path) {
                continue;
            }
            let up = states.get(&key.address).copied().unwrap_or(true);
            became_ready |= !e.probed;
            e.probed = true;
            if e.window.is_up() != up {
                e.window = Window::new(e.check.down, e.check.up, up);
                let reason = format!(
                    "marked {} in {}",
                    if up { "up" } else { "down" },
                    path.display()
                );
                info!(
                    "{} ({}, check {}) {} -> {}: {reason}",
                    describe_target(key, &e.members),
                    e.members.join(", "),
                    key.check,
                    if up { "DOWN" } else { "UP" },
                    if up { "UP" } else { "DOWN" }
                );
                e.last_change = Some((SystemTime::now(), reason));
                changed = true;
            }
        }
        if changed {
            st.dirty = true;
            self.inner.changed.notify_one();
        }
        if became_ready && st.targets.values().all(|e| e.probed) {
            self.inner.first_round.notify_waiters();
        }
    }

    /// Waits until every target has a first result, or `limit` has passed.
    pub async fn wait_first_round(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.inner.first_round.notified();
            if self.lock().targets.values().all(|e| e.probed) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    /// Waits until states or forced states changed since the last call.
    pub async fn wait_change(&self) {
        loop {
            let notified = self.inner.changed.notified();
            {
                let mut st = self.lock();
                if st.dirty {
                    st.dirty = false;
                    return;
                }
            }
            notified.await;
        }
    }

    /// Health states for the targets of `gslb`, in its target order.
    pub fn states_for(&self, gslb: &Gslb) -> HealthStates {
        let st = self.lock();
        let up = (0..gslb.targets.len() as u32)
            .map(|t| {
                st.targets
                    .get(&key_of(gslb, t))
                    .is_none_or(|e| e.window.is_up())
            })
            .collect();
        HealthStates {
            up,
            overrides: st.overrides.clone(),
        }
    }

    /// The longest probe timeout among configured checks (how long `serve` waits at start).
    pub fn first_round_limit(gslb: &Gslb) -> Duration {
        gslb.checks
            .iter()
            .filter(|c| {
                matches!(
                    c.kind,
                    CheckKind::Tcp { .. } | CheckKind::Http(_) | CheckKind::Https { .. }
                )
            })
            .map(|c| c.timeout)
            .max()
            .unwrap_or(Duration::ZERO)
    }

    /// Forced states now in effect.
    pub fn overrides(&self) -> Overrides {
        self.lock().overrides.clone()
    }

    /// Replaces the forced states (admin API) and republishes.
    pub fn set_overrides(&self, f: impl FnOnce(&mut Overrides)) {
        let mut st = self.lock();
        f(&mut st.overrides);
        st.dirty = true;
        drop(st);
        self.inner.changed.notify_one();
        self.save();
    }

    /// Every target's state, window and statistics, sorted by address and check.
    pub fn status(&self) -> Vec<TargetStatus> {
        let st = self.lock();
        let mut v: Vec<TargetStatus> = st
            .targets
            .iter()
            .map(|(k, e)| TargetStatus {
                address: k.address,
                check: k.check.clone(),
                check_type: match &e.check.kind {
                    CheckKind::Tcp { .. } => "tcp",
                    CheckKind::Http(_) => "http",
                    CheckKind::Https { .. } => "https",
                    CheckKind::AlwaysUp => "always_up",
                    CheckKind::AlwaysDown => "always_down",
                    CheckKind::File { .. } => "file",
                }
                .to_string(),
                up: e.window.is_up(),
                forced: st.overrides.members.get(&k.address).copied(),
                probed: e.probed,
                failures: e.window.failures_in(e.check.down.1),
                successes: e.window.successes_in(e.check.up.1),
                down_rule: e.check.down,
                up_rule: e.check.up,
                members: e.members.clone(),
                last_change: e.last_change.as_ref().map(|(t, r)| {
                    (
                        t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
                        r.clone(),
                    )
                }),
                last_result: e.last_result.clone(),
                results: e.stats.counts().filter(|(_, n)| *n > 0).collect(),
                latency: LatencySummary::of(&e.stats),
                stats: e.stats.clone(),
            })
            .collect();
        v.sort_by(|a, b| (a.address, &a.check).cmp(&(b.address, &b.check)));
        v
    }

    /// Writes the state file (atomically: a temporary file renamed over the old one).
    pub fn save(&self) {
        let Some(path) = &self.inner.settings.state_file else {
            return;
        };
        let saved = {
            let mut st = self.lock();
            st.results_since_save = 0;
            let mut targets: Vec<SavedTarget> = st
                .targets
                .iter()
                .filter(|(_, e)| {
                    e.probed
                        && matches!(
                            e.check.kind,
                            CheckKind::Tcp { .. } | CheckKind::Http(_) | CheckKind::Https { .. }
                        )
                })
                .map(|(k, e)| {
                    let w = e.window.snapshot();
                    SavedTarget {
                        address: k.address,
                        check: k.check.clone(),
                        up: w.is_up,
                        results: w
                            .results
                            .iter()
                            .map(|&r| if r { '1' } else { '0' })
                            .collect(),
                    }
                })
                .collect();
            targets.sort_by(|a, b| (a.address, &a.check).cmp(&(b.address, &b.check)));
            SavedState {
                version: 1,
                saved_at: now_secs(),
                targets,
                overrides: st.overrides.clone(),
            }
        };
        let text = match serde_json::to_string_pretty(&saved) {
            Ok(t) => t,
            Err(e) => {
                warn!("cannot encode state: {e}");
                return;
            }
        };
        let tmp = path.with_extension("tmp");
        let r = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
        let mut last = self
            .inner
            .save_error
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match r {
            Err(e) => {
                let e = e.to_string();
                if last.as_deref() != Some(e.as_str()) {
                    warn!(
                        "cannot write state file {}: {e}; states will not survive a restart until it can be written",
                        path.display()
                    );
                    *last = Some(e);
                }
            }
            Ok(()) => {
                if last.take().is_some() {
                    info!("state file {} written again", path.display());
                }
            }
        }
    }

    /// Whether probe results arrived since the last save (the publisher saves periodically).
    pub fn unsaved_results(&self) -> bool {
        self.lock().results_since_save > 0
    }

    /// Stops every probe task and watcher.
    pub fn shutdown(&self) {
        let mut st = self.lock();
        for e in st.targets.values_mut() {
            if let Some(t) = e.task.take() {
                t.abort();
            }
        }
        for (_, h) in st.watchers.drain() {
            h.abort();
        }
    }
}

/// The persistent identity of a target id of `gslb`.
pub fn key_of(gslb: &Gslb, target: u32) -> TargetKey {
    let t = &gslb.targets[target as usize];
    TargetKey {
        address: t.address,
        check: gslb.checks[t.check].name.clone(),
    }
}

/// "member 192.0.2.10" when the probe address is a member's own, else "probe target 10.0.0.11".
fn describe_target(key: &TargetKey, members: &[String]) -> String {
    if members.iter().any(|m| !m.contains(" in ")) {
        format!("member {}", key.address)
    } else {
        format!("probe target {}", key.address)
    }
}
