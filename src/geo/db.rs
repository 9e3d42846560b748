//! The GeoIP database: a MaxMind-format file (City or Country) read once into plain tables.
//!
//! At load the whole search tree is walked once ([`maxminddb::Reader::networks`]); every
//! distinct data record is decoded once (cached by its data-section offset) into a compact
//! [`Place`], interned, and every network becomes a `(start, prefix length, place)` row of a
//! sorted IPv4 or IPv6 list. Geo maps are compiled from these rows (`crate::gslb::route::geo`),
//! so the query path never touches the database: one binary search in a flattened table.
//!
//! The file is read into memory ([`crate::fsread::read_bounded`], then `Reader::from_source`), not memory-mapped: mapping needs
//! `unsafe` (a file truncated under a mapping faults the process), and after the walk the
//! reader is dropped anyway. A database overwritten in place (geoipupdate) therefore cannot
//! hurt a running server; the change is noticed as a watched source and loaded on reload.
//!
//! Every failure is an error, never a panic: a missing file, a file that is not a MaxMind DB,
//! a corrupt search tree ([`maxminddb::Reader::verify`] runs first) and a record that does not
//! decode.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{Reader, geoip2};

/// Where the database places a network: what geo map entries match against.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Place {
    /// Continent code ("EU"), if the record has one.
    pub continent: Option<Box<str>>,
    /// ISO 3166-1 alpha-2 country code ("GB").
    pub country: Option<Box<str>>,
    /// ISO 3166-2 subdivision codes with their country ("GB-ENG", "GB-WBK"), largest first:
    /// a map's `subdivisions` entry may name any of them, the most specific (last) wins.
    pub subdivisions: Box<[Box<str>]>,
    /// English city name, for `explain` only.
    pub city: Option<Box<str>>,
    /// Latitude and longitude, for `nearest`.
    pub location: Option<(f64, f64)>,
}

/// What was loaded, for `/status`, `/metrics` and `explain`: which file, which edition and
/// build, and how big it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbInfo {
    /// The file, as configured (resolved against the server file's directory).
    pub path: PathBuf,
    /// The database's own type ("GeoIP2-City", "GeoLite2-Country", ...).
    pub database_type: String,
    /// When MaxMind built it (Unix seconds): tells operators how stale the data is.
    pub build_epoch: u64,
    /// Networks with data (IPv4 and IPv6 together).
    pub networks: usize,
    /// Distinct places after interning.
    pub places: usize,
}

/// A GeoIP database held as sorted rows, ready for compiling geo maps.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoDb {
    /// What was loaded.
    pub info: DbInfo,
    /// Interned places; rows index them.
    pub places: Vec<Place>,
    /// IPv4 networks: (network address, prefix length, place), ascending and disjoint.
    pub v4: Vec<(u32, u8, u32)>,
    /// IPv6 networks (IPv4 space excluded), ascending and disjoint.
    pub v6: Vec<(u128, u8, u32)>,
}

/// Why a database could not be loaded: what is wrong, said for an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Hashable form of a place, for interning (coordinates by their bits).
type PlaceKey = (
    Option<Box<str>>,
    Option<Box<str>>,
    Box<[Box<str>]>,
    Option<Box<str>>,
    Option<(u64, u64)>,
);

fn key_of(p: &Place) -> PlaceKey {
    (
        p.continent.clone(),
        p.country.clone(),
        p.subdivisions.clone(),
        p.city.clone(),
        p.location.map(|(a, b)| (a.to_bits(), b.to_bits())),
    )
}

impl GeoDb {
    /// Loads and walks the database at `path`, under the default file size limit.
    pub fn open(path: &Path) -> Result<GeoDb, DbError> {
        Self::open_limited(path, crate::fsread::DEFAULT_MAX_FILE_SIZE)
    }

