//! Command-line arguments (clap derive structs only; no logic).
//!
//! Every numeric option takes `allow_negative_numbers`, so that a negative value reaches the
//! range check and its message ("--max-missing must be a fraction between 0 and 1, not -0.1")
//! or clap's "invalid digit", not clap's misleading "unexpected argument '-0'".

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// agemark: biomarkers of biological ageing and early-life stress from sequencing reads and
/// methylation data, written as tidy tables ready for cohort linkage.
#[derive(Debug, Parser)]
#[command(
    name = "agemark",
    version,
    disable_version_flag = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Print the version (one line) and exit.
    #[arg(long, short = 'V', global = true)]
    pub version: bool,
    /// Threads for decoding and stages (default: all cores).
    #[arg(
        long,
        short = 't',
        global = true,
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub threads: Option<usize>,
    /// More log output on stderr (-v info+debug, -vv trace).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Telomere length from reads: TelSeq- and TelomereHunter-compatible estimates.
    ///
    /// Writes <PREFIX>.telomere.tsv and <PREFIX>.telomere.parquet.
    #[command(after_help = "Examples:\n  agemark telomere sample.bam -o out/sample
  agemark telomere S1_R1.fastq.gz S1_R2.fastq.gz --sample-id S1 -o out/S1
  agemark telomere sample.cram -r GRCh38.fa -o out/sample --telseq-compat
  agemark telomere ont_reads.fa.gz --long-reads -o out/sample   (per-molecule lengths)")]
    Telomere(TelomereArgs),
    /// mtDNA copy number from aligned reads (2 × chrM depth / autosomal depth).
    ///
    /// Writes <PREFIX>.mtdna.tsv and <PREFIX>.mtdna.parquet.
    #[command(after_help = "Examples:\n  agemark mtdna sample.bam -o out/sample
  agemark mtdna sample.cram -r GRCh38.fa --mode fast -o out/sample   (indexed: chrM + sampled autosomes)")]
    Mtdna(MtdnaArgs),
    /// Telomere and mtDNA stages on ONE decode of the input (the command workflows call).
    ///
    /// Writes <PREFIX>.telomere.tsv/.parquet and <PREFIX>.mtdna.tsv/.parquet.
    #[command(
        after_help = "Examples:\n  agemark reads sample.bam -o out/sample          (telomere + mtDNA in one pass)
  agemark reads sample.cram -r GRCh38.fa -o out/sample"
    )]
    Reads(ReadsArgs),
    /// 5mC and 5hmC at the reference's CpGs from a modBAM (MM/ML tags; ONT, PacBio), as
    /// modkit-style bedMethyl.
    ///
    /// Writes <PREFIX>.bedmethyl.gz (BGZF): one row per CpG C, strand and code (m; h where
    /// 5hmC is called) with at least one valid call, in modkit's 18 columns.
    #[command(
        after_help = "Examples:\n  agemark pileup sample.bam --reference GRCh38.fa -o out/sample
  agemark pileup sample.bam -r GRCh38.fa --combine-strands --mod-threshold 0.8 -o out/sample
  agemark clocks sample.bam -r GRCh38.fa -o out/sample     (pileup straight into the clocks)"
    )]
    Pileup(PileupArgs),
    /// Run a 51-sample mother–child demo cohort on embedded data (no network, no files needed).
    ///
    /// Real arrays (adult blood, cord blood, placenta) with FICTIONAL linkage, SYNTHETIC
    /// whole-genome-like reads and SYNTHETIC values where no real data exists (each labelled);
    /// writes the cohort tables and report.html under --outdir, then checks the bundled real
    /// read subsets' formats.
    ///
    /// Example: agemark demo --outdir agemark-demo && open agemark-demo/cohort/report.html
    #[command(after_help = "Examples:\n  agemark demo
  agemark demo --outdir /tmp/agemark-demo --threads 2")]
    Demo(DemoArgs),
    /// Epigenetic clocks from a beta matrix (CSV/TSV, plain or gzip; CpGs as rows or columns).
    ///
    /// Writes <PREFIX>.clocks.tsv and <PREFIX>.clocks.parquet: one row per sample × clock
    /// (+ <clock>_diff and <clock>_residual rows with a sample sheet, and <clock>_ieaa with
    /// --celltypes).
    #[command(after_help = "Examples:\n  agemark clocks betas.csv.gz -o out/cohort
  agemark clocks betas.csv.gz --samplesheet ages.csv -o out/cohort   (+ _diff, _residual)
  agemark clocks idats/ --platform 450k -o out/cohort                (IDATs directly)")]
    Clocks(ClocksArgs),
    /// DNA-methylation scores of early-life exposure and stress (maternal smoking in
    /// pregnancy, glucocorticoids, inflammation) from a beta matrix, IDATs or calls.
    ///
    /// Writes <PREFIX>.exposure.tsv and .parquet: one row per sample × score (assay exposure,
    /// unit score), missing CpGs imputed or refused as for the clocks. `agemark reference
    /// list` shows the scores with their tissue, ages, citation and licence.
    #[command(
        after_help = "Examples:\n  agemark scores betas.csv.gz -o out/cohort                        (every bundled score)\n  agemark scores cord_betas.csv.gz --scores reese2017_maternal_smoking,provencal2020_ges -o out/cord\n  agemark scores idats/ --platform 450k -o out/cohort                (IDATs directly)"
    )]
    Scores(ScoresArgs),
    /// Cell composition from a beta matrix: Houseman's constrained projection onto a bundled
    /// panel of sorted-cell profiles (see `agemark reference list`).
    ///
    /// Writes <PREFIX>.celltypes.tsv and <PREFIX>.celltypes.parquet: one row per sample × cell
    /// type, plus the sum of the fractions.
    #[command(
        after_help = "Examples:\n  agemark celltypes betas.csv.gz --panel cordblood_idol -o out/cord
  agemark reference list | cut -f1,2                                 (the panels)"
    )]
    Celltypes(CelltypesArgs),
    /// NR3C1 (glucocorticoid receptor) methylation: per-CpG betas and promoter region means.
    ///
    /// Writes <PREFIX>.nr3c1.tsv and <PREFIX>.nr3c1.parquet.
    #[command(after_help = "Examples:\n  agemark nr3c1 betas.csv.gz -o out/cohort
  agemark nr3c1 sample.bismark.cov.gz --build hg38 -o out/S1          (bisulfite calls)")]
    Nr3c1(Nr3c1Args),
    /// Bundled models and reference tables.
    #[command(
        after_help = "Examples:\n  agemark reference list > reference.tsv\n  agemark reference install EPICv2.ordering.tsv.gz EPICv2.hg38.coord.tsv.gz"
    )]
    Reference(ReferenceArgs),
    /// Illumina IDATs → betas, detection p-values and per-sample QC (pOOBAH, noob, dye bias).
    ///
    /// Writes <PREFIX>.betas.tsv.gz, <PREFIX>.detection.tsv.gz and <PREFIX>.idat_qc.tsv/.parquet
    /// (+ <PREFIX>.failures.tsv when a sample failed; the exit code is then non-zero).
    #[command(after_help = "Examples:\n  agemark idat idats/ -o out/batch1
  agemark idat idats/200123450001_R01C01 idats/200123450001_R02C01 -o out/slide1")]
    Idat(IdatArgs),
    /// Cohort run: every stage a sample's inputs allow, samples and stages in parallel, then
    /// the cohort tables, failures.tsv, the HTML report and MultiQC files.
    ///
    /// Writes DIR/<sample>/<sample>.telomere|mtdna.tsv/.parquet, DIR/idat/<batch>.betas.tsv.gz (and
    /// .detection.tsv.gz, .idat_qc.tsv/.parquet), DIR/methylation/cohort.<stage>.tsv/.parquet,
    /// DIR/cohort.long.tsv/.parquet, cohort.wide.tsv, cohort.columns.tsv, cohort.dyads.tsv, cohort.sample_qc.tsv/.parquet,
    /// failures.tsv, report.html, multiqc/agemark_*_mqc.*, run_manifest.tsv. Exits 1 when a
    /// sample failed (after writing everything else).
    #[command(
        after_help = "Examples:\n  agemark run --samplesheet samples.csv --outdir results
  agemark run --samplesheet samples.csv --betas betas.csv.gz --outdir results --threads 8
  agemark run --samplesheet samples.csv --check                      (validate only)
  agemark run --samplesheet samples.csv --outdir results --pseudonymise key.txt"
    )]
    Run(RunArgs),
    /// Merge tidy tables into the cohort tables (what `run` does after its stages).
    ///
    /// Writes PREFIX.long.tsv/.parquet, PREFIX.wide.tsv, PREFIX.columns.tsv, PREFIX.dyads.tsv,
    /// PREFIX.sample_qc.tsv/.parquet (sex, identity, relatedness, maternal contamination).
    #[command(
        after_help = "Examples:\n  agemark merge results/*/*.tsv results/methylation/*.tsv --samplesheet samples.csv -o results/cohort"
    )]
    Merge(MergeArgs),
    /// The HTML report (and MultiQC custom-content files) of a results directory.
    #[command(after_help = "Examples:\n  agemark report results/ -o results/report.html")]
    Report(ReportArgs),
    /// qPCR plates → telomere T/S and mtDNA MT/S ratios per sample, with replicate, standard
    /// curve and NTC QC.
    ///
    /// Reads RDML 1.0-1.3, Bio-Rad CFX "Quantification Cq Results", ABI SDS/QuantStudio results,
    /// LightCycler 480 Abs Quant text and plain well/sample/target/cq tables. Writes
    /// <PREFIX>.qpcr.tsv/.parquet, <PREFIX>.qpcr_plates.tsv/.parquet and
    /// <PREFIX>.qpcr_wells.tsv.
    #[command(
        after_help = "Examples:\n  agemark qpcr tel_plate.csv scg_plate.csv --role TEL=telomere --role 36B4=single_copy -o out/cohort\n  agemark qpcr plate1.csv --role FAM=telomere --role HEX=single_copy -o out/p1   (targets named by fluorophore)\n  agemark qpcr plate.tsv --role ND1=mtdna --role B2M=single_copy --calibrator POOL -o out/mt\n  agemark qpcr --config telomere.conf -o out/ts   (plates, roles and calibrators in a file)\n  agemark qpcr run1.rdml run2.rdml --role TEL=telomere --role 36B4=single_copy --inter-run-calibrator POOL -o out/ts"
    )]
    Qpcr(QpcrArgs),
    /// Print a shell completion script to stdout.
    #[command(
        after_help = "Examples:\n  agemark completions bash > ~/.local/share/bash-completion/completions/agemark\n  agemark completions zsh > ~/.zfunc/_agemark\n  agemark completions fish > ~/.config/fish/completions/agemark.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) to stdout.
    #[command(
        after_help = "Examples:\n  agemark man > agemark.1 && man ./agemark.1\n  agemark man | gzip > ~/.local/share/man/man1/agemark.1.gz"
    )]
    Man,
}

