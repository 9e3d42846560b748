//! `resources:`: what a `DYNA`/`DYNC` name answers with: pools (or CNAMEs) per declared
//! datacenter, route, `min_up`, `when_all_down`, answer policy.
//!
//! A resource is read to the end whatever it contains and always returned, so zones that name
//! it are checked against it and every mistake in it is listed; members files are read here
//! too, with their errors at their own lines.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::super::Ctx;
use super::super::yaml::{Kind, Node};
use super::super::{did_you_mean, whole_number};
use super::{Refs, dc_list, entries, for_each_line, sorted_names};
use crate::diag::{Diagnostic, Pos};
use crate::gslb::{
    AnswerPolicy, Answers, CnamePool, DcId, Member, MembersMode, MinUp, Pick, Pool, Resource,
    Route, Target, TargetId, WhenAllDown,
};
use crate::wire::name::from_text;

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
    "use_ecs",
];

/// Largest member weight, in the server file and in members files.
const MAX_WEIGHT: u64 = 1_000_000;

const ROUTE_SHAPE: &str = "route must be all, { order: [DC, ...] } or { geo: MAP }";

/// Parses resource `name`. Always returns a resource (parts with errors get placeholders and
/// the load fails on the errors), so zones naming it resolve.
pub(super) fn resource(
    cx: &mut Ctx<'_>,
    name: &str,
    def: &Node,
    base: &Path,
    refs: &Refs<'_>,
    targets: &mut HashMap<Target, TargetId>,
) -> Resource {
    let m = cx.map(def, &format!("resource '{name}'"), RESOURCE_KEYS);
    let ttl = match m.get("ttl") {
        Some(n) => cx.number(n, "ttl", 0, 0x7FFF_FFFF).unwrap_or(30) as u32,
        None => 30,
    };
    let check = m.get("check").and_then(|n| {
        let c = cx.text(n, "check")?;
        let found = refs.checks.get(c).copied();
        if found.is_none() {
            let known = sorted_names(refs.checks);
            cx.err(n, format!("unknown check '{c}'")).hint = Some(if known.is_empty() {
                "define it under 'checks:'".into()
            } else {
                format!(
                    "{}defined checks: {}",
                    did_you_mean(c, known.iter().copied()),
                    known.join(", ")
                )
            });
        }
        found
    });
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
            Answers::Addresses(Vec::new())
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
            Answers::Addresses(Vec::new())
        }
        (Some(p), None) => {
            let mut pools = Vec::new();
            let list = entries(cx, p, "pools");
            if list.is_empty() {
                cx.err(p, format!("resource '{name}' has no pools"));
            }
            for (key, dc_name, v) in list {
                let dc = refs.dcs.resolve(cx, key, dc_name);
                let members = pool_members(cx, dc_name, key, v, base, &mut target_of);
                if let Some(dc) = dc {
                    pools.push(Pool { dc, members });
                }
            }
            Answers::Addresses(pools)
        }
        (None, Some(c)) => Answers::Cnames(cnames(cx, c, check.is_some(), refs, &mut target_of)),
    };
    let pool_dcs: Vec<DcId> = match &answers {
        Answers::Addresses(p) => p.iter().map(|p| p.dc).collect(),
        Answers::Cnames(c) => c.iter().map(|c| c.dc).collect(),
    };
    let route = match m.get("route") {
        None => Route::Order(pool_dcs.clone()),
        Some(n) => route(cx, n, refs, &pool_dcs),
    };
    let min_up = match m.get("min_up") {
        None => MinUp::Count(1),
        Some(n) => min_up(cx, n, &answers, refs),
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
    let answer = match m.get("answer") {
        Some(n) => {
            if matches!(answers, Answers::Cnames(_)) {
                cx.err(n, "answer applies to pools of addresses, not to cnames");
            }
            answer_policy(cx, n)
        }
        None => AnswerPolicy::default(),
    };
    let members = match m.get("members").map(|n| (n, n.as_str().unwrap_or(""))) {
        None | Some((_, "healthy")) => MembersMode::Healthy,
        Some((_, "all")) => MembersMode::All,
        Some((n, other)) => {
            cx.err(n, format!("members '{other}' must be healthy or all"));
            MembersMode::Healthy
        }
    };
    let use_ecs = match m.get("use_ecs") {
        Some(n) => cx.flag(n, "use_ecs").unwrap_or(true),
        None => true,
    };
    let interval = check.map(|c| refs.check_list[c].interval.as_secs().max(1) as u32);
    Resource {
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
        use_ecs,
    }
}

