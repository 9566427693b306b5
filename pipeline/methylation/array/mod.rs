//! Illumina Infinium arrays: a pair of IDATs (Green, Red) + a [`manifest`] → betas and
//! detection p-values, with per-sample QC. Steps, in order:
//!
//! 1. **Signals.** Type I probe in channel c: M = c[address B], U = c[address A]; the same two
//!    addresses read in the other channel are its *out-of-band* (OOB) signal. Type II probe:
//!    M = Green[address], U = Red[address].
//! 2. **pOOBAH detection p-values** (Zhou, Triche, Laird & Shen 2018, *Nucleic Acids Res*
//!    46:e123, doi:10.1093/nar/gky691), on raw signals: the background distribution of a
//!    channel is the empirical CDF `F_c` of all OOB signals read in that channel (type-I red
//!    probes' Green signals form `F_G`, type-I green probes' Red signals `F_R`). Type I in
//!    channel c: `p = 1 − max(F_c(M), F_c(U))`; type II: `p = 1 − max(F_G(M), F_R(U))`.
//!    A probe with `p > 0.05` (`pval_threshold`) fails and its beta is masked to NA.
//! 3. **noob background correction** (Triche, Weisenberger, Van Den Berg, Laird & Siegmund 2013,
//!    *Nucleic Acids Res* 41:e90, doi:10.1093/nar/gkt090), per channel, with the background
//!    estimated from the channel's OOB signal as sesame's `noob` does (no control probes
//!    needed): background mean μ and SD σ are Huber M-estimates (k = 1.5, MAD scale, as R's
//!    `MASS::huber`) of the OOB signals; the exponential signal mean is
//!    `α = max(huber_μ(in-band) − μ, 10)`; each in-band value x becomes the normal-exponential
//!    conditional expectation `E[S | x] = m + σ·φ(m/σ)/Φ(m/σ)` with `m = x − μ − σ²/α`
//!    (limma `normexp.signal`), floored at 1e-6, plus an offset of 15 (sesame's default).
//!    When a user manifest has `NEGATIVE` control probes, their signal in each channel is
//!    pooled with the OOB signal for the background estimate (minfi's `preprocessNoob` uses the
//!    negative controls alone; OOB is kept so the estimate never rests on a few hundred beads).
//! 4. **Dye-bias correction**, linear (as sesame's `dyeBiasCorr` / Illumina GenomeStudio
//!    normalisation): each channel is scaled so that its reference level equals the geometric
//!    mean of the two channels' levels. The level is the mean of the normalisation controls
//!    (`NORM_A`/`NORM_T` red, `NORM_C`/`NORM_G` green) when the manifest has them, else the
//!    median in-band total (M + U) of the type-I probes of that channel (Zhou et al. 2018 use
//!    type-I in-band signal for the same purpose in `dyeBiasNL`). On HM27 (type I only) the
//!    scaling leaves each probe's M/(M+U) unchanged except through the offset.
//! 5. **Betas** `β = M / (M + U + offset)`, offset 0 by default (minfi `getBeta`, sesame
//!    `getBetas`, and so the betas most clocks were trained on after noob); Illumina's
//!    GenomeStudio uses 100 (`--beta-offset 100`). After noob every M and U is ≥ 15, so offset 0
//!    never divides by zero.
//! 6. **Masking**: failed probes (step 2) and probes whose bead address is absent from the IDAT
//!    are NA; both counts go into the QC rows.
//!
//! QC per sample: median raw M and U over all probes; fraction of failed probes; dye bias as
//! log2(red level / green level) before correction; bisulfite conversion from the
//! `BISULFITE CONVERSION I` controls when the manifest has them (median of the C-probe signal
//! over C + U probes, per Illumina's BeadArray Controls Reporter; near 1 = complete), else
//! reported unavailable; sex as minfi's `getSex` (Aryee et al. 2014, *Bioinformatics*
//! 30:1363, doi:10.1093/bioinformatics/btu049): `d = median log2(M+U) over chrY − median over
//! chrX`, male when `d > −2`, when the manifest has ≥ 50 chrY probes (450K, EPIC); on HM27
//! (7 chrY probes, on which that rule calls the two female TCGA ovarian samples male) by X
//! inactivation instead: female when the median β of chrX probes exceeds the autosomal median
//! by more than 0.15 (Cotton et al. 2015, *Hum Mol Genet* 24:1528).

