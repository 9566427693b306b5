//! Helpers shared by the integration tests: the built binary, the repository's data files,
//! running `agemark` and capturing what it printed, reading tidy TSV tables, and writing small
//! alignment files from SAM text inside a test.
//!
//! Each test binary uses only some of these, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    ffi::OsStr,
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use noodles_bam as bam;
use noodles_sam as sam;

/// The `agemark` binary Cargo built for this test run.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_agemark")
}

/// A path inside the repository (`tests/data/seq/...`, `reference/demo/...`).
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Real demo reads (see `reference/demo/PROVENANCE.md`).
pub fn demo(name: &str) -> PathBuf {
    repo(&format!("reference/demo/{name}"))
}

/// Real test reads (see `tests/data/seq/PROVENANCE.md`).
pub fn seq(name: &str) -> PathBuf {
    repo(&format!("tests/data/seq/{name}"))
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("agemark-test-")
        .tempdir()
        .expect("create a temporary directory")
}

/// What one `agemark` run did.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output, raw.
    pub stdout: Vec<u8>,
    /// Standard error, as text.
    pub stderr: String,
    /// The command line, for messages.
    pub cmdline: String,
}

impl Run {
    /// Standard output as text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    /// Panics with everything the run printed unless it exited 0.
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "`{}` failed\n--- stderr ---\n{}\n--- stdout ---\n{}",
            self.cmdline,
            self.stderr,
            String::from_utf8_lossy(&self.stdout)
        );
        self
    }

    /// The lines of standard error.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

fn command<I, S>(args: I) -> (Command, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(bin());
    let mut line = String::from("agemark");
    for a in args {
        line.push(' ');
        line.push_str(&a.as_ref().to_string_lossy());
        cmd.arg(a);
    }
    (cmd, line)
}

fn finish(out: Output, cmdline: String) -> Run {
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        cmdline,
    }
}

/// Runs `agemark ARGS` with no standard input.
pub fn agemark<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let (mut cmd, line) = command(args);
    let out = cmd.stdin(Stdio::null()).output().expect("spawn agemark");
    finish(out, line)
}

/// Runs `agemark ARGS` with no standard input and extra environment variables.
pub fn agemark_env<I, S>(args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let (mut cmd, line) = command(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.stdin(Stdio::null()).output().expect("spawn agemark");
    finish(out, line)
}

/// Runs `agemark ARGS` with `input` on standard input.
pub fn agemark_stdin<I, S>(args: I, input: &[u8]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let (mut cmd, line) = command(args);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn agemark");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let data = input.to_vec();
    // Write from another thread so a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || {
        // agemark may stop reading early on bad input: a broken pipe here is its business.
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for agemark");
    writer.join().expect("stdin writer thread");
    finish(out, format!("{line} < (stdin)"))
}

/// `agemark telomere ARGS -o - -q`: runs, asserts success, and parses the TSV it printed.
pub fn telomere_stdout<I, S>(args: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut all: Vec<std::ffi::OsString> = vec!["telomere".into()];
    all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
    all.extend(["-o".into(), "-".into(), "-q".into()]);
    let run = agemark(&all);
    run.assert_ok();
    Table::parse(&run.stdout_text())
}

/// A tidy table read back from TSV text.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows as column → cell.
    pub rows: Vec<BTreeMap<String, String>>,
}

impl Table {
    /// Parses TSV text with a header line; every line must have as many cells as the header.
    pub fn parse(text: &str) -> Table {
        let mut lines = text.lines();
        let header = lines.next().expect("a TSV table has a header line");
        let columns: Vec<String> = header.split('\t').map(str::to_string).collect();
        let rows = lines
            .enumerate()
            .map(|(i, line)| {
                let cells: Vec<&str> = line.split('\t').collect();
                assert_eq!(
                    cells.len(),
                    columns.len(),
                    "line {} has {} cells, header has {}: {line:?}",
                    i + 2,
                    cells.len(),
                    columns.len()
                );
                columns
                    .iter()
                    .cloned()
                    .zip(cells.into_iter().map(str::to_string))
                    .collect()
            })
            .collect();
        Table { columns, rows }
    }

    /// Reads and parses a TSV file.
    pub fn read(path: &Path) -> Table {
        let text =
            fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        Table::parse(&text)
    }

