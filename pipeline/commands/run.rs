//! `agemark run`: a cohort run from a sample sheet.
//!
//! 1. Read and validate the sheet; print every problem (with line numbers) and stop on errors
//!    before any work (`--check` stops here; `--plan FILE` writes the IDAT batch plan first).
//! 2. Jobs: one `reads` job per sample with reads (telomere + mtDNA on one decode, exactly as
//!    `agemark reads`), one `idat` job per IDAT batch, one job per methylation stage. The reads
//!    and idat jobs run first, in parallel on the thread pool; then the methylation jobs. A job
//!    whose inputs and parameters are unchanged since the last run (run_manifest.tsv) and whose
//!    outputs exist is skipped (a methylation stage's fingerprint holds only its own
//!    parameters: `--clocks` and the ages for clocks (plus the sample types when it makes
//!    `_ieaa` rows, below), the sample types for celltypes; the methylation inputs are
//!    checksummed once for all stages' fingerprints).
//!    - The methylation jobs that are not skipped run together and read each methylation input
//!      ONCE for all of them ([`run_stages`], [`read_shared`]): one pass over the matrix for the
//!      union of the CpGs of clocks, every cell-type panel of the input's sample types and
//!      NR3C1, each stage computed from the view its own read would give (byte-identical
//!      tables; see `methylation::source::shared` for why the union cannot change a stage's
//!      numbers). Inputs are processed in parallel; one log line per input read
//!      (`read <file>: N samples × M CpGs in S s`). When that shared read fails, each stage
//!      reads the input alone, so each keeps its own error and failed rows. A calls file is
//!      parsed once: the same pass fills its probe table and collects the NR3C1 promoter CpGs
//!      by coordinate.
//!    - IEAA: when both clocks and celltypes are in the run's stages, the clocks table gets
//!      `<clock>_ieaa` rows ([`ieaa_by_panel`]): `acceleration::ieaa` (the code of `agemark
//!      clocks --celltypes`) fitted per input and per panel group (the samples whose sample type
//!      maps to that panel), the covariates being the fractions the celltypes stage computed
//!      from the same read (a skipped celltypes stage's fractions are recomputed from it). A
//!      group below `acceleration::min_ieaa_cohort` fails its rows with the reason naming the
//!      group, its size and the minimum; a sample without a panel or fractions fails with its
//!      reason. With only one of the two stages, the clocks table is unchanged (no `_ieaa`).
//!    - IDAT batch of a sample ([`idat_batch_of`]): the sheet's `idat_batch`, else the Sentrix
//!      barcode (IDAT basename up to its first `_`), else the basename. The job runs the code of
//!      `agemark idat <prefixes> --sample-ids <ids> -o OUTDIR/idat/<batch>` and writes
//!      `OUTDIR/idat/<batch>.{betas.tsv.gz,detection.tsv.gz,idat_qc.tsv,idat_qc.parquet}`
//!      (+ `failures.tsv` when a sample failed; a whole-batch error lists every sample there).
//!    - Methylation inputs: the top-level betas matrix (columns by `betas_column`), each IDAT
//!      batch's betas (columns by sample id) and each sample's sequencing calls. Without the
//!      idat stage in `--stages` (a workflow's cohort job) the batch betas must already be in
//!      OUTDIR/idat (or `--idat-dir`); a missing file, or a sample listed in its batch's
//!      failures.tsv, gives that sample failed rows with the reason.
//! 3. A failing job does not stop the others: it lands in failures.tsv, and its samples get
//!    failed rows (`<sample>.failed.tsv` for reads, failed rows in the methylation table).
//! 4. Merge (the code of `agemark merge`) of the tables the run wrote (idat_qc included), the
//!    report and the MultiQC files. Exit 1 when anything failed.

use std::{
    collections::{BTreeMap, HashMap},
    io::IsTerminal,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    },
    time::Instant,
};

use agemark::{
    cohort::{
        manifest::{self, Entry},
        merge,
        pseudo::{install_log_scrubber, scrub_log, IdKind, Pseudonymiser, Scrubber},
        report,
        samplesheet::{CohortSample, CohortSheet, SampleSheet, SheetRow},
    },
    core::{file_name_of, QcStatus, AGEMARK_VERSION},
    methylation::{
        celltypes,
        models::{self, acceleration, registry::ClockModel, ClockOptions, ClocksPlan, Impute},
        nr3c1,
        source::{
            calls_input, input_kind,
            shared::{read_shared, read_shared_region, Request},
            BetaView, InputKind, ReaderOptions,
        },
    },
    mtdna, reads, telomere,
    tidy::{self, Row},
};
use rayon::prelude::*;
use tracing::{info, warn};

use super::{
    clocks::registry,
    merge::collect_rows,
    mtdna::mtdna_options,
    telomere::{read_pass, telomere_options},
    AppError,
};
use crate::cli::RunArgs;

/// Stages `run` knows, in order.
pub const READ_STAGE: &str = "reads";

/// The IDAT batch stage: one `agemark idat` job per batch, before the methylation stages.
pub const IDAT_STAGE: &str = "idat";

/// The IDAT batch of a sample with an `idat` input: the sheet's `idat_batch`, else the
/// Sentrix (slide) barcode of the IDAT basename (the part before its first `_`:
/// `4207113116` for `…/4207113116_A`), else the basename (a directory input: its own name).
/// Characters that are not filename-safe become `_`.
pub fn idat_batch_of(s: &CohortSample) -> Option<String> {
    let idat = s.idat.as_deref()?;
    if let Some(b) = &s.idat_batch {
        return Some(b.clone());
    }
    let base = file_name_of(idat.trim_end_matches('/'));
    let base = ["_Grn.idat", "_Red.idat", "_Grn.idat.gz", "_Red.idat.gz"]
        .iter()
        .find_map(|sfx| base.strip_suffix(sfx))
        .unwrap_or(&base)
        .to_string();
    let name = match base.split_once('_') {
        Some((barcode, _)) if !barcode.is_empty() => barcode.to_string(),
        _ => base,
    };
    let mut safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        safe.insert(0, '_');
    }
    Some(safe)
}

/// The IDAT batches of the selected samples: batch → sample indices (sheet order), by name.
fn idat_batches(samples: &[&CohortSample]) -> BTreeMap<String, Vec<usize>> {
    let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, s) in samples.iter().enumerate() {
        if let Some(b) = idat_batch_of(s) {
            out.entry(b).or_default().push(i);
        }
    }
    out
}

/// `<idat dir>/<batch>`: the output prefix of a batch's idat job (the idat dir is
/// `--idat-dir`, default `OUTDIR/idat`).
pub fn idat_prefix(idat_dir: &Path, batch: &str) -> PathBuf {
    idat_dir.join(batch)
}

/// The IDAT files of an input (for the job's fingerprint): each pair's two channels.
fn idat_files(input: &str) -> Vec<String> {
    let (pairs, _) = agemark::methylation::array::batch::discover(&[input.to_string()]);
    if pairs.is_empty() {
        return vec![input.to_string()];
    }
    pairs
        .iter()
        .flat_map(|p| [p.grn.display().to_string(), p.red.display().to_string()])
        .collect()
}

/// The failures listed in a batch's `failures.tsv` (`sample`, `file`, `message`), by sample.
fn batch_failures(path: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(path) {
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.splitn(3, '\t').collect();
            if c.len() == 3 {
                out.insert(c[0].to_string(), format!("{}: {}", c[1], c[2]));
            }
        }
    }
    out
}

