//! A batch of IDAT pairs: find the pairs, choose the manifest, preprocess every sample in
//! parallel (rayon, one sample per task), and keep going past a bad sample.
//!
//! **Mixed platforms are refused per sample, not split**: the batch's platform is `--platform`,
//! or the user manifest's, or else the platform of the first sample (in name order) whose IDAT
//! pair can be read; a sample whose address count says another platform is listed as a failure
//! ("run it as a separate batch"), so one output table never mixes probe sets.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{
    manifest::{self, Manifest, Platform},
    preprocess_indexed, PreprocessOptions, ProbeIndex, SampleResult, SexMethod,
};
use crate::{idat, methylation::InputError};

/// One sample's pair of files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleFiles {
    /// `<barcode>_<position>` (the file name before `_Grn.idat`).
    pub name: String,
    /// Green channel.
    pub grn: PathBuf,
    /// Red channel.
    pub red: PathBuf,
}

/// A sample (or input) that could not be processed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Sample name (or the input as given when no sample could be named).
    pub sample: String,
    /// The file the problem is in.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

/// Batch options.
#[derive(Clone, Debug, Default)]
pub struct BatchOptions {
    /// User manifest (Illumina CSV or sesame TSV).
    pub manifest: Option<String>,
    /// Platform (`None` = detect from the IDAT address count).
    pub platform: Option<Platform>,
    /// Preprocessing.
    pub preprocess: PreprocessOptions,
    /// Where installed manifests live (`None`: [`super::install::data_dir`]'s default).
    pub data_dir: Option<std::path::PathBuf>,
}

/// A processed batch.
#[derive(Debug)]
pub struct Batch {
    /// Platform, when known.
    pub platform: Option<Platform>,
    /// The manifest used.
    pub manifest: std::sync::Arc<Manifest>,
    /// Samples processed, in name order.
    pub samples: Vec<SampleFiles>,
    /// One result per sample.
    pub results: Vec<SampleResult>,
    /// Samples and inputs that failed.
    pub failures: Vec<Failure>,
}

fn channel_of(name: &str) -> Option<(&str, bool)> {
    for (suffix, green) in [
        ("_Grn.idat", true),
        ("_Red.idat", false),
        ("_Grn.idat.gz", true),
        ("_Red.idat.gz", false),
    ] {
        if let Some(stem) = name.strip_suffix(suffix) {
            return Some((stem, green));
        }
    }
    None
}

