//! `geo_maps:`: client networks and places to datacenter orders.
//!
//! A map has a `default` order (required: without it a client no rule matches would have no
//! datacenter), operator `networks` and `networks_files`, and, with a GeoIP database
//! (`geoip.database`), `subdivisions`, `countries`, `continents` and `nearest`. Every entry
//! takes a list of datacenters or `{ dcs: [...], only: true|false }`: the listed datacenters
//! come first, then the rest of `default` unless `only: true`. Region codes are checked
//! (ISO 3166-1 / 3166-2, the seven continent codes), so a typo never silently matches nothing.

use std::path::Path;

use super::super::Ctx;
use super::super::yaml::{Kind, Node};
use super::{Dcs, dc_list, entries, for_each_line};
use crate::diag::{Diagnostic, Pos};
use crate::geo::{PrefixMap, parse_cidr};
use crate::gslb::{Datacenter, DcId, GeoMap, GeoOrder};

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

/// The continent codes MaxMind databases use.
const CONTINENTS: &[&str] = &["AF", "AN", "AS", "EU", "NA", "OC", "SA"];

/// What the map may use of the GeoIP database.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Geoip {
    /// No `geoip:` section: region keys and `nearest` are errors.
    Absent,
    /// Configured (loaded, or failed with its own error): region keys are read.
    Configured,
}

/// Parses geo map `name` (`key` is its name node). Always returns a map, so routes naming it
/// resolve even when it has errors.
#[allow(clippy::too_many_arguments)]
pub(super) fn geo_map(
    cx: &mut Ctx<'_>,
    name: &str,
    key: &Node,
    def: &Node,
    base: &Path,
    dcs: &Dcs,
    datacenters: &[Datacenter],
    geoip: Geoip,
    dumps: &mut super::bgp::Dumps,
) -> GeoMap {
    let m = cx.map(def, &format!("geo map '{name}'"), GEO_KEYS);
    let default = match m.get("default") {
        Some(n) => dc_list(cx, n, "default", dcs, None),
        None => {
            cx.err(key, format!("geo map '{name}' has no default")).hint =
                Some("add default: [DC, ...]: the order for clients no rule matches".into());
            Vec::new()
        }
    };
    let needs_db = |cx: &mut Ctx<'_>, k: &str| {
        if geoip == Geoip::Absent
            && let Some(at) = key_node(def, k)
        {
            cx.err(at, format!("'{k}' needs geoip.database")).hint = Some(
                "add at the top level geoip: { database: PATH } (a MaxMind City or Country \
                 database), or remove this key"
                    .into(),
            );
        }
    };
    let region = |cx: &mut Ctx<'_>, k: &str, check: fn(&str) -> Result<(), String>| {
        let mut out = Vec::new();
        if let Some(n) = m.get(k) {
            needs_db(cx, k);
            for (at, code, v) in entries(cx, n, k) {
                if let Err(hint) = check(code) {
                    cx.err(at, format!("'{code}' is not a valid {} code", singular(k)))
                        .hint = Some(hint);
                }
                let order = geo_order(cx, v, &format!("{} {code}", singular(k)), dcs);
                out.push((code.to_string(), order));
            }
        }
        out
    };
    let subdivisions = region(cx, "subdivisions", subdivision_code);
    let countries = region(cx, "countries", country_code);
    let continents = region(cx, "continents", continent_code);
    let mut nearest = false;
    if let Some(n) = m.get("nearest") {
        needs_db(cx, "nearest");
        nearest = cx.flag(n, "nearest").unwrap_or(false);
        if nearest
            && !default.is_empty()
            && !default.iter().any(|&d| {
                datacenters
                    .get(d as usize)
                    .is_some_and(|dc| dc.location.is_some())
            })
        {
            cx.err(
                n,
                "nearest: true but no datacenter of default has a location",
            )
            .hint = Some(
                "give datacenters a location: [latitude, longitude], e.g. msk: { location: \
                 [55.75, 37.62] }"
                    .into(),
            );
        }
    }
    let mut networks = PrefixMap::default();
    if let Some(n) = m.get("networks") {
        for (k, text, v) in entries(cx, n, "networks") {
            let order = geo_order(cx, v, &format!("network {text}"), dcs);
            match parse_cidr(text) {
                Ok((a, l)) => {
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
        subdivisions,
        countries,
        continents,
        nearest,
    }
}

/// The key node `k` of the mapping `def`, for errors about the key itself.
fn key_node<'n>(def: &'n Node, k: &str) -> Option<&'n Node> {
    match &def.kind {
        Kind::Map(e) => e
            .iter()
            .find(|(key, _)| key.as_str() == Some(k))
            .map(|e| &e.0),
        _ => None,
    }
}

