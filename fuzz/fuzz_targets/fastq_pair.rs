//! Fuzz target: paired FASTQ input (the two files read in step, names compared) must never
//! panic. The input is split in two at its first NUL byte.
#![no_main]

use agemark::{readpass, reads::InputSpec, telomere::TelomereOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let r1 = common::file("r1.fq", &data[..cut]);
    let r2 = common::file("r2.fq", data.get(cut + 1..).unwrap_or_default());
    let spec = InputSpec {
        path: r1,
        path2: Some(r2),
        reference: None,
        interleaved: false,
    };
    let _ = readpass::read_pass(
        &spec,
        Some("fuzz"),
        Some(readpass::TelomereMode::Short(TelomereOptions::default())),
        None,
        1,
    );
});
