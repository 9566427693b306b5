//! `agemark mtdna` and `agemark reads` end to end: alignments written from SAM text inside each
//! test (so every base of the expected depths is visible here), the real bundled BAM/CRAM, and
//! every bad input the issue lists.

use std::{fs, path::Path};

use crate::common::{agemark, demo, list_tree, sam_to_bam, seq, tempdir, Table};

const QUAL100: &str = "IIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIII";

fn seq100() -> String {
    "ACGT".repeat(25)
}

/// A small genome: two autosomes of 10,000 and 30,000 bp and a mitochondrion, named in one of
/// the styles users meet. Reads:
/// - 3 on the mitochondrion: 100M at 0, 50M10D50M at 1000 (100 M bases, span 110),
///   100M at 16,500 (overhangs the 16,569 bp end: 69 bases inside);
/// - 4 on autosome 1: 100M ×2, one duplicate (excluded), one secondary (excluded);
/// - 1 on autosome 2: 40M20N60M (100 M bases, span 120), MAPQ 10;
/// - one unmapped read placed on autosome 1 (excluded).
fn sam(chr1: &str, chr2: &str, mt: &str, mt_len: u32) -> String {
    let s = seq100();
    let q = QUAL100;
    format!(
        "@HD\tVN:1.6\tSO:coordinate\n\
         @SQ\tSN:{chr1}\tLN:10000\n@SQ\tSN:{chr2}\tLN:30000\n@SQ\tSN:{mt}\tLN:{mt_len}\n@SQ\tSN:chrX\tLN:5000\n\
         @RG\tID:rg1\tSM:S1\n\
         a1\t0\t{chr1}\t101\t60\t100M\t*\t0\t0\t{s}\t{q}\tRG:Z:rg1\n\
         a2\t16\t{chr1}\t201\t60\t100M\t*\t0\t0\t{s}\t{q}\tRG:Z:rg1\n\
         a3\t1024\t{chr1}\t301\t60\t100M\t*\t0\t0\t{s}\t{q}\tRG:Z:rg1\n\
         a4\t256\t{chr1}\t401\t60\t100M\t*\t0\t0\t{s}\t{q}\tRG:Z:rg1\n\
         u1\t4\t{chr1}\t501\t0\t*\t*\t0\t0\t{s}\t{q}\tRG:Z:rg1\n\
         b1\t0\t{chr2}\t1001\t10\t40M20N60M\t*\t0\t0\t{s}\t{q}\tRG:Z:rg1\n\
         m1\t0\t{mt}\t1\t60\t100M\t*\t0\t0\t{s}\t{q}\tRG:Z:rg1\n\
         m2\t0\t{mt}\t1001\t60\t50M10D50M\t*\t0\t0\t{s}\t{q}\tRG:Z:rg1\n\
         m3\t0\t{mt}\t16501\t60\t100M\t*\t0\t0\t{s}\t{q}\tRG:Z:rg1\n"
    )
}

fn write_bam(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    sam_to_bam(text, &p);
    p.display().to_string()
}

fn mtdna_table(args: &[&str]) -> Table {
    let mut all = vec!["mtdna"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "-", "-q"]);
    let run = agemark(&all);
    run.assert_ok();
    Table::parse(&run.stdout_text())
}

#[test]
fn depths_and_copy_number_from_sam_text_by_both_rules() {
    let dir = tempdir();
    let bam = write_bam(dir.path(), "s.bam", &sam("chr1", "chr2", "chrM", 16_569));
    // Default rule: M/=/X bases. chrM 100 + 100 + 69; autosomes 100 + 100 + 100.
    let t = mtdna_table(&[&bam]);
    let mito = (100.0 + 100.0 + 69.0) / 16_569.0;
    let auto = 300.0 / 40_000.0;
    assert_eq!(t.value("chrM_bases"), 269.0);
    assert_eq!(t.value("chrM_reads"), 3.0);
    assert_eq!(t.value("autosomal_bases"), 300.0);
    assert_eq!(t.value("autosomal_reads"), 3.0);
    assert_eq!(t.value("chrM_mean_depth"), mito);
    assert_eq!(t.value("autosomal_mean_depth"), auto);
    assert_eq!(t.value("mtdna_cn"), 2.0 * mito / auto);
    // A header with 2 of 22 autosomes is computed but flagged.
    assert_eq!(t.row("mtdna_cn", "")["qc_status"], "warn");
    assert!(t.row("mtdna_cn", "")["qc_note"].contains("only 2 of 22 autosomes"));
    // mosdepth -x rule: whole spans (D and N included), clipped at the contig end.
    let c = mtdna_table(&["--mosdepth-compat", &bam]);
    assert_eq!(c.value("chrM_bases"), 100.0 + 110.0 + 69.0);
    assert_eq!(c.value("autosomal_bases"), 100.0 + 100.0 + 120.0);
    // MAPQ filter drops the MAPQ-10 read on chr2.
    let q = mtdna_table(&["--min-mapq", "20", &bam]);
    assert_eq!(q.value("autosomal_reads"), 2.0);
}

