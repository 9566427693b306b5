//! `agemark scores` (issue 20): every bundled exposure score against its own formula evaluated
//! here from the ORIGINAL published tables (tests/data/exposure), on SYNTHETIC betas made here
//! (labelled) and on the real adult bloods of GSE42861, where the Elliott smoking score must
//! rank the current smoker highest.

use std::{collections::BTreeMap, fs};

use crate::common::{agemark, repo, tempdir, Table};

/// An intercept and (cpg, coefficient) rows.
type Linear = (f64, Vec<(String, f64)>);

/// (cpg, coefficient) rows and the intercept of a two-column table with an optional
/// `(Intercept)` row.
fn table(file: &str, id: usize, coef: usize) -> Linear {
    let text = fs::read_to_string(repo(&format!("tests/data/exposure/{file}"))).unwrap();
    let mut icpt = 0.0;
    let mut rows = Vec::new();
    for line in text.lines().skip(1) {
        let c: Vec<String> = line
            .split(',')
            .map(|x| x.trim_matches('"').to_string())
            .collect();
        let v: f64 = c[coef].parse().unwrap();
        if c[id] == "(Intercept)" || c[id] == "Intercept" {
            icpt = v;
        } else {
            rows.push((c[id].clone(), v));
        }
    }
    (icpt, rows)
}

/// EpiSmokEr's SSc rule on the Illig table: Σ weights · (β − ref if effect ≥ 0 else ref − β),
/// over the CpGs the sample has.
fn elliott(betas: &BTreeMap<String, f64>) -> f64 {
    let text = fs::read_to_string(repo(
        "tests/data/exposure/elliott2014_smoking_score_187cpg_epismoker_Illig_data.tsv",
    ))
    .unwrap();
    let mut s = 0.0;
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').map(|x| x.trim_matches('"')).collect();
        let (cpg, r, eff, w) = (
            c[1],
            c[4].parse::<f64>().unwrap(),
            c[7].parse::<f64>().unwrap(),
            c[9].parse::<f64>().unwrap(),
        );
        if let Some(b) = betas.get(cpg) {
            s += w * if eff >= 0.0 { b - r } else { r - b };
        }
    }
    s
}

fn linear(t: &Linear, betas: &BTreeMap<String, f64>) -> f64 {
    t.0 + t.1.iter().map(|(c, w)| w * betas[c]).sum::<f64>()
}

#[test]
fn every_score_equals_its_own_formula_on_synthetic_betas() {
    // SYNTHETIC betas for every CpG of every score (3 samples; a fixed LCG, made here).
    let scores: Vec<(&str, Linear)> = vec![
        (
            "reese2017_maternal_smoking",
            table("reese2017_newborn_maternal_smoking_28cpg.csv", 0, 1),
        ),
        (
            "rauschert2020_prenatal_smoking",
            table("rauschert2020_dnasmoker_450k_204cpg.csv", 0, 1),
        ),
        (
            "rauschert2020_prenatal_smoking_epic",
            table("rauschert2020_dnasmoker_epic_181cpg.csv", 0, 1),
        ),
        (
            "provencal2020_ges",
            table("provencal2020_GES_24cpg_weights.csv", 0, 4),
        ),
        (
            "jung2023_dnam_stress",
            table("jung2023_DNAmStress_211cpg.csv", 0, 1),
        ),
        (
            "stevenson2021_dnam_il6",
            table("stevenson2021_DNAmIL6_35cpg_methylcipherv2.csv", 0, 1),
        ),
        (
            "gadd2022_crp_episcore",
            table("gadd2022_EpiScore_CRP_omniage_rows.csv", 0, 1),
        ),
    ];
    let illig = fs::read_to_string(repo(
        "tests/data/exposure/elliott2014_smoking_score_187cpg_epismoker_Illig_data.tsv",
    ))
    .unwrap();
    let mut cpgs: std::collections::BTreeSet<String> = illig
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(1).unwrap().trim_matches('"').to_string())
        .collect();
    for (_, t) in &scores {
        cpgs.extend(t.1.iter().map(|x| x.0.clone()));
    }
    let mut state: u64 = 20;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        0.02 + 0.96 * ((state >> 11) as f64 / (1u64 << 53) as f64)
    };
    let samples = ["SYN-1", "SYN-2", "SYN-3"];
    let mut betas: Vec<BTreeMap<String, f64>> = vec![BTreeMap::new(); 3];
    let mut csv = String::from("cpg_id,SYN-1,SYN-2,SYN-3\n");
    for c in &cpgs {
        let v: Vec<f64> = (0..3).map(|_| (next() * 1e6).round() / 1e6).collect();
        csv.push_str(&format!("{c},{},{},{}\n", v[0], v[1], v[2]));
        for (k, x) in v.iter().enumerate() {
            betas[k].insert(c.clone(), *x);
        }
    }
    let dir = tempdir();
    let input = dir.path().join("synthetic_betas.csv");
    fs::write(&input, csv).unwrap();
    agemark([
        "scores",
        input.to_str().unwrap(),
        "-o",
        dir.path().join("s").to_str().unwrap(),
    ])
    .assert_ok();
    let t = Table::read(&dir.path().join("s.exposure.tsv"));
    let got = |s: &str, m: &str| -> f64 {
        let r = t
            .rows
            .iter()
            .find(|r| r["sample_id"] == s && r["measure"] == m)
            .unwrap_or_else(|| panic!("{s} {m}"));
        assert_eq!(r["assay"], "exposure");
        assert_eq!(r["unit"], "score");
        assert_eq!(r["qc_status"], "pass", "{r:?}");
        r["value"].parse().unwrap()
    };
    for (k, s) in samples.iter().enumerate() {
        for (name, tb) in &scores {
            let want = linear(tb, &betas[k]);
            assert!(
                (got(s, name) - want).abs() < 1e-9,
                "{s} {name}: {} vs {want}",
                got(s, name)
            );
        }
        let want = elliott(&betas[k]);
        assert!((got(s, "elliott2014_smoking") - want).abs() < 1e-9);
    }
}

