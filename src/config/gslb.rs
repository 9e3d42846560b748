//! The GSLB part of the server file: `checks`, `datacenters`, `geo_maps`, `resources`.
//!
//! Everything is resolved to indices here (datacenter ids, check ids, health targets), so the
//! selection engine never looks a name up, and every reference to something undefined is an
//! error at the place it is written.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Ctx;
use super::yaml::{Kind, Node};
use crate::diag::{Diagnostic, Pos};
use crate::geo::{PrefixMap, parse_cidr};
use crate::gslb::{
    AnswerPolicy, Answers, Check, CheckKind, CnamePool, Datacenter, DcId, GeoMap, Gslb, Member,
    MembersMode, MinUp, Pick, Pool, Resource, Route, Target, TargetId, WhenAllDown,
};
use crate::wire::name::from_text;

const CHECK_KEYS: &[&str] = &[
    "type",
    "port",
    "path",
    "host",
    "expect_status",
    "expect_body",
    "interval",
    "timeout",
    "down",
    "up",
    "file",
    "insecure",
    "ca_file",
];
const RESOURCE_KEYS: &[&str] = &[
    "ttl",
    "check",
    "pools",
    "cnames",
    "route",
    "min_up",
    "when_all_down",
    "answer",
    "members",
];
const GEO_KEYS: &[&str] = &[
    "default",
    "continents",
    "countries",
    "subdivisions",
    "networks",
    "networks_files",
    "nearest",
];
/// Longest health window we keep per target.
const MAX_WINDOW: u32 = 256;

/// Parses the GSLB sections. `top` is the server file's top-level mapping.
pub(super) fn parse(cx: &mut Ctx<'_>, top: &HashMap<&str, &Node>, base: &Path) -> Gslb {
    let mut g = Gslb::default();
    let mut dc_ids: HashMap<String, DcId> = HashMap::new();
    if let Some(n) = top.get("datacenters") {
        for (name, def) in entries(cx, n, "datacenters") {
            let dm = cx.map(def, &format!("datacenter '{name}'"), &["location"]);
            let location = dm.get("location").and_then(|l| location(cx, l));
            dc_ids.insert(name.to_string(), g.datacenters.len() as DcId);
            g.datacenters.push(Datacenter {
                name: name.to_string(),
                location,
            });
        }
    }
    let mut check_ids: HashMap<String, usize> = HashMap::new();
    if let Some(n) = top.get("checks") {
        for (name, def) in entries(cx, n, "checks") {
            if let Some(c) = check(cx, name, def, base) {
                check_ids.insert(name.to_string(), g.checks.len());
                g.checks.push(c);
            }
        }
    }
    let mut map_ids: HashMap<String, usize> = HashMap::new();
    if let Some(n) = top.get("geo_maps") {
        for (name, def) in entries(cx, n, "geo_maps") {
            let mut dcs = Dcs {
                ids: &mut dc_ids,
                list: &mut g.datacenters,
            };
            let m = geo_map(cx, name, def, base, &mut dcs);
            map_ids.insert(name.to_string(), g.geo_maps.len());
            g.geo_maps.push(m);
        }
    }
    let mut targets: HashMap<Target, TargetId> = HashMap::new();
    if let Some(n) = top.get("resources") {
        for (name, def) in entries(cx, n, "resources") {
            let mut dcs = Dcs {
                ids: &mut dc_ids,
                list: &mut g.datacenters,
            };
            let refs = Refs {
                checks: &check_ids,
                check_list: &g.checks,
                maps: &map_ids,
            };
            if let Some(r) = resource(cx, name, def, base, &mut dcs, &refs, &mut targets) {
                g.resources.push(r);
            }
        }
    }
    let mut t: Vec<(Target, TargetId)> = targets.into_iter().collect();
    t.sort_by_key(|(_, id)| *id);
    g.targets = t.into_iter().map(|(t, _)| t).collect();
    g
}

