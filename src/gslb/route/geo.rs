//! `route: { geo: MAP }`: the client's network, or where the GeoIP database places it, picks
//! the order.
//!
//! A geo map is compiled once per configuration into a [`GeoTable`] and shared, through an
//! `Arc`, by every resource that routes by it and by every snapshot until the next reload.
//! Compiling resolves the whole lookup order ahead of time, so a query is one binary search:
//!
//! 1. the operator layer: `networks` (and networks files) and BGP-learned prefixes, flattened
//!    into disjoint ranges (longest prefix wins; an operator network beats a BGP prefix of the
//!    same length);
//! 2. the database layer, where no operator prefix covers the address: each database network's
//!    place decides by subdivision > country > continent > `nearest` > `default`;
//! 3. the operator layer is laid over the database layer (an operator prefix wins even over a
//!    more specific database network), and ranges with the same decision merge, so the ECS
//!    scope is the widest network in which the answer is the same.
//!
//! A decision is "these datacenters first, then (unless `only`) the rest of `default`" and
//! why; the lists are interned apart from the reasons, so a million operator prefixes or
//! thousands of database places share a handful of lists and `default` is stored once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::{Code, DcOrder, RouteKind, RouteMatch, Routed, Routing};
use crate::geo::db::{GeoDb, Place};
use crate::geo::table::{NO_RULE, RangeTable};
use crate::gslb::resolve::ClientInfo;
use crate::gslb::{Datacenter, DcId, GeoMap, GeoOrder};

/// What a range of addresses gets: a datacenter order (an index into the interned orders)
/// and the rule that chose it. Orders are interned apart from reasons: a million operator
/// networks are a million reasons but, with a long `default`, only as many orders as distinct
/// lists, so memory stays proportional to what differs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    order: u32,
    /// The rest of `default` follows `order` (an entry without `only`).
    then_default: bool,
    matched: RouteMatch,
}

/// A geo map ready for lookups.
#[derive(Debug, Clone)]
pub struct GeoTable {
    /// Map name, for explain.
    pub name: String,
    /// Interned decisions; index 0 is `default`.
    decisions: Box<[Decision]>,
    /// Interned datacenter orders, indexed by [`Decision::order`].
    orders: Box<[Box<[DcId]>]>,
    /// The map's default order (what `then_default` decisions continue with).
    default: Box<[DcId]>,
    networks: usize,
    bgp: usize,
    /// Whether the database layer takes part (the map has region entries or `nearest`).
    uses_db: bool,
    v4: RangeTable<u32>,
    v6: RangeTable<u128>,
}

/// Interns decisions while compiling.
#[derive(Default)]
struct Interner {
    list: Vec<Decision>,
    ids: HashMap<(u32, bool, RouteMatch), u32>,
    orders: Vec<Box<[DcId]>>,
    order_ids: HashMap<Box<[DcId]>, u32>,
}

impl Interner {
    /// The decision "`order`, then (with `then_default`) the rest of default", for `matched`.
    fn id(&mut self, (order, then_default, matched): Choice) -> u32 {
        let next_order = self.orders.len() as u32;
        let orders = &mut self.orders;
        let order = *self.order_ids.entry(order).or_insert_with_key(|o| {
            orders.push(o.clone());
            next_order
        });
        let next = self.list.len() as u32;
        let list = &mut self.list;
        *self
            .ids
            .entry((order, then_default, matched))
            .or_insert_with(|| {
                list.push(Decision {
                    order,
                    then_default,
                    matched,
                });
                next
            })
    }
}

/// How many datacenters `nearest` ranks by distance; the rest of `default` follows in
/// default order. Ranking all of a thousand-datacenter `default` for each of a City
/// database's ~100,000 distinct coordinates took 6.5 s and 200 MB at load; failover rarely
/// walks past the sixteen nearest.
pub const NEAREST_RANKED: usize = 16;

