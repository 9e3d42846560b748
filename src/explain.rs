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
use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{self, ServerConfig};
use crate::geo::parse_cidr;
use crate::gslb::members::{V4, V6};
use crate::gslb::pick::MAX_PICK;
use crate::gslb::resolve::{ClientInfo, Lines, Outcome};
use crate::gslb::route::RouteKind;
use crate::gslb::{Answers, Resource};
use crate::health::HealthStates;
use crate::health::initial_states;
use crate::health::monitor::{SavedStates, key_of};
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
    let (health, notes) = offline_health(&loaded.config);
    let snap = Snapshot::assemble(&loaded.config, Arc::new(loaded.zones), 0, health);
    let mut out = explain(&snap, client, ecs, name, qtype, &notes)?;
    if let Some(path) = &loaded.config.health.state_file {
        let _ = writeln!(
            out,
            "health:   probe states and forced states from {} (no server needed; a running server may know newer ones: see its /status)",
            path.display()
        );
    }
    Ok(out)
}

/// Health as a restarted server would start with it: static states, then the state file's
/// probe windows (when young enough) and forced states. Also a note per target for display.
fn offline_health(config: &ServerConfig) -> (HealthStates, HashMap<u32, String>) {
    let gslb = &config.gslb;
    let mut health = initial_states(gslb);
    let mut notes = HashMap::new();
    let saved = config.health.state_file.as_ref().and_then(|p| {
        SavedStates::read(p, config.health.state_max_age, config.health.max_file_size)
    });
    if let Some(saved) = saved {
        health.overrides = saved.overrides;
        for t in 0..gslb.targets.len() as u32 {
            let check = &gslb.checks[gslb.targets[t as usize].check];
            if !crate::health::checks::is_probed(check) {
                continue;
            }
            let note = match saved.windows.as_ref().and_then(|w| w.get(&key_of(gslb, t))) {
                Some(w) => {
                    health.up[t as usize] = w.is_up;
                    let failures = w
                        .results
                        .iter()
                        .rev()
                        .take(check.down.1 as usize)
                        .filter(|r| !**r)
                        .count();
                    let successes = w
                        .results
                        .iter()
                        .rev()
                        .take(check.up.1 as usize)
                        .filter(|r| **r)
                        .count();
                    format!(
                        "{failures} of last {} failed (down at {}), {successes} of last {} succeeded (up at {}); saved {} s ago",
                        check.down.1, check.down.0, check.up.1, check.up.0, saved.age_secs
                    )
                }
                None => "no saved result: counts as up until probed".to_string(),
            };
            notes.insert(t, note);
        }
    }
    (health, notes)
}

