//! `agemark qpcr`: plates → `PREFIX.qpcr.tsv`/`.parquet` (T/S, MT/S, absolute length and mean
//! Cq per sample), `PREFIX.qpcr_plates.tsv`/`.parquet` (each plate's standard curves, NTC
//! checks and inter-run factors; the calibrators' inter-plate CVs; the ICCs) and
//! `PREFIX.qpcr_wells.tsv` (every reaction and what became of it).

use std::path::{Path, PathBuf};

use crate::{
    core::error::Error,
    methylation::InputError,
    qpcr::{self, config::QpcrConfig, parse, QpcrRun, Reaction, Role},
    tidy,
};

/// The wells table's suffix: `<prefix>.qpcr_wells.tsv`.
pub const WELLS_SUFFIX: &str = "qpcr_wells";

/// Reads and checks the plates of `cfg` (roles, sample names, calibrators).
pub fn load(cfg: &QpcrConfig) -> Result<Vec<Reaction>, Error> {
    let opts = &cfg.options;
    if opts.roles.is_empty() {
        return Err(Error::usage(
            "give each target a role: --role NAME=telomere|single_copy|mtdna (NAME: a target, or the fluorophore when the export names no target)",
        ));
    }
    if !opts.roles.values().any(|r| *r == Role::SingleCopy) {
        return Err(Error::usage(
            "no --role NAME=single_copy: T/S and MT/S are ratios to a single-copy gene",
        ));
    }
    if cfg.plates.is_empty() {
        return Err(Error::usage(
            "no plate: give plate exports (or plate = … lines in --config)",
        ));
    }
    check_options(opts)?;
    // Each plate once; plates are named by their file name, or by the path as given when two
    // plates share a file name (runs exported into per-run folders).
    let mut seen = std::collections::BTreeSet::new();
    for p in &cfg.plates {
        let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        if !seen.insert(key) {
            return Err(Error::usage(format!(
                "plate {} is given twice: give each plate once (its wells would count twice)",
                p.display()
            )));
        }
    }
    let name_of = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let mut reactions = Vec::new();
    for p in &cfg.plates {
        let shared = cfg
            .plates
            .iter()
            .filter(|q| name_of(q) == name_of(p))
            .count()
            > 1;
        let name = if shared {
            p.display().to_string()
        } else {
            name_of(p)
        };
        let shown = p.display().to_string();
        let bytes =
            std::fs::read(p).map_err(|e| InputError::file(&shown, format!("cannot read: {e}")))?;
        reactions.extend(parse::parse_bytes(&shown, &name, &bytes)?);
    }
    if let Some(m) = &cfg.plate_map {
        parse::apply_plate_map(&mut reactions, &parse::read_plate_map(m)?);
    }
    if let Some(r) = reactions
        .iter()
        .find(|r| r.sample.is_empty() && r.content == qpcr::Content::Unknown)
    {
        return Err(InputError::file(
            &r.plate,
            format!(
                "well {}: an unknown without a sample name: name the samples in the export or give --plate-map",
                r.well
            ),
        )
        .into());
    }
    for name in opts.efficiency.keys() {
        if !reactions.iter().any(|r| &r.target == name) {
            return Err(Error::usage(format!(
                "efficiency {name}=…: no well has target (or fluorophore) {name}"
            )));
        }
    }
    for name in opts.roles.keys() {
        if !reactions.iter().any(|r| &r.target == name) {
            let seen: std::collections::BTreeSet<&str> =
                reactions.iter().map(|r| r.target.as_str()).collect();
            let n = seen.len();
            let mut shown: Vec<&str> = seen.into_iter().take(12).collect();
            let more = format!("… ({n} in all)");
            if n > 12 {
                shown.push(&more);
            }
            return Err(Error::usage(format!(
                "role {name}=…: no well has target (or fluorophore) {name}; the plates have {}",
                shown.join(", ")
            )));
        }
    }
    let named = |s: &str| reactions.iter().any(|r| r.sample == s);
    if let Some(cal) = &opts.calibrator {
        if !named(cal) {
            return Err(Error::usage(format!(
                "calibrator {cal}: no well of that sample"
            )));
        }
    }
    for irc in &opts.inter_run_calibrators {
        if !named(irc) {
            return Err(Error::usage(format!(
                "inter-run calibrator {irc}: no well of that sample"
            )));
        }
    }
    if !opts
        .roles
        .values()
        .any(|r| matches!(r, Role::Telomere | Role::Mtdna))
    {
        tracing::warn!(
            "no --role NAME=telomere or NAME=mtdna: no T/S or MT/S; only the plates' curves and checks and the mean Cq are written"
        );
    }
    Ok(reactions)
}

