//! The `dynadns` command line as an operator uses it: `check` (diagnostics with positions),
//! `serve` refusing a bad configuration, `import-zone` (round trip through a served zone,
//! compared with hickory-proto's own master-file parser), and `--version`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{QueryBuilder, TempDir, TestServer};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::txt::Parser;

fn dynadns() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dynadns"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ------------------------------------------------------------------------------------------
// check / serve on a broken configuration
// ------------------------------------------------------------------------------------------

const CONFIG: &str = "listen:\n  dns: [\"127.0.0.1:5353\"]\nzones: zones/\n";

/// One zone with five mistakes; the line and column of each are noted.
const BAD_ZONE: &str = r#"zone: bad.test
ttl: 3600
soa: { primary: ns1, contact: hostmaster, serial: 1 }
owner: someone
records:
  "@": { NS: [ns1, ns2] }
  ns1: { A: 192.0.2.1 }
  www: { A: 192.0.2.300 }
  ftp: { CNAME: www, TXT: "some text" }
  host.other.example.: { A: 192.0.2.5 }
"#;

const DUP_ZONE: &str = r#"zone: dup.test
soa: { primary: ns1, contact: hostmaster, serial: 1 }
records:
  "@": { NS: [ns1] }
  ns1: { A: 192.0.2.1 }
"#;

fn bad_config_dir() -> TempDir {
    TempDir::with(&[
        ("dynadns.yaml", CONFIG),
        ("zones/bad.test.yaml", BAD_ZONE),
        ("zones/dup-1.yaml", DUP_ZONE),
        ("zones/dup-2.yaml", DUP_ZONE),
    ])
}

/// The `FILE:LINE:COL: error: ...` lines of `stderr`.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(": error: ")).collect()
}

fn find_error<'a>(errors: &[&'a str], prefix: &str, words: &[&str]) -> &'a str {
    errors
        .iter()
        .find(|l| l.starts_with(prefix) && words.iter().all(|w| l.contains(w)))
        .unwrap_or_else(|| {
            panic!(
                "no error starting with {prefix:?} mentioning {words:?} in:\n{}",
                errors.join("\n")
            )
        })
}

/// `check` exits 1 and names every mistake with its exact `file:line:col`, each with a hint.
#[test]
fn check_reports_every_problem_with_position() {
    let dir = bad_config_dir();
    let out = dynadns()
        .args(["check", "-c", "dynadns.yaml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "check must exit 1; stderr:\n{stderr}"
    );
    let errors = error_lines(&stderr);
    let zone = "zones/bad.test.yaml:";

    let unknown = find_error(&errors, zone, &["owner"]);
    assert!(
        unknown.starts_with("zones/bad.test.yaml:4:1: error: "),
        "{unknown}"
    );
    let address = find_error(&errors, zone, &["192.0.2.300"]);
    assert!(
        address.starts_with("zones/bad.test.yaml:8:13: error: "),
        "{address}"
    );
    let cname = find_error(&errors, zone, &["CNAME", "TXT"]);
    assert!(
        cname.starts_with("zones/bad.test.yaml:9:10: error: "),
        "{cname}"
    );
    let outside = find_error(&errors, zone, &["host.other.example", "outside"]);
    assert!(
        outside.starts_with("zones/bad.test.yaml:10:3: error: "),
        "{outside}"
    );
    let glue = find_error(&errors, zone, &["ns2.bad.test", "glue"]);
    assert!(
        glue.starts_with("zones/bad.test.yaml:6:10: error: "),
        "{glue}"
    );
    let dup = find_error(
        &errors,
        "zones/dup-2.yaml:1:1: error: ",
        &["dup.test", "dup-1.yaml"],
    );
    assert!(!dup.is_empty());
    assert_eq!(
        errors.len(),
        6,
        "exactly the six problems expected:\n{stderr}"
    );
    let hints = stderr.lines().filter(|l| l.starts_with("  hint: ")).count();
    assert!(hints >= 5, "hints missing:\n{stderr}");
    assert!(
        out.stdout.is_empty(),
        "check printed on stdout: {}",
        text(&out.stdout)
    );
}

/// `serve` with the same configuration refuses to start: it exits non-zero before answering
/// and prints the same diagnostics as `check`.
#[test]
fn serve_refuses_bad_config_with_same_message() {
    let dir = bad_config_dir();
    let check = dynadns()
        .args(["check", "-c", "dynadns.yaml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let check_stderr = text(&check.stderr);

    let addr = {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        tcp.local_addr().unwrap()
    };
    let mut child = dynadns()
        .args(["serve", "-c", "dynadns.yaml", "--listen", &addr.to_string()])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Query while it (briefly) runs: nothing may answer.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let probe = QueryBuilder::new("ns1.dup.test.", RecordType::A)
        .build()
        .to_vec()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 512];
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not exit on a bad configuration"
        );
        let _ = socket.send(&probe);
        if let Ok(n) = socket.recv(&mut buf) {
            let _ = child.kill();
            panic!("serve answered a query ({n} bytes) with a bad configuration");
        }
    }
    let out: Output = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "serve exited successfully; stderr:\n{stderr}"
    );
    let expected = error_lines(&check_stderr);
    assert_eq!(expected.len(), 6, "{check_stderr}");
    for line in expected {
        assert!(
            stderr.contains(line),
            "serve's stderr lacks {line:?}:\n{stderr}"
        );
    }
}

