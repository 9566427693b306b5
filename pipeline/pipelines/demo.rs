//! `agemark demo`: a 51-sample mother–child cohort run on embedded data with FICTIONAL
//! linkage — real arrays (adult blood, cord blood, placenta), SYNTHETIC whole-genome-like reads
//! aligned to GRCh38 for six of the samples and SYNTHETIC array values where no real matrix has
//! them (`reference/demo/cohort/README.md`) — then the telomere stage on the bundled real read
//! subsets and one SYNTHETIC FASTQ as format checks. No network, no data directory.
//! [`run_demo`] writes everything under one directory and returns what the terminal shows.

use crate::core::embedded;
use std::{
    fs,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

use crate::{
    cohort::runner::{self, RunOptions},
    core::error::{Category, Error},
    readpass::telomere_rows,
    reads::InputSpec,
    synthetic::{self, SyntheticSpec},
    telomere::{TelomereOptions, SUFFIX},
    tidy::{self, Row, WriteError},
};

/// A bundled read file.
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
        bytes: embedded::file(embedded::DEMO, "telseq_test3_ERS037288_chr1tel.bam"),
        what: "REAL subset: 6,206 reads near the chr1 p-arm telomere (50 bp, GRCh37)",
        interleaved: false,
    },
    DemoInput {
        file: "computel_DRR016840_telreads.bam",
        sample: "DRR016840_telreads",
        bytes: embedded::file(embedded::DEMO, "computel_DRR016840_telreads.bam"),
        what: "REAL subset: 15,824 reads pre-selected as telomeric (101 bp)",
        interleaved: false,
    },
    DemoInput {
        file: "adam_interleaved_telomeric_250bp.ifq.fq",
        sample: "adam_interleaved_250bp",
        bytes: embedded::file(embedded::DEMO, "adam_interleaved_telomeric_250bp.ifq.fq"),
        what: "REAL subset: 3 read pairs, interleaved FASTQ (250 bp)",
        interleaved: true,
    },
    DemoInput {
        file: "HG03478_MT.bam",
        sample: "HG03478_MT",
        bytes: embedded::file(embedded::DEMO, "HG03478_MT.bam"),
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

/// One telomere sample of the demo, as the terminal shows it.
#[derive(Clone, Debug)]
pub struct DemoSample {
    /// Sample id.
    pub sample: String,
    /// `real` or `synthetic`.
    pub kind: &'static str,
    /// Reads counted.
    pub reads: String,
    /// TelSeq length (kb).
    pub telseq_kb: String,
    /// TelomereHunter telomere content.
    pub th_content: String,
    /// Its table.
    pub table: PathBuf,
    /// What the input is.
    pub what: String,
}

/// What the demo wrote.
#[derive(Debug)]
pub struct DemoOutcome {
    /// The telomere samples.
    pub samples: Vec<DemoSample>,
    /// All samples' telomere table (TSV, Parquet).
    pub all: (PathBuf, PathBuf),
    /// The cohort's sample sheet.
    pub sheet: PathBuf,
    /// The cohort run's directory.
    pub cohort_dir: PathBuf,
    /// Samples in the cohort's sheet.
    pub cohort_samples: usize,
    /// The cohort run's wall seconds.
    pub cohort_seconds: f64,
    /// The cohort run's error, when a job failed (everything is still written).
    pub cohort_error: Option<Error>,
    /// The cohort long table's rows by assay: (assay, [pass, warn, fail]).
    pub assay_counts: Vec<(String, [usize; 3])>,
}

/// Runs the demo into `out` on `threads` threads.
pub fn run_demo(out: &Path, threads: usize) -> Result<DemoOutcome, Error> {
    let inputs = out.join("inputs");
    fs::create_dir_all(&inputs).map_err(write_err(&inputs))?;
    let mut runs: Vec<(String, String, InputSpec, &'static str)> = Vec::new();
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
    let mut samples = Vec::new();
    for (sample, what, spec, kind) in runs {
        let rows = telomere_rows(&spec, Some(&sample), TelomereOptions::default(), threads)?;
        let prefix = out.join(&sample);
        let (tsv, _) = tidy::write_table(&prefix, SUFFIX, &rows)?;
        samples.push(DemoSample {
            reads: value(&rows, "reads_total"),
            telseq_kb: value(&rows, "telseq_length_kb"),
            th_content: value(&rows, "th_telomere_content"),
            sample,
            kind,
            table: tsv,
            what,
        });
        all_rows.extend(rows);
    }
    let all = tidy::write_table(&out.join("demo"), SUFFIX, &all_rows)?;

    // The demo cohort: reference/demo/cohort (sheet + beta matrix) written beside the reads
    // and run into `<outdir>/cohort`.
    let dir = inputs.join("cohort");
    fs::create_dir_all(&dir).map_err(write_err(&dir))?;
    let sheet = dir.join("samplesheet.csv");
    fs::write(&sheet, COHORT_SHEET).map_err(write_err(&sheet))?;
    let betas = dir.join("demo_betas.csv.gz");
    fs::write(&betas, COHORT_BETAS).map_err(write_err(&betas))?;
    let reads_dir = dir.join("reads");
    fs::create_dir_all(&reads_dir).map_err(write_err(&reads_dir))?;
    for r in &COHORT_READS {
        let path = reads_dir.join(format!("{}.sam.gz", r.sample));
        let spec = SyntheticSpec {
            reads: COHORT_READS_PER_SAMPLE,
            target_telseq_kb: r.telseq_kb,
            seed: r.seed,
            ..SyntheticSpec::default()
        };
        let file = fs::File::create(&path).map_err(write_err(&path))?;
        let mut gz =
            flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::fast());
        synthetic::write_sam(&mut gz, &spec, r.aligned).map_err(write_err(&path))?;
        gz.finish()
            .and_then(|mut w| w.flush())
            .map_err(write_err(&path))?;
    }
    let qpcr_config = write_demo_qpcr(&dir.join("qpcr"))?;
    let cohort_dir = out.join("cohort");
    let opts = RunOptions {
        samplesheet: sheet.display().to_string(),
        outdir: Some(cohort_dir.clone()),
        betas: Some(betas.display().to_string()),
        stages: "all".to_string(),
        clocks: COHORT_CLOCKS.to_string(),
        threads,
        report_banner: Some(DEMO_BANNER.to_string()),
        qpcr: Some(qpcr_config),
        ..RunOptions::default()
    };
    let started = std::time::Instant::now();
    let cohort_error = match runner::run(&opts) {
        Ok(_) => None,
        Err(e) if e.category() == Category::Failed => Some(e),
        Err(e) => return Err(e),
    };
    let cohort_seconds = started.elapsed().as_secs_f64();
    let long = crate::cohort::merge::read_long_tsv(&cohort_dir.join("cohort.long.tsv"))?;
    let mut counts: std::collections::BTreeMap<String, [usize; 3]> = Default::default();
    for r in &long.rows {
        let k = match r.qc_status {
            crate::core::QcStatus::Pass => 0,
            crate::core::QcStatus::Warn => 1,
            crate::core::QcStatus::Fail => 2,
        };
        counts.entry(r.assay.clone()).or_default()[k] += 1;
    }
    let cohort_samples = COHORT_SHEET
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1);
    Ok(DemoOutcome {
        cohort_samples,
        samples,
        all,
        sheet,
        cohort_dir,
        cohort_seconds,
        cohort_error,
        assay_counts: counts.into_iter().collect(),
    })
}

