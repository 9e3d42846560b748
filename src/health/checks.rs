//! What health monitoring reads from a check definition, in one place.
//!
//! The configuration owns [`Check`] and [`CheckKind`]; the monitor, the scheduler, the state
//! file and the status page ask the same few questions about a check's kind: is it probed
//! over the network, is its state fixed or read from a file, and what a reload changed.
//! The common fields (`interval`, `timeout`, `down`, `up`) are read directly. (The probe
//! itself, in [`super::probe`], reads the probe-specific fields.)

use std::path::Path;

use crate::gslb::{Check, CheckKind};

/// Whether targets of this check are probed over the network (tcp, http, https).
pub fn is_probed(check: &Check) -> bool {
    matches!(
        check.kind,
        CheckKind::Tcp { .. } | CheckKind::Http(_) | CheckKind::Https { .. }
    )
}

/// The fixed state of `always_up` / `always_down` checks; `None` for every other kind.
pub fn fixed_state(check: &Check) -> Option<bool> {
    match check.kind {
        CheckKind::AlwaysUp => Some(true),
        CheckKind::AlwaysDown => Some(false),
        _ => None,
    }
}

/// The `ADDRESS up|down` file of a `file` check.
pub fn state_file(check: &Check) -> Option<&Path> {
    match &check.kind {
        CheckKind::File { path, .. } => Some(path.as_path()),
        _ => None,
    }
}

/// The largest `file` check file that is read (`server.max_file_size`); the default for other
/// kinds.
pub fn state_file_limit(check: &Check) -> u64 {
    match &check.kind {
        CheckKind::File { max_size, .. } => *max_size,
        _ => crate::fsread::DEFAULT_MAX_FILE_SIZE,
    }
}

/// What a reload changed in a check that a target keeps using (same address, same check
/// name), which decides what happens to the target's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckChange {
    /// Nothing.
    Same,
    /// Only `down`/`up`: the window keeps its results and state, the new rules judge the next
    /// results; the schedule goes on.
    Rules,
    /// `interval` or `timeout` (and maybe the rules): the window is kept, the target is
    /// rescheduled with the new timing.
    Timing,
    /// What a probe does or accepts (type, port, path, host, expectations, TLS settings,
    /// file): old results say nothing about the new check, so the window restarts.
    Probe,
}

/// Compares a target's running check with its reloaded definition.
pub fn change(old: &Check, new: &Check) -> CheckChange {
    if old == new {
        return CheckChange::Same;
    }
    // Everything but the timing and the rules equal: the probe is the same probe.
    let mut same_probe = new.clone();
    same_probe.interval = old.interval;
    same_probe.timeout = old.timeout;
    same_probe.down = old.down;
    same_probe.up = old.up;
    if same_probe != *old {
        CheckChange::Probe
    } else if old.interval != new.interval || old.timeout != new.timeout {
        CheckChange::Timing
    } else {
        CheckChange::Rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check `c` of a server file whose `checks:` entry is `c: { LINE }`, loaded the way
    /// `serve` loads it (so the test does not depend on how `Check` is built).
    fn check(line: &str) -> Check {
        let dir = std::env::temp_dir().join(format!(
            "dynadns-checks-{}-{}",
            std::process::id(),
            line.len()
        ));
        std::fs::create_dir_all(dir.join("zones")).unwrap();
        std::fs::write(
            dir.join("zones/example.com.yaml"),
            "zone: example.com\nsoa: { primary: ns1, contact: h, serial: 1 }\nrecords:\n  \"@\": { NS: [ns1] }\n  ns1: { A: 192.0.2.1 }\n",
        )
        .unwrap();
        let file = dir.join("dynadns.yaml");
        std::fs::write(
            &file,
            format!(
                "zones: zones/\ndatacenters: {{ a: {{}} }}\nchecks:\n  c: {{ {line} }}\nresources:\n  www:\n    check: c\n    pools:\n      a: [192.0.2.10]\n"
            ),
        )
        .unwrap();
        let loaded = crate::config::load(&file).unwrap_or_else(|e| panic!("{line}: {e}"));
        std::fs::remove_dir_all(&dir).unwrap();
        loaded.config.gslb.checks[0].clone()
    }

    #[test]
    fn reload_changes_are_classified() {
        let base = "type: http, path: /healthz, interval: 2s, timeout: 1s, down: 3/5, up: 5/5";
        let old = check(base);
        assert_eq!(change(&old, &check(base)), CheckChange::Same);
        let with = |from: &str, to: &str| change(&old, &check(&base.replace(from, to)));
        assert_eq!(with("down: 3/5", "down: 2/4"), CheckChange::Rules);
        assert_eq!(with("interval: 2s", "interval: 3s"), CheckChange::Timing);
        assert_eq!(with("timeout: 1s", "timeout: 300ms"), CheckChange::Timing);
        assert_eq!(with("/healthz", "/other"), CheckChange::Probe);
        assert_eq!(
            with("path: /healthz", "path: /healthz, expect_status: [204]"),
            CheckChange::Probe
        );
        assert_eq!(
            with("type: http, path: /healthz", "type: tcp, port: 80"),
            CheckChange::Probe
        );
    }
}
