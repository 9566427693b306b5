//! The cohort report: one self-contained HTML file (inline CSS and SVG, no scripts, nothing
//! loaded from the network) and MultiQC custom-content files.
//!
//! Read top to bottom: a summary (samples by type, rows by assay and QC status, sample-QC
//! flags); telomere length and mtDNA copy number by sample type; each clock against the
//! sheet's age (years or gestational weeks; n, Pearson r, median absolute error); age
//! acceleration around zero; cell composition per panel (mean composition per sample type and
//! each cell type's spread); NR3C1 region means and a probe heatmap grouped by sample type; QC
//! counted by assay × reason with the worst samples. Colours are keyed to sample type and to
//! the harmonised cell types, the same in every chart, with legends (`svg`).

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
    telomere::longread,
    tidy::{format_number, write_atomic, Row, WriteError},
};

fn sample_level(c: &Cohort) -> impl Iterator<Item = &Row> {
    c.rows.iter().filter(|r| r.read_group.is_empty())
}

/// Acceleration measures: `<clock>_diff`, `_residual`, `_ieaa`.
fn is_accel(measure: &str) -> bool {
    measure.ends_with("_diff") || measure.ends_with("_residual") || measure.ends_with("_ieaa")
}

fn sample_type<'a>(c: &'a Cohort, sample: &str) -> &'a str {
    c.linkage
        .get(sample)
        .map(|l| l.sample_type.as_str())
        .filter(|t| !t.is_empty())
        .unwrap_or("unspecified")
}

/// Compares ids with their digit runs as numbers (`S2` before `S10`).
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x.0, y.0) {
            (true, true) => {
                let (tx, ty) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
                tx.len().cmp(&ty.len()).then(tx.cmp(ty))
            }
            _ => x.1.cmp(y.1),
        };
        if o.is_ne() {
            return o;
        }
    }
    pa.len().cmp(&pb.len()).then(a.cmp(b))
}

/// The values of one measure as chart series, one per sample type (fixed order and colours);
/// `x` gives a point's x (scatter) or `None` to leave the sample out. Failed rows have no value
/// and are not drawn; warn rows are drawn hollow.
fn series_of(
    c: &Cohort,
    assay: &str,
    measure: &str,
    x: impl Fn(&Row) -> Option<f64>,
) -> Vec<svg::Series> {
    let mut groups: BTreeMap<String, Vec<svg::Point>> = BTreeMap::new();
    for r in sample_level(c).filter(|r| r.assay == assay && r.measure == measure) {
        let (Some(v), Some(xv)) = (r.value, x(r)) else {
            continue;
        };
        groups
            .entry(sample_type(c, &r.sample_id).to_string())
            .or_default()
            .push(svg::Point {
                label: r.sample_id.clone(),
                x: xv,
                y: v,
                warn: r.qc_status == QcStatus::Warn,
            });
    }
    let mut out: Vec<svg::Series> = groups
        .into_iter()
        .map(|(name, points)| svg::Series {
            colour: svg::type_colour(&name),
            name,
            points,
        })
        .collect();
    out.sort_by(|a, b| svg::type_order(&a.name, &b.name));
    out
}

fn note(html: &mut String, text: &str) {
    let _ = write!(html, r#"<p class="note">{}</p>"#, esc(text));
}

/// n, Pearson r and median absolute error of (x, y) points.
fn agreement(series: &[svg::Series], with_error: bool) -> String {
    let pts: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| (p.x, p.y)))
        .collect();
    let n = pts.len();
    let mut out = format!("n = {n}");
    if n >= 3 {
        let mx = pts.iter().map(|p| p.0).sum::<f64>() / n as f64;
        let my = pts.iter().map(|p| p.1).sum::<f64>() / n as f64;
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (x, y) in &pts {
            sxy += (x - mx) * (y - my);
            sxx += (x - mx).powi(2);
            syy += (y - my).powi(2);
        }
        if sxx > 0.0 && syy > 0.0 {
            let _ = write!(out, ", Pearson r = {:.2}", sxy / (sxx * syy).sqrt());
        } else {
            out.push_str(", r undefined (no spread)");
        }
    }
    if with_error && n > 0 {
        let mut e: Vec<f64> = pts.iter().map(|(x, y)| (y - x).abs()).collect();
        e.sort_by(f64::total_cmp);
        let med = if n % 2 == 1 {
            e[n / 2]
        } else {
            (e[n / 2 - 1] + e[n / 2]) / 2.0
        };
        let _ = write!(
            out,
            ", median absolute error = {}",
            format_number((med * 100.0).round() / 100.0)
        );
    }
    out
}

/// A row's panel, from `method` (`…(panel=<name>;…`).
fn panel_of(method: &str) -> &str {
    method
        .split_once("panel=")
        .map(|(_, rest)| rest.split([';', ')']).next().unwrap_or(rest))
        .unwrap_or("unknown panel")
}

/// A QC note with its numbers replaced by `#`, so the same reason groups across samples.
fn reason(note: &str) -> String {
    let mut out = String::new();
    let mut in_num = false;
    for ch in note.chars() {
        if ch.is_ascii_digit() || (in_num && (ch == '.' || ch == ',')) {
            if !in_num {
                out.push('#');
            }
            in_num = ch.is_ascii_digit() || in_num;
        } else {
            in_num = false;
            out.push(ch);
        }
    }
    let cut: String = out.chars().take(320).collect();
    if cut.len() < out.len() {
        cut + "…"
    } else {
        cut
    }
}

