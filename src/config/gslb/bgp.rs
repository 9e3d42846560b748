//! `bgp:` in a geo map: partner networks taken from BGP RIB dumps.
//!
//! Each entry names a `dump` (an MRT RIB dump, read by [`crate::geo::mrt`]) and `rules`. A
//! prefix of the dump takes the first rule, in rule order, that matches any of its routes (by
//! the peer the route was learned from, its origin AS, or both); prefixes no rule matches are
//! not taken. A prefix in two dumps of one map keeps what the first dump in the list says.
//! A dump named by several maps is read once per configuration load ([`Dumps`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::super::Ctx;
use super::super::yaml::Node;
use super::{Dcs, dc_list};
use crate::geo::mrt::{BgpDumpUse, DumpError, RibRoute, read_rib};
use crate::geo::{PrefixMap, network_of};
use crate::gslb::{BgpLearned, GeoOrder};

/// Dumps read during one configuration load, by path (errors too, so a broken dump named by
/// two maps is read once and reported at both), and what each map took from them.
#[derive(Default)]
pub(crate) struct Dumps {
    read: HashMap<PathBuf, Result<Arc<Vec<RibRoute>>, DumpError>>,
    /// Per map and dump, in configuration order (see [`BgpDumpUse`]).
    pub(crate) uses: Vec<BgpDumpUse>,
}

impl Dumps {
    fn get(&mut self, path: &Path, limit: u64) -> &Result<Arc<Vec<RibRoute>>, DumpError> {
        self.read
            .entry(path.to_path_buf())
            .or_insert_with(|| read_rib(path, limit).map(Arc::new))
    }
}

/// One rule: routes it matches and where their prefixes go.
struct Rule {
    peer_asn: Option<u32>,
    origin_asn: Option<u32>,
    order: GeoOrder,
}

impl Rule {
    fn matches(&self, r: &RibRoute) -> bool {
        self.peer_asn.is_none_or(|a| a == r.peer_asn)
            && self.origin_asn.is_none_or(|a| a == r.origin_asn)
    }
}

const RULE_HINT: &str =
    "write e.g. { peer_asn: 64500, dcs: [spb] } or { origin_asn: 64501, dcs: [msk], only: true }";

/// The prefixes geo map `map`'s `bgp` entries (the node `n`, if any) take from their dumps.
pub(super) fn networks(
    cx: &mut Ctx<'_>,
    map: &str,
    n: Option<&Node>,
    base: &Path,
    dcs: &Dcs,
    dumps: &mut Dumps,
) -> PrefixMap<BgpLearned> {
    let mut out = PrefixMap::default();
    let Some(n) = n else {
        return out;
    };
    let entries = n.one_or_many();
    if entries.is_empty() {
        cx.err(n, "bgp lists no dump").hint = Some(format!(
            "write one or more entries: - {{ dump: FILE, rules: [...] }}; {RULE_HINT}"
        ));
    }
    for entry in entries {
        let m = cx.map(entry, "a bgp entry", &["dump", "rules"]);
        let rules = match m.get("rules") {
            Some(r) => {
                let items = r.one_or_many();
                if items.is_empty() {
                    cx.err(r, "bgp rules list no rule").hint = Some(RULE_HINT.into());
                }
                items
                    .into_iter()
                    .filter_map(|i| rule(cx, i, dcs))
                    .collect::<Vec<_>>()
            }
            None => {
                cx.err(entry, "a bgp entry has no rules").hint = Some(format!(
                    "add rules: a prefix is taken only when a rule matches it; {RULE_HINT}"
                ));
                Vec::new()
            }
        };
        let Some(d) = m.get("dump") else {
            cx.err(entry, "a bgp entry has no dump").hint =
                Some("add dump: FILE, an MRT TABLE_DUMP_V2 RIB dump".into());
            continue;
        };
        let Some(rel) = cx.text(d, "dump") else {
            continue;
        };
        let path = base.join(rel);
        cx.watch(&path);
        let routes = match dumps.get(&path, cx.max_file_size) {
            Ok(r) => Arc::clone(r),
            Err(e) => {
                let e = e.clone();
                cx.err(d, e.message).hint = Some(e.hint);
                continue;
            }
        };
        let before = out.len();
        take(&routes, &rules, &mut out);
        dumps.uses.push(BgpDumpUse {
            map: map.to_string(),
            dump: path,
            routes: routes.len(),
            prefixes: out.len() - before,
        });
    }
    out
}

