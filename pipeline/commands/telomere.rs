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

/// Tables from one read pass: telomere rows and mtDNA rows, for the stages asked for.
#[derive(Default)]
pub struct PassTables {
    /// Telomere rows.
    pub telomere: Option<Vec<Row>>,
    /// mtDNA rows.
    pub mtdna: Option<Vec<Row>>,
}

/// Runs one decode of an input feeding the requested stages.
///
/// With `mtdna_required`, a header without chrM or autosomes is an error (`agemark mtdna`);
/// otherwise (`agemark reads`) the mtDNA table gets failed rows saying why, and the telomere
/// stage still runs.
pub fn read_pass(
    spec: &InputSpec,
    given_sample: Option<&str>,
    telomere: Option<TelomereOptions>,
    mtdna: Option<(MtdnaOptions, bool)>,
    threads: usize,
) -> Result<PassTables, AppError> {
    let source = reads::open(spec, threads)?;
    let info = source.info.clone();
    let sample = sample_id(given_sample, &spec.path, &info);
    let prov = provenance(spec, sample, &info);
    let tel_stage = telomere.map(|o| TelomereStage::new(o, info.read_groups.len()));
    let mut mt_failed = None;
    let mt_stage = match mtdna {
        None => None,
        Some((o, required)) => match ContigPlan::from_info(&spec.path, &info) {
            Ok(plan) => Some(MtdnaStage::new(o, plan, info.read_groups.len())),
            Err(e) if !required => {
                warn!(
                    "{}: mtDNA copy number not computed: {}",
                    prov.sample_id, e.message
                );
                mt_failed = Some(mtdna::failed_rows(&prov, &o.method("full"), &e.message));
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    let mut stages: Vec<&dyn ErasedStage> = Vec::new();
    if let Some(s) = &tel_stage {
        stages.push(s);
    }
    if let Some(s) = &mt_stage {
        stages.push(s);
    }
    let (accs, stats) = run_pass(source, &stages, threads)?;
    info!(
        "{}: {} {} records in {:.2} s ({} threads)",
        prov.sample_id,
        info.format.as_str(),
        stats.records,
        stats.seconds,
        threads
    );
    let mut accs = accs.into_iter();
    let mut out = PassTables::default();
    if let (Some(stage), Some(acc)) = (&tel_stage, tel_stage.as_ref().and_then(|_| accs.next())) {
        out.telomere = Some(stage.finish(take_acc(stage, acc), &info, &prov));
    }
    if let (Some(stage), Some(acc)) = (&mt_stage, mt_stage.as_ref().and_then(|_| accs.next())) {
        out.mtdna = Some(stage.finish(take_acc(stage, acc), &info, &prov));
    }
    if mt_failed.is_some() {
        out.mtdna = mt_failed;
    }
    Ok(out)
}

/// Runs the telomere stage on one input; returns the rows.
pub fn telomere_rows(
    spec: &InputSpec,
    given_sample: Option<&str>,
    opts: TelomereOptions,
    threads: usize,
) -> Result<Vec<Row>, AppError> {
    Ok(read_pass(spec, given_sample, Some(opts), None, threads)?
        .telomere
        .unwrap_or_default())
}

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
