//! Domain names as the importer needs them: presentation text kept label by label (so
//! output is written the way the operator wrote it) plus a lowercased key for comparison.
//!
//! The wire-format name model used by the server is [`crate::wire::name`]; this one exists
//! because the YAML the importer writes is presentation text, relative to the zone.

use crate::wire::name::MAX_NAME_LEN as MAX_NAME;

/// Longest label in bytes (RFC 1035 §2.3.4).
const MAX_LABEL: usize = 63;

/// A label: its presentation text as written, and its decoded, lowercased bytes for comparison.
#[derive(Debug, Clone, Default)]
pub(super) struct Label {
    pub(super) text: String,
    pub(super) key: Vec<u8>,
}

/// An absolute domain name (the root has no labels).
#[derive(Debug, Clone, Default)]
pub(super) struct Name {
    pub(super) labels: Vec<Label>,
}

impl Name {
    /// DNS names compare case-insensitively.
    pub(super) fn same(&self, other: &Name) -> bool {
        self.labels.len() == other.labels.len()
            && self
                .labels
                .iter()
                .zip(&other.labels)
                .all(|(a, b)| a.key == b.key)
    }

    /// Number of labels in front of `zone` when the name is at or below it.
    pub(super) fn prefix_len(&self, zone: &Name) -> Option<usize> {
        let n = self.labels.len().checked_sub(zone.labels.len())?;
        let suffix = self.labels.get(n..)?;
        suffix
            .iter()
            .zip(&zone.labels)
            .all(|(a, b)| a.key == b.key)
            .then_some(n)
    }

    /// Presentation form relative to `zone` (`@` for the apex), or absolute when outside it.
    pub(super) fn relative_to(&self, zone: &Name) -> String {
        match self.prefix_len(zone) {
            Some(0) => "@".to_string(),
            Some(n) => join_labels(self.labels.get(..n).unwrap_or_default()),
            None => self.absolute(),
        }
    }

    /// Absolute presentation form with the trailing dot.
    pub(super) fn absolute(&self) -> String {
        if self.labels.is_empty() {
            ".".to_string()
        } else {
            format!("{}.", join_labels(&self.labels))
        }
    }

    /// Lowercased wire form, used as a case-insensitive key.
    pub(super) fn canonical(&self) -> Vec<u8> {
        let mut wire = Vec::new();
        for label in &self.labels {
            wire.push(u8::try_from(label.key.len()).unwrap_or(u8::MAX));
            wire.extend_from_slice(&label.key);
        }
        wire.push(0);
        wire
    }
}

pub(super) fn join_labels(labels: &[Label]) -> String {
    labels
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// Parses a name in presentation form; relative names are completed with `origin`.
/// Returns the name and whether it was written absolute.
pub(super) fn parse_name(text: &str, origin: &Name) -> Result<(Name, bool), String> {
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

pub(super) fn push_char(label: &mut Label, c: char) {
    label.text.push(c);
    let mut buf = [0u8; 4];
    label.key.extend(
        c.encode_utf8(&mut buf)
            .bytes()
            .map(|b| b.to_ascii_lowercase()),
    );
}
