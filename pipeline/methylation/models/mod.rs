//! Epigenetic clock models applied to a beta matrix.
//!
//! Each model is a linear predictor `lin = intercept + Σ_i coef_i · beta_i` over its CpGs,
//! followed by a transform ([`transforms`]); Zhang 2019 works on per-sample z-scores
//! ([`zhang`]) and DunedinPACE on quantile-normalised betas with its own missing-value rules
//! ([`dunedinpace`]). By default the published models are applied to the betas as given (no
//! extra normalisation), as biolearn does.
//!
//! Missing values (every other model): for each sample × clock, a CpG without a value (absent
//! from the input, or a missing cell) is
//! * `cohort-mean`: set to the mean of that CpG over the samples that have it; a CpG with no
//!   value in any sample falls back to the bundled reference mean (DunedinPACE's blood
//!   gold-standard means, 20,000 CpGs) when it has one;
//! * `reference`: set to the bundled reference mean when there is one;
//! * `none`: left out of the sum (its term is 0, as biolearn's NaN-skipping sum does).
//!
//! The default (`auto`) is `cohort-mean` for cohorts of at least [`MIN_COHORT_FOR_MEAN`]
//! samples and `reference` below that. Whatever is still missing is left out. When more than
//! `max_missing` (default [`DEFAULT_MAX_MISSING`]) of a clock's CpGs have no measured value in a
//! sample, the value is not computed (`qc_status = fail`, with the reason). Every imputation is
//! counted in `qc_note`, and `method` names the policy.
//!
//! Models with at least [`STREAM_MIN_CPGS`] CpGs (Zhang's BLUP, 319,607) are folded into
//! running per-sample sums while the matrix streams by (cohort-mean imputation is row-local),
//! so memory does not hold their CpGs.

pub mod acceleration;
pub mod applicability;
pub mod dunedinpace;
pub mod registry;
pub mod scores;
pub mod transforms;
pub mod zhang;

use std::collections::HashMap;

use registry::{ClockModel, ModelInfo};
use transforms::Transform;

use super::{
    source::{
        probe_base, read_methylation_with, BetaView, FastMap, ReaderNotes, ReaderOptions,
        SampleMoments, StreamSink,
    },
    InputError,
};
use crate::{
    core::{Provenance, QcStatus},
    tidy::Row,
};

/// Models with at least this many CpGs are accumulated while streaming.
pub const STREAM_MIN_CPGS: usize = 20_000;
/// Default refusal threshold: the largest fraction of a clock's CpGs that may lack a measured
/// value in a sample.
pub const DEFAULT_MAX_MISSING: f64 = 0.2;
/// Smallest cohort for which `auto` imputes with the cohort mean.
pub const MIN_COHORT_FOR_MEAN: usize = 10;
/// The `assay` column of clock rows.
pub const ASSAY: &str = "clocks";
/// The table suffix: `<prefix>.clocks.tsv`.
pub const SUFFIX: &str = "clocks";
pub use crate::methylation::PROBE_IDS;

/// Imputation policy for missing CpGs (DunedinPACE and Zhang 2019 use their own rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impute {
    /// `cohort-mean` when the cohort has at least [`MIN_COHORT_FOR_MEAN`] samples, else `reference`.
    Auto,
    /// Per-CpG mean over the samples that have the CpG.
    CohortMean,
    /// Bundled reference means.
    Reference,
    /// No imputation: missing terms are left out.
    None,
}

impl Impute {
    /// The word used in `method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Impute::Auto => "auto",
            Impute::CohortMean => "cohort_mean",
            Impute::Reference => "reference_means",
            Impute::None => "none",
        }
    }
}

/// Options of a clocks run.
#[derive(Clone, Debug)]
pub struct ClockOptions {
    /// Imputation policy.
    pub impute: Impute,
    /// Refusal threshold (fraction of a clock's CpGs without a measured value).
    pub max_missing: f64,
}

impl Default for ClockOptions {
    fn default() -> Self {
        ClockOptions {
            impute: Impute::Auto,
            max_missing: DEFAULT_MAX_MISSING,
        }
    }
}

/// One sample × clock.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// The value; `None` when refused or not computable.
    pub value: Option<f64>,
    /// CpGs whose (measured or imputed) value entered the sum; on a refused estimate, the
    /// CpGs the sample measured (nothing was imputed into a sum that was never taken).
    pub n_used: u64,
    /// Of those, imputed.
    pub n_imputed: u64,
    /// CpGs without a measured value in this sample (imputed or left out).
    pub n_missing: u64,
    /// QC outcome.
    pub qc_status: QcStatus,
    /// Notes (every imputation and fallback), in order.
    pub notes: Vec<String>,
}

