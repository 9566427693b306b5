//! Sample QC (issue 13): `cohort.sample_qc.tsv` catches a planted sex swap (real HM27 IDATs),
//! a planted duplicate, a planted non-mother and a planted maternal contamination (a SYNTHETIC
//! beta matrix whose SNP-probe genotypes and Morin CpGs are generated here).

use std::{collections::BTreeMap, fs, path::Path};

use crate::common::{agemark, repo, tempdir};

/// `cohort.sample_qc.tsv` as (sample, check) → (status, statistic, note).
fn checks(out: &Path) -> BTreeMap<(String, String), (String, String, String)> {
    let text = fs::read_to_string(out.join("cohort.sample_qc.tsv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "sample_id\tcheck\texpected\tobserved\tstatistic\tcutoff\tqc_status\tqc_note"
    );
    lines
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (
                (c[0].to_string(), c[1].to_string()),
                (c[6].to_string(), c[4].to_string(), c[7].to_string()),
            )
        })
        .collect()
}

/// SplitMix64: the SYNTHETIC genotypes are the same on every machine.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn allele(&mut self) -> u8 {
        (self.next() & 1) as u8
    }
    fn noise(&mut self) -> f64 {
        (self.next() % 1000) as f64 / 1000.0 * 0.04 - 0.02
    }
}

fn beta_of(genotype: u8, rng: &mut Rng) -> f64 {
    [0.04, 0.5, 0.95][genotype as usize] + rng.noise()
}

