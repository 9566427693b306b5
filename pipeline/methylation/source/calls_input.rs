//! Sequencing methylation calls as a methylation input (issue 5): one sample per file, mapped
//! to Illumina probe IDs through genome coordinates ([`crate::coords`]) into a [`ProbeTable`].
//!
//! ## Formats (detected from the name, then the first data line; every line must have the
//! format's column count)
//! | format | columns | coordinates |
//! |---|---|---|
//! | Bismark coverage (`*.cov[.gz]`) | chr, start, end, %meth, count_meth, count_unmeth | 1-based, one line per C per strand (`start = end`); `end = start + 1` is a merged CpG (`coverage2cytosine --merge_CpG`) |
//! | Bismark CpG / cytosine report (`*CpG_report.txt`, `*CX_report.txt`) | chr, pos, strand, count_meth, count_unmeth, context, trinucleotide | 1-based, strand given; only `CG` context lines are used |
//! | BISCUIT bed | chr, start, end, beta, coverage | 0-based start, per C (`end = start + 1`) or merged CpG (`+ 2`); methylated = round(beta × coverage) |
//! | methrix M/U bedGraph | chr, start, M, U | 0-based start, per C |
//! | MethylDackel bedGraph (`track` line) | chr, start, end, %meth, nMeth, nUnmeth | 0-based, per C or merged CpG (`--mergeContext`) |
//! | modkit bedMethyl (18 columns) | chr, start, end, code, score, strand, …, N_valid_cov (10), %mod, N_mod (12), … | 0-based; strand `+`, `-` or `.` (strands combined) |
//!
//! modkit: rows with code `m` (5mC) are used, methylated = N_mod and total = N_valid_cov (so a
//! 5hmC call at the site counts as not 5mC); `C` rows (any modification, `--combine-mods`) are
//! used the same way; `h` (5hmC) and other codes are skipped and counted in the notes. A
//! bisulfite array reads 5mC + 5hmC as methylated, so nanopore 5mC fractions can sit below
//! array betas where 5hmC is common (brain), hardly in blood.
//!
//! ## Mapping
//! A probe's CpG is known by the 1-based position `p` of its + strand C; its − strand C is at
//! `p + 1`. A call line at 1-based `q` counts for the probe at `q` when it is a + strand (or
//! merged) call, at `q − 1` when it is a − strand call, and at whichever of the two is a probe
//! when the format has no strand (both cannot be). Both strands of a CpG are merged by summing
//! methylated and total counts; the probe's beta is methylated / total when the total reaches
//! the minimum coverage ([`CallsInputOptions::min_coverage`], default
//! [`DEFAULT_MIN_COVERAGE`]), otherwise the probe is missing (and imputed by the clocks).
//!
//! ## Checks (from the probe CpGs, no genome needed)
//! * **0/1-based confusion**: the calls are also counted on probe CpGs as if every position
//!   were one base lower or higher. On the right convention the lines pile up on the two C's
//!   of probe CpGs; shifted by one, half of them (all, for merged or + strand files) land
//!   beside them. When a shift explains clearly more lines than the positions as read, the
//!   file is refused with the counts.
//! * **Build**: the lines are also counted on probe CpGs of the other build; few hits in the
//!   named build and many in the other one is an error that names the build to use.

use std::io::{BufRead, BufReader};

use super::{looks_like_probe, table::ProbeTable, ReaderOptions};
use crate::{
    coords::{self, Assembly, ProbeIndex},
    core::{build::chromosome_number, file_name_of, thousands},
    methylation::{quote_cell, InputError},
};

/// Default minimum coverage (reads over both strands of a CpG) for a probe's beta: 5, as
/// biscuiteer's `WGBSage` (`minCovg = 5`); at 5 reads a beta's binomial SD is at most 0.22,
/// and a probe below it is imputed instead.
pub const DEFAULT_MIN_COVERAGE: u64 = 5;

/// Lines examined for the 0/1-based and build checks (the first ones of the file).
const DIAG_LINES: u64 = 5_000_000;

/// Below this many call lines on probe CpGs, the lines are also counted in the other build.
const OTHER_BUILD_CHECK_BELOW: u64 = 2_000;

/// Genome builds sequencing calls can be mapped from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CallsBuild {
    /// GRCh37/hg19 coordinates.
    #[default]
    Hg19,
    /// GRCh38/hg38 coordinates.
    Hg38,
}

impl CallsBuild {
    /// The coordinate assembly.
    pub fn assembly(self) -> Assembly {
        match self {
            CallsBuild::Hg19 => Assembly::Hg19,
            CallsBuild::Hg38 => Assembly::Hg38,
        }
    }
}

/// A sequencing-calls format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallsFormat {
    /// Bismark coverage (`.cov`).
    BismarkCov,
    /// Bismark CpG / genome-wide cytosine report.
    BismarkReport,
    /// BISCUIT bed (`chr start end beta coverage`).
    Biscuit,
    /// methrix-style M/U bedGraph (`chr start M U`).
    MethrixMu,
    /// MethylDackel bedGraph.
    MethylDackel,
    /// modkit pileup bedMethyl (18 columns).
    Modkit,
    /// Reads with `MM`/`ML` tags, piled up at the reference's CpGs
    /// ([`super::modbam_input`]).
    ModBam,
}

impl CallsFormat {
    /// Columns per line.
    pub fn n_columns(self) -> usize {
        match self {
            CallsFormat::BismarkCov | CallsFormat::MethylDackel => 6,
            CallsFormat::BismarkReport => 7,
            CallsFormat::Biscuit => 5,
            CallsFormat::MethrixMu => 4,
            CallsFormat::Modkit => 18,
            CallsFormat::ModBam => 0,
        }
    }

    /// The format in words, with its columns.
    pub fn describe(self) -> &'static str {
        match self {
            CallsFormat::BismarkCov => "Bismark coverage file (chr, start, end, %meth, count_meth, count_unmeth; 1-based)",
            CallsFormat::BismarkReport => "Bismark cytosine report (chr, pos, strand, count_meth, count_unmeth, context, trinucleotide; 1-based)",
            CallsFormat::Biscuit => "BISCUIT bed (chr, start, end, beta, coverage; 0-based)",
            CallsFormat::MethrixMu => "methrix M/U bedGraph (chr, start, M, U; 0-based)",
            CallsFormat::MethylDackel => "MethylDackel bedGraph (chr, start, end, %meth, nMeth, nUnmeth; 0-based)",
            CallsFormat::Modkit => "modkit bedMethyl (18 columns; 0-based)",
            CallsFormat::ModBam => "modBAM (MM/ML tags) piled up at the reference's CpGs",
        }
    }

    /// A short name for notes.
    pub fn name(self) -> &'static str {
        match self {
            CallsFormat::BismarkCov => "Bismark coverage",
            CallsFormat::BismarkReport => "Bismark cytosine report",
            CallsFormat::Biscuit => "BISCUIT bed",
            CallsFormat::MethrixMu => "methrix M/U bedGraph",
            CallsFormat::MethylDackel => "MethylDackel bedGraph",
            CallsFormat::Modkit => "modkit bedMethyl",
            CallsFormat::ModBam => "modBAM pileup",
        }
    }

    fn zero_based(self) -> bool {
        !matches!(self, CallsFormat::BismarkCov | CallsFormat::BismarkReport)
    }
}

