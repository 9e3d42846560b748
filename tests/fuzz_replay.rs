//! Replays every committed fuzz input (`fuzz/corpus/TARGET/*`, the minimized corpora, and
//! `fuzz/regressions/TARGET/*`, inputs that once crashed or disagreed) through the same checks
//! the fuzz targets run (`tests/fuzz_checks`), so a regression fails `cargo test` without
//! cargo-fuzz or a nightly toolchain.

mod fuzz_checks;

use std::path::Path;

/// The files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn replay(target: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = inputs(&root.join("corpus").join(target));
    let regressions = inputs(&root.join("regressions").join(target));
    // An empty corpus would make this test pass without checking anything.
    assert!(
        !corpus.is_empty(),
        "no corpus for {target} in fuzz/corpus/{target}"
    );
    for file in corpus.iter().chain(&regressions) {
        let data = std::fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| fuzz_checks::run(target, &data));
        if outcome.is_err() {
            panic!("{target}: {} fails its checks", file.display());
        }
    }
    let _ = std::fs::remove_dir_all(fuzz_checks::scratch(target));
    eprintln!(
        "{target}: {} corpus and {} regression inputs pass",
        corpus.len(),
        regressions.len()
    );
}

#[test]
fn packet_parse_corpus() {
    replay("packet_parse");
}

#[test]
fn respond_corpus() {
    replay("respond");
}

#[test]
fn zone_yaml_corpus() {
    replay("zone_yaml");
}

#[test]
fn master_file_corpus() {
    replay("master_file");
}

#[test]
fn config_corpus() {
    replay("config");
}

#[test]
fn networks_corpus() {
    replay("networks");
}

/// Every target has a test above.
#[test]
fn every_target_is_replayed() {
    assert_eq!(
        fuzz_checks::TARGETS,
        [
            "packet_parse",
            "respond",
            "zone_yaml",
            "master_file",
            "config",
            "networks"
        ]
    );
}
