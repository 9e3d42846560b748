//! Response rate limiting (RRL), as BIND, Knot and NSD do it: so the server is no use as a
//! reflection amplifier, while real clients keep getting answers.
//!
//! Responses are counted per second in buckets keyed by the client's network (IPv4 /24, IPv6
//! /56 by default) and the answer's class: positive answers by query name and type, NXDOMAIN
//! and NODATA by the zone (so a random-subdomain flood shares one bucket), referrals by the
//! delegation, errors all together. Past `rate` responses in one second a bucket's answers are
//! dropped, except every `slip`-th which goes out truncated (TC=1, no records) so a real client
//! behind a spoofed network retries over TCP. Only UDP is limited.
//!
//! The table is a fixed array of atomics allocated once (at start and reload): a bucket hashes
//! to one slot holding a tag, a second and a count, updated by compare-and-swap. No lock and no
//! allocation per packet. Two buckets sharing a slot reset each other's count (the tag differs),
//! so a collision errs towards answering; the hash is keyed by a per-table random seed, so an
//! attacker cannot aim collisions.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// `limits.rrl` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Responses per second per bucket; 0 switches limiting off.
    pub rate: u32,
    /// 0: drop every limited answer; 1: send each truncated; N: every Nth truncated.
    pub slip: u32,
    /// IPv4 clients are grouped by this prefix length.
    pub ipv4_prefix: u8,
    /// IPv6 clients are grouped by this prefix length.
    pub ipv6_prefix: u8,
    /// Slots in the table (fixed memory: 8 bytes each).
    pub table_size: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rate: 200,
            slip: 2,
            ipv4_prefix: 24,
            ipv6_prefix: 56,
            table_size: 65536,
        }
    }
}

/// What the answer was, for choosing its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Records in the answer section: keyed by query name and type.
    Positive = 1,
    /// NXDOMAIN: keyed by the zone apex.
    NxDomain = 2,
    /// NOERROR without answer: keyed by the zone apex.
    NoData = 3,
    /// A referral: keyed by the delegation point.
    Referral = 4,
    /// FORMERR, REFUSED, SERVFAIL, NOTIMP, BADVERS: one bucket per network.
    Error = 5,
}

/// The answer's class: its kind and a hash of the name that keys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// Kind of answer.
    pub kind: Kind,
    /// Hash of the keying name (and type), 0 for errors.
    pub name: u64,
}

impl Class {
    /// The error class (no name).
    pub const ERROR: Class = Class {
        kind: Kind::Error,
        name: 0,
    };

    /// A class keyed by `name` (lowercased wire form) and `qtype` (0 when the type does not
    /// matter).
    pub fn named(kind: Kind, name: &[u8], qtype: u16) -> Class {
        // FNV-1a: the names are at most 255 bytes and the result is mixed with a seed below.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in name {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        Class {
            kind,
            name: h ^ u64::from(qtype).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        }
    }
}

/// What to do with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the rate: send it.
    Send,
    /// Over the rate: send it truncated (TC=1, no records).
    Slip,
    /// Over the rate: send nothing.
    Drop,
}

const COUNT_BITS: u32 = 28;
const SECOND_BITS: u32 = 12;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const SECOND_MASK: u64 = (1 << SECOND_BITS) - 1;
const TAG_SHIFT: u32 = COUNT_BITS + SECOND_BITS;

/// The shared table of buckets (see the module documentation).
#[derive(Debug)]
pub struct Limiter {
    settings: Settings,
    slots: Box<[AtomicU64]>,
    seed: u64,
    epoch: Instant,
}

fn mix(a: u64, b: u64) -> u64 {
    let t = u128::from(a ^ 0xa076_1d64_78bd_642f) * u128::from(b ^ 0xe703_7ed1_a0b4_28db);
    (t >> 64) as u64 ^ t as u64
}

impl Limiter {
    /// A table for `settings`; with rate 0 it holds no slots and limits nothing.
    pub fn new(settings: &Settings) -> Limiter {
        let n = if settings.rate == 0 {
            0
        } else {
            settings.table_size.max(1)
        };
        let seed = {
            let s = crate::cookie::Secret::process_random().0;
            u64::from_le_bytes(s[..8].try_into().unwrap_or_default())
                ^ (&n as *const usize as u64).rotate_left(17)
        };
        Limiter {
            settings: settings.clone(),
            slots: (0..n).map(|_| AtomicU64::new(0)).collect(),
            seed,
            epoch: Instant::now(),
        }
    }

    /// The settings the table was built for.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether anything is limited at all.
    pub fn enabled(&self) -> bool {
        !self.slots.is_empty()
    }

    /// Seconds since the table was made: the clock buckets count in. `Instant::now` reads the
    /// vDSO clock, no system call.
    pub fn now(&self) -> u32 {
        self.epoch.elapsed().as_secs() as u32
    }

