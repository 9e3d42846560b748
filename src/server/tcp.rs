//! DNS over TCP (RFC 7766): length-prefixed messages, pipelining, idle timeout, connection cap.
//!
//! Queries on one connection are answered in order as they arrive, so a client may send many
//! before reading. A connection that sends nothing for the idle timeout, or stalls in the
//! middle of a message or while we write, is closed; beyond the cap, new connections are
//! closed at once. None of this touches the UDP workers.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tracing::{debug, warn};

use super::fdlimit::{ACCEPT_BACKOFF, Connections, RateLimited};

use crate::admin::QueryCounters;
use crate::answer::{Client, Transport, respond};
use crate::config::Limits;
use crate::snapshot::SharedSnapshot;
use crate::wire::MAX_MESSAGE;

/// Shared TCP settings, adjustable by reload: the idle timeout here, the connection cap in
/// [`Connections`] (fitted to the descriptor budget).
pub struct TcpState {
    conns: Arc<Connections>,
    idle_ms: AtomicU64,
    refused: RateLimited,
    accept_errors: RateLimited,
}

impl TcpState {
    /// Settings from the configuration; the cap lives in `conns`.
    pub fn new(limits: &Limits, conns: Arc<Connections>) -> Self {
        TcpState {
            conns,
            idle_ms: AtomicU64::new(limits.tcp_idle_timeout.as_millis() as u64),
            refused: RateLimited::new(LOG_EVERY),
            accept_errors: RateLimited::new(LOG_EVERY),
        }
    }

    /// Applies a reloaded idle timeout to new and existing connections.
    pub fn update_limits(&self, limits: &Limits) {
        self.idle_ms.store(
            limits.tcp_idle_timeout.as_millis() as u64,
            Ordering::Relaxed,
        );
    }

    fn idle(&self) -> Duration {
        Duration::from_millis(self.idle_ms.load(Ordering::Relaxed))
    }
}

/// At most one log line per this period for refused connections and accept errors.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Opens a listening TCP socket.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let domain = if addr.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(1024)?;
    TcpListener::from_std(s.into())
}

/// Accepts connections forever, each served by its own task.
pub async fn accept_loop(
    listener: TcpListener,
    shared: SharedSnapshot,
    state: Arc<TcpState>,
    queries: Arc<QueryCounters>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                if let Some(n) = state.accept_errors.hit() {
                    warn!(
                        "tcp accept error: {e} ({n} in the last {LOG_EVERY:?}); retrying in {ACCEPT_BACKOFF:?}"
                    );
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some(permit) = state.conns.tcp.try_take() else {
            if let Some(n) = state.refused.hit() {
                warn!(
                    "dns tcp connection cap reached ({} open): closing new connections at once \
                     ({n} closed, last from {peer}); see limits.tcp_max_connections",
                    state.conns.tcp.max()
                );
            }
            drop(stream);
            continue;
        };
        let shared = shared.clone();
        let state = state.clone();
        let queries = queries.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_connection(stream, peer, &shared, &state, &queries).await {
                debug!("tcp {peer}: {e}");
            }
            drop(permit);
        });
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: &SharedSnapshot,
    state: &TcpState,
    queries: &QueryCounters,
) -> io::Result<()> {
    let _ = stream.set_nodelay(true);
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let mut inbuf = vec![0u8; MAX_MESSAGE];
    let mut outbuf = vec![0u8; MAX_MESSAGE + 2];
    let client = Client {
        addr: peer.ip(),
        transport: Transport::Tcp,
    };
    loop {
        let idle = state.idle();
        let len = match timeout(idle, rd.read_u16()).await {
            Err(_) => return Ok(()),
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(r) => r? as usize,
        };
        if len == 0 {
            return Ok(());
        }
        timeout(idle, rd.read_exact(&mut inbuf[..len]))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "stalled mid-message"))??;
        queries.tcp.inc();
        let answer = {
            let snap = shared.load();
            respond(&snap, &inbuf[..len], client, &mut outbuf[2..])
        };
        let Some(n) = answer else {
            // Responses and runts get no answer on UDP; on TCP the stream is not trustworthy.
            return Ok(());
        };
        outbuf[..2].copy_from_slice(&(n as u16).to_be_bytes());
        timeout(idle, wr.write_all(&outbuf[..n + 2]))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client not reading"))??;
    }
}
