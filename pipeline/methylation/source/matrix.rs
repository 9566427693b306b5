//! Beta-matrix reader: CSV or TSV, plain or gzip (detected from the bytes), CpGs as rows or as
//! columns (detected from the header, overridable), `NA`/empty/`NaN` cells, quoted cells as R's
//! `write.csv` writes them, and EPICv2 probe names whose replicates (`cg00000029_TC21`,
//! `cg00000029_TC22`) are averaged into their cg ID.
//!
//! The file is read in ~1 MiB chunks of whole lines by one thread and parsed by the rayon pool,
//! chunk results consumed in file order (so the output does not depend on the thread count).
//! Only requested CpGs are kept; other rows are split and counted (a ragged row is still an
//! error) but their numbers are parsed only when per-sample moments over every row are asked for.
//!
//! Rows are numbered as lines of the file: the header is row 1.

use std::{
    collections::HashMap,
    fs::File,
    io::{self, BufRead, BufReader, Read},
    thread,
};

use crossbeam_channel::{bounded, Receiver};
use rayon::prelude::*;

use super::{
    is_missing_token, looks_like_probe, parse_f64, parse_prefix, probe_base, BetaView, FastMap,
    Orientation, ReaderNotes, ReaderOptions, Rows, SampleMoments, StreamSink,
};
use crate::{
    core::file_name_of,
    methylation::{quote_cell, InputError},
};

/// Chunk size handed to one parse task.
const CHUNK_BYTES: usize = 1 << 20;
/// Shift applied before summing squares (betas are in [0, 1]), against cancellation.
const SHIFT: f64 = 0.5;

/// Reads the requested CpGs of a beta matrix into a [`BetaView`].
///
/// `needed` may hold EPICv2 names or cg IDs: both are matched by cg ID. CpGs absent from the
/// input stay in the view with `probes = 0` and `NaN` values.
pub fn read_beta_matrix(
    path: &str,
    needed: &[String],
    opts: &ReaderOptions,
) -> Result<BetaView, InputError> {
    read_beta_matrix_with::<String, String>(path, needed, &[], opts, None)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Dense(u32),
    Streamed(u32),
}

struct Chunk {
    data: Vec<u8>,
    first_row: u64,
}

/// Like [`read_beta_matrix`], and also delivers the `streamed` CpGs one row at a time to
/// `sink` instead of keeping them (a CpG in both lists is kept in the view). Returns the view
/// of `dense`.
pub fn read_beta_matrix_with<D: AsRef<str>, S: AsRef<str>>(
    path: &str,
    dense: &[D],
    streamed: &[S],
    opts: &ReaderOptions,
    sink: Option<&mut dyn StreamSink>,
) -> Result<BetaView, InputError> {
    let (mut reader, gzip) = open(path)?;
    let mut header_bytes = Vec::new();
    reader
        .read_until(b'\n', &mut header_bytes)
        .map_err(|e| io_error(path, &e))?;
    trim_eol(&mut header_bytes);
    if header_bytes.is_empty() {
        return Err(InputError::file(path, "empty file: no header line"));
    }
    let header = std::str::from_utf8(&header_bytes)
        .map_err(|_| InputError::row(path, 1, "the header is not UTF-8 text"))?;
    let delimiter = if header.contains('\t') { b'\t' } else { b',' };
    let cells = split_cells(header.as_bytes(), delimiter);
    if cells.len() < 2 {
        return Err(InputError::row(
            path,
            1,
            "the header has one cell: expected an id column and sample (or CpG) columns, separated by commas or tabs",
        ));
    }
    let cells: Vec<String> = cells
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let (orientation, detected) = match opts.orientation {
        Orientation::Auto => {
            let probes = cells[1..].iter().filter(|c| looks_like_probe(c)).count();
            if probes * 2 > cells.len() - 1 {
                (Orientation::CpgColumns, true)
            } else {
                (Orientation::CpgRows, true)
            }
        }
        o => (o, false),
    };

    // Requested CpGs by cg ID.
    let mut targets: FastMap<&str, Target> = FastMap::default();
    let mut dense_ids: Vec<String> = Vec::new();
    for id in dense {
        let (base, _) = probe_base(id.as_ref());
        if !targets.contains_key(base) {
            targets.insert(base, Target::Dense(dense_ids.len() as u32));
            dense_ids.push(base.to_string());
        }
    }
    let mut n_streamed_ids = 0usize;
    for id in streamed {
        let (base, _) = probe_base(id.as_ref());
        if !targets.contains_key(base) {
            targets.insert(base, Target::Streamed(n_streamed_ids as u32));
            n_streamed_ids += 1;
        }
    }
    let notes = ReaderNotes {
        orientation,
        orientation_detected: detected,
        delimiter: delimiter as char,
        gzip,
        m_values_converted: opts.m_values,
        ..Default::default()
    };
    let ctx = Ctx {
        path: path.to_string(),
        delimiter,
        m_values: opts.m_values,
        moments: opts.sample_moments,
        targets,
    };
    let chunks = spawn_reader(reader, path.to_string());
    let mut view = match orientation {
        Orientation::CpgColumns => read_columns(
            &ctx,
            &cells,
            chunks,
            dense_ids.len(),
            n_streamed_ids,
            notes,
            sink,
        )?,
        _ => read_rows(
            &ctx,
            &cells,
            chunks,
            dense_ids.len(),
            n_streamed_ids,
            notes,
            sink,
        )?,
    };
    view.input = file_name_of(path);
    view.cpgs = dense_ids;
    // `--m-values` on a matrix of betas: every value read was in [0, 1], which converts to
    // [0.5, 2/3]. Real M-values spread far outside [0, 1] (about -6 to 6), so refuse.
    if opts.m_values {
        let mut held = view
            .values
            .filled_values()
            .iter()
            .filter(|v| !v.is_nan())
            .peekable();
        if held.peek().is_some() && held.all(|&v| (0.5..=2.0 / 3.0 + 1e-12).contains(&v)) {
            return Err(InputError::file(
                path,
                "--m-values was given, but every value read is between 0 and 1: these look like beta values, not M-values (log2 ratios); drop --m-values",
            ));
        }
    }
    Ok(view)
}

