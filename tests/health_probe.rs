//! Health probes against real listeners on loopback: TCP, HTTP and HTTPS targets that answer,
//! refuse, reset, stall, stream forever or redirect. Each test is bounded in time; nothing
//! leaves 127.0.0.0/8 or ::1 (host names are under `.invalid` and pinned to loopback).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dynadns::gslb::{Check, CheckKind, HttpCheck};
use dynadns::health::probe::{ProbeOutcome, Prober};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const NAME: &str = "health.dynadns.invalid";

/// Every test body runs under this limit, so a regression shows as a failure, not a hang.
async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test took longer than 20 s")
}

/// The check types, for building a [`Check`] with [`check`].
#[derive(Clone, Copy)]
enum T {
    Tcp,
    Http,
    Https,
    AlwaysUp,
    AlwaysDown,
}

fn check(kind: T, port: u16) -> Check {
    let http = HttpCheck {
        port,
        path: "/healthz".into(),
        host: None,
        expect_status: vec![200],
        expect_body: None,
    };
    Check {
        name: "t".into(),
        kind: match kind {
            T::Tcp => CheckKind::Tcp { port },
            T::Http => CheckKind::Http(http),
            T::Https => CheckKind::Https {
                http,
                insecure: false,
                ca_file: None,
            },
            T::AlwaysUp => CheckKind::AlwaysUp,
            T::AlwaysDown => CheckKind::AlwaysDown,
        },
        interval: Duration::from_secs(1),
        timeout: Duration::from_millis(500),
        down: (3, 5),
        up: (5, 5),
    }
}

/// The HTTP settings of an http/https check.
fn h(c: &mut Check) -> &mut HttpCheck {
    match &mut c.kind {
        CheckKind::Http(h) | CheckKind::Https { http: h, .. } => h,
        _ => panic!("not an HTTP check"),
    }
}

/// Sets `insecure` on an https check (an http check has none).
fn set_insecure(c: &mut Check) {
    if let CheckKind::Https { insecure, .. } = &mut c.kind {
        *insecure = true;
    }
}

/// Sets `ca_file` on an https check.
fn set_ca_file(c: &mut Check, path: std::path::PathBuf) {
    match &mut c.kind {
        CheckKind::Https { ca_file, .. } => *ca_file = Some(path),
        _ => panic!("not an HTTPS check"),
    }
}

fn prober(c: &Check) -> Prober {
    Prober::new(c).expect("prober")
}

/// What the test server does with each connection.
#[derive(Clone)]
enum Mode {
    /// Reads the request head, writes these bytes, closes.
    Reply(Vec<u8>),
    /// Reads the request and never answers (the client gives up).
    Hang,
    /// Closes at once with RST (SO_LINGER 0), before reading anything.
    Reset,
    /// Closes at once normally (FIN), before reading anything.
    Close,
    /// Answers 200 with an unbounded body until the client goes away.
    Endless,
    /// Answers 200 with a Content-Length it never fulfils.
    SlowBody,
    /// Serves every request on the first connection with keep-alive, then never accepts again
    /// (a dead accept path behind a live old connection).
    KeepAliveOnce,
}

/// What the server saw.
#[derive(Default)]
struct Seen {
    accepted: AtomicUsize,
    heads: Mutex<Vec<String>>,
    sni: Mutex<Vec<Option<String>>>,
}

impl Seen {
    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
    fn last_head(&self) -> String {
        self.heads
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }
}

