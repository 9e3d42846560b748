//! From a query packet to a response packet: the whole per-query path.
//!
//! [`respond`] parses the packet, picks the zone, walks the RFC 1034 §4.3.2 algorithm (CNAME
//! chains, wildcards, referrals, DNAME), and writes the sections, enforcing the UDP size limit
//! by truncation (TC=1, empty sections, OPT kept). It reads one snapshot, takes no locks and
//! allocates nothing: names live in stack buffers and the response goes into the caller's buffer.

use std::net::IpAddr;

use crate::cookie::{self, Status as CookieStatus};
use crate::gslb::members::{V4, V6};
use crate::gslb::pick::{Dice, MAX_PICK, Rotation};
use crate::gslb::resolve::{ClientInfo, Decision, NoTrace, Outcome as SelectOutcome};
use crate::gslb::rng::with_thread_rng;
use crate::rrl::{Class, Kind};
use crate::snapshot::Snapshot;
use crate::wire::name::MAX_NAME_LEN;
use crate::wire::query::{self, Edns, Parsed, Query, Question};
use crate::wire::writer::{Full, Section, Writer};
use crate::wire::{CLASSIC_UDP_LIMIT, MAX_MESSAGE, class, flag, opt, rcode, rtype};
use crate::zone::{Dynamic, Lookup, Node, RRset, Zone};

/// How the query arrived; decides the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: 512 bytes, or the EDNS payload size (capped by our own limit).
    Udp,
    /// TCP: up to 65535 bytes.
    Tcp,
}

/// Who asked, for GSLB decisions and logs.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    /// Source address of the packet.
    pub addr: IpAddr,
    /// How it arrived.
    pub transport: Transport,
}

/// Longest in-zone CNAME/DNAME chain we follow in one answer; a loop stops here too.
pub const MAX_CHAIN: usize = 5;

/// What the server needs to know about a response besides its bytes: its class for rate
/// limiting, what the query's cookie proved, and where the records start and the OPT record
/// sits, so a limited response can be cut down to its truncated form in place ([`slip`]).
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// The response's RCODE (extended bits included).
    pub rcode: u16,
    /// The rate limiting bucket class of the response.
    pub class: Class,
    /// What the query's COOKIE option said.
    pub cookie: CookieStatus,
    /// End of the header and question in the response.
    pub question_end: usize,
    /// Where the OPT record starts in the response, when there is one.
    pub opt_start: Option<usize>,
}

impl Default for Meta {
    fn default() -> Self {
        Meta {
            rcode: rcode::NOERROR,
            class: Class::ERROR,
            cookie: CookieStatus::None,
            question_end: crate::wire::HEADER_LEN,
            opt_start: None,
        }
    }
}

/// Turns the response of length `len` in `out` (described by `meta`) into its truncated form:
/// TC=1, header, question and OPT record only (a rate-limited "slip": the client retries over
/// TCP). Returns the new length. Moves bytes within `out`; allocates nothing.
pub fn slip(out: &mut [u8], len: usize, meta: &Meta) -> usize {
    let qend = meta.question_end.min(len);
    let flags = u16::from_be_bytes([out[2], out[3]]) | flag::TC;
    out[2..4].copy_from_slice(&flags.to_be_bytes());
    out[6..10].fill(0);
    let mut n = qend;
    match meta.opt_start {
        Some(start) if start >= qend && start < len => {
            out.copy_within(start..len, qend);
            n += len - start;
            out[10..12].copy_from_slice(&1u16.to_be_bytes());
        }
        _ => out[10..12].fill(0),
    }
    n
}

/// Answers one packet. Returns the response length in `out`, or `None` to stay silent.
///
/// `out` must be at least 65535 bytes long so a TCP answer always fits.
pub fn respond(snap: &Snapshot, packet: &[u8], client: Client, out: &mut [u8]) -> Option<usize> {
    respond_meta(snap, packet, client, out, &mut Meta::default())
}

