//! RFC 1035 master-file ("zone file") reader behind `dynadns import-zone`.
//!
//! Operators migrating from BIND, NSD or Knot have their zones as master files. This module
//! reads one (following `$INCLUDE`) and turns it into dynadns zone YAML. It keeps names and
//! RDATA in presentation form, as written, so that the zone loader stays the single place that
//! validates record contents; only what the YAML schema needs is interpreted here (owners,
//! TTLs, the SOA, TXT strings, names inside RDATA, RFC 3597 generic RDATA).
//!
//! Deliberate simplifications, so operators are not surprised:
//! - A record without a TTL takes the `$TTL` in effect, else the last explicit TTL seen
//!   (RFC 1035 §5.1), else the apex SOA's minimum field once the SOA has been read (what BIND
//!   does for files without `$TTL`); with none of these it is an error.
//! - `$TTL` is global: one set in an included file stays in effect afterwards, whereas
//!   `$ORIGIN` and the "previous owner" revert when an included file ends (RFC 1035 §5.1).
//! - Types are emitted under the mnemonic as written (`TYPE1` is not folded into `A`).
//! - Only class IN is accepted.
//! - Owners are grouped case-insensitively (first spelling wins); duplicate records are dropped
//!   when their RDATA is identical, comparing names inside RDATA case-insensitively.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::fs;
use std::path::{Path, PathBuf};

/// How deep `$INCLUDE` may nest, so a runaway chain of files fails fast.
const MAX_INCLUDE_DEPTH: usize = 16;
/// Largest TTL RFC 2181 §8 allows; larger values are almost certainly typos.
const MAX_TTL: u64 = 0x7fff_ffff;
/// Longest label in bytes (RFC 1035 §2.3.4).
const MAX_LABEL: usize = 63;
/// Longest name in wire bytes (RFC 1035 §2.3.4).
const MAX_NAME: usize = 255;

/// A problem in a master file, with the position an operator needs to fix it.
///
/// `line` and `col` are 1-based; both are 0 when the problem concerns the file as a whole
/// (it cannot be read, the zone origin is malformed), and `Display` then omits them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterError {
    /// File the problem is in (an included file where the problem is inside it).
    pub file: PathBuf,
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub col: usize,
    /// What is wrong, phrased for the operator.
    pub message: String,
}

impl fmt::Display for MasterError {
    /// Formats as `FILE:LINE:COL: MESSAGE`, the form editors and CI logs recognise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.col,
                self.message
            )
        }
    }
}

impl std::error::Error for MasterError {}

/// Read FILE (following $INCLUDE relative to the including file's directory) and return zone YAML.
///
/// `origin` is the zone name (`example.com` or `example.com.`); it is the initial `$ORIGIN`.
///
/// # Errors
///
/// Returns a [`MasterError`] when a file cannot be read, the master-file syntax is wrong, a
/// record cannot be represented, or the zone apex has no SOA.
pub fn import_master_file(path: &Path, origin: &str) -> Result<String, MasterError> {
    let data =
        fs::read(path).map_err(|e| whole_file(path, format!("cannot read zone file: {e}")))?;
    import_bytes(&data, path, origin)
}

/// Same, from text already in memory (`file` is only used for error messages and as the base dir for $INCLUDE).
///
/// Lets callers (and tests) convert a zone they already hold without touching the disk, unless
/// the text itself uses `$INCLUDE`.
///
/// # Errors
///
/// As [`import_master_file`].
pub fn import_master_text(text: &str, file: &Path, origin: &str) -> Result<String, MasterError> {
    import_bytes(text.as_bytes(), file, origin)
}

/// Shared implementation: master files are bytes, not necessarily UTF-8 (TXT data may be raw).
fn import_bytes(src: &[u8], file: &Path, origin: &str) -> Result<String, MasterError> {
    let (zone, zone_text) = parse_origin(origin)
        .map_err(|m| whole_file(file, format!("bad zone origin '{origin}': {m}")))?;
    let mut importer = Importer::new(zone.clone(), zone_text);
    importer.read_text(src, file, zone, None)?;
    importer.to_yaml(file)
}

fn whole_file(file: &Path, message: String) -> MasterError {
    MasterError {
        file: file.to_path_buf(),
        line: 0,
        col: 0,
        message,
    }
}

fn error_at(file: &Path, pos: Pos, message: impl Into<String>) -> MasterError {
    MasterError {
        file: file.to_path_buf(),
        line: pos.line,
        col: pos.col,
        message: message.into(),
    }
}

/// Turns the `--origin` argument into the apex name and the text for the `zone:` key.
fn parse_origin(origin: &str) -> Result<(Name, String), String> {
    if origin.is_empty() || origin == "@" {
        return Err("expected a domain name such as example.com".into());
    }
    let (zone, absolute) = parse_name(origin, &Name::default())?;
    let text = match origin.strip_suffix('.') {
        Some(stripped) if absolute && !stripped.is_empty() => stripped.to_string(),
        _ => origin.to_string(),
    };
    Ok((zone, text))
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

/// A position in a file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    line: usize,
    col: usize,
}

/// One master-file token.
#[derive(Debug, Clone)]
struct Token {
    /// Presentation form as written (quotes included for quoted tokens). Bytes that are not
    /// UTF-8 and escaped control characters are rewritten as `\DDD`, which means the same.
    text: String,
    /// The value with quotes removed and escapes decoded.
    bytes: Vec<u8>,
    quoted: bool,
    pos: Pos,
    /// Position just past the token, for "something is missing after this" errors.
    end: Pos,
}

/// One logical entry: a physical line, or several joined by parentheses.
#[derive(Debug)]
struct Entry {
    tokens: Vec<Token>,
    /// The line began with white space, so the owner is the previous record's.
    indented: bool,
}

