//! The tidy long table: the single output currency of every stage.
//!
//! One row per sample × measure (× read group where a stage reports per read group), with the
//! columns listed in [`COLUMNS`]. Every table is written twice with the same schema — TSV and
//! Parquet — each under a temporary name in the destination directory and renamed into place
//! only when complete, so a crash never leaves a half table behind.
//!
//! Numbers are written in their shortest round-trip form (Rust's `Display` for `f64`); a value
//! that cannot be computed is empty, with `qc_status = fail` and the reason in `qc_note`.
//! `NaN` and infinities are never written: [`Row::set_value`] turns them into failures.

pub(crate) mod parquet_out;

use std::{
    fmt, fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use crate::core::{Provenance, QcStatus, AGEMARK_VERSION};

/// Column names, in order, of every tidy table.
pub const COLUMNS: [&str; 13] = [
    "sample_id",
    "assay",
    "measure",
    "value",
    "unit",
    "method",
    "n_used",
    "qc_status",
    "qc_note",
    "read_group",
    "input",
    "reference_build",
    "agemark_version",
];

/// One row of a tidy table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Sample identifier.
    pub sample_id: String,
    /// Which biomarker family (`telomere`, `mtdna`, …).
    pub assay: String,
    /// What is measured (`telseq_length_kb`, …).
    pub measure: String,
    /// The value; `None` when it could not be computed.
    pub value: Option<f64>,
    /// Unit of `value` (`kb`, `reads`, `reads_per_million_gc_reads`, …).
    pub unit: String,
    /// Estimator and its parameters, e.g. `telseq(k=7,read_length=100)`.
    pub method: String,
    /// How many observations (reads, CpGs) the value rests on.
    pub n_used: Option<u64>,
    /// QC outcome.
    pub qc_status: QcStatus,
    /// Why the row is not a plain pass, and every fallback taken.
    pub qc_note: String,
    /// Read group for per-read-group rows; empty on sample-level rows.
    pub read_group: String,
    /// Input file name(s), without directories.
    pub input: String,
    /// Reference build of the input.
    pub reference_build: String,
    /// agemark version that wrote the row.
    pub agemark_version: String,
}

impl Row {
    /// A passing row for `measure` with provenance filled in.
    pub fn new(
        prov: &Provenance,
        assay: &str,
        measure: &str,
        value: f64,
        unit: &str,
        method: &str,
    ) -> Self {
        let mut row = Row::empty(prov, assay, measure, unit, method);
        row.set_value(value);
        row
    }

    /// A passing row without a value yet (the caller sets the value, or says why not).
    pub fn empty(prov: &Provenance, assay: &str, measure: &str, unit: &str, method: &str) -> Self {
        Row {
            sample_id: prov.sample_id.clone(),
            assay: assay.to_string(),
            measure: measure.to_string(),
            value: None,
            unit: unit.to_string(),
            method: method.to_string(),
            n_used: None,
            qc_status: QcStatus::Pass,
            qc_note: String::new(),
            read_group: String::new(),
            input: prov.input.clone(),
            reference_build: prov.reference_build.clone(),
            agemark_version: AGEMARK_VERSION.to_string(),
        }
    }

    /// Sets the value; a non-finite value becomes an empty cell with `qc_status = fail`.
    pub fn set_value(&mut self, value: f64) {
        if value.is_finite() {
            self.value = Some(value);
        } else {
            self.value = None;
            self.fail("value could not be computed (not a finite number)");
        }
    }

    /// Marks the row failed (value emptied) and records why (never empty; see [`Row::warn`]).
    pub fn fail(&mut self, why: &str) {
        debug_assert!(!why.is_empty(), "fail without a reason: {}", self.measure);
        self.value = None;
        self.qc_status = QcStatus::Fail;
        self.add_note(why);
    }

    /// Raises the row to `warn` (unless it already failed) and records why. A warn row always
    /// says why: an empty reason is a bug (caught in debug builds).
    pub fn warn(&mut self, why: &str) {
        debug_assert!(!why.is_empty(), "warn without a reason: {}", self.measure);
        if self.qc_status < QcStatus::Warn {
            self.qc_status = QcStatus::Warn;
        }
        self.add_note(why);
    }

    /// Appends to `qc_note` (`; `-separated) without changing the status.
    pub fn add_note(&mut self, note: &str) {
        if note.is_empty() || self.qc_note.split("; ").any(|n| n == note) {
            return;
        }
        if !self.qc_note.is_empty() {
            self.qc_note.push_str("; ");
        }
        self.qc_note.push_str(note);
    }

