//! RDML 1.0–1.3 (Lefever et al. 2009, Nucleic Acids Res 37:2065, doi:10.1093/nar/gkp056; the
//! schemas at rdml.org) → [`Reaction`]s.
//!
//! An `.rdml` file is a ZIP archive holding one RDML XML document (`rdml_data.xml`, or any
//! `.xml` member whose root is `<rdml>`); an uncompressed XML document is read too. Read:
//!
//! * `sample`: `type` (`std` → standard; `ntc`, `nac`, `ntp`, `nrt` → no-template control;
//!   `unkn`, `pos`, `opt` → unknown), the first `quantity/value` (a standard's quantity), and
//!   `interRunCalibrator` (RDML 1.1+: the sample is an inter-run calibrator). A sample is
//!   named by its `id`, or by its `description` when the id is a GUID (Roche LightCycler 96).
//! * `experiment/run`: one plate per run, named `FILE` when the file has one run and
//!   `FILE:EXPERIMENT/RUN` otherwise. `pcrFormat` gives the wells' names: a react `id` is the
//!   well's position counted along rows (`1` = A1, `13` = B1 on a 12-column plate); RDML 1.0
//!   ids such as `A1` are kept.
//! * `react/data`: the target (`tar id`), `cq` (absent or negative = no Cq; the schema uses
//!   −1 for *not available*) and `excl` (the reaction was excluded; kept, with the reason, and
//!   not used). A `quantity` calculated by the instrument is not read.
//!
//! Amplification curves (`adp`) are not used: Cq comes from the instrument (peers in CI compare
//! the Cq values read here with rdmlpython's).

use std::collections::BTreeMap;

use super::{unzip, Content, Reaction};
use crate::methylation::InputError;

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(
    n: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    n.children().filter(move |c| c.tag_name().name() == name)
}

fn text<'a>(n: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(n, name).and_then(|c| c.text()).map(str::trim)
}

/// The RDML document inside `bytes` (a ZIP archive or the XML itself).
pub fn document(path: &str, bytes: &[u8]) -> Result<String, InputError> {
    if !unzip::is_zip(bytes) {
        return Ok(String::from_utf8_lossy(bytes).into_owned());
    }
    let names = unzip::names(path, bytes)?;
    let pick = names
        .iter()
        .find(|n| n.as_str() == "rdml_data.xml")
        .or_else(|| names.iter().find(|n| n.to_lowercase().ends_with(".xml")))
        .ok_or_else(|| {
            InputError::file(
                path,
                format!(
                    "ZIP archive without an RDML XML member (members: {})",
                    names.join(", ")
                ),
            )
        })?;
    let xml = unzip::member(path, bytes, pick)?;
    Ok(String::from_utf8_lossy(&xml).into_owned())
}

/// True when `bytes` look like RDML (a ZIP holding an RDML member, or `<rdml` XML).
pub fn looks_like(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    memchr::memmem::find(head, b"<rdml").is_some()
}

fn well_name(id: &str, columns: Option<usize>, letters: bool) -> String {
    match (id.parse::<usize>(), columns) {
        (Ok(k), Some(c)) if k >= 1 && c >= 1 && letters && (k - 1) / c < 26 => {
            format!(
                "{}{}",
                (b'A' + ((k - 1) / c) as u8) as char,
                (k - 1) % c + 1
            )
        }
        _ => id.to_string(),
    }
}

