//! Parsing an incoming query into a borrowed, allocation-free view.
//!
//! The parser decides what kind of reply a packet deserves before any lookup happens: silence
//! (responses and runts), FORMERR, NOTIMP, BADVERS, or a normal lookup. Everything it accepts is
//! bounds-checked; nothing from the network can make it panic.

use std::net::IpAddr;

use crate::cookie::Cookie;

use super::name::{MAX_NAME_LEN, read_name_lower, skip_name};
use super::{HEADER_LEN, flag, opt, rtype};

/// The single question of a query.
#[derive(Clone)]
pub struct Question<'a> {
    /// The question exactly as it was sent (name, type, class), echoed back verbatim so the
    /// client sees its own spelling of the name (RFC 1035 §7.3 "0x20" resolvers rely on it).
    pub raw: &'a [u8],
    /// Encoded name length within `raw`.
    pub name_len: usize,
    /// Lowercased encoded name, for lookups.
    pub lower: [u8; MAX_NAME_LEN],
    /// Query type.
    pub qtype: u16,
    /// Query class.
    pub qclass: u16,
}

impl Question<'_> {
    /// The name as sent (encoded, original case).
    pub fn name(&self) -> &[u8] {
        &self.raw[..self.name_len]
    }

    /// The lowercased encoded name.
    pub fn lower_name(&self) -> &[u8] {
        &self.lower[..self.name_len]
    }
}

/// EDNS Client Subnet option from a query (RFC 7871).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSubnet {
    /// Address family number (1 = IPv4, 2 = IPv6).
    pub family: u16,
    /// How many leading bits of `address` the client disclosed.
    pub source_prefix: u8,
    /// The disclosed address, bits beyond `source_prefix` zero.
    pub address: IpAddr,
}

/// EDNS0 parameters of a query (RFC 6891).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edns {
    /// The requester's UDP payload size (values under 512 are treated as 512).
    pub payload: u16,
    /// EDNS version; only 0 exists.
    pub version: u8,
    /// DNSSEC OK bit, echoed in the reply.
    pub dnssec_ok: bool,
    /// Client subnet, when the query carried a valid one.
    pub client_subnet: Option<ClientSubnet>,
    /// DNS cookie (RFC 7873), when the query carried a well-formed one.
    pub cookie: Option<Cookie>,
}

/// A parsed query that deserves an answer of some kind.
pub struct Query<'a> {
    /// Message ID, echoed.
    pub id: u16,
    /// The query's flags word (opcode, RD, CD are echoed from it).
    pub flags: u16,
    /// The question; absent when the query had none (then the reply is FORMERR or NOTIMP).
    pub question: Option<Question<'a>>,
    /// EDNS, when the query had a valid OPT record.
    pub edns: Option<Edns>,
}

impl Query<'_> {
    /// The 4-bit opcode.
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xF) as u8
    }
}

/// What the parser concluded about a packet.
pub enum Parsed<'a> {
    /// Not a query we may answer (a response, or shorter than a header): stay silent.
    Drop,
    /// A well-formed query to look up.
    Query(Query<'a>),
    /// A malformed query: answer FORMERR with what could be salvaged.
    FormErr(Query<'a>),
    /// An opcode we do not implement.
    NotImp(Query<'a>),
    /// EDNS version other than 0: answer BADVERS.
    BadVers(Query<'a>),
}

fn u16_at(msg: &[u8], pos: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.get(pos)?, *msg.get(pos + 1)?]))
}

