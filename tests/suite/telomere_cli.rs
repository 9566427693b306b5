//! `agemark telomere` end to end: the built binary on small reads written inside each test and
//! on the real reads bundled in `reference/demo/` and `tests/data/seq/`.
//!
//! Needs nothing but Rust: the reference values below were measured once with the real tools
//! (TelSeq 0.0.1, telomerehunter2 1.0.12) and are asserted as constants here;
//! `tests/peers_telomere.rs` re-runs telomerehunter2 itself side by side.

use std::{fs, io::Write, path::Path};

use crate::common::{
    agemark, agemark_stdin, bam_record_count, demo, list_tree, printf_g6, revcomp, sam_to_bam, seq,
    telomere_stdout, tempdir, Table,
};

// ---------------------------------------------------------------------------------------------
// The same reads in every input format.

/// 100 bp reads. TelSeq counts TTAGGG/CCCTAA (k = 7); TelomereHunter's threshold for 100 bp is 6.
const TEL16: &str = "TTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAG"; // 16 repeats, GC 49 %
const CTEL12: &str = "CCCTAACCCTAACCCTAACCCTAACCCTAACCCTAACCCTAACCCTAACCCTAACCCTAACCCTAACCCTAAACGTACGTACGTACGTACGTACGTACGT"; // 12 repeats (C strand), GC 50 %
const TEL10: &str = "TTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGTTAGGGATATATATATATATATATATATATATATATATATATATAT"; // 10 repeats, GC 30 %
const N50A: &str = "ACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGT"; // GC 50 %
const N50B: &str = "GATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATCGATC"; // GC 50 %
const N51: &str = "ACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTGGCA"; // GC 51 %
const N40: &str = "AATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGCAATGC"; // GC 40 %
const N60: &str = "GGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCATGGCAT"; // GC 60 %

/// One SAM record of the fixture: (QNAME, FLAG, RNAME, POS, MAPQ, SEQ as stored, read group).
type Rec = (
    &'static str,
    u16,
    &'static str,
    u32,
    u8,
    &'static str,
    &'static str,
);

/// Four read pairs on GRCh37 (the @SQ line's chr1 length identifies the build) in two read
/// groups of one sample, plus one secondary alignment:
/// * pair1: a telomeric read 1 mapped at the chr1 p-arm end with MAPQ 0 (so TelomereHunter calls
///   it unmapped), its mate a plain read on the reverse strand; and a secondary copy of read 1
///   (same sequence) that must never be counted in default mode;
/// * pair2: both mates unmapped, both telomeric (C strand and G strand);
/// * pair3: both mates flagged duplicate (kept by both estimators by default);
/// * pair4: plain reads, read 2 last in the file.
const RECORDS: [Rec; 9] = [
    ("pair1", 99, "1", 10001, 0, TEL16, "lane1"),
    ("pair1", 355, "1", 249240001, 0, TEL16, "lane1"),
    ("pair1", 147, "1", 10201, 60, N50A, "lane1"),
    ("pair2", 77, "*", 0, 0, CTEL12, "lane1"),
    ("pair2", 141, "*", 0, 0, TEL10, "lane1"),
    ("pair3", 1123, "1", 500001, 60, N40, "lane2"),
    ("pair3", 1171, "1", 500201, 60, N60, "lane2"),
    ("pair4", 99, "1", 600001, 60, N50B, "lane2"),
    ("pair4", 147, "1", 600201, 60, N51, "lane2"),
];

fn fixture_sam() -> String {
    let mut s = String::from(
        "@HD\tVN:1.6\tSO:unsorted\n\
         @SQ\tSN:1\tLN:249250621\n\
         @RG\tID:lane1\tSM:S1\tLB:L1\n\
         @RG\tID:lane2\tSM:S1\tLB:L1\n",
    );
    for &(name, flag, rname, pos, mapq, seq, rg) in &RECORDS {
        assert_eq!(seq.len(), 100, "{name}: fixture reads are 100 bp");
        let unmapped = flag & 0x4 != 0;
        let (cigar, rnext, pnext) = if unmapped {
            ("*", "*", 0)
        } else {
            (
                "100M",
                "=",
                if flag & 0x40 != 0 {
                    pos + 200
                } else {
                    pos.saturating_sub(200)
                },
            )
        };
        let qual = "I".repeat(100);
        s.push_str(&format!("{name}\t{flag}\t{rname}\t{pos}\t{mapq}\t{cigar}\t{rnext}\t{pnext}\t0\t{seq}\t{qual}\tRG:Z:{rg}\n"));
    }
    s
}

/// The primary reads as the sequencer wrote them (reverse-strand reads turned back).
fn fastq_reads() -> Vec<(&'static str, bool, String)> {
    RECORDS
        .iter()
        .filter(|r| r.1 & 0x900 == 0)
        .map(|&(name, flag, _, _, _, seq, _)| {
            let original = if flag & 0x10 != 0 {
                revcomp(seq)
            } else {
                seq.to_string()
            };
            (name, flag & 0x40 != 0, original)
        })
        .collect()
}

fn fastq_record(name: &str, seq: &str) -> String {
    format!("@{name}\n{seq}\n+\n{}\n", "I".repeat(seq.len()))
}

