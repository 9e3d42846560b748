//! Record types, TTLs, classes and RDATA for the importer.
//!
//! The importer keeps RDATA in presentation form; only TXT (written as text in YAML) and the
//! RFC 3597 generic form are decoded here. Type names come from the one record-type table in
//! [`crate::wire`].

use std::path::Path;

use super::lexer::Token;
use super::{MasterError, error_at};
use crate::duration::DurationError;
use crate::wire::{Field, record_type, type_by_name};

/// Parses a record or `$TTL` TTL (seconds or `1h30m` style) with the shared
/// [`crate::duration`] grammar, rejecting values RFC 2181 §8 does not allow.
pub(super) fn parse_ttl(text: &str) -> Result<u32, String> {
    crate::duration::parse_ttl(text).map_err(|e| match e {
        DurationError::Syntax | DurationError::NotWholeSeconds => format!(
            "bad TTL '{text}': expected seconds or a duration such as 3600, 1h30m, 2d or 1w"
        ),
        DurationError::OutOfRange { .. } => format!("TTL '{text}' is {e} (RFC 2181 §8)"),
    })
}

/// `Some(true)` for class IN, `Some(false)` for another class, `None` if not a class at all.
pub(super) fn class_kind(text: &str) -> Option<bool> {
    let upper = text.to_ascii_uppercase();
    if let Some(number) = upper.strip_prefix("CLASS")
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(number.parse::<u16>().is_ok_and(|n| n == 1));
    }
    match upper.as_str() {
        "IN" => Some(true),
        "CH" | "CS" | "HS" | "NONE" | "ANY" => Some(false),
        _ => None,
    }
}

/// Normalises a type token to its number and the key used in YAML (`A`, `TYPE64`): the
/// mnemonic as written (upper-cased), or `TYPEnnn`. Names come from the one record-type table,
/// [`crate::wire::RECORD_TYPES`], so the importer knows exactly the types the loader knows.
pub(super) fn parse_type(text: &str) -> Result<(u16, String), String> {
    let upper = text.to_ascii_uppercase();
    let code = if let Some(number) = upper.strip_prefix("TYPE") {
        number
            .parse::<u16>()
            .ok()
            .filter(|_| number.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("bad type '{text}': TYPEnnn needs a number from 0 to 65535"))?
    } else {
        type_by_name(&upper).ok_or_else(|| {
            format!("unknown record type '{text}' (use TYPEnnn for types without a mnemonic)")
        })?
    };
    if record_type(code).is_some_and(|r| !r.stored) {
        return Err(format!(
            "{upper} is a query-only type and cannot appear in a zone"
        ));
    }
    let key = if upper.starts_with("TYPE") {
        format!("TYPE{code}")
    } else {
        upper
    };
    Ok((code, key))
}

/// Indexes of RDATA tokens that hold domain names, so relative names can be rewritten when
/// `$ORIGIN` differs from the zone: read from the type's field layout, up to the first field
/// that takes the rest of the tokens.
pub(super) fn name_fields(code: u16) -> Vec<usize> {
    let Some(fields) = record_type(code).and_then(|r| r.fields) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        match f {
            Field::Name | Field::NameNoCompress | Field::PlainName | Field::MailName => {
                out.push(i);
            }
            Field::CharStrings
            | Field::RestString
            | Field::RestHex
            | Field::RestBase64
            | Field::Loc
            | Field::SvcParams => break,
            _ => {}
        }
    }
    out
}

/// A record value as it will be written in YAML.
#[derive(Debug, Clone)]
pub(super) enum Value {
    /// One double-quoted string.
    Text(String),
    /// A TXT record of several (or empty) character-strings: a nested list.
    Strings(Vec<String>),
    /// RFC 3597 `\# len hex`, single-quoted.
    Generic(String),
}

#[derive(Debug)]
pub(super) struct Rdata {
    pub(super) value: Value,
    /// Comparison key for dropping duplicates.
    pub(super) key: Vec<Vec<u8>>,
}

