//! `agemark run`, `merge` and `report` on small real inputs: the bundled demo reads
//! (reference/demo) and the demo cohort's real beta matrix (reference/demo/cohort).

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use crate::common::{agemark, demo, repo, tempdir};

const BETAS: &str = "reference/demo/cohort/demo_betas.csv.gz";

/// Copies two demo BAMs into `dir` under the given names and writes a sheet; returns its path.
fn cohort(dir: &Path, bam_names: [&str; 2], sheet_ids: [&str; 6]) -> PathBuf {
    fs::copy(demo("HG03478_MT.bam"), dir.join(bam_names[0])).unwrap();
    fs::copy(
        demo("telseq_test3_ERS037288_chr1tel.bam"),
        dir.join(bam_names[1]),
    )
    .unwrap();
    let [m, c, c2, pm, pc, fam] = sheet_ids;
    let text = format!(
        "sample_id,participant_id,family_id,role,sample_type,timepoint,age_years,gestational_age_weeks,sex,reads,betas_column\n\
         {m},{pm},{fam},mother,maternal_blood,delivery,42,,,{},7786915135_R04C02\n\
         {c},{pc},{fam},child,cord_blood,birth,0,38,,{},784\n\
         {c2},{pc}b,{fam},child,cord_blood,birth,0,38.28571429,,,1052\n",
        bam_names[0], bam_names[1]
    );
    let p = dir.join("sheet.csv");
    fs::write(&p, text).unwrap();
    p
}

fn run_args<'a>(sheet: &'a Path, out: &'a Path, extra: &[&'a str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "run".into(),
        "--samplesheet".into(),
        sheet.display().to_string(),
        "--outdir".into(),
        out.display().to_string(),
        "--betas".into(),
        repo(BETAS).display().to_string(),
        "--clocks".into(),
        "knight2016_ga".into(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

const IDS: [&str; 6] = ["M1", "C1", "C2", "P1", "P2", "F1"];

/// Every file under `dir` (relative path → bytes).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn text(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn check_reports_every_problem_at_once_with_line_numbers() {
    let dir = tempdir();
    let d = dir.path();
    fs::copy(demo("HG03478_MT.bam"), d.join("a.bam")).unwrap();
    fs::create_dir(d.join("adir")).unwrap();
    let sheet = d.join("bad.csv");
    fs::write(
        &sheet,
        "sample_id,sample_type,age_years,reads\n\
         A,cord_blood,0,a.bam\n\
         B,whole_blood,30,missing.bam\n\
         A,whole_blood,31,\n\
         D,blood,40,\n\
         E,saliva,-3,\n\
         F,saliva,200,\n\
         G,buccal,20,adir\n\
         H,buccal,20,a.bam\n",
    )
    .unwrap();
    let out = d.join("out");
    for extra in [vec!["--check"], vec![]] {
        let mut args = vec![
            "run".to_string(),
            "--samplesheet".into(),
            sheet.display().to_string(),
        ];
        if extra.is_empty() {
            args.extend(["--outdir".to_string(), out.display().to_string()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let r = agemark(&args);
        assert_eq!(r.code, Some(4), "{}", r.stderr);
        let e = &r.stderr;
        for want in [
            "row 3: column reads: no such file",
            "row 4: column sample_id: duplicate sample id 'A' (first at row 2)",
            "row 5: column sample_type: unknown sample type 'blood'",
            "row 6: column age_years: impossible value '-3'",
            "row 7: column age_years: impossible value '200'",
            "row 8: column reads: is a directory, not a file",
            "row 9: column reads: the same file as sample 'A' (row 2)",
            "7 error(s) in the sample sheet; nothing was run",
        ] {
            assert!(e.contains(want), "missing {want:?} in:\n{e}");
        }
        assert!(
            !out.exists(),
            "nothing may be written before the sheet is valid"
        );
    }
}

#[test]
fn sheet_with_bom_crlf_quotes_and_blank_lines_is_accepted() {
    let dir = tempdir();
    let d = dir.path();
    fs::copy(demo("HG03478_MT.bam"), d.join("a b.bam")).unwrap();
    let sheet = d.join("s.csv");
    fs::write(
        &sheet,
        "\u{feff}\"sample_id\",\"timepoint\",\"reads\",sample_type\r\n\"S1\",\"birth, day 1\",\"a b.bam\",cord_blood\r\nS2,\"6y\",,buccal\r\n\r\n\r\n",
    )
    .unwrap();
    let r = agemark(["run", "--check", "--samplesheet", sheet.to_str().unwrap()]);
    r.assert_ok();
    assert!(
        r.stdout_text().contains("s.csv: ok (2 samples)"),
        "{}",
        r.stdout_text()
    );
    assert!(r.stderr.contains("warning:") && r.stderr.contains("'S2' has no inputs"));
    // TSV with the same content also passes, and the quoted timepoint keeps its comma.
    let out = d.join("out");
    let r = agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--outdir",
        out.to_str().unwrap(),
    ]);
    r.assert_ok();
    let long = text(&out.join("cohort.long.tsv"));
    assert!(
        long.contains("S1\t\t\t\tcord_blood\tbirth, day 1\t"),
        "{long}"
    );
    assert!(long.contains("S2\t\t\t\tbuccal\t6y\t\t\t\tcohort\tno_rows\t"));
}

#[test]
fn failing_sample_lands_in_failures_and_the_others_finish() {
    let dir = tempdir();
    let d = dir.path();
    let sheet = cohort(d, ["m.bam", "c.bam"], IDS);
    fs::write(d.join("c.bam"), b"this is not a BAM file\n").unwrap();
    let out = d.join("out");
    let r = agemark(run_args(&sheet, &out, &[]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("1 failure(s) in 1 sample(s)"),
        "{}",
        r.stderr
    );
    let failures = text(&out.join("failures.tsv"));
    let lines: Vec<&str> = failures.lines().collect();
    assert_eq!(lines[0], "sample_id\tstage\tcategory\treason");
    assert_eq!(lines.len(), 2, "{failures}");
    assert!(lines[1].starts_with("C1\treads\t"), "{failures}");
    // Every sample has rows; the failed one fails.
    let long = text(&out.join("cohort.long.tsv"));
    for s in ["M1", "C1", "C2"] {
        assert!(
            long.lines().any(|l| l.starts_with(&format!("{s}\t"))),
            "{s}"
        );
    }
    assert!(long.lines().any(|l| l.starts_with("C1\t")
        && l.contains("\ttelomere\tstage_failed\t")
        && l.contains("\tfail\t")));
    // The good sample's tables are exactly what `agemark reads` writes.
    let reads_prefix = d.join("solo").join("M1");
    agemark([
        "reads",
        d.join("m.bam").to_str().unwrap(),
        "--sample-id",
        "M1",
        "-o",
        reads_prefix.to_str().unwrap(),
    ])
    .assert_ok();
    for sfx in [
        "telomere.tsv",
        "telomere.parquet",
        "mtdna.tsv",
        "mtdna.parquet",
    ] {
        assert_eq!(
            fs::read(out.join("M1").join(format!("M1.{sfx}"))).unwrap(),
            fs::read(d.join("solo").join(format!("M1.{sfx}"))).unwrap(),
            "{sfx}"
        );
    }
    // Clock rows of the children (cord blood) are there, renamed to sample ids.
    assert!(long
        .lines()
        .any(|l| l.starts_with("C2\t") && l.contains("\tclocks\tknight2016_ga\t")));
}

#[test]
fn rerun_skips_unchanged_jobs_and_redoes_changed_ones() {
    let dir = tempdir();
    let d = dir.path();
    let sheet = cohort(d, ["m.bam", "c.bam"], IDS);
    let out = d.join("out");
    let first = agemark(run_args(&sheet, &out, &[]));
    first.assert_ok();
    assert!(
        !first.stderr.contains("unchanged since the last run"),
        "{}",
        first.stderr
    );
    let t = out.join("M1").join("M1.telomere.tsv");
    let mtime = fs::metadata(&t).unwrap().modified().unwrap();
    let before = files(&out);
    let second = agemark(run_args(&sheet, &out, &[]));
    second.assert_ok();
    for job in ["M1:reads", "C1:reads", "methylation:clocks"] {
        assert!(
            second
                .stderr
                .contains(&format!("{job}: unchanged since the last run, skipped")),
            "{job}: {}",
            second.stderr
        );
    }
    assert_eq!(fs::metadata(&t).unwrap().modified().unwrap(), mtime);
    assert_eq!(files(&out), before, "a resumed run writes the same bytes");
    // A changed input is redone; the other sample is not.
    fs::copy(demo("computel_DRR016840_telreads.bam"), d.join("c.bam")).unwrap();
    let third = agemark(run_args(&sheet, &out, &[]));
    third.assert_ok();
    assert!(third
        .stderr
        .contains("M1:reads: unchanged since the last run, skipped"));
    assert!(third.stderr.contains("C1:reads: done"), "{}", third.stderr);
    // A removed output is rebuilt.
    fs::remove_file(&t).unwrap();
    let fourth = agemark(run_args(&sheet, &out, &[]));
    fourth.assert_ok();
    assert!(
        fourth.stderr.contains("M1:reads: done"),
        "{}",
        fourth.stderr
    );
    assert!(t.is_file());
}

#[test]
fn output_bytes_do_not_depend_on_threads() {
    let dir = tempdir();
    let d = dir.path();
    let sheet = cohort(d, ["m.bam", "c.bam"], IDS);
    let (o1, o2) = (d.join("t1"), d.join("t2"));
    let mut a1 = vec!["--threads".to_string(), "1".into()];
    a1.extend(run_args(&sheet, &o1, &[]));
    let mut a2 = vec!["--threads".to_string(), "2".into()];
    a2.extend(run_args(&sheet, &o2, &[]));
    agemark(&a1).assert_ok();
    agemark(&a2).assert_ok();
    let (f1, f2) = (files(&o1), files(&o2));
    assert_eq!(f1.keys().collect::<Vec<_>>(), f2.keys().collect::<Vec<_>>());
    assert!(f1.len() >= 20, "{:?}", f1.keys());
    for (k, v) in &f1 {
        assert!(v == &f2[k], "{k} differs between --threads 1 and 2");
    }
}

#[test]
fn merge_of_the_stage_tables_equals_run() {
    let dir = tempdir();
    let d = dir.path();
    let sheet = cohort(d, ["m.bam", "c.bam"], IDS);
    let out = d.join("out");
    agemark(run_args(&sheet, &out, &[])).assert_ok();
    // As a workflow would: every per-sample table and the methylation tables, in shuffled
    // order, once twice, plus non-tidy TSVs (MultiQC files) that merge must skip.
    let mut tables: Vec<String> = Vec::new();
    for sub in ["C1", "M1", "methylation", "multiqc", "M1"] {
        for e in fs::read_dir(out.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "tsv") {
                tables.push(p.display().to_string());
            }
        }
    }
    tables.reverse();
    let prefix = d.join("merged").join("cohort");
    let mut args = vec!["merge".to_string()];
    args.extend(tables);
    args.extend([
        "-o".to_string(),
        prefix.display().to_string(),
        "--samplesheet".into(),
        sheet.display().to_string(),
    ]);
    let r = agemark(&args);
    r.assert_ok();
    assert!(
        r.stderr
            .contains("MultiQC custom content, not samples' rows: not merged"),
        "{}",
        r.stderr
    );
    for f in [
        "long.tsv",
        "long.parquet",
        "wide.tsv",
        "columns.tsv",
        "dyads.tsv",
    ] {
        assert!(
            fs::read(out.join(format!("cohort.{f}"))).unwrap()
                == fs::read(d.join("merged").join(format!("cohort.{f}"))).unwrap(),
            "cohort.{f} differs between run and merge"
        );
    }
    // Shapes: one wide row per sample, two child-mother dyads, units in the dictionary.
    let wide = text(&out.join("cohort.wide.tsv"));
    assert_eq!(wide.lines().count(), 4);
    assert!(wide
        .lines()
        .next()
        .unwrap()
        .contains("\tclocks.knight2016_ga\t"));
    let dyads = text(&out.join("cohort.dyads.tsv"));
    let pairs: std::collections::BTreeSet<(&str, &str)> = dyads
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[1], c[4])
        })
        .collect();
    // Only measures valid for both pair: C1 and M1 share the read measures; C2 (no reads)
    // pairs with M1 only by cell types, across panels (IDOL cord blood, Reinius adult blood)
    // by their canonical labels; knight2016_ga applies to cord blood only.
    assert_eq!(pairs, [("C1", "M1"), ("C2", "M1")].into_iter().collect());
    let c2: std::collections::BTreeSet<(&str, &str)> = dyads
        .lines()
        .filter(|l| l.split('\t').nth(1) == Some("C2"))
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[7], c[8])
        })
        .collect();
    // (and the labelled exception: the child's prenatal-smoking score beside the mother's
    // smoking score)
    assert!(
        c2.iter().all(|(a, m)| *a == "celltypes"
            || *a == "nr3c1"
            || (*a == "exposure"
                && m.starts_with("child:")
                && m.ends_with("|mother:elliott2014_smoking"))),
        "{c2:?}"
    );
    assert!(c2.contains(&("celltypes", "b_cell")), "{c2:?}");
    assert!(
        !c2.iter()
            .any(|(_, m)| *m == "granulocyte" || *m == "neutrophil"),
        "{c2:?}"
    );
    for l in dyads.lines().skip(1) {
        let c: Vec<&str> = l.split('\t').collect();
        assert!(!c[10].is_empty() && !c[11].is_empty(), "{l}");
        assert_ne!(c[8], "knight2016_ga", "{l}");
    }
    let cols = text(&out.join("cohort.columns.tsv"));
    assert!(cols.contains("telomere.telseq_length_kb\ttelomere\ttelseq_length_kb\tkb\t"));
    assert!(cols.contains("clocks.knight2016_ga\tclocks\tknight2016_ga\tgestational_weeks\t"));
}