/// The largest |M| an array can give (log2 of two 16-bit intensities is within ±16), with room.
const M_VALUE_LIMIT: f64 = 20.0;

struct Ctx<'a> {
    path: String,
    delimiter: u8,
    m_values: bool,
    moments: bool,
    targets: FastMap<&'a str, Target>,
}

impl Ctx<'_> {
    /// Parses one cell into a beta value (`NaN` for a missing cell).
    #[inline]
    fn value(&self, cell: &[u8], row: u64, column: &str) -> Result<f64, InputError> {
        // Fast path: a plain number in [0, 1].
        if let Some(&b) = cell.first() {
            if b.is_ascii_digit() && !self.m_values {
                if let Some(v) = parse_f64(cell) {
                    if (0.0..=1.0).contains(&v) {
                        return Ok(v);
                    }
                }
            }
        }
        let cell = trim(cell);
        if is_missing_token(cell) {
            return Ok(f64::NAN);
        }
        let Some(v) = parse_f64(cell) else {
            return Err(InputError::cell(
                &self.path,
                row,
                column,
                format!(
                    "not a number: {}",
                    quote_cell(&String::from_utf8_lossy(cell))
                ),
            ));
        };
        if !v.is_finite() {
            return Err(InputError::cell(
                &self.path,
                row,
                column,
                format!(
                    "not a finite number: {}",
                    quote_cell(&String::from_utf8_lossy(cell))
                ),
            ));
        }
        if self.m_values {
            // An array's M-value is log2 of two 16-bit intensities: never beyond ±17. A larger
            // one is a percentage (0-100) or another scale, and converting it would give
            // plausible-looking but wrong betas.
            if v.abs() > M_VALUE_LIMIT {
                return Err(InputError::cell(
                    &self.path,
                    row,
                    column,
                    format!(
                        "--m-values was given, but {} is not an M-value (log2 ratios stay within about ±{M_VALUE_LIMIT}): \
                         if the matrix holds percentages (0-100), divide it by 100 and drop --m-values",
                        String::from_utf8_lossy(cell)
                    ),
                ));
            }
            let p = v.exp2();
            return Ok(if p.is_infinite() { 1.0 } else { p / (1.0 + p) });
        }
        if !(0.0..=1.0).contains(&v) {
            let v_text = String::from_utf8_lossy(cell);
            let why = if v > 1.0 && v <= 100.0 {
                "they look like percentages (0-100: divide the matrix by 100) or M-values \
                 (log2 ratios: pass --m-values, or convert with beta = 2^M/(1+2^M))"
            } else if (-M_VALUE_LIMIT..0.0).contains(&v) {
                "they look like M-values (log2 ratios); convert them with beta = 2^M/(1+2^M), \
                 or pass --m-values to have agemark do it"
            } else {
                "nor percentages (0-100) nor M-values (log2 ratios): check the export"
            };
            return Err(InputError::cell(
                &self.path,
                row,
                column,
                format!("{v_text} is outside [0, 1], so these are not beta values: {why}"),
            ));
        }
        Ok(v)
    }
}

fn open(path: &str) -> Result<(Box<dyn BufRead + Send>, bool), InputError> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(io::stdin())
    } else {
        let f = File::open(path).map_err(|e| io_error(path, &e))?;
        if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(InputError::file(path, "is a directory, not a file"));
        }
        Box::new(f)
    };
    let mut buf = BufReader::with_capacity(1 << 16, raw);
    let head = buf.fill_buf().map_err(|e| io_error(path, &e))?;
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        let gz = flate2::bufread::MultiGzDecoder::new(buf);
        Ok((Box::new(BufReader::with_capacity(1 << 16, gz)), true))
    } else {
        Ok((Box::new(buf), false))
    }
}

fn io_error(path: &str, e: &io::Error) -> InputError {
    let msg = match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::UnexpectedEof => "truncated file (unexpected end of data)".to_string(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            format!("cannot read: corrupt compressed data ({e})")
        }
        _ => format!("cannot read: {e}"),
    };
    InputError::file(path, msg)
}

/// Reads whole-line chunks on a thread of its own; an I/O error ends the stream.
fn spawn_reader(
    mut reader: Box<dyn BufRead + Send>,
    path: String,
) -> Receiver<Result<Chunk, InputError>> {
    let (tx, rx) = bounded(8);
    thread::spawn(move || {
        let mut row: u64 = 2;
        let mut carry: Vec<u8> = Vec::new();
        loop {
            let mut data = std::mem::take(&mut carry);
            let start = data.len();
            data.resize(start + CHUNK_BYTES, 0);
            let mut filled = start;
            let mut eof = false;
            // Fill the chunk (a short read is not the end).
            while filled < data.len() {
                match reader.read(&mut data[filled..]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send(Err(io_error(&path, &e)));
                        return;
                    }
                }
            }
            data.truncate(filled);
            if !eof {
                // Keep the partial last line for the next chunk; a line longer than a chunk
                // makes the chunk grow.
                match memchr::memrchr(b'\n', &data) {
                    Some(p) => {
                        carry = data[p + 1..].to_vec();
                        data.truncate(p + 1);
                    }
                    None => {
                        carry = data;
                        continue;
                    }
                }
            }
            if data.is_empty() {
                return;
            }
            let lines = memchr::memchr_iter(b'\n', &data).count() as u64
                + u64::from(!data.ends_with(b"\n"));
            let first_row = row;
            row += lines;
            if tx.send(Ok(Chunk { data, first_row })).is_err() || eof {
                return;
            }
        }
    });
    rx
}

