//! Response rate limiting and DNS cookies as a client sees them: real packets to a running
//! server, decoded with hickory-proto.
//!
//! One source floods one name over UDP: about `rate` answers a second come back in full,
//! about half of the rest truncated (TC=1, no records: "slip 2"), the others not at all, and
//! the metrics count them. A client that learned its server cookie is never limited, nor is
//! TCP, nor anything with `rate: 0`. A malformed COOKIE option is FORMERR.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{QueryBuilder, TestServer, free_loopback_port, http_get, metric};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};

const ZONE: &str = r#"zone: example.com
ttl: 3600
soa: { primary: ns1, contact: hostmaster, serial: 1, refresh: 3600, retry: 900, expire: 1209600, negative_ttl: 300 }
records:
  "@": { NS: [ns1, ns2] }
  ns1: { A: 192.0.2.53 }
  ns2: { A: 192.0.2.54 }
  www: { A: [192.0.2.1, 192.0.2.2], TXT: ["a text long enough to make the answer larger than the query"] }
"#;

const RATE: usize = 20;
const FLOOD: usize = 200;

/// The server file with admin API at `admin` and `limits.rrl` as given.
fn config(admin: SocketAddr, rrl: &str) -> String {
    format!(
        "listen:\n  dns: [\"127.0.0.1:5353\"]\n  admin: \"{admin}\"\nzones: zones/\n\
         server:\n  udp_workers: 2\nlimits:\n  rrl: {rrl}\n"
    )
}

fn start(rrl: &str) -> (TestServer, SocketAddr) {
    let admin = free_loopback_port();
    let config = config(admin, rrl);
    let server = TestServer::start_with(&[
        ("dynadns.yaml", config.as_str()),
        ("zones/example.com.yaml", ZONE),
    ]);
    (server, admin)
}

/// A query for www.example.com TXT with EDNS and, if given, a COOKIE option body.
fn packet(id: u16, cookie: Option<&[u8]>) -> Vec<u8> {
    let mut m = QueryBuilder::new("www.example.com.", RecordType::TXT)
        .edns(1232, false)
        .build();
    m.metadata.id = id;
    if let Some(c) = cookie {
        m.edns
            .as_mut()
            .unwrap()
            .options_mut()
            .insert(EdnsOption::Unknown(10, c.to_vec()));
    }
    m.to_vec().unwrap()
}

/// The COOKIE option of a response, as hickory decodes it.
fn cookie_of(m: &Message) -> Option<Vec<u8>> {
    match m.edns.as_ref()?.option(EdnsCode::Cookie)? {
        EdnsOption::Unknown(10, data) => Some(data.clone()),
        other => panic!("COOKIE decoded as {other:?}"),
    }
}

#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    full: usize,
    slipped: usize,
    /// Seconds from the first query sent to the last reply read: at least the time the
    /// server spent on the flood (the limiter counts per second).
    secs: f64,
}

/// Sends `packets` back to back from one socket, reading the replies that have arrived after
/// each send (so our own receive buffer never overflows on a loaded machine), then collects
/// the rest until none comes for 500 ms. Every reply must be a full answer or a slipped one.
fn flood(server: &TestServer, packets: &[Vec<u8>]) -> Tally {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(server.addr()).unwrap();
    let start = Instant::now();
    let mut t = Tally {
        sent: packets.len(),
        ..Tally::default()
    };
    let mut buf = [0u8; 4096];
    sock.set_nonblocking(true).unwrap();
    for p in packets {
        sock.send(p).unwrap();
        while let Ok(n) = sock.recv(&mut buf) {
            t.count(&buf[..n], start);
        }
    }
    t.secs = t.secs.max(start.elapsed().as_secs_f64());
    sock.set_nonblocking(false).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    while let Ok(n) = sock.recv(&mut buf) {
        t.count(&buf[..n], start);
    }
    t
}

impl Tally {
    /// Checks one reply and counts it as full or slipped.
    fn count(&mut self, reply: &[u8], start: Instant) {
        self.secs = start.elapsed().as_secs_f64();
        let m = Message::from_vec(reply).expect("hickory decodes the reply");
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.edns.is_some(), "the OPT record is kept: {m:?}");
        if m.metadata.truncation {
            assert!(
                m.answers.is_empty() && m.authorities.is_empty() && m.additionals.is_empty(),
                "a slipped reply has no records: {m:?}"
            );
            assert_eq!(m.queries.len(), 1, "the question is kept");
            self.slipped += 1;
        } else {
            assert_eq!(m.answers.len(), 1, "a full answer: {m:?}");
            self.full += 1;
        }
    }
}

/// Seconds the limiter may have seen a burst lasting `secs` span (its clock ticks whole
/// seconds, so a short burst can straddle one tick).
fn windows(secs: f64) -> usize {
    secs.ceil() as usize + 1
}