fn existing(prefix: &str, channel: &str) -> Option<PathBuf> {
    [
        format!("{prefix}_{channel}.idat"),
        format!("{prefix}_{channel}.idat.gz"),
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// Whether `path` names IDAT input: a directory holding `*_Grn.idat`/`*_Red.idat` (optionally
/// `.gz`), a `<barcode>_<position>` prefix of such files, or one of the files.
pub fn is_idat_input(path: &str) -> bool {
    let p = Path::new(path);
    if p.is_dir() {
        return std::fs::read_dir(p).is_ok_and(|rd| {
            rd.flatten()
                .any(|e| channel_of(&e.file_name().to_string_lossy()).is_some())
        });
    }
    if p.is_file() {
        return channel_of(&p.file_name().unwrap_or_default().to_string_lossy()).is_some();
    }
    existing(path, "Grn").is_some() || existing(path, "Red").is_some()
}

/// Finds the IDAT pairs named by `inputs` (directories, prefixes or single files); a file
/// without its other channel and an input that names no IDAT are failures.
pub fn discover(inputs: &[String]) -> (Vec<SampleFiles>, Vec<Failure>) {
    use std::collections::BTreeMap;
    let mut halves: BTreeMap<String, (Option<PathBuf>, Option<PathBuf>)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut add = |name: &str, green: bool, file: PathBuf| {
        let e = halves.entry(name.to_string()).or_default();
        let slot = if green { &mut e.0 } else { &mut e.1 };
        if slot.is_none() {
            *slot = Some(file);
        }
    };
    let mut dup_check: BTreeMap<String, PathBuf> = BTreeMap::new();
    for input in inputs {
        let p = Path::new(input);
        let mut found = 0;
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
                Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
                Err(e) => {
                    failures.push(Failure {
                        sample: input.clone(),
                        file: input.clone(),
                        message: format!("cannot list directory: {e}"),
                    });
                    continue;
                }
            };
            entries.sort();
            for f in entries {
                let fname = f
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                if let Some((stem, green)) = channel_of(&fname) {
                    let dir_key = f.parent().unwrap_or(Path::new("")).to_path_buf();
                    if let Some(prev) = dup_check.get(stem) {
                        if *prev != dir_key {
                            failures.push(Failure {
                                sample: stem.to_string(),
                                file: f.display().to_string(),
                                message: format!(
                                    "sample {stem} is also in {}: sample names must be unique in a batch",
                                    prev.display()
                                ),
                            });
                            continue;
                        }
                    }
                    dup_check.insert(stem.to_string(), dir_key);
                    add(stem, green, f.clone());
                    found += 1;
                }
            }
        } else {
            let fname = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let prefix = match channel_of(&fname) {
                Some((stem, _)) if p.is_file() => p.with_file_name(stem).display().to_string(),
                _ => input.clone(),
            };
            let stem = Path::new(&prefix)
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            for (channel, green) in [("Grn", true), ("Red", false)] {
                if let Some(f) = existing(&prefix, channel) {
                    add(&stem, green, f);
                    found += 1;
                }
            }
        }
        if found == 0 {
            failures.push(Failure {
                sample: input.clone(),
                file: input.clone(),
                message: "names no IDAT: expected a directory with <barcode>_<position>_Grn.idat/_Red.idat files, or a <barcode>_<position> prefix of such a pair".into(),
            });
        }
    }
    let mut samples = Vec::new();
    for (name, (g, r)) in halves {
        match (g, r) {
            (Some(grn), Some(red)) => samples.push(SampleFiles { name, grn, red }),
            (Some(f), None) | (None, Some(f)) => {
                let (have, miss) = if f.to_string_lossy().contains("_Grn.idat") {
                    ("Grn", "Red")
                } else {
                    ("Red", "Grn")
                };
                failures.push(Failure {
                    sample: name.clone(),
                    file: f.display().to_string(),
                    message: format!(
                        "a lone {have} IDAT: {name}_{miss}.idat is missing beside it (both channels are needed)"
                    ),
                })
            }
            (None, None) => {}
        }
    }
    (samples, failures)
}

fn read_pair(s: &SampleFiles) -> Result<(idat::Idat, idat::Idat), Failure> {
    let fail = |file: &Path, e: idat::IdatError| Failure {
        sample: s.name.clone(),
        file: file.display().to_string(),
        message: e.to_string(),
    };
    let g = idat::read(&s.grn).map_err(|e| fail(&s.grn, e))?;
    let r = idat::read(&s.red).map_err(|e| fail(&s.red, e))?;
    if g.ids.len() != r.ids.len() {
        return Err(Failure {
            sample: s.name.clone(),
            file: s.red.display().to_string(),
            message: format!(
                "{} addresses, but {} has {}: the two channels are not from one array",
                r.ids.len(),
                s.grn.display(),
                g.ids.len()
            ),
        });
    }
    Ok((g, r))
}

/// The manifest of platform `p`: bundled, or installed in `data_dir`; `n_addresses` (when
/// known) goes into the instruction to install one.
fn manifest_of(
    shown: &str,
    p: Platform,
    n_addresses: Option<usize>,
    data_dir: &std::path::Path,
) -> Result<std::sync::Arc<Manifest>, InputError> {
    if let Some(m) = manifest::bundled(p) {
        return Ok(std::sync::Arc::new(m?.clone()));
    }
    if let Some(m) = super::install::installed(data_dir, p)? {
        return Ok(std::sync::Arc::new(m));
    }
    let seen = n_addresses.map_or_else(String::new, |n| format!(" ({n} addresses)"));
    Err(InputError::file(
        shown,
        format!(
            "{} IDAT{seen}: no {} manifest installed in {}: download it once from {} and run `agemark reference install FILE...` (or give --manifest)",
            p.name(),
            p.name(),
            data_dir.join("manifests").display(),
            super::install::WHERE_PUBLISHED
        ),
    ))
}

