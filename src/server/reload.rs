//! Reload (SIGHUP): re-read the configuration, apply everything that can change while the
//! server runs, and say what cannot.
//!
//! A reload is all or nothing for the configuration itself: the new file and every zone are
//! validated first, and on any error the running snapshot stays (outcome `failed`, errors
//! listed). A valid configuration replaces zones, resources, limits, checks (the prober follows
//! them), `health:` settings and the admin token at once. What is only read at start (sockets,
//! UDP threads) cannot follow: each such setting whose configured value differs from the
//! running one is named in one warning line and in `/status` (`reload.needs_restart`), so an
//! operator never believes a change is live when it is not.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tracing::{error, info, warn};

use super::fdlimit::{self, Budget, Connections, Reserve};
use super::tcp::TcpState;
use crate::admin::Live;
use crate::config::{self, ServerConfig};
use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::health::monitor::Monitor;
use crate::snapshot::{SharedSnapshot, Snapshot};

/// What the last reload did, as `/status` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReloadReport {
    /// The snapshot generation serving after the reload (unchanged when it failed).
    pub generation: u64,
    /// When the reload happened (RFC 3339, UTC).
    pub at: String,
    /// `ok` (the new configuration serves) or `failed` (the previous one still serves).
    pub outcome: &'static str,
    /// Why it failed, one entry per problem (same text as `dynadns check`).
    pub errors: Vec<String>,
    /// Settings whose new value is configured but not in effect until a restart.
    pub needs_restart: Vec<&'static str>,
    /// What asked for it: `signal` (SIGHUP) or `file change: PATH[, PATH...]`.
    pub trigger: String,
}

/// What asked for a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// SIGHUP.
    Signal,
    /// The watcher saw these data files change (and stay unchanged for the debounce).
    Files(Vec<PathBuf>),
}

impl Trigger {
    /// The `trigger` label of `dynadns_reloads_total`: `signal` or `file`.
    pub fn label(&self) -> &'static str {
        match self {
            Trigger::Signal => "signal",
            Trigger::Files(_) => "file",
        }
    }

    /// As `/status` shows it (`reload.trigger`).
    fn describe(&self, base: &Path) -> String {
        match self {
            Trigger::Signal => "signal".into(),
            Trigger::Files(paths) => format!("file change: {}", shown_paths(paths, base)),
        }
    }
}

/// `paths` relative to `base` where they are under it, comma separated.
fn shown_paths(paths: &[PathBuf], base: &Path) -> String {
    let items: Vec<String> = paths
        .iter()
        .map(|p| p.strip_prefix(base).unwrap_or(p).display().to_string())
        .collect();
    items.join(", ")
}

/// The settings fixed when `serve` started: bound sockets and threads.
#[derive(Debug, Clone)]
pub(super) struct Started {
    /// DNS listen addresses in use; `None` when `--listen` chose them (the file's
    /// `listen.dns` then does not apply, before or after a reload).
    pub(super) dns: Option<Vec<SocketAddr>>,
    /// Admin address in use; `None` when `--admin` chose it.
    pub(super) admin: Option<Option<SocketAddr>>,
    /// The `--admin` address, whose exposure each reloaded token setting must still cover.
    pub(super) admin_flag: Option<SocketAddr>,
    /// `server.udp_workers` as configured (0 = one per CPU).
    pub(super) udp_workers: usize,
}

/// One setting that a reload cannot apply.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    setting: &'static str,
    running: String,
    configured: String,
}

impl Started {
    /// The settings of `new` that differ from what runs and need a restart, in the order of
    /// this table (`None`: a command-line option chose the value, so the file's does not
    /// apply). Values are compared as shown.
    fn pending(&self, new: &ServerConfig) -> Vec<Pending> {
        let table = [
            (
                "listen.dns",
                self.dns
                    .as_ref()
                    .map(|dns| (addr_list(dns), addr_list(&new.listen_dns))),
            ),
            (
                "listen.admin",
                self.admin
                    .map(|admin| (opt_addr(admin), opt_addr(new.listen_admin))),
            ),
            (
                "server.udp_workers",
                Some((
                    self.udp_workers.to_string(),
                    new.server.udp_workers.to_string(),
                )),
            ),
        ];
        table
            .into_iter()
            .filter_map(|(setting, values)| {
                let (running, configured) = values?;
                (running != configured).then_some(Pending {
                    setting,
                    running,
                    configured,
                })
            })
            .collect()
    }
}

fn addr_list(list: &[SocketAddr]) -> String {
    let items: Vec<String> = list.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(", "))
}

fn opt_addr(a: Option<SocketAddr>) -> String {
    a.map_or_else(|| "none".to_string(), |a| a.to_string())
}

/// What the descriptor budget is computed from besides the configuration: fixed at start.
#[derive(Debug, Clone, Copy)]
pub(super) struct BudgetInputs {
    /// The soft open-file limit after raising it.
    pub(super) nofile: u64,
    /// DNS listen addresses bound.
    pub(super) listen: usize,
    /// UDP threads per address.
    pub(super) udp_workers: usize,
    /// Whether the admin API listens.
    pub(super) admin: bool,
}

impl BudgetInputs {
    /// The caps for `config` and, when they had to be lowered, the warning.
    pub(super) fn plan(&self, config: &ServerConfig) -> (Budget, Option<String>) {
        let reserve = Reserve::of(config, self.listen, self.udp_workers, self.admin);
        fdlimit::plan(
            self.nofile,
            &reserve,
            config.limits.tcp_max_connections,
            config.admin_max_connections,
        )
    }
}

