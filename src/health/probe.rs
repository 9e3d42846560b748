//! One probe of one target: connect (TCP) or GET (HTTP/HTTPS), classified into a
//! [`ProbeOutcome`] the window, the statistics and the logs can use.
//!
//! A [`Prober`] is built once per check and shared by every target that uses the check. The
//! expensive part is built once: the TLS configuration (roots, `ca_file`, `insecure`) is
//! shared by the HTTP clients, which are cheap and built per probe, because the target's
//! address is part of a client (`resolve` pins the check's host name to it).
//!
//! Every probe is bounded as a whole by the check's timeout — connect, TLS handshake,
//! request, and the body read for `expect_body` — so a target that stalls at any step costs
//! one timer and nothing else; probes never wait on each other. Each probe opens a fresh
//! connection (no keep-alive, `Connection: close`): a server whose accept path is dead must be
//! seen as down even if an old connection still answers. Redirects are not followed and no
//! proxy is used: the probe checks this address, not wherever it points.
//!
//! The monitor, not the prober, handles `file` checks (states come from a file, nothing is
//! probed).

use std::error::Error as StdError;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::gslb::{Check, CheckKind, HttpCheck};

/// Most body bytes read when looking for `expect_body`: health pages are small, and a target
/// that streams forever must not keep a probe (or memory) busy.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What one probe found. Everything but [`ProbeOutcome::Ok`] counts as a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// Connected (tcp), or the expected status and body (http/https), or `always_up`.
    Ok,
    /// Nothing complete within the check's timeout (connect, handshake or response headers).
    Timeout,
    /// The target actively refused the connection: nothing listens on the port.
    Refused,
    /// The connection was reset or closed by the target before an answer.
    Reset,
    /// Connecting failed otherwise (unreachable network, no route, address family).
    ConnectError(String),
    /// An answer, with a status not in `expect_status`.
    HttpStatus(u16),
    /// The TLS handshake failed (untrusted or wrong certificate, protocol mismatch).
    TlsError(String),
    /// The body (its first [`BODY_LIMIT`] bytes) does not contain `expect_body`, given here.
    BodyMismatch(String),
    /// The headers came in time but the body was still incomplete at the timeout.
    BodyTooSlow,
    /// Anything else, with the reason (`always_down`, an HTTP protocol error).
    Other(String),
    /// The probe could not run for a reason on this host (no descriptor left, no buffer
    /// memory, no local address or route): it says nothing about the target, so the monitor
    /// keeps it out of the k-of-n window and the probe statistics and counts it apart.
    NotRun(LocalFault),
}

/// Why a probe could not run here. A local fault must never look like a remote one: when the
/// server runs out of descriptors, every member would otherwise go DOWN at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFault {
    /// One of [`LocalFault::REASONS`], for the `reason` label of
    /// `dynadns_probes_not_run_total`.
    pub reason: &'static str,
    /// The error as the system said it.
    pub detail: String,
}

impl LocalFault {
    /// Every reason label: `emfile` (the process's open-file limit), `enfile` (the system's),
    /// `enobufs`, `enomem`, `eaddrnotavail` (no local address or port), `enetunreach` (no route
    /// to the target's network), `client` (the HTTP client could not be built).
    pub const REASONS: [&'static str; 7] = [
        "emfile",
        "enfile",
        "enobufs",
        "enomem",
        "eaddrnotavail",
        "enetunreach",
        "client",
    ];

    /// The local fault behind an I/O error, if it is one (looking into wrapped errors).
    pub fn of_io(e: &io::Error) -> Option<LocalFault> {
        if let Some(inner) = e.get_ref()
            && let Some(f) = inner
                .downcast_ref::<io::Error>()
                .and_then(LocalFault::of_io)
        {
            return Some(f);
        }
        let reason = match e.raw_os_error()? {
            libc::EMFILE => "emfile",
            libc::ENFILE => "enfile",
            libc::ENOBUFS => "enobufs",
            libc::ENOMEM => "enomem",
            libc::EADDRNOTAVAIL => "eaddrnotavail",
            libc::ENETUNREACH => "enetunreach",
            _ => return None,
        };
        Some(LocalFault {
            reason,
            detail: e.to_string(),
        })
    }
}