/// Classifies and parses an incoming packet.
pub fn parse(msg: &[u8]) -> Parsed<'_> {
    if msg.len() < HEADER_LEN {
        return Parsed::Drop;
    }
    let id = u16::from_be_bytes([msg[0], msg[1]]);
    let flags = u16::from_be_bytes([msg[2], msg[3]]);
    if flags & flag::QR != 0 {
        return Parsed::Drop;
    }
    let qdcount = u16::from_be_bytes([msg[4], msg[5]]);
    let ancount = u16::from_be_bytes([msg[6], msg[7]]);
    let nscount = u16::from_be_bytes([msg[8], msg[9]]);
    let arcount = u16::from_be_bytes([msg[10], msg[11]]);
    let mut query = Query {
        id,
        flags,
        question: None,
        edns: None,
    };
    let opcode = query.opcode();

    if qdcount > 1 {
        return Parsed::FormErr(query);
    }
    let mut pos = HEADER_LEN;
    if qdcount == 1 {
        match parse_question(msg, pos) {
            Some((q, next)) => {
                query.question = Some(q);
                pos = next;
            }
            None => {
                return if opcode != 0 {
                    Parsed::NotImp(query)
                } else {
                    Parsed::FormErr(query)
                };
            }
        }
    }
    if opcode != 0 {
        return Parsed::NotImp(query);
    }
    if qdcount == 0 {
        return Parsed::FormErr(query);
    }

    // Skip answer and authority records; a query should have none, but tolerating them is
    // harmless and some tools send them.
    for _ in 0..(ancount as u32 + nscount as u32) {
        match skip_rr(msg, pos) {
            Some(next) => pos = next,
            None => return Parsed::FormErr(query),
        }
    }
    let mut edns_seen = false;
    let mut bad_version = false;
    for _ in 0..arcount {
        let Ok(after_name) = skip_name(msg, pos) else {
            return Parsed::FormErr(query);
        };
        let (Some(rrtype), Some(class)) = (u16_at(msg, after_name), u16_at(msg, after_name + 2))
        else {
            return Parsed::FormErr(query);
        };
        let Some(rdlen) = u16_at(msg, after_name + 8) else {
            return Parsed::FormErr(query);
        };
        let rdata_start = after_name + 10;
        let rdata_end = rdata_start + rdlen as usize;
        if rdata_end > msg.len() {
            return Parsed::FormErr(query);
        }
        if rrtype == rtype::OPT {
            // RFC 6891 §6.1.1: one OPT, owned by the root.
            if edns_seen || after_name != pos + 1 || msg[pos] != 0 {
                query.edns = None;
                return Parsed::FormErr(query);
            }
            edns_seen = true;
            let version = msg[after_name + 5];
            let dnssec_ok = msg[after_name + 6] & 0x80 != 0;
            let mut edns = Edns {
                payload: class.max(512),
                version,
                dnssec_ok,
                client_subnet: None,
                cookie: None,
            };
            if version != 0 {
                bad_version = true;
            } else {
                match parse_options(&msg[rdata_start..rdata_end]) {
                    Ok((ecs, cookie)) => {
                        edns.client_subnet = ecs;
                        edns.cookie = cookie;
                    }
                    Err(()) => {
                        query.edns = Some(edns);
                        return Parsed::FormErr(query);
                    }
                }
            }
            query.edns = Some(edns);
        }
        pos = rdata_end;
    }
    if bad_version {
        return Parsed::BadVers(query);
    }
    Parsed::Query(query)
}

fn parse_question(msg: &[u8], pos: usize) -> Option<(Question<'_>, usize)> {
    let mut lower = [0u8; MAX_NAME_LEN];
    let (name_len, after) = read_name_lower(msg, pos, &mut lower).ok()?;
    // The question name starts right after the header, so a valid one never compresses.
    if after != pos + name_len {
        return None;
    }
    let qtype = u16_at(msg, after)?;
    let qclass = u16_at(msg, after + 2)?;
    Some((
        Question {
            raw: &msg[pos..after + 4],
            name_len,
            lower,
            qtype,
            qclass,
        },
        after + 4,
    ))
}

fn skip_rr(msg: &[u8], pos: usize) -> Option<usize> {
    let after = skip_name(msg, pos).ok()?;
    let rdlen = u16_at(msg, after + 8)? as usize;
    let end = after + 10 + rdlen;
    (end <= msg.len()).then_some(end)
}

/// Options of a query's OPT record that change the answer.
type Options = (Option<ClientSubnet>, Option<Cookie>);

