//! Persistence: the state file that lets a restart resume with what the prober knew.
//!
//! The monitor hands over the windows of its probed targets and the operator's forced states;
//! this module writes them as JSON, atomically (a temporary file renamed over the old one), and
//! reads them back at start ([`SavedStates::read`], also used by `explain`). Probe windows older
//! than `health.state_max_age` are not trusted; forced states never expire. A write error is
//! logged once (and its recovery once), not on every periodic save.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::monitor::TargetKey;
use super::window::WindowState;
use crate::gslb::Overrides;

/// The format this build writes and reads (`version` in the file).
const VERSION: u32 = 1;

/// The state file's format.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SavedState {
    version: u32,
    saved_at: u64,
    #[serde(default)]
    targets: Vec<SavedTarget>,
    #[serde(default)]
    overrides: Overrides,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedTarget {
    address: IpAddr,
    check: String,
    up: bool,
    /// Recent results, oldest first: '1' success, '0' failure.
    results: String,
}

/// What a state file holds, as `serve` and `explain` use it.
pub struct SavedStates {
    /// Seconds since the file was written.
    pub age_secs: u64,
    /// Probe windows, when the file is young enough to trust them.
    pub windows: Option<HashMap<TargetKey, WindowState>>,
    /// Forced states (always kept: an operator's decision does not expire).
    pub overrides: Overrides,
}

impl SavedStates {
    /// Reads a state file; a missing file is `None` silently, a broken one with a warning.
    pub fn read(path: &Path, max_age: Duration, max_size: u64) -> Option<SavedStates> {
        let text = match crate::fsread::read_bounded_to_string(path, max_size) {
            Ok(t) => t,
            Err(e) if e.is_not_found() => return None,
            Err(e) => {
                warn!(
                    "state file {}: {e}; starting without saved states",
                    path.display()
                );
                return None;
            }
        };
        let saved: SavedState = match serde_json::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                warn!(
                    "state file {} is not valid ({e}); starting without saved states",
                    path.display()
                );
                return None;
            }
        };
        if saved.version != VERSION {
            warn!(
                "state file {} has version {} (this dynadns reads {VERSION}); starting without saved states",
                path.display(),
                saved.version
            );
            return None;
        }
        let age_secs = now_secs().saturating_sub(saved.saved_at);
        let windows = (age_secs <= max_age.as_secs()).then(|| {
            saved
                .targets
                .into_iter()
                .filter_map(|t| {
                    // Only '0' and '1': anything else is not a window this code wrote.
                    let Some(results) = t
                        .results
                        .bytes()
                        .map(|b| match b {
                            b'1' => Some(true),
                            b'0' => Some(false),
                            _ => None,
                        })
                        .collect::<Option<Vec<bool>>>()
                    else {
                        warn!(
                            "state file {}: target {} (check {}): results {:?} are not 0s and 1s; its window is not restored",
                            path.display(),
                            t.address,
                            t.check,
                            t.results
                        );
                        return None;
                    };
                    Some((
                        TargetKey {
                            address: t.address,
                            check: t.check,
                        },
                        WindowState {
                            is_up: t.up,
                            results,
                        },
                    ))
                })
                .collect()
        });
        Some(SavedStates {
            age_secs,
            windows,
            overrides: saved.overrides,
        })
    }
}

/// Writes state files and remembers the last write error, so a persistent problem (a full
/// disk, a read-only directory) is logged once, not every few seconds.
#[derive(Default)]
pub(super) struct Writer {
    last_error: Mutex<Option<String>>,
}

impl Writer {
    /// Writes `windows` (in any order) and `overrides` to `path`, atomically.
    pub(super) fn write(
        &self,
        path: &Path,
        windows: Vec<(TargetKey, WindowState)>,
        overrides: Overrides,
    ) {
        let mut targets: Vec<SavedTarget> = windows
            .into_iter()
            .map(|(k, w)| SavedTarget {
                address: k.address,
                check: k.check,
                up: w.is_up,
                results: w
                    .results
                    .iter()
                    .map(|&r| if r { '1' } else { '0' })
                    .collect(),
            })
            .collect();
        targets.sort_by(|a, b| (a.address, &a.check).cmp(&(b.address, &b.check)));
        let saved = SavedState {
            version: VERSION,
            saved_at: now_secs(),
            targets,
            overrides,
        };
        let text = match serde_json::to_string_pretty(&saved) {
            Ok(t) => t,
            Err(e) => {
                warn!("cannot encode state: {e}");
                return;
            }
        };
        let tmp = path.with_extension("tmp");
        let r = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
        let mut last = self.last_error.lock().unwrap_or_else(|e| e.into_inner());
        match r {
            Err(e) => {
                let e = e.to_string();
                if last.as_deref() != Some(e.as_str()) {
                    warn!(
                        "cannot write state file {}: {e}; states will not survive a restart until it can be written",
                        path.display()
                    );
                    *last = Some(e);
                }
            }
            Ok(()) => {
                if last.take().is_some() {
                    info!("state file {} written again", path.display());
                }
            }
        }
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `text` as a state file (max age one hour).
    fn read(name: &str, text: &str) -> Option<SavedStates> {
        let path =
            std::env::temp_dir().join(format!("dynadns-persist-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let saved = SavedStates::read(
            &path,
            Duration::from_secs(3600),
            crate::fsread::DEFAULT_MAX_FILE_SIZE,
        );
        std::fs::remove_file(&path).unwrap();
        saved
    }

    fn file(version: u32, results: &str) -> String {
        format!(
            r#"{{"version": {version}, "saved_at": {}, "targets": [
                {{"address": "192.0.2.1", "check": "c", "up": false, "results": "{results}"}},
                {{"address": "192.0.2.2", "check": "c", "up": true, "results": "11"}}]}}"#,
            now_secs()
        )
    }

    #[test]
    fn windows_are_read_back() {
        let w = read("ok", &file(VERSION, "0110")).unwrap().windows.unwrap();
        let key = TargetKey {
            address: "192.0.2.1".parse().unwrap(),
            check: "c".into(),
        };
        assert_eq!(
            w[&key],
            WindowState {
                is_up: false,
                results: vec![false, true, true, false],
            }
        );
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn another_version_is_not_read() {
        assert!(read("version", &file(VERSION + 1, "01")).is_none());
    }

    #[test]
    fn results_other_than_0_and_1_drop_only_that_window() {
        let w = read("results", &file(VERSION, "01x1"))
            .unwrap()
            .windows
            .unwrap();
        assert_eq!(w.len(), 1);
        assert!(w.keys().all(|k| k.address.to_string() == "192.0.2.2"));
    }
}
