//! The admin HTTP API: `/status` (JSON), `/metrics` (Prometheus text), and forced states.
//!
//! It listens on `listen.admin` (localhost in the examples). Reading is open to whoever can
//! reach the port; calls that change state (PUT/DELETE on `/api/v1/overrides/...`) need
//! `Authorization: Bearer TOKEN` when `admin.token` is configured. The token and the outcome
//! of the last reload live in [`Live`], which a reload updates. Nothing here is on the query
//! path: forced states go through the prober, which publishes a new snapshot.

mod metrics;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::gslb::{Answers, Force, Overrides};
use crate::health::monitor::{Monitor, TargetStatus};
use crate::server::{ReloadReport, Stamp, WatchList, rfc3339};
use crate::snapshot::SharedSnapshot;

/// Settings and reports that a reload changes while the API runs: the admin token (re-read on
/// every reload), what the last reload did, how many reloads there were, and the data files
/// the running configuration was built from (watched for changes).
#[derive(Debug, Default)]
pub struct Live {
    token: RwLock<Option<String>>,
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
        }
    }
}

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
        .with_state(state)
}

/// Serves the admin API on an already bound listener until the process stops.
pub async fn serve(listener: tokio::net::TcpListener, state: AdminState) {
    if let Err(e) = axum::serve(listener, router(state)).await {
        warn!("admin API stopped: {e}");
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

#[derive(Deserialize)]
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
