//! UDP workers: one blocking socket per thread, all bound to the same address.
//!
//! SO_REUSEPORT lets the kernel spread datagrams over the workers' sockets, so workers share
//! nothing but the snapshot pointer. Each worker owns its receive and send buffers for its
//! whole life; answering a packet allocates nothing.
//!
//! After answering, the worker asks the snapshot's rate limiter (`limits.rrl`) about the
//! response unless the query carried a valid server cookie, and sends it, drops it, or cuts
//! it down in place to its truncated form.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tracing::warn;

use crate::admin::UdpCounters;
use crate::answer::{Client, Meta, Transport, respond_meta, slip};
use crate::cookie::Status as CookieStatus;
use crate::rrl::Verdict;
use crate::snapshot::SharedSnapshot;
use crate::wire::MAX_MESSAGE;

/// How often an idle worker checks whether the server is stopping.
const STOP_POLL: Duration = Duration::from_millis(200);

/// Opens `count` sockets on `addr` sharing the port.
///
/// SO_REUSEPORT would also let us join a port another process already holds with the same
/// option (and silently split its traffic), so first bind once without it: that fails with
/// "address in use" if anyone else is there.
pub fn bind(addr: SocketAddr, count: usize) -> io::Result<Vec<UdpSocket>> {
    drop(UdpSocket::bind(addr)?);
    (0..count.max(1))
        .map(|_| {
            let domain = if addr.is_ipv4() {
                Domain::IPV4
            } else {
                Domain::IPV6
            };
            let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
            if addr.is_ipv6() {
                s.set_only_v6(true)?;
            }
            s.set_reuse_port(true)?;
            // A deep receive queue absorbs bursts while a worker is busy.
            let _ = s.set_recv_buffer_size(4 << 20);
            s.bind(&addr.into())?;
            s.set_read_timeout(Some(STOP_POLL))?;
            Ok(s.into())
        })
        .collect()
}

/// Answers datagrams until `stop` is set.
pub fn worker(sock: UdpSocket, shared: SharedSnapshot, stop: Arc<AtomicBool>, count: &UdpCounters) {
    let mut inbuf = vec![0u8; MAX_MESSAGE];
    let mut outbuf = vec![0u8; MAX_MESSAGE];
    while !stop.load(Ordering::Relaxed) {
        let (n, peer) = match sock.recv_from(&mut inbuf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => {
                warn!("udp receive error: {e}");
                continue;
            }
        };
        count.queries.inc();
        let snap = shared.load();
        let client = Client {
            addr: peer.ip(),
            transport: Transport::Udp,
        };
        let mut meta = Meta::default();
        let Some(mut len) = respond_meta(&snap, &inbuf[..n], client, &mut outbuf, &mut meta) else {
            continue;
        };
        match meta.cookie {
            CookieStatus::None => {}
            CookieStatus::ClientOnly => count.cookie_client_only.inc(),
            CookieStatus::Invalid => count.cookie_invalid.inc(),
            CookieStatus::Valid => count.cookie_valid.inc(),
        }
        // A valid server cookie proves the source address is real: no reflection possible.
        if meta.cookie != CookieStatus::Valid && snap.rrl.enabled() {
            match snap.rrl.check(peer.ip(), meta.class, snap.rrl.now()) {
                Verdict::Send => {}
                Verdict::Drop => {
                    count.rrl_dropped.inc();
                    continue;
                }
                Verdict::Slip => {
                    count.rrl_slipped.inc();
                    len = slip(&mut outbuf, len, &meta);
                }
            }
        }
        // A failed send (e.g. unreachable peer) only concerns that one client.
        let _ = sock.send_to(&outbuf[..len], peer);
    }
}
