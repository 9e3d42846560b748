//! Per-query selection: client → datacenter order → pool → members.
//!
//! [`decide`] finds what to answer with (a member set, a CNAME, nothing, or SERVFAIL) and the
//! TTL and ECS scope that go with it; [`pick`] chooses the records from a member set. Both work
//! on borrowed, precompiled data and write into caller-provided arrays: no allocation. An
//! optional [`Trace`] records each step for `dynadns explain`; the server passes [`NoTrace`],
//! which compiles away.

use std::net::IpAddr;

use super::rng::Rng;
use super::view::{Candidate, MemberSet, ResourceView};
use super::{Answers, DcId, Gslb, Pick, Resource, Route, WhenAllDown};

/// Receives a description of each decision step (for `explain`).
pub trait Trace {
    /// Whether lines are wanted; when false, callers skip formatting entirely.
    fn enabled(&self) -> bool;
    /// Records one line.
    fn line(&mut self, text: String);
}

/// The query path's tracer: records nothing.
pub struct NoTrace;

impl Trace for NoTrace {
    #[inline]
    fn enabled(&self) -> bool {
        false
    }
    fn line(&mut self, _: String) {}
}

/// Collects lines into a vector.
#[derive(Debug, Default)]
pub struct Lines(pub Vec<String>);

impl Trace for Lines {
    fn enabled(&self) -> bool {
        true
    }
    fn line(&mut self, text: String) {
        self.0.push(text);
    }
}

macro_rules! trace {
    ($t:expr, $($arg:tt)*) => {
        if $t.enabled() {
            $t.line(format!($($arg)*));
        }
    };
}

/// The client as GSLB sees it.
#[derive(Debug, Clone, Copy)]
pub struct ClientInfo {
    /// The ECS address when the query had one, else the source address.
    pub addr: IpAddr,
    /// ECS source prefix length, when the query had ECS.
    pub ecs_source: Option<u8>,
}

impl ClientInfo {
    /// Prefix length of the network used for `pick: client_hash` (/24 for IPv4, /56 for IPv6,
    /// or less if the client disclosed less).
    pub fn hash_prefix(&self) -> u8 {
        let p = if self.addr.is_ipv4() { 24 } else { 56 };
        self.ecs_source.map_or(p, |s| s.min(p))
    }

    fn network_hash(&self) -> u64 {
        let bits = self.hash_prefix() as u32;
        let v: u128 = match self.addr {
            IpAddr::V4(a) => u128::from(u32::from(a)) << 96,
            IpAddr::V6(a) => u128::from(a),
        };
        let masked = if bits == 0 {
            0
        } else {
            v & (!0u128 << (128 - bits))
        };
        // SplitMix64 finalizer over both halves: stable across runs and versions.
        let mut h = (masked as u64) ^ ((masked >> 64) as u64).rotate_left(29) ^ u64::from(bits);
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    }
}

/// What a resource answers for one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'v> {
    /// Records chosen from this set by [`pick`].
    Members(&'v MemberSet),
    /// A CNAME to this encoded name.
    Cname(&'v [u8]),
    /// NOERROR, no records.
    NoData,
    /// SERVFAIL.
    ServFail,
}

/// The decision for one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'v> {
    /// What to answer.
    pub outcome: Outcome<'v>,
    /// TTL of the records.
    pub ttl: u32,
    /// ECS scope prefix length: how much of the client address the answer depended on.
    pub scope: u8,
    /// Failover or all-down answer.
    pub degraded: bool,
    /// Datacenter that answered, if one did.
    pub dc: Option<DcId>,
}