/// `agemark qpcr`.
#[derive(Debug, Args)]
pub struct QpcrArgs {
    /// Plate exports (the plates of one assay set: telomere and single-copy plates together);
    /// RDML, Bio-Rad CFX, ABI SDS/QuantStudio, LightCycler 480 or a plain Cq table.
    #[arg(value_name = "PLATE", required_unless_present = "config")]
    pub plates: Vec<PathBuf>,
    /// Output prefix.
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub output: PathBuf,
    /// Assay config (key = value lines: plate, role, calibrator, inter_run_calibrator,
    /// thresholds; see README "qPCR"). Options given here add to it or override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// NAME=telomere|single_copy|mtdna: what a target (or fluorophore) measures (repeatable).
    #[arg(long, value_name = "NAME=ROLE")]
    pub role: Vec<String>,
    /// Plate map (CSV/TSV: well, sample; optional plate, content, quantity): names the wells of
    /// exports without usable sample names.
    #[arg(long, value_name = "FILE")]
    pub plate_map: Option<PathBuf>,
    /// Calibrator sample: relative quantities (Pfaffl) on plates without a standard curve.
    #[arg(long, value_name = "SAMPLE")]
    pub calibrator: Option<String>,
    /// Inter-run calibrator: a sample run on every plate; each plate's quantities are scaled
    /// by it (Hellemans 2007; repeatable; RDML's interRunCalibrator flag adds to these).
    #[arg(long, value_name = "SAMPLE")]
    pub inter_run_calibrator: Vec<String>,
    /// TARGET=E: amplification efficiency as a fraction (1 = 100 %) for the calibrator path
    /// (default 1; repeatable).
    #[arg(long, value_name = "TARGET=E")]
    pub efficiency: Vec<String>,
    /// Absolute telomere length (O'Callaghan & Fenech 2011): telomere standards' quantities
    /// are kb of telomeric sequence per reaction, single-copy standards' are copies per
    /// reaction; adds telomere_length_kb (kb per diploid genome).
    #[arg(long)]
    pub absolute: bool,
    /// Cq above this counts as no amplification [default: 35].
    #[arg(long, value_name = "CQ", allow_negative_numbers = true)]
    pub max_cq: Option<f64>,
    /// Replicate SD (cycles) above which a sample warns; drives the triplicate outlier rule
    /// [default: 0.3].
    #[arg(long, value_name = "CYCLES", allow_negative_numbers = true)]
    pub max_sd: Option<f64>,
}

