//! The resume manifest of a cohort run: `run_manifest.tsv` in the output directory.
//!
//! One line per job (`<sample>:reads`, `methylation:clocks`, …): the job, a fingerprint, its
//! status (`ok` or `fail`) and the output files it wrote (relative to the output directory).
//! The fingerprint is the SHA-256 of the agemark version, the job's parameters and the SHA-256
//! of the full content of every input file. A re-run skips a job whose fingerprint is unchanged,
//! whose status was `ok` and whose outputs all still have the sha256 recorded when they were
//! written (last column). Each job is also recorded as it finishes (`.agemark-jobs/`, one
//! fsynced file per job), so a killed run resumes from the jobs it finished.

use std::{
    collections::BTreeMap,
    io::{self, Read},
    path::Path,
};

use sha2::{Digest, Sha256};

use crate::tidy::{write_atomic, WriteError};

/// Name of the manifest file.
pub const MANIFEST: &str = "run_manifest.tsv";

/// One job's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Fingerprint of inputs and parameters.
    pub fingerprint: String,
    /// `ok` or `fail`.
    pub status: String,
    /// Outputs, relative to the output directory.
    pub outputs: Vec<String>,
    /// sha256 of each output when the job finished (same order as `outputs`); a job is skipped
    /// only while every output still has its sum.
    pub sums: Vec<String>,
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file's content (streamed).
pub fn file_sha256(path: &Path) -> io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Fingerprint of a job: version, parameters, input checksums (unreadable inputs give a
/// fingerprint that never matches, so the job runs and reports the error).
pub fn fingerprint(params: &str, inputs: &[&str]) -> String {
    let sums: Vec<String> = inputs.iter().map(|p| input_sum(p)).collect();
    fingerprint_of_sums(params, &sums)
}

/// The checksum [`fingerprint`] takes of one input file (`unreadable` when it cannot be read).
pub fn input_sum(path: &str) -> String {
    file_sha256(Path::new(path)).unwrap_or_else(|_| "unreadable".to_string())
}

/// [`fingerprint`] from the inputs' [`input_sum`]s, for jobs that share inputs (each file is
/// then read once for all their fingerprints).
pub fn fingerprint_of_sums(params: &str, sums: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(crate::core::AGEMARK_VERSION.as_bytes());
    h.update([0]);
    h.update(params.as_bytes());
    for s in sums {
        h.update([0]);
        h.update(s.as_bytes());
    }
    hex(&h.finalize())
}

/// Reads the manifest of an output directory (empty when absent or unreadable).
pub fn load(dir: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST)) {
        for line in text.lines().skip(1) {
            if let Some((job, e)) = parse_line(line) {
                out.insert(job, e);
            }
        }
    }
    // Jobs recorded as they finished by a run that did not reach its end (killed): newer than
    // the manifest, so they win.
    if let Ok(rd) = std::fs::read_dir(dir.join(JOBS_DIR)) {
        let mut files: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        for f in files {
            if f.extension().is_some_and(|x| x == "tsv") {
                if let Ok(text) = std::fs::read_to_string(&f) {
                    if let Some((job, e)) = text.lines().next().and_then(parse_line) {
                        out.insert(job, e);
                    }
                }
            }
        }
    }
    out
}

/// One manifest line: job, fingerprint, status, outputs, their sha256 sums.
fn parse_line(line: &str) -> Option<(String, Entry)> {
    let c: Vec<&str> = line.split('\t').collect();
    if c.len() != 4 && c.len() != 5 {
        return None;
    }
    let list = |t: &str| -> Vec<String> {
        t.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    Some((
        c[0].to_string(),
        Entry {
            fingerprint: c[1].to_string(),
            status: c[2].to_string(),
            outputs: list(c[3]),
            sums: c.get(4).map(|t| list(t)).unwrap_or_default(),
        },
    ))
}

/// The line of one entry (without the newline).
fn format_line(job: &str, e: &Entry) -> String {
    format!(
        "{job}\t{}\t{}\t{}\t{}",
        e.fingerprint,
        e.status,
        e.outputs.join(","),
        e.sums.join(",")
    )
}

/// Where a run records each job as it finishes (one small file per job, written atomically),
/// so that a killed run resumes from its finished jobs; removed when the manifest is saved.
pub const JOBS_DIR: &str = ".agemark-jobs";

/// Records one finished job durably (`OUTDIR/.agemark-jobs/<n>.tsv`, fsynced).
pub fn record_job(dir: &Path, job: &str, e: &Entry) -> Result<(), WriteError> {
    let jobs = dir.join(JOBS_DIR);
    std::fs::create_dir_all(&jobs).map_err(|source| WriteError {
        path: jobs.clone(),
        source,
    })?;
    let name: String = hex(&Sha256::digest(job.as_bytes()))[..16].to_string();
    let line = format_line(job, e);
    write_atomic(&jobs.join(format!("{name}.tsv")), |w| {
        use std::io::Write;
        writeln!(w, "{line}")
    })
}

/// The sha256 of each output (relative to `dir`); `unreadable` for one that cannot be read.
pub fn output_sums(dir: &Path, outputs: &[String]) -> Vec<String> {
    outputs
        .iter()
        .map(|o| file_sha256(&dir.join(o)).unwrap_or_else(|_| "unreadable".to_string()))
        .collect()
}

/// Whether a job can be skipped: same fingerprint, finished `ok`, and every output still
/// hashes to the sum recorded when it was written (a truncated or edited output re-runs it).
pub fn unchanged(dir: &Path, old: Option<&Entry>, fingerprint: &str) -> bool {
    match old {
        Some(e) => {
            e.fingerprint == fingerprint
                && e.status == "ok"
                && e.sums.len() == e.outputs.len()
                && output_sums(dir, &e.outputs) == e.sums
        }
        None => false,
    }
}

/// Writes the manifest atomically (jobs sorted).
pub fn save(dir: &Path, entries: &BTreeMap<String, Entry>) -> Result<(), WriteError> {
    write_atomic(&dir.join(MANIFEST), |w| {
        use std::io::Write;
        writeln!(w, "job\tfingerprint\tstatus\toutputs\tsha256")?;
        for (job, e) in entries {
            writeln!(w, "{}", format_line(job, e))?;
        }
        Ok(())
    })?;
    // Every job is in the manifest now: the per-job records are no longer needed.
    let _ = std::fs::remove_dir_all(dir.join(JOBS_DIR));
    Ok(())
}
