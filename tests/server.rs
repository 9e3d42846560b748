//! Behaviour of the running server as a DNS client sees it: UDP truncation, EDNS(0), header
//! handling, RFC 1034 answer semantics on a purpose-built zone, TCP (RFC 7766) connection
//! management, and SIGHUP reload.
//!
//! Every test spawns `dynadns serve` through `tests/common` and checks replies decoded by
//! hickory-proto, or (for header bits and the OPT record) by the small raw-wire reader below,
//! so nothing here shares code with the server.

mod common;

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

use std::time::{Duration, Instant};

use common::{QUERY_TIMEOUT, QueryBuilder, TestServer, Transport};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};

// ------------------------------------------------------------------------------------------
// Zones
// ------------------------------------------------------------------------------------------

/// Zone for the answer-semantics tests. SOA TTL 3600, negative_ttl 300: negative answers
/// carry the SOA with TTL 300.
const SEM_ZONE: &str = r#"zone: sem.test
ttl: 3600
soa: { primary: ns1, contact: hostmaster, serial: 7, refresh: 3600, retry: 900, expire: 1209600, negative_ttl: 300 }
records:
  "@":
    NS: [ns1, ns2]
    MX: ["10 mail", "20 mx.elsewhere.example."]
  ns1: { A: 192.0.2.53 }
  ns2: { A: 192.0.2.54 }
  mail: { A: 192.0.2.25, AAAA: "2001:db8::25" }
  www: { A: 192.0.2.10, AAAA: "2001:db8::10", TXT: "hello" }
  a.b.c: { A: 192.0.2.30 }
  "*.wild": { A: 192.0.2.40, TXT: "from the wildcard" }
  exists.wild: { TXT: "real" }
  alias1: { CNAME: alias2 }
  alias2: { CNAME: www }
  outside: { CNAME: www.elsewhere.example. }
  loop1: { CNAME: loop2 }
  loop2: { CNAME: loop1 }
  deleg: { NS: [ns.deleg, ns.elsewhere.example.] }
  ns.deleg: { A: 192.0.2.99 }
"#;

/// A zone whose SOA TTL (60) is below its negative_ttl (300): negative answers use 60.
const LOWTTL_ZONE: &str = r#"zone: lowttl.test
ttl: 3600
soa: { primary: ns1, contact: hostmaster, serial: 1, negative_ttl: 300, ttl: 60 }
records:
  "@": { NS: [ns1] }
  ns1: { A: 192.0.2.1 }
"#;

/// Zone for the size tests: `big` (100 A records, ~1.6 KB), `mid` (50 A records, between
/// 512 and 1232 bytes), `small`, and `lenNNN` names holding one TXT of NNN bytes, from
/// which the tests pick the ones whose answers are exactly 512 and 513 bytes.
fn size_zone() -> String {
    let mut zone = String::from(
        "zone: size.test\nttl: 300\nsoa: { primary: ns1, contact: hostmaster, serial: 1 }\n\
         records:\n  \"@\": { NS: [ns1] }\n  ns1: { A: 192.0.2.1 }\n  small: { A: 192.0.2.2 }\n",
    );
    for (name, count) in [("big", 100), ("mid", 50)] {
        let addrs: Vec<String> = (0..count)
            .map(|i| format!("10.0.{}.{}", i / 200, i % 200 + 1))
            .collect();
        zone.push_str(&format!("  {name}: {{ A: [{}] }}\n", addrs.join(", ")));
    }
    for len in 400..=500 {
        zone.push_str(&format!("  len{len}: {{ TXT: \"{}\" }}\n", "x".repeat(len)));
    }
    zone
}

fn config_with(limits: &str) -> String {
    format!(
        "listen:\n  dns: [\"127.0.0.1:5353\"]\nzones: zones/\nlimits:\n  edns_udp_payload: 1232\n  rrl: {{ rate: 0 }}\n{limits}"
    )
}

/// Starts the server and also waits for its TCP listener: the harness's readiness probe is
/// UDP only, and the server starts answering UDP before it has bound TCP.
fn start(files: &[(&str, &str)]) -> TestServer {
    let server = TestServer::start_with(files);
    wait_for(Duration::from_secs(10), "the TCP listener", || {
        TcpStream::connect_timeout(&server.addr(), QUERY_TIMEOUT).is_ok()
    });
    server
}

fn sem_server() -> TestServer {
    start(&[
        ("dynadns.yaml", common::DEFAULT_CONFIG),
        ("zones/sem.test.yaml", SEM_ZONE),
        ("zones/lowttl.test.yaml", LOWTTL_ZONE),
    ])
}

fn size_server() -> TestServer {
    let zone = size_zone();
    start(&[
        ("dynadns.yaml", common::DEFAULT_CONFIG),
        ("zones/size.test.yaml", &zone),
    ])
}

// ------------------------------------------------------------------------------------------
// Helpers: queries, raw wire, record formatting
// ------------------------------------------------------------------------------------------

fn q(name: &str, rtype: RecordType) -> Message {
    QueryBuilder::new(name, rtype).build()
}

fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        out.push(u8::try_from(label.len()).expect("label length"));
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// A query built byte by byte: header (`flags` as given, QDCOUNT = `questions`), the
/// question (if `questions > 0`), then `additional` records verbatim.
fn raw_query(
    id: u16,
    flags: u16,
    questions: u16,
    question: (&str, u16, u16),
    additional: &[Vec<u8>],
) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&questions.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(&u16::try_from(additional.len()).unwrap().to_be_bytes());
    if questions > 0 {
        m.extend(encode_name(question.0));
        m.extend_from_slice(&question.1.to_be_bytes());
        m.extend_from_slice(&question.2.to_be_bytes());
    }
    for rr in additional {
        m.extend_from_slice(rr);
    }
    m
}

