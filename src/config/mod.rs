//! The server file (`dynadns.yaml`): read, validate, and turn into typed settings.
//!
//! Loading is all-or-nothing and reports every problem at once: [`load`] returns either a
//! complete [`Loaded`] configuration (server settings plus every zone) or the full list of
//! diagnostics. `serve` and `check` share this path, so they agree on what is valid.

mod gslb;
pub use crate::yaml;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::zone::ZoneSet;
use crate::zone::load::{KnownResources, load_zone_file};
use yaml::{Kind, Node};

/// Hard limits that protect clients and the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest UDP answer sent to an EDNS client (RFC 6891 §6.2.5; 1232 avoids fragmentation).
    pub edns_udp_payload: u16,
    /// Most addresses in one DYNA answer.
    pub max_answers: usize,
    /// Open TCP connections allowed at once; more are closed on accept.
    pub tcp_max_connections: usize,
    /// A TCP connection with no complete query for this long is closed (RFC 7766 §6.2.3).
    pub tcp_idle_timeout: Duration,
    /// Response rate limiting over UDP (`limits.rrl`).
    pub rrl: crate::rrl::Settings,
    /// Key of our DNS server cookies (`limits.cookies.secret`); `None`: random per process.
    pub cookie_secret: Option<crate::cookie::Secret>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            edns_udp_payload: 1232,
            max_answers: 64,
            tcp_max_connections: 1024,
            tcp_idle_timeout: Duration::from_secs(10),
            rrl: crate::rrl::Settings::default(),
            cookie_secret: None,
        }
    }
}

/// Process-level settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// Threads answering UDP per listen address (0 = one per CPU).
    pub udp_workers: usize,
    /// Answer to CHAOS `version.bind`; empty hides it (REFUSED).
    pub version: String,
    /// Answer to CHAOS `id.server` / `hostname.bind`; empty hides it.
    pub identity: String,
    /// How long a changed data file ([`ServerConfig::sources`]) must stay unchanged before the
    /// server reloads (a file written in place is then not read half-written). Applies on
    /// reload.
    pub watch_debounce: Duration,
    /// Largest file (zone, members, networks, GeoIP database, BGP dump, health file) the
    /// server reads; a bigger one is an error, so a wrong path cannot exhaust memory.
    pub max_file_size: u64,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            udp_workers: 0,
            version: format!("dynadns {}", env!("CARGO_PKG_VERSION")),
            identity: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            watch_debounce: DEFAULT_WATCH_DEBOUNCE,
            max_file_size: crate::fsread::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// Default of `server.watch_debounce`.
pub const DEFAULT_WATCH_DEBOUNCE: Duration = Duration::from_secs(2);

/// Longest `server.watch_debounce`.
const MAX_WATCH_DEBOUNCE: Duration = Duration::from_secs(3600);

/// The server file, validated.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Path of the file, as given.
    pub path: PathBuf,
    /// DNS listen addresses (UDP and TCP on each).
    pub listen_dns: Vec<SocketAddr>,
    /// Admin HTTP listen address.
    pub listen_admin: Option<SocketAddr>,
    /// Directory holding one `*.yaml` file per zone.
    pub zones_dir: PathBuf,
    /// Protocol and resource limits.
    pub limits: Limits,
    /// Process settings.
    pub server: ServerOptions,
    /// Names of configured resources, for `DYNA`/`DYNC` references.
    pub resources: KnownResources,
    /// Datacenters, checks, geo maps and resources.
    pub gslb: crate::gslb::Gslb,
    /// Prober settings.
    pub health: crate::health::monitor::HealthSettings,
    /// Token required for admin API calls that change state (None: no token).
    pub admin_token: Option<String>,
    /// `admin.insecure`: the operator accepts an admin API on a non-loopback address without
    /// a token (anyone who reaches the port can force states).
    pub admin_insecure: bool,
    /// `admin.hosts`: extra Host header names the admin API accepts (a reverse proxy's name).
    pub admin_hosts: Vec<String>,
    /// `admin.max_connections`: admin connections open at once; more are closed on accept.
    pub admin_max_connections: usize,
    /// Data files the configuration was built from besides the server file and the zones
    /// (members and networks files, the GeoIP database, BGP dumps): tools rewrite them
    /// (geoipupdate, route-server exports), so the server watches them and reloads on change.
    pub sources: Vec<PathBuf>,
    /// The stamp of each of `sources` (same order) taken just before it was read, so a change
    /// made while the rest of the configuration loads is noticed (`None`: missing).
    pub source_stamps: Vec<Option<crate::server::Stamp>>,
}