/// Parses an RDML document; `file` names the plates.
pub fn parse(path: &str, file: &str, xml: &str) -> Result<Vec<Reaction>, InputError> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| InputError::file(path, format!("not well-formed XML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "rdml" {
        return Err(InputError::file(
            path,
            format!("root element <{}>, not <rdml>", root.tag_name().name()),
        ));
    }
    let version = root.attribute("version").unwrap_or("?");
    struct Sample<'a> {
        content: Content,
        quantity: Option<f64>,
        irc: bool,
        /// The description, for ids that are GUIDs (Roche LightCycler 96).
        name: Option<&'a str>,
    }
    let mut samples: BTreeMap<&str, Sample> = BTreeMap::new();
    for s in children(root, "sample") {
        let id = s
            .attribute("id")
            .ok_or_else(|| InputError::file(path, "element <sample> without an id attribute"))?;
        let content = match text(s, "type").unwrap_or("unkn") {
            "std" => Content::Standard,
            "ntc" | "nac" | "ntp" | "nrt" => Content::Ntc,
            _ => Content::Unknown,
        };
        let quantity = match child(s, "quantity").and_then(|q| text(q, "value")) {
            None => None,
            Some(v) => {
                let x = v.parse::<f64>().map_err(|_| {
                    InputError::file(
                        path,
                        format!("sample {id}: quantity/value '{v}' is not a number"),
                    )
                })?;
                x.is_finite().then_some(x)
            }
        };
        let irc = text(s, "interRunCalibrator") == Some("true");
        let guid = id.len() == 36 && id.matches('-').count() == 4;
        let name = text(s, "description").filter(|d| guid && !d.is_empty());
        samples.insert(
            id,
            Sample {
                content,
                quantity,
                irc,
                name,
            },
        );
    }
    let runs: Vec<(roxmltree::Node, roxmltree::Node)> = children(root, "experiment")
        .flat_map(|e| children(e, "run").map(move |r| (e, r)))
        .collect();
    if runs.is_empty() {
        return Err(InputError::file(
            path,
            format!("RDML {version} document without an experiment/run"),
        ));
    }
    let mut out = Vec::new();
    for (exp, run) in &runs {
        let plate = if runs.len() == 1 {
            file.to_string()
        } else {
            format!(
                "{file}:{}/{}",
                exp.attribute("id").unwrap_or("?"),
                run.attribute("id").unwrap_or("?")
            )
        };
        let fmt = child(*run, "pcrFormat");
        let columns = fmt
            .and_then(|f| text(f, "columns"))
            .and_then(|c| c.parse::<usize>().ok());
        let letters = fmt.and_then(|f| text(f, "rowLabel")) != Some("123");
        for react in children(*run, "react") {
            let rid = react.attribute("id").unwrap_or("?");
            let where_ = |m: String| {
                InputError::file(
                    path,
                    format!(
                        "run {}: react {rid}: {m}",
                        run.attribute("id").unwrap_or("?")
                    ),
                )
            };
            let sid = child(react, "sample")
                .and_then(|s| s.attribute("id"))
                .ok_or_else(|| where_("no <sample id>".into()))?;
            let s = samples
                .get(sid)
                .ok_or_else(|| where_(format!("sample '{sid}' is not declared")))?;
            let name = s.name.unwrap_or(sid);
            for data in children(react, "data") {
                let target = child(data, "tar")
                    .and_then(|t| t.attribute("id"))
                    .ok_or_else(|| where_("<data> without <tar id>".into()))?;
                let cq = match text(data, "cq") {
                    None | Some("") => None,
                    Some(v) => {
                        let x = v
                            .parse::<f64>()
                            .map_err(|_| where_(format!("cq '{v}' is not a number")))?;
                        (x.is_finite() && x >= 0.0).then_some(x)
                    }
                };
                let excluded = child(data, "excl").map(|e| {
                    let t = e.text().unwrap_or("").trim();
                    if t.is_empty() {
                        "excluded in the RDML file".to_string()
                    } else {
                        format!("excluded in the RDML file: {t}")
                    }
                });
                out.push(Reaction {
                    plate: plate.clone(),
                    well: well_name(rid, columns, letters),
                    sample: name.to_string(),
                    target: target.to_string(),
                    content: s.content,
                    cq,
                    quantity: if s.content == Content::Standard {
                        s.quantity
                    } else {
                        None
                    },
                    excluded,
                    inter_run_calibrator: s.irc,
                });
            }
        }
    }
    if out.is_empty() {
        return Err(InputError::file(
            path,
            format!("RDML {version} document without a reaction with data"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"<?xml version="1.0"?><rdml version="1.2" xmlns="http://www.rdml.org">
<sample id="S1"><type>unkn</type></sample><sample id="STD"><type>std</type><quantity><value>100</value><unit>cop</unit></quantity><interRunCalibrator>true</interRunCalibrator></sample>
<target id="TEL"><type>toi</type></target>
<experiment id="e"><run id="r"><pcrFormat><rows>8</rows><columns>12</columns><rowLabel>ABC</rowLabel><columnLabel>123</columnLabel></pcrFormat>
<react id="13"><sample id="S1"/><data><tar id="TEL"/><cq>17.5</cq></data></react>
<react id="14"><sample id="STD"/><data><tar id="TEL"/><cq>-1</cq><excl>bubble</excl></data></react>
</run></experiment></rdml>"#;

    #[test]
    fn a_small_rdml_document_gives_wells_quantities_and_flags() {
        let r = parse("t.rdml", "t.rdml", TINY).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].well.as_str(), r[0].cq), ("B1", Some(17.5)));
        assert_eq!(r[1].quantity, Some(100.0));
        assert_eq!(r[1].cq, None, "cq −1 is not available");
        assert!(r[1].inter_run_calibrator);
        assert!(r[1].excluded.as_deref().unwrap().contains("bubble"));
    }

    #[test]
    fn mangled_rdml_is_an_error_naming_the_file_or_reactions_never_a_panic() {
        // Property test: truncations and random byte edits of a real zipped RDML (the bytes
        // of tests/data/qpcr/stepone_std.rdml) and of the XML above.
        let zipped = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/qpcr/stepone_std.rdml"
        ))
        .unwrap();
        let mut rng = crate::core::rng::SplitMix64(16);
        for base in [zipped.as_slice(), TINY.as_bytes()] {
            for i in 0..600 {
                let mut b = base.to_vec();
                if i % 2 == 0 {
                    b.truncate((rng.next() as usize) % (b.len() + 1));
                } else {
                    for _ in 0..1 + rng.next() % 8 {
                        let k = (rng.next() as usize) % b.len();
                        b[k] = (rng.next() & 0xff) as u8;
                    }
                }
                match crate::qpcr::parse::parse_bytes("p.rdml", "p.rdml", &b) {
                    Ok(r) => assert!(!r.is_empty()),
                    Err(e) => {
                        let m = e.to_string();
                        assert!(m.starts_with("p.rdml") && !m.contains('\n'), "{m}");
                    }
                }
            }
        }
        let e = parse("w.rdml", "w", "<rdml version='1.1'><sample/></rdml>").unwrap_err();
        assert!(e.to_string().contains("without an id"), "{e}");
        let e = parse("w.rdml", "w", "<html/>").unwrap_err();
        assert!(e.to_string().contains("not <rdml>"), "{e}");
    }
}