/// `cnames:` of a DYNC resource: one target (and probe address) per datacenter.
fn cnames(
    cx: &mut Ctx<'_>,
    c: &Node,
    has_check: bool,
    refs: &Refs<'_>,
    target_of: &mut dyn FnMut(IpAddr) -> Option<TargetId>,
) -> Vec<CnamePool> {
    let mut list = Vec::new();
    let all = entries(cx, c, "cnames");
    if all.is_empty() {
        cx.err(c, "cnames lists no datacenter").hint =
            Some("write cnames: { DC: target.example.net. }".into());
    }
    for (key, dc_name, v) in all {
        let dc = refs.dcs.resolve(cx, key, dc_name);
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
        let Some(text) = cx.text(target_node, "a CNAME target") else {
            continue;
        };
        if has_check && probe.is_none() {
            cx.err(
                v,
                format!(
                    "datacenter '{dc_name}' of a DYNC resource with a check needs a probe address"
                ),
            )
            .hint = Some(format!(
                "write {dc_name}: {{ cname: {text}, probe: 127.0.0.1 }}"
            ));
        }
        if !text.ends_with('.') {
            cx.err(
                target_node,
                format!("CNAME target '{text}' must be a fully qualified name ending in '.'"),
            );
            continue;
        }
        match from_text(text, &[0]) {
            Ok(t) => {
                if let Some(dc) = dc {
                    list.push(CnamePool {
                        dc,
                        target: t.into_boxed_slice(),
                        health: probe.and_then(&mut *target_of),
                    });
                }
            }
            Err(e) => {
                cx.err(target_node, format!("bad CNAME target: {e}"));
            }
        }
    }
    list
}

/// `route:`: all, a static order of this resource's datacenters, or a geo map.
fn route(cx: &mut Ctx<'_>, n: &Node, refs: &Refs<'_>, pool_dcs: &[DcId]) -> Route {
    let fallback = Route::Order(pool_dcs.to_vec());
    match &n.kind {
        Kind::Scalar { text, .. } if text == "all" => Route::All,
        Kind::Map(_) => {
            let rm = cx.map(n, "route", &["order", "geo"]);
            if let (Some(_), Some(g)) = (rm.get("order"), rm.get("geo")) {
                cx.err(g, "a route is an order or a geo map, not both").hint =
                    Some(ROUTE_SHAPE.into());
            }
            if let Some(o) = rm.get("order") {
                Route::Order(dc_list(cx, o, "route.order", refs.dcs, Some(pool_dcs)))
            } else if let Some(g) = rm.get("geo") {
                let Some(mname) = cx.text(g, "route.geo") else {
                    return fallback;
                };
                match refs.maps.get(mname) {
                    Some(&i) => Route::Geo(i),
                    None => {
                        let known = sorted_names(refs.maps);
                        cx.err(g, format!("unknown geo map '{mname}'")).hint =
                            Some(if known.is_empty() {
                                "define it under 'geo_maps:'".into()
                            } else {
                                format!(
                                    "{}defined geo maps: {}",
                                    did_you_mean(mname, known.iter().copied()),
                                    known.join(", ")
                                )
                            });
                        fallback
                    }
                }
            } else {
                cx.err(n, ROUTE_SHAPE);
                fallback
            }
        }
        _ => {
            cx.err(n, ROUTE_SHAPE);
            fallback
        }
    }
}