/// A complete configuration: the server file and every zone.
#[derive(Debug)]
pub struct Loaded {
    /// Server settings.
    pub config: ServerConfig,
    /// All zones.
    pub zones: ZoneSet,
}

const TOP_KEYS: &[&str] = &[
    "listen",
    "health",
    "admin",
    "zones",
    "geoip",
    "limits",
    "server",
    "checks",
    "datacenters",
    "geo_maps",
    "resources",
];

/// A key the server file's grammar already has but the server does not implement yet.
///
/// Writing one is an error, never a silent no-op: an operator who configures `countries:` must
/// not believe clients are routed by country. Turning a feature on is removing its rows here
/// (and reading the key where its section is parsed).
pub(crate) struct NotYet {
    /// The section holding the key, as passed to [`Ctx::not_yet`].
    pub section: &'static str,
    /// The key.
    pub key: &'static str,
    /// What is missing, for "not supported yet: needs ...".
    pub needs: &'static str,
    /// What happens meanwhile, for the hint.
    pub meanwhile: &'static str,
}

/// Every key that is reserved but not implemented yet (the one list to shorten when they are).
pub(crate) const NOT_YET: &[NotYet] = &[];

/// Reads `limits.rrl` into `rrl` (keys left out keep their defaults).
fn read_rrl(cx: &mut Ctx<'_>, n: &Node, rrl: &mut crate::rrl::Settings) {
    let m = cx.map(
        n,
        "limits.rrl",
        &["rate", "slip", "ipv4_prefix", "ipv6_prefix", "table_size"],
    );
    if let Some(v) = m
        .get("rate")
        .and_then(|n| cx.number(n, "rrl rate", 0, 1_000_000))
    {
        rrl.rate = v as u32;
    }
    if let Some(v) = m.get("slip").and_then(|n| cx.number(n, "rrl slip", 0, 10)) {
        rrl.slip = v as u32;
    }
    if let Some(v) = m
        .get("ipv4_prefix")
        .and_then(|n| cx.number(n, "rrl ipv4_prefix", 8, 32))
    {
        rrl.ipv4_prefix = v as u8;
    }
    if let Some(v) = m
        .get("ipv6_prefix")
        .and_then(|n| cx.number(n, "rrl ipv6_prefix", 16, 128))
    {
        rrl.ipv6_prefix = v as u8;
    }
    if let Some(v) = m
        .get("table_size")
        .and_then(|n| cx.number(n, "rrl table_size", 1024, 16_777_216))
    {
        rrl.table_size = v as usize;
    }
}

/// The candidate closest in spelling to `word` (a swap, a typo, a missing letter), for
/// "did you mean ...?" hints; `None` when nothing is close or `word` is itself a candidate.
pub(crate) fn near_miss<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = if word.chars().count() <= 4 { 1 } else { 2 };
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .filter(|&(d, _)| d > 0)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// "did you mean 'x'? " when a candidate is close to `word`, else nothing: a hint prefix.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    near_miss(word, candidates).map_or_else(String::new, |c| format!("did you mean '{c}'? "))
}