/// Recognises an IDAT's array from its address set: the address count names a candidate
/// (HM27, 450K, EPIC, EPICv2), and a manifest is used only when at least
/// [`manifest::MIN_ADDRESS_SHARE`] of its bead addresses are in the IDAT; an unknown count is
/// tried against the bundled MSA and the installed manifests.
fn recognise(
    shown: &str,
    ids: &[u32],
    data_dir: &std::path::Path,
) -> Result<(Platform, std::sync::Arc<Manifest>), InputError> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    let share_ok =
        |m: &Manifest| manifest::address_share(m, &sorted) >= manifest::MIN_ADDRESS_SHARE;
    if let Some(p) = Platform::from_address_count(ids.len()) {
        let m = manifest_of(shown, p, Some(ids.len()), data_dir)?;
        if !share_ok(&m) {
            return Err(InputError::file(
                shown,
                format!(
                    "{} addresses suggest {}, but only {:.1}% of the {} manifest's bead addresses are in it: give --manifest",
                    ids.len(),
                    p.name(),
                    100.0 * manifest::address_share(&m, &sorted),
                    m.source
                ),
            ));
        }
        return Ok((p, m));
    }
    let mut best: Option<(f64, Platform, std::sync::Arc<Manifest>)> = None;
    let mut candidates: Vec<(Platform, std::sync::Arc<Manifest>)> = Vec::new();
    if let Some(m) = manifest::bundled(Platform::Msa) {
        candidates.push((Platform::Msa, std::sync::Arc::new(m?.clone())));
    }
    for p in [Platform::Epic, Platform::EpicV2] {
        if let Some(m) = super::install::installed(data_dir, p)? {
            candidates.push((p, std::sync::Arc::new(m)));
        }
    }
    for (p, m) in candidates {
        let share = manifest::address_share(&m, &sorted);
        if share >= manifest::MIN_ADDRESS_SHARE && best.as_ref().is_none_or(|b| share > b.0) {
            best = Some((share, p, m));
        }
    }
    match best {
        Some((_, p, m)) => Ok((p, m)),
        None => Err(InputError::file(
            shown,
            format!(
                "{} addresses: not an array agemark recognises (HM27, 450K, MSA bundled; EPIC and EPICv2 once installed with `agemark reference install`, none of whose manifests has {:.0}% of its addresses in this IDAT): give --manifest (and --platform)",
                ids.len(),
                100.0 * manifest::MIN_ADDRESS_SHARE
            ),
        )),
    }
}