/// An OPT pseudo-record (RFC 6891 §6.1.2).
fn opt_rr(payload: u16, version: u8, dnssec_ok: bool, options: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut rdata = Vec::new();
    for (code, data) in options {
        rdata.extend_from_slice(&code.to_be_bytes());
        rdata.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
        rdata.extend_from_slice(data);
    }
    let mut r = vec![0, 0, 41];
    r.extend_from_slice(&payload.to_be_bytes());
    r.extend_from_slice(&[0, version, if dnssec_ok { 0x80 } else { 0 }, 0]);
    r.extend_from_slice(&u16::try_from(rdata.len()).unwrap().to_be_bytes());
    r.extend(rdata);
    r
}

const TYPE_A: u16 = 1;
const CLASS_IN: u16 = 1;
const FLAG_QR: u16 = 0x8000;
const FLAG_AA: u16 = 0x0400;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;

/// The OPT record of a reply, read from the wire.
#[derive(Debug, PartialEq, Eq)]
struct WireOpt {
    payload: u16,
    ext_rcode: u8,
    version: u8,
    flags: u16,
    options: Vec<(u16, Vec<u8>)>,
}

/// Minimal independent reader for the parts hickory normalises away (header bits, OPT).
struct Wire<'a>(&'a [u8]);

impl Wire<'_> {
    fn u16_at(&self, pos: usize) -> u16 {
        u16::from_be_bytes([self.0[pos], self.0[pos + 1]])
    }
    fn id(&self) -> u16 {
        self.u16_at(0)
    }
    fn flags(&self) -> u16 {
        self.u16_at(2)
    }
    fn rcode(&self) -> u16 {
        self.flags() & 0xF
    }
    fn opcode(&self) -> u16 {
        (self.flags() >> 11) & 0xF
    }
    /// QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT.
    fn counts(&self) -> [u16; 4] {
        [
            self.u16_at(4),
            self.u16_at(6),
            self.u16_at(8),
            self.u16_at(10),
        ]
    }
    fn skip_name(&self, mut pos: usize) -> usize {
        loop {
            let len = self.0[pos];
            if len & 0xC0 == 0xC0 {
                return pos + 2;
            }
            if len == 0 {
                return pos + 1;
            }
            pos += 1 + usize::from(len);
        }
    }
    /// The OPT records of the additional section (normally zero or one).
    fn opts(&self) -> Vec<WireOpt> {
        let [qd, an, ns, ar] = self.counts();
        let mut pos = 12;
        for _ in 0..qd {
            pos = self.skip_name(pos) + 4;
        }
        let mut out = Vec::new();
        for i in 0..(u32::from(an) + u32::from(ns) + u32::from(ar)) {
            let owner = pos;
            pos = self.skip_name(pos);
            let rtype = self.u16_at(pos);
            let class = self.u16_at(pos + 2);
            let ttl = [
                self.0[pos + 4],
                self.0[pos + 5],
                self.0[pos + 6],
                self.0[pos + 7],
            ];
            let rdlen = usize::from(self.u16_at(pos + 8));
            let rdata = &self.0[pos + 10..pos + 10 + rdlen];
            pos += 10 + rdlen;
            if rtype == 41 && i >= u32::from(an) + u32::from(ns) {
                assert_eq!(self.0[owner], 0, "OPT owner must be the root");
                let mut options = Vec::new();
                let mut o = 0;
                while o + 4 <= rdata.len() {
                    let code = u16::from_be_bytes([rdata[o], rdata[o + 1]]);
                    let len = usize::from(u16::from_be_bytes([rdata[o + 2], rdata[o + 3]]));
                    options.push((code, rdata[o + 4..o + 4 + len].to_vec()));
                    o += 4 + len;
                }
                out.push(WireOpt {
                    payload: class,
                    ext_rcode: ttl[0],
                    version: ttl[1],
                    flags: u16::from_be_bytes([ttl[2], ttl[3]]),
                    options,
                });
            }
        }
        assert_eq!(pos, self.0.len(), "reply has trailing bytes");
        out
    }
    fn opt(&self) -> Option<WireOpt> {
        let mut opts = self.opts();
        assert!(opts.len() <= 1, "more than one OPT in the reply: {opts:?}");
        opts.pop()
    }
}

fn raw(server: &TestServer, transport: Transport, query: &Message) -> Vec<u8> {
    server
        .exchange(transport, &query.to_vec().expect("encode query"))
        .unwrap_or_else(|e| panic!("{e}\n--- server stderr ---\n{}", server.stderr_text()))
}

fn decode(bytes: &[u8]) -> Message {
    Message::from_vec(bytes).unwrap_or_else(|e| panic!("undecodable reply {bytes:02x?}: {e}"))
}

/// `owner TTL TYPE RDATA` with the owner as sent (case kept) and TXT strings quoted.
fn rr(record: &Record) -> String {
    let rdata = match &record.data {
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|s| format!("{:?}", String::from_utf8_lossy(s)))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    };
    format!(
        "{} {} {} {}",
        record.name.to_ascii(),
        record.ttl,
        record.record_type(),
        rdata
    )
}

fn section(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.record_type() != RecordType::OPT)
        .map(rr)
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn as_set(records: &[Record]) -> BTreeSet<String> {
    section(records).into_iter().collect()
}

fn summary(m: &Message) -> String {
    format!(
        "rcode {:?} aa {} tc {}\n  answer {:#?}\n  authority {:#?}\n  additional {:#?}",
        m.metadata.response_code,
        m.metadata.authoritative,
        m.metadata.truncation,
        section(&m.answers),
        section(&m.authorities),
        section(&m.additionals)
    )
}

