//! The safety net of the redesign (issue 12): the sha256 of every table that the demo and a
//! fixed list of commands over `tests/data` write, at `--threads 1` and `--threads 2`, compared
//! with the checked-in list `tests/golden/sha256.tsv`.
//!
//! A change that moves code must leave these bytes alone. A change that alters an output on
//! purpose regenerates the list (`AGEMARK_GOLDEN_UPDATE=1 cargo test --release --test suite golden`) and says
//! which tables changed, and why, in its commit message.
//!
//! Files whose bytes hold the time, the machine or the fingerprint scheme (the run manifest,
//! logs, lock files) are listed by name only.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use crate::common::{agemark, repo, tempdir};
use sha2::{Digest, Sha256};

/// Files written with the time or the machine in them: present, not hashed.
fn volatile(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name == "run_manifest.tsv"
        || name.ends_with(".log")
        || name.starts_with("run_jobs")
        || name.ends_with(".lock")
}

/// The commands (`{d}` = tests/data, `{r}` = reference, `{o}` = the command's output folder).
const COMMANDS: &[(&str, &str)] = &[
    ("telomere_bam", "telomere {d}/seq/telseq_test1_UK10K_chr1.bam -o {o}/t"),
    ("telomere_cram", "telomere {d}/seq/HG03478_MT.cram --reference {d}/seq/ref/MT.fa -o {o}/t"),
    ("mtdna_bam", "mtdna {d}/seq/htsnexus_test_NA12878.bam -o {o}/m"),
    ("mtdna_fast", "mtdna --mode fast {d}/seq/htsnexus_test_NA12878.bam -o {o}/m"),
    ("reads_bam", "reads {d}/seq/htsnexus_test_NA12878.bam -o {o}/r"),
    ("reads_mt", "reads {r}/demo/HG03478_MT.bam -o {o}/r"),
    ("idat_hm27", "idat {d}/array/hm27_idat -o {o}/i"),
    ("clocks_matrix", "clocks {d}/array/gse55763_blood_5x20000_betas.csv -o {o}/c"),
    ("clocks_cord", "clocks {d}/array/progress_cordblood_knight148_betas.csv -o {o}/c"),
    ("clocks_idat", "clocks {d}/array/hm27_idat -o {o}/c"),
    ("clocks_calls", "clocks {d}/bisulfite/MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz --min-coverage 1 --max-missing 1 -o {o}/c"),
    ("celltypes_blood", "celltypes {d}/array/gse55763_blood_5x20000_betas.csv --panel blood_reinius450k -o {o}/c"),
    ("celltypes_placenta", "celltypes {d}/array/planet_placenta_24x13918_betas.csv.gz --panel placenta_term -o {o}/c"),
    ("nr3c1_matrix", "nr3c1 {d}/array/gse55763_blood_5x20000_betas.csv -o {o}/n"),
    ("nr3c1_calls", "nr3c1 {d}/bisulfite/MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz -o {o}/n"),
    ("demo", "demo --outdir {o}/demo"),
];

fn expand(template: &str, out: &Path) -> Vec<String> {
    let d = repo("tests/data").display().to_string();
    let r = repo("reference").display().to_string();
    template
        .split_whitespace()
        .map(|w| {
            w.replace("{d}", &d)
                .replace("{r}", &r)
                .replace("{o}", &out.display().to_string())
        })
        .collect()
}

fn walk(dir: &Path, base: &Path, into: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, base, into);
        } else {
            into.push(p.strip_prefix(base).unwrap().to_path_buf());
        }
    }
}

/// Issue 13: a `warn` or `fail` row of any tidy or cohort table has a non-empty `qc_note`.
fn every_non_pass_row_says_why(path: &Path, what: &str) {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let (Some(st), Some(note)) = (
        header.iter().position(|h| *h == "qc_status"),
        header.iter().position(|h| *h == "qc_note"),
    ) else {
        return;
    };
    for (i, l) in lines.enumerate() {
        let c: Vec<&str> = l.split('\t').collect();
        let status = c.get(st).copied().unwrap_or_default();
        if status == "warn" || status == "fail" {
            assert!(
                !c.get(note).copied().unwrap_or_default().is_empty(),
                "{what}: line {}: a {status} row without a reason: {l}",
                i + 2
            );
        }
    }
}

