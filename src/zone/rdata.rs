//! Record data: from master-file presentation text to the wire pieces stored in a zone.
//!
//! Each type is described by the list of fields it has; parsing a type is walking that list.
//! Any type, known or not, can be written in the RFC 3597 generic form `\# LEN HEX`.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::name::{decode_escape, from_text, to_lower};
use crate::wire::rtype;
use crate::wire::writer::RdataPiece;

/// Data of one record, ready to be written into responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rdata {
    /// Wire pieces in order.
    pub pieces: Box<[RdataPiece]>,
    /// The domain name this record points at (NS, CNAME, MX, SRV, DNAME...), lowercased, for
    /// CNAME chasing and additional-section processing.
    pub target: Option<Box<[u8]>>,
}

impl Rdata {
    /// Record data that is a single block of bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Rdata {
            pieces: vec![RdataPiece::Bytes(bytes.into_boxed_slice())].into_boxed_slice(),
            target: None,
        }
    }

    /// Uncompressed wire length (for size estimates and the generic form).
    pub fn wire_len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                RdataPiece::Bytes(b) | RdataPiece::Name(b) => b.len(),
            })
            .sum()
    }

    /// The uncompressed wire bytes.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.wire_len());
        for p in self.pieces.iter() {
            match p {
                RdataPiece::Bytes(b) | RdataPiece::Name(b) => v.extend_from_slice(b),
            }
        }
        v
    }
}

#[derive(Clone, Copy)]
enum Field {
    U8,
    U16,
    U32,
    /// A 32-bit time value that may use units (`1h30m`).
    Ttl,
    Ipv4,
    Ipv6,
    /// A name that may be compressed and is followed for additional processing.
    Name,
    /// A name written uncompressed (types newer than RFC 1035), still followed.
    NameNoCompress,
    /// A name that is neither compressed nor followed (RP).
    PlainName,
    /// A mailbox name: compressed (SOA RNAME) but not followed.
    MailName,
    CharString,
    /// CAA tag: a bare word written with a length byte.
    Tag,
    /// The rest of the tokens as one unprefixed string (CAA value).
    RestString,
    /// The rest of the tokens as hex.
    RestHex,
    /// The rest of the tokens as base64.
    RestBase64,
}

fn fields_of(t: u16) -> Option<&'static [Field]> {
    use Field::*;
    Some(match t {
        rtype::A => &[Ipv4],
        rtype::AAAA => &[Ipv6],
        rtype::NS | rtype::CNAME | rtype::PTR => &[Name],
        rtype::DNAME => &[NameNoCompress],
        rtype::MX => &[U16, Name],
        rtype::AFSDB | rtype::KX => &[U16, NameNoCompress],
        rtype::SOA => &[Name, MailName, U32, Ttl, Ttl, Ttl, Ttl],
        rtype::SRV => &[U16, U16, U16, NameNoCompress],
        rtype::HINFO => &[CharString, CharString],
        rtype::RP => &[PlainName, PlainName],
        rtype::NAPTR => &[U16, U16, CharString, CharString, CharString, NameNoCompress],
        rtype::DS => &[U16, U8, U8, RestHex],
        rtype::SSHFP => &[U8, U8, RestHex],
        rtype::TLSA => &[U8, U8, U8, RestHex],
        rtype::DNSKEY => &[U16, U8, U8, RestBase64],
        rtype::CAA => &[U8, Tag, RestString],
        _ => return None,
    })
}

/// Splits presentation text into tokens; double-quoted strings are one token, quotes kept.
pub fn tokenize(text: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            if i >= b.len() {
                return Err("unterminated quoted string".into());
            }
            i += 1;
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
        }
        out.push(&text[start..i.min(b.len())]);
    }
    Ok(out)
}