#[test]
fn pseudonymise_leaves_no_raw_id_in_any_output_or_log() {
    let dir = tempdir();
    let d = dir.path();
    let ids = [
        "MUMZQX01",
        "KIDZQX02",
        "KIDZQX03",
        "PERSZQX04",
        "PERSZQX05",
        "FAMZQX06",
    ];
    // The reads files are named after the samples, as they often are.
    let sheet = cohort(d, ["MUMZQX01.bam", "KIDZQX02_R1.bam"], ids);
    let key = d.join("key");
    fs::write(&key, "a secret key of more than sixteen bytes\n").unwrap();
    let out = d.join("out");
    let r = agemark(run_args(
        &sheet,
        &out,
        &["--pseudonymise", key.to_str().unwrap(), "-v"],
    ));
    r.assert_ok();
    let all = files(&out);
    assert!(all
        .keys()
        .any(|k| k.starts_with("s_") && k.ends_with(".telomere.tsv")));
    let raw: Vec<String> = ids
        .iter()
        .map(|s| s.to_string())
        .chain(["PERSZQX05b".to_string()])
        .collect();
    for id in &raw {
        assert!(
            !r.stderr.contains(id.as_str()),
            "{id} in the log:\n{}",
            r.stderr
        );
        for (name, bytes) in &all {
            assert!(!name.contains(id.as_str()), "{id} in file name {name}");
            let hay = String::from_utf8_lossy(bytes);
            assert!(!hay.contains(id.as_str()), "{id} in {name}");
        }
    }
    // Input file names are hashed too.
    let long = text(&out.join("cohort.long.tsv"));
    assert!(!long.contains(".bam"), "input file names must be hashed");
    assert!(long.contains("\ti_"));
    // Linkage survives under pseudonyms: the one dyad with reads on both sides pairs.
    assert_eq!(
        text(&out.join("cohort.dyads.tsv"))
            .lines()
            .filter(|l| l.contains("\ttelseq_length_kb\t"))
            .count(),
        1
    );
    // Same key, same pseudonyms; another key, others.
    let out2 = d.join("out2");
    agemark(run_args(
        &sheet,
        &out2,
        &["--pseudonymise", key.to_str().unwrap()],
    ))
    .assert_ok();
    assert_eq!(
        files(&out2).keys().collect::<Vec<_>>(),
        all.keys().collect::<Vec<_>>()
    );
    let key2 = d.join("key2");
    fs::write(&key2, "another secret key, also long").unwrap();
    let out3 = d.join("out3");
    agemark(run_args(
        &sheet,
        &out3,
        &["--pseudonymise", key2.to_str().unwrap()],
    ))
    .assert_ok();
    assert_ne!(
        files(&out3).keys().collect::<Vec<_>>(),
        all.keys().collect::<Vec<_>>()
    );
    // Without the option nothing is hashed.
    let plain = d.join("plain");
    agemark(run_args(&sheet, &plain, &[])).assert_ok();
    assert!(plain
        .join("MUMZQX01")
        .join("MUMZQX01.telomere.tsv")
        .is_file());
}

