//! `geo_maps:`: client networks to datacenter orders.
//!
//! A map has a `default` order (required: without it a client no rule matches would have no
//! datacenter), operator `networks` and `networks_files`. The keys that need a GeoIP database
//! (`continents`, `countries`, `subdivisions`, `nearest`) are reported as not supported yet,
//! but their datacenter names are still checked, so turning them on later finds no new typos.

use std::path::Path;

use super::super::Ctx;
use super::super::yaml::Node;
use super::{Dcs, dc_list, entries};
use crate::diag::{Diagnostic, Pos};
use crate::geo::{PrefixMap, parse_cidr};
use crate::gslb::{DcId, GeoMap};

const GEO_KEYS: &[&str] = &[
    "default",
    "continents",
    "countries",
    "subdivisions",
    "networks",
    "networks_files",
    "nearest",
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
) -> GeoMap {
    let m = cx.map(def, &format!("geo map '{name}'"), GEO_KEYS);
    cx.not_yet(def, "geo map");
    let default = match m.get("default") {
        Some(n) => dc_list(cx, n, dcs, None),
        None => {
            cx.err(key, format!("geo map '{name}' has no default")).hint =
                Some("add default: [DC, ...]: the order for clients no rule matches".into());
            Vec::new()
        }
    };
    for k in ["continents", "countries", "subdivisions"] {
        if let Some(n) = m.get(k) {
            for (_, _, v) in entries(cx, n, k) {
                dc_list(cx, v, dcs, None);
            }
        }
    }
    if let Some(n) = m.get("nearest") {
        cx.flag(n, "nearest");
    }
    let mut networks = PrefixMap::default();
    if let Some(n) = m.get("networks") {
        for (k, v) in n.as_map().unwrap_or_default() {
            let text = k.as_str().unwrap_or("");
            let list = dc_list(cx, v, dcs, None);
            match parse_cidr(text) {
                Ok((a, l)) => {
                    if !networks.insert(a, l, list) {
                        cx.err(k, format!("network {text} is listed twice"));
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
    }
}

/// Reads `CIDR dc[,dc...]` lines (comments with `#`); every error is at its line and column
/// in that file.
fn networks_file(
    cx: &mut Ctx<'_>,
    at: &Node,
    path: &Path,
    dcs: &Dcs,
    out: &mut PrefixMap<Vec<DcId>>,
) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            cx.err(
                at,
                format!("cannot read networks file {}: {e}", path.display()),
            );
            return;
        }
    };
    const HINT: &str = "each line is 'CIDR dc[,dc...]', e.g. '198.51.100.0/24 spb,msk'";
    for (i, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        let tokens = tokens(content);
        let Some(&(cidr_col, cidr)) = tokens.first() else {
            continue;
        };
        let at = |col: usize| Pos {
            line: i + 1,
            col: col + 1,
        };
        let (list_col, list) = match tokens.as_slice() {
            [_, (c, l)] => (*c, *l),
            _ => {
                cx.diags.push(
                    Diagnostic::new(
                        path,
                        at(cidr_col),
                        format!("expected 'CIDR dc[,dc...]', found '{}'", content.trim()),
                    )
                    .hint(HINT),
                );
                continue;
            }
        };
        let mut ids: Vec<DcId> = Vec::new();
        let mut col = list_col;
        for d in list.split(',') {
            if !d.is_empty() {
                match dcs.ids.get(d) {
                    Some(&id) => ids.push(id),
                    None => {
                        let (msg, hint) = dcs.undeclared(d);
                        cx.diags
                            .push(Diagnostic::new(path, at(col), msg).hint(hint));
                    }
                }
            }
            col += d.len() + 1;
        }
        match parse_cidr(cidr) {
            // The first occurrence wins, so a file can be appended to without surprise.
            Ok((a, l)) => {
                out.insert(a, l, ids);
            }
            Err(e) => cx.diags.push(
                Diagnostic::new(path, at(cidr_col), format!("bad network '{cidr}': {e}"))
                    .hint(HINT),
            ),
        }
    }
}

/// Whitespace-separated words of `s` with their 0-based byte columns.
pub(super) fn tokens(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(st)) => {
                out.push((st, &s[st..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}