/// `min_up:` a count from 1 to the answerable members of every pool, or a share from 1% to
/// 100%. Other values do not mean what they say ([`crate::gslb::members::pool_is_up`]): a
/// pool with no member up is down whatever the rule, a count is capped at the pool's size
/// (so a larger one means "every member"), and over 100% is never reached.
fn min_up(cx: &mut Ctx<'_>, n: &Node, answers: &Answers, refs: &Refs<'_>) -> MinUp {
    let s = n.as_str().unwrap_or("");
    let parsed = match s.strip_suffix('%') {
        Some(p) => p.trim().parse::<u32>().ok().map(MinUp::Percent),
        None => s.parse::<u32>().ok().map(MinUp::Count),
    };
    match parsed {
        None => {
            cx.err(
                n,
                format!("min_up '{s}' must be a count (2) or a share (50%)"),
            );
        }
        Some(MinUp::Count(0)) => {
            cx.err(
                n,
                "min_up 0 is not a threshold: a pool with no member up is down anyway",
            )
            .hint = Some("write 1 (any member up), or a share such as 50%".into());
        }
        Some(MinUp::Percent(0)) => {
            cx.err(
                n,
                "min_up 0% is not a threshold: a pool with no member up is down anyway",
            )
            .hint = Some("write a share from 1% to 100%, or a count such as 1".into());
        }
        Some(MinUp::Percent(p)) if p > 100 => {
            cx.err(
                n,
                format!("min_up {p}% is more than 100%: no pool could ever be up"),
            )
            .hint = Some("write a share from 1% to 100%".into());
        }
        Some(MinUp::Count(k)) => {
            if let Answers::Addresses(pools) = answers {
                let short: Vec<String> = pools
                    .iter()
                    .map(|p| (p, p.members.iter().filter(|m| m.weight > 0).count()))
                    .filter(|&(_, a)| a > 0 && (a as u64) < u64::from(k))
                    .map(|(p, a)| format!("'{}' ({a})", refs.dcs.names[p.dc as usize]))
                    .collect();
                if !short.is_empty() {
                    cx.err(
                        n,
                        format!(
                            "min_up {k} is more than the answerable members of pool {}",
                            short.join(", ")
                        ),
                    )
                    .hint = Some(
                        "there it would only mean 'every member up'; lower min_up, or write a \
                         share such as 50%"
                            .into(),
                    );
                }
            }
        }
        Some(MinUp::Percent(_)) => {}
    }
    parsed.unwrap_or(MinUp::Count(1))
}

/// `answer: { max, subpools, pick, seed }`.
fn answer_policy(cx: &mut Ctx<'_>, n: &Node) -> AnswerPolicy {
    let mut answer = AnswerPolicy::default();
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
                    format!("pick '{other}' must be round_robin, client_hash or weighted_random"),
                );
                Pick::RoundRobin
            }
        };
    }
    answer
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

/// Where a member was written, for errors about it (a duplicate is reported at its second
/// occurrence, in the YAML or in the members file).
enum Origin<'n> {
    Yaml(&'n Node),
    File(PathBuf, Pos),
}