#[test]
fn report_is_self_contained_with_svg_plots_and_a_qc_table() {
    let dir = tempdir();
    let d = dir.path();
    let sheet = cohort(d, ["m.bam", "c.bam"], IDS);
    let out = d.join("out");
    agemark(run_args(&sheet, &out, &[])).assert_ok();
    let html = text(&out.join("report.html"));
    assert_report_shape(&html);
    for want in [
        "data-plot=\"telomere:telseq_length_kb\"",
        "data-plot=\"mtdna:mtdna_cn\"",
        "data-plot=\"clock:knight2016_ga\"",
        "class=\"identity\"",
        "<section id=\"summary\"><h2>Summary</h2>",
        "<section id=\"celltypes\"><h2>Cell composition</h2>",
        "<section id=\"nr3c1\"><h2>NR3C1 methylation</h2>",
        "<section id=\"qc\"><h2>QC: warn and fail rows by reason</h2>",
    ] {
        assert!(html.contains(want), "report lacks {want}");
    }
    // Cell fractions and NR3C1 are drawn when the long table has values for them, and a note
    // says so when it has none.
    let long_text = text(&out.join("cohort.long.tsv"));
    let has_values = |assay: &str| {
        let mut lines = long_text.lines();
        let head: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let (a, v) = (
            head.iter().position(|h| *h == "assay").unwrap(),
            head.iter().position(|h| *h == "value").unwrap(),
        );
        lines.any(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            c[a] == assay && !c[v].is_empty()
        })
    };
    for (assay, plot, none) in [
        (
            "celltypes",
            "data-plot=\"celltypes:",
            "No cell-type fractions",
        ),
        (
            "nr3c1",
            "data-plot=\"nr3c1_heatmap\"",
            "No NR3C1 probe values",
        ),
    ] {
        assert!(
            long_text.contains(&format!("\t{assay}\t")),
            "run wrote no {assay} rows"
        );
        if has_values(assay) {
            assert!(html.contains(plot), "report lacks {plot}");
        } else {
            assert!(html.contains(none), "report lacks the note {none}");
        }
    }
    for banned in ["<script", "<link", " src=", "url(", "@import"] {
        assert!(!html.contains(banned), "report must load nothing: {banned}");
    }
    // QC is counted by assay × reason (not every flagged row), and links the full list.
    let long = text(&out.join("cohort.long.tsv"));
    let flagged = long
        .lines()
        .skip(1)
        .filter(|l| l.split('\t').nth(15) != Some("pass"))
        .count();
    assert!(flagged > 0);
    assert!(html.contains(&format!("{flagged} warn/fail rows in all")));
    assert!(html.contains("<a href=\"cohort.long.tsv\">"));
    // MultiQC custom content.
    let mq = out.join("multiqc");
    assert!(text(&mq.join("agemark_telomere_mqc.tsv")).starts_with("# id: 'agemark_telomere'"));
    assert!(text(&mq.join("agemark_qc_mqc.json")).contains("\"plot_type\": \"bargraph\""));
    // `agemark report` on the directory rebuilds the same file.
    let again = d.join("again.html");
    agemark([
        "report",
        out.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
        "--multiqc-dir",
        d.join("mq2").to_str().unwrap(),
    ])
    .assert_ok();
    assert_eq!(text(&again), html);
    assert_eq!(files(&d.join("mq2")), files(&mq));
}

#[test]
fn unknown_stage_and_missing_betas_are_usage_errors() {
    let dir = tempdir();
    let d = dir.path();
    let sheet = cohort(d, ["m.bam", "c.bam"], IDS);
    let out = d.join("out");
    let r = agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--outdir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(4));
    assert!(r
        .stderr
        .contains("row 2: column betas_column: a betas column without a matrix"));
    assert!(r.stderr.contains("row 3: column betas_column"));
    let r = agemark(run_args(&sheet, &out, &["--stages", "reads,telepathy"]));
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("unknown stage 'telepathy'"));
}

#[test]
fn a_methylation_only_run_needs_no_reads_files() {
    let dir = tempdir();
    let d = dir.path();
    let sheet = cohort(d, ["m.bam", "c.bam"], IDS);
    fs::remove_file(d.join("m.bam")).unwrap();
    let out = d.join("out");
    let r = agemark(run_args(&sheet, &out, &[]));
    assert_eq!(r.code, Some(4));
    assert!(
        r.stderr.contains("row 2: column reads: no such file"),
        "{}",
        r.stderr
    );
    let r = agemark(run_args(&sheet, &out, &["--stages", "clocks"]));
    r.assert_ok();
    assert!(out.join("methylation/cohort.clocks.tsv").is_file());
    assert!(!out.join("M1").exists());
}

#[test]
fn merge_with_the_key_equals_a_pseudonymised_run() {
    let dir = tempdir();
    let d = dir.path();
    let sheet = cohort(d, ["m.bam", "c.bam"], IDS);
    let key = d.join("key");
    fs::write(&key, "yet another key of enough bytes").unwrap();
    let out = d.join("out");
    agemark(run_args(
        &sheet,
        &out,
        &["--pseudonymise", key.to_str().unwrap()],
    ))
    .assert_ok();
    let mut args = vec!["merge".to_string()];
    for e in fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            for f in fs::read_dir(&p).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|x| x == "tsv") {
                    args.push(f.display().to_string());
                }
            }
        }
    }
    let prefix = d.join("m").join("cohort");
    args.extend([
        "-o".to_string(),
        prefix.display().to_string(),
        "--samplesheet".into(),
        sheet.display().to_string(),
        "--pseudonymise".into(),
        key.display().to_string(),
    ]);
    // Defect 12 (issue 17): the same tables and sheet without the key linked nothing and
    // exited 0; now the merge stops and says why.
    let unkeyed: Vec<String> = args[..args.len() - 2].to_vec();
    let r = agemark(&unkeyed);
    assert_eq!(r.code, Some(4), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("sample ids in the tables is in the sample sheet")
            && r.stderr
                .contains("give the run's key with --pseudonymise KEY"),
        "{}",
        r.stderr
    );
    agemark(&args).assert_ok();
    for f in [
        "long.tsv",
        "long.parquet",
        "wide.tsv",
        "columns.tsv",
        "dyads.tsv",
    ] {
        assert!(
            fs::read(out.join(format!("cohort.{f}"))).unwrap()
                == fs::read(d.join("m").join(format!("cohort.{f}"))).unwrap(),
            "cohort.{f} differs"
        );
    }
    assert!(!text(&out.join("cohort.long.tsv")).contains("\tM1\t"));
}

