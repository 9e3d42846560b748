//! The descriptor budget: how many DNS TCP and admin connections fit under `RLIMIT_NOFILE`.
//!
//! Every open connection costs a descriptor, and so does every probe, the state file, a reload
//! reading zone files, the GeoIP database and BGP dumps. When idle connections from anyone take
//! the last descriptor, probes fail with EMFILE and healthy members would look dead. So at start
//! the soft limit is raised to the hard one, a reserve is set aside for everything that is not
//! a client connection, and the two connection caps are lowered (with one warning) until their
//! sum fits in what is left. Reload recomputes it (targets and caps may change). The figures are
//! shown in `/status` (`limits`) and `/metrics`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{info, warn};

use crate::config::ServerConfig;
use crate::health::checks;

/// Descriptors kept free on top of the counted reserve: log files, `/proc` reads, a GeoIP
/// mmap, libraries that open something once, and plain miscounting.
pub const MARGIN: u64 = 64;

/// Descriptors the process holds whatever the configuration: stdio, the tokio driver (epoll,
/// eventfd), the signal pipe, the runtime's blocking threads, `/dev/urandom`.
const BASE: u64 = 16;

/// Descriptors a reload may hold at once: the server file, one zone file, the GeoIP database,
/// one BGP dump, a members/networks file and the watcher's stats; plus the state file and its
/// temporary copy while saving.
const RELOAD_AND_STATE: u64 = 8;

/// Pause after an accept error (EMFILE, ENFILE, ENOBUFS): the pending connection stays in the
/// backlog and accepting again at once would spin a core.
pub const ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(50);

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft limit now in force
/// (`u64::MAX` when unlimited). Failure to raise is logged and the old limit used.
pub fn raise_nofile() -> u64 {
    match rlimit::Resource::NOFILE.get() {
        Ok((soft, hard)) => {
            if soft < hard {
                match rlimit::Resource::NOFILE.set(hard, hard) {
                    Ok(()) => return hard,
                    Err(e) => warn!(
                        "cannot raise the open-file limit from {soft} to its hard limit {hard}: {e}"
                    ),
                }
            }
            soft
        }
        Err(e) => {
            warn!("cannot read the open-file limit (RLIMIT_NOFILE): {e}; assuming 1024");
            1024
        }
    }
}

/// What the reserve is made of, for the log line and `/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserve {
    /// UDP sockets (one per worker per address), TCP listeners and the admin listener.
    pub sockets: u64,
    /// Probes that can run at once: probed targets, at most `health.max_in_flight`. An HTTP or
    /// HTTPS probe holds one socket.
    pub probes: u64,
    /// Everything else (stdio, runtime, reload, state file, [`MARGIN`]).
    pub other: u64,
}

impl Reserve {
    /// The reserve of a configuration served on `listen` addresses with `udp_workers` threads
    /// each and `admin` listener(s).
    pub fn of(config: &ServerConfig, listen: usize, udp_workers: usize, admin: bool) -> Reserve {
        let probed = config
            .gslb
            .targets
            .iter()
            .filter(|t| checks::is_probed(&config.gslb.checks[t.check]))
            .count();
        Reserve {
            sockets: (listen * udp_workers.max(1) + listen + usize::from(admin)) as u64,
            probes: probed.min(config.health.max_in_flight) as u64,
            other: BASE + RELOAD_AND_STATE + MARGIN,
        }
    }

    /// The total.
    pub fn total(&self) -> u64 {
        self.sockets + self.probes + self.other
    }
}

/// The connection caps in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// The soft open-file limit after raising it.
    pub nofile: u64,
    /// Descriptors kept for everything but client connections.
    pub reserve: u64,
    /// DNS TCP connections allowed at once.
    pub tcp_max: usize,
    /// Admin connections allowed at once.
    pub admin_max: usize,
}

