//! Prometheus text exposition of health and GSLB state.

use std::fmt::Write as _;

use crate::gslb::members::PoolView;
use crate::health::monitor::TargetStatus;
use crate::snapshot::Snapshot;

/// Escapes a label value (backslash, quote, newline).
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One gauge per resource pool.
fn pool_gauge(
    o: &mut String,
    snap: &Snapshot,
    name: &str,
    help: &str,
    value: fn(&PoolView) -> u32,
) {
    let _ = writeln!(o, "# HELP {name} {help}");
    let _ = writeln!(o, "# TYPE {name} gauge");
    for (r, v) in snap
        .gslb
        .resources
        .iter()
        .zip(snap.resolvers.iter().map(|r| &r.view))
    {
        for p in v.pools.iter() {
            let _ = writeln!(
                o,
                "{name}{{resource=\"{}\",datacenter=\"{}\"}} {}",
                esc(&r.name),
                esc(snap.gslb.dc_name(p.dc)),
                value(p)
            );
        }
    }
}

/// Renders every metric.
pub fn render(snap: &Snapshot, targets: &[TargetStatus]) -> String {
    let mut o = String::with_capacity(4096 + targets.len() * 512);
    let _ = writeln!(
        o,
        "# HELP dynadns_snapshot_generation Generation of the published snapshot (grows on reload and health changes)."
    );
    let _ = writeln!(o, "# TYPE dynadns_snapshot_generation gauge");
    let _ = writeln!(o, "dynadns_snapshot_generation {}", snap.generation);
    geo(&mut o, &snap.gslb);

    pool_gauge(
        &mut o,
        snap,
        "dynadns_pool_up",
        "Whether a resource's pool in a datacenter is up (min_up and forced states applied).",
        |p| u32::from(p.up),
    );
    pool_gauge(
        &mut o,
        snap,
        "dynadns_pool_members_up",
        "Members up in a pool.",
        |p| p.up_count,
    );

    let _ = writeln!(
        o,
        "# HELP dynadns_target_up Probed state of a health target (1 up, 0 down), before forced states."
    );
    let _ = writeln!(o, "# TYPE dynadns_target_up gauge");
    for t in targets {
        let _ = writeln!(
            o,
            "dynadns_target_up{{address=\"{}\",check=\"{}\"}} {}",
            t.address,
            esc(&t.check),
            u8::from(t.up)
        );
    }
    let _ = writeln!(
        o,
        "# HELP dynadns_target_forced Forced state of a member address (1 for the forced state)."
    );
    let _ = writeln!(o, "# TYPE dynadns_target_forced gauge");
    for t in targets {
        if let Some(f) = t.forced {
            let _ = writeln!(
                o,
                "dynadns_target_forced{{address=\"{}\",check=\"{}\",state=\"{f}\"}} 1",
                t.address,
                esc(&t.check)
            );
        }
    }
    let _ = writeln!(
        o,
        "# HELP dynadns_target_last_change_seconds When the target's state last changed (Unix time)."
    );
    let _ = writeln!(o, "# TYPE dynadns_target_last_change_seconds gauge");
    for t in targets {
        if let Some((at, _)) = &t.last_change {
            let _ = writeln!(
                o,
                "dynadns_target_last_change_seconds{{address=\"{}\",check=\"{}\"}} {at}",
                t.address,
                esc(&t.check)
            );
        }
    }
    let _ = writeln!(
        o,
        "# HELP dynadns_probes_total Probes of a target by result."
    );
    let _ = writeln!(o, "# TYPE dynadns_probes_total counter");
    for t in targets {
        for (label, n) in t.stats.counts() {
            if n > 0 {
                let _ = writeln!(
                    o,
                    "dynadns_probes_total{{address=\"{}\",check=\"{}\",result=\"{label}\"}} {n}",
                    t.address,
                    esc(&t.check)
                );
            }
        }
    }
    let _ = writeln!(o, "# HELP dynadns_probe_duration_seconds Probe latency.");
    let _ = writeln!(o, "# TYPE dynadns_probe_duration_seconds histogram");
    for t in targets {
        if t.stats.total() == 0 {
            continue;
        }
        let labels = format!("address=\"{}\",check=\"{}\"", t.address, esc(&t.check));
        for (le, n) in t.stats.histogram() {
            match le {
                Some(ms) => {
                    let _ = writeln!(
                        o,
                        "dynadns_probe_duration_seconds_bucket{{{labels},le=\"{}\"}} {n}",
                        ms as f64 / 1000.0
                    );
                }
                None => {
                    let _ = writeln!(
                        o,
                        "dynadns_probe_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {n}"
                    );
                }
            }
        }
        let _ = writeln!(
            o,
            "dynadns_probe_duration_seconds_sum{{{labels}}} {}",
            t.stats.latency_sum().as_secs_f64()
        );
        let _ = writeln!(
            o,
            "dynadns_probe_duration_seconds_count{{{labels}}} {}",
            t.stats.total()
        );
    }
    o
}

