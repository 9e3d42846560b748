//! DNS cookies (RFC 7873) with interoperable server cookies (RFC 9018).
//!
//! A client that sends back a server cookie we made for its address proves it receives our
//! answers at that address, so it cannot be a spoofed victim: such queries are exempt from
//! response rate limiting. The server cookie is version 1 of RFC 9018: version, three reserved
//! bytes, a 32-bit timestamp and SipHash-2-4 over client cookie, those 8 bytes and the client
//! address, keyed by a 128-bit secret. Servers that share the secret (one NS set) accept each
//! other's cookies, whichever implementation they run.

use std::net::IpAddr;
use std::sync::OnceLock;

/// Length of a client cookie.
pub const CLIENT_LEN: usize = 8;
/// Length of the server cookie we make (RFC 9018 version 1).
pub const SERVER_LEN: usize = 16;
/// A full COOKIE option body as we send it: client cookie and our server cookie.
pub const OPTION_BODY_LEN: usize = CLIENT_LEN + SERVER_LEN;
/// A received server cookie is accepted at most this many seconds after its timestamp.
pub const MAX_AGE: u32 = 3600;
/// ... and at most this many seconds before it (clock skew between servers).
pub const MAX_SKEW: u32 = 300;

/// The 128-bit SipHash key server cookies are made with.
///
/// Its `Debug` hides the value: configurations are printed in logs and errors.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Secret(pub [u8; 16]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// Parses 32 hexadecimal digits (the form BIND, Knot and NSD configure too).
    pub fn from_hex(s: &str) -> Option<Secret> {
        let b = s.as_bytes();
        if b.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            let hi = (b[2 * i] as char).to_digit(16)?;
            let lo = (b[2 * i + 1] as char).to_digit(16)?;
            *o = (hi * 16 + lo) as u8;
        }
        Some(Secret(out))
    }

    /// A secret drawn once per process from the kernel's random source, used when the
    /// configuration names none (cookies then hold for this process only).
    pub fn process_random() -> Secret {
        static SECRET: OnceLock<Secret> = OnceLock::new();
        *SECRET.get_or_init(|| {
            let mut b = [0u8; 16];
            let read = std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b));
            if read.is_err() {
                // No /dev/urandom (a bare container): fall back to time and addresses, which
                // is still unknown to an off-path attacker to within many bits.
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                let a = &b as *const _ as usize as u128;
                b = (t ^ a.rotate_left(64) ^ u128::from(std::process::id())).to_le_bytes();
            }
            Secret(b)
        })
    }
}

/// A COOKIE option as received: the client cookie and, when present, the server cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookie {
    /// The client cookie.
    pub client: [u8; CLIENT_LEN],
    /// The server cookie's bytes (first `server_len` are used).
    pub server: [u8; 32],
    /// Length of the server cookie: 0 or 8..=32.
    pub server_len: u8,
}

impl Cookie {
    /// Parses an option body; `None` for a length RFC 7873 §5.2.2 makes malformed (under 8,
    /// 9 to 15, over 40).
    pub fn parse(body: &[u8]) -> Option<Cookie> {
        let n = body.len();
        if n != CLIENT_LEN && !(16..=40).contains(&n) {
            return None;
        }
        let mut c = Cookie {
            client: [0; CLIENT_LEN],
            server: [0; 32],
            server_len: (n - CLIENT_LEN) as u8,
        };
        c.client.copy_from_slice(&body[..CLIENT_LEN]);
        c.server[..n - CLIENT_LEN].copy_from_slice(&body[CLIENT_LEN..]);
        Some(c)
    }

    /// The server cookie as received.
    pub fn server_cookie(&self) -> &[u8] {
        &self.server[..self.server_len as usize]
    }
}

/// What a query's cookie says about its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No COOKIE option.
    None,
    /// A client cookie only: the client's first contact, or a client that forgot ours.
    ClientOnly,
    /// A server cookie we did not make for this client, or too old: answered like none.
    Invalid,
    /// A server cookie we made for this address within the last hour: the client is real.
    Valid,
}

