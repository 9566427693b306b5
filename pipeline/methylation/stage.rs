//! The methylation stage seam: what each stage (clocks, cell types, identity, NR3C1) needs of an input,
//! and how it turns the views of one read into rows.
//!
//! A [`MethStage`] asks the reader for CpGs ([`MethStage::requests`]) and makes its rows from
//! the views ([`MethStage::finish`]). [`run_stages`] runs several stages on one input, reading
//! it ONCE for all of them ([`read_shared`]: the union of their CpGs; each stage gets the view
//! its own read would give, see `methylation::source::shared` for why the union cannot change
//! a stage's numbers). `agemark run` calls it per methylation input; `agemark clocks`,
//! `celltypes` and `nr3c1` are the same stages on one input each.
//!
//! IEAA ([`ieaa_by_panel`]): when clocks and cell types both run, the clocks get `<clock>_ieaa`
//! rows from `acceleration::ieaa` fitted per panel group (the samples whose sample type maps to
//! that panel, the one the cell-type stage chose for it), the covariates being the fractions the cell-type
//! stage computed from the same read. A group below `acceleration::min_ieaa_cohort` fails its
//! rows with the reason naming the group, its size and the minimum.

use std::{
    collections::{BTreeMap, HashMap},
    time::Instant,
};

use tracing::{info, warn};

use crate::{
    core::{
        error::{Category, Error},
        file_name_of, QcStatus, AGEMARK_VERSION,
    },
    methylation::{
        celltypes,
        models::{
            self, acceleration, applicability,
            registry::{ClockModel, Registry},
            ClockOptions, ClocksPlan, Impute,
        },
        nr3c1, sample_qc,
        source::{
            calls_input, input_kind,
            shared::{read_shared, read_shared_region, Request},
            BetaView, InputKind, ReaderOptions,
        },
    },
    tidy::Row,
};

/// The methylation stages, in order (each name is also the table suffix).
pub const METH_STAGES: &[&str] = &["celltypes", "clocks", "exposure", "identity", "nr3c1"];

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
    /// Clocks were named (`--clocks all` or a list): computed for every sample, out-of-domain
    /// rows `warn`. Otherwise (`applicable`) each sample gets its in-domain clocks only
    /// ([`applicability`](crate::methylation::models::applicability)).
    pub forced_clocks: bool,
    /// Exposure scores were named (`--scores all` or a list): computed for every sample,
    /// out-of-domain rows `warn`; otherwise each sample gets its applicable scores only.
    pub forced_scores: bool,
}

impl MethJob<'_> {
    /// The sample type of one of the input's samples; a per-sample input (calls, IDATs) keys
    /// its one sample by "".
    pub fn sample_type(&self, sample: &str) -> Option<&str> {
        self.sample_types
            .get(sample)
            .or_else(|| self.sample_types.get(""))
            .map(String::as_str)
    }

    /// The (age in years, gestational age in weeks) of one of the input's samples, keyed as
    /// [`MethJob::sample_type`].
    pub fn ages_of(&self, sample: &str) -> (Option<f64>, Option<f64>) {
        self.ages
            .get(sample)
            .or_else(|| self.ages.get(""))
            .copied()
            .unwrap_or((None, None))
    }
}

