//! Record data: from master-file presentation text to the wire pieces stored in a zone.
//!
//! Each type is described by the list of fields it has; parsing a type is walking that list.
//! Any type, known or not, can be written in the RFC 3597 generic form `\# LEN HEX`.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::name::{decode_escape, from_text, to_lower};
use crate::wire::writer::RdataPiece;
use crate::wire::{Field, record_type};

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

fn fields_of(t: u16) -> Option<&'static [Field]> {
    record_type(t).and_then(|r| r.fields)
}

/// Splits presentation text into tokens; double-quoted strings are one token, quotes kept
/// (also when the quotes start inside a word, as in `alpn="h2,h3"`).
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
            // A quoted part inside a word (`alpn="h2,h3"`, RFC 9460) stays in the word.
            let mut quoted = false;
            while i < b.len() && (quoted || !b[i].is_ascii_whitespace()) {
                if b[i] == b'\\' {
                    i += 1;
                } else if b[i] == b'"' {
                    quoted = !quoted;
                }
                i += 1;
            }
            if quoted {
                return Err("unterminated quoted string".into());
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

/// A 32-bit time field (SOA timers): seconds or a duration (`1h30m`), the shared grammar.
fn time_field(s: &str) -> Result<u32, String> {
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
            Field::RestHex
                | Field::RestBase64
                | Field::RestString
                | Field::CharStrings
                | Field::Loc
                | Field::SvcParams
                | Field::Apl
                | Field::IpsecKey
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
            let digits = !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit());
            match tok.parse::<u64>() {
                Ok(v) if v <= max => Ok(v),
                _ if digits => Err(format!(
                    "field {} '{tok}' is out of range (0..={max})",
                    fi + 1
                )),
                _ => Err(format!("field {} '{tok}' is not a number", fi + 1)),
            }
        };
        match field {
            Field::U8 => bytes.push(number(0xFF)? as u8),
            Field::U16 => bytes.extend_from_slice(&(number(0xFFFF)? as u16).to_be_bytes()),
            Field::U32 => bytes.extend_from_slice(&(number(0xFFFF_FFFF)? as u32).to_be_bytes()),
            Field::Time => bytes.extend_from_slice(&time_field(tok)?.to_be_bytes()),
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
            Field::CharStrings => {
                let rest = &tokens[ti..];
                if rest.is_empty() {
                    return Err("expected at least one character-string".into());
                }
                for tok in rest {
                    let s = unescape(tok)?;
                    if s.len() > 255 {
                        return Err("character-string longer than 255 bytes".into());
                    }
                    bytes.push(s.len() as u8);
                    bytes.extend_from_slice(&s);
                }
                ti = tokens.len();
            }
            Field::Loc => {
                bytes.extend_from_slice(&parse_loc(&tokens[ti..])?);
                ti = tokens.len();
            }
            Field::SvcParams => {
                bytes.extend_from_slice(&parse_svc_params(&tokens[ti..])?);
                ti = tokens.len();
            }
            Field::Ilnp64 => {
                let groups: Vec<&str> = tok.split(':').collect();
                if groups.len() != 4 || groups.iter().any(|g| g.len() != 4) {
                    return Err(format!("'{tok}' is not four groups of 4 hex digits"));
                }
                bytes.extend_from_slice(&hex_decode(&groups.concat())?);
            }
            Field::Eui48 | Field::Eui64 => {
                let n = if matches!(field, Field::Eui48) { 6 } else { 8 };
                let groups: Vec<&str> = tok.split('-').collect();
                if groups.len() != n || groups.iter().any(|g| g.len() != 2) {
                    return Err(format!("'{tok}' is not {n} hex pairs joined by '-'"));
                }
                bytes.extend_from_slice(&hex_decode(&groups.concat())?);
            }
            Field::Apl => {
                for item in &tokens[ti..] {
                    bytes.extend_from_slice(&apl_item(item)?);
                }
                ti = tokens.len();
            }
            Field::IpsecKey => {
                let rest = &tokens[ti..];
                let [gtype, alg, gateway, key @ ..] = rest else {
                    return Err("IPSECKEY is 'PRECEDENCE TYPE ALGORITHM GATEWAY [KEY]'".into());
                };
                let gtype: u8 =
                    gtype.parse().ok().filter(|&g| g <= 3).ok_or_else(|| {
                        format!("gateway type '{gtype}' must be 0..=3 (RFC 4025)")
                    })?;
                let alg: u8 = alg
                    .parse()
                    .map_err(|_| format!("algorithm '{alg}' is out of range (0..=255)"))?;
                bytes.extend_from_slice(&[gtype, alg]);
                match gtype {
                    0 if *gateway == "." => {}
                    0 => return Err("gateway type 0 takes '.' as gateway".into()),
                    1 => bytes.extend_from_slice(
                        &gateway
                            .parse::<Ipv4Addr>()
                            .map_err(|_| format!("'{gateway}' is not an IPv4 address"))?
                            .octets(),
                    ),
                    2 => bytes.extend_from_slice(
                        &gateway
                            .parse::<Ipv6Addr>()
                            .map_err(|_| format!("'{gateway}' is not an IPv6 address"))?
                            .octets(),
                    ),
                    _ => bytes.extend_from_slice(&from_text(gateway, origin)?),
                }
                bytes.extend_from_slice(&base64_decode(&key.concat())?);
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
            Field::U32 | Field::Time | Field::Ipv4 => Some(4),
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
            Field::CharStrings => {
                while i < data.len() {
                    let l = *data.get(i).ok_or_else(short)? as usize;
                    bytes.extend_from_slice(data.get(i..i + 1 + l).ok_or_else(short)?);
                    i += 1 + l;
                }
            }
            Field::Loc => {
                let loc = data.get(i..).ok_or_else(short)?;
                if loc.len() != 16 || loc[0] != 0 {
                    return Err("LOC data is 16 bytes starting with version 0 (RFC 1876)".into());
                }
                bytes.extend_from_slice(loc);
                i = data.len();
            }
            Field::SvcParams => {
                let params = data.get(i..).ok_or_else(short)?;
                check_svc_params(params)?;
                bytes.extend_from_slice(params);
                i = data.len();
            }
            Field::Ilnp64 | Field::Eui64 => {
                bytes.extend_from_slice(data.get(i..i + 8).ok_or_else(short)?);
                i += 8;
            }
            Field::Eui48 => {
                bytes.extend_from_slice(data.get(i..i + 6).ok_or_else(short)?);
                i += 6;
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

/// Parses RFC 1876 §3 LOC text into its 16 wire bytes:
/// `d1 [m1 [s1]] {N|S} d2 [m2 [s2]] {E|W} alt[m] [siz[m] [hp[m] [vp[m]]]]`.
fn parse_loc(tokens: &[&str]) -> Result<Vec<u8>, String> {
    let mut t = tokens.iter().copied().peekable();
    let mut angle = |max_deg: u32, pos: char, neg: char| -> Result<u32, String> {
        let deg: u32 = t
            .next()
            .and_then(|d| d.parse().ok())
            .filter(|&d| d <= max_deg)
            .ok_or_else(|| format!("LOC degrees must be 0..={max_deg}"))?;
        let mut thousandths = deg * 3_600_000;
        let mut parts = 0;
        loop {
            let tok = t.next().ok_or("LOC position is incomplete")?;
            let hemi = tok.to_ascii_uppercase();
            if hemi.len() == 1 && (hemi.starts_with(pos) || hemi.starts_with(neg)) {
                let base = 1u32 << 31;
                if thousandths > max_deg * 3_600_000 {
                    return Err(format!("LOC angle is beyond {max_deg} degrees"));
                }
                return Ok(if hemi.starts_with(pos) {
                    base + thousandths
                } else {
                    base - thousandths
                });
            }
            parts += 1;
            match parts {
                1 => {
                    let m: u32 = tok
                        .parse()
                        .ok()
                        .filter(|&m| m < 60)
                        .ok_or_else(|| format!("LOC minutes '{tok}' must be 0..=59"))?;
                    thousandths += m * 60_000;
                }
                2 => {
                    let ms = decimal(tok, 3)
                        .filter(|&v| v < 60_000)
                        .ok_or_else(|| format!("LOC seconds '{tok}' must be 0..=59.999"))?;
                    thousandths += ms as u32;
                }
                _ => return Err(format!("expected {pos} or {neg} in LOC, found '{tok}'")),
            }
        }
    };
    let lat = angle(90, 'N', 'S')?;
    let lon = angle(180, 'E', 'W')?;
    // Centimetres; `None` for text that is not a number or too large for 64 bits.
    let meters = |tok: &str| -> Option<i64> {
        let v = tok.strip_suffix(['m', 'M']).unwrap_or(tok);
        match v.strip_prefix('-') {
            Some(pos) => decimal(pos, 2)
                .and_then(|c| i64::try_from(c).ok())
                .map(|c| -c),
            None => decimal(v, 2).and_then(|c| i64::try_from(c).ok()),
        }
    };
    let alt_tok = t.next().ok_or("LOC needs an altitude")?;
    let alt = meters(alt_tok)
        .and_then(|cm| cm.checked_add(10_000_000))
        .filter(|&v| (0..=i64::from(u32::MAX)).contains(&v))
        .ok_or_else(|| format!("LOC altitude '{alt_tok}' must be -100000.00..=42849672.95 m"))?;
    let mut precision = |default_cm: u64| -> Result<u8, String> {
        let cm = match t.next() {
            None => default_cm,
            Some(tok) => meters(tok)
                .filter(|&c| (0..=9_000_000_000).contains(&c))
                .ok_or_else(|| format!("LOC size or precision '{tok}' must be 0..=90000000 m"))?
                as u64,
        };
        let mut exponent = 0u8;
        let mut power = 1u64;
        while exponent < 9 && cm >= power * 10 {
            power *= 10;
            exponent += 1;
        }
        let mantissa = (cm / power).min(9) as u8;
        Ok(mantissa << 4 | exponent)
    };
    let size = precision(100)?;
    let hp = precision(1_000_000)?;
    let vp = precision(1_000)?;
    if let Some(extra) = t.next() {
        return Err(format!("unexpected '{extra}' after LOC precisions"));
    }
    let mut out = vec![0, size, hp, vp];
    out.extend_from_slice(&lat.to_be_bytes());
    out.extend_from_slice(&lon.to_be_bytes());
    out.extend_from_slice(&(alt as u32).to_be_bytes());
    Ok(out)
}

/// One RFC 3123 APL item, `[!]AFI:ADDRESS/PREFIX`, in wire form (trailing zero bytes dropped).
fn apl_item(item: &str) -> Result<Vec<u8>, String> {
    let (negate, rest) = match item.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, item),
    };
    let bad = || format!("'{item}' is not an APL item like 1:192.0.2.0/24 (RFC 3123)");
    let (family, rest) = rest.split_once(':').ok_or_else(bad)?;
    let (addr, prefix) = rest.rsplit_once('/').ok_or_else(bad)?;
    let prefix: u8 = prefix.parse().map_err(|_| bad())?;
    let (family, mut octets, max) = match family {
        "1" => (
            1u16,
            addr.parse::<Ipv4Addr>()
                .map_err(|_| bad())?
                .octets()
                .to_vec(),
            32,
        ),
        "2" => (
            2u16,
            addr.parse::<Ipv6Addr>()
                .map_err(|_| bad())?
                .octets()
                .to_vec(),
            128,
        ),
        _ => return Err(format!("APL address family '{family}' must be 1 or 2")),
    };
    if prefix > max {
        return Err(format!("APL prefix /{prefix} is out of range (0..={max})"));
    }
    while octets.last() == Some(&0) {
        octets.pop();
    }
    let mut out = family.to_be_bytes().to_vec();
    out.push(prefix);
    out.push(u8::from(negate) << 7 | octets.len() as u8);
    out.extend_from_slice(&octets);
    Ok(out)
}

/// A non-negative decimal with at most `places` decimals, scaled by 10^places.
fn decimal(text: &str, places: u32) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > places as usize
    {
        return None;
    }
    let scale = 10u64.pow(places);
    let frac_value: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u64>().ok()? * 10u64.pow(places - frac.len() as u32)
    };
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(scale)?
        .checked_add(frac_value)
}