/// Fits the configured caps under `nofile - reserve`. Returns the budget and, when a cap had
/// to be lowered, the warning to log.
pub fn plan(
    nofile: u64,
    reserve: &Reserve,
    tcp_wanted: usize,
    admin_wanted: usize,
) -> (Budget, Option<String>) {
    let total = reserve.total();
    let room = nofile.saturating_sub(total);
    let wanted = tcp_wanted as u64 + admin_wanted as u64;
    let (tcp, admin) = if wanted <= room {
        (tcp_wanted as u64, admin_wanted as u64)
    } else {
        // Admin gets its wish up to a quarter of the room (operators must still get in), DNS
        // TCP the rest; each at least 1, so a tiny limit degrades instead of refusing all.
        let admin = (admin_wanted as u64).min(room / 4).max(1);
        let tcp = (tcp_wanted as u64).min(room.saturating_sub(admin)).max(1);
        (tcp, admin)
    };
    let budget = Budget {
        nofile,
        reserve: total,
        tcp_max: tcp as usize,
        admin_max: admin as usize,
    };
    let warning = (wanted > room).then(|| {
        let mut lowered = Vec::new();
        if tcp < tcp_wanted as u64 {
            lowered.push(format!(
                "limits.tcp_max_connections lowered from {tcp_wanted} to {tcp}"
            ));
        }
        if admin < admin_wanted as u64 {
            lowered.push(format!(
                "admin.max_connections lowered from {admin_wanted} to {admin}"
            ));
        }
        format!(
            "open-file limit {nofile} is too low for the connection caps: {total} descriptors are \
             reserved ({} sockets, {} probes, {} other), leaving {room}; {}. Raise the limit \
             (ulimit -n, or LimitNOFILE= in the systemd unit) to at least {} or lower the caps",
            reserve.sockets,
            reserve.probes,
            reserve.other,
            lowered.join(", "),
            total + wanted
        )
    });
    (budget, warning)
}

/// Logs a budget: the warning (if any) once, and the figures at info.
pub fn log(budget: &Budget, warning: Option<&str>) {
    if let Some(w) = warning {
        warn!("{w}");
    }
    info!(
        "descriptors: limit {}, reserve {}, dns tcp connections at most {}, admin connections at most {}",
        budget.nofile, budget.reserve, budget.tcp_max, budget.admin_max
    );
}

/// A connection cap that a reload can change, with a count of open connections.
#[derive(Debug)]
pub struct ConnCap {
    slots: Arc<Semaphore>,
    max: AtomicU64,
    open: Arc<AtomicU64>,
}