/// Per-sample methylation inputs in the sheet: real HM27 IDATs (`idat` prefix) and a real WGBS
/// BISCUIT file (`methylation_calls`) go through the same stages as a beta matrix, each
/// sample's rows named by its sample_id, and `agemark clocks` on the same IDATs gives the same
/// clock values.
#[test]
fn per_sample_idat_and_calls_inputs_feed_the_methylation_stages() {
    let dir = tempdir();
    let d = dir.path();
    let idat = repo("tests/data/array/hm27_idat");
    let calls = repo("tests/data/bisulfite/MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz");
    let sheet = d.join("sheet.csv");
    fs::write(
        &sheet,
        format!(
            "sample_id,sample_type,age_years,idat,methylation_calls\n\
             OV-A,whole_blood,50,{0}/4207113116_A,\n\
             OV-B,other,60,{0}/4207113116_B,\n\
             WGBS,whole_blood,40,,{1}\n",
            idat.display(),
            calls.display()
        ),
    )
    .unwrap();
    let out = d.join("out");
    agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--outdir",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    let long = crate::common::Table::read(&out.join("cohort.long.tsv"));
    let get = |sample: &str, measure: &str| {
        long.rows
            .iter()
            .find(|r| r["sample_id"] == sample && r["measure"] == measure)
            .unwrap_or_else(|| panic!("no {measure} row for {sample}"))
            .clone()
    };
    for s in ["OV-A", "OV-B", "WGBS"] {
        for stage in ["clocks", "celltypes", "nr3c1"] {
            assert!(
                long.rows
                    .iter()
                    .any(|r| r["sample_id"] == s && r["assay"] == stage),
                "{s} has no {stage} rows"
            );
        }
    }
    assert_eq!(
        text(&out.join("failures.tsv")),
        "sample_id\tstage\tcategory\treason\n"
    );
    // Both IDAT samples went through ONE idat job (batch = their Sentrix barcode), whose files
    // are byte-identical to `agemark idat <prefixes> --sample-ids <ids>`, and whose QC rows are
    // in the cohort tables.
    let batch = d.join("batch");
    agemark([
        "idat",
        idat.join("4207113116_A").to_str().unwrap(),
        idat.join("4207113116_B").to_str().unwrap(),
        "--sample-ids",
        "OV-A,OV-B",
        "-o",
        batch.to_str().unwrap(),
    ])
    .assert_ok();
    for sfx in [
        "betas.tsv.gz",
        "detection.tsv.gz",
        "idat_qc.tsv",
        "idat_qc.parquet",
    ] {
        assert_eq!(
            fs::read(out.join(format!("idat/4207113116.{sfx}"))).unwrap(),
            fs::read(d.join(format!("batch.{sfx}"))).unwrap(),
            "{sfx}"
        );
    }
    assert_eq!(
        fs::read_dir(out.join("idat")).unwrap().count(),
        4,
        "one batch, no failures.tsv"
    );
    for s in ["OV-A", "OV-B"] {
        let r = get(s, "fraction_failed_probes");
        assert_eq!(r["assay"], "methylation_array");
        assert_eq!(
            r["sample_type"],
            if s == "OV-A" { "whole_blood" } else { "other" }
        );
    }
    assert!(!long
        .rows
        .iter()
        .any(|r| r["sample_id"] == "WGBS" && r["assay"] == "methylation_array"));
    // The IDAT sample's clock equals `agemark clocks` on the betas `agemark idat` wrote.
    let direct = d.join("direct");
    agemark([
        "clocks",
        d.join("batch.betas.tsv.gz").to_str().unwrap(),
        "--clocks",
        "horvath2013",
        "-o",
        direct.to_str().unwrap(),
    ])
    .assert_ok();
    let direct = crate::common::Table::read(&d.join("direct.clocks.tsv"));
    let want = &direct
        .rows
        .iter()
        .find(|r| r["measure"] == "horvath2013" && r["sample_id"] == "OV-A")
        .unwrap()["value"];
    let got = get("OV-A", "horvath2013");
    assert_eq!(&got["value"], want);
    assert!(got["n_used"].parse::<u64>().unwrap() > 300);
    // No bundled clock was trained on sample type `other`: one warn row says so, no clock rows.
    let none = get("OV-B", "applicable_clocks");
    assert_eq!(none["qc_status"], "warn");
    assert!(
        none["qc_note"]
            .starts_with("no requested clock was trained on sample_type 'other', age 60 years"),
        "{}",
        none["qc_note"]
    );
    assert!(!long
        .rows
        .iter()
        .any(|r| r["sample_id"] == "OV-B" && r["measure"] == "horvath2013"));
    // The calls sample's rows say where the values came from.
    let wgbs = get("WGBS", "horvath2013");
    assert!(
        wgbs["qc_note"].contains("sequencing calls"),
        "{}",
        wgbs["qc_note"]
    );
}

/// Copies the real HM27 pair `4207113116_<pos>` into `dir` as `<name>_Grn/_Red.idat`; with
/// `truncate`, the Grn file is cut to a third (a corrupt IDAT).
fn hm27_copy(dir: &Path, pos: &str, name: &str, truncate: bool) -> PathBuf {
    let src = repo("tests/data/array/hm27_idat");
    let g = fs::read(src.join(format!("4207113116_{pos}_Grn.idat"))).unwrap();
    let g = if truncate { &g[..g.len() / 3] } else { &g[..] };
    fs::write(dir.join(format!("{name}_Grn.idat")), g).unwrap();
    fs::copy(
        src.join(format!("4207113116_{pos}_Red.idat")),
        dir.join(format!("{name}_Red.idat")),
    )
    .unwrap();
    dir.join(name)
}

