//! The prober's core: which targets exist, their k-of-n windows, and publishing changes.
//!
//! Every distinct (probe address, check) is one target, probed once however many members and
//! resources name it. [`Monitor::configure`] reconciles the running targets with a
//! configuration (at start and on every reload): new targets start probing, removed ones stop,
//! and targets whose check changed follow the new settings. Results go through the target's
//! window; a transition is logged once with its reason and wakes the publisher, which builds a
//! new snapshot. Nothing here is touched by the query path.
//!
//! The rest of the prober lives beside it: [`super::schedule`] runs one task per target
//! (jitter, in-flight bound), [`super::persist`] reads and writes the state file, and
//! [`super::status`] copies out what `/status` and `/metrics` show.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tracing::{info, warn};

use super::checks::{self, CheckChange};
use super::persist::Writer;
use super::probe::{LocalFault, ProbeOutcome, ProbeResult};
use super::schedule::{self, FirstProbe, Limiter, Task};
use super::stats::TargetStats;
use super::window::{Transition, Window, WindowState};
use super::{HealthStates, read_state_file};
use crate::gslb::{Answers, Check, Gslb, Overrides};
use crate::server::fdlimit::RateLimited;

/// At most one log line per this period about probes that could not run.
const NOT_RUN_LOG_EVERY: Duration = Duration::from_secs(10);

pub use super::persist::SavedStates;
pub use super::status::{LatencySummary, TargetStatus};

/// Settings of the prober (`health:` in the server file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthSettings {
    /// Where states and forced states are kept across restarts (None: not kept).
    pub state_file: Option<PathBuf>,
    /// Saved probe states older than this are ignored at start (forced states never are).
    pub state_max_age: Duration,
    /// Most probes in flight at once, over all targets.
    pub max_in_flight: usize,
    /// `server.max_file_size`: a larger state file is not read.
    pub max_file_size: u64,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            state_file: None,
            state_max_age: Duration::from_secs(600),
            max_in_flight: 1024,
            max_file_size: crate::fsread::DEFAULT_MAX_FILE_SIZE,
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

/// One target as the monitor keeps it.
pub(super) struct Entry {
    /// The check as last configured.
    pub(super) check: Check,
    /// Recent results and the state.
    pub(super) window: Window,
    /// Probe counts and latencies.
    pub(super) stats: TargetStats,
    /// Whether a result is known (or the state is fixed); false again after a check change
    /// that restarted the window, until the first probe of the new check.
    pub(super) probed: bool,
    /// When the state last changed and why.
    pub(super) last_change: Option<(SystemTime, String)>,
    /// The last probe result, described.
    pub(super) last_result: Option<String>,
    /// When a probe last succeeded.
    pub(super) last_ok: Option<SystemTime>,
    /// When a probe last could not run here, and why (EMFILE...).
    pub(super) last_not_run: Option<(SystemTime, String)>,
    /// The members that use this target, for logs and `/status`.
    pub(super) members: Vec<String>,
    /// The target's probe task, if it is probed over the network.
    task: Option<Task>,
}

impl Entry {
    fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }

    /// Sets the state (outside the k-of-n rules: a fixed or file state, a new check) and
    /// logs the change; returns whether it changed.
    fn set_state(&mut self, key: &TargetKey, up: bool, reason: String) -> bool {
        if self.window.is_up() == up {
            return false;
        }
        self.window = Window::new(self.check.down, self.check.up, up);
        self.log_change(key, reason);
        true
    }

    /// Logs the transition that just happened (the window holds the new state).
    fn log_change(&mut self, key: &TargetKey, reason: String) {
        let (from, to) = if self.window.is_up() {
            ("DOWN", "UP")
        } else {
            ("UP", "DOWN")
        };
        info!(
            "{} ({}, check {}) {from} -> {to}: {reason}",
            describe_target(key, &self.members),
            self.members.join(", "),
            key.check
        );
        self.last_change = Some((SystemTime::now(), reason));
    }
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
    /// Probes that could not run, indexed like [`LocalFault::REASONS`].
    not_run: [u64; LocalFault::REASONS.len()],
}

struct Inner {
    state: Mutex<State>,
    changed: Notify,
    first_round: Notify,
    limiter: Limiter,
    /// The running `health:` settings (a reload may change them).
    settings: Mutex<HealthSettings>,
    writer: Writer,
    not_run_log: RateLimited,
}

