//! A resource's members compiled against the current health states: what the query path reads.
//!
//! Built whenever a snapshot is built (load, reload, health change), so per query there is no
//! counting, filtering or encoding left to do: each pool knows whether it is up, and its usable
//! members are already record data, sorted into subpool groups.
//!
//! Subpool groups are stable. The *configured* members (weight > 0) of a pool (or, for
//! `route: all`, of all pools) are partitioned into `subpools` fixed groups by a pure function
//! of the configuration and `answer.seed` ([`partition`]); health only removes members from
//! inside their group. A group with fewer usable members than it should answer with (its size,
//! or `answer.max` if smaller) is topped up with usable members of the following groups, in
//! group order, so one member going down changes the answers of its own group only, and a
//! client kept on a group by `client_hash` keeps it across reloads and unrelated failures.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::IpAddr;

use super::{Answers, DcId, Force, Gslb, MembersMode, MinUp, Overrides, Resource};

/// Index of the IPv4 member sets.
pub const V4: usize = 0;
/// Index of the IPv6 member sets.
pub const V6: usize = 1;

/// A member ready to be written: its A or AAAA record data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Address bytes (4 or 16 used).
    pub rdata: [u8; 16],
    /// 4 for A, 16 for AAAA.
    pub len: u8,
    /// Configured weight (> 0).
    pub weight: u32,
}

impl Candidate {
    fn new(addr: IpAddr, weight: u32) -> Self {
        let mut rdata = [0u8; 16];
        let len = match addr {
            IpAddr::V4(a) => {
                rdata[..4].copy_from_slice(&a.octets());
                4
            }
            IpAddr::V6(a) => {
                rdata.copy_from_slice(&a.octets());
                16
            }
        };
        Candidate { rdata, len, weight }
    }

    /// The record data.
    pub fn data(&self) -> &[u8] {
        &self.rdata[..self.len as usize]
    }

    /// The address, for explain output and tests.
    pub fn address(&self) -> IpAddr {
        if self.len == 4 {
            IpAddr::from([self.rdata[0], self.rdata[1], self.rdata[2], self.rdata[3]])
        } else {
            IpAddr::from(self.rdata)
        }
    }
}

/// The answerable members of one family, group by group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberSet {
    /// Candidates; group `g` is `members[groups[g].0 .. groups[g].1]`. A member topped up into
    /// another group appears in both.
    pub members: Box<[Candidate]>,
    /// Group boundaries (one group when subpools are off).
    pub groups: Box<[(u32, u32)]>,
    /// Sum of weights per group.
    pub group_weight: Box<[u64]>,
}

impl MemberSet {
    /// Whether there is nothing to answer with.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Members of one group.
    pub fn group(&self, g: usize) -> &[Candidate] {
        let (a, b) = self.groups[g];
        &self.members[a as usize..b as usize]
    }
}

