//! `agemark celltypes`: cell composition from a beta matrix (Houseman constrained projection).

use std::time::Instant;

use agemark::{
    core::file_name_of,
    methylation::{
        celltypes::{self, CellOptions, Constraint},
        InputError,
    },
    tidy,
};
use tracing::info;

use super::{methinput, telomere::write_rows, AppError};
use crate::cli::{CelltypesArgs, ConstraintArg};

/// Options from the command line.
pub fn cell_options(constraint: ConstraintArg, max_missing: f64) -> Result<CellOptions, AppError> {
    if !(0.0..=1.0).contains(&max_missing) {
        return Err(AppError::Usage(format!(
            "--max-missing must be a fraction between 0 and 1, not {max_missing}"
        )));
    }
    Ok(CellOptions {
        constraint: match constraint {
            ConstraintArg::SumLe1 => Constraint::SumAtMostOne,
            ConstraintArg::SumEq1 => Constraint::SumToOne,
        },
        max_missing,
    })
}

/// `agemark celltypes`.
pub fn run(args: &CelltypesArgs) -> Result<(), AppError> {
    let started = Instant::now();
    let opts = cell_options(args.constraint, args.max_missing)?;
    let info = celltypes::find_panel(&args.panel).map_err(AppError::Usage)?;
    let panel = celltypes::load_panel(&info)?;
    if args.output != "-" {
        tidy::prepare_output_dir(std::path::Path::new(&args.output))?;
    }
    let reader = methinput::reader_options(&args.input)?;
    let run = celltypes::run_celltypes(&args.input.betas, &panel, &opts, &reader)?;
    let shown = if args.input.betas == "-" {
        "stdin".to_string()
    } else {
        args.input.betas.clone()
    };
    if run.n_present == 0 {
        return Err(InputError::file(
            &shown,
            format!(
                "the matrix has none of the {} CpGs of panel {}: is this the right file, with CpGs named by Illumina probe ID (cg…)?",
                info.n_cpgs, info.name
            ),
        )
        .into());
    }
    for note in &run.reader_notes {
        info!("{shown}: {note}");
    }
    let failed = run.results.iter().filter(|r| r.fractions.is_none()).count();
    info!(
        "{shown}: {} samples against panel {} ({} of its {} CpGs in the input; {} samples refused) in {:.2} s",
        run.samples.len(),
        info.name,
        run.n_present,
        info.n_cpgs,
        failed,
        started.elapsed().as_secs_f64()
    );
    let rows = celltypes::to_rows(&run, &file_name_of(&args.input.betas));
    for p in write_rows(&args.output, celltypes::SUFFIX, &rows)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
