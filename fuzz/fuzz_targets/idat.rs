//! Fuzz target: the IDAT parser must never panic nor allocate beyond the input's size.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(idat) = agemark::idat::parse(data) {
        let n = idat.ids.len();
        assert_eq!(idat.means.len(), n);
        assert_eq!(idat.sds.len(), n);
        assert_eq!(idat.n_beads.len(), n);
        assert!(n * 9 <= data.len());
    }
});
