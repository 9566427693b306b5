//! The plan of a cohort run: which stages, which jobs (one `reads` job per sample with reads,
//! one `idat` job per IDAT batch, one job per methylation stage), how IDAT samples are grouped
//! into batches, and each job's fingerprint parameters (what its outputs depend on, besides the
//! checksums of its inputs).
//!
//! IDAT batch of a sample ([`idat_batch_of`]): the sheet's `idat_batch`, else the Sentrix
//! barcode (IDAT basename up to its first `_`), else the basename.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use tracing::info;

use crate::{
    cohort::{
        pseudo::{scrub_log, IdKind, Pseudonymiser},
        samplesheet::{CohortSample, CohortSheet},
    },
    core::{error::Error, file_name_of},
    methylation::stage::METH_STAGES,
    mtdna::MtdnaOptions,
    telomere::TelomereOptions,
    tidy,
};

/// The parameters of the telomere stage that its rows depend on, for a job's fingerprint.
pub fn telomere_params(o: &TelomereOptions) -> String {
    format!(
        "k={};telseq_compat={};th_threshold={:?};th_remove_duplicates={}",
        o.k, o.telseq_compat, o.th_threshold, o.th_remove_duplicates
    )
}

/// The parameters of the mtDNA stage that its rows depend on, for a job's fingerprint.
pub fn mtdna_params(o: &MtdnaOptions) -> String {
    format!(
        "mosdepth_compat={};min_mapq={};exclude_flags={};per_read_group={}",
        o.mosdepth_compat, o.min_mapq, o.exclude_flags, o.per_read_group
    )
}

/// The read stage: telomere and mtDNA on one decode per sample.
pub const READ_STAGE: &str = "reads";

/// The IDAT batch stage: one `agemark idat` job per batch, before the methylation stages.
pub const IDAT_STAGE: &str = "idat";
/// The qPCR stage: the plates of `--qpcr CONFIG`, one job for the cohort.
pub const QPCR_STAGE: &str = "qpcr";

/// The IDAT batch of a sample with an `idat` input: the sheet's `idat_batch`, else the
/// Sentrix (slide) barcode of the IDAT basename (the part before its first `_`:
/// `4207113116` for `…/4207113116_A`), else the basename (a directory input: its own name).
/// Characters that are not filename-safe become `_`.
pub fn idat_batch_of(s: &CohortSample) -> Option<String> {
    let idat = s.idat.as_deref()?;
    if let Some(b) = &s.idat_batch {
        return Some(b.clone());
    }
    let base = file_name_of(idat.trim_end_matches('/'));
    let base = ["_Grn.idat", "_Red.idat", "_Grn.idat.gz", "_Red.idat.gz"]
        .iter()
        .find_map(|sfx| base.strip_suffix(sfx))
        .unwrap_or(&base)
        .to_string();
    let name = match base.split_once('_') {
        Some((barcode, _)) if !barcode.is_empty() => barcode.to_string(),
        _ => base,
    };
    let mut safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        safe.insert(0, '_');
    }
    Some(safe)
}

/// The IDAT batches of the selected samples: batch → sample indices (sheet order), by name.
pub fn idat_batches(samples: &[&CohortSample]) -> BTreeMap<String, Vec<usize>> {
    let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, s) in samples.iter().enumerate() {
        if let Some(b) = idat_batch_of(s) {
            out.entry(b).or_default().push(i);
        }
    }
    out
}

/// `<idat dir>/<batch>`: the output prefix of a batch's idat job (the idat dir is
/// `--idat-dir`, default `OUTDIR/idat`).
pub fn idat_prefix(idat_dir: &Path, batch: &str) -> PathBuf {
    idat_dir.join(batch)
}

/// The IDAT files of an input (for the job's fingerprint): each pair's two channels.
pub fn idat_files(input: &str) -> Vec<String> {
    let (pairs, _) = crate::methylation::array::batch::discover(&[input.to_string()]);
    if pairs.is_empty() {
        return vec![input.to_string()];
    }
    pairs
        .iter()
        .flat_map(|p| [p.grn.display().to_string(), p.red.display().to_string()])
        .collect()
}

