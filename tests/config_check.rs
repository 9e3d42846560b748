//! `dynadns check` on GSLB mistakes, as an operator sees it: the real binary on files in a temp
//! dir, every error at its `file:line:col`, with a hint. Covers: datacenters that are not
//! declared (wherever they are written), keys that are reserved but not implemented yet, geo
//! keys without a GeoIP database and bad region codes, keys
//! of another check type, out-of-range values (`min_up`, weights, timeouts, numbers), a geo
//! map without `default`, duplicates in a members file, and that one run lists every
//! independent mistake without calling a defined name "unknown".

mod common;

use std::process::Command;

use common::{MINIMAL_ZONE, TempDir};

const HEAD: &str = "listen:\n  dns: [\"127.0.0.1:5353\"]\nzones: zones/\n";

/// One reported problem: `FILE:LINE:COL`, the message, the hint.
#[derive(Debug)]
struct Reported {
    at: String,
    message: String,
    hint: String,
}

/// Runs `dynadns check -c dynadns.yaml` in a temp dir holding `config` (after [`HEAD`]), a
/// one-zone `zones/` and `extra` files; returns the full server file text and the problems.
fn check(config: &str, extra: &[(&str, &str)]) -> (String, Vec<Reported>) {
    let text = format!("{HEAD}{config}");
    let mut files = vec![
        ("dynadns.yaml", text.as_str()),
        ("zones/example.com.yaml", MINIMAL_ZONE),
    ];
    files.extend_from_slice(extra);
    let dir = TempDir::with(&files);
    let out = Command::new(env!("CARGO_BIN_EXE_dynadns"))
        .args(["check", "-c", "dynadns.yaml"])
        .current_dir(&dir)
        .output()
        .expect("run dynadns check");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().collect();
    let mut reported = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some((at, message)) = l.split_once(": error: ") {
            let hint = lines
                .get(i + 1)
                .and_then(|h| h.strip_prefix("  hint: "))
                .unwrap_or("");
            reported.push(Reported {
                at: at.to_string(),
                message: message.to_string(),
                hint: hint.to_string(),
            });
        }
    }
    if reported.is_empty() {
        assert_eq!(
            out.status.code(),
            Some(0),
            "no errors but failed:\n{stderr}"
        );
    } else {
        assert_eq!(out.status.code(), Some(1), "{stderr}");
    }
    (text, reported)
}

/// `dynadns.yaml:LINE:COL` of the `n`th (0-based) occurrence of `needle` in `text`.
fn at(text: &str, needle: &str, n: usize) -> String {
    let mut seen = 0;
    for (i, line) in text.lines().enumerate() {
        let mut from = 0;
        while let Some(c) = line[from..].find(needle) {
            if seen == n {
                return format!("dynadns.yaml:{}:{}", i + 1, from + c + 1);
            }
            seen += 1;
            from += c + 1;
        }
    }
    panic!("{needle:?} #{n} not in\n{text}");
}

/// `dynadns.yaml:LINE:COL` of `sub` inside the first occurrence of `needle` (e.g. the value
/// of `min_up: 3`).
fn at_sub(text: &str, needle: &str, sub: &str) -> String {
    let off = needle.find(sub).expect("sub is part of needle");
    for (i, line) in text.lines().enumerate() {
        if let Some(c) = line.find(needle) {
            return format!("dynadns.yaml:{}:{}", i + 1, c + off + 1);
        }
    }
    panic!("{needle:?} not in\n{text}");
}

/// The problem reported at `location` whose message contains every word; panics listing all
/// problems when there is none.
fn find<'a>(all: &'a [Reported], location: &str, words: &[&str]) -> &'a Reported {
    all.iter()
        .find(|r| r.at == location && words.iter().all(|w| r.message.contains(w)))
        .unwrap_or_else(|| panic!("no error at {location} with {words:?} in:\n{all:#?}"))
}

