//! `agemark idat` end to end, and IDAT directories as input to `agemark clocks`: the real HM27
//! IDATs (tests/data/array/hm27_idat, see its PROVENANCE.md), SYNTHETIC arrays with user
//! manifests in Illumina CSV and sesame TSV format (generated here, labelled synthetic, with
//! known betas), and every bad input the issue lists.

use std::{collections::BTreeMap, fs, io::Read, path::Path};

use crate::common::{agemark, repo, tempdir, Table};
use agemark::{
    core::rng::SplitMix64,
    idat::{write as write_idat, Idat},
};

fn hm27_dir() -> String {
    repo("tests/data/array/hm27_idat").display().to_string()
}

/// A gzip TSV matrix (written as several gzip members, like bgzip): header cells and rows.
fn read_matrix(path: &Path) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    let mut lines = s.lines();
    let head: Vec<String> = lines
        .next()
        .unwrap()
        .split('\t')
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| {
            let mut it = l.split('\t').map(String::from);
            let id = it.next().unwrap();
            (id, it.collect())
        })
        .collect();
    (head, rows)
}

fn qc_value(t: &Table, sample: &str, measure: &str) -> Option<f64> {
    let r = t
        .rows
        .iter()
        .find(|r| r["sample_id"] == sample && r["measure"] == measure)
        .unwrap_or_else(|| panic!("no QC row {sample} {measure}"));
    r["value"].parse().ok()
}

#[test]
fn hm27_idats_to_betas_detection_and_qc() {
    let dir = tempdir();
    let prefix = dir.path().join("out/batch");
    let run = agemark(["idat", &hm27_dir(), "-o", prefix.to_str().unwrap(), "-q"]);
    run.assert_ok();
    let (head, rows) = read_matrix(&dir.path().join("out/batch.betas.tsv.gz"));
    assert_eq!(head, ["probe_id", "4207113116_A", "4207113116_B"]);
    // 27,578 HM27 CpG probes in the bundled manifest, less the one sesame leaves out.
    assert_eq!(rows.len(), 27_577);
    assert!(rows.iter().all(|(id, _)| id.starts_with("cg")));
    let (dhead, drows) = read_matrix(&dir.path().join("out/batch.detection.tsv.gz"));
    assert_eq!(dhead, head);
    assert_eq!(drows.len(), rows.len());
    let qc = Table::read(&dir.path().join("out/batch.idat_qc.tsv"));
    for (s, sample) in ["4207113116_A", "4207113116_B"].iter().enumerate() {
        let mut na = 0usize;
        let mut failed = 0usize;
        for ((id, b), (did, p)) in rows.iter().zip(&drows) {
            assert_eq!(id, did);
            let p: f64 = p[s].parse().unwrap();
            assert!((0.0..=1.0).contains(&p));
            if p > 0.05 {
                failed += 1;
            }
            if b[s] == "NA" {
                na += 1;
            } else {
                let v: f64 = b[s].parse().unwrap();
                assert!((0.0..=1.0).contains(&v), "{id}: {v}");
            }
        }
        assert_eq!(na, failed, "{sample}: NA betas = failed probes");
        let frac = qc_value(&qc, sample, "fraction_failed_probes").unwrap();
        assert!((frac - failed as f64 / rows.len() as f64).abs() < 1e-12);
        assert!(frac > 0.0 && frac < 0.1, "{sample}: {frac}");
        assert!(qc_value(&qc, sample, "median_methylated_intensity").unwrap() > 100.0);
        assert!(qc_value(&qc, sample, "median_unmethylated_intensity").unwrap() > 100.0);
        assert!(qc_value(&qc, sample, "dye_bias_log2_red_green")
            .unwrap()
            .is_finite());
        // TCGA ovarian tumours: both female (X-inactivation rule on HM27).
        assert_eq!(qc_value(&qc, sample, "inferred_sex_male"), Some(0.0));
        assert_eq!(qc_value(&qc, sample, "bisulfite_conversion"), None);
    }
    // Bimodal, as real betas are: most probes near 0 or 1.
    let vals: Vec<f64> = rows.iter().filter_map(|(_, b)| b[0].parse().ok()).collect();
    let extreme = vals.iter().filter(|&&v| !(0.2..=0.8).contains(&v)).count();
    assert!(extreme as f64 > 0.7 * vals.len() as f64);
    assert!(!dir.path().join("out/batch.failures.tsv").exists());
    // Offset 100 lowers every beta (M/(M+U+100) < M/(M+U)).
    let p2 = dir.path().join("b100");
    agemark([
        "idat",
        &hm27_dir(),
        "-o",
        p2.to_str().unwrap(),
        "--beta-offset",
        "100",
        "-q",
    ])
    .assert_ok();
    let (_, rows100) = read_matrix(&dir.path().join("b100.betas.tsv.gz"));
    let mut lower = 0;
    for ((_, a), (_, b)) in rows.iter().zip(&rows100) {
        if let (Ok(a), Ok(b)) = (a[0].parse::<f64>(), b[0].parse::<f64>()) {
            assert!(b <= a + 1e-7);
            lower += usize::from(b < a);
        }
    }
    assert!(lower > 20_000);
}