/// The members of one pool: inline addresses or `{ address, weight, probe }`, and/or a
/// `members_file`.
fn pool_members(
    cx: &mut Ctx<'_>,
    dc_name: &str,
    key: &Node,
    v: &Node,
    base: &Path,
    target_of: &mut dyn FnMut(IpAddr) -> Option<TargetId>,
) -> Vec<Member> {
    let errors_before = cx.diags.len();
    let mut out = Vec::new();
    let mut origins: Vec<Origin<'_>> = Vec::new();
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
                && let Some(rel) = cx.text(f, "members_file")
            {
                members_file(cx, f, &base.join(rel), target_of, &mut out, &mut origins);
            }
        }
        _ => items.extend(v.one_or_many()),
    }
    for item in items {
        match &item.kind {
            Kind::Scalar { text, .. } => match text.parse::<IpAddr>() {
                Ok(a) => {
                    out.push(Member {
                        address: a,
                        weight: 1,
                        target: target_of(a),
                    });
                    origins.push(Origin::Yaml(item));
                }
                Err(_) => {
                    cx.err(item, format!("'{text}' is not an IP address")).hint = Some(
                        "a member is an address, or { address: A, weight: N, probe: A }".into(),
                    );
                }
            },
            Kind::Map(_) => {
                let mm = cx.map(item, "member", &["address", "weight", "probe"]);
                let weight = mm
                    .get("weight")
                    .and_then(|w| cx.number(w, "weight", 0, MAX_WEIGHT))
                    .unwrap_or(1) as u32;
                let probe = mm.get("probe").and_then(|p| ip(cx, p, "probe"));
                let Some(addr) = mm.get("address").and_then(|a| ip(cx, a, "address")) else {
                    if !mm.contains_key("address") {
                        cx.err(item, "member has no 'address:'");
                    }
                    continue;
                };
                out.push(Member {
                    address: addr,
                    weight,
                    target: target_of(probe.unwrap_or(addr)),
                });
                origins.push(Origin::Yaml(item));
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
    for (m, origin) in out.iter().zip(&origins) {
        if !seen.insert(m.address) {
            let msg = format!("address {} is listed twice in pool '{dc_name}'", m.address);
            let hint = "remove one of them; give a member more answers with weight: N";
            match origin {
                Origin::Yaml(n) => cx.err(n, msg).hint = Some(hint.into()),
                Origin::File(path, pos) => {
                    cx.diags.push(Diagnostic::new(path, *pos, msg).hint(hint))
                }
            }
        }
    }
    // Empty with no error about a member: nothing was written (`[]`, a members file of
    // comments only), and such a pool could never answer.
    if out.is_empty() && cx.diags.len() == errors_before {
        cx.err(key, format!("pool '{dc_name}' has no members")).hint =
            Some("list its addresses, or remove the pool".into());
    }
    if !out.is_empty() && out.iter().all(|m| m.weight == 0) {
        cx.err(
            key,
            format!("every member of pool '{dc_name}' has weight 0, so it can never answer"),
        )
        .hint = Some("give at least one member a weight above 0, or remove the pool".into());
    }
    out
}

/// Reads `ADDRESS [weight=N] [probe=ADDR]` lines (comments with `#`); errors are at their
/// line and column in that file.
fn members_file<'n>(
    cx: &mut Ctx<'_>,
    at: &Node,
    path: &Path,
    target_of: &mut dyn FnMut(IpAddr) -> Option<TargetId>,
    out: &mut Vec<Member>,
    origins: &mut Vec<Origin<'n>>,
) {
    for_each_line(cx, at, path, "members file", |cx, words| {
        let mut ok = true;
        let mut bad = |cx: &mut Ctx<'_>, at: Pos, msg: String| {
            cx.diags.push(
                Diagnostic::new(path, at, msg)
                    .hint("each line is 'ADDRESS [weight=N] [probe=ADDRESS]'"),
            );
            ok = false;
        };
        let (first, address) = words[0];
        let address = match address.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                bad(cx, first, format!("'{address}' is not an IP address"));
                None
            }
        };
        let mut weight = 1u32;
        let mut probe = None;
        for &(at, word) in &words[1..] {
            if let Some(w) = word.strip_prefix("weight=") {
                match whole_number(w, "weight", 0, MAX_WEIGHT) {
                    Ok(v) => weight = v as u32,
                    Err((msg, _)) => bad(cx, at, msg),
                }
            } else if let Some(p) = word.strip_prefix("probe=") {
                match p.parse::<IpAddr>() {
                    Ok(a) => probe = Some(a),
                    Err(_) => bad(cx, at, format!("'{p}' is not an IP address")),
                }
            } else {
                bad(cx, at, format!("unknown field '{word}'"));
            }
        }
        if let (Some(a), true) = (address, ok) {
            out.push(Member {
                address: a,
                weight,
                target: target_of(probe.unwrap_or(a)),
            });
            origins.push(Origin::File(path.to_path_buf(), first));
        }
    });
}