/// Great-circle distance in km (haversine, mean Earth radius).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1) = (a.0.to_radians(), a.1.to_radians());
    let (la2, lo2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

/// A point on the unit sphere: the nearer of two datacenters is the one whose vector has the
/// larger dot product with the client's, so ranking needs no trigonometry per datacenter.
fn unit((lat, lon): (f64, f64)) -> [f64; 3] {
    let (la, lo) = (lat.to_radians(), lon.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

/// The located datacenters of a map's `default`, prepared for ranking by distance.
pub struct Nearest {
    /// (position in default, datacenter, unit vector).
    located: Vec<(usize, DcId, [f64; 3])>,
    /// Scratch for ranking: (negated dot product, position in default, datacenter).
    scratch: Vec<(f64, usize, DcId)>,
}

impl Nearest {
    /// Prepares `default`'s datacenters that have a `location`.
    pub fn new(default: &[DcId], dcs: &[Datacenter]) -> Self {
        let located: Vec<_> = default
            .iter()
            .enumerate()
            .filter_map(|(i, &d)| Some((i, d, unit(dcs.get(d as usize)?.location?))))
            .collect();
        Nearest {
            scratch: Vec::with_capacity(located.len()),
            located,
        }
    }

    /// Up to [`NEAREST_RANKED`] located datacenters, nearest to `from` first (ties in default
    /// order). The datacenters not ranked follow in default order (the decision's
    /// `then_default`).
    pub fn rank(&mut self, from: (f64, f64)) -> Vec<DcId> {
        let p = unit(from);
        self.scratch.clear();
        self.scratch.extend(self.located.iter().map(|&(i, d, u)| {
            let dot = p[0] * u[0] + p[1] * u[1] + p[2] * u[2];
            (-dot, i, d)
        }));
        let by = |a: &(f64, usize, DcId), b: &(f64, usize, DcId)| {
            a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
        };
        let k = NEAREST_RANKED.min(self.scratch.len());
        if k < self.scratch.len() {
            self.scratch.select_nth_unstable_by(k, by);
            self.scratch.truncate(k);
        }
        self.scratch.sort_unstable_by(by);
        self.scratch.iter().map(|r| r.2).collect()
    }
}

/// Region entries of a map as lookups.
struct Regions<'m> {
    subdivisions: HashMap<&'m str, (Code, &'m GeoOrder)>,
    countries: HashMap<&'m str, (Code, &'m GeoOrder)>,
    continents: HashMap<&'m str, (Code, &'m GeoOrder)>,
}

fn regions(list: &[(String, GeoOrder)]) -> HashMap<&str, (Code, &GeoOrder)> {
    list.iter()
        .filter_map(|(k, o)| Some((k.as_str(), (Code::new(k)?, o))))
        .collect()
}

/// A decision before interning: datacenters first, whether the rest of `default` follows,
/// and why.
type Choice = (Box<[DcId]>, bool, RouteMatch);

fn entry(o: &GeoOrder, matched: RouteMatch) -> Choice {
    (o.dcs.as_slice().into(), !o.only, matched)
}

/// The decision the map makes for a database place: subdivision (most specific first) >
/// country > continent > nearest > default.
fn place_decision(
    place: &Place,
    r: &Regions<'_>,
    map: &GeoMap,
    nearest: &mut Nearest,
    nearest_cache: &mut HashMap<(u64, u64), Box<[DcId]>>,
) -> Choice {
    for s in place.subdivisions.iter().rev() {
        if let Some((c, o)) = r.subdivisions.get(&**s) {
            return entry(o, RouteMatch::Subdivision(*c));
        }
    }
    if let Some((c, o)) = place.country.as_deref().and_then(|k| r.countries.get(k)) {
        return entry(o, RouteMatch::Country(*c));
    }
    if let Some((c, o)) = place.continent.as_deref().and_then(|k| r.continents.get(k)) {
        return entry(o, RouteMatch::Continent(*c));
    }
    if map.nearest
        && let Some(loc) = place.location
    {
        let o = nearest_cache
            .entry((loc.0.to_bits(), loc.1.to_bits()))
            .or_insert_with(|| nearest.rank(loc).into_boxed_slice());
        return (o.clone(), true, RouteMatch::Nearest);
    }
    (map.default.as_slice().into(), false, RouteMatch::Default)
}