/// 64-bit mix (SplitMix64's finalizer): stable across runs, versions and machines.
pub fn mix(mut h: u64) -> u64 {
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn address_hash(seed: u64, c: &Candidate) -> u64 {
    let a = u64::from_be_bytes(c.rdata[..8].try_into().unwrap_or_default());
    let b = u64::from_be_bytes(c.rdata[8..].try_into().unwrap_or_default());
    mix(mix(seed ^ a ^ u64::from(c.len)) ^ b)
}

/// Partitions configured members into at most `subpools` groups of balanced total weight.
///
/// A pure function of the members' addresses and weights and of `seed`: members are ordered by
/// weight (heaviest first), then by a seeded hash of the address, and each goes to the group
/// with the least weight so far (lowest index on ties). With equal weights this deals members
/// out in hash order, so 100 members in 5 subpools give five groups of exactly 20. Returns each
/// member's group, indexed like `members`, and the number of groups.
pub fn partition(members: &[Candidate], subpools: u32, seed: u64) -> (Vec<u32>, usize) {
    let n = (subpools.max(1) as usize).min(members.len()).max(1);
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by_key(|&i| {
        (
            std::cmp::Reverse(members[i].weight),
            address_hash(seed, &members[i]),
            members[i].rdata,
        )
    });
    // The lightest group so far (weight, then member count, then lowest index) at the top.
    let mut load: BinaryHeap<Reverse<(u64, usize, usize)>> =
        (0..n).map(|g| Reverse((0, 0, g))).collect();
    let mut group_of = vec![0u32; members.len()];
    for i in order {
        let Some(Reverse((w, count, g))) = load.pop() else {
            break;
        };
        group_of[i] = g as u32;
        load.push(Reverse((w + u64::from(members[i].weight), count + 1, g)));
    }
    (group_of, n)
}

/// Builds the served groups from the configured `members` (with `group_of` from
/// [`partition`]) and which of them are usable. Each group answers with its usable members;
/// one with fewer than `want` (its configured size, capped by `max`) is topped up with the
/// usable members of the next groups in order, wrapping.
fn serve(
    members: &[Candidate],
    group_of: &[u32],
    groups: usize,
    usable: &[bool],
    max: Option<u32>,
) -> MemberSet {
    if !usable.iter().any(|&u| u) {
        return MemberSet::default();
    }
    // Members of each group in hash order (their order in `members` is configuration order;
    // answers are shuffled anyway, the fixed order only decides who tops up first).
    let mut by_group: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for (i, &g) in group_of.iter().enumerate() {
        by_group[g as usize].push(i);
    }
    let mut out = Vec::new();
    let mut bounds = Vec::with_capacity(groups);
    let mut weights = Vec::with_capacity(groups);
    for g in 0..groups {
        let start = out.len();
        let want = by_group[g]
            .len()
            .min(max.map_or(usize::MAX, |m| m as usize));
        let mut weight = 0u64;
        for k in 0..groups {
            let from = &by_group[(g + k) % groups];
            for &i in from {
                if out.len() - start >= want && k > 0 {
                    break;
                }
                if usable[i] {
                    out.push(members[i]);
                    weight += u64::from(members[i].weight);
                }
            }
            if out.len() - start >= want {
                break;
            }
        }
        bounds.push((start as u32, out.len() as u32));
        weights.push(weight);
    }
    MemberSet {
        members: out.into_boxed_slice(),
        groups: bounds.into_boxed_slice(),
        group_weight: weights.into_boxed_slice(),
    }
}

/// One family's configured members of a pool (or of a union of pools), partitioned once.
struct Family {
    members: Vec<Candidate>,
    group_of: Vec<u32>,
    groups: usize,
    /// Whether the member is up (probe or force) and whether it is drained.
    up: Vec<bool>,
    drained: Vec<bool>,
    /// Index of the pool the member comes from (for unions).
    pool: Vec<usize>,
}

impl Family {
    fn new() -> Self {
        Family {
            members: Vec::new(),
            group_of: Vec::new(),
            groups: 1,
            up: Vec::new(),
            drained: Vec::new(),
            pool: Vec::new(),
        }
    }

    fn partition(&mut self, subpools: u32, seed: u64) {
        (self.group_of, self.groups) = partition(&self.members, subpools, seed);
    }

    fn serve(&self, usable: impl Fn(usize) -> bool, max: Option<u32>) -> MemberSet {
        let u: Vec<bool> = (0..self.members.len()).map(usable).collect();
        serve(&self.members, &self.group_of, self.groups, &u, max)
    }
}

/// One datacenter's pool, compiled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolView {
    /// Datacenter.
    pub dc: DcId,
    /// Whether the pool is up by `min_up` (for DYNC: its target is up).
    pub up: bool,
    /// Members up (weight > 0, not drained).
    pub up_count: u32,
    /// Members that could answer (weight > 0, not drained).
    pub total: u32,
    /// Members answered when this pool is chosen, per family.
    pub serving: [MemberSet; 2],
    /// Every member with weight > 0 that is not drained, per family (for `when_all_down`).
    pub everyone: [MemberSet; 2],
    /// The operator's force on this pool (its own or its datacenter's), if any.
    pub forced: Option<Force>,
}

/// A resource's members compiled for the current health states.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceView {
    /// Pools in configuration order.
    pub pools: Box<[PoolView]>,
    /// Pool index per datacenter id (`u16::MAX`: the resource has no pool there).
    pub pool_of_dc: Box<[u16]>,
    /// `route: all`: serving members of every up pool.
    pub union_serving: [MemberSet; 2],
    /// `when_all_down: all`: every member of every pool.
    pub union_everyone: [MemberSet; 2],
    /// Whether any member of each family exists at all.
    pub has_family: [bool; 2],
}

impl ResourceView {
    /// The pool of a datacenter, if this resource has one.
    pub fn pool(&self, dc: DcId) -> Option<&PoolView> {
        let i = *self.pool_of_dc.get(dc as usize)?;
        self.pools.get(i as usize)
    }
}

