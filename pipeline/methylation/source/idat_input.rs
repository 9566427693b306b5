//! IDAT directories / prefixes as a methylation input (issue 5): detection and loading into a
//! [`ProbeTable`]. Placeholder until the IDAT reader lands: nothing is detected as IDAT yet.

use super::{table::ProbeTable, ReaderOptions};
use crate::methylation::InputError;

/// Options for reading IDATs (manifest, platform, beta offset…).
#[derive(Clone, Debug, Default)]
pub struct IdatInputOptions {}

/// Whether `path` names IDAT input (a directory holding `*_Grn.idat`/`*_Red.idat`, or a
/// `<barcode>_<position>` prefix).
pub fn detect(_path: &str) -> bool {
    false
}

/// Reads and preprocesses the IDATs of `path` into a probe table.
pub fn load(path: &str, _opts: &ReaderOptions) -> Result<ProbeTable, InputError> {
    Err(InputError::file(path, "IDAT input is not supported yet"))
}
