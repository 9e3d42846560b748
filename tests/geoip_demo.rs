//! The MaxMind DB writer of the test harness (`tests/common/mmdb.rs`), checked against the
//! independent `maxminddb` reader, and the demo database shipped in `geoip/`.
//!
//! `geoip/demo-city.mmdb` is built from `geoip/demo-city.json`; `demo_database_matches_source`
//! fails when they drift. To regenerate the binary after editing the JSON:
//!
//! ```text
//! DYNADNS_BLESS_GEOIP=1 cargo test --test geoip_demo
//! ```

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use common::mmdb::{MmdbWriter, Value, city_record};
use maxminddb::{Reader, geoip2};

/// Environment variable that makes `demo_database_matches_source` write the binary.
const BLESS_ENV: &str = "DYNADNS_BLESS_GEOIP";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn reader(bytes: Vec<u8>) -> Reader<Vec<u8>> {
    let reader = Reader::from_source(bytes).expect("maxminddb opens the database");
    reader.verify().expect("maxminddb verifies the database");
    reader
}

/// `(network as text, has data)` of the lookup of `addr`.
fn network_of(reader: &Reader<Vec<u8>>, addr: &str) -> (String, bool) {
    let result = reader.lookup(ip(addr)).expect("lookup");
    (
        result.network().expect("network").to_string(),
        result.has_data(),
    )
}

/// The `id` field of the record found for `addr`, if any.
fn id_of(reader: &Reader<Vec<u8>>, addr: IpAddr) -> Option<u32> {
    let result = reader.lookup(addr).expect("lookup");
    result
        .decode_path::<u32>(&[maxminddb::PathElement::Key("id")])
        .expect("decode id")
}

fn id(n: u32) -> Value {
    Value::map([("id", Value::U32(n))])
}

#[test]
fn writer_ipv4_and_ipv6_lookups_return_the_data_and_exact_network() {
    let mut w = MmdbWriter::new("Test-City", 1_700_000_000);
    w.insert_cidr(
        "192.0.2.0/24",
        city_record("EU", "RU", Some("RU-SPE"), "Saint Petersburg", 59.94, 30.31),
    );
    w.insert_cidr(
        "2001:db8:2::/48",
        city_record("EU", "RU", Some("RU-MOW"), "Moscow", 55.75, 37.62),
    );
    w.insert_cidr(
        "10.0.0.0/8",
        city_record("NA", "US", None, "Seattle", 47.61, -122.33),
    );
    let r = reader(w.to_bytes());

    let spb = r.lookup(ip("192.0.2.77")).unwrap();
    assert_eq!(spb.network().unwrap().to_string(), "192.0.2.0/24");
    let city: geoip2::City = spb.decode().unwrap().expect("data for 192.0.2.77");
    assert_eq!(city.country.iso_code, Some("RU"));
    assert_eq!(city.country.names.english, Some("Russia"));
    assert_eq!(city.continent.code, Some("EU"));
    assert_eq!(city.continent.names.english, Some("Europe"));
    assert_eq!(city.subdivisions.len(), 1);
    assert_eq!(city.subdivisions[0].iso_code, Some("SPE"));
    assert_eq!(city.subdivisions[0].names.english, Some("Saint Petersburg"));
    assert_eq!(city.city.names.english, Some("Saint Petersburg"));
    assert_eq!(city.location.latitude, Some(59.94));
    assert_eq!(city.location.longitude, Some(30.31));
    assert_eq!(city.location.accuracy_radius, Some(50));

    let msk = r.lookup(ip("2001:db8:2:ffff::1")).unwrap();
    assert_eq!(msk.network().unwrap().to_string(), "2001:db8:2::/48");
    let city: geoip2::City = msk.decode().unwrap().unwrap();
    assert_eq!(city.subdivisions[0].iso_code, Some("MOW"));
    assert_eq!(city.location.longitude, Some(37.62));

    let sea = r.lookup(ip("10.200.1.1")).unwrap();
    assert_eq!(sea.network().unwrap().to_string(), "10.0.0.0/8");
    let city: geoip2::City = sea.decode().unwrap().unwrap();
    assert!(city.subdivisions.is_empty());
    assert_eq!(city.location.longitude, Some(-122.33));

    // Misses: an IPv4 address outside every network, and IPv6 space next to the /48.
    assert!(!r.lookup(ip("192.0.3.1")).unwrap().has_data());
    assert!(!r.lookup(ip("2001:db8:3::1")).unwrap().has_data());
    assert!(!r.lookup(ip("2001:db8:1::1")).unwrap().has_data());
}

