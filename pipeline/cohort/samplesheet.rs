//! The sample sheet, minimal form: one row per sample with chronological ages for age
//! acceleration.
//!
//! CSV or TSV (tab if the header has a tab), UTF-8, header row first. Columns, by name:
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `sample_id` | yes | the sample's name exactly as in the data (e.g. a beta-matrix column) |
//! | `age_years` | no | chronological age in years |
//! | `gestational_age_weeks` | no | clinical gestational age in weeks |
//!
//! Other columns are ignored (issue 6 adds more). An empty or `NA` age is "not known" for that
//! sample; any other text that is not a number, or a negative age, is an error naming the file,
//! row and column. Duplicate sample ids are an error. Rows are numbered as lines of the file
//! (the header is row 1).
//!
//! [`CohortSheet`] is the full sheet of a cohort run (`agemark run`): linkage columns, sample
//! types and input files, validated all at once (see README "Sample sheet").

use std::{collections::HashMap, fmt, fs};

/// One sample's row.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetRow {
    /// The sample id.
    pub sample_id: String,
    /// Line of the file (header = 1).
    pub row: u64,
    /// Chronological age in years, when given.
    pub age_years: Option<f64>,
    /// Clinical gestational age in weeks, when given.
    pub gestational_age_weeks: Option<f64>,
}

/// A parsed sample sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleSheet {
    /// The file as named by the user.
    pub path: String,
    /// Rows in file order.
    pub rows: Vec<SheetRow>,
    /// The sheet has an `age_years` column.
    pub has_age_years: bool,
    /// The sheet has a `gestational_age_weeks` column.
    pub has_gestational_age: bool,
}

/// An error in a sample sheet: file, row, column, what.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetError {
    /// The file.
    pub path: String,
    /// Line of the file, when the problem is in one row.
    pub row: Option<u64>,
    /// Column name, when the problem is in one cell.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SheetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::core::write_location(
            f,
            &self.path,
            self.row,
            self.column.as_deref(),
            &self.message,
        )
    }
}

impl std::error::Error for SheetError {}

impl crate::core::error::Categorised for SheetError {
    fn category(&self) -> crate::core::error::Category {
        if crate::core::error::category_of_input_message(&self.message)
            == crate::core::error::Category::InputMissing
            && self.row.is_none()
        {
            crate::core::error::Category::InputMissing
        } else {
            crate::core::error::Category::SheetInvalid
        }
    }
}

/// The sheet's bytes as text, or where and why they are not UTF-8 (a spreadsheet saved in a
/// legacy encoding is the usual cause).
fn decode_utf8(path: &str, bytes: Vec<u8>) -> Result<String, SheetError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let row = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        SheetError {
            path: path.to_string(),
            row: Some(row),
            column: None,
            message: format!(
                "not UTF-8 text (byte 0x{:02X}): saved as Latin-1 or Windows-1252? Save the sheet as UTF-8 CSV",
                bytes[at]
            ),
        }
    })
}

/// Whether a header line is separated by semicolons (Excel's "CSV" where the decimal mark is a
/// comma), which the sheet readers do not take.
fn semicolon_header(header: &str) -> Option<String> {
    (header.contains(';') && !header.contains('\t') && !header.contains(',')).then(|| {
        "the header is separated by semicolons (Excel's CSV where the decimal mark is a comma): \
         save the sheet as comma-separated CSV or as tab-separated text"
            .to_string()
    })
}