pub mod batch;
pub mod install;
pub mod manifest;
pub mod output;

use manifest::{Channel, Chrom, Design, Manifest};

use crate::idat::Idat;

/// Preprocessing options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PreprocessOptions {
    /// `β = M / (M + U + beta_offset)`.
    pub beta_offset: f64,
    /// pOOBAH p-value above which a probe is masked.
    pub pval_threshold: f64,
}

impl Default for PreprocessOptions {
    fn default() -> Self {
        PreprocessOptions {
            beta_offset: 0.0,
            pval_threshold: 0.05,
        }
    }
}

impl PreprocessOptions {
    /// The method string written into QC rows.
    pub fn describe(&self) -> String {
        format!(
            "poobah+noob(oob)+dyebias(linear);beta_offset={};pval<={}",
            self.beta_offset, self.pval_threshold
        )
    }
}

/// Sex inferred from the sex chromosomes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SexCall {
    /// The statistic: median log2(M+U) on chrY − on chrX ([`SexMethod::YIntensity`]), or
    /// median β on chrX − median β on autosomes ([`SexMethod::XMethylation`]).
    pub statistic: f64,
    /// The call.
    pub male: bool,
    /// How.
    pub method: SexMethod,
    /// chrX probes used.
    pub n_x: usize,
    /// chrY probes used (Y intensity) or autosomal probes used (X methylation).
    pub n_other: usize,
}

/// How sex was inferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SexMethod {
    /// minfi `getSex`: male when median log2(M+U) on chrY − on chrX > −2 (≥ 50 chrY probes).
    YIntensity,
    /// X inactivation: female when median β of chrX probes exceeds the autosomal median by
    /// more than 0.15 (platforms with few chrY probes: HM27 has 7).
    XMethylation,
}

impl SexMethod {
    /// Words for the `method` column.
    pub fn describe(self) -> &'static str {
        match self {
            SexMethod::YIntensity => "minfi_getSex(median_log2_cn_Y_minus_X>-2)",
            SexMethod::XMethylation => "x_inactivation(median_beta_X_minus_autosomes>0.15=female)",
        }
    }
}

/// Sex from chrX/chrY probes: minfi's `getSex` rule when the manifest has ≥ 50 chrY probes
/// (450K: 416), else the X-inactivation rule on betas (≥ 100 chrX probes): the promoter CpG
/// islands HM27 targets are methylated on the inactive X, so in females the median β of chrX
/// probes is far above the autosomal median (~0.4 vs ~0.05), in males close to it (Cotton et
/// al. 2015, *Hum Mol Genet* 24:1528, "Landscape of DNA methylation on the X chromosome").
fn infer_sex(manifest: &Manifest, m_raw: &[f64], u_raw: &[f64], betas: &[f32]) -> Option<SexCall> {
    let mut x_cn = Vec::new();
    let mut y_cn = Vec::new();
    let mut x_b = Vec::new();
    let mut a_b = Vec::new();
    for (k, p) in manifest.probes.iter().enumerate() {
        if m_raw[k].is_nan() {
            continue;
        }
        let cn = (m_raw[k] + u_raw[k]).max(1.0).log2();
        let b = f64::from(betas[k]);
        match p.chrom {
            Chrom::X => {
                x_cn.push(cn);
                if !b.is_nan() {
                    x_b.push(b);
                }
            }
            Chrom::Y => y_cn.push(cn),
            Chrom::Other if !b.is_nan() => a_b.push(b),
            _ => {}
        }
    }
    if y_cn.len() >= 50 && x_cn.len() >= 50 {
        let (n_x, n_y) = (x_cn.len(), y_cn.len());
        let d = median(&mut y_cn) - median(&mut x_cn);
        return Some(SexCall {
            statistic: d,
            male: d > -2.0,
            method: SexMethod::YIntensity,
            n_x,
            n_other: n_y,
        });
    }
    if x_b.len() >= 100 && a_b.len() >= 100 {
        let (n_x, n_a) = (x_b.len(), a_b.len());
        let d = median(&mut x_b) - median(&mut a_b);
        return Some(SexCall {
            statistic: d,
            male: d <= 0.15,
            method: SexMethod::XMethylation,
            n_x,
            n_other: n_a,
        });
    }
    None
}