#[test]
fn idat_samples_are_grouped_into_batches_by_barcode_or_idat_batch() {
    let dir = tempdir();
    let d = dir.path();
    let idat = repo("tests/data/array/hm27_idat");
    let other = hm27_copy(d, "A", "5555555555_R01C01", false);
    let plate = hm27_copy(d, "B", "6666666666_R02C01", false);
    let sheet = d.join("sheet.csv");
    fs::write(
        &sheet,
        format!(
            "sample_id,sample_type,age_years,idat,idat_batch\n\
             OV-B,other,60,{0}/4207113116_B,\n\
             OV-A,whole_blood,50,{0}/4207113116_A,\n\
             COPY-A,whole_blood,50,5555555555_R01C01,\n\
             COPY-B,other,60,{1},plate-7\n",
            idat.display(),
            plate.display()
        ),
    )
    .unwrap();
    // The plan: one line per IDAT sample, by batch then sheet order, absolute IDAT paths.
    let plan = d.join("plan.tsv");
    let run = agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--check",
        "--plan",
        plan.to_str().unwrap(),
    ]);
    run.assert_ok();
    assert_eq!(
        text(&plan),
        format!(
            "batch\tsample_id\tidat\n\
             4207113116\tOV-B\t{0}/4207113116_B\n\
             4207113116\tOV-A\t{0}/4207113116_A\n\
             5555555555\tCOPY-A\t{1}\n\
             plate-7\tCOPY-B\t{2}\n",
            idat.display(),
            other.display(),
            plate.display()
        )
    );
    let out = d.join("out");
    agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--outdir",
        out.to_str().unwrap(),
        "--clocks",
        "horvath2013",
    ])
    .assert_ok();
    let mut written: Vec<String> = fs::read_dir(out.join("idat"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut want = Vec::new();
    for b in ["4207113116", "5555555555", "plate-7"] {
        for s in [
            "betas.tsv.gz",
            "detection.tsv.gz",
            "idat_qc.parquet",
            "idat_qc.tsv",
        ] {
            want.push(format!("{b}.{s}"));
        }
    }
    assert_eq!(written, want);
    let qc = crate::common::Table::read(&out.join("idat/4207113116.idat_qc.tsv"));
    assert_eq!(qc.distinct("sample_id"), ["OV-A", "OV-B"]);
    let qc = crate::common::Table::read(&out.join("idat/plate-7.idat_qc.tsv"));
    assert_eq!(qc.distinct("sample_id"), ["COPY-B"]);
    // Every IDAT sample has its QC rows and a clock in the cohort table, read from its batch.
    let long = crate::common::Table::read(&out.join("cohort.long.tsv"));
    for (s, batch) in [
        ("OV-A", "4207113116"),
        ("OV-B", "4207113116"),
        ("COPY-A", "5555555555"),
        ("COPY-B", "plate-7"),
    ] {
        let rows: Vec<_> = long.rows.iter().filter(|r| r["sample_id"] == s).collect();
        assert!(
            rows.iter().any(|r| r["assay"] == "methylation_array"),
            "{s}"
        );
        let clock = rows
            .iter()
            .find(|r| r["measure"] == "horvath2013")
            .unwrap_or_else(|| panic!("{s}: no clock"));
        assert_eq!(clock["input"], format!("{batch}.betas.tsv.gz"));
        assert_ne!(clock["qc_status"], "fail", "{s}: {}", clock["qc_note"]);
        assert!(clock["value"].parse::<f64>().is_ok(), "{s}");
    }
    // A second run skips the idat jobs as unchanged.
    let again = agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--outdir",
        out.to_str().unwrap(),
        "--clocks",
        "horvath2013",
    ]);
    again.assert_ok();
    assert!(
        again
            .stderr
            .contains("idat:plate-7: unchanged since the last run, skipped"),
        "{}",
        again.stderr
    );
    // An idat_batch that is not a safe file name is a sheet error.
    fs::write(
        &sheet,
        format!(
            "sample_id,idat,idat_batch\nOV-A,{}/4207113116_A,../up\n",
            idat.display()
        ),
    )
    .unwrap();
    let run = agemark(["run", "--samplesheet", sheet.to_str().unwrap(), "--check"]);
    assert_eq!(run.code, Some(4));
    assert!(
        run.stderr
            .contains("row 2: column idat_batch: '../up' is not a safe file name"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_corrupt_idat_fails_its_sample_in_the_batch_and_the_others_finish() {
    let dir = tempdir();
    let d = dir.path();
    let idat = repo("tests/data/array/hm27_idat");
    hm27_copy(d, "B", "4207113116_D", true);
    let sheet = d.join("sheet.csv");
    fs::write(
        &sheet,
        format!(
            "sample_id,sample_type,age_years,idat\n\
             OV-A,whole_blood,50,{}/4207113116_A\n\
             BAD,whole_blood,50,4207113116_D\n",
            idat.display()
        ),
    )
    .unwrap();
    let out = d.join("out");
    let run = agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--outdir",
        out.to_str().unwrap(),
        "--clocks",
        "horvath2013",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // The batch's own failures.tsv, and run's: the idat stage and every methylation stage.
    let batch_fails = text(&out.join("idat/4207113116.failures.tsv"));
    assert!(
        batch_fails.lines().nth(1).unwrap().starts_with("BAD\t"),
        "{batch_fails}"
    );
    let fails = text(&out.join("failures.tsv"));
    let lines: Vec<&str> = fails.lines().skip(1).collect();
    let stages: Vec<&str> = lines
        .iter()
        .map(|l| l.split('\t').nth(1).unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "celltypes",
            "clocks",
            "exposure",
            "idat",
            "identity",
            "nr3c1"
        ],
        "{fails}"
    );
    for l in &lines {
        assert!(l.starts_with("BAD\t"), "{l}");
        assert!(l.contains("4207113116_D_Grn.idat"), "{l}");
    }
    assert!(
        lines[1].contains("IDAT preprocessing failed (idat stage)"),
        "{fails}"
    );
    let long = crate::common::Table::read(&out.join("cohort.long.tsv"));
    let bad_clock = long
        .rows
        .iter()
        .find(|r| r["sample_id"] == "BAD" && r["assay"] == "clocks")
        .unwrap();
    assert_eq!(bad_clock["measure"], "stage_failed");
    assert_eq!(bad_clock["qc_status"], "fail");
    // The good sample of the same batch has its QC rows and its clock.
    assert!(long
        .rows
        .iter()
        .any(|r| r["sample_id"] == "OV-A" && r["assay"] == "methylation_array"));
    let good = long
        .rows
        .iter()
        .find(|r| r["sample_id"] == "OV-A" && r["measure"] == "horvath2013")
        .unwrap();
    assert!(good["value"].parse::<f64>().is_ok());
}

#[test]
fn methylation_stages_without_batch_betas_fail_with_a_clear_reason() {
    let dir = tempdir();
    let d = dir.path();
    let idat = repo("tests/data/array/hm27_idat");
    let sheet = d.join("sheet.csv");
    fs::write(
        &sheet,
        format!(
            "sample_id,age_years,idat\nOV-A,50,{0}/4207113116_A\nOV-B,60,{0}/4207113116_B\n",
            idat.display()
        ),
    )
    .unwrap();
    let out = d.join("out");
    let args = |stages: &str| {
        vec![
            "run".to_string(),
            "--samplesheet".into(),
            sheet.display().to_string(),
            "--outdir".into(),
            out.display().to_string(),
            "--clocks".into(),
            "horvath2013".into(),
            "--stages".into(),
            stages.into(),
        ]
    };
    let run = agemark(args("clocks"));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let fails = text(&out.join("failures.tsv"));
    let want = format!(
        "{}: no such file; run the idat stage first",
        out.join("idat/4207113116.betas.tsv.gz").display()
    );
    assert_eq!(
        fails,
        format!("sample_id\tstage\tcategory\treason\nOV-A\tclocks\tinput.missing\t{want}\nOV-B\tclocks\tinput.missing\t{want}\n")
    );
    // A workflow's shape: the idat stage in one job, the methylation stages in another.
    agemark(args("idat")).assert_ok();
    assert!(out.join("idat/4207113116.betas.tsv.gz").is_file());
    agemark(args("clocks")).assert_ok();
    let long = crate::common::Table::read(&out.join("cohort.long.tsv"));
    for s in ["OV-A", "OV-B"] {
        assert!(
            long.rows
                .iter()
                .any(|r| r["sample_id"] == s && r["measure"] == "horvath2013"),
            "{s}"
        );
    }
    // --idat-dir: the batch files elsewhere (as a workflow stages them); same clock table.
    let staged = d.join("staged");
    fs::create_dir(&staged).unwrap();
    for e in fs::read_dir(out.join("idat")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), staged.join(e.file_name())).unwrap();
    }
    let out2 = d.join("out2");
    agemark([
        "run",
        "--samplesheet",
        sheet.to_str().unwrap(),
        "--outdir",
        out2.to_str().unwrap(),
        "--clocks",
        "horvath2013",
        "--stages",
        "clocks",
        "--idat-dir",
        staged.to_str().unwrap(),
    ])
    .assert_ok();
    assert_eq!(
        fs::read(out2.join("methylation/cohort.clocks.tsv")).unwrap(),
        fs::read(out.join("methylation/cohort.clocks.tsv")).unwrap()
    );
    assert!(!out2.join("idat").exists());
}