/// `agemark completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `agemark run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Sample sheet (CSV or TSV; see README "Sample sheet").
    #[arg(long, value_name = "SHEET")]
    pub samplesheet: String,
    /// Output directory (required, unless --check).
    #[arg(long, value_name = "DIR", required_unless_present = "check")]
    pub outdir: Option<PathBuf>,
    /// Top-level beta matrix; the sheet's betas_column names each sample's column.
    #[arg(long, value_name = "FILE")]
    pub betas: Option<String>,
    /// Stages to run: all, or names separated by commas (reads, idat, qpcr, clocks, exposure,
    /// celltypes, identity, nr3c1).
    #[arg(long, default_value = "all", value_name = "NAMES")]
    pub stages: String,
    /// qPCR assay config (key = value lines: plate, role, calibrator, inter_run_calibrator, …;
    /// README "qPCR"): the qpcr stage turns its plates into T/S and MT/S rows for the sheet's
    /// samples (plate sample names = sample_id).
    #[arg(long, value_name = "FILE")]
    pub qpcr: Option<PathBuf>,
    /// Only these samples (sample ids separated by commas).
    #[arg(long, value_name = "IDS")]
    pub samples: Option<String>,
    /// Only validate the sample sheet: print every problem, write nothing.
    #[arg(long)]
    pub check: bool,
    /// Where the idat stage writes, and the methylation stages read, each IDAT batch's files
    /// (<DIR>/<batch>.betas.tsv.gz, ...). Default: OUTDIR/idat.
    #[arg(long, value_name = "DIR")]
    pub idat_dir: Option<PathBuf>,
    /// Write the IDAT batch plan (TSV: batch, sample_id, idat; one line per IDAT sample) to
    /// FILE once the sheet is valid; with --check, the only file written. For workflows.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Replace sample, participant and family IDs (and input file names) in every output and
    /// log line by keyed hashes (HMAC-SHA256 with this key file, 16 hex digits).
    #[arg(long, value_name = "KEYFILE")]
    pub pseudonymise: Option<String>,
    /// Clocks to compute. `applicable`: each sample gets the clocks trained on its sample_type
    /// and age (the table: `agemark reference list`); `applicable:NAMES`: among these clocks
    /// only. `all`, or names separated by commas:
    /// those clocks for every sample; rows outside a clock's training domain are `warn` and
    /// say why.
    #[arg(long, default_value = "applicable", value_name = "NAMES")]
    pub clocks: String,
    /// Exposure scores (the exposure stage). `applicable`: each sample gets the scores
    /// developed for its sample_type and age (cord-blood scores for cord blood, adult scores
    /// for mothers; `agemark reference list`); `all` or names: those for every sample, rows
    /// outside a score's domain `warn`.
    #[arg(long, default_value = "applicable", value_name = "NAMES")]
    pub scores: String,
    /// Telomere options.
    #[command(flatten)]
    pub telomere: TelomereOpts,
    /// Long-read options (per-molecule telomere lengths for every sample's reads).
    #[command(flatten)]
    pub long_reads: LongReadOpts,
    /// mtDNA options.
    #[command(flatten)]
    pub mtdna: MtdnaOpts,
}

