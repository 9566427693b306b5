//! `agemark reference install`: EPIC v1 and EPICv2 manifests installed once, verified, in a
//! per-user data directory, so that `agemark idat` works offline afterwards.
//!
//! Where: `--data-dir`, else `$AGEMARK_DATA_DIR`, else `$XDG_DATA_HOME/agemark`, else
//! `~/.local/share/agemark`; the manifests go to `<dir>/manifests/<platform>.manifest.tsv.gz`
//! with a `<platform>.source.tsv` record (files, sha256, how each was verified, probe and
//! control counts, when).
//!
//! What is accepted, and how it is verified:
//! * sesame's files (zhou-lab/InfiniumAnnotation: `EPIC.ordering.tsv.gz`,
//!   `EPICv2.ordering.tsv.gz`, and their `*.hg38.coord.tsv.gz`) are recognised by their sha256
//!   in upstream's own lists, bundled in `reference/arrays/checksums/` (plus any list given
//!   with `--sha256sums`). A file named like a listed one whose sum differs is refused
//!   (damaged or altered). Listed files agemark does not use (masks, SNPs) are skipped.
//! * Illumina's product CSV (`[Heading]`, `[Assay]`, `[Controls]`) is validated by structure:
//!   the sections and columns, unique bead addresses, typed controls (NEGATIVE and NORM_*);
//!   the platform from `--platform` or the `Descriptor File Name` of its heading.
//!
//! The compact form is sesame's ordering layout (`Probe_ID`, `M`, `U`, `col`, `CpG_chrm`) with
//! the controls as `ctl_<address>_<TYPE>` rows; an EPIC v1 manifest without typed controls gets
//! the 635 EPIC controls of sesameData ([`super::manifest::EPIC_CONTROLS`]).

use crate::core::embedded;
use std::{
    collections::BTreeMap,
    io::{Read, Write},
    path::{Path, PathBuf},
};

use super::manifest::{self, Design, Manifest, Platform};
use crate::{
    core::checksum::sha256_hex,
    core::error::{Category, Error},
    methylation::InputError,
    tidy::write_atomic,
};

/// Upstream's sha256 lists (sesame InfiniumAnnotation), bundled.
pub const SHA256SUMS: [(&str, &str); 3] = [
    (
        "EPIC.SHA256SUMS",
        embedded::text(embedded::ARRAYS, "checksums/EPIC.SHA256SUMS"),
    ),
    (
        "EPICv2.SHA256SUMS",
        embedded::text(embedded::ARRAYS, "checksums/EPICv2.SHA256SUMS"),
    ),
    (
        "MSA.SHA256SUMS",
        embedded::text(embedded::ARRAYS, "checksums/MSA.SHA256SUMS"),
    ),
];

/// Where sesame and Illumina publish the manifests (for the one-line instruction).
pub const WHERE_PUBLISHED: &str = "sesame's EPIC/ or EPICv2/ folder of https://github.com/zhou-lab/InfiniumAnnotation (the .ordering.tsv.gz and .hg38.coord.tsv.gz files) or Illumina's product files page (the manifest CSV)";

/// The data directory: `flag`, else `$AGEMARK_DATA_DIR`, else `$XDG_DATA_HOME/agemark`, else
/// `~/.local/share/agemark`.
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(d) = flag {
        return d.to_path_buf();
    }
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = env("AGEMARK_DATA_DIR") {
        return d;
    }
    if let Some(d) = env("XDG_DATA_HOME") {
        return d.join("agemark");
    }
    env("HOME")
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".local/share/agemark")
}

fn manifest_path(dir: &Path, p: Platform) -> PathBuf {
    dir.join("manifests")
        .join(format!("{}.manifest.tsv.gz", p.name()))
}

fn source_path(dir: &Path, p: Platform) -> PathBuf {
    dir.join("manifests")
        .join(format!("{}.source.tsv", p.name()))
}

/// The installed manifest of `p` in `dir`, if any.
pub fn installed(dir: &Path, p: Platform) -> Result<Option<Manifest>, InputError> {
    let path = manifest_path(dir, p);
    if !path.is_file() {
        return Ok(None);
    }
    let shown = path.display().to_string();
    let mut m = manifest::read_manifest(&shown)?;
    m.platform = Some(p);
    m.source = format!("installed {} ({shown})", p.name());
    Ok(Some(m))
}

/// One installed manifest as `reference list` shows it: (platform, probes, controls, the
/// source record's text).
pub fn installed_list(dir: &Path) -> Vec<(Platform, String)> {
    [Platform::Epic, Platform::EpicV2]
        .into_iter()
        .filter_map(|p| {
            let rec = std::fs::read_to_string(source_path(dir, p)).ok()?;
            manifest_path(dir, p).is_file().then_some((p, rec))
        })
        .collect()
}

/// The upstream file name whose listed sha256 is `sha`.
fn listed(sums: &[(String, String)], sha: &str) -> Option<String> {
    sums.iter()
        .find(|(s, _)| s == sha)
        .map(|(_, name)| name.clone())
}