#[test]
fn writer_encodes_every_supported_type() {
    let sizes = [0usize, 28, 29, 284, 285, 65_820, 65_821, 70_000];
    let strings: Vec<(String, Value)> = sizes
        .iter()
        .map(|&n| {
            (
                format!("s{n}"),
                Value::String("é".repeat(n / 2) + &"x".repeat(n % 2)),
            )
        })
        .collect();
    let wide_map: Vec<(String, Value)> = (0..40u32)
        .map(|i| (format!("k{i}"), Value::U32(i * 1000)))
        .collect();
    let record = Value::map([
        ("strings", Value::Map(strings)),
        ("wide", Value::Map(wide_map)),
        ("double", Value::Double(-122.33)),
        (
            "u16",
            Value::Array(vec![Value::U16(0), Value::U16(255), Value::U16(u16::MAX)]),
        ),
        (
            "u32",
            Value::Array(vec![Value::U32(0), Value::U32(256), Value::U32(u32::MAX)]),
        ),
        (
            "u64",
            Value::Array(vec![Value::U64(0), Value::U64(u64::MAX)]),
        ),
        (
            "bools",
            Value::Array(vec![Value::Bool(true), Value::Bool(false)]),
        ),
        (
            "long_array",
            Value::Array((0..300).map(Value::U16).collect()),
        ),
        ("empty", Value::map(Vec::<(String, Value)>::new())),
        ("text", Value::string("Новосибирск")),
    ]);
    let mut w = MmdbWriter::new("Test", 1);
    w.insert_cidr("2001:db8::/32", record);
    let r = reader(w.to_bytes());
    let got: serde_json::Value = r
        .lookup(ip("2001:db8::1"))
        .unwrap()
        .decode()
        .unwrap()
        .expect("data");

    for &n in &sizes {
        let s = got["strings"][format!("s{n}")].as_str().expect("string");
        assert_eq!(s.len(), n, "string of {n} bytes");
    }
    assert_eq!(got["wide"].as_object().unwrap().len(), 40);
    assert_eq!(got["wide"]["k39"], 39_000);
    assert_eq!(got["double"], -122.33);
    assert_eq!(got["u16"], serde_json::json!([0, 255, 65535]));
    assert_eq!(got["u32"], serde_json::json!([0, 256, 4_294_967_295u32]));
    assert_eq!(got["u64"], serde_json::json!([0, u64::MAX]));
    assert_eq!(got["bools"], serde_json::json!([true, false]));
    assert_eq!(got["long_array"].as_array().unwrap().len(), 300);
    assert_eq!(got["long_array"][299], 299);
    assert_eq!(got["empty"], serde_json::json!({}));
    assert_eq!(got["text"], "Новосибирск");
}

#[test]
fn writer_metadata_is_complete() {
    let w = MmdbWriter::new("DynaDNS-Test", 1_796_083_200)
        .description("en", "A test database")
        .description("ru", "Тестовая база")
        .languages(&["en", "ru"]);
    let r = reader(w.to_bytes());
    let m = r.metadata();
    assert_eq!(m.binary_format_major_version, 2);
    assert_eq!(m.binary_format_minor_version, 0);
    assert_eq!(m.build_epoch, 1_796_083_200);
    assert_eq!(m.database_type, "DynaDNS-Test");
    assert_eq!(m.description["en"], "A test database");
    assert_eq!(m.description["ru"], "Тестовая база");
    assert_eq!(m.ip_version, 6);
    assert_eq!(m.languages, ["en", "ru"]);
    assert_eq!(m.record_size, 24);
    assert_eq!(m.node_count, 1, "an empty tree is its root node");
    assert!(!r.lookup(ip("192.0.2.1")).unwrap().has_data());
}

