//! NSD's qtest (`nsd-tpkg/qtest/unsigned.{zone,qfile}`): 64 queries, each with the complete
//! reply NSD gives. Every query is sent over UDP and the reply is compared with the expected
//! one: rcode, the QR/AA/TC/RD flags, the question, the presence of OPT (and its DO bit),
//! and each section as a set of records (owner case-insensitive, TTL, class, type, rdata).
//!
//! NSD adds the apex NS set to the authority section of positive answers (and its glue to
//! the additional section); a minimal-responses server may leave them out, which is
//! reported as a policy difference instead of a failure.
//!
//! Run against another server with `DYNADNS_TEST_SERVER=127.0.0.1:PORT` (see tests/common).

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::str::FromStr;

use common::{Outcome, QueryBuilder, Report, TestServer};
use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;
use hickory_proto::serialize::txt::Parser;

/// Queries (the `query ...` / `query_do ...` line of the qfile) that are allowed to fail,
/// with the reason. Keep each reason specific enough to be re-checked later.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

const POLICY_NON_MINIMAL: &str = "NSD non-minimal authority/additional";

/// One query of the qfile with the reply NSD gives.
struct Case {
    /// The query line, e.g. `query_do www.example.org. IN A`: unique id in the report.
    id: String,
    qname: String,
    qclass: String,
    qtype: String,
    /// `query_do`: EDNS0 with DO=1 and a 4096-byte payload; `query`: no EDNS.
    dnssec_ok: bool,
    expected: Reply,
}

/// A reply reduced to what is compared.
#[derive(Default)]
struct Reply {
    rcode: u16,
    /// Among QR, AA, TC, RD.
    flags: BTreeSet<String>,
    question: BTreeSet<String>,
    answer: BTreeSet<String>,
    authority: BTreeSet<String>,
    additional: BTreeSet<String>,
    /// `Some(dnssec_ok)` when the reply has an OPT record.
    opt: Option<bool>,
}

#[test]
fn nsd_qtest_unsigned() {
    if !common::conformance_available() {
        return;
    }
    let zone_path = common::conformance_data("nsd-tpkg/qtest/unsigned.zone");
    let qfile = std::fs::read_to_string(common::conformance_data("nsd-tpkg/qtest/unsigned.qfile"))
        .expect("read qfile");
    let zone_text = std::fs::read_to_string(&zone_path).expect("read zone");
    let origin = zone_origin(&zone_text);
    let cases = parse_qfile(&qfile);
    assert_eq!(cases.len(), 64, "the qfile has 64 queries");

    let server = TestServer::start_master(&zone_path, &origin);
    let mut report = Report::new(&format!("NSD qtest unsigned.zone ({origin})"));
    for case in &cases {
        let mut builder = QueryBuilder::new(&case.qname, record_type(&case.qtype))
            .class(DNSClass::from_str(&case.qclass).expect("query class"));
        if case.dnssec_ok {
            builder = builder.edns(4096, true);
        }
        let outcome = match server.query(common::Transport::Udp, &builder.build()) {
            Ok(reply) => compare(&case.expected, &reduce(&reply)),
            Err(e) => Outcome::Fail(e),
        };
        report.push(case.id.clone(), outcome);
    }
    report.finish(KNOWN_DIFFERENCES);
}

