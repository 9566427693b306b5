//! The cohort report: one self-contained HTML file (inline CSS and SVG, no scripts, nothing
//! loaded from the network) and MultiQC custom-content files.
//!
//! Sections: telomere length and mtDNA copy number by sample type; DNAm age vs chronological
//! age per clock (identity line); gestational-age clocks vs clinical GA; cell fractions per
//! sample (stacked bars); NR3C1 methylation heatmap; a QC table of every warn/fail row.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    io::Write,
    path::{Path, PathBuf},
};

use super::{
    merge::Cohort,
    svg::{self, esc},
};
use crate::{
    core::{QcStatus, AGEMARK_VERSION},
    tidy::{format_number, write_atomic, Row, WriteError},
};

fn sample_level(c: &Cohort) -> impl Iterator<Item = &Row> {
    c.rows.iter().filter(|r| r.read_group.is_empty())
}

fn is_accel(measure: &str) -> bool {
    measure.ends_with("_diff") || measure.ends_with("_residual") || measure.ends_with("_ieaa")
}

fn by_type(c: &Cohort, assay: &str, measure: &str) -> Vec<(String, Vec<(String, f64)>)> {
    let mut groups: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for r in sample_level(c).filter(|r| r.assay == assay && r.measure == measure) {
        if let Some(v) = r.value {
            let t = c
                .linkage
                .get(&r.sample_id)
                .map(|l| l.sample_type.clone())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "unspecified".to_string());
            groups.entry(t).or_default().push((r.sample_id.clone(), v));
        }
    }
    groups.into_iter().collect()
}

