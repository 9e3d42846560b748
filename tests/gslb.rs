//! GSLB (`DYNA` / `DYNC` resources) as a DNS client sees it: subpools, weighted sampling,
//! failover by health state (file checks reloaded on SIGHUP), `min_up`, `when_all_down`,
//! address families, geo maps with ECS scope, DYNC CNAME chains, the global `max_answers`
//! limit, `dynadns explain`, and the configuration errors `dynadns check` reports.
//!
//! Every test spawns the real server through `tests/common` and decodes real replies with
//! hickory-proto. Health comes only from `file` checks (or none): nothing here touches the
//! network beyond loopback. Randomised behaviour is checked with stated statistical bounds.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{QueryBuilder, TempDir, TestServer, Transport};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::{RData, RecordType};

// ------------------------------------------------------------------------------------------
// Configuration and zone builders
// ------------------------------------------------------------------------------------------

/// Head of every server file; `limits` lines (indented by two) may follow.
const CONFIG_HEAD: &str = "\
listen:
  dns: [\"127.0.0.1:5353\"]
zones: zones/
limits:
  edns_udp_payload: 1232
  rrl: { rate: 0 }
";

/// The datacenters every test may name in pools, maps and routes.
const DATACENTERS: &str = "datacenters: { msk: {}, spb: {}, nsk: {}, eu: {} }\n";

/// `dynadns.yaml`: [`CONFIG_HEAD`], extra `limits` lines, [`DATACENTERS`], then the GSLB
/// sections.
fn config(extra_limits: &str, body: &str) -> String {
    format!("{CONFIG_HEAD}{extra_limits}{DATACENTERS}{body}")
}

/// Head of the zone `example.com`; per-test records (indented by two) follow.
const ZONE_HEAD: &str = "\
zone: example.com
ttl: 3600
soa: { primary: ns1, contact: hostmaster, serial: 1, negative_ttl: 300 }
records:
  \"@\": { NS: [ns1] }
  ns1: { A: 192.0.2.53 }
";

const ZONE_PATH: &str = "zones/example.com.yaml";

fn zone(records: &str) -> String {
    format!("{ZONE_HEAD}{records}")
}

/// Starts a server with `config_text`, the zone built from `records` and `extra` files.
fn start(config_text: &str, records: &str, extra: &[(&str, &str)]) -> TestServer {
    let zone_text = zone(records);
    let mut files: Vec<(&str, &str)> = vec![
        ("dynadns.yaml", config_text),
        (ZONE_PATH, zone_text.as_str()),
    ];
    files.extend_from_slice(extra);
    TestServer::start_with(&files)
}

/// A members file of `count` addresses `PREFIX.1 ..= PREFIX.count`, one per line.
fn members_file(prefix: &str, count: u32) -> String {
    (1..=count).map(|i| format!("{prefix}.{i}\n")).collect()
}

fn addr_range(prefix: &str, count: u32) -> BTreeSet<IpAddr> {
    (1..=count)
        .map(|i| format!("{prefix}.{i}").parse().unwrap())
        .collect()
}

fn ips(list: &[&str]) -> BTreeSet<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

// ------------------------------------------------------------------------------------------
// Queries and reply inspection
// ------------------------------------------------------------------------------------------

/// A plain query: no EDNS.
fn q(name: &str, rtype: RecordType) -> Message {
    QueryBuilder::new(name, rtype).build()
}

/// A query with EDNS (payload 1232) carrying a client subnet option `subnet` (`ADDR/LEN`).
fn ecs_q(name: &str, rtype: RecordType, subnet: &str) -> Message {
    QueryBuilder::new(name, rtype).ecs(subnet).build()
}

/// The A and AAAA addresses of the answer section, in order.
fn answer_addrs(m: &Message) -> Vec<IpAddr> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

fn addr_set(m: &Message) -> BTreeSet<IpAddr> {
    answer_addrs(m).into_iter().collect()
}

/// TTLs of the answer's address records (deduplicated).
fn addr_ttls(m: &Message) -> BTreeSet<u32> {
    m.answers
        .iter()
        .filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
        .map(|r| r.ttl)
        .collect()
}

/// Scope prefix of the client subnet option in the reply, if there is one.
fn ecs_scope(m: &Message) -> Option<u8> {
    match m.edns.as_ref()?.option(EdnsCode::Subnet)? {
        EdnsOption::Subnet(cs) => Some(cs.scope_prefix()),
        _ => None,
    }
}

fn summary(m: &Message) -> String {
    let fmt = |rs: &[hickory_proto::rr::Record]| -> Vec<String> {
        rs.iter()
            .map(|r| format!("{} {} {} {}", r.name, r.ttl, r.record_type(), r.data))
            .collect()
    };
    format!(
        "rcode {:?} aa {} tc {}\n  answer {:#?}\n  authority {:#?}\n  ecs scope {:?}",
        m.metadata.response_code,
        m.metadata.authoritative,
        m.metadata.truncation,
        fmt(&m.answers),
        fmt(&m.authorities),
        ecs_scope(m)
    )
}

/// Asserts a NOERROR, authoritative reply with an empty answer and the zone's SOA in
/// authority (NODATA).
fn assert_nodata(m: &Message, what: &str) {
    assert_eq!(
        m.metadata.response_code,
        ResponseCode::NoError,
        "{what}: {}",
        summary(m)
    );
    assert!(m.metadata.authoritative, "{what}: AA clear: {}", summary(m));
    assert!(m.answers.is_empty(), "{what}: answers: {}", summary(m));
    assert!(
        m.authorities
            .iter()
            .any(|r| r.record_type() == RecordType::SOA
                && r.name.to_string().eq_ignore_ascii_case("example.com.")),
        "{what}: no SOA in authority: {}",
        summary(m)
    );
    // Negative answers carry the SOA with TTL min(SOA TTL 3600, negative_ttl 300).
    assert!(
        m.authorities
            .iter()
            .filter(|r| r.record_type() == RecordType::SOA)
            .all(|r| r.ttl == 300),
        "{what}: SOA TTL: {}",
        summary(m)
    );
}

/// Rewrites `health.txt` in the server's dir and sends SIGHUP.
fn set_health_and_reload(server: &TestServer, health: &str) {
    std::fs::write(server.dir().join("health.txt"), health).expect("write health.txt");
    server.reload();
}

/// Polls `query` over UDP until its address set is `expected` (after a reload).
fn wait_for_addrs(server: &TestServer, query: &Message, expected: &BTreeSet<IpAddr>) -> Message {
    let mut last = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let reply = server.udp(query);
        if addr_set(&reply) == *expected {
            return reply;
        }
        last = Some(reply);
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "after reload, expected {expected:?}; last reply: {}\n{}",
        last.as_ref().map_or_else(String::new, summary),
        server.stderr_text()
    );
}

