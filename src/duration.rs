//! The one parser for durations and TTLs, shared by the server file, zone files and the
//! master-file importer.
//!
//! Operators write time the way BIND and NSD taught them: plain seconds (`3600`) or numbers
//! with units, possibly combined (`1h30m`, `2d`, `1w`). The server file also takes `ms` and
//! fractions (`500ms`, `1.5s`) for probe timings. One grammar for all of them means a value
//! that works in one file works in the other, and every caller gets the same precise error:
//! "not a duration" is told apart from "out of range".

use std::fmt;
use std::time::Duration;

/// Largest TTL (RFC 2181 §8: the top bit of the 32-bit field must be zero).
pub const MAX_TTL: u32 = 0x7FFF_FFFF;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// The text is not a number or a number with units.
    Syntax,
    /// The text is a duration, but larger than `max` seconds.
    OutOfRange {
        /// The largest value accepted, in seconds.
        max: u64,
    },
    /// A fraction or milliseconds where only whole seconds make sense (TTLs).
    NotWholeSeconds,
}

impl fmt::Display for DurationError {
    /// The reason as a fragment: "'x' is {reason}".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Syntax => write!(f, "not a duration"),
            DurationError::OutOfRange { max } => write!(f, "out of range (0..={max})"),
            DurationError::NotWholeSeconds => write!(f, "not a whole number of seconds"),
        }
    }
}

/// Parses `3600`, `1h30m`, `2d`, `1w`, `500ms`, `1.5s` into milliseconds.
///
/// Units: `ms`, `s`, `m`, `h`, `d`, `w` (case-insensitive); a bare number is seconds; several
/// number-unit pairs add up. Values too large for 64 bits of milliseconds are `OutOfRange`.
fn parse_millis(text: &str) -> Result<u128, DurationError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(DurationError::Syntax);
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut total: u128 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        let number = &s[start..i];
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
            return Err(DurationError::Syntax);
        }
        let unit_start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = s[unit_start..i].to_ascii_lowercase();
        let per_unit: u128 = match unit.as_str() {
            "ms" => 1,
            "" if i == b.len() && start == 0 => 1000,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            _ => return Err(DurationError::Syntax),
        };
        // Fixed point with three decimals, so `1.5s` and `0.25m` are exact.
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        if frac.contains('.') || frac.len() > 3 {
            return Err(DurationError::Syntax);
        }
        let too_big = DurationError::OutOfRange {
            max: u64::MAX / 1000,
        };
        let whole: u128 = whole.parse().map_err(|_| too_big.clone())?;
        let frac_thousandths: u128 = format!("{frac:0<3}").parse().unwrap_or(0);
        let thousandths = whole
            .checked_mul(1000)
            .and_then(|w| w.checked_add(frac_thousandths))
            .ok_or(too_big.clone())?;
        total = thousandths
            .checked_mul(per_unit)
            .map(|v| v / 1000)
            .and_then(|v| total.checked_add(v))
            .filter(|&v| v <= u128::from(u64::MAX))
            .ok_or(too_big)?;
    }
    Ok(total)
}

/// A duration for the server file: `2s`, `500ms`, `1m`, `1.5s`, `10` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let ms = parse_millis(text)?;
    u64::try_from(ms)
        .map(Duration::from_millis)
        .map_err(|_| DurationError::OutOfRange {
            max: u64::MAX / 1000,
        })
}

/// Whole seconds up to `max`: `3600`, `1h30m`, `2d`, `1w` (SOA timers, TTLs).
pub fn parse_seconds(text: &str, max: u32) -> Result<u32, DurationError> {
    let ms = parse_millis(text).map_err(|e| match e {
        DurationError::OutOfRange { .. } => DurationError::OutOfRange {
            max: u64::from(max),
        },
        other => other,
    })?;
    if ms % 1000 != 0 {
        return Err(DurationError::NotWholeSeconds);
    }
    u32::try_from(ms / 1000)
        .ok()
        .filter(|&v| v <= max)
        .ok_or(DurationError::OutOfRange {
            max: u64::from(max),
        })
}

/// A TTL: whole seconds from 0 to 2147483647 (RFC 2181 §8), with units allowed.
pub fn parse_ttl(text: &str) -> Result<u32, DurationError> {
    parse_seconds(text, MAX_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_file_durations() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2x"), Err(DurationError::Syntax));
        assert_eq!(parse_duration(""), Err(DurationError::Syntax));
        assert_eq!(parse_duration("s"), Err(DurationError::Syntax));
        assert_eq!(parse_duration("1h30"), Err(DurationError::Syntax));
    }

    #[test]
    fn ttls_are_whole_seconds_within_rfc_2181() {
        assert_eq!(parse_ttl("3600"), Ok(3600));
        assert_eq!(parse_ttl("1h30m"), Ok(5400));
        assert_eq!(parse_ttl("2d"), Ok(172_800));
        assert_eq!(parse_ttl("1W"), Ok(604_800));
        assert_eq!(parse_ttl("2147483647"), Ok(MAX_TTL));
        assert_eq!(
            parse_ttl("2147483648"),
            Err(DurationError::OutOfRange { max: 2147483647 })
        );
        assert_eq!(
            parse_ttl("4294967296"),
            Err(DurationError::OutOfRange { max: 2147483647 })
        );
        assert_eq!(
            parse_ttl("99999999999999999999999999999999999999999"),
            Err(DurationError::OutOfRange { max: 2147483647 })
        );
        assert_eq!(parse_ttl("500ms"), Err(DurationError::NotWholeSeconds));
        assert_eq!(parse_ttl("h"), Err(DurationError::Syntax));
        assert_eq!(parse_ttl("-1"), Err(DurationError::Syntax));
        assert_eq!(
            parse_seconds("4294967295", u32::MAX),
            Ok(u32::MAX),
            "SOA serial range"
        );
    }
}
