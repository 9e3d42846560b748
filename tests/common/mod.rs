//! Shared harness for dynadns integration tests.
//!
//! Every integration test runs the real `dynadns` binary as a child process on a free
//! loopback port and talks to it over UDP/TCP, using `hickory-proto` as an independent
//! DNS encoder/decoder (so the tests never share parsing code with the server under test).
//!
//! Typical use:
//!
//! ```ignore
//! mod common;
//! use common::{QueryBuilder, TestServer};
//! use hickory_proto::rr::RecordType;
//!
//! let server = TestServer::start_with(&[
//!     ("dynadns.yaml", common::DEFAULT_CONFIG),
//!     ("zones/example.com.yaml", ZONE_YAML),
//! ]);
//! let reply = server.udp(&QueryBuilder::new("www.example.com.", RecordType::A).build());
//! ```
//!
//! Set `DYNADNS_TEST_SERVER=127.0.0.1:PORT` to run the tests built on
//! [`TestServer::start_master`] against an already running server (e.g. NSD or Knot)
//! instead of spawning dynadns: that is how the conformance tests themselves are validated.

// Each integration test crate compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

pub mod mmdb;

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::rdata::opt::{ClientSubnet, EdnsOption};
use hickory_proto::rr::{DNSClass, Name, RecordType};

/// How long one query waits for its answer (per attempt).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long [`TestServer`] waits for a freshly spawned server to answer its first query.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);

/// Interval between readiness probes while the server starts.
const READY_POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Attempts to start the server; a retry only happens when the process exits before it is
/// ready (typically because another process took the port between probe and bind).
const START_ATTEMPTS: usize = 3;

/// Name of the environment variable that points the harness at an external server.
pub const EXTERNAL_SERVER_ENV: &str = "DYNADNS_TEST_SERVER";

/// A server configuration with all zones in `zones/` and the default UDP payload limit;
/// response rate limiting off (the tests send many queries from one address).
/// The `listen` entry is overridden by the `--listen` argument the harness passes.
pub const DEFAULT_CONFIG: &str = "\
listen:
  dns: [\"127.0.0.1:5353\"]
zones: zones/
limits:
  edns_udp_payload: 1232
  rrl: { rate: 0 }
";

/// Whether the shared conformance data is there. Without it (a lone clone of the repository)
/// the conformance tests skip with a message, unless `DYNADNS_REQUIRE_CONFORMANCE=1` (set by
/// `.ci/run`) makes its absence a failure.
pub fn conformance_available() -> bool {
    shared_path("conformance", "conformance data").is_some()
}

/// `../shared/RELATIVE` next to the repository (the shared checkout: conformance data, the
/// design contract), or `None` after printing `SKIPPED: ...` when it is missing; with
/// `DYNADNS_REQUIRE_CONFORMANCE=1` (set by `.ci/run`) a missing one fails the test instead.
pub fn shared_path(relative: &str, what: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(relative);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("DYNADNS_REQUIRE_CONFORMANCE").is_none(),
        "{what} {} is missing (expected the shared checkout next to the repository)",
        path.display()
    );
    eprintln!(
        "SKIPPED: {what} {} is not next to the repository",
        path.display()
    );
    None
}

/// The smallest valid zone, `example.com` (apex NS and its address), for tests about the
/// server file rather than zones.
pub const MINIMAL_ZONE: &str = "\
zone: example.com
soa: { primary: ns1, contact: hostmaster, serial: 1 }
records:
  \"@\": { NS: [ns1] }
  ns1: { A: 192.0.2.53 }
";

/// The zone `example.com` whose `www` is answered by the GSLB resource `www`, for tests about
/// a resource rather than the zone.
pub const WWW_ZONE: &str = "\
zone: example.com
ttl: 3600
soa: { primary: ns1, contact: hostmaster, serial: 1, negative_ttl: 300 }
records:
  \"@\": { NS: [ns1] }
  ns1: { A: 192.0.2.53 }
  www: { DYNA: www }
";

/// Path of a file or folder in the shared conformance data (`../shared/conformance/`
/// next to the repository), which is used by reference and never copied into the repo.
pub fn conformance_data(relative: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance")
        .join(relative);
    assert!(
        path.exists(),
        "conformance data {} is missing (expected the shared checkout next to the repository)",
        path.display()
    );
    path
}

