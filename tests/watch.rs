//! Watched data files: the server notices a networks or members file or the GeoIP database
//! rewritten (by atomic rename or in place) and reloads by itself, all or nothing, without losing a query.
//!
//! Every test runs the real server on loopback with its admin API, rewrites real files, and
//! reads real DNS answers (decoded with hickory-proto) and `/status` / `/metrics`. The
//! watcher's debounce is shortened with `server.watch_debounce`; every wait is bounded.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{QueryBuilder, TempDir, free_loopback_port, wait_for};
use hickory_proto::op::Message;
use hickory_proto::rr::{RData, RecordType};
use serde_json::Value;

/// Datacenter `a` answers 192.0.2.1 (from its members file), `b` 198.51.100.1.
const A: &str = "192.0.2.1";
const B: &str = "198.51.100.1";

/// The client network the networks file routes.
const CLIENT: &str = "203.0.113.0/24";

/// The start every server file here shares: zones, no state file, watcher debounce
/// `debounce` (on line 6, where `dynadns check` reports a bad one).
fn config_head(debounce: &str) -> String {
    format!(
        "\
listen:
  dns: [\"127.0.0.1:5353\"]
zones: zones/
health: {{ state_file: \"\" }}
server:
  watch_debounce: {debounce}
limits: {{ rrl: {{ rate: 0 }} }}
"
    )
}

/// Server file: geo map `m` (default a, b) with `nets.txt`, resource `www` whose pool `a`
/// comes from `a.txt`, both members always up.
fn config(debounce: &str) -> String {
    format!(
        "{}\
datacenters: {{ a: {{}}, b: {{}} }}
checks:
  up: {{ type: always_up }}
geo_maps:
  m:
    default: [a, b]
    networks_files: [nets.txt]
resources:
  www:
    ttl: 30
    check: up
    pools:
      a: {{ members_file: a.txt }}
      b: [{B}]
    route: {{ geo: m }}
",
        config_head(debounce)
    )
}

/// The zone: `www` is the resource `www`.
const ZONE: &str = common::WWW_ZONE;

/// A networks file sending [`CLIENT`] to `dc` first.
fn nets(dc: &str) -> String {
    format!("# partner networks\n{CLIENT} {dc}\n")
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A `www.example.com. A` query carrying `subnet` as EDNS client subnet (or none).
fn www_query(subnet: Option<&str>) -> Message {
    let q = QueryBuilder::new("www.example.com.", RecordType::A).edns(1232, false);
    match subnet {
        Some(s) => q.ecs(s),
        None => q,
    }
    .build()
}

fn addrs(m: &Message) -> BTreeSet<IpAddr> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            _ => None,
        })
        .collect()
}

/// Writes `text` to `path` by writing a temporary file next to it and renaming it over
/// (what geoipupdate and careful tools do).
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write temp file");
    std::fs::rename(&tmp, path).expect("rename over");
}

/// A fresh directory with the server file (debounce `debounce`), the zone, `nets.txt`
/// (CLIENT → `dc`) and `a.txt` (192.0.2.1).
fn files(debounce: &str, dc: &str) -> TempDir {
    let (config_text, nets_text, a_text) = (config(debounce), nets(dc), format!("{A}\n"));
    TempDir::with(&[
        ("dynadns.yaml", config_text.as_str()),
        ("zones/example.com.yaml", ZONE),
        ("nets.txt", nets_text.as_str()),
        ("a.txt", a_text.as_str()),
    ])
}

/// A running `dynadns serve` with its admin API. Dropping it kills the process (while
/// panicking, its log is printed first).
struct Server {
    child: Child,
    dns: SocketAddr,
    admin: SocketAddr,
    dir: TempDir,
    log: PathBuf,
}

impl Server {
    /// Starts the server on [`files`]`(debounce, dc)`.
    fn start(debounce: &str, dc: &str) -> Server {
        Server::launch(files(debounce, dc))
    }