/// Lines of a chunk with their row numbers, `\r` removed.
fn lines(chunk: &Chunk) -> impl Iterator<Item = (u64, &[u8])> {
    let data = &chunk.data[..];
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    let mut start = 0usize;
    let mut ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
    let mut row = chunk.first_row;
    std::iter::from_fn(move || {
        let end = ends.next()?;
        let l = &data[start..end];
        start = end + 1;
        row += 1;
        Some((row - 1, l.strip_suffix(b"\r").unwrap_or(l)))
    })
}

/// Two independent 64-bit hashes of a probe name (FNV-1a and a multiply-rotate hash), used to
/// find duplicate rows without keeping every name: a false alarm needs both to collide
/// (probability about 1e-27 for a million rows).
fn id_hash(id: &[u8]) -> u128 {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x9e37_79b9_7f4a_7c15 ^ id.len() as u64;
    for &x in id {
        a = (a ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ u64::from(x))
            .wrapping_mul(0xff51_afd7_ed55_8ccd)
            .rotate_left(29);
    }
    (u128::from(a) << 64) | u128::from(b)
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64 ^ (v >> 64) as u64;
    }
}

fn trim_eol(v: &mut Vec<u8>) {
    while v.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
        v.pop();
    }
}

fn trim(cell: &[u8]) -> &[u8] {
    let cell = cell.trim_ascii();
    if cell.len() >= 2 && cell[0] == b'"' && cell[cell.len() - 1] == b'"' {
        &cell[1..cell.len() - 1]
    } else {
        cell
    }
}

/// Splits a line into cells; double-quoted cells may hold the delimiter (`""` is a quote).
/// Quotes are removed from the returned cells only in the slow path; [`trim`] removes the
/// plain surrounding ones.
fn split_cells(line: &[u8], delimiter: u8) -> Vec<std::borrow::Cow<'_, [u8]>> {
    use std::borrow::Cow;
    if memchr::memchr(b'"', line).is_none() {
        return line
            .split(|&b| b == delimiter)
            .map(|c| Cow::Borrowed(c.trim_ascii()))
            .collect();
    }
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut in_quotes = false;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if in_quotes {
            if b == b'"' {
                if line.get(i + 1) == Some(&b'"') {
                    cur.push(b'"');
                    i += 1;
                } else {
                    in_quotes = false;
                }
            } else {
                cur.push(b);
            }
        } else if b == b'"' {
            in_quotes = true;
        } else if b == delimiter {
            out.push(Cow::Owned(std::mem::take(&mut cur).trim_ascii().to_vec()));
        } else {
            cur.push(b);
        }
        i += 1;
    }
    out.push(Cow::Owned(cur.trim_ascii().to_vec()));
    out
}

