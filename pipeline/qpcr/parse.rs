//! qPCR exports → [`Reaction`]s, the format recognised from the content:
//!
//! * **RDML 1.0–1.3** (zipped or plain XML): [`super::rdml`].
//! * **Bio-Rad CFX "Quantification Cq Results"** (CSV): a header row holding `Well`, `Fluor`,
//!   `Content` and `Cq` (a blank first column is common). `Content` `Std-NN` is a standard,
//!   `NTC`/`Neg Ctrl` a no-template control, anything else (`Unkn-NN`, `Sample`) an unknown;
//!   `Cq` `NaN` = no amplification; a standard's quantity is `Starting Quantity (SQ)` (the SQ of
//!   unknowns is the instrument's own computation and is ignored). The target is `Target`, or
//!   the `Fluor` when `Target` is empty.
//! * **Applied Biosystems SDS 2.x / 7500 / StepOne / QuantStudio** results text (tab or
//!   comma): a header block (`SDS 2.1 RQ Results`, `* Block Type = …`, `[Results]`) before the
//!   table, whose header holds `Well` (or `Well Position`, preferred when both), `Sample Name`
//!   (or `Sample`), `Target Name` (or `Detector`), `Task` (`UNKNOWN`, `STANDARD`, `NTC`;
//!   SDS's `Target`/`Endogenous Control` are unknowns), `Ct`/`CT`/`Cт` (`Undetermined` = no
//!   Cq) and `Quantity`; `Omit` `true` excludes a well. A plate-ID or file-name column
//!   (`PlateID`, `Filename`) splits a file holding several plates.
//! * **Roche LightCycler 480** "Abs Quant" text: `Include`, `Pos`, `Name`, `Cp`,
//!   `Concentration`, `Standard` (a number there makes the well a standard of that
//!   quantity); `Include` `False` excludes a well. Without a target column the file holds one
//!   target, named by the file's stem (`--role tel_run3=telomere` for `tel_run3.txt`). A raw
//!   fluorescence export (`SamplePos`,
//!   `Cycle#`, no Cp) is refused with what to export instead.
//! * **A plain Cq table** (CSV, TSV or whitespace-separated): columns `well`, `sample`,
//!   `target` (or `detector`), `cq` (or `ct`), optional `content` (`standard`/`std`, `ntc`,
//!   else unknown), `quantity` and `plate`; any case.
//!
//! The table ends at the first blank line or `[Section]` line after it (QuantStudio and SDS
//! append other sections). Excel workbooks and ABI `.eds` files are refused with what to
//! export instead.
//!
//! A **plate map** (`--plate-map`: CSV or TSV with `well` and `sample`, optional `plate` to
//! name one plate's wells, optional `content` and `quantity`) names or overrides wells, for
//! exports without usable sample names.
//!
//! Errors name the file, the row and the column.

use std::path::Path;

use super::{rdml, unzip, Content, Reaction};
use crate::methylation::InputError;

fn split(line: &str, sep: Option<char>) -> Vec<String> {
    match sep {
        Some(c) => line
            .split(c)
            .map(|s| s.trim().trim_matches('"').to_string())
            .collect(),
        None => line.split_whitespace().map(str::to_string).collect(),
    }
}

fn parse_cq(path: &str, row: u64, col: &str, s: &str) -> Result<Option<f64>, InputError> {
    let t = s.trim();
    if t.is_empty()
        || t.eq_ignore_ascii_case("nan")
        || t.eq_ignore_ascii_case("undetermined")
        || t == "-"
        || t.eq_ignore_ascii_case("n/a")
    {
        return Ok(None);
    }
    let v = t
        .replace(',', ".")
        .parse::<f64>()
        .map_err(|_| InputError::cell(path, row, col, format!("'{t}' is not a number")))?;
    // Zero, negative (RDML's −1 = not available) and infinite values are no value.
    Ok(v.is_finite().then_some(v).filter(|x| *x > 0.0))
}

/// Reads one plate export (any format above); plates are named by the file's base name.
pub fn read_plate(path: &Path) -> Result<Vec<Reaction>, InputError> {
    let shown = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| InputError::file(&shown, format!("cannot read: {e}")))?;
    let plate = path
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    parse_bytes(&shown, &plate, &bytes)
}

