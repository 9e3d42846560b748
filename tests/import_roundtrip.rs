//! `dynadns import-zone` output of a consistent zone passes `check`, and serves exactly the
//! master file's data: a master file with every supported record type goes through
//! import-zone, check and the server, and each answer's RDATA (decoded with hickory-proto)
//! equals the RDATA the master file means.

mod common;

use std::process::Output;

use common::{QueryBuilder, TempDir, TestServer, run_dynadns};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::BinEncodable;
use hickory_proto::serialize::txt::Parser;

/// One record per type: owner, type, master-file RDATA, and its wire form in hex, worked out
/// by hand from the RFC that defines the type.
const RECORDS: &[(&str, &str, &str, &str)] = &[
    ("r-a", "A", "192.0.2.1", "c0000201"),
    (
        "r-aaaa",
        "AAAA",
        "2001:db8::1",
        "20010db8000000000000000000000001",
    ),
    ("r-mx", "MX", "10 mail", "000a046d61696c027274047465737400"),
    (
        "r-txt",
        "TXT",
        "\"hello world\" \"second\"",
        "0b68656c6c6f20776f726c64067365636f6e64",
    ),
    (
        "r-srv",
        "SRV",
        "10 60 5060 sip",
        "000a003c13c403736970027274047465737400",
    ),
    (
        "r-caa",
        "CAA",
        "0 issue \"letsencrypt.org\"",
        "000569737375656c657473656e63727970742e6f7267",
    ),
    // RFC 3403
    (
        "r-naptr",
        "NAPTR",
        "100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
        "0064000a0155074532552b7369701b215e2e2a24217369703a696e666f406578616d706c652e636f6d2100",
    ),
    ("r-hinfo", "HINFO", "\"PC\" \"Linux\"", "025043054c696e7578"),
    // RFC 4255
    (
        "r-sshfp",
        "SSHFP",
        "1 1 0123456789abcdef0123456789abcdef01234567",
        "01010123456789abcdef0123456789abcdef01234567",
    ),
    // RFC 6698
    (
        "r-tlsa",
        "TLSA",
        "3 1 1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "030101000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    ),
    // RFC 4034 §5.3 and §2.2
    (
        "r-ds",
        "DS",
        "12345 13 2 000102030405060708090A0B0C0D0E0F 101112131415161718191a1b1c1d1e1f",
        "30390d02000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    ),
    (
        "r-dnskey",
        "DNSKEY",
        "257 3 13 AQIDBAUGBwgJ CgsMDQ4PEA==",
        "0101030d0102030405060708090a0b0c0d0e0f10",
    ),
    // RFC 1876 §3 (the example location of its appendix)
    (
        "r-loc",
        "LOC",
        "42 21 54 N 71 06 18 W -24m 30m",
        "0033161389172dd070be15f000988d20",
    ),
    // RFC 9460
    (
        "r-svcb",
        "SVCB",
        "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1",
        "000100000100060268320268330003000220fb00040004c0000201",
    ),
    (
        "r-https",
        "HTTPS",
        "1 svc.rt.test. alpn=h2 ipv6hint=2001:db8::1",
        "000103737663027274047465737400000100030268320006001020010db8000000000000000000000001",
    ),
    // RFC 7553
    (
        "r-uri",
        "URI",
        "10 1 \"https://www.example.com/path\"",
        "000a000168747470733a2f2f7777772e6578616d706c652e636f6d2f70617468",
    ),
    // RFC 6672
    (
        "r-dname",
        "DNAME",
        "new.example.",
        "036e6577076578616d706c6500",
    ),
    (
        "r-afsdb",
        "AFSDB",
        "1 afs",
        "000103616673027274047465737400",
    ),
    ("r-kx", "KX", "10 kx", "000a026b78027274047465737400"),
    (
        "r-rp",
        "RP",
        "mbox txt",
        "046d626f7802727404746573740003747874027274047465737400",
    ),
    ("r-ptr", "PTR", "www", "03777777027274047465737400"),
    ("r-openpgpkey", "OPENPGPKEY", "AQIDBA==", "01020304"),
    ("r-eui48", "EUI48", "00-00-5e-00-53-2a", "00005e00532a"),
    ("r-l32", "L32", "10 192.0.2.1", "000ac0000201"),
    // RFC 3123
    (
        "r-apl",
        "APL",
        "1:192.168.32.0/21 !1:192.168.38.0/28",
        "00011503c0a8200001 1c83c0a826",
    ),
    // RFC 3597: a type without a mnemonic.
    ("r-generic", "TYPE65280", "\\# 4 0a0b0c0d", "0a0b0c0d"),
];

const HEAD: &str = "$ORIGIN rt.test.
$TTL 3600
@ IN SOA ns1 hostmaster 2024010101 7200 900 1209600 300
  IN NS ns1
ns1 IN A 192.0.2.53
";

fn master() -> String {
    let mut text = HEAD.to_string();
    for (owner, rtype, rdata, _) in RECORDS {
        text.push_str(&format!("{owner} IN {rtype} {rdata}\n"));
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn want(wire_hex: &str) -> String {
    wire_hex.replace(' ', "")
}

/// `import-zone MASTER --origin ORIGIN` in `dir` (it must succeed), the output written as
/// `zones/ORIGIN.yaml` beside a default server file, then `check`: the zone YAML and the
/// output of `check`.
fn import_then_check(dir: &TempDir, master: &str, origin: &str) -> (String, Output) {
    let out = run_dynadns(dir.path(), &["import-zone", master, "--origin", origin]);
    assert!(
        out.status.success(),
        "import-zone {master} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).expect("import-zone writes UTF-8");
    common::write_files(
        dir.path(),
        &[
            (format!("zones/{origin}.yaml").as_str(), yaml.as_str()),
            ("dynadns.yaml", common::DEFAULT_CONFIG),
        ],
    );
    let check = run_dynadns(dir.path(), &["check", "-c", "dynadns.yaml"]);
    (yaml, check)
}

/// Every supported type: import-zone, then check passes without a warning, then the server
/// answers each RRset with the master file's RDATA.
#[test]
fn rfc3597_every_type_round_trips_through_import_check_and_serve() {
    let dir = TempDir::with(&[("rt.test.zone", &master())]);
    let (yaml, check) = import_then_check(&dir, "rt.test.zone", "rt.test");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        check.status.success() && stderr.is_empty(),
        "check of the imported zone:\n{stderr}\n--- zone ---\n{yaml}"
    );

    let server = TestServer::start_with(&[
        ("dynadns.yaml", common::DEFAULT_CONFIG),
        ("zones/rt.test.yaml", &yaml),
    ]);
    let mut problems = Vec::new();
    for (owner, rtype, rdata, wire) in RECORDS {
        let qtype = RecordType::from_str_ascii(rtype);
        let reply = server.tcp(&QueryBuilder::new(&format!("{owner}.rt.test."), qtype).build());
        let got: Vec<String> = reply
            .answers
            .iter()
            .filter(|r| r.record_type() == qtype)
            .map(|r| hex(&r.data.to_bytes().expect("hickory encodes what it decoded")))
            .collect();
        if got != [want(wire)] {
            problems.push(format!(
                "{owner} {rtype} {rdata}:\n  want {}\n  got  {got:?}",
                want(wire)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

trait FromStrAscii {
    fn from_str_ascii(s: &str) -> RecordType;
}

impl FromStrAscii for RecordType {
    fn from_str_ascii(s: &str) -> RecordType {
        match s.strip_prefix("TYPE") {
            Some(n) => RecordType::from(n.parse::<u16>().expect("TYPEnnn")),
            None => s.parse().unwrap_or_else(|_| match s {
                "LOC" => RecordType::Unknown(29),
                "AFSDB" => RecordType::Unknown(18),
                "KX" => RecordType::Unknown(36),
                "RP" => RecordType::Unknown(17),
                "EUI48" => RecordType::Unknown(108),
                "L32" => RecordType::Unknown(105),
                "APL" => RecordType::Unknown(42),
                "URI" => RecordType::Unknown(256),
                other => panic!("hickory does not know {other}"),
            }),
        }
    }
}

/// The hand-written wire forms above agree with hickory-proto's own master-file parser for
/// every type it reads, so the expectations are not just dynadns agreeing with itself.
#[test]
fn expected_wire_forms_agree_with_hickory() {
    let mut text = HEAD.to_string();
    let mut checked = Vec::new();
    for (owner, rtype, rdata, wire) in RECORDS {
        if matches!(
            *rtype,
            "MX" | "TXT"
                | "SRV"
                | "CAA"
                | "NAPTR"
                | "HINFO"
                | "SSHFP"
                | "TLSA"
                | "SVCB"
                | "HTTPS"
                | "PTR"
                | "A"
                | "AAAA"
                | "OPENPGPKEY"
        ) {
            text.push_str(&format!("{owner} IN {rtype} {rdata}\n"));
            checked.push((format!("{owner}.rt.test."), *rtype, want(wire)));
        }
    }
    let (_, rrsets) = Parser::new(&text, None, Some(Name::from_ascii("rt.test.").unwrap()))
        .parse()
        .expect("hickory parses the master file");
    let mut problems = Vec::new();
    for (name, rtype, wire) in &checked {
        let found: Vec<String> = rrsets
            .values()
            .flat_map(|set| set.records_without_rrsigs())
            .filter(|r| r.name.to_ascii().eq_ignore_ascii_case(name))
            .filter(|r| !matches!(r.data, RData::SOA(_) | RData::NS(_)))
            .map(|r| hex(&r.data.to_bytes().expect("encode")))
            .collect();
        if found != [wire.clone()] {
            problems.push(format!("{name} {rtype}: mine {wire}, hickory {found:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Real zone files from Knot's test suite (every type Knot tests, generic data, escapes):
/// whatever import-zone accepts passes check.
#[test]
fn imported_conformance_zones_pass_check() {
    if !common::conformance_available() {
        return;
    }
    for (file, origin) in [
        ("knot-tests-extra/data__records.zone", "records"),
        ("knot-tests-extra/data__flags.zone", "flags"),
        ("nsd-tpkg/qtest/unsigned.zone", "example.org"),
    ] {
        let path = common::conformance_data(file);
        let dir = TempDir::new();
        let (_, check) = import_then_check(&dir, path.to_str().expect("a UTF-8 path"), origin);
        assert!(
            check.status.success(),
            "{file}: check of the imported zone failed:\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}
