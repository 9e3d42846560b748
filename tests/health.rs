//! Health monitoring end to end: the real `dynadns serve` process probes real TCP and HTTP
//! listeners on loopback, and a DNS client sees members leave and come back.
//!
//! Covered: the k-of-n windows with hysteresis (detection and recovery timing, degraded TTL,
//! one log line per change), HTTP checks (status and body, `/status`, `/metrics`), the first
//! probe round deciding before the first answer, the state file across restarts (and a broken
//! one), reload keeping states and dropping removed targets, one probe per target, forced
//! states through the admin API (token, reload, restart), `members: all`, `dynadns explain`
//! with a state file, targets that reset connections or stream forever, and what a reload
//! applies (changed checks, intervals, new targets, the admin token, the state file) and what
//! it reports as needing a restart.
//!
//! Every listener and probe target is on 127.0.0.0/8. Waits poll for a condition with a
//! deadline; the few "not before" checks use the earliest moment the server could possibly
//! change (probe interval 200 ms, jitter at most 10% early), so a slow machine cannot make them
//! fail, only the generous "within" deadlines.

mod common;

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{QueryBuilder, free_loopback_port, http, metric, wait_for};
use hickory_proto::op::Message;
use hickory_proto::rr::{RData, RecordType};
use serde_json::Value;

// ------------------------------------------------------------------------------------------
// Addresses, configuration and zone
// ------------------------------------------------------------------------------------------

const MSK: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const SPB: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const THIRD: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

const TOKEN: &str = "0123456789abcdef0123";

/// The TCP check every test uses unless it needs HTTP: 200 ms interval, 150 ms timeout,
/// DOWN after 3 of the last 5 failed, UP after 4 of the last 4 succeeded.
fn tcp_check(port: u16) -> String {
    format!(
        "  c: {{ type: tcp, port: {port}, interval: 200ms, timeout: 150ms, down: 3/5, up: 4/4 }}\n"
    )
}

/// A server file: `checks:` lines, `resources:` lines and extra top-level sections.
fn config(checks: &str, resources: &str, extra: &str) -> String {
    format!(
        "listen:\n  dns: [\"127.0.0.1:5353\"]\nzones: zones/\n{extra}datacenters: {{ msk: {{}}, spb: {{}}, eu: {{}} }}\nchecks:\n{checks}resources:\n{resources}"
    )
}

/// `www`: msk first (127.0.0.1), spb second (127.0.0.2), TTL 30, check `c`.
const FAILOVER: &str = "  www:
    ttl: 30
    check: c
    pools:
      msk: [127.0.0.1]
      spb: [127.0.0.2]
    route: { order: [msk, spb] }
";

/// The zone: `www` is the resource `www`.
const ZONE: &str = common::WWW_ZONE;

fn ip(a: Ipv4Addr) -> IpAddr {
    IpAddr::V4(a)
}

fn set(list: &[Ipv4Addr]) -> BTreeSet<IpAddr> {
    list.iter().map(|a| ip(*a)).collect()
}

// ------------------------------------------------------------------------------------------
// Temp dir, server process
// ------------------------------------------------------------------------------------------

/// A fresh directory with `dynadns.yaml` and the zone; removed on drop unless panicking.
struct TestDir(common::TempDir);

impl TestDir {
    fn new(config_text: &str) -> TestDir {
        // A DYNA record for every resource of the file (`www` always, `www2` and `api` when
        // the test defines them).
        let mut zone = ZONE.to_string();
        for extra in ["www2", "api"] {
            if config_text.contains(&format!("\n  {extra}:\n")) {
                zone.push_str(&format!("  {extra}: {{ DYNA: {extra} }}\n"));
            }
        }
        let d = TestDir(common::TempDir::with(&[("zones/example.com.yaml", &zone)]));
        d.write_config(config_text);
        d
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn config_path(&self) -> PathBuf {
        self.0.join("dynadns.yaml")
    }

    fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).expect("write config");
    }

    fn state_file(&self) -> PathBuf {
        self.0.join("dynadns.state.json")
    }
}

/// A running `dynadns serve` on a free DNS port and a free admin port. Dropping it kills the
/// process (while panicking, its log is printed first).
struct Server {
    child: Child,
    dns: SocketAddr,
    admin: SocketAddr,
    log: PathBuf,
}

/// Whether a UDP query for `example.com. SOA` sent to `addr` is answered within `wait`.
fn soa_answered(addr: SocketAddr, wait: Duration) -> bool {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
    socket.connect(addr).expect("connect UDP");
    socket.set_read_timeout(Some(wait)).expect("set timeout");
    let q = QueryBuilder::new("example.com.", RecordType::SOA)
        .build()
        .to_vec()
        .expect("encode");
    let mut buf = [0u8; 4096];
    socket.send(&q).is_ok() && socket.recv(&mut buf).is_ok()
}

impl Server {
    /// Starts a server on `dir`'s config; `run` names its log (`stderr-RUN.log`). Returns when
    /// it answers a SOA query (it has finished its first probe round by then). The addresses
    /// are given with `--listen` and `--admin`.
    fn start(dir: &TestDir, run: &str) -> Server {
        Server::launch(dir, run, None)
    }

    /// Like [`Server::start`], but the addresses come from the file: `config_for(dns, admin)`
    /// is written as the configuration before each attempt.
    fn start_from_file(
        dir: &TestDir,
        run: &str,
        config_for: &dyn Fn(SocketAddr, SocketAddr) -> String,
    ) -> Server {
        Server::launch(dir, run, Some(config_for))
    }

    fn launch(
        dir: &TestDir,
        run: &str,
        config_for: Option<&dyn Fn(SocketAddr, SocketAddr) -> String>,
    ) -> Server {
        let log = dir.path().join(format!("stderr-{run}.log"));
        let mut failures = String::new();
        for attempt in 1..=3 {
            let dns = free_loopback_port();
            let admin = free_loopback_port();
            let stderr = std::fs::File::create(&log).expect("create log");
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_dynadns"));
            cmd.arg("serve").arg("-c").arg(dir.config_path());
            match config_for {
                Some(f) => dir.write_config(&f(dns, admin)),
                None => {
                    cmd.arg("--listen")
                        .arg(dns.to_string())
                        .arg("--admin")
                        .arg(admin.to_string());
                }
            }
            let child = cmd
                .env("NO_COLOR", "1")
                .current_dir("/")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("spawn dynadns serve");
            let mut server = Server {
                child,
                dns,
                admin,
                log: log.clone(),
            };
            if server.wait_ready() {
                return server;
            }
            failures.push_str(&format!(
                "attempt {attempt}: dns {dns} admin {admin}:\n{}\n",
                server.log_text()
            ));
            drop(server);
        }
        panic!("dynadns did not start:\n{failures}");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if !self.is_running() {
                return false;
            }
            if soa_answered(self.dns, Duration::from_millis(20)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {sig} {} failed", self.child.id());
    }

    /// SIGHUP, then waits until the log shows the `n`-th "reloaded:" line.
    fn reload(&self, n: usize) {
        self.signal("-HUP");
        wait_for(
            &format!("reload #{n} logged"),
            Duration::from_secs(5),
            || (self.log_text().matches("reloaded:").count() >= n).then_some(()),
        )
        .unwrap_or_else(|e| panic!("{e}\n{}", self.log_text()));
    }

    /// SIGTERM and waits for the exit (the server saves its state file on the way out).
    fn stop(mut self) -> String {
        self.signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(
                    status.success(),
                    "exit status {status}:\n{}",
                    self.log_text()
                );
                return self.log_text();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("server did not stop on SIGTERM:\n{}", self.log_text());
    }

    /// One UDP query for `name` A; the reply, or an error after two tries.
    fn query(&self, name: &str) -> Result<Message, String> {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        socket.connect(self.dns).map_err(|e| e.to_string())?;
        let query = QueryBuilder::new(name, RecordType::A).build();
        let bytes = query.to_vec().map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 65536];
        for _ in 0..2 {
            socket.send(&bytes).map_err(|e| e.to_string())?;
            socket
                .set_read_timeout(Some(Duration::from_secs(2)))
                .map_err(|e| e.to_string())?;
            match socket.recv(&mut buf) {
                Ok(n) if n >= 2 && buf[..2] == bytes[..2] => {
                    return Message::from_vec(&buf[..n]).map_err(|e| e.to_string());
                }
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    continue;
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(format!("no answer from {} for {name}", self.dns))
    }

    /// Addresses and TTLs of the A answer for `name`.
    fn answer(&self, name: &str) -> (BTreeSet<IpAddr>, BTreeSet<u32>) {
        let m = self
            .query(name)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.log_text()));
        let mut addrs = BTreeSet::new();
        let mut ttls = BTreeSet::new();
        for r in &m.answers {
            if let RData::A(a) = &r.data {
                addrs.insert(IpAddr::V4(a.0));
                ttls.insert(r.ttl);
            }
        }
        (addrs, ttls)
    }

