//! A small writer of the MaxMind DB file format, version 2.0
//! (<https://maxmind.github.io/MaxMind-DB/>), for tests and for building the demo database
//! in `geoip/`.
//!
//! It writes an IPv6 search tree (`ip_version` 6): IPv4 networks live under `::/96`, and
//! `::ffff:0:0/96` (IPv4-mapped addresses) is an alias of that subtree, as in MaxMind's own
//! databases. The record size (24, 28 or 32 bits) is the smallest that can address every
//! node and data record. Identical data records are stored once. The output is a pure
//! function of the inserts and their order, so it can be compared byte for byte.
//!
//! ```ignore
//! let mut w = MmdbWriter::new("DynaDNS-Demo-City", 1_764_547_200);
//! w.insert("192.0.2.0".parse().unwrap(), 24, city_record("EU", "RU", Some("RU-SPE"),
//!     "Saint Petersburg", 59.94, 30.31));
//! let bytes = w.to_bytes();
//! let reader = maxminddb::Reader::from_source(bytes).unwrap();
//! ```

use std::collections::HashMap;
use std::net::IpAddr;

/// A value of the MaxMind DB data section (the subset of types the writer supports).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Type 7: a map with string keys, written in the given order.
    Map(Vec<(String, Value)>),
    /// Type 2: a UTF-8 string.
    String(String),
    /// Type 3: an IEEE 754 double.
    Double(f64),
    /// Type 5: an unsigned 16-bit integer.
    U16(u16),
    /// Type 6: an unsigned 32-bit integer.
    U32(u32),
    /// Type 9: an unsigned 64-bit integer.
    U64(u64),
    /// Type 11: an array.
    Array(Vec<Value>),
    /// Type 14: a boolean.
    Bool(bool),
}

impl Value {
    /// A map from `(key, value)` pairs, keeping their order.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
}

/// Marker that separates the data section from the metadata.
const METADATA_START_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";

/// Depth of the IPv4 subtree (`::/96`) in the IPv6 tree.
const IPV4_DEPTH: usize = 96;

/// A child record of a search tree node while the tree is being built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// No data for this network.
    Empty,
    /// Another node (index into `nodes`).
    Node(usize),
    /// A data record (index into the list of distinct records).
    Data(usize),
}

/// Builds a MaxMind DB file in memory. See the module documentation.
pub struct MmdbWriter {
    database_type: String,
    build_epoch: u64,
    description: Vec<(String, String)>,
    languages: Vec<String>,
    /// `(128-bit network, prefix length in the IPv6 tree, record)` in insertion order.
    inserts: Vec<(u128, u8, Value)>,
    ipv4_mapped_alias: bool,
    min_record_size: u16,
}

impl MmdbWriter {
    /// An empty database of type `database_type` (e.g. `"DynaDNS-Demo-City"`), stamped
    /// with `build_epoch` (seconds since 1970; fixed by the caller so builds are
    /// reproducible). The description defaults to `{en: database_type}` and the languages
    /// to `["en"]`.
    pub fn new(database_type: &str, build_epoch: u64) -> Self {
        MmdbWriter {
            database_type: database_type.to_string(),
            build_epoch,
            description: vec![("en".to_string(), database_type.to_string())],
            languages: vec!["en".to_string()],
            inserts: Vec::new(),
            ipv4_mapped_alias: true,
            min_record_size: 24,
        }
    }

    /// Sets the description for one language (replacing the default `en` one).
    pub fn description(mut self, language: &str, text: &str) -> Self {
        self.description.retain(|(l, _)| l != language);
        self.description
            .push((language.to_string(), text.to_string()));
        self
    }

    /// Sets the `languages` metadata.
    pub fn languages(mut self, languages: &[&str]) -> Self {
        self.languages = languages.iter().map(|l| l.to_string()).collect();
        self
    }

    /// Whether `::ffff:0:0/96` is written as an alias of the IPv4 subtree (default: yes).
    pub fn ipv4_mapped_alias(mut self, on: bool) -> Self {
        self.ipv4_mapped_alias = on;
        self
    }

    /// Uses records of at least `bits` (24, 28 or 32) even when smaller ones would do, so
    /// tests can cover every record size without building a huge tree.
    pub fn min_record_size(mut self, bits: u16) -> Self {
        assert!(
            matches!(bits, 24 | 28 | 32),
            "record size {bits} is not 24, 28 or 32"
        );
        self.min_record_size = bits;
        self
    }

