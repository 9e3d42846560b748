//! Admin API safety and the descriptor budget, as an operator or an attacker meets them: an
//! admin API exposed without a token is refused by `check`, `serve` and reload; requests for
//! another Host are refused (DNS rebinding); unknown JSON fields are refused by name; a
//! half-open request is closed after the header timeout; connections over the admin cap are
//! closed at once and the API still answers once they are gone; `/status` shows the budget.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TempDir, free_loopback_port, http, metric, run_dynadns, wait_for};
use serde_json::Value;

const TOKEN: &str = "0123456789abcdef0123";

/// A server file: DNS on `dns`, admin on `admin`, `extra` top-level lines, one `always_up`
/// resource `www` (127.0.0.1, 127.0.0.2) so member overrides have something to name.
fn config(dns: SocketAddr, admin: &str, extra: &str) -> String {
    format!(
        "listen:\n  dns: [\"{dns}\"]\n  admin: \"{admin}\"\nzones: zones/\n{extra}\
         health:\n  state_file: \"\"\n\
         datacenters: {{ msk: {{}} }}\n\
         checks:\n  c: {{ type: always_up }}\n\
         resources:\n  www:\n    check: c\n    pools:\n      msk: [127.0.0.1, 127.0.0.2]\n"
    )
}

fn dir_with(config_text: &str) -> TempDir {
    TempDir::with(&[
        ("dynadns.yaml", config_text),
        ("zones/example.com.yaml", common::WWW_ZONE),
    ])
}

/// A running `dynadns serve`; killed on drop (its log printed while panicking).
struct Server {
    child: Child,
    admin: SocketAddr,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "server log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

impl Server {
    /// Starts a server whose file is `make(dns, admin)`; returns once `/status` answers.
    fn start(dir: &TempDir, make: &dyn Fn(SocketAddr, SocketAddr) -> String) -> Server {
        let mut failures = String::new();
        for attempt in 1..=3 {
            let (dns, admin) = (free_loopback_port(), free_loopback_port());
            std::fs::write(dir.join("dynadns.yaml"), make(dns, admin)).unwrap();
            let log = dir.join(&format!("stderr-{attempt}.log"));
            let child = Command::new(env!("CARGO_BIN_EXE_dynadns"))
                .arg("serve")
                .arg("-c")
                .arg(dir.join("dynadns.yaml"))
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("spawn dynadns serve");
            let mut server = Server { child, admin, log };
            let ready = wait_for("admin /status", Duration::from_secs(15), || {
                if !matches!(server.child.try_wait(), Ok(None)) {
                    return Some(false);
                }
                TcpStream::connect_timeout(&admin, Duration::from_millis(200))
                    .ok()
                    .map(|_| true)
            });
            if ready == Ok(true) {
                return server;
            }
            failures.push_str(&format!(
                "attempt {attempt}:\n{}\n",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            ));
            drop(server);
        }
        panic!("dynadns did not start:\n{failures}");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn status(&self) -> Value {
        let (code, body) = http(self.admin, "GET", "/status", None, None);
        assert_eq!(code, 200, "GET /status: {body}");
        serde_json::from_str(&body).expect("status JSON")
    }
}

/// One request with a chosen Host header; the status code and body.
fn request_with_host(addr: SocketAddr, host: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /status HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    let code = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {raw:?}"));
    (code, raw)
}

/// Reads until the server closes the connection; how long that took (None: still open after
/// `limit`).
fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None;
            }
            Err(_) => return Some(start.elapsed()),
        }
    }
}