/// The methylation stages wired into `run`, in order (each name is also the table suffix).
const METH_STAGES: &[&str] = &["celltypes", "clocks", "nr3c1"];

/// One methylation input for the stages.
pub struct MethJob<'a> {
    /// The input path (matrix, IDAT directory/prefix, calls file).
    pub path: &'a str,
    /// Reader options.
    pub reader: &'a ReaderOptions,
    /// Ages by the input's sample names (for age acceleration).
    pub ages: &'a HashMap<String, (Option<f64>, Option<f64>)>,
    /// Sample types (`cord_blood`, `placenta`, …) by the input's sample names.
    pub sample_types: &'a HashMap<String, String>,
}

/// The bundled cell-type panel `run` uses for a sample type (`None`: no panel fits; run
/// `agemark celltypes --panel` by hand).
pub fn panel_for(sample_type: &str) -> Option<&'static str> {
    match sample_type {
        "cord_blood" => Some("cordblood_idol"),
        "placenta" => Some("placenta_third_trimester"),
        "whole_blood" | "maternal_blood" => Some("blood_reinius450k"),
        _ => None,
    }
}

/// A stage's part of one read of an input: what it asks the reader for, and how it turns the
/// views into rows (sample column = the input's sample names).
enum Prep<'m> {
    /// Clocks: held and streamed CpGs, the streamed ones folded by the plan while reading.
    Clocks(Box<ClocksPlan<'m>>),
    /// Cell composition: one request per panel (each sample against the panel of its
    /// sample type, [`panel_for`]); a sample type without a panel gets one `warn` row.
    Cells {
        panels: Vec<(celltypes::Panel, Vec<String>)>,
        warn: Vec<Row>,
        opts: celltypes::CellOptions,
    },
    /// NR3C1 probe betas and region means; for sequencing calls also the promoter CpGs by
    /// coordinate (from the same pass over the file when the shared read gave them).
    Nr3c1(Vec<String>, Option<RegionAnswer>),
}

/// The clock models of `--clocks`, loaded once for all inputs.
fn load_models(clocks: &str) -> Result<Vec<ClockModel>, String> {
    let reg = registry(None).map_err(|e| e.to_string())?;
    let infos = reg.select(clocks)?;
    infos
        .iter()
        .map(|i| reg.load(i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

impl<'m> Prep<'m> {
    /// Sets a stage up for one input (`models`: `--clocks`, loaded once).
    fn new(
        stage: &str,
        job: &MethJob,
        models: &'m Result<Vec<ClockModel>, String>,
    ) -> Result<Prep<'m>, String> {
        match stage {
            "clocks" => {
                let models = models.as_ref().map_err(Clone::clone)?;
                let opts = ClockOptions {
                    impute: Impute::Auto,
                    max_missing: 0.2,
                };
                Ok(Prep::Clocks(Box::new(
                    ClocksPlan::new(models, &opts).map_err(|e| e.to_string())?,
                )))
            }
            "celltypes" => {
                let opts = super::celltypes::cell_options(crate::cli::ConstraintArg::SumLe1, 0.2)
                    .map_err(|e| e.to_string())?;
                let input = file_name_of(job.path);
                let mut by_panel: BTreeMap<&str, Vec<String>> = BTreeMap::new();
                let mut warn = Vec::new();
                let types: BTreeMap<&String, &String> = job.sample_types.iter().collect();
                for (sample, ty) in types {
                    match panel_for(ty) {
                        Some(p) => by_panel.entry(p).or_default().push(sample.clone()),
                        None => warn.push(Row {
                            sample_id: sample.clone(),
                            assay: celltypes::SUFFIX.to_string(),
                            measure: "panel".to_string(),
                            value: None,
                            unit: String::new(),
                            method: "run: panel chosen by sample_type".to_string(),
                            n_used: None,
                            qc_status: QcStatus::Warn,
                            qc_note: format!(
                                "no bundled cell-type panel for sample_type '{ty}'; run `agemark celltypes --panel NAME` to choose one"
                            ),
                            read_group: String::new(),
                            input: input.clone(),
                            reference_build: String::new(),
                            agemark_version: AGEMARK_VERSION.to_string(),
                        }),
                    }
                }
                let mut panels = Vec::new();
                for (panel, samples) in by_panel {
                    let info = celltypes::find_panel(panel)?;
                    let panel = celltypes::load_panel(&info).map_err(|e| e.to_string())?;
                    panels.push((panel, samples));
                }
                Ok(Prep::Cells { panels, warn, opts })
            }
            "nr3c1" => Ok(Prep::Nr3c1(
                nr3c1::probe_ids().map_err(|e| e.to_string())?,
                None,
            )),
            other => Err(format!("internal: unknown methylation stage '{other}'")),
        }
    }

    /// The stage's requests to the reader (one per panel for cell types).
    fn requests(&mut self) -> Vec<Request<'_>> {
        match self {
            Prep::Clocks(plan) => {
                let sample_moments = plan.needs_moments();
                let (dense, streamed, sink) = plan.request();
                vec![Request {
                    dense,
                    streamed,
                    sample_moments,
                    sink,
                }]
            }
            Prep::Cells { panels, .. } => panels
                .iter()
                .map(|(p, _)| Request {
                    dense: &p.cpgs,
                    streamed: &[],
                    sample_moments: false,
                    sink: None,
                })
                .collect(),
            Prep::Nr3c1(ids, _) => vec![Request {
                dense: ids,
                streamed: &[],
                sample_moments: false,
                sink: None,
            }],
        }
    }

    /// The stage's rows from the views of its requests (same order).
    /// `cells`: the celltypes stage's rows on this input when the clocks get `_ieaa` rows.
    fn finish(
        self,
        views: Vec<BetaView>,
        job: &MethJob,
        cells: Option<&Result<Vec<Row>, String>>,
    ) -> Result<Vec<Row>, String> {
        let input = file_name_of(job.path);
        match self {
            Prep::Clocks(plan) => {
                let view = views.first().ok_or("internal: no view for clocks")?;
                let run = plan.finish(view).map_err(|e| e.to_string())?;
                Ok(clock_rows(&run, job, cells))
            }
            Prep::Cells {
                panels,
                mut warn,
                opts,
            } => {
                for ((panel, samples), view) in panels.iter().zip(&views) {
                    let run = celltypes::deconvolve_view(view, panel, &opts);
                    // A per-sample input (IDATs, calls) comes with the key "": all its rows
                    // are that sample's.
                    let keep: std::collections::HashSet<&str> =
                        samples.iter().map(String::as_str).collect();
                    let single = keep.contains("");
                    warn.extend(
                        celltypes::to_rows(&run, &input)
                            .into_iter()
                            .filter(|r| single || keep.contains(r.sample_id.as_str())),
                    );
                }
                Ok(warn)
            }
            Prep::Nr3c1(_, region) => {
                let view = views
                    .into_iter()
                    .next()
                    .ok_or("internal: no view for nr3c1")?;
                let opts = nr3c1::Nr3c1Options { max_missing: 0.5 };
                let run = nr3c1::nr3c1_view(view, &opts).map_err(|e| e.to_string())?;
                let mut rows = nr3c1::to_rows(&run, &input);
                // Sequencing calls also report the promoter CpGs by coordinate (collected during
                // the shared read; read again only when the stage read the file alone).
                if input_kind(job.path) == InputKind::Calls {
                    let build = job.reader.calls.build;
                    let answer = region.unwrap_or_else(|| {
                        let (start, end) = nr3c1::PROMOTER_CGI.span(build);
                        calls_input::region_cpgs(job.path, job.reader, "chr5", start, end)
                    });
                    let sample = run.view.samples.first().cloned().unwrap_or(input.clone());
                    rows.extend(nr3c1::calls_region_rows(&sample, &input, build, answer));
                }
                Ok(rows)
            }
        }
    }
}

/// The covered CpGs of the NR3C1 promoter in a calls file (or why they are not known).
type RegionAnswer = Result<Vec<calls_input::CoveredCpg>, agemark::methylation::InputError>;

/// Clock rows with age acceleration from the sheet's ages, and `_ieaa` rows when `cells` (the
/// celltypes stage's rows on the same input) is given ([`ieaa_by_panel`]).
fn clock_rows(
    run: &models::ClocksRun,
    job: &MethJob,
    cells: Option<&Result<Vec<Row>, String>>,
) -> Vec<Row> {
    // Every sample of the input gets a sheet row (ages only for the samples of the run's
    // sheet), so the acceleration fit uses exactly the samples with ages.
    let sheet = SampleSheet {
        path: "sample sheet".to_string(),
        rows: run
            .samples
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (age, ga) = job.ages.get(s).copied().unwrap_or((None, None));
                SheetRow {
                    sample_id: s.clone(),
                    row: i as u64 + 2,
                    age_years: age,
                    gestational_age_weeks: ga,
                }
            })
            .collect(),
        has_age_years: true,
        has_gestational_age: true,
    };
    let mut accel: Vec<Option<acceleration::Acceleration>> = run
        .results
        .iter()
        .map(|r| acceleration::accelerate(r, &run.samples, &sheet))
        .collect();
    // The `_ieaa` rows' method differs between panel groups: set per (sample, measure).
    let mut methods: HashMap<(String, String), String> = HashMap::new();
    if let Some(cells) = cells {
        for (r, a) in run.results.iter().zip(accel.iter_mut()) {
            let Some(a) = a else { continue };
            if let Some((est, ms)) = ieaa_by_panel(r, &run.samples, &sheet, job, cells) {
                let measure = format!("{}_ieaa", r.info.name);
                for (s, m) in run.samples.iter().zip(ms) {
                    methods.insert((s.clone(), measure.clone()), m);
                }
                a.ieaa = Some((est, String::new()));
            }
        }
    }
    let mut rows = models::to_rows(run, &file_name_of(job.path), &accel);
    for row in &mut rows {
        if let Some(m) = methods.get(&(row.sample_id.clone(), row.measure.clone())) {
            row.method = m.clone();
        }
    }
    rows
}

