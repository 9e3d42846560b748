//! Client networks: prefix tables, CIDR parsing, and the GeoIP database ([`db`]).
//!
//! This module knows addresses and networks, not datacenters or resources: [`PrefixMap`]
//! collects operator networks as configuration reads them (duplicates reported), and
//! [`table::RangeTable`] is the form lookups use, which also yields the ECS scope. The geo
//! route kind (`crate::gslb::route::geo`) builds on both.

pub mod db;
pub mod mrt;
pub mod table;

use std::hash::Hash;

use rustc_hash::FxHashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest-prefix-match table over IPv4 and IPv6 networks.
///
/// One hash table per prefix length present: a lookup masks the address once per distinct
/// length (at most 33 or 129, usually a handful) and probes; no allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefixMap<T> {
    v4: Vec<(u8, FxHashMap<u32, T>)>,
    v6: Vec<(u8, FxHashMap<u128, T>)>,
}

impl<T> Default for PrefixMap<T> {
    fn default() -> Self {
        PrefixMap {
            v4: Vec::new(),
            v6: Vec::new(),
        }
    }
}

fn mask4(a: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        a & (!0u32 << (32 - len as u32))
    }
}

fn mask6(a: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        a & (!0u128 << (128 - len as u32))
    }
}

impl<T> PrefixMap<T> {
    /// Adds a network; returns false if the exact network was already present (kept as is).
    pub fn insert(&mut self, addr: IpAddr, len: u8, value: T) -> bool {
        match addr {
            IpAddr::V4(a) => insert_into(&mut self.v4, len, mask4(u32::from(a), len), value),
            IpAddr::V6(a) => insert_into(&mut self.v6, len, mask6(u128::from(a), len), value),
        }
    }

    /// The value of the longest prefix containing `addr`, and that prefix's length.
    pub fn longest_match(&self, addr: IpAddr) -> Option<(&T, u8)> {
        match addr {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4
                    .iter()
                    .find_map(|(len, m)| m.get(&mask4(a, *len)).map(|v| (v, *len)))
            }
            IpAddr::V6(a) => {
                // IPv4-mapped clients match IPv4 networks.
                if let Some(v4) = a.to_ipv4_mapped() {
                    return self.longest_match(IpAddr::V4(v4));
                }
                let a = u128::from(a);
                self.v6
                    .iter()
                    .find_map(|(len, m)| m.get(&mask6(a, *len)).map(|v| (v, *len)))
            }
        }
    }

    /// Every network (masked address, prefix length) with its value, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (IpAddr, u8, &T)> {
        let v4 = self.v4.iter().flat_map(|(len, m)| {
            m.iter()
                .map(move |(a, v)| (IpAddr::V4(Ipv4Addr::from(*a)), *len, v))
        });
        let v6 = self.v6.iter().flat_map(|(len, m)| {
            m.iter()
                .map(move |(a, v)| (IpAddr::V6(Ipv6Addr::from(*a)), *len, v))
        });
        v4.chain(v6)
    }

    /// Number of networks.
    pub fn len(&self) -> usize {
        self.v4.iter().map(|(_, m)| m.len()).sum::<usize>()
            + self.v6.iter().map(|(_, m)| m.len()).sum::<usize>()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Inserts into the table of prefix length `len`, keeping tables sorted longest first.
fn insert_into<K: Hash + Eq, T>(
    tables: &mut Vec<(u8, FxHashMap<K, T>)>,
    len: u8,
    key: K,
    value: T,
) -> bool {
    let i = match tables.iter().position(|(l, _)| *l == len) {
        Some(i) => i,
        None => {
            tables.push((len, FxHashMap::default()));
            tables.sort_by_key(|e| std::cmp::Reverse(e.0));
            tables.iter().position(|(l, _)| *l == len).unwrap_or(0)
        }
    };
    match tables[i].1.entry(key) {
        std::collections::hash_map::Entry::Occupied(_) => false,
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(value);
            true
        }
    }
}

/// The network address of `addr` under a prefix of `len` bits.
pub fn network_of(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => Ipv4Addr::from(mask4(u32::from(a), len.min(32))).into(),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => Ipv4Addr::from(mask4(u32::from(v4), len.min(32))).into(),
            None => Ipv6Addr::from(mask6(u128::from(a), len.min(128))).into(),
        },
    }
}

/// Parses `ADDR/LEN` (a bare address is a host route), normalising host bits.
pub fn parse_cidr(s: &str) -> Result<(IpAddr, u8), String> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = a
        .trim()
        .parse()
        .map_err(|_| format!("'{a}' is not an IP address"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match l {
        Some(l) => l
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|&v| v <= max)
            .ok_or_else(|| format!("'/{l}' is not a prefix length (0-{max})"))?,
        None => max,
    };
    // Host bits cleared within the address's own family (an IPv4-mapped IPv6 network stays
    // IPv6, unlike `network_of`), so callers and messages see the network itself.
    let addr = match addr {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(mask4(u32::from(a), len))),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(mask6(u128::from(a), len))),
    };
    Ok((addr, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        let mut m = PrefixMap::default();
        m.insert("198.51.100.0".parse().unwrap(), 24, "a");
        m.insert("198.51.0.0".parse().unwrap(), 16, "b");
        m.insert("2001:db8::".parse().unwrap(), 32, "c");
        assert_eq!(
            m.longest_match("198.51.100.7".parse().unwrap()),
            Some((&"a", 24))
        );
        assert_eq!(
            m.longest_match("198.51.7.7".parse().unwrap()),
            Some((&"b", 16))
        );
        assert_eq!(
            m.longest_match("::ffff:198.51.100.1".parse().unwrap()),
            Some((&"a", 24))
        );
        assert_eq!(
            m.longest_match("2001:db8:1::1".parse().unwrap()),
            Some((&"c", 32))
        );
        assert_eq!(m.longest_match("203.0.113.1".parse().unwrap()), None);
        assert!(!m.insert("198.51.100.9".parse().unwrap(), 24, "dup"));
    }

    #[test]
    fn cidr_parsing() {
        assert_eq!(parse_cidr("10.0.0.0/8").unwrap().1, 8);
        assert_eq!(parse_cidr("10.0.0.1").unwrap().1, 32);
        // Found by fuzzing: the host bits were returned as written, against this doc comment.
        assert_eq!(
            parse_cidr("197.51.100.0/2").unwrap(),
            ("192.0.0.0".parse().unwrap(), 2)
        );
        assert_eq!(
            parse_cidr("::ffff:192.0.2.1/120").unwrap(),
            ("::ffff:192.0.2.0".parse().unwrap(), 120)
        );
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("x/8").is_err());
    }
}
