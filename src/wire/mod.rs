//! DNS wire format: parsing queries and writing responses.
//!
//! This layer knows the message format (RFC 1035, EDNS0 RFC 6891, client subnet RFC 7871) and
//! nothing about zones, resources or health. It is allocation-free: queries are parsed into
//! borrowed views and responses are written into a caller-owned buffer, so the query path can
//! reuse one buffer per worker.

pub mod name;
pub mod query;
pub mod writer;

/// Resource record types we give meaning to (everything else is carried opaquely).
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const HINFO: u16 = 13;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const RP: u16 = 17;
    pub const AFSDB: u16 = 18;
    pub const AAAA: u16 = 28;
    pub const LOC: u16 = 29;
    pub const SRV: u16 = 33;
    pub const NAPTR: u16 = 35;
    pub const KX: u16 = 36;
    pub const DNAME: u16 = 39;
    pub const OPT: u16 = 41;
    pub const DS: u16 = 43;
    pub const SSHFP: u16 = 44;
    pub const RRSIG: u16 = 46;
    pub const DNSKEY: u16 = 48;
    pub const TLSA: u16 = 52;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
    pub const SPF: u16 = 99;
    pub const IXFR: u16 = 251;
    pub const AXFR: u16 = 252;
    pub const MAILB: u16 = 253;
    pub const MAILA: u16 = 254;
    pub const ANY: u16 = 255;
    pub const URI: u16 = 256;
    pub const CAA: u16 = 257;
}

/// DNS classes.
pub mod class {
    pub const IN: u16 = 1;
    pub const CH: u16 = 3;
    pub const ANY: u16 = 255;
}

/// Response codes (the 12-bit extended space; the low 4 bits go in the header).
pub mod rcode {
    pub const NOERROR: u16 = 0;
    pub const FORMERR: u16 = 1;
    pub const SERVFAIL: u16 = 2;
    pub const NXDOMAIN: u16 = 3;
    pub const NOTIMP: u16 = 4;
    pub const REFUSED: u16 = 5;
    pub const BADVERS: u16 = 16;
}

/// EDNS option codes we understand.
pub mod opt {
    pub const CLIENT_SUBNET: u16 = 8;
    /// DNS cookie (RFC 7873).
    pub const COOKIE: u16 = 10;
}

/// Header flag bits (in the 16-bit flags word).
pub mod flag {
    pub const QR: u16 = 0x8000;
    pub const AA: u16 = 0x0400;
    pub const TC: u16 = 0x0200;
    pub const RD: u16 = 0x0100;
}

/// Size of the fixed DNS header.
pub const HEADER_LEN: usize = 12;
/// Largest UDP answer without EDNS (RFC 1035 §4.2.1).
pub const CLASSIC_UDP_LIMIT: usize = 512;
/// Largest DNS message (TCP length prefix is 16 bits).
pub const MAX_MESSAGE: usize = 65535;

/// How one field of a record's data is written in a zone file and laid out on the wire.
///
/// One list of fields per type (in [`RECORD_TYPES`]) drives the zone loader's text parser, the
/// RFC 3597 generic-form checks, and the importer's knowledge of which tokens are names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// An 8-bit number.
    U8,
    /// A 16-bit number.
    U16,
    /// A 32-bit number.
    U32,
    /// A 32-bit time value that may use units (`1h30m`): SOA timers.
    Time,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// A name that may be compressed and is followed for additional processing.
    Name,
    /// A name written uncompressed (types newer than RFC 1035), still followed.
    NameNoCompress,
    /// A name that is neither compressed nor followed (RP, PX, TALINK).
    PlainName,
    /// A mailbox name: compressed (SOA RNAME, MINFO) but not followed.
    MailName,
    /// One character-string (length byte, then the bytes).
    CharString,
    /// The rest of the tokens, each a character-string (TXT-like types).
    CharStrings,
    /// CAA tag: a bare word written with a length byte.
    Tag,
    /// The rest as one string without a length byte (CAA value, URI target).
    RestString,
    /// The rest of the tokens as hex.
    RestHex,
    /// The rest of the tokens as base64.
    RestBase64,
    /// RFC 1876 location: latitude, longitude, altitude, size and precisions.
    Loc,
    /// RFC 9460 SvcParams: `key=value` pairs, written sorted by key.
    SvcParams,
    /// RFC 6742 64-bit locator or node id: `2001:0db8:1140:1000`.
    Ilnp64,
    /// RFC 7043 EUI-48 address: `00-00-5e-00-53-2a`.
    Eui48,
    /// RFC 7043 EUI-64 address.
    Eui64,
    /// RFC 3123 address prefix list: `1:192.0.2.0/24 !2:2001:db8::/32 ...`.
    Apl,
    /// RFC 4025 IPSECKEY gateway type, algorithm, gateway and key (after the precedence).
    IpsecKey,
}