/// A whole number from `min` to `max`, or the message and hint saying why `s` is not one:
/// "out of range (1..=1024)" for a number, "must be a whole number" for other text. Shared by
/// the server file and the members files, so both say it the same way.
pub(crate) fn whole_number(
    s: &str,
    what: &str,
    min: u64,
    max: u64,
) -> Result<u64, (String, String)> {
    let hint = || format!("write a whole number from {min} to {max}");
    match s.parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ if s.parse::<i128>().is_ok() => Err((
            format!("{what} '{s}' is out of range ({min}..={max})"),
            hint(),
        )),
        _ => Err((format!("{what} '{s}' is not a whole number"), hint())),
    }
}

/// Loader state: the file being read and the problems found so far.
pub(crate) struct Ctx<'a> {
    path: &'a Path,
    diags: Diagnostics,
    /// Data files read on the way and their stamps (see [`ServerConfig::sources`]).
    sources: Vec<PathBuf>,
    source_stamps: Vec<Option<crate::server::Stamp>>,
    /// `server.max_file_size`, for the data files read while loading.
    pub(crate) max_file_size: u64,
}

impl Ctx<'_> {
    /// Records that the configuration read `path`, so a change to it is noticed (see
    /// [`ServerConfig::sources`]). Call it whether or not the file could be read: a file that
    /// is missing now may appear later and fix the configuration. Call it before reading: the
    /// file's stamp is taken now.
    pub(crate) fn watch(&mut self, path: &Path) {
        if !self.sources.iter().any(|p| p == path) {
            self.sources.push(path.to_path_buf());
            self.source_stamps.push(crate::server::Stamp::of(path));
        }
    }

    pub(crate) fn err(&mut self, at: &Node, msg: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::new(self.path, at.pos, msg));
        self.diags.0.last_mut().expect("just pushed")
    }

    pub(crate) fn map<'n>(
        &mut self,
        n: &'n Node,
        what: &str,
        keys: &[&str],
    ) -> HashMap<&'n str, &'n Node> {
        let mut out = HashMap::new();
        match &n.kind {
            Kind::Map(entries) => {
                for (k, v) in entries {
                    let key = k.as_str().unwrap_or("");
                    if keys.is_empty() || keys.contains(&key) {
                        out.insert(key, v);
                    } else {
                        self.err(k, format!("unknown key '{key}' in {what}")).hint =
                            Some(format!("valid keys are: {}", keys.join(", ")));
                    }
                }
            }
            Kind::Null => {}
            _ => {
                self.err(n, format!("{what} must be a mapping, found {}", n.shape()));
            }
        }
        out
    }

    pub(crate) fn addr(&mut self, n: &Node, what: &str) -> Option<SocketAddr> {
        let s = n.as_str().unwrap_or("");
        match s.parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.err(n, format!("{what} '{s}' is not an ADDRESS:PORT"))
                    .hint =
                    Some("write e.g. \"127.0.0.1:5353\" or \"[::1]:5353\" (quote IPv6)".into());
                None
            }
        }
    }

    /// Reports every key of the mapping `n` that [`NOT_YET`] lists for `section`, at the key.
    pub(crate) fn not_yet(&mut self, n: &Node, section: &str) {
        for (k, _) in n.as_map().unwrap_or_default() {
            let key = k.as_str().unwrap_or("");
            if let Some(ny) = NOT_YET
                .iter()
                .find(|x| x.section == section && x.key == key)
            {
                self.err(
                    k,
                    format!("'{key}' is not supported yet: needs {}", ny.needs),
                )
                .hint = Some(format!("remove '{key}' for now; {}", ny.meanwhile));
            }
        }
    }

    /// A whole number from `min` to `max` (see [`whole_number`]); an error at `n` otherwise.
    pub(crate) fn number(&mut self, n: &Node, what: &str, min: u64, max: u64) -> Option<u64> {
        let s = self.text(n, what)?;
        match whole_number(s, what, min, max) {
            Ok(v) => Some(v),
            Err((msg, hint)) => {
                self.err(n, msg).hint = Some(hint);
                None
            }
        }
    }

    /// A duration in the grammar of [`crate::duration`] (`500ms`, `2s`, `1h30m`); "out of
    /// range" is told apart from "not a duration".
    pub(crate) fn duration(&mut self, n: &Node, what: &str) -> Option<Duration> {
        let s = self.text(n, what)?;
        match crate::duration::parse_duration(s) {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(n, format!("{what} '{s}' is {e}")).hint =
                    Some("write e.g. 500ms, 2s, 1m".into());
                None
            }
        }
    }

    /// The text of a single value; for a list or a mapping an error at `n` (a path or a name
    /// written as `[a]` is a mistake, not something to skip).
    pub(crate) fn text<'n>(&mut self, n: &'n Node, what: &str) -> Option<&'n str> {
        let s = n.as_str();
        if s.is_none() {
            self.err(
                n,
                format!("{what} must be a single value, found {}", n.shape()),
            )
            .hint = Some("write one value, not a list or a mapping".into());
        }
        s
    }

    /// `true` or `false`; an error at `n` for anything else.
    pub(crate) fn flag(&mut self, n: &Node, what: &str) -> Option<bool> {
        match n.as_str() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => {
                self.err(n, format!("{what} must be true or false"));
                None
            }
        }
    }
}

