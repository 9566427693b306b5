//! `agemark clocks`: epigenetic clocks (and age acceleration) from a beta matrix.

use std::time::Instant;

use agemark::{
    cohort::samplesheet::SampleSheet,
    core::file_name_of,
    methylation::{
        celltypes,
        models::{
            self, acceleration,
            registry::{ModelInfo, Registry},
            ClockOptions, Impute,
        },
        InputError,
    },
    tidy,
};
use tracing::{info, warn};

use super::{methinput, telomere::write_rows, AppError};
use crate::cli::{ClocksArgs, ImputeArg};

/// The registry with `--models-dir` added.
pub fn registry(models_dir: Option<&std::path::Path>) -> Result<Registry, AppError> {
    let mut reg = Registry::bundled()?;
    if let Some(dir) = models_dir {
        reg.add_models_dir(dir)?;
    }
    Ok(reg)
}

/// The build sequencing calls are read in, in words.
fn run_build(reader: &agemark::methylation::source::ReaderOptions) -> &'static str {
    match reader.calls.build {
        agemark::methylation::source::calls_input::CallsBuild::Hg19 => "hg19",
        agemark::methylation::source::calls_input::CallsBuild::Hg38 => "hg38",
    }
}

/// `agemark clocks`.
pub fn run(args: &ClocksArgs) -> Result<(), AppError> {
    if !(0.0..=1.0).contains(&args.max_missing) {
        return Err(AppError::Usage(format!(
            "--max-missing must be a fraction between 0 and 1, not {}",
            args.max_missing
        )));
    }
    let started = Instant::now();
    let reg = registry(args.models_dir.as_deref())?;
    let infos: Vec<ModelInfo> = reg.select(&args.clocks).map_err(AppError::Usage)?;
    let explicit =
        !(args.clocks.trim().is_empty() || args.clocks.split(',').any(|c| c.trim() == "all"));
    let models = infos
        .iter()
        .map(|i| reg.load(i))
        .collect::<Result<Vec<_>, _>>()?;
    let sheet = match &args.samplesheet {
        Some(p) => Some(SampleSheet::read(p)?),
        None => None,
    };
    if args.output != "-" {
        tidy::prepare_output_dir(std::path::Path::new(&args.output))?;
    }
    let reader = methinput::reader_options(&args.input)?;
    let opts = ClockOptions {
        impute: match args.impute {
            ImputeArg::Auto => Impute::Auto,
            ImputeArg::CohortMean => Impute::CohortMean,
            ImputeArg::Reference => Impute::Reference,
            ImputeArg::None => Impute::None,
        },
        max_missing: args.max_missing,
    };
    let run = models::run_clocks(&args.input.betas, &models, &opts, &reader)?;
    let shown = if args.input.betas == "-" {
        "stdin".to_string()
    } else {
        args.input.betas.clone()
    };
    // A matrix with none of a clock's CpGs: an error when the clock was asked for by name, or
    // when it holds none of any requested clock's CpGs.
    let empty: Vec<&models::ClockResult> =
        run.results.iter().filter(|r| r.n_present == 0).collect();
    if !empty.is_empty() && (explicit || empty.len() == run.results.len()) {
        let names: Vec<String> = empty
            .iter()
            .map(|r| format!("{} ({} CpGs)", r.info.name, r.n_cpgs))
            .collect();
        let why = match agemark::methylation::source::input_kind(&args.input.betas) {
            agemark::methylation::source::InputKind::Matrix => format!(
                "the matrix has none of the CpGs of {}: is this the right file, with CpGs named by Illumina probe ID (cg…) and {} ({})?",
                names.join(", "),
                run.reader.orientation.describe(),
                if run.reader.orientation_detected { "detected; override with --cpgs-as" } else { "as given by --cpgs-as" }
            ),
            agemark::methylation::source::InputKind::Calls => format!(
                "the calls cover none of the CpGs of {} (at --min-coverage; positions read as {}): is this the right file and build?",
                names.join(", "),
                run_build(&reader)
            ),
            agemark::methylation::source::InputKind::Idat => format!(
                "the IDATs give none of the CpGs of {}: is the platform/manifest right?",
                names.join(", ")
            ),
        };
        return Err(InputError::file(&shown, why).into());
    }
    for r in &empty {
        warn!(
            "{shown}: none of the {} CpGs of {} are in the input: its rows fail",
            r.n_cpgs, r.info.name
        );
    }
    let cells = match &args.celltypes {
        Some(p) => Some(celltypes::read_fractions_table(p)?),
        None => None,
    };
    let accel: Vec<Option<acceleration::Acceleration>> = match &sheet {
        Some(sh) => {
            sh.check_matches(&file_name_of(&args.input.betas), &run.samples)?;
            run.results
                .iter()
                .map(|r| {
                    let mut a = acceleration::accelerate(r, &run.samples, sh)?;
                    if let Some(c) = &cells {
                        a.ieaa = acceleration::ieaa(r, &run.samples, sh, c);
                    }
                    Some(a)
                })
                .collect()
        }
        None => Vec::new(),
    };
    if let Some(c) = &cells {
        let missing: Vec<&String> = run.samples.iter().filter(|s| c.get(s).is_none()).collect();
        if !missing.is_empty() {
            warn!(
                "{}: {} of the {} samples are not in {} (first: {}): their _ieaa rows fail",
                shown,
                missing.len(),
                run.samples.len(),
                c.path,
                missing[0]
            );
        }
    }
    let rows = models::to_rows(&run, &file_name_of(&args.input.betas), &accel);
    for note in run.reader.sentences() {
        info!("{shown}: {note}");
    }
    info!(
        "{shown}: {} samples × {} clocks in {:.2} s ({}; {} rows read; {} CpGs held = {:.1} MB, {} streamed; imputation {})",
        run.samples.len(),
        run.results.len(),
        started.elapsed().as_secs_f64(),
        run.reader.orientation.describe(),
        run.reader.n_probes,
        run.view_bytes / (8 * run.samples.len().max(1)),
        run.view_bytes as f64 / 1e6,
        run.streamed_cpgs,
        run.impute.as_str()
    );
    for p in write_rows(&args.output, models::SUFFIX, &rows)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
