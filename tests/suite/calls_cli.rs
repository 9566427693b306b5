//! `agemark clocks` on sequencing methylation calls (issue 5): coverage files written from real
//! array betas give the matrix's clock values; real call files run end to end; bad call files
//! fail with the file and row.

use std::{collections::BTreeMap, fmt::Write as _, fs, path::Path};

use crate::common::{agemark, repo, stage_stdout, tempdir, Table};
use agemark::coords::hm450_table;

fn clocks(args: &[&str]) -> Table {
    stage_stdout("clocks", args)
}

/// A decimal beta as an exact fraction `digits / 10^decimals` (`0.6893393974` →
/// 6893393974 / 10^10), so that methylated / total reproduces the parsed beta bit for bit; at
/// least 2 decimals (`1` → 100 / 100), so every CpG reaches the default minimum coverage.
fn as_counts(text: &str) -> Option<(u64, u64)> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() || !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = format!("{frac:0<2}");
    let total = 10u64.checked_pow(frac.len() as u32)?;
    let m: u64 = format!("{int}{frac}").parse().ok()?;
    (m <= total && total < (1 << 53)).then_some((m, total))
}

/// **Synthetic from real**: one Bismark coverage file per sample of a real beta matrix, at
/// the probes' hg19 positions (bundled table), with counts giving exactly the beta, split
/// over the two strands (+ strand C at the probe position, − strand C one base after).
/// Missing cells get no lines. Returns the file paths by sample.
fn coverage_files_from_matrix(matrix: &Path, dir: &Path) -> BTreeMap<String, String> {
    let pos: BTreeMap<String, (String, u64)> = hm450_table()
        .unwrap()
        .into_iter()
        .filter_map(|p| Some((p.probe, p.hg19?)))
        .collect();
    let text = fs::read_to_string(matrix).unwrap();
    let mut lines = text.lines();
    let samples: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(1)
        .map(str::to_string)
        .collect();
    let mut out: Vec<String> = vec![String::new(); samples.len()];
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let Some((chrom, p)) = pos.get(cells[0]) else {
            continue;
        };
        for (s, cell) in cells[1..].iter().enumerate() {
            let Some((m, t)) = as_counts(cell) else {
                continue;
            };
            let (m1, u1) = (m / 2, (t - m) / 2);
            let (m2, u2) = (m - m1, (t - m) - u1);
            let pct = |m: u64, u: u64| 100.0 * m as f64 / (m + u).max(1) as f64;
            writeln!(out[s], "{chrom}\t{p}\t{p}\t{}\t{m1}\t{u1}", pct(m1, u1)).unwrap();
            writeln!(
                out[s],
                "{chrom}\t{}\t{}\t{}\t{m2}\t{u2}",
                p + 1,
                p + 1,
                pct(m2, u2)
            )
            .unwrap();
        }
    }
    samples
        .iter()
        .zip(out)
        .map(|(s, text)| {
            let path = dir.join(format!("{s}.bismark.cov"));
            fs::write(&path, text).unwrap();
            (s.clone(), path.display().to_string())
        })
        .collect()
}

/// One column of a matrix as its own one-sample matrix, without the rows whose cell is
/// missing: a CpG a coverage file does not cover is absent from it, and clocks treat an absent
/// probe (DunedinPACE: its gold-standard mean) unlike a present probe with a missing value.
fn one_sample_matrix(matrix: &Path, k: usize, dir: &Path) -> (String, String) {
    let text = fs::read_to_string(matrix).unwrap();
    let mut out = String::new();
    let mut name = String::new();
    for (i, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        if i == 0 {
            name = cells[k + 1].to_string();
        } else if as_counts(cells[k + 1]).is_none() {
            continue;
        }
        writeln!(out, "{},{}", cells[0], cells[k + 1]).unwrap();
    }
    let path = dir.join(format!("{name}.matrix.csv"));
    fs::write(&path, out).unwrap();
    (name, path.display().to_string())
}