/// Decodes a character-string token (quoted or not) with `\X` and `\DDD` escapes.
pub fn unescape(token: &str) -> Result<Vec<u8>, String> {
    let inner = if token.len() >= 2 && token.starts_with('"') && token.ends_with('"') {
        &token[1..token.len() - 1]
    } else {
        token
    };
    let b = inner.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let (byte, used) = decode_escape(&b[i + 1..])?;
            out.push(byte);
            i += 1 + used;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Parses a time field (SOA timers): plain seconds or units `s m h d w` (`1h30m`), 32 bits.
pub fn parse_ttl(s: &str) -> Result<u32, String> {
    crate::duration::parse_seconds(s, u32::MAX).map_err(|e| format!("'{s}' is {e}"))
}

fn hex_decode(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|p| {
            let h = (p[0] as char).to_digit(16);
            let l = (p[1] as char).to_digit(16);
            match (h, l) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(format!("'{}{}' is not hex", p[0] as char, p[1] as char)),
            }
        })
        .collect()
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => continue,
            _ => return Err(format!("'{}' is not base64", c as char)),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// Parses the RFC 3597 generic form `\# LEN HEX...` (the leading `\#` token included).
pub fn parse_generic(tokens: &[&str]) -> Result<Vec<u8>, String> {
    let len_tok = tokens
        .get(1)
        .ok_or("generic data needs a length: \\# LEN HEX")?;
    let len: usize = len_tok
        .parse()
        .map_err(|_| format!("'{len_tok}' is not a length in \\# LEN HEX"))?;
    let data = hex_decode(&tokens[2..].concat())?;
    if data.len() != len {
        return Err(format!(
            "generic data says {len} bytes but has {} bytes of hex",
            data.len()
        ));
    }
    if len > 65535 {
        return Err("record data longer than 65535 bytes".into());
    }
    Ok(data)
}

/// Parses presentation RDATA of type `t`; relative names are relative to `origin`.
pub fn parse(t: u16, text: &str, origin: &[u8]) -> Result<Rdata, String> {
    let tokens = tokenize(text)?;
    if tokens.first() == Some(&"\\#") {
        let bytes = parse_generic(&tokens)?;
        return match fields_of(t) {
            Some(fields) => from_wire_fields(fields, &bytes),
            None => Ok(Rdata::from_bytes(bytes)),
        };
    }
    let Some(fields) = fields_of(t) else {
        return Err("dynadns has no text format for this type".into());
    };
    let mut pieces: Vec<RdataPiece> = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut target = None;
    let mut ti = 0usize;
    for (fi, field) in fields.iter().enumerate() {
        let rest_field = matches!(
            field,
            Field::RestHex | Field::RestBase64 | Field::RestString
        );
        let tok = if rest_field {
            ""
        } else {
            let t = tokens.get(ti).ok_or_else(|| {
                format!(
                    "too few fields: expected {}, found {}",
                    fields.len(),
                    tokens.len()
                )
            })?;
            ti += 1;
            t
        };
        let number = |max: u64| -> Result<u64, String> {
            let v: u64 = tok
                .parse()
                .map_err(|_| format!("field {} '{tok}' is not a number", fi + 1))?;
            if v > max {
                return Err(format!("field {} value {v} is larger than {max}", fi + 1));
            }
            Ok(v)
        };
        match field {
            Field::U8 => bytes.push(number(0xFF)? as u8),
            Field::U16 => bytes.extend_from_slice(&(number(0xFFFF)? as u16).to_be_bytes()),
            Field::U32 => bytes.extend_from_slice(&(number(0xFFFF_FFFF)? as u32).to_be_bytes()),
            Field::Ttl => bytes.extend_from_slice(&parse_ttl(tok)?.to_be_bytes()),
            Field::Ipv4 => {
                let a: Ipv4Addr = tok
                    .parse()
                    .map_err(|_| format!("'{tok}' is not an IPv4 address"))?;
                bytes.extend_from_slice(&a.octets());
            }
            Field::Ipv6 => {
                let a: Ipv6Addr = tok
                    .parse()
                    .map_err(|_| format!("'{tok}' is not an IPv6 address"))?;
                bytes.extend_from_slice(&a.octets());
            }
            Field::Name | Field::NameNoCompress | Field::PlainName | Field::MailName => {
                let n = from_text(tok, origin)?;
                if !matches!(field, Field::PlainName | Field::MailName) && target.is_none() {
                    target = Some(to_lower(&n).into_boxed_slice());
                }
                if matches!(field, Field::Name | Field::MailName) {
                    if !bytes.is_empty() {
                        pieces.push(RdataPiece::Bytes(std::mem::take(&mut bytes).into()));
                    }
                    pieces.push(RdataPiece::Name(n.into_boxed_slice()));
                } else {
                    bytes.extend_from_slice(&n);
                }
            }
            Field::CharString => {
                let s = unescape(tok)?;
                if s.len() > 255 {
                    return Err("character-string longer than 255 bytes".into());
                }
                bytes.push(s.len() as u8);
                bytes.extend_from_slice(&s);
            }
            Field::Tag => {
                if tok.is_empty()
                    || tok.len() > 255
                    || !tok.bytes().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(format!("'{tok}' is not a CAA tag (letters and digits)"));
                }
                bytes.push(tok.len() as u8);
                bytes.extend_from_slice(tok.as_bytes());
            }
            Field::RestString => {
                let rest = &tokens[ti..];
                if rest.len() != 1 {
                    return Err("expected one (quoted) value".into());
                }
                bytes.extend_from_slice(&unescape(rest[0])?);
                ti = tokens.len();
            }
            Field::RestHex => {
                let rest = tokens[ti..].concat();
                if rest.is_empty() {
                    return Err("missing hex data".into());
                }
                bytes.extend_from_slice(&hex_decode(&rest)?);
                ti = tokens.len();
            }
            Field::RestBase64 => {
                let rest = tokens[ti..].concat();
                bytes.extend_from_slice(&base64_decode(&rest)?);
                ti = tokens.len();
            }
        }
    }
    if ti < tokens.len() {
        return Err(format!(
            "too many fields: expected {}, found {}",
            fields.len(),
            tokens.len()
        ));
    }
    if !bytes.is_empty() {
        pieces.push(RdataPiece::Bytes(bytes.into()));
    }
    Ok(Rdata {
        pieces: pieces.into_boxed_slice(),
        target,
    })
}