/// The tidy rows of `table` (header dropped) of the samples in `names` (input name → sample
/// id), with the sample column set to the id.
fn rows_as(table: &Path, names: &[(&str, &str)]) -> Vec<String> {
    let mut out: Vec<String> = text(table)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (sample, rest) = l.split_once('\t').unwrap();
            names
                .iter()
                .find(|(from, _)| *from == sample)
                .map(|(_, to)| format!("{to}\t{rest}"))
        })
        .collect();
    out.sort();
    out
}

/// Asserts two sorted row lists are equal, naming the rows only one side has.
fn assert_same_rows(got: &[String], want: &[String], what: &str) {
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|l| !b.contains(l)).cloned().collect()
    };
    assert!(
        got == want,
        "{what}: only in run: {:#?}\nonly in the standalone command: {:#?}",
        only(got, want),
        only(want, got)
    );
}

/// A mixed cohort (mothers, cord bloods, placentas and a saliva sample in a betas matrix, an
/// IDAT batch, a sequencing-calls file; all clocks, so Zhang's streamed model overlaps the
/// cell-type panels): `run` reads each methylation input ONCE for clocks, celltypes (three
/// panels) and nr3c1, and every stage table equals the standalone commands on that input.
/// A change of `--clocks` re-runs clocks only; a change of a sample type re-runs celltypes only.
#[test]
fn a_mixed_cohort_reads_each_methylation_input_once_for_all_stages() {
    let dir = tempdir();
    let d = dir.path();
    let idat = repo("tests/data/array/hm27_idat");
    let calls_name = "MCF7_Cunha_WGBS_hg19_chr11p15.biscuit.bed.gz";
    let calls = repo("tests/data/bisulfite").join(calls_name);
    let betas = repo(BETAS);
    let sheet_text = |saliva: &str| {
        format!(
            "sample_id,participant_id,family_id,role,sample_type,timepoint,age_years,gestational_age_weeks,betas_column,idat,methylation_calls\n\
             M1,PM1,F1,mother,maternal_blood,delivery,31,,7786915135_R04C02,,\n\
             M2,PM2,F2,mother,maternal_blood,delivery,35,,7786915023_R02C02,,\n\
             C1,PC1,F1,child,cord_blood,birth,0,39,784,,\n\
             C2,PC2,F2,child,cord_blood,birth,0,38.5,1052,,\n\
             P1,PP1,F1,child,placenta,birth,,39,GSM1944951,,\n\
             P2,PP2,F2,child,placenta,birth,,38.5,GSM1944952,,\n\
             S1,PS1,F3,other,{saliva},,12,,1048,,\n\
             OV-A,POA,F4,other,whole_blood,,50,,,{0}/4207113116_A,\n\
             OV-B,POB,F4,other,cord_blood,,,40,,{0}/4207113116_B,\n\
             WGBS,PW,F5,other,placenta,,,,,,{1}\n",
            idat.display(),
            calls.display()
        )
    };
    let sheet = d.join("sheet.csv");
    fs::write(&sheet, sheet_text("saliva")).unwrap();
    let out = d.join("out");
    let run = |extra: &[&str]| {
        let mut a: Vec<String> = [
            "run",
            "--samplesheet",
            sheet.to_str().unwrap(),
            "--outdir",
            out.to_str().unwrap(),
            "--betas",
            betas.to_str().unwrap(),
            "--stages",
            "idat,clocks,celltypes,nr3c1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        let r = agemark(&a);
        r.assert_ok();
        r.stderr
    };
    let reads = |log: &str, file: &str| {
        log.lines()
            .filter(|l| l.contains(&format!(" read {file}: ")))
            .count()
    };
    let log = run(&[]);
    for f in ["demo_betas.csv.gz", "4207113116.betas.tsv.gz", calls_name] {
        assert_eq!(reads(&log, f), 1, "{f} read once for all stages:\n{log}");
    }
    assert_eq!(
        text(&out.join("failures.tsv")),
        "sample_id\tstage\tcategory\treason\n"
    );

    // Every stage table equals the standalone commands on each input.
    let matrix: [(&str, &str); 7] = [
        ("7786915135_R04C02", "M1"),
        ("7786915023_R02C02", "M2"),
        ("784", "C1"),
        ("1052", "C2"),
        ("GSM1944951", "P1"),
        ("GSM1944952", "P2"),
        ("1048", "S1"),
    ];
    let batch_betas = out.join("idat/4207113116.betas.tsv.gz");
    let batch: [(&str, &str); 2] = [("OV-A", "OV-A"), ("OV-B", "OV-B")];
    let wgbs_name = "MCF7_Cunha_WGBS_hg19_chr11p15";
    let wgbs: [(&str, &str); 1] = [(wgbs_name, "WGBS")];
    // Ages by each input's own sample names, for the clocks' acceleration (WGBS has none).
    let ages = [d.join("ages0.csv"), d.join("ages1.csv")];
    // The matrix's other columns are in the ages sheet without ages.
    let named = "7786915135_R04C02,31,\n7786915023_R02C02,35,\n784,0,39\n1052,0,38.5\n\
                 GSM1944951,,39\nGSM1944952,,38.5\n1048,12,\n";
    let mut ages0 = format!("sample_id,age_years,gestational_age_weeks\n{named}");
    let header = {
        use std::io::BufRead;
        let gz = flate2::read::GzDecoder::new(fs::File::open(&betas).unwrap());
        let mut line = String::new();
        std::io::BufReader::new(gz).read_line(&mut line).unwrap();
        line
    };
    for col in header.trim_end().split(',').skip(1) {
        if !named.contains(&format!("{col},")) {
            ages0.push_str(&format!("{col},,\n"));
        }
    }
    fs::write(&ages[0], ages0).unwrap();
    fs::write(
        &ages[1],
        "sample_id,age_years,gestational_age_weeks\nOV-A,50,\nOV-B,,40\n",
    )
    .unwrap();
    let standalone = |cmd: &str, input: &Path, extra: &[&str], name: &str| -> PathBuf {
        let prefix = d.join(name);
        let mut a = vec![
            cmd.to_string(),
            input.display().to_string(),
            "-o".into(),
            prefix.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        agemark(&a).assert_ok();
        d.join(format!("{name}.{cmd}.tsv"))
    };
    let inputs: [(&Path, &[(&str, &str)]); 3] =
        [(&betas, &matrix), (&batch_betas, &batch), (&calls, &wgbs)];
    let mut clocks_want = Vec::new();
    let mut nr3c1_want = Vec::new();
    let mut cells_want = Vec::new();
    for (k, (input, names)) in inputs.iter().enumerate() {
        let extra: Vec<&str> = match ages.get(k) {
            Some(a) => vec!["--samplesheet", a.to_str().unwrap()],
            None => Vec::new(),
        };
        let t = standalone("clocks", input, &extra, &format!("c{k}"));
        clocks_want.extend(rows_as(&t, names));
        let t = standalone("nr3c1", input, &[], &format!("n{k}"));
        nr3c1_want.extend(rows_as(&t, names));
    }
    // Cell types: each sample against the panel of its tissue that its input covers best
    // (the demo matrix's adult bloods have blood_reinius450k in full, with its synthetic
    // cells; the HM27 IDATs cover blood_epidish_dhs and cordblood_gervin best).
    for (input, panel, names, k) in [
        (&betas, "blood_reinius450k", &matrix[0..2], 0),
        (&betas, "cordblood_idol", &matrix[2..4], 1),
        (&betas, "placenta_third_trimester", &matrix[4..6], 2),
        (&batch_betas, "blood_epidish_dhs", &batch[0..1], 3),
        (&batch_betas, "cordblood_gervin", &batch[1..2], 4),
        (&calls, "placenta_third_trimester", &wgbs[..], 5),
    ] {
        let t = standalone("celltypes", input, &["--panel", panel], &format!("p{k}"));
        cells_want.extend(rows_as(&t, names));
    }
    let all: Vec<(&str, &str)> = matrix
        .iter()
        .chain(&batch)
        .map(|(_, id)| (*id, *id))
        .chain([("WGBS", "WGBS")])
        .collect();
    let got = |stage: &str| rows_as(&out.join(format!("methylation/cohort.{stage}.tsv")), &all);
    clocks_want.sort();
    nr3c1_want.sort();
    // The clock values (acceleration rows follow run's sheet, whose ages cover every sample;
    // `agemark clocks --samplesheet` words a sample without an age differently). The `_ieaa`
    // rows are left out too: run fits them per panel group with the fractions of its celltypes
    // stage, which `agemark clocks` without `--celltypes` does not make (their equality with
    // `agemark clocks --celltypes` is tested in run_ieaa_per_panel_group_equals_agemark_clocks).
    let no_accel = |rows: Vec<String>| -> Vec<String> {
        rows.into_iter()
            .filter(|l| {
                let m = l.split('\t').nth(2).unwrap();
                !m.ends_with("_diff") && !m.ends_with("_residual") && !m.ends_with("_ieaa")
            })
            .collect()
    };
    let clocks_got = no_accel(got("clocks"));
    assert!(clocks_got.iter().any(|l| l.contains("\tzhang2019_blup\t")));
    // By default each sample gets the clocks of its training domain only (sample type and
    // age): the gestational-age clocks for cord blood, the placental clocks for placenta, the
    // adult blood clocks for mothers; those rows equal the standalone command's.
    let key = |l: &String| {
        let f: Vec<&str> = l.split('\t').collect();
        (f[0].to_string(), f[2].to_string())
    };
    let has = |s: &str, m: &str| {
        clocks_got
            .iter()
            .any(|l| key(l) == (s.to_string(), m.to_string()))
    };
    for (s, m, want) in [
        ("C1", "knight2016_ga", true),
        ("M1", "knight2016_ga", false),
        ("P1", "knight2016_ga", false),
        ("P1", "lee2019_rpc", true),
        ("C1", "lee2019_rpc", false),
        ("M1", "hannum2013", true),
        ("C1", "hannum2013", false),
        ("S1", "pedbe2019", false),
        ("S1", "zhang2019_en", true),
    ] {
        assert_eq!(has(s, m), want, "{s} {m}");
    }
    let in_domain: std::collections::HashSet<(String, String)> =
        clocks_got.iter().map(key).collect();
    let clocks_want: Vec<String> = no_accel(clocks_want)
        .into_iter()
        .filter(|l| in_domain.contains(&key(l)))
        .collect();
    assert_same_rows(&clocks_got, &clocks_want, "clocks");
    assert_same_rows(&got("nr3c1"), &nr3c1_want, "nr3c1");
    // The saliva sample has no panel: one warn row, no fractions.
    let cells = got("celltypes");
    let (saliva, cells): (Vec<String>, Vec<String>) =
        cells.into_iter().partition(|l| l.starts_with("S1\t"));
    assert_eq!(saliva.len(), 1, "{saliva:?}");
    assert!(saliva[0].contains("no bundled cell-type panel for sample_type 'saliva'"));
    cells_want.sort();
    assert_same_rows(&cells, &cells_want, "celltypes");

    // Resume: a new --clocks re-runs clocks only (each input read once, for clocks alone).
    let clocks_before = fs::read(out.join("methylation/cohort.clocks.tsv")).unwrap();
    let cells_before = fs::read(out.join("methylation/cohort.celltypes.tsv")).unwrap();
    let log = run(&["--clocks", "horvath2013"]);
    for skipped in ["celltypes", "nr3c1", "idat:4207113116"] {
        assert!(
            log.contains(&format!("{skipped}: unchanged since the last run, skipped")),
            "{skipped}: {log}"
        );
    }
    assert!(log.contains("methylation:clocks: done"), "{log}");
    assert_eq!(reads(&log, "demo_betas.csv.gz"), 1, "{log}");
    assert_ne!(
        fs::read(out.join("methylation/cohort.clocks.tsv")).unwrap(),
        clocks_before
    );
    // Unchanged again: nothing runs, nothing is read.
    let log = run(&["--clocks", "horvath2013"]);
    assert!(!log.contains(" done in "), "{log}");
    assert_eq!(reads(&log, "demo_betas.csv.gz"), 0, "{log}");
    // A sample type decides the cell-type panel: celltypes re-runs, and so do the clocks (their
    // `_ieaa` rows use the fractions of the sample's panel); nr3c1 does not.
    fs::write(&sheet, sheet_text("whole_blood")).unwrap();
    let log = run(&["--clocks", "horvath2013"]);
    assert!(log.contains("methylation:celltypes: done"), "{log}");
    assert!(log.contains("methylation:clocks: done"), "{log}");
    assert!(
        log.contains("methylation:nr3c1: unchanged since the last run, skipped"),
        "{log}"
    );
    let cells_after = fs::read(out.join("methylation/cohort.celltypes.tsv")).unwrap();
    assert_ne!(cells_after, cells_before);
    assert!(!text(&out.join("methylation/cohort.celltypes.tsv"))
        .contains("no bundled cell-type panel for sample_type 'saliva'"));
}

/// IEAA in `run`: 24 real placentas (planet, GSE75248 subset; tests/data/array/PROVENANCE.md),
/// 20 of them typed `placenta`, 3 `cord_blood` and 1 `saliva` in the sheet. The placenta
/// group's `_ieaa` rows equal `agemark clocks --samplesheet <that group's ages> --celltypes
/// <agemark celltypes --panel placenta_third_trimester>` on the same matrix; the 3-sample cord
/// blood group is below the minimum and fails with the reason; the saliva sample has no panel.
/// `--stages clocks` alone makes no `_ieaa` rows; a changed sample type re-runs clocks too.
#[test]
fn run_ieaa_per_panel_group_equals_agemark_clocks() {
    let dir = tempdir();
    let d = dir.path();
    let betas = repo("tests/data/array/planet_placenta_24x13918_betas.csv.gz");
    let pheno = text(&repo("tests/data/array/planet_placenta_24_pheno.csv"));
    let ga: Vec<(String, String)> = pheno
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_string(), c[3].to_string())
        })
        .collect();
    assert_eq!(ga.len(), 24);
    let type_of = |i: usize, cord: usize| match i {
        _ if i < cord => "cord_blood",
        3 => "saliva",
        _ => "placenta",
    };
    let write_sheet = |cord: usize| {
        let mut t = String::from(
            "sample_id,participant_id,family_id,role,sample_type,timepoint,age_years,gestational_age_weeks,betas_column\n",
        );
        for (i, (s, w)) in ga.iter().enumerate() {
            t.push_str(&format!(
                "S{i},P{i},F{i},child,{},birth,,{w},{s}\n",
                type_of(i, cord)
            ));
        }
        fs::write(d.join("sheet.csv"), t).unwrap();
    };
    write_sheet(3);
    let out = d.join("out");
    let clocks = "lee2019_rpc,lee2019_cpc";
    let run = |stages: &str, out: &Path| {
        let r = agemark([
            "run",
            "--samplesheet",
            d.join("sheet.csv").to_str().unwrap(),
            "--outdir",
            out.to_str().unwrap(),
            "--betas",
            betas.to_str().unwrap(),
            "--clocks",
            clocks,
            "--stages",
            stages,
        ]);
        r.assert_ok();
        r.stderr
    };
    run("clocks,celltypes", &out);
    let table = out.join("methylation/cohort.clocks.tsv");
    let ieaa_rows = |t: &Path| -> Vec<String> {
        text(t)
            .lines()
            .filter(|l| l.split('\t').nth(2).unwrap().ends_with("_ieaa"))
            .map(String::from)
            .collect()
    };
    let got = ieaa_rows(&table);
    assert_eq!(got.len(), 24 * 2, "{got:#?}");

    // The standalone commands on the placenta group: ages for its 20 samples only.
    let mut sheet = String::from("sample_id,gestational_age_weeks\n");
    let mut names: Vec<(String, String)> = Vec::new();
    for (i, (s, w)) in ga.iter().enumerate() {
        let group = type_of(i, 3) == "placenta";
        sheet.push_str(&format!("{s},{}\n", if group { w.as_str() } else { "" }));
        if group {
            names.push((s.clone(), format!("S{i}")));
        }
    }
    fs::write(d.join("ages.csv"), sheet).unwrap();
    let p = d.join("p");
    agemark([
        "celltypes",
        betas.to_str().unwrap(),
        "--panel",
        "placenta_third_trimester",
        "-o",
        p.to_str().unwrap(),
    ])
    .assert_ok();
    let c = d.join("c");
    agemark([
        "clocks",
        betas.to_str().unwrap(),
        "--clocks",
        clocks,
        "--samplesheet",
        d.join("ages.csv").to_str().unwrap(),
        "--celltypes",
        d.join("p.celltypes.tsv").to_str().unwrap(),
        "-o",
        c.to_str().unwrap(),
    ])
    .assert_ok();
    let names: Vec<(&str, &str)> = names
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let only_ieaa = |rows: Vec<String>| -> Vec<String> {
        rows.into_iter()
            .filter(|l| l.split('\t').nth(2).unwrap().ends_with("_ieaa"))
            .collect()
    };
    let want = only_ieaa(rows_as(&d.join("c.clocks.tsv"), &names));
    let ids: Vec<(&str, &str)> = names.iter().map(|(_, id)| (*id, *id)).collect();
    let got_group = only_ieaa(rows_as(&table, &ids));
    assert_eq!(want.len(), 40);
    assert!(
        want.iter().all(
            |l| ["pass", "warn"].contains(&l.split('\t').nth(7).unwrap()) && l.contains(";n=20;")
        ),
        "the standalone fit succeeds on the 20 placentas: {want:#?}"
    );
    assert_same_rows(&got_group, &want, "placenta group _ieaa");

    // The 3 cord bloods: below the minimum, failed with the group, its size and the minimum.
    for i in 0..3 {
        for clock in ["lee2019_rpc", "lee2019_cpc"] {
            let row = got
                .iter()
                .find(|l| {
                    l.starts_with(&format!("S{i}\t")) && l.contains(&format!("\t{clock}_ieaa\t"))
                })
                .unwrap();
            assert!(row.contains("\tfail\t"), "{row}");
            // (The placenta matrix lacks most cord-blood panel CpGs: no fractions either. Of
            // the three cord-blood panels it covers cordblood_gervin best, so the run chose it.)
            assert!(
                row.contains(
                    "IEAA group of panel cordblood_gervin: 3 samples; the minimum is 15 (10 + 5 cell-type covariates)"
                ) && row.contains("a cell fraction is missing or failed in celltypes (cordblood_gervin)"),
                "{row}"
            );
        }
    }
    let saliva: Vec<&String> = got.iter().filter(|l| l.starts_with("S3\t")).collect();
    assert_eq!(saliva.len(), 2);
    assert!(saliva.iter().all(|l| l.contains("\tfail\t")
        && l.contains("no bundled cell-type panel for sample_type 'saliva'")));

    // Clocks alone: no _ieaa rows, and the other rows are those of the run with celltypes.
    let alone = d.join("alone");
    run("clocks", &alone);
    let alone_text = text(&alone.join("methylation/cohort.clocks.tsv"));
    assert!(!alone_text.contains("_ieaa\t"));
    let without: Vec<String> = text(&table)
        .lines()
        .filter(|l| !l.split('\t').nth(2).unwrap_or("").ends_with("_ieaa"))
        .map(String::from)
        .collect();
    assert_eq!(alone_text.lines().collect::<Vec<_>>(), without);

    // Clocks re-run while celltypes is skipped (its output removed): the fractions come from
    // the same read for the clocks alone, and the table is byte-identical.
    let before = fs::read(&table).unwrap();
    fs::remove_file(&table).unwrap();
    let log = run("clocks,celltypes", &out);
    assert!(log.contains("methylation:clocks: done"), "{log}");
    assert!(
        log.contains("methylation:celltypes: unchanged since the last run, skipped"),
        "{log}"
    );
    assert_eq!(fs::read(&table).unwrap(), before);

    // Resume: unchanged → clocks skipped; one more cord blood → clocks re-run with a 4-sample
    // group.
    let log = run("clocks,celltypes", &out);
    assert!(
        log.contains("methylation:clocks: unchanged since the last run, skipped"),
        "{log}"
    );
    write_sheet(4);
    let log = run("clocks,celltypes", &out);
    assert!(log.contains("methylation:clocks: done"), "{log}");
    assert!(log.contains("methylation:celltypes: done"), "{log}");
    // (The run picks, among the cord-blood panels, the one these samples cover best.)
    let t = text(&table);
    assert!(t.contains("IEAA group of panel cordblood_") && t.contains(": 4 samples;"));
}