/// Transport used for a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// One datagram per message.
    Udp,
    /// RFC 1035 §4.2.2 framing: 2-byte big-endian length prefix.
    Tcp,
}

/// A running DNS server under test. Dropping it kills the process and removes its temp
/// dir, except while a test panics: the dir (config, zones, `stderr.log`) is then kept and
/// its path printed, for the post-mortem.
pub struct TestServer {
    /// `None` when the server is external ([`EXTERNAL_SERVER_ENV`]).
    child: Option<Child>,
    addr: SocketAddr,
    dir: PathBuf,
}

impl TestServer {
    /// Asks the server to reload its configuration (SIGHUP), as an operator would.
    pub fn reload(&self) {
        let pid = self
            .child
            .as_ref()
            .expect("reload needs a server started by the harness")
            .id();
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -HUP {pid} failed");
    }

    /// Writes `files` (paths relative to a fresh temp dir, e.g. `("dynadns.yaml", ..)`,
    /// `("zones/example.com.yaml", ..)`) and starts `dynadns serve` on a free loopback port.
    ///
    /// Returns once the server answers a UDP SOA query for the apex of the first zone
    /// found in the files (any response counts). Panics with the server's stderr if it
    /// does not become ready.
    pub fn start_with(files: &[(&str, &str)]) -> TestServer {
        let dir = make_temp_dir();
        write_files(&dir, files);
        let probe = probe_name(files);
        Self::spawn(dir, &probe)
    }