#[test]
fn every_input_format_gives_the_same_numbers_for_the_same_reads() {
    let dir = tempdir();
    let d = dir.path();
    let sam = d.join("fixture.sam");
    fs::write(&sam, fixture_sam()).unwrap();
    let bam = d.join("fixture.bam");
    sam_to_bam(&fixture_sam(), &bam);

    let reads = fastq_reads();
    let mut single = String::new();
    let mut interleaved = String::new();
    let (mut r1, mut r2) = (String::new(), String::new());
    for (name, first, s) in &reads {
        let mate = if *first { 1 } else { 2 };
        single.push_str(&fastq_record(&format!("{name}/{mate}"), s));
        // Casava 1.8 style names in the interleaved file: the mate is in the comment.
        interleaved.push_str(&fastq_record(&format!("{name} {mate}:N:0:ACGT"), s));
        if *first {
            r1.push_str(&fastq_record(&format!("{name}/1"), s));
        } else {
            r2.push_str(&fastq_record(&format!("{name}/2"), s));
        }
    }
    let fq = d.join("reads.fq");
    fs::write(&fq, &single).unwrap();
    let fq_gz = d.join("reads.fq.gz");
    let mut gz = flate2::write::GzEncoder::new(
        fs::File::create(&fq_gz).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(single.as_bytes()).unwrap();
    gz.finish().unwrap();
    let (fq1, fq2) = (d.join("reads_R1.fq"), d.join("reads_R2.fq"));
    fs::write(&fq1, &r1).unwrap();
    fs::write(&fq2, &r2).unwrap();
    let ifq = d.join("reads.ifq.fq");
    fs::write(&ifq, &interleaved).unwrap();

    let sam_t = telomere_stdout([&sam]);
    // The expected numbers, by hand from the fixture (primary reads only).
    assert_eq!(
        sam_t.distinct("sample_id"),
        ["S1"],
        "sample id from the read groups' SM"
    );
    assert_eq!(sam_t.distinct("reference_build"), ["GRCh37"]);
    assert_eq!(
        sam_t.value("reads_total"),
        8.0,
        "8 primary reads; the secondary is not a read"
    );
    assert_eq!(sam_t.value("read_length"), 100.0);
    assert_eq!(
        sam_t.value("telseq_reads_ge_k"),
        3.0,
        "TEL16, CTEL12 and TEL10"
    );
    assert_eq!(sam_t.value("telseq_tel16"), 1.0);
    assert_eq!(sam_t.value("telseq_tel12"), 1.0);
    assert_eq!(sam_t.value("telseq_tel10"), 1.0);
    assert_eq!(
        sam_t.value("reads_gc_48_52"),
        5.0,
        "GC 49, 50, 50, 50, 51 %"
    );
    let len = sam_t.value("telseq_length_kb");
    assert!(
        (len - 3.0 / 5.0 * 332_720_800.0 / 1000.0 / 46.0).abs() < 1e-9,
        "telseq_length_kb {len}"
    );
    assert_eq!(sam_t.value("th_reads_total"), 8.0);
    assert_eq!(sam_t.value("th_reads_gc_48_52"), 5.0);
    assert_eq!(sam_t.value("th_repeat_threshold"), 6.0);
    assert_eq!(sam_t.value("th_telomeric_reads"), 3.0);
    assert_eq!(
        sam_t.value("th_intratelomeric_reads"),
        3.0,
        "MAPQ 0 and unmapped reads are intratelomeric"
    );
    assert_eq!(sam_t.value("th_junction_spanning_reads"), 0.0);
    assert_eq!(sam_t.value("th_subtelomeric_reads"), 0.0);
    assert_eq!(sam_t.value("th_intrachromosomal_reads"), 0.0);
    assert_eq!(sam_t.value("th_telomere_content"), 600_000.0);
    // Per read group: the secondary (lane1) is left out there too.
    assert_eq!(sam_t.value_in("reads_total", "lane1"), 4.0);
    assert_eq!(sam_t.value_in("reads_total", "lane2"), 4.0);
    assert_eq!(sam_t.value_in("telseq_reads_ge_k", "lane1"), 3.0);
    assert_eq!(sam_t.value_in("telseq_reads_ge_k", "lane2"), 0.0);
    assert_eq!(sam_t.value_in("reads_gc_48_52", "lane1"), 3.0);
    assert_eq!(sam_t.value_in("reads_gc_48_52", "lane2"), 2.0);

    // BAM (file and stdin) and SAM on stdin: the whole table is the same but for `input`.
    let bam_bytes = fs::read(&bam).unwrap();
    let bam_t = telomere_stdout([&bam]);
    assert_eq!(bam_t.without("input"), sam_t.without("input"), "BAM vs SAM");
    assert_eq!(bam_t.distinct("input"), ["fixture.bam"]);
    let run = agemark_stdin(["telomere", "-", "-o", "-", "-q"], &bam_bytes);
    run.assert_ok();
    let stdin_t = Table::parse(&run.stdout_text());
    assert_eq!(
        stdin_t.without("input"),
        sam_t.without("input"),
        "BAM on stdin vs SAM"
    );
    assert_eq!(stdin_t.distinct("input"), ["stdin"]);
    let run = agemark_stdin(["telomere", "-", "-o", "-", "-q"], fixture_sam().as_bytes());
    run.assert_ok();
    assert_eq!(
        Table::parse(&run.stdout_text()).without("input"),
        sam_t.without("input"),
        "SAM on stdin vs SAM"
    );

    // FASTQ has no header: no read groups, no build, so compare the sample-level numbers.
    let expected = sam_t.sample_numbers();
    let s1 = ["--sample-id", "S1"];
    let cases: Vec<(&str, Table)> = vec![
        (
            "FASTQ",
            telomere_stdout([fq.as_os_str(), "--sample-id".as_ref(), "S1".as_ref()]),
        ),
        (
            "FASTQ gzip",
            telomere_stdout([fq_gz.as_os_str(), "--sample-id".as_ref(), "S1".as_ref()]),
        ),
        (
            "FASTQ pair in two files",
            telomere_stdout([
                fq1.as_os_str(),
                fq2.as_os_str(),
                "--sample-id".as_ref(),
                "S1".as_ref(),
            ]),
        ),
        (
            "interleaved FASTQ",
            telomere_stdout([
                ifq.as_os_str(),
                "--interleaved".as_ref(),
                "--sample-id".as_ref(),
                "S1".as_ref(),
            ]),
        ),
        ("FASTQ on stdin", {
            let run = agemark_stdin(
                ["telomere", "-", "-o", "-", "-q", s1[0], s1[1]],
                single.as_bytes(),
            );
            run.assert_ok();
            Table::parse(&run.stdout_text())
        }),
        ("FASTQ gzip on stdin", {
            let run = agemark_stdin(
                ["telomere", "-", "-o", "-", "-q", s1[0], s1[1]],
                &fs::read(&fq_gz).unwrap(),
            );
            run.assert_ok();
            Table::parse(&run.stdout_text())
        }),
    ];
    for (what, t) in &cases {
        assert_eq!(
            t.sample_numbers(),
            expected,
            "{what} vs SAM: (value, n_used) per measure"
        );
        assert_eq!(t.distinct("sample_id"), ["S1"], "{what}");
        assert_eq!(t.distinct("reference_build"), ["unaligned"], "{what}");
        assert!(
            t.rows.iter().all(|r| r["read_group"].is_empty()),
            "{what}: FASTQ has no read groups"
        );
    }
    assert_eq!(cases[2].1.distinct("input"), ["reads_R1.fq+reads_R2.fq"]);
}

#[test]
fn real_interleaved_fastq_equals_its_two_halves() {
    // Real reads: 3 pairs of 250 bp, 5 of them with >= 7 telomeric repeats (reference/demo/PROVENANCE.md).
    let ifq = demo("adam_interleaved_telomeric_250bp.ifq.fq");
    let text = fs::read_to_string(&ifq).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() % 8, 0, "whole pairs");
    let dir = tempdir();
    let (mut r1, mut r2) = (String::new(), String::new());
    for pair in lines.chunks(8) {
        r1.push_str(&(pair[..4].join("\n") + "\n"));
        r2.push_str(&(pair[4..].join("\n") + "\n"));
    }
    let (p1, p2) = (dir.path().join("adam_1.fq"), dir.path().join("adam_2.fq"));
    fs::write(&p1, r1).unwrap();
    fs::write(&p2, r2).unwrap();
    let inter = telomere_stdout([ifq.as_os_str(), "--interleaved".as_ref()]);
    let split = telomere_stdout([&p1, &p2]);
    let single = telomere_stdout([&ifq]);
    assert_eq!(split.sample_numbers(), inter.sample_numbers());
    assert_eq!(single.sample_numbers(), inter.sample_numbers());
    assert_eq!(inter.value("reads_total"), 6.0);
    assert_eq!(inter.value("read_length"), 250.0);
    assert_eq!(
        inter.value("telseq_reads_ge_k"),
        5.0,
        "5 reads with >= 7 TTAGGG/CCCTAA"
    );
}