    /// Builder-style `n_used`.
    pub fn with_n(mut self, n: u64) -> Self {
        self.n_used = Some(n);
        self
    }

    /// Builder-style read group.
    pub fn with_read_group(mut self, rg: &str) -> Self {
        self.read_group = rg.to_string();
        self
    }

    /// The row's cells as TSV text, in [`COLUMNS`] order.
    fn cells(&self) -> [String; 13] {
        [
            self.sample_id.clone(),
            self.assay.clone(),
            self.measure.clone(),
            self.value.map(format_number).unwrap_or_default(),
            self.unit.clone(),
            self.method.clone(),
            self.n_used.map(|n| n.to_string()).unwrap_or_default(),
            self.qc_status.as_str().to_string(),
            self.qc_note.clone(),
            self.read_group.clone(),
            self.input.clone(),
            self.reference_build.clone(),
            self.agemark_version.clone(),
        ]
    }
}

/// Text of a finite number that reads back to exactly the same `f64`: whole numbers below
/// 10^15 as integers (`420`, `5000`), others in the shortest round-trip decimal form
/// (`5924.0123`), and scientific notation only for magnitudes below 10^-6 or from 10^15 on.
pub fn format_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string(); // also folds -0
    }
    let a = x.abs();
    if x.fract() == 0.0 && a < 1e15 {
        return format!("{}", x as i64);
    }
    if !(1e-6..1e15).contains(&a) {
        return format!("{x:e}");
    }
    format!("{x}")
}

/// Error of the output layer: which file, and what went wrong.
#[derive(Debug)]
pub struct WriteError {
    /// The file (or directory) that could not be written.
    pub path: PathBuf,
    /// What failed.
    pub source: io::Error,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: cannot write output: {}",
            self.path.display(),
            self.source
        )
    }
}

impl crate::core::error::Categorised for WriteError {
    fn category(&self) -> crate::core::error::Category {
        crate::core::error::Category::IoWrite
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Writes a stage's rows to `<prefix>.<suffix>.tsv` and `.parquet` (atomically), or the TSV
/// to standard output for the prefix `-`; returns the files written.
pub fn write_rows(output: &str, suffix: &str, rows: &[Row]) -> Result<Vec<PathBuf>, WriteError> {
    if output == "-" {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        write_tsv(&mut lock, rows).map_err(|source| WriteError {
            path: PathBuf::from("stdout"),
            source,
        })?;
        return Ok(Vec::new());
    }
    let (tsv, parquet) = write_table(Path::new(output), suffix, rows)?;
    Ok(vec![tsv, parquet])
}

/// The output file names for a prefix and a stage suffix: `<prefix>.<suffix>.tsv` and `.parquet`.
pub fn output_paths(prefix: &Path, suffix: &str) -> (PathBuf, PathBuf) {
    let base = prefix.as_os_str().to_string_lossy().into_owned();
    (
        PathBuf::from(format!("{base}.{suffix}.tsv")),
        PathBuf::from(format!("{base}.{suffix}.parquet")),
    )
}

/// Refuses an output prefix that names a directory (`out/`, `.`), whose files would be hidden
/// (`out/.bedmethyl.gz`).
pub fn check_prefix(prefix: &str) -> Result<(), WriteError> {
    let name = Path::new(prefix)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    if prefix.ends_with('/') || name.is_none_or(|n| n.is_empty() || n.starts_with('.')) {
        return Err(WriteError {
            path: PathBuf::from(prefix),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "not an output prefix: -o names the files' common start (e.g. out/sample), not a directory",
            ),
        });
    }
    Ok(())
}

/// Checks up front that the output directory of `prefix` exists (creating it if needed) and
/// is writable, so a long run does not fail at its very end.
pub fn prepare_output_dir(prefix: &Path) -> Result<(), WriteError> {
    let dir = match prefix.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // A file where a directory of the prefix should be: name it (create_dir_all says only
    // "File exists").
    if let Some(file) = dir.ancestors().find(|a| a.is_file()) {
        return Err(WriteError {
            path: file.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::NotADirectory,
                "it is a file, but the output prefix needs it to be a directory",
            ),
        });
    }
    fs::create_dir_all(&dir).map_err(|source| WriteError {
        path: dir.clone(),
        source,
    })?;
    let probe = dir.join(format!(".agemark-write-test-{}", std::process::id()));
    match fs::File::create(&probe) {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            Ok(())
        }
        Err(source) => Err(WriteError { path: dir, source }),
    }
}