/// Waits until `cond` holds, polling every 20 ms, or panics after `timeout` with `what`.
fn wait_for(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn framed(query: &Message) -> Vec<u8> {
    let bytes = query.to_vec().expect("encode query");
    let mut out = u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
    out.extend(bytes);
    out
}

fn read_framed(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut prefix = [0u8; 2];
    stream.read_exact(&mut prefix)?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream.read_exact(&mut body)?;
    Ok(body)
}

fn connect(server: &TestServer) -> TcpStream {
    let stream = TcpStream::connect_timeout(&server.addr(), QUERY_TIMEOUT).expect("TCP connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// Sends one query on an open connection and returns the decoded answer.
fn tcp_on(stream: &mut TcpStream, query: &Message) -> Message {
    stream.write_all(&framed(query)).expect("TCP write");
    let reply = decode(&read_framed(stream).expect("TCP read"));
    assert_eq!(reply.metadata.id, query.metadata.id);
    reply
}

/// A connection on which `query` was answered, retried until one is (up to 5 s).
fn served_connection(server: &TestServer, query: &Message) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut stream = connect(server);
        if stream.write_all(&framed(query)).is_ok()
            && let Ok(reply) = read_framed(&mut stream)
        {
            assert_eq!(decode(&reply).metadata.id, query.metadata.id);
            return stream;
        }
        assert!(
            Instant::now() < deadline,
            "no TCP connection served within 5 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the server closed `stream` (EOF or reset) before sending anything.
fn closed_without_answer(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(n) => panic!("expected the connection to be closed, got {n} bytes"),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
            ) =>
        {
            true
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(e) => panic!("unexpected read error: {e}"),
    }
}

fn a_answers(m: &Message) -> BTreeSet<String> {
    m.answers
        .iter()
        .filter(|r| r.record_type() == RecordType::A)
        .map(|r| r.data.to_string())
        .collect()
}

// ------------------------------------------------------------------------------------------
// Truncation
// ------------------------------------------------------------------------------------------

/// An answer over 512 bytes to a query without EDNS comes back as an empty TC=1 reply that
/// is still authoritative and NOERROR, with the question kept (RFC 2181 §9).
#[test]
fn udp_without_edns_truncates_large_answer() {
    let server = size_server();
    let query = q("big.size.test.", RecordType::A);
    let bytes = raw(&server, Transport::Udp, &query);
    assert!(
        bytes.len() <= 512,
        "UDP reply of {} bytes without EDNS",
        bytes.len()
    );
    let reply = decode(&bytes);
    assert!(reply.metadata.truncation, "TC not set: {}", summary(&reply));
    assert!(reply.metadata.authoritative, "AA not set on TC reply");
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.queries.len(), 1, "question not echoed");
    assert_eq!(Wire(&bytes).counts()[1..], [0, 0, 0], "sections not empty");
    assert!(
        reply.edns.is_none(),
        "OPT in a reply to a query without EDNS"
    );

    // 50 records (~830 bytes) do not fit 512 either.
    let mid = decode(&raw(
        &server,
        Transport::Udp,
        &q("mid.size.test.", RecordType::A),
    ));
    assert!(mid.metadata.truncation, "mid not truncated without EDNS");
}

/// With EDNS the limit is min(client payload, server edns_udp_payload = 1232): a 4096-byte
/// client still gets TC=1 for 1.6 KB, with the OPT kept and advertising 1232.
#[test]
fn udp_with_edns_truncates_at_server_payload_keeping_opt() {
    let server = size_server();
    let query = QueryBuilder::new("big.size.test.", RecordType::A)
        .edns(4096, false)
        .build();
    let bytes = raw(&server, Transport::Udp, &query);
    let wire = Wire(&bytes);
    assert!(bytes.len() <= 1232, "UDP reply of {} bytes", bytes.len());
    assert_ne!(wire.flags() & FLAG_TC, 0, "TC not set");
    assert_ne!(wire.flags() & FLAG_AA, 0, "AA not set");
    assert_eq!(wire.rcode(), 0);
    assert_eq!(
        wire.counts(),
        [1, 0, 0, 1],
        "only the question and the OPT expected"
    );
    let opt = wire.opt().expect("OPT kept in the truncated reply");
    assert_eq!(opt.payload, 1232, "server must advertise its own payload");
    assert_eq!((opt.ext_rcode, opt.version), (0, 0));
}

/// What fits is not truncated: a small answer with EDNS, and an answer between 512 and 1232
/// bytes when the client advertises 4096 (but it is truncated for a 512-byte client).
#[test]
fn udp_with_edns_fitting_answers_are_not_truncated() {
    let server = size_server();
    let small = QueryBuilder::new("small.size.test.", RecordType::A)
        .edns(1232, false)
        .build();
    let reply = server.udp(&small);
    assert!(!reply.metadata.truncation);
    assert_eq!(a_answers(&reply), set(&["192.0.2.2"]));

    let mid = QueryBuilder::new("mid.size.test.", RecordType::A)
        .edns(4096, false)
        .build();
    let bytes = raw(&server, Transport::Udp, &mid);
    let reply = decode(&bytes);
    assert!(
        bytes.len() > 512 && bytes.len() <= 1232,
        "{} bytes",
        bytes.len()
    );
    assert!(
        !reply.metadata.truncation,
        "truncated although it fits 1232"
    );
    assert_eq!(reply.answers.len(), 50);

    let mid512 = QueryBuilder::new("mid.size.test.", RecordType::A)
        .edns(512, false)
        .build();
    let reply = server.udp(&mid512);
    assert!(
        reply.metadata.truncation,
        "client payload 512 must be honoured"
    );
    assert!(reply.answers.is_empty());
}

/// Over TCP the full answer comes back: all 100 records, no TC.
#[test]
fn tcp_returns_the_full_answer() {
    let server = size_server();
    let reply = server.tcp(&q("big.size.test.", RecordType::A));
    assert!(!reply.metadata.truncation);
    assert!(reply.metadata.authoritative);
    assert_eq!(reply.answers.len(), 100);
    let expected: BTreeSet<String> = (0..100)
        .map(|i| format!("10.0.{}.{}", i / 200, i % 200 + 1))
        .collect();
    assert_eq!(a_answers(&reply), expected);
}

/// The 512-byte limit is inclusive: an answer that is exactly 512 bytes (as measured over
/// TCP) comes back whole over UDP without EDNS; one of 513 bytes is truncated.
#[test]
fn udp_limit_512_is_exact() {
    let server = size_server();
    let at = |size: usize| -> Option<(u32, Vec<u8>)> {
        (400..=500).find_map(|len| {
            let tcp = raw(
                &server,
                Transport::Tcp,
                &q(&format!("len{len}.size.test."), RecordType::TXT),
            );
            (tcp.len() == size).then_some((len, tcp))
        })
    };
    let (len512, tcp512) = at(512).expect("no lenNNN name gives a 512-byte answer over TCP");
    let (len513, _) = at(513).expect("no lenNNN name gives a 513-byte answer over TCP");
    assert_eq!(len513, len512 + 1);

    let fit = raw(
        &server,
        Transport::Udp,
        &q(&format!("len{len512}.size.test."), RecordType::TXT),
    );
    let wire = Wire(&fit);
    assert_eq!(wire.flags() & FLAG_TC, 0, "512-byte answer truncated");
    assert_eq!(fit.len(), 512);
    assert_eq!(fit[2..], tcp512[2..], "UDP and TCP answers differ");
    assert_eq!(decode(&fit).answers.len(), 1);

    let over = raw(
        &server,
        Transport::Udp,
        &q(&format!("len{len513}.size.test."), RecordType::TXT),
    );
    let wire = Wire(&over);
    assert_ne!(wire.flags() & FLAG_TC, 0, "513-byte answer not truncated");
    assert_eq!(wire.counts()[1..], [0, 0, 0]);
}

// ------------------------------------------------------------------------------------------
// EDNS
// ------------------------------------------------------------------------------------------

/// The OPT comes back with the server's payload (1232, whatever the client advertised) and
/// the DO bit as the client set it (RFC 3225 §3).
#[test]
fn edns_opt_echoed_with_our_payload_and_do_bit() {
    let server = sem_server();
    for (payload, dnssec_ok) in [(4096, true), (4096, false), (512, true), (1400, false)] {
        let query = QueryBuilder::new("www.sem.test.", RecordType::A)
            .edns(payload, dnssec_ok)
            .build();
        let bytes = raw(&server, Transport::Udp, &query);
        let opt = Wire(&bytes)
            .opt()
            .unwrap_or_else(|| panic!("no OPT in reply to payload {payload} DO {dnssec_ok}"));
        assert_eq!(
            opt.payload, 1232,
            "advertised payload (client sent {payload})"
        );
        assert_eq!(opt.flags & 0x8000 != 0, dnssec_ok, "DO bit not echoed");
        assert_eq!(opt.flags & 0x7FFF, 0, "Z bits must be zero");
        assert_eq!((opt.ext_rcode, opt.version), (0, 0));
        assert!(
            opt.options.is_empty(),
            "unexpected options {:?}",
            opt.options
        );
        assert_eq!(a_answers(&decode(&bytes)), set(&["192.0.2.10"]));
    }
}

/// EDNS version 1 gets BADVERS (extended rcode 16: header 0, OPT high bits 1), an OPT of
/// version 0, and no answer (RFC 6891 §6.1.3).
#[test]
fn edns_version_1_gets_badvers() {
    let server = sem_server();
    let packet = raw_query(
        0x4242,
        0,
        1,
        ("www.sem.test.", TYPE_A, CLASS_IN),
        &[opt_rr(1232, 1, false, &[])],
    );
    let reply = server
        .udp_raw(&packet, QUERY_TIMEOUT)
        .expect("no answer to EDNS version 1");
    let wire = Wire(&reply);
    assert_eq!(wire.id(), 0x4242);
    assert_ne!(wire.flags() & FLAG_QR, 0);
    let opt = wire.opt().expect("BADVERS needs an OPT");
    let full_rcode = (u16::from(opt.ext_rcode) << 4) | wire.rcode();
    assert_eq!(
        full_rcode,
        16,
        "extended rcode (header {}, OPT {})",
        wire.rcode(),
        opt.ext_rcode
    );
    assert_eq!(opt.version, 0, "reply must carry the version we implement");
    assert_eq!(
        wire.counts()[1..3],
        [0, 0],
        "no answer or authority with BADVERS"
    );
}

/// Two OPT records make the query malformed: FORMERR (RFC 6891 §6.1.1).
#[test]
fn edns_two_opt_records_formerr() {
    let server = sem_server();
    let packet = raw_query(
        0x1111,
        0,
        1,
        ("www.sem.test.", TYPE_A, CLASS_IN),
        &[opt_rr(1232, 0, false, &[]), opt_rr(1232, 0, false, &[])],
    );
    let reply = server
        .udp_raw(&packet, QUERY_TIMEOUT)
        .expect("no answer to two OPTs");
    let wire = Wire(&reply);
    assert_eq!(wire.id(), 0x1111);
    assert_eq!(wire.rcode(), 1, "FORMERR expected");
    assert_eq!(wire.counts()[1], 0, "no answer with FORMERR");
}

/// An option the server does not know is ignored: the answer is normal and the option is not
/// echoed (RFC 6891 §6.1.2).
#[test]
fn edns_unknown_option_ignored() {
    let server = sem_server();
    let packet = raw_query(
        0x2222,
        0,
        1,
        ("www.sem.test.", TYPE_A, CLASS_IN),
        &[opt_rr(
            1232,
            0,
            false,
            &[(65001, vec![1, 2, 3, 4]), (3, vec![])],
        )],
    );
    let reply = server
        .udp_raw(&packet, QUERY_TIMEOUT)
        .expect("no answer with unknown option");
    let wire = Wire(&reply);
    assert_eq!(wire.rcode(), 0);
    assert_ne!(wire.flags() & FLAG_AA, 0);
    let opt = wire.opt().expect("OPT in reply");
    assert!(
        opt.options.is_empty(),
        "unknown options echoed: {:?}",
        opt.options
    );
    assert_eq!(a_answers(&decode(&reply)), set(&["192.0.2.10"]));
}

/// A client subnet option is echoed with scope 0 for a static name (RFC 7871 §7.2.1), IPv4
/// and IPv6.
#[test]
fn edns_client_subnet_echoed_with_scope_zero() {
    let server = sem_server();
    for (id, body) in [
        // family 1, source /24, scope 0, 198.51.100
        (0x3333u16, vec![0, 1, 24, 0, 198, 51, 100]),
        // family 2, source /56, scope 0, 2001:db8:1:200
        (0x3334, vec![0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 2]),
    ] {
        let packet = raw_query(
            id,
            0,
            1,
            ("www.sem.test.", TYPE_A, CLASS_IN),
            &[opt_rr(1232, 0, false, &[(8, body.clone())])],
        );
        let reply = server
            .udp_raw(&packet, QUERY_TIMEOUT)
            .expect("no answer with ECS");
        let wire = Wire(&reply);
        assert_eq!(wire.rcode(), 0);
        let opt = wire.opt().expect("OPT in reply");
        let mut expected = body.clone();
        expected[3] = 0; // scope prefix
        assert_eq!(opt.options, vec![(8u16, expected)], "ECS option in reply");
        assert_eq!(a_answers(&decode(&reply)), set(&["192.0.2.10"]));
    }
}

// ------------------------------------------------------------------------------------------
// Header handling
// ------------------------------------------------------------------------------------------

/// A packet with QR=1 is a response: it gets no answer (no reflection loops), and the server
/// keeps answering queries.
#[test]
fn response_packets_are_not_answered() {
    let server = sem_server();
    let packet = raw_query(0x5151, FLAG_QR, 1, ("www.sem.test.", TYPE_A, CLASS_IN), &[]);
    assert_eq!(server.udp_raw(&packet, Duration::from_secs(1)), None);
    let query = raw_query(0x5152, 0, 1, ("www.sem.test.", TYPE_A, CLASS_IN), &[]);
    assert!(
        server.udp_raw(&query, QUERY_TIMEOUT).is_some(),
        "the same query without QR"
    );
}

/// Opcode 15 gets NOTIMP with the opcode echoed.
#[test]
fn unknown_opcode_notimp() {
    let server = sem_server();
    let packet = raw_query(
        0x6161,
        15 << 11,
        1,
        ("www.sem.test.", TYPE_A, CLASS_IN),
        &[],
    );
    let reply = server
        .udp_raw(&packet, QUERY_TIMEOUT)
        .expect("no answer to opcode 15");
    let wire = Wire(&reply);
    assert_eq!(wire.id(), 0x6161);
    assert_eq!(wire.rcode(), 4, "NOTIMP expected");
    assert_eq!(wire.opcode(), 15, "opcode echoed");
    assert_eq!(wire.counts()[1], 0);
}

/// A query without a question is FORMERR.
#[test]
fn qdcount_zero_formerr() {
    let server = sem_server();
    let packet = raw_query(0x7171, 0, 0, ("", 0, 0), &[]);
    let reply = server
        .udp_raw(&packet, QUERY_TIMEOUT)
        .expect("no answer to qdcount 0");
    let wire = Wire(&reply);
    assert_eq!(wire.id(), 0x7171);
    assert_ne!(wire.flags() & FLAG_QR, 0);
    assert_eq!(wire.rcode(), 1, "FORMERR expected");
    assert_eq!(wire.counts(), [0, 0, 0, 0]);
}

/// RD is copied from the query; RA is never set (authoritative only).
#[test]
fn rd_copied_ra_clear() {
    let server = sem_server();
    for rd in [true, false] {
        let query = QueryBuilder::new("www.sem.test.", RecordType::A)
            .rd(rd)
            .build();
        let reply = raw(&server, Transport::Udp, &query);
        let flags = Wire(&reply).flags();
        assert_eq!(flags & FLAG_RD != 0, rd, "RD not copied (sent {rd})");
        assert_eq!(flags & 0x0080, 0, "RA set");
    }
}

/// The question and the answer owner keep the client's spelling (0x20 resolvers rely on it).
#[test]
fn query_name_case_preserved() {
    let server = sem_server();
    let reply = server.udp(&q("wWw.SeM.tEsT.", RecordType::A));
    assert_eq!(reply.queries[0].name().to_ascii(), "wWw.SeM.tEsT.");
    assert_eq!(
        section(&reply.answers),
        vec!["wWw.SeM.tEsT. 3600 A 192.0.2.10"]
    );
    // Also on a wildcard answer, whose owner is synthesized from the query name.
    let reply = server.udp(&q("Foo.WILD.sem.test.", RecordType::A));
    assert_eq!(
        section(&reply.answers),
        vec!["Foo.WILD.sem.test. 3600 A 192.0.2.40"]
    );
}

/// QTYPE ANY gets exactly one RRset (RFC 8482), of a name that has three.
#[test]
fn any_returns_one_rrset() {
    let server = sem_server();
    let reply = server.udp(&q("www.sem.test.", RecordType::ANY));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.metadata.authoritative);
    assert!(
        !reply.answers.is_empty(),
        "ANY got no answer: {}",
        summary(&reply)
    );
    let rrsets: BTreeSet<(String, RecordType)> = reply
        .answers
        .iter()
        .map(|r| (r.name.to_ascii().to_ascii_lowercase(), r.record_type()))
        .collect();
    assert_eq!(rrsets.len(), 1, "more than one RRset: {}", summary(&reply));
    let www = server.udp(&q("www.sem.test.", rrsets.iter().next().unwrap().1));
    assert_eq!(
        as_set(&reply.answers),
        as_set(&www.answers),
        "the RRset is incomplete"
    );
}

/// Zone transfers are not implemented: AXFR (over TCP) and IXFR get NOTIMP.
#[test]
fn axfr_ixfr_notimp() {
    let server = sem_server();
    let axfr = server.tcp(&q("sem.test.", RecordType::AXFR));
    assert_eq!(axfr.metadata.response_code, ResponseCode::NotImp);
    assert!(axfr.answers.is_empty());
    let ixfr = server.udp(&q("sem.test.", RecordType::IXFR));
    assert_eq!(ixfr.metadata.response_code, ResponseCode::NotImp);
    assert!(ixfr.answers.is_empty());
}

/// CHAOS TXT version.bind answers the configured version; an unknown class is REFUSED.
#[test]
fn chaos_version_and_unknown_class() {
    let config = format!(
        "{}server:\n  version: \"dynadns-under-test 9\"\n",
        common::DEFAULT_CONFIG
    );
    let server = start(&[("dynadns.yaml", &config), ("zones/sem.test.yaml", SEM_ZONE)]);
    let reply = server.udp(
        &QueryBuilder::new("version.bind.", RecordType::TXT)
            .class(DNSClass::CH)
            .build(),
    );
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 1, "{}", summary(&reply));
    let answer = &reply.answers[0];
    assert_eq!(answer.dns_class, DNSClass::CH);
    assert_eq!(rr(answer), "version.bind. 0 TXT \"dynadns-under-test 9\"");

    // Class 42 (unassigned) for a name the server does serve in IN.
    let packet = raw_query(0x4343, 0, 1, ("www.sem.test.", TYPE_A, 42), &[]);
    let reply = server
        .udp_raw(&packet, QUERY_TIMEOUT)
        .expect("no answer to class 42");
    let wire = Wire(&reply);
    assert_eq!(wire.rcode(), 5, "REFUSED expected");
    assert_eq!(wire.flags() & FLAG_AA, 0);
    assert_eq!(wire.counts()[1], 0);
}

