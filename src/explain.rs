//! `dynadns explain`: the decision path for one name, type and client, from the configuration
//! alone (no running server), so an operator can see why a client gets its answer.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use crate::answer::{Client, Transport, respond};
use crate::config;
use crate::snapshot::Snapshot;
use crate::wire::name::{from_text, to_lower, to_text};
use crate::wire::{type_by_name, type_name};
use crate::zone::{Dynamic, Lookup};

/// Builds the explanation text, or an error message for the operator.
pub fn run(
    config_path: &Path,
    client: IpAddr,
    ecs: Option<&str>,
    name: &str,
    qtype: &str,
) -> Result<String, String> {
    let loaded = config::load(config_path).map_err(|d| d.to_string())?;
    let snap = Snapshot::build(loaded, 0);
    let qt = type_by_name(qtype).ok_or_else(|| format!("unknown record type '{qtype}'"))?;
    let fqdn = if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    };
    let qname = from_text(&fqdn, &[0]).map_err(|e| format!("bad name '{name}': {e}"))?;
    let lower = to_lower(&qname);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "query:    {} {} from {client}",
        to_text(&qname),
        type_name(qt).map_or_else(|| format!("TYPE{qt}"), str::to_string)
    );
    if let Some(ecs) = ecs {
        let _ = writeln!(
            out,
            "ecs:      {ecs} (client subnet is used by geo routing; static answers do not depend on it)"
        );
    }
    let Some(zone) = snap.zones.find(&lower) else {
        let _ = writeln!(out, "zone:     none of ours contains this name -> REFUSED");
        return Ok(out);
    };
    let _ = writeln!(out, "zone:     {} ({})", zone.name, zone.file.display());
    let step = match zone.lookup(&lower, qt) {
        Lookup::Found(node) if node.is_empty() => {
            "name exists as an empty non-terminal -> NODATA".to_string()
        }
        Lookup::Found(node) => match &node.dynamic {
            Some(Dynamic::Addresses { resource }) => format!(
                "DYNA -> resource '{resource}' (GSLB selection: not available in this build, answers SERVFAIL)"
            ),
            Some(Dynamic::Cname { resource }) => format!(
                "DYNC -> resource '{resource}' (GSLB selection: not available in this build, answers SERVFAIL)"
            ),
            None => format!("name exists with {}", types(&node.rrsets)),
        },
        Lookup::Wildcard(node) => format!(
            "no such name; wildcard {} matches with {}",
            to_text(&node.owner),
            types(&node.rrsets)
        ),
        Lookup::Referral(cut) => format!(
            "delegated at {} -> referral (not authoritative)",
            to_text(&cut.owner)
        ),
        Lookup::Dname(node) => format!("DNAME at {} rewrites the name", to_text(&node.owner)),
        Lookup::NxDomain => "no such name and no wildcard -> NXDOMAIN".to_string(),
    };
    let _ = writeln!(out, "lookup:   {step}");

    // The actual answer, produced by the same code path as the server.
    let mut packet = vec![0x00, 0x01, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    packet.extend_from_slice(&qname);
    packet.extend_from_slice(&qt.to_be_bytes());
    packet.extend_from_slice(&1u16.to_be_bytes());
    let mut buf = vec![0u8; crate::wire::MAX_MESSAGE];
    if let Some(n) = respond(
        &snap,
        &packet,
        Client {
            addr: client,
            transport: Transport::Tcp,
        },
        &mut buf,
    ) {
        let rc = buf[3] & 0xF;
        let aa = buf[2] & 0x04 != 0;
        let count = |i: usize| u16::from_be_bytes([buf[4 + 2 * i], buf[5 + 2 * i]]);
        let _ = writeln!(
            out,
            "answer:   rcode {} aa={} answer={} authority={} additional={} ({n} bytes)",
            match rc {
                0 => "NOERROR",
                2 => "SERVFAIL",
                3 => "NXDOMAIN",
                5 => "REFUSED",
                _ => "other",
            },
            aa as u8,
            count(1),
            count(2),
            count(3)
        );
    }
    Ok(out)
}

fn types(sets: &[crate::zone::RRset]) -> String {
    let v: Vec<String> = sets
        .iter()
        .map(|s| {
            format!(
                "{} (ttl {})",
                type_name(s.rtype).map_or_else(|| format!("TYPE{}", s.rtype), str::to_string),
                s.ttl
            )
        })
        .collect();
    if v.is_empty() {
        "no records".into()
    } else {
        v.join(", ")
    }
}
