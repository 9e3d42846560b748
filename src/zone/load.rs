//! Loading a zone YAML file into a [`Zone`], reporting every mistake with its position.
//!
//! The schema is the one in the design contract: `zone`, `ttl`, `soa`, `records`. Record data is
//! master-file presentation text, except TXT/SPF whose value is the text itself.
//!
//! Zones are checked as strictly as the strictest of NSD, Knot and BIND: the rules between
//! names (CNAME and DNAME exclusivity, occluded names below delegations and DNAMEs, glue, RRsets
//! too large for any message) are listed in docs/configuration.md with their RFCs. Loading is
//! linear in the size of the zone: every check is a hash lookup per name or per ancestor.
//!
//! This module takes what it needs from the server file as plain data ([`KnownResources`]) and
//! does not import `config`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};

use super::rdata::{self, Rdata};
use super::{Dynamic, Node, RRset, Zone};
use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::duration::{DurationError, MAX_TTL, parse_seconds};
use crate::wire::name::{MAX_NAME_LEN, from_text, is_subdomain, label_offsets, to_lower, to_text};
use crate::wire::writer::RdataPiece;
use crate::wire::{HEADER_LEN, MAX_MESSAGE, rtype, type_by_name, type_name};
use crate::yaml::{self, Kind, Node as Y};

/// The resources zones may refer to with `DYNA` / `DYNC`.
#[derive(Debug, Clone, Default)]
pub struct KnownResources {
    /// Resources that answer with addresses (have `pools`), by name → resource index.
    pub addresses: BTreeMap<String, usize>,
    /// Resources that answer with a CNAME (have `cnames`), by name → resource index.
    pub cnames: BTreeMap<String, usize>,
}

const TOP_KEYS: &[&str] = &["zone", "ttl", "soa", "records"];
const SOA_KEYS: &[&str] = &[
    "primary",
    "contact",
    "serial",
    "refresh",
    "retry",
    "expire",
    "negative_ttl",
    "ttl",
];
/// Bytes an EDNS OPT record adds to a response (RFC 6891 §6.1.2: root owner, 10 fixed bytes).
const OPT_RR_LEN: usize = 11;

/// Reads and loads one zone file: the zone, or `None` when it has errors. Errors and warnings
/// go to `diags` (the caller collects the problems of every file, so `check` shows them all).
pub fn load_zone_file(
    path: &Path,
    resources: &KnownResources,
    max_file_size: u64,
    diags: &mut Diagnostics,
) -> Option<Zone> {
    match yaml::read_text(path, "zone file", max_file_size) {
        Ok(text) => load_zone_text(&text, path, resources, diags),
        Err(d) => {
            diags.push(d);
            None
        }
    }
}

/// Loads a zone from YAML text (`path` is used in messages); as [`load_zone_file`].
pub fn load_zone_text(
    text: &str,
    path: &Path,
    resources: &KnownResources,
    diags: &mut Diagnostics,
) -> Option<Zone> {
    let root = match yaml::parse(text, path) {
        Ok(root) => root,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let mut l = Loader {
        path,
        diags: Diagnostics::default(),
        resources,
    };
    let collected = l.collect(&root);
    let root_pos = root.pos;
    // The YAML tree is as large as the zone; free it before the zone is built.
    drop(root);
    let zone = collected.map(|c| l.build(c));
    let failed = l.diags.has_errors();
    if zone.is_none() && !failed {
        l.diags
            .push(Diagnostic::new(path, root_pos, "zone could not be loaded"));
    }
    diags.extend(l.diags);
    zone.filter(|_| !failed)
}

struct Loader<'a> {
    path: &'a Path,
    diags: Diagnostics,
    resources: &'a KnownResources,
}

/// A record set being collected, with where each part was written.
struct PendingSet {
    set: RRset,
    /// The type key (`A:`), where set-wide problems are reported.
    at: Pos,
    /// Where each record's data was written, parallel to `set.rdata`.
    positions: Vec<Pos>,
}

/// Builder state for one owner name while records are collected.
struct PendingNode {
    owner: Vec<u8>,
    key_node: Pos,
    rrsets: Vec<PendingSet>,
    dynamic: Option<(Dynamic, Pos)>,
}

/// Everything read from a zone file, before the cross-name checks and the lookup structure.
struct Collected {
    origin: Vec<u8>,
    origin_lower: Vec<u8>,
    name_text: String,
    soa: RRset,
    negative_ttl: u32,
    pending: Vec<PendingNode>,
}

impl PendingNode {
    fn get(&self, t: u16) -> Option<&PendingSet> {
        self.rrsets.iter().find(|p| p.set.rtype == t)
    }
}