    /// Converts a master (RFC 1035) zone file with `dynadns import-zone` into
    /// `zones/ORIGIN.yaml` and serves it with [`DEFAULT_CONFIG`].
    ///
    /// If `DYNADNS_TEST_SERVER=IP:PORT` is set, nothing is imported or spawned: the
    /// returned handle talks to that server, which must already serve the zone.
    pub fn start_master(master_file: &Path, origin: &str) -> TestServer {
        let dir = make_temp_dir();
        if let Ok(external) = std::env::var(EXTERNAL_SERVER_ENV) {
            let addr = external
                .parse()
                .unwrap_or_else(|e| panic!("{EXTERNAL_SERVER_ENV}={external:?}: {e}"));
            if wait_ready(addr, None, origin, STARTUP_TIMEOUT).is_err() {
                panic!("external server {addr} does not answer a SOA query for {origin}");
            }
            return TestServer {
                child: None,
                addr,
                dir,
            };
        }

        let output = Command::new(env!("CARGO_BIN_EXE_dynadns"))
            .arg("import-zone")
            .arg(master_file)
            .arg("--origin")
            .arg(origin)
            .output()
            .expect("run dynadns import-zone");
        assert!(
            output.status.success(),
            "dynadns import-zone {} --origin {origin} failed ({}):\n{}",
            master_file.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let zone_file = format!("zones/{}.yaml", origin.trim_end_matches('.'));
        fs::create_dir_all(dir.join("zones")).expect("create zones dir");
        fs::write(dir.join(&zone_file), &output.stdout).expect("write imported zone");
        fs::write(dir.join("dynadns.yaml"), DEFAULT_CONFIG).expect("write config");
        Self::spawn(dir, origin)
    }

    /// Address the server listens on (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The temp dir holding the config, zones and the captured stderr.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything the server wrote to stderr so far (empty for an external server).
    pub fn stderr_text(&self) -> String {
        fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    /// Whether the server process is still alive (always true for an external server,
    /// whose liveness can only be checked by querying it).
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Sends `query` and decodes the answer; UDP is retried once. Panics (with the
    /// server's stderr) when there is no valid answer: use [`TestServer::query`] to get
    /// the error instead.
    pub fn udp(&self, query: &Message) -> Message {
        self.query(Transport::Udp, query)
            .unwrap_or_else(|e| panic!("UDP query failed: {e}\n{}", self.stderr_report()))
    }

    /// Like [`TestServer::udp`] over TCP.
    pub fn tcp(&self, query: &Message) -> Message {
        self.query(Transport::Tcp, query)
            .unwrap_or_else(|e| panic!("TCP query failed: {e}\n{}", self.stderr_report()))
    }

    /// Sends `query` over `transport` and decodes the answer with hickory-proto.
    pub fn query(&self, transport: Transport, query: &Message) -> Result<Message, String> {
        let bytes = query.to_vec().map_err(|e| format!("encode query: {e}"))?;
        let reply = self.exchange(transport, &bytes)?;
        Message::from_vec(&reply).map_err(|e| format!("undecodable reply {reply:02x?}: {e}"))
    }

    /// Sends an already encoded query and returns the raw reply whose ID matches the
    /// query's (so replies to an earlier attempt are never mistaken for this one).
    /// UDP waits [`QUERY_TIMEOUT`] and is retried once; TCP waits [`QUERY_TIMEOUT`].
    pub fn exchange(&self, transport: Transport, query: &[u8]) -> Result<Vec<u8>, String> {
        assert!(query.len() >= 2, "a query has at least an ID");
        match transport {
            Transport::Udp => {
                let socket = udp_socket(self.addr)?;
                for _attempt in 0..2 {
                    socket.send(query).map_err(|e| format!("UDP send: {e}"))?;
                    if let Some(reply) = recv_matching(&socket, &query[..2], QUERY_TIMEOUT)? {
                        return Ok(reply);
                    }
                }
                Err(format!(
                    "no UDP answer from {} within 2 x {QUERY_TIMEOUT:?}",
                    self.addr
                ))
            }
            Transport::Tcp => {
                let reply = tcp_exchange(self.addr, query, QUERY_TIMEOUT)?
                    .ok_or_else(|| format!("no TCP answer from {}", self.addr))?;
                if reply.len() < 2 || reply[..2] != query[..2] {
                    return Err(format!("TCP reply with a different ID: {reply:02x?}"));
                }
                Ok(reply)
            }
        }
    }

    /// Sends `packet` as a single datagram (no retry) and returns the first datagram that
    /// comes back within `wait`, whatever it contains. `None` means no answer: this is
    /// meant for malformed and unusual packets.
    pub fn udp_raw(&self, packet: &[u8], wait: Duration) -> Option<Vec<u8>> {
        let socket = udp_socket(self.addr).expect("UDP socket");
        if socket.send(packet).is_err() {
            return None;
        }
        socket.set_read_timeout(Some(wait)).expect("set timeout");
        let mut buf = vec![0u8; 65536];
        match socket.recv(&mut buf) {
            Ok(n) => Some(buf[..n].to_vec()),
            Err(_) => None,
        }
    }

    /// Sends `packet` over a new TCP connection with 2-byte length framing and returns
    /// the first framed message that comes back within `wait`. `None` means the server
    /// did not answer (timeout or connection closed).
    pub fn tcp_raw(&self, packet: &[u8], wait: Duration) -> Option<Vec<u8>> {
        tcp_exchange(self.addr, packet, wait).ok().flatten()
    }

    /// The captured stderr, formatted for inclusion in a panic message.
    fn stderr_report(&self) -> String {
        format!("--- server stderr ---\n{}", self.stderr_text())
    }

    fn spawn(dir: PathBuf, probe: &str) -> TestServer {
        let mut failures = String::new();
        for attempt in 1..=START_ATTEMPTS {
            let addr = free_loopback_port();
            let stderr = fs::File::create(dir.join("stderr.log")).expect("create stderr.log");
            let stdout = fs::File::create(dir.join("stdout.log")).expect("create stdout.log");
            let mut child = Command::new(env!("CARGO_BIN_EXE_dynadns"))
                .arg("serve")
                .arg("-c")
                .arg(dir.join("dynadns.yaml"))
                .arg("--listen")
                .arg(addr.to_string())
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(stdout)
                .stderr(stderr)
                .spawn()
                .expect("spawn dynadns serve");
            match wait_ready(addr, Some(&mut child), probe, STARTUP_TIMEOUT) {
                Ok(()) => {
                    return TestServer {
                        child: Some(child),
                        addr,
                        dir,
                    };
                }
                Err(StartError::Exited(status)) => {
                    failures.push_str(&format!(
                        "attempt {attempt} on {addr}: server exited ({status}) before answering\n\
                         --- server stderr ---\n{}\n",
                        fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
                    ));
                }
                Err(StartError::Timeout) => {
                    // Dropping the handle while panicking kills the child and keeps `dir`.
                    let server = TestServer {
                        child: Some(child),
                        addr,
                        dir,
                    };
                    panic!(
                        "dynadns did not answer on {addr} within {STARTUP_TIMEOUT:?}\n{}",
                        server.stderr_report()
                    );
                }
            }
        }
        panic!(
            "dynadns failed to start {START_ATTEMPTS} times (files kept in {}):\n{failures}",
            dir.display()
        );
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            // Keep config, zones and stderr.log for the post-mortem.
            eprintln!("test failed: keeping {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Polls with a UDP SOA query for `apex` every [`READY_POLL_INTERVAL`] until any
/// datagram comes back, the child (if any) exits, or `timeout` passes.
fn wait_ready(
    addr: SocketAddr,
    mut child: Option<&mut Child>,
    apex: &str,
    timeout: Duration,
) -> Result<(), StartError> {
    let deadline = Instant::now() + timeout;
    let probe = QueryBuilder::new(apex, RecordType::SOA)
        .build()
        .to_vec()
        .expect("encode readiness probe");
    let socket = udp_socket(addr).expect("UDP socket");
    socket
        .set_read_timeout(Some(READY_POLL_INTERVAL))
        .expect("set timeout");
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline {
        let next_probe = Instant::now() + READY_POLL_INTERVAL;
        if let Some(child) = child.as_deref_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            return Err(StartError::Exited(status));
        }
        // Errors (e.g. ICMP port unreachable before the bind) just mean "not yet".
        if socket.send(&probe).is_ok() && socket.recv(&mut buf).is_ok() {
            return Ok(());
        }
        // Before the bind, send/recv fail at once (ICMP port unreachable): keep the
        // polling interval instead of spinning.
        std::thread::sleep(next_probe.saturating_duration_since(Instant::now()));
    }
    Err(StartError::Timeout)
}

enum StartError {
    Exited(std::process::ExitStatus),
    Timeout,
}

/// Builder for query messages (defaults: class IN, RD clear, no EDNS).
#[derive(Clone, Debug)]
pub struct QueryBuilder {
    name: String,
    rtype: RecordType,
    class: DNSClass,
    recursion_desired: bool,
    /// `(udp payload size, DO bit)` of the OPT record, if any.
    edns: Option<(u16, bool)>,
    /// EDNS Client Subnet `(address, source prefix length)`, if any.
    ecs: Option<(std::net::IpAddr, u8)>,
}

impl QueryBuilder {
    /// A query for `name` (made fully qualified if it lacks the final dot).
    pub fn new(name: &str, rtype: RecordType) -> Self {
        QueryBuilder {
            name: name.to_string(),
            rtype,
            class: DNSClass::IN,
            recursion_desired: false,
            edns: None,
            ecs: None,
        }
    }

    /// Sets the query class.
    pub fn class(mut self, class: DNSClass) -> Self {
        self.class = class;
        self
    }

    /// Sets or clears the RD flag.
    pub fn rd(mut self, recursion_desired: bool) -> Self {
        self.recursion_desired = recursion_desired;
        self
    }

    /// Adds an EDNS(0) OPT record advertising `payload` bytes, with the DO bit as given.
    pub fn edns(mut self, payload: u16, dnssec_ok: bool) -> Self {
        self.edns = Some((payload, dnssec_ok));
        self
    }

    /// Adds an EDNS Client Subnet option for `subnet` (`ADDR/LEN`, scope 0); adds EDNS with
    /// a 1232-byte payload if none was set.
    pub fn ecs(mut self, subnet: &str) -> Self {
        let (addr, len) = subnet.split_once('/').expect("ADDR/LEN");
        self.ecs = Some((
            addr.parse().expect("ECS address"),
            len.parse().expect("ECS prefix length"),
        ));
        self.edns.get_or_insert((1232, false));
        self
    }

    /// Builds the message (random ID).
    pub fn build(&self) -> Message {
        let mut name = Name::from_ascii(&self.name)
            .unwrap_or_else(|e| panic!("invalid query name {:?}: {e}", self.name));
        name.set_fqdn(true);
        let mut query = Query::query(name, self.rtype);
        query.set_query_class(self.class);
        let mut message = Message::query();
        message.metadata.recursion_desired = self.recursion_desired;
        message.add_query(query);
        if let Some((payload, dnssec_ok)) = self.edns {
            let mut edns = Edns::new();
            edns.set_max_payload(payload);
            edns.set_dnssec_ok(dnssec_ok);
            if let Some((addr, len)) = self.ecs {
                edns.options_mut()
                    .insert(EdnsOption::Subnet(ClientSubnet::new(addr, len, 0)));
            }
            message.set_edns(edns);
        }
        message
    }
}

/// Outcome of one conformance check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Matches the reference.
    Pass,
    /// Differs only by a documented policy choice (the reason says which).
    Policy(String),
    /// Not evaluated (the reason says why); never a failure.
    Skip(String),
    /// Differs from the reference; the text is a readable diff.
    Fail(String),
}

/// Collects conformance results, prints them as a table and fails the test on any
/// unexpected [`Outcome::Fail`].
pub struct Report {
    title: String,
    rows: Vec<(String, Outcome)>,
}

impl Report {
    /// A new, empty report.
    pub fn new(title: &str) -> Self {
        Report {
            title: title.to_string(),
            rows: Vec::new(),
        }
    }

    /// Records the outcome of the check identified by `id` (unique in the report).
    pub fn push(&mut self, id: String, outcome: Outcome) {
        self.rows.push((id, outcome));
    }

    /// Prints the table and a summary, then panics listing every failure whose id is
    /// not in `known_differences` (`(id, reason)` pairs). Known differences that now
    /// pass are reported so the list can be pruned.
    pub fn finish(self, known_differences: &[(&str, &str)]) {
        let known = |id: &str| known_differences.iter().find(|(k, _)| *k == id);
        let (mut pass, mut policy, mut skip, mut known_fail) = (0, 0, 0, 0);
        let mut failures = Vec::new();
        println!("=== {} ===", self.title);
        for (id, outcome) in &self.rows {
            let text = match outcome {
                Outcome::Pass => {
                    pass += 1;
                    "pass".to_string()
                }
                Outcome::Policy(reason) => {
                    policy += 1;
                    format!("policy: {reason}")
                }
                Outcome::Skip(reason) => {
                    skip += 1;
                    format!("skip: {reason}")
                }
                Outcome::Fail(diff) => match known(id) {
                    Some((_, reason)) => {
                        known_fail += 1;
                        format!("known difference: {reason}")
                    }
                    None => {
                        failures.push(format!("{id}\n    {}", diff.replace('\n', "\n    ")));
                        format!("FAIL: {}", diff.replace('\n', " | "))
                    }
                },
            };
            println!("{id:<60} {text}");
        }
        for (id, _) in known_differences {
            match self.rows.iter().find(|(row, _)| row == id) {
                None => println!("note: known difference {id:?} matches no check"),
                Some((_, Outcome::Fail(_))) => {}
                Some(_) => println!("note: known difference {id:?} no longer fails"),
            }
        }
        println!(
            "summary: {} checks: {pass} pass, {policy} policy, {skip} skipped, \
             {known_fail} known differences, {} FAIL",
            self.rows.len(),
            failures.len()
        );
        assert!(
            failures.is_empty(),
            "{}: {} unexpected failure(s):\n{}",
            self.title,
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Runs the `dynadns` binary with `args` in `dir` and waits for it to exit.
pub fn run_dynadns(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dynadns"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run dynadns {args:?}: {e}"))
}

/// Writes `files` (paths relative to `dir`; text or bytes), creating parent directories.
pub fn write_files<C: AsRef<[u8]>>(dir: &Path, files: &[(&str, C)]) {
    for (relative, content) in files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent dir of test file");
        }
        fs::write(&path, content).expect("write test file");
    }
}

/// A fresh directory for tests that run `dynadns` themselves; removed on drop, kept (and
/// printed) when the test panics so its files can be inspected.
pub struct TempDir(PathBuf);

impl TempDir {
    /// An empty fresh directory.
    pub fn new() -> TempDir {
        TempDir(make_temp_dir())
    }

    /// A fresh directory holding `files`.
    pub fn with(files: &[(&str, &str)]) -> TempDir {
        let d = TempDir::new();
        write_files(&d.0, files);
        d
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside the directory.
    pub fn join(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test failed: keeping {}", self.0.display());
        } else {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// A fresh, unique directory under the system temp dir.
fn make_temp_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "dynadns-test-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        match fs::create_dir(&dir) {
            Ok(()) => return dir,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("create temp dir {}: {e}", dir.display()),
        }
    }
}

/// A loopback port that is free for both TCP and UDP right now. It is released before
/// the server binds it, so a race is possible: the caller retries on bind failure.
pub fn free_loopback_port() -> SocketAddr {
    for _ in 0..100 {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind TCP 127.0.0.1:0");
        let addr = tcp.local_addr().expect("local addr");
        if UdpSocket::bind(addr).is_ok() {
            return addr;
        }
    }
    panic!("no loopback port free for both TCP and UDP");
}

/// The apex to probe for readiness: the `zone:` of the first zone file, else the root.
fn probe_name(files: &[(&str, &str)]) -> String {
    files
        .iter()
        .filter(|(path, _)| path.starts_with("zones/"))
        .flat_map(|(_, content)| content.lines())
        .find_map(|line| line.strip_prefix("zone:"))
        .map(|zone| zone.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| ".".to_string())
}

fn udp_socket(server: SocketAddr) -> Result<UdpSocket, String> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("bind UDP: {e}"))?;
    socket
        .connect(server)
        .map_err(|e| format!("connect UDP: {e}"))?;
    Ok(socket)
}

/// Receives datagrams until one starts with `id` or `wait` passes (`Ok(None)`).
fn recv_matching(socket: &UdpSocket, id: &[u8], wait: Duration) -> Result<Option<Vec<u8>>, String> {
    let deadline = Instant::now() + wait;
    let mut buf = vec![0u8; 65536];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        socket
            .set_read_timeout(Some(left))
            .map_err(|e| format!("set timeout: {e}"))?;
        match socket.recv(&mut buf) {
            Ok(n) if n >= 2 && buf[..2] == *id => return Ok(Some(buf[..n].to_vec())),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(None);
            }
            Err(e) => return Err(format!("UDP recv: {e}")),
        }
    }
}

