//! `agemark nr3c1`: NR3C1 per-CpG betas and promoter region means.

use std::time::Instant;

use agemark::{
    core::file_name_of,
    methylation::{
        nr3c1::{self, Nr3c1Options, PROMOTER_CGI},
        source::{calls_input, input_kind, InputKind},
        InputError,
    },
    tidy,
};
use tracing::{info, warn};

use super::{methinput, telomere::write_rows, AppError};
use crate::cli::Nr3c1Args;

/// `agemark nr3c1`.
pub fn run(args: &Nr3c1Args) -> Result<(), AppError> {
    if !(0.0..=1.0).contains(&args.max_missing) {
        return Err(AppError::Usage(format!(
            "--max-missing must be a fraction between 0 and 1, not {}",
            args.max_missing
        )));
    }
    let started = Instant::now();
    let opts = Nr3c1Options {
        max_missing: args.max_missing,
    };
    if args.output != "-" {
        tidy::prepare_output_dir(std::path::Path::new(&args.output))?;
    }
    let reader = methinput::reader_options(&args.input)?;
    let path = &args.input.betas;
    let run = nr3c1::run_nr3c1(path, &opts, &reader)?;
    let shown = if path == "-" {
        "stdin".to_string()
    } else {
        path.clone()
    };
    let n_present = run.n_present();
    let calls = input_kind(path) == InputKind::Calls;
    // Sequencing calls still report the promoter CpGs by coordinate without any probe.
    if n_present == 0 && !calls {
        return Err(InputError::file(
            &shown,
            format!(
                "the matrix has none of the {} NR3C1 probes: is this the right file, with CpGs named by Illumina probe ID (cg…)?",
                run.probes.len()
            ),
        )
        .into());
    }
    let input = file_name_of(path);
    let mut rows = nr3c1::to_rows(&run, &input);
    if calls {
        let build = reader.calls.build;
        let (start, end) = PROMOTER_CGI.span(build);
        let answer = calls_input::region_cpgs(path, &reader, "chr5", start, end);
        if let Err(e) = &answer {
            warn!("{shown}: promoter CpGs by coordinate not reported: {e}");
        }
        let sample = run.view.samples.first().cloned().unwrap_or(input.clone());
        rows.extend(nr3c1::calls_region_rows(&sample, &input, build, answer));
    }
    for note in run.view.notes.sentences() {
        info!("{shown}: {note}");
    }
    info!(
        "{shown}: {} samples, {} of the {} NR3C1 probes in the input, in {:.2} s",
        run.view.n_samples(),
        n_present,
        run.probes.len(),
        started.elapsed().as_secs_f64()
    );
    for p in write_rows(&args.output, nr3c1::SUFFIX, &rows)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