/// Checks sample (or CpG-column) names: none empty, none twice.
fn check_names(path: &str, names: &[String], what: &str) -> Result<(), InputError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (j, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(InputError::row(
                path,
                1,
                format!("column {} of the header has no {what} name", j + 2),
            ));
        }
        if let Some(first) = seen.insert(name, j) {
            return Err(InputError::cell(
                path,
                1,
                name,
                format!(
                    "duplicate {what} name: columns {} and {} are both called {}",
                    first + 2,
                    j + 2,
                    quote_cell(name)
                ),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// CpGs as rows

struct RowsChunk {
    rows: Vec<ParsedRow>,
    values: Vec<f64>,
    moments: Option<MomentSums>,
}

struct ParsedRow {
    row: u64,
    id_hash: u128,
    id: std::ops::Range<usize>,
    suffixed: bool,
    target: Option<Target>,
    offset: usize,
}

/// Running per-sample sums for [`SampleMoments`] (shared with the probe-table path).
#[derive(Clone)]
pub(crate) struct MomentSums {
    sum: Vec<f64>,
    sumsq: Vec<f64>,
    n: Vec<u64>,
    filled: Vec<u64>,
}

impl MomentSums {
    pub(crate) fn new(n: usize) -> Self {
        MomentSums {
            sum: vec![0.0; n],
            sumsq: vec![0.0; n],
            n: vec![0; n],
            filled: vec![0; n],
        }
    }

    fn add(&mut self, other: &MomentSums) {
        for s in 0..self.sum.len() {
            self.sum[s] += other.sum[s];
            self.sumsq[s] += other.sumsq[s];
            self.n[s] += other.n[s];
            self.filled[s] += other.filled[s];
        }
    }

    /// Folds in one row whose missing cells are set to the row mean.
    pub(crate) fn add_row(&mut self, values: &[f64]) {
        let (mut total, mut k) = (0.0, 0usize);
        for &v in values {
            if !v.is_nan() {
                total += v;
                k += 1;
            }
        }
        if k == 0 {
            return;
        }
        let mean = total / k as f64;
        for (s, &v) in values.iter().enumerate() {
            let x = if v.is_nan() {
                self.filled[s] += 1;
                mean
            } else {
                v
            } - SHIFT;
            self.sum[s] += x;
            self.sumsq[s] += x * x;
            self.n[s] += 1;
        }
    }

    pub(crate) fn finish(&self) -> SampleMoments {
        let mut m = SampleMoments {
            n: self.n.clone(),
            filled: self.filled.clone(),
            ..Default::default()
        };
        for s in 0..self.sum.len() {
            let n = self.n[s] as f64;
            let mean = self.sum[s] / n;
            let var = (self.sumsq[s] - self.sum[s] * mean) / (n - 1.0);
            m.mean.push(mean + SHIFT);
            m.sd.push(if self.n[s] >= 2 {
                var.max(0.0).sqrt()
            } else {
                f64::NAN
            });
        }
        m
    }
}

fn parse_rows_chunk(ctx: &Ctx, samples: &[String], chunk: &Chunk) -> Result<RowsChunk, InputError> {
    let n = samples.len();
    let mut out = RowsChunk {
        rows: Vec::new(),
        values: Vec::new(),
        moments: ctx.moments.then(|| MomentSums::new(n)),
    };
    let mut scratch: Vec<f64> = Vec::with_capacity(n);
    for (row, line) in lines(chunk) {
        if line.trim_ascii().is_empty() {
            continue;
        }
        let quoted = memchr::memchr(b'"', line).is_some();
        let first_end = if quoted {
            None
        } else {
            memchr::memchr(ctx.delimiter, line)
        };
        let raw: std::borrow::Cow<'_, [u8]> = match first_end {
            Some(p) => std::borrow::Cow::Borrowed(trim(&line[..p])),
            None => {
                let cells = split_cells(line, ctx.delimiter);
                cells.into_iter().next().unwrap_or_default()
            }
        };
        let raw_id = std::str::from_utf8(&raw)
            .map_err(|_| InputError::row(&ctx.path, row, "the CpG id is not UTF-8 text"))?;
        if raw_id.is_empty() {
            return Err(InputError::row(
                &ctx.path,
                row,
                "empty CpG id in the first column",
            ));
        }
        let (base, suffixed) = probe_base(raw_id);
        let target = ctx.targets.get(base).copied();
        let want = target.is_some() || ctx.moments;
        if !want && !quoted {
            let cells = memchr::memchr_iter(ctx.delimiter, line).count() + 1;
            if cells != n + 1 {
                return Err(cell_count(ctx, row, cells, n));
            }
        } else {
            scratch.clear();
            if quoted {
                let cells = split_cells(line, ctx.delimiter);
                if cells.len() != n + 1 {
                    return Err(cell_count(ctx, row, cells.len(), n));
                }
                if want {
                    for (j, c) in cells[1..].iter().enumerate() {
                        scratch.push(ctx.value(c, row, &samples[j])?);
                    }
                }
            } else {
                let rest = &line[first_end.unwrap_or(line.len()).min(line.len())..];
                // `rest` starts with the delimiter after the id.
                let mut j = 0usize;
                let body = &rest[rest.len().min(1)..];
                let delim = ctx.delimiter;
                let mut pos = 0usize;
                loop {
                    if j >= n {
                        return Err(cell_count(
                            ctx,
                            row,
                            memchr::memchr_iter(delim, line).count() + 1,
                            n,
                        ));
                    }
                    // Fast path: a plain beta followed by the delimiter (or the line end).
                    let fast = if ctx.m_values {
                        None
                    } else {
                        parse_prefix(&body[pos..]).filter(|&(v, k)| {
                            (pos + k == body.len() || body[pos + k] == delim)
                                && (0.0..=1.0).contains(&v)
                        })
                    };
                    let end = match fast {
                        Some((v, k)) => {
                            scratch.push(v);
                            pos + k
                        }
                        None => {
                            let end =
                                memchr::memchr(delim, &body[pos..]).map_or(body.len(), |e| pos + e);
                            scratch.push(ctx.value(&body[pos..end], row, &samples[j])?);
                            end
                        }
                    };
                    j += 1;
                    if end >= body.len() {
                        break;
                    }
                    pos = end + 1;
                }
                if j != n || rest.is_empty() {
                    return Err(cell_count(ctx, row, j + 1, n));
                }
            }
            if let Some(m) = out.moments.as_mut() {
                m.add_row(&scratch);
            }
        }
        let offset = out.values.len();
        if target.is_some() {
            out.values.extend_from_slice(&scratch);
        }
        // Where the id is in the chunk (for a duplicate's message).
        let line_start = line.as_ptr() as usize - chunk.data.as_ptr() as usize;
        let id = match memchr::memmem::find(line, raw_id.as_bytes()) {
            Some(k) => line_start + k..line_start + k + raw_id.len(),
            None => 0..0,
        };
        out.rows.push(ParsedRow {
            row,
            id_hash: id_hash(raw_id.as_bytes()),
            id,
            suffixed,
            target,
            offset,
        });
    }
    Ok(out)
}

fn cell_count(ctx: &Ctx, row: u64, found: usize, n: usize) -> InputError {
    InputError::row(
        &ctx.path,
        row,
        format!(
            "{found} cells, but the header has {} (a CpG id and {n} samples)",
            n + 1
        ),
    )
}

/// The memory a view may take: `AGEMARK_MEMORY_GB` when set, else 90 % of the memory the
/// system reports available (`MemAvailable` in /proc/meminfo); `None` when neither is known.
pub fn memory_budget_bytes() -> Option<u64> {
    if let Some(gb) = std::env::var("AGEMARK_MEMORY_GB")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|g| *g > 0.0)
    {
        return Some((gb * 1e9) as u64);
    }
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024 / 10 * 9)
}

/// Refuses, before allocating, a view of `n_cpgs` held CpGs × `n_samples` samples (8 bytes a
/// value) larger than [`memory_budget_bytes`], with a one-line error that says what to check.
/// A file with CpGs as rows is checked as its rows arrive (memory grows by one row per CpG
/// found), so a wide header with few rows is read in little memory.
fn check_memory(path: &str, n_cpgs: usize, n_samples: usize) -> Result<(), InputError> {
    let need = (n_cpgs as u128) * (n_samples as u128) * 8;
    match memory_budget_bytes() {
        Some(budget) if need > budget as u128 => Err(InputError::file(
            path,
            format!(
                "holding {n_cpgs} CpGs x {n_samples} samples needs {}, more than the {} available \
                 (AGEMARK_MEMORY_GB sets the budget): is the header right ({n_samples} sample columns)? \
                 For a cohort this large, split the matrix by samples or ask for fewer clocks",
                human_bytes(need as f64),
                human_bytes(budget as f64)
            ),
        )),
        _ => Ok(()),
    }
}

/// `1.5 GB`, `160.0 MB` or `12.0 kB`.
fn human_bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.1} kB", b / 1e3)
    }
}