/// The running prober. Cheap to clone (shared).
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

impl Monitor {
    /// A prober with no targets; restores the state file if configured.
    pub fn new(settings: HealthSettings) -> Monitor {
        let m = Monitor {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                changed: Notify::new(),
                first_round: Notify::new(),
                limiter: Limiter::new(settings.max_in_flight),
                settings: Mutex::new(settings),
                writer: Writer::default(),
                not_run_log: RateLimited::new(NOT_RUN_LOG_EVERY),
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

    fn settings(&self) -> HealthSettings {
        self.inner
            .settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The bound on probes in flight, for the probe tasks.
    pub(super) fn limiter(&self) -> &Limiter {
        &self.inner.limiter
    }

    fn restore(&self) {
        let settings = self.settings();
        let Some(path) = &settings.state_file else {
            return;
        };
        let Some(saved) = SavedStates::read(path, settings.state_max_age, settings.max_file_size)
        else {
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
                settings.state_max_age.as_secs()
            ),
        }
    }

    /// Applies reloaded `health:` settings: a new state file is written from now on (the old
    /// one is left as it is), a new in-flight bound applies to probes that start from now on.
    /// `state_max_age` only matters at start. What changed is logged in one line.
    pub fn update_settings(&self, new: &HealthSettings) {
        let mut changed = Vec::new();
        let mut cur = self
            .inner
            .settings
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if cur.state_file != new.state_file {
            let show = |p: &Option<PathBuf>| {
                p.as_ref()
                    .map_or_else(|| "none".to_string(), |p| p.display().to_string())
            };
            changed.push(format!(
                "health.state_file {} -> {}",
                show(&cur.state_file),
                show(&new.state_file)
            ));
        }
        if self.inner.limiter.resize(new.max_in_flight) {
            changed.push(format!(
                "health.max_in_flight {} -> {}",
                cur.max_in_flight, new.max_in_flight
            ));
        }
        *cur = new.clone();
        drop(cur);
        if !changed.is_empty() {
            info!("health settings changed: {}", changed.join(", "));
        }
    }

    /// Probes the targets of `gslb`: keeps the state of targets that still exist, stops
    /// probing removed ones, starts new ones, and moves targets whose check changed to the
    /// new settings (see [`CheckChange`] for what happens to their windows). Call from within
    /// the tokio runtime.
    pub fn configure(&self, gslb: &Gslb) {
        let labels = member_labels(gslb);
        let mut st = self.lock();
        let wanted: HashSet<&TargetKey> = labels.keys().collect();
        let gone: Vec<TargetKey> = st
            .targets
            .keys()
            .filter(|k| !wanted.contains(*k))
            .cloned()
            .collect();
        for k in gone {
            if let Some(mut e) = st.targets.remove(&k) {
                e.stop();
            }
        }
        for (key, members) in labels {
            let Some(check) = gslb.checks.iter().find(|c| c.name == key.check).cloned() else {
                // Every target names a configured check; nothing to probe otherwise.
                continue;
            };
            if let Some(e) = st.targets.get_mut(&key) {
                e.members = members;
                self.reconfigure(&key, e, check);
                continue;
            }
            let restored = st.restored.remove(&key);
            let (window, probed) = fresh_window(&check, restored.as_ref(), true);
            let task = schedule::spawn(self, &key, &check, FirstProbe::Now);
            st.targets.insert(
                key,
                Entry {
                    check,
                    window,
                    stats: TargetStats::default(),
                    probed,
                    last_change: None,
                    last_result: None,
                    last_ok: None,
                    last_not_run: None,
                    members,
                    task,
                },
            );
        }
        // File checks: one watcher per file.
        let files: HashSet<PathBuf> = gslb
            .checks
            .iter()
            .filter_map(|c| checks::state_file(c).map(Path::to_path_buf))
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
        let mut apply_now = Vec::new();
        for p in files {
            if let std::collections::hash_map::Entry::Vacant(slot) = st.watchers.entry(p.clone()) {
                let me = self.clone();
                let watched = p.clone();
                let h = tokio::spawn(async move { me.watch_file(watched).await }).abort_handle();
                slot.insert(h);
            }
            apply_now.push(p);
        }
        st.dirty = true;
        drop(st);
        // Apply every file now, not only when its watcher first runs: the first snapshot is
        // built right after this returns (and file targets count as probed for the first
        // round only once applied), and watched files may now cover new targets.
        for p in apply_now {
            self.apply_file(&p);
        }
        self.inner.changed.notify_one();
    }

    /// Moves an existing target to its reloaded check.
    fn reconfigure(&self, key: &TargetKey, e: &mut Entry, check: Check) {
        let change = checks::change(&e.check, &check);
        let (down, up) = (check.down, check.up);
        match change {
            CheckChange::Same => {}
            CheckChange::Rules => {
                // Same probe, same schedule: the results so far are judged by the new rules
                // from the next probe on.
                e.window = Window::restore(down, up, &e.window.snapshot());
                e.check = check;
            }
            CheckChange::Timing => {
                e.window = Window::restore(down, up, &e.window.snapshot());
                e.stop();
                e.task = schedule::spawn(self, key, &check, FirstProbe::WithinInterval);
                e.check = check;
            }
            CheckChange::Probe => {
                // A different probe: its results so far do not count. The state is kept
                // until the new check's first result decides it (as at start).
                e.stop();
                let was_up = e.window.is_up();
                let (window, probed) = fresh_window(&check, None, was_up);
                info!(
                    "{} ({}): check {} changed; its window restarts",
                    describe_target(key, &e.members),
                    e.members.join(", "),
                    key.check
                );
                e.check = check;
                e.window = window;
                e.probed = probed;
                e.task = schedule::spawn(self, key, &e.check, FirstProbe::Now);
                if e.window.is_up() != was_up {
                    let reason = format!("check {} is now {}", key.check, e.check.kind.type_name());
                    e.log_change(key, reason);
                }
            }
        }
    }

    /// Applies one probe result, from the probe task `task`, to a target's window. Results of
    /// a task that was replaced or stopped meanwhile are dropped.
    pub(super) fn record(&self, key: &TargetKey, task: u64, result: ProbeResult) {
        let mut guard = self.lock();
        let st = &mut *guard;
        let Some(e) = st.targets.get_mut(key) else {
            return;
        };
        if e.task.as_ref().map(|t| t.id) != Some(task) {
            return;
        }
        if let ProbeOutcome::NotRun(fault) = &result.outcome {
            // Says nothing about the target: the window, the state and the statistics stay.
            let desc = result.outcome.describe();
            e.last_not_run = Some((SystemTime::now(), desc.clone()));
            e.last_result = Some(desc.clone());
            if let Some(i) = LocalFault::REASONS.iter().position(|r| *r == fault.reason) {
                st.not_run[i] += 1;
            }
            if let Some(n) = self.inner.not_run_log.hit() {
                warn!(
                    "{n} probe(s) could not run here in the last {}s, states kept (last: {} check {}: {desc}); \
                     see the descriptor budget in /status limits",
                    NOT_RUN_LOG_EVERY.as_secs(),
                    key.address,
                    key.check
                );
            }
            return;
        }
        st.results_since_save += 1;
        e.stats.record(&result);
        let ok = result.outcome.is_ok();
        if ok {
            e.last_ok = Some(SystemTime::now());
        }
        let desc = result.outcome.describe();
        e.last_result = Some(format!("{} in {} ms", desc, result.latency.as_millis()));
        let first = !e.probed;
        e.probed = true;
        let (down, up) = (e.check.down, e.check.up);
        let transition = if first {
            // No history (a new target, or a check whose old results were dropped): the first
            // result decides the state.
            let was_up = e.window.is_up();
            e.window = Window::new(down, up, ok);
            e.window.record(ok);
            match (was_up, ok) {
                (true, false) => Transition::WentDown,
                (false, true) => Transition::WentUp,
                _ => Transition::None,
            }
        } else {
            e.window.record(ok)
        };
        let reason = match transition {
            Transition::None => None,
            Transition::WentDown if first => Some(format!("first probe failed ({desc})")),
            Transition::WentUp if first => Some("first probe succeeded".to_string()),
            Transition::WentDown => Some(format!(
                "{} of last {} probes failed (last: {desc})",
                e.window.failures_in(down.1),
                down.1
            )),
            Transition::WentUp => Some(format!(
                "{} of last {} probes succeeded",
                e.window.successes_in(up.1),
                up.1
            )),
        };
        if let Some(reason) = reason {
            e.log_change(key, reason);
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
        let limit = self
            .lock()
            .targets
            .values()
            .find(|e| checks::state_file(&e.check) == Some(path))
            .map_or(crate::fsread::DEFAULT_MAX_FILE_SIZE, |e| {
                checks::state_file_limit(&e.check)
            });
        let states = read_state_file(path, limit);
        let mut st = self.lock();
        let mut changed = false;
        let mut became_ready = false;
        for (key, e) in st.targets.iter_mut() {
            if checks::state_file(&e.check) != Some(path) {
                continue;
            }
            let up = states.get(&key.address).copied().unwrap_or(true);
            became_ready |= !e.probed;
            e.probed = true;
            let reason = format!(
                "marked {} in {}",
                if up { "up" } else { "down" },
                path.display()
            );
            changed |= e.set_state(key, up, reason);
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
            .filter(|c| checks::is_probed(c))
            .map(|c| c.timeout)
            .max()
            .unwrap_or(Duration::ZERO)
    }

    /// Forced states now in effect.
    pub fn overrides(&self) -> Overrides {
        self.lock().overrides.clone()
    }

    /// Changes the forced states (admin API) and, when that changed anything, republishes and
    /// saves them (a DELETE of something not forced, or a PUT of the state already forced,
    /// builds no snapshot and writes no file).
    pub fn set_overrides(&self, f: impl FnOnce(&mut Overrides)) {
        let mut st = self.lock();
        let before = st.overrides.clone();
        f(&mut st.overrides);
        if st.overrides == before {
            return;
        }
        st.dirty = true;
        drop(st);
        self.inner.changed.notify_one();
        self.save();
    }

    /// Probes that could not run for a local reason, by reason (every reason, zeros included).
    pub fn not_run_counts(&self) -> BTreeMap<&'static str, u64> {
        let st = self.lock();
        LocalFault::REASONS
            .iter()
            .copied()
            .zip(st.not_run.iter().copied())
            .collect()
    }

    /// Every target's state, window and statistics, sorted by address and check.
    pub fn status(&self) -> Vec<TargetStatus> {
        let st = self.lock();
        let mut v: Vec<TargetStatus> = st
            .targets
            .iter()
            .map(|(k, e)| TargetStatus::of(k, e, st.overrides.members.get(&k.address).copied()))
            .collect();
        v.sort_by(|a, b| (a.address, &a.check).cmp(&(b.address, &b.check)));
        v
    }

    /// Writes the state file (atomically: a temporary file renamed over the old one): the
    /// windows of probed targets and the forced states.
    pub fn save(&self) {
        let Some(path) = self.settings().state_file else {
            return;
        };
        let (windows, overrides) = {
            let mut st = self.lock();
            st.results_since_save = 0;
            let windows = st
                .targets
                .iter()
                .filter(|(_, e)| e.probed && checks::is_probed(&e.check))
                .map(|(k, e)| (k.clone(), e.window.snapshot()))
                .collect();
            (windows, st.overrides.clone())
        };
        self.inner.writer.write(&path, windows, overrides);
    }

    /// Whether probe results arrived since the last save (the publisher saves periodically).
    pub fn unsaved_results(&self) -> bool {
        self.lock().results_since_save > 0
    }

    /// Stops every probe task and watcher.
    pub fn shutdown(&self) {
        let mut st = self.lock();
        for e in st.targets.values_mut() {
            e.stop();
        }
        for (_, h) in st.watchers.drain() {
            h.abort();
        }
    }
}

/// Appends `dynadns_probes_not_run_total{reason}` (Prometheus text) from
/// [`Monitor::not_run_counts`].
pub fn render_not_run(o: &mut String, counts: &BTreeMap<&'static str, u64>) {
    use std::fmt::Write as _;
    let _ = writeln!(
        o,
        "# HELP dynadns_probes_not_run_total Probes that could not run for a reason on this host \
         (EMFILE...), by reason; they do not count for or against any target.\n\
         # TYPE dynadns_probes_not_run_total counter"
    );
    for (reason, n) in counts {
        let _ = writeln!(o, "dynadns_probes_not_run_total{{reason=\"{reason}\"}} {n}");
    }
}

/// The window of a target that has no usable history: fixed states are known at once, file
/// states wait for the file, saved windows are resumed, and probed targets keep
/// `state_until_probed` until their first result. Returns the window and whether the state is
/// known.
fn fresh_window(
    check: &Check,
    saved: Option<&WindowState>,
    state_until_probed: bool,
) -> (Window, bool) {
    let (down, up) = (check.down, check.up);
    if let Some(fixed) = checks::fixed_state(check) {
        (Window::new(down, up, fixed), true)
    } else if checks::state_file(check).is_some() {
        (Window::new(down, up, state_until_probed), false)
    } else if let Some(saved) = saved {
        (Window::restore(down, up, saved), true)
    } else {
        (Window::new(down, up, state_until_probed), false)
    }
}

/// Every target of `gslb` with the members that use it ("www/msk", "192.0.2.10 in www/msk").
fn member_labels(gslb: &Gslb) -> BTreeMap<TargetKey, Vec<String>> {
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
    labels
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gslb::Force;
    use crate::health::probe::ProbeOutcome;

    /// A probe that could not run here (EMFILE) enters no window: with `down: 1/1` a single
    /// failure takes the target down, but any number of not-run probes leave it up; they are
    /// counted and shown.
    #[tokio::test]
    async fn a_probe_that_could_not_run_leaves_the_state_alone() {
        let dir = std::env::temp_dir().join(format!("dynadns-notrun-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("zones")).unwrap();
        let backend = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = backend.local_addr().unwrap().port();
        std::fs::write(
            dir.join("dynadns.yaml"),
            format!(
                "zones: zones/\nhealth: {{ state_file: \"\" }}\ndatacenters: {{ msk: {{}} }}\n\
                 checks:\n  c: {{ type: tcp, port: {port}, interval: 1h, timeout: 1s, down: 1/1, up: 1/1 }}\n\
                 resources:\n  www:\n    check: c\n    pools:\n      msk: [127.0.0.1]\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("zones/example.com.yaml"),
            "zone: example.com\nsoa: { primary: ns1, contact: hostmaster, serial: 1 }\n\
             records:\n  \"@\": { NS: ns1 }\n  ns1: { A: 192.0.2.53 }\n  www: { DYNA: www }\n",
        )
        .unwrap();
        let loaded = crate::config::load(&dir.join("dynadns.yaml")).expect("valid config");
        let gslb = &loaded.config.gslb;
        let m = Monitor::new(loaded.config.health.clone());
        m.configure(gslb);
        m.wait_first_round(Duration::from_secs(5)).await;
        assert!(
            m.states_for(gslb).is_up(0),
            "first probe of a listening port"
        );
        let key = key_of(gslb, 0);
        let task = m.lock().targets[&key].task.as_ref().unwrap().id;
        let not_run = || ProbeResult {
            outcome: ProbeOutcome::NotRun(LocalFault {
                reason: "emfile",
                detail: "Too many open files (os error 24)".into(),
            }),
            latency: Duration::ZERO,
        };
        for _ in 0..5 {
            m.record(&key, task, not_run());
        }
        assert!(
            m.states_for(gslb).is_up(0),
            "a local fault took the target down"
        );
        assert_eq!(m.not_run_counts()["emfile"], 5);
        let st = &m.status()[0];
        assert!(st.last_ok.is_some());
        assert!(
            st.last_not_run
                .as_ref()
                .unwrap()
                .1
                .contains("not probed (emfile)")
        );
        assert_eq!(
            st.results.get("other"),
            None,
            "not-run probes are not in the statistics"
        );
        // A real failure still counts.
        m.record(
            &key,
            task,
            ProbeResult {
                outcome: ProbeOutcome::Refused,
                latency: Duration::ZERO,
            },
        );
        assert!(!m.states_for(gslb).is_up(0));
        m.shutdown();
        drop(backend);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_a_real_change_of_forced_states_republishes() {
        let m = Monitor::new(HealthSettings::default());
        let dc = || "msk".to_string();
        m.set_overrides(|o| {
            o.datacenters.remove(&dc());
        });
        assert!(!m.lock().dirty, "removing nothing republished");
        m.set_overrides(|o| {
            o.datacenters.insert(dc(), Force::Drain);
        });
        assert!(std::mem::take(&mut m.lock().dirty));
        m.set_overrides(|o| {
            o.datacenters.insert(dc(), Force::Drain);
        });
        assert!(!m.lock().dirty, "forcing the same state again republished");
    }
}
