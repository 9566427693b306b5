//! The Nextflow modules (`workflows/nextflow/modules/local/agemark/*/main.nf`), checked without
//! Nextflow (it cannot be installed on these machines: its launcher downloads its jars at run
//! time). For every module this test
//!
//! 1. parses the process: inputs, declared outputs, and the `script:` and `stub:` blocks;
//! 2. evaluates each block's Groovy (`def x = ...` lines and the `"""..."""` string) the way
//!    Nextflow would, with a representative `meta`, `task.cpus`, `task.ext.args` and inputs, and
//!    fails on any construct it does not understand (so a module cannot drift out of its reach);
//! 3. stages the inputs as symbolic links in a fresh work directory (as Nextflow does) and runs
//!    the resulting command lines with `bash -euo pipefail` and the built `agemark` on PATH;
//! 4. checks that the real script exits 0, that every declared output matches what agemark wrote,
//!    that every file agemark wrote is declared (fixed output names), that `versions.yml` names
//!    this agemark version, and that the stub creates exactly the same file names.
//!
//! The modules run in the order of the `AGEMARK_COHORT` subworkflow on the CI cohort sheet (the
//! demo cohort's `reference/demo/cohort/samplesheet.csv` plus the two real HM27 IDAT samples of
//! `tests/data/array/hm27_idat`, as workflows/ci/run-workflows.sh builds it): check (with the
//! IDAT batch plan), reads per sample, idat per batch of the plan, the methylation run, merge of
//! their tables, report.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use crate::common::{bin, repo, tempdir};

// ---------------------------------------------------------------------------------------------
// Parsing a module

/// One declared output: the pattern of `path(...)`, its emit name, and whether it may be absent.
#[derive(Debug, Clone)]
struct Output {
    pattern: Pattern,
    emit: String,
    optional: bool,
}

#[derive(Debug, Clone)]
enum Pattern {
    /// `path("*.telomere.tsv")`: a glob relative to the work directory.
    Glob(String),
    /// `path samplesheet`: an input passed through.
    Input(String),
}

#[derive(Debug)]
struct Module {
    name: String,
    file: PathBuf,
    inputs: Vec<String>,
    outputs: Vec<Output>,
    script: String,
    stub: String,
}

/// The lines of the block that starts at `label:` (e.g. `script:`) and ends at the next label of
/// the process or at the process's closing brace.
fn block<'a>(lines: &[&'a str], label: &str, file: &Path) -> Vec<&'a str> {
    let labels = [
        "input:", "output:", "when:", "script:", "stub:", "exec:", "shell:",
    ];
    let start = lines
        .iter()
        .position(|l| l.trim() == label)
        .unwrap_or_else(|| panic!("{}: no `{label}` block", file.display()));
    let mut out = Vec::new();
    let mut in_string = false;
    for l in &lines[start + 1..] {
        let t = l.trim();
        if !in_string && (labels.contains(&t) || *l == "}") {
            break;
        }
        if t.matches("\"\"\"").count() % 2 == 1 {
            in_string = !in_string;
        }
        out.push(*l);
    }
    out
}

fn parse_module(file: &Path) -> Module {
    let text = fs::read_to_string(file).expect("read module");
    let lines: Vec<&str> = text.lines().collect();
    let name = lines
        .iter()
        .find_map(|l| l.strip_prefix("process ")?.strip_suffix(" {"))
        .unwrap_or_else(|| panic!("{}: no `process NAME {{` line", file.display()))
        .to_string();
    let inputs = block(&lines, "input:", file)
        .iter()
        .filter(|l| !l.trim().is_empty())
        .flat_map(|l| input_names(l, file))
        .collect();
    let outputs = block(&lines, "output:", file)
        .iter()
        .filter(|l| !l.trim().is_empty())
        .flat_map(|l| parse_output(l, file))
        .collect();
    let script = block(&lines, "script:", file).join("\n");
    let stub = block(&lines, "stub:", file).join("\n");
    Module {
        name,
        file: file.to_path_buf(),
        inputs,
        outputs,
        script,
        stub,
    }
}

/// `tuple val(meta), path(reads), path(reference)` → meta, reads, reference; `path inputs` →
/// inputs.
fn input_names(line: &str, file: &Path) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix("tuple ").unwrap_or(t);
    t.split(", ")
        .map(|part| {
            let part = part.trim();
            let inner = part
                .strip_prefix("val(")
                .or_else(|| part.strip_prefix("path("))
                .and_then(|p| p.strip_suffix(')'))
                .or_else(|| part.strip_prefix("path "))
                .or_else(|| part.strip_prefix("val "))
                .unwrap_or_else(|| panic!("{}: input `{part}` not understood", file.display()));
            inner.trim().to_string()
        })
        .collect()
}