/// The shipped `dynadns.yaml` (with `zones/example.com.yaml`) passes `check`.
#[test]
fn check_accepts_shipped_config() {
    let out = dynadns()
        .args(["check", "-c", "dynadns.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check failed on the shipped configuration:\n{}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ok") && stdout.contains("1 zone"),
        "{stdout}"
    );
}

/// `--version` prints the package version.
#[test]
fn version_flag() {
    let out = dynadns().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("dynadns {}", env!("CARGO_PKG_VERSION"))
    );
}

// ------------------------------------------------------------------------------------------
// import-zone round trip
// ------------------------------------------------------------------------------------------

const MASTER: &str = r#"; round-trip test zone
$ORIGIN rt.test.
$TTL 3600
@   IN SOA ns1 hostmaster (
        2024010101 ; serial
        7200       ; refresh
        900        ; retry
        1209600    ; expire
        300 )      ; minimum
    IN NS ns1
    IN NS ns2.rt.test.
    IN MX 10 mail
    IN MX 20 mx.elsewhere.example.
    IN CAA 0 issue "letsencrypt.org"
    IN TXT "v=spf1 -all"
ns1 IN A 192.0.2.53
ns2 300 IN A 192.0.2.54
ns2 300 IN AAAA 2001:db8::54
mail IN A 192.0.2.25
www  IN A 192.0.2.10
     IN A 192.0.2.11
     IN AAAA 2001:db8::10
txt  IN TXT "first string" "second; string"
_sip._udp IN SRV 10 60 5060 sip
sip  IN A 192.0.2.60
ftp  IN CNAME www
*.apps IN A 192.0.2.7
sub  IN NS ns.sub
     IN NS ns.elsewhere.example.
ns.sub IN A 192.0.2.99
"#;

/// `owner TTL CLASS TYPE RDATA`, case-insensitive where DNS is, TXT strings kept apart.
fn record_key(record: &Record) -> String {
    let rdata = match &record.data {
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|s| format!("{:?}", String::from_utf8_lossy(s)))
            .collect::<Vec<_>>()
            .join(" "),
        RData::NS(_) | RData::CNAME(_) | RData::SOA(_) | RData::MX(_) | RData::SRV(_) => {
            record.data.to_string().to_ascii_lowercase()
        }
        other => other.to_string(),
    };
    format!(
        "{} {} {} {} {rdata}",
        record.name.to_ascii().to_ascii_lowercase(),
        record.ttl,
        record.dns_class,
        record.record_type()
    )
}

fn keys(records: &[Record], rtype: RecordType) -> BTreeSet<String> {
    records
        .iter()
        .filter(|r| r.record_type() == rtype)
        .map(record_key)
        .collect()
}

fn import(path: &Path, origin: &str) -> Output {
    dynadns()
        .arg("import-zone")
        .arg(path)
        .args(["--origin", origin])
        .output()
        .unwrap()
}

