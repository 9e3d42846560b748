//! The admin HTTP API: `/status` (JSON), `/metrics` (Prometheus text), and forced states.
//!
//! It listens on `listen.admin` (localhost in the examples). Reading is open to whoever can
//! reach the port; calls that change state (PUT/DELETE on `/api/v1/overrides/...`) need
//! `Authorization: Bearer TOKEN` when `admin.token` is configured. The token and the outcome
//! of the last reload live in [`Live`], which a reload updates. Nothing here is on the query
//! path: forced states go through the prober, which publishes a new snapshot.

mod metrics;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use tracing::{debug, info, warn};

use crate::gslb::{Answers, Force, Overrides};
use crate::health::monitor::{Monitor, TargetStatus};
use crate::server::fdlimit::{ACCEPT_BACKOFF, Connections, RateLimited};
use crate::server::{ReloadReport, Stamp, WatchList, rfc3339};
use crate::snapshot::SharedSnapshot;

/// Settings and reports that a reload changes while the API runs: the admin token (re-read on
/// every reload), what the last reload did, how many reloads there were, and the data files
/// the running configuration was built from (watched for changes).
#[derive(Debug, Default)]
pub struct Live {
    token: RwLock<Option<String>>,
    /// `admin.hosts`: extra Host header values accepted (lowercase).
    hosts: RwLock<Vec<String>>,
    reload: RwLock<Option<ReloadReport>>,
    /// Reloads by (trigger label, outcome).
    reloads: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    watch: RwLock<Arc<WatchList>>,
}

impl Live {
    /// Live settings starting with `token` (None: write calls need no token).
    pub fn new(token: Option<String>) -> Live {
        Live {
            token: RwLock::new(token),
            ..Live::default()
        }
    }

    /// Replaces the watched files (after a configuration was read successfully).
    pub fn set_watch(&self, list: WatchList) {
        *self.watch.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(list);
    }

