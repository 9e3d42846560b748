//! BGP RIB dumps in MRT format (RFC 6396): the routes a route server, BIRD or GoBGP had in its
//! table, as `(prefix, peer AS, origin AS)` entries a geo map's `bgp` rules choose from.
//!
//! Only RIB records are read: TABLE_DUMP_V2 `PEER_INDEX_TABLE` and `RIB_IPV4_UNICAST` /
//! `RIB_IPV6_UNICAST` (and their ADD-PATH variants, RFC 8050), and legacy TABLE_DUMP records.
//! Multicast, `RIB_GENERIC` and geo-peer records are skipped; BGP4MP (an updates stream, not
//! a table) is an error, as is anything that is not MRT, an empty file, a dump cut short, and
//! a compressed one (this build reads plain MRT only). Records are framed here, before
//! `bgpkit-parser` parses them, so a truncated dump is reported instead of read as shorter.
//!
//! The origin AS is the last AS of the AS path's final `AS_SEQUENCE`, as RFC 6811 §2 defines
//! it for origin validation. When it cannot be told (an empty path, i.e. a route the dumping
//! router originated itself, or a path ending in an `AS_SET` from aggregation, or in a
//! confederation segment) the origin is 0, which no `origin_asn` rule matches: an aggregate
//! of several origins belongs to none of them. Such routes can still match by `peer_asn`.
//! Default routes (`0.0.0.0/0`, `::/0`) are never returned: taken by a rule they would send
//! every client to one partner.

use std::io::Cursor;
use std::net::IpAddr;
use std::path::Path;

use bgpkit_parser::models::{
    AsPath, AsPathSegment, Attributes, MrtMessage, NetworkPrefix, PeerIndexTable,
    TableDumpV2Message,
};

/// One route of a RIB dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RibRoute {
    /// Network address (host bits as written in the dump).
    pub addr: IpAddr,
    /// Prefix length.
    pub len: u8,
    /// AS of the BGP peer the route was learned from.
    pub peer_asn: u32,
    /// Origin AS (see the module documentation; 0 when it cannot be told).
    pub origin_asn: u32,
}

/// What one geo map took from one dump, for `explain` and status (see
/// `Gslb::bgp_dumps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpDumpUse {
    /// The geo map.
    pub map: String,
    /// The dump, as the configuration names it (joined to the server file's directory).
    pub dump: std::path::PathBuf,
    /// Routes read from the dump (RIB entries, every peer's, default routes left out).
    pub routes: usize,
    /// Prefixes the map took from this dump: matched by a rule and not already taken from an
    /// earlier dump of the same map.
    pub prefixes: usize,
}

/// Why a dump could not be read: a one-sentence message (naming the file) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpError {
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

const ENTRY_TABLE_DUMP: u16 = 12;
const ENTRY_TABLE_DUMP_V2: u16 = 13;
const ENTRY_BGP4MP: u16 = 16;
const ENTRY_BGP4MP_ET: u16 = 17;
/// TABLE_DUMP_V2 subtypes read: PEER_INDEX_TABLE and the unicast RIBs (with ADD-PATH).
const SUBTYPE_PEER_INDEX: u16 = 1;
const SUBTYPES_UNICAST: [u16; 4] = [2, 4, 8, 10];
const HEADER_LEN: usize = 12;

const HINT_DUMP: &str = "point 'dump' at an MRT TABLE_DUMP_V2 RIB dump (BIRD 'protocol mrt', \
GoBGP 'gobgp mrt dump rib', a route server's RIB export)";
const HINT_TRUNCATED: &str = "the dump was cut short (still being written, or copied \
partially): have the exporter write a temporary file and rename it into place";

/// Reads the RIB dump at `path` (see the module documentation for what is read); it must be a
/// regular file of at most `limit` bytes (see [`crate::fsread`]).
pub fn read_rib(path: &Path, limit: u64) -> Result<Vec<RibRoute>, DumpError> {
    let bytes = crate::fsread::read_bounded(path, limit).map_err(|e| match e {
        crate::fsread::ReadError::Io(_) => DumpError {
            message: format!("cannot read BGP dump {}: {e}", path.display()),
            hint: "paths are relative to the server file's directory".into(),
        },
        _ => DumpError {
            message: format!("BGP dump {}: {e}", path.display()),
            hint: e.hint().unwrap_or_default().into(),
        },
    })?;
    parse_rib(&bytes).map_err(|(message, hint)| DumpError {
        message: format!("BGP dump {}: {message}", path.display()),
        hint,
    })
}