#[test]
fn clocks_on_the_idat_dir_equal_clocks_on_the_betas_it_wrote() {
    let dir = tempdir();
    let prefix = dir.path().join("b");
    agemark(["idat", &hm27_dir(), "-o", prefix.to_str().unwrap(), "-q"]).assert_ok();
    let betas = dir.path().join("b.betas.tsv.gz");
    let clocks = |input: &str| {
        let run = agemark([
            "clocks",
            input,
            "--clocks",
            "horvath2013,phenoage2018,lin2016",
            "-o",
            "-",
            "-q",
        ]);
        run.assert_ok();
        Table::parse(&run.stdout_text())
    };
    let a = clocks(&hm27_dir());
    let b = clocks(betas.to_str().unwrap());
    let key = |t: &Table| -> BTreeMap<(String, String), Option<f64>> {
        t.rows
            .iter()
            .map(|r| {
                (
                    (r["sample_id"].clone(), r["measure"].clone()),
                    r["value"].parse().ok(),
                )
            })
            .collect()
    };
    let (ka, kb) = (key(&a), key(&b));
    assert_eq!(ka.keys().collect::<Vec<_>>(), kb.keys().collect::<Vec<_>>());
    assert_eq!(ka.len(), 6);
    for (k, va) in &ka {
        let vb = kb[k];
        let (Some(x), Some(y)) = (va, vb) else {
            panic!("{k:?}: {va:?} vs {vb:?}");
        };
        // The table holds betas as f32 text; the direct path converts the same f32 to f64:
        // they differ below 1e-7 per CpG.
        assert!((x - y).abs() < 1e-5 * y.abs().max(1.0), "{k:?}: {x} vs {y}");
    }
    // The IDAT path says how the betas were made.
    let notes: Vec<&String> = a.rows.iter().map(|r| &r["qc_note"]).collect();
    assert!(notes.iter().any(|n| n.contains("poobah+noob")), "{notes:?}");
    // A prefix works as well as the directory.
    let pre = repo("tests/data/array/hm27_idat/4207113116_B");
    let c = clocks(pre.to_str().unwrap());
    assert_eq!(
        c.rows
            .iter()
            .filter(|r| r["sample_id"] == "4207113116_B")
            .count(),
        3
    );
    assert!(c.rows.iter().all(|r| r["sample_id"] == "4207113116_B"));
}

// ---- SYNTHETIC arrays (generated here; not real data) ----

/// A SYNTHETIC array: `n` probes per design (type I red, type I green, type II), known betas,
/// controls; returns (grn, red, illumina csv, sesame tsv, truth).
struct SynthArray {
    grn: Idat,
    red: Idat,
    illumina_csv: String,
    sesame_tsv: String,
    truth: BTreeMap<String, f64>,
}