    /// The watched files of the running configuration.
    pub fn watch_list(&self) -> Arc<WatchList> {
        self.watch.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Counts one reload (`trigger`: `signal`, `file`; `outcome`: `ok`, `failed`).
    pub fn count_reload(&self, trigger: &'static str, outcome: &'static str) {
        *self
            .reloads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((trigger, outcome))
            .or_default() += 1;
    }

    /// Reloads so far by (trigger, outcome).
    pub fn reload_counts(&self) -> Vec<((&'static str, &'static str), u64)> {
        self.reloads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect()
    }

    /// Replaces the token: calls from now on need the new one.
    pub fn set_token(&self, token: Option<String>) {
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = token;
    }

    /// Replaces the extra Host names accepted (`admin.hosts`).
    pub fn set_hosts(&self, hosts: Vec<String>) {
        *self.hosts.write().unwrap_or_else(|e| e.into_inner()) = hosts;
    }

    fn token(&self) -> Option<String> {
        self.token.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records the outcome of a reload, for `/status`.
    pub fn set_reload(&self, report: ReloadReport) {
        *self.reload.write().unwrap_or_else(|e| e.into_inner()) = Some(report);
    }

    /// The outcome of the last reload, if there was one.
    pub fn last_reload(&self) -> Option<ReloadReport> {
        self.reload
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A counter on its own cache line, so threads counting side by side do not slow each other.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What one UDP worker counts: messages received (`dynadns_queries_total`), responses rate
/// limiting dropped or slipped, and the cookies queries carried. Each worker has its own, so
/// the query path shares no cache line.
#[derive(Debug, Default)]
pub struct UdpCounters {
    /// DNS messages received.
    pub queries: Counter,
    /// Responses rate limiting dropped.
    pub rrl_dropped: Counter,
    /// Responses rate limiting sent truncated instead.
    pub rrl_slipped: Counter,
    /// Queries with a valid server cookie (exempt from rate limiting).
    pub cookie_valid: Counter,
    /// Queries with a server cookie that was not ours, not for this address, or too old.
    pub cookie_invalid: Counter,
    /// Queries with a client cookie only.
    pub cookie_client_only: Counter,
}

/// DNS messages received, for `dynadns_queries_total`: counters per UDP worker thread (no
/// shared cache line on the query path) and one for TCP.
#[derive(Debug, Default)]
pub struct QueryCounters {
    /// Indexed by UDP worker.
    pub udp: Box<[UdpCounters]>,
    /// All TCP connections.
    pub tcp: Counter,
}

impl QueryCounters {
    /// Counters for `udp_workers` UDP threads.
    pub fn new(udp_workers: usize) -> QueryCounters {
        QueryCounters {
            udp: (0..udp_workers).map(|_| UdpCounters::default()).collect(),
            tcp: Counter::default(),
        }
    }

    /// The sum over UDP workers of one of their counters.
    fn udp_sum(&self, f: impl Fn(&UdpCounters) -> &Counter) -> u64 {
        self.udp.iter().map(|c| f(c).get()).sum()
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct AdminState {
    shared: SharedSnapshot,
    monitor: Monitor,
    live: Arc<Live>,
    queries: Arc<QueryCounters>,
    /// The admin listener's address: requests must name it (or `admin.hosts`) in Host. None:
    /// no Host check (a router served by a test harness).
    listen: Option<SocketAddr>,
    /// Connection caps and the descriptor budget, for `/status` and `/metrics`.
    conns: Option<Arc<Connections>>,
}

impl AdminState {
    /// State for the admin handlers; `live` is shared with the reload path, `queries` with the
    /// listeners.
    pub fn new(
        shared: SharedSnapshot,
        monitor: Monitor,
        live: Arc<Live>,
        queries: Arc<QueryCounters>,
    ) -> Self {
        AdminState {
            shared,
            monitor,
            live,
            queries,
            listen: None,
            conns: None,
        }
    }

    /// Checks the Host header against `listen` and shows the caps of `conns`.
    pub fn with_listener(mut self, listen: SocketAddr, conns: Arc<Connections>) -> Self {
        self.listen = Some(listen);
        self.conns = Some(conns);
        self
    }

    /// Whether a request's Host header names this API: the listen address exactly
    /// (`127.0.0.1:8053`, `[::1]:8053`), `localhost:PORT` on loopback, any IP literal with the
    /// port when listening on all addresses, or an `admin.hosts` entry (with or without port).
    /// A page from a rebound DNS name in a browser sends its own name and is refused.
    fn host_allowed(&self, host: &str) -> bool {
        let Some(listen) = self.listen else {
            return true;
        };
        let host = host.trim().to_ascii_lowercase();
        if host == listen.to_string() {
            return true;
        }
        if listen.ip().is_loopback() && host == format!("localhost:{}", listen.port()) {
            return true;
        }
        if listen.ip().is_unspecified()
            && host
                .parse::<SocketAddr>()
                .is_ok_and(|a| a.port() == listen.port())
        {
            return true;
        }
        let bare = match host.rsplit_once(':') {
            Some((name, port))
                if !name.ends_with(']') && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                name
            }
            _ => host.as_str(),
        };
        self.live
            .hosts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|h| *h == host || *h == bare)
    }
}

/// Most time a client may take to send a request's headers (also the idle time allowed on a
/// kept-alive connection before its next request): a half-open request holds a slot no longer.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest life of one admin connection, requests and keep-alive included: a slow reader or a
/// trickled body cannot hold a slot for ever. Clients reconnect for more.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// One watched data file as `/status` shows it.
#[derive(Debug, Serialize)]
pub struct SourceStatus {
    /// As the configuration names it (made absolute from the server file's directory).
    pub path: String,
    /// Whether it can be read now.
    pub exists: bool,
    /// Size in bytes (null when missing).
    pub size: Option<u64>,
    /// Last modification (RFC 3339, UTC; null when missing).
    pub modified: Option<String>,
    /// Modification time as Unix seconds, for the metric.
    #[serde(skip)]
    pub modified_unix: Option<f64>,
}

/// The watched files, looked at now.
pub fn source_status(list: &WatchList) -> Vec<SourceStatus> {
    list.sources
        .iter()
        .map(|p| {
            let stamp = Stamp::of(p);
            SourceStatus {
                path: p.display().to_string(),
                exists: stamp.is_some(),
                size: stamp.map(|s| s.size),
                modified: stamp.map(|s| rfc3339(s.modified)),
                modified_unix: stamp.map(|s| {
                    s.modified
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0.0, |d| d.as_secs_f64())
                }),
            }
        })
        .collect()
}

/// The routes, for serving and for tests.
pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .route("/api/v1/overrides", get(list_overrides))
        .route(
            "/api/v1/overrides/member/{address}",
            put(put_member).delete(delete_member),
        )
        .route(
            "/api/v1/overrides/pool/{resource}/{datacenter}",
            put(put_pool).delete(delete_pool),
        )
        .route(
            "/api/v1/overrides/datacenter/{datacenter}",
            put(put_datacenter).delete(delete_datacenter),
        )
        .layer(middleware::from_fn_with_state(state.clone(), check_host))
        .with_state(state)
}

/// Refuses requests whose Host header does not name this API (DNS rebinding from a browser).
async fn check_host(State(st): State<AdminState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if st.host_allowed(host) {
        return next.run(req).await;
    }
    debug!("admin: request for Host '{host}' refused");
    (
        StatusCode::MISDIRECTED_REQUEST,
        format!(
            "Host '{host}' is not this admin API: use its listen address, or add the name to admin.hosts\n"
        ),
    )
        .into_response()
}

/// Serves the admin API on an already bound listener until the process stops: at most
/// `conns.admin` connections (more are closed at once, so a flood of half-open requests costs
/// a few descriptors and a legitimate client gets in on retry once the held ones time out),
/// [`HEADER_TIMEOUT`] to send headers, [`CONNECTION_LIFETIME`] per connection.
pub async fn serve(listener: tokio::net::TcpListener, state: AdminState, conns: Arc<Connections>) {
    let app = router(state);
    let refused = RateLimited::new(Duration::from_secs(10));
    let errors = RateLimited::new(Duration::from_secs(10));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                if let Some(n) = errors.hit() {
                    warn!("admin accept error: {e} ({n} in the last 10s)");
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some(slot) = conns.admin.try_take() else {
            if let Some(n) = refused.hit() {
                warn!(
                    "admin connection cap reached ({} open): closing new connections at once \
                     ({n} closed, last from {peer}); see admin.max_connections",
                    conns.admin.max()
                );
            }
            drop(stream);
            continue;
        };
        let svc = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(true);
            let conn = http.serve_connection(TokioIo::new(stream), svc);
            match tokio::time::timeout(CONNECTION_LIFETIME, conn).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => debug!("admin {peer}: {e}"),
                Err(_) => debug!("admin {peer}: connection closed after {CONNECTION_LIFETIME:?}"),
            }
            drop(slot);
        });
    }
}

