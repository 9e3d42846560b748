//! `dynadns explain`: the decision path for one name, type and client, from the configuration
//! alone (no running server), so an operator can see why a client gets its answer.
//!
//! It runs the same lookup and the same GSLB selection code as the server, with a tracer that
//! records each step, then prints the answer the server would give (subpool rotation starts at
//! the first group, and random choices are one possible outcome).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use crate::answer::{Client, Transport, respond};
use crate::config;
use crate::geo::parse_cidr;
use crate::gslb::rng::Rng;
use crate::gslb::select::{self, ClientInfo, Lines, MAX_PICK, Outcome};
use crate::gslb::view::{V4, V6};
use crate::gslb::{Answers, MinUp, Resource};
use crate::snapshot::Snapshot;
use crate::wire::name::{from_text, to_lower, to_text};
use crate::wire::{rtype, type_by_name, type_name};
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
    explain(&snap, client, ecs, name, qtype)
}

/// The explanation for a query against a snapshot.
pub fn explain(
    snap: &Snapshot,
    client: IpAddr,
    ecs: Option<&str>,
    name: &str,
    qtype: &str,
) -> Result<String, String> {
    let qt = type_by_name(qtype).ok_or_else(|| format!("unknown record type '{qtype}'"))?;
    let fqdn = if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    };
    let qname = from_text(&fqdn, &[0]).map_err(|e| format!("bad name '{name}': {e}"))?;
    let lower = to_lower(&qname);
    let ecs = match ecs {
        Some(text) => {
            let (a, l) = parse_cidr(text).map_err(|e| format!("bad --ecs '{text}': {e}"))?;
            Some((a, l))
        }
        None => None,
    };
    let gslb_client = ClientInfo {
        addr: ecs.map_or(client, |(a, _)| a),
        ecs_source: ecs.map(|(_, l)| l),
    };
    let mut out = String::new();
    let tname = type_name(qt).map_or_else(|| format!("TYPE{qt}"), str::to_string);
    let _ = write!(out, "query:    {} {tname} from {client}", to_text(&qname));
    match ecs {
        Some((a, l)) => {
            let _ = writeln!(out, " with ECS {a}/{l} (geo decisions use the ECS address)");
        }
        None => out.push('\n'),
    }
    let Some(zone) = snap.zones.find(&lower) else {
        let _ = writeln!(out, "zone:     none of ours contains this name -> REFUSED");
        return Ok(out);
    };
    let _ = writeln!(out, "zone:     {} ({})", zone.name, zone.file.display());
    let lookup = zone.lookup(&lower, qt);
    let step = match &lookup {
        Lookup::Found(node) if node.is_empty() => {
            "name exists as an empty non-terminal -> NODATA".to_string()
        }
        Lookup::Found(node) | Lookup::Wildcard(node) => {
            let how = if matches!(lookup, Lookup::Wildcard(_)) {
                format!("no such name; wildcard {} matches", to_text(&node.owner))
            } else {
                "name exists".to_string()
            };
            match &node.dynamic {
                Some(Dynamic::Addresses { resource }) => {
                    format!(
                        "{how}: DYNA -> resource '{}'",
                        snap.gslb.resources[*resource].name
                    )
                }
                Some(Dynamic::Cname { resource }) => {
                    format!(
                        "{how}: DYNC -> resource '{}'",
                        snap.gslb.resources[*resource].name
                    )
                }
                None => format!("{how} with {}", types(&node.rrsets)),
            }
        }
        Lookup::Referral(cut) => format!(
            "delegated at {} -> referral (not authoritative)",
            to_text(&cut.owner)
        ),
        Lookup::Dname(node) => format!("DNAME at {} rewrites the name", to_text(&node.owner)),
        Lookup::NxDomain => "no such name and no wildcard -> NXDOMAIN".to_string(),
    };
    let _ = writeln!(out, "lookup:   {step}");

    if let Lookup::Found(node) | Lookup::Wildcard(node) = &lookup
        && let Some(d) = &node.dynamic
    {
        let (resource, family) = match d {
            Dynamic::Addresses { resource } => (*resource, if qt == rtype::AAAA { V6 } else { V4 }),
            Dynamic::Cname { resource } => (*resource, V4),
        };
        let computes =
            matches!(d, Dynamic::Cname { .. }) || matches!(qt, rtype::A | rtype::AAAA | rtype::ANY);
        if computes {
            explain_resource(snap, resource, family, &gslb_client, &mut out);
        }
    }

    // The actual answer, produced by the same code path as the server.
    let mut packet = vec![0x00, 0x01, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    packet.extend_from_slice(&qname);
    packet.extend_from_slice(&qt.to_be_bytes());
    packet.extend_from_slice(&1u16.to_be_bytes());
    if let Some((a, l)) = ecs {
        let addr_len = (l as usize).div_ceil(8);
        let (family, bytes): (u16, Vec<u8>) = match a {
            IpAddr::V4(v) => (1, v.octets()[..addr_len].to_vec()),
            IpAddr::V6(v) => (2, v.octets()[..addr_len].to_vec()),
        };
        let mut opt = vec![0, 8];
        opt.extend_from_slice(&((4 + addr_len) as u16).to_be_bytes());
        opt.extend_from_slice(&family.to_be_bytes());
        opt.extend_from_slice(&[l, 0]);
        opt.extend_from_slice(&bytes);
        packet[11] = 1;
        packet.extend_from_slice(&[0, 0, 41, 0x10, 0, 0, 0, 0, 0]);
        packet.extend_from_slice(&(opt.len() as u16).to_be_bytes());
        packet.extend_from_slice(&opt);
    }
    let mut buf = vec![0u8; crate::wire::MAX_MESSAGE];
    let transport = Transport::Tcp;
    if let Some(n) = respond(
        snap,
        &packet,
        Client {
            addr: client,
            transport,
        },
        &mut buf,
    ) {
        let rc = buf[3] & 0xF;
        let aa = buf[2] & 0x04 != 0;
        let count = |i: usize| u16::from_be_bytes([buf[4 + 2 * i], buf[5 + 2 * i]]);
        let _ = writeln!(
            out,
            "answer:   {} aa={} answer={} authority={} additional={} ({n} bytes over TCP)",
            match rc {
                0 => "NOERROR",
                2 => "SERVFAIL",
                3 => "NXDOMAIN",
                5 => "REFUSED",
                _ => "other rcode",
            },
            u8::from(aa),
            count(1),
            count(2),
            count(3)
        );
    }
    Ok(out)
}