const CSS: &str = r#"body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}h3{font-size:1.02em;margin:1.2em 0 .4em}
nav a{margin-right:1em}.plots{display:flex;flex-wrap:wrap;gap:12px}.note{color:#555;font-style:italic;max-width:60em}
svg.agemark-plot{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:.85em;margin:.4em 0}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.fail td{background:#fde0dc}tr.warn td{background:#fff4d6}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:50%;margin-right:.4em;vertical-align:middle}
.cards{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}"#;

/// Renders the report: a summary first (samples by type, rows by assay and status, sample-QC
/// flags), then one section per assay, then QC counted by assay × reason.
pub fn render(c: &Cohort, title: &str, qpcr: Option<&QpcrPlates>) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{CSS}\n</style></head><body>\n<h1>{}</h1>\n",
        esc(title),
        esc(title)
    );
    h.push_str(r##"<nav><a href="#summary">Summary</a><a href="#telomere">Telomeres</a><a href="#mtdna">mtDNA</a><a href="#clocks">Clocks</a><a href="#acceleration">Acceleration</a><a href="#exposure">Exposure</a><a href="#celltypes">Cell types</a><a href="#nr3c1">NR3C1</a><a href="#qpcr">qPCR plates</a><a href="#qc">QC</a></nav>"##);
    summary(&mut h, c);
    reads_sections(&mut h, c);
    clock_sections(&mut h, c);
    exposure_section(&mut h, c);
    celltype_section(&mut h, c);
    nr3c1_section(&mut h, c);
    qpcr_section(&mut h, qpcr);
    qc_section(&mut h, c);
    h.push_str("</section>");
    let _ = writeln!(
        h,
        "<p class=\"note\">Written by agemark {AGEMARK_VERSION}. Every value, its method and its QC note: cohort.long.tsv; units: cohort.columns.tsv.</p></body></html>"
    );
    h
}

fn summary(h: &mut String, c: &Cohort) {
    h.push_str(r#"<section id="summary"><h2>Summary</h2><div class="cards">"#);
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for id in c.linkage.keys() {
        *types.entry(sample_type(c, id)).or_default() += 1;
    }
    let mut types: Vec<(&str, usize)> = types.into_iter().collect();
    types.sort_by(|a, b| svg::type_order(a.0, b.0));
    h.push_str("<table><tr><th>sample type</th><th>samples</th></tr>");
    for (t, n) in &types {
        let _ = write!(
            h,
            r#"<tr><td><span class="swatch" style="background:{}"></span>{}</td><td class="n">{n}</td></tr>"#,
            svg::type_colour(t),
            esc(t)
        );
    }
    let _ = write!(
        h,
        r#"<tr><th>all</th><th class="n">{}</th></tr></table>"#,
        c.linkage.len()
    );
    let mut by_assay: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for r in &c.rows {
        by_assay.entry(r.assay.as_str()).or_default()[r.qc_status as usize] += 1;
    }
    h.push_str("<table><tr><th>assay</th><th>pass</th><th>warn</th><th>fail</th></tr>");
    let mut total = [0usize; 3];
    for (a, k) in &by_assay {
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            esc(a),
            k[0],
            k[1],
            k[2]
        );
        for i in 0..3 {
            total[i] += k[i];
        }
    }
    let _ = write!(
        h,
        r#"<tr><th>all rows</th><th class="n">{}</th><th class="n">{}</th><th class="n">{}</th></tr></table></div>"#,
        total[0], total[1], total[2]
    );
    h.push_str("<h3>Sample QC flags (is each sample who the sheet says?)</h3>");
    let flags: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.assay == super::sample_qc::ASSAY && r.qc_status != QcStatus::Pass)
        .collect();
    let checked = c
        .rows
        .iter()
        .filter(|r| r.assay == super::sample_qc::ASSAY)
        .count();
    if checked == 0 {
        note(
            h,
            "No sample-QC checks (no stage gave sex, SNP-probe or contamination data).",
        );
    } else if flags.is_empty() {
        note(
            h,
            &format!("All {checked} sample-QC checks passed (cohort.sample_qc.tsv)."),
        );
    } else {
        h.push_str("<table><tr><th>sample</th><th>check</th><th>status</th><th>why</th></tr>");
        for r in flags.iter().take(25) {
            let _ = write!(
                h,
                r#"<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                r.qc_status.as_str(),
                esc(&r.sample_id),
                esc(&r.measure),
                r.qc_status.as_str(),
                esc(&r.qc_note)
            );
        }
        h.push_str("</table>");
        note(
            h,
            &format!(
                "{} of {checked} checks flagged{}; every check with its statistic and cut-off: cohort.sample_qc.tsv.",
                flags.len(),
                if flags.len() > 25 { " (the first 25 shown)" } else { "" }
            ),
        );
    }
}

