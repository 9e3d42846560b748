//! One decision, one place: a resource compiled for a snapshot answers
//! [`Resolver::resolve`]`(client) -> `[`Decision`].
//!
//! A [`Resolver`] owns everything a query needs about its resource — the compiled route (one of
//! the kinds in [`super::route`]), the TTLs and `when_all_down` policy, and the members compiled
//! against health ([`super::members`]) — and nothing a query does not (probe settings, file
//! paths). The answer path asks it for a decision and only writes bytes; `dynadns explain` asks
//! the same function with a recording [`Trace`], so the two can never disagree, scope included.

use std::net::IpAddr;
use std::sync::Arc;

use super::members::{Candidate, MemberSet, ResourceView, V4, compile};
use super::pick::{Dice, Rotation, choose_group, sample};
use super::rng::Rng;
use super::route::all::AllRoute;
use super::route::geo::{GeoRoute, GeoTable};
use super::route::order::OrderRoute;
use super::route::{AnyRoute, DcOrder, RouteKind, RouteMatch, Routing};
use super::{
    AnswerPolicy, Answers, DcId, Gslb, MinUp, Overrides, Pick, Resource, Route, WhenAllDown,
};

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
    /// The ECS address when the query had one (with a source prefix above 0), else the source
    /// address.
    pub addr: IpAddr,
    /// ECS source prefix length, when the query had ECS.
    pub ecs_source: Option<u8>,
    /// The packet's source address: resources with `use_ecs: false` route by it.
    pub source: IpAddr,
}

impl ClientInfo {
    /// Prefix length of the network used for `pick: client_hash` (/24 for IPv4, /56 for IPv6,
    /// or less if the client disclosed less).
    pub fn hash_prefix(&self) -> u8 {
        let p = if self.addr.is_ipv4() { 24 } else { 56 };
        self.ecs_source.map_or(p, |s| s.min(p))
    }

    /// A stable hash of the client's network (see [`Self::hash_prefix`]).
    pub fn network_hash(&self) -> u64 {
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
        super::members::mix(
            (masked as u64) ^ ((masked >> 64) as u64).rotate_left(29) ^ u64::from(bits),
        )
    }
}

/// What a resource answers for one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'r> {
    /// Records: the chosen indices into this slice are the caller's `picked[..count]`.
    Records {
        /// The group the records come from.
        from: &'r [Candidate],
        /// How many indices [`Resolver::resolve`] wrote.
        count: usize,
    },
    /// A CNAME to this encoded name.
    Cname(&'r [u8]),
    /// NOERROR, no records.
    NoData,
    /// SERVFAIL.
    ServFail,
}

/// The decision for one query: everything the answer (and `explain`) needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'r> {
    /// What to answer.
    pub outcome: Outcome<'r>,
    /// TTL of the records.
    pub ttl: u32,
    /// ECS scope prefix length: the widest network around the client in which every client
    /// gets this answer (0: the answer does not depend on the client).
    pub scope: u8,
    /// Failover or all-down answer.
    pub degraded: bool,
    /// Datacenter that answered, if one did.
    pub dc: Option<DcId>,
    /// The route rule that decided the datacenter order.
    pub matched: RouteMatch,
    /// The subpool group answered (0 when there are no groups).
    pub group: usize,
}

impl<'r> Decision<'r> {
    /// The chosen records, given the array passed to [`Resolver::resolve`].
    pub fn records<'a>(&self, picked: &'a [u32]) -> impl Iterator<Item = &'r Candidate> + 'a
    where
        'r: 'a,
    {
        let (from, count) = match self.outcome {
            Outcome::Records { from, count } => (from, count),
            _ => (&[][..], 0),
        };
        picked[..count]
            .iter()
            .filter_map(move |&i| from.get(i as usize))
    }
}

/// Datacenter names, shared by every resolver of a configuration (trace lines only).
pub type DcNames = Arc<[Box<str>]>;