impl GeoTable {
    /// Compiles a configured map against the datacenters (for `nearest`) and the database.
    pub fn compile(map: &GeoMap, dcs: &[Datacenter], db: Option<&GeoDb>) -> Self {
        let mut int = Interner::default();
        let default_id = int.id((map.default.as_slice().into(), false, RouteMatch::Default));
        // Operator networks first: of two equal prefixes, the first given wins in build.
        let (mut top4, mut top6) = (Vec::new(), Vec::new());
        for (net, len, order) in map.networks.iter() {
            let id = int.id(entry(order, RouteMatch::Network(net, len)));
            match net {
                IpAddr::V4(a) => top4.push((u32::from(a), len, id)),
                IpAddr::V6(a) => top6.push((u128::from(a), len, id)),
            }
        }
        for (net, len, b) in map.bgp.iter() {
            let id = int.id(entry(
                &b.order,
                RouteMatch::Bgp {
                    net,
                    len,
                    peer_asn: b.peer_asn,
                    origin_asn: b.origin_asn,
                },
            ));
            match net {
                IpAddr::V4(a) => top4.push((u32::from(a), len, id)),
                IpAddr::V6(a) => top6.push((u128::from(a), len, id)),
            }
        }
        let uses_db = map.nearest
            || !map.subdivisions.is_empty()
            || !map.countries.is_empty()
            || !map.continents.is_empty();
        let (base4, base6) = match db.filter(|_| uses_db) {
            Some(db) => {
                let r = Regions {
                    subdivisions: regions(&map.subdivisions),
                    countries: regions(&map.countries),
                    continents: regions(&map.continents),
                };
                let mut nearest = Nearest::new(&map.default, dcs);
                let mut cache = HashMap::new();
                let place_ids: Vec<u32> = db
                    .places
                    .iter()
                    .map(|p| int.id(place_decision(p, &r, map, &mut nearest, &mut cache)))
                    .collect();
                let id = |p: u32| place_ids.get(p as usize).copied().unwrap_or(default_id);
                let b4 = RangeTable::build(db.v4.iter().map(|&(a, l, p)| (a, l, id(p))));
                let b6 = RangeTable::build(db.v6.iter().map(|&(a, l, p)| (a, l, id(p))));
                (b4, b6)
            }
            None => (RangeTable::default(), RangeTable::default()),
        };
        let or_default = |r: u32| if r == NO_RULE { default_id } else { r };
        let v4 = RangeTable::build(top4)
            .overlay(&base4)
            .map_rules(or_default);
        let v6 = RangeTable::build(top6)
            .overlay(&base6)
            .map_rules(or_default);
        GeoTable {
            name: map.name.clone(),
            decisions: int.list.into_boxed_slice(),
            orders: int.orders.into_boxed_slice(),
            default: map.default.as_slice().into(),
            networks: map.networks.len(),
            bgp: map.bgp.len(),
            uses_db: uses_db && db.is_some(),
            v4,
            v6,
        }
    }

    /// Number of operator networks.
    pub fn networks(&self) -> usize {
        self.networks
    }

    /// Number of distinct decisions (orders with their reasons) the table holds.
    pub fn decisions(&self) -> usize {
        self.decisions.len()
    }

