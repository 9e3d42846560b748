//! Geo maps with `bgp:` entries: partner networks taken from MRT RIB dumps, as `dynadns check`
//! sees them (a good dump passes; a missing, cut, garbage or compressed dump and bad rules are
//! errors naming the file and the place), and as a DNS client sees them once routing by BGP
//! prefixes is compiled into the lookup table.
//!
//! The dumps are built with bgpkit-parser's own encoder, so they are real TABLE_DUMP_V2 files.

mod common;

use std::net::IpAddr;
use std::process::Output;

use bgpkit_parser::BgpElem;
use bgpkit_parser::encoder::MrtRibEncoder;
use bgpkit_parser::models::AsPath;
use common::{TempDir, TestServer, run_dynadns, write_files};

/// A RIB dump of `(prefix, peer AS, AS path)` routes; each peer AS gets its own peer address.
fn dump(routes: &[(&str, u32, &[u32])]) -> Vec<u8> {
    let mut enc = MrtRibEncoder::new();
    for &(prefix, peer, path) in routes {
        let ip: IpAddr = format!("192.0.2.{}", peer % 250).parse().unwrap();
        enc.process_elem(&BgpElem {
            peer_ip: ip,
            peer_asn: peer.into(),
            prefix: prefix.parse().unwrap(),
            as_path: Some(AsPath::from_sequence(path)),
            next_hop: Some(ip),
            ..Default::default()
        })
        .unwrap();
    }
    enc.export_bytes().unwrap().to_vec()
}

/// The partner dump every test uses: peer 64500 announces two partner prefixes originated by
/// 64501 and one IPv6 prefix; peer 64510 announces an unrelated one.
fn partner_dump() -> Vec<u8> {
    dump(&[
        ("198.51.100.0/24", 64500, &[64500, 64501]),
        ("203.0.113.0/25", 64500, &[64500, 64501]),
        ("2001:db8:1::/48", 64500, &[64500, 64501]),
        ("192.0.2.0/24", 64510, &[64510]),
    ])
}

/// The zone: `www` is the resource `www`.
const ZONE: &str = common::WWW_ZONE;

/// A server file whose map `world` has the `bgp` entries `bgp` (YAML, indented by six; none
/// when empty).
fn config(bgp: &str) -> String {
    let bgp = if bgp.is_empty() {
        String::new()
    } else {
        format!("    bgp:\n{bgp}")
    };
    format!(
        "listen:\n  dns: [\"127.0.0.1:5353\"]\nzones: zones/\n\
         datacenters: {{ msk: {{}}, spb: {{}}, partner: {{}} }}\n\
         checks: {{ up: {{ type: always_up }} }}\n\
         geo_maps:\n  world:\n    default: [msk, spb]\n{bgp}\
         resources:\n  www:\n    ttl: 30\n    check: up\n    pools:\n\
         \x20     msk: [10.0.1.1]\n      spb: [10.0.2.1]\n      partner: [10.0.3.1]\n\
         \x20   route: {{ geo: world }}\n"
    )
}

const PARTNER_RULES: &str = concat!(
    "      - dump: geoip/rs1-rib.mrt\n",
    "        rules:\n",
    "          - { peer_asn: 64500, dcs: [partner], only: true }\n",
);

/// Runs `dynadns check` on `config_text` with `dump_bytes` at `geoip/rs1-rib.mrt` (if any).
fn check(config_text: &str, dump_bytes: Option<&[u8]>) -> (TempDir, Output) {
    let dir = TempDir::with(&[
        ("dynadns.yaml", config_text),
        ("zones/example.com.yaml", ZONE),
    ]);
    if let Some(b) = dump_bytes {
        write_files(dir.path(), &[("geoip/rs1-rib.mrt", b)]);
    }
    let out = run_dynadns(dir.path(), &["check", "-c", "dynadns.yaml"]);
    (dir, out)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `check` fails and reports `want` (each a substring) at `dynadns.yaml:LINE:COL`.
fn assert_fails(out: &Output, at: &str, want: &[&str]) {
    let err = stderr(out);
    assert!(!out.status.success(), "check passed:\n{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with(&format!("dynadns.yaml:{at}: error:")))
        .unwrap_or_else(|| panic!("no error at {at}:\n{err}"));
    for w in want {
        assert!(err.contains(w), "missing {w:?} (line {line:?}) in:\n{err}");
    }
}

#[test]
fn check_accepts_a_map_with_a_bgp_dump() {
    let (_dir, out) = check(&config(PARTNER_RULES), Some(&partner_dump()));
    assert!(out.status.success(), "{}", stderr(&out));
    // Peer 64500's three prefixes are taken; peer 64510's is not.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .contains("geo map 'world': 3 prefix(es) from BGP dump geoip/rs1-rib.mrt (4 route(s))"),
        "{stdout}"
    );
}

#[test]
fn check_reports_a_missing_dump_at_its_node() {
    let (_dir, out) = check(&config(PARTNER_RULES), None);
    assert_fails(
        &out,
        "10:15",
        &["cannot read BGP dump", "geoip/rs1-rib.mrt", "relative to"],
    );
}

#[test]
fn check_reports_a_truncated_dump() {
    let bytes = partner_dump();
    let (_dir, out) = check(&config(PARTNER_RULES), Some(&bytes[..bytes.len() / 2]));
    assert_fails(
        &out,
        "10:15",
        &["BGP dump", "rs1-rib.mrt: truncated", "rename it into place"],
    );
}

#[test]
fn check_reports_garbage_and_compressed_dumps() {
    let (_dir, out) = check(
        &config(PARTNER_RULES),
        Some(b"198.51.100.0/24 partner\n".as_slice()),
    );
    assert_fails(&out, "10:15", &["rs1-rib.mrt: not an MRT file"]);

    let gzip = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03];
    let (_dir, out) = check(&config(PARTNER_RULES), Some(gzip.as_slice()));
    assert_fails(
        &out,
        "10:15",
        &["rs1-rib.mrt: the file is gzip-compressed", "gunzip"],
    );

    let (_dir, out) = check(&config(PARTNER_RULES), Some(b"".as_slice()));
    assert_fails(&out, "10:15", &["rs1-rib.mrt: the file is empty"]);
}

