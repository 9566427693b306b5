//! One entry point per single-input command: `agemark clocks`, `celltypes`, `nr3c1`,
//! `idat` and `report` (the read commands are in [`crate::readpass`], `merge` in
//! [`crate::cohort::merge::merge_tables`], `run` in [`crate::cohort::runner`]). Each takes
//! library options, runs the stage's science modules and writes its fixed-suffix tables;
//! the binary only maps arguments and prints what was written.

pub mod demo;
pub mod pileup;
pub mod qpcr;
pub mod reference;

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use tracing::{info, warn};

use crate::{
    cohort::{
        merge::{read_long_tsv, sheet_for_merge, Linkage},
        pseudo::{scrub_log, Pseudonymiser},
        report,
        samplesheet::SampleSheet,
    },
    core::{error::Error, file_name_of},
    methylation::{
        array::output::{write_batch, BatchWritten},
        celltypes::{self, CellOptions},
        models::{
            self, acceleration,
            registry::{ModelInfo, Registry},
            ClockOptions, Impute,
        },
        nr3c1::{self, Nr3c1Options, PROMOTER_CGI},
        source::{
            calls_input::{self, CallsBuild},
            idat_input::IdatInputOptions,
            input_kind, InputKind, ReaderOptions,
        },
        InputError,
    },
    tidy,
};

/// The clock registry: the bundled models, plus those of `--models-dir`.
pub fn registry(models_dir: Option<&Path>) -> Result<Registry, Error> {
    let mut reg = Registry::bundled()?;
    if let Some(dir) = models_dir {
        reg.add_models_dir(dir)?;
    }
    Ok(reg)
}

/// The build sequencing calls are read in, in words.
fn run_build(reader: &ReaderOptions) -> &'static str {
    match reader.calls.build {
        CallsBuild::Hg19 => "hg19",
        CallsBuild::Hg38 => "hg38",
    }
}

/// What `agemark clocks` was asked to do.
#[derive(Clone, Debug)]
pub struct ClocksRequest {
    /// The input: beta matrix, IDAT directory/prefix or sequencing calls (`-`: stdin).
    pub input: String,
    /// Output prefix (`-`: the TSV to stdout).
    pub output: String,
    /// Clocks, comma-separated, or `all`.
    pub clocks: String,
    /// More models.
    pub models_dir: Option<PathBuf>,
    /// How missing CpGs are filled.
    pub impute: Impute,
    /// Largest fraction of a clock's CpGs that may be missing.
    pub max_missing: f64,
    /// A sample sheet with ages (age acceleration).
    pub samplesheet: Option<String>,
    /// A cell-type table (`_ieaa` rows).
    pub celltypes: Option<String>,
    /// How the input is read.
    pub reader: ReaderOptions,
}

