//! Array manifests: which bead addresses make each probe, its Infinium design (type I red,
//! type I green, type II) and, where known, whether it lies on chrX/chrY (for sex inference).
//!
//! Bundled (see `reference/arrays/PROVENANCE.md`): HM27 and the Methylation Screening Array
//! (sesame's ordering tables with their hg38 coordinates; MSA's `ctl_<address>_<TYPE>` rows are
//! its controls, typed by their name) and the HumanMethylation450 v1.2 probe→address map (+ the
//! chrX/chrY probe list from the 450K hg19 annotation). EPIC v1 and EPICv2 are installed once
//! with `agemark reference install` ([`super::install`]); any array can also be given a user
//! manifest (`--manifest`) in one of two formats:
//!
//! * **Illumina CSV** (`*.csv`, as Illumina distributes them): optional `[Heading]` lines, then an
//!   `[Assay]` section whose header has `IlmnID`/`Name`, `AddressA_ID`, `AddressB_ID`,
//!   `Infinium_Design_Type`, `Color_Channel` (and optionally `CHR`); an optional `[Controls]`
//!   section of `address,type,colour,name` rows. The probe ID is `IlmnID` when present (EPICv2
//!   `cg…_TC21` names, whose replicates the beta view collapses), else `Name`.
//! * **sesame TSV** (zhou-lab InfiniumAnnotation): `Probe_ID` plus either `M`/`U` + `col`
//!   (ordering tables) or `address_B`/`address_A` + `channel` (full manifests); optional
//!   `CpG_chrm`. `M` (`address_B`) empty or `NA` means type II; `ctl_*` rows are controls; a row
//!   with two addresses but colour `2` (one in HM27) is left out, as sesame does.
//!
//! Type I: address A is the unmethylated bead, B the methylated one, both read in the probe's
//! colour channel. Type II: one bead; methylated = Green, unmethylated = Red of that address.

use crate::core::embedded;
use std::io::Read;

use crate::methylation::InputError;

/// Array platforms agemark knows by IDAT address count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// Infinium HumanMethylation27.
    Hm27,
    /// Infinium HumanMethylation450.
    Hm450,
    /// Infinium MethylationEPIC v1.
    Epic,
    /// Infinium MethylationEPIC v2.
    EpicV2,
    /// Infinium Methylation Screening Array (bundled; recognised by its address set).
    Msa,
}

impl Platform {
    /// The name used on the command line and in notes.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Hm27 => "hm27",
            Platform::Hm450 => "450k",
            Platform::Epic => "epic",
            Platform::EpicV2 => "epicv2",
            Platform::Msa => "msa",
        }
    }

    /// The platform from the number of addresses in an IDAT (ranges as methylprep's
    /// `ArrayType.from_probe_count` and sesame's platform inference): HM27 55,300; 450K 622,399;
    /// EPIC 1,051,815–1,052,641; EPICv2 1,105,209. `None` for anything else (MSA, custom
    /// arrays: give `--manifest`).
    pub fn from_address_count(n: usize) -> Option<Platform> {
        match n {
            54_000..=56_000 => Some(Platform::Hm27),
            622_000..=623_000 => Some(Platform::Hm450),
            1_032_000..=1_053_000 => Some(Platform::Epic),
            1_100_000..=1_110_000 => Some(Platform::EpicV2),
            _ => None,
        }
    }
}

/// The colour channel of a type-I probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Red (Cy5).
    Red,
    /// Green (Cy3).
    Grn,
}

/// Infinium probe design.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// Type I: two beads read in one channel.
    I(Channel),
    /// Type II: one bead, methylated = Green, unmethylated = Red.
    II,
}

/// Chromosome class of a probe, for sex inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Chrom {
    /// Not known (the manifest has no chromosome column).
    #[default]
    Unknown,
    /// An autosome or other contig.
    Other,
    /// chrX.
    X,
    /// chrY.
    Y,
}

impl Chrom {
    fn parse(s: &str) -> Chrom {
        match s.trim().trim_start_matches("chr") {
            "" | "NA" | "*" => Chrom::Unknown,
            "X" => Chrom::X,
            "Y" => Chrom::Y,
            _ => Chrom::Other,
        }
    }
}

/// One probe.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// Probe ID as written in the betas table.
    pub id: String,
    /// Design.
    pub design: Design,
    /// Unmethylated bead (type I: address A), or the only bead (type II).
    pub addr_u: u32,
    /// Methylated bead (type I: address B); equal to `addr_u` for type II.
    pub addr_m: u32,
    /// chrX/chrY/other, when known.
    pub chrom: Chrom,
}

