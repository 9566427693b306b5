//! The consumers of the cohort outputs: MultiQC must pick up our custom-content files, and the
//! HTML report must load in headless Chromium with no console message and show its plots.
//! Ignored by default; `.ci/run` installs MultiQC (own venv) and Chromium (Debian) and runs them.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use crate::common::{agemark, tempdir};

/// `agemark demo` into `dir`; returns the cohort results directory.
fn demo_cohort(dir: &Path) -> PathBuf {
    let out = dir.join("demo");
    agemark(["demo", "--outdir", out.to_str().unwrap()]).assert_ok();
    out.join("cohort")
}

fn multiqc() -> PathBuf {
    if let Ok(p) = std::env::var("AGEMARK_MULTIQC") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let p = PathBuf::from(home).join(".cache/agemark-peers/multiqc-venv/bin/multiqc");
    assert!(
        p.exists(),
        "multiqc not found at {}: run .ci/run (pip install multiqc==1.35 into that venv) or set AGEMARK_MULTIQC",
        p.display()
    );
    p
}

fn chromium() -> PathBuf {
    let p = std::env::var("AGEMARK_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let p = PathBuf::from(p);
    assert!(
        p.exists(),
        "chromium not found at {}: run .ci/run (apt-get install chromium) or set AGEMARK_CHROMIUM",
        p.display()
    );
    p
}

#[test]
#[ignore = "needs multiqc: run by .ci/run"]
fn multiqc_picks_up_the_custom_content() {
    let dir = tempdir();
    let results = demo_cohort(dir.path());
    let out = dir.path().join("mqc");
    let run = Command::new(multiqc())
        .arg(&results)
        .arg("-o")
        .arg(&out)
        .arg("--no-ansi")
        .output()
        .expect("run multiqc");
    let log =
        String::from_utf8_lossy(&run.stderr).into_owned() + &String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "multiqc failed:\n{log}");
    let data = out.join("multiqc_data");
    for (file, samples) in [
        ("multiqc_agemark_telomere_table.txt", 6),
        ("multiqc_agemark_mtdna_table.txt", 6),
        ("multiqc_agemark_clocks_table.txt", 51),
        ("multiqc_agemark_celltypes_table.txt", 51),
        ("multiqc_agemark_qc_bargraph.txt", 51),
    ] {
        let p = data.join(file);
        let text = fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("{}: {e}\nmultiqc said:\n{log}", p.display()));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("Sample\t"), "{file}: {}", lines[0]);
        assert_eq!(lines.len() - 1, samples, "{file}:\n{text}");
        assert!(
            lines.iter().skip(1).all(|l| l.starts_with("DEMO-")),
            "{file}"
        );
    }
    // Values as we wrote them: the knight2016_ga column of the clocks table.
    let ours = fs::read_to_string(results.join("multiqc/agemark_clocks_mqc.tsv")).unwrap();
    let theirs = fs::read_to_string(data.join("multiqc_agemark_clocks_table.txt")).unwrap();
    let col = |t: &str, skip_comments: bool| -> Vec<(String, f64)> {
        let mut lines = t.lines().filter(|l| !(skip_comments && l.starts_with('#')));
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let k = header.iter().position(|h| *h == "knight2016_ga").unwrap();
        let mut v: Vec<(String, f64)> = lines
            .filter_map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                c[k].parse().ok().map(|x| (c[0].to_string(), x))
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let (a, b) = (col(&ours, true), col(&theirs, false));
    assert_eq!(a.len(), 30);
    assert_eq!(a.len(), b.len());
    for ((s1, v1), (s2, v2)) in a.iter().zip(&b) {
        assert_eq!(s1, s2);
        assert!((v1 - v2).abs() < 1e-9, "{s1}: {v1} vs {v2}");
    }
    assert!(out.join("multiqc_report.html").is_file());
    // General Statistics carries agemark's columns, with our titles.
    let gs = fs::read_to_string(data.join("multiqc_general_stats.txt")).unwrap();
    let head = gs.lines().next().unwrap();
    for col in ["telseq_length_kb", "mtdna_cn", "ga_accel_weeks"] {
        assert!(
            head.contains(&format!("agemark-{col}")),
            "{col} not in General Statistics: {head}"
        );
    }
    assert_eq!(
        gs.lines().count() - 1,
        49,
        "samples with a General Statistics value:\n{gs}"
    );
    let html = fs::read_to_string(out.join("multiqc_report.html")).unwrap();
    for title in ["Telomere length", "mtDNA-CN", "GA accel."] {
        assert!(html.contains(title), "{title} not in the MultiQC report");
    }
    // Histogram columns in natural order (tel2 before tel10).
    let tel = fs::read_to_string(data.join("multiqc_agemark_telomere_table.txt")).unwrap();
    let h = tel.lines().next().unwrap();
    assert!(
        h.find("telseq_tel2\t").unwrap() < h.find("telseq_tel10\t").unwrap(),
        "{h}"
    );
}

