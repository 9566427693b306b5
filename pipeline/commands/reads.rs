//! `agemark reads`: telomere and mtDNA stages on one decode of the input.

use std::path::Path;

use agemark::readpass;
use tracing::info;

use super::{mtdna::mtdna_options, telomere::input_spec, telomere::telomere_options, AppError};
use crate::cli::ReadsArgs;

/// `agemark reads`.
pub fn run(args: &ReadsArgs, threads: usize) -> Result<(), AppError> {
    let tel = telomere_options(&args.telomere)?;
    let mt = mtdna_options(&args.mtdna);
    if args.input.output == "-" {
        return Err(AppError::Usage(
            "`reads` writes two tables: give an output prefix, not -".into(),
        ));
    }
    let written = readpass::reads_to(
        &input_spec(&args.input),
        args.input.sample_id.as_deref(),
        tel,
        mt,
        threads,
        Path::new(&args.input.output),
    )?;
    for p in written {
        info!("wrote {}", p.display());
    }
    Ok(())
}