// ------------------------------------------------------------------------------------------
// 1. Subpools, round robin
// ------------------------------------------------------------------------------------------

const SUBPOOL_RESOURCE: &str = "\
resources:
  rtb:
    ttl: 20
    pools:
      eu: { members_file: pools/rtb.txt }
    route: all
    answer: { subpools: 5 }
";

/// 100 members in 5 round-robin subpools: every plain-UDP answer is one whole group of 20
/// (not truncated, within 512 bytes), the groups are 5 disjoint sets covering the pool, and
/// over 500 queries every address is handed out about equally often.
#[test]
fn subpools_round_robin_hand_out_whole_groups_evenly() {
    let pool = members_file("10.1.0", 100);
    // Two UDP workers, explicitly: the rotation guarantee below is stated for W workers.
    let server = start(
        &format!(
            "server: {{ udp_workers: 2 }}\n{}",
            config("", SUBPOOL_RESOURCE)
        ),
        "  www: { DYNA: rtb }\n",
        &[("pools/rtb.txt", &pool)],
    );
    let everyone = addr_range("10.1.0", 100);
    let query = q("www.example.com.", RecordType::A)
        .to_vec()
        .expect("encode");
    let mut counts: BTreeMap<IpAddr, u32> = BTreeMap::new();
    let mut groups: BTreeSet<BTreeSet<IpAddr>> = BTreeSet::new();
    const QUERIES: u32 = 500;
    for i in 0..QUERIES {
        // A fresh socket per query (new source port): the kernel spreads the queries over
        // the server's UDP workers as it would for real clients.
        let raw = server
            .exchange(Transport::Udp, &query)
            .unwrap_or_else(|e| panic!("query {i}: {e}\n{}", server.stderr_text()));
        assert!(
            raw.len() <= 512,
            "query {i}: {} bytes without EDNS",
            raw.len()
        );
        let reply = Message::from_vec(&raw).expect("decode");
        assert!(!reply.metadata.truncation, "query {i}: TC=1");
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(reply.metadata.authoritative);
        let addrs = answer_addrs(&reply);
        let set: BTreeSet<IpAddr> = addrs.iter().copied().collect();
        assert_eq!(addrs.len(), 20, "query {i}: {}", summary(&reply));
        assert_eq!(set.len(), 20, "query {i}: duplicate addresses: {addrs:?}");
        assert!(
            set.is_subset(&everyone),
            "query {i}: foreign address: {set:?}"
        );
        assert_eq!(addr_ttls(&reply), BTreeSet::from([20]), "query {i}: TTL");
        for a in &set {
            *counts.entry(*a).or_default() += 1;
        }
        groups.insert(set);
    }
    // Exactly one group per answer: the distinct answer sets are the 5 groups, pairwise
    // disjoint (a mixed answer would add a 6th set overlapping two groups).
    assert_eq!(groups.len(), 5, "distinct answer sets: {groups:#?}");
    let groups: Vec<_> = groups.into_iter().collect();
    for (i, a) in groups.iter().enumerate() {
        for b in &groups[i + 1..] {
            assert!(a.is_disjoint(b), "groups overlap: {a:?} / {b:?}");
        }
    }
    let union: BTreeSet<IpAddr> = groups.iter().flatten().copied().collect();
    assert_eq!(union, everyone, "the groups do not cover the pool");
    // Rotation is round robin per resource and per UDP worker thread, each worker starting at
    // group 0. A worker that served n queries gave each group floor(n/5) or ceil(n/5) of
    // them, so with W = 2 workers every group (hence every address) is answered 100 +- 2
    // times out of 500, whatever the kernel's spreading. (A random group choice would miss
    // this: binomial(500, 0.2) has sigma 8.9.)
    assert_eq!(counts.len(), 100);
    for (a, c) in &counts {
        assert!(
            (98..=102).contains(c),
            "{a} answered {c} times of 500: {counts:?}"
        );
    }
    assert_eq!(counts.values().sum::<u32>(), 20 * QUERIES);
}

// ------------------------------------------------------------------------------------------
// 2. Subpools by client hash
// ------------------------------------------------------------------------------------------