/// Reads the server file and every zone it names. Relative paths in the file are relative to
/// the file's directory. Warnings (problems corrected on the fly, like duplicate records) do
/// not fail the load; they are logged (`serve`, reload). `check` uses [`load_with_warnings`].
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    let (loaded, warnings) = load_with_warnings(path)?;
    for w in &warnings.0 {
        tracing::warn!("{w}");
    }
    Ok(loaded)
}

/// As [`load`], returning the warnings instead of logging them. On failure the diagnostics
/// hold the errors and the warnings, in file order.
pub fn load_with_warnings(path: &Path) -> Result<(Loaded, Diagnostics), Diagnostics> {
    // The server file itself is read under the default limit: its own setting is not known yet.
    let text = yaml::read_text(path, "configuration", crate::fsread::DEFAULT_MAX_FILE_SIZE)
        .map_err(|d| {
            if d.line == 0 {
                d.hint("pass the file with -c, or run from the directory holding dynadns.yaml")
            } else {
                d
            }
        })?;
    let root = yaml::parse(&text, path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut cx = Ctx {
        path,
        diags: Diagnostics::default(),
        sources: Vec::new(),
        source_stamps: Vec::new(),
        max_file_size: crate::fsread::DEFAULT_MAX_FILE_SIZE,
    };
    let top = cx.map(&root, "the configuration", TOP_KEYS);
    cx.not_yet(&root, "top");

    let mut listen_dns = Vec::new();
    let mut listen_admin = None;
    let mut listen_admin_node = None;
    if let Some(l) = top.get("listen") {
        let lm = cx.map(l, "listen", &["dns", "admin"]);
        if let Some(d) = lm.get("dns") {
            for item in d.one_or_many() {
                if let Some(a) = cx.addr(item, "listen address") {
                    listen_dns.push(a);
                }
            }
        }
        if let Some(a) = lm.get("admin") {
            listen_admin = cx.addr(a, "admin address");
            listen_admin_node = Some(*a);
        }
    }
    if listen_dns.is_empty() && !top.contains_key("listen") {
        listen_dns.push(SocketAddr::from(([127, 0, 0, 1], 5353)));
    }

    let zones_dir = match top.get("zones").map(|z| cx.text(z, "zones")) {
        Some(Some(s)) => base.join(s),
        _ => base.join("zones"),
    };

    let mut limits = Limits::default();
    if let Some(l) = top.get("limits") {
        let lm = cx.map(
            l,
            "limits",
            &[
                "edns_udp_payload",
                "max_answers",
                "tcp_max_connections",
                "tcp_idle_timeout",
                "rrl",
                "cookies",
            ],
        );
        cx.not_yet(l, "limits");
        if let Some(v) = lm
            .get("edns_udp_payload")
            .and_then(|n| cx.number(n, "edns_udp_payload", 512, 4096))
        {
            limits.edns_udp_payload = v as u16;
        }
        if let Some(v) = lm
            .get("max_answers")
            .and_then(|n| cx.number(n, "max_answers", 1, 1024))
        {
            limits.max_answers = v as usize;
        }
        if let Some(v) = lm
            .get("tcp_max_connections")
            .and_then(|n| cx.number(n, "tcp_max_connections", 1, 1_000_000))
        {
            limits.tcp_max_connections = v as usize;
        }
        if let Some(v) = lm
            .get("tcp_idle_timeout")
            .and_then(|n| cx.duration(n, "tcp_idle_timeout"))
        {
            limits.tcp_idle_timeout = v;
        }
        if let Some(r) = lm.get("rrl") {
            read_rrl(&mut cx, r, &mut limits.rrl);
        }
        if let Some(c) = lm.get("cookies") {
            let cm = cx.map(c, "limits.cookies", &["secret"]);
            if let Some(s) = cm.get("secret")
                && let Some(text) = cx.text(s, "cookie secret")
            {
                match crate::cookie::Secret::from_hex(text) {
                    Some(k) => limits.cookie_secret = Some(k),
                    None => {
                        cx.err(s, "cookie secret must be 32 hexadecimal digits (128 bits)")
                            .hint = Some(
                            "generate one with: openssl rand -hex 16 (the same for every server of the NS set)"
                                .into(),
                        );
                    }
                }
            }
        }
    }

    let mut server = ServerOptions::default();
    if let Some(s) = top.get("server") {
        let sm = cx.map(
            s,
            "server",
            &[
                "udp_workers",
                "version",
                "identity",
                "watch_debounce",
                "max_file_size",
            ],
        );
        if let Some(v) = sm
            .get("udp_workers")
            .and_then(|n| cx.number(n, "udp_workers", 0, 256))
        {
            server.udp_workers = v as usize;
        }
        if let Some(v) = sm.get("version").and_then(|v| cx.text(v, "version")) {
            server.version = v.to_string();
        }
        if let Some(v) = sm.get("identity").and_then(|v| cx.text(v, "identity")) {
            server.identity = v.to_string();
        }
        if let Some(n) = sm.get("watch_debounce")
            && let Some(v) = cx.duration(n, "watch_debounce")
        {
            if v > MAX_WATCH_DEBOUNCE {
                cx.err(n, "watch_debounce is out of range (0s..=1h)");
            } else {
                server.watch_debounce = v;
            }
        }
        if let Some(n) = sm.get("max_file_size")
            && let Some(t) = cx.text(n, "max_file_size")
        {
            match crate::fsread::parse_size(t) {
                Ok(v) if v > 0 => {
                    server.max_file_size = v;
                    cx.max_file_size = v;
                }
                Ok(_) => {
                    cx.err(n, "max_file_size must be more than 0").hint =
                        Some("write a size like 512M or 2G (default 1G)".into());
                }
                Err(e) => {
                    cx.err(n, format!("max_file_size '{t}' is {e}")).hint = Some(
                        "write a size in bytes or with K, M, G or T (binary multiples), \
                         e.g. 512M or 2G (default 1G)"
                            .into(),
                    );
                }
            }
        }
    }

    let geoip = top.get("geoip").and_then(|g| geoip(&mut cx, g, &base));
    let (mut gslb, bgp_dumps) = gslb::parse(&mut cx, &top, &base, geoip);
    gslb.bgp_dumps = bgp_dumps;
    let mut health = crate::health::monitor::HealthSettings {
        state_file: Some(base.join("dynadns.state.json")),
        max_file_size: server.max_file_size,
        ..Default::default()
    };
    if let Some(h) = top.get("health") {
        let hm = cx.map(
            h,
            "health",
            &["state_file", "state_max_age", "max_in_flight"],
        );
        if let Some(f) = hm.get("state_file") {
            health.state_file = match f.as_str() {
                Some("") | None => None,
                Some(p) => Some(base.join(p)),
            };
        }
        if let Some(v) = hm
            .get("state_max_age")
            .and_then(|n| cx.duration(n, "state_max_age"))
        {
            health.state_max_age = v;
        }
        if let Some(v) = hm
            .get("max_in_flight")
            .and_then(|n| cx.number(n, "max_in_flight", 1, 100_000))
        {
            health.max_in_flight = v as usize;
        }
    }
    let mut admin_token = None;
    let mut admin_insecure = false;
    let mut admin_hosts = Vec::new();
    let mut admin_max_connections = DEFAULT_ADMIN_MAX_CONNECTIONS;
    if let Some(a) = top.get("admin") {
        let am = cx.map(
            a,
            "admin",
            &["token", "insecure", "hosts", "max_connections"],
        );
        if let Some(v) = am
            .get("insecure")
            .and_then(|n| cx.flag(n, "admin.insecure"))
        {
            admin_insecure = v;
        }
        if let Some(h) = am.get("hosts") {
            for item in h.one_or_many() {
                match item.as_str() {
                    Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic()) => {
                        admin_hosts.push(v.to_ascii_lowercase());
                    }
                    _ => {
                        cx.err(item, "admin.hosts entries must be host names (or name:port)")
                            .hint = Some(
                            "write the names a reverse proxy sends in Host, e.g. hosts: [dns-admin.example.net]"
                                .into(),
                        );
                    }
                }
            }
        }
        if let Some(v) = am
            .get("max_connections")
            .and_then(|n| cx.number(n, "admin.max_connections", 1, 100_000))
        {
            admin_max_connections = v as usize;
        }
        if let Some(t) = am.get("token") {
            match t.as_str() {
                Some(v) if v.len() >= 16 => admin_token = Some(v.to_string()),
                _ => {
                    cx.err(t, "admin token must be a string of at least 16 characters")
                        .hint = Some("generate one with: head -c 24 /dev/urandom | base64".into());
                }
            }
        }
    }
    if let (Some(addr), Some(node)) = (listen_admin, listen_admin_node)
        && let Err(msg) = admin_exposure(addr, admin_token.is_some(), admin_insecure)
    {
        cx.err(node, msg).hint = Some(ADMIN_EXPOSURE_HINT.into());
    }
    let mut resources = KnownResources::default();
    for (i, r) in gslb.resources.iter().enumerate() {
        match r.answers {
            crate::gslb::Answers::Cnames(_) => resources.cnames.insert(r.name.clone(), i),
            crate::gslb::Answers::Addresses(_) => resources.addresses.insert(r.name.clone(), i),
        };
    }

    let config = ServerConfig {
        path: path.to_path_buf(),
        listen_dns,
        listen_admin,
        zones_dir,
        limits,
        server,
        resources,
        gslb,
        health,
        admin_token,
        admin_insecure,
        admin_hosts,
        admin_max_connections,
        sources: std::mem::take(&mut cx.sources),
        source_stamps: std::mem::take(&mut cx.source_stamps),
    };
    let zones = load_zones(&config, &mut cx.diags);
    // Sections are checked in dependency order, not file order: list problems as the operator
    // reads the files (stable, so problems at one place keep their order).
    cx.diags
        .0
        .sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
    if cx.diags.has_errors() {
        Err(cx.diags)
    } else {
        Ok((Loaded { config, zones }, cx.diags))
    }
}