#[derive(Serialize)]
struct PoolStatus {
    datacenter: String,
    up: bool,
    members_up: u32,
    members: u32,
    forced: Option<Force>,
}

#[derive(Serialize)]
struct ResourceStatus {
    name: String,
    kind: &'static str,
    check: Option<String>,
    pools: Vec<PoolStatus>,
}

#[derive(Serialize)]
struct StatusBody {
    version: &'static str,
    generation: u64,
    loaded_at: u64,
    zones: usize,
    resources: Vec<ResourceStatus>,
    targets: Vec<TargetStatus>,
    overrides: Overrides,
    /// The last reload (null before the first one).
    reload: Option<ReloadReport>,
    /// The data files the running configuration was built from, watched for changes.
    sources: Vec<SourceStatus>,
    /// The GeoIP database and BGP dumps the geo maps were compiled from.
    geo: GeoStatus,
    /// The descriptor budget and connection caps in force (null when not served by `serve`).
    limits: Option<LimitsStatus>,
    /// Probes that could not run for a local reason (EMFILE...), by reason.
    probes_not_run: BTreeMap<&'static str, u64>,
}

/// The descriptor budget as `/status` shows it.
#[derive(Serialize)]
struct LimitsStatus {
    nofile: u64,
    reserve: u64,
    tcp_max: usize,
    admin_max: usize,
    tcp_open: u64,
    admin_open: u64,
}

/// Where the running geo data came from: operators check after geoipupdate or a route-server
/// export that the new data is the one answering.
#[derive(Serialize)]
struct GeoStatus {
    /// The GeoIP database (null when none is configured).
    database: Option<DatabaseStatus>,
    /// What each geo map took from each BGP dump.
    bgp_dumps: Vec<BgpDumpStatus>,
}

#[derive(Serialize)]
struct DatabaseStatus {
    path: String,
    database_type: String,
    /// Build date (RFC 3339) and the same as Unix seconds.
    built: String,
    build_epoch: u64,
    networks: usize,
    places: usize,
}

#[derive(Serialize)]
struct BgpDumpStatus {
    map: String,
    dump: String,
    routes: usize,
    prefixes: usize,
}