// ------------------------------------------------------------------------------------------
// Answer semantics (RFC 1034 §4.3.2)
// ------------------------------------------------------------------------------------------

const SEM_SOA_300: &str =
    "sem.test. 300 SOA ns1.sem.test. hostmaster.sem.test. 7 3600 900 1209600 300";

fn assert_negative(reply: &Message, rcode: ResponseCode, soa: &str) {
    assert_eq!(reply.metadata.response_code, rcode, "{}", summary(reply));
    assert!(
        reply.metadata.authoritative,
        "AA not set: {}",
        summary(reply)
    );
    assert!(
        reply.answers.is_empty(),
        "answer not empty: {}",
        summary(reply)
    );
    assert_eq!(
        section(&reply.authorities),
        vec![soa.to_string()],
        "{}",
        summary(reply)
    );
}

/// NXDOMAIN carries the SOA with TTL min(SOA TTL, negative_ttl): 300 when the SOA TTL is
/// 3600, 60 when the SOA TTL is 60 (RFC 2308 §3).
#[test]
fn nxdomain_with_soa_ttl_minimum() {
    let server = sem_server();
    assert_negative(
        &server.udp(&q("nope.sem.test.", RecordType::A)),
        ResponseCode::NXDomain,
        SEM_SOA_300,
    );
    assert_negative(
        &server.udp(&q("nope.lowttl.test.", RecordType::A)),
        ResponseCode::NXDomain,
        "lowttl.test. 60 SOA ns1.lowttl.test. hostmaster.lowttl.test. 1 3600 900 1209600 300",
    );
}

