//! Small inline-SVG plots for the HTML report: strip plots by group, scatter plots with an
//! identity line, stacked bars and a heatmap. Plain SVG text, no scripts; every mark carries a
//! `<title>` so a browser shows the sample and value on hover.

use std::fmt::Write;

use crate::tidy::format_number;

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
    let r = (v * 1e6).round() / 1e6;
    format_number(r)
}

/// Data range padded a little; a single value gets ±1.
fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if (hi - lo).abs() < 1e-12 {
        return (lo - 1.0, hi + 1.0);
    }
    let pad = (hi - lo) * 0.06;
    (lo - pad, hi + pad)
}

const COLOURS: [&str; 8] = [
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
];

/// A colour from the fixed palette.
pub fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
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

fn open(out: &mut String, f: &Frame, name: &str, title: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="agemark-plot" data-plot="{}" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}"><rect x="0" y="0" width="{}" height="{}" fill="white"/><text x="{}" y="16" font-size="13" font-weight="bold" text-anchor="middle">{}</text>"#,
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
        r##"<line x1="{left}" x2="{left}" y1="{top}" y2="{:.1}" stroke="#333"/><text transform="translate(12,{:.1}) rotate(-90)" font-size="11" text-anchor="middle">{}</text>"##,
        top + ph,
        top + ph / 2.0,
        esc(ylab)
    );
    y
}

/// Strip plot: one column of points per group (`groups`: name → (point label, value)).
pub fn strip_plot(
    name: &str,
    title: &str,
    ylab: &str,
    groups: &[(String, Vec<(String, f64)>)],
) -> String {
    let f = Frame {
        w: 120.0 + 110.0 * groups.len().max(1) as f64,
        h: 300.0,
        left: 60.0,
        right: 20.0,
        top: 28.0,
        bottom: 50.0,
    };
    let mut out = String::new();
    open(&mut out, &f, name, title);
    let (lo, hi) = range(groups.iter().flat_map(|g| g.1.iter().map(|p| p.1)));
    let y = y_axis(&mut out, &f, lo, hi, ylab);
    let gw = f.plot_w() / groups.len().max(1) as f64;
    for (gi, (g, pts)) in groups.iter().enumerate() {
        let cx = f.left + gw * (gi as f64 + 0.5);
        for (pi, (lab, v)) in pts.iter().enumerate() {
            // Deterministic horizontal spread.
            let dx = ((pi as f64 * 0.618_034).fract() - 0.5) * gw * 0.5;
            let _ = write!(
                out,
                r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="4" fill="{}" fill-opacity="0.8"><title>{}: {}</title></circle>"#,
                cx + dx,
                y(*v),
                colour(gi),
                esc(lab),
                label(*v)
            );
        }
        let _ = write!(
            out,
            r#"<text x="{cx:.1}" y="{:.1}" font-size="11" text-anchor="middle">{} (n={})</text>"#,
            f.h - f.bottom + 16.0,
            esc(g),
            pts.len()
        );
    }
    out.push_str("</svg>");
    out
}

/// Scatter plot of (x, y, label) points; `identity` draws the y = x line.
pub fn scatter(
    name: &str,
    title: &str,
    xlab: &str,
    ylab: &str,
    points: &[(f64, f64, String)],
    identity: bool,
) -> String {
    let f = Frame {
        w: 340.0,
        h: 300.0,
        left: 60.0,
        right: 16.0,
        top: 28.0,
        bottom: 44.0,
    };
    let mut out = String::new();
    open(&mut out, &f, name, title);
    let all = points.iter().flat_map(|p| [p.0, p.1]);
    let (lo, hi) = if identity {
        range(all)
    } else {
        range(points.iter().map(|p| p.1))
    };
    let (xlo, xhi) = if identity {
        (lo, hi)
    } else {
        range(points.iter().map(|p| p.0))
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
        r##"<line x1="{left}" x2="{:.1}" y1="{base:.1}" y2="{base:.1}" stroke="#333"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
        left + pw,
        left + pw / 2.0,
        f.h - 8.0,
        esc(xlab)
    );
    if identity {
        let _ = write!(
            out,
            r##"<line class="identity" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"><title>y = x</title></line>"##,
            x(lo),
            y(lo),
            x(hi),
            y(hi)
        );
    }
    for (px, py, lab) in points {
        let _ = write!(
            out,
            r##"<circle class="point" cx="{:.1}" cy="{:.1}" r="4" fill="#1b9e77" fill-opacity="0.8"><title>{}: x={}, y={}</title></circle>"##,
            x(*px),
            y(*py),
            esc(lab),
            label(*px),
            label(*py)
        );
    }
    out.push_str("</svg>");
    out
}

