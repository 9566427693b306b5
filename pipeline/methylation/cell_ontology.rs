//! One cell-type vocabulary across panels: each panel's own cell-type name mapped to a Cell
//! Ontology term (Diehl AD et al. 2016, "The Cell Ontology 2016: enhanced content,
//! modularization, and ontology interoperability", J Biomed Semantics 7:44,
//! doi 10.1186/s13326-016-0088-7) and one short canonical label, which the cell-type rows use
//! as their `measure` (the panel's own name stays in `method`).
//!
//! The table is `reference/celltypes/cell_types.tsv` (`panel_label`, `label`, `cl_id`,
//! `cl_name`, `note`). Two names get the same label only when they name the same sorted cell
//! population: `Bcell`, `B` and `b_cell` are all B cells (CL:0000236). Granulocytes
//! (CL:0000094; the cord-blood panels sort neutrophils, eosinophils and basophils together) are
//! NOT equated with neutrophils (CL:0000775; the adult panels sort them apart, EpiDISH also
//! eosinophils), so a mother's `neutrophil` and her child's `granulocyte` are different
//! measures and are not paired in `cohort.dyads.tsv`.

use crate::core::embedded;
use std::sync::OnceLock;

use super::{bundled::embedded_from, InputError};

const BUNDLED: &str = "reference/celltypes (embedded)";

static EMBEDDED: &[(&str, &[u8])] =
    embedded::files!(embedded::CELLTYPES; "cell_types.tsv", "MANIFEST.sha256");

/// One entry of the vocabulary.
#[derive(Clone, Debug, PartialEq)]
pub struct CellType {
    /// The name a panel uses (`Gran`, `Bcell`, …).
    pub panel_label: String,
    /// The canonical label (`granulocyte`, `b_cell`, …), the rows' `measure`.
    pub label: String,
    /// The Cell Ontology term (`CL:0000094`).
    pub cl_id: String,
    /// The term's name.
    pub cl_name: String,
    /// How it pairs with other panels' cell types, where that needs saying.
    pub note: String,
}

/// The vocabulary, read once (sha256-checked).
pub fn vocabulary() -> Result<&'static [CellType], InputError> {
    static CELL: OnceLock<Result<Vec<CellType>, InputError>> = OnceLock::new();
    CELL.get_or_init(|| {
        let bytes = embedded_from(EMBEDDED, BUNDLED, "cell_types.tsv")?;
        let text = String::from_utf8(bytes)
            .map_err(|_| InputError::file("reference/celltypes/cell_types.tsv", "not UTF-8"))?;
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 5 {
                return Err(InputError::row(
                    "reference/celltypes/cell_types.tsv",
                    i as u64 + 1,
                    "expected 5 tab-separated fields",
                ));
            }
            out.push(CellType {
                panel_label: f[0].to_string(),
                label: f[1].to_string(),
                cl_id: f[2].to_string(),
                cl_name: f[3].to_string(),
                note: f[4].to_string(),
            });
        }
        Ok(out)
    })
    .as_ref()
    .map(Vec::as_slice)
    .map_err(Clone::clone)
}

/// The entry of a panel's cell-type name; `None` when the vocabulary does not know it.
pub fn lookup(panel_label: &str) -> Option<&'static CellType> {
    vocabulary()
        .ok()?
        .iter()
        .find(|c| c.panel_label == panel_label)
}

/// The canonical label of a panel's cell-type name (the name itself when unknown).
pub fn label(panel_label: &str) -> String {
    lookup(panel_label).map_or_else(|| panel_label.to_string(), |c| c.label.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_population_same_label_granulocytes_are_not_neutrophils() {
        assert_eq!(label("Bcell"), "b_cell");
        assert_eq!(label("B"), "b_cell");
        assert_eq!(label("MO"), label("Mono"));
        assert_eq!(label("CD4T"), label("cd4_t_cell"));
        assert_eq!(label("Gran"), "granulocyte");
        assert_eq!(label("Neutro"), "neutrophil");
        assert_ne!(label("Gran"), label("neutrophil"));
        assert_eq!(lookup("Gran").unwrap().cl_id, "CL:0000094");
    }
}
