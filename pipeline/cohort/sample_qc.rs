//! Sample QC across assays: is each sample who the sheet says, and is it one person?
//! `OUTDIR/cohort.sample_qc.tsv` (+ `.parquet`), one row per sample × check, and the same
//! verdicts in the long table under assay `sample_qc` (measure = the check).
//!
//! Checks (each row says its rule, statistic and cut-off; README "Sample QC"):
//! * `sex`: the sheet's `sex` against each sex the stages inferred: the array's (minfi
//!   `getSex`, Aryee et al. 2014, doi:10.1093/bioinformatics/btu049; `methylation::array`) and
//!   the reads' (chrX and chrY depth against autosomes, `mtdna::sex_rows`). A mismatch fails
//!   with both values; one row per source.
//! * `identity`: genotypes of the arrays' SNP probes (`methylation::sample_qc`, ewastools'
//!   mixture, Heiss & Just 2018, doi:10.1186/s13148-018-0504-1) compared between every two
//!   samples over the SNPs called in both (at least `MIN_SNPS`). Concordance ≥ 0.9 (meffil's
//!   sample threshold) means the same person: expected for samples with the same
//!   `participant_id`, a duplicate or swapped tube otherwise (`fail`); two samples with the same
//!   `participant_id` whose genotypes differ also fail.
//! * `relatedness`: for each mother–child pair of the sheet, the share of SNPs where the two
//!   are opposite homozygotes (IBS0). A child shares an allele with its mother at every SNP, so
//!   IBS0 above `MAX_PARENT_IBS0` fails ("cannot be this mother's child").
//! * `maternal_contamination`: Morin et al. 2017's count for cord bloods (the identity stage).
//! * `call_rate`: the SNP call rate and the array's failed-probe fraction.

use std::{
    collections::BTreeMap,
    io::{self, Write},
};

use crate::{
    core::QcStatus,
    methylation::sample_qc::{
        compare, CONTAMINATION_ASSAY, GENOTYPE_ASSAY, IDENTITY_ASSAY, MAX_PARENT_IBS0, MIN_SNPS,
        MORIN_MIN_ABOVE, SAME_PERSON_CONCORDANCE,
    },
    tidy::{
        parquet_out::{write_columns, ParquetColumn},
        Row,
    },
};

use super::merge::Linkage;

/// The assay of the sample-QC rows in the long table.
pub const ASSAY: &str = "sample_qc";

/// The columns of `cohort.sample_qc.tsv`.
pub const COLUMNS: [&str; 8] = [
    "sample_id",
    "check",
    "expected",
    "observed",
    "statistic",
    "cutoff",
    "qc_status",
    "qc_note",
];

/// One check of one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// The sample.
    pub sample_id: String,
    /// `sex`, `identity`, `relatedness`, `maternal_contamination`, `call_rate`.
    pub check: String,
    /// What the sheet (or the rule) expects.
    pub expected: String,
    /// What the data say.
    pub observed: String,
    /// The number the verdict rests on.
    pub statistic: Option<f64>,
    /// The cut-off applied to it.
    pub cutoff: String,
    /// The verdict.
    pub qc_status: QcStatus,
    /// Why (always given for warn and fail).
    pub qc_note: String,
}

impl Check {
    /// The check as a long-table row.
    pub fn to_row(&self) -> Row {
        let mut parts = Vec::new();
        if !self.expected.is_empty() {
            parts.push(format!("expected {}", self.expected));
        }
        if !self.observed.is_empty() {
            parts.push(format!("observed {}", self.observed));
        }
        let mut note = parts.join("; ");
        if !self.qc_note.is_empty() {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&self.qc_note);
        }
        let prov = crate::core::Provenance {
            sample_id: self.sample_id.clone(),
            input: String::new(),
            reference_build: String::new(),
        };
        let mut row = Row::empty(
            &prov,
            ASSAY,
            &self.check,
            "",
            &format!("cutoff {}", self.cutoff),
        );
        row.value = self.statistic;
        row.qc_status = self.qc_status;
        row.qc_note = note;
        row
    }
}

/// `male`, `female` or `None` from a sheet's `sex` cell (M/F, male/female, 1/2 as PLINK).
fn sheet_sex(cell: &str) -> Option<&'static str> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "m" | "male" | "1" => Some("male"),
        "f" | "female" | "2" => Some("female"),
        _ => None,
    }
}

