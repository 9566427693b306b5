//! Fuzz target: BAM record framing. The input is raw (uncompressed) BAM bytes — header, then
//! records — so that mutations hit block sizes, name lengths, CIGAR and sequence lengths and
//! tags directly; the target wraps them in BGZF before the read pass (telomere and mtDNA
//! stages), which must never panic.
#![no_main]

use std::io::Write;

use agemark::{mtdna::MtdnaOptions, readpass, reads::InputSpec, telomere::TelomereOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let mut w = noodles_bgzf::io::Writer::new(Vec::new());
    w.write_all(data).expect("bgzf to memory");
    let bgzf = w.finish().expect("bgzf to memory");
    let spec = InputSpec {
        path: common::file("fuzz.bam", &bgzf),
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
});