    fn www(&self) -> BTreeSet<IpAddr> {
        self.answer("www.example.com.").0
    }

    /// Polls `name` until its address set is `want`; returns the TTLs of that answer.
    fn wait_answer(&self, name: &str, want: &BTreeSet<IpAddr>, within: Duration) -> BTreeSet<u32> {
        let mut last = BTreeSet::new();
        let r = wait_for(&format!("{name} -> {want:?}"), within, || {
            let (addrs, ttls) = self.answer(name);
            if addrs == *want {
                Some(ttls)
            } else {
                last = addrs;
                None
            }
        });
        r.unwrap_or_else(|e| {
            panic!(
                "{e}; last answer {last:?}\nstatus: {}\nlog:\n{}",
                self.status(),
                self.log_text()
            )
        })
    }

    /// Asserts that every answer received before `until` is `want`.
    fn assert_stays(&self, want: &BTreeSet<IpAddr>, until: Instant, what: &str) {
        let mut n = 0;
        loop {
            let (addrs, _) = self.answer("www.example.com.");
            let received = Instant::now();
            if received >= until {
                break;
            }
            n += 1;
            assert_eq!(
                addrs,
                *want,
                "{what} (answer #{n}, {:?} before the limit)\nlog:\n{}",
                until - received,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(n > 0, "{what}: no answer checked in time");
    }

    fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> (u16, String) {
        http(self.admin, method, path, body, token)
    }

    fn status(&self) -> Value {
        let (code, body) = self.admin("GET", "/status", None, None);
        assert_eq!(code, 200, "GET /status: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("/status is not JSON ({e}): {body}"))
    }

    fn metrics(&self) -> String {
        let (code, body) = self.admin("GET", "/metrics", None, None);
        assert_eq!(code, 200, "GET /metrics: {body}");
        body
    }

    /// The `/status` entry of the target probed at `addr`.
    fn target(&self, addr: Ipv4Addr) -> Value {
        let status = self.status();
        let found: Vec<&Value> = status["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .filter(|t| t["address"] == addr.to_string())
            .collect();
        assert_eq!(found.len(), 1, "targets for {addr}: {status:#}");
        found[0].clone()
    }

    /// Waits until `/status` says the target at `addr` is up (or down).
    fn wait_target(&self, addr: Ipv4Addr, up: bool, within: Duration) {
        wait_for(&format!("target {addr} up={up}"), within, || {
            (self.target(addr)["up"] == up).then_some(())
        })
        .unwrap_or_else(|e| {
            panic!(
                "{e}\nstatus: {:#}\nlog:\n{}",
                self.status(),
                self.log_text()
            )
        });
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- server log {} ---\n{}",
                self.log.display(),
                self.log_text()
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// Probe targets: TCP and HTTP listeners on loopback
// ------------------------------------------------------------------------------------------

/// HTTP behaviours, switchable while the backend runs.
const HTTP_OK: u8 = 0;
const HTTP_500: u8 = 1;
const HTTP_WRONG_BODY: u8 = 2;
const HTTP_ENDLESS: u8 = 3;
/// 200 "all OK here" for `GET /healthz`, 404 for any other path.
const HTTP_HEALTHZ_ONLY: u8 = 4;

#[derive(Clone)]
enum Behaviour {
    /// Accept and close at once: a healthy TCP target whose probes can be counted.
    Close,
    /// Accept and close with RST (SO_LINGER 0), before reading anything.
    Reset,
    /// Serve HTTP according to the mode (one of the `HTTP_*` constants).
    Http(Arc<AtomicU8>),
}

/// A listener in a thread. Dropping it (or [`Backend::kill`]) closes the listening socket,
/// so connections are refused from then on.
struct Backend {
    stop: Arc<AtomicBool>,
    accepts: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Backend {
    /// Serves an already bound listener.
    fn serve(listener: TcpListener, behaviour: Behaviour) -> Backend {
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let accepts = Arc::new(AtomicUsize::new(0));
        let (stop2, accepts2) = (stop.clone(), accepts.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((s, _)) => {
                        accepts2.fetch_add(1, Ordering::SeqCst);
                        let _ = s.set_nonblocking(false);
                        match &behaviour {
                            Behaviour::Close => drop(s),
                            Behaviour::Reset => {
                                let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
                                drop(s);
                            }
                            Behaviour::Http(mode) => {
                                let mode = mode.load(Ordering::SeqCst);
                                std::thread::spawn(move || serve_http(s, mode));
                            }
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            // The listener is dropped here: the port refuses connections from now on.
        });
        Backend {
            stop,
            accepts,
            thread: Some(thread),
        }
    }

    /// Binds `ip:port` (retrying briefly if the port is still held) and serves it.
    fn start(ip: Ipv4Addr, port: u16, behaviour: Behaviour) -> Backend {
        let addr = SocketAddr::new(IpAddr::V4(ip), port);
        let listener = wait_for(&format!("bind {addr}"), Duration::from_secs(2), || {
            TcpListener::bind(addr).ok()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        Backend::serve(listener, behaviour)
    }

    fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    /// Closes the listener and returns once it is closed.
    fn kill(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Reads a request head, then answers according to `mode` and closes.
fn serve_http(mut s: TcpStream, mode: u8) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut b = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&b[..n]),
        }
        if head.len() > 16 * 1024 {
            return;
        }
    }
    let reply = |status: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let healthz = head.starts_with(b"GET /healthz ");
    match mode {
        HTTP_HEALTHZ_ONLY if !healthz => {
            let _ = s.write_all(reply("404 Not Found", "no such page").as_bytes());
        }
        HTTP_OK | HTTP_HEALTHZ_ONLY => {
            let _ = s.write_all(reply("200 OK", "all OK here").as_bytes());
        }
        HTTP_500 => {
            let _ = s.write_all(reply("500 Internal Server Error", "OK but broken").as_bytes());
        }
        HTTP_WRONG_BODY => {
            let _ = s.write_all(reply("200 OK", "maintenance").as_bytes());
        }
        _ => {
            // 200 and a body without end: until the prober goes away (or 5 s).
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
            let chunk = vec![b'x'; 8192];
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && s.write_all(&chunk).is_ok() {}
        }
    }
}

/// A port free on every address of `live` (bound there, returned) and on every address of
/// `dead` (checked free, left unbound so connections are refused).
fn ports(live: &[Ipv4Addr], dead: &[Ipv4Addr]) -> (u16, Vec<TcpListener>) {
    'retry: for _ in 0..100 {
        let first = TcpListener::bind((Ipv4Addr::new(127, 0, 0, 9), 0)).expect("bind");
        let port = first.local_addr().expect("addr").port();
        drop(first);
        let mut out = Vec::new();
        for a in live {
            match TcpListener::bind((*a, port)) {
                Ok(l) => out.push(l),
                Err(_) => continue 'retry,
            }
        }
        for a in dead {
            if TcpListener::bind((*a, port)).is_err() {
                continue 'retry;
            }
        }
        return (port, out);
    }
    panic!("no common free port on {live:?} and {dead:?}");
}

/// Log lines about the member at `addr` containing `needle`.
fn member_lines<'a>(log: &'a str, addr: Ipv4Addr, needle: &str) -> Vec<&'a str> {
    let who = format!("member {addr} (");
    log.lines()
        .filter(|l| l.contains(&who) && l.contains(needle))
        .collect()
}

// ------------------------------------------------------------------------------------------
// 1. Kill and restart a backend (TCP check)
// ------------------------------------------------------------------------------------------

/// msk's listener dies: answers stay on msk for the first failed probes, move to spb within
/// the detection window with the degraded TTL (min(30, 1 s) = 1), and come back to msk only
/// after 4 consecutive successes. Each change is logged exactly once, with its reason.
#[test]
fn killed_backend_fails_over_after_k_failures_and_returns_after_n_successes() {
    let (port, mut ls) = ports(&[MSK, SPB], &[]);
    let spb = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let msk = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let dir = TestDir::new(&config(&tcp_check(port), FAILOVER, ""));
    let server = Server::start(&dir, "1");

    let (addrs, ttls) = server.answer("www.example.com.");
    assert_eq!(addrs, set(&[MSK]), "healthy msk answers");
    assert_eq!(ttls, BTreeSet::from([30]), "normal TTL");

    // Kill msk. DOWN needs 3 failures: the earliest is 2 intervals (2 x 180 ms with jitter)
    // after the first failed probe, so nothing may change for 300 ms.
    msk.kill();
    let killed = Instant::now();
    server.assert_stays(
        &set(&[MSK]),
        killed + Duration::from_millis(300),
        "msk left the answers before 3 probes failed",
    );
    let ttls = server.wait_answer("www.example.com.", &set(&[SPB]), Duration::from_secs(3));
    let detected = killed.elapsed();
    assert_eq!(
        ttls,
        BTreeSet::from([1]),
        "failover answer has the degraded TTL"
    );
    assert!(
        detected >= Duration::from_millis(300),
        "detected after {detected:?}"
    );
    let t = server.target(MSK);
    assert_eq!(t["up"], false, "{t:#}");
    assert!(t["failures"].as_u64().unwrap() >= 3, "{t:#}");

    // Restart msk: UP needs 4 successes in a row, the earliest 3 x 180 ms after the first.
    let msk = Backend::start(MSK, port, Behaviour::Close);
    let restarted = Instant::now();
    server.assert_stays(
        &set(&[SPB]),
        restarted + Duration::from_millis(450),
        "msk came back before 4 probes succeeded",
    );
    let ttls = server.wait_answer("www.example.com.", &set(&[MSK]), Duration::from_secs(3));
    assert_eq!(ttls, BTreeSet::from([30]), "normal TTL again");
    assert!(msk.accepts() >= 4, "only {} probes seen", msk.accepts());

    let log = server.log_text();
    let down = member_lines(&log, MSK, "UP -> DOWN");
    let up = member_lines(&log, MSK, "DOWN -> UP");
    assert_eq!(down.len(), 1, "UP -> DOWN lines:\n{log}");
    assert_eq!(up.len(), 1, "DOWN -> UP lines:\n{log}");
    assert!(
        down[0].contains("3 of last 5 probes failed") && down[0].contains("connection refused"),
        "{}",
        down[0]
    );
    assert!(
        down[0].contains("www/msk") && down[0].contains("check c"),
        "{}",
        down[0]
    );
    assert!(up[0].contains("4 of last 4 probes succeeded"), "{}", up[0]);
    assert!(
        member_lines(&log, SPB, "->").is_empty(),
        "spb never changed:\n{log}"
    );
    drop(spb);
}

// ------------------------------------------------------------------------------------------
// 2. HTTP check: status and body; /status and /metrics
// ------------------------------------------------------------------------------------------

fn http_check(port: u16) -> String {
    format!(
        "  web: {{ type: http, port: {port}, path: /healthz, expect_status: [200], expect_body: \"OK\", \
         interval: 200ms, timeout: 150ms, down: 3/5, up: 4/4 }}\n"
    )
}

const HTTP_POOL: &str = "  www:
    ttl: 30
    check: web
    pools:
      msk: [127.0.0.1, 127.0.0.2]
";

/// A 500 takes the member out after the window, 200 with the body brings it back, a body
/// without "OK" takes it out again; `/status` and `/metrics` say why.
#[test]
fn http_check_status_and_body_decide() {
    let (port, mut ls) = ports(&[MSK, SPB], &[]);
    let mode = Arc::new(AtomicU8::new(HTTP_OK));
    let _b = Backend::serve(
        ls.pop().unwrap(),
        Behaviour::Http(Arc::new(AtomicU8::new(HTTP_OK))),
    );
    let a = Backend::serve(ls.pop().unwrap(), Behaviour::Http(mode.clone()));
    let dir = TestDir::new(&config(&http_check(port), HTTP_POOL, ""));
    let server = Server::start(&dir, "1");
    assert_eq!(server.www(), set(&[MSK, SPB]));

    mode.store(HTTP_500, Ordering::SeqCst);
    server.wait_answer("www.example.com.", &set(&[SPB]), Duration::from_secs(3));
    let t = server.target(MSK);
    assert_eq!(t["up"], false, "{t:#}");
    assert_eq!(t["check_type"], "http", "{t:#}");
    let last = t["last_result"].as_str().unwrap_or_default();
    assert!(last.contains("HTTP 500"), "last_result: {t:#}");
    let reason = t["last_change"][1].as_str().unwrap_or_default();
    assert!(
        reason.contains("of last 5 probes failed") && reason.contains("HTTP 500"),
        "last_change: {t:#}"
    );
    let m = server.metrics();
    let five = metric(
        &m,
        "dynadns_probes_total{address=\"127.0.0.1\",check=\"web\",result=\"http_5xx\"}",
    );
    assert!(
        five.is_some_and(|v| v >= 3.0),
        "http_5xx count {five:?}:\n{m}"
    );
    let ok = metric(
        &m,
        "dynadns_probes_total{address=\"127.0.0.1\",check=\"web\",result=\"ok\"}",
    );
    assert!(ok.is_some_and(|v| v >= 1.0), "ok count {ok:?}:\n{m}");
    assert!(
        m.lines().any(|l| l.starts_with(
            "dynadns_probe_duration_seconds_bucket{address=\"127.0.0.1\",check=\"web\",le="
        )),
        "no latency histogram:\n{m}"
    );
    assert_eq!(
        metric(&m, "dynadns_target_up{address=\"127.0.0.1\",check=\"web\"}"),
        Some(0.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "dynadns_target_up{address=\"127.0.0.2\",check=\"web\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "dynadns_pool_members_up{resource=\"www\",datacenter=\"msk\"}"
        ),
        Some(1.0),
        "{m}"
    );
    assert!(
        metric(
            &m,
            "dynadns_target_last_change_seconds{address=\"127.0.0.1\",check=\"web\"}"
        )
        .is_some(),
        "{m}"
    );

    mode.store(HTTP_OK, Ordering::SeqCst);
    server.wait_answer(
        "www.example.com.",
        &set(&[MSK, SPB]),
        Duration::from_secs(3),
    );

    mode.store(HTTP_WRONG_BODY, Ordering::SeqCst);
    server.wait_answer("www.example.com.", &set(&[SPB]), Duration::from_secs(3));
    let t = server.target(MSK);
    let last = t["last_result"].as_str().unwrap_or_default();
    assert!(
        last.contains("body does not contain \"OK\""),
        "last_result: {t:#}"
    );
    let m = server.metrics();
    let mismatch = metric(
        &m,
        "dynadns_probes_total{address=\"127.0.0.1\",check=\"web\",result=\"body_mismatch\"}",
    );
    assert!(mismatch.is_some_and(|v| v >= 3.0), "{m}");
    assert!(a.accepts() >= 10, "probes seen: {}", a.accepts());
}

// ------------------------------------------------------------------------------------------
// 3. The first probe round decides before the first answer
// ------------------------------------------------------------------------------------------

/// msk is dead before the server starts: the very first answer after readiness is spb.
#[test]
fn dead_first_datacenter_is_never_answered_after_start() {
    let (port, mut ls) = ports(&[SPB], &[MSK]);
    let _spb = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let dir = TestDir::new(&config(&tcp_check(port), FAILOVER, ""));
    let server = Server::start(&dir, "1");
    let (addrs, ttls) = server.answer("www.example.com.");
    assert_eq!(
        addrs,
        set(&[SPB]),
        "first answer after start\n{}",
        server.log_text()
    );
    assert_eq!(ttls, BTreeSet::from([1]), "degraded TTL");
    let log = server.log_text();
    let lines = member_lines(&log, MSK, "UP -> DOWN: first probe failed");
    assert_eq!(lines.len(), 1, "{log}");
    assert!(lines[0].contains("connection refused"), "{}", lines[0]);
}

// ------------------------------------------------------------------------------------------
// 4. The state file across a restart; a broken state file
// ------------------------------------------------------------------------------------------

/// Run 1 sees msk dead and stops. msk's listener is then alive again, so a server without
/// memory would answer msk at once (first probe succeeds); the restarted server restores
/// msk's DOWN window from the state file and answers spb until 4 probes succeeded.
#[test]
fn restart_restores_states_from_the_state_file() {
    let (port, mut ls) = ports(&[SPB], &[MSK]);
    let _spb = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let dir = TestDir::new(&config(&tcp_check(port), FAILOVER, ""));

    let server = Server::start(&dir, "1");
    assert_eq!(server.www(), set(&[SPB]));
    // A few more failures, so the saved window holds more than the first result.
    wait_for("3 failures", Duration::from_secs(3), || {
        (server.target(MSK)["failures"].as_u64() >= Some(3)).then_some(())
    })
    .unwrap();
    server.stop();

    let text = std::fs::read_to_string(dir.state_file()).expect("state file written");
    let saved: Value = serde_json::from_str(&text).expect("state file is JSON");
    let msk_saved = saved["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["address"] == "127.0.0.1")
        .unwrap_or_else(|| panic!("no 127.0.0.1 in {saved:#}"))
        .clone();
    assert_eq!(msk_saved["up"], false, "{saved:#}");

    let _msk = Backend::start(MSK, port, Behaviour::Close);
    let server = Server::start(&dir, "2");
    let started = Instant::now();
    let (addrs, ttls) = server.answer("www.example.com.");
    assert_eq!(
        addrs,
        set(&[SPB]),
        "first answer after restart: saved DOWN state ignored\n{}",
        server.log_text()
    );
    assert_eq!(ttls, BTreeSet::from([1]));
    assert!(
        server.log_text().contains("restored 2 probe state(s)"),
        "{}",
        server.log_text()
    );
    server.assert_stays(
        &set(&[SPB]),
        started + Duration::from_millis(300),
        "msk back before 4 successes after restart",
    );
    // And the restored window goes on: 4 successes bring msk back.
    server.wait_answer("www.example.com.", &set(&[MSK]), Duration::from_secs(3));
    let log = server.log_text();
    let up = member_lines(&log, MSK, "DOWN -> UP");
    assert_eq!(up.len(), 1, "{log}");
    assert!(up[0].contains("4 of last 4 probes succeeded"), "{}", up[0]);
    assert!(member_lines(&log, MSK, "first probe").is_empty(), "{log}");
}

/// Garbage in the state file (binary, then text that is not JSON): the server starts,
/// answers normally, logs a warning, and writes a valid state file again.
#[test]
fn broken_state_file_is_logged_and_ignored() {
    let (port, mut ls) = ports(&[MSK, SPB], &[]);
    let _spb = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let _msk = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let dir = TestDir::new(&config(&tcp_check(port), FAILOVER, ""));
    let garbage: [(&str, &[u8], &str); 2] = [
        ("binary", b"\x00\xff\xfe garbage \x01\x02", "valid UTF-8"),
        ("text", b"{ \"targets\": [ not json", "is not valid"),
    ];
    for (what, bytes, says) in garbage {
        std::fs::write(dir.state_file(), bytes).unwrap();
        let server = Server::start(&dir, what);
        assert_eq!(server.www(), set(&[MSK]), "{what} garbage");
        let log = server.log_text();
        assert!(
            log.lines().any(|l| l.contains("WARN")
                && l.contains("dynadns.state.json")
                && l.contains(says)
                && l.contains("starting without saved states")),
            "{what} garbage: no warning about the state file:\n{log}"
        );
        wait_for("a valid state file", Duration::from_secs(7), || {
            let text = std::fs::read_to_string(dir.state_file()).ok()?;
            serde_json::from_str::<Value>(&text).ok()
        })
        .unwrap_or_else(|e| panic!("{what} garbage: {e}\n{}", server.log_text()));
        server.stop();
    }
}

// ------------------------------------------------------------------------------------------
// 5. Reload keeps states and drops removed targets
// ------------------------------------------------------------------------------------------

/// msk is DOWN and recovering (`up: 20/20`, about 4 s of successes needed). A reload with the
/// same file keeps the window: spb goes on answering (a fresh state would be up at once).
/// A reload without 127.0.0.1 stops its probes.
#[test]
fn reload_keeps_states_and_stops_probing_removed_targets() {
    let (port, mut ls) = ports(&[SPB], &[MSK]);
    let _spb = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let check = tcp_check(port).replace("up: 4/4", "up: 20/20");
    let dir = TestDir::new(&config(&check, FAILOVER, ""));
    let server = Server::start(&dir, "1");
    assert_eq!(server.www(), set(&[SPB]));

    // msk's listener comes back: successes accumulate, but 20 are needed.
    let msk = Backend::start(MSK, port, Behaviour::Close);
    wait_for(
        "2 probes of the revived msk",
        Duration::from_secs(3),
        || (msk.accepts() >= 2).then_some(()),
    )
    .unwrap();
    server.reload(1);
    let reloaded = Instant::now();
    server.assert_stays(
        &set(&[SPB]),
        reloaded + Duration::from_millis(600),
        "msk answered after a reload with an unchanged file",
    );
    let t = server.target(MSK);
    assert_eq!(t["up"], false, "{t:#}");
    assert!(
        t["successes"].as_u64() >= Some(3),
        "window lost on reload: {t:#}"
    );
    assert!(member_lines(&server.log_text(), MSK, "DOWN -> UP").is_empty());

    // Remove 127.0.0.1 (and with it the msk pool).
    let without = "  www:\n    ttl: 30\n    check: c\n    pools:\n      spb: [127.0.0.2]\n";
    dir.write_config(&config(&check, without, ""));
    server.reload(2);
    // A probe in flight at the reload may still land; after that, nothing: wait (bounded)
    // for 500 ms without a connection, which a target probed every 200 ms never gives.
    let mut last = (msk.accepts(), Instant::now());
    wait_for(
        "500 ms without a probe of the removed target",
        Duration::from_secs(5),
        || {
            let now = msk.accepts();
            if now != last.0 {
                last = (now, Instant::now());
            }
            (last.1.elapsed() >= Duration::from_millis(500)).then_some(())
        },
    )
    .unwrap_or_else(|e| {
        panic!(
            "{e}: the removed target is still probed\n{}",
            server.log_text()
        )
    });
    let status = server.status();
    assert!(
        status["targets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["address"] != "127.0.0.1"),
        "{status:#}"
    );
    assert_eq!(server.www(), set(&[SPB]));
}

// ------------------------------------------------------------------------------------------
// 6. One probe per target
// ------------------------------------------------------------------------------------------

/// 127.0.0.1 in two resources (and two pools) with the same check is one target: about one
/// connection per interval, not two.
#[test]
fn one_probe_per_target_shared_by_resources() {
    let (port, mut ls) = ports(&[MSK, SPB], &[]);
    let _spb = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let msk = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let resources =
        format!("{FAILOVER}  api:\n    ttl: 30\n    check: c\n    pools:\n      eu: [127.0.0.1]\n");
    let dir = TestDir::new(&config(&tcp_check(port), &resources, ""));
    let server = Server::start(&dir, "1");
    assert_eq!(server.www(), set(&[MSK]));
    assert_eq!(server.answer("api.example.com.").0, set(&[MSK]));

    let start = msk.accepts();
    let began = Instant::now();
    // A deliberate measuring window: the probe rate is what is tested (too many probes is
    // the failure), so the whole window is watched.
    std::thread::sleep(Duration::from_secs(2));
    let n = msk.accepts() - start;
    let elapsed = began.elapsed();
    // One target: elapsed / (180..200 ms) probes, i.e. about 10-11 in 2 s.
    let expected = elapsed.as_secs_f64() / 0.2;
    assert!(
        (n as f64) >= 0.5 * expected && (n as f64) <= 1.5 * expected,
        "{n} probes in {elapsed:?}, expected about {expected:.1}"
    );
    let t = server.target(MSK);
    let members: Vec<&str> = t["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        members.contains(&"www/msk") && members.contains(&"api/eu"),
        "{t:#}"
    );
}

// ------------------------------------------------------------------------------------------
// 7. Forced states through the admin API
// ------------------------------------------------------------------------------------------

const FORCE_POOLS: &str = "  www:
    ttl: 30
    check: c
    pools:
      msk: [127.0.0.1, 127.0.0.3]
      spb: [127.0.0.2]
    route: { order: [msk, spb] }
";

/// Datacenter, member and pool overrides change answers at once; the token guards PUT and
/// DELETE but not GET; forced states survive a reload and a restart and show in `/status`.
#[test]
fn admin_overrides_token_reload_and_restart() {
    let (port, mut ls) = ports(&[MSK, SPB, THIRD], &[]);
    let third = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let _spb = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let msk = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let extra = format!("admin:\n  token: \"{TOKEN}\"\n");
    let dir = TestDir::new(&config(&tcp_check(port), FORCE_POOLS, &extra));
    let server = Server::start(&dir, "1");
    let both = set(&[MSK, THIRD]);
    assert_eq!(server.www(), both);
    let down = Some(r#"{"state":"down"}"#);
    let short = Duration::from_secs(2);

    // The token: GET open, PUT/DELETE need it.
    let (code, _) = server.admin("GET", "/status", None, None);
    assert_eq!(code, 200, "GET /status without a token");
    let (code, body) = server.admin("PUT", "/api/v1/overrides/datacenter/msk", down, None);
    assert_eq!(code, 401, "PUT without a token: {body}");
    let (code, body) = server.admin(
        "PUT",
        "/api/v1/overrides/datacenter/msk",
        down,
        Some("0123456789abcdef0124"),
    );
    assert_eq!(code, 401, "PUT with a wrong token: {body}");
    let (code, body) = server.admin("DELETE", "/api/v1/overrides/datacenter/msk", None, None);
    assert_eq!(code, 401, "DELETE without a token: {body}");
    assert_eq!(server.www(), both, "a refused call changed nothing");

    // Datacenter down: spb answers although msk is healthy; DELETE: back.
    let (code, body) = server.admin("PUT", "/api/v1/overrides/datacenter/msk", down, Some(TOKEN));
    assert_eq!(code, 200, "PUT with the token: {body}");
    server.wait_answer("www.example.com.", &set(&[SPB]), short);
    let (code, body) = server.admin("GET", "/api/v1/overrides", None, None);
    assert_eq!(code, 200);
    let o: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(o["datacenters"]["msk"], "down", "{o:#}");
    let (code, body) = server.admin(
        "DELETE",
        "/api/v1/overrides/datacenter/msk",
        None,
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{body}");
    server.wait_answer("www.example.com.", &both, short);

    // Member drain: that address leaves the answers.
    let drain = Some(r#"{"state":"drain"}"#);
    let (code, body) = server.admin(
        "PUT",
        "/api/v1/overrides/member/127.0.0.1",
        drain,
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{body}");
    server.wait_answer("www.example.com.", &set(&[THIRD]), short);
    assert_eq!(server.target(MSK)["forced"], "drain");
    assert_eq!(server.target(MSK)["up"], true, "still probed, still up");
    let (code, body) = server.admin(
        "DELETE",
        "/api/v1/overrides/member/127.0.0.1",
        None,
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{body}");
    server.wait_answer("www.example.com.", &both, short);

    // msk's probes fail: spb. Pool forced up: msk answers anyway.
    msk.kill();
    third.kill();
    server.wait_answer("www.example.com.", &set(&[SPB]), Duration::from_secs(3));
    let up = Some(r#"{"state":"up"}"#);
    let (code, body) = server.admin("PUT", "/api/v1/overrides/pool/www/msk", up, Some(TOKEN));
    assert_eq!(code, 200, "{body}");
    server.wait_answer("www.example.com.", &both, short);
    // A member force beats the pool's.
    let (code, body) = server.admin(
        "PUT",
        "/api/v1/overrides/member/127.0.0.3",
        drain,
        Some(TOKEN),
    );
    assert_eq!(code, 200, "{body}");
    server.wait_answer("www.example.com.", &set(&[MSK]), short);

    let check_forced = |server: &Server, when: &str| {
        let status = server.status();
        let pool = &status["resources"][0]["pools"][0];
        assert_eq!(pool["datacenter"], "msk", "{when}: {status:#}");
        assert_eq!(pool["forced"], "up", "{when}: {status:#}");
        assert_eq!(
            status["overrides"]["pools"]["www/msk"], "up",
            "{when}: {status:#}"
        );
        assert_eq!(
            status["overrides"]["members"]["127.0.0.3"], "drain",
            "{when}: {status:#}"
        );
        let t = server.target(MSK);
        assert_eq!(
            t["up"], false,
            "{when}: real state shown beside the force: {t:#}"
        );
    };
    check_forced(&server, "before reload");

    // Reload: forced states stay.
    server.reload(1);
    server.assert_stays(
        &set(&[MSK]),
        Instant::now() + Duration::from_millis(300),
        "forced states lost on reload",
    );
    check_forced(&server, "after reload");

    // Restart: restored from the state file.
    server.stop();
    let server = Server::start(&dir, "2");
    let (addrs, _) = server.answer("www.example.com.");
    assert_eq!(
        addrs,
        set(&[MSK]),
        "forced states lost on restart\n{}",
        server.log_text()
    );
    check_forced(&server, "after restart");
    let m = server.metrics();
    assert_eq!(
        metric(
            &m,
            "dynadns_target_forced{address=\"127.0.0.3\",check=\"c\",state=\"drain\"}"
        ),
        Some(1.0),
        "{m}"
    );
}

// ------------------------------------------------------------------------------------------
// 8. members: all
// ------------------------------------------------------------------------------------------

/// `members: all` answers every member of an up pool, a failing one included; the same pool
/// with `members: healthy` leaves it out.
#[test]
fn members_all_keeps_failing_members_in_an_up_pool() {
    let (port, mut ls) = ports(&[MSK], &[SPB]);
    let _msk = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let resources = "  www:
    ttl: 30
    check: c
    members: all
    min_up: 1
    pools:
      msk: [127.0.0.1, 127.0.0.2]
  www2:
    ttl: 30
    check: c
    members: healthy
    min_up: 1
    pools:
      msk: [127.0.0.1, 127.0.0.2]
";
    let dir = TestDir::new(&config(&tcp_check(port), resources, ""));
    let server = Server::start(&dir, "1");
    assert_eq!(server.target(SPB)["up"], false);
    assert_eq!(server.www(), set(&[MSK, SPB]), "members: all");
    assert_eq!(
        server.answer("www2.example.com.").0,
        set(&[MSK]),
        "members: healthy"
    );
}

// ------------------------------------------------------------------------------------------
// 9. dynadns explain with a state file
// ------------------------------------------------------------------------------------------

/// After a run that left a state file, `explain` shows the window counts of a member and
/// the forced state of a pool.
#[test]
fn explain_reads_windows_and_forced_states_from_the_state_file() {
    let (port, mut ls) = ports(&[SPB], &[MSK]);
    let _spb = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let dir = TestDir::new(&config(&tcp_check(port), FAILOVER, ""));
    let server = Server::start(&dir, "1");
    assert_eq!(server.www(), set(&[SPB]));
    let (code, body) = server.admin(
        "PUT",
        "/api/v1/overrides/pool/www/msk",
        Some(r#"{"state":"up"}"#),
        None,
    );
    assert_eq!(code, 200, "{body}");
    server.wait_answer("www.example.com.", &set(&[MSK]), Duration::from_secs(2));
    wait_for("3 failures", Duration::from_secs(3), || {
        (server.target(MSK)["failures"].as_u64() >= Some(3)).then_some(())
    })
    .unwrap();
    server.stop();

    let out = Command::new(env!("CARGO_BIN_EXE_dynadns"))
        .arg("explain")
        .arg("-c")
        .arg(dir.config_path())
        .args(["--client", "127.0.0.1", "www.example.com", "A"])
        .env("NO_COLOR", "1")
        .current_dir("/")
        .output()
        .expect("run dynadns explain");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!(
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    let member = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("127.0.0.1 "))
        .unwrap_or_else(|| panic!("no line for 127.0.0.1: {report}"));
    assert!(
        member.contains("down") && member.contains("of last 5 failed"),
        "{report}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("pool msk") && l.contains("forced up")),
        "{report}"
    );
    let selected = stdout
        .lines()
        .find(|l| l.starts_with("selected:"))
        .unwrap_or_else(|| panic!("no selected line: {report}"));
    assert!(selected.contains("127.0.0.1"), "{report}");
    assert!(stdout.contains("dynadns.state.json"), "{report}");
}

// ------------------------------------------------------------------------------------------
// 10. Hostile targets
// ------------------------------------------------------------------------------------------

/// A target that resets every connection and one that streams an endless body go DOWN; the
/// server keeps running and keeps probing the healthy member on schedule.
#[test]
fn resetting_and_endless_targets_do_not_disturb_the_rest() {
    let (port, mut ls) = ports(&[MSK, SPB, THIRD], &[]);
    let endless = Backend::serve(
        ls.pop().unwrap(),
        Behaviour::Http(Arc::new(AtomicU8::new(HTTP_ENDLESS))),
    );
    let reset = Backend::serve(ls.pop().unwrap(), Behaviour::Reset);
    let good = Backend::serve(
        ls.pop().unwrap(),
        Behaviour::Http(Arc::new(AtomicU8::new(HTTP_OK))),
    );
    let resources = "  www:
    ttl: 30
    check: web
    pools:
      msk: [127.0.0.1, 127.0.0.2, 127.0.0.3]
";
    let dir = TestDir::new(&config(&http_check(port), resources, ""));
    let mut server = Server::start(&dir, "1");
    server.wait_answer("www.example.com.", &set(&[MSK]), Duration::from_secs(3));
    server.wait_target(SPB, false, Duration::from_secs(3));
    server.wait_target(THIRD, false, Duration::from_secs(3));

    let ok_count = |server: &Server| {
        metric(
            &server.metrics(),
            "dynadns_probes_total{address=\"127.0.0.1\",check=\"web\",result=\"ok\"}",
        )
        .unwrap_or(0.0)
    };
    let before = ok_count(&server);
    let good_before = good.accepts();
    // A deliberate measuring window: the healthy member's probe rate (neither too low nor
    // too high) is what is tested.
    std::thread::sleep(Duration::from_millis(1500));
    let probes = ok_count(&server) - before;
    assert!(
        (5.0..=10.0).contains(&probes),
        "healthy member probed {probes} times in 1.5 s (expected about 7.5)"
    );
    assert!(good.accepts() - good_before >= 5);
    assert!(server.is_running(), "server died:\n{}", server.log_text());
    let t = server.target(MSK);
    assert_eq!(t["up"], true, "{t:#}");
    assert_eq!(t["failures"], 0, "{t:#}");
    assert_eq!(server.www(), set(&[MSK]));
    assert!(reset.accepts() >= 3 && endless.accepts() >= 3);

    let m = server.metrics();
    let resets = metric(
        &m,
        "dynadns_probes_total{address=\"127.0.0.2\",check=\"web\",result=\"reset\"}",
    );
    assert!(resets.is_some_and(|v| v >= 3.0), "reset target:\n{m}");
    let endless_ok = metric(
        &m,
        "dynadns_probes_total{address=\"127.0.0.3\",check=\"web\",result=\"ok\"}",
    );
    assert!(endless_ok.is_none(), "endless body counted ok:\n{m}");
    let t = server.target(THIRD);
    let last = t["last_result"].as_str().unwrap_or_default();
    assert!(
        last.contains("body") || last.contains("timeout"),
        "endless body: {t:#}"
    );
}

// ------------------------------------------------------------------------------------------
// 8. Reload: what it applies, and what it says it cannot
// ------------------------------------------------------------------------------------------

/// The `reload` object of `/status`, once its `outcome` is `want`.
fn wait_reload_outcome(server: &Server, want: &str) -> Value {
    wait_for(
        &format!("reload outcome {want}"),
        Duration::from_secs(5),
        || {
            let r = server.status()["reload"].clone();
            (r["outcome"] == want).then_some(r)
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{:#}\n{}", server.status(), server.log_text()))
}

/// The DNS and admin listener lines of a server log (from the message on, without the
/// timestamp).
fn listener_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter_map(|l| {
            ["listening on", "admin API on"]
                .iter()
                .find_map(|m| l.find(m).map(|i| &l[i..]))
        })
        .collect()
}

/// The DNS listen list, the admin address and the UDP worker count change in the file: a
/// reload applies the rest (a new TTL), names those three in one warning and in `/status`,
/// and the server goes on answering on the old addresses only. A broken file is reported as
/// a failed reload; putting the old values back clears the list.
#[test]
fn reload_names_settings_that_need_a_restart() {
    let dir = TestDir::new(&config("", "", ""));
    let file = |dns: &str, admin: SocketAddr, workers: u32, ttl: u32| {
        format!(
            "listen:\n  dns: [{dns}]\n  admin: \"{admin}\"\nserver:\n  udp_workers: {workers}\n\
             zones: zones/\ndatacenters: {{ msk: {{}} }}\nchecks:\n  c: {{ type: always_up }}\nresources:\n  www:\n    \
             ttl: {ttl}\n    check: c\n    pools:\n      msk: [127.0.0.1]\n"
        )
    };
    let server = Server::start_from_file(&dir, "1", &|dns, admin| {
        file(&format!("\"{dns}\""), admin, 1, 30)
    });
    assert_eq!(server.answer("www.example.com.").1, BTreeSet::from([30]));
    assert_eq!(server.status()["reload"], Value::Null, "no reload yet");

    // The test holds TCP on the new DNS addresses, so no other test's server can start there
    // (every server needs TCP and UDP); their UDP ports stay free, so a server that wrongly
    // moved its UDP sockets would answer there.
    let (hold2, hold3) = (
        TcpListener::bind("127.0.0.1:0").unwrap(),
        TcpListener::bind("127.0.0.1:0").unwrap(),
    );
    let (dns2, dns3) = (hold2.local_addr().unwrap(), hold3.local_addr().unwrap());
    let log_at_start = server.log_text();
    let listeners_at_start = listener_lines(&log_at_start);
    let admin2 = free_loopback_port();
    dir.write_config(&file(&format!("\"{dns2}\", \"{dns3}\""), admin2, 2, 45));
    server.reload(1);
    let r = wait_reload_outcome(&server, "ok");
    assert_eq!(
        r["needs_restart"],
        serde_json::json!(["listen.dns", "listen.admin", "server.udp_workers"]),
        "{r:#}"
    );
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    assert!(r["generation"].as_u64() >= Some(2), "{r:#}");
    let at = r["at"].as_str().unwrap_or_default();
    assert!(
        at.len() == 20 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
        "not RFC 3339: {at}"
    );
    let log = server.log_text();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("needs a restart"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning per reload:\n{log}");
    let w = warnings[0];
    for part in [
        format!(
            "listen.dns changed from [{}] to [{dns2}, {dns3}]",
            server.dns
        ),
        format!("listen.admin changed from {} to {admin2}", server.admin),
        "server.udp_workers changed from 1 to 2".to_string(),
    ] {
        assert!(w.contains(&part), "{part:?} missing in: {w}");
    }
    // The rest applied; no socket was bound or moved. (Asserting that nothing answers: a
    // closed loopback port refuses at once, so the 300 ms only bound a wrong answer's wait.)
    assert_eq!(server.answer("www.example.com.").1, BTreeSet::from([45]));
    assert_eq!(listener_lines(&server.log_text()), listeners_at_start);
    let short = Duration::from_millis(300);
    assert!(!soa_answered(dns2, short) && !soa_answered(dns3, short));
    assert!(TcpStream::connect_timeout(&admin2, short).is_err());

    // A file with an error, and a zone with a warning: the reload fails, /status lists the
    // error (not the warning) and still names the pending restarts, one log line says the
    // old configuration serves on, and it does.
    dir.write_config(
        &file(&format!("\"{dns2}\", \"{dns3}\""), admin2, 2, 50).replace("check: c", "check: nope"),
    );
    let zone = dir.path().join("zones/example.com.yaml");
    std::fs::write(
        &zone,
        ZONE.replace(
            "ns1: { A: 192.0.2.53 }",
            "ns1: { A: [192.0.2.53, 192.0.2.53] }",
        ),
    )
    .unwrap();
    server.signal("-HUP");
    let r = wait_reload_outcome(&server, "failed");
    let errors = r["errors"].as_array().cloned().unwrap_or_default();
    assert!(
        errors.len() == 1
            && errors[0]
                .as_str()
                .is_some_and(|e| e.contains("unknown check 'nope'")),
        "{r:#}"
    );
    assert_eq!(
        r["needs_restart"].as_array().map(Vec::len),
        Some(3),
        "{r:#}"
    );
    let log = server.log_text();
    assert_eq!(
        log.matches("reload failed with 1 error(s); still serving the previous configuration")
            .count(),
        1,
        "{log}"
    );
    assert_eq!(server.answer("www.example.com.").1, BTreeSet::from([45]));
    std::fs::write(&zone, ZONE).unwrap();

    // The running values back in the file: nothing needs a restart any more.
    dir.write_config(&file(&format!("\"{}\"", server.dns), server.admin, 1, 60));
    server.reload(2);
    let r = wait_reload_outcome(&server, "ok");
    assert_eq!(r["needs_restart"], serde_json::json!([]), "{r:#}");
    assert_eq!(server.answer("www.example.com.").1, BTreeSet::from([60]));
    let log = server.log_text();
    assert_eq!(log.matches("needs a restart").count(), 1, "{log}");
}

/// `admin.token` follows the file: after a reload the old token is refused and the new one
/// accepted; without a token in the file, write calls are open again.
#[test]
fn reload_rereads_the_admin_token() {
    const NEW_TOKEN: &str = "fedcba9876543210fedcba";
    let checks = "  c: { type: always_up }\n";
    let with_token = |t: &str| config(checks, FAILOVER, &format!("admin:\n  token: \"{t}\"\n"));
    let dir = TestDir::new(&with_token(TOKEN));
    let server = Server::start(&dir, "1");
    let down = Some(r#"{"state":"down"}"#);
    let put = |token: Option<&str>| {
        server
            .admin("PUT", "/api/v1/overrides/datacenter/spb", down, token)
            .0
    };
    assert_eq!(put(Some(TOKEN)), 200);
    assert_eq!(put(Some(NEW_TOKEN)), 401);

    dir.write_config(&with_token(NEW_TOKEN));
    server.reload(1);
    assert_eq!(put(Some(TOKEN)), 401, "the old token still works");
    assert_eq!(put(Some(NEW_TOKEN)), 200, "the new token is refused");
    assert_eq!(put(None), 401);

    dir.write_config(&config(checks, FAILOVER, ""));
    server.reload(2);
    assert_eq!(put(None), 200, "no token configured: write calls are open");
}

/// A check's probe changes on reload: its targets' windows restart and the first probe of the
/// new check decides. `path: /gone` takes msk (404 there) out and keeps spb (200 everywhere);
/// `expect_status: [404]` then turns it around.
#[test]
fn reload_applies_a_changed_http_check() {
    let (port, mut ls) = ports(&[MSK, SPB], &[]);
    let _spb = Backend::serve(
        ls.pop().unwrap(),
        Behaviour::Http(Arc::new(AtomicU8::new(HTTP_OK))),
    );
    let _msk = Backend::serve(
        ls.pop().unwrap(),
        Behaviour::Http(Arc::new(AtomicU8::new(HTTP_HEALTHZ_ONLY))),
    );
    let check = |extra: &str| {
        format!(
            "  web: {{ type: http, port: {port}, path: /healthz, {extra}\
             interval: 200ms, timeout: 150ms, down: 3/5, up: 4/4 }}\n"
        )
    };
    let dir = TestDir::new(&config(&check(""), HTTP_POOL, ""));
    let server = Server::start(&dir, "1");
    let within = Duration::from_secs(5);
    server.wait_answer("www.example.com.", &set(&[MSK, SPB]), within);

    dir.write_config(&config(
        &check("").replace("/healthz", "/gone"),
        HTTP_POOL,
        "",
    ));
    server.reload(1);
    server.wait_answer("www.example.com.", &set(&[SPB]), within);
    let t = server.target(MSK);
    assert!(
        t["last_result"]
            .as_str()
            .unwrap_or_default()
            .contains("404"),
        "{t:#}"
    );
    let log = server.log_text();
    assert_eq!(
        log.matches("check web changed; its window restarts")
            .count(),
        2,
        "{log}"
    );
    assert_eq!(
        member_lines(&log, MSK, "first probe failed").len(),
        1,
        "{log}"
    );

    dir.write_config(&config(
        &check("expect_status: [404], ").replace("/healthz", "/gone"),
        HTTP_POOL,
        "",
    ));
    server.reload(2);
    server.wait_answer("www.example.com.", &set(&[MSK]), within);
    let log = server.log_text();
    assert_eq!(
        member_lines(&log, MSK, "first probe succeeded").len(),
        1,
        "{log}"
    );
    assert_eq!(
        member_lines(&log, SPB, "first probe failed").len(),
        1,
        "{log}"
    );
}

/// The interval changes on reload: the probe rate follows (1 s, then 100 ms) and the window is
/// kept (a timing change does not restart it). A member added on reload is probed at once.
#[test]
fn reload_applies_a_new_interval_and_new_targets() {
    let (port, mut ls) = ports(&[MSK, THIRD], &[]);
    let third = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let msk = Backend::serve(ls.pop().unwrap(), Behaviour::Close);
    let slow = tcp_check(port).replace("interval: 200ms", "interval: 1s");
    let pool = |members: &str| {
        format!("  www:\n    ttl: 30\n    check: c\n    pools:\n      msk: [{members}]\n")
    };
    let dir = TestDir::new(&config(&slow, &pool("127.0.0.1"), ""));
    let server = Server::start(&dir, "1");
    assert_eq!(server.www(), set(&[MSK]));
    assert_eq!(server.target(MSK)["interval_ms"], 1000);

    // 1 s interval: about 3 probes in 3 s (at most 10% early each). This asserts an upper
    // bound, so it has to watch the whole window.
    let window = Duration::from_secs(3);
    let before = msk.accepts();
    std::thread::sleep(window);
    let n = msk.accepts() - before;
    assert!(n <= 6, "{n} probes in {window:?} with a 1 s interval");
    assert_eq!(third.accepts(), 0, "127.0.0.3 is not configured yet");

    let fast = tcp_check(port).replace(
        "interval: 200ms, timeout: 150ms",
        "interval: 100ms, timeout: 80ms",
    );
    dir.write_config(&config(&fast, &pool("127.0.0.1, 127.0.0.3"), ""));
    server.reload(1);
    server.wait_answer(
        "www.example.com.",
        &set(&[MSK, THIRD]),
        Duration::from_secs(5),
    );
    assert_eq!(server.target(MSK)["interval_ms"], 100);
    // 100 ms interval: about 30 probes in 3 s; 12 within 3 s is the bar.
    let before = msk.accepts();
    wait_for("12 probes of msk at the 100 ms interval", window, || {
        (msk.accepts() - before >= 12).then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}: {} probes", msk.accepts() - before));
    wait_for("10 probes of the new target", window, || {
        (third.accepts() >= 10).then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}: {} probes", third.accepts()));
    let log = server.log_text();
    assert!(
        !log.contains("window restarts"),
        "a timing change restarted a window:\n{log}"
    );
}

/// `health.state_file` follows a reload: the next save goes to the new file.
#[test]
fn reload_moves_the_state_file() {
    let checks = "  c: { type: always_up }\n";
    let dir = TestDir::new(&config(checks, FAILOVER, ""));
    let server = Server::start(&dir, "1");
    let moved = dir.path().join("moved.state.json");
    dir.write_config(&config(
        checks,
        FAILOVER,
        "health:\n  state_file: moved.state.json\n",
    ));
    server.reload(1);
    let (code, body) = server.admin(
        "PUT",
        "/api/v1/overrides/datacenter/msk",
        Some(r#"{"state":"drain"}"#),
        None,
    );
    assert_eq!(code, 200, "{body}");
    let saved = wait_for("the new state file", Duration::from_secs(5), || {
        std::fs::read_to_string(&moved).ok()
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", server.log_text()));
    let saved: Value = serde_json::from_str(&saved).expect("state file is JSON");
    assert_eq!(
        saved["overrides"]["datacenters"]["msk"], "drain",
        "{saved:#}"
    );
    assert!(
        server.log_text().contains("health.state_file"),
        "{}",
        server.log_text()
    );
}
