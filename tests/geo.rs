//! Geo routing with the GeoIP database, as a DNS client sees it: a real server with
//! `geoip.database` = the MaxMind City test database (`../shared/geoip/GeoIP2-City-Test.mmdb`)
//! answers ECS queries (built and decoded with hickory-proto) by subdivision, country,
//! continent and distance; `only` entries do not fall through; operator networks beat the
//! database; IPv6 and IPv4-mapped clients; the ECS scope is the network in which the answer is
//! the same; `use_ecs: false` routes by the packet source with scope 0; `explain` agrees with
//! the wire; `check` and `serve` refuse a missing or corrupt database, naming the file.
//!
//! The addresses and what the database says about them (`../shared/geoip/ORIGIN.md`, and the
//! rows of the test database):
//!
//! - 81.2.69.142/31, .144/28, .160/27, .192/28: GB, England, London (51.5142, -0.0931);
//! - 89.160.20.112/28 and .128/25: SE, SE-E, Linköping;
//! - 175.16.199.0/24: CN (AS), Changchun;
//! - 216.160.83.56/29 and .64/29: US, US-WA;
//! - 214.0.1.0/24: AU (OC), Melbourne;
//! - 2.125.160.216/29: GB, Boxford;
//! - 2001:218::/32: JP (AS); 2001:219::/32 .. 2001:21f::/32 are not in the database.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::{QueryBuilder, TempDir, TestServer};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::{RData, RecordType};

/// The City test database, or `None` (test skipped) without the shared checkout.
fn city_db() -> Option<PathBuf> {
    common::shared_path("geoip/GeoIP2-City-Test.mmdb", "GeoIP City test database")
}

const LON: &str = "10.0.0.1";
const STO: &str = "10.0.0.2";
const SEA: &str = "10.0.0.3";
const TYO: &str = "10.0.0.4";