/// A master file converted by `import-zone` and served answers every RRset exactly as
/// hickory-proto's master-file parser reads the file: answers for authoritative data, the
/// referral (NS in authority, glue in additional) for the delegation.
#[test]
fn import_zone_round_trip() {
    let dir = TempDir::with(&[("rt.test.zone", MASTER)]);
    let path = dir.join("rt.test.zone");

    let out = import(&path, "rt.test");
    assert!(
        out.status.success(),
        "import-zone failed:\n{}",
        text(&out.stderr)
    );
    let yaml = text(&out.stdout);
    assert!(
        yaml.lines()
            .any(|l| l.trim().replace('"', "") == "zone: rt.test"),
        "{yaml}"
    );

    let (_, rrsets) = Parser::new(
        MASTER,
        Some(path.clone()),
        Some(Name::from_ascii("rt.test.").unwrap()),
    )
    .parse()
    .expect("hickory parses the master file");
    let mut expected: BTreeMap<(Name, RecordType), BTreeSet<String>> = BTreeMap::new();
    for rrset in rrsets.values() {
        for record in rrset.records_without_rrsigs() {
            expected
                .entry((record.name.to_lowercase(), record.record_type()))
                .or_default()
                .insert(record_key(record));
        }
    }
    assert_eq!(
        expected.len(),
        18,
        "RRsets read by hickory: {:#?}",
        expected.keys()
    );

    let server = TestServer::start_master(&path, "rt.test.");
    let cut = Name::from_ascii("sub.rt.test.").unwrap();
    let mut problems = Vec::new();
    for ((name, rtype), want) in &expected {
        // TCP: nothing is truncated.
        let reply = server.tcp(&QueryBuilder::new(&name.to_ascii(), *rtype).build());
        let got = if cut.zone_of(name) {
            if reply.metadata.authoritative {
                problems.push(format!("{name} {rtype}: AA set below the cut"));
            }
            if *rtype == RecordType::NS {
                keys(&reply.authorities, RecordType::NS)
            } else {
                keys(&reply.additionals, *rtype)
            }
        } else {
            if !reply.metadata.authoritative
                || reply.metadata.response_code != ResponseCode::NoError
            {
                problems.push(format!(
                    "{name} {rtype}: not an authoritative NOERROR: {reply:?}"
                ));
            }
            keys(&reply.answers, *rtype)
        };
        if &got != want {
            problems.push(format!(
                "{name} {rtype}:\n  expected {want:#?}\n  served   {got:#?}"
            ));
        }
    }
    // The wildcard also synthesizes.
    let reply: Message = server.udp(&QueryBuilder::new("x.apps.rt.test.", RecordType::A).build());
    let got = keys(&reply.answers, RecordType::A);
    if got != BTreeSet::from(["x.apps.rt.test. 3600 IN A 192.0.2.7".to_string()]) {
        problems.push(format!("wildcard synthesis: {got:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    drop(server);
}

/// A broken master file is reported with its position and nothing is printed on stdout.
#[test]
fn import_zone_reports_errors_with_position() {
    let broken = "$ORIGIN rt.test.\n$TTL 3600\n@ IN SOA ns1 hostmaster 1 2 3 4 5\n  IN NS ns1\nns1 IN A 192.0.2.1\nwww 99999999999 IN A 192.0.2.2\n";
    let dir = TempDir::with(&[("broken.zone", broken)]);
    let path = dir.join("broken.zone");
    let out = import(&path, "rt.test");
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "import-zone accepted a bad file");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(&format!("{}:6:5: ", path.display())),
        "{stderr}"
    );
}

/// Runs `serve` on a small zone with `args` and `RUST_LOG=rust_log` (stderr to a file, as under
/// systemd or a container), waits until it answers over UDP, stops it with SIGTERM, and returns
/// its log.
fn serve_log(args: &[&str], rust_log: Option<&str>) -> String {
    let addr = common::free_loopback_port();
    let dir = TempDir::with(&[
        (
            "dynadns.yaml",
            &format!(
                "listen: {{ dns: [\"{addr}\"] }}\nzones: zones/\nhealth: {{ state_file: \"\" }}\n"
            ),
        ),
        (
            "zones/example.com.yaml",
            "zone: example.com\nsoa: { primary: ns1, contact: hostmaster, serial: 1 }\n\
             records:\n  \"@\": { NS: ns1 }\n  ns1: { A: 192.0.2.53 }\n",
        ),
    ]);
    let log = dir.join("stderr.log");
    let mut cmd = dynadns();
    cmd.args(args)
        .args(["serve", "-c"])
        .arg(dir.join("dynadns.yaml"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    match rust_log {
        Some(v) => cmd.env("RUST_LOG", v),
        None => cmd.env_remove("RUST_LOG"),
    };
    let mut child = cmd.spawn().expect("start dynadns serve");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let query = QueryBuilder::new("example.com.", RecordType::SOA).build();
    let bytes = query.to_vec().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 512];
    loop {
        assert!(Instant::now() < deadline, "no answer from {addr}");
        socket.send_to(&bytes, addr).unwrap();
        if socket.recv_from(&mut buf).is_ok() {
            break;
        }
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "serve stops cleanly on SIGTERM"
    );
    std::fs::read_to_string(&log).unwrap()
}

/// Logs written to a file carry no colour codes, one event per line; `RUST_LOG` filters them.
#[test]
fn serve_logs_plain_text_without_colour_and_honours_rust_log() {
    let log = serve_log(&[], None);
    assert!(!log.contains('\u{1b}'), "ANSI escape in a log file:\n{log}");
    assert!(
        log.lines()
            .any(|l| l.contains(" INFO ") && l.contains("ready:")),
        "{log}"
    );
    assert!(log.lines().any(|l| l.contains("stopped")), "{log}");

    let quiet = serve_log(&[], Some("warn"));
    assert!(
        !quiet.contains("ready:"),
        "RUST_LOG=warn still logged info lines:\n{quiet}"
    );
}

/// `--log-format json`: every line is one JSON object with a level and a message.
#[test]
fn serve_logs_json_lines() {
    let log = serve_log(&["--log-format", "json"], None);
    let mut ready = false;
    for line in log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(v["level"].is_string(), "{line}");
        let message = v["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message: {line}"));
        ready |= message.starts_with("ready:");
    }
    assert!(ready, "no ready line:\n{log}");
}
