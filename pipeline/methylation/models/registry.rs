//! The clock registry: the 20 bundled coefficient tables embedded in the binary
//! (`reference/clocks/`, see its PROVENANCE.md), each checked against `MANIFEST.sha256` when
//! it is loaded, plus user models from `--models-dir` in the same format.
//!
//! Format (bundled and user): a directory with `clocks.tsv` (tab-separated, header row) whose
//! columns are `clock`, `file`, `transform`, `model_unit` (required) and `n_cpgs`, `unit`,
//! `citation`, `doi`, `licence`, `use_terms`, `source`, `source_sha256`, `sha256` (optional; a
//! given `sha256` is checked against the file). Each `file` is a CSV (optionally gzipped) with a
//! header and the columns `cpg_id,coefficient`, whose first data row is `(Intercept),<value>`.

use crate::core::embedded;
use std::{collections::HashMap, path::Path};

use super::transforms::Transform;
use crate::{
    core::checksum::manifest_entries,
    methylation::{
        bundled::{embedded_from, gunzip_if_compressed},
        InputError,
    },
};

/// Files of `reference/clocks/`, embedded.
static EMBEDDED: &[(&str, &[u8])] = embedded::files!(embedded::CLOCKS; "clocks.tsv", "MANIFEST.sha256", "applicability.tsv", "horvath2013.csv", "hannum2013.csv", "phenoage2018.csv", "horvath_skinblood2018.csv", "dunedinpace2022.csv", "dunedinpace2022_model_means.csv", "dunedinpace2022_gold_standard_means.csv.gz", "zhang2019_en.csv", "zhang2019_blup.csv.gz", "lin2016.csv", "weidner2014.csv", "pedbe2019.csv", "wu2019.csv", "knight2016_ga.csv", "bohlin2016_ga.csv", "haftorn2021_ga.csv", "mayne2017_ga.csv", "lee2019_rpc.csv", "lee2019_cpc.csv", "lee2019_rrpc.csv", "lu2019_dnamtl.csv", "zhang2017_mortality.csv");

/// Files of `reference/scores/` (the exposure scores), embedded.
static SCORES_EMBEDDED: &[(&str, &[u8])] = embedded::files!(embedded::SCORES; "scores.tsv", "MANIFEST.sha256", "applicability.tsv", "reese2017_maternal_smoking.csv", "rauschert2020_prenatal_smoking.csv", "rauschert2020_prenatal_smoking_epic.csv", "provencal2020_ges.csv", "elliott2014_smoking.csv", "stevenson2021_dnam_il6.csv", "jung2023_dnam_stress.csv", "gadd2022_crp_episcore.csv");

const BUNDLED_SCORES: &str = "reference/scores (embedded)";

/// The `assay` of clock rows.
pub const CLOCKS_ASSAY: &str = "clocks";
/// The `assay` of exposure-score rows.
pub const EXPOSURE_ASSAY: &str = "exposure";

/// An embedded file of `reference/scores/` after its sha256 check.
pub fn embedded_score(name: &str) -> Result<Vec<u8>, InputError> {
    embedded_from(SCORES_EMBEDDED, BUNDLED_SCORES, name)
}

/// DunedinPACE's gold-standard means (20,000 probes; the quantile-normalisation target and
/// the values of absent probes).
pub const DUNEDINPACE_GOLD: &str = "dunedinpace2022_gold_standard_means.csv.gz";
/// DunedinPACE's training means of its 173 model probes.
pub const DUNEDINPACE_MODEL_MEANS: &str = "dunedinpace2022_model_means.csv";

const BUNDLED: &str = "reference/clocks (embedded)";

/// Where a model comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in the binary.
    Bundled,
    /// A user directory given with `--models-dir`.
    Dir(std::path::PathBuf),
}