/// `agemark merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Tidy tables (TSV) to merge; files that are not tidy tables are skipped with a warning.
    #[arg(required = true, value_name = "TABLE.tsv")]
    pub tables: Vec<PathBuf>,
    /// Output prefix: writes PREFIX.long.tsv/.parquet, .wide.tsv, .columns.tsv, .dyads.tsv, .sample_qc.tsv/.parquet.
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub output: PathBuf,
    /// Sample sheet: joins the linkage columns in and pairs dyads.
    #[arg(long, value_name = "SHEET")]
    pub samplesheet: Option<String>,
    /// The key the tables were pseudonymised with (hashes the sheet's IDs to match).
    #[arg(long, value_name = "KEYFILE")]
    pub pseudonymise: Option<String>,
}

/// `agemark report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Results directory (with cohort.long.tsv).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The HTML file to write.
    #[arg(long, short = 'o', value_name = "FILE.html")]
    pub output: PathBuf,
    /// Sample sheet: replaces the linkage columns of the long table.
    #[arg(long, value_name = "SHEET")]
    pub samplesheet: Option<String>,
    /// The key the results were pseudonymised with (needed with --samplesheet).
    #[arg(long, value_name = "KEYFILE")]
    pub pseudonymise: Option<String>,
    /// Where to write the MultiQC custom-content files (default: DIR/multiqc).
    #[arg(long, value_name = "DIR")]
    pub multiqc_dir: Option<PathBuf>,
}

/// Read input options shared by read stages.
#[derive(Debug, Args)]
pub struct ReadInputArgs {
    /// Reads: BAM, CRAM, SAM, FASTQ(.gz), FASTA(.gz) (long reads), or - for stdin. A second
    /// FASTQ makes a pair.
    #[arg(required = true, num_args = 1..=2, value_name = "READS")]
    pub inputs: Vec<String>,
    /// Reference FASTA for CRAM (always used instead of the header's UR/M5).
    #[arg(long, short = 'r', value_name = "FASTA")]
    pub reference: Option<PathBuf>,
    /// The FASTQ holds pairs as consecutive records.
    #[arg(long)]
    pub interleaved: bool,
    /// Sample id in the output (default: the read groups' SM if they agree, else the file name).
    #[arg(long, value_name = "ID")]
    pub sample_id: Option<String>,
    /// Output prefix: writes <PREFIX>.<stage>.tsv and .parquet; "-" writes the TSV to stdout.
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub output: String,
}