/// `_ieaa` of one clock on one input, each sample's covariates the cell fractions of its own
/// panel ([`panel_for`] its sample type): one fit of [`acceleration::ieaa`] per panel group
/// (the samples of the input with that panel), on the fractions the celltypes stage computed
/// (`cells`, its rows on this input, exactly what its table holds). A group smaller than
/// [`acceleration::min_ieaa_cohort`] fails its rows with the reason, naming the group and its
/// size; a sample without a panel, or whose cell types failed, fails with that reason.
/// Per sample: the estimate and the rows' method. `None` when the clock's unit has no age.
fn ieaa_by_panel(
    r: &models::ClockResult,
    samples: &[String],
    sheet: &SampleSheet,
    job: &MethJob,
    cells: &Result<Vec<Row>, String>,
) -> Option<(Vec<models::Estimate>, Vec<String>)> {
    let col = acceleration::age_column(&r.info.unit)?;
    let n = samples.len();
    let fail = |why: String| models::Estimate::failed(format!("not computed: {why}"));
    let mut est: Vec<models::Estimate> =
        vec![fail("no cell fractions for this sample".to_string()); n];
    let mut methods = vec![format!("ols_residual(dnam~{col}+cell_fractions)"); n];
    let rows = match cells {
        Ok(rows) => rows,
        Err(e) => {
            let e = fail(format!("the cell types of this input failed: {e}"));
            return Some((vec![e; n], methods));
        }
    };
    // A per-sample input (calls) keys its one sample type by "".
    let type_of = |s: &str| job.sample_types.get(s).or_else(|| job.sample_types.get(""));
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in samples.iter().enumerate() {
        match type_of(s).map(|t| (t, panel_for(t))) {
            Some((_, Some(p))) => groups.entry(p).or_default().push(i),
            Some((t, None)) => {
                est[i] = fail(format!(
                    "no bundled cell-type panel for sample_type '{t}', so no cell fractions"
                ))
            }
            None => est[i] = fail("no sample_type for this sample".to_string()),
        }
    }
    for (panel, idx) in groups {
        let names: Vec<String> = idx.iter().map(|&i| samples[i].clone()).collect();
        let keep: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        let own: Vec<Row> = rows
            .iter()
            .filter(|row| keep.contains(row.sample_id.as_str()))
            .cloned()
            .collect();
        let Some(table) =
            celltypes::FractionsTable::from_rows(&format!("celltypes ({panel})"), &own)
        else {
            for &i in &idx {
                est[i] = fail(format!(
                    "IEAA group of panel {panel}: {} samples: no cell-type rows",
                    idx.len()
                ));
            }
            continue;
        };
        // The group's minimum with every cell type but the reference as a covariate (the fit
        // drops a cell type that does not vary, and then needs one sample less).
        let k = table.cell_types.len().saturating_sub(1);
        let group = format!(
            "IEAA group of panel {panel}: {} samples; the minimum is {} ({} + {k} cell-type covariates)",
            idx.len(),
            acceleration::min_ieaa_cohort(k),
            acceleration::MIN_RESIDUAL_COHORT
        );
        let sub = models::ClockResult {
            estimates: idx.iter().map(|&i| r.estimates[i].clone()).collect(),
            ..r.clone()
        };
        let Some((got, method)) = acceleration::ieaa(&sub, &names, sheet, &table) else {
            continue;
        };
        for (mut e, &i) in got.into_iter().zip(&idx) {
            if e.qc_status == QcStatus::Fail {
                for note in &mut e.notes {
                    if let Some(why) = note.strip_prefix("not computed: ") {
                        *note = format!("not computed ({group}): {why}");
                    }
                }
            }
            est[i] = e;
            methods[i] = method.clone();
        }
    }
    Some((est, methods))
}

/// Runs `stages` on one input, reading it ONCE for all of them ([`read_shared`]: the union of
/// their CpGs; each stage gets the view its own read would give). When that read fails, each
/// stage reads the input alone, request by request, so each keeps its own error (a bad cell in
/// a CpG only one stage needs fails that stage only). One result per stage.
///
/// `ieaa`: the clocks get `_ieaa` rows from the celltypes stage's fractions on the same input
/// (both stages are in the run); when celltypes itself is not to be re-run, its fractions are
/// still computed, from the same read, for the clocks alone.
fn run_stages(
    stages: &[&str],
    job: &MethJob,
    models: &Result<Vec<ClockModel>, String>,
    ieaa: bool,
) -> Vec<Result<Vec<Row>, String>> {
    let ieaa = ieaa && stages.contains(&"clocks");
    let aux = ieaa && !stages.contains(&"celltypes");
    let all: Vec<&str> = aux
        .then_some("celltypes")
        .into_iter()
        .chain(stages.iter().copied())
        .collect();
    let mut results = run_preps(&all, job, models, ieaa);
    if aux {
        let _celltypes_for_ieaa_only = results.remove(0);
    }
    results
}