/// Runs headless Chromium on a file with a fresh profile; returns (stdout, stderr).
fn chromium_run(page: &Path, extra: &[String], profile: &Path) -> (String, String) {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium failed:\n{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

#[test]
#[ignore = "needs chromium: run by .ci/run"]
fn report_loads_in_headless_chromium_with_its_plots() {
    let dir = tempdir();
    let results = demo_cohort(dir.path());
    let report = results.join("report.html");
    // The console scan can fail: a page with a console error is caught.
    let bad = dir.path().join("bad.html");
    fs::write(
        &bad,
        "<!DOCTYPE html><html><body><script>console.error('planted')</script></body></html>",
    )
    .unwrap();
    let (_, err) = chromium_run(&bad, &["--dump-dom".into()], &dir.path().join("p0"));
    assert!(
        console_lines(&err).iter().any(|l| l.contains("planted")),
        "a planted console error must show in Chromium's log:\n{err}"
    );

    let (dom, err) = chromium_run(&report, &["--dump-dom".into()], &dir.path().join("p1"));
    assert!(
        console_lines(&err).is_empty(),
        "console messages while loading the report:\n{}",
        console_lines(&err).join("\n")
    );
    let svgs = dom.matches("<svg").count();
    assert!(svgs >= 3, "{svgs} SVG elements in the DOM");
    for plot in [
        "data-plot=\"telomere:telseq_length_kb\"",
        "data-plot=\"mtdna:mtdna_cn\"",
        "data-plot=\"clock:knight2016_ga\"",
        "data-plot=\"accel:knight2016_ga_residual\"",
        "data-plot=\"celltypes:cordblood_idol\"",
        "data-plot=\"nr3c1_heatmap\"",
    ] {
        assert!(dom.contains(plot), "{plot} not in the DOM");
    }
    assert!(dom.matches("class=\"point\"").count() >= 10);
    // Legends, axis titles, widths and section order, on the DOM Chromium built.
    crate::cohort_cli::assert_report_shape(&dom);

    // One screenshot per section at 1,400 px (the others hidden), kept as CI artefacts in
    // $AGEMARK_SCREENSHOT_DIR when set.
    let keep = std::env::var("AGEMARK_SCREENSHOT_DIR")
        .ok()
        .map(PathBuf::from);
    let html = fs::read_to_string(&report).unwrap();
    for section in [
        "summary",
        "telomere",
        "mtdna",
        "clocks",
        "acceleration",
        "celltypes",
        "nr3c1",
        "qc",
    ] {
        let page = results.join(format!("section_{section}.html"));
        let style = format!("<style>section:not(#{section}),nav{{display:none}}</style></head>");
        fs::write(&page, html.replacen("</head>", &style, 1)).unwrap();
        let shot = dir.path().join(format!("report_{section}.png"));
        let (_, err) = chromium_run(
            &page,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1400,2400".into(),
                "--hide-scrollbars".into(),
            ],
            &dir.path().join(format!("p-{section}")),
        );
        assert!(console_lines(&err).is_empty(), "{section}: {err}");
        let png = fs::read(&shot).expect("screenshot written");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        if let Some(k) = &keep {
            fs::create_dir_all(k).unwrap();
            fs::copy(&shot, k.join(format!("report_{section}.png"))).unwrap();
        }
    }

    let shot = dir.path().join("report.png");
    let (_, err) = chromium_run(
        &report,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600".into(),
            "--hide-scrollbars".into(),
        ],
        &dir.path().join("p2"),
    );
    assert!(console_lines(&err).is_empty(), "{err}");
    let png = fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // A blank 1280x1600 page compresses to a few kB; plots and text make it far larger.
    assert!(png.len() > 40_000, "screenshot only {} bytes", png.len());
    if let Ok(keep) = std::env::var("AGEMARK_KEEP_SCREENSHOT") {
        let _ = fs::copy(&shot, keep);
    }
}
