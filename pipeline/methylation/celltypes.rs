//! Cell composition from a beta matrix: Houseman's constrained projection onto the mean
//! methylation profiles of sorted cell types.
//!
//! Model (Houseman EA et al. 2012, "DNA methylation arrays as surrogate measures of cell mixture
//! distribution", BMC Bioinformatics 13:86, doi 10.1186/1471-2105-13-86): the beta of CpG `j`
//! in a bulk sample is the mixture of the cell types' mean betas,
//!
//! ```text
//! beta_j ≈ Σ_k w_k · mu_jk        (mu: the panel's CpGs × cell types)
//! ŵ = argmin_w Σ_j (beta_j − Σ_k mu_jk · w_k)²   subject to   w_k ≥ 0  and  Σ_k w_k ≤ 1
//! ```
//!
//! solved per sample over the panel CpGs the sample has a value for (a CpG absent from the input
//! or with a missing cell is left out of that sample's fit; there is no imputation).
//!
//! **Constraint.** The default is Houseman's: non-negative fractions whose sum may be below 1
//! ([`Constraint::SumAtMostOne`], as minfi's `projectCellType` with `lessThanOne = TRUE` and
//! EpiDISH's `CP` with its default `constraint = "inequality"`). The unexplained part
//! `1 − Σ w` absorbs cell types the panel lacks, so the sum is reported as its own row
//! (`sum_of_fractions`): a sum well below 1 says the panel does not fit the tissue. The option
//! [`Constraint::SumToOne`] forces `Σ w = 1` (as biolearn's `DeconvolutionModel` does).
//!
//! **Solver.** With `G = MᵀM` and `c = Mᵀbeta` the problem is the convex quadratic programme
//! `min ½ wᵀGw − cᵀw` with `k ≤ 12` variables, `k` bounds and one sum constraint. It is solved
//! exactly by the primal active-set method (Nocedal & Wright, *Numerical Optimization*, 2nd ed.,
//! Algorithm 16.3; for `w ≥ 0` alone this is Lawson & Hanson's NNLS): each step solves the
//! equality-constrained subproblem on the current working set with a Cholesky factorisation of
//! `G` restricted to the free fractions, and the method ends, in finitely many steps, when the
//! KKT multipliers are all non-negative. Why not a crate: the Rust NNLS crates handle `w ≥ 0`
//! only (no sum constraint), and general conic solvers (interior point) give approximate
//! answers through a dozen dependencies for a problem of at most 12 variables that this
//! ~100-line method solves to rounding error.
//!
//! **Missing CpGs.** Per sample, `n_used` is the number of panel CpGs with a measured value.
//! A note counts the missing ones; more than [`WARN_MISSING`] of the panel missing gives
//! `qc_status = warn`, more than `max_missing` (default [`DEFAULT_MAX_MISSING`]) refuses the
//! sample (`fail`, empty values, with the reason), as does having fewer CpGs than cell types.
//! A sum of fractions below [`LOW_SUM`] warns on the sum row.
//!
//! Panels (`reference/celltypes/`, see its PROVENANCE.md) are embedded in the binary and
//! checked against their sha256 when loaded.

use crate::core::embedded;
use crate::{
    core::{Provenance, QcStatus},
    methylation::{
        bundled::{embedded_from, header_column},
        cell_ontology,
        source::{read_methylation, BetaView, ReaderOptions},
        InputError,
    },
    tidy::Row,
};

/// The `assay` column.
pub const ASSAY: &str = "celltypes";
/// The table suffix: `<prefix>.celltypes.tsv`.
pub const SUFFIX: &str = "celltypes";
/// The `unit` of fraction rows.
pub const UNIT: &str = "fraction";
/// The measure of the row holding the sum of the fractions.
pub const SUM_MEASURE: &str = "sum_of_fractions";
/// Default refusal threshold: the largest fraction of a panel's CpGs a sample may lack.
pub const DEFAULT_MAX_MISSING: f64 = 0.2;
/// Above this fraction of missing panel CpGs a sample's rows warn.
pub const WARN_MISSING: f64 = 0.05;
/// A sum of fractions below this warns (under [`Constraint::SumAtMostOne`]).
pub const LOW_SUM: f64 = 0.8;

const BUNDLED: &str = "reference/celltypes (embedded)";