/// What the demo report says about its data, under the title.
const DEMO_BANNER: &str = "DEMO DATA. The linkage (families, roles, ids) is FICTIONAL. Real arrays: adult blood (GSE55763, the 'mothers'; the real donors are male), cord blood (PROGRESS), placenta (planet). SYNTHETIC, made by agemark: the telomere, mtDNA and sex-from-reads values (simulated whole-genome reads), the qPCR plates (T/S), the blood cell-type fractions, the NR3C1 betas, the SNP genotypes, the contamination CpGs and the exposure-score CpGs. Real: DunedinPACE, the gestational-age clocks and the placental cell types. reference/demo/cohort/README.md in the source says which values are which.";

/// A demo cohort sample with SYNTHETIC whole-genome-like reads (aligned to GRCh38).
struct CohortReads {
    sample: &'static str,
    telseq_kb: f64,
    aligned: synthetic::AlignedSpec,
    seed: u64,
}

/// Reads per synthetic cohort sample: enough reads in TelSeq's 48-52% GC bins (about 15k)
/// for a stable estimate, and about 60 chrM reads at a copy number of 200.
const COHORT_READS_PER_SAMPLE: usize = 100_000;

const fn cohort_reads(
    sample: &'static str,
    telseq_kb: f64,
    male: bool,
    cn: f64,
    seed: u64,
) -> CohortReads {
    CohortReads {
        sample,
        telseq_kb,
        aligned: synthetic::AlignedSpec { male, mtdna_cn: cn },
        seed,
    }
}

