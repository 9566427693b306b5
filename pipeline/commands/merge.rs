//! `agemark merge`: tidy tables → cohort tables (the same code `agemark run` ends with).

use std::path::PathBuf;

use agemark::cohort::{
    merge::{self, read_tidy_tsv},
    pseudo::{scrub_log, Pseudonymiser},
    samplesheet::CohortSheet,
};
use agemark::tidy::{self, Row};
use tracing::{info, warn};

use super::AppError;
use crate::cli::MergeArgs;

/// Reads tidy tables: each file once (by canonical path), in sorted order; files whose header
/// is not a tidy header are skipped with a warning.
pub fn collect_rows(paths: &[PathBuf]) -> Result<Vec<Row>, AppError> {
    let mut seen = std::collections::BTreeMap::new();
    for p in paths {
        let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        seen.entry(key).or_insert_with(|| p.clone());
    }
    let mut rows = Vec::new();
    for p in seen.values() {
        match read_tidy_tsv(p).map_err(|e| AppError::Failed(scrub_log(&e)))? {
            Some(r) => rows.extend(r),
            None => warn!(
                "{}: not an agemark tidy table (header lacks the tidy columns): skipped",
                scrub_log(&p.display().to_string())
            ),
        }
    }
    Ok(rows)
}

/// Reads a sheet for merge/report (input files not checked); errors stop, warnings are not shown.
pub fn sheet_for_merge(path: &str, key: Option<&Pseudonymiser>) -> Result<CohortSheet, AppError> {
    let sheet = CohortSheet::read_with(path, false)?;
    if sheet.has_errors() {
        for p in &sheet.problems {
            eprintln!("{}", scrub_log(&p.to_string()));
        }
        return Err(AppError::Failed(format!(
            "{path}: the sample sheet has errors"
        )));
    }
    Ok(match key {
        Some(k) => sheet.pseudonymised(k),
        None => sheet,
    })
}

/// Loads the key of --pseudonymise.
pub fn load_key(path: Option<&str>) -> Result<Option<Pseudonymiser>, AppError> {
    match path {
        Some(p) => Pseudonymiser::from_key_file(p)
            .map(Some)
            .map_err(AppError::Usage),
        None => Ok(None),
    }
}

/// `agemark merge`.
pub fn run(args: &MergeArgs) -> Result<(), AppError> {
    let key = load_key(args.pseudonymise.as_deref())?;
    let sheet = match &args.samplesheet {
        Some(p) => Some(sheet_for_merge(p, key.as_ref())?),
        None => None,
    };
    tidy::prepare_output_dir(&args.output)?;
    let rows = collect_rows(&args.tables)?;
    let cohort = merge::merge(rows, sheet.as_ref());
    for p in cohort.write_all(&args.output)? {
        info!("wrote {}", scrub_log(&p.display().to_string()));
    }
    Ok(())
}