/// One registry entry: what `clocks.tsv` says about a model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    /// Name; the `measure` column of the output.
    pub name: String,
    /// Stored file name.
    pub file: String,
    /// CpGs (from the index; checked when the table is loaded).
    pub n_cpgs: Option<usize>,
    /// How the linear predictor becomes the output.
    pub transform: Transform,
    /// Unit the model produces.
    pub model_unit: String,
    /// Unit agemark reports (gestational days are reported in weeks).
    pub unit: String,
    /// Factor from `model_unit` to `unit`.
    pub scale: f64,
    /// Short citation.
    pub citation: String,
    /// DOI of the publication.
    pub doi: String,
    /// Licence of the source table.
    pub licence: String,
    /// Use restrictions stated by the authors (empty when none are stated).
    pub use_terms: String,
    /// Where the table was taken from.
    pub source: String,
    /// sha256 of the file as stored (empty for a user model whose index gives none).
    pub sha256: String,
    /// Bundled or user model.
    pub origin: Origin,
    /// The rows' `assay`: `clocks`, or `exposure` for the exposure scores.
    pub assay: &'static str,
}

/// A loaded model: intercept and coefficients.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockModel {
    /// What the registry says about it.
    pub info: ModelInfo,
    /// The intercept (0 where the published model has none).
    pub intercept: f64,
    /// CpG IDs, in table order.
    pub cpgs: Vec<String>,
    /// Coefficients, parallel to `cpgs`.
    pub coefs: Vec<f64>,
    /// The model's own reference betas (a third `reference_beta` column: Elliott's
    /// never-smoker medians, the EpiScores' training means), parallel to `cpgs`; empty when the
    /// table has none. `reference` imputation uses them before any bundled means.
    pub ref_means: Vec<Option<f64>>,
}

/// A reference table that is not a clock (DunedinPACE's means), for `reference list`.
#[derive(Clone, Debug, PartialEq)]
pub struct AuxInfo {
    /// File name.
    pub file: String,
    /// Rows.
    pub n_cpgs: usize,
    /// What it is.
    pub what: String,
    /// sha256 as stored.
    pub sha256: String,
}

/// The registry: bundled models, then user models.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// Every model, in order (bundled first, as in `clocks.tsv`).
    pub models: Vec<ModelInfo>,
}

pub use crate::core::checksum::sha256_hex;

fn manifest() -> HashMap<&'static str, &'static str> {
    let raw = EMBEDDED
        .iter()
        .find(|(n, _)| *n == "MANIFEST.sha256")
        .map(|(_, b)| *b);
    manifest_entries(std::str::from_utf8(raw.unwrap_or_default()).unwrap_or_default()).collect()
}

/// An embedded file after its sha256 check, gunzipped when it is stored compressed.
pub fn embedded(name: &str) -> Result<Vec<u8>, InputError> {
    embedded_from(EMBEDDED, BUNDLED, name)
}

impl Registry {
    /// The bundled models (index checked against the manifest).
    pub fn bundled() -> Result<Registry, InputError> {
        let index = embedded("clocks.tsv")?;
        let models = parse_index(
            &format!("{BUNDLED}/clocks.tsv"),
            &index,
            &Origin::Bundled,
            CLOCKS_ASSAY,
        )?;
        let man = manifest();
        for m in &models {
            if man.get(m.file.as_str()).copied() != Some(m.sha256.as_str()) {
                return Err(InputError::file(
                    &format!("{BUNDLED}/clocks.tsv"),
                    format!("sha256 of {} differs from MANIFEST.sha256", m.file),
                ));
            }
        }
        Ok(Registry { models })
    }

    /// The bundled exposure scores (`reference/scores/`; index and tables checked against its
    /// manifest), in the clocks' format.
    pub fn bundled_scores() -> Result<Registry, InputError> {
        let index = embedded_score("scores.tsv")?;
        let models = parse_index(
            &format!("{BUNDLED_SCORES}/scores.tsv"),
            &index,
            &Origin::Bundled,
            EXPOSURE_ASSAY,
        )?;
        Ok(Registry { models })
    }