/// One control probe (Illumina `[Controls]` section, or sesame `ctl_*` rows).
#[derive(Clone, Debug, PartialEq)]
pub struct Control {
    /// Bead address.
    pub address: u32,
    /// Control type in upper case (`NEGATIVE`, `NORM_A`, `BISULFITE CONVERSION I`…; empty when
    /// the manifest does not say).
    pub kind: String,
    /// Control name (`BS Conversion I-C1`…).
    pub name: String,
}

/// A manifest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Manifest {
    /// Where it came from (`bundled hm27`, or the file name).
    pub source: String,
    /// The platform, when known (bundled, or given with `--platform`).
    pub platform: Option<Platform>,
    /// Probes, in manifest order.
    pub probes: Vec<Probe>,
    /// Control probes (empty when the manifest has none).
    pub controls: Vec<Control>,
}

const HM27_ORDERING: &[u8] = embedded::file(embedded::ARRAYS, "HM27.ordering.tsv.gz");
const HM27_COORD: &[u8] = embedded::file(embedded::ARRAYS, "HM27.hg38.coord.tsv.gz");
const HM450_MAP: &[u8] = embedded::file(embedded::ARRAYS, "hm450_manifest_probes.csv.gz");
const HM450_SEX: &[u8] = embedded::file(embedded::ARRAYS, "hm450_sex_chromosome_probes.tsv.gz");
const MSA_ORDERING: &[u8] = embedded::file(embedded::ARRAYS, "MSA.ordering.tsv.gz");
const MSA_COORD: &[u8] = embedded::file(embedded::ARRAYS, "MSA.hg38.coord.tsv.gz");
/// The 635 EPIC v1 control probes (sesameData), added to an installed EPIC manifest that has
/// no typed controls of its own.
pub const EPIC_CONTROLS: &str = embedded::text(embedded::ARRAYS, "EPIC.controls.sesameData.tsv");

/// The share of a manifest's probe addresses an IDAT must carry to be recognised as that
/// array (real chips carry extra beads, so the IDAT may hold more addresses than the
/// manifest, never fewer than this share of them).
pub const MIN_ADDRESS_SHARE: f64 = 0.95;

