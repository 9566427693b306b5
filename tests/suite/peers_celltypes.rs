//! Cell fractions side by side with biolearn 0.9.1's `DeconvolutionModel` where both use the
//! same reference: biolearn `DeconvoluteBlood450K` (its `450K_reinius_12_reference.csv`) =
//! agemark `blood_reinius450k`, biolearn `DeconvoluteBloodEPIC` (`EPIC_salas_18_reference.csv`)
//! = agemark `blood_salas_epic` (byte-identical tables, see reference/celltypes/PROVENANCE.md).
//! biolearn has no cord-blood, placenta or EpiDISH panel, so those have no peer here.
//!
//! biolearn solves `min ||Mw − beta||` with `0 ≤ w ≤ 1, Σw = 1` by cvxpy/ECOS, so agemark runs
//! with `--constraint sum-eq-1 --max-missing 1` (biolearn fits whatever panel CpGs the matrix
//! has). biolearn drops every CpG row with a missing value in any sample; the matrices are given
//! to both tools without such rows, so both fit the same CpGs. Tolerance: **5e-5** per fraction
//! (ECOS is an interior-point solver stopping at about 1e-8 relative gaps, which an
//! ill-conditioned fit on few CpGs — 17 Salas CpGs in the Liu matrix — amplifies to ~1e-5 in
//! the fractions; agemark's active-set solution is exact to rounding). Beyond the tolerance, the
//! test checks that agemark's fit is at least as good: per sample, its residual sum of squares
//! is no larger than that of biolearn's fractions (up to 1e-9 relative, for rounding and
//! ECOS's slight infeasibility).
//!
//! Inputs: the real matrices `../shared/data/array/betas/gse55763_blood_5x20000_betas.csv`
//! (GSE55763 blood, 5 samples) and `epidish_liu2013_blood_50x500_betas.csv` (50 blood samples),
//! and a SYNTHETIC matrix generated below (mixtures of the panel profiles plus noise) so that
//! every one of the panel's 600 CpGs enters the fit.
//!
//! Ignored by default: they need Python 3 with biolearn 0.9.1 (`.ci/run` installs it into a venv
//! and sets AGEMARK_BIOLEARN_PYTHON) and the shared data beside the repository. A missing peer
//! makes the test fail with a message, never pass silently.

use std::{
    collections::HashMap,
    fs,
    path::{Path, PathBuf},
};

use crate::common::{agemark, run_biolearn, shared_data as shared, tempdir, Table};
use agemark::methylation::celltypes::{find_panel, load_panel};

const TOLERANCE: f64 = 5e-5;

const SCRIPT: &str = r#"
import sys, warnings
import pandas as pd
from biolearn.model_gallery import ModelGallery
from biolearn.data_library import GeoData
matrix, out, model = sys.argv[1], sys.argv[2], sys.argv[3]
dnam = pd.read_csv(matrix, index_col=0)
m = ModelGallery().get(model)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    pred = m.predict(GeoData(pd.DataFrame(index=dnam.columns), dnam))
rows = []
for s, r in pred.iterrows():
    for ct, v in r.items():
        rows.append(f"{s}\t{ct}\t{float(v)!r}")
open(out, "w").write("sample\tcell_type\tvalue\n" + "\n".join(rows) + "\n")
"#;

fn biolearn(matrix: &Path, model: &str, dir: &Path) -> HashMap<(String, String), f64> {
    let out = dir.join(format!("bl_{model}.tsv"));
    run_biolearn(dir, "bl_cells.py", SCRIPT, matrix, &out, model)
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            ((f[0].to_string(), f[1].to_string()), f[2].parse().unwrap())
        })
        .collect()
}

/// A copy of a CSV matrix without the rows that have a missing cell (biolearn drops them).
fn complete_rows(matrix: &Path, dir: &Path) -> PathBuf {
    let text = fs::read_to_string(matrix).unwrap();
    let mut lines = text.lines();
    let mut out = vec![lines.next().unwrap().to_string()];
    out.extend(
        lines
            .filter(|l| {
                !l.split(',')
                    .skip(1)
                    .any(|c| matches!(c.trim_matches('"'), "" | "NA" | "NaN" | "nan"))
            })
            .map(str::to_string),
    );
    let p = dir.join(format!(
        "complete_{}",
        matrix.file_name().unwrap().to_string_lossy()
    ));
    fs::write(&p, out.join("\n") + "\n").unwrap();
    p
}