/// `tuple val(meta), path("*.clocks.tsv"), emit: tsv` or `path "versions.yml", emit: versions`.
fn parse_output(line: &str, file: &Path) -> Vec<Output> {
    let (decl, opts) = line
        .split_once(", emit:")
        .unwrap_or_else(|| panic!("{}: output without emit: `{line}`", file.display()));
    let emit = opts.split(',').next().unwrap_or("").trim().to_string();
    let optional = opts.contains("optional: true");
    let decl = decl.trim();
    let decl = decl
        .strip_prefix("tuple val(meta), ")
        .unwrap_or(decl)
        .trim();
    let path = decl
        .strip_prefix("path(")
        .and_then(|p| p.strip_suffix(')'))
        .or_else(|| decl.strip_prefix("path "))
        .unwrap_or_else(|| panic!("{}: output `{decl}` not understood", file.display()))
        .trim();
    let pattern = match path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
        Some(glob) => {
            assert!(
                !glob.contains('$'),
                "{}: output `{glob}`: use fixed names or globs, not variables",
                file.display()
            );
            Pattern::Glob(glob.to_string())
        }
        None => Pattern::Input(path.to_string()),
    };
    vec![Output {
        pattern,
        emit,
        optional,
    }]
}

// ---------------------------------------------------------------------------------------------
// Evaluating the Groovy of a script or stub block

#[derive(Debug, Clone)]
enum Val {
    Null,
    Str(String),
    /// Staged files (Nextflow renders a list of paths separated by blanks).
    List(Vec<String>),
}

impl Val {
    fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Str(s) => !s.is_empty(),
            Val::List(l) => !l.is_empty(),
        }
    }

    fn render(&self) -> String {
        match self {
            Val::Null => "null".into(),
            Val::Str(s) => s.clone(),
            Val::List(l) => l.join(" "),
        }
    }
}

struct Bindings {
    vars: BTreeMap<String, Val>,
    what: String,
}

impl Bindings {
    fn get(&self, name: &str) -> Val {
        match self.vars.get(name) {
            Some(v) => v.clone(),
            // Unset task.ext.* are null in Nextflow; anything else unknown is a test error.
            None if name.starts_with("task.ext.") => Val::Null,
            None => panic!("{}: `{name}` is not bound", self.what),
        }
    }
}

#[derive(Debug, PartialEq, Clone)]
enum Tok {
    Str { text: String, interpolate: bool },
    Name(String),
    Elvis,
    Question,
    Colon,
}

fn tokenize(expr: &str, what: &str) -> Vec<Tok> {
    let chars: Vec<char> = expr.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let mut j = i + 1;
            let mut text = String::new();
            while j < chars.len() && chars[j] != c {
                if chars[j] == '\\' && j + 1 < chars.len() {
                    text.push(chars[j]);
                    j += 1;
                }
                text.push(chars[j]);
                j += 1;
            }
            assert!(j < chars.len(), "{what}: unterminated string in `{expr}`");
            toks.push(Tok::Str {
                text,
                interpolate: c == '"',
            });
            i = j + 1;
        } else if c == '?' && chars.get(i + 1) == Some(&':') {
            toks.push(Tok::Elvis);
            i += 2;
        } else if c == '?' {
            toks.push(Tok::Question);
            i += 1;
        } else if c == ':' {
            toks.push(Tok::Colon);
            i += 1;
        } else if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '.')
            {
                j += 1;
            }
            toks.push(Tok::Name(chars[i..j].iter().collect()));
            i = j;
        } else {
            panic!("{what}: `{c}` in `{expr}` is beyond this test's Groovy subset");
        }
    }
    toks
}

/// expr := elvis ('?' expr ':' expr)? ; elvis := primary ('?:' primary)*
fn eval_tokens(toks: &[Tok], b: &Bindings) -> Val {
    if let Some(q) = toks.iter().position(|t| *t == Tok::Question) {
        let colon = toks
            .iter()
            .rposition(|t| *t == Tok::Colon)
            .unwrap_or_else(|| panic!("{}: `?` without `:`", b.what));
        let cond = eval_tokens(&toks[..q], b);
        return if cond.truthy() {
            eval_tokens(&toks[q + 1..colon], b)
        } else {
            eval_tokens(&toks[colon + 1..], b)
        };
    }
    let mut parts = toks.split(|t| *t == Tok::Elvis);
    let mut v = primary(parts.next().unwrap_or(&[]), b);
    for p in parts {
        if !v.truthy() {
            v = primary(p, b);
        }
    }
    v
}

