//! Cohort tables from tidy tables: one merge shared by `agemark run` and `agemark merge`.
//!
//! * `PREFIX.long.tsv` / `.long.parquet`: every row of every input table, with the sample
//!   sheet's linkage columns ([`LINKAGE_COLUMNS`]) joined in by `sample_id` (empty without a
//!   sheet), then the tidy columns. A sheet sample with no row at all gets one placeholder row
//!   (`assay = cohort`, `measure = no_rows`, `qc_status = fail`) so every sample is present.
//! * `PREFIX.wide.tsv`: one line per sample, the linkage columns, then one column
//!   `<assay>.<measure>` per sample-level measure (rows with an empty `read_group`); a failed
//!   value is an empty cell.
//! * `PREFIX.columns.tsv`: one line per wide column: assay, measure, unit, and how many samples
//!   have a value / a warn / a fail row.
//! * `PREFIX.dyads.tsv`: every child sample × every sample of a mother of the same
//!   `family_id` (roles from the sheet), one line per measure BOTH have a valid value of
//!   (same assay, measure and unit; QC measures left out). One labelled exception: the
//!   child's prenatal-smoking score (`reese2017_maternal_smoking` in cord blood,
//!   `rauschert2020_prenatal_smoking` later in life) beside the mother's adult smoking score
//!   (`elliott2014_smoking`), measure `child:<score>|mother:elliott2014_smoking`: different
//!   measures shown side by side, never differenced.
//!
//! Row order is fixed (sorted by sample_id, assay, measure, read_group, method, input, unit),
//! so the tables do not depend on the order of the inputs or on threads.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    io::{self, Write},
    path::{Path, PathBuf},
};

use super::samplesheet::{CohortSample, CohortSheet, LINKAGE_COLUMNS};
use crate::core::error::{Category, Error};
use crate::methylation::models::applicability;
use crate::{
    core::{QcStatus, AGEMARK_VERSION},
    tidy::{
        format_number,
        parquet_out::{write_columns, ParquetColumn},
        write_atomic, Row, WriteError, COLUMNS,
    },
};

/// Whether a wide column (`assay`, `measure`) pairs between mother and child: not the QC
/// measures (array QC, the cell-type sum, the count of applicable clocks, the NR3C1 probe
/// count, the placeholder), and of the read and qPCR assays only the biomarkers (TelSeq length,
/// telomere content, mtDNA-CN, T/S, MT/S, qPCR telomere length).
/// A clock's rows pair only when the clock applies to both sample types (a table made by
/// `agemark clocks`, which knows no sample types, may hold a mother's `knight2016_ga`).
fn dyad_comparable(assay: &str, measure: &str, child_type: &str, mother_type: &str) -> bool {
    if assay == PLACEHOLDER_ASSAY
        || assay == "methylation_array"
        || assay == super::sample_qc::ASSAY
        || assay == crate::methylation::sample_qc::IDENTITY_ASSAY
        || assay == crate::methylation::sample_qc::CONTAMINATION_ASSAY
        || measure == crate::methylation::celltypes::SUM_MEASURE
        || (assay == crate::methylation::nr3c1::ASSAY
            && measure == crate::methylation::nr3c1::COVERAGE_MEASURE)
        || measure == "applicable_clocks"
        || measure == "applicable_scores"
    {
        return false;
    }
    // Read-derived measures pair by their biomarkers only, not by the counts behind them
    // (reads, bases, histogram bins, sex ratios).
    match assay {
        "telomere" => return matches!(measure, "telseq_length_kb" | "th_telomere_content"),
        "mtdna" => return measure == "mtdna_cn",
        // qPCR: the ratios and the absolute length, not the mean Cq behind them.
        "telomere_qpcr" => return matches!(measure, "ts_ratio" | "telomere_length_kb"),
        "mtdna_qpcr" => return measure == "mt_s_ratio",
        // Scores pair like clocks: only where the score applies to both sample types.
        "clocks" | "exposure" => {}
        _ => return true,
    }
    let Ok(domains) = applicability::domains() else {
        return true;
    };
    // The clock of `<clock>`, `<clock>_diff`, `_residual`, `_ieaa`.
    let clock = domains
        .iter()
        .find(|d| applicability::is_measure_of(measure, &d.clock));
    match clock {
        Some(d) => [child_type, mother_type]
            .iter()
            .all(|t| t.is_empty() || d.sample_types.iter().any(|s| s == t)),
        None => true,
    }
}

