//! `agemark reads`: telomere and mtDNA stages on one decode of the input.

use std::path::Path;

use agemark::{mtdna, telomere, tidy};
use tracing::info;

use super::{
    mtdna::mtdna_options,
    telomere::{input_spec, read_pass, telomere_options},
    AppError,
};
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
    let prefix = Path::new(&args.input.output);
    tidy::prepare_output_dir(prefix)?;
    let spec = input_spec(&args.input);
    let tables = read_pass(
        &spec,
        args.input.sample_id.as_deref(),
        Some(tel),
        Some((mt, false)),
        threads,
    )?;
    // Both tables are complete before either is written.
    let (t1, t2) = tidy::write_table(
        prefix,
        telomere::SUFFIX,
        &tables.telomere.unwrap_or_default(),
    )?;
    let (m1, m2) = tidy::write_table(prefix, mtdna::SUFFIX, &tables.mtdna.unwrap_or_default())?;
    for p in [t1, t2, m1, m2] {
        info!("wrote {}", p.display());
    }
    Ok(())
}
