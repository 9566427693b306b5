//! DunedinPACE: Belsky DW et al. 2022, "DunedinPACE, a DNA methylation biomarker of the pace of
//! aging", *eLife* 11:e73420, doi:10.7554/eLife.73420. The algorithm of the original R package's
//! `PACEProjector` (DunedinPACE @ 4b569983) with `preprocessCore::normalize.quantiles.use.target`:
//!
//! 1. Keep the 20,000 gold-standard probes (they include the 173 model probes). If fewer than
//!    80% of the model probes or of the gold probes are in the input, every sample is NA (70%
//!    for EPICv2 input, after replicate probes are averaged).
//! 2. A gold probe absent from the input gets a row equal to its gold-standard mean.
//! 3. A sample with more than 20% missing values over these rows is NA (and leaves the matrix).
//! 4. Over the remaining samples: a probe with missing values but present in at least 80% of
//!    them has its missing values set to its mean; a probe present in fewer than 80% has all its
//!    values set to its training mean (`model_means`; NA for non-model probes, as in R).
//! 5. Each sample is quantile-normalised to the sorted gold-standard means: with k non-missing
//!    values ranked 1..k (ties get average ranks), if k = 20,000 a rank r takes target
//!    `t[⌊r⌋]`, or `(t[⌊r⌋] + t[⌊r⌋+1]) / 2` when the fractional part of r is above 0.4; if
//!    k < 20,000, the target is linearly interpolated at `1 + 19,999·(r − 1)/(k − 1)`.
//! 6. `pace = intercept + Σ coef · normalised beta` over the 173 model probes.
//!
//! This is not biolearn's variant, which replaces step 4's "fewer than 80%" rows by gold means and
//! drops steps 1 and 3 (it differs from R by up to 2e-4 when the input has missing values).

use std::collections::HashMap;

use super::{registry::ClockModel, Estimate};
use crate::{core::QcStatus, methylation::source::BetaView};

/// Fraction of probes (and of a sample's values) required.
pub const PROPORTION_REQUIRED: f64 = 0.8;
/// Fraction of probes required for EPICv2 input.
pub const PROPORTION_REQUIRED_EPICV2: f64 = 0.7;

const DOUBLE_EPS: f64 = f64::EPSILON;