fn primary(toks: &[Tok], b: &Bindings) -> Val {
    match toks {
        [Tok::Str { text, interpolate }] => Val::Str(if *interpolate {
            interpolate_gstring(text, b)
        } else {
            text.replace("\\'", "'").replace("\\\\", "\\")
        }),
        [Tok::Name(n)] if n == "null" => Val::Null,
        [Tok::Name(n)] => b.get(n),
        _ => panic!(
            "{}: expression {toks:?} is beyond this test's Groovy subset",
            b.what
        ),
    }
}

/// A Groovy double-quoted string: `${expr}`, `$name.path`, `\$`, `\\`, `\"`.
fn interpolate_gstring(s: &str, b: &Bindings) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                match chars[i + 1] {
                    '$' | '\\' | '"' => out.push(chars[i + 1]),
                    'n' => out.push('\n'),
                    other => panic!("{}: escape `\\{other}` not understood", b.what),
                }
                i += 2;
            }
            '$' if chars.get(i + 1) == Some(&'{') => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .unwrap_or_else(|| panic!("{}: unclosed ${{", b.what))
                    + i;
                let expr: String = chars[i + 2..end].iter().collect();
                out.push_str(&eval_tokens(&tokenize(&expr, &b.what), b).render());
                i = end + 1;
            }
            '$' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_alphanumeric()
                        || chars[j] == '_'
                        || (chars[j] == '.' && chars.get(j + 1).is_some_and(|c| c.is_alphabetic())))
                {
                    j += 1;
                }
                assert!(j > i + 1, "{}: a bare `$` in a GString", b.what);
                let name: String = chars[i + 1..j].iter().collect();
                out.push_str(&b.get(&name).render());
                i = j;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Nextflow's treatment of a script block: `def` lines bind variables, the `"""` string is the
/// script, interpolated and with its common indentation removed.
fn evaluate_block(block: &str, mut b: Bindings) -> String {
    let start = block
        .find("\"\"\"")
        .unwrap_or_else(|| panic!("{}: no \"\"\" string", b.what));
    let end = block.rfind("\"\"\"").expect("closing \"\"\"");
    assert!(end > start, "{}: one \"\"\" only", b.what);
    for line in block[..start]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let (name, expr) = line
            .strip_prefix("def ")
            .and_then(|d| d.split_once(" = "))
            .unwrap_or_else(|| panic!("{}: `{line}` is not `def NAME = EXPR`", b.what));
        let v = eval_tokens(&tokenize(expr, &b.what), &b);
        b.vars.insert(name.trim().to_string(), v);
    }
    assert!(
        block[end + 3..].trim().is_empty(),
        "{}: text after the script string",
        b.what
    );
    let text = interpolate_gstring(&block[start + 3..end], &b);
    strip_indent(&text)
}

fn strip_indent(s: &str) -> String {
    let s = s.strip_prefix('\n').unwrap_or(s);
    let indent = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let body = s
        .lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!("{}\n", body.trim_end())
}

// ---------------------------------------------------------------------------------------------
// Running a module in a work directory

/// A representative call of one module.
struct Case {
    module: &'static str,
    meta_id: &'static str,
    ext_args: Option<&'static str>,
    /// More `meta` fields (`meta.<key>`), besides `meta.id`.
    meta_extra: Vec<(String, String)>,
    /// Input name → files staged under their own names (Nextflow's default).
    inputs: Vec<(&'static str, Vec<PathBuf>)>,
}

struct Ran {
    /// Files the script wrote (relative paths), staged inputs excluded.
    written: BTreeSet<String>,
    dir: PathBuf,
}

fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && n[0] != '/' && go(p, &n[1..])),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(&p, &n)
}

fn files_under(dir: &Path, rel: &Path, out: &mut BTreeSet<String>) {
    for e in fs::read_dir(dir.join(rel)).expect("read work dir") {
        let e = e.expect("dir entry");
        let r = rel.join(e.file_name());
        let ft = e.file_type().expect("file type");
        if ft.is_dir() {
            files_under(dir, &r, out);
        } else {
            out.insert(r.to_string_lossy().into_owned());
        }
    }
}

