//! agemark side by side with the peer tools on the real reads (`reference/demo/`,
//! `tests/data/seq/`). These need the peers installed, so they are ignored by a plain
//! `cargo test`; `.ci/run` installs them and runs `cargo test -- --include-ignored`.
//!
//! The peer is found via the `AGEMARK_TELOMEREHUNTER2` environment variable, else
//! `/opt/peers/venv/bin/telomerehunter2`, else `telomerehunter2` on `PATH`; samtools via
//! `AGEMARK_SAMTOOLS`, else `samtools` on `PATH`. A missing peer FAILS the test (an ignored test
//! that is run on purpose must never pass without comparing anything).
//!
//! # What must be equal, and the known differences
//!
//! agemark reproduces telomerehunter2 1.0.12 in its **banded** mode (`-b hg19` / `-b hg38`), so
//! the peer is always run with a band file: `-b hg19` for the GRCh37 inputs (1000 Genomes naming
//! `1..22`: telomerehunter2 strips `chr` from both sides, so they match hg19's bands), and
//! `-b hg19` for computel too, whose only contig `>fwd:` is in no band file, so both tools call
//! every telomeric read unmapped, i.e. intratelomeric. agemark chooses the bands itself from the
//! header's build and needs no flag. Equal, exactly: total reads, reads with 48-52 % GC, repeat
//! threshold, the four classes, telomeric reads, and tel_content to the 6 decimals the peer
//! prints (`%.6f`, later re-printed by pandas without trailing zeros).
//!
//! Known differences, none of which these tests exercise:
//! * telomerehunter2's DEFAULT mode (no `-b`) computes tel_content from the LAST ROW of its
//!   spectrum table, whose rows are in dict insertion order (the order keys are first met in a
//!   name-sorted walk), so it usually takes one contig's count instead of the intratelomeric
//!   reads (test3: 78/876·10⁶ = 89041.09589 while it reports 746 intratelomeric reads). In that
//!   mode its intrachromosomal count also takes in the reads its banded mode calls
//!   junction-spanning or subtelomeric. agemark does not reproduce this defect; without a band
//!   file only agemark's numbers are meaningful.
//! * telomerehunter2 has no `--reference`: a CRAM that needs an external reference
//!   (`tests/data/seq/HG03478_MT.cram`) crashes it ("Failure to decode slice"), so only the BAM
//!   of those reads is compared; agemark reads both.
//! * telomerehunter2 writes a `.bai` beside its input (and needs a writable directory for it):
//!   inputs are copied into a temporary directory first.
//! * For a GRCh38 input the peer would need `-b hg38`; no GRCh38 reads are bundled.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use crate::common::{demo, sam_to_bam, seq, telomere_stdout, tempdir, Table};

/// The telomerehunter2 executable, or a failure that says how to get one.
fn telomerehunter2() -> PathBuf {
    if let Some(p) = std::env::var_os("AGEMARK_TELOMEREHUNTER2") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "AGEMARK_TELOMEREHUNTER2={} is not a file",
            p.display()
        );
        return p;
    }
    let venv = PathBuf::from("/opt/peers/venv/bin/telomerehunter2");
    if venv.is_file() {
        return venv;
    }
    if let Some(p) = on_path("telomerehunter2") {
        return p;
    }
    panic!(
        "telomerehunter2 not found: set AGEMARK_TELOMEREHUNTER2, or install it with \
         `python3 -m venv VENV && VENV/bin/pip install telomerehunter2==1.0.12` (.ci/run does this)"
    );
}

