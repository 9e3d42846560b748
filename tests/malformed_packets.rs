//! Robustness against the BIND 9 and PowerDNS fuzzing seed corpora
//! (`malformed-packets/*/`, raw DNS messages without length prefix).
//!
//! Every packet is sent as a UDP datagram, and a sample over TCP with 2-byte framing.
//! Requirements (RFC 1035 §4.1.1, RFC 5452 spirit, no amplification):
//! - the server never answers a packet with the QR bit set (a response);
//! - an answer is a response (QR set) with the query's ID;
//! - a FORMERR answer (the packet is not a parseable query) is never longer than the
//!   packet received;
//! - afterwards the process is still running, has not logged a panic, and answers a
//!   normal query.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{QueryBuilder, TestServer};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

const ZONE: &str = r#"zone: example.com
ttl: 3600
soa: { primary: ns1, contact: hostmaster, serial: 1, refresh: 3600, retry: 900, expire: 1209600, negative_ttl: 300 }
records:
  "@": { NS: [ns1, ns2], MX: ["10 mail"] }
  ns1: { A: 192.0.2.53 }
  ns2: { A: 192.0.2.54 }
  www: { A: [192.0.2.1, 192.0.2.2] }
"#;

/// How long to wait for an answer to one packet. Most packets get none, so this bounds
/// the run time (packets are sent from several threads in parallel).
const ANSWER_WAIT: Duration = Duration::from_millis(250);
const PARALLEL_SENDERS: usize = 16;
/// Number of packets also sent over TCP (spread evenly over the corpus).
const TCP_SAMPLE: usize = 50;
/// Largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP); larger seeds are TCP-only.
const MAX_UDP_PAYLOAD: usize = 65507;
const RCODE_FORMERR: u8 = 1;

struct Packet {
    path: PathBuf,
    bytes: Vec<u8>,
}

#[test]
fn malformed_packets_do_not_harm_the_server() {
    if !common::conformance_available() {
        return;
    }
    let started = Instant::now();
    let packets = load_corpus();
    assert!(packets.len() > 300, "expected ~350 seed packets");
    let mut server = TestServer::start_with(&[
        ("dynadns.yaml", common::DEFAULT_CONFIG),
        ("zones/example.com.yaml", ZONE),
    ]);

    let udp_packets: Vec<&Packet> = packets
        .iter()
        .filter(|p| p.bytes.len() <= MAX_UDP_PAYLOAD)
        .collect();
    let udp_answers = send_all(&udp_packets, |p| server.udp_raw(&p.bytes, ANSWER_WAIT));
    let framable: Vec<&Packet> = packets
        .iter()
        .filter(|p| u16::try_from(p.bytes.len()).is_ok())
        .collect();
    let sample = TCP_SAMPLE.min(framable.len());
    let tcp_packets: Vec<&Packet> = (0..sample)
        .map(|i| framable[i * framable.len() / sample])
        .collect();
    let tcp_answers = send_all(&tcp_packets, |p| server.tcp_raw(&p.bytes, ANSWER_WAIT));

    let mut violations = Vec::new();
    for (transport, sent, answers) in [
        ("UDP", &udp_packets, &udp_answers),
        ("TCP", &tcp_packets, &tcp_answers),
    ] {
        for (packet, answer) in sent.iter().zip(answers.iter()) {
            if let Some(answer) = answer
                && let Err(problem) = check_answer(&packet.bytes, answer)
            {
                violations.push(format!(
                    "{transport} {} ({} bytes): {problem}",
                    packet.path.display(),
                    packet.bytes.len()
                ));
            }
        }
        println!(
            "{transport}: {} packets sent, {} answered",
            sent.len(),
            answers.iter().flatten().count()
        );
    }
    println!(
        "{} packets too large for UDP; took {:?}",
        packets.len() - udp_packets.len(),
        started.elapsed()
    );

    assert!(
        server.is_running(),
        "the server died\n{}",
        server.stderr_text()
    );
    let stderr = server.stderr_text();
    assert!(
        !stderr.contains("panicked"),
        "the server logged a panic:\n{stderr}"
    );
    assert!(
        violations.is_empty(),
        "{} violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
    let reply = server.udp(&QueryBuilder::new("www.example.com.", RecordType::A).build());
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 2, "www.example.com A after the corpus");
}

/// Checks one answer against the packet that caused it.
fn check_answer(packet: &[u8], answer: &[u8]) -> Result<(), String> {
    let packet_is_response = packet.get(2).is_some_and(|flags| flags & 0x80 != 0);
    if packet_is_response {
        return Err(format!(
            "answered a QR=1 packet with {} bytes",
            answer.len()
        ));
    }
    if answer.len() < 12 {
        return Err(format!("answer shorter than a header: {answer:02x?}"));
    }
    if answer[2] & 0x80 == 0 {
        return Err("answer without the QR bit".to_string());
    }
    if packet.len() >= 2 && answer[..2] != packet[..2] {
        return Err(format!(
            "answer ID {:02x?} differs from the query's {:02x?}",
            &answer[..2],
            &packet[..2]
        ));
    }
    if answer[3] & 0x0f == RCODE_FORMERR && answer.len() > packet.len() {
        return Err(format!(
            "FORMERR answer of {} bytes is longer than the packet",
            answer.len()
        ));
    }
    Ok(())
}

/// Sends every packet with `send` from [`PARALLEL_SENDERS`] threads; answers are
/// returned in the order of `packets`.
fn send_all(
    packets: &[&Packet],
    send: impl Fn(&Packet) -> Option<Vec<u8>> + Sync,
) -> Vec<Option<Vec<u8>>> {
    let chunk = packets.len().div_ceil(PARALLEL_SENDERS).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = packets
            .chunks(chunk)
            .map(|chunk| scope.spawn(|| chunk.iter().map(|p| send(p)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("sender thread"))
            .collect()
    })
}

/// All files of every corpus folder, sorted by path.
fn load_corpus() -> Vec<Packet> {
    let root = common::conformance_data("malformed-packets");
    let mut paths = Vec::new();
    for folder in std::fs::read_dir(&root).expect("read corpus root") {
        let folder = folder.expect("corpus entry").path();
        if folder.is_dir() {
            for file in std::fs::read_dir(&folder).expect("read corpus folder") {
                paths.push(file.expect("corpus file").path());
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| Packet {
            bytes: std::fs::read(&path).expect("read packet"),
            path: path
                .strip_prefix(&root)
                .map(PathBuf::from)
                .unwrap_or_else(|_| path.clone()),
        })
        .collect()
}