#[test]
fn a_valid_config_passes() {
    let (_, all) = check(
        "datacenters: { msk: {}, spb: {} }\n\
         checks:\n  web: { type: http, path: /healthz, expect_status: [200, 204] }\n\
         resources:\n  www:\n    check: web\n    min_up: 2\n    \
         pools: { msk: [192.0.2.1, 192.0.2.2], spb: [192.0.2.3, 192.0.2.4] }\n",
        &[],
    );
    assert!(all.is_empty(), "{all:#?}");
}

/// Several independent mistakes in one file: every one is reported at its own place, and no
/// defined check is called unknown because its definition has errors.
#[test]
fn every_independent_mistake_is_listed_and_nothing_defined_is_unknown() {
    let config = "\
datacenters:
  msk: {}
  spb: {}
checks:
  web: { type: tcp, path: /healthz }
  page: { type: http, expect_status: [], timeout: 0 }
resources:
  www:
    check: web
    min_up: 0
    pools: { mks: [192.0.2.1], spb: [192.0.2.2] }
  api:
    check: page
    pools:
      msk: [{ address: 192.0.2.5, weight: 0 }]
";
    let (text, all) = check(config, &[]);
    // check `web`: tcp without port (at its name), and a key of another type.
    find(&all, &at(&text, "web:", 0), &["web", "tcp", "port"]);
    let path = find(
        &all,
        &at(&text, "path", 0),
        &["path", "does not apply", "tcp"],
    );
    assert!(
        path.hint.contains("port, interval, timeout, down, up"),
        "{path:?}"
    );
    // check `page`: empty expect_status, timeout 0.
    find(&all, &at(&text, "[]", 0), &["expect_status"]);
    find(&all, &at_sub(&text, "timeout: 0", "0"), &["timeout"]);
    // resource `www`: min_up 0 and a typo in a datacenter name.
    find(&all, &at_sub(&text, "min_up: 0", "0"), &["min_up 0"]);
    let typo = find(&all, &at(&text, "mks", 0), &["mks", "not declared"]);
    assert!(typo.hint.contains("did you mean 'msk'?"), "{typo:?}");
    assert!(typo.hint.contains("msk, spb"), "{typo:?}");
    // resource `api`: the only member has weight 0.
    find(&all, &at(&text, "msk: [{", 0), &["weight 0"]);
    assert_eq!(all.len(), 7, "{all:#?}");
    assert!(
        all.iter().all(|r| !r.message.contains("unknown")),
        "{all:#?}"
    );
}

/// A datacenter that is not declared is an error wherever it is written, with the declared
/// names in the hint: traffic is never routed to a name made up by a typo.
#[test]
fn an_undeclared_datacenter_is_an_error_everywhere() {
    let config = "\
datacenters: { msk: {}, spb: {} }
geo_maps:
  world:
    default: [msk, xdef]
    networks:
      \"198.51.100.0/24\": [xnet]
    networks_files: [partners.txt]
resources:
  www:
    pools: { msk: [192.0.2.1], xpool: [192.0.2.2] }
    route: { order: [msk, xorder] }
  api:
    cnames: { msk: api-msk.example.net., xcname: api-x.example.net. }
";
    let (text, all) = check(
        config,
        &[("partners.txt", "# partners\n10.0.0.0/8 msk,xfile\n")],
    );
    for name in ["xdef", "xnet", "xpool", "xorder", "xcname"] {
        let r = find(&all, &at(&text, name, 0), &[name, "not declared"]);
        assert!(r.hint.contains("declared datacenters: msk, spb"), "{r:?}");
    }
    find(&all, "partners.txt:2:16", &["xfile", "not declared"]);
    assert_eq!(all.len(), 6, "{all:#?}");
}