/// Checks generic (`\#`) data of a known type field by field, so it is as valid as the text
/// form would be, and finds its names (for compression, CNAME chasing and additional data).
fn from_wire_fields(fields: &[Field], data: &[u8]) -> Result<Rdata, String> {
    let short = || "generic data is too short for this type".to_string();
    let mut pieces: Vec<RdataPiece> = Vec::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut target = None;
    let mut i = 0usize;
    for field in fields {
        let fixed = match field {
            Field::U8 => Some(1),
            Field::U16 => Some(2),
            Field::U32 | Field::Ttl | Field::Ipv4 => Some(4),
            Field::Ipv6 => Some(16),
            _ => None,
        };
        if let Some(n) = fixed {
            bytes.extend_from_slice(data.get(i..i + n).ok_or_else(short)?);
            i += n;
            continue;
        }
        match field {
            Field::Name | Field::NameNoCompress | Field::PlainName | Field::MailName => {
                let start = i;
                loop {
                    let l = *data.get(i).ok_or_else(short)? as usize;
                    if l > 63 {
                        return Err("generic data holds a bad or compressed name".into());
                    }
                    i += l + 1;
                    if l == 0 {
                        break;
                    }
                }
                let n = data.get(start..i).ok_or_else(short)?;
                if n.len() > 255 {
                    return Err("generic data holds a name longer than 255 bytes".into());
                }
                if !matches!(field, Field::PlainName | Field::MailName) && target.is_none() {
                    target = Some(to_lower(n).into_boxed_slice());
                }
                if matches!(field, Field::Name | Field::MailName) {
                    if !bytes.is_empty() {
                        pieces.push(RdataPiece::Bytes(std::mem::take(&mut bytes).into()));
                    }
                    pieces.push(RdataPiece::Name(n.into()));
                } else {
                    bytes.extend_from_slice(n);
                }
            }
            Field::CharString | Field::Tag => {
                let l = *data.get(i).ok_or_else(short)? as usize;
                bytes.extend_from_slice(data.get(i..i + 1 + l).ok_or_else(short)?);
                i += 1 + l;
            }
            _ => {
                bytes.extend_from_slice(&data[i.min(data.len())..]);
                i = data.len();
            }
        }
    }
    if i != data.len() {
        return Err("generic data is longer than this type allows".into());
    }
    if !bytes.is_empty() {
        pieces.push(RdataPiece::Bytes(bytes.into()));
    }
    Ok(Rdata {
        pieces: pieces.into_boxed_slice(),
        target,
    })
}

