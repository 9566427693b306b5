//! Methylation sources → the **beta view**: a dense matrix of only the CpGs a consumer asked
//! for × all samples, with `NaN` for a missing cell, plus notes on how the input was read.
//!
//! Any methylation stage asks for its own CpG list:
//!
//! ```no_run
//! use agemark::methylation::source::{read_beta_matrix, ReaderOptions};
//! let needed = vec!["cg00000029".to_string(), "cg16867657".to_string()];
//! let view = read_beta_matrix("betas.csv.gz", &needed, &ReaderOptions::default())?;
//! for (i, cpg) in view.cpgs.iter().enumerate() {
//!     let betas: &[f64] = view.row(i); // one value per sample, NaN = missing
//!     # let _ = (cpg, betas);
//! }
//! # Ok::<(), agemark::methylation::InputError>(())
//! ```
//!
//! The reader streams the file: memory grows with samples × requested CpGs (8 bytes a cell),
//! never with the size of the matrix. Consumers that can fold a CpG row into a running sum
//! (a linear model over 300,000 CpGs) ask for those CpGs as *streamed* and get each row once
//! through a [`StreamSink`] instead of a place in the view; per-sample moments over every row
//! (Zhang 2019's standardisation) are folded in while reading ([`SampleMoments`]).

pub mod calls_input;
pub mod idat_input;
pub mod matrix;
pub mod modbam_input;
pub mod shared;
pub mod table;

pub use matrix::{read_beta_matrix, read_beta_matrix_with};
pub use table::{view_from_table, ProbeTable};

use crate::methylation::InputError;

/// What kind of methylation input a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A beta (or M-value) matrix, CSV/TSV, plain or gzip, or stdin.
    Matrix,
    /// IDAT files (a directory or a `<barcode>_<position>` prefix).
    Idat,
    /// Sequencing methylation calls (one sample per file).
    Calls,
}

/// Detects the kind of input `path` names.
pub fn input_kind(path: &str) -> InputKind {
    if path != "-" && idat_input::detect(path) {
        InputKind::Idat
    } else if path != "-" && calls_input::detect(path) {
        InputKind::Calls
    } else {
        InputKind::Matrix
    }
}

/// The entry point every methylation stage uses: reads any supported input (beta matrix,
/// IDATs, sequencing calls) into the view of the `dense` CpGs, delivering the `streamed` ones
/// to `sink`; see [`read_beta_matrix_with`] for the rules. Sources other than a matrix add their
/// notes to [`ReaderNotes::source_notes`].
pub fn read_methylation_with<D: AsRef<str>, S: AsRef<str>>(
    path: &str,
    dense: &[D],
    streamed: &[S],
    opts: &ReaderOptions,
    sink: Option<&mut dyn StreamSink>,
) -> Result<BetaView, InputError> {
    let table = match input_kind(path) {
        InputKind::Matrix => return read_beta_matrix_with(path, dense, streamed, opts, sink),
        InputKind::Idat => idat_input::load(path, opts)?,
        InputKind::Calls => calls_input::load(path, opts)?,
    };
    let mut view = view_from_table(&table, dense, streamed, opts, sink)?;
    view.notes.source_notes = table.notes.clone();
    Ok(view)
}

/// [`read_methylation_with`] without streamed CpGs.
pub fn read_methylation(
    path: &str,
    needed: &[String],
    opts: &ReaderOptions,
) -> Result<BetaView, InputError> {
    read_methylation_with::<String, String>(path, needed, &[], opts, None)
}

pub use crate::core::hash::{FastMap, Fnv};

/// How CpGs are laid out in a matrix file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Orientation {
    /// Detect from the header: CpGs as columns when most header cells are probe IDs.
    #[default]
    Auto,
    /// One row per CpG, one column per sample (the usual layout).
    CpgRows,
    /// One row per sample, one column per CpG.
    CpgColumns,
}

impl Orientation {
    /// Words for notes.
    pub fn describe(self) -> &'static str {
        match self {
            Orientation::Auto => "auto",
            Orientation::CpgRows => "CpGs as rows",
            Orientation::CpgColumns => "CpGs as columns",
        }
    }
}