/// The share of `m`'s probe bead addresses present in `sorted_ids` (an IDAT's addresses,
/// sorted).
pub fn address_share(m: &Manifest, sorted_ids: &[u32]) -> f64 {
    let (mut n, mut hit) = (0usize, 0usize);
    for p in &m.probes {
        for a in [p.addr_u, p.addr_m] {
            n += 1;
            if sorted_ids.binary_search(&a).is_ok() {
                hit += 1;
            }
            if p.addr_m == p.addr_u {
                break;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        hit as f64 / n as f64
    }
}

/// The control type of a sesame `ctl_<address>_<TYPE>` row (MSA, EPICv2 ordering tables), in
/// the words of Illumina's `[Controls]` section (`NORM_A` keeps its underscore, `BISULFITE_
/// CONVERSION_I` becomes `BISULFITE CONVERSION I`); empty for a bare `ctl_<address>` (HM27).
pub fn control_kind(id: &str) -> String {
    let rest = id.trim_start_matches("ctl_");
    let kind = match rest.split_once('_') {
        Some((addr, k)) if addr.bytes().all(|b| b.is_ascii_digit()) => k,
        _ => return String::new(),
    };
    if kind.starts_with("NORM_") {
        kind.to_string()
    } else {
        kind.replace('_', " ")
    }
}

/// Reads a sesame ordering table and its coordinate table (same row order, no ID column) into
/// a manifest with each probe's chromosome.
pub fn sesame_with_coords(
    name: &str,
    ordering: &str,
    coord_name: &str,
    coords: Option<&str>,
) -> Result<Manifest, InputError> {
    let mut m = parse_sesame(name, ordering)?;
    if let Some(coords) = coords {
        let n_ord = ordering.lines().count();
        let n_coord = coords.lines().count();
        if n_ord != n_coord {
            return Err(InputError::file(
                coord_name,
                format!(
                    "{n_coord} lines, but the ordering table {name} has {n_ord}: not its coordinate table"
                ),
            ));
        }
        let mut chrom_of = std::collections::HashMap::new();
        for (id_line, c_line) in ordering.lines().skip(1).zip(coords.lines().skip(1)) {
            let id = id_line.split('\t').next().unwrap_or("");
            let chr = c_line.split('\t').next().unwrap_or("");
            chrom_of.insert(id.to_string(), Chrom::parse(chr));
        }
        for p in &mut m.probes {
            p.chrom = chrom_of.get(&p.id).copied().unwrap_or(Chrom::Unknown);
        }
    }
    Ok(m)
}

fn gunzip(name: &str, bytes: &[u8]) -> Result<String, InputError> {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_string(&mut s)
        .map_err(|e| InputError::file(name, format!("cannot decompress: {e}")))?;
    Ok(s)
}

/// The bundled manifest of `platform`, or `None` when none is bundled (EPIC, EPICv2).
pub fn bundled(platform: Platform) -> Option<Result<&'static Manifest, InputError>> {
    use std::sync::OnceLock;
    static HM27: OnceLock<Result<Manifest, InputError>> = OnceLock::new();
    static HM450: OnceLock<Result<Manifest, InputError>> = OnceLock::new();
    static MSA: OnceLock<Result<Manifest, InputError>> = OnceLock::new();
    let cell = match platform {
        Platform::Hm27 => HM27.get_or_init(load_hm27),
        Platform::Hm450 => HM450.get_or_init(load_hm450),
        Platform::Msa => MSA.get_or_init(load_msa),
        _ => return None,
    };
    Some(cell.as_ref().map_err(Clone::clone))
}

fn load_msa() -> Result<Manifest, InputError> {
    let name = "reference/arrays/MSA.ordering.tsv.gz";
    let cname = "reference/arrays/MSA.hg38.coord.tsv.gz";
    let mut m = sesame_with_coords(
        name,
        &gunzip(name, MSA_ORDERING)?,
        cname,
        Some(&gunzip(cname, MSA_COORD)?),
    )?;
    m.source = "bundled msa (sesame MSA ordering + hg38 coordinates)".into();
    m.platform = Some(Platform::Msa);
    Ok(m)
}

fn load_hm27() -> Result<Manifest, InputError> {
    let name = "reference/arrays/HM27.ordering.tsv.gz";
    let cname = "reference/arrays/HM27.hg38.coord.tsv.gz";
    let mut m = sesame_with_coords(
        name,
        &gunzip(name, HM27_ORDERING)?,
        cname,
        Some(&gunzip(cname, HM27_COORD)?),
    )?;
    m.source = "bundled hm27 (sesame HM27 ordering + hg38 coordinates)".into();
    m.platform = Some(Platform::Hm27);
    Ok(m)
}

fn load_hm450() -> Result<Manifest, InputError> {
    let name = "reference/arrays/hm450_manifest_probes.csv.gz";
    let mut m = parse_illumina(name, &gunzip(name, HM450_MAP)?)?;
    let sname = "reference/arrays/hm450_sex_chromosome_probes.tsv.gz";
    let sex = gunzip(sname, HM450_SEX)?;
    let mut chrom_of = std::collections::HashMap::new();
    for line in sex.lines().skip(1) {
        let mut it = line.split('\t');
        if let (Some(id), Some(chr)) = (it.next(), it.next()) {
            chrom_of.insert(id.to_string(), Chrom::parse(chr));
        }
    }
    for p in &mut m.probes {
        // The list names every chrX/chrY probe of the 450K annotation; the rest are autosomal
        // (or unplaced), which is all sex inference needs.
        p.chrom = chrom_of.get(&p.id).copied().unwrap_or(Chrom::Other);
    }
    m.source = "bundled 450k (HumanMethylation450 v1.2 probe map)".into();
    m.platform = Some(Platform::Hm450);
    Ok(m)
}

/// Reads a user manifest (Illumina CSV or sesame TSV, plain or gzip); the format is detected
/// from the header.
pub fn read_manifest(path: &str) -> Result<Manifest, InputError> {
    let file = std::fs::File::open(path)
        .map_err(|e| InputError::file(path, format!("cannot open manifest: {e}")))?;
    let mut raw = Vec::new();
    std::io::BufReader::new(file)
        .read_to_end(&mut raw)
        .map_err(|e| InputError::file(path, format!("cannot read manifest: {e}")))?;
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        gunzip(path, &raw)?
    } else {
        String::from_utf8(raw).map_err(|_| InputError::file(path, "manifest is not UTF-8 text"))?
    };
    let first_header = text
        .lines()
        .find(|l| l.contains("AddressA_ID") || l.starts_with("Probe_ID"))
        .unwrap_or("");
    let mut m = if first_header.contains("AddressA_ID") {
        parse_illumina(path, &text)?
    } else if first_header.starts_with("Probe_ID") {
        parse_sesame(path, &text)?
    } else {
        return Err(InputError::file(
            path,
            "not a manifest agemark knows: expected an Illumina CSV (header with AddressA_ID, Infinium_Design_Type, Color_Channel) or a sesame TSV (header starting with Probe_ID)",
        ));
    };
    m.source = crate::core::file_name_of(path);
    Ok(m)
}

