//! Sample identity and purity from methylation data: SNP-probe genotypes and maternal
//! contamination of cord blood. The cohort-level checks that use them (duplicates, mother–child
//! relatedness, sex) are in `cohort::sample_qc`.
//!
//! ## Genotypes from the SNP probes
//! The 450K and EPIC arrays carry 59–65 probes (`rs…`) that measure a common SNP instead of a
//! CpG; their "beta" is the B-allele fraction. Each beta `x` is called with the pre-trained
//! mixture model of ewastools `call_genotypes` (Heiss & Just 2018, *Clin Epigenetics* 10:78,
//! doi:10.1186/s13148-018-0504-1): three Beta components for AA, AB and BB and a Uniform(0, 1)
//! outlier component,
//!
//! `γ_k ∝ (1 − α) · π_k · dbeta(x; a_k, b_k)` for k ∈ {AA, AB, BB}, `γ_out ∝ α`,
//!
//! with the published defaults in `reference/qc/ewastools_genotype_mixture.tsv`. The call is the
//! most probable genotype (0, 1 or 2 B alleles) when its posterior is at least
//! [`MIN_CALL_POSTERIOR`]; otherwise (an outlier, a value between clusters, a missing beta) the
//! SNP is not called. A contaminated sample (two genomes) puts many SNP betas between the
//! clusters, which is why ewastools reports the outlier share; agemark reports the call rate.
//!
//! ## Maternal blood in cord blood (Morin et al. 2017)
//! Morin AM et al. 2017, "Maternal blood contamination of collected cord blood can be identified
//! using DNA methylation at three CpGs", *Clin Epigenetics* 9:75, doi:10.1186/s13148-017-0370-2.
//! Ten autosomal CpGs separate cord from adult blood; their beta thresholds (array data
//! normalised with SWAN or with BMIQ) are in `reference/qc/morin2017_thresholds.csv`. The
//! decision rule is the one stated in the paper's Figure 2b legend: a sample is called
//! contaminated when **at least 5 of the 10 CpGs are above their threshold**. (The Figure 4c
//! legend, on EPIC validation data, says "more than 5"; agemark uses the Figure 2b rule and
//! reports the count, so either can be applied to the table.) agemark counts against the SWAN
//! thresholds and gives the BMIQ count in the note: its own IDAT betas are noob-normalised,
//! which is neither, so a count near 5 deserves a look rather than trust.

use crate::core::embedded;
use crate::methylation::InputError;

/// The assay of the per-SNP genotype rows (kept out of the cohort's long and wide tables).
pub const GENOTYPE_ASSAY: &str = "snp_genotype";
/// The assay of the per-sample SNP call rate (the identity stage's table suffix).
pub const IDENTITY_ASSAY: &str = "identity";
/// SNPs called in both samples needed to compare two samples.
pub const MIN_SNPS: usize = 20;
/// Concordance of two samples' calls from which they are the same person (meffil
/// `meffil.snp.concordance`, sample threshold 0.9).
pub const SAME_PERSON_CONCORDANCE: f64 = 0.9;
/// Share of opposite homozygotes (IBS0) above which a child cannot be the mother's: a true
/// mother and child share an allele at every SNP, so IBS0 comes only from call errors;
/// unrelated people at these common SNPs (minor allele frequency mostly 0.3–0.5) have
/// 2p²q² ≈ 8–12 % (agemark's cut-off, no published standard for these probes).
pub const MAX_PARENT_IBS0: f64 = 0.03;
/// The assay of Morin's count.
pub const CONTAMINATION_ASSAY: &str = "maternal_contamination";

/// The least posterior probability for a genotype call: more than half, so the call is also
/// more probable than the outlier component.
pub const MIN_CALL_POSTERIOR: f64 = 0.5;
/// Morin 2017 (Figure 2b): contaminated when at least this many of the 10 CpGs are above
/// their thresholds.
pub const MORIN_MIN_ABOVE: usize = 5;
/// Morin's CpGs needed for a count at all (fewer: the check is not computed).
pub const MORIN_MIN_PRESENT: usize = 8;