/// A name without the asked type is NODATA: NOERROR, empty answer, SOA in authority.
#[test]
fn nodata() {
    let server = sem_server();
    assert_negative(
        &server.udp(&q("mail.sem.test.", RecordType::TXT)),
        ResponseCode::NoError,
        SEM_SOA_300,
    );
    assert_negative(
        &server.udp(&q("ns1.sem.test.", RecordType::AAAA)),
        ResponseCode::NoError,
        SEM_SOA_300,
    );
}

/// Ancestors of a name are empty non-terminals: NODATA, not NXDOMAIN (RFC 8020).
#[test]
fn empty_non_terminal_is_nodata() {
    let server = sem_server();
    for name in ["b.c.sem.test.", "c.sem.test."] {
        assert_negative(
            &server.udp(&q(name, RecordType::A)),
            ResponseCode::NoError,
            SEM_SOA_300,
        );
    }
    // Below it nothing exists.
    assert_negative(
        &server.udp(&q("x.b.c.sem.test.", RecordType::A)),
        ResponseCode::NXDomain,
        SEM_SOA_300,
    );
    assert_eq!(
        section(&server.udp(&q("a.b.c.sem.test.", RecordType::A)).answers),
        vec!["a.b.c.sem.test. 3600 A 192.0.2.30"]
    );
}