/// Datacenters known so far. A pool or map may name a datacenter not listed under
/// `datacenters:` (it then has no location); it is added on first use.
struct Dcs<'a> {
    ids: &'a mut HashMap<String, DcId>,
    list: &'a mut Vec<Datacenter>,
}

impl Dcs<'_> {
    fn id(&mut self, name: &str) -> DcId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.list.len() as DcId;
        self.list.push(Datacenter {
            name: name.to_string(),
            location: None,
        });
        self.ids.insert(name.to_string(), id);
        id
    }
}

struct Refs<'a> {
    checks: &'a HashMap<String, usize>,
    check_list: &'a [Check],
    maps: &'a HashMap<String, usize>,
}

fn entries<'n>(cx: &mut Ctx<'_>, n: &'n Node, what: &str) -> Vec<(&'n str, &'n Node)> {
    match &n.kind {
        Kind::Map(e) => e
            .iter()
            .filter_map(|(k, v)| k.as_str().map(|s| (s, v)))
            .collect(),
        Kind::Null => Vec::new(),
        _ => {
            cx.err(
                n,
                format!("{what} must be a mapping of names, found {}", n.shape()),
            );
            Vec::new()
        }
    }
}

fn location(cx: &mut Ctx<'_>, n: &Node) -> Option<(f64, f64)> {
    let items = n.one_or_many();
    let nums: Vec<Option<f64>> = items
        .iter()
        .map(|i| i.as_str().and_then(|s| s.parse::<f64>().ok()))
        .collect();
    match nums.as_slice() {
        [Some(lat), Some(lon)] if lat.abs() <= 90.0 && lon.abs() <= 180.0 => Some((*lat, *lon)),
        _ => {
            cx.err(
                n,
                "location must be [latitude, longitude], e.g. [55.75, 37.62]",
            );
            None
        }
    }
}

