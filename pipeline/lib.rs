//! agemark: biomarkers of biological ageing and early-life stress from sequencing reads and
//! methylation data, written as tidy tables ready for cohort linkage.
//!
//! Rooms: [`core`] (shared vocabulary), [`tidy`] (the output table), [`reads`] (inputs and the
//! one-pass engine), [`telomere`] (TelSeq- and TelomereHunter-compatible estimators).

#![warn(missing_docs)]

pub mod cohort;
pub mod coords;
pub mod core;
pub mod idat;
pub mod methylation;
pub mod mtdna;
pub mod readpass;
pub mod reads;
pub mod synthetic;
pub mod telomere;
pub mod tidy;