/// How to read a matrix.
#[derive(Clone, Debug, Default)]
pub struct ReaderOptions {
    /// Layout of the file (default: detected).
    pub orientation: Orientation,
    /// The cells are M-values (log2 methylated/unmethylated): convert each to
    /// `beta = 2^M / (1 + 2^M)`. Without this, a value outside [0, 1] is an error.
    pub m_values: bool,
    /// Also fold every row of the file into per-sample moments (Zhang 2019's standardisation).
    pub sample_moments: bool,
    /// How to read IDAT input.
    pub idat: idat_input::IdatInputOptions,
    /// How to read sequencing calls.
    pub calls: calls_input::CallsInputOptions,
}

/// Receives, one row at a time, the CpGs requested as streamed (in CpG-rows files; in
/// CpG-columns files, and for EPICv2 replicate probes, the rows are held and handed over at
/// the end). Each streamed CpG is delivered at most once, with one value per sample.
pub trait StreamSink: Send {
    /// Called once, before any row, with the number of samples.
    fn start(&mut self, n_samples: usize);
    /// One CpG row: `index` into the streamed list, values per sample (`NaN` = missing).
    fn row(&mut self, index: usize, values: &[f64]);
    /// [`StreamSink::row`] with the number of input probes that gave the row (more than one:
    /// EPICv2 replicates averaged). The readers call this one; the default forwards to `row`.
    fn row_with_probes(&mut self, index: usize, values: &[f64], probes: u16) {
        let _ = probes;
        self.row(index, values);
    }
}

/// Per-sample mean and standard deviation (ddof = 1) over **every** row of the input, each
/// missing cell first set to its row's mean over the samples that have it (R's `scale` after
/// the mean fill of Zhang 2019). Rows with no value at all are left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampleMoments {
    /// Rows that entered each sample's moments.
    pub n: Vec<u64>,
    /// Mean per sample.
    pub mean: Vec<f64>,
    /// Standard deviation per sample (ddof = 1).
    pub sd: Vec<f64>,
    /// Cells filled with their row mean, per sample.
    pub filled: Vec<u64>,
}

/// What the reader found and did, for notes in the output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReaderNotes {
    /// Layout used.
    pub orientation: Orientation,
    /// Whether the layout was detected (true) or given (false).
    pub orientation_detected: bool,
    /// Cell separator (`,` or tab).
    pub delimiter: char,
    /// The input was gzip-compressed.
    pub gzip: bool,
    /// CpG rows (probes) in the input.
    pub n_probes: u64,
    /// Probe names with an EPICv2 suffix (`cg00000029_TC21`).
    pub epicv2_suffixed: u64,
    /// Requested CpGs whose value is the mean over more than one replicate probe.
    pub replicates_collapsed: u64,
    /// The cells were converted from M-values.
    pub m_values_converted: bool,
    /// Missing cells (empty, NA, NaN) among the requested CpGs that are present.
    pub missing_cells: u64,
    /// Sentences from a non-matrix source (IDAT preprocessing, calls mapping).
    pub source_notes: Vec<String>,
}

impl ReaderNotes {
    /// The notes as short sentences.
    pub fn sentences(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.epicv2_suffixed > 0 {
            out.push(format!(
                "EPICv2 probe names: suffixes removed from {} probes; {} requested CpGs are the mean of their replicate probes",
                self.epicv2_suffixed, self.replicates_collapsed
            ));
        }
        if self.m_values_converted {
            out.push("input given as M-values, converted to beta = 2^M/(1+2^M)".to_string());
        }
        out.extend(self.source_notes.iter().cloned());
        out
    }
}

/// The beta view: requested CpGs × samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BetaView {
    /// The input file name (without directories).
    pub input: String,
    /// Sample names, exactly as the input gives them, in input order.
    pub samples: Vec<String>,
    /// The requested CpGs (duplicates in the request removed), in request order.
    pub cpgs: Vec<String>,
    /// Per requested CpG: how many input probes gave its value (0 = absent from the input,
    /// 1 = one row, more = EPICv2 replicates averaged).
    pub probes: Vec<u16>,
    /// The values, one row per requested CpG ([`BetaView::row`]); only the CpGs present in
    /// the input take memory.
    pub values: Rows,
    /// Per-sample moments over every row (when [`ReaderOptions::sample_moments`] was set).
    pub moments: Option<SampleMoments>,
    /// What the reader found and did.
    pub notes: ReaderNotes,
}

impl BetaView {
    /// Number of samples.
    pub fn n_samples(&self) -> usize {
        self.samples.len()
    }