/// [`respond`], also filling `meta` for rate limiting and metrics.
pub fn respond_meta(
    snap: &Snapshot,
    packet: &[u8],
    client: Client,
    out: &mut [u8],
    meta: &mut Meta,
) -> Option<usize> {
    let (q, kind) = match query::parse(packet) {
        Parsed::Drop => return None,
        Parsed::Query(q) => (q, rcode::NOERROR),
        Parsed::FormErr(q) => (q, rcode::FORMERR),
        Parsed::NotImp(q) => (q, rcode::NOTIMP),
        Parsed::BadVers(q) => (q, rcode::BADVERS),
    };
    let limit = size_limit(snap, &q, client.transport);
    let mut w = Writer::new(out, limit);
    // Echo the opcode, and RD for standard queries; QR set; AA/TC/RA/AD/Z/CD clear. CD only
    // means something to a validating resolver; like Knot we do not echo it. For opcodes we do
    // not implement nothing of the request is echoed but the opcode (as BIND; RFC 8906 §8.1.4).
    let rd = if q.opcode() == 0 {
        q.flags & flag::RD
    } else {
        0
    };
    let base_flags = flag::QR | (q.flags & 0x7800) | rd;
    w.set_header(q.id, base_flags);
    if let Some(question) = &q.question {
        // The question always fits: it came in a packet no larger than the limit... unless the
        // client advertised less than it sent, which only a broken client does.
        let _ = w.question(question.raw);
    }
    meta.question_end = w.len();
    // RFC 7873 §5.2: a well-formed COOKIE is answered with the client cookie and a fresh
    // server cookie, whatever the transport and whether or not the one received was valid.
    let cookie_in = q.edns.and_then(|e| e.cookie);
    let mut cookie_out = [0u8; 4 + cookie::OPTION_BODY_LEN];
    meta.cookie = CookieStatus::None;
    if let Some(c) = &cookie_in {
        let now = cookie::unix_now();
        meta.cookie = cookie::verify(&snap.cookie_secret, c, client.addr, now);
        cookie_out[0..2].copy_from_slice(&opt::COOKIE.to_be_bytes());
        cookie_out[2..4].copy_from_slice(&(cookie::OPTION_BODY_LEN as u16).to_be_bytes());
        cookie_out[4..12].copy_from_slice(&c.client);
        cookie_out[12..].copy_from_slice(&cookie::server_cookie(
            &snap.cookie_secret,
            &c.client,
            client.addr,
            now,
        ));
    }
    let cookie_len = if cookie_in.is_some() {
        cookie_out.len()
    } else {
        0
    };
    let opt_len = q.edns.map_or(0, |e| 11 + ecs_option_len(&e) + cookie_len);
    w.set_limit(limit.saturating_sub(opt_len));

    let mut code = kind;
    let mut aa = false;
    let mut scope = 0u8;
    let mut class = Class::ERROR;
    if kind == rcode::NOERROR
        && let Some(question) = &q.question
    {
        // RFC 7871 §7.1.2: ECS with source /0 opts out of client-specific answers; we then
        // route by the packet's source, and the decision's scope is 0.
        let ecs = q.edns.and_then(|e| e.client_subnet);
        let gslb_client = ClientInfo {
            addr: ecs
                .filter(|cs| cs.source_prefix > 0)
                .map_or(client.addr, |cs| cs.address),
            ecs_source: ecs.map(|cs| cs.source_prefix),
            source: client.addr,
        };
        match answer_question(snap, question, &gslb_client, &mut w) {
            Ok(outcome) => {
                code = outcome.rcode;
                aa = outcome.authoritative;
                scope = outcome.scope;
                class = outcome.class;
            }
            Err(Full) => {
                class = Class::named(Kind::Positive, question.lower_name(), question.qtype);
                // RFC 2181 §9: the answer does not fit; the client must retry over TCP.
                w.clear_sections();
                w.set_header(q.id, base_flags | flag::TC | flag::AA);
                code = rcode::NOERROR;
                aa = true;
            }
        }
    }
    let mut flags = w.flags() | (code & 0xF);
    if aa {
        flags |= flag::AA;
    }
    w.set_header(q.id, flags);
    w.set_limit(limit);
    // Errors share one bucket per network, whatever the name (BIND's "errors" class).
    if !matches!(code, rcode::NOERROR | rcode::NXDOMAIN) {
        class = Class::ERROR;
    }
    meta.rcode = code;
    meta.class = class;
    meta.opt_start = None;
    if let Some(edns) = &q.edns {
        let mut opts = [0u8; 24 + 4 + cookie::OPTION_BODY_LEN];
        let mut n = write_ecs_option(edns, scope, &mut opts);
        opts[n..n + cookie_len].copy_from_slice(&cookie_out[..cookie_len]);
        n += cookie_len;
        let ext = (code >> 4) as u8;
        meta.opt_start = Some(w.len());
        if w.opt(
            snap.limits.edns_udp_payload,
            ext,
            edns.dnssec_ok,
            &opts[..n],
        )
        .is_err()
        {
            // Cannot happen: space was reserved above. Stay correct anyway.
            w.clear_sections();
            meta.opt_start = None;
        }
    }
    Some(w.finish())
}

