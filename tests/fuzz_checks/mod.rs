//! The properties every fuzz target checks, shared by the cargo-fuzz targets (`fuzz/`, which
//! include this file by path) and `tests/fuzz_replay.rs` (which runs every committed corpus
//! and regression input through them), so a regression fails `cargo test`, not only a fuzz run.
//!
//! Each function takes the raw fuzz input and panics when a property breaks.

#![allow(dead_code)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dynadns::answer::{Client, Transport, respond as dyn_respond};
use dynadns::snapshot::Snapshot;
use dynadns::wire::query::{Parsed, parse};
use hickory_proto::op::Message;
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};

/// The names of every target, in the order `fuzz_replay` runs them.
pub const TARGETS: &[&str] = &[
    "packet_parse",
    "respond",
    "zone_yaml",
    "master_file",
    "config",
    "networks",
];

/// Runs the checks of `target` on `data`.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "packet_parse" => packet_parse(data),
        "respond" => respond(data),
        "zone_yaml" => zone_yaml(data),
        "master_file" => master_file(data),
        "config" => config(data),
        "networks" => networks(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// A scratch directory for this process and target (the config loaders read files).
pub fn scratch(target: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dynadns-fuzz-{}-{target}", std::process::id()));
    std::fs::create_dir_all(d.join("zones")).expect("create the scratch directory");
    d
}

// ---------------------------------------------------------------------------------------------
// packet_parse
// ---------------------------------------------------------------------------------------------

/// `wire::query::parse` never panics, and agrees with hickory-proto where both accept a
/// single-question query: name (case-insensitively), type, class, EDNS payload, DO bit,
/// version and client subnet.
///
/// Accepted divergences (we are more lenient or stricter than hickory on purpose):
/// - hickory rejects messages whose records it cannot decode (unknown rdata shapes, bad
///   SVCB, ...); we skip answer/authority records unread, since a query should have none.
///   So only packets both accept are compared.
/// - we answer FORMERR (not Query) for option lists hickory tolerates (a second client subnet
///   option, an ECS option with a bad family or prefix): that only makes us stricter.
pub fn packet_parse(data: &[u8]) {
    let parsed = parse(data);
    let Parsed::Query(ours) = parsed else {
        return;
    };
    let Ok(theirs) = Message::from_vec(data) else {
        return;
    };
    if theirs.queries.len() != 1 {
        return;
    }
    let q = ours.question.as_ref().expect("a Query has its question");
    let hq = &theirs.queries[0];
    let mut wire = Vec::new();
    for label in hq.name.iter() {
        wire.push(label.len() as u8);
        wire.extend(label.iter().map(u8::to_ascii_lowercase));
    }
    wire.push(0);
    assert_eq!(q.lower_name(), &wire[..], "qname differs from hickory's");
    assert_eq!(q.qtype, u16::from(hq.query_type), "qtype differs");
    assert_eq!(q.qclass, u16::from(hq.query_class), "qclass differs");
    assert_eq!(ours.id, theirs.metadata.id, "id differs");
    match (&ours.edns, &theirs.edns) {
        (None, None) => {}
        (Some(e), Some(h)) => {
            assert_eq!(e.payload, h.max_payload().max(512), "EDNS payload differs");
            assert_eq!(e.version, h.version(), "EDNS version differs");
            assert_eq!(e.dnssec_ok, h.flags().dnssec_ok, "DO bit differs");
            let hecs = h.option(EdnsCode::Subnet);
            match (&e.client_subnet, hecs) {
                (None, None) => {}
                (Some(c), Some(EdnsOption::Subnet(hc))) => {
                    assert_eq!(c.source_prefix, hc.source_prefix(), "ECS prefix differs");
                    assert_eq!(c.address, hc.addr(), "ECS address differs");
                }
                (ours, theirs) => {
                    panic!("client subnet differs: ours {ours:?}, hickory {theirs:?}")
                }
            }
        }
        (ours, theirs) => panic!("EDNS presence differs: ours {ours:?}, hickory {theirs:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// respond
// ---------------------------------------------------------------------------------------------

const RESPOND_CONFIG: &str = "\
zones: zones/
limits: { edns_udp_payload: 1232, max_answers: 64 }
checks: { up: { type: always_up } }
datacenters: { msk: {}, spb: {} }
resources:
  app:
    ttl: 30
    check: up
    pools:
      msk: [192.0.2.10, 192.0.2.11, \"2001:db8::10\"]
      spb: [198.51.100.10, 198.51.100.11]
    route: { order: [msk, spb] }
  api:
    ttl: 60
    check: up
    cnames:
      msk: { cname: api-msk.example.net., probe: 127.0.0.1 }
      spb: { cname: api-spb.example.net., probe: 127.0.0.2 }
    route: { order: [msk, spb] }
";

const RESPOND_ZONE: &str = r#"zone: example.com
ttl: 3600
soa: { primary: ns1, contact: hostmaster, serial: 1, refresh: 3600, retry: 900, expire: 1209600, negative_ttl: 300 }
records:
  "@":
    NS: [ns1, ns2]
    MX: ["10 mail"]
    TXT: ["v=spf1 -all", "a second string"]
  ns1: { A: 192.0.2.53 }
  ns2: { A: 192.0.2.54, AAAA: "2001:db8::54" }
  www: { A: [192.0.2.1, 192.0.2.2, 192.0.2.3], AAAA: "2001:db8::1" }
  mail: { A: 192.0.2.25 }
  c1: { CNAME: c2 }
  c2: { CNAME: c3 }
  c3: { CNAME: www }
  loop1: { CNAME: loop2 }
  loop2: { CNAME: loop1 }
  "*.wild": { A: 192.0.2.7, TXT: ["wildcard"] }
  sub: { NS: [ns.sub, ns.other.net.] }
  ns.sub: { A: 192.0.2.99, AAAA: "2001:db8::99" }
  app: { DYNA: app }
  api: { DYNC: api }
  big: { TXT: ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"] }
"#;

/// The snapshot `respond` answers from: static records, a wildcard, a delegation with glue,
/// a CNAME chain and a loop, a DYNA and a DYNC resource whose checks are always up.
fn snapshot() -> &'static Snapshot {
    static SNAP: OnceLock<Snapshot> = OnceLock::new();
    SNAP.get_or_init(|| {
        let dir = scratch("respond-snapshot");
        std::fs::write(dir.join("dynadns.yaml"), RESPOND_CONFIG).expect("write config");
        std::fs::write(dir.join("zones/example.com.yaml"), RESPOND_ZONE).expect("write zone");
        let loaded = dynadns::config::load(&dir.join("dynadns.yaml"))
            .unwrap_or_else(|e| panic!("the respond snapshot's configuration: {e}"));
        let _ = std::fs::remove_dir_all(&dir);
        Snapshot::build(loaded, 1)
    })
}

/// The configured `limits.edns_udp_payload` of [`RESPOND_CONFIG`].
const EDNS_UDP_PAYLOAD: usize = 1232;

/// `answer::respond` over UDP and TCP: every response re-parses with hickory-proto, echoes
/// the query's ID and stays within the size limit of its transport.
pub fn respond(data: &[u8]) {
    let snap = snapshot();
    let mut out = vec![0u8; 65535];
    let client: IpAddr = "198.51.100.7".parse().expect("address");
    // What the client asked for, by our own parser (hickory may refuse the query).
    let edns_payload = match parse(data) {
        Parsed::Query(q) | Parsed::FormErr(q) | Parsed::NotImp(q) | Parsed::BadVers(q) => {
            q.edns.map(|e| usize::from(e.payload))
        }
        Parsed::Drop => None,
    };
    for transport in [Transport::Udp, Transport::Tcp] {
        let Some(n) = dyn_respond(
            snap,
            data,
            Client {
                addr: client,
                transport,
            },
            &mut out,
        ) else {
            continue;
        };
        let limit = match transport {
            Transport::Tcp => 65535,
            Transport::Udp => edns_payload.map_or(512, |p| p.clamp(512, EDNS_UDP_PAYLOAD)),
        };
        assert!(
            n <= limit,
            "{transport:?} response of {n} bytes over the limit {limit}"
        );
        assert!(n >= 12, "{transport:?} response of {n} bytes");
        assert!(data.len() >= 2 && out[..2] == data[..2], "ID not echoed");
        if let Err(e) = Message::from_vec(&out[..n]) {
            panic!(
                "{transport:?} response does not parse with hickory: {e}\nresponse: {:02x?}",
                &out[..n]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// zone_yaml, master_file, config, networks
// ---------------------------------------------------------------------------------------------

/// Every error of a loader names a position in the file it read.
fn assert_positioned(diags: &dynadns::diag::Diagnostics) {
    for d in &diags.0 {
        assert!(
            d.line > 0 && d.col > 0,
            "diagnostic without a position: {d}"
        );
    }
}

/// The zone YAML loader never panics; its errors carry a line and column.
pub fn zone_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut resources = dynadns::zone::load::KnownResources::default();
    resources.addresses.insert("app".into(), 0);
    resources.cnames.insert("api".into(), 1);
    let mut diags = dynadns::diag::Diagnostics::default();
    let _ = dynadns::zone::load::load_zone_text(
        text,
        Path::new("zones/fuzz.yaml"),
        &resources,
        &mut diags,
    );
    assert_positioned(&diags);
}

/// The RFC 1035 importer never panics on any bytes.
pub fn master_file(data: &[u8]) {
    // `$INCLUDE` is resolved relative to this (missing) directory.
    let file = Path::new("/nonexistent-dynadns-fuzz/zone.db");
    let text = String::from_utf8_lossy(data);
    let _ = dynadns::import::import_master_text(&text, file, "example.com");
}

/// A zone for the configurations the `config` and `networks` targets load.
const MINIMAL_ZONE: &str = "zone: example.com\nsoa: { primary: ns1, contact: hostmaster, serial: 1 }\nrecords:\n  \"@\": { NS: [ns1] }\n  ns1: { A: 192.0.2.1 }\n";

/// Loads `config` with `files` written next to it; never panics.
fn load_config(
    target: &str,
    config: &[u8],
    files: &[(&str, &[u8])],
) -> Result<(), dynadns::diag::Diagnostics> {
    let dir = scratch(target);
    std::fs::write(dir.join("zones/example.com.yaml"), MINIMAL_ZONE).expect("write zone");
    std::fs::write(dir.join("dynadns.yaml"), config).expect("write config");
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("write data file");
    }
    dynadns::config::load_with_warnings(&dir.join("dynadns.yaml")).map(|_| ())
}

/// The config loader never panics on any dynadns.yaml text.
pub fn config(data: &[u8]) {
    let _ = load_config("config", data, &[]);
}

/// The networks-file loader and `parse_cidr` never panic; every error in a networks file
/// names its line and column.
pub fn networks(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines() {
            if let Ok((addr, len)) = dynadns::geo::parse_cidr(line.trim()) {
                assert!(
                    len <= if addr.is_ipv4() { 32 } else { 128 },
                    "{line}: /{len}"
                );
                let bits_after = |value: u128, width: u32| {
                    let host = width - u32::from(len);
                    value & 1u128.checked_shl(host).map_or(u128::MAX, |m| m - 1)
                };
                let host_bits = match addr {
                    IpAddr::V4(a) => bits_after(u128::from(u32::from(a)), 32),
                    IpAddr::V6(a) => bits_after(u128::from(a), 128),
                };
                assert_eq!(host_bits, 0, "{line}: host bits left set in {addr}/{len}");
            }
        }
    }
    let config = b"zones: zones/\ndatacenters: { msk: {}, spb: {} }\ngeo_maps:\n  world:\n    default: [msk, spb]\n    networks_files: [nets.txt]\n";
    if let Err(diags) = load_config("networks", config, &[("nets.txt", data)]) {
        for d in &diags.0 {
            if d.file.ends_with("nets.txt") {
                assert!(
                    d.line > 0 && d.col > 0,
                    "networks file error without a position: {d}"
                );
            }
        }
    }
}
