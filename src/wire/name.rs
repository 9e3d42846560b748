//! Domain names in wire form (RFC 1035 §3.1): reading them from packets, comparing them without
//! regard to ASCII case, and converting to and from presentation text.
//!
//! Inside dynadns a name is its uncompressed wire encoding (`\x03www\x07example\x03com\x00`).
//! Lookup keys are the lowercased encoding, so a hash lookup is a byte comparison.

use std::fmt::Write as _;

/// Longest encoded name (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Longest label.
pub const MAX_LABEL_LEN: usize = 63;

/// Why a name in a packet could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The packet ends inside the name.
    Truncated,
    /// A label length byte uses the reserved 0x40/0x80 prefixes.
    BadLabelType,
    /// The name is longer than 255 bytes.
    TooLong,
    /// A compression pointer that does not point strictly backwards, or too many pointers.
    BadPointer,
}

/// Reads a possibly compressed name at `pos`, writing its lowercased uncompressed encoding into
/// `out`. Returns the encoded length and the position just after the name in the packet.
pub fn read_name_lower(
    msg: &[u8],
    mut pos: usize,
    out: &mut [u8; MAX_NAME_LEN],
) -> Result<(usize, usize), NameError> {
    let mut len = 0usize;
    let mut after = None;
    let mut jumps = 0;
    loop {
        let l = *msg.get(pos).ok_or(NameError::Truncated)? as usize;
        match l & 0xC0 {
            0x00 => {
                if len + l + 1 > MAX_NAME_LEN {
                    return Err(NameError::TooLong);
                }
                let label = msg.get(pos + 1..pos + 1 + l).ok_or(NameError::Truncated)?;
                out[len] = l as u8;
                for (o, b) in out[len + 1..len + 1 + l].iter_mut().zip(label) {
                    *o = b.to_ascii_lowercase();
                }
                len += l + 1;
                pos += l + 1;
                if l == 0 {
                    return Ok((len, after.unwrap_or(pos)));
                }
            }
            0xC0 => {
                let lo = *msg.get(pos + 1).ok_or(NameError::Truncated)? as usize;
                let target = ((l & 0x3F) << 8) | lo;
                jumps += 1;
                if target >= pos || jumps > 64 {
                    return Err(NameError::BadPointer);
                }
                if after.is_none() {
                    after = Some(pos + 2);
                }
                pos = target;
            }
            _ => return Err(NameError::BadLabelType),
        }
    }
}

/// Skips over a possibly compressed name, returning the position after it.
pub fn skip_name(msg: &[u8], mut pos: usize) -> Result<usize, NameError> {
    let mut total = 0usize;
    loop {
        let l = *msg.get(pos).ok_or(NameError::Truncated)? as usize;
        match l & 0xC0 {
            0x00 => {
                total += l + 1;
                if total > MAX_NAME_LEN {
                    return Err(NameError::TooLong);
                }
                if pos + 1 + l > msg.len() {
                    return Err(NameError::Truncated);
                }
                pos += l + 1;
                if l == 0 {
                    return Ok(pos);
                }
            }
            0xC0 => {
                if pos + 2 > msg.len() {
                    return Err(NameError::Truncated);
                }
                return Ok(pos + 2);
            }
            _ => return Err(NameError::BadLabelType),
        }
    }
}

/// Whether the name stored at `off` in `msg` (following pointers) equals `name`, ignoring case.
/// Used by response compression; `msg` is our own output, so pointers are well formed, but the
/// walk is bounded anyway.
pub fn equals_at(msg: &[u8], mut off: usize, name: &[u8]) -> bool {
    let mut i = 0usize;
    let mut jumps = 0;
    loop {
        let Some(&l) = msg.get(off) else { return false };
        if l & 0xC0 == 0xC0 {
            let Some(&lo) = msg.get(off + 1) else {
                return false;
            };
            off = (((l & 0x3F) as usize) << 8) | lo as usize;
            jumps += 1;
            if jumps > 64 {
                return false;
            }
            continue;
        }
        let l = l as usize;
        if name.get(i) != Some(&(l as u8)) {
            return false;
        }
        if l == 0 {
            return true;
        }
        let (Some(a), Some(b)) = (msg.get(off + 1..off + 1 + l), name.get(i + 1..i + 1 + l)) else {
            return false;
        };
        if !a.eq_ignore_ascii_case(b) {
            return false;
        }
        off += l + 1;
        i += l + 1;
    }
}

/// Offsets of each label in an encoded name, from the first label to the root.
/// Returns the number of labels including the root label.
pub fn label_offsets(name: &[u8], out: &mut [u8; 128]) -> usize {
    let mut n = 0;
    let mut i = 0usize;
    while i < name.len() && n < out.len() {
        out[n] = i as u8;
        n += 1;
        let l = name[i] as usize;
        if l == 0 {
            break;
        }
        i += l + 1;
    }
    n
}

/// Whether `name` is `ancestor` or below it (both encoded, both lowercase).
pub fn is_subdomain(name: &[u8], ancestor: &[u8]) -> bool {
    if ancestor.len() > name.len() {
        return false;
    }
    let start = name.len() - ancestor.len();
    if name[start..] != *ancestor {
        return false;
    }
    // The suffix must start on a label boundary.
    let mut i = 0usize;
    while i < start {
        i += name[i] as usize + 1;
    }
    i == start
}

/// Lowercased copy of an encoded name.
pub fn to_lower(name: &[u8]) -> Vec<u8> {
    name.iter().map(u8::to_ascii_lowercase).collect()
}