/// Parses a whole RIB dump held in memory; the error is (message, hint) without the file name.
pub fn parse_rib(bytes: &[u8]) -> Result<Vec<RibRoute>, (String, String)> {
    if bytes.is_empty() {
        return Err(("the file is empty".into(), HINT_DUMP.into()));
    }
    if bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(b"BZh") {
        let (kind, tool) = if bytes[0] == 0x1f {
            ("gzip", "gunzip")
        } else {
            ("bzip2", "bunzip2")
        };
        return Err((
            format!("the file is {kind}-compressed; compressed dumps are not read"),
            format!("decompress it first ({tool} -k FILE) and name the plain file in 'dump'"),
        ));
    }
    let mut out = Vec::new();
    let mut peers: Option<PeerIndexTable> = None;
    let mut rib_records = 0usize;
    let mut off = 0usize;
    while off < bytes.len() {
        let rest = &bytes[off..];
        let be16 = |i: usize| u16::from_be_bytes([rest[i], rest[i + 1]]);
        let entry_type = if rest.len() >= 6 { be16(4) } else { 0 };
        match entry_type {
            ENTRY_TABLE_DUMP | ENTRY_TABLE_DUMP_V2 => {}
            ENTRY_BGP4MP | ENTRY_BGP4MP_ET => {
                return Err((
                    format!(
                        "holds BGP4MP messages (an updates stream) at byte {off}, not a RIB table"
                    ),
                    HINT_DUMP.into(),
                ));
            }
            _ if off == 0 => {
                return Err((
                    "not an MRT file (its first bytes are no MRT record header)".into(),
                    HINT_DUMP.into(),
                ));
            }
            _ if rest.len() >= HEADER_LEN => {
                return Err((
                    format!(
                        "unknown MRT record type {entry_type} at byte {off}: not a RIB dump, \
                         or corrupt"
                    ),
                    HINT_DUMP.into(),
                ));
            }
            _ => {}
        }
        if rest.len() < HEADER_LEN {
            return Err((
                format!(
                    "truncated: {} bytes at byte {off} are not a whole MRT record header",
                    rest.len()
                ),
                HINT_TRUNCATED.into(),
            ));
        }
        let subtype = be16(6);
        let body = u32::from_be_bytes([rest[8], rest[9], rest[10], rest[11]]) as usize;
        if rest.len() - HEADER_LEN < body {
            return Err((
                format!(
                    "truncated: the record at byte {off} declares {body} bytes, only {} follow",
                    rest.len() - HEADER_LEN
                ),
                HINT_TRUNCATED.into(),
            ));
        }
        if entry_type == ENTRY_TABLE_DUMP_V2
            && subtype != SUBTYPE_PEER_INDEX
            && !SUBTYPES_UNICAST.contains(&subtype)
        {
            // Multicast, RIB_GENERIC, GEO_PEER_TABLE: not client networks.
            off += HEADER_LEN + body;
            continue;
        }
        // The parser sees this record only: what it reads is what the header declared.
        let mut cursor = Cursor::new(&rest[..HEADER_LEN + body]);
        let record = bgpkit_parser::parse_mrt_record(&mut cursor).map_err(|e| {
            let e = e.to_string();
            (
                format!(
                    "bad MRT record at byte {off}: {}",
                    e.strip_prefix("Error: ").unwrap_or(&e)
                ),
                HINT_DUMP.into(),
            )
        })?;
        off += HEADER_LEN + body;
        rib_records += 1;
        match record.message {
            MrtMessage::TableDumpV2Message(TableDumpV2Message::PeerIndexTable(t)) => {
                peers = Some(t);
            }
            MrtMessage::TableDumpV2Message(TableDumpV2Message::RibAfi(rib)) => {
                let Some(table) = &peers else {
                    return Err((
                        "RIB records come before the PEER_INDEX_TABLE record".into(),
                        HINT_DUMP.into(),
                    ));
                };
                let net = rib.prefix;
                for e in &rib.rib_entries {
                    let Some(peer) = table.id_peer_map.get(&e.peer_index) else {
                        return Err((
                            format!(
                                "a RIB entry for {net} names peer {} that the PEER_INDEX_TABLE \
                                 does not list",
                                e.peer_index
                            ),
                            HINT_DUMP.into(),
                        ));
                    };
                    push(&mut out, net, peer.peer_asn.into(), &e.attributes);
                }
            }
            MrtMessage::TableDumpMessage(m) => {
                push(&mut out, m.prefix, m.peer_asn.into(), &m.attributes);
            }
            MrtMessage::TableDumpMessageBatch(v) => {
                for m in v {
                    push(&mut out, m.prefix, m.peer_asn.into(), &m.attributes);
                }
            }
            _ => {}
        }
    }
    if rib_records == 0 {
        return Err((
            "holds no RIB records (no PEER_INDEX_TABLE, no TABLE_DUMP entry)".into(),
            HINT_DUMP.into(),
        ));
    }
    Ok(out)
}

/// Adds the route to `prefix` learned from `peer_asn` with `attrs`, unless it is a default
/// route.
fn push(out: &mut Vec<RibRoute>, prefix: NetworkPrefix, peer_asn: u32, attrs: &Attributes) {
    let (addr, len) = (prefix.prefix.addr(), prefix.prefix.prefix_len());
    if len == 0 {
        return;
    }
    let path = match (attrs.as_path(), attrs.as4_path()) {
        (Some(p), Some(p4)) => Some(AsPath::merge_aspath_as4path(p, p4)),
        (Some(p), None) => Some(p.clone()),
        (None, p4) => p4.cloned(),
    };
    out.push(RibRoute {
        addr,
        len,
        peer_asn,
        origin_asn: path.as_ref().map_or(0, origin_asn),
    });
}