static EMBEDDED: &[(&str, &[u8])] = embedded::files!(embedded::CELLTYPES; "panels.tsv", "MANIFEST.sha256", "blood_reinius450k.csv.gz", "blood_salas_epic.csv.gz", "blood_epidish_dhs.csv.gz", "cordblood_idol.csv.gz", "cordblood_bakulski.csv.gz", "cordblood_gervin.csv.gz", "placenta_first_trimester.csv.gz", "placenta_third_trimester.csv.gz");

/// An embedded file of `reference/celltypes` after its sha256 check, gunzipped when stored
/// compressed.
pub fn embedded(name: &str) -> Result<Vec<u8>, InputError> {
    embedded_from(EMBEDDED, BUNDLED, name)
}

/// What `panels.tsv` says about a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct PanelInfo {
    /// Name given to `--panel`.
    pub name: String,
    /// Stored file.
    pub file: String,
    /// CpGs (checked when the table is loaded).
    pub n_cpgs: usize,
    /// Cell types, in table order.
    pub cell_types: Vec<String>,
    /// Tissue the panel is for.
    pub tissue: String,
    /// Other names accepted by `--panel`.
    pub aliases: Vec<String>,
    /// Short citation.
    pub citation: String,
    /// DOI.
    pub doi: String,
    /// Licence of the source table.
    pub licence: String,
    /// Where the table was taken from.
    pub source: String,
    /// sha256 of the file as stored.
    pub sha256: String,
}

/// A loaded panel: CpGs × cell-type mean betas.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// What the index says.
    pub info: PanelInfo,
    /// CpG IDs in table order.
    pub cpgs: Vec<String>,
    /// CpG-major profiles: `profiles[j * k + t]` is the mean beta of cell type `t` at CpG `j`.
    pub profiles: Vec<f64>,
}

impl Panel {
    /// Number of cell types.
    pub fn k(&self) -> usize {
        self.info.cell_types.len()
    }
}

/// Every bundled panel, in index order.
pub fn panels() -> Result<Vec<PanelInfo>, InputError> {
    let path = format!("{BUNDLED}/panels.tsv");
    let bytes = embedded("panels.tsv")?;
    let text = String::from_utf8(bytes).map_err(|_| InputError::file(&path, "not UTF-8"))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header_column(&header, &path, name);
    let c: Vec<usize> = [
        "panel",
        "file",
        "n_cpgs",
        "cell_types",
        "tissue",
        "aliases",
        "citation",
        "doi",
        "licence",
        "source",
        "sha256",
    ]
    .iter()
    .map(|n| col(n))
    .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        let get = |j: usize| cells.get(c[j]).copied().unwrap_or_default().to_string();
        let row = i as u64 + 2;
        let n_cpgs = get(2)
            .parse()
            .map_err(|_| InputError::cell(&path, row, "n_cpgs", "not a count"))?;
        let list = |s: String| -> Vec<String> {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        };
        out.push(PanelInfo {
            name: get(0),
            file: get(1),
            n_cpgs,
            cell_types: list(get(3)),
            tissue: get(4),
            aliases: list(get(5)),
            citation: get(6),
            doi: get(7),
            licence: get(8),
            source: get(9),
            sha256: get(10),
        });
    }
    Ok(out)
}

/// The panel named (or aliased) `name`.
pub fn find_panel(name: &str) -> Result<PanelInfo, crate::core::error::Error> {
    let all = panels()?;
    let name = name.trim();
    all.iter()
        .find(|p| p.name == name || p.aliases.iter().any(|a| a == name))
        .cloned()
        .ok_or_else(|| {
            let names: Vec<String> = all
                .iter()
                .map(|p| {
                    if p.aliases.is_empty() {
                        p.name.clone()
                    } else {
                        format!("{} (or {})", p.name, p.aliases.join(", "))
                    }
                })
                .collect();
            crate::core::error::Error::usage(format!(
                "--panel: unknown panel '{name}'; available: {}",
                names.join(", ")
            ))
        })
}