    /// Number of ranges, IPv4 and IPv6 (memory figures).
    pub fn ranges(&self) -> usize {
        self.v4.ranges() + self.v6.ranges()
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
        // Every range has a decision; index 0 (default) is the fallback should one not.
        let d = t
            .decisions
            .get(found.rule as usize)
            .or_else(|| t.decisions.first());
        match d {
            Some(d) => Routed {
                routing: Routing::Failover(DcOrder {
                    first: t.orders.get(d.order as usize).map_or(&[], |o| o),
                    then: if d.then_default { &t.default } else { &[] },
                }),
                scope,
                matched: d.matched,
            },
            None => Routed {
                routing: Routing::Failover(DcOrder::only(&[])),
                scope,
                matched: RouteMatch::Default,
            },
        }
    }
    fn describe(&self) -> String {
        let t = &self.table;
        let mut parts = vec![format!("{} operator networks", t.networks)];
        if t.bgp > 0 {
            parts.push(format!("{} BGP prefixes", t.bgp));
        }
        if t.uses_db {
            parts.push("GeoIP database places".into());
        }
        parts.push("then default".into());
        format!("geo map '{}' ({})", t.name, parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::PrefixMap;

    fn dcs() -> Vec<Datacenter> {
        let dc = |n: &str, l: Option<(f64, f64)>| Datacenter {
            name: n.into(),
            location: l,
        };
        vec![
            dc("lon", Some((51.5, -0.13))),
            dc("sto", Some((59.33, 18.07))),
            dc("sea", Some((47.6, -122.3))),
            dc("tyo", Some((35.68, 139.69))),
            dc("nowhere", None),
        ]
    }

    fn client(a: &str) -> ClientInfo {
        let addr = a.parse().unwrap();
        ClientInfo {
            addr,
            ecs_source: None,
            source: addr,
        }
    }

    fn order(t: &GeoTable, a: &str) -> (Vec<DcId>, RouteMatch, u8) {
        let r = GeoRoute::new(Arc::new(t.clone()));
        let routed = r.route(&client(a));
        let Routing::Failover(o) = routed.routing else {
            panic!()
        };
        (o.iter().collect(), routed.matched, routed.scope)
    }

    #[test]
    fn nearest_ranks_by_distance() {
        // London to Stockholm is about 1,430 km.
        let d = distance_km((51.5, -0.13), (59.33, 18.07));
        assert!((1400.0..1470.0).contains(&d), "{d}");
        // From Uppsala: sto, lon, sea, tyo by distance; the unlocated one is not ranked.
        let mut n = Nearest::new(&[4, 0, 1, 2, 3], &dcs());
        assert_eq!(n.rank((59.86, 17.64)), vec![1, 0, 2, 3]);
        // From Tokyo the order turns around.
        assert_eq!(n.rank((35.0, 139.0)), vec![3, 2, 1, 0]);
        // Ties keep default order.
        let mut n = Nearest::new(&[0, 0], &dcs());
        assert_eq!(n.rank((51.5, -0.13)), vec![0, 0]);
    }

    /// Only the nearest NEAREST_RANKED are ranked; they are the truly nearest, in distance
    /// order (checked against haversine for many random points).
    #[test]
    fn nearest_ranks_the_sixteen_nearest_of_many() {
        let many: Vec<Datacenter> = (0..200)
            .map(|i| Datacenter {
                name: format!("d{i}"),
                location: Some((
                    ((i * 37) % 140) as f64 - 70.0,
                    ((i * 71) % 360) as f64 - 180.0,
                )),
            })
            .collect();
        let default: Vec<DcId> = (0..200).collect();
        let mut n = Nearest::new(&default, &many);
        for k in 0..50u32 {
            let from = (
                ((k * 13) % 150) as f64 - 75.0,
                ((k * 29) % 360) as f64 - 180.0,
            );
            let got = n.rank(from);
            let mut want: Vec<(f64, DcId)> = default
                .iter()
                .map(|&d| (distance_km(from, many[d as usize].location.unwrap()), d))
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0));
            let want: Vec<DcId> = want.iter().take(NEAREST_RANKED).map(|w| w.1).collect();
            assert_eq!(got, want, "from {from:?}");
        }
    }