/// Options for sequencing calls.
#[derive(Clone, Debug)]
pub struct CallsInputOptions {
    /// The build the calls' coordinates are in.
    pub build: CallsBuild,
    /// Minimum reads over both strands of a CpG for its beta (below: missing).
    pub min_coverage: u64,
    /// The format, when not detected.
    pub format: Option<CallsFormat>,
    /// The reference FASTA of a modBAM input (its CpG sites).
    pub reference: Option<std::path::PathBuf>,
    /// A modBAM pileup's call threshold (`None`: estimated).
    pub mod_threshold: Option<f64>,
}

impl Default for CallsInputOptions {
    fn default() -> Self {
        CallsInputOptions {
            build: CallsBuild::default(),
            min_coverage: DEFAULT_MIN_COVERAGE,
            format: None,
            reference: None,
            mod_threshold: None,
        }
    }
}

/// One covered CpG of a calls file, by coordinate, both strands merged.
#[derive(Clone, Debug, PartialEq)]
pub struct CoveredCpg {
    /// Chromosome as named in the file.
    pub chrom: String,
    /// 1-based position of the C of the CpG on the + strand.
    pub pos: u64,
    /// Methylated calls (both strands).
    pub methylated: u32,
    /// All calls (both strands).
    pub coverage: u32,
    /// methylated / coverage.
    pub beta: f64,
}

/// Which strand a call line is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strand {
    /// The + strand C (the CpG starts here).
    Plus,
    /// The − strand C (the CpG starts one base before).
    Minus,
    /// A per-C line of a format without a strand column.
    Unknown,
    /// Both strands of the CpG starting here.
    Merged,
}

/// One call line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Call<'a> {
    /// Chromosome as named in the file.
    pub chrom: &'a str,
    /// 1-based position of the line's C (of the CpG's + C for merged lines).
    pub pos: u64,
    /// Strand.
    pub strand: Strand,
    /// Methylated calls.
    pub methylated: u64,
    /// All calls.
    pub total: u64,
}

/// What a pass over a file skipped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadStats {
    /// Call lines handed over.
    pub lines: u64,
    /// Cytosine-report lines of another context (CHG, CHH).
    pub non_cg: u64,
    /// modkit 5hmC (`h`) rows.
    pub hmc_rows: u64,
    /// modkit rows with another modification code.
    pub other_mod_rows: u64,
    /// modkit code of the used rows (`m` or `C`).
    pub mod_code: Option<char>,
}

fn strip_gz(name: &str) -> &str {
    name.strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".bgz"))
        .unwrap_or(name)
}

fn format_from_name(path: &str) -> Option<CallsFormat> {
    let name = file_name_of(path).to_ascii_lowercase();
    let n = strip_gz(&name);
    if n.contains("cpg_report")
        || n.contains("cx_report")
        || n.contains("cytosine_report")
        || n.contains("cytosinereport")
    {
        Some(CallsFormat::BismarkReport)
    } else if n.ends_with(".cov") {
        Some(CallsFormat::BismarkCov)
    } else if n.ends_with(".bedmethyl") {
        Some(CallsFormat::Modkit)
    } else {
        None
    }
}

fn name_says_calls(path: &str) -> bool {
    let name = file_name_of(path).to_ascii_lowercase();
    let n = strip_gz(&name);
    format_from_name(path).is_some() || n.ends_with(".bedgraph") || n.ends_with(".bed")
}

/// Opens a calls file once: its first bytes (peeked, not consumed) say whether it is gzip.
fn open(path: &str) -> Result<Box<dyn BufRead>, InputError> {
    let f = std::fs::File::open(path)
        .map_err(|e| InputError::file(path, format!("cannot open: {e}")))?;
    let mut raw = BufReader::with_capacity(1 << 17, f);
    let gzip = raw
        .fill_buf()
        .map_err(|e| InputError::file(path, format!("cannot read: {e}")))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::with_capacity(
            1 << 17,
            flate2::read::MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    })
}

fn is_header(line: &str) -> bool {
    line.starts_with("track") || line.starts_with('#') || line.starts_with("browser")
}

/// The first data lines of a file (up to `n`), or an empty list when it cannot be read.
fn first_lines(path: &str, n: usize) -> Vec<String> {
    let Ok(r) = open(path) else {
        return Vec::new();
    };
    r.lines()
        .take(n + 20)
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty() && !is_header(l))
        .take(n)
        .collect()
}

/// Whether `path` names a sequencing-calls file: by name (`.cov`, `CpG_report`, `.bedMethyl`,
/// `.bedGraph`, `.bed`, each optionally `.gz`), else by its first two data lines (tab-separated,
/// at least 4 columns, the first not a probe ID, the second a whole number).
pub fn detect(path: &str) -> bool {
    if std::path::Path::new(path).is_dir() {
        return false;
    }
    if super::modbam_input::detect(path) {
        return true;
    }
    if name_says_calls(path) {
        return true;
    }
    let lines = first_lines(path, 2);
    !lines.is_empty()
        && lines.iter().all(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            f.len() >= 4
                && !f[0].is_empty()
                && !looks_like_probe(f[0])
                && !f[1].is_empty()
                && f[1].bytes().all(|b| b.is_ascii_digit())
        })
}

/// The format of `path`: from the name (`.cov`, `CpG_report`, `.bedMethyl`), else from the
/// column count of the first data line.
pub fn detect_format(path: &str) -> Result<CallsFormat, InputError> {
    if super::modbam_input::detect(path) {
        return Ok(CallsFormat::ModBam);
    }
    if let Some(f) = format_from_name(path) {
        return Ok(f);
    }
    let lines = first_lines(path, 1);
    let Some(line) = lines.first() else {
        return Err(InputError::file(path, "no call lines"));
    };
    let f: Vec<&str> = line.split_ascii_whitespace().collect();
    let width =
        || -> Option<i64> { Some(f.get(2)?.parse::<i64>().ok()? - f.get(1)?.parse::<i64>().ok()?) };
    Ok(match f.len() {
        18 => CallsFormat::Modkit,
        7 if matches!(f[2], "+" | "-") => CallsFormat::BismarkReport,
        6 if width() == Some(0) => CallsFormat::BismarkCov,
        6 => CallsFormat::MethylDackel,
        5 => CallsFormat::Biscuit,
        4 => CallsFormat::MethrixMu,
        n => {
            return Err(InputError::row(
                path,
                1,
                format!(
                    "{n} columns: not a known calls format (Bismark coverage: 6, Bismark cytosine report: 7, BISCUIT bed: 5, methrix M/U bedGraph: 4, MethylDackel bedGraph: 6, modkit bedMethyl: 18)"
                ),
            ))
        }
    })
}