    /// Starts the server on `dir/dynadns.yaml` (files already in place) and waits until it
    /// answers `www` queries.
    fn launch(mut dir: TempDir) -> Server {
        let log = dir.join("stderr.log");
        let mut failures = String::new();
        for attempt in 1..=3 {
            let dns = free_loopback_port();
            let admin = free_loopback_port();
            let child = Command::new(env!("CARGO_BIN_EXE_dynadns"))
                .arg("serve")
                .arg("-c")
                .arg(dir.join("dynadns.yaml"))
                .arg("--listen")
                .arg(dns.to_string())
                .arg("--admin")
                .arg(admin.to_string())
                .env("NO_COLOR", "1")
                .current_dir("/")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("create log"))
                .spawn()
                .expect("spawn dynadns serve");
            let mut server = Server {
                child,
                dns,
                admin,
                dir,
                log: log.clone(),
            };
            // "ready:" in our own log: every socket of this process is bound (another test's
            // server that picked the same port would answer queries too).
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline && matches!(server.child.try_wait(), Ok(None)) {
                if server.log_text().contains("ready:")
                    && server.try_www(None, Duration::from_millis(50)).is_ok()
                {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            failures.push_str(&format!(
                "attempt {attempt}: dns {dns} admin {admin}:\n{}\n",
                server.log_text()
            ));
            let _ = server.child.kill();
            let _ = server.child.wait();
            dir = std::mem::replace(&mut server.dir, TempDir::new());
        }
        panic!("dynadns did not start:\n{failures}");
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One `www` query (ECS `subnet` or none) over UDP; the answer's addresses.
    fn try_www(&self, subnet: Option<&str>, wait: Duration) -> Result<BTreeSet<IpAddr>, String> {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        socket.connect(self.dns).map_err(|e| e.to_string())?;
        socket
            .set_read_timeout(Some(wait))
            .map_err(|e| e.to_string())?;
        let q = www_query(subnet).to_vec().map_err(|e| e.to_string())?;
        socket.send(&q).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 4096];
        let n = socket.recv(&mut buf).map_err(|e| e.to_string())?;
        let m = Message::from_vec(&buf[..n]).map_err(|e| e.to_string())?;
        Ok(addrs(&m))
    }

    /// The `www` answer for the routed client network (two tries).
    fn routed(&self) -> BTreeSet<IpAddr> {
        self.www_for(CLIENT)
    }

    /// Waits until the routed client gets `want`; returns how long it took.
    fn wait_routed(&self, want: &str, within: Duration) -> Duration {
        let start = Instant::now();
        let want = BTreeSet::from([ip(want)]);
        wait_for(&format!("answer {want:?}"), within, || {
            (self.routed() == want).then_some(())
        })
        .unwrap_or_else(|e| panic!("{e}; last answer {:?}\n{}", self.routed(), self.log_text()));
        start.elapsed()
    }

    /// The body of `GET path` from the admin API, which must answer 200.
    fn get(&self, path: &str) -> String {
        let (code, body) = common::http_get(self.admin, path);
        assert_eq!(code, 200, "GET {path}: {body}");
        body
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.get("/status")).expect("status JSON")
    }

    /// The value of the metric line `line_start` (name and labels), 0 when absent.
    fn metric(&self, line_start: &str) -> f64 {
        common::metric(&self.get("/metrics"), line_start).unwrap_or(0.0)
    }

    fn reloads(&self, outcome: &str) -> f64 {
        self.metric(&format!(
            "dynadns_reloads_total{{trigger=\"file\",outcome=\"{outcome}\"}}"
        ))
    }

    /// Polls `f` until it returns `Some` (at most 10 s; the failure shows the log).
    fn wait_until(&self, what: &str, f: impl FnMut() -> Option<()>) {
        wait_for(what, Duration::from_secs(10), f)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.log_text()));
    }

    /// Asserts that the file-triggered reload counts `(ok, failed)` stay `want` for all of
    /// `window`, looking every 50 ms. This checks that something does *not* happen, so the
    /// whole window is deliberate: it must span several looks of the watcher (every
    /// `debounce / 2`, at least 100 ms).
    fn assert_reloads_stay(&self, want: (f64, f64), window: Duration, what: &str) {
        let until = Instant::now() + window;
        let mut looks = 0;
        loop {
            let got = (self.reloads("ok"), self.reloads("failed"));
            looks += 1;
            assert_eq!(got, want, "{what} (look #{looks})\n{}", self.log_text());
            if Instant::now() >= until {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- server log ---\n{}", self.log_text());
        }
    }
}