/// What a resource's decisions need from the configuration: built once per load or reload and
/// shared (`Arc`) by the resolvers of every snapshot until the next one, so a health change
/// recompiles only the members.
#[derive(Debug)]
struct Plan {
    /// Index of the resource (its round-robin counters are per resource).
    index: usize,
    ttl: u32,
    degraded_ttl: u32,
    route: AnyRoute,
    when_all_down: WhenAllDown,
    policy: AnswerPolicy,
    min_up: MinUp,
    /// `limits.max_answers`: the hard cap on records in one answer.
    max_answers: usize,
    /// Route by the ECS address (else by the packet source, scope 0).
    use_ecs: bool,
    /// DYNC targets by pool index; empty for DYNA.
    cnames: Box<[Box<[u8]>]>,
    /// Datacenter names, for trace lines only.
    names: DcNames,
}

/// A resource compiled for one snapshot: its plan and its members against the health states.
#[derive(Debug, Clone)]
pub struct Resolver {
    plan: Arc<Plan>,
    /// Members and pools compiled against health.
    pub view: ResourceView,
}

impl Resolver {
    /// Compiles resource `index` of `gslb` with `route` (answers capped at `max_answers`)
    /// against the health in `is_up` and `overrides`.
    pub fn compile(
        gslb: &Gslb,
        index: usize,
        route: AnyRoute,
        names: DcNames,
        max_answers: usize,
        is_up: &dyn Fn(u32) -> bool,
        overrides: &Overrides,
    ) -> Resolver {
        let res: &Resource = &gslb.resources[index];
        let plan = Plan {
            index,
            ttl: res.ttl,
            degraded_ttl: res.degraded_ttl,
            route,
            when_all_down: res.when_all_down,
            policy: res.answer,
            min_up: res.min_up,
            max_answers,
            use_ecs: res.use_ecs,
            cnames: match &res.answers {
                Answers::Cnames(list) => list.iter().map(|c| c.target.clone()).collect(),
                Answers::Addresses(_) => Box::default(),
            },
            names,
        };
        Resolver {
            plan: Arc::new(plan),
            view: compile(gslb, res, is_up, overrides),
        }
    }

    /// The same resolver against other health states (the plan is shared, not copied).
    pub fn recompile(
        &self,
        gslb: &Gslb,
        is_up: &dyn Fn(u32) -> bool,
        overrides: &Overrides,
    ) -> Resolver {
        Resolver {
            plan: self.plan.clone(),
            view: compile(gslb, &gslb.resources[self.plan.index], is_up, overrides),
        }
    }

    /// The compiled route, for explain.
    pub fn route(&self) -> &AnyRoute {
        &self.plan.route
    }

    fn is_cname(&self) -> bool {
        !self.plan.cnames.is_empty()
    }

    fn dc_name(&self, dc: DcId) -> &str {
        self.plan.names.get(dc as usize).map_or("?", |n| n)
    }