    /// Maps the network `net/prefix_len` to `record`. An IPv4 network goes to `::net/96+len`.
    /// Inserts may nest in any order: the most specific network wins for the addresses it
    /// covers; the same network inserted twice keeps the last record. Host bits of `net`
    /// are ignored.
    pub fn insert(&mut self, net: IpAddr, prefix_len: u8, record: Value) {
        let (bits, len) = match net {
            IpAddr::V4(v4) => {
                assert!(prefix_len <= 32, "IPv4 prefix /{prefix_len} is too long");
                (u128::from(u32::from(v4)), prefix_len + IPV4_DEPTH as u8)
            }
            IpAddr::V6(v6) => {
                assert!(prefix_len <= 128, "IPv6 prefix /{prefix_len} is too long");
                (u128::from(v6), prefix_len)
            }
        };
        self.inserts.push((mask(bits, len), len, record));
    }

    /// Parses `"192.0.2.0/24"` or `"2001:db8::/32"` and inserts it.
    pub fn insert_cidr(&mut self, cidr: &str, record: Value) {
        let (ip, len) = cidr
            .split_once('/')
            .unwrap_or_else(|| panic!("{cidr:?} is not ADDRESS/PREFIX"));
        let ip: IpAddr = ip.parse().unwrap_or_else(|e| panic!("{cidr:?}: {e}"));
        let len: u8 = len.parse().unwrap_or_else(|e| panic!("{cidr:?}: {e}"));
        self.insert(ip, len, record);
    }

    /// The complete database file.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Data section: each distinct record once, in order of first insertion.
        let mut data = Vec::new();
        let mut offsets: Vec<usize> = Vec::new();
        let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut record_of_insert = Vec::with_capacity(self.inserts.len());
        for (_, _, value) in &self.inserts {
            let mut encoded = Vec::new();
            encode(value, &mut encoded);
            let index = *seen.entry(encoded).or_insert_with_key(|encoded| {
                offsets.push(data.len());
                data.extend_from_slice(encoded);
                offsets.len() - 1
            });
            record_of_insert.push(index);
        }

        // Search tree: less specific networks first, so a more specific one only ever
        // splits or overwrites them (stable sort: equal networks keep insertion order).
        let mut order: Vec<usize> = (0..self.inserts.len()).collect();
        order.sort_by_key(|&i| self.inserts[i].1);
        let mut nodes: Vec<[Slot; 2]> = vec![[Slot::Empty; 2]];
        for i in order {
            let (bits, len, _) = &self.inserts[i];
            insert_path(&mut nodes, *bits, *len, Slot::Data(record_of_insert[i]));
        }
        if self.ipv4_mapped_alias {
            add_ipv4_mapped_alias(&mut nodes);
        }

        let node_count = nodes.len();
        let largest = node_count + 16 + data.len();
        let record_size: u16 = if largest < 1 << 24 && self.min_record_size <= 24 {
            24
        } else if largest < 1 << 28 && self.min_record_size <= 28 {
            28
        } else {
            assert!(largest <= u32::MAX as usize, "database too large");
            32
        };
        let value_of = |slot: Slot| -> u32 {
            let v = match slot {
                Slot::Empty => node_count,
                Slot::Node(n) => n,
                Slot::Data(d) => node_count + 16 + offsets[d],
            };
            u32::try_from(v).expect("record fits 32 bits")
        };