/// (a) A networks file replaced by atomic rename moves its clients within a few seconds;
/// `/status` names the trigger and lists the watched files; the metrics count the reload.
#[test]
fn networks_file_renamed_over_takes_effect() {
    let server = Server::start("300ms", "a");
    assert_eq!(server.routed(), BTreeSet::from([ip(A)]));
    // Clients outside the file's networks follow the default order.
    let other = server
        .try_www(Some("192.0.2.0/24"), Duration::from_secs(2))
        .unwrap();
    assert_eq!(other, BTreeSet::from([ip(A)]));

    let status = server.status();
    let sources = status["sources"].as_array().expect("sources array");
    let names: BTreeSet<String> = sources
        .iter()
        .map(|s| {
            let p = s["path"].as_str().unwrap();
            assert_eq!(s["exists"], Value::Bool(true), "{s}");
            assert!(s["modified"].as_str().unwrap().ends_with('Z'), "{s}");
            Path::new(p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["nets.txt".to_string(), "a.txt".to_string()])
    );
    assert!(status["reload"].is_null(), "no reload yet: {status}");

    replace(&server.path("nets.txt"), &nets("b"));
    let took = server.wait_routed(B, Duration::from_secs(10));
    eprintln!("networks file swap visible after {took:?}");
    // Clients the file does not name are unaffected.
    let other = server
        .try_www(Some("192.0.2.0/24"), Duration::from_secs(2))
        .unwrap();
    assert_eq!(other, BTreeSet::from([ip(A)]));

    let status = server.status();
    assert_eq!(status["reload"]["outcome"], "ok", "{status}");
    assert_eq!(
        status["reload"]["trigger"], "file change: nets.txt",
        "{status}"
    );
    let nets_status = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with("nets.txt"))
        .unwrap()
        .clone();
    assert_eq!(
        nets_status["size"].as_u64(),
        Some(nets("b").len() as u64),
        "{nets_status}"
    );
    assert_eq!(server.reloads("ok"), 1.0);
    assert_eq!(server.reloads("failed"), 0.0);
    let metrics = server.get("/metrics");
    assert!(
        metrics.lines().any(
            |l| l.starts_with("dynadns_source_modified_timestamp_seconds{path=\"")
                && l.contains("nets.txt\"}")
        ),
        "{metrics}"
    );
    assert!(
        server.log_text().contains("nets.txt changed"),
        "{}",
        server.log_text()
    );
}

/// (b) A bad line fails the reload: the old map keeps answering, `/status` names the file
/// and line, nothing is retried until the file changes again; fixing it applies the file.
#[test]
fn bad_networks_file_keeps_the_old_map_until_fixed() {
    let server = Server::start("300ms", "a");
    assert_eq!(server.routed(), BTreeSet::from([ip(A)]));

    replace(
        &server.path("nets.txt"),
        &format!("{CLIENT} b\n198.51.100.0/33 b\n"),
    );
    server.wait_until("a failed reload", || {
        (server.reloads("failed") >= 1.0).then_some(())
    });
    assert_eq!(
        server.routed(),
        BTreeSet::from([ip(A)]),
        "the old map serves"
    );
    let status = server.status();
    let reload = &status["reload"];
    assert_eq!(reload["outcome"], "failed", "{status}");
    assert_eq!(reload["trigger"], "file change: nets.txt", "{status}");
    let errors = reload["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("nets.txt:2:")),
        "an error at nets.txt line 2: {errors:?}"
    );
    // No retry every poll: the counts stay while the file does not change (1.5 s is about
    // ten looks of the watcher at a 300 ms debounce).
    server.assert_reloads_stay(
        (0.0, 1.0),
        Duration::from_millis(1500),
        "a failed reload retried while the file did not change",
    );

    replace(&server.path("nets.txt"), &nets("b"));
    server.wait_routed(B, Duration::from_secs(10));
    assert_eq!(server.status()["reload"]["outcome"], "ok");
    assert_eq!(server.reloads("ok"), 1.0);
}