/// Loads a panel's table (sha256 checked; shape checked against the index).
pub fn load_panel(info: &PanelInfo) -> Result<Panel, InputError> {
    let path = format!("{BUNDLED}/{}", info.file);
    let bytes = embedded(&info.file)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| InputError::file(&path, "not UTF-8"))?;
    let unq = |s: &str| s.trim().trim_matches('"').to_string();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .skip(1)
        .map(unq)
        .collect();
    if header != info.cell_types {
        return Err(InputError::row(
            &path,
            1,
            format!(
                "cell types {} differ from panels.tsv ({})",
                header.join(","),
                info.cell_types.join(",")
            ),
        ));
    }
    let k = header.len();
    let mut cpgs = Vec::with_capacity(info.n_cpgs);
    let mut profiles = Vec::with_capacity(info.n_cpgs * k);
    for (i, line) in lines.enumerate() {
        let row = i as u64 + 2;
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != k + 1 {
            return Err(InputError::row(
                &path,
                row,
                format!("{} cells; expected {}", cells.len(), k + 1),
            ));
        }
        cpgs.push(unq(cells[0]));
        for (t, cell) in cells[1..].iter().enumerate() {
            let v: f64 = unq(cell)
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    InputError::cell(&path, row, &header[t], format!("not a number: {cell}"))
                })?;
            profiles.push(v);
        }
    }
    if cpgs.len() != info.n_cpgs {
        return Err(InputError::file(
            &path,
            format!("{} CpGs, but panels.tsv says {}", cpgs.len(), info.n_cpgs),
        ));
    }
    Ok(Panel {
        info: info.clone(),
        cpgs,
        profiles,
    })
}

/// The constraint on the fractions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// `w ≥ 0`, `Σ w ≤ 1` (Houseman 2012; the default).
    SumAtMostOne,
    /// `w ≥ 0`, `Σ w = 1` (as biolearn).
    SumToOne,
}

impl Constraint {
    /// The word used in `method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Constraint::SumAtMostOne => "sum_le_1",
            Constraint::SumToOne => "sum_eq_1",
        }
    }
}

/// Options of a deconvolution run.
#[derive(Clone, Copy, Debug)]
pub struct CellOptions {
    /// Constraint on the fractions.
    pub constraint: Constraint,
    /// Refusal threshold (fraction of the panel's CpGs without a value in a sample).
    pub max_missing: f64,
}

impl Default for CellOptions {
    fn default() -> Self {
        CellOptions {
            constraint: Constraint::SumAtMostOne,
            max_missing: DEFAULT_MAX_MISSING,
        }
    }
}

/// One sample's fractions.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleFractions {
    /// Fractions per cell type (panel order); `None` when the sample was refused.
    pub fractions: Option<Vec<f64>>,
    /// Panel CpGs with a measured value used in the fit.
    pub n_used: u64,
    /// Panel CpGs absent from the input.
    pub n_absent: u64,
    /// Panel CpGs present in the input but with a missing cell in this sample.
    pub n_missing_cells: u64,
    /// QC outcome of the fraction rows.
    pub qc_status: QcStatus,
    /// Notes.
    pub notes: Vec<String>,
}

/// A deconvolution of every sample of an input.
#[derive(Clone, Debug)]
pub struct CellRun {
    /// The panel used.
    pub panel: PanelInfo,
    /// Options used.
    pub opts: CellOptions,
    /// Sample names in input order.
    pub samples: Vec<String>,
    /// Per sample.
    pub results: Vec<SampleFractions>,
    /// The view's reader notes as sentences.
    pub reader_notes: Vec<String>,
    /// Panel CpGs present in the input (any sample).
    pub n_present: usize,
}

/// Reads `path` through the methylation input seam (only the panel's CpGs) and deconvolves
/// every sample.
pub fn run_celltypes(
    path: &str,
    panel: &Panel,
    opts: &CellOptions,
    reader: &ReaderOptions,
) -> Result<CellRun, InputError> {
    let view = read_methylation(path, &panel.cpgs, reader)?;
    Ok(deconvolve_view(&view, panel, opts))
}

/// Deconvolves every sample of a view holding (some of) the panel's CpGs.
pub fn deconvolve_view(view: &BetaView, panel: &Panel, opts: &CellOptions) -> CellRun {
    let k = panel.k();
    let m = panel.cpgs.len();
    // Row of each panel CpG in the view (None = not requested / absent).
    let rows: Vec<Option<usize>> = panel
        .cpgs
        .iter()
        .map(|c| view.index_of(c).filter(|&i| view.is_present(i)))
        .collect();
    let n_present = rows.iter().filter(|r| r.is_some()).count();
    let n_absent = (m - n_present) as u64;
    let results = (0..view.n_samples())
        .map(|s| {
            let mut a = Vec::with_capacity(m * k);
            let mut y = Vec::with_capacity(m);
            let mut n_missing_cells = 0u64;
            for (j, r) in rows.iter().enumerate() {
                let Some(i) = r else { continue };
                let v = view.row(*i)[s];
                if v.is_finite() {
                    y.push(v);
                    a.extend_from_slice(&panel.profiles[j * k..(j + 1) * k]);
                } else {
                    n_missing_cells += 1;
                }
            }
            sample_fractions(&a, &y, k, m, n_absent, n_missing_cells, opts)
        })
        .collect();
    CellRun {
        panel: panel.info.clone(),
        opts: *opts,
        samples: view.samples.clone(),
        results,
        reader_notes: view.notes.sentences(),
        n_present,
    }
}