const SNP_PROBES: &str = embedded::text(embedded::QC, "snp_probes_450k.txt");
const MIXTURE: &str = embedded::text(embedded::QC, "ewastools_genotype_mixture.tsv");
const MORIN: &str = embedded::text(embedded::QC, "morin2017_thresholds.csv");
const MANIFEST: &str = embedded::text(embedded::QC, "MANIFEST.sha256");

fn checked(name: &str, text: &'static str) -> Result<&'static str, InputError> {
    let want = MANIFEST
        .lines()
        .find_map(|l| l.strip_suffix(name).map(|h| h.trim().to_string()))
        .unwrap_or_default();
    let got = crate::core::checksum::sha256_hex(text.as_bytes());
    if want != got {
        return Err(InputError::file(
            &format!("reference/qc/{name} (embedded)"),
            format!("sha256 {got} differs from MANIFEST.sha256 ({want})"),
        ));
    }
    Ok(text)
}

/// The SNP probe IDs of the 450K/EPIC arrays (65; the EPIC ones are a subset).
pub fn snp_probe_ids() -> Result<Vec<String>, InputError> {
    Ok(checked("snp_probes_450k.txt", SNP_PROBES)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// One Morin CpG and its thresholds.
#[derive(Clone, Debug, PartialEq)]
pub struct MorinCpg {
    /// Probe ID.
    pub id: String,
    /// Threshold for SWAN-normalised array betas.
    pub swan: f64,
    /// Threshold for BMIQ-normalised array betas.
    pub bmiq: f64,
}

/// The 10 Morin CpGs.
pub fn morin_cpgs() -> Result<Vec<MorinCpg>, InputError> {
    let text = checked("morin2017_thresholds.csv", MORIN)?;
    let bad = |line: usize| {
        InputError::file(
            "reference/qc/morin2017_thresholds.csv (embedded)",
            format!("line {line}: expected cpg_id,swan,bmiq,pyro"),
        )
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 3 {
            return Err(bad(i + 1));
        }
        out.push(MorinCpg {
            id: f[0].to_string(),
            swan: f[1].parse().map_err(|_| bad(i + 1))?,
            bmiq: f[2].parse().map_err(|_| bad(i + 1))?,
        });
    }
    Ok(out)
}

/// The genotype mixture: (π, a, b) for AA, AB, BB, and the outlier weight α.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    /// (π, shape1, shape2) of AA, AB and BB.
    pub components: [(f64, f64, f64); 3],
    /// Weight of the uniform outlier component.
    pub alpha: f64,
}

/// The bundled ewastools mixture.
pub fn mixture() -> Result<Mixture, InputError> {
    let text = checked("ewastools_genotype_mixture.tsv", MIXTURE)?;
    let get = |component: &str, parameter: &str| -> Result<f64, InputError> {
        text.lines()
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .find(|f| f.len() == 3 && f[0] == component && f[1] == parameter)
            .and_then(|f| f[2].trim().parse().ok())
            .ok_or_else(|| {
                InputError::file(
                    "reference/qc/ewastools_genotype_mixture.tsv (embedded)",
                    format!("no {component} {parameter}"),
                )
            })
    };
    let mut components = [(0.0, 0.0, 0.0); 3];
    for (k, c) in ["AA_low", "AB_het", "BB_high"].iter().enumerate() {
        components[k] = (get(c, "pi")?, get(c, "shape1")?, get(c, "shape2")?);
    }
    Ok(Mixture {
        components,
        alpha: get("outlier", "alpha")?,
    })
}

use crate::core::stats::ln_gamma;

/// The Beta(a, b) density at x in (0, 1).
fn dbeta(x: f64, a: f64, b: f64) -> f64 {
    let ln = (a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() + ln_gamma(a + b)
        - ln_gamma(a)
        - ln_gamma(b);
    ln.exp()
}

impl Mixture {
    /// Posteriors (AA, AB, BB, outlier) of a beta; `None` for a missing or out-of-range beta.
    pub fn posteriors(&self, x: f64) -> Option<[f64; 4]> {
        if !(x > 0.0 && x < 1.0) {
            // 0 and 1 exactly: nudge inside, as densities are infinite or zero there.
            if x == 0.0 || x == 1.0 {
                return self.posteriors(x.clamp(1e-6, 1.0 - 1e-6));
            }
            return None;
        }
        let mut p = [0.0; 4];
        for (k, &(pi, a, b)) in self.components.iter().enumerate() {
            p[k] = (1.0 - self.alpha) * pi * dbeta(x, a, b);
        }
        p[3] = self.alpha;
        let total: f64 = p.iter().sum();
        Some(p.map(|v| v / total))
    }

    /// The genotype call (0, 1 or 2 B alleles) of a beta, or `None`.
    pub fn call(&self, x: f64) -> Option<u8> {
        let p = self.posteriors(x)?;
        (0..3)
            .find(|&k| p[k] >= MIN_CALL_POSTERIOR)
            .map(|k| k as u8)
    }
}

/// Agreement of two samples' calls: (SNPs called in both, of which equal, of which opposite
/// homozygotes — IBS0).
pub fn compare(a: &[Option<u8>], b: &[Option<u8>]) -> (usize, usize, usize) {
    let (mut n, mut same, mut ibs0) = (0, 0, 0);
    for (x, y) in a.iter().zip(b) {
        if let (Some(x), Some(y)) = (x, y) {
            n += 1;
            same += usize::from(x == y);
            ibs0 += usize::from(x.abs_diff(*y) == 2);
        }
    }
    (n, same, ibs0)
}

/// Morin count of one sample: (CpGs present, above the SWAN threshold, above the BMIQ
/// threshold); `betas` in the order of [`morin_cpgs`], `NaN` = missing.
pub fn morin_count(cpgs: &[MorinCpg], betas: &[f64]) -> (usize, usize, usize) {
    let (mut present, mut swan, mut bmiq) = (0, 0, 0);
    for (c, &b) in cpgs.iter().zip(betas) {
        if b.is_nan() {
            continue;
        }
        present += 1;
        swan += usize::from(b > c.swan);
        bmiq += usize::from(b > c.bmiq);
    }
    (present, swan, bmiq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_tables_pass_their_checksums() {
        assert_eq!(snp_probe_ids().unwrap().len(), 65);
        assert_eq!(morin_cpgs().unwrap().len(), 10);
        let m = mixture().unwrap();
        assert!((m.alpha - 0.06646095).abs() < 1e-12);
    }

    /// ln Γ against known values: Γ(5) = 24, Γ(0.5) = √π.
    #[test]
    fn ln_gamma_is_right() {
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        assert!((ln_gamma(80.830012) - 272.927_351_732_386_74).abs() < 1e-9);
    }

    /// Betas near 0, 0.5 and 1 are AA, AB and BB; betas between clusters are not called.
    #[test]
    fn calls_follow_the_clusters() {
        let m = mixture().unwrap();
        assert_eq!(m.call(0.03), Some(0));
        assert_eq!(m.call(0.49), Some(1));
        assert_eq!(m.call(0.95), Some(2));
        // 0.25 and 0.65 lie between clusters (outlier posterior 0.95 and 0.99, as ewastools).
        assert_eq!(m.call(0.25), None);
        assert_eq!(m.call(0.65), None);
        assert_eq!(m.call(f64::NAN), None);
        let p = m.posteriors(0.5).unwrap();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn compare_counts_ibs0() {
        let a = [Some(0), Some(2), Some(1), None];
        let b = [Some(2), Some(2), Some(0), Some(1)];
        assert_eq!(compare(&a, &b), (3, 1, 1));
    }
}