/// Whether `up` of `total` members satisfies `min_up`.
pub fn pool_is_up(min_up: MinUp, up: u32, total: u32) -> bool {
    if total == 0 || up == 0 {
        return false;
    }
    match min_up {
        MinUp::Count(n) => up >= n.min(total),
        MinUp::Percent(p) => u64::from(up) * 100 >= u64::from(p) * u64::from(total),
    }
}

fn family(addr: &IpAddr) -> usize {
    if addr.is_ipv4() { V4 } else { V6 }
}

/// Compiles a resource's members; `is_up(target)` gives the probed health of a target (no
/// target: up), `overrides` the operator's forced states, which beat it.
pub fn compile(
    gslb: &Gslb,
    res: &Resource,
    is_up: &dyn Fn(u32) -> bool,
    overrides: &Overrides,
) -> ResourceView {
    let subpools = res.answer.subpools;
    let seed = res.answer.seed;
    let max = res.answer.max;
    let healthy_only = res.members == MembersMode::Healthy;
    let mut pool_of_dc = vec![u16::MAX; gslb.datacenters.len()].into_boxed_slice();
    let mut pools = Vec::new();
    let mut has_family = [false; 2];
    let mut union = [Family::new(), Family::new()];
    let mut pool_up = Vec::new();
    match &res.answers {
        Answers::Addresses(list) => {
            for (i, pool) in list.iter().enumerate() {
                let pool_force = overrides.pool(&res.name, gslb.dc_name(pool.dc));
                let mut fams = [Family::new(), Family::new()];
                let (mut up_count, mut total) = (0u32, 0u32);
                for m in &pool.members {
                    if m.weight == 0 {
                        continue;
                    }
                    let f = family(&m.address);
                    has_family[f] = true;
                    let force = overrides.members.get(&m.address).copied().or(pool_force);
                    let drained = force == Some(Force::Drain);
                    let up = !drained
                        && match force {
                            Some(Force::Up) => true,
                            Some(Force::Down) => false,
                            _ => m.target.is_none_or(is_up),
                        };
                    if !drained {
                        total += 1;
                        up_count += u32::from(up);
                    }
                    for fam in [&mut fams[f], &mut union[f]] {
                        fam.members.push(Candidate::new(m.address, m.weight));
                        fam.up.push(up);
                        fam.drained.push(drained);
                        fam.pool.push(i);
                    }
                }
                let up = pool_is_up(res.min_up, up_count, total);
                pool_up.push(up);
                if let Some(slot) = pool_of_dc.get_mut(pool.dc as usize) {
                    *slot = i as u16;
                }
                let sets = fams.map(|mut fam| {
                    fam.partition(subpools, seed);
                    let serving =
                        fam.serve(|k| !fam.drained[k] && (fam.up[k] || !healthy_only), max);
                    let everyone = fam.serve(|k| !fam.drained[k], max);
                    (serving, everyone)
                });
                let [(s4, e4), (s6, e6)] = sets;
                pools.push(PoolView {
                    dc: pool.dc,
                    up,
                    up_count,
                    total,
                    forced: pool_force,
                    serving: [s4, s6],
                    everyone: [e4, e6],
                });
            }
        }
        Answers::Cnames(list) => {
            for (i, c) in list.iter().enumerate() {
                let forced = overrides.pool(&res.name, gslb.dc_name(c.dc));
                let up = match forced {
                    Some(Force::Up) => true,
                    Some(Force::Down | Force::Drain) => false,
                    None => c.health.is_none_or(is_up),
                };
                if let Some(slot) = pool_of_dc.get_mut(c.dc as usize) {
                    *slot = i as u16;
                }
                pools.push(PoolView {
                    dc: c.dc,
                    up,
                    up_count: u32::from(up),
                    total: u32::from(forced != Some(Force::Drain)),
                    forced,
                    ..Default::default()
                });
            }
        }
    }
    let unions = union.map(|mut fam| {
        fam.partition(subpools, seed);
        let serving = fam.serve(
            |k| pool_up[fam.pool[k]] && !fam.drained[k] && (fam.up[k] || !healthy_only),
            max,
        );
        let everyone = fam.serve(|k| !fam.drained[k], max);
        (serving, everyone)
    });
    let [(u4, a4), (u6, a6)] = unions;
    ResourceView {
        pools: pools.into_boxed_slice(),
        pool_of_dc,
        union_serving: [u4, u6],
        union_everyone: [a4, a6],
        has_family,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cands(n: u8, weight: u32) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate::new(IpAddr::from([10, 0, 0, i]), weight))
            .collect()
    }

    fn build(c: &[Candidate], subpools: u32, usable: &[bool], max: Option<u32>) -> MemberSet {
        let (g, n) = partition(c, subpools, 0);
        serve(c, &g, n, usable, max)
    }

    #[test]
    fn hundred_members_in_five_subpools_are_groups_of_twenty() {
        let c = cands(100, 1);
        let s = build(&c, 5, &[true; 100], None);
        assert_eq!(s.groups.len(), 5);
        for g in 0..5 {
            assert_eq!(s.group(g).len(), 20);
        }
        let mut all: Vec<_> = s.members.iter().map(|c| c.address()).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 100);
    }

    #[test]
    fn groups_balance_weight_not_count() {
        let mut c = cands(6, 1);
        c[0].weight = 4;
        let s = build(&c, 2, &[true; 6], None);
        // LPT: the heavy member first, then the light ones fill the other group up to it.
        let mut w = s.group_weight.to_vec();
        w.sort();
        assert_eq!(w, [4, 5]);
    }

    #[test]
    fn more_subpools_than_members() {
        let s = build(&cands(3, 1), 5, &[true; 3], None);
        assert_eq!(s.groups.len(), 3);
        assert!(build(&[], 5, &[], None).is_empty());
    }

    #[test]
    fn partition_is_a_pure_function_of_members_and_seed() {
        let c = cands(50, 1);
        let mut rev = c.clone();
        rev.reverse();
        let (a, _) = partition(&c, 5, 7);
        let (b, _) = partition(&rev, 5, 7);
        // Same member, same group, whatever the configuration order.
        for (i, m) in c.iter().enumerate() {
            let j = rev.iter().position(|r| r == m).unwrap();
            assert_eq!(a[i], b[j]);
        }
        let (other, _) = partition(&c, 5, 8);
        assert_ne!(a, other, "another seed deals members differently");
    }

    #[test]
    fn a_member_going_down_changes_only_its_own_group() {
        let c = cands(20, 1);
        let all_up = build(&c, 4, &[true; 20], None);
        let (groups, _) = partition(&c, 4, 0);
        let mut usable = [true; 20];
        usable[3] = false;
        let one_down = build(&c, 4, &usable, None);
        let hit = groups[3] as usize;
        for g in 0..4 {
            if g != hit {
                assert_eq!(all_up.group(g), one_down.group(g), "group {g} changed");
            }
        }
        // Its group keeps its size: topped up with one member of the next group.
        assert_eq!(one_down.group(hit).len(), 5);
        assert!(!one_down.group(hit).contains(&c[3]));
        let next = (hit + 1) % 4;
        let extra: Vec<_> = one_down
            .group(hit)
            .iter()
            .filter(|m| !all_up.group(hit).contains(m))
            .collect();
        assert_eq!(extra.len(), 1);
        assert!(all_up.group(next).contains(extra[0]));
    }

    #[test]
    fn a_mostly_down_group_is_topped_up_from_the_next_groups_in_order() {
        let c = cands(9, 1);
        let (groups, _) = partition(&c, 3, 0);
        // Everything in group 0 down, one member of group 1 down.
        let usable: Vec<bool> = groups.iter().map(|&g| g != 0).collect();
        let mut usable = usable;
        let g1 = groups.iter().position(|&g| g == 1).unwrap();
        usable[g1] = false;
        let s = build(&c, 3, &usable, None);
        let g0 = s.group(0);
        assert_eq!(g0.len(), 3);
        // Two come from group 1 (all its usable members), the third from group 2.
        let from = |m: &Candidate| groups[c.iter().position(|x| x == m).unwrap()];
        let mut sources: Vec<u32> = g0.iter().map(from).collect();
        sources.sort();
        assert_eq!(sources, [1, 1, 2]);
        // With max 1 a group needs only one usable member.
        let s = build(&c, 3, &usable, Some(1));
        assert_eq!(s.group(0).len(), 1);
        assert_eq!(from(&s.group(0)[0]), 1);
        assert_eq!(
            s.group(1).len(),
            2,
            "a group answers with all its usable members"
        );
    }

    #[test]
    fn min_up_rules() {
        assert!(pool_is_up(MinUp::Percent(50), 1, 2));
        assert!(!pool_is_up(MinUp::Percent(50), 1, 3));
        assert!(pool_is_up(MinUp::Count(2), 2, 10));
        // A count larger than the pool means "all of them".
        assert!(pool_is_up(MinUp::Count(5), 3, 3));
        assert!(!pool_is_up(MinUp::Count(1), 0, 3));
        assert!(!pool_is_up(MinUp::Percent(0), 0, 3));
    }
}