fn sample_fractions(
    a: &[f64],
    y: &[f64],
    k: usize,
    m: usize,
    n_absent: u64,
    n_missing_cells: u64,
    opts: &CellOptions,
) -> SampleFractions {
    let n_used = y.len() as u64;
    let missing = n_absent + n_missing_cells;
    let frac_missing = missing as f64 / m.max(1) as f64;
    let mut notes = Vec::new();
    let mut qc = QcStatus::Pass;
    if missing > 0 {
        notes.push(format!(
            "{missing} of the panel's {m} CpGs have no value in this sample ({n_absent} absent from the input, {n_missing_cells} missing cells); fitted on the {n_used} present, no imputation"
        ));
        if frac_missing > WARN_MISSING {
            qc = QcStatus::Warn;
        }
    }
    let refuse = |why: String, mut notes: Vec<String>| {
        notes.push(why);
        SampleFractions {
            fractions: None,
            n_used,
            n_absent,
            n_missing_cells,
            qc_status: QcStatus::Fail,
            notes,
        }
    };
    if frac_missing > opts.max_missing {
        return refuse(
            format!(
                "not computed: {:.1}% of the panel's CpGs are missing, above --max-missing {}",
                100.0 * frac_missing,
                opts.max_missing
            ),
            notes,
        );
    }
    if (n_used as usize) < k {
        return refuse(
            format!("not computed: {n_used} CpGs for {k} cell types"),
            notes,
        );
    }
    match project(a, k, y, opts.constraint) {
        Ok(w) => SampleFractions {
            fractions: Some(w),
            n_used,
            n_absent,
            n_missing_cells,
            qc_status: qc,
            notes,
        },
        Err(why) => refuse(format!("not computed: {why}"), notes),
    }
}

/// Houseman's constrained projection of one sample: `a` is the CpG-major `n × k` matrix of
/// cell-type mean betas at the sample's `n` CpGs, `y` the sample's betas there.
pub fn project(a: &[f64], k: usize, y: &[f64], constraint: Constraint) -> Result<Vec<f64>, String> {
    let n = y.len();
    if k == 0 || a.len() != n * k {
        return Err(format!("a {n}-CpG sample against {k} cell types"));
    }
    // Normal equations G = AᵀA, c = Aᵀy.
    let mut g = vec![0.0; k * k];
    let mut c = vec![0.0; k];
    for j in 0..n {
        let r = &a[j * k..(j + 1) * k];
        for p in 0..k {
            c[p] += r[p] * y[j];
            for q in p..k {
                g[p * k + q] += r[p] * r[q];
            }
        }
    }
    for p in 0..k {
        for q in 0..p {
            g[p * k + q] = g[q * k + p];
        }
    }
    active_set(&g, &c, k, constraint)
}

