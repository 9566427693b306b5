//! `agemark qpcr` (issue 15, first part): the known answers of Applied Biosystems User
//! Bulletin #2 on its real Cq values (tests/data/qpcr, see PROVENANCE.md), standard curves
//! against an independent least-squares fit, and SYNTHETIC CFX plates (made here, labelled)
//! for the two-plate T/S path with its QC flags.

use std::fs;

use crate::common::{agemark, repo, tempdir, Table};

fn row<'a>(
    t: &'a Table,
    sample: &str,
    measure: &str,
) -> &'a std::collections::BTreeMap<String, String> {
    t.rows
        .iter()
        .find(|r| r["sample_id"] == sample && r["measure"] == measure)
        .unwrap_or_else(|| panic!("no {sample} {measure}"))
}

#[test]
fn user_bulletin_2_separate_tubes_reproduce_the_published_fold_change() {
    let dir = tempdir();
    let out = dir.path().join("ub2");
    agemark([
        "qpcr",
        repo("tests/data/qpcr/ub2_separate_tubes.tsv")
            .to_str()
            .unwrap(),
        "--role",
        "c_myc=telomere",
        "--role",
        "GAPDH=single_copy",
        "--calibrator",
        "brain",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let t = Table::read(&dir.path().join("ub2.qpcr.tsv"));
    let v = |s: &str, m: &str| row(&t, s, m)["value"].parse::<f64>().unwrap();
    // Published: c-myc 30.49 / 27.03, GAPDH 23.63 / 22.66, ΔCt 6.86 / 4.37, ΔΔCt −2.50,
    // kidney / brain = 5.6.
    assert!((v("brain", "cq_mean_telomere") - 30.49).abs() < 0.005);
    assert!((v("kidney", "cq_mean_single_copy") - 22.66).abs() < 0.005);
    let ddct = (v("kidney", "cq_mean_telomere") - v("kidney", "cq_mean_single_copy"))
        - (v("brain", "cq_mean_telomere") - v("brain", "cq_mean_single_copy"));
    assert!((ddct + 2.50).abs() < 0.01, "{ddct}");
    let fold = v("kidney", "ts_ratio");
    assert!((fold - 2f64.powf(-ddct)).abs() < 1e-9);
    assert_eq!(format!("{fold:.1}"), "5.6");
    assert_eq!(v("brain", "ts_ratio"), 1.0);
    assert_eq!(row(&t, "kidney", "ts_ratio")["qc_status"], "pass");
    assert!(row(&t, "kidney", "ts_ratio")["method"]
        .contains("relative_to_calibrator(E=1;calibrator=brain)"));
}

#[test]
fn standard_curves_equal_an_independent_least_squares_fit() {
    let dir = tempdir();
    let out = dir.path().join("sc");
    agemark([
        "qpcr",
        repo("tests/data/qpcr/ub2_standard_curve.tsv")
            .to_str()
            .unwrap(),
        "--role",
        "c_myc=telomere",
        "--role",
        "GAPDH=single_copy",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let t = Table::read(&dir.path().join("sc.qpcr_plates.tsv"));
    let plate = "ub2_standard_curve.tsv";
    // Python (statistics by hand, standard library) on the same points.
    for (m, want) in [
        ("slope_c_myc", -3.3880951818703147),
        ("intercept_c_myc", 25.69669128011225),
        ("r2_c_myc", 0.9965504210922403),
        ("slope_GAPDH", -3.4145513737781625),
        ("intercept_GAPDH", 22.682211356485357),
        ("r2_GAPDH", 0.9990278221058081),
    ] {
        let got: f64 = row(&t, plate, m)["value"].parse().unwrap();
        assert!((got - want).abs() < 1e-10, "{m}: {got} vs {want}");
    }
    let e: f64 = row(&t, plate, "efficiency_GAPDH")["value"].parse().unwrap();
    assert!((e - (10f64.powf(1.0 / 3.4145513737781625) - 1.0)).abs() < 1e-12);
}

/// A SYNTHETIC CFX "Quantification Cq Results" plate: standards 100..0.01 in triplicate on a
/// perfect curve (slope, intercept), unknowns at given quantities (triplicates; `odd` adds an
/// outlier to the first), an NTC (`ntc_cq`).
fn cfx_plate(
    fluor: &str,
    slope: f64,
    intercept: f64,
    unknowns: &[(&str, f64)],
    ntc_cq: &str,
    odd: bool,
) -> String {
    let mut s = String::from(",Well,Fluor,Target,Content,Sample,Biological Set Name,Cq,Cq Mean,Cq Std. Dev,Starting Quantity (SQ),Log Starting Quantity\n");
    let cq = |q: f64| slope * q.log10() + intercept;
    let mut w = 0;
    let mut well = || {
        w += 1;
        format!(
            "{}{:02}",
            (b'A' + ((w - 1) / 12) as u8) as char,
            (w - 1) % 12 + 1
        )
    };
    for (k, q) in [100.0, 10.0, 1.0, 0.1, 0.01].iter().enumerate() {
        for _ in 0..3 {
            s.push_str(&format!(
                ",{},{fluor},,Std-{:02},,,{:.4},,,{q},\n",
                well(),
                k + 1,
                cq(*q)
            ));
        }
    }
    for (i, (name, q)) in unknowns.iter().enumerate() {
        for r in 0..3 {
            let c = cq(*q) + if odd && i == 0 && r == 2 { 1.2 } else { 0.0 };
            // The instrument's own SQ for unknowns (nonsense here) must be ignored.
            s.push_str(&format!(
                ",{},{fluor},,Unkn-{:02},{name},,{c:.4},,,999,\n",
                well(),
                i + 1
            ));
        }
    }
    s.push_str(&format!(",{},{fluor},,NTC,,,{ntc_cq},,,,\n", well()));
    s
}

#[test]
fn two_synthetic_cfx_plates_give_t_over_s_with_their_qc_flags() {
    let dir = tempdir();
    let d = dir.path();
    // Telomere plate (FAM, 100 % efficiency) and single-copy plate (HEX, 95 %), as two runs.
    let s_tel = -1.0 / 2f64.log10();
    let s_scg = -1.0 / 1.95f64.log10();
    let tel = cfx_plate(
        "FAM",
        s_tel,
        15.0,
        &[("CB-01", 8.0), ("CB-02", 4.0)],
        "NaN",
        true,
    );
    let scg = cfx_plate(
        "HEX",
        s_scg,
        22.0,
        &[("CB-01", 2.0), ("CB-02", 2.0)],
        "33.1",
        false,
    );
    fs::write(d.join("tel.csv"), tel).unwrap();
    fs::write(d.join("scg.csv"), scg).unwrap();
    let out = d.join("cb");
    let run = agemark([
        "qpcr",
        d.join("tel.csv").to_str().unwrap(),
        d.join("scg.csv").to_str().unwrap(),
        "--role",
        "FAM=telomere",
        "--role",
        "HEX=single_copy",
        "-o",
        out.to_str().unwrap(),
    ]);
    run.assert_ok();
    // Plate QC is on the terminal too, by plate and target, with the ratios' verdicts.
    assert!(
        run.stderr
            .contains("WARN scg.csv: HEX: NTC amplified (lowest Cq 33.10)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("2 plates, "), "{}", run.stderr);
    let t = Table::read(&d.join("cb.qpcr.tsv"));
    let ts = |s: &str| row(&t, s, "ts_ratio")["value"].parse::<f64>().unwrap();
    // Quantities from each plate's own curve: 8/2 and 4/2 (Cq written to 4 decimals).
    assert!((ts("CB-01") - 4.0).abs() < 2e-3, "{}", ts("CB-01"));
    assert!((ts("CB-02") - 2.0).abs() < 2e-3, "{}", ts("CB-02"));
    // The outlier replicate is dropped and named; the amplified NTC of the single-copy plate
    // flags every ratio that uses that plate.
    let r = row(&t, "CB-01", "ts_ratio");
    assert_eq!(r["qc_status"], "warn");
    assert!(r["qc_note"].contains("dropped"), "{}", r["qc_note"]);
    assert!(
        r["qc_note"].contains("NTC amplified (lowest Cq 33.10)"),
        "{}",
        r["qc_note"]
    );
    assert_eq!(r["n_used"], "5");
    let plates = Table::read(&d.join("cb.qpcr_plates.tsv"));
    let e: f64 = row(&plates, "scg.csv", "efficiency_HEX")["value"]
        .parse()
        .unwrap();
    assert!((e - 0.95).abs() < 1e-3, "{e}");
    assert_eq!(
        row(&plates, "scg.csv", "ntc_amplified_HEX")["qc_status"],
        "warn"
    );
    assert_eq!(row(&plates, "tel.csv", "ntc_amplified_FAM")["value"], "0");
    // Into the cohort tables, the dyads and the report with `merge` and `report`.
    let sheet = d.join("sheet.csv");
    fs::write(
        &sheet,
        "sample_id,participant_id,family_id,role,sample_type,timepoint,age_years,gestational_age_weeks,sex\n\
         CB-01,P1,F1,child,cord_blood,birth,0,39,\nCB-02,P2,F1,mother,maternal_blood,delivery,31,,\n",
    )
    .unwrap();
    let m = d.join("merged");
    agemark([
        "merge",
        d.join("cb.qpcr.tsv").to_str().unwrap(),
        "--samplesheet",
        sheet.to_str().unwrap(),
        "-o",
        m.join("cohort").to_str().unwrap(),
    ])
    .assert_ok();
    let dyads = fs::read_to_string(m.join("cohort.dyads.tsv")).unwrap();
    assert!(
        dyads
            .lines()
            .any(|l| l.contains("\ttelomere_qpcr\tts_ratio\t")),
        "{dyads}"
    );
    agemark([
        "report",
        m.to_str().unwrap(),
        "-o",
        m.join("report.html").to_str().unwrap(),
    ])
    .assert_ok();
    let html = fs::read_to_string(m.join("report.html")).unwrap();
    assert!(html.contains("data-plot=\"telomere_qpcr:ts_ratio\""));
    // Bad input: a role for a target no well has, and no single-copy role.
    let bad = agemark([
        "qpcr",
        d.join("tel.csv").to_str().unwrap(),
        "--role",
        "TEL=telomere",
        "--role",
        "FAM=single_copy",
        "-o",
        d.join("x").to_str().unwrap(),
    ]);
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr
            .contains("no well has target (or fluorophore) TEL"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_plate_map_names_the_wells_of_an_export_without_sample_names() {
    let dir = tempdir();
    let d = dir.path();
    let s = -1.0 / 2f64.log10();
    // SYNTHETIC: the unknowns' sample names blanked, as some exports leave them.
    let blank = |p: String| -> String {
        p.lines()
            .map(|l| {
                let mut c: Vec<&str> = l.split(',').collect();
                if c.len() > 5 && c[4].starts_with("Unkn") {
                    c[5] = "";
                }
                c.join(",") + "\n"
            })
            .collect()
    };
    fs::write(
        d.join("t.csv"),
        blank(cfx_plate("FAM", s, 15.0, &[("X", 8.0)], "NaN", false)),
    )
    .unwrap();
    fs::write(
        d.join("s.csv"),
        blank(cfx_plate("HEX", s, 20.0, &[("X", 2.0)], "NaN", false)),
    )
    .unwrap();
    let args = |map: Option<&str>| {
        let mut a = vec![
            "qpcr".to_string(),
            d.join("t.csv").display().to_string(),
            d.join("s.csv").display().to_string(),
            "--role".into(),
            "FAM=telomere".into(),
            "--role".into(),
            "HEX=single_copy".into(),
            "-o".into(),
            d.join("m").display().to_string(),
        ];
        if let Some(m) = map {
            a.extend(["--plate-map".to_string(), m.to_string()]);
        }
        a
    };
    let r = agemark(args(None));
    assert_ne!(r.code, Some(0));
    assert!(r.stderr.contains("--plate-map"), "{}", r.stderr);
    // Unknowns are wells 16-18 (after 15 standards): B04, B05, B06.
    let map = d.join("map.csv");
    fs::write(&map, "well,sample\nB4,CORD-7\nB05,CORD-7\nB06,CORD-7\n").unwrap();
    agemark(args(Some(map.to_str().unwrap()))).assert_ok();
    let t = Table::read(&d.join("m.qpcr.tsv"));
    let ts: f64 = row(&t, "CORD-7", "ts_ratio")["value"].parse().unwrap();
    assert!((ts - 4.0).abs() < 2e-3, "{ts}");
}

/// Reads the wells table.
fn wells(path: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    Table::read(path).rows
}

#[test]
fn rdml_from_three_instruments_is_read_with_its_wells_curves_and_exclusions() {
    let dir = tempdir();
    let d = dir.path();
    // ABI StepOne RDML 1.0: the standard curve's efficiency equals the one StepOne Software
    // wrote into the file (amplificationEfficiency 93.91181 %).
    let out = d.join("s1");
    agemark([
        "qpcr",
        repo("tests/data/qpcr/stepone_std.rdml").to_str().unwrap(),
        "--role",
        "RNase P=single_copy",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let plates = Table::read(&d.join("s1.qpcr_plates.tsv"));
    let e: f64 = row(&plates, "stepone_std.rdml", "efficiency_RNase P")["value"]
        .parse()
        .unwrap();
    assert!((100.0 * e - 93.91181).abs() < 0.005, "{e}");
    let w = wells(&d.join("s1.qpcr_wells.tsv"));
    assert_eq!(w.len(), 24);
    let a1 = &w[0];
    assert_eq!((a1["well"].as_str(), a1["content"].as_str()), ("A1", "ntc"));
    assert_eq!(w.iter().filter(|r| r["status"] == "standard").count(), 15);
    // Roche LightCycler 96 RDML 1.1: numeric react ids named by the 8 × 12 pcrFormat, GUID
    // sample ids shown by their description, standards without quantities flagged.
    let out = d.join("lc");
    agemark([
        "qpcr",
        repo("tests/data/qpcr/lc96_bACTXY.rdml").to_str().unwrap(),
        "--role",
        "FAM@bACT=single_copy",
        "--role",
        "Hex@X=telomere",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let w = wells(&d.join("lc.qpcr_wells.tsv"));
    assert_eq!(w.len(), 96 * 4);
    assert!(w.iter().any(|r| r["well"] == "H12"));
    assert!(
        w.iter().any(|r| r["sample"] == "Sample 53"),
        "GUIDs named by description"
    );
    let plates = Table::read(&d.join("lc.qpcr_plates.tsv"));
    let r = row(&plates, "lc96_bACTXY.rdml", "standard_curve_FAM@bACT");
    assert_eq!(r["qc_status"], "fail");
    assert!(
        r["qc_note"].contains("10 standard well(s), 0 with a quantity"),
        "{}",
        r["qc_note"]
    );
    // Bio-Rad CFX RDML 1.1 (an archive starting with a spanning marker): two runs, two plates.
    let out = d.join("br");
    agemark([
        "qpcr",
        repo("tests/data/qpcr/BioRad_qPCR_melt.rdml")
            .to_str()
            .unwrap(),
        "--role",
        "EvaGreen=single_copy",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let w = wells(&d.join("br.qpcr_wells.tsv"));
    assert_eq!(w.len(), 60);
    let first = &w[0];
    assert_eq!(
        first["plate"],
        "BioRad_qPCR_melt.rdml:All Wells/Amp Step 3_FAM"
    );
    assert_eq!(first["cq"], "27.7514537682101");
}

#[test]
fn abi_sds_exports_with_two_plates_and_undetermined_cts_are_read() {
    let dir = tempdir();
    let out = dir.path().join("sds");
    agemark([
        "qpcr",
        repo("tests/data/qpcr/sds21_rq_example.txt")
            .to_str()
            .unwrap(),
        "--role",
        "Gapdh-Rn99999916_s1=single_copy",
        "--role",
        "Il6-Rn00561420_m1=telomere",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let w = wells(&dir.path().join("sds.qpcr_wells.tsv"));
    // Two TaqMan cards of 384 wells in one file; the section after the table is not wells.
    assert_eq!(w.len(), 768);
    let plates: std::collections::BTreeSet<&str> = w.iter().map(|r| r["plate"].as_str()).collect();
    assert_eq!(plates.len(), 2, "{plates:?}");
    let undetermined = w.iter().filter(|r| r["cq"].is_empty()).count();
    assert_eq!(undetermined, 99, "the file's Undetermined Cts");
    // Every Cq read equals the file's `Ct` cell of that well and card.
    let text = std::fs::read_to_string(repo("tests/data/qpcr/sds21_rq_example.txt")).unwrap();
    let mut checked = 0;
    for line in text.lines().skip(13).take(768) {
        let c: Vec<&str> = line.trim_end_matches('\r').split('\t').collect();
        if c.len() != 26 {
            continue;
        }
        let plate = format!("sds21_rq_example.txt:{}", c[25]);
        let got = w
            .iter()
            .find(|r| r["plate"] == plate && r["well"] == c[0] && r["target"] == c[3])
            .unwrap_or_else(|| panic!("{plate} {}", c[0]));
        if c[5] == "Undetermined" {
            assert_eq!(got["cq"], "");
        } else {
            assert_eq!(
                got["cq"].parse::<f64>().unwrap(),
                c[5].parse::<f64>().unwrap()
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 768);
}

#[test]
fn exports_that_hold_no_cq_are_refused_with_what_to_export() {
    let dir = tempdir();
    let d = dir.path();
    let r = agemark([
        "qpcr",
        repo("tests/data/qpcr/lc480_raw_head.txt").to_str().unwrap(),
        "--role",
        "x=single_copy",
        "-o",
        d.join("x").to_str().unwrap(),
    ]);
    assert_ne!(r.code, Some(0));
    assert!(
        r.stderr.contains("lc480_raw_head.txt") && r.stderr.contains("Cp"),
        "{}",
        r.stderr
    );
    // A truncated RDML archive: one line naming the file.
    let bytes = fs::read(repo("tests/data/qpcr/stepone_std.rdml")).unwrap();
    fs::write(d.join("cut.rdml"), &bytes[..bytes.len() / 2]).unwrap();
    let r = agemark([
        "qpcr",
        d.join("cut.rdml").to_str().unwrap(),
        "--role",
        "x=single_copy",
        "-o",
        d.join("x").to_str().unwrap(),
    ]);
    assert_ne!(r.code, Some(0));
    assert!(
        r.stderr.contains("cut.rdml") && r.stderr.contains("ZIP"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
}

/// A SYNTHETIC plain-table plate: standards (quantities 1000..0.1, duplicates) for each target
/// on a perfect 100 % curve whose intercept is shifted by `shift` cycles (a plate effect),
/// and unknowns at given quantities (duplicates).
fn plain_plate(targets: &[(&str, f64)], unknowns: &[(&str, &str, f64)], shift: f64) -> String {
    let slope = -1.0 / 2f64.log10();
    let mut s = String::from("well\tsample\ttarget\tcq\tcontent\tquantity\n");
    let mut w = 0;
    let mut well = || {
        w += 1;
        format!(
            "{}{}",
            (b'A' + ((w - 1) / 24) as u8) as char,
            (w - 1) % 24 + 1
        )
    };
    for (t, intercept) in targets {
        for q in [1000.0, 100.0, 10.0, 1.0, 0.1] {
            for _ in 0..2 {
                let cq: f64 = slope * f64::log10(q) + intercept + shift;
                s.push_str(&format!("{}\tstd\t{t}\t{cq:.6}\tstandard\t{q}\n", well()));
            }
        }
    }
    for (name, t, q) in unknowns {
        let intercept = targets.iter().find(|x| x.0 == *t).unwrap().1;
        for _ in 0..2 {
            let cq: f64 = slope * f64::log10(*q) + intercept;
            s.push_str(&format!("{}\t{name}\t{t}\t{cq:.6}\tunknown\t\n", well()));
        }
    }
    s
}

#[test]
fn absolute_length_with_telomere_standards_in_kb_does_not_warn() {
    let dir = tempdir();
    let d = dir.path();
    // SYNTHETIC: the telomere standards' quantities written in kb (1 … 0.0001, a thousandth of
    // the single-copy series' copies), so CB-1's 40 units of telomere read as 0.04 kb.
    let plate = plain_plate(
        &[("TEL", 14.0), ("36B4", 20.0)],
        &[("CB-1", "TEL", 40.0), ("CB-1", "36B4", 2.0)],
        0.0,
    );
    let plate: String = plate
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            if f[2] == "TEL" && f[4] == "standard" {
                let q: f64 = f[5].parse().unwrap();
                format!("{}\t{}\n", f[..5].join("\t"), q / 1000.0)
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    fs::write(d.join("kb.tsv"), plate).unwrap();
    let out = d.join("kb");
    agemark([
        "qpcr",
        d.join("kb.tsv").to_str().unwrap(),
        "--role",
        "TEL=telomere",
        "--role",
        "36B4=single_copy",
        "--absolute",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let t = Table::read(&d.join("kb.qpcr.tsv"));
    let abs = row(&t, "CB-1", "telomere_length_kb");
    let kb: f64 = abs["value"].parse().unwrap();
    assert!((kb - 0.04).abs() < 1e-6, "{kb}");
    assert_eq!(abs["qc_status"], "pass", "{}", abs["qc_note"]);
}

#[test]
fn inter_run_calibration_icc_absolute_length_and_a_config_file() {
    let dir = tempdir();
    let d = dir.path();
    // SYNTHETIC: two runs of the same samples. On run 2 the standards amplify 1 cycle later
    // (a mis-diluted standard series), so its curve reads every unknown at twice its quantity
    // for telomere and single-copy alike; the pooled DNA (POOL) on both runs reveals it.
    let targets = [("TEL", 14.0), ("36B4", 20.0)];
    let samples = |extra: f64| -> Vec<(String, &'static str, f64)> {
        let mut v = Vec::new();
        for (name, t, s) in [
            ("CB-1", 40.0, 2.0),
            ("CB-2", 30.0, 2.0),
            ("CB-3", 50.0, 2.5),
            ("POOL", 36.0, 2.0),
        ] {
            v.push((name.to_string(), "TEL", t * extra));
            v.push((name.to_string(), "36B4", s));
        }
        v
    };
    let run = |shift: f64, extra: f64| {
        let u = samples(extra);
        let u: Vec<(&str, &str, f64)> = u.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
        plain_plate(&targets, &u, shift)
    };
    fs::write(d.join("run1.tsv"), run(0.0, 1.0)).unwrap();
    // Run 2 measures CB-3's telomere 10 % higher (measurement noise for the ICC).
    let r2 = run(1.0, 1.0).replace(
        &format!(
            "\tCB-3\tTEL\t{:.6}",
            -1.0 / 2f64.log10() * 50f64.log10() + 14.0
        ),
        &format!(
            "\tCB-3\tTEL\t{:.6}",
            -1.0 / 2f64.log10() * 55f64.log10() + 14.0
        ),
    );
    fs::write(d.join("run2.tsv"), r2).unwrap();
    fs::write(
        d.join("ts.conf"),
        "# SYNTHETIC test config\nplate = run1.tsv\nplate = run2.tsv\nrole = TEL=telomere\nrole = 36B4=single_copy\ninter_run_calibrator = POOL\nabsolute = true\n",
    )
    .unwrap();
    let out = d.join("ts");
    agemark([
        "qpcr",
        "--config",
        d.join("ts.conf").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let t = Table::read(&d.join("ts.qpcr.tsv"));
    let v = |s: &str, m: &str| row(&t, s, m)["value"].parse::<f64>().unwrap();
    // Calibrated, both runs agree: T/S = 40/2 for CB-1 exactly; absolute = 2 × T/S (telomere
    // standards in kb per reaction, single-copy standards in copies: 2 copies per genome).
    assert!(
        (v("CB-1", "ts_ratio") - 20.0).abs() < 1e-4,
        "{}",
        v("CB-1", "ts_ratio")
    );
    assert!((v("CB-1", "telomere_length_kb") - 40.0).abs() < 1e-3);
    // Both series here carry the same quantities (1000 … 0.1), which absolute length reads as
    // kb per reaction for one and gene copies for the other: the row warns.
    let abs = row(&t, "CB-1", "telomere_length_kb");
    assert_eq!(abs["qc_status"], "warn");
    assert!(
        abs["qc_note"].contains("same quantities on plate(s) run1.tsv,run2.tsv"),
        "{}",
        abs["qc_note"]
    );
    assert!(row(&t, "CB-1", "ts_ratio")["method"].contains("irc_factor="));
    let p = Table::read(&d.join("ts.qpcr_plates.tsv"));
    let f = |plate: &str| {
        row(&p, plate, "irc_factor_TEL")["value"]
            .parse::<f64>()
            .unwrap()
    };
    // Run 2 reads every quantity at 2×: factors 1/√2 and √2 around their geometric mean.
    assert!(
        (f("run2.tsv") / f("run1.tsv") - 2.0).abs() < 1e-4,
        "{} {}",
        f("run1.tsv"),
        f("run2.tsv")
    );
    // The pool's inter-plate CV before calibration: quantities 36 and 72 → SD/mean = 0.4714.
    let cv: f64 = row(&p, "POOL", "interplate_cv_TEL")["value"]
        .parse()
        .unwrap();
    assert!((cv - (2f64.sqrt() * 18.0 / 54.0)).abs() < 1e-3, "{cv}");
    // ICC of the per-plate T/S across the two runs: every sample agrees except CB-3.
    let icc = row(&p, "all_samples", "icc_ts_ratio");
    let x: f64 = icc["value"].parse().unwrap();
    assert!(x > 0.9 && x < 1.0, "{x}");
    assert!(icc["method"].contains("ci95=["), "{}", icc["method"]);
    // Without the calibrator, run 2's plate effect stays and the ICC says so.
    fs::write(
        d.join("raw.conf"),
        "plate = run1.tsv\nplate = run2.tsv\nrole = TEL=telomere\nrole = 36B4=single_copy\n",
    )
    .unwrap();
    agemark([
        "qpcr",
        "--config",
        d.join("raw.conf").to_str().unwrap(),
        "-o",
        d.join("raw").to_str().unwrap(),
    ])
    .assert_ok();
    let p = Table::read(&d.join("raw.qpcr_plates.tsv"));
    let raw: f64 = row(&p, "all_samples", "icc_log10_quantity_telomere")["value"]
        .parse()
        .unwrap();
    let p2 = Table::read(&d.join("ts.qpcr_plates.tsv"));
    let cal: f64 = row(&p2, "all_samples", "icc_log10_quantity_telomere")["value"]
        .parse()
        .unwrap();
    assert!(cal > raw, "calibrated {cal} vs raw {raw}");
    // MT/S: an mtDNA gene (ND1) on the same SYNTHETIC plates, by the same arithmetic.
    let mt_targets = [("ND1", 12.0), ("36B4", 20.0)];
    let mt_u = [
        ("CB-1", "ND1", 400.0),
        ("CB-1", "36B4", 2.0),
        ("CB-2", "ND1", 300.0),
        ("CB-2", "36B4", 1.5),
    ];
    fs::write(d.join("mt.tsv"), plain_plate(&mt_targets, &mt_u, 0.0)).unwrap();
    agemark([
        "qpcr",
        d.join("mt.tsv").to_str().unwrap(),
        "--role",
        "ND1=mtdna",
        "--role",
        "36B4=single_copy",
        "-o",
        d.join("mt").to_str().unwrap(),
    ])
    .assert_ok();
    let t = Table::read(&d.join("mt.qpcr.tsv"));
    let r = row(&t, "CB-2", "mt_s_ratio");
    assert_eq!(r["assay"], "mtdna_qpcr");
    assert!(
        (r["value"].parse::<f64>().unwrap() - 200.0).abs() < 1e-3,
        "{r:?}"
    );
    // A bad config line names the file, the line and the key.
    fs::write(
        d.join("bad.conf"),
        "plate = run1.tsv\nroles = TEL=telomere\n",
    )
    .unwrap();
    let r = agemark([
        "qpcr",
        "--config",
        d.join("bad.conf").to_str().unwrap(),
        "-o",
        d.join("b").to_str().unwrap(),
    ]);
    assert_ne!(r.code, Some(0));
    assert!(
        r.stderr.contains("bad.conf") && r.stderr.contains("roles"),
        "{}",
        r.stderr
    );
}

#[test]
fn quantstudio_and_lightcycler_480_results_text_are_read() {
    // SYNTHETIC, in the layouts of QuantStudio "Results" text ([Results] section after a
    // header block, Well Position, Omit, CT) and LightCycler 480 Abs Quant (Pos, Name, Cp,
    // Standard, Include).
    let dir = tempdir();
    let d = dir.path();
    let qs = "* Block Type = 96-Well Block (0.2mL)\n* Experiment Name = TL\n\n[Results]\nWell\tWell Position\tOmit\tSample Name\tTarget Name\tTask\tReporter\tQuencher\tCT\tCt Mean\tQuantity\n\
1\tA1\tfalse\tS1\tTEL\tUNKNOWN\tSYBR\tNone\t15.1\t15.1\t\n\
2\tA2\ttrue\tS1\tTEL\tUNKNOWN\tSYBR\tNone\t18.0\t15.1\t\n\
3\tA3\tfalse\tS1\t36B4\tUNKNOWN\tSYBR\tNone\t21.0\t21.0\t\n\
4\tA4\tfalse\t\tTEL\tNTC\tSYBR\tNone\tUndetermined\t\t\n\n[Amplification Data]\nWell\tCycle\tTarget Name\tRn\n1\t1\tTEL\t0.1\n";
    fs::write(d.join("qs.txt"), qs).unwrap();
    agemark([
        "qpcr",
        d.join("qs.txt").to_str().unwrap(),
        "--role",
        "TEL=telomere",
        "--role",
        "36B4=single_copy",
        "--calibrator",
        "S1",
        "-o",
        d.join("qs").to_str().unwrap(),
    ])
    .assert_ok();
    let w = wells(&d.join("qs.qpcr_wells.tsv"));
    assert_eq!(w.len(), 4, "the [Amplification Data] section is not wells");
    assert_eq!(w[1]["status"], "excluded");
    assert_eq!(w[3]["content"], "ntc");
    let t = Table::read(&d.join("qs.qpcr.tsv"));
    assert!(row(&t, "S1", "cq_mean_telomere")["qc_note"].contains("1 replicate(s) excluded"));
    let lc = "Experiment: TL run 3\nInclude\tColor\tPos\tName\tCp\tConcentration\tStandard\tStatus\n\
True\t255\tA1\tStd 1\t12.00\t\t100\t\nTrue\t255\tA2\tStd 2\t15.32\t\t10\t\nTrue\t255\tA3\tStd 3\t18.64\t\t1\t\n\
True\t255\tA4\tCB-9\t14.00\t\t\t\nFalse\t255\tA5\tCB-9\t19.00\t\t\t\n";
    fs::write(d.join("lc.txt"), lc).unwrap();
    // No target column: one target per file, named by the file's stem.
    agemark([
        "qpcr",
        d.join("lc.txt").to_str().unwrap(),
        "--role",
        "lc=single_copy",
        "-o",
        d.join("lc").to_str().unwrap(),
    ])
    .assert_ok();
    let p = Table::read(&d.join("lc.qpcr_plates.tsv"));
    let slope: f64 = row(&p, "lc.txt", "slope_lc")["value"].parse().unwrap();
    assert!((slope + 3.32).abs() < 1e-9, "{slope}");
    let t = Table::read(&d.join("lc.qpcr.tsv"));
    let r = row(&t, "CB-9", "cq_mean_single_copy");
    assert_eq!(r["value"], "14");
    assert!(r["qc_note"].contains("excluded"), "{}", r["qc_note"]);
}

#[test]
fn agemark_run_takes_qpcr_plates_into_the_cohort_tables_dyads_and_report() {
    let dir = tempdir();
    let d = dir.path();
    // SYNTHETIC plates (two runs, a pool on both) and a two-sample sheet; X-9 is on the plates
    // but not in the sheet.
    let targets = [("TEL", 14.0), ("36B4", 20.0)];
    let u = [
        ("CB-1", "TEL", 40.0),
        ("CB-1", "36B4", 2.0),
        ("M-1", "TEL", 30.0),
        ("M-1", "36B4", 2.0),
        ("POOL", "TEL", 36.0),
        ("POOL", "36B4", 2.0),
        ("X-9", "TEL", 20.0),
        ("X-9", "36B4", 2.0),
    ];
    fs::write(d.join("p1.tsv"), plain_plate(&targets, &u, 0.0)).unwrap();
    fs::write(d.join("p2.tsv"), plain_plate(&targets, &u, 1.0)).unwrap();
    fs::write(
        d.join("q.conf"),
        "plate = p1.tsv\nplate = p2.tsv\nrole = TEL=telomere\nrole = 36B4=single_copy\ninter_run_calibrator = POOL\n",
    )
    .unwrap();
    fs::write(
        d.join("sheet.csv"),
        "sample_id,participant_id,family_id,role,sample_type,timepoint,age_years,gestational_age_weeks,sex\n\
         CB-1,P1,F1,child,cord_blood,birth,0,39,\nM-1,P2,F1,mother,maternal_blood,delivery,31,,\n",
    )
    .unwrap();
    let out = d.join("out");
    let run = || {
        agemark([
            "run",
            "--samplesheet",
            d.join("sheet.csv").to_str().unwrap(),
            "--qpcr",
            d.join("q.conf").to_str().unwrap(),
            "--outdir",
            out.to_str().unwrap(),
        ])
    };
    let r = run();
    r.assert_ok();
    assert!(
        r.stderr.contains("not sample ids of the sheet") && r.stderr.contains("X-9"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("has no inputs"), "{}", r.stderr);
    let long = Table::read(&out.join("cohort.long.tsv"));
    let ts = |s: &str| -> f64 {
        long.rows
            .iter()
            .find(|r| r["sample_id"] == s && r["measure"] == "ts_ratio")
            .unwrap()["value"]
            .parse()
            .unwrap()
    };
    assert!((ts("CB-1") - 20.0).abs() < 1e-3 && (ts("M-1") - 15.0).abs() < 1e-3);
    assert!(long
        .rows
        .iter()
        .all(|r| r["sample_id"] != "POOL" && r["sample_id"] != "X-9"));
    // Dyads pair the ratio, not the mean Cq behind it.
    let dyads = fs::read_to_string(out.join("cohort.dyads.tsv")).unwrap();
    assert!(dyads.contains("\ttelomere_qpcr\tts_ratio\t"), "{dyads}");
    assert!(!dyads.contains("cq_mean"), "{dyads}");
    // The report's plate section: each plate's wells and standard curves.
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    for p in [
        "qpcr:plate:p1.tsv",
        "qpcr:curve:p1.tsv",
        "qpcr:plate:p2.tsv",
    ] {
        assert!(html.contains(&format!("data-plot=\"{p}\"")), "{p}");
    }
    assert!(html.contains("icc_log10_quantity_telomere"));
    // `agemark report` on the run's directory draws the same section.
    agemark([
        "report",
        out.to_str().unwrap(),
        "-o",
        d.join("r.html").to_str().unwrap(),
    ])
    .assert_ok();
    assert!(fs::read_to_string(d.join("r.html"))
        .unwrap()
        .contains("qpcr:plate:p2.tsv"));
    // Unchanged plates: the job is skipped on a second run.
    let r = run();
    r.assert_ok();
    assert!(
        r.stderr
            .contains("qpcr: unchanged since the last run, skipped"),
        "{}",
        r.stderr
    );
    // The qpcr stage without a config is a sheet error, before anything runs.
    let r = agemark([
        "run",
        "--samplesheet",
        d.join("sheet.csv").to_str().unwrap(),
        "--stages",
        "qpcr",
        "--outdir",
        d.join("o2").to_str().unwrap(),
    ]);
    assert_ne!(r.code, Some(0));
    assert!(r.stderr.contains("--qpcr FILE"), "{}", r.stderr);
}

#[test]
fn same_named_plates_stay_apart_and_contradictory_options_are_refused() {
    let dir = tempdir();
    let d = dir.path();
    // SYNTHETIC: two runs exported under the same file name into per-run folders.
    let targets = [("TEL", 14.0), ("36B4", 20.0)];
    let u = [
        ("CB-1", "TEL", 40.0),
        ("CB-1", "36B4", 2.0),
        ("POOL", "TEL", 36.0),
        ("POOL", "36B4", 2.0),
    ];
    for (run, shift) in [("run1", 0.0), ("run2", 1.0)] {
        fs::create_dir_all(d.join(run)).unwrap();
        fs::write(
            d.join(run).join("plate.tsv"),
            plain_plate(&targets, &u, shift),
        )
        .unwrap();
    }
    let p1 = d.join("run1/plate.tsv");
    let p2 = d.join("run2/plate.tsv");
    let (p1, p2) = (p1.to_str().unwrap(), p2.to_str().unwrap());
    let out = d.join("o");
    let base = |extra: &[&str]| {
        let mut a: Vec<String> = [
            "qpcr",
            p1,
            p2,
            "--role",
            "TEL=telomere",
            "--role",
            "36B4=single_copy",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend(["-o".to_string(), out.display().to_string()]);
        a
    };
    agemark(base(&["--inter-run-calibrator", "POOL"])).assert_ok();
    let p = Table::read(&d.join("o.qpcr_plates.tsv"));
    let f = |plate: &str| -> f64 { row(&p, plate, "irc_factor_TEL")["value"].parse().unwrap() };
    assert!(
        (f(p2) / f(p1) - 2.0).abs() < 1e-4,
        "two plates, each its own curve and factor"
    );
    for (extra, why) in [
        (vec!["--role", "TEL=single_copy"], "one role per target"),
        (vec!["--max-sd=-1"], "max_sd"),
        (vec!["--efficiency", "TELX=0.9"], "no well has target"),
    ] {
        let r = agemark(base(&extra));
        assert_eq!(r.code, Some(2), "{extra:?}");
        assert!(r.stderr.contains(why), "{extra:?}: {}", r.stderr);
    }
    let r = agemark([
        "qpcr",
        p1,
        p1,
        "--role",
        "TEL=telomere",
        "--role",
        "36B4=single_copy",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(r.stderr.contains("given twice"), "{}", r.stderr);
    // Zero or negative Cq values are no Cq, never a value.
    let zero = plain_plate(&targets, &u, 0.0).replacen("\tCB-1\tTEL\t", "\tCB-1\tTEL\t-", 1);
    fs::write(d.join("z.tsv"), zero).unwrap();
    agemark([
        "qpcr",
        d.join("z.tsv").to_str().unwrap(),
        "--role",
        "TEL=telomere",
        "--role",
        "36B4=single_copy",
        "-o",
        d.join("z").to_str().unwrap(),
    ])
    .assert_ok();
    let w = wells(&d.join("z.qpcr_wells.tsv"));
    assert!(w
        .iter()
        .any(|r| r["sample"] == "CB-1" && r["target"] == "TEL" && r["status"] == "no_cq"));
    // A sample far beyond the standards (0.001 against 1000..0.1) warns: extrapolated.
    let far = [("FAR", "TEL", 0.001), ("FAR", "36B4", 2.0)];
    fs::write(d.join("far.tsv"), plain_plate(&targets, &far, 0.0)).unwrap();
    let far_tsv = d.join("far.tsv");
    let far_out = d.join("far");
    let args = |o: &str| {
        vec![
            "qpcr".to_string(),
            far_tsv.display().to_string(),
            "--role".into(),
            "TEL=telomere".into(),
            "--role".into(),
            "36B4=single_copy".into(),
            "-o".into(),
            o.to_string(),
        ]
    };
    agemark(args(far_out.to_str().unwrap())).assert_ok();
    let t = Table::read(&d.join("far.qpcr.tsv"));
    let r = row(&t, "FAR", "ts_ratio");
    assert_eq!(r["qc_status"], "warn");
    assert!(
        r["qc_note"].contains("outside the standards' Cq range"),
        "{}",
        r["qc_note"]
    );
    // `-o -` is refused: three tables need a prefix.
    let r = agemark(args("-"));
    assert!(r.stderr.contains("give a prefix"), "{}", r.stderr);
}
