//! Health states of probe targets, as GSLB selection sees them.
//!
//! Each distinct (probe address, check) is one target with one state, shared by every member
//! that names it. States feed snapshot builds: a change compiles new resource views and
//! publishes a new snapshot, so the query path only ever reads complete states.
//!
//! The prober is a few rooms:
//! - [`monitor`]: which targets exist (reconciled with the configuration at start and on every
//!   reload), their k-of-n [`window`]s, logging and publishing state changes;
//! - [`schedule`]: one task per target, spread over the interval, probes in flight bounded;
//! - [`probe`]: one TCP/HTTP/HTTPS probe and its outcome; [`stats`]: counts and latencies;
//! - [`persist`]: the state file that carries windows and forced states across restarts;
//! - [`status`]: what `/status` and `/metrics` show per target;
//! - [`checks`]: the few things all of these read from a check definition.
//!
//! [`initial_states`] gives the states known without probing, for `check` and `explain`.

pub mod checks;
pub mod monitor;
pub mod persist;
pub mod probe;
mod schedule;
pub mod stats;
pub mod status;
pub mod window;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use tracing::warn;

use crate::gslb::{Gslb, Overrides};

/// Up/down per target, indexed by `TargetId`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthStates {
    /// Probed state per target, `true` = up.
    pub up: Vec<bool>,
    /// The operator's forced states, which beat the probes.
    pub overrides: Overrides,
}

impl HealthStates {
    /// Whether a target is up (unknown targets are up).
    pub fn is_up(&self, target: u32) -> bool {
        self.up.get(target as usize).copied().unwrap_or(true)
    }
}

/// States known without probing: from the check type, or from state files.
pub fn initial_states(gslb: &Gslb) -> HealthStates {
    let mut files: HashMap<&Path, HashMap<IpAddr, bool>> = HashMap::new();
    let up = gslb
        .targets
        .iter()
        .map(|t| {
            let check = &gslb.checks[t.check];
            if let Some(fixed) = checks::fixed_state(check) {
                fixed
            } else if let Some(path) = checks::state_file(check) {
                let states = files
                    .entry(path)
                    .or_insert_with(|| read_state_file(path, checks::state_file_limit(check)));
                states.get(&t.address).copied().unwrap_or(true)
            } else {
                true
            }
        })
        .collect();
    HealthStates {
        up,
        overrides: Overrides::default(),
    }
}

/// Reads `ADDRESS up|down` lines; unreadable files and bad lines are logged and skipped, so a
/// broken file never takes members down by itself.
pub fn read_state_file(path: &Path, max_size: u64) -> HashMap<IpAddr, bool> {
    let mut out = HashMap::new();
    // Read like every data file (see crate::fsread): a FIFO or a device here is an error that
    // is logged, never a blocked probe thread.
    let text = match crate::fsread::read_bounded_to_string(path, max_size) {
        Ok(t) => t,
        Err(e) => {
            warn!(
                "health file {}: {e}; its targets count as up",
                path.display()
            );
            return out;
        }
    };
    for (i, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let mut parts = content.split_whitespace();
        let parsed = match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(s), None) => a.parse::<IpAddr>().ok().and_then(|a| match s {
                "up" | "UP" => Some((a, true)),
                "down" | "DOWN" => Some((a, false)),
                _ => None,
            }),
            _ => None,
        };
        match parsed {
            Some((a, s)) => {
                out.insert(a, s);
            }
            None => warn!(
                "health file {}:{}: expected 'ADDRESS up|down', found '{content}'",
                path.display(),
                i + 1
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_file_lines_and_failures() {
        let dir = std::env::temp_dir().join(format!("dynadns-statefile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("states.txt");
        std::fs::write(
            &f,
            "# comment\n192.0.2.1 down\n192.0.2.2 UP # trailing\nnot-an-address down\n192.0.2.3 sideways\n\n2001:db8::1 down\n",
        )
        .unwrap();
        let s = read_state_file(&f, crate::fsread::DEFAULT_MAX_FILE_SIZE);
        assert_eq!(s.get(&"192.0.2.1".parse().unwrap()), Some(&false));
        assert_eq!(s.get(&"192.0.2.2".parse().unwrap()), Some(&true));
        assert_eq!(s.get(&"2001:db8::1".parse().unwrap()), Some(&false));
        // Bad lines are skipped, not guessed.
        assert_eq!(s.len(), 3);
        // A missing or unreadable file gives no states (targets stay up), never a panic.
        let limit = crate::fsread::DEFAULT_MAX_FILE_SIZE;
        assert!(read_state_file(&dir.join("missing.txt"), limit).is_empty());
        assert!(read_state_file(&dir, limit).is_empty());
        // Over the configured limit: refused (logged), targets stay up.
        assert!(read_state_file(&f, 4).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