/// The primal active-set method for `min ½wᵀGw − cᵀw`, `w ≥ 0`, with `Σw ≤ 1` or `Σw = 1`.
fn active_set(g: &[f64], c: &[f64], k: usize, constraint: Constraint) -> Result<Vec<f64>, String> {
    let eq = constraint == Constraint::SumToOne;
    let scale = (0..k).map(|i| g[i * k + i]).fold(0.0, f64::max).max(1e-300);
    let tol = 1e-12 * scale;
    // Working set: fractions fixed at 0 (!free) and whether the sum constraint is active.
    let (mut free, mut sum_active, mut w) = if eq {
        (vec![true; k], true, vec![1.0 / k as f64; k])
    } else {
        (vec![false; k], false, vec![0.0; k])
    };
    let max_iter = 50 * (k + 1) * (k + 1);
    for _ in 0..max_iter {
        let z = subproblem(g, c, k, &free, sum_active)?;
        // Longest step from w toward z that stays feasible.
        let mut alpha = 1.0;
        let mut block: Option<Option<usize>> = None; // Some(Some(i)) = bound i, Some(None) = sum
        for i in 0..k {
            if free[i] && z[i] < 0.0 {
                let step = w[i] / (w[i] - z[i]);
                if step < alpha {
                    alpha = step;
                    block = Some(Some(i));
                }
            }
        }
        if !eq && !sum_active {
            let (sz, sw): (f64, f64) = (z.iter().sum(), w.iter().sum());
            if sz > 1.0 + 1e-15 {
                let step = ((1.0 - sw) / (sz - sw)).max(0.0);
                if step < alpha {
                    alpha = step;
                    block = Some(None);
                }
            }
        }
        match block {
            Some(b) => {
                for i in 0..k {
                    w[i] += alpha * (z[i] - w[i]);
                }
                match b {
                    Some(i) => {
                        free[i] = false;
                        w[i] = 0.0;
                    }
                    None => sum_active = true,
                }
                continue;
            }
            None => w = z,
        }
        // KKT: ∇f = Gw − c = λ − ν·1 with λ_i ≥ 0 on fixed fractions and ν ≥ 0 for Σw ≤ 1.
        let grad: Vec<f64> = (0..k)
            .map(|i| (0..k).map(|j| g[i * k + j] * w[j]).sum::<f64>() - c[i])
            .collect();
        let nf = free.iter().filter(|f| **f).count();
        let nu = if sum_active && nf > 0 {
            -(0..k).filter(|&i| free[i]).map(|i| grad[i]).sum::<f64>() / nf as f64
        } else {
            0.0
        };
        let mut worst: Option<(f64, Option<usize>)> = None;
        for i in 0..k {
            if !free[i] {
                let lambda = grad[i] + nu;
                if lambda < -tol && worst.is_none_or(|(v, _)| lambda < v) {
                    worst = Some((lambda, Some(i)));
                }
            }
        }
        if sum_active && !eq && nu < -tol && worst.is_none_or(|(v, _)| nu < v) {
            worst = Some((nu, None));
        }
        match worst {
            None => {
                return Ok(w.iter().map(|v| v.max(0.0)).collect());
            }
            Some((_, Some(i))) => free[i] = true,
            Some((_, None)) => sum_active = false,
        }
    }
    Err("the constrained fit did not converge".to_string())
}

/// Minimiser of `½wᵀGw − cᵀw` with the fixed fractions at 0 and, when `sum_active`, `Σw = 1`.
fn subproblem(
    g: &[f64],
    c: &[f64],
    k: usize,
    free: &[bool],
    sum_active: bool,
) -> Result<Vec<f64>, String> {
    let idx: Vec<usize> = (0..k).filter(|&i| free[i]).collect();
    let m = idx.len();
    let mut z = vec![0.0; k];
    if m == 0 {
        return Ok(z);
    }
    let mut gf = vec![0.0; m * m];
    for (p, &i) in idx.iter().enumerate() {
        for (q, &j) in idx.iter().enumerate() {
            gf[p * m + q] = g[i * k + j];
        }
    }
    let l = cholesky(&gf, m).ok_or_else(|| {
        "the panel's cell-type profiles are linearly dependent on the CpGs present".to_string()
    })?;
    let cf: Vec<f64> = idx.iter().map(|&i| c[i]).collect();
    let mut x = cholesky_solve(&l, m, &cf);
    if sum_active {
        let u = cholesky_solve(&l, m, &vec![1.0; m]);
        let su: f64 = u.iter().sum();
        let mu = (1.0 - x.iter().sum::<f64>()) / su;
        for (xv, uv) in x.iter_mut().zip(&u) {
            *xv += mu * uv;
        }
    }
    for (p, &i) in idx.iter().enumerate() {
        z[i] = x[p];
    }
    Ok(z)
}

pub use crate::core::linalg::{cholesky, cholesky_solve};

/// The bundled cell-type panel used for a sample type when no input is at hand (`None`: no
/// panel fits; run `agemark celltypes --panel` by hand): the first of [`panels_for`].
pub fn panel_for(sample_type: &str) -> Option<&'static str> {
    panels_for(sample_type).first().copied()
}

/// The bundled panels made for a sample type's tissue, in order of preference: `run` uses the
/// one that covers the input best ([`best_covered`]), the first on a tie. Placentas keep the
/// third-trimester panel (a first-trimester reference is not a choice by coverage).
pub fn panels_for(sample_type: &str) -> &'static [&'static str] {
    match sample_type {
        "cord_blood" => &["cordblood_idol", "cordblood_gervin", "cordblood_bakulski"],
        "placenta" => &["placenta_third_trimester"],
        "whole_blood" | "maternal_blood" => {
            &["blood_reinius450k", "blood_salas_epic", "blood_epidish_dhs"]
        }
        _ => &[],
    }
}

