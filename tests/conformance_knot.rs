//! Knot DNS `tests-extra` queries on `data__flags.zone` (origin `flags.`), taken from
//! `knot-tests-extra/QUERIES_extracted.tsv`.
//!
//! Each row is a query (`udp=True` means UDP, anything else TCP as the brief for this test
//! fixes it; `dnssec` is taken as False, so no EDNS unless a `bufsize` is given; `flags="X"`
//! are the header flags of the query, RD clear otherwise) followed by Python checks, of
//! which these are evaluated:
//!
//! - `check(rcode=.., flags=.., noflags=.., rdata=..)`
//! - `check_count(N, "TYPE", section=..)` and `compare(count(rtype=.., section=..), N, ..)`
//!   where N is a literal or `A if dnssec else B` (B is used)
//!
//! `cmp(bind...)` compares with BIND, which is not available: rows that only have it are
//! skipped and counted. Other checks (`check_record`, `check_counts`, ...) are ignored and
//! counted in the summary. Qnames are absolute as in Knot's `dig` (`dns1.flags` is
//! `dns1.flags.`).
//!
//! Run against another server with `DYNADNS_TEST_SERVER=127.0.0.1:PORT` (see tests/common).

mod common;

use std::collections::BTreeMap;
use std::str::FromStr;

use common::{Outcome, QueryBuilder, Report, TestServer};
use hickory_proto::op::Message;
use hickory_proto::rr::{Record, RecordType};

/// Row ids (`QNAME QTYPE KWARGS`) that are allowed to fail, with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[(
    "svcb-loop.flags. SVCB udp=False, dnssec=dnssec",
    "policy: dynadns serves SVCB/HTTPS as opaque data and does no RFC 9460 §4 additional-section processing",
)];

/// Rows whose expectation depends on a setup this test does not reproduce: (comment
/// column of the row, reason). They are skipped, not failed.
const NOT_APPLICABLE: &[(&str, &str)] = &[(
    "NODATA response to the root DS query if the root zone is available",
    "Knot's test also serves the root zone; only flags. is served here",
)];