/// `pick: client_hash`: one /24 always gets the same group, and the reply's ECS scope is 24
/// (the answer depends on the client's /24); different /24s spread over several groups.
#[test]
fn subpools_client_hash_keeps_a_client_network_on_its_group() {
    let pool = members_file("10.1.0", 100);
    let server = start(
        &config(
            "",
            &SUBPOOL_RESOURCE.replace("{ subpools: 5 }", "{ subpools: 5, pick: client_hash }"),
        ),
        "  www: { DYNA: rtb }\n",
        &[("pools/rtb.txt", &pool)],
    );
    let mut first: Option<BTreeSet<IpAddr>> = None;
    for i in 0..30 {
        let reply = server.udp(&ecs_q("www.example.com.", RecordType::A, "198.51.100.0/24"));
        let set = addr_set(&reply);
        assert_eq!(set.len(), 20, "query {i}: {}", summary(&reply));
        assert_eq!(
            ecs_scope(&reply),
            Some(24),
            "query {i}: {}",
            summary(&reply)
        );
        match &first {
            None => first = Some(set),
            Some(f) => assert_eq!(&set, f, "query {i}: 198.51.100.0/24 changed group"),
        }
    }
    let group = first.unwrap();
    // Another host of the same /24 (ECS /32) hashes on the /24: same group, scope 24.
    let reply = server.udp(&ecs_q(
        "www.example.com.",
        RecordType::A,
        "198.51.100.77/32",
    ));
    assert_eq!(addr_set(&reply), group, "{}", summary(&reply));
    assert_eq!(ecs_scope(&reply), Some(24), "{}", summary(&reply));

    // 16 other /24s: each is stable, and together they land in more than one group
    // (the chance that 16 networks hash into one of 5 groups is 5^-15).
    let mut seen: BTreeSet<BTreeSet<IpAddr>> = BTreeSet::new();
    for i in 0..16u8 {
        let subnet = format!("10.{}.{}.0/24", i * 13 + 1, i * 7 + 3);
        let a = addr_set(&server.udp(&ecs_q("www.example.com.", RecordType::A, &subnet)));
        let b = addr_set(&server.udp(&ecs_q("www.example.com.", RecordType::A, &subnet)));
        assert_eq!(a.len(), 20, "{subnet}");
        assert_eq!(a, b, "{subnet} changed group between two queries");
        seen.insert(a);
    }
    assert!(
        seen.len() > 1,
        "16 different /24s all got the same group: {seen:?}"
    );
}

// ------------------------------------------------------------------------------------------
// 3. Weighted sampling
// ------------------------------------------------------------------------------------------

/// Weights 1 and 3 with `max: 1`: the weight-3 member is answered in 3/4 of the answers.
#[test]
fn weighted_sampling_follows_weights() {
    let body = "\
resources:
  www:
    ttl: 30
    pools:
      msk:
        - { address: 192.0.2.1, weight: 1 }
        - { address: 192.0.2.3, weight: 3 }
    answer: { max: 1 }
";
    let server = start(&config("", body), "  www: { DYNA: www }\n", &[]);
    let heavy: IpAddr = "192.0.2.3".parse().unwrap();
    let light: IpAddr = "192.0.2.1".parse().unwrap();
    const N: u32 = 4000;
    let mut heavy_count = 0u32;
    let query = q("www.example.com.", RecordType::A);
    for i in 0..N {
        let reply = server.udp(&query);
        let addrs = answer_addrs(&reply);
        assert_eq!(addrs.len(), 1, "query {i}: {}", summary(&reply));
        if addrs[0] == heavy {
            heavy_count += 1;
        } else {
            assert_eq!(addrs[0], light, "query {i}");
        }
    }
    // Binomial(n = 4000, p = 3/4): mean 3000, sigma = sqrt(n p (1-p)) = sqrt(750) = 27.4;
    // 5 sigma = 137 (a false failure about once in 1.7 million runs).
    let n = f64::from(N);
    let p = 0.75;
    let mean = n * p;
    let bound = 5.0 * (n * p * (1.0 - p)).sqrt();
    assert!(
        (f64::from(heavy_count) - mean).abs() <= bound,
        "weight-3 member answered {heavy_count} of {N} times, expected {mean} +- {bound:.0}"
    );
}

// ------------------------------------------------------------------------------------------
// 4. Failover by health (file check + SIGHUP), min_up
// ------------------------------------------------------------------------------------------

/// Failover resource: msk first, spb second; file check with a 2 s interval, so degraded
/// answers have TTL min(30, 2) = 2.
const FAILOVER_BODY: &str = "\
checks:
  state: { type: file, file: health.txt, interval: 2s }
resources:
  www:
    ttl: 30
    check: state
    pools:
      msk: [10.0.1.1, 10.0.1.2, 10.0.1.3]
      spb: [10.0.2.1, 10.0.2.2]
    route: { order: [msk, spb] }
    min_up: 50%
";

/// All msk members down: spb answers with the degraded TTL; all up again + SIGHUP: msk
/// answers with the normal TTL.
#[test]
fn failover_to_next_datacenter_and_back_after_sighup() {
    let down = "10.0.1.1 down\n10.0.1.2 down\n10.0.1.3 down\n";
    let server = start(
        &config("", FAILOVER_BODY),
        "  www: { DYNA: www }\n",
        &[("health.txt", down)],
    );
    let query = q("www.example.com.", RecordType::A);
    let spb = ips(&["10.0.2.1", "10.0.2.2"]);
    let msk = ips(&["10.0.1.1", "10.0.1.2", "10.0.1.3"]);
    for _ in 0..5 {
        let reply = server.udp(&query);
        assert_eq!(addr_set(&reply), spb, "{}", summary(&reply));
        assert_eq!(addr_ttls(&reply), BTreeSet::from([2]), "degraded TTL");
    }
    set_health_and_reload(&server, "10.0.1.1 up\n10.0.1.2 up\n10.0.1.3 up\n");
    let reply = wait_for_addrs(&server, &query, &msk);
    assert_eq!(addr_ttls(&reply), BTreeSet::from([30]), "normal TTL");
    // And down again.
    set_health_and_reload(&server, down);
    let reply = wait_for_addrs(&server, &query, &spb);
    assert_eq!(addr_ttls(&reply), BTreeSet::from([2]), "degraded TTL");
}