/// `limits.rrl` and `limits.cookies` values out of range, unknown keys under them and a
/// cookie secret that is not 128 bits of hex are errors at the value, with a hint.
#[test]
fn rrl_and_cookie_settings_are_checked() {
    let config = "\
limits:
  rrl: { rate: 2000000, slip: -1, ipv4_prefix: 33, burst: 5 }
  cookies: { secret: 0123456789abcdef }
";
    let (text, all) = check(config, &[]);
    find(&all, &at(&text, "2000000", 0), &["rrl rate"]);
    find(&all, &at(&text, "-1", 0), &["rrl slip"]);
    find(&all, &at(&text, "33", 0), &["rrl ipv4_prefix"]);
    let r = find(&all, &at(&text, "burst", 0), &["unknown key 'burst'"]);
    assert!(r.hint.contains("rate, slip"), "{r:?}");
    let r = find(
        &all,
        &at(&text, "0123456789abcdef", 0),
        &["32 hexadecimal digits"],
    );
    assert!(r.hint.contains("openssl rand -hex 16"), "{r:?}");
    assert_eq!(all.len(), 5, "{all:#?}");

    let (_, all) = check(
        "limits:\n  rrl: { rate: 0 }\n  cookies: { secret: e5e973e5a6b2a43f48e7dc849e37bfcf }\n",
        &[],
    );
    assert!(all.is_empty(), "{all:#?}");
}

/// Geo map keys that need the GeoIP database are errors at the key when no `geoip.database`
/// is configured; region codes are checked (capitals, ISO shapes, the seven continents) and
/// the datacenter names under them too.
#[test]
fn geo_keys_without_a_database_are_errors() {
    let config = "\
datacenters: { msk: {}, spb: {} }
geo_maps:
  world:
    default: [msk]
    continents: { EU: [msk], eu: [spb], XX: [msk] }
    countries: { RU: [msk, spx], Rus: [msk] }
    subdivisions: { RU-NVS: { dcs: [spb], only: true }, RU: [msk] }
    nearest: banana
";
    let (text, all) = check(config, &[]);
    for key in ["continents", "countries", "subdivisions", "nearest"] {
        let r = find(&all, &at(&text, key, 0), &[key, "needs geoip.database"]);
        assert!(r.hint.contains("geoip: { database: PATH }"), "{r:?}");
    }
    let r = find(&all, &at(&text, "eu:", 0), &["'eu'", "continent"]);
    assert!(r.hint.contains("capitals: EU"), "{r:?}");
    let r = find(&all, &at(&text, "XX", 0), &["'XX'", "continent"]);
    assert!(r.hint.contains("AF, AN, AS, EU, NA, OC, SA"), "{r:?}");
    find(&all, &at(&text, "spx", 0), &["spx", "not declared"]);
    let r = find(&all, &at(&text, "Rus", 0), &["'Rus'", "country"]);
    assert!(r.hint.contains("ISO 3166-1"), "{r:?}");
    let r = find(&all, &at(&text, "RU: [msk]", 0), &["'RU'", "subdivision"]);
    assert!(r.hint.contains("RU-NVS"), "{r:?}");
    find(&all, &at(&text, "banana", 0), &["nearest", "true or false"]);
    assert_eq!(all.len(), 10, "{all:#?}");
}

/// A GeoIP database that is missing or not a database is an error at `database`, naming the
/// file; the map keys that use it are then not reported again. `nearest: true` needs a
/// datacenter with a location.
#[test]
fn a_missing_or_broken_geoip_database_is_an_error_naming_the_file() {
    for (file, what) in [
        ("geoip/missing.mmdb", "cannot read"),
        ("geoip/junk.mmdb", "not a valid MaxMind database"),
    ] {
        let config = format!(
            "geoip:\n  database: {file}\ndatacenters: {{ msk: {{}}, spb: {{}} }}\n\
             geo_maps:\n  world:\n    default: [msk, spb]\n    countries: {{ RU: [spb] }}\n\
             \x20   nearest: true\n"
        );
        let (text, all) = check(&config, &[("geoip/junk.mmdb", "not a database\n")]);
        let r = find(&all, &at(&text, file, 0), &[file, what]);
        assert!(r.hint.contains("geoipupdate"), "{r:?}");
        find(&all, &at(&text, "true", 0), &["nearest", "location"]);
        assert_eq!(all.len(), 2, "{all:#?}");
    }
}