impl SampleSheet {
    /// Reads and checks a sample sheet.
    pub fn read(path: &str) -> Result<SampleSheet, SheetError> {
        let err = |row: Option<u64>, column: Option<&str>, message: String| SheetError {
            path: path.to_string(),
            row,
            column: column.map(str::to_string),
            message,
        };
        let text = fs::read(path).map_err(|e| {
            err(
                None,
                None,
                match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file".to_string(),
                    _ => format!("cannot read: {e}"),
                },
            )
        })?;
        let text = decode_utf8(path, text)?;
        SampleSheet::parse(path, &text)
    }

    /// Parses sample-sheet text (`path` is used in messages only).
    pub fn parse(path: &str, text: &str) -> Result<SampleSheet, SheetError> {
        let err = |row: Option<u64>, column: Option<&str>, message: String| SheetError {
            path: path.to_string(),
            row,
            column: column.map(str::to_string),
            message,
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate();
        let Some((_, header)) = lines.next() else {
            return Err(err(None, None, "empty file: no header line".to_string()));
        };
        if let Some(why) = semicolon_header(header) {
            return Err(err(Some(1), None, why));
        }
        let delim = if header.contains('\t') { '\t' } else { ',' };
        let split = |l: &str| -> Vec<String> {
            l.split(delim)
                .map(|c| c.trim().trim_matches('"').trim().to_string())
                .collect()
        };
        let names = split(header);
        let col = |name: &str| names.iter().position(|c| c == name);
        let Some(id_col) = col("sample_id") else {
            return Err(err(
                Some(1),
                None,
                format!("no sample_id column (the header has: {})", names.join(", ")),
            ));
        };
        let age_col = col("age_years");
        let ga_col = col("gestational_age_weeks");
        if age_col.is_none() && ga_col.is_none() {
            return Err(err(
                Some(1),
                None,
                format!(
                    "no age column: ages are read from age_years and gestational_age_weeks (the header has: {})",
                    names.join(", ")
                ),
            ));
        }
        let unused: Vec<&str> = names
            .iter()
            .filter(|n| {
                !matches!(
                    n.as_str(),
                    "sample_id" | "age_years" | "gestational_age_weeks"
                )
            })
            .map(String::as_str)
            .collect();
        if !unused.is_empty() {
            tracing::info!(
                "{path}: columns not read (ages come from age_years and gestational_age_weeks): {}",
                unused.join(", ")
            );
        }
        let mut rows = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        for (i, line) in lines {
            let row = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let cells = split(line);
            if cells.len() != names.len() {
                return Err(err(
                    Some(row),
                    None,
                    format!("{} cells, but the header has {}", cells.len(), names.len()),
                ));
            }
            let id = cells[id_col].clone();
            if id.is_empty() {
                return Err(err(
                    Some(row),
                    Some("sample_id"),
                    "empty sample id".to_string(),
                ));
            }
            if let Some(first) = seen.insert(id.clone(), row) {
                return Err(err(
                    Some(row),
                    Some("sample_id"),
                    format!("duplicate sample id '{id}' (first at row {first})"),
                ));
            }
            let number = |c: Option<usize>, name: &str| -> Result<Option<f64>, SheetError> {
                let Some(c) = c else { return Ok(None) };
                let t = cells[c].as_str();
                if t.is_empty() || t == "NA" || t == "na" || t == "NaN" {
                    return Ok(None);
                }
                match t.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
                    Ok(_) => Err(err(
                        Some(row),
                        Some(name),
                        format!("'{t}' is not a valid age (must be a finite number >= 0)"),
                    )),
                    Err(_) => Err(err(Some(row), Some(name), format!("not a number: '{t}'"))),
                }
            };
            rows.push(SheetRow {
                sample_id: id,
                row,
                age_years: number(age_col, "age_years")?,
                gestational_age_weeks: number(ga_col, "gestational_age_weeks")?,
            });
        }
        if rows.is_empty() {
            return Err(err(None, None, "no sample rows".to_string()));
        }
        Ok(SampleSheet {
            path: path.to_string(),
            rows,
            has_age_years: age_col.is_some(),
            has_gestational_age: ga_col.is_some(),
        })
    }

    /// The row of a sample.
    pub fn get(&self, sample_id: &str) -> Option<&SheetRow> {
        self.rows.iter().find(|r| r.sample_id == sample_id)
    }

    /// The ages acceleration needs, by sample (named in messages by the sheet's file name).
    pub fn ages(&self) -> crate::methylation::models::acceleration::Ages {
        crate::methylation::models::acceleration::Ages {
            source: crate::core::file_name_of(&self.path),
            has_age_years: self.has_age_years,
            has_gestational_age: self.has_gestational_age,
            by_sample: self
                .rows
                .iter()
                .rev()
                .map(|r| (r.sample_id.clone(), (r.age_years, r.gestational_age_weeks)))
                .collect(),
        }
    }

    /// Checks that the sheet and a data file name the same samples, both ways; the error names
    /// the first sheet row whose id is not in the data, or the first data sample with no row.
    pub fn check_matches(&self, data_path: &str, samples: &[String]) -> Result<(), SheetError> {
        let in_data: std::collections::HashSet<&str> = samples.iter().map(String::as_str).collect();
        for r in &self.rows {
            if !in_data.contains(r.sample_id.as_str()) {
                let shown: Vec<&str> = samples.iter().take(5).map(String::as_str).collect();
                return Err(SheetError {
                    path: self.path.clone(),
                    row: Some(r.row),
                    column: Some("sample_id".to_string()),
                    message: format!(
                        "'{}' is not a sample of {data_path} (its {} samples begin: {}{})",
                        r.sample_id,
                        samples.len(),
                        shown.join(", "),
                        if samples.len() > 5 { ", …" } else { "" }
                    ),
                });
            }
        }
        let in_sheet: std::collections::HashSet<&str> =
            self.rows.iter().map(|r| r.sample_id.as_str()).collect();
        if let Some(missing) = samples.iter().find(|s| !in_sheet.contains(s.as_str())) {
            let n = samples
                .iter()
                .filter(|s| !in_sheet.contains(s.as_str()))
                .count();
            return Err(SheetError {
                path: self.path.clone(),
                row: None,
                column: Some("sample_id".to_string()),
                message: format!(
                    "has no row for sample '{missing}' of {data_path} ({n} of its {} samples have none)",
                    samples.len()
                ),
            });
        }
        Ok(())
    }
}