fn reply(status: &str, body: &str) -> Mode {
    Mode::Reply(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// Reads one request head (up to the blank line), at most 16 KiB.
async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Option<String> {
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut b).await.ok()?;
        if n == 0 || buf.len() > 16 * 1024 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Serves one connection (plain or TLS) according to `mode`.
async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, mode: Mode, seen: Arc<Seen>) {
    match mode {
        Mode::Reset | Mode::Close => {}
        Mode::Hang => {
            let mut b = [0u8; 1024];
            // Until the client gives up and closes.
            while matches!(s.read(&mut b).await, Ok(n) if n > 0) {}
        }
        Mode::Reply(bytes) => {
            if let Some(h) = read_head(&mut s).await {
                seen.heads.lock().unwrap().push(h);
                let _ = s.write_all(&bytes).await;
                let _ = s.shutdown().await;
            }
        }
        Mode::Endless => {
            if let Some(h) = read_head(&mut s).await {
                seen.heads.lock().unwrap().push(h);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await;
                let chunk = vec![b'x'; 8192];
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline && s.write_all(&chunk).await.is_ok() {}
            }
        }
        Mode::SlowBody => {
            if read_head(&mut s).await.is_some() {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nxx")
                    .await;
                let mut b = [0u8; 64];
                while matches!(s.read(&mut b).await, Ok(n) if n > 0) {}
            }
        }
        Mode::KeepAliveOnce => {
            while let Some(h) = read_head(&mut s).await {
                seen.heads.lock().unwrap().push(h);
                let ok =
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nOK";
                if s.write_all(ok).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// A plain TCP/HTTP server on `ip`, port chosen by the kernel.
async fn server_on(ip: IpAddr, mode: Mode) -> (u16, Arc<Seen>) {
    let l = TcpListener::bind((ip, 0)).await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Seen::default());
    tokio::spawn(run_server(l, mode, seen.clone(), None));
    (port, seen)
}

async fn server(mode: Mode) -> (u16, Arc<Seen>) {
    server_on(LOCAL, mode).await
}

async fn run_server(
    l: TcpListener,
    mode: Mode,
    seen: Arc<Seen>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let Ok((s, _)) = l.accept().await else { return };
        seen.accepted.fetch_add(1, Ordering::SeqCst);
        let (mode, seen) = (mode.clone(), seen.clone());
        if matches!(mode, Mode::Reset) {
            let _ = s.set_zero_linger();
        }
        let tls = tls.clone();
        let once = matches!(mode, Mode::KeepAliveOnce);
        let task = tokio::spawn(async move {
            match tls {
                // Hang on TLS means: never even start the handshake.
                Some(_) if matches!(mode, Mode::Hang) => serve_conn(s, mode, seen).await,
                Some(acc) => {
                    if let Ok(t) = acc.accept(s).await {
                        let sni = t.get_ref().1.server_name().map(str::to_string);
                        seen.sni.lock().unwrap().push(sni);
                        serve_conn(t, mode, seen).await;
                    }
                }
                None => serve_conn(s, mode, seen).await,
            }
        });
        if once {
            // Keep serving the first connection, but never accept another.
            let _ = task.await;
            std::future::pending::<()>().await;
        }
    }
}

/// A port nothing listens on (bound then released).
async fn closed_port() -> u16 {
    let l = TcpListener::bind((LOCAL, 0)).await.expect("bind");
    l.local_addr().expect("addr").port()
}

// ---------------------------------------------------------------- TCP

#[tokio::test]
async fn tcp_accepting_port_is_ok() {
    bounded(async {
        let (port, seen) = server(Mode::Hang).await;
        let r = prober(&check(T::Tcp, port)).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Ok);
        assert!(r.latency < Duration::from_millis(500));
        // The connection was made (the server may see it a moment later).
        while seen.accepted() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

#[tokio::test]
async fn tcp_closed_port_is_refused() {
    bounded(async {
        let port = closed_port().await;
        let r = prober(&check(T::Tcp, port)).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Refused);
        assert_eq!(r.outcome.describe(), "connection refused");
    })
    .await;
}

#[tokio::test]
async fn tcp_connect_that_never_completes_is_a_timeout() {
    bounded(async {
        // A listener with backlog 0 that never accepts: once its accept queue is full, Linux
        // drops further SYNs, so connect() hangs on loopback.
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        sock.bind(&SocketAddr::new(LOCAL, 0).into()).expect("bind");
        sock.listen(0).expect("listen");
        let port = sock
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .expect("addr")
            .port();
        let mut held = Vec::new();
        let mut full = false;
        for _ in 0..16 {
            match tokio::time::timeout(
                Duration::from_millis(200),
                TcpStream::connect((LOCAL, port)),
            )
            .await
            {
                Ok(Ok(s)) => held.push(s),
                Ok(Err(e)) => panic!("filling the backlog: {e}"),
                Err(_) => {
                    full = true;
                    break;
                }
            }
        }
        if !full {
            eprintln!("SKIP: could not fill a loopback accept queue; connect() never hung");
            return;
        }
        let mut c = check(T::Tcp, port);
        c.timeout = Duration::from_millis(300);
        let r = prober(&c).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Timeout);
        assert!(r.latency >= Duration::from_millis(300) && r.latency < Duration::from_secs(1));
        drop(held);
    })
    .await;
}

// ---------------------------------------------------------------- HTTP

#[tokio::test]
async fn http_200_ok_with_host_and_user_agent() {
    bounded(async {
        let (port, seen) = server(reply("200 OK", "all OK")).await;
        let mut c = check(T::Http, port);
        h(&mut c).host = Some(NAME.into());
        h(&mut c).expect_body = Some("OK".into());
        let r = prober(&c).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Ok, "{}", r.outcome.describe());
        let head = seen.last_head();
        assert!(head.starts_with("get /healthz http/1.1\r\n"), "{head}");
        assert!(head.contains(&format!("\r\nhost: {NAME}\r\n")), "{head}");
        let ua = format!("\r\nuser-agent: dynadns/{}\r\n", env!("CARGO_PKG_VERSION"));
        assert!(head.contains(&ua), "{head}");
    })
    .await;
}

#[tokio::test]
async fn http_without_host_uses_the_address() {
    bounded(async {
        let (port, seen) = server(reply("200 OK", "OK")).await;
        let r = prober(&check(T::Http, port)).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Ok);
        assert!(
            seen.last_head()
                .contains(&format!("\r\nhost: 127.0.0.1:{port}\r\n"))
        );
    })
    .await;
}

#[tokio::test]
async fn http_500_is_a_status_failure() {
    bounded(async {
        let (port, _) = server(reply("500 Internal Server Error", "boom")).await;
        let r = prober(&check(T::Http, port)).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::HttpStatus(500));
        assert_eq!(r.outcome.label(), "http_5xx");
        assert_eq!(r.outcome.describe(), "HTTP 500");
    })
    .await;
}