fn parse_sums(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((
                it.next()?.to_lowercase(),
                it.next()?.trim_start_matches('*').to_string(),
            ))
        })
        .collect()
}

fn platform_of_name(name: &str) -> Option<Platform> {
    if name.starts_with("EPICv2.") {
        Some(Platform::EpicV2)
    } else if name.starts_with("EPIC.") {
        Some(Platform::Epic)
    } else if name.starts_with("MSA.") {
        Some(Platform::Msa)
    } else {
        None
    }
}

fn read_text(path: &Path, raw: &[u8]) -> Result<String, InputError> {
    let shown = path.display().to_string();
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw)
            .read_to_end(&mut out)
            .map_err(|e| InputError::file(&shown, format!("cannot decompress: {e}")))?;
        out
    } else {
        raw.to_vec()
    };
    String::from_utf8(bytes).map_err(|_| InputError::file(&shown, "not UTF-8 text"))
}

/// Checks an Illumina manifest CSV by structure; returns the platform named in its heading.
fn check_illumina(path: &str, text: &str, m: &Manifest) -> Result<Option<Platform>, InputError> {
    if !text.contains("[Assay]") {
        return Err(InputError::file(
            path,
            "no [Assay] section: not an Illumina manifest CSV",
        ));
    }
    if !text.contains("[Controls]") || m.controls.is_empty() {
        return Err(InputError::file(
            path,
            "no [Controls] section (or it is empty): agemark needs the controls for noob, dye bias and QC",
        ));
    }
    for kind in ["NEGATIVE", "NORM_A", "NORM_C", "NORM_G", "NORM_T"] {
        if !m.controls.iter().any(|c| c.kind == kind) {
            return Err(InputError::file(
                path,
                format!("its [Controls] section has no {kind} control: incomplete"),
            ));
        }
    }
    let mut seen = std::collections::HashMap::new();
    for p in &m.probes {
        for a in [p.addr_u, p.addr_m] {
            if let Some(other) = seen.insert(a, p.id.clone()) {
                if other != p.id {
                    return Err(InputError::file(
                        path,
                        format!(
                            "bead address {a} is used by both {other} and {}: not a valid manifest",
                            p.id
                        ),
                    ));
                }
            }
        }
    }
    let heading = text
        .lines()
        .find(|l| l.starts_with("Descriptor File Name"))
        .unwrap_or("")
        .to_lowercase();
    Ok(
        if heading.contains("epic-8v2") || heading.contains("epicv2") {
            Some(Platform::EpicV2)
        } else if heading.contains("epic") {
            Some(Platform::Epic)
        } else if heading.contains("msa") {
            Some(Platform::Msa)
        } else {
            None
        },
    )
}

fn compact(m: &Manifest) -> String {
    let mut s = String::from("Probe_ID\tM\tU\tcol\tCpG_chrm\n");
    for p in &m.probes {
        let (mm, col) = match p.design {
            Design::II => ("NA".to_string(), "2"),
            Design::I(manifest::Channel::Red) => (p.addr_m.to_string(), "R"),
            Design::I(manifest::Channel::Grn) => (p.addr_m.to_string(), "G"),
        };
        let chr = match p.chrom {
            manifest::Chrom::X => "chrX",
            manifest::Chrom::Y => "chrY",
            manifest::Chrom::Other => "chr1",
            manifest::Chrom::Unknown => "NA",
        };
        s.push_str(&format!("{}\t{mm}\t{}\t{col}\t{chr}\n", p.id, p.addr_u));
    }
    for c in &m.controls {
        let kind = if c.kind.is_empty() {
            "UNTYPED".to_string()
        } else {
            c.kind.replace(' ', "_")
        };
        s.push_str(&format!(
            "ctl_{}_{kind}\tNA\t{}\t2\tNA\n",
            c.address, c.address
        ));
    }
    s
}

fn epic_controls() -> Vec<manifest::Control> {
    manifest::EPIC_CONTROLS
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some(manifest::Control {
                address: f.first()?.trim().parse().ok()?,
                kind: f.get(1)?.trim().to_uppercase(),
                name: f.get(3).unwrap_or(&"").trim().to_string(),
            })
        })
        .collect()
}

/// What `install` did, one line per file or platform.
#[derive(Debug, Default)]
pub struct Installed {
    /// Lines for the terminal.
    pub lines: Vec<String>,
    /// The manifests written.
    pub written: Vec<PathBuf>,
}

fn usage(msg: String) -> Error {
    Error::new(Category::Usage, msg)
}