/// Parses the bytes of one plate export, recognising its format.
pub fn parse_bytes(path: &str, plate: &str, bytes: &[u8]) -> Result<Vec<Reaction>, InputError> {
    if unzip::is_zip(bytes) {
        let names = unzip::names(path, bytes)?;
        if names.iter().any(|n| n.starts_with("apldbio/")) {
            return Err(InputError::file(
                path,
                "an Applied Biosystems .eds experiment file: export the results as text (File > Export > Results) or as RDML",
            ));
        }
        if names.iter().any(|n| n.starts_with("xl/")) {
            return Err(InputError::file(
                path,
                "an Excel workbook: save the results sheet as CSV or export RDML",
            ));
        }
        let xml = rdml::document(path, bytes)?;
        return rdml::parse(path, plate, &xml);
    }
    // The OLE2 compound-file signature: an Excel 97–2003 workbook (.xls), as older SDS and
    // StepOne software saves results.
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(InputError::file(
            path,
            "an old Excel workbook (.xls, binary): save the results sheet as CSV or tab-separated text, or export RDML",
        ));
    }
    if rdml::looks_like(bytes) {
        return rdml::parse(path, plate, &String::from_utf8_lossy(bytes));
    }
    parse_plate(path, plate, &String::from_utf8_lossy(bytes))
}

fn sep_of(line: &str) -> Option<char> {
    if line.contains('\t') {
        Some('\t')
    } else if line.contains(',') {
        Some(',')
    } else {
        None
    }
}