    /// The one row for `measure` in `read_group` (`""` = sample level); panics unless exactly one.
    pub fn row(&self, measure: &str, read_group: &str) -> &BTreeMap<String, String> {
        let found: Vec<_> = self
            .rows
            .iter()
            .filter(|r| r["measure"] == measure && r["read_group"] == read_group)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one row for measure {measure:?}, read group {read_group:?}; got {}",
            found.len()
        );
        found[0]
    }

    /// The value cell of a sample-level measure, as written.
    pub fn cell(&self, measure: &str) -> &str {
        &self.row(measure, "")["value"]
    }

    /// The value of a sample-level measure as a number (panics on an empty cell).
    pub fn value(&self, measure: &str) -> f64 {
        self.value_in(measure, "")
    }

    /// The value of a measure in a read group as a number (panics on an empty cell).
    pub fn value_in(&self, measure: &str, read_group: &str) -> f64 {
        let cell = &self.row(measure, read_group)["value"];
        cell.parse().unwrap_or_else(|_| {
            panic!(
                "measure {measure:?} (read group {read_group:?}) has value {cell:?}, not a number"
            )
        })
    }

    /// Sample-level rows as measure → (value, n_used): the numbers, without provenance and notes.
    pub fn sample_numbers(&self) -> BTreeMap<String, (String, String)> {
        let mut out = BTreeMap::new();
        for r in self.rows.iter().filter(|r| r["read_group"].is_empty()) {
            let prev = out.insert(
                r["measure"].clone(),
                (r["value"].clone(), r["n_used"].clone()),
            );
            assert!(
                prev.is_none(),
                "measure {} appears twice at sample level",
                r["measure"]
            );
        }
        out
    }

    /// Distinct values of one column.
    pub fn distinct(&self, column: &str) -> Vec<String> {
        let mut v: Vec<String> = self.rows.iter().map(|r| r[column].clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The table with one column blanked (e.g. `input`, which names the file).
    pub fn without(&self, column: &str) -> Table {
        let mut t = self.clone();
        for r in &mut t.rows {
            r.insert(column.to_string(), String::new());
        }
        t
    }
}

/// Writes SAM text as a BAM file (BGZF with its end-of-file marker), with noodles.
pub fn sam_to_bam(sam_text: &str, path: &Path) {
    use sam::alignment::io::Write as _;
    let mut reader = sam::io::Reader::new(sam_text.as_bytes());
    let header = reader.read_header().expect("SAM header parses");
    let file = fs::File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    let mut writer = bam::io::Writer::new(file);
    writer.write_header(&header).expect("write BAM header");
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap_or_else(|e| panic!("SAM record {} parses: {e}", i + 1));
        writer
            .write_alignment_record(&header, &record)
            .expect("write BAM record");
    }
    writer.try_finish().expect("finish BAM");
}

/// Counts the records of a BAM file with noodles (all records, whatever their flags).
pub fn bam_record_count(path: &Path) -> u64 {
    let mut reader = bam::io::reader::Builder
        .build_from_path(path)
        .expect("open BAM");
    reader.read_header().expect("BAM header");
    let mut n = 0;
    for r in reader.records() {
        r.expect("BAM record");
        n += 1;
    }
    n
}

/// Reverse complement of an upper-case DNA string.
pub fn revcomp(s: &str) -> String {
    s.bytes()
        .rev()
        .map(|b| match b {
            b'A' => 'T',
            b'C' => 'G',
            b'G' => 'C',
            b'T' => 'A',
            _ => 'N',
        })
        .collect()
}

/// C's `printf("%g", x)` with 6 significant digits (TelSeq prints its estimate this way).
pub fn printf_g6(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    const P: i32 = 6;
    // The exponent after rounding to P significant digits decides the style, as in C.
    let sci = format!("{:.*e}", (P - 1) as usize, x);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent is a number");
    let strip = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if !(-4..P).contains(&exp) {
        let m = strip(mantissa.to_string());
        format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        strip(format!("{:.*}", (P - 1 - exp) as usize, x))
    }
}

/// Every file and directory under `dir`, relative to it, sorted (empty when `dir` is absent).
pub fn list_tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            out.push(p.strip_prefix(base).unwrap_or(&p).display().to_string());
            if p.is_dir() {
                walk(base, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Writes `text` to `dir/name` and returns the path as a string (for an argument list).
pub fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// `agemark STAGE ARGS -o - -q`: runs, asserts success, and parses the TSV it printed.
pub fn stage_stdout(stage: &str, args: &[&str]) -> Table {
    let mut all = vec![stage];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "-", "-q"]);
    let run = agemark(&all);
    run.assert_ok();
    Table::parse(&run.stdout_text())
}

/// The one row of `sample` for `measure`; panics unless exactly one.
pub fn sample_row<'a>(t: &'a Table, sample: &str, measure: &str) -> &'a BTreeMap<String, String> {
    let found: Vec<_> = t
        .rows
        .iter()
        .filter(|r| r["sample_id"] == sample && r["measure"] == measure)
        .collect();
    assert_eq!(found.len(), 1, "one row for {sample} {measure}");
    found[0]
}

/// The Python of a peer tool's venv: `$ENV_VAR` when set, else
/// `~/.cache/agemark-peers/<tool>-venv/bin/python`, which must exist (`install` says how).
pub fn peer_python(tool: &str, env_var: &str, install: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env_var) {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let p = PathBuf::from(home).join(format!(".cache/agemark-peers/{tool}-venv/bin/python"));
    assert!(
        p.exists(),
        "{tool}'s Python not found at {}: run .ci/run (or {install}) or set {env_var}",
        p.display()
    );
    p
}

/// A file of `../shared/data` beside the repository, which must exist (peer tests only).
pub fn shared_data(rel: &str) -> PathBuf {
    let p = repo("../shared/data").join(rel);
    assert!(
        p.exists(),
        "{} not found: the shared data must be beside the repository",
        p.display()
    );
    p
}

/// Runs a biolearn Python script (written to `dir/<script_name>`) as
/// `python SCRIPT MATRIX OUT ARG` in biolearn's venv, asserts it succeeded, and returns the
/// text it wrote to `out`.
pub fn run_biolearn(
    dir: &Path,
    script_name: &str,
    script: &str,
    matrix: &Path,
    out: &Path,
    arg: &str,
) -> String {
    let path = dir.join(script_name);
    fs::write(&path, script).unwrap();
    let python = peer_python(
        "biolearn",
        "AGEMARK_BIOLEARN_PYTHON",
        "pip install biolearn==0.9.1",
    );
    let run = Command::new(python)
        .arg(&path)
        .arg(matrix)
        .arg(out)
        .arg(arg)
        .output()
        .expect("run biolearn");
    assert!(
        run.status.success(),
        "biolearn failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    fs::read_to_string(out).unwrap()
}