#[test]
fn a_flood_gets_rate_answers_a_second_and_half_the_rest_truncated() {
    let (server, admin) = start(&format!("{{ rate: {RATE}, slip: 2 }}"));
    let packets: Vec<Vec<u8>> = (0..FLOOD as u16).map(|i| packet(i, None)).collect();
    let t = flood(&server, &packets);
    let w = windows(t.secs);
    eprintln!("{t:?}");
    assert!(
        t.full >= RATE && t.full <= RATE * w,
        "full answers {} not within {RATE}..={}: {t:?}",
        t.full,
        RATE * w
    );
    let limited = t.sent - t.full;
    // Every second one of each window's limited responses slips.
    assert!(
        t.slipped * 2 <= limited && t.slipped * 2 + 2 * w >= limited,
        "slipped {} of {limited} limited: {t:?}",
        t.slipped
    );
    let dropped = limited - t.slipped;
    assert!(dropped > 0);

    let (code, text) = http_get(admin, "/metrics");
    assert_eq!(code, 200);
    assert_eq!(
        metric(&text, "dynadns_rrl_slipped_total"),
        Some(t.slipped as f64)
    );
    assert_eq!(
        metric(&text, "dynadns_rrl_dropped_total"),
        Some(dropped as f64)
    );

    // TCP is never limited, even from the flooding address in the same second.
    for i in 0..(2 * RATE) {
        let q = QueryBuilder::new("www.example.com.", RecordType::TXT).build();
        let m = server.tcp(&q);
        assert_eq!(m.answers.len(), 1, "TCP query {i} not answered in full");
        assert!(!m.metadata.truncation);
    }
}

#[test]
fn a_client_with_its_server_cookie_is_never_limited() {
    let (server, admin) = start(&format!("{{ rate: {RATE}, slip: 2 }}"));
    let client_cookie = [0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57];

    // First contact: client cookie only; the reply echoes it and adds our server cookie.
    let first = server
        .exchange(common::Transport::Udp, &packet(1, Some(&client_cookie)))
        .unwrap();
    let first = Message::from_vec(&first).unwrap();
    let cookie = cookie_of(&first).expect("the reply carries a COOKIE option");
    assert_eq!(cookie.len(), 24, "client cookie + 16-byte server cookie");
    assert_eq!(cookie[..8], client_cookie, "the client cookie is echoed");
    assert_eq!(cookie[8], 1, "RFC 9018 version 1");
    assert_eq!(cookie[9..12], [0, 0, 0], "reserved bytes are zero");

    // With it, every one of a flood is answered in full.
    let packets: Vec<Vec<u8>> = (0..FLOOD as u16)
        .map(|i| packet(i, Some(&cookie)))
        .collect();
    let t = flood(&server, &packets);
    assert_eq!((t.full, t.slipped), (FLOOD, 0), "{t:?}");

    // A forged server cookie (one bit off) is worth nothing: limited like no cookie.
    let mut forged = cookie.clone();
    forged[23] ^= 1;
    let packets: Vec<Vec<u8>> = (0..FLOOD as u16)
        .map(|i| packet(i, Some(&forged)))
        .collect();
    let t = flood(&server, &packets);
    assert!(t.full <= RATE * windows(t.secs), "{t:?}");
    assert!(t.slipped > 0, "{t:?}");

    let (_, text) = http_get(admin, "/metrics");
    assert_eq!(
        metric(&text, "dynadns_cookies_total{result=\"valid\"}"),
        Some(FLOOD as f64)
    );
    assert_eq!(
        metric(&text, "dynadns_cookies_total{result=\"invalid\"}"),
        Some(FLOOD as f64)
    );
    assert_eq!(
        metric(&text, "dynadns_cookies_total{result=\"client_only\"}"),
        Some(1.0)
    );

    // TCP answers carry a cookie too.
    let tcp = server
        .exchange(common::Transport::Tcp, &packet(2, Some(&client_cookie)))
        .unwrap();
    let tcp = Message::from_vec(&tcp).unwrap();
    assert_eq!(cookie_of(&tcp).unwrap()[..8], client_cookie);
}

/// A malformed COOKIE is FORMERR; `rate: 0` answers a whole flood; a reload that sets a
/// rate applies it to the running UDP workers.
#[test]
fn malformed_cookies_are_formerr_and_rate_zero_limits_nothing_until_a_reload() {
    let (server, admin) = start("{ rate: 0 }");
    for bad in [&[1u8; 5][..], &[1u8; 12][..], &[1u8; 41][..]] {
        let reply = server
            .udp_raw(&packet(7, Some(bad)), Duration::from_secs(2))
            .expect("FORMERR reply");
        let m = Message::from_vec(&reply).unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::FormErr, "{bad:?}");
        assert!(m.edns.is_some(), "FORMERR keeps our OPT");
        assert_eq!(cookie_of(&m), None, "no cookie in the FORMERR");
    }
    let packets: Vec<Vec<u8>> = (0..FLOOD as u16).map(|i| packet(i, None)).collect();
    let t = flood(&server, &packets);
    assert_eq!((t.full, t.slipped), (FLOOD, 0), "{t:?}");

    std::fs::write(
        server.dir().join("dynadns.yaml"),
        config(admin, &format!("{{ rate: {RATE}, slip: 1 }}")),
    )
    .unwrap();
    server.reload();
    common::wait_for("the new rate to apply", Duration::from_secs(10), || {
        let t = flood(&server, &packets);
        (t.full < FLOOD).then_some(t)
    })
    .unwrap();
    // Measured on a flood of its own: the one that saw the change may have straddled it.
    let t = flood(&server, &packets);
    // slip 1: every limited answer goes out truncated, none is dropped.
    assert!(t.full <= RATE * windows(t.secs), "{t:?}");
    assert_eq!(t.full + t.slipped, FLOOD, "{t:?}");
}