impl Estimate {
    /// A failed estimate with a reason.
    pub fn failed(why: String) -> Self {
        Estimate {
            value: None,
            n_used: 0,
            n_imputed: 0,
            n_missing: 0,
            qc_status: QcStatus::Fail,
            notes: vec![why],
        }
    }

    /// This estimate refused with a reason: no value, and `n_used` counts only the `measured`
    /// CpGs (imputed ones entered no sum).
    fn refused(mut self, why: String, measured: u64) -> Self {
        self.value = None;
        self.qc_status = QcStatus::Fail;
        self.n_used = measured;
        self.n_imputed = 0;
        self.notes.push(why);
        self
    }
}

/// One clock over all samples.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockResult {
    /// The model's registry entry.
    pub info: ModelInfo,
    /// CpGs in the model.
    pub n_cpgs: usize,
    /// Of those, with a row in the input.
    pub n_present: usize,
    /// The `method` column.
    pub method: String,
    /// One per sample, in sample order.
    pub estimates: Vec<Estimate>,
}

/// The result of [`run_clocks`].
#[derive(Clone, Debug, PartialEq)]
pub struct ClocksRun {
    /// Input file name.
    pub input: String,
    /// Samples, as the input names them.
    pub samples: Vec<String>,
    /// One per requested clock, in request order.
    pub results: Vec<ClockResult>,
    /// What the reader found.
    pub reader: ReaderNotes,
    /// The policy applied (`auto` resolved).
    pub impute: Impute,
    /// Bytes of the beta view held (samples × dense CpGs × 8).
    pub view_bytes: usize,
    /// CpGs streamed instead of held.
    pub streamed_cpgs: usize,
}

/// Where a model CpG's values come from.
#[derive(Clone, Copy, Debug)]
enum Loc {
    /// Row of the beta view.
    Held(usize),
    /// Index among the streamed CpGs.
    Streamed(usize),
}

/// How missing values of one model are handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    CohortMean,
    Reference,
    None,
    /// Zhang 2019: a missing cell is set to its probe's mean over samples; nothing else.
    Zhang,
}

/// Running per-sample sums of one linear model.
#[derive(Clone, Debug)]
struct LinAcc {
    rule: Rule,
    sum: Vec<f64>,
    coef_sum: Vec<f64>,
    observed: Vec<u32>,
    imputed_mean: Vec<u32>,
    imputed_ref: Vec<u32>,
    dropped: Vec<u32>,
    absent: u64,
}

impl LinAcc {
    fn new(rule: Rule, n: usize) -> Self {
        LinAcc {
            rule,
            sum: vec![0.0; n],
            coef_sum: vec![0.0; n],
            observed: vec![0; n],
            imputed_mean: vec![0; n],
            imputed_ref: vec![0; n],
            dropped: vec![0; n],
            absent: 0,
        }
    }

    /// Folds one CpG (`values` = `None` when absent from the input).
    fn fold(&mut self, coef: f64, values: Option<&[f64]>, ref_mean: Option<f64>) {
        let row_mean = values.and_then(|v| {
            let (mut t, mut k) = (0.0, 0u32);
            for &x in v {
                if !x.is_nan() {
                    t += x;
                    k += 1;
                }
            }
            (k > 0).then(|| t / f64::from(k))
        });
        if values.is_none() {
            self.absent += 1;
        }
        // (fill value, is it a reference mean)
        let fill = match self.rule {
            Rule::CohortMean => row_mean.map(|m| (m, false)).or(ref_mean.map(|m| (m, true))),
            Rule::Reference => ref_mean.map(|m| (m, true)),
            Rule::None => None,
            Rule::Zhang => row_mean.map(|m| (m, false)),
        };
        for s in 0..self.sum.len() {
            let x = values.map_or(f64::NAN, |v| v[s]);
            let x = if !x.is_nan() {
                self.observed[s] += 1;
                x
            } else if let Some((f, is_ref)) = fill {
                if is_ref {
                    self.imputed_ref[s] += 1;
                } else {
                    self.imputed_mean[s] += 1;
                }
                f
            } else {
                self.dropped[s] += 1;
                continue;
            };
            self.sum[s] += coef * x;
            self.coef_sum[s] += coef;
        }
    }
}