fn k_of_n(cx: &mut Ctx<'_>, n: &Node, what: &str) -> Option<(u32, u32)> {
    let s = n.as_str().unwrap_or("");
    let parsed = s
        .split_once('/')
        .and_then(|(k, m)| Some((k.trim().parse::<u32>().ok()?, m.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((k, m)) if k >= 1 && k <= m && m <= MAX_WINDOW => Some((k, m)),
        _ => {
            cx.err(
                n,
                format!("{what} '{s}' must be K/N with 1 <= K <= N <= {MAX_WINDOW}"),
            )
            .hint = Some(format!(
                "e.g. {what}: 10/20 means {} after 10 of the last 20 probes",
                if what == "down" { "DOWN" } else { "UP" }
            ));
            None
        }
    }
}

fn check(cx: &mut Ctx<'_>, name: &str, def: &Node, base: &Path) -> Option<Check> {
    let m = cx.map(def, &format!("check '{name}'"), CHECK_KEYS);
    let Some(t) = m.get("type") else {
        cx.err(def, format!("check '{name}' has no type")).hint =
            Some("type is one of tcp, http, https, always_up, always_down, file".into());
        return None;
    };
    let kind = match t.as_str().unwrap_or("") {
        "tcp" => CheckKind::Tcp,
        "http" => CheckKind::Http,
        "https" => CheckKind::Https,
        "always_up" => CheckKind::AlwaysUp,
        "always_down" => CheckKind::AlwaysDown,
        "file" => match m.get("file").and_then(|f| f.as_str()) {
            Some(f) => CheckKind::File(base.join(f)),
            None => {
                cx.err(
                    def,
                    format!("check '{name}' of type file needs 'file: PATH'"),
                );
                return None;
            }
        },
        other => {
            cx.err(t, format!("unknown check type '{other}'")).hint =
                Some("type is one of tcp, http, https, always_up, always_down, file".into());
            return None;
        }
    };
    let port = match m.get("port") {
        Some(p) => cx.number(p, "port", 1, 65535).map(|v| v as u16)?,
        None => match kind {
            CheckKind::Http => 80,
            CheckKind::Https => 443,
            CheckKind::Tcp => {
                cx.err(def, format!("check '{name}' of type tcp needs 'port:'"));
                return None;
            }
            _ => 0,
        },
    };
    let interval = m
        .get("interval")
        .and_then(|n| cx.duration(n, "interval"))
        .unwrap_or(Duration::from_secs(5));
    let timeout = m
        .get("timeout")
        .and_then(|n| cx.duration(n, "timeout"))
        .unwrap_or(Duration::from_secs(1).min(interval));
    if interval < Duration::from_millis(100)
        && let Some(n) = m.get("interval")
    {
        cx.err(n, "interval must be at least 100ms");
    }
    if timeout > interval
        && let Some(n) = m.get("timeout")
    {
        cx.err(n, "timeout must not be longer than interval").hint =
            Some("a probe must finish before the next one of the same target starts".into());
    }
    let down = match m.get("down") {
        Some(n) => k_of_n(cx, n, "down")?,
        None => (3, 5),
    };
    let up = match m.get("up") {
        Some(n) => k_of_n(cx, n, "up")?,
        None => (5, 5),
    };
    let expect_status = match m.get("expect_status") {
        Some(n) => n
            .one_or_many()
            .into_iter()
            .filter_map(|i| cx.number(i, "expect_status", 100, 599).map(|v| v as u16))
            .collect(),
        None => vec![200],
    };
    let insecure = match m.get("insecure") {
        None => false,
        Some(n) => match n.as_str() {
            Some("true") => true,
            Some("false") => false,
            _ => {
                cx.err(n, "insecure must be true or false");
                false
            }
        },
    };
    Some(Check {
        name: name.to_string(),
        kind,
        port,
        path: m
            .get("path")
            .and_then(|p| p.as_str())
            .unwrap_or("/")
            .to_string(),
        host: m.get("host").and_then(|h| h.as_str()).map(str::to_string),
        expect_status,
        expect_body: m
            .get("expect_body")
            .and_then(|b| b.as_str())
            .map(str::to_string),
        interval,
        timeout,
        down,
        up,
        insecure,
        ca_file: m
            .get("ca_file")
            .and_then(|f| f.as_str())
            .map(|f| base.join(f)),
    })
}

fn dc_list(
    cx: &mut Ctx<'_>,
    n: &Node,
    dcs: &mut Dcs<'_>,
    known_only: Option<&[DcId]>,
) -> Vec<DcId> {
    let mut out = Vec::new();
    for item in n.one_or_many() {
        let Some(name) = item.as_str() else {
            cx.err(item, "expected a datacenter name");
            continue;
        };
        let id = dcs.id(name);
        if let Some(allowed) = known_only
            && !allowed.contains(&id)
        {
            cx.err(
                item,
                format!("datacenter '{name}' has no pool in this resource"),
            )
            .hint = Some("route.order may only name datacenters listed under pools/cnames".into());
            continue;
        }
        if out.contains(&id) {
            cx.err(item, format!("datacenter '{name}' is listed twice"));
            continue;
        }
        out.push(id);
    }
    out
}

fn geo_map(cx: &mut Ctx<'_>, name: &str, def: &Node, base: &Path, dcs: &mut Dcs<'_>) -> GeoMap {
    let m = cx.map(def, &format!("geo map '{name}'"), GEO_KEYS);
    let default = match m.get("default") {
        Some(n) => dc_list(cx, n, dcs, None),
        None => Vec::new(),
    };
    for key in ["continents", "countries", "subdivisions"] {
        if let Some(n) = m.get(key) {
            for (_, v) in entries(cx, n, key) {
                dc_list(cx, v, dcs, None);
            }
        }
    }
    let mut networks = PrefixMap::default();
    if let Some(n) = m.get("networks") {
        for (k, v) in n.as_map().unwrap_or_default() {
            let text = k.as_str().unwrap_or("");
            match parse_cidr(text) {
                Ok((a, l)) => {
                    let list = dc_list(cx, v, dcs, None);
                    if !networks.insert(a, l, list) {
                        cx.err(k, format!("network {text} is listed twice"));
                    }
                }
                Err(e) => {
                    cx.err(k, format!("bad network '{text}': {e}"));
                }
            }
        }
    }
    if let Some(n) = m.get("networks_files") {
        for f in n.one_or_many() {
            let Some(rel) = f.as_str() else { continue };
            networks_file(cx, f, &base.join(rel), dcs, &mut networks);
        }
    }
    GeoMap {
        name: name.to_string(),
        default,
        networks,
    }
}

/// Reads `CIDR dc[,dc...]` lines (comments with `#`).
fn networks_file(
    cx: &mut Ctx<'_>,
    at: &Node,
    path: &Path,
    dcs: &mut Dcs<'_>,
    out: &mut PrefixMap<Vec<DcId>>,
) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            cx.err(
                at,
                format!("cannot read networks file {}: {e}", path.display()),
            );
            return;
        }
    };
    for (i, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let pos = Pos {
            line: i + 1,
            col: line.find(|c: char| !c.is_whitespace()).unwrap_or(0) + 1,
        };
        let mut parts = content.split_whitespace();
        let cidr = parts.next().unwrap_or("");
        let list = parts.next().unwrap_or("");
        let bad = |cx: &mut Ctx<'_>, msg: String| {
            cx.diags.push(
                Diagnostic::new(path, pos, msg)
                    .hint("each line is 'CIDR dc[,dc...]', e.g. '198.51.100.0/24 spb,msk'"),
            );
        };
        if list.is_empty() || parts.next().is_some() {
            bad(cx, format!("expected 'CIDR dc[,dc...]', found '{content}'"));
            continue;
        }
        match parse_cidr(cidr) {
            Ok((a, l)) => {
                let ids: Vec<DcId> = list
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|d| dcs.id(d))
                    .collect();
                // The first occurrence wins, so a file can be appended to without surprise.
                out.insert(a, l, ids);
            }
            Err(e) => bad(cx, format!("bad network '{cidr}': {e}")),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn resource(
    cx: &mut Ctx<'_>,
    name: &str,
    def: &Node,
    base: &Path,
    dcs: &mut Dcs<'_>,
    refs: &Refs<'_>,
    targets: &mut HashMap<Target, TargetId>,
) -> Option<Resource> {
    let m = cx.map(def, &format!("resource '{name}'"), RESOURCE_KEYS);
    let ttl = match m.get("ttl") {
        Some(n) => cx.number(n, "ttl", 0, 0x7FFF_FFFF)? as u32,
        None => 30,
    };
    let check = match m.get("check") {
        Some(n) => {
            let c = n.as_str().unwrap_or("");
            match refs.checks.get(c) {
                Some(&i) => Some(i),
                None => {
                    let known: Vec<&str> = refs.checks.keys().map(String::as_str).collect();
                    cx.err(n, format!("unknown check '{c}'")).hint = Some(if known.is_empty() {
                        "define it under 'checks:'".into()
                    } else {
                        format!("defined checks: {}", known.join(", "))
                    });
                    return None;
                }
            }
        }
        None => None,
    };
    let mut target_of = |addr: IpAddr| -> Option<TargetId> {
        let c = check?;
        let t = Target {
            address: addr,
            check: c,
        };
        let next = targets.len() as TargetId;
        Some(*targets.entry(t).or_insert(next))
    };
    let answers = match (m.get("pools"), m.get("cnames")) {
        (Some(_), Some(c)) => {
            cx.err(
                c,
                "a resource has either pools (DYNA) or cnames (DYNC), not both",
            );
            return None;
        }
        (None, None) => {
            cx.err(
                def,
                format!("resource '{name}' has neither pools nor cnames"),
            )
            .hint = Some(
                "add pools: { DC: [ADDRESS, ...] } for DYNA, or cnames: { DC: target. } for DYNC"
                    .into(),
            );
            return None;
        }
        (Some(p), None) => {
            let mut pools = Vec::new();
            for (dc_name, v) in entries(cx, p, "pools") {
                let dc = dcs.id(dc_name);
                let members = pool_members(cx, dc_name, v, base, &mut target_of);
                pools.push(Pool { dc, members });
            }
            if pools.is_empty() {
                cx.err(p, format!("resource '{name}' has no pools"));
                return None;
            }
            Answers::Addresses(pools)
        }
        (None, Some(c)) => {
            let mut list = Vec::new();
            for (dc_name, v) in entries(cx, c, "cnames") {
                let dc = dcs.id(dc_name);
                let (target_node, probe) = match &v.kind {
                    Kind::Map(_) => {
                        let cm = cx.map(v, &format!("cname of {dc_name}"), &["cname", "probe"]);
                        let probe = cm.get("probe").and_then(|p| ip(cx, p, "probe address"));
                        match cm.get("cname") {
                            Some(t) => (*t, probe),
                            None => {
                                cx.err(v, "missing 'cname:' (the target name)");
                                continue;
                            }
                        }
                    }
                    _ => (v, None),
                };
                let text = target_node.as_str().unwrap_or("");
                if !text.ends_with('.') {
                    cx.err(
                        target_node,
                        format!(
                            "CNAME target '{text}' must be a fully qualified name ending in '.'"
                        ),
                    );
                    continue;
                }
                match from_text(text, &[0]) {
                    Ok(t) => {
                        let health = probe.and_then(&mut target_of);
                        if check.is_some() && probe.is_none() {
                            cx.err(v, format!("datacenter '{dc_name}' of a DYNC resource with a check needs a probe address"))
                                .hint = Some(format!("write {dc_name}: {{ cname: {text}, probe: 127.0.0.1 }}"));
                        }
                        list.push(CnamePool {
                            dc,
                            target: t.into_boxed_slice(),
                            health,
                        });
                    }
                    Err(e) => {
                        cx.err(target_node, format!("bad CNAME target: {e}"));
                    }
                }
            }
            if list.is_empty() {
                return None;
            }
            Answers::Cnames(list)
        }
    };
    let pool_dcs: Vec<DcId> = match &answers {
        Answers::Addresses(p) => p.iter().map(|p| p.dc).collect(),
        Answers::Cnames(c) => c.iter().map(|c| c.dc).collect(),
    };
    let route = match m.get("route") {
        None => Route::Order(pool_dcs.clone()),
        Some(n) => match &n.kind {
            Kind::Scalar { text, .. } if text == "all" => Route::All,
            Kind::Map(_) => {
                let rm = cx.map(n, "route", &["order", "geo"]);
                if let Some(o) = rm.get("order") {
                    let list = dc_list(cx, o, dcs, Some(&pool_dcs));
                    if list.is_empty() {
                        cx.err(o, "route.order lists no datacenter");
                    }
                    Route::Order(list)
                } else if let Some(g) = rm.get("geo") {
                    let mname = g.as_str().unwrap_or("");
                    match refs.maps.get(mname) {
                        Some(&i) => Route::Geo(i),
                        None => {
                            cx.err(g, format!("unknown geo map '{mname}'")).hint =
                                Some("define it under 'geo_maps:'".into());
                            return None;
                        }
                    }
                } else {
                    cx.err(n, "route must be all, { order: [DC, ...] } or { geo: MAP }");
                    return None;
                }
            }
            _ => {
                cx.err(n, "route must be all, { order: [DC, ...] } or { geo: MAP }");
                return None;
            }
        },
    };
    let min_up = match m.get("min_up") {
        None => MinUp::Count(1),
        Some(n) => {
            let s = n.as_str().unwrap_or("");
            let parsed = match s.strip_suffix('%') {
                Some(p) => p
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|&v| v <= 100)
                    .map(MinUp::Percent),
                None => s.parse::<u32>().ok().map(MinUp::Count),
            };
            match parsed {
                Some(v) => v,
                None => {
                    cx.err(
                        n,
                        format!("min_up '{s}' must be a count (2) or a share (50%)"),
                    );
                    MinUp::Count(1)
                }
            }
        }
    };
    let when_all_down = match m
        .get("when_all_down")
        .map(|n| (n, n.as_str().unwrap_or("")))
    {
        None => WhenAllDown::First,
        Some((_, "first")) => WhenAllDown::First,
        Some((_, "all")) => WhenAllDown::All,
        Some((_, "empty")) => WhenAllDown::Empty,
        Some((_, "servfail")) => WhenAllDown::Servfail,
        Some((n, other)) => {
            cx.err(
                n,
                format!("when_all_down '{other}' must be first, all, empty or servfail"),
            );
            WhenAllDown::First
        }
    };
    let mut answer = AnswerPolicy::default();
    if let Some(n) = m.get("answer") {
        let am = cx.map(n, "answer", &["max", "subpools", "pick", "seed"]);
        if let Some(v) = am.get("max") {
            answer.max = cx.number(v, "answer.max", 1, 1024).map(|v| v as u32);
        }
        if let Some(v) = am.get("subpools") {
            answer.subpools = cx
                .number(v, "answer.subpools", 1, 1024)
                .map_or(1, |v| v as u32);
        }
        if let Some(v) = am.get("seed") {
            answer.seed = cx.number(v, "answer.seed", 0, u64::MAX).unwrap_or(0);
        }
        if let Some(v) = am.get("pick") {
            answer.pick = match v.as_str().unwrap_or("") {
                "round_robin" => Pick::RoundRobin,
                "client_hash" => Pick::ClientHash,
                "weighted_random" => Pick::WeightedRandom,
                other => {
                    cx.err(
                        v,
                        format!(
                            "pick '{other}' must be round_robin, client_hash or weighted_random"
                        ),
                    );
                    Pick::RoundRobin
                }
            };
        }
        if matches!(answers, Answers::Cnames(_)) {
            cx.err(n, "answer applies to pools of addresses, not to cnames");
        }
    }
    let members = match m.get("members").map(|n| (n, n.as_str().unwrap_or(""))) {
        None | Some((_, "healthy")) => MembersMode::Healthy,
        Some((_, "all")) => MembersMode::All,
        Some((n, other)) => {
            cx.err(n, format!("members '{other}' must be healthy or all"));
            MembersMode::Healthy
        }
    };
    let interval = check.map(|c| refs.check_list[c].interval.as_secs().max(1) as u32);
    Some(Resource {
        name: name.to_string(),
        ttl,
        degraded_ttl: interval.map_or(ttl, |i| ttl.min(i)),
        answers,
        route,
        min_up,
        when_all_down,
        answer,
        members,
        check: check.map(|c| refs.check_list[c].name.clone()),
    })
}