/// Presentation form of an encoded name, with a trailing dot (`www.example.com.`).
pub fn to_text(name: &[u8]) -> String {
    let mut s = String::new();
    let mut i = 0usize;
    while i < name.len() {
        let l = name[i] as usize;
        if l == 0 {
            break;
        }
        for &b in name.get(i + 1..i + 1 + l).unwrap_or_default() {
            match b {
                b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                    s.push('\\');
                    s.push(b as char);
                }
                0x21..=0x7E => s.push(b as char),
                _ => {
                    let _ = write!(s, "\\{b:03}");
                }
            }
        }
        s.push('.');
        i += l + 1;
    }
    if s.is_empty() {
        s.push('.');
    }
    s
}

/// Parses a presentation-form name. Names without a trailing dot are relative to `origin`
/// (encoded); `@` is the origin itself. Accepts `\.`, `\X` and `\DDD` escapes.
pub fn from_text(text: &str, origin: &[u8]) -> Result<Vec<u8>, String> {
    if text == "@" {
        return Ok(origin.to_vec());
    }
    if text.is_empty() {
        return Err("empty name".into());
    }
    if text == "." {
        return Ok(vec![0]);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(text.len() + 2 + origin.len());
    let mut label: Vec<u8> = Vec::with_capacity(63);
    let mut i = 0usize;
    let mut absolute = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'.' => {
                if label.is_empty() {
                    return Err(format!("empty label in '{text}'"));
                }
                push_label(&mut out, &label, text)?;
                label.clear();
                if i + 1 == bytes.len() {
                    absolute = true;
                }
                i += 1;
            }
            b'\\' => {
                let (byte, used) =
                    decode_escape(&bytes[i + 1..]).map_err(|e| format!("{e} in name '{text}'"))?;
                label.push(byte);
                i += 1 + used;
            }
            _ => {
                label.push(b);
                i += 1;
            }
        }
    }
    if !label.is_empty() {
        push_label(&mut out, &label, text)?;
    }
    if absolute {
        out.push(0);
    } else {
        out.extend_from_slice(origin);
    }
    if out.len() > MAX_NAME_LEN {
        return Err(format!("name '{text}' is longer than 255 bytes"));
    }
    Ok(out)
}

/// Decodes the escape after a backslash in presentation text: `\DDD` (a decimal byte) or
/// `\X` (X itself). Returns the byte and how many bytes after the backslash it used. Names
/// and character-strings share this rule (RFC 1035 §5.1).
pub fn decode_escape(rest: &[u8]) -> Result<(u8, usize), String> {
    if rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit) {
        let v: u32 = rest[..3]
            .iter()
            .fold(0, |a, d| a * 10 + u32::from(d - b'0'));
        return u8::try_from(v)
            .map(|b| (b, 3))
            .map_err(|_| format!("escape \\{v} is not a byte"));
    }
    match rest.first() {
        Some(&c) => Ok((c, 1)),
        None => Err("a lone backslash at the end".into()),
    }
}

fn push_label(out: &mut Vec<u8>, label: &[u8], text: &str) -> Result<(), String> {
    if label.len() > MAX_LABEL_LEN {
        return Err(format!("label longer than 63 bytes in '{text}'"));
    }
    out.push(label.len() as u8);
    out.extend_from_slice(label);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> Vec<u8> {
        from_text(s, &[0]).unwrap()
    }

    #[test]
    fn text_round_trip_with_escapes() {
        let n = enc("a\\.b.Example.COM.");
        assert_eq!(n, b"\x03a.b\x07Example\x03COM\x00");
        assert_eq!(to_text(&n), "a\\.b.Example.COM.");
        assert_eq!(to_text(&enc("\\000x.")), "\\000x.");
        assert_eq!(to_text(&[0]), ".");
    }

    #[test]
    fn relative_names_and_at() {
        let origin = enc("example.com.");
        assert_eq!(from_text("www", &origin).unwrap(), enc("www.example.com."));
        assert_eq!(from_text("@", &origin).unwrap(), origin);
        assert!(from_text("a..b", &origin).is_err());
        assert!(from_text(&"x".repeat(64), &origin).is_err());
    }

    #[test]
    fn read_name_follows_backward_pointers_only() {
        let mut msg = vec![0u8; 12];
        msg.extend_from_slice(b"\x03WWW\x07example\x03com\x00");
        let ptr_at = msg.len();
        msg.extend_from_slice(&[0x01, b'x', 0xC0, 16]);
        let mut out = [0u8; MAX_NAME_LEN];
        let (len, next) = read_name_lower(&msg, ptr_at, &mut out).unwrap();
        assert_eq!(&out[..len], b"\x01x\x07example\x03com\x00");
        assert_eq!(next, msg.len());
        // A pointer to itself is rejected.
        let mut bad = vec![0u8; 12];
        bad.extend_from_slice(&[0xC0, 12]);
        assert_eq!(
            read_name_lower(&bad, 12, &mut out),
            Err(NameError::BadPointer)
        );
    }

    #[test]
    fn subdomain_respects_label_boundaries() {
        assert!(is_subdomain(&enc("a.example.com."), &enc("example.com.")));
        assert!(is_subdomain(&enc("example.com."), &enc("example.com.")));
        assert!(!is_subdomain(&enc("aexample.com."), &enc("example.com.")));
        assert!(is_subdomain(&enc("x."), &[0]));
    }

    #[test]
    fn equals_at_ignores_case_and_follows_pointers() {
        let mut msg = vec![0u8; 12];
        msg.extend_from_slice(b"\x07Example\x03com\x00\x03www\xC0\x0C");
        assert!(equals_at(&msg, 12, b"\x07example\x03COM\x00"));
        assert!(equals_at(&msg, 25, b"\x03www\x07example\x03com\x00"));
        assert!(!equals_at(&msg, 25, b"\x03www\x07example\x03org\x00"));
    }
}