#[test]
fn writer_more_specific_network_wins_whatever_the_insert_order() {
    for outer_first in [true, false] {
        let mut w = MmdbWriter::new("Test", 1);
        let outer = ("10.1.0.0/16", id(16));
        let inner = ("10.1.2.0/24", id(24));
        let innermost = ("10.1.2.128/25", id(25));
        let v6_outer = ("2001:db8::/32", id(32));
        let v6_inner = ("2001:db8:1::/48", id(48));
        let mut all = vec![outer, inner, innermost, v6_outer, v6_inner];
        if !outer_first {
            all.reverse();
        }
        for (cidr, value) in all {
            w.insert_cidr(cidr, value);
        }
        let r = reader(w.to_bytes());
        assert_eq!(id_of(&r, ip("10.1.2.1")), Some(24));
        assert_eq!(id_of(&r, ip("10.1.2.200")), Some(25));
        assert_eq!(id_of(&r, ip("10.1.3.1")), Some(16));
        assert_eq!(id_of(&r, ip("10.1.255.255")), Some(16));
        assert_eq!(id_of(&r, ip("10.2.0.0")), None);
        assert_eq!(id_of(&r, ip("2001:db8:1:2::3")), Some(48));
        assert_eq!(id_of(&r, ip("2001:db8:2::3")), Some(32));
        assert_eq!(id_of(&r, ip("2001:db9::")), None);
        assert_eq!(network_of(&r, "10.1.2.1"), ("10.1.2.0/25".into(), true));
        assert_eq!(network_of(&r, "10.1.2.130"), ("10.1.2.128/25".into(), true));
        // Around the /24 the /16 is split into the largest networks that exclude it.
        assert_eq!(network_of(&r, "10.1.3.1"), ("10.1.3.0/24".into(), true));
        assert_eq!(network_of(&r, "10.1.128.1"), ("10.1.128.0/17".into(), true));
        assert_eq!(
            network_of(&r, "2001:db8:1:ffff::"),
            ("2001:db8:1::/48".into(), true)
        );
        assert_eq!(
            network_of(&r, "2001:db8:8000::"),
            ("2001:db8:8000::/33".into(), true)
        );
    }
}

#[test]
fn writer_same_network_twice_keeps_the_last_record() {
    let mut w = MmdbWriter::new("Test", 1);
    w.insert_cidr("192.0.2.0/24", id(1));
    w.insert_cidr("192.0.2.0/24", id(2));
    // Host bits are ignored.
    w.insert(ip("198.51.100.99"), 24, id(3));
    let r = reader(w.to_bytes());
    assert_eq!(id_of(&r, ip("192.0.2.9")), Some(2));
    assert_eq!(
        network_of(&r, "198.51.100.1"),
        ("198.51.100.0/24".into(), true)
    );
}

#[test]
fn writer_stores_identical_records_once() {
    let record = || city_record("AS", "JP", Some("JP-13"), "Tokyo", 35.69, 139.69);
    let mut one = MmdbWriter::new("Test", 1);
    one.insert_cidr("203.0.113.0/24", record());
    let mut three = MmdbWriter::new("Test", 1);
    three.insert_cidr("203.0.113.0/24", record());
    three.insert_cidr("2001:db8:7::/48", record());
    three.insert_cidr("10.0.0.0/8", record());
    let (one, three) = (one.to_bytes(), three.to_bytes());
    let r = reader(three.clone());
    let offsets: Vec<_> = ["203.0.113.1", "2001:db8:7::1", "10.0.0.1"]
        .iter()
        .map(|a| r.lookup(ip(a)).unwrap().offset().expect("has data"))
        .collect();
    assert!(offsets.iter().all(|&o| o == offsets[0]), "{offsets:?}");
    // The extra networks only add tree nodes: the data section holds the record once.
    let encoded_len = |bytes: &[u8]| {
        let r = Reader::from_source(bytes.to_vec()).unwrap();
        bytes.len() - r.metadata().node_count as usize * 6
    };
    assert_eq!(encoded_len(&one), encoded_len(&three));
}

