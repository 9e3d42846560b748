//! In-process robustness: a million hostile packets through the whole answer
//! path (`answer::respond`) against the shipped example configuration, GSLB names included.
//!
//! Seeded, so a failure is reproducible; bounded in count, so it stays fast. The properties
//! are the ones a server owes the network: never panic, never answer a response (QR=1), always
//! produce a well-formed header with the query's ID, stay within the UDP size limit over UDP,
//! and never answer garbage with more than it received.

use std::net::IpAddr;
use std::path::Path;

use dynadns::answer::{Client, Transport, respond};
use dynadns::gslb::rng::Rng;
use dynadns::snapshot::Snapshot;

fn example() -> Snapshot {
    let loaded = dynadns::config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("dynadns.yaml"))
        .expect("the shipped example loads");
    Snapshot::build(loaded, 1)
}

/// Well-formed queries to mutate: names of every kind in the example, with and without EDNS.
fn seeds() -> Vec<Vec<u8>> {
    let names = [
        "www.example.com",
        "app.example.com",
        "rtb.example.com",
        "api.example.com",
        "ftp.example.com",
        "x.apps.example.com",
        "x.sub.example.com",
        "nx.example.com",
        "example.com",
        "version.bind",
        "example.org",
    ];
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        for (qtype, edns) in [
            (1u16, false),
            (28, true),
            (255, false),
            (15, true),
            (5, true),
        ] {
            let mut q = vec![
                (i >> 8) as u8,
                i as u8,
                0x01,
                0x00,
                0,
                1,
                0,
                0,
                0,
                0,
                0,
                u8::from(edns),
            ];
            for label in name.split('.') {
                q.push(label.len() as u8);
                q.extend_from_slice(label.as_bytes());
            }
            q.push(0);
            q.extend_from_slice(&qtype.to_be_bytes());
            q.extend_from_slice(&[0, if *name == "version.bind" { 3 } else { 1 }]);
            if edns {
                // OPT with a client-subnet option (198.51.100.0/24).
                q.extend_from_slice(&[0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 11]);
                q.extend_from_slice(&[0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100]);
            }
            out.push(q);
        }
    }
    out
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut p = seed.to_vec();
    match rng.below(6) {
        0 => {
            // Flip a few random bits.
            for _ in 0..=rng.below(4) {
                let i = rng.below(p.len() as u64) as usize;
                p[i] ^= 1 << rng.below(8);
            }
        }
        1 => p.truncate(rng.below(p.len() as u64 + 1) as usize),
        2 => {
            // Overwrite a byte with an interesting value (pointer bits, lengths, counts).
            let i = rng.below(p.len() as u64) as usize;
            p[i] = [0x00, 0x3f, 0x40, 0x80, 0xc0, 0xc0 | 12, 0xff, 63, 64][rng.below(9) as usize];
        }
        3 => {
            // Append garbage (extra records, junk after the message).
            for _ in 0..rng.below(64) {
                p.push(rng.next_u64() as u8);
            }
        }
        4 => {
            // Random section counts.
            let i = 4 + 2 * rng.below(4) as usize;
            let v = rng.next_u64() as u16;
            p[i..i + 2].copy_from_slice(&v.to_be_bytes());
        }
        _ => {
            // Pure noise of a random length.
            p = (0..rng.below(600)).map(|_| rng.next_u64() as u8).collect();
        }
    }
    p
}

#[test]
fn hostile_packets_never_break_the_answer_path() {
    let snap = example();
    let seeds = seeds();
    let mut rng = Rng::seeded(0xd15ea5e);
    let mut out = vec![0u8; 65535];
    let client: IpAddr = "198.51.100.7".parse().unwrap();
    let (mut answered, mut silent, mut with_records) = (0u32, 0u32, 0u32);
    for i in 0..1_000_000u32 {
        let seed = &seeds[rng.below(seeds.len() as u64) as usize];
        let packet = mutate(&mut rng, seed);
        let transport = if i % 4 == 0 {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        let Some(n) = respond(
            &snap,
            &packet,
            Client {
                addr: client,
                transport,
            },
            &mut out,
        ) else {
            silent += 1;
            continue;
        };
        answered += 1;
        let ctx = || format!("packet #{i}: {packet:02x?}");
        assert!(packet.len() >= 12, "answered a runt: {}", ctx());
        assert_eq!(packet[2] & 0x80, 0, "answered a response: {}", ctx());
        assert!(n >= 12, "short answer: {}", ctx());
        assert_eq!(out[..2], packet[..2], "ID not echoed: {}", ctx());
        assert_ne!(out[2] & 0x80, 0, "QR not set: {}", ctx());
        if transport == Transport::Udp {
            assert!(n <= 1232, "UDP answer of {n} bytes: {}", ctx());
        }
        let rcode = out[3] & 0x0f;
        if rcode == 0 && out[6..8] != [0, 0] {
            with_records += 1;
        }
        if rcode == 1 {
            assert!(
                n <= packet.len(),
                "FORMERR larger than the packet: {}",
                ctx()
            );
        }
        // Section counts must describe what was written: every record header fits.
        let counts: u32 = (0..4)
            .map(|k| u32::from(u16::from_be_bytes([out[4 + 2 * k], out[5 + 2 * k]])))
            .sum();
        assert!(
            counts as usize * 5 <= n,
            "counts exceed the message: {}",
            ctx()
        );
    }
    eprintln!("answered {answered} ({with_records} with records), silent {silent}");
    // The mix must exercise every outcome, or the test proves nothing.
    assert!(
        answered > 300_000 && silent > 10_000 && with_records > 30_000,
        "answered {answered}, with records {with_records}, silent {silent}"
    );
}