/// Installs the manifests in `files` into `dir` (see the module doc). `platform` names the
/// array of an Illumina CSV whose heading does not; `extra_sums` are more sha256 lists.
pub fn install(
    files: &[PathBuf],
    platform: Option<Platform>,
    extra_sums: &[PathBuf],
    dir: &Path,
) -> Result<Installed, Error> {
    let mut sums: Vec<(String, String)> = Vec::new();
    for (_, text) in SHA256SUMS {
        sums.extend(parse_sums(text));
    }
    for f in extra_sums {
        let text = std::fs::read_to_string(f)
            .map_err(|e| usage(format!("{}: cannot read: {e}", f.display())))?;
        sums.extend(parse_sums(&text));
    }
    let mut out = Installed::default();
    // Per platform: (ordering text, its name, coordinate text, records).
    type Parts = (
        Option<(String, String)>,
        Option<(String, String)>,
        Vec<String>,
    );
    let mut sesame: BTreeMap<Platform, Parts> = BTreeMap::new();
    let mut illumina: Vec<(Platform, Manifest, String)> = Vec::new();
    for f in files {
        let shown = f.display().to_string();
        let raw = std::fs::read(f).map_err(|e| usage(format!("{shown}: cannot read: {e}")))?;
        let sha = sha256_hex(&raw);
        let base = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(name) = listed(&sums, &sha) {
            let Some(p) = platform_of_name(&name) else {
                out.lines.push(format!(
                    "{shown}: {name} (sha256 listed) is not a manifest file: skipped"
                ));
                continue;
            };
            if p == Platform::Msa {
                out.lines.push(format!(
                    "{shown}: {name}, verified: the MSA manifest is bundled with agemark, nothing to install"
                ));
                continue;
            }
            let record = format!("{name}\t{sha}\tsha256 in sesame's published list");
            let e = sesame.entry(p).or_default();
            if name.ends_with(".ordering.tsv.gz") {
                e.0 = Some((name.clone(), read_text(f, &raw)?));
                e.2.push(record);
            } else if name.ends_with(".hg38.coord.tsv.gz") {
                e.1 = Some((name.clone(), read_text(f, &raw)?));
                e.2.push(record);
            } else {
                out.lines.push(format!(
                    "{shown}: {name}, verified, not used by agemark: skipped"
                ));
            }
            continue;
        }
        if sums.iter().any(|(_, n)| *n == base) {
            let want = sums
                .iter()
                .find(|(_, n)| *n == base)
                .map(|(s, _)| s.clone())
                .unwrap_or_default();
            return Err(Error::new(
                Category::InputFormat,
                format!(
                    "{shown}: sha256 {sha} is not sesame's published {base} ({want}): the file is damaged or altered; download it again"
                ),
            ));
        }
        let text = read_text(f, &raw)?;
        if text.contains("[Assay]") {
            let m = manifest::parse_illumina(&shown, &text)?;
            let named = check_illumina(&shown, &text, &m)?;
            let p = platform.or(named).ok_or_else(|| {
                usage(format!(
                    "{shown}: the heading does not name the array: give --platform epic or epicv2"
                ))
            })?;
            let record = format!(
                "{base}\t{sha}\tIllumina manifest CSV, checked by structure ([Assay] {} probes, [Controls] {}, unique addresses)",
                m.probes.len(),
                m.controls.len()
            );
            illumina.push((p, m, record));
            continue;
        }
        return Err(Error::new(
            Category::InputFormat,
            format!(
                "{shown}: not recognised: its sha256 ({sha}) is in none of sesame's published lists (reference/arrays/checksums) and it is not an Illumina manifest CSV with [Assay] and [Controls]"
            ),
        ));
    }
    let mut built: Vec<(Platform, Manifest, Vec<String>)> = Vec::new();
    for (p, (ordering, coords, records)) in sesame {
        let Some((oname, otext)) = ordering else {
            out.lines.push(format!(
                "{}: a coordinate table without its ordering table: give {}.ordering.tsv.gz too",
                p.name(),
                if p == Platform::EpicV2 {
                    "EPICv2"
                } else {
                    "EPIC"
                }
            ));
            continue;
        };
        let (cname, ctext) = coords.unzip();
        let m = manifest::sesame_with_coords(
            &oname,
            &otext,
            cname.as_deref().unwrap_or(""),
            ctext.as_deref(),
        )?;
        built.push((p, m, records));
    }
    for (p, m, record) in illumina {
        built.push((p, m, vec![record]));
    }
    for (p, mut m, records) in built {
        if p == Platform::Epic && !m.controls.iter().any(|c| !c.kind.is_empty()) {
            m.controls = epic_controls();
        }
        let path = manifest_path(dir, p);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| crate::tidy::WriteError {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let text = compact(&m);
        write_atomic(&path, |w| {
            let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
            gz.write_all(text.as_bytes())?;
            gz.finish().map(|_| ())
        })?;
        let when = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut rec = String::from("file\tsha256\tverified_by\n");
        for r in &records {
            rec.push_str(r);
            rec.push('\n');
        }
        rec.push_str(&format!(
            "# {} probes, {} controls; installed at unix time {when} by agemark {}\n",
            m.probes.len(),
            m.controls.len(),
            crate::core::AGEMARK_VERSION
        ));
        write_atomic(&source_path(dir, p), |w| w.write_all(rec.as_bytes()))?;
        out.lines.push(format!(
            "{}: installed {} ({} probes, {} controls) from {}",
            p.name(),
            path.display(),
            m.probes.len(),
            m.controls.len(),
            records
                .iter()
                .map(|r| r.split('\t').next().unwrap_or("").to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        out.written.push(path);
    }
    Ok(out)
}
