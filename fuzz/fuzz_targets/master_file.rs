//! Fuzz target `master_file`: the checks live in tests/fuzz_checks (shared with tests/fuzz_replay.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz_checks/mod.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::master_file(data));
