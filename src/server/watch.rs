//! Watching data files: reload when a members file, networks file, GeoIP database or BGP dump
//! the configuration was built from changes.
//!
//! The files ([`ServerConfig::sources`]) are rewritten by tools (geoipupdate renames a new
//! database into place, route servers rewrite their dumps, operators edit networks files). A
//! task polls `stat` of each one every [`POLL`] (less when the debounce is short) and compares
//! (device, inode, size, modification time) with what it saw last; a file appearing or
//! disappearing is a change too. A change is acted on only once every changed file has stayed
//! the same for `server.watch_debounce` (2 s by default), so a file written in place in several
//! steps is read complete; a file that never stays still that long (rewritten every second)
//! is acted on anyway [`MAX_WAIT_DEBOUNCES`] debounces after the first change, so it cannot
//! hold its own change back forever. The reload is the one SIGHUP runs (all or nothing: a bad file fails
//! it and the running configuration keeps serving); after a failed reload nothing is retried
//! until a file changes again. After every reload that succeeds, whatever triggered it, the
//! watched files are the new configuration's.
//!
//! Polling rather than inotify: no extra dependency, it works on every file system (NFS,
//! bind mounts, containers), it survives the directory entry being replaced (rename) without
//! re-arming watches, and a few dozen `stat` calls a second cost nothing. The server file and
//! the zones are not watched: they change by SIGHUP, as before.

use std::collections::{BTreeSet, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::reload::{Reloader, Trigger};
use crate::config::ServerConfig;

/// How often the files are looked at (at most).
pub const POLL: Duration = Duration::from_secs(1);

/// Shortest poll interval (when `watch_debounce` is very short).
const MIN_POLL: Duration = Duration::from_millis(100);

/// A change waits at most this many debounces: files that keep changing are reloaded then,
/// as they are (a reload of a half-written file fails and keeps the running configuration).
pub const MAX_WAIT_DEBOUNCES: u32 = 10;

/// What identifies one version of a file: a rename changes the inode, a write the size or the
/// modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time.
    pub modified: SystemTime,
}

impl Stamp {
    /// The file's stamp now (following symbolic links), `None` when it cannot be read.
    pub fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        Some(Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            modified: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        })
    }
}

/// The files the running configuration was built from, as the last successful load saw them.
#[derive(Debug, Clone, Default)]
pub struct WatchList {
    /// The data files (see [`ServerConfig::sources`]).
    pub sources: Vec<PathBuf>,
    /// Their stamps just before the load read them (`None`: missing).
    pub stamps: Vec<Option<Stamp>>,
    /// `server.watch_debounce`.
    pub debounce: Duration,
    /// The server file's directory (paths are shown relative to it).
    pub base: PathBuf,
}

impl WatchList {
    /// The list for a configuration that was just read.
    pub fn new(config: &ServerConfig) -> WatchList {
        WatchList {
            stamps: config.source_stamps.clone(),
            sources: config.sources.clone(),
            debounce: config.server.watch_debounce,
            base: config
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        }
    }
}

/// The poll interval for a debounce: half of it, between [`MIN_POLL`] and [`POLL`].
pub fn poll_interval(debounce: Duration) -> Duration {
    (debounce / 2).clamp(MIN_POLL, POLL)
}

/// What the watcher knows between two looks.
#[derive(Debug, Default)]
struct Watcher {
    /// The last stamp seen of each watched file.
    seen: HashMap<PathBuf, Option<Stamp>>,
    /// Files changed since the last reload, waiting to be stable.
    changed: BTreeSet<PathBuf>,
    /// When the first and the last change waiting in `changed` were seen.
    first_change: Option<Instant>,
    last_change: Option<Instant>,
}

impl Watcher {
    /// Looks at every file of `list` once; returns the changed files when it is time to
    /// reload: all of them unchanged for `list.debounce`, or the first change
    /// [`MAX_WAIT_DEBOUNCES`] debounces old.
    fn look(&mut self, list: &WatchList, now: Instant) -> Option<Vec<PathBuf>> {
        // Files the configuration no longer reads are forgotten; new ones start from what the
        // load that added them saw.
        self.seen.retain(|p, _| list.sources.contains(p));
        self.changed.retain(|p| list.sources.contains(p));
        for (path, at_load) in list.sources.iter().zip(&list.stamps) {
            let current = Stamp::of(path);
            let before = self.seen.get(path).unwrap_or(at_load);
            if *before != current {
                self.changed.insert(path.clone());
                self.first_change.get_or_insert(now);
                self.last_change = Some(now);
            }
            self.seen.insert(path.clone(), current);
        }
        let (Some(first), Some(last)) = (self.first_change, self.last_change) else {
            return None;
        };
        if self.changed.is_empty() {
            // Every changed file left the configuration.
            (self.first_change, self.last_change) = (None, None);
            return None;
        }
        let stable = now.duration_since(last) >= list.debounce;
        let waited_enough = now.duration_since(first) >= list.debounce * MAX_WAIT_DEBOUNCES;
        if !stable && !waited_enough {
            return None;
        }
        (self.first_change, self.last_change) = (None, None);
        Some(std::mem::take(&mut self.changed).into_iter().collect())
    }
}

