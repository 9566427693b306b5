//! One thread budget: with `--threads N` and one input the process runs at most N + 3 threads
//! (N workers, BGZF inflate included; the main thread; one reader; one logger), whatever N
//! asks for: values above 4 per core are clamped with a warning, 0 is a usage error.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// A BAM of `pairs` read pairs on chr1 and chrM, big enough that a pass takes a while.
fn big_bam(dir: &Path, pairs: usize) -> PathBuf {
    let mut sam = String::from(
        "@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:248956422\n@SQ\tSN:chrM\tLN:16569\n@RG\tID:rg1\tSM:big\n",
    );
    let motif = "TTAGGG";
    let bases = "ACGTTGCAAGCTTAGCCGATCGATTACGGCATGCATCGTAGCTAGCTAGGATCCGATCGGCTAAGCTTCGAT";
    let qual = "I".repeat(150);
    for i in 0..pairs {
        // Mostly ordinary reads, a few telomeric ones; the sequence varies with i.
        let seq: String = if i % 50 == 0 {
            motif.repeat(25)
        } else {
            let s = i % bases.len();
            bases.chars().cycle().skip(s).take(150).collect()
        };
        let (contig, pos) = if i % 20 == 0 {
            ("chrM", 1 + (i * 7) % 16000)
        } else {
            ("chr1", 1 + (i * 131) % 248_000_000)
        };
        for (flag, mate_pos) in [(99, pos + 200), (147, pos)] {
            let start = if flag == 99 { pos } else { pos + 200 };
            writeln!(
                sam,
                "r{i}\t{flag}\t{contig}\t{start}\t60\t150M\t=\t{mate_pos}\t350\t{seq}\t{qual}\tRG:Z:rg1"
            )
            .expect("write to a String");
        }
    }
    let path = dir.join("big.bam");
    crate::common::sam_to_bam(&sam, &path);
    path
}

/// Runs agemark with `args` and samples its thread count (`/proc/<pid>/task`) until it ends;
/// returns the most threads seen, the exit code and stderr.
fn max_threads(args: &[&str]) -> (usize, Option<i32>, String) {
    let mut child = Command::new(crate::common::bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn agemark");
    let task = PathBuf::from(format!("/proc/{}/task", child.id()));
    let mut most = 0;
    let started = Instant::now();
    // stderr is small (a few log lines): it fits in the pipe while we sample.
    loop {
        if let Ok(entries) = std::fs::read_dir(&task) {
            most = most.max(entries.count());
        }
        if child.try_wait().expect("wait for agemark").is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "agemark did not finish"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().expect("agemark output");
    (
        most,
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[test]
fn thread_budget_holds_clamps_and_rejects_zero() {
    let dir = crate::common::tempdir();
    let bam = big_bam(dir.path(), 150_000);
    let bam = bam.to_str().expect("UTF-8 temp path");
    let out = dir.path().join("out/x");
    let out = out.to_str().expect("UTF-8 temp path");

    // --threads 2: at most 2 + 3 threads at any time, and the pass ran long enough to see them.
    let started = Instant::now();
    let (most, code, stderr) = max_threads(&["telomere", bam, "-o", out, "--threads", "2"]);
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{stderr}");
    eprintln!("--threads 2: at most {most} threads in {took:?}");
    assert!(most >= 3, "sampled too late to see the workers: {most}");
    assert!(most <= 2 + 3, "--threads 2 ran {most} threads");

    // --threads 100000: clamped to 4 per core, with a warning.
    let (most, code, stderr) = max_threads(&["mtdna", bam, "-o", out, "--threads", "100000"]);
    assert_eq!(code, Some(0), "{stderr}");
    eprintln!("--threads 100000: at most {most} threads");
    assert!(
        stderr.contains("--threads 100000") && stderr.contains(&format!("using {}", cores() * 4)),
        "no clamping warning: {stderr}"
    );
    assert!(
        most <= cores() * 4 + 3,
        "--threads 100000 ran {most} threads"
    );

    // --threads 0: a usage error, one line.
    let run = crate::common::agemark(["telomere", bam, "-o", out, "--threads", "0"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("--threads 0"), "{}", run.stderr);
}
