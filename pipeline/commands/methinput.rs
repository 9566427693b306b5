//! The methylation input options of `clocks`, `celltypes` and `nr3c1` → [`ReaderOptions`].

use agemark::methylation::source::{
    calls_input::{CallsBuild, CallsFormat, CallsInputOptions},
    idat_input::IdatInputOptions,
    Orientation, ReaderOptions,
};

use super::AppError;
use crate::cli::{
    BuildArg, CallsFormatArg, CallsInputArgs, CpgLayout, IdatInputArgs, MethInputArgs,
};

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
pub fn calls_options(args: &CallsInputArgs) -> Result<CallsInputOptions, AppError> {
    if args.min_coverage == 0 {
        return Err(AppError::Usage(
            "--min-coverage must be at least 1 read".to_string(),
        ));
    }
    Ok(CallsInputOptions {
        build: match args.build {
            BuildArg::Hg19 => CallsBuild::Hg19,
            BuildArg::Hg38 => CallsBuild::Hg38,
        },
        min_coverage: args.min_coverage,
        format: args.calls_format.map(|f| match f {
            CallsFormatArg::BismarkCov => CallsFormat::BismarkCov,
            CallsFormatArg::BismarkReport => CallsFormat::BismarkReport,
            CallsFormatArg::Biscuit => CallsFormat::Biscuit,
            CallsFormatArg::MethrixMu => CallsFormat::MethrixMu,
            CallsFormatArg::Methyldackel => CallsFormat::MethylDackel,
            CallsFormatArg::Modkit => CallsFormat::Modkit,
        }),
    })
}