/// Record data compared as RFC 2181 §5 compares records: names without regard to case.
fn canonical_key(rd: &Rdata) -> Vec<u8> {
    let mut key = Vec::with_capacity(rd.wire_len());
    for piece in rd.pieces.iter() {
        match piece {
            RdataPiece::Bytes(b) => key.extend_from_slice(b),
            RdataPiece::Name(n) => key.extend(n.iter().map(u8::to_ascii_lowercase)),
        }
    }
    key
}

fn type_label(t: u16) -> String {
    type_name(t).map_or_else(|| format!("TYPE{t}"), str::to_string)
}

impl Loader<'_> {
    fn err(&mut self, at: &Y, msg: impl Into<String>) -> &mut Diagnostic {
        self.err_at(at.pos, msg)
    }

    /// A whole number of seconds up to `max`; units (`1h30m`) are allowed when `units`.
    fn seconds(&mut self, n: &Y, what: &str, max: u32, units: bool) -> Option<u32> {
        let Some(s) = n.as_str() else {
            self.err(n, format!("{what} must be a number, found {}", n.shape()));
            return None;
        };
        let r = if units || s.bytes().all(|b| b.is_ascii_digit()) {
            parse_seconds(s, max)
        } else {
            Err(DurationError::Syntax)
        };
        match r {
            Ok(v) => Some(v),
            Err(DurationError::Syntax) => {
                self.err(n, format!("{what} '{s}' is not a number")).hint = Some(if units {
                    "write seconds (3600) or a duration (1h, 30m, 2d)".into()
                } else {
                    format!("write a whole number from 0 to {max}")
                });
                None
            }
            Err(e) => {
                let rfc = if max == MAX_TTL {
                    " (RFC 2181 §8 keeps the top bit of a TTL zero)"
                } else {
                    ""
                };
                let unit = if units {
                    "whole seconds"
                } else {
                    "a whole number"
                };
                self.err(n, format!("{what} '{s}' is {e}")).hint =
                    Some(format!("write {unit} from 0 to {max}{rfc}"));
                None
            }
        }
    }

    fn ttl_value(&mut self, n: &Y, what: &str) -> Option<u32> {
        self.seconds(n, what, MAX_TTL, true)
    }

    fn err_at(&mut self, pos: Pos, msg: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::new(self.path, pos, msg));
        self.diags.0.last_mut().expect("just pushed")
    }

    /// Reads the top level and every owner into [`PendingNode`]s.
    fn collect(&mut self, root: &Y) -> Option<Collected> {
        let Some(map) = root.as_map() else {
            self.err(
                root,
                format!(
                    "a zone file must be a mapping with keys {}, found {}",
                    TOP_KEYS.join(", "),
                    root.shape()
                ),
            );
            return None;
        };
        let (mut zone_node, mut ttl_node, mut soa_node, mut records_node) =
            (None, None, None, None);
        for (k, v) in map {
            match k.as_str().unwrap_or("") {
                "zone" => zone_node = Some(v),
                "ttl" => ttl_node = Some(v),
                "soa" => soa_node = Some(v),
                "records" => records_node = Some(v),
                other => {
                    self.err(k, format!("unknown key '{other}' in zone file"))
                        .hint = Some(format!("valid keys are: {}", TOP_KEYS.join(", ")));
                }
            }
        }
        let Some(zone_node) = zone_node else {
            self.err(
                root,
                "missing 'zone:' (the zone's name, e.g. zone: example.com)",
            );
            return None;
        };
        let Some(zone_text) = zone_node.as_str() else {
            self.err(zone_node, "'zone' must be a domain name");
            return None;
        };
        let name_text = zone_text.trim_end_matches('.').to_string();
        let origin = match from_text(&format!("{name_text}."), &[0]) {
            Ok(o) if !name_text.is_empty() => o,
            Ok(_) => vec![0],
            Err(e) => {
                self.err(zone_node, format!("bad zone name: {e}"));
                return None;
            }
        };
        let origin_lower = to_lower(&origin);
        let default_ttl = match ttl_node {
            Some(n) => self.ttl_value(n, "ttl").unwrap_or(3600),
            None => 3600,
        };

        let Some(soa_node) = soa_node else {
            self.err(root, "missing 'soa:'").hint =
                Some("add e.g. soa: { primary: ns1, contact: hostmaster, serial: 1 }".into());
            return None;
        };
        let (soa, negative_ttl) = self.soa(soa_node, &origin, default_ttl)?;

        let mut pending: Vec<PendingNode> = Vec::new();
        let mut index: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
        if let Some(records) = records_node {
            match &records.kind {
                Kind::Map(entries) => {
                    for (k, v) in entries {
                        self.owner(
                            k,
                            v,
                            &origin,
                            &origin_lower,
                            default_ttl,
                            &mut pending,
                            &mut index,
                        );
                    }
                }
                Kind::Null => {}
                _ => {
                    self.err(
                        records,
                        format!(
                            "'records' must be a mapping of names to records, found {}",
                            records.shape()
                        ),
                    );
                }
            }
        }

        // The apex node always exists and holds the SOA.
        let apex_idx = match index.get(&origin_lower) {
            Some(&i) => i,
            None => {
                pending.push(PendingNode {
                    owner: origin.clone(),
                    key_node: soa_node.pos,
                    rrsets: Vec::new(),
                    dynamic: None,
                });
                index.insert(origin_lower.clone(), pending.len() - 1);
                pending.len() - 1
            }
        };
        pending[apex_idx].rrsets.insert(
            0,
            PendingSet {
                set: soa.clone(),
                at: soa_node.pos,
                positions: vec![soa_node.pos],
            },
        );
        if pending[apex_idx].get(rtype::NS).is_none() {
            let at = pending[apex_idx].key_node;
            self.err_at(
                at,
                format!("zone {name_text} has no NS records at its apex"),
            )
            .hint = Some("add NS records under \"@\", e.g. \"@\": { NS: [ns1, ns2] }".into());
        }

        Some(Collected {
            origin,
            origin_lower,
            name_text,
            soa,
            negative_ttl,
            pending,
        })
    }

    /// Checks the rules between records and names, then moves the records into the lookup
    /// structure (nothing is copied: a zone of millions of names is held once).
    fn build(&mut self, c: Collected) -> Zone {
        let Collected {
            origin,
            origin_lower,
            name_text,
            soa,
            negative_ttl,
            mut pending,
        } = c;
        for p in &mut pending {
            self.drop_duplicates(p);
        }
        self.check_node_rules(&pending);
        self.check_sizes(&pending);
        let cuts: FxHashSet<Box<[u8]>> = pending
            .iter()
            .filter(|p| p.get(rtype::NS).is_some())
            .map(|p| to_lower(&p.owner).into_boxed_slice())
            .filter(|k| **k != *origin_lower)
            .collect();
        self.check_occlusion(&pending, &origin_lower, &cuts);
        // NS targets inside the zone, checked for addresses once the zone is built.
        let ns_targets: Vec<(Pos, Box<[u8]>)> = pending
            .iter()
            .filter_map(|p| p.get(rtype::NS))
            .flat_map(|ps| {
                ps.set
                    .rdata
                    .iter()
                    .filter_map(|rd| rd.target.clone())
                    .filter(|t| is_subdomain(t, &origin_lower))
                    .map(|t| (ps.at, t))
            })
            .collect();

        let mut nodes: FxHashMap<Box<[u8]>, Node> = FxHashMap::default();
        nodes.reserve(pending.len() + pending.len() / 8);
        let mut owners: Vec<Box<[u8]>> = Vec::with_capacity(pending.len());
        for p in pending {
            let key = to_lower(&p.owner).into_boxed_slice();
            let cut = cuts.contains(&key);
            let mut rrsets: Vec<RRset> = p.rrsets.into_iter().map(|ps| ps.set).collect();
            rrsets.shrink_to_fit();
            owners.push(key.clone());
            nodes.insert(
                key,
                Node {
                    owner: p.owner.into_boxed_slice(),
                    rrsets,
                    dynamic: p.dynamic.map(|(d, _)| d),
                    cut,
                    occluded: false,
                },
            );
        }
        // Empty non-terminals: every ancestor of an owner, up to the apex, exists.
        for key in &owners {
            let mut offs = [0u8; 128];
            let n = label_offsets(key, &mut offs);
            for &o in &offs[1..n] {
                let anc = &key[o as usize..];
                if anc.len() <= origin.len() {
                    break;
                }
                if nodes.contains_key(anc) {
                    // Its ancestors are added with it.
                    break;
                }
                // Keep the operator's spelling of the ancestor's labels.
                let spelled = nodes
                    .get(key)
                    .map(|n| n.owner[o as usize..].to_vec())
                    .unwrap_or_else(|| anc.to_vec());
                nodes.insert(
                    anc.into(),
                    Node {
                        owner: spelled.into_boxed_slice(),
                        ..Default::default()
                    },
                );
            }
        }
        drop(owners);
        // Names below a delegation are only glue: one lookup per ancestor of each name.
        if !cuts.is_empty() {
            for (k, n) in nodes.iter_mut() {
                n.occluded = closest_ancestor_in(k, origin_lower.len(), &cuts).is_some();
            }
        }
        let zone = Zone {
            origin_labels: label_offsets(&origin_lower, &mut [0u8; 128]),
            origin: origin_lower.into_boxed_slice(),
            name: name_text,
            file: self.path.to_path_buf(),
            soa,
            negative_ttl,
            nodes,
        };
        self.check_glue(&zone, &ns_targets);
        zone
    }

    fn soa(&mut self, n: &Y, origin: &[u8], default_ttl: u32) -> Option<(RRset, u32)> {
        let Some(map) = n.as_map() else {
            self.err(
                n,
                "'soa' must be a mapping: { primary: ns1, contact: hostmaster, serial: 1 }",
            );
            return None;
        };
        let mut f: HashMap<&str, &Y> = HashMap::new();
        for (k, v) in map {
            let key = k.as_str().unwrap_or("");
            if SOA_KEYS.contains(&key) {
                f.insert(key, v);
            } else {
                self.err(k, format!("unknown key '{key}' in soa")).hint =
                    Some(format!("valid keys are: {}", SOA_KEYS.join(", ")));
            }
        }
        let mut ok = true;
        let name_field = |l: &mut Self, key: &str, email: bool| -> Option<Vec<u8>> {
            let Some(v) = f.get(key) else {
                l.err(n, format!("soa is missing '{key}'"));
                return None;
            };
            let Some(s) = v.as_str() else {
                l.err(v, format!("soa {key} must be a domain name"));
                return None;
            };
            let text = if email && s.contains('@') {
                let (local, domain) = s.split_once('@').unwrap_or((s, ""));
                format!(
                    "{}.{}.",
                    local.replace('.', "\\."),
                    domain.trim_end_matches('.')
                )
            } else {
                s.to_string()
            };
            match from_text(&text, origin) {
                Ok(name) => Some(name),
                Err(e) => {
                    l.err(v, format!("soa {key}: {e}"));
                    None
                }
            }
        };
        let primary = name_field(self, "primary", false);
        let contact = name_field(self, "contact", true);
        let mut num = |l: &mut Self, key: &str, default: Option<u32>| -> u32 {
            match f.get(key) {
                Some(v) => {
                    // Serial and the refresh/retry/expire timers are 32-bit fields (RFC 1035
                    // §3.3.13); the negative TTL and the SOA's own TTL are TTLs (RFC 2308 §4).
                    let r = match key {
                        "serial" => l.seconds(v, "soa serial", u32::MAX, false),
                        "refresh" | "retry" | "expire" => {
                            l.seconds(v, &format!("soa {key}"), u32::MAX, true)
                        }
                        _ => l.ttl_value(v, &format!("soa {key}")),
                    };
                    r.unwrap_or_else(|| {
                        ok = false;
                        0
                    })
                }
                None => match default {
                    Some(d) => d,
                    None => {
                        l.err(n, format!("soa is missing '{key}'"));
                        ok = false;
                        0
                    }
                },
            }
        };
        let serial = num(self, "serial", None);
        let refresh = num(self, "refresh", Some(3600));
        let retry = num(self, "retry", Some(900));
        let expire = num(self, "expire", Some(1_209_600));
        let minimum = num(self, "negative_ttl", Some(300));
        let ttl = num(self, "ttl", Some(default_ttl));
        let (primary, contact) = (primary?, contact?);
        if !ok {
            return None;
        }
        let mut fixed = Vec::with_capacity(20);
        for v in [serial, refresh, retry, expire, minimum] {
            fixed.extend_from_slice(&v.to_be_bytes());
        }
        // Both SOA names may be compressed (RFC 1035 §3.3.13; RFC 3597 §4 lists SOA).
        let rd = Rdata {
            pieces: vec![
                crate::wire::writer::RdataPiece::Name(primary.clone().into_boxed_slice()),
                crate::wire::writer::RdataPiece::Name(contact.into_boxed_slice()),
                crate::wire::writer::RdataPiece::Bytes(fixed.into_boxed_slice()),
            ]
            .into_boxed_slice(),
            target: Some(to_lower(&primary).into_boxed_slice()),
        };
        Some((
            RRset {
                rtype: rtype::SOA,
                ttl,
                rdata: vec![rd],
            },
            ttl.min(minimum),
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn owner(
        &mut self,
        k: &Y,
        v: &Y,
        origin: &[u8],
        origin_lower: &[u8],
        default_ttl: u32,
        pending: &mut Vec<PendingNode>,
        index: &mut FxHashMap<Vec<u8>, usize>,
    ) {
        let Some(owner_text) = k.as_str() else {
            self.err(k, "record names must be strings");
            return;
        };
        let owner = match from_text(owner_text, origin) {
            Ok(o) => o,
            Err(e) => {
                self.err(k, format!("bad name '{owner_text}': {e}"));
                return;
            }
        };
        let lower = to_lower(&owner);
        if !is_subdomain(&lower, origin_lower) {
            self.err(k, format!("'{owner_text}' is outside the zone {}", to_text(origin)))
                .hint = Some("names without a trailing dot are relative to the zone; remove the trailing dot or move the record to its own zone".into());
            return;
        }
        let Some(map) = v.as_map() else {
            self.err(v, format!("'{owner_text}' must map record types to data, e.g. {{ A: 192.0.2.1 }}; found {}", v.shape()));
            return;
        };
        // Owner-level TTL applies to every type under the name.
        let mut owner_ttl = default_ttl;
        for (tk, tv) in map {
            if tk.as_str() == Some("ttl") {
                owner_ttl = self.ttl_value(tv, "ttl").unwrap_or(default_ttl);
            }
        }
        let idx = match index.get(&lower) {
            Some(&i) => {
                self.err(
                    k,
                    format!(
                        "'{owner_text}' is listed twice (it is the same name as an earlier key)"
                    ),
                )
                .hint = Some(
                    "names compare without regard to case and trailing dots; merge the two entries"
                        .into(),
                );
                i
            }
            None => {
                pending.push(PendingNode {
                    owner: owner.clone(),
                    key_node: k.pos,
                    rrsets: Vec::with_capacity(map.len()),
                    dynamic: None,
                });
                index.insert(lower, pending.len() - 1);
                pending.len() - 1
            }
        };
        for (tk, tv) in map {
            let Some(tname) = tk.as_str() else {
                self.err(tk, "record types must be names like A, MX or TYPE65");
                continue;
            };
            if tname == "ttl" {
                continue;
            }
            if tname == "DYNA" || tname == "DYNC" {
                self.dynamic(tname, tk, tv, &mut pending[idx]);
                continue;
            }
            let Some(t) = type_by_name(tname) else {
                self.err(tk, format!("unknown record type '{tname}'"))
                    .hint = Some("use a type mnemonic (A, AAAA, CNAME, MX, TXT, SRV, CAA, PTR, NS, ...), TYPEnnn for others, or DYNA/DYNC for resources".into());
                continue;
            };
            if tname != tname.to_ascii_uppercase() {
                self.err(
                    tk,
                    format!(
                        "record type '{tname}' must be written in capitals ('{}')",
                        tname.to_ascii_uppercase()
                    ),
                );
                continue;
            }
            if t == rtype::SOA {
                self.err(
                    tk,
                    "the SOA is configured with the top-level 'soa:' key, not under records",
                )
                .hint = Some(
                    "a zone has exactly one SOA, at its apex (RFC 1035 §5.2); put its fields in soa: { ... }"
                        .into(),
                );
                continue;
            }
            if crate::wire::record_type(t).is_some_and(|r| !r.stored) {
                self.err(
                    tk,
                    format!("{tname} is not a record type that can be stored in a zone"),
                );
                continue;
            }
            // `{ ttl: N, data: ... }` or the data directly.
            let (ttl, data) = match &tv.kind {
                Kind::Map(entries) => {
                    let mut ttl = owner_ttl;
                    let mut data = None;
                    for (ek, ev) in entries {
                        match ek.as_str() {
                            Some("ttl") => ttl = self.ttl_value(ev, "ttl").unwrap_or(owner_ttl),
                            Some("data") => data = Some(ev),
                            other => {
                                self.err(
                                    ek,
                                    format!(
                                        "unknown key '{}' in {tname} record set",
                                        other.unwrap_or("?")
                                    ),
                                )
                                .hint = Some(
                                    "a record set is a value, a list, or { ttl: N, data: [...] }"
                                        .into(),
                                );
                            }
                        }
                    }
                    let Some(data) = data else {
                        self.err(tv, format!("{tname} record set has no 'data:'"));
                        continue;
                    };
                    (ttl, data)
                }
                _ => (owner_ttl, tv),
            };
            let items = data.one_or_many();
            let mut set = RRset {
                rtype: t,
                ttl,
                rdata: Vec::with_capacity(items.len()),
            };
            let mut positions = Vec::with_capacity(items.len());
            if items.is_empty() {
                self.err(data, format!("{tname} has no data"));
                continue;
            }
            for item in items {
                if let Some(rd) = self.rdata(t, tname, item, origin) {
                    set.rdata.push(rd);
                    positions.push(item.pos);
                }
            }
            if set.rdata.is_empty() {
                continue;
            }
            // `A` and `TYPE1` are the same type: merge them into one RRset (RFC 2181 §5);
            // duplicates are dropped once every record of the name is known.
            if let Some(existing) = pending[idx].rrsets.iter_mut().find(|p| p.set.rtype == t) {
                existing.set.ttl = existing.set.ttl.min(set.ttl);
                existing.set.rdata.extend(set.rdata);
                existing.positions.extend(positions);
            } else {
                pending[idx].rrsets.push(PendingSet {
                    set,
                    at: tk.pos,
                    positions,
                });
            }
        }
    }

    fn rdata(&mut self, t: u16, tname: &str, item: &Y, origin: &[u8]) -> Option<Rdata> {
        if matches!(t, rtype::TXT | rtype::SPF) {
            return match &item.kind {
                Kind::Scalar { text, .. } => {
                    if rdata::txt_is_generic(text) {
                        self.presentation(t, tname, text, item, origin)
                    } else {
                        Some(rdata::txt_from_text(text))
                    }
                }
                Kind::Seq(parts) => {
                    let mut strings = Vec::new();
                    for p in parts {
                        match p.as_str() {
                            Some(s) => strings.push(s),
                            None => {
                                self.err(p, "each part of a TXT record must be a string");
                                return None;
                            }
                        }
                    }
                    match rdata::txt_from_strings(&strings) {
                        Ok(r) => Some(r),
                        Err(e) => {
                            self.err(item, e).hint = Some(
                                "leave long text as one string and dynadns splits it at 255 bytes"
                                    .into(),
                            );
                            None
                        }
                    }
                }
                Kind::Null => Some(rdata::txt_from_text("")),
                Kind::Map(_) => {
                    self.err(item, "TXT data must be text or a list of strings");
                    None
                }
            };
        }
        let Some(text) = item.as_str() else {
            self.err(
                item,
                format!(
                    "{tname} data must be a single value like in a zone file, found {}",
                    item.shape()
                ),
            );
            return None;
        };
        self.presentation(t, tname, text, item, origin)
    }

    fn presentation(
        &mut self,
        t: u16,
        tname: &str,
        text: &str,
        at: &Y,
        origin: &[u8],
    ) -> Option<Rdata> {
        match rdata::parse(t, text, origin) {
            Ok(r) => Some(r),
            Err(e) => {
                let hint = match t {
                    rtype::A => "an A record is an IPv4 address like 192.0.2.1",
                    rtype::AAAA => "an AAAA record is an IPv6 address like 2001:db8::1",
                    rtype::MX => "MX data is 'PREFERENCE HOST', e.g. \"10 mail\"",
                    rtype::SRV => {
                        "SRV data is 'PRIORITY WEIGHT PORT TARGET', e.g. \"10 60 5060 sip\""
                    }
                    rtype::CAA => {
                        "CAA data is 'FLAGS TAG \"VALUE\"', e.g. '0 issue \"letsencrypt.org\"'"
                    }
                    _ => "write the data as in a zone file, or in RFC 3597 form '\\# LEN HEX'",
                };
                self.err(at, format!("bad {tname} data '{text}': {e}")).hint = Some(hint.into());
                None
            }
        }
    }

    fn dynamic(&mut self, tname: &str, tk: &Y, tv: &Y, node: &mut PendingNode) {
        let Some(res) = tv.as_str() else {
            self.err(
                tv,
                format!("{tname} takes the name of a resource, e.g. {tname}: www"),
            );
            return;
        };
        let (set, other) = if tname == "DYNA" {
            (&self.resources.addresses, &self.resources.cnames)
        } else {
            (&self.resources.cnames, &self.resources.addresses)
        };
        let Some(&index) = set.get(res) else {
            let msg = if other.contains_key(res) {
                format!(
                    "resource '{res}' cannot be used with {tname}: {}",
                    if tname == "DYNA" {
                        "it has cnames, use DYNC"
                    } else {
                        "it has pools of addresses, use DYNA"
                    }
                )
            } else {
                format!("{tname} refers to unknown resource '{res}'")
            };
            let known: Vec<&str> = set.keys().map(String::as_str).collect();
            self.err(tv, msg).hint = Some(if known.is_empty() {
                "define it under 'resources:' in dynadns.yaml".into()
            } else {
                format!("resources usable here: {}", known.join(", "))
            });
            return;
        };
        let d = if tname == "DYNA" {
            Dynamic::Addresses { resource: index }
        } else {
            Dynamic::Cname { resource: index }
        };
        if node.dynamic.is_some() {
            self.err(tk, "a name can have only one of DYNA and DYNC").hint =
                Some("DYNA answers addresses, DYNC a CNAME (RFC 1034 §3.6.2: nothing beside a CNAME); keep one".into());
            return;
        }
        node.dynamic = Some((d, tk.pos));
    }

    /// Drops records identical to an earlier one of the same set, with a warning for each
    /// (RFC 2181 §5: an RRset holds each record once). One hash set per RRset: linear.
    fn drop_duplicates(&mut self, p: &mut PendingNode) {
        for ps in &mut p.rrsets {
            if ps.set.rdata.len() < 2 {
                continue;
            }
            let mut first: FxHashMap<Vec<u8>, Pos> = FxHashMap::default();
            let mut keep = Vec::with_capacity(ps.set.rdata.len());
            let mut keep_pos = Vec::with_capacity(ps.set.rdata.len());
            let records = std::mem::take(&mut ps.set.rdata);
            let positions = std::mem::take(&mut ps.positions);
            for (rd, pos) in records.into_iter().zip(positions) {
                match first.get(&canonical_key(&rd)) {
                    Some(earlier) => {
                        let t = type_label(ps.set.rtype);
                        self.diags.push(
                            Diagnostic::warning(
                                self.path,
                                pos,
                                format!(
                                    "duplicate {t} record: identical to the one at line {}, column {}; it is ignored",
                                    earlier.line, earlier.col
                                ),
                            )
                            .hint("a record set holds each record once (RFC 2181 §5); remove the repeated record"),
                        );
                    }
                    None => {
                        first.insert(canonical_key(&rd), pos);
                        keep.push(rd);
                        keep_pos.push(pos);
                    }
                }
            }
            ps.set.rdata = keep;
            ps.positions = keep_pos;
        }
    }

    /// Rules between the record sets of one name: CNAME (RFC 1034 §3.6.2, RFC 2181 §10.1) and
    /// DNAME (RFC 6672 §2.4, §5.3) exclusivity; DYNA counts as address data, DYNC as a CNAME.
    fn check_node_rules(&mut self, pending: &[PendingNode]) {
        for p in pending {
            for (t, rfc) in [
                (rtype::CNAME, "RFC 1034 §3.6.2, RFC 2181 §10.1"),
                (rtype::DNAME, "RFC 6672 §2.4"),
            ] {
                if let Some(ps) = p.get(t).filter(|ps| ps.set.rdata.len() > 1) {
                    let name = type_label(t);
                    let pos = ps.positions.get(1).copied().unwrap_or(ps.at);
                    self.diags.push(
                        Diagnostic::new(
                            self.path,
                            pos,
                            format!("a name can have only one {name} record; this is the second"),
                        )
                        .hint(format!("keep one {name} ({rfc})")),
                    );
                }
            }
            if let Some(ps) = p.get(rtype::CNAME) {
                let others = p.rrsets.len() > 1 || p.dynamic.is_some();
                if others {
                    let names: Vec<String> = p
                        .rrsets
                        .iter()
                        .filter(|r| r.set.rtype != rtype::CNAME)
                        .map(|r| type_label(r.set.rtype))
                        .chain(p.dynamic.iter().map(|(d, _)| dyn_name(d).to_string()))
                        .collect();
                    let at = ps.at;
                    self.err_at(at, format!("CNAME cannot stand beside other data (this name also has {})", names.join(", ")))
                        .hint = Some("a name with a CNAME can have no other records (RFC 1034 §3.6.2, RFC 2181 §10.1); move the other records or drop the CNAME".into());
                }
            }
            let is_apex = p.get(rtype::SOA).is_some();
            if !is_apex && let (Some(dname), Some(_)) = (p.get(rtype::DNAME), p.get(rtype::NS)) {
                let at = dname.at;
                self.err_at(at, "DNAME cannot stand beside NS below the zone apex")
                    .hint = Some("a delegation point cannot also be redirected (RFC 6672 §5.3); drop the DNAME or the NS records".into());
            }
            if let Some((d, at)) = &p.dynamic {
                let conflict: Vec<String> = p
                    .rrsets
                    .iter()
                    .filter(|r| match d {
                        Dynamic::Addresses { .. } => {
                            matches!(r.set.rtype, rtype::A | rtype::AAAA | rtype::NS)
                        }
                        Dynamic::Cname { .. } => r.set.rtype != rtype::CNAME,
                    })
                    .map(|r| type_label(r.set.rtype))
                    .collect();
                if !conflict.is_empty() {
                    let which = dyn_name(d);
                    self.err_at(
                        *at,
                        format!(
                            "{which} cannot stand beside {} at the same name",
                            conflict.join(", ")
                        ),
                    )
                    .hint = Some(if which == "DYNA" {
                        "DYNA answers A and AAAA itself; remove the static address records".into()
                    } else {
                        "DYNC answers with a CNAME, which cannot share a name with other data (RFC 1034 §3.6.2)"
                            .into()
                    });
                }
            }
        }
    }

    /// Every RRset must fit in one response, or it can never be answered, not even over TCP:
    /// header, question, the RRset (owner compressed to a pointer) and an OPT record must fit
    /// in 65,535 bytes (RFC 1035 §4.2.2). A wildcard answers query names of any length, so
    /// its question is counted at the longest name, 255 bytes.
    fn check_sizes(&mut self, pending: &[PendingNode]) {
        for p in pending {
            let wildcard = p.owner.starts_with(b"\x01*");
            let qname = if wildcard {
                MAX_NAME_LEN
            } else {
                p.owner.len()
            };
            let question = qname + 4;
            for ps in &p.rrsets {
                let records: usize = ps.set.rdata.iter().map(|rd| 2 + 10 + rd.wire_len()).sum();
                let size = HEADER_LEN + question + records + OPT_RR_LEN;
                if size > MAX_MESSAGE {
                    let t = type_label(ps.set.rtype);
                    let at = ps.at;
                    let query = if wildcard {
                        " to a query name of 255 bytes"
                    } else {
                        ""
                    };
                    self.err_at(
                        at,
                        format!(
                            "the {t} record set of {} needs {size} bytes in a response{query}, more than the {MAX_MESSAGE} a DNS message can hold",
                            to_text(&p.owner)
                        ),
                    )
                    .hint = Some("it could never be answered, not even over TCP; shorten the data or spread it over several names".into());
                }
            }
        }
    }

    /// Names that can never be answered because an ancestor takes over: data below a DNAME
    /// (RFC 6672 §2.4) and delegations below another delegation (RFC 1034 §4.2.1).
    fn check_occlusion(
        &mut self,
        pending: &[PendingNode],
        origin: &[u8],
        cuts: &FxHashSet<Box<[u8]>>,
    ) {
        let dnames: FxHashSet<Box<[u8]>> = pending
            .iter()
            .filter(|p| p.get(rtype::DNAME).is_some())
            .map(|p| to_lower(&p.owner).into_boxed_slice())
            .collect();
        if dnames.is_empty() && cuts.is_empty() {
            return;
        }
        for p in pending {
            if p.rrsets.is_empty() && p.dynamic.is_none() {
                continue;
            }
            let key = to_lower(&p.owner);
            // The apex itself may own a DNAME, so its strict descendants are checked too.
            if let Some(anc) = closest_ancestor_in(&key, origin.len() - 1, &dnames) {
                let owner = relative(&key, origin);
                let d = relative(anc, origin);
                self.err_at(
                    p.key_node,
                    format!("'{owner}' is below the DNAME at '{d}' and can never be answered"),
                )
                .hint = Some(format!(
                    "a DNAME redirects every name below '{d}' (RFC 6672 §2.4); move these records or drop the DNAME"
                ));
            }
            if let Some(ns) = p.get(rtype::NS)
                && key.as_slice() != origin
                && let Some(cut) = closest_ancestor_in(&key, origin.len(), cuts)
            {
                let owner = relative(&key, origin);
                let c = relative(cut, origin);
                self.err_at(
                    ns.at,
                    format!("NS records at '{owner}' are below the delegation at '{c}' and can never be answered"),
                )
                .hint = Some(format!(
                    "everything below '{c}' belongs to the child zone (RFC 1034 §4.2.1); delegate '{owner}' from that zone instead"
                ));
            }
        }
    }

    /// Every NS target inside the zone must have an address here, or resolvers cannot reach
    /// it; below a delegation point that address is the glue the referral needs (RFC 9471).
    fn check_glue(&mut self, zone: &Zone, ns_targets: &[(Pos, Box<[u8]>)]) {
        for (at, target) in ns_targets {
            let has_address = zone.node(target).is_some_and(|n| {
                n.get(rtype::A).is_some()
                    || n.get(rtype::AAAA).is_some()
                    || matches!(n.dynamic, Some(Dynamic::Addresses { .. }))
            });
            if has_address {
                continue;
            }
            let below_cut = matches!(zone.lookup(target, rtype::A), super::Lookup::Referral(_));
            let why = if below_cut {
                "it is at or below a delegation point, so the referral must carry its address (RFC 9471)"
            } else {
                "resolvers look its address up in this zone and would find none"
            };
            self.err_at(
                *at,
                format!(
                    "NS target {} is inside the zone but has no A or AAAA record (missing glue)",
                    to_text(target)
                ),
            )
            .hint = Some(format!(
                "{why}; add an address for it, e.g. \"{}\": {{ A: 192.0.2.53 }}",
                relative(target, &zone.origin)
            ));
        }
    }
}

fn dyn_name(d: &Dynamic) -> &'static str {
    match d {
        Dynamic::Addresses { .. } => "DYNA",
        Dynamic::Cname { .. } => "DYNC",
    }
}

/// The closest strict ancestor of `name` (lowercased) that is in `set`, looking only at
/// ancestors longer than `min_len` bytes (pass the origin's length to stop below the apex, one
/// less to include the apex). One hash probe per label: the walk is linear in the name.
fn closest_ancestor_in<'a>(
    name: &'a [u8],
    min_len: usize,
    set: &FxHashSet<Box<[u8]>>,
) -> Option<&'a [u8]> {
    let mut offs = [0u8; 128];
    let n = label_offsets(name, &mut offs);
    for &o in &offs[1..n] {
        let anc = &name[o as usize..];
        if anc.len() <= min_len {
            break;
        }
        if set.contains(anc) {
            return Some(anc);
        }
    }
    None
}

fn relative(name: &[u8], origin: &[u8]) -> String {
    let full = to_text(name);
    let o = to_text(origin);
    if o == "." {
        return full;
    }
    full.strip_suffix(&format!(".{o}"))
        .map(str::to_string)
        .unwrap_or(full)
}