fn note(html: &mut String, text: &str) {
    let _ = write!(html, r#"<p class="note">{}</p>"#, esc(text));
}

/// Renders the report.
pub fn render(c: &Cohort, title: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}}
h1{{font-size:1.5em}}h2{{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}}
.plots{{display:flex;flex-wrap:wrap;gap:12px}}.note{{color:#555;font-style:italic}}
table{{border-collapse:collapse;font-size:.85em}}td,th{{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}}
tr.fail td{{background:#fde0dc}}tr.warn td{{background:#fff4d6}}.summary td{{border:none;padding:0 1em 0 0}}
</style></head><body>
<h1>{}</h1>
"#,
        esc(title),
        esc(title)
    );
    let samples = c.linkage.len();
    let (mut pass, mut warn, mut fail) = (0, 0, 0);
    for r in &c.rows {
        match r.qc_status {
            QcStatus::Pass => pass += 1,
            QcStatus::Warn => warn += 1,
            QcStatus::Fail => fail += 1,
        }
    }
    let _ = write!(
        h,
        r#"<table class="summary"><tr><td>samples</td><td>{samples}</td></tr><tr><td>rows</td><td>{}</td></tr><tr><td>pass / warn / fail</td><td>{pass} / {warn} / {fail}</td></tr><tr><td>agemark</td><td>{}</td></tr></table>"#,
        c.rows.len(),
        AGEMARK_VERSION
    );

    h.push_str(
        "<h2>Telomere length and mtDNA copy number by sample type</h2><div class=\"plots\">",
    );
    let tel = by_type(c, "telomere", "telseq_length_kb");
    if tel.is_empty() {
        note(&mut h, "No telomere length values (no reads stage rows).");
    } else {
        h.push_str(&svg::strip_plot(
            "telomere_by_type",
            "TelSeq telomere length",
            "kb",
            &tel,
        ));
    }
    let mt = by_type(c, "mtdna", "mtdna_cn");
    if mt.is_empty() {
        note(&mut h, "No mtDNA copy-number values.");
    } else {
        h.push_str(&svg::strip_plot(
            "mtdna_by_type",
            "mtDNA copy number",
            "copies per diploid genome",
            &mt,
        ));
    }
    h.push_str("</div>");

    for (unit, age_of, heading, xlab, name) in [
        (
            "years",
            0usize,
            "DNAm age vs chronological age",
            "chronological age (years)",
            "clock_vs_age",
        ),
        (
            "gestational_weeks",
            1,
            "Gestational-age clocks vs clinical gestational age",
            "clinical GA (weeks)",
            "ga_clock_vs_ga",
        ),
    ] {
        let _ = write!(h, "<h2>{}</h2><div class=\"plots\">", esc(heading));
        let mut per_clock: BTreeMap<String, Vec<(f64, f64, String)>> = BTreeMap::new();
        for r in sample_level(c)
            .filter(|r| r.assay == "clocks" && r.unit == unit && !is_accel(&r.measure))
        {
            let Some(v) = r.value else { continue };
            let Some(l) = c.linkage.get(&r.sample_id) else {
                continue;
            };
            let age = if age_of == 0 {
                l.age_years
            } else {
                l.gestational_age_weeks
            };
            if let Some(a) = age {
                per_clock
                    .entry(r.measure.clone())
                    .or_default()
                    .push((a, v, r.sample_id.clone()));
            }
        }
        if per_clock.is_empty() {
            note(
                &mut h,
                "No clock values with a matching age in the sample sheet.",
            );
        }
        for (clock, pts) in &per_clock {
            h.push_str(&svg::scatter(
                &format!("{name}:{clock}"),
                clock,
                xlab,
                &format!("{clock} ({})", unit.replace('_', " ")),
                pts,
                true,
            ));
        }
        h.push_str("</div>");
    }

    h.push_str("<h2>Cell fractions</h2><div class=\"plots\">");
    let mut bars: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    // The sum of the fractions is a QC measure (how well the panel fits), not a cell type.
    for r in sample_level(c).filter(|r| {
        r.assay == "celltypes" && r.measure != crate::methylation::celltypes::SUM_MEASURE
    }) {
        if let Some(v) = r.value {
            bars.entry(r.sample_id.clone())
                .or_default()
                .push((r.measure.clone(), v));
        }
    }
    if bars.is_empty() {
        note(
            &mut h,
            "No cell-type rows in this cohort (the celltypes stage did not run or gave no values).",
        );
    } else {
        let bars: Vec<(String, Vec<(String, f64)>)> = bars.into_iter().collect();
        h.push_str(&svg::stacked_bars(
            "celltypes",
            "Estimated cell fractions",
            &bars,
        ));
    }
    h.push_str("</div><h2>NR3C1 methylation</h2><div class=\"plots\">");
    let mut cells: BTreeMap<(String, String), f64> = BTreeMap::new();
    for r in sample_level(c).filter(|r| r.assay == "nr3c1") {
        if let Some(v) = r.value {
            cells.insert((r.sample_id.clone(), r.measure.clone()), v);
        }
    }
    if cells.is_empty() {
        note(
            &mut h,
            "No NR3C1 rows in this cohort (the nr3c1 stage did not run or gave no values).",
        );
    } else {
        let mut rows: Vec<String> = cells.keys().map(|k| k.0.clone()).collect();
        rows.dedup();
        let mut cols: Vec<String> = cells.keys().map(|k| k.1.clone()).collect();
        cols.sort();
        cols.dedup();
        h.push_str(&svg::heatmap(
            "nr3c1_heatmap",
            "NR3C1 methylation (beta)",
            &rows,
            &cols,
            |ri, ci| cells.get(&(rows[ri].clone(), cols[ci].clone())).copied(),
        ));
    }
    h.push_str("</div>");

    h.push_str("<h2>QC: every warn and fail row</h2>");
    let flagged: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.qc_status != QcStatus::Pass)
        .collect();
    if flagged.is_empty() {
        note(&mut h, "Every row passed.");
    } else {
        h.push_str(r#"<table class="qc"><tr><th>sample</th><th>assay</th><th>measure</th><th>read group</th><th>value</th><th>status</th><th>note</th></tr>"#);
        for r in flagged {
            let _ = write!(
                h,
                r#"<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                r.qc_status.as_str(),
                esc(&r.sample_id),
                esc(&r.assay),
                esc(&r.measure),
                esc(&r.read_group),
                r.value.map(format_number).unwrap_or_default(),
                r.qc_status.as_str(),
                esc(&r.qc_note)
            );
        }
        h.push_str("</table>");
    }
    h.push_str(
        "<p class=\"note\">Written by agemark. Values and methods: see cohort.long.tsv and cohort.columns.tsv.</p></body></html>\n",
    );
    h
}

fn mqc_tsv(c: &Cohort, assay: &str, title: &str, description: &str) -> Option<String> {
    let mut measures: Vec<String> = Vec::new();
    let mut vals: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for r in sample_level(c).filter(|r| r.assay == assay && !is_accel(&r.measure)) {
        if let Some(v) = r.value {
            if !measures.contains(&r.measure) {
                measures.push(r.measure.clone());
            }
            vals.entry(r.sample_id.clone())
                .or_default()
                .entry(r.measure.clone())
                .or_insert(v);
        }
    }
    if vals.is_empty() {
        return None;
    }
    measures.sort();
    let mut s = String::new();
    let _ = writeln!(s, "# id: 'agemark_{assay}'");
    let _ = writeln!(s, "# section_name: '{title}'");
    let _ = writeln!(s, "# description: '{description}'");
    let _ = writeln!(s, "# plot_type: 'table'");
    let _ = writeln!(s, "# pconfig:");
    let _ = writeln!(s, "#     id: 'agemark_{assay}_table'");
    let _ = writeln!(s, "#     namespace: 'agemark'");
    let _ = writeln!(s, "Sample\t{}", measures.join("\t"));
    for (sample, m) in &vals {
        let cells: Vec<String> = measures
            .iter()
            .map(|k| m.get(k).map(|v| format_number(*v)).unwrap_or_default())
            .collect();
        let _ = writeln!(s, "{sample}\t{}", cells.join("\t"));
    }
    Some(s)
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Writes the MultiQC custom-content files into `dir`: `agemark_<assay>_mqc.tsv` (a table per
/// assay with values) and `agemark_qc_mqc.json` (pass/warn/fail rows per sample, bar graph).
pub fn write_multiqc(c: &Cohort, dir: &Path) -> Result<Vec<PathBuf>, WriteError> {
    std::fs::create_dir_all(dir).map_err(|source| WriteError {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (assay, title, desc) in [
        (
            "telomere",
            "agemark: telomere length",
            "TelSeq and TelomereHunter-style telomere estimates from reads.",
        ),
        (
            "mtdna",
            "agemark: mtDNA copy number",
            "mtDNA copy number = 2 x chrM depth / autosomal depth.",
        ),
        (
            "clocks",
            "agemark: epigenetic clocks",
            "DNAm age and gestational-age clocks.",
        ),
        (
            "celltypes",
            "agemark: cell fractions",
            "Estimated cell-type fractions.",
        ),
        ("nr3c1", "agemark: NR3C1 methylation", "NR3C1 CpG betas."),
    ] {
        if let Some(text) = mqc_tsv(c, assay, title, desc) {
            let p = dir.join(format!("agemark_{assay}_mqc.tsv"));
            write_atomic(&p, |w| w.write_all(text.as_bytes()))?;
            written.push(p);
        }
    }
    let mut counts: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for r in &c.rows {
        let e = counts.entry(r.sample_id.as_str()).or_default();
        e[r.qc_status as usize] += 1;
    }
    let mut j = String::from("{\n  \"id\": \"agemark_qc\",\n  \"section_name\": \"agemark: QC status of rows\",\n  \"description\": \"Rows per sample by agemark qc_status (see the long table's qc_note).\",\n  \"plot_type\": \"bargraph\",\n  \"pconfig\": {\"id\": \"agemark_qc_bargraph\", \"title\": \"agemark: rows by QC status\"},\n  \"categories\": {\"pass\": {\"color\": \"#1b9e77\"}, \"warn\": {\"color\": \"#e6ab02\"}, \"fail\": {\"color\": \"#d95f02\"}},\n  \"data\": {\n");
    let n = counts.len();
    for (i, (s, k)) in counts.iter().enumerate() {
        let _ = writeln!(
            j,
            "    {}: {{\"pass\": {}, \"warn\": {}, \"fail\": {}}}{}",
            json_str(s),
            k[0],
            k[1],
            k[2],
            if i + 1 < n { "," } else { "" }
        );
    }
    j.push_str("  }\n}\n");
    let p = dir.join("agemark_qc_mqc.json");
    write_atomic(&p, |w| w.write_all(j.as_bytes()))?;
    written.push(p);
    Ok(written)
}

/// Writes the HTML report atomically.
pub fn write_report(c: &Cohort, path: &Path, title: &str) -> Result<(), WriteError> {
    let html = render(c, title);
    write_atomic(path, |w| w.write_all(html.as_bytes()))
}