    /// Loads and walks the database at `path`, a regular file of at most `limit` bytes
    /// (`server.max_file_size`, see [`crate::fsread`]).
    pub fn open_limited(path: &Path, limit: u64) -> Result<GeoDb, DbError> {
        let bytes = crate::fsread::read_bounded(path, limit).map_err(|e| match e {
            crate::fsread::ReadError::Io(io) => DbError(format!("cannot read it: {io}")),
            other => DbError(other.to_string()),
        })?;
        let reader = Reader::from_source(bytes).map_err(|e| match e {
            maxminddb::MaxMindDbError::Io(io) => DbError(format!("cannot read it: {io}")),
            other => DbError(format!("not a valid MaxMind database: {other}")),
        })?;
        // The walk below decodes every record it reaches, but a broken tree can point outside
        // the data section or loop; verify checks the whole file first. It costs about as
        // much as the walk (release build, 22 KB City test database: verify 88 µs of a
        // 200 µs load); both are linear in the file and run once per load, never per query.
        reader
            .verify()
            .map_err(|e| DbError(format!("the database is corrupt: {e}")))?;
        let meta = reader.metadata();
        let mut db = GeoDb {
            info: DbInfo {
                path: path.to_path_buf(),
                database_type: meta.database_type.clone(),
                build_epoch: meta.build_epoch,
                networks: 0,
                places: 0,
            },
            places: Vec::new(),
            v4: Vec::new(),
            v6: Vec::new(),
        };
        let corrupt =
            |e: maxminddb::MaxMindDbError| DbError(format!("the database is corrupt: {e}"));
        let mut by_offset: HashMap<usize, u32> = HashMap::new();
        let mut by_value: HashMap<PlaceKey, u32> = HashMap::new();
        for item in reader.networks(Default::default()).map_err(corrupt)? {
            let item = item.map_err(corrupt)?;
            let Some(offset) = item.offset() else {
                continue;
            };
            let id = match by_offset.get(&offset) {
                Some(&id) => id,
                None => {
                    let rec: geoip2::City<'_> = item.decode().map_err(corrupt)?.unwrap_or_default();
                    let place = place_of(&rec);
                    let next = db.places.len() as u32;
                    let id = *by_value.entry(key_of(&place)).or_insert_with(|| {
                        db.places.push(place);
                        next
                    });
                    by_offset.insert(offset, id);
                    id
                }
            };
            let net = item.network().map_err(corrupt)?;
            db.push(net.ip(), net.prefix(), id);
        }
        db.v4.sort_unstable_by_key(|r| (r.0, r.1));
        db.v6.sort_unstable_by_key(|r| (r.0, r.1));
        db.info.networks = db.v4.len() + db.v6.len();
        db.info.places = db.places.len();
        // A database of another schema (ASN, ISP, IPinfo's own) decodes as a City record with
        // every field empty: without this check every client would silently get `default`.
        let usable =
            |p: &Place| p.country.is_some() || p.continent.is_some() || p.location.is_some();
        if !db.places.iter().any(usable) {
            return Err(DbError(format!(
                "it has no country, continent or location data ({} networks, database type '{}'): \
                 dynadns reads the GeoIP2 City/Country schema (country.iso_code, continent.code, \
                 subdivisions[].iso_code, location)",
                db.info.networks, db.info.database_type
            )));
        }
        Ok(db)
    }

    /// Files one network: IPv4 networks of an IPv6 database live at `::a.b.c.d/96+n` and
    /// become IPv4 rows (an IPv6 network wider than /96 covering `::` covers all of IPv4).
    fn push(&mut self, ip: IpAddr, len: u8, place: u32) {
        match ip {
            IpAddr::V4(a) => self.v4.push((u32::from(a), len.min(32), place)),
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                if len >= 96 && bits >> 32 == 0 {
                    self.v4.push((bits as u32, len - 96, place));
                } else {
                    if len < 96 && bits == 0 {
                        self.v4.push((0, 0, place));
                    }
                    self.v6.push((bits, len.min(128), place));
                }
            }
        }
    }

    /// The database network holding `addr` and its place (IPv4-mapped addresses look up
    /// IPv4): what `explain` shows. A binary search over the rows loaded at start.
    pub fn lookup(&self, addr: IpAddr) -> Option<(IpAddr, u8, &Place)> {
        let addr = match addr {
            IpAddr::V6(a) => a.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        match addr {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                let i = self.v4.partition_point(|r| r.0 <= a).checked_sub(1)?;
                let (start, len, p) = self.v4[i];
                use crate::geo::table::AddrBits;
                (a.mask(len) == start)
                    .then(|| (IpAddr::V4(start.into()), len, &self.places[p as usize]))
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                let i = self.v6.partition_point(|r| r.0 <= a).checked_sub(1)?;
                let (start, len, p) = self.v6[i];
                use crate::geo::table::AddrBits;
                (a.mask(len) == start)
                    .then(|| (IpAddr::V6(start.into()), len, &self.places[p as usize]))
            }
        }
    }
}