/// `min_up: 50%` of 3 members: 1 up is not enough (failover to spb), 2 up is (msk answers
/// with its 2 up members only).
#[test]
fn min_up_percent_decides_failover() {
    let server = start(
        &config("", FAILOVER_BODY),
        "  www: { DYNA: www }\n",
        &[("health.txt", "10.0.1.1 up\n10.0.1.2 down\n10.0.1.3 down\n")],
    );
    let query = q("www.example.com.", RecordType::A);
    let reply = server.udp(&query);
    assert_eq!(
        addr_set(&reply),
        ips(&["10.0.2.1", "10.0.2.2"]),
        "1 of 3 up must fail over: {}",
        summary(&reply)
    );
    assert_eq!(addr_ttls(&reply), BTreeSet::from([2]));

    set_health_and_reload(&server, "10.0.1.1 up\n10.0.1.2 up\n10.0.1.3 down\n");
    let reply = wait_for_addrs(&server, &query, &ips(&["10.0.1.1", "10.0.1.2"]));
    assert_eq!(addr_ttls(&reply), BTreeSet::from([30]));
    for _ in 0..20 {
        // The down member is never answered while its pool is up.
        assert_eq!(
            addr_set(&server.udp(&query)),
            ips(&["10.0.1.1", "10.0.1.2"])
        );
    }
}

// ------------------------------------------------------------------------------------------
// 5. when_all_down
// ------------------------------------------------------------------------------------------

/// Four resources over the same members: only 10.0.2.1 is up, and `min_up: 100%` makes every
/// pool down (msk 0/1, spb 1/2). Route order is [spb, msk] (not the configuration order),
/// so "first" must mean the first datacenter of the route.
#[test]
fn when_all_down_policies() {
    let mut body = String::from(
        "checks:\n  state: { type: file, file: health.txt, interval: 3s }\nresources:\n",
    );
    for policy in ["first", "all", "empty", "servfail"] {
        body.push_str(&format!(
            "  {policy}:\n    ttl: 30\n    check: state\n    min_up: 100%\n    \
             pools:\n      msk: [10.0.1.1]\n      spb: [10.0.2.1, 10.0.2.2]\n    \
             route: {{ order: [spb, msk] }}\n    when_all_down: {policy}\n"
        ));
    }
    let records = "  first: { DYNA: first }\n  all: { DYNA: all }\n  \
                   empty: { DYNA: empty }\n  servfail: { DYNA: servfail }\n";
    let server = start(
        &config("", &body),
        records,
        &[("health.txt", "10.0.1.1 down\n10.0.2.1 up\n10.0.2.2 down\n")],
    );

    // first: the first datacenter's whole pool, down member included, degraded TTL (3).
    let reply = server.udp(&q("first.example.com.", RecordType::A));
    assert_eq!(
        addr_set(&reply),
        ips(&["10.0.2.1", "10.0.2.2"]),
        "{}",
        summary(&reply)
    );
    assert_eq!(addr_ttls(&reply), BTreeSet::from([3]));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);

    // all: every member of every pool.
    let reply = server.udp(&q("all.example.com.", RecordType::A));
    assert_eq!(
        addr_set(&reply),
        ips(&["10.0.1.1", "10.0.2.1", "10.0.2.2"]),
        "{}",
        summary(&reply)
    );
    assert_eq!(addr_ttls(&reply), BTreeSet::from([3]));

    // empty: NOERROR, no answer, SOA in authority.
    let reply = server.udp(&q("empty.example.com.", RecordType::A));
    assert_nodata(&reply, "when_all_down: empty");

    // servfail: SERVFAIL.
    let reply = server.udp(&q("servfail.example.com.", RecordType::A));
    assert_eq!(
        reply.metadata.response_code,
        ResponseCode::ServFail,
        "{}",
        summary(&reply)
    );
    assert!(reply.answers.is_empty());
}

// ------------------------------------------------------------------------------------------
// 6. Address families
// ------------------------------------------------------------------------------------------

