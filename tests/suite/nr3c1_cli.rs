//! `agemark nr3c1` end to end: SYNTHETIC matrices generated below over the bundled probe list
//! (values are a function of the probe's position, so every expectation is computed here from
//! `reference/nr3c1/nr3c1_probes.tsv` and the region coordinates of its PROVENANCE.md), and the
//! probe counts of the real GSE55763 and cord-blood matrices in tests/data/array.

use std::{fs, path::Path};

use crate::common::{agemark, repo, sample_row as row, stage_stdout, tempdir, Table};

/// (probe, hg19, hg38, on_450k) from the bundled table.
fn probes() -> Vec<(String, u64, u64, bool)> {
    let text = fs::read_to_string(repo("reference/nr3c1/nr3c1_probes.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (
                c[0].to_string(),
                c[2].parse().unwrap(),
                c[3].parse().unwrap(),
                c[5] == "True",
            )
        })
        .collect()
}

/// SYNTHETIC beta of a probe in sample `s`.
fn beta(hg19: u64, s: usize) -> f64 {
    ((hg19 % 997) as f64 / 997.0) * 0.8 + 0.05 * s as f64
}

const CGI: (u64, u64) = (142_782_071, 142_785_071);
const EXON1F: (u64, u64) = (142_783_000, 142_783_999);