/// `agemark pileup`.
#[derive(Debug, Args)]
pub struct PileupArgs {
    /// Aligned reads with MM/ML base-modification tags: BAM, CRAM or SAM (need not be sorted).
    #[arg(value_name = "READS")]
    pub input: String,
    /// Reference FASTA (plain or gzip) the reads were aligned to: CpG sites come from it (and
    /// it decodes CRAM).
    #[arg(long, short = 'r', value_name = "FASTA", required = true)]
    pub reference: PathBuf,
    /// Output prefix: writes <PREFIX>.bedmethyl.gz.
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub output: String,
    /// Pileup options.
    #[command(flatten)]
    pub pileup: PileupOpts,
}

/// Options of the modBAM pileup (also for modBAM inputs to clocks, celltypes, nr3c1).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "modBAM pileup options")]
pub struct PileupOpts {
    /// Keep calls whose most likely state has at least probability P (0: every call, modkit's
    /// --no-filtering). Default: estimated as the 10th percentile of the input's calls.
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub mod_threshold: Option<f64>,
    /// Sum the two C's of each CpG into one row with strand '.'.
    #[arg(long)]
    pub combine_strands: bool,
}

/// `agemark telomere`.
#[derive(Debug, Args)]
pub struct TelomereArgs {
    /// Inputs and output.
    #[command(flatten)]
    pub input: ReadInputArgs,
    /// Telomere options.
    #[command(flatten)]
    pub telomere: TelomereOpts,
    /// Long-read options.
    #[command(flatten)]
    pub long_reads: LongReadOpts,
}

/// Long-read telomere options (`agemark telomere --long-reads`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Long-read options")]
pub struct LongReadOpts {
    /// Long reads (ONT, PacBio HiFi; FASTA, FASTQ, BAM): the telomere length of each molecule
    /// instead of TelSeq/TelomereHunter. Writes <PREFIX>.telomere_reads.tsv (one row per
    /// telomeric read) and the per-sample summary in <PREFIX>.telomere.tsv/.parquet.
    #[arg(long)]
    pub long_reads: bool,
    /// --long-reads: the G-rich repeat unit (TTAGGG; TTTAGGG for plants). The C-rich
    /// complement is always scanned too.
    #[arg(
        long,
        default_value = "TTAGGG",
        value_name = "MOTIF",
        requires = "long_reads"
    )]
    pub motif: String,
}

/// Telomere estimator options.
#[derive(Debug, Args)]
#[command(next_help_heading = "Telomere options")]
pub struct TelomereOpts {
    /// TelSeq: reads with at least K TTAGGG/CCCTAA repeats count as telomeric.
    #[arg(
        short = 'k',
        long = "telseq-k",
        default_value_t = 7,
        value_name = "K",
        allow_negative_numbers = true
    )]
    pub k: u32,
    /// Reproduce the TelSeq 0.0.1 binary's numbers (all records, last record twice, float maths).
    #[arg(long)]
    pub telseq_compat: bool,
    /// TelomereHunter: fixed repeat threshold instead of 6 per 100 bp of read length.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub th_threshold: Option<u32>,
    /// TelomereHunter: leave duplicate-flagged reads out (telomerehunter2 -d).
    #[arg(long)]
    pub th_remove_duplicates: bool,
}

/// `agemark demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the demo inputs and tables.
    #[arg(long, default_value = "agemark-demo", value_name = "DIR")]
    pub outdir: PathBuf,
}

/// How mtDNA copy number reads the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MtdnaMode {
    /// Every read (one pass; shares the pass with the telomere stage in `reads`).
    Full,
    /// Index-based: chrM fully, a seeded random sample of autosomal windows.
    Fast,
}

/// mtDNA options.
#[derive(Debug, Args)]
#[command(next_help_heading = "mtDNA options")]
pub struct MtdnaOpts {
    /// Count each read's whole reference span, exactly as `mosdepth -x` (default: M/=/X bases).
    #[arg(long)]
    pub mosdepth_compat: bool,
    /// Minimum mapping quality.
    #[arg(
        long,
        default_value_t = 0,
        value_name = "Q",
        allow_negative_numbers = true
    )]
    pub min_mapq: u8,
    /// Reads with any of these flag bits are excluded (mosdepth's default 1796).
    #[arg(long, default_value_t = 1796, value_name = "FLAGS")]
    pub exclude_flags: u16,
    /// Also write rows per read group.
    #[arg(long)]
    pub per_read_group: bool,
}