/// Compares one matrix × panel; returns the largest absolute difference.
fn compare(matrix: &Path, panel: &str, model: &str, dir: &Path) -> f64 {
    let bl = biolearn(matrix, model, dir);
    let m = matrix.display().to_string();
    let run = agemark([
        "celltypes",
        m.as_str(),
        "--panel",
        panel,
        "--constraint",
        "sum-eq-1",
        "--max-missing",
        "1",
        "-o",
        "-",
        "-q",
    ]);
    run.assert_ok();
    let t = Table::parse(&run.stdout_text());
    // Residual sums of squares of both answers, per sample.
    let info = find_panel(panel).unwrap();
    let p = load_panel(&info).unwrap();
    let k = p.k();
    let text = fs::read_to_string(matrix).unwrap();
    let mut lines = text.lines();
    let samples: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(1)
        .map(|s| s.trim_matches('"').to_string())
        .collect();
    let rows: HashMap<String, Vec<f64>> = lines
        .map(|l| {
            let mut c = l.split(',');
            let id = c.next().unwrap().trim_matches('"').to_string();
            (id, c.map(|x| x.parse().unwrap()).collect())
        })
        .collect();
    for (si, s) in samples.iter().enumerate() {
        let rss = |w: &dyn Fn(&str) -> f64| -> f64 {
            p.cpgs
                .iter()
                .enumerate()
                .filter_map(|(j, c)| rows.get(c).map(|v| (j, v[si])))
                .map(|(j, b)| {
                    let fit: f64 = (0..k)
                        .map(|t| p.profiles[j * k + t] * w(&info.cell_types[t]))
                        .sum();
                    (b - fit).powi(2)
                })
                .sum()
        };
        let ours = rss(&|ct| {
            t.rows
                .iter()
                .find(|r| r["sample_id"] == *s && r["measure"] == ct)
                .unwrap()["value"]
                .parse()
                .unwrap()
        });
        let theirs = rss(&|ct| bl[&(s.clone(), ct.to_string())]);
        assert!(
            ours <= theirs * (1.0 + 1e-9),
            "{panel} on {m}: {s}: agemark's residual sum of squares {ours} exceeds biolearn's {theirs}"
        );
    }
    let mut max = 0.0f64;
    let mut n = 0;
    for r in &t.rows {
        if r["measure"] == "sum_of_fractions" {
            continue;
        }
        let ours: f64 = r["value"]
            .parse()
            .unwrap_or_else(|_| panic!("no value: {r:?}"));
        let theirs = bl[&(r["sample_id"].clone(), r["measure"].clone())];
        let d = (ours - theirs).abs();
        assert!(
            d <= TOLERANCE,
            "{panel} on {m}: {} {}: agemark {ours} vs biolearn {theirs}",
            r["sample_id"],
            r["measure"]
        );
        max = max.max(d);
        n += 1;
    }
    assert_eq!(n, bl.len(), "{panel} on {m}: row counts differ");
    eprintln!(
        "{panel} vs biolearn {model} on {}: {n} fractions, max |diff| = {max:.3e}",
        matrix.file_name().unwrap().to_string_lossy()
    );
    max
}

/// SYNTHETIC: 12 samples, each a random mixture (Dirichlet-like, sum 1) of the panel's
/// profiles plus uniform noise of ±0.03, clamped to [0, 1], over all of the panel's CpGs.
fn synthetic_mixtures(panel: &str, dir: &Path) -> PathBuf {
    let p = load_panel(&find_panel(panel).unwrap()).unwrap();
    let k = p.k();
    let mut seed: u64 = 20_240_611;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = 12;
    let fracs: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            let raw: Vec<f64> = (0..k).map(|_| -next().max(1e-9).ln()).collect();
            let s: f64 = raw.iter().sum();
            raw.iter().map(|x| x / s).collect()
        })
        .collect();
    let mut text = String::from("cpg");
    for s in 0..n {
        text.push_str(&format!(",synthetic_{s}"));
    }
    text.push('\n');
    for (j, cpg) in p.cpgs.iter().enumerate() {
        text.push_str(cpg);
        for f in &fracs {
            let mu: f64 = (0..k).map(|t| p.profiles[j * k + t] * f[t]).sum();
            let v = (mu + 0.06 * (next() - 0.5)).clamp(0.0, 1.0);
            text.push_str(&format!(",{v}"));
        }
        text.push('\n');
    }
    let path = dir.join(format!("synthetic_mixtures_{panel}.csv"));
    fs::write(&path, text).unwrap();
    path
}

#[test]
#[ignore = "needs biolearn: run by .ci/run"]
fn blood_panels_agree_with_biolearn() {
    let dir = tempdir();
    let mut report = Vec::new();
    for (panel, model) in [
        ("blood_reinius450k", "DeconvoluteBlood450K"),
        ("blood_salas_epic", "DeconvoluteBloodEPIC"),
    ] {
        let mut worst = 0.0f64;
        for rel in [
            "array/betas/gse55763_blood_5x20000_betas.csv",
            "array/betas/epidish_liu2013_blood_50x500_betas.csv",
        ] {
            let m = complete_rows(&shared(rel), dir.path());
            worst = worst.max(compare(&m, panel, model, dir.path()));
        }
        let syn = synthetic_mixtures(panel, dir.path());
        worst = worst.max(compare(&syn, panel, model, dir.path()));
        report.push(format!("{panel}: max |diff| {worst:.3e}"));
    }
    eprintln!("cell fractions vs biolearn 0.9.1: {}", report.join("; "));
}
