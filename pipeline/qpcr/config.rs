//! The qPCR assay config: one small text file per assay set, so a cohort's plates are
//! processed the same way every time (`agemark qpcr --config FILE`, `agemark run --qpcr FILE`).
//!
//! One `key = value` per line; `#` starts a comment; keys marked (repeatable) may appear more
//! than once. Paths are relative to the config file's folder.
//!
//! | key | value | default |
//! |---|---|---|
//! | `plate` (repeatable) | a plate export (RDML, CFX, ABI, LightCycler 480, plain table) | — |
//! | `plate_map` | well → sample CSV/TSV | none |
//! | `role` (repeatable) | `NAME=telomere`, `NAME=single_copy` or `NAME=mtdna` | — (one `single_copy` needed) |
//! | `calibrator` | the sample every plate's quantities are relative to, without a standard curve | none |
//! | `inter_run_calibrator` (repeatable) | a sample run on every plate (Hellemans 2007) | none (RDML's flag adds) |
//! | `efficiency` (repeatable) | `TARGET=E`, E a fraction (1 = 100 %), for the calibrator path | 1 |
//! | `max_cq` | Cq above this = no amplification | 35 |
//! | `max_sd` | replicate SD (cycles) above this warns; the triplicate rule | 0.3 |
//! | `efficiency_range` | `MIN-MAX` as fractions, outside warns | 0.9-1.1 |
//! | `min_r2` | standard curves below warn | 0.98 |
//! | `absolute` | `true`: telomere standards in kb per reaction, single-copy standards in copies per reaction → `telomere_length_kb` | false |
//!
//! ```text
//! # cord-blood T/S, telomere and 36B4 on separate plates, a pooled DNA on every plate
//! plate = plates/run1_tel.csv
//! plate = plates/run1_36b4.csv
//! role = TEL=telomere
//! role = 36B4=single_copy
//! inter_run_calibrator = POOL
//! ```

use std::path::{Path, PathBuf};

use super::{QpcrOptions, Role};
use crate::methylation::InputError;

/// A parsed config: the plates, the plate map and the options.
#[derive(Clone, Debug, Default)]
pub struct QpcrConfig {
    /// Plate exports (resolved against the config's folder).
    pub plates: Vec<PathBuf>,
    /// Plate map.
    pub plate_map: Option<PathBuf>,
    /// Options.
    pub options: QpcrOptions,
}

/// Parses `NAME=telomere|single_copy|mtdna`.
pub fn parse_role(spec: &str) -> Result<(String, Role), String> {
    let (name, role) = spec
        .rsplit_once('=')
        .ok_or_else(|| format!("'{spec}': give NAME=telomere|single_copy|mtdna"))?;
    let r = Role::parse(role.trim())
        .ok_or_else(|| format!("'{spec}': '{role}' is not telomere, single_copy or mtdna"))?;
    if name.trim().is_empty() {
        return Err(format!("'{spec}': no target name before '='"));
    }
    Ok((name.trim().to_string(), r))
}

/// Parses `TARGET=E` (E a fraction between 0.5 and 1.5).
pub fn parse_efficiency(spec: &str) -> Result<(String, f64), String> {
    spec.rsplit_once('=')
        .and_then(|(t, v)| Some((t.trim().to_string(), v.trim().parse::<f64>().ok()?)))
        .filter(|(t, v)| !t.is_empty() && (0.5..=1.5).contains(v))
        .ok_or_else(|| {
            format!("'{spec}': give TARGET=E with E a fraction between 0.5 and 1.5 (1 = 100 %)")
        })
}

impl QpcrConfig {
    /// Reads a config file.
    pub fn read(path: &Path) -> Result<QpcrConfig, InputError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::file(&shown, format!("cannot read: {e}")))?;
        let base = path.parent().unwrap_or(Path::new(""));
        Self::parse(&shown, base, &text)
    }

    /// Parses a config's text; paths resolve against `base`.
    pub fn parse(shown: &str, base: &Path, text: &str) -> Result<QpcrConfig, InputError> {
        let mut c = QpcrConfig::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let row = i as u64 + 1;
            let (key, value) = line
                .split_once('=')
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| {
                    InputError::row(shown, row, format!("'{line}': give key = value"))
                })?;
            let bad = |m: String| InputError::cell(shown, row, key, m);
            let num = |v: &str| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(format!("'{v}' is not a number")))
            };
            let o = &mut c.options;
            match key {
                "plate" => c.plates.push(base.join(value)),
                "plate_map" => c.plate_map = Some(base.join(value)),
                "role" => {
                    let (n, r) = parse_role(value).map_err(&bad)?;
                    if let Some(old) = o.roles.insert(n.clone(), r) {
                        if old != r {
                            return Err(bad(format!(
                                "{n} already has the role {}: one role per target",
                                old.name()
                            )));
                        }
                    }
                }
                "calibrator" => o.calibrator = Some(value.to_string()),
                "inter_run_calibrator" => {
                    o.inter_run_calibrators.insert(value.to_string());
                }
                "efficiency" => {
                    let (t, e) = parse_efficiency(value).map_err(&bad)?;
                    o.efficiency.insert(t, e);
                }
                "max_cq" => o.max_cq = num(value)?,
                "max_sd" => o.max_sd = num(value)?,
                "min_r2" => o.min_r2 = num(value)?,
                "efficiency_range" => {
                    let (a, b) = value
                        .split_once('-')
                        .ok_or_else(|| bad(format!("'{value}': give MIN-MAX, e.g. 0.9-1.1")))?;
                    o.min_efficiency = num(a.trim())?;
                    o.max_efficiency = num(b.trim())?;
                }
                "absolute" => {
                    o.absolute = match value {
                        "true" | "yes" => true,
                        "false" | "no" => false,
                        v => return Err(bad(format!("'{v}': give true or false"))),
                    }
                }
                k => {
                    return Err(InputError::cell(
                        shown,
                        row,
                        k,
                        "unknown key (plate, plate_map, role, calibrator, inter_run_calibrator, efficiency, max_cq, max_sd, efficiency_range, min_r2, absolute)",
                    ))
                }
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_gives_plates_roles_and_thresholds_and_names_its_bad_lines() {
        let c = QpcrConfig::parse(
            "a.conf",
            Path::new("/data"),
            "# x\nplate = p1.csv\nplate = p2.rdml\nrole = TEL=telomere\nrole = 36B4 = single_copy\ninter_run_calibrator = POOL\nmax_cq = 33\nefficiency_range = 0.85-1.15\nabsolute = true\n",
        )
        .unwrap();
        assert_eq!(
            c.plates,
            [
                PathBuf::from("/data/p1.csv"),
                PathBuf::from("/data/p2.rdml")
            ]
        );
        assert_eq!(c.options.roles["36B4"], Role::SingleCopy);
        assert!(c.options.inter_run_calibrators.contains("POOL"));
        assert_eq!((c.options.max_cq, c.options.min_efficiency), (33.0, 0.85));
        assert!(c.options.absolute);
        let e = QpcrConfig::parse(
            "a.conf",
            Path::new(""),
            "role = TEL=telomere\ncolour = red\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("a.conf") && e.contains("2") && e.contains("colour"),
            "{e}"
        );
        let e = QpcrConfig::parse("a.conf", Path::new(""), "max_cq = lots\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lots"), "{e}");
    }
}