/// The failures listed in a batch's `failures.tsv` (`sample`, `file`, `message`), by sample.
pub fn batch_failures(path: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(path) {
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.splitn(3, '\t').collect();
            if c.len() == 3 {
                out.insert(c[0].to_string(), format!("{}: {}", c[1], c[2]));
            }
        }
    }
    out
}

/// A job of the run.
pub enum Job {
    /// Reads of one sample (index into the selected samples).
    Reads(usize),
    /// One IDAT batch (index into the batches).
    Idat(usize),
    /// One methylation stage over all methylation inputs.
    Meth(usize),
}

/// `--plan FILE`: the IDAT batch plan of the sheet (`batch`, `sample_id`, `idat`: one line per
/// IDAT sample of the selected samples, by batch then sheet order; ids as written in outputs,
/// absolute IDAT paths), for workflows to declare one idat job per batch.
pub fn write_plan(
    path: &Path,
    sheet: &CohortSheet,
    wanted: Option<&[String]>,
    key: Option<&Pseudonymiser>,
) -> Result<(), Error> {
    let samples: Vec<&CohortSample> = sheet
        .samples
        .iter()
        .filter(|s| wanted.is_none_or(|w| w.contains(&s.sample_id)))
        .collect();
    let batches = idat_batches(&samples);
    tidy::write_atomic(path, |w| {
        use std::io::Write;
        writeln!(w, "batch\tsample_id\tidat")?;
        for (batch, members) in &batches {
            for &i in members {
                let s = samples[i];
                let id = match key {
                    Some(k) => k.pseudonym(IdKind::Sample, &s.sample_id),
                    None => s.sample_id.clone(),
                };
                let idat = s.idat.as_deref().unwrap_or_default();
                let abs = std::path::absolute(idat).unwrap_or_else(|_| PathBuf::from(idat));
                writeln!(w, "{batch}\t{id}\t{}", abs.display())?;
            }
        }
        Ok(())
    })?;
    info!(
        "wrote {} ({} IDAT batches)",
        scrub_log(&path.display().to_string()),
        batches.len()
    );
    Ok(())
}

/// `--stages`: the stage names, `all` expanded, sorted and deduplicated.
pub fn parse_stages(s: &str) -> Result<Vec<String>, Error> {
    let mut known: Vec<&str> = vec![READ_STAGE, IDAT_STAGE, QPCR_STAGE];
    known.extend(METH_STAGES.iter().copied());
    let mut out = Vec::new();
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name == "all" {
            out.extend(known.iter().map(|k| k.to_string()));
        } else if known.contains(&name) {
            out.push(name.to_string());
        } else {
            return Err(Error::usage(format!(
                "--stages: unknown stage '{name}' (stages: {})",
                known.join(", ")
            )));
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(Error::usage(format!(
            "--stages '{s}': no stage given (stages: all, {})",
            known.join(", ")
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_idat(idat: &str, batch: Option<&str>) -> CohortSample {
        CohortSample {
            idat: Some(idat.to_string()),
            idat_batch: batch.map(str::to_string),
            ..CohortSample::default()
        }
    }

    #[test]
    fn idat_batch_is_the_column_else_the_barcode_else_the_basename() {
        let b = |idat: &str, batch: Option<&str>| idat_batch_of(&with_idat(idat, batch));
        assert_eq!(b("/x/4207113116_A", None).as_deref(), Some("4207113116"));
        assert_eq!(
            b("/x/203530410002_R01C01_Grn.idat.gz", None).as_deref(),
            Some("203530410002")
        );
        assert_eq!(
            b("/x/4207113116_A", Some("plate-1")).as_deref(),
            Some("plate-1")
        );
        // A directory (or a name without `_`): its own name; unsafe characters become `_`.
        assert_eq!(b("/x/run 7/", None).as_deref(), Some("run_7"));
        assert_eq!(b("/x/_odd", None).as_deref(), Some("_odd"));
        assert_eq!(b("/x/.hidden_A", None).as_deref(), Some("_.hidden"));
        assert_eq!(idat_batch_of(&CohortSample::default()), None);
    }
}