/// RFC 9460 SvcParamKey names (§14.3.2).
const SVC_KEYS: &[(u16, &str)] = &[
    (0, "mandatory"),
    (1, "alpn"),
    (2, "no-default-alpn"),
    (3, "port"),
    (4, "ipv4hint"),
    (5, "ech"),
    (6, "ipv6hint"),
    (7, "dohpath"),
    (8, "ohttp"),
];

fn svc_key(name: &str) -> Result<u16, String> {
    if let Some((k, _)) = SVC_KEYS.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
        return Ok(*k);
    }
    name.strip_prefix("key")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u16>().ok())
        .filter(|&k| k != 65535)
        .ok_or_else(|| format!("unknown SvcParam key '{name}' (RFC 9460 §2.1)"))
}

/// Splits a value-list at commas that are not escaped (RFC 9460 Appendix A.1).
fn value_list(value: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push('\\');
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            ',' => items.push(unescape(&std::mem::take(&mut current))?),
            c => current.push(c),
        }
    }
    items.push(unescape(&current)?);
    Ok(items)
}

/// Parses RFC 9460 SvcParams (`alpn=h2,h3 port=8443 ...`) into wire form, sorted by key.
fn parse_svc_params<'a>(tokens: &[&'a str]) -> Result<Vec<u8>, String> {
    let mut params: Vec<(u16, Vec<u8>)> = Vec::new();
    for tok in tokens {
        let (name, value) = match tok.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (*tok, None),
        };
        let key = svc_key(name)?;
        let value = value.map(|v| {
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
        });
        let need = |v: Option<&'a str>| -> Result<&'a str, String> {
            v.filter(|s| !s.is_empty())
                .ok_or(format!("SvcParam '{name}' needs a value"))
        };
        let wire: Vec<u8> = match key {
            0 => {
                let mut keys = Vec::new();
                for k in need(value)?.split(',') {
                    keys.push(svc_key(k)?);
                }
                keys.sort_unstable();
                if keys.windows(2).any(|w| w[0] == w[1]) || keys.contains(&0) {
                    return Err("mandatory lists each other key once (RFC 9460 §8)".into());
                }
                keys.iter().flat_map(|k| k.to_be_bytes()).collect()
            }
            1 => {
                let mut out = Vec::new();
                for id in value_list(need(value)?)? {
                    if id.is_empty() || id.len() > 255 {
                        return Err("each alpn protocol id is 1 to 255 bytes".into());
                    }
                    out.push(id.len() as u8);
                    out.extend_from_slice(&id);
                }
                out
            }
            2 | 8 => {
                if value.is_some() {
                    return Err(format!("SvcParam '{name}' takes no value"));
                }
                Vec::new()
            }
            3 => need(value)?
                .parse::<u16>()
                .map_err(|_| format!("port '{}' must be 0..=65535", value.unwrap_or("")))?
                .to_be_bytes()
                .to_vec(),
            4 => {
                let mut out = Vec::new();
                for a in need(value)?.split(',') {
                    let a: Ipv4Addr = a
                        .parse()
                        .map_err(|_| format!("'{a}' is not an IPv4 address"))?;
                    out.extend_from_slice(&a.octets());
                }
                out
            }
            6 => {
                let mut out = Vec::new();
                for a in need(value)?.split(',') {
                    let a: Ipv6Addr = a
                        .parse()
                        .map_err(|_| format!("'{a}' is not an IPv6 address"))?;
                    out.extend_from_slice(&a.octets());
                }
                out
            }
            5 => base64_decode(need(value)?)?,
            _ => unescape(value.unwrap_or(""))?,
        };
        if wire.len() > 65535 {
            return Err(format!("SvcParam '{name}' is longer than 65535 bytes"));
        }
        if params.iter().any(|(k, _)| *k == key) {
            return Err(format!("SvcParam '{name}' is given twice (RFC 9460 §2.2)"));
        }
        params.push((key, wire));
    }
    params.sort_by_key(|(k, _)| *k);
    let mut out = Vec::new();
    for (key, value) in params {
        out.extend_from_slice(&key.to_be_bytes());
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
        out.extend_from_slice(&value);
    }
    check_svc_params(&out)?;
    Ok(out)
}