/// Rows of Knot's `basic/flags` test that the extraction missed (EDNS payload limit),
/// in the tsv's format.
const SUPPLEMENTARY_ROWS: &str = "\
basic/flags\tdata__flags.zone\t1220resp.flags\tTXT\tudp=True, bufsize=1220\tLargest answer (1220 bytes with OPT) fitting a 1220-byte EDNS payload\tcheck(flags=\"QR AA\", noflags=\"TC RD RA AD CD Z\")
basic/flags\tdata__flags.zone\t1221resp.flags\tTXT\tudp=True, bufsize=1220\tTC bit - UDP, EDNS payload 1220, 1221-byte answer\tcheck(flags=\"QR AA TC\", noflags=\"RD RA AD CD Z\")
";

const ZONE_FILE: &str = "data__flags.zone";
const ORIGIN: &str = "flags.";

/// Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD/CD, Z = the reserved bit).
const FLAG_BITS: &[(&str, u16)] = &[
    ("QR", 0x8000),
    ("AA", 0x0400),
    ("TC", 0x0200),
    ("RD", 0x0100),
    ("RA", 0x0080),
    ("Z", 0x0040),
    ("AD", 0x0020),
    ("CD", 0x0010),
];

const RCODES: &[(&str, u16)] = &[
    ("NOERROR", 0),
    ("FORMERR", 1),
    ("SERVFAIL", 2),
    ("NXDOMAIN", 3),
    ("NOTIMP", 4),
    ("REFUSED", 5),
    ("YXDOMAIN", 6),
];

/// One row of the tsv.
struct Row {
    id: String,
    qname: String,
    qtype: String,
    /// `key=value` pairs of the `dig()` call.
    kwargs: BTreeMap<String, String>,
    comment: String,
    checks: String,
}

/// The reply as evaluated by the checks.
struct Reply {
    rcode: u16,
    flags: u16,
    bytes: Vec<u8>,
    /// The decoded message, or why hickory cannot decode it (kept for the diff).
    message: Result<Message, String>,
}

#[test]
fn knot_flags_zone_queries() {
    if !common::conformance_available() {
        return;
    }
    let tsv = std::fs::read_to_string(common::conformance_data(
        "knot-tests-extra/QUERIES_extracted.tsv",
    ))
    .expect("read tsv");
    let mut rows = parse_rows(&tsv);
    let from_tsv = rows.len();
    rows.extend(parse_rows(SUPPLEMENTARY_ROWS));
    assert!(
        from_tsv > 80,
        "expected the tsv's ~87 flags rows, got {from_tsv}"
    );

    let zone = common::conformance_data(&format!("knot-tests-extra/{ZONE_FILE}"));
    let server = TestServer::start_master(&zone, ORIGIN);
    let mut report = Report::new(&format!("Knot tests-extra on {ZONE_FILE} ({ORIGIN})"));
    let mut only_cmp = 0;
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        if let Some((_, reason)) = NOT_APPLICABLE.iter().find(|(c, _)| *c == row.comment) {
            report.push(row.id.clone(), Outcome::Skip(reason.to_string()));
            continue;
        }
        let reply = run_query(&server, row);
        let mut evaluated = 0;
        let mut has_cmp = false;
        let mut diff = Vec::new();
        for part in split_top_level(strip_comment(&row.checks), ';') {
            let Some((function, args)) = parse_call(part) else {
                *ignored.entry(part.trim().to_string()).or_default() += 1;
                continue;
            };
            let result = match function.as_str() {
                "check" => check(&reply, &args),
                "check_count" => check_count(&reply, &args),
                "compare" => compare(&reply, &args),
                "cmp" => {
                    has_cmp = true;
                    continue;
                }
                _ => {
                    *ignored.entry(function).or_default() += 1;
                    continue;
                }
            };
            evaluated += 1;
            if let Err(e) = result {
                diff.push(format!("{}: {e}", part.trim()));
            }
        }
        let outcome = match (&reply, evaluated) {
            (Err(e), _) => Outcome::Fail(e.clone()),
            (Ok(_), 0) if has_cmp => {
                only_cmp += 1;
                Outcome::Skip("only cmp(bind), no reference server".to_string())
            }
            (Ok(_), 0) => Outcome::Skip("no evaluable check".to_string()),
            (Ok(_), _) if diff.is_empty() => Outcome::Pass,
            (Ok(_), _) => Outcome::Fail(diff.join("\n")),
        };
        report.push(row.id.clone(), outcome);
    }
    println!(
        "{} rows ({from_tsv} from the tsv); rows with only cmp(bind): {only_cmp}",
        rows.len()
    );
    println!("checks not evaluated: {ignored:?}");
    report.finish(KNOWN_DIFFERENCES);
}

fn run_query(server: &TestServer, row: &Row) -> Result<Reply, String> {
    let rtype = record_type(&row.qtype);
    let mut builder = QueryBuilder::new(&row.qname, rtype);
    if let Some(size) = row.kwargs.get("bufsize") {
        builder = builder.edns(size.parse().expect("bufsize"), false);
    }
    let mut query = builder.build().to_vec().map_err(|e| e.to_string())?;
    // Header flags of the query, replacing the defaults (as Knot's dig does).
    let mut flags = 0u16;
    for flag in unquote(row.kwargs.get("flags").map_or("", String::as_str)).split_whitespace() {
        flags |= flag_bit(flag);
    }
    let header = (u16::from_be_bytes([query[2], query[3]]) & !0x87f0) | flags;
    query[2..4].copy_from_slice(&header.to_be_bytes());

    let transport = if row.kwargs.get("udp").map(String::as_str) == Some("True") {
        common::Transport::Udp
    } else {
        common::Transport::Tcp
    };
    let bytes = server.exchange(transport, &query)?;
    if bytes.len() < 12 {
        return Err(format!("reply shorter than a header: {bytes:02x?}"));
    }
    Ok(Reply {
        rcode: u16::from(bytes[3] & 0x0f),
        flags: u16::from_be_bytes([bytes[2], bytes[3]]),
        message: Message::from_vec(&bytes).map_err(|e| format!("undecodable reply: {e}")),
        bytes,
    })
}