impl ProbeOutcome {
    /// Every value [`ProbeOutcome::label`] returns, so statistics can keep one counter each
    /// and export zeros for outcomes not seen yet.
    pub const LABELS: [&'static str; 15] = [
        "ok",
        "timeout",
        "refused",
        "reset",
        "connect_error",
        "http_1xx",
        "http_2xx",
        "http_3xx",
        "http_4xx",
        "http_5xx",
        "http_other",
        "tls_error",
        "body_mismatch",
        "body_too_slow",
        "other",
    ];

    /// Whether the probe counts as a success for the k-of-n window.
    pub fn is_ok(&self) -> bool {
        matches!(self, ProbeOutcome::Ok)
    }

    /// A stable, low-cardinality label for metrics: one of [`ProbeOutcome::LABELS`]. HTTP
    /// statuses are grouped by class so a misbehaving backend cannot create label values.
    pub fn label(&self) -> &'static str {
        Self::LABELS[self.label_index()]
    }

    /// Index of [`ProbeOutcome::label`] in [`ProbeOutcome::LABELS`], for array counters.
    pub fn label_index(&self) -> usize {
        match self {
            ProbeOutcome::Ok => 0,
            ProbeOutcome::Timeout => 1,
            ProbeOutcome::Refused => 2,
            ProbeOutcome::Reset => 3,
            ProbeOutcome::ConnectError(_) => 4,
            ProbeOutcome::HttpStatus(s) => match s / 100 {
                1..=5 => 4 + (s / 100) as usize,
                _ => 10,
            },
            ProbeOutcome::TlsError(_) => 11,
            ProbeOutcome::BodyMismatch(_) => 12,
            ProbeOutcome::BodyTooSlow => 13,
            // Never counted in the statistics (see `NotRun`); "other" keeps the index total.
            ProbeOutcome::Other(_) | ProbeOutcome::NotRun(_) => 14,
        }
    }

    /// A short human sentence for logs and the status page ("HTTP 500", "connection refused").
    pub fn describe(&self) -> String {
        match self {
            ProbeOutcome::Ok => "ok".into(),
            ProbeOutcome::Timeout => "timeout".into(),
            ProbeOutcome::Refused => "connection refused".into(),
            ProbeOutcome::Reset => "connection reset or closed by the target".into(),
            ProbeOutcome::ConnectError(e) => format!("connect failed: {e}"),
            ProbeOutcome::HttpStatus(s) => format!("HTTP {s}"),
            ProbeOutcome::TlsError(e) => format!("TLS handshake failed: {e}"),
            ProbeOutcome::BodyMismatch(want) => format!(
                "body does not contain {want:?} (first {} KiB read)",
                BODY_LIMIT / 1024
            ),
            ProbeOutcome::BodyTooSlow => "body not complete within the timeout".into(),
            ProbeOutcome::Other(e) => e.clone(),
            ProbeOutcome::NotRun(f) => format!("not probed ({}): {}", f.reason, f.detail),
        }
    }
}

/// One probe's outcome and how long it took (until the outcome was known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    /// What the probe found.
    pub outcome: ProbeOutcome,
    /// Time from start to outcome; about the timeout for [`ProbeOutcome::Timeout`].
    pub latency: Duration,
}

/// Probes targets with one check. Cheap to clone: clones share the check and the TLS
/// configuration.
#[derive(Clone)]
pub struct Prober {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Prober {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober")
            .field("check", &self.inner.check.name)
            .finish_non_exhaustive()
    }
}

struct Inner {
    check: Check,
    /// For http/https: everything built once.
    http: Option<HttpParts>,
}

struct HttpParts {
    scheme: &'static str,
    /// URL host when the check names a host (not an IP literal); the client pins it to the
    /// target address with `resolve`.
    name: Option<String>,
    /// Host header value when the check names one, sent exactly as configured.
    host_header: Option<reqwest::header::HeaderValue>,
    /// Path and query, starting with `/`.
    path: String,
    /// Built once; each probe's client gets a clone (a few `Arc` bumps).
    tls: rustls::ClientConfig,
}