/// Reads every call line of `path` in `format`, handing each to `f` with its 1-based line
/// number. Lines with no calls (total 0) are skipped.
pub fn read_calls(
    path: &str,
    format: CallsFormat,
    opts: &CallsInputOptions,
    mut f: impl FnMut(u64, Call<'_>) -> Result<(), InputError>,
) -> Result<ReadStats, InputError> {
    if format == CallsFormat::ModBam {
        return modbam_calls(path, opts, f);
    }
    let mut reader = open(path)?;
    let mut stats = ReadStats::default();
    let mut buf = String::new();
    let mut line_no = 0u64;
    let want = format.n_columns();
    loop {
        buf.clear();
        let n = reader
            .read_line(&mut buf)
            .map_err(|e| InputError::row(path, line_no + 1, format!("read error: {e}")))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = buf.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() || is_header(line) {
            continue;
        }
        let mut cells = [""; 18];
        let mut k = 0;
        for x in line.split_ascii_whitespace() {
            if k < cells.len() {
                cells[k] = x;
            }
            k += 1;
        }
        if k != want {
            return Err(InputError::row(
                path,
                line_no,
                format!("{k} columns, expected {want} for a {}", format.describe()),
            ));
        }
        let fields = &cells[..k];
        let num = |k: usize, what: &str| -> Result<u64, InputError> {
            fields[k].parse::<u64>().map_err(|_| {
                InputError::row(
                    path,
                    line_no,
                    format!(
                        "{what} (column {}) is not a whole number: {}",
                        k + 1,
                        quote_cell(fields[k])
                    ),
                )
            })
        };
        let frac = |k: usize, what: &str| -> Result<f64, InputError> {
            fields[k].parse::<f64>().map_err(|_| {
                InputError::row(
                    path,
                    line_no,
                    format!(
                        "{what} (column {}) is not a number: {}",
                        k + 1,
                        quote_cell(fields[k])
                    ),
                )
            })
        };
        let bad = |m: String| InputError::row(path, line_no, m);
        // Start and end as the file has them → the 1-based position of the first base and the
        // interval's width in bases.
        let interval = |one_based_closed: bool| -> Result<(u64, u64), InputError> {
            let s = num(1, "start")?;
            let e = num(2, "end")?;
            if one_based_closed {
                if e < s || s == 0 {
                    return Err(bad(format!(
                        "end {e} before start {s} (or start 0 in a 1-based file)"
                    )));
                }
                Ok((s, e - s + 1))
            } else {
                if e <= s {
                    return Err(bad(format!(
                        "end {e} not after start {s} in a 0-based file"
                    )));
                }
                Ok((s + 1, e - s))
            }
        };
        let by_width = |w: u64| -> Result<Strand, InputError> {
            match w {
                1 => Ok(Strand::Unknown),
                2 => Ok(Strand::Merged),
                _ => Err(bad(format!(
                    "an interval of {w} bases: expected one C (1) or one CpG (2)"
                ))),
            }
        };
        let call = match format {
            CallsFormat::BismarkCov => {
                let (pos, w) = interval(true)?;
                let m = num(4, "count_meth")?;
                let u = num(5, "count_unmeth")?;
                Call {
                    chrom: fields[0],
                    pos,
                    strand: by_width(w)?,
                    methylated: m,
                    total: m + u,
                }
            }
            CallsFormat::BismarkReport => {
                if fields[5] != "CG" {
                    stats.non_cg += 1;
                    continue;
                }
                let pos = num(1, "position")?;
                let strand = match fields[2] {
                    "+" => Strand::Plus,
                    "-" => Strand::Minus,
                    s => {
                        return Err(bad(format!(
                            "strand (column 3) is not + or -: {}",
                            quote_cell(s)
                        )))
                    }
                };
                let m = num(3, "count_meth")?;
                let u = num(4, "count_unmeth")?;
                Call {
                    chrom: fields[0],
                    pos,
                    strand,
                    methylated: m,
                    total: m + u,
                }
            }
            CallsFormat::Biscuit => {
                let (pos, w) = interval(false)?;
                let cov = num(4, "coverage")?;
                if cov == 0 || matches!(fields[3], "." | "NA") {
                    continue;
                }
                let beta = frac(3, "beta")?;
                if !(0.0..=1.0).contains(&beta) {
                    return Err(bad(format!(
                        "beta (column 4) outside [0, 1]: {}",
                        quote_cell(fields[3])
                    )));
                }
                let m = (beta * cov as f64).round() as u64;
                Call {
                    chrom: fields[0],
                    pos,
                    strand: by_width(w)?,
                    methylated: m,
                    total: cov,
                }
            }
            CallsFormat::MethrixMu => {
                let start = num(1, "start")?;
                let m = num(2, "M")?;
                let u = num(3, "U")?;
                if m == start + 1 {
                    return Err(bad("the third column is start + 1: this looks like a bedGraph with an end column and a percentage (Bismark's .bedGraph has no counts), not methrix M/U counts; give the Bismark .cov file instead".to_string()));
                }
                Call {
                    chrom: fields[0],
                    pos: start + 1,
                    strand: Strand::Unknown,
                    methylated: m,
                    total: m + u,
                }
            }
            CallsFormat::MethylDackel => {
                let (pos, w) = interval(false)?;
                let m = num(4, "nMeth")?;
                let u = num(5, "nUnmeth")?;
                Call {
                    chrom: fields[0],
                    pos,
                    strand: by_width(w)?,
                    methylated: m,
                    total: m + u,
                }
            }
            CallsFormat::Modkit => {
                let code = fields[3];
                match code {
                    "m" | "C" => {
                        let c = code.chars().next().unwrap_or('m');
                        match stats.mod_code {
                            Some(prev) if prev != c => {
                                return Err(bad("both 'm' (5mC) and 'C' (any modification) rows: the same calls would count twice; keep one (modkit pileup with or without --combine-mods)".to_string()))
                            }
                            _ => stats.mod_code = Some(c),
                        }
                    }
                    "h" => {
                        stats.hmc_rows += 1;
                        continue;
                    }
                    _ => {
                        stats.other_mod_rows += 1;
                        continue;
                    }
                }
                let (pos, w) = interval(false)?;
                if w != 1 {
                    return Err(bad(format!(
                        "an interval of {w} bases: modkit rows are one base"
                    )));
                }
                let strand = match fields[5] {
                    "+" => Strand::Plus,
                    "-" => Strand::Minus,
                    "." => Strand::Merged,
                    s => {
                        return Err(bad(format!(
                            "strand (column 6) is not +, - or .: {}",
                            quote_cell(s)
                        )))
                    }
                };
                let valid = num(9, "N_valid_cov")?;
                let m = num(11, "N_mod")?;
                if m > valid {
                    return Err(bad(format!("N_mod {m} above N_valid_cov {valid}")));
                }
                Call {
                    chrom: fields[0],
                    pos,
                    strand,
                    methylated: m,
                    total: valid,
                }
            }
            // Handled before the loop.
            CallsFormat::ModBam => continue,
        };
        if call.methylated > call.total {
            return Err(bad("more methylated calls than calls".to_string()));
        }
        if call.total == 0 {
            continue;
        }
        stats.lines += 1;
        f(line_no, call)?;
    }
    Ok(stats)
}

/// The probe whose CpG a call at `pos` (read as shifted by `shift`) belongs to.
#[inline]
fn probe_at(idx: &ProbeIndex, chrom: u8, pos: u64, strand: Strand, shift: i64) -> Option<u32> {
    let q = pos as i64 + shift;
    if q < 2 {
        return None;
    }
    let q = q as u64;
    match strand {
        Strand::Plus | Strand::Merged => idx.get(chrom, q),
        Strand::Minus => idx.get(chrom, q - 1),
        Strand::Unknown => idx.get(chrom, q).or_else(|| idx.get(chrom, q - 1)),
    }
}

/// Caches the chromosome number of the last chromosome name seen (files are sorted).
#[derive(Default)]
struct ChromCache {
    name: String,
    number: Option<u8>,
}

impl ChromCache {
    fn get(&mut self, name: &str) -> Option<u8> {
        if name != self.name {
            self.name.clear();
            self.name.push_str(name);
            self.number = chromosome_number(name);
        }
        self.number
    }
}

/// What mapping a calls file to probes found.
#[derive(Clone, Debug, PartialEq)]
pub struct CallsSummary {
    /// The format read.
    pub format: CallsFormat,
    /// The build mapped in.
    pub build: Assembly,
    /// Skips and counts of the pass.
    pub stats: ReadStats,
    /// Probe IDs with at least one call, in index order.
    pub probes: Vec<String>,
    /// Methylated and total calls per probe in `probes` (both strands summed).
    pub counts: Vec<(u64, u64)>,
    /// Of `probes`, how many were placed in this build by liftover.
    pub lifted_hits: u64,
    /// Of `probes`, how many are 450K probes (the others are EPIC-only CpGs of the MSA table).
    pub hm450_hits: u64,
    /// Call lines on probe CpGs with positions as read, one lower, one higher (first lines).
    pub shift_lines: [u64; 3],
    /// Call lines on probe CpGs of the other build (first lines; counted only when few fall on
    /// probe CpGs of the named build, else 0).
    pub other_build_lines: u64,
}

impl CallsSummary {
    /// Probes with at least `min` reads.
    pub fn n_at(&self, min: u64) -> usize {
        self.counts.iter().filter(|c| c.1 >= min.max(1)).count()
    }
}

/// Reads `path` and sums its calls per probe of `opts.calls.build`, with the 0/1-based and
/// build checks.
pub fn map_to_probes(path: &str, opts: &ReaderOptions) -> Result<CallsSummary, InputError> {
    map_to_probes_with(path, opts, |_| {})
}

/// [`map_to_probes`], also handing every call line of the pass to `observe`.
pub fn map_to_probes_with(
    path: &str,
    opts: &ReaderOptions,
    mut observe: impl FnMut(&Call<'_>),
) -> Result<CallsSummary, InputError> {
    let format = match opts.calls.format {
        Some(f) => f,
        None => detect_format(path)?,
    };
    let build = if format == CallsFormat::ModBam {
        let p = super::modbam_input::pileup(path, &opts.calls)?;
        super::modbam_input::build_of(path, &p, opts.calls.build)?.assembly()
    } else {
        opts.calls.build.assembly()
    };
    let coord_err =
        |e: coords::CoordError| InputError::file(path, format!("bundled coordinates: {e}"));
    let idx = coords::probe_index(build).map_err(coord_err)?;
    let mut sums: Vec<(u64, u64)> = vec![(0, 0); idx.len()];
    let mut shift_lines = [0u64; 3];
    let mut cache = ChromCache::default();
    let stats = read_calls(path, format, &opts.calls, |line, call| {
        observe(&call);
        let Some(c) = cache.get(call.chrom) else {
            return Ok(());
        };
        if let Some(p) = probe_at(idx, c, call.pos, call.strand, 0) {
            let s = &mut sums[p as usize];
            s.0 += call.methylated;
            s.1 += call.total;
        }
        if line <= DIAG_LINES {
            for (k, shift) in [-1i64, 0, 1].into_iter().enumerate() {
                if probe_at(idx, c, call.pos, call.strand, shift).is_some() {
                    shift_lines[k] += 1;
                }
            }
        }
        Ok(())
    })?;
    // 0/1-based confusion: a shift by one base explains clearly more lines.
    let as_read = shift_lines[1];
    for (k, label) in [(0usize, -1i64), (2, 1)] {
        let shifted = shift_lines[k];
        if shifted >= 10 && shifted as f64 > 1.5 * as_read as f64 {
            let hint = if label > 0 {
                if format.zero_based() {
                    "1-based positions in a file read as 0-based"
                } else {
                    "0-based (bed-style) positions in a file read as 1-based"
                }
            } else if format.zero_based() {
                "positions one too high (1-based starts in a bed-style file, or 1-based with end as start)"
            } else {
                "positions one too high for 1-based coordinates"
            };
            return Err(InputError::file(
                path,
                format!(
                    "positions look shifted by one base: {} call lines fall on {} probe CpGs when moved {:+}, only {} as read as a {}: {hint}? Check the coordinate convention of the tool that wrote it (or pass --calls-format)",
                    thousands(shifted),
                    build.as_str(),
                    label,
                    thousands(as_read),
                    format.describe()
                ),
            ));
        }
    }
    // The build check reads the file again with the other build's index, only when few lines
    // fell on probe CpGs (a right-build file has thousands).
    let mut other_lines = 0;
    if as_read < OTHER_BUILD_CHECK_BELOW {
        let other = coords::probe_index(build.other()).map_err(coord_err)?;
        let mut cache = ChromCache::default();
        read_calls(path, format, &opts.calls, |line, call| {
            if line <= DIAG_LINES {
                if let Some(c) = cache.get(call.chrom) {
                    if probe_at(other, c, call.pos, call.strand, 0).is_some() {
                        other_lines += 1;
                    }
                }
            }
            Ok(())
        })?;
    }
    if other_lines >= 20 && other_lines > 4 * as_read {
        return Err(InputError::file(
            path,
            format!(
                "the positions look like {other}, not {this}: {} call lines fall on probe CpGs in {other}, {} in {this}; rerun with --build {other}",
                thousands(other_lines),
                thousands(as_read),
                other = build.other().as_str(),
                this = build.as_str(),
            ),
        ));
    }
    // Probes sharing a CpG with the one the index returns get its calls too.
    for (&first, others) in &idx.shared {
        for &o in others {
            sums[o as usize] = sums[first as usize];
        }
    }
    let mut probes = Vec::new();
    let mut counts = Vec::new();
    let mut lifted_hits = 0;
    let mut hm450_hits = 0;
    for (i, s) in sums.iter().enumerate() {
        if s.1 > 0 {
            probes.push(idx.name(i as u32));
            counts.push(*s);
            if idx.lifted[i] {
                lifted_hits += 1;
            }
            if !idx.msa_only[i] {
                hm450_hits += 1;
            }
        }
    }
    Ok(CallsSummary {
        format,
        build,
        stats,
        probes,
        counts,
        lifted_hits,
        hm450_hits,
        shift_lines,
        other_build_lines: other_lines,
    })
}

/// The call lines of a modBAM: one per CpG strand of its pileup (see [`super::modbam_input`]).
fn modbam_calls(
    path: &str,
    opts: &CallsInputOptions,
    mut f: impl FnMut(u64, Call<'_>) -> Result<(), InputError>,
) -> Result<ReadStats, InputError> {
    let p = super::modbam_input::pileup(path, opts)?;
    let mut stats = ReadStats {
        mod_code: Some('m'),
        ..Default::default()
    };
    for (line, (tid, pos, strand, c)) in p.sites.iter().enumerate() {
        stats.lines += 1;
        if c.has_h {
            stats.hmc_rows += 1;
        }
        f(
            line as u64 + 1,
            Call {
                chrom: &p.contigs[*tid].0,
                pos: pos + 1,
                strand: match strand {
                    b'+' => Strand::Plus,
                    b'-' => Strand::Minus,
                    _ => Strand::Merged,
                },
                methylated: u64::from(c.m),
                total: u64::from(c.valid()),
            },
        )?;
    }
    Ok(stats)
}

/// A sample name from a calls file's name: without directories, `.gz`, the format's extension
/// and the usual tool suffixes (`.bismark`, `.CpG_report`, `_bismark_bt2_pe`, `.MU`…).
pub fn sample_name(path: &str) -> String {
    let name = file_name_of(path);
    let mut n = strip_gz(&name).to_string();
    for ext in [
        ".bam",
        ".cram",
        ".sam",
        ".cov",
        ".bedMethyl",
        ".bedmethyl",
        ".bedGraph",
        ".bedgraph",
        ".bed",
        ".txt",
        ".tsv",
    ] {
        if let Some(s) = n.strip_suffix(ext) {
            n = s.to_string();
            break;
        }
    }
    loop {
        let before = n.len();
        for suffix in [
            ".bismark",
            ".CpG_report",
            ".CX_report",
            ".cytosine_report",
            ".cytosineReport",
            "_bismark_bt2_pe",
            "_bismark_bt2",
            "_bismark",
            ".deduplicated",
            ".MU",
            ".biscuit",
            ".modkit",
            "_CpG",
        ] {
            if let Some(s) = n.strip_suffix(suffix) {
                if !s.is_empty() {
                    n = s.to_string();
                }
            }
        }
        if n.len() == before {
            break;
        }
    }
    n
}

/// Reads the calls of `path` (one sample per file) into a probe table: one row per probe with
/// at least `min_coverage` reads over both strands, beta = methylated / total.
pub fn load(path: &str, opts: &ReaderOptions) -> Result<ProbeTable, InputError> {
    load_with(path, opts, |_| {})
}

/// [`load`], also handing every call line of the pass to `observe` (one read of the file for
/// the probe table and, say, a [`RegionCollector`]).
pub fn load_with(
    path: &str,
    opts: &ReaderOptions,
    observe: impl FnMut(&Call<'_>),
) -> Result<ProbeTable, InputError> {
    let s = map_to_probes_with(path, opts, observe)?;
    let min = opts.calls.min_coverage.max(1);
    let mut probes = Vec::new();
    let mut values = Vec::new();
    for (p, &(m, t)) in s.probes.iter().zip(&s.counts) {
        if t >= min {
            probes.push(p.clone());
            values.push(m as f64 / t as f64);
        }
    }
    let mut notes = vec![format!(
        "input: sequencing calls ({}, {}); {} probe CpGs with >= {min} reads used of {} covered ({} 450K, {} EPIC-only; both strands summed; --min-coverage)",
        s.format.name(),
        s.build.as_str(),
        thousands(probes.len() as u64),
        thousands(s.probes.len() as u64),
        thousands(s.hm450_hits),
        thousands(s.probes.len() as u64 - s.hm450_hits),
    )];
    if s.lifted_hits > 0 {
        notes.push(format!(
            "{} covered probe CpGs placed in {} by liftover from {}",
            thousands(s.lifted_hits),
            s.build.as_str(),
            s.build.other().as_str()
        ));
    }
    if s.format != CallsFormat::ModBam && (s.stats.hmc_rows > 0 || s.stats.mod_code.is_some()) {
        notes.push(format!(
            "modkit: '{}' rows used as methylated/N_valid_cov; {} 5hmC ('h') rows and {} other rows ignored",
            s.stats.mod_code.unwrap_or('m'),
            thousands(s.stats.hmc_rows),
            thousands(s.stats.other_mod_rows)
        ));
    }
    if s.format == CallsFormat::ModBam {
        let p = super::modbam_input::pileup(path, &opts.calls)?;
        notes.push(super::modbam_input::note(&p));
    }
    if s.stats.non_cg > 0 {
        notes.push(format!(
            "{} non-CpG cytosine lines skipped",
            thousands(s.stats.non_cg)
        ));
    }
    if probes.is_empty() {
        return Err(InputError::file(
            path,
            format!(
                "no probe CpG has >= {min} reads in {} ({} call lines, {} probe CpGs covered at any depth): wrong --build, or lower --min-coverage",
                s.build.as_str(),
                thousands(s.stats.lines),
                thousands(s.probes.len() as u64)
            ),
        ));
    }
    Ok(ProbeTable {
        input: file_name_of(path),
        samples: vec![sample_name(path)],
        probes,
        values,
        notes,
    })
}

/// Every CpG of `path` covered at the minimum coverage inside `chrom:start-end` (1-based,
/// inclusive, in the build of `opts.calls.build`; `chrom` with or without `chr`), sorted by
/// position: for reporting a region (the NR3C1 promoter) by coordinate, not only by probe.
///
/// Lines with a strand (or merged CpGs) are placed exactly. For formats without a strand
/// column, a line is placed on a probe CpG when it is one of its C's; otherwise two lines at
/// adjacent positions `q`, `q + 1` are taken as the two C's of the CpG at `q` (pairing left to
/// right), and a lone line is taken as the + strand C at its own position (without the genome
/// sequence a lone − strand call cannot be told apart; it is then reported one base high).
pub fn region_cpgs(
    path: &str,
    opts: &ReaderOptions,
    chrom: &str,
    start: u64,
    end: u64,
) -> Result<Vec<CoveredCpg>, InputError> {
    let format = match opts.calls.format {
        Some(f) => f,
        None => detect_format(path)?,
    };
    let mut region = RegionCollector::new(path, opts, chrom, start, end)?;
    read_calls(path, format, &opts.calls, |_, call| {
        region.add(&call);
        Ok(())
    })?;
    Ok(region.finish())
}

/// The fold of [`region_cpgs`] over the call lines, for a pass that also does other work
/// ([`load_with`]: the probe table and the region from one read of the file).
pub struct RegionCollector {
    want: Option<u8>,
    chrom: String,
    idx: &'static coords::ProbeIndex,
    start: u64,
    end: u64,
    min: u64,
    /// CpG start → (chrom name, methylated, total); unplaced per-C lines kept aside.
    placed: std::collections::BTreeMap<u64, (String, u64, u64)>,
    loose: std::collections::BTreeMap<u64, (String, u64, u64)>,
}

impl RegionCollector {
    /// A collector of the covered CpGs of `chrom:start-end` (as [`region_cpgs`]).
    pub fn new(
        path: &str,
        opts: &ReaderOptions,
        chrom: &str,
        start: u64,
        end: u64,
    ) -> Result<Self, InputError> {
        let want = chromosome_number(chrom).or_else(|| chromosome_number(&format!("chr{chrom}")));
        let idx = coords::probe_index(opts.calls.build.assembly())
            .map_err(|e| InputError::file(path, format!("bundled coordinates: {e}")))?;
        Ok(RegionCollector {
            want,
            chrom: chrom.to_string(),
            idx,
            start,
            end,
            min: opts.calls.min_coverage.max(1),
            placed: Default::default(),
            loose: Default::default(),
        })
    }

    fn same_chrom(&self, name: &str) -> bool {
        match self.want {
            Some(n) => chromosome_number(name) == Some(n),
            None => name == self.chrom || name.strip_prefix("chr") == Some(self.chrom.as_str()),
        }
    }

    /// One call line.
    pub fn add(&mut self, call: &Call<'_>) {
        let lo = self.start.saturating_sub(1);
        let hi = self.end + 1;
        if call.pos < lo || call.pos > hi || !self.same_chrom(call.chrom) {
            return;
        }
        let idx = self.idx;
        let at = match call.strand {
            Strand::Plus | Strand::Merged => Some(call.pos),
            Strand::Minus => Some(call.pos - 1),
            Strand::Unknown => match self.want {
                Some(c) if idx.get(c, call.pos).is_some() => Some(call.pos),
                Some(c) if idx.get(c, call.pos - 1).is_some() => Some(call.pos - 1),
                _ => None,
            },
        };
        let target = match at {
            Some(p) => self.placed.entry(p),
            None => self.loose.entry(call.pos),
        };
        let e = target.or_insert_with(|| (call.chrom.to_string(), 0, 0));
        e.1 += call.methylated;
        e.2 += call.total;
    }

    /// The covered CpGs, sorted by position.
    pub fn finish(self) -> Vec<CoveredCpg> {
        let RegionCollector {
            start,
            end,
            min,
            mut placed,
            loose,
            ..
        } = self;
        let loose: Vec<(u64, (String, u64, u64))> = loose.into_iter().collect();
        let mut i = 0;
        while i < loose.len() {
            let (q, (c, m, t)) = &loose[i];
            let mut sum = (*m, *t);
            if i + 1 < loose.len() && loose[i + 1].0 == q + 1 {
                sum.0 += loose[i + 1].1 .1;
                sum.1 += loose[i + 1].1 .2;
                i += 1;
            }
            let e = placed.entry(*q).or_insert_with(|| (c.clone(), 0, 0));
            e.1 += sum.0;
            e.2 += sum.1;
            i += 1;
        }
        placed
            .into_iter()
            .filter(|(p, (_, _, t))| *p >= start && *p <= end && *t >= min)
            .map(|(pos, (chrom, m, t))| CoveredCpg {
                chrom,
                pos,
                methylated: m.min(u64::from(u32::MAX)) as u32,
                coverage: t.min(u64::from(u32::MAX)) as u32,
                beta: m as f64 / t as f64,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn real(name: &str) -> String {
        format!("{}/tests/data/bisulfite/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn opts(build: CallsBuild, min: u64) -> ReaderOptions {
        ReaderOptions {
            calls: CallsInputOptions {
                build,
                min_coverage: min,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn gunzip(path: &str) -> String {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
        let p = dir.path().join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        p.to_string_lossy().into_owned()
    }

    /// Every real file parses; its 450K probe hits at coverage >= 1 match
    /// tests/data/bisulfite/PROVENANCE.md (= shared/data/bisulfite/PROVENANCE.md).
    #[test]
    fn real_files_hit_the_probes_their_provenance_counts() {
        for (file, format, build, hits) in [
            (
                "bismark_test_data_hg19.bismark.cov.gz",
                CallsFormat::BismarkCov,
                CallsBuild::Hg19,
                27,
            ),
            (
                "bismark_test_data_hg19.CpG_report.txt.gz",
                CallsFormat::BismarkReport,
                CallsBuild::Hg19,
                0,
            ),
            (
                "MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz",
                CallsFormat::Biscuit,
                CallsBuild::Hg19,
                5_555,
            ),
            (
                "methrix_colon_WGBS_hg19_C1.MU.bedGraph.gz",
                CallsFormat::MethrixMu,
                CallsBuild::Hg19,
                13,
            ),
            (
                "methrix_colon_WGBS_hg19_C2.MU.bedGraph.gz",
                CallsFormat::MethrixMu,
                CallsBuild::Hg19,
                12,
            ),
            (
                "methrix_colon_WGBS_hg19_N1.MU.bedGraph.gz",
                CallsFormat::MethrixMu,
                CallsBuild::Hg19,
                14,
            ),
            (
                "methrix_colon_WGBS_hg19_N2.MU.bedGraph.gz",
                CallsFormat::MethrixMu,
                CallsBuild::Hg19,
                13,
            ),
            (
                "HG002_nanopore_modkit_hg38_chr21_chr22_top1000.bedMethyl.gz",
                CallsFormat::Modkit,
                CallsBuild::Hg38,
                0,
            ),
        ] {
            let path = real(file);
            assert!(detect(&path), "{file}");
            assert_eq!(detect_format(&path).unwrap(), format, "{file}");
            let s = map_to_probes(&path, &opts(build, 1)).unwrap();
            assert_eq!(s.hm450_hits, hits, "{file}: 450K probe CpGs hit");
            assert!(s.shift_lines[1] >= s.hm450_hits, "{file}");
            eprintln!(
                "{file}: {} lines, {} probe CpGs ({} 450K, {} lifted), shift lines {:?}",
                s.stats.lines,
                s.probes.len(),
                s.hm450_hits,
                s.lifted_hits,
                s.shift_lines
            );
        }
        // The modkit fixture: 1,000 'C' rows (combined mods), strands combined.
        let s = map_to_probes(
            &real("HG002_nanopore_modkit_hg38_chr21_chr22_top1000.bedMethyl.gz"),
            &opts(CallsBuild::Hg38, 1),
        )
        .unwrap();
        assert_eq!((s.stats.lines, s.stats.mod_code), (1_000, Some('C')));
        // The report: 100 CG lines, 3 with calls, on no probe.
        let s = map_to_probes(
            &real("bismark_test_data_hg19.CpG_report.txt.gz"),
            &opts(CallsBuild::Hg19, 1),
        )
        .unwrap();
        assert_eq!(s.stats.lines, 3);
    }

    #[test]
    fn probe_betas_sum_both_strands_and_respect_min_coverage() {
        let path = real("MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz");
        let t1 = load(&path, &opts(CallsBuild::Hg19, 1)).unwrap();
        let t5 = load(&path, &opts(CallsBuild::Hg19, 5)).unwrap();
        assert_eq!(
            t1.samples,
            vec!["MCF7_Cunha_WGBS_hg19_chr11p15".to_string()]
        );
        assert!(t5.probes.len() < t1.probes.len() && t5.probes.len() > 1_000);
        assert!(t5.notes[0].contains("BISCUIT bed, hg19") && t5.notes[0].contains(">= 5 reads"));
        // One probe by hand from the file's lines: cg IDs at the probe's C (+) and C+1 (−).
        let idx = coords::probe_index(Assembly::Hg19).unwrap();
        let text = gunzip(&path);
        let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
        let mut checked = 0;
        for w in lines.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let qa: u64 = a[1].parse::<u64>().unwrap() + 1;
            let qb: u64 = b[1].parse::<u64>().unwrap() + 1;
            if qb != qa + 1 {
                continue;
            }
            let Some(p) = idx.get(11, qa) else { continue };
            let cov = |l: &Vec<&str>| l[4].parse::<u64>().unwrap();
            let meth = |l: &Vec<&str>| (l[3].parse::<f64>().unwrap() * cov(l) as f64).round();
            let beta = (meth(a) + meth(b)) / (cov(a) + cov(b)) as f64;
            let name = idx.name(p);
            let i = t1.probes.iter().position(|x| *x == name).unwrap();
            assert!((t1.values[i] - beta).abs() < 1e-12, "{name}");
            checked += 1;
        }
        assert!(checked > 1_000, "{checked}");
    }

    #[test]
    fn wrong_column_counts_are_errors_naming_file_and_row() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            &dir,
            "s.cov",
            "chr1\t100\t100\t50\t1\t1\nchr1\t101\t101\t50\t1\n",
        );
        let e = map_to_probes(&p, &opts(CallsBuild::Hg19, 1)).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("s.cov: row 2: 5 columns, expected 6 for a Bismark coverage file"),
            "{msg}"
        );
        // A modkit name with a BISCUIT-like line.
        let p = write(&dir, "s.bedMethyl", "chr1\t100\t101\t0.5\t4\n");
        let msg = map_to_probes(&p, &opts(CallsBuild::Hg19, 1))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("row 1: 5 columns, expected 18"), "{msg}");
        // Unknown width.
        let p = write(&dir, "s.txt", "chr1\t100\t101\n");
        assert!(!detect(&p));
        let msg = detect_format(&p).unwrap_err().to_string();
        assert!(msg.contains("3 columns: not a known calls format"), "{msg}");
        // A Bismark bedGraph (no counts) where methrix M/U counts are expected.
        let p = write(&dir, "s.bedGraph", "chr1\t100\t101\t50\n");
        let msg = map_to_probes(&p, &opts(CallsBuild::Hg19, 1))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no counts"), "{msg}");
    }

    /// The real BISCUIT (0-based) lines written as a Bismark .cov (1-based) without adding 1:
    /// the classic confusion. Also the real Bismark .cov with 1 added.
    #[test]
    fn zero_one_based_confusion_is_detected_from_probe_cpgs() {
        let dir = tempfile::tempdir().unwrap();
        let text = gunzip(&real("MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz"));
        let mut wrong = String::new();
        let mut right = String::new();
        for l in text.lines() {
            let f: Vec<&str> = l.split('\t').collect();
            let s: u64 = f[1].parse().unwrap();
            let cov: u64 = f[4].parse().unwrap();
            let m = (f[3].parse::<f64>().unwrap() * cov as f64).round() as u64;
            wrong.push_str(&format!("{}\t{s}\t{s}\t0\t{m}\t{}\n", f[0], cov - m));
            right.push_str(&format!(
                "{}\t{}\t{}\t0\t{m}\t{}\n",
                f[0],
                s + 1,
                s + 1,
                cov - m
            ));
        }
        let p = write(&dir, "wrong.cov", &wrong);
        let msg = map_to_probes(&p, &opts(CallsBuild::Hg19, 1))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("wrong.cov: positions look shifted by one base"),
            "{msg}"
        );
        assert!(
            msg.contains("0-based (bed-style) positions in a file read as 1-based"),
            "{msg}"
        );
        let p = write(&dir, "right.cov", &right);
        let s = map_to_probes(&p, &opts(CallsBuild::Hg19, 1)).unwrap();
        assert_eq!(s.hm450_hits, 5_555);
        // The other direction, on the small real Bismark file.
        let text = gunzip(&real("bismark_test_data_hg19.bismark.cov.gz"));
        let mut up = String::new();
        for l in text.lines() {
            let f: Vec<&str> = l.split('\t').collect();
            let s: u64 = f[1].parse::<u64>().unwrap() + 1;
            up.push_str(&format!(
                "{}\t{s}\t{s}\t{}\t{}\t{}\n",
                f[0], f[3], f[4], f[5]
            ));
        }
        let p = write(&dir, "up.cov", &up);
        let msg = map_to_probes(&p, &opts(CallsBuild::Hg19, 1))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("moved -1"), "{msg}");
    }

    #[test]
    fn a_file_of_the_other_build_is_refused_with_the_build_to_use() {
        let path = real("MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz");
        let msg = map_to_probes(&path, &opts(CallsBuild::Hg38, 1))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("the positions look like hg19, not hg38"),
            "{msg}"
        );
        assert!(msg.contains("rerun with --build hg19"), "{msg}");
    }

    /// Synthetic (written here): modkit m/h rows on both strands, a MethylDackel bedGraph
    /// with a track line, a Bismark report, all at the hg19 CpG of cg00000029
    /// (chr16:53,468,112, + strand C).
    #[test]
    fn synthetic_formats_place_strands_on_the_cpg() {
        let dir = tempfile::tempdir().unwrap();
        let o = opts(CallsBuild::Hg19, 1);
        let get = |p: &str| -> (u64, u64) {
            let s = map_to_probes(p, &o).unwrap();
            let i = s.probes.iter().position(|x| x == "cg00000029").unwrap();
            s.counts[i]
        };
        let mut modkit = String::new();
        for (start, strand, code, valid, nmod) in [
            (53_468_111u64, "+", "m", 10, 6),
            (53_468_111, "+", "h", 10, 2),
            (53_468_112, "-", "m", 8, 2),
            (53_468_112, "-", "h", 8, 1),
        ] {
            modkit.push_str(&format!(
                "chr16\t{start}\t{}\t{code}\t{valid}\t{strand}\t{start}\t{}\t255,0,0\t{valid}\t0\t{nmod}\t0\t0\t0\t0\t0\t0\n",
                start + 1,
                start + 1
            ));
        }
        let p = write(&dir, "s.bedMethyl", &modkit);
        assert_eq!(get(&p), (8, 18));
        let s = map_to_probes(&p, &o).unwrap();
        assert_eq!((s.stats.hmc_rows, s.stats.mod_code), (2, Some('m')));
        let md = "track type=\"bedGraph\" description=\"CpG methylation levels\"\n\
chr16\t53468111\t53468112\t75\t3\t1\nchr16\t53468112\t53468113\t50\t1\t1\n";
        let p = write(&dir, "s_CpG.bedGraph", md);
        assert_eq!(detect_format(&p).unwrap(), CallsFormat::MethylDackel);
        assert_eq!(get(&p), (4, 6));
        let merged = "chr16\t53468111\t53468113\t66\t4\t2\n";
        let p = write(&dir, "m_CpG.bedGraph", merged);
        assert_eq!(get(&p), (4, 6));
        let report = "chr16\t53468112\t+\t3\t1\tCG\tCGA\nchr16\t53468113\t-\t1\t1\tCG\tCGT\nchr16\t53468114\t+\t5\t5\tCHH\tCTT\n";
        let p = write(&dir, "s.CpG_report.txt", report);
        assert_eq!(get(&p), (4, 6));
        assert_eq!(map_to_probes(&p, &o).unwrap().stats.non_cg, 1);
        // Both 'm' and 'C' rows would double count.
        let both = modkit.replace("\th\t", "\tC\t");
        let p = write(&dir, "b.bedMethyl", &both);
        assert!(map_to_probes(&p, &o)
            .unwrap_err()
            .to_string()
            .contains("both 'm'"));
    }

    #[test]
    fn region_cpgs_merge_strands_by_coordinate() {
        let path = real("MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz");
        // IGF2/H19 region of the file.
        let o = opts(CallsBuild::Hg19, 1);
        let cpgs = region_cpgs(&path, &o, "11", 2_010_000, 2_020_000).unwrap();
        assert!(cpgs.len() > 100, "{}", cpgs.len());
        assert!(cpgs.windows(2).all(|w| w[0].pos < w[1].pos));
        assert!(cpgs
            .iter()
            .all(|c| c.chrom == "chr11" && (2_010_000..=2_020_000).contains(&c.pos)));
        // Probe CpGs in the region have the same counts as the probe mapping.
        let s = map_to_probes(&path, &o).unwrap();
        let idx = coords::probe_index(Assembly::Hg19).unwrap();
        let mut n = 0;
        for c in &cpgs {
            if let Some(p) = idx.get(11, c.pos) {
                let i = s.probes.iter().position(|x| *x == idx.name(p)).unwrap();
                assert_eq!(
                    (u64::from(c.methylated), u64::from(c.coverage)),
                    s.counts[i]
                );
                n += 1;
            }
        }
        assert!(n > 5, "{n}");
        let five = region_cpgs(
            &path,
            &opts(CallsBuild::Hg19, 5),
            "chr11",
            2_010_000,
            2_020_000,
        )
        .unwrap();
        assert!(five.len() < cpgs.len() && five.iter().all(|c| c.coverage >= 5));
    }

    /// **Synthetic from real**: the first sample of the real blood matrix written as a
    /// Bismark .cov at the probes' **hg38** positions (one line per CpG, + strand): read with
    /// `--build hg38` it gives every beta back exactly; read as hg19 it is refused as hg38.
    #[test]
    fn hg38_coverage_maps_back_to_the_betas_and_is_not_hg19() {
        let matrix = format!(
            "{}/tests/data/array/gse55763_blood_5x20000_betas.csv",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(matrix).unwrap();
        let pos: std::collections::HashMap<String, (String, u64)> = coords::hm450_table()
            .unwrap()
            .into_iter()
            .filter_map(|p| Some((p.probe, p.hg38?)))
            .collect();
        let mut cov = String::new();
        let mut want = std::collections::HashMap::new();
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.split(',').collect();
            let (Ok(beta), Some((chrom, p))) = (c[1].parse::<f64>(), pos.get(c[0])) else {
                continue;
            };
            let m = (beta * 1e6).round() as u64;
            cov.push_str(&format!("{chrom}\t{p}\t{p}\t0\t{m}\t{}\n", 1_000_000 - m));
            want.insert(c[0].to_string(), m as f64 / 1e6);
        }
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "s38.cov", &cov);
        let t = load(&p, &opts(CallsBuild::Hg38, 5)).unwrap();
        // Probes sesame places on alt/random/Un contigs are not indexed (main chromosomes only).
        let off_main = want
            .keys()
            .filter(|k| chromosome_number(&pos[k.as_str()].0).is_none())
            .count();
        assert_eq!(off_main, 6);
        let msa: std::collections::HashMap<String, (String, u64)> = coords::msa_only_table()
            .unwrap()
            .into_iter()
            .map(|(p, c, x)| (p, (c, x)))
            .collect();
        let at: std::collections::HashMap<&(String, u64), f64> =
            want.iter().map(|(k, v)| (&pos[k.as_str()], *v)).collect();
        let mut extra = 0;
        for (probe, v) in t.probes.iter().zip(&t.values) {
            match want.get(probe) {
                Some(w) => assert_eq!(v, w, "{probe}"),
                None => {
                    // A probe (450K or EPIC-only) sesame places on the same CpG as a matrix
                    // probe.
                    let here = pos
                        .get(probe.as_str())
                        .cloned()
                        .or_else(|| msa.get(probe.as_str()).cloned())
                        .unwrap();
                    assert_eq!(Some(v), at.get(&here), "{probe}");
                    extra += 1;
                }
            }
        }
        assert_eq!(t.probes.len() - extra, want.len() - off_main);
        assert!(extra <= 34, "{extra}");
        // cg06767681 and cg21231964 share chr17:79,509,296 in hg38: both get the line.
        assert!(t.probes.iter().any(|p| p == "cg06767681"));
        let msg = load(&p, &opts(CallsBuild::Hg19, 5))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("the positions look like hg38, not hg19"),
            "{msg}"
        );
    }

    /// Synthetic: strandless lines away from probes pair up as (q, q + 1); a lone line stays
    /// at its own position; a line beside a probe CpG goes to the probe.
    #[test]
    fn region_cpgs_pair_strandless_lines() {
        let dir = tempfile::tempdir().unwrap();
        // cg00000029 is at chr16:53,468,112 (hg19); the other positions are not probes.
        let text = "chr16\t53468000\t53468000\t0\t1\t1\n\
chr16\t53468001\t53468001\t0\t2\t0\n\
chr16\t53468050\t53468050\t0\t3\t0\n\
chr16\t53468113\t53468113\t0\t4\t1\n";
        let p = write(&dir, "r.cov", text);
        let got = region_cpgs(
            &p,
            &opts(CallsBuild::Hg19, 1),
            "chr16",
            53_467_000,
            53_469_000,
        )
        .unwrap();
        let brief: Vec<(u64, u32, u32)> = got
            .iter()
            .map(|c| (c.pos, c.methylated, c.coverage))
            .collect();
        assert_eq!(
            brief,
            vec![(53_468_000, 3, 4), (53_468_050, 3, 3), (53_468_112, 4, 5)]
        );
    }

    #[test]
    fn names_and_detection() {
        assert_eq!(
            sample_name("/x/S1_R1_bismark_bt2_pe.bismark.cov.gz"),
            "S1_R1"
        );
        assert_eq!(sample_name("a/C1.MU.bedGraph.gz"), "C1");
        assert_eq!(sample_name("P7.CpG_report.txt.gz"), "P7");
        assert_eq!(sample_name("HG002.bedMethyl"), "HG002");
        let dir = tempfile::tempdir().unwrap();
        let m = write(&dir, "betas.tsv", "ID\tS1\tS2\ncg00000029\t0.5\t0.4\n");
        assert!(!detect(&m));
        let c = write(&dir, "calls.tsv", "chr1\t100\t3\t4\nchr1\t101\t2\t2\n");
        assert!(detect(&c));
        assert_eq!(detect_format(&c).unwrap(), CallsFormat::MethrixMu);
    }
}
