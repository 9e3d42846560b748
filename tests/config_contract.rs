//! The server file example of the design contract (`../shared/design/dynadns.md`, section
//! "Server file") must load: the example is what operators copy, so it must never drift from
//! what the loader accepts.
//!
//! The YAML block is read from the contract at test time and written, with the files it refers
//! to, into a temp dir. Without the shared checkout the test skips with a message, unless
//! `DYNADNS_REQUIRE_CONFORMANCE=1` makes that a failure.
//!
//! The example as written does not load: its `rtb` resource names check `rtb-tcp` and
//! datacenter `eu`, which it never defines. The test pins those errors exactly, so any change
//! in the contract's own errors fails it; then it adds the two missing definitions (marked
//! `# fixture`) and requires the example to load without any error (`limits.rrl` included). The example's `geoip/demo-city.mmdb` is the shared MaxMind City test
//! database (`../shared/geoip/GeoIP2-City-Test.mmdb`) copied into the temp dir.

mod common;

use common::{MINIMAL_ZONE, TempDir};
use dynadns::diag::Diagnostic;

/// The first ```yaml block after the "## Server file" heading.
fn server_file_example(contract: &str) -> String {
    let from = contract
        .find("\n## Server file")
        .expect("the contract has a '## Server file' section");
    let rest = &contract[from..];
    let start = rest.find("```yaml\n").expect("a ```yaml block") + "```yaml\n".len();
    let len = rest[start..].find("```").expect("the block is closed");
    rest[start..start + len].to_string()
}

/// Inserts `line` right after the line `section` (e.g. `checks:`).
fn add_under(yaml: &str, section: &str, line: &str) -> String {
    let mut out = String::new();
    for l in yaml.lines() {
        out.push_str(l);
        out.push('\n');
        if l.split('#').next().unwrap_or("").trim_end() == section {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(out.len() > yaml.len(), "no line '{section}' in\n{yaml}");
    out
}

/// Loads `yaml` as the server file beside the zone and the files the example names; the
/// errors, in file order.
fn errors_of(yaml: &str, mmdb: &[u8]) -> Vec<Diagnostic> {
    let zone = format!(
        "{MINIMAL_ZONE}  www: {{ DYNA: www }}\n  rtb: {{ DYNA: rtb }}\n  api: {{ DYNC: api }}\n"
    );
    let dir = TempDir::with(&[
        ("dynadns.yaml", yaml),
        ("zones/example.com.yaml", &zone),
        (
            "pools/rtb-eu.txt",
            "192.0.2.101\n192.0.2.102 weight=2\n192.0.2.103\n",
        ),
        ("geoip/partners.txt", "# partners\n203.0.113.0/24 nsk,msk\n"),
    ]);
    common::write_files(dir.path(), &[("geoip/demo-city.mmdb", mmdb)]);
    match dynadns::config::load(&dir.join("dynadns.yaml")) {
        Ok(_) => Vec::new(),
        Err(d) => d.0,
    }
}

/// Asserts that `errors` are exactly `expected` (message prefixes), each at the first
/// occurrence in `yaml` of the text that follows the prefix's quoted name, e.g. `geoip:`.
fn assert_errors(yaml: &str, errors: &[Diagnostic], expected: &[(&str, &str)]) {
    let shown = |d: &Diagnostic| format!("{}:{}: {}", d.line, d.col, d.message);
    let got: Vec<String> = errors.iter().map(shown).collect();
    let want: Vec<String> = expected
        .iter()
        .map(|(prefix, at)| {
            let (line, col) = yaml
                .lines()
                .enumerate()
                .find_map(|(i, l)| l.find(at).map(|c| (i + 1, c + 1)))
                .unwrap_or_else(|| panic!("{at:?} not in\n{yaml}"));
            format!("{line}:{col}: {prefix}")
        })
        .collect();
    assert_eq!(got.len(), want.len(), "{got:#?}\nexpected {want:#?}");
    for (g, w) in got.iter().zip(&want) {
        assert!(g.starts_with(w.as_str()), "{got:#?}\nexpected {want:#?}");
    }
}

#[test]
fn contract_server_file_example_loads() {
    let Some(path) = common::shared_path("design/dynadns.md", "design contract") else {
        return;
    };
    let contract = std::fs::read_to_string(&path).expect("read the design contract");
    let example = server_file_example(&contract);
    let Some(db) = common::shared_path("geoip/GeoIP2-City-Test.mmdb", "GeoIP test database") else {
        return;
    };
    let mmdb = std::fs::read(db).expect("read the GeoIP test database");

    // Every key of the example loads, `limits.rrl` and the GeoIP keys included. The
    // contract's own gaps, in file order: when the contract defines `rtb-tcp` and `eu`, these
    // two go, and so do the fixture lines below.
    let as_written = [
        ("unknown check 'rtb-tcp'", "rtb-tcp"),
        ("datacenter 'eu' is not declared", "eu:"),
    ];
    assert_errors(&example, &errors_of(&example, &mmdb), &as_written);

    let fixed = add_under(
        &example,
        "checks:",
        "  rtb-tcp: { type: tcp, port: 8080 }        # fixture: the contract does not define it",
    );
    let fixed = add_under(
        &fixed,
        "datacenters:",
        "  eu: {}                                   # fixture: the contract does not declare it",
    );
    assert_errors(&fixed, &errors_of(&fixed, &mmdb), &[]);
}