/// Where a probe was when its timeout fired: a timeout while reading the body is
/// [`ProbeOutcome::BodyTooSlow`], before it [`ProbeOutcome::Timeout`].
const PHASE_HEAD: u8 = 0;
const PHASE_BODY: u8 = 1;

impl Prober {
    /// Builds the prober for a check: validates the host, reads `ca_file`, builds the TLS
    /// configuration. Errors name the check and the cause, for the configuration loader.
    pub fn new(check: &Check) -> Result<Prober, String> {
        let http = match &check.kind {
            CheckKind::Http(h) => Some(HttpParts::new(&check.name, h, None)?),
            CheckKind::Https {
                http,
                insecure,
                ca_file,
            } => Some(HttpParts::new(
                &check.name,
                http,
                Some((*insecure, ca_file.as_deref())),
            )?),
            _ => None,
        };
        Ok(Prober {
            inner: Arc::new(Inner {
                check: check.clone(),
                http,
            }),
        })
    }

    /// The check this prober runs.
    pub fn check(&self) -> &Check {
        &self.inner.check
    }

    /// Probes one target address once. Never panics on anything the target sends and never
    /// takes longer than the check's timeout (plus scheduling).
    pub async fn probe(&self, target: IpAddr) -> ProbeResult {
        let start = Instant::now();
        let check = &self.inner.check;
        let outcome = match &check.kind {
            CheckKind::AlwaysUp | CheckKind::File { .. } => ProbeOutcome::Ok,
            CheckKind::AlwaysDown => ProbeOutcome::Other("always down".into()),
            CheckKind::Tcp { port } => {
                probe_tcp(SocketAddr::new(target, *port), check.timeout).await
            }
            CheckKind::Http(h) | CheckKind::Https { http: h, .. } => match &self.inner.http {
                Some(http) => {
                    let phase = AtomicU8::new(PHASE_HEAD);
                    match tokio::time::timeout(check.timeout, http.probe(h, target, &phase)).await {
                        Ok(o) => o,
                        Err(_) if phase.load(Ordering::Relaxed) == PHASE_BODY => {
                            ProbeOutcome::BodyTooSlow
                        }
                        Err(_) => ProbeOutcome::Timeout,
                    }
                }
                None => ProbeOutcome::Other("prober built without HTTP parts".into()),
            },
        };
        ProbeResult {
            outcome,
            latency: start.elapsed(),
        }
    }
}

async fn probe_tcp(addr: SocketAddr, timeout: Duration) -> ProbeOutcome {
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_stream)) => ProbeOutcome::Ok,
        Ok(Err(e)) => classify_io(&e).unwrap_or_else(|| ProbeOutcome::ConnectError(e.to_string())),
        Err(_) => ProbeOutcome::Timeout,
    }
}

impl HttpParts {
    /// The parts of check `name`; `tls` is `(insecure, ca_file)` for https, `None` for http.
    fn new(
        name: &str,
        check: &HttpCheck,
        tls: Option<(bool, Option<&std::path::Path>)>,
    ) -> Result<HttpParts, String> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (insecure, ca_file) = tls.unwrap_or((false, None));
        let what = format!("check '{name}'");

        // A host that is an IP literal cannot be pinned with `resolve` (no lookup happens),
        // so the URL uses the target address and the name goes only into the Host header.
        let name = match &check.host {
            Some(h) if h.parse::<IpAddr>().is_err() => {
                let url = reqwest::Url::parse(&format!("{scheme}://{h}/"))
                    .map_err(|e| format!("{what}: host '{h}' is not a valid host name: {e}"))?;
                match (url.host_str(), url.port(), url.path()) {
                    (Some(n), None, "/") => Some(n.to_string()),
                    _ => {
                        return Err(format!(
                            "{what}: host '{h}' must be a bare host name (no port or path)"
                        ));
                    }
                }
            }
            _ => None,
        };
        let host_header = match &check.host {
            Some(h) => Some(
                reqwest::header::HeaderValue::from_str(h)
                    .map_err(|_| format!("{what}: host '{h}' is not a valid Host header"))?,
            ),
            None => None,
        };
        let path = if check.path.starts_with('/') {
            check.path.clone()
        } else {
            format!("/{}", check.path)
        };
        reqwest::Url::parse(&format!("{scheme}://127.0.0.1:{}{path}", check.port))
            .map_err(|e| format!("{what}: path '{}' is not valid in a URL: {e}", check.path))?;