fn reads_sections(h: &mut String, c: &Cohort) {
    h.push_str(r#"</section><section id="telomere"><h2>Telomere length</h2><div class="plots">"#);
    let mut any = false;
    for (a, m, t, y) in [
        (
            "telomere",
            "telseq_length_kb",
            "TelSeq telomere length",
            "kb",
        ),
        (
            "telomere",
            "th_telomere_content",
            "TelomereHunter telomere content",
            "reads per million 48-52% GC reads",
        ),
        (
            "telomere_qpcr",
            "ts_ratio",
            "qPCR telomere T/S ratio",
            "T/S",
        ),
    ] {
        let s = series_of(c, a, m, |_| Some(0.0));
        if !s.is_empty() {
            any = true;
            h.push_str(&svg::strip_plot(&format!("{a}:{m}"), t, y, &s, false));
        }
    }
    // Long reads: every molecule's telomere, pooled by sample type.
    let bins: Vec<String> = (0..longread::HIST_BINS)
        .map(longread::hist_measure)
        .collect();
    let mut by_type: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in sample_level(c).filter(|r| r.assay == "telomere") {
        if let (Some(b), Some(v)) = (bins.iter().position(|m| *m == r.measure), r.value) {
            by_type
                .entry(sample_type(c, &r.sample_id).to_string())
                .or_insert_with(|| vec![0.0; bins.len()])[b] += v;
        }
    }
    if !by_type.is_empty() {
        any = true;
        let mut series: Vec<(String, &'static str, Vec<f64>)> = by_type
            .into_iter()
            .map(|(t, v)| (t.clone(), svg::type_colour(&t), v))
            .collect();
        series.sort_by(|a, b| svg::type_order(&a.0, &b.0));
        let labels: Vec<String> = (0..bins.len())
            .map(|b| {
                if b + 1 == bins.len() {
                    format!(">= {}", 2 * b)
                } else {
                    format!("{}-{}", 2 * b, 2 * b + 2)
                }
            })
            .collect();
        h.push_str(&svg::histogram(
            "telomere:long_read_lengths",
            "Telomere length per molecule (long reads)",
            "terminal telomere length (kb)",
            &labels,
            &series,
        ));
        let s = series_of(c, "telomere", "telomere_length_median_bp", |_| Some(0.0));
        if !s.is_empty() {
            h.push_str(&svg::strip_plot(
                "telomere:telomere_length_median_bp",
                "Median telomere length per sample (long reads)",
                "bp",
                &s,
                false,
            ));
        }
    }
    h.push_str("</div>");
    if !any {
        note(
            h,
            "No telomere values (no sample has reads or qPCR plates).",
        );
    }
    h.push_str(r#"</section><section id="mtdna"><h2>mtDNA copy number</h2><div class="plots">"#);
    let s = series_of(c, "mtdna", "mtdna_cn", |_| Some(0.0));
    let q = series_of(c, "mtdna_qpcr", "mt_s_ratio", |_| Some(0.0));
    if s.is_empty() && q.is_empty() {
        note(
            h,
            "No mtDNA copy-number values (no sample has aligned reads or qPCR plates).",
        );
    }
    if !s.is_empty() {
        h.push_str(&svg::strip_plot(
            "mtdna:mtdna_cn",
            "mtDNA copy number",
            "copies per diploid genome",
            &s,
            false,
        ));
    }
    if !q.is_empty() {
        h.push_str(&svg::strip_plot(
            "mtdna_qpcr:mt_s_ratio",
            "qPCR mtDNA content (MT/S)",
            "MT/S",
            &q,
            false,
        ));
    }
    h.push_str("</div>");
}

fn clock_sections(h: &mut String, c: &Cohort) {
    h.push_str(r#"</section><section id="clocks"><h2>Epigenetic clocks</h2>"#);
    note(
        h,
        "Each clock against the sheet's age where the clock estimates an age (years or gestational weeks: n, Pearson r and the median absolute error of clock − age), otherwise by sample type. Colours are sample types; hollow points are warn rows; failed rows have no value.",
    );
    h.push_str(r#"<div class="plots">"#);
    let mut clocks: Vec<(String, String)> = sample_level(c)
        .filter(|r| r.assay == "clocks" && !is_accel(&r.measure) && r.value.is_some())
        .filter(|r| r.measure != "applicable_clocks")
        .map(|r| (r.measure.clone(), r.unit.clone()))
        .collect();
    clocks.sort();
    clocks.dedup();
    if clocks.is_empty() {
        note(h, "No clock values.");
    }
    for (clock, unit) in &clocks {
        let age_of = |r: &Row| -> Option<f64> {
            let l = c.linkage.get(&r.sample_id)?;
            match unit.as_str() {
                "years" => l.age_years,
                "gestational_weeks" => l.gestational_age_weeks,
                _ => None,
            }
        };
        let with_age = series_of(c, "clocks", clock, age_of);
        let (xlab, ylab) = match unit.as_str() {
            "years" => ("age in the sheet (years)", "DNAm age (years)"),
            _ => (
                "gestational age in the sheet (weeks)",
                "DNAm gestational age (weeks)",
            ),
        };
        if !with_age.is_empty() {
            h.push_str(&svg::scatter(
                &format!("clock:{clock}"),
                clock,
                &agreement(&with_age, true),
                (xlab, ylab),
                &with_age,
                true,
            ));
        } else {
            let s = series_of(c, "clocks", clock, |_| Some(0.0));
            h.push_str(&svg::strip_plot(
                &format!("clock:{clock}"),
                &format!("{clock} ({}, by sample type)", unit.replace('_', " ")),
                &unit.replace('_', " "),
                &s,
                false,
            ));
        }
    }
    h.push_str("</div>");
    h.push_str(r#"</section><section id="acceleration"><h2>Age acceleration</h2>"#);
    note(
        h,
        "Clock − age (_diff), the residual of clock on age within the cohort (_residual) and the residual also adjusted for cell composition (_ieaa), around zero. Positive = older than expected.",
    );
    h.push_str(r#"<div class="plots">"#);
    let mut accel: Vec<(String, String)> = sample_level(c)
        .filter(|r| r.assay == "clocks" && is_accel(&r.measure) && r.value.is_some())
        .map(|r| (r.measure.clone(), r.unit.clone()))
        .collect();
    accel.sort();
    accel.dedup();
    if accel.is_empty() {
        note(
            h,
            "No acceleration values (they need ages in the sample sheet).",
        );
    }
    for (m, unit) in &accel {
        let s = series_of(c, "clocks", m, |_| Some(0.0));
        h.push_str(&svg::strip_plot(
            &format!("accel:{m}"),
            m,
            &unit.replace('_', " "),
            &s,
            true,
        ));
    }
    h.push_str("</div>");
}

fn exposure_section(h: &mut String, c: &Cohort) {
    h.push_str(r#"</section><section id="exposure"><h2>Exposure and stress scores</h2>"#);
    note(
        h,
        "DNA-methylation scores of exposures (maternal smoking in pregnancy, glucocorticoids, inflammation), each where it was developed: newborn scores for cord blood, adult scores for mothers. Units are each score's own (not years); a score is a marker of exposure, not a diagnosis. The child's prenatal-smoking score beside the mother's smoking score: cohort.dyads.tsv.",
    );
    let mut measures: Vec<String> = sample_level(c)
        .filter(|r| r.assay == "exposure" && r.measure != "applicable_scores" && r.value.is_some())
        .map(|r| r.measure.clone())
        .collect();
    measures.sort();
    measures.dedup();
    if measures.is_empty() {
        note(
            h,
            "No exposure-score values (no methylation input with the scores' CpGs).",
        );
    }
    h.push_str(r#"<div class="plots">"#);
    for m in &measures {
        let s = series_of(c, "exposure", m, |_| Some(0.0));
        h.push_str(&svg::strip_plot(
            &format!("exposure:{m}"),
            m,
            "score",
            &s,
            false,
        ));
    }
    h.push_str("</div>");
}

fn celltype_section(h: &mut String, c: &Cohort) {
    h.push_str(r#"</section><section id="celltypes"><h2>Cell composition</h2>"#);
    // panel → sample type → cell type → values.
    let mut data: BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<f64>>>> = BTreeMap::new();
    for r in sample_level(c).filter(|r| {
        r.assay == "celltypes" && r.measure != crate::methylation::celltypes::SUM_MEASURE
    }) {
        if let Some(v) = r.value {
            data.entry(panel_of(&r.method).to_string())
                .or_default()
                .entry(sample_type(c, &r.sample_id).to_string())
                .or_default()
                .entry(r.measure.clone())
                .or_default()
                .push(v);
        }
    }
    if data.is_empty() {
        note(
            h,
            "No cell-type fractions (the celltypes stage did not run or gave no values).",
        );
        return;
    }
    note(
        h,
        "Per panel: the mean composition of each sample type (one bar each, readable at any cohort size), then the spread of each cell type over the samples (box: quartiles and median; whiskers: 5th-95th percentile). Cell types carry their harmonised label (Cell Ontology), with the same colour in every panel; per-sample values are in cohort.wide.tsv.",
    );
    let vocab: Vec<String> = crate::methylation::cell_ontology::vocabulary()
        .map(|v| {
            let mut l: Vec<String> = Vec::new();
            for t in v {
                if !l.contains(&t.label) {
                    l.push(t.label.clone());
                }
            }
            l
        })
        .unwrap_or_default();
    let colour = |label: &str| -> &'static str {
        svg::cell_colour(vocab.iter().position(|l| l == label).unwrap_or(vocab.len()))
    };
    h.push_str(r#"<div class="plots">"#);
    for (panel, by_type) in &data {
        let mut comps: Vec<String> = by_type.values().flat_map(|m| m.keys().cloned()).collect();
        comps.sort_by_key(|l| vocab.iter().position(|v| v == l).unwrap_or(usize::MAX));
        comps.dedup();
        let mut types: Vec<&String> = by_type.keys().collect();
        types.sort_by(|a, b| svg::type_order(a, b));
        let bars: Vec<(String, Vec<(String, f64)>)> = types
            .iter()
            .map(|t| {
                let m = &by_type[*t];
                let n = m.values().map(Vec::len).max().unwrap_or(0);
                let segs = comps
                    .iter()
                    .filter_map(|k| {
                        m.get(k)
                            .map(|v| (k.clone(), v.iter().sum::<f64>() / v.len().max(1) as f64))
                    })
                    .collect();
                (format!("{t} (n={n})"), segs)
            })
            .collect();
        let legend: Vec<(String, &str)> = comps.iter().map(|k| (k.clone(), colour(k))).collect();
        h.push_str(&svg::stacked_bars(
            &format!("celltypes:{panel}"),
            &format!("Mean composition, panel {panel}"),
            &bars,
            &legend,
        ));
        let boxes: Vec<(String, &str, Vec<f64>)> = comps
            .iter()
            .map(|k| {
                let v: Vec<f64> = by_type
                    .values()
                    .filter_map(|m| m.get(k))
                    .flatten()
                    .copied()
                    .collect();
                (k.clone(), colour(k), v)
            })
            .collect();
        h.push_str(&svg::box_plots(
            &format!("celltypes_spread:{panel}"),
            &format!("Fractions per sample, panel {panel}"),
            "fraction",
            &boxes,
        ));
    }
    h.push_str("</div>");
    let sums: Vec<f64> = sample_level(c)
        .filter(|r| {
            r.assay == "celltypes" && r.measure == crate::methylation::celltypes::SUM_MEASURE
        })
        .filter_map(|r| r.value)
        .collect();
    if !sums.is_empty() {
        let lo = sums.iter().copied().fold(f64::INFINITY, f64::min);
        note(
            h,
            &format!(
                "The sum of each sample's fractions is a fit check, not a cell type: it ranges {}–{} here (cohort.long.tsv, measure sum_of_fractions).",
                format_number((lo * 1000.0).round() / 1000.0),
                format_number((sums.iter().copied().fold(f64::NEG_INFINITY, f64::max) * 1000.0).round() / 1000.0)
            ),
        );
    }
}

/// Samples above this count get a per-sample-type (median) heatmap instead of one row each.
const HEATMAP_MAX_SAMPLES: usize = 150;

fn nr3c1_section(h: &mut String, c: &Cohort) {
    h.push_str(r#"</section><section id="nr3c1"><h2>NR3C1 methylation</h2><div class="plots">"#);
    for (m, t) in [
        ("promoter_cgi_mean", "Promoter CpG island mean"),
        (
            "exon1f_window_approx_mean",
            "Exon 1F window mean (approximate)",
        ),
    ] {
        let s = series_of(c, "nr3c1", m, |_| Some(0.0));
        if !s.is_empty() {
            h.push_str(&svg::strip_plot(
                &format!("nr3c1:{m}"),
                t,
                "beta",
                &s,
                false,
            ));
        }
    }
    h.push_str("</div>");
    // Probes (not the region means or the coverage count), ordered by position.
    let mut pos: BTreeMap<String, u64> = BTreeMap::new();
    let mut cells: BTreeMap<(String, String), f64> = BTreeMap::new();
    for r in sample_level(c)
        .filter(|r| r.assay == "nr3c1" && r.unit == "beta" && !r.measure.ends_with("_mean"))
    {
        let p = r
            .method
            .split_once("hg19=")
            .and_then(|(_, rest)| rest.split([';', ')']).next())
            .and_then(|s| s.rsplit(':').next())
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        pos.insert(r.measure.clone(), p);
        if let Some(v) = r.value {
            cells.insert((r.sample_id.clone(), r.measure.clone()), v);
        }
    }
    if cells.is_empty() {
        note(h, "No NR3C1 probe values.");
        return;
    }
    let mut probes: Vec<String> = pos.keys().cloned().collect();
    probes.sort_by_key(|p| (pos[p], p.clone()));
    let mut samples: Vec<String> = cells.keys().map(|k| k.0.clone()).collect();
    samples.dedup();
    samples.sort_by(|a, b| {
        svg::type_order(sample_type(c, a), sample_type(c, b)).then(natural_cmp(a, b))
    });
    h.push_str(r#"<div class="plots">"#);
    if samples.len() <= HEATMAP_MAX_SAMPLES {
        let rows: Vec<(String, &'static str)> = samples
            .iter()
            .map(|s| (s.clone(), svg::type_colour(sample_type(c, s))))
            .collect();
        h.push_str(&svg::heatmap(
            "nr3c1_heatmap",
            "NR3C1 probes × samples (grouped by sample type)",
            &rows,
            &probes,
            |ri, ci| {
                cells
                    .get(&(samples[ri].clone(), probes[ci].clone()))
                    .copied()
            },
        ));
    } else {
        let mut types: Vec<&str> = samples.iter().map(|s| sample_type(c, s)).collect();
        types.dedup();
        types.sort_by(|a, b| svg::type_order(a, b));
        types.dedup();
        let median = |t: &str, p: &str| -> Option<f64> {
            let mut v: Vec<f64> = samples
                .iter()
                .filter(|s| sample_type(c, s) == t)
                .filter_map(|s| cells.get(&(s.clone(), p.to_string())).copied())
                .collect();
            if v.is_empty() {
                return None;
            }
            v.sort_by(f64::total_cmp);
            Some(v[v.len() / 2])
        };
        let rows: Vec<(String, &'static str)> = types
            .iter()
            .map(|t| {
                let n = samples.iter().filter(|s| sample_type(c, s) == *t).count();
                (format!("{t} (median of {n})"), svg::type_colour(t))
            })
            .collect();
        h.push_str(&svg::heatmap(
            "nr3c1_heatmap",
            "NR3C1 probes: median beta per sample type",
            &rows,
            &probes,
            |ri, ci| median(types[ri], &probes[ci]),
        ));
    }
    h.push_str("</div>");
    if samples.len() > HEATMAP_MAX_SAMPLES {
        note(h, &format!("{} samples: the heatmap shows each sample type's median; per-sample betas are in cohort.wide.tsv.", samples.len()));
    }
}

fn qc_section(h: &mut String, c: &Cohort) {
    h.push_str(r#"</section><section id="qc"><h2>QC: warn and fail rows by reason</h2>"#);
    let flagged: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.qc_status != QcStatus::Pass)
        .collect();
    if flagged.is_empty() {
        note(h, "Every row passed.");
        return;
    }
    let mut by_reason: BTreeMap<(String, &str, String), (usize, std::collections::BTreeSet<&str>)> =
        BTreeMap::new();
    let mut by_sample: BTreeMap<&str, [usize; 2]> = BTreeMap::new();
    for r in &flagged {
        let e = by_reason
            .entry((r.assay.clone(), r.qc_status.as_str(), reason(&r.qc_note)))
            .or_default();
        e.0 += 1;
        e.1.insert(&r.sample_id);
        by_sample.entry(&r.sample_id).or_default()
            [if r.qc_status == QcStatus::Fail { 0 } else { 1 }] += 1;
    }
    let mut reasons: Vec<_> = by_reason.into_iter().collect();
    reasons.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    h.push_str("<table><tr><th>assay</th><th>status</th><th>reason (numbers as #)</th><th>rows</th><th>samples</th></tr>");
    for ((assay, status, why), (rows, samples)) in reasons.iter().take(40) {
        let _ = write!(
            h,
            r#"<tr class="{status}"><td>{}</td><td>{status}</td><td>{}</td><td class="n">{rows}</td><td class="n">{}</td></tr>"#,
            esc(assay),
            esc(why),
            samples.len()
        );
    }
    h.push_str("</table>");
    if reasons.len() > 40 {
        note(
            h,
            &format!("{} more reasons in the full list.", reasons.len() - 40),
        );
    }
    let mut worst: Vec<(&str, [usize; 2])> = by_sample.into_iter().collect();
    worst.sort_by(|a, b| b.1.cmp(&a.1).then(natural_cmp(a.0, b.0)));
    h.push_str("<h3>Samples with the most flagged rows</h3><table><tr><th>sample</th><th>sample type</th><th>fail</th><th>warn</th></tr>");
    for (s, k) in worst.iter().take(10) {
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            esc(s),
            esc(sample_type(c, s)),
            k[0],
            k[1]
        );
    }
    h.push_str("</table>");
    let _ = write!(
        h,
        r#"<p class="note">{} warn/fail rows in all. The full list, each with its reason: <a href="cohort.long.tsv">cohort.long.tsv</a> (rows whose qc_status is not pass); sample checks: <a href="cohort.sample_qc.tsv">cohort.sample_qc.tsv</a>.</p>"#,
        flagged.len()
    );
}

/// The MultiQC header of a column: title, description, suffix, number format and range, by
/// the measure's unit.
fn mqc_header(measure: &str, unit: &str, namespace: &str) -> String {
    let (suffix, format, range) = match unit {
        "beta" | "fraction" => ("", "{:,.3f}", "min: 0\n#         max: 1\n"),
        "kb" => (" kb", "{:,.2f}", "min: 0\n"),
        "years" => (" y", "{:,.1f}", ""),
        "gestational_weeks" => (" wk", "{:,.1f}", ""),
        "copies_per_diploid_genome" => ("", "{:,.0f}", "min: 0\n"),
        "reads" | "bases" | "count" => ("", "{:,.0f}", "min: 0\n"),
        _ => ("", "{:,.3g}", ""),
    };
    let mut h = format!(
        "#     {measure}:\n#         title: '{}'\n#         description: '{} ({})'\n#         namespace: '{namespace}'\n#         format: '{format}'\n",
        measure.replace('\'', ""),
        measure.replace('\'', ""),
        unit.replace('_', " ").replace('\'', "")
    );
    if !suffix.is_empty() {
        let _ = writeln!(h, "#         suffix: '{suffix}'");
    }
    for line in range.lines() {
        let _ = writeln!(h, "#         {}", line.trim_start_matches("#         "));
    }
    h
}

fn mqc_tsv(c: &Cohort, assay: &str, title: &str, description: &str) -> Option<String> {
    let mut measures: BTreeMap<String, String> = BTreeMap::new();
    let mut vals: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for r in sample_level(c).filter(|r| r.assay == assay && !is_accel(&r.measure)) {
        if let Some(v) = r.value {
            measures
                .entry(r.measure.clone())
                .or_insert_with(|| r.unit.clone());
            vals.entry(r.sample_id.clone())
                .or_default()
                .entry(r.measure.clone())
                .or_insert(v);
        }
    }
    if vals.is_empty() {
        return None;
    }
    let mut order: Vec<&String> = measures.keys().collect();
    order.sort_by(|a, b| natural_cmp(a, b));
    let mut s = String::new();
    let _ = writeln!(s, "# id: 'agemark_{assay}'");
    let _ = writeln!(s, "# section_name: '{title}'");
    let _ = writeln!(s, "# description: '{description}'");
    let _ = writeln!(s, "# plot_type: 'table'");
    let _ = writeln!(s, "# pconfig:");
    let _ = writeln!(s, "#     id: 'agemark_{assay}_table'");
    let _ = writeln!(s, "#     namespace: 'agemark'");
    let _ = writeln!(s, "# headers:");
    for m in &order {
        s.push_str(&mqc_header(m, &measures[*m], "agemark"));
    }
    let _ = writeln!(
        s,
        "Sample\t{}",
        order
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join("\t")
    );
    for (sample, m) in &vals {
        let cells: Vec<String> = order
            .iter()
            .map(|k| m.get(*k).map(|v| format_number(*v)).unwrap_or_default())
            .collect();
        let _ = writeln!(s, "{sample}\t{}", cells.join("\t"));
    }
    Some(s)
}

/// Clocks whose acceleration fills the General Statistics columns, in order of preference:
/// gestational-age clocks for newborns and placentas, then the age clocks.
const GA_CLOCKS: [&str; 7] = [
    "knight2016_ga",
    "bohlin2016_ga",
    "haftorn2021_ga",
    "lee2019_rpc",
    "lee2019_cpc",
    "lee2019_rrpc",
    "mayne2017_ga",
];
const AGE_CLOCKS: [&str; 6] = [
    "horvath2013",
    "horvath_skinblood2018",
    "hannum2013",
    "phenoage2018",
    "pedbe2019",
    "wu2019",
];

/// The General Statistics columns: TelSeq length, mtDNA-CN and the main clock's acceleration
/// (the residual of the first clock of [`GA_CLOCKS`] / [`AGE_CLOCKS`] the sample has).
fn mqc_general_stats(c: &Cohort) -> Option<String> {
    let mut per: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    let mut idx: BTreeMap<(&str, &str, &str), f64> = BTreeMap::new();
    for r in sample_level(c) {
        if let Some(v) = r.value {
            idx.entry((&r.sample_id, &r.assay, &r.measure)).or_insert(v);
        }
    }
    let get = |sample: &str, assay: &str, measure: &str| -> Option<f64> {
        idx.get(&(sample, assay, measure)).copied()
    };
    let samples: std::collections::BTreeSet<&str> =
        sample_level(c).map(|r| r.sample_id.as_str()).collect();
    for s in samples {
        let e = per.entry(s).or_default();
        if let Some(v) = get(s, "telomere", "telseq_length_kb") {
            e.insert("telseq_length_kb", v);
        }
        if let Some(v) = get(s, "mtdna", "mtdna_cn") {
            e.insert("mtdna_cn", v);
        }
        if let Some(v) = GA_CLOCKS
            .iter()
            .find_map(|k| get(s, "clocks", &format!("{k}_residual")))
        {
            e.insert("ga_accel_weeks", v);
        }
        if let Some(v) = AGE_CLOCKS
            .iter()
            .find_map(|k| get(s, "clocks", &format!("{k}_residual")))
        {
            e.insert("age_accel_years", v);
        }
    }
    per.retain(|_, m| !m.is_empty());
    if per.is_empty() {
        return None;
    }
    let cols: [(&str, &str, &str, &str, &str, &str); 4] = [
        ("telseq_length_kb", "Telomere length", "TelSeq telomere length estimate", " kb", "{:,.2f}", "Greens"),
        ("mtdna_cn", "mtDNA-CN", "mtDNA copies per diploid nuclear genome (2 x chrM depth / autosomal depth)", "", "{:,.0f}", "Blues"),
        ("ga_accel_weeks", "GA accel.", "Gestational-age acceleration: residual of the first of Knight 2016, Bohlin 2016, Haftorn 2021, Lee 2019 RPC/CPC/RRPC, Mayne 2017 the sample has, on gestational age (weeks)", " wk", "{:,.2f}", "RdBu"),
        ("age_accel_years", "Age accel.", "Epigenetic age acceleration: residual of the first of Horvath 2013, Skin & Blood, Hannum, PhenoAge, PedBE, Wu the sample has, on age (years)", " y", "{:,.2f}", "RdBu"),
    ];
    let present: Vec<_> = cols
        .iter()
        .filter(|k| per.values().any(|m| m.contains_key(k.0)))
        .collect();
    let mut s = String::from(
        "# id: 'agemark_general_stats'\n# plot_type: 'generalstats'\n# namespace: 'agemark'\n# headers:\n",
    );
    for (id, title, desc, suffix, format, scale) in &present {
        let _ = write!(
            s,
            "#     {id}:\n#         title: '{title}'\n#         description: '{desc}'\n#         namespace: 'agemark'\n#         format: '{format}'\n#         scale: '{scale}'\n"
        );
        if !suffix.is_empty() {
            let _ = writeln!(s, "#         suffix: '{suffix}'");
        }
    }
    let _ = writeln!(
        s,
        "Sample\t{}",
        present.iter().map(|k| k.0).collect::<Vec<_>>().join("\t")
    );
    for (sample, m) in &per {
        let cells: Vec<String> = present
            .iter()
            .map(|k| m.get(k.0).map(|v| format_number(*v)).unwrap_or_default())
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

/// Writes the MultiQC custom-content files into `dir`: `agemark_general_stats_mqc.tsv`
/// (General Statistics: telomere length, mtDNA-CN, the main clock's acceleration),
/// `agemark_<assay>_mqc.tsv` (a table per assay, columns in natural order with titles, units,
/// formats and ranges) and `agemark_qc_mqc.json` (pass/warn/fail rows per sample, bar graph).
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
    if let Some(text) = mqc_general_stats(c) {
        let p = dir.join("agemark_general_stats_mqc.tsv");
        write_atomic(&p, |w| w.write_all(text.as_bytes()))?;
        written.push(p);
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
pub fn write_report(
    c: &Cohort,
    path: &Path,
    title: &str,
    qpcr: Option<&QpcrPlates>,
) -> Result<(), WriteError> {
    write_report_with(c, path, title, None, qpcr)
}

/// Writes the HTML report atomically, with `banner` (what the data are, e.g. the demo's
/// FICTIONAL linkage and SYNTHETIC values) shown under the title when given.
pub fn write_report_with(
    c: &Cohort,
    path: &Path,
    title: &str,
    banner: Option<&str>,
    qpcr: Option<&QpcrPlates>,
) -> Result<(), WriteError> {
    let mut html = render(c, title, qpcr);
    if let Some(b) = banner {
        let at = html.find("</h1>").map_or(0, |i| i + 5);
        html.insert_str(
            at,
            &format!(
                r#"<p class="banner" style="background:#fff4d6;border:1px solid #e6ab02;padding:.5em .8em;max-width:60em">{}</p>"#,
                esc(b)
            ),
        );
    }
    write_atomic(path, |w| w.write_all(html.as_bytes()))
}

/// The qPCR plates a report draws: the wells table and the plate QC rows of a qPCR run
/// (`<prefix>.qpcr_wells.tsv`, `<prefix>.qpcr_plates.tsv`).
#[derive(Clone, Debug, Default)]
pub struct QpcrPlates {
    /// (plate, well, sample, target, role, content, cq, quantity, status) per reaction.
    pub wells: Vec<[String; 9]>,
    /// The plate QC rows.
    pub qc: Vec<Row>,
}

impl QpcrPlates {
    /// Reads `<prefix>.qpcr_wells.tsv` and `<prefix>.qpcr_plates.tsv`; `None` when the wells
    /// table is absent (no qPCR in this run).
    pub fn read(prefix: &Path) -> Result<Option<QpcrPlates>, crate::core::error::Error> {
        let wells_path = PathBuf::from(format!("{}.qpcr_wells.tsv", prefix.display()));
        if !wells_path.is_file() {
            return Ok(None);
        }
        let shown = wells_path.display().to_string();
        let text = std::fs::read_to_string(&wells_path).map_err(|e| {
            crate::methylation::InputError::file(&shown, format!("cannot read: {e}"))
        })?;
        let mut lines = text.lines();
        let head: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
        let col = |n: &str| head.iter().position(|h| *h == n);
        let want = [
            "plate", "well", "sample", "target", "role", "content", "cq", "quantity", "status",
        ];
        let idx: Vec<usize> = want
            .iter()
            .map(|n| {
                col(n).ok_or_else(|| {
                    crate::methylation::InputError::row(&shown, 1, format!("no column {n}"))
                })
            })
            .collect::<Result<_, _>>()?;
        let mut wells = Vec::new();
        for line in lines {
            let c: Vec<&str> = line.split('\t').collect();
            wells.push(std::array::from_fn(|i| {
                c.get(idx[i]).copied().unwrap_or("").to_string()
            }));
        }
        let plates_path = PathBuf::from(format!("{}.qpcr_plates.tsv", prefix.display()));
        let qc = if plates_path.is_file() {
            super::merge::read_tidy_tsv(&plates_path)?.unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(Some(QpcrPlates { wells, qc }))
    }
}

/// `A1`, `A01`, `P24` → (row, column), 0-based; a bare number k counts along rows of `cols`.
fn well_position(w: &str, cols: usize) -> Option<(usize, usize)> {
    let w = w.trim();
    let letters: String = w.chars().take_while(char::is_ascii_alphabetic).collect();
    let digits = &w[letters.len()..];
    let n: usize = digits.parse().ok()?;
    if letters.is_empty() {
        return (n >= 1).then(|| ((n - 1) / cols, (n - 1) % cols));
    }
    let up = letters.to_ascii_uppercase();
    let row = up
        .bytes()
        .fold(0usize, |a, b| a * 26 + (b - b'A') as usize + 1)
        - 1;
    (n >= 1).then_some((row, n - 1))
}

/// Plates drawn well by well and standard curves drawn at most for this many plates.
const MAX_PLATES_DRAWN: usize = 12;

fn qpcr_section(h: &mut String, q: Option<&QpcrPlates>) {
    h.push_str(r#"</section><section id="qpcr"><h2>qPCR plates</h2>"#);
    let Some(q) = q else {
        note(
            h,
            "No qPCR plates in this run (agemark run --qpcr CONFIG, or agemark qpcr).",
        );
        return;
    };
    let mut plates: Vec<&str> = q.wells.iter().map(|w| w[0].as_str()).collect();
    plates.sort_by(|a, b| natural_cmp(a, b));
    plates.dedup();
    note(
        h,
        &format!(
            "{} plate(s), {} reactions. T/S and MT/S by sample type are under Telomere length and mtDNA copy number; every well with what became of it: qpcr/cohort.qpcr_wells.tsv; every plate check: qpcr/cohort.qpcr_plates.tsv.",
            plates.len(),
            q.wells.len()
        ),
    );
    // Plate × target QC.
    let v = |plate: &str, m: &str| q.qc.iter().find(|r| r.sample_id == plate && r.measure == m);
    let mut targets: Vec<(&str, &str)> = q
        .wells
        .iter()
        .filter(|w| !w[4].is_empty())
        .map(|w| (w[0].as_str(), w[3].as_str()))
        .collect();
    targets.sort_by(|a, b| natural_cmp(a.0, b.0).then(a.1.cmp(b.1)));
    targets.dedup();
    h.push_str("<table><tr><th>plate</th><th>target</th><th>slope</th><th>efficiency</th><th>R²</th><th>NTC amplified</th><th>inter-run factor</th><th>flags</th></tr>");
    for (plate, t) in &targets {
        let get = |m: &str| v(plate, &format!("{m}_{t}"));
        let cell = |m: &str, digits: usize| {
            get(m).and_then(|r| r.value).map_or("—".to_string(), |x| {
                if m == "efficiency" {
                    format!("{:.1} %", 100.0 * x)
                } else {
                    format!("{x:.digits$}")
                }
            })
        };
        let rows: Vec<&Row> = [
            "slope",
            "efficiency",
            "r2",
            "ntc_amplified",
            "irc_factor",
            "standard_curve",
        ]
        .iter()
        .filter_map(|m| get(m))
        .collect();
        let worst = rows
            .iter()
            .map(|r| r.qc_status)
            .max_by_key(|s| match s {
                QcStatus::Pass => 0,
                QcStatus::Warn => 1,
                QcStatus::Fail => 2,
            })
            .unwrap_or(QcStatus::Pass);
        let flags: Vec<&str> = rows
            .iter()
            .filter(|r| !r.qc_note.is_empty())
            .map(|r| r.qc_note.as_str())
            .collect();
        let _ = write!(
            h,
            r#"<tr class="{}"><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td>{}</td></tr>"#,
            worst.as_str(),
            esc(plate),
            esc(t),
            cell("slope", 3),
            cell("efficiency", 1),
            cell("r2", 4),
            cell("ntc_amplified", 0),
            cell("irc_factor", 3),
            esc(&flags.join("; "))
        );
    }
    h.push_str("</table>");
    // Reliability: calibrators' inter-plate CVs and the ICCs.
    let rel: Vec<&Row> =
        q.qc.iter()
            .filter(|r| r.measure.starts_with("icc_") || r.measure.starts_with("interplate_cv"))
            .collect();
    if !rel.is_empty() {
        h.push_str("<table><tr><th>reliability</th><th>of</th><th>value</th><th>how</th></tr>");
        for r in rel {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td>{}</td><td class="n">{}</td><td>{}</td></tr>"#,
                esc(&r.measure),
                esc(&r.sample_id),
                r.value.map_or("—".to_string(), |x| format!("{x:.3}")),
                esc(&r.method)
            );
        }
        h.push_str("</table>");
    }
    // Each plate: its wells by position, and its standard curves.
    for (k, plate) in plates.iter().enumerate() {
        if k == MAX_PLATES_DRAWN {
            note(
                h,
                &format!(
                    "The first {MAX_PLATES_DRAWN} plates are drawn; the others' wells are in qpcr/cohort.qpcr_wells.tsv."
                ),
            );
            break;
        }
        let on: Vec<&[String; 9]> = q.wells.iter().filter(|w| w[0] == *plate).collect();
        let numeric = on.iter().all(|w| w[1].chars().all(|c| c.is_ascii_digit()));
        let max_n = on
            .iter()
            .filter_map(|w| w[1].parse::<usize>().ok())
            .max()
            .unwrap_or(0);
        let cols_n = if max_n > 96 { 24 } else { 12 };
        let mut cells = Vec::new();
        let (mut rows, mut cols) = (if numeric { max_n.div_ceil(cols_n) } else { 8 }, 12);
        let mut by_pos: BTreeMap<(usize, usize), Vec<&[String; 9]>> = BTreeMap::new();
        for w in &on {
            if let Some(p) = well_position(&w[1], cols_n) {
                by_pos.entry(p).or_default().push(w);
            }
        }
        for ((r, c), ws) in &by_pos {
            rows = rows.max(r + 1);
            cols = cols.max(c + 1);
            // A well with several targets (multiplex) is drawn by its first target with a role.
            let w = ws.iter().find(|w| !w[4].is_empty()).unwrap_or(&ws[0]);
            let title = ws
                .iter()
                .map(|w| {
                    format!(
                        "{} {}: {} {} Cq {} ({})",
                        w[1],
                        w[2],
                        w[3],
                        w[5],
                        if w[6].is_empty() { "none" } else { &w[6] },
                        w[8]
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            cells.push(svg::Well {
                row: *r,
                col: *c,
                cq: w[6].parse().ok(),
                title,
                flagged: matches!(w[8].as_str(), "dropped" | "excluded"),
                shape: match w[5].as_str() {
                    "standard" => svg::WellShape::Standard,
                    "ntc" => svg::WellShape::Ntc,
                    _ => svg::WellShape::Sample,
                },
            });
        }
        if numeric {
            cols = cols_n;
        }
        h.push_str(r#"<div class="plots">"#);
        h.push_str(&svg::plate_grid(
            &format!("qpcr:plate:{plate}"),
            &format!("{plate}: Cq by well"),
            rows,
            cols,
            &cells,
        ));
        // Standard curves of this plate: one series per target with a role.
        let mut series = Vec::new();
        let mut lines = Vec::new();
        for (i, (_, t)) in targets.iter().filter(|(p, _)| p == plate).enumerate() {
            let colour = svg::cell_colour(i);
            let points: Vec<svg::Point> = on
                .iter()
                .filter(|w| w[3] == *t && w[5] == "standard")
                .filter_map(|w| {
                    let qn: f64 = w[7].parse().ok().filter(|x: &f64| *x > 0.0)?;
                    Some(svg::Point {
                        label: format!("{} {}", w[1], w[2]),
                        x: qn.log10(),
                        y: w[6].parse().ok()?,
                        warn: false,
                    })
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            let slope = v(plate, &format!("slope_{t}")).and_then(|r| r.value);
            let icpt = v(plate, &format!("intercept_{t}")).and_then(|r| r.value);
            let eff = v(plate, &format!("efficiency_{t}")).and_then(|r| r.value);
            if let (Some(a), Some(b)) = (slope, icpt) {
                lines.push(svg::Line {
                    slope: a,
                    intercept: b,
                    colour,
                    title: format!(
                        "{t}: Cq = {a:.3} log10(q) + {b:.2}; E = {}",
                        eff.map_or("—".into(), |e| format!("{:.1} %", 100.0 * e))
                    ),
                });
            }
            series.push(svg::Series {
                name: match eff {
                    Some(e) => format!("{t}, E {:.0} %", 100.0 * e),
                    None => t.to_string(),
                },
                colour,
                points,
            });
        }
        if !series.is_empty() {
            h.push_str(&svg::scatter_lines(
                &format!("qpcr:curve:{plate}"),
                &format!("{plate}: standard curves"),
                "least-squares fit of Cq on log10 quantity",
                ("log10 quantity", "Cq"),
                &series,
                false,
                &lines,
            ));
        }
        h.push_str("</div>");
    }
}