    /// Counts one response of `class` to `addr` in second `now` and says what to do with it.
    pub fn check(&self, addr: IpAddr, class: Class, now: u32) -> Verdict {
        if self.slots.is_empty() {
            return Verdict::Send;
        }
        let (hi, lo) = match addr {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                let p = u32::from(self.settings.ipv4_prefix.min(32));
                let masked = if p == 0 {
                    0
                } else {
                    bits & (u32::MAX << (32 - p))
                };
                (4u64, u64::from(masked))
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                let p = u32::from(self.settings.ipv6_prefix.min(128));
                let masked = if p == 0 {
                    0
                } else {
                    bits & (u128::MAX << (128 - p))
                };
                ((masked >> 64) as u64 ^ 6, masked as u64)
            }
        };
        let h = mix(
            mix(self.seed ^ hi, lo ^ class.kind as u64),
            class.name ^ self.seed.rotate_left(29),
        );
        let slot = &self.slots[(h % self.slots.len() as u64) as usize];
        let tag = h >> TAG_SHIFT;
        let second = u64::from(now) & SECOND_MASK;
        let mut cur = slot.load(Ordering::Relaxed);
        let count = loop {
            let same = cur >> TAG_SHIFT == tag && (cur >> COUNT_BITS) & SECOND_MASK == second;
            let count = if same {
                ((cur & COUNT_MASK) + 1).min(COUNT_MASK)
            } else {
                1
            };
            let next = tag << TAG_SHIFT | second << COUNT_BITS | count;
            match slot.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break count,
                Err(v) => cur = v,
            }
        };
        let rate = u64::from(self.settings.rate);
        if count <= rate {
            return Verdict::Send;
        }
        let over = count - rate;
        match self.settings.slip {
            0 => Verdict::Drop,
            s if over % u64::from(s) == 0 => Verdict::Slip,
            _ => Verdict::Drop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: u32, slip: u32) -> Limiter {
        Limiter::new(&Settings {
            rate,
            slip,
            ..Settings::default()
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// (sent, slipped, dropped) for `n` responses of one class in second `now`.
    fn run(l: &Limiter, addr: &str, class: Class, n: usize, now: u32) -> (usize, usize, usize) {
        let mut r = (0, 0, 0);
        for _ in 0..n {
            match l.check(ip(addr), class, now) {
                Verdict::Send => r.0 += 1,
                Verdict::Slip => r.1 += 1,
                Verdict::Drop => r.2 += 1,
            }
        }
        r
    }

    fn www() -> Class {
        Class::named(Kind::Positive, b"\x03www\x07example\x00", 1)
    }

    #[test]
    fn rate_per_second_and_slip_ratios() {
        let l = limiter(10, 2);
        assert_eq!(run(&l, "192.0.2.1", www(), 30, 5), (10, 10, 10));
        // The next second starts a fresh count.
        assert_eq!(run(&l, "192.0.2.1", www(), 10, 6), (10, 0, 0));
        assert_eq!(run(&limiter(10, 0), "192.0.2.1", www(), 30, 5), (10, 0, 20));
        assert_eq!(run(&limiter(10, 1), "192.0.2.1", www(), 30, 5), (10, 20, 0));
        assert_eq!(
            run(&limiter(10, 3), "192.0.2.1", www(), 40, 5),
            (10, 10, 20)
        );
    }

    #[test]
    fn rate_zero_limits_nothing() {
        let l = limiter(0, 2);
        assert!(!l.enabled());
        assert_eq!(run(&l, "192.0.2.1", www(), 1000, 5), (1000, 0, 0));
    }

    #[test]
    fn buckets_by_network_and_class() {
        let l = limiter(5, 0);
        // Same /24: one bucket; another /24: another.
        assert_eq!(run(&l, "192.0.2.1", www(), 5, 1), (5, 0, 0));
        assert_eq!(run(&l, "192.0.2.200", www(), 5, 1), (0, 0, 5));
        assert_eq!(run(&l, "192.0.3.1", www(), 5, 1), (5, 0, 0));
        // Same network, another name, another type, another kind: other buckets.
        let mail = Class::named(Kind::Positive, b"\x04mail\x07example\x00", 1);
        assert_eq!(run(&l, "192.0.2.1", mail, 5, 1), (5, 0, 0));
        let aaaa = Class::named(Kind::Positive, b"\x03www\x07example\x00", 28);
        assert_eq!(run(&l, "192.0.2.1", aaaa, 5, 1), (5, 0, 0));
        assert_eq!(run(&l, "192.0.2.1", Class::ERROR, 5, 1), (5, 0, 0));
        assert_eq!(run(&l, "192.0.2.1", Class::ERROR, 1, 1), (0, 0, 1));
    }

    /// NXDOMAIN answers are keyed by the zone, not the name: random names share one bucket.
    #[test]
    fn random_nxdomain_names_share_the_zone_bucket() {
        let l = limiter(20, 0);
        let apex = b"\x07example\x00";
        let mut sent = 0;
        for i in 0..100u32 {
            // answer.rs keys an NXDOMAIN for r{i}.example by the apex, whatever i is.
            let _ = i;
            if l.check(ip("198.51.100.7"), Class::named(Kind::NxDomain, apex, 0), 9)
                == Verdict::Send
            {
                sent += 1;
            }
        }
        assert_eq!(sent, 20);
        // NODATA from the same zone is its own bucket.
        let nodata = Class::named(Kind::NoData, apex, 0);
        assert_eq!(run(&l, "198.51.100.7", nodata, 20, 9), (20, 0, 0));
    }

    #[test]
    fn ipv6_groups_by_56() {
        let l = limiter(4, 0);
        assert_eq!(run(&l, "2001:db8:0:ff::1", www(), 4, 3), (4, 0, 0));
        // Same /56 (2001:db8:0:00xx::/56).
        assert_eq!(run(&l, "2001:db8:0:1::2", www(), 4, 3), (0, 0, 4));
        // Next /56.
        assert_eq!(run(&l, "2001:db8:0:100::1", www(), 4, 3), (4, 0, 0));
    }

    #[test]
    fn shared_across_threads() {
        let l = std::sync::Arc::new(limiter(1000, 0));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || run(&l, "192.0.2.9", www(), 1000, 7).0)
            })
            .collect();
        let sent: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(sent, 1000);
    }
}
