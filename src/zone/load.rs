//! Loading a zone YAML file into a [`Zone`], reporting every mistake with its position.
//!
//! The schema is the one in the design contract: `zone`, `ttl`, `soa`, `records`. Record data is
//! master-file presentation text, except TXT/SPF whose value is the text itself.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::rdata::{self, Rdata};
use super::{Dynamic, Node, RRset, Zone};
use crate::diag::{Diagnostic, Diagnostics};
use crate::wire::name::{from_text, is_subdomain, label_offsets, to_lower, to_text};
use crate::wire::{rtype, type_by_name};
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
/// Largest TTL allowed (RFC 2181 §8).
const MAX_TTL: u32 = 0x7FFF_FFFF;

/// Reads and loads one zone file.
pub fn load_zone_file(path: &Path, resources: &KnownResources) -> Result<Zone, Diagnostics> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::new(
            path,
            Default::default(),
            format!("cannot read zone file: {e}"),
        )
    })?;
    load_zone_text(&text, path, resources)
}

/// Loads a zone from YAML text; `path` is used in messages.
pub fn load_zone_text(
    text: &str,
    path: &Path,
    resources: &KnownResources,
) -> Result<Zone, Diagnostics> {
    let root = yaml::parse(text, path)?;
    let mut l = Loader {
        path,
        diags: Diagnostics::default(),
        resources,
    };
    let zone = l.zone(&root);
    match zone {
        Some(z) if l.diags.is_empty() => Ok(z),
        _ => {
            if l.diags.is_empty() {
                l.diags
                    .push(Diagnostic::new(path, root.pos, "zone could not be loaded"));
            }
            Err(l.diags)
        }
    }
}

struct Loader<'a> {
    path: &'a Path,
    diags: Diagnostics,
    resources: &'a KnownResources,
}

/// Builder state for one owner name while records are collected.
struct PendingNode {
    owner: Vec<u8>,
    key_node: Y,
    rrsets: Vec<(RRset, Y)>,
    dynamic: Option<(Dynamic, Y)>,
}