/// Splits master-file text into entries, handling quotes, escapes, comments and parentheses.
struct Lexer<'a> {
    src: &'a [u8],
    /// `invalid[i]` is true where byte `i` is not part of valid UTF-8.
    invalid: Vec<bool>,
    i: usize,
    line: usize,
    col: usize,
    file: &'a Path,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a [u8], file: &'a Path) -> Self {
        let src = src.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(src);
        let mut invalid = vec![false; src.len()];
        let mut offset = 0;
        for chunk in src.utf8_chunks() {
            offset += chunk.valid().len();
            for flag in invalid.iter_mut().skip(offset).take(chunk.invalid().len()) {
                *flag = true;
            }
            offset += chunk.invalid().len();
        }
        Lexer {
            src,
            invalid,
            i: 0,
            line: 1,
            col: 1,
            file,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.i).copied()
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn is_invalid(&self, i: usize) -> bool {
        self.invalid.get(i).copied().unwrap_or(false)
    }

    /// Consumes one byte, keeping line and (character) column up to date.
    fn bump(&mut self) {
        let Some(b) = self.peek() else { return };
        if b == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if b & 0xC0 != 0x80 || self.is_invalid(self.i) {
            self.col += 1;
        }
        self.i += 1;
    }

    fn error(&self, pos: Pos, message: impl Into<String>) -> MasterError {
        error_at(self.file, pos, message)
    }

    /// Returns the next non-empty entry, or `None` at end of input.
    fn next_entry(&mut self) -> Result<Option<Entry>, MasterError> {
        let mut tokens = Vec::new();
        let mut indented = false;
        let mut paren: Option<Pos> = None;
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.bump();
                    if paren.is_none() {
                        if !tokens.is_empty() {
                            return Ok(Some(Entry { tokens, indented }));
                        }
                        indented = false;
                    }
                }
                b' ' | b'\t' | b'\r' => {
                    if self.col == 1 && tokens.is_empty() && paren.is_none() {
                        indented = true;
                    }
                    self.bump();
                }
                b';' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.bump();
                    }
                }
                b'(' => {
                    if paren.is_some() {
                        return Err(self.error(self.pos(), "nested '(': parentheses cannot nest"));
                    }
                    paren = Some(self.pos());
                    self.bump();
                }
                b')' => {
                    if paren.take().is_none() {
                        return Err(self.error(self.pos(), "')' without a matching '('"));
                    }
                    self.bump();
                }
                b'"' => tokens.push(self.quoted()?),
                _ => tokens.push(self.word()?),
            }
        }
        if let Some(open) = paren {
            return Err(self.error(open, "unterminated parenthesis: this '(' is never closed"));
        }
        Ok((!tokens.is_empty()).then_some(Entry { tokens, indented }))
    }

    /// Appends the byte under the cursor to a token and consumes it.
    fn take_byte(&mut self, b: u8, text: &mut Vec<u8>, bytes: &mut Vec<u8>) {
        if self.is_invalid(self.i) {
            text.extend_from_slice(format!("\\{b:03}").as_bytes());
        } else {
            text.push(b);
        }
        bytes.push(b);
        self.bump();
    }

    /// Consumes a backslash escape (`\DDD` or `\X`).
    fn escape(&mut self, text: &mut Vec<u8>, bytes: &mut Vec<u8>) -> Result<(), MasterError> {
        let start = self.pos();
        self.bump();
        let Some(b) = self.peek() else {
            return Err(self.error(start, "backslash at end of file"));
        };
        if b.is_ascii_digit() {
            let src = self.src;
            let digits = src
                .get(self.i..self.i + 3)
                .filter(|d| d.iter().all(u8::is_ascii_digit))
                .ok_or_else(|| {
                    self.error(start, "bad escape: a backslash followed by a digit needs exactly three digits (\\DDD)")
                })?;
            let value = digits
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            let byte = u8::try_from(value).map_err(|_| {
                self.error(
                    start,
                    format!("bad escape \\{value:03}: the value must be at most 255"),
                )
            })?;
            text.push(b'\\');
            text.extend_from_slice(digits);
            bytes.push(byte);
            for _ in 0..3 {
                self.bump();
            }
        } else if b < 0x20 || b == 0x7f || self.is_invalid(self.i) {
            text.extend_from_slice(format!("\\{b:03}").as_bytes());
            bytes.push(b);
            self.bump();
        } else {
            text.push(b'\\');
            self.take_byte(b, text, bytes);
        }
        Ok(())
    }

    fn quoted(&mut self) -> Result<Token, MasterError> {
        let pos = self.pos();
        self.bump();
        let mut text = vec![b'"'];
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\n') => {
                    return Err(self.error(
                        pos,
                        "unterminated quoted string: no closing '\"' on this line",
                    ));
                }
                Some(b'"') => {
                    self.bump();
                    text.push(b'"');
                    break;
                }
                Some(b'\\') => self.escape(&mut text, &mut bytes)?,
                Some(b) => self.take_byte(b, &mut text, &mut bytes),
            }
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        Ok(Token {
            text,
            bytes,
            quoted: true,
            pos,
            end: self.pos(),
        })
    }

    fn word(&mut self) -> Result<Token, MasterError> {
        let pos = self.pos();
        let mut text = Vec::new();
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"') => break,
                Some(b'\\') => self.escape(&mut text, &mut bytes)?,
                Some(b) => self.take_byte(b, &mut text, &mut bytes),
            }
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        Ok(Token {
            text,
            bytes,
            quoted: false,
            pos,
            end: self.pos(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// A label: its presentation text as written, and its decoded, lowercased bytes for comparison.
#[derive(Debug, Clone, Default)]
struct Label {
    text: String,
    key: Vec<u8>,
}

/// An absolute domain name (the root has no labels).
#[derive(Debug, Clone, Default)]
struct Name {
    labels: Vec<Label>,
}

impl Name {
    /// DNS names compare case-insensitively.
    fn same(&self, other: &Name) -> bool {
        self.labels.len() == other.labels.len()
            && self
                .labels
                .iter()
                .zip(&other.labels)
                .all(|(a, b)| a.key == b.key)
    }

    /// Number of labels in front of `zone` when the name is at or below it.
    fn prefix_len(&self, zone: &Name) -> Option<usize> {
        let n = self.labels.len().checked_sub(zone.labels.len())?;
        let suffix = self.labels.get(n..)?;
        suffix
            .iter()
            .zip(&zone.labels)
            .all(|(a, b)| a.key == b.key)
            .then_some(n)
    }

    /// Presentation form relative to `zone` (`@` for the apex), or absolute when outside it.
    fn relative_to(&self, zone: &Name) -> String {
        match self.prefix_len(zone) {
            Some(0) => "@".to_string(),
            Some(n) => join_labels(self.labels.get(..n).unwrap_or_default()),
            None => self.absolute(),
        }
    }

    /// Absolute presentation form with the trailing dot.
    fn absolute(&self) -> String {
        if self.labels.is_empty() {
            ".".to_string()
        } else {
            format!("{}.", join_labels(&self.labels))
        }
    }

    /// Lowercased wire form, used as a case-insensitive key.
    fn canonical(&self) -> Vec<u8> {
        let mut wire = Vec::new();
        for label in &self.labels {
            wire.push(u8::try_from(label.key.len()).unwrap_or(u8::MAX));
            wire.extend_from_slice(&label.key);
        }
        wire.push(0);
        wire
    }
}

fn join_labels(labels: &[Label]) -> String {
    labels
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// Parses a name in presentation form; relative names are completed with `origin`.
/// Returns the name and whether it was written absolute.
fn parse_name(text: &str, origin: &Name) -> Result<(Name, bool), String> {
    if text == "@" {
        return Ok((origin.clone(), false));
    }
    if text == "." {
        return Ok((Name::default(), true));
    }
    if text.is_empty() {
        return Err("empty domain name".into());
    }
    let mut labels = Vec::new();
    let mut label = Label::default();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if label.text.is_empty() {
                    return Err(format!("empty label in domain name '{text}'"));
                }
                labels.push(std::mem::take(&mut label));
            }
            '\\' => {
                let rest = chars.as_str();
                if let Some(digits) = rest
                    .get(..3)
                    .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
                {
                    let value: u16 = digits
                        .parse()
                        .map_err(|_| format!("bad escape in '{text}'"))?;
                    let byte = u8::try_from(value)
                        .map_err(|_| format!("bad escape \\{digits} in '{text}': at most 255"))?;
                    label.text.push('\\');
                    label.text.push_str(digits);
                    label.key.push(byte.to_ascii_lowercase());
                    chars = rest.get(3..).unwrap_or_default().chars();
                } else if rest.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(format!("bad escape in '{text}': \\DDD needs three digits"));
                } else {
                    let escaped = chars
                        .next()
                        .ok_or_else(|| format!("domain name '{text}' ends in a backslash"))?;
                    label.text.push('\\');
                    push_char(&mut label, escaped);
                }
            }
            c => push_char(&mut label, c),
        }
    }
    let absolute = label.text.is_empty();
    if !absolute {
        labels.push(label);
    }
    if let Some(long) = labels.iter().find(|l| l.key.len() > MAX_LABEL) {
        return Err(format!(
            "label '{}' is longer than {MAX_LABEL} bytes",
            long.text
        ));
    }
    if !absolute {
        labels.extend(origin.labels.iter().cloned());
    }
    let name = Name { labels };
    let wire_len = name.canonical().len();
    if wire_len > MAX_NAME {
        return Err(format!(
            "domain name '{text}' is {wire_len} bytes long; the limit is {MAX_NAME}"
        ));
    }
    Ok((name, absolute))
}

fn push_char(label: &mut Label, c: char) {
    label.text.push(c);
    let mut buf = [0u8; 4];
    label.key.extend(
        c.encode_utf8(&mut buf)
            .bytes()
            .map(|b| b.to_ascii_lowercase()),
    );
}

// ---------------------------------------------------------------------------------------------
// TTLs, classes, types
// ---------------------------------------------------------------------------------------------

/// Parses plain seconds or BIND-style units (`1h30m`, `2d`, `1w`) into seconds (a u32 value).
fn parse_duration(text: &str) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let unit: u64 = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    if number.is_some() {
        return None;
    }
    u32::try_from(total).ok()
}

/// Parses a record or `$TTL` TTL, rejecting values RFC 2181 §8 does not allow.
fn parse_ttl(text: &str) -> Result<u32, String> {
    let ttl = parse_duration(text).ok_or_else(|| {
        format!("bad TTL '{text}': expected seconds or a duration such as 3600, 1h30m, 2d or 1w")
    })?;
    if u64::from(ttl) > MAX_TTL {
        return Err(format!("TTL {ttl} is larger than the maximum {MAX_TTL}"));
    }
    Ok(ttl)
}