/// Default of `admin.max_connections`: plenty for operators and a scraper, small enough that a
/// flood of half-open requests cannot take many descriptors.
pub const DEFAULT_ADMIN_MAX_CONNECTIONS: usize = 64;

/// What to do about an exposed admin API (config error and `serve --admin`).
pub const ADMIN_EXPOSURE_HINT: &str = "listen on 127.0.0.1 or [::1] (and reach it through SSH or a \
     reverse proxy), or set admin.token, or accept the risk with admin.insecure: true";

/// Refuses an admin API that anyone on the network could use to force states: a non-loopback
/// address needs `admin.token` or an explicit `admin.insecure: true`.
pub fn admin_exposure(addr: SocketAddr, has_token: bool, insecure: bool) -> Result<(), String> {
    if addr.ip().is_loopback() || has_token || insecure {
        Ok(())
    } else {
        Err(format!(
            "admin API on {addr} is reachable from other hosts and admin.token is not set: \
             anyone who reaches it could force members down"
        ))
    }
}

/// `geoip: { database: PATH }`: loads the database once (see [`crate::geo::db`]); any problem
/// is an error at `database` naming the file, what is wrong and what to do.
fn geoip(cx: &mut Ctx<'_>, n: &Node, base: &Path) -> Option<std::sync::Arc<crate::geo::db::GeoDb>> {
    let m = cx.map(n, "geoip", &["database"]);
    let Some(d) = m.get("database") else {
        cx.err(n, "geoip has no database").hint =
            Some("write geoip: { database: PATH } (a MaxMind City or Country .mmdb file)".into());
        return None;
    };
    let rel = cx.text(d, "geoip.database")?;
    let path = base.join(rel);
    cx.watch(&path);
    match crate::geo::db::GeoDb::open_limited(&path, cx.max_file_size) {
        Ok(db) => Some(std::sync::Arc::new(db)),
        Err(e) => {
            cx.err(d, format!("GeoIP database {}: {e}", path.display()))
                .hint = Some(
                "paths are relative to the server file's directory; install a complete MaxMind \
                 City or Country database there (e.g. with geoipupdate) or remove geoip:"
                    .into(),
            );
            None
        }
    }
}