/// One record type: its number, its mnemonic, and its data layout.
#[derive(Debug, Clone, Copy)]
pub struct RecordType {
    /// The type number.
    pub code: u16,
    /// The mnemonic, as written in zone files.
    pub name: &'static str,
    /// The fields of its data in text form; `None` when only RFC 3597 `\# LEN HEX` is read.
    pub fields: Option<&'static [Field]>,
    /// Whether records of this type can be stored in a zone (false for meta-types and QTYPEs
    /// such as OPT, AXFR, ANY: RFC 6895 §3.1).
    pub stored: bool,
}

/// Every record type dynadns knows by name (IANA "Resource Record (RR) TYPEs"). Types not
/// listed are still usable as `TYPEnnn` with generic data.
pub const RECORD_TYPES: &[RecordType] = {
    use Field::*;
    &[
        RecordType {
            code: 1,
            name: "A",
            fields: Some(&[Ipv4]),
            stored: true,
        },
        RecordType {
            code: 2,
            name: "NS",
            fields: Some(&[Name]),
            stored: true,
        },
        RecordType {
            code: 3,
            name: "MD",
            fields: Some(&[Name]),
            stored: true,
        },
        RecordType {
            code: 4,
            name: "MF",
            fields: Some(&[Name]),
            stored: true,
        },
        RecordType {
            code: 5,
            name: "CNAME",
            fields: Some(&[Name]),
            stored: true,
        },
        RecordType {
            code: 6,
            name: "SOA",
            fields: Some(&[Name, MailName, U32, Time, Time, Time, Time]),
            stored: true,
        },
        RecordType {
            code: 7,
            name: "MB",
            fields: Some(&[Name]),
            stored: true,
        },
        RecordType {
            code: 8,
            name: "MG",
            fields: Some(&[Name]),
            stored: true,
        },
        RecordType {
            code: 9,
            name: "MR",
            fields: Some(&[Name]),
            stored: true,
        },
        RecordType {
            code: 10,
            name: "NULL",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 11,
            name: "WKS",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 12,
            name: "PTR",
            fields: Some(&[Name]),
            stored: true,
        },
        RecordType {
            code: 13,
            name: "HINFO",
            fields: Some(&[CharString, CharString]),
            stored: true,
        },
        RecordType {
            code: 14,
            name: "MINFO",
            fields: Some(&[MailName, MailName]),
            stored: true,
        },
        RecordType {
            code: 15,
            name: "MX",
            fields: Some(&[U16, Name]),
            stored: true,
        },
        RecordType {
            code: 16,
            name: "TXT",
            fields: Some(&[CharStrings]),
            stored: true,
        },
        RecordType {
            code: 17,
            name: "RP",
            fields: Some(&[PlainName, PlainName]),
            stored: true,
        },
        RecordType {
            code: 18,
            name: "AFSDB",
            fields: Some(&[U16, NameNoCompress]),
            stored: true,
        },
        RecordType {
            code: 19,
            name: "X25",
            fields: Some(&[CharString]),
            stored: true,
        },
        RecordType {
            code: 20,
            name: "ISDN",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 21,
            name: "RT",
            fields: Some(&[U16, NameNoCompress]),
            stored: true,
        },
        RecordType {
            code: 22,
            name: "NSAP",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 23,
            name: "NSAP-PTR",
            fields: Some(&[PlainName]),
            stored: true,
        },
        RecordType {
            code: 24,
            name: "SIG",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 25,
            name: "KEY",
            fields: Some(&[U16, U8, U8, RestBase64]),
            stored: true,
        },
        RecordType {
            code: 26,
            name: "PX",
            fields: Some(&[U16, PlainName, PlainName]),
            stored: true,
        },
        RecordType {
            code: 27,
            name: "GPOS",
            fields: Some(&[CharString, CharString, CharString]),
            stored: true,
        },
        RecordType {
            code: 28,
            name: "AAAA",
            fields: Some(&[Ipv6]),
            stored: true,
        },
        RecordType {
            code: 29,
            name: "LOC",
            fields: Some(&[Loc]),
            stored: true,
        },
        RecordType {
            code: 30,
            name: "NXT",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 31,
            name: "EID",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 32,
            name: "NIMLOC",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 33,
            name: "SRV",
            fields: Some(&[U16, U16, U16, NameNoCompress]),
            stored: true,
        },
        RecordType {
            code: 34,
            name: "ATMA",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 35,
            name: "NAPTR",
            fields: Some(&[U16, U16, CharString, CharString, CharString, NameNoCompress]),
            stored: true,
        },
        RecordType {
            code: 36,
            name: "KX",
            fields: Some(&[U16, NameNoCompress]),
            stored: true,
        },
        RecordType {
            code: 37,
            name: "CERT",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 38,
            name: "A6",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 39,
            name: "DNAME",
            fields: Some(&[NameNoCompress]),
            stored: true,
        },
        RecordType {
            code: 40,
            name: "SINK",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 41,
            name: "OPT",
            fields: None,
            stored: false,
        },
        RecordType {
            code: 42,
            name: "APL",
            fields: Some(&[Apl]),
            stored: true,
        },
        RecordType {
            code: 43,
            name: "DS",
            fields: Some(&[U16, U8, U8, RestHex]),
            stored: true,
        },
        RecordType {
            code: 44,
            name: "SSHFP",
            fields: Some(&[U8, U8, RestHex]),
            stored: true,
        },
        RecordType {
            code: 45,
            name: "IPSECKEY",
            fields: Some(&[U8, IpsecKey]),
            stored: true,
        },
        RecordType {
            code: 46,
            name: "RRSIG",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 47,
            name: "NSEC",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 48,
            name: "DNSKEY",
            fields: Some(&[U16, U8, U8, RestBase64]),
            stored: true,
        },
        RecordType {
            code: 49,
            name: "DHCID",
            fields: Some(&[RestBase64]),
            stored: true,
        },
        RecordType {
            code: 50,
            name: "NSEC3",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 51,
            name: "NSEC3PARAM",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 52,
            name: "TLSA",
            fields: Some(&[U8, U8, U8, RestHex]),
            stored: true,
        },
        RecordType {
            code: 53,
            name: "SMIMEA",
            fields: Some(&[U8, U8, U8, RestHex]),
            stored: true,
        },
        RecordType {
            code: 55,
            name: "HIP",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 56,
            name: "NINFO",
            fields: Some(&[CharStrings]),
            stored: true,
        },
        RecordType {
            code: 57,
            name: "RKEY",
            fields: Some(&[U16, U8, U8, RestBase64]),
            stored: true,
        },
        RecordType {
            code: 58,
            name: "TALINK",
            fields: Some(&[PlainName, PlainName]),
            stored: true,
        },
        RecordType {
            code: 59,
            name: "CDS",
            fields: Some(&[U16, U8, U8, RestHex]),
            stored: true,
        },
        RecordType {
            code: 60,
            name: "CDNSKEY",
            fields: Some(&[U16, U8, U8, RestBase64]),
            stored: true,
        },
        RecordType {
            code: 61,
            name: "OPENPGPKEY",
            fields: Some(&[RestBase64]),
            stored: true,
        },
        RecordType {
            code: 62,
            name: "CSYNC",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 63,
            name: "ZONEMD",
            fields: Some(&[U32, U8, U8, RestHex]),
            stored: true,
        },
        RecordType {
            code: 64,
            name: "SVCB",
            fields: Some(&[U16, NameNoCompress, SvcParams]),
            stored: true,
        },
        RecordType {
            code: 65,
            name: "HTTPS",
            fields: Some(&[U16, NameNoCompress, SvcParams]),
            stored: true,
        },
        RecordType {
            code: 66,
            name: "DSYNC",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 99,
            name: "SPF",
            fields: Some(&[CharStrings]),
            stored: true,
        },
        RecordType {
            code: 100,
            name: "UINFO",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 101,
            name: "UID",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 102,
            name: "GID",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 103,
            name: "UNSPEC",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 104,
            name: "NID",
            fields: Some(&[U16, Ilnp64]),
            stored: true,
        },
        RecordType {
            code: 105,
            name: "L32",
            fields: Some(&[U16, Ipv4]),
            stored: true,
        },
        RecordType {
            code: 106,
            name: "L64",
            fields: Some(&[U16, Ilnp64]),
            stored: true,
        },
        RecordType {
            code: 107,
            name: "LP",
            fields: Some(&[U16, PlainName]),
            stored: true,
        },
        RecordType {
            code: 108,
            name: "EUI48",
            fields: Some(&[Eui48]),
            stored: true,
        },
        RecordType {
            code: 109,
            name: "EUI64",
            fields: Some(&[Eui64]),
            stored: true,
        },
        RecordType {
            code: 249,
            name: "TKEY",
            fields: None,
            stored: false,
        },
        RecordType {
            code: 250,
            name: "TSIG",
            fields: None,
            stored: false,
        },
        RecordType {
            code: 251,
            name: "IXFR",
            fields: None,
            stored: false,
        },
        RecordType {
            code: 252,
            name: "AXFR",
            fields: None,
            stored: false,
        },
        RecordType {
            code: 253,
            name: "MAILB",
            fields: None,
            stored: false,
        },
        RecordType {
            code: 254,
            name: "MAILA",
            fields: None,
            stored: false,
        },
        RecordType {
            code: 255,
            name: "ANY",
            fields: None,
            stored: false,
        },
        RecordType {
            code: 256,
            name: "URI",
            fields: Some(&[U16, U16, RestString]),
            stored: true,
        },
        RecordType {
            code: 257,
            name: "CAA",
            fields: Some(&[U8, Tag, RestString]),
            stored: true,
        },
        RecordType {
            code: 258,
            name: "AVC",
            fields: Some(&[CharStrings]),
            stored: true,
        },
        RecordType {
            code: 259,
            name: "DOA",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 260,
            name: "AMTRELAY",
            fields: None,
            stored: true,
        },
        RecordType {
            code: 261,
            name: "RESINFO",
            fields: Some(&[CharStrings]),
            stored: true,
        },
        RecordType {
            code: 262,
            name: "WALLET",
            fields: Some(&[CharStrings]),
            stored: true,
        },
        RecordType {
            code: 32768,
            name: "TA",
            fields: Some(&[U16, U8, U8, RestHex]),
            stored: true,
        },
        RecordType {
            code: 32769,
            name: "DLV",
            fields: Some(&[U16, U8, U8, RestHex]),
            stored: true,
        },
    ]
};

