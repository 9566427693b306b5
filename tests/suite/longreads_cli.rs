//! `agemark telomere --long-reads` (issue 16, part 2) on the real Telogator2 test reads
//! (tests/data/longreads, MIT: HG002 ONT chr1p, HG002 PacBio HiFi, maize HiFi with TTTAGGG),
//! checked read by read against the rule the module states, and on SYNTHETIC aligned reads
//! written here (labelled) for the arm; bad input on purpose.

use std::{collections::BTreeMap, fs, io::Read, path::Path};

use crate::common::{agemark, repo, tempdir, Table};

fn run_long(input: &Path, motif: &str, out: &Path) -> (Table, Vec<BTreeMap<String, String>>) {
    agemark([
        "telomere",
        input.to_str().unwrap(),
        "--long-reads",
        "--motif",
        motif,
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let t = Table::read(&out.with_extension("telomere.tsv"));
    let reads = Table::read(&out.with_extension("telomere_reads.tsv")).rows;
    (t, reads)
}

/// The reads of a FASTA(.gz) by name.
fn fasta(path: &Path) -> BTreeMap<String, String> {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut out = BTreeMap::new();
    let mut name = String::new();
    for l in text.lines() {
        if let Some(n) = l.strip_prefix('>') {
            name = n.split_whitespace().next().unwrap().to_string();
            out.insert(name.clone(), String::new());
        } else {
            out.get_mut(&name).unwrap().push_str(l.trim());
        }
    }
    out
}

/// Which bases of `s` a rotation of `unit` covers.
fn covered(s: &[u8], unit: &[u8]) -> Vec<bool> {
    let k = unit.len();
    let rots: Vec<Vec<u8>> = (0..k).map(|i| [&unit[i..], &unit[..i]].concat()).collect();
    let mut covered = vec![false; s.len()];
    for i in 0..s.len().saturating_sub(k - 1) {
        if rots.iter().any(|r| &s[i..i + k] == r.as_slice()) {
            covered[i..i + k].iter_mut().for_each(|c| *c = true);
        }
    }
    covered
}

/// Fraction of `s` covered by any rotation of `unit`.
fn coverage(s: &[u8], unit: &[u8]) -> f64 {
    let k = unit.len();
    let rots: Vec<Vec<u8>> = (0..k).map(|i| [&unit[i..], &unit[..i]].concat()).collect();
    let mut covered = vec![false; s.len()];
    for i in 0..s.len().saturating_sub(k - 1) {
        if rots.iter().any(|r| &s[i..i + k] == r.as_slice()) {
            covered[i..i + k].iter_mut().for_each(|c| *c = true);
        }
    }
    covered.iter().filter(|&&c| c).count() as f64 / s.len().max(1) as f64
}

#[test]
fn real_ont_pacbio_and_maize_reads() {
    let dir = tempdir();
    for (file, motif, want_min, n_reads) in [
        ("hg002-ont-1p.fa.gz", "TTAGGG", 75, 83),
        ("hg002-telreads_pacbio.sub.fa.gz", "TTAGGG", 90, 200),
        ("ZMMo17-hifi-7p8p.fa.gz", "TTTAGGG", 13, 13),
    ] {
        let input = repo(&format!("tests/data/longreads/{file}"));
        let out = dir.path().join(file.split('.').next().unwrap());
        let (t, reads) = run_long(&input, motif, &out);
        let n = t.value("telomeric_reads") as usize;
        assert!(n >= want_min, "{file}: {n} telomeric reads");
        assert_eq!(t.row("telomeric_reads", "")["n_used"], n_reads.to_string());
        let seqs = fasta(&input);
        let ends: Vec<_> = reads
            .iter()
            .filter(|r| r["class"] == "telomeric_end")
            .collect();
        assert_eq!(ends.len(), n);
        let c_motif: String = motif
            .bytes()
            .rev()
            .map(|b| match b {
                b'A' => 'T',
                b'C' => 'G',
                b'G' => 'C',
                _ => 'A',
            })
            .collect();
        for r in &ends {
            // Each tract lies where the module says: C-rich at the start, G-rich at the end,
            // dense in its motif, and the 1 kb past it is not a telomere any more.
            let seq = seqs[&r["read_id"]].as_bytes();
            let len: usize = r["telomere_length_bp"].parse().unwrap();
            let off: usize = r["offset_bp"].parse().unwrap();
            let (unit, tract, beyond) = if r["read_end"] == "start" {
                assert_eq!(r["motif"], c_motif);
                (
                    c_motif.as_bytes(),
                    &seq[off..off + len],
                    &seq[off + len..(off + len + 1000).min(seq.len())],
                )
            } else {
                assert_eq!(r["read_end"], "end");
                assert_eq!(r["motif"], motif);
                let e = seq.len() - off;
                (
                    motif.as_bytes(),
                    &seq[e - len..e],
                    &seq[(e - len).saturating_sub(1000)..e - len],
                )
            };
            assert!(
                len >= 100 && off <= 200,
                "{file} {}: {len} {off}",
                r["read_id"]
            );
            // The tract opens with three repeats in a row and ends on a canonical repeat, read
            // from the read end inwards (bases covered by a canonical k-mer of the whole read).
            let k = unit.len();
            let mask = covered(seq, unit);
            let (open, close) = if r["read_end"] == "start" {
                (off..off + 3 * k, off + len - 1)
            } else {
                let e = seq.len() - off;
                (e - 3 * k..e, e - len)
            };
            assert!(open.clone().all(|i| mask[i]), "{file} {}", r["read_id"]);
            assert!(mask[close], "{file} {}", r["read_id"]);
            let _ = tract;
            if beyond.len() >= 500 {
                let past = coverage(beyond, unit);
                assert!(
                    past < 0.5,
                    "{file} {}: {past:.2} canonical past the tract",
                    r["read_id"]
                );
            }
        }
        // The summary agrees with the per-read table.
        let mut lengths: Vec<f64> = ends
            .iter()
            .map(|r| r["telomere_length_bp"].parse().unwrap())
            .collect();
        lengths.sort_by(f64::total_cmp);
        let mean = lengths.iter().sum::<f64>() / lengths.len() as f64;
        assert!((t.value("telomere_length_mean_bp") - mean).abs() < 1e-6);
        let short = lengths.iter().filter(|&&x| x < 3000.0).count() as f64 / lengths.len() as f64;
        assert!((t.value("short_telomere_fraction") - short).abs() < 1e-12);
    }
}

#[test]
fn aligned_reads_get_their_arm() {
    // SYNTHETIC: a 1 Mb contig; one read with a soft-clipped CCCTAA tract at the contig's start
    // (p arm), one with a TTAGGG tract at its end (q arm), one plain read.
    let dir = tempdir();
    let mut rng = 7u64;
    let mut filler = |n: usize| -> String {
        (0..n)
            .map(|_| {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                b"ACGT"[(rng >> 62) as usize] as char
            })
            .collect()
    };
    let p_tel = "CCCTAA".repeat(500);
    let p_body = filler(4000);
    let q_body = filler(4000);
    let q_tel = "TTAGGG".repeat(700);
    let plain = filler(5000);
    let sam = format!(
        "@HD\tVN:1.6\n@SQ\tSN:chrS\tLN:1000000\n@CO\tSYNTHETIC reads made by tests/suite/longreads_cli.rs\n\
         p1\t0\tchrS\t1\t60\t3000S4000M\t*\t0\t0\t{p_tel}{p_body}\t*\n\
         q1\t16\tchrS\t995001\t60\t4000M4200S\t*\t0\t0\t{q_body}{q_tel}\t*\n\
         x1\t0\tchrS\t500000\t60\t5000M\t*\t0\t0\t{plain}\t*\n\
         p1\t2048\tchrS\t1\t60\t3000S4000M\t*\t0\t0\t{p_tel}{p_body}\t*\n"
    );
    let path = dir.path().join("synthetic.sam");
    fs::write(&path, sam).unwrap();
    let (t, reads) = run_long(&path, "TTAGGG", &dir.path().join("s"));
    let got: Vec<(String, String, String)> = reads
        .iter()
        .map(|r| {
            (
                r["read_id"].clone(),
                r["arm"].clone(),
                r["telomere_length_bp"].clone(),
            )
        })
        .collect();
    // A filler base that happens to continue the repeat belongs to the tract.
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("p1", "chrSp"));
    assert_eq!((got[1].0.as_str(), got[1].1.as_str()), ("q1", "chrSq"));
    let l0: usize = got[0].2.parse().unwrap();
    let l1: usize = got[1].2.parse().unwrap();
    assert!(
        (3000..3006).contains(&l0) && (4200..4206).contains(&l1),
        "{got:?}"
    );
    assert_eq!(t.value("telomeric_reads"), 2.0);
    assert_eq!(t.row("telomeric_reads", "")["n_used"], "3"); // the supplementary is skipped
    assert_eq!(t.value("chrSp_telomere_length_median_bp"), l0 as f64);
}

#[test]
fn long_read_bad_input() {
    let dir = tempdir();
    let empty = dir.path().join("empty.fa");
    fs::write(&empty, "").unwrap();
    let run = agemark([
        "telomere",
        empty.to_str().unwrap(),
        "--long-reads",
        "-o",
        dir.path().join("e").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
    let junk = dir.path().join("junk.fa");
    fs::write(&junk, "ACGT\n>r\nACGT\n").unwrap();
    let run = agemark([
        "telomere",
        junk.to_str().unwrap(),
        "--long-reads",
        "-o",
        dir.path().join("j").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    let run = agemark([
        "telomere",
        repo("tests/data/longreads/ZMMo17-hifi-7p8p.fa.gz")
            .to_str()
            .unwrap(),
        "--long-reads",
        "--motif",
        "TTAGGX",
        "-o",
        dir.path().join("m").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("--motif"), "{}", run.stderr);
    let run = agemark([
        "telomere",
        repo("tests/data/longreads/ZMMo17-hifi-7p8p.fa.gz")
            .to_str()
            .unwrap(),
        "--long-reads",
        "-o",
        "-",
    ]);
    assert_ne!(run.code, Some(0));
    assert!(!dir.path().join("j.telomere_reads.tsv").exists());
    // The C-rich unit as --motif would silently invert the answer: refused with the G-rich one.
    let ont = repo("tests/data/longreads/hg002-ont-1p.fa.gz");
    let run = agemark([
        "telomere",
        ont.to_str().unwrap(),
        "--long-reads",
        "--motif",
        "CCCTAA",
        "-o",
        dir.path().join("c").to_str().unwrap(),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("TTAGGG"), "{}", run.stderr);
    // A directory as the prefix: refused before anything is written.
    let sub = dir.path().join("sub");
    let run = agemark([
        "telomere",
        ont.to_str().unwrap(),
        "--long-reads",
        "-o",
        &format!("{}/", sub.display()),
    ]);
    assert_ne!(run.code, Some(0));
    assert!(!sub.join(".telomere_reads.tsv").exists());
}

#[test]
fn run_with_long_reads_writes_per_molecule_tables_and_the_histogram() {
    let dir = tempdir();
    let sheet = dir.path().join("sheet.csv");
    fs::write(
        &sheet,
        format!(
            "sample_id,sample_type,age_years,reads\nONT1,whole_blood,40,{}\nPB1,cord_blood,0,{}\n",
            repo("tests/data/longreads/hg002-ont-1p.fa.gz").display(),
            repo("tests/data/longreads/hg002-telreads_pacbio.sub.fa.gz").display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--long-reads",
        "--outdir",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    for s in ["ONT1", "PB1"] {
        let per_read = Table::read(&out.join(format!("{s}/{s}.telomere_reads.tsv")));
        let long = Table::read(&out.join("cohort.long.tsv"));
        let n = long
            .rows
            .iter()
            .find(|r| r["sample_id"] == s && r["measure"] == "telomeric_reads")
            .unwrap()["value"]
            .parse::<f64>()
            .unwrap();
        let ends = per_read
            .rows
            .iter()
            .filter(|r| r["class"] == "telomeric_end")
            .count();
        assert_eq!(n as usize, ends, "{s}");
        // The histogram bins add up to the telomeric reads.
        let binned: f64 = long
            .rows
            .iter()
            .filter(|r| r["sample_id"] == s && r["measure"].starts_with("telomere_reads_"))
            .map(|r| r["value"].parse::<f64>().unwrap())
            .sum();
        assert_eq!(binned, n, "{s}");
    }
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(r#"data-plot="telomere:long_read_lengths""#));
    // The same sheet again: nothing to redo.
    let again = agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--long-reads",
        "--outdir",
        out.to_str().unwrap(),
    ]);
    again.assert_ok();
    assert!(
        again.stderr.contains("2 skipped as unchanged"),
        "{}",
        again.stderr
    );
}
