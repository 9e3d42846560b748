//! Prefix rules flattened into disjoint address ranges, for lookups that also know their scope.
//!
//! Operator networks nest (a /16 to one datacenter, a /24 inside it to another). Answering needs
//! two things per client: the most specific rule containing it, and the widest network around
//! the client inside which that same rule decides — the ECS scope (RFC 7871 §7.2.1). A resolver
//! caches the answer for that network, so it must not contain a more specific rule, or a
//! partner prefix's answer would depend on who asked first.
//!
//! At load time the rules are swept into sorted, disjoint ranges, each carrying the rule that
//! decides inside it (or none: the map's default). A lookup is one binary search; the scope is
//! the shortest prefix of the client address whose block stays inside its range, which two
//! `leading_zeros` give: the block must not reach the address just below the range or just above
//! it.

use std::fmt::Debug;

/// An address as an unsigned integer: `u32` for IPv4, `u128` for IPv6.
pub trait AddrBits: Copy + Ord + Debug + Default {
    /// Address width in bits.
    const BITS: u8;
    /// All ones: the last address.
    const MAX: Self;
    /// Number of leading bits `self` and `other` share.
    fn common_prefix(self, other: Self) -> u8;
    /// The last address of the block `self/len`.
    fn block_end(self, len: u8) -> Self;
    /// The block `self/len`'s first address.
    fn mask(self, len: u8) -> Self;
    /// `self - 1` (never called on 0).
    fn pred(self) -> Self;
    /// `self + 1` (never called on MAX).
    fn succ(self) -> Self;
}

macro_rules! addr_bits {
    ($t:ty, $bits:expr) => {
        impl AddrBits for $t {
            const BITS: u8 = $bits;
            const MAX: Self = <$t>::MAX;
            #[inline]
            fn common_prefix(self, other: Self) -> u8 {
                (self ^ other).leading_zeros() as u8
            }
            #[inline]
            fn block_end(self, len: u8) -> Self {
                if len == 0 {
                    <$t>::MAX
                } else {
                    self.mask(len) | <$t>::MAX.checked_shr(u32::from(len)).unwrap_or(0)
                }
            }
            #[inline]
            fn mask(self, len: u8) -> Self {
                if len == 0 {
                    0
                } else {
                    self & (<$t>::MAX << ($bits - len as u32))
                }
            }
            #[inline]
            fn pred(self) -> Self {
                self - 1
            }
            #[inline]
            fn succ(self) -> Self {
                self + 1
            }
        }
    };
}
addr_bits!(u32, 32);
addr_bits!(u128, 128);

/// Marks a range no rule covers.
pub const NO_RULE: u32 = u32::MAX;

/// Disjoint ranges covering the whole address space, each with the rule deciding inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeTable<K> {
    /// First address of each range, ascending; `starts[0]` is 0.
    starts: Box<[K]>,
    /// The rule of each range, or [`NO_RULE`].
    rules: Box<[u32]>,
}

impl<K: AddrBits> Default for RangeTable<K> {
    fn default() -> Self {
        RangeTable {
            starts: vec![K::default()].into_boxed_slice(),
            rules: vec![NO_RULE].into_boxed_slice(),
        }
    }
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// The rule deciding for the address, or [`NO_RULE`].
    pub rule: u32,
    /// Length of the widest network around the address inside which the same rule decides.
    pub scope: u8,
}