/// Per-sample QC.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleQc {
    /// Probes in the manifest.
    pub n_probes: usize,
    /// Median raw methylated intensity.
    pub median_m: f64,
    /// Median raw unmethylated intensity.
    pub median_u: f64,
    /// Probes with detection p above the threshold.
    pub n_failed: usize,
    /// Probes whose address is not in the IDAT.
    pub n_absent: usize,
    /// log2(red / green) reference level before dye-bias correction.
    pub dye_bias_log2: f64,
    /// Whether the dye levels came from normalisation controls.
    pub dye_from_controls: bool,
    /// Bisulfite conversion (C / (C + U) of the BS conversion I controls), when available.
    pub bisulfite_conversion: Option<f64>,
    /// Sex call, when the manifest has chrX and chrY probes.
    pub sex: Option<SexCall>,
    /// noob background mean (green, red).
    pub background: (f64, f64),
}

/// The output of one sample: probe-wise betas and detection p-values in manifest order
/// (f32 to halve memory for large batches).
#[derive(Clone, Debug, PartialEq)]
pub struct SampleResult {
    /// Betas; NaN = masked or absent.
    pub betas: Vec<f32>,
    /// Detection p-values; NaN = absent.
    pub pvals: Vec<f32>,
    /// QC.
    pub qc: SampleQc,
}

/// Why a sample could not be processed.
#[derive(Clone, Debug, PartialEq)]
pub struct PreprocessError(pub String);

impl std::fmt::Display for PreprocessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PreprocessError {}

impl crate::core::error::Categorised for PreprocessError {
    fn category(&self) -> crate::core::error::Category {
        crate::core::error::category_of_input_message(&self.0)
    }
}

/// Address → position lookup on an IDAT (addresses are sorted on real files; otherwise a
/// sorted copy is used).
struct Lookup<'a> {
    idat: &'a Idat,
    order: Option<Vec<u32>>,
}

impl<'a> Lookup<'a> {
    fn new(idat: &'a Idat) -> Self {
        let sorted = idat.ids.windows(2).all(|w| w[0] < w[1]);
        let order = (!sorted).then(|| {
            let mut o: Vec<u32> = (0..idat.ids.len() as u32).collect();
            o.sort_by_key(|&i| idat.ids[i as usize]);
            o
        });
        Lookup { idat, order }
    }

    fn mean(&self, address: u32) -> Option<f64> {
        self.position(address)
            .map(|i| f64::from(self.idat.means[i]))
    }

    fn position(&self, address: u32) -> Option<usize> {
        let i = match &self.order {
            None => self.idat.ids.binary_search(&address).ok()?,
            Some(o) => {
                let k = o
                    .binary_search_by_key(&address, |&i| self.idat.ids[i as usize])
                    .ok()?;
                o[k] as usize
            }
        };
        Some(i)
    }
}

/// Where each manifest probe's beads are in an IDAT's arrays (`u32::MAX` = absent). Built once
/// per batch from the first sample and reused for every IDAT with the same address list (all
/// IDATs of one platform and scanner have it), so a sample costs array reads, not searches.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeIndex {
    ids: Vec<u32>,
    pos_m: Vec<u32>,
    pos_u: Vec<u32>,
}

impl ProbeIndex {
    /// The index of `manifest`'s probes in an IDAT whose addresses are `ids`.
    pub fn new(manifest: &Manifest, ids: &[u32]) -> Self {
        let idat = Idat {
            ids: ids.to_vec(),
            ..Default::default()
        };
        let lk = Lookup::new(&idat);
        let at = |a: u32| lk.position(a).map_or(u32::MAX, |i| i as u32);
        let pos_m = manifest.probes.iter().map(|p| at(p.addr_m)).collect();
        let pos_u = manifest.probes.iter().map(|p| at(p.addr_u)).collect();
        ProbeIndex {
            ids: idat.ids,
            pos_m,
            pos_u,
        }
    }