/// One framed exchange on a new TCP connection. `Ok(None)`: timeout or connection closed
/// before a complete message arrived.
fn tcp_exchange(
    server: SocketAddr,
    packet: &[u8],
    wait: Duration,
) -> Result<Option<Vec<u8>>, String> {
    let length = u16::try_from(packet.len())
        .map_err(|_| format!("{} bytes do not fit TCP framing", packet.len()))?;
    let mut stream =
        TcpStream::connect_timeout(&server, wait).map_err(|e| format!("TCP connect: {e}"))?;
    stream
        .set_read_timeout(Some(wait))
        .map_err(|e| format!("set timeout: {e}"))?;
    stream
        .set_write_timeout(Some(wait))
        .map_err(|e| format!("set timeout: {e}"))?;
    let mut framed = length.to_be_bytes().to_vec();
    framed.extend_from_slice(packet);
    if stream.write_all(&framed).is_err() {
        // The server may close early on garbage; that is "no answer", not an error.
        return Ok(None);
    }
    let mut prefix = [0u8; 2];
    if stream.read_exact(&mut prefix).is_err() {
        return Ok(None);
    }
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    if stream.read_exact(&mut reply).is_err() {
        return Ok(None);
    }
    Ok(Some(reply))
}

/// Polls `f` every 10 ms until it returns `Some`, or fails after `within` (saying `what`).
pub fn wait_for<T>(
    what: &str,
    within: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if start.elapsed() > within {
            return Err(format!("timed out after {within:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One HTTP/1.1 request to the admin API at `addr` with `Connection: close` (std only):
/// `body` as JSON, `token` as a bearer token. Returns the status code and the body
/// (de-chunked); the caller asserts the status.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("connect admin {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let body = body.unwrap_or("");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{auth}\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {text:?}"));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line: {head:?}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (code, body)
}

/// `GET path` from the admin API at `addr`: the status code and the (de-chunked) body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(addr, "GET", path, None, None)
}

/// The payload of a `Transfer-Encoding: chunked` body.
fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The value of the Prometheus metric line that starts with `prefix` (name and labels), if any.
pub fn metric(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