/// Refuses thresholds that cannot mean what they say.
fn check_options(o: &crate::qpcr::QpcrOptions) -> Result<(), Error> {
    let bad = |m: String| Err(Error::usage(m));
    if !(o.max_cq > 0.0 && o.max_cq <= 100.0) {
        return bad(format!(
            "max_cq {}: give a cycle number between 0 and 100",
            o.max_cq
        ));
    }
    if !(o.max_sd > 0.0 && o.max_sd < 10.0) {
        return bad(format!(
            "max_sd {}: give cycles above 0 (default 0.3)",
            o.max_sd
        ));
    }
    if !(o.min_r2 > 0.0 && o.min_r2 <= 1.0) {
        return bad(format!(
            "min_r2 {}: give a fraction between 0 and 1 (default 0.98)",
            o.min_r2
        ));
    }
    if !(o.min_efficiency > 0.0 && o.min_efficiency < o.max_efficiency && o.max_efficiency <= 2.0) {
        return bad(format!(
            "efficiency_range {}-{}: give MIN-MAX as fractions, MIN below MAX (default 0.9-1.1)",
            o.min_efficiency, o.max_efficiency
        ));
    }
    Ok(())
}

/// Writes the three tables of `run` at `output`; returns the files written.
pub fn write(output: &Path, run: &QpcrRun) -> Result<Vec<PathBuf>, Error> {
    tidy::prepare_output_dir(output)?;
    let mut written = tidy::write_tables(
        output,
        &[
            (qpcr::SUFFIX, &run.rows),
            (qpcr::PLATES_SUFFIX, &run.plate_rows),
        ],
    )?;
    let wells = PathBuf::from(format!("{}.{WELLS_SUFFIX}.tsv", output.display()));
    tidy::write_atomic(&wells, |w| qpcr::write_wells(w, &run.wells))?;
    written.push(wells);
    Ok(written)
}

/// Runs the qPCR stage: `cfg`'s plates → the tables at `output`; returns the files written.
pub fn qpcr(cfg: &QpcrConfig, output: &Path) -> Result<Vec<PathBuf>, Error> {
    if output.as_os_str() == "-" {
        return Err(Error::usage(
            "-o -: agemark qpcr writes three tables; give a prefix (e.g. -o out/plates)",
        ));
    }
    let reactions = load(cfg)?;
    let run = qpcr::compute(&reactions, &cfg.options);
    let ratios: Vec<&crate::tidy::Row> = run
        .rows
        .iter()
        .filter(|r| matches!(r.measure.as_str(), "ts_ratio" | "mt_s_ratio"))
        .collect();
    let failed: Vec<&&crate::tidy::Row> = ratios
        .iter()
        .filter(|r| r.qc_status == crate::core::QcStatus::Fail)
        .collect();
    if !failed.is_empty() {
        tracing::warn!(
            "{} of {} ratios failed (the first, {}: {})",
            failed.len(),
            ratios.len(),
            failed[0].sample_id,
            failed[0].qc_note
        );
    }
    // Plate QC on the terminal, not only in the plates table: one line per plate and problem
    // (a curve's efficiency or R², an amplified NTC, a plate without the inter-run calibrator).
    // The target is the measure's tail after its kind (`efficiency_TEL`, `ntc_amplified_TEL`).
    const KINDS: [&str; 7] = [
        "slope_",
        "intercept_",
        "efficiency_",
        "r2_",
        "ntc_amplified_",
        "irc_factor_",
        "interplate_cv_",
    ];
    let mut flagged: Vec<(&str, &str, &str)> = run
        .plate_rows
        .iter()
        .filter(|r| r.qc_status != crate::core::QcStatus::Pass && !r.qc_note.is_empty())
        .flat_map(|r| {
            let m = r.measure.as_str();
            let target = KINDS.iter().find_map(|k| m.strip_prefix(k)).unwrap_or(m);
            r.qc_note
                .split("; ")
                .map(move |n| (r.sample_id.as_str(), target, n))
        })
        .collect();
    flagged.sort_unstable();
    flagged.dedup();
    const SHOWN: usize = 10;
    for (plate, target, note) in flagged.iter().take(SHOWN) {
        tracing::warn!("{plate}: {target}: {note}");
    }
    if flagged.len() > SHOWN {
        tracing::warn!(
            "… and {} more plate QC notes: {}.qpcr_plates.tsv",
            flagged.len() - SHOWN,
            output.display()
        );
    }
    let count = |st: crate::core::QcStatus| ratios.iter().filter(|r| r.qc_status == st).count();
    let plates: std::collections::BTreeSet<&str> = run
        .wells
        .iter()
        .map(|w| w.reaction.plate.as_str())
        .collect();
    tracing::info!(
        "{} plates, {} wells: {} ratios ({} pass, {} warn, {} fail)",
        plates.len(),
        run.wells.len(),
        ratios.len(),
        count(crate::core::QcStatus::Pass),
        count(crate::core::QcStatus::Warn),
        failed.len()
    );
    if run.rows.is_empty() {
        tracing::warn!(
            "no unknown well has a target with a role (only standards or NTCs?): {}.qpcr.tsv has no sample rows; the plate QC is in {}.qpcr_plates.tsv",
            output.display(),
            output.display()
        );
    }
    write(output, &run)
}
