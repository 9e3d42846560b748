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
    pub const SPF: u16 = 99;
    pub const IXFR: u16 = 251;
    pub const AXFR: u16 = 252;
    pub const MAILB: u16 = 253;
    pub const MAILA: u16 = 254;
    pub const ANY: u16 = 255;
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

/// Mnemonic for a record type, for logs, explain output and zone files.
pub fn type_name(t: u16) -> Option<&'static str> {
    TYPE_NAMES.iter().find(|(v, _)| *v == t).map(|(_, n)| *n)
}

/// Record type by mnemonic (case-insensitive), or `TYPEnnn`.
pub fn type_by_name(s: &str) -> Option<u16> {
    if let Some(num) = s
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("TYPE"))
        .and(s.get(4..))
    {
        return num.parse().ok();
    }
    TYPE_NAMES
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(s))
        .map(|(v, _)| *v)
}

const TYPE_NAMES: &[(u16, &str)] = &[
    (rtype::A, "A"),
    (rtype::NS, "NS"),
    (rtype::CNAME, "CNAME"),
    (rtype::SOA, "SOA"),
    (rtype::PTR, "PTR"),
    (rtype::HINFO, "HINFO"),
    (rtype::MX, "MX"),
    (rtype::TXT, "TXT"),
    (rtype::RP, "RP"),
    (rtype::AFSDB, "AFSDB"),
    (rtype::AAAA, "AAAA"),
    (rtype::SRV, "SRV"),
    (rtype::NAPTR, "NAPTR"),
    (rtype::KX, "KX"),
    (rtype::DNAME, "DNAME"),
    (rtype::OPT, "OPT"),
    (rtype::DS, "DS"),
    (rtype::SSHFP, "SSHFP"),
    (rtype::RRSIG, "RRSIG"),
    (rtype::DNSKEY, "DNSKEY"),
    (rtype::TLSA, "TLSA"),
    (rtype::SPF, "SPF"),
    (rtype::IXFR, "IXFR"),
    (rtype::AXFR, "AXFR"),
    (rtype::MAILB, "MAILB"),
    (rtype::MAILA, "MAILA"),
    (rtype::ANY, "ANY"),
    (rtype::CAA, "CAA"),
];