    /// The values of requested CpG `i`, one per sample (`NaN` = missing).
    pub fn row(&self, i: usize) -> &[f64] {
        self.values.row(i)
    }

    /// Whether requested CpG `i` had a row in the input.
    pub fn is_present(&self, i: usize) -> bool {
        self.probes[i] > 0
    }

    /// Index of a CpG in [`BetaView::cpgs`].
    pub fn index_of(&self, cpg: &str) -> Option<usize> {
        self.cpgs.iter().position(|c| c == cpg)
    }

    /// Bytes held by the values (samples × CpGs present × 8).
    pub fn value_bytes(&self) -> usize {
        self.values.bytes()
    }
}

/// Rows of `n` values (one per sample) for a fixed list of CpGs, memory taken only by the rows
/// that are filled: a wide file with few of the requested CpGs holds those few rows, not
/// CpGs × samples (issue 17, defect 5). An unfilled row reads as all `NaN`.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    n: usize,
    /// Per CpG: its row in `data`, or [`Rows::NONE`].
    slot: Vec<u32>,
    data: Vec<f64>,
    /// The row an unfilled CpG reads as.
    nan: Vec<f64>,
}

/// Equal when every row holds the same values bit for bit (a `NaN` equals a `NaN`), however
/// the rows are stored.
impl PartialEq for Rows {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n
            && self.len() == other.len()
            && (0..self.len()).all(|i| {
                let (a, b) = (self.row(i), other.row(i));
                a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
            })
    }
}

impl Rows {
    const NONE: u32 = u32::MAX;

    /// `n_rows` unfilled rows of `n` values.
    pub fn new(n_rows: usize, n: usize) -> Self {
        Rows {
            n,
            slot: vec![Self::NONE; n_rows],
            data: Vec::new(),
            nan: vec![f64::NAN; n],
        }
    }

    /// Rows from CpG-major values (`values[c * n + s]`), every row filled.
    pub fn from_dense(values: Vec<f64>, n: usize) -> Self {
        let n_rows = values.len().checked_div(n).unwrap_or(0);
        Rows {
            n,
            slot: (0..n_rows as u32).collect(),
            data: values,
            nan: vec![f64::NAN; n],
        }
    }

    /// Number of rows (filled or not).
    pub fn len(&self) -> usize {
        self.slot.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.slot.is_empty()
    }

    /// Values per row.
    pub fn width(&self) -> usize {
        self.n
    }

    /// Row `i` (all `NaN` when it was never filled).
    pub fn row(&self, i: usize) -> &[f64] {
        match self.slot[i] {
            Self::NONE => &self.nan,
            k => &self.data[k as usize * self.n..(k as usize + 1) * self.n],
        }
    }

    /// Whether row `i` was filled.
    pub fn is_filled(&self, i: usize) -> bool {
        self.slot[i] != Self::NONE
    }

    /// Number of filled rows.
    pub fn filled(&self) -> usize {
        self.data.len().checked_div(self.n).unwrap_or(0)
    }

    /// Row `i` to write to; filled with `NaN` the first time.
    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        if self.slot[i] == Self::NONE {
            self.slot[i] = self.filled() as u32;
            self.data.resize(self.data.len() + self.n, f64::NAN);
        }
        let k = self.slot[i] as usize;
        &mut self.data[k * self.n..(k + 1) * self.n]
    }

    /// Appends a row (filled when `values` is given, else unfilled).
    pub fn push(&mut self, values: Option<&[f64]>) {
        match values {
            Some(v) => {
                debug_assert_eq!(v.len(), self.n);
                self.slot.push(self.filled() as u32);
                self.data.extend_from_slice(v);
            }
            None => self.slot.push(Self::NONE),
        }
    }

    /// The values of the filled rows, row after row.
    pub fn filled_values(&self) -> &[f64] {
        &self.data
    }

    /// Bytes held by the filled rows.
    pub fn bytes(&self) -> usize {
        self.data.len() * std::mem::size_of::<f64>()
    }

    /// Every value, CpG-major (`NaN` for unfilled rows): for tests and small views.
    pub fn to_dense(&self) -> Vec<f64> {
        (0..self.len()).flat_map(|i| self.row(i).to_vec()).collect()
    }
}

