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
    agemark([
        "qpcr",
        d.join("tel.csv").to_str().unwrap(),
        d.join("scg.csv").to_str().unwrap(),
        "--role",
        "FAM=telomere",
        "--role",
        "HEX=single_copy",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
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