/// A text linkage column of the long Parquet table that may be null (all but `sample_id`).
fn is_optional_linkage(column: &str) -> bool {
    column != "sample_id"
        && LINKAGE_COLUMNS.contains(&column)
        && !matches!(column, "age_years" | "gestational_age_weeks")
}

/// Assay of the placeholder row of a sample with no rows.
pub const PLACEHOLDER_ASSAY: &str = "cohort";

/// Linkage cells of one sample (all empty without a sheet).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Linkage {
    /// participant_id.
    pub participant_id: String,
    /// family_id.
    pub family_id: String,
    /// role.
    pub role: String,
    /// sample_type.
    pub sample_type: String,
    /// timepoint.
    pub timepoint: String,
    /// age_years.
    pub age_years: Option<f64>,
    /// gestational_age_weeks.
    pub gestational_age_weeks: Option<f64>,
    /// sex.
    pub sex: String,
}

impl Linkage {
    /// The linkage of a sheet sample.
    pub fn of(s: &CohortSample) -> Linkage {
        Linkage {
            participant_id: s.participant_id.clone(),
            family_id: s.family_id.clone(),
            role: s.role.clone(),
            sample_type: s.sample_type.clone(),
            timepoint: s.timepoint.clone(),
            age_years: s.age_years,
            gestational_age_weeks: s.gestational_age_weeks,
            sex: s.sex.clone(),
        }
    }

    fn cells(&self) -> [String; 8] {
        [
            self.participant_id.clone(),
            self.family_id.clone(),
            self.role.clone(),
            self.sample_type.clone(),
            self.timepoint.clone(),
            self.age_years.map(format_number).unwrap_or_default(),
            self.gestational_age_weeks
                .map(format_number)
                .unwrap_or_default(),
            self.sex.clone(),
        ]
    }
}

/// The merged cohort: rows in their fixed order, and the linkage of every sample.
#[derive(Clone, Debug, Default)]
pub struct Cohort {
    /// Rows, sorted.
    pub rows: Vec<Row>,
    /// Linkage by sample id (every sample of the rows).
    pub linkage: BTreeMap<String, Linkage>,
    /// The sheet was given (dyads need it).
    pub has_sheet: bool,
    /// Sample QC ([`super::sample_qc`]); its verdicts are also rows (assay `sample_qc`).
    pub sample_qc: Vec<super::sample_qc::Check>,
}

/// Parses a QC status word.
pub fn parse_qc(s: &str) -> Option<QcStatus> {
    match s {
        "pass" => Some(QcStatus::Pass),
        "warn" => Some(QcStatus::Warn),
        "fail" => Some(QcStatus::Fail),
        _ => None,
    }
}

/// A table that is not what it should be.
fn bad(message: String) -> Error {
    Error::new(Category::InputFormat, message)
}

/// Why an output of agemark's is not merged into the cohort tables (its rows are not
/// samples' values), from its fixed suffix; `None` for a table to merge. `run` and `merge`
/// both use it, so `merge results/*/*.tsv` gives `run`'s cohort tables.
pub fn not_merged(path: &str) -> Option<&'static str> {
    const KINDS: [(&str, &str); 5] = [
        (".qpcr_plates.tsv", "qPCR plate QC"),
        (".qpcr_wells.tsv", "qPCR wells"),
        (".telomere_reads.tsv", "per-molecule telomere lengths"),
        ("failures.tsv", "the run's failure list"),
        ("_mqc.tsv", "MultiQC custom content"),
    ];
    KINDS
        .iter()
        .find(|(suffix, _)| path.ends_with(suffix))
        .map(|&(_, what)| what)
}