/// The streamed part of a run: large models folded row by row.
struct Streamer {
    /// For streamed CpG `i`: entries `offsets[i]..offsets[i+1]` of `(acc, coef)`.
    offsets: Vec<usize>,
    entries: Vec<(usize, f64)>,
    ref_means: Vec<Option<f64>>,
    seen: Vec<bool>,
    /// Per streamed model: Zhang's rule (true) or the policy.
    zhang: Vec<bool>,
    impute: Impute,
    accs: Vec<LinAcc>,
}

/// The rule of a model for a cohort of `n` samples (`auto` resolved).
fn resolve(impute: Impute, n: usize) -> Impute {
    match impute {
        Impute::Auto if n < MIN_COHORT_FOR_MEAN => Impute::Reference,
        Impute::Auto => Impute::CohortMean,
        i => i,
    }
}

fn rule_for(transform: Transform, impute: Impute) -> Rule {
    match transform {
        Transform::PerSampleStandardize => Rule::Zhang,
        _ => match impute {
            Impute::CohortMean | Impute::Auto => Rule::CohortMean,
            Impute::Reference => Rule::Reference,
            Impute::None => Rule::None,
        },
    }
}

impl StreamSink for Streamer {
    fn start(&mut self, n_samples: usize) {
        let impute = resolve(self.impute, n_samples);
        self.accs = self
            .zhang
            .iter()
            .map(|&z| {
                let t = if z {
                    Transform::PerSampleStandardize
                } else {
                    Transform::Identity
                };
                LinAcc::new(rule_for(t, impute), n_samples)
            })
            .collect();
    }

    fn row(&mut self, index: usize, values: &[f64]) {
        self.seen[index] = true;
        for &(k, coef) in &self.entries[self.offsets[index]..self.offsets[index + 1]] {
            self.accs[k].fold(coef, Some(values), self.ref_means[index]);
        }
    }
}

/// Reads the matrix once and applies every model: [`ClocksPlan`] → one read → [`ClocksPlan::finish`].
pub fn run_clocks(
    path: &str,
    models: &[ClockModel],
    opts: &ClockOptions,
    reader_opts: &ReaderOptions,
) -> Result<ClocksRun, InputError> {
    let mut plan = ClocksPlan::new(models, opts)?;
    let ropts = ReaderOptions {
        sample_moments: reader_opts.sample_moments || plan.needs_moments(),
        ..reader_opts.clone()
    };
    let (dense, streamed, sink) = plan.request();
    let view = read_methylation_with(path, dense, streamed, &ropts, sink)?;
    plan.finish(&view)
}

/// A clocks run split around its read, for callers that read the input themselves (one read
/// shared by several stages): the CpGs to hold ([`ClocksPlan::request`]'s dense list), the
/// CpGs to stream into the plan's sink, whether per-sample moments are needed; then
/// [`ClocksPlan::finish`] on the view of exactly the dense list (in that order).
pub struct ClocksPlan<'m> {
    models: &'m [ClockModel],
    opts: ClockOptions,
    gold: Vec<(String, f64)>,
    has_zhang: bool,
    streamed_model: Vec<bool>,
    dense: Vec<String>,
    dense_index: HashMap<String, usize>,
    streamed: Vec<String>,
    stream_models: Vec<usize>,
    locs: Vec<Vec<Loc>>,
    streamer: Streamer,
}