/// Four datacenters with locations; default order starts with sto, so a London client that
/// gets lon was ranked by distance, not by default.
fn config(db: &Path) -> String {
    format!(
        "\
listen:
  dns: [\"127.0.0.1:5353\"]
zones: zones/
geoip:
  database: {db}
datacenters:
  lon: {{ location: [51.5, -0.13] }}
  sto: {{ location: [59.33, 18.07] }}
  sea: {{ location: [47.6, -122.3] }}
  tyo: {{ location: [35.68, 139.69] }}
checks:
  state: {{ type: file, file: health.txt, interval: 2s }}
geo_maps:
  world:
    default: [sto, lon, sea, tyo]
    subdivisions: {{ US-WA: {{ dcs: [sea], only: true }} }}
    countries: {{ SE: [sto] }}
    continents: {{ AS: [tyo, sea] }}
    networks: {{ \"2.125.160.0/24\": {{ dcs: [tyo], only: true }} }}
    nearest: true
  se:
    default: [lon, sto]
    countries: {{ SE: [sto] }}
resources:
  www:
    ttl: 30
    pools: {{ lon: [{LON}], sto: [{STO}], sea: [{SEA}], tyo: [{TYO}] }}
    route: {{ geo: world }}
  degraded:
    ttl: 30
    check: state
    pools: {{ lon: [{LON}], sto: [{STO}], sea: [{SEA}], tyo: [{TYO}] }}
    route: {{ geo: world }}
    when_all_down: empty
  se:
    ttl: 30
    pools: {{ lon: [{LON}], sto: [{STO}] }}
    route: {{ geo: se }}
  direct:
    ttl: 30
    pools: {{ lon: [{LON}], sto: [{STO}], sea: [{SEA}], tyo: [{TYO}] }}
    route: {{ geo: world }}
    use_ecs: false
",
        db = db.display()
    )
}

const ZONE: &str = "\
zone: example.com
soa: { primary: ns1, contact: hostmaster, serial: 1 }
records:
  \"@\": { NS: [ns1] }
  ns1: { A: 192.0.2.53 }
  www: { DYNA: www }
  degraded: { DYNA: degraded }
  se: { DYNA: se }
  direct: { DYNA: direct }
";

/// sto and sea are down for the `degraded` resource.
const HEALTH: &str = "10.0.0.2 down\n10.0.0.3 down\n";

fn start(db: &Path) -> TestServer {
    let cfg = config(db);
    TestServer::start_with(&[
        ("dynadns.yaml", cfg.as_str()),
        ("zones/example.com.yaml", ZONE),
        ("health.txt", HEALTH),
    ])
}

/// An A query with EDNS carrying client subnet `subnet` (`ADDR/LEN`).
fn ecs_q(name: &str, subnet: &str) -> Message {
    QueryBuilder::new(name, RecordType::A).ecs(subnet).build()
}

fn addrs(m: &Message) -> Vec<String> {
    let mut v: Vec<String> = m
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0).to_string()),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

fn scope(m: &Message) -> Option<u8> {
    match m.edns.as_ref()?.option(EdnsCode::Subnet)? {
        EdnsOption::Subnet(cs) => Some(cs.scope_prefix()),
        _ => None,
    }
}

/// (addresses, scope) of `name` for ECS `subnet`.
fn ask(server: &TestServer, name: &str, subnet: &str) -> (Vec<String>, Option<u8>) {
    let reply = server.udp(&ecs_q(name, subnet));
    assert_eq!(
        reply.metadata.response_code,
        ResponseCode::NoError,
        "{name} {subnet}"
    );
    (addrs(&reply), scope(&reply))
}

fn one(a: &str) -> Vec<String> {
    vec![a.to_string()]
}

/// Every rule of the lookup order, over the wire, with the scope each answer must carry.
#[test]
fn geo_routing_by_database_over_the_wire() {
    let Some(db) = city_db() else {
        return;
    };
    let server = start(&db);
    let www = "www.example.com.";

    // Subdivision: 216.160.83.56/29 is US-WA -> { dcs: [sea], only: true }. The next
    // network, 216.160.83.64/29, is US-WA too (same decision, so one range .56-.71), but
    // no block wider than /29 around .56 lies inside .56-.71: scope 29.
    assert_eq!(ask(&server, www, "216.160.83.56/32"), (one(SEA), Some(29)));

    // Country: 89.160.20.128/25 is SE -> sto. 89.160.20.112/28 (SE too) merges with it into
    // .112-.255, but the /24 would hold .0-.111 (not SE): scope 25.
    assert_eq!(ask(&server, www, "89.160.20.128/25"), (one(STO), Some(25)));

    // Continent: 175.16.199.0/24 is CN, continent AS -> [tyo, sea, ...]: scope 24.
    assert_eq!(ask(&server, www, "175.16.199.1/32"), (one(TYO), Some(24)));

    // Nearest: London (GB has no entry, nor EU) -> lon first although default starts with
    // sto. London's networks .142/31, .144/28, .160/27, .192/28 share one place, hence one
    // decision and one range .142-.207; the widest block around .160 inside it is the /27.
    assert_eq!(ask(&server, www, "81.2.69.160/32"), (one(LON), Some(27)));
    // Around .150 only the /28 (.144-.159) fits: .128/27 would hold .128-.141.
    assert_eq!(ask(&server, www, "81.2.69.150/32"), (one(LON), Some(28)));
    // Melbourne (OC, no entry): tyo is the nearest datacenter (about 8,100 km).
    assert_eq!(ask(&server, www, "214.0.1.1/32"), (one(TYO), Some(24)));

    // An operator network beats the more specific database network inside it: Boxford's
    // 2.125.160.216/29 would be nearest (lon); the operator's /24 says tyo, scope 24.
    assert_eq!(ask(&server, www, "2.125.160.217/32"), (one(TYO), Some(24)));

    // Not in the database: default order (sto).
    assert_eq!(ask(&server, www, "10.1.2.3/32").0, one(STO));

    // IPv6: 2001:218::/32 is JP (AS) -> tyo; 2001:219::/32 is not in the database, so the
    // range is the /32 itself.
    assert_eq!(ask(&server, www, "2001:218::1/128"), (one(TYO), Some(32)));
    // IPv4-mapped IPv6 clients use the IPv4 table; the scope counts the 96-bit prefix:
    // SE's /25 becomes ::ffff:89.160.20.128/121.
    assert_eq!(
        ask(&server, www, "::ffff:89.160.20.128/128"),
        (one(STO), Some(121))
    );

    // The scope is the widest network with the same answer, not the database network: in
    // map `se` only SE has an entry, so 81.2.69.160 gets the default order like every
    // address from 0.0.0.0 up to 89.160.20.111; 80.0.0.0/5 lies inside that range, /4
    // (80.0.0.0-95.255.255.255) would hold SE's 89.160.20.112: scope 5, not the DB's /27.
    assert_eq!(
        ask(&server, "se.example.com.", "81.2.69.160/32"),
        (one(LON), Some(5))
    );
    assert_eq!(
        ask(&server, "se.example.com.", "89.160.20.200/32"),
        (one(STO), Some(25))
    );
}

/// `only: true` never falls through to the rest of default; a list entry does.
#[test]
fn only_entries_do_not_fall_through() {
    let Some(db) = city_db() else {
        return;
    };
    let server = start(&db);
    let name = "degraded.example.com.";
    // SE lists [sto] (only: false): sto is down -> the rest of default, lon first.
    assert_eq!(ask(&server, name, "89.160.20.128/25").0, one(LON));
    // US-WA is { dcs: [sea], only: true }: sea is down -> when_all_down: empty, no lon.
    let (a, s) = ask(&server, name, "216.160.83.56/32");
    assert!(a.is_empty(), "{a:?}");
    assert_eq!(s, Some(29));
}

/// `use_ecs: false`: the packet source (127.0.0.1, in no database network) decides, and the
/// answer says with scope 0 that it did not use the client subnet.
#[test]
fn use_ecs_false_routes_by_source_with_scope_zero() {
    let Some(db) = city_db() else {
        return;
    };
    let server = start(&db);
    // With ECS, www would answer sto for SE too; pick an address that would go elsewhere.
    assert_eq!(
        ask(&server, "www.example.com.", "175.16.199.1/32").0,
        one(TYO)
    );
    assert_eq!(
        ask(&server, "direct.example.com.", "175.16.199.1/32"),
        (one(STO), Some(0))
    );
}

/// The scope `explain` prints (`ecs scope /N`) and its answer equal the wire's, and explain
/// shows the database network, the place and, for `nearest`, the distance ranking.
#[test]
fn explain_shows_the_database_and_agrees_with_the_wire() {
    let Some(db) = city_db() else {
        return;
    };
    let server = start(&db);
    let cfg = server.dir().join("dynadns.yaml");
    let cfg = cfg.to_str().unwrap();
    let explain = |ecs: &str, name: &str| {
        let out = common::run_dynadns(
            Path::new("/"),
            &[
                "explain",
                "-c",
                cfg,
                "--client",
                "127.0.0.1",
                "--ecs",
                ecs,
                name,
                "A",
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let london = explain("81.2.69.160/32", "www.example.com");
    for needle in [
        "database network 81.2.69.160/27",
        "country GB",
        "continent EU",
        "city London",
        "nearest:  lon 3 km, sto",
        "nearest datacenters first -> [lon, sto, sea, tyo]",
    ] {
        assert!(london.contains(needle), "{needle:?} not in\n{london}");
    }
    let wa = explain("216.160.83.56/32", "www.example.com");
    assert!(wa.contains("subdivision US-WA matched -> [sea]"), "{wa}");
    assert!(wa.contains("US-WA"), "{wa}");

    for (ecs, name) in [
        ("81.2.69.160/32", "www.example.com."),
        ("81.2.69.150/32", "www.example.com."),
        ("89.160.20.128/25", "www.example.com."),
        ("175.16.199.1/32", "www.example.com."),
        ("216.160.83.56/32", "degraded.example.com."),
        ("2.125.160.217/32", "www.example.com."),
        ("2001:218::1/128", "www.example.com."),
        ("::ffff:89.160.20.128/128", "www.example.com."),
        ("81.2.69.160/32", "se.example.com."),
        ("175.16.199.1/32", "direct.example.com."),
    ] {
        let text = explain(ecs, name);
        let (wire, wire_scope) = ask(&server, name, ecs);
        let scope_line = text
            .lines()
            .find_map(|l| l.split("ecs scope /").nth(1))
            .unwrap_or_else(|| panic!("no scope in\n{text}"));
        assert_eq!(
            scope_line.trim().parse::<u8>().ok(),
            wire_scope,
            "{name} {ecs}:\n{text}"
        );
        // Only US-WA's `only` entry for `degraded` (sea down) answers nothing; everywhere
        // else the loop below has addresses to find in the explanation.
        assert_eq!(
            wire.is_empty(),
            name == "degraded.example.com.",
            "{name} {ecs}: answer {wire:?}"
        );
        for a in &wire {
            assert!(
                text.contains(a.as_str()),
                "{name} {ecs}: {a} not in\n{text}"
            );
        }
    }
}

/// `check` and `serve` refuse a missing or corrupt database with a message naming the file.
#[test]
fn check_and_serve_refuse_a_missing_or_broken_database() {
    let Some(broken) = common::shared_path(
        "geoip/MaxMind-DB-test-broken-pointers-24.mmdb",
        "broken GeoIP test database",
    ) else {
        return;
    };
    let Some(tree) = common::shared_path(
        "geoip/MaxMind-DB-test-broken-search-tree-24.mmdb",
        "broken GeoIP test database",
    ) else {
        return;
    };
    let missing = PathBuf::from("geoip/missing.mmdb");
    for (db, words) in [
        (
            broken,
            &["MaxMind-DB-test-broken-pointers-24.mmdb", "corrupt"][..],
        ),
        (
            tree,
            &["MaxMind-DB-test-broken-search-tree-24.mmdb", "corrupt"][..],
        ),
        (missing, &["geoip/missing.mmdb", "cannot read"][..]),
    ] {
        let cfg = config(&db);
        let dir = TempDir::with(&[
            ("dynadns.yaml", cfg.as_str()),
            ("zones/example.com.yaml", ZONE),
            ("health.txt", HEALTH),
        ]);
        for args in [
            &["check", "-c", "dynadns.yaml"][..],
            &["serve", "-c", "dynadns.yaml", "--listen", "127.0.0.1:0"][..],
        ] {
            let out = common::run_dynadns(dir.path(), args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?} accepted {}", db.display());
            for w in words {
                assert!(err.contains(w), "{args:?}: {w:?} not in\n{err}");
            }
            assert!(
                err.contains("dynadns.yaml:5:"),
                "{args:?}: not at database:\n{err}"
            );
        }
    }
}

/// Entry forms as loaded: a list is `only: false`, `{ dcs, only }` says it, and a networks
/// file line ending in `only` is exclusive; the database is shared by the configuration.
#[test]
fn entry_forms_load_with_their_only_flag() {
    let Some(db) = city_db() else {
        return;
    };
    let cfg = config(&db).replace(
        "    nearest: true\n",
        "    nearest: true\n    networks_files: [partners.txt]\n",
    );
    let dir = TempDir::with(&[
        ("dynadns.yaml", cfg.as_str()),
        ("zones/example.com.yaml", ZONE),
        ("health.txt", HEALTH),
        (
            "partners.txt",
            "192.0.2.0/24 lon only\n198.51.100.0/24 sea\n",
        ),
    ]);
    let loaded = dynadns::config::load(&dir.join("dynadns.yaml")).expect("loads");
    let g = &loaded.config.gslb;
    let info = &g.geoip.as_ref().expect("database loaded").info;
    assert_eq!(info.database_type, "GeoIP2-City");
    assert!(
        loaded.config.sources.iter().any(|p| p == &db),
        "database is watched"
    );
    let world = &g.geo_maps[0];
    let only = |net: &str| {
        world
            .networks
            .longest_match(net.parse().unwrap())
            .map(|(o, _)| o.only)
    };
    assert_eq!(only("2.125.160.1"), Some(true));
    assert_eq!(only("192.0.2.1"), Some(true));
    assert_eq!(only("198.51.100.1"), Some(false));
    assert!(!world.countries[0].1.only);
    assert!(world.subdivisions[0].1.only);
    assert!(world.nearest);
}
