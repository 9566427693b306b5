//! mtDNA depths side by side with mosdepth (`mosdepth -n -x`, fast mode: each read counts over
//! its whole reference span, flags 1796 excluded, MAPQ ≥ 0). agemark's `--mosdepth-compat`
//! depths must equal mosdepth's `bases / length` (not its 2-decimal `mean` column) to 1e-6
//! relative, on the real BAMs and on a benchmark BAM made by `../shared/bench/make_seq_bench.py`,
//! whose truth file also gives the expected copy number.
//!
//! Ignored by default: they need mosdepth (Debian `mosdepth` + `libhts-dev`), samtools and
//! Python 3; `.ci/run` installs them and runs `cargo test -- --include-ignored`. A missing peer
//! makes the test fail with a message, never pass silently.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Command,
};

use crate::common::{agemark, demo, repo, seq, tempdir, Table};

fn tool(env: &str, name: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("{name} not found: install it (see .ci/run) or set {env}"))
}

/// mosdepth's summary as contig → (length, bases).
fn mosdepth_summary(bam: &Path, dir: &Path) -> HashMap<String, (u64, u64)> {
    let prefix = dir.join("md");
    let out = Command::new(tool("AGEMARK_MOSDEPTH", "mosdepth"))
        .args(["-n", "-x", "-t", "2"])
        .arg(&prefix)
        .arg(bam)
        .output()
        .expect("run mosdepth");
    assert!(
        out.status.success(),
        "mosdepth failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(format!("{}.mosdepth.summary.txt", prefix.display()))
        .expect("summary");
    let mut m = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f[0].ends_with("_region") || f[0] == "total" {
            continue;
        }
        m.insert(
            f[0].to_string(),
            (f[1].parse().unwrap(), f[2].parse().unwrap()),
        );
    }
    m
}

fn is_autosome(name: &str) -> bool {
    let bare = name.strip_prefix("chr").unwrap_or(name);
    bare.parse::<u8>().is_ok_and(|n| (1..=22).contains(&n))
}

fn rel_eq(a: f64, b: f64) -> bool {
    if a == b {
        return true;
    }
    ((a - b) / b.abs().max(f64::MIN_POSITIVE)).abs() <= 1e-6
}

/// Compares agemark with mosdepth on one BAM; returns agemark's table.
fn compare(bam: &Path) -> Table {
    let dir = tempdir();
    let md = mosdepth_summary(bam, dir.path());
    let run = agemark([
        "mtdna",
        "--mosdepth-compat",
        &bam.display().to_string(),
        "-o",
        "-",
        "-q",
    ]);
    run.assert_ok();
    let t = Table::parse(&run.stdout_text());
    // A contig without reads is absent from mosdepth's summary: zero bases.
    let (mito_len, mito_bases) = md
        .iter()
        .find(|(k, _)| matches!(k.as_str(), "chrM" | "MT"))
        .map(|(_, v)| *v)
        .unwrap_or((1, 0));
    let auto_bases: u64 = md
        .iter()
        .filter(|(k, _)| is_autosome(k))
        .map(|(_, v)| v.1)
        .sum();
    // mosdepth's summary leaves out contigs without reads, so the lengths come from the header.
    let header = noodles_bam::io::reader::Builder
        .build_from_path(bam)
        .and_then(|mut r| r.read_header())
        .expect("BAM header");
    let auto_len: u64 = header
        .reference_sequences()
        .iter()
        .filter(|(name, _)| is_autosome(&name.to_string()))
        .map(|(_, rs)| rs.length().get() as u64)
        .sum();
    let md_mito = mito_bases as f64 / mito_len as f64;
    let md_auto = auto_bases as f64 / auto_len as f64;
    let ours_mito = t.value("chrM_mean_depth");
    let ours_auto = t.value("autosomal_mean_depth");
    assert!(
        rel_eq(ours_mito, md_mito),
        "{}: chrM depth agemark {ours_mito} vs mosdepth {md_mito}",
        bam.display()
    );
    assert!(
        rel_eq(ours_auto, md_auto),
        "{}: autosomal depth agemark {ours_auto} vs mosdepth {md_auto}",
        bam.display()
    );
    assert_eq!(
        t.value("chrM_bases") as u64,
        mito_bases,
        "{}: chrM bases",
        bam.display()
    );
    assert_eq!(
        t.value("autosomal_bases") as u64,
        auto_bases,
        "{}: autosomal bases",
        bam.display()
    );
    t
}

