//! Route kinds: how a client becomes an ordered list of datacenters.
//!
//! Each kind is one small unit behind [`RouteKind`], as each gdnsd plugin answers one question:
//! "for this client, which datacenters in which order, and for how wide a network around the
//! client is that the same?" The resolver ([`super::resolve`]) walks what a route returns and
//! never knows which kind it called. Adding a kind (country, nearest, BGP-learned networks) is a
//! new file here and one arm in [`AnyRoute`].

pub mod all;
pub mod geo;
pub mod order;

use std::fmt;
use std::net::IpAddr;

use super::DcId;
use super::resolve::ClientInfo;

/// A datacenter order: `first`, then the datacenters of `then` that `first` does not name.
///
/// Geo entries are "these first, then the rest of `default`": kept as two slices, a map with a
/// million prefixes and a thousand-datacenter `default` stores each prefix's few datacenters,
/// not a million copies of `default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DcOrder<'r> {
    /// Tried first, in order.
    pub first: &'r [DcId],
    /// Tried next, in order, skipping those in `first`.
    pub then: &'r [DcId],
}

impl<'r> DcOrder<'r> {
    /// Exactly `list`.
    pub fn only(list: &'r [DcId]) -> Self {
        DcOrder {
            first: list,
            then: &[],
        }
    }

    /// The datacenters in order, each once.
    #[inline]
    pub fn iter(self) -> impl Iterator<Item = DcId> + 'r {
        let first = self.first;
        first.iter().copied().chain(
            self.then
                .iter()
                .copied()
                .filter(move |d| !first.contains(d)),
        )
    }
}

/// How the resolver uses the datacenters a route returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routing<'r> {
    /// Failover: the first datacenter in this order whose pool is up answers.
    Failover(DcOrder<'r>),
    /// Every up datacenter contributes to the answer.
    Union,
}

/// Why a route chose its order (for `explain`; formatting happens only there). `Copy` and
/// small: every decision carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteMatch {
    /// The same order for everyone (`route: { order: [...] }`).
    Static,
    /// Every datacenter (`route: all`).
    Everyone,
    /// A geo map's operator network (network address and prefix length) decided.
    Network(IpAddr, u8),
    /// A prefix learned from BGP decided.
    Bgp {
        /// Network address.
        net: IpAddr,
        /// Prefix length.
        len: u8,
        /// The peer the route came from.
        peer_asn: u32,
        /// The origin AS of the route.
        origin_asn: u32,
    },
    /// The database placed the client in this subdivision ("US-WA"), which the map names.
    Subdivision(Code),
    /// The database placed the client in this country, which the map names.
    Country(Code),
    /// The database placed the client on this continent, which the map names.
    Continent(Code),
    /// No region entry matched; datacenters ordered by distance from the client's coordinates.
    Nearest,
    /// No rule of the geo map matched: its `default` order.
    Default,
}

/// A region code of at most 6 ASCII bytes ("EU", "GB", "RU-NVS"), stored inline so that
/// [`RouteMatch`] stays `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Code([u8; 6]);

impl Code {
    /// The code for `s`; `None` when it is longer than 6 bytes or not ASCII (configuration
    /// validates codes, so map entries always fit).
    pub fn new(s: &str) -> Option<Code> {
        if s.len() > 6 || !s.is_ascii() {
            return None;
        }
        let mut b = [0u8; 6];
        b[..s.len()].copy_from_slice(s.as_bytes());
        Some(Code(b))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        let n = self.0.iter().position(|&c| c == 0).unwrap_or(6);
        std::str::from_utf8(&self.0[..n]).unwrap_or("")
    }
}

impl fmt::Display for RouteMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteMatch::Static => f.write_str("static order"),
            RouteMatch::Everyone => f.write_str("every datacenter"),
            RouteMatch::Network(a, l) => write!(f, "network {a}/{l} matched"),
            RouteMatch::Bgp {
                net,
                len,
                peer_asn,
                origin_asn,
            } => write!(
                f,
                "BGP prefix {net}/{len} matched (peer AS{peer_asn}, origin AS{origin_asn})"
            ),
            RouteMatch::Subdivision(c) => write!(f, "subdivision {} matched", c.as_str()),
            RouteMatch::Country(c) => write!(f, "country {} matched", c.as_str()),
            RouteMatch::Continent(c) => write!(f, "continent {} matched", c.as_str()),
            RouteMatch::Nearest => f.write_str("no region matched, nearest datacenters first"),
            RouteMatch::Default => f.write_str("no rule matched, default order"),
        }
    }
}

/// A route's answer for one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed<'r> {
    /// The datacenters to try and how.
    pub routing: Routing<'r>,
    /// ECS scope: prefix length of the widest network around the client in which every client
    /// gets this same routing (0: the routing does not depend on the client).
    pub scope: u8,
    /// The rule that decided.
    pub matched: RouteMatch,
}

/// One kind of route.
pub trait RouteKind {
    /// The datacenters for `client`. Called per query: no allocation, no lock.
    fn route(&self, client: &ClientInfo) -> Routed<'_>;
    /// What the route is, for `explain` (not on the query path).
    fn describe(&self) -> String;
}

/// A compiled route of one of the kinds (static dispatch: the query path pays no vtable).
#[derive(Debug, Clone)]
pub enum AnyRoute {
    /// `route: { order: [...] }` (and the default: pools in configuration order).
    Order(order::OrderRoute),
    /// `route: all`.
    All(all::AllRoute),
    /// `route: { geo: MAP }`.
    Geo(geo::GeoRoute),
}

impl RouteKind for AnyRoute {
    #[inline]
    fn route(&self, client: &ClientInfo) -> Routed<'_> {
        match self {
            AnyRoute::Order(r) => r.route(client),
            AnyRoute::All(r) => r.route(client),
            AnyRoute::Geo(r) => r.route(client),
        }
    }
    fn describe(&self) -> String {
        match self {
            AnyRoute::Order(r) => r.describe(),
            AnyRoute::All(r) => r.describe(),
            AnyRoute::Geo(r) => r.describe(),
        }
    }
}