/// The cg ID of a probe name: an EPICv2 suffix (`_TC21`, `_BC11`, `_TO12`, `_BO22`: an
/// underscore, T or B, C or O, then digits) is removed; other names are returned as they are.
pub fn probe_base(id: &str) -> (&str, bool) {
    if let Some(pos) = id.rfind('_') {
        let suffix = &id.as_bytes()[pos + 1..];
        if pos > 0
            && suffix.len() >= 3
            && matches!(suffix[0], b'T' | b'B')
            && matches!(suffix[1], b'C' | b'O')
            && suffix[2..].iter().all(u8::is_ascii_digit)
        {
            return (&id[..pos], true);
        }
    }
    (id, false)
}

/// Whether a name looks like an Illumina probe ID (`cg…`, `ch.…`, `rs…`, `nv…`), used to
/// detect the layout of a matrix.
pub fn looks_like_probe(id: &str) -> bool {
    let b = id.as_bytes();
    let digit_after = |k: usize| b.len() > k && b[k].is_ascii_digit();
    (b.starts_with(b"cg") && digit_after(2))
        || (b.starts_with(b"ch.") && b.len() > 3)
        || (b.starts_with(b"rs") && digit_after(2))
        || (b.starts_with(b"nv_") && b.len() > 3)
}

/// Parses a decimal number exactly as Rust's `str::parse::<f64>` does, with a fast path for
/// the plain decimals beta matrices hold (`0.6893393974`, `1e-3`): at most 19 significant
/// digits forming an integer below 2^53 and a power of ten up to 10^22 are combined with one
/// correctly rounded multiplication or division (Clinger's fast path), everything else goes to
/// the standard parser. Returns `None` for text that is not a number.
pub fn parse_f64(text: &[u8]) -> Option<f64> {
    match parse_prefix(text) {
        Some((v, k)) if k == text.len() => Some(v),
        _ => slow_parse(text),
    }
}

/// The fast path of [`parse_f64`] on the start of `text`: the value and the bytes it took, or
/// `None` when the number there needs the standard parser (or there is none).
#[inline]
pub fn parse_prefix(text: &[u8]) -> Option<(f64, usize)> {
    let n = text.len();
    let mut i = 0;
    let mut neg = false;
    if i < n && (text[i] == b'-' || text[i] == b'+') {
        neg = text[i] == b'-';
        i += 1;
    }
    let mut mantissa: u64 = 0;
    // Digits appended to `mantissa` (leading zeros of the integer part excluded): at most 19.
    let mut nd = 0u32;
    let mut exp10: i32 = 0;
    let start = i;
    while i < n && text[i].is_ascii_digit() {
        let d = u64::from(text[i] - b'0');
        if mantissa != 0 || d != 0 {
            if nd == 19 {
                return None;
            }
            nd += 1;
        }
        mantissa = mantissa * 10 + d;
        i += 1;
    }
    let mut any = i > start;
    if i < n && text[i] == b'.' {
        i += 1;
        let fstart = i;
        // Eight digits at a time (SWAR, as in fast_float), then one at a time.
        while n - i >= 8 && nd + 8 <= 19 {
            let chunk = u64::from_le_bytes([
                text[i],
                text[i + 1],
                text[i + 2],
                text[i + 3],
                text[i + 4],
                text[i + 5],
                text[i + 6],
                text[i + 7],
            ]);
            if !is_eight_digits(chunk) {
                break;
            }
            mantissa = mantissa * 100_000_000 + parse_eight_digits(chunk);
            nd += 8;
            i += 8;
        }
        while i < n && text[i].is_ascii_digit() {
            if nd == 19 {
                return None;
            }
            nd += 1;
            mantissa = mantissa * 10 + u64::from(text[i] - b'0');
            i += 1;
        }
        exp10 -= (i - fstart) as i32;
        any |= i > fstart;
    }
    if !any {
        return None;
    }
    if i < n && (text[i] == b'e' || text[i] == b'E') {
        i += 1;
        let mut eneg = false;
        if i < n && (text[i] == b'-' || text[i] == b'+') {
            eneg = text[i] == b'-';
            i += 1;
        }
        let es = i;
        let mut e: i32 = 0;
        while i < n && text[i].is_ascii_digit() {
            if e > 10_000 {
                return None;
            }
            e = e * 10 + i32::from(text[i] - b'0');
            i += 1;
        }
        if i == es {
            return None;
        }
        exp10 += if eneg { -e } else { e };
    }
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    if mantissa >> 53 != 0 || exp10.unsigned_abs() > 22 {
        return None;
    }
    let m = mantissa as f64;
    let v = if exp10 >= 0 {
        m * POW10[exp10 as usize]
    } else {
        m / POW10[(-exp10) as usize]
    };
    Some((if neg { -v } else { v }, i))
}

