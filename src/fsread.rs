//! Reading the files dynadns is pointed at, without hanging and without running out of memory.
//!
//! Every file the server reads (the server file, zone files, members and networks files, the
//! GeoIP database, BGP dumps, health files and the state file) goes through [`read_bounded`]:
//!
//! - it is opened with `O_NONBLOCK`, so a FIFO left in `zones/` does not block the open
//!   waiting for a writer;
//! - the open handle is checked (`fstat`, after symlinks were followed) and anything but a
//!   regular file is refused before a byte is read, so a link to `/dev/zero` or a FIFO is an
//!   error naming the file, not a hang or an endless read;
//! - it is read with `take(limit + 1)`, so a file larger than the limit (`server.max_file_size`)
//!   is refused even when it grows between the check and the read.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Default of `server.max_file_size`: large enough for a full GeoIP City database or a
/// route-server RIB dump (a few hundred MB), small enough that a wrong path cannot take the
/// process's memory.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 30;

/// `O_NONBLOCK` for `open(2)`, written out to avoid a `libc` dependency: 0o4000 on Linux
/// (every architecture Rust supports there), 0x0004 on macOS and the BSDs.
#[cfg(any(target_os = "linux", target_os = "android"))]
const O_NONBLOCK: i32 = 0o4000;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const O_NONBLOCK: i32 = 0x0004;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be opened or read (missing, no permission, an I/O error).
    Io(std::io::Error),
    /// The path (after symlinks) is not a regular file; the value says what it is.
    NotRegular(&'static str),
    /// The file is larger than the limit. `size` is `None` when it grew past the limit while
    /// being read (its size at open was within the limit).
    TooLarge {
        /// Its size when opened, if that was already over the limit.
        size: Option<u64>,
        /// The limit (`server.max_file_size`).
        limit: u64,
    },
}

impl ReadError {
    /// Whether the file does not exist (some readers treat a missing file as "nothing yet").
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }

    /// What to do about it, for the diagnostics' hint; `None` for I/O errors, whose fix
    /// depends on the reader (a path relative to the server file, permissions).
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ReadError::Io(_) => None,
            ReadError::NotRegular(_) => Some(
                "point the path at a regular file (write a temporary file and rename it into \
                 place instead of using a pipe or a device)",
            ),
            // The message already says what to do.
            ReadError::TooLarge { .. } => None,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotRegular(kind) => write!(
                f,
                "not a regular file ({kind}); zones, members and networks files must be regular files"
            ),
            ReadError::TooLarge { size, limit } => {
                match size {
                    Some(s) => write!(f, "{}", format_size(*s))?,
                    None => write!(f, "it grew while being read and")?,
                }
                write!(
                    f,
                    " is larger than server.max_file_size ({}); raise it if this file is meant to be this big",
                    format_size(*limit)
                )
            }
        }
    }
}

impl std::error::Error for ReadError {}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// What a file that is not regular is, in words for the error.
fn kind_of(t: std::fs::FileType) -> &'static str {
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// Opens `path` for reading without blocking and checks that it is a regular file of at most
/// `limit` bytes; returns the handle and its size.
fn open_regular(path: &Path, limit: u64) -> Result<(File, u64), ReadError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: Some(meta.len()),
            limit,
        });
    }
    Ok((file, meta.len()))
}

/// Reads the whole regular file at `path`, refusing anything else and anything over `limit`
/// bytes (see the module documentation).
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, len) = open_regular(path, limit)?;
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: None, limit });
    }
    Ok(buf)
}

/// As [`read_bounded`], for text; bytes that are not UTF-8 are an `InvalidData` I/O error
/// (callers that want the position use [`crate::yaml::read_text`]).
pub fn read_bounded_to_string(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_bounded(path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
        ))
    })
}

/// `1073741824` → "1 GiB", `3435973837` → "3.2 GiB", `1000` → "1000 bytes": sizes in errors.
pub fn format_size(n: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if n >= size {
            let tenths = (u128::from(n) * 10 + u128::from(size) / 2) / u128::from(size);
            return if tenths % 10 == 0 {
                format!("{} {unit}", tenths / 10)
            } else {
                format!("{}.{} {unit}", tenths / 10, tenths % 10)
            };
        }
    }
    format!("{n} bytes")
}

/// Parses a size: a whole number of bytes, optionally followed by K, M, G or T (binary
/// multiples, `KiB`/`KB`/`k` spellings accepted): `512M`, `2G`, `1048576`. The error says why.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err("not a size".into());
    }
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("unknown unit '{}'", unit.trim())),
    };
    let n: u64 = digits.parse().map_err(|_| "out of range".to_string())?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| "out of range".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("4 kb"), Ok(4096));
        assert!(parse_size("G").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("1.5G").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(format_size(1 << 30), "1 GiB");
        assert_eq!(format_size(3_435_973_837), "3.2 GiB");
        assert_eq!(format_size(1000), "1000 bytes");
        assert_eq!(format_size(1536), "1.5 KiB");
    }

    #[test]
    fn refuses_devices_directories_and_large_files() {
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(
            matches!(e, ReadError::NotRegular("a character device")),
            "{e}"
        );
        let e = read_bounded(Path::new("/"), 1 << 20).unwrap_err();
        assert!(matches!(e, ReadError::NotRegular("a directory")), "{e}");
        let dir = std::env::temp_dir().join(format!("dynadns-fsread-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("f");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read_bounded(&f, 10).unwrap(), b"0123456789");
        let e = read_bounded(&f, 9).unwrap_err();
        assert_eq!(
            e.to_string(),
            "10 bytes is larger than server.max_file_size (9 bytes); raise it if this file is meant to be this big"
        );
        assert!(
            read_bounded(&dir.join("missing"), 9)
                .unwrap_err()
                .is_not_found()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
