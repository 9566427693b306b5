//! `agemark reference list`: every bundled model, cell-type panel and reference table, with
//! where each applies, checksums verified (each table is loaded, which checks its sha256).

use std::path::Path;

use super::registry;
use crate::{
    core::error::Error,
    methylation::{
        celltypes,
        models::{
            applicability,
            registry::{aux_tables, embedded, Origin},
        },
        nr3c1,
    },
};

/// Columns of `reference list`.
pub const COLUMNS: [&str; 14] = [
    "name",
    "kind",
    "n_cpgs",
    "unit",
    "applies_to",
    "trained_on",
    "transform",
    "citation",
    "doi",
    "licence",
    "use_terms",
    "file",
    "sha256",
    "origin",
];

/// The rows of `agemark reference list` (tab-joined, header first), with the models of
/// `models_dir` after the bundled ones.
pub fn reference_list(
    models_dir: Option<&Path>,
    data_dir: Option<&Path>,
) -> Result<Vec<String>, Error> {
    let reg = registry(models_dir)?;
    let scores = crate::methylation::models::registry::Registry::bundled_scores()?;
    let mut lines = vec![COLUMNS.join("\t")];
    let both: Vec<(
        &crate::methylation::models::registry::Registry,
        &crate::methylation::models::registry::ModelInfo,
    )> = reg
        .models
        .iter()
        .map(|m| (&reg, m))
        .chain(scores.models.iter().map(|m| (&scores, m)))
        .collect();
    for (reg, m) in both {
        // Loading checks the sha256 and counts the CpGs.
        let model = reg.load(m)?;
        let (applies, trained) = match applicability::domain_of(&m.name)? {
            Some(d) => (
                format!(
                    "{}; {}-{} {}",
                    d.sample_types.join(","),
                    d.age_min,
                    d.age_max,
                    d.age_unit.as_str()
                ),
                d.trained_on.clone(),
            ),
            None => (
                "any (no domain declared: a user model)".to_string(),
                String::new(),
            ),
        };
        let origin = match &m.origin {
            Origin::Bundled => "bundled".to_string(),
            Origin::Dir(d) => d.display().to_string(),
        };
        lines.push(
            [
                m.name.clone(),
                if m.assay == crate::methylation::models::registry::EXPOSURE_ASSAY {
                    "exposure_score".into()
                } else {
                    "clock".into()
                },
                model.cpgs.len().to_string(),
                m.unit.clone(),
                applies.clone(),
                trained.clone(),
                m.transform.keyword().into(),
                m.citation.clone(),
                m.doi.clone(),
                m.licence.clone(),
                if m.use_terms.is_empty() {
                    "none stated".into()
                } else {
                    m.use_terms.clone()
                },
                m.file.clone(),
                m.sha256.clone(),
                origin,
            ]
            .join("\t"),
        );
    }
    let reg = registry(models_dir)?;
    let pace = reg.models.iter().find(|m| m.name == "dunedinpace2022");
    for aux in aux_tables() {
        embedded(&aux.file)?;
        lines.push(
            [
                aux.file
                    .trim_end_matches(".gz")
                    .trim_end_matches(".csv")
                    .to_string(),
                "reference".into(),
                aux.n_cpgs.to_string(),
                "beta".into(),
                "".into(),
                "".into(),
                "".into(),
                format!("{} (used by dunedinpace2022)", aux.what),
                pace.map(|p| p.doi.clone()).unwrap_or_default(),
                pace.map(|p| p.licence.clone()).unwrap_or_default(),
                pace.map(|p| p.use_terms.clone()).unwrap_or_default(),
                aux.file.clone(),
                aux.sha256.clone(),
                "bundled".into(),
            ]
            .join("\t"),
        );
    }
    for info in celltypes::panels()? {
        // Loading checks the sha256 and the shape.
        let panel = celltypes::load_panel(&info)?;
        lines.push(
            [
                info.name.clone(),
                "celltype_panel".into(),
                panel.cpgs.len().to_string(),
                celltypes::UNIT.into(),
                crate::cohort::samplesheet::SAMPLE_TYPES
                    .iter()
                    .filter(|t| celltypes::panels_for(t).contains(&info.name.as_str()))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(","),
                info.tissue.clone(),
                format!(
                    "houseman2012_projection ({}: {})",
                    info.tissue,
                    info.cell_types.join(",")
                ),
                if info.aliases.is_empty() {
                    info.citation.clone()
                } else {
                    format!(
                        "{} [--panel alias: {}]",
                        info.citation,
                        info.aliases.join(", ")
                    )
                },
                info.doi.clone(),
                info.licence.clone(),
                "none stated".into(),
                info.file.clone(),
                info.sha256.clone(),
                "bundled".into(),
            ]
            .join("\t"),
        );
    }
    // Array manifests: bundled (loading checks them), then installed.
    use crate::methylation::array::{install, manifest};
    for (p, file, source) in [
        (
            manifest::Platform::Hm27,
            "reference/arrays/HM27.ordering.tsv.gz",
            "sesame InfiniumAnnotation HM27 (zhou-lab @ e91f9e99)",
        ),
        (
            manifest::Platform::Hm450,
            "reference/arrays/hm450_manifest_probes.csv.gz",
            "Illumina HumanMethylation450 v1.2 (via MethylGenotyper @ 95e396db)",
        ),
        (
            manifest::Platform::Msa,
            "reference/arrays/MSA.ordering.tsv.gz",
            "sesame InfiniumAnnotation MSA (zhou-lab @ e91f9e99)",
        ),
    ] {
        let m = manifest::bundled(p).ok_or_else(|| Error::usage("no bundled manifest"))??;
        lines.push(
            [
                format!("{}_manifest", p.name()),
                "array_manifest".into(),
                m.probes.len().to_string(),
                "".into(),
                p.name().into(),
                format!("{} controls", m.controls.len()),
                "".into(),
                source.into(),
                "".into(),
                "Illumina manifest content (see reference/arrays/PROVENANCE.md)".into(),
                "none stated".into(),
                file.into(),
                "see reference/arrays/MANIFEST.sha256".into(),
                "bundled".into(),
            ]
            .join("\t"),
        );
    }
    let dir = install::data_dir(data_dir);
    for (p, record) in install::installed_list(&dir) {
        let counts = record
            .lines()
            .find(|l| l.starts_with('#'))
            .unwrap_or("")
            .trim_start_matches("# ")
            .to_string();
        let files: Vec<String> = record
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                format!(
                    "{} (sha256 {}; {})",
                    f[0],
                    f.get(1).unwrap_or(&""),
                    f.get(2).unwrap_or(&"")
                )
            })
            .collect();
        lines.push(
            [
                format!("{}_manifest", p.name()),
                "array_manifest".into(),
                counts.split(' ').next().unwrap_or("").to_string(),
                "".into(),
                p.name().into(),
                counts.clone(),
                "".into(),
                files.join("; "),
                "".into(),
                "Illumina manifest content, installed by the user".into(),
                "none stated".into(),
                dir.join("manifests")
                    .join(format!("{}.manifest.tsv.gz", p.name()))
                    .display()
                    .to_string(),
                files.first().cloned().unwrap_or_default(),
                "installed".into(),
            ]
            .join("\t"),
        );
    }
    let probes = nr3c1::probes()?;
    lines.push(
[
    "nr3c1_probes".to_string(),
    "probe_table".into(),
    probes.len().to_string(),
    "beta".into(),
    "".into(),
    "".into(),
    "per-probe betas; promoter_cgi and approximate exon1F region means".into(),
    "NR3C1 probes, hg19 (Illumina 450K annotation) and hg38 (= hg19 + 620,435) positions; see reference/nr3c1/PROVENANCE.md".into(),
    "".into(),
    "positions from Illumina manifests (IlluminaHumanMethylation450kanno.ilmn12.hg19, Artistic-2.0; InfiniumAnnotation)".into(),
    "none stated".into(),
    nr3c1::PROBES_FILE.into(),
    nr3c1::probes_sha256(),
    "bundled".into(),
]
.join("\t"),
    );
    Ok(lines)
}