/// The table entry of a record type, if it has a mnemonic.
pub fn record_type(t: u16) -> Option<&'static RecordType> {
    RECORD_TYPES.iter().find(|r| r.code == t)
}

/// Mnemonic for a record type, for logs, explain output and zone files.
pub fn type_name(t: u16) -> Option<&'static str> {
    record_type(t).map(|r| r.name)
}

/// Record type by mnemonic (case-insensitive), or `TYPEnnn` (RFC 3597 §5).
pub fn type_by_name(s: &str) -> Option<u16> {
    if let Some(num) = s
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("TYPE"))
        .and(s.get(4..))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return num.parse().ok();
    }
    RECORD_TYPES
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(s))
        .map(|r| r.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_table_is_consistent() {
        for (i, r) in RECORD_TYPES.iter().enumerate() {
            assert_eq!(type_by_name(r.name), Some(r.code), "{}", r.name);
            assert_eq!(type_name(r.code), Some(r.name));
            assert!(
                RECORD_TYPES[..i].iter().all(|o| o.code != r.code),
                "{} listed twice",
                r.name
            );
        }
        assert_eq!(type_by_name("type65280"), Some(65280));
        assert_eq!(type_by_name("TYPE"), None);
        assert_eq!(type_by_name("TYPE65536"), None);
        assert_eq!(type_by_name("svcb"), Some(64));
    }
}