#[test]
fn every_naming_style_gives_the_same_numbers() {
    let dir = tempdir();
    let reference = mtdna_table(&[&write_bam(
        dir.path(),
        "ucsc.bam",
        &sam("chr1", "chr2", "chrM", 16_569),
    )]);
    for (i, (c1, c2, mt)) in [
        ("1", "2", "MT"),
        ("NC_000001.11", "NC_000002.12", "NC_012920.1"),
        ("CM000663.2", "CM000664.2", "J01415.2"),
        ("NC_060925.1", "NC_060926.1", "chrMT"),
    ]
    .iter()
    .enumerate()
    {
        let t = mtdna_table(&[&write_bam(
            dir.path(),
            &format!("n{i}.bam"),
            &sam(c1, c2, mt, 16_569),
        )]);
        for m in [
            "mtdna_cn",
            "chrM_mean_depth",
            "autosomal_mean_depth",
            "chrM_reads",
        ] {
            assert_eq!(
                t.value(m),
                reference.value(m),
                "{m} with names {c1}/{c2}/{mt}"
            );
        }
    }
}

#[test]
fn hg19_chrm_is_computed_and_flagged() {
    let dir = tempdir();
    let t = mtdna_table(&[&write_bam(
        dir.path(),
        "hg19.bam",
        &sam("chr1", "chr2", "chrM", 16_571),
    )]);
    // The read at 16,501 now has 71 of its bases inside the longer contig.
    assert_eq!(t.value("chrM_mean_depth"), 271.0 / 16_571.0);
    let row = t.row("mtdna_cn", "");
    assert_eq!(row["qc_status"], "warn");
    assert!(row["qc_note"].contains("hg19"), "{}", row["qc_note"]);
}

#[test]
fn zero_chrm_reads_still_give_every_row() {
    let dir = tempdir();
    let text: String = sam("chr1", "chr2", "chrM", 16_569)
        .lines()
        .filter(|l| !l.starts_with('m'))
        .map(|l| format!("{l}\n"))
        .collect();
    let t = mtdna_table(&[&write_bam(dir.path(), "nomt.bam", &text)]);
    for m in ["mtdna_cn", "chrM_mean_depth", "chrM_reads", "chrM_bases"] {
        assert_eq!(t.value(m), 0.0, "{m}");
    }
    assert_eq!(t.row("mtdna_cn", "")["qc_status"], "warn");
    assert!(t.value("autosomal_mean_depth") > 0.0);
}

#[test]
fn per_read_group_rows_when_asked() {
    let dir = tempdir();
    let bam = write_bam(dir.path(), "s.bam", &sam("chr1", "chr2", "chrM", 16_569));
    let t = mtdna_table(&["--per-read-group", &bam]);
    assert_eq!(t.value_in("mtdna_cn", "rg1"), t.value("mtdna_cn"));
}

fn assert_clean_failure(args: &[&str], dir: &Path, needle: &str) {
    let run = agemark(args);
    assert_ne!(run.code, Some(0), "{} should fail", run.cmdline);
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "one line on stderr: {:?}", lines);
    assert!(
        lines[0].contains(needle),
        "{:?} should mention {needle:?}",
        lines[0]
    );
    // The output directory may have been created up front (to fail early when it cannot be);
    // no file may be in it.
    let left: Vec<String> = list_tree(&dir.join("out"))
        .into_iter()
        .filter(|f| !dir.join("out").join(f).is_dir())
        .collect();
    assert!(left.is_empty(), "no output left behind: {left:?}");
}

#[test]
fn bad_inputs_fail_with_one_clear_line_and_no_output() {
    let dir = tempdir();
    let d = dir.path();
    let out = d.join("out").join("x").display().to_string();
    // No mitochondrial contig.
    let text: String = sam("chr1", "chr2", "chrM", 16_569)
        .lines()
        .filter(|l| !l.contains("chrM"))
        .map(|l| format!("{l}\n"))
        .collect();
    let nomito = write_bam(d, "nomito.bam", &text);
    assert_clean_failure(
        &["mtdna", &nomito, "-o", &out],
        d,
        "no mitochondrial contig",
    );
    // No autosomes.
    let text: String = sam("chr1", "chr2", "chrM", 16_569)
        .lines()
        .filter(|l| !l.contains("chr1") && !l.contains("chr2"))
        .map(|l| format!("{l}\n"))
        .collect();
    let noauto = write_bam(d, "noauto.bam", &text);
    assert_clean_failure(&["mtdna", &noauto, "-o", &out], d, "no autosomes");
    // Fast mode without an index.
    let bam = write_bam(d, "s.bam", &sam("chr1", "chr2", "chrM", 16_569));
    assert_clean_failure(
        &["mtdna", "--mode", "fast", &bam, "-o", &out],
        d,
        "samtools index",
    );
    // CRAM decoded with a reference whose MD5 differs.
    let mt = fs::read_to_string(seq("ref/MT.fa")).unwrap();
    let (head, body) = mt.split_once('\n').unwrap();
    let mut bases: Vec<u8> = body.bytes().collect();
    let i = bases.iter().position(|&b| b == b'A').unwrap();
    bases[i] = b'C';
    let bad_ref = d.join("badMT.fa");
    fs::write(
        &bad_ref,
        format!("{head}\n{}", String::from_utf8(bases).unwrap()),
    )
    .unwrap();
    let cram = seq("HG03478_MT.cram").display().to_string();
    assert_clean_failure(
        &[
            "mtdna",
            &cram,
            "--reference",
            &bad_ref.display().to_string(),
            "-o",
            &out,
        ],
        d,
        "MD5",
    );
}