/// Sample types of the cohort sheet.
pub const SAMPLE_TYPES: [&str; 7] = [
    "cord_blood",
    "placenta",
    "maternal_blood",
    "whole_blood",
    "buccal",
    "saliva",
    "other",
];

/// Roles of the cohort sheet.
pub const ROLES: [&str; 4] = ["mother", "child", "father", "other"];

/// Linkage columns of the cohort sheet, in the order the cohort tables write them.
pub const LINKAGE_COLUMNS: [&str; 9] = [
    "sample_id",
    "participant_id",
    "family_id",
    "role",
    "sample_type",
    "timepoint",
    "age_years",
    "gestational_age_weeks",
    "sex",
];

/// Input columns of the cohort sheet.
pub const INPUT_COLUMNS: [&str; 7] = [
    "reads",
    "reads2",
    "reference",
    "idat",
    "betas_column",
    "methylation_calls",
    "idat_batch",
];

/// Whether `name` can be used as a file name as it stands (letters, digits, `.`, `_`, `-`; not
/// starting with `.`; at most 100 characters).
pub fn is_filename_safe(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Why a sample id cannot name files and folders in the output directory (it becomes
/// `OUTDIR/<id>/<id>.telomere.tsv`), or `None` when it can: no `/` or `\`, no control
/// characters, not `.` or `..`, not starting with `.`, at most 200 bytes.
pub fn sample_id_problem(id: &str) -> Option<&'static str> {
    if id.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if id.chars().any(char::is_control) {
        Some("contains a control character")
    } else if id.starts_with('.') {
        Some("starts with '.' (a hidden or parent-directory name)")
    } else if id.len() > 200 {
        Some("is longer than 200 bytes")
    } else {
        None
    }
}

/// Highest accepted `age_years`.
pub const MAX_AGE_YEARS: f64 = 125.0;
/// Highest accepted `gestational_age_weeks`.
pub const MAX_GESTATIONAL_WEEKS: f64 = 45.0;

/// One sample of the full (cohort) sample sheet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CohortSample {
    /// Line of the file where the row starts (header = 1).
    pub line: u64,
    /// Unique sample id.
    pub sample_id: String,
    /// Participant (person) id; several samples may share it.
    pub participant_id: String,
    /// Family id linking mother, child and father.
    pub family_id: String,
    /// `mother`, `child`, `father`, `other` or empty.
    pub role: String,
    /// One of [`SAMPLE_TYPES`] or empty.
    pub sample_type: String,
    /// Free text (e.g. `birth`, `6y`).
    pub timepoint: String,
    /// Chronological age in years.
    pub age_years: Option<f64>,
    /// Clinical gestational age in weeks.
    pub gestational_age_weeks: Option<f64>,
    /// Free text.
    pub sex: String,
    /// Reads (BAM/CRAM/SAM/FASTQ), resolved against the sheet's directory.
    pub reads: Option<String>,
    /// Second FASTQ of a pair.
    pub reads2: Option<String>,
    /// Reference FASTA (CRAM).
    pub reference: Option<String>,
    /// IDAT directory or `<barcode>_<position>` prefix.
    pub idat: Option<String>,
    /// The IDAT batch (`run`'s idat job) the sample's IDATs are preprocessed in; default: the
    /// Sentrix barcode of the IDAT name. Filename-safe.
    pub idat_batch: Option<String>,
    /// The sample's column in the top-level betas matrix.
    pub betas_column: Option<String>,
    /// Sequencing methylation calls (Bismark coverage, bedMethyl, …).
    pub methylation_calls: Option<String>,
}

