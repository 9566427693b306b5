//! qPCR: telomere T/S ratio and mtDNA content (MT/S) from instrument Cq exports.
//!
//! Inputs ([`parse`], [`rdml`]): RDML 1.0–1.3, Bio-Rad CFX "Quantification Cq Results", ABI
//! SDS/7500/StepOne/QuantStudio results text, LightCycler 480 Abs Quant text and a plain Cq
//! table, recognised from the content; a plate map names wells. Each target plays a role given
//! by the user (`--role NAME=telomere|single_copy|mtdna`, NAME a target, or the fluorophore
//! where the export names no target); [`config`] holds an assay set's settings in one file.
//!
//! Arithmetic, per plate:
//! * **Replicates** (sample × target): Cq above `max_cq` (default 35) or missing counts as no
//!   amplification. Mean and SD of the rest. Triplicate outlier rule: when the three
//!   replicates' SD is above `max_sd` (default 0.3 cycles) and the two closest agree within
//!   `max_sd`, the third is dropped (`warn`, named); an SD still above `max_sd` warns.
//! * **NTC**: a no-template well that amplifies below `max_cq` flags the plate and target.
//! * **Standard curve** from standard wells with quantities: least squares of Cq on log10(Q),
//!   `Cq = slope · log10(Q) + intercept`, R², efficiency `E = 10^(−1/slope) − 1` (Bustin et al.
//!   2009, MIQE, Clin Chem 55:611, doi:10.1373/clinchem.2008.112797; Pfaffl 2001). E outside
//!   90–110 % or R² below 0.98 warns. An unknown's quantity is `10^((Cq − intercept)/slope)`
//!   from its own plate's curve for that target, never from an instrument's computed SQ; an
//!   unknown more than half a cycle outside the standards' Cq range warns (extrapolated).
//! * **Without a curve**, relative to a calibrator sample (`--calibrator`), efficiency-
//!   corrected (Pfaffl 2001, Nucleic Acids Res 29:e45, doi:10.1093/nar/29.9.e45): quantity
//!   `(1 + E)^(Cq_calibrator − Cq)` with E from `--efficiency TARGET=E` or 1 (100 %), which
//!   with E = 1 is 2^−ΔΔCq (Livak & Schmittgen 2001, Methods 25:402,
//!   doi:10.1006/meth.2001.1262).
//! * **Ratios**: T/S = telomere quantity / single-copy quantity (Cawthon 2002, Nucleic Acids Res
//!   30:e47, doi:10.1093/nar/30.10.e47; the monochrome multiplex form, Cawthon 2009, Nucleic
//!   Acids Res 37:e21, doi:10.1093/nar/gkn1027, is the same ratio from one well); MT/S =
//!   mtDNA quantity / single-copy quantity. A sample's target measured on several plates uses
//!   the mean of its per-plate quantities (the note says so).
//!
//! * **Inter-run calibration** (Hellemans et al. 2007, Genome Biol 8:R19,
//!   doi:10.1186/gb-2007-8-2-r19; qBase): with inter-run calibrators (samples run on every
//!   plate), each plate × target gets a factor, the geometric mean over its calibrators of
//!   `q(i,plate) / geometric mean over plates of q(i,·)` ([`inter_run_factors`]); every
//!   quantity on the plate is divided by it. A plate without a calibrator is flagged and left
//!   as it is. The calibrators' inter-plate CV (SD / mean of their uncalibrated quantities) is
//!   reported per target; without calibrators, the calibrator sample's CV of mean Cq.
//! * **Absolute telomere length** (O'Callaghan & Fenech 2011, Biol Proced Online 13:3,
//!   doi:10.1186/1480-9222-13-3): with `absolute`, telomere standards' quantities are kb of
//!   telomeric sequence per reaction and single-copy standards' are copies of the gene per
//!   reaction; `telomere_length_kb = kb / (copies / 2)`, kb per diploid genome.
//! * **Reliability across plates**: where a sample was run on more than one plate, the
//!   one-way random-effects ICC(1,1) with its F-based 95 % interval ([`icc_oneway`]) of the
//!   per-plate T/S and MT/S (telomere and single-copy on the same plate) and of each role's
//!   log10 quantity (any design), in the plates table (`sample_id` `all_samples`).
//!
//! Outputs: the per-sample rows, the plate QC rows and the wells table ([`WellRow`]: every
//! reaction with its role and status: used, dropped by the outlier rule, excluded, no Cq,
//! standard, NTC, no role).

pub mod config;
pub mod parse;
pub mod rdml;
pub mod unzip;

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    core::{Provenance, QcStatus},
    tidy::Row,
};

/// Table suffix: `<prefix>.qpcr.tsv`.
pub const SUFFIX: &str = "qpcr";
/// Plate QC table suffix: `<prefix>.qpcr_plates.tsv`.
pub const PLATES_SUFFIX: &str = "qpcr_plates";

/// What a target measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Telomere repeats (T).
    Telomere,
    /// A single-copy gene (S), the reference of both ratios.
    SingleCopy,
    /// A mitochondrial gene (MT).
    Mtdna,
}

impl Role {
    /// Parses `telomere`, `single_copy`, `mtdna`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "telomere" | "t" => Some(Role::Telomere),
            "single_copy" | "s" | "scg" => Some(Role::SingleCopy),
            "mtdna" | "mt" => Some(Role::Mtdna),
            _ => None,
        }
    }

    /// `telomere`, `single_copy`, `mtdna`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Telomere => "telomere",
            Role::SingleCopy => "single_copy",
            Role::Mtdna => "mtdna",
        }
    }
}