fn hashes() -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    for threads in ["1", "2"] {
        for (name, template) in COMMANDS {
            let dir = tempdir();
            let out = dir.path().join("o");
            fs::create_dir_all(&out).unwrap();
            let mut args = vec![
                "--threads".to_string(),
                threads.to_string(),
                "-q".to_string(),
            ];
            args.extend(expand(template, &out));
            let run = agemark(&args);
            // The demo exits non-zero while its cohort has failed rows; its tables still count.
            if *name != "demo" {
                run.assert_ok();
            } else {
                // Issue 14: the terminal ends with the rows by assay (their sum = the long
                // table's rows) and the files to open first.
                let text = run.stdout_text();
                let all = text
                    .lines()
                    .find(|l| l.trim_start().starts_with("all "))
                    .unwrap_or_else(|| panic!("no 'all' line in:\n{text}"));
                let n: usize = all
                    .split_whitespace()
                    .filter_map(|w| w.parse::<usize>().ok())
                    .sum();
                let long = fs::read_to_string(out.join("demo/cohort/cohort.long.tsv")).unwrap();
                assert_eq!(n, long.lines().count() - 1, "{all}");
                assert!(text.contains("Open first:"), "{text}");
                // A plausible demo: at most 5 % of its rows are not pass (each says why,
                // checked below), and its report reads as a cohort scientist needs.
                let counts: Vec<usize> = all
                    .split_whitespace()
                    .filter_map(|w| w.parse::<usize>().ok())
                    .collect();
                assert!(
                    (counts[1] + counts[2]) * 20 <= n,
                    "more than 5 % of the demo's rows are warn/fail: {all}"
                );
                crate::cohort_cli::assert_report_shape(
                    &fs::read_to_string(out.join("demo/cohort/report.html")).unwrap(),
                );
            }
            let mut files = Vec::new();
            walk(&out, &out, &mut files);
            assert!(!files.is_empty(), "{name}: wrote nothing");
            for rel in files {
                let rel_s = rel.display().to_string();
                let key = format!("{name}\tt{threads}\t{rel_s}");
                if rel_s.ends_with(".tsv") {
                    every_non_pass_row_says_why(&out.join(&rel), &format!("{name}: {rel_s}"));
                }
                let value = if volatile(&rel_s) {
                    "volatile".to_string()
                } else {
                    let bytes = fs::read(out.join(&rel)).unwrap();
                    Sha256::digest(&bytes)
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                };
                all.insert(key, value);
            }
        }
    }
    all
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "34 commands and two demos: minutes in a debug build; CI runs it with --release"
)]
fn every_table_of_the_fixed_commands_is_byte_identical_to_the_golden_list() {
    let list = repo("tests/golden/sha256.tsv");
    let got = hashes();
    let text: String = got.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect();
    if std::env::var_os("AGEMARK_GOLDEN_UPDATE").is_some() {
        fs::write(&list, text).unwrap();
        return;
    }
    let want = fs::read_to_string(&list)
        .expect("tests/golden/sha256.tsv (AGEMARK_GOLDEN_UPDATE=1 writes it)");
    let want: BTreeMap<String, String> = want
        .lines()
        .filter_map(|l| l.rsplit_once('\t'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut diffs = Vec::new();
    for (k, v) in &want {
        match got.get(k) {
            None => diffs.push(format!("missing: {k}")),
            Some(g) if g != v => diffs.push(format!("changed: {k}")),
            _ => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        diffs.push(format!("new: {k}"));
    }
    assert!(
        diffs.is_empty(),
        "{} differences from tests/golden/sha256.tsv:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
