//! `agemark celltypes`: cell composition against one reference panel
//! (`agemark::pipelines::celltypes`).

use agemark::methylation::celltypes::{CellOptions, Constraint};
use tracing::info;

use super::{methinput, AppError};
use crate::cli::{CelltypesArgs, ConstraintArg};

/// `agemark celltypes`.
pub fn run(args: &CelltypesArgs) -> Result<(), AppError> {
    let opts = CellOptions {
        constraint: match args.constraint {
            ConstraintArg::SumLe1 => Constraint::SumAtMostOne,
            ConstraintArg::SumEq1 => Constraint::SumToOne,
        },
        max_missing: args.max_missing,
    };
    let reader = methinput::reader_options(&args.input)?;
    let written = agemark::pipelines::celltypes(
        &args.input.betas,
        &args.output,
        &args.panel,
        &opts,
        &reader,
    )?;
    for p in written {
        info!("wrote {}", p.display());
    }
    Ok(())
}