/// What a well holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// A sample.
    Unknown,
    /// A standard of known quantity.
    Standard,
    /// No-template control.
    Ntc,
}

/// One reaction (well × target).
#[derive(Clone, Debug, PartialEq)]
pub struct Reaction {
    /// Plate (the file's name).
    pub plate: String,
    /// Well (`A1`).
    pub well: String,
    /// Sample name.
    pub sample: String,
    /// Target (or fluorophore).
    pub target: String,
    /// Well content.
    pub content: Content,
    /// Cq (`None`: no amplification).
    pub cq: Option<f64>,
    /// Standard quantity.
    pub quantity: Option<f64>,
    /// Excluded by the instrument or the user (RDML `excl`, QuantStudio `Omit`, LightCycler
    /// `Include` false), with the reason: kept in the wells table, never used.
    pub excluded: Option<String>,
    /// The export marks the sample as an inter-run calibrator (RDML `interRunCalibrator`).
    pub inter_run_calibrator: bool,
}

/// Options of the qPCR stage.
#[derive(Clone, Debug)]
pub struct QpcrOptions {
    /// Target (or fluorophore) → role.
    pub roles: BTreeMap<String, Role>,
    /// Calibrator sample (relative quantities when a plate has no standard curve).
    pub calibrator: Option<String>,
    /// Efficiencies (as fractions: 1.0 = 100 %) by target, for the calibrator path.
    pub efficiency: BTreeMap<String, f64>,
    /// Cq above this = no amplification.
    pub max_cq: f64,
    /// Replicate SD above this warns (and drives the triplicate outlier rule).
    pub max_sd: f64,
    /// Inter-run calibrators (samples run on every plate; RDML's flag adds to these).
    pub inter_run_calibrators: BTreeSet<String>,
    /// Accepted efficiency range (fractions; default 0.9–1.1).
    pub min_efficiency: f64,
    /// See `min_efficiency`.
    pub max_efficiency: f64,
    /// Standard curves with R² below this warn (default 0.98).
    pub min_r2: f64,
    /// Absolute telomere length: telomere standards in kb per reaction, single-copy standards
    /// in copies per reaction (O'Callaghan & Fenech 2011).
    pub absolute: bool,
}

impl Default for QpcrOptions {
    fn default() -> Self {
        QpcrOptions {
            roles: BTreeMap::new(),
            calibrator: None,
            efficiency: BTreeMap::new(),
            max_cq: 35.0,
            max_sd: 0.3,
            inter_run_calibrators: BTreeSet::new(),
            min_efficiency: 0.9,
            max_efficiency: 1.1,
            min_r2: 0.98,
            absolute: false,
        }
    }
}

/// A standard curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Curve {
    /// Slope of Cq on log10(quantity).
    pub slope: f64,
    /// Intercept.
    pub intercept: f64,
    /// R².
    pub r2: f64,
    /// Efficiency `10^(−1/slope) − 1`.
    pub efficiency: f64,
    /// Points.
    pub n: usize,
}

/// Least-squares standard curve of `(quantity, cq)` points (None under 3 points or 2 levels).
pub fn standard_curve(points: &[(f64, f64)]) -> Option<Curve> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(q, c)| *q > 0.0 && c.is_finite())
        .map(|(q, c)| (q.log10(), *c))
        .collect();
    let n = pts.len();
    if n < 3 {
        return None;
    }
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pts {
        sxx += (x - mx).powi(2);
        sxy += (x - mx) * (y - my);
        syy += (y - my).powi(2);
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let r2 = if syy > 0.0 {
        sxy * sxy / (sxx * syy)
    } else {
        1.0
    };
    Some(Curve {
        slope,
        intercept,
        r2,
        efficiency: 10f64.powf(-1.0 / slope) - 1.0,
        n,
    })
}

/// Replicates of one sample × target × plate after the outlier rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Replicates {
    /// Mean Cq of the kept replicates.
    pub mean: Option<f64>,
    /// SD of the kept replicates.
    pub sd: f64,
    /// Kept.
    pub n_used: usize,
    /// Why anything was dropped or flagged.
    pub notes: Vec<String>,
    /// Any flag makes the row warn.
    pub warn: bool,
    /// The Cq the outlier rule dropped.
    pub dropped: Option<f64>,
}

fn sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// Mean Cq of replicates with the documented rules (module doc).
pub fn replicates(cqs: &[Option<f64>], opts: &QpcrOptions) -> Replicates {
    let mut notes = Vec::new();
    let mut warn = false;
    let mut v: Vec<f64> = cqs
        .iter()
        .flatten()
        .copied()
        .filter(|c| c.is_finite() && *c <= opts.max_cq)
        .collect();
    let none = cqs.len() - v.len();
    let n_ok = v.len();
    if none > 0 {
        notes.push(format!(
            "{none} of {} replicates without amplification (no Cq or Cq > {})",
            cqs.len(),
            opts.max_cq
        ));
        warn = true;
    }
    if v.len() == 3 && sd(&v) > opts.max_sd {
        // Drop the replicate farthest from the other two when those two agree.
        let far = (0..3)
            .max_by(|&a, &b| {
                let d = |i: usize| {
                    let o: Vec<f64> = (0..3).filter(|&k| k != i).map(|k| v[k]).collect();
                    (v[i] - (o[0] + o[1]) / 2.0).abs()
                };
                d(a).total_cmp(&d(b))
            })
            .unwrap_or(0);
        let rest: Vec<f64> = (0..3).filter(|&k| k != far).map(|k| v[k]).collect();
        if sd(&rest) <= opts.max_sd {
            notes.push(format!(
                "replicate Cq {:.2} dropped (triplicate SD {:.2} > {}; the other two agree)",
                v[far],
                sd(&v),
                opts.max_sd
            ));
            warn = true;
            v = rest;
        }
    }
    let dropped = (v.len() == 2 && n_ok == 3).then(|| {
        cqs.iter()
            .flatten()
            .copied()
            .find(|c| !v.contains(c))
            .unwrap_or(f64::NAN)
    });
    let s = sd(&v);
    if v.len() >= 2 && s > opts.max_sd {
        notes.push(format!("replicate SD {s:.2} cycles > {}", opts.max_sd));
        warn = true;
    }
    Replicates {
        mean: (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64),
        sd: s,
        n_used: v.len(),
        notes,
        warn,
        dropped: dropped.filter(|d| d.is_finite()),
    }
}