/// Issue 13: a linkage field the sheet leaves empty is null in `cohort.long.parquet` (not
/// ""), so joins and `IS NULL` work; filled fields are strings.
#[test]
fn empty_linkage_fields_are_nulls_in_parquet() {
    use parquet::{
        file::reader::{FileReader, SerializedFileReader},
        record::Field,
    };
    let dir = tempdir();
    let d = dir.path();
    let sheet = cohort(d, ["m.bam", "c.bam"], IDS);
    let out = d.join("out");
    agemark(run_args(&sheet, &out, &["--stages", "reads"])).assert_ok();
    let reader =
        SerializedFileReader::new(fs::File::open(out.join("cohort.long.parquet")).unwrap())
            .unwrap();
    let mut n = 0;
    for row in reader.get_row_iter(None).unwrap() {
        let row = row.unwrap();
        for (name, field) in row.get_column_iter() {
            match name.as_str() {
                // The sheet has no sex for anyone.
                "sex" => assert_eq!(field, &Field::Null, "{row:?}"),
                "sample_type" | "family_id" | "role" => {
                    assert!(
                        matches!(field, Field::Str(s) if !s.is_empty()),
                        "{name}: {row:?}"
                    )
                }
                _ => {}
            }
        }
        n += 1;
    }
    assert!(n > 10, "{n} rows");
}

