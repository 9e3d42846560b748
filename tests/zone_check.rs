//! What `dynadns check` rejects (or warns about) in zone files, one test per rule, each
//! naming the RFC it enforces. Every test runs the real binary on files written to a temp
//! directory and asserts the `file:line:col` and the message an operator sees.

mod common;

use std::time::Instant;

use common::{QueryBuilder, TempDir, TestServer};
use hickory_proto::rr::RecordType;

const CONFIG: &str = "listen:\n  dns: [\"127.0.0.1:5353\"]\nzones: zones/\n";

/// A config whose zones may use `DYNA: www` and `DYNC: api`.
const CONFIG_WITH_RESOURCES: &str = "\
listen:
  dns: [\"127.0.0.1:5353\"]
zones: zones/
datacenters: { msk: {} }
resources:
  www:
    ttl: 30
    pools: { msk: [10.0.1.1, 10.0.1.2] }
  api:
    ttl: 60
    cnames: { msk: www.example.com. }
";

const ZONE_FILE: &str = "zones/t.test.yaml";

/// The first lines of every test zone: line 4 is `records:`, so records start on line 5.
const HEAD: &str = "zone: t.test
soa: { primary: ns1, contact: hostmaster, serial: 1 }
# records start on line 5
records:
  \"@\": { NS: ns1 }
  ns1: { A: 192.0.2.1 }
";

struct Run {
    code: Option<i32>,
    stderr: String,
}

impl Run {
    /// The diagnostic line starting with `zones/t.test.yaml:LINE:COL: LEVEL: ` and containing
    /// every word; fails the test listing what was printed otherwise.
    fn expect(&self, line: usize, col: usize, level: &str, words: &[&str]) -> &str {
        let prefix = format!("{ZONE_FILE}:{line}:{col}: {level}: ");
        self.stderr
            .lines()
            .find(|l| l.starts_with(&prefix) && words.iter().all(|w| l.contains(w)))
            .unwrap_or_else(|| {
                panic!(
                    "no line starting with {prefix:?} mentioning {words:?} in:\n{}",
                    self.stderr
                )
            })
    }

    fn errors(&self) -> usize {
        self.stderr
            .lines()
            .filter(|l| l.contains(": error: "))
            .count()
    }
}

fn check_files(files: &[(&str, &[u8])]) -> Run {
    let dir = TempDir::new();
    common::write_files(dir.path(), files);
    let out = common::run_dynadns(dir.path(), &["check", "-c", "dynadns.yaml"]);
    Run {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `check` on HEAD followed by `records` (lines from 7 on).
fn check(records: &str) -> Run {
    check_with(CONFIG, records)
}

fn check_with(config: &str, records: &str) -> Run {
    let zone = format!("{HEAD}{records}");
    check_files(&[
        ("dynadns.yaml", config.as_bytes()),
        (ZONE_FILE, zone.as_bytes()),
    ])
}

fn assert_fails(run: &Run, errors: usize) {
    assert_eq!(run.code, Some(1), "check must fail:\n{}", run.stderr);
    assert_eq!(run.errors(), errors, "error count:\n{}", run.stderr);
    assert!(
        run.stderr.contains("\n  hint: "),
        "every error has a hint:\n{}",
        run.stderr
    );
}

#[test]
fn rfc2181_s5_duplicate_records_are_a_warning_and_dropped() {
    let records = "  www: { A: [192.0.2.10, 192.0.2.11, 192.0.2.10] }\n  mx: { MX: [\"10 mail\", \"10 MAIL\"] }\n  mail: { A: 192.0.2.25 }\n";
    let run = check(records);
    assert_eq!(
        run.code,
        Some(0),
        "warnings do not fail check:\n{}",
        run.stderr
    );
    run.expect(
        7,
        38,
        "warning",
        &["duplicate A record", "line 7, column 14"],
    );
    // Names inside RDATA compare without regard to case.
    run.expect(8, 25, "warning", &["duplicate MX record"]);
    assert!(run.stderr.contains("2 warning(s)"), "{}", run.stderr);

    // `serve` loads the zone too, and answers with the set deduplicated.
    let zone = format!("{HEAD}{records}");
    let server =
        TestServer::start_with(&[("dynadns.yaml", common::DEFAULT_CONFIG), (ZONE_FILE, &zone)]);
    let reply = server.tcp(&QueryBuilder::new("www.t.test.", RecordType::A).build());
    assert_eq!(reply.answers.len(), 2, "{reply:?}");
    let reply = server.tcp(&QueryBuilder::new("mx.t.test.", RecordType::MX).build());
    assert_eq!(reply.answers.len(), 1, "{reply:?}");
}

#[test]
fn rfc1035_s5_2_exactly_one_soa_at_the_apex() {
    // No SOA at all.
    let zone = "zone: t.test\nrecords:\n  \"@\": { NS: ns1 }\n  ns1: { A: 192.0.2.1 }\n";
    let run = check_files(&[
        ("dynadns.yaml", CONFIG.as_bytes()),
        (ZONE_FILE, zone.as_bytes()),
    ]);
    assert_fails(&run, 1);
    run.expect(1, 1, "error", &["missing 'soa:'"]);

    // A second SOA: under records, by mnemonic or by number, at the apex or elsewhere.
    let zone = "zone: t.test\nsoa: { primary: ns1, contact: hostmaster, serial: 1 }\nrecords:\n  \"@\": { NS: ns1, SOA: \"ns1 hostmaster 2 3600 900 1209600 300\" }\n  ns1: { A: 192.0.2.1 }\n";
    let run = check_files(&[
        ("dynadns.yaml", CONFIG.as_bytes()),
        (ZONE_FILE, zone.as_bytes()),
    ]);
    assert_fails(&run, 1);
    run.expect(4, 19, "error", &["SOA", "soa:"]);
    let run = check("  sub: { TYPE6: '\\# 0' }\n");
    assert_fails(&run, 1);
    run.expect(7, 10, "error", &["SOA", "soa:"]);

    // `soa:` given twice.
    let zone = format!("{HEAD}soa: {{ primary: ns1, contact: hostmaster, serial: 2 }}\n");
    let run = check_files(&[
        ("dynadns.yaml", CONFIG.as_bytes()),
        (ZONE_FILE, zone.as_bytes()),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.expect(7, 1, "error", &["duplicate key 'soa'", "line 2"]);
}

#[test]
fn rfc1034_s4_3_4_names_outside_the_zone_are_rejected() {
    let run = check("  host.other.example.: { A: 192.0.2.5 }\n  mail.t.test.: { A: 192.0.2.2 }\n");
    assert_fails(&run, 1);
    run.expect(7, 3, "error", &["host.other.example.", "outside the zone"]);
}

#[test]
fn rfc1034_s3_6_2_cname_beside_other_data_or_twice() {
    let run = check(
        "  a: { CNAME: www, TXT: text }\n  b: { CNAME: [www, ftp] }\n  c: { CNAME: www, TYPE5: '\\# 5 03667470 00' }\n  www: { A: 192.0.2.8 }\n  ftp: { A: 192.0.2.9 }\n",
    );
    assert_fails(&run, 3);
    run.expect(7, 8, "error", &["CNAME cannot stand beside", "TXT"]);
    run.expect(8, 21, "error", &["only one CNAME", "second"]);
    run.expect(9, 27, "error", &["only one CNAME", "second"]);
    // The same type written twice is a YAML error at the second key.
    let run = check("  c: { CNAME: www, CNAME: ftp }\n");
    run.expect(7, 20, "error", &["duplicate key 'CNAME'"]);
}

#[test]
fn rfc2181_s10_1_dync_is_a_cname_and_dyna_is_address_data() {
    let run = check_with(
        CONFIG_WITH_RESOURCES,
        "  api: { DYNC: api, TXT: text }\n  api2: { DYNC: api, CNAME: www }\n  www: { DYNA: www, A: 192.0.2.1 }\n  both: { DYNA: www, DYNC: api }\n  alias: { CNAME: www, DYNA: www }\n",
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.expect(7, 10, "error", &["DYNC cannot stand beside TXT"]);
    run.expect(8, 22, "error", &["CNAME cannot stand beside", "DYNC"]);
    run.expect(9, 10, "error", &["DYNA cannot stand beside A"]);
    run.expect(10, 22, "error", &["only one of DYNA and DYNC"]);
    run.expect(11, 12, "error", &["CNAME cannot stand beside", "DYNA"]);
    // Exactly these: the server file itself is valid.
    assert_eq!(run.errors(), 5, "{}", run.stderr);
}

#[test]
fn rfc6672_dname_rules() {
    let run = check(
        "  old: { DNAME: [new.example., other.example.] }\n  moved: { DNAME: new.example., NS: ns1 }\n  gone: { DNAME: new.example. }\n  www.gone: { A: 192.0.2.7 }\n",
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // RFC 6672 §2.4: one DNAME per name.
    run.expect(7, 32, "error", &["only one DNAME"]);
    // RFC 6672 §5.3: no DNAME at a delegation point.
    run.expect(8, 12, "error", &["DNAME cannot stand beside NS"]);
    // RFC 6672 §2.4: nothing below a DNAME.
    run.expect(10, 3, "error", &["'www.gone' is below the DNAME at 'gone'"]);
    assert_eq!(run.errors(), 3, "{}", run.stderr);

    // A DNAME at the apex beside NS is allowed, but then nothing may live below the apex.
    let zone = "zone: d.test\nsoa: { primary: ns1.example., contact: hostmaster, serial: 1 }\nrecords:\n  \"@\": { NS: ns1.example., DNAME: e.test. }\n";
    let run = check_files(&[
        ("dynadns.yaml", CONFIG.as_bytes()),
        ("zones/d.test.yaml", zone.as_bytes()),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn rfc1034_s4_2_1_ns_below_a_delegation_is_occluded() {
    let run = check(
        "  sub: { NS: ns.elsewhere.example. }\n  deeper.sub: { NS: ns.elsewhere.example. }\n  x.y.sub: { NS: ns.elsewhere.example. }\n",
    );
    assert_fails(&run, 2);
    run.expect(
        8,
        17,
        "error",
        &["'deeper.sub' are below the delegation at 'sub'"],
    );
    run.expect(
        9,
        14,
        "error",
        &["'x.y.sub' are below the delegation at 'sub'"],
    );
}

#[test]
fn rfc9471_in_bailiwick_ns_targets_need_glue() {
    let run = check(
        "  sub: { NS: [ns.sub, ns2.sub, ns.elsewhere.example.] }\n  ns2.sub: { A: 192.0.2.99 }\n",
    );
    assert_fails(&run, 1);
    let line = run.expect(7, 10, "error", &["ns.sub.t.test.", "missing glue"]);
    assert!(line.contains("glue"), "{line}");
    assert!(run.stderr.contains("RFC 9471"), "{}", run.stderr);
}

#[test]
fn rfc1035_s4_2_2_rrset_too_large_for_any_message_is_rejected() {
    // 70 KB of TXT: one record, split into 255-byte strings, cannot fit in 65,535 bytes.
    let big = "x".repeat(70_000);
    let run = check(&format!("  big: {{ TXT: \"{big}\" }}\n"));
    assert_fails(&run, 1);
    run.expect(7, 10, "error", &["TXT record set of big.t.test.", "65535"]);

    // Many records that together overflow are rejected too: 300 records of 250 bytes.
    let many: Vec<String> = (0..300)
        .map(|i| format!("\"{i:03}{}\"", "m".repeat(247)))
        .collect();
    let run = check(&format!("  many: {{ TXT: [{}] }}\n", many.join(", ")));
    assert_fails(&run, 1);
    run.expect(7, 11, "error", &["TXT record set of many.t.test.", "65535"]);

    // 60 KB in one name still loads.
    let medium = "y".repeat(60_000);
    let run = check(&format!("  ok: {{ TXT: \"{medium}\" }}\n"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    // A wildcard answers names up to 255 bytes long, so its set is measured with the longest
    // question: 65,100 bytes of text fit under a short owner but not beside a 255-byte name.
    let edge = "z".repeat(65_100);
    let run = check(&format!("  edge: {{ TXT: \"{edge}\" }}\n"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run = check(&format!("  \"*.w\": {{ TXT: \"{edge}\" }}\n"));
    assert_fails(&run, 1);
    run.expect(
        7,
        12,
        "error",
        &["TXT record set of *.w.t.test.", "query name of 255 bytes"],
    );
}

#[test]
fn invalid_utf8_is_reported_with_line_and_column() {
    let mut zone = format!("{HEAD}  www: {{ TXT: \"caf").into_bytes();
    zone.extend_from_slice(b"\xe9\" }\n");
    let run = check_files(&[("dynadns.yaml", CONFIG.as_bytes()), (ZONE_FILE, &zone)]);
    assert_fails(&run, 1);
    run.expect(7, 19, "error", &["not valid UTF-8", "0xe9"]);

    let config = b"listen:\n  dns: [\"127.0.0.1:5353\"]\n# \xff\nzones: zones/\n";
    let run = check_files(&[("dynadns.yaml", config), (ZONE_FILE, HEAD.as_bytes())]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("dynadns.yaml:3:3: error: configuration is not valid UTF-8"),
        "{}",
        run.stderr
    );
}

#[test]
fn rfc2181_s8_ttl_out_of_range_names_the_range() {
    let run = check(
        "  a: { ttl: 4294967296, A: 192.0.2.1 }\n  b: { A: { ttl: 2147483648, data: 192.0.2.2 } }\n  c: { ttl: 1h30m, A: 192.0.2.3 }\n  d: { ttl: soon, A: 192.0.2.4 }\n",
    );
    assert_fails(&run, 3);
    run.expect(
        7,
        13,
        "error",
        &["'4294967296' is out of range (0..=2147483647)"],
    );
    run.expect(
        8,
        18,
        "error",
        &["'2147483648' is out of range (0..=2147483647)"],
    );
    run.expect(10, 13, "error", &["'soon' is not a number"]);

    let zone = "zone: t.test\nsoa: { primary: ns1, contact: hostmaster, serial: 4294967296 }\nrecords:\n  \"@\": { NS: ns1 }\n  ns1: { A: 192.0.2.1 }\n";
    let run = check_files(&[
        ("dynadns.yaml", CONFIG.as_bytes()),
        (ZONE_FILE, zone.as_bytes()),
    ]);
    assert_fails(&run, 1);
    run.expect(
        2,
        51,
        "error",
        &["serial '4294967296' is out of range (0..=4294967295)"],
    );
}

/// Loading is linear: a 200,000-name zone loads well within a minute even in a debug build
/// (it took minutes when the YAML duplicate-key check scanned every earlier key).
#[test]
fn a_200000_name_zone_loads_in_linear_time() {
    const NAMES: usize = 200_000;
    let mut zone = String::with_capacity(NAMES * 48);
    zone.push_str(HEAD);
    for i in 0..NAMES {
        let (a, b) = (i / 250 % 250, i % 250);
        zone.push_str(&format!(
            "  h{i}.d{}: {{ A: 10.{}.{a}.{b} }}\n",
            i % 100,
            i / 62_500
        ));
    }
    zone.push_str("  sub: { NS: ns.sub }\n  ns.sub: { A: 192.0.2.99 }\n");
    let start = Instant::now();
    let run = check_files(&[
        ("dynadns.yaml", CONFIG.as_bytes()),
        (ZONE_FILE, zone.as_bytes()),
    ]);
    let took = start.elapsed();
    println!("check of a {NAMES}-name zone took {took:?}");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(took.as_secs() < 60, "check took {took:?} for {NAMES} names");
}