impl Loader<'_> {
    fn err(&mut self, at: &Y, msg: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::new(self.path, at.pos, msg));
        self.diags.0.last_mut().expect("just pushed")
    }

    fn u32_value(&mut self, n: &Y, what: &str, allow_units: bool) -> Option<u32> {
        let Some(s) = n.as_str() else {
            self.err(n, format!("{what} must be a number, found {}", n.shape()));
            return None;
        };
        let v = if allow_units {
            rdata::parse_ttl(s).ok()
        } else {
            s.parse().ok()
        };
        if v.is_none() {
            self.err(n, format!("{what} '{s}' is not a number")).hint = Some(if allow_units {
                "write seconds (3600) or a duration (1h, 30m, 2d)".into()
            } else {
                "write a whole number between 0 and 4294967295".into()
            });
        }
        v
    }

    fn ttl_value(&mut self, n: &Y, what: &str) -> Option<u32> {
        let v = self.u32_value(n, what, true)?;
        if v > MAX_TTL {
            self.err(
                n,
                format!("{what} {v} is larger than 2147483647 (RFC 2181)"),
            );
            return None;
        }
        Some(v)
    }

    fn zone(&mut self, root: &Y) -> Option<Zone> {
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
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
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
                    key_node: soa_node.clone(),
                    rrsets: Vec::new(),
                    dynamic: None,
                });
                index.insert(origin_lower.clone(), pending.len() - 1);
                pending.len() - 1
            }
        };
        pending[apex_idx]
            .rrsets
            .insert(0, (soa.clone(), soa_node.clone()));
        if pending[apex_idx]
            .rrsets
            .iter()
            .all(|(r, _)| r.rtype != rtype::NS)
        {
            let at = pending[apex_idx].key_node.clone();
            self.err(
                &at,
                format!("zone {name_text} has no NS records at its apex"),
            )
            .hint = Some("add NS records under \"@\", e.g. \"@\": { NS: [ns1, ns2] }".into());
        }

        self.check_node_rules(&pending);

        let mut nodes: rustc_hash::FxHashMap<Box<[u8]>, Node> = rustc_hash::FxHashMap::default();
        nodes.reserve(pending.len() * 2);
        for p in &pending {
            let key = to_lower(&p.owner);
            let node = Node {
                owner: p.owner.clone().into_boxed_slice(),
                rrsets: p.rrsets.iter().map(|(r, _)| r.clone()).collect(),
                dynamic: p.dynamic.as_ref().map(|(d, _)| d.clone()),
                cut: key != origin_lower && p.rrsets.iter().any(|(r, _)| r.rtype == rtype::NS),
                occluded: false,
            };
            nodes.insert(key.into_boxed_slice(), node);
        }
        // Empty non-terminals: every ancestor of an owner, up to the apex, exists.
        let owners: Vec<Vec<u8>> = pending.iter().map(|p| p.owner.clone()).collect();
        for owner in &owners {
            let mut offs = [0u8; 128];
            let n = label_offsets(owner, &mut offs);
            for &o in &offs[1..n] {
                let anc = &owner[o as usize..];
                if anc.len() <= origin.len() {
                    break;
                }
                let key = to_lower(anc).into_boxed_slice();
                nodes.entry(key).or_insert_with(|| Node {
                    owner: anc.to_vec().into_boxed_slice(),
                    ..Default::default()
                });
            }
        }
        // Names below a delegation are only glue.
        let cuts: Vec<Box<[u8]>> = nodes
            .iter()
            .filter(|(_, n)| n.cut)
            .map(|(k, _)| k.clone())
            .collect();
        if !cuts.is_empty() {
            for (k, n) in nodes.iter_mut() {
                n.occluded = cuts.iter().any(|c| k != c && is_subdomain(k, c));
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
        self.check_glue(&zone, &pending);
        Some(zone)
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
                    let r = if key == "serial" {
                        l.u32_value(v, "soa serial", false)
                    } else {
                        l.ttl_value(v, &format!("soa {key}"))
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
        index: &mut HashMap<Vec<u8>, usize>,
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
                );
                i
            }
            None => {
                pending.push(PendingNode {
                    owner: owner.clone(),
                    key_node: k.clone(),
                    rrsets: Vec::new(),
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
                );
                continue;
            }
            if matches!(
                t,
                rtype::OPT | rtype::AXFR | rtype::IXFR | rtype::ANY | rtype::MAILA | rtype::MAILB
            ) {
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
            let mut set = RRset {
                rtype: t,
                ttl,
                rdata: Vec::new(),
            };
            let items = data.one_or_many();
            if items.is_empty() {
                self.err(data, format!("{tname} has no data"));
                continue;
            }
            for item in items {
                if let Some(rd) = self.rdata(t, tname, item, origin)
                    && !set.rdata.contains(&rd)
                {
                    set.rdata.push(rd);
                }
            }
            if t == rtype::CNAME && set.rdata.len() > 1 {
                self.err(data, "a name can have only one CNAME record");
            }
            if set.rdata.is_empty() {
                continue;
            }
            // `A` and `TYPE1` are the same type: merge them into one RRset (RFC 2181 §5).
            if let Some((existing, _)) = pending[idx].rrsets.iter_mut().find(|(r, _)| r.rtype == t)
            {
                existing.ttl = existing.ttl.min(set.ttl);
                for rd in set.rdata {
                    if !existing.rdata.contains(&rd) {
                        existing.rdata.push(rd);
                    }
                }
            } else {
                pending[idx].rrsets.push((set, tk.clone()));
            }
        }
    }

    fn rdata(&mut self, t: u16, tname: &str, item: &Y, origin: &[u8]) -> Option<Rdata> {
        if matches!(t, rtype::TXT | rtype::SPF) {
            return match &item.kind {
                Kind::Scalar { text, .. } => {
                    if text.starts_with("\\# ") || text == "\\#" {
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
            self.err(tk, "a name can have only one of DYNA and DYNC");
            return;
        }
        node.dynamic = Some((d, tk.clone()));
    }

    /// Rules between the record sets of one name (RFC 1034 §3.6.2, RFC 2181 §10.1).
    fn check_node_rules(&mut self, pending: &[PendingNode]) {
        for p in pending {
            let has = |t: u16| p.rrsets.iter().find(|(r, _)| r.rtype == t);
            if let Some((_, at)) = has(rtype::CNAME) {
                let others = p.rrsets.len() > 1 || p.dynamic.is_some();
                if others {
                    let names: Vec<&str> = p
                        .rrsets
                        .iter()
                        .filter(|(r, _)| r.rtype != rtype::CNAME)
                        .map(|(r, _)| crate::wire::type_name(r.rtype).unwrap_or("other"))
                        .chain(p.dynamic.iter().map(|(d, _)| match d {
                            Dynamic::Addresses { .. } => "DYNA",
                            Dynamic::Cname { .. } => "DYNC",
                        }))
                        .collect();
                    self.err(at, format!("CNAME cannot stand beside other data (this name also has {})", names.join(", ")))
                        .hint = Some("a name with a CNAME can have no other records (RFC 1034 §3.6.2); move the other records or drop the CNAME".into());
                }
            }
            if let Some((d, at)) = &p.dynamic {
                let conflict: Vec<&str> = p
                    .rrsets
                    .iter()
                    .filter(|(r, _)| match d {
                        Dynamic::Addresses { .. } => {
                            matches!(r.rtype, rtype::A | rtype::AAAA | rtype::NS)
                        }
                        Dynamic::Cname { .. } => r.rtype != rtype::CNAME,
                    })
                    .map(|(r, _)| crate::wire::type_name(r.rtype).unwrap_or("other"))
                    .collect();
                if !conflict.is_empty() {
                    let which = if matches!(d, Dynamic::Addresses { .. }) {
                        "DYNA"
                    } else {
                        "DYNC"
                    };
                    self.err(
                        at,
                        format!(
                            "{which} cannot stand beside {} at the same name",
                            conflict.join(", ")
                        ),
                    )
                    .hint = Some(if which == "DYNA" {
                        "DYNA answers A and AAAA itself; remove the static address records".into()
                    } else {
                        "DYNC answers with a CNAME, which cannot share a name with other data"
                            .into()
                    });
                }
            }
        }
    }

    /// Every NS target inside the zone must have an address here, or resolvers cannot reach it.
    fn check_glue(&mut self, zone: &Zone, pending: &[PendingNode]) {
        for p in pending {
            for (set, at) in &p.rrsets {
                if set.rtype != rtype::NS {
                    continue;
                }
                for rd in &set.rdata {
                    let Some(target) = rd.target.as_deref() else {
                        continue;
                    };
                    if !zone.contains(target) {
                        continue;
                    }
                    let has_address = zone.node(target).is_some_and(|n| {
                        n.get(rtype::A).is_some()
                            || n.get(rtype::AAAA).is_some()
                            || matches!(n.dynamic, Some(Dynamic::Addresses { .. }))
                    });
                    if !has_address {
                        self.err(at, format!("NS target {} is inside the zone but has no A or AAAA record (missing glue)", to_text(target)))
                            .hint = Some(format!("add an address for it, e.g. \"{}\": {{ A: 192.0.2.53 }}", relative(target, &zone.origin)));
                    }
                }
            }
        }
    }
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