/// `check(rcode="X", flags="A B", noflags="C D", rdata="...")`
fn check(reply: &Result<Reply, String>, args: &Args) -> Result<(), String> {
    let reply = reply.as_ref().map_err(Clone::clone)?;
    let mut errors = Vec::new();
    if let Some(rcode) = args.named.get("rcode") {
        let rcode = unquote(rcode);
        let want = RCODES
            .iter()
            .find(|(name, _)| *name == rcode)
            .unwrap_or_else(|| panic!("unknown rcode {rcode}"))
            .1;
        if reply.rcode != want {
            errors.push(format!(
                "rcode {} instead of {rcode}",
                rcode_name(reply.rcode)
            ));
        }
    }
    for flag in unquote(args.named.get("flags").map_or("", String::as_str)).split_whitespace() {
        if reply.flags & flag_bit(flag) == 0 {
            errors.push(format!("{flag} not set"));
        }
    }
    for flag in unquote(args.named.get("noflags").map_or("", String::as_str)).split_whitespace() {
        if reply.flags & flag_bit(flag) != 0 {
            errors.push(format!("{flag} set"));
        }
    }
    if let Some(rdata) = args.named.get("rdata") {
        let rdata = unquote(rdata);
        let found = if rdata.is_empty() {
            // hickory refuses to decode empty rdata outside updates: walk the wire.
            answer_rdata_lengths(&reply.bytes)?.contains(&0)
        } else {
            let message = reply.message.as_ref().map_err(Clone::clone)?;
            message.answers.iter().any(|r| r.data.to_string() == rdata)
        };
        if !found {
            errors.push(format!("no answer record with rdata {rdata:?}"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} (flags {})",
            errors.join(", "),
            flag_names(reply.flags)
        ))
    }
}

/// RDLENGTH of each answer record, read straight from the wire.
fn answer_rdata_lengths(message: &[u8]) -> Result<Vec<usize>, String> {
    let truncated = || format!("truncated reply {message:02x?}");
    let count = |at: usize| usize::from(u16::from_be_bytes([message[at], message[at + 1]]));
    /// Offset after the (possibly compressed) name at `at`.
    fn skip_name(message: &[u8], mut at: usize) -> Option<usize> {
        loop {
            let length = *message.get(at)?;
            match length {
                0 => return Some(at + 1),
                l if l & 0xc0 == 0xc0 => return Some(at + 2),
                l => at += 1 + usize::from(l),
            }
        }
    }
    if message.len() < 12 {
        return Err(truncated());
    }
    let mut at = 12;
    for _ in 0..count(4) {
        at = skip_name(message, at).ok_or_else(truncated)? + 4;
    }
    let mut lengths = Vec::new();
    for _ in 0..count(6) {
        at = skip_name(message, at).ok_or_else(truncated)? + 10;
        let header = message.get(at - 2..at).ok_or_else(truncated)?;
        let length = usize::from(u16::from_be_bytes([header[0], header[1]]));
        lengths.push(length);
        at += length;
    }
    Ok(lengths)
}

/// `check_count(N, "TYPE", section="answer")`
fn check_count(reply: &Result<Reply, String>, args: &Args) -> Result<(), String> {
    let want = literal_count(&args.positional[0]);
    let rtype = record_type(unquote(&args.positional[1]));
    let section = args.named.get("section").map_or("answer", |s| unquote(s));
    expect_count(reply, rtype, section, want)
}

/// `compare(count(rtype="TYPE", section="answer"), N, "message")`
fn compare(reply: &Result<Reply, String>, args: &Args) -> Result<(), String> {
    let (function, count_args) = parse_call(&args.positional[0]).expect("count(...)");
    assert_eq!(
        function, "count",
        "compare() of something else than count()"
    );
    let rtype = record_type(unquote(&count_args.named["rtype"]));
    let section = count_args
        .named
        .get("section")
        .map_or("answer", |s| unquote(s));
    expect_count(reply, rtype, section, literal_count(&args.positional[1]))
}

