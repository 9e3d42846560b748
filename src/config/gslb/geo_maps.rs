//! `geo_maps:`: client networks to datacenter orders.
//!
//! A map has a `default` order (required: without it a client no rule matches would have no
//! datacenter), operator `networks` and `networks_files`. The keys that need a GeoIP database
//! (`continents`, `countries`, `subdivisions`, `nearest`) are reported as not supported yet,
//! but their datacenter names are still checked, so turning them on later finds no new typos.

use std::path::Path;

use super::super::Ctx;
use super::super::yaml::Node;
use super::{Dcs, dc_list, entries, for_each_line};
use crate::diag::{Diagnostic, Pos};
use crate::geo::{PrefixMap, parse_cidr};
use crate::gslb::{DcId, GeoMap, GeoOrder};

const GEO_KEYS: &[&str] = &[
    "default",
    "continents",
    "countries",
    "subdivisions",
    "networks",
    "networks_files",
    "nearest",
    "bgp",
];

/// Parses geo map `name` (`key` is its name node). Always returns a map, so routes naming it
/// resolve even when it has errors.
pub(super) fn geo_map(
    cx: &mut Ctx<'_>,
    name: &str,
    key: &Node,
    def: &Node,
    base: &Path,
    dcs: &Dcs,
    dumps: &mut super::bgp::Dumps,
) -> GeoMap {
    let m = cx.map(def, &format!("geo map '{name}'"), GEO_KEYS);
    cx.not_yet(def, "geo map");
    let default = match m.get("default") {
        Some(n) => dc_list(cx, n, "default", dcs, None),
        None => {
            cx.err(key, format!("geo map '{name}' has no default")).hint =
                Some("add default: [DC, ...]: the order for clients no rule matches".into());
            Vec::new()
        }
    };
    for k in ["continents", "countries", "subdivisions"] {
        if let Some(n) = m.get(k) {
            for (_, region, v) in entries(cx, n, k) {
                dc_list(cx, v, region, dcs, None);
            }
        }
    }
    if let Some(n) = m.get("nearest") {
        cx.flag(n, "nearest");
    }
    let mut networks = PrefixMap::default();
    if let Some(n) = m.get("networks") {
        for (k, text, v) in entries(cx, n, "networks") {
            let list = dc_list(cx, v, &format!("network {text}"), dcs, None);
            match parse_cidr(text) {
                Ok((a, l)) => {
                    let order = GeoOrder {
                        dcs: list,
                        only: true,
                    };
                    if !networks.insert(a, l, order) {
                        cx.err(k, format!("network {text} is listed twice")).hint =
                            Some(TWICE_HINT.into());
                    }
                }
                Err(e) => {
                    cx.err(k, format!("bad network '{text}': {e}"));
                }
            }
        }
    }
    if let Some(n) = m.get("networks_files") {
        for f in n.one_or_many() {
            let Some(rel) = cx.text(f, "a networks file") else {
                continue;
            };
            networks_file(cx, f, &base.join(rel), dcs, &mut networks);
        }
    }
    GeoMap {
        name: name.to_string(),
        default,
        networks,
        bgp: super::bgp::networks(cx, name, m.get("bgp").copied(), base, dcs, dumps),
        subdivisions: Vec::new(),
        countries: Vec::new(),
        continents: Vec::new(),
        nearest: false,
    }
}

/// A network written twice (in `networks`, a networks file, or both) would leave one of the
/// two orders unused without a word.
const TWICE_HINT: &str = "a network has one datacenter order: remove one of the two";

/// Reads `CIDR dc[,dc...]` lines (comments with `#`); every error is at its line and column
/// in that file.
fn networks_file(
    cx: &mut Ctx<'_>,
    at: &Node,
    path: &Path,
    dcs: &Dcs,
    out: &mut PrefixMap<GeoOrder>,
) {
    const HINT: &str = "each line is 'CIDR dc[,dc...]', e.g. '198.51.100.0/24 spb,msk'";
    for_each_line(cx, at, path, "networks file", |cx, words| {
        let bad = |cx: &mut Ctx<'_>, at: Pos, msg: String, hint: &str| {
            cx.diags.push(Diagnostic::new(path, at, msg).hint(hint));
        };
        let [(cidr_at, cidr), (list_at, list)] = *words else {
            let line: Vec<&str> = words.iter().map(|(_, w)| *w).collect();
            let msg = format!("expected 'CIDR dc[,dc...]', found '{}'", line.join(" "));
            bad(cx, words[0].0, msg, HINT);
            return;
        };
        let mut ids: Vec<DcId> = Vec::new();
        let mut at = list_at;
        for d in list.split(',') {
            if !d.is_empty() {
                match dcs.ids.get(d) {
                    Some(&id) => ids.push(id),
                    None => {
                        let (msg, hint) = dcs.undeclared(d);
                        bad(cx, at, msg, &hint);
                    }
                }
            }
            at.col += d.chars().count() + 1;
        }
        if list.split(',').all(str::is_empty) {
            bad(
                cx,
                list_at,
                format!("network {cidr} lists no datacenter"),
                HINT,
            );
        }
        match parse_cidr(cidr) {
            Ok((a, l)) => {
                let order = GeoOrder {
                    dcs: ids,
                    only: true,
                };
                if !out.insert(a, l, order) {
                    bad(
                        cx,
                        cidr_at,
                        format!("network {cidr} is listed twice"),
                        TWICE_HINT,
                    );
                }
            }
            Err(e) => bad(cx, cidr_at, format!("bad network '{cidr}': {e}"), HINT),
        }
    });
}