/// Reads tidy tables: each file once (by canonical path), in sorted order. agemark's
/// outputs that are not samples' rows ([`not_merged`]) are left out (logged); any other file
/// that is not a tidy table is skipped with a warning.
pub fn collect_rows(paths: &[std::path::PathBuf]) -> Result<Vec<Row>, Error> {
    let mut seen = std::collections::BTreeMap::new();
    for p in paths {
        let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        seen.entry(key).or_insert_with(|| p.clone());
    }
    let mut rows = Vec::new();
    for p in seen.values() {
        if let Some(what) = not_merged(&p.to_string_lossy()) {
            tracing::info!("{}: {what}, not samples' rows: not merged", p.display());
            continue;
        }
        match read_tidy_tsv(p)? {
            Some(r) => rows.extend(r),
            None => tracing::warn!(
                "{}: not an agemark tidy table (header lacks the tidy columns): skipped",
                p.display()
            ),
        }
    }
    Ok(rows)
}

/// Reads a sheet for merge and report (input files not checked); errors stop, and are
/// printed on stderr one per line first.
pub fn sheet_for_merge(
    path: &str,
    key: Option<&crate::cohort::pseudo::Pseudonymiser>,
) -> Result<crate::cohort::samplesheet::CohortSheet, Error> {
    let sheet = crate::cohort::samplesheet::CohortSheet::read_with(path, false)?;
    if sheet.has_errors() {
        for p in &sheet.problems {
            eprintln!("{}", crate::cohort::pseudo::scrub_log(&p.to_string()));
        }
        return Err(Error::new(
            Category::SheetInvalid,
            format!("{path}: the sample sheet has errors"),
        ));
    }
    Ok(match key {
        Some(k) => sheet.pseudonymised(k),
        None => sheet,
    })
}

/// `agemark merge`: tidy tables → the cohort tables at `output` (a prefix), linked to the
/// sheet when one is given; returns the files written.
pub fn merge_tables(
    tables: &[std::path::PathBuf],
    output: &Path,
    samplesheet: Option<&str>,
    key: Option<&crate::cohort::pseudo::Pseudonymiser>,
) -> Result<Vec<std::path::PathBuf>, Error> {
    let sheet = match samplesheet {
        Some(p) => Some(sheet_for_merge(p, key)?),
        None => None,
    };
    crate::tidy::prepare_output_dir(output)?;
    let rows = collect_rows(tables)?;
    if let Some(sh) = &sheet {
        check_tables_link(&rows, sh, samplesheet.unwrap_or_default(), key.is_some())?;
    }
    let cohort = merge(rows, sheet.as_ref());
    Ok(cohort.write_all(output)?)
}

/// A merge with a sheet must link: when no sample id of the tables is in the sheet the merge
/// stops (most often pseudonymised tables merged without their key, or the key with raw
/// tables); when only some are missing, it says how many and goes on.
fn check_tables_link(
    rows: &[Row],
    sheet: &CohortSheet,
    sheet_path: &str,
    keyed: bool,
) -> Result<(), Error> {
    let in_sheet: BTreeSet<&str> = sheet.samples.iter().map(|s| s.sample_id.as_str()).collect();
    let ids: BTreeSet<&str> = rows.iter().map(|r| r.sample_id.as_str()).collect();
    let missing: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|i| !in_sheet.contains(i))
        .collect();
    if ids.is_empty() || missing.is_empty() {
        return Ok(());
    }
    let looks_pseudonymised = |i: &str| {
        i.len() == 2 + crate::cohort::pseudo::PSEUDONYM_HEX
            && i.starts_with("s_")
            && i[2..].bytes().all(|b| b.is_ascii_hexdigit())
    };
    let hint = if missing.iter().all(|i| looks_pseudonymised(i)) {
        if keyed {
            "; the tables look pseudonymised with another key: give the key the run used"
        } else {
            "; the tables look pseudonymised: give the run's key with --pseudonymise KEY"
        }
    } else if keyed {
        "; --pseudonymise was given but the tables hold raw ids: merge them without the key"
    } else {
        ""
    };
    if missing.len() == ids.len() {
        return Err(Error::new(
            Category::SheetInvalid,
            format!(
                "{sheet_path}: none of the {} sample ids in the tables is in the sample sheet, so nothing would link{hint}",
                ids.len()
            ),
        ));
    }
    tracing::warn!(
        "{sheet_path}: {} of the {} sample ids in the tables are not in the sample sheet; their rows have no linkage{hint}",
        missing.len(),
        ids.len()
    );
    Ok(())
}