/// `*.wild` answers names that do not exist below `wild` (one or more labels), with the query
/// name as owner; it does not answer a name that exists (`exists.wild`), which gives that
/// name's own data or NODATA (RFC 4592 §2.2).
#[test]
fn wildcard_matches_only_missing_names() {
    let server = sem_server();
    for name in ["foo.wild.sem.test.", "a.b.wild.sem.test."] {
        let reply = server.udp(&q(name, RecordType::A));
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(reply.metadata.authoritative);
        assert_eq!(
            section(&reply.answers),
            vec![format!("{name} 3600 A 192.0.2.40")]
        );
    }
    let txt = server.udp(&q("exists.wild.sem.test.", RecordType::TXT));
    assert_eq!(
        section(&txt.answers),
        vec!["exists.wild.sem.test. 3600 TXT \"real\""]
    );
    assert_negative(
        &server.udp(&q("exists.wild.sem.test.", RecordType::A)),
        ResponseCode::NoError,
        SEM_SOA_300,
    );
    // The wildcard's own parent exists (empty non-terminal), it is not matched either.
    assert_negative(
        &server.udp(&q("wild.sem.test.", RecordType::A)),
        ResponseCode::NoError,
        SEM_SOA_300,
    );
}

/// CNAMEs inside the zone are followed (two hops here); a CNAME out of the zone is answered
/// alone; a CNAME loop ends with a bounded answer.
#[test]
fn cname_chains() {
    let server = sem_server();
    let reply = server.udp(&q("alias1.sem.test.", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.metadata.authoritative);
    assert_eq!(
        section(&reply.answers),
        vec![
            "alias1.sem.test. 3600 CNAME alias2.sem.test.",
            "alias2.sem.test. 3600 CNAME www.sem.test.",
            "www.sem.test. 3600 A 192.0.2.10",
        ],
        "{}",
        summary(&reply)
    );

    let reply = server.udp(&q("outside.sem.test.", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.metadata.authoritative);
    assert_eq!(
        section(&reply.answers),
        vec!["outside.sem.test. 3600 CNAME www.elsewhere.example."]
    );
    assert!(reply.authorities.is_empty(), "{}", summary(&reply));

    // Asking for the CNAME itself is not followed.
    let reply = server.udp(&q("alias1.sem.test.", RecordType::CNAME));
    assert_eq!(
        section(&reply.answers),
        vec!["alias1.sem.test. 3600 CNAME alias2.sem.test."]
    );

    for transport in [Transport::Udp, Transport::Tcp] {
        let reply = server
            .query(transport, &q("loop1.sem.test.", RecordType::A))
            .unwrap_or_else(|e| panic!("CNAME loop over {transport:?}: {e}"));
        assert!(
            reply
                .answers
                .iter()
                .all(|r| r.record_type() == RecordType::CNAME),
            "{}",
            summary(&reply)
        );
        assert!(
            (2..=8).contains(&reply.answers.len()),
            "loop not cut short: {}",
            summary(&reply)
        );
        assert_eq!(
            section(&reply.answers)[0],
            "loop1.sem.test. 3600 CNAME loop2.sem.test."
        );
    }
}

/// A name below a delegation gets a referral: AA=0, NOERROR, no answer, the NS set in
/// authority and the in-zone glue in additional (none for the out-of-zone server).
#[test]
fn delegation_referral_with_glue() {
    let server = sem_server();
    for name in ["host.deleg.sem.test.", "deleg.sem.test."] {
        let reply = server.udp(&q(name, RecordType::A));
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(
            !reply.metadata.authoritative,
            "AA set on a referral for {name}"
        );
        assert!(reply.answers.is_empty(), "{}", summary(&reply));
        assert_eq!(
            as_set(&reply.authorities),
            set(&[
                "deleg.sem.test. 3600 NS ns.deleg.sem.test.",
                "deleg.sem.test. 3600 NS ns.elsewhere.example.",
            ])
        );
        assert_eq!(
            section(&reply.additionals),
            vec!["ns.deleg.sem.test. 3600 A 192.0.2.99"]
        );
    }
}

/// DS at the delegation point belongs to the parent: authoritative NODATA (no DS here), not a
/// referral (RFC 4035 §3.1.4.1).
#[test]
fn ds_at_delegation_answered_by_parent() {
    let server = sem_server();
    let reply = server.udp(&q("deleg.sem.test.", RecordType::DS));
    assert_negative(&reply, ResponseCode::NoError, SEM_SOA_300);
}

/// Names in no served zone are REFUSED, without AA.
#[test]
fn refused_outside_zones() {
    let server = sem_server();
    for name in ["www.example.org.", "test.", "."] {
        let reply = server.udp(&q(name, RecordType::A));
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::Refused,
            "{name}"
        );
        assert!(!reply.metadata.authoritative, "{name}");
        assert!(reply.answers.is_empty() && reply.authorities.is_empty());
    }
}

/// An MX answer carries the A and AAAA of in-zone exchanges in additional.
#[test]
fn mx_additional_addresses() {
    let server = sem_server();
    let reply = server.udp(&q("sem.test.", RecordType::MX));
    assert_eq!(
        as_set(&reply.answers),
        set(&[
            "sem.test. 3600 MX 10 mail.sem.test.",
            "sem.test. 3600 MX 20 mx.elsewhere.example."
        ])
    );
    assert_eq!(
        as_set(&reply.additionals),
        set(&[
            "mail.sem.test. 3600 A 192.0.2.25",
            "mail.sem.test. 3600 AAAA 2001:db8::25"
        ])
    );
}

// ------------------------------------------------------------------------------------------
// TCP (RFC 7766)
// ------------------------------------------------------------------------------------------

/// Three queries written back to back on one connection get three answers, in order, on
/// the same connection.
#[test]
fn tcp_pipelined_queries() {
    let server = sem_server();
    let queries = [
        q("www.sem.test.", RecordType::A),
        q("mail.sem.test.", RecordType::AAAA),
        q("nope.sem.test.", RecordType::A),
    ];
    let mut stream = connect(&server);
    let mut all = Vec::new();
    for query in &queries {
        all.extend(framed(query));
    }
    stream.write_all(&all).expect("write pipelined queries");
    let replies: Vec<Message> = queries
        .iter()
        .map(|_| decode(&read_framed(&mut stream).expect("read answer")))
        .collect();
    let ids: Vec<u16> = replies.iter().map(|r| r.metadata.id).collect();
    let sent: Vec<u16> = queries.iter().map(|q| q.metadata.id).collect();
    assert_eq!(ids, sent);
    assert_eq!(a_answers(&replies[0]), set(&["192.0.2.10"]));
    assert_eq!(
        section(&replies[1].answers),
        vec!["mail.sem.test. 3600 AAAA 2001:db8::25"]
    );
    assert_eq!(replies[2].metadata.response_code, ResponseCode::NXDomain);
    // Still open for a fourth.
    let fourth = tcp_on(&mut stream, &q("ns1.sem.test.", RecordType::A));
    assert_eq!(a_answers(&fourth), set(&["192.0.2.53"]));
}

/// With `tcp_idle_timeout: 1s`, a connection that sends nothing after its last answer is
/// closed by the server after about a second (not at once, and well before 5 s).
#[test]
fn tcp_idle_timeout_closes_connection() {
    let config = config_with("  tcp_idle_timeout: 1s\n");
    let server = start(&[("dynadns.yaml", &config), ("zones/sem.test.yaml", SEM_ZONE)]);
    let mut stream = connect(&server);
    let reply = tcp_on(&mut stream, &q("www.sem.test.", RecordType::A));
    assert_eq!(a_answers(&reply), set(&["192.0.2.10"]));
    let idle_since = Instant::now();
    assert!(
        closed_without_answer(&mut stream),
        "connection still open after 5 s"
    );
    let waited = idle_since.elapsed();
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(4),
        "closed after {waited:?}, expected about 1 s"
    );
}