/// A key that belongs to another check type is an error at the key, with the keys the type
/// takes in the hint.
#[test]
fn keys_of_another_check_type_are_errors() {
    let config = "\
checks:
  t: { type: tcp, port: 80, host: a.example, expect_status: [200] }
  u: { type: always_up, port: 80 }
  h: { type: http, file: states.txt, insecure: true, ca_file: ca.pem }
  s: { type: https, insecure: true, ca_file: ca.pem, path: /ok }
  f: { type: file, file: states.txt, expect_body: OK }
";
    let (text, all) = check(config, &[]);
    let cases = [
        ("host", 0, "tcp"),
        ("expect_status", 0, "tcp"),
        ("port", 1, "always_up"),
        ("file", 0, "http"),
        ("insecure", 0, "http"),
        ("ca_file", 0, "http"),
        ("expect_body", 0, "file"),
    ];
    for (key, n, ty) in cases {
        let r = find(
            &all,
            &at(&text, &format!("{key}:"), n),
            &[key, "does not apply", ty],
        );
        assert!(r.hint.contains(&format!("a {ty} check takes:")), "{r:?}");
    }
    let up = find(&all, &at(&text, "port:", 1), &["always_up"]);
    assert!(up.hint.contains("interval, timeout, down, up"), "{up:?}");
    assert_eq!(all.len(), cases.len(), "{all:#?}");
}

/// `min_up` must be reachable and meaningful; a pool of only weight-0 members can never answer.
#[test]
fn min_up_and_weights_out_of_range_are_errors() {
    let config = "\
datacenters: { msk: {}, spb: {} }
resources:
  zero:
    min_up: 0%
    pools: { msk: [192.0.2.1] }
  over:
    min_up: 150%
    pools: { msk: [192.0.2.1] }
  enough:
    min_up: 3
    pools:
      msk: [192.0.2.1, 192.0.2.2, 192.0.2.3]
      spb: [192.0.2.4, { address: 192.0.2.5, weight: 0 }, 192.0.2.6, 192.0.2.7]
  weights:
    pools:
      spb: [{ address: 192.0.2.9, weight: 0 }, { address: 192.0.2.8, weight: 0 }]
";
    let (text, all) = check(config, &[]);
    find(&all, &at_sub(&text, "min_up: 0%", "0%"), &["min_up 0%"]);
    find(
        &all,
        &at_sub(&text, "min_up: 150%", "150%"),
        &["150%", "100%"],
    );
    find(&all, &at(&text, "spb: [{", 0), &["weight 0", "spb"]);
    assert_eq!(all.len(), 3, "{all:#?}");

    // min_up larger than a pool's answerable members (weight 0 does not count).
    let (text, all) = check(
        "datacenters: { msk: {}, spb: {} }\nresources:\n  www:\n    min_up: 3\n    pools:\n      \
         msk: [192.0.2.1, 192.0.2.2, 192.0.2.3]\n      \
         spb: [192.0.2.4, { address: 192.0.2.5, weight: 0 }, 192.0.2.6]\n",
        &[],
    );
    let r = find(
        &all,
        &at_sub(&text, "min_up: 3", "3"),
        &["min_up 3", "'spb' (2)"],
    );
    assert!(!r.message.contains("'msk'"), "{r:?}");
    assert!(r.hint.contains("50%"), "{r:?}");
    assert_eq!(all.len(), 1, "{all:#?}");
}