/// DunedinPACE for every sample of the view. `dense_index` maps cg IDs to view rows; `gold` is
/// the gold-standard table in its file order; `model_means` the training means of the model
/// probes.
pub fn project(
    view: &BetaView,
    dense_index: &HashMap<String, usize>,
    gold: &[(String, f64)],
    model_means: &[(String, f64)],
    model: &ClockModel,
) -> Vec<Estimate> {
    let n = view.n_samples();
    let present = |c: &str| dense_index.get(c).is_some_and(|&i| view.is_present(i));
    let required = if view.notes.epicv2_suffixed > 0 {
        PROPORTION_REQUIRED_EPICV2
    } else {
        PROPORTION_REQUIRED
    };
    let model_present = model.cpgs.iter().filter(|c| present(c)).count();
    let gold_present = gold.iter().filter(|(c, _)| present(c)).count();
    let model_frac = model_present as f64 / model.cpgs.len() as f64;
    let gold_frac = gold_present as f64 / gold.len() as f64;
    if model_frac < required || gold_frac < required {
        return vec![
            Estimate::failed(format!(
                "not computed: the input has {model_present} of {} DunedinPACE model probes and {gold_present} of {} gold-standard probes; both must be at least {}%",
                model.cpgs.len(),
                gold.len(),
                required * 100.0
            ));
            n
        ];
    }
    let r = gold.len();
    let gold_absent = r - gold_present;
    // Step 2: the matrix over the gold probes, gold order, probe-major.
    let mut mat = vec![0.0f64; r * n];
    for (p, (c, mean)) in gold.iter().enumerate() {
        let dst = &mut mat[p * n..(p + 1) * n];
        match dense_index.get(c.as_str()) {
            Some(&i) if view.is_present(i) => dst.copy_from_slice(view.row(i)),
            _ => dst.fill(*mean),
        }
    }
    // Step 3: samples with too many missing values.
    let mut keep: Vec<usize> = Vec::new();
    let mut out: Vec<Option<Estimate>> = vec![None; n];
    for s in 0..n {
        let na = (0..r).filter(|&p| mat[p * n + s].is_nan()).count();
        if 1.0 - (na as f64 / r as f64) < PROPORTION_REQUIRED {
            out[s] = Some(Estimate::failed(format!(
                "not computed: {na} of {r} DunedinPACE gold-standard probes missing in this sample (more than 20%)"
            )));
        } else {
            keep.push(s);
        }
    }
    // Step 4: probe-level missingness over the kept samples.
    let mm: HashMap<&str, f64> = model_means.iter().map(|(c, v)| (c.as_str(), *v)).collect();
    let k = keep.len();
    let mut na_filled = vec![0u64; n];
    let mut train_filled = 0u64;
    let mut lost = 0u64;
    let is_model: HashMap<&str, f64> = model
        .cpgs
        .iter()
        .zip(&model.coefs)
        .map(|(c, &w)| (c.as_str(), w))
        .collect();
    let mut model_imputed = vec![0u64; n];
    if k > 0 {
        for (p, (c, _)) in gold.iter().enumerate() {
            let row = &mut mat[p * n..(p + 1) * n];
            let na = keep.iter().filter(|&&s| row[s].is_nan()).count();
            if na == 0 {
                continue;
            }
            let frac = 1.0 - na as f64 / k as f64;
            if frac >= PROPORTION_REQUIRED {
                let (mut t, mut m) = (0.0, 0usize);
                for &s in &keep {
                    if !row[s].is_nan() {
                        t += row[s];
                        m += 1;
                    }
                }
                let mean = t / m as f64;
                for &s in &keep {
                    if row[s].is_nan() {
                        row[s] = mean;
                        na_filled[s] += 1;
                        if is_model.contains_key(c.as_str()) {
                            model_imputed[s] += 1;
                        }
                    }
                }
            } else {
                let v = mm.get(c.as_str()).copied().unwrap_or(f64::NAN);
                if v.is_nan() {
                    lost += 1;
                } else {
                    train_filled += 1;
                }
                let model_probe = is_model.contains_key(c.as_str());
                for &s in &keep {
                    // Every kept sample's value of this probe is replaced.
                    model_imputed[s] += u64::from(model_probe);
                    row[s] = v;
                }
            }
        }
    }
    // Step 5: quantile normalisation to the sorted gold means.
    let mut target: Vec<f64> = gold
        .iter()
        .map(|(_, m)| *m)
        .filter(|m| !m.is_nan())
        .collect();
    target.sort_by(f64::total_cmp);
    let model_rows: Vec<(usize, f64)> = model
        .cpgs
        .iter()
        .zip(&model.coefs)
        .filter_map(|(c, &w)| gold.iter().position(|(g, _)| g == c).map(|p| (p, w)))
        .collect();
    let absent_model = model.cpgs.len() - model_present;
    let mut column = vec![0.0f64; r];
    for &s in &keep {
        for p in 0..r {
            column[p] = mat[p * n + s];
        }
        normalize_to_target(&mut column, &target);
        // Step 6.
        let mut score = model.intercept;
        let mut nan = false;
        for &(p, w) in &model_rows {
            let v = column[p];
            nan |= v.is_nan();
            score += v * w;
        }
        let imputed = model_imputed[s] + absent_model as u64;
        let mut e = Estimate {
            value: None,
            n_used: model.cpgs.len() as u64,
            n_imputed: imputed,
            n_missing: imputed,
            qc_status: QcStatus::Pass,
            notes: Vec::new(),
        };
        if gold_absent > 0 {
            e.notes.push(format!(
                "{gold_absent} of {r} gold-standard probes ({absent_model} model probes) absent from the input, set to their gold-standard means"
            ));
        }
        if na_filled[s] > 0 {
            e.notes.push(format!(
                "{} missing values of this sample set to their probe's cohort mean",
                na_filled[s]
            ));
        }
        if train_filled + lost > 0 {
            e.notes.push(format!(
                "{} probes present in fewer than 80% of samples: {train_filled} set to DunedinPACE training means, {lost} left missing (non-model probes)",
                train_filled + lost
            ));
        }
        if nan || model.cpgs.len() != model_rows.len() {
            e.qc_status = QcStatus::Fail;
            e.notes
                .push("not computed: a model probe has no value after normalisation".into());
        } else {
            e.value = Some(score);
            if imputed > 0 || gold_absent > 0 || na_filled[s] > 0 || train_filled + lost > 0 {
                e.qc_status = QcStatus::Warn;
            }
        }
        out[s] = Some(e);
    }
    out.into_iter()
        .map(|e| e.unwrap_or_else(|| Estimate::failed("not computed".into())))
        .collect()
}

