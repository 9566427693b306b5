//! Age acceleration from a sample sheet's chronological ages.
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
//! Clocks in other units (DunedinPACE, DNAmTL, the mortality score) get no acceleration rows.
//! `n_used` of a `_diff` row is the clock's; of a `_residual` row, the samples in the fit.

use super::{ClockResult, Estimate};
use crate::{cohort::samplesheet::SampleSheet, core::QcStatus};

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
pub fn accelerate(
    clock: &ClockResult,
    samples: &[String],
    sheet: &SampleSheet,
) -> Option<Acceleration> {
    let col = age_column(&clock.info.unit)?;
    let has = if col == "age_years" {
        sheet.has_age_years
    } else {
        sheet.has_gestational_age
    };
    if !has {
        return None;
    }
    let ages: Vec<Option<f64>> = samples
        .iter()
        .map(|s| {
            sheet.get(s).and_then(|r| {
                if col == "age_years" {
                    r.age_years
                } else {
                    r.gestational_age_weeks
                }
            })
        })
        .collect();
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
    let sheet_name = crate::core::file_name_of(&sheet.path);
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
    })
}

/// Least-squares intercept and slope of y on x.
fn ols(pairs: &[(f64, f64)]) -> Result<(f64, f64), String> {
    let n = pairs.len();
    if n < MIN_RESIDUAL_COHORT {
        return Err(format!(
            "residuals need at least {MIN_RESIDUAL_COHORT} samples with both a clock value and an age; the cohort has {n}"
        ));
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 {
        return Err("all ages are equal, so no line can be fitted".to_string());
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