/// The last AS of the final `AS_SEQUENCE`; 0 for an empty path or one ending in a set or a
/// confederation segment (RFC 6811 §2).
pub fn origin_asn(path: &AsPath) -> u32 {
    match path.segments.last() {
        Some(AsPathSegment::AsSequence(v)) => v.last().map_or(0, |a| (*a).into()),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgpkit_parser::BgpElem;
    use bgpkit_parser::encoder::MrtRibEncoder;

    fn elem(prefix: &str, peer: u32, path: &[u32]) -> BgpElem {
        BgpElem {
            peer_ip: "192.0.2.1".parse().unwrap(),
            peer_asn: peer.into(),
            prefix: prefix.parse().unwrap(),
            as_path: Some(AsPath::from_sequence(path)),
            next_hop: Some("192.0.2.1".parse().unwrap()),
            ..Default::default()
        }
    }

    fn encode(elems: &[BgpElem]) -> Vec<u8> {
        let mut enc = MrtRibEncoder::new();
        for e in elems {
            enc.process_elem(e).unwrap();
        }
        enc.export_bytes().unwrap().to_vec()
    }

    #[test]
    fn reads_prefixes_peers_and_origins() {
        let bytes = encode(&[
            elem("198.51.100.0/24", 64500, &[64500, 64510, 64501]),
            elem("2001:db8:1::/48", 64500, &[64500]),
            elem("203.0.113.0/25", 64500, &[]),
        ]);
        let mut got = parse_rib(&bytes).unwrap();
        got.sort_by_key(|r| (r.addr, r.len));
        let want = [
            ("198.51.100.0", 24, 64500, 64501),
            ("203.0.113.0", 25, 64500, 0),
            ("2001:db8:1::", 48, 64500, 64500),
        ];
        let want: Vec<RibRoute> = want
            .iter()
            .map(|&(a, len, peer_asn, origin_asn)| RibRoute {
                addr: a.parse().unwrap(),
                len,
                peer_asn,
                origin_asn,
            })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn origin_is_last_as_of_the_final_sequence() {
        assert_eq!(origin_asn(&AsPath::from_sequence([1, 2, 3])), 3);
        assert_eq!(origin_asn(&AsPath::from_sequence::<[u32; 0]>([])), 0);
        let set = AsPath::from_segments(vec![
            AsPathSegment::sequence([1, 2]),
            AsPathSegment::set([3, 4]),
        ]);
        assert_eq!(origin_asn(&set), 0, "an aggregate has no single origin");
    }

    #[test]
    fn default_route_is_not_returned() {
        let bytes = encode(&[
            elem("0.0.0.0/0", 64500, &[64500]),
            elem("198.51.100.0/24", 64500, &[64500]),
        ]);
        let got = parse_rib(&bytes).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].len, 24);
    }

    #[test]
    fn add_path_ribs_are_read_and_updates_files_refused() {
        let mut e = elem("198.51.100.0/24", 64500, &[64500, 64501]);
        e.prefix.path_id = Some(7);
        let got = parse_rib(&encode(&[e.clone()])).unwrap();
        assert_eq!((got.len(), got[0].origin_asn), (1, 64501));

        let mut updates = bgpkit_parser::encoder::MrtUpdatesEncoder::new();
        e.prefix.path_id = None;
        updates.process_elem(&e);
        let (msg, _) = parse_rib(&updates.export_bytes().unwrap()).unwrap_err();
        assert!(msg.contains("BGP4MP"), "{msg}");
    }

    #[test]
    fn broken_files_are_errors() {
        let bytes = encode(&[
            elem("198.51.100.0/24", 64500, &[64500]),
            elem("203.0.113.0/24", 64500, &[64500]),
        ]);
        for cut in [40, bytes.len() - 3] {
            let (msg, _) = parse_rib(&bytes[..cut]).unwrap_err();
            assert!(msg.starts_with("truncated"), "cut at {cut}: {msg}");
        }
        assert!(parse_rib(b"").unwrap_err().0.contains("empty"));
        // A cut inside the first header leaves too little to tell MRT from anything else.
        assert!(
            parse_rib(&bytes[..5])
                .unwrap_err()
                .0
                .starts_with("not an MRT")
        );
        let second = 12 + u32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize;
        let (msg, _) = parse_rib(&bytes[..second + 7]).unwrap_err();
        assert!(msg.starts_with("truncated: 7 bytes at byte"), "{msg}");
        let (msg, _) = parse_rib(b"hello, this is not a dump at all\n").unwrap_err();
        assert!(msg.starts_with("not an MRT file"), "{msg}");
        let (msg, hint) = parse_rib(&[0x1f, 0x8b, 8, 0, 0, 0]).unwrap_err();
        assert!(msg.contains("gzip-compressed"), "{msg}");
        assert!(hint.contains("gunzip"), "{hint}");
        assert!(parse_rib(b"BZh91AY&SY").unwrap_err().0.contains("bzip2"));
    }
}
