//! Fuzz target `packet_parse`: the checks live in tests/fuzz_checks (shared with tests/fuzz_replay.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/fuzz_checks/mod.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::packet_parse(data));