/// Polls the watched files forever and reloads when they change.
pub(super) async fn run(reloader: Arc<Reloader>) {
    let mut watcher = Watcher::default();
    loop {
        let list = reloader.live.watch_list();
        if let Some(changed) = watcher.look(&list, Instant::now()) {
            let reloader = reloader.clone();
            // Reading a large database takes a while: off the async workers.
            let _ = tokio::task::spawn_blocking(move || {
                reloader.reload(&Trigger::Files(changed));
            })
            .await;
            continue;
        }
        tokio::time::sleep(poll_interval(list.debounce)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(dir: &Path, names: &[&str], debounce: Duration) -> WatchList {
        let sources: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
        WatchList {
            stamps: sources.iter().map(|p| Stamp::of(p)).collect(),
            sources,
            debounce,
            base: dir.to_path_buf(),
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dynadns-watch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn changes_wait_for_the_debounce_and_are_reported_once() {
        let dir = temp_dir("debounce");
        std::fs::write(dir.join("a"), "1").unwrap();
        let l = list(&dir, &["a", "b"], Duration::from_secs(2));
        let mut w = Watcher::default();
        let t0 = Instant::now();
        assert_eq!(w.look(&l, t0), None, "nothing changed");
        std::fs::write(dir.join("a"), "22").unwrap();
        assert_eq!(
            w.look(&l, t0 + Duration::from_secs(1)),
            None,
            "just changed"
        );
        // Appearing is a change, and restarts the wait.
        std::fs::write(dir.join("b"), "x").unwrap();
        assert_eq!(w.look(&l, t0 + Duration::from_secs(2)), None);
        assert_eq!(w.look(&l, t0 + Duration::from_secs(3)), None);
        assert_eq!(
            w.look(&l, t0 + Duration::from_secs(4)),
            Some(vec![dir.join("a"), dir.join("b")])
        );
        assert_eq!(
            w.look(&l, t0 + Duration::from_secs(9)),
            None,
            "reported once"
        );
        // Disappearing is a change.
        std::fs::remove_file(dir.join("b")).unwrap();
        assert_eq!(w.look(&l, t0 + Duration::from_secs(10)), None);
        assert_eq!(
            w.look(&l, t0 + Duration::from_secs(12)),
            Some(vec![dir.join("b")])
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_changed_after_the_load_read_it_is_noticed() {
        let dir = temp_dir("after-load");
        std::fs::write(dir.join("a"), "1").unwrap();
        let l = list(&dir, &["a"], Duration::ZERO);
        std::fs::write(dir.join("a"), "changed before the watcher looked").unwrap();
        let mut w = Watcher::default();
        assert_eq!(w.look(&l, Instant::now()), Some(vec![dir.join("a")]));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_that_never_stops_changing_is_reloaded_after_the_longest_wait() {
        let dir = temp_dir("busy");
        std::fs::write(dir.join("a"), "0").unwrap();
        let l = list(&dir, &["a"], Duration::from_secs(2));
        let mut w = Watcher::default();
        let t0 = Instant::now();
        let mut reloaded_at = Vec::new();
        // Rewritten every second (size changes each time): never stable for 2 s.
        for s in 1..=45u64 {
            std::fs::write(dir.join("a"), "x".repeat(s as usize)).unwrap();
            if w.look(&l, t0 + Duration::from_secs(s)).is_some() {
                reloaded_at.push(s);
            }
        }
        // First change at 1 s, then every 20 s (10 debounces) from the change after a reload.
        assert_eq!(reloaded_at, [21, 42]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn poll_follows_short_debounces() {
        assert_eq!(poll_interval(Duration::from_secs(2)), POLL);
        assert_eq!(
            poll_interval(Duration::from_millis(400)),
            Duration::from_millis(200)
        );
        assert_eq!(poll_interval(Duration::ZERO), MIN_POLL);
    }
}