/// Adds to `out` every prefix of `routes` that a rule matches, with the first matching rule's
/// order; prefixes already in `out` (from an earlier dump) are kept as they are.
fn take(routes: &[RibRoute], rules: &[Rule], out: &mut PrefixMap<BgpLearned>) {
    // Per prefix: the index of the first rule matching one of its routes, and that route.
    let mut best: HashMap<(IpAddr, u8), (usize, &RibRoute)> = HashMap::new();
    let mut order: Vec<(IpAddr, u8)> = Vec::new();
    for r in routes {
        let Some(i) = rules.iter().position(|rule| rule.matches(r)) else {
            continue;
        };
        let key = (network_of(r.addr, r.len), r.len);
        match best.get_mut(&key) {
            Some(b) if b.0 <= i => {}
            Some(b) => *b = (i, r),
            None => {
                best.insert(key, (i, r));
                order.push(key);
            }
        }
    }
    for key in order {
        let (i, r) = best[&key];
        out.insert(
            key.0,
            key.1,
            BgpLearned {
                order: rules[i].order.clone(),
                peer_asn: r.peer_asn,
                origin_asn: r.origin_asn,
            },
        );
    }
}

fn rule(cx: &mut Ctx<'_>, n: &Node, dcs: &Dcs) -> Option<Rule> {
    let m = cx.map(n, "a bgp rule", &["peer_asn", "origin_asn", "dcs", "only"]);
    let asn = |cx: &mut Ctx<'_>, k: &str| {
        m.get(k)
            .and_then(|v| cx.number(v, k, 1, u64::from(u32::MAX)))
            .map(|v| v as u32)
    };
    let peer_asn = asn(cx, "peer_asn");
    let origin_asn = asn(cx, "origin_asn");
    let only = match m.get("only") {
        Some(v) => cx.flag(v, "only").unwrap_or(false),
        None => false,
    };
    let list = match m.get("dcs") {
        Some(v) => dc_list(cx, v, "bgp rule dcs", dcs, None),
        None => {
            cx.err(n, "a bgp rule has no dcs").hint = Some(format!(
                "add dcs: [DC, ...], where the matching prefixes go; {RULE_HINT}"
            ));
            Vec::new()
        }
    };
    if !m.contains_key("peer_asn") && !m.contains_key("origin_asn") {
        cx.err(n, "a bgp rule needs peer_asn, origin_asn or both")
            .hint = Some(format!(
            "a rule with neither would take every prefix of the dump; {RULE_HINT}"
        ));
        return None;
    }
    if peer_asn.is_none() && origin_asn.is_none() {
        return None;
    }
    Some(Rule {
        peer_asn,
        origin_asn,
        order: GeoOrder { dcs: list, only },
    })
}