/// Compares an actual reply with the expected one.
fn compare(expected: &Reply, actual: &Reply) -> Outcome {
    let mut diff = String::new();
    if expected.rcode != actual.rcode {
        let _ = writeln!(
            diff,
            "rcode: expected {}, got {}",
            expected.rcode, actual.rcode
        );
    }
    if expected.flags != actual.flags {
        let _ = writeln!(
            diff,
            "flags: expected {:?}, got {:?}",
            expected.flags, actual.flags
        );
    }
    if expected.opt != actual.opt {
        let show = |opt: Option<bool>| match opt {
            None => "no OPT".to_string(),
            Some(dnssec_ok) => format!("OPT with DO={}", u8::from(dnssec_ok)),
        };
        let _ = writeln!(
            diff,
            "EDNS: expected {}, got {}",
            show(expected.opt),
            show(actual.opt)
        );
    }
    let sections = [
        ("question", &expected.question, &actual.question),
        ("answer", &expected.answer, &actual.answer),
        ("authority", &expected.authority, &actual.authority),
        ("additional", &expected.additional, &actual.additional),
    ];
    let mut missing_by_section = Vec::new();
    let mut any_extra = false;
    for (name, want, got) in sections {
        let missing: Vec<&String> = want.difference(got).collect();
        let extra: Vec<&String> = got.difference(want).collect();
        for record in &missing {
            let _ = writeln!(diff, "{name}: missing    {record}");
        }
        for record in &extra {
            let _ = writeln!(diff, "{name}: unexpected {record}");
        }
        any_extra |= !extra.is_empty();
        missing_by_section.push((name, missing));
    }
    if diff.is_empty() {
        return Outcome::Pass;
    }
    let only_missing_in = |allowed: &[&str]| {
        missing_by_section
            .iter()
            .all(|(name, missing)| missing.is_empty() || allowed.contains(name))
    };
    let header_and_answer_match = expected.rcode == actual.rcode
        && expected.flags == actual.flags
        && expected.opt == actual.opt
        && only_missing_in(&["authority", "additional"])
        && !any_extra;
    if header_and_answer_match && expected.rcode == 0 && !expected.answer.is_empty() {
        let missing_authority = &missing_by_section[2].1;
        let missing_additional = &missing_by_section[3].1;
        // The omitted authority records must all be NS records, and the omitted additional
        // records must be addresses of those name servers (their glue).
        let ns_targets: Option<BTreeSet<String>> = missing_authority
            .iter()
            .map(|record| {
                let fields: Vec<&str> = record.split_whitespace().collect();
                (fields.get(3) == Some(&"NS")).then(|| fields[4].to_string())
            })
            .collect();
        let glue_only = ns_targets.is_some_and(|targets| {
            missing_additional.iter().all(|record| {
                let fields: Vec<&str> = record.split_whitespace().collect();
                matches!(fields.get(3), Some(&"A") | Some(&"AAAA")) && targets.contains(fields[0])
            })
        });
        if glue_only {
            return Outcome::Policy(POLICY_NON_MINIMAL.to_string());
        }
    }
    Outcome::Fail(diff.trim_end().to_string())
}

/// Reduces a decoded reply to the compared fields.
fn reduce(message: &Message) -> Reply {
    let meta = &message.metadata;
    let flags = [
        ("QR", meta.message_type == MessageType::Response),
        ("AA", meta.authoritative),
        ("TC", meta.truncation),
        ("RD", meta.recursion_desired),
    ];
    let records = |records: &[Record]| {
        records
            .iter()
            .filter(|record| record.record_type() != RecordType::OPT)
            .map(record_key)
            .collect()
    };
    Reply {
        rcode: u16::from(meta.response_code),
        flags: flags
            .iter()
            .filter(|(_, set)| *set)
            .map(|(flag, _)| flag.to_string())
            .collect(),
        question: message
            .queries
            .iter()
            .map(|q| {
                format!(
                    "{} {} {}",
                    q.name().to_ascii().to_ascii_lowercase(),
                    q.query_class(),
                    q.query_type()
                )
            })
            .collect(),
        answer: records(&message.answers),
        authority: records(&message.authorities),
        additional: records(&message.additionals),
        opt: message.edns.as_ref().map(|edns| edns.flags().dnssec_ok),
    }
}

/// `owner ttl class type rdata`, with the owner in lower case, and the rdata in lower case
/// for types whose rdata is made of names and numbers (names compare case-insensitively).
/// Types hickory does not decode (e.g. DNAME) use the RFC 3597 generic form `\# LEN HEX`.
fn record_key(record: &Record) -> String {
    let rdata = match &record.data {
        RData::NS(_) | RData::CNAME(_) | RData::PTR(_) | RData::SOA(_) | RData::MX(_) => {
            record.data.to_string().to_ascii_lowercase()
        }
        RData::Unknown { .. } => {
            let wire = record.data.to_bytes().expect("encode rdata");
            generic_rdata(&wire, record.record_type() == RecordType::DNAME)
        }
        other => other.to_string(),
    };
    format_key(
        &record.name.to_ascii(),
        record.ttl,
        record.dns_class,
        record.record_type(),
        &rdata,
    )
}

fn format_key(owner: &str, ttl: u32, class: DNSClass, rtype: RecordType, rdata: &str) -> String {
    format!(
        "{} {ttl} {class} {rtype} {rdata}",
        owner.to_ascii_lowercase()
    )
}

/// RFC 3597 `\# LEN HEX`; `is_name` lower-cases it (safe on wire names: length octets
/// are below 64, so never ASCII upper case).
fn generic_rdata(wire: &[u8], is_name: bool) -> String {
    let hex: String = wire
        .iter()
        .map(|byte| {
            if is_name {
                byte.to_ascii_lowercase()
            } else {
                *byte
            }
        })
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\\# {} {hex}", wire.len())
}

/// Parses the expected record lines of a section, one logical line per record, with
/// hickory's master-file parser, except DNAME which that parser does not support.
fn parse_records(text: &str) -> BTreeSet<String> {
    text.lines().map(parse_record).collect()
}

