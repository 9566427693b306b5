//! The methylation input options of `clocks`, `celltypes` and `nr3c1` → [`ReaderOptions`].

use agemark::methylation::source::{
    calls_input::{CallsBuild, CallsFormat, CallsInputOptions},
    idat_input::IdatInputOptions,
    Orientation, ReaderOptions,
};

use agemark::methylation::array::{manifest::Platform, PreprocessOptions};

use super::AppError;
use crate::cli::{
    BuildArg, CallsFormatArg, CallsInputArgs, CpgLayout, IdatInputArgs, MethInputArgs, PlatformArg,
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
pub fn idat_options(args: &IdatInputArgs) -> Result<IdatInputOptions, AppError> {
    if !(args.beta_offset.is_finite() && args.beta_offset >= 0.0) {
        return Err(AppError::Usage(format!(
            "--beta-offset must be a number >= 0, not {}",
            args.beta_offset
        )));
    }
    if !(0.0..=1.0).contains(&args.detection_p) {
        return Err(AppError::Usage(format!(
            "--detection-p must be between 0 and 1, not {}",
            args.detection_p
        )));
    }
    Ok(IdatInputOptions {
        manifest: args.manifest.clone(),
        platform: platform(args.platform),
        preprocess: PreprocessOptions {
            beta_offset: args.beta_offset,
            pval_threshold: args.detection_p,
        },
    })
}

/// Sequencing-calls options from the command line.
pub fn calls_options(args: &CallsInputArgs) -> Result<CallsInputOptions, AppError> {
    if let Some(p) = args.mod_threshold {
        if !(0.0..=1.0).contains(&p) {
            return Err(AppError::Usage(format!(
                "--mod-threshold must be a probability between 0 and 1, not {p}"
            )));
        }
    }
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
        reference: args.reference.clone(),
        mod_threshold: args.mod_threshold,
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

/// The library's platform of `--platform` (`None` for `auto`).
pub fn platform(p: PlatformArg) -> Option<Platform> {
    match p {
        PlatformArg::Auto => None,
        PlatformArg::Hm27 => Some(Platform::Hm27),
        PlatformArg::Hm450 => Some(Platform::Hm450),
        PlatformArg::Epic => Some(Platform::Epic),
        PlatformArg::Epicv2 => Some(Platform::EpicV2),
        PlatformArg::Msa => Some(Platform::Msa),
    }
}

/// `--impute` → the library's policy (`agemark clocks`, `agemark scores`).
pub fn impute(a: crate::cli::ImputeArg) -> agemark::methylation::models::Impute {
    use crate::cli::ImputeArg;
    use agemark::methylation::models::Impute;
    match a {
        ImputeArg::Auto => Impute::Auto,
        ImputeArg::CohortMean => Impute::CohortMean,
        ImputeArg::Reference => Impute::Reference,
        ImputeArg::None => Impute::None,
    }
}
