//! Small inline-SVG charts for the HTML report: strip plots by group (optionally around a zero
//! line), scatter plots with an identity line, box plots, horizontal stacked bars and a heatmap
//! with its colour scale. Plain SVG text, no scripts. Every chart carries a legend
//! (`class="legend"`) and axis titles (`class="axis-title"`), and is at most [`MAX_WIDTH`]
//! pixels wide. Marks carry a `<title>` (sample and value on hover) while a chart has at most
//! [`TITLED_MARKS`] of them; above that the titles are left out to keep a 1,000-sample report
//! small.
//!
//! Hand-drawn rather than a plotting crate: the crates that draw interactive charts emit
//! JavaScript (the report has none), and the static ones would add more code than these few
//! hundred lines.

use std::fmt::Write;

use crate::tidy::format_number;

/// The widest a chart may be (the report's page is 1,200 px).
pub const MAX_WIDTH: f64 = 1150.0;
/// Charts with more marks than this leave out the per-mark `<title>`.
pub const TITLED_MARKS: usize = 400;

/// Escapes text for HTML/SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Rounded "nice" tick positions covering [lo, hi].
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-12);
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= n as f64)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let mut out = Vec::new();
    let mut t = start;
    while t <= hi + step * 0.5 && out.len() < 50 {
        out.push((t / step).round() * step);
        t += step;
    }
    out
}

fn label(v: f64) -> String {
    let r = (v * 1e4).round() / 1e4;
    format_number(r)
}

/// Data range padded a little; a single value gets ±10 % of itself (±1 at zero).
fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if (hi - lo).abs() < 1e-12 {
        let d = if lo.abs() > 1e-12 {
            lo.abs() * 0.1
        } else {
            1.0
        };
        return (lo - d, hi + d);
    }
    let pad = (hi - lo) * 0.06;
    (lo - pad, hi + pad)
}

/// Colours of the sample types, the same in every chart.
const TYPE_COLOURS: [(&str, &str); 8] = [
    ("cord_blood", "#1b9e77"),
    ("maternal_blood", "#d95f02"),
    ("placenta", "#7570b3"),
    ("whole_blood", "#e7298a"),
    ("buccal", "#66a61e"),
    ("saliva", "#e6ab02"),
    ("other", "#a6761d"),
    ("unspecified", "#666666"),
];

/// The colour of a sample type (unknown types share grey).
pub fn type_colour(sample_type: &str) -> &'static str {
    TYPE_COLOURS
        .iter()
        .find(|(t, _)| *t == sample_type)
        .map(|(_, c)| *c)
        .unwrap_or("#999999")
}

/// Sample types in their fixed order (then unknown ones by name).
pub fn type_order(a: &str, b: &str) -> std::cmp::Ordering {
    let pos = |t: &str| TYPE_COLOURS.iter().position(|(k, _)| *k == t).unwrap_or(99);
    pos(a).cmp(&pos(b)).then(a.cmp(b))
}

/// 20 distinguishable colours for the harmonised cell types (indexed by the vocabulary's order).
const CELL_COLOURS: [&str; 20] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
];

/// The colour of the `i`-th harmonised cell type.
pub fn cell_colour(i: usize) -> &'static str {
    CELL_COLOURS[i % CELL_COLOURS.len()]
}

/// One point of a chart.
#[derive(Clone, Debug)]
pub struct Point {
    /// Sample id (hover text).
    pub label: String,
    /// x (scatter) — ignored by strip plots.
    pub x: f64,
    /// y.
    pub y: f64,
    /// A `warn` row: drawn hollow.
    pub warn: bool,
}

/// A group of points with its legend entry.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text (a sample type).
    pub name: String,
    /// Fill colour.
    pub colour: &'static str,
    /// The points.
    pub points: Vec<Point>,
}

struct Frame {
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    fn plot_w(&self) -> f64 {
        self.w - self.left - self.right
    }
    fn plot_h(&self) -> f64 {
        self.h - self.top - self.bottom
    }
}

