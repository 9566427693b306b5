//! Fuzz target: the beta-matrix reader (CSV/TSV, either orientation, quotes, gzip, EPICv2
//! suffixes) must never panic, and whatever it accepts holds betas in [0, 1] or missing.
#![no_main]

use agemark::methylation::source::{read_beta_matrix, ReaderOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("matrix.csv", data);
    let needed: Vec<String> = ["cg1", "cg2", "cg3", "cg00000029"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Ok(view) = read_beta_matrix(&path, &needed, &ReaderOptions::default()) {
        for v in view.values.filled_values() {
            assert!(v.is_nan() || (0.0..=1.0).contains(v), "beta {v}");
        }
    }
});
