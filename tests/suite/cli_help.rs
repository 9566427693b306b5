//! What a newcomer meets on the command line (issue 14): examples in every subcommand's
//! `--help`, shell completions and the manual page from clap's own generators.

use crate::common::agemark;

const SUBCOMMANDS: [&str; 15] = [
    "qpcr",
    "telomere",
    "mtdna",
    "reads",
    "demo",
    "clocks",
    "celltypes",
    "nr3c1",
    "reference",
    "idat",
    "run",
    "merge",
    "report",
    "completions",
    "man",
];

#[test]
fn every_subcommand_help_has_examples_that_name_the_command() {
    for c in SUBCOMMANDS {
        let r = agemark([c, "--help"]);
        r.assert_ok();
        let text = r.stdout_text();
        let ex = text
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("agemark {c} --help has no examples:\n{text}"));
        assert!(ex.contains(&format!("agemark {c}")), "{c}: {ex}");
    }
    // `run --help` says --outdir is required (unless --check).
    let run = agemark(["run", "--help"]).stdout_text();
    assert!(
        run.contains("Output directory (required, unless --check)"),
        "{run}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_command_definition() {
    for (shell, marker) in [
        ("bash", "_agemark()"),
        ("zsh", "#compdef agemark"),
        ("fish", "complete -c agemark"),
    ] {
        let r = agemark(["completions", shell]);
        r.assert_ok();
        let text = r.stdout_text();
        assert!(
            text.contains(marker),
            "{shell}: {}",
            &text[..text.len().min(200)]
        );
        // Every subcommand is completed.
        for c in ["telomere", "run", "report", "man"] {
            assert!(text.contains(c), "{shell} completion lacks {c}");
        }
    }
    let bad = agemark(["completions", "cmd.exe"]);
    assert_eq!(bad.code, Some(2));
    let man = agemark(["man"]);
    man.assert_ok();
    let roff = man.stdout_text();
    assert!(
        roff.contains(".TH agemark 1"),
        "{}",
        &roff[..roff.len().min(200)]
    );
    assert!(roff.contains(".SH SUBCOMMANDS") || roff.contains("SUBCOMMANDS"));
    assert!(roff.contains("agemark\\-run") || roff.contains("run"));
}

#[test]
fn a_read_pass_logs_plain_progress_lines_when_stderr_is_not_a_terminal() {
    let dir = crate::common::tempdir();
    let out = dir.path().join("p");
    let bam = crate::common::repo("reference/demo/HG03478_MT.bam");
    let r = crate::common::agemark_env(
        [
            "telomere".to_string(),
            bam.display().to_string(),
            "-o".to_string(),
            out.display().to_string(),
        ],
        &[("AGEMARK_PROGRESS_EVERY", "0")],
    );
    r.assert_ok();
    assert!(
        r.stderr.contains("HG03478_MT.bam: ")
            && r.stderr.contains(" read (")
            && r.stderr.contains("ETA"),
        "{}",
        r.stderr
    );
    // No bar escape codes in a log file.
    assert!(!r.stderr.contains("\u{1b}[2K"), "{}", r.stderr);
}