    /// Adds the models of a user directory (`clocks.tsv` + tables). A name already taken is an
    /// error.
    pub fn add_models_dir(&mut self, dir: &Path) -> Result<(), InputError> {
        let index_path = dir.join("clocks.tsv");
        let shown = index_path.display().to_string();
        let bytes = std::fs::read(&index_path).map_err(|e| {
            InputError::file(
                &shown,
                match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        "no such file: a models directory needs a clocks.tsv index (see README, Epigenetic clocks)".to_string()
                    }
                    _ => format!("cannot read: {e}"),
                },
            )
        })?;
        let models = parse_index(
            &shown,
            &bytes,
            &Origin::Dir(dir.to_path_buf()),
            CLOCKS_ASSAY,
        )?;
        for m in models {
            if self.models.iter().any(|x| x.name == m.name) {
                return Err(InputError::file(
                    &shown,
                    format!(
                        "clock '{}' is already defined (bundled or earlier); pick another name",
                        m.name
                    ),
                ));
            }
            self.models.push(m);
        }
        Ok(())
    }

    /// The models named by `spec`: `all`, or names separated by commas, in the order given.
    pub fn select(&self, spec: &str) -> Result<Vec<ModelInfo>, crate::core::error::Error> {
        let spec = spec.trim();
        // `applicable` (agemark run's default) loads every model, `applicable:NAMES` those;
        // the run then keeps each sample's in-domain clocks (models::applicability).
        if spec.is_empty() || spec == "all" || spec == "applicable" {
            return Ok(self.models.clone());
        }
        let spec = spec.strip_prefix("applicable:").unwrap_or(spec);
        let mut out: Vec<ModelInfo> = Vec::new();
        for name in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if name == "all" {
                return Ok(self.models.clone());
            }
            match self.models.iter().find(|m| m.name == name) {
                Some(m) => {
                    if !out.iter().any(|o| o.name == m.name) {
                        out.push(m.clone());
                    }
                }
                None => {
                    let names: Vec<&str> = self.models.iter().map(|m| m.name.as_str()).collect();
                    return Err(crate::core::error::Error::usage(format!(
                        "--clocks: unknown clock '{name}'; available: {}",
                        names.join(", ")
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Loads a model's table (checking its sha256).
    pub fn load(&self, info: &ModelInfo) -> Result<ClockModel, InputError> {
        let (path, bytes) = match &info.origin {
            Origin::Bundled if info.assay == EXPOSURE_ASSAY => (
                format!("{BUNDLED_SCORES}/{}", info.file),
                embedded_score(&info.file)?,
            ),
            Origin::Bundled => (format!("{BUNDLED}/{}", info.file), embedded(&info.file)?),
            Origin::Dir(dir) => {
                let p = dir.join(&info.file);
                let shown = p.display().to_string();
                let raw = std::fs::read(&p).map_err(|e| {
                    InputError::file(
                        &shown,
                        match e.kind() {
                            std::io::ErrorKind::NotFound => "no such file".to_string(),
                            _ => format!("cannot read: {e}"),
                        },
                    )
                })?;
                if !info.sha256.is_empty() {
                    let got = sha256_hex(&raw);
                    if got != info.sha256 {
                        return Err(InputError::file(
                            &shown,
                            format!("sha256 {got} does not match clocks.tsv ({})", info.sha256),
                        ));
                    }
                }
                let d = gunzip_if_compressed(&shown, &raw)?;
                (shown, d)
            }
        };
        let (intercept, cpgs, coefs, ref_means) = parse_table(&path, &bytes, true)?;
        if let Some(n) = info.n_cpgs {
            if n != cpgs.len() {
                return Err(InputError::file(
                    &path,
                    format!("{} CpGs, but clocks.tsv says {n}", cpgs.len()),
                ));
            }
        }
        Ok(ClockModel {
            info: info.clone(),
            intercept: intercept.unwrap_or(0.0),
            cpgs,
            coefs,
            ref_means,
        })
    }
}

/// The DunedinPACE means tables (and their sha256), for `reference list`.
pub fn aux_tables() -> Vec<AuxInfo> {
    let man = manifest();
    [
        (
            DUNEDINPACE_GOLD,
            20_000,
            "DunedinPACE gold-standard means (quantile-normalisation target; reference means)",
        ),
        (
            DUNEDINPACE_MODEL_MEANS,
            173,
            "DunedinPACE training means of the model probes",
        ),
    ]
    .iter()
    .map(|(f, n, what)| AuxInfo {
        file: f.to_string(),
        n_cpgs: *n,
        what: what.to_string(),
        sha256: man.get(f).map(|s| s.to_string()).unwrap_or_default(),
    })
    .collect()
}

/// A two-column `cpg_id,value` table from the embedded files, in file order.
pub fn means_table(name: &str) -> Result<Vec<(String, f64)>, InputError> {
    let bytes = embedded(name)?;
    let (_, cpgs, vals, _) = parse_table(&format!("{BUNDLED}/{name}"), &bytes, false)?;
    Ok(cpgs.into_iter().zip(vals).collect())
}

/// A parsed coefficient table: intercept, CpG ids, weights, reference betas (empty without
/// that column).
type ParsedTable = (Option<f64>, Vec<String>, Vec<f64>, Vec<Option<f64>>);

/// Parses `cpg_id,value[,reference_beta]` CSV (header first). With `intercept`, the first data
/// row must be `(Intercept)`.
fn parse_table(path: &str, bytes: &[u8], intercept: bool) -> Result<ParsedTable, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|_| InputError::file(path, "not UTF-8 text"))?;
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(InputError::file(path, "empty file"));
    };
    let delim = if header.contains('\t') { '\t' } else { ',' };
    let width = if header
        .split(delim)
        .nth(2)
        .map(|c| c.trim().trim_matches('"'))
        == Some("reference_beta")
    {
        3
    } else {
        2
    };
    let mut refs: Vec<Option<f64>> = Vec::new();
    let mut icpt = None;
    let mut cpgs = Vec::new();
    let mut coefs = Vec::new();
    let mut seen: crate::methylation::source::FastMap<&str, u64> = Default::default();
    for (i, line) in lines {
        let row = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line
            .split(delim)
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        if cells.len() != width {
            return Err(InputError::row(
                path,
                row,
                format!(
                    "{} cells; expected {width} (cpg_id, coefficient{})",
                    cells.len(),
                    if width == 3 { ", reference_beta" } else { "" }
                ),
            ));
        }
        let v: f64 = cells[1]
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                InputError::cell(
                    path,
                    row,
                    "coefficient",
                    format!("not a number: '{}'", cells[1]),
                )
            })?;
        let is_icpt = cells[0].eq_ignore_ascii_case("(intercept)")
            || cells[0].eq_ignore_ascii_case("intercept");
        if intercept && cpgs.is_empty() && icpt.is_none() {
            if !is_icpt {
                return Err(InputError::row(
                    path,
                    row,
                    format!("the first row must be (Intercept), found '{}'", cells[0]),
                ));
            }
            icpt = Some(v);
            continue;
        }
        if is_icpt || cells[0].is_empty() {
            return Err(InputError::cell(
                path,
                row,
                "cpg_id",
                format!("'{}' is not a CpG id", cells[0]),
            ));
        }
        if let Some(first) = seen.insert(cells[0], row) {
            return Err(InputError::cell(
                path,
                row,
                "cpg_id",
                format!("duplicate CpG '{}' (first at row {first})", cells[0]),
            ));
        }
        cpgs.push(cells[0].to_string());
        coefs.push(v);
        if width == 3 {
            let r =
                match cells[2] {
                    "" | "NA" => None,
                    t => Some(t.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(
                        || {
                            InputError::cell(
                                path,
                                row,
                                "reference_beta",
                                format!("not a number: '{t}'"),
                            )
                        },
                    )?),
                };
            refs.push(r);
        }
    }
    if cpgs.is_empty() {
        return Err(InputError::file(path, "no CpG rows"));
    }
    Ok((icpt, cpgs, coefs, refs))
}