fn explain_resource(
    snap: &Snapshot,
    index: usize,
    family: usize,
    client: &ClientInfo,
    out: &mut String,
) {
    let gslb = &snap.gslb;
    let res: &Resource = &gslb.resources[index];
    let view = &snap.views[index];
    let _ = writeln!(
        out,
        "resource: {} (ttl {}, degraded ttl {}, check {}, min_up {}, when_all_down {}, members {})",
        res.name,
        res.ttl,
        res.degraded_ttl,
        res.check.as_deref().unwrap_or("none: always up"),
        match res.min_up {
            MinUp::Count(n) => n.to_string(),
            MinUp::Percent(p) => format!("{p}%"),
        },
        res.when_all_down,
        res.members
    );
    match &res.answers {
        Answers::Addresses(pools) => {
            for p in pools {
                let _ = writeln!(out, "  pool {}:", gslb.dc_name(p.dc));
                for m in &p.members {
                    let state = match m.target {
                        None => "up (no check)".to_string(),
                        Some(t) => {
                            let target = &gslb.targets[t as usize];
                            let s = if snap.health.is_up(t) { "up" } else { "down" };
                            format!(
                                "{s} (check {} at {})",
                                gslb.checks[target.check].name, target.address
                            )
                        }
                    };
                    let _ = writeln!(out, "    {:<40} weight {:<4} {state}", m.address, m.weight);
                }
            }
        }
        Answers::Cnames(list) => {
            for c in list {
                let state = match c.health {
                    None => "up (no probe)",
                    Some(t) if snap.health.is_up(t) => "up",
                    Some(_) => "down",
                };
                let _ = writeln!(
                    out,
                    "  {}: CNAME {} {state}",
                    gslb.dc_name(c.dc),
                    to_text(&c.target)
                );
            }
        }
    }
    let mut lines = Lines::default();
    let d = select::decide(gslb, res, view, family, client, &mut lines);
    let mut picked = Vec::new();
    if let Outcome::Members(set) = d.outcome {
        let mut idx = [0u32; MAX_PICK];
        let mut rng = Rng::seeded(0x5eed);
        let n = select::pick(
            set,
            res,
            snap.limits.max_answers,
            client,
            0,
            &mut rng,
            &mut idx,
            &mut lines,
        );
        picked = select::chosen(set, &idx[..n])
            .map(|c| c.address())
            .collect();
    }
    for l in &lines.0 {
        let _ = writeln!(out, "decision: {l}");
    }
    let what = match d.outcome {
        Outcome::Members(_) => format!(
            "{} record(s): {}",
            picked.len(),
            picked
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Outcome::Cname(t) => format!("CNAME {}", to_text(t)),
        Outcome::NoData => "no records (NODATA)".into(),
        Outcome::ServFail => "SERVFAIL".into(),
    };
    let _ = writeln!(
        out,
        "selected: {what}; ttl {}{}; ecs scope /{}",
        d.ttl,
        if d.degraded { " (degraded)" } else { "" },
        d.scope
    );
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
