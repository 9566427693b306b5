//! Fuzz target: sequencing methylation calls (Bismark coverage and cytosine reports,
//! bedMethyl, BISCUIT, MethylDackel; gzip or not) must never panic.
#![no_main]

use agemark::methylation::source::{calls_input, ReaderOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("calls.bed", data);
    let _ = calls_input::load(&path, &ReaderOptions::default());
});