fn geo_status(g: &crate::gslb::Gslb) -> GeoStatus {
    GeoStatus {
        database: g.geoip.as_ref().map(|db| {
            let i = &db.info;
            DatabaseStatus {
                path: i.path.display().to_string(),
                database_type: i.database_type.clone(),
                built: rfc3339(
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(i.build_epoch),
                ),
                build_epoch: i.build_epoch,
                networks: i.networks,
                places: i.places,
            }
        }),
        bgp_dumps: g
            .bgp_dumps
            .iter()
            .map(|u| BgpDumpStatus {
                map: u.map.clone(),
                dump: u.dump.display().to_string(),
                routes: u.routes,
                prefixes: u.prefixes,
            })
            .collect(),
    }
}

async fn status(State(st): State<AdminState>) -> Response {
    let snap = st.shared.load();
    let resources = snap
        .gslb
        .resources
        .iter()
        .zip(snap.resolvers.iter().map(|r| &r.view))
        .map(|(r, v)| ResourceStatus {
            name: r.name.clone(),
            kind: match r.answers {
                Answers::Addresses(_) => "DYNA",
                Answers::Cnames(_) => "DYNC",
            },
            check: r.check.clone(),
            pools: v
                .pools
                .iter()
                .map(|p| PoolStatus {
                    datacenter: snap.gslb.dc_name(p.dc).to_string(),
                    up: p.up,
                    members_up: p.up_count,
                    members: p.total,
                    forced: p.forced,
                })
                .collect(),
        })
        .collect();
    let body = StatusBody {
        version: env!("CARGO_PKG_VERSION"),
        generation: snap.generation,
        loaded_at: snap
            .loaded_at
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        zones: snap.zones.len(),
        resources,
        targets: st.monitor.status(),
        overrides: st.monitor.overrides(),
        reload: st.live.last_reload(),
        sources: source_status(&st.live.watch_list()),
        geo: geo_status(&snap.gslb),
        limits: st.conns.as_ref().map(|c| {
            let b = c.budget();
            LimitsStatus {
                nofile: b.nofile,
                reserve: b.reserve,
                tcp_max: b.tcp_max,
                admin_max: b.admin_max,
                tcp_open: c.tcp.open(),
                admin_open: c.admin.open(),
            }
        }),
        probes_not_run: st.monitor.not_run_counts(),
    };
    axum::Json(body).into_response()
}

async fn metrics(State(st): State<AdminState>) -> Response {
    let snap = st.shared.load();
    let mut text = metrics::render(&snap, &st.monitor.status());
    metrics::render_server(
        &mut text,
        &metrics::ServerMetrics {
            reloads: st.live.reload_counts(),
            sources: source_status(&st.live.watch_list()),
            queries_udp: st.queries.udp_sum(|c| &c.queries),
            rrl_dropped: st.queries.udp_sum(|c| &c.rrl_dropped),
            rrl_slipped: st.queries.udp_sum(|c| &c.rrl_slipped),
            cookies: [
                ("valid", st.queries.udp_sum(|c| &c.cookie_valid)),
                ("invalid", st.queries.udp_sum(|c| &c.cookie_invalid)),
                ("client_only", st.queries.udp_sum(|c| &c.cookie_client_only)),
            ],
            queries_tcp: st.queries.tcp.get(),
        },
    );
    if let Some(c) = &st.conns {
        c.render_metrics(&mut text);
    }
    crate::health::monitor::render_not_run(&mut text, &st.monitor.not_run_counts());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn list_overrides(State(st): State<AdminState>) -> Response {
    axum::Json(st.monitor.overrides()).into_response()
}

/// Unknown fields are refused: `{"state": "down", "reason": ...}` must not look accepted when
/// part of it was ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceBody {
    state: Force,
}

/// A refused call: status code and a message for the operator.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

fn error(code: StatusCode, msg: impl Into<String>) -> ApiError {
    ApiError(code, msg.into())
}

fn authorize(st: &AdminState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = st.live.token() else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Constant-time enough for a token compare: no early exit on the first differing byte.
    let ok = given.is_some_and(|g| {
        g.len() == token.len()
            && g.bytes()
                .zip(token.bytes())
                .fold(0u8, |a, (x, y)| a | (x ^ y))
                == 0
    });
    if ok {
        Ok(())
    } else {
        Err(error(
            StatusCode::UNAUTHORIZED,
            "this call needs 'Authorization: Bearer TOKEN' with admin.token",
        ))
    }
}