/// Writes `rows` as `<prefix>.<suffix>.tsv` and `<prefix>.<suffix>.parquet`, each atomically.
/// Returns the two paths.
pub fn write_table(
    prefix: &Path,
    suffix: &str,
    rows: &[Row],
) -> Result<(PathBuf, PathBuf), WriteError> {
    let mut written = write_tables(prefix, &[(suffix, rows)])?;
    let parquet = written.pop().unwrap_or_default();
    let tsv = written.pop().unwrap_or_default();
    Ok((tsv, parquet))
}

/// Writes several stages' tables (`<prefix>.<suffix>.tsv` and `.parquet` each) all together
/// or not at all: every file is written and fsynced under a temporary name first, then all are
/// renamed into place; when any step fails, none of the files is left (temporaries removed,
/// files already renamed removed). Returns the files, TSV then Parquet per table.
pub fn write_tables(prefix: &Path, tables: &[(&str, &[Row])]) -> Result<Vec<PathBuf>, WriteError> {
    let name = prefix.file_name().map(|n| n.to_string_lossy().into_owned());
    if name.is_none_or(|n| n.is_empty() || n.starts_with('.'))
        || prefix.as_os_str().to_string_lossy().ends_with('/')
    {
        return Err(WriteError {
            path: prefix.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "not an output prefix: -o names the files' common start (e.g. out/sample), not a directory",
            ),
        });
    }
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| {
        for (suffix, rows) in tables {
            let (tsv, parquet) = output_paths(prefix, suffix);
            staged.push((stage(&tsv, |w| write_tsv(w, rows))?, tsv));
            staged.push((
                stage(&parquet, |w| parquet_out::write_parquet(w, rows))?,
                parquet,
            ));
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &staged {
            let _ = fs::remove_file(tmp);
        }
        return Err(e);
    }
    for (i, (tmp, path)) in staged.iter().enumerate() {
        if let Err(source) = fs::rename(tmp, path) {
            for (_, done) in &staged[..i] {
                let _ = fs::remove_file(done);
            }
            for (tmp, _) in &staged[i..] {
                let _ = fs::remove_file(tmp);
            }
            return Err(WriteError {
                path: path.clone(),
                source,
            });
        }
    }
    Ok(staged.into_iter().map(|(_, p)| p).collect())
}