/// Splits a CSV line, honouring double quotes.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn parse_address(path: &str, row: u64, col: &str, s: &str) -> Result<Option<u32>, InputError> {
    let s = s.trim();
    if s.is_empty() || s == "NA" {
        return Ok(None);
    }
    s.parse::<u32>().map(Some).map_err(|_| {
        InputError::cell(
            path,
            row,
            col,
            format!("not a bead address: {}", crate::methylation::quote_cell(s)),
        )
    })
}

/// Parses Illumina's CSV manifest format.
pub fn parse_illumina(path: &str, text: &str) -> Result<Manifest, InputError> {
    let mut m = Manifest::default();
    let mut header: Option<Vec<String>> = None;
    let mut section = String::new();
    let mut cols = (None, 0usize, 0usize, 0usize, 0usize, 0usize, None);
    for (i, line) in text.lines().enumerate() {
        let row = i as u64 + 1;
        let line = line.trim_end_matches('\r');
        if line.starts_with('[') {
            section = line
                .trim_end_matches(',')
                .trim_matches(|c| c == '[' || c == ']')
                .to_ascii_lowercase();
            continue;
        }
        if line.trim_matches(',').trim().is_empty() {
            continue;
        }
        if section == "controls" {
            let f = split_csv(line);
            if f.len() >= 2 {
                if let Ok(Some(a)) = parse_address(path, row, "control address", &f[0]) {
                    m.controls.push(Control {
                        address: a,
                        kind: f[1].trim().to_ascii_uppercase(),
                        name: f.get(3).map(|s| s.trim().to_string()).unwrap_or_default(),
                    });
                }
            }
            continue;
        }
        if section == "heading" {
            continue;
        }
        let f = split_csv(line);
        let Some(h) = &header else {
            if f.iter().any(|c| c == "AddressA_ID") {
                let at = |name: &str| f.iter().position(|c| c.trim() == name);
                let need = |name: &str| {
                    at(name).ok_or_else(|| {
                        InputError::row(path, row, format!("manifest header has no {name} column"))
                    })
                };
                cols = (
                    at("IlmnID"),
                    need("Name")?,
                    need("AddressA_ID")?,
                    need("AddressB_ID")?,
                    need("Infinium_Design_Type")?,
                    need("Color_Channel")?,
                    at("CHR"),
                );
                header = Some(f);
            }
            continue;
        };
        let (ilmn, name, a, b, design, colour, chr) = cols;
        if f.len() < h.len().min(colour + 1) {
            return Err(InputError::row(
                path,
                row,
                format!("{} fields where the header has {}", f.len(), h.len()),
            ));
        }
        let get = |k: usize| f.get(k).map(|s| s.trim()).unwrap_or("");
        let id = match ilmn.map(get) {
            Some(x) if !x.is_empty() => x,
            _ => get(name),
        };
        let Some(addr_a) = parse_address(path, row, "AddressA_ID", get(a))? else {
            return Err(InputError::cell(path, row, "AddressA_ID", "empty"));
        };
        let addr_b = parse_address(path, row, "AddressB_ID", get(b))?;
        let design = match (get(design), addr_b) {
            ("II", _) | ("2", _) => Design::II,
            ("I", Some(_)) | ("1", Some(_)) => match get(colour) {
                "Red" | "R" => Design::I(Channel::Red),
                "Grn" | "Green" | "G" => Design::I(Channel::Grn),
                other => {
                    return Err(InputError::cell(
                        path,
                        row,
                        "Color_Channel",
                        format!(
                            "type-I probe with colour {}: expected Red or Grn",
                            crate::methylation::quote_cell(other)
                        ),
                    ))
                }
            },
            (d, _) => {
                return Err(InputError::cell(
                    path,
                    row,
                    "Infinium_Design_Type",
                    format!(
                        "{}: expected I (with AddressB_ID) or II",
                        crate::methylation::quote_cell(d)
                    ),
                ))
            }
        };
        m.probes.push(Probe {
            id: id.to_string(),
            design,
            addr_u: addr_a,
            addr_m: if design == Design::II {
                addr_a
            } else {
                addr_b.unwrap_or(addr_a)
            },
            chrom: chr.map(|k| Chrom::parse(get(k))).unwrap_or_default(),
        });
    }
    if header.is_none() {
        return Err(InputError::file(
            path,
            "no [Assay] header with AddressA_ID found",
        ));
    }
    if m.probes.is_empty() {
        return Err(InputError::file(path, "manifest has no probes"));
    }
    Ok(m)
}

