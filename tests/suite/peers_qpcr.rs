//! `agemark qpcr` against its peers (issue 15), on the real RDML files and User Bulletin #2 Cq
//! values in tests/data/qpcr, with the script tests/peers/qpcr_peers.py:
//!
//! * rdmlpython 1.7.2 reads the same RDML files: every reaction's Cq is the same (exactly: both
//!   parse the same decimal text), every well and target the same, no-Cq the same.
//! * rdmlpython's LinRegPCR fits each reaction's amplification curve (a different estimator
//!   from the standard curve): its mean PCR efficiency is within 10 percentage points of our
//!   standard-curve efficiency, and its N0 ratio of the two unknowns within 10 % of ours.
//! * The PyPI `qpcr` package's ΔΔCt (first replicate anchored, mean of per-replicate ratios)
//!   gives kidney/brain within 1 % of our ratio of mean quantities.
//!
//! Ignored by default: `.ci/run` installs both into pinned venvs (rdmlpython needs numpy < 2,
//! so each has its own).

use std::{collections::BTreeMap, path::PathBuf, process::Command};

use crate::common::{agemark, repo, tempdir, Table};

fn venv_python(var: &str, venv: &str, what: &str) -> PathBuf {
    if let Ok(p) = std::env::var(var) {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let p = PathBuf::from(home).join(format!(".cache/agemark-peers/{venv}/bin/python"));
    assert!(
        p.exists(),
        "{what} not found at {}: run .ci/run (pip into that venv) or set {var}",
        p.display()
    );
    p
}

fn peer(python: &PathBuf, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg(repo("tests/peers/qpcr_peers.py"))
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn well_of(id: &str, cols: &str) -> String {
    match (id.parse::<usize>(), cols.parse::<usize>()) {
        (Ok(k), Ok(c)) if k >= 1 && c >= 1 => {
            format!(
                "{}{}",
                (b'A' + ((k - 1) / c) as u8) as char,
                (k - 1) % c + 1
            )
        }
        _ => id.to_string(),
    }
}

#[test]
#[ignore = "needs rdmlpython 1.7.2 (pip, own venv): run by .ci/run"]
fn rdmlpython_reads_the_same_cq_from_every_rdml_file() {
    let py = venv_python("AGEMARK_RDML_PYTHON", "rdml-venv", "rdmlpython");
    let dir = tempdir();
    let mut compared = 0;
    for (file, role) in [
        ("stepone_std.rdml", "RNase P=single_copy"),
        ("BioRad_qPCR_melt.rdml", "EvaGreen=single_copy"),
        ("lc96_bACTXY.rdml", "FAM@bACT=single_copy"),
    ] {
        let path = repo(&format!("tests/data/qpcr/{file}"));
        let out = dir.path().join(file);
        agemark([
            "qpcr",
            path.to_str().unwrap(),
            "--role",
            role,
            "-o",
            out.to_str().unwrap(),
        ])
        .assert_ok();
        let ours = Table::read(&dir.path().join(format!("{file}.qpcr_wells.tsv")));
        let mut by: BTreeMap<(String, String, String), &BTreeMap<String, String>> = BTreeMap::new();
        for r in &ours.rows {
            // Our plate is FILE or FILE:EXPERIMENT/RUN; the peer prints the path or EXP/RUN.
            let run = r["plate"].split_once(':').map_or("", |x| x.1).to_string();
            by.insert((run, r["well"].clone(), r["target"].clone()), r);
        }
        let text = peer(&py, &["rdml", path.to_str().unwrap()]);
        let mut n = 0;
        for line in text.lines() {
            let c: Vec<&str> = line.split('\t').collect();
            let run = if c[0].ends_with(".rdml") {
                String::new()
            } else {
                c[0].to_string()
            };
            let key = (run, well_of(c[1], c[2]), c[3].to_string());
            let o = by
                .get(&key)
                .unwrap_or_else(|| panic!("{file}: no well {key:?} in ours"));
            let theirs: Option<f64> = c[4].parse::<f64>().ok().filter(|x| *x >= 0.0);
            let mine: Option<f64> = o["cq"].parse::<f64>().ok();
            assert_eq!(mine, theirs, "{file} {key:?}");
            n += 1;
        }
        assert_eq!(n, ours.rows.len(), "{file}: every reaction compared");
        compared += n;
    }
    assert_eq!(compared, 24 + 60 + 384);
}

#[test]
#[ignore = "needs rdmlpython 1.7.2 (pip, own venv): run by .ci/run"]
fn linregpcr_efficiency_and_quantities_are_near_the_standard_curve() {
    let py = venv_python("AGEMARK_RDML_PYTHON", "rdml-venv", "rdmlpython");
    let dir = tempdir();
    let path = repo("tests/data/qpcr/stepone_std.rdml");
    let out = dir.path().join("s1");
    agemark([
        "qpcr",
        path.to_str().unwrap(),
        "--role",
        "RNase P=single_copy",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let plates = Table::read(&dir.path().join("s1.qpcr_plates.tsv"));
    let get = |m: &str| -> f64 {
        plates.rows.iter().find(|r| r["measure"] == m).unwrap()["value"]
            .parse()
            .unwrap()
    };
    let (slope, eff) = (get("slope_RNase P"), get("efficiency_RNase P"));
    let wells = Table::read(&dir.path().join("s1.qpcr_wells.tsv"));
    let sample_of: BTreeMap<&str, &str> = wells
        .rows
        .iter()
        .map(|r| (r["well"].as_str(), r["sample"].as_str()))
        .collect();
    let text = peer(&py, &["linreg", path.to_str().unwrap()]);
    let mut n0: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut e_lr = f64::NAN;
    for line in text.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        e_lr = c[2].parse::<f64>().unwrap() - 1.0;
        if let Ok(x) = c[3].parse::<f64>() {
            if x.is_finite() {
                n0.entry(sample_of[c[0]]).or_default().push(x);
            }
        }
    }
    let mean = |s: &str| n0[s].iter().sum::<f64>() / n0[s].len() as f64;
    let lr_ratio = mean("pop1_RNase P") / mean("pop2_RNase P");
    let t = Table::read(&dir.path().join("s1.qpcr.tsv"));
    let cq = |s: &str| -> f64 {
        t.rows
            .iter()
            .find(|r| r["sample_id"] == s && r["measure"] == "cq_mean_single_copy")
            .unwrap()["value"]
            .parse()
            .unwrap()
    };
    let ours = 10f64.powf((cq("pop1_RNase P") - cq("pop2_RNase P")) / slope);
    eprintln!(
        "efficiency: standard curve {:.4}, LinRegPCR {e_lr:.4}; pop1/pop2: ours {ours:.4}, LinRegPCR {lr_ratio:.4}",
        eff
    );
    assert!((eff - e_lr).abs() < 0.10, "{eff} vs {e_lr}");
    assert!((ours / lr_ratio - 1.0).abs() < 0.10, "{ours} vs {lr_ratio}");
}

#[test]
#[ignore = "needs the PyPI qpcr package 4.1.4 (pip, own venv): run by .ci/run"]
fn the_qpcr_package_gives_the_same_fold_change_on_user_bulletin_2() {
    let py = venv_python("AGEMARK_QPCR_PYTHON", "qpcr-venv", "the qpcr package");
    let dir = tempdir();
    let data = repo("tests/data/qpcr/ub2_separate_tubes.tsv");
    let out = dir.path().join("ub2");
    agemark([
        "qpcr",
        data.to_str().unwrap(),
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
    let ours: f64 = t
        .rows
        .iter()
        .find(|r| r["sample_id"] == "kidney" && r["measure"] == "ts_ratio")
        .unwrap()["value"]
        .parse()
        .unwrap();
    let text = peer(&py, &["ddct", data.to_str().unwrap()]);
    let g: BTreeMap<&str, f64> = text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a, b.parse().unwrap()))
        .collect();
    let theirs = g["kidney"] / g["brain"];
    eprintln!("kidney/brain: ours {ours:.4}, qpcr package {theirs:.4}");
    assert!((ours / theirs - 1.0).abs() < 0.01, "{ours} vs {theirs}");
}