/// Writes rows as TSV (header line first) to any writer.
pub fn write_tsv<W: Write>(w: &mut W, rows: &[Row]) -> io::Result<()> {
    writeln!(w, "{}", COLUMNS.join("\t"))?;
    for row in rows {
        debug_assert!(
            row.qc_status == QcStatus::Pass || !row.qc_note.is_empty(),
            "a {} row without a reason: {} {}",
            row.qc_status,
            row.sample_id,
            row.measure
        );
        let cells = row.cells();
        let mut first = true;
        for cell in cells.iter() {
            if !first {
                w.write_all(b"\t")?;
            }
            first = false;
            w.write_all(sanitize(cell).as_bytes())?;
        }
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Tabs and newlines inside a cell would break the table: replace them with spaces.
fn sanitize(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.contains(['\t', '\n', '\r']) {
        std::borrow::Cow::Owned(cell.replace(['\t', '\n', '\r'], " "))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Writes a file under a temporary name in the same directory and renames it into place when
/// `fill` succeeded; on any failure the temporary file is removed and nothing is left behind.
pub fn write_atomic<F>(path: &Path, fill: F) -> Result<(), WriteError>
where
    F: FnOnce(&mut io::BufWriter<fs::File>) -> io::Result<()>,
{
    let tmp = stage(path, fill)?;
    if let Err(source) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

/// Writes and fsyncs `path`'s content under the temporary name `.NAME.tmp-PID` beside it and
/// returns that name (removed again when writing fails).
fn stage<F>(path: &Path, fill: F) -> Result<PathBuf, WriteError>
where
    F: FnOnce(&mut io::BufWriter<fs::File>) -> io::Result<()>,
{
    let file_name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let file = fs::File::create(&tmp)?;
        let mut w = io::BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(source) => {
            let _ = fs::remove_file(&tmp);
            Err(WriteError {
                path: path.to_path_buf(),
                source,
            })
        }
    }
}

/// `dir/rel` when it stays inside `dir`: `rel` is relative, made of plain names (no `..`,
/// no root), and no part of it that exists is a symbolic link (which could lead outside).
pub fn confined(dir: &Path, rel: &Path) -> Result<PathBuf, WriteError> {
    let refuse = |why: &str| WriteError {
        path: dir.join(rel),
        source: io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{why}: agemark writes only inside the output directory"),
        ),
    };
    let mut p = dir.to_path_buf();
    for c in rel.components() {
        match c {
            std::path::Component::Normal(n) => p.push(n),
            _ => return Err(refuse("not a plain relative path")),
        }
        if fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(refuse("a symbolic link"));
        }
    }
    Ok(p)
}

/// An exclusive advisory lock on an output directory (`DIR/.agemark.lock`), held while a run
/// writes into it; released when dropped, which also removes the file (and by the system when
/// the process dies, leaving the file: the next run takes it over).
#[derive(Debug)]
pub struct DirLock {
    file: Option<fs::File>,
    path: PathBuf,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Removed while still locked, so no other run can be holding it in between.
        let _ = fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

/// Creates `dir` and locks it for this process. When another process holds the lock, the
/// error says which (pid, host, start time), so the second run stops before writing anything.
pub fn lock_dir(dir: &Path) -> Result<DirLock, WriteError> {
    let err = |path: &Path, source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let path = dir.join(".agemark.lock");
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| err(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let holder = fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            return Err(err(
                dir,
                io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    format!(
                        "in use by another agemark run ({}); wait for it to finish or give another output directory",
                        if holder.is_empty() { "holder unknown" } else { holder }
                    ),
                ),
            ));
        }
        Err(fs::TryLockError::Error(e)) => return Err(err(&path, e)),
    }
    use std::io::{Seek, Write};
    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let _ = file.set_len(0);
    let _ = file.seek(io::SeekFrom::Start(0));
    let _ = write!(
        file,
        "pid {} on {} since unix time {started}",
        std::process::id(),
        host.trim()
    );
    let _ = file.sync_all();
    Ok(DirLock {
        file: Some(file),
        path,
    })
}

/// Removes the temporaries (`.NAME.tmp-PID`) an interrupted writer left below `dir` (call
/// while holding [`lock_dir`]: no other writer can be at work there). Returns how many.
pub fn remove_stale_temporaries(dir: &Path) -> usize {
    fn walk(d: &Path, depth: usize, n: &mut usize) {
        let Ok(rd) = fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            match e.file_type() {
                Ok(t) if t.is_dir() && depth > 0 && !t.is_symlink() => walk(&p, depth - 1, n),
                Ok(t)
                    if t.is_file()
                        && name.starts_with('.')
                        && name.contains(".tmp-")
                        && fs::remove_file(&p).is_ok() =>
                {
                    *n += 1;
                }
                _ => {}
            }
        }
    }
    let mut n = 0;
    walk(dir, 4, &mut n);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prov() -> Provenance {
        Provenance {
            sample_id: "S1".into(),
            input: "s1.bam".into(),
            reference_build: "GRCh38".into(),
        }
    }

    #[test]
    fn numbers_are_shortest_round_trip() {
        assert_eq!(format_number(420.0), "420");
        assert_eq!(format_number(5924.012345678), "5924.012345678");
        assert_eq!(format_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(1e-12), "1e-12");
        assert_eq!(format_number(5000.0), "5000");
        assert_eq!(format_number(1e6), "1000000");
        assert_eq!(format_number(6.017476467295491e-4), "0.0006017476467295491");
        for x in [1.0 / 3.0, 2.5e-9, 123456789.125, 7e22] {
            assert_eq!(format_number(x).parse::<f64>().unwrap(), x);
        }
    }

    #[test]
    fn non_finite_values_become_failures() {
        let row = Row::new(&prov(), "telomere", "x", f64::NAN, "kb", "m");
        assert_eq!(row.value, None);
        assert_eq!(row.qc_status, QcStatus::Fail);
        let mut tsv = Vec::new();
        write_tsv(&mut tsv, &[row]).unwrap();
        let text = String::from_utf8(tsv).unwrap();
        assert!(!text.to_lowercase().contains("nan"));
        assert!(!text.contains("inf"));
    }

    #[test]
    fn tsv_has_header_and_one_line_per_row() {
        let mut row =
            Row::new(&prov(), "telomere", "reads_total", 10.0, "reads", "count").with_n(10);
        row.warn("few\treads");
        let mut buf = Vec::new();
        write_tsv(&mut buf, &[row]).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], COLUMNS.join("\t"));
        let cells: Vec<&str> = lines[1].split('\t').collect();
        assert_eq!(cells.len(), COLUMNS.len());
        assert_eq!(cells[3], "10");
        assert_eq!(cells[7], "warn");
        assert_eq!(cells[8], "few reads");
    }

    #[test]
    fn atomic_write_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tsv");
        let r = write_atomic(&path, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
