//! Files that are not regular files, or are too large, are configuration errors naming the
//! file, never a hang or an endless read: a FIFO in `zones/`, zone and members files linked to
//! `/dev/zero`, a file over `server.max_file_size`, through `dynadns check` and on reload
//! (which keeps serving the old answers).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{QueryBuilder, TempDir, TestServer, wait_for};
use hickory_proto::op::Message;
use hickory_proto::rr::{RData, RecordType};

const ZONE: &str = r#"zone: example.com
ttl: 60
soa: { primary: ns1, contact: hostmaster, serial: 1 }
records:
  "@": { NS: [ns1] }
  ns1: { A: 192.0.2.1 }
  www: { A: 192.0.2.100 }
"#;

const CONFIG: &str = "zones: zones/\n";

/// Runs `dynadns check` in `dir`, killing it after 5 s: returns (exited in time, stderr).
fn check_within_5s(dir: &Path) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dynadns"))
        .args(["check", "-c", "dynadns.yaml"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dynadns check");
    let start = Instant::now();
    let exited = loop {
        if child.try_wait().expect("wait for dynadns check").is_some() {
            break true;
        }
        if start.elapsed() > Duration::from_secs(5) {
            child.kill().expect("kill dynadns check");
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("collect dynadns check");
    (exited, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {} failed", path.display());
}

fn a_answers(m: &Message) -> Vec<String> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.to_string()),
            _ => None,
        })
        .collect()
}

/// A FIFO named like a zone file: `check` returns at once with an error naming it.
#[test]
fn a_fifo_in_zones_is_an_error_not_a_hang() {
    let dir = TempDir::with(&[("dynadns.yaml", CONFIG), ("zones/example.com.yaml", ZONE)]);
    mkfifo(&dir.join("zones/x.yaml"));
    let (exited, stderr) = check_within_5s(dir.path());
    assert!(exited, "check hung on a FIFO in zones/:\n{stderr}");
    assert!(
        stderr.contains("zones/x.yaml: error: zone file: not a regular file (a FIFO)"),
        "{stderr}"
    );
}

/// A zone file that is a symlink to `/dev/zero` is refused before a byte is read.
#[test]
fn a_zone_file_linked_to_dev_zero_is_an_error() {
    let dir = TempDir::with(&[("dynadns.yaml", CONFIG), ("zones/example.com.yaml", ZONE)]);
    std::os::unix::fs::symlink("/dev/zero", dir.join("zones/zero.yaml")).unwrap();
    let (exited, stderr) = check_within_5s(dir.path());
    assert!(exited, "check did not return:\n{stderr}");
    assert!(
        stderr
            .contains("zones/zero.yaml: error: zone file: not a regular file (a character device)"),
        "{stderr}"
    );
}

/// A members file linked to `/dev/zero`: an error at the line of dynadns.yaml naming it.
#[test]
fn a_members_file_linked_to_dev_zero_is_an_error_at_the_config_line() {
    let config = "\
zones: zones/
datacenters: { msk: {} }
resources:
  www:
    pools:
      msk: { members_file: pools/msk.txt }
";
    let dir = TempDir::with(&[("dynadns.yaml", config), ("zones/example.com.yaml", ZONE)]);
    std::fs::create_dir_all(dir.join("pools")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("pools/msk.txt")).unwrap();
    let (exited, stderr) = check_within_5s(dir.path());
    assert!(exited, "check did not return:\n{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("pools/msk.txt") && l.contains("not a regular file"))
        .unwrap_or_else(|| panic!("no error names the members file:\n{stderr}"));
    assert!(
        line.starts_with("dynadns.yaml:6:"),
        "not at the config line: {line}"
    );
    assert!(line.contains("(a character device)"), "{line}");
}

/// A file over a small configured limit names its size and the limit; a bad limit is an
/// error at its key.
#[test]
fn a_file_over_max_file_size_names_the_limit() {
    let dir = TempDir::with(&[
        (
            "dynadns.yaml",
            "zones: zones/\nserver:\n  max_file_size: 1K\n",
        ),
        ("zones/example.com.yaml", ZONE),
        (
            "zones/big.test.yaml",
            &format!("{ZONE}# {}\n", "x".repeat(2000)),
        ),
    ]);
    let (exited, stderr) = check_within_5s(dir.path());
    assert!(exited, "check did not return:\n{stderr}");
    assert!(
        stderr.contains(
            "zones/big.test.yaml: error: zone file: 2.1 KiB is larger than \
             server.max_file_size (1 KiB); raise it if this file is meant to be this big"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("example.com.yaml"), "{stderr}");

    std::fs::write(
        dir.join("dynadns.yaml"),
        "zones: zones/\nserver:\n  max_file_size: lots\n",
    )
    .unwrap();
    let (_, stderr) = check_within_5s(dir.path());
    assert!(
        stderr.contains("dynadns.yaml:3:18: error: max_file_size 'lots' is not a size"),
        "{stderr}"
    );
}

/// On reload, a FIFO and an oversized file are reported and the old answers stay.
#[test]
fn a_bad_file_on_reload_keeps_the_old_answers() {
    let mut server = TestServer::start_with(&[
        (
            "dynadns.yaml",
            "zones: zones/\nserver:\n  max_file_size: 1K\n",
        ),
        ("zones/example.com.yaml", ZONE),
    ]);
    let query = QueryBuilder::new("www.example.com.", RecordType::A).build();
    assert_eq!(a_answers(&server.udp(&query)), ["192.0.2.100"]);

    mkfifo(&server.dir().join("zones/x.yaml"));
    std::fs::write(
        server.dir().join("zones/example.com.yaml"),
        format!(
            "{}# {}\n",
            ZONE.replace("192.0.2.100", "192.0.2.200"),
            "x".repeat(2000)
        ),
    )
    .unwrap();
    server.reload();
    wait_for(
        "the failed reload in the log",
        Duration::from_secs(10),
        || server.stderr_text().contains("reload failed").then_some(()),
    )
    .unwrap();
    let log = server.stderr_text();
    assert!(log.contains("not a regular file (a FIFO)"), "{log}");
    assert!(
        log.contains("is larger than server.max_file_size (1 KiB)"),
        "{log}"
    );
    assert!(server.is_running(), "server exited after a bad reload");
    assert_eq!(a_answers(&server.udp(&query)), ["192.0.2.100"]);
    assert_eq!(a_answers(&server.tcp(&query)), ["192.0.2.100"]);
}