#[cfg(test)]
mod tests {
    use crate::geo::mrt::RibRoute;
    use crate::gslb::{BgpLearned, GeoMap, GeoOrder};
    use bgpkit_parser::BgpElem;
    use bgpkit_parser::encoder::MrtRibEncoder;
    use bgpkit_parser::models::AsPath;
    use std::net::IpAddr;
    use std::path::PathBuf;

    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let d = std::env::temp_dir().join(format!("dynadns-bgp-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(d.join("zones")).unwrap();
            std::fs::write(
                d.join("zones/example.com.yaml"),
                "zone: example.com\nsoa: { primary: ns1, contact: hostmaster, serial: 1 }\n\
                 records:\n  \"@\": { NS: [ns1] }\n  ns1: { A: 192.0.2.53 }\n",
            )
            .unwrap();
            Dir(d)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A RIB dump of `(prefix, peer AS, AS path)` routes (peer IP derived from the peer AS).
    fn dump(routes: &[(&str, u32, &[u32])]) -> Vec<u8> {
        let mut enc = MrtRibEncoder::new();
        for &(prefix, peer, path) in routes {
            let ip: IpAddr = format!("10.0.{}.{}", peer % 250, peer % 200 + 1)
                .parse()
                .unwrap();
            enc.process_elem(&BgpElem {
                peer_ip: ip,
                peer_asn: peer.into(),
                prefix: prefix.parse().unwrap(),
                as_path: Some(AsPath::from_sequence(path)),
                next_hop: Some(ip),
                ..Default::default()
            })
            .unwrap();
        }
        enc.export_bytes().unwrap().to_vec()
    }

    fn load(dir: &Dir, geo_maps: &str) -> Result<crate::config::Loaded, String> {
        let cfg =
            format!("datacenters: {{ msk: {{}}, spb: {{}}, nsk: {{}} }}\ngeo_maps:\n{geo_maps}");
        std::fs::write(dir.0.join("dynadns.yaml"), cfg).unwrap();
        crate::config::load(&dir.0.join("dynadns.yaml")).map_err(|d| d.to_string())
    }

    /// The map's BGP prefixes as sorted `(CIDR, dcs, only, peer, origin)`.
    fn learned(m: &GeoMap) -> Vec<(String, Vec<u16>, bool, u32, u32)> {
        let mut v: Vec<_> = m
            .bgp
            .iter()
            .map(|(a, l, b): (IpAddr, u8, &BgpLearned)| {
                let GeoOrder { dcs, only } = b.order.clone();
                (format!("{a}/{l}"), dcs, only, b.peer_asn, b.origin_asn)
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn rules_in_order_decide_each_prefix() {
        let dir = Dir::new("rules");
        let rib = dump(&[
            // Learned from 64502 and from 64500: the 64500 rule comes first.
            ("198.51.100.0/24", 64502, &[64502, 64503]),
            ("198.51.100.0/24", 64500, &[64500, 64503]),
            // Only the origin rule matches (origin = last AS of the path).
            ("203.0.113.0/25", 64510, &[64510, 64501]),
            // Both peer and origin must match: origin 64503 through 64502.
            ("192.0.2.0/24", 64502, &[64502, 64503]),
            // Peer 64502 but another origin: no rule.
            ("192.0.2.128/25", 64502, &[64502, 64599]),
            // 64501 in the path but not last: no rule.
            ("198.18.0.0/15", 64510, &[64510, 64501, 64520]),
            ("2001:db8:1::/48", 64500, &[64500, 64501]),
        ]);
        std::fs::write(dir.0.join("rs1.mrt"), rib).unwrap();
        let l = load(
            &dir,
            "  world:\n    default: [msk, spb, nsk]\n    bgp:\n      - dump: rs1.mrt\n        rules:\n\
             \x20         - { peer_asn: 64500, dcs: [spb] }\n\
             \x20         - { origin_asn: 64501, dcs: [msk], only: true }\n\
             \x20         - { peer_asn: 64502, origin_asn: 64503, dcs: [nsk, msk] }\n",
        )
        .unwrap();
        let m = &l.config.gslb.geo_maps[0];
        assert_eq!(
            learned(m),
            vec![
                ("192.0.2.0/24".into(), vec![2, 0], false, 64502, 64503),
                ("198.51.100.0/24".into(), vec![1], false, 64500, 64503),
                ("2001:db8:1::/48".into(), vec![1], false, 64500, 64501),
                ("203.0.113.0/25".into(), vec![0], true, 64510, 64501),
            ]
        );
        assert!(l.config.sources.contains(&dir.0.join("rs1.mrt")));
        // Stamped when read: nothing changed since, so they are the files' stamps now.
        let now: Vec<_> = l
            .config
            .sources
            .iter()
            .map(|p| crate::server::Stamp::of(p))
            .collect();
        assert_eq!(l.config.source_stamps, now);
        assert!(now.iter().all(Option::is_some));
        let uses = &l.config.gslb.bgp_dumps;
        assert_eq!(uses.len(), 1);
        assert_eq!((uses[0].routes, uses[0].prefixes), (7, 4));
        assert_eq!(uses[0].map, "world");
    }

    #[test]
    fn first_dump_wins_and_a_dump_serves_several_maps() {
        let dir = Dir::new("first");
        std::fs::write(
            dir.0.join("a.mrt"),
            dump(&[("198.51.100.0/24", 64500, &[64500])]),
        )
        .unwrap();
        std::fs::write(
            dir.0.join("b.mrt"),
            dump(&[
                ("198.51.100.0/24", 64600, &[64600]),
                ("203.0.113.0/24", 64600, &[64600]),
            ]),
        )
        .unwrap();
        let l = load(
            &dir,
            "  one:\n    default: [msk]\n    bgp:\n\
             \x20     - { dump: a.mrt, rules: [{ peer_asn: 64500, dcs: [spb] }] }\n\
             \x20     - { dump: b.mrt, rules: [{ peer_asn: 64600, dcs: [nsk] }] }\n\
             \x20 two:\n    default: [msk]\n    bgp:\n\
             \x20     - { dump: b.mrt, rules: [{ origin_asn: 64600, dcs: [msk] }] }\n",
        )
        .unwrap();
        let g = &l.config.gslb;
        assert_eq!(
            learned(&g.geo_maps[0]),
            vec![
                ("198.51.100.0/24".into(), vec![1], false, 64500, 64500),
                ("203.0.113.0/24".into(), vec![2], false, 64600, 64600),
            ]
        );
        assert_eq!(learned(&g.geo_maps[1]).len(), 2);
        let counts: Vec<(&str, usize)> = l
            .config
            .gslb
            .bgp_dumps
            .iter()
            .map(|u| (u.map.as_str(), u.prefixes))
            .collect();
        assert_eq!(counts, [("one", 1), ("one", 1), ("two", 2)]);
    }

    #[test]
    fn rule_and_dump_errors_are_reported() {
        let dir = Dir::new("errors");
        std::fs::write(dir.0.join("junk.mrt"), "not a dump\n").unwrap();
        let e = load(
            &dir,
            "  world:\n    default: [msk]\n    bgp:\n\
             \x20     - { dump: junk.mrt, rules: [{ dcs: [spb] }, { peer_asn: 0, dcs: [spb] }] }\n\
             \x20     - { dump: none.mrt, rules: [{ peer_asn: 1, dcs: [lon] }, { origin_asn: 2 }] }\n\
             \x20     - { rules: [{ peer_asn: 1, dcs: [msk] }] }\n\
             \x20 empty:\n    default: [msk]\n    bgp: []\n",
        )
        .unwrap_err();
        for want in [
            "junk.mrt: not an MRT file",
            "a bgp rule needs peer_asn, origin_asn or both",
            "peer_asn '0' is out of range (1..=4294967295)",
            "cannot read BGP dump",
            "none.mrt",
            "datacenter 'lon' is not declared",
            "a bgp rule has no dcs",
            "a bgp entry has no dump",
            "bgp lists no dump",
        ] {
            assert!(e.contains(want), "missing {want:?} in:\n{e}");
        }
    }

    #[test]
    fn take_keeps_earlier_prefixes() {
        let r = |a: &str, len, peer_asn, origin_asn| RibRoute {
            addr: a.parse().unwrap(),
            len,
            peer_asn,
            origin_asn,
        };
        let rules = [super::Rule {
            peer_asn: Some(1),
            origin_asn: None,
            order: GeoOrder {
                dcs: vec![0],
                only: false,
            },
        }];
        let mut out = crate::geo::PrefixMap::default();
        // Host bits are masked: 198.51.100.7/24 is 198.51.100.0/24.
        super::take(&[r("198.51.100.7", 24, 1, 9)], &rules, &mut out);
        super::take(&[r("198.51.100.0", 24, 1, 5)], &rules, &mut out);
        assert_eq!(out.len(), 1);
        let (b, len) = out.longest_match("198.51.100.1".parse().unwrap()).unwrap();
        assert_eq!((b.origin_asn, len), (9, 24));
    }
}
