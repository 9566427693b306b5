//! Zhang Q et al. 2019, "Improved precision of epigenetic clock estimates across tissues and its
//! implication for biological ageing", *Genome Med* 11:54, doi:10.1186/s13073-019-0667-1
//! (elastic-net clock, 514 CpGs; BLUP clock, 319,607 CpGs).
//!
//! Both models work on per-sample standardised betas. First every missing cell is set to the
//! mean of its probe over the samples that have it; then each sample `s` is z-scored over
//! **every** row of the input (R's `scale`, sd with ddof = 1):
//!
//! ```text
//! z_ps = (x_ps − mean_s) / sd_s
//! lin_s = intercept + Σ_p c_p · z_ps = intercept + (Σ_p c_p · x_ps − mean_s · Σ_p c_p) / sd_s
//! ```
//!
//! The right-hand form lets the BLUP model be folded in row by row while the matrix streams
//! (`Σ c·x` and `Σ c` per sample), with `mean_s` and `sd_s` from running per-sample sums over
//! all rows ([`crate::methylation::source::SampleMoments`]). The result depends on which rows
//! the input has (450K vs EPIC vs a subset), as in the original. For EPICv2 input the z-scores
//! run over the probe rows as given; replicate probes of a model CpG are then averaged. A model
//! CpG absent from the input (or with no value in any sample) is left out of both sums.

/// `(Σ c·x − mean · Σ c) / sd`, or `None` when `sd` is 0 or not finite.
pub fn standardized_sum(sum_cx: f64, sum_c: f64, mean: f64, sd: f64) -> Option<f64> {
    if !(sd.is_finite() && sd > 0.0 && mean.is_finite()) {
        return None;
    }
    Some((sum_cx - mean * sum_c) / sd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_sum_of_z_scores() {
        let x = [0.1, 0.5, 0.9, 0.3];
        let c = [1.5, -2.0];
        let mean = x.iter().sum::<f64>() / 4.0;
        let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        let direct = c[0] * (x[0] - mean) / sd + c[1] * (x[2] - mean) / sd;
        let folded = standardized_sum(c[0] * x[0] + c[1] * x[2], c[0] + c[1], mean, sd).unwrap();
        assert!((direct - folded).abs() < 1e-14);
        assert_eq!(standardized_sum(1.0, 1.0, 0.5, 0.0), None);
    }
}