/// Reported unit and factor for a model unit: gestational days become weeks.
fn reported_unit(model_unit: &str) -> (String, f64) {
    match model_unit {
        "gestational_days" => ("gestational_weeks".to_string(), 1.0 / 7.0),
        u => (u.to_string(), 1.0),
    }
}

fn parse_index(
    path: &str,
    bytes: &[u8],
    origin: &Origin,
    assay: &'static str,
) -> Result<Vec<ModelInfo>, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|_| InputError::file(path, "not UTF-8 text"))?;
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(InputError::file(path, "empty file"));
    };
    let names: Vec<&str> = header.split('\t').map(str::trim).collect();
    let col = |n: &str| names.iter().position(|c| *c == n);
    let need = |n: &str| {
        col(n).ok_or_else(|| {
            InputError::row(
                path,
                1,
                format!("no '{n}' column (columns are tab-separated)"),
            )
        })
    };
    let (c_clock, c_file, c_tr, c_mu) = (
        need("clock")?,
        need("file")?,
        need("transform")?,
        need("model_unit")?,
    );
    let mut out: Vec<ModelInfo> = Vec::new();
    for (i, line) in lines {
        let row = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        let get = |c: Option<usize>| {
            c.and_then(|c| cells.get(c))
                .copied()
                .unwrap_or("")
                .to_string()
        };
        let name = get(Some(c_clock));
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(InputError::cell(
                path,
                row,
                "clock",
                format!("'{name}' is not a valid clock name (letters, digits, _ - .)"),
            ));
        }
        if out.iter().any(|m| m.name == name) {
            return Err(InputError::cell(
                path,
                row,
                "clock",
                format!("duplicate clock '{name}'"),
            ));
        }
        let tr_text = get(Some(c_tr));
        let transform = Transform::parse(&tr_text).ok_or_else(|| {
            InputError::cell(
                path,
                row,
                "transform",
                format!(
                    "unknown transform '{tr_text}' (known: {})",
                    Transform::KEYWORDS.join(", ")
                ),
            )
        })?;
        if transform == Transform::DunedinPace && *origin != Origin::Bundled {
            return Err(InputError::cell(
                path,
                row,
                "transform",
                "the dunedinpace transform is available to the bundled DunedinPACE model only",
            ));
        }
        let model_unit = get(Some(c_mu));
        if model_unit.is_empty() {
            return Err(InputError::cell(path, row, "model_unit", "empty unit"));
        }
        let (unit, scale) = reported_unit(&model_unit);
        let given_unit = get(col("unit"));
        if !given_unit.is_empty() && given_unit != unit {
            return Err(InputError::cell(
                path,
                row,
                "unit",
                format!("'{given_unit}' but a model in {model_unit} is reported in {unit}"),
            ));
        }
        let n_cpgs = match get(col("n_cpgs")) {
            s if s.is_empty() => None,
            s => Some(s.parse::<usize>().map_err(|_| {
                InputError::cell(path, row, "n_cpgs", format!("not a count: '{s}'"))
            })?),
        };
        let file = get(Some(c_file));
        if file.is_empty() || file.contains('/') || file.contains('\\') {
            return Err(InputError::cell(
                path,
                row,
                "file",
                format!("'{file}' is not a file name in the directory"),
            ));
        }
        out.push(ModelInfo {
            name,
            file,
            n_cpgs,
            transform,
            model_unit,
            unit,
            scale,
            citation: get(col("citation")),
            doi: get(col("doi")),
            licence: get(col("licence")),
            use_terms: get(col("use_terms")),
            source: get(col("source")),
            sha256: get(col("sha256")).to_lowercase(),
            origin: origin.clone(),
            assay,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_registry_has_the_20_clocks_and_loads_each() {
        let r = Registry::bundled().unwrap();
        let names: Vec<&str> = r.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names.len(), 20);
        assert!(!names.contains(&"bohlin2016_ga_biolearn251"));
        for m in &r.models {
            let c = r.load(m).unwrap();
            assert_eq!(Some(c.cpgs.len()), m.n_cpgs, "{}", m.name);
        }
        let tl = r
            .load(r.models.iter().find(|m| m.name == "lu2019_dnamtl").unwrap())
            .unwrap();
        assert_eq!(tl.intercept, 7.924780053);
    }

    #[test]
    fn stored_tables_equal_their_source_checksums() {
        // The uncompressed bytes of every table equal the source table (clocks.tsv source_sha256).
        let index = String::from_utf8(embedded("clocks.tsv").unwrap()).unwrap();
        let mut lines = index.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let f = header.iter().position(|c| *c == "file").unwrap();
        let s = header.iter().position(|c| *c == "source_sha256").unwrap();
        for line in lines {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                sha256_hex(&embedded(cells[f]).unwrap()),
                cells[s],
                "{}",
                cells[f]
            );
        }
        let gold = means_table(DUNEDINPACE_GOLD).unwrap();
        assert_eq!(gold.len(), 20_000);
        assert_eq!(means_table(DUNEDINPACE_MODEL_MEANS).unwrap().len(), 173);
    }

    #[test]
    fn selection_by_name() {
        let r = Registry::bundled().unwrap();
        let s = r.select("knight2016_ga, horvath2013").unwrap();
        assert_eq!(s[0].name, "knight2016_ga");
        assert!(r
            .select("nope")
            .unwrap_err()
            .to_string()
            .contains("unknown clock 'nope'"));
        let b = r.models.iter().find(|m| m.name == "bohlin2016_ga").unwrap();
        assert_eq!(b.unit, "gestational_weeks");
        assert_eq!(b.scale, 1.0 / 7.0);
    }
}
