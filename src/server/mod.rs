//! Running the server: listeners, workers, reload and shutdown.
//!
//! UDP is answered by dedicated OS threads (one socket per thread with SO_REUSEPORT), so no
//! amount of TCP or admin work can delay a UDP answer. TCP connections run as tasks on a tokio
//! runtime with an idle timeout and a connection cap. Both read the shared snapshot; SIGHUP
//! builds a new one and swaps it in, keeping the old one if the new configuration is invalid.

mod tcp;
mod udp;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use tokio::signal::unix::{SignalKind, signal};
use tracing::{error, info, warn};

use crate::config;
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

/// Loads the configuration, binds every listener, and serves until SIGTERM/SIGINT.
pub fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    let loaded = match config::load(&opts.config_path) {
        Ok(l) => l,
        Err(diags) => {
            eprintln!("{diags}");
            anyhow::bail!(
                "{} error(s) in the configuration; not starting",
                diags.len()
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
    let workers = match loaded.config.server.udp_workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let limits = loaded.config.limits.clone();
    let zones = loaded.zones.len();
    let shared: SharedSnapshot = Arc::new(ArcSwap::from_pointee(Snapshot::build(loaded, 1)));
    let stop = Arc::new(AtomicBool::new(false));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("dynadns-io")
        .build()?;

    // Bind everything before announcing readiness, so a port conflict fails the start and
    // no client sees UDP answers while TCP is still refused.
    let tcp_listeners = runtime.block_on(async {
        let mut out = Vec::new();
        for addr in &listen {
            let l = tcp::bind(*addr)
                .map_err(|e| anyhow::anyhow!("cannot listen on tcp {addr}: {e}"))?;
            info!("listening on tcp {addr}");
            out.push(l);
        }
        anyhow::Ok(out)
    })?;
    let mut udp_threads = Vec::new();
    for addr in &listen {
        let sockets = udp::bind(*addr, workers)
            .map_err(|e| anyhow::anyhow!("cannot listen on udp {addr}: {e}"))?;
        info!("listening on udp {addr} ({} workers)", sockets.len());
        for (i, sock) in sockets.into_iter().enumerate() {
            let shared = shared.clone();
            let stop = stop.clone();
            udp_threads.push(
                std::thread::Builder::new()
                    .name(format!("udp-{addr}-{i}"))
                    .spawn(move || udp::worker(sock, shared, stop))?,
            );
        }
    }
    info!(
        "ready: {zones} zone(s), version {}",
        env!("CARGO_PKG_VERSION")
    );

    let tcp_state = Arc::new(tcp::TcpState::new(&limits));
    runtime.block_on(async {
        for l in tcp_listeners {
            tokio::spawn(tcp::accept_loop(l, shared.clone(), tcp_state.clone()));
        }
        let mut hup = signal(SignalKind::hangup())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut generation = 1u64;
        loop {
            tokio::select! {
                _ = hup.recv() => {
                    generation += 1;
                    reload(&opts, &listen, &shared, generation, &tcp_state);
                }
                _ = term.recv() => { info!("SIGTERM: stopping"); break; }
                _ = int.recv() => { info!("SIGINT: stopping"); break; }
            }
        }
        anyhow::Ok(())
    })?;
    stop.store(true, Ordering::Relaxed);
    for t in udp_threads {
        let _ = t.join();
    }
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    info!("stopped");
    Ok(())
}

/// Re-reads the configuration and publishes it; on any error the running snapshot stays.
fn reload(
    opts: &ServeOptions,
    listening: &[SocketAddr],
    shared: &SharedSnapshot,
    generation: u64,
    tcp: &tcp::TcpState,
) {
    info!("SIGHUP: reloading {}", opts.config_path.display());
    match config::load(&opts.config_path) {
        Ok(loaded) => {
            if opts.listen.is_empty() && loaded.config.listen_dns != listening {
                warn!("listen addresses changed in the file; they take effect on restart");
            }
            tcp.update_limits(&loaded.config.limits);
            let zones = loaded.zones.len();
            shared.store(Arc::new(Snapshot::build(loaded, generation)));
            info!("reloaded: {zones} zone(s), generation {generation}");
        }
        Err(diags) => {
            for d in &diags.0 {
                error!("{d}");
            }
            error!(
                "reload failed with {} error(s); still serving the previous configuration",
                diags.len()
            );
        }
    }
}