/// [`run_stages`] on `stages` (celltypes ahead of clocks when `ieaa`).
fn run_preps(
    stages: &[&str],
    job: &MethJob,
    models: &Result<Vec<ClockModel>, String>,
    ieaa: bool,
) -> Vec<Result<Vec<Row>, String>> {
    let mut preps: Vec<Result<Prep, String>> =
        stages.iter().map(|s| Prep::new(s, job, models)).collect();
    let name = scrub_log(&file_name_of(job.path));
    let t0 = Instant::now();
    let shared = {
        let mut counts = Vec::new();
        let mut requests = Vec::new();
        for p in preps.iter_mut().flatten() {
            let r = p.requests();
            counts.push(r.len());
            requests.extend(r);
        }
        // NR3C1 on sequencing calls: the promoter CpGs by coordinate from the same pass.
        let region = stages.contains(&"nr3c1").then(|| {
            let (start, end) = nr3c1::PROMOTER_CGI.span(job.reader.calls.build);
            ("chr5", start, end)
        });
        if requests.is_empty() {
            None
        } else {
            Some(
                read_shared_region(job.path, &mut requests, job.reader, region)
                    .map(|r| (r, counts)),
            )
        }
    };
    match shared {
        Some(Ok(((views, stats, region), counts))) => {
            if let Some(answer) = region {
                for p in preps.iter_mut().flatten() {
                    if let Prep::Nr3c1(_, r) = p {
                        *r = Some(answer.clone());
                    }
                }
            }
            info!(
                "read {name}: {} samples × {} CpGs in {:.2} s",
                stats.n_samples,
                stats.n_cpgs,
                t0.elapsed().as_secs_f64()
            );
            let mut views = views.into_iter();
            let mut counts = counts.into_iter();
            let pending = preps
                .into_iter()
                .map(|p| {
                    let p = p?;
                    let k = counts.next().unwrap_or(0);
                    Ok((p, views.by_ref().take(k).collect()))
                })
                .collect();
            finish_all(stages, pending, job, ieaa)
        }
        Some(Err(e)) => {
            warn!(
                "read {name} for {}: {}; each stage reads it alone",
                stages.join(", "),
                scrub_log(&e.to_string())
            );
            drop(preps);
            let pending = stages
                .iter()
                .map(|s| {
                    let mut p = Prep::new(s, job, models)?;
                    let mut views = Vec::new();
                    for r in p.requests() {
                        let (v, _) = read_shared(job.path, &mut [r], job.reader)
                            .map_err(|e| e.to_string())?;
                        views.extend(v);
                    }
                    Ok((p, views))
                })
                .collect();
            finish_all(stages, pending, job, ieaa)
        }
        None => {
            let pending = preps
                .into_iter()
                .map(|p| p.map(|p| (p, Vec::new())))
                .collect();
            finish_all(stages, pending, job, ieaa)
        }
    }
}

/// A stage set up, with the views of its requests (or why not).
type Pending<'m> = Result<(Prep<'m>, Vec<BetaView>), String>;

/// Each stage's rows from its views; celltypes first, so that the clocks' `_ieaa` rows (when
/// `ieaa`) use its fractions. One result per stage, in `stages` order.
fn finish_all(
    stages: &[&str],
    pending: Vec<Pending>,
    job: &MethJob,
    ieaa: bool,
) -> Vec<Result<Vec<Row>, String>> {
    let mut pending: Vec<Option<Pending>> = pending.into_iter().map(Some).collect();
    let mut out: Vec<Option<Result<Vec<Row>, String>>> = stages.iter().map(|_| None).collect();
    let cells_at = stages.iter().position(|s| *s == "celltypes");
    let order = cells_at
        .into_iter()
        .chain((0..stages.len()).filter(|&i| Some(i) != cells_at));
    for i in order {
        let cells = if ieaa && stages[i] == "clocks" {
            cells_at.and_then(|c| out[c].as_ref())
        } else {
            None
        };
        let got = match pending[i].take() {
            Some(Ok((p, views))) => p.finish(views, job, cells),
            Some(Err(e)) => Err(e),
            None => Err("internal: a stage finished twice".to_string()),
        };
        out[i] = Some(got);
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err("internal: a stage did not finish".to_string())))
        .collect()
}

/// A job of the run.
enum Job {
    /// Reads of one sample (index into the selected samples).
    Reads(usize),
    /// One IDAT batch (index into the batches).
    Idat(usize),
    /// One methylation stage over all methylation inputs.
    Meth(usize),
}

/// What a job produced.
struct Outcome {
    name: String,
    entry: Entry,
    failures: Vec<(String, String, String)>,
    skipped: bool,
}

impl Outcome {
    /// A job skipped because its inputs and parameters match the manifest of the last run.
    fn unchanged(name: String, fingerprint: String, outputs: Vec<String>) -> Outcome {
        Outcome {
            name,
            entry: Entry {
                fingerprint,
                status: "ok".into(),
                outputs,
            },
            failures: Vec::new(),
            skipped: true,
        }
    }
}

struct Ctx<'a> {
    out: &'a Path,
    samples: Vec<&'a CohortSample>,
    out_ids: Vec<String>,
    key: Option<&'a Pseudonymiser>,
    scrub: Scrubber,
    old: BTreeMap<String, Entry>,
    args: &'a RunArgs,
    inner_threads: usize,
    reader: ReaderOptions,
    /// IDAT batches: name and sample indices.
    batches: Vec<(String, Vec<usize>)>,
    /// Where the idat jobs write, and the methylation jobs read, the batches' files.
    idat_dir: PathBuf,
}

