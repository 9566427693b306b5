//! Command-line arguments (clap derive structs only; no logic).

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
    #[arg(long, short = 't', global = true, value_name = "N")]
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
    Telomere(TelomereArgs),
    /// mtDNA copy number from aligned reads (2 × chrM depth / autosomal depth).
    ///
    /// Writes <PREFIX>.mtdna.tsv and <PREFIX>.mtdna.parquet.
    Mtdna(MtdnaArgs),
    /// Telomere and mtDNA stages on ONE decode of the input (the command workflows call).
    ///
    /// Writes <PREFIX>.telomere.tsv/.parquet and <PREFIX>.mtdna.tsv/.parquet.
    Reads(ReadsArgs),
    /// Run the read stages on the bundled demo data (real reads + one synthetic sample).
    Demo(DemoArgs),
}

/// Read input options shared by read stages.
#[derive(Debug, Args)]
pub struct ReadInputArgs {
    /// Reads: BAM, CRAM, SAM, FASTQ(.gz), or - for stdin. A second FASTQ makes a pair.
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

/// `agemark telomere`.
#[derive(Debug, Args)]
pub struct TelomereArgs {
    /// Inputs and output.
    #[command(flatten)]
    pub input: ReadInputArgs,
    /// Telomere options.
    #[command(flatten)]
    pub telomere: TelomereOpts,
}

/// Telomere estimator options.
#[derive(Debug, Args)]
#[command(next_help_heading = "Telomere options")]
pub struct TelomereOpts {
    /// TelSeq: reads with at least K TTAGGG/CCCTAA repeats count as telomeric.
    #[arg(short = 'k', long = "telseq-k", default_value_t = 7, value_name = "K")]
    pub k: u32,
    /// Reproduce the TelSeq 0.0.1 binary's numbers (all records, last record twice, float maths).
    #[arg(long)]
    pub telseq_compat: bool,
    /// TelomereHunter: fixed repeat threshold instead of 6 per 100 bp of read length.
    #[arg(long, value_name = "N")]
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
    #[arg(long, default_value_t = 0, value_name = "Q")]
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
    #[arg(long, default_value_t = 400, value_name = "N")]
    pub fast_windows: usize,
    /// Fast mode: window length in bases.
    #[arg(long, default_value_t = 100_000, value_name = "BP")]
    pub fast_window_size: u64,
    /// Fast mode: seed of the window draw.
    #[arg(long, default_value_t = 1)]
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