/// Stacked bars: one bar per sample, segments per component (values summed as given).
pub fn stacked_bars(name: &str, title: &str, bars: &[(String, Vec<(String, f64)>)]) -> String {
    let comps: Vec<String> = {
        let mut c: Vec<String> = bars
            .iter()
            .flat_map(|b| b.1.iter().map(|s| s.0.clone()))
            .collect();
        c.sort();
        c.dedup();
        c
    };
    let f = Frame {
        w: 140.0 + 26.0 * bars.len().max(1) as f64 + 120.0,
        h: 300.0,
        left: 60.0,
        right: 140.0,
        top: 28.0,
        bottom: 80.0,
    };
    let mut out = String::new();
    open(&mut out, &f, name, title);
    let hi = bars
        .iter()
        .map(|b| b.1.iter().map(|s| s.1.max(0.0)).sum::<f64>())
        .fold(1.0f64, f64::max);
    let y = y_axis(&mut out, &f, 0.0, hi, "fraction");
    let bw = f.plot_w() / bars.len().max(1) as f64;
    for (bi, (sample, segs)) in bars.iter().enumerate() {
        let x0 = f.left + bw * bi as f64 + bw * 0.1;
        let mut acc = 0.0;
        for (c, v) in segs {
            let v = v.max(0.0);
            let ci = comps.iter().position(|k| k == c).unwrap_or(0);
            let _ = write!(
                out,
                r#"<rect class="bar" x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {} = {}</title></rect>"#,
                y(acc + v),
                bw * 0.8,
                (y(acc) - y(acc + v)).max(0.0),
                colour(ci),
                esc(sample),
                esc(c),
                label(v)
            );
            acc += v;
        }
        let _ = write!(
            out,
            r#"<text transform="translate({:.1},{:.1}) rotate(-60)" font-size="9" text-anchor="end">{}</text>"#,
            x0 + bw * 0.4,
            f.h - f.bottom + 10.0,
            esc(sample)
        );
    }
    for (ci, c) in comps.iter().enumerate() {
        let ly = f.top + 14.0 * ci as f64;
        let lx = f.w - f.right + 10.0;
        let _ = write!(
            out,
            r#"<rect x="{lx:.1}" y="{ly:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="10">{}</text>"#,
            colour(ci),
            lx + 14.0,
            ly + 9.0,
            esc(c)
        );
    }
    out.push_str("</svg>");
    out
}

/// Heatmap of values in [0, 1] (white → dark blue): rows × columns; `None` is grey.
pub fn heatmap(
    name: &str,
    title: &str,
    rows: &[String],
    cols: &[String],
    value: impl Fn(usize, usize) -> Option<f64>,
) -> String {
    let cell = 14.0;
    let f = Frame {
        w: 150.0 + cell * cols.len().max(1) as f64 + 20.0,
        h: 110.0 + cell * rows.len().max(1) as f64,
        left: 150.0,
        right: 20.0,
        top: 28.0,
        bottom: 80.0,
    };
    let mut out = String::new();
    open(&mut out, &f, name, title);
    for (ri, r) in rows.iter().enumerate() {
        let yy = f.top + cell * ri as f64;
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="end">{}</text>"#,
            f.left - 4.0,
            yy + cell * 0.75,
            esc(r)
        );
        for (ci, c) in cols.iter().enumerate() {
            let v = value(ri, ci);
            let fill = match v {
                Some(v) => {
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
                None => "#cccccc".to_string(),
            };
            let _ = write!(
                out,
                r#"<rect class="cell" x="{:.1}" y="{yy:.1}" width="{cell}" height="{cell}" fill="{fill}"><title>{} {}: {}</title></rect>"#,
                f.left + cell * ci as f64,
                esc(r),
                esc(c),
                v.map(label).unwrap_or_else(|| "NA".into())
            );
        }
    }
    for (ci, c) in cols.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text transform="translate({:.1},{:.1}) rotate(-60)" font-size="9" text-anchor="end">{}</text>"#,
            f.left + cell * (ci as f64 + 0.5),
            f.top + cell * rows.len() as f64 + 8.0,
            esc(c)
        );
    }
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
    }

    #[test]
    fn plots_are_svg_with_marks() {
        let s = scatter("x", "t", "a", "b", &[(1.0, 2.0, "S<1>".into())], true);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("class=\"identity\"") && s.contains("S&lt;1&gt;"));
    }
}