/// `agemark clocks`: every selected clock on one input (matrix, IDATs or calls), with age
/// acceleration when a sample sheet gives ages and `_ieaa` rows when a cell-type table is given;
/// returns the files written.
pub fn clocks(args: &ClocksRequest) -> Result<Vec<PathBuf>, Error> {
    if !(0.0..=1.0).contains(&args.max_missing) {
        return Err(Error::usage(format!(
            "--max-missing must be a fraction between 0 and 1, not {}",
            args.max_missing
        )));
    }
    let started = Instant::now();
    let reg = registry(args.models_dir.as_deref())?;
    let infos: Vec<ModelInfo> = reg.select(&args.clocks)?;
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
    let reader = &args.reader;
    let opts = ClockOptions {
        impute: args.impute,
        max_missing: args.max_missing,
    };
    let run = models::run_clocks(&args.input, &models, &opts, reader)?;
    let shown = if args.input == "-" {
        "stdin".to_string()
    } else {
        args.input.clone()
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
        let why = match crate::methylation::source::input_kind(&args.input) {
            crate::methylation::source::InputKind::Matrix => format!(
                "the matrix has none of the CpGs of {}: is this the right file, with CpGs named by Illumina probe ID (cg…) and {} ({})?",
                names.join(", "),
                run.reader.orientation.describe(),
                if run.reader.orientation_detected { "detected; override with --cpgs-as" } else { "as given by --cpgs-as" }
            ),
            crate::methylation::source::InputKind::Calls => format!(
                "the calls cover none of the CpGs of {} (at --min-coverage; positions read as {}): is this the right file and build?",
                names.join(", "),
                run_build(reader)
            ),
            crate::methylation::source::InputKind::Idat => format!(
                "the IDATs give none of the CpGs of {}: is the platform/manifest right?",
                names.join(", ")
            ),
        };
        return Err(InputError::file(&shown, why).into());
    }
    let cells = match &args.celltypes {
        Some(p) => Some(celltypes::read_fractions_table(p)?),
        None => None,
    };
    let accel: Vec<Option<acceleration::Acceleration>> = match &sheet {
        Some(sh) => {
            sh.check_matches(&file_name_of(&args.input), &run.samples)?;
            let ages = sh.ages();
            let sh = &ages;
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
    // After the input checks, so an error is the first line a user reads.
    warn_refused(&shown, &run.results);
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
    let rows = models::to_rows(&run, &file_name_of(&args.input), &accel);
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
    Ok(tidy::write_rows(&args.output, models::SUFFIX, &rows)?)
}

/// One warning per clock or score that refused samples: none of its CpGs in the input, or
/// how many samples have no value and why (the first sample's reason), so a run whose rows
/// mostly fail says so on the terminal and not only in `qc_note`.
fn warn_refused(shown: &str, results: &[models::ClockResult]) {
    for r in results {
        if r.n_present == 0 {
            warn!(
                "{shown}: none of the {} CpGs of {} are in the input: its rows fail",
                r.n_cpgs, r.info.name
            );
            continue;
        }
        let failed: Vec<&models::Estimate> =
            r.estimates.iter().filter(|e| e.value.is_none()).collect();
        if let Some(first) = failed.first() {
            warn!(
                "{shown}: {} of {} samples have no {} ({})",
                failed.len(),
                r.estimates.len(),
                r.info.name,
                first.notes.last().map_or("", String::as_str)
            );
        }
    }
}

/// What `agemark scores` was asked to do.
#[derive(Clone, Debug)]
pub struct ScoresRequest {
    /// The input: beta matrix, IDAT directory/prefix or sequencing calls (`-`: stdin).
    pub input: String,
    /// Output prefix (`-`: the TSV to stdout).
    pub output: String,
    /// Scores, comma-separated, or `all`.
    pub scores: String,
    /// How missing CpGs are filled.
    pub impute: Impute,
    /// Largest fraction of a score's CpGs that may be missing.
    pub max_missing: f64,
    /// How the input is read.
    pub reader: ReaderOptions,
}

/// `agemark scores`: the bundled DNA-methylation exposure scores (`reference/scores/`,
/// [`crate::methylation::models::registry::Registry::bundled_scores`]) on one input, with the
/// clocks' missing-CpG rules; a score none of whose CpGs the input has gets failed rows (the
/// command still succeeds). Rows: assay `exposure`, unit `score`. Returns the files written.
pub fn scores(args: &ScoresRequest) -> Result<Vec<PathBuf>, Error> {
    if !(0.0..=1.0).contains(&args.max_missing) {
        return Err(Error::usage(format!(
            "--max-missing must be a fraction between 0 and 1, not {}",
            args.max_missing
        )));
    }
    let started = Instant::now();
    let reg = Registry::bundled_scores()?;
    let infos = reg.select(&args.scores).map_err(|e| {
        Error::usage(
            e.to_string()
                .replace("--clocks: unknown clock", "--scores: unknown score"),
        )
    })?;
    let models = infos
        .iter()
        .map(|i| reg.load(i))
        .collect::<Result<Vec<_>, _>>()?;
    if args.output != "-" {
        tidy::prepare_output_dir(std::path::Path::new(&args.output))?;
    }
    let opts = ClockOptions {
        impute: args.impute,
        max_missing: args.max_missing,
    };
    let run = models::run_clocks(&args.input, &models, &opts, &args.reader)?;
    let shown = if args.input == "-" {
        "stdin".to_string()
    } else {
        args.input.clone()
    };
    warn_refused(&shown, &run.results);
    let rows = models::to_rows(&run, &file_name_of(&args.input), &[]);
    info!(
        "{shown}: {} samples × {} scores in {:.2} s (imputation {})",
        run.samples.len(),
        run.results.len(),
        started.elapsed().as_secs_f64(),
        run.impute.as_str()
    );
    Ok(tidy::write_rows(
        &args.output,
        crate::methylation::models::registry::EXPOSURE_ASSAY,
        &rows,
    )?)
}

/// `agemark celltypes`: cell fractions of every sample of one input against one panel;
/// returns the files written.
pub fn celltypes(
    input: &str,
    output: &str,
    panel: &str,
    opts: &CellOptions,
    reader: &ReaderOptions,
) -> Result<Vec<PathBuf>, Error> {
    let started = Instant::now();
    if !(0.0..=1.0).contains(&opts.max_missing) {
        return Err(Error::usage(format!(
            "--max-missing must be a fraction between 0 and 1, not {}",
            opts.max_missing
        )));
    }
    let info = celltypes::find_panel(panel)?;
    let panel = celltypes::load_panel(&info)?;
    if output != "-" {
        tidy::prepare_output_dir(std::path::Path::new(output))?;
    }
    let run = celltypes::run_celltypes(input, &panel, opts, reader)?;
    let shown = if input == "-" {
        "stdin".to_string()
    } else {
        input.to_string()
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
    let refused: Vec<&celltypes::SampleFractions> = run
        .results
        .iter()
        .filter(|r| r.fractions.is_none())
        .collect();
    let failed = refused.len();
    if let Some(first) = refused.first() {
        warn!(
            "{shown}: {} of {} samples have no cell fractions against panel {} ({})",
            failed,
            run.samples.len(),
            info.name,
            first.notes.last().map_or("", String::as_str)
        );
    }
    info!(
        "{shown}: {} samples against panel {} ({} of its {} CpGs in the input; {} samples refused) in {:.2} s",
        run.samples.len(),
        info.name,
        run.n_present,
        info.n_cpgs,
        failed,
        started.elapsed().as_secs_f64()
    );
    let rows = celltypes::to_rows(&run, &file_name_of(input));
    Ok(tidy::write_rows(output, celltypes::SUFFIX, &rows)?)
}

/// `agemark nr3c1`: NR3C1 probe betas and region means of one input (and, for sequencing
/// calls, the promoter CpGs by coordinate); returns the files written.
pub fn nr3c1(
    path: &str,
    output: &str,
    opts: &Nr3c1Options,
    reader: &ReaderOptions,
) -> Result<Vec<PathBuf>, Error> {
    if !(0.0..=1.0).contains(&opts.max_missing) {
        return Err(Error::usage(format!(
            "--max-missing must be a fraction between 0 and 1, not {}",
            opts.max_missing
        )));
    }
    let started = Instant::now();
    if output != "-" {
        tidy::prepare_output_dir(std::path::Path::new(output))?;
    }
    let run = nr3c1::run_nr3c1(path, opts, reader)?;
    let shown = if path == "-" {
        "stdin".to_string()
    } else {
        path.to_string()
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
        let answer = calls_input::region_cpgs(path, reader, "chr5", start, end);
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
    Ok(tidy::write_rows(output, nr3c1::SUFFIX, &rows)?)
}

/// `agemark idat`: IDAT pairs → betas, detection p-values, per-sample QC and failures at
/// `output` (a prefix). A failed sample is listed in `<output>.failures.tsv` and makes the
/// result an error after the others are written.
pub fn idat(
    inputs: &[String],
    sample_ids: Option<&[String]>,
    opts: &IdatInputOptions,
    output: &str,
) -> Result<BatchWritten, Error> {
    let started = Instant::now();
    if output == "-" {
        return Err(Error::usage(
            "agemark idat writes several files: give an output prefix with -o, not -",
        ));
    }
    let done = write_batch(
        inputs,
        sample_ids,
        &opts.batch_options(),
        output,
        &|_| {},
        &|s| s.to_string(),
    )?;
    info!(
        "{} samples ({} platform, manifest {}, {} probes) in {:.2} s; {} failed",
        done.n_samples,
        done.platform,
        done.manifest,
        done.n_probes,
        started.elapsed().as_secs_f64(),
        done.failures.len()
    );
    if !done.failures.is_empty() {
        return Err(InputError::file(
            &done.failures_path.display().to_string(),
            format!(
                "{} of {} samples/inputs failed (listed in this file); the others were written",
                done.failures.len(),
                done.failures.len() + done.n_samples
            ),
        )
        .into());
    }
    Ok(done)
}

/// `agemark report`: the HTML report of a results directory (its `cohort.long.tsv`) at
/// `output`, and the MultiQC files in `multiqc_dir` (default `DIR/multiqc`); the linkage
/// columns come from the sheet when one is given. Returns the files written.
pub fn report(
    dir: &Path,
    output: &Path,
    samplesheet: Option<&str>,
    key: Option<&Pseudonymiser>,
    multiqc_dir: Option<&Path>,
) -> Result<Vec<PathBuf>, Error> {
    let long = dir.join("cohort.long.tsv");
    if !long.is_file() {
        return Err(Error::usage(format!(
            "{}: no cohort.long.tsv: run `agemark merge ... -o {}` first",
            dir.display(),
            dir.join("cohort").display()
        )));
    }
    let mut cohort = read_long_tsv(&long)?;
    if let Some(p) = samplesheet {
        let sheet = sheet_for_merge(p, key)?;
        for s in &sheet.samples {
            if let Some(l) = cohort.linkage.get_mut(&s.sample_id) {
                *l = Linkage::of(s);
            }
        }
    }
    tidy::prepare_output_dir(output)?;
    // A run's qPCR plates (OUTDIR/qpcr/cohort.qpcr_wells.tsv) get their section.
    let plates = report::QpcrPlates::read(&dir.join("qpcr").join("cohort"))?;
    report::write_report(&cohort, output, "agemark cohort report", plates.as_ref())?;
    let mut written = vec![output.to_path_buf()];
    let mq = multiqc_dir.map_or_else(|| dir.join("multiqc"), Path::to_path_buf);
    written.extend(report::write_multiqc(&cohort, &mq)?);
    let _ = scrub_log;
    Ok(written)
}
