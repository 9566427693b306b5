//! Cohort-level inputs and outputs: the sample sheet, pseudonyms, the merged cohort tables, the
//! HTML report and the resume manifest.

pub mod manifest;
pub mod merge;
pub mod pseudo;
pub mod report;
pub mod samplesheet;
pub mod svg;
