//! Choosing the records of one answer from a member set: which subpool group, then which members.
//!
//! Works on borrowed, precompiled data and writes indices into a caller's array: no
//! allocation. Random choices come from [`Dice`], so tests and `explain` can fix them.

use super::members::{Candidate, MemberSet, mix};
use super::resolve::{ClientInfo, Trace};
use super::rng::{Rng, next_rotation};
use super::{AnswerPolicy, Pick};

/// Most records one answer can hold (the upper bound of `limits.max_answers`).
pub const MAX_PICK: usize = 1024;

/// Where an answer's round-robin position comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// This thread's counter for the resource: each worker walks the groups in turn.
    PerThread,
    /// A fixed position (tests, `explain`: the first group).
    Fixed(u64),
}

/// The random inputs of one decision.
pub struct Dice<'a> {
    /// Generator for sampling, shuffling and weighted group choice.
    pub rng: &'a mut Rng,
    /// Round-robin position source.
    pub rotation: Rotation,
}

/// Chooses the group an answer comes from (0 when there is only one).
pub fn choose_group(
    set: &MemberSet,
    policy: &AnswerPolicy,
    resource: usize,
    client: &ClientInfo,
    dice: &mut Dice<'_>,
) -> usize {
    let groups = set.groups.len();
    if groups <= 1 {
        return 0;
    }
    match policy.pick {
        Pick::RoundRobin => {
            let r = match dice.rotation {
                Rotation::PerThread => next_rotation(resource),
                Rotation::Fixed(r) => r,
            };
            (r % groups as u64) as usize
        }
        // Uniform over groups (they are weight-balanced), a pure function of the client's
        // network and the seed: every node with the same configuration agrees.
        Pick::ClientHash => {
            let h = mix(client.network_hash() ^ mix(policy.seed));
            ((u128::from(h) * groups as u128) >> 64) as usize
        }
        Pick::WeightedRandom => {
            let total: u64 = set.group_weight.iter().sum();
            let mut x = dice.rng.below(total.max(1));
            for (i, w) in set.group_weight.iter().enumerate() {
                if x < *w {
                    return i;
                }
                x -= w;
            }
            groups - 1
        }
    }
}

/// Chooses up to `min(policy.max, max_answers)` of `members` into `out` (indices into
/// `members`) by weighted sampling without replacement, in random order; returns how many.
pub fn sample(
    members: &[Candidate],
    policy: &AnswerPolicy,
    max_answers: usize,
    rng: &mut Rng,
    out: &mut [u32],
    trace: &mut impl Trace,
) -> usize {
    let n = members.len();
    if n == 0 {
        return 0;
    }
    let cap = policy
        .max
        .map_or(n, |m| m as usize)
        .min(max_answers)
        .min(n)
        .min(out.len())
        .min(MAX_PICK);
    let equal_weights = members.iter().all(|c| c.weight == members[0].weight);
    if cap == n || equal_weights {
        if n <= out.len() {
            // Partial Fisher-Yates: a uniform random subset in random order.
            for (i, slot) in out[..n].iter_mut().enumerate() {
                *slot = i as u32;
            }
            for i in 0..cap {
                let j = i + rng.below((n - i) as u64) as usize;
                out.swap(i, j);
            }
        } else {
            // More members than slots: draw distinct members by rejection (cap << n here).
            for i in 0..cap {
                out[i] = loop {
                    let r = rng.below(n as u64) as u32;
                    if !out[..i].contains(&r) {
                        break r;
                    }
                };
            }
        }
        if cap < n && trace.enabled() {
            trace.line(format!("max {cap}: uniform sample of {cap} of {n}"));
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
        out[pos] = i as u32;
        if len < cap {
            len += 1;
        }
    }
    // The sample is ordered by key, which favours heavy members first; shuffle the order.
    for i in (1..len).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        out.swap(i, j);
    }
    if trace.enabled() {
        trace.line(format!("max {cap}: weighted sample of {cap} of {n}"));
    }
    len
}
