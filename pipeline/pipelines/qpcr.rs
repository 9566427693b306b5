//! `agemark qpcr`: plates → `PREFIX.qpcr.tsv`/`.parquet` (T/S, MT/S and mean Cq per sample) and
//! `PREFIX.qpcr_plates.tsv`/`.parquet` (each plate's standard curves and NTC checks).

use std::path::{Path, PathBuf};

use crate::{
    core::error::Error,
    qpcr::{self, parse, QpcrOptions, Role},
    tidy,
};

/// Runs the qPCR stage on `plates`; returns the files written.
pub fn qpcr(
    plates: &[PathBuf],
    plate_map: Option<&Path>,
    output: &Path,
    opts: &QpcrOptions,
) -> Result<Vec<PathBuf>, Error> {
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
    let mut reactions = Vec::new();
    for p in plates {
        reactions.extend(parse::read_plate(p)?);
    }
    if let Some(m) = plate_map {
        parse::apply_plate_map(&mut reactions, &parse::read_plate_map(m)?);
    }
    if let Some(r) = reactions
        .iter()
        .find(|r| r.sample.is_empty() && r.content == qpcr::Content::Unknown)
    {
        return Err(crate::methylation::InputError::file(
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
            return Err(Error::usage(format!(
                "--role {name}=…: no well has target (or fluorophore) {name}; the plates have {}",
                seen.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    if let Some(cal) = &opts.calibrator {
        if !reactions.iter().any(|r| &r.sample == cal) {
            return Err(Error::usage(format!(
                "--calibrator {cal}: no well of that sample"
            )));
        }
    }
    tidy::prepare_output_dir(output)?;
    let run = qpcr::compute(&reactions, opts);
    if run.rows.is_empty() {
        tracing::warn!(
            "no unknown well has a target with a role (only standards or NTCs?): {}.qpcr.tsv has no sample rows; the plate QC is in {}.qpcr_plates.tsv",
            output.display(),
            output.display()
        );
    }
    Ok(tidy::write_tables(
        output,
        &[
            (qpcr::SUFFIX, &run.rows),
            (qpcr::PLATES_SUFFIX, &run.plate_rows),
        ],
    )?)
}
