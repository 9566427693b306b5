//! The resume manifest of a cohort run: `run_manifest.tsv` in the output directory.
//!
//! One line per job (`<sample>:reads`, `methylation:clocks`, …): the job, a fingerprint, its
//! status (`ok` or `fail`) and the output files it wrote (relative to the output directory).
//! The fingerprint is the SHA-256 of the agemark version, the job's parameters and the SHA-256
//! of the full content of every input file. A re-run skips a job whose fingerprint is unchanged,
//! whose status was `ok` and whose outputs all still exist.

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
    let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST)) else {
        return out;
    };
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() == 4 {
            out.insert(
                c[0].to_string(),
                Entry {
                    fingerprint: c[1].to_string(),
                    status: c[2].to_string(),
                    outputs: c[3]
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                },
            );
        }
    }
    out
}

/// The entry lets the job be skipped: same fingerprint, ok, outputs present.
pub fn unchanged(dir: &Path, old: Option<&Entry>, fingerprint: &str) -> bool {
    match old {
        Some(e) => {
            e.fingerprint == fingerprint
                && e.status == "ok"
                && e.outputs.iter().all(|o| dir.join(o).is_file())
        }
        None => false,
    }
}

/// Writes the manifest atomically (jobs sorted).
pub fn save(dir: &Path, entries: &BTreeMap<String, Entry>) -> Result<(), WriteError> {
    write_atomic(&dir.join(MANIFEST), |w| {
        use std::io::Write;
        writeln!(w, "job\tfingerprint\tstatus\toutputs")?;
        for (job, e) in entries {
            writeln!(
                w,
                "{job}\t{}\t{}\t{}",
                e.fingerprint,
                e.status,
                e.outputs.join(",")
            )?;
        }
        Ok(())
    })
}