#[test]
fn the_elliott_score_ranks_the_real_current_smoker_highest() {
    let dir = tempdir();
    let input = repo("tests/data/exposure/epismoker_gse42861_adult_blood_6x1000_betas.csv");
    agemark([
        "scores",
        input.to_str().unwrap(),
        "--scores",
        "elliott2014_smoking",
        "-o",
        dir.path().join("e").to_str().unwrap(),
    ])
    .assert_ok();
    let t = Table::read(&dir.path().join("e.exposure.tsv"));
    // Self-reported status from the sample sheet (1 current, 2 ex, 3 never); the first field
    // of each row is the sample id.
    let sheet = fs::read_to_string(repo(
        "tests/data/exposure/epismoker_gse42861_samplesheet.csv",
    ))
    .unwrap();
    let status: BTreeMap<String, String> = sheet
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_string(), c[3].to_string())
        })
        .collect();
    let mut by: Vec<(f64, String)> = t
        .rows
        .iter()
        .map(|r| (r["value"].parse::<f64>().unwrap(), r["sample_id"].clone()))
        .collect();
    by.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert_eq!(status[&by[0].1], "current", "{by:?}");
    // 185 of the 187 CpGs are in the fixture: the 2 others imputed with the score's own
    // never-smoker medians (adding 0), as the row says; the values equal EpiSmokEr's rule.
    let text = fs::read_to_string(&input).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let mut betas: Vec<BTreeMap<String, f64>> = vec![BTreeMap::new(); head.len() - 1];
    for l in lines {
        let c: Vec<&str> = l.split(',').collect();
        for (k, v) in c[1..].iter().enumerate() {
            betas[k].insert(c[0].to_string(), v.parse().unwrap());
        }
    }
    for (k, s) in head[1..].iter().enumerate() {
        let r = t.rows.iter().find(|r| &r["sample_id"] == s).unwrap();
        let v: f64 = r["value"].parse().unwrap();
        assert!((v - elliott(&betas[k])).abs() < 1e-9, "{s}: {v}");
        assert!(
            r["qc_note"].contains("2 of 187 CpGs imputed with the model's own reference betas"),
            "{}",
            r["qc_note"]
        );
    }
    // PROVENANCE's sanity check, computed when the fixture was staged: 4.50 for the smoker.
    assert_eq!(format!("{:.2}", by[0].0), "4.50");
}

#[test]
fn a_cohort_run_gives_each_sample_its_applicable_scores_and_pairs_smoking_in_dyads() {
    let dir = tempdir();
    let out = dir.path().join("demo");
    agemark(["demo", "--outdir", out.to_str().unwrap()]).assert_ok();
    let long = Table::read(&out.join("cohort/cohort.long.tsv"));
    let scores_of = |ty: &str| -> std::collections::BTreeSet<String> {
        long.rows
            .iter()
            .filter(|r| r["assay"] == "exposure" && r["sample_type"] == ty)
            .map(|r| r["measure"].clone())
            .collect()
    };
    assert_eq!(
        scores_of("cord_blood").into_iter().collect::<Vec<_>>(),
        ["provencal2020_ges", "reese2017_maternal_smoking"]
    );
    let adult = scores_of("maternal_blood");
    assert!(adult.contains("elliott2014_smoking") && !adult.contains("reese2017_maternal_smoking"));
    assert_eq!(
        scores_of("placenta").into_iter().collect::<Vec<_>>(),
        ["applicable_scores"]
    );
    let dyads = fs::read_to_string(out.join("cohort/cohort.dyads.tsv")).unwrap();
    assert!(dyads.contains(
        "\texposure\tchild:reese2017_maternal_smoking|mother:elliott2014_smoking\tscore\t"
    ));
    // Same-measure pairs of scores never cross tissues.
    assert!(!dyads.contains("\texposure\treese2017_maternal_smoking\t"));
}