/// Decides what `res` answers for `client`, for record family `family` (view::V4 / V6).
pub fn decide<'v>(
    gslb: &Gslb,
    res: &'v Resource,
    view: &'v ResourceView,
    family: usize,
    client: &ClientInfo,
    trace: &mut impl Trace,
) -> Decision<'v> {
    let mut d = Decision {
        outcome: Outcome::NoData,
        ttl: res.ttl,
        scope: 0,
        degraded: false,
        dc: None,
    };
    let is_cname = matches!(res.answers, Answers::Cnames(_));
    if !is_cname && !view.has_family[family] {
        trace!(
            trace,
            "resource has no {} members -> NODATA",
            family_name(family)
        );
        return d;
    }
    let order: &[DcId] = match &res.route {
        Route::Order(list) => {
            trace!(trace, "route: order [{}]", names(gslb, list));
            list
        }
        Route::Geo(map) => {
            let m = &gslb.geo_maps[*map];
            let (order, scope, why) = m.order(client.addr);
            d.scope = scope.min(client.ecs_source.unwrap_or(scope));
            trace!(
                trace,
                "route: geo map '{}': client {}: {} -> [{}]",
                m.name,
                client.addr,
                why,
                names(gslb, order)
            );
            order
        }
        Route::All => {
            if let Answers::Cnames(list) = &res.answers {
                // One CNAME only: the first up datacenter in configuration order.
                for (i, c) in list.iter().enumerate() {
                    if view.pools[i].up {
                        trace!(
                            trace,
                            "route: all (DYNC: first up datacenter) -> {}",
                            gslb.dc_name(c.dc)
                        );
                        d.outcome = Outcome::Cname(&c.target);
                        d.dc = Some(c.dc);
                        d.degraded = i > 0;
                        d.ttl = if d.degraded {
                            res.degraded_ttl
                        } else {
                            res.ttl
                        };
                        return d;
                    }
                }
                return all_down(gslb, res, view, family, &[], d, trace);
            }
            let set = &view.union_serving[family];
            trace!(
                trace,
                "route: all -> {} of {} pools up",
                view.pools.iter().filter(|p| p.up).count(),
                view.pools.len()
            );
            for p in view.pools.iter() {
                trace!(
                    trace,
                    "  pool {}: {}/{} members up -> {}",
                    gslb.dc_name(p.dc),
                    p.up_count,
                    p.total,
                    if p.up { "up" } else { "down" }
                );
            }
            if set.is_empty() {
                return all_down(gslb, res, view, family, &[], d, trace);
            }
            d.degraded = view.pools.iter().any(|p| !p.up);
            if d.degraded {
                d.ttl = res.degraded_ttl;
            }
            d.outcome = Outcome::Members(set);
            return d;
        }
    };
    let mut skipped_down = false;
    for &dc in order {
        let Some(pool) = view.pool(dc) else {
            trace!(
                trace,
                "  {}: no pool in this resource, skipped",
                gslb.dc_name(dc)
            );
            continue;
        };
        if let Answers::Cnames(list) = &res.answers {
            trace!(
                trace,
                "  {}: {}",
                gslb.dc_name(dc),
                if pool.up { "up" } else { "down" }
            );
            if pool.up {
                let i = view.pool_of_dc[dc as usize] as usize;
                d.outcome = Outcome::Cname(&list[i].target);
                d.dc = Some(dc);
                d.degraded = skipped_down;
                d.ttl = if skipped_down {
                    res.degraded_ttl
                } else {
                    res.ttl
                };
                return d;
            }
            skipped_down = true;
            continue;
        }
        let serving = &pool.serving[family];
        if pool.everyone[family].is_empty() {
            trace!(
                trace,
                "  {}: no usable {} members, skipped",
                gslb.dc_name(dc),
                family_name(family)
            );
            continue;
        }
        trace!(
            trace,
            "  {}: {}/{} members up (min_up {}) -> {}",
            gslb.dc_name(dc),
            pool.up_count,
            pool.total,
            min_up_text(res),
            if pool.up && !serving.is_empty() {
                "up"
            } else {
                "down"
            }
        );
        if pool.up && !serving.is_empty() {
            d.outcome = Outcome::Members(serving);
            d.dc = Some(dc);
            d.degraded = skipped_down;
            d.ttl = if skipped_down {
                res.degraded_ttl
            } else {
                res.ttl
            };
            return d;
        }
        skipped_down = true;
    }
    all_down(gslb, res, view, family, order, d, trace)
}