#[tokio::test]
async fn http_expect_status_list() {
    bounded(async {
        let (port, _) = server(reply("204 No Content", "")).await;
        let mut c = check(T::Http, port);
        assert_eq!(
            prober(&c).probe(LOCAL).await.outcome,
            ProbeOutcome::HttpStatus(204)
        );
        h(&mut c).expect_status = vec![200, 204];
        assert_eq!(prober(&c).probe(LOCAL).await.outcome, ProbeOutcome::Ok);
    })
    .await;
}

#[tokio::test]
async fn http_wrong_body_is_a_mismatch() {
    bounded(async {
        let (port, _) = server(reply("200 OK", "status: degraded")).await;
        let mut c = check(T::Http, port);
        h(&mut c).expect_body = Some("OK".into());
        let r = prober(&c).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::BodyMismatch("OK".into()));
        assert!(
            r.outcome
                .describe()
                .starts_with("body does not contain \"OK\"")
        );
    })
    .await;
}

#[tokio::test]
async fn http_slow_response_is_a_timeout() {
    bounded(async {
        let (port, _) = server(Mode::Hang).await;
        let mut c = check(T::Http, port);
        c.timeout = Duration::from_millis(300);
        let r = prober(&c).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Timeout);
        assert!(r.latency >= Duration::from_millis(300) && r.latency < Duration::from_secs(1));
    })
    .await;
}

#[tokio::test]
async fn http_slow_body_is_body_too_slow() {
    bounded(async {
        let (port, _) = server(Mode::SlowBody).await;
        let mut c = check(T::Http, port);
        c.timeout = Duration::from_millis(300);
        h(&mut c).expect_body = Some("OK".into());
        let r = prober(&c).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::BodyTooSlow);
        assert!(r.latency < Duration::from_secs(1));
        // Without expect_body the body is not read: the status decides.
        h(&mut c).expect_body = None;
        assert_eq!(prober(&c).probe(LOCAL).await.outcome, ProbeOutcome::Ok);
    })
    .await;
}

#[tokio::test]
async fn http_endless_body_stops_at_the_limit() {
    bounded(async {
        let (port, _) = server(Mode::Endless).await;
        let mut c = check(T::Http, port);
        c.timeout = Duration::from_secs(2);
        h(&mut c).expect_body = Some("NEVER".into());
        let r = prober(&c).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::BodyMismatch("NEVER".into()));
        // 64 KiB on loopback: far less than the timeout.
        assert!(r.latency < Duration::from_secs(1), "{:?}", r.latency);
        h(&mut c).expect_body = Some("xxxx".into());
        assert_eq!(prober(&c).probe(LOCAL).await.outcome, ProbeOutcome::Ok);
        h(&mut c).expect_body = None;
        assert_eq!(prober(&c).probe(LOCAL).await.outcome, ProbeOutcome::Ok);
    })
    .await;
}

