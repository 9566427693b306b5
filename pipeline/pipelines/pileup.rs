//! `agemark pileup`: 5mC/5hmC at the reference's CpGs from a modBAM, written as modkit-style
//! bedMethyl (`PREFIX.bedmethyl.gz`, BGZF, so `tabix -p bed` can index it). The counting rules
//! are in [`crate::modpileup`].

use std::path::{Path, PathBuf};

use tracing::info;

use crate::{
    core::{error::Error, thousands},
    modpileup::{self, PileupOptions},
    reads::InputSpec,
    tidy,
};

/// The fixed suffix of the bedMethyl output.
pub const SUFFIX: &str = "bedmethyl.gz";

/// Piles up `spec` and writes `<prefix>.bedmethyl.gz`; returns the file written.
pub fn pileup_to(
    spec: &InputSpec,
    opts: &PileupOptions,
    threads: usize,
    prefix: &str,
) -> Result<Vec<PathBuf>, Error> {
    if prefix == "-" {
        return Err(Error::usage(
            "pileup writes a BGZF file: give -o a prefix, not - (use `zcat PREFIX.bedmethyl.gz` for stdout)",
        ));
    }
    if let modpileup::Threshold::Fixed(p) = opts.threshold {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::usage(format!(
                "--mod-threshold must be a probability between 0 and 1, not {p}"
            )));
        }
    }
    tidy::check_prefix(prefix)?;
    tidy::prepare_output_dir(Path::new(prefix))?;
    let p = modpileup::pileup(spec, opts, threads)?;
    log_summary(&spec.path, &p);
    let path = PathBuf::from(format!("{prefix}.{SUFFIX}"));
    tidy::write_atomic(&path, |w| {
        let mut bgzf = noodles_bgzf::io::Writer::new(w);
        modpileup::write_bedmethyl(&p, &mut bgzf)?;
        bgzf.try_finish()
    })?;
    Ok(vec![path])
}

/// One line on stderr: reads, calls, the threshold and the sites written.
pub fn log_summary(path: &str, p: &modpileup::Pileup) {
    let s = &p.stats;
    info!(
        "{}: {} reads ({} with MM/ML), {} explicit calls (with an ML probability) at CpG C's; threshold {:.4} ({}); {} CpG strands with a valid call",
        crate::core::file_name_of(path),
        thousands(s.reads),
        thousands(s.reads_with_tags),
        thousands(s.calls),
        s.threshold,
        if s.estimated {
            "estimated: 10th percentile of the calls' confidence"
        } else {
            "--mod-threshold"
        },
        thousands(p.sites.len() as u64),
    );
}
