//! `agemark reference list`: every bundled model and reference table, checksums verified.

use std::io::Write;

use agemark::methylation::models::registry::{aux_tables, embedded, Origin};

use super::{clocks::registry, AppError};
use crate::cli::{ReferenceArgs, ReferenceCommand};

/// Columns of `reference list`.
pub const COLUMNS: [&str; 12] = [
    "name",
    "kind",
    "n_cpgs",
    "unit",
    "transform",
    "citation",
    "doi",
    "licence",
    "use_terms",
    "file",
    "sha256",
    "origin",
];

/// `agemark reference`.
pub fn run(args: &ReferenceArgs) -> Result<(), AppError> {
    match &args.command {
        ReferenceCommand::List(a) => {
            let reg = registry(a.models_dir.as_deref())?;
            let mut lines = vec![COLUMNS.join("\t")];
            for m in &reg.models {
                // Loading checks the sha256 and counts the CpGs.
                let model = reg.load(m)?;
                let origin = match &m.origin {
                    Origin::Bundled => "bundled".to_string(),
                    Origin::Dir(d) => d.display().to_string(),
                };
                lines.push(
                    [
                        m.name.clone(),
                        "clock".into(),
                        model.cpgs.len().to_string(),
                        m.unit.clone(),
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
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for l in lines {
                let _ = writeln!(out, "{}", l.replace(['\n', '\r'], " "));
            }
            Ok(())
        }
    }
}
