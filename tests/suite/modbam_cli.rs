//! modBAM (issue 16): `agemark pileup` on htslib's aligned spec example (tests/data/modbam,
//! MIT) and on SYNTHETIC long reads made here by `agemark::synthetic` (labelled), whose
//! methylated fractions are known; the same reads straight into `agemark nr3c1` and `clocks`;
//! bad input on purpose.

use std::{collections::BTreeMap, fs, io::Read, path::Path};

use agemark::synthetic::{write_modbam_reference, write_modbam_sam, ModbamSpec};

use crate::common::{agemark, repo, tempdir, Table};

/// `agemark pileup ARGS…`.
fn pileup<const N: usize>(args: [&str; N]) -> crate::common::Run {
    agemark(std::iter::once("pileup").chain(args))
}

/// The bedMethyl rows of a `.bedmethyl.gz`, split into columns.
fn bedmethyl(path: &Path) -> Vec<Vec<String>> {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// The reference of htslib's MM-pileup example: the first read's bases (it matches the
/// reference from position 1), then `N` to the header's length.
fn spec_reference(dir: &Path) -> String {
    let seq = "AGCTCTCCAGAGTCGNACGCCATYCGCGCGCCACCA";
    let path = dir.join("I.fa");
    fs::write(&path, format!(">I\n{seq}{}\n", "N".repeat(999 - seq.len()))).unwrap();
    path.display().to_string()
}

#[test]
fn pileup_of_the_htslib_example() {
    let dir = tempdir();
    let reference = spec_reference(dir.path());
    let sam = repo("tests/data/modbam/MM-pileup.sam");
    let out = dir.path().join("x");
    pileup([
        sam.to_str().unwrap(),
        "-r",
        &reference,
        "--mod-threshold",
        "0",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let rows = bedmethyl(&dir.path().join("x.bedmethyl.gz"));
    // Expected from MM-pileup.out: the + strand CpG C's at 13, 17, 24, 26, 28 are covered by all
    // four reads (r1-'s G-m calls are + strand C calls); only 17 has 5mC calls (153, 153, 153
    // and r3's 153 with h 0), the others are implicit canonical calls. No read calls a − C.
    let got: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {} {} {} {} {}", r[1], r[3], r[5], r[9], r[11], r[12]))
        .collect();
    assert_eq!(
        got,
        [
            "13 m + 4 0 4",
            "17 m + 4 4 0",
            "17 h + 4 0 0",
            "24 m + 4 0 4",
            "26 m + 4 0 4",
            "28 m + 4 0 4"
        ]
    );
    // modkit's 18 columns, score = N_valid_cov, percent with 2 decimals; h's "other" = 5mC.
    assert_eq!(rows[1].len(), 18);
    assert_eq!(rows[1][10], "100.00");
    assert_eq!(rows[2][13], "4");
    assert_eq!(rows[1][8], "255,0,0");
    // A threshold above the calls' 0.600 fails them: site 17 has no valid call and is not written.
    pileup([
        sam.to_str().unwrap(),
        "-r",
        &reference,
        "--mod-threshold",
        "0.7",
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let rows = bedmethyl(&dir.path().join("x.bedmethyl.gz"));
    assert!(rows.iter().all(|r| r[1] != "17"), "{rows:?}");
    // The estimated threshold (10th percentile of the four 153 calls) keeps them.
    let run = pileup([
        sam.to_str().unwrap(),
        "-r",
        &reference,
        "--combine-strands",
        "-o",
        out.to_str().unwrap(),
    ]);
    run.assert_ok();
    assert!(
        run.stderr.contains("threshold 0.5977 (estimated"),
        "{}",
        run.stderr
    );
    let rows = bedmethyl(&dir.path().join("x.bedmethyl.gz"));
    assert!(rows.iter().all(|r| r[5] == "."));
    assert_eq!(
        rows.iter().filter(|r| r[1] == "17" && r[3] == "m").count(),
        1
    );
}

/// SYNTHETIC reads over the hg38 positions of the bundled NR3C1 probes on a `chr5` of hg38's
/// length (the reference is `T` but for the CpGs): a fraction per probe that depends on its
/// position.
fn nr3c1_modbam(dir: &Path) -> (String, String, BTreeMap<String, f64>, ModbamSpec) {
    let text = fs::read_to_string(repo("reference/nr3c1/nr3c1_probes.tsv")).unwrap();
    let mut sites = Vec::new();
    let mut ids = Vec::new();
    for l in text.lines().skip(1) {
        let c: Vec<&str> = l.split('\t').collect();
        let hg38: u64 = c[3].parse().unwrap();
        let frac = (hg38 % 11) as f64 / 10.0;
        sites.push((hg38 - 1, frac.min(1.0)));
        ids.push(c[0].to_string());
    }
    // And the Horvath 2013 CpGs on chr5, so the clock has some measured CpGs.
    let clock = fs::read_to_string(repo("reference/clocks/horvath2013.csv")).unwrap();
    let wanted: std::collections::HashSet<&str> = clock
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(|c| c.trim_matches('"'))
        .collect();
    let mut clock_cpgs = 0;
    for p in agemark::coords::hm450_table().unwrap() {
        if let Some((chr, pos)) = &p.hg38 {
            if chr == "chr5" && wanted.contains(p.probe.as_str()) {
                sites.push((pos - 1, 0.5));
                clock_cpgs += 1;
            }
        }
    }
    assert!(clock_cpgs > 5, "{clock_cpgs} Horvath CpGs on chr5");
    sites.sort_by_key(|s| s.0);
    sites.dedup_by_key(|s| s.0);
    let spec = ModbamSpec {
        contig: "chr5".to_string(),
        length: 181_538_259,
        sites: sites.clone(),
        reads_per_site: 10,
        read_length: 5_000,
        confidence: 240,
        seed: 16,
    };
    let fa = dir.join("chr5.fa");
    let mut w = std::io::BufWriter::new(fs::File::create(&fa).unwrap());
    write_modbam_reference(&mut w, &spec).unwrap();
    drop(w);
    let sam = dir.join("sample.sam");
    let mut w = std::io::BufWriter::new(fs::File::create(&sam).unwrap());
    let truth = write_modbam_sam(&mut w, &spec).unwrap();
    drop(w);
    let mut betas = BTreeMap::new();
    for (l, id) in text.lines().skip(1).zip(&ids) {
        let hg38: u64 = l.split('\t').nth(3).unwrap().parse().unwrap();
        let i = spec.sites.iter().position(|s| s.0 == hg38 - 1).unwrap();
        let (m, t) = truth[i];
        betas.insert(id.clone(), f64::from(m) / f64::from(t));
    }
    (
        sam.display().to_string(),
        fa.display().to_string(),
        betas,
        spec,
    )
}

#[test]
fn modbam_into_nr3c1_and_clocks() {
    let dir = tempdir();
    let (sam, fa, betas, spec) = nr3c1_modbam(dir.path());
    // The pileup: every site's two strands add up to the truth the generator wrote.
    let out = dir.path().join("p");
    agemark(["pileup", &sam, "-r", &fa, "-o", out.to_str().unwrap()]).assert_ok();
    let rows = bedmethyl(&dir.path().join("p.bedmethyl.gz"));
    let mut per_site: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for r in &rows {
        let pos: u64 = r[1].parse().unwrap();
        let cpg = if r[5] == "-" { pos - 1 } else { pos };
        let e = per_site.entry(cpg).or_default();
        e.0 += r[11].parse::<u64>().unwrap();
        e.1 += r[9].parse::<u64>().unwrap();
        assert_eq!(r[14], "0"); // no deletions
        assert_eq!(r[16], "0"); // no other base
    }
    assert_eq!(per_site.len(), spec.sites.len());
    // NR3C1 probes from the reads: each probe's beta is the generator's fraction exactly.
    let o = dir.path().join("n");
    agemark([
        "nr3c1",
        &sam,
        "-r",
        &fa,
        "--build",
        "hg38",
        "--min-coverage",
        "5",
        "-o",
        o.to_str().unwrap(),
    ])
    .assert_ok();
    let t = Table::read(&dir.path().join("n.nr3c1.tsv"));
    let mut checked = 0;
    for (id, want) in &betas {
        if let Some(r) = t.rows.iter().find(|r| r["measure"] == *id) {
            let got: f64 = r["value"].parse().unwrap();
            assert!((got - want).abs() < 1e-9, "{id}: {got} vs {want}");
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} NR3C1 probes checked");
    // The same reads into the clocks: rows come out, the notes say how the input was read.
    let c = dir.path().join("c");
    let run = agemark([
        "clocks",
        &sam,
        "-r",
        &fa,
        "--build",
        "hg38",
        "--clocks",
        "horvath2013",
        "--max-missing",
        "1",
        "-o",
        c.to_str().unwrap(),
    ]);
    assert!(run.code.is_some(), "clocks on a modBAM: {}", run.stderr);
    let t = Table::read(&dir.path().join("c.clocks.tsv"));
    assert!(
        t.rows
            .iter()
            .any(|r| r["qc_note"].contains("modBAM pileup")),
        "{:?}",
        t.rows
    );
}

#[test]
fn modbam_bad_input_is_one_line() {
    let dir = tempdir();
    let reference = spec_reference(dir.path());
    // More calls than C's in the read.
    let sam = dir.path().join("bad.sam");
    fs::write(
        &sam,
        "@SQ\tSN:I\tLN:999\nr1\t0\tI\t1\t0\t8M\t*\t0\t0\tACGTACGT\t*\tMM:Z:C+m,0,0,5;\tML:B:C,1,2,3\n",
    )
    .unwrap();
    let run = pileup([
        sam.to_str().unwrap(),
        "-r",
        &reference,
        "-o",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(
        run.stderr.contains("record 1") && run.stderr.contains("runs past"),
        "{}",
        run.stderr
    );
    // ML of another length than MM's calls.
    fs::write(
        &sam,
        "@SQ\tSN:I\tLN:999\nr1\t0\tI\t1\t0\t8M\t*\t0\t0\tACGTACGT\t*\tMM:Z:C+m,0,0;\tML:B:C,1\n",
    )
    .unwrap();
    let run = pileup([
        sam.to_str().unwrap(),
        "-r",
        &reference,
        "-o",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("ML"), "{}", run.stderr);
    // A reference of another assembly (another length).
    let short = dir.path().join("short.fa");
    fs::write(&short, ">I\nACGT\n").unwrap();
    let run = pileup([
        repo("tests/data/modbam/MM-pileup.sam").to_str().unwrap(),
        "-r",
        short.to_str().unwrap(),
        "-o",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("another assembly"), "{}", run.stderr);
    // Unaligned reads cannot be piled up.
    let fq = dir.path().join("r.fastq");
    fs::write(&fq, "@r\nACGT\n+\nIIII\n").unwrap();
    let run = pileup([
        fq.to_str().unwrap(),
        "-r",
        &reference,
        "-o",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("aligned reads"), "{}", run.stderr);
    // FASTA reads too (the reference given as the reads, say).
    let run = pileup([
        &reference,
        "-r",
        &reference,
        "-o",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("aligned reads"), "{}", run.stderr);
    // Aligned reads without any MM/ML: not a modBAM.
    let plain = dir.path().join("plain.sam");
    let text = fs::read_to_string(repo("tests/data/modbam/MM-pileup.sam")).unwrap();
    let stripped: String = text
        .lines()
        .map(|l| {
            if l.starts_with('@') {
                l.to_string()
            } else {
                l.split('\t').take(11).collect::<Vec<_>>().join("\t")
            }
        })
        .map(|l| l + "\n")
        .collect();
    fs::write(&plain, stripped).unwrap();
    let run = pileup([
        plain.to_str().unwrap(),
        "-r",
        &reference,
        "-o",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("not a modBAM"), "{}", run.stderr);
    // A directory as the prefix.
    let run = pileup([
        repo("tests/data/modbam/MM-pileup.sam").to_str().unwrap(),
        "-r",
        &reference,
        "-o",
        &format!("{}/", dir.path().display()),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(!dir.path().join(".bedmethyl.gz").exists());
    // A modBAM into the clocks without --reference.
    let run = agemark([
        "clocks",
        repo("tests/data/modbam/MM-pileup.sam").to_str().unwrap(),
        "-o",
        dir.path().join("c").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("--reference"), "{}", run.stderr);
    assert!(!dir.path().join("b.bedmethyl.gz").exists());
}

#[test]
fn run_takes_a_modbam_sample() {
    // The same SYNTHETIC reads as a cohort sample: `methylation_calls` names the reads and
    // `reference` their FASTA. The header also names GRCh38's chr1 (not in the FASTA: no
    // sites there), so the build comes from the reads, not from an option.
    let dir = tempdir();
    let (sam, fa, betas, _) = nr3c1_modbam(dir.path());
    let text = fs::read_to_string(&sam).unwrap();
    let text = text.replacen("@SQ\t", "@SQ\tSN:chr1\tLN:248956422\n@SQ\t", 1);
    fs::write(&sam, text).unwrap();
    let sheet = dir.path().join("sheet.csv");
    fs::write(
        &sheet,
        format!("sample_id,sample_type,age_years,reference,methylation_calls\nONT1,whole_blood,40,{fa},{sam}\n"),
    )
    .unwrap();
    let out = dir.path().join("out");
    agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--stages",
        "nr3c1",
        "--outdir",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let long = Table::read(&out.join("cohort.long.tsv"));
    let mut checked = 0;
    for (id, want) in &betas {
        if let Some(r) = long
            .rows
            .iter()
            .find(|r| r["sample_id"] == "ONT1" && r["measure"] == *id)
        {
            let got: f64 = r["value"].parse().unwrap();
            assert!((got - want).abs() < 1e-9, "{id}: {got} vs {want}");
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
    // Without the reference column the sheet check says what is missing.
    fs::write(
        &sheet,
        format!("sample_id,sample_type,age_years,methylation_calls\nONT1,whole_blood,40,{sam}\n"),
    )
    .unwrap();
    let run = agemark(["run", "--samplesheet", sheet.to_str().unwrap(), "--check"]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("reference"), "{}", run.stderr);
}