impl<K: AddrBits> RangeTable<K> {
    /// Builds the table from `(network, prefix length, rule)`. Host bits are ignored; when the
    /// same network is given twice, the first one wins (so a file can be appended to).
    pub fn build(prefixes: impl IntoIterator<Item = (K, u8, u32)>) -> Self {
        let mut items: Vec<(K, K, u32)> = prefixes
            .into_iter()
            .map(|(a, len, rule)| {
                let len = len.min(K::BITS);
                (a.mask(len), a.block_end(len), rule)
            })
            .collect();
        // Outer networks before the ones they contain; stable, so the first duplicate stays.
        items.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        items.dedup_by(|later, earlier| later.0 == earlier.0 && later.1 == earlier.1);

        let mut out = Builder::default();
        // Open networks, innermost last; they nest, so they close in stack order.
        let mut stack: Vec<(K, u32)> = Vec::new();
        // Next address not yet assigned to a range; None once past the last address.
        let mut cur = Some(K::default());
        for (start, end, rule) in items {
            while let Some(&(top_end, top_rule)) = stack.last() {
                if top_end >= start {
                    break;
                }
                if let Some(c) = cur
                    && c <= top_end
                {
                    out.push(c, top_rule);
                }
                cur = (top_end < K::MAX).then(|| top_end.succ());
                stack.pop();
            }
            if let Some(c) = cur
                && c < start
            {
                out.push(c, stack.last().map_or(NO_RULE, |t| t.1));
            }
            cur = Some(start);
            stack.push((end, rule));
        }
        while let Some((top_end, top_rule)) = stack.pop() {
            if let Some(c) = cur
                && c <= top_end
            {
                out.push(c, top_rule);
            }
            cur = (top_end < K::MAX).then(|| top_end.succ());
        }
        if let Some(c) = cur {
            out.push(c, NO_RULE);
        }
        out.finish()
    }

    /// The rule deciding for `addr` and the scope of that decision.
    #[inline]
    pub fn lookup(&self, addr: K) -> Found {
        // starts[0] == 0 <= addr, so the index is at least 1.
        let i = self.starts.partition_point(|&s| s <= addr) - 1;
        let lo = self.starts[i];
        let mut scope = 0u8;
        if lo > K::default() {
            scope = scope.max(addr.common_prefix(lo.pred()) + 1);
        }
        if let Some(&next) = self.starts.get(i + 1) {
            // `next - 1` is the range's last address; the block must not reach `next`.
            scope = scope.max(addr.common_prefix(next) + 1);
        }
        Found {
            rule: self.rules[i],
            scope: scope.min(K::BITS),
        }
    }

    /// `self` laid over `base`: `self`'s rule where it has one, `base`'s where it has
    /// [`NO_RULE`]. Operator networks lie over the database this way, so they win even where
    /// the database has a more specific network. Equal neighbours merge.
    pub fn overlay(&self, base: &Self) -> Self {
        let mut out = Builder::default();
        let (mut i, mut j) = (0usize, 0usize);
        let mut cur = K::default();
        loop {
            let rule = match self.rules[i] {
                NO_RULE => base.rules[j],
                r => r,
            };
            out.push(cur, rule);
            let next = match (self.starts.get(i + 1), base.starts.get(j + 1)) {
                (None, None) => break,
                (Some(&a), None) => a,
                (None, Some(&b)) => b,
                (Some(&a), Some(&b)) => a.min(b),
            };
            if self.starts.get(i + 1) == Some(&next) {
                i += 1;
            }
            if base.starts.get(j + 1) == Some(&next) {
                j += 1;
            }
            cur = next;
        }
        out.finish()
    }

    /// The same ranges with every rule renamed by `f` (e.g. to interned decisions); ranges
    /// whose new rules are equal merge, so the scope widens to the network with one answer.
    pub fn map_rules(&self, mut f: impl FnMut(u32) -> u32) -> Self {
        let mut out = Builder::default();
        for (&s, &r) in self.starts.iter().zip(self.rules.iter()) {
            out.push(s, f(r));
        }
        out.finish()
    }

    /// Number of ranges (memory and explain figures).
    pub fn ranges(&self) -> usize {
        self.starts.len()
    }
}

#[derive(Default)]
struct Builder<K> {
    starts: Vec<K>,
    rules: Vec<u32>,
}

impl<K: AddrBits> Builder<K> {
    fn push(&mut self, start: K, rule: u32) {
        // Adjacent pieces of the same rule (around a nested network that ended) stay separate
        // only if another rule lies between them; equal neighbours merge.
        if self.rules.last() == Some(&rule) {
            return;
        }
        self.starts.push(start);
        self.rules.push(rule);
    }