/// A stage's part of one read of an input: what it asks the reader for, and how it turns the
/// views into rows (sample column = the input's sample names).
pub enum MethStage<'m> {
    /// Clocks: held and streamed CpGs, the streamed ones folded by the plan while reading.
    Clocks(Box<ClocksPlan<'m>>),
    /// Exposure scores ([`Registry::bundled_scores`]): the clocks' linear engine, rows of
    /// assay `exposure`, kept by each sample's applicability ([`exposure_rows`]).
    Exposure(Box<ClocksPlan<'m>>),
    /// Cell composition: one request per candidate panel (each sample against the panel of its
    /// sample type's tissue that the input covers best, [`celltypes::panels_for`]); a sample
    /// type without a panel gets one `warn` row.
    Cells {
        /// Each group of samples (by the candidate panels of their sample type) with its
        /// candidate panels; the one the input covers best is applied
        /// ([`celltypes::best_covered`]).
        panels: Vec<(Vec<celltypes::Panel>, Vec<String>)>,
        /// `warn` rows of the samples without a panel.
        warn: Vec<Row>,
        /// Projection options.
        opts: celltypes::CellOptions,
    },
    /// NR3C1 probe betas and region means; for sequencing calls also the promoter CpGs by
    /// coordinate (from the same pass over the file when the shared read gave them).
    Nr3c1(Vec<String>, Option<RegionAnswer>),
    /// Identity and purity ([`sample_qc`]): SNP-probe genotypes (for the cohort's duplicate and
    /// relatedness checks) and Morin's maternal-contamination count of cord bloods.
    Identity {
        /// The SNP probes, then Morin's CpGs.
        ids: Vec<String>,
        /// How many of `ids` are SNP probes.
        n_snp: usize,
        /// Morin's CpGs and thresholds.
        morin: Vec<sample_qc::MorinCpg>,
        /// The genotype model.
        mixture: sample_qc::Mixture,
    },
}

/// The clock models of `--clocks`, loaded once for all inputs.
pub fn load_models(clocks: &str) -> Result<Vec<ClockModel>, Error> {
    let reg = Registry::bundled()?;
    let infos = reg.select(clocks)?;
    Ok(infos
        .iter()
        .map(|i| reg.load(i))
        .collect::<Result<Vec<_>, _>>()?)
}

/// The models of a run's clocks and exposure stages, loaded once for all inputs: the clocks
/// of `clocks` (when `with_clocks`), then the scores of `scores` (when `with_scores`); the
/// stages split them by `assay`.
pub fn load_run_models(
    clocks: Option<&str>,
    scores: Option<&str>,
) -> Result<Vec<ClockModel>, Error> {
    let mut out = match clocks {
        Some(c) => load_models(c)?,
        None => Vec::new(),
    };
    if let Some(spec) = scores {
        let reg = Registry::bundled_scores()?;
        let infos = reg.select(spec).map_err(|e| {
            Error::usage(
                e.to_string()
                    .replace("--clocks: unknown clock", "--scores: unknown score"),
            )
        })?;
        for i in &infos {
            out.push(reg.load(i)?);
        }
    }
    Ok(out)
}

/// The models of one assay (`clocks` or `exposure`) in a run's model list.
fn models_of<'m>(models: &'m [ClockModel], assay: &str) -> &'m [ClockModel] {
    let split = models
        .iter()
        .position(|m| m.info.assay == crate::methylation::models::registry::EXPOSURE_ASSAY)
        .unwrap_or(models.len());
    if assay == crate::methylation::models::registry::EXPOSURE_ASSAY {
        &models[split..]
    } else {
        &models[..split]
    }
}