/// `agemark mtdna`.
#[derive(Debug, Args)]
pub struct MtdnaArgs {
    /// Inputs and output.
    #[command(flatten)]
    pub input: ReadInputArgs,
    /// mtDNA options.
    #[command(flatten)]
    pub mtdna: MtdnaOpts,
    /// full: read every record; fast: use the index (chrM + sampled autosomal windows).
    #[arg(long, value_enum, default_value_t = MtdnaMode::Full)]
    pub mode: MtdnaMode,
    /// Fast mode: number of autosomal windows.
    #[arg(
        long,
        default_value_t = 400,
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub fast_windows: usize,
    /// Fast mode: window length in bases.
    #[arg(
        long,
        default_value_t = 100_000,
        value_name = "BP",
        allow_negative_numbers = true
    )]
    pub fast_window_size: u64,
    /// Fast mode: seed of the window draw.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
}

/// `agemark reads`.
#[derive(Debug, Args)]
pub struct ReadsArgs {
    /// Inputs and output.
    #[command(flatten)]
    pub input: ReadInputArgs,
    /// Telomere options.
    #[command(flatten)]
    pub telomere: TelomereOpts,
    /// mtDNA options.
    #[command(flatten)]
    pub mtdna: MtdnaOpts,
}

/// Layout of a beta matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CpgLayout {
    /// Detect from the header (CpGs as columns when most header cells are probe IDs).
    Auto,
    /// One row per CpG, one column per sample.
    Rows,
    /// One row per sample, one column per CpG.
    Columns,
}

/// Imputation of missing CpGs (DunedinPACE and Zhang 2019 follow their own rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ImputeArg {
    /// cohort-mean with at least 10 samples, else reference.
    Auto,
    /// Mean of the CpG over the samples that have it (reference mean when none has it).
    CohortMean,
    /// Bundled reference means (DunedinPACE gold standard, 20,000 blood CpGs).
    Reference,
    /// None: missing terms are left out of the sum (as biolearn).
    None,
}

/// `agemark clocks`.
#[derive(Debug, Args)]
pub struct ClocksArgs {
    /// The methylation input and how to read it.
    #[command(flatten)]
    pub input: MethInputArgs,
    /// Output prefix: writes <PREFIX>.clocks.tsv and .parquet; "-" writes the TSV to stdout.
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub output: String,
    /// Sample sheet (CSV/TSV: sample_id, age_years and/or gestational_age_weeks) for age
    /// acceleration.
    #[arg(long, value_name = "FILE")]
    pub samplesheet: Option<String>,
    /// Clocks to compute: all, or names separated by commas (see `agemark reference list`).
    #[arg(long, default_value = "all", value_name = "NAMES")]
    pub clocks: String,
    /// Directory with more models: clocks.tsv + tables, in the format of reference/clocks.
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// Imputation of missing CpGs.
    #[arg(long, value_enum, default_value_t = ImputeArg::Auto)]
    pub impute: ImputeArg,
    /// Refuse a sample × clock when more than this fraction of the clock's CpGs has no measured
    /// value in the sample.
    #[arg(
        long,
        default_value_t = 0.2,
        value_name = "FRACTION",
        allow_negative_numbers = true
    )]
    pub max_missing: f64,
    /// Cell fractions from `agemark celltypes` (its .celltypes.tsv) for IEAA-style
    /// `<clock>_ieaa` rows (needs --samplesheet with ages).
    #[arg(long, value_name = "TABLE", requires = "samplesheet")]
    pub celltypes: Option<String>,
}

/// `agemark scores`.
#[derive(Debug, Args)]
pub struct ScoresArgs {
    /// The methylation input and how to read it.
    #[command(flatten)]
    pub input: MethInputArgs,
    /// Output prefix: writes <PREFIX>.exposure.tsv and .parquet; "-" writes the TSV to stdout.
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub output: String,
    /// Scores to compute: all, or names separated by commas (see `agemark reference list`).
    #[arg(long, default_value = "all", value_name = "NAMES")]
    pub scores: String,
    /// Imputation of missing CpGs.
    #[arg(long, value_enum, default_value_t = ImputeArg::Auto)]
    pub impute: ImputeArg,
    /// Refuse a sample × score when more than this fraction of the score's CpGs has no measured
    /// value in the sample.
    #[arg(
        long,
        default_value_t = 0.2,
        value_name = "FRACTION",
        allow_negative_numbers = true
    )]
    pub max_missing: f64,
}

/// `agemark celltypes`.
#[derive(Debug, Args)]
pub struct CelltypesArgs {
    /// The methylation input and how to read it.
    #[command(flatten)]
    pub input: MethInputArgs,
    /// Output prefix: writes <PREFIX>.celltypes.tsv and .parquet; "-" writes the TSV to stdout.
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub output: String,
    /// Reference panel (name or alias; see `agemark reference list`), e.g. blood, cordblood,
    /// placenta_term, blood_reinius450k, blood_epidish_dhs.
    #[arg(long, value_name = "NAME")]
    pub panel: String,
    /// Constraint on the fractions.
    #[arg(long, value_enum, default_value_t = ConstraintArg::SumLe1)]
    pub constraint: ConstraintArg,
    /// Refuse a sample when more than this fraction of the panel's CpGs has no value in it.
    #[arg(
        long,
        default_value_t = 0.2,
        value_name = "FRACTION",
        allow_negative_numbers = true
    )]
    pub max_missing: f64,
}