fn all_down<'v>(
    gslb: &Gslb,
    res: &'v Resource,
    view: &'v ResourceView,
    family: usize,
    order: &[DcId],
    mut d: Decision<'v>,
    trace: &mut impl Trace,
) -> Decision<'v> {
    d.degraded = true;
    d.ttl = res.degraded_ttl;
    let first = order
        .iter()
        .copied()
        .chain(view.pools.iter().map(|p| p.dc))
        .find(|&dc| match (&res.answers, view.pool(dc)) {
            (Answers::Cnames(_), Some(p)) => p.total > 0,
            (Answers::Addresses(_), Some(p)) => !p.everyone[family].is_empty(),
            _ => false,
        });
    match res.when_all_down {
        WhenAllDown::First => {
            let Some(dc) = first else {
                d.outcome = Outcome::NoData;
                return d;
            };
            trace!(
                trace,
                "no pool up; when_all_down: first -> every member of {}",
                gslb.dc_name(dc)
            );
            d.dc = Some(dc);
            d.outcome = match &res.answers {
                Answers::Cnames(list) => {
                    Outcome::Cname(&list[view.pool_of_dc[dc as usize] as usize].target)
                }
                Answers::Addresses(_) => view
                    .pool(dc)
                    .map_or(Outcome::NoData, |p| Outcome::Members(&p.everyone[family])),
            };
        }
        WhenAllDown::All => {
            trace!(
                trace,
                "no pool up; when_all_down: all -> every member of every pool"
            );
            d.outcome = match &res.answers {
                Answers::Cnames(list) => first.map_or(Outcome::NoData, |dc| {
                    Outcome::Cname(&list[view.pool_of_dc[dc as usize] as usize].target)
                }),
                Answers::Addresses(_) => Outcome::Members(&view.union_everyone[family]),
            };
        }
        WhenAllDown::Empty => {
            trace!(
                trace,
                "no pool up; when_all_down: empty -> NOERROR, no records"
            );
            d.outcome = Outcome::NoData;
        }
        WhenAllDown::Servfail => {
            trace!(trace, "no pool up; when_all_down: servfail -> SERVFAIL");
            d.outcome = Outcome::ServFail;
        }
    }
    d
}

/// Most records one answer can hold (the upper bound of `limits.max_answers`).
pub const MAX_PICK: usize = 1024;