#[test]
fn check_reports_bad_rules() {
    let rules = concat!(
        "      - dump: geoip/rs1-rib.mrt\n",
        "        rules:\n",
        "          - { dcs: [partner] }\n",
        "          - { origin_asn: 64501, dcs: [partnr] }\n",
        "          - { peer_asn: 4294967296, dcs: [msk] }\n",
    );
    let (_dir, out) = check(&config(rules), Some(&partner_dump()));
    assert_fails(
        &out,
        "12:13",
        &["a bgp rule needs peer_asn, origin_asn or both"],
    );
    assert_fails(
        &out,
        "13:40",
        &[
            "datacenter 'partnr' is not declared",
            "did you mean 'partner'?",
        ],
    );
    assert_fails(
        &out,
        "14:25",
        &["peer_asn '4294967296' is out of range (1..=4294967295)"],
    );

    let no_dump = "      - rules: [{ peer_asn: 64500, dcs: [partner] }]\n";
    let (_dir, out) = check(&config(no_dump), None);
    assert_fails(&out, "10:9", &["a bgp entry has no dump"]);
}

/// Clients in the partner's prefixes (ECS) get the partner's address with the prefix as ECS
/// scope; others get the default order.
#[test]
fn partner_prefixes_route_to_the_partner() {
    use hickory_proto::op::Message;
    use hickory_proto::rr::RecordType;
    use hickory_proto::rr::rdata::opt::{ClientSubnet, EdnsCode, EdnsOption};
    // Start without the dump (start_with writes text files), then add it and reload.
    let plain = config("");
    let server = TestServer::start_with(&[
        ("dynadns.yaml", plain.as_str()),
        ("zones/example.com.yaml", ZONE),
    ]);
    write_files(
        server.dir(),
        &[
            ("geoip/rs1-rib.mrt", partner_dump()),
            ("dynadns.yaml", config(PARTNER_RULES).into_bytes()),
        ],
    );
    server.reload();
    let ask = |subnet: &str| -> Message {
        let (a, l) = subnet.split_once('/').unwrap();
        let mut m = common::QueryBuilder::new("www.example.com.", RecordType::A)
            .edns(1232, false)
            .build();
        m.edns
            .as_mut()
            .unwrap()
            .options_mut()
            .insert(EdnsOption::Subnet(ClientSubnet::new(
                a.parse().unwrap(),
                l.parse().unwrap(),
                0,
            )));
        server.udp(&m)
    };
    let first = |m: &Message| -> (Vec<String>, Option<u8>) {
        let addrs = m.answers.iter().map(|r| r.data.to_string()).collect();
        let scope = match m.edns.as_ref().and_then(|e| e.option(EdnsCode::Subnet)) {
            Some(EdnsOption::Subnet(cs)) => Some(cs.scope_prefix()),
            _ => None,
        };
        (addrs, scope)
    };
    // The reload is asynchronous: wait (bounded) for the partner answer.
    let partner = (vec!["10.0.3.1".to_string()], Some(24));
    let mut last = None;
    common::wait_for(
        "the partner answer after the reload",
        std::time::Duration::from_secs(5),
        || {
            let got = first(&ask("198.51.100.7/32"));
            let done = got == partner;
            last = Some(got);
            done.then_some(())
        },
    )
    .unwrap_or_else(|e| panic!("{e}: last {last:?}\n{}", server.stderr_text()));
    assert_eq!(
        first(&ask("203.0.113.9/32")),
        (vec!["10.0.3.1".to_string()], Some(25))
    );
    // Peer 64510's prefix matches no rule: default order.
    assert_eq!(first(&ask("192.0.2.7/32")).0, vec!["10.0.1.1".to_string()]);
}