    fn names_of(&self, list: DcOrder<'_>) -> String {
        list.iter()
            .map(|d| self.dc_name(d))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Decides what this resource answers for `client`, for record family `family`
    /// ([`V4`]/[`super::members::V6`]; ignored by DYNC). Chosen record indices go to
    /// `picked`. No allocation or lock unless `trace` is enabled.
    pub fn resolve<'r>(
        &'r self,
        family: usize,
        client: &ClientInfo,
        dice: &mut Dice<'_>,
        picked: &mut [u32],
        trace: &mut impl Trace,
    ) -> Decision<'r> {
        let mut d = Decision {
            outcome: Outcome::NoData,
            ttl: self.plan.ttl,
            scope: 0,
            degraded: false,
            dc: None,
            matched: RouteMatch::Static,
            group: 0,
        };
        if !self.is_cname() && !self.view.has_family[family] {
            // Nothing of this family anywhere: NODATA for everyone, whoever asks.
            trace!(
                trace,
                "resource has no {} members -> NODATA",
                family_name(family)
            );
            return d;
        }
        // `use_ecs: false`: the packet's source decides, and the answer says (scope 0) that
        // it did not use the client's subnet.
        let direct;
        let ignore_ecs = !self.plan.use_ecs && client.ecs_source.is_some();
        let client = if !ignore_ecs {
            client
        } else {
            direct = ClientInfo {
                addr: client.source,
                ecs_source: None,
                source: client.source,
            };
            trace!(
                trace,
                "use_ecs: false: routing by the source address {}, ECS ignored (scope 0)",
                client.source
            );
            &direct
        };
        let routed = self.plan.route.route(client);
        d.matched = routed.matched;
        // A client that asked with ECS source /0 opted out: its answer is for everyone.
        if !ignore_ecs && client.ecs_source != Some(0) {
            d.scope = routed.scope;
        }
        let set = match routed.routing {
            Routing::Failover(order) => {
                if trace.enabled() {
                    trace.line(match routed.matched {
                        RouteMatch::Static => format!("route: order [{}]", self.names_of(order)),
                        m => format!(
                            "route: client {}: {m} -> [{}] (scope /{})",
                            client.addr,
                            self.names_of(order),
                            routed.scope
                        ),
                    });
                }
                self.failover(order, family, &mut d, trace)
            }
            Routing::Union => self.union(family, &mut d, trace),
        };
        if let Some(set) = set {
            self.pick(set, client, dice, picked, &mut d, trace);
        }
        d
    }

    /// [`Self::resolve`] with repeatable dice: round-robin position `rotation`, generator
    /// seeded with `seed`. `explain` and tests use it; the answer path never does.
    pub fn resolve_repeatable<'r>(
        &'r self,
        family: usize,
        client: &ClientInfo,
        rotation: u64,
        seed: u64,
        picked: &mut [u32],
        trace: &mut impl Trace,
    ) -> Decision<'r> {
        let mut rng = Rng::seeded(seed);
        let mut dice = Dice {
            rng: &mut rng,
            rotation: Rotation::Fixed(rotation),
        };
        self.resolve(family, client, &mut dice, picked, trace)
    }

    /// Walks `order` to the first up pool; falls back to `when_all_down`.
    fn failover<'r>(
        &'r self,
        order: DcOrder<'_>,
        family: usize,
        d: &mut Decision<'r>,
        trace: &mut impl Trace,
    ) -> Option<&'r MemberSet> {
        let mut skipped_down = false;
        for dc in order.iter() {
            let Some(pool) = self.view.pool(dc) else {
                trace!(
                    trace,
                    "  {}: no pool in this resource, skipped",
                    self.dc_name(dc)
                );
                continue;
            };
            if self.is_cname() {
                trace!(
                    trace,
                    "  {}: {}",
                    self.dc_name(dc),
                    if pool.up { "up" } else { "down" }
                );
                if pool.up {
                    let i = self.view.pool_of_dc[dc as usize] as usize;
                    d.outcome = Outcome::Cname(&self.plan.cnames[i]);
                    self.chosen(d, dc, skipped_down);
                    return None;
                }
                skipped_down = true;
                continue;
            }
            let serving = &pool.serving[family];
            if pool.everyone[family].is_empty() {
                trace!(
                    trace,
                    "  {}: no usable {} members, skipped",
                    self.dc_name(dc),
                    family_name(family)
                );
                continue;
            }
            let usable = pool.up && !serving.is_empty();
            trace!(
                trace,
                "  {}: {}/{} members up (min_up {}) -> {}",
                self.dc_name(dc),
                pool.up_count,
                pool.total,
                self.plan.min_up,
                if usable { "up" } else { "down" }
            );
            if usable {
                self.chosen(d, dc, skipped_down);
                return Some(serving);
            }
            skipped_down = true;
        }
        self.all_down(order, family, d, trace)
    }

    fn chosen(&self, d: &mut Decision<'_>, dc: DcId, degraded: bool) {
        d.dc = Some(dc);
        d.degraded = degraded;
        d.ttl = if degraded {
            self.plan.degraded_ttl
        } else {
            self.plan.ttl
        };
    }

    /// `route: all`: every up pool's members together (DYNC: the first up datacenter).
    fn union<'r>(
        &'r self,
        family: usize,
        d: &mut Decision<'r>,
        trace: &mut impl Trace,
    ) -> Option<&'r MemberSet> {
        if self.is_cname() {
            for (i, p) in self.view.pools.iter().enumerate() {
                if p.up {
                    trace!(
                        trace,
                        "route: all (DYNC: first up datacenter) -> {}",
                        self.dc_name(p.dc)
                    );
                    d.outcome = Outcome::Cname(&self.plan.cnames[i]);
                    self.chosen(d, p.dc, i > 0);
                    return None;
                }
            }
            return self.all_down(DcOrder::only(&[]), family, d, trace);
        }
        let set = &self.view.union_serving[family];
        if trace.enabled() {
            trace.line(format!(
                "route: all -> {} of {} pools up",
                self.view.pools.iter().filter(|p| p.up).count(),
                self.view.pools.len()
            ));
            for p in self.view.pools.iter() {
                trace.line(format!(
                    "  pool {}: {}/{} members up -> {}",
                    self.dc_name(p.dc),
                    p.up_count,
                    p.total,
                    if p.up { "up" } else { "down" }
                ));
            }
        }
        if set.is_empty() {
            return self.all_down(DcOrder::only(&[]), family, d, trace);
        }
        d.degraded = self.view.pools.iter().any(|p| !p.up);
        if d.degraded {
            d.ttl = self.plan.degraded_ttl;
        }
        Some(set)
    }

    fn all_down<'r>(
        &'r self,
        order: DcOrder<'_>,
        family: usize,
        d: &mut Decision<'r>,
        trace: &mut impl Trace,
    ) -> Option<&'r MemberSet> {
        d.degraded = true;
        d.ttl = self.plan.degraded_ttl;
        let view = &self.view;
        let first = order
            .iter()
            .chain(view.pools.iter().map(|p| p.dc))
            .find(|&dc| match view.pool(dc) {
                Some(p) if self.is_cname() => p.total > 0,
                Some(p) => !p.everyone[family].is_empty(),
                None => false,
            });
        match self.plan.when_all_down {
            WhenAllDown::First => {
                let dc = first?;
                trace!(
                    trace,
                    "no pool up; when_all_down: first -> every member of {}",
                    self.dc_name(dc)
                );
                d.dc = Some(dc);
                if self.is_cname() {
                    d.outcome =
                        Outcome::Cname(&self.plan.cnames[view.pool_of_dc[dc as usize] as usize]);
                    return None;
                }
                view.pool(dc).map(|p| &p.everyone[family])
            }
            WhenAllDown::All => {
                trace!(
                    trace,
                    "no pool up; when_all_down: all -> every member of every pool"
                );
                if self.is_cname() {
                    if let Some(dc) = first {
                        d.outcome = Outcome::Cname(
                            &self.plan.cnames[view.pool_of_dc[dc as usize] as usize],
                        );
                    }
                    return None;
                }
                Some(&view.union_everyone[family])
            }
            WhenAllDown::Empty => {
                trace!(
                    trace,
                    "no pool up; when_all_down: empty -> NOERROR, no records"
                );
                None
            }
            WhenAllDown::Servfail => {
                trace!(trace, "no pool up; when_all_down: servfail -> SERVFAIL");
                d.outcome = Outcome::ServFail;
                None
            }
        }
    }

    /// Chooses the group and the records; widens the scope when the group depends on the
    /// client's network.
    fn pick<'r>(
        &'r self,
        set: &'r MemberSet,
        client: &ClientInfo,
        dice: &mut Dice<'_>,
        picked: &mut [u32],
        d: &mut Decision<'r>,
        trace: &mut impl Trace,
    ) {
        if set.is_empty() {
            return;
        }
        let g = choose_group(set, &self.plan.policy, self.plan.index, client, dice);
        let from = set.group(g);
        let groups = set.groups.len();
        if groups > 1 {
            trace!(
                trace,
                "subpools: {groups} groups; {} picks group {} ({} members)",
                self.plan.policy.pick,
                g + 1,
                from.len()
            );
            if self.plan.policy.pick == Pick::ClientHash && client.ecs_source != Some(0) {
                d.scope = d.scope.max(client.hash_prefix());
            }
        }
        let count = sample(
            from,
            &self.plan.policy,
            self.plan.max_answers,
            dice.rng,
            picked,
            trace,
        );
        d.group = g;
        d.outcome = Outcome::Records { from, count };
    }
}

