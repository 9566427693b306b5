//! One `run()` per subcommand: wires inputs → stages → writers.

pub mod celltypes;
pub mod clocks;
pub mod demo;
pub mod idat;
pub mod merge;
pub mod methinput;
pub mod mtdna;
pub mod nr3c1;
pub mod pileup;
pub mod qpcr;
pub mod reads;
pub mod reference;
pub mod report;
pub mod run;
pub mod scores;
pub mod telomere;

use std::fmt;

use agemark::core::error::Categorised;

use agemark::{cohort::samplesheet::SheetError, methylation::InputError};
use agemark::{reads::ReadError, tidy::WriteError};

/// Errors a command ends with; printed as one line on stderr.
#[derive(Debug)]
pub enum AppError {
    /// Reading an input failed.
    Read(ReadError),
    /// Writing an output failed.
    Write(WriteError),
    /// The arguments do not make sense together.
    Usage(String),
    /// A methylation input (beta matrix, model table) is not usable.
    Input(InputError),
    /// The sample sheet is not usable.
    Sheet(SheetError),
    /// A library pipeline's error (its category sets the exit code).
    Lib(agemark::core::error::Error),
}

impl From<agemark::core::error::Error> for AppError {
    fn from(e: agemark::core::error::Error) -> Self {
        AppError::Lib(e)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Read(e) => e.fmt(f),
            AppError::Write(e) => e.fmt(f),
            AppError::Usage(s) => f.write_str(s),
            AppError::Input(e) => e.fmt(f),
            AppError::Sheet(e) => e.fmt(f),
            AppError::Lib(e) => e.fmt(f),
        }
    }
}

impl From<ReadError> for AppError {
    fn from(e: ReadError) -> Self {
        AppError::Read(e)
    }
}

impl From<WriteError> for AppError {
    fn from(e: WriteError) -> Self {
        AppError::Write(e)
    }
}

impl From<InputError> for AppError {
    fn from(e: InputError) -> Self {
        AppError::Input(e)
    }
}

impl From<SheetError> for AppError {
    fn from(e: SheetError) -> Self {
        AppError::Sheet(e)
    }
}

/// Exit code for an error.
pub fn exit_code(e: &AppError) -> i32 {
    match e {
        AppError::Read(e) => e.category().exit_code(),
        AppError::Write(_) => 3,
        AppError::Usage(_) => 2,
        AppError::Input(e) => e.category().exit_code(),
        AppError::Sheet(e) => e.category().exit_code(),
        AppError::Lib(e) => e.exit_code(),
    }
}