/// What a run of `qpcr` produced: tidy rows, plate QC rows and the wells.
#[derive(Debug, Default)]
pub struct QpcrRun {
    /// Per-sample rows (ratios, absolute length, per-role mean Cq).
    pub rows: Vec<Row>,
    /// Per-plate QC rows (curves, NTC, inter-run factors), calibrator CVs and the ICCs.
    pub plate_rows: Vec<Row>,
    /// Every reaction with its role and what became of it (`PREFIX.qpcr_wells.tsv`).
    pub wells: Vec<WellRow>,
}

/// One reaction as the wells table shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct WellRow {
    /// The reaction.
    pub reaction: Reaction,
    /// Its target's role (`None`: a target without a role, not used).
    pub role: Option<Role>,
    /// `used`, `dropped`, `excluded`, `no_cq`, `no_role`, `standard`, `ntc`.
    pub status: &'static str,
}

/// The wells table's columns.
pub const WELL_COLUMNS: [&str; 10] = [
    "plate",
    "well",
    "sample",
    "target",
    "role",
    "content",
    "cq",
    "quantity",
    "inter_run_calibrator",
    "status",
];

impl Content {
    /// `unknown`, `standard`, `ntc`.
    pub fn name(self) -> &'static str {
        match self {
            Content::Unknown => "unknown",
            Content::Standard => "standard",
            Content::Ntc => "ntc",
        }
    }
}

/// Writes the wells table (TSV).
pub fn write_wells(w: &mut dyn std::io::Write, wells: &[WellRow]) -> std::io::Result<()> {
    writeln!(w, "{}", WELL_COLUMNS.join("\t"))?;
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    for x in wells {
        let r = &x.reaction;
        writeln!(
            w,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            clean(&r.plate),
            clean(&r.well),
            clean(&r.sample),
            clean(&r.target),
            x.role.map_or("", Role::name),
            r.content.name(),
            r.cq.map_or(String::new(), |c| c.to_string()),
            r.quantity.map_or(String::new(), |q| q.to_string()),
            r.inter_run_calibrator,
            x.status
        )?;
    }
    Ok(())
}

/// Per sample, per role: (plate, target, replicates) of each plate it was run on.
type PerRole = BTreeMap<Role, Vec<(String, String, Replicates)>>;

/// One role's quantity of a sample (over its plates).
struct Quantity {
    value: Option<f64>,
    /// Per plate, the calibrated quantity (for the per-plate ratios of the ICC).
    per_plate: BTreeMap<String, f64>,
    methods: String,
    notes: Vec<String>,
    warn: bool,
    n_used: usize,
    /// Every plate's quantity came from a standard curve (needed for absolute length).
    all_curves: bool,
}

fn assay_of(r: Role) -> &'static str {
    match r {
        Role::Mtdna => "mtdna_qpcr",
        _ => "telomere_qpcr",
    }
}

fn prov(sample: &str, input: &str) -> Provenance {
    Provenance {
        sample_id: sample.to_string(),
        input: input.to_string(),
        reference_build: String::new(),
    }
}