/// Compiles every resource of `gslb` against the health in `is_up` and `overrides`. Geo maps
/// are compiled once here and shared by the resources routing by them.
pub fn compile_resources(
    gslb: &Gslb,
    max_answers: usize,
    is_up: &dyn Fn(u32) -> bool,
    overrides: &Overrides,
) -> Box<[Resolver]> {
    let names: DcNames = gslb
        .datacenters
        .iter()
        .map(|d| d.name.as_str().into())
        .collect();
    let db = gslb.geoip.as_deref();
    let tables: Vec<Arc<GeoTable>> = gslb
        .geo_maps
        .iter()
        .map(|m| Arc::new(GeoTable::compile(m, &gslb.datacenters, db)))
        .collect();
    gslb.resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let route = match &r.route {
                Route::Order(list) => AnyRoute::Order(OrderRoute::new(list)),
                Route::All => AnyRoute::All(AllRoute),
                Route::Geo(m) => match tables.get(*m) {
                    Some(t) => AnyRoute::Geo(GeoRoute::new(t.clone())),
                    // Configuration resolves map names; an index out of range cannot happen,
                    // but routing by the pools' order beats a panic.
                    None => AnyRoute::Order(OrderRoute::new(&[])),
                },
            };
            Resolver::compile(gslb, i, route, names.clone(), max_answers, is_up, overrides)
        })
        .collect()
}

