//! GSLB resources: which addresses (or which CNAME) a `DYNA`/`DYNC` name answers, per query.
//!
//! A [`Resource`] here is configuration: pools of members per datacenter, a route (static
//! failover order, every datacenter, or a geo map), the `min_up` rule, what to do when
//! everything is down, and the answer policy (subpools, max, pick, seed). At snapshot build time
//! each resource is compiled into a [`resolve::Resolver`]: its route as one of the kinds in
//! [`route`], its members against the current health states ([`members`]: per pool whether it
//! is up, usable members already record data in stable subpool groups). Per query,
//! [`resolve::Resolver::resolve`] turns a client into a [`resolve::Decision`] (records or CNAME,
//! TTL, degraded, ECS scope, the rule that decided), with [`pick`] choosing the records.

pub mod members;
pub mod pick;
pub mod resolve;
pub mod rng;
pub mod route;

use std::net::IpAddr;
use std::time::Duration;

/// Index of a datacenter in [`Gslb::datacenters`].
pub type DcId = u16;
/// Index of a health target in [`Gslb::targets`].
pub type TargetId = u32;

/// A datacenter: a name pools and maps refer to, and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Datacenter {
    /// Name used in pools, routes and maps.
    pub name: String,
    /// Latitude and longitude, for `nearest` geo ordering.
    pub location: Option<(f64, f64)>,
}

/// One address in a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The address handed out in answers.
    pub address: IpAddr,
    /// Relative share of answers; 0 keeps the member configured but never answered.
    pub weight: u32,
    /// Health target (probe address and check) whose state decides whether this member is up.
    pub target: Option<TargetId>,
}

/// The members one datacenter contributes to a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Datacenter of this pool.
    pub dc: DcId,
    /// Members in configuration order.
    pub members: Vec<Member>,
}

/// The CNAME one datacenter answers with in a `DYNC` resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnamePool {
    /// Datacenter of this target.
    pub dc: DcId,
    /// Encoded target name.
    pub target: Box<[u8]>,
    /// Health target deciding whether this datacenter is up (none: always up).
    pub health: Option<TargetId>,
}

/// What a resource answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answers {
    /// DYNA: A/AAAA records from pools of addresses.
    Addresses(Vec<Pool>),
    /// DYNC: one CNAME per datacenter.
    Cnames(Vec<CnamePool>),
}

/// How a client is turned into an ordered list of datacenters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The same failover order for everyone.
    Order(Vec<DcId>),
    /// Every up datacenter contributes to every answer.
    All,
    /// Order from a geo map (index into [`Gslb::geo_maps`]).
    Geo(usize),
}

/// When a pool counts as up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinUp {
    /// At least this many members up.
    Count(u32),
    /// At least this percentage of the (answerable) members up.
    Percent(u32),
}

/// What to answer when no pool in the client's order is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenAllDown {
    /// The first datacenter's whole pool (as gdnsd and Route 53 do): some answer beats none.
    First,
    /// Every member of every datacenter in the order.
    All,
    /// NOERROR with no records.
    Empty,
    /// SERVFAIL, so resolvers try elsewhere or keep stale data.
    Servfail,
}

/// How the group of a subpooled answer is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Groups in turn: every group gets the same share of answers.
    RoundRobin,
    /// By a hash of the client's network, so one client keeps its group.
    ClientHash,
    /// A random group per answer, chosen in proportion to group weight.
    WeightedRandom,
}

/// How members are chosen from the usable ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerPolicy {
    /// Partition the usable members into this many groups and answer with one (1 = no groups).
    pub subpools: u32,
    /// At most this many records, by weighted sampling without replacement.
    pub max: Option<u32>,
    /// How the group is chosen.
    pub pick: Pick,
    /// Seed of the subpool partition and of `client_hash`: nodes with the same configuration
    /// (and seed) give a client the same group; another seed deals members out differently.
    pub seed: u64,
}

impl Default for AnswerPolicy {
    fn default() -> Self {
        AnswerPolicy {
            subpools: 1,
            max: None,
            pick: Pick::RoundRobin,
            seed: 0,
        }
    }
}

/// Which members of the chosen datacenter are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembersMode {
    /// Only the members that are up.
    Healthy,
    /// Every member: health only decides whether the datacenter is up.
    All,
}