#[tokio::test]
async fn http_reset_and_close_are_never_ok() {
    bounded(async {
        for mode in [Mode::Reset, Mode::Close] {
            let (port, _) = server(mode).await;
            let r = prober(&check(T::Http, port)).probe(LOCAL).await;
            assert_eq!(r.outcome, ProbeOutcome::Reset, "{}", r.outcome.describe());
            assert_eq!(r.outcome.label(), "reset");
        }
    })
    .await;
}

#[tokio::test]
async fn http_fresh_connection_per_probe() {
    bounded(async {
        let (port, seen) = server(reply("200 OK", "OK")).await;
        let p = prober(&check(T::Http, port));
        for _ in 0..3 {
            assert_eq!(p.probe(LOCAL).await.outcome, ProbeOutcome::Ok);
        }
        assert_eq!(seen.accepted(), 3);
        let head = seen.last_head();
        assert!(head.contains("\r\nconnection: close\r\n"), "{head}");
    })
    .await;
}

#[tokio::test]
async fn http_dead_accept_path_is_seen() {
    bounded(async {
        // The server keeps its first connection alive and answering, but accepts no more.
        let (port, seen) = server(Mode::KeepAliveOnce).await;
        let mut c = check(T::Http, port);
        c.timeout = Duration::from_millis(300);
        let p = prober(&c);
        assert_eq!(p.probe(LOCAL).await.outcome, ProbeOutcome::Ok);
        let r = p.probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Timeout, "{}", r.outcome.describe());
        assert_eq!(seen.accepted(), 1);
    })
    .await;
}

#[tokio::test]
async fn http_redirect_is_not_followed() {
    bounded(async {
        let l = TcpListener::bind((LOCAL, 0)).await.expect("bind");
        let port = l.local_addr().expect("addr").port();
        let seen = Arc::new(Seen::default());
        let location = format!(
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/elsewhere\r\nContent-Length: 0\r\n\r\n"
        );
        tokio::spawn(run_server(
            l,
            Mode::Reply(location.into_bytes()),
            seen.clone(),
            None,
        ));
        let mut c = check(T::Http, port);
        let r = prober(&c).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::HttpStatus(302));
        assert_eq!(r.outcome.label(), "http_3xx");
        assert_eq!(seen.accepted(), 1);
        h(&mut c).expect_status = vec![200, 302];
        assert_eq!(prober(&c).probe(LOCAL).await.outcome, ProbeOutcome::Ok);
        assert_eq!(seen.accepted(), 2);
        assert!(seen.last_head().starts_with("get /healthz "));
    })
    .await;
}

#[tokio::test]
async fn http_closed_port_is_refused() {
    bounded(async {
        let port = closed_port().await;
        let r = prober(&check(T::Http, port)).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Refused, "{}", r.outcome.describe());
    })
    .await;
}

#[tokio::test]
async fn ipv6_target_is_probed_over_ipv6() {
    bounded(async {
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        if TcpListener::bind((v6, 0)).await.is_err() {
            eprintln!("SKIP: ::1 is not available here");
            return;
        }
        let (port, seen) = server_on(v6, reply("200 OK", "OK")).await;
        // Without host: the URL is http://[::1]:port/.
        let r = prober(&check(T::Http, port)).probe(v6).await;
        assert_eq!(r.outcome, ProbeOutcome::Ok, "{}", r.outcome.describe());
        // With a host name: resolve() pins the name to ::1.
        let mut c = check(T::Http, port);
        h(&mut c).host = Some(NAME.into());
        let r = prober(&c).probe(v6).await;
        assert_eq!(r.outcome, ProbeOutcome::Ok, "{}", r.outcome.describe());
        // The server listens only on ::1, so both connections went over IPv6.
        assert_eq!(seen.accepted(), 2);
    })
    .await;
}

// ---------------------------------------------------------------- HTTPS

struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
    ca_file: std::path::PathBuf,
}

impl Drop for Tls {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

/// A CA and a server certificate for [`NAME`] it signed, made now; the CA's PEM in a file.
fn tls_setup(tag: &str) -> Tls {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "dynadns test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec![NAME.to_string()])
        .expect("params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf");

    let ca_file = std::env::temp_dir().join(format!(
        "dynadns-probe-test-{}-{tag}.pem",
        std::process::id()
    ));
    std::fs::write(&ca_file, ca_cert.pem()).expect("write ca");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .expect("server config");
    Tls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        ca_file,
    }
}

