//! A cohort run from a sample sheet (`agemark run`): plan, jobs, failures, merge, report.
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
//!      ONCE for all of them ([`run_stages`], `read_shared`): one pass over the matrix for the
//!      union of the CpGs of clocks, every cell-type panel of the input's sample types and
//!      NR3C1, each stage computed from the view its own read would give (byte-identical
//!      tables; see `methylation::source::shared` for why the union cannot change a stage's
//!      numbers). Inputs are processed in parallel; one log line per input read
//!      (`read <file>: N samples × M CpGs in S s`). When that shared read fails, each stage
//!      reads the input alone, so each keeps its own error and failed rows. A calls file is
//!      parsed once: the same pass fills its probe table and collects the NR3C1 promoter CpGs
//!      by coordinate.
//!    - IEAA: when both clocks and celltypes are in the run's stages, the clocks table gets
//!      `<clock>_ieaa` rows (`methylation::stage::ieaa_by_panel`): `acceleration::ieaa` (the code of `agemark
//!      clocks --celltypes`) fitted per input and per panel group (the samples whose sample type
//!      maps to that panel), the covariates being the fractions the celltypes stage computed
//!      from the same read (a skipped celltypes stage's fractions are recomputed from it). A
//!      group below `acceleration::min_ieaa_cohort` fails its rows with the reason naming the
//!      group, its size and the minimum; a sample without a panel or fractions fails with its
//!      reason. With only one of the two stages, the clocks table is unchanged (no `_ieaa`).
//!    - IDAT batch of a sample (`plan::idat_batch_of`): the sheet's `idat_batch`, else the Sentrix
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
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    },
    time::Instant,
};

use rayon::prelude::*;
use tracing::{info, warn};

use crate::{
    cohort::{
        manifest::{self, Entry},
        merge,
        plan::{
            batch_failures, idat_batches, idat_files, idat_prefix, mtdna_params, parse_stages,
            telomere_params, write_plan, Job, IDAT_STAGE, QPCR_STAGE, READ_STAGE,
        },
        pseudo::{install_log_scrubber, scrub_log, IdKind, Pseudonymiser, Scrubber},
        report,
        samplesheet::{CohortSample, CohortSheet},
    },
    core::{
        error::{category_of_input_message, Categorised, Category, Error},
        file_name_of, QcStatus, AGEMARK_VERSION,
    },
    methylation::{
        array::output::{write_batch, write_failures},
        models::{applicability, registry::Registry},
        source::{modbam_input, ReaderOptions},
        stage::{load_run_models, run_stages, MethJob, METH_STAGES},
    },
    mtdna::{self, MtdnaOptions},
    readpass::{read_pass, TelomereMode},
    reads,
    telomere::{self, TelomereOptions},
    tidy::{self, Row},
};

/// What `agemark run` was asked to do (the command line, in library terms).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The sample sheet.
    pub samplesheet: String,
    /// The output directory (not needed with `check`).
    pub outdir: Option<PathBuf>,
    /// A beta matrix whose columns the sheet's `betas_column` names.
    pub betas: Option<String>,
    /// Stages, comma-separated (`all`, `reads`, `idat`, `clocks`, `celltypes`, `nr3c1`).
    pub stages: String,
    /// Only these sample ids.
    pub samples: Option<Vec<String>>,
    /// Check the sheet and stop.
    pub check: bool,
    /// Where the IDAT batch files are written and read (default `OUTDIR/idat`).
    pub idat_dir: Option<PathBuf>,
    /// Write the IDAT batch plan here.
    pub plan: Option<PathBuf>,
    /// Key file for pseudonymised outputs.
    pub pseudonymise: Option<String>,
    /// Clocks: `applicable` or empty (each sample its in-domain clocks; `applicable:NAMES`
    /// among those), `all`, or names separated by commas (those for every sample,
    /// out-of-domain rows `warn`).
    pub clocks: String,
    /// Telomere stage options.
    pub telomere: TelomereOptions,
    /// Long reads: each sample's reads get per-molecule telomere lengths
    /// (`telomere::longread`) instead of TelSeq/TelomereHunter, and a
    /// `<sample>.telomere_reads.tsv` beside the tables.
    pub long_reads: Option<crate::telomere::longread::LongReadOptions>,
    /// mtDNA stage options.
    pub mtdna: MtdnaOptions,
    /// Worker threads in all.
    pub threads: usize,
    /// A banner under the report's title saying what the data are (the demo's fictional
    /// linkage and synthetic values); not part of any table.
    pub report_banner: Option<String>,
    /// qPCR assay config (`qpcr::config`: plates, roles, calibrators): the qpcr stage.
    pub qpcr: Option<PathBuf>,
    /// Exposure scores: `applicable` or empty (each sample its applicable scores), `all`, or
    /// names separated by commas (those for every sample, out-of-domain rows `warn`).
    pub scores: String,
}