fn size_limit(snap: &Snapshot, q: &Query<'_>, transport: Transport) -> usize {
    match transport {
        Transport::Tcp => MAX_MESSAGE,
        Transport::Udp => match q.edns {
            Some(e) => {
                (e.payload.min(snap.limits.edns_udp_payload) as usize).max(CLASSIC_UDP_LIMIT)
            }
            None => CLASSIC_UDP_LIMIT,
        },
    }
}

fn ecs_option_len(e: &Edns) -> usize {
    e.client_subnet
        .map_or(0, |cs| 8 + (cs.source_prefix as usize).div_ceil(8))
}

/// Echoes the client subnet option with the scope the answer depended on: 0 for static data
/// and for GSLB decisions that ignore the client (RFC 7871 §7.2.1). Returns the option length.
fn write_ecs_option(e: &Edns, scope: u8, out: &mut [u8]) -> usize {
    let Some(cs) = e.client_subnet else { return 0 };
    let addr_len = (cs.source_prefix as usize).div_ceil(8);
    out[0..2].copy_from_slice(&opt::CLIENT_SUBNET.to_be_bytes());
    out[2..4].copy_from_slice(&((4 + addr_len) as u16).to_be_bytes());
    out[4..6].copy_from_slice(&cs.family.to_be_bytes());
    out[6] = cs.source_prefix;
    out[7] = scope;
    match cs.address {
        IpAddr::V4(a) => out[8..8 + addr_len].copy_from_slice(&a.octets()[..addr_len]),
        IpAddr::V6(a) => out[8..8 + addr_len].copy_from_slice(&a.octets()[..addr_len]),
    }
    8 + addr_len
}

/// Result of answering a question.
struct Outcome {
    rcode: u16,
    authoritative: bool,
    /// ECS scope prefix length of the answer.
    scope: u8,
    /// Rate limiting class (errors are classed by `respond` from the RCODE).
    class: Class,
}

impl Outcome {
    fn aa(rcode: u16) -> Self {
        Outcome {
            rcode,
            authoritative: true,
            scope: 0,
            class: Class::ERROR,
        }
    }

    fn not_aa(rcode: u16) -> Self {
        Outcome {
            rcode,
            authoritative: false,
            scope: 0,
            class: Class::ERROR,
        }
    }

    fn with_class(mut self, class: Class) -> Self {
        self.class = class;
        self
    }
}

fn answer_question(
    snap: &Snapshot,
    q: &Question<'_>,
    client: &ClientInfo,
    w: &mut Writer<'_>,
) -> Result<Outcome, Full> {
    match q.qclass {
        class::IN | class::ANY => {}
        class::CH => return chaos(snap, q, w),
        _ => {
            return Ok(Outcome::not_aa(rcode::REFUSED));
        }
    }
    match q.qtype {
        rtype::AXFR | rtype::IXFR | rtype::MAILA | rtype::MAILB => {
            return Ok(Outcome::not_aa(rcode::NOTIMP));
        }
        rtype::OPT => {
            return Ok(Outcome::not_aa(rcode::FORMERR));
        }
        _ => {}
    }
    let Some(zone) = snap.zones.find(q.lower_name()) else {
        return Ok(Outcome::not_aa(rcode::REFUSED));
    };
    answer_in_zone(snap, zone, q, client, w)
}

