//! Methylation: beta matrices → a beta view of only the CpGs the models need → clock models.
//!
//! Rooms: [`source`] reads inputs (beta matrices; IDATs and bisulfite calls later) into a
//! [`source::BetaView`]; [`models`] holds the embedded clock registry, the transforms,
//! DunedinPACE, Zhang 2019's standardisation, the imputation policy and age acceleration.
//! Other methylation stages ([`celltypes`]: Houseman cell composition; [`nr3c1`]: NR3C1 probe
//! betas and promoter means) ask [`source::read_methylation`] for their own CpG list and get the
//! same view type.

pub mod array;
pub mod bundled;
pub mod cell_ontology;
pub mod celltypes;
pub mod models;
pub mod nr3c1;
pub mod sample_qc;
pub mod source;
pub mod stage;

use std::fmt;

/// The `reference_build` column: array probes are named by probe ID, not genome coordinates.
pub const PROBE_IDS: &str = "illumina_probe_ids";

/// An error in a methylation input, worded as a path from the file to the field:
/// `betas.csv: row 1,204: column S3: not a number: 'abc'`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// The file as the user named it (`-` shown as `stdin`).
    pub path: String,
    /// 1-based line of the file (the header is row 1), when the problem is in one row.
    pub row: Option<u64>,
    /// The column (sample name, CpG id or header name), when the problem is in one cell.
    pub column: Option<String>,
    /// What is wrong, in lower-case words.
    pub message: String,
}

impl InputError {
    /// An error about the file as a whole.
    pub fn file(path: &str, message: impl Into<String>) -> Self {
        InputError {
            path: display_path(path),
            row: None,
            column: None,
            message: message.into(),
        }
    }

    /// An error in one row.
    pub fn row(path: &str, row: u64, message: impl Into<String>) -> Self {
        InputError {
            path: display_path(path),
            row: Some(row),
            column: None,
            message: message.into(),
        }
    }

    /// An error in one cell.
    pub fn cell(path: &str, row: u64, column: &str, message: impl Into<String>) -> Self {
        InputError {
            path: display_path(path),
            row: Some(row),
            column: Some(column.to_string()),
            message: message.into(),
        }
    }
}

fn display_path(path: &str) -> String {
    if path == "-" {
        "stdin".to_string()
    } else {
        path.to_string()
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::core::write_location(
            f,
            &self.path,
            self.row,
            self.column.as_deref(),
            &self.message,
        )
    }
}

impl std::error::Error for InputError {}

impl crate::core::error::Categorised for InputError {
    fn category(&self) -> crate::core::error::Category {
        crate::core::error::category_of_input_message(&self.message)
    }
}

/// A cell's text as shown in an error message: quoted, at most 40 characters.
pub fn quote_cell(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    format!("'{s}'")
}