    #[test]
    fn operator_network_beats_bgp_of_same_length_and_longer_bgp_wins() {
        let mut networks = PrefixMap::default();
        let op = |d: DcId| GeoOrder {
            dcs: vec![d],
            only: true,
        };
        networks.insert("198.51.100.0".parse().unwrap(), 24, op(1));
        let mut bgp = PrefixMap::default();
        let learned = |d: DcId| crate::gslb::BgpLearned {
            order: op(d),
            peer_asn: 64500,
            origin_asn: 64501,
        };
        bgp.insert("198.51.100.0".parse().unwrap(), 24, learned(2));
        bgp.insert("198.51.100.128".parse().unwrap(), 25, learned(3));
        let map = GeoMap {
            name: "m".into(),
            default: vec![0, 1],
            networks,
            bgp,
            ..Default::default()
        };
        let t = GeoTable::compile(&map, &dcs(), None);
        let (o, m, s) = order(&t, "198.51.100.1");
        assert_eq!((o, s), (vec![1], 25));
        assert_eq!(m, RouteMatch::Network("198.51.100.0".parse().unwrap(), 24));
        let (o, m, s) = order(&t, "198.51.100.200");
        assert_eq!((o, s), (vec![3], 25));
        assert!(matches!(
            m,
            RouteMatch::Bgp {
                len: 25,
                peer_asn: 64500,
                ..
            }
        ));
        assert_eq!(order(&t, "192.0.2.1").1, RouteMatch::Default);
    }

    #[test]
    fn database_layer_precedence() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/geoip/GeoIP2-City-Test.mmdb");
        if !path.exists() {
            eprintln!("skipped: no shared test database");
            return;
        }
        let db = GeoDb::open(&path).unwrap();
        let o = |dcs: Vec<DcId>, only: bool| GeoOrder { dcs, only };
        let mut networks = PrefixMap::default();
        // Wider than the database's /27 around 81.2.69.160: still wins.
        networks.insert("81.2.69.0".parse().unwrap(), 24, o(vec![3], true));
        let map = GeoMap {
            name: "m".into(),
            default: vec![0, 1, 2, 3, 4],
            networks,
            subdivisions: vec![("US-WA".into(), o(vec![2], true))],
            countries: vec![("SE".into(), o(vec![1], false))],
            continents: vec![("AS".into(), o(vec![3, 0], true))],
            nearest: true,
            ..Default::default()
        };
        let t = GeoTable::compile(&map, &dcs(), Some(&db));
        let (ord, m, s) = order(&t, "81.2.69.160");
        assert_eq!((ord, s), (vec![3], 24));
        assert!(matches!(m, RouteMatch::Network(_, 24)));
        let (ord, m, _) = order(&t, "89.160.20.128");
        assert_eq!(ord, vec![1, 0, 2, 3, 4]);
        assert_eq!(m, RouteMatch::Country(Code::new("SE").unwrap()));
        let (ord, m, _) = order(&t, "216.160.83.56");
        assert_eq!(ord, vec![2]);
        assert_eq!(m, RouteMatch::Subdivision(Code::new("US-WA").unwrap()));
        let (ord, m, _) = order(&t, "2001:218::1");
        assert_eq!(ord, vec![3, 0]);
        assert_eq!(m, RouteMatch::Continent(Code::new("AS").unwrap()));
        // Not in the database: default.
        assert_eq!(order(&t, "10.1.1.1").1, RouteMatch::Default);
        // Every rule of the table agrees with a per-address evaluation of the lookup order.
        for &(a, l, p) in &db.v4 {
            let addr = std::net::Ipv4Addr::from(a).to_string();
            let (_, m, s) = order(&t, &addr);
            let op = u32::from(std::net::Ipv4Addr::new(81, 2, 69, 0));
            use crate::geo::table::AddrBits;
            let overlaps = a.mask(l.min(24)) == op.mask(l.min(24));
            if !overlaps {
                assert!(s <= l, "{addr}/{l}: scope {s} narrower than its network");
                let place = &db.places[p as usize];
                if place.country.as_deref() == Some("SE") {
                    assert_eq!(m, RouteMatch::Country(Code::new("SE").unwrap()), "{addr}");
                }
            }
        }
    }
}