/// (c) No query is lost across a swap: a client sends queries one after another while the
/// file is replaced, and every one is answered (each within 2 s).
#[test]
fn no_query_lost_across_a_swap() {
    const N: u64 = 2000;
    let server = Arc::new(Server::start("300ms", "a"));
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (server, sent, stop) = (server.clone(), sent.clone(), stop.clone());
        std::thread::spawn(move || {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.connect(server.dns).unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let mut buf = [0u8; 4096];
            let (mut answered, mut lost, mut a, mut b) = (0u64, Vec::new(), 0u64, 0u64);
            let mut first_b = None;
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut i: u16 = 0;
            while (answered < N || b < 500) && !stop.load(Ordering::Relaxed) {
                assert!(Instant::now() < deadline, "client ran out of time");
                i = i.wrapping_add(1);
                let mut q = www_query(Some(CLIENT));
                q.metadata.id = i;
                socket.send(&q.to_vec().unwrap()).unwrap();
                sent.fetch_add(1, Ordering::Relaxed);
                // Skip stale replies (none expected) until ours or the timeout.
                loop {
                    match socket.recv(&mut buf) {
                        Ok(n) => {
                            let m = Message::from_vec(&buf[..n]).unwrap();
                            if m.metadata.id != i {
                                continue;
                            }
                            answered += 1;
                            let got = addrs(&m);
                            if got == BTreeSet::from([ip(A)]) {
                                assert_eq!(b, 0, "an old answer after a new one");
                                a += 1;
                            } else if got == BTreeSet::from([ip(B)]) {
                                if first_b.is_none() {
                                    first_b = Some(Instant::now());
                                }
                                b += 1;
                            } else {
                                panic!("unexpected answer {got:?}");
                            }
                        }
                        Err(e) => lost.push((i, e.kind(), Instant::now())),
                    }
                    break;
                }
            }
            (answered, lost, a, b, first_b)
        })
    };
    // Swap once the client is well under way.
    server.wait_until("client started", || {
        (sent.load(Ordering::Relaxed) >= 200).then_some(())
    });
    let swapped = Instant::now();
    replace(&server.path("nets.txt"), &nets("b"));
    let (answered, lost, a, b, first_b) = client.join().expect("client thread");
    stop.store(true, Ordering::Relaxed);
    let latency = first_b.map(|t| t.duration_since(swapped));
    eprintln!(
        "{answered} queries answered ({a} before the swap, {b} after), {} lost; \
         new answers {latency:?} after the rename",
        lost.len()
    );
    let lost: Vec<_> = lost
        .iter()
        .map(|(id, kind, at)| {
            let after = at.checked_duration_since(swapped);
            format!("id {id} ({kind:?}) {after:?} after the swap")
        })
        .collect();
    assert!(
        lost.is_empty(),
        "unanswered queries: {lost:?}\n{}",
        server.log_text()
    );
    assert!(answered >= N && a >= 200 && b >= 500, "a {a} b {b}");
}

/// (d) A file written in place in two halves, with a pause shorter than the debounce, is
/// read only complete: no failed reload, and the final content applies.
#[test]
fn file_written_in_place_is_read_only_complete() {
    let server = Server::start("1s", "a");
    assert_eq!(server.routed(), BTreeSet::from([ip(A)]));
    let full = format!("# partner networks, rewritten in place\n{CLIENT} b\n");
    // The first half ends mid-address: read alone, it is an error.
    let (first, second) = full.split_at(full.len() - 8);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(server.path("nets.txt"))
        .unwrap();
    f.write_all(first.as_bytes()).unwrap();
    f.sync_data().unwrap();
    // A deliberate pause, part of what is tested: the watcher (looking every 500 ms at a 1 s
    // debounce) may see the half file, but the pause is shorter than the debounce.
    std::thread::sleep(Duration::from_millis(400));
    f.write_all(second.as_bytes()).unwrap();
    drop(f);
    server.wait_routed(B, Duration::from_secs(10));
    assert_eq!(server.reloads("failed"), 0.0, "{}", server.log_text());
    assert_eq!(server.reloads("ok"), 1.0, "{}", server.log_text());
}