/// Parses sesame's TSV manifest / ordering format.
pub fn parse_sesame(path: &str, text: &str) -> Result<Manifest, InputError> {
    let mut m = Manifest::default();
    let mut lines = text.lines().enumerate();
    let Some((_, head)) = lines.next() else {
        return Err(InputError::file(path, "empty manifest"));
    };
    let h: Vec<&str> = head.trim_end_matches('\r').split('\t').collect();
    let at = |names: &[&str]| h.iter().position(|c| names.contains(c));
    let need = |names: &[&str]| {
        at(names).ok_or_else(|| {
            InputError::row(
                path,
                1,
                format!("sesame manifest header has no {} column", names.join("/")),
            )
        })
    };
    let id_c = need(&["Probe_ID"])?;
    let m_c = need(&["M", "address_B"])?;
    let u_c = need(&["U", "address_A"])?;
    let col_c = need(&["col", "channel", "COLOR_CHANNEL"])?;
    let chr_c = at(&["CpG_chrm", "CHR", "chrm"]);
    for (i, line) in lines {
        let row = i as u64 + 1;
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let get = |k: usize| f.get(k).map(|s| s.trim()).unwrap_or("");
        let id = get(id_c);
        let Some(u) = parse_address(path, row, h[u_c], get(u_c))? else {
            return Err(InputError::cell(path, row, h[u_c], "empty address"));
        };
        if id.starts_with("ctl_") {
            m.controls.push(Control {
                address: u,
                kind: control_kind(id),
                name: id.to_string(),
            });
            continue;
        }
        let mm = parse_address(path, row, h[m_c], get(m_c))?;
        let design = match mm {
            None => Design::II,
            Some(_) => match get(col_c) {
                "R" | "Red" => Design::I(Channel::Red),
                "G" | "Grn" | "Green" => Design::I(Channel::Grn),
                // Two addresses but no colour (one HM27 row, cg20249919): sesame's signal
                // table reads it as neither type I red nor green, so it is left out here too.
                "2" | "Both" => continue,
                other => {
                    return Err(InputError::cell(
                        path,
                        row,
                        h[col_c],
                        format!(
                            "type-I probe with colour {}: expected R or G",
                            crate::methylation::quote_cell(other)
                        ),
                    ))
                }
            },
        };
        m.probes.push(Probe {
            id: id.to_string(),
            design,
            addr_u: u,
            addr_m: mm.unwrap_or(u),
            chrom: chr_c.map(|k| Chrom::parse(get(k))).unwrap_or_default(),
        });
    }
    if m.probes.is_empty() {
        return Err(InputError::file(path, "manifest has no probes"));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use crate::core::checksum::sha256_hex;

    #[test]
    fn bundled_files_match_their_checksums() {
        let listed = crate::core::embedded::text(crate::core::embedded::ARRAYS, "MANIFEST.sha256");
        let sums = super::super::install::SHA256SUMS;
        let files: [(&str, &[u8]); 10] = [
            ("HM27.ordering.tsv.gz", super::HM27_ORDERING),
            ("HM27.hg38.coord.tsv.gz", super::HM27_COORD),
            ("hm450_manifest_probes.csv.gz", super::HM450_MAP),
            ("hm450_sex_chromosome_probes.tsv.gz", super::HM450_SEX),
            ("MSA.ordering.tsv.gz", super::MSA_ORDERING),
            ("MSA.hg38.coord.tsv.gz", super::MSA_COORD),
            (
                "EPIC.controls.sesameData.tsv",
                super::EPIC_CONTROLS.as_bytes(),
            ),
            ("checksums/EPIC.SHA256SUMS", sums[0].1.as_bytes()),
            ("checksums/EPICv2.SHA256SUMS", sums[1].1.as_bytes()),
            ("checksums/MSA.SHA256SUMS", sums[2].1.as_bytes()),
        ];
        // The bundled MSA files are upstream's own: their sums are in upstream's list too.
        for name in ["MSA.ordering.tsv.gz", "MSA.hg38.coord.tsv.gz"] {
            let hex = sha256_hex(files.iter().find(|f| f.0 == name).unwrap().1);
            assert!(sums[2].1.contains(&format!("{hex}  {name}")), "{name}");
        }
        assert_eq!(listed.lines().count(), files.len());
        for (name, bytes) in files {
            let hex = sha256_hex(bytes);
            let line = format!("{hex}  {name}");
            assert!(
                listed.lines().any(|l| l == line),
                "{name}: {hex} not in MANIFEST.sha256"
            );
        }
    }
}
