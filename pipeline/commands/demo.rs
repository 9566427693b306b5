//! `agemark demo`: the telomere stage on real reads bundled in the binary, plus one SYNTHETIC
//! whole-genome-like sample, then a small mother–child cohort run (`agemark run`) on the bundled
//! reads and real beta matrices with FICTIONAL linkage labels — no network, no data directory.

use std::{
    fs,
    io::{BufWriter, Write},
    path::Path,
};

use agemark::{
    reads::InputSpec,
    synthetic::{self, SyntheticSpec},
    telomere::{TelomereOptions, SUFFIX},
    tidy::{self, Row, WriteError},
};

use clap::Parser;

use super::{telomere::telomere_rows, AppError};
use crate::cli::DemoArgs;

struct DemoInput {
    file: &'static str,
    sample: &'static str,
    bytes: &'static [u8],
    what: &'static str,
    interleaved: bool,
}

const REAL: [DemoInput; 4] = [
    DemoInput {
        file: "telseq_test3_ERS037288_chr1tel.bam",
        sample: "ERS037288_chr1tel",
        bytes: include_bytes!("../../reference/demo/telseq_test3_ERS037288_chr1tel.bam"),
        what: "REAL subset: 6,206 reads near the chr1 p-arm telomere (50 bp, GRCh37)",
        interleaved: false,
    },
    DemoInput {
        file: "computel_DRR016840_telreads.bam",
        sample: "DRR016840_telreads",
        bytes: include_bytes!("../../reference/demo/computel_DRR016840_telreads.bam"),
        what: "REAL subset: 15,824 reads pre-selected as telomeric (101 bp)",
        interleaved: false,
    },
    DemoInput {
        file: "adam_interleaved_telomeric_250bp.ifq.fq",
        sample: "adam_interleaved_250bp",
        bytes: include_bytes!("../../reference/demo/adam_interleaved_telomeric_250bp.ifq.fq"),
        what: "REAL subset: 3 read pairs, interleaved FASTQ (250 bp)",
        interleaved: true,
    },
    DemoInput {
        file: "HG03478_MT.bam",
        sample: "HG03478_MT",
        bytes: include_bytes!("../../reference/demo/HG03478_MT.bam"),
        what: "REAL subset: 7,527 mitochondrial reads of 1000 Genomes HG03478 (no telomeric reads)",
        interleaved: false,
    },
];

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.to_path_buf(),
        source,
    }
}

fn value(rows: &[Row], measure: &str) -> String {
    rows.iter()
        .find(|r| r.measure == measure && r.read_group.is_empty())
        .map(|r| match r.value {
            Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
            Some(v) => format!("{v:.2}"),
            None => "NA".to_string(),
        })
        .unwrap_or_default()
}

/// `agemark demo`.
pub fn run(args: &DemoArgs, threads: usize) -> Result<(), AppError> {
    let out = &args.outdir;
    let inputs = out.join("inputs");
    fs::create_dir_all(&inputs).map_err(write_err(&inputs))?;
    let mut runs: Vec<(String, String, InputSpec, &str)> = Vec::new();
    for d in &REAL {
        let path = inputs.join(d.file);
        fs::write(&path, d.bytes).map_err(write_err(&path))?;
        let spec = InputSpec {
            path: path.display().to_string(),
            interleaved: d.interleaved,
            ..InputSpec::default()
        };
        runs.push((d.sample.to_string(), d.what.to_string(), spec, "real"));
    }
    // The synthetic sample, written fresh each time from a fixed seed.
    let syn_spec = SyntheticSpec::default();
    let syn_path = inputs.join("SYNTHETIC_wgs_like.fastq.gz");
    let truth = {
        let file = fs::File::create(&syn_path).map_err(write_err(&syn_path))?;
        let mut gz =
            flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::fast());
        let t = synthetic::write_fastq(&mut gz, &syn_spec).map_err(write_err(&syn_path))?;
        gz.finish()
            .and_then(|mut w| w.flush())
            .map_err(write_err(&syn_path))?;
        t
    };
    runs.push((
        "SYNTHETIC_wgs_like".to_string(),
        format!(
            "SYNTHETIC (made by agemark, not real): {} reads of {} bp, {} telomeric reads inserted for a TelSeq length of ~{} kb",
            truth.reads, syn_spec.read_length, truth.telomeric_inserted, syn_spec.target_telseq_kb
        ),
        InputSpec { path: syn_path.display().to_string(), ..InputSpec::default() },
        "synthetic",
    ));

    let mut all_rows = Vec::new();
    let mut summary = Vec::new();
    for (sample, what, spec, kind) in &runs {
        let rows = telomere_rows(spec, Some(sample), TelomereOptions::default(), threads)?;
        let prefix = out.join(sample);
        let (tsv, _) = tidy::write_table(&prefix, SUFFIX, &rows)?;
        summary.push((
            sample.clone(),
            *kind,
            value(&rows, "reads_total"),
            value(&rows, "telseq_length_kb"),
            value(&rows, "th_telomere_content"),
            tsv,
            what.clone(),
        ));
        all_rows.extend(rows);
    }
    let (cohort_tsv, cohort_parquet) = tidy::write_table(&out.join("demo"), SUFFIX, &all_rows)?;

    let mut so = std::io::stdout().lock();
    let w = &mut so;
    let _ = writeln!(w, "agemark demo: telomere length on bundled reads\n");
    let _ = writeln!(
        w,
        "{:<22} {:<10} {:>8} {:>14} {:>20}",
        "sample", "data", "reads", "TelSeq (kb)", "TelomereHunter TC"
    );
    for (sample, kind, reads, kb, tc, _, _) in &summary {
        let _ = writeln!(w, "{sample:<22} {kind:<10} {reads:>8} {kb:>14} {tc:>20}");
    }
    let _ = writeln!(w);
    for (sample, _, _, _, _, _, what) in &summary {
        let _ = writeln!(w, "  {sample}: {what}");
    }
    let _ = writeln!(
        w,
        "\nThe real files are small subsets selected around telomeres (or the mitochondrion), so their\n\
         estimates are not biologically meaningful; the SYNTHETIC sample shows what a whole-genome\n\
         sample looks like. TC = intratelomeric reads per million reads with 48-52% GC."
    );
    let _ = writeln!(w, "\nTables (tidy, one row per sample x measure):");
    for (_, _, _, _, _, tsv, _) in &summary {
        let _ = writeln!(w, "  {}", tsv.display());
    }
    let _ = writeln!(w, "  {}  (all samples)", cohort_tsv.display());
    let _ = writeln!(w, "  {}", cohort_parquet.display());
    drop(so);
    demo_cohort(out, &inputs, threads)
}