/// Loads every `*.yaml` in the zones directory (sorted, so errors come in a stable order).
fn load_zones(config: &ServerConfig, diags: &mut Diagnostics) -> ZoneSet {
    let mut set = ZoneSet::default();
    let dir = &config.zones_dir;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(
                Diagnostic::new(
                    &config.path,
                    Pos::default(),
                    format!("cannot read zones directory {}: {e}", dir.display()),
                )
                .hint(
                    "set 'zones:' to a directory of zone files, relative to the configuration file",
                ),
            );
            return set;
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let mut seen: HashMap<Box<[u8]>, PathBuf> = HashMap::new();
    for file in files {
        if let Some(zone) =
            load_zone_file(&file, &config.resources, config.server.max_file_size, diags)
        {
            if let Some(first) = seen.get(&zone.origin) {
                diags.push(
                    Diagnostic::new(&file, Pos { line: 1, col: 1 }, format!("zone {} is already defined in {}", zone.name, first.display()))
                        .hint("each zone must be defined in exactly one file; remove or rename one of them"),
                );
                continue;
            }
            seen.insert(zone.origin.clone(), file.clone());
            set.insert(zone);
        }
    }
    if set.is_empty() && !diags.has_errors() {
        diags.push(
            Diagnostic::new(&config.path, Pos::default(), format!("no zone files (*.yaml) in {}", dir.display()))
                .hint("create one, e.g. zones/example.com.yaml, or convert a zone file with `dynadns import-zone`"),
        );
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses() {
        let dcs = ["msk", "spb", "nsk"];
        assert_eq!(near_miss("mks", dcs), Some("msk"));
        assert_eq!(near_miss("spd", dcs), Some("spb"));
        assert_eq!(near_miss("london", dcs), None);
        assert_eq!(
            near_miss("msk", dcs),
            None,
            "an exact name is not a near miss"
        );
        assert_eq!(near_miss("hhtps", ["http", "https"]), Some("https"));
        assert_eq!(edit_distance("abc", "acb"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