        Ok(HttpParts {
            scheme,
            name,
            host_header,
            path,
            tls: tls_config(insecure, ca_file).map_err(|e| format!("{what}: {e}"))?,
        })
    }

    /// A client for one probe of one target.
    ///
    /// Built per probe, not cached: with the TLS configuration shared, building one costs
    /// about 1 µs (release; 4 µs debug) against ~600 µs for an HTTP probe on loopback, and a
    /// client with its own empty pool is a fresh connection by construction (a dead accept
    /// path cannot hide behind a kept-alive connection), with no per-target map to grow.
    fn client(&self, check: &HttpCheck, target: IpAddr) -> Result<reqwest::Client, String> {
        let mut b = reqwest::Client::builder()
            .use_preconfigured_tls(self.tls.clone())
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .http1_only()
            .pool_max_idle_per_host(0)
            .tcp_nodelay(true)
            .user_agent(concat!("dynadns/", env!("CARGO_PKG_VERSION")));
        if let Some(name) = &self.name {
            b = b.resolve(name, SocketAddr::new(target, check.port));
        }
        b.build().map_err(|e| format!("building HTTP client: {e}"))
    }

    async fn probe(&self, check: &HttpCheck, target: IpAddr, phase: &AtomicU8) -> ProbeOutcome {
        let client = match self.client(check, target) {
            Ok(c) => c,
            // Nothing was sent: building a client fails only for reasons on this host.
            Err(e) => {
                return ProbeOutcome::NotRun(LocalFault {
                    reason: "client",
                    detail: e,
                });
            }
        };
        let url = match &self.name {
            Some(n) => format!("{}://{n}:{}{}", self.scheme, check.port, self.path),
            None => format!(
                "{}://{}{}",
                self.scheme,
                SocketAddr::new(target, check.port),
                self.path
            ),
        };
        let mut req = client.get(url).header(reqwest::header::CONNECTION, "close");
        if let Some(h) = &self.host_header {
            req = req.header(reqwest::header::HOST, h.clone());
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return classify_reqwest(&e),
        };
        let status = resp.status().as_u16();
        if !check.expect_status.contains(&status) {
            return ProbeOutcome::HttpStatus(status);
        }
        let Some(want) = &check.expect_body else {
            return ProbeOutcome::Ok;
        };
        phase.store(PHASE_BODY, Ordering::Relaxed);
        let want = want.as_bytes();
        let mut body: Vec<u8> = Vec::new();
        // Bytes before `searched` cannot start a match any more: each byte is scanned once
        // however small the chunks.
        let mut searched = 0;
        loop {
            if contains(&body[searched..], want) {
                return ProbeOutcome::Ok;
            }
            searched = body.len().saturating_sub(want.len().saturating_sub(1));
            if body.len() >= BODY_LIMIT {
                break;
            }
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = BODY_LIMIT - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) => break,
                Err(e) => return classify_reqwest(&e),
            }
        }
        ProbeOutcome::BodyMismatch(String::from_utf8_lossy(want).into_owned())
    }
}

/// Whether `needle` occurs in `hay` (bodies are at most [`BODY_LIMIT`], so a plain scan).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Maps an I/O error to an outcome when its kind says what happened.
///
/// Connectors wrap errors in further I/O errors (a TLS failure arrives as
/// `Other(InvalidData(rustls::Error))`), and `io::Error::source` skips the wrapped error, so
/// the wrapped ones are looked at first, innermost deciding.
fn classify_io(e: &io::Error) -> Option<ProbeOutcome> {
    if let Some(f) = LocalFault::of_io(e) {
        return Some(ProbeOutcome::NotRun(f));
    }
    if let Some(inner) = e.get_ref() {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Some(ProbeOutcome::TlsError(tls.to_string()));
        }
        if let Some(o) = inner.downcast_ref::<io::Error>().and_then(classify_io) {
            return Some(o);
        }
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Some(ProbeOutcome::Refused),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => Some(ProbeOutcome::Reset),
        io::ErrorKind::TimedOut => Some(ProbeOutcome::Timeout),
        io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::AddrNotAvailable => Some(ProbeOutcome::ConnectError(e.to_string())),
        _ => None,
    }
}

