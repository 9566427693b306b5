//! Fuzz target: the cohort sample sheet (RFC 4180, BOM, every column) must never panic; an
//! accepted sheet has only file-name-safe sample ids.
#![no_main]

use agemark::cohort::samplesheet::{sample_id_problem, CohortSheet};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("sheet.csv", data);
    if let Ok(sheet) = CohortSheet::read_with(&path, false) {
        if !sheet.has_errors() {
            for s in &sheet.samples {
                assert!(
                    sample_id_problem(&s.sample_id).is_none(),
                    "{:?}",
                    s.sample_id
                );
            }
        }
    }
});
