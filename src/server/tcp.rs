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
use tokio::sync::Semaphore;
use tokio::time::timeout;
use tracing::{debug, warn};

use crate::admin::QueryCounters;
use crate::answer::{Client, Transport, respond};
use crate::config::Limits;
use crate::snapshot::SharedSnapshot;
use crate::wire::MAX_MESSAGE;

/// Shared TCP limits, adjustable by reload.
pub struct TcpState {
    slots: Arc<Semaphore>,
    max: AtomicU64,
    idle_ms: AtomicU64,
}

impl TcpState {
    /// Limits from the configuration.
    pub fn new(limits: &Limits) -> Self {
        TcpState {
            slots: Arc::new(Semaphore::new(limits.tcp_max_connections)),
            max: AtomicU64::new(limits.tcp_max_connections as u64),
            idle_ms: AtomicU64::new(limits.tcp_idle_timeout.as_millis() as u64),
        }
    }

    /// Applies reloaded limits to new and existing connections.
    pub fn update_limits(&self, limits: &Limits) {
        let new = limits.tcp_max_connections as u64;
        let old = self.max.swap(new, Ordering::Relaxed);
        if new > old {
            self.slots.add_permits((new - old) as usize);
        } else if old > new {
            self.slots.forget_permits((old - new) as usize);
        }
        self.idle_ms.store(
            limits.tcp_idle_timeout.as_millis() as u64,
            Ordering::Relaxed,
        );
    }

    fn idle(&self) -> Duration {
        Duration::from_millis(self.idle_ms.load(Ordering::Relaxed))
    }
}

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
                warn!("tcp accept error: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = state.slots.clone().try_acquire_owned() else {
            debug!("tcp connection from {peer} refused: connection limit reached");
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
