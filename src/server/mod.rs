//! Running the server: listeners, workers, reload and shutdown.
//!
//! UDP is answered by dedicated OS threads (one socket per thread with SO_REUSEPORT), so no
//! amount of TCP or admin work can delay a UDP answer. TCP connections run as tasks on a tokio
//! runtime with an idle timeout and a connection cap. Both read the shared snapshot; SIGHUP
//! (`reload`) builds a new one and swaps it in, keeping the old one if the new configuration
//! is invalid, and says which settings only a restart can apply.

pub mod fdlimit;
mod reload;
mod tcp;
mod udp;
mod watch;

pub use reload::{ReloadReport, Trigger, rfc3339};
pub use watch::{Stamp, WatchList};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::signal::unix::{SignalKind, signal};
use tracing::info;

use crate::admin::{Live, QueryCounters};
use crate::config;
use crate::health::monitor::Monitor;
use crate::snapshot::{SharedSnapshot, Snapshot};

/// What `serve` needs from the command line.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Configuration file.
    pub config_path: PathBuf,
    /// Listen addresses overriding the file's `listen.dns`.
    pub listen: Vec<SocketAddr>,
    /// Admin address overriding the file's `listen.admin`.
    pub admin: Option<SocketAddr>,
}

/// Loads the configuration, starts probing, binds every listener, and serves until
/// SIGTERM/SIGINT.
pub fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    let loaded = match config::load(&opts.config_path) {
        Ok(l) => l,
        Err(diags) => {
            eprintln!("{diags}");
            anyhow::bail!(
                "{} error(s) in the configuration; not starting",
                diags.error_count()
            );
        }
    };
    let listen = if opts.listen.is_empty() {
        loaded.config.listen_dns.clone()
    } else {
        opts.listen.clone()
    };
    if listen.is_empty() {
        anyhow::bail!(
            "no DNS listen address: set listen.dns in the configuration or pass --listen"
        );
    }
    let admin_addr = opts.admin.or(loaded.config.listen_admin);
    if let Some(a) = opts.admin
        && let Err(msg) = config::admin_exposure(
            a,
            loaded.config.admin_token.is_some(),
            loaded.config.admin_insecure,
        )
    {
        anyhow::bail!("--admin {a}: {msg}; {}", config::ADMIN_EXPOSURE_HINT);
    }
    // Before anything opens a descriptor in numbers.
    let nofile = fdlimit::raise_nofile();
    let started = reload::Started {
        dns: opts.listen.is_empty().then(|| listen.clone()),
        admin: opts.admin.is_none().then_some(admin_addr),
        admin_flag: opts.admin,
        udp_workers: loaded.config.server.udp_workers,
    };
    let workers = match loaded.config.server.udp_workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let budget_inputs = reload::BudgetInputs {
        nofile,
        listen: listen.len(),
        udp_workers: workers,
        admin: admin_addr.is_some(),
    };
    let (budget, warning) = budget_inputs.plan(&loaded.config);
    fdlimit::log(&budget, warning.as_deref());
    let conns = Arc::new(fdlimit::Connections::new(&budget));
    // With the stamps taken before each file was read: a change made since is noticed.
    let watch_list = WatchList::new(&loaded.config);
    let config = loaded.config;
    let zones = Arc::new(loaded.zones);
    let stop = Arc::new(AtomicBool::new(false));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("dynadns-io")
        .build()?;

    // Probing starts with the configuration, and the first answers wait (at most one probe
    // timeout) for the first round, so a dead member is not handed out at start.
    let monitor = Monitor::new(config.health.clone());
    let first_states = runtime.block_on(async {
        monitor.configure(&config.gslb);
        monitor
            .wait_first_round(Monitor::first_round_limit(&config.gslb))
            .await;
        monitor.states_for(&config.gslb)
    });
    let generation = Arc::new(AtomicU64::new(1));
    let shared: SharedSnapshot = Arc::new(ArcSwap::from_pointee(Snapshot::assemble(
        &config,
        zones.clone(),
        1,
        first_states,
    )));

    // Bind everything before announcing readiness, so a port conflict fails the start and
    // no client sees UDP answers while TCP is still refused.
    let (tcp_listeners, admin_listener) = runtime.block_on(async {
        let mut out = Vec::new();
        for addr in &listen {
            let l = tcp::bind(*addr)
                .map_err(|e| anyhow::anyhow!("cannot listen on tcp {addr}: {e}"))?;
            info!("listening on tcp {addr}");
            out.push(l);
        }
        let admin = match admin_addr {
            Some(a) => {
                let l = tokio::net::TcpListener::bind(a)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen on admin {a}: {e}"))?;
                info!("admin API on http://{a}/ (/status, /metrics, /api/v1/overrides)");
                Some(l)
            }
            None => None,
        };
        anyhow::Ok((out, admin))
    })?;
    let mut udp_threads = Vec::new();
    let queries = Arc::new(QueryCounters::new(listen.len() * workers.max(1)));
    for addr in &listen {
        let sockets = udp::bind(*addr, workers)
            .map_err(|e| anyhow::anyhow!("cannot listen on udp {addr}: {e}"))?;
        info!("listening on udp {addr} ({} workers)", sockets.len());
        for (i, sock) in sockets.into_iter().enumerate() {
            let shared = shared.clone();
            let stop = stop.clone();
            let queries = queries.clone();
            let slot = udp_threads.len();
            udp_threads.push(
                std::thread::Builder::new()
                    .name(format!("udp-{addr}-{i}"))
                    .spawn(move || udp::worker(sock, shared, stop, &queries.udp[slot]))?,
            );
        }
    }
    info!(
        "ready: {} zone(s), {} resource(s), {} health target(s), version {}",
        zones.len(),
        config.gslb.resources.len(),
        config.gslb.targets.len(),
        env!("CARGO_PKG_VERSION")
    );

    let tcp_state = Arc::new(tcp::TcpState::new(&config.limits, conns.clone()));
    let live = Arc::new(Live::new(config.admin_token.clone()));
    live.set_hosts(config.admin_hosts.clone());
    live.set_watch(watch_list);
    let reloader = Arc::new(reload::Reloader {
        config_path: opts.config_path.clone(),
        started,
        shared: shared.clone(),
        generation: generation.clone(),
        tcp: tcp_state.clone(),
        monitor: monitor.clone(),
        live: live.clone(),
        conns: conns.clone(),
        budget: budget_inputs,
        busy: std::sync::Mutex::new(()),
    });
    runtime.block_on(async {
        for l in tcp_listeners {
            tokio::spawn(tcp::accept_loop(
                l,
                shared.clone(),
                tcp_state.clone(),
                queries.clone(),
            ));
        }
        if let Some(l) = admin_listener {
            let local = l.local_addr()?;
            let state =
                crate::admin::AdminState::new(shared.clone(), monitor.clone(), live, queries)
                    .with_listener(local, conns.clone());
            tokio::spawn(crate::admin::serve(l, state, conns.clone()));
        }
        tokio::spawn(watch::run(reloader.clone()));
        tokio::spawn(publish_health(
            monitor.clone(),
            shared.clone(),
            generation.clone(),
        ));
        let mut hup = signal(SignalKind::hangup())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        loop {
            tokio::select! {
                _ = hup.recv() => {
                    let reloader = reloader.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        reloader.reload(&reload::Trigger::Signal);
                    })
                    .await;
                }
                _ = term.recv() => { info!("SIGTERM: stopping"); break; }
                _ = int.recv() => { info!("SIGINT: stopping"); break; }
            }
        }
        anyhow::Ok(())
    })?;
    stop.store(true, Ordering::Relaxed);
    monitor.shutdown();
    monitor.save();
    for t in udp_threads {
        let _ = t.join();
    }
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    info!("stopped");
    Ok(())
}

/// How often probe windows are saved when nothing changed state (a restart then resumes with
/// windows at most this old).
const SAVE_EVERY: Duration = Duration::from_secs(5);

/// Publishes a new snapshot whenever health or forced states change, and keeps the state
/// file current.
async fn publish_health(monitor: Monitor, shared: SharedSnapshot, generation: Arc<AtomicU64>) {
    let mut save_tick = tokio::time::interval(SAVE_EVERY);
    loop {
        tokio::select! {
            _ = monitor.wait_change() => {
                // Let a burst of transitions (a datacenter failing) land in one snapshot.
                tokio::time::sleep(Duration::from_millis(10)).await;
                // rcu: recomputed if a reload swapped the snapshot meanwhile, so neither the
                // new configuration nor the new states are lost.
                shared.rcu(|cur| {
                    let states = monitor.states_for(&cur.gslb);
                    let next = generation.fetch_add(1, Ordering::Relaxed) + 1;
                    Arc::new(cur.with_health(states, next))
                });
                monitor.save();
            }
            _ = save_tick.tick() => {
                if monitor.unsaved_results() {
                    monitor.save();
                }
            }
        }
    }
}