fn expect_count(
    reply: &Result<Reply, String>,
    rtype: RecordType,
    section: &str,
    want: usize,
) -> Result<(), String> {
    let reply = reply.as_ref().map_err(Clone::clone)?;
    let message = reply.message.as_ref().map_err(Clone::clone)?;
    let records: &[Record] = match section {
        "answer" => &message.answers,
        "authority" => &message.authorities,
        "additional" => &message.additionals,
        other => panic!("unknown section {other}"),
    };
    let got = records.iter().filter(|r| r.record_type() == rtype).count();
    if got == want {
        Ok(())
    } else {
        let listing: Vec<String> = records.iter().map(ToString::to_string).collect();
        Err(format!(
            "{got} {rtype} in {section} instead of {want}: [{}]",
            listing.join("; ")
        ))
    }
}

/// `3` or `1 if dnssec else 0` (dnssec is False here).
fn literal_count(expr: &str) -> usize {
    let value = expr.rsplit(" else ").next().unwrap_or(expr).trim();
    value
        .parse()
        .unwrap_or_else(|_| panic!("not a literal count: {expr}"))
}

fn flag_bit(flag: &str) -> u16 {
    FLAG_BITS
        .iter()
        .find(|(name, _)| *name == flag)
        .unwrap_or_else(|| panic!("unknown flag {flag}"))
        .1
}

fn flag_names(flags: u16) -> String {
    let names: Vec<&str> = FLAG_BITS
        .iter()
        .filter(|(_, bit)| flags & bit != 0)
        .map(|(name, _)| *name)
        .collect();
    format!("[{}]", names.join(" "))
}

fn rcode_name(rcode: u16) -> String {
    RCODES
        .iter()
        .find(|(_, code)| *code == rcode)
        .map_or_else(|| rcode.to_string(), |(name, _)| name.to_string())
}

/// A type mnemonic or RFC 3597 `TYPEnnn`.
fn record_type(text: &str) -> RecordType {
    match text.strip_prefix("TYPE").map(str::parse::<u16>) {
        Some(Ok(code)) => RecordType::from(code),
        _ => RecordType::from_str(text).unwrap_or_else(|_| panic!("unknown type {text}")),
    }
}

/// Rows for [`ZONE_FILE`], with unique ids.
fn parse_rows(tsv: &str) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let columns: Vec<&str> = line.split('\t').collect();
        assert_eq!(columns.len(), 7, "tsv row {line:?}");
        if columns[1] != ZONE_FILE {
            continue;
        }
        let kwargs: BTreeMap<String, String> = split_top_level(columns[4], ',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let base = format!("{} {} {}", columns[2], columns[3], columns[4]);
        let base = base.trim();
        let mut id = base.to_string();
        for n in 2.. {
            if !rows.iter().any(|row| row.id == id) {
                break;
            }
            id = format!("{base} #{n}");
        }
        rows.push(Row {
            id,
            qname: columns[2].to_string(),
            qtype: columns[3].to_string(),
            kwargs,
            comment: columns[5].to_string(),
            checks: columns[6].to_string(),
        });
    }
    rows
}

/// Arguments of a Python call: positional ones, and `key=value` ones (values kept raw).
#[derive(Debug)]
struct Args {
    positional: Vec<String>,
    named: BTreeMap<String, String>,
}

/// `name(args)` -> (name, args); `None` for anything else (e.g. an `if` statement).
fn parse_call(text: &str) -> Option<(String, Args)> {
    let text = text.trim();
    let open = text.find('(')?;
    let name = &text[..open];
    if !text.ends_with(')') || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let mut args = Args {
        positional: Vec::new(),
        named: BTreeMap::new(),
    };
    for arg in split_top_level(&text[open + 1..text.len() - 1], ',') {
        let arg = arg.trim();
        if arg.is_empty() {
            continue;
        }
        match arg.split_once('=') {
            Some((key, value))
                if key.trim().chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !value.starts_with('=') =>
            {
                args.named
                    .insert(key.trim().to_string(), value.trim().to_string());
            }
            _ => args.positional.push(arg.to_string()),
        }
    }
    Some((name.to_string(), args))
}

/// Splits on `separator` outside parentheses and double quotes.
fn split_top_level(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            c if c == separator && !quoted && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty())
}

/// Drops a trailing Python `# comment` (outside quotes).
fn strip_comment(text: &str) -> &str {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &text[..i],
            _ => {}
        }
    }
    text
}

fn unquote(text: &str) -> &str {
    text.trim().trim_matches('"')
}