/// Normalises RFC 3597 `\# len hex...` to `\# len hex` with lowercase hex and no spaces.
pub(super) fn generic_rdata(
    file: &Path,
    type_tok: &Token,
    rdata: &[Token],
) -> Result<String, MasterError> {
    let marker = rdata.first().map_or(type_tok.end, |t| t.pos);
    let Some((len_tok, hex_toks)) = rdata.get(1..).and_then(<[Token]>::split_first) else {
        return Err(error_at(
            file,
            marker,
            "generic RDATA '\\#' must be followed by its length",
        ));
    };
    let len = len_tok
        .text
        .parse::<u16>()
        .ok()
        .filter(|_| !len_tok.quoted)
        .map(usize::from)
        .ok_or_else(|| {
            error_at(
                file,
                len_tok.pos,
                format!("bad generic RDATA length '{}'", len_tok.text),
            )
        })?;
    let mut hex = String::new();
    for tok in hex_toks {
        if tok.quoted || !tok.text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(error_at(
                file,
                tok.pos,
                format!("bad hex '{}' in generic RDATA", tok.text),
            ));
        }
        hex.push_str(&tok.text.to_ascii_lowercase());
    }
    if !hex.len().is_multiple_of(2) {
        let pos = hex_toks.last().map_or(len_tok.pos, |t| t.pos);
        return Err(error_at(
            file,
            pos,
            "odd number of hex digits in generic RDATA",
        ));
    }
    if hex.len() / 2 != len {
        return Err(error_at(
            file,
            len_tok.pos,
            format!(
                "generic RDATA length {len} does not match the {} bytes of hex that follow",
                hex.len() / 2
            ),
        ));
    }
    Ok(if len == 0 {
        "\\# 0".to_string()
    } else {
        format!("\\# {len} {hex}")
    })
}

/// TXT/SPF: decoded character-strings, or RFC 3597 form under TYPE16/TYPE99 when any string is
/// not UTF-8 (the YAML schema only carries text).
pub(super) fn txt_rdata(
    file: &Path,
    type_tok: &Token,
    rtype: String,
    rdata: &[Token],
) -> Result<(String, Rdata), MasterError> {
    if rdata.is_empty() {
        return Err(error_at(
            file,
            type_tok.end,
            format!("{rtype} needs at least one character-string"),
        ));
    }
    if let Some(long) = rdata.iter().find(|t| t.bytes.len() > 255) {
        return Err(error_at(
            file,
            long.pos,
            format!(
                "character-string of {} bytes; the limit is 255, split it into several quoted strings",
                long.bytes.len()
            ),
        ));
    }
    let key: Vec<Vec<u8>> = std::iter::once(b"t".to_vec())
        .chain(rdata.iter().map(|t| t.bytes.clone()))
        .collect();
    let texts: Result<Vec<&str>, _> = rdata
        .iter()
        .map(|t| std::str::from_utf8(&t.bytes))
        .collect();
    if let Ok(texts) = texts {
        let value = match texts.as_slice() {
            // A lone text the loader would read as RFC 3597 generic data (`\# ...`) is written
            // as a list of strings, which the loader takes as text.
            [one] if !one.is_empty() && !crate::zone::rdata::txt_is_generic(one) => {
                Value::Text((*one).to_string())
            }
            _ => Value::Strings(texts.iter().map(|s| (*s).to_string()).collect()),
        };
        return Ok((rtype, Rdata { value, key }));
    }
    let mut wire = Vec::new();
    for tok in rdata {
        // Lengths are at most 255, checked above.
        wire.push(u8::try_from(tok.bytes.len()).unwrap_or(u8::MAX));
        wire.extend_from_slice(&tok.bytes);
    }
    let generic_type = if rtype == "SPF" { "TYPE99" } else { "TYPE16" };
    let value = Value::Generic(format!("\\# {} {}", wire.len(), hex_lower(&wire)));
    Ok((generic_type.to_string(), Rdata { value, key }))
}

/// Lowercase hex without separators, as RFC 3597 generic RDATA is normalised.
pub(super) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