    /// Whether the index was built for this address list.
    pub fn fits(&self, ids: &[u32]) -> bool {
        self.ids == ids
    }
}

fn at(means: &[u16], pos: u32) -> Option<f64> {
    means.get(pos as usize).map(|&v| f64::from(v))
}

/// The median (NaN for none), by selection: O(n).
fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    let (_, &mut hi, _) = v.select_nth_unstable_by(n / 2, |a, b| a.total_cmp(b));
    if n % 2 == 1 {
        hi
    } else {
        let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo + hi) / 2.0
    }
}

/// Huber M-estimate of location with the MAD as fixed scale (R `MASS::huber`, k = 1.5).
/// Returns (location, scale).
pub fn huber(values: &[f64]) -> (f64, f64) {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut mu = median(&mut v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - mu).abs()).collect();
    let s = 1.4826 * median(&mut dev);
    if s <= 0.0 {
        return (mu, 0.0);
    }
    let k = 1.5;
    for _ in 0..50 {
        let lo = mu - k * s;
        let hi = mu + k * s;
        let new = v.iter().map(|x| x.clamp(lo, hi)).sum::<f64>() / v.len() as f64;
        if (new - mu).abs() < 1e-6 * s {
            mu = new;
            break;
        }
        mu = new;
    }
    (mu, s)
}

/// erfc(x), W. J. Cody's rational approximations via the complementary error function in
/// Numerical Recipes' Chebyshev form (fractional error < 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// φ(z)/Φ(z) (inverse Mills ratio of the lower tail), stable for very negative z.
fn mills(z: f64) -> f64 {
    if z < -7.0 {
        let z2 = z * z;
        -z / (1.0 - 1.0 / z2 + 3.0 / (z2 * z2) - 15.0 / (z2 * z2 * z2))
    } else {
        let phi = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let cdf = 0.5 * erfc(-z / std::f64::consts::SQRT_2);
        phi / cdf
    }
}

/// Normal-exponential background correction of `x` (limma `normexp.signal`) + `offset`.
pub fn normexp_signal(x: f64, mu: f64, sigma: f64, alpha: f64, offset: f64) -> f64 {
    let s = if sigma <= 0.0 || !sigma.is_finite() {
        return (x - mu).max(1e-6) + offset;
    } else {
        sigma
    };
    let m = x - mu - s * s / alpha;
    (m + s * mills(m / s)).max(1e-6) + offset
}

/// The noob parameters of one channel: (μ, σ, α) from background and in-band signals.
fn noob_params(background: &[f64], in_band: &[f64]) -> (f64, f64, f64) {
    let (mu, sigma) = huber(background);
    let (ib, _) = huber(in_band);
    let alpha = (ib - mu).max(10.0);
    (mu, sigma, alpha)
}

/// Empirical CDF of raw IDAT means (integers 0–65535) as a cumulative count table.
struct Ecdf {
    cum: Vec<u32>,
    n: f64,
}

impl Ecdf {
    fn new(values: &[f64]) -> Self {
        let mut cum = vec![0u32; 65_536];
        for &v in values {
            cum[v.clamp(0.0, 65_535.0) as usize] += 1;
        }
        for i in 1..cum.len() {
            cum[i] += cum[i - 1];
        }
        Ecdf {
            cum,
            n: values.len() as f64,
        }
    }

    /// The fraction of values ≤ x.
    fn at(&self, x: f64) -> f64 {
        if self.n == 0.0 {
            return f64::NAN;
        }
        f64::from(self.cum[x.clamp(0.0, 65_535.0) as usize]) / self.n
    }
}

/// Preprocesses one sample. Errors when the manifest does not match the IDATs (more than 5%
/// of its probes have an address absent from them).
pub fn preprocess(
    grn: &Idat,
    red: &Idat,
    manifest: &Manifest,
    opts: &PreprocessOptions,
) -> Result<SampleResult, PreprocessError> {
    preprocess_indexed(grn, red, manifest, opts, None)
}