/// SipHash-2-4 of RFC 9018 §4.4: client cookie, version, reserved, timestamp, address.
fn hash(secret: &Secret, client: &[u8; CLIENT_LEN], head: &[u8; 8], addr: IpAddr) -> [u8; 8] {
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new_with_keys(
        u64::from_le_bytes(secret.0[..8].try_into().unwrap_or_default()),
        u64::from_le_bytes(secret.0[8..].try_into().unwrap_or_default()),
    );
    use std::hash::Hasher;
    h.write(client);
    h.write(head);
    match addr {
        IpAddr::V4(a) => h.write(&a.octets()),
        IpAddr::V6(a) => h.write(&a.octets()),
    }
    h.finish().to_le_bytes()
}

/// Makes our server cookie for `client` at `addr`, stamped `now` (Unix seconds mod 2^32).
pub fn server_cookie(
    secret: &Secret,
    client: &[u8; CLIENT_LEN],
    addr: IpAddr,
    now: u32,
) -> [u8; SERVER_LEN] {
    let mut out = [0u8; SERVER_LEN];
    out[0] = 1;
    out[4..8].copy_from_slice(&now.to_be_bytes());
    let head: [u8; 8] = out[..8].try_into().unwrap_or_default();
    out[8..].copy_from_slice(&hash(secret, client, &head, addr));
    out
}

/// Judges a received cookie at `now` (RFC 9018 §4.3): valid when the server cookie is
/// version 1, 16 bytes, its hash matches and its timestamp is at most an hour old and at most
/// five minutes ahead (serial-number arithmetic, so the 2106 wrap is harmless).
pub fn verify(secret: &Secret, c: &Cookie, addr: IpAddr, now: u32) -> Status {
    let s = c.server_cookie();
    if s.is_empty() {
        return Status::ClientOnly;
    }
    if s.len() != SERVER_LEN || s[0] != 1 {
        return Status::Invalid;
    }
    let stamp = u32::from_be_bytes([s[4], s[5], s[6], s[7]]);
    let age = now.wrapping_sub(stamp);
    let fresh = age <= MAX_AGE || stamp.wrapping_sub(now) <= MAX_SKEW;
    if !fresh {
        return Status::Invalid;
    }
    let head: [u8; 8] = s[..8].try_into().unwrap_or_default();
    // Not a secret-dependent early exit worth a constant-time compare: the attacker must
    // guess 64 bits per address and learns nothing from one byte's timing across the network.
    if hash(secret, &c.client, &head, addr) == s[8..16] {
        Status::Valid
    } else {
        Status::Invalid
    }
}

