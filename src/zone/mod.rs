//! Zone data shaped for answering, and the RFC 1034 §4.3.2 lookup.
//!
//! A zone is a hash map from lowercased encoded owner names to [`Node`]s. The map uses the Fx
//! hash, not SipHash: keys are the operator's own names, so there is nothing for an attacker
//! to flood, and SipHash was a quarter of the per-query instructions (callgrind). At load time every
//! ancestor of every owner is added (empty non-terminals), delegation points and the names
//! below them are flagged, and the negative TTL is computed, so a lookup is a handful of hash
//! probes walking down from the apex.

pub mod load;
pub mod rdata;

use rustc_hash::FxHashMap;
use std::path::PathBuf;

use crate::wire::name::{MAX_NAME_LEN, is_subdomain, label_offsets};
use crate::wire::rtype;
pub use rdata::Rdata;

/// A set of records with the same owner and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RRset {
    /// Record type.
    pub rtype: u16,
    /// Time to live of every record in the set (RFC 2181 §5.2).
    pub ttl: u32,
    /// The records' data, in configuration order.
    pub rdata: Vec<Rdata>,
}

/// A name whose answer is computed per query from a GSLB resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dynamic {
    /// `DYNA: resource`: A/AAAA chosen per query.
    Addresses {
        /// Index of the resource in the configuration.
        resource: usize,
    },
    /// `DYNC: resource`: a CNAME chosen per query.
    Cname {
        /// Index of the resource in the configuration.
        resource: usize,
    },
}

/// Everything stored at one owner name.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// The owner name, encoded, in the case the operator wrote it.
    pub owner: Box<[u8]>,
    /// Static record sets.
    pub rrsets: Vec<RRset>,
    /// Per-query answer from a resource, if configured.
    pub dynamic: Option<Dynamic>,
    /// A delegation point: NS records below the apex.
    pub cut: bool,
    /// Below a delegation point: only visible as glue.
    pub occluded: bool,
}

impl Node {
    /// The record set of a type, if present.
    pub fn get(&self, t: u16) -> Option<&RRset> {
        self.rrsets.iter().find(|r| r.rtype == t)
    }

    /// Whether the node holds no data at all (an empty non-terminal).
    pub fn is_empty(&self) -> bool {
        self.rrsets.is_empty() && self.dynamic.is_none()
    }
}

/// An authoritative zone.
#[derive(Debug)]
pub struct Zone {
    /// Apex, lowercased and encoded.
    pub origin: Box<[u8]>,
    /// Apex as the operator wrote it, for messages.
    pub name: String,
    /// File the zone was loaded from.
    pub file: PathBuf,
    /// The apex SOA record set.
    pub soa: RRset,
    /// TTL of the SOA in negative answers: min(SOA TTL, SOA minimum) (RFC 2308 §5).
    pub negative_ttl: u32,
    /// Labels in the origin (root label included), so lookups need not count them.
    pub origin_labels: usize,
    nodes: FxHashMap<Box<[u8]>, Node>,
}

/// Where a lookup ended.
#[derive(Debug)]
pub enum Lookup<'z> {
    /// The name exists (possibly as an empty non-terminal).
    Found(&'z Node),
    /// The name does not exist but a wildcard covers it; answer with the query name as owner.
    Wildcard(&'z Node),
    /// The name is at or below a delegation point: refer to the child's servers.
    Referral(&'z Node),
    /// An ancestor owns a DNAME: substitute its target (RFC 6672).
    Dname(&'z Node),
    /// The name does not exist.
    NxDomain,
}

impl Zone {
    /// The apex node.
    pub fn apex(&self) -> &Node {
        self.nodes
            .get(&self.origin)
            .expect("a loaded zone always has its apex node")
    }

    /// The node of an exact (lowercased, encoded) name, without wildcard or delegation logic.
    pub fn node(&self, lower: &[u8]) -> Option<&Node> {
        self.nodes.get(lower)
    }

    /// Every node, for tooling (explain, checks, statistics).
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// Whether a (lowercased, encoded) name is in this zone.
    pub fn contains(&self, lower: &[u8]) -> bool {
        is_subdomain(lower, &self.origin)
    }

    /// Finds the answer for `qname` (lowercased, encoded, inside this zone), RFC 1034 §4.3.2.
    ///
    /// `qtype` only matters for DS, which is answered by the parent side of a delegation.
    pub fn lookup(&self, qname: &[u8], qtype: u16) -> Lookup<'_> {
        let mut offsets = [0u8; 128];
        let labels = label_offsets(qname, &mut offsets);
        let origin_labels = self.origin_labels;
        // Walk from the apex's child down to the query name. Label i of the query name starts
        // the suffix that is the i-th ancestor from the left.
        let below_apex = labels.saturating_sub(origin_labels);
        let mut closest: &Node = self.apex();
        let mut closest_key: &[u8] = &self.origin;
        if below_apex > 0 && closest.get(rtype::DNAME).is_some() {
            return Lookup::Dname(closest);
        }
        for depth in (0..below_apex).rev() {
            let suffix = &qname[offsets[depth] as usize..];
            let Some(node) = self.nodes.get(suffix) else {
                return self.wildcard(closest_key);
            };
            let is_qname = depth == 0;
            if node.cut && !(is_qname && qtype == rtype::DS) {
                return Lookup::Referral(node);
            }
            if !is_qname && node.get(rtype::DNAME).is_some() {
                return Lookup::Dname(node);
            }
            closest = node;
            closest_key = suffix;
        }
        Lookup::Found(closest)
    }

    fn wildcard(&self, ce: &[u8]) -> Lookup<'_> {
        let mut buf = [0u8; MAX_NAME_LEN + 2];
        if ce.len() + 2 > MAX_NAME_LEN {
            return Lookup::NxDomain;
        }
        buf[0] = 1;
        buf[1] = b'*';
        buf[2..2 + ce.len()].copy_from_slice(ce);
        match self.nodes.get(&buf[..2 + ce.len()]) {
            Some(node) => Lookup::Wildcard(node),
            None => Lookup::NxDomain,
        }
    }
}

/// All zones we are authoritative for.
#[derive(Debug, Default)]
pub struct ZoneSet {
    zones: Vec<Zone>,
    by_origin: FxHashMap<Box<[u8]>, usize>,
}

impl ZoneSet {
    /// Adds a zone; the caller has checked for duplicates.
    pub fn insert(&mut self, zone: Zone) {
        self.by_origin.insert(zone.origin.clone(), self.zones.len());
        self.zones.push(zone);
    }

    /// The zone with exactly this (lowercased, encoded) origin.
    pub fn get(&self, origin: &[u8]) -> Option<&Zone> {
        self.by_origin.get(origin).map(|&i| &self.zones[i])
    }

    /// The most specific zone containing `qname` (lowercased, encoded).
    pub fn find(&self, qname: &[u8]) -> Option<&Zone> {
        let mut i = 0usize;
        loop {
            if let Some(&z) = self.by_origin.get(&qname[i..]) {
                return Some(&self.zones[z]);
            }
            let l = *qname.get(i)? as usize;
            if l == 0 {
                return None;
            }
            i += l + 1;
        }
    }

    /// All zones, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &Zone> {
        self.zones.iter()
    }

    /// Number of zones.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// Whether there are no zones.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }
}