        let mut out = Vec::with_capacity(node_count * record_size as usize / 4 + data.len() + 256);
        for [left, right] in &nodes {
            let (l, r) = (value_of(*left), value_of(*right));
            match record_size {
                24 => {
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                28 => {
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.push((((l >> 24) & 0x0f) << 4) as u8 | ((r >> 24) & 0x0f) as u8);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                _ => {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
        }
        out.extend_from_slice(&[0u8; 16]);
        out.extend_from_slice(&data);
        out.extend_from_slice(METADATA_START_MARKER);

        let metadata = Value::map([
            ("binary_format_major_version", Value::U16(2)),
            ("binary_format_minor_version", Value::U16(0)),
            ("build_epoch", Value::U64(self.build_epoch)),
            ("database_type", Value::string(&self.database_type)),
            (
                "description",
                Value::map(
                    self.description
                        .iter()
                        .map(|(l, t)| (l.clone(), Value::string(t))),
                ),
            ),
            ("ip_version", Value::U16(6)),
            (
                "languages",
                Value::Array(self.languages.iter().map(Value::string).collect()),
            ),
            (
                "node_count",
                Value::U32(u32::try_from(node_count).expect("node count fits 32 bits")),
            ),
            ("record_size", Value::U16(record_size)),
        ]);
        encode(&metadata, &mut out);
        out
    }
}

/// `bits` with everything after the first `len` bits cleared.
fn mask(bits: u128, len: u8) -> u128 {
    match len {
        0 => 0,
        128.. => bits,
        _ => bits & (u128::MAX << (128 - u32::from(len))),
    }
}

/// Bit `depth` (0 = most significant) of a 128-bit address.
fn bit(bits: u128, depth: usize) -> usize {
    ((bits >> (127 - depth)) & 1) as usize
}

/// Points the record for `bits/len` at `target`. A data record met on the way (a less
/// specific network) is pushed down into both halves of a new node.
fn insert_path(nodes: &mut Vec<[Slot; 2]>, bits: u128, len: u8, target: Slot) {
    if len == 0 {
        // The root itself cannot hold data: ::/0 is its two halves.
        for side in 0..2 {
            insert_path(nodes, bits | ((side as u128) << 127), 1, target);
        }
        return;
    }
    let mut node = 0;
    for depth in 0..usize::from(len) - 1 {
        let side = bit(bits, depth);
        node = match nodes[node][side] {
            Slot::Node(next) => next,
            slot => {
                // Empty, or a less specific network's data: split it.
                nodes.push([slot, slot]);
                let next = nodes.len() - 1;
                nodes[node][side] = Slot::Node(next);
                next
            }
        };
    }
    let side = bit(bits, usize::from(len) - 1);
    assert!(
        !matches!(nodes[node][side], Slot::Node(_)),
        "a more specific network was inserted before a less specific one"
    );
    nodes[node][side] = target;
}

/// Makes `::ffff:0:0/96` point at the IPv4 subtree (`::/96`) when that subtree is a node
/// and nothing was inserted under `::ffff:0:0/96` itself.
fn add_ipv4_mapped_alias(nodes: &mut Vec<[Slot; 2]>) {
    let mut node = 0;
    for _ in 0..IPV4_DEPTH {
        match nodes[node][0] {
            Slot::Node(next) => node = next,
            _ => return,
        }
    }
    let ipv4_root = Slot::Node(node);
    let mapped: u128 = 0xffff << 32;
    // The path to ::ffff:0:0/96 shares its first 80 zero bits with ::/96.
    let mut node = 0;
    for depth in 0..IPV4_DEPTH - 1 {
        let side = bit(mapped, depth);
        node = match nodes[node][side] {
            Slot::Node(next) => next,
            Slot::Empty => {
                nodes.push([Slot::Empty; 2]);
                let next = nodes.len() - 1;
                nodes[node][side] = Slot::Node(next);
                next
            }
            // Data covers ::ffff:0:0/96 already: leave it as inserted.
            Slot::Data(_) => return,
        };
    }
    let side = bit(mapped, IPV4_DEPTH - 1);
    if nodes[node][side] == Slot::Empty {
        nodes[node][side] = ipv4_root;
    }
}

/// Appends the control byte(s) of a value of `type_num` and `size`.
fn control(type_num: u8, size: usize, out: &mut Vec<u8>) {
    let (size_bits, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, Vec::new())
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65536 {
        (30, ((size - 285) as u16).to_be_bytes().to_vec())
    } else {
        assert!(size < 65821 + (1 << 24), "value too large");
        (31, ((size - 65821) as u32).to_be_bytes()[1..].to_vec())
    };
    if type_num <= 7 {
        out.push((type_num << 5) | size_bits);
    } else {
        out.push(size_bits);
        out.push(type_num - 7);
    }
    out.extend_from_slice(&extra);
}

/// Appends an unsigned integer of `type_num` in its shortest big-endian form.
fn unsigned(type_num: u8, value: u64, out: &mut Vec<u8>) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    control(type_num, 8 - skip, out);
    out.extend_from_slice(&bytes[skip..]);
}

/// Appends the encoding of `value` (no pointers).
fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::String(s) => {
            control(2, s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Double(d) => {
            control(3, 8, out);
            out.extend_from_slice(&d.to_be_bytes());
        }
        Value::U16(v) => unsigned(5, u64::from(*v), out),
        Value::U32(v) => unsigned(6, u64::from(*v), out),
        Value::U64(v) => unsigned(9, *v, out),
        Value::Map(pairs) => {
            control(7, pairs.len(), out);
            for (key, value) in pairs {
                control(2, key.len(), out);
                out.extend_from_slice(key.as_bytes());
                encode(value, out);
            }
        }
        Value::Array(items) => {
            control(11, items.len(), out);
            for item in items {
                encode(item, out);
            }
        }
        Value::Bool(b) => control(14, usize::from(*b), out),
    }
}

/// English names of the continent codes used by the demo data.
const CONTINENTS: &[(&str, &str)] = &[
    ("AF", "Africa"),
    ("AN", "Antarctica"),
    ("AS", "Asia"),
    ("EU", "Europe"),
    ("NA", "North America"),
    ("OC", "Oceania"),
    ("SA", "South America"),
];

/// English names of the countries used by the demo data (ISO 3166-1 alpha-2).
const COUNTRIES: &[(&str, &str)] = &[
    ("AU", "Australia"),
    ("BR", "Brazil"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("JP", "Japan"),
    ("KZ", "Kazakhstan"),
    ("NL", "Netherlands"),
    ("RU", "Russia"),
    ("US", "United States"),
];

/// English names of the subdivisions used by the demo data (ISO 3166-2).
const SUBDIVISIONS: &[(&str, &str)] = &[
    ("AU-NSW", "New South Wales"),
    ("DE-BE", "Berlin"),
    ("DE-HE", "Hesse"),
    ("GB-ENG", "England"),
    ("JP-13", "Tokyo"),
    ("KZ-75", "Almaty"),
    ("NL-NH", "North Holland"),
    ("RU-MOW", "Moscow"),
    ("RU-NVS", "Novosibirsk Oblast"),
    ("RU-SPE", "Saint Petersburg"),
    ("US-CA", "California"),
    ("US-VA", "Virginia"),
    ("US-WA", "Washington"),
];

fn name_of(table: &[(&str, &str)], code: &str, what: &str) -> String {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| panic!("no English name for {what} {code:?}: add it to mmdb.rs"))
}

fn names_en(name: &str) -> Value {
    Value::map([("names", Value::map([("en", Value::string(name))]))])
}

/// A record in the shape of GeoIP2-City:
/// `{continent: {code, names: {en}}, country: {iso_code, names: {en}},
/// subdivisions: [{iso_code, names: {en}}], city: {names: {en}},
/// location: {latitude, longitude, accuracy_radius}}`.
///
/// `subdivision` is the full ISO 3166-2 code (`"RU-MOW"`); as in GeoIP2, the record's
/// `subdivisions[0].iso_code` holds only the part after the country (`"MOW"`). Without a
/// subdivision the `subdivisions` key is left out. Names come from the small tables in
/// this file (a panic names a missing code).
pub fn city_record(
    continent: &str,
    country: &str,
    subdivision: Option<&str>,
    city: &str,
    latitude: f64,
    longitude: f64,
) -> Value {
    let mut fields = vec![
        ("city".to_string(), names_en(city)),
        (
            "continent".to_string(),
            Value::map([
                ("code", Value::string(continent)),
                (
                    "names",
                    Value::map([(
                        "en",
                        Value::string(name_of(CONTINENTS, continent, "continent")),
                    )]),
                ),
            ]),
        ),
        (
            "country".to_string(),
            Value::map([
                ("iso_code", Value::string(country)),
                (
                    "names",
                    Value::map([("en", Value::string(name_of(COUNTRIES, country, "country")))]),
                ),
            ]),
        ),
        (
            "location".to_string(),
            Value::map([
                ("accuracy_radius", Value::U16(50)),
                ("latitude", Value::Double(latitude)),
                ("longitude", Value::Double(longitude)),
            ]),
        ),
    ];
    if let Some(code) = subdivision {
        let local = code
            .strip_prefix(country)
            .and_then(|rest| rest.strip_prefix('-'))
            .unwrap_or_else(|| panic!("subdivision {code:?} is not {country}-XXX (ISO 3166-2)"));
        fields.push((
            "subdivisions".to_string(),
            Value::Array(vec![Value::map([
                ("iso_code", Value::string(local)),
                (
                    "names",
                    Value::map([(
                        "en",
                        Value::string(name_of(SUBDIVISIONS, code, "subdivision")),
                    )]),
                ),
            ])]),
        ));
    }
    Value::Map(fields)
}