#[inline]
fn is_eight_digits(v: u64) -> bool {
    let a = v.wrapping_add(0x4646_4646_4646_4646);
    let b = v.wrapping_sub(0x3030_3030_3030_3030);
    (a | b) & 0x8080_8080_8080_8080 == 0
}

#[inline]
fn parse_eight_digits(v: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 0x000F_4240_0000_0064;
    const MUL2: u64 = 0x0000_2710_0000_0001;
    let mut v = v.wrapping_sub(0x3030_3030_3030_3030);
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    ((v & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2)))
        >> 32
}

fn slow_parse(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.parse::<f64>().ok()
}

/// Whether a cell's text means "missing": empty, `NA`, `NaN`, `nan`, `NULL`, `null`, `N/A`, `na`, `.`.
pub fn is_missing_token(text: &[u8]) -> bool {
    matches!(
        text,
        b"" | b"NA" | b"NaN" | b"nan" | b"NAN" | b"NULL" | b"null" | b"N/A" | b"na" | b"."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_parse_equals_std_parse() {
        for s in [
            "0.6893393974",
            "0.84996784487308874",
            "1",
            "0",
            "0.5",
            "1e-3",
            "2.5E-05",
            "-0.125",
            "+0.3",
            "0.1234567890123456789",
            "123456789012345678901234",
            ".5",
            "5.",
            "0.000000000000000000000000001",
            "7.5e300",
            "0.12345678",
            "0.123456789012345678",
            "0.1234567890123456789",
            "00000000000000000000001.5",
            "0.00000000000000000000000000012345678",
            "1.00000000",
            "12345678.87654321",
            "0.1234567a",
        ] {
            assert_eq!(
                parse_f64(s.as_bytes()),
                s.parse::<f64>().ok(),
                "parse of {s}"
            );
        }
        for s in ["abc", "1e", "--1", "", "0.5x", "1.2.3", "e5"] {
            assert_eq!(parse_f64(s.as_bytes()), s.parse::<f64>().ok(), "{s}");
        }
        // A deterministic sweep of short decimals.
        let mut x: u64 = 12345;
        for _ in 0..20000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let digits = (x >> 60) as usize + 1;
            let s = format!(
                "0.{:0>width$}",
                (x >> 8) % 10u64.pow(digits as u32),
                width = digits
            );
            assert_eq!(parse_f64(s.as_bytes()), s.parse::<f64>().ok(), "{s}");
            let t = format!("{}.{:0>10}", x % 2, (x >> 20) % 10_000_000_000);
            assert_eq!(parse_f64(t.as_bytes()), t.parse::<f64>().ok(), "{t}");
            let f = f64::from_bits(x >> 2);
            if f.is_finite() {
                let u = format!("{f:e}");
                assert_eq!(parse_f64(u.as_bytes()), u.parse::<f64>().ok(), "{u}");
                let w = format!("{}", (x % 1_000_000_007) as f64 / 1_000_000_007.0);
                assert_eq!(parse_f64(w.as_bytes()), w.parse::<f64>().ok(), "{w}");
            }
        }
    }

    #[test]
    fn epicv2_suffixes() {
        assert_eq!(probe_base("cg00000029_TC21"), ("cg00000029", true));
        assert_eq!(probe_base("cg00000029_BC11"), ("cg00000029", true));
        assert_eq!(probe_base("cg00000029_TO12"), ("cg00000029", true));
        assert_eq!(probe_base("cg00000029"), ("cg00000029", false));
        assert_eq!(probe_base("rs_abc"), ("rs_abc", false));
        assert_eq!(probe_base("_TC1"), ("_TC1", false));
        assert_eq!(probe_base("ch.1.123_TC"), ("ch.1.123_TC", false));
        assert!(looks_like_probe("cg00000029"));
        assert!(looks_like_probe("ch.2.1234F"));
        assert!(!looks_like_probe("GSM1343050"));
        assert!(!looks_like_probe("cgx"));
    }
}