#[test]
#[ignore = "needs mosdepth (Debian mosdepth + libhts-dev); run by .ci/run"]
fn depths_equal_mosdepth_fast_mode_on_real_bams() {
    for bam in [
        demo("HG03478_MT.bam"),
        demo("telseq_test3_ERS037288_chr1tel.bam"),
        seq("htsnexus_test_NA12878.bam"),
        seq("HG02002_chr6.bam"),
        seq("telseq_test1_UK10K_chr1.bam"),
    ] {
        compare(&bam);
    }
}

/// The shared folder beside the repository (CI clones the repo with `shared/` beside it).
fn shared() -> PathBuf {
    let p = std::env::var_os("AGEMARK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo("../shared"));
    assert!(
        p.join("bench/make_seq_bench.py").is_file(),
        "{}: the shared folder with bench/make_seq_bench.py is needed (set AGEMARK_SHARED)",
        p.display()
    );
    p
}

#[test]
#[ignore = "needs mosdepth, samtools, python3 and ../shared/bench; run by .ci/run"]
fn depths_and_copy_number_on_a_benchmark_bam_with_truth() {
    let dir = tempdir();
    let out = dir.path().join("b");
    let status = Command::new("python3")
        .arg(shared().join("bench/make_seq_bench.py"))
        .args([
            "--out",
            &out.display().to_string(),
            "--pairs",
            "300000",
            "--seed",
            "7",
        ])
        .status()
        .expect("run make_seq_bench.py");
    assert!(status.success(), "make_seq_bench.py failed");
    let bam = PathBuf::from(format!("{}.bam", out.display()));
    let t = compare(&bam);
    let truth: serde_like::Truth =
        serde_like::read(&PathBuf::from(format!("{}.truth.json", out.display())));
    let cn = t.value("mtdna_cn");
    assert!(
        rel_eq(cn, truth.cn_mosdepth_like),
        "mtDNA-CN agemark {cn} vs truth (mosdepth-like) {}",
        truth.cn_mosdepth_like
    );
    // Fast mode on the same file: chrM exact, the copy number within the sampling error.
    let run = agemark([
        "mtdna",
        "--mosdepth-compat",
        "--mode",
        "fast",
        &bam.display().to_string(),
        "-o",
        "-",
        "-q",
    ]);
    run.assert_ok();
    let f = Table::parse(&run.stdout_text());
    assert_eq!(f.value("chrM_bases"), t.value("chrM_bases"));
    let err = (f.value("mtdna_cn") - cn).abs() / cn;
    assert!(
        err < 0.05,
        "fast-mode CN {} vs full {cn}: {:.2}% apart",
        f.value("mtdna_cn"),
        100.0 * err
    );
}

/// Just enough JSON for the truth file's one number (no JSON crate in the dependencies).
mod serde_like {
    use std::path::Path;

    pub struct Truth {
        pub cn_mosdepth_like: f64,
    }

    pub fn read(path: &Path) -> Truth {
        let text = std::fs::read_to_string(path).expect("truth file");
        let key = "\"mtDNA_CN_mosdepth_like (2*chrM_depth/autosomal_depth)\":";
        let at = text
            .find(key)
            .expect("truth file has the mosdepth-like copy number")
            + key.len();
        let rest = text[at..].trim_start();
        let end = rest.find([',', '}']).expect("number ends");
        Truth {
            cn_mosdepth_like: rest[..end].trim().parse().expect("a number"),
        }
    }
}