fn chaos(snap: &Snapshot, q: &Question<'_>, w: &mut Writer<'_>) -> Result<Outcome, Full> {
    let name = q.lower_name();
    let data = match name {
        b"\x07version\x04bind\x00" | b"\x07version\x06server\x00" => &snap.chaos.version,
        b"\x02id\x06server\x00" | b"\x08hostname\x04bind\x00" => &snap.chaos.identity,
        _ => &None,
    };
    let Some(data) = data else {
        return Ok(Outcome::not_aa(rcode::REFUSED));
    };
    if q.qtype != rtype::TXT && q.qtype != rtype::ANY {
        return Ok(Outcome::aa(rcode::NOERROR).with_class(Class::named(Kind::NoData, name, 0)));
    }
    // Borrowed, not boxed: write the TXT by hand to avoid building an RdataPiece per query.
    w.record_raw(Section::Answer, q.name(), rtype::TXT, class::CH, 0, data)?;
    Ok(Outcome::aa(rcode::NOERROR).with_class(Class::named(Kind::Positive, name, q.qtype)))
}

/// A name being resolved, held in a stack buffer as the chain is followed.
struct Current {
    lower: [u8; MAX_NAME_LEN],
    len: usize,
}

impl Current {
    fn lower(&self) -> &[u8] {
        &self.lower[..self.len]
    }

    fn set(&mut self, name: &[u8]) {
        let n = name.len().min(MAX_NAME_LEN);
        for (d, s) in self.lower[..n].iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        self.len = n;
    }
}

/// Names already answered in this chain: a CNAME back to one of them is a loop, and writing
/// it again would only repeat records.
#[derive(Default)]
struct Visited<'a> {
    names: [&'a [u8]; MAX_CHAIN + 1],
    len: usize,
}

impl<'a> Visited<'a> {
    fn push(&mut self, name: &'a [u8]) {
        if self.len < self.names.len() {
            self.names[self.len] = name;
            self.len += 1;
        }
    }

    fn contains(&self, name: &[u8]) -> bool {
        self.names[..self.len].contains(&name)
    }
}