/// Constraint on cell fractions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ConstraintArg {
    /// Non-negative, sum at most 1 (Houseman 2012).
    #[value(name = "sum-le-1")]
    SumLe1,
    /// Non-negative, sum exactly 1 (as biolearn).
    #[value(name = "sum-eq-1")]
    SumEq1,
}

/// `agemark nr3c1`.
#[derive(Debug, Args)]
pub struct Nr3c1Args {
    /// The methylation input and how to read it.
    #[command(flatten)]
    pub input: MethInputArgs,
    /// Output prefix: writes <PREFIX>.nr3c1.tsv and .parquet; "-" writes the TSV to stdout.
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub output: String,
    /// A region mean fails when more than this fraction of its probes has no value in the sample.
    #[arg(
        long,
        default_value_t = 0.5,
        value_name = "FRACTION",
        allow_negative_numbers = true
    )]
    pub max_missing: f64,
}

/// A methylation input (beta matrix, IDATs, sequencing calls) and how to read it; shared by
/// `clocks`, `celltypes` and `nr3c1`.
#[derive(Debug, Args)]
pub struct MethInputArgs {
    /// Methylation input: a beta matrix (CSV or TSV, plain or gzip, or - for stdin), an IDAT
    /// directory or <barcode>_<position> prefix, a sequencing-calls file (Bismark .cov or
    /// CpG report, BISCUIT, methrix M/U, MethylDackel bedGraph, modkit bedMethyl), or a
    /// modBAM (.bam/.cram/.sam with MM/ML tags; needs --reference).
    #[arg(value_name = "BETAS")]
    pub betas: String,
    /// Layout of the matrix.
    #[arg(long, value_enum, default_value_t = CpgLayout::Auto)]
    pub cpgs_as: CpgLayout,
    /// The matrix holds M-values: convert each to beta = 2^M/(1+2^M).
    #[arg(long)]
    pub m_values: bool,
    /// IDAT input options.
    #[command(flatten)]
    pub idat: IdatInputArgs,
    /// Sequencing-calls input options.
    #[command(flatten)]
    pub calls: CallsInputArgs,
}

/// Options for IDAT input (see `agemark idat`).
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "IDAT options")]
pub struct IdatInputArgs {
    /// Array manifest for IDATs: Illumina CSV or sesame TSV (plain or gzip). Default: the
    /// bundled HM27 / 450K / MSA manifest, or the EPIC / EPICv2 manifest installed with
    /// `agemark reference install` (in $AGEMARK_DATA_DIR, else ~/.local/share/agemark).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<String>,
    /// Array platform of the IDATs (auto: recognised from the IDAT's bead addresses).
    #[arg(long, value_enum, default_value_t = PlatformArg::Auto)]
    pub platform: PlatformArg,
    /// Offset in beta = M / (M + U + offset): 0 as minfi/sesame (default), 100 as Illumina
    /// GenomeStudio.
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "X",
        allow_negative_numbers = true
    )]
    pub beta_offset: f64,
    /// pOOBAH detection p-value above which a probe is masked to NA.
    #[arg(
        long,
        default_value_t = 0.05,
        value_name = "P",
        allow_negative_numbers = true
    )]
    pub detection_p: f64,
}

/// Array platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PlatformArg {
    /// Recognise from the IDAT's bead addresses.
    #[default]
    Auto,
    /// Infinium HumanMethylation27.
    Hm27,
    /// Infinium HumanMethylation450.
    #[value(name = "450k")]
    Hm450,
    /// Infinium MethylationEPIC v1 (installed once with `agemark reference install`).
    Epic,
    /// Infinium MethylationEPIC v2 (installed once with `agemark reference install`).
    Epicv2,
    /// Infinium Methylation Screening Array (bundled).
    Msa,
}

/// `agemark idat`.
#[derive(Debug, Args)]
pub struct IdatArgs {
    /// IDAT directories (holding <barcode>_<position>_Grn.idat and _Red.idat, plain or .gz) or
    /// <barcode>_<position> prefixes.
    #[arg(required = true, value_name = "DIR_OR_PREFIX")]
    pub inputs: Vec<String>,
    /// Output prefix: writes <PREFIX>.betas.tsv.gz, .detection.tsv.gz, .idat_qc.tsv/.parquet
    /// and, when a sample failed, .failures.tsv.
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub output: String,
    /// Sample ids, one per input in order (separated by commas): they name the samples in the
    /// matrix columns, the QC rows and failures.tsv instead of the IDAT basenames. Each input
    /// must then name one IDAT pair.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub sample_ids: Option<Vec<String>>,
    /// IDAT options.
    #[command(flatten)]
    pub idat: IdatInputArgs,
}