/// Index of the candidate whose CpGs the input covers best (share of the panel's CpGs with a
/// row in the input; the first on a tie), from `(present, total)` per candidate.
pub fn best_covered(coverage: &[(usize, usize)]) -> usize {
    let share = |&(p, t): &(usize, usize)| if t == 0 { 0.0 } else { p as f64 / t as f64 };
    let mut best = 0;
    for (i, c) in coverage.iter().enumerate() {
        if share(c) > share(&coverage[best]) {
            best = i;
        }
    }
    best
}

/// The `method` column of a run's rows.
pub fn method(run: &CellRun) -> String {
    format!(
        "houseman2012_projection(panel={};constraint={})",
        run.panel.name,
        run.opts.constraint.as_str()
    )
}

/// Tidy rows: per sample, one row per cell type and the sum row.
pub fn to_rows(run: &CellRun, input: &str) -> Vec<Row> {
    let method = method(run);
    let mut rows = Vec::new();
    for (s, sample) in run.samples.iter().enumerate() {
        let prov = Provenance {
            sample_id: sample.clone(),
            input: input.to_string(),
            reference_build: crate::methylation::PROBE_IDS.to_string(),
        };
        let r = &run.results[s];
        let make = |measure: &str, value: Option<f64>, extra: Option<&str>| {
            let mut row = Row::new(&prov, ASSAY, measure, f64::NAN, UNIT, &method);
            row.qc_note.clear();
            row.qc_status = r.qc_status;
            row.n_used = Some(r.n_used);
            for n in r.notes.iter().chain(&run.reader_notes) {
                row.add_note(n);
            }
            match value {
                Some(v) if r.qc_status != QcStatus::Fail => row.set_value(v),
                _ => {
                    row.value = None;
                    row.qc_status = QcStatus::Fail;
                }
            }
            if let Some(w) = extra {
                row.warn(w);
            }
            row
        };
        // `measure` is the canonical label (one vocabulary across panels); `method` keeps the
        // panel's own name and the Cell Ontology term after the panel method.
        for (t, ct) in run.panel.cell_types.iter().enumerate() {
            let mut row = make(
                &cell_ontology::label(ct),
                r.fractions.as_ref().map(|w| w[t]),
                None,
            );
            if let Some(c) = cell_ontology::lookup(ct) {
                row.method = format!("{} [{ct} = {} {}]", row.method, c.cl_id, c.cl_name);
            }
            rows.push(row);
        }
        let sum = r.fractions.as_ref().map(|w| w.iter().sum::<f64>());
        let low = match sum {
            Some(v) if run.opts.constraint == Constraint::SumAtMostOne && v < LOW_SUM => Some(
                format!(
                    "the fractions sum to {v:.3} (< {LOW_SUM}): the panel explains this sample poorly (another tissue, or cell types the panel lacks?)"
                ),
            ),
            _ => None,
        };
        rows.push(make(SUM_MEASURE, sum, low.as_deref()));
    }
    rows
}

/// The panel part of a cell-type row's `method` (without the ` [panel name = CL term]` of
/// the row's cell type).
fn panel_method(method: &str) -> &str {
    method.split(" [").next().unwrap_or(method)
}

/// Cell fractions read back from a `<prefix>.celltypes.tsv` table (for IEAA).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FractionsTable {
    /// The file as given.
    pub path: String,
    /// The `method` of its rows (panel and constraint).
    pub method: String,
    /// Cell types in first-seen order.
    pub cell_types: Vec<String>,
    /// Per sample: the fraction of each cell type (`None` when failed or absent).
    pub samples: Vec<(String, Vec<Option<f64>>)>,
}

impl FractionsTable {
    /// The fractions of a sample.
    pub fn get(&self, sample: &str) -> Option<&[Option<f64>]> {
        self.samples
            .iter()
            .find(|(s, _)| s == sample)
            .map(|(_, v)| v.as_slice())
    }
}