#[test]
fn writer_ipv4_mapped_addresses_alias_the_ipv4_tree() {
    let mut w = MmdbWriter::new("Test", 1);
    w.insert_cidr("192.0.2.0/24", id(7));
    let r = reader(w.to_bytes());
    assert_eq!(id_of(&r, ip("::ffff:192.0.2.5")), Some(7));
    assert_eq!(id_of(&r, ip("::192.0.2.5")), Some(7));
    assert_eq!(
        network_of(&r, "::ffff:192.0.2.5"),
        ("::ffff:192.0.2.0/120".into(), true)
    );

    let w = {
        let mut w = MmdbWriter::new("Test", 1).ipv4_mapped_alias(false);
        w.insert_cidr("192.0.2.0/24", id(7));
        w
    };
    let r = reader(w.to_bytes());
    assert_eq!(id_of(&r, ip("192.0.2.5")), Some(7));
    assert_eq!(id_of(&r, ip("::ffff:192.0.2.5")), None);
}

#[test]
fn writer_record_sizes_28_and_32_read_back() {
    for bits in [24u16, 28, 32] {
        let mut w = MmdbWriter::new("Test", 1).min_record_size(bits);
        w.insert_cidr("192.0.2.0/24", id(1));
        w.insert_cidr("2001:db8::/32", id(2));
        let r = reader(w.to_bytes());
        assert_eq!(r.metadata().record_size, bits);
        assert_eq!(id_of(&r, ip("192.0.2.1")), Some(1));
        assert_eq!(id_of(&r, ip("2001:db8::1")), Some(2));
        assert_eq!(id_of(&r, ip("192.0.3.1")), None);
    }
}

/// Deterministic pseudo-random numbers (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn u128(&mut self) -> u128 {
        (u128::from(self.next()) << 64) | u128::from(self.next())
    }
}

fn mask(bits: u128, len: u32) -> u128 {
    if len == 0 {
        0
    } else {
        bits & (u128::MAX << (128 - len))
    }
}

/// An address of the unified 128-bit space (IPv4 at `::/96`) as the reader wants it.
fn to_ip(bits: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(bits as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(bits))
    }
}