fn open(out: &mut String, f: &Frame, name: &str, title: &str, subtitle: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="agemark-plot" data-plot="{}" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}"><rect x="0" y="0" width="{}" height="{}" fill="white"/><text class="chart-title" x="{}" y="15" font-size="13" font-weight="bold" text-anchor="middle">{}</text>"#,
        esc(name),
        f.w,
        f.h,
        f.w,
        f.h,
        esc(title),
        f.w,
        f.h,
        f.w / 2.0,
        esc(title)
    );
    if !subtitle.is_empty() {
        let _ = write!(
            out,
            r##"<text class="chart-subtitle" x="{}" y="29" font-size="10.5" fill="#444" text-anchor="middle">{}</text>"##,
            f.w / 2.0,
            esc(subtitle)
        );
    }
}

fn y_axis(out: &mut String, f: &Frame, lo: f64, hi: f64, ylab: &str) -> impl Fn(f64) -> f64 {
    let (top, ph, left, pw) = (f.top, f.plot_h(), f.left, f.plot_w());
    let y = move |v: f64| top + ph - (v - lo) / (hi - lo) * ph;
    for t in ticks(lo, hi, 5) {
        if t < lo || t > hi {
            continue;
        }
        let _ = write!(
            out,
            r##"<line x1="{left}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
            left + pw,
            y(t),
            y(t),
            left - 4.0,
            y(t) + 3.0,
            label(t)
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{left}" x2="{left}" y1="{top}" y2="{:.1}" stroke="#333"/><text class="axis-title" transform="translate(12,{:.1}) rotate(-90)" font-size="11" text-anchor="middle">{}</text>"##,
        top + ph,
        top + ph / 2.0,
        esc(ylab)
    );
    y
}

/// A legend at the right edge: (text, colour, hollow).
fn legend(out: &mut String, f: &Frame, entries: &[(String, &str, bool)]) {
    let lx = f.w - f.right + 12.0;
    out.push_str(r#"<g class="legend">"#);
    for (i, (text, colour, hollow)) in entries.iter().enumerate() {
        let ly = f.top + 8.0 + 15.0 * i as f64;
        let (fill, stroke) = if *hollow {
            ("white", *colour)
        } else {
            (*colour, *colour)
        };
        let _ = write!(
            out,
            r#"<circle cx="{:.1}" cy="{ly:.1}" r="4.5" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/><text x="{:.1}" y="{:.1}" font-size="10.5">{}</text>"#,
            lx + 5.0,
            lx + 14.0,
            ly + 3.5,
            esc(text)
        );
    }
    out.push_str("</g>");
}

fn mark(out: &mut String, cx: f64, cy: f64, colour: &str, p: &Point, titled: bool, what: &str) {
    let (fill, op) = if p.warn {
        ("white", "1")
    } else {
        (colour, "0.75")
    };
    let _ = write!(
        out,
        r#"<circle class="point" cx="{cx:.1}" cy="{cy:.1}" r="{}" fill="{fill}" fill-opacity="{op}" stroke="{colour}" stroke-width="1.2""#,
        if titled { 3.5 } else { 2.5 }
    );
    if titled {
        let _ = write!(
            out,
            r#"><title>{}: {}{}</title></circle>"#,
            esc(&p.label),
            what,
            if p.warn { " (warn)" } else { "" }
        );
    } else {
        out.push_str("/>");
    }
}

fn series_legend(series: &[Series]) -> Vec<(String, &'static str, bool)> {
    let mut l: Vec<(String, &'static str, bool)> = series
        .iter()
        .map(|s| {
            (
                format!("{} (n={})", s.name, s.points.len()),
                s.colour,
                false,
            )
        })
        .collect();
    if series.iter().any(|s| s.points.iter().any(|p| p.warn)) {
        l.push(("warn row (hollow)".to_string(), "#555555", true));
    }
    l
}

/// Strip plot: one column of points per series; `zero` draws a line at 0 (acceleration).
pub fn strip_plot(name: &str, title: &str, ylab: &str, series: &[Series], zero: bool) -> String {
    let leg = series_legend(series);
    let f = Frame {
        w: (90.0 + 120.0 * series.len().max(1) as f64 + 170.0).min(MAX_WIDTH),
        h: 280.0,
        left: 62.0,
        right: 170.0,
        top: 36.0,
        bottom: 30.0,
    };
    let n: usize = series.iter().map(|s| s.points.len()).sum();
    let mut out = String::new();
    open(&mut out, &f, name, title, "");
    let vals = series.iter().flat_map(|s| s.points.iter().map(|p| p.y));
    let (lo, hi) = if zero {
        range(vals.chain([0.0]))
    } else {
        range(vals)
    };
    let y = y_axis(&mut out, &f, lo, hi, ylab);
    if zero {
        let _ = write!(
            out,
            r##"<line class="zero" x1="{}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#333" stroke-dasharray="5 3"/>"##,
            f.left,
            f.left + f.plot_w(),
            y(0.0),
            y(0.0)
        );
    }
    let gw = f.plot_w() / series.len().max(1) as f64;
    for (gi, s) in series.iter().enumerate() {
        let cx = f.left + gw * (gi as f64 + 0.5);
        for (pi, p) in s.points.iter().enumerate() {
            // Deterministic horizontal spread.
            let dx = ((pi as f64 * 0.618_034).fract() - 0.5) * gw * 0.6;
            mark(
                &mut out,
                cx + dx,
                y(p.y),
                s.colour,
                p,
                n <= TITLED_MARKS,
                &label(p.y),
            );
        }
        let _ = write!(
            out,
            r#"<text x="{cx:.1}" y="{:.1}" font-size="10.5" text-anchor="middle">{}</text>"#,
            f.h - f.bottom + 16.0,
            esc(&s.name)
        );
    }
    legend(&mut out, &f, &leg);
    out.push_str("</svg>");
    out
}

/// Scatter plot of the series' (x, y) points; `identity` draws the y = x line.
pub fn scatter(
    name: &str,
    title: &str,
    subtitle: &str,
    labels: (&str, &str),
    series: &[Series],
    identity: bool,
) -> String {
    scatter_lines(name, title, subtitle, labels, series, identity, &[])
}

/// A fitted line `y = slope · x + intercept` drawn over a scatter's x range, in a colour.
pub struct Line {
    /// Slope.
    pub slope: f64,
    /// Intercept.
    pub intercept: f64,
    /// Colour.
    pub colour: &'static str,
    /// Hover text.
    pub title: String,
}

/// [`scatter`] with fitted lines (a qPCR plate's standard curves).
pub fn scatter_lines(
    name: &str,
    title: &str,
    subtitle: &str,
    (xlab, ylab): (&str, &str),
    series: &[Series],
    identity: bool,
    lines: &[Line],
) -> String {
    let leg = series_legend(series);
    let f = Frame {
        w: 520.0,
        h: 320.0,
        left: 58.0,
        right: 170.0,
        top: 38.0,
        bottom: 42.0,
    };
    let n: usize = series.iter().map(|s| s.points.len()).sum();
    let mut out = String::new();
    open(&mut out, &f, name, title, subtitle);
    let pts = || series.iter().flat_map(|s| s.points.iter());
    let (lo, hi) = if identity {
        range(pts().flat_map(|p| [p.x, p.y]))
    } else {
        range(pts().map(|p| p.y))
    };
    let (xlo, xhi) = if identity {
        (lo, hi)
    } else {
        range(pts().map(|p| p.x))
    };
    let y = y_axis(&mut out, &f, lo, hi, ylab);
    let (left, pw) = (f.left, f.plot_w());
    let x = |v: f64| left + (v - xlo) / (xhi - xlo) * pw;
    let base = f.top + f.plot_h();
    for t in ticks(xlo, xhi, 5) {
        if t < xlo || t > xhi {
            continue;
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
            x(t),
            base + 14.0,
            label(t)
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{left}" x2="{:.1}" y1="{base:.1}" y2="{base:.1}" stroke="#333"/><text class="axis-title" x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
        left + pw,
        left + pw / 2.0,
        f.h - 8.0,
        esc(xlab)
    );
    let mut leg = leg;
    if identity {
        let _ = write!(
            out,
            r##"<line class="identity" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"><title>y = x</title></line>"##,
            x(lo),
            y(lo),
            x(hi),
            y(hi)
        );
        leg.push(("dashed: y = x".to_string(), "#999999", true));
    }
    for l in lines {
        let (y0, y1) = (l.slope * xlo + l.intercept, l.slope * xhi + l.intercept);
        let _ = write!(
            out,
            r#"<line class="fit" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}" stroke-width="1.3"><title>{}</title></line>"#,
            x(xlo),
            y(y0.clamp(lo, hi)),
            x(xhi),
            y(y1.clamp(lo, hi)),
            l.colour,
            esc(&l.title)
        );
    }
    for s in series {
        for p in &s.points {
            let what = format!("x={}, y={}", label(p.x), label(p.y));
            mark(
                &mut out,
                x(p.x),
                y(p.y),
                s.colour,
                p,
                n <= TITLED_MARKS,
                &what,
            );
        }
    }
    legend(&mut out, &f, &leg);
    out.push_str("</svg>");
    out
}

/// Box plots (median, quartiles, whiskers at the 5th and 95th percentiles): (label, colour,
/// values) per box.
pub fn box_plots(
    name: &str,
    title: &str,
    ylab: &str,
    boxes: &[(String, &str, Vec<f64>)],
) -> String {
    let f = Frame {
        w: (90.0 + 64.0 * boxes.len().max(1) as f64 + 170.0).min(MAX_WIDTH),
        h: 350.0,
        left: 58.0,
        right: 170.0,
        top: 36.0,
        bottom: 114.0,
    };
    let mut out = String::new();
    open(&mut out, &f, name, title, "");
    let (lo, hi) = range(boxes.iter().flat_map(|b| b.2.iter().copied()).chain([0.0]));
    // Fractions: the axis starts at 0.
    let y = y_axis(&mut out, &f, lo.min(0.0), hi, ylab);
    let bw = f.plot_w() / boxes.len().max(1) as f64;
    let q = |v: &[f64], p: f64| -> f64 {
        let i = p * (v.len() - 1) as f64;
        let (a, b) = (i.floor() as usize, i.ceil() as usize);
        v[a] + (v[b] - v[a]) * (i - a as f64)
    };
    let mut leg = Vec::new();
    for (bi, (lab, colour, vals)) in boxes.iter().enumerate() {
        let mut v: Vec<f64> = vals.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            continue;
        }
        v.sort_by(f64::total_cmp);
        let (p5, q1, med, q3, p95) = (
            q(&v, 0.05),
            q(&v, 0.25),
            q(&v, 0.5),
            q(&v, 0.75),
            q(&v, 0.95),
        );
        let cx = f.left + bw * (bi as f64 + 0.5);
        let hw = (bw * 0.3).min(18.0);
        let _ = write!(
            out,
            r##"<g class="box"><title>{}: median {}, IQR {}–{}, n={}</title><line x1="{cx:.1}" x2="{cx:.1}" y1="{:.1}" y2="{:.1}" stroke="#555"/><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}" fill-opacity="0.8" stroke="#333"/><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#111" stroke-width="2"/></g>"##,
            esc(lab),
            label(med),
            label(q1),
            label(q3),
            v.len(),
            y(p5),
            y(p95),
            cx - hw,
            y(q3),
            2.0 * hw,
            (y(q1) - y(q3)).max(0.5),
            cx - hw,
            cx + hw,
            y(med),
            y(med)
        );
        let _ = write!(
            out,
            r#"<text transform="translate({:.1},{:.1}) rotate(-40)" font-size="10" text-anchor="end">{}</text>"#,
            cx + 3.0,
            f.h - f.bottom + 12.0,
            esc(lab)
        );
        leg.push((lab.clone(), *colour, false));
    }
    leg.truncate(16);
    legend(&mut out, &f, &leg);
    out.push_str("</svg>");
    out
}

/// Histogram with bars side by side per bin, one colour per series: `bins` are the x labels,
/// each series (name, colour, count per bin) is drawn as its fraction of its own total, so
/// groups of different sizes compare.
pub fn histogram(
    name: &str,
    title: &str,
    xlab: &str,
    bins: &[String],
    series: &[(String, &'static str, Vec<f64>)],
) -> String {
    let f = Frame {
        w: 760.0,
        h: 300.0,
        left: 56.0,
        right: 190.0,
        top: 36.0,
        bottom: 52.0,
    };
    let mut out = String::new();
    open(&mut out, &f, name, title, "");
    let fracs: Vec<Vec<f64>> = series
        .iter()
        .map(|(_, _, c)| {
            let t: f64 = c.iter().sum();
            c.iter()
                .map(|v| if t > 0.0 { v / t } else { 0.0 })
                .collect()
        })
        .collect();
    let hi = fracs
        .iter()
        .flatten()
        .fold(0.0f64, |a, &b| a.max(b))
        .max(0.05)
        * 1.1;
    let y = y_axis(&mut out, &f, 0.0, hi, "fraction of telomeric reads");
    let bw = f.plot_w() / bins.len().max(1) as f64;
    let k = series.len().max(1) as f64;
    for (b, label) in bins.iter().enumerate() {
        let x0 = f.left + b as f64 * bw;
        for (j, ((sname, colour, counts), fr)) in series.iter().zip(&fracs).enumerate() {
            let v = fr.get(b).copied().unwrap_or(0.0);
            let w = (bw - 4.0) / k;
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}" fill-opacity="0.8"><title>{}: {} reads in {} ({:.1} %)</title></rect>"#,
                x0 + 2.0 + j as f64 * w,
                y(v),
                w.max(0.5),
                (f.top + f.plot_h() - y(v)).max(0.0),
                esc(sname),
                counts.get(b).copied().unwrap_or(0.0),
                esc(label),
                100.0 * v
            );
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="9.5" text-anchor="middle">{}</text>"#,
            x0 + bw / 2.0,
            f.top + f.plot_h() + 13.0,
            esc(label)
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#333"/><text class="axis-title" x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
        f.left,
        f.left + f.plot_w(),
        f.top + f.plot_h(),
        f.top + f.plot_h(),
        f.left + f.plot_w() / 2.0,
        f.h - 10.0,
        esc(xlab)
    );
    let leg: Vec<(String, &str, bool)> = series
        .iter()
        .map(|(n, c, v)| (format!("{n} (reads={})", v.iter().sum::<f64>()), *c, false))
        .collect();
    legend(&mut out, &f, &leg);
    out.push_str("</svg>");
    out
}

/// Horizontal stacked bars (one per group, e.g. the mean composition of a sample type), each
/// segment coloured by its component: (group label, segments (component, value)), and the
/// components' (name, colour) for the legend.
pub fn stacked_bars(
    name: &str,
    title: &str,
    bars: &[(String, Vec<(String, f64)>)],
    comps: &[(String, &str)],
) -> String {
    let f = Frame {
        w: 760.0,
        h: (36.0 + 30.0 * bars.len().max(1) as f64 + 36.0)
            .max(36.0 + 15.0 * comps.len() as f64 + 12.0),
        left: 190.0,
        right: 190.0,
        top: 36.0,
        bottom: 22.0,
    };
    let mut out = String::new();
    open(&mut out, &f, name, title, "");
    let pw = f.plot_w();
    let x = |v: f64| f.left + v.clamp(0.0, 1.0) * pw;
    for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            out,
            r##"<line x1="{:.1}" x2="{:.1}" y1="{}" y2="{:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"##,
            x(t),
            x(t),
            f.top,
            f.top + 30.0 * bars.len() as f64,
            x(t),
            f.top + 30.0 * bars.len() as f64 + 12.0,
            label(t)
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">mean fraction</text>"#,
        f.left + pw / 2.0,
        f.top + 30.0 * bars.len() as f64 + 26.0
    );
    for (bi, (group, segs)) in bars.iter().enumerate() {
        let y0 = f.top + 30.0 * bi as f64 + 4.0;
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="10.5" text-anchor="end">{}</text>"#,
            f.left - 6.0,
            y0 + 15.0,
            esc(group)
        );
        let mut acc = 0.0;
        for (c, v) in segs {
            let v = v.max(0.0);
            let colour = comps
                .iter()
                .find(|k| &k.0 == c)
                .map(|k| k.1)
                .unwrap_or("#cccccc");
            let _ = write!(
                out,
                r#"<rect class="bar" x="{:.1}" y="{y0:.1}" width="{:.1}" height="22" fill="{colour}"><title>{}: {} = {}</title></rect>"#,
                x(acc),
                (x(acc + v) - x(acc)).max(0.0),
                esc(group),
                esc(c),
                label(v)
            );
            acc += v;
        }
    }
    let leg: Vec<(String, &str, bool)> =
        comps.iter().map(|(n, c)| (n.clone(), *c, false)).collect();
    legend(&mut out, &f, &leg);
    out.push_str("</svg>");
    out
}

fn blue(v: f64) -> String {
    let t = v.clamp(0.0, 1.0);
    let (r0, g0, b0) = (247.0, 251.0, 255.0);
    let (r1, g1, b1) = (8.0, 48.0, 107.0);
    format!(
        "rgb({:.0},{:.0},{:.0})",
        r0 + (r1 - r0) * t,
        g0 + (g1 - g0) * t,
        b0 + (b1 - b0) * t
    )
}

/// Heatmap of values in [0, 1] (white → dark blue; `None` grey), rows × columns, with a colour
/// scale. `groups` colours a strip left of each row (its sample type). Row labels are drawn
/// while rows are at least 9 px tall; the chart is at most about 900 px tall.
pub fn heatmap(
    name: &str,
    title: &str,
    rows: &[(String, &'static str)],
    cols: &[String],
    value: impl Fn(usize, usize) -> Option<f64>,
) -> String {
    let cw = ((MAX_WIDTH - 330.0) / cols.len().max(1) as f64).clamp(4.0, 16.0);
    let rh =
        (860.0 / rows.len().max(1) as f64).clamp(1.0, if rows.len() <= 10 { 24.0 } else { 13.0 });
    let labels = rh >= 9.0;
    let f = Frame {
        w: 160.0 + cw * cols.len().max(1) as f64 + 170.0,
        h: (40.0 + rh * rows.len().max(1) as f64 + 80.0).max(250.0),
        left: 160.0,
        right: 170.0,
        top: 36.0,
        bottom: 80.0,
    };
    let titled = rows.len() * cols.len() <= 4 * TITLED_MARKS;
    let mut out = String::new();
    open(&mut out, &f, name, title, "");
    for (ri, (r, g)) in rows.iter().enumerate() {
        let yy = f.top + rh * ri as f64;
        if labels {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="end">{}</text>"#,
                f.left - 10.0,
                yy + rh * 0.8,
                esc(r)
            );
        }
        let _ = write!(
            out,
            r#"<rect x="{:.1}" y="{yy:.1}" width="5" height="{rh:.2}" fill="{g}"/>"#,
            f.left - 7.0
        );
        for (ci, col) in cols.iter().enumerate() {
            let v = value(ri, ci);
            let fill = v.map(blue).unwrap_or_else(|| "#cccccc".into());
            let _ = write!(
                out,
                r#"<rect class="cell" x="{:.1}" y="{yy:.2}" width="{cw:.1}" height="{rh:.2}" fill="{fill}""#,
                f.left + cw * ci as f64
            );
            if titled {
                let _ = write!(
                    out,
                    "><title>{} {}: {}</title></rect>",
                    esc(r),
                    esc(col),
                    v.map(label).unwrap_or_else(|| "NA".into())
                );
            } else {
                out.push_str("/>");
            }
        }
    }
    let base = f.top + rh * rows.len() as f64;
    for (ci, c) in cols.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text transform="translate({:.1},{:.1}) rotate(-60)" font-size="8.5" text-anchor="end">{}</text>"#,
            f.left + cw * (ci as f64 + 0.6),
            base + 6.0,
            esc(c)
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">probe (by hg19 position)</text>"#,
        f.left + cw * cols.len() as f64 / 2.0,
        f.h - 4.0
    );
    // The colour scale.
    let lx = f.w - f.right + 14.0;
    out.push_str(r#"<g class="legend">"#);
    let _ = write!(
        out,
        r#"<text x="{lx:.1}" y="{:.1}" font-size="10.5">beta</text>"#,
        f.top + 6.0
    );
    for i in 0..=10 {
        let t = i as f64 / 10.0;
        let _ = write!(
            out,
            r#"<rect x="{lx:.1}" y="{:.1}" width="14" height="12" fill="{}"/>"#,
            f.top + 12.0 + 12.0 * (10 - i) as f64,
            blue(t)
        );
    }
    for (t, yy) in [
        (1.0, f.top + 21.0),
        (0.5, f.top + 81.0),
        (0.0, f.top + 141.0),
    ] {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{yy:.1}" font-size="10">{}</text>"#,
            lx + 18.0,
            label(t)
        );
    }
    let _ = write!(
        out,
        r##"<rect x="{lx:.1}" y="{:.1}" width="14" height="12" fill="#cccccc"/><text x="{:.1}" y="{:.1}" font-size="10">no value</text></g>"##,
        f.top + 160.0,
        lx + 18.0,
        f.top + 170.0
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_range() {
        let t = ticks(0.3, 9.7, 5);
        assert!(
            t.first().unwrap() <= &0.3 && t.last().unwrap() >= &9.7,
            "{t:?}"
        );
        assert_eq!(esc("<a&\">"), "&lt;a&amp;&quot;&gt;");
        // One value: ±10 %, not ±1.
        assert_eq!(range([200.0].into_iter()), (180.0, 220.0));
    }

    #[test]
    fn plots_are_svg_with_marks_legends_and_axis_titles() {
        let s = Series {
            name: "cord_blood".into(),
            colour: type_colour("cord_blood"),
            points: vec![Point {
                label: "S<1>".into(),
                x: 1.0,
                y: 2.0,
                warn: true,
            }],
        };
        let sc = scatter("x", "t", "n=1", ("a", "b"), std::slice::from_ref(&s), true);
        assert!(sc.starts_with("<svg") && sc.ends_with("</svg>"));
        assert!(sc.contains("class=\"identity\"") && sc.contains("S&lt;1&gt;"));
        for svg in [sc, strip_plot("y", "t", "b", &[s], true)] {
            assert!(svg.contains("class=\"legend\"") && svg.contains("class=\"axis-title\""));
            assert!(svg.contains("warn row (hollow)"));
        }
    }
}

/// One well of a plate drawing.
pub struct Well {
    /// Row (0 = A).
    pub row: usize,
    /// Column (0 = 1).
    pub col: usize,
    /// Cq (`None`: no amplification, grey).
    pub cq: Option<f64>,
    /// Hover text (well, sample, target, Cq, status).
    pub title: String,
    /// Drawn with a red ring (a dropped, excluded or flagged well).
    pub flagged: bool,
    /// A standard (square) or an NTC (diamond) rather than a sample (circle).
    pub shape: WellShape,
}

/// What a well's mark looks like.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum WellShape {
    /// A sample.
    Sample,
    /// A standard.
    Standard,
    /// A no-template control.
    Ntc,
}

/// A plate drawn well by well (`rows` × `cols`), each well coloured by its Cq (dark: low Cq,
/// much template; light: high Cq; grey: none), with a Cq scale and a shape legend.
pub fn plate_grid(name: &str, title: &str, rows: usize, cols: usize, wells: &[Well]) -> String {
    let cell = ((MAX_WIDTH - 260.0) / cols.max(1) as f64).clamp(10.0, 26.0);
    let f = Frame {
        w: 40.0 + cell * cols.max(1) as f64 + 190.0,
        h: (40.0 + cell * rows.max(1) as f64 + 30.0).max(200.0),
        left: 40.0,
        right: 190.0,
        top: 40.0,
        bottom: 30.0,
    };
    let cqs: Vec<f64> = wells.iter().filter_map(|w| w.cq).collect();
    let (lo, hi) = if cqs.is_empty() {
        (0.0, 1.0)
    } else {
        let lo = cqs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = cqs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo, if hi > lo { hi } else { lo + 1.0 })
    };
    let mut out = String::new();
    open(&mut out, &f, name, title, "");
    for c in 0..cols {
        if cols <= 24 || c % 2 == 0 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle">{}</text>"#,
                f.left + cell * (c as f64 + 0.5),
                f.top - 4.0,
                c + 1
            );
        }
    }
    for r in 0..rows {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="end">{}</text>"#,
            f.left - 5.0,
            f.top + cell * (r as f64 + 0.5) + 3.0,
            row_label(r)
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">plate column</text><text class="axis-title" transform="translate(12,{:.1}) rotate(-90)" font-size="11" text-anchor="middle">plate row</text>"#,
        f.left + cell * cols as f64 / 2.0,
        f.top + cell * rows as f64 + 18.0,
        f.top + cell * rows as f64 / 2.0
    );
    let rad = cell * 0.42;
    for w in wells {
        let (cx, cy) = (
            f.left + cell * (w.col as f64 + 0.5),
            f.top + cell * (w.row as f64 + 0.5),
        );
        let fill =
            w.cq.map(|c| blue(0.15 + 0.85 * (hi - c) / (hi - lo)))
                .unwrap_or_else(|| "#cccccc".into());
        let stroke = if w.flagged { "#d7301f" } else { "#555" };
        let sw = if w.flagged { 2.0 } else { 0.6 };
        let open_tag = match w.shape {
            WellShape::Sample => format!(
                r#"<circle class="well" cx="{cx:.1}" cy="{cy:.1}" r="{rad:.1}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}""#
            ),
            WellShape::Standard => format!(
                r#"<rect class="well" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}""#,
                cx - rad,
                cy - rad,
                2.0 * rad,
                2.0 * rad
            ),
            WellShape::Ntc => format!(
                r#"<polygon class="well" points="{:.1},{cy:.1} {cx:.1},{:.1} {:.1},{cy:.1} {cx:.1},{:.1}" fill="{fill}" stroke="{stroke}" stroke-width="{sw}""#,
                cx - rad,
                cy - rad,
                cx + rad,
                cy + rad
            ),
        };
        let tag = match w.shape {
            WellShape::Sample => "circle",
            WellShape::Standard => "rect",
            WellShape::Ntc => "polygon",
        };
        let _ = write!(out, "{open_tag}><title>{}</title></{tag}>", esc(&w.title));
    }
    // Cq scale and shapes.
    let lx = f.w - f.right + 16.0;
    out.push_str(r#"<g class="legend">"#);
    let steps = 6;
    for i in 0..steps {
        let t = i as f64 / (steps - 1) as f64;
        let cq = lo + (hi - lo) * t;
        let _ = write!(
            out,
            r##"<rect x="{lx:.1}" y="{:.1}" width="14" height="12" fill="{}" stroke="#999" stroke-width="0.5"/><text x="{:.1}" y="{:.1}" font-size="10">Cq {:.1}</text>"##,
            f.top + 14.0 * i as f64,
            blue(0.15 + 0.85 * (1.0 - t)),
            lx + 20.0,
            f.top + 14.0 * i as f64 + 10.0,
            cq
        );
    }
    let y0 = f.top + 14.0 * steps as f64 + 8.0;
    let _ = write!(
        out,
        r##"<rect x="{lx:.1}" y="{y0:.1}" width="14" height="12" fill="#cccccc"/><text x="{:.1}" y="{:.1}" font-size="10">no Cq</text><circle cx="{:.1}" cy="{:.1}" r="5" fill="white" stroke="#555"/><text x="{:.1}" y="{:.1}" font-size="10">sample</text><rect x="{:.1}" y="{:.1}" width="10" height="10" fill="white" stroke="#555"/><text x="{:.1}" y="{:.1}" font-size="10">standard</text><polygon points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="white" stroke="#555"/><text x="{:.1}" y="{:.1}" font-size="10">NTC</text><circle cx="{:.1}" cy="{:.1}" r="5" fill="white" stroke="#d7301f" stroke-width="2"/><text x="{:.1}" y="{:.1}" font-size="10">dropped or excluded</text>"##,
        lx + 20.0,
        y0 + 10.0,
        lx + 7.0,
        y0 + 26.0,
        lx + 20.0,
        y0 + 30.0,
        lx + 2.0,
        y0 + 38.0,
        lx + 20.0,
        y0 + 47.0,
        lx + 2.0,
        y0 + 60.0,
        lx + 7.0,
        y0 + 55.0,
        lx + 12.0,
        y0 + 60.0,
        lx + 7.0,
        y0 + 65.0,
        lx + 20.0,
        y0 + 64.0,
        lx + 7.0,
        y0 + 78.0,
        lx + 20.0,
        y0 + 82.0
    );
    out.push_str("</g></svg>");
    out
}

fn row_label(r: usize) -> String {
    if r < 26 {
        ((b'A' + r as u8) as char).to_string()
    } else {
        format!("A{}", (b'A' + (r - 26) as u8 % 26) as char)
    }
}