impl Ctx<'_> {
    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(self.out).unwrap_or(p).display().to_string()
    }

    fn protect(&self, rows: &mut [Row]) {
        if let Some(k) = self.key {
            for r in rows {
                r.input = k.input(&r.input);
                r.qc_note = self.scrub.scrub(&r.qc_note);
                r.read_group = self.scrub.scrub(&r.read_group);
                r.method = self.scrub.scrub(&r.method);
            }
        }
    }

    fn reads_job(&self, i: usize) -> Outcome {
        let s = self.samples[i];
        let sid = &self.out_ids[i];
        let name = format!("{sid}:{READ_STAGE}");
        let dir = self.out.join(sid);
        let prefix = dir.join(sid);
        let (t_tsv, t_pq) = tidy::output_paths(&prefix, telomere::SUFFIX);
        let (m_tsv, m_pq) = tidy::output_paths(&prefix, mtdna::SUFFIX);
        let failed = PathBuf::from(format!("{}.failed.tsv", prefix.display()));
        let reads_path = s.reads.clone().unwrap_or_default();
        let mut inputs: Vec<&str> = vec![&reads_path];
        if let Some(r2) = &s.reads2 {
            inputs.push(r2);
        }
        if let Some(r) = &s.reference {
            inputs.push(r);
        }
        let params = format!(
            "reads|{sid}|{:?}|{:?}|n_inputs={}",
            self.args.telomere,
            self.args.mtdna,
            inputs.len()
        );
        let fp = manifest::fingerprint(&params, &inputs);
        let outputs: Vec<String> = [&t_tsv, &t_pq, &m_tsv, &m_pq]
            .iter()
            .map(|p| self.rel(p))
            .collect();
        if manifest::unchanged(self.out, self.old.get(&name), &fp) {
            return Outcome::unchanged(name, fp, outputs);
        }
        let result = (|| -> Result<(), AppError> {
            let tel = telomere_options(&self.args.telomere)?;
            let mt = mtdna_options(&self.args.mtdna);
            tidy::prepare_output_dir(&prefix)?;
            let spec = reads::InputSpec {
                path: reads_path.clone(),
                path2: s.reads2.clone(),
                reference: s.reference.as_ref().map(PathBuf::from),
                interleaved: false,
            };
            let tables = read_pass(
                &spec,
                Some(sid),
                Some(tel),
                Some((mt, false)),
                self.inner_threads,
            )?;
            let mut t = tables.telomere.unwrap_or_default();
            let mut m = tables.mtdna.unwrap_or_default();
            self.protect(&mut t);
            self.protect(&mut m);
            tidy::write_table(&prefix, telomere::SUFFIX, &t)?;
            tidy::write_table(&prefix, mtdna::SUFFIX, &m)?;
            Ok(())
        })();
        match result {
            Ok(()) => {
                let _ = std::fs::remove_file(&failed);
                Outcome {
                    name,
                    entry: Entry {
                        fingerprint: fp,
                        status: "ok".into(),
                        outputs,
                    },
                    failures: Vec::new(),
                    skipped: false,
                }
            }
            Err(e) => {
                let reason = self.scrub.scrub(&e.to_string());
                for p in [&t_tsv, &t_pq, &m_tsv, &m_pq] {
                    let _ = std::fs::remove_file(p);
                }
                let rows: Vec<Row> = [telomere::ASSAY, mtdna::ASSAY]
                    .iter()
                    .map(|a| failed_row(sid, a, &reason))
                    .collect();
                if let Err(we) = std::fs::create_dir_all(&dir)
                    .map_err(|source| tidy::WriteError {
                        path: dir.clone(),
                        source,
                    })
                    .and_then(|_| tidy::write_atomic(&failed, |w| tidy::write_tsv(w, &rows)))
                {
                    warn!("{}", self.scrub.scrub(&we.to_string()));
                }
                Outcome {
                    name,
                    entry: Entry {
                        fingerprint: fp,
                        status: "fail".into(),
                        outputs: vec![self.rel(&failed)],
                    },
                    failures: vec![(sid.clone(), READ_STAGE.to_string(), reason)],
                    skipped: false,
                }
            }
        }
    }

    /// One IDAT batch: the code of `agemark idat <prefixes> --sample-ids <ids> -o
    /// OUTDIR/idat/<batch>`.
    fn idat_job(&self, b: usize) -> Outcome {
        let (batch, members) = &self.batches[b];
        let name = format!("{IDAT_STAGE}:{batch}");
        let prefix = idat_prefix(&self.idat_dir, batch);
        let prefix_s = prefix.display().to_string();
        let inputs: Vec<String> = members
            .iter()
            .map(|&i| self.samples[i].idat.clone().unwrap_or_default())
            .collect();
        let ids: Vec<String> = members.iter().map(|&i| self.out_ids[i].clone()).collect();
        let files: Vec<String> = inputs.iter().flat_map(|p| idat_files(p)).collect();
        let file_refs: Vec<&str> = files.iter().map(String::as_str).collect();
        let params = format!(
            "{IDAT_STAGE}|{batch}|{}|{:?}",
            ids.join(","),
            self.reader.idat
        );
        let fp = manifest::fingerprint(&params, &file_refs);
        let out = |sfx: &str| PathBuf::from(format!("{prefix_s}.{sfx}"));
        let all_outputs: Vec<String> = [
            "betas.tsv.gz",
            "detection.tsv.gz",
            "idat_qc.tsv",
            "idat_qc.parquet",
        ]
        .iter()
        .map(|s| self.rel(&out(s)))
        .collect();
        if manifest::unchanged(self.out, self.old.get(&name), &fp) {
            return Outcome::unchanged(name, fp, all_outputs);
        }
        let written = super::idat::write_batch(
            &inputs,
            Some(&ids),
            &self.reader.idat,
            &prefix_s,
            &|rows: &mut [Row]| self.protect(rows),
            &|t: &str| self.scrub.scrub(t),
        );
        let (outputs, failures) = match written {
            Ok(w) => {
                let mut outputs = if w.n_samples > 0 {
                    all_outputs
                } else {
                    Vec::new()
                };
                if !w.failures.is_empty() {
                    outputs.push(self.rel(&w.failures_path));
                }
                let failures: Vec<(String, String, String)> = w
                    .failures
                    .iter()
                    .map(|f| {
                        (
                            f.sample.clone(),
                            IDAT_STAGE.to_string(),
                            format!("{}: {}", f.file, f.message),
                        )
                    })
                    .collect();
                (outputs, failures)
            }
            Err(e) => {
                // The whole batch failed: every sample is listed in the batch's failures.tsv
                // (for the methylation stages, here or in a later run).
                let why = self.scrub.scrub(&e.to_string());
                let list: Vec<agemark::methylation::array::batch::Failure> = ids
                    .iter()
                    .zip(&inputs)
                    .map(|(id, input)| agemark::methylation::array::batch::Failure {
                        sample: id.clone(),
                        file: self.scrub.scrub(input),
                        message: why.clone(),
                    })
                    .collect();
                let path = out("failures.tsv");
                if let Err(we) = super::idat::write_failures(&path, &list) {
                    warn!("{}", self.scrub.scrub(&we.to_string()));
                }
                let failures = ids
                    .iter()
                    .map(|id| (id.clone(), IDAT_STAGE.to_string(), why.clone()))
                    .collect();
                (vec![self.rel(&path)], failures)
            }
        };
        let status = if failures.is_empty() { "ok" } else { "fail" };
        Outcome {
            name,
            entry: Entry {
                fingerprint: fp,
                status: status.into(),
                outputs,
            },
            failures,
            skipped: false,
        }
    }

    /// The methylation inputs of the run (the betas matrix with columns mapped by
    /// betas_column, each IDAT batch's betas, each sample's calls) and the samples whose input
    /// is unavailable (with the reason).
    fn meth_sources(&self) -> (Vec<Source>, Vec<(usize, String)>) {
        let mut sources: Vec<Source> = Vec::new();
        if let Some(b) = &self.args.betas {
            let map: BTreeMap<String, usize> = self
                .samples
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.betas_column.clone().map(|c| (c, i)))
                .collect();
            if !map.is_empty() {
                sources.push((b.clone(), map, Src::Matrix));
            }
        }
        // IDAT samples: their batch's betas (written by the idat stage, here or earlier); a
        // sample whose IDATs failed, or whose batch has no betas, gets failed rows.
        let mut unavailable: Vec<(usize, String)> = Vec::new();
        for (batch, members) in &self.batches {
            let prefix = idat_prefix(&self.idat_dir, batch).display().to_string();
            let betas = format!("{prefix}.betas.tsv.gz");
            let failed = batch_failures(Path::new(&format!("{prefix}.failures.tsv")));
            let mut map = BTreeMap::new();
            for &i in members {
                if let Some(why) = failed.get(&self.out_ids[i]) {
                    unavailable.push((i, format!("IDAT preprocessing failed (idat stage): {why}")));
                } else if !Path::new(&betas).is_file() {
                    unavailable.push((
                        i,
                        format!("{betas}: no such file; run the idat stage first"),
                    ));
                } else {
                    map.insert(self.out_ids[i].clone(), i);
                }
            }
            if !map.is_empty() {
                sources.push((betas, map, Src::Batch));
            }
        }
        for (i, s) in self.samples.iter().enumerate() {
            if let Some(p) = &s.methylation_calls {
                sources.push((p.clone(), BTreeMap::from([(String::new(), i)]), Src::Single));
            }
        }
        (sources, unavailable)
    }

    /// The methylation stages `ks` (indices into [`METH_STAGES`]): one outcome per stage. A
    /// stage whose inputs and parameters are unchanged since the last run is skipped; the
    /// others run together, reading each input once ([`run_stages`]).
    fn meth_jobs(&self, ks: &[usize]) -> Vec<Outcome> {
        let (sources, unavailable) = self.meth_sources();
        let prefix = self.out.join("methylation").join("cohort");
        struct Todo {
            stage: &'static str,
            name: String,
            fp: String,
            outputs: Vec<String>,
            rows: Vec<Row>,
            failures: Vec<(String, String, String)>,
        }
        let mut outcomes = Vec::new();
        let mut todo: Vec<Todo> = Vec::new();
        // `_ieaa` rows in the clocks table when the run has both clocks and celltypes.
        let has = |st: &str| ks.iter().any(|&k| METH_STAGES[k] == st);
        let ieaa = has("clocks") && has("celltypes");
        // The inputs' checksums, once for every stage's fingerprint.
        let sums: Vec<String> = sources
            .par_iter()
            .map(|s| manifest::input_sum(&s.0))
            .collect();
        for &k in ks {
            let stage = METH_STAGES[k];
            let name = format!("methylation:{stage}");
            let (tsv, pq) = tidy::output_paths(&prefix, stage);
            // Each stage's fingerprint holds only what its rows depend on: `--clocks` and the
            // ages for clocks, the sample types (the panel) for celltypes; so a change to one
            // stage's parameters re-runs that stage and leaves the others skipped.
            // With IEAA (clocks and celltypes both in the run) the clock rows also depend on
            // the sample types (the panel whose fractions are the covariates).
            let mut params = match stage {
                "clocks" if ieaa => format!("{stage}|clocks={}|ieaa|", self.args.clocks),
                "clocks" => format!("{stage}|clocks={}|", self.args.clocks),
                _ => format!("{stage}|"),
            };
            for (p, map, src) in &sources {
                params.push_str(&format!("{}|{}|", file_name_of(p), *src == Src::Single));
                for (c, &i) in map {
                    let s = self.samples[i];
                    let what = match stage {
                        "clocks" if ieaa => format!(
                            "{:?}:{:?}:{}",
                            s.age_years, s.gestational_age_weeks, s.sample_type
                        ),
                        "clocks" => format!("{:?}:{:?}", s.age_years, s.gestational_age_weeks),
                        "celltypes" => s.sample_type.clone(),
                        _ => String::new(),
                    };
                    params.push_str(&format!("{c}={}:{what};", self.out_ids[i]));
                }
            }
            for (i, why) in &unavailable {
                params.push_str(&format!("unavailable:{}:{why};", self.out_ids[*i]));
            }
            let fp = manifest::fingerprint_of_sums(&params, &sums);
            let outputs = vec![self.rel(&tsv), self.rel(&pq)];
            if manifest::unchanged(self.out, self.old.get(&name), &fp) {
                outcomes.push(Outcome::unchanged(name, fp, outputs));
                continue;
            }
            let mut rows = Vec::new();
            let mut failures = Vec::new();
            for (i, why) in &unavailable {
                let why = self.scrub.scrub(why);
                rows.push(failed_row(&self.out_ids[*i], stage, &why));
                failures.push((self.out_ids[*i].clone(), stage.to_string(), why));
            }
            todo.push(Todo {
                stage,
                name,
                fp,
                outputs,
                rows,
                failures,
            });
        }
        if todo.is_empty() {
            return outcomes;
        }
        let stages: Vec<&str> = todo.iter().map(|t| t.stage).collect();
        let models = if stages.contains(&"clocks") {
            load_models(&self.args.clocks)
        } else {
            Ok(Vec::new())
        };
        // Each input once for all stages (inputs in parallel; results kept in input order).
        let results: Vec<Vec<Result<Vec<Row>, String>>> = sources
            .par_iter()
            .map(|(path, map, _)| {
                let ages: HashMap<String, (Option<f64>, Option<f64>)> = map
                    .iter()
                    .map(|(c, &i)| {
                        let s = self.samples[i];
                        (c.clone(), (s.age_years, s.gestational_age_weeks))
                    })
                    .collect();
                let sample_types: HashMap<String, String> = map
                    .iter()
                    .map(|(c, &i)| (c.clone(), self.samples[i].sample_type.clone()))
                    .collect();
                let job = MethJob {
                    path,
                    reader: &self.reader,
                    ages: &ages,
                    sample_types: &sample_types,
                };
                run_stages(&stages, &job, &models, ieaa)
            })
            .collect();
        for (source, per_stage) in sources.iter().zip(results) {
            for (t, got) in todo.iter_mut().zip(per_stage) {
                self.absorb(t.stage, source, got, &mut t.rows, &mut t.failures);
            }
        }
        for mut t in todo {
            self.protect(&mut t.rows);
            let written = tidy::prepare_output_dir(&prefix)
                .and_then(|_| tidy::write_table(&prefix, t.stage, &t.rows));
            if let Err(e) = written {
                t.failures.push((
                    "*".to_string(),
                    t.stage.to_string(),
                    self.scrub.scrub(&e.to_string()),
                ));
            }
            let status = if t.failures.is_empty() { "ok" } else { "fail" };
            outcomes.push(Outcome {
                name: t.name,
                entry: Entry {
                    fingerprint: t.fp,
                    status: status.into(),
                    outputs: t.outputs,
                },
                failures: t.failures,
                skipped: false,
            });
        }
        outcomes
    }

    /// Adds one stage's result on one input to the stage's rows: sample names mapped to the
    /// run's ids; a sample the input lacks, or a failed stage, gives failed rows.
    fn absorb(
        &self,
        stage: &str,
        (path, map, src): &Source,
        got: Result<Vec<Row>, String>,
        rows: &mut Vec<Row>,
        failures: &mut Vec<(String, String, String)>,
    ) {
        let single = *src == Src::Single;
        match got {
            Ok(got) => {
                let names: std::collections::BTreeSet<&str> =
                    got.iter().map(|r| r.sample_id.as_str()).collect();
                if single && names.len() != 1 {
                    let &i = map.values().next().expect("one sample");
                    let why = format!(
                        "{}: holds {} samples; a per-sample input must hold exactly one",
                        file_name_of(path),
                        names.len()
                    );
                    rows.push(failed_row(&self.out_ids[i], stage, &why));
                    failures.push((self.out_ids[i].clone(), stage.to_string(), why));
                    return;
                }
                let mut present = std::collections::BTreeSet::new();
                for mut r in got {
                    let i = if single {
                        map.values().next().copied()
                    } else {
                        map.get(&r.sample_id).copied()
                    };
                    if let Some(i) = i {
                        present.insert(i);
                        r.sample_id = self.out_ids[i].clone();
                        rows.push(r);
                    }
                }
                for (c, &i) in map {
                    if !present.contains(&i) {
                        let why = if *src == Src::Batch {
                            format!(
                                "{path}: has no column '{c}' (written by another run of the idat stage?); run the idat stage again"
                            )
                        } else {
                            format!(
                                "betas_column '{c}' is not a sample of {}",
                                file_name_of(path)
                            )
                        };
                        let why = self.scrub.scrub(&why);
                        rows.push(failed_row(&self.out_ids[i], stage, &why));
                        failures.push((self.out_ids[i].clone(), stage.to_string(), why));
                    }
                }
            }
            Err(e) => {
                let why = self.scrub.scrub(&e);
                for &i in map.values() {
                    rows.push(failed_row(&self.out_ids[i], stage, &why));
                    failures.push((self.out_ids[i].clone(), stage.to_string(), why.clone()));
                }
            }
        }
    }
}