fn ip(cx: &mut Ctx<'_>, n: &Node, what: &str) -> Option<IpAddr> {
    let s = n.as_str().unwrap_or("");
    match s.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            cx.err(n, format!("{what} '{s}' is not an IP address"));
            None
        }
    }
}

fn pool_members(
    cx: &mut Ctx<'_>,
    dc_name: &str,
    v: &Node,
    base: &Path,
    target_of: &mut dyn FnMut(IpAddr) -> Option<TargetId>,
) -> Vec<Member> {
    let mut out = Vec::new();
    let mut items: Vec<&Node> = Vec::new();
    match &v.kind {
        Kind::Map(_) => {
            let pm = cx.map(
                v,
                &format!("pool '{dc_name}'"),
                &["members", "members_file"],
            );
            if let Some(list) = pm.get("members") {
                items.extend(list.one_or_many());
            }
            if let Some(f) = pm.get("members_file")
                && let Some(rel) = f.as_str()
            {
                members_file(cx, f, &base.join(rel), target_of, &mut out);
            }
            if pm.is_empty() {
                cx.err(v, format!("pool '{dc_name}' has no members"));
            }
        }
        _ => items.extend(v.one_or_many()),
    }
    for item in items {
        match &item.kind {
            Kind::Scalar { text, .. } => match text.parse::<IpAddr>() {
                Ok(a) => out.push(Member {
                    address: a,
                    weight: 1,
                    target: target_of(a),
                }),
                Err(_) => {
                    cx.err(item, format!("'{text}' is not an IP address")).hint = Some(
                        "a member is an address, or { address: A, weight: N, probe: A }".into(),
                    );
                }
            },
            Kind::Map(_) => {
                let mm = cx.map(item, "member", &["address", "weight", "probe"]);
                let Some(addr) = mm.get("address").and_then(|a| ip(cx, a, "address")) else {
                    if !mm.contains_key("address") {
                        cx.err(item, "member has no 'address:'");
                    }
                    continue;
                };
                let weight = mm
                    .get("weight")
                    .and_then(|w| cx.number(w, "weight", 0, 1_000_000))
                    .unwrap_or(1) as u32;
                let probe = mm
                    .get("probe")
                    .and_then(|p| ip(cx, p, "probe"))
                    .unwrap_or(addr);
                out.push(Member {
                    address: addr,
                    weight,
                    target: target_of(probe),
                });
            }
            _ => {
                cx.err(
                    item,
                    "a member is an address or { address: A, weight: N, probe: A }",
                );
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for m in &out {
        if !seen.insert(m.address) {
            cx.err(
                v,
                format!("address {} is listed twice in pool '{dc_name}'", m.address),
            );
        }
    }
    out
}

/// Reads `ADDRESS [weight=N] [probe=ADDR]` lines (comments with `#`).
fn members_file(
    cx: &mut Ctx<'_>,
    at: &Node,
    path: &PathBuf,
    target_of: &mut dyn FnMut(IpAddr) -> Option<TargetId>,
    out: &mut Vec<Member>,
) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            cx.err(
                at,
                format!("cannot read members file {}: {e}", path.display()),
            );
            return;
        }
    };
    for (i, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        let mut col = 0usize;
        let mut address = None;
        let mut weight = 1u32;
        let mut probe = None;
        let mut ok = true;
        for (j, tok) in content.split_whitespace().enumerate() {
            col = line[col..].find(tok).map_or(col, |p| p + col);
            let pos = Pos {
                line: i + 1,
                col: col + 1,
            };
            let mut bad = |msg: String| {
                cx.diags.push(
                    Diagnostic::new(path, pos, msg)
                        .hint("each line is 'ADDRESS [weight=N] [probe=ADDRESS]'"),
                );
                ok = false;
            };
            if j == 0 {
                match tok.parse::<IpAddr>() {
                    Ok(a) => address = Some(a),
                    Err(_) => bad(format!("'{tok}' is not an IP address")),
                }
            } else if let Some(w) = tok.strip_prefix("weight=") {
                match w.parse::<u32>() {
                    Ok(v) if v <= 1_000_000 => weight = v,
                    _ => bad(format!("'{w}' is not a weight (0-1000000)")),
                }
            } else if let Some(p) = tok.strip_prefix("probe=") {
                match p.parse::<IpAddr>() {
                    Ok(a) => probe = Some(a),
                    Err(_) => bad(format!("'{p}' is not an IP address")),
                }
            } else {
                bad(format!("unknown field '{tok}'"));
            }
            col += tok.len();
        }
        if let (Some(a), true) = (address, ok) {
            out.push(Member {
                address: a,
                weight,
                target: target_of(probe.unwrap_or(a)),
            });
        }
    }
}