/// The demo cohort: reference/demo/cohort (sheet + beta matrix) written beside the reads and
/// run with `agemark run` into `<outdir>/cohort`.
fn demo_cohort(out: &Path, inputs: &Path, threads: usize) -> Result<(), AppError> {
    let dir = inputs.join("cohort");
    fs::create_dir_all(&dir).map_err(write_err(&dir))?;
    let sheet = dir.join("samplesheet.csv");
    fs::write(&sheet, COHORT_SHEET).map_err(write_err(&sheet))?;
    let betas = dir.join("demo_betas.csv.gz");
    fs::write(&betas, COHORT_BETAS).map_err(write_err(&betas))?;
    let results = out.join("cohort");
    let argv = [
        "agemark".to_string(),
        "run".to_string(),
        "--samplesheet".to_string(),
        sheet.display().to_string(),
        "--outdir".to_string(),
        results.display().to_string(),
        "--betas".to_string(),
        betas.display().to_string(),
        "--clocks".to_string(),
        COHORT_CLOCKS.to_string(),
    ];
    let cli = crate::cli::Cli::try_parse_from(&argv)
        .map_err(|e| AppError::Usage(format!("demo cohort arguments: {e}")))?;
    let Some(crate::cli::Command::Run(args)) = cli.command else {
        return Err(AppError::Usage("demo cohort arguments: not a run".into()));
    };
    let started = std::time::Instant::now();
    super::run::run(&args, threads)?;
    let secs = started.elapsed().as_secs_f64();
    let mut so = std::io::stdout().lock();
    let w = &mut so;
    let _ = writeln!(
        w,
        "\nagemark demo: cohort run on a mother-child sample sheet with FICTIONAL linkage\n\
         (5 'mothers' = real adult blood arrays, 10 'children' = real cord-blood arrays with clinical\n\
         GA, 3 of them with real reads, 5 real term placentas; see reference/demo/cohort/README.md)\n\
         in {secs:.1} s:\n"
    );
    let _ = writeln!(w, "  {}  (the sheet)", sheet.display());
    for f in [
        "cohort.long.tsv",
        "cohort.long.parquet",
        "cohort.wide.tsv",
        "cohort.columns.tsv",
        "cohort.dyads.tsv",
        "failures.tsv",
    ] {
        let _ = writeln!(w, "  {}", results.join(f).display());
    }
    let _ = writeln!(
        w,
        "  {}  (open in a browser)",
        results.join("report.html").display()
    );
    let _ = writeln!(
        w,
        "  {}  (MultiQC custom content)",
        results.join("multiqc").display()
    );
    Ok(())
}

/// The demo cohort's sample sheet (FICTIONAL linkage; reads paths relative to it).
const COHORT_SHEET: &[u8] = include_bytes!("../../reference/demo/cohort/samplesheet.csv");
/// The demo cohort's beta matrix (real adult blood, cord-blood and placenta samples).
const COHORT_BETAS: &[u8] = include_bytes!("../../reference/demo/cohort/demo_betas.csv.gz");
/// Clocks the demo matrix has the CpGs for.
const COHORT_CLOCKS: &str = "dunedinpace2022,knight2016_ga,lee2019_rpc,lee2019_cpc,lee2019_rrpc";
