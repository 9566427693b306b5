//! Regression tests of the reliability defects (issue 17), each named after what it guards.

use std::{fs, path::Path};

use crate::common::{agemark, demo, sam_to_bam, seq, tempdir, write_file};

/// A one-sample reads-only sheet (real demo reads) with the given sample id.
fn reads_sheet(dir: &Path, id: &str) -> String {
    fs::copy(demo("HG03478_MT.bam"), dir.join("s.bam")).unwrap();
    write_file(
        dir,
        "sheet.csv",
        &format!("sample_id,sample_type,reads\n{id},cord_blood,s.bam\n"),
    )
}

fn run(sheet: &str, out: &Path, extra: &[&str]) -> crate::common::Run {
    let mut a = vec![
        "run".to_string(),
        "--samplesheet".into(),
        sheet.into(),
        "--outdir".into(),
        out.display().to_string(),
        "--stages".into(),
        "reads".into(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    agemark(a)
}

#[test]
fn sample_ids_that_would_write_outside_the_outdir_are_refused_before_any_work() {
    for id in [
        "/elsewhere/ABSID",
        "../../../../elsewhere/TRAV",
        ".",
        "..",
        ".hidden",
        "a\\b",
    ] {
        let d = tempdir();
        let sheet = reads_sheet(d.path(), id);
        let check = agemark(["run", "--samplesheet", &sheet, "--check"]);
        assert_eq!(check.code, Some(4), "{id}: {}", check.stderr);
        assert!(
            check.stderr.contains("column sample_id"),
            "{id}: {}",
            check.stderr
        );
        let out = d.path().join("a/b/out");
        let r = run(&sheet, &out, &[]);
        assert_eq!(r.code, Some(4), "{id}: {}", r.stderr);
        assert!(!out.exists(), "{id}: the run wrote before refusing");
        assert!(!d.path().join("elsewhere").exists());
    }
}

#[test]
fn a_symbolic_link_in_the_outdir_is_not_followed_out_of_it() {
    let d = tempdir();
    let sheet = reads_sheet(d.path(), "S1");
    let out = d.path().join("out");
    let elsewhere = d.path().join("elsewhere");
    fs::create_dir_all(&out).unwrap();
    fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("S1")).unwrap();
    let r = run(&sheet, &out, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(
        fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "wrote through the link"
    );
    let failures = fs::read_to_string(out.join("failures.tsv")).unwrap();
    assert!(failures.contains("S1\treads\tio.write\t"), "{failures}");
    assert!(failures.contains("symbolic link"), "{failures}");
}

#[test]
fn a_second_run_into_a_locked_outdir_stops_at_once_naming_the_holder() {
    let d = tempdir();
    let sheet = reads_sheet(d.path(), "S1");
    let out = d.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.join(".agemark.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    fs::write(
        out.join(".agemark.lock"),
        "pid 4242 on testhost since unix time 0",
    )
    .unwrap();
    let r = run(&sheet, &out, &[]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("in use by another agemark run (pid 4242 on testhost"),
        "{}",
        r.stderr
    );
    assert!(
        !out.join("S1").exists(),
        "the second run wrote into the locked outdir"
    );
    drop(lock);
    run(&sheet, &out, &[]).assert_ok();
}

#[test]
fn a_damaged_output_is_recomputed_on_resume_not_skipped() {
    let d = tempdir();
    let sheet = reads_sheet(d.path(), "S1");
    let out = d.path().join("out");
    run(&sheet, &out, &[]).assert_ok();
    let table = out.join("S1/S1.telomere.tsv");
    let good = fs::read(&table).unwrap();
    let long = fs::read_to_string(out.join("cohort.long.tsv")).unwrap();
    for damage in [0usize, good.len() / 2] {
        fs::write(&table, &good[..damage]).unwrap();
        let r = run(&sheet, &out, &[]);
        r.assert_ok();
        assert!(
            r.stderr.contains("(0 skipped as unchanged)"),
            "{}",
            r.stderr
        );
        assert_eq!(fs::read(&table).unwrap(), good);
        assert_eq!(
            fs::read_to_string(out.join("cohort.long.tsv")).unwrap(),
            long
        );
    }
    // Untouched: skipped.
    let r = run(&sheet, &out, &[]);
    assert!(
        r.stderr.contains("(1 skipped as unchanged)"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_killed_run_resumes_from_the_jobs_it_finished_and_stale_temporaries_are_removed() {
    let d = tempdir();
    let sheet = reads_sheet(d.path(), "S1");
    let out = d.path().join("out");
    run(&sheet, &out, &[]).assert_ok();
    // A run killed after its job finished: the job is in .agemark-jobs, not in the manifest.
    let manifest = agemark::cohort::manifest::load(&out);
    let entry = manifest
        .get("S1:reads")
        .expect("the job is in the manifest")
        .clone();
    fs::remove_file(out.join("run_manifest.tsv")).unwrap();
    agemark::cohort::manifest::record_job(&out, "S1:reads", &entry).unwrap();
    let stale = out.join("S1/.S1.telomere.tsv.tmp-27150");
    fs::write(&stale, "half a table").unwrap();
    let r = run(&sheet, &out, &[]);
    r.assert_ok();
    assert!(
        r.stderr.contains("(1 skipped as unchanged)"),
        "{}",
        r.stderr
    );
    assert!(!stale.exists(), "a stale temporary stayed");
    assert!(!out.join(".agemark-jobs").exists());
}

#[test]
fn m_values_given_for_a_matrix_of_betas_are_refused() {
    let m = crate::common::repo("tests/data/array/progress_cordblood_knight148_betas.csv");
    let r = agemark([
        "clocks",
        m.to_str().unwrap(),
        "--m-values",
        "--clocks",
        "knight2016_ga",
        "-o",
        "-",
    ]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("look like beta values"), "{}", r.stderr);
}

#[test]
fn a_bam_record_whose_reference_id_is_out_of_range_is_an_error_naming_it() {
    use std::io::{Read, Write};
    let d = tempdir();
    let bam = d.path().join("r.bam");
    sam_to_bam(
        "@SQ\tSN:chr1\tLN:1000\nr1\t0\tchr1\t10\t60\t4M\t*\t0\t0\tACGT\tIIII\nr2\t0\tchr1\t20\t60\t4M\t*\t0\t0\tACGT\tIIII\n",
        &bam,
    );
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(&bam).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    // Header: magic, l_text, text, n_ref, refs; then the first record: block_size, refID.
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap()) as usize;
    let mut i = 8 + u32_at(&raw, 4);
    let n_ref = u32_at(&raw, i);
    i += 4;
    for _ in 0..n_ref {
        i += 4 + u32_at(&raw, i) + 4;
    }
    let rec2 = i + 4 + u32_at(&raw, i);
    raw[rec2 + 4..rec2 + 8].copy_from_slice(&9999i32.to_le_bytes());
    let bad = d.path().join("bad.bam");
    let mut w = noodles_bgzf::io::Writer::new(fs::File::create(&bad).unwrap());
    w.write_all(&raw).unwrap();
    w.finish().unwrap();
    let r = agemark(["telomere", bad.to_str().unwrap(), "-o", "-"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("record 2")
            && r.stderr
                .contains("reference sequence id 9999 is out of range"),
        "{}",
        r.stderr
    );
}

#[test]
fn careless_arguments_are_refused_with_one_line() {
    let d = tempdir();
    let bam = seq("htsnexus_test_NA12878.bam");
    let bam = bam.to_str().unwrap();
    let out_slash = format!("{}/", d.path().join("out").display());
    let fq = write_file(d.path(), "r1.fq", "@r\nACGT\n+\nIIII\n");
    let sheet = reads_sheet(d.path(), "S1");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["telomere", bam, "-o", &out_slash],
            "not an output prefix",
        ),
        (vec!["telomere", bam, "-o", ""], "not an output prefix"),
        (
            vec!["telomere", bam, "--th-threshold", "0", "-o", "-"],
            "--th-threshold 0",
        ),
        (
            vec!["telomere", &fq, &fq, "-o", "-"],
            "the same file as read 1",
        ),
        (
            vec!["run", "--samplesheet", &sheet, "--outdir", "-"],
            "--outdir '-'",
        ),
        (
            vec![
                "run",
                "--samplesheet",
                &sheet,
                "--outdir",
                "o2",
                "--stages",
                "",
            ],
            "no stage given",
        ),
    ];
    for (args, want) in cases {
        let r = agemark(&args);
        assert_ne!(r.code, Some(0), "{args:?}");
        let lines = r.stderr_lines();
        assert!(
            lines.iter().any(|l| l.contains(want)),
            "{args:?}: wanted '{want}' in:\n{}",
            r.stderr
        );
        assert!(!d.path().join(".telomere.tsv").exists());
        assert!(!Path::new("-").exists() && !Path::new("o2").exists());
    }
}

/// Defect 5: memory was sized by the header (CpGs x sample columns) before any row was read,
/// so a header-only file of 200,000 columns aborted. Now memory grows with the rows read: the
/// header-only file is a one-line "no data rows" error, a wide file with a few rows is read,
/// and rows beyond the budget are refused with one line before they are allocated.
#[test]
fn memory_for_a_matrix_grows_with_what_is_read_and_is_checked_before_it_is_allocated() {
    let d = tempdir();
    let clocks = |p: &str, gb: &str| {
        let out = std::process::Command::new(crate::common::bin())
            .args(["clocks", p, "-o", "-", "--clocks", "horvath2013"])
            .env("AGEMARK_MEMORY_GB", gb)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let header = |n: usize| {
        let mut h = String::from("probe_id");
        for i in 0..n {
            h.push_str(&format!(",S{i}"));
        }
        h.push('\n');
        h
    };
    let p = write_file(d.path(), "wide.csv", &header(200_000));
    let (code, stderr) = clocks(&p, "0.5");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no data rows"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // 20,000 samples and three of Horvath's CpGs: 3 rows x 20,000 x 8 B = 0.48 MB.
    let horvath = ["cg00075967", "cg00374717", "cg00864867"];
    let mut text = header(20_000);
    for cg in horvath {
        text.push_str(cg);
        text.push_str(&",0.5".repeat(20_000));
        text.push('\n');
    }
    let p = write_file(d.path(), "rows.csv", &text);
    let (code, stderr) = clocks(&p, "0.001");
    assert_eq!(code, Some(0), "{stderr}");
    // Budget 0.2 MB: the first row (0.16 MB) fits, the second does not.
    let (code, stderr) = clocks(&p, "0.0002");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "holding 2 CpGs x 20000 samples needs 320.0 kB, more than the 200.0 kB available"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_failed_reads_command_leaves_none_of_its_outputs() {
    let d = tempdir();
    let out = d.path().join("out");
    fs::create_dir_all(out.join("s.mtdna.parquet")).unwrap();
    let bam = seq("htsnexus_test_NA12878.bam");
    let prefix = out.join("s");
    let r = agemark([
        "reads",
        bam.to_str().unwrap(),
        "-o",
        prefix.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    for f in ["s.telomere.tsv", "s.telomere.parquet", "s.mtdna.tsv"] {
        assert!(!out.join(f).exists(), "{f} was left behind");
    }
    let left: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["s.mtdna.parquet"], "temporaries left: {left:?}");
}

/// Defect 12: a plain-gzip FASTQ missing its last 9 bytes (the gzip trailer and one byte of
/// data) was read as complete; now it fails naming the file, and writes nothing.
#[test]
fn a_gzip_fastq_cut_before_its_trailer_is_refused() {
    use std::io::Write;
    let dir = crate::common::tempdir();
    let fq = std::fs::read(crate::common::demo(
        "adam_interleaved_telomeric_250bp.ifq.fq",
    ))
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&fq).unwrap();
    let gz = gz.finish().unwrap();
    let whole = dir.path().join("whole.fq.gz");
    let cut = dir.path().join("cut.fq.gz");
    std::fs::write(&whole, &gz).unwrap();
    std::fs::write(&cut, &gz[..gz.len() - 9]).unwrap();
    let ok = crate::common::agemark(["telomere", whole.to_str().unwrap(), "-o", "-", "-q"]);
    ok.assert_ok();
    let out = dir.path().join("o");
    let bad = crate::common::agemark([
        "telomere",
        cut.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(bad.code, Some(1), "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("cut.fq.gz: record 7: invalid FASTQ record: truncated file: the gzip stream ends before its end-of-stream trailer"),
        "{}",
        bad.stderr
    );
    assert!(!dir.path().join("o.telomere.tsv").exists());
}

/// Defect 11: a FASTQ with CRLF line ends was "76 bases but 77 quality scores"; now its rows
/// equal those of the same FASTQ with LF line ends.
#[test]
fn a_fastq_with_crlf_line_ends_reads_like_its_lf_twin() {
    let d = tempdir();
    let lf = "@r1\nACGTTAGGGTTAGGGTTAGGGTTAGGG\n+\nIIIIIIIIIIIIIIIIIIIIIIIIIII\n\
              @r2\nCCCTAACCCTAACCCTAACCCTAAGGT\n+\nIIIIIIIIIIIIIIIIIIIIIIIIIII\n";
    let unix = write_file(d.path(), "s.fq", lf);
    let dos = d.path().join("crlf");
    fs::create_dir(&dos).unwrap();
    let dos = write_file(&dos, "s.fq", &lf.replace('\n', "\r\n"));
    let a = agemark(["telomere", &unix, "-o", "-", "-q"]);
    let b = agemark(["telomere", &dos, "-o", "-", "-q"]);
    a.assert_ok();
    b.assert_ok();
    assert_eq!(a.stdout_text(), b.stdout_text());
}

/// Defect 11: a Bismark coverage file written 0-based must get the hint that fits (every
/// line lands on a probe CpG when moved +1), not the opposite one.
#[test]
fn a_zero_based_bismark_file_gets_the_plus_one_hint() {
    use std::io::Read;
    let d = tempdir();
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        fs::File::open(crate::common::repo(
            "tests/data/bisulfite/bismark_test_data_hg19.bismark.cov.gz",
        ))
        .unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let mut shifted = String::new();
    for line in text.lines() {
        let mut f: Vec<String> = line.split('\t').map(str::to_string).collect();
        for i in [1, 2] {
            f[i] = (f[i].parse::<u64>().unwrap() - 1).to_string();
        }
        shifted.push_str(&f.join("\t"));
        shifted.push('\n');
    }
    let p = write_file(d.path(), "zero.bismark.cov", &shifted);
    let r = agemark(["clocks", &p, "--build", "hg19", "-o", "-"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("when moved +1")
            && r.stderr
                .contains("0-based (bed-style) positions in a file read as 1-based"),
        "{}",
        r.stderr
    );
}

/// Defect 11: any corrupt CRAM container was "the reference given with --reference does not
/// match", even with no --reference; now a damaged block says so.
#[test]
fn a_corrupt_cram_without_reference_is_not_blamed_on_the_reference() {
    let d = tempdir();
    let mut cram = fs::read(seq("htsnexus_test_NA12878.cram")).unwrap();
    let mid = cram.len() / 2;
    for b in &mut cram[mid..mid + 200] {
        *b ^= 0x5a;
    }
    let p = d.path().join("bad.cram");
    fs::write(&p, &cram).unwrap();
    let r = agemark(["telomere", p.to_str().unwrap(), "-o", "-"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        !r.stderr.contains("--reference does not match"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("bad.cram: record ") && r.stderr.contains("corrupt CRAM container"),
        "{}",
        r.stderr
    );
}

/// Defect 11: BGZF corruption named the first record of the 16-block chunk; now it names the
/// first record not read whole (`samtools view` prints 3,023 records of this file before it
/// fails) and the bad block's byte offset.
#[test]
fn a_corrupt_bgzf_block_is_attributed_to_the_record_it_breaks() {
    let d = tempdir();
    let mut bam = fs::read(seq("telseq_test1_UK10K_chr1.bam")).unwrap();
    // BGZF block 20 of the file: walk the blocks by their BSIZE fields.
    let mut at = 0usize;
    for _ in 0..20 {
        at += usize::from(u16::from_le_bytes([bam[at + 16], bam[at + 17]])) + 1;
    }
    for b in &mut bam[at + 30..at + 40] {
        *b ^= 0xff;
    }
    let p = d.path().join("bad.bam");
    fs::write(&p, &bam).unwrap();
    let r = agemark(["telomere", p.to_str().unwrap(), "-o", "-"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "bad.bam: record 3,024: BGZF block at byte {at}: corrupt compressed data"
        )),
        "{}",
        r.stderr
    );
}

/// Defect 11: a directory whose only IDAT pair is corrupt said "no readable IDAT to detect the
/// platform from" without naming the file or saying why.
#[test]
fn a_directory_of_unreadable_idats_names_the_first_and_why() {
    let d = tempdir();
    let src = crate::common::repo("tests/data/array/hm27_idat");
    for f in ["4207113116_A_Grn.idat", "4207113116_A_Red.idat"] {
        fs::copy(src.join(f), d.path().join(f)).unwrap();
    }
    let grn = d.path().join("4207113116_A_Grn.idat");
    let head = fs::read(&grn).unwrap()[..100].to_vec();
    fs::write(&grn, head).unwrap();
    let out = d.path().join("o");
    let r = agemark([
        "idat",
        d.path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_ne!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr.contains("none of the 1 could be read")
            && r.stderr.contains("4207113116_A_Grn.idat: byte 12:")
            && r.stderr.contains("truncated or corrupt IDAT"),
        "{}",
        r.stderr
    );
}