/// A methylation input: path, sample columns (input name → sample index), kind.
type Source = (String, BTreeMap<String, usize>, Src);

/// Where a methylation job's input comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Src {
    /// The top-level `--betas` matrix (columns by `betas_column`).
    Matrix,
    /// An IDAT batch's betas (columns by sample id).
    Batch,
    /// One sample's own input (sequencing calls).
    Single,
}

/// The row a failed stage leaves for a sample.
fn failed_row(sample: &str, assay: &str, why: &str) -> Row {
    Row {
        sample_id: sample.to_string(),
        assay: assay.to_string(),
        measure: "stage_failed".to_string(),
        value: None,
        unit: String::new(),
        method: "run".to_string(),
        n_used: None,
        qc_status: QcStatus::Fail,
        qc_note: why.to_string(),
        read_group: String::new(),
        input: String::new(),
        reference_build: String::new(),
        agemark_version: AGEMARK_VERSION.to_string(),
    }
}

/// `--plan FILE`: the IDAT batch plan of the sheet (`batch`, `sample_id`, `idat`: one line per
/// IDAT sample of the selected samples, by batch then sheet order; ids as written in outputs,
/// absolute IDAT paths), for workflows to declare one idat job per batch.
fn write_plan(
    path: &Path,
    sheet: &CohortSheet,
    wanted: Option<&[String]>,
    key: Option<&Pseudonymiser>,
) -> Result<(), AppError> {
    let samples: Vec<&CohortSample> = sheet
        .samples
        .iter()
        .filter(|s| wanted.is_none_or(|w| w.contains(&s.sample_id)))
        .collect();
    let batches = idat_batches(&samples);
    tidy::write_atomic(path, |w| {
        use std::io::Write;
        writeln!(w, "batch\tsample_id\tidat")?;
        for (batch, members) in &batches {
            for &i in members {
                let s = samples[i];
                let id = match key {
                    Some(k) => k.pseudonym(IdKind::Sample, &s.sample_id),
                    None => s.sample_id.clone(),
                };
                let idat = s.idat.as_deref().unwrap_or_default();
                let abs = std::path::absolute(idat).unwrap_or_else(|_| PathBuf::from(idat));
                writeln!(w, "{batch}\t{id}\t{}", abs.display())?;
            }
        }
        Ok(())
    })?;
    info!(
        "wrote {} ({} IDAT batches)",
        scrub_log(&path.display().to_string()),
        batches.len()
    );
    Ok(())
}

