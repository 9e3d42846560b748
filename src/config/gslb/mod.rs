//! The GSLB part of the server file: `datacenters`, `checks`, `geo_maps`, `resources`.
//!
//! Everything is resolved to indices here (datacenter ids, check ids, health targets), so the
//! selection engine never looks a name up. The rules that keep a typo from becoming routing:
//!
//! - only datacenters declared under `datacenters:` exist; any other name, wherever it is
//!   written (pools, `cnames`, geo maps, networks files, `route.order`), is an error whose hint
//!   lists the declared ones;
//! - every mistake is reported, not just the first: a check, geo map or resource with errors
//!   is still parsed to the end and still registered by name, so a reference to it never adds
//!   a wrong "unknown" to the real error.
//!
//! The sections live in [`checks`], [`geo_maps`] and [`resources`]; this file holds the
//! names they share.

mod bgp;
mod checks;
mod geo_maps;
mod resources;

use std::collections::HashMap;
use std::path::Path;

use super::yaml::{Kind, Node};
use super::{Ctx, did_you_mean};
use crate::diag::Pos;
use crate::gslb::{Datacenter, DcId, Gslb, Target, TargetId};

/// Parses the GSLB sections. `top` is the server file's top-level mapping.
/// Also returns what each geo map took from its BGP dumps.
pub(super) fn parse(
    cx: &mut Ctx<'_>,
    top: &HashMap<&str, &Node>,
    base: &Path,
    geoip: Option<std::sync::Arc<crate::geo::db::GeoDb>>,
) -> (Gslb, Vec<crate::geo::mrt::BgpDumpUse>) {
    let mut g = Gslb {
        geoip,
        ..Gslb::default()
    };
    let geoip_state = if top.contains_key("geoip") {
        geo_maps::Geoip::Configured
    } else {
        geo_maps::Geoip::Absent
    };
    let mut dcs = Dcs::default();
    if let Some(n) = top.get("datacenters") {
        for (_, name, def) in entries(cx, n, "datacenters") {
            let dm = cx.map(def, &format!("datacenter '{name}'"), &["location"]);
            let location = dm.get("location").and_then(|l| location(cx, l));
            dcs.ids
                .insert(name.to_string(), g.datacenters.len() as DcId);
            dcs.names.push(name.to_string());
            g.datacenters.push(Datacenter {
                name: name.to_string(),
                location,
            });
        }
    }
    let mut check_ids: HashMap<String, usize> = HashMap::new();
    if let Some(n) = top.get("checks") {
        for (key, name, def) in entries(cx, n, "checks") {
            let c = checks::check(cx, name, key, def, base);
            check_ids.insert(name.to_string(), g.checks.len());
            g.checks.push(c);
        }
    }
    let mut map_ids: HashMap<String, usize> = HashMap::new();
    let mut dumps = bgp::Dumps::default();
    if let Some(n) = top.get("geo_maps") {
        for (key, name, def) in entries(cx, n, "geo_maps") {
            let m = geo_maps::geo_map(
                cx,
                name,
                key,
                def,
                base,
                &dcs,
                &g.datacenters,
                geoip_state,
                &mut dumps,
            );
            map_ids.insert(name.to_string(), g.geo_maps.len());
            g.geo_maps.push(m);
        }
    }
    let mut targets: HashMap<Target, TargetId> = HashMap::new();
    if let Some(n) = top.get("resources") {
        let refs = Refs {
            dcs: &dcs,
            checks: &check_ids,
            check_list: &g.checks,
            maps: &map_ids,
        };
        for (_, name, def) in entries(cx, n, "resources") {
            let r = resources::resource(cx, name, def, base, &refs, &mut targets);
            g.resources.push(r);
        }
    }
    let mut t: Vec<(Target, TargetId)> = targets.into_iter().collect();
    t.sort_by_key(|(_, id)| *id);
    g.targets = t.into_iter().map(|(t, _)| t).collect();
    (g, dumps.uses)
}

/// The datacenters declared under `datacenters:`, the only ones any other section may name.
#[derive(Default)]
struct Dcs {
    ids: HashMap<String, DcId>,
    /// Names in declaration order, for hints.
    names: Vec<String>,
}

impl Dcs {
    /// The id of a declared datacenter; for any other name an error at `at` (None).
    fn resolve(&self, cx: &mut Ctx<'_>, at: &Node, name: &str) -> Option<DcId> {
        if let Some(&id) = self.ids.get(name) {
            return Some(id);
        }
        let (msg, hint) = self.undeclared(name);
        cx.err(at, msg).hint = Some(hint);
        None
    }

    /// Message and hint for a datacenter name that is not declared.
    fn undeclared(&self, name: &str) -> (String, String) {
        let msg = format!("datacenter '{name}' is not declared under 'datacenters:'");
        let hint = if self.names.is_empty() {
            format!("declare it: datacenters: {{ {name}: {{}} }}")
        } else {
            format!(
                "{}declared datacenters: {}; declare a new one under 'datacenters:'",
                did_you_mean(name, self.names.iter().map(String::as_str)),
                self.names.join(", ")
            )
        };
        (msg, hint)
    }
}

