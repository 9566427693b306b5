//! Sequencing methylation calls (Bismark coverage / cytosine report, BISCUIT, methrix M/U,
//! MethylDackel bedGraph, modkit bedMethyl) as a methylation input (issue 5): detection and
//! mapping of CpG positions to probe IDs into a [`ProbeTable`]. Placeholder until the readers
//! land: nothing is detected as calls yet.

use super::{table::ProbeTable, ReaderOptions};
use crate::methylation::InputError;

/// Genome builds sequencing calls can be mapped from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CallsBuild {
    /// GRCh37/hg19 coordinates.
    #[default]
    Hg19,
    /// GRCh38/hg38 coordinates.
    Hg38,
}

/// Options for sequencing calls (genome build, minimum coverage…).
#[derive(Clone, Debug, Default)]
pub struct CallsInputOptions {
    /// The build the calls' coordinates are in.
    pub build: CallsBuild,
}

/// One covered CpG of a calls file, by coordinate, both strands merged.
#[derive(Clone, Debug, PartialEq)]
pub struct CoveredCpg {
    /// Chromosome as named in the file.
    pub chrom: String,
    /// 1-based position of the C of the CpG on the + strand.
    pub pos: u64,
    /// Methylated calls (both strands).
    pub methylated: u32,
    /// All calls (both strands).
    pub coverage: u32,
    /// methylated / coverage.
    pub beta: f64,
}

/// Whether `path` names a sequencing-calls file (by name and first lines).
pub fn detect(_path: &str) -> bool {
    false
}

/// Reads the calls of `path` (one sample per file) into a probe table.
pub fn load(path: &str, _opts: &ReaderOptions) -> Result<ProbeTable, InputError> {
    Err(InputError::file(
        path,
        "sequencing calls are not supported yet",
    ))
}

/// Every CpG of `path` covered at the minimum coverage inside `chrom:start-end` (1-based,
/// inclusive, in the build of `opts.calls.build`; `chrom` with or without `chr`), sorted by
/// position: for reporting a region (the NR3C1 promoter) by coordinate, not only by probe.
pub fn region_cpgs(
    path: &str,
    _opts: &ReaderOptions,
    _chrom: &str,
    _start: u64,
    _end: u64,
) -> Result<Vec<CoveredCpg>, InputError> {
    Err(InputError::file(
        path,
        "sequencing calls are not supported yet",
    ))
}
