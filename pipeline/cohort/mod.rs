//! Cohort-level inputs: the sample sheet (issue 6 adds the run plan, resume manifest, merge and
//! pseudonymisation).

pub mod samplesheet;
