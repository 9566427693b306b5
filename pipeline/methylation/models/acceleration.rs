//! Age acceleration from chronological ages (a sample sheet's, as [`Ages`]).
//!
//! For every clock reported in years (chronological age, `age_years`) or in gestational weeks
//! (clinical gestational age, `gestational_age_weeks`):
//!
//! * `<clock>_diff = DNAm − chronological` for each sample with both values;
//! * `<clock>_residual = DNAm − (a + b · chronological)`, the residual of the ordinary
//!   least-squares line of DNAm on chronological age fitted across the cohort (the samples with
//!   both values). This needs at least [`MIN_RESIDUAL_COHORT`] such samples and ages that are
//!   not all equal; otherwise the residual rows fail with the reason.
//!
//! * `<clock>_ieaa` (with cell fractions from `agemark celltypes`, `--celltypes TABLE`): the
//!   intrinsic-epigenetic-age-acceleration-style residual of DNAm regressed on chronological
//!   age and the cell fractions across the cohort (Horvath S et al. 2016, Genome Biol 17:171,
//!   doi 10.1186/s13059-016-1030-0; Chen BH et al. 2016, Aging 8:1844,
//!   doi 10.18632/aging.101020): `DNAm = b0 + b1·age + Σ_t c_t·f_t + e`, `ieaa = e`. The cell
//!   type with the largest mean fraction is the reference category and left out (fractions
//!   that sum to about 1 are collinear with the intercept), as is any cell type whose fraction
//!   does not vary over the fitted samples; `method` names the covariates. The fit uses the
//!   samples with a clock value, an age and every fraction, and needs at least
//!   [`MIN_RESIDUAL_COHORT`] + (number of cell-type covariates) of them ([`min_ieaa_cohort`]).
//!   Horvath's IEAA used measured or estimated blood counts; agemark uses the panel's fractions.
//!
//! Clocks in other units (DunedinPACE, DNAmTL, the mortality score) get no acceleration rows.
//! `n_used` of a `_diff` row is the clock's; of a `_residual` row, the samples in the fit.

use super::{ClockResult, Estimate};
use crate::{core::QcStatus, methylation::celltypes::FractionsTable};

/// Smallest number of samples (with a clock value and an age) for residuals.
pub const MIN_RESIDUAL_COHORT: usize = 10;

/// Acceleration of one clock across the cohort.
#[derive(Clone, Debug, PartialEq)]
pub struct Acceleration {
    /// `_diff` per sample.
    pub diff: Vec<Estimate>,
    /// `_residual` per sample.
    pub residual: Vec<Estimate>,
    /// `method` of the `_diff` rows.
    pub diff_method: String,
    /// `method` of the `_residual` rows (with the fitted line).
    pub residual_method: String,
    /// `_ieaa` per sample and the rows' `method`, when cell fractions were given.
    pub ieaa: Option<(Vec<Estimate>, String)>,
}

/// Chronological ages by sample: what acceleration needs of a sample sheet (which columns
/// it has, and each sample's age in years and gestational weeks).
#[derive(Clone, Debug, Default)]
pub struct Ages {
    /// Where the ages come from, as named in messages (the sheet's file name).
    pub source: String,
    /// Whether the source has an `age_years` column.
    pub has_age_years: bool,
    /// Whether the source has a `gestational_age_weeks` column.
    pub has_gestational_age: bool,
    /// (age in years, gestational age in weeks) by sample.
    pub by_sample: std::collections::HashMap<String, (Option<f64>, Option<f64>)>,
}

impl Ages {
    fn has(&self, col: &str) -> bool {
        if col == "age_years" {
            self.has_age_years
        } else {
            self.has_gestational_age
        }
    }

    fn of(&self, sample: &str, col: &str) -> Option<f64> {
        let (a, ga) = *self.by_sample.get(sample)?;
        if col == "age_years" {
            a
        } else {
            ga
        }
    }
}

/// The sheet column that matches a clock's unit.
pub fn age_column(unit: &str) -> Option<&'static str> {
    match unit {
        "years" => Some("age_years"),
        "gestational_weeks" => Some("gestational_age_weeks"),
        _ => None,
    }
}