/// Options for sequencing methylation calls (Bismark, BISCUIT, methrix, MethylDackel, modkit).
#[derive(Debug, Args, Default)]
pub struct CallsInputArgs {
    /// Genome build of sequencing-call coordinates (calls are mapped to probe IDs through the
    /// bundled hg19/hg38 probe positions; a file that looks like the other build is refused).
    #[arg(long, value_enum, default_value_t = BuildArg::Hg19)]
    pub build: BuildArg,
    /// Sequencing calls: minimum reads over both strands of a CpG for its beta (fewer: the
    /// probe is missing and imputed).
    #[arg(
        long,
        default_value_t = 5,
        value_name = "READS",
        allow_negative_numbers = true
    )]
    pub min_coverage: u64,
    /// Sequencing calls: the file format (default: detected from the name and first line).
    #[arg(long, value_enum)]
    pub calls_format: Option<CallsFormatArg>,
    /// modBAM input (BAM/CRAM/SAM with MM/ML tags): the reference FASTA the reads were aligned
    /// to; CpG sites come from it (see `agemark pileup`).
    #[arg(long, short = 'r', value_name = "FASTA")]
    pub reference: Option<PathBuf>,
    /// modBAM input: keep calls whose most likely state has at least probability P (default:
    /// estimated as the 10th percentile of the input's calls; 0 keeps every call).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub mod_threshold: Option<f64>,
}

/// Genome build of sequencing calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BuildArg {
    /// GRCh37 / hg19.
    #[default]
    Hg19,
    /// GRCh38 / hg38.
    Hg38,
}

/// Sequencing-calls formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CallsFormatArg {
    /// Bismark coverage (.cov): chr, start, end, %meth, count_meth, count_unmeth (1-based).
    BismarkCov,
    /// Bismark CpG/cytosine report: chr, pos, strand, count_meth, count_unmeth, context, trinuc.
    BismarkReport,
    /// BISCUIT bed: chr, start, end, beta, coverage (0-based).
    Biscuit,
    /// methrix-style M/U bedGraph: chr, start, M, U (0-based).
    MethrixMu,
    /// MethylDackel bedGraph: chr, start, end, %meth, nMeth, nUnmeth (0-based).
    Methyldackel,
    /// modkit pileup bedMethyl (18 columns, 0-based).
    Modkit,
}

/// `agemark reference`.
#[derive(Debug, Args)]
pub struct ReferenceArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ReferenceCommand,
}

/// `agemark reference` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReferenceCommand {
    /// Print every bundled model and reference table (CpGs, unit, citation, licence, use
    /// terms, sha256) and every array manifest, bundled or installed, as TSV; each table's
    /// checksum is verified first.
    List(ReferenceListArgs),
    /// Install EPIC / EPICv2 array manifests once, verified, for offline use by `agemark idat`.
    ///
    /// Accepts sesame's files (EPIC.ordering.tsv.gz, EPICv2.ordering.tsv.gz and their
    /// .hg38.coord.tsv.gz), recognised by upstream's published sha256, and Illumina's product
    /// CSV ([Assay] + [Controls]), checked by structure; refuses anything else, and a listed
    /// file whose sum differs. Writes <DATA_DIR>/manifests/<platform>.manifest.tsv.gz and a
    /// .source.tsv record.
    #[command(
        after_help = "Examples:\n  agemark reference install EPICv2.ordering.tsv.gz EPICv2.hg38.coord.tsv.gz\n  agemark reference install MethylationEPIC_v-1-0_B5.csv --platform epic\n  agemark reference install EPIC.ordering.tsv.gz --data-dir /shared/agemark   (then AGEMARK_DATA_DIR=/shared/agemark)"
    )]
    Install(ReferenceInstallArgs),
}

/// `agemark reference install`.
#[derive(Debug, Args)]
pub struct ReferenceInstallArgs {
    /// Manifest files (sesame ordering/coordinate tables, or an Illumina manifest CSV).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The array of an Illumina CSV whose heading does not name it.
    #[arg(long, value_enum)]
    pub platform: Option<PlatformArg>,
    /// More sha256 lists (`<sha256>  <file name>` lines) to recognise files by, besides the
    /// bundled upstream lists.
    #[arg(long, value_name = "FILE")]
    pub sha256sums: Vec<PathBuf>,
    /// Where to install (default: $AGEMARK_DATA_DIR, else $XDG_DATA_HOME/agemark, else
    /// ~/.local/share/agemark).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `agemark reference list`.
#[derive(Debug, Args)]
pub struct ReferenceListArgs {
    /// Also list the models of this directory (clocks.tsv + tables).
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// Where installed manifests live (default as `reference install`).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}