/// The explanation for a query against a snapshot.
pub fn explain(
    snap: &Snapshot,
    client: IpAddr,
    ecs: Option<&str>,
    name: &str,
    qtype: &str,
    notes: &HashMap<u32, String>,
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
    // As the server does: ECS with source /0 opts out, and the source address decides.
    let gslb_client = ClientInfo {
        addr: ecs.filter(|(_, l)| *l > 0).map_or(client, |(a, _)| a),
        ecs_source: ecs.map(|(_, l)| l),
        source: client,
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
            explain_resource(snap, resource, family, &gslb_client, notes, &mut out);
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
    notes: &HashMap<u32, String>,
    out: &mut String,
) {
    let gslb = &snap.gslb;
    let res: &Resource = &gslb.resources[index];
    let resolver = &snap.resolvers[index];
    let _ = writeln!(
        out,
        "resource: {} (ttl {}, degraded ttl {}, check {}, min_up {}, when_all_down {}, members {})",
        res.name,
        res.ttl,
        res.degraded_ttl,
        res.check.as_deref().unwrap_or("none: always up"),
        res.min_up,
        res.when_all_down,
        res.members
    );
    match &res.answers {
        Answers::Addresses(pools) => {
            for p in pools {
                let forced = snap
                    .health
                    .overrides
                    .pool(&res.name, gslb.dc_name(p.dc))
                    .map_or(String::new(), |f| {
                        format!(" forced {f} (overrides the probes of its members)")
                    });
                let _ = writeln!(out, "  pool {}:{forced}", gslb.dc_name(p.dc));
                for m in &p.members {
                    let state = match m.target {
                        None => "up (no check)".to_string(),
                        Some(t) => {
                            let target = &gslb.targets[t as usize];
                            let s = if snap.health.is_up(t) { "up" } else { "down" };
                            let note = notes.get(&t).map_or(String::new(), |n| format!(": {n}"));
                            format!(
                                "{s} (check {} at {}{note})",
                                gslb.checks[target.check].name, target.address
                            )
                        }
                    };
                    let forced = match snap.health.overrides.members.get(&m.address) {
                        Some(f) => format!(" -> forced {f} (member override beats the probe)"),
                        None => String::new(),
                    };
                    let _ = writeln!(
                        out,
                        "    {:<40} weight {:<4} {state}{forced}",
                        m.address, m.weight
                    );
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
    let _ = writeln!(out, "route:    {}", resolver.route().describe());
    if let crate::gslb::Route::Geo(m) = res.route
        && let Some(map) = gslb.geo_maps.get(m)
    {
        let addr = if res.use_ecs {
            client.addr
        } else {
            client.source
        };
        explain_geo(gslb, map, addr, out);
    }
    // The server's own decision function, with a recording tracer and fixed dice (rotation at
    // the first group; random choices are one possible outcome).
    let mut lines = Lines::default();
    let mut picked = [0u32; MAX_PICK];
    let d = resolver.resolve_repeatable(family, client, 0, 0x5eed, &mut picked, &mut lines);
    for l in &lines.0 {
        let _ = writeln!(out, "decision: {l}");
    }
    let what = match d.outcome {
        Outcome::Records { .. } => {
            let addrs: Vec<String> = d
                .records(&picked)
                .map(|c| c.address().to_string())
                .collect();
            format!("{} record(s): {}", addrs.len(), addrs.join(" "))
        }
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
    let _ = writeln!(out, "{}", scope_note(client, d.scope));
}

/// What the GeoIP database says about `addr` (network, place, coordinates) and, for a map
/// with `nearest`, the distance ranking of its datacenters: the facts the geo decision in the
/// trace below was compiled from.
fn explain_geo(
    gslb: &crate::gslb::Gslb,
    map: &crate::gslb::GeoMap,
    addr: IpAddr,
    out: &mut String,
) {
    let Some(db) = &gslb.geoip else {
        return;
    };
    let _ = writeln!(
        out,
        "geoip:    {} ({}, built {}, {} networks)",
        db.info.path.display(),
        db.info.database_type,
        crate::server::rfc3339(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(db.info.build_epoch)
        ),
        db.info.networks
    );
    let Some((net, len, place)) = db.lookup(addr) else {
        let _ = writeln!(out, "geoip:    {addr} is in no network of the database");
        return;
    };
    let or = |v: &Option<Box<str>>| v.as_deref().unwrap_or("-").to_string();
    let coords = place
        .location
        .map_or("-".to_string(), |(a, b)| format!("{a:.4}, {b:.4}"));
    let _ = writeln!(
        out,
        "geoip:    {addr} in database network {net}/{len}: continent {}, country {}, subdivisions [{}], city {}, coordinates {coords}",
        or(&place.continent),
        or(&place.country),
        place.subdivisions.join(", "),
        or(&place.city),
    );
    if map.nearest
        && let Some(from) = place.location
    {
        let ranked =
            crate::gslb::route::geo::Nearest::new(&map.default, &gslb.datacenters).rank(from);
        let rest = map.default.len() - ranked.len();
        let mut parts: Vec<String> = ranked
            .iter()
            .map(|&d| {
                let dc = &gslb.datacenters[d as usize];
                match dc.location {
                    Some(l) => format!(
                        "{} {:.0} km",
                        dc.name,
                        crate::gslb::route::geo::distance_km(from, l)
                    ),
                    None => format!("{} (no location)", dc.name),
                }
            })
            .collect();
        if rest > 0 {
            parts.push(format!("then {rest} more in default order"));
        }
        let _ = writeln!(
            out,
            "nearest:  {} (used when no subdivision, country or continent entry matches)",
            parts.join(", ")
        );
    }
}

/// Says, in words, which clients a resolver will give the same answer (RFC 7871 caching).
fn scope_note(client: &ClientInfo, scope: u8) -> String {
    if scope == 0 {
        return "scope:    /0: the answer does not depend on the client; resolvers cache it for everyone".into();
    }
    format!(
        "scope:    /{scope}: every client in {}/{scope} gets this answer; resolvers cache it for that network",
        crate::geo::network_of(client.addr, scope)
    )
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