impl<'m> ClocksPlan<'m> {
    /// Lays out the CpGs of `models`: held (small models, DunedinPACE's gold-standard probes)
    /// or streamed (models of at least [`STREAM_MIN_CPGS`] CpGs).
    pub fn new(models: &'m [ClockModel], opts: &ClockOptions) -> Result<Self, InputError> {
        let has_pace = models
            .iter()
            .any(|m| m.info.transform == Transform::DunedinPace);
        let has_zhang = models
            .iter()
            .any(|m| m.info.transform == Transform::PerSampleStandardize);
        let gold = registry::means_table(registry::DUNEDINPACE_GOLD)?;
        let ref_means: FastMap<&str, f64> = gold.iter().map(|(c, v)| (c.as_str(), *v)).collect();

        let streamed_model: Vec<bool> = models
            .iter()
            .map(|m| m.cpgs.len() >= STREAM_MIN_CPGS && m.info.transform != Transform::DunedinPace)
            .collect();
        // Held CpGs: those of the smaller models, and DunedinPACE's gold-standard probes.
        let mut dense: Vec<String> = Vec::new();
        let mut dense_index: HashMap<String, usize> = HashMap::new();
        {
            let mut push = |id: &str| {
                let (b, _) = probe_base(id);
                if !dense_index.contains_key(b) {
                    dense_index.insert(b.to_string(), dense.len());
                    dense.push(b.to_string());
                }
            };
            for (m, &s) in models.iter().zip(&streamed_model) {
                if !s {
                    m.cpgs.iter().for_each(|c| push(c));
                }
            }
            if has_pace {
                gold.iter().for_each(|(c, _)| push(c));
            }
        }
        // Where each model CpG is: held (view row) or streamed (index), once.
        let mut streamed: Vec<String> = Vec::new();
        let mut streamed_index: FastMap<&str, usize> = FastMap::default();
        let mut triples: Vec<(u32, u32, f64)> = Vec::new();
        let mut stream_models: Vec<usize> = Vec::new();
        let mut locs: Vec<Vec<Loc>> = Vec::with_capacity(models.len());
        for (k, m) in models.iter().enumerate() {
            let acc = stream_models.len() as u32;
            if streamed_model[k] {
                stream_models.push(k);
            }
            let mut l = Vec::with_capacity(m.cpgs.len());
            for (c, &coef) in m.cpgs.iter().zip(&m.coefs) {
                let (b, _) = probe_base(c);
                if let Some(&i) = dense_index.get(b) {
                    l.push(Loc::Held(i));
                    continue;
                }
                let i = *streamed_index.entry(b).or_insert_with(|| {
                    streamed.push(b.to_string());
                    streamed.len() - 1
                });
                triples.push((i as u32, acc, coef));
                l.push(Loc::Streamed(i));
            }
            locs.push(l);
        }
        drop(streamed_index);
        // (streamed CpG → (accumulator, coefficient)) as a compressed row list.
        let mut offsets = vec![0usize; streamed.len() + 1];
        for t in &triples {
            offsets[t.0 as usize + 1] += 1;
        }
        for i in 0..streamed.len() {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut entries = vec![(0usize, 0.0f64); triples.len()];
        for &(i, acc, coef) in &triples {
            entries[fill[i as usize]] = (acc as usize, coef);
            fill[i as usize] += 1;
        }
        drop(triples);
        drop(fill);

        let streamer = Streamer {
            ref_means: streamed
                .iter()
                .map(|c| ref_means.get(c.as_str()).copied())
                .collect(),
            seen: vec![false; streamed.len()],
            offsets,
            entries,
            zhang: stream_models
                .iter()
                .map(|&k| models[k].info.transform == Transform::PerSampleStandardize)
                .collect(),
            impute: opts.impute,
            accs: Vec::new(),
        };
        drop(ref_means);
        Ok(ClocksPlan {
            models,
            opts: opts.clone(),
            gold,
            has_zhang,
            streamed_model,
            dense,
            dense_index,
            streamed,
            stream_models,
            locs,
            streamer,
        })
    }

    /// Whether the read must fold per-sample moments over every row (Zhang 2019).
    pub fn needs_moments(&self) -> bool {
        self.has_zhang
    }

    /// The read this plan needs: CpGs to hold (the view [`ClocksPlan::finish`] takes has exactly
    /// these, in this order), CpGs to stream, and the sink they go to (`None` when nothing is
    /// streamed).
    pub fn request(&mut self) -> (&[String], &[String], Option<&mut dyn StreamSink>) {
        let sink = if self.streamed.is_empty() {
            None
        } else {
            Some(&mut self.streamer as &mut dyn StreamSink)
        };
        (&self.dense, &self.streamed, sink)
    }

    /// Applies every model to the view of the plan's dense CpGs (and the rows its sink got).
    pub fn finish(mut self, view: &BetaView) -> Result<ClocksRun, InputError> {
        let models = self.models;
        let opts = &self.opts;
        let gold = &self.gold;
        let ref_means: FastMap<&str, f64> = gold.iter().map(|(c, v)| (c.as_str(), *v)).collect();
        let streamer = &mut self.streamer;
        let n = view.n_samples();
        let impute = resolve(opts.impute, n);
        if streamer.accs.is_empty() {
            streamer.start(n);
        }
        let moments = view.moments.clone();
        let mut results = Vec::with_capacity(models.len());
        for (k, m) in models.iter().enumerate() {
            let estimates = match m.info.transform {
                Transform::DunedinPace => {
                    let model_means = registry::means_table(registry::DUNEDINPACE_MODEL_MEANS)?;
                    dunedinpace::project(view, &self.dense_index, gold, &model_means, m)
                }
                _ => {
                    let mut acc = if self.streamed_model[k] {
                        let a = self.stream_models.iter().position(|&x| x == k).unwrap_or(0);
                        std::mem::replace(&mut streamer.accs[a], LinAcc::new(Rule::None, 0))
                    } else {
                        LinAcc::new(rule_for(m.info.transform, impute), n)
                    };
                    for (j, ((c, &coef), loc)) in
                        m.cpgs.iter().zip(&m.coefs).zip(&self.locs[k]).enumerate()
                    {
                        // The model's own reference beta first, then the bundled means.
                        let r = m
                            .ref_means
                            .get(j)
                            .copied()
                            .flatten()
                            .or_else(|| ref_means.get(probe_base(c).0).copied());
                        match *loc {
                            Loc::Held(i) => {
                                let vals = view.is_present(i).then(|| view.row(i));
                                acc.fold(coef, vals, r);
                            }
                            Loc::Streamed(i) => {
                                if !streamer.seen[i] {
                                    acc.fold(coef, None, r);
                                }
                            }
                        }
                    }
                    finish_linear(m, &acc, moments.as_ref(), opts.max_missing)
                }
            };
            let n_present = self.locs[k]
                .iter()
                .filter(|loc| match **loc {
                    Loc::Held(i) => view.is_present(i),
                    Loc::Streamed(i) => streamer.seen[i],
                })
                .count();
            results.push(ClockResult {
                info: m.info.clone(),
                n_cpgs: m.cpgs.len(),
                n_present,
                method: method_of(m, impute, opts.max_missing, view),
                estimates,
            });
        }
        Ok(ClocksRun {
            input: view.input.clone(),
            samples: view.samples.clone(),
            results,
            reader: view.notes.clone(),
            impute,
            view_bytes: view.value_bytes(),
            streamed_cpgs: self.streamed.len(),
        })
    }
}

fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        return "0%".to_string();
    }
    let p = 100.0 * a as f64 / b as f64;
    if p > 0.0 && p < 0.1 {
        "<0.1%".to_string()
    } else {
        format!("{p:.1}%")
    }
}