/// Runs the batch. A whole-batch problem (an unreadable manifest, no bundled manifest for the
/// platform, no sample at all) is an error; a problem with one sample is a [`Failure`].
pub fn run_batch(inputs: &[String], opts: &BatchOptions) -> Result<Batch, InputError> {
    let shown = inputs.join(" ");
    let (samples, mut failures) = discover(inputs);
    if samples.is_empty() {
        let why: Vec<String> = failures
            .iter()
            .map(|f| format!("{}: {}", f.file, f.message))
            .collect();
        return Err(InputError::file(
            &shown,
            format!("no IDAT pair found ({})", why.join("; ")),
        ));
    }
    let user = match &opts.manifest {
        Some(p) => {
            let mut m = manifest::read_manifest(p)?;
            m.platform = opts.platform;
            Some(std::sync::Arc::new(m))
        }
        None => None,
    };
    // The batch platform: given, else from the first readable sample.
    let mut platform = opts.platform;
    // Why the IDATs could not be read, for the error when none could (first one only).
    let mut first_unreadable: Option<String> = None;
    // The batch's manifest: the user's, else the platform's (given, or recognised from the
    // first readable IDAT's address set): bundled (HM27, 450K, MSA) or installed (EPIC,
    // EPICv2).
    let data_dir = super::install::data_dir(opts.data_dir.as_deref());
    let mut detected: Option<std::sync::Arc<Manifest>> = None;
    if platform.is_none() && user.is_none() {
        for s in &samples {
            let read = idat::read(&s.grn);
            if let Err(e) = &read {
                first_unreadable.get_or_insert_with(|| format!("{}: {e}", s.grn.display()));
            }
            if let Ok(g) = read {
                let (p, m) = recognise(&s.grn.display().to_string(), &g.ids, &data_dir)?;
                platform = Some(p);
                detected = Some(m);
                break;
            }
        }
    }
    let manifest = match (user, detected) {
        (Some(m), _) => m,
        (None, Some(m)) => m,
        (None, None) => {
            let Some(p) = platform else {
                let why = match &first_unreadable {
                    Some(e) => format!(
                        "no readable IDAT to detect the platform from (none of the {} could be read; the first: {e})",
                        samples.len()
                    ),
                    None => "no readable IDAT to detect the platform from".to_string(),
                };
                return Err(InputError::file(&shown, why));
            };
            manifest_of(&shown, p, None, &data_dir)?
        }
    };
    let index: std::sync::OnceLock<ProbeIndex> = std::sync::OnceLock::new();
    let outcomes: Vec<Result<SampleResult, Failure>> = samples
        .par_iter()
        .map(|s| {
            let (g, r) = read_pair(s)?;
            let seen = Platform::from_address_count(g.ids.len());
            if let (Some(b), Some(x)) = (platform, seen) {
                if b != x {
                    return Err(Failure {
                        sample: s.name.clone(),
                        file: s.grn.display().to_string(),
                        message: format!(
                            "a {} IDAT ({} addresses) in a {} batch: mixed platforms are refused; run it as a separate batch",
                            x.name(),
                            g.ids.len(),
                            b.name()
                        ),
                    });
                }
            }
            let idx = index.get_or_init(|| ProbeIndex::new(&manifest, &g.ids));
            preprocess_indexed(&g, &r, &manifest, &opts.preprocess, Some(idx)).map_err(|e| Failure {
                sample: s.name.clone(),
                file: s.grn.display().to_string(),
                message: e.0,
            })
        })
        .collect();
    let mut kept = Vec::new();
    let mut results = Vec::new();
    for (s, o) in samples.into_iter().zip(outcomes) {
        match o {
            Ok(r) => {
                kept.push(s);
                results.push(r);
            }
            Err(f) => failures.push(f),
        }
    }
    Ok(Batch {
        platform: platform.or(manifest.platform),
        manifest,
        samples: kept,
        results,
        failures,
    })
}

/// A QC row whose measure the manifest cannot give: an empty value with `warn` (not `fail`: the
/// sample is fine) and why, instead of the generic "not a finite number" failure of `row`.
fn not_available(mut row: crate::tidy::Row, why: &str) -> crate::tidy::Row {
    row.qc_note.clear();
    row.qc_status = crate::core::QcStatus::Warn;
    row.add_note(&format!("not available: {why}"));
    row
}