/// Computes the ratios of `reactions` (every plate together).
pub fn compute(reactions: &[Reaction], opts: &QpcrOptions) -> QpcrRun {
    let mut out = QpcrRun::default();
    let role_of = |t: &str| opts.roles.get(t).copied();
    // Inter-run calibrators: named in the options or flagged by the export.
    let mut ircs: BTreeSet<String> = opts.inter_run_calibrators.clone();
    ircs.extend(
        reactions
            .iter()
            .filter(|r| r.inter_run_calibrator)
            .map(|r| r.sample.clone()),
    );
    // Excluded reactions are shown in the wells table and counted in notes, never used.
    let kept: Vec<&Reaction> = reactions.iter().filter(|r| r.excluded.is_none()).collect();
    // Every reaction grouped once by (sample, target, plate), so the per-sample steps below
    // look their wells up instead of scanning every plate (a cohort's qPCR is tens of
    // thousands of wells).
    let mut wells_of: BTreeMap<(&str, &str, &str), Vec<&Reaction>> = BTreeMap::new();
    let mut excluded: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
    let mut on_plate: BTreeMap<&str, Vec<&Reaction>> = BTreeMap::new();
    for r in reactions {
        let key = (r.sample.as_str(), r.target.as_str(), r.plate.as_str());
        if r.excluded.is_some() {
            *excluded.entry(key).or_default() += 1;
        } else {
            wells_of.entry(key).or_default().push(r);
            on_plate.entry(r.plate.as_str()).or_default().push(r);
        }
    }
    let excluded_of = |sample: &str, target: &str, plate: &str| {
        excluded.get(&(sample, target, plate)).copied().unwrap_or(0)
    };
    // Plate × target curves and NTC checks.
    let mut curves: BTreeMap<(String, String), Curve> = BTreeMap::new();
    // The Cq range of each curve's standards (an unknown outside it is extrapolated).
    let mut std_range: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    let mut plate_flags: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut plates: Vec<(String, String)> = kept
        .iter()
        .filter(|r| role_of(&r.target).is_some())
        .map(|r| (r.plate.clone(), r.target.clone()))
        .collect();
    plates.sort();
    plates.dedup();
    for (plate, target) in &plates {
        let pv = prov(plate, plate);
        let on = |c: Content| {
            on_plate
                .get(plate.as_str())
                .into_iter()
                .flatten()
                .filter(move |r| &r.target == target && r.content == c)
        };
        let std: Vec<(f64, f64)> = on(Content::Standard)
            .filter_map(|r| Some((r.quantity?, r.cq?)))
            .filter(|(_, c)| *c <= opts.max_cq)
            .collect();
        let flags = plate_flags
            .entry((plate.clone(), target.clone()))
            .or_default();
        if let Some(c) = standard_curve(&std) {
            let method = format!(
                "least_squares(cq~log10_quantity;target={target};points={})",
                c.n
            );
            let add = |m: &str, v: f64, unit: &str| {
                let mut r = Row::new(
                    &pv,
                    "qpcr_plate",
                    &format!("{m}_{target}"),
                    v,
                    unit,
                    &method,
                );
                r.n_used = Some(c.n as u64);
                r
            };
            let mut e = add("efficiency", c.efficiency, "fraction");
            if !(opts.min_efficiency..=opts.max_efficiency).contains(&c.efficiency) {
                let why = format!(
                    "efficiency {:.1}% outside {:.0}-{:.0}%",
                    100.0 * c.efficiency,
                    100.0 * opts.min_efficiency,
                    100.0 * opts.max_efficiency
                );
                e.warn(&why);
                flags.push(format!("plate {plate} {target}: {why}"));
            }
            let mut r2 = add("r2", c.r2, "fraction");
            if c.r2 < opts.min_r2 {
                let why = format!("standard curve R2 {:.3} < {}", c.r2, opts.min_r2);
                r2.warn(&why);
                flags.push(format!("plate {plate} {target}: {why}"));
            }
            out.plate_rows
                .push(add("slope", c.slope, "cycles_per_log10"));
            out.plate_rows.push(add("intercept", c.intercept, "cycles"));
            out.plate_rows.push(e);
            out.plate_rows.push(r2);
            let lo = std.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
            let hi = std.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
            std_range.insert((plate.clone(), target.clone()), (lo, hi));
            curves.insert((plate.clone(), target.clone()), c);
        }
        let n_std = on(Content::Standard).count();
        if n_std > 0 && !curves.contains_key(&(plate.clone(), target.clone())) {
            let with_q = on(Content::Standard)
                .filter(|r| r.quantity.is_some())
                .count();
            let why = format!(
                "{n_std} standard well(s), {with_q} with a quantity and {} amplified with one: no standard curve (at least 3 points on 2 levels; give the quantities in a plate map)",
                std.len()
            );
            let mut r = Row::new(
                &pv,
                "qpcr_plate",
                &format!("standard_curve_{target}"),
                f64::NAN,
                "fraction",
                "least_squares(cq~log10_quantity)",
            );
            r.value = None;
            r.warn(&why);
            out.plate_rows.push(r);
        }
        let ntc: Vec<f64> = on(Content::Ntc)
            .filter_map(|r| r.cq)
            .filter(|c| *c <= opts.max_cq)
            .collect();
        if on(Content::Ntc).next().is_some() {
            let first = ntc.iter().copied().fold(f64::INFINITY, f64::min);
            let mut r = Row::new(
                &pv,
                "qpcr_plate",
                &format!("ntc_amplified_{target}"),
                ntc.len() as f64,
                "count",
                "ntc_wells_with_cq_below_max",
            );
            if !ntc.is_empty() {
                let why = format!("NTC amplified (lowest Cq {first:.2})");
                r.warn(&why);
                flags.push(format!("plate {plate} {target}: {why}"));
            }
            out.plate_rows.push(r);
        }
    }
    // Per sample × target × plate: the replicates.
    let mut by_sample: BTreeMap<String, PerRole> = BTreeMap::new();
    let mut dropped: BTreeSet<(String, String, String, u64)> = BTreeSet::new();
    for (&(sample, target, plate), wells) in &wells_of {
        let cqs: Vec<Option<f64>> = wells
            .iter()
            .filter(|r| r.content == Content::Unknown)
            .map(|r| r.cq)
            .collect();
        if cqs.is_empty() || role_of(target).is_none() {
            continue;
        }
        let (sample, target, plate) = (sample.to_string(), target.to_string(), plate.to_string());
        let mut reps = replicates(&cqs, opts);
        if let Some(d) = reps.dropped {
            dropped.insert((sample.clone(), target.clone(), plate.clone(), d.to_bits()));
        }
        let ex = excluded_of(&sample, &target, &plate);
        if ex > 0 {
            reps.notes.push(format!(
                "{ex} replicate(s) excluded in the export, not used"
            ));
            reps.warn = true;
        }
        if let Some(role) = role_of(&target) {
            by_sample
                .entry(sample)
                .or_default()
                .entry(role)
                .or_default()
                .push((plate, target, reps));
        }
    }
    // The calibrator's mean Cq per target and plate (relative path).
    let cal_cq = |target: &str, plate: &str| -> Option<f64> {
        let cal = opts.calibrator.as_ref()?;
        let wells = wells_of.get(&(cal.as_str(), target, plate))?;
        let cqs: Vec<Option<f64>> = wells.iter().map(|r| r.cq).collect();
        replicates(&cqs, opts).mean
    };
    // Uncalibrated quantity of one sample × target × plate, with its method.
    let raw_quantity = |target: &str, plate: &str, cq: f64| -> Option<(f64, String, bool)> {
        if let Some(c) = curves.get(&(plate.to_string(), target.to_string())) {
            Some((
                10f64.powf((cq - c.intercept) / c.slope),
                format!(
                    "{target}@{plate}:standard_curve(slope={:.4};E={:.3};R2={:.4})",
                    c.slope, c.efficiency, c.r2
                ),
                true,
            ))
        } else {
            let cal = cal_cq(target, plate)?;
            let e = opts.efficiency.get(target).copied().unwrap_or(1.0);
            Some((
                (1.0 + e).powf(cal - cq),
                format!(
                    "{target}@{plate}:relative_to_calibrator(E={e};calibrator={})",
                    opts.calibrator.as_deref().unwrap_or("")
                ),
                false,
            ))
        }
    };
    // Inter-run calibration (Hellemans et al. 2007): per target, each plate's factor.
    let mut irc_factor: BTreeMap<(String, String), f64> = BTreeMap::new();
    if !ircs.is_empty() {
        let targets: BTreeSet<&String> = plates.iter().map(|(_, t)| t).collect();
        for target in targets {
            // log quantity of each IRC on each plate.
            let mut logs: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
            for irc in &ircs {
                for (plate, t) in plates.iter().filter(|(_, t)| t == target) {
                    let cqs: Vec<Option<f64>> = wells_of
                        .get(&(irc.as_str(), t.as_str(), plate.as_str()))
                        .into_iter()
                        .flatten()
                        .map(|r| r.cq)
                        .collect();
                    if cqs.is_empty() {
                        continue;
                    }
                    if let Some((q, _, _)) = replicates(&cqs, opts)
                        .mean
                        .and_then(|cq| raw_quantity(t, plate, cq))
                    {
                        if q > 0.0 {
                            logs.entry(irc.as_str()).or_default().insert(plate, q.ln());
                        }
                    }
                }
            }
            let factors = inter_run_factors(&logs);
            for (plate, t) in plates.iter().filter(|(_, t)| t == target) {
                let pv = prov(plate, plate);
                match factors.get(plate.as_str()) {
                    Some(&(f, n)) => {
                        let mut r = Row::new(
                            &pv,
                            "qpcr_plate",
                            &format!("irc_factor_{t}"),
                            f,
                            "fraction",
                            &format!(
                                "hellemans2007_inter_run_calibration(calibrators_on_plate={n})"
                            ),
                        );
                        r.n_used = Some(n as u64);
                        out.plate_rows.push(r);
                        irc_factor.insert((plate.clone(), t.clone()), f);
                    }
                    None => {
                        let why = format!(
                            "no inter-run calibrator ({}) measured on this plate for {t}: its quantities are not calibrated",
                            ircs.iter().cloned().collect::<Vec<_>>().join(",")
                        );
                        let mut r = Row::new(
                            &pv,
                            "qpcr_plate",
                            &format!("irc_factor_{t}"),
                            f64::NAN,
                            "fraction",
                            "hellemans2007_inter_run_calibration",
                        );
                        r.value = None;
                        r.warn(&why);
                        out.plate_rows.push(r);
                        plate_flags
                            .entry((plate.clone(), t.clone()))
                            .or_default()
                            .push(format!("plate {plate} {t}: {why}"));
                    }
                }
            }
            // Inter-plate CV of each calibrator (before calibration).
            for (irc, per) in &logs {
                if per.len() < 2 {
                    continue;
                }
                let q: Vec<f64> = per.values().map(|l| l.exp()).collect();
                let m = q.iter().sum::<f64>() / q.len() as f64;
                let cv = sd(&q) / m;
                let mut r = Row::new(
                    &prov(irc, &per.keys().copied().collect::<Vec<_>>().join(",")),
                    "qpcr_plate",
                    &format!("interplate_cv_{target}"),
                    cv,
                    "fraction",
                    "sd_over_mean_of_uncalibrated_quantities_across_plates",
                );
                r.n_used = Some(q.len() as u64);
                out.plate_rows.push(r);
            }
        }
    }
    // The calibrator's inter-plate CV when it is not an IRC (relative path: its quantity is
    // 1 by construction on every plate, so its Cq spread is what varies).
    if let Some(cal) = opts.calibrator.as_ref().filter(|c| !ircs.contains(*c)) {
        for target in plates.iter().map(|(_, t)| t).collect::<BTreeSet<_>>() {
            let per: Vec<(String, f64)> = plates
                .iter()
                .filter(|(_, t)| t == target)
                .filter_map(|(p, t)| Some((p.clone(), cal_cq(t, p)?)))
                .collect();
            if per.len() >= 2 {
                let v: Vec<f64> = per.iter().map(|x| x.1).collect();
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let mut r = Row::new(
                    &prov(
                        cal,
                        &per.iter()
                            .map(|x| x.0.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    "qpcr_plate",
                    &format!("interplate_cv_cq_{target}"),
                    sd(&v) / m,
                    "fraction",
                    "sd_over_mean_of_calibrator_mean_cq_across_plates",
                );
                r.n_used = Some(v.len() as u64);
                out.plate_rows.push(r);
            }
        }
    }
    // Absolute length reads the telomere standards as kb per reaction and the single-copy
    // standards as copies per reaction: the same quantities on both on a plate is almost
    // always one dilution series entered twice (a plate map error), so it warns.
    let same_standards: Vec<&str> = if opts.absolute {
        let levels = |plate: &str, role: Role| -> Vec<u64> {
            let mut q: Vec<u64> = on_plate
                .get(plate)
                .into_iter()
                .flatten()
                .filter(|r| r.content == Content::Standard)
                .filter(|r| role_of(&r.target) == Some(role))
                .filter_map(|r| r.quantity.map(f64::to_bits))
                .collect();
            q.sort_unstable();
            q.dedup();
            q
        };
        let mut on: Vec<&str> = on_plate.keys().copied().collect();
        on.retain(|p| {
            let t = levels(p, Role::Telomere);
            !t.is_empty() && t == levels(p, Role::SingleCopy)
        });
        on
    } else {
        Vec::new()
    };
    // Per sample: quantities, ratios, absolute length.
    let mut per_plate_ratio: BTreeMap<&'static str, Vec<Vec<f64>>> = BTreeMap::new();
    let mut per_plate_log_q: BTreeMap<Role, Vec<Vec<f64>>> = BTreeMap::new();
    for (sample, roles) in &by_sample {
        let inputs: BTreeSet<String> = roles.values().flatten().map(|x| x.0.clone()).collect();
        let pv = prov(sample, &inputs.into_iter().collect::<Vec<_>>().join(","));
        let mut qty: BTreeMap<Role, Quantity> = BTreeMap::new();
        for (role, per_plate) in roles {
            let mut q = Quantity {
                value: None,
                per_plate: BTreeMap::new(),
                methods: String::new(),
                notes: Vec::new(),
                warn: false,
                n_used: 0,
                all_curves: true,
            };
            let mut methods = Vec::new();
            for (plate, target, reps) in per_plate {
                q.notes.extend(
                    reps.notes
                        .iter()
                        .map(|m| format!("{target} on {plate}: {m}")),
                );
                q.warn |= reps.warn;
                q.n_used += reps.n_used;
                let Some(cq) = reps.mean else { continue };
                match raw_quantity(target, plate, cq) {
                    Some((raw, m, curve)) => {
                        q.all_curves &= curve;
                        // More than half a cycle beyond the standards: extrapolated.
                        if let Some(&(lo, hi)) = std_range.get(&(plate.clone(), target.clone())) {
                            if curve && (cq < lo - 0.5 || cq > hi + 0.5) {
                                q.warn = true;
                                q.notes.push(format!(
                                    "{target} on {plate}: mean Cq {cq:.2} outside the standards' Cq range {lo:.2}-{hi:.2}: the quantity is extrapolated"
                                ));
                            }
                        }
                        let f = irc_factor.get(&(plate.clone(), target.clone())).copied();
                        let value = raw / f.unwrap_or(1.0);
                        q.per_plate.insert(plate.clone(), value);
                        methods.push(match f {
                            Some(f) => format!("{m}/irc_factor={f:.4}"),
                            None => m,
                        });
                    }
                    None => {
                        q.all_curves = false;
                        q.notes.push(match &opts.calibrator {
                            Some(c) => format!(
                                "{target} on {plate}: no standard curve, and the calibrator {c} has no Cq on this plate: no quantity"
                            ),
                            None => format!(
                                "{target} on {plate}: no standard curve and no calibrator: no quantity"
                            ),
                        });
                    }
                }
                if let Some(f) = plate_flags.get(&(plate.clone(), target.clone())) {
                    if !f.is_empty() {
                        q.warn = true;
                        q.notes.extend(f.iter().cloned());
                    }
                }
            }
            if q.per_plate.len() > 1 {
                q.notes.push(format!(
                    "{} measured on {} plates: mean of their quantities",
                    role.name(),
                    q.per_plate.len()
                ));
                per_plate_log_q.entry(*role).or_default().push(
                    q.per_plate
                        .values()
                        .filter(|v| **v > 0.0)
                        .map(|v| v.log10())
                        .collect(),
                );
            }
            q.value = (!q.per_plate.is_empty())
                .then(|| q.per_plate.values().sum::<f64>() / q.per_plate.len() as f64);
            q.methods = methods.join(";");
            // The mean Cq row per role (first plate's replicates; every plate in the note).
            if let Some((_, target, reps)) = per_plate.first() {
                let mut r = Row::new(
                    &pv,
                    assay_of(*role),
                    &format!("cq_mean_{}", role.name()),
                    reps.mean.unwrap_or(0.0),
                    "cycles",
                    &format!("mean_of_replicates(target={target};sd={:.3})", reps.sd),
                );
                r.n_used = Some(reps.n_used as u64);
                for n in &reps.notes {
                    r.add_note(n);
                }
                if reps.mean.is_none() {
                    r.value = None;
                    r.fail("no replicate amplified");
                } else if reps.warn {
                    r.qc_status = QcStatus::Warn;
                }
                out.rows.push(r);
            }
            qty.insert(*role, q);
        }
        for (num, measure) in [(Role::Telomere, "ts_ratio"), (Role::Mtdna, "mt_s_ratio")] {
            let Some(n) = qty.get(&num) else { continue };
            let assay = assay_of(num);
            let Some(d) = qty.get(&Role::SingleCopy) else {
                let mut r = Row::new(&pv, assay, measure, 0.0, "ratio", "quantity_ratio");
                r.value = None;
                r.fail("no single-copy gene measured for this sample: no ratio");
                out.rows.push(r);
                continue;
            };
            // Per-plate ratios where both targets were on one plate (for the ICC).
            let same: Vec<f64> = n
                .per_plate
                .iter()
                .filter_map(|(p, a)| Some(a / d.per_plate.get(p).filter(|b| **b > 0.0)?))
                .collect();
            if same.len() > 1 {
                per_plate_ratio.entry(measure).or_default().push(same);
            }
            let value = match (n.value, d.value) {
                (Some(a), Some(b)) if b > 0.0 => a / b,
                _ => f64::NAN,
            };
            let method = if n.methods.is_empty() && d.methods.is_empty() {
                "quantity_ratio".to_string()
            } else {
                format!("quantity_ratio({};{})", n.methods, d.methods)
            };
            let mut r = Row::new(
                &pv,
                assay,
                measure,
                if value.is_finite() { value } else { 0.0 },
                "ratio",
                &method,
            );
            r.n_used = Some((n.n_used + d.n_used) as u64);
            for x in n.notes.iter().chain(d.notes.iter()) {
                r.add_note(x);
            }
            let failed = !value.is_finite();
            if failed {
                r.value = None;
                r.fail("a quantity is missing (see the notes)");
            } else if n.warn || d.warn {
                r.qc_status = QcStatus::Warn;
                if r.qc_note.is_empty() {
                    r.add_note("a replicate or plate flag");
                }
            }
            let status = r.qc_status;
            let note = r.qc_note.clone();
            out.rows.push(r);
            // Absolute telomere length (O'Callaghan & Fenech 2011).
            if num == Role::Telomere && opts.absolute {
                let mut a = Row::new(
                    &pv,
                    assay,
                    "telomere_length_kb",
                    f64::NAN,
                    "kb_per_diploid_genome",
                    "ocallaghan2011(telomere_standard=kb_per_reaction;single_copy_standard=copies_per_reaction;kb/(copies/2))",
                );
                if !(n.all_curves && d.all_curves) {
                    a.fail("absolute length needs both targets quantified from standard curves (oligomer standards) on every plate");
                } else if failed {
                    a.fail("a quantity is missing (see ts_ratio)");
                } else {
                    a.value = Some(value * 2.0);
                    a.qc_status = status;
                    a.qc_note = note;
                    a.n_used = Some((n.n_used + d.n_used) as u64);
                    if !same_standards.is_empty() {
                        a.qc_status = QcStatus::Warn;
                        a.add_note(&format!(
                            "the telomere and single-copy standards carry the same quantities on plate(s) {}: absolute length reads the first as kb of telomeric sequence per reaction and the second as gene copies per reaction; check the plate map",
                            same_standards.join(",")
                        ));
                    }
                }
                out.rows.push(a);
            }
        }
    }
    // Reliability across plates: ICC(1,1) of the ratios and of each role's log10 quantity.
    let mut icc_rows = |groups: &[Vec<f64>], assay: &str, measure: &str, what: &str| {
        let Some(icc) = icc_oneway(groups) else {
            return;
        };
        let mut r = Row::new(
            &prov("all_samples", "all_plates"),
            assay,
            measure,
            icc.icc,
            "fraction",
            &format!(
                "icc(1,1)_oneway_random({what};samples={};measurements={};k0={:.2};ci95=[{:.3},{:.3}])",
                icc.n_groups, icc.n_values, icc.k0, icc.lower, icc.upper
            ),
        );
        r.n_used = Some(icc.n_groups as u64);
        out.plate_rows.push(r);
    };
    for (measure, groups) in &per_plate_ratio {
        let assay = if *measure == "ts_ratio" {
            "telomere_qpcr"
        } else {
            "mtdna_qpcr"
        };
        icc_rows(groups, assay, &format!("icc_{measure}"), "per-plate ratio");
    }
    for (role, groups) in &per_plate_log_q {
        icc_rows(
            groups,
            assay_of(*role),
            &format!("icc_log10_quantity_{}", role.name()),
            "log10 quantity",
        );
    }
    // The wells table.
    for r in reactions {
        let role = role_of(&r.target);
        let status = if r.excluded.is_some() {
            "excluded"
        } else if role.is_none() {
            "no_role"
        } else if r.content == Content::Standard {
            "standard"
        } else if r.content == Content::Ntc {
            "ntc"
        } else if r.cq.is_none_or(|c| c > opts.max_cq) {
            "no_cq"
        } else if r.cq.is_some_and(|c| {
            dropped.contains(&(
                r.sample.clone(),
                r.target.clone(),
                r.plate.clone(),
                c.to_bits(),
            ))
        }) {
            "dropped"
        } else {
            "used"
        };
        out.wells.push(WellRow {
            reaction: r.clone(),
            role,
            status,
        });
    }
    out
}

/// Inter-run calibration factors (Hellemans et al. 2007, Genome Biol 8:R19,
/// doi:10.1186/gb-2007-8-2-r19): for calibrator i on plate p, `d(i,p) = ln q(i,p) − mean_p'
/// ln q(i,p')`; the plate's factor is `exp(mean_i d(i,p))` over the calibrators it holds, and
/// a quantity on the plate is divided by it. Returns plate → (factor, calibrators used).
pub fn inter_run_factors<'a>(
    logs: &BTreeMap<&'a str, BTreeMap<&'a str, f64>>,
) -> BTreeMap<&'a str, (f64, usize)> {
    let mut sums: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for per in logs.values() {
        let m = per.values().sum::<f64>() / per.len() as f64;
        for (plate, l) in per {
            let e = sums.entry(plate).or_insert((0.0, 0));
            e.0 += l - m;
            e.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(p, (s, n))| (p, ((s / n as f64).exp(), n)))
        .collect()
}

/// An intraclass correlation with its 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Icc {
    /// ICC(1,1).
    pub icc: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Subjects.
    pub n_groups: usize,
    /// Measurements in all.
    pub n_values: usize,
    /// Mean group size adjusted for imbalance.
    pub k0: f64,
}

