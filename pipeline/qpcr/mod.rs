//! qPCR: telomere T/S ratio and mtDNA content (MT/S) from instrument Cq exports.
//!
//! Inputs ([`parse`]): a plain Cq table (`well`, `sample`, `target`, `cq`, optional `content`
//! and `quantity`; CSV, TSV or whitespace) and Bio-Rad CFX "Quantification Cq Results" CSV
//! (`Well`, `Fluor`, `Target`, `Content`, `Sample`, `Cq`, `Starting Quantity (SQ)`). Each
//! target plays a role given by the user (`--role NAME=telomere|single_copy|mtdna`, NAME a
//! target, or the fluorophore where the export names no target).
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
//!   from its own plate's curve for that target, never from an instrument's computed SQ.
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
//! Not yet here (issue 15, stated in README): RDML and ABI/LightCycler parsers, inter-run
//! calibration, absolute telomere length in kb, ICC, and the cohort-run integration.

pub mod parse;

use std::collections::BTreeMap;

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

    fn name(self) -> &'static str {
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
}

impl Default for QpcrOptions {
    fn default() -> Self {
        QpcrOptions {
            roles: BTreeMap::new(),
            calibrator: None,
            efficiency: BTreeMap::new(),
            max_cq: 35.0,
            max_sd: 0.3,
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
    }
}

/// What a run of `qpcr` produced: tidy rows and plate QC rows.
#[derive(Debug, Default)]
pub struct QpcrRun {
    /// Per-sample rows (ratios and per-role mean Cq).
    pub rows: Vec<Row>,
    /// Per-plate QC rows (curves, NTC).
    pub plate_rows: Vec<Row>,
}

/// Per sample, per role: (plate, target, replicates) of each plate it was run on.
type PerRole = BTreeMap<Role, Vec<(String, String, Replicates)>>;
/// Per role: (quantity, method, notes, warn, replicates used).
type Quantities = BTreeMap<Role, (Option<f64>, String, Vec<String>, bool, usize)>;

fn assay_of(r: Role, ratio_for: Role) -> &'static str {
    match (r, ratio_for) {
        (Role::Mtdna, _) | (Role::SingleCopy, Role::Mtdna) => "mtdna_qpcr",
        _ => "telomere_qpcr",
    }
}