/// The demo cohort's read samples (the sheet's `reads` column names `reads/<id>.sam.gz`):
/// mothers' telomeres shorter than the newborns', blood mtDNA copy numbers of 150-250; the
/// sexes match the sheet (mothers' sex is left empty there, see its README).
const COHORT_READS: [CohortReads; 6] = [
    cohort_reads("DEMO-M01", 5.2, false, 190.0, 101),
    cohort_reads("DEMO-M02", 4.8, false, 160.0, 102),
    cohort_reads("DEMO-M03", 5.5, false, 210.0, 103),
    cohort_reads("DEMO-C01", 6.8, false, 230.0, 111),
    cohort_reads("DEMO-C02", 6.3, true, 200.0, 112),
    cohort_reads("DEMO-C03", 7.1, false, 250.0, 113),
];

/// The demo cohort's sample sheet (FICTIONAL linkage; reads paths relative to it).
const COHORT_SHEET: &[u8] = embedded::file(embedded::DEMO, "cohort/samplesheet.csv");
/// The demo cohort's beta matrix (real adult blood, cord-blood and placenta samples).
const COHORT_BETAS: &[u8] = embedded::file(embedded::DEMO, "cohort/demo_betas.csv.gz");
/// Clocks the demo matrix has the CpGs for.
const COHORT_CLOCKS: &str =
    "applicable:dunedinpace2022,knight2016_ga,lee2019_rpc,lee2019_cpc,lee2019_rrpc";