/// Walks a reqwest error's causes to the first one that says what happened.
fn classify_reqwest(e: &reqwest::Error) -> ProbeOutcome {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<io::Error>()
            && let Some(o) = classify_io(io)
        {
            return o;
        }
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            return ProbeOutcome::TlsError(tls.to_string());
        }
        if let Some(h) = c.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_closed() || h.is_canceled())
        {
            return ProbeOutcome::Reset;
        }
        cause = c.source();
    }
    if e.is_timeout() {
        ProbeOutcome::Timeout
    } else if e.is_connect() {
        ProbeOutcome::ConnectError(error_chain(e))
    } else {
        ProbeOutcome::Other(error_chain(e))
    }
}

/// "outer: inner: innermost", for messages that would otherwise say only "error sending
/// request".
fn error_chain(e: &dyn StdError) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// The TLS configuration shared by every client of a check: ring, TLS 1.2/1.3, HTTP/1.1
/// ALPN, and either the built-in roots plus `ca_file`, or (`insecure`) no verification.
fn tls_config(
    insecure: bool,
    ca_file: Option<&std::path::Path>,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca_file {
            let shown = path.display();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("ca_file {shown}: {e}"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("ca_file {shown}: {e}"))?;
            if certs.is_empty() {
                return Err(format!(
                    "ca_file {shown}: no PEM certificate (-----BEGIN CERTIFICATE-----) found"
                ));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("ca_file {shown}: {e}"))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// `insecure: true`: accepts any certificate, but still checks that the server holds the key
/// of the certificate it sent (handshake signatures), so the TLS stack itself is exercised.
/// The risk: anyone who can answer on the target address passes the check.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_stable() {
        assert_eq!(ProbeOutcome::Ok.label(), "ok");
        assert_eq!(ProbeOutcome::HttpStatus(503).label(), "http_5xx");
        assert_eq!(ProbeOutcome::HttpStatus(302).label(), "http_3xx");
        assert_eq!(ProbeOutcome::HttpStatus(101).label(), "http_1xx");
        assert_eq!(ProbeOutcome::HttpStatus(999).label(), "http_other");
        assert_eq!(ProbeOutcome::TlsError("x".into()).label(), "tls_error");
        assert_eq!(
            ProbeOutcome::BodyMismatch("OK".into()).label(),
            "body_mismatch"
        );
        assert_eq!(ProbeOutcome::Other("x".into()).label(), "other");
        assert_eq!(ProbeOutcome::Refused.describe(), "connection refused");
        assert_eq!(ProbeOutcome::HttpStatus(500).describe(), "HTTP 500");
        assert!(
            ProbeOutcome::BodyMismatch("OK".into())
                .describe()
                .starts_with("body does not contain \"OK\"")
        );
    }

    #[test]
    fn local_faults_are_told_apart() {
        let emfile = io::Error::from_raw_os_error(libc::EMFILE);
        let o = classify_io(&emfile).unwrap();
        assert!(
            matches!(&o, ProbeOutcome::NotRun(f) if f.reason == "emfile"),
            "{o:?}"
        );
        assert!(!o.is_ok());
        // Wrapped as connectors do.
        let wrapped = io::Error::other(io::Error::from_raw_os_error(libc::ENOBUFS));
        assert!(
            matches!(classify_io(&wrapped), Some(ProbeOutcome::NotRun(f)) if f.reason == "enobufs")
        );
        // A remote refusal stays remote.
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(classify_io(&refused), Some(ProbeOutcome::Refused));
        let host = io::Error::from_raw_os_error(libc::EHOSTUNREACH);
        assert!(matches!(
            classify_io(&host),
            Some(ProbeOutcome::ConnectError(_))
        ));
    }

    #[test]
    fn body_search() {
        assert!(contains(b"all OK here", b"OK"));
        assert!(!contains(b"O", b"OK"));
        assert!(contains(b"", b""));
    }
}