/// Computes the ratios of `reactions` (every plate together).
pub fn compute(reactions: &[Reaction], opts: &QpcrOptions) -> QpcrRun {
    let mut out = QpcrRun::default();
    let role_of = |t: &str| opts.roles.get(t).copied();
    // Plate × target curves and NTC checks.
    let mut curves: BTreeMap<(String, String), Curve> = BTreeMap::new();
    let mut plate_flags: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut plates: Vec<(String, String)> = reactions
        .iter()
        .filter(|r| role_of(&r.target).is_some())
        .map(|r| (r.plate.clone(), r.target.clone()))
        .collect();
    plates.sort();
    plates.dedup();
    for (plate, target) in &plates {
        let prov = Provenance {
            sample_id: plate.clone(),
            input: plate.clone(),
            reference_build: String::new(),
        };
        let on = |c: Content| {
            reactions
                .iter()
                .filter(move |r| &r.plate == plate && &r.target == target && r.content == c)
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
                    &prov,
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
            if !(0.9..=1.1).contains(&c.efficiency) {
                let why = format!("efficiency {:.1}% outside 90-110%", 100.0 * c.efficiency);
                e.warn(&why);
                flags.push(format!("plate {plate} {target}: {why}"));
            }
            let mut r2 = add("r2", c.r2, "fraction");
            if c.r2 < 0.98 {
                let why = format!("standard curve R2 {:.3} < 0.98", c.r2);
                r2.warn(&why);
                flags.push(format!("plate {plate} {target}: {why}"));
            }
            out.plate_rows
                .push(add("slope", c.slope, "cycles_per_log10"));
            out.plate_rows.push(add("intercept", c.intercept, "cycles"));
            out.plate_rows.push(e);
            out.plate_rows.push(r2);
            curves.insert((plate.clone(), target.clone()), c);
        }
        let ntc: Vec<f64> = on(Content::Ntc)
            .filter_map(|r| r.cq)
            .filter(|c| *c <= opts.max_cq)
            .collect();
        if on(Content::Ntc).next().is_some() {
            let first = ntc.iter().copied().fold(f64::INFINITY, f64::min);
            let mut r = Row::new(
                &prov,
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
    // Per sample × target: the quantity from each plate it was run on.
    let mut by_sample: BTreeMap<String, PerRole> = BTreeMap::new();
    let mut keys: Vec<(String, String, String)> = reactions
        .iter()
        .filter(|r| r.content == Content::Unknown && role_of(&r.target).is_some())
        .map(|r| (r.sample.clone(), r.target.clone(), r.plate.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    for (sample, target, plate) in keys {
        let cqs: Vec<Option<f64>> = reactions
            .iter()
            .filter(|r| {
                r.content == Content::Unknown
                    && r.sample == sample
                    && r.target == target
                    && r.plate == plate
            })
            .map(|r| r.cq)
            .collect();
        let reps = replicates(&cqs, opts);
        if let Some(role) = role_of(&target) {
            by_sample
                .entry(sample)
                .or_default()
                .entry(role)
                .or_default()
                .push((plate, target, reps));
        }
    }
    // The calibrator's mean Cq per target (relative path).
    let cal_cq = |target: &str, plate: &str| -> Option<f64> {
        let cal = opts.calibrator.as_ref()?;
        let cqs: Vec<Option<f64>> = reactions
            .iter()
            .filter(|r| &r.sample == cal && r.target == target && r.plate == plate)
            .map(|r| r.cq)
            .collect();
        replicates(&cqs, opts).mean
    };
    for (sample, roles) in &by_sample {
        let prov = Provenance {
            sample_id: sample.clone(),
            input: roles
                .values()
                .flatten()
                .map(|x| x.0.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(","),
            reference_build: String::new(),
        };
        // Quantity per role: mean over plates.
        let mut qty: Quantities = BTreeMap::new();
        for (role, per_plate) in roles {
            let mut qs = Vec::new();
            let mut methods = Vec::new();
            let mut notes = Vec::new();
            let mut warn = false;
            let mut n = 0;
            for (plate, target, reps) in per_plate {
                notes.extend(
                    reps.notes
                        .iter()
                        .map(|m| format!("{target} on {plate}: {m}")),
                );
                warn |= reps.warn;
                n += reps.n_used;
                let Some(cq) = reps.mean else { continue };
                if let Some(c) = curves.get(&(plate.clone(), target.clone())) {
                    qs.push(10f64.powf((cq - c.intercept) / c.slope));
                    methods.push(format!(
                        "{target}@{plate}:standard_curve(slope={:.4};E={:.3};R2={:.4})",
                        c.slope, c.efficiency, c.r2
                    ));
                } else if let Some(cal) = cal_cq(target, plate) {
                    let e = opts.efficiency.get(target).copied().unwrap_or(1.0);
                    qs.push((1.0 + e).powf(cal - cq));
                    methods.push(format!(
                        "{target}@{plate}:relative_to_calibrator(E={e};calibrator={})",
                        opts.calibrator.as_deref().unwrap_or("")
                    ));
                } else {
                    notes.push(format!(
                        "{target} on {plate}: no standard curve and no calibrator: no quantity"
                    ));
                }
                if let Some(f) = plate_flags.get(&(plate.clone(), target.clone())) {
                    if !f.is_empty() {
                        warn = true;
                        notes.extend(f.iter().cloned());
                    }
                }
            }
            if qs.len() > 1 {
                notes.push(format!(
                    "{} measured on {} plates: mean of their quantities",
                    role.name(),
                    qs.len()
                ));
            }
            let q = (!qs.is_empty()).then(|| qs.iter().sum::<f64>() / qs.len() as f64);
            qty.insert(*role, (q, methods.join(";"), notes, warn, n));
            // The mean Cq row per role (first plate's replicates; every plate in the note).
            if let Some((_, target, reps)) = per_plate.first() {
                let assay = if *role == Role::Mtdna {
                    "mtdna_qpcr"
                } else {
                    "telomere_qpcr"
                };
                let mut r = Row::new(
                    &prov,
                    assay,
                    &format!("cq_mean_{}", role.name()),
                    reps.mean.unwrap_or(f64::NAN),
                    "cycles",
                    &format!("mean_of_replicates(target={target};sd={:.3})", reps.sd),
                );
                r.n_used = Some(reps.n_used as u64);
                for n in &reps.notes {
                    r.add_note(n);
                }
                if reps.mean.is_none() {
                    r.fail("no replicate amplified");
                } else if reps.warn {
                    r.qc_status = QcStatus::Warn;
                }
                out.rows.push(r);
            }
        }
        for (num, measure) in [(Role::Telomere, "ts_ratio"), (Role::Mtdna, "mt_s_ratio")] {
            let Some((qn, mn, nn, wn, n1)) = qty.get(&num) else {
                continue;
            };
            let assay = assay_of(num, num);
            let Some((qd, md, nd, wd, n2)) = qty.get(&Role::SingleCopy) else {
                let mut r = Row::new(&prov, assay, measure, f64::NAN, "ratio", "quantity_ratio");
                r.fail("no single-copy gene measured for this sample: no ratio");
                out.rows.push(r);
                continue;
            };
            let value = match (qn, qd) {
                (Some(a), Some(b)) if *b > 0.0 => a / b,
                _ => f64::NAN,
            };
            let mut r = Row::new(
                &prov,
                assay,
                measure,
                value,
                "ratio",
                &format!("quantity_ratio({mn};{md})"),
            );
            r.n_used = Some((n1 + n2) as u64);
            for n in nn.iter().chain(nd.iter()) {
                r.add_note(n);
            }
            if !value.is_finite() {
                r.value = None;
                r.fail("a quantity is missing (see the notes)");
            } else if *wn || *wd {
                r.qc_status = QcStatus::Warn;
                if r.qc_note.is_empty() {
                    r.add_note("a replicate or plate flag");
                }
            }
            out.rows.push(r);
        }
    }
    out
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
}