/// [`preprocess`] with a [`ProbeIndex`] built for an earlier sample; used when it fits this
/// sample's address list, else a fresh one is built.
pub fn preprocess_indexed(
    grn: &Idat,
    red: &Idat,
    manifest: &Manifest,
    opts: &PreprocessOptions,
    index: Option<&ProbeIndex>,
) -> Result<SampleResult, PreprocessError> {
    if grn.ids.len() != red.ids.len() {
        return Err(PreprocessError(format!(
            "the Grn IDAT has {} addresses but the Red IDAT {}: not a pair from one array",
            grn.ids.len(),
            red.ids.len()
        )));
    }
    let g = Lookup::new(grn);
    let r = Lookup::new(red);
    let own_g;
    let ig = match index {
        Some(i) if i.fits(&grn.ids) => i,
        _ => {
            own_g = ProbeIndex::new(manifest, &grn.ids);
            &own_g
        }
    };
    let own_r;
    let ir = if ig.fits(&red.ids) {
        ig
    } else {
        own_r = ProbeIndex::new(manifest, &red.ids);
        &own_r
    };
    let (gm, rm) = (&grn.means[..], &red.means[..]);
    let n = manifest.probes.len();
    // Raw signals: (M, U, oob_m, oob_u) per probe; NaN when absent.
    let mut m_raw = vec![f64::NAN; n];
    let mut u_raw = vec![f64::NAN; n];
    let mut n_absent = 0usize;
    let mut oob_g = Vec::new();
    let mut oob_r = Vec::new();
    let mut ib_g = Vec::new();
    let mut ib_r = Vec::new();
    let mut tot_i_g = Vec::new();
    let mut tot_i_r = Vec::new();
    for (k, p) in manifest.probes.iter().enumerate() {
        let (mm, uu) = match p.design {
            Design::I(Channel::Red) => {
                let v = (at(rm, ir.pos_m[k]), at(rm, ir.pos_u[k]));
                if let (Some(a), Some(b)) = (at(gm, ig.pos_m[k]), at(gm, ig.pos_u[k])) {
                    oob_g.extend([a, b]);
                }
                v
            }
            Design::I(Channel::Grn) => {
                let v = (at(gm, ig.pos_m[k]), at(gm, ig.pos_u[k]));
                if let (Some(a), Some(b)) = (at(rm, ir.pos_m[k]), at(rm, ir.pos_u[k])) {
                    oob_r.extend([a, b]);
                }
                v
            }
            Design::II => (at(gm, ig.pos_m[k]), at(rm, ir.pos_u[k])),
        };
        let (Some(mm), Some(uu)) = (mm, uu) else {
            n_absent += 1;
            continue;
        };
        m_raw[k] = mm;
        u_raw[k] = uu;
        match p.design {
            Design::I(Channel::Red) => {
                ib_r.extend([mm, uu]);
                tot_i_r.push(mm + uu);
            }
            Design::I(Channel::Grn) => {
                ib_g.extend([mm, uu]);
                tot_i_g.push(mm + uu);
            }
            Design::II => {
                ib_g.push(mm);
                ib_r.push(uu);
            }
        }
    }
    if n_absent * 20 > n {
        return Err(PreprocessError(format!(
            "the manifest ({}) does not match the IDATs: {n_absent} of its {n} probes have bead addresses absent from the IDATs (wrong manifest or --platform?)",
            manifest.source
        )));
    }
    if oob_g.is_empty() && oob_r.is_empty() {
        return Err(PreprocessError(format!(
            "the manifest ({}) has no type-I probes: no out-of-band signal for pOOBAH and noob",
            manifest.source
        )));
    }
    // Control probes, when the manifest has them.
    let ctl = |kinds: &[&str], lk: &Lookup| -> Vec<f64> {
        manifest
            .controls
            .iter()
            .filter(|c| kinds.contains(&c.kind.as_str()))
            .filter_map(|c| lk.mean(c.address))
            .collect()
    };
    // 2. pOOBAH on raw signals.
    // An array with type-I probes of one colour only has OOB signal in one channel.
    let fg = Ecdf::new(if oob_g.is_empty() { &oob_r } else { &oob_g });
    let fr = Ecdf::new(if oob_r.is_empty() { &oob_g } else { &oob_r });
    let mut pvals = vec![f32::NAN; n];
    let mut n_failed = 0usize;
    for (k, p) in manifest.probes.iter().enumerate() {
        let (mm, uu) = (m_raw[k], u_raw[k]);
        if mm.is_nan() {
            continue;
        }
        let pv = match p.design {
            Design::I(Channel::Red) => 1.0 - fr.at(mm).max(fr.at(uu)),
            Design::I(Channel::Grn) => 1.0 - fg.at(mm).max(fg.at(uu)),
            Design::II => 1.0 - fg.at(mm).max(fr.at(uu)),
        };
        pvals[k] = pv as f32;
        if pv > opts.pval_threshold {
            n_failed += 1;
        }
    }
    // 3. noob per channel.
    let mut bg_g = oob_g;
    bg_g.extend(ctl(&["NEGATIVE"], &g));
    let mut bg_r = oob_r;
    bg_r.extend(ctl(&["NEGATIVE"], &r));
    let bg_g = if bg_g.is_empty() { bg_r.clone() } else { bg_g };
    let bg_r = if bg_r.is_empty() { bg_g.clone() } else { bg_r };
    let (mu_g, s_g, a_g) = noob_params(&bg_g, &ib_g);
    let (mu_r, s_r, a_r) = noob_params(&bg_r, &ib_r);
    let ng = |x: f64| normexp_signal(x, mu_g, s_g, a_g, 15.0);
    let nr = |x: f64| normexp_signal(x, mu_r, s_r, a_r, 15.0);
    // 4. Dye bias: reference levels per channel.
    let norm_r = ctl(&["NORM_A", "NORM_T"], &r);
    let norm_g = ctl(&["NORM_C", "NORM_G"], &g);
    let dye_from_controls = !norm_r.is_empty() && !norm_g.is_empty();
    let (lvl_r_raw, lvl_g_raw, lvl_r, lvl_g) = if dye_from_controls {
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let cr: Vec<f64> = norm_r.iter().map(|&x| nr(x)).collect();
        let cg: Vec<f64> = norm_g.iter().map(|&x| ng(x)).collect();
        (mean(&norm_r), mean(&norm_g), mean(&cr), mean(&cg))
    } else {
        // Type-I in-band totals per channel (HM27/450K/EPIC all have both colours).
        let mut raw_r = tot_i_r.clone();
        let mut raw_g = tot_i_g.clone();
        let mut cor_r: Vec<f64> = Vec::with_capacity(tot_i_r.len());
        let mut cor_g: Vec<f64> = Vec::with_capacity(tot_i_g.len());
        for (k, p) in manifest.probes.iter().enumerate() {
            if m_raw[k].is_nan() {
                continue;
            }
            match p.design {
                Design::I(Channel::Red) => cor_r.push(nr(m_raw[k]) + nr(u_raw[k])),
                Design::I(Channel::Grn) => cor_g.push(ng(m_raw[k]) + ng(u_raw[k])),
                Design::II => {}
            }
        }
        (
            median(&mut raw_r),
            median(&mut raw_g),
            median(&mut cor_r),
            median(&mut cor_g),
        )
    };
    let (scale_r, scale_g) = if lvl_r > 0.0 && lvl_g > 0.0 {
        let refl = (lvl_r * lvl_g).sqrt();
        (refl / lvl_r, refl / lvl_g)
    } else {
        (1.0, 1.0)
    };
    // 5–6. Betas, masking.
    let mut betas = vec![f32::NAN; n];
    for (k, p) in manifest.probes.iter().enumerate() {
        let (mm, uu) = (m_raw[k], u_raw[k]);
        if mm.is_nan() || pvals[k] as f64 > opts.pval_threshold {
            continue;
        }
        let (mc, uc) = match p.design {
            Design::I(Channel::Red) => (nr(mm) * scale_r, nr(uu) * scale_r),
            Design::I(Channel::Grn) => (ng(mm) * scale_g, ng(uu) * scale_g),
            Design::II => (ng(mm) * scale_g, nr(uu) * scale_r),
        };
        let b = mc / (mc + uc + opts.beta_offset);
        if b.is_finite() {
            betas[k] = b as f32;
        }
    }
    // QC.
    let mut ms: Vec<f64> = m_raw.iter().copied().filter(|x| !x.is_nan()).collect();
    let mut us: Vec<f64> = u_raw.iter().copied().filter(|x| !x.is_nan()).collect();
    let bis_c: Vec<f64> = bisulfite_controls(manifest, &g, &r, "C");
    let bis_u: Vec<f64> = bisulfite_controls(manifest, &g, &r, "U");
    let bisulfite_conversion = if bis_c.is_empty() || bis_u.is_empty() {
        None
    } else {
        let c = bis_c.iter().sum::<f64>() / bis_c.len() as f64;
        let u = bis_u.iter().sum::<f64>() / bis_u.len() as f64;
        Some(c / (c + u))
    };
    let sex = infer_sex(manifest, &m_raw, &u_raw, &betas);
    Ok(SampleResult {
        betas,
        pvals,
        qc: SampleQc {
            n_probes: n,
            median_m: median(&mut ms),
            median_u: median(&mut us),
            n_failed,
            n_absent,
            dye_bias_log2: (lvl_r_raw / lvl_g_raw).log2(),
            dye_from_controls,
            bisulfite_conversion,
            sex,
            background: (mu_g, mu_r),
        },
    })
}