#[allow(clippy::too_many_arguments)]
/// Chooses records from `set` into `out` (indices into `set.members`); returns how many.
///
/// One subpool group is chosen (by `rotation`, client hash or weighted random), then up to
/// `min(policy.max, max_answers)` members by weighted sampling without replacement, in random
/// order.
pub fn pick(
    set: &MemberSet,
    res: &Resource,
    max_answers: usize,
    client: &ClientInfo,
    rotation: u64,
    rng: &mut Rng,
    out: &mut [u32],
    trace: &mut impl Trace,
) -> usize {
    if set.is_empty() {
        return 0;
    }
    let groups = set.groups.len();
    let g = if groups <= 1 {
        0
    } else {
        match res.answer.pick {
            Pick::RoundRobin => (rotation % groups as u64) as usize,
            Pick::ClientHash => (client.network_hash() % groups as u64) as usize,
            Pick::WeightedRandom => {
                let total: u64 = set.group_weight.iter().sum();
                let mut x = rng.below(total.max(1));
                let mut g = 0;
                for (i, w) in set.group_weight.iter().enumerate() {
                    if x < *w {
                        g = i;
                        break;
                    }
                    x -= w;
                }
                g
            }
        }
    };
    let (start, end) = set.groups[g];
    let members = &set.members[start as usize..end as usize];
    let n = members.len();
    let cap = res
        .answer
        .max
        .map_or(n, |m| m as usize)
        .min(max_answers)
        .min(n)
        .min(out.len());
    if groups > 1 {
        trace!(
            trace,
            "subpools: {groups} groups; {} picks group {} ({} members)",
            res.answer.pick,
            g + 1,
            n
        );
    }
    let cap = cap.min(MAX_PICK);
    let equal_weights = members.iter().all(|c| c.weight == members[0].weight);
    if cap == n || equal_weights {
        if n <= out.len() {
            // Partial Fisher-Yates: a uniform random subset in random order.
            for (i, slot) in out[..n].iter_mut().enumerate() {
                *slot = start + i as u32;
            }
            for i in 0..cap {
                let j = i + rng.below((n - i) as u64) as usize;
                out.swap(i, j);
            }
        } else {
            // More members than slots: draw distinct members by rejection (cap << n here).
            for i in 0..cap {
                out[i] = loop {
                    let r = start + rng.below(n as u64) as u32;
                    if !out[..i].contains(&r) {
                        break r;
                    }
                };
            }
        }
        if cap < n {
            trace!(trace, "max {cap}: uniform sample of {cap} of {n}");
        }
        return cap;
    }
    // Weighted sampling without replacement (Efraimidis-Spirakis): key = -ln(u)/w, keep the
    // `cap` smallest keys. `keys` mirrors `out`, sorted ascending.
    let mut keys = [f64::INFINITY; MAX_PICK];
    let mut len = 0usize;
    for (i, c) in members.iter().enumerate() {
        let key = -rng.unit().ln() / f64::from(c.weight);
        if len == cap && key >= keys[len - 1] {
            continue;
        }
        let mut pos = if len == cap { len - 1 } else { len };
        while pos > 0 && keys[pos - 1] > key {
            keys[pos] = keys[pos - 1];
            out[pos] = out[pos - 1];
            pos -= 1;
        }
        keys[pos] = key;
        out[pos] = start + i as u32;
        if len < cap {
            len += 1;
        }
    }
    // The sample is ordered by key, which favours heavy members first; shuffle the order.
    for i in (1..len).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        out.swap(i, j);
    }
    trace!(trace, "max {cap}: weighted sample of {cap} of {n}");
    len
}

fn family_name(f: usize) -> &'static str {
    if f == 0 { "IPv4" } else { "IPv6" }
}

fn names(gslb: &Gslb, list: &[DcId]) -> String {
    list.iter()
        .map(|&d| gslb.dc_name(d))
        .collect::<Vec<_>>()
        .join(", ")
}

fn min_up_text(res: &Resource) -> String {
    match res.min_up {
        super::MinUp::Count(n) => n.to_string(),
        super::MinUp::Percent(p) => format!("{p}%"),
    }
}