fn finish_linear(
    m: &ClockModel,
    acc: &LinAcc,
    moments: Option<&SampleMoments>,
    max_missing: f64,
) -> Vec<Estimate> {
    let total = m.cpgs.len() as u64;
    (0..acc.sum.len())
        .map(|s| {
            let observed = u64::from(acc.observed[s]);
            let imean = u64::from(acc.imputed_mean[s]);
            let iref = u64::from(acc.imputed_ref[s]);
            let dropped = u64::from(acc.dropped[s]);
            let missing = total - observed;
            let mut e = Estimate {
                value: None,
                n_used: observed + imean + iref,
                n_imputed: imean + iref,
                n_missing: missing,
                qc_status: QcStatus::Pass,
                notes: Vec::new(),
            };
            if acc.absent > 0 {
                e.notes.push(format!(
                    "{} of {total} CpGs absent from the input",
                    acc.absent
                ));
            }
            if imean > 0 {
                e.notes.push(match acc.rule {
                    Rule::Zhang => format!("{imean} of {total} CpGs missing in this sample, set to the probe's mean over samples (Zhang 2019 rule)"),
                    _ => format!("{imean} of {total} CpGs imputed with the cohort mean"),
                });
            }
            if iref > 0 {
                e.notes.push(if m.ref_means.iter().any(Option::is_some) {
                    format!(
                        "{iref} of {total} CpGs imputed with the model's own reference betas (its reference_beta column)"
                    )
                } else {
                    format!(
                        "{iref} of {total} CpGs imputed with the bundled reference means (DunedinPACE gold standard, blood)"
                    )
                });
            }
            if dropped > 0 {
                e.notes.push(format!(
                    "{dropped} of {total} CpGs have no value and are left out of the sum"
                ));
            }
            if missing as f64 > max_missing * total as f64 {
                return e.refused(format!(
                    "not computed: {missing} of {total} CpGs ({}) have no measured value in this sample, more than --max-missing {}",
                    pct(missing, total),
                    crate::tidy::format_number(max_missing)
                ), observed);
            }
            if observed == 0 {
                return e.refused(format!(
                    "not computed: none of the {total} CpGs has a measured value in this sample"
                ), observed);
            }
            let lin = match acc.rule {
                Rule::Zhang => {
                    let Some(mo) = moments else {
                        return e.refused("not computed: per-sample moments missing".into(), observed);
                    };
                    match zhang::standardized_sum(acc.sum[s], acc.coef_sum[s], mo.mean[s], mo.sd[s]) {
                        Some(v) => m.intercept + v,
                        None => {
                            return e.refused("not computed: the sample's betas have no spread (standard deviation 0 or fewer than 2 rows)".into(), observed);
                        }
                    }
                }
                _ => m.intercept + acc.sum[s],
            };
            let v = m.info.transform.apply(lin) * m.info.scale;
            if v.is_finite() {
                e.value = Some(v);
                if imean + iref + dropped > 0 {
                    e.qc_status = QcStatus::Warn;
                }
                e
            } else {
                e.refused("not computed: the result is not a finite number".into(), observed)
            }
        })
        .collect()
}

