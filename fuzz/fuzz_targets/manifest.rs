//! Fuzz target: array manifests (Illumina CSV with [Assay]/[Controls] sections, sesame TSV)
//! must never panic.
#![no_main]

use agemark::methylation::array::manifest::read_manifest;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("manifest.csv", data);
    let _ = read_manifest(&path);
});