/// One-way random-effects ICC(1,1) (Shrout & Fleiss 1979, Psychol Bull 86:420,
/// doi:10.1037/0033-2909.86.2.420; unbalanced groups through k0, McGraw & Wong 1996, Psychol
/// Methods 1:30, doi:10.1037/1082-989X.1.1.30): `(MSB − MSW) / (MSB + (k0 − 1)·MSW)`, with
/// the F-based 95 % interval. `None` under 2 subjects or without replication.
pub fn icc_oneway(groups: &[Vec<f64>]) -> Option<Icc> {
    let g: Vec<&Vec<f64>> = groups.iter().filter(|v| v.len() >= 2).collect();
    let n = g.len();
    let total: usize = g.iter().map(|v| v.len()).sum();
    if n < 2 || total <= n {
        return None;
    }
    let grand = g.iter().flat_map(|v| v.iter()).sum::<f64>() / total as f64;
    let (mut ssb, mut ssw) = (0.0, 0.0);
    for v in &g {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        ssb += v.len() as f64 * (m - grand).powi(2);
        ssw += v.iter().map(|x| (x - m).powi(2)).sum::<f64>();
    }
    let (df1, df2) = ((n - 1) as f64, (total - n) as f64);
    let (msb, msw) = (ssb / df1, ssw / df2);
    let k0 = (total as f64
        - g.iter().map(|v| (v.len() * v.len()) as f64).sum::<f64>() / total as f64)
        / df1;
    if msw <= 0.0 {
        return Some(Icc {
            icc: 1.0,
            lower: 1.0,
            upper: 1.0,
            n_groups: n,
            n_values: total,
            k0,
        });
    }
    let f = msb / msw;
    let fl = f / crate::core::stats::f_quantile(0.975, df1, df2);
    let fu = f * crate::core::stats::f_quantile(0.975, df2, df1);
    Some(Icc {
        icc: (msb - msw) / (msb + (k0 - 1.0) * msw),
        lower: (fl - 1.0) / (fl + k0 - 1.0),
        upper: (fu - 1.0) / (fu + k0 - 1.0),
        n_groups: n,
        n_values: total,
        k0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_curve_has_efficiency_one_and_r2_one() {
        // Cq = -3.3219 log10(Q) + 20: 100 % efficiency.
        let s = -1.0 / 2f64.log10();
        let pts: Vec<(f64, f64)> = [1.0, 0.1, 0.01, 0.001]
            .iter()
            .map(|q: &f64| (*q, s * q.log10() + 20.0))
            .collect();
        let c = standard_curve(&pts).unwrap();
        assert!((c.efficiency - 1.0).abs() < 1e-12, "{c:?}");
        assert!((c.r2 - 1.0).abs() < 1e-12);
        assert!((c.intercept - 20.0).abs() < 1e-12);
    }

    #[test]
    fn the_triplicate_outlier_rule_drops_the_odd_one_and_says_so() {
        let o = QpcrOptions::default();
        let r = replicates(&[Some(20.0), Some(20.1), Some(21.5)], &o);
        assert_eq!(r.n_used, 2);
        assert!((r.mean.unwrap() - 20.05).abs() < 1e-12);
        assert!(r.warn && r.notes[0].contains("21.50 dropped"), "{r:?}");
        // Three that all disagree: nothing dropped, a warning.
        let r = replicates(&[Some(20.0), Some(21.0), Some(22.0)], &o);
        assert_eq!(r.n_used, 3);
        assert!(r.warn && r.notes.iter().any(|n| n.contains("SD")));
        // No amplification counts.
        let r = replicates(&[None, Some(36.0), Some(20.0)], &o);
        assert_eq!(r.n_used, 1);
        assert!(r.notes[0].contains("2 of 3 replicates without amplification"));
    }

    #[test]
    fn icc_of_the_shrout_and_fleiss_example() {
        // Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges; ICC(1,1) = .17. The
        // interval from scipy.stats.f.ppf on the same mean squares (run when the test was
        // written): [−0.132932, 0.722560]; pingouin reports [−0.13, 0.72].
        let g = vec![
            vec![9.0, 2.0, 5.0, 8.0],
            vec![6.0, 1.0, 3.0, 2.0],
            vec![8.0, 4.0, 6.0, 8.0],
            vec![7.0, 1.0, 2.0, 6.0],
            vec![10.0, 5.0, 6.0, 9.0],
            vec![6.0, 2.0, 4.0, 7.0],
        ];
        let i = icc_oneway(&g).unwrap();
        assert!((i.icc - 0.165_741_768).abs() < 1e-8, "{i:?}");
        assert!(
            (i.lower + 0.132_932).abs() < 1e-5 && (i.upper - 0.722_560).abs() < 1e-5,
            "{i:?}"
        );
        assert_eq!((i.n_groups, i.n_values, i.k0), (6, 24, 4.0));
        // Nothing to correlate: one subject, or no replication.
        assert!(icc_oneway(&g[..1]).is_none());
        assert!(icc_oneway(&[vec![1.0], vec![2.0]]).is_none());
    }

    #[test]
    fn inter_run_factors_centre_each_calibrator_on_its_mean() {
        // One calibrator read at 10 on plate a and 40 on plate b: factors 1/2 and 2.
        let mut logs: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
        logs.insert(
            "irc",
            BTreeMap::from([("a", 10f64.ln()), ("b", 40f64.ln())]),
        );
        let f = inter_run_factors(&logs);
        assert!((f["a"].0 - 0.5).abs() < 1e-12 && (f["b"].0 - 2.0).abs() < 1e-12);
    }
}
