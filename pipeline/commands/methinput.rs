//! The methylation input options of `clocks`, `celltypes` and `nr3c1` → [`ReaderOptions`].

use agemark::methylation::source::{
    calls_input::CallsInputOptions, idat_input::IdatInputOptions, Orientation, ReaderOptions,
};

use super::AppError;
use crate::cli::{CallsInputArgs, CpgLayout, IdatInputArgs, MethInputArgs};

/// Reader options from the command line.
pub fn reader_options(args: &MethInputArgs) -> Result<ReaderOptions, AppError> {
    Ok(ReaderOptions {
        orientation: match args.cpgs_as {
            CpgLayout::Auto => Orientation::Auto,
            CpgLayout::Rows => Orientation::CpgRows,
            CpgLayout::Columns => Orientation::CpgColumns,
        },
        m_values: args.m_values,
        sample_moments: false,
        idat: idat_options(&args.idat)?,
        calls: calls_options(&args.calls)?,
    })
}

/// IDAT options from the command line.
pub fn idat_options(_args: &IdatInputArgs) -> Result<IdatInputOptions, AppError> {
    Ok(IdatInputOptions::default())
}

/// Sequencing-calls options from the command line.
pub fn calls_options(_args: &CallsInputArgs) -> Result<CallsInputOptions, AppError> {
    Ok(CallsInputOptions::default())
}