/// `Some(true)` for class IN, `Some(false)` for another class, `None` if not a class at all.
fn class_kind(text: &str) -> Option<bool> {
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

/// Record types that may appear in a zone, by mnemonic.
const KNOWN_TYPES: &[&str] = &[
    "A",
    "NS",
    "MD",
    "MF",
    "CNAME",
    "SOA",
    "MB",
    "MG",
    "MR",
    "NULL",
    "WKS",
    "PTR",
    "HINFO",
    "MINFO",
    "MX",
    "TXT",
    "RP",
    "AFSDB",
    "X25",
    "ISDN",
    "RT",
    "NSAP",
    "NSAP-PTR",
    "SIG",
    "KEY",
    "PX",
    "GPOS",
    "AAAA",
    "LOC",
    "NXT",
    "EID",
    "NIMLOC",
    "SRV",
    "ATMA",
    "NAPTR",
    "KX",
    "CERT",
    "A6",
    "DNAME",
    "SINK",
    "APL",
    "DS",
    "SSHFP",
    "IPSECKEY",
    "RRSIG",
    "NSEC",
    "DNSKEY",
    "DHCID",
    "NSEC3",
    "NSEC3PARAM",
    "TLSA",
    "SMIMEA",
    "HIP",
    "NINFO",
    "RKEY",
    "TALINK",
    "CDS",
    "CDNSKEY",
    "OPENPGPKEY",
    "CSYNC",
    "ZONEMD",
    "SVCB",
    "HTTPS",
    "DSYNC",
    "SPF",
    "UINFO",
    "UID",
    "GID",
    "UNSPEC",
    "NID",
    "L32",
    "L64",
    "LP",
    "EUI48",
    "EUI64",
    "URI",
    "CAA",
    "AVC",
    "DOA",
    "AMTRELAY",
    "RESINFO",
    "WALLET",
    "TA",
    "DLV",
];

/// Query-only types (RFC 6895 meta-types and QTYPEs) that cannot be stored in a zone.
const META_TYPES: &[&str] = &["OPT", "TKEY", "TSIG", "IXFR", "AXFR", "MAILB", "MAILA"];

/// Normalises a type token to the key used in YAML (`A`, `TYPE64`).
fn parse_type(text: &str) -> Result<String, String> {
    let upper = text.to_ascii_uppercase();
    if let Some(number) = upper.strip_prefix("TYPE") {
        return number
            .parse::<u16>()
            .ok()
            .filter(|_| number.bytes().all(|b| b.is_ascii_digit()))
            .map(|n| format!("TYPE{n}"))
            .ok_or_else(|| format!("bad type '{text}': TYPEnnn needs a number from 0 to 65535"));
    }
    if KNOWN_TYPES.contains(&upper.as_str()) {
        Ok(upper)
    } else if META_TYPES.contains(&upper.as_str()) {
        Err(format!(
            "{upper} is a query-only type and cannot appear in a zone"
        ))
    } else {
        Err(format!(
            "unknown record type '{text}' (use TYPEnnn for types without a mnemonic)"
        ))
    }
}

/// Indexes of RDATA fields that hold domain names, so relative names can be rewritten when
/// `$ORIGIN` differs from the zone. Types not listed are passed through verbatim.
fn name_fields(rtype: &str, rdata: &[Token]) -> &'static [usize] {
    match rtype {
        "NS" | "CNAME" | "PTR" | "DNAME" | "MB" | "MD" | "MF" | "MG" | "MR" | "NSEC" => &[0],
        "MX" | "AFSDB" | "RT" | "KX" | "LP" | "SVCB" | "HTTPS" => &[1],
        "SRV" => &[3],
        "SOA" | "RP" | "MINFO" | "TALINK" => &[0, 1],
        "PX" => &[1, 2],
        "NAPTR" => &[5],
        "RRSIG" => &[7],
        "IPSECKEY" if rdata.get(1).is_some_and(|t| t.text == "3") => &[3],
        _ => &[],
    }
}

// ---------------------------------------------------------------------------------------------
// Importer
// ---------------------------------------------------------------------------------------------

/// A record value as it will be written in YAML.
#[derive(Debug, Clone)]
enum Value {
    /// One double-quoted string.
    Text(String),
    /// A TXT record of several (or empty) character-strings: a nested list.
    Strings(Vec<String>),
    /// RFC 3597 `\# len hex`, single-quoted.
    Generic(String),
}

#[derive(Debug)]
struct Rdata {
    value: Value,
    /// Comparison key for dropping duplicates.
    key: Vec<Vec<u8>>,
}

#[derive(Debug)]
struct RrSet {
    rtype: String,
    /// Distinct TTLs in order of appearance.
    ttls: Vec<u32>,
    items: Vec<Rdata>,
}

#[derive(Debug)]
struct Owner {
    /// Key for `records:` (relative to the zone, or absolute).
    display: String,
    rrsets: Vec<RrSet>,
}

#[derive(Debug)]
struct Soa {
    primary: String,
    contact: String,
    serial: u32,
    refresh: u32,
    retry: u32,
    expire: u32,
    minimum: u32,
    ttl: u32,
}

/// Per-file parsing state; `$INCLUDE` gets a fresh one so its `$ORIGIN` stays local.
struct FileCtx<'a> {
    file: &'a Path,
    origin: Name,
    last_owner: Option<Name>,
}

/// Accumulates records across the top-level file and its includes.
struct Importer {
    zone: Name,
    zone_text: String,
    /// First `$TTL` seen: the zone's default `ttl:`.
    first_ttl: Option<u32>,
    /// `$TTL` currently in effect.
    default_ttl: Option<u32>,
    /// Last TTL written on a record.
    last_ttl: Option<u32>,
    soa: Option<Soa>,
    /// Where the first record is, so "no SOA" can point there.
    first_record: Option<(PathBuf, Pos)>,
    owners: Vec<Owner>,
    owner_index: HashMap<Vec<u8>, usize>,
    /// Canonical paths of the files being read, for loop detection.
    include_stack: Vec<PathBuf>,
}

impl Importer {
    fn new(zone: Name, zone_text: String) -> Self {
        Importer {
            zone,
            zone_text,
            first_ttl: None,
            default_ttl: None,
            last_ttl: None,
            soa: None,
            first_record: None,
            owners: Vec::new(),
            owner_index: HashMap::new(),
            include_stack: Vec::new(),
        }
    }