/// Names the resources refer to, resolved before the resources are read.
struct Refs<'a> {
    dcs: &'a Dcs,
    checks: &'a HashMap<String, usize>,
    check_list: &'a [crate::gslb::Check],
    maps: &'a HashMap<String, usize>,
}

/// The entries of a mapping of names (key node, name, value); an error for any other shape.
fn entries<'n>(cx: &mut Ctx<'_>, n: &'n Node, what: &str) -> Vec<(&'n Node, &'n str, &'n Node)> {
    match &n.kind {
        Kind::Map(e) => e
            .iter()
            .filter_map(|(k, v)| k.as_str().map(|s| (k, s, v)))
            .collect(),
        Kind::Null => Vec::new(),
        _ => {
            cx.err(
                n,
                format!("{what} must be a mapping of names, found {}", n.shape()),
            );
            Vec::new()
        }
    }
}

fn location(cx: &mut Ctx<'_>, n: &Node) -> Option<(f64, f64)> {
    let items = n.one_or_many();
    let nums: Vec<Option<f64>> = items
        .iter()
        .map(|i| i.as_str().and_then(|s| s.parse::<f64>().ok()))
        .collect();
    match nums.as_slice() {
        [Some(lat), Some(lon)] if lat.abs() <= 90.0 && lon.abs() <= 180.0 => Some((*lat, *lon)),
        _ => {
            cx.err(
                n,
                "location must be [latitude, longitude], e.g. [55.75, 37.62]",
            );
            None
        }
    }
}

/// A list of declared datacenters (`[msk, spb]` or one name), not empty; `what` names it in
/// errors ("default", "route.order"). With `allowed`, only those ids may appear (route.order
/// may name only datacenters that have a pool).
fn dc_list(
    cx: &mut Ctx<'_>,
    n: &Node,
    what: &str,
    dcs: &Dcs,
    allowed: Option<&[DcId]>,
) -> Vec<DcId> {
    let mut out = Vec::new();
    let items = n.one_or_many();
    if items.is_empty() {
        cx.err(n, format!("{what} lists no datacenter")).hint =
            Some("write one or more declared datacenters in order, e.g. [msk, spb]".into());
    }
    for item in items {
        let Some(name) = item.as_str() else {
            cx.err(item, "expected a datacenter name");
            continue;
        };
        let Some(id) = dcs.resolve(cx, item, name) else {
            continue;
        };
        if let Some(allowed) = allowed
            && !allowed.contains(&id)
        {
            cx.err(
                item,
                format!("datacenter '{name}' has no pool in this resource"),
            )
            .hint = Some("route.order may only name datacenters listed under pools/cnames".into());
            continue;
        }
        if out.contains(&id) {
            cx.err(item, format!("datacenter '{name}' is listed twice"));
            continue;
        }
        out.push(id);
    }
    out
}

/// Reads a members or networks file (`what`) named by the node `at`: UTF-8 text, `#` starts
/// a comment, blank lines are skipped. `each` gets the words of every other line with their
/// positions (1-based line, column in characters), so every error is reported where it is in
/// that file. A file that cannot be read is an error at `at`.
fn for_each_line(
    cx: &mut Ctx<'_>,
    at: &Node,
    path: &Path,
    what: &str,
    mut each: impl FnMut(&mut Ctx<'_>, &[(Pos, &str)]),
) {
    cx.watch(path);
    let limit = cx.max_file_size;
    let text = match crate::yaml::read_text(path, &format!("{what} {}", path.display()), limit) {
        Ok(t) => t,
        Err(d) if d.line == 0 => {
            cx.err(at, d.message).hint = Some(
                d.hint
                    .unwrap_or_else(|| "paths are relative to the server file's directory".into()),
            );
            return;
        }
        Err(d) => {
            cx.diags.push(d.hint("save the file as UTF-8"));
            return;
        }
    };
    for (i, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        let mut words: Vec<(Pos, &str)> = Vec::new();
        let mut start: Option<(usize, usize)> = None; // (byte, column) of the word being read
        for (col, (byte, c)) in content.char_indices().enumerate() {
            match (c.is_whitespace(), start) {
                (true, Some((b, cl))) => {
                    words.push((pos(i, cl), &content[b..byte]));
                    start = None;
                }
                (false, None) => start = Some((byte, col)),
                _ => {}
            }
        }
        if let Some((b, cl)) = start {
            words.push((pos(i, cl), &content[b..]));
        }
        if !words.is_empty() {
            each(cx, &words);
        }
    }
}

/// The position of 0-based line `i`, 0-based column `col`.
fn pos(i: usize, col: usize) -> Pos {
    Pos {
        line: i + 1,
        col: col + 1,
    }
}

/// Defined names, sorted, for "defined ...: a, b" hints.
fn sorted_names(ids: &HashMap<String, usize>) -> Vec<&str> {
    let mut v: Vec<&str> = ids.keys().map(String::as_str).collect();
    v.sort_unstable();
    v
}
