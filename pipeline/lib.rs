//! agemark: biomarkers of biological ageing and early-life stress from sequencing reads and
//! methylation data, written as tidy tables ready for cohort linkage.
//!
//! The library owns every pipeline; the `agemark` binary only turns arguments into one call.
//! Rooms, bottom floor first (every import points down; ARCHITECTURE.md is the map):
//! - [`core`] (ids, provenance, QC status, builds, error categories, hashing, linear algebra)
//!   and [`tidy`] (the output table);
//! - [`reads`] (inputs and the one-pass engine), [`idat`] (the IDAT reader crate),
//!   [`coords`] (probe coordinates);
//! - the science: [`telomere`], [`mtdna`], [`methylation`] (sources, arrays, clocks, cell
//!   types, NR3C1);
//! - [`readpass`] (one read pass of a sample) and `methylation::stage` (the methylation
//!   stage seam);
//! - [`cohort`] (sheet, plan, runner, merge, report) and [`pipelines`] (one entry point per
//!   single-input command, and the demo).

pub mod cohort;
pub mod coords;
pub mod core;
pub mod idat;
pub mod methylation;
pub mod modpileup;
pub mod mtdna;
pub mod pipelines;
pub mod qpcr;
pub mod readpass;
pub mod reads;
pub mod synthetic;
pub mod telomere;
pub mod tidy;
