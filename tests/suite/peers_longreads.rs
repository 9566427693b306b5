//! Long-read peers (issue 16), in telometer's pinned venv (telometer 2.0.3 with pysam 0.24.1;
//! tests/peers/longread_peers.py):
//! * pysam's `modified_bases` on every record of the htslib spec examples and of a SYNTHETIC
//!   modBAM: the same calls (base, strand, code, position, ML byte) as our decoder, exactly;
//! * a modkit-style CpG pileup written on pysam: the same per-site counts as `agemark pileup`;
//! * telometer's region finder on the real HG002 ONT and PacBio reads: the same reads called
//!   telomeric and lengths within the stated tolerance.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    io::Read,
    path::{Path, PathBuf},
    process::Command,
};

use agemark::{
    reads::modbam::{decode, ModCode},
    synthetic::{write_modbam_reference, write_modbam_sam, ModbamSpec},
};

use crate::common::{agemark, peer_python, repo, tempdir};

fn python() -> PathBuf {
    peer_python(
        "telometer",
        "AGEMARK_TELOMETER_PYTHON",
        "python3 -m venv ~/.cache/agemark-peers/telometer-venv && pip install telometer==2.0.3",
    )
}

fn peer(args: &[&str]) -> String {
    let out = Command::new(python())
        .arg(repo("tests/peers/longread_peers.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "longread_peers.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn synthetic(dir: &Path) -> (PathBuf, PathBuf) {
    let spec = ModbamSpec {
        contig: "chrT".to_string(),
        length: 200_000,
        sites: (0..300u64)
            .map(|i| (1_000 + i * 613, (i % 7) as f64 / 6.0))
            .collect(),
        reads_per_site: 6,
        read_length: 8_000,
        confidence: 230,
        seed: 99,
    };
    let fa = dir.join("chrT.fa");
    let mut w = std::io::BufWriter::new(fs::File::create(&fa).unwrap());
    write_modbam_reference(&mut w, &spec).unwrap();
    drop(w);
    let sam = dir.join("synthetic.sam");
    let mut w = std::io::BufWriter::new(fs::File::create(&sam).unwrap());
    write_modbam_sam(&mut w, &spec).unwrap();
    drop(w);
    (sam, fa)
}

/// Our decoder's calls of every record of a SAM file, as pysam writes them: file, record,
/// read, base, strand (MM's, flipped for reverse records), code, position in SEQ, ML byte.
fn our_calls(path: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(path).unwrap();
    let f = path.display().to_string();
    let mut out = BTreeSet::new();
    let mut record = 0;
    for line in text.lines().filter(|l| !l.starts_with('@')) {
        record += 1;
        let c: Vec<&str> = line.split('\t').collect();
        let flag: u16 = c[1].parse().unwrap();
        let reverse = flag & 16 != 0;
        let tag = |names: [&str; 2]| {
            c[11..]
                .iter()
                .find(|t| names.iter().any(|n| t.starts_with(n)))
                .map(|t| t[5..].to_string())
        };
        let Some(mm) = tag(["MM:Z:", "Mm:Z:"]) else {
            continue;
        };
        let ml: Vec<u8> = tag(["ML:B:", "Ml:B:"])
            .map(|v| v.split(',').skip(1).map(|x| x.parse().unwrap()).collect())
            .unwrap_or_default();
        let (sets, calls) = decode(c[9].as_bytes(), reverse, mm.as_bytes(), &ml).unwrap();
        for call in calls {
            let set = &sets[call.set];
            let strand = u8::from(set.strand == b'-') ^ u8::from(reverse);
            let code = match call.code {
                ModCode::Letter(l) => (l as char).to_string(),
                ModCode::Chebi(n) => n.to_string(),
            };
            out.insert(format!(
                "{f}\t{record}\t{}\t{}\t{strand}\t{code}\t{}\t{}",
                c[0], set.base as char, call.pos, call.prob
            ));
        }
    }
    out
}

#[test]
#[ignore = "needs pysam 0.24.1 (pip, telometer's venv): run by .ci/run"]
fn pysam_decodes_the_same_calls_from_every_record() {
    let dir = tempdir();
    let (sam, _) = synthetic(dir.path());
    let mut files: Vec<PathBuf> = fs::read_dir(repo("tests/data/modbam"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sam"))
        .collect();
    files.sort();
    files.push(sam);
    let mut total = 0;
    for f in &files {
        let theirs: BTreeSet<String> = peer(&["modbases", f.to_str().unwrap()])
            .lines()
            .map(str::to_string)
            .collect();
        let ours = our_calls(f);
        assert!(!theirs.is_empty(), "{}", f.display());
        let only_theirs: Vec<_> = theirs.difference(&ours).take(5).collect();
        let only_ours: Vec<_> = ours.difference(&theirs).take(5).collect();
        assert!(
            only_theirs.is_empty() && only_ours.is_empty(),
            "{}: pysam only {only_theirs:?}; ours only {only_ours:?}",
            f.display()
        );
        total += ours.len();
    }
    assert!(total > 10_000, "{total} calls compared");
    eprintln!(
        "pysam parity: {total} calls in {} files identical",
        files.len()
    );
}

/// `agemark pileup` rows as the peer prints them: chrom, pos, strand, N_mod, N_canonical,
/// N_other, N_fail, N_diff, N_nocall (the `m` rows).
fn our_pileup(sam: &Path, fa: &Path, threshold: &str, dir: &Path) -> BTreeSet<String> {
    let out = dir.join("p");
    agemark([
        "pileup",
        sam.to_str().unwrap(),
        "-r",
        fa.to_str().unwrap(),
        "--mod-threshold",
        threshold,
        "-o",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(dir.join("p.bedmethyl.gz")).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c[3] == "m")
        .map(|c| {
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                c[0], c[1], c[5], c[11], c[12], c[13], c[15], c[16], c[17]
            )
        })
        .collect()
}

#[test]
#[ignore = "needs pysam 0.24.1 (pip, telometer's venv): run by .ci/run"]
fn a_pileup_written_on_pysam_gives_the_same_counts() {
    let dir = tempdir();
    let (sam, fa) = synthetic(dir.path());
    let spec_fa = dir.path().join("I.fa");
    let seq = "AGCTCTCCAGAGTCGNACGCCATYCGCGCGCCACCA";
    fs::write(
        &spec_fa,
        format!(">I\n{seq}{}\n", "N".repeat(999 - seq.len())),
    )
    .unwrap();
    let spec_sam = repo("tests/data/modbam/MM-pileup.sam");
    let mut sites = 0;
    for (s, f, t) in [
        (&sam, &fa, "0"),
        (&sam, &fa, "0.9"),
        (&spec_sam, &spec_fa, "0"),
        (&spec_sam, &spec_fa, "0.7"),
    ] {
        let theirs: BTreeSet<String> =
            peer(&["pileup", s.to_str().unwrap(), f.to_str().unwrap(), t])
                .lines()
                .map(str::to_string)
                .collect();
        let ours = our_pileup(s, f, t, dir.path());
        assert_eq!(ours, theirs, "{} at threshold {t}", s.display());
        sites += ours.len();
    }
    assert!(sites > 1000, "{sites}");
    eprintln!("pileup parity: {sites} CpG strands identical");
}

#[test]
#[ignore = "needs telometer 2.0.3 (pip, own venv): run by .ci/run"]
fn telometer_finds_the_same_telomeres_within_tolerance() {
    let dir = tempdir();
    for (file, max_median, min_within) in [
        ("hg002-ont-1p.fa.gz", 0.05, 0.85),
        ("hg002-telreads_pacbio.sub.fa.gz", 0.05, 0.85),
    ] {
        let input = repo(&format!("tests/data/longreads/{file}"));
        let out = dir.path().join("t");
        agemark([
            "telomere",
            input.to_str().unwrap(),
            "--long-reads",
            "-o",
            out.to_str().unwrap(),
        ])
        .assert_ok();
        let ours: BTreeMap<String, f64> =
            fs::read_to_string(dir.path().join("t.telomere_reads.tsv"))
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| l.split('\t').collect::<Vec<_>>())
                .filter(|c| c[4] == "telomeric_end")
                .map(|c| (c[1].to_string(), c[3].parse().unwrap()))
                .collect();
        let theirs: BTreeMap<String, f64> = peer(&["telometer", input.to_str().unwrap()])
            .lines()
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|c| c[3] != "0")
            .map(|c| (c[0].to_string(), c[3].parse().unwrap()))
            .collect();
        let a: BTreeSet<&String> = ours.keys().collect();
        let b: BTreeSet<&String> = theirs.keys().collect();
        let both: Vec<&&String> = a.intersection(&b).collect();
        let jaccard = both.len() as f64 / a.union(&b).count() as f64;
        let mut rel: Vec<f64> = both
            .iter()
            .map(|n| (ours[**n] - theirs[**n]).abs() / theirs[**n])
            .collect();
        rel.sort_by(f64::total_cmp);
        let median = rel[rel.len() / 2];
        let within = rel.iter().filter(|&&r| r <= 0.10).count() as f64 / rel.len() as f64;
        eprintln!(
            "{file}: ours {} telomeric, telometer {}, both {} (Jaccard {jaccard:.3}); median |diff| {:.1} %, {:.1} % of reads within 10 %, largest {:.1} %",
            a.len(),
            b.len(),
            both.len(),
            100.0 * median,
            100.0 * within,
            100.0 * rel[rel.len() - 1]
        );
        assert!(jaccard >= 0.9, "{file}: Jaccard {jaccard}");
        assert!(median <= max_median, "{file}: median {median}");
        assert!(within >= min_within, "{file}: within {within}");
    }
}