/// Parses the text of one plate export (CFX, ABI, LightCycler 480 or a plain table).
pub fn parse_plate(path: &str, plate: &str, text: &str) -> Result<Vec<Reaction>, InputError> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches('\r').trim_start_matches('\u{feff}'))
        .collect();
    const WELL: &[&str] = &["well", "well position", "pos"];
    const CQ: &[&str] = &["cq", "ct", "cт", "cp"];
    // The header: the first line naming a well column and a Cq/Ct/Cp column.
    let header = lines.iter().enumerate().find_map(|(i, l)| {
        let sep = sep_of(l);
        let cells = split(&l.to_lowercase(), sep);
        let has = |n: &[&str]| cells.iter().any(|c| n.contains(&c.as_str()));
        (has(WELL) && has(CQ)).then_some((i, sep))
    });
    let Some((hi, sep)) = header else {
        let raw = lines.iter().take(5).any(|l| {
            let low = l.to_lowercase();
            low.contains("samplepos") && low.contains("cycle")
        });
        return Err(InputError::file(
            path,
            if raw {
                "raw fluorescence per cycle (a LightCycler 480 'Raw Data' export): agemark reads Cq values; export the Abs Quant / 2nd Derivative Max results (Pos, Name, Cp) or RDML".to_string()
            } else {
                "no header row with a Well and a Cq (or Ct, Cp) column: not a qPCR export agemark reads (RDML, CFX Quantification Cq Results, ABI SDS/QuantStudio results, LightCycler 480 Abs Quant, or a plain well/sample/target/cq table)".to_string()
            },
        ));
    };
    let head: Vec<String> = split(lines[hi], sep);
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| head.iter().position(|h| h.eq_ignore_ascii_case(n)))
    };
    let well_c = find(&["well position", "well", "pos"])
        .ok_or_else(|| InputError::row(path, hi as u64 + 1, "no Well column"))?;
    let cq_c = find(CQ).ok_or_else(|| InputError::row(path, hi as u64 + 1, "no Cq column"))?;
    let cfx = find(&["fluor"]).is_some() && find(&["content"]).is_some();
    let sample_c = find(&["sample name", "sample", "sample_id", "name"]);
    let target_c = find(&["target name", "target", "detector", "gene"]);
    let fluor_c = find(&["fluor", "reporter", "filt. comb."]);
    let content_c = find(&["content", "task"]);
    let qty_c = find(&["starting quantity (sq)", "quantity", "sq"]);
    // LightCycler 480: a number in `Standard` makes the well a standard of that quantity.
    let lc_std_c = find(&["standard"]);
    let omit_c = find(&["omit"]);
    let include_c = find(&["include"]);
    // Plate columns: the first one filled on a row names that row's plate.
    let plate_cs: Vec<usize> = ["plate", "plateid", "plate id", "filename"]
        .iter()
        .filter_map(|n| find(&[n]))
        .collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(hi + 1) {
        let row = i as u64 + 1;
        // The table ends at a blank line or the next `[Section]`.
        if line.trim().is_empty() || line.trim_start().starts_with('[') {
            break;
        }
        let cells = split(line, sep);
        let get = |c: Option<usize>| {
            c.and_then(|k| cells.get(k))
                .map(String::as_str)
                .unwrap_or("")
        };
        let well = get(Some(well_c)).to_string();
        if well.is_empty() {
            continue;
        }
        let content_s = get(content_c).to_lowercase();
        let lc_qty = match get(lc_std_c) {
            "" => None,
            v => parse_cq(path, row, "Standard", v)?,
        };
        let content = if content_s.starts_with("std")
            || content_s.starts_with("standard")
            || lc_qty.is_some()
        {
            Content::Standard
        } else if content_s == "ntc" || content_s.starts_with("neg") {
            Content::Ntc
        } else {
            Content::Unknown
        };
        let mut target = get(target_c).to_string();
        if target.is_empty() {
            target = get(fluor_c).to_string();
        }
        if target_c.is_none() && fluor_c.is_none() {
            // LightCycler 480 Abs Quant names no target: one target per file, its stem.
            target = Path::new(plate)
                .file_stem()
                .map_or_else(|| plate.to_string(), |s| s.to_string_lossy().into_owned());
        }
        if target.is_empty() {
            return Err(InputError::cell(
                path,
                row,
                "Target",
                "no target (and no fluorophore) for this well",
            ));
        }
        // An unknown well without a sample name is named by a plate map (checked after it).
        let sample = get(sample_c).to_string();
        let quantity = if content == Content::Standard {
            match lc_qty {
                Some(q) => Some(q),
                None => parse_cq(path, row, &head[qty_c.unwrap_or(cq_c)], get(qty_c))?,
            }
        } else {
            None
        };
        if content == Content::Standard && quantity.is_none() && !cfx {
            return Err(InputError::cell(
                path,
                row,
                "quantity",
                "a standard without a quantity",
            ));
        }
        let excluded = if get(omit_c).eq_ignore_ascii_case("true") {
            Some("omitted in the export (Omit = true)".to_string())
        } else if get(include_c).eq_ignore_ascii_case("false") {
            Some("not included in the export (Include = False)".to_string())
        } else {
            None
        };
        let plate = match plate_cs
            .iter()
            .map(|&c| get(Some(c)))
            .find(|p| !p.is_empty())
        {
            None => plate.to_string(),
            Some(p) => format!("{plate}:{p}"),
        };
        out.push(Reaction {
            plate,
            well,
            sample,
            target,
            content,
            cq: parse_cq(path, row, &head[cq_c], get(Some(cq_c)))?,
            quantity,
            excluded,
            inter_run_calibrator: false,
        });
    }
    if out.is_empty() {
        return Err(InputError::file(path, "no wells after the header"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfx_export_with_empty_targets_uses_the_fluorophore() {
        let text = ",Well,Fluor,Target,Content,Sample,Biological Set Name,Cq,Cq Mean,Cq Std. Dev,Starting Quantity (SQ)\n\
                    ,A01,SYBR,,Std-01,,,12.50,12.5,0,100\n\
                    ,A02,SYBR,,Unkn-01,S1,,18.20,18.2,0,3.2\n\
                    ,A03,SYBR,,NTC,,,NaN,0,0,\n";
        let r = parse_plate("p.csv", "p.csv", text).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].content, Content::Standard);
        assert_eq!(r[0].quantity, Some(100.0));
        assert_eq!(r[1].target, "SYBR");
        // The instrument's SQ of an unknown is ignored.
        assert_eq!(r[1].quantity, None);
        assert_eq!(r[2].content, Content::Ntc);
        assert_eq!(r[2].cq, None);
    }

    #[test]
    fn mangled_exports_are_errors_or_reactions_never_panics() {
        // Property test: truncations, shifted header blocks, random byte edits of a valid CFX
        // export and of a plain table.
        let cfx = ",Well,Fluor,Target,Content,Sample,Cq,Starting Quantity (SQ)\n,A01,SYBR,,Std-01,,12.5,100\n,A02,SYBR,,Unkn-01,S1,18.2,\n,A03,SYBR,,NTC,,NaN,\n";
        let plain = "Well\tSample\tTarget\tCq\tContent\tQuantity\nA1\tS1\tT\t20.1\tunknown\t\nA2\tstd\tT\t15\tstandard\t10\n";
        let mut rng = crate::core::rng::SplitMix64(15);
        for base in [cfx, plain] {
            for i in 0..3000 {
                let mut b: Vec<u8> = base.as_bytes().to_vec();
                match i % 3 {
                    0 => b.truncate((rng.next() as usize) % (b.len() + 1)),
                    1 => {
                        let junk = "Run Info,x\n\nFile,plate\n";
                        b.splice(0..0, junk.bytes().take((rng.next() % 25) as usize));
                    }
                    _ => {
                        for _ in 0..1 + rng.next() % 6 {
                            let k = (rng.next() as usize) % b.len();
                            b[k] = b",\t\n.-NaAe9 x"[(rng.next() % 12) as usize];
                        }
                    }
                }
                let text = String::from_utf8_lossy(&b);
                let _ = parse_plate("p", "p", &text);
            }
        }
    }

    #[test]
    fn an_old_binary_excel_file_is_named_as_such() {
        let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        xls.extend_from_slice(&[0; 504]);
        let e = parse_bytes("run.xls", "run.xls", &xls)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("run.xls: an old Excel workbook (.xls"), "{e}");
    }

    #[test]
    fn errors_name_file_row_and_column() {
        let e =
            parse_plate("x.tsv", "x", "well\tsample\ttarget\tcq\nA1\tS1\tT\tabc\n").unwrap_err();
        assert!(
            e.to_string().contains("x.tsv") && e.to_string().contains("abc"),
            "{e}"
        );
        let e = parse_plate("y.txt", "y", "hello\nworld\n").unwrap_err();
        assert!(e.to_string().contains("no header row"), "{e}");
    }
}