#[test]
fn sample_qc_catches_a_duplicate_a_non_mother_and_a_contaminated_cord_blood() {
    let d = tempdir();
    let snps: Vec<String> = fs::read_to_string(repo("reference/qc/snp_probes_450k.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let morin: Vec<(String, f64)> =
        fs::read_to_string(repo("reference/qc/morin2017_thresholds.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].to_string(), f[1].parse().unwrap())
            })
            .collect();
    let mut rng = Rng(17);
    // Haplotype pairs: M1, M2, a stranger X; C1 inherits one allele from M1, C2 none from M2
    // (its second parent's alleles and X's: the planted non-mother).
    let person = |rng: &mut Rng| -> Vec<(u8, u8)> {
        (0..snps.len())
            .map(|_| (rng.allele(), rng.allele()))
            .collect()
    };
    let m1 = person(&mut rng);
    let m2 = person(&mut rng);
    let x = person(&mut rng);
    let c1: Vec<(u8, u8)> = m1
        .iter()
        .map(|&(a, b)| (if rng.allele() == 0 { a } else { b }, rng.allele()))
        .collect();
    let c2: Vec<(u8, u8)> = x
        .iter()
        .map(|&(a, b)| (if rng.allele() == 0 { a } else { b }, rng.allele()))
        .collect();
    let c3 = person(&mut rng);
    let g = |p: &[(u8, u8)]| -> Vec<u8> { p.iter().map(|&(a, b)| a + b).collect() };
    // Columns: M1, C1, M2, C2, DUP (a second tube of M1 under another participant), C3 (a cord
    // blood with maternal blood: its Morin CpGs above the thresholds).
    let cols: Vec<(&str, Vec<u8>, bool)> = vec![
        ("M1", g(&m1), false),
        ("C1", g(&c1), false),
        ("M2", g(&m2), false),
        ("C2", g(&c2), false),
        ("DUP", g(&m1), false),
        ("C3", g(&c3), true),
    ];
    let mut text = String::from("probe_id");
    for (name, _, _) in &cols {
        text.push(',');
        text.push_str(name);
    }
    text.push('\n');
    for (i, snp) in snps.iter().enumerate() {
        text.push_str(snp);
        for (_, gt, _) in &cols {
            text.push_str(&format!(",{:.4}", beta_of(gt[i], &mut rng)));
        }
        text.push('\n');
    }
    for (cpg, threshold) in &morin {
        text.push_str(cpg);
        for (_, _, contaminated) in &cols {
            let b = if *contaminated {
                threshold + 0.05
            } else {
                threshold * 0.5
            };
            text.push_str(&format!(",{b:.4}"));
        }
        text.push('\n');
    }
    let betas = d.path().join("synthetic_betas.csv");
    fs::write(&betas, text).unwrap();
    let sheet = d.path().join("sheet.csv");
    fs::write(
        &sheet,
        "sample_id,participant_id,family_id,role,sample_type,betas_column\n\
         M1,P-M1,F1,mother,maternal_blood,M1\n\
         C1,P-C1,F1,child,cord_blood,C1\n\
         M2,P-M2,F2,mother,maternal_blood,M2\n\
         C2,P-C2,F2,child,cord_blood,C2\n\
         DUP,P-OTHER,F3,mother,maternal_blood,DUP\n\
         C3,P-C3,F3,child,cord_blood,C3\n",
    )
    .unwrap();
    let out = d.path().join("out");
    let r = agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--betas",
        betas.to_str().unwrap(),
        "--stages",
        "identity",
        "--outdir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let c = checks(&out);
    let get = |s: &str, k: &str| {
        c.get(&(s.to_string(), k.to_string()))
            .unwrap_or_else(|| panic!("no {k} row for {s} in {c:#?}"))
            .clone()
    };
    // The planted duplicate: M1 and DUP match although the sheet names two participants.
    for (s, other) in [("M1", "DUP"), ("DUP", "M1")] {
        let (status, stat, note) = get(s, "identity");
        assert_eq!(status, "fail", "{s}: {note}");
        assert_eq!(stat, "1", "{s}");
        assert!(note.contains(&format!("genotypes match {other}")), "{note}");
    }
    for s in ["C1", "M2", "C2", "C3"] {
        assert_eq!(
            get(s, "identity").0,
            "pass",
            "{s}: {:?}",
            get(s, "identity")
        );
    }
    // The true mother–child pair passes (IBS0 = 0); the planted non-mother fails.
    let (status, stat, _) = get("C1", "relatedness");
    assert_eq!((status.as_str(), stat.as_str()), ("pass", "0"));
    let (status, stat, note) = get("C2", "relatedness");
    assert_eq!(status, "fail", "{note}");
    assert!(stat.parse::<f64>().unwrap() > 0.03, "{stat}");
    assert!(note.contains("cannot be M2's child"), "{note}");
    // DUP is C3's "mother" in the sheet and is M1: not C3's mother either.
    assert_eq!(get("C3", "relatedness").0, "fail");
    // The planted contamination: all 10 Morin CpGs above their thresholds in C3 only.
    let (status, stat, note) = get("C3", "maternal_contamination");
    assert_eq!((status.as_str(), stat.as_str()), ("fail", "10"), "{note}");
    for s in ["C1", "C2"] {
        let (status, stat, _) = get(s, "maternal_contamination");
        assert_eq!((status.as_str(), stat.as_str()), ("pass", "0"), "{s}");
    }
    assert!(!c.contains_key(&("M1".to_string(), "maternal_contamination".to_string())));
    // Genotypes stay out of the cohort tables; the verdicts are in the long table.
    let long = fs::read_to_string(out.join("cohort.long.tsv")).unwrap();
    assert!(!long.contains("snp_genotype"));
    assert!(long.contains("\tsample_qc\trelatedness\t"));
    assert!(!fs::read_to_string(out.join("cohort.dyads.tsv"))
        .unwrap()
        .contains("sample_qc"));
}

/// The planted sex swap, on real HM27 IDATs (both arrays are female by X-inactivation
/// methylation): the sheet calls B male, so B fails with both values and A passes.
#[test]
fn sample_qc_catches_a_sex_swap_on_real_idats() {
    let d = tempdir();
    let idat = repo("tests/data/array/hm27_idat");
    let sheet = d.path().join("sheet.csv");
    fs::write(
        &sheet,
        format!(
            "sample_id,sample_type,sex,idat\nA,whole_blood,F,{0}/4207113116_A\nB,whole_blood,M,{0}/4207113116_B\n",
            idat.display()
        ),
    )
    .unwrap();
    let out = d.path().join("out");
    let r = agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--stages",
        "idat",
        "--outdir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let c = checks(&out);
    let a = &c[&("A".to_string(), "sex".to_string())];
    assert_eq!(a.0, "pass", "{a:?}");
    let b = &c[&("B".to_string(), "sex".to_string())];
    assert_eq!(b.0, "fail", "{b:?}");
    assert!(
        b.2.contains("the sheet says male, the array says female"),
        "{b:?}"
    );
    assert!((b.1.parse::<f64>().unwrap() - 0.378).abs() < 0.001, "{b:?}");
}

/// A SYNTHETIC BAM: 22 autosomes, chrX, chrY (1,000 bp each) and chrM, with 100 bp reads at the
/// depth of one diploid genome's autosomes (1×) and `x`×, `y`× on chrX and chrY.
fn synthetic_sex_bam(path: &Path, x: usize, y: usize) {
    let mut sam = String::from("@HD\tVN:1.6\tSO:coordinate\n");
    let mut contigs: Vec<String> = (1..=22).map(|i| format!("chr{i}")).collect();
    contigs.extend(["chrX".into(), "chrY".into()]);
    for c in &contigs {
        sam.push_str(&format!("@SQ\tSN:{c}\tLN:1000\n"));
    }
    sam.push_str("@SQ\tSN:chrM\tLN:16569\n");
    let seq = "ACGT".repeat(25);
    let qual = "I".repeat(100);
    let mut n = 0;
    let mut read = |sam: &mut String, contig: &str, pos: usize| {
        n += 1;
        sam.push_str(&format!(
            "r{n}\t0\t{contig}\t{pos}\t60\t100M\t*\t0\t0\t{seq}\t{qual}\n"
        ));
    };
    for c in &contigs {
        let reads = match c.as_str() {
            "chrX" => x,
            "chrY" => y,
            _ => 10,
        };
        for k in 0..reads {
            read(&mut sam, c, 1 + (k * 900 / reads.max(1)));
        }
    }
    for k in 0..50 {
        read(&mut sam, "chrM", 1 + k * 300);
    }
    crate::common::sam_to_bam(&sam, path);
}

/// The planted sex swap on reads: a SYNTHETIC male (chrX at half the autosomal depth, chrY
/// present) whom the sheet calls female fails, with both values; a SYNTHETIC female passes.
#[test]
fn sample_qc_catches_a_sex_swap_from_read_depth() {
    let d = tempdir();
    synthetic_sex_bam(&d.path().join("male.bam"), 5, 5);
    synthetic_sex_bam(&d.path().join("female.bam"), 10, 0);
    let sheet = d.path().join("sheet.csv");
    fs::write(
        &sheet,
        "sample_id,sample_type,sex,reads\nXY,whole_blood,F,male.bam\nXX,whole_blood,F,female.bam\n",
    )
    .unwrap();
    let out = d.path().join("out");
    let r = agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--stages",
        "reads",
        "--outdir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let c = checks(&out);
    let xy = &c[&("XY".to_string(), "sex".to_string())];
    assert_eq!(xy.0, "fail", "{xy:?}");
    assert!(
        xy.2.contains("the sheet says female, the read depth says male"),
        "{xy:?}"
    );
    assert_eq!(xy.1, "0.5", "{xy:?}");
    let xx = &c[&("XX".to_string(), "sex".to_string())];
    assert_eq!(xx.0, "pass", "{xx:?}");
    let mt = fs::read_to_string(out.join("XY/XY.mtdna.tsv")).unwrap();
    assert!(mt.contains("\tchrX_autosome_depth_ratio\t0.5\t"), "{mt}");
}