/// Unix time in seconds, modulo 2^32 as the cookie timestamp carries it.
pub fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    fn cookie(s: &str) -> Cookie {
        Cookie::parse(&hex(s)).unwrap()
    }

    /// RFC 9018 Appendix A.1 to A.3: the server cookies the RFC publishes, byte for byte.
    #[test]
    fn rfc9018_vectors_are_reproduced() {
        let secret = Secret::from_hex("e5e973e5a6b2a43f48e7dc849e37bfcf").unwrap();
        let cases = [
            (
                "2464c4abcf10c957",
                "198.51.100.100",
                1559731985,
                "010000005cf79f111f8130c3eee29480",
            ),
            (
                "2464c4abcf10c957",
                "198.51.100.100",
                1559734385,
                "010000005cf7a871d4a564a1442aca77",
            ),
            (
                "fc93fc62807ddb86",
                "203.0.113.203",
                1559734700,
                "010000005cf7a9acf73a7810aca2381e",
            ),
        ];
        for (client, ip, now, want) in cases {
            let c: [u8; 8] = hex(client).try_into().unwrap();
            let got = server_cookie(&secret, &c, ip.parse().unwrap(), now);
            assert_eq!(got.to_vec(), hex(want), "{client} {ip}");
        }
    }

    /// A.2 and A.4: cookies the RFC's servers handed out verify (A.3's with nonzero reserved
    /// bytes, A.4's over IPv6), and fail from another address or with another secret.
    #[test]
    fn rfc9018_received_cookies_verify() {
        let s1 = Secret::from_hex("e5e973e5a6b2a43f48e7dc849e37bfcf").unwrap();
        let a2 = cookie("2464c4abcf10c957010000005cf79f111f8130c3eee29480");
        let ip = "198.51.100.100".parse().unwrap();
        assert_eq!(verify(&s1, &a2, ip, 1559734385), Status::Valid);
        let other = "198.51.100.101".parse().unwrap();
        assert_eq!(verify(&s1, &a2, other, 1559734385), Status::Invalid);
        // A.3: the client sent reserved bytes 0xabcdef; they are part of the hash.
        let a3 = cookie("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5");
        let ip3 = "203.0.113.203".parse().unwrap();
        assert_eq!(verify(&s1, &a3, ip3, 0x5cf7_8f71 + 60), Status::Valid);
        // A.4: IPv6, made with the old secret.
        let old = Secret::from_hex("dd3bdf9344b678b185a6f5cb60fca715").unwrap();
        let new = Secret::from_hex("445536bcd2513298075a5d379663c962").unwrap();
        let a4 = cookie("22681ab97d52c298010000005cf7c57926556bd0934c72f8");
        let ip6 = "2001:db8:220:1:59de:d0f4:8769:82b8".parse().unwrap();
        assert_eq!(verify(&old, &a4, ip6, 0x5cf7_c579), Status::Valid);
        assert_eq!(verify(&new, &a4, ip6, 0x5cf7_c579), Status::Invalid);
    }

    /// RFC 9018 §4.3: an hour old is the last valid second; five minutes ahead likewise;
    /// across the 2^32 wrap ages are still seconds, not billions of them.
    #[test]
    fn timestamp_window() {
        let s = Secret([7; 16]);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let client = [1u8; 8];
        let at = |stamp: u32, now: u32| {
            let mut body = client.to_vec();
            body.extend_from_slice(&server_cookie(&s, &client, ip, stamp));
            verify(&s, &Cookie::parse(&body).unwrap(), ip, now)
        };
        let now = 1_559_731_985;
        assert_eq!(at(now, now), Status::Valid);
        assert_eq!(at(now - 3600, now), Status::Valid);
        assert_eq!(at(now - 3601, now), Status::Invalid);
        assert_eq!(at(now + 300, now), Status::Valid);
        assert_eq!(at(now + 301, now), Status::Invalid);
        assert_eq!(at(u32::MAX - 1000, 2000), Status::Valid);
    }

    /// RFC 7873 §5.2.2: 8 or 16..=40 bytes parse, every other length from 0 to 41 does not;
    /// an 8-byte server cookie or a version other than 1 is ours to reject, not malformed.
    #[test]
    fn option_lengths() {
        for n in 0..=41usize {
            let ok = n == 8 || (16..=40).contains(&n);
            assert_eq!(Cookie::parse(&vec![1u8; n]).is_some(), ok, "{n}");
        }
        let s = Secret([0; 16]);
        let ip: IpAddr = "::1".parse().unwrap();
        let short = Cookie::parse(&[1u8; 16]).unwrap();
        assert_eq!(verify(&s, &short, ip, 0), Status::Invalid);
        let client_only = Cookie::parse(&[1u8; 8]).unwrap();
        assert_eq!(verify(&s, &client_only, ip, 0), Status::ClientOnly);
    }

    #[test]
    fn secret_hex() {
        assert!(Secret::from_hex("e5e973e5a6b2a43f48e7dc849e37bfcf").is_some());
        assert!(Secret::from_hex("e5e973e5a6b2a43f48e7dc849e37bfc").is_none());
        assert!(Secret::from_hex("g5e973e5a6b2a43f48e7dc849e37bfcf").is_none());
        assert_ne!(Secret::process_random(), Secret([0; 16]));
    }
}
