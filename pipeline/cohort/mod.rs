//! Cohort-level inputs and outputs: the sample sheet, pseudonyms, the merged cohort tables, the
//! HTML report, the resume manifest, and the cohort run itself ([`runner`], planned by
//! [`plan`]).

pub mod manifest;
pub mod merge;
pub mod plan;
pub mod pseudo;
pub mod report;
pub mod runner;
pub mod sample_qc;
pub mod samplesheet;
pub mod svg;