/// A configured resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Name zones use in `DYNA:` / `DYNC:`.
    pub name: String,
    /// TTL of normal answers.
    pub ttl: u32,
    /// TTL of degraded answers (failover, all down): at most one probe interval, so clients
    /// come back soon after recovery.
    pub degraded_ttl: u32,
    /// Pools or CNAMEs.
    pub answers: Answers,
    /// Datacenter ordering.
    pub route: Route,
    /// When a pool is up.
    pub min_up: MinUp,
    /// Answer when nothing is up.
    pub when_all_down: WhenAllDown,
    /// Member choice.
    pub answer: AnswerPolicy,
    /// Healthy-only or every member.
    pub members: MembersMode,
    /// Name of the health check (for explain and status).
    pub check: Option<String>,
    /// Route by the ECS address when a query carries one (default). `false` routes by the
    /// packet's source address and answers with ECS scope 0 (RFC 7871 §7.2.1: the answer did
    /// not use the option), for resources whose resolvers' ECS data is not to be trusted.
    pub use_ecs: bool,
}

/// What one probe does, with only the settings that apply to it: a `path` on a TCP check or a
/// `port` on `always_up` cannot be written down, so it cannot be silently ignored either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    /// TCP connect to `port`.
    Tcp {
        /// Port connected to at the probe address.
        port: u16,
    },
    /// HTTP GET.
    Http(HttpCheck),
    /// HTTPS GET.
    Https {
        /// Request and expected answer, as for HTTP.
        http: HttpCheck,
        /// Accept any server certificate. The probe then proves only that something answers
        /// TLS and HTTP at the address, not that it is the right server; meant for
        /// self-signed backends probed by address.
        insecure: bool,
        /// A PEM file of CA certificates trusted in addition to the built-in roots
        /// (relative paths are relative to the server file's directory).
        ca_file: Option<std::path::PathBuf>,
    },
    /// Always up (documentation addresses, tests).
    AlwaysUp,
    /// Always down (maintenance, tests).
    AlwaysDown,
    /// States read from a file of `ADDRESS up|down` lines.
    File {
        /// The states file (relative paths are relative to the server file's directory).
        path: std::path::PathBuf,
        /// `server.max_file_size` when the check was read: a larger file is refused.
        max_size: u64,
    },
}

impl CheckKind {
    /// The request and expected answer of an HTTP or HTTPS check; `None` for other kinds.
    pub fn http(&self) -> Option<&HttpCheck> {
        match self {
            CheckKind::Http(h) | CheckKind::Https { http: h, .. } => Some(h),
            _ => None,
        }
    }

    /// The `type:` word of this kind, as written in the server file.
    pub fn type_name(&self) -> &'static str {
        match self {
            CheckKind::Tcp { .. } => "tcp",
            CheckKind::Http(_) => "http",
            CheckKind::Https { .. } => "https",
            CheckKind::AlwaysUp => "always_up",
            CheckKind::AlwaysDown => "always_down",
            CheckKind::File { .. } => "file",
        }
    }
}

/// The request an HTTP(S) check sends and the answer it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    /// Port connected to (default 80 for http, 443 for https).
    pub port: u16,
    /// Path of the GET request.
    pub path: String,
    /// Host header and TLS SNI.
    pub host: Option<String>,
    /// Accepted HTTP statuses (never empty).
    pub expect_status: Vec<u16>,
    /// Substring the body must contain.
    pub expect_body: Option<String>,
}

/// A health-check template: what a probe does and how results turn into a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Name resources use in `check:`.
    pub name: String,
    /// What a probe does, with its type's own settings.
    pub kind: CheckKind,
    /// Time between probes of one target.
    pub interval: Duration,
    /// Probe timeout.
    pub timeout: Duration,
    /// DOWN after `k` failures among the last `n` probes.
    pub down: (u32, u32),
    /// UP again after `k` successes among the last `n` probes.
    pub up: (u32, u32),
}

/// A thing probed once and shared by every member that names it: (probe address, check).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// Address probed.
    pub address: IpAddr,
    /// Index into [`Gslb::checks`].
    pub check: usize,
}

/// What one entry of a geo map says: try these datacenters in this order; the datacenters it
/// does not name follow in the map's `default` order unless `only` (then, when all named ones
/// are down, the resource's `when_all_down` applies).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GeoOrder {
    /// Datacenters in order.
    pub dcs: Vec<DcId>,
    /// Only these datacenters, never the rest of `default`.
    pub only: bool,
}

/// A prefix learned from a BGP RIB dump, with why it was taken (for `explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct BgpLearned {
    /// Where clients in the prefix go.
    pub order: GeoOrder,
    /// The BGP peer the route was learned from.
    pub peer_asn: u32,
    /// The last AS of the AS path (0 when the path is empty).
    pub origin_asn: u32,
}