/// The same resolvers against other health states: routes (geo tables) are shared.
pub fn recompile_resources(
    prev: &[Resolver],
    gslb: &Gslb,
    is_up: &dyn Fn(u32) -> bool,
    overrides: &Overrides,
) -> Box<[Resolver]> {
    prev.iter()
        .map(|r| r.recompile(gslb, is_up, overrides))
        .collect()
}

fn family_name(f: usize) -> &'static str {
    if f == V4 { "IPv4" } else { "IPv6" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gslb::members::{V4, V6};
    use crate::gslb::pick::MAX_PICK;
    use crate::gslb::{
        AnswerPolicy, CnamePool, Datacenter, Force, Member, MembersMode, MinUp, Overrides, Pool,
        WhenAllDown,
    };

    /// Compiles the first resource of `g` with `down` targets and forced states `o`.
    fn resolver(g: &Gslb, down: &[u32], o: &Overrides) -> Resolver {
        compile_resources(g, 64, &|t| !down.contains(&t), o)
            .into_vec()
            .remove(0)
    }

    /// Resolves with a fixed seed and rotation; the chosen addresses (sorted) and the decision
    /// fields that do not borrow.
    fn run<'r>(
        r: &'r Resolver,
        family: usize,
        client: &ClientInfo,
        rotation: u64,
        seed: u64,
    ) -> (Vec<String>, Decision<'r>) {
        let mut picked = [0u32; MAX_PICK];
        let d = r.resolve_repeatable(family, client, rotation, seed, &mut picked, &mut NoTrace);
        let mut out: Vec<String> = d
            .records(&picked)
            .map(|c| c.address().to_string())
            .collect();
        out.sort();
        (out, d)
    }

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
            use_ecs: true,
        }
    }

    fn client(a: &str) -> ClientInfo {
        ClientInfo {
            addr: a.parse().unwrap(),
            ecs_source: None,
            source: a.parse().unwrap(),
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

    /// The sorted addresses answered for a fixed client with `down` targets and forces `o`, and
    /// the decision's (ttl, degraded, dc, outcome kind).
    fn answer_with(g: &Gslb, down: &[u32], family: usize, o: &Overrides) -> (Vec<String>, Summary) {
        let r = resolver(g, down, o);
        let (a, d) = run(&r, family, &client("10.0.0.1"), 0, 1);
        (a, Summary::of(&d))
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Summary {
        ttl: u32,
        degraded: bool,
        dc: Option<DcId>,
        outcome: &'static str,
        cname: Vec<u8>,
    }

    impl Summary {
        fn of(d: &Decision<'_>) -> Self {
            Summary {
                ttl: d.ttl,
                degraded: d.degraded,
                dc: d.dc,
                outcome: match d.outcome {
                    Outcome::Records { .. } => "records",
                    Outcome::Cname(_) => "cname",
                    Outcome::NoData => "nodata",
                    Outcome::ServFail => "servfail",
                },
                cname: match d.outcome {
                    Outcome::Cname(c) => c.to_vec(),
                    _ => Vec::new(),
                },
            }
        }
    }

    fn answer(g: &Gslb, down: &[u32], family: usize) -> (Vec<String>, Summary) {
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
        assert_eq!(answer(&g, &all, V4).1.outcome, "nodata");
        g.resources[0].when_all_down = WhenAllDown::Servfail;
        assert_eq!(answer(&g, &all, V4).1.outcome, "servfail");
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
        assert_eq!((d.outcome, d.degraded), ("nodata", false));
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
        let r = resolver(&g, &[], &Overrides::default());
        let mut counts = std::collections::HashMap::new();
        let mut groups = std::collections::HashMap::new();
        for rotation in 0..1000 {
            let (a, d) = run(&r, V4, &client("10.0.0.1"), rotation, rotation);
            assert_eq!(a.len(), 20);
            assert_eq!(d.group, rotation as usize % 5);
            // Every answer of one group holds the same 20 members.
            let prev = groups.entry(d.group).or_insert_with(|| a.clone());
            assert_eq!(*prev, a, "answer mixes groups");
            for x in a {
                *counts.entry(x).or_insert(0) += 1;
            }
        }
        assert_eq!(counts.len(), 100);
        assert!(
            counts.values().all(|&c| c == 200),
            "every member exactly 200 times"
        );
    }

    #[test]
    fn client_hash_keeps_a_network_on_its_group_across_failures_and_reloads() {
        let g = big_pool(100, 5, Pick::ClientHash);
        let r = resolver(&g, &[], &Overrides::default());
        let group_of =
            |r: &Resolver, addr: &str, rot: u64| run(r, V4, &client(addr), rot, rot).1.group;
        // Same /24, different hosts and rotations: same group; the scope is the /24.
        assert_eq!(
            group_of(&r, "198.51.100.1", 0),
            group_of(&r, "198.51.100.200", 7)
        );
        assert_eq!(run(&r, V4, &client("198.51.100.1"), 0, 0).1.scope, 24);
        // Many networks reach every group.
        let nets: Vec<String> = (0..200u8).map(|i| format!("203.0.{i}.1")).collect();
        let before: Vec<usize> = nets.iter().map(|n| group_of(&r, n, 0)).collect();
        let distinct: std::collections::HashSet<_> = before.iter().collect();
        assert_eq!(distinct.len(), 5);
        // A member going down (members carry no target here: force it) moves no client, and
        // neither does a rebuild of the same configuration (a reload, another node).
        let mut o = Overrides::default();
        o.members.insert("10.1.0.7".parse().unwrap(), Force::Down);
        let failed = resolver(&g, &[], &o);
        let rebuilt = resolver(&g.clone(), &[], &Overrides::default());
        for (n, b) in nets.iter().zip(&before) {
            assert_eq!(group_of(&failed, n, 3), *b, "{n} moved after a failure");
            assert_eq!(group_of(&rebuilt, n, 5), *b, "{n} moved after a rebuild");
        }
        // Only the group that held the failed member answers differently.
        let held = (0..5)
            .find(|&gi| {
                run(
                    &r,
                    V4,
                    &client(&nets[before.iter().position(|&x| x == gi).unwrap()]),
                    0,
                    0,
                )
                .0
                .contains(&"10.1.0.7".to_string())
            })
            .unwrap();
        for (n, &b) in nets.iter().zip(&before) {
            let (x, _) = run(&r, V4, &client(n), 0, 0);
            let (y, _) = run(&failed, V4, &client(n), 0, 0);
            if b == held {
                assert_ne!(x, y);
                assert_eq!(y.len(), 20, "topped up from the next group");
            } else {
                assert_eq!(x, y, "group {b} changed");
            }
        }
    }

    #[test]
    fn another_seed_deals_other_groups() {
        let g = big_pool(100, 5, Pick::RoundRobin);
        let mut g2 = g.clone();
        g2.resources[0].answer.seed = 99;
        let a = run(
            &resolver(&g, &[], &Overrides::default()),
            V4,
            &client("10.0.0.1"),
            0,
            0,
        )
        .0;
        let b = run(
            &resolver(&g2, &[], &Overrides::default()),
            V4,
            &client("10.0.0.1"),
            0,
            0,
        )
        .0;
        assert_ne!(a, b);
    }

    /// `n` members of weight 1 but member `heavy` of weight `weight`, at most `max` per answer.
    fn weighted_pool(n: u32, heavy: usize, weight: u32, max: u32) -> Resolver {
        let mut g = big_pool(n, 1, Pick::RoundRobin);
        if let Answers::Addresses(p) = &mut g.resources[0].answers {
            p[0].members[heavy].weight = weight;
        }
        g.resources[0].answer.max = Some(max);
        resolver(&g, &[], &Overrides::default())
    }

    #[test]
    fn weight_three_is_answered_three_times_as_often() {
        let r = weighted_pool(2, 1, 3, 1);
        let n = 40_000u64;
        let mut hits = 0u32;
        for i in 0..n {
            let (a, _) = run(&r, V4, &client("10.0.0.1"), 0, i * 7919 + 1);
            assert_eq!(a.len(), 1);
            if a[0] == "10.1.0.2" {
                hits += 1;
            }
        }
        // p = 3/4; sigma = sqrt(n p (1-p)) ~ 86.6; accept 5 sigma.
        let expected = n as f64 * 0.75;
        assert!(
            (f64::from(hits) - expected).abs() < 5.0 * 86.6,
            "hits {hits}"
        );
    }

    #[test]
    fn weighted_max_k_is_distinct_and_favours_heavy_members() {
        let r = weighted_pool(10, 0, 10, 3);
        let mut heavy_hits = 0;
        for i in 0..2000 {
            let (mut a, _) = run(&r, V4, &client("10.0.0.1"), 0, i + 1);
            assert_eq!(a.len(), 3);
            heavy_hits += a.iter().filter(|x| *x == "10.1.0.1").count();
            a.dedup();
            assert_eq!(a.len(), 3, "sampling is without replacement");
        }
        // A light member is in ~ (3 - P(heavy)) / 9 of answers (< 25%); the heavy one in > 90%.
        assert!(heavy_hits > 1800, "{heavy_hits}");
    }

    #[test]
    fn global_max_answers_caps_the_answer() {
        let g = big_pool(50, 1, Pick::RoundRobin);
        let r = compile_resources(&g, 8, &|_| true, &Overrides::default())
            .into_vec()
            .remove(0);
        assert_eq!(run(&r, V4, &client("10.0.0.1"), 0, 1).0.len(), 8);
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
        assert_eq!((d.cname.as_slice(), d.ttl), (&b"\x01a\x00"[..], 30));
        let (_, d) = answer(&g, &[0], V4);
        assert_eq!((d.cname.as_slice(), d.ttl), (&b"\x01b\x00"[..], 5));
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
        let r = resolver(&g, &[0, 1, 2], &Overrides::default());
        let mut lines = Lines::default();
        let mut picked = [0u32; MAX_PICK];
        r.resolve_repeatable(V4, &client("10.0.0.1"), 0, 1, &mut picked, &mut lines);
        let text = lines.0.join("\n");
        assert!(text.contains("route: order [msk, spb]"), "{text}");
        assert!(text.contains("msk: 0/3 members up"), "{text}");
        assert!(text.contains("spb: 2/2 members up"), "{text}");
    }

    /// Two datacenters routed by a geo map whose one operator network, 198.51.100.0/24,
    /// prefers spb (with `only` as given); everyone else gets the default [msk, spb].
    fn partner_map(only: bool) -> Gslb {
        let mut g = two_dcs();
        let mut networks = crate::geo::PrefixMap::default();
        let partner = crate::gslb::GeoOrder { dcs: vec![1], only };
        networks.insert("198.51.100.0".parse().unwrap(), 24, partner);
        g.geo_maps.push(crate::gslb::GeoMap {
            name: "world".into(),
            default: vec![0, 1],
            networks,
            ..Default::default()
        });
        g.resources[0].route = Route::Geo(0);
        g
    }

    #[test]
    fn geo_default_scope_excludes_a_partner_prefix_inside_the_client_network() {
        let g = partner_map(true);
        let r = resolver(&g, &[], &Overrides::default());
        let ecs = |a: &str, l: u8| ClientInfo {
            addr: a.parse().unwrap(),
            ecs_source: Some(l),
            source: "127.0.0.1".parse().unwrap(),
        };
        // ECS /16 holding the partner /24: the default answer is scoped so that it does not
        // cover the /24 (198.51.0.0/18 holds no rule).
        let (_, d) = run(&r, V4, &ecs("198.51.0.0", 16), 0, 0);
        assert_eq!(
            (d.dc, d.scope, d.matched),
            (Some(0), 18, RouteMatch::Default)
        );
        // A client in the partner /24: spb, scope /24.
        let (_, d) = run(&r, V4, &ecs("198.51.100.0", 24), 0, 0);
        assert_eq!((d.dc, d.scope), (Some(1), 24));
        assert_eq!(
            d.matched,
            RouteMatch::Network("198.51.100.0".parse().unwrap(), 24)
        );
        // Source /0 opts out: scope 0.
        assert_eq!(run(&r, V4, &ecs("192.0.2.1", 0), 0, 0).1.scope, 0);
        // Static routes never depend on the client.
        let mut g2 = g.clone();
        g2.resources[0].route = Route::Order(vec![0, 1]);
        let r2 = resolver(&g2, &[], &Overrides::default());
        assert_eq!(run(&r2, V4, &ecs("198.51.100.0", 24), 0, 0).1.scope, 0);
    }

    #[test]
    fn use_ecs_false_routes_by_the_source_with_scope_zero() {
        let mut g = partner_map(false);
        let ecs = ClientInfo {
            addr: "198.51.100.9".parse().unwrap(),
            ecs_source: Some(24),
            source: "192.0.2.1".parse().unwrap(),
        };
        let r = resolver(&g, &[], &Overrides::default());
        let (_, d) = run(&r, V4, &ecs, 0, 0);
        assert_eq!((d.dc, d.scope), (Some(1), 24));
        g.resources[0].use_ecs = false;
        let r = resolver(&g, &[], &Overrides::default());
        let (_, d) = run(&r, V4, &ecs, 0, 0);
        assert_eq!(
            (d.dc, d.scope, d.matched),
            (Some(0), 0, RouteMatch::Default)
        );
        // A query from inside the network without ECS still routes by it.
        let direct = ClientInfo {
            addr: "198.51.100.9".parse().unwrap(),
            ecs_source: None,
            source: "198.51.100.9".parse().unwrap(),
        };
        assert_eq!(run(&r, V4, &direct, 0, 0).1.dc, Some(1));
    }
}
