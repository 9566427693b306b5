//! Fuzz target: the read pass (BAM/SAM/CRAM framing, BGZF, gzip, FASTQ and FASTA sniffing and
//! parsing) with the telomere and mtDNA stages, and with the long-read telomere stage, must never
//! panic on any bytes.
#![no_main]

use agemark::{mtdna::MtdnaOptions, readpass, reads::InputSpec, telomere::TelomereOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::file("reads.in", data);
    let spec = InputSpec {
        path,
        path2: None,
        reference: None,
        interleaved: false,
    };
    let _ = readpass::read_pass(
        &spec,
        Some("fuzz"),
        Some(readpass::TelomereMode::Short(TelomereOptions::default())),
        Some((MtdnaOptions::default(), false)),
        1,
    );
    let _ = readpass::read_pass(
        &spec,
        Some("fuzz"),
        Some(readpass::TelomereMode::Long(Default::default())),
        None,
        1,
    );
});
