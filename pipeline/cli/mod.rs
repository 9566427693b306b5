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
    /// Run the telomere stage on the bundled demo data (real reads + one synthetic sample).
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