/// Reads a tidy TSV (the 13 [`COLUMNS`], in any order, extra columns ignored). `Ok(None)` when
/// the header is not a tidy header (the caller says it skipped the file).
pub fn read_tidy_tsv(path: &Path) -> Result<Option<Vec<Row>>, Error> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            Category::of_read_io(&e),
            format!("{shown}: cannot read: {e}"),
        )
    })?;
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Ok(None);
    };
    let names: Vec<&str> = header.split('\t').collect();
    let mut idx = [0usize; 13];
    for (k, c) in COLUMNS.iter().enumerate() {
        match names.iter().position(|n| n == c) {
            Some(i) => idx[k] = i,
            None => return Ok(None),
        }
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        let row_no = i as u64 + 2;
        let cells: Vec<&str> = line.split('\t').collect();
        if cells.len() != names.len() {
            return Err(bad(format!(
                "{shown}: row {row_no}: {} cells, but the header has {}",
                cells.len(),
                names.len()
            )));
        }
        let c = |k: usize| cells[idx[k]];
        let value = match c(3) {
            "" => None,
            t => Some(t.parse::<f64>().map_err(|_| {
                bad(format!(
                    "{shown}: row {row_no}: column value: not a number: '{t}'"
                ))
            })?),
        };
        let n_used = match c(6) {
            "" => None,
            t => Some(t.parse::<u64>().map_err(|_| {
                bad(format!(
                    "{shown}: row {row_no}: column n_used: not a count: '{t}'"
                ))
            })?),
        };
        let qc_status = parse_qc(c(7)).ok_or_else(|| {
            bad(format!(
                "{shown}: row {row_no}: column qc_status: '{}' is not pass, warn or fail",
                c(7)
            ))
        })?;
        rows.push(Row {
            sample_id: c(0).to_string(),
            assay: c(1).to_string(),
            measure: c(2).to_string(),
            value,
            unit: c(4).to_string(),
            method: c(5).to_string(),
            n_used,
            qc_status,
            qc_note: c(8).to_string(),
            read_group: c(9).to_string(),
            input: c(10).to_string(),
            reference_build: c(11).to_string(),
            agemark_version: c(12).to_string(),
        });
    }
    Ok(Some(rows))
}

fn sort_key(r: &Row) -> (&str, &str, &str, &str, &str, &str, &str) {
    (
        &r.sample_id,
        &r.assay,
        &r.measure,
        &r.read_group,
        &r.method,
        &r.input,
        &r.unit,
    )
}

/// Merges rows (any order) with an optional sheet into the cohort.
pub fn merge(rows: Vec<Row>, sheet: Option<&CohortSheet>) -> Cohort {
    // Genotype calls feed the sample QC; they stay out of the cohort tables (personal data,
    // and 65 columns no analysis wants in the wide table).
    let (genotypes, mut rows): (Vec<Row>, Vec<Row>) = rows
        .into_iter()
        .partition(|r| r.assay == crate::methylation::sample_qc::GENOTYPE_ASSAY);
    let mut linkage: BTreeMap<String, Linkage> = BTreeMap::new();
    if let Some(sh) = sheet {
        let present: BTreeSet<&str> = rows.iter().map(|r| r.sample_id.as_str()).collect();
        let mut extra = Vec::new();
        for s in &sh.samples {
            linkage.insert(s.sample_id.clone(), Linkage::of(s));
            if !present.contains(s.sample_id.as_str()) {
                extra.push(placeholder(&s.sample_id));
            }
        }
        rows.extend(extra);
    }
    for r in &rows {
        linkage.entry(r.sample_id.clone()).or_default();
    }
    let mut cohort = Cohort {
        rows,
        linkage,
        has_sheet: sheet.is_some(),
        sample_qc: Vec::new(),
    };
    let dyads = cohort.dyad_pairs();
    cohort.sample_qc = super::sample_qc::checks(&cohort.rows, &genotypes, &cohort.linkage, &dyads);
    cohort
        .rows
        .extend(cohort.sample_qc.iter().map(|c| c.to_row()));
    cohort.rows.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    cohort
}