/// `preprocessCore::normalize.quantiles.use.target` on one column (`NaN` = missing, left as
/// is). `target` is sorted and has no missing values.
pub fn normalize_to_target(column: &mut [f64], target: &[f64]) {
    let rows = column.len();
    let t = target.len();
    let mut items: Vec<(f64, usize)> = column
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_nan())
        .map(|(i, &v)| (v, i))
        .collect();
    let k = items.len();
    if k == 0 || t == 0 {
        return;
    }
    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    let ranks = average_ranks(&items);
    if rows == t && k == rows {
        for (i, &(_, ind)) in items.iter().enumerate() {
            let r = ranks[i];
            let f = (r.floor() as usize).clamp(1, t);
            column[ind] = if r - r.floor() > 0.4 && f < t {
                0.5 * (target[f - 1] + target[f])
            } else {
                target[f - 1]
            };
        }
    } else {
        for (i, &(_, ind)) in items.iter().enumerate() {
            if k < 2 {
                // preprocessCore divides by k − 1 here; one value has no quantile.
                column[ind] = f64::NAN;
                continue;
            }
            let pct = (ranks[i] - 1.0) / (k as f64 - 1.0);
            let mut tid = 1.0 + (t as f64 - 1.0) * pct;
            let tfloor = (tid + 4.0 * DOUBLE_EPS).floor();
            tid -= tfloor;
            if tid.abs() <= 4.0 * DOUBLE_EPS {
                tid = 0.0;
            }
            column[ind] = if tid == 0.0 {
                let ti = (tfloor + 0.5).floor() as usize;
                target[ti.clamp(1, t) - 1]
            } else if tid == 1.0 {
                let ti = (tfloor + 1.5).floor() as usize;
                target[ti.clamp(1, t) - 1]
            } else {
                let ti = (tfloor + 0.5).floor() as isize;
                if ti < t as isize && ti > 0 {
                    let ti = ti as usize;
                    (1.0 - tid) * target[ti - 1] + tid * target[ti]
                } else if ti >= t as isize {
                    target[t - 1]
                } else {
                    target[0]
                }
            };
        }
    }
}

/// 1-based ranks of sorted values, ties getting their average rank (preprocessCore `get_ranks`).
fn average_ranks(sorted: &[(f64, usize)]) -> Vec<f64> {
    let n = sorted.len();
    let mut ranks = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n - 1 && sorted[j].0 == sorted[j + 1].0 {
            j += 1;
        }
        let r = if i != j {
            (i + j + 2) as f64 / 2.0
        } else {
            (i + 1) as f64
        };
        for x in ranks.iter_mut().take(j + 1).skip(i) {
            *x = r;
        }
        i = j + 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_columns_take_the_target_by_rank_with_the_tie_rule() {
        let target = [1.0, 2.0, 3.0, 4.0];
        let mut col = [0.3, 0.1, 0.3, 0.9];
        normalize_to_target(&mut col, &target);
        // ranks 2.5, 1, 2.5, 4: 2.5 has fraction 0.5 > 0.4 → mean of t[2], t[3].
        assert_eq!(col, [2.5, 1.0, 2.5, 4.0]);
    }

    #[test]
    fn columns_with_missing_values_interpolate_the_target() {
        let target = [1.0, 2.0, 3.0, 4.0, 5.0];
        let mut col = [0.5, f64::NAN, 0.1, 0.9];
        normalize_to_target(&mut col, &target);
        // k = 3: positions 1, 3, 5 of the target.
        assert_eq!(col[2], 1.0);
        assert_eq!(col[0], 3.0);
        assert_eq!(col[3], 5.0);
        assert!(col[1].is_nan());
        let target = [1.0, 2.0, 3.0, 4.0];
        let mut col = [0.2, 0.1, 0.3, f64::NAN];
        normalize_to_target(&mut col, &target);
        // 1 + 3·(r−1)/2: 1, 2.5, 4.
        assert_eq!(&col[..3], &[2.5, 1.0, 4.0]);
        assert!(col[3].is_nan());
    }
}