    fn finish(self) -> RangeTable<K> {
        RangeTable {
            starts: self.starts.into_boxed_slice(),
            rules: self.rules.into_boxed_slice(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn v4(s: &str) -> u32 {
        u32::from(s.parse::<Ipv4Addr>().unwrap())
    }

    fn table(rules: &[(&str, u8)]) -> RangeTable<u32> {
        RangeTable::build(
            rules
                .iter()
                .enumerate()
                .map(|(i, (a, l))| (v4(a), *l, i as u32)),
        )
    }

    /// The scope by definition: the shortest prefix of `addr` whose block holds no range
    /// boundary, i.e. lies inside one range (adjacent ranges always differ in rule).
    fn brute_scope(t: &RangeTable<u32>, addr: u32) -> u8 {
        (0..=32u8)
            .find(|&len| {
                let (lo, hi) = (addr.mask(len), addr.block_end(len));
                !t.starts.iter().any(|&s| s > lo && s <= hi)
            })
            .unwrap_or(32)
    }

    #[test]
    fn empty_table_is_one_range_with_scope_zero() {
        let t = table(&[]);
        assert_eq!(
            t.lookup(v4("1.2.3.4")),
            Found {
                rule: NO_RULE,
                scope: 0
            }
        );
    }

    #[test]
    fn default_answer_scope_excludes_a_nested_partner_prefix() {
        // A /24 partner prefix: a client elsewhere in its /16 must not get a scope that
        // covers the /24.
        let t = table(&[("198.51.100.0", 24)]);
        let f = t.lookup(v4("198.51.7.9"));
        assert_eq!(f.rule, NO_RULE);
        assert_eq!(
            f.scope, 18,
            "198.51.0.0/18 holds no rule; /17 would hold the /24"
        );
        let inside = t.lookup(v4("198.51.100.77"));
        assert_eq!(inside, Found { rule: 0, scope: 24 });
        // Far away: only the top bit differs.
        assert_eq!(t.lookup(v4("10.0.0.1")).scope, 1);
    }

    #[test]
    fn nested_rules_split_the_outer_one() {
        let t = table(&[("10.0.0.0", 8), ("10.1.2.0", 24)]);
        assert_eq!(t.lookup(v4("10.1.2.3")), Found { rule: 1, scope: 24 });
        // In the /8 but beside the /24: the /8 decides, scope narrow enough to exclude it.
        let f = t.lookup(v4("10.1.3.1"));
        assert_eq!((f.rule, f.scope), (0, 24));
        let f = t.lookup(v4("10.200.0.1"));
        assert_eq!((f.rule, f.scope), (0, 9));
        assert_eq!(t.lookup(v4("11.0.0.1")).rule, NO_RULE);
    }

    #[test]
    fn first_duplicate_wins_and_host_bits_are_ignored() {
        let t = table(&[("192.0.2.0", 24), ("192.0.2.77", 24)]);
        assert_eq!(t.lookup(v4("192.0.2.1")).rule, 0);
    }

    #[test]
    fn whole_space_and_host_routes() {
        let t = table(&[("0.0.0.0", 0), ("255.255.255.255", 32), ("0.0.0.0", 32)]);
        assert_eq!(
            t.lookup(v4("255.255.255.255")),
            Found { rule: 1, scope: 32 }
        );
        assert_eq!(t.lookup(v4("0.0.0.0")), Found { rule: 2, scope: 32 });
        // 128.0.0.0/1 would hold the /32 at the top: /2 is the widest uniform block.
        assert_eq!(t.lookup(v4("128.0.0.0")), Found { rule: 0, scope: 2 });
    }

    #[test]
    fn scope_matches_brute_force() {
        let t = table(&[
            ("10.0.0.0", 8),
            ("10.0.0.0", 16),
            ("10.0.128.0", 17),
            ("10.7.7.0", 24),
            ("10.7.7.128", 25),
            ("172.16.0.0", 12),
            ("192.168.0.0", 16),
            ("192.168.1.1", 32),
        ]);
        // A fixed LCG: repeatable, and keeps this module free of other modules.
        let mut state = 5u64;
        let mut below = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        for _ in 0..20_000 {
            let base = [v4("10.0.0.0"), v4("10.7.7.0"), v4("192.168.1.0"), 0][below(4) as usize];
            let width = below(24) + 1;
            let addr = base.wrapping_add(below(1 << width) as u32);
            assert_eq!(t.lookup(addr).scope, brute_scope(&t, addr), "{addr:x}");
        }
    }

    /// The rule at `addr` by definition: the longest of `rules` containing it, first wins.
    fn brute_rule(rules: &[(u32, u8, u32)], addr: u32) -> u32 {
        rules
            .iter()
            .filter(|(a, l, _)| addr.mask(*l) == a.mask(*l))
            .max_by(|x, y| x.1.cmp(&y.1).then(y.2.cmp(&x.2)))
            .map_or(NO_RULE, |r| r.2)
    }

    #[test]
    fn overlay_and_map_rules_match_brute_force() {
        let top_rules = [
            (v4("10.0.0.0"), 8, 0),
            (v4("10.7.7.0"), 24, 1),
            (v4("192.168.0.0"), 16, 2),
        ];
        // The "database": finer networks, some inside the top rules.
        let base_rules = [
            (v4("10.7.7.128"), 25, 10),
            (v4("10.7.6.0"), 24, 11),
            (v4("10.7.8.0"), 24, 11),
            (v4("11.0.0.0"), 8, 12),
            (v4("12.0.0.0"), 8, 12),
            (v4("192.168.1.0"), 24, 13),
            (v4("0.0.0.0"), 1, 14),
        ];
        let top = RangeTable::build(top_rules);
        let base = RangeTable::build(base_rules);
        let t = top.overlay(&base);
        // Renaming 11 and 12 to the same rule merges 11.0.0.0/8 and 12.0.0.0/8 ... and the
        // ranges of 14 around them.
        let m = t.map_rules(|r| if r == 12 { 14 } else { r });
        let mut state = 7u64;
        let mut below = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        for _ in 0..20_000 {
            let base_addr =
                [v4("10.7.7.0"), v4("192.168.1.0"), v4("11.255.255.0"), 0][below(4) as usize];
            let width = below(24) + 1;
            let addr = base_addr.wrapping_add(below(1 << width) as u32);
            let want = match brute_rule(&top_rules, addr) {
                NO_RULE => brute_rule(&base_rules, addr),
                r => r,
            };
            let f = t.lookup(addr);
            assert_eq!(f.rule, want, "{addr:x}");
            assert_eq!(f.scope, brute_scope(&t, addr), "{addr:x}");
            let g = m.lookup(addr);
            assert_eq!(g.rule, if want == 12 { 14 } else { want }, "{addr:x}");
            assert_eq!(g.scope, brute_scope(&m, addr), "{addr:x}");
        }
        // Adjacent ranges never share a rule (that would narrow scopes for nothing).
        for tab in [&t, &m] {
            assert!(tab.rules.windows(2).all(|w| w[0] != w[1]));
        }
        // 11.0.0.0 up to 127.255.255.255 is now one range: 12.0.0.0/6 (12-15) lies inside it,
        // /5 (8-15) would hold 10.0.0.0/8. Before the renaming, 12.0.0.0/8 was its own range.
        assert_eq!(m.lookup(v4("12.1.1.1")).scope, 6);
        assert_eq!(t.lookup(v4("12.1.1.1")).scope, 8);
    }

    #[test]
    fn ipv6_widths() {
        let a: u128 = "2001:db8::".parse::<std::net::Ipv6Addr>().unwrap().into();
        let t = RangeTable::build([(a, 32u8, 0u32)]);
        assert_eq!(t.lookup(a + 5), Found { rule: 0, scope: 32 });
        let outside: u128 = "2001:db9::1".parse::<std::net::Ipv6Addr>().unwrap().into();
        assert_eq!(t.lookup(outside).scope, 32);
    }
}