/// How a run ended without error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// `check`: the sheet is valid.
    Checked {
        /// The sheet as named (scrubbed of raw ids when pseudonymising).
        sheet: String,
        /// Samples in it.
        n_samples: usize,
    },
    /// Every job finished without a failure.
    Ran,
}

/// One line of `failures.tsv`.
#[derive(Clone, Debug)]
struct Failure {
    sample: String,
    stage: String,
    category: Category,
    reason: String,
}

impl Failure {
    /// A failure whose category is read from its reason (a sample's missing input, …).
    fn new(sample: &str, stage: &str, reason: String) -> Failure {
        Failure {
            sample: sample.to_string(),
            stage: stage.to_string(),
            category: category_of_input_message(&reason),
            reason,
        }
    }
}

struct Outcome {
    name: String,
    entry: Entry,
    failures: Vec<Failure>,
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
                sums: Vec::new(),
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
    opts: &'a RunOptions,
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
        // The sheet refuses ids that are not plain names; this also refuses a symbolic link.
        let dir = match tidy::confined(self.out, Path::new(sid)) {
            Ok(d) => d,
            Err(e) => {
                return Outcome {
                    name,
                    entry: Entry {
                        fingerprint: String::new(),
                        status: "fail".into(),
                        outputs: Vec::new(),
                        sums: Vec::new(),
                    },
                    failures: vec![Failure {
                        sample: sid.clone(),
                        stage: READ_STAGE.to_string(),
                        category: Category::IoWrite,
                        reason: self.scrub.scrub(&e.to_string()),
                    }],
                    skipped: false,
                }
            }
        };
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
            "reads|{sid}|{}|{}|n_inputs={}",
            match &self.opts.long_reads {
                Some(l) => format!("long_reads(motif={})", l.motif),
                None => telomere_params(&self.opts.telomere),
            },
            mtdna_params(&self.opts.mtdna),
            inputs.len()
        );
        let fp = manifest::fingerprint(&params, &inputs);
        let per_read = PathBuf::from(format!(
            "{}.{}.tsv",
            prefix.display(),
            crate::telomere::longread::READS_SUFFIX
        ));
        let mut outputs: Vec<String> = [&t_tsv, &t_pq, &m_tsv, &m_pq]
            .iter()
            .map(|p| self.rel(p))
            .collect();
        if self.opts.long_reads.is_some() {
            outputs.push(self.rel(&per_read));
        }
        if manifest::unchanged(self.out, self.old.get(&name), &fp) {
            return Outcome::unchanged(name, fp, outputs);
        }
        let result = (|| -> Result<(), Error> {
            let tel = self.opts.telomere.clone();
            let mt = self.opts.mtdna.clone();
            tidy::prepare_output_dir(&prefix)?;
            let spec = reads::InputSpec {
                path: reads_path.clone(),
                path2: s.reads2.clone(),
                reference: s.reference.as_ref().map(PathBuf::from),
                interleaved: false,
            };
            let mode = match &self.opts.long_reads {
                Some(l) => TelomereMode::Long(l.clone()),
                None => TelomereMode::Short(tel),
            };
            let tables = read_pass(
                &spec,
                Some(sid),
                Some(mode),
                Some((mt, false)),
                self.inner_threads,
            )?;
            if let Some(text) = &tables.telomere_reads {
                let path = &per_read;
                // The sample id column is already the output id; read names are scrubbed of
                // any raw id as every other text is.
                let text = if self.key.is_some() {
                    self.scrub.scrub(text)
                } else {
                    text.clone()
                };
                tidy::write_atomic(path, |w| {
                    use std::io::Write;
                    w.write_all(text.as_bytes())
                })?;
            }
            let mut t = tables.telomere.unwrap_or_default();
            let mut m = tables.mtdna.unwrap_or_default();
            self.protect(&mut t);
            self.protect(&mut m);
            tidy::write_tables(&prefix, &[(telomere::SUFFIX, &t), (mtdna::SUFFIX, &m)])?;
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
                        sums: Vec::new(),
                    },
                    failures: Vec::new(),
                    skipped: false,
                }
            }
            Err(e) => {
                let reason = self.scrub.scrub(&e.to_string());
                for p in [&t_tsv, &t_pq, &m_tsv, &m_pq, &per_read] {
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
                        sums: Vec::new(),
                    },
                    failures: vec![Failure {
                        sample: sid.clone(),
                        stage: READ_STAGE.to_string(),
                        category: e.category(),
                        reason,
                    }],
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
        let written = write_batch(
            &inputs,
            Some(&ids),
            &self.reader.idat.batch_options(),
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
                let failures: Vec<Failure> = w
                    .failures
                    .iter()
                    .map(|f| Failure {
                        sample: f.sample.clone(),
                        stage: IDAT_STAGE.to_string(),
                        category: category_of_input_message(&f.message),
                        reason: format!("{}: {}", f.file, f.message),
                    })
                    .collect();
                (outputs, failures)
            }
            Err(e) => {
                // The whole batch failed: every sample is listed in the batch's failures.tsv
                // (for the methylation stages, here or in a later run).
                let why = self.scrub.scrub(&e.to_string());
                let list: Vec<crate::methylation::array::batch::Failure> = ids
                    .iter()
                    .zip(&inputs)
                    .map(|(id, input)| crate::methylation::array::batch::Failure {
                        sample: id.clone(),
                        file: self.scrub.scrub(input),
                        message: why.clone(),
                    })
                    .collect();
                let path = out("failures.tsv");
                if let Err(we) = write_failures(&path, &list) {
                    warn!("{}", self.scrub.scrub(&we.to_string()));
                }
                let failures = ids
                    .iter()
                    .map(|id| Failure {
                        sample: id.clone(),
                        stage: IDAT_STAGE.to_string(),
                        category: e.category(),
                        reason: why.clone(),
                    })
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
                sums: Vec::new(),
            },
            failures,
            skipped: false,
        }
    }

    /// The qPCR stage: the config's plates → `OUTDIR/qpcr/cohort.qpcr*.tsv`. Plate sample
    /// names are the sheet's sample ids (a plate map renames wells); other names (standards'
    /// pools, calibrators) stay in the plates and wells tables, never in the cohort tables.
    fn qpcr_job(&self, config: &Path) -> Outcome {
        let name = QPCR_STAGE.to_string();
        let prefix = self.out.join(QPCR_STAGE).join("cohort");
        let (tsv, pq) = tidy::output_paths(&prefix, crate::qpcr::SUFFIX);
        let (ptsv, ppq) = tidy::output_paths(&prefix, crate::qpcr::PLATES_SUFFIX);
        let wells = PathBuf::from(format!(
            "{}.{}.tsv",
            prefix.display(),
            crate::pipelines::qpcr::WELLS_SUFFIX
        ));
        let outputs: Vec<String> = [&tsv, &pq, &ptsv, &ppq, &wells]
            .iter()
            .map(|p| self.rel(p))
            .collect();
        let fail = |fp: String, e: Error| -> Outcome {
            for p in [&tsv, &pq, &ptsv, &ppq, &wells] {
                let _ = std::fs::remove_file(p);
            }
            Outcome {
                name: name.clone(),
                entry: Entry {
                    fingerprint: fp,
                    status: "fail".into(),
                    outputs: Vec::new(),
                    sums: Vec::new(),
                },
                failures: vec![Failure {
                    sample: "(qpcr plates)".into(),
                    stage: QPCR_STAGE.to_string(),
                    category: e.category(),
                    reason: self.scrub.scrub(&e.to_string()),
                }],
                skipped: false,
            }
        };
        let cfg = match crate::qpcr::config::QpcrConfig::read(config) {
            Ok(c) => c,
            Err(e) => return fail(String::new(), e.into()),
        };
        let config_s = config.display().to_string();
        let mut inputs: Vec<String> = vec![config_s];
        inputs.extend(cfg.plates.iter().map(|p| p.display().to_string()));
        inputs.extend(cfg.plate_map.iter().map(|p| p.display().to_string()));
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let ids: Vec<String> = self
            .samples
            .iter()
            .zip(&self.out_ids)
            .map(|(s, o)| format!("{}={o}", s.sample_id))
            .collect();
        let fp = manifest::fingerprint(&format!("{QPCR_STAGE}|{}", ids.join(",")), &refs);
        if manifest::unchanged(self.out, self.old.get(&name), &fp) {
            return Outcome::unchanged(name, fp, outputs);
        }
        let result = (|| -> Result<Vec<String>, Error> {
            let mut reactions = crate::pipelines::qpcr::load(&cfg)?;
            let ids: BTreeMap<&str, &str> = self
                .samples
                .iter()
                .zip(&self.out_ids)
                .map(|(s, o)| (s.sample_id.as_str(), o.as_str()))
                .collect();
            let mut unknown: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
            let special: std::collections::BTreeSet<&str> = cfg
                .options
                .inter_run_calibrators
                .iter()
                .map(String::as_str)
                .chain(cfg.options.calibrator.as_deref())
                .collect();
            for r in &mut reactions {
                match ids.get(r.sample.as_str()) {
                    Some(o) => r.sample = o.to_string(),
                    None => {
                        if r.content == crate::qpcr::Content::Unknown
                            && !r.inter_run_calibrator
                            && !special.contains(r.sample.as_str())
                        {
                            unknown.insert(r.sample.clone());
                        }
                    }
                }
            }
            let mut run = crate::qpcr::compute(&reactions, &cfg.options);
            let sheet: std::collections::BTreeSet<&str> =
                self.out_ids.iter().map(String::as_str).collect();
            run.rows.retain(|r| sheet.contains(r.sample_id.as_str()));
            self.protect(&mut run.rows);
            self.protect(&mut run.plate_rows);
            crate::pipelines::qpcr::write(&prefix, &run)?;
            Ok(unknown.into_iter().collect())
        })();
        match result {
            Ok(unknown) => {
                if !unknown.is_empty() {
                    warn!(
                        "qpcr: {} plate sample name(s) are not sample ids of the sheet (selected samples) and stay out of the cohort tables: {}{}",
                        unknown.len(),
                        unknown.iter().take(10).cloned().collect::<Vec<_>>().join(", "),
                        if unknown.len() > 10 { ", …" } else { "" }
                    );
                }
                Outcome {
                    name,
                    entry: Entry {
                        fingerprint: fp,
                        status: "ok".into(),
                        outputs,
                        sums: Vec::new(),
                    },
                    failures: Vec::new(),
                    skipped: false,
                }
            }
            Err(e) => fail(fp, e),
        }
    }

    /// The methylation inputs of the run (the betas matrix with columns mapped by
    /// betas_column, each IDAT batch's betas, each sample's calls) and the samples whose input
    /// is unavailable (with the reason).
    fn meth_sources(&self) -> (Vec<Source>, Vec<(usize, String)>) {
        let mut sources: Vec<Source> = Vec::new();
        if let Some(b) = &self.opts.betas {
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
            failures: Vec<Failure>,
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
                "clocks" if ieaa => format!("{stage}|clocks={}|ieaa|", self.opts.clocks),
                "clocks" => format!("{stage}|clocks={}|", self.opts.clocks),
                "exposure" => format!("{stage}|scores={}|", self.opts.scores),
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
                        "exposure" => format!(
                            "{:?}:{:?}:{}",
                            s.age_years, s.gestational_age_weeks, s.sample_type
                        ),
                        "celltypes" | "identity" => s.sample_type.clone(),
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
                failures.push(Failure::new(&self.out_ids[*i], stage, why));
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
        let models = load_run_models(
            stages
                .contains(&"clocks")
                .then_some(self.opts.clocks.as_str()),
            stages
                .contains(&"exposure")
                .then_some(self.opts.scores.as_str()),
        );
        // Each input once for all stages (inputs in parallel; results kept in input order).
        let results: Vec<Vec<Result<Vec<Row>, Error>>> = sources
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
                // A modBAM sample piles up against its own sheet reference.
                let modbam_reader;
                let reader = match map.values().next().map(|&i| self.samples[i]) {
                    Some(s) if map.len() == 1 && modbam_input::detect(path) => {
                        let mut r = self.reader.clone();
                        if let Some(f) = &s.reference {
                            r.calls.reference = Some(PathBuf::from(f));
                        }
                        modbam_reader = r;
                        &modbam_reader
                    }
                    _ => &self.reader,
                };
                let job = MethJob {
                    path,
                    reader,
                    ages: &ages,
                    sample_types: &sample_types,
                    forced_clocks: applicability::forces(&self.opts.clocks),
                    forced_scores: applicability::forces(&self.opts.scores),
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
                t.failures.push(Failure {
                    sample: "*".to_string(),
                    stage: t.stage.to_string(),
                    category: e.category(),
                    reason: self.scrub.scrub(&e.to_string()),
                });
            }
            let status = if t.failures.is_empty() { "ok" } else { "fail" };
            outcomes.push(Outcome {
                name: t.name,
                entry: Entry {
                    fingerprint: t.fp,
                    status: status.into(),
                    outputs: t.outputs,
                    sums: Vec::new(),
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
        got: Result<Vec<Row>, Error>,
        rows: &mut Vec<Row>,
        failures: &mut Vec<Failure>,
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
                    failures.push(Failure::new(&self.out_ids[i], stage, why));
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
                        failures.push(Failure::new(&self.out_ids[i], stage, why));
                    }
                }
            }
            Err(e) => {
                let why = self.scrub.scrub(&e.to_string());
                for &i in map.values() {
                    rows.push(failed_row(&self.out_ids[i], stage, &why));
                    failures.push(Failure {
                        sample: self.out_ids[i].clone(),
                        stage: stage.to_string(),
                        category: e.category(),
                        reason: why.clone(),
                    });
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

/// A cohort run: see the module doc. `Ok(RunOutcome::Checked)` after `--check`; an error
/// of category `run.failed` when a job failed (the others finished, and everything is written).
pub fn run(args: &RunOptions) -> Result<RunOutcome, Error> {
    let started = Instant::now();
    let threads = args.threads.max(1);
    let key = Pseudonymiser::load(args.pseudonymise.as_deref())?;
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
    let meth_on = stages
        .iter()
        .any(|s| s != READ_STAGE && s != IDAT_STAGE && s != QPCR_STAGE);
    // With qPCR plates a sample's input may be a plate well, which the sheet does not name.
    if args.qpcr.is_some() {
        sheet
            .problems
            .retain(|p| !p.error.to_string().contains("has no inputs"));
    }
    sheet.problems.retain(|p| match p.error.column.as_deref() {
        Some("reads" | "reads2" | "reference") => reads_on,
        Some("idat") => idat_on,
        Some("methylation_calls") => meth_on,
        _ => true,
    });
    // Checks that need more than the sheet.
    let wanted: Option<Vec<String>> = args.samples.clone();
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
    match &args.qpcr {
        Some(q) if !q.is_file() => {
            sheet.add_error(None, None, format!("--qpcr {}: no such file", q.display()));
        }
        None if args.stages.split(',').any(|s| s.trim() == QPCR_STAGE) => {
            sheet.add_error(
                None,
                None,
                "--stages qpcr: give the plates' config with --qpcr FILE".into(),
            );
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
            .filter(|p| p.severity == crate::cohort::samplesheet::Severity::Error)
            .count();
        return Err(Error::new(
            Category::SheetInvalid,
            scrub_log(&format!(
                "{}: {n} error(s) in the sample sheet; nothing was run",
                args.samplesheet
            )),
        ));
    }
    if let Some(plan) = &args.plan {
        write_plan(plan, &sheet, wanted.as_deref(), key.as_ref())?;
    }
    if args.check {
        return Ok(RunOutcome::Checked {
            sheet: scrub_log(&args.samplesheet),
            n_samples: sheet.samples.len(),
        });
    }
    let out = args
        .outdir
        .clone()
        .ok_or_else(|| Error::usage("--outdir is required"))?;
    if out.as_os_str().is_empty() || out.as_os_str() == "-" {
        return Err(Error::usage(format!(
            "--outdir '{}': give a directory (a run writes many files; there is no stdout form)",
            out.display()
        )));
    }
    // The outdir is created and locked before anything is written into it: a second run into
    // the same directory stops here, naming the run that holds it.
    let _lock = tidy::lock_dir(&out)?;
    let stale = tidy::remove_stale_temporaries(&out);
    if stale > 0 {
        info!("removed {stale} temporary file(s) an interrupted run left");
    }
    // Validate options once, up front.
    if meth_on {
        Registry::bundled()?.select(&args.clocks)?;
        load_run_models(None, Some(&args.scores))?;
    }

    let samples: Vec<&CohortSample> = sheet
        .samples
        .iter()
        .filter(|s| wanted.as_ref().is_none_or(|w| w.contains(&s.sample_id)))
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
            return Err(Error::usage(
                "two sample ids got the same pseudonym: use another key",
            ));
        }
    }
    // The qpcr stage runs when its config is given and the stage is selected.
    let qpcr_config: Option<&Path> = args
        .qpcr
        .as_deref()
        .filter(|_| stages.iter().any(|s| s == QPCR_STAGE));
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
        opts: args,
        inner_threads: (threads / parallel).max(1),
        reader: ReaderOptions::default(),
        batches,
        idat_dir: args
            .idat_dir
            .clone()
            .unwrap_or_else(|| out.join(IDAT_STAGE)),
    };
    let total = jobs.len() + usize::from(qpcr_config.is_some());
    info!(
        "{} samples, {} jobs ({}) on {threads} threads",
        ctx.samples.len(),
        total,
        stages.join(", ")
    );
    // Jobs done of total, the running ones as the message; each read pass adds its own bar of
    // input bytes below it (crate::core::progress).
    let bar = crate::core::progress::job_bar(total as u64);
    let running: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let show_running = |name: &str, start: bool| {
        let mut r = running.lock().expect("no panics while holding the lock");
        if start {
            r.push(name.to_string());
        } else if let Some(i) = r.iter().position(|n| n == name) {
            r.remove(i);
        }
        bar.set_message(if r.is_empty() {
            String::new()
        } else {
            format!("running: {}", r.join(", "))
        });
    };
    let done = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Outcome>> = Mutex::new(Vec::new());
    let record = |mut o: Outcome, t0: Instant| {
        // The outputs' sums (a skipped job keeps those of the run that wrote them), and the
        // job recorded durably now, so that a killed run resumes from here.
        o.entry.sums = match (o.skipped, ctx.old.get(&o.name)) {
            (true, Some(old)) => old.sums.clone(),
            _ => manifest::output_sums(&out, &o.entry.outputs),
        };
        if let Err(e) = manifest::record_job(&out, &o.name, &o.entry) {
            warn!("{e}");
        }
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        let state = if o.skipped {
            "unchanged since the last run, skipped".to_string()
        } else if o.failures.is_empty() {
            format!("done in {:.2} s", t0.elapsed().as_secs_f64())
        } else {
            format!("FAILED ({} failure(s))", o.failures.len())
        };
        bar.inc(1);
        // The log writer hides the bars while it writes (crate::core::progress::suspend).
        info!("[{n}/{total}] {}: {state}", o.name);
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
        let label = match j {
            Job::Reads(i) => format!("{}:{READ_STAGE}", ctx.out_ids[*i]),
            Job::Idat(b) => format!("{IDAT_STAGE}:{}", ctx.batches[*b].0),
            Job::Meth(_) => return,
        };
        show_running(&label, true);
        match j {
            Job::Reads(i) => record(ctx.reads_job(*i), t0),
            Job::Idat(b) => record(ctx.idat_job(*b), t0),
            Job::Meth(_) => {}
        }
        show_running(&label, false);
    });
    if let Some(cfg) = qpcr_config {
        let t0 = Instant::now();
        show_running(QPCR_STAGE, true);
        let o = ctx.qpcr_job(cfg);
        show_running(QPCR_STAGE, false);
        record(o, t0);
    }
    let ks: Vec<usize> = then
        .iter()
        .filter_map(|j| match j {
            Job::Meth(k) => Some(*k),
            _ => None,
        })
        .collect();
    if !ks.is_empty() {
        let t0 = Instant::now();
        show_running("methylation stages", true);
        let meth = ctx.meth_jobs(&ks);
        show_running("methylation stages", false);
        for o in meth {
            record(o, t0);
        }
    }
    bar.finish_and_clear();
    let mut outcomes = outcomes.into_inner().expect("no poisoned lock");
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));

    // Manifest: earlier entries of jobs not in this run are kept.
    let mut entries = ctx.old.clone();
    let mut failures: Vec<Failure> = Vec::new();
    let mut tables: Vec<PathBuf> = Vec::new();
    for o in &outcomes {
        entries.insert(o.name.clone(), o.entry.clone());
        failures.extend(o.failures.iter().cloned());
        tables.extend(
            o.entry
                .outputs
                .iter()
                // qPCR plates and wells, per-molecule tables: not samples' rows.
                .filter(|p| p.ends_with(".tsv") && super::merge::not_merged(p).is_none())
                .map(|p| out.join(p))
                // A table whose writing failed (a full disk) is absent: its job's failure,
                // with the reason, is in failures.tsv; merge what was written.
                .filter(|p| p.is_file()),
        );
    }
    failures
        .sort_by(|a, b| (&a.sample, &a.stage, &a.reason).cmp(&(&b.sample, &b.stage, &b.reason)));
    manifest::save(&out, &entries)?;
    let failures_path = out.join("failures.tsv");
    tidy::write_atomic(&failures_path, |w| {
        use std::io::Write;
        writeln!(w, "sample_id\tstage\tcategory\treason")?;
        for f in &failures {
            writeln!(
                w,
                "{}\t{}\t{}\t{}",
                f.sample,
                f.stage,
                f.category,
                f.reason.replace(['\t', '\n', '\r'], " ")
            )?;
        }
        Ok(())
    })?;

    // Cohort tables: the merge of `agemark merge` over the tables this run stands on.
    let merge_sheet = {
        let mut sel = sheet.clone();
        sel.samples
            .retain(|s| wanted.as_ref().is_none_or(|w| w.contains(&s.sample_id)));
        match &key {
            Some(k) => sel.pseudonymised(k),
            None => sel,
        }
    };
    let rows = merge::collect_rows(&tables)?;
    let cohort = merge::merge(rows, Some(&merge_sheet));
    let written = cohort.write_all(&out.join("cohort"))?;
    let report_path = out.join("report.html");
    let plates = report::QpcrPlates::read(&out.join(QPCR_STAGE).join("cohort"))?;
    report::write_report_with(
        &cohort,
        &report_path,
        "agemark cohort report",
        args.report_banner.as_deref(),
        plates.as_ref(),
    )?;
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
    // What a user opens next, with the rows' verdicts (each warn and fail says why in qc_note).
    let mut verdicts = [0usize; 3];
    for r in &cohort.rows {
        verdicts[match r.qc_status {
            crate::core::QcStatus::Pass => 0,
            crate::core::QcStatus::Warn => 1,
            crate::core::QcStatus::Fail => 2,
        }] += 1;
    }
    info!(
        "cohort rows: {} pass, {} warn, {} fail (why: qc_note in {}); open {} first",
        verdicts[0],
        verdicts[1],
        verdicts[2],
        scrub_log(&out.join("cohort.long.tsv").display().to_string()),
        scrub_log(&report_path.display().to_string())
    );
    if !failures.is_empty() {
        let samples: std::collections::BTreeSet<&str> =
            failures.iter().map(|f| f.sample.as_str()).collect();
        return Err(Error::new(
            Category::Failed,
            format!(
                "{} failure(s) in {} sample(s): see {}",
                failures.len(),
                samples.len(),
                scrub_log(&failures_path.display().to_string())
            ),
        ));
    }
    Ok(RunOutcome::Ran)
}