async fn tls_server(tls: &Tls, mode: Mode) -> (u16, Arc<Seen>) {
    let l = TcpListener::bind((LOCAL, 0)).await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Seen::default());
    tokio::spawn(run_server(
        l,
        mode,
        seen.clone(),
        Some(tls.acceptor.clone()),
    ));
    (port, seen)
}

#[tokio::test]
async fn https_untrusted_certificate_fails() {
    bounded(async {
        let tls = tls_setup("untrusted");
        let (port, _) = tls_server(&tls, reply("200 OK", "OK")).await;
        let mut c = check(T::Https, port);
        h(&mut c).host = Some(NAME.into());
        let r = prober(&c).probe(LOCAL).await;
        assert!(
            matches!(r.outcome, ProbeOutcome::TlsError(_)),
            "{:?}",
            r.outcome
        );
        assert_eq!(r.outcome.label(), "tls_error");
        assert!(r.outcome.describe().starts_with("TLS handshake failed: "));
    })
    .await;
}

#[tokio::test]
async fn https_with_ca_file_succeeds_and_sends_sni_and_host() {
    bounded(async {
        let tls = tls_setup("ca");
        let (port, seen) = tls_server(&tls, reply("200 OK", "OK")).await;
        let mut c = check(T::Https, port);
        h(&mut c).host = Some(NAME.into());
        set_ca_file(&mut c, tls.ca_file.clone());
        h(&mut c).expect_body = Some("OK".into());
        let r = prober(&c).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Ok, "{}", r.outcome.describe());
        assert_eq!(*seen.sni.lock().unwrap(), vec![Some(NAME.to_string())]);
        assert!(seen.last_head().contains(&format!("\r\nhost: {NAME}\r\n")));
        // A name the certificate does not cover fails even with the CA trusted.
        h(&mut c).host = Some("other.dynadns.invalid".into());
        let r = prober(&c).probe(LOCAL).await;
        assert!(
            matches!(r.outcome, ProbeOutcome::TlsError(_)),
            "{:?}",
            r.outcome
        );
    })
    .await;
}

#[tokio::test]
async fn https_insecure_accepts_any_certificate() {
    bounded(async {
        let tls = tls_setup("insecure");
        let (port, _) = tls_server(&tls, reply("200 OK", "OK")).await;
        let mut c = check(T::Https, port);
        set_insecure(&mut c);
        // No host: the URL names 127.0.0.1, which the certificate does not cover either.
        let r = prober(&c).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Ok, "{}", r.outcome.describe());
    })
    .await;
}

#[tokio::test]
async fn https_stalled_handshake_is_a_timeout() {
    bounded(async {
        let tls = tls_setup("stall");
        let (port, _) = tls_server(&tls, Mode::Hang).await;
        let mut c = check(T::Https, port);
        set_insecure(&mut c);
        c.timeout = Duration::from_millis(300);
        let r = prober(&c).probe(LOCAL).await;
        assert_eq!(r.outcome, ProbeOutcome::Timeout);
        assert!(r.latency < Duration::from_secs(1));
    })
    .await;
}

#[tokio::test]
async fn https_bad_ca_file_is_a_clear_error() {
    let mut c = check(T::Https, 443);
    set_ca_file(&mut c, "/nonexistent/dynadns-ca.pem".into());
    let e = Prober::new(&c).expect_err("missing file");
    assert!(e.contains("ca_file /nonexistent/dynadns-ca.pem"), "{e}");

    let empty =
        std::env::temp_dir().join(format!("dynadns-probe-empty-{}.pem", std::process::id()));
    std::fs::write(&empty, "not a certificate\n").expect("write");
    set_ca_file(&mut c, empty.clone());
    let e = Prober::new(&c).expect_err("no certificate");
    let _ = std::fs::remove_file(&empty);
    assert!(e.contains("no PEM certificate"), "{e}");

    let mut c = check(T::Http, 80);
    h(&mut c).host = Some("www.example.com:8080".into());
    assert!(Prober::new(&c).is_err());
}

// ---------------------------------------------------------------- other kinds, concurrency