fn parse_stages(s: &str) -> Result<Vec<String>, AppError> {
    let mut known: Vec<&str> = vec![READ_STAGE, IDAT_STAGE];
    known.extend(METH_STAGES.iter().copied());
    let mut out = Vec::new();
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name == "all" {
            out.extend(known.iter().map(|k| k.to_string()));
        } else if known.contains(&name) {
            out.push(name.to_string());
        } else {
            return Err(AppError::Usage(format!(
                "--stages: unknown stage '{name}' (stages: {})",
                known.join(", ")
            )));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `agemark run`.
pub fn run(args: &RunArgs, threads: usize) -> Result<(), AppError> {
    let started = Instant::now();
    let key = super::merge::load_key(args.pseudonymise.as_deref())?;
    let stages = parse_stages(&args.stages)?;
    let mut sheet = CohortSheet::read(&args.samplesheet)?;
    let scrub = match &key {
        Some(k) => {
            let mut pairs = Vec::new();
            for s in &sheet.samples {
                pairs.push((
                    s.sample_id.clone(),
                    k.pseudonym(IdKind::Sample, &s.sample_id),
                ));
                pairs.push((
                    s.participant_id.clone(),
                    k.pseudonym(IdKind::Participant, &s.participant_id),
                ));
                pairs.push((
                    s.family_id.clone(),
                    k.pseudonym(IdKind::Family, &s.family_id),
                ));
            }
            let sc = Scrubber::new(pairs);
            install_log_scrubber(sc.clone());
            sc
        }
        None => Scrubber::default(),
    };
    // Input files of stages not run need not exist (a workflow's methylation job may not have
    // the reads staged).
    // The methylation stages read IDAT samples from their batch's betas, so the IDATs
    // themselves are needed by the idat stage only.
    let reads_on = stages.iter().any(|s| s == READ_STAGE);
    let idat_on = stages.iter().any(|s| s == IDAT_STAGE);
    let meth_on = stages.iter().any(|s| s != READ_STAGE && s != IDAT_STAGE);
    sheet.problems.retain(|p| match p.error.column.as_deref() {
        Some("reads" | "reads2" | "reference") => reads_on,
        Some("idat") => idat_on,
        Some("methylation_calls") => meth_on,
        _ => true,
    });
    // Checks that need more than the sheet.
    let wanted: Option<Vec<String>> = args.samples.as_ref().map(|s| {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    });
    if let Some(w) = &wanted {
        for id in w {
            if sheet.get(id).is_none() {
                sheet.add_error(
                    None,
                    Some("sample_id"),
                    format!("--samples: no sample '{id}' in the sheet"),
                );
            }
        }
    }
    match &args.betas {
        None if meth_on => {
            let lines: Vec<u64> = sheet
                .samples
                .iter()
                .filter(|s| s.betas_column.is_some())
                .map(|s| s.line)
                .collect();
            for l in lines {
                sheet.add_error(
                    Some(l),
                    Some("betas_column"),
                    "a betas column without a matrix: give --betas FILE".into(),
                );
            }
        }
        Some(b) if b != "-" && !Path::new(b).is_file() => {
            sheet.add_error(None, None, format!("--betas {b}: no such file"));
        }
        _ => {}
    }
    for p in &sheet.problems {
        eprintln!("{}", scrub_log(&p.to_string()));
    }
    if sheet.has_errors() {
        let n = sheet
            .problems
            .iter()
            .filter(|p| p.severity == agemark::cohort::samplesheet::Severity::Error)
            .count();
        return Err(AppError::Failed(scrub_log(&format!(
            "{}: {n} error(s) in the sample sheet; nothing was run",
            args.samplesheet
        ))));
    }
    if let Some(plan) = &args.plan {
        write_plan(plan, &sheet, wanted.as_deref(), key.as_ref())?;
    }
    if args.check {
        println!(
            "{}: ok ({} samples)",
            scrub_log(&args.samplesheet),
            sheet.samples.len()
        );
        return Ok(());
    }
    let out = args
        .outdir
        .clone()
        .ok_or_else(|| AppError::Usage("--outdir is required".into()))?;
    std::fs::create_dir_all(&out).map_err(|source| tidy::WriteError {
        path: out.clone(),
        source,
    })?;
    // Validate options once, up front.
    telomere_options(&args.telomere)?;
    if stages.iter().any(|s| s != READ_STAGE && s != IDAT_STAGE) {
        let reg = registry(None)?;
        reg.select(&args.clocks).map_err(AppError::Usage)?;
    }

    let samples: Vec<&CohortSample> = sheet
        .samples
        .iter()
        .filter(|s| wanted.as_ref().map_or(true, |w| w.contains(&s.sample_id)))
        .collect();
    let out_ids: Vec<String> = samples
        .iter()
        .map(|s| match &key {
            Some(k) => k.pseudonym(IdKind::Sample, &s.sample_id),
            None => s.sample_id.clone(),
        })
        .collect();
    {
        let mut seen = std::collections::HashSet::new();
        if out_ids.iter().any(|id| !seen.insert(id)) {
            return Err(AppError::Failed(
                "two sample ids got the same pseudonym: use another key".into(),
            ));
        }
    }
    let mut jobs: Vec<Job> = Vec::new();
    if stages.iter().any(|s| s == READ_STAGE) {
        jobs.extend(
            samples
                .iter()
                .enumerate()
                .filter(|(_, s)| s.reads.is_some())
                .map(|(i, _)| Job::Reads(i)),
        );
    }
    let batches: Vec<(String, Vec<usize>)> = idat_batches(&samples).into_iter().collect();
    if stages.iter().any(|s| s == IDAT_STAGE) {
        jobs.extend((0..batches.len()).map(Job::Idat));
    }
    let any_meth_input = samples.iter().any(|s| {
        (s.betas_column.is_some() && args.betas.is_some())
            || s.idat.is_some()
            || s.methylation_calls.is_some()
    });
    for (k, name) in METH_STAGES.iter().enumerate() {
        if any_meth_input && stages.iter().any(|s| s == name) {
            jobs.push(Job::Meth(k));
        }
    }
    // The reads and idat jobs first (in parallel), then the methylation jobs, which read the
    // batches' betas.
    let n_first = jobs
        .iter()
        .filter(|j| matches!(j, Job::Reads(_) | Job::Idat(_)))
        .count();
    let parallel = n_first.clamp(1, threads.max(1));
    let ctx = Ctx {
        out: &out,
        samples,
        out_ids,
        key: key.as_ref(),
        scrub,
        old: manifest::load(&out),
        args,
        inner_threads: (threads / parallel).max(1),
        reader: ReaderOptions::default(),
        batches,
        idat_dir: args
            .idat_dir
            .clone()
            .unwrap_or_else(|| out.join(IDAT_STAGE)),
    };
    info!(
        "{} samples, {} jobs ({}) on {threads} threads",
        ctx.samples.len(),
        jobs.len(),
        stages.join(", ")
    );
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(jobs.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} {msg}",
        ) {
            b.set_style(style.progress_chars("=> "));
        }
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let done = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Outcome>> = Mutex::new(Vec::new());
    let total = jobs.len();
    let record = |o: Outcome, t0: Instant| {
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        let state = if o.skipped {
            "unchanged since the last run, skipped".to_string()
        } else if o.failures.is_empty() {
            format!("done in {:.2} s", t0.elapsed().as_secs_f64())
        } else {
            format!("FAILED ({} failure(s))", o.failures.len())
        };
        bar.set_message(o.name.clone());
        bar.inc(1);
        bar.suspend(|| info!("[{n}/{total}] {}: {state}", o.name));
        outcomes
            .lock()
            .expect("no panics while holding the lock")
            .push(o);
    };
    // The reads and idat jobs in parallel; then the methylation stages together, reading each
    // methylation input once for all of them.
    let (first, then): (Vec<&Job>, Vec<&Job>) = jobs
        .iter()
        .partition(|j| matches!(j, Job::Reads(_) | Job::Idat(_)));
    first.par_iter().for_each(|j| {
        let t0 = Instant::now();
        match j {
            Job::Reads(i) => record(ctx.reads_job(*i), t0),
            Job::Idat(b) => record(ctx.idat_job(*b), t0),
            Job::Meth(_) => {}
        }
    });
    let ks: Vec<usize> = then
        .iter()
        .filter_map(|j| match j {
            Job::Meth(k) => Some(*k),
            _ => None,
        })
        .collect();
    if !ks.is_empty() {
        let t0 = Instant::now();
        for o in ctx.meth_jobs(&ks) {
            record(o, t0);
        }
    }
    bar.finish_and_clear();
    let mut outcomes = outcomes.into_inner().expect("no poisoned lock");
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));

    // Manifest: earlier entries of jobs not in this run are kept.
    let mut entries = ctx.old.clone();
    let mut failures: Vec<(String, String, String)> = Vec::new();
    let mut tables: Vec<PathBuf> = Vec::new();
    for o in &outcomes {
        entries.insert(o.name.clone(), o.entry.clone());
        failures.extend(o.failures.iter().cloned());
        tables.extend(
            o.entry
                .outputs
                .iter()
                .filter(|p| p.ends_with(".tsv") && !p.ends_with(".failures.tsv"))
                .map(|p| out.join(p)),
        );
    }
    failures.sort();
    manifest::save(&out, &entries)?;
    let failures_path = out.join("failures.tsv");
    tidy::write_atomic(&failures_path, |w| {
        use std::io::Write;
        writeln!(w, "sample_id\tstage\treason")?;
        for (s, st, r) in &failures {
            writeln!(w, "{s}\t{st}\t{}", r.replace(['\t', '\n', '\r'], " "))?;
        }
        Ok(())
    })?;

    // Cohort tables: the merge of `agemark merge` over the tables this run stands on.
    let merge_sheet = {
        let mut sel = sheet.clone();
        sel.samples
            .retain(|s| wanted.as_ref().map_or(true, |w| w.contains(&s.sample_id)));
        match &key {
            Some(k) => sel.pseudonymised(k),
            None => sel,
        }
    };
    let rows = collect_rows(&tables)?;
    let cohort = merge::merge(rows, Some(&merge_sheet));
    let written = cohort.write_all(&out.join("cohort"))?;
    let report_path = out.join("report.html");
    report::write_report(&cohort, &report_path, "agemark cohort report")?;
    let mqc = report::write_multiqc(&cohort, &out.join("multiqc"))?;
    for p in written
        .iter()
        .chain([&report_path, &failures_path])
        .chain(&mqc)
    {
        info!("wrote {}", scrub_log(&p.display().to_string()));
    }
    info!(
        "{} samples, {} jobs ({} skipped as unchanged) in {:.2} s",
        ctx.samples.len(),
        outcomes.len(),
        outcomes.iter().filter(|o| o.skipped).count(),
        started.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        let samples: std::collections::BTreeSet<&str> =
            failures.iter().map(|f| f.0.as_str()).collect();
        return Err(AppError::Failed(format!(
            "{} failure(s) in {} sample(s): see {}",
            failures.len(),
            samples.len(),
            scrub_log(&failures_path.display().to_string())
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_idat(idat: &str, batch: Option<&str>) -> CohortSample {
        CohortSample {
            idat: Some(idat.to_string()),
            idat_batch: batch.map(str::to_string),
            ..CohortSample::default()
        }
    }

    #[test]
    fn idat_batch_is_the_column_else_the_barcode_else_the_basename() {
        let b = |idat: &str, batch: Option<&str>| idat_batch_of(&with_idat(idat, batch));
        assert_eq!(b("/x/4207113116_A", None).as_deref(), Some("4207113116"));
        assert_eq!(
            b("/x/203530410002_R01C01_Grn.idat.gz", None).as_deref(),
            Some("203530410002")
        );
        assert_eq!(
            b("/x/4207113116_A", Some("plate-1")).as_deref(),
            Some("plate-1")
        );
        // A directory (or a name without `_`): its own name; unsafe characters become `_`.
        assert_eq!(b("/x/run 7/", None).as_deref(), Some("run_7"));
        assert_eq!(b("/x/_odd", None).as_deref(), Some("_odd"));
        assert_eq!(b("/x/.hidden_A", None).as_deref(), Some("_.hidden"));
        assert_eq!(idat_batch_of(&CohortSample::default()), None);
    }
}