/// With `tcp_max_connections: 2`, a third connection is closed without an answer while two are
/// open; UDP keeps answering; once one closes, a new connection is served.
#[test]
fn tcp_connection_cap() {
    let config = config_with("  tcp_max_connections: 2\n");
    let server = start(&[("dynadns.yaml", &config), ("zones/sem.test.yaml", SEM_ZONE)]);
    let query = q("www.sem.test.", RecordType::A);
    // An answer on each proves the server has accepted (and counted) both. A connection can
    // be refused at first while the server still counts the start-up probe's, already closed,
    // connection: retry until two are served.
    let mut first = served_connection(&server, &query);
    let second = served_connection(&server, &query);

    let mut third = connect(&server);
    // The write may fail if the server has already closed it; either way no answer.
    let _ = third.write_all(&framed(&query));
    assert!(
        closed_without_answer(&mut third),
        "third connection neither answered nor closed"
    );
    assert_eq!(a_answers(&server.udp(&query)), set(&["192.0.2.10"]));
    // The two accepted connections still work.
    tcp_on(&mut first, &query);

    drop(second);
    wait_for(Duration::from_secs(5), "a TCP slot to free up", || {
        server
            .tcp_raw(&query.to_vec().unwrap(), Duration::from_millis(500))
            .is_some()
    });
}

