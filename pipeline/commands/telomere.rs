//! `agemark telomere`: one read pass with the telomere stage.

use std::path::{Path, PathBuf};

use agemark::{
    core::{file_name_of, sample_id_from_path, Provenance},
    reads::{self, run_pass, take_acc, ErasedStage, InputInfo, InputSpec},
    telomere::{TelomereOptions, TelomereStage, SUFFIX},
    tidy::{self, Row},
};
use tracing::info;

use super::AppError;
use crate::cli::{ReadInputArgs, TelomereArgs};

/// Builds the input spec from the shared read arguments.
pub fn input_spec(a: &ReadInputArgs) -> InputSpec {
    InputSpec {
        path: a.inputs[0].clone(),
        path2: a.inputs.get(1).cloned(),
        reference: a.reference.clone(),
        interleaved: a.interleaved,
    }
}

/// Sample id: the user's, else the read groups' common SM, else the file name.
pub fn sample_id(given: Option<&str>, path: &str, info: &InputInfo) -> String {
    if let Some(s) = given {
        return s.to_string();
    }
    let mut sms = info
        .read_groups
        .iter()
        .filter_map(|rg| rg.sample.as_deref());
    if let Some(first) = sms.next() {
        if sms.all(|s| s == first) && info.read_groups.iter().all(|rg| rg.sample.is_some()) {
            return first.to_string();
        }
    }
    sample_id_from_path(path)
}

/// Provenance for an opened input.
pub fn provenance(spec: &InputSpec, sample_id: String, info: &InputInfo) -> Provenance {
    let mut input = file_name_of(&spec.path);
    if let Some(p2) = &spec.path2 {
        input.push('+');
        input.push_str(&file_name_of(p2));
    }
    Provenance {
        sample_id,
        input,
        reference_build: info.build.as_str().to_string(),
    }
}

/// Writes a stage's rows to `<prefix>.<suffix>.tsv/.parquet`, or the TSV to stdout for `-`.
pub fn write_rows(output: &str, suffix: &str, rows: &[Row]) -> Result<Vec<PathBuf>, AppError> {
    if output == "-" {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        tidy::write_tsv(&mut lock, rows).map_err(|source| tidy::WriteError {
            path: PathBuf::from("stdout"),
            source,
        })?;
        return Ok(Vec::new());
    }
    let (tsv, parquet) = tidy::write_table(Path::new(output), suffix, rows)?;
    Ok(vec![tsv, parquet])
}

/// Runs the telomere stage on one input; returns the rows.
pub fn telomere_rows(
    spec: &InputSpec,
    given_sample: Option<&str>,
    opts: TelomereOptions,
    threads: usize,
) -> Result<Vec<Row>, AppError> {
    let source = reads::open(spec, threads)?;
    let info = source.info.clone();
    let sample = sample_id(given_sample, &spec.path, &info);
    let prov = provenance(spec, sample, &info);
    let stage = TelomereStage::new(opts, info.read_groups.len());
    let stages: [&dyn ErasedStage; 1] = [&stage];
    let (mut accs, stats) = run_pass(source, &stages, threads)?;
    info!(
        "{}: {} {} records in {:.2} s ({} threads)",
        prov.sample_id,
        info.format.as_str(),
        stats.records,
        stats.seconds,
        threads
    );
    let acc = take_acc(&stage, accs.remove(0));
    Ok(stage.finish(acc, &info, &prov))
}

/// `agemark telomere`.
pub fn run(args: &TelomereArgs, threads: usize) -> Result<(), AppError> {
    if args.input.output != "-" {
        tidy::prepare_output_dir(Path::new(&args.input.output))?;
    }
    let spec = input_spec(&args.input);
    let opts = TelomereOptions {
        k: args.k,
        telseq_compat: args.telseq_compat,
        th_threshold: args.th_threshold,
        th_remove_duplicates: args.th_remove_duplicates,
    };
    if args.k == 0 || args.k as usize >= agemark::telomere::telseq::TEL_BINS {
        return Err(AppError::Usage(format!(
            "-k {}: must be between 1 and 16",
            args.k
        )));
    }
    let rows = telomere_rows(&spec, args.input.sample_id.as_deref(), opts, threads)?;
    for p in write_rows(&args.input.output, SUFFIX, &rows)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