/// Values of requested CpGs being accumulated: sums and counts of the probes seen.
struct Store {
    n: usize,
    values: Rows,
    probes: Vec<u16>,
    /// Per-cell number of non-missing replicate values, only for CpGs seen more than once.
    counts: HashMap<usize, Vec<u32>>,
}

impl Store {
    fn new(n_cpgs: usize, n: usize) -> Self {
        Store {
            n,
            values: Rows::new(n_cpgs, n),
            probes: vec![0; n_cpgs],
            counts: HashMap::new(),
        }
    }

    fn add(&mut self, i: usize, vals: &[f64]) {
        let n = self.n;
        let cell = self.values.row_mut(i);
        if self.probes[i] == 0 {
            cell.copy_from_slice(vals);
        } else {
            let counts = self
                .counts
                .entry(i)
                .or_insert_with(|| cell.iter().map(|v| u32::from(!v.is_nan())).collect());
            for s in 0..n {
                let v = vals[s];
                if v.is_nan() {
                    continue;
                }
                if counts[s] == 0 {
                    cell[s] = v;
                } else {
                    cell[s] += v;
                }
                counts[s] += 1;
            }
        }
        self.probes[i] = self.probes[i].saturating_add(1);
    }

    /// Divides replicate sums by their counts.
    fn finish(&mut self) -> u64 {
        let n = self.n;
        for (&i, counts) in &self.counts {
            let row = self.values.row_mut(i);
            for (s, &count) in counts.iter().enumerate().take(n) {
                if count > 1 {
                    row[s] /= f64::from(count);
                }
            }
        }
        self.counts.len() as u64
    }
}

/// A streamed CpG with EPICv2 replicate probes, held until the end of the file.
struct Held {
    values: Vec<f64>,
    counts: Vec<u32>,
    probes: u16,
}

impl Held {
    fn new(n: usize) -> Self {
        Held {
            values: vec![0.0; n],
            counts: vec![0; n],
            probes: 0,
        }
    }

    fn add(&mut self, vals: &[f64]) {
        for (s, &v) in vals.iter().enumerate() {
            if !v.is_nan() {
                self.values[s] += v;
                self.counts[s] += 1;
            }
        }
        self.probes = self.probes.saturating_add(1);
    }

    fn finish(&mut self) {
        for (v, &c) in self.values.iter_mut().zip(&self.counts) {
            *v = if c == 0 { f64::NAN } else { *v / f64::from(c) };
        }
    }
}

fn read_rows(
    ctx: &Ctx,
    header: &[String],
    chunks: Receiver<Result<Chunk, InputError>>,
    n_dense: usize,
    n_streamed: usize,
    mut notes: ReaderNotes,
    mut sink: Option<&mut dyn StreamSink>,
) -> Result<BetaView, InputError> {
    let samples: Vec<String> = header[1..].to_vec();
    check_names(&ctx.path, &samples, "sample")?;
    let n = samples.len();
    let mut dense = Store::new(n_dense, n);
    // Streamed CpGs with EPICv2 names wait here for their replicates.
    let mut held: HashMap<usize, Held> = HashMap::new();
    let mut delivered = vec![false; n_streamed];
    if let Some(s) = sink.as_deref_mut() {
        s.start(n);
    }
    let mut moments = ctx.moments.then(|| MomentSums::new(n));
    let mut seen: HashMap<u128, u64, std::hash::BuildHasherDefault<PassThrough>> =
        HashMap::default();
    let batch = rayon::current_num_threads().max(1) * 2;
    // Consumes one parsed batch, in file order.
    let mut consume =
        |todo: &[Chunk], parsed: Vec<Result<RowsChunk, InputError>>| -> Result<(), InputError> {
            for (ci, p) in parsed.into_iter().enumerate() {
                let p = p?;
                if let (Some(m), Some(pm)) = (moments.as_mut(), p.moments.as_ref()) {
                    m.add(pm);
                }
                for r in p.rows {
                    match seen.entry(r.id_hash) {
                        std::collections::hash_map::Entry::Occupied(e) => {
                            let raw = todo[ci].data.get(r.id.clone()).unwrap_or_default();
                            return Err(InputError::row(
                                &ctx.path,
                                r.row,
                                format!(
                                    "duplicate CpG row {} (first at row {})",
                                    quote_cell(&String::from_utf8_lossy(raw)),
                                    crate::core::thousands(*e.get())
                                ),
                            ));
                        }
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(r.row);
                        }
                    }
                    notes.n_probes += 1;
                    notes.epicv2_suffixed += u64::from(r.suffixed);
                    let Some(t) = r.target else { continue };
                    let vals = &p.values[r.offset..r.offset + n];
                    notes.missing_cells += vals.iter().filter(|v| v.is_nan()).count() as u64;
                    match t {
                        Target::Dense(i) => {
                            let i = i as usize;
                            if !dense.values.is_filled(i) {
                                // Memory grows by one row per CpG found: checked as it grows.
                                check_memory(&ctx.path, dense.values.filled() + 1, n)?;
                            }
                            dense.add(i, vals)
                        }
                        Target::Streamed(i) => {
                            let i = i as usize;
                            if r.suffixed {
                                held.entry(i).or_insert_with(|| Held::new(n)).add(vals);
                            } else if let Some(s) = sink.as_deref_mut() {
                                delivered[i] = true;
                                s.row_with_probes(i, vals, 1);
                            }
                        }
                    }
                }
            }
            Ok(())
        };
    // Batch k+1 is parsed by the pool while batch k is consumed.
    #[allow(clippy::type_complexity)] // a batch of chunks and their parse results, as read
    let mut prev: Option<(Vec<Chunk>, Vec<Result<RowsChunk, InputError>>)> = None;
    loop {
        let mut todo = Vec::with_capacity(batch);
        let mut done = false;
        while todo.len() < batch {
            match chunks.recv() {
                Ok(c) => todo.push(c?),
                Err(_) => {
                    done = true;
                    break;
                }
            }
        }
        let last = prev.take();
        let (parsed, consumed) = rayon::join(
            || {
                todo.par_iter()
                    .map(|c| parse_rows_chunk(ctx, &samples, c))
                    .collect::<Vec<_>>()
            },
            || match last {
                Some((chunks, parsed)) => consume(&chunks, parsed),
                None => Ok(()),
            },
        );
        consumed?;
        if done {
            consume(&todo, parsed)?;
            break;
        }
        prev = Some((todo, parsed));
    }
    if notes.n_probes == 0 {
        return Err(InputError::file(
            &ctx.path,
            "no data rows: the file has only a header",
        ));
    }
    notes.replicates_collapsed = dense.finish();
    let mut held: Vec<(usize, Held)> = held.into_iter().collect();
    held.sort_by_key(|(i, _)| *i);
    for (i, h) in &mut held {
        if h.probes > 1 {
            notes.replicates_collapsed += 1;
        }
        if delivered[*i] {
            return Err(InputError::file(
                &ctx.path,
                "a CpG appears both with and without an EPICv2 suffix; rename one of them",
            ));
        }
        h.finish();
        if let Some(s) = sink.as_deref_mut() {
            s.row_with_probes(*i, &h.values, h.probes);
        }
    }
    Ok(BetaView {
        input: String::new(),
        samples,
        cpgs: Vec::new(),
        probes: dense.probes,
        values: dense.values,
        moments: moments.map(|m| m.finish()),
        notes,
    })
}