/// Reads the cell-type rows of a tidy `celltypes` table (TSV). Failed rows count as missing;
/// the sum row is skipped. A table mixing panels or constraints is refused.
pub fn read_fractions_table(path: &str) -> Result<FractionsTable, InputError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError::file(
            path,
            match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => format!("cannot read: {e}"),
            },
        )
    })?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| {
        header.iter().position(|h| *h == name).ok_or_else(|| {
            InputError::row(
                path,
                1,
                format!("no '{name}' column: not a table written by agemark celltypes"),
            )
        })
    };
    let (cs, ca, cm, cv, cq, cme) = (
        col("sample_id")?,
        col("assay")?,
        col("measure")?,
        col("value")?,
        col("qc_status")?,
        col("method")?,
    );
    let mut t = FractionsTable {
        path: path.to_string(),
        ..Default::default()
    };
    let mut cells: Vec<(String, String, Option<f64>)> = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        let row = i as u64 + 2;
        let c: Vec<&str> = line.split('\t').collect();
        let get = |j: usize| c.get(j).copied().unwrap_or_default();
        if get(ca) != ASSAY || get(cm) == SUM_MEASURE {
            continue;
        }
        let m = panel_method(get(cme));
        if t.method.is_empty() {
            t.method = m.to_string();
        } else if t.method != m {
            return Err(InputError::cell(
                path,
                row,
                "method",
                format!(
                    "'{m}' differs from '{}' above: one panel and constraint per table",
                    t.method
                ),
            ));
        }
        let v = match get(cv) {
            "" => None,
            x => Some(
                x.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        InputError::cell(path, row, "value", format!("not a number: '{x}'"))
                    })?,
            ),
        };
        let v = if get(cq) == "fail" { None } else { v };
        if !t.cell_types.iter().any(|x| x == get(cm)) {
            t.cell_types.push(get(cm).to_string());
        }
        cells.push((get(cs).to_string(), get(cm).to_string(), v));
    }
    if t.cell_types.is_empty() {
        return Err(InputError::file(
            path,
            "no cell-type rows (assay 'celltypes'): not a table written by agemark celltypes",
        ));
    }
    t.fill(cells);
    Ok(t)
}

impl FractionsTable {
    /// Per sample, the fraction of each cell type from (sample, cell type, value) triples.
    fn fill(&mut self, cells: Vec<(String, String, Option<f64>)>) {
        for (sample, measure, v) in cells {
            let k = self
                .cell_types
                .iter()
                .position(|x| *x == measure)
                .unwrap_or(0);
            let n = self.cell_types.len();
            let slot = match self.samples.iter().position(|(s, _)| *s == sample) {
                Some(p) => p,
                None => {
                    self.samples.push((sample, vec![None; n]));
                    self.samples.len() - 1
                }
            };
            let vals = &mut self.samples[slot].1;
            vals.resize(n, None);
            vals[k] = v;
        }
    }

