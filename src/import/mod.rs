//! RFC 1035 master-file ("zone file") reader behind `dynadns import-zone`.
//!
//! Operators migrating from BIND, NSD or Knot have their zones as master files. This module
//! reads one (following `$INCLUDE`) and turns it into dynadns zone YAML. It keeps names and
//! RDATA in presentation form, as written; only what the YAML schema needs is interpreted here
//! (owners, TTLs, the SOA, TXT strings, names inside RDATA, RFC 3597 generic RDATA). Record
//! types come from the shared table [`crate::wire::RECORD_TYPES`], and every record's RDATA is
//! read with the zone loader's own parser ([`crate::zone::rdata::parse`]) before it is written:
//! a record the loader would refuse is an import error at the record's line and column. The
//! rules between names (CNAME beside other data, glue, occlusion, RRset sizes) are `check`'s,
//! run on the output.
//!
//! Layout: `lexer` (bytes → tokens), `names` (presentation names), `rdata` (types, TTLs,
//! TXT, generic data), `writer` (the YAML); this file holds directives and RRset grouping.
//!
//! Deliberate simplifications, so operators are not surprised:
//! - A record without a TTL takes the `$TTL` in effect, else the last explicit TTL seen
//!   (RFC 1035 §5.1), else the apex SOA's minimum field once the SOA has been read (what BIND
//!   does for files without `$TTL`); with none of these it is an error.
//! - `$TTL` is global: one set in an included file stays in effect afterwards, whereas
//!   `$ORIGIN` and the "previous owner" revert when an included file ends (RFC 1035 §5.1).
//! - Types are emitted under the mnemonic as written (`TYPE1` is not folded into `A`).
//! - Only class IN is accepted; names outside the zone are refused (as `check` would).
//! - Owners are grouped case-insensitively (first spelling wins); duplicate records are dropped
//!   when their RDATA is identical, comparing names inside RDATA case-insensitively.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Pos};
use lexer::{Entry, Lexer, Token};
use names::{Name, parse_name};
use rdata::{
    Rdata, Value, class_kind, generic_rdata, name_fields, parse_ttl, parse_type, txt_rdata,
};

/// How deep `$INCLUDE` may nest, so a runaway chain of files fails fast.
const MAX_INCLUDE_DEPTH: usize = 16;

/// A problem in a master file: a [`Diagnostic`] at the token an operator has to fix (line
/// and column 0 when it concerns the file as a whole, e.g. it cannot be read), printed as
/// `FILE:LINE:COL: error: MESSAGE` like every error of `check`.
pub type MasterError = Diagnostic;

/// Read FILE (following $INCLUDE relative to the including file's directory) and return zone YAML.
///
/// `origin` is the zone name (`example.com` or `example.com.`); it is the initial `$ORIGIN`.
///
/// # Errors
///
/// Returns a [`MasterError`] when a file cannot be read, the master-file syntax is wrong, a
/// record cannot be represented, or the zone apex has no SOA.
pub fn import_master_file(path: &Path, origin: &str) -> Result<String, MasterError> {
    let data = crate::fsread::read_bounded(path, crate::fsread::DEFAULT_MAX_FILE_SIZE)
        .map_err(|e| whole_file(path, format!("cannot read zone file: {e}")))?;
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
    Diagnostic::new(file, Pos::default(), message)
}

fn error_at(file: &Path, pos: Pos, message: impl Into<String>) -> MasterError {
    Diagnostic::new(file, pos, message)
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

mod lexer;
mod names;
mod rdata;
#[cfg(test)]
mod tests;
mod writer;

// ---------------------------------------------------------------------------------------------
// Importer
// ---------------------------------------------------------------------------------------------

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
        let cannot_read = |e: &dyn std::fmt::Display| {
            error_at(
                file,
                file_tok.pos,
                format!("cannot read included file {}: {e}", path.display()),
            )
        };
        let canonical = fs::canonicalize(&path).map_err(|e| cannot_read(&e))?;
        if self.include_stack.contains(&canonical) {
            return Err(error_at(
                file,
                file_tok.pos,
                format!("include loop: {} is already being read", path.display()),
            ));
        }
        let data = crate::fsread::read_bounded(&path, crate::fsread::DEFAULT_MAX_FILE_SIZE)
            .map_err(|e| cannot_read(&e))?;
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
        if owner.prefix_len(&self.zone).is_none() {
            return Err(error_at(
                file,
                first.pos,
                format!(
                    "{} is outside the zone {}; a zone file holds only names at or below its apex (RFC 1034 §4.3.4)",
                    owner.absolute(),
                    self.zone.absolute()
                ),
            ));
        }

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
        let (code, rtype) =
            parse_type(&type_tok.text).map_err(|m| error_at(file, type_tok.pos, m))?;
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
            self.validate(
                file,
                code,
                &rtype,
                &text,
                rdata.first().map_or(type_tok.end, |t| t.pos),
            )?;
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
                self.plain_rdata(ctx, type_tok, code, &rtype, rdata)?,
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
        // Refresh, retry and expire are 32-bit intervals; the minimum is a TTL (RFC 2308 §4).
        let timer = |tok: &Token, what: &str, max: u32| match crate::duration::parse_seconds(
            &tok.text, max,
        ) {
            Ok(v) if !tok.quoted => Ok(v),
            Ok(_) => Err(error_at(
                file,
                tok.pos,
                format!("bad SOA {what} '{}'", tok.text),
            )),
            Err(e) => Err(error_at(
                file,
                tok.pos,
                format!("bad SOA {what} '{}': {e}", tok.text),
            )),
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
        let minimum = timer(minimum, "minimum", crate::duration::MAX_TTL)?;
        let soa = Soa {
            primary: name_token(ctx, mname)?.0.relative_to(&self.zone),
            contact: name_token(ctx, rname)?.0.relative_to(&self.zone),
            serial: serial_value,
            refresh: timer(refresh, "refresh", u32::MAX)?,
            retry: timer(retry, "retry", u32::MAX)?,
            expire: timer(expire, "expire", u32::MAX)?,
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
        code: u16,
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
        let fields = name_fields(code);
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
        let text = parts.join(" ");
        let at = rdata.first().map_or(type_tok.end, |t| t.pos);
        self.validate(ctx.file, code, rtype, &text, at)?;
        Ok(Rdata {
            value: Value::Text(text),
            key,
        })
    }

    /// Reads the RDATA text exactly as the zone loader will read the YAML written for it, so
    /// `check` accepts every record `import-zone` prints; a problem is reported here, at `at`.
    fn validate(
        &self,
        file: &Path,
        code: u16,
        rtype: &str,
        text: &str,
        at: Pos,
    ) -> Result<(), MasterError> {
        let has_text_form = crate::wire::record_type(code).is_some_and(|r| r.fields.is_some());
        match crate::zone::rdata::parse(code, text, &self.zone.canonical()) {
            Ok(_) => Ok(()),
            Err(_) if !has_text_form && !text.starts_with("\\#") => Err(error_at(
                file,
                at,
                format!(
                    "dynadns reads {rtype} data only in RFC 3597 generic form; write it as \\# LENGTH HEX"
                ),
            )),
            Err(e) => Err(error_at(
                file,
                at,
                format!("bad {rtype} data '{text}': {e}"),
            )),
        }
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