/// The placeholder row of a sheet sample that no table has rows for.
pub fn placeholder(sample_id: &str) -> Row {
    Row {
        sample_id: sample_id.to_string(),
        assay: PLACEHOLDER_ASSAY.to_string(),
        measure: "no_rows".to_string(),
        value: None,
        unit: String::new(),
        method: "merge".to_string(),
        n_used: None,
        qc_status: QcStatus::Fail,
        qc_note: "no stage wrote rows for this sample (no usable inputs in the sheet, or its tables were not given to merge)".to_string(),
        read_group: String::new(),
        input: String::new(),
        reference_build: String::new(),
        agemark_version: AGEMARK_VERSION.to_string(),
    }
}

/// A wide-table column: `<assay>.<measure>`.
pub fn wide_column(r: &Row) -> String {
    format!("{}.{}", r.assay, r.measure)
}

fn clean(cell: &str) -> String {
    cell.replace(['\t', '\n', '\r'], " ")
}

fn write_line<W: Write>(w: &mut W, cells: &[String]) -> io::Result<()> {
    let cleaned: Vec<String> = cells.iter().map(|c| clean(c)).collect();
    writeln!(w, "{}", cleaned.join("\t"))
}

/// Header of the long table.
pub fn long_columns() -> Vec<&'static str> {
    let mut h: Vec<&str> = LINKAGE_COLUMNS.to_vec();
    h.extend(COLUMNS.iter().skip(1));
    h
}

fn long_cells(r: &Row, l: &Linkage) -> Vec<String> {
    let mut cells = vec![r.sample_id.clone()];
    cells.extend(l.cells());
    cells.extend([
        r.assay.clone(),
        r.measure.clone(),
        r.value.map(format_number).unwrap_or_default(),
        r.unit.clone(),
        r.method.clone(),
        r.n_used.map(|n| n.to_string()).unwrap_or_default(),
        r.qc_status.as_str().to_string(),
        r.qc_note.clone(),
        r.read_group.clone(),
        r.input.clone(),
        r.reference_build.clone(),
        r.agemark_version.clone(),
    ]);
    cells
}

impl Cohort {
    fn link(&self, sample: &str) -> Linkage {
        self.linkage.get(sample).cloned().unwrap_or_default()
    }

    /// Wide columns in order with (unit, n values, n warn, n fail).
    pub fn wide_columns(&self) -> Vec<(String, String, String, String, [usize; 3])> {
        let mut cols: BTreeMap<(String, String), (String, [usize; 3])> = BTreeMap::new();
        let mut seen: BTreeSet<(String, String, String)> = BTreeSet::new();
        for r in self.rows.iter().filter(|r| r.read_group.is_empty()) {
            let e = cols
                .entry((r.assay.clone(), r.measure.clone()))
                .or_insert_with(|| (r.unit.clone(), [0; 3]));
            if !seen.insert((r.assay.clone(), r.measure.clone(), r.sample_id.clone())) {
                continue;
            }
            if r.value.is_some() {
                e.1[0] += 1;
            }
            match r.qc_status {
                QcStatus::Warn => e.1[1] += 1,
                QcStatus::Fail => e.1[2] += 1,
                QcStatus::Pass => {}
            }
        }
        cols.into_iter()
            .map(|((a, m), (u, n))| (format!("{a}.{m}"), a, m, u, n))
            .collect()
    }

    /// Sample-level value of each (sample, column): the first row in the fixed order.
    pub fn values(&self) -> HashMap<(String, String), Option<f64>> {
        let mut out = HashMap::new();
        for r in self.rows.iter().filter(|r| r.read_group.is_empty()) {
            out.entry((r.sample_id.clone(), wide_column(r)))
                .or_insert(r.value);
        }
        out
    }

    /// Writes the long table as TSV.
    pub fn write_long_tsv<W: Write>(&self, w: &mut W) -> io::Result<()> {
        writeln!(w, "{}", long_columns().join("\t"))?;
        for r in &self.rows {
            write_line(w, &long_cells(r, &self.link(&r.sample_id)))?;
        }
        Ok(())
    }