/// (e) A members file is watched too: a new address in it is answered.
#[test]
fn members_file_change_takes_effect() {
    let server = Server::start("300ms", "a");
    let default = || {
        server
            .try_www(None, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("{e}\n{}", server.log_text()))
    };
    assert_eq!(default(), BTreeSet::from([ip(A)]));
    replace(&server.path("a.txt"), "192.0.2.2\n");
    let want = BTreeSet::from([ip("192.0.2.2")]);
    server.wait_until("the new member", || (default() == want).then_some(()));
    assert_eq!(server.status()["reload"]["trigger"], "file change: a.txt");
}

/// After a reload that drops a file from the configuration, the file is no longer watched;
/// SIGHUP reloads say so in `trigger`.
#[test]
fn sighup_reload_replaces_the_watch_list() {
    let server = Server::start("300ms", "a");
    let text = config("300ms").replace("    networks_files: [nets.txt]\n", "");
    std::fs::write(server.path("dynadns.yaml"), text).unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    server.wait_until("the SIGHUP reload", || {
        (server.status()["reload"]["trigger"] == "signal").then_some(())
    });
    let status = server.status();
    assert_eq!(status["reload"]["outcome"], "ok", "{status}");
    let sources = status["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{status}");
    assert!(sources[0]["path"].as_str().unwrap().ends_with("a.txt"));
    assert_eq!(
        server.metric("dynadns_reloads_total{trigger=\"signal\",outcome=\"ok\"}"),
        1.0
    );
    // nets.txt changing now triggers nothing. Rather than waiting a while for nothing, a
    // watched file changed right after it is the barrier: a watcher still looking at
    // nets.txt would name it in this reload's trigger (both changed within one debounce)
    // or have reloaded for it first.
    assert_eq!(server.reloads("ok") + server.reloads("failed"), 0.0);
    replace(&server.path("nets.txt"), &nets("b"));
    replace(&server.path("a.txt"), "192.0.2.2\n");
    server.wait_until("the reload for a.txt", || {
        (server.reloads("ok") + server.reloads("failed") > 0.0).then_some(())
    });
    let status = server.status();
    assert_eq!(
        status["reload"]["trigger"], "file change: a.txt",
        "{status}"
    );
    assert_eq!(status["reload"]["outcome"], "ok", "{status}");
    assert_eq!((server.reloads("ok"), server.reloads("failed")), (1.0, 0.0));
}