#[tokio::test]
async fn fixed_kinds_need_no_network() {
    let up = prober(&check(T::AlwaysUp, 0)).probe(LOCAL).await;
    assert_eq!(up.outcome, ProbeOutcome::Ok);
    let down = prober(&check(T::AlwaysDown, 0)).probe(LOCAL).await;
    assert!(!down.outcome.is_ok());
    assert_eq!(down.outcome.describe(), "always down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_hanging_probes_run_concurrently() {
    bounded(async {
        // Four hanging servers (HTTP, and TCP-accepting-but-silent for HTTPS), 50 probes each.
        let mut probes = Vec::new();
        for kind in [T::Http, T::Https] {
            for _ in 0..2 {
                let (port, _) = server(Mode::Hang).await;
                let mut c = check(kind, port);
                set_insecure(&mut c);
                c.timeout = Duration::from_millis(300);
                probes.push(prober(&c));
            }
        }
        let start = Instant::now();
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let p = probes[i % probes.len()].clone();
                tokio::spawn(async move { p.probe(LOCAL).await })
            })
            .collect();
        for t in tasks {
            let r = t.await.expect("task");
            assert_eq!(r.outcome, ProbeOutcome::Timeout);
        }
        let took = start.elapsed();
        eprintln!("200 concurrent hanging probes (timeout 300 ms) took {took:?}");
        assert!(took < Duration::from_millis(1200), "{took:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_latency() {
    bounded(async {
        let (port, _) = server(reply("200 OK", "OK")).await;
        let http = prober(&check(T::Http, port));
        let tcp = prober(&check(T::Tcp, port));
        let tls = tls_setup("latency");
        let (tport, _) = tls_server(&tls, reply("200 OK", "OK")).await;
        let mut hc = check(T::Https, tport);
        h(&mut hc).host = Some(NAME.into());
        set_ca_file(&mut hc, tls.ca_file.clone());
        let https = prober(&hc);
        for (what, p) in [("tcp", &tcp), ("http", &http), ("https", &https)] {
            let n = 50;
            let mut total = Duration::ZERO;
            let mut max = Duration::ZERO;
            for _ in 0..n {
                let r = p.probe(LOCAL).await;
                assert_eq!(
                    r.outcome,
                    ProbeOutcome::Ok,
                    "{what}: {}",
                    r.outcome.describe()
                );
                total += r.latency;
                max = max.max(r.latency);
            }
            eprintln!(
                "{what}: {n} probes on loopback, mean {:?}, max {max:?}",
                total / n
            );
            assert!(total / n < Duration::from_millis(100));
        }
    })
    .await;
}

#[test]
fn config_keys_insecure_and_ca_file() {
    let dir = std::env::temp_dir().join(format!("dynadns-probe-config-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("zones")).expect("mkdir");
    // `check` reads ca_file (a missing one is a configuration error): give it a real CA.
    std::fs::create_dir_all(dir.join("certs")).expect("mkdir");
    std::fs::copy(
        tls_setup("config").ca_file.as_path(),
        dir.join("certs/ca.pem"),
    )
    .expect("ca");
    let yaml = "listen:\n  dns: [\"127.0.0.1:5353\"]\nzones: zones/\nchecks:\n  \
                a: { type: https, host: www.example.com, insecure: true }\n  \
                b: { type: https, ca_file: certs/ca.pem, down: 10/20, up: 20/20 }\n  \
                c: { type: http }\n";
    std::fs::write(dir.join("dynadns.yaml"), yaml).expect("write");
    let zone = "zone: example.com\nttl: 3600\nsoa: { primary: ns1, contact: hostmaster, serial: 1, negative_ttl: 300 }\nrecords:\n  \"@\": { NS: [ns1] }\n  ns1: { A: 192.0.2.53 }\n";
    std::fs::write(dir.join("zones/example.com.yaml"), zone).expect("write");
    let loaded = dynadns::config::load(&dir.join("dynadns.yaml"));
    let _ = std::fs::remove_dir_all(&dir);
    let loaded = loaded.unwrap_or_else(|d| panic!("{d:?}"));
    let checks = &loaded.config.gslb.checks;
    let by = |n: &str| checks.iter().find(|c| c.name == n).expect("check");
    let tls = |n: &str| match &by(n).kind {
        CheckKind::Https {
            insecure, ca_file, ..
        } => (*insecure, ca_file.clone()),
        other => panic!("{n} is {other:?}"),
    };
    assert_eq!(tls("a"), (true, None));
    assert_eq!(tls("b"), (false, Some(dir.join("certs/ca.pem"))));
    assert_eq!((by("b").down, by("b").up), ((10, 20), (20, 20)));
    assert_eq!(
        (
            by("c").down,
            by("c").up,
            by("c").kind.http().map(|h| h.port)
        ),
        ((3, 5), (5, 5), Some(80))
    );
    // Probers build for the checks that need no file.
    assert!(Prober::new(by("a")).is_ok() && Prober::new(by("c")).is_ok());
}