/// Acceleration for one clock, or `None` when its unit has no matching sheet column.
pub fn accelerate(clock: &ClockResult, samples: &[String], sheet: &Ages) -> Option<Acceleration> {
    let col = age_column(&clock.info.unit)?;
    if !sheet.has(col) {
        return None;
    }
    let ages: Vec<Option<f64>> = samples.iter().map(|s| sheet.of(s, col)).collect();
    let values: Vec<Option<f64>> = clock
        .estimates
        .iter()
        .map(|e| {
            if e.qc_status == QcStatus::Fail {
                None
            } else {
                e.value
            }
        })
        .collect();
    let pairs: Vec<(f64, f64)> = ages
        .iter()
        .zip(&values)
        .filter_map(|(a, v)| Some(((*a)?, (*v)?)))
        .collect();
    let fit = ols(&pairs);
    let sheet_name = &sheet.source;
    let mut diff = Vec::new();
    let mut residual = Vec::new();
    for (s, e) in clock.estimates.iter().enumerate() {
        let why_missing = match (values[s], ages[s]) {
            (None, _) => Some("no clock value for this sample".to_string()),
            (_, None) => Some(format!("no {col} for this sample in {sheet_name}")),
            _ => None,
        };
        if let Some(why) = why_missing {
            diff.push(Estimate::failed(format!("not computed: {why}")));
            residual.push(Estimate::failed(format!("not computed: {why}")));
            continue;
        }
        let (v, a) = (values[s].unwrap_or(f64::NAN), ages[s].unwrap_or(f64::NAN));
        let inherited = if e.qc_status == QcStatus::Warn {
            vec!["the clock value has warnings (see its row)".to_string()]
        } else {
            Vec::new()
        };
        diff.push(Estimate {
            value: Some(v - a),
            n_used: e.n_used,
            n_imputed: e.n_imputed,
            n_missing: e.n_missing,
            qc_status: e.qc_status,
            notes: inherited.clone(),
        });
        residual.push(match fit {
            Ok((a0, b)) => Estimate {
                value: Some(v - (a0 + b * a)),
                n_used: pairs.len() as u64,
                n_imputed: 0,
                n_missing: 0,
                qc_status: e.qc_status,
                notes: inherited,
            },
            Err(ref why) => Estimate::failed(format!("not computed: {why}")),
        });
    }
    let residual_method = match fit {
        Ok((a0, b)) => format!(
            "ols_residual(dnam~{col};n={};intercept={};slope={})",
            pairs.len(),
            crate::tidy::format_number(a0),
            crate::tidy::format_number(b)
        ),
        Err(_) => format!("ols_residual(dnam~{col};n={})", pairs.len()),
    };
    Some(Acceleration {
        diff,
        residual,
        diff_method: format!("dnam_minus_{col}"),
        residual_method,
        ieaa: None,
    })
}

/// One sample in an IEAA fit: (DNAm, age, cell fractions).
type IeaaPoint = (f64, f64, Vec<f64>);

/// Smallest cohort for `_ieaa` with `n_covariates` cell-type covariates.
pub fn min_ieaa_cohort(n_covariates: usize) -> usize {
    MIN_RESIDUAL_COHORT + n_covariates
}

