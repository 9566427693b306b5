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
        let text =
            String::from_utf8(text).map_err(|_| err(None, None, "not UTF-8 text".to_string()))?;
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
    fn errors_name_row_and_column() {
        let e = SampleSheet::parse("s.csv", "sample_id,age_years\nA,4x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.csv: row 2: column age_years: not a number: '4x'"
        );
        let e = SampleSheet::parse("s.csv", "sample_id\nA\nA\n").unwrap_err();
        assert!(e
            .to_string()
            .contains("row 3: column sample_id: duplicate sample id 'A'"));
        let s = SampleSheet::parse("s.csv", "sample_id\nA\nZ\n").unwrap();
        let e = s
            .check_matches("b.csv", &["A".to_string(), "B".to_string()])
            .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("s.csv: row 3: column sample_id: 'Z' is not a sample of b.csv"));
    }
}