/// A geo map: client networks (and, with a database, places) to datacenter orders.
///
/// Lookup order for a client: operator `networks` (and networks files) and BGP-learned
/// prefixes by longest prefix (an operator network wins over a BGP prefix of the same length),
/// then the database's subdivision, country, continent, then `nearest`, then `default`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GeoMap {
    /// Map name.
    pub name: String,
    /// Order when nothing more specific matches.
    pub default: Vec<DcId>,
    /// Operator prefixes, longest match wins; they beat the geo database.
    pub networks: crate::geo::PrefixMap<GeoOrder>,
    /// Prefixes taken from BGP dumps by the map's `bgp` rules.
    pub bgp: crate::geo::PrefixMap<BgpLearned>,
    /// ISO 3166-2 subdivision code ("RU-NVS") to order.
    pub subdivisions: Vec<(String, GeoOrder)>,
    /// ISO 3166-1 alpha-2 country code ("RU") to order.
    pub countries: Vec<(String, GeoOrder)>,
    /// Continent code ("EU", "AS", "NA", "SA", "AF", "OC", "AN") to order.
    pub continents: Vec<(String, GeoOrder)>,
    /// Order by great-circle distance from the client's database coordinates to each
    /// datacenter's `location` when no region entry matches.
    pub nearest: bool,
}

impl std::fmt::Display for MinUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MinUp::Count(n) => write!(f, "{n}"),
            MinUp::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl std::fmt::Display for WhenAllDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WhenAllDown::First => "first",
            WhenAllDown::All => "all",
            WhenAllDown::Empty => "empty",
            WhenAllDown::Servfail => "servfail",
        })
    }
}

impl std::fmt::Display for Pick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Pick::RoundRobin => "round_robin",
            Pick::ClientHash => "client_hash",
            Pick::WeightedRandom => "weighted_random",
        })
    }
}

impl std::fmt::Display for MembersMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MembersMode::Healthy => "healthy",
            MembersMode::All => "all",
        })
    }
}

/// An operator's decision that beats the probes (admin API, kept in the state file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Force {
    /// Treat as up whatever the probes say.
    Up,
    /// Treat as down: out of answers, but still a candidate for `when_all_down`.
    Down,
    /// Take out of every answer, `when_all_down` included; probes go on, so the real state
    /// is known when the drain is cleared.
    Drain,
}

impl std::fmt::Display for Force {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Force::Up => "up",
            Force::Down => "down",
            Force::Drain => "drain",
        })
    }
}

/// Forced states by name, as operators set them. The most specific one applies: a member's,
/// then its pool's (resource and datacenter), then its datacenter's.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Overrides {
    /// By member address (every pool that lists the address).
    #[serde(default)]
    pub members: std::collections::BTreeMap<IpAddr, Force>,
    /// By "resource/datacenter".
    #[serde(default)]
    pub pools: std::collections::BTreeMap<String, Force>,
    /// By datacenter name, across resources.
    #[serde(default)]
    pub datacenters: std::collections::BTreeMap<String, Force>,
}

impl Overrides {
    /// The force on a pool: its own, else its datacenter's.
    pub fn pool(&self, resource: &str, dc: &str) -> Option<Force> {
        self.pools
            .get(&format!("{resource}/{dc}"))
            .or_else(|| self.datacenters.get(dc))
            .copied()
    }

    /// Whether nothing is forced.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.pools.is_empty() && self.datacenters.is_empty()
    }
}

/// Everything GSLB-related from the configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gslb {
    /// Datacenters by id.
    pub datacenters: Vec<Datacenter>,
    /// Health-check templates.
    pub checks: Vec<Check>,
    /// Distinct health targets.
    pub targets: Vec<Target>,
    /// Geo maps.
    pub geo_maps: Vec<GeoMap>,
    /// Resources.
    pub resources: Vec<Resource>,
    /// The GeoIP database (`geoip.database`), loaded once per configuration and shared by
    /// every snapshot until the next reload (hence the `Arc`).
    pub geoip: Option<std::sync::Arc<crate::geo::db::GeoDb>>,
    /// What each geo map took from each BGP dump (for `check`, `/status` and `/metrics`).
    pub bgp_dumps: Vec<crate::geo::mrt::BgpDumpUse>,
}

impl Gslb {
    /// The resource with this name.
    pub fn resource(&self, name: &str) -> Option<(usize, &Resource)> {
        self.resources
            .iter()
            .enumerate()
            .find(|(_, r)| r.name == name)
    }

    /// Datacenter name, for messages.
    pub fn dc_name(&self, dc: DcId) -> &str {
        self.datacenters
            .get(dc as usize)
            .map_or("?", |d| d.name.as_str())
    }
}