/// Signals of the `BISULFITE CONVERSION I` controls named `…-C…` or `…-U…` (Illumina names
/// them `BS Conversion I-C1`, `BS Conversion I-U1`, …; C1–C2 and U1–U2 are green, C3–C5 and
/// U3–U5 red on 450K/EPIC, so both channels are read and the brighter kept).
fn bisulfite_controls(manifest: &Manifest, g: &Lookup, r: &Lookup, which: &str) -> Vec<f64> {
    manifest
        .controls
        .iter()
        .filter(|c| c.kind == "BISULFITE CONVERSION I")
        .filter(|c| {
            c.name
                .rsplit('-')
                .next()
                .is_some_and(|s| s.starts_with(which))
        })
        .filter_map(|c| match (g.mean(c.address), r.mean(c.address)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::manifest::*;
    use super::*;

    #[test]
    fn huber_is_robust_and_matches_the_median_on_symmetric_data() {
        let (mu, s) = huber(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!((mu - 3.0).abs() < 1e-9);
        assert!((s - 1.4826).abs() < 1e-9);
        // One wild value moves the mean by ~200 but the Huber location by < 1.
        let (mu, _) = huber(&[10.0, 11.0, 9.0, 10.5, 9.5, 10.0, 1000.0]);
        assert!((mu - 10.0).abs() < 1.0, "{mu}");
    }

    #[test]
    fn normexp_signal_is_monotone_positive_and_tends_to_x_minus_mu() {
        let (mu, sigma, alpha) = (300.0, 60.0, 2000.0);
        let mut last = 0.0;
        for x in (0..20_000).step_by(50) {
            let s = normexp_signal(f64::from(x), mu, sigma, alpha, 15.0);
            assert!(s > 15.0 && s.is_finite(), "{x}: {s}");
            assert!(s >= last, "{x}");
            last = s;
        }
        // Far above background: x − μ − σ²/α (+ offset), within 1e-6.
        let s = normexp_signal(10_000.0, mu, sigma, alpha, 15.0);
        assert!((s - (10_000.0 - mu - sigma * sigma / alpha + 15.0)).abs() < 1e-6);
        // Far below background: a small positive signal, no NaN (the asymptotic branch).
        let s = normexp_signal(-5_000.0, mu, sigma, alpha, 0.0);
        assert!(s > 0.0 && s < 10.0, "{s}");
        // The two branches of the Mills ratio meet at z = -7.
        assert!((mills(-7.0 + 1e-9) - mills(-7.0 - 1e-9)).abs() < 1e-4 * mills(-7.0));
    }

    #[test]
    fn platform_from_address_count() {
        assert_eq!(Platform::from_address_count(55_300), Some(Platform::Hm27));
        assert_eq!(Platform::from_address_count(622_399), Some(Platform::Hm450));
        assert_eq!(
            Platform::from_address_count(1_051_815),
            Some(Platform::Epic)
        );
        assert_eq!(
            Platform::from_address_count(1_052_641),
            Some(Platform::Epic)
        );
        assert_eq!(
            Platform::from_address_count(1_105_209),
            Some(Platform::EpicV2)
        );
        assert_eq!(Platform::from_address_count(300_000), None);
    }

    #[test]
    fn bundled_manifests_have_the_documented_probe_counts() {
        let m = manifest::bundled(Platform::Hm27).unwrap().unwrap();
        // 27,722 rows − 144 controls − cg20249919 (colour "2").
        assert_eq!(m.probes.len(), 27_577);
        assert_eq!(m.controls.len(), 144);
        assert!(m.probes.iter().all(|p| matches!(p.design, Design::I(_))));
        assert_eq!(m.probes.iter().filter(|p| p.chrom == Chrom::Y).count(), 7);
        let m = manifest::bundled(Platform::Hm450).unwrap().unwrap();
        assert_eq!(m.probes.len(), 485_577);
        let t2 = m.probes.iter().filter(|p| p.design == Design::II).count();
        let red = m
            .probes
            .iter()
            .filter(|p| p.design == Design::I(Channel::Red))
            .count();
        assert_eq!((t2, red), (350_076, 89_203));
        assert_eq!(m.probes.iter().filter(|p| p.chrom == Chrom::Y).count(), 416);
        assert!(manifest::bundled(Platform::Epic).is_none());
    }

    #[test]
    fn manifest_formats_and_their_errors() {
        // SYNTHETIC manifests.
        let csv = "[Heading]\nName,x\n[Assay]\nIlmnID,Name,AddressA_ID,AddressB_ID,Infinium_Design_Type,Color_Channel,CHR\n\
                   cg1_TC21,cg1,100,,II,,X\n\"cg2_BC11\",cg2,200,201,I,Grn,\"1\"\n[Controls]\n300,NORM_A,Red,Norm A 1\n";
        let m = parse_illumina("m.csv", csv).unwrap();
        assert_eq!(m.probes.len(), 2);
        assert_eq!(m.probes[0].id, "cg1_TC21");
        assert_eq!(m.probes[0].design, Design::II);
        assert_eq!(m.probes[0].chrom, Chrom::X);
        assert_eq!(
            (m.probes[1].addr_u, m.probes[1].addr_m, m.probes[1].design),
            (200, 201, Design::I(Channel::Grn))
        );
        assert_eq!(m.controls[0].kind, "NORM_A");
        let tsv = "Probe_ID\taddress_A\taddress_B\tchannel\tCpG_chrm\ncg1\t100\tNA\tBoth\tchrY\ncg2\t200\t201\tRed\tchr2\n";
        let m = parse_sesame("m.tsv", tsv).unwrap();
        assert_eq!(m.probes[0].design, Design::II);
        assert_eq!(m.probes[0].chrom, Chrom::Y);
        assert_eq!(m.probes[1].design, Design::I(Channel::Red));
        assert_eq!((m.probes[1].addr_u, m.probes[1].addr_m), (200, 201));
        let e = parse_illumina(
            "m.csv",
            "IlmnID,Name,AddressA_ID,AddressB_ID,Infinium_Design_Type,Color_Channel\ncg1,cg1,x1,,II,\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "m.csv: row 2: column AddressA_ID: not a bead address: 'x1'"
        );
        let e = parse_sesame("m.tsv", "Probe_ID\tM\tU\tcol\ncg1\t1\t2\tQ\n").unwrap_err();
        assert!(
            e.to_string().contains("row 2") && e.to_string().contains("'Q'"),
            "{e}"
        );
        let e = parse_illumina("m.csv", "Name,AddressA_ID\n").unwrap_err();
        assert!(e.to_string().contains("no AddressB_ID column"), "{e}");
    }
}