fn method_of(m: &ClockModel, impute: Impute, max_missing: f64, view: &BetaView) -> String {
    let mm = crate::tidy::format_number(max_missing);
    let mut s = match m.info.transform {
        Transform::DunedinPace => {
            "dunedinpace(PACEProjector: gold-standard quantile normalisation; own missing-value rules)".to_string()
        }
        Transform::PerSampleStandardize => format!(
            "linear on per-sample z-scores over all {} input rows;na=probe_mean;max_missing={mm}",
            view.notes.n_probes
        ),
        t => format!(
            "linear{};impute={};max_missing={mm}",
            match t {
                Transform::Identity => String::new(),
                t => format!("+{}", t.keyword()),
            },
            impute.as_str()
        ),
    };
    if m.info.scale != 1.0 {
        s.push_str(&format!(";{}_to_{}", m.info.model_unit, m.info.unit));
    }
    s
}

/// The tidy rows of a run: per sample, per clock, the clock's row, then its `_diff` and
/// `_residual` rows when `accel` (parallel to `run.results`; may be empty) has them.
pub fn to_rows(
    run: &ClocksRun,
    input: &str,
    accel: &[Option<acceleration::Acceleration>],
) -> Vec<Row> {
    let mut rows = Vec::new();
    let reader_notes = run.reader.sentences();
    for (s, sample) in run.samples.iter().enumerate() {
        let prov = Provenance {
            sample_id: sample.clone(),
            input: input.to_string(),
            reference_build: PROBE_IDS.to_string(),
        };
        for (k, r) in run.results.iter().enumerate() {
            rows.push(estimate_row(
                &prov,
                r.info.assay,
                &r.info.name,
                &r.info.unit,
                &r.method,
                &r.estimates[s],
                &reader_notes,
            ));
            if let Some(Some(a)) = accel.get(k) {
                let name = &r.info.name;
                rows.push(estimate_row(
                    &prov,
                    r.info.assay,
                    &format!("{name}_diff"),
                    &r.info.unit,
                    &a.diff_method,
                    &a.diff[s],
                    &[],
                ));
                rows.push(estimate_row(
                    &prov,
                    r.info.assay,
                    &format!("{name}_residual"),
                    &r.info.unit,
                    &a.residual_method,
                    &a.residual[s],
                    &[],
                ));
                if let Some((ieaa, method)) = &a.ieaa {
                    rows.push(estimate_row(
                        &prov,
                        r.info.assay,
                        &format!("{name}_ieaa"),
                        &r.info.unit,
                        method,
                        &ieaa[s],
                        &[],
                    ));
                }
            }
        }
    }
    rows
}

/// One tidy row from an estimate.
pub fn estimate_row(
    prov: &Provenance,
    assay: &str,
    measure: &str,
    unit: &str,
    method: &str,
    e: &Estimate,
    extra_notes: &[String],
) -> Row {
    let mut row = Row::new(prov, assay, measure, f64::NAN, unit, method);
    row.value = None;
    row.qc_status = e.qc_status;
    row.qc_note.clear();
    for n in e.notes.iter().chain(extra_notes) {
        row.add_note(n);
    }
    row.n_used = Some(e.n_used);
    match e.value {
        Some(v) if e.qc_status != QcStatus::Fail => row.set_value(v),
        _ => {
            row.value = None;
            row.qc_status = QcStatus::Fail;
        }
    }
    row
}