    /// The table [`read_fractions_table`] would read back from these rows (one panel's rows
    /// of [`to_rows`], as written): failed rows count as missing, the sum row is skipped. The
    /// values are the same numbers, as the TSV writes each in its shortest round-trip form.
    /// `label` names the table in reasons; `None` when the rows hold no cell-type row.
    pub fn from_rows(label: &str, rows: &[Row]) -> Option<FractionsTable> {
        let mut t = FractionsTable {
            path: label.to_string(),
            ..Default::default()
        };
        let mut cells = Vec::new();
        for r in rows
            .iter()
            .filter(|r| r.assay == ASSAY && r.measure != SUM_MEASURE)
        {
            if t.method.is_empty() {
                t.method = panel_method(&r.method).to_string();
            }
            if !t.cell_types.contains(&r.measure) {
                t.cell_types.push(r.measure.clone());
            }
            // The TSV writes -0 as 0.
            let v = r.value.filter(|_| r.qc_status != QcStatus::Fail).map(|x| {
                if x == 0.0 {
                    0.0
                } else {
                    x
                }
            });
            cells.push((r.sample_id.clone(), r.measure.clone(), v));
        }
        if t.cell_types.is_empty() {
            return None;
        }
        t.fill(cells);
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::checksum::sha256_hex;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Brute force over every working set: the best feasible KKT point of each face.
    fn brute(a: &[f64], k: usize, y: &[f64], constraint: Constraint) -> (Vec<f64>, f64) {
        let obj = |w: &[f64]| -> f64 {
            (0..y.len())
                .map(|j| {
                    let p: f64 = (0..k).map(|t| a[j * k + t] * w[t]).sum();
                    (y[j] - p).powi(2)
                })
                .sum()
        };
        let mut g = vec![0.0; k * k];
        let mut c = vec![0.0; k];
        for j in 0..y.len() {
            for p in 0..k {
                c[p] += a[j * k + p] * y[j];
                for q in 0..k {
                    g[p * k + q] += a[j * k + p] * a[j * k + q];
                }
            }
        }
        let mut best = (vec![0.0; k], f64::INFINITY);
        for mask in 0u32..(1 << k) {
            let free: Vec<bool> = (0..k).map(|i| mask >> i & 1 == 1).collect();
            for sum_active in [false, true] {
                if constraint == Constraint::SumToOne && !sum_active {
                    continue;
                }
                let Ok(z) = subproblem(&g, &c, k, &free, sum_active) else {
                    continue;
                };
                let s: f64 = z.iter().sum();
                if z.iter().any(|v| *v < -1e-12) || s > 1.0 + 1e-12 {
                    continue;
                }
                if constraint == Constraint::SumToOne && (s - 1.0).abs() > 1e-9 {
                    continue;
                }
                let o = obj(&z);
                if o < best.1 {
                    best = (z, o);
                }
            }
        }
        best
    }

    #[test]
    fn active_set_matches_brute_force_on_random_problems() {
        let mut seed = 7;
        for trial in 0..300 {
            let k = 2 + trial % 6;
            let n = k + 3 + trial % 11;
            let a: Vec<f64> = (0..n * k).map(|_| lcg(&mut seed)).collect();
            // Targets inside, on the edge of and outside the feasible cone.
            let y: Vec<f64> = (0..n).map(|_| 1.3 * lcg(&mut seed) - 0.1).collect();
            for constraint in [Constraint::SumAtMostOne, Constraint::SumToOne] {
                let w = project(&a, k, &y, constraint).unwrap();
                let (b, _) = brute(&a, k, &y, constraint);
                for t in 0..k {
                    assert!(
                        (w[t] - b[t]).abs() < 1e-9,
                        "trial {trial} {constraint:?}: {w:?} vs {b:?}"
                    );
                }
                assert!(w.iter().all(|v| *v >= 0.0));
                let s: f64 = w.iter().sum();
                match constraint {
                    Constraint::SumToOne => assert!((s - 1.0).abs() < 1e-12),
                    Constraint::SumAtMostOne => assert!(s <= 1.0 + 1e-12),
                }
            }
        }
    }

    #[test]
    fn exact_mixture_is_recovered_and_dependent_profiles_are_refused() {
        let mut seed = 3;
        let k = 6;
        let n = 40;
        let a: Vec<f64> = (0..n * k).map(|_| lcg(&mut seed)).collect();
        let truth = [0.5, 0.2, 0.0, 0.1, 0.05, 0.1];
        let y: Vec<f64> = (0..n)
            .map(|j| (0..k).map(|t| a[j * k + t] * truth[t]).sum())
            .collect();
        let w = project(&a, k, &y, Constraint::SumAtMostOne).unwrap();
        for t in 0..k {
            assert!((w[t] - truth[t]).abs() < 1e-10, "{w:?}");
        }
        // Two identical cell-type columns cannot be told apart.
        let mut dup = a.clone();
        for j in 0..n {
            dup[j * k + 1] = dup[j * k];
        }
        let y2: Vec<f64> = (0..n).map(|j| dup[j * k] * 0.9).collect();
        assert!(project(&dup, k, &y2, Constraint::SumToOne)
            .unwrap_err()
            .contains("linearly dependent"));
    }

    #[test]
    fn bundled_panels_load_and_match_their_source_checksums() {
        let all = panels().unwrap();
        assert_eq!(all.len(), 8);
        for p in &all {
            let panel = load_panel(p).unwrap();
            assert_eq!(panel.cpgs.len(), p.n_cpgs);
            assert_eq!(panel.profiles.len(), p.n_cpgs * p.cell_types.len());
            assert!(panel.profiles.iter().all(|v| (0.0..=1.0).contains(v)));
        }
        // The uncompressed tables are the shared sources byte for byte.
        let index = String::from_utf8(embedded("panels.tsv").unwrap()).unwrap();
        for line in index.lines().skip(1) {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(sha256_hex(&embedded(cells[1]).unwrap()), cells[10]);
        }
        assert_eq!(find_panel("cordblood").unwrap().name, "cordblood_idol");
        assert!(find_panel("nope")
            .unwrap_err()
            .to_string()
            .contains("available"));
    }
}