fn matrix(dir: &Path, name: &str, keep: impl Fn(&(String, u64, u64, bool)) -> bool) -> String {
    let mut text = String::from("ID_REF,S0,S1\ncg00000029,0.5,0.5\n");
    for p in probes().iter().filter(|p| keep(p)) {
        text.push_str(&format!("{},{},{}\n", p.0, beta(p.1, 0), beta(p.1, 1)));
    }
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn nr3c1(args: &[&str]) -> Table {
    stage_stdout("nr3c1", args)
}

fn mean_in(
    range: (u64, u64),
    s: usize,
    keep: impl Fn(&(String, u64, u64, bool)) -> bool,
) -> (f64, usize, usize) {
    let all: Vec<_> = probes()
        .into_iter()
        .filter(|p| (range.0..=range.1).contains(&p.1))
        .collect();
    let kept: Vec<f64> = all
        .iter()
        .filter(|p| keep(p))
        .map(|p| beta(p.1, s))
        .collect();
    (
        kept.iter().sum::<f64>() / kept.len() as f64,
        kept.len(),
        all.len(),
    )
}

#[test]
fn every_probe_and_both_region_means_from_a_full_matrix() {
    let dir = tempdir();
    let m = matrix(dir.path(), "all.csv", |_| true);
    let t = nr3c1(&[&m]);
    // Per sample: the coverage row, 67 probes, 2 region means.
    assert_eq!(t.rows.len(), 2 * (1 + 67 + 2));
    assert_eq!(row(&t, "S0", "probes_in_input")["qc_note"], "");
    for p in probes() {
        let r = row(&t, "S1", &p.0);
        let v: f64 = r["value"].parse().unwrap();
        assert!((v - beta(p.1, 1)).abs() < 1e-12);
        assert_eq!(r["unit"], "beta");
        assert_eq!(r["assay"], "nr3c1");
        assert_eq!(r["n_used"], "1");
        assert!(r["method"].contains(&format!("hg19=chr5:{};hg38=chr5:{}", p.1, p.2)));
    }
    for (measure, range, n) in [
        ("promoter_cgi_mean", CGI, 23),
        ("exon1f_window_approx_mean", EXON1F, 10),
    ] {
        let (want, used, all) = mean_in(range, 0, |_| true);
        assert_eq!((used, all), (n, n));
        let r = row(&t, "S0", measure);
        assert!((r["value"].parse::<f64>().unwrap() - want).abs() < 1e-12);
        assert_eq!(r["n_used"], n.to_string());
        assert_eq!(r["qc_status"], "pass");
        assert_eq!(r["qc_note"], "");
    }
    let e = row(&t, "S0", "exon1f_window_approx_mean");
    assert!(e["method"].contains("approximate"), "{}", e["method"]);
    assert!(e["method"].contains("hg38=chr5:143403435-143404434"));
}

#[test]
fn a_450k_matrix_reports_the_missing_epic_probes() {
    let dir = tempdir();
    let only450 = |p: &(String, u64, u64, bool)| p.3;
    let m = matrix(dir.path(), "k450.csv", only450);
    let t = nr3c1(&[&m]);
    let epic_only = probes().into_iter().filter(|p| !p.3).count();
    let n = probes().len();
    // A probe the input lacks gets no row; the coverage row counts and names them.
    let absent = probes().into_iter().find(|p| !p.3).unwrap();
    assert!(
        !t.rows.iter().any(|r| r["measure"] == absent.0),
        "no row for an absent probe"
    );
    let r = row(&t, "S0", "probes_in_input");
    assert_eq!(r["qc_status"], "pass");
    assert_eq!(r["value"], (n - epic_only).to_string());
    assert!(
        r["qc_note"].contains(&format!(
            "{epic_only} of the {n} probes are not in the input ({epic_only} of them EPIC-only)"
        )),
        "{}",
        r["qc_note"]
    );
    let (want, used, all) = mean_in(CGI, 1, only450);
    assert_eq!((used, all), (19, 23));
    let r = row(&t, "S1", "promoter_cgi_mean");
    assert!((r["value"].parse::<f64>().unwrap() - want).abs() < 1e-12);
    assert_eq!(r["n_used"], "19");
    assert_eq!(r["qc_status"], "pass");
    assert!(r["qc_note"].contains(
        "4 of the region's 23 probes have no value in this sample; mean of the 19 present"
    ));
    let (_, used, _) = mean_in(EXON1F, 1, only450);
    assert_eq!(
        row(&t, "S1", "exon1f_window_approx_mean")["n_used"],
        used.to_string()
    );
}

#[test]
fn region_means_warn_then_fail_as_probes_go_missing() {
    let dir = tempdir();
    // Keep 5 of the 10 exon 1F probes (50 % missing: warn) and blank one more cell in S0
    // (60 % missing: above the default --max-missing 0.5, refused).
    let ex: Vec<String> = probes()
        .into_iter()
        .filter(|p| (EXON1F.0..=EXON1F.1).contains(&p.1))
        .map(|p| p.0)
        .collect();
    let dropped = ex[..5].to_vec();
    let m = matrix(dir.path(), "d.csv", |p| !dropped.contains(&p.0));
    let text: Vec<String> = fs::read_to_string(&m)
        .unwrap()
        .lines()
        .map(|l| match l.split_once(',') {
            Some((id, rest)) if id == ex[6] => {
                format!("{id},NA,{}", rest.split_once(',').unwrap().1)
            }
            _ => l.to_string(),
        })
        .collect();
    let text = text.join("\n") + "\n";
    fs::write(&m, text).unwrap();
    let t = nr3c1(&[&m]);
    let r = row(&t, "S1", "exon1f_window_approx_mean");
    assert_eq!(r["qc_status"], "warn");
    assert_eq!(r["n_used"], "5");
    let r = row(&t, "S0", "exon1f_window_approx_mean");
    assert_eq!(r["n_used"], "4");
    assert_eq!(r["qc_status"], "fail");
    assert_eq!(r["value"], "");
    assert!(
        r["qc_note"].contains(
            "6 of the region's 10 probes have no value in this sample, above --max-missing 0.5"
        ),
        "{}",
        r["qc_note"]
    );
    assert_eq!(
        row(&t, "S0", &ex[6])["qc_note"],
        "missing value in this sample"
    );
    assert!(
        !t.rows.iter().any(|r| r["measure"] == ex[0]),
        "no row for a dropped probe"
    );
    let t = nr3c1(&[&m, "--max-missing", "0.6"]);
    assert_eq!(
        row(&t, "S0", "exon1f_window_approx_mean")["qc_status"],
        "warn"
    );
}

#[test]
fn real_matrices_probe_counts_and_bad_input() {
    // GSE55763 (20,000-CpG subset, tests/data/array): 2 of the 67 NR3C1 probes.
    let g = repo("tests/data/array/gse55763_blood_5x20000_betas.csv")
        .display()
        .to_string();
    let t = nr3c1(&[&g]);
    let present: Vec<&str> = t
        .rows
        .iter()
        .filter(|r| r["measure"].starts_with("cg") && r["n_used"] == "1")
        .map(|r| r["measure"].as_str())
        .collect();
    assert_eq!(present.len(), 2 * 5, "{present:?}");
    assert_eq!(
        row(&t, "7786915023_R02C02", "promoter_cgi_mean")["qc_status"],
        "fail"
    );
    // The cord-blood matrix holds the Knight clock's CpGs only: no NR3C1 probe, an error.
    let c = repo("tests/data/array/progress_cordblood_knight148_betas.csv")
        .display()
        .to_string();
    let run = agemark(["nr3c1", &c, "-o", "-", "-q"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(
            "progress_cordblood_knight148_betas.csv: the matrix has none of the 67 NR3C1 probes"
        ),
        "{}",
        run.stderr
    );
    let dir = tempdir();
    let bad = dir.path().join("bad.csv");
    fs::write(&bad, "ID_REF,S0\ncg17342132,1.7\n").unwrap();
    let run = agemark(["nr3c1", &bad.display().to_string(), "-o", "-", "-q"]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("bad.csv"), "{}", run.stderr);
}

/// Sequencing calls (a SYNTHETIC Bismark coverage file written here: every 450K probe of the
/// promoter island at its hg19 position, plus two covered positions that are no probe): the
/// probes get their betas as from a matrix, the island mean is their mean, and every covered
/// CpG of the island is also reported by coordinate with its coverage, probe or not.
#[test]
fn sequencing_calls_report_probes_and_every_promoter_cpg_by_coordinate() {
    let dir = tempdir();
    let island: Vec<(String, u64)> = probes()
        .into_iter()
        .filter(|p| p.3 && (CGI.0..=CGI.1).contains(&p.1))
        .map(|p| (p.0, p.1))
        .collect();
    assert!(
        island.len() >= 15,
        "{} island probes on the 450K",
        island.len()
    );
    // (position, methylated, unmethylated); probes: 3 of 4 methylated.
    let mut lines: Vec<(u64, u32, u32)> = island.iter().map(|p| (p.1, 3, 1)).collect();
    let extra = [(142_782_300u64, 1u32, 3u32), (142_784_900, 2, 2)];
    for e in extra {
        assert!(
            island.iter().all(|p| p.1.abs_diff(e.0) > 2),
            "{} is a probe",
            e.0
        );
        lines.push(e);
    }
    lines.sort();
    let mut text = String::new();
    for (pos, m, u) in &lines {
        let pct = 100.0 * f64::from(*m) / f64::from(m + u);
        text.push_str(&format!("chr5\t{pos}\t{pos}\t{pct}\t{m}\t{u}\n"));
    }
    let path = dir.path().join("S1_nr3c1.bismark.cov");
    fs::write(&path, text).unwrap();
    let t = nr3c1(&[path.to_str().unwrap(), "--min-coverage", "1"]);
    let sample = t.rows[0]["sample_id"].clone();
    for (id, _) in &island {
        let r = row(&t, &sample, id);
        assert_eq!(r["value"], "0.75", "{id}");
    }
    let mean = row(&t, &sample, "promoter_cgi_mean");
    assert_eq!(mean["value"], "0.75");
    assert_eq!(mean["n_used"], island.len().to_string());
    for (pos, m, u) in &lines {
        let r = row(&t, &sample, &format!("cpg_chr5:{pos}"));
        let want = f64::from(*m) / f64::from(m + u);
        let got: f64 = r["value"].parse().unwrap();
        assert!(
            (got - want).abs() < 1e-12,
            "cpg_chr5:{pos}: {got} vs {want}"
        );
        assert_eq!(r["n_used"], (m + u).to_string(), "coverage at {pos}");
        assert_eq!(r["reference_build"], "hg19");
    }
    let by_coordinate = t
        .rows
        .iter()
        .filter(|r| r["measure"].starts_with("cpg_chr5:"))
        .count();
    assert_eq!(by_coordinate, lines.len());
}