/// One plate-map entry.
#[derive(Clone, Debug, PartialEq)]
pub struct MapEntry {
    /// The plate it applies to (`None`: every plate).
    pub plate: Option<String>,
    /// Well (`A1`, `A01`).
    pub well: String,
    /// Sample name.
    pub sample: String,
    /// Content, when given.
    pub content: Option<Content>,
    /// Standard quantity, when given.
    pub quantity: Option<f64>,
}

/// `A01` and `A1` are the same well.
pub fn normal_well(w: &str) -> String {
    let w = w.trim().to_uppercase();
    let (row, col): (String, String) = w.chars().partition(|c| c.is_ascii_alphabetic());
    match col.trim_start_matches('0') {
        "" => w,
        c => format!("{row}{c}"),
    }
}

/// Reads a plate map.
pub fn read_plate_map(path: &Path) -> Result<Vec<MapEntry>, InputError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::file(&shown, format!("cannot read: {e}")))?;
    let mut lines = text
        .lines()
        .map(|l| l.trim_end_matches('\r').trim_start_matches('\u{feff}'));
    let head_line = lines
        .next()
        .ok_or_else(|| InputError::file(&shown, "empty plate map"))?;
    let sep = if head_line.contains('\t') {
        Some('\t')
    } else {
        Some(',')
    };
    let head = split(head_line, sep);
    let find = |n: &str| head.iter().position(|h| h.eq_ignore_ascii_case(n));
    let well_c =
        find("well").ok_or_else(|| InputError::row(&shown, 1, "plate map has no well column"))?;
    let sample_c = find("sample")
        .or_else(|| find("sample_id"))
        .ok_or_else(|| InputError::row(&shown, 1, "plate map has no sample column"))?;
    let (plate_c, content_c, qty_c) = (find("plate"), find("content"), find("quantity"));
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let row = i as u64 + 2;
        if line.trim().is_empty() {
            continue;
        }
        let cells = split(line, sep);
        let get = |c: Option<usize>| {
            c.and_then(|k| cells.get(k))
                .map(String::as_str)
                .unwrap_or("")
        };
        let content = match get(content_c).to_lowercase().as_str() {
            "" => None,
            c if c.starts_with("std") || c.starts_with("standard") => Some(Content::Standard),
            "ntc" => Some(Content::Ntc),
            _ => Some(Content::Unknown),
        };
        out.push(MapEntry {
            plate: Some(get(plate_c).to_string()).filter(|p| !p.is_empty()),
            well: normal_well(get(Some(well_c))),
            sample: get(Some(sample_c)).to_string(),
            content,
            quantity: parse_cq(&shown, row, "quantity", get(qty_c))?,
        });
    }
    Ok(out)
}

/// Applies a plate map to `reactions` (an entry for a plate beats one for every plate).
pub fn apply_plate_map(reactions: &mut [Reaction], map: &[MapEntry]) {
    for r in reactions.iter_mut() {
        let w = normal_well(&r.well);
        let hit = map
            .iter()
            .find(|e| e.well == w && e.plate.as_deref() == Some(r.plate.as_str()))
            .or_else(|| map.iter().find(|e| e.well == w && e.plate.is_none()));
        if let Some(e) = hit {
            r.sample = e.sample.clone();
            if let Some(c) = e.content {
                r.content = c;
            }
            if e.quantity.is_some() {
                r.quantity = e.quantity;
            }
        }
    }
}