/// How serious a sheet problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Reported; the run goes on.
    Warning,
    /// The run does not start.
    Error,
}

/// One problem found in a cohort sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetProblem {
    /// Error or warning.
    pub severity: Severity,
    /// The problem, located (`sheet.csv: row 4: column reads: no such file: x.bam`).
    pub error: SheetError,
}

impl fmt::Display for SheetProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.severity {
            Severity::Error => write!(f, "error: {}", self.error),
            Severity::Warning => write!(f, "warning: {}", self.error),
        }
    }
}

/// The full sample sheet of a cohort run (see README "Sample sheet").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CohortSheet {
    /// The file as named by the user.
    pub path: String,
    /// Rows in file order.
    pub samples: Vec<CohortSample>,
    /// Problems found (errors and warnings), in line order.
    pub problems: Vec<SheetProblem>,
}

impl CohortSheet {
    /// Reads and validates a cohort sheet; relative paths are resolved against the sheet's
    /// directory and checked. Every problem is collected (never only the first): the caller
    /// refuses to start when [`CohortSheet::has_errors`].
    pub fn read(path: &str) -> Result<CohortSheet, SheetError> {
        CohortSheet::read_with(path, true)
    }

    /// [`CohortSheet::read`], looking at the input files only with `check_files` (`merge` and
    /// `report` run where the inputs may not be).
    pub fn read_with(path: &str, check_files: bool) -> Result<CohortSheet, SheetError> {
        let bytes = fs::read(path).map_err(|e| SheetError {
            path: path.to_string(),
            row: None,
            column: None,
            message: match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                std::io::ErrorKind::IsADirectory => "is a directory, not a file".to_string(),
                _ => format!("cannot read: {e}"),
            },
        })?;
        let text = decode_utf8(path, bytes)?;
        let base = std::path::Path::new(path)
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        Ok(CohortSheet::parse(path, &text, &base, check_files))
    }

    /// Parses sheet text; `base` is the directory relative paths are resolved against;
    /// `check_files` looks at the file system.
    pub fn parse(path: &str, text: &str, base: &std::path::Path, check_files: bool) -> Self {
        let mut problems: Vec<SheetProblem> = Vec::new();
        let mut samples: Vec<CohortSample> = Vec::new();
        let done = |problems: Vec<SheetProblem>, samples: Vec<CohortSample>| {
            let mut sheet = CohortSheet {
                path: path.to_string(),
                samples,
                problems,
            };
            sheet.problems.sort_by_key(|p| p.error.row.unwrap_or(0));
            sheet
        };
        let mut problem = |sev: Severity, row: Option<u64>, column: Option<&str>, msg: String| {
            problems.push(SheetProblem {
                severity: sev,
                error: SheetError {
                    path: path.to_string(),
                    row,
                    column: column.map(str::to_string),
                    message: msg,
                },
            })
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // Line of a byte offset (1-based), counted from the text itself: quoted fields may hold
        // line breaks, and CR LF counts as one.
        let line_at = |byte: u64| -> u64 {
            // A record after CR LF starts at the LF (csv ends the previous record at the CR).
            let mut end = (byte as usize).min(text.len());
            while end < text.len() && matches!(text.as_bytes()[end], b'\r' | b'\n') {
                end += 1;
            }
            1 + text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64
        };
        let first_line = text.lines().next().unwrap_or("");
        if let Some(why) = semicolon_header(first_line) {
            problem(Severity::Error, Some(1), None, why);
            return done(problems, samples);
        }
        let delim = if first_line.contains('\t') {
            b'\t'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delim)
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let header: Vec<String> = match records.next() {
            Some(Ok(r)) => r.iter().map(str::to_string).collect(),
            Some(Err(e)) => {
                problem(Severity::Error, Some(1), None, format!("bad header: {e}"));
                return done(problems, samples);
            }
            None => {
                problem(
                    Severity::Error,
                    None,
                    None,
                    "empty file: no header line".into(),
                );
                return done(problems, samples);
            }
        };
        let col = |name: &str| header.iter().position(|c| c == name);
        if col("sample_id").is_none() {
            problem(
                Severity::Error,
                Some(1),
                None,
                format!(
                    "no sample_id column (the header has: {})",
                    header.join(", ")
                ),
            );
            return done(problems, samples);
        }
        let mut seen_cols: HashMap<&str, usize> = HashMap::new();
        for (i, h) in header.iter().enumerate() {
            if let Some(first) = seen_cols.insert(h.as_str(), i) {
                problem(
                    Severity::Error,
                    Some(1),
                    Some(h),
                    format!("column named twice (cells {} and {})", first + 1, i + 1),
                );
            }
            if !LINKAGE_COLUMNS.contains(&h.as_str()) && !INPUT_COLUMNS.contains(&h.as_str()) {
                problem(
                    Severity::Warning,
                    Some(1),
                    Some(h),
                    "unknown column: ignored".to_string(),
                );
            }
        }
        let mut seen_ids: HashMap<String, u64> = HashMap::new();
        let mut seen_files: HashMap<String, (u64, String)> = HashMap::new();
        let mut seen_betas: HashMap<String, u64> = HashMap::new();
        for rec in records {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| line_at(p.byte()));
                    problem(Severity::Error, line, None, format!("unreadable row: {e}"));
                    continue;
                }
            };
            let line = rec.position().map_or(0, |p| line_at(p.byte()));
            if rec.iter().all(|c| c.is_empty()) {
                continue;
            }
            if rec.len() != header.len() {
                problem(
                    Severity::Error,
                    Some(line),
                    None,
                    format!("{} cells, but the header has {}", rec.len(), header.len()),
                );
                continue;
            }
            let cell = |name: &str| -> String {
                col(name).and_then(|c| rec.get(c)).unwrap_or("").to_string()
            };
            let mut s = CohortSample {
                line,
                sample_id: cell("sample_id"),
                participant_id: cell("participant_id"),
                family_id: cell("family_id"),
                role: cell("role"),
                sample_type: cell("sample_type"),
                timepoint: cell("timepoint"),
                sex: cell("sex"),
                ..CohortSample::default()
            };
            if s.sample_id.is_empty() {
                problem(
                    Severity::Error,
                    Some(line),
                    Some("sample_id"),
                    "empty sample id".into(),
                );
            } else if let Some(why) = sample_id_problem(&s.sample_id) {
                problem(
                    Severity::Error,
                    Some(line),
                    Some("sample_id"),
                    format!(
                        "'{}' {why}: a sample id names files in the output directory",
                        s.sample_id
                    ),
                );
            } else if let Some(first) = seen_ids.insert(s.sample_id.clone(), line) {
                problem(
                    Severity::Error,
                    Some(line),
                    Some("sample_id"),
                    format!(
                        "duplicate sample id '{}' (first at row {first})",
                        s.sample_id
                    ),
                );
            }
            if !s.role.is_empty() && !ROLES.contains(&s.role.as_str()) {
                problem(
                    Severity::Error,
                    Some(line),
                    Some("role"),
                    format!("unknown role '{}' (one of: {})", s.role, ROLES.join(", ")),
                );
            }
            if !s.sample_type.is_empty() && !SAMPLE_TYPES.contains(&s.sample_type.as_str()) {
                problem(
                    Severity::Error,
                    Some(line),
                    Some("sample_type"),
                    format!(
                        "unknown sample type '{}' (one of: {})",
                        s.sample_type,
                        SAMPLE_TYPES.join(", ")
                    ),
                );
            }
            if (s.role == "mother" || s.role == "child") && s.family_id.is_empty() {
                problem(
                    Severity::Warning,
                    Some(line),
                    Some("family_id"),
                    format!("a {} with no family_id is in no dyad", s.role),
                );
            }
            for (name, max) in [
                ("age_years", MAX_AGE_YEARS),
                ("gestational_age_weeks", MAX_GESTATIONAL_WEEKS),
            ] {
                let t = cell(name);
                let v = if t.is_empty() || t.eq_ignore_ascii_case("na") || t == "NaN" {
                    None
                } else {
                    match t.parse::<f64>() {
                        Ok(v) if v.is_finite() && (0.0..=max).contains(&v) => Some(v),
                        Ok(_) => {
                            problem(
                                Severity::Error,
                                Some(line),
                                Some(name),
                                format!("impossible value '{t}' (must be between 0 and {max})"),
                            );
                            None
                        }
                        Err(_) => {
                            problem(
                                Severity::Error,
                                Some(line),
                                Some(name),
                                format!("not a number: '{t}'"),
                            );
                            None
                        }
                    }
                };
                if name == "age_years" {
                    s.age_years = v;
                } else {
                    s.gestational_age_weeks = v;
                }
            }
            for name in ["reads", "reads2", "reference", "idat", "methylation_calls"] {
                let t = cell(name);
                if t.is_empty() {
                    continue;
                }
                let p = base.join(&t);
                let resolved = if std::path::Path::new(&t).is_absolute() {
                    t.clone()
                } else {
                    p.display().to_string()
                };
                if check_files {
                    let path = std::path::Path::new(&resolved);
                    if name == "idat" {
                        let dir_ok = path.is_dir();
                        let prefix_ok = ["_Grn.idat", "_Grn.idat.gz"]
                            .iter()
                            .any(|sfx| std::path::Path::new(&format!("{resolved}{sfx}")).is_file());
                        if !dir_ok && !prefix_ok {
                            problem(
                                Severity::Error,
                                Some(line),
                                Some(name),
                                format!("no IDAT directory or <prefix>_Grn.idat: {resolved}"),
                            );
                        }
                    } else if path.is_dir() {
                        problem(
                            Severity::Error,
                            Some(line),
                            Some(name),
                            format!("is a directory, not a file: {resolved}"),
                        );
                    } else if !path.is_file() {
                        problem(
                            Severity::Error,
                            Some(line),
                            Some(name),
                            format!("no such file: {resolved}"),
                        );
                    }
                }
                if name != "reference" && name != "idat" {
                    let key = std::fs::canonicalize(&resolved)
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|_| resolved.clone());
                    if let Some((first, other)) = seen_files.get(&key) {
                        if *other != s.sample_id {
                            problem(
                                Severity::Error,
                                Some(line),
                                Some(name),
                                format!(
                                    "the same file as sample '{other}' (row {first}): {resolved}"
                                ),
                            );
                        }
                    } else {
                        seen_files.insert(key, (line, s.sample_id.clone()));
                    }
                }
                match name {
                    "reads" => s.reads = Some(resolved),
                    "reads2" => s.reads2 = Some(resolved),
                    "reference" => s.reference = Some(resolved),
                    "idat" => s.idat = Some(resolved),
                    _ => s.methylation_calls = Some(resolved),
                }
            }
            if s.reference.is_none()
                && s.methylation_calls
                    .as_deref()
                    .is_some_and(crate::methylation::source::modbam_input::detect)
            {
                problem(
                    Severity::Error,
                    Some(line),
                    Some("reference"),
                    "methylation_calls names reads (a modBAM): give the FASTA they were aligned to in the reference column (CpG sites come from it)".into(),
                );
            }
            if s.reads2.is_some() && s.reads.is_none() {
                problem(
                    Severity::Error,
                    Some(line),
                    Some("reads2"),
                    "reads2 without reads".into(),
                );
            }
            let ib = cell("idat_batch");
            if !ib.is_empty() {
                if !is_filename_safe(&ib) {
                    problem(
                        Severity::Error,
                        Some(line),
                        Some("idat_batch"),
                        format!("'{ib}' is not a safe file name (letters, digits, '.', '_', '-'; not starting with '.')"),
                    );
                } else if s.idat.is_none() {
                    problem(
                        Severity::Warning,
                        Some(line),
                        Some("idat_batch"),
                        "an idat_batch without idat: ignored".into(),
                    );
                } else {
                    s.idat_batch = Some(ib);
                }
            }
            let b = cell("betas_column");
            if !b.is_empty() {
                if let Some(first) = seen_betas.insert(b.clone(), line) {
                    problem(
                        Severity::Error,
                        Some(line),
                        Some("betas_column"),
                        format!("betas column '{b}' is already used by row {first}"),
                    );
                }
                s.betas_column = Some(b);
            }
            if s.reads.is_none()
                && s.idat.is_none()
                && s.betas_column.is_none()
                && s.methylation_calls.is_none()
            {
                problem(
                    Severity::Warning,
                    Some(line),
                    None,
                    format!(
                        "sample '{}' has no inputs: it gets a placeholder row only",
                        s.sample_id
                    ),
                );
            }
            samples.push(s);
        }
        if samples.is_empty() {
            problem(Severity::Error, None, None, "no sample rows".into());
        }
        done(problems, samples)
    }

    /// Any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// Adds an error (for checks that need more than the sheet, e.g. the betas matrix).
    pub fn add_error(&mut self, row: Option<u64>, column: Option<&str>, message: String) {
        self.problems.push(SheetProblem {
            severity: Severity::Error,
            error: SheetError {
                path: self.path.clone(),
                row,
                column: column.map(str::to_string),
                message,
            },
        });
        self.problems.sort_by_key(|p| p.error.row.unwrap_or(0));
    }

    /// The sample with this id.
    pub fn get(&self, sample_id: &str) -> Option<&CohortSample> {
        self.samples.iter().find(|s| s.sample_id == sample_id)
    }

    /// The minimal sheet (sample id + ages) the clocks take, with the given ids.
    pub fn to_sample_sheet(&self) -> SampleSheet {
        SampleSheet {
            path: self.path.clone(),
            rows: self
                .samples
                .iter()
                .map(|s| SheetRow {
                    sample_id: s.sample_id.clone(),
                    row: s.line,
                    age_years: s.age_years,
                    gestational_age_weeks: s.gestational_age_weeks,
                })
                .collect(),
            has_age_years: true,
            has_gestational_age: true,
        }
    }

    /// The sheet with sample, participant and family IDs replaced by pseudonyms.
    pub fn pseudonymised(&self, p: &super::pseudo::Pseudonymiser) -> CohortSheet {
        use super::pseudo::IdKind;
        let mut out = self.clone();
        for s in &mut out.samples {
            s.sample_id = p.pseudonym(IdKind::Sample, &s.sample_id);
            s.participant_id = p.pseudonym(IdKind::Participant, &s.participant_id);
            s.family_id = p.pseudonym(IdKind::Family, &s.family_id);
        }
        out.problems.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_csv_and_tsv_with_missing_ages() {
        let s =
            SampleSheet::parse("s.csv", "sample_id,age_years,x\nA,42.5,foo\nB,NA,bar\n").unwrap();
        assert_eq!(s.rows[0].age_years, Some(42.5));
        assert_eq!(s.rows[1].age_years, None);
        assert!(s.has_age_years && !s.has_gestational_age);
        let t = SampleSheet::parse("s.tsv", "gestational_age_weeks\tsample_id\n39\tN1\n").unwrap();
        assert_eq!(t.rows[0].gestational_age_weeks, Some(39.0));
    }

    #[test]
    fn cohort_sheet_collects_every_problem_with_lines() {
        let text = "\u{feff}sample_id,role,sample_type,age_years,gestational_age_weeks,timepoint,extra\r\n\
                    A,child,cord_blood,0,39,\"birth,\nday 1\",x\r\n\
                    B,aunt,blood,abc,50,,\r\n\
                    A,mother,,30,,,\r\n\
                    C,mother\r\n\r\n\r\n";
        let s = CohortSheet::parse("s.csv", text, std::path::Path::new("."), false);
        let shown: Vec<String> = s.problems.iter().map(|p| p.to_string()).collect();
        let want = [
            "warning: s.csv: row 1: column extra: unknown column: ignored",
            "warning: s.csv: row 2: sample 'A' has no inputs: it gets a placeholder row only",
            "error: s.csv: row 4: column role: unknown role 'aunt' (one of: mother, child, father, other)",
            "error: s.csv: row 4: column sample_type: unknown sample type 'blood'",
            "error: s.csv: row 4: column age_years: not a number: 'abc'",
            "error: s.csv: row 4: column gestational_age_weeks: impossible value '50' (must be between 0 and 45)",
            "error: s.csv: row 5: column sample_id: duplicate sample id 'A' (first at row 2)",
            "error: s.csv: row 6: 2 cells, but the header has 7",
        ];
        for w in want {
            assert!(
                shown.iter().any(|p| p.starts_with(w)),
                "missing {w:?} in {shown:#?}"
            );
        }
        assert!(s.has_errors());
        assert_eq!(s.samples[0].timepoint, "birth,\nday 1");
        assert_eq!(s.samples[0].gestational_age_weeks, Some(39.0));
        assert_eq!(s.samples.len(), 3);
    }

    #[test]
    fn semicolons_legacy_encodings_and_missing_ages_are_named() {
        let e = SampleSheet::parse("s.csv", "sample_id;age_years\nA;4,5\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("s.csv: row 1: the header is separated by semicolons"),
            "{e}"
        );
        let c = CohortSheet::parse(
            "c.csv",
            "sample_id;reads\nA;a.bam\n",
            std::path::Path::new("."),
            false,
        );
        assert!(
            c.problems[0].error.message.contains("semicolons"),
            "{:?}",
            c.problems
        );
        let e = decode_utf8("s.csv", b"sample_id,age_years\nJos\xe9,4\n".to_vec()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.csv: row 2: not UTF-8 text (byte 0xE9): saved as Latin-1 or Windows-1252? Save the sheet as UTF-8 CSV"
        );
        let e = SampleSheet::parse("s.csv", "sample_id,gestation_wk\nA,39\n").unwrap_err();
        assert!(e.to_string().contains("no age column"), "{e}");
    }

    #[test]
    fn errors_name_row_and_column() {
        let e = SampleSheet::parse("s.csv", "sample_id,age_years\nA,4x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.csv: row 2: column age_years: not a number: '4x'"
        );
        let e = SampleSheet::parse("s.csv", "sample_id,age_years\nA,1\nA,2\n").unwrap_err();
        assert!(e
            .to_string()
            .contains("row 3: column sample_id: duplicate sample id 'A'"));
        let s = SampleSheet::parse("s.csv", "sample_id,age_years\nA,1\nZ,2\n").unwrap();
        let e = s
            .check_matches("b.csv", &["A".to_string(), "B".to_string()])
            .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("s.csv: row 3: column sample_id: 'Z' is not a sample of b.csv"));
    }
}