fn synthetic_array(n: usize, seed: u64, extra_addresses: usize) -> SynthArray {
    let mut rng = SplitMix64(seed);
    let mut next_addr = 10_000u32;
    let mut addr = || {
        next_addr += 1 + (rng_step(&mut next_addr) % 3);
        next_addr
    };
    fn rng_step(x: &mut u32) -> u32 {
        *x % 7
    }
    let mut grn: BTreeMap<u32, f64> = BTreeMap::new();
    let mut red: BTreeMap<u32, f64> = BTreeMap::new();
    let mut csv = String::from(
        "Illumina, Inc.\n[Heading]\nDescriptor File Name,SYNTHETIC.bpm\nAssay Format,Infinium HD Methylation\n[Assay]\nIlmnID,Name,AddressA_ID,AllelesA_ProbeSeq,AddressB_ID,AlleleB_ProbeSeq,Infinium_Design_Type,Next_Base,Color_Channel,CHR,MAPINFO\n",
    );
    let mut tsv = String::from("Probe_ID\tM\tU\tDESIGN\tcol\tCpG_chrm\n");
    let mut truth = BTreeMap::new();
    let bg = |rng: &mut SplitMix64| (rng.normal(300.0, 60.0)).max(20.0);
    for k in 0..3 * n {
        let b = rng.unit();
        let id = format!("cg{:08}", 1000 + k);
        truth.insert(id.clone(), b);
        let total = 8000.0 * (0.5 + rng.unit());
        let m = bg(&mut rng) + b * total;
        let u = bg(&mut rng) + (1.0 - b) * total;
        match k % 3 {
            0 | 1 => {
                let (a_u, a_m) = (addr(), addr());
                let (inband, oob, colour) = if k % 3 == 0 {
                    (&mut red, &mut grn, "Red")
                } else {
                    (&mut grn, &mut red, "Grn")
                };
                inband.insert(a_u, u);
                inband.insert(a_m, m);
                oob.insert(a_u, bg(&mut rng));
                oob.insert(a_m, bg(&mut rng));
                csv.push_str(&format!(
                    "{id},{id},{a_u},ACGT,{a_m},ACGT,I,A,{colour},1,{}\n",
                    1000 + k
                ));
                tsv.push_str(&format!("{id}\t{a_m}\t{a_u}\tI\t{}\tchr1\n", &colour[..1]));
            }
            _ => {
                let a = addr();
                grn.insert(a, m);
                red.insert(a, u);
                csv.push_str(&format!("{id},{id},{a},ACGT,,,II,,,1,{}\n", 1000 + k));
                tsv.push_str(&format!("{id}\tNA\t{a}\tII\t2\tchr1\n"));
            }
        }
    }
    // Controls: negative, normalisation and bisulfite conversion (C bright, U dark).
    csv.push_str("[Controls]\n");
    let mut ctl = |kind: &str, name: &str, g: f64, r: f64| {
        let a = addr();
        grn.insert(a, g);
        red.insert(a, r);
        csv.push_str(&format!("{a},{kind},Black,{name}\n"));
    };
    for i in 0..20 {
        ctl("NEGATIVE", &format!("Negative {i}"), 300.0, 300.0);
    }
    for (kind, g, r) in [
        ("NORM_A", 300.0, 6000.0),
        ("NORM_T", 300.0, 6000.0),
        ("NORM_C", 6000.0, 300.0),
        ("NORM_G", 6000.0, 300.0),
    ] {
        ctl(kind, kind, g, r);
    }
    ctl(
        "BISULFITE CONVERSION I",
        "BS Conversion I-C1",
        9000.0,
        300.0,
    );
    ctl("BISULFITE CONVERSION I", "BS Conversion I-U1", 400.0, 300.0);
    for _ in 0..extra_addresses {
        let a = addr();
        grn.insert(a, 500.0);
        red.insert(a, 500.0);
    }
    let to_idat = |m: &BTreeMap<u32, f64>| {
        let ids: Vec<u32> = m.keys().copied().collect();
        Idat {
            means: m
                .values()
                .map(|&v| v.round().clamp(0.0, 65535.0) as u16)
                .collect(),
            sds: vec![100; ids.len()],
            n_beads: vec![12; ids.len()],
            mid_block: ids.clone(),
            ids,
            barcode: "999999999999".into(),
            chip_type: "SYNTHETIC".into(),
            red_green: Some(0),
            ..Default::default()
        }
    };
    SynthArray {
        grn: to_idat(&grn),
        red: to_idat(&red),
        illumina_csv: csv,
        sesame_tsv: tsv,
        truth,
    }
}