/// The report's structure as a reader needs it: every chart has a legend and axis titles and
/// fits the page (≤ 1,150 px wide), the sections come in reading order, the cell-type sum is
/// not drawn as a cell type, and acceleration sits in its own section.
pub fn assert_report_shape(html: &str) {
    let mut n = 0;
    for chunk in html.split("<svg ").skip(1) {
        let svg = &chunk[..chunk.find("</svg>").expect("closed svg")];
        let name = svg
            .split("data-plot=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or("?");
        let width: f64 = svg
            .split("width=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .expect("svg width");
        assert!(width <= 1150.0, "{name}: {width} px wide");
        assert!(svg.contains("class=\"legend\""), "{name}: no legend");
        assert!(
            svg.contains("class=\"axis-title\""),
            "{name}: no axis title"
        );
        assert!(
            !svg.contains(">sum_of_fractions<"),
            "{name}: the sum drawn as a cell type"
        );
        if name.starts_with("clock:") {
            assert!(
                !name.ends_with("_diff")
                    && !name.ends_with("_residual")
                    && !name.ends_with("_ieaa"),
                "{name}"
            );
        }
        n += 1;
    }
    assert!(n >= 3, "{n} charts");
    let order = [
        "summary",
        "telomere",
        "mtdna",
        "clocks",
        "acceleration",
        "celltypes",
        "nr3c1",
        "qc",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|s| {
            html.find(&format!("<section id=\"{s}\">"))
                .unwrap_or_else(|| panic!("no section {s}"))
        })
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "sections out of order");
}