fn body_force(body: &[u8]) -> Result<Force, ApiError> {
    serde_json::from_slice::<ForceBody>(body)
        .map(|b| b.state)
        .map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"state\": \"up\"|\"down\"|\"drain\"}}: {e}"),
            )
        })
}

fn done(what: String) -> Response {
    info!("admin: {what}");
    axum::Json(serde_json::json!({ "ok": what })).into_response()
}

async fn put_member(
    State(st): State<AdminState>,
    Path(address): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&st, &headers)?;
    let addr = member_address(&st, &address)?;
    let force = body_force(&body)?;
    st.monitor.set_overrides(|o| {
        o.members.insert(addr, force);
    });
    Ok(done(format!("member {addr} forced {force}")))
}

async fn delete_member(
    State(st): State<AdminState>,
    Path(address): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&st, &headers)?;
    let Ok(addr) = address.parse::<IpAddr>() else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("'{address}' is not an IP address"),
        ));
    };
    let mut had = false;
    st.monitor
        .set_overrides(|o| had = o.members.remove(&addr).is_some());
    if !had {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("member {addr} is not forced"),
        ));
    }
    Ok(done(format!("member {addr} no longer forced")))
}

fn member_address(st: &AdminState, text: &str) -> Result<IpAddr, ApiError> {
    let Ok(addr) = text.parse::<IpAddr>() else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("'{text}' is not an IP address"),
        ));
    };
    let snap = st.shared.load();
    let known = snap.gslb.resources.iter().any(|r| match &r.answers {
        Answers::Addresses(pools) => pools
            .iter()
            .any(|p| p.members.iter().any(|m| m.address == addr)),
        Answers::Cnames(_) => false,
    });
    if known {
        Ok(addr)
    } else {
        Err(error(
            StatusCode::NOT_FOUND,
            format!("{addr} is not a member of any resource"),
        ))
    }
}

fn known_pool(st: &AdminState, resource: &str, dc: &str) -> Result<(), ApiError> {
    let snap = st.shared.load();
    let Some((_, res)) = snap.gslb.resource(resource) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("no resource '{resource}'"),
        ));
    };
    let has = match &res.answers {
        Answers::Addresses(p) => p.iter().any(|p| snap.gslb.dc_name(p.dc) == dc),
        Answers::Cnames(c) => c.iter().any(|c| snap.gslb.dc_name(c.dc) == dc),
    };
    if has {
        Ok(())
    } else {
        Err(error(
            StatusCode::NOT_FOUND,
            format!("resource '{resource}' has no pool in '{dc}'"),
        ))
    }
}

async fn put_pool(
    State(st): State<AdminState>,
    Path((resource, dc)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&st, &headers)?;
    known_pool(&st, &resource, &dc)?;
    let force = body_force(&body)?;
    st.monitor.set_overrides(|o| {
        o.pools.insert(format!("{resource}/{dc}"), force);
    });
    Ok(done(format!("pool {resource}/{dc} forced {force}")))
}

async fn delete_pool(
    State(st): State<AdminState>,
    Path((resource, dc)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&st, &headers)?;
    let mut had = false;
    st.monitor
        .set_overrides(|o| had = o.pools.remove(&format!("{resource}/{dc}")).is_some());
    if !had {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("pool {resource}/{dc} is not forced"),
        ));
    }
    Ok(done(format!("pool {resource}/{dc} no longer forced")))
}

async fn put_datacenter(
    State(st): State<AdminState>,
    Path(dc): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorize(&st, &headers)?;
    if !st
        .shared
        .load()
        .gslb
        .datacenters
        .iter()
        .any(|d| d.name == dc)
    {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("no datacenter '{dc}'"),
        ));
    }
    let force = body_force(&body)?;
    st.monitor.set_overrides(|o| {
        o.datacenters.insert(dc.clone(), force);
    });
    Ok(done(format!("datacenter {dc} forced {force}")))
}

async fn delete_datacenter(
    State(st): State<AdminState>,
    Path(dc): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&st, &headers)?;
    let mut had = false;
    st.monitor
        .set_overrides(|o| had = o.datacenters.remove(&dc).is_some());
    if !had {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("datacenter {dc} is not forced"),
        ));
    }
    Ok(done(format!("datacenter {dc} no longer forced")))
}