#[test]
fn bam_and_cram_of_the_same_reads_agree() {
    // CRAM 3.0 with its reference embedded.
    let bam = telomere_stdout([seq("htsnexus_test_NA12878.bam")]);
    let cram = telomere_stdout([seq("htsnexus_test_NA12878.cram")]);
    assert_eq!(cram.without("input"), bam.without("input"));
    assert_eq!(bam.value("reads_total"), 39_918.0);
    assert_eq!(cram.distinct("input"), ["htsnexus_test_NA12878.cram"]);

    // CRAM that needs an external reference (tests/data/seq/PROVENANCE.md: made from the demo BAM).
    let bam = telomere_stdout([demo("HG03478_MT.bam")]);
    let cram = telomere_stdout([
        seq("HG03478_MT.cram").as_os_str(),
        "--reference".as_ref(),
        seq("ref/MT.fa").as_os_str(),
    ]);
    assert_eq!(cram.without("input"), bam.without("input"));
    assert_eq!(bam.value("reads_total"), 7_527.0);
}

#[test]
fn cram_and_bam_on_stdin_equal_the_files() {
    for path in [
        seq("htsnexus_test_NA12878.cram"),
        demo("telseq_test3_ERS037288_chr1tel.bam"),
    ] {
        let from_file = telomere_stdout([&path]);
        let run = agemark_stdin(
            ["telomere", "-", "-o", "-", "-q"],
            &fs::read(&path).unwrap(),
        );
        run.assert_ok();
        let from_stdin = Table::parse(&run.stdout_text());
        assert_eq!(
            from_stdin.without("input"),
            from_file.without("input"),
            "{}",
            path.display()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// TelSeq.

#[test]
fn telseq_compat_reproduces_telseq_0_0_1() {
    // Measured with TelSeq 0.0.1, `telseq -u -r 50`, which prints LENGTH_ESTIMATE with %g.
    let t = telomere_stdout([
        demo("telseq_test3_ERS037288_chr1tel.bam").as_os_str(),
        "--telseq-compat".as_ref(),
    ]);
    assert_eq!(t.value("telseq_tel7"), 420.0);
    assert_eq!(t.value("telseq_tel8"), 114.0);
    assert_eq!(printf_g6(t.value("telseq_length_kb")), "5924.01");
    assert!(t.row("telseq_length_kb", "")["method"].starts_with("telseq-compat("));

    let t = telomere_stdout([
        demo("computel_DRR016840_telreads.bam").as_os_str(),
        "--telseq-compat".as_ref(),
    ]);
    assert_eq!(printf_g6(t.value("telseq_length_kb")), "9193.45");
}

#[test]
fn telseq_default_mode_counts_each_read_once() {
    // TelSeq 0.0.1 counts the last record twice (its total is records + 1); the default mode
    // does not. computel's last record is telomeric, so there the estimate moves too.
    for (name, reads, compat_ge_k, default_ge_k) in [
        ("telseq_test3_ERS037288_chr1tel.bam", 6206u64, 534.0, 534.0),
        ("computel_DRR016840_telreads.bam", 15824, 15396.0, 15395.0),
    ] {
        let path = demo(name);
        assert_eq!(
            bam_record_count(&path),
            reads,
            "{name}: records in the file (no secondary/supplementary)"
        );
        let compat = telomere_stdout([path.as_os_str(), "--telseq-compat".as_ref()]);
        let default = telomere_stdout([&path]);
        assert_eq!(
            compat.value("reads_total"),
            (reads + 1) as f64,
            "{name}: compat total = records + 1"
        );
        assert_eq!(
            default.value("reads_total"),
            reads as f64,
            "{name}: default total = records"
        );
        assert_eq!(compat.value("telseq_reads_ge_k"), compat_ge_k, "{name}");
        assert_eq!(default.value("telseq_reads_ge_k"), default_ge_k, "{name}");
        assert!(
            default.row("telseq_length_kb", "")["method"].starts_with("telseq(k=7"),
            "{name}"
        );
    }
    // The default mode computes in double precision: test3's estimate is 534/652 × 7233.06… kb.
    let t = telomere_stdout([demo("telseq_test3_ERS037288_chr1tel.bam")]);
    let expected = 534.0 / 652.0 * 332_720_800.0 / 1000.0 / 46.0;
    assert!((t.value("telseq_length_kb") - expected).abs() < 1e-9);
    assert_eq!(printf_g6(t.value("telseq_length_kb")), "5924.01");
    let t = telomere_stdout([demo("computel_DRR016840_telreads.bam")]);
    assert_eq!(
        printf_g6(t.value("telseq_length_kb")),
        "9192.85",
        "15395 reads, not 15396"
    );
}

#[test]
fn telseq_compat_counts_every_record_and_the_last_one_twice() {
    let dir = tempdir();
    let sam = dir.path().join("fixture.sam");
    fs::write(&sam, fixture_sam()).unwrap();
    let compat = telomere_stdout([sam.as_os_str(), "--telseq-compat".as_ref()]);
    let default = telomere_stdout([&sam]);
    // 9 records (incl. the telomeric secondary) + the last one again.
    assert_eq!(compat.value("reads_total"), 10.0);
    assert_eq!(default.value("reads_total"), 8.0);
    assert_eq!(
        compat.value("telseq_reads_ge_k"),
        4.0,
        "the secondary copy of TEL16 counts in compat mode"
    );
    assert_eq!(default.value("telseq_reads_ge_k"), 3.0);
    // GC window: 5 primary reads + the secondary (49 %) + the last record again (51 %).
    assert_eq!(compat.value("reads_gc_48_52"), 7.0);
    assert_eq!(default.value("reads_gc_48_52"), 5.0);
    // TelomereHunter numbers do not depend on the TelSeq mode.
    for m in [
        "th_reads_total",
        "th_telomeric_reads",
        "th_telomere_content",
    ] {
        assert_eq!(compat.cell(m), default.cell(m), "{m}");
    }
}

// ---------------------------------------------------------------------------------------------
// TelomereHunter (telomerehunter2 1.0.12, banded mode).

/// Values measured with the real telomerehunter2 1.0.12, `telomerehunter2 -ibt IN.bam -p PID -o
/// OUT -b hg19 -pno -c 2` (its `<PID>_summary.tsv`). agemark picks the hg19 bands itself from
/// the GRCh37 header; computel's contig `>fwd:` is in no band file, so all its telomeric reads
/// are intratelomeric in both tools. `tests/peers_telomere.rs` re-measures these with the tool.
struct ThExpected {
    file: &'static str,
    total: f64,
    gc: f64,
    threshold: f64,
    intratelomeric: f64,
    junction: f64,
    subtelomeric: f64,
    intrachromosomal: f64,
    tel_content: &'static str,
}

const TH_MEASURED: [ThExpected; 5] = [
    ThExpected {
        file: "reference/demo/telseq_test3_ERS037288_chr1tel.bam",
        total: 6206.0,
        gc: 876.0,
        threshold: 4.0,
        intratelomeric: 746.0,
        junction: 4.0,
        subtelomeric: 76.0,
        intrachromosomal: 0.0,
        tel_content: "851598.173516",
    },
    ThExpected {
        file: "reference/demo/computel_DRR016840_telreads.bam",
        total: 15824.0,
        gc: 13208.0,
        threshold: 6.0,
        intratelomeric: 15769.0,
        junction: 0.0,
        subtelomeric: 0.0,
        intrachromosomal: 0.0,
        tel_content: "1193897.637795",
    },
    ThExpected {
        file: "tests/data/seq/telseq_test1_UK10K_chr1.bam",
        total: 4566.0,
        gc: 384.0,
        threshold: 6.0,
        intratelomeric: 0.0,
        junction: 0.0,
        subtelomeric: 0.0,
        intrachromosomal: 0.0,
        tel_content: "0.000000",
    },
    ThExpected {
        file: "tests/data/seq/htsnexus_test_NA12878.bam",
        total: 39918.0,
        gc: 5746.0,
        threshold: 5.0,
        intratelomeric: 0.0,
        junction: 0.0,
        subtelomeric: 0.0,
        intrachromosomal: 0.0,
        tel_content: "0.000000",
    },
    ThExpected {
        file: "tests/data/seq/HG02002_chr6.bam",
        total: 4109.0,
        gc: 690.0,
        threshold: 6.0,
        intratelomeric: 0.0,
        junction: 0.0,
        subtelomeric: 0.0,
        intrachromosomal: 0.0,
        tel_content: "0.000000",
    },
];

fn assert_th(t: &Table, e: &ThExpected, what: &str) {
    assert_eq!(t.value("th_reads_total"), e.total, "{what}: total_reads");
    assert_eq!(
        t.value("th_reads_gc_48_52"),
        e.gc,
        "{what}: total_reads_with_tel_gc"
    );
    assert_eq!(
        t.value("th_repeat_threshold"),
        e.threshold,
        "{what}: repeat_threshold_used"
    );
    assert_eq!(
        t.value("th_intratelomeric_reads"),
        e.intratelomeric,
        "{what}: intratelomeric_reads"
    );
    assert_eq!(
        t.value("th_junction_spanning_reads"),
        e.junction,
        "{what}: junctionspanning_reads"
    );
    assert_eq!(
        t.value("th_subtelomeric_reads"),
        e.subtelomeric,
        "{what}: subtelomeric_reads"
    );
    assert_eq!(
        t.value("th_intrachromosomal_reads"),
        e.intrachromosomal,
        "{what}: intrachromosomal_reads"
    );
    assert_eq!(
        t.value("th_telomeric_reads"),
        e.intratelomeric + e.junction + e.subtelomeric + e.intrachromosomal,
        "{what}: the four classes add up"
    );
    assert_eq!(
        format!("{:.6}", t.value("th_telomere_content")),
        e.tel_content,
        "{what}: tel_content (%.6f)"
    );
}

#[test]
fn telomerehunter_banded_values_match_telomerehunter2() {
    for e in &TH_MEASURED {
        let t = telomere_stdout([crate::common::repo(e.file)]);
        assert_th(&t, e, e.file);
    }
}

#[test]
fn telomerehunter_without_duplicates_matches_telomerehunter2_d() {
    // telomerehunter2 1.0.12 `-d -b hg19` on test3, measured with the real tool.
    let t = telomere_stdout([
        demo("telseq_test3_ERS037288_chr1tel.bam").as_os_str(),
        "--th-remove-duplicates".as_ref(),
    ]);
    let e = ThExpected {
        file: "reference/demo/telseq_test3_ERS037288_chr1tel.bam",
        total: 4107.0,
        gc: 622.0,
        threshold: 4.0,
        intratelomeric: 544.0,
        junction: 4.0,
        subtelomeric: 65.0,
        intrachromosomal: 0.0,
        tel_content: "874598.070740",
    };
    assert_th(&t, &e, "test3 without duplicates");
    // TelSeq's numbers do not change with the TelomereHunter option.
    let with_dups = telomere_stdout([demo("telseq_test3_ERS037288_chr1tel.bam")]);
    assert_eq!(
        t.cell("telseq_length_kb"),
        with_dups.cell("telseq_length_kb")
    );
    assert_eq!(t.cell("reads_total"), with_dups.cell("reads_total"));
}

#[test]
fn telomerehunter_values_from_cram_match_the_bam() {
    // telomerehunter2 reads this CRAM (embedded reference) and reports 0 telomeric reads too.
    let t = telomere_stdout([seq("htsnexus_test_NA12878.cram")]);
    assert_th(&t, &TH_MEASURED[3], "htsnexus_test_NA12878.cram");
}

// ---------------------------------------------------------------------------------------------
// A sample with no telomeric reads still gets every row.

#[test]
fn sample_without_telomeric_reads_gets_every_row() {
    let zero = telomere_stdout([seq("telseq_test1_UK10K_chr1.bam")]);
    let telomeric = telomere_stdout([demo("telseq_test3_ERS037288_chr1tel.bam")]);
    let measures = |t: &Table| -> Vec<String> {
        t.rows
            .iter()
            .filter(|r| r["read_group"].is_empty())
            .map(|r| r["measure"].clone())
            .collect()
    };
    assert_eq!(
        measures(&zero),
        measures(&telomeric),
        "same sample-level rows, in the same order"
    );
    let mut expected: Vec<String> = [
        "reads_total",
        "read_length",
        "telseq_length_kb",
        "telseq_reads_ge_k",
        "reads_gc_48_52",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expected.extend((0..=16).map(|i| format!("telseq_tel{i}")));
    expected.extend(
        [
            "th_reads_total",
            "th_reads_gc_48_52",
            "th_repeat_threshold",
            "th_telomeric_reads",
            "th_intratelomeric_reads",
            "th_junction_spanning_reads",
            "th_subtelomeric_reads",
            "th_intrachromosomal_reads",
            "th_telomere_content",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let mut got = measures(&zero);
    got.sort();
    expected.sort();
    assert_eq!(got, expected);

    for m in [
        "telseq_length_kb",
        "telseq_reads_ge_k",
        "th_telomeric_reads",
        "th_intratelomeric_reads",
        "th_junction_spanning_reads",
        "th_subtelomeric_reads",
        "th_intrachromosomal_reads",
        "th_telomere_content",
    ] {
        assert_eq!(zero.cell(m), "0", "{m}");
        assert_ne!(
            zero.row(m, "")["qc_status"],
            "fail",
            "{m}: zero is a value, not a failure"
        );
    }
    for i in 7..=16 {
        assert_eq!(zero.cell(&format!("telseq_tel{i}")), "0", "telseq_tel{i}");
    }
    assert_eq!(zero.value("reads_total"), 4566.0);
    assert_eq!(zero.value("th_reads_total"), 4566.0);

    // One block of rows per read group of the header (10 lanes), each with a value.
    let rgs: Vec<String> = zero
        .distinct("read_group")
        .into_iter()
        .filter(|g| !g.is_empty())
        .collect();
    assert_eq!(rgs.len(), 10, "{rgs:?}");
    let mut per_rg_total = 0.0;
    for g in &rgs {
        for m in [
            "telseq_length_kb",
            "telseq_reads_ge_k",
            "reads_gc_48_52",
            "reads_total",
        ] {
            let r = zero.row(m, g);
            assert!(!r["value"].is_empty(), "{m} in {g} has a value");
        }
        assert_eq!(zero.value_in("telseq_reads_ge_k", g), 0.0);
        assert_eq!(zero.value_in("telseq_length_kb", g), 0.0);
        per_rg_total += zero.value_in("reads_total", g);
    }
    assert_eq!(per_rg_total, 4566.0, "read groups add up to the sample");
}

// ---------------------------------------------------------------------------------------------
// Output: files, determinism, provenance.

#[test]
fn output_does_not_depend_on_threads_and_names_the_input_file_only() {
    let dir = tempdir();
    for input in [
        demo("telseq_test3_ERS037288_chr1tel.bam"),
        seq("htsnexus_test_NA12878.bam"), // ~10 batches: merge order matters
        seq("htsnexus_test_NA12878.cram"),
        demo("computel_DRR016840_telreads.bam"),
    ] {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let mut tsvs = Vec::new();
        for threads in ["1", "2", "3"] {
            let prefix = dir.path().join(format!("{name}.t{threads}"));
            agemark([
                "telomere".as_ref(),
                input.as_os_str(),
                "-o".as_ref(),
                prefix.as_os_str(),
                "--threads".as_ref(),
                threads.as_ref(),
                "-q".as_ref(),
            ])
            .assert_ok();
            let tsv = dir.path().join(format!("{name}.t{threads}.telomere.tsv"));
            assert!(dir
                .path()
                .join(format!("{name}.t{threads}.telomere.parquet"))
                .is_file());
            tsvs.push(fs::read(&tsv).unwrap());
        }
        assert!(
            tsvs[0] == tsvs[1],
            "{name}: TSV differs between --threads 1 and 2"
        );
        assert!(
            tsvs[0] == tsvs[2],
            "{name}: TSV differs between --threads 1 and 3"
        );
        let t = Table::parse(std::str::from_utf8(&tsvs[0]).unwrap());
        assert_eq!(
            t.distinct("input"),
            [name.as_str()],
            "input column is the file name without directories"
        );
    }
}

#[test]
fn writes_tsv_and_parquet_twins_and_stdout_equals_the_file() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let dir = tempdir();
    let input = demo("telseq_test3_ERS037288_chr1tel.bam");
    let prefix = dir.path().join("out/sub/S1");
    let run = agemark([
        "telomere".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        prefix.as_os_str(),
    ]);
    run.assert_ok();
    assert!(run.stdout.is_empty(), "logs go to stderr, data to files");
    let tsv = dir.path().join("out/sub/S1.telomere.tsv");
    let pq = dir.path().join("out/sub/S1.telomere.parquet");
    assert_eq!(
        list_tree(&dir.path().join("out/sub")),
        ["S1.telomere.parquet", "S1.telomere.tsv"],
        "no temp files left"
    );
    let text = fs::read_to_string(&tsv).unwrap();
    let t = Table::parse(&text);
    assert_eq!(
        t.columns,
        [
            "sample_id",
            "assay",
            "measure",
            "value",
            "unit",
            "method",
            "n_used",
            "qc_status",
            "qc_note",
            "read_group",
            "input",
            "reference_build",
            "agemark_version"
        ]
    );
    assert_eq!(t.distinct("agemark_version"), [env!("CARGO_PKG_VERSION")]);
    assert_eq!(t.distinct("assay"), ["telomere"]);
    let reader =
        SerializedFileReader::new(fs::File::open(&pq).unwrap()).expect("a readable Parquet file");
    assert_eq!(
        reader.metadata().file_metadata().num_rows() as usize,
        t.rows.len(),
        "Parquet has the TSV's rows"
    );
    let stdout = agemark([
        "telomere".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
        "-q".as_ref(),
    ]);
    stdout.assert_ok();
    assert_eq!(stdout.stdout_text(), text, "-o - prints the same TSV");
}

#[test]
fn version_is_one_line() {
    for flag in ["--version", "-V"] {
        let run = agemark([flag]);
        run.assert_ok();
        assert_eq!(
            run.stdout_text(),
            format!("agemark {}\n", env!("CARGO_PKG_VERSION"))
        );
        assert!(
            run.stderr.is_empty(),
            "{flag}: nothing on stderr: {}",
            run.stderr
        );
        let v = env!("CARGO_PKG_VERSION");
        assert_eq!(v.split('.').count(), 3);
        assert!(v.split('.').all(|p| p.parse::<u32>().is_ok()), "X.Y.Z: {v}");
    }
}

#[test]
fn printf_g6_matches_c() {
    assert_eq!(printf_g6(5924.01025390625), "5924.01");
    assert_eq!(printf_g6(9193.4453125), "9193.45");
    assert_eq!(printf_g6(420.0), "420");
    assert_eq!(printf_g6(0.5), "0.5");
    assert_eq!(printf_g6(1234567.0), "1.23457e+06");
    assert_eq!(printf_g6(999999.5), "1e+06");
    assert_eq!(printf_g6(0.0001234), "0.0001234");
    assert_eq!(printf_g6(0.00001234), "1.234e-05");
}

// ---------------------------------------------------------------------------------------------
// Bad input: one line on stderr naming the file, non-zero exit, nothing written.

/// Runs `agemark telomere ARGS -o <dir>/out/S` and checks the failure contract.
fn assert_fails_cleanly(dir: &Path, args: &[&std::ffi::OsStr], names: &str, what: &str) -> String {
    let before = list_tree(dir);
    let prefix = dir.join("out/S");
    let mut all: Vec<&std::ffi::OsStr> = vec!["telomere".as_ref()];
    all.extend_from_slice(args);
    all.extend(["-o".as_ref(), prefix.as_os_str()]);
    let run = agemark(&all);
    assert_ne!(run.code, Some(0), "{what}: must fail");
    assert!(
        run.code.is_some(),
        "{what}: must exit, not crash on a signal: {run:?}"
    );
    let lines = run.stderr_lines();
    assert_eq!(
        lines.len(),
        1,
        "{what}: exactly one line on stderr, got:\n{}",
        run.stderr
    );
    assert!(
        lines[0].starts_with("agemark: error: "),
        "{what}: {}",
        lines[0]
    );
    assert!(
        lines[0].contains(names),
        "{what}: the message names {names:?}: {}",
        lines[0]
    );
    assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    assert!(run.stdout.is_empty(), "{what}: nothing on stdout");
    let leftovers: Vec<String> = list_tree(dir)
        .into_iter()
        .filter(|p| !before.contains(p) && p != "out")
        .collect();
    assert!(leftovers.is_empty(), "{what}: left behind {leftovers:?}");
    lines[0].to_string()
}

#[test]
fn truncated_bam_fails_cleanly() {
    let dir = tempdir();
    let real = fs::read(demo("telseq_test3_ERS037288_chr1tel.bam")).unwrap();
    for cut in [100, 20_000, real.len() / 2, real.len() - 10] {
        let bam = dir.path().join(format!("cut{cut}.bam"));
        fs::write(&bam, &real[..cut]).unwrap();
        let msg = assert_fails_cleanly(
            dir.path(),
            &[bam.as_os_str()],
            &format!("cut{cut}.bam"),
            &format!("BAM cut at {cut} bytes"),
        );
        assert!(
            msg.contains("truncated") || msg.contains("corrupt"),
            "{msg}"
        );
    }
    // The same on stdin, where there is no end-of-file marker to look for up front.
    for cut in [100, 20_000, real.len() / 2] {
        let run = agemark_stdin(["telomere", "-", "-o", "-"], &real[..cut]);
        assert_ne!(run.code, Some(0), "stdin BAM cut at {cut}");
        assert_eq!(run.stderr_lines().len(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with("agemark: error: stdin: "),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "no table for a truncated input");
    }
}

/// Offsets of the BGZF blocks of a BAM file (each block's total size is in its `BC` subfield).
fn bgzf_block_offsets(data: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut o = 0;
    while o < data.len() {
        assert_eq!(&data[o..o + 2], b"\x1f\x8b", "gzip member at {o}");
        assert_eq!(&data[o + 12..o + 14], b"BC", "BGZF block at {o}");
        offsets.push(o);
        o += usize::from(u16::from_le_bytes([data[o + 16], data[o + 17]])) + 1;
    }
    offsets
}

#[test]
fn bam_cut_at_a_block_boundary_fails_from_a_file_and_from_stdin() {
    // A copy that stopped between two BGZF blocks decodes without error up to the cut: only the
    // missing end-of-file marker tells. Half the reads must not become a silent half-size result.
    let real = fs::read(demo("telseq_test3_ERS037288_chr1tel.bam")).unwrap();
    let blocks = bgzf_block_offsets(&real);
    let cut = blocks[blocks.len() / 2];
    let dir = tempdir();
    let bam = dir.path().join("blockcut.bam");
    fs::write(&bam, &real[..cut]).unwrap();
    let msg = assert_fails_cleanly(
        dir.path(),
        &[bam.as_os_str()],
        "blockcut.bam",
        "BAM cut at a block boundary",
    );
    assert!(msg.contains("truncated"), "{msg}");

    let run = agemark_stdin(["telomere", "-", "-o", "-"], &real[..cut]);
    assert!(
        run.code != Some(0) && run.stdout.is_empty(),
        "BAM cut at a block boundary on stdin was accepted (exit {:?}); it printed:\n{}",
        run.code,
        run.stdout_text()
            .lines()
            .take(2)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(run.stderr_lines().len(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("agemark: error: stdin: "),
        "{}",
        run.stderr
    );
}

#[test]
fn interleaved_fastq_with_a_lone_mate_fails_cleanly() {
    // --interleaved says records come in pairs: an odd count means a lost mate (or a file that
    // is not interleaved), as unequal R1/R2 files do for a two-file pair.
    let dir = tempdir();
    let f = dir.path().join("lone.ifq");
    fs::write(
        &f,
        format!(
            "{}{}{}",
            fastq_record("a/1", N50A),
            fastq_record("a/2", N50B),
            fastq_record("b/1", TEL16)
        ),
    )
    .unwrap();
    assert_fails_cleanly(
        dir.path(),
        &[f.as_os_str(), "--interleaved".as_ref()],
        "lone.ifq",
        "odd interleaved FASTQ",
    );
}

#[test]
fn text_file_named_bam_fails_cleanly() {
    let dir = tempdir();
    let f = dir.path().join("notes.bam");
    fs::write(&f, "these are my notes, not reads\n").unwrap();
    assert_fails_cleanly(dir.path(), &[f.as_os_str()], "notes.bam", "text named .bam");
}

#[test]
fn empty_file_fails_cleanly() {
    let dir = tempdir();
    for name in ["empty.bam", "empty.fq"] {
        let f = dir.path().join(name);
        fs::write(&f, "").unwrap();
        let msg = assert_fails_cleanly(dir.path(), &[f.as_os_str()], name, name);
        assert!(msg.contains("empty"), "{msg}");
    }
}

#[test]
fn cram_without_its_reference_fails_cleanly() {
    let dir = tempdir();
    let msg = assert_fails_cleanly(
        dir.path(),
        &[seq("HG03478_MT.cram").as_os_str()],
        "HG03478_MT.cram",
        "CRAM without --reference",
    );
    assert!(msg.contains("--reference"), "tells what to do: {msg}");
    // A reference without the needed contig is an error too, never an empty result.
    let wrong = seq("ref/human_g1k_v37_chr1_1-60000.fa");
    assert_fails_cleanly(
        dir.path(),
        &[
            seq("HG03478_MT.cram").as_os_str(),
            "--reference".as_ref(),
            wrong.as_os_str(),
        ],
        "HG03478_MT.cram",
        "CRAM with the wrong reference",
    );
}

#[test]
fn fastq_with_mismatched_quality_fails_cleanly() {
    let dir = tempdir();
    let f = dir.path().join("bad.fq");
    fs::write(
        &f,
        format!("{}@r2\nACGTACGT\n+\nIIII\n", fastq_record("r1", N50A)),
    )
    .unwrap();
    let msg = assert_fails_cleanly(
        dir.path(),
        &[f.as_os_str()],
        "bad.fq",
        "FASTQ SEQ/QUAL lengths differ",
    );
    assert!(msg.contains("record 2"), "names the record: {msg}");
}

#[test]
fn fastq_pair_of_unequal_files_fails_cleanly() {
    let dir = tempdir();
    let (a, b) = (dir.path().join("p_1.fq"), dir.path().join("p_2.fq"));
    fs::write(
        &a,
        format!(
            "{}{}",
            fastq_record("r1/1", N50A),
            fastq_record("r2/1", N50B)
        ),
    )
    .unwrap();
    fs::write(&b, fastq_record("r1/2", N50B)).unwrap();
    assert_fails_cleanly(
        dir.path(),
        &[a.as_os_str(), b.as_os_str()],
        "p_2.fq",
        "R2 shorter than R1",
    );
}

#[test]
fn output_directory_that_cannot_be_created_fails_cleanly() {
    let dir = tempdir();
    // A regular file where a directory should be: create_dir_all fails even for root.
    let blocker = dir.path().join("afile");
    fs::write(&blocker, "x").unwrap();
    let prefix = blocker.join("sub/S1");
    let input = demo("telseq_test3_ERS037288_chr1tel.bam");
    let run = agemark([
        "telomere".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        prefix.as_os_str(),
    ]);
    assert_ne!(run.code, Some(0));
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with("agemark: error: ") && lines[0].contains("afile"),
        "{}",
        lines[0]
    );
    assert_eq!(list_tree(dir.path()), ["afile"], "nothing else written");
    assert_eq!(fs::read_to_string(&blocker).unwrap(), "x");
}

#[test]
fn a_telseq_length_no_genome_gives_warns_and_says_why() {
    // The computel subset holds reads pre-selected as telomeric: TelSeq's 9,193 kb is a
    // correct computation on data that is not a genome.
    let t = telomere_stdout([demo("computel_DRR016840_telreads.bam")]);
    let r = t.row("telseq_length_kb", "");
    assert_eq!(r["qc_status"], "warn");
    assert!(
        r["qc_note"].contains("kb is outside what whole-genome human data give (0.5-25 kb)"),
        "{}",
        r["qc_note"]
    );
}