/// What the additional section must carry once answer and authority are complete.
enum Extra<'z> {
    None,
    /// Addresses of the targets of this answer RRset (MX, SRV, NS).
    Targets(&'z RRset),
    /// Glue for a referral's NS set.
    Glue(&'z RRset),
}

fn answer_in_zone(
    snap: &Snapshot,
    zone: &Zone,
    q: &Question<'_>,
    client: &ClientInfo,
    w: &mut Writer<'_>,
) -> Result<Outcome, Full> {
    let mut cur = Current {
        lower: [0; MAX_NAME_LEN],
        len: 0,
    };
    cur.set(q.lower_name());
    // Owner written for the current hop: the query name as asked (compressed to the question),
    // or the previous CNAME's target.
    let mut owner_buf = [0u8; MAX_NAME_LEN];
    let mut owner_len = q.name_len;
    owner_buf[..owner_len].copy_from_slice(q.name());
    let mut outcome = Outcome::aa(rcode::NOERROR).with_class(Class::named(
        Kind::Positive,
        q.lower_name(),
        q.qtype,
    ));
    let mut extra = Extra::None;
    let mut visited = Visited::default();
    visited.push(q.lower_name());
    let qtype = q.qtype;

    for hop in 0..=MAX_CHAIN {
        // After MAX_CHAIN CNAMEs the last target is still answered if it holds data, but no
        // further CNAME or DNAME is followed (as Knot does).
        let may_chain = hop < MAX_CHAIN;
        let owner = &owner_buf[..owner_len];
        match zone.lookup(cur.lower(), qtype) {
            Lookup::NxDomain => {
                outcome.rcode = rcode::NXDOMAIN;
                outcome.class = Class::named(Kind::NxDomain, &zone.apex().owner, 0);
                write_soa(zone, w)?;
                break;
            }
            Lookup::Referral(cut) => {
                if hop == 0 {
                    outcome.authoritative = false;
                    outcome.class = Class::named(Kind::Referral, &cut.owner, 0);
                }
                if let Some(ns) = cut.get(rtype::NS) {
                    write_rrset(w, Section::Authority, &cut.owner, ns)?;
                    extra = Extra::Glue(ns);
                }
                break;
            }
            Lookup::Dname(node) => {
                let Some(dname) = node.get(rtype::DNAME) else {
                    break;
                };
                if !may_chain {
                    break;
                }
                write_rrset(w, Section::Answer, &node.owner, dname)?;
                let Some(target) = dname.rdata.first().and_then(|r| r.target.as_deref()) else {
                    break;
                };
                // Synthesize: replace the DNAME owner suffix of the current name by the target.
                let keep = cur.len - node.owner.len();
                let new_len = keep + target.len();
                if new_len > MAX_NAME_LEN {
                    outcome.rcode = 6; // YXDOMAIN (RFC 6672 §2.2)
                    break;
                }
                let mut next = [0u8; MAX_NAME_LEN];
                next[..keep].copy_from_slice(&cur.lower()[..keep]);
                next[keep..new_len].copy_from_slice(target);
                w.record_name(
                    Section::Answer,
                    owner,
                    rtype::CNAME,
                    dname.ttl,
                    &next[..new_len],
                )?;
                cur.set(&next[..new_len]);
                owner_buf[..new_len].copy_from_slice(&next[..new_len]);
                owner_len = new_len;
                // A CNAME query is answered by the synthesized CNAME itself.
                if qtype == rtype::CNAME || !zone.contains(cur.lower()) {
                    break;
                }
            }
            Lookup::Found(node) | Lookup::Wildcard(node) => {
                match node.dynamic {
                    Some(Dynamic::Addresses { resource })
                        if matches!(qtype, rtype::A | rtype::AAAA | rtype::ANY) =>
                    {
                        let rrtype = if qtype == rtype::AAAA {
                            rtype::AAAA
                        } else {
                            rtype::A
                        };
                        dyna(snap, zone, resource, rrtype, owner, client, &mut outcome, w)?;
                        break;
                    }
                    Some(Dynamic::Cname { resource }) => {
                        let mut picked = [0u32; 0];
                        let d = resolve(snap, resource, V4, client, &mut picked);
                        outcome.scope = outcome.scope.max(d.scope);
                        match d.outcome {
                            SelectOutcome::Cname(target) => {
                                w.record_name(Section::Answer, owner, rtype::CNAME, d.ttl, target)?;
                                if qtype == rtype::CNAME || !may_chain {
                                    break;
                                }
                                let mut lower = [0u8; MAX_NAME_LEN];
                                for (d, s) in lower.iter_mut().zip(target.iter()) {
                                    *d = s.to_ascii_lowercase();
                                }
                                let target_lower = &lower[..target.len()];
                                if !zone.contains(target_lower) || visited.contains(target_lower) {
                                    break;
                                }
                                cur.set(target_lower);
                                owner_buf[..target.len()].copy_from_slice(target);
                                owner_len = target.len();
                                continue;
                            }
                            SelectOutcome::ServFail => outcome.rcode = rcode::SERVFAIL,
                            _ => write_soa(zone, w)?,
                        }
                        break;
                    }
                    _ => {}
                }
                if qtype == rtype::ANY {
                    // RFC 8482: one RRset is enough; prefer something useful over the SOA.
                    match node
                        .rrsets
                        .iter()
                        .find(|r| r.rtype != rtype::SOA)
                        .or(node.rrsets.first())
                    {
                        Some(set) => write_rrset(w, Section::Answer, owner, set)?,
                        None => write_soa(zone, w)?,
                    }
                    break;
                }
                if let Some(set) = node.get(qtype) {
                    write_rrset(w, Section::Answer, owner, set)?;
                    if matches!(qtype, rtype::MX | rtype::SRV | rtype::NS) {
                        extra = Extra::Targets(set);
                    }
                    break;
                }
                if let Some(cname) = node.get(rtype::CNAME) {
                    if !may_chain {
                        break;
                    }
                    write_rrset(w, Section::Answer, owner, cname)?;
                    let Some(target) = cname.rdata.first().and_then(|r| r.target.as_deref()) else {
                        break;
                    };
                    if !zone.contains(target) || visited.contains(target) {
                        break;
                    }
                    cur.set(target);
                    visited.push(target);
                    owner_buf[..target.len()].copy_from_slice(target);
                    owner_len = target.len();
                    continue;
                }
                write_soa(zone, w)?;
                break;
            }
        }
    }

    // NOERROR with no answer (NODATA) is keyed by the zone, like NXDOMAIN, so a flood of
    // random types or empty names shares one bucket.
    if outcome.rcode == rcode::NOERROR
        && outcome.class.kind == Kind::Positive
        && w.count(Section::Answer) == 0
    {
        outcome.class = Class::named(Kind::NoData, &zone.apex().owner, 0);
    }
    match extra {
        Extra::None => {}
        Extra::Targets(set) => {
            additional_addresses(zone, set, w, false);
        }
        Extra::Glue(set) => {
            // RFC 9471: glue for in-bailiwick servers is required; if it does not fit over
            // UDP, the referral is truncated.
            if additional_addresses(zone, set, w, true) {
                return Err(Full);
            }
        }
    }
    Ok(outcome)
}

/// Writes a DYNA answer: the records chosen by the resource, NODATA, or SERVFAIL, with the ECS
/// scope of the decision.
// Kept out of line: its 4 KiB index array would otherwise grow the frame of every query's
// answer path past a page, and the stack probe that costs would be paid by static answers too.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn dyna(
    snap: &Snapshot,
    zone: &Zone,
    resource: usize,
    rrtype: u16,
    owner: &[u8],
    client: &ClientInfo,
    outcome: &mut Outcome,
    w: &mut Writer<'_>,
) -> Result<(), Full> {
    let family = if rrtype == rtype::AAAA { V6 } else { V4 };
    let mut picked = [0u32; MAX_PICK];
    let d = resolve(snap, resource, family, client, &mut picked);
    match d.outcome {
        SelectOutcome::Records { .. } => {
            for c in d.records(&picked) {
                w.record_raw(Section::Answer, owner, rrtype, class::IN, d.ttl, c.data())?;
            }
        }
        SelectOutcome::ServFail => outcome.rcode = rcode::SERVFAIL,
        SelectOutcome::NoData | SelectOutcome::Cname(_) => write_soa(zone, w)?,
    }
    outcome.scope = outcome.scope.max(d.scope);
    Ok(())
}