fn agemark_on_path(root: &Path) -> String {
    let bindir = root.join("bin");
    fs::create_dir_all(&bindir).expect("bin dir");
    let link = bindir.join("agemark");
    if !link.exists() {
        std::os::unix::fs::symlink(bin(), &link).expect("link agemark");
    }
    format!(
        "{}:{}",
        bindir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn run_case(m: &Module, case: &Case, stub: bool, root: &Path) -> Ran {
    let what = format!(
        "{} ({}, {})",
        m.name,
        m.file.display(),
        if stub { "stub" } else { "script" }
    );
    let dir = root.join(format!(
        "{}-{}{}",
        case.module,
        case.meta_id,
        if stub { "-stub" } else { "" }
    ));
    fs::create_dir_all(&dir).expect("work dir");
    let mut vars = BTreeMap::new();
    vars.insert("meta.id".into(), Val::Str(case.meta_id.into()));
    for (k, v) in &case.meta_extra {
        vars.insert(format!("meta.{k}"), Val::Str(v.clone()));
    }
    vars.insert("task.cpus".into(), Val::Str("2".into()));
    vars.insert("task.process".into(), Val::Str(m.name.clone()));
    if let Some(a) = case.ext_args {
        vars.insert("task.ext.args".into(), Val::Str(a.into()));
    }
    let mut staged = BTreeSet::new();
    for name in m.inputs.iter().filter(|n| *n != "meta") {
        let files = &case
            .inputs
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{what}: the test gives no `{name}`"))
            .1;
        let mut names = Vec::new();
        for f in files {
            let staged_name = f
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            std::os::unix::fs::symlink(f, dir.join(&staged_name))
                .unwrap_or_else(|e| panic!("{what}: stage {}: {e}", f.display()));
            staged.insert(staged_name.clone());
            names.push(staged_name);
        }
        vars.insert(name.clone(), Val::List(names));
    }
    let script = evaluate_block(
        if stub { &m.stub } else { &m.script },
        Bindings {
            vars,
            what: what.clone(),
        },
    );
    fs::write(dir.join(".command.sh"), &script).expect("write .command.sh");
    let out = Command::new("bash")
        .args(["-euo", "pipefail", ".command.sh"])
        .current_dir(&dir)
        .env("PATH", agemark_on_path(root))
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{what}: the command lines failed ({})\n--- .command.sh ---\n{script}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut written = BTreeSet::new();
    files_under(&dir, Path::new(""), &mut written);
    written.retain(|f| !staged.contains(f) && f != ".command.sh");
    let versions = fs::read_to_string(dir.join("versions.yml"))
        .unwrap_or_else(|e| panic!("{what}: versions.yml: {e}"));
    let want = format!(
        "\"{}\":\n    agemark: {}\n",
        m.name,
        agemark::core::AGEMARK_VERSION
    );
    assert_eq!(versions, want, "{what}: versions.yml");
    // Every declared output is there.
    for o in &m.outputs {
        let found = match &o.pattern {
            Pattern::Glob(g) => written.iter().any(|f| glob_match(g, f)),
            Pattern::Input(name) => m.inputs.contains(name),
        };
        assert!(
            found || o.optional,
            "{what}: declared output `{:?}` (emit {}) was not written; wrote {written:?}",
            o.pattern,
            o.emit
        );
    }
    // Every file written is declared: the module's outputs are agemark's fixed names.
    for f in &written {
        assert!(
            m.outputs
                .iter()
                .any(|o| matches!(&o.pattern, Pattern::Glob(g) if glob_match(g, f))),
            "{what}: wrote `{f}`, which no output declares"
        );
    }
    Ran { written, dir }
}

/// Runs the script and the stub of a case; the stub must create the same file names.
fn check_case(modules: &BTreeMap<String, Module>, case: &Case, root: &Path) -> Ran {
    let m = modules
        .get(case.module)
        .unwrap_or_else(|| panic!("no module {}", case.module));
    let real = run_case(m, case, false, root);
    let stub = run_case(m, case, true, root);
    assert_eq!(
        stub.written, real.written,
        "{}: the stub's files differ from the script's",
        m.name
    );
    real
}

fn modules() -> BTreeMap<String, Module> {
    let dir = repo("workflows/nextflow/modules/local/agemark");
    let mut out = BTreeMap::new();
    for e in fs::read_dir(&dir).expect("modules dir") {
        let e = e.expect("entry");
        let file = e.path().join("main.nf");
        assert!(file.is_file(), "{}: no main.nf", e.path().display());
        assert!(
            e.path().join("meta.yml").is_file(),
            "{}: no meta.yml",
            e.path().display()
        );
        let m = parse_module(&file);
        out.insert(e.file_name().to_string_lossy().into_owned(), m);
    }
    out
}

fn in_dir(ran: &Ran, names: &[&str]) -> Vec<PathBuf> {
    names.iter().map(|n| ran.dir.join(n)).collect()
}

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn every_module_has_the_nf_core_shape() {
    let modules = modules();
    let names: BTreeSet<&str> = modules.keys().map(String::as_str).collect();
    for want in [
        "check",
        "reads",
        "idat",
        "telomere",
        "mtdna",
        "clocks",
        "celltypes",
        "nr3c1",
        "run",
        "merge",
        "report",
    ] {
        assert!(names.contains(want), "no module {want}: have {names:?}");
    }
    for (dir, m) in &modules {
        let text = fs::read_to_string(&m.file).expect("read");
        assert_eq!(m.name, format!("AGEMARK_{}", dir.to_uppercase()));
        for needle in [
            "tag \"$",
            "task.ext.when == null || task.ext.when",
            "agemark --version",
        ] {
            assert!(text.contains(needle), "{}: no `{needle}`", m.file.display());
        }
        assert!(
            m.outputs.iter().any(|o| o.emit == "versions"),
            "{}: no versions output",
            m.file.display()
        );
        // Threads from the task for every command that computes something.
        if dir != "check" {
            assert!(
                m.script.contains("--threads $task.cpus"),
                "{}: no --threads $task.cpus",
                m.file.display()
            );
        }
        if m.inputs.iter().any(|i| i == "meta") {
            assert!(m.script.contains("task.ext.args"), "{}", m.file.display());
        }
        // meta.yml names every input and every emitted output.
        let meta = fs::read_to_string(m.file.with_file_name("meta.yml")).expect("meta.yml");
        assert!(
            meta.contains(&format!("name: \"agemark_{dir}\"")),
            "{dir}/meta.yml: name"
        );
        for i in &m.inputs {
            assert!(
                meta.contains(&format!("- {i}:")),
                "{dir}/meta.yml: input {i}"
            );
        }
        for o in &m.outputs {
            assert!(
                meta.contains(&format!("\n  {}:\n", o.emit)),
                "{dir}/meta.yml: output {}",
                o.emit
            );
        }
    }
}

#[test]
fn read_modules_run_as_agemark_accepts_them() {
    let modules = modules();
    let tmp = tempdir();
    let root = tmp.path();
    let bam = repo("reference/demo/HG03478_MT.bam");
    let cram = repo("tests/data/seq/HG03478_MT.cram");
    let fa = repo("tests/data/seq/ref/MT.fa");
    let fq = repo("reference/demo/adam_interleaved_telomeric_250bp.ifq.fq");
    for (module, args) in [
        ("reads", Some("--min-mapq 20 --telseq-k 7")),
        ("telomere", Some("--telseq-k 6")),
        ("mtdna", Some("--min-mapq 20")),
    ] {
        let ran = check_case(
            &modules,
            &Case {
                module,
                meta_id: "HG03478",
                ext_args: args,
                meta_extra: vec![],
                inputs: vec![("reads", vec![bam.clone()]), ("reference", vec![])],
            },
            root,
        );
        // The prefix is meta.id: these are the names `agemark run` writes per sample.
        assert!(ran
            .written
            .iter()
            .filter(|f| *f != "versions.yml")
            .all(|f| f.starts_with("HG03478.")));
    }
    // CRAM with a reference, and an interleaved FASTQ with no task.ext.args.
    check_case(
        &modules,
        &Case {
            module: "reads",
            meta_id: "HG03478_cram",
            ext_args: None,
            meta_extra: vec![],
            inputs: vec![("reads", vec![cram]), ("reference", vec![fa])],
        },
        root,
    );
    check_case(
        &modules,
        &Case {
            module: "telomere",
            meta_id: "adam",
            ext_args: Some("--interleaved"),
            meta_extra: vec![],
            inputs: vec![("reads", vec![fq]), ("reference", vec![])],
        },
        root,
    );
}

#[test]
fn clocks_module_runs_as_agemark_accepts_it() {
    let modules = modules();
    let tmp = tempdir();
    check_case(
        &modules,
        &Case {
            module: "clocks",
            meta_id: "progress",
            ext_args: Some("--clocks knight2016_ga,bohlin2016_ga --impute reference"),
            meta_extra: vec![],
            inputs: vec![
                (
                    "betas",
                    vec![repo(
                        "tests/data/array/progress_cordblood_knight148_betas.csv",
                    )],
                ),
                ("samplesheet", vec![]),
            ],
        },
        tmp.path(),
    );
}

#[test]
fn celltypes_and_nr3c1_modules_run_as_agemark_accepts_them() {
    let modules = modules();
    let tmp = tempdir();
    let placentas = repo("tests/data/array/planet_placenta_24_celltype_betas.csv");
    check_case(
        &modules,
        &Case {
            module: "celltypes",
            meta_id: "planet",
            ext_args: Some("--panel placenta_term --constraint sum-eq-1"),
            meta_extra: vec![],
            inputs: vec![("betas", vec![placentas])],
        },
        tmp.path(),
    );
    let tmp = tempdir();
    check_case(
        &modules,
        &Case {
            module: "nr3c1",
            meta_id: "gse55763",
            ext_args: None,
            meta_extra: vec![],
            inputs: vec![(
                "betas",
                vec![repo("tests/data/array/gse55763_blood_5x20000_betas.csv")],
            )],
        },
        tmp.path(),
    );
}

/// The cohort modules in the order of the `AGEMARK_COHORT` subworkflow, on the demo cohort.
#[test]
fn cohort_modules_run_the_demo_cohort_as_the_subworkflow_does() {
    let modules = modules();
    let tmp = tempdir();
    let root = tmp.path();
    // The demo writes the cohort's inputs (its synthetic reads among them) beside its sheet.
    let demo_out = root.join("demo");
    crate::common::agemark([
        "demo".to_string(),
        "--outdir".to_string(),
        demo_out.display().to_string(),
    ])
    .assert_ok();
    let demo_sheet = demo_out.join("inputs/cohort/samplesheet.csv");
    let demo_dir = demo_sheet.parent().expect("sheet dir").to_path_buf();
    let ci_sheet = ci_sheet(&demo_sheet, root);
    let sheet = read_sheet(&ci_sheet);
    let sheet_dir = root.to_path_buf();
    // As main.nf does: every file the sheet points to is staged beside a copy of the sheet that
    // names each file by its base name.
    let mut inputs = Vec::new();
    let mut staged_rows = Vec::new();
    let header: Vec<String> = read_header(&ci_sheet);
    for row in &sheet {
        let mut cells = Vec::new();
        for col in &header {
            let v = row.get(col).cloned().unwrap_or_default();
            if FILE_COLUMNS.contains(&col.as_str()) && !v.is_empty() {
                let full = sheet_dir.join(&v);
                let name = full
                    .file_name()
                    .expect("file name")
                    .to_string_lossy()
                    .into_owned();
                // main.nf stages an IDAT prefix's _Grn/_Red files (sheetFiles).
                inputs.extend(sheet_files(col, &full));
                cells.push(name);
            } else {
                cells.push(v);
            }
        }
        staged_rows.push(cells.join(","));
    }
    let staged_dir = root.join("main-nf");
    fs::create_dir_all(&staged_dir).expect("mkdir");
    let sheet_path = staged_dir.join("samplesheet.staged.csv");
    fs::write(
        &sheet_path,
        format!("{}\n{}\n", header.join(","), staged_rows.join("\n")),
    )
    .expect("write the staged sheet");
    let betas = demo_betas(&demo_dir);
    let checked = check_case(
        &modules,
        &Case {
            module: "check",
            meta_id: "cohort",
            ext_args: None,
            meta_extra: vec![],
            inputs: vec![
                ("samplesheet", vec![sheet_path.clone()]),
                ("inputs", inputs.clone()),
                ("betas", betas.clone()),
            ],
        },
        root,
    );
    let mut tables = Vec::new();
    for row in sheet
        .iter()
        .filter(|r| r.get("reads").is_some_and(|v| !v.is_empty()))
    {
        let id: &'static str = Box::leak(row["sample_id"].clone().into_boxed_str());
        let mut reads = vec![sheet_dir.join(&row["reads"])];
        if let Some(r2) = row.get("reads2").filter(|v| !v.is_empty()) {
            reads.push(sheet_dir.join(r2));
        }
        let reference: Vec<PathBuf> = row
            .get("reference")
            .filter(|v| !v.is_empty())
            .map(|r| sheet_dir.join(r))
            .into_iter()
            .collect();
        let ran = check_case(
            &modules,
            &Case {
                module: "reads",
                meta_id: id,
                ext_args: None,
                meta_extra: vec![],
                inputs: vec![("reads", reads), ("reference", reference)],
            },
            root,
        );
        tables.extend(in_dir(
            &ran,
            &[&format!("{id}.telomere.tsv"), &format!("{id}.mtdna.tsv")],
        ));
    }
    // One idat job per batch of agemark's plan (joined with the sheet by sample_id, as the
    // subworkflow does).
    let plan = fs::read_to_string(checked.dir.join("idat_plan.tsv")).expect("idat_plan.tsv");
    let mut batches: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in plan.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        assert_eq!(c.len(), 3, "plan line `{line}`");
        batches
            .entry(c[0].to_string())
            .or_default()
            .push(c[1].to_string());
    }
    assert_eq!(
        batches.keys().collect::<Vec<_>>(),
        ["4207113116"],
        "the two HM27 samples are one batch: {plan}"
    );
    let mut idat_betas = Vec::new();
    let mut idat_runs = Vec::new();
    for (batch, ids) in &batches {
        let mut files = Vec::new();
        let mut prefixes = Vec::new();
        for id in ids {
            let row = sheet
                .iter()
                .find(|r| &r["sample_id"] == id)
                .expect("plan id in sheet");
            let full = sheet_dir.join(&row["idat"]);
            prefixes.push(
                full.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
            );
            files.extend(sheet_files("idat", &full));
        }
        let batch: &'static str = Box::leak(batch.clone().into_boxed_str());
        let ran = check_case(
            &modules,
            &Case {
                module: "idat",
                meta_id: batch,
                ext_args: None,
                meta_extra: vec![
                    ("prefixes".into(), prefixes.join(" ")),
                    ("sample_ids".into(), ids.join(",")),
                ],
                inputs: vec![("idats", files)],
            },
            root,
        );
        idat_betas.extend(in_dir(&ran, &[&format!("{batch}.betas.tsv.gz")]));
        tables.extend(in_dir(&ran, &[&format!("{batch}.idat_qc.tsv")]));
        idat_runs.push((batch, ran));
    }
    let ran = check_case(
        &modules,
        &Case {
            module: "run",
            meta_id: "cohort",
            ext_args: Some("--stages clocks,exposure,celltypes,identity,nr3c1"),
            meta_extra: vec![],
            inputs: vec![
                ("samplesheet", vec![sheet_path.clone()]),
                ("betas", betas.clone()),
                ("inputs", inputs),
                ("idat_betas", idat_betas),
            ],
        },
        root,
    );
    for f in &ran.written {
        if f.starts_with("methylation/") && f.ends_with(".tsv") {
            tables.push(ran.dir.join(f));
        }
    }
    let merged = check_case(
        &modules,
        &Case {
            module: "merge",
            meta_id: "cohort",
            ext_args: None,
            meta_extra: vec![],
            inputs: vec![
                ("tables", tables),
                ("samplesheet", vec![sheet_path.clone()]),
            ],
        },
        root,
    );
    // The subworkflow's cohort tables are `agemark run`'s, byte for byte.
    let reference = root.join("agemark-run");
    crate::common::agemark([
        "run",
        "--samplesheet",
        &ci_sheet.display().to_string(),
        "--betas",
        &betas[0].display().to_string(),
        "--outdir",
        &reference.display().to_string(),
        "--threads",
        "2",
    ])
    .assert_ok();
    for name in [
        "cohort.long.tsv",
        "cohort.long.parquet",
        "cohort.wide.tsv",
        "cohort.columns.tsv",
        "cohort.dyads.tsv",
    ] {
        let want = fs::read(reference.join(name)).expect("agemark run's table");
        let got = fs::read(merged.dir.join(name)).expect("AGEMARK_MERGE's table");
        assert!(
            want == got,
            "{name}: AGEMARK_MERGE's differs from agemark run's"
        );
    }
    // The idat jobs' files are `agemark run`'s idat jobs', byte for byte.
    for (batch, ran) in &idat_runs {
        for sfx in [
            "betas.tsv.gz",
            "detection.tsv.gz",
            "idat_qc.tsv",
            "idat_qc.parquet",
        ] {
            let name = format!("{batch}.{sfx}");
            let want = fs::read(reference.join("idat").join(&name)).expect("agemark run's");
            let got = fs::read(ran.dir.join(&name)).expect("AGEMARK_IDAT's");
            assert!(
                want == got,
                "{name}: AGEMARK_IDAT's differs from agemark run's"
            );
        }
    }
    let cohort_tables: Vec<PathBuf> = merged
        .written
        .iter()
        .filter(|f| *f != "versions.yml")
        .map(|f| merged.dir.join(f))
        .collect();
    check_case(
        &modules,
        &Case {
            module: "report",
            meta_id: "cohort",
            ext_args: None,
            meta_extra: vec![],
            inputs: vec![("tables", cohort_tables), ("samplesheet", vec![sheet_path])],
        },
        root,
    );
}

/// The CI cohort sheet (as workflows/ci/run-workflows.sh's ci_sheet writes it): the demo sheet
/// with absolute paths and an `idat` column, plus the two real HM27 samples as one batch.
fn ci_sheet(demo_sheet: &Path, dir: &Path) -> PathBuf {
    let demo_dir = demo_sheet.parent().expect("sheet dir");
    let header = read_header(demo_sheet);
    let mut text = format!("{},idat\n", header.join(","));
    for row in read_sheet(demo_sheet) {
        let cells: Vec<String> = header
            .iter()
            .map(|c| {
                let v = row.get(c).cloned().unwrap_or_default();
                if FILE_COLUMNS.contains(&c.as_str()) && !v.is_empty() {
                    demo_dir.join(v).display().to_string()
                } else {
                    v
                }
            })
            .collect();
        text.push_str(&format!("{},\n", cells.join(",")));
    }
    let hm27 = repo("tests/data/array/hm27_idat");
    for (id, pos) in [("HM27-OV-A", "A"), ("HM27-OV-B", "B")] {
        text.push_str(&format!(
            "{id},CI-{id},,other,other,,,,,,,{}\n",
            hm27.join(format!("4207113116_{pos}")).display()
        ));
    }
    let path = dir.join("ci-samplesheet.csv");
    fs::write(&path, text).expect("write the CI sheet");
    path
}

/// The files main.nf stages for a sheet path (`sheetFiles`): an IDAT prefix's `_Grn`/`_Red`
/// files, anything else itself.
fn sheet_files(column: &str, full: &Path) -> Vec<PathBuf> {
    if column != "idat" || full.is_dir() {
        return vec![full.to_path_buf()];
    }
    let mut out = Vec::new();
    for ch in ["Grn", "Red"] {
        for gz in ["", ".gz"] {
            let f = PathBuf::from(format!("{}_{ch}.idat{gz}", full.display()));
            if f.is_file() {
                out.push(f);
            }
        }
    }
    assert!(!out.is_empty(), "{}: no IDAT files", full.display());
    out
}

/// The demo cohort's top-level beta matrix (`agemark demo` passes it as `--betas`).
fn demo_betas(sheet_dir: &Path) -> Vec<PathBuf> {
    let betas = sheet_dir.join("demo_betas.csv.gz");
    assert!(betas.is_file(), "{}: missing", betas.display());
    vec![betas]
}

const FILE_COLUMNS: [&str; 5] = ["reads", "reads2", "reference", "idat", "methylation_calls"];

fn read_header(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).expect("read the demo sample sheet");
    text.lines()
        .next()
        .expect("header")
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|s| s.trim().to_string())
        .collect()
}