fn place_of(rec: &geoip2::City<'_>) -> Place {
    let country = rec.country.iso_code.map(Box::from);
    let subdivisions = match &country {
        Some(cc) => rec
            .subdivisions
            .iter()
            .filter_map(|s| s.iso_code)
            .map(|s| format!("{cc}-{s}").into_boxed_str())
            .collect(),
        None => Box::default(),
    };
    Place {
        continent: rec.continent.code.map(Box::from),
        country,
        subdivisions,
        city: rec.city.names.english.map(Box::from),
        location: match (rec.location.latitude, rec.location.longitude) {
            (Some(lat), Some(lon)) if lat.is_finite() && lon.is_finite() => Some((lat, lon)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(name: &str) -> Option<PathBuf> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/geoip")
            .join(name);
        if p.exists() {
            return Some(p);
        }
        // As in tests/common: CI (DYNADNS_REQUIRE_CONFORMANCE=1) fails instead of skipping.
        assert!(
            std::env::var_os("DYNADNS_REQUIRE_CONFORMANCE").is_none(),
            "{} is missing (expected the shared checkout next to the repository)",
            p.display()
        );
        eprintln!("SKIPPED: {} not found (shared test data)", p.display());
        None
    }

    fn at<'a>(db: &'a GeoDb, a: &str) -> (String, &'a Place) {
        let (net, len, p) = db.lookup(a.parse().unwrap()).expect(a);
        (format!("{net}/{len}"), p)
    }

    #[test]
    fn city_database_places_and_networks() {
        let Some(path) = shared("GeoIP2-City-Test.mmdb") else {
            return;
        };
        let t = std::time::Instant::now();
        let db = GeoDb::open(&path).unwrap();
        eprintln!("loaded {:?} in {:?}", db.info, t.elapsed());
        assert_eq!(db.info.database_type, "GeoIP2-City");
        assert!(db.info.networks > 100 && db.info.places < db.info.networks);

        let (net, p) = at(&db, "81.2.69.160");
        assert_eq!(net, "81.2.69.160/27");
        assert_eq!(p.country.as_deref(), Some("GB"));
        assert_eq!(p.continent.as_deref(), Some("EU"));
        assert_eq!(p.city.as_deref(), Some("London"));
        assert!(p.location.is_some());

        let (net, p) = at(&db, "89.160.20.128");
        assert_eq!(net, "89.160.20.128/25");
        assert_eq!(p.country.as_deref(), Some("SE"));

        let (_, p) = at(&db, "216.160.83.56");
        assert_eq!(p.country.as_deref(), Some("US"));
        assert!(p.subdivisions.iter().any(|s| &**s == "US-WA"), "{p:?}");

        let (net, p) = at(&db, "2001:218::1");
        assert_eq!(net, "2001:218::/32");
        assert_eq!(p.country.as_deref(), Some("JP"));

        // IPv4-mapped clients look up IPv4.
        assert_eq!(at(&db, "::ffff:81.2.69.160").0, "81.2.69.160/27");
        // No IPv4 network of the file leaks into the IPv6 rows.
        assert!(db.v6.iter().all(|r| r.0 >> 32 != 0 || r.1 < 96));
        assert!(db.lookup("10.0.0.1".parse().unwrap()).is_none());
        // Rows are disjoint.
        for w in db.v4.windows(2) {
            assert!(u64::from(w[0].0) + (1u64 << (32 - w[0].1)) <= u64::from(w[1].0));
        }
    }

    #[test]
    fn country_database_has_no_coordinates() {
        let Some(path) = shared("GeoIP2-Country-Test.mmdb") else {
            return;
        };
        let db = GeoDb::open(&path).unwrap();
        let (_, p) = at(&db, "81.2.69.160");
        assert_eq!(p.country.as_deref(), Some("GB"));
        assert!(p.city.is_none());
    }

    #[test]
    fn a_database_without_geo_fields_is_an_error() {
        let Some(path) = shared("GeoLite2-ASN-Test.mmdb") else {
            return;
        };
        let e = GeoDb::open(&path).unwrap_err().0;
        assert!(e.contains("no country, continent or location data"), "{e}");
        assert!(e.contains("GeoLite2-ASN"), "{e}");
    }

    #[test]
    fn broken_and_missing_files_are_errors() {
        for name in [
            "MaxMind-DB-test-broken-pointers-24.mmdb",
            "MaxMind-DB-test-broken-search-tree-24.mmdb",
        ] {
            let Some(path) = shared(name) else {
                return;
            };
            let e = GeoDb::open(&path).unwrap_err();
            assert!(e.0.contains("corrupt"), "{name}: {e}");
        }
        let e = GeoDb::open(Path::new("/nonexistent/x.mmdb")).unwrap_err();
        assert!(e.0.contains("cannot read"), "{e}");
        // Not a database at all, and a truncated one.
        let dir = std::env::temp_dir().join(format!("dynadns-geodb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.mmdb");
        std::fs::write(&junk, b"hello").unwrap();
        assert!(GeoDb::open(&junk).unwrap_err().0.contains("not a valid"));
        if let Some(path) = shared("GeoIP2-City-Test.mmdb") {
            let bytes = std::fs::read(path).unwrap();
            let cut = dir.join("cut.mmdb");
            std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
            assert!(GeoDb::open(&cut).is_err());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