#[test]
fn writer_10000_random_networks_round_trip() {
    let mut rng = Rng(0x00d1_a0d1_5eed);
    let mut w = MmdbWriter::new("Test", 1);
    // (bits in the unified 128-bit space, tree prefix length) -> (record id, is IPv4).
    let mut expected: HashMap<(u128, u32), (u32, bool)> = HashMap::new();
    let mut nets = Vec::new();
    for i in 0..10_000u32 {
        let v4 = rng.below(2) == 0;
        let (bits, len) = if v4 {
            let len = 8 + rng.below(25) as u32;
            (u128::from(rng.next() as u32), 96 + len)
        } else {
            // Global unicast-like space (2000::/3), away from the IPv4 subtree.
            let len = 16 + rng.below(49) as u32;
            let bits = (rng.u128() >> 3) | (1 << 125);
            (bits, len)
        };
        let bits = mask(bits, len);
        // A few records repeat, so deduplication is exercised too.
        let record = if i % 10 == 0 { 1_000_000 } else { i };
        let prefix = if v4 { len - 96 } else { len };
        w.insert(to_ip(bits, v4), prefix as u8, id(record));
        expected.insert((bits, len), (record, v4));
        nets.push((bits, len, v4));
    }
    let r = reader(w.to_bytes());

    // Which networks contain another inserted network (their tree prefix gets split).
    let mut has_inner: HashMap<(u128, u32), bool> = HashMap::new();
    for &(bits, len) in expected.keys() {
        for shorter in 0..len {
            let key = (mask(bits, shorter), shorter);
            if expected.contains_key(&key) {
                has_inner.insert(key, true);
            }
        }
    }
    let longest_match = |addr: u128| {
        (0..=128u32).rev().find_map(|len| {
            expected
                .get(&(mask(addr, len), len))
                .map(|&(id, _)| (id, len))
        })
    };

    let mut checked = 0;
    for &(bits, len, v4) in &nets {
        let host_bits = 128 - len;
        let random_host = if host_bits == 0 {
            0
        } else {
            rng.u128() & (u128::MAX >> len)
        };
        for addr in [bits, bits | random_host] {
            let (want_id, want_len) = longest_match(addr).expect("inside its own network");
            let result = r.lookup(to_ip(addr, v4)).expect("lookup");
            let got: Option<u32> = result
                .decode_path(&[maxminddb::PathElement::Key("id")])
                .expect("decode");
            assert_eq!(
                got,
                Some(want_id),
                "{} (in {} networks)",
                to_ip(addr, v4),
                len
            );
            let network = result.network().expect("network");
            let tree_len = u32::from(network.prefix()) + if v4 { 96 } else { 0 };
            if has_inner.contains_key(&(mask(addr, want_len), want_len)) {
                assert!(tree_len >= want_len, "{network} for {}", to_ip(addr, v4));
            } else {
                assert_eq!(
                    (network.ip(), tree_len),
                    (to_ip(mask(addr, want_len), v4), want_len),
                    "network of {}",
                    to_ip(addr, v4)
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 20_000);
    // Outside every network: the IPv6 half below 2000::/3 and unused IPv4 space.
    assert_eq!(id_of(&r, ip("1000::1")), None);
    assert_eq!(id_of(&r, ip("0.0.0.1")), longest_match(1).map(|(id, _)| id));
}

// ---------------------------------------------------------------------------------------
// The demo database.

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoSource {
    #[allow(dead_code)]
    comment: String,
    database_type: String,
    description: String,
    build_epoch: u64,
    networks: Vec<DemoNetwork>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoNetwork {
    network: String,
    continent: String,
    country: String,
    subdivision: Option<String>,
    city: String,
    latitude: f64,
    longitude: f64,
}

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn build_demo() -> Vec<u8> {
    let path = repo_path("geoip/demo-city.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let source: DemoSource =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut w = MmdbWriter::new(&source.database_type, source.build_epoch)
        .description("en", &source.description);
    for n in &source.networks {
        w.insert_cidr(
            &n.network,
            city_record(
                &n.continent,
                &n.country,
                n.subdivision.as_deref(),
                &n.city,
                n.latitude,
                n.longitude,
            ),
        );
    }
    w.to_bytes()
}

#[test]
fn demo_database_matches_source() {
    let built = build_demo();
    let path = repo_path("geoip/demo-city.mmdb");
    if std::env::var(BLESS_ENV).is_ok_and(|v| v == "1") {
        std::fs::write(&path, &built).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        eprintln!("wrote {} ({} bytes)", path.display(), built.len());
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(
        committed == built,
        "{} ({} bytes) differs from the database built from geoip/demo-city.json ({} bytes): \
         regenerate it with `{BLESS_ENV}=1 cargo test --test geoip_demo` and commit both",
        path.display(),
        committed.len(),
        built.len()
    );
}

fn demo_reader() -> Reader<Vec<u8>> {
    let path = repo_path("geoip/demo-city.mmdb");
    reader(std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
}

/// `(network, country, subdivision, city, latitude, longitude)` of the record for `addr`.
fn demo_lookup(
    r: &Reader<Vec<u8>>,
    addr: &str,
) -> Option<(String, String, String, String, f64, f64)> {
    let result = r.lookup(ip(addr)).expect("lookup");
    let city: geoip2::City = result.decode().expect("decode")?;
    Some((
        result.network().unwrap().to_string(),
        city.country.iso_code.unwrap_or_default().to_string(),
        city.subdivisions
            .first()
            .and_then(|s| s.iso_code)
            .unwrap_or_default()
            .to_string(),
        city.city.names.english.unwrap_or_default().to_string(),
        city.location.latitude.unwrap(),
        city.location.longitude.unwrap(),
    ))
}

#[test]
fn demo_database_answers_the_documented_addresses() {
    let r = demo_reader();
    let m = r.metadata();
    assert_eq!(m.database_type, "DynaDNS-Demo-City");
    assert_eq!(m.ip_version, 6);
    assert_eq!(m.build_epoch, 1_796_083_200);

    let row = |net: &str, cc: &str, sub: &str, city: &str, lat: f64, lon: f64| {
        Some((net.into(), cc.into(), sub.into(), city.into(), lat, lon))
    };
    let cases = [
        (
            "127.0.1.1",
            row("127.0.1.0/24", "RU", "MOW", "Moscow", 55.75, 37.62),
        ),
        (
            "127.0.2.1",
            row("127.0.2.0/24", "RU", "NVS", "Novosibirsk", 55.03, 82.92),
        ),
        (
            "127.0.3.1",
            row("127.0.3.0/24", "KZ", "75", "Almaty", 43.24, 76.89),
        ),
        (
            "127.0.4.1",
            row("127.0.4.0/24", "DE", "HE", "Frankfurt am Main", 50.11, 8.68),
        ),
        (
            "127.0.5.1",
            row("127.0.5.0/24", "US", "WA", "Seattle", 47.61, -122.33),
        ),
        (
            "127.0.6.1",
            row(
                "127.0.6.0/24",
                "RU",
                "SPE",
                "Saint Petersburg",
                59.94,
                30.31,
            ),
        ),
        (
            "127.0.7.1",
            row("127.0.7.0/24", "AU", "NSW", "Sydney", -33.87, 151.21),
        ),
        (
            "192.0.2.53",
            row(
                "192.0.2.0/24",
                "RU",
                "SPE",
                "Saint Petersburg",
                59.94,
                30.31,
            ),
        ),
        (
            "198.51.100.7",
            row("198.51.100.0/24", "GB", "ENG", "London", 51.51, -0.13),
        ),
        (
            "203.0.113.10",
            row("203.0.113.0/24", "JP", "13", "Tokyo", 35.69, 139.69),
        ),
        (
            "2001:db8:1::1",
            row(
                "2001:db8:1::/48",
                "DE",
                "HE",
                "Frankfurt am Main",
                50.11,
                8.68,
            ),
        ),
        (
            "2001:db8:2::1",
            row("2001:db8:2::/48", "RU", "MOW", "Moscow", 55.75, 37.62),
        ),
        (
            "2001:db8:4:5::6",
            row("2001:db8:4::/48", "RU", "NVS", "Novosibirsk", 55.03, 82.92),
        ),
        // IPv4-mapped IPv6 addresses see the IPv4 data.
        (
            "::ffff:127.0.2.9",
            row(
                "::ffff:127.0.2.0/120",
                "RU",
                "NVS",
                "Novosibirsk",
                55.03,
                82.92,
            ),
        ),
        // Unassigned on purpose: plain 127.0.0.1 and ::1 get the geo map's default.
        ("127.0.0.1", None),
        ("127.0.8.1", None),
        ("::1", None),
        ("2001:db8::54", None),
    ];
    for (addr, want) in cases {
        assert_eq!(demo_lookup(&r, addr), want, "{addr}");
    }

    // Continents as the example geo map keys them.
    let continent = |addr: &str| -> String {
        r.lookup(ip(addr))
            .unwrap()
            .decode_path::<String>(&[
                maxminddb::PathElement::Key("continent"),
                maxminddb::PathElement::Key("code"),
            ])
            .unwrap()
            .unwrap()
    };
    assert_eq!(continent("127.0.1.1"), "EU");
    assert_eq!(continent("127.0.3.1"), "AS");
    assert_eq!(continent("127.0.5.1"), "NA");
    assert_eq!(continent("127.0.7.1"), "OC");
}
