//! `route: { geo: MAP }`: the client's network picks the order.
//!
//! A geo map is compiled once per configuration into a [`GeoTable`] (its operator networks
//! flattened into disjoint ranges, see [`crate::geo::table`]) and shared, through an `Arc`, by
//! every resource that routes by it and by every snapshot until the next reload: a prefix list
//! is read and compiled once, not once per resource or health change.

use std::net::IpAddr;
use std::sync::Arc;

use super::{RouteKind, RouteMatch, Routed, Routing};
use crate::geo::table::{NO_RULE, RangeTable};
use crate::gslb::resolve::ClientInfo;
use crate::gslb::{DcId, GeoMap};

/// One operator network of a map.
#[derive(Debug, Clone)]
struct Rule {
    net: IpAddr,
    len: u8,
    order: Box<[DcId]>,
}

/// A geo map ready for lookups.
#[derive(Debug, Clone)]
pub struct GeoTable {
    /// Map name, for explain.
    pub name: String,
    default: Box<[DcId]>,
    rules: Box<[Rule]>,
    v4: RangeTable<u32>,
    v6: RangeTable<u128>,
}

impl GeoTable {
    /// Compiles a configured map.
    pub fn compile(map: &GeoMap) -> Self {
        let mut rules = Vec::with_capacity(map.networks.len());
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (net, len, order) in map.networks.iter() {
            let id = rules.len() as u32;
            rules.push(Rule {
                net,
                len,
                order: order.dcs.as_slice().into(),
            });
            match net {
                IpAddr::V4(a) => v4.push((u32::from(a), len, id)),
                IpAddr::V6(a) => v6.push((u128::from(a), len, id)),
            }
        }
        GeoTable {
            name: map.name.clone(),
            default: map.default.as_slice().into(),
            rules: rules.into_boxed_slice(),
            v4: RangeTable::build(v4),
            v6: RangeTable::build(v6),
        }
    }

    /// Number of operator networks.
    pub fn networks(&self) -> usize {
        self.rules.len()
    }
}

/// A resource's route through a shared geo table.
#[derive(Debug, Clone)]
pub struct GeoRoute {
    table: Arc<GeoTable>,
}

impl GeoRoute {
    /// Routes by `table`.
    pub fn new(table: Arc<GeoTable>) -> Self {
        GeoRoute { table }
    }

    /// The table, for explain.
    pub fn table(&self) -> &GeoTable {
        &self.table
    }
}

impl RouteKind for GeoRoute {
    #[inline]
    fn route(&self, client: &ClientInfo) -> Routed<'_> {
        let t = &*self.table;
        let (found, offset) = match client.addr {
            IpAddr::V4(a) => (t.v4.lookup(u32::from(a)), 0),
            // IPv4-mapped clients match IPv4 networks; their scope counts the 96-bit prefix.
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(m) => (t.v4.lookup(u32::from(m)), 96),
                None => (t.v6.lookup(u128::from(a)), 0),
            },
        };
        let scope = if found.scope == 0 {
            0
        } else {
            found.scope + offset
        };
        match t
            .rules
            .get(found.rule as usize)
            .filter(|_| found.rule != NO_RULE)
        {
            Some(rule) => Routed {
                routing: Routing::Failover(&rule.order),
                scope,
                matched: RouteMatch::Network(rule.net, rule.len),
            },
            None => Routed {
                routing: Routing::Failover(&t.default),
                scope,
                matched: RouteMatch::Default,
            },
        }
    }
    fn describe(&self) -> String {
        format!(
            "geo map '{}' ({} operator networks, then default)",
            self.table.name,
            self.table.networks()
        )
    }
}