/// What the server process itself counts, besides the snapshot and the prober.
pub struct ServerMetrics {
    /// Reloads by (trigger, outcome).
    pub reloads: Vec<((&'static str, &'static str), u64)>,
    /// The watched data files.
    pub sources: Vec<super::SourceStatus>,
    /// DNS messages received over UDP.
    pub queries_udp: u64,
    /// DNS messages received over TCP.
    pub queries_tcp: u64,
    /// UDP responses rate limiting dropped.
    pub rrl_dropped: u64,
    /// UDP responses rate limiting sent truncated instead.
    pub rrl_slipped: u64,
    /// UDP queries by what their COOKIE option proved (`valid`, `invalid`, `client_only`).
    pub cookies: [(&'static str, u64); 3],
}

/// Appends the reload, data file and query metrics.
pub fn render_server(o: &mut String, m: &ServerMetrics) {
    let _ = writeln!(
        o,
        "# HELP dynadns_queries_total DNS messages received, by transport."
    );
    let _ = writeln!(o, "# TYPE dynadns_queries_total counter");
    let _ = writeln!(
        o,
        "dynadns_queries_total{{transport=\"udp\"}} {}",
        m.queries_udp
    );
    let _ = writeln!(
        o,
        "dynadns_queries_total{{transport=\"tcp\"}} {}",
        m.queries_tcp
    );
    let _ = writeln!(
        o,
        "# HELP dynadns_rrl_dropped_total UDP responses not sent: over the rate limit (limits.rrl)."
    );
    let _ = writeln!(o, "# TYPE dynadns_rrl_dropped_total counter");
    let _ = writeln!(o, "dynadns_rrl_dropped_total {}", m.rrl_dropped);
    let _ = writeln!(
        o,
        "# HELP dynadns_rrl_slipped_total UDP responses over the rate limit sent truncated (TC=1) instead."
    );
    let _ = writeln!(o, "# TYPE dynadns_rrl_slipped_total counter");
    let _ = writeln!(o, "dynadns_rrl_slipped_total {}", m.rrl_slipped);
    let _ = writeln!(
        o,
        "# HELP dynadns_cookies_total UDP queries with a DNS cookie, by result (valid server cookie, invalid one, client cookie only)."
    );
    let _ = writeln!(o, "# TYPE dynadns_cookies_total counter");
    for (result, n) in &m.cookies {
        let _ = writeln!(o, "dynadns_cookies_total{{result=\"{result}\"}} {n}");
    }
    let _ = writeln!(
        o,
        "# HELP dynadns_reloads_total Reloads by trigger (signal, file) and outcome (ok, failed)."
    );
    let _ = writeln!(o, "# TYPE dynadns_reloads_total counter");
    for ((trigger, outcome), n) in &m.reloads {
        let _ = writeln!(
            o,
            "dynadns_reloads_total{{trigger=\"{trigger}\",outcome=\"{outcome}\"}} {n}"
        );
    }
    let _ = writeln!(
        o,
        "# HELP dynadns_source_modified_timestamp_seconds Modification time of a watched data file (Unix time; absent while the file is missing)."
    );
    let _ = writeln!(o, "# TYPE dynadns_source_modified_timestamp_seconds gauge");
    for s in &m.sources {
        if let Some(t) = s.modified_unix {
            let _ = writeln!(
                o,
                "dynadns_source_modified_timestamp_seconds{{path=\"{}\"}} {t}",
                esc(&s.path)
            );
        }
    }
    let _ = writeln!(
        o,
        "# HELP dynadns_source_exists Whether a watched data file exists (1) or is missing (0)."
    );
    let _ = writeln!(o, "# TYPE dynadns_source_exists gauge");
    for s in &m.sources {
        let _ = writeln!(
            o,
            "dynadns_source_exists{{path=\"{}\"}} {}",
            esc(&s.path),
            u8::from(s.exists)
        );
    }
}

/// The GeoIP database's build date and size, and what each map took from each BGP dump: an
/// alert on a stale database or an empty dump catches a broken update pipeline.
fn geo(o: &mut String, g: &crate::gslb::Gslb) {
    if let Some(db) = &g.geoip {
        let i = &db.info;
        let path = esc(&i.path.display().to_string());
        let _ = writeln!(
            o,
            "# HELP dynadns_geoip_build_timestamp_seconds When the serving GeoIP database was built (Unix time)."
        );
        let _ = writeln!(o, "# TYPE dynadns_geoip_build_timestamp_seconds gauge");
        let _ = writeln!(
            o,
            "dynadns_geoip_build_timestamp_seconds{{path=\"{path}\",type=\"{}\"}} {}",
            esc(&i.database_type),
            i.build_epoch
        );
        let _ = writeln!(
            o,
            "# HELP dynadns_geoip_networks Networks with data in the serving GeoIP database."
        );
        let _ = writeln!(o, "# TYPE dynadns_geoip_networks gauge");
        let _ = writeln!(
            o,
            "dynadns_geoip_networks{{path=\"{path}\"}} {}",
            i.networks
        );
    }
    if !g.bgp_dumps.is_empty() {
        let _ = writeln!(
            o,
            "# HELP dynadns_bgp_prefixes Prefixes a geo map took from a BGP dump."
        );
        let _ = writeln!(o, "# TYPE dynadns_bgp_prefixes gauge");
        for u in &g.bgp_dumps {
            let _ = writeln!(
                o,
                "dynadns_bgp_prefixes{{map=\"{}\",dump=\"{}\"}} {}",
                esc(&u.map),
                esc(&u.dump.display().to_string()),
                u.prefixes
            );
        }
    }
}