/// Held by an open connection: frees its slot when dropped.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    open: Arc<AtomicU64>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ConnCap {
    /// A cap of `max` connections.
    pub fn new(max: usize) -> ConnCap {
        ConnCap {
            slots: Arc::new(Semaphore::new(max)),
            max: AtomicU64::new(max as u64),
            open: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A slot for a new connection, or `None` when the cap is reached (close it at once).
    pub fn try_take(&self) -> Option<Slot> {
        let permit = self.slots.clone().try_acquire_owned().ok()?;
        self.open.fetch_add(1, Ordering::Relaxed);
        Some(Slot {
            _permit: permit,
            open: self.open.clone(),
        })
    }

    /// Changes the cap; connections already open stay, new ones wait for the count to drop.
    pub fn set_max(&self, new: usize) {
        let new = new as u64;
        let old = self.max.swap(new, Ordering::Relaxed);
        if new > old {
            self.slots.add_permits((new - old) as usize);
        } else if old > new {
            // Permits held by open connections are forgotten as they come back.
            let mut left = (old - new) as usize;
            left -= self.slots.forget_permits(left);
            if left > 0
                && let Ok(rt) = tokio::runtime::Handle::try_current()
            {
                let slots = self.slots.clone();
                rt.spawn(async move {
                    while left > 0 {
                        match slots.acquire().await {
                            Ok(p) => {
                                p.forget();
                                left -= 1;
                            }
                            Err(_) => return,
                        }
                    }
                });
            }
        }
    }

    /// The cap.
    pub fn max(&self) -> usize {
        self.max.load(Ordering::Relaxed) as usize
    }

    /// Connections open now.
    pub fn open(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }
}

/// The budget in force and the two caps, shared by the listeners, reload and the admin API.
#[derive(Debug)]
pub struct Connections {
    /// DNS over TCP.
    pub tcp: ConnCap,
    /// Admin API.
    pub admin: ConnCap,
    nofile: AtomicU64,
    reserve: AtomicU64,
}

impl Connections {
    /// Connections capped as `budget` says.
    pub fn new(budget: &Budget) -> Connections {
        Connections {
            tcp: ConnCap::new(budget.tcp_max),
            admin: ConnCap::new(budget.admin_max),
            nofile: AtomicU64::new(budget.nofile),
            reserve: AtomicU64::new(budget.reserve),
        }
    }

    /// Applies a recomputed budget (reload).
    pub fn apply(&self, budget: &Budget) {
        self.tcp.set_max(budget.tcp_max);
        self.admin.set_max(budget.admin_max);
        self.nofile.store(budget.nofile, Ordering::Relaxed);
        self.reserve.store(budget.reserve, Ordering::Relaxed);
    }

    /// The budget in force, for `/status`.
    pub fn budget(&self) -> Budget {
        Budget {
            nofile: self.nofile.load(Ordering::Relaxed),
            reserve: self.reserve.load(Ordering::Relaxed),
            tcp_max: self.tcp.max(),
            admin_max: self.admin.max(),
        }
    }

    /// Appends the connection metrics (Prometheus text).
    pub fn render_metrics(&self, o: &mut String) {
        let b = self.budget();
        let _ = writeln!(
            o,
            "# HELP dynadns_open_connections Client connections open now, by listener.\n\
             # TYPE dynadns_open_connections gauge\n\
             dynadns_open_connections{{listener=\"tcp\"}} {}\n\
             dynadns_open_connections{{listener=\"admin\"}} {}\n\
             # HELP dynadns_max_connections Connection cap in force (after fitting the open-file limit), by listener.\n\
             # TYPE dynadns_max_connections gauge\n\
             dynadns_max_connections{{listener=\"tcp\"}} {}\n\
             dynadns_max_connections{{listener=\"admin\"}} {}\n\
             # HELP dynadns_open_files_limit The soft RLIMIT_NOFILE in force.\n\
             # TYPE dynadns_open_files_limit gauge\n\
             dynadns_open_files_limit {}\n\
             # HELP dynadns_open_files_reserve Descriptors kept for everything but client connections.\n\
             # TYPE dynadns_open_files_reserve gauge\n\
             dynadns_open_files_reserve {}",
            self.tcp.open(),
            self.admin.open(),
            b.tcp_max,
            b.admin_max,
            b.nofile,
            b.reserve
        );
    }
}

/// At most one log line per period for a recurring event, with the count since the last line:
/// an attack or a full descriptor table must not flood the log.
#[derive(Debug)]
pub struct RateLimited {
    period_ms: u64,
    /// Milliseconds since `epoch` of the last line, `u64::MAX` before the first.
    last: AtomicU64,
    count: AtomicU64,
    epoch: std::time::Instant,
}

impl RateLimited {
    /// One line per `period` at most.
    pub fn new(period: std::time::Duration) -> RateLimited {
        RateLimited {
            period_ms: period.as_millis() as u64,
            last: AtomicU64::new(u64::MAX),
            count: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
        }
    }

    /// Counts one event; returns `Some(events since the last line, this one included)` when a
    /// line is due now.
    pub fn hit(&self) -> Option<u64> {
        self.count.fetch_add(1, Ordering::Relaxed);
        let now = self.epoch.elapsed().as_millis() as u64;
        let last = self.last.load(Ordering::Relaxed);
        if last != u64::MAX && now.saturating_sub(last) < self.period_ms {
            return None;
        }
        self.last
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        Some(self.count.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reserve(probes: u64) -> Reserve {
        Reserve {
            sockets: 4,
            probes,
            other: BASE + RELOAD_AND_STATE + MARGIN,
        }
    }

    #[test]
    fn caps_that_fit_are_kept() {
        let (b, w) = plan(65_536, &reserve(10), 1024, 64);
        assert_eq!((b.tcp_max, b.admin_max), (1024, 64));
        assert_eq!(b.reserve, 4 + 10 + 88);
        assert!(w.is_none());
    }

    #[test]
    fn caps_are_lowered_under_a_low_limit() {
        let (b, w) = plan(1024, &reserve(10), 1024, 64);
        let room = 1024 - (4 + 10 + 88);
        assert_eq!(b.admin_max, 64);
        assert_eq!(b.tcp_max, room as usize - 64);
        assert!(b.tcp_max + b.admin_max + b.reserve as usize <= 1024);
        let w = w.expect("a warning");
        assert!(
            w.contains("limits.tcp_max_connections lowered from 1024 to 858. Raise"),
            "{w}"
        );
        assert!(w.contains("ulimit -n"), "{w}");
        // Tiny limits still leave one connection each.
        let (b, _) = plan(50, &reserve(10), 1024, 64);
        assert_eq!((b.tcp_max, b.admin_max), (1, 1));
    }

    #[tokio::test]
    async fn cap_counts_and_shrinks() {
        let cap = ConnCap::new(2);
        let a = cap.try_take().unwrap();
        let _b = cap.try_take().unwrap();
        assert!(cap.try_take().is_none());
        assert_eq!(cap.open(), 2);
        cap.set_max(1);
        drop(a);
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert!(cap.try_take().is_none(), "shrunk cap still full");
        assert_eq!(cap.open(), 1);
        cap.set_max(3);
        assert!(cap.try_take().is_some());
    }

    #[test]
    fn rate_limited_lines_carry_the_count() {
        let r = RateLimited::new(std::time::Duration::from_secs(3600));
        assert_eq!(r.hit(), Some(1));
        assert_eq!(r.hit(), None);
        assert_eq!(r.hit(), None);
        let r = RateLimited::new(std::time::Duration::ZERO);
        assert_eq!(r.hit(), Some(1));
        assert_eq!(r.hit(), Some(1));
    }
}