/// TXT data from text: split into 255-byte character-strings.
pub fn txt_from_text(text: &str) -> Rdata {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len() + b.len() / 255 + 1);
    if b.is_empty() {
        out.push(0);
    }
    for chunk in b.chunks(255) {
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
    Rdata::from_bytes(out)
}

/// TXT data from explicit character-strings.
pub fn txt_from_strings(strings: &[&str]) -> Result<Rdata, String> {
    let mut out = Vec::new();
    for s in strings {
        if s.len() > 255 {
            return Err(format!(
                "a character-string is at most 255 bytes; this one has {}",
                s.len()
            ));
        }
        out.push(s.len() as u8);
        out.extend_from_slice(s.as_bytes());
    }
    if strings.is_empty() {
        out.push(0);
    }
    Ok(Rdata::from_bytes(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Vec<u8> {
        from_text("example.com.", &[0]).unwrap()
    }

    #[test]
    fn mx_has_a_compressible_name_and_target() {
        let r = parse(rtype::MX, "10 mail", &origin()).unwrap();
        assert_eq!(r.to_wire(), b"\x00\x0a\x04mail\x07example\x03com\x00");
        assert!(matches!(r.pieces[1], RdataPiece::Name(_)));
        assert_eq!(
            r.target.as_deref(),
            Some(&b"\x04mail\x07example\x03com\x00"[..])
        );
    }

    #[test]
    fn soa_and_srv_and_caa() {
        let soa = parse(rtype::SOA, "ns1 hostmaster 1 1h 15m 2w 300", &origin()).unwrap();
        let w = soa.to_wire();
        assert_eq!(&w[w.len() - 16..w.len() - 12], &3600u32.to_be_bytes());
        let srv = parse(rtype::SRV, "10 60 5060 sip", &origin()).unwrap();
        assert_eq!(&srv.to_wire()[..6], &[0, 10, 0, 60, 0x13, 0xc4]);
        let caa = parse(rtype::CAA, "0 issue \"letsencrypt.org\"", &origin()).unwrap();
        assert_eq!(caa.to_wire(), b"\x00\x05issueletsencrypt.org");
    }

    #[test]
    fn generic_form_and_errors() {
        assert_eq!(
            parse(rtype::A, "\\# 4 c0 00 02 01", &origin())
                .unwrap()
                .to_wire(),
            [192, 0, 2, 1]
        );
        assert_eq!(parse(999, "\\# 0", &origin()).unwrap().to_wire(), b"");
        assert!(parse(rtype::A, "\\# 3 c00002", &origin()).is_err());
        assert!(parse(rtype::A, "192.0.2.300", &origin()).is_err());
        assert!(parse(rtype::MX, "10", &origin()).is_err());
        assert!(parse(rtype::MX, "10 a b", &origin()).is_err());
        assert!(parse(999, "x", &origin()).is_err());
        // Generic MX keeps its exchange as a name for additional processing.
        let mx = parse(rtype::MX, "\\# 6 000a 02 6d78 00", &origin()).unwrap();
        assert_eq!(mx.target.as_deref(), Some(&b"\x02mx\x00"[..]));
    }

    #[test]
    fn txt_splits_at_255() {
        let long = "x".repeat(300);
        let w = txt_from_text(&long).to_wire();
        assert_eq!(w.len(), 302);
        assert_eq!(w[0], 255);
        assert_eq!(w[256], 45);
        assert_eq!(txt_from_text("").to_wire(), [0]);
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("1h30m").unwrap(), 5400);
        assert_eq!(parse_ttl("2w").unwrap(), 1_209_600);
        assert!(parse_ttl("5x").is_err());
        assert!(parse_ttl("h").is_err());
    }
}