/// The demo's SYNTHETIC qPCR plates (Bio-Rad CFX "Quantification Cq Results" layout): the
/// Cawthon T/S assay of the sheet's mothers and cord bloods in two runs, each run a telomere
/// plate (`TEL`) and a single-copy plate (`36B4`) with a 3-fold standard series of a reference
/// DNA (30 to 0.37 ng) in triplicate, an NTC, a pooled DNA (`POOL`, the inter-run calibrator)
/// and the samples in triplicate. Run 2 repeats six run-1 samples (for the ICC), and its
/// standards read 0.4 cycles late (a plate effect the pool corrects). T/S drawn per sample
/// (cord blood around 1.25, mothers around 0.95), replicate noise SD 0.08 cycles, one outlier
/// replicate. Returns the config file written beside the plates.
fn write_demo_qpcr(dir: &Path) -> Result<PathBuf, WriteError> {
    fs::create_dir_all(dir).map_err(write_err(dir))?;
    let text = String::from_utf8_lossy(COHORT_SHEET);
    let mut samples: Vec<(String, f64)> = Vec::new();
    let mut rng = crate::core::rng::SplitMix64(2026);
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let ts = match c.get(4).copied() {
            Some("cord_blood") => rng.normal(1.25, 0.15),
            Some("maternal_blood") => rng.normal(0.95, 0.12),
            _ => continue,
        };
        samples.push((c[0].to_string(), ts.max(0.3)));
    }
    // DNA input per sample (ng), the single-copy quantity.
    let input: Vec<f64> = samples
        .iter()
        .map(|_| rng.normal(3.0, 0.6).max(1.0))
        .collect();
    let half = samples.len().div_ceil(2);
    let run1: Vec<usize> = (0..half).collect();
    let mut run2: Vec<usize> = (half..samples.len()).collect();
    run2.extend(0..6.min(half));
    let standards = [30.0, 10.0, 10.0 / 3.0, 10.0 / 9.0, 10.0 / 27.0];
    // (target, slope, intercept): efficiencies 97 % and 99 %.
    let assays = [("TEL", -3.40, 16.0), ("36B4", -3.35, 24.0)];
    let mut config = String::from(
        "# SYNTHETIC demo qPCR assay (made by agemark demo; not real measurements)\n\
         role = TEL=telomere\nrole = 36B4=single_copy\ninter_run_calibrator = POOL\n",
    );
    for (run, members, shift) in [(1, &run1, 0.0), (2, &run2, 0.4)] {
        for (target, slope, intercept) in assays {
            let cq = |q: f64, rng: &mut crate::core::rng::SplitMix64| {
                slope * q.log10() + intercept + rng.normal(0.0, 0.08)
            };
            let mut rows: Vec<String> = Vec::new();
            let mut w = 0usize;
            let mut well = || {
                w += 1;
                format!(
                    "{}{:02}",
                    (b'A' + ((w - 1) / 12) as u8) as char,
                    (w - 1) % 12 + 1
                )
            };
            for (k, q) in standards.iter().enumerate() {
                for _ in 0..3 {
                    let c = cq(*q, &mut rng) + shift;
                    rows.push(format!(
                        ",{},SYBR,{target},Std-{:02},REF-DNA,,{c:.2},{q:.4}",
                        well(),
                        k + 1
                    ));
                }
            }
            for _ in 0..3 {
                rows.push(format!(",{},SYBR,{target},NTC,,,NaN,", well()));
            }
            let pool_q = if target == "TEL" { 1.1 * 3.0 } else { 3.0 };
            for _ in 0..3 {
                rows.push(format!(
                    ",{},SYBR,{target},Unkn-01,POOL,,{:.2},",
                    well(),
                    cq(pool_q, &mut rng)
                ));
            }
            for (n, &i) in members.iter().enumerate() {
                let (name, ts) = &samples[i];
                let q = if target == "TEL" {
                    ts * input[i]
                } else {
                    input[i]
                };
                for r in 0..3 {
                    let mut c = cq(q, &mut rng);
                    if run == 1 && target == "TEL" && n == 4 && r == 2 {
                        c += 1.1; // a pipetting outlier the triplicate rule drops
                    }
                    rows.push(format!(
                        ",{},SYBR,{target},Unkn-{:02},{name},,{c:.2},",
                        well(),
                        n + 2
                    ));
                }
            }
            let file = format!("run{run}_{}.csv", target.to_lowercase());
            let path = dir.join(&file);
            let mut body = String::from(
                ",Well,Fluor,Target,Content,Sample,Biological Set Name,Cq,Starting Quantity (SQ)\n",
            );
            for r in rows {
                body.push_str(&r);
                body.push('\n');
            }
            fs::write(&path, body).map_err(write_err(&path))?;
            config.push_str(&format!("plate = {file}\n"));
        }
    }
    let path = dir.join("telomere_qpcr.conf");
    fs::write(&path, config).map_err(write_err(&path))?;
    Ok(path)
}