/// 50 TCP clients stuck in the middle of a length prefix do not delay UDP: 200 UDP queries
/// are each answered within the per-query timeout (single attempt) while they are open.
#[test]
fn stuck_tcp_clients_do_not_delay_udp() {
    let server = sem_server();
    let stuck: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = connect(&server);
            s.write_all(&[0]).expect("half a length prefix");
            s
        })
        .collect();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(server.addr()).unwrap();
    socket.set_read_timeout(Some(QUERY_TIMEOUT)).unwrap();
    let mut buf = [0u8; 4096];
    for i in 0..200u16 {
        let packet = raw_query(i, 0, 1, ("www.sem.test.", TYPE_A, CLASS_IN), &[]);
        socket.send(&packet).unwrap();
        let n = socket
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("UDP query {i} unanswered within {QUERY_TIMEOUT:?}: {e}"));
        assert_eq!(Wire(&buf[..n]).id(), i);
        assert_eq!(Wire(&buf[..n]).counts()[1], 1);
    }
    // And a fresh TCP client is still served beside the stuck ones.
    let reply = server.tcp(&q("www.sem.test.", RecordType::A));
    assert_eq!(a_answers(&reply), set(&["192.0.2.10"]));
    drop(stuck);
}

// ------------------------------------------------------------------------------------------
// Reload
// ------------------------------------------------------------------------------------------

const RELOAD_ZONE_V1: &str = r#"zone: reload.test
ttl: 60
soa: { primary: ns1, contact: hostmaster, serial: 1 }
records:
  "@": { NS: [ns1] }
  ns1: { A: 192.0.2.1 }
  www: { A: 192.0.2.100 }
"#;

/// SIGHUP picks up a rewritten zone file: the A record answer changes, over UDP and TCP.
#[test]
fn sighup_reload_changes_answers() {
    let mut server = start(&[
        ("dynadns.yaml", common::DEFAULT_CONFIG),
        ("zones/reload.test.yaml", RELOAD_ZONE_V1),
    ]);
    let query = q("www.reload.test.", RecordType::A);
    assert_eq!(a_answers(&server.udp(&query)), set(&["192.0.2.100"]));
    let v2 = RELOAD_ZONE_V1
        .replace("serial: 1", "serial: 2")
        .replace("192.0.2.100", "192.0.2.200")
        + "  new: { A: 192.0.2.201 }\n";
    std::fs::write(server.dir().join("zones/reload.test.yaml"), v2).unwrap();
    server.reload();
    wait_for(Duration::from_secs(10), "the reloaded answer", || {
        a_answers(&server.udp(&query)) == set(&["192.0.2.200"])
    });
    assert_eq!(a_answers(&server.tcp(&query)), set(&["192.0.2.200"]));
    assert_eq!(
        a_answers(&server.udp(&q("new.reload.test.", RecordType::A))),
        set(&["192.0.2.201"])
    );
    assert!(server.is_running());
}

/// A broken zone file on SIGHUP is reported and the old answers stay; the server keeps
/// running and a later good file is picked up.
#[test]
fn sighup_with_broken_zone_keeps_old_answers() {
    let mut server = start(&[
        ("dynadns.yaml", common::DEFAULT_CONFIG),
        ("zones/reload.test.yaml", RELOAD_ZONE_V1),
    ]);
    let query = q("www.reload.test.", RecordType::A);
    assert_eq!(a_answers(&server.udp(&query)), set(&["192.0.2.100"]));
    let zone_path = server.dir().join("zones/reload.test.yaml");
    let broken = RELOAD_ZONE_V1.replace("192.0.2.100", "192.0.2.300");
    std::fs::write(&zone_path, broken).unwrap();
    server.reload();
    wait_for(
        Duration::from_secs(10),
        "the failed reload in the log",
        || server.stderr_text().contains("reload failed"),
    );
    let log = server.stderr_text();
    assert!(
        log.contains("192.0.2.300"),
        "the bad address is not named in the log:\n{log}"
    );
    assert!(server.is_running(), "server exited after a bad reload");
    assert_eq!(a_answers(&server.udp(&query)), set(&["192.0.2.100"]));
    assert_eq!(a_answers(&server.tcp(&query)), set(&["192.0.2.100"]));

    // Fixed file: the next SIGHUP works.
    std::fs::write(
        &zone_path,
        RELOAD_ZONE_V1.replace("192.0.2.100", "192.0.2.150"),
    )
    .unwrap();
    server.reload();
    wait_for(Duration::from_secs(10), "the reloaded answer", || {
        a_answers(&server.udp(&query)) == set(&["192.0.2.150"])
    });
}
