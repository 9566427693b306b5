//! Shared vocabulary of every stage: QC status, provenance, contig names and genome builds.
//!
//! This module knows nothing of file formats or of the command line.

pub mod build;
pub mod checksum;
pub mod embedded;
pub mod error;
pub mod hash;
pub mod linalg;
pub mod progress;
pub mod rng;
pub mod stats;

use std::fmt;

/// The version string written into every output row and printed by `agemark --version`.
pub const AGEMARK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Outcome of the quality checks attached to one output row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QcStatus {
    /// The value was computed under the documented assumptions.
    Pass,
    /// The value was computed but an assumption was bent (a fallback, low counts); `qc_note` says which.
    Warn,
    /// The value could not be computed; it is empty and `qc_note` says why.
    Fail,
}

impl QcStatus {
    /// The lower-case word written into tables.
    pub fn as_str(self) -> &'static str {
        match self {
            QcStatus::Pass => "pass",
            QcStatus::Warn => "warn",
            QcStatus::Fail => "fail",
        }
    }
}

impl fmt::Display for QcStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a table's rows came from: written into the `input`, `reference_build` and
/// `agemark_version` columns of every row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The sample the rows describe.
    pub sample_id: String,
    /// Input file name(s) without directories, `+`-joined for paired inputs.
    pub input: String,
    /// Reference build detected from the header (`GRCh38`, `GRCh37`, `hg19`, `T2T-CHM13`,
    /// `unknown`, or `unaligned` for FASTQ).
    pub reference_build: String,
}

/// The file name of a path without its directories, as written in the `input` column: a
/// workflow manager's staging directory must not change the output.
pub fn file_name_of(path: &str) -> String {
    if path == "-" {
        return "stdin".to_string();
    }
    std::path::Path::new(path)
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
}

/// A sample id derived from an input file name: the name without directories and without the
/// usual sequencing suffixes (`.bam`, `.cram`, `.sam`, `.fastq.gz`, `_R1.fq`, …).
pub fn sample_id_from_path(path: &str) -> String {
    let mut name = file_name_of(path);
    for suffix in [".gz", ".bgz", ".bz2"] {
        if let Some(s) = name.strip_suffix(suffix) {
            name = s.to_string();
        }
    }
    for suffix in [
        ".bam", ".cram", ".sam", ".fastq", ".fq", ".ifq", ".fa", ".fasta",
    ] {
        if let Some(s) = name.strip_suffix(suffix) {
            name = s.to_string();
            break;
        }
    }
    for suffix in ["_R1_001", "_R1", "_1", ".R1", ".1", ".ifq"] {
        if let Some(s) = name.strip_suffix(suffix) {
            if !s.is_empty() {
                name = s.to_string();
                break;
            }
        }
    }
    name
}

/// Writes an error location as a path from file to cell: `file: row 1,204: column S3: what`
/// (row and column only when known). Shared by the table-reading layers' error types.
pub fn write_location(
    f: &mut fmt::Formatter<'_>,
    path: &str,
    row: Option<u64>,
    column: Option<&str>,
    message: &str,
) -> fmt::Result {
    write!(f, "{path}")?;
    if let Some(r) = row {
        write!(f, ": row {}", thousands(r))?;
    }
    if let Some(c) = column {
        write!(f, ": column {c}")?;
    }
    write!(f, ": {message}")
}

/// Formats a count with thousands separators, as used in error messages ("record 1,204,332").
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_ids_drop_directories_and_suffixes() {
        assert_eq!(sample_id_from_path("/stage/x/NA12878.bam"), "NA12878");
        assert_eq!(sample_id_from_path("a/b/S1_R1.fastq.gz"), "S1");
        assert_eq!(sample_id_from_path("S2.cram"), "S2");
        assert_eq!(sample_id_from_path("-"), "stdin");
        assert_eq!(file_name_of("/tmp/work/ab/cd/s.bam"), "s.bam");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_204_332), "1,204,332");
    }
}