    fn read_text(
        &mut self,
        src: &[u8],
        file: &Path,
        origin: Name,
        last_owner: Option<Name>,
    ) -> Result<(), MasterError> {
        self.include_stack
            .push(fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf()));
        let mut lexer = Lexer::new(src, file);
        let mut ctx = FileCtx {
            file,
            origin,
            last_owner,
        };
        while let Some(entry) = lexer.next_entry()? {
            self.entry(&mut ctx, &entry)?;
        }
        self.include_stack.pop();
        Ok(())
    }

    fn entry(&mut self, ctx: &mut FileCtx<'_>, entry: &Entry) -> Result<(), MasterError> {
        match entry.tokens.split_first() {
            Some((first, args)) if !first.quoted && first.text.starts_with('$') => {
                self.directive(ctx, first, args)
            }
            Some(_) => self.record(ctx, entry),
            None => Ok(()),
        }
    }

    fn directive(
        &mut self,
        ctx: &mut FileCtx<'_>,
        first: &Token,
        args: &[Token],
    ) -> Result<(), MasterError> {
        let file = ctx.file;
        match first.text.to_ascii_uppercase().as_str() {
            "$ORIGIN" => {
                let [arg] = args else {
                    return Err(error_at(
                        file,
                        first.pos,
                        "$ORIGIN takes exactly one domain name",
                    ));
                };
                ctx.origin = name_token(ctx, arg)?.0;
            }
            "$TTL" => {
                let [arg] = args else {
                    return Err(error_at(file, first.pos, "$TTL takes exactly one TTL"));
                };
                let ttl = parse_ttl(&arg.text).map_err(|m| error_at(file, arg.pos, m))?;
                self.default_ttl = Some(ttl);
                self.first_ttl.get_or_insert(ttl);
            }
            "$INCLUDE" => self.include(ctx, first, args)?,
            _ => {
                return Err(error_at(
                    file,
                    first.pos,
                    format!(
                        "unknown directive {}; supported are $ORIGIN, $TTL and $INCLUDE",
                        first.text
                    ),
                ));
            }
        }
        Ok(())
    }

    fn include(
        &mut self,
        ctx: &FileCtx<'_>,
        first: &Token,
        args: &[Token],
    ) -> Result<(), MasterError> {
        let file = ctx.file;
        let (file_tok, origin_tok) = match args {
            [f] => (f, None),
            [f, o] => (f, Some(o)),
            _ => {
                return Err(error_at(
                    file,
                    first.pos,
                    "$INCLUDE takes a file name and an optional origin",
                ));
            }
        };
        let written = PathBuf::from(String::from_utf8_lossy(&file_tok.bytes).into_owned());
        let path = if written.is_absolute() {
            written
        } else {
            file.parent().unwrap_or_else(|| Path::new("")).join(written)
        };
        let origin = match origin_tok {
            Some(tok) => name_token(ctx, tok)?.0,
            None => ctx.origin.clone(),
        };
        if self.include_stack.len() > MAX_INCLUDE_DEPTH {
            return Err(error_at(
                file,
                file_tok.pos,
                format!("$INCLUDE nested more than {MAX_INCLUDE_DEPTH} levels deep"),
            ));
        }
        let cannot_read = |e: std::io::Error| {
            error_at(
                file,
                file_tok.pos,
                format!("cannot read included file {}: {e}", path.display()),
            )
        };
        let canonical = fs::canonicalize(&path).map_err(cannot_read)?;
        if self.include_stack.contains(&canonical) {
            return Err(error_at(
                file,
                file_tok.pos,
                format!("include loop: {} is already being read", path.display()),
            ));
        }
        let data = fs::read(&path).map_err(cannot_read)?;
        self.read_text(&data, &path, origin, ctx.last_owner.clone())
    }

    fn record(&mut self, ctx: &mut FileCtx<'_>, entry: &Entry) -> Result<(), MasterError> {
        let file = ctx.file;
        let mut rest = entry.tokens.as_slice();
        let (Some(first), Some(last)) = (rest.first(), rest.last()) else {
            return Ok(());
        };
        let owner = if entry.indented {
            ctx.last_owner.clone().ok_or_else(|| {
                error_at(
                    file,
                    first.pos,
                    "no owner name: an indented line reuses the previous record's owner, but there is none",
                )
            })?
        } else {
            rest = rest.get(1..).unwrap_or_default();
            if first.quoted {
                return Err(error_at(file, first.pos, "an owner name cannot be quoted"));
            }
            name_token(ctx, first)?.0
        };
        ctx.last_owner = Some(owner.clone());

        let mut ttl = None;
        let mut class_seen = false;
        let type_tok = loop {
            let Some((tok, tail)) = rest.split_first() else {
                return Err(error_at(file, last.end, "missing record type"));
            };
            rest = tail;
            if !tok.quoted && tok.text.starts_with(|c: char| c.is_ascii_digit()) {
                if ttl.is_some() {
                    return Err(error_at(file, tok.pos, "a record has only one TTL"));
                }
                ttl = Some(parse_ttl(&tok.text).map_err(|m| error_at(file, tok.pos, m))?);
            } else if let Some(is_in) = class_kind(&tok.text).filter(|_| !tok.quoted) {
                if !is_in {
                    return Err(error_at(
                        file,
                        tok.pos,
                        format!("class {} is not supported; only IN is", tok.text),
                    ));
                }
                if class_seen {
                    return Err(error_at(file, tok.pos, "a record has only one class"));
                }
                class_seen = true;
            } else {
                break tok;
            }
        };
        if type_tok.quoted {
            return Err(error_at(
                file,
                type_tok.pos,
                "a record type cannot be quoted",
            ));
        }
        let rtype = parse_type(&type_tok.text).map_err(|m| error_at(file, type_tok.pos, m))?;
        if ttl.is_some() {
            self.last_ttl = ttl;
        }
        if self.first_record.is_none() {
            self.first_record = Some((file.to_path_buf(), first.pos));
        }
        let rdata = rest;
        let generic = rdata.first().is_some_and(|t| !t.quoted && t.text == "\\#");

        if rtype == "SOA" {
            return self.soa_record(ctx, &owner, first, type_tok, rdata, ttl, generic);
        }
        let ttl = ttl
            .or(self.default_ttl)
            .or(self.last_ttl)
            .or(self.soa.as_ref().map(|s| s.minimum))
            .ok_or_else(|| {
                error_at(
                    file,
                    first.pos,
                    "no TTL for this record: give one, or set $TTL before it",
                )
            })?;

        let (rtype, rdata) = if generic {
            let text = generic_rdata(file, type_tok, rdata)?;
            (
                rtype,
                Rdata {
                    key: vec![b"g".to_vec(), text.clone().into_bytes()],
                    value: Value::Generic(text),
                },
            )
        } else if rtype == "TXT" || rtype == "SPF" {
            txt_rdata(file, type_tok, rtype, rdata)?
        } else {
            (
                rtype.clone(),
                self.plain_rdata(ctx, type_tok, &rtype, rdata)?,
            )
        };
        self.add(&owner, rtype, ttl, rdata);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn soa_record(
        &mut self,
        ctx: &FileCtx<'_>,
        owner: &Name,
        first: &Token,
        type_tok: &Token,
        rdata: &[Token],
        ttl: Option<u32>,
        generic: bool,
    ) -> Result<(), MasterError> {
        let file = ctx.file;
        if !owner.same(&self.zone) {
            return Err(error_at(
                file,
                first.pos,
                format!(
                    "SOA record for {} is not at the zone apex {}; only the apex has an SOA",
                    owner.absolute(),
                    self.zone.absolute()
                ),
            ));
        }
        if self.soa.is_some() {
            return Err(error_at(
                file,
                first.pos,
                "second SOA record at the zone apex; a zone has exactly one",
            ));
        }
        if generic {
            return Err(error_at(
                file,
                type_tok.pos,
                "an SOA in RFC 3597 generic form is not supported; write its fields",
            ));
        }
        let [mname, rname, serial, refresh, retry, expire, minimum] = rdata else {
            return Err(error_at(
                file,
                type_tok.pos,
                format!(
                    "SOA needs 7 fields (primary, contact, serial, refresh, retry, expire, minimum), found {}",
                    rdata.len()
                ),
            ));
        };
        let timer = |tok: &Token, what: &str| {
            parse_duration(&tok.text)
                .filter(|_| !tok.quoted)
                .ok_or_else(|| error_at(file, tok.pos, format!("bad SOA {what} '{}'", tok.text)))
        };
        let serial_value = serial
            .text
            .parse::<u32>()
            .ok()
            .filter(|_| !serial.quoted && serial.text.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                error_at(
                    file,
                    serial.pos,
                    format!("bad SOA serial '{}': expected 0 to 4294967295", serial.text),
                )
            })?;
        let minimum = timer(minimum, "minimum")?;
        let soa = Soa {
            primary: name_token(ctx, mname)?.0.relative_to(&self.zone),
            contact: name_token(ctx, rname)?.0.relative_to(&self.zone),
            serial: serial_value,
            refresh: timer(refresh, "refresh")?,
            retry: timer(retry, "retry")?,
            expire: timer(expire, "expire")?,
            minimum,
            ttl: ttl
                .or(self.default_ttl)
                .or(self.last_ttl)
                .unwrap_or(minimum),
        };
        self.soa = Some(soa);
        Ok(())
    }

    /// RDATA of types other than TXT/SPF: tokens joined by single spaces, names made to mean
    /// the same thing relative to the zone.
    fn plain_rdata(
        &self,
        ctx: &FileCtx<'_>,
        type_tok: &Token,
        rtype: &str,
        rdata: &[Token],
    ) -> Result<Rdata, MasterError> {
        if rdata.is_empty() && rtype != "APL" {
            return Err(error_at(
                ctx.file,
                type_tok.end,
                format!("missing RDATA for {rtype}"),
            ));
        }
        let fields = name_fields(rtype, rdata);
        let same_origin = ctx.origin.same(&self.zone);
        let mut parts = Vec::with_capacity(rdata.len());
        let mut key = vec![b"p".to_vec()];
        for (i, tok) in rdata.iter().enumerate() {
            if fields.contains(&i) && !tok.quoted {
                let (name, absolute) = name_token(ctx, tok)?;
                parts.push(if absolute || same_origin {
                    tok.text.clone()
                } else {
                    name.relative_to(&self.zone)
                });
                key.push(name.canonical());
            } else {
                parts.push(tok.text.clone());
                key.push(tok.text.clone().into_bytes());
            }
        }
        Ok(Rdata {
            value: Value::Text(parts.join(" ")),
            key,
        })
    }

    fn add(&mut self, owner: &Name, rtype: String, ttl: u32, rdata: Rdata) {
        let zone = &self.zone;
        let owners = &mut self.owners;
        let index = *self
            .owner_index
            .entry(owner.canonical())
            .or_insert_with(|| {
                owners.push(Owner {
                    display: owner.relative_to(zone),
                    rrsets: Vec::new(),
                });
                owners.len() - 1
            });
        let Some(owner) = self.owners.get_mut(index) else {
            return;
        };
        let position = owner
            .rrsets
            .iter()
            .position(|r| r.rtype == rtype)
            .unwrap_or_else(|| {
                owner.rrsets.push(RrSet {
                    rtype,
                    ttls: Vec::new(),
                    items: Vec::new(),
                });
                owner.rrsets.len() - 1
            });
        let Some(rrset) = owner.rrsets.get_mut(position) else {
            return;
        };
        if !rrset.ttls.contains(&ttl) {
            rrset.ttls.push(ttl);
        }
        if !rrset.items.iter().any(|item| item.key == rdata.key) {
            rrset.items.push(rdata);
        }
    }

    fn to_yaml(&self, file: &Path) -> Result<String, MasterError> {
        let Some(soa) = &self.soa else {
            let message = format!(
                "no SOA record at the zone apex {}; a zone file must start with one",
                self.zone_text
            );
            return Err(match &self.first_record {
                Some((path, pos)) => error_at(path, *pos, message),
                None => whole_file(file, message),
            });
        };
        let mut out = String::new();
        self.render(&mut out, file, soa)
            .map_err(|e| whole_file(file, format!("cannot format the YAML output: {e}")))?;
        Ok(out)
    }

    fn render(&self, out: &mut String, file: &Path, soa: &Soa) -> fmt::Result {
        let ttl = self.first_ttl.unwrap_or(soa.ttl);
        let source: String = file
            .display()
            .to_string()
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        writeln!(out, "# imported from {source} by dynadns import-zone")?;
        writeln!(out, "zone: {}", yaml_double(&self.zone_text))?;
        writeln!(out, "ttl: {ttl}")?;
        write!(
            out,
            "soa: {{ primary: {}, contact: {}, serial: {}, refresh: {}, retry: {}, expire: {}, negative_ttl: {}",
            yaml_double(&soa.primary),
            yaml_double(&soa.contact),
            soa.serial,
            soa.refresh,
            soa.retry,
            soa.expire,
            soa.minimum
        )?;
        if soa.ttl != ttl {
            write!(out, ", ttl: {}", soa.ttl)?;
        }
        writeln!(out, " }}")?;
        if self.owners.is_empty() {
            writeln!(out, "records: {{}}")?;
            return Ok(());
        }
        writeln!(out, "records:")?;
        for owner in &self.owners {
            let key = yaml_double(&owner.display);
            for rrset in owner.rrsets.iter().filter(|r| r.ttls.len() > 1) {
                let min = rrset.ttls.iter().min().copied().unwrap_or(ttl);
                let all: Vec<String> = rrset.ttls.iter().map(u32::to_string).collect();
                writeln!(
                    out,
                    "  # {key} {}: records have different TTLs ({}); using the smallest, {min} (RFC 2181 section 5.2)",
                    rrset.rtype,
                    all.join(", ")
                )?;
            }
            writeln!(out, "  {key}:")?;
            for rrset in &owner.rrsets {
                let data: Vec<String> = rrset
                    .items
                    .iter()
                    .map(|item| yaml_value(&item.value))
                    .collect();
                let data = format!("[{}]", data.join(", "));
                match rrset.ttls.iter().min().copied() {
                    Some(min) if min != ttl => {
                        writeln!(out, "    {}: {{ ttl: {min}, data: {data} }}", rrset.rtype)?;
                    }
                    _ => writeln!(out, "    {}: {data}", rrset.rtype)?,
                }
            }
        }
        Ok(())
    }
}