/// A geo map must say where clients go when no rule matches.
#[test]
fn a_geo_map_without_default_is_an_error() {
    let config = "\
datacenters: { msk: {} }
geo_maps:
  world:
    networks: { \"10.0.0.0/8\": [msk] }
";
    let (text, all) = check(config, &[]);
    let r = find(&all, &at(&text, "world", 0), &["world", "no default"]);
    assert_eq!(
        r.hint,
        "add default: [DC, ...]: the order for clients no rule matches"
    );
    assert_eq!(all.len(), 1, "{all:#?}");
}

/// A duplicate address in a members file is reported at its line in that file.
#[test]
fn a_duplicate_in_a_members_file_is_reported_at_its_line() {
    let config = "\
datacenters: { msk: {} }
resources:
  www:
    pools:
      msk: { members_file: pools/msk.txt }
";
    let members = "# msk\n10.0.0.1\n10.0.0.2 weight=2\n  10.0.0.1 weight=3\n";
    let (_, all) = check(config, &[("pools/msk.txt", members)]);
    let r = find(&all, "pools/msk.txt:4:3", &["10.0.0.1", "twice", "msk"]);
    assert!(!r.hint.is_empty(), "{r:?}");
    assert_eq!(all.len(), 1, "{all:#?}");
}

/// A number out of range says so (with the range), rather than "not a number".
#[test]
fn a_number_out_of_range_names_the_range() {
    let (text, all) = check(
        "limits:\n  max_answers: 5000\n  edns_udp_payload: lots\n",
        &[],
    );
    let r = find(
        &all,
        &at(&text, "5000", 0),
        &["max_answers", "out of range (1..=1024)"],
    );
    assert!(r.hint.contains("1 to 1024"), "{r:?}");
    find(
        &all,
        &at(&text, "lots", 0),
        &["edns_udp_payload", "whole number"],
    );
    assert_eq!(all.len(), 2, "{all:#?}");
}

/// A misspelt check or check type gets a "did you mean" hint.
#[test]
fn near_misses_are_suggested() {
    let config = "\
datacenters: { msk: {} }
checks:
  web: { type: htpt }
resources:
  www:
    check: wbe
    pools: { msk: [192.0.2.1] }
";
    let (text, all) = check(config, &[]);
    let t = find(&all, &at(&text, "htpt", 0), &["unknown check type 'htpt'"]);
    assert!(t.hint.starts_with("did you mean 'http'?"), "{t:?}");
    let c = find(&all, &at(&text, "wbe", 0), &["unknown check 'wbe'"]);
    assert!(c.hint.starts_with("did you mean 'web'?"), "{c:?}");
    assert_eq!(all.len(), 2, "{all:#?}");
}

/// A path or a name written as a list or a mapping is an error, not a setting that is skipped
/// (an https check would otherwise drop its CA file and fail every probe, a pool its members).
#[test]
fn a_list_where_one_value_belongs_is_an_error() {
    let config = "\
datacenters: { msk: {} }
checks:
  web: { type: https, ca_file: [ca.pem], host: { name: a.example } }
resources:
  www:
    check: web
    pools: { msk: { members_file: [pools/msk.txt] } }
";
    let (text, all) = check(config, &[("pools/msk.txt", "10.0.0.1\n")]);
    find(
        &all,
        &at(&text, "[ca.pem]", 0),
        &["ca_file", "single value"],
    );
    find(&all, &at(&text, "{ name", 0), &["host", "single value"]);
    find(
        &all,
        &at(&text, "[pools", 0),
        &["members_file", "single value"],
    );
    assert_eq!(all.len(), 3, "{all:#?}");
}

/// A weight in a members file is held to the same range, with the same words, as in the
/// server file.
#[test]
fn a_members_file_weight_out_of_range_names_the_range() {
    let config = "\
datacenters: { msk: {} }
resources:
  www:
    pools: { msk: { members_file: pools/msk.txt } }
";
    let members = "10.0.0.1 weight=2000000\n10.0.0.2 weight=heavy\n10.0.0.3\n";
    let (_, all) = check(config, &[("pools/msk.txt", members)]);
    find(
        &all,
        "pools/msk.txt:1:10",
        &["weight '2000000'", "out of range (0..=1000000)"],
    );
    find(
        &all,
        "pools/msk.txt:2:10",
        &["weight 'heavy'", "not a whole number"],
    );
    assert_eq!(all.len(), 2, "{all:#?}");
}

/// What used to pass silently and route nowhere: an empty datacenter list, an empty pool, a
/// network written twice (one of its orders would never be used), `networks` written as a
/// list, and a route that is both an order and a geo map.
#[test]
fn empty_lists_duplicate_networks_and_double_routes_are_errors() {
    let config = "\
datacenters: { msk: {}, spb: {} }
geo_maps:
  world:
    default: []
    networks: { \"10.0.0.0/8\": [msk], \"11.0.0.0/8\": [] }
    networks_files: [partners.txt]
  list:
    default: [msk]
    networks: [\"12.0.0.0/8 msk\"]
resources:
  www:
    pools: { msk: [], spb: { members_file: pools/spb.txt } }
    route: { geo: world, order: [msk] }
";
    let (text, all) = check(
        config,
        &[
            ("partners.txt", "# partners\n10.0.0.0/8 spb\n13.0.0.0/8 ,\n"),
            ("pools/spb.txt", "# nothing yet\n"),
        ],
    );
    find(&all, &at(&text, "[]", 0), &["default lists no datacenter"]);
    find(
        &all,
        &at(&text, "[]", 1),
        &["network 11.0.0.0/8 lists no datacenter"],
    );
    find(
        &all,
        "partners.txt:2:1",
        &["network 10.0.0.0/8 is listed twice"],
    );
    find(
        &all,
        "partners.txt:3:12",
        &["network 13.0.0.0/8 lists no datacenter"],
    );
    find(
        &all,
        &at(&text, "[\"12.0", 0),
        &["networks must be a mapping"],
    );
    find(
        &all,
        &at(&text, "msk: []", 0),
        &["pool 'msk' has no members"],
    );
    find(
        &all,
        &at(&text, "spb: { members_file", 0),
        &["pool 'spb' has no members"],
    );
    find(&all, &at_sub(&text, "geo: world", "world"), &["not both"]);
    assert_eq!(all.len(), 8, "{all:#?}");
}

/// What only the prober can check (a host that is not a host name, a CA file that is not
/// there) fails `check`, at the check's name: at serve time those targets would never be
/// probed.
#[test]
fn a_check_the_prober_cannot_build_is_an_error() {
    let config = "\
datacenters: { msk: {} }
checks:
  named: { type: http, host: \"www.example.com:8080\" }
  trusted: { type: https, ca_file: certs/missing.pem }
resources:
  www:
    check: named
    pools: { msk: [192.0.2.1] }
";
    let (text, all) = check(config, &[]);
    find(&all, &at(&text, "named:", 0), &["host", "bare host name"]);
    find(&all, &at(&text, "trusted:", 0), &["ca_file", "missing.pem"]);
    assert_eq!(all.len(), 2, "{all:#?}");
}

/// A networks file line may end in `only` (no fall-through to the rest of `default`); any
/// other third word is an error at its column, and a clean file passes.
#[test]
fn a_networks_file_takes_only_as_third_word() {
    let config = "\
datacenters: { msk: {}, spb: {} }
geo_maps:
  world:
    default: [msk, spb]
    networks_files: [partners.txt]
";
    let (_, all) = check(
        config,
        &[(
            "partners.txt",
            "10.0.0.0/8 spb only\n11.0.0.0/8 spb,msk\n12.0.0.0/8 spb solo\n",
        )],
    );
    let r = find(&all, "partners.txt:3:16", &["'only'", "'solo'"]);
    assert!(r.hint.contains("[only]"), "{r:?}");
    assert_eq!(all.len(), 1, "{all:#?}");
    let (_, all) = check(
        config,
        &[("partners.txt", "10.0.0.0/8 spb only\n11.0.0.0/8 spb,msk\n")],
    );
    assert!(all.is_empty(), "{all:#?}");
}