fn samtools() -> PathBuf {
    if let Some(p) = std::env::var_os("AGEMARK_SAMTOOLS") {
        return PathBuf::from(p);
    }
    on_path("samtools").unwrap_or_else(|| {
        panic!("samtools not found on PATH: `apt-get install samtools` (.ci/run does this)")
    })
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs telomerehunter2 (banded) on a copy of `input`; returns its summary row as column → cell.
fn run_telomerehunter2(
    input: &Path,
    band: &str,
    extra: &[&str],
    work: &Path,
) -> BTreeMap<String, String> {
    let th = telomerehunter2();
    let name = input.file_name().unwrap();
    let copy = work.join(name);
    fs::copy(input, &copy).unwrap_or_else(|e| panic!("copy {}: {e}", input.display()));
    let pid = "agemarkpeer";
    let out = work.join("th2_out");
    let result = Command::new(&th)
        .arg("-ibt")
        .arg(&copy)
        .args(["-p", pid, "-o"])
        .arg(&out)
        .args(["-b", band, "-pno", "-c", "2"])
        .args(extra)
        .current_dir(work)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", th.display()));
    assert!(
        result.status.success(),
        "telomerehunter2 failed on {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        input.display(),
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    let summary = out.join(pid).join(format!("{pid}_summary.tsv"));
    let text =
        fs::read_to_string(&summary).unwrap_or_else(|e| panic!("read {}: {e}", summary.display()));
    let t = Table::parse(&text);
    assert_eq!(
        t.rows.len(),
        1,
        "one sample (tumor) in {}",
        summary.display()
    );
    t.rows[0].clone()
}

fn num(row: &BTreeMap<String, String>, column: &str) -> f64 {
    let cell = row
        .get(column)
        .unwrap_or_else(|| panic!("telomerehunter2 summary has no column {column}: {row:?}"));
    cell.parse()
        .unwrap_or_else(|_| panic!("telomerehunter2 {column} = {cell:?} is not a number"))
}

/// agemark and telomerehunter2 on the same file: the numbers must be equal.
fn compare_with_telomerehunter2(input: &Path, band: &str) {
    compare_with_options(input, band, &[], &[]);
}

/// The same with options: `peer_extra` for telomerehunter2, `ours_extra` for agemark.
fn compare_with_options(input: &Path, band: &str, peer_extra: &[&str], ours_extra: &[&str]) {
    let work = tempdir();
    let peer = run_telomerehunter2(input, band, peer_extra, work.path());
    let mut args = vec![input.as_os_str()];
    args.extend(ours_extra.iter().map(std::ffi::OsStr::new));
    let ours = telomere_stdout(args);
    let what = input.file_name().unwrap().to_string_lossy().into_owned();
    for (measure, column) in [
        ("th_reads_total", "total_reads"),
        ("th_reads_gc_48_52", "total_reads_with_tel_gc"),
        ("th_repeat_threshold", "repeat_threshold_used"),
        ("th_intratelomeric_reads", "intratelomeric_reads"),
        ("th_junction_spanning_reads", "junctionspanning_reads"),
        ("th_subtelomeric_reads", "subtelomeric_reads"),
        ("th_intrachromosomal_reads", "intrachromosomal_reads"),
        ("th_telomeric_reads", "tel_read_count"),
    ] {
        assert_eq!(
            ours.value(measure),
            num(&peer, column),
            "{what}: agemark {measure} vs telomerehunter2 {column}"
        );
    }
    assert_eq!(
        format!("{:.6}", ours.value("th_telomere_content")),
        format!("{:.6}", num(&peer, "tel_content")),
        "{what}: agemark th_telomere_content vs telomerehunter2 tel_content (printed %.6f)"
    );
}

#[test]
#[ignore = "needs telomerehunter2 (pip); run by .ci/run"]
fn telomerehunter2_test3_grch37() {
    compare_with_telomerehunter2(&demo("telseq_test3_ERS037288_chr1tel.bam"), "hg19");
}

#[test]
#[ignore = "needs telomerehunter2 (pip); run by .ci/run"]
fn telomerehunter2_test3_without_duplicates() {
    // telomerehunter2 -d = agemark --th-remove-duplicates.
    compare_with_options(
        &demo("telseq_test3_ERS037288_chr1tel.bam"),
        "hg19",
        &["-d"],
        &["--th-remove-duplicates"],
    );
}

#[test]
#[ignore = "needs telomerehunter2 (pip); run by .ci/run"]
fn telomerehunter2_computel_custom_contig() {
    compare_with_telomerehunter2(&demo("computel_DRR016840_telreads.bam"), "hg19");
}

#[test]
#[ignore = "needs telomerehunter2 (pip); run by .ci/run"]
fn telomerehunter2_hg03478_mt_grch37() {
    compare_with_telomerehunter2(&demo("HG03478_MT.bam"), "hg19");
}

#[test]
#[ignore = "needs telomerehunter2 (pip); run by .ci/run"]
fn telomerehunter2_uk10k_grch37() {
    compare_with_telomerehunter2(&seq("telseq_test1_UK10K_chr1.bam"), "hg19");
}

#[test]
#[ignore = "needs telomerehunter2 (pip); run by .ci/run"]
fn telomerehunter2_na12878_grch37() {
    compare_with_telomerehunter2(&seq("htsnexus_test_NA12878.bam"), "hg19");
}

#[test]
#[ignore = "needs telomerehunter2 (pip); run by .ci/run"]
fn telomerehunter2_na12878_cram_embedded_reference() {
    // telomerehunter2 reads a CRAM whose reference is embedded; agemark's numbers for it must
    // equal the peer's on the same CRAM.
    compare_with_telomerehunter2(&seq("htsnexus_test_NA12878.cram"), "hg19");
}

#[test]
#[ignore = "needs telomerehunter2 (pip); run by .ci/run"]
fn telomerehunter2_hg02002_grch37() {
    compare_with_telomerehunter2(&seq("HG02002_chr6.bam"), "hg19");
}

/// `samtools view -c -F 0x900`: records that are neither secondary nor supplementary.
fn samtools_primary_count(bam: &Path) -> f64 {
    let out = Command::new(samtools())
        .args(["view", "-c", "-F", "0x900"])
        .arg(bam)
        .output()
        .unwrap_or_else(|e| panic!("run samtools: {e}"));
    assert!(
        out.status.success(),
        "samtools view -c failed on {}: {}",
        bam.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("samtools prints a count")
}

#[test]
#[ignore = "needs samtools; run by .ci/run"]
fn reads_total_equals_samtools_primary_count() {
    // Small reads with every kind of record, so the filter is really exercised: secondary,
    // supplementary, unmapped, duplicate, QC-fail, and a primary record without SEQ.
    let sam = "@HD\tVN:1.6\tSO:unsorted\n\
               @SQ\tSN:chr1\tLN:248956422\n\
               r1\t99\tchr1\t10001\t60\t8M\t=\t10101\t108\tTTAGGGTT\tIIIIIIII\n\
               r1\t355\tchr1\t50001\t0\t8M\t=\t10101\t0\tTTAGGGTT\tIIIIIIII\n\
               r1\t2147\tchr1\t90001\t5\t4M4S\t=\t10101\t0\tTTAGGGTT\tIIIIIIII\n\
               r1\t147\tchr1\t10101\t60\t8M\t=\t10001\t-108\tACGTACGT\tIIIIIIII\n\
               r2\t77\t*\t0\t0\t*\t*\t0\t0\tCCCTAACC\tIIIIIIII\n\
               r2\t141\t*\t0\t0\t*\t*\t0\t0\tGGGTTAGG\tIIIIIIII\n\
               r3\t1123\tchr1\t20001\t60\t8M\t=\t20101\t108\tACGTACGT\tIIIIIIII\n\
               r3\t1683\tchr1\t20101\t60\t8M\t=\t20001\t-108\tACGTACGT\tIIIIIIII\n\
               r4\t0\tchr1\t30001\t60\t8M\t*\t0\t0\t*\t*\n";
    let dir = tempdir();
    let fixture = dir.path().join("mixed_flags.bam");
    sam_to_bam(sam, &fixture);
    let mut inputs = vec![fixture];
    for name in [
        "telseq_test3_ERS037288_chr1tel.bam",
        "computel_DRR016840_telreads.bam",
        "HG03478_MT.bam",
    ] {
        inputs.push(demo(name));
    }
    for name in [
        "telseq_test1_UK10K_chr1.bam",
        "htsnexus_test_NA12878.bam",
        "HG02002_chr6.bam",
    ] {
        inputs.push(seq(name));
    }
    for input in &inputs {
        let expected = samtools_primary_count(input);
        let t = telomere_stdout([input]);
        assert_eq!(
            t.value("reads_total"),
            expected,
            "{}: reads_total vs samtools view -c -F 0x900",
            input.display()
        );
    }
    assert_eq!(
        samtools_primary_count(&inputs[0]),
        7.0,
        "the fixture has 7 of its 9 records left"
    );
}
