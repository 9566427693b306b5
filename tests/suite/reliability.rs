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

#[test]
fn memory_for_a_matrix_is_checked_before_it_is_allocated() {
    let d = tempdir();
    // A header with 200,000 sample columns and no data: 20 clocks' CpGs x 200,000 samples.
    let mut header = String::from("probe_id");
    for i in 0..200_000 {
        header.push_str(&format!(",S{i}"));
    }
    header.push('\n');
    let p = write_file(d.path(), "wide.csv", &header);
    let out = std::process::Command::new(crate::common::bin())
        .args(["clocks", &p, "-o", "-"])
        .env("AGEMARK_MEMORY_GB", "0.5")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("more than the 0.5 GB available"),
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
