//! `agemark clocks` and `agemark reference list` end to end: tiny matrices written inside each
//! test with expectations computed by hand from the published coefficients, the layouts and
//! formats the reader accepts, imputation and refusal, age acceleration, every bad input the
//! issue lists, a DunedinPACE reference implementation written from CLOCKS.md (independent
//! of `pipeline/methylation/models/dunedinpace.rs`) on the real GSE55763 matrix, and the Knight
//! clock on real cord-blood betas.

use std::{
    collections::BTreeMap,
    fs,
    io::{Read, Write},
    path::Path,
};

use crate::common::{
    agemark, list_tree, repo, sample_row as row, stage_stdout, tempdir, write_file as write, Table,
};

/// `agemark clocks ARGS -o - -q`, parsed.
fn clocks(args: &[&str]) -> Table {
    stage_stdout("clocks", args)
}

fn value(t: &Table, sample: &str, measure: &str) -> f64 {
    let r = row(t, sample, measure);
    r["value"].parse().unwrap_or_else(|_| {
        panic!(
            "{sample} {measure}: value {:?} ({})",
            r["value"], r["qc_note"]
        )
    })
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

const WEIDNER: &str = "ID_REF,S1,S2\n\
    cg02228185,0.5,0.25\n\
    cg25809905,0.4,0.1\n\
    cg17861230,0.3,0.2\n\
    cg99999999,0.9,0.9\n";

#[test]
fn weidner_by_hand_in_every_layout_and_format() {
    let dir = tempdir();
    let s1 = 38.0 + (-26.4 * 0.5 + -23.7 * 0.4 + 164.7 * 0.3);
    let s2 = 38.0 + (-26.4 * 0.25 + -23.7 * 0.1 + 164.7 * 0.2);
    let plain = write(dir.path(), "w.csv", WEIDNER);
    // Transposed, TSV, R write.csv quoting, gzip, EPICv2 replicate names.
    let cols = write(
        dir.path(),
        "w_cols.tsv",
        "sample\tcg02228185\tcg25809905\tcg17861230\tcg99999999\nS1\t0.5\t0.4\t0.3\t0.9\nS2\t0.25\t0.1\t0.2\t0.9\n",
    );
    let quoted = write(
        dir.path(),
        "w_q.csv",
        "\"\",\"S1\",\"S2\"\n\"cg02228185\",0.5,0.25\n\"cg25809905\",0.4,0.1\n\"cg17861230\",0.3,0.2\r\n",
    );
    let gz = dir.path().join("w.csv.gz");
    {
        let f = fs::File::create(&gz).unwrap();
        let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        e.write_all(WEIDNER.as_bytes()).unwrap();
        e.finish().unwrap();
    }
    let epic = write(
        dir.path(),
        "w_epic.csv",
        "id,S1,S2\ncg02228185_TC21,0.4,0.25\ncg25809905_BC11,0.4,0.1\ncg17861230_TC11,0.3,0.2\ncg02228185_TC22,0.6,NA\n",
    );
    for path in [
        plain.as_str(),
        cols.as_str(),
        quoted.as_str(),
        gz.to_str().unwrap(),
        epic.as_str(),
    ] {
        let t = clocks(&[path, "--clocks", "weidner2014"]);
        assert!(close(value(&t, "S1", "weidner2014"), s1, 1e-12), "{path}");
        assert!(close(value(&t, "S2", "weidner2014"), s2, 1e-12), "{path}");
        let r = row(&t, "S1", "weidner2014");
        assert_eq!(r["qc_status"], "pass", "{path}: {}", r["qc_note"]);
        assert_eq!(r["n_used"], "3");
        assert_eq!(r["unit"], "years");
        assert_eq!(r["assay"], "clocks");
        assert_eq!(r["method"], "linear;impute=reference_means;max_missing=0.2");
    }
    // Standard input.
    let run = crate::common::agemark_stdin(
        ["clocks", "-", "--clocks", "weidner2014", "-o", "-", "-q"],
        WEIDNER.as_bytes(),
    );
    run.assert_ok();
    let t = Table::parse(&run.stdout_text());
    assert!(close(value(&t, "S2", "weidner2014"), s2, 1e-12));
    assert_eq!(row(&t, "S2", "weidner2014")["input"], "stdin");
    let t = clocks(&[&epic, "--clocks", "weidner2014"]);
    assert!(row(&t, "S1", "weidner2014")["qc_note"].contains("EPICv2 probe names: suffixes removed from 4 probes; 1 requested CpGs are the mean of their replicate probes"));
    // The layout can be forced; forcing the wrong one finds no CpGs and says so.
    let wrong = agemark([
        "clocks",
        &plain,
        "--cpgs-as",
        "columns",
        "--clocks",
        "weidner2014",
        "-o",
        "-",
    ]);
    assert_eq!(wrong.code, Some(1));
    assert!(
        wrong
            .stderr
            .contains("none of the CpGs of weidner2014 (3 CpGs)"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn user_models_transforms_units_and_zhang_standardisation() {
    let dir = tempdir();
    let models = dir.path().join("models");
    fs::create_dir(&models).unwrap();
    write(
        &models,
        "toy.csv",
        "cpg_id,coefficient\n(Intercept),0.5\ncgA,1.0\ncgB,-2.0\n",
    );
    write(
        &models,
        "toyd.csv",
        "cpg_id,coefficient\n(Intercept),280\ncgA,-14\n",
    );
    write(
        &models,
        "toyz.csv",
        "cpg_id,coefficient\n(Intercept),10\ncgA,2\ncgC,-1\n",
    );
    write(
        &models,
        "clocks.tsv",
        "clock\tfile\ttransform\ntoy_horvath\ttoy.csv\tanti_trafo20\n",
    );
    // An index without a required column is an error naming the file.
    let m = models.display().to_string();
    let betas = write(
        dir.path(),
        "b.csv",
        "id,S1,S2,S3\ncgA,0.2,0.9,0.4\ncgB,0.6,0.1,0.8\ncgC,0.5,0.4,NA\ncgD,0.7,0.3,0.1\n",
    );
    let bad = agemark(["clocks", &betas, "--models-dir", &m, "-o", "-"]);
    assert_eq!(bad.code, Some(1));
    assert!(
        bad.stderr
            .contains("clocks.tsv: row 1: no 'model_unit' column"),
        "{}",
        bad.stderr
    );
    write(
        &models,
        "clocks.tsv",
        "clock\tfile\ttransform\tmodel_unit\n\
         toy_horvath\ttoy.csv\tanti_trafo20\tyears\n\
         toy_ga_days\ttoyd.csv\tidentity\tgestational_days\n\
         toy_zhang\ttoyz.csv\tper_sample_standardize\tyears\n",
    );
    let t = clocks(&[
        &betas,
        "--models-dir",
        &m,
        "--clocks",
        "toy_horvath,toy_ga_days,toy_zhang",
        "--max-missing",
        "0.5",
    ]);
    // Horvath anti-transform: lin < 0 → 21·exp(lin) − 1; lin ≥ 0 → 21·lin + 20.
    let lin1: f64 = 0.5 + (1.0 * 0.2 + -2.0 * 0.6);
    assert!(close(
        value(&t, "S1", "toy_horvath"),
        21.0 * lin1.exp() - 1.0,
        1e-12
    ));
    let lin2 = 0.5 + (1.0 * 0.9 + -2.0 * 0.1);
    assert!(close(
        value(&t, "S2", "toy_horvath"),
        21.0 * lin2 + 20.0,
        1e-12
    ));
    // Days → weeks.
    let r = row(&t, "S1", "toy_ga_days");
    assert_eq!(r["unit"], "gestational_weeks");
    assert!(close(
        value(&t, "S1", "toy_ga_days"),
        (280.0 - 14.0 * 0.2) / 7.0,
        1e-12
    ));
    assert!(r["method"].ends_with(";gestational_days_to_gestational_weeks"));
    // Zhang: z-scores over ALL four rows; S3's missing cgC is first set to its row mean 0.45.
    let z = |col: [f64; 4], a: usize, c: usize| {
        let mean = col.iter().sum::<f64>() / 4.0;
        let sd = (col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        10.0 + 2.0 * (col[a] - mean) / sd - (col[c] - mean) / sd
    };
    assert!(close(
        value(&t, "S1", "toy_zhang"),
        z([0.2, 0.6, 0.5, 0.7], 0, 2),
        1e-12
    ));
    assert!(close(
        value(&t, "S3", "toy_zhang"),
        z([0.4, 0.8, 0.45, 0.1], 0, 2),
        1e-12
    ));
    let r3 = row(&t, "S3", "toy_zhang");
    assert_eq!(r3["qc_status"], "warn");
    assert!(r3["qc_note"].contains("set to the probe's mean over samples (Zhang 2019 rule)"));
    assert!(r3["method"].contains("z-scores over all 4 input rows"));
    // A user table whose sha256 does not match its index is refused.
    write(
        &models,
        "clocks.tsv",
        "clock\tfile\ttransform\tmodel_unit\tsha256\ntoy_horvath\ttoy.csv\tanti_trafo20\tyears\t00ff\n",
    );
    let bad = agemark(["clocks", &betas, "--models-dir", &m, "-o", "-"]);
    assert_eq!(bad.code, Some(5));
    assert!(
        bad.stderr.contains("toy.csv: sha256") && bad.stderr.contains("does not match clocks.tsv"),
        "{}",
        bad.stderr
    );
}

/// 12 samples over the Weidner and Zhang 2017 CpGs, values from a fixed formula.
fn cohort_matrix(
    n: usize,
    na: &[(&str, usize)],
) -> (String, Vec<String>, BTreeMap<String, Vec<f64>>) {
    let cpgs = [
        "cg02228185",
        "cg25809905",
        "cg17861230",
        "cg01612140",
        "cg05575921",
        "cg06126421",
        "cg08362785",
        "cg10321156",
        "cg14975410",
        "cg19572487",
        "cg23665802",
        "cg24704287",
        "cg25983901",
    ];
    let samples: Vec<String> = (1..=n).map(|i| format!("P{i:02}")).collect();
    let mut text = format!("cpg,{}\n", samples.join(","));
    let mut values = BTreeMap::new();
    for (k, c) in cpgs.iter().enumerate() {
        let mut row = Vec::new();
        for s in 0..n {
            let v = ((k * 7 + s * 13) % 97) as f64 / 100.0 + 0.01;
            let missing = na.iter().any(|(nc, ns)| nc == c && *ns == s);
            row.push(if missing { f64::NAN } else { v });
        }
        text.push_str(c);
        for v in &row {
            text.push(',');
            if v.is_nan() {
                text.push_str("NA");
            } else {
                text.push_str(&v.to_string());
            }
        }
        text.push('\n');
        values.insert(c.to_string(), row);
    }
    (text, samples, values)
}

#[test]
fn imputation_policies_and_refusal() {
    let dir = tempdir();
    let (text, samples, v) = cohort_matrix(12, &[("cg17861230", 0), ("cg24704287", 1)]);
    let p = write(dir.path(), "c.csv", &text);
    let s0 = &samples[0];
    let w =
        |cg17: f64| 38.0 + (-26.4 * v["cg02228185"][0] + -23.7 * v["cg25809905"][0] + 164.7 * cg17);
    // Default: 1 of 3 Weidner CpGs missing in P01 is 33% > 20%: refused, with the reason.
    let t = clocks(&[&p, "--clocks", "weidner2014"]);
    let r = row(&t, s0, "weidner2014");
    assert_eq!(r["qc_status"], "fail");
    assert_eq!(r["value"], "");
    assert!(r["qc_note"].contains("not computed: 1 of 3 CpGs (33.3%) have no measured value in this sample, more than --max-missing 0.2"), "{}", r["qc_note"]);
    // A refused row counts the CpGs the sample measured, not the imputed one (no sum was taken).
    assert_eq!(r["n_used"], "2");
    // Cohort mean (the default for 12 samples) once the threshold allows it.
    let t = clocks(&[&p, "--clocks", "weidner2014", "--max-missing", "0.5"]);
    let others: Vec<f64> = v["cg17861230"][1..].to_vec();
    let mean = others.iter().sum::<f64>() / others.len() as f64;
    assert!(close(value(&t, s0, "weidner2014"), w(mean), 1e-12));
    let r = row(&t, s0, "weidner2014");
    assert_eq!(
        (r["qc_status"].as_str(), r["n_used"].as_str()),
        ("warn", "3")
    );
    assert!(r["qc_note"].contains("1 of 3 CpGs imputed with the cohort mean"));
    assert!(r["method"].contains("impute=cohort_mean"));
    assert_eq!(row(&t, &samples[1], "weidner2014")["qc_status"], "pass");
    // None: the term is left out.
    let t = clocks(&[
        &p,
        "--clocks",
        "weidner2014",
        "--max-missing",
        "0.5",
        "--impute",
        "none",
    ]);
    assert!(close(
        value(&t, s0, "weidner2014"),
        38.0 + (-26.4 * v["cg02228185"][0] + -23.7 * v["cg25809905"][0]),
        1e-12
    ));
    assert_eq!(row(&t, s0, "weidner2014")["n_used"], "2");
    assert!(row(&t, s0, "weidner2014")["qc_note"]
        .contains("1 of 3 CpGs have no value and are left out of the sum"));
    // Reference means: cg24704287 has a gold-standard mean (0.40263547463598909).
    let t = clocks(&[
        &p,
        "--clocks",
        "zhang2017_mortality",
        "--impute",
        "reference",
    ]);
    let coefs = [
        ("cg01612140", -0.38253),
        ("cg05575921", -0.92224),
        ("cg06126421", -1.70129),
        ("cg08362785", 2.71749),
        ("cg10321156", -0.02073),
        ("cg14975410", -0.04156),
        ("cg19572487", -0.28069),
        ("cg23665802", -0.8944),
        ("cg24704287", -2.98637),
        ("cg25983901", -1.80325),
    ];
    let expect: f64 = coefs
        .iter()
        .map(|(c, w)| {
            w * if *c == "cg24704287" {
                0.402_635_474_635_989_1
            } else {
                v[*c][1]
            }
        })
        .sum();
    assert!(close(
        value(&t, &samples[1], "zhang2017_mortality"),
        expect,
        1e-12
    ));
    let r = row(&t, &samples[1], "zhang2017_mortality");
    assert!(
        r["qc_note"].contains("1 of 10 CpGs imputed with the bundled reference means"),
        "{}",
        r["qc_note"]
    );
    assert_eq!(r["unit"], "score");
}

#[test]
fn age_acceleration_from_a_sample_sheet() {
    let dir = tempdir();
    let (text, samples, _) = cohort_matrix(12, &[]);
    let p = write(dir.path(), "c.csv", &text);
    let ages: Vec<f64> = (0..12).map(|i| 20.0 + 3.5 * i as f64).collect();
    let mut sheet = String::from("sample_id,age_years,other\n");
    for (s, a) in samples.iter().zip(&ages) {
        sheet.push_str(&format!("{s},{a},x\n"));
    }
    let sp = write(dir.path(), "sheet.csv", &sheet);
    let t = clocks(&[
        &p,
        "--clocks",
        "weidner2014,zhang2017_mortality",
        "--samplesheet",
        &sp,
    ]);
    let y: Vec<f64> = samples
        .iter()
        .map(|s| value(&t, s, "weidner2014"))
        .collect();
    // Slope and intercept by the textbook sums.
    let n = 12.0;
    let (sx, sy) = (ages.iter().sum::<f64>(), y.iter().sum::<f64>());
    let sxy: f64 = ages.iter().zip(&y).map(|(a, b)| a * b).sum();
    let sxx: f64 = ages.iter().map(|a| a * a).sum();
    let b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    let a = (sy - b * sx) / n;
    for (i, s) in samples.iter().enumerate() {
        assert!(close(
            value(&t, s, "weidner2014_diff"),
            y[i] - ages[i],
            1e-12
        ));
        assert!(close(
            value(&t, s, "weidner2014_residual"),
            y[i] - (a + b * ages[i]),
            1e-9
        ));
        assert_eq!(row(&t, s, "weidner2014_residual")["n_used"], "12");
    }
    assert!(row(&t, &samples[0], "weidner2014_residual")["method"]
        .starts_with("ols_residual(dnam~age_years;n=12;"));
    // No acceleration for a score.
    assert!(!t
        .rows
        .iter()
        .any(|r| r["measure"].starts_with("zhang2017_mortality_")));
    // Rows per sample: the clock, then its diff and residual.
    let first: Vec<&str> = t
        .rows
        .iter()
        .take(4)
        .map(|r| r["measure"].as_str())
        .collect();
    assert_eq!(
        first,
        [
            "weidner2014",
            "weidner2014_diff",
            "weidner2014_residual",
            "zhang2017_mortality"
        ]
    );

    // Fewer than 10 samples: diffs, but residuals fail with the minimum stated.
    let (text, samples, _) = cohort_matrix(5, &[]);
    let p5 = write(dir.path(), "c5.csv", &text);
    let sheet5: String = std::iter::once("sample_id\tage_years".to_string())
        .chain(samples.iter().enumerate().map(|(i, s)| {
            format!(
                "{s}\t{}",
                if i == 2 {
                    "NA".to_string()
                } else {
                    (30 + i).to_string()
                }
            )
        }))
        .collect::<Vec<_>>()
        .join("\n");
    let sp5 = write(dir.path(), "s5.tsv", &sheet5);
    let t = clocks(&[&p5, "--clocks", "weidner2014", "--samplesheet", &sp5]);
    let r = row(&t, &samples[0], "weidner2014_residual");
    assert_eq!(r["qc_status"], "fail");
    assert!(r["qc_note"].contains("residuals need at least 10 samples with both a clock value and an age; the cohort has 4"), "{}", r["qc_note"]);
    assert_eq!(
        row(&t, &samples[2], "weidner2014_diff")["qc_note"],
        "not computed: no age_years for this sample in s5.tsv"
    );
    assert!(close(
        value(&t, &samples[0], "weidner2014_diff"),
        value(&t, &samples[0], "weidner2014") - 30.0,
        1e-12
    ));
}

#[test]
fn bad_inputs_fail_with_file_row_and_column_and_leave_no_output() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let prefix = out.join("cohort").display().to_string();
    let sheet_ok = write(dir.path(), "ok.csv", "sample_id,age_years\nS1,40\nS2,50\n");
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        ("dup_samples.csv", "id,S1,S1\ncg02228185,0.1,0.2\n".into(), vec![], "dup_samples.csv: row 1: column S1: duplicate sample name: columns 2 and 3"),
        ("dup_rows.csv", "id,S1,S2\ncg02228185,0.1,0.2\ncg25809905,0.1,0.2\ncg02228185,0.1,0.2\n".into(), vec![], "dup_rows.csv: row 4: duplicate CpG row 'cg02228185' (first at row 2)"),
        ("text.csv", format!("{}cg17861230_TC11,0.1,abc\n", WEIDNER), vec![], "text.csv: row 6: column S2: not a number: 'abc'"),
        ("mvalues.csv", "id,S1,S2\ncg02228185,-2.31,1.7\n".into(), vec![], "mvalues.csv: row 2: column S1: -2.31 is outside [0, 1], so these are not beta values: they look like M-values"),
        ("percent.csv", "id,S1,S2\ncg02228185,68.93,0.2\n".into(), vec![], "percent.csv: row 2: column S1: 68.93 is outside [0, 1], so these are not beta values: they look like percentages (0-100: divide the matrix by 100)"),
        ("percent_as_m.csv", "id,S1,S2\ncg02228185,3.1,68.93\n".into(), vec!["--m-values"], "percent_as_m.csv: row 2: column S2: --m-values was given, but 68.93 is not an M-value"),
        ("ragged.csv", "id,S1,S2\ncg02228185,0.1\n".into(), vec![], "ragged.csv: row 2: 2 cells, but the header has 3 (a CpG id and 2 samples)"),
        ("nocpgs.csv", "id,S1,S2\ncg00000001,0.1,0.2\n".into(), vec![], "nocpgs.csv: the matrix has none of the CpGs of weidner2014 (3 CpGs)"),
        ("sheet_mismatch.csv", WEIDNER.into(), vec!["--samplesheet", "SHEET_BAD"], "bad_sheet.csv: row 3: column sample_id: 'S9' is not a sample of sheet_mismatch.csv"),
        ("sheet_missing.csv", "id,S1,S2,S3\ncg02228185,0.1,0.2,0.3\n".into(), vec!["--samplesheet", "SHEET_OK"], "ok.csv: column sample_id: has no row for sample 'S3' of sheet_missing.csv"),
        ("empty.csv", "".into(), vec![], "empty.csv: empty file: no header line"),
    ];
    let sheet_bad = write(
        dir.path(),
        "bad_sheet.csv",
        "sample_id,age_years\nS1,40\nS9,50\nS2,1\n",
    );
    for (name, text, extra, want) in cases {
        let p = write(dir.path(), name, &text);
        let mut args = vec![
            "clocks".to_string(),
            p.clone(),
            "--clocks".into(),
            "weidner2014".into(),
            "-o".into(),
            prefix.clone(),
        ];
        for e in extra {
            args.push(match e {
                "SHEET_BAD" => sheet_bad.clone(),
                "SHEET_OK" => sheet_ok.clone(),
                e => e.to_string(),
            });
        }
        let run = agemark(&args);
        assert!(
            matches!(run.code, Some(1) | Some(4)),
            "{name}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(want),
            "{name}: want {want:?}\ngot {}",
            run.stderr
        );
        assert!(run.stderr.starts_with("agemark: error: "), "{}", run.stderr);
        assert!(
            list_tree(&out).is_empty(),
            "{name}: output left behind: {:?}",
            list_tree(&out)
        );
    }
    // M-values are converted on request.
    let p = write(
        dir.path(),
        "m.csv",
        "id,S1\ncg02228185,0\ncg25809905,1\ncg17861230,-1\n",
    );
    let t = clocks(&[&p, "--clocks", "weidner2014", "--m-values"]);
    let expect = 38.0 + (-26.4 * 0.5 + -23.7 * (2.0 / 3.0) + 164.7 * (0.5 / 1.5));
    assert!(close(value(&t, "S1", "weidner2014"), expect, 1e-12));
    assert!(row(&t, "S1", "weidner2014")["qc_note"].contains("converted to beta"));
    // With --clocks all, a clock with none of its CpGs fails its rows but the run succeeds.
    let t = clocks(&[&write(dir.path(), "w.csv", WEIDNER)]);
    let r = row(&t, "S1", "hannum2013");
    assert_eq!(r["qc_status"], "fail");
    assert!(
        r["qc_note"].contains("71 of 71 CpGs absent from the input"),
        "{}",
        r["qc_note"]
    );
    assert_eq!(t.distinct("measure").len(), 20);
    // Unknown clock, bad threshold: usage errors.
    let run = agemark(["clocks", &p, "--clocks", "horvath", "-o", "-"]);
    assert_eq!(run.code, Some(2));
    assert!(run
        .stderr
        .contains("unknown clock 'horvath'; available: horvath2013, hannum2013"));
    let run = agemark(["clocks", &p, "--max-missing", "2", "-o", "-"]);
    assert_eq!(run.code, Some(2));
    // A negative fraction meets the range check, not clap's "unexpected argument '-0'".
    let run = agemark(["clocks", &p, "--max-missing", "-0.1", "-o", "-"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("--max-missing must be a fraction between 0 and 1, not -0.1"),
        "{}",
        run.stderr
    );
}

#[test]
fn writes_tsv_and_parquet_under_the_prefix() {
    let dir = tempdir();
    let p = write(dir.path(), "w.csv", WEIDNER);
    let prefix = dir.path().join("out/cohort").display().to_string();
    agemark([
        "clocks",
        &p,
        "-o",
        &prefix,
        "--clocks",
        "weidner2014,horvath2013",
        "-q",
    ])
    .assert_ok();
    let t = Table::read(&dir.path().join("out/cohort.clocks.tsv"));
    assert_eq!(t.rows.len(), 4);
    assert_eq!(t.rows[0]["input"], "w.csv");
    assert_eq!(t.rows[0]["reference_build"], "illumina_probe_ids");
    let pq = fs::read(dir.path().join("out/cohort.clocks.parquet")).unwrap();
    assert!(pq.starts_with(b"PAR1") && pq.ends_with(b"PAR1"));
}

#[test]
fn reference_list_prints_every_table_with_checksums_and_use_terms() {
    let run = agemark(["reference", "list"]);
    run.assert_ok();
    let t = Table::parse(&run.stdout_text());
    // Cell-type panels and the NR3C1 probe table are checked in tests/celltypes_cli.rs.
    let clock_rows = t
        .rows
        .iter()
        .filter(|r| r["kind"] == "clock" || r["kind"] == "reference");
    assert_eq!(clock_rows.clone().count(), 22);
    let manifest = fs::read_to_string(repo("reference/clocks/MANIFEST.sha256")).unwrap();
    for r in clock_rows {
        assert!(
            manifest.contains(&format!("{}  {}", r["sha256"], r["file"])),
            "{}",
            r["name"]
        );
        assert!(!r["licence"].is_empty() && !r["unit"].is_empty() && !r["citation"].is_empty());
    }
    let terms = |n: &str| t.rows.iter().find(|r| r["name"] == n).unwrap()["use_terms"].clone();
    assert!(terms("dunedinpace2022").contains("research use only"));
    for n in ["phenoage2018", "horvath_skinblood2018", "lu2019_dnamtl"] {
        assert!(terms(n).contains("commercial use needs a licence"), "{n}");
    }
    assert_eq!(terms("horvath2013"), "none stated");
    // Where each clock applies (reference/clocks/applicability.tsv).
    let applies = |n: &str| t.rows.iter().find(|r| r["name"] == n).unwrap()["applies_to"].clone();
    assert_eq!(
        applies("knight2016_ga"),
        "cord_blood; 22-44 gestational weeks"
    );
    assert_eq!(applies("lee2019_rpc"), "placenta; 5-44 gestational weeks");
    assert_eq!(
        applies("hannum2013"),
        "maternal_blood,whole_blood; 19-101 years"
    );
    assert_eq!(applies("pedbe2019"), "buccal; 0-20 years");
    let blup = t
        .rows
        .iter()
        .find(|r| r["name"] == "zhang2019_blup")
        .unwrap();
    assert_eq!(blup["n_cpgs"], "319607");
    let bohlin = t
        .rows
        .iter()
        .find(|r| r["name"] == "bohlin2016_ga")
        .unwrap();
    assert_eq!(bohlin["unit"], "gestational_weeks");
}

// ---------------------------------------------------------------------------------------------
// DunedinPACE: an independent reference implementation of CLOCKS.md, checked to 1e-8.

fn read_gz(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn two_col(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .skip(1)
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.to_string(), b.parse().unwrap())
        })
        .collect()
}

/// CLOCKS.md steps 1–6, written plainly: rows as a map, one sample at a time.
fn pace_reference(rows: &BTreeMap<String, Vec<f64>>, n: usize) -> Vec<Option<f64>> {
    let gold = two_col(&read_gz(&repo(
        "reference/clocks/dunedinpace2022_gold_standard_means.csv.gz",
    )));
    let model_means: BTreeMap<String, f64> = two_col(
        &fs::read_to_string(repo("reference/clocks/dunedinpace2022_model_means.csv")).unwrap(),
    )
    .into_iter()
    .collect();
    let coefs = two_col(&fs::read_to_string(repo("reference/clocks/dunedinpace2022.csv")).unwrap());
    let (intercept, model) = (coefs[0].1, &coefs[1..]);
    // 1.
    let frac = |ids: &mut dyn Iterator<Item = &String>, total: usize| {
        ids.filter(|c| rows.contains_key(*c)).count() as f64 / total as f64
    };
    if frac(&mut model.iter().map(|(c, _)| c), model.len()) < 0.8
        || frac(&mut gold.iter().map(|(c, _)| c), gold.len()) < 0.8
    {
        return vec![None; n];
    }
    // 2.
    let mut mat: Vec<Vec<f64>> = gold
        .iter()
        .map(|(c, m)| rows.get(c).cloned().unwrap_or_else(|| vec![*m; n]))
        .collect();
    // 3.
    let keep: Vec<usize> = (0..n)
        .filter(|&s| {
            let na = mat.iter().filter(|r| r[s].is_nan()).count();
            1.0 - na as f64 / mat.len() as f64 >= 0.8
        })
        .collect();
    // 4.
    for (p, r) in mat.iter_mut().enumerate() {
        let vals: Vec<f64> = keep.iter().map(|&s| r[s]).collect();
        let present = vals.iter().filter(|v| !v.is_nan()).count();
        let pct = present as f64 / keep.len() as f64;
        if (0.8..1.0).contains(&pct) {
            let mean = vals.iter().filter(|v| !v.is_nan()).sum::<f64>() / present as f64;
            for &s in &keep {
                if r[s].is_nan() {
                    r[s] = mean;
                }
            }
        } else if pct < 0.8 {
            let m = model_means.get(&gold[p].0).copied().unwrap_or(f64::NAN);
            for &s in &keep {
                r[s] = m;
            }
        }
    }
    // 5. Target: sorted gold means.
    let mut target: Vec<f64> = gold.iter().map(|g| g.1).collect();
    target.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let t = target.len();
    let mut out = vec![None; n];
    for &s in &keep {
        let col: Vec<f64> = mat.iter().map(|r| r[s]).collect();
        let mut idx: Vec<usize> = (0..col.len()).filter(|&i| !col[i].is_nan()).collect();
        idx.sort_by(|&a, &b| col[a].partial_cmp(&col[b]).unwrap());
        let k = idx.len();
        // Average ranks of ties.
        let mut rank = vec![0.0; col.len()];
        let mut i = 0;
        while i < k {
            let mut j = i;
            while j + 1 < k && col[idx[j + 1]] == col[idx[i]] {
                j += 1;
            }
            for q in i..=j {
                rank[idx[q]] = (i + 1 + j + 1) as f64 / 2.0;
            }
            i = j + 1;
        }
        let norm = |p: usize| -> f64 {
            let r = rank[p];
            if k == t {
                let f = r.floor() as usize;
                if r - r.floor() > 0.4 {
                    (target[f - 1] + target[f]) / 2.0
                } else {
                    target[f - 1]
                }
            } else {
                let x = 1.0 + (t as f64 - 1.0) * (r - 1.0) / (k as f64 - 1.0);
                let lo = (x + 4.0 * f64::EPSILON).floor();
                let mut d = x - lo;
                if d.abs() <= 4.0 * f64::EPSILON {
                    d = 0.0;
                }
                let lo = lo as usize;
                if d == 0.0 {
                    target[lo - 1]
                } else if lo >= t {
                    target[t - 1]
                } else {
                    (1.0 - d) * target[lo - 1] + d * target[lo]
                }
            }
        };
        // 6.
        let mut score = intercept;
        for (c, w) in model {
            let p = gold.iter().position(|g| &g.0 == c).unwrap();
            score += w * norm(p);
        }
        out[s] = Some(score);
    }
    out
}

fn read_matrix(path: &Path) -> (Vec<String>, BTreeMap<String, Vec<f64>>) {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let samples: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(1)
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| {
            let mut it = l.split(',');
            let id = it.next().unwrap().to_string();
            (id, it.map(|v| v.parse().unwrap_or(f64::NAN)).collect())
        })
        .collect();
    (samples, rows)
}

fn write_matrix(path: &Path, samples: &[String], rows: &BTreeMap<String, Vec<f64>>) -> String {
    let mut s = format!("cpg_id,{}\n", samples.join(","));
    for (c, v) in rows {
        s.push_str(c);
        for x in v {
            s.push(',');
            if !x.is_nan() {
                s.push_str(&x.to_string());
            }
        }
        s.push('\n');
    }
    fs::write(path, s).unwrap();
    path.display().to_string()
}

#[test]
fn dunedinpace_equals_the_reference_algorithm_on_real_and_edited_matrices() {
    let dir = tempdir();
    let real = repo("tests/data/array/gse55763_blood_5x20000_betas.csv");
    let (samples, rows) = read_matrix(&real);
    let mut variants: Vec<(&str, BTreeMap<String, Vec<f64>>)> = vec![("real", rows.clone())];
    // 300 gold probes absent (3 of them model probes).
    let coefs = two_col(&fs::read_to_string(repo("reference/clocks/dunedinpace2022.csv")).unwrap());
    let mut absent = rows.clone();
    for c in coefs[1..4]
        .iter()
        .map(|c| c.0.clone())
        .chain(rows.keys().step_by(67).take(297).cloned())
    {
        absent.remove(&c);
    }
    variants.push(("absent", absent));
    // A model probe missing in 2 of 5 samples (→ training mean), one in 1 of 5 (→ cohort mean),
    // and a sample with more than 20% missing (→ not computed).
    let mut holes = rows.clone();
    holes.get_mut(&coefs[5].0).unwrap()[0] = f64::NAN;
    holes.get_mut(&coefs[5].0).unwrap()[3] = f64::NAN;
    holes.get_mut(&coefs[6].0).unwrap()[2] = f64::NAN;
    for (i, v) in holes.values_mut().enumerate() {
        if i % 4 == 0 {
            v[4] = f64::NAN;
        }
    }
    variants.push(("holes", holes));
    for (name, m) in &variants {
        let p = write_matrix(&dir.path().join(format!("{name}.csv")), &samples, m);
        let t = clocks(&[&p, "--clocks", "dunedinpace2022"]);
        let want = pace_reference(m, samples.len());
        for (s, w) in samples.iter().zip(&want) {
            let r = row(&t, s, "dunedinpace2022");
            match w {
                Some(w) => {
                    let got = value(&t, s, "dunedinpace2022");
                    assert!((got - w).abs() < 1e-8, "{name} {s}: {got} vs reference {w}");
                    assert!((0.5..1.8).contains(&got), "{name} {s}: {got}");
                }
                None => assert_eq!(r["qc_status"], "fail", "{name} {s}"),
            }
        }
    }
    assert!(pace_reference(&variants[2].1, 5)[4].is_none());
    // The real matrix, whole: plausible adult paces.
    let t = clocks(&[real.to_str().unwrap(), "--clocks", "dunedinpace2022"]);
    for s in &samples {
        let v = value(&t, s, "dunedinpace2022");
        assert!((0.8..1.5).contains(&v), "{s}: {v}");
    }
}

#[test]
fn knight_clock_on_real_cord_blood_matches_clinical_gestational_age() {
    let betas = repo("tests/data/array/progress_cordblood_knight148_betas.csv");
    let pheno = fs::read_to_string(repo("tests/data/array/progress_cordblood_pheno.csv")).unwrap();
    let dir = tempdir();
    // The pheno file as a sample sheet: EGA_weeks → gestational_age_weeks.
    let sheet = pheno.replacen("EGA_weeks", "gestational_age_weeks", 1);
    let sp = write(dir.path(), "sheet.csv", &sheet);
    let t = clocks(&[
        betas.to_str().unwrap(),
        "--clocks",
        "knight2016_ga",
        "--samplesheet",
        &sp,
    ]);
    let mut pairs = Vec::new();
    for line in pheno.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let ga: f64 = f[2].parse().unwrap();
        let v = value(&t, f[0], "knight2016_ga");
        assert_eq!(row(&t, f[0], "knight2016_ga")["qc_status"], "pass");
        assert!(close(value(&t, f[0], "knight2016_ga_diff"), v - ga, 1e-12));
        pairs.push((v, ga));
    }
    assert_eq!(pairs.len(), 150);
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let cov: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let vx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let vy: f64 = pairs.iter().map(|p| (p.1 - my).powi(2)).sum();
    let r = cov / (vx * vy).sqrt();
    let mut ae: Vec<f64> = pairs.iter().map(|p| (p.0 - p.1).abs()).collect();
    ae.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mae = (ae[74] + ae[75]) / 2.0;
    eprintln!("Knight on PROGRESS cord blood: r = {r:.4}, median absolute error = {mae:.4} weeks, mean {mx:.2} vs {my:.2}");
    // The independent evaluator measured r = 0.63 and 1.07 weeks (shared/data/cordblood/
    // PROVENANCE.md); agemark gives r = 0.628 and 1.059 weeks, the same as a plain Python sum
    // over the same files (the evaluator's median differs in the second decimal).
    assert!((r - 0.63).abs() < 0.005, "r = {r}");
    assert!((mae - 1.07).abs() < 0.015, "median absolute error = {mae}");
    assert!(
        (mae - 1.0591166078945733).abs() < 1e-9,
        "median absolute error = {mae}"
    );
    assert!((mx - 37.92).abs() < 0.005, "mean = {mx}");
}