/// `_ieaa` rows of one clock: residuals of DNAm on age + cell fractions (see the module doc).
/// `None` when the clock's unit has no sheet column.
pub fn ieaa(
    clock: &ClockResult,
    samples: &[String],
    sheet: &Ages,
    cells: &FractionsTable,
) -> Option<(Vec<Estimate>, String)> {
    let col = age_column(&clock.info.unit)?;
    if !sheet.has(col) {
        return None;
    }
    let table = crate::core::file_name_of(&cells.path);
    let k = cells.cell_types.len();
    // Per sample: (dnam, age, fractions) or why not.
    let data: Vec<Result<IeaaPoint, NotComputed>> = samples
        .iter()
        .zip(&clock.estimates)
        .map(|(s, e)| {
            let v = e
                .value
                .filter(|_| e.qc_status != QcStatus::Fail)
                .ok_or("no clock value for this sample")?;
            let a = sheet
                .of(s, col)
                .ok_or_else(|| format!("no {col} for this sample in the sample sheet"))?;
            let f = cells
                .get(s)
                .ok_or_else(|| format!("sample not in {table}"))?;
            let f: Vec<f64> = f
                .iter()
                .map(|x| {
                    x.ok_or_else(|| format!("a cell fraction is missing or failed in {table}"))
                })
                .collect::<Result<_, _>>()?;
            Ok((v, a, f))
        })
        .collect();
    let fit_set: Vec<&IeaaPoint> = data.iter().filter_map(|d| d.as_ref().ok()).collect();
    let n = fit_set.len();
    // Covariates: every cell type that varies, less the one with the largest mean.
    let mean = |t: usize| fit_set.iter().map(|d| d.2[t]).sum::<f64>() / n.max(1) as f64;
    let varies = |t: usize| {
        let m = mean(t);
        fit_set.iter().any(|d| (d.2[t] - m).abs() > 1e-12)
    };
    let reference = (0..k).max_by(|&a, &b| mean(a).total_cmp(&mean(b)));
    let covs: Vec<usize> = (0..k)
        .filter(|&t| Some(t) != reference && varies(t))
        .collect();
    let names: Vec<&str> = covs.iter().map(|&t| cells.cell_types[t].as_str()).collect();
    let method = format!(
        "ols_residual(dnam~{col}+{};reference_cell_type={};n={n};fractions={})",
        names.join("+"),
        reference
            .map(|t| cells.cell_types[t].as_str())
            .unwrap_or(""),
        cells.method
    );
    let fit = fit_ols(&fit_set, &covs);
    let out = data
        .iter()
        .zip(&clock.estimates)
        .map(|(d, e)| match (d, &fit) {
            (Err(why), _) => Estimate::failed(format!("not computed: {why}")),
            (Ok(_), Err(why)) => Estimate::failed(format!("not computed: {why}")),
            (Ok((v, a, f)), Ok(beta)) => {
                let pred = beta[0]
                    + beta[1] * a
                    + covs
                        .iter()
                        .enumerate()
                        .map(|(j, &t)| beta[2 + j] * f[t])
                        .sum::<f64>();
                Estimate {
                    value: Some(v - pred),
                    n_used: n as u64,
                    n_imputed: 0,
                    n_missing: 0,
                    qc_status: e.qc_status,
                    notes: if e.qc_status == QcStatus::Warn {
                        vec!["the clock value has warnings (see its row)".to_string()]
                    } else {
                        Vec::new()
                    },
                }
            }
        })
        .collect();
    Some((out, method))
}

/// OLS of dnam on [1, age, fractions[covs]] by the normal equations (Cholesky).
fn fit_ols(set: &[&IeaaPoint], covs: &[usize]) -> Result<Vec<f64>, NotComputed> {
    let p = 2 + covs.len();
    let need = min_ieaa_cohort(covs.len());
    if set.len() < need {
        return Err(format!(
            "cell-adjusted residuals need at least {need} samples ({MIN_RESIDUAL_COHORT} + {} cell-type covariates) with a clock value, an age and cell fractions; the cohort has {}",
            covs.len(),
            set.len()
        )
        .into());
    }
    let mut xtx = vec![0.0; p * p];
    let mut xty = vec![0.0; p];
    for (v, a, f) in set.iter().map(|d| (&d.0, &d.1, &d.2)) {
        let mut x = vec![1.0, *a];
        x.extend(covs.iter().map(|&t| f[t]));
        for i in 0..p {
            xty[i] += x[i] * v;
            for j in 0..p {
                xtx[i * p + j] += x[i] * x[j];
            }
        }
    }
    let l = crate::core::linalg::cholesky(&xtx, p).ok_or_else(|| {
        NotComputed::from("age and cell fractions are collinear across the cohort: no unique fit")
    })?;
    Ok(crate::core::linalg::cholesky_solve(&l, p, &xty))
}

/// Why an acceleration value was not computed (goes into the row's `qc_note`).
#[derive(Clone, Debug, PartialEq)]
struct NotComputed(String);

impl From<&str> for NotComputed {
    fn from(s: &str) -> Self {
        NotComputed(s.to_string())
    }
}

impl From<String> for NotComputed {
    fn from(s: String) -> Self {
        NotComputed(s)
    }
}

impl std::fmt::Display for NotComputed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Least-squares intercept and slope of y on x.
fn ols(pairs: &[(f64, f64)]) -> Result<(f64, f64), NotComputed> {
    let n = pairs.len();
    if n < MIN_RESIDUAL_COHORT {
        return Err(format!(
            "residuals need at least {MIN_RESIDUAL_COHORT} samples with both a clock value and an age; the cohort has {n}"
        )
        .into());
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 {
        return Err("all ages are equal, so no line can be fitted".into());
    }
    let b = sxy / sxx;
    Ok((my - b * mx, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ols_fits_a_line() {
        let pairs: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 2.0 + 3.0 * i as f64)).collect();
        let (a, b) = ols(&pairs).unwrap();
        assert!((a - 2.0).abs() < 1e-12 && (b - 3.0).abs() < 1e-12);
        assert!(ols(&pairs[..5]).is_err());
    }
}