/// The candidates chosen by [`pick`], for tests and explain.
pub fn chosen<'a>(set: &'a MemberSet, idx: &'a [u32]) -> impl Iterator<Item = &'a Candidate> + 'a {
    idx.iter().map(move |&i| &set.members[i as usize])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gslb::view::{ResourceView, V4, V6, compile};
    use crate::gslb::{
        AnswerPolicy, CnamePool, Datacenter, Force, Member, MembersMode, MinUp, Overrides, Pool,
        WhenAllDown,
    };

    fn gslb_with(dcs: &[&str], res: Resource) -> Gslb {
        Gslb {
            datacenters: dcs
                .iter()
                .map(|d| Datacenter {
                    name: d.to_string(),
                    location: None,
                })
                .collect(),
            resources: vec![res],
            ..Default::default()
        }
    }

    /// Members with targets numbered from `first_target`.
    fn members(addrs: &[&str], first_target: u32) -> Vec<Member> {
        addrs
            .iter()
            .enumerate()
            .map(|(i, a)| Member {
                address: a.parse().unwrap(),
                weight: 1,
                target: Some(first_target + i as u32),
            })
            .collect()
    }

    fn resource(pools: Vec<Pool>, route: Route) -> Resource {
        Resource {
            name: "r".into(),
            ttl: 30,
            degraded_ttl: 5,
            answers: Answers::Addresses(pools),
            route,
            min_up: MinUp::Count(1),
            when_all_down: WhenAllDown::First,
            answer: AnswerPolicy::default(),
            members: MembersMode::Healthy,
            check: Some("c".into()),
        }
    }

    fn client(a: &str) -> ClientInfo {
        ClientInfo {
            addr: a.parse().unwrap(),
            ecs_source: None,
        }
    }

    /// Two datacenters, msk (targets 0-2) and spb (targets 3-4), failover order msk, spb.
    fn two_dcs() -> Gslb {
        let pools = vec![
            Pool {
                dc: 0,
                members: members(&["192.0.2.1", "192.0.2.2", "2001:db8::1"], 0),
            },
            Pool {
                dc: 1,
                members: members(&["198.51.100.1", "198.51.100.2"], 3),
            },
        ];
        gslb_with(&["msk", "spb"], resource(pools, Route::Order(vec![0, 1])))
    }

    /// Compiles the first resource with `down` targets and forced states `o`, decides for a
    /// fixed client and picks with a fixed seed: the sorted addresses and the decision.
    /// (The view is leaked so the decision can borrow it; tests only.)
    fn answer_with(
        g: &Gslb,
        down: &[u32],
        family: usize,
        o: &Overrides,
    ) -> (Vec<String>, Decision<'static>) {
        let view = Box::leak(Box::new(compile(
            g,
            &g.resources[0],
            &|t| !down.contains(&t),
            o,
        )));
        let g: &'static Gslb = Box::leak(Box::new(g.clone()));
        let d = decide(
            g,
            &g.resources[0],
            view,
            family,
            &client("10.0.0.1"),
            &mut NoTrace,
        );
        let mut out = vec![];
        if let Outcome::Members(set) = d.outcome {
            let mut idx = [0u32; MAX_PICK];
            let n = pick(
                set,
                &g.resources[0],
                64,
                &client("10.0.0.1"),
                0,
                &mut Rng::seeded(1),
                &mut idx,
                &mut NoTrace,
            );
            out = chosen(set, &idx[..n])
                .map(|c| c.address().to_string())
                .collect();
            out.sort();
        }
        (out, d)
    }

    fn answer(g: &Gslb, down: &[u32], family: usize) -> (Vec<String>, Decision<'static>) {
        answer_with(g, down, family, &Overrides::default())
    }

    #[test]
    fn first_up_datacenter_answers_with_its_healthy_members() {
        let g = two_dcs();
        let (a, d) = answer(&g, &[1], V4);
        assert_eq!(a, ["192.0.2.1"]);
        assert_eq!((d.ttl, d.degraded, d.dc), (30, false, Some(0)));
        let (a, _) = answer(&g, &[], V6);
        assert_eq!(a, ["2001:db8::1"]);
    }

    #[test]
    fn failover_uses_the_degraded_ttl() {
        let g = two_dcs();
        let (a, d) = answer(&g, &[0, 1, 2], V4);
        assert_eq!(a, ["198.51.100.1", "198.51.100.2"]);
        assert_eq!((d.ttl, d.degraded, d.dc), (5, true, Some(1)));
    }

    #[test]
    fn min_up_share_decides_failover() {
        let mut g = two_dcs();
        g.resources[0].min_up = MinUp::Percent(50);
        // msk: 1 of 3 up is below 50%: fail over.
        assert_eq!(answer(&g, &[0, 2], V4).1.dc, Some(1));
        // 2 of 3 up: msk stays.
        assert_eq!(answer(&g, &[2], V4).1.dc, Some(0));
    }

    #[test]
    fn a_pool_without_the_family_is_skipped() {
        let g = two_dcs();
        // msk's only IPv6 member is down but its IPv4 members keep the pool up: the AAAA answer
        // has no usable member there, and spb has no IPv6 at all -> all down -> first pool.
        let (a, d) = answer(&g, &[2], V6);
        assert_eq!(a, ["2001:db8::1"]);
        assert!(d.degraded);
    }

    #[test]
    fn when_all_down_variants() {
        let mut g = two_dcs();
        let all = [0, 1, 2, 3, 4];
        let (a, d) = answer(&g, &all, V4);
        assert_eq!(
            a,
            ["192.0.2.1", "192.0.2.2"],
            "first: the first pool, whole"
        );
        assert_eq!((d.ttl, d.degraded), (5, true));
        g.resources[0].when_all_down = WhenAllDown::All;
        assert_eq!(answer(&g, &all, V4).0.len(), 4);
        g.resources[0].when_all_down = WhenAllDown::Empty;
        assert_eq!(answer(&g, &all, V4).1.outcome, Outcome::NoData);
        g.resources[0].when_all_down = WhenAllDown::Servfail;
        assert_eq!(answer(&g, &all, V4).1.outcome, Outcome::ServFail);
    }

    #[test]
    fn route_all_merges_up_pools() {
        let mut g = two_dcs();
        g.resources[0].route = Route::All;
        assert_eq!(answer(&g, &[], V4).0.len(), 4);
        let (a, d) = answer(&g, &[3, 4], V4);
        assert_eq!(a, ["192.0.2.1", "192.0.2.2"]);
        assert!(d.degraded);
    }

    #[test]
    fn members_all_answers_down_members_of_an_up_pool() {
        let mut g = two_dcs();
        g.resources[0].members = MembersMode::All;
        let (a, d) = answer(&g, &[1], V4);
        assert_eq!(a, ["192.0.2.1", "192.0.2.2"]);
        assert!(!d.degraded);
    }

    #[test]
    fn resource_without_the_family_is_nodata() {
        let pools = vec![Pool {
            dc: 0,
            members: members(&["192.0.2.1"], 0),
        }];
        let g = gslb_with(&["msk"], resource(pools, Route::Order(vec![0])));
        let (_, d) = answer(&g, &[], V6);
        assert_eq!((d.outcome, d.degraded), (Outcome::NoData, false));
    }

    /// The member set the first resource answers from when everything is up.
    fn serving_set<'v>(g: &'v Gslb, view: &'v ResourceView) -> &'v MemberSet {
        match decide(
            g,
            &g.resources[0],
            view,
            V4,
            &client("10.0.0.1"),
            &mut NoTrace,
        )
        .outcome
        {
            Outcome::Members(set) => set,
            other => panic!("expected members, got {other:?}"),
        }
    }

    fn big_pool(n: u32, subpools: u32, pick: Pick) -> Gslb {
        let ms = (0..n)
            .map(|i| Member {
                address: IpAddr::from([10, 1, (i / 250) as u8, (i % 250 + 1) as u8]),
                weight: 1,
                target: None,
            })
            .collect();
        let mut r = resource(vec![Pool { dc: 0, members: ms }], Route::All);
        r.answer = AnswerPolicy {
            subpools,
            max: None,
            pick,
            seed: 0,
        };
        gslb_with(&["eu"], r)
    }

    #[test]
    fn seed_case_hundred_members_five_subpools_rotate_evenly() {
        let g = big_pool(100, 5, Pick::RoundRobin);
        let view = compile(&g, &g.resources[0], &|_| true, &Overrides::default());
        let set = serving_set(&g, &view);
        let mut counts = std::collections::HashMap::new();
        let mut rng = Rng::seeded(3);
        for rotation in 0..1000 {
            let mut idx = [0u32; MAX_PICK];
            let n = pick(
                set,
                &g.resources[0],
                64,
                &client("10.0.0.1"),
                rotation,
                &mut rng,
                &mut idx,
                &mut NoTrace,
            );
            assert_eq!(n, 20);
            let group = rotation as usize % 5;
            for c in chosen(set, &idx[..n]) {
                assert!(set.group(group).contains(c), "answer mixes groups");
                *counts.entry(c.address()).or_insert(0) += 1;
            }
        }
        assert_eq!(counts.len(), 100);
        assert!(
            counts.values().all(|&c| c == 200),
            "every member exactly 200 times"
        );
    }

    #[test]
    fn client_hash_keeps_a_network_on_its_group() {
        let g = big_pool(100, 5, Pick::ClientHash);
        let view = compile(&g, &g.resources[0], &|_| true, &Overrides::default());
        let set = serving_set(&g, &view);
        let group_of = |addr: &str, rot: u64| {
            let mut idx = [0u32; MAX_PICK];
            let n = pick(
                set,
                &g.resources[0],
                64,
                &client(addr),
                rot,
                &mut Rng::seeded(rot),
                &mut idx,
                &mut NoTrace,
            );
            let mut v: Vec<_> = chosen(set, &idx[..n]).map(|c| c.address()).collect();
            v.sort();
            v
        };
        // Same /24, different hosts and rotations: same group.
        assert_eq!(group_of("198.51.100.1", 0), group_of("198.51.100.200", 7));
        // Many networks reach every group.
        let mut groups = std::collections::HashSet::new();
        for i in 0..50u8 {
            groups.insert(group_of(&format!("203.0.{i}.1"), 0));
        }
        assert_eq!(groups.len(), 5);
    }

    #[test]
    fn weight_three_is_answered_three_times_as_often() {
        let mut g = big_pool(2, 1, Pick::RoundRobin);
        if let Answers::Addresses(p) = &mut g.resources[0].answers {
            p[0].members[1].weight = 3;
        }
        g.resources[0].answer.max = Some(1);
        let view = compile(&g, &g.resources[0], &|_| true, &Overrides::default());
        let set = serving_set(&g, &view);
        let heavy = IpAddr::from([10, 1, 0, 2]);
        let mut rng = Rng::seeded(42);
        let n = 40_000u32;
        let mut hits = 0u32;
        for _ in 0..n {
            let mut idx = [0u32; MAX_PICK];
            let k = pick(
                set,
                &g.resources[0],
                64,
                &client("10.0.0.1"),
                0,
                &mut rng,
                &mut idx,
                &mut NoTrace,
            );
            assert_eq!(k, 1);
            if set.members[idx[0] as usize].address() == heavy {
                hits += 1;
            }
        }
        // p = 3/4; sigma = sqrt(n p (1-p)) ~ 86.6; accept 5 sigma.
        let expected = f64::from(n) * 0.75;
        assert!(
            (f64::from(hits) - expected).abs() < 5.0 * 86.6,
            "hits {hits}"
        );
    }

    #[test]
    fn weighted_max_k_is_distinct_and_favours_heavy_members() {
        let mut g = big_pool(10, 1, Pick::RoundRobin);
        if let Answers::Addresses(p) = &mut g.resources[0].answers {
            p[0].members[0].weight = 10;
        }
        g.resources[0].answer.max = Some(3);
        let view = compile(&g, &g.resources[0], &|_| true, &Overrides::default());
        let set = serving_set(&g, &view);
        let heavy = IpAddr::from([10, 1, 0, 1]);
        let mut rng = Rng::seeded(9);
        let mut heavy_hits = 0;
        for _ in 0..2000 {
            let mut idx = [0u32; MAX_PICK];
            let k = pick(
                set,
                &g.resources[0],
                64,
                &client("10.0.0.1"),
                0,
                &mut rng,
                &mut idx,
                &mut NoTrace,
            );
            assert_eq!(k, 3);
            let mut v: Vec<_> = idx[..k].to_vec();
            v.sort();
            v.dedup();
            assert_eq!(v.len(), 3, "sampling is without replacement");
            heavy_hits += chosen(set, &idx[..k])
                .filter(|c| c.address() == heavy)
                .count();
        }
        // A light member is in ~ (3 - P(heavy)) / 9 of answers (< 25%); the heavy one in > 90%.
        assert!(heavy_hits > 1800, "{heavy_hits}");
    }

    #[test]
    fn global_max_answers_caps_the_answer() {
        let g = big_pool(50, 1, Pick::RoundRobin);
        let view = compile(&g, &g.resources[0], &|_| true, &Overrides::default());
        let set = serving_set(&g, &view);
        let mut idx = [0u32; MAX_PICK];
        let n = pick(
            set,
            &g.resources[0],
            8,
            &client("10.0.0.1"),
            0,
            &mut Rng::seeded(1),
            &mut idx,
            &mut NoTrace,
        );
        assert_eq!(n, 8);
    }

    #[test]
    fn dync_fails_over_by_probe_state() {
        let mut r = resource(Vec::new(), Route::Order(vec![0, 1]));
        r.answers = Answers::Cnames(vec![
            CnamePool {
                dc: 0,
                target: b"\x01a\x00".to_vec().into(),
                health: Some(0),
            },
            CnamePool {
                dc: 1,
                target: b"\x01b\x00".to_vec().into(),
                health: Some(1),
            },
        ]);
        let g = gslb_with(&["msk", "spb"], r);
        let (_, d) = answer(&g, &[], V4);
        assert_eq!((d.outcome, d.ttl), (Outcome::Cname(b"\x01a\x00"), 30));
        let (_, d) = answer(&g, &[0], V4);
        assert_eq!((d.outcome, d.ttl), (Outcome::Cname(b"\x01b\x00"), 5));
    }

    fn answer_forced(g: &Gslb, down: &[u32], o: &Overrides) -> (Vec<String>, Option<DcId>) {
        let (a, d) = answer_with(g, down, V4, o);
        (a, d.dc)
    }

    #[test]
    fn overrides_beat_probes_most_specific_first() {
        let g = two_dcs();
        let mut o = Overrides::default();
        // A whole datacenter forced down fails over although its members are up.
        o.datacenters.insert("msk".into(), Force::Down);
        assert_eq!(answer_forced(&g, &[], &o).1, Some(1));
        // A member forced up beats its datacenter's force.
        o.members.insert("192.0.2.2".parse().unwrap(), Force::Up);
        assert_eq!(
            answer_forced(&g, &[], &o),
            (vec!["192.0.2.2".to_string()], Some(0))
        );
        // A pool forced up is answered even though every probe failed.
        let mut o = Overrides::default();
        o.pools.insert("r/msk".into(), Force::Up);
        assert_eq!(
            answer_forced(&g, &[0, 1, 2], &o).0,
            ["192.0.2.1", "192.0.2.2"]
        );
    }

    #[test]
    fn drained_pools_are_not_even_a_last_resort() {
        let g = two_dcs();
        let mut o = Overrides::default();
        o.datacenters.insert("msk".into(), Force::Drain);
        // Everything is down: `first` falls back to spb, never to the drained msk.
        assert_eq!(answer_forced(&g, &[0, 1, 2, 3, 4], &o).1, Some(1));
        // A drained member leaves the answer while its pool stays up.
        let mut o = Overrides::default();
        o.members.insert("192.0.2.1".parse().unwrap(), Force::Drain);
        assert_eq!(answer_forced(&g, &[], &o).0, ["192.0.2.2"]);
    }

    #[test]
    fn trace_explains_the_decision() {
        let g = two_dcs();
        let view = compile(
            &g,
            &g.resources[0],
            &|t| t != 0 && t != 1 && t != 2,
            &Overrides::default(),
        );
        let mut lines = Lines::default();
        decide(
            &g,
            &g.resources[0],
            &view,
            V4,
            &client("10.0.0.1"),
            &mut lines,
        );
        let text = lines.0.join("\n");
        assert!(text.contains("route: order [msk, spb]"), "{text}");
        assert!(text.contains("msk: 0/3 members up"), "{text}");
        assert!(text.contains("spb: 2/2 members up"), "{text}");
    }
}