/// `server.watch_debounce` is a duration up to an hour; `dynadns check` says so at the key.
#[test]
fn watch_debounce_is_checked() {
    let ok = files("0s", "a");
    let out = common::run_dynadns(ok.path(), &["check", "-c", "dynadns.yaml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (value, needle) in [("2h", "out of range"), ("soon", "watch_debounce 'soon'")] {
        std::fs::write(ok.join("dynadns.yaml"), config(value)).unwrap();
        let out = common::run_dynadns(ok.path(), &["check", "-c", "dynadns.yaml"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{value}: {text}");
        assert!(
            text.contains("dynadns.yaml:6:") && text.contains(needle),
            "{value}: {text}"
        );
    }
}

/// Datacenter `c`'s address (the geo map's default in the GeoIP test below).
const C: &str = "192.0.2.3";

/// Server file for the GeoIP swap test: database `geo.mmdb`, geo map `g` sending GB to `a`,
/// SE to `b`, everyone else to `c`.
fn geoip_config(debounce: &str) -> String {
    format!(
        "{}\
geoip: {{ database: geo.mmdb }}
datacenters: {{ a: {{}}, b: {{}}, c: {{}} }}
checks:
  up: {{ type: always_up }}
geo_maps:
  g:
    default: [c]
    countries: {{ GB: [a], SE: [b] }}
resources:
  www:
    ttl: 30
    check: up
    pools:
      a: [{A}]
      b: [{B}]
      c: [{C}]
    route: {{ geo: g }}
",
        config_head(debounce)
    )
}

/// Copies `src` to `dest` by copying it next to `dest` as `NAME.tmp` and renaming that over.
fn rename_over(dest: &Path, src: &Path) {
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::copy(src, &tmp).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
    std::fs::rename(&tmp, dest).expect("rename over");
}

/// A GeoIP database as `/status` and `/metrics` should describe it.
struct ExpectedDb {
    database_type: String,
    build_epoch: u64,
    networks: Option<u64>,
}

impl ExpectedDb {
    fn of(path: &Path, networks: Option<u64>) -> ExpectedDb {
        let reader = maxminddb::Reader::open_readfile(path)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let m = reader.metadata();
        ExpectedDb {
            database_type: m.database_type.clone(),
            build_epoch: m.build_epoch,
            networks,
        }
    }
}

impl Server {
    /// The `www` answer for a client in `subnet` (ECS; two tries).
    fn www_for(&self, subnet: &str) -> BTreeSet<IpAddr> {
        self.try_www(Some(subnet), Duration::from_secs(2))
            .or_else(|_| self.try_www(Some(subnet), Duration::from_secs(2)))
            .unwrap_or_else(|e| panic!("query for {subnet} failed: {e}\n{}", self.log_text()))
    }

    /// Asserts `/status` `geo.database` and the GeoIP metrics describe `want` (and, when
    /// `want.networks` is unset, that the database has some); returns its `networks`.
    fn assert_geoip(&self, want: &ExpectedDb) -> u64 {
        let status = self.status();
        let db = &status["geo"]["database"];
        let path = db["path"].as_str().unwrap_or_else(|| panic!("{status}"));
        assert!(path.ends_with("/geo.mmdb"), "{status}");
        assert_eq!(db["database_type"], want.database_type.as_str(), "{status}");
        assert_eq!(
            db["build_epoch"].as_u64(),
            Some(want.build_epoch),
            "{status}"
        );
        let networks = db["networks"]
            .as_u64()
            .unwrap_or_else(|| panic!("{status}"));
        match want.networks {
            Some(n) => assert_eq!(networks, n, "{status}"),
            None => assert!(networks > 0, "{status}"),
        }
        assert!(db["places"].as_u64().unwrap_or(0) > 0, "{status}");
        let metrics = self.get("/metrics");
        let build: Vec<&str> = metrics
            .lines()
            .filter(|l| l.starts_with("dynadns_geoip_build_timestamp_seconds{"))
            .collect();
        assert_eq!(
            build,
            [format!(
                "dynadns_geoip_build_timestamp_seconds{{path=\"{path}\",type=\"{}\"}} {}",
                want.database_type, want.build_epoch
            )],
            "{metrics}"
        );
        let count: Vec<&str> = metrics
            .lines()
            .filter(|l| l.starts_with("dynadns_geoip_networks{"))
            .collect();
        assert_eq!(
            count,
            [format!(
                "dynadns_geoip_networks{{path=\"{path}\"}} {networks}"
            )],
            "{metrics}"
        );
        networks
    }
}

/// (f) The GeoIP database is a watched file: a new one renamed over is loaded (routing,
/// `/status` and metrics follow it); a corrupt one renamed over fails the reload and the
/// previous database keeps serving; the good one renamed back applies again.
#[test]
fn geoip_database_replaced_by_rename_is_swapped_and_a_broken_one_is_refused() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("geoip/demo-city.mmdb");
    let Some(city) = common::shared_path("geoip/GeoIP2-City-Test.mmdb", "GeoIP City test database")
    else {
        return;
    };
    let Some(broken) = common::shared_path(
        "geoip/MaxMind-DB-test-broken-search-tree-24.mmdb",
        "broken GeoIP test database",
    ) else {
        return;
    };
    // Clients: SE and GB in the City test database; GB in the demo database only.
    const SE_CLIENT: &str = "89.160.20.128/25";
    const GB_CLIENT: &str = "81.2.69.160/27";
    const DEMO_GB: &str = "198.51.100.0/24";
    let (a, b, c) = (
        BTreeSet::from([ip(A)]),
        BTreeSet::from([ip(B)]),
        BTreeSet::from([ip(C)]),
    );

    let demo_networks = {
        let json: Value = serde_json::from_str(
            &std::fs::read_to_string(demo.with_extension("json")).expect("demo-city.json"),
        )
        .expect("demo-city.json is JSON");
        json["networks"].as_array().expect("networks").len() as u64
    };
    let demo_db = ExpectedDb::of(&demo, Some(demo_networks));
    assert_eq!(demo_db.build_epoch, 1796083200);
    assert_eq!(demo_db.database_type, "DynaDNS-Demo-City");

    let cfg = geoip_config("300ms");
    let dir = TempDir::with(&[
        ("dynadns.yaml", cfg.as_str()),
        ("zones/example.com.yaml", ZONE),
    ]);
    std::fs::copy(&demo, dir.join("geo.mmdb")).expect("copy the demo database");
    let server = Server::launch(dir);
    let db = server.path("geo.mmdb");

    // 1. The demo database: GB (198.51.100.0/24) to a; the City test networks are unknown.
    server.assert_geoip(&demo_db);
    assert_eq!(server.www_for(DEMO_GB), a);
    assert_eq!(server.www_for(SE_CLIENT), c);
    assert_eq!(server.www_for(GB_CLIENT), c);
    assert!(server.status()["reload"].is_null());

    // 2. The City test database renamed over: SE to b, GB to a, the demo's networks unknown.
    let city_db = ExpectedDb::of(&city, None);
    assert_ne!(city_db.build_epoch, demo_db.build_epoch);
    let started = Instant::now();
    rename_over(&db, &city);
    server.wait_until("the SE client routed to b", || {
        (server.www_for(SE_CLIENT) == b).then_some(())
    });
    eprintln!("new GeoIP database serving after {:?}", started.elapsed());
    let city_networks = server.assert_geoip(&city_db);
    assert!(
        city_networks > demo_networks,
        "{city_networks} networks in the City test database"
    );
    let city_db = ExpectedDb {
        networks: Some(city_networks),
        ..city_db
    };
    assert_eq!(server.www_for(GB_CLIENT), a);
    assert_eq!(server.www_for(DEMO_GB), c);
    let status = server.status();
    assert_eq!(status["reload"]["outcome"], "ok", "{status}");
    assert_eq!(
        status["reload"]["trigger"], "file change: geo.mmdb",
        "{status}"
    );
    assert_eq!((server.reloads("ok"), server.reloads("failed")), (1.0, 0.0));

    // 3. A corrupt database renamed over: the reload fails naming the file; the City test
    // database keeps serving.
    let started = Instant::now();
    rename_over(&db, &broken);
    server.wait_until("a failed reload", || {
        (server.reloads("failed") >= 1.0).then_some(())
    });
    eprintln!(
        "broken GeoIP database refused after {:?}",
        started.elapsed()
    );
    let status = server.status();
    let reload = &status["reload"];
    assert_eq!(reload["outcome"], "failed", "{status}");
    assert_eq!(reload["trigger"], "file change: geo.mmdb", "{status}");
    let errors = reload["errors"].as_array().expect("errors");
    assert!(
        !errors.is_empty()
            && errors
                .iter()
                .all(|e| e.as_str().is_some_and(|e| e.contains("geo.mmdb"))),
        "errors naming geo.mmdb: {errors:?}"
    );
    assert_eq!(server.www_for(SE_CLIENT), b, "the previous database serves");
    assert_eq!(server.www_for(GB_CLIENT), a, "the previous database serves");
    assert_eq!(server.www_for(DEMO_GB), c, "the previous database serves");
    server.assert_geoip(&city_db);
    assert_eq!((server.reloads("ok"), server.reloads("failed")), (1.0, 1.0));

    // 4. The demo database renamed back: routing, status and metrics return to it.
    let started = Instant::now();
    rename_over(&db, &demo);
    server.wait_until("the SE client routed to c", || {
        (server.www_for(SE_CLIENT) == c).then_some(())
    });
    eprintln!(
        "demo GeoIP database serving again after {:?}",
        started.elapsed()
    );
    assert_eq!(server.www_for(DEMO_GB), a);
    assert_eq!(server.www_for(GB_CLIENT), c);
    server.assert_geoip(&demo_db);
    let status = server.status();
    assert_eq!(status["reload"]["outcome"], "ok", "{status}");
    assert_eq!(
        status["reload"]["trigger"], "file change: geo.mmdb",
        "{status}"
    );
    assert_eq!((server.reloads("ok"), server.reloads("failed")), (2.0, 1.0));
}