/// Parses a name token against the current `$ORIGIN`, reporting errors at the token.
fn name_token(ctx: &FileCtx<'_>, tok: &Token) -> Result<(Name, bool), MasterError> {
    if tok.quoted {
        return Err(error_at(
            ctx.file,
            tok.pos,
            "a domain name cannot be quoted",
        ));
    }
    parse_name(&tok.text, &ctx.origin).map_err(|m| error_at(ctx.file, tok.pos, m))
}

/// Normalises RFC 3597 `\# len hex...` to `\# len hex` with lowercase hex and no spaces.
fn generic_rdata(file: &Path, type_tok: &Token, rdata: &[Token]) -> Result<String, MasterError> {
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
fn txt_rdata(
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
            [one] if !one.is_empty() => Value::Text((*one).to_string()),
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
fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn yaml_value(value: &Value) -> String {
    match value {
        Value::Text(s) => yaml_double(s),
        Value::Strings(list) => {
            format!(
                "[{}]",
                list.iter()
                    .map(|s| yaml_double(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Value::Generic(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

/// A YAML 1.2 double-quoted scalar; anything outside YAML's printable set is escaped.
fn yaml_double(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c < '\u{20}' || ('\u{7f}'..='\u{9f}').contains(&c) => {
                out.push_str("\\x");
                out.push_str(&hex_lower(&u32::from(c).to_be_bytes()[3..]));
            }
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => {
                out.push_str("\\u");
                out.push_str(&hex_lower(&u32::from(c).to_be_bytes()[2..]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOA: &str = "@ 3600 IN SOA ns1 hostmaster 2026112301 3600 900 1209600 300\n";

    fn import(text: &str) -> Result<String, MasterError> {
        import_master_text(text, Path::new("test.zone"), "example.com")
    }

    fn import_ok(text: &str) -> String {
        match import(text) {
            Ok(yaml) => yaml,
            Err(e) => panic!("import failed: {e}\n--- input ---\n{text}"),
        }
    }

    fn import_err(text: &str) -> MasterError {
        match import(text) {
            Ok(yaml) => panic!("expected an error, got:\n{yaml}"),
            Err(e) => e,
        }
    }

    /// A fresh directory under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let dir = std::env::temp_dir().join(format!(
                "dynadns-master-{tag}-{}-{nanos}",
                std::process::id()
            ));
            fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            fs::write(&path, text).expect("write temp file");
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn full_example_output() {
        let yaml = import_ok(
            "$TTL 3600\n\
             @ IN SOA ns1 hostmaster 2026112301 3600 900 1209600 300\n\
             \x20 NS ns1\n\
             \x20 NS ns2\n\
             \x20 MX 10 mail\n\
             \x20 TXT \"v=spf1 -all\"\n\
             ns1 A 192.0.2.53\n\
             mail 60 A 192.0.2.25\n\
             mail 60 A 192.0.2.26\n\
             big TXT \"part one\" \"part two\"\n\
             bin TXT \"\\255\"\n",
        );
        assert_eq!(
            yaml,
            "# imported from test.zone by dynadns import-zone\n\
             zone: \"example.com\"\n\
             ttl: 3600\n\
             soa: { primary: \"ns1\", contact: \"hostmaster\", serial: 2026112301, refresh: 3600, retry: 900, expire: 1209600, negative_ttl: 300 }\n\
             records:\n\
             \x20 \"@\":\n\
             \x20   NS: [\"ns1\", \"ns2\"]\n\
             \x20   MX: [\"10 mail\"]\n\
             \x20   TXT: [\"v=spf1 -all\"]\n\
             \x20 \"ns1\":\n\
             \x20   A: [\"192.0.2.53\"]\n\
             \x20 \"mail\":\n\
             \x20   A: { ttl: 60, data: [\"192.0.2.25\", \"192.0.2.26\"] }\n\
             \x20 \"big\":\n\
             \x20   TXT: [[\"part one\", \"part two\"]]\n\
             \x20 \"bin\":\n\
             \x20   TYPE16: ['\\# 2 01ff']\n"
        );
    }

    #[test]
    fn origin_directive_and_absolute_origin_argument() {
        let yaml = import_master_text(
            &format!("{SOA}$ORIGIN sub.example.com.\nwww A 192.0.2.1\n$ORIGIN example.com.\nwww A 192.0.2.2\n"),
            Path::new("t.zone"),
            "example.com.",
        )
        .expect("import");
        assert!(yaml.contains("zone: \"example.com\"\n"), "{yaml}");
        assert!(
            yaml.contains("  \"www.sub\":\n    A: [\"192.0.2.1\"]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"www\":\n    A: [\"192.0.2.2\"]\n"),
            "{yaml}"
        );
    }

    #[test]
    fn ttl_directive_sets_default_and_zone_ttl() {
        let yaml = import_ok(&format!(
            "$TTL 1h\n{SOA}www A 192.0.2.1\n$TTL 300\nftp A 192.0.2.2\n"
        ));
        assert!(yaml.contains("ttl: 3600\n"), "{yaml}");
        assert!(
            yaml.contains("  \"www\":\n    A: [\"192.0.2.1\"]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"ftp\":\n    A: { ttl: 300, data: [\"192.0.2.2\"] }\n"),
            "{yaml}"
        );
    }

    #[test]
    fn zone_ttl_falls_back_to_soa_ttl_and_soa_ttl_is_emitted_when_different() {
        let yaml = import_ok(&format!("{SOA}www A 192.0.2.1\n"));
        assert!(yaml.contains("ttl: 3600\n"), "{yaml}");
        assert!(yaml.contains("negative_ttl: 300 }\n"), "{yaml}");
        let yaml = import_ok(&format!("$TTL 600\n{SOA}"));
        assert!(yaml.contains("ttl: 600\n"), "{yaml}");
        assert!(yaml.contains("negative_ttl: 300, ttl: 3600 }\n"), "{yaml}");
        assert!(yaml.ends_with("records: {}\n"), "{yaml}");
    }

    #[test]
    fn unknown_directive_is_an_error() {
        let e = import_err(&format!("{SOA}$GENERATE 1-10 host$ A 192.0.2.$\n"));
        assert_eq!((e.line, e.col), (2, 1));
        assert!(e.message.contains("unknown directive $GENERATE"), "{e}");
    }

    #[test]
    fn blank_owner_reuses_previous_owner() {
        let yaml = import_ok(&format!(
            "{SOA}www A 192.0.2.1\n\tAAAA 2001:db8::1\n  TXT \"hi\"\n"
        ));
        assert!(
            yaml.contains("  \"www\":\n    A: [\"192.0.2.1\"]\n    AAAA: [\"2001:db8::1\"]\n    TXT: [\"hi\"]\n"),
            "{yaml}"
        );
        let e = import_err(" A 192.0.2.1\n");
        assert_eq!((e.line, e.col), (1, 2));
        assert!(e.message.contains("no owner name"), "{e}");
    }

    #[test]
    fn ttl_and_class_in_either_order() {
        let yaml = import_ok(&format!(
            "{SOA}a 300 IN A 192.0.2.1\nb IN 300 A 192.0.2.2\nc A 192.0.2.3\nd in 1h30m a 192.0.2.4\ne CLASS1 TYPE1 \\# 4 C0000205\n"
        ));
        assert!(
            yaml.contains("  \"a\":\n    A: { ttl: 300, data: [\"192.0.2.1\"] }\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"b\":\n    A: { ttl: 300, data: [\"192.0.2.2\"] }\n"),
            "{yaml}"
        );
        // No TTL and no $TTL: the last explicit TTL (RFC 1035 section 5.1).
        assert!(
            yaml.contains("  \"c\":\n    A: { ttl: 300, data: [\"192.0.2.3\"] }\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"d\":\n    A: { ttl: 5400, data: [\"192.0.2.4\"] }\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"e\":\n    TYPE1: { ttl: 5400, data: ['\\# 4 c0000205'] }\n"),
            "{yaml}"
        );
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_duration("3600"), Some(3600));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("2d"), Some(172_800));
        assert_eq!(parse_duration("1W"), Some(604_800));
        assert_eq!(parse_duration("1h30"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("99999999999"), None);
        assert!(parse_ttl("2147483648").is_err());
    }

    #[test]
    fn non_in_class_is_an_error() {
        let e = import_err(&format!("{SOA}www 300 CH A 192.0.2.1\n"));
        assert_eq!((e.line, e.col), (2, 9));
        assert!(e.message.contains("class CH is not supported"), "{e}");
        let e = import_err(&format!("{SOA}www CLASS3 A 192.0.2.1\n"));
        assert!(e.message.contains("class CLASS3"), "{e}");
    }

    #[test]
    fn missing_and_unknown_type() {
        let e = import_err(&format!("{SOA}www 300 IN\n"));
        assert_eq!((e.line, e.col), (2, 11));
        assert_eq!(e.message, "missing record type");
        let e = import_err(&format!("{SOA}www 300 IN AA 192.0.2.1\n"));
        assert_eq!((e.line, e.col), (2, 12));
        assert!(e.message.contains("unknown record type 'AA'"), "{e}");
    }

    #[test]
    fn no_ttl_at_all_is_an_error() {
        let e = import_err("www A 192.0.2.1\n");
        assert_eq!((e.line, e.col), (1, 1));
        assert!(e.message.contains("no TTL"), "{e}");
    }

    #[test]
    fn soa_without_any_ttl_uses_its_minimum_and_so_do_later_records() {
        let yaml = import_ok("@ SOA ns1 hostmaster 1 2 3 4 300\nwww A 192.0.2.1\n");
        assert!(yaml.contains("ttl: 300\n"), "{yaml}");
        assert!(
            yaml.contains("  \"www\":\n    A: [\"192.0.2.1\"]\n"),
            "{yaml}"
        );
    }

    #[test]
    fn multi_line_soa_in_parentheses() {
        let yaml = import_ok(
            "$TTL 1d\n\
             @\tIN\tSOA\tns1.example.com. (  ; primary\n\
             \t\thostmaster.example.com. ; contact\n\
             \t\t2026112301 ; serial\n\
             \t\t1h         ; refresh\n\
             \t\t15m        ; retry\n\
             \t\t2w         ; expire\n\
             \t\t5m )       ; minimum\n\
             www A 192.0.2.1\n",
        );
        assert!(
            yaml.contains(
                "soa: { primary: \"ns1\", contact: \"hostmaster\", serial: 2026112301, refresh: 3600, retry: 900, expire: 1209600, negative_ttl: 300 }\n"
            ),
            "{yaml}"
        );
        assert!(yaml.contains("ttl: 86400\n"), "{yaml}");
        assert!(
            !yaml.contains("SOA:"),
            "SOA must not be repeated under records: {yaml}"
        );
    }

    #[test]
    fn soa_names_outside_zone_and_at_apex() {
        let yaml = import_ok("@ 60 SOA ns.other.net. @ 1 2 3 4 5\n");
        assert!(
            yaml.contains("primary: \"ns.other.net.\", contact: \"@\","),
            "{yaml}"
        );
    }

    #[test]
    fn soa_errors() {
        let e = import_err("www 60 A 192.0.2.1\n");
        assert_eq!(
            e.message,
            "no SOA record at the zone apex example.com; a zone file must start with one"
        );
        assert_eq!((e.line, e.col), (1, 1));
        let e = import_err(&format!("{SOA}sub 60 SOA ns1 hm 1 2 3 4 5\n"));
        assert_eq!(e.line, 2);
        assert!(e.message.contains("not at the zone apex"), "{e}");
        let e = import_err(&format!("{SOA}{SOA}"));
        assert!(e.message.contains("second SOA"), "{e}");
        let e = import_err("@ 60 SOA ns1 hm 1 2 3 4\n");
        assert!(e.message.contains("SOA needs 7 fields"), "{e}");
        let e = import_err("@ 60 SOA ns1 hm 1x 2 3 4 5\n");
        assert_eq!((e.line, e.col), (1, 17));
        assert!(e.message.contains("bad SOA serial"), "{e}");
        let e = import_err("");
        assert_eq!(e.line, 0);
        assert!(e.to_string().starts_with("test.zone: no SOA record"), "{e}");
    }

    #[test]
    fn comments_and_semicolons_inside_quotes() {
        let yaml = import_ok(&format!(
            "{SOA}; a comment line\nwww TXT \"a;b\" ; trailing comment\nwww CAA 0 issue \"ca.example; account=1\" ; x\n"
        ));
        assert!(yaml.contains("    TXT: [\"a;b\"]\n"), "{yaml}");
        assert!(
            yaml.contains("    CAA: [\"0 issue \\\"ca.example; account=1\\\"\"]\n"),
            "{yaml}"
        );
    }

    #[test]
    fn txt_strings_and_escapes() {
        let yaml = import_ok(&format!(
            "{SOA}a TXT \"say \\\"hi\\\"\" \nb TXT \"back\\\\slash\" \nc TXT \"\\065\\066C\" \nd TXT \"\"\ne TXT one two\nf TXT ( \"multi\"\n  \"line\" )\ng TXT \"tab\\009x\"\nh TXT caf\u{e9}\n"
        ));
        assert!(
            yaml.contains("  \"a\":\n    TXT: [\"say \\\"hi\\\"\"]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"b\":\n    TXT: [\"back\\\\slash\"]\n"),
            "{yaml}"
        );
        assert!(yaml.contains("  \"c\":\n    TXT: [\"ABC\"]\n"), "{yaml}");
        assert!(yaml.contains("  \"d\":\n    TXT: [[\"\"]]\n"), "{yaml}");
        assert!(
            yaml.contains("  \"e\":\n    TXT: [[\"one\", \"two\"]]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"f\":\n    TXT: [[\"multi\", \"line\"]]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"g\":\n    TXT: [\"tab\\x09x\"]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"h\":\n    TXT: [\"caf\u{e9}\"]\n"),
            "{yaml}"
        );
    }

    #[test]
    fn txt_too_long_string_is_an_error() {
        let long = "x".repeat(256);
        let e = import_err(&format!("{SOA}a TXT ok \"{long}\"\n"));
        assert_eq!((e.line, e.col), (2, 10));
        assert!(e.message.contains("256 bytes"), "{e}");
    }

    #[test]
    fn non_utf8_txt_becomes_generic_type16() {
        let yaml = import_ok(&format!(
            "{SOA}a TXT \"ok\" \"\\255\\000x\"\nb SPF \"\\200\"\nc TXT \"fine\"\n"
        ));
        assert!(
            yaml.contains("  \"a\":\n    TYPE16: ['\\# 7 026f6b03ff0078']\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"b\":\n    TYPE99: ['\\# 2 01c8']\n"),
            "{yaml}"
        );
        assert!(yaml.contains("  \"c\":\n    TXT: [\"fine\"]\n"), "{yaml}");
        // Raw (unescaped) non-UTF-8 bytes in a file are handled the same way.
        let mut raw = format!("{SOA}r TXT \"").into_bytes();
        raw.extend_from_slice(b"\xe9t\xe9\"\n");
        let dir = TempDir::new("raw");
        let path = dir.0.join("raw.zone");
        fs::write(&path, &raw).expect("write");
        let yaml = import_master_file(&path, "example.com").expect("import");
        assert!(
            yaml.contains("  \"r\":\n    TYPE16: ['\\# 4 03e974e9']\n"),
            "{yaml}"
        );
    }

    #[test]
    fn generic_rdata_is_normalised() {
        let yaml = import_ok(&format!(
            "{SOA}a A \\# 4 0A00 0001\nb TYPE64 \\# 3 ABCD ef\nc TYPE999 \\# 0\n"
        ));
        assert!(
            yaml.contains("  \"a\":\n    A: ['\\# 4 0a000001']\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"b\":\n    TYPE64: ['\\# 3 abcdef']\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"c\":\n    TYPE999: ['\\# 0']\n"),
            "{yaml}"
        );
        let e = import_err(&format!("{SOA}a A \\# 5 0a000001\n"));
        assert_eq!((e.line, e.col), (2, 8));
        assert!(e.message.contains("does not match"), "{e}");
        let e = import_err(&format!("{SOA}a A \\# 4 0a00000g\n"));
        assert_eq!((e.line, e.col), (2, 10));
    }

    #[test]
    fn names_with_escapes_are_preserved() {
        let yaml = import_ok(&format!(
            "{SOA}john\\.doe A 192.0.2.1\n\\065bc CNAME john\\.doe\n@ 60 SOA ns1 john\\.doe 1 2 3 4 5\n"
        )
        .replace("@ 60 SOA ns1 john\\.doe 1 2 3 4 5\n", ""));
        assert!(
            yaml.contains("  \"john\\\\.doe\":\n    A: [\"192.0.2.1\"]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"\\\\065bc\":\n    CNAME: [\"john\\\\.doe\"]\n"),
            "{yaml}"
        );
        let yaml = import_ok("@ 60 SOA ns1 john\\.doe 1 2 3 4 5\n");
        assert!(yaml.contains("contact: \"john\\\\.doe\""), "{yaml}");
    }

    #[test]
    fn quoted_and_plain_rdata_tokens_are_normalised() {
        let yaml = import_ok(&format!(
            "{SOA}pc HINFO \"PC\"   \"Linux\"\n_sip._tcp SRV ( 10 60\n 5060 sip ) ; c\nrp RP @ .\n"
        ));
        assert!(
            yaml.contains("    HINFO: [\"\\\"PC\\\" \\\"Linux\\\"\"]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"_sip._tcp\":\n    SRV: [\"10 60 5060 sip\"]\n"),
            "{yaml}"
        );
        assert!(yaml.contains("    RP: [\"@ .\"]\n"), "{yaml}");
    }

    #[test]
    fn relative_names_are_rewritten_when_origin_changes() {
        let yaml = import_ok(&format!(
            "{SOA}$ORIGIN sub.example.com.\n\
             www A 192.0.2.1\n\
             alias CNAME www\n\
             @ MX 10 mail\n\
             srv SRV 0 0 80 @\n\
             abs CNAME www.example.com.\n\
             $ORIGIN other.net.\n\
             x CNAME y\n\
             $ORIGIN EXAMPLE.COM.\n\
             back CNAME www.sub\n"
        ));
        assert!(
            yaml.contains("  \"alias.sub\":\n    CNAME: [\"www.sub\"]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"sub\":\n    MX: [\"10 mail.sub\"]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"srv.sub\":\n    SRV: [\"0 0 80 sub\"]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"abs.sub\":\n    CNAME: [\"www.example.com.\"]\n"),
            "{yaml}"
        );
        // Outside the zone: the owner and the target become absolute.
        assert!(
            yaml.contains("  \"x.other.net.\":\n    CNAME: [\"y.other.net.\"]\n"),
            "{yaml}"
        );
        // Same origin in another case: names stay as written.
        assert!(
            yaml.contains("  \"back\":\n    CNAME: [\"www.sub\"]\n"),
            "{yaml}"
        );
    }

    #[test]
    fn rrset_grouping_ttls_and_duplicates() {
        let yaml = import_ok(&format!(
            "$TTL 3600\n{SOA}www 300 A 192.0.2.1\nmail A 192.0.2.9\nwww 60 A 192.0.2.2\nWWW 300 A 192.0.2.1\nwww MX 10 Mail\nwww MX 10 mail.\nwww MX 10 MAIL\n"
        ));
        assert!(
            yaml.contains(
                "  # \"www\" A: records have different TTLs (300, 60); using the smallest, 60 (RFC 2181 section 5.2)\n\
                 \x20 \"www\":\n\
                 \x20   A: { ttl: 60, data: [\"192.0.2.1\", \"192.0.2.2\"] }\n\
                 \x20   MX: [\"10 Mail\", \"10 mail.\"]\n\
                 \x20 \"mail\":\n"
            ),
            "{yaml}"
        );
    }

    #[test]
    fn owner_outside_zone_stays_absolute() {
        let yaml = import_ok(&format!(
            "{SOA}www.example.net. A 192.0.2.1\nwww.example.com. A 192.0.2.2\n"
        ));
        assert!(yaml.contains("  \"www.example.net.\":\n"), "{yaml}");
        assert!(yaml.contains("  \"www\":\n"), "{yaml}");
    }

    #[test]
    fn error_position_for_bad_ttl() {
        let e = import_err(&format!("{SOA}www 1x A 192.0.2.1\n"));
        assert_eq!((e.line, e.col), (2, 5));
        assert!(e.message.starts_with("bad TTL '1x'"), "{e}");
        assert_eq!(e.to_string(), format!("test.zone:2:5: {}", e.message));
        let e = import_err("$TTL forever\n");
        assert_eq!((e.line, e.col), (1, 6));
    }

    #[test]
    fn error_position_for_unterminated_quote() {
        let e = import_err(&format!(
            "{SOA}www TXT \"ok\" \"never closed\nnext A 192.0.2.1\n"
        ));
        assert_eq!((e.line, e.col), (2, 14));
        assert!(e.message.contains("unterminated quoted string"), "{e}");
    }

    #[test]
    fn parenthesis_errors() {
        let e = import_err(&format!("{SOA}www TXT ( \"a\"\n\"b\"\n"));
        assert_eq!((e.line, e.col), (2, 9));
        assert!(e.message.contains("unterminated parenthesis"), "{e}");
        let e = import_err(&format!("{SOA}www TXT \"a\" )\n"));
        assert_eq!((e.line, e.col), (2, 13));
        let e = import_err(&format!("{SOA}www TXT ( ( \"a\" ) )\n"));
        assert!(e.message.contains("nested"), "{e}");
    }

    #[test]
    fn bad_escapes_are_errors() {
        let e = import_err(&format!("{SOA}www TXT \"\\25x\"\n"));
        assert_eq!((e.line, e.col), (2, 10));
        let e = import_err(&format!("{SOA}www TXT \\300\n"));
        assert!(e.message.contains("at most 255"), "{e}");
    }

    #[test]
    fn include_with_its_own_origin() {
        let dir = TempDir::new("include");
        fs::create_dir_all(dir.0.join("sub")).expect("mkdir");
        dir.write(
            "sub/hosts.inc",
            "www A 192.0.2.1\n  AAAA 2001:db8::1\nalias CNAME www\n$ORIGIN deeper.example.com.\nx A 192.0.2.3\n",
        );
        let main = dir.write(
            "example.com.zone",
            &format!(
                "$TTL 3600\n{SOA}$INCLUDE \"sub/hosts.inc\" lab\n  A 192.0.2.2\nafter A 192.0.2.4\n"
            ),
        );
        let yaml = import_master_file(&main, "example.com").expect("import");
        assert!(
            yaml.contains("  \"www.lab\":\n    A: [\"192.0.2.1\"]\n    AAAA: [\"2001:db8::1\"]\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("  \"alias.lab\":\n    CNAME: [\"www.lab\"]\n"),
            "{yaml}"
        );
        assert!(yaml.contains("  \"x.deeper\":\n"), "{yaml}");
        // After the include, the owner reverts to the one before it (the apex) and the origin too.
        assert!(
            yaml.contains("  \"@\":\n    A: [\"192.0.2.2\"]\n"),
            "{yaml}"
        );
        assert!(yaml.contains("  \"after\":\n"), "{yaml}");
    }

    #[test]
    fn include_not_found() {
        let dir = TempDir::new("missing");
        let main = dir.write("z.zone", &format!("{SOA}$INCLUDE nope.inc\n"));
        let e = import_master_file(&main, "example.com").expect_err("missing include");
        assert_eq!((e.file.clone(), e.line, e.col), (main, 2, 10));
        assert!(e.message.contains("cannot read included file"), "{e}");
    }

    #[test]
    fn include_loop_is_an_error() {
        let dir = TempDir::new("loop");
        dir.write("a.inc", "a A 192.0.2.1\n$INCLUDE b.inc\n");
        let b = dir.write("b.inc", "b A 192.0.2.2\n$INCLUDE a.inc\n");
        let main = dir.write("z.zone", &format!("{SOA}$INCLUDE a.inc\n"));
        let e = import_master_file(&main, "example.com").expect_err("loop");
        assert_eq!((e.file.clone(), e.line, e.col), (b, 2, 10));
        assert!(e.message.contains("include loop"), "{e}");
        // A file including itself is a loop too.
        let selfish = dir.write("self.zone", &format!("{SOA}$INCLUDE self.zone\n"));
        let e = import_master_file(&selfish, "example.com").expect_err("self loop");
        assert!(e.message.contains("include loop"), "{e}");
    }

    #[test]
    fn include_depth_is_limited() {
        let dir = TempDir::new("depth");
        for i in 0..20 {
            dir.write(
                &format!("{i}.inc"),
                &format!("h{i} A 192.0.2.1\n$INCLUDE {}.inc\n", i + 1),
            );
        }
        dir.write("20.inc", "last A 192.0.2.1\n");
        let main = dir.write("z.zone", &format!("{SOA}$INCLUDE 0.inc\n"));
        let e = import_master_file(&main, "example.com").expect_err("too deep");
        assert!(e.message.contains("nested more than 16"), "{e}");
    }

    #[test]
    fn missing_file_and_bad_origin() {
        let e = import_master_file(Path::new("/nonexistent/dynadns/zone"), "example.com")
            .expect_err("missing");
        assert_eq!(e.line, 0);
        assert!(
            e.to_string()
                .starts_with("/nonexistent/dynadns/zone: cannot read zone file"),
            "{e}"
        );
        let e = import_master_text(SOA, Path::new("t"), "a..b").expect_err("bad origin");
        assert!(e.message.contains("bad zone origin"), "{e}");
    }

    #[test]
    fn yaml_double_quoting() {
        assert_eq!(yaml_double("plain"), "\"plain\"");
        assert_eq!(yaml_double("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(
            yaml_double("\n\u{7f}\u{85}\u{2028}"),
            "\"\\x0a\\x7f\\x85\\u2028\""
        );
        assert_eq!(yaml_value(&Value::Generic("it's".into())), "'it''s'");
    }

    /// Runs the importer over real zone files from other servers' test suites.
    fn conformance(rel: &str, origin: &str) -> Option<String> {
        let path = Path::new(rel);
        if !path.exists() {
            eprintln!("skipping: {rel} not found (run from the repository root)");
            return None;
        }
        match import_master_file(path, origin) {
            Ok(yaml) => Some(yaml),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn conformance_nsd_unsigned() {
        let Some(yaml) = conformance(
            "../shared/conformance/nsd-tpkg/qtest/unsigned.zone",
            "example.org",
        ) else {
            return;
        };
        assert!(yaml.contains("ttl: 86400\n"), "{yaml}");
        assert!(
            yaml.contains("soa: { primary: \"a.ns\", contact: \"hostmaster\", serial: 2011030200,"),
            "{yaml}"
        );
        assert!(
            yaml.contains(
                "  \"a.ns\":\n    A: { ttl: 3600, data: [\"1.2.3.53\", \"1.2.3.54\"] }\n"
            ),
            "{yaml}"
        );
    }

    #[test]
    fn conformance_knot_flags() {
        let Some(yaml) = conformance(
            "../shared/conformance/knot-tests-extra/data__flags.zone",
            "flags.",
        ) else {
            return;
        };
        assert!(yaml.contains("zone: \"flags\"\n"), "{yaml}");
        assert!(
            yaml.contains("    NS: [\"dns1\", \"dns.out-of-zone.\", \"dns2\"]\n"),
            "{yaml}"
        );
        assert!(yaml.contains("    TYPE10: ['\\# 0']\n"), "{yaml}");
        assert!(
            yaml.contains("    TYPE64: ['\\# 19 000009737663622d6c6f6f7005666c61677300']\n"),
            "{yaml}"
        );
    }

    #[test]
    fn conformance_knot_records() {
        let Some(yaml) = conformance(
            "../shared/conformance/knot-tests-extra/data__records.zone",
            "records",
        ) else {
            return;
        };
        assert!(yaml.contains("contact: \"HOSTmaster\""), "{yaml}");
        assert!(
            yaml.contains("  \"dupl\":\n    MX: [\"10 some.domain\"]\n"),
            "{yaml}"
        );
        assert!(yaml.contains("  \"origin-case\":\n"), "{yaml}");
        assert!(yaml.contains("[\"\", \"ahoj\", \"\\\" #\"]"), "{yaml}");
        assert!(yaml.contains("  \"\\\\035leading.hash.char\":\n"), "{yaml}");
    }
}