fn singular(k: &str) -> &'static str {
    match k {
        "subdivisions" => "subdivision",
        "countries" => "country",
        _ => "continent",
    }
}

/// One entry's order: `[dc, ...]` (the rest of default follows) or `{ dcs: [...], only: B }`.
fn geo_order(cx: &mut Ctx<'_>, v: &Node, what: &str, dcs: &Dcs) -> GeoOrder {
    if let Kind::Map(_) = v.kind {
        let m = cx.map(v, what, &["dcs", "only"]);
        let only = m
            .get("only")
            .and_then(|n| cx.flag(n, "only"))
            .unwrap_or(false);
        let list = match m.get("dcs") {
            Some(n) => dc_list(cx, n, what, dcs, None),
            None => {
                cx.err(v, format!("{what} has no dcs")).hint =
                    Some("write { dcs: [DC, ...], only: true }".into());
                Vec::new()
            }
        };
        GeoOrder { dcs: list, only }
    } else {
        GeoOrder {
            dcs: dc_list(cx, v, what, dcs, None),
            only: false,
        }
    }
}

/// ISO 3166-1 alpha-2: two capital letters.
fn country_code(c: &str) -> Result<(), String> {
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        return Ok(());
    }
    let upper = c.to_ascii_uppercase();
    Err(
        if upper.len() == 2 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
            format!("country codes are written in capitals: {upper}")
        } else {
            "write an ISO 3166-1 alpha-2 code: two capital letters, e.g. RU, GB, US".into()
        },
    )
}

/// One of the seven continent codes.
fn continent_code(c: &str) -> Result<(), String> {
    if CONTINENTS.contains(&c) {
        return Ok(());
    }
    let upper = c.to_ascii_uppercase();
    Err(if CONTINENTS.contains(&upper.as_str()) {
        format!("continent codes are written in capitals: {upper}")
    } else {
        format!("continent codes are {}", CONTINENTS.join(", "))
    })
}

/// ISO 3166-2: country code, '-', 1 to 3 capital letters or digits.
fn subdivision_code(c: &str) -> Result<(), String> {
    let ok = |c: &str| match c.split_once('-') {
        Some((cc, sub)) => {
            country_code(cc).is_ok()
                && (1..=3).contains(&sub.len())
                && sub
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }
        None => false,
    };
    if ok(c) {
        return Ok(());
    }
    let upper = c.to_ascii_uppercase();
    Err(if ok(&upper) {
        format!("subdivision codes are written in capitals: {upper}")
    } else {
        "write an ISO 3166-2 code: country, '-', 1 to 3 letters or digits, e.g. RU-NVS, US-WA"
            .into()
    })
}

/// A network written twice (in `networks`, a networks file, or both) would leave one of the
/// two orders unused without a word.
const TWICE_HINT: &str = "a network has one datacenter order: remove one of the two";

/// Reads `CIDR dc[,dc...] [only]` lines (comments with `#`); every error is at its line and column
/// in that file.
fn networks_file(
    cx: &mut Ctx<'_>,
    at: &Node,
    path: &Path,
    dcs: &Dcs,
    out: &mut PrefixMap<GeoOrder>,
) {
    const HINT: &str =
        "each line is 'CIDR dc[,dc...] [only]', e.g. '198.51.100.0/24 spb,msk' or '... spb only'";
    for_each_line(cx, at, path, "networks file", |cx, words| {
        let bad = |cx: &mut Ctx<'_>, at: Pos, msg: String, hint: &str| {
            cx.diags.push(Diagnostic::new(path, at, msg).hint(hint));
        };
        let (cidr_at, cidr, list_at, list, only) = match *words {
            [(ca, c), (la, l)] => (ca, c, la, l, false),
            [(ca, c), (la, l), (_, "only")] => (ca, c, la, l, true),
            [_, _, (oa, other)] => {
                let msg = format!("expected 'only' after the datacenters, found '{other}'");
                bad(cx, oa, msg, HINT);
                return;
            }
            _ => {
                let line: Vec<&str> = words.iter().map(|(_, w)| *w).collect();
                let msg = format!(
                    "expected 'CIDR dc[,dc...] [only]', found '{}'",
                    line.join(" ")
                );
                bad(cx, words[0].0, msg, HINT);
                return;
            }
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
                let order = GeoOrder { dcs: ids, only };
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