fn check(dir: &Path) -> (bool, String) {
    let out = run_dynadns(dir, &["check", "-c", "dynadns.yaml"]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn exposed_admin_needs_a_token_or_insecure() {
    let dns: SocketAddr = "127.0.0.1:5353".parse().unwrap();
    let dir = dir_with(&config(dns, "0.0.0.0:18053", ""));
    let (ok, text) = check(dir.path());
    assert!(
        !ok,
        "check accepted an exposed admin API without a token:\n{text}"
    );
    // At listen.admin (line 3, the value), with what to do.
    assert!(text.contains("dynadns.yaml:3:"), "{text}");
    assert!(text.contains("admin.token is not set"), "{text}");
    assert!(text.contains("admin.insecure: true"), "{text}");

    // `serve` refuses on the same error, before binding anything.
    let out = run_dynadns(dir.path(), &["serve", "-c", "dynadns.yaml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("admin.token is not set"));

    // A token, or an explicit insecure, is accepted.
    std::fs::write(
        dir.join("dynadns.yaml"),
        config(
            dns,
            "0.0.0.0:18053",
            &format!("admin: {{ token: \"{TOKEN}\" }}\n"),
        ),
    )
    .unwrap();
    let (ok, text) = check(dir.path());
    assert!(ok, "{text}");
    std::fs::write(
        dir.join("dynadns.yaml"),
        config(dns, "[::]:18053", "admin: { insecure: true }\n"),
    )
    .unwrap();
    let (ok, text) = check(dir.path());
    assert!(ok, "{text}");

    // --admin on a non-loopback address with a loopback file is refused too.
    std::fs::write(dir.join("dynadns.yaml"), config(dns, "127.0.0.1:18053", "")).unwrap();
    let out = run_dynadns(
        dir.path(),
        &["serve", "-c", "dynadns.yaml", "--admin", "0.0.0.0:18053"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--admin 0.0.0.0:18053"), "{err}");
}

#[test]
fn host_header_unknown_fields_and_reload_refusal() {
    let dir = dir_with("");
    let server = Server::start(&dir, &|dns, admin| {
        config(
            dns,
            &admin.to_string(),
            "admin:\n  hosts: [dns-admin.example.net]\n",
        )
    });
    let port = server.admin.port();

    // The listen address, localhost and admin.hosts are this API; anything else is not.
    assert_eq!(
        request_with_host(server.admin, &server.admin.to_string()).0,
        200
    );
    assert_eq!(
        request_with_host(server.admin, &format!("localhost:{port}")).0,
        200
    );
    assert_eq!(
        request_with_host(server.admin, "dns-admin.example.net").0,
        200
    );
    assert_eq!(
        request_with_host(server.admin, &format!("DNS-admin.example.net:{port}")).0,
        200
    );
    let (code, raw) = request_with_host(server.admin, &format!("rebind.attacker.example:{port}"));
    assert_eq!(code, 421, "{raw}");
    assert!(raw.contains("admin.hosts"), "{raw}");
    let (code, _) = request_with_host(server.admin, &format!("127.0.0.9:{port}"));
    assert_eq!(
        code, 421,
        "another loopback address is not the listen address"
    );

    // Unknown JSON fields are refused by name, and nothing is forced.
    let (code, body) = http(
        server.admin,
        "PUT",
        "/api/v1/overrides/member/127.0.0.1",
        Some(r#"{"state":"down","reason":"maintenance"}"#),
        None,
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("unknown field `reason`"), "{body}");
    assert!(
        server.status()["overrides"]["members"]
            .as_object()
            .is_none_or(|m| m.is_empty())
    );
    let (code, body) = http(
        server.admin,
        "PUT",
        "/api/v1/overrides/member/127.0.0.1",
        Some(r#"{"state":"down"}"#),
        None,
    );
    assert_eq!(code, 200, "{body}");

    // A reload that would expose the API without a token is refused; the old one serves.
    let dns: SocketAddr = "127.0.0.1:5353".parse().unwrap();
    std::fs::write(dir.join("dynadns.yaml"), config(dns, "0.0.0.0:18053", "")).unwrap();
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let report = wait_for("the reload report", Duration::from_secs(10), || {
        let s = server.status();
        s["reload"].is_object().then(|| s["reload"].clone())
    })
    .unwrap();
    assert_eq!(report["outcome"], "failed", "{report}");
    assert!(
        report["errors"]
            .to_string()
            .contains("admin.token is not set"),
        "{report}"
    );
}

#[test]
fn half_open_requests_time_out_and_the_cap_closes_the_rest() {
    let dir = dir_with("");
    let server = Server::start(&dir, &|dns, admin| {
        config(
            dns,
            &admin.to_string(),
            "admin:\n  max_connections: 4\nlimits:\n  tcp_max_connections: 100\n",
        )
    });

    // The budget in force, with the configured caps (they fit any usual limit).
    let limits = server.status()["limits"].clone();
    assert_eq!(limits["admin_max"], 4, "{limits}");
    assert_eq!(limits["tcp_max"], 100, "{limits}");
    assert!(limits["nofile"].as_u64().unwrap() > limits["reserve"].as_u64().unwrap());
    let (_, text) = http(server.admin, "GET", "/metrics", None, None);
    assert_eq!(
        metric(&text, "dynadns_max_connections{listener=\"admin\"}"),
        Some(4.0)
    );
    assert_eq!(
        metric(&text, "dynadns_probes_not_run_total{reason=\"emfile\"}"),
        Some(0.0)
    );

    // Four half-open requests take every slot.
    let t0 = Instant::now();
    let mut held: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = TcpStream::connect(server.admin).unwrap();
            s.write_all(b"GET /status HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    // Let the server accept them all before the fifth arrives.
    wait_for(
        "four admin connections open",
        Duration::from_secs(5),
        || {
            let s = TcpStream::connect(server.admin).ok()?;
            drop(s);
            server
                .log_text()
                .contains("admin connection cap reached (4 open)")
                .then_some(())
        },
    )
    .unwrap();
    // Over the cap: closed at once, no answer.
    let mut extra = TcpStream::connect(server.admin).unwrap();
    let _ = extra.write_all(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
    let closed = closed_within(&mut extra, Duration::from_secs(2));
    assert!(closed.is_some(), "a connection over the cap was kept open");

    // The held ones are closed by the header timeout (5 s), not later.
    for s in &mut held {
        let left = Duration::from_secs(9).saturating_sub(t0.elapsed());
        assert!(
            closed_within(s, left).is_some(),
            "a half-open request was still open after {:?}",
            t0.elapsed()
        );
    }
    let took = t0.elapsed();
    assert!(took >= Duration::from_secs(4), "closed too early: {took:?}");

    // A legitimate client gets in again.
    let (code, _) = http(server.admin, "GET", "/status", None, None);
    assert_eq!(code, 200);
    // This request itself is open; the ones before it are gone (or going).
    let open = server.status()["limits"]["admin_open"].as_u64().unwrap();
    assert!((1..=2).contains(&open), "{open} admin connections open");
}