#[test]
fn fast_mode_with_every_window_equals_full_mode() {
    let dir = tempdir();
    let bam = write_bam(dir.path(), "s.bam", &sam("chr1", "chr2", "chrM", 16_569));
    match noodles_bam::fs::index(&bam).unwrap() {
        noodles_bam::Index::Bai(index) => {
            noodles_bam::bai::fs::write(format!("{bam}.bai"), &index).unwrap()
        }
        other => panic!("expected a BAI index, got {other:?}"),
    }
    let full = mtdna_table(&[&bam]);
    // 1 kb windows, more windows than exist: the whole autosomal length is sampled.
    let fast = mtdna_table(&[
        "--mode",
        "fast",
        "--fast-window-size",
        "1000",
        "--fast-windows",
        "100000",
        &bam,
    ]);
    for m in [
        "mtdna_cn",
        "chrM_mean_depth",
        "autosomal_mean_depth",
        "chrM_bases",
        "autosomal_bases",
    ] {
        assert_eq!(fast.value(m), full.value(m), "{m}");
    }
    assert_eq!(fast.value("autosomal_sampled_fraction"), 1.0);
    // A sample of windows reports its fraction.
    let some = mtdna_table(&[
        "--mode",
        "fast",
        "--fast-window-size",
        "1000",
        "--fast-windows",
        "10",
        &bam,
    ]);
    assert_eq!(
        some.value("autosomal_sampled_fraction"),
        10_000.0 / 40_000.0
    );
    assert_eq!(some.value("chrM_bases"), full.value("chrM_bases"));
}

#[test]
fn real_mitochondrial_reads_same_from_bam_cram_and_fast_mode() {
    let bam = demo("HG03478_MT.bam").display().to_string();
    let cram = seq("HG03478_MT.cram").display().to_string();
    let reference = seq("ref/MT.fa").display().to_string();
    let b = mtdna_table(&[&bam]);
    let c = mtdna_table(&[&cram, "--reference", &reference]);
    let f = mtdna_table(&["--mode", "fast", &bam]);
    for m in ["chrM_mean_depth", "chrM_reads", "chrM_bases"] {
        assert_eq!(b.value(m), c.value(m), "{m}: BAM vs CRAM");
        assert_eq!(b.value(m), f.value(m), "{m}: full vs fast");
    }
    assert!(b.value("chrM_mean_depth") > 40.0, "HG03478 has ~45x on MT");
    // No autosomal reads in this subset: the copy number cannot be computed, and says why.
    let row = b.row("mtdna_cn", "");
    assert_eq!(row["qc_status"], "fail");
    assert_eq!(row["value"], "");
    assert!(row["qc_note"].contains("autosomal"));
}

#[test]
fn reads_writes_both_tables_from_one_pass_matching_the_single_stage_commands() {
    let dir = tempdir();
    let bam = seq("htsnexus_test_NA12878.bam").display().to_string();
    let prefix = dir.path().join("r").join("na").display().to_string();
    agemark(["reads", &bam, "-o", &prefix, "-q"]).assert_ok();
    let both_tel = Table::read(Path::new(&format!("{prefix}.telomere.tsv")));
    let both_mt = Table::read(Path::new(&format!("{prefix}.mtdna.tsv")));
    assert!(Path::new(&format!("{prefix}.telomere.parquet")).exists());
    assert!(Path::new(&format!("{prefix}.mtdna.parquet")).exists());
    let tel = crate::common::telomere_stdout([&bam]);
    let mt = mtdna_table(&[&bam]);
    assert_eq!(both_tel.rows, tel.rows);
    assert_eq!(both_mt.rows, mt.rows);
    // FASTQ has no alignments: the telomere table is written, the mtDNA table says why it failed.
    let fq = demo("adam_interleaved_telomeric_250bp.ifq.fq")
        .display()
        .to_string();
    let p2 = dir.path().join("fq").display().to_string();
    agemark(["reads", &fq, "--interleaved", "-o", &p2, "-q"]).assert_ok();
    let m = Table::read(Path::new(&format!("{p2}.mtdna.tsv")));
    assert_eq!(m.row("mtdna_cn", "")["qc_status"], "fail");
    assert!(m.row("mtdna_cn", "")["qc_note"].contains("aligned"));
}