/// A resource with only IPv4 members answers AAAA with NODATA (and only-IPv6 answers A with
/// NODATA); a mixed pool answers A with its IPv4 and AAAA with its IPv6 members only.
#[test]
fn families_are_answered_separately() {
    let body = "\
resources:
  v4only:
    pools: { msk: [192.0.2.1, 192.0.2.2] }
  v6only:
    pools: { msk: [\"2001:db8::1\"] }
  mixed:
    pools:
      msk: [192.0.2.11, \"2001:db8::11\"]
      spb: [192.0.2.12, \"2001:db8::12\"]
    route: all
";
    let records =
        "  v4only: { DYNA: v4only }\n  v6only: { DYNA: v6only }\n  mixed: { DYNA: mixed }\n";
    let server = start(&config("", body), records, &[]);

    let reply = server.udp(&q("v4only.example.com.", RecordType::A));
    assert_eq!(addr_set(&reply), ips(&["192.0.2.1", "192.0.2.2"]));
    let reply = server.udp(&q("v4only.example.com.", RecordType::AAAA));
    assert_nodata(&reply, "AAAA of an IPv4-only resource");
    let reply = server.udp(&q("v6only.example.com.", RecordType::A));
    assert_nodata(&reply, "A of an IPv6-only resource");

    for _ in 0..10 {
        let reply = server.udp(&q("mixed.example.com.", RecordType::A));
        assert!(
            reply
                .answers
                .iter()
                .all(|r| r.record_type() == RecordType::A),
            "{}",
            summary(&reply)
        );
        assert_eq!(addr_set(&reply), ips(&["192.0.2.11", "192.0.2.12"]));
        let reply = server.udp(&q("mixed.example.com.", RecordType::AAAA));
        assert!(
            reply
                .answers
                .iter()
                .all(|r| r.record_type() == RecordType::AAAA),
            "{}",
            summary(&reply)
        );
        assert_eq!(addr_set(&reply), ips(&["2001:db8::11", "2001:db8::12"]));
    }
}

// ------------------------------------------------------------------------------------------
// 7. Weight 0
// ------------------------------------------------------------------------------------------

/// A weight-0 member stays configured but is never answered, whether the answer holds every
/// member or a weighted sample of one.
#[test]
fn weight_zero_member_is_never_answered() {
    let pool = "      msk:
        - { address: 192.0.2.1, weight: 0 }
        - 192.0.2.2
        - 192.0.2.3
";
    let body = format!(
        "resources:\n  w0:\n    pools:\n{pool}  w0max:\n    pools:\n{pool}    answer: {{ max: 1 }}\n"
    );
    let server = start(
        &config("", &body),
        "  w0: { DYNA: w0 }\n  w0max: { DYNA: w0max }\n",
        &[],
    );
    for _ in 0..50 {
        let reply = server.udp(&q("w0.example.com.", RecordType::A));
        assert_eq!(
            addr_set(&reply),
            ips(&["192.0.2.2", "192.0.2.3"]),
            "{}",
            summary(&reply)
        );
    }
    let mut seen: BTreeMap<IpAddr, u32> = BTreeMap::new();
    for _ in 0..300 {
        let reply = server.udp(&q("w0max.example.com.", RecordType::A));
        let addrs = answer_addrs(&reply);
        assert_eq!(addrs.len(), 1, "{}", summary(&reply));
        *seen.entry(addrs[0]).or_default() += 1;
    }
    // Both weight-1 members appear (the chance one never does in 300 draws is 2^-299).
    assert_eq!(
        seen.keys().copied().collect::<BTreeSet<_>>(),
        ips(&["192.0.2.2", "192.0.2.3"]),
        "{seen:?}"
    );
}

// ------------------------------------------------------------------------------------------
// 8. Geo map with ECS
// ------------------------------------------------------------------------------------------

const GEO_BODY: &str = "\
geo_maps:
  m:
    default: [msk, spb]
    networks: { \"198.51.100.0/24\": [spb, msk] }
resources:
  www:
    ttl: 30
    pools:
      msk: [10.0.1.1, 10.0.1.2]
      spb: [10.0.2.1, 10.0.2.2]
    route: { geo: m }
";

/// An operator network routes its clients (by ECS) to spb with ECS scope 24; other ECS
/// networks get the default order with the scope of the widest network around them that holds
/// no rule (never 0: the answer depends on the client), also when the client's ECS network
/// contains the operator network; without ECS the source address (127.0.0.1) decides: default
/// order.
#[test]
fn geo_map_networks_and_ecs_scope() {
    let server = start(&config("", GEO_BODY), "  www: { DYNA: www }\n", &[]);
    let msk = ips(&["10.0.1.1", "10.0.1.2"]);
    let spb = ips(&["10.0.2.1", "10.0.2.2"]);

    let reply = server.udp(&ecs_q("www.example.com.", RecordType::A, "198.51.100.0/24"));
    assert_eq!(addr_set(&reply), spb, "{}", summary(&reply));
    assert_eq!(ecs_scope(&reply), Some(24), "{}", summary(&reply));
    assert_eq!(
        addr_ttls(&reply),
        BTreeSet::from([30]),
        "first choice: normal TTL"
    );

    // 203.0.113.0 and 198.51.100.0 share their first 4 bits: 200.0.0.0/5 holds no rule.
    let reply = server.udp(&ecs_q("www.example.com.", RecordType::A, "203.0.113.0/24"));
    assert_eq!(addr_set(&reply), msk, "{}", summary(&reply));
    assert_eq!(ecs_scope(&reply), Some(5), "{}", summary(&reply));

    // The client disclosed a /16 that contains the operator's /24: the default answer must
    // not be cached for the /24 too, so its scope is /18 (198.51.0.0/18 holds no rule),
    // longer than the source prefix (RFC 7871 §7.2.1).
    let reply = server.udp(&ecs_q("www.example.com.", RecordType::A, "198.51.0.0/16"));
    assert_eq!(addr_set(&reply), msk, "{}", summary(&reply));
    assert_eq!(ecs_scope(&reply), Some(18), "{}", summary(&reply));

    // ECS source /0 opts out of tailoring: the answer is for everyone, scope 0.
    let reply = server.udp(&ecs_q("www.example.com.", RecordType::A, "0.0.0.0/0"));
    assert_eq!(addr_set(&reply), msk, "{}", summary(&reply));
    assert_eq!(ecs_scope(&reply), Some(0), "{}", summary(&reply));

    // No ECS: the source address 127.0.0.1 matches no network -> default order.
    let reply = server.udp(&q("www.example.com.", RecordType::A));
    assert_eq!(addr_set(&reply), msk, "{}", summary(&reply));
    let reply = server.udp(
        &QueryBuilder::new("www.example.com.", RecordType::A)
            .edns(1232, false)
            .build(),
    );
    assert_eq!(addr_set(&reply), msk, "{}", summary(&reply));
    assert_eq!(
        ecs_scope(&reply),
        None,
        "no ECS in the query, none in the reply"
    );
}

// ------------------------------------------------------------------------------------------
// 9. DYNC
// ------------------------------------------------------------------------------------------

const DYNC_BODY: &str = "\
checks:
  state: { type: file, file: health.txt, interval: 2s }
resources:
  api:
    ttl: 60
    check: state
    cnames:
      msk: { cname: target-msk.example.com., probe: 127.0.0.2 }
      spb: { cname: www.example.net., probe: 127.0.0.3 }
    route: { order: [msk, spb] }
";

/// DYNC answers with the CNAME of the first up datacenter; an in-zone target is followed
/// (its A record is in the answer), a CNAME query gets the CNAME only, and when msk's probe
/// address is down (file check + SIGHUP) spb's out-of-zone target answers, degraded TTL.
#[test]
fn dync_cname_chain_and_failover() {
    let records = "  api: { DYNC: api }\n  target-msk: { A: 192.0.2.77 }\n";
    let server = start(
        &config("", DYNC_BODY),
        records,
        &[("health.txt", "127.0.0.2 up\n127.0.0.3 up\n")],
    );
    let cnames = |m: &Message| -> Vec<(String, String, u32)> {
        m.answers
            .iter()
            .filter(|r| r.record_type() == RecordType::CNAME)
            .map(|r| (r.name.to_string(), r.data.to_string(), r.ttl))
            .collect()
    };

    let reply = server.udp(&q("api.example.com.", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.metadata.authoritative, "{}", summary(&reply));
    assert_eq!(
        cnames(&reply),
        vec![(
            "api.example.com.".to_string(),
            "target-msk.example.com.".to_string(),
            60
        )],
        "{}",
        summary(&reply)
    );
    assert_eq!(reply.answers.len(), 2, "{}", summary(&reply));
    assert_eq!(
        reply.answers[0].record_type(),
        RecordType::CNAME,
        "the CNAME comes first"
    );
    let target = &reply.answers[1];
    assert_eq!(target.record_type(), RecordType::A, "{}", summary(&reply));
    assert_eq!(target.name.to_string(), "target-msk.example.com.");
    assert_eq!(target.data.to_string(), "192.0.2.77");

    // A CNAME query is answered by the CNAME alone.
    let reply = server.udp(&q("api.example.com.", RecordType::CNAME));
    assert_eq!(reply.answers.len(), 1, "{}", summary(&reply));
    assert_eq!(
        cnames(&reply),
        vec![(
            "api.example.com.".to_string(),
            "target-msk.example.com.".to_string(),
            60
        )]
    );

    // msk's probe address down: failover to spb, TTL min(60, 2 s interval) = 2, and the
    // out-of-zone target is not followed.
    set_health_and_reload(&server, "127.0.0.2 down\n127.0.0.3 up\n");
    let query = q("api.example.com.", RecordType::A);
    let deadline = Instant::now() + Duration::from_secs(10);
    let reply = loop {
        let reply = server.udp(&query);
        if cnames(&reply).first().map(|c| c.1.as_str()) == Some("www.example.net.") {
            break reply;
        }
        assert!(
            Instant::now() < deadline,
            "no failover to spb after SIGHUP: {}\n{}",
            summary(&reply),
            server.stderr_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        cnames(&reply),
        vec![(
            "api.example.com.".to_string(),
            "www.example.net.".to_string(),
            2
        )],
        "{}",
        summary(&reply)
    );
    assert_eq!(reply.answers.len(), 1, "{}", summary(&reply));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
}

/// A DYNC target that is a DYNA name of the same zone: the chain continues into the DYNA
/// resource, whose chosen addresses follow the CNAME in the answer.
#[test]
fn dync_chain_into_a_dyna_name() {
    let body = "\
resources:
  www:
    ttl: 30
    pools: { msk: [10.0.1.1, 10.0.1.2] }
  api:
    ttl: 60
    cnames: { msk: www.example.com. }
";
    let server = start(
        &config("", body),
        "  www: { DYNA: www }\n  api: { DYNC: api }\n",
        &[],
    );
    let reply = server.udp(&q("api.example.com.", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 3, "{}", summary(&reply));
    assert_eq!(reply.answers[0].record_type(), RecordType::CNAME);
    assert_eq!(reply.answers[0].data.to_string(), "www.example.com.");
    assert_eq!(reply.answers[0].ttl, 60);
    assert!(
        reply.answers[1..]
            .iter()
            .all(|r| r.name.to_string() == "www.example.com." && r.ttl == 30),
        "{}",
        summary(&reply)
    );
    assert_eq!(addr_set(&reply), ips(&["10.0.1.1", "10.0.1.2"]));
}

// ------------------------------------------------------------------------------------------
// 10. limits.max_answers
// ------------------------------------------------------------------------------------------

/// `limits.max_answers: 8` caps the answer of a 50-member pool to 8 distinct members, a
/// uniform sample: over 200 answers every member shows up.
#[test]
fn global_max_answers_caps_a_large_pool() {
    let pool = members_file("10.2.0", 50);
    let body = "\
resources:
  big:
    ttl: 30
    pools:
      msk: { members_file: pools/big.txt }
";
    let server = start(
        &config("  max_answers: 8\n", body),
        "  big: { DYNA: big }\n",
        &[("pools/big.txt", &pool)],
    );
    let everyone = addr_range("10.2.0", 50);
    let mut seen = BTreeSet::new();
    for i in 0..200 {
        let reply = server.udp(&q("big.example.com.", RecordType::A));
        let addrs = answer_addrs(&reply);
        let set: BTreeSet<IpAddr> = addrs.iter().copied().collect();
        assert_eq!(addrs.len(), 8, "query {i}: {}", summary(&reply));
        assert_eq!(set.len(), 8, "query {i}: duplicates {addrs:?}");
        assert!(set.is_subset(&everyone));
        seen.extend(set);
    }
    // P(a given member missing from 200 samples of 8 of 50) = 0.84^200 ~ 7e-16.
    assert_eq!(seen, everyone, "members never answered in 200 samples");
}

// ------------------------------------------------------------------------------------------
// 11. dynadns explain
// ------------------------------------------------------------------------------------------

/// The configuration file of a test directory.
fn config_of(dir: &TempDir) -> PathBuf {
    dir.join("dynadns.yaml")
}

fn dynadns(args: &[&str]) -> Output {
    // Run from `/`: every path must be resolved against the config file, not the cwd.
    common::run_dynadns(std::path::Path::new("/"), args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `explain` names the geo decision, the datacenter order, each pool's up count, the chosen
/// datacenter's members, the TTL and the ECS scope, for a client in an operator network and
/// for an ECS network that falls to the default order.
#[test]
fn explain_shows_the_decision_path() {
    let body = GEO_BODY
        .replace(
            "resources:\n",
            "checks:\n  state: { type: file, file: health.txt, interval: 2s }\nresources:\n",
        )
        .replace("    ttl: 30\n", "    ttl: 30\n    check: state\n");
    let zone_text = zone("  www: { DYNA: www }\n");
    let dir = TempDir::with(&[
        ("dynadns.yaml", &config("", &body)),
        (ZONE_PATH, &zone_text),
        ("health.txt", "10.0.1.2 down\n"),
    ]);
    let cfg = config_of(&dir);
    let cfg = cfg.to_str().unwrap();

    let out = dynadns(&[
        "explain",
        "-c",
        cfg,
        "--client",
        "198.51.100.7",
        "www.example.com",
        "A",
    ]);
    let stdout = text(&out.stdout);
    let report = format!("stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    assert!(out.status.success(), "explain failed: {report}");
    for needle in [
        "198.51.100.7",
        "/24",        // the matched operator network's prefix
        "[spb, msk]", // the datacenter order for that network
        "spb: 2/2 members up",
        "10.0.2.1", // the chosen datacenter's members
        "10.0.2.2",
        "ttl 30",
        "ecs scope",
    ] {
        assert!(
            stdout.contains(needle),
            "explain lacks {needle:?}: {report}"
        );
    }
    // Every pool and member is listed with its state; the down member is marked down.
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("10.0.1.2") && l.contains("down")),
        "the down member is not shown as down: {report}"
    );
    let selected = stdout
        .lines()
        .find(|l| l.starts_with("selected:"))
        .unwrap_or_else(|| panic!("no 'selected:' line: {report}"));
    assert!(
        selected.contains("10.0.2.1") && selected.contains("10.0.2.2"),
        "{selected}"
    );
    assert!(!selected.contains("10.0.1."), "{selected}");

    let out = dynadns(&[
        "explain",
        "-c",
        cfg,
        "--client",
        "198.51.100.7",
        "--ecs",
        "203.0.113.0/24",
        "www.example.com",
        "A",
    ]);
    let stdout = text(&out.stdout);
    let report = format!("stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    assert!(out.status.success(), "explain --ecs failed: {report}");
    for needle in [
        "203.0.113.0/24",
        "default",
        "[msk, spb]",
        "msk: 1/2 members up",
        "ttl 30",
        "ecs scope /5",
    ] {
        assert!(
            stdout.contains(needle),
            "explain --ecs lacks {needle:?}: {report}"
        );
    }
    let selected = stdout
        .lines()
        .find(|l| l.starts_with("selected:"))
        .unwrap_or_else(|| panic!("no 'selected:' line: {report}"));
    assert!(selected.contains("10.0.1.1"), "{selected}");
    assert!(
        !selected.contains("10.0.1.2") && !selected.contains("10.0.2."),
        "{selected}"
    );
}

/// `explain` names the matched network itself (`198.51.100.0/24`), not only its length:
/// with several operator networks of one length, "in network /24" does not say which matched.
#[test]
fn explain_names_the_matched_network() {
    let zone_text = zone("  www: { DYNA: www }\n");
    let dir = TempDir::with(&[
        ("dynadns.yaml", &config("", GEO_BODY)),
        (ZONE_PATH, &zone_text),
    ]);
    let cfg = config_of(&dir);
    let out = dynadns(&[
        "explain",
        "-c",
        cfg.to_str().unwrap(),
        "--client",
        "198.51.100.7",
        "www.example.com",
        "A",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("198.51.100.0/24"),
        "the matched network is not named:\n{stdout}"
    );
}

// ------------------------------------------------------------------------------------------
// 12. Configuration errors
// ------------------------------------------------------------------------------------------

/// 1-based line and column of the first occurrence of `needle` in `text`.
fn pos_of(text: &str, needle: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        if let Some(c) = line.find(needle) {
            return (i + 1, c + 1);
        }
    }
    panic!("{needle:?} not in\n{text}");
}

/// Runs `dynadns check` on `files`; asserts exit status 1 and that stderr has an error line
/// containing `location` (`FILE:LINE:COL`) and every word of `words`.
fn assert_check_error(files: &[(&str, &str)], location: &str, words: &[&str]) {
    let dir = TempDir::with(files);
    let cfg = config_of(&dir);
    let out = dynadns(&["check", "-c", cfg.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    let report = format!("stdout:\n{}\nstderr:\n{stderr}", text(&out.stdout));
    assert_eq!(out.status.code(), Some(1), "{report}");
    let line = stderr
        .lines()
        .find(|l| l.contains(location))
        .unwrap_or_else(|| panic!("no error at {location}: {report}"));
    for w in words {
        assert!(line.contains(w), "error line lacks {w:?}: {line}\n{report}");
    }
}

const SIMPLE_RESOURCE: &str = "\
resources:
  www:
    pools: { msk: [192.0.2.1] }
";

#[test]
fn check_rejects_dyna_naming_an_unknown_resource() {
    let zone_text = zone("  www: { DYNA: nosuch }\n");
    let (l, c) = pos_of(&zone_text, "nosuch");
    assert_check_error(
        &[
            ("dynadns.yaml", &config("", SIMPLE_RESOURCE)),
            (ZONE_PATH, &zone_text),
        ],
        &format!("example.com.yaml:{l}:{c}"),
        &["nosuch"],
    );
}

#[test]
fn check_rejects_a_resource_with_an_unknown_check() {
    let body = "\
checks:
  state: { type: file, file: health.txt }
resources:
  www:
    check: nocheck
    pools: { msk: [192.0.2.1] }
";
    let cfg = config("", body);
    let (l, c) = pos_of(&cfg, "nocheck");
    assert_check_error(
        &[
            ("dynadns.yaml", &cfg),
            (ZONE_PATH, &zone("  www: { DYNA: www }\n")),
        ],
        &format!("dynadns.yaml:{l}:{c}"),
        &["nocheck"],
    );
}

#[test]
fn check_rejects_route_order_naming_a_datacenter_without_a_pool() {
    let body = "\
resources:
  www:
    pools: { msk: [192.0.2.1], spb: [192.0.2.2] }
    route: { order: [msk, nsk] }
";
    let cfg = config("", body);
    let (l, c) = pos_of(&cfg, "msk, nsk");
    let c = c + "msk, ".len();
    assert_check_error(
        &[
            ("dynadns.yaml", &cfg),
            (ZONE_PATH, &zone("  www: { DYNA: www }\n")),
        ],
        &format!("dynadns.yaml:{l}:{c}"),
        &["datacenter 'nsk' has no pool in this resource"],
    );
}

#[test]
fn check_reports_a_bad_address_in_a_members_file_at_its_line() {
    let body = "\
resources:
  www:
    pools:
      msk: { members_file: pools/x.txt }
";
    assert_check_error(
        &[
            ("dynadns.yaml", &config("", body)),
            (ZONE_PATH, &zone("  www: { DYNA: www }\n")),
            (
                "pools/x.txt",
                "10.0.0.1\n10.0.0.2 weight=2\n10.0.0.300\n10.0.0.4\n",
            ),
        ],
        "pools/x.txt:3:1",
        &["10.0.0.300"],
    );
}

// ------------------------------------------------------------------------------------------
// 13. explain and the wire agree
// ------------------------------------------------------------------------------------------

const AGREE_BODY: &str = "\
checks:
  state: { type: file, file: health.txt, interval: 2s }
geo_maps:
  m:
    default: [msk, spb]
    networks:
      \"10.0.0.0/8\": [nsk, msk]
      \"10.1.0.0/16\": [spb]
      \"10.1.2.0/24\": [msk]
      \"2001:db8:1::/48\": [nsk]
resources:
  www:
    ttl: 30
    check: state
    pools:
      msk: [10.0.1.1, 10.0.1.2, 10.0.1.3, 10.0.1.4, \"2001:db8::11\"]
      spb: [10.0.2.1, 10.0.2.2, 10.0.2.3, 10.0.2.4]
      nsk: [10.0.3.1, 10.0.3.2]
    route: { geo: m }
    answer: { subpools: 2, pick: client_hash, seed: 7 }
  fixed:
    ttl: 40
    check: state
    pools:
      msk: [10.0.1.1, { address: 10.0.1.2, weight: 3 }]
      spb: [10.0.2.1]
    route: { order: [msk, spb] }
";

/// What `explain` says it selected: (sorted addresses, ttl, scope), from its `selected:` line.
fn explained(
    cfg: &str,
    client: &str,
    ecs: Option<&str>,
    name: &str,
    rtype: &str,
) -> (Vec<IpAddr>, u32, u8) {
    let mut args = vec!["explain", "-c", cfg, "--client", client];
    if let Some(e) = ecs {
        args.extend(["--ecs", e]);
    }
    args.extend([name, rtype]);
    let out = dynadns(&args);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let line = stdout
        .lines()
        .find(|l| l.starts_with("selected:"))
        .unwrap_or_else(|| panic!("no selected line:\n{stdout}"));
    let (what, rest) = line.split_once(';').expect("selected: WHAT; ttl ...");
    let mut addrs: Vec<IpAddr> = what
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    addrs.sort();
    let ttl = rest
        .split_whitespace()
        .skip_while(|w| *w != "ttl")
        .nth(1)
        .and_then(|t| t.trim_end_matches(';').parse().ok())
        .unwrap_or_else(|| panic!("no ttl in {line}"));
    let scope = rest
        .rsplit_once('/')
        .and_then(|(_, s)| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no scope in {line}"));
    (addrs, ttl, scope)
}

/// For many clients, ECS prefixes and health states, `explain` reports exactly the records,
/// TTL and ECS scope the server sends: both call the same decision function.
#[test]
fn explain_agrees_with_the_wire_for_many_clients_and_health_states() {
    let clients: &[Option<&str>] = &[
        None,
        Some("10.1.2.0/24"),
        Some("10.1.2.128/25"),
        Some("10.1.3.0/24"),
        Some("10.1.0.0/16"),
        Some("10.2.0.0/16"),
        Some("10.0.0.0/8"),
        Some("11.0.0.0/8"),
        Some("192.0.2.0/24"),
        Some("198.51.0.0/16"),
        Some("0.0.0.0/0"),
        Some("2001:db8:1::/56"),
        Some("2001:db8:2::/48"),
    ];
    let healths = [
        "",
        "10.0.1.1 down\n10.0.2.1 down\n10.0.2.2 down\n10.0.2.3 down\n",
        "10.0.1.1 down\n10.0.1.2 down\n10.0.1.3 down\n10.0.1.4 down\n10.0.3.1 down\n",
    ];
    // What was compared, so the test cannot pass on empty answers alone.
    let mut answered = 0;
    let mut scopes = BTreeSet::new();
    for health in healths {
        let server = start(
            &config("", AGREE_BODY),
            "  www: { DYNA: www }\n  fixed: { DYNA: fixed }\n",
            &[("health.txt", health)],
        );
        let cfg = server.dir().join("dynadns.yaml");
        let cfg = cfg.to_str().unwrap();
        for &ecs in clients {
            for (name, rtype, rt) in [
                ("www.example.com.", "A", RecordType::A),
                ("www.example.com.", "AAAA", RecordType::AAAA),
                ("fixed.example.com.", "A", RecordType::A),
            ] {
                let reply = match ecs {
                    Some(e) => server.udp(&ecs_q(name, rt, e)),
                    None => server.udp(&q(name, rt)),
                };
                let (addrs, ttl, scope) = explained(cfg, "127.0.0.1", ecs, name, rtype);
                let wire: Vec<IpAddr> = addr_set(&reply).into_iter().collect();
                let what = format!(
                    "{name} {rtype} ecs {ecs:?} health {health:?}: {}",
                    summary(&reply)
                );
                assert_eq!(addrs, wire, "records differ for {what}");
                if !wire.is_empty() {
                    assert_eq!(
                        addr_ttls(&reply),
                        BTreeSet::from([ttl]),
                        "ttl differs for {what}"
                    );
                }
                if ecs.is_some() {
                    assert_eq!(ecs_scope(&reply), Some(scope), "scope differs for {what}");
                    scopes.insert(scope);
                }
                answered += usize::from(!wire.is_empty());
            }
        }
    }
    assert!(answered > 60, "only {answered} answers had records");
    assert!(
        scopes.len() >= 5,
        "too few distinct scopes compared: {scopes:?}"
    );
}