/// Two samples of the real 5-sample blood matrix (the first and the last), each run as a
/// one-sample matrix and as the coverage file written from it: every clock value agrees to 1e-9 (relative), with the same
/// n_used and qc_status; the qc_note says the input was sequencing calls. (One sample on both
/// sides: in the 5-sample matrix, missing cells would be filled from the other samples.)
#[test]
fn coverage_files_from_real_betas_give_the_matrix_clock_values() {
    let dir = tempdir();
    let matrix = repo("tests/data/array/gse55763_blood_5x20000_betas.csv");
    let files = coverage_files_from_matrix(&matrix, dir.path());
    assert_eq!(files.len(), 5);
    let mut compared = 0;
    let mut worst: f64 = 0.0;
    for k in [0, 4] {
        let (sample, single) = one_sample_matrix(&matrix, k, dir.path());
        // --max-missing 1: every clock is computed (20,000 CpGs; the rest imputed alike).
        let m = clocks(&[&single, "--max-missing", "1"]);
        let c = clocks(&[&files[&sample], "--max-missing", "1"]);
        assert_eq!(c.rows.len(), m.rows.len());
        for row in c.rows.iter() {
            assert_eq!(row["sample_id"], sample);
            assert_eq!(row["input"], format!("{sample}.bismark.cov"));
            assert!(
                row["qc_note"].contains("input: sequencing calls (Bismark coverage, hg19)"),
                "{}",
                row["qc_note"]
            );
            let mrow = m
                .rows
                .iter()
                .find(|r| r["measure"] == row["measure"])
                .unwrap_or_else(|| panic!("{sample} {}", row["measure"]));
            assert_eq!(
                row["n_used"], mrow["n_used"],
                "{sample} {}: {} | {}",
                row["measure"], row["qc_note"], mrow["qc_note"]
            );
            assert_eq!(
                row["qc_status"], mrow["qc_status"],
                "{sample} {}",
                row["measure"]
            );
            match (row["value"].parse::<f64>(), mrow["value"].parse::<f64>()) {
                (Ok(a), Ok(b)) => {
                    let rel = (a - b).abs() / b.abs().max(1.0);
                    worst = worst.max(rel);
                    assert!(rel <= 1e-9, "{sample} {}: {a} vs {b}", row["measure"]);
                    compared += 1;
                }
                (a, b) => assert_eq!(a.is_ok(), b.is_ok(), "{sample} {}", row["measure"]),
            }
        }
    }
    eprintln!("{compared} sample × clock values compared; largest relative difference {worst:e}");
    assert!(compared >= 2 * 15, "{compared}");
}

/// The real MCF7 WGBS file (BISCUIT, hg19) runs through `agemark clocks`: every clock row
/// says how many of its CpGs were covered (n_used) and that the input was sequencing calls.
#[test]
fn real_wgbs_file_runs_clocks_with_covered_counts() {
    let path = repo("tests/data/bisulfite/MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz");
    let t = clocks(&[
        path.to_str().unwrap(),
        "--min-coverage",
        "1",
        "--max-missing",
        "1",
    ]);
    assert!(!t.rows.is_empty());
    for r in &t.rows {
        assert_eq!(r["sample_id"], "MCF7_Cunha_WGBS_hg19_chr11p15");
        assert!(
            r["qc_note"].contains("sequencing calls (BISCUIT bed, hg19)"),
            "{}",
            r["qc_note"]
        );
        assert!(r["qc_note"].contains("5,555 450K"), "{}", r["qc_note"]);
    }
    // 46 clock CpGs of the file (shared PROVENANCE) spread over the clocks: Horvath uses some.
    let h = t
        .rows
        .iter()
        .find(|r| r["measure"] == "horvath2013")
        .unwrap();
    let n: u64 = h["n_used"].parse().unwrap();
    assert!(n > 0 && n < 353, "{n}");
}

#[test]
fn bad_call_files_fail_naming_file_and_row() {
    let dir = tempdir();
    let cov = dir.path().join("bad.cov");
    fs::write(
        &cov,
        "chr1\t910856\t910856\t100\t1\t0\nchr1\t910868\t910868\t100\t1\n",
    )
    .unwrap();
    let out = dir.path().join("o/x");
    let run = agemark(["clocks", cov.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("bad.cov: row 2: 5 columns, expected 6 for a Bismark coverage file"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("o/x.clocks.tsv").exists());
    // The real hg19 WGBS file named as hg38.
    let path = repo("tests/data/bisulfite/MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz");
    let run = agemark([
        "clocks",
        path.to_str().unwrap(),
        "--build",
        "hg38",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the positions look like hg19, not hg38"),
        "{}",
        run.stderr
    );
    let run = agemark([
        "clocks",
        cov.to_str().unwrap(),
        "--min-coverage",
        "0",
        "-o",
        "-",
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}