// ---------------------------------------------------------------------------------------------
// CpGs as columns

struct ColsLine {
    row: u64,
    sample: String,
    /// Per held slot: mean over its columns (NaN when all missing).
    held: Vec<f64>,
    /// All cell values of the line (only with moments).
    all: Vec<f64>,
}

fn parse_cols_chunk(
    ctx: &Ctx,
    col_slot: &[Option<u32>],
    col_names: &[String],
    n_slots: usize,
    chunk: &Chunk,
) -> Result<Vec<ColsLine>, InputError> {
    let n_cols = col_slot.len();
    let mut out = Vec::new();
    for (row, line) in lines(chunk) {
        if line.trim_ascii().is_empty() {
            continue;
        }
        let cells = split_cells(line, ctx.delimiter);
        if cells.len() != n_cols + 1 {
            return Err(InputError::row(
                &ctx.path,
                row,
                format!(
                    "{} cells, but the header has {} (a sample id and {n_cols} CpGs)",
                    cells.len(),
                    n_cols + 1
                ),
            ));
        }
        let sample = String::from_utf8_lossy(trim(&cells[0])).into_owned();
        if sample.is_empty() {
            return Err(InputError::row(
                &ctx.path,
                row,
                "empty sample id in the first column",
            ));
        }
        let mut sums = vec![0.0f64; n_slots];
        let mut counts = vec![0u32; n_slots];
        let mut all = Vec::with_capacity(if ctx.moments { n_cols } else { 0 });
        for (j, c) in cells[1..].iter().enumerate() {
            let slot = col_slot[j];
            if slot.is_none() && !ctx.moments {
                continue;
            }
            let v = ctx.value(c, row, &col_names[j]).map_err(|mut e| {
                if let Some(col) = e.column.take() {
                    e.column = Some(format!("{col} (sample {sample})"));
                }
                e
            })?;
            if ctx.moments {
                all.push(v);
            }
            if let Some(k) = slot {
                if !v.is_nan() {
                    sums[k as usize] += v;
                    counts[k as usize] += 1;
                }
            }
        }
        let held = sums
            .iter()
            .zip(&counts)
            .map(|(&s, &c)| if c == 0 { f64::NAN } else { s / f64::from(c) })
            .collect();
        out.push(ColsLine {
            row,
            sample,
            held,
            all,
        });
    }
    Ok(out)
}