/// Asks resource `resource` for its decision with this thread's random generator and
/// round-robin counters (the one place the answer path calls into GSLB).
fn resolve<'s>(
    snap: &'s Snapshot,
    resource: usize,
    family: usize,
    client: &ClientInfo,
    picked: &mut [u32],
) -> Decision<'s> {
    let resolver = &snap.resolvers[resource];
    with_thread_rng(|rng| {
        let mut dice = Dice {
            rng,
            rotation: Rotation::PerThread,
        };
        resolver.resolve(family, client, &mut dice, picked, &mut NoTrace)
    })
}

fn write_rrset(
    w: &mut Writer<'_>,
    section: Section,
    owner: &[u8],
    set: &RRset,
) -> Result<(), Full> {
    for rd in &set.rdata {
        w.record(section, owner, set.rtype, class::IN, set.ttl, &rd.pieces)?;
    }
    Ok(())
}

fn write_soa(zone: &Zone, w: &mut Writer<'_>) -> Result<(), Full> {
    let apex = zone.apex();
    for rd in &zone.soa.rdata {
        w.record(
            Section::Authority,
            &apex.owner,
            rtype::SOA,
            class::IN,
            zone.negative_ttl,
            &rd.pieces,
        )?;
    }
    Ok(())
}

/// Adds A/AAAA of in-zone targets. With `glue`, names below the cut are used and a glue record
/// that does not fit is reported (returns true); otherwise targets are looked up like queries
/// (wildcards apply, delegated names give nothing) and records that do not fit are simply left
/// out (RFC 2181 §9).
fn additional_addresses(zone: &Zone, set: &RRset, w: &mut Writer<'_>, glue: bool) -> bool {
    for rd in &set.rdata {
        let Some(target) = rd.target.as_deref() else {
            continue;
        };
        if !zone.contains(target) {
            continue;
        }
        let (node, owner): (&Node, &[u8]) = if glue {
            match zone.node(target) {
                Some(n) => (n, &n.owner),
                None => continue,
            }
        } else {
            match zone.lookup(target, rtype::A) {
                Lookup::Found(n) => (n, &n.owner),
                // A wildcard answers with the target's own name.
                Lookup::Wildcard(n) => (n, target),
                _ => continue,
            }
        };
        for t in [rtype::A, rtype::AAAA] {
            if let Some(addrs) = node.get(t) {
                let mark = w.mark();
                if write_rrset(w, Section::Additional, owner, addrs).is_err() {
                    w.rollback(mark);
                    return glue && node.occluded;
                }
            }
        }
    }
    false
}