/// Walks EDNS options; returns the client subnet and cookie if present. Malformed options are
/// an error, and so is a second ECS or COOKIE option (RFC 7873 §5.2.2: FORMERR).
fn parse_options(mut data: &[u8]) -> Result<Options, ()> {
    let mut ecs = None;
    let mut cookie = None;
    while !data.is_empty() {
        if data.len() < 4 {
            return Err(());
        }
        let code = u16::from_be_bytes([data[0], data[1]]);
        let len = u16::from_be_bytes([data[2], data[3]]) as usize;
        let body = data.get(4..4 + len).ok_or(())?;
        if code == opt::CLIENT_SUBNET {
            if ecs.is_some() {
                return Err(());
            }
            ecs = Some(parse_client_subnet(body)?);
        } else if code == opt::COOKIE {
            if cookie.is_some() {
                return Err(());
            }
            cookie = Some(Cookie::parse(body).ok_or(())?);
        }
        data = &data[4 + len..];
    }
    Ok((ecs, cookie))
}

fn parse_client_subnet(body: &[u8]) -> Result<ClientSubnet, ()> {
    if body.len() < 4 {
        return Err(());
    }
    let family = u16::from_be_bytes([body[0], body[1]]);
    let source_prefix = body[2];
    let addr_bytes = &body[4..];
    let max_bits = match family {
        1 => 32,
        2 => 128,
        _ => return Err(()),
    };
    if source_prefix > max_bits || addr_bytes.len() != (source_prefix as usize).div_ceil(8) {
        return Err(());
    }
    // RFC 7871 §6: bits beyond the source prefix must be zero.
    if let Some(&last) = addr_bytes.last() {
        let used = source_prefix % 8;
        if used != 0 && last & (0xFFu8 >> used) != 0 {
            return Err(());
        }
    }
    let address = if family == 1 {
        let mut b = [0u8; 4];
        b[..addr_bytes.len()].copy_from_slice(addr_bytes);
        IpAddr::from(b)
    } else {
        let mut b = [0u8; 16];
        b[..addr_bytes.len()].copy_from_slice(addr_bytes);
        IpAddr::from(b)
    };
    Ok(ClientSubnet {
        family,
        source_prefix,
        address,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &[u8], qtype: u16, extra: &[u8], arcount: u16) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(&arcount.to_be_bytes());
        m.extend_from_slice(name);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(extra);
        m
    }

    fn opt_rr(payload: u16, version: u8, options: &[u8]) -> Vec<u8> {
        let mut r = vec![0, 0, 41];
        r.extend_from_slice(&payload.to_be_bytes());
        r.extend_from_slice(&[0, version, 0x80, 0]);
        r.extend_from_slice(&(options.len() as u16).to_be_bytes());
        r.extend_from_slice(options);
        r
    }

    #[test]
    fn plain_query() {
        let m = query(b"\x03WwW\x07example\x00", 1, &[], 0);
        let Parsed::Query(q) = parse(&m) else {
            panic!("not a query")
        };
        let qu = q.question.unwrap();
        assert_eq!(qu.lower_name(), b"\x03www\x07example\x00");
        assert_eq!(qu.name(), b"\x03WwW\x07example\x00");
        assert_eq!(qu.qtype, 1);
        assert!(q.edns.is_none());
    }

    #[test]
    fn edns_and_ecs() {
        let ecs = [0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100];
        let m = query(b"\x00", 1, &opt_rr(4096, 0, &ecs), 1);
        let Parsed::Query(q) = parse(&m) else {
            panic!()
        };
        let e = q.edns.unwrap();
        assert_eq!(e.payload, 4096);
        assert!(e.dnssec_ok);
        let cs = e.client_subnet.unwrap();
        assert_eq!(cs.source_prefix, 24);
        assert_eq!(cs.address, "198.51.100.0".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn ecs_with_bits_beyond_prefix_is_formerr() {
        let ecs = [0, 8, 0, 7, 0, 1, 23, 0, 198, 51, 101];
        let m = query(b"\x00", 1, &opt_rr(4096, 0, &ecs), 1);
        assert!(matches!(parse(&m), Parsed::FormErr(_)));
    }

    /// RFC 7871 §7.1.1: an unknown family, a source prefix longer than the family, or an
    /// address field longer or shorter than the prefix needs is FORMERR; the valid neighbours
    /// of each case parse.
    #[test]
    fn malformed_ecs_options_are_formerr() {
        let cases: [(&[u8], bool); 8] = [
            (&[0, 3, 24, 0, 198, 51, 100], false),    // family 3
            (&[0, 1, 33, 0, 1, 2, 3, 4, 5], false),   // IPv4 /33
            (&[0, 2, 129, 0], false),                 // IPv6 /129 (and no address)
            (&[0, 1, 24, 0, 198, 51, 100, 0], false), // one address byte too many
            (&[0, 1, 24, 0, 198, 51], false),         // one too few
            (&[0, 1, 24], false),                     // shorter than the fixed part
            (&[0, 1, 32, 0, 198, 51, 100, 7], true),  // IPv4 /32
            (&[0, 2, 0, 0], true),                    // IPv6 /0
        ];
        for (body, ok) in cases {
            let mut opt = vec![0, 8, 0, body.len() as u8];
            opt.extend_from_slice(body);
            let m = query(b"\x00", 1, &opt_rr(4096, 0, &opt), 1);
            let formerr = matches!(parse(&m), Parsed::FormErr(_));
            assert_eq!(formerr, !ok, "{body:?}");
        }
    }

    /// RFC 7873 §5.2.2: a COOKIE option of 8 or 16..=40 bytes is parsed, any other length
    /// from 0 to 41 and a second COOKIE option make the query FORMERR (its OPT still seen).
    #[test]
    fn cookie_option_lengths_and_duplicates() {
        for n in 0..=41usize {
            let mut o = vec![0, 10, 0, n as u8];
            o.extend((0..n).map(|i| i as u8));
            let m = query(b"\x00", 1, &opt_rr(1232, 0, &o), 1);
            let ok = n == 8 || (16..=40).contains(&n);
            match parse(&m) {
                Parsed::Query(q) => {
                    assert!(ok, "{n}");
                    let c = q.edns.unwrap().cookie.unwrap();
                    assert_eq!(c.client, [0, 1, 2, 3, 4, 5, 6, 7]);
                    assert_eq!(c.server_cookie().len(), n - 8);
                }
                Parsed::FormErr(q) => {
                    assert!(!ok, "{n}");
                    assert!(q.edns.is_some_and(|e| e.cookie.is_none()), "{n}");
                }
                _ => panic!("{n}"),
            }
        }
        let mut two = vec![0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
        two.extend_from_slice(&two.clone());
        let m = query(b"\x00", 1, &opt_rr(1232, 0, &two), 1);
        assert!(matches!(parse(&m), Parsed::FormErr(_)));
        // With ECS beside it, both are kept.
        let mut both = vec![0, 8, 0, 4, 0, 1, 0, 0];
        both.extend_from_slice(&[0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
        let m = query(b"\x00", 1, &opt_rr(1232, 0, &both), 1);
        let Parsed::Query(q) = parse(&m) else {
            panic!()
        };
        let e = q.edns.unwrap();
        assert!(e.client_subnet.is_some() && e.cookie.is_some());
    }

    #[test]
    fn two_opts_formerr_and_badvers() {
        let mut extra = opt_rr(1232, 0, &[]);
        extra.extend(opt_rr(1232, 0, &[]));
        assert!(matches!(
            parse(&query(b"\x00", 1, &extra, 2)),
            Parsed::FormErr(_)
        ));
        assert!(matches!(
            parse(&query(b"\x00", 1, &opt_rr(1232, 1, &[]), 1)),
            Parsed::BadVers(_)
        ));
    }

    #[test]
    fn responses_and_runts_are_dropped() {
        let mut m = query(b"\x00", 1, &[], 0);
        m[2] |= 0x80;
        assert!(matches!(parse(&m), Parsed::Drop));
        assert!(matches!(parse(&m[..11]), Parsed::Drop));
    }

    #[test]
    fn truncated_question_and_opcodes() {
        let m = query(b"\x03www\x00", 1, &[], 0);
        assert!(matches!(parse(&m[..m.len() - 1]), Parsed::FormErr(_)));
        let mut n = m.clone();
        n[2] = 0x78; // opcode 15
        assert!(matches!(parse(&n), Parsed::NotImp(_)));
        let mut z = m.clone();
        z[5] = 0; // qdcount 0
        assert!(matches!(parse(&z), Parsed::FormErr(_)));
    }
}
