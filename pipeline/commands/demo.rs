//! `agemark demo`: runs `agemark::pipelines::demo` and prints what it made.

use std::io::Write;

use agemark::pipelines::demo::run_demo;

use super::AppError;
use crate::cli::DemoArgs;

/// `agemark demo`.
pub fn run(args: &DemoArgs, threads: usize) -> Result<(), AppError> {
    let d = run_demo(&args.outdir, threads)?;
    let mut so = std::io::stdout().lock();
    let w = &mut so;
    let _ = writeln!(
        w,
        "agemark demo: a mother-child birth cohort of {} samples in {:.1} s (FICTIONAL linkage)\n\n\
         REAL arrays: 5 'mothers' = adult blood 450K (GSE55763, real ages), 30 cord bloods\n\
         (PROGRESS birth cohort, clinical gestational age), 16 term placentas (planet, real GA).\n\
         SYNTHETIC (made by agemark, labelled so): whole-genome-like reads of 3 mothers and 3\n\
         newborns (telomere, mtDNA, sex), and the array values no real matrix has (cell-type\n\
         panel, NR3C1, SNP and contamination CpGs). reference/demo/cohort/README.md says which.\n",
        d.cohort_samples, d.cohort_seconds
    );
    let _ = writeln!(
        w,
        "Cohort rows by assay (pass, warn, fail; each warn and fail says why in qc_note):"
    );
    let total: [usize; 3] = d
        .assay_counts
        .iter()
        .fold([0; 3], |t, (_, c)| [t[0] + c[0], t[1] + c[1], t[2] + c[2]]);
    for (assay, c) in &d.assay_counts {
        let _ = writeln!(
            w,
            "  {assay:<24} {:>5} pass {:>5} warn {:>5} fail",
            c[0], c[1], c[2]
        );
    }
    let _ = writeln!(
        w,
        "  {:<24} {:>5} pass {:>5} warn {:>5} fail",
        "all", total[0], total[1], total[2]
    );
    let _ = writeln!(w, "\nOpen first:");
    for (f, what) in [
        ("report.html", "the cohort report, in a browser"),
        (
            "cohort.wide.tsv",
            "one row per sample, one column per measure",
        ),
        ("cohort.sample_qc.tsv", "is each sample who the sheet says?"),
    ] {
        let _ = writeln!(w, "  {}  ({what})", d.cohort_dir.join(f).display());
    }
    let _ = writeln!(
        w,
        "\nAlso in {}: cohort.long.tsv/.parquet (every row), cohort.dyads.tsv\n\
         (mother-child pairs), cohort.columns.tsv (units), failures.tsv, multiqc/.\n\
         The sheet: {}",
        d.cohort_dir.display(),
        d.sheet.display()
    );
    let _ = writeln!(
        w,
        "\nFormat checks: the bundled REAL read subsets (targeted, not whole genomes, so no\n\
         telomere lengths are shown for them) and one SYNTHETIC FASTQ, read by `agemark telomere`:"
    );
    for s in &d.samples {
        let _ = writeln!(
            w,
            "  {:<24} {:>8} reads  {}",
            s.sample,
            s.reads,
            s.table.display()
        );
    }
    drop(so);
    match d.cohort_error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
