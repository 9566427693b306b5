//! `agemark telomere`: one read pass with the telomere stage.

use std::path::{Path, PathBuf};

use agemark::{
    core::{file_name_of, sample_id_from_path, Provenance},
    mtdna::{self, ContigPlan, MtdnaOptions, MtdnaStage},
    reads::{self, run_pass, take_acc, ErasedStage, InputInfo, InputSpec},
    telomere::{TelomereOptions, TelomereStage, SUFFIX},
    tidy::{self, Row},
};
use tracing::{info, warn};

use super::AppError;
use crate::cli::{ReadInputArgs, TelomereArgs, TelomereOpts};

/// Builds the input spec from the shared read arguments.
pub fn input_spec(a: &ReadInputArgs) -> InputSpec {
    InputSpec {
        path: a.inputs[0].clone(),
        path2: a.inputs.get(1).cloned(),
        reference: a.reference.clone(),
        interleaved: a.interleaved,
    }
}

pub use agemark::readpass::{provenance, read_pass, sample_id, telomere_rows};
pub use agemark::tidy::write_rows;

/// Telomere options from the command line.
pub fn telomere_options(args: &TelomereOpts) -> Result<TelomereOptions, AppError> {
    if args.k == 0 || args.k as usize >= agemark::telomere::telseq::TEL_BINS {
        return Err(AppError::Usage(format!(
            "-k {}: must be between 1 and 16",
            args.k
        )));
    }
    Ok(TelomereOptions {
        k: args.k,
        telseq_compat: args.telseq_compat,
        th_threshold: args.th_threshold,
        th_remove_duplicates: args.th_remove_duplicates,
    })
}

/// `agemark telomere`.
pub fn run(args: &TelomereArgs, threads: usize) -> Result<(), AppError> {
    let opts = telomere_options(&args.telomere)?;
    if args.input.output != "-" {
        tidy::prepare_output_dir(Path::new(&args.input.output))?;
    }
    let spec = input_spec(&args.input);
    let rows = telomere_rows(&spec, args.input.sample_id.as_deref(), opts, threads)?;
    for p in write_rows(&args.input.output, SUFFIX, &rows)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