fn write_pair(dir: &Path, name: &str, a: &SynthArray) {
    fs::write(dir.join(format!("{name}_Grn.idat")), write_idat(&a.grn)).unwrap();
    fs::write(dir.join(format!("{name}_Red.idat")), write_idat(&a.red)).unwrap();
}

#[test]
fn synthetic_array_with_illumina_and_sesame_manifests_recovers_known_betas() {
    let dir = tempdir();
    let a = synthetic_array(300, 11, 0);
    let idats = dir.path().join("idats");
    fs::create_dir(&idats).unwrap();
    write_pair(&idats, "999999999999_R01C01", &a);
    let csv = dir.path().join("SYNTHETIC_manifest.csv");
    fs::write(&csv, &a.illumina_csv).unwrap();
    let tsv = dir.path().join("SYNTHETIC_manifest.tsv");
    fs::write(&tsv, &a.sesame_tsv).unwrap();
    for (manifest, with_controls) in [(&csv, true), (&tsv, false)] {
        let prefix = dir
            .path()
            .join(if with_controls { "ilmn" } else { "sesame" });
        let run = agemark([
            "idat",
            idats.to_str().unwrap(),
            "-o",
            prefix.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--platform",
            "epic",
            "-q",
        ]);
        run.assert_ok();
        let (head, rows) = read_matrix(&prefix.with_extension("betas.tsv.gz"));
        assert_eq!(head, ["probe_id", "999999999999_R01C01"]);
        assert_eq!(rows.len(), 900);
        let mut worst: f64 = 0.0;
        let mut by_design = [0.0f64; 3];
        for (k, (id, v)) in rows.iter().enumerate() {
            let b: f64 = v[0].parse().unwrap_or_else(|_| panic!("{id}: {}", v[0]));
            let err = (b - a.truth[id]).abs();
            worst = worst.max(err);
            by_design[k % 3] = by_design[k % 3].max(err);
        }
        // Background ~300 on signals of 4,000-12,000: noob recovers the designed betas.
        // Type II with M and U swapped would miss by up to 1.
        assert!(
            worst < 0.06,
            "{manifest:?}: worst {worst}, by design {by_design:?}"
        );
        let qc = Table::read(&prefix.with_extension("idat_qc.tsv"));
        let s = "999999999999_R01C01";
        assert_eq!(qc_value(&qc, s, "fraction_failed_probes"), Some(0.0));
        let bis = qc_value(&qc, s, "bisulfite_conversion");
        let dye = qc
            .rows
            .iter()
            .find(|r| r["measure"] == "dye_bias_log2_red_green")
            .unwrap();
        if with_controls {
            let bis = bis.unwrap();
            assert!((bis - 9000.0 / 9400.0).abs() < 1e-9, "{bis}");
            assert_eq!(dye["method"], "norm_controls_raw");
        } else {
            assert_eq!(bis, None);
            assert_eq!(dye["method"], "type1_in_band_median_raw");
        }
    }
}

