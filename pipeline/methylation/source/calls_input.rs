//! Sequencing methylation calls (Bismark coverage / cytosine report, BISCUIT, methrix M/U,
//! MethylDackel bedGraph, modkit bedMethyl) as a methylation input (issue 5): detection and
//! mapping of CpG positions to probe IDs into a [`ProbeTable`]. Placeholder until the readers
//! land: nothing is detected as calls yet.

use super::{table::ProbeTable, ReaderOptions};
use crate::methylation::InputError;

/// Options for sequencing calls (genome build, minimum coverage…).
#[derive(Clone, Debug, Default)]
pub struct CallsInputOptions {}

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
