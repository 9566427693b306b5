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
    let _ = writeln!(w, "agemark demo: telomere length on bundled reads\n");
    let _ = writeln!(
        w,
        "{:<22} {:<10} {:>8} {:>14} {:>20}",
        "sample", "data", "reads", "TelSeq (kb)", "TelomereHunter TC"
    );
    for s in &d.samples {
        let _ = writeln!(
            w,
            "{:<22} {:<10} {:>8} {:>14} {:>20}",
            s.sample, s.kind, s.reads, s.telseq_kb, s.th_content
        );
    }
    let _ = writeln!(w);
    for s in &d.samples {
        let _ = writeln!(w, "  {}: {}", s.sample, s.what);
    }
    let _ = writeln!(
        w,
        "\nThe real files are small subsets selected around telomeres (or the mitochondrion), so their\n\
         estimates are not biologically meaningful; the SYNTHETIC sample shows what a whole-genome\n\
         sample looks like. TC = intratelomeric reads per million reads with 48-52% GC."
    );
    let _ = writeln!(w, "\nTables (tidy, one row per sample x measure):");
    for s in &d.samples {
        let _ = writeln!(w, "  {}", s.table.display());
    }
    let _ = writeln!(w, "  {}  (all samples)", d.all.0.display());
    let _ = writeln!(w, "  {}", d.all.1.display());
    let _ = writeln!(
        w,
        "\nagemark demo: cohort run on a mother-child sample sheet with FICTIONAL linkage\n\
         (5 'mothers' = real adult blood arrays, 10 'children' = real cord-blood arrays with clinical\n\
         GA, 3 of them with real reads, 5 real term placentas; see reference/demo/cohort/README.md)\n\
         in {:.1} s:\n",
        d.cohort_seconds
    );
    let _ = writeln!(w, "  {}  (the sheet)", d.sheet.display());
    for f in [
        "cohort.long.tsv",
        "cohort.long.parquet",
        "cohort.wide.tsv",
        "cohort.columns.tsv",
        "cohort.dyads.tsv",
        "cohort.sample_qc.tsv",
        "failures.tsv",
    ] {
        let _ = writeln!(w, "  {}", d.cohort_dir.join(f).display());
    }
    let _ = writeln!(
        w,
        "  {}  (open in a browser)",
        d.cohort_dir.join("report.html").display()
    );
    let _ = writeln!(
        w,
        "  {}  (MultiQC custom content)",
        d.cohort_dir.join("multiqc").display()
    );
    let _ = writeln!(
        w,
        "\nCohort rows by assay (pass, warn, fail; each warn and fail says why in qc_note):"
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
    drop(so);
    match d.cohort_error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
