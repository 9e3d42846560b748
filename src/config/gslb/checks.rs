//! `checks:`: health-check templates, each parsed into a [`CheckKind`] carrying only its own
//! type's settings.
//!
//! A key that belongs to another type (`path` on a tcp check, `port` on `always_up`) is an
//! error, not ignored: the operator meant something by it. A check with errors is still
//! returned (with a placeholder kind), so the caller registers its name and resources that use
//! it are checked too; the load fails anyway because of the error.

use std::path::Path;
use std::time::Duration;

use super::super::Ctx;
use super::super::did_you_mean;
use super::super::yaml::Node;
use crate::gslb::{Check, CheckKind, HttpCheck};
use crate::health;
use crate::health::probe::Prober;

/// Keys every check type takes.
const COMMON_KEYS: &[&str] = &["type", "interval", "timeout", "down", "up"];

/// Each check type and the keys it takes besides [`COMMON_KEYS`].
const TYPE_KEYS: &[(&str, &[&str])] = &[
    ("tcp", &["port"]),
    (
        "http",
        &["port", "path", "host", "expect_status", "expect_body"],
    ),
    (
        "https",
        &[
            "port",
            "path",
            "host",
            "expect_status",
            "expect_body",
            "insecure",
            "ca_file",
        ],
    ),
    ("always_up", &[]),
    ("always_down", &[]),
    ("file", &["file"]),
];

/// Longest health window we keep per target.
const MAX_WINDOW: u32 = 256;

/// Every key of any check type (common keys first, then each type's in table order): a key
/// outside it is "unknown", one inside but not of the check's own type "does not apply".
fn all_keys() -> Vec<&'static str> {
    let mut keys = COMMON_KEYS.to_vec();
    for k in TYPE_KEYS.iter().flat_map(|(_, own)| own.iter()) {
        if !keys.contains(k) {
            keys.push(k);
        }
    }
    keys
}

/// "type is one of tcp, http, ...", for hints.
fn types_hint() -> String {
    let types: Vec<&str> = TYPE_KEYS.iter().map(|(t, _)| *t).collect();
    format!("type is one of {}", types.join(", "))
}

/// Parses check `name` (`key` is its name node, `def` its body). Always returns a check, so
/// the name is registered even when the definition has errors.
pub(super) fn check(cx: &mut Ctx<'_>, name: &str, key: &Node, def: &Node, base: &Path) -> Check {
    let errors_before = cx.diags.len();
    let all_keys = all_keys();
    let m = cx.map(def, &format!("check '{name}'"), &all_keys);
    let ty: Option<(&str, &[&str])> = match m.get("type") {
        None => {
            cx.err(key, format!("check '{name}' has no type")).hint = Some(types_hint());
            None
        }
        Some(t) => {
            let word = t.as_str().unwrap_or("");
            let found = TYPE_KEYS.iter().find(|(n, _)| *n == word).copied();
            if found.is_none() {
                cx.err(t, format!("unknown check type '{word}'")).hint = Some(format!(
                    "{}{}",
                    did_you_mean(word, TYPE_KEYS.iter().map(|(n, _)| *n)),
                    types_hint()
                ));
            }
            found
        }
    };
    if let Some((ty, own)) = ty {
        for (k, _) in def.as_map().unwrap_or_default() {
            let k_text = k.as_str().unwrap_or("");
            // Keys outside `all_keys` were reported as unknown by `cx.map`.
            if all_keys.contains(&k_text)
                && !COMMON_KEYS.contains(&k_text)
                && !own.contains(&k_text)
            {
                let common = COMMON_KEYS.iter().filter(|&&c| c != "type");
                let takes: Vec<&str> = own.iter().chain(common).copied().collect();
                cx.err(k, format!("'{k_text}' does not apply to a {ty} check"))
                    .hint = Some(format!(
                    "remove it; a {ty} check takes: {}",
                    takes.join(", ")
                ));
            }
        }
    }

    let interval = m
        .get("interval")
        .and_then(|n| cx.duration(n, "interval"))
        .unwrap_or(Duration::from_secs(5));
    let timeout = m
        .get("timeout")
        .and_then(|n| cx.duration(n, "timeout"))
        .unwrap_or(Duration::from_secs(1).min(interval));
    if interval < Duration::from_millis(100)
        && let Some(n) = m.get("interval")
    {
        cx.err(n, "interval must be at least 100ms").hint =
            Some("the time between two probes of one target, e.g. interval: 5s".into());
    }
    if let Some(n) = m.get("timeout") {
        if timeout.is_zero() {
            cx.err(n, "timeout must be longer than 0").hint =
                Some("how long a probe may take, e.g. timeout: 1s".into());
        } else if timeout > interval {
            cx.err(n, "timeout must not be longer than interval").hint =
                Some("a probe must finish before the next one of the same target starts".into());
        }
    }
    let down = m
        .get("down")
        .and_then(|n| k_of_n(cx, n, "down"))
        .unwrap_or((3, 5));
    let up = m
        .get("up")
        .and_then(|n| k_of_n(cx, n, "up"))
        .unwrap_or((5, 5));

    let port = |cx: &mut Ctx<'_>, default: u16| match m.get("port") {
        Some(p) => cx.number(p, "port", 1, 65535).map_or(default, |v| v as u16),
        None => default,
    };
    let kind = match ty.map(|(t, _)| t) {
        Some("tcp") => {
            if !m.contains_key("port") {
                cx.err(key, format!("check '{name}' of type tcp needs 'port:'"))
                    .hint = Some("the port a probe connects to, e.g. port: 443".into());
            }
            CheckKind::Tcp { port: port(cx, 0) }
        }
        Some("http") => {
            let port = port(cx, 80);
            CheckKind::Http(http_check(cx, &m, port))
        }
        Some("https") => {
            let port = port(cx, 443);
            let http = http_check(cx, &m, port);
            let insecure = m
                .get("insecure")
                .and_then(|n| cx.flag(n, "insecure"))
                .unwrap_or(false);
            let ca_file = m.get("ca_file").and_then(|f| cx.text(f, "ca_file"));
            CheckKind::Https {
                http,
                insecure,
                ca_file: ca_file.map(|f| base.join(f)),
            }
        }
        Some("always_down") => CheckKind::AlwaysDown,
        Some("file") => match m.get("file").map(|f| cx.text(f, "file")) {
            Some(Some(f)) => CheckKind::File {
                path: base.join(f),
                max_size: cx.max_file_size,
            },
            // A value that is not a path was reported by `cx.text`.
            Some(None) => CheckKind::AlwaysUp,
            None => {
                cx.err(
                    key,
                    format!("check '{name}' of type file needs 'file: PATH'"),
                )
                .hint =
                    Some("a file of 'ADDRESS up|down' lines, relative to the server file".into());
                CheckKind::AlwaysUp
            }
        },
        // always_up, and the placeholder of a check whose type is wrong (never served: the
        // load fails on that error).
        _ => CheckKind::AlwaysUp,
    };
    let check = Check {
        name: name.to_string(),
        kind,
        interval,
        timeout,
        down,
        up,
    };
    // The prober checks what only it can (the host as a URL host and Host header, the path in
    // a URL, ca_file read and parsed). Built here, its error fails the load; at serve time it
    // would only log "not probed" and leave the targets up without a probe.
    if cx.diags.len() == errors_before
        && health::checks::is_probed(&check)
        && let Err(e) = Prober::new(&check)
    {
        cx.err(key, e).hint =
            Some("targets of a check that cannot be built are never probed".into());
    }
    check
}

