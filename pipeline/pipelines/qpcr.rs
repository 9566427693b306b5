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
    let mut reactions = Vec::new();
    for p in &cfg.plates {
        reactions.extend(parse::read_plate(p)?);
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
    Ok(reactions)
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
    let reactions = load(cfg)?;
    let run = qpcr::compute(&reactions, &cfg.options);
    if run.rows.is_empty() {
        tracing::warn!(
            "no unknown well has a target with a role (only standards or NTCs?): {}.qpcr.tsv has no sample rows; the plate QC is in {}.qpcr_plates.tsv",
            output.display(),
            output.display()
        );
    }
    write(output, &run)
}