    /// Writes the wide table.
    pub fn write_wide<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let cols = self.wide_columns();
        let values = self.values();
        let mut header: Vec<String> = LINKAGE_COLUMNS.iter().map(|s| s.to_string()).collect();
        header.extend(cols.iter().map(|c| c.0.clone()));
        write_line(w, &header)?;
        for (sample, l) in &self.linkage {
            let mut cells = vec![sample.clone()];
            cells.extend(l.cells());
            for c in &cols {
                cells.push(
                    values
                        .get(&(sample.clone(), c.0.clone()))
                        .copied()
                        .flatten()
                        .map(format_number)
                        .unwrap_or_default(),
                );
            }
            write_line(w, &cells)?;
        }
        Ok(())
    }

    /// Writes the column dictionary of the wide table.
    pub fn write_columns<W: Write>(&self, w: &mut W) -> io::Result<()> {
        writeln!(
            w,
            "column\tassay\tmeasure\tunit\tn_values\tn_warn\tn_fail\tdescription"
        )?;
        let sheet_units = [
            (
                "sample_id",
                "",
                "sample id (from the tables; pseudonym with --pseudonymise)",
            ),
            ("participant_id", "", "sample sheet"),
            ("family_id", "", "sample sheet"),
            ("role", "", "sample sheet: mother, child, father, other"),
            ("sample_type", "", "sample sheet"),
            ("timepoint", "", "sample sheet"),
            ("age_years", "years", "sample sheet: chronological age"),
            (
                "gestational_age_weeks",
                "weeks",
                "sample sheet: clinical gestational age",
            ),
            ("sex", "", "sample sheet"),
        ];
        for (c, u, d) in sheet_units {
            writeln!(w, "{c}\tsheet\t{c}\t{u}\t\t\t\t{d}")?;
        }
        for (col, a, m, u, n) in self.wide_columns() {
            write_line(
                w,
                &[
                    col,
                    a,
                    m,
                    u,
                    n[0].to_string(),
                    n[1].to_string(),
                    n[2].to_string(),
                    "agemark row (qc_status and qc_note in the long table)".to_string(),
                ],
            )?;
        }
        Ok(())
    }

    /// Mother–child pairs by family: (family, child sample, mother sample), sorted.
    pub fn dyad_pairs(&self) -> Vec<(String, String, String)> {
        let mut pairs = Vec::new();
        if !self.has_sheet {
            return pairs;
        }
        for (child, cl) in self.linkage.iter().filter(|(_, l)| l.role == "child") {
            if cl.family_id.is_empty() {
                continue;
            }
            for (mother, _) in self
                .linkage
                .iter()
                .filter(|(_, l)| l.role == "mother" && l.family_id == cl.family_id)
            {
                pairs.push((cl.family_id.clone(), child.clone(), mother.clone()));
            }
        }
        pairs.sort();
        pairs
    }

    /// Writes the dyads table (header only without a sheet or without pairs).
    pub fn write_dyads<W: Write>(&self, w: &mut W) -> io::Result<()> {
        writeln!(
            w,
            "family_id\tchild_sample_id\tchild_sample_type\tchild_timepoint\tmother_sample_id\tmother_sample_type\tmother_timepoint\tassay\tmeasure\tunit\tchild_value\tmother_value"
        )?;
        let cols = self.wide_columns();
        let values = self.values();
        for (fam, child, mother) in self.dyad_pairs() {
            let (cl, ml) = (self.link(&child), self.link(&mother));
            for (col, a, m, u, _) in &cols {
                // Only a measure validly computed for both (a value, not failed) and
                // comparable: same assay, measure and unit (cell types by their canonical
                // label across panels; clocks only where they apply to both), and not a QC
                // measure.
                if !dyad_comparable(a, m, &cl.sample_type, &ml.sample_type) {
                    continue;
                }
                let cv = values.get(&(child.clone(), col.clone()));
                let mv = values.get(&(mother.clone(), col.clone()));
                if !matches!((cv, mv), (Some(Some(_)), Some(Some(_)))) {
                    continue;
                }
                let f = |v: Option<&Option<f64>>| {
                    v.copied().flatten().map(format_number).unwrap_or_default()
                };
                write_line(
                    w,
                    &[
                        fam.clone(),
                        child.clone(),
                        cl.sample_type.clone(),
                        cl.timepoint.clone(),
                        mother.clone(),
                        ml.sample_type.clone(),
                        ml.timepoint.clone(),
                        a.clone(),
                        m.clone(),
                        u.clone(),
                        f(cv),
                        f(mv),
                    ],
                )?;
            }
            // The labelled exception: the child's prenatal-smoking score beside the mother's
            // adult smoking score (different measures, never differenced).
            let mother_col = "exposure.elliott2014_smoking".to_string();
            let mv = values.get(&(mother.clone(), mother_col));
            for child_m in [
                "reese2017_maternal_smoking",
                "rauschert2020_prenatal_smoking",
            ] {
                let cv = values.get(&(child.clone(), format!("exposure.{child_m}")));
                if let (Some(Some(c)), Some(Some(m))) = (cv, mv) {
                    write_line(
                        w,
                        &[
                            fam.clone(),
                            child.clone(),
                            cl.sample_type.clone(),
                            cl.timepoint.clone(),
                            mother.clone(),
                            ml.sample_type.clone(),
                            ml.timepoint.clone(),
                            "exposure".to_string(),
                            format!("child:{child_m}|mother:elliott2014_smoking"),
                            "score".to_string(),
                            format_number(*c),
                            format_number(*m),
                        ],
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Writes the long table as Parquet: text columns UTF-8, `value`, `age_years`,
    /// `gestational_age_weeks` optional doubles, `n_used` optional int64.
    pub fn write_long_parquet<W: Write + Send>(&self, w: W) -> io::Result<()> {
        let cols = long_columns();
        let mut schema = String::from("message agemark_cohort_long {\n");
        for c in &cols {
            let t = match *c {
                "value" | "age_years" | "gestational_age_weeks" => "OPTIONAL DOUBLE".to_string(),
                "n_used" => "OPTIONAL INT64".to_string(),
                // Linkage fields the sheet leaves empty (or no sheet) are nulls, not "".
                c if is_optional_linkage(c) => "OPTIONAL BYTE_ARRAY".to_string(),
                _ => "REQUIRED BYTE_ARRAY".to_string(),
            };
            let ann = if t.contains("BYTE_ARRAY") {
                " (UTF8)"
            } else {
                ""
            };
            schema.push_str(&format!("  {t} {c}{ann};\n"));
        }
        schema.push('}');
        let links: Vec<Linkage> = self.rows.iter().map(|r| self.link(&r.sample_id)).collect();
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .zip(&links)
            .map(|(r, l)| long_cells(r, l))
            .collect();
        write_columns(w, &schema, |index| match cols[index] {
            name @ ("value" | "age_years" | "gestational_age_weeks") => ParquetColumn::Double(
                self.rows
                    .iter()
                    .zip(&links)
                    .map(|(r, l)| match name {
                        "value" => r.value,
                        "age_years" => l.age_years,
                        _ => l.gestational_age_weeks,
                    })
                    .collect(),
            ),
            "n_used" => ParquetColumn::Int64(
                self.rows
                    .iter()
                    .map(|r| r.n_used.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
                    .collect(),
            ),
            c if is_optional_linkage(c) => ParquetColumn::OptionalText(
                cells
                    .iter()
                    .map(|c| Some(c[index].as_str()).filter(|v| !v.is_empty()))
                    .collect(),
            ),
            _ => ParquetColumn::Text(cells.iter().map(|c| c[index].as_str()).collect()),
        })
    }

    /// Writes PREFIX.long.tsv, .long.parquet, .wide.tsv, .columns.tsv, .dyads.tsv atomically.
    pub fn write_all(&self, prefix: &Path) -> Result<Vec<PathBuf>, WriteError> {
        let base = prefix.as_os_str().to_string_lossy().into_owned();
        let p = |s: &str| PathBuf::from(format!("{base}.{s}"));
        let paths = [
            p("long.tsv"),
            p("long.parquet"),
            p("wide.tsv"),
            p("columns.tsv"),
            p("dyads.tsv"),
            p("sample_qc.tsv"),
            p("sample_qc.parquet"),
        ];
        write_atomic(&paths[0], |w| self.write_long_tsv(w))?;
        write_atomic(&paths[1], |w| self.write_long_parquet(w))?;
        write_atomic(&paths[2], |w| self.write_wide(w))?;
        write_atomic(&paths[3], |w| self.write_columns(w))?;
        write_atomic(&paths[4], |w| self.write_dyads(w))?;
        write_atomic(&paths[5], |w| {
            super::sample_qc::write_tsv(&self.sample_qc, w)
        })?;
        write_atomic(&paths[6], |w| {
            super::sample_qc::write_parquet(&self.sample_qc, w)
        })?;
        Ok(paths.to_vec())
    }
}

/// Reads a cohort long table back (for `agemark report`).
pub fn read_long_tsv(path: &Path) -> Result<Cohort, Error> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            Category::of_read_io(&e),
            format!("{shown}: cannot read: {e}"),
        )
    })?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let want = long_columns();
    if header != want {
        return Err(bad(format!(
            "{shown}: not an agemark cohort long table (header: {})",
            header.join(", ")
        )));
    }
    let mut cohort = Cohort {
        has_sheet: true,
        ..Cohort::default()
    };
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        let row_no = i + 2;
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() != want.len() {
            return Err(bad(format!("{shown}: row {row_no}: {} cells", c.len())));
        }
        let num = |t: &str, name: &str| -> Result<Option<f64>, Error> {
            if t.is_empty() {
                Ok(None)
            } else {
                t.parse::<f64>().map(Some).map_err(|_| {
                    bad(format!(
                        "{shown}: row {row_no}: column {name}: not a number: '{t}'"
                    ))
                })
            }
        };
        let l = Linkage {
            participant_id: c[1].into(),
            family_id: c[2].into(),
            role: c[3].into(),
            sample_type: c[4].into(),
            timepoint: c[5].into(),
            age_years: num(c[6], "age_years")?,
            gestational_age_weeks: num(c[7], "gestational_age_weeks")?,
            sex: c[8].into(),
        };
        cohort.linkage.entry(c[0].to_string()).or_insert(l);
        cohort.rows.push(Row {
            sample_id: c[0].into(),
            assay: c[9].into(),
            measure: c[10].into(),
            value: num(c[11], "value")?,
            unit: c[12].into(),
            method: c[13].into(),
            n_used: if c[14].is_empty() {
                None
            } else {
                Some(c[14].parse().map_err(|_| {
                    bad(format!("{shown}: row {row_no}: column n_used: not a count"))
                })?)
            },
            qc_status: parse_qc(c[15]).ok_or_else(|| {
                bad(format!(
                    "{shown}: row {row_no}: column qc_status: bad value"
                ))
            })?,
            qc_note: c[16].into(),
            read_group: c[17].into(),
            input: c[18].into(),
            reference_build: c[19].into(),
            agemark_version: c[20].into(),
        });
    }
    Ok(cohort)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Provenance;

    fn row(s: &str, a: &str, m: &str, v: f64) -> Row {
        let prov = Provenance {
            sample_id: s.into(),
            input: "x".into(),
            reference_build: "GRCh38".into(),
        };
        Row::new(&prov, a, m, v, "u", "m")
    }

    #[test]
    fn merge_order_is_independent_of_input_order_and_adds_placeholders() {
        let sheet = CohortSheet::parse(
            "s.csv",
            "sample_id,family_id,role\nC1,F1,child\nM1,F1,mother\nX,F2,child\n",
            Path::new("."),
            false,
        );
        let a = vec![row("M1", "t", "x", 1.0), row("C1", "t", "x", 2.0)];
        let mut b = a.clone();
        b.reverse();
        let ca = merge(a, Some(&sheet));
        let cb = merge(b, Some(&sheet));
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        ca.write_long_tsv(&mut ta).unwrap();
        cb.write_long_tsv(&mut tb).unwrap();
        assert_eq!(ta, tb);
        let text = String::from_utf8(ta).unwrap();
        assert!(text.contains("X\t\tF2\tchild\t"), "{text}");
        assert!(text.contains("\tcohort\tno_rows\t"), "{text}");
        let mut d = Vec::new();
        ca.write_dyads(&mut d).unwrap();
        let d = String::from_utf8(d).unwrap();
        assert_eq!(d.lines().count(), 2, "{d}");
        assert!(d.lines().nth(1).unwrap().starts_with("F1\tC1\t\t\tM1\t"));
        assert!(d.lines().nth(1).unwrap().ends_with("\tt\tx\tu\t2\t1"));
    }

    #[test]
    fn long_table_reads_back() {
        let c = merge(vec![row("A", "t", "x", 0.5)], None);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.long.tsv");
        write_atomic(&p, |w| c.write_long_tsv(w)).unwrap();
        let back = read_long_tsv(&p).unwrap();
        assert_eq!(back.rows, c.rows);
    }
}