/// The demo sheet's rows (plain CSV: it is ours).
fn read_sheet(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = fs::read_to_string(path).expect("read the demo sample sheet");
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    lines
        .map(|l| {
            assert!(
                !l.contains('"'),
                "the demo sheet has quoted fields: extend this reader"
            );
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(|s| s.trim().to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn the_groovy_subset_evaluates_as_nextflow_would() {
    let mut vars = BTreeMap::new();
    vars.insert("meta.id".to_string(), Val::Str("s1".into()));
    vars.insert("reference".to_string(), Val::List(vec![]));
    vars.insert(
        "reads".to_string(),
        Val::List(vec!["a.fq".into(), "b.fq".into()]),
    );
    let script = "    def prefix = task.ext.prefix ?: \"${meta.id}\"\n    def ref = reference ? \"--reference ${reference}\" : ''\n    \"\"\"\n    x $reads $ref -o ${prefix} \\\\\n        \\$(y)\n    \"\"\"";
    let got = evaluate_block(
        script,
        Bindings {
            vars,
            what: "inline".into(),
        },
    );
    assert_eq!(got, "x a.fq b.fq  -o s1 \\\n    $(y)\n");
    assert!(glob_match("*.telomere.tsv", "s1.telomere.tsv"));
    assert!(!glob_match("*.tsv", "methylation/cohort.clocks.tsv"));
    assert!(glob_match(
        "methylation/*.tsv",
        "methylation/cohort.clocks.tsv"
    ));
}
