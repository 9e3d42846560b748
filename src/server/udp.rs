//! UDP workers: one blocking socket per thread, all bound to the same address.
//!
//! SO_REUSEPORT lets the kernel spread datagrams over the workers' sockets, so workers share
//! nothing but the snapshot pointer. Each worker owns its receive and send buffers for its
//! whole life; answering a packet allocates nothing.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tracing::warn;

use crate::admin::Counter;
use crate::answer::{Client, Transport, respond};
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
pub fn worker(sock: UdpSocket, shared: SharedSnapshot, stop: Arc<AtomicBool>, count: &Counter) {
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
        count.inc();
        let snap = shared.load();
        let client = Client {
            addr: peer.ip(),
            transport: Transport::Udp,
        };
        if let Some(len) = respond(&snap, &inbuf[..n], client, &mut outbuf) {
            // A failed send (e.g. unreachable peer) only concerns that one client.
            let _ = sock.send_to(&outbuf[..len], peer);
        }
    }
}