/// The tidy QC rows of a batch (assay `methylation_array`): per sample, median raw M and U,
/// fraction of failed probes, probes absent from the IDAT, dye bias, bisulfite conversion and
/// inferred sex.
pub fn qc_rows(batch: &Batch, opts: &PreprocessOptions) -> Vec<crate::tidy::Row> {
    use crate::{core::Provenance, tidy::Row};
    let method = opts.describe();
    let build = match batch.platform {
        Some(Platform::Hm27) => "hg38",
        Some(Platform::Hm450) => "hg19",
        _ => "unknown",
    };
    let mut rows = Vec::new();
    for (s, r) in batch.samples.iter().zip(&batch.results) {
        let q = &r.qc;
        let prov = Provenance {
            sample_id: s.name.clone(),
            input: format!(
                "{}+{}",
                crate::core::file_name_of(&s.grn.display().to_string()),
                crate::core::file_name_of(&s.red.display().to_string())
            ),
            reference_build: build.to_string(),
        };
        let a = "methylation_array";
        let n_present = (q.n_probes - q.n_absent) as u64;
        let platform = batch.platform.map_or("unknown", Platform::name);
        let mut row = Row::new(
            &prov,
            a,
            "median_methylated_intensity",
            q.median_m,
            "intensity",
            "raw_in_band",
        )
        .with_n(n_present);
        row.add_note(&format!(
            "platform {platform}; manifest {}",
            batch.manifest.source
        ));
        rows.push(row);
        rows.push(
            Row::new(
                &prov,
                a,
                "median_unmethylated_intensity",
                q.median_u,
                "intensity",
                "raw_in_band",
            )
            .with_n(n_present),
        );
        let frac = q.n_failed as f64 / n_present.max(1) as f64;
        let mut row = Row::new(
            &prov,
            a,
            "fraction_failed_probes",
            frac,
            "fraction",
            &method,
        )
        .with_n(n_present);
        row.add_note(&format!(
            "{} of {} probes with pOOBAH p > {} masked to NA",
            q.n_failed, n_present, opts.pval_threshold
        ));
        if frac > 0.1 {
            row.warn("more than 10% of probes failed detection");
        }
        rows.push(row);
        let mut row = Row::new(
            &prov,
            a,
            "probes_absent_from_idat",
            q.n_absent as f64,
            "probes",
            "manifest_vs_idat",
        )
        .with_n(q.n_probes as u64);
        if q.n_absent > 0 {
            row.warn("probes of the manifest whose bead address is not in the IDAT are NA");
        }
        rows.push(row);
        let mut row = Row::new(
            &prov,
            a,
            "dye_bias_log2_red_green",
            q.dye_bias_log2,
            "log2_ratio",
            if q.dye_from_controls {
                "norm_controls_raw"
            } else {
                "type1_in_band_median_raw"
            },
        );
        if !q.dye_from_controls {
            row.add_note("from type-I in-band signal (the manifest has no normalisation controls)");
        }
        if q.dye_bias_log2.abs() > 1.0 {
            row.warn("red and green differ more than 2-fold before correction");
        }
        rows.push(row);
        match q.bisulfite_conversion {
            Some(v) => {
                let mut row = Row::new(
                    &prov,
                    a,
                    "bisulfite_conversion",
                    v,
                    "fraction",
                    "bs_conversion_I_controls_C_over_C_plus_U",
                );
                if v < 0.8 {
                    row.warn("bisulfite conversion controls suggest incomplete conversion");
                }
                rows.push(row);
            }
            None => {
                rows.push(not_available(
                    Row::new(
                        &prov,
                        a,
                        "bisulfite_conversion",
                        f64::NAN,
                        "fraction",
                        "bs_conversion_I_controls_C_over_C_plus_U",
                    ),
                    "the manifest has no BISULFITE CONVERSION I control probes (bundled manifests lost them; give an Illumina CSV manifest with its [Controls] section)",
                ));
            }
        }
        match q.sex {
            Some(sx) => {
                let (stat_name, other) = match sx.method {
                    SexMethod::YIntensity => ("sex_chrY_minus_chrX_log2", "chrY"),
                    SexMethod::XMethylation => ("sex_chrX_minus_autosome_beta", "autosomal"),
                };
                let mut row = Row::new(
                    &prov,
                    a,
                    "inferred_sex_male",
                    if sx.male { 1.0 } else { 0.0 },
                    "indicator",
                    sx.method.describe(),
                )
                .with_n((sx.n_x + sx.n_other) as u64);
                row.add_note(&format!(
                    "{}; {stat_name} = {:.3} over {} chrX and {} {other} probes",
                    if sx.male { "male" } else { "female" },
                    sx.statistic,
                    sx.n_x,
                    sx.n_other
                ));
                if sx.method == SexMethod::XMethylation {
                    row.warn("called from X-inactivation methylation (too few chrY probes); loss of X inactivation (some tumours) reads as male");
                }
                rows.push(row);
                rows.push(
                    Row::new(
                        &prov,
                        a,
                        stat_name,
                        sx.statistic,
                        if sx.method == SexMethod::YIntensity {
                            "log2_ratio"
                        } else {
                            "beta_difference"
                        },
                        sx.method.describe(),
                    )
                    .with_n((sx.n_x + sx.n_other) as u64),
                );
            }
            None => {
                rows.push(not_available(
                    Row::new(
                        &prov,
                        a,
                        "inferred_sex_male",
                        f64::NAN,
                        "indicator",
                        "minfi_getSex(median_log2_cn_Y_minus_X>-2)",
                    ),
                    "the manifest places too few probes on chrX/chrY",
                ));
            }
        }
    }
    rows
}