fn read_columns(
    ctx: &Ctx,
    header: &[String],
    chunks: Receiver<Result<Chunk, InputError>>,
    n_dense: usize,
    n_streamed: usize,
    mut notes: ReaderNotes,
    sink: Option<&mut dyn StreamSink>,
) -> Result<BetaView, InputError> {
    let col_names: Vec<String> = header[1..].to_vec();
    check_names(&ctx.path, &col_names, "CpG")?;
    let n_slots = n_dense + n_streamed;
    let mut probes = vec![0u16; n_slots];
    let col_slot: Vec<Option<u32>> = col_names
        .iter()
        .map(|name| {
            let (base, suffixed) = probe_base(name);
            notes.epicv2_suffixed += u64::from(suffixed);
            ctx.targets.get(base).map(|t| {
                let k = match *t {
                    Target::Dense(i) => i as usize,
                    Target::Streamed(i) => n_dense + i as usize,
                };
                probes[k] = probes[k].saturating_add(1);
                k as u32
            })
        })
        .collect();
    notes.n_probes = col_names.len() as u64;
    notes.replicates_collapsed = probes.iter().filter(|&&p| p > 1).count() as u64;
    let n_cols = col_names.len();
    let mut samples: Vec<String> = Vec::new();
    let mut sample_rows: HashMap<String, u64> = HashMap::new();
    let mut held: Vec<Vec<f64>> = Vec::new();
    // Moments: per-column sums over samples, per-sample sums over observed cells, NA positions.
    let mut col_sum = vec![0.0f64; if ctx.moments { n_cols } else { 0 }];
    let mut col_n = vec![0u32; if ctx.moments { n_cols } else { 0 }];
    let mut obs: Vec<(f64, f64, u64)> = Vec::new();
    let mut na_cols: Vec<Vec<u32>> = Vec::new();
    let batch = rayon::current_num_threads().max(1) * 2;
    let mut done = false;
    while !done {
        let mut todo = Vec::with_capacity(batch);
        while todo.len() < batch {
            match chunks.recv() {
                Ok(c) => todo.push(c?),
                Err(_) => {
                    done = true;
                    break;
                }
            }
        }
        let parsed: Vec<Result<Vec<ColsLine>, InputError>> = todo
            .par_iter()
            .map(|c| parse_cols_chunk(ctx, &col_slot, &col_names, n_slots, c))
            .collect();
        for p in parsed {
            for line in p? {
                if let Some(first) = sample_rows.insert(line.sample.clone(), line.row) {
                    return Err(InputError::row(
                        &ctx.path,
                        line.row,
                        format!(
                            "duplicate sample {} (first at row {})",
                            quote_cell(&line.sample),
                            crate::core::thousands(first)
                        ),
                    ));
                }
                if ctx.moments {
                    let (mut s1, mut s2, mut k) = (0.0, 0.0, 0u64);
                    let mut nas = Vec::new();
                    for (j, &v) in line.all.iter().enumerate() {
                        if v.is_nan() {
                            nas.push(j as u32);
                        } else {
                            col_sum[j] += v;
                            col_n[j] += 1;
                            let x = v - SHIFT;
                            s1 += x;
                            s2 += x * x;
                            k += 1;
                        }
                    }
                    obs.push((s1, s2, k));
                    na_cols.push(nas);
                }
                notes.missing_cells += line
                    .held
                    .iter()
                    .zip(&probes)
                    .filter(|(v, &p)| p > 0 && v.is_nan())
                    .count() as u64;
                samples.push(line.sample);
                held.push(line.held);
            }
        }
    }
    if samples.is_empty() {
        return Err(InputError::file(
            &ctx.path,
            "no data rows: the file has only a header",
        ));
    }
    let n = samples.len();
    check_memory(&ctx.path, n_slots, n)?;
    // Transpose to CpG-major.
    let mut values = vec![f64::NAN; n_slots * n];
    for (s, h) in held.iter().enumerate() {
        for (k, &v) in h.iter().enumerate() {
            values[k * n + s] = v;
        }
    }
    drop(held);
    let moments = ctx.moments.then(|| {
        let mut m = MomentSums::new(n);
        for s in 0..n {
            let (mut s1, mut s2, mut k) = obs[s];
            let mut filled = 0;
            for &j in &na_cols[s] {
                let j = j as usize;
                if col_n[j] > 0 {
                    let x = col_sum[j] / f64::from(col_n[j]) - SHIFT;
                    s1 += x;
                    s2 += x * x;
                    k += 1;
                    filled += 1;
                }
            }
            m.sum[s] = s1;
            m.sumsq[s] = s2;
            m.n[s] = k;
            m.filled[s] = filled;
        }
        m.finish()
    });
    if let Some(s) = sink {
        s.start(n);
        for i in 0..n_streamed {
            let k = n_dense + i;
            if probes[k] > 0 {
                s.row_with_probes(i, &values[k * n..(k + 1) * n], probes[k]);
            }
        }
    }
    values.truncate(n_dense * n);
    probes.truncate(n_dense);
    Ok(BetaView {
        input: String::new(),
        samples,
        cpgs: Vec::new(),
        probes,
        values: Rows::from_dense(values, n),
        moments,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rows_and_columns_give_the_same_view() {
        let dir = tempfile::tempdir().unwrap();
        let rows = write(
            dir.path(),
            "r.csv",
            "\"\",\"S1\",\"S2\"\n\"cg1\",0.1,0.2\ncg2,NA,0.4\ncg3,0.5,\n",
        );
        let cols = write(
            dir.path(),
            "c.tsv",
            "id\tcg1\tcg2\tcg3\nS1\t0.1\tNA\t0.5\nS2\t0.2\t0.4\t\n",
        );
        let want = ids(&["cg3", "cg1", "cg9"]);
        let opts = ReaderOptions {
            sample_moments: true,
            ..Default::default()
        };
        let a = read_beta_matrix(&rows, &want, &opts).unwrap();
        let b = read_beta_matrix(&cols, &want, &opts).unwrap();
        // Moments over all rows, missing cells filled with their CpG's mean, in both layouts.
        let (ma, mb) = (a.moments.clone().unwrap(), b.moments.clone().unwrap());
        assert_eq!(ma.n, vec![3, 3]);
        assert_eq!(ma.filled, vec![1, 1]);
        for s in 0..2 {
            assert!((ma.mean[s] - mb.mean[s]).abs() < 1e-15);
            assert!((ma.sd[s] - mb.sd[s]).abs() < 1e-15);
        }
        assert!((ma.mean[0] - (0.1 + 0.4 + 0.5) / 3.0).abs() < 1e-15);
        assert_eq!(a.samples, ids(&["S1", "S2"]));
        assert_eq!(a.notes.orientation, Orientation::CpgRows);
        assert_eq!(b.notes.orientation, Orientation::CpgColumns);
        for v in [&a, &b] {
            assert_eq!(v.cpgs, want);
            assert_eq!(v.probes, vec![1, 1, 0]);
            assert_eq!(v.row(1), &[0.1, 0.2]);
            assert_eq!(v.row(0)[0], 0.5);
            assert!(v.row(0)[1].is_nan());
            assert!(v.row(2).iter().all(|x| x.is_nan()));
        }
    }

    #[test]
    fn replicates_are_averaged_and_moments_fill_with_row_means() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "e.csv",
            "id,A,B\ncg1_TC21,0.2,0.4\ncg2_BC11,0.5,NA\ncg1_TC22,0.4,NA\n",
        );
        let opts = ReaderOptions {
            sample_moments: true,
            ..Default::default()
        };
        let v = read_beta_matrix(&p, &ids(&["cg1"]), &opts).unwrap();
        assert_eq!(v.probes, vec![2]);
        assert!((v.row(0)[0] - 0.3).abs() < 1e-15);
        assert_eq!(v.row(0)[1], 0.4);
        assert_eq!(v.notes.epicv2_suffixed, 3);
        assert_eq!(v.notes.replicates_collapsed, 1);
        let m = v.moments.unwrap();
        // A: 0.2, 0.5, 0.4; B: 0.4, 0.5 (filled), 0.4 (filled).
        assert_eq!(m.n, vec![3, 3]);
        assert_eq!(m.filled, vec![0, 2]);
        assert!((m.mean[0] - 1.1 / 3.0).abs() < 1e-15);
        let sd_a = {
            let mu = 1.1 / 3.0;
            (((0.2f64 - mu).powi(2) + (0.5f64 - mu).powi(2) + (0.4f64 - mu).powi(2)) / 2.0).sqrt()
        };
        assert!((m.sd[0] - sd_a).abs() < 1e-14);
    }

    #[test]
    fn bad_inputs_name_file_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "id,S1,S2\ncg1,0.1,abc\n",
                "row 2: column S2: not a number: 'abc'",
            ),
            ("id,S1,S1\ncg1,0.1,0.2\n", "duplicate sample name"),
            (
                "id,S1,S2\ncg1,0.1,0.2\ncg1,0.3,0.2\n",
                "row 3: duplicate CpG row 'cg1' (first at row 2)",
            ),
            (
                "id,S1,S2\ncg1,0.1,2.5\n",
                "row 2: column S2: 2.5 is outside [0, 1]",
            ),
            (
                "id,S1,S2\ncg1,0.1\n",
                "row 2: 2 cells, but the header has 3",
            ),
            ("id,S1,S2\n", "no data rows"),
            ("", "empty file"),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            let p = write(dir.path(), &format!("b{i}.csv"), text);
            let e = read_beta_matrix(&p, &ids(&["cg1"]), &ReaderOptions::default()).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(want), "case {i}: {msg}");
            assert!(msg.starts_with(&p), "{msg}");
        }
    }

    /// Property test beside the `cargo fuzz` targets (fuzz/): 600 mutated and random inputs (byte
    /// flips, inserted delimiters, quotes, newlines and non-UTF-8 bytes, truncation, duplicated
    /// lines, broken gzip), every layout and option: the reader never panics, and whatever it
    /// accepts is a consistent view of betas in [0, 1] or missing.
    #[test]
    fn reader_never_panics_on_mutated_input() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzz.csv");
        let path_s = path.display().to_string();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m.max(1)
        };
        let seeds: [&[u8]; 5] = [
            b"id,S1,S2,S3\ncg1,0.1,0.2,NA\ncg2_TC21,0.5,,0.25\ncg2_TC22,1,0,0.3\ncg3,1e-3,0.999,0.5\n",
            b"\"\",\"A\",\"B\"\n\"cg1\",0.1,0.2\n\"cg9\",\"0.4\",NaN\r\n",
            b"sample\tcg1\tcg2\tcg3_BC11\nS1\t0.1\t0.2\t0.3\nS2\tNA\t0.4\t0.5\n",
            b"cpg,a\ncg1,0.5\n",
            b"x,cg1,cg2\nA,0.1,0.2\nB,0.3,0.4\nA,0.5,0.6\n",
        ];
        let alphabet: &[u8] = b",\t\n\r\"0123456789.eE-+NA _TCcg\xff\x00";
        for iter in 0..600u64 {
            let mut data: Vec<u8> = seeds[rnd(seeds.len() as u64) as usize].to_vec();
            if iter % 50 == 0 {
                data = (0..rnd(200)).map(|_| rnd(256) as u8).collect();
            }
            for _ in 0..=rnd(6) {
                if data.is_empty() {
                    break;
                }
                let at = rnd(data.len() as u64) as usize;
                match rnd(6) {
                    0 => data[at] = alphabet[rnd(alphabet.len() as u64) as usize],
                    1 => data.insert(at, alphabet[rnd(alphabet.len() as u64) as usize]),
                    2 => {
                        let end = (at + rnd(8) as usize).min(data.len());
                        data.drain(at..end);
                    }
                    3 => data.truncate(at),
                    4 => {
                        let line: Vec<u8> = data[..at].to_vec();
                        data.extend_from_slice(&line);
                    }
                    _ => data[at] = rnd(256) as u8,
                }
            }
            if iter % 7 == 0 {
                use std::io::Write;
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&data).unwrap();
                data = e.finish().unwrap();
                if iter % 14 == 0 {
                    let keep = rnd(data.len() as u64 + 1) as usize;
                    data.truncate(keep);
                }
            }
            std::fs::write(&path, &data).unwrap();
            let opts = ReaderOptions {
                orientation: [
                    Orientation::Auto,
                    Orientation::CpgRows,
                    Orientation::CpgColumns,
                ][rnd(3) as usize],
                m_values: rnd(5) == 0,
                sample_moments: rnd(2) == 0,
                ..Default::default()
            };
            let needed = ids(&["cg1", "cg2", "cg3", "cg9", "cgX"][..1 + rnd(5) as usize]);
            let streamed = ids(&["cg2", "cg4"]);
            struct Count(usize, usize);
            impl StreamSink for Count {
                fn start(&mut self, n: usize) {
                    self.0 = n;
                }
                fn row(&mut self, _i: usize, v: &[f64]) {
                    assert_eq!(v.len(), self.0);
                    self.1 += 1;
                }
            }
            let mut sink = Count(0, 0);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read_beta_matrix_with(&path_s, &needed, &streamed, &opts, Some(&mut sink))
            }));
            let Ok(result) = result else {
                panic!(
                    "reader panicked on input {iter}: {:?}",
                    String::from_utf8_lossy(&data)
                );
            };
            if let Ok(v) = result {
                assert_eq!(v.values.len(), v.cpgs.len());
                assert!(v
                    .values
                    .to_dense()
                    .iter()
                    .all(|b| b.is_nan() || (0.0..=1.0).contains(b)));
                assert_eq!(v.probes.len(), v.cpgs.len());
            }
        }
    }
}