/// The HTTP request and expected answer of an http/https check.
fn http_check(
    cx: &mut Ctx<'_>,
    m: &std::collections::HashMap<&str, &Node>,
    port: u16,
) -> HttpCheck {
    let expect_status = match m.get("expect_status") {
        Some(n) => {
            let items = n.one_or_many();
            if items.is_empty() {
                cx.err(n, "expect_status lists no status").hint = Some(
                    "list the statuses that count as up, e.g. expect_status: [200, 204], or \
                     leave it out for 200"
                        .into(),
                );
            }
            items
                .into_iter()
                .filter_map(|i| cx.number(i, "expect_status", 100, 599).map(|v| v as u16))
                .collect()
        }
        None => vec![200],
    };
    let mut text = |key: &str| m.get(key).and_then(|n| cx.text(n, key)).map(str::to_string);
    HttpCheck {
        port,
        path: text("path").unwrap_or_else(|| "/".into()),
        host: text("host"),
        expect_status,
        expect_body: text("expect_body"),
    }
}

/// `down: K/N` / `up: K/N`.
fn k_of_n(cx: &mut Ctx<'_>, n: &Node, what: &str) -> Option<(u32, u32)> {
    let s = n.as_str().unwrap_or("");
    let parsed = s
        .split_once('/')
        .and_then(|(k, m)| Some((k.trim().parse::<u32>().ok()?, m.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((k, m)) if k >= 1 && k <= m && m <= MAX_WINDOW => Some((k, m)),
        _ => {
            cx.err(
                n,
                format!("{what} '{s}' must be K/N with 1 <= K <= N <= {MAX_WINDOW}"),
            )
            .hint = Some(format!(
                "e.g. {what}: 10/20 means {} after 10 of the last 20 probes",
                if what == "down" { "DOWN" } else { "UP" }
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostics;

    /// Every type of the key table is parsed into the kind of that name: the table, the
    /// parser's match and [`CheckKind::type_name`] cannot drift apart.
    #[test]
    fn every_type_of_the_table_parses_into_its_kind() {
        let path = Path::new("dynadns.yaml");
        for (ty, _) in TYPE_KEYS {
            let text = format!("{{ type: {ty}, port: 80, file: f.txt }}");
            let def = crate::yaml::parse(&text, path).expect("yaml");
            let mut cx = Ctx {
                path,
                diags: Diagnostics::default(),
                sources: Vec::new(),
                source_stamps: Vec::new(),
                max_file_size: crate::fsread::DEFAULT_MAX_FILE_SIZE,
            };
            let c = check(&mut cx, "c", &def, &def, Path::new(""));
            assert_eq!(c.kind.type_name(), *ty);
        }
    }
}