/// Everything a reload touches.
pub(super) struct Reloader {
    pub(super) config_path: PathBuf,
    pub(super) started: Started,
    pub(super) shared: SharedSnapshot,
    pub(super) generation: Arc<AtomicU64>,
    pub(super) tcp: Arc<TcpState>,
    pub(super) monitor: Monitor,
    pub(super) live: Arc<Live>,
    /// The connection caps, recomputed for the new configuration.
    pub(super) conns: Arc<Connections>,
    pub(super) budget: BudgetInputs,
    /// Held for the whole reload: SIGHUP and the watcher never reload at the same time.
    pub(super) busy: Mutex<()>,
}

impl Reloader {
    /// With `--admin` on a non-loopback address, a reloaded file must keep a token (or
    /// `admin.insecure`): the file's own `listen.admin` check does not see that address.
    fn admin_flag_ok(&self, loaded: config::Loaded) -> Result<config::Loaded, Diagnostics> {
        let Some(addr) = self.started.admin_flag else {
            return Ok(loaded);
        };
        match config::admin_exposure(
            addr,
            loaded.config.admin_token.is_some(),
            loaded.config.admin_insecure,
        ) {
            Ok(()) => Ok(loaded),
            Err(msg) => {
                let mut diags = Diagnostics::default();
                diags.push(
                    Diagnostic::new(
                        &self.config_path,
                        Pos { line: 1, col: 1 },
                        format!("--admin {addr}: {msg}"),
                    )
                    .hint(config::ADMIN_EXPOSURE_HINT),
                );
                Err(diags)
            }
        }
    }

    /// Re-reads the configuration and publishes it; on any error the running snapshot stays.
    /// The outcome is logged and kept for `/status`.
    pub(super) fn reload(&self, trigger: &Trigger) {
        let _busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        let base = self.config_path.parent().unwrap_or(Path::new(""));
        match trigger {
            Trigger::Signal => info!("reloading (SIGHUP) {}", self.config_path.display()),
            Trigger::Files(paths) => info!(
                "reloading {}: {} changed",
                self.config_path.display(),
                shown_paths(paths, base)
            ),
        }
        let report = match config::load(&self.config_path).and_then(|l| self.admin_flag_ok(l)) {
            Ok(loaded) => {
                // With the stamps taken before each file was read: a change made since is
                // noticed.
                self.live
                    .set_watch(super::watch::WatchList::new(&loaded.config));
                let pending = self.started.pending(&loaded.config);
                if !pending.is_empty() {
                    let what: Vec<String> = pending
                        .iter()
                        .map(|p| {
                            format!(
                                "{} changed from {} to {}",
                                p.setting, p.running, p.configured
                            )
                        })
                        .collect();
                    warn!(
                        "reload: {}: needs a restart, still using the old value{}",
                        what.join("; "),
                        if pending.len() > 1 { "s" } else { "" }
                    );
                }
                self.tcp.update_limits(&loaded.config.limits);
                let (budget, warning) = self.budget.plan(&loaded.config);
                if budget != self.conns.budget() {
                    fdlimit::log(&budget, warning.as_deref());
                }
                self.conns.apply(&budget);
                self.live.set_token(loaded.config.admin_token.clone());
                self.live.set_hosts(loaded.config.admin_hosts.clone());
                self.monitor.update_settings(&loaded.config.health);
                // Targets that still exist keep their state; removed ones stop being probed;
                // changed checks apply their new settings.
                self.monitor.configure(&loaded.config.gslb);
                let zones = Arc::new(loaded.zones);
                let config = loaded.config;
                let mut generation_now = 0;
                self.shared.rcu(|_| {
                    generation_now = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
                    Arc::new(Snapshot::assemble(
                        &config,
                        zones.clone(),
                        generation_now,
                        self.monitor.states_for(&config.gslb),
                    ))
                });
                info!(
                    "reloaded: {} zone(s), {} resource(s), generation {generation_now}",
                    zones.len(),
                    config.gslb.resources.len()
                );
                ReloadReport {
                    generation: generation_now,
                    at: rfc3339(SystemTime::now()),
                    outcome: "ok",
                    errors: Vec::new(),
                    needs_restart: pending.iter().map(|p| p.setting).collect(),
                    trigger: trigger.describe(base),
                }
            }
            Err(diags) => {
                for d in &diags.0 {
                    if d.is_error() {
                        error!("{}", d.one_line());
                    } else {
                        warn!("{}", d.one_line());
                    }
                }
                error!(
                    "reload failed with {} error(s); still serving the previous configuration",
                    diags.error_count()
                );
                ReloadReport {
                    generation: self.shared.load().generation,
                    at: rfc3339(SystemTime::now()),
                    outcome: "failed",
                    // Warnings found on the way are logged, but they are not why it failed.
                    errors: diags
                        .0
                        .iter()
                        .filter(|d| d.is_error())
                        .map(ToString::to_string)
                        .collect(),
                    // Nothing was applied; what the running configuration still lacks was
                    // said by the last successful reload.
                    needs_restart: self
                        .live
                        .last_reload()
                        .map(|r| r.needs_restart)
                        .unwrap_or_default(),
                    trigger: trigger.describe(base),
                }
            }
        };
        self.live.count_reload(trigger.label(), report.outcome);
        self.live.set_reload(report);
    }
}

/// `t` as RFC 3339 in UTC, to the second ("2026-11-27T08:30:00Z").
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_dates() {
        let at = |s: u64| rfc3339(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_796_215_854), "2026-12-02T12:50:54Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
