//! A resource compiled against the current health states: what the query path reads.
//!
//! Built whenever a snapshot is built (load, reload, health change), so per query there is no
//! counting, filtering or encoding left to do: each pool knows whether it is up, and its
//! usable members are already record data, sorted into subpool groups.

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

/// Members of one family, stored group by group for subpools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberSet {
    /// Candidates; group `g` is `members[groups[g].0 .. groups[g].1]`.
    pub members: Box<[Candidate]>,
    /// Group boundaries (one group when subpools are off).
    pub groups: Box<[(u32, u32)]>,
    /// Sum of weights per group.
    pub group_weight: Box<[u64]>,
}

impl MemberSet {
    /// Partitions `cands` into at most `subpools` groups of balanced total weight.
    ///
    /// The partition is a pure function of the member set: members are ordered by weight
    /// (heaviest first) then address, and each goes to the lightest group so far. With equal
    /// weights this deals members out in address order, so 100 members in 5 subpools give five
    /// groups of exactly 20.
    pub fn build(mut cands: Vec<Candidate>, subpools: u32) -> Self {
        if cands.is_empty() {
            return MemberSet::default();
        }
        cands.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.rdata.cmp(&b.rdata)));
        let n = (subpools.max(1) as usize).min(cands.len());
        let mut bins: Vec<(u64, Vec<Candidate>)> = vec![(0, Vec::new()); n];
        for c in cands {
            let (i, _) = bins
                .iter()
                .enumerate()
                .min_by_key(|(i, (w, v))| (*w, v.len(), *i))
                .expect("at least one group");
            bins[i].0 += u64::from(c.weight);
            bins[i].1.push(c);
        }
        let mut members = Vec::new();
        let mut groups = Vec::with_capacity(n);
        let mut weights = Vec::with_capacity(n);
        for (w, mut v) in bins {
            // Within a group, address order: readable in explain, irrelevant to answers
            // (they are shuffled).
            v.sort_by_key(|c| c.rdata);
            let start = members.len() as u32;
            members.extend(v);
            groups.push((start, members.len() as u32));
            weights.push(w);
        }
        MemberSet {
            members: members.into_boxed_slice(),
            groups: groups.into_boxed_slice(),
            group_weight: weights.into_boxed_slice(),
        }
    }

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

/// One datacenter's pool, compiled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolView {
    /// Datacenter.
    pub dc: DcId,
    /// Whether the pool is up by `min_up` (for DYNC: its target is up).
    pub up: bool,
    /// Members up (weight > 0).
    pub up_count: u32,
    /// Members that could answer (weight > 0).
    pub total: u32,
    /// Members answered when this pool is chosen, per family.
    pub serving: [MemberSet; 2],
    /// Every member with weight > 0 that is not drained, per family (for `when_all_down`).
    pub everyone: [MemberSet; 2],
    /// The operator's force on this pool (its own or its datacenter's), if any.
    pub forced: Option<Force>,
}

/// A resource compiled for the current health states.
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

/// Compiles a resource; `is_up(target)` gives the probed health of a target (no target: up),
/// `overrides` the operator's forced states, which beat it.
pub fn compile(
    gslb: &Gslb,
    res: &Resource,
    is_up: &dyn Fn(u32) -> bool,
    overrides: &Overrides,
) -> ResourceView {
    let subpools = res.answer.subpools;
    let mut pool_of_dc = vec![u16::MAX; gslb.datacenters.len()].into_boxed_slice();
    let mut pools = Vec::new();
    let mut union_serving: [Vec<Candidate>; 2] = [Vec::new(), Vec::new()];
    let mut union_everyone: [Vec<Candidate>; 2] = [Vec::new(), Vec::new()];
    let mut has_family = [false; 2];
    match &res.answers {
        Answers::Addresses(list) => {
            for (i, pool) in list.iter().enumerate() {
                let pool_force = overrides.pool(&res.name, gslb.dc_name(pool.dc));
                let mut serving: [Vec<Candidate>; 2] = [Vec::new(), Vec::new()];
                let mut everyone: [Vec<Candidate>; 2] = [Vec::new(), Vec::new()];
                let (mut up_count, mut total) = (0u32, 0u32);
                for m in &pool.members {
                    if m.weight == 0 {
                        continue;
                    }
                    let f = family(&m.address);
                    has_family[f] = true;
                    let force = overrides.members.get(&m.address).copied().or(pool_force);
                    if force == Some(Force::Drain) {
                        continue;
                    }
                    total += 1;
                    let c = Candidate::new(m.address, m.weight);
                    everyone[f].push(c);
                    let up = match force {
                        Some(Force::Up) => true,
                        Some(Force::Down) => false,
                        _ => m.target.is_none_or(is_up),
                    };
                    if up {
                        up_count += 1;
                    }
                    if up || res.members == MembersMode::All {
                        serving[f].push(c);
                    }
                }
                let up = pool_is_up(res.min_up, up_count, total);
                if up {
                    for f in [V4, V6] {
                        union_serving[f].extend_from_slice(&serving[f]);
                    }
                }
                for f in [V4, V6] {
                    union_everyone[f].extend_from_slice(&everyone[f]);
                }
                if let Some(slot) = pool_of_dc.get_mut(pool.dc as usize) {
                    *slot = i as u16;
                }
                let [s4, s6] = serving;
                let [e4, e6] = everyone;
                pools.push(PoolView {
                    dc: pool.dc,
                    up,
                    up_count,
                    total,
                    forced: pool_force,
                    serving: [
                        MemberSet::build(s4, subpools),
                        MemberSet::build(s6, subpools),
                    ],
                    everyone: [
                        MemberSet::build(e4, subpools),
                        MemberSet::build(e6, subpools),
                    ],
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
    let [u4, u6] = union_serving;
    let [a4, a6] = union_everyone;
    ResourceView {
        pools: pools.into_boxed_slice(),
        pool_of_dc,
        union_serving: [
            MemberSet::build(u4, subpools),
            MemberSet::build(u6, subpools),
        ],
        union_everyone: [
            MemberSet::build(a4, subpools),
            MemberSet::build(a6, subpools),
        ],
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

    #[test]
    fn hundred_members_in_five_subpools_are_groups_of_twenty() {
        let s = MemberSet::build(cands(100, 1), 5);
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
        let s = MemberSet::build(c, 2);
        // LPT: the heavy member first, then the light ones fill the other group up to it.
        assert_eq!(&*s.group_weight, &[5, 4]);
        assert_eq!(s.group(0).len(), 2);
        assert_eq!(s.group(1).len(), 4);
    }

    #[test]
    fn more_subpools_than_members() {
        let s = MemberSet::build(cands(3, 1), 5);
        assert_eq!(s.groups.len(), 3);
        assert!(MemberSet::build(Vec::new(), 5).is_empty());
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