#[test]
fn bad_inputs_are_named_and_the_batch_keeps_going() {
    let dir = tempdir();
    let idats = dir.path().join("idats");
    fs::create_dir(&idats).unwrap();
    for f in fs::read_dir(repo("tests/data/array/hm27_idat")).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "idat") {
            fs::copy(&f, idats.join(f.file_name().unwrap())).unwrap();
        }
    }
    // A lone Grn (its Red missing).
    fs::copy(
        idats.join("4207113116_A_Grn.idat"),
        idats.join("4207113116_C_Grn.idat"),
    )
    .unwrap();
    // A truncated pair.
    let g = fs::read(idats.join("4207113116_B_Grn.idat")).unwrap();
    fs::write(idats.join("4207113116_D_Grn.idat"), &g[..g.len() / 3]).unwrap();
    fs::copy(
        idats.join("4207113116_B_Red.idat"),
        idats.join("4207113116_D_Red.idat"),
    )
    .unwrap();
    // A SYNTHETIC 450K-sized pair (622,399 addresses) in an HM27 batch.
    let n = 622_399u32;
    let big = Idat {
        ids: (1..=n).collect(),
        means: vec![1000; n as usize],
        sds: vec![10; n as usize],
        n_beads: vec![10; n as usize],
        ..Default::default()
    };
    fs::write(idats.join("8888888888_R01C01_Grn.idat"), write_idat(&big)).unwrap();
    fs::write(idats.join("8888888888_R01C01_Red.idat"), write_idat(&big)).unwrap();
    let prefix = dir.path().join("b");
    let run = agemark([
        "idat",
        idats.to_str().unwrap(),
        "-o",
        prefix.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let fails = fs::read_to_string(dir.path().join("b.failures.tsv")).unwrap();
    let lines: Vec<&str> = fails.lines().collect();
    assert_eq!(lines[0], "sample\tfile\tmessage");
    assert_eq!(lines.len(), 4, "{fails}");
    let line = |s: &str| {
        *lines
            .iter()
            .find(|l| l.starts_with(s))
            .unwrap_or_else(|| panic!("{s} not in {fails}"))
    };
    assert!(
        line("4207113116_C\t").contains("4207113116_C_Grn.idat")
            && line("4207113116_C\t").contains("lone Grn")
    );
    let d = line("4207113116_D\t");
    assert!(
        d.contains("4207113116_D_Grn.idat") && d.contains("truncated"),
        "{d}"
    );
    let m = line("8888888888_R01C01\t");
    assert!(
        m.contains("450k") && m.contains("mixed platforms are refused"),
        "{m}"
    );
    assert!(
        run.stderr.contains("3 of 5 samples/inputs failed"),
        "{}",
        run.stderr
    );
    // The good samples were still written.
    let (head, _) = read_matrix(&dir.path().join("b.betas.tsv.gz"));
    assert_eq!(head, ["probe_id", "4207113116_A", "4207113116_B"]);

    // A manifest that does not match the IDATs' addresses (SYNTHETIC sesame TSV).
    let wrong = dir.path().join("wrong.tsv");
    let mut t = String::from("Probe_ID\tM\tU\tcol\n");
    for k in 0..500 {
        t.push_str(&format!(
            "cg{k:08}\t{}\t{}\tR\n",
            90_000_000 + 2 * k,
            90_000_001 + 2 * k
        ));
    }
    fs::write(&wrong, t).unwrap();
    let p2 = dir.path().join("w");
    let run = agemark([
        "idat",
        &hm27_dir(),
        "-o",
        p2.to_str().unwrap(),
        "--manifest",
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1));
    let fails = fs::read_to_string(dir.path().join("w.failures.tsv")).unwrap();
    assert!(
        fails.contains("does not match the IDATs") && fails.contains("wrong.tsv"),
        "{fails}"
    );
    // Nothing to write, no half tables.
    assert!(!dir.path().join("w.betas.tsv.gz").exists());

    // An input that names no IDAT, and an EPIC-sized IDAT without a manifest.
    let run = agemark([
        "idat",
        dir.path().join("nothing").to_str().unwrap(),
        "-o",
        p2.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("names no IDAT"), "{}", run.stderr);
    // A manifest that is not one.
    let bad = dir.path().join("bad.csv");
    fs::write(&bad, "a,b\n1,2\n").unwrap();
    let run = agemark([
        "idat",
        &hm27_dir(),
        "-o",
        p2.to_str().unwrap(),
        "--manifest",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("bad.csv") && run.stderr.contains("not a manifest"),
        "{}",
        run.stderr
    );
}

/// `--sample-ids`: one id per input names the sample in the matrices, the QC rows and
/// failures.tsv (the real HM27 pairs, given in reverse order; a truncated copy of one of them).
#[test]
fn sample_ids_name_the_matrix_columns_qc_rows_and_failures() {
    let dir = tempdir();
    let d = dir.path();
    let hm27 = repo("tests/data/array/hm27_idat");
    let (a, b) = (hm27.join("4207113116_A"), hm27.join("4207113116_B"));
    let plain = d.join("plain");
    agemark(["idat", &hm27_dir(), "-o", plain.to_str().unwrap(), "-q"]).assert_ok();
    let named = d.join("named");
    agemark([
        "idat",
        b.to_str().unwrap(),
        a.to_str().unwrap(),
        "--sample-ids",
        "OV-B,OV-A",
        "-o",
        named.to_str().unwrap(),
        "-q",
    ])
    .assert_ok();
    // Columns in IDAT name order, named by the ids of their inputs; the values are unchanged.
    let (h0, r0) = read_matrix(&d.join("plain.betas.tsv.gz"));
    let (h1, r1) = read_matrix(&d.join("named.betas.tsv.gz"));
    assert_eq!(h0, ["probe_id", "4207113116_A", "4207113116_B"]);
    assert_eq!(h1, ["probe_id", "OV-A", "OV-B"]);
    assert_eq!(r0, r1);
    let (dh, _) = read_matrix(&d.join("named.detection.tsv.gz"));
    assert_eq!(dh, h1);
    let q0 = Table::read(&d.join("plain.idat_qc.tsv"));
    let q1 = Table::read(&d.join("named.idat_qc.tsv"));
    assert_eq!(q1.distinct("sample_id"), ["OV-A", "OV-B"]);
    assert_eq!(q0.rows.len(), q1.rows.len());
    for (x, y) in q0.rows.iter().zip(&q1.rows) {
        assert_eq!(x["value"], y["value"]);
        assert_eq!(
            x["input"], y["input"],
            "the input column still names the IDATs"
        );
    }
    // A failing sample is named by its id too.
    let bad = d.join("bad");
    fs::create_dir(&bad).unwrap();
    let g = fs::read(hm27.join("4207113116_B_Grn.idat")).unwrap();
    fs::write(bad.join("4207113116_D_Grn.idat"), &g[..g.len() / 3]).unwrap();
    fs::copy(
        hm27.join("4207113116_B_Red.idat"),
        bad.join("4207113116_D_Red.idat"),
    )
    .unwrap();
    let out = d.join("withbad");
    let run = agemark([
        "idat",
        a.to_str().unwrap(),
        bad.join("4207113116_D").to_str().unwrap(),
        "--sample-ids",
        "OV-A,BROKEN",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let fails = fs::read_to_string(d.join("withbad.failures.tsv")).unwrap();
    let lines: Vec<&str> = fails.lines().collect();
    assert_eq!(lines.len(), 2, "{fails}");
    assert!(lines[1].starts_with("BROKEN\t"), "{fails}");
    assert!(lines[1].contains("4207113116_D_Grn.idat"), "{fails}");
    let (h, _) = read_matrix(&d.join("withbad.betas.tsv.gz"));
    assert_eq!(h, ["probe_id", "OV-A"]);
    // One id per input: a count mismatch or a directory of several pairs is a usage error.
    for (inputs, ids) in [
        (vec![a.to_str().unwrap()], "X,Y"),
        (vec![a.to_str().unwrap(), b.to_str().unwrap()], "X"),
        (vec![hm27.to_str().unwrap()], "X"),
        (vec![a.to_str().unwrap(), b.to_str().unwrap()], "X,X"),
    ] {
        let mut args = vec!["idat"];
        args.extend(inputs);
        args.extend(["--sample-ids", ids, "-o", out.to_str().unwrap()]);
        let run = agemark(args);
        assert_eq!(run.code, Some(2), "{ids}: {}", run.stderr);
        assert!(run.stderr.contains("--sample-ids"), "{}", run.stderr);
    }
}