/// The checks of a cohort: `rows` without the genotype rows, `genotypes` the identity stage's
/// per-SNP rows, `linkage` by sample, `dyads` (family, child, mother).
pub fn checks(
    rows: &[Row],
    genotypes: &[Row],
    linkage: &BTreeMap<String, Linkage>,
    dyads: &[(String, String, String)],
) -> Vec<Check> {
    let mut out = Vec::new();
    // The participant of a sample ("" when the sheet has none), without cloning its linkage.
    let participant = |s: &str| linkage.get(s).map_or("", |l| l.participant_id.as_str());
    let valid = |r: &&Row| r.value.is_some() && r.qc_status != QcStatus::Fail;
    // Sex.
    for r in rows
        .iter()
        .filter(|r| r.measure == "inferred_sex_male")
        .filter(valid)
    {
        let observed = if r.value == Some(1.0) {
            "male"
        } else {
            "female"
        };
        let statistic = rows
            .iter()
            .find(|s| {
                s.sample_id == r.sample_id
                    && s.assay == r.assay
                    && (s.measure.starts_with("sex_") || s.measure == "chrY_autosome_depth_ratio")
                    && s.input == r.input
            })
            .and_then(|s| s.value);
        let sheet = linkage
            .get(&r.sample_id)
            .map_or(String::new(), |l| l.sex.clone());
        let (status, note) =
            match sheet_sex(&sheet) {
                None if sheet.is_empty() => (QcStatus::Warn, "the sheet gives no sex".to_string()),
                None => (
                    QcStatus::Warn,
                    format!("the sheet's sex '{sheet}' is not M/F, male/female or 1/2"),
                ),
                Some(s) if s == observed => (QcStatus::Pass, String::new()),
                Some(s) => (
                    QcStatus::Fail,
                    format!(
                    "the sheet says {s}, the {} says {observed}: a swapped or mislabelled sample?",
                    if r.assay == "methylation_array" { "array" } else { "read depth" }
                ),
                ),
            };
        out.push(Check {
            sample_id: r.sample_id.clone(),
            check: "sex".into(),
            expected: sheet_sex(&sheet).unwrap_or("").to_string(),
            observed: observed.into(),
            statistic,
            cutoff: r.method.clone(),
            qc_status: status,
            qc_note: note,
        });
    }
    // Genotypes per sample (SNP → call).
    let mut calls: BTreeMap<&str, BTreeMap<&str, Option<u8>>> = BTreeMap::new();
    for r in genotypes.iter().filter(|r| r.assay == GENOTYPE_ASSAY) {
        calls
            .entry(r.sample_id.as_str())
            .or_default()
            .insert(r.measure.as_str(), r.value.map(|v| v as u8));
    }
    let samples: Vec<&str> = calls
        .iter()
        .filter(|(_, c)| c.values().flatten().count() >= MIN_SNPS)
        .map(|(s, _)| *s)
        .collect();
    let snps: Vec<&str> = {
        let mut v: Vec<&str> = calls.values().flat_map(|c| c.keys().copied()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let vector = |s: &str| -> Vec<Option<u8>> {
        snps.iter()
            .map(|snp| calls.get(s).and_then(|c| c.get(snp).copied().flatten()))
            .collect()
    };
    let vectors: BTreeMap<&str, Vec<Option<u8>>> =
        samples.iter().map(|s| (*s, vector(s))).collect();
    // Identity: every pair.
    for (i, &a) in samples.iter().enumerate() {
        let pa = participant(a);
        let mut best: Option<(f64, &str, usize)> = None;
        let mut problems = Vec::new();
        for (j, &b) in samples.iter().enumerate() {
            if i == j {
                continue;
            }
            let (n, same, _) = compare(&vectors[a], &vectors[b]);
            if n < MIN_SNPS {
                continue;
            }
            let c = same as f64 / n as f64;
            if best.is_none_or(|(bc, _, _)| c > bc) {
                best = Some((c, b, n));
            }
            let pb = participant(b);
            let same_person = !pa.is_empty() && pa == pb;
            if c >= SAME_PERSON_CONCORDANCE && !same_person {
                problems.push(format!(
                    "genotypes match {b} ({:.3} over {n} SNPs) but the sheet names another participant: a duplicate or a swapped tube?",
                    c
                ));
            } else if c < SAME_PERSON_CONCORDANCE && same_person {
                problems.push(format!(
                    "the sheet gives {b} the same participant_id, but the genotypes differ ({c:.3} over {n} SNPs)"
                ));
            }
        }
        let (statistic, observed) = match best {
            Some((c, b, n)) => (Some(c), format!("closest {b} ({n} SNPs)")),
            None => (None, "no other sample to compare".to_string()),
        };
        out.push(Check {
            sample_id: a.to_string(),
            check: "identity".into(),
            expected: if pa.is_empty() {
                "no other sample of this person".into()
            } else {
                format!("only samples of participant {pa} match")
            },
            observed,
            statistic,
            cutoff: format!(
                "concordance >= {SAME_PERSON_CONCORDANCE} = same person (meffil); >= {MIN_SNPS} SNPs"
            ),
            qc_status: if problems.is_empty() {
                QcStatus::Pass
            } else {
                QcStatus::Fail
            },
            qc_note: problems.join("; "),
        });
    }
    // Relatedness of the sheet's mother–child pairs.
    for (_, child, mother) in dyads {
        let (Some(c), Some(m)) = (vectors.get(child.as_str()), vectors.get(mother.as_str())) else {
            continue;
        };
        let (n, _, ibs0) = compare(c, m);
        if n < MIN_SNPS {
            continue;
        }
        let f = ibs0 as f64 / n as f64;
        let bad = f > MAX_PARENT_IBS0;
        out.push(Check {
            sample_id: child.clone(),
            check: "relatedness".into(),
            expected: format!("child of {mother}"),
            observed: format!("{ibs0} of {n} SNPs opposite homozygotes (IBS0)"),
            statistic: Some(f),
            cutoff: format!("IBS0 share <= {MAX_PARENT_IBS0}"),
            qc_status: if bad { QcStatus::Fail } else { QcStatus::Pass },
            qc_note: if bad {
                format!("cannot be {mother}'s child: a mother and child share an allele at every SNP (a swapped tube or a wrong family_id?)")
            } else {
                String::new()
            },
        });
    }
    // Maternal contamination and call rates, from the stages' rows.
    // (Rows without a value, e.g. an input without SNP probes, keep their warn in the stage's
    // table and are not repeated here.)
    for r in rows.iter().filter(|r| r.value.is_some()) {
        let (check, cutoff) = match (r.assay.as_str(), r.measure.as_str()) {
            (CONTAMINATION_ASSAY, "cpgs_above_threshold") => (
                "maternal_contamination",
                format!("contaminated if >= {MORIN_MIN_ABOVE} of 10 CpGs above (Morin 2017)"),
            ),
            (IDENTITY_ASSAY, "snp_call_rate") => {
                ("call_rate", format!(">= {MIN_SNPS} SNPs called"))
            }
            ("methylation_array", "fraction_failed_probes") => {
                ("call_rate", "fraction failed <= 0.1".to_string())
            }
            _ => continue,
        };
        out.push(Check {
            sample_id: r.sample_id.clone(),
            check: check.into(),
            expected: String::new(),
            observed: format!(
                "{} {}",
                r.measure,
                r.value.map_or("NA".to_string(), |v| format!("{v}"))
            ),
            statistic: r.value,
            // Maternal contamination is a sample failure (the stage's count itself is valid).
            qc_status: if check == "maternal_contamination"
                && r.value.is_some_and(|v| v >= MORIN_MIN_ABOVE as f64)
            {
                QcStatus::Fail
            } else {
                r.qc_status
            },
            cutoff,
            qc_note: r.qc_note.clone(),
        });
    }
    out.sort_by(|a, b| (&a.sample_id, &a.check).cmp(&(&b.sample_id, &b.check)));
    out
}

fn cell(c: &str) -> String {
    c.replace(['\t', '\n', '\r'], " ")
}

/// Writes `cohort.sample_qc.tsv`.
pub fn write_tsv<W: Write>(checks: &[Check], w: &mut W) -> io::Result<()> {
    writeln!(w, "{}", COLUMNS.join("\t"))?;
    for c in checks {
        writeln!(
            w,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            cell(&c.sample_id),
            c.check,
            cell(&c.expected),
            cell(&c.observed),
            c.statistic
                .map_or(String::new(), crate::tidy::format_number),
            cell(&c.cutoff),
            c.qc_status.as_str(),
            cell(&c.qc_note)
        )?;
    }
    Ok(())
}

/// Writes `cohort.sample_qc.parquet` (empty texts as nulls, the statistic a double).
pub fn write_parquet<W: Write + Send>(checks: &[Check], w: W) -> io::Result<()> {
    let mut schema = String::from("message agemark_sample_qc {\n");
    for c in COLUMNS {
        let t = match c {
            "statistic" => "OPTIONAL DOUBLE",
            "sample_id" | "check" | "qc_status" => "REQUIRED BYTE_ARRAY",
            _ => "OPTIONAL BYTE_ARRAY",
        };
        let ann = if t.contains("BYTE_ARRAY") {
            " (UTF8)"
        } else {
            ""
        };
        schema.push_str(&format!("  {t} {c}{ann};\n"));
    }
    schema.push('}');
    let opt = |f: fn(&Check) -> &str| -> ParquetColumn<'_> {
        ParquetColumn::OptionalText(
            checks
                .iter()
                .map(|c| Some(f(c)).filter(|t| !t.is_empty()))
                .collect(),
        )
    };
    write_columns(w, &schema, |index| match COLUMNS[index] {
        "sample_id" => ParquetColumn::Text(checks.iter().map(|c| c.sample_id.as_str()).collect()),
        "check" => ParquetColumn::Text(checks.iter().map(|c| c.check.as_str()).collect()),
        "qc_status" => ParquetColumn::Text(checks.iter().map(|c| c.qc_status.as_str()).collect()),
        "statistic" => ParquetColumn::Double(checks.iter().map(|c| c.statistic).collect()),
        "expected" => opt(|c| &c.expected),
        "observed" => opt(|c| &c.observed),
        "cutoff" => opt(|c| &c.cutoff),
        _ => opt(|c| &c.qc_note),
    })
}