impl<'m> MethStage<'m> {
    /// Sets a stage up for one input (`models`: `--clocks`, loaded once).
    fn new(
        stage: &str,
        job: &MethJob,
        models: &'m Result<Vec<ClockModel>, Error>,
    ) -> Result<MethStage<'m>, Error> {
        match stage {
            "clocks" => {
                let models = models.as_ref().map_err(Error::duplicate)?;
                let opts = ClockOptions {
                    impute: Impute::Auto,
                    max_missing: 0.2,
                };
                Ok(MethStage::Clocks(Box::new(ClocksPlan::new(
                    models_of(models, "clocks"),
                    &opts,
                )?)))
            }
            "exposure" => {
                let models = models.as_ref().map_err(Error::duplicate)?;
                let opts = ClockOptions {
                    impute: Impute::Auto,
                    max_missing: 0.2,
                };
                Ok(MethStage::Exposure(Box::new(ClocksPlan::new(
                    models_of(models, crate::methylation::models::registry::EXPOSURE_ASSAY),
                    &opts,
                )?)))
            }
            "celltypes" => {
                let opts = celltypes::CellOptions::default();
                let input = file_name_of(job.path);
                let mut by_panel: BTreeMap<&[&str], Vec<String>> = BTreeMap::new();
                let mut warn = Vec::new();
                let types: BTreeMap<&String, &String> = job.sample_types.iter().collect();
                for (sample, ty) in types {
                    match celltypes::panels_for(ty) {
                        [] => warn.push(Row {
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
                        candidates => by_panel.entry(candidates).or_default().push(sample.clone()),
                    }
                }
                let mut panels = Vec::new();
                for (candidates, samples) in by_panel {
                    let mut loaded = Vec::new();
                    for name in candidates {
                        let info = celltypes::find_panel(name)?;
                        loaded.push(celltypes::load_panel(&info)?);
                    }
                    panels.push((loaded, samples));
                }
                Ok(MethStage::Cells { panels, warn, opts })
            }
            "nr3c1" => Ok(MethStage::Nr3c1(nr3c1::probe_ids()?, None)),
            "identity" => {
                let mut ids = sample_qc::snp_probe_ids()?;
                let n_snp = ids.len();
                let morin = sample_qc::morin_cpgs()?;
                ids.extend(morin.iter().map(|c| c.id.clone()));
                Ok(MethStage::Identity {
                    ids,
                    n_snp,
                    morin,
                    mixture: sample_qc::mixture()?,
                })
            }
            other => Err(Error::new(
                Category::Internal,
                format!("internal: unknown methylation stage '{other}'"),
            )),
        }
    }

    /// The stage's requests to the reader (one per panel for cell types).
    fn requests(&mut self) -> Vec<Request<'_>> {
        match self {
            MethStage::Clocks(plan) | MethStage::Exposure(plan) => {
                let sample_moments = plan.needs_moments();
                let (dense, streamed, sink) = plan.request();
                vec![Request {
                    dense,
                    streamed,
                    sample_moments,
                    sink,
                }]
            }
            MethStage::Cells { panels, .. } => panels
                .iter()
                .flat_map(|(candidates, _)| candidates)
                .map(|p| Request {
                    dense: &p.cpgs,
                    streamed: &[],
                    sample_moments: false,
                    sink: None,
                })
                .collect(),
            MethStage::Nr3c1(ids, _) | MethStage::Identity { ids, .. } => vec![Request {
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
        cells: Option<&Result<Vec<Row>, Error>>,
    ) -> Result<Vec<Row>, Error> {
        let input = file_name_of(job.path);
        match self {
            MethStage::Clocks(plan) => {
                let view = views.first().ok_or_else(|| {
                    Error::new(Category::Internal, "internal: no view for clocks")
                })?;
                let run = plan.finish(view)?;
                Ok(clock_rows(&run, job, cells))
            }
            MethStage::Exposure(plan) => {
                let view = views.first().ok_or_else(|| {
                    Error::new(Category::Internal, "internal: no view for exposure")
                })?;
                let run = plan.finish(view)?;
                Ok(exposure_rows(&run, job))
            }
            MethStage::Cells {
                panels,
                mut warn,
                opts,
            } => {
                let mut views = views.iter();
                for (candidates, samples) in &panels {
                    let own: Vec<&BetaView> = views.by_ref().take(candidates.len()).collect();
                    // Coverage of the group's own samples: panel CpGs × samples with a value
                    // (a matrix joined from several studies has rows that are NA for some).
                    let in_group: std::collections::HashSet<&str> =
                        samples.iter().map(String::as_str).collect();
                    let coverage: Vec<(usize, usize)> = own
                        .iter()
                        .map(|v| {
                            let cols: Vec<usize> = (0..v.samples.len())
                                .filter(|&c| {
                                    in_group.contains("")
                                        || in_group.contains(v.samples[c].as_str())
                                })
                                .collect();
                            let with_value = (0..v.cpgs.len())
                                .map(|i| {
                                    let row = v.row(i);
                                    cols.iter().filter(|&&c| !row[c].is_nan()).count()
                                })
                                .sum::<usize>();
                            (with_value, v.cpgs.len() * cols.len())
                        })
                        .collect();
                    let best = celltypes::best_covered(&coverage);
                    let (panel, view) = (&candidates[best], own[best]);
                    let choice = if candidates.len() > 1 {
                        let share = |(p, t): (usize, usize)| 100.0 * p as f64 / t.max(1) as f64;
                        let others: Vec<String> = candidates
                            .iter()
                            .zip(&coverage)
                            .enumerate()
                            .filter(|(i, _)| *i != best)
                            .map(|(_, (c, &cv))| format!("{} {:.1}%", c.info.name, share(cv)))
                            .collect();
                        Some(format!(
                            "panel {} chosen: {:.1}% of its CpG values present in these samples (others: {})",
                            panel.info.name,
                            share(coverage[best]),
                            others.join(", ")
                        ))
                    } else {
                        None
                    };
                    let run = celltypes::deconvolve_view(view, panel, &opts);
                    // A per-sample input (IDATs, calls) comes with the key "": all its rows
                    // are that sample's.
                    let keep: std::collections::HashSet<&str> =
                        samples.iter().map(String::as_str).collect();
                    let single = keep.contains("");
                    // The rows name the panel in `method` and stay those of `agemark
                    // celltypes --panel <it>`; the log says why it was chosen.
                    if let Some(c) = &choice {
                        info!("{input}: {} samples: {c}", samples.len());
                    }
                    warn.extend(
                        celltypes::to_rows(&run, &input)
                            .into_iter()
                            .filter(|r| single || keep.contains(r.sample_id.as_str())),
                    );
                }
                Ok(warn)
            }
            MethStage::Nr3c1(_, region) => {
                let view = views
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::new(Category::Internal, "internal: no view for nr3c1"))?;
                let opts = nr3c1::Nr3c1Options { max_missing: 0.5 };
                let run = nr3c1::nr3c1_view(view, &opts)?;
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
            MethStage::Identity {
                n_snp,
                morin,
                mixture,
                ..
            } => {
                let view = views.into_iter().next().ok_or_else(|| {
                    Error::new(Category::Internal, "internal: no view for identity")
                })?;
                Ok(identity_rows(&view, job, n_snp, &morin, &mixture, &input))
            }
        }
    }
}

/// The covered CpGs of the NR3C1 promoter in a calls file (or why they are not known).
type RegionAnswer = Result<Vec<calls_input::CoveredCpg>, crate::methylation::InputError>;

/// Exposure-score rows of one input: each sample's applicable scores (its sample type and age
/// in the score's development domain, `reference/scores/applicability.tsv`); with named scores
/// (`forced_scores`) every score, the out-of-domain rows `warn` with the reason. Without sample
/// types (no sheet) every score. No acceleration: a score is not an age.
pub fn exposure_rows(run: &models::ClocksRun, job: &MethJob) -> Vec<Row> {
    let rows = models::to_rows(run, &file_name_of(job.path), &[]);
    if job.sample_types.is_empty() {
        return rows;
    }
    let samples: Vec<String> = run.samples.clone();
    let mut kept: Vec<Row> = rows
        .into_iter()
        .filter_map(|mut r| {
            let Ok(Some(d)) = applicability::domain_of(&r.measure) else {
                return Some(r);
            };
            let Some(ty) = job.sample_type(&r.sample_id) else {
                return Some(r);
            };
            let (years, ga) = job.ages_of(&r.sample_id);
            match d.check(ty, years, ga) {
                applicability::Fit::In => Some(r),
                applicability::Fit::Out(why) if job.forced_scores => {
                    if r.qc_status == QcStatus::Pass {
                        r.qc_status = QcStatus::Warn;
                    }
                    r.add_note(&why.replace("the clock's", "the score's"));
                    Some(r)
                }
                applicability::Fit::Out(_) => None,
            }
        })
        .collect();
    // A sample no score applies to gets one row saying so (and that the stage saw it).
    let with_rows: std::collections::HashSet<String> =
        kept.iter().map(|r| r.sample_id.clone()).collect();
    let input = file_name_of(job.path);
    for s in samples.iter().filter(|s| !with_rows.contains(*s)) {
        let ty = job.sample_type(s).unwrap_or("unknown");
        let prov = crate::core::Provenance {
            sample_id: s.clone(),
            input: input.clone(),
            reference_build: String::new(),
        };
        let mut r = Row::new(
            &prov,
            crate::methylation::models::registry::EXPOSURE_ASSAY,
            "applicable_scores",
            0.0,
            "count",
            "run: exposure scores by development domain (reference/scores/applicability.tsv)",
        );
        r.add_note(&format!(
            "no bundled exposure score was developed for sample_type '{ty}'; see `agemark reference list`, or name scores with --scores to compute them anyway"
        ));
        kept.push(r);
    }
    kept
}

/// Clock rows with age acceleration from the sheet's ages, and `_ieaa` rows when `cells` (the
/// celltypes stage's rows on the same input) is given ([`ieaa_by_panel`]).
pub fn clock_rows(
    run: &models::ClocksRun,
    job: &MethJob,
    cells: Option<&Result<Vec<Row>, Error>>,
) -> Vec<Row> {
    // Every sample of the input gets an entry (ages only for the samples of the run's
    // sheet), so the acceleration fit uses exactly the samples with ages.
    let sheet = acceleration::Ages {
        source: "sample sheet".to_string(),
        has_age_years: true,
        has_gestational_age: true,
        by_sample: run
            .samples
            .iter()
            .map(|s| (s.clone(), job.ages.get(s).copied().unwrap_or((None, None))))
            .collect(),
    };
    // Training domains: per clock, the samples outside it (with the reason). Without sample
    // types (no sheet) every clock applies.
    let mut outside: Vec<HashMap<&str, String>> = vec![HashMap::new(); run.results.len()];
    if !job.sample_types.is_empty() {
        for (r, out) in run.results.iter().zip(outside.iter_mut()) {
            let domain = match applicability::domain_of(&r.info.name) {
                Ok(Some(d)) => d,
                Ok(None) => continue,
                Err(e) => {
                    warn!("clock domains not checked: {e}");
                    continue;
                }
            };
            for s in &run.samples {
                let Some(ty) = job.sample_type(s) else {
                    continue;
                };
                let (years, ga) = job.ages_of(s);
                if let applicability::Fit::Out(why) = domain.check(ty, years, ga) {
                    out.insert(s.as_str(), why);
                }
            }
        }
    }
    // Each clock's acceleration is fitted on the samples in its domain (by default the others
    // get no rows at all; forced, they keep their ages and their rows say why they are warn).
    let sheet_for = |out: &HashMap<&str, String>| {
        let mut a = sheet.clone();
        if !job.forced_clocks {
            for (s, ages) in a.by_sample.iter_mut() {
                if out.contains_key(s.as_str()) {
                    *ages = (None, None);
                }
            }
        }
        a
    };
    let sheets: Vec<acceleration::Ages> = outside.iter().map(sheet_for).collect();
    let mut accel: Vec<Option<acceleration::Acceleration>> = run
        .results
        .iter()
        .zip(&sheets)
        .map(|(r, sh)| acceleration::accelerate(r, &run.samples, sh))
        .collect();
    // The `_ieaa` rows' method differs between panel groups: set per (sample, measure).
    let mut methods: HashMap<(String, String), String> = HashMap::new();
    if let Some(cells) = cells {
        for ((r, a), sh) in run.results.iter().zip(accel.iter_mut()).zip(&sheets) {
            let Some(a) = a else { continue };
            if let Some((est, ms)) = ieaa_by_panel(r, &run.samples, sh, job, cells) {
                let measure = format!("{}_ieaa", r.info.name);
                for (s, m) in run.samples.iter().zip(ms) {
                    methods.insert((s.clone(), measure.clone()), m);
                }
                a.ieaa = Some((est, String::new()));
            }
        }
    }
    let rows = models::to_rows(run, &file_name_of(job.path), &accel);
    // The clock of each row: its measure is the clock's name or name_diff/_residual/_ieaa.
    let clock_of = |measure: &str| {
        run.results
            .iter()
            .position(|r| applicability::is_measure_of(measure, &r.info.name))
    };
    let mut kept: Vec<Row> = rows
        .into_iter()
        .filter_map(|mut row| {
            if let Some(m) = methods.get(&(row.sample_id.clone(), row.measure.clone())) {
                row.method = m.clone();
            }
            let why = clock_of(&row.measure)
                .and_then(|k| outside[k].get(row.sample_id.as_str()))
                .cloned();
            match why {
                None => Some(row),
                Some(_) if !job.forced_clocks => None,
                Some(why) => {
                    row.warn(&why);
                    Some(row)
                }
            }
        })
        .collect();
    // A sample that no clock applies to gets one `warn` row saying so (not silence).
    if !job.forced_clocks && !run.results.is_empty() {
        let with_rows: std::collections::HashSet<&str> =
            kept.iter().map(|r| r.sample_id.as_str()).collect();
        let missing: Vec<&String> = run
            .samples
            .iter()
            .filter(|s| !with_rows.contains(s.as_str()))
            .collect();
        let input = file_name_of(job.path);
        let mut extra = Vec::new();
        for s in missing {
            let ty = job.sample_type(s).unwrap_or("unknown");
            let (years, ga) = job.ages_of(s);
            let age = match (years, ga) {
                (Some(y), _) => format!(", age {y} years"),
                (None, Some(g)) => format!(", gestational age {g} weeks"),
                _ => String::new(),
            };
            extra.push(Row {
                sample_id: s.clone(),
                assay: models::SUFFIX.to_string(),
                measure: "applicable_clocks".to_string(),
                value: Some(0.0),
                unit: "count".to_string(),
                method: "run: clocks by training domain (reference/clocks/applicability.tsv)"
                    .to_string(),
                n_used: None,
                qc_status: QcStatus::Warn,
                qc_note: format!(
                    "no requested clock was trained on sample_type '{ty}'{age}; see `agemark reference list`, or name clocks with --clocks to compute them anyway"
                ),
                read_group: String::new(),
                input: input.clone(),
                reference_build: String::new(),
                agemark_version: AGEMARK_VERSION.to_string(),
            });
        }
        kept.extend(extra);
    }
    kept
}

/// `_ieaa` of one clock on one input, each sample's covariates the cell fractions of its own
/// panel ([`celltypes::panel_for`] its sample type): one fit of [`acceleration::ieaa`] per panel group
/// (the samples of the input with that panel), on the fractions the celltypes stage computed
/// (`cells`, its rows on this input, exactly what its table holds). A group smaller than
/// [`acceleration::min_ieaa_cohort`] fails its rows with the reason, naming the group and its
/// size; a sample without a panel, or whose cell types failed, fails with that reason.
/// Per sample: the estimate and the rows' method. `None` when the clock's unit has no age.
pub fn ieaa_by_panel(
    r: &models::ClockResult,
    samples: &[String],
    sheet: &acceleration::Ages,
    job: &MethJob,
    cells: &Result<Vec<Row>, Error>,
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
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let single_input = job.sample_types.contains_key("");
    for (i, s) in samples.iter().enumerate() {
        // The panel the cell-type stage chose for this sample (named in its rows' method).
        let chosen = rows
            .iter()
            .find(|row| &row.sample_id == s || single_input)
            .and_then(|row| row.method.split("panel=").nth(1))
            .and_then(|m| m.split([';', ')']).next());
        match job
            .sample_type(s)
            .map(|t| (t, chosen.or(celltypes::panel_for(t))))
        {
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
pub fn run_stages(
    stages: &[&str],
    job: &MethJob,
    models: &Result<Vec<ClockModel>, Error>,
    ieaa: bool,
) -> Vec<Result<Vec<Row>, Error>> {
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
    models: &Result<Vec<ClockModel>, Error>,
    ieaa: bool,
) -> Vec<Result<Vec<Row>, Error>> {
    let mut preps: Vec<Result<MethStage, Error>> = stages
        .iter()
        .map(|s| MethStage::new(s, job, models))
        .collect();
    // Log lines are scrubbed of raw ids by the log writer (`cohort::pseudo::ScrubbedStderr`).
    let name = file_name_of(job.path);
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
                    if let MethStage::Nr3c1(_, r) = p {
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
                e
            );
            drop(preps);
            let pending = stages
                .iter()
                .map(|s| {
                    let mut p = MethStage::new(s, job, models)?;
                    let mut views = Vec::new();
                    for r in p.requests() {
                        let (v, _) = read_shared(job.path, &mut [r], job.reader)?;
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
type Pending<'m> = Result<(MethStage<'m>, Vec<BetaView>), Error>;

/// Each stage's rows from its views; celltypes first, so that the clocks' `_ieaa` rows (when
/// `ieaa`) use its fractions. One result per stage, in `stages` order.
fn finish_all(
    stages: &[&str],
    pending: Vec<Pending>,
    job: &MethJob,
    ieaa: bool,
) -> Vec<Result<Vec<Row>, Error>> {
    let mut pending: Vec<Option<Pending>> = pending.into_iter().map(Some).collect();
    let mut out: Vec<Option<Result<Vec<Row>, Error>>> = stages.iter().map(|_| None).collect();
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
            None => Err(Error::new(
                Category::Internal,
                "internal: a stage finished twice",
            )),
        };
        out[i] = Some(got);
    }
    out.into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(Error::new(
                    Category::Internal,
                    "internal: a stage did not finish",
                ))
            })
        })
        .collect()
}

/// The identity stage's rows of one input: per sample, one `snp_genotype` row per SNP probe
/// present (value = B alleles, empty when not called) and, for cord bloods, the Morin count.
fn identity_rows(
    view: &BetaView,
    job: &MethJob,
    n_snp: usize,
    morin: &[sample_qc::MorinCpg],
    mixture: &sample_qc::Mixture,
    input: &str,
) -> Vec<Row> {
    let mut rows = Vec::new();
    let base = |sample: &str, assay: &str, measure: &str, unit: &str, method: &str| {
        let prov = crate::core::Provenance {
            sample_id: sample.to_string(),
            input: input.to_string(),
            reference_build: String::new(),
        };
        Row::empty(&prov, assay, measure, unit, method)
    };
    for (s, sample) in view.samples.iter().enumerate() {
        let key = if job.sample_types.contains_key(sample) {
            sample.as_str()
        } else {
            ""
        };
        let (mut present, mut called) = (0u64, 0u64);
        for i in 0..n_snp {
            if !view.is_present(i) {
                continue;
            }
            present += 1;
            let beta = view.row(i)[s];
            let mut r = base(
                sample,
                sample_qc::GENOTYPE_ASSAY,
                &view.cpgs[i],
                "B_alleles",
                "ewastools_call_genotypes_mixture(posterior>=0.5)",
            );
            match mixture.call(beta) {
                Some(g) => {
                    r.value = Some(f64::from(g));
                    called += 1;
                }
                None if beta.is_nan() => r.warn("beta missing: not called"),
                None => r.warn(&format!(
                    "beta {beta:.3} lies between the genotype clusters: not called"
                )),
            }
            rows.push(r);
        }
        // One summary row per sample, always: the SNP call rate.
        let mut r = base(
            sample,
            sample_qc::IDENTITY_ASSAY,
            "snp_call_rate",
            "fraction",
            "ewastools_call_genotypes_mixture(posterior>=0.5)",
        );
        r.n_used = Some(present);
        if present == 0 {
            r.warn(
                "no SNP probes (rs...) in the input: identity and relatedness cannot be checked",
            );
        } else {
            r.value = Some(called as f64 / present as f64);
            if (called as usize) < sample_qc::MIN_SNPS {
                r.warn(&format!(
                    "{called} of {present} SNP probes called: fewer than {} for identity checks",
                    sample_qc::MIN_SNPS
                ));
            }
        }
        rows.push(r);
        let is_cord = job.sample_types.get(key).is_some_and(|t| t == "cord_blood");
        if !is_cord {
            continue;
        }
        let betas: Vec<f64> = (n_snp..n_snp + morin.len())
            .map(|i| view.row(i)[s])
            .collect();
        let (present, swan, bmiq) = sample_qc::morin_count(morin, &betas);
        let mut r = base(
            sample,
            sample_qc::CONTAMINATION_ASSAY,
            "cpgs_above_threshold",
            "count",
            "morin2017_10cpg_swan_thresholds(contaminated if >=5 above)",
        );
        r.n_used = Some(present as u64);
        if present < sample_qc::MORIN_MIN_PRESENT {
            r.warn(&format!(
                "only {present} of Morin's {} CpGs are in the input (need {}): not computed",
                morin.len(),
                sample_qc::MORIN_MIN_PRESENT
            ));
        } else {
            r.value = Some(swan as f64);
            let note = format!(
                "{swan} of {present} CpGs above the SWAN thresholds ({bmiq} above the BMIQ ones)"
            );
            if swan >= sample_qc::MORIN_MIN_ABOVE {
                // The count is valid (the value stays); the sample fails in cohort.sample_qc.
                r.warn(&format!(
                    "{note}: maternal blood contamination (Morin 2017: >= {} of 10)",
                    sample_qc::MORIN_MIN_ABOVE
                ));
            } else if bmiq >= sample_qc::MORIN_MIN_ABOVE {
                r.warn(&format!(
                    "{note}: contaminated by the BMIQ thresholds only; check the normalisation"
                ));
            }
        }
        rows.push(r);
    }
    rows
}
