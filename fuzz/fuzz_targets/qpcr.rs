//! Fuzz target: a qPCR plate export (RDML zip or XML, CFX, ABI, LightCycler 480, plain table)
//! must never panic; an accepted export has wells, each with a non-empty target.
#![no_main]

use agemark::qpcr::parse::parse_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = parse_bytes("plate", "plate", data) {
        assert!(!r.is_empty());
        for w in &r {
            assert!(!w.target.is_empty() && !w.well.is_empty(), "{w:?}");
        }
    }
});