fn parse_record(line: &str) -> String {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if let [owner, ttl, class, "DNAME", target] = fields[..] {
        let mut target = Name::from_ascii(target).expect("DNAME target");
        target.set_fqdn(true);
        let wire = target.to_bytes().expect("encode DNAME target");
        return format_key(
            owner,
            ttl.parse().expect("TTL"),
            DNSClass::from_str(class).expect("class"),
            RecordType::DNAME,
            &generic_rdata(&wire, true),
        );
    }
    let input = format!("$ORIGIN .\n{line}\n");
    let (_, rrsets) = Parser::new(input.as_str(), None, None)
        .parse()
        .unwrap_or_else(|e| panic!("cannot parse expected record {line:?}: {e}"));
    let records: Vec<String> = rrsets
        .values()
        .flat_map(|rrset| rrset.records_without_rrsigs())
        .map(record_key)
        .collect();
    assert_eq!(records.len(), 1, "one record in {line:?}");
    records.into_iter().next().unwrap_or_default()
}

/// The zone's origin: `$ORIGIN` if present, else the owner of the SOA record.
fn zone_origin(zone: &str) -> String {
    for line in zone.lines() {
        let line = line.split(';').next().unwrap_or_default();
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first() == Some(&"$ORIGIN") {
            return fields[1].to_string();
        }
        if fields.contains(&"SOA") && !line.starts_with(char::is_whitespace) {
            return fields[0].to_string();
        }
    }
    panic!("no $ORIGIN and no SOA in the zone file");
}

/// A type mnemonic or RFC 3597 `TYPEnnn`.
fn record_type(text: &str) -> RecordType {
    match text.strip_prefix("TYPE").map(str::parse::<u16>) {
        Some(Ok(code)) => RecordType::from(code),
        _ => RecordType::from_str(text).unwrap_or_else(|_| panic!("unknown type {text}")),
    }
}

/// Parses the qfile: `query`/`query_do` lines, each followed by the expected reply
/// (a `;;` header line, `; X SECTION` markers and records) up to `end_reply`.
fn parse_qfile(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let dnssec_ok = match fields.first() {
            Some(&"query") => false,
            Some(&"query_do") => true,
            _ => continue, // comments and blank lines
        };
        assert_eq!(fields.len(), 4, "query line {line:?}");
        let mut expected = Reply::default();
        let mut section = "";
        let mut sections: [String; 4] = Default::default();
        let mut pending = String::new();
        for line in lines.by_ref() {
            if line == "end_reply" {
                break;
            }
            if let Some(header) = line.strip_prefix(";;") {
                parse_header(header, &mut expected);
            } else if let Some(name) = line.strip_prefix("; ") {
                section = name.trim();
            } else if line.starts_with(". size:") {
                // The OPT pseudo-record as NSD's test tool prints it.
                expected.opt = Some(line.split_whitespace().any(|field| field == "DO"));
            } else {
                // Records may continue over lines inside parentheses.
                pending.push_str(line);
                pending.push(' ');
                if pending.matches('(').count() == pending.matches(')').count() {
                    let index = match section {
                        "QUERY SECTION" => 0,
                        "ANSWER SECTION" => 1,
                        "AUTHORITY SECTION" => 2,
                        "ADDITIONAL SECTION" => 3,
                        other => panic!("unknown section {other:?} in {line:?}"),
                    };
                    sections[index].push_str(&pending);
                    sections[index].push('\n');
                    pending.clear();
                }
            }
        }
        expected.question = sections[0]
            .lines()
            .map(|q| {
                let q: Vec<&str> = q.split_whitespace().collect();
                let class = DNSClass::from_str(q[1]).expect("question class");
                format!(
                    "{} {class} {}",
                    q[0].to_ascii_lowercase(),
                    record_type(q[2])
                )
            })
            .collect();
        expected.answer = parse_records(&sections[1]);
        expected.authority = parse_records(&sections[2]);
        expected.additional = parse_records(&sections[3]);
        cases.push(Case {
            id: line.trim().to_string(),
            qname: fields[1].to_string(),
            qclass: fields[2].to_string(),
            qtype: fields[3].to_string(),
            dnssec_ok,
            expected,
        });
    }
    cases
}

/// ` opcode 0 ; rcode 5 REFUSED ; id 0 ; flags QR AA ; QD:1 AN:0 NS:0 AR:0`
fn parse_header(header: &str, reply: &mut Reply) {
    for part in header.split(';') {
        let fields: Vec<&str> = part.split_whitespace().collect();
        match fields.first() {
            Some(&"rcode") => reply.rcode = fields[1].parse().expect("numeric rcode"),
            Some(&"flags") => reply.flags = fields[1..].iter().map(|f| f.to_string()).collect(),
            _ => {}
        }
    }
}