/// SvcParams on the wire: keys strictly increasing, lengths inside the data (RFC 9460 §2.2).
fn check_svc_params(mut data: &[u8]) -> Result<(), String> {
    let mut last: Option<u16> = None;
    while !data.is_empty() {
        let (Some(k), Some(l)) = (data.get(0..2), data.get(2..4)) else {
            return Err("SvcParams are cut short".into());
        };
        let key = u16::from_be_bytes([k[0], k[1]]);
        let len = usize::from(u16::from_be_bytes([l[0], l[1]]));
        if last.is_some_and(|p| p >= key) {
            return Err("SvcParam keys must be in increasing order (RFC 9460 §2.2)".into());
        }
        last = Some(key);
        data = data.get(4 + len..).ok_or("SvcParams are cut short")?;
    }
    Ok(())
}

/// Whether a TXT/SPF value written as one string is RFC 3597 generic data (`\\# LEN HEX`)
/// rather than the text itself: the zone loader reads it so, and the importer avoids writing
/// text that would be misread.
pub fn txt_is_generic(text: &str) -> bool {
    text == "\\#" || text.starts_with("\\# ")
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
    use crate::wire::rtype;

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
    fn loc_rfc1876() {
        // RFC 1876 example: the wire bytes as BIND and Knot encode them.
        let r = parse(rtype::LOC, "42 21 54 N 71 06 18 W -24m 30m", &origin()).unwrap();
        assert_eq!(
            r.to_wire(),
            [
                0x00, 0x33, 0x16, 0x13, 0x89, 0x17, 0x2d, 0xd0, 0x70, 0xbe, 0x15, 0xf0, 0x00, 0x98,
                0x8d, 0x20
            ]
        );
        assert!(parse(rtype::LOC, "91 N 0 E 0m", &origin()).is_err());
        assert!(parse(rtype::LOC, "42 61 N 0 E 0m", &origin()).is_err());
        assert!(parse(rtype::LOC, "42 N 0 E", &origin()).is_err());
        // Altitudes beyond 64 bits of centimetres are an error, not an overflow.
        for alt in ["92233720368547758.07m", "-92233720368547758.08m", "1e30m"] {
            let e = parse(rtype::LOC, &format!("42 N 0 E {alt}"), &origin()).unwrap_err();
            assert!(e.contains("LOC altitude"), "{alt}: {e}");
        }
        let e = parse(rtype::LOC, "42 N 0 E 0m 92233720368547758.07m", &origin()).unwrap_err();
        assert!(e.contains("LOC size"), "{e}");
    }

    #[test]
    fn svcb_rfc9460() {
        // RFC 9460 Appendix D.2, figure 6 ("1 foo.example.com. alpn=h2,h3-19 ... ") in part.
        let r = parse(
            rtype::SVCB,
            "16 foo.example.org. port=53 alpn=h2,h3-19 mandatory=alpn,ipv4hint ipv4hint=192.0.2.1",
            &origin(),
        )
        .unwrap();
        let w = r.to_wire();
        assert_eq!(&w[..2], &[0, 16]);
        let params = &w[2 + 17..];
        assert_eq!(
            params,
            [
                0, 0, 0, 4, 0, 1, 0, 4, // mandatory=alpn,ipv4hint
                0, 1, 0, 9, 2, b'h', b'2', 5, b'h', b'3', b'-', b'1', b'9', // alpn
                0, 3, 0, 2, 0, 53, // port
                0, 4, 0, 4, 192, 0, 2, 1 // ipv4hint
            ]
        );
        let quoted = parse(
            rtype::HTTPS,
            "1 . alpn=\"h2,h3\" no-default-alpn",
            &origin(),
        )
        .unwrap();
        assert_eq!(
            &quoted.to_wire()[3..],
            [0, 1, 0, 6, 2, b'h', b'2', 2, b'h', b'3', 0, 2, 0, 0]
        );
        assert!(parse(rtype::SVCB, "1 . port=1 port=2", &origin()).is_err());
        assert!(parse(rtype::SVCB, "1 . bogus=1", &origin()).is_err());
        // Generic data with keys out of order is refused.
        assert!(parse(rtype::SVCB, "\\# 11 0001 00 0003 0000 0001 0000", &origin()).is_err());
    }

    #[test]
    fn uri_rfc7553() {
        let r = parse(
            rtype::URI,
            "10 1 \"ftp://ftp1.example.com/public\"",
            &origin(),
        )
        .unwrap();
        let w = r.to_wire();
        assert_eq!(&w[..4], &[0, 10, 0, 1]);
        assert_eq!(&w[4..], b"ftp://ftp1.example.com/public");
    }

    #[test]
    fn numbers_out_of_range_say_so() {
        let e = parse(rtype::MX, "65536 mail", &origin()).unwrap_err();
        assert!(e.contains("out of range (0..=65535)"), "{e}");
        let e = parse(rtype::MX, "ten mail", &origin()).unwrap_err();
        assert!(e.contains("not a number"), "{e}");
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
}
