//! Writing the imported zone as dynadns zone YAML.
//!
//! Every value is quoted (double quotes with YAML escapes, or single quotes for the RFC 3597
//! generic form), so no record data is ever re-typed by a YAML parser.

use std::fmt::{self, Write as _};
use std::path::Path;

use super::rdata::{Value, hex_lower};
use super::{Importer, MasterError, Soa, error_at, whole_file};

impl Importer {
    pub(super) fn to_yaml(&self, file: &Path) -> Result<String, MasterError> {
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

pub(super) fn yaml_value(value: &Value) -> String {
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
pub(super) fn yaml_double(s: &str) -> String {
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
