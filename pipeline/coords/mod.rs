//! Genome coordinates of Illumina methylation probes in hg19 and hg38, bundled in the binary
//! (`reference/coords/`, see its PROVENANCE.md), and the position → probe index sequencing
//! calls are mapped through.
//!
//! Convention: a probe's position is the **1-based position of the C of its CpG on the +
//! strand** (the − strand C is one base after it). Sources: minfi's hg19 `Locations` (`pos`
//! is that C) for the 450K cg probes; InfiniumAnnotation (sesame) `CpG_beg` + 1 for hg38, from
//! the 450K table and, for cg IDs not on the 450K, the MSA table (EPIC-only CpGs). Positions a
//! table lacks are lifted with the bundled UCSC chains ([`liftover`]): the MSA-only CpGs to
//! hg19, and the 450K probes sesame left unmapped to hg38. Only the main chromosomes (1–22,
//! X, Y, M) are indexed; `ch.` and `rs` probes are not CpGs and are left out.

pub mod liftover;

use crate::core::embedded;
use std::{
    fmt,
    io::{BufRead, BufReader},
    sync::OnceLock,
};

use crate::core::{build::chromosome_number, hash::FastMap};
use liftover::Liftover;

const HM450: &[u8] = embedded::file(embedded::COORDS, "hm450_coords.tsv.gz");
const MSA_ONLY: &[u8] = embedded::file(embedded::COORDS, "msa_only_hg38.tsv.gz");
const HG19_TO_HG38: &[u8] = embedded::file(embedded::COORDS, "hg19ToHg38.over.chain.gz");
const HG38_TO_HG19: &[u8] = embedded::file(embedded::COORDS, "hg38ToHg19.over.chain.gz");

/// An error in a bundled coordinate or chain table.
#[derive(Clone, Debug, PartialEq)]
pub struct CoordError {
    /// The table.
    pub source: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl CoordError {
    /// A new error.
    pub fn new(source: &str, line: Option<u64>, message: String) -> Self {
        CoordError {
            source: source.to_string(),
            line,
            message,
        }
    }
}

impl fmt::Display for CoordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(
                f,
                "{}: line {}: {}",
                self.source,
                crate::core::thousands(l),
                self.message
            ),
            None => write!(f, "{}: {}", self.source, self.message),
        }
    }
}

impl std::error::Error for CoordError {}

impl crate::core::error::Categorised for CoordError {
    fn category(&self) -> crate::core::error::Category {
        crate::core::error::category_of_input_message(&self.message)
    }
}

/// The two genome builds agemark maps probes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Assembly {
    /// GRCh37 / hg19.
    Hg19,
    /// GRCh38 / hg38.
    Hg38,
}

impl Assembly {
    /// `hg19` or `hg38`.
    pub fn as_str(self) -> &'static str {
        match self {
            Assembly::Hg19 => "hg19",
            Assembly::Hg38 => "hg38",
        }
    }

    /// The other build.
    pub fn other(self) -> Assembly {
        match self {
            Assembly::Hg19 => Assembly::Hg38,
            Assembly::Hg38 => Assembly::Hg19,
        }
    }
}

/// One 450K cg probe of the bundled table, with its position in each build the tables give
/// (no liftover).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeCoord {
    /// cg ID.
    pub probe: String,
    /// hg19 chromosome and 1-based + strand C (minfi).
    pub hg19: Option<(String, u64)>,
    /// hg38 chromosome and 1-based + strand C (InfiniumAnnotation).
    pub hg38: Option<(String, u64)>,
}

/// The 450K cg probes of `reference/coords/hm450_coords.tsv.gz`, in file order (by hg19
/// position).
pub fn hm450_table() -> Result<Vec<ProbeCoord>, CoordError> {
    let name = "reference/coords/hm450_coords.tsv.gz";
    let mut out = Vec::with_capacity(482_421);
    for_each_row(name, HM450, 5, |line, f| {
        let bad = |m: &str| CoordError::new(name, Some(line), m.to_string());
        let hg19 = if f[2] == "NA" {
            None
        } else {
            let p: u64 = f[2].parse().map_err(|_| bad("hg19_pos"))?;
            Some((f[1].to_string(), p))
        };
        let hg38 = match (f[3], f[4]) {
            ("NA", _) | (_, "NA") => None,
            (c, d) => {
                let d: i64 = d.parse().map_err(|_| bad("hg38 offset"))?;
                let chrom = if c == "=" { f[1] } else { c };
                let pos = match &hg19 {
                    Some((_, p)) => *p as i64 + d,
                    None => d,
                };
                if pos <= 0 {
                    return Err(bad("hg38 position below 1"));
                }
                Some((chrom.to_string(), pos as u64))
            }
        };
        out.push(ProbeCoord {
            probe: f[0].to_string(),
            hg19,
            hg38,
        });
        Ok(())
    })?;
    Ok(out)
}

/// The EPIC-only cg IDs of `reference/coords/msa_only_hg38.tsv.gz` with their hg38 position.
pub fn msa_only_table() -> Result<Vec<(String, String, u64)>, CoordError> {
    let name = "reference/coords/msa_only_hg38.tsv.gz";
    let mut out = Vec::with_capacity(147_750);
    for_each_row(name, MSA_ONLY, 3, |line, f| {
        let p: u64 = f[2]
            .parse()
            .map_err(|_| CoordError::new(name, Some(line), "hg38_pos".to_string()))?;
        out.push((f[0].to_string(), f[1].to_string(), p));
        Ok(())
    })?;
    Ok(out)
}

fn for_each_row(
    name: &str,
    gz: &[u8],
    n_fields: usize,
    mut f: impl FnMut(u64, &[&str]) -> Result<(), CoordError>,
) -> Result<(), CoordError> {
    let mut reader = BufReader::with_capacity(1 << 16, flate2::read::MultiGzDecoder::new(gz));
    let mut line = String::new();
    let mut i = 0usize;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| CoordError::new(name, None, format!("read: {e}")))?;
        if n == 0 {
            break;
        }
        i += 1;
        if i == 1 {
            continue;
        }
        let mut fields = [""; 8];
        let mut k = 0;
        for x in line.trim_end_matches('\n').split('\t') {
            if k < fields.len() {
                fields[k] = x;
            }
            k += 1;
        }
        if k != n_fields {
            return Err(CoordError::new(
                name,
                Some(i as u64),
                format!("{k} fields, expected {n_fields}"),
            ));
        }
        f(i as u64, &fields[..k])?;
    }
    Ok(())
}

/// The bundled chain lifting `from` to the other build.
pub fn liftover(from: Assembly) -> Result<&'static Liftover, CoordError> {
    static HG19: OnceLock<Result<Liftover, CoordError>> = OnceLock::new();
    static HG38: OnceLock<Result<Liftover, CoordError>> = OnceLock::new();
    let cell = match from {
        Assembly::Hg19 => HG19.get_or_init(|| {
            Liftover::from_gz_bytes("reference/coords/hg19ToHg38.over.chain.gz", HG19_TO_HG38)
        }),
        Assembly::Hg38 => HG38.get_or_init(|| {
            Liftover::from_gz_bytes("reference/coords/hg38ToHg19.over.chain.gz", HG38_TO_HG19)
        }),
    };
    cell.as_ref().map_err(Clone::clone)
}

/// A key for a position on a main chromosome (number from
/// [`chromosome_number`](crate::core::build::chromosome_number)).
#[inline]
pub fn key(chrom: u8, pos: u64) -> u64 {
    (u64::from(chrom) << 40) | pos
}

/// A cg ID as a number (`cg00000029` → 29; 8 digits, or 9 for a few MSA IDs).
pub fn cg_number(id: &str) -> Option<u32> {
    let d = id.strip_prefix("cg")?;
    if !(8..=9).contains(&d.len()) || (d.len() == 9 && d.starts_with('0')) {
        return None;
    }
    d.parse().ok()
}

/// The cg ID of a number from [`cg_number`].
pub fn cg_name(n: u32) -> String {
    if n >= 100_000_000 {
        format!("cg{n}")
    } else {
        format!("cg{n:08}")
    }
}

/// Position (+ strand C of a CpG, 1-based) → probe, for one build.
#[derive(Debug, Default)]
pub struct ProbeIndex {
    /// The build.
    pub assembly: Option<Assembly>,
    /// Probes as cg numbers ([`cg_name`]); [`ProbeIndex::get`] returns indices into this.
    pub probes: Vec<u32>,
    /// Per probe: its position here came from a liftover, not a table.
    pub lifted: Vec<bool>,
    /// Per probe: an EPIC-only CpG from the MSA table (not a 450K probe).
    pub msa_only: Vec<bool>,
    map: FastMap<u64, u32>,
    /// Probes whose table position another probe (the key, the first one at that position)
    /// also has: sesame places 34 pairs of 450K probes on the same hg38 CpG. They get the
    /// same calls.
    pub shared: FastMap<u32, Vec<u32>>,
    /// Probes whose position in this build is unknown (not in a table, does not lift).
    pub unplaced: u64,
    /// Probes left out: off the main chromosomes, or lifted to a position a table already
    /// gives another probe.
    pub skipped: u64,
}

impl ProbeIndex {
    /// The probe whose CpG's + strand C is at `pos` (1-based) of chromosome number `chrom`.
    #[inline]
    pub fn get(&self, chrom: u8, pos: u64) -> Option<u32> {
        self.map.get(&key(chrom, pos)).copied()
    }

    /// The cg ID of probe `i`.
    pub fn name(&self, i: u32) -> String {
        cg_name(self.probes[i as usize])
    }

    /// Number of indexed probes.
    pub fn len(&self) -> usize {
        self.probes.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.probes.is_empty()
    }

    /// Number of probes placed by liftover.
    pub fn n_lifted(&self) -> usize {
        self.lifted.iter().filter(|&&l| l).count()
    }

    fn add(&mut self, probe: u32, chrom: Option<u8>, pos: u64, lifted: bool, msa: bool) {
        let Some(c) = chrom else {
            self.skipped += 1;
            return;
        };
        let k = key(c, pos);
        let i = self.probes.len() as u32;
        if let Some(&first) = self.map.get(&k) {
            if lifted || self.lifted[first as usize] {
                self.skipped += 1;
                return;
            }
            self.shared.entry(first).or_default().push(i);
        } else {
            self.map.insert(k, i);
        }
        self.probes.push(probe);
        self.lifted.push(lifted);
        self.msa_only.push(msa);
    }

    /// Builds the index of `assembly` from the bundled tables and chains.
    pub fn build(assembly: Assembly) -> Result<Self, CoordError> {
        let mut idx = ProbeIndex {
            assembly: Some(assembly),
            map: FastMap::with_capacity_and_hasher(640_000, Default::default()),
            ..Default::default()
        };
        // Table positions first, so that a lifted position never displaces one.
        let mut to_lift: Vec<(u32, String, u64, bool)> = Vec::new();
        let mut chroms = ChromNames::default();
        let name = "reference/coords/hm450_coords.tsv.gz";
        for_each_row(name, HM450, 5, |line, f| {
            let bad = |m: &str| CoordError::new(name, Some(line), m.to_string());
            let probe = cg_number(f[0]).ok_or_else(|| bad("not a cg ID"))?;
            let hg19: Option<u64> = match f[2] {
                "NA" => None,
                p => Some(p.parse().map_err(|_| bad("hg19_pos"))?),
            };
            let hg38: Option<(&str, u64)> = match (f[3], f[4]) {
                ("NA", _) | (_, "NA") => None,
                (c, d) => {
                    let d: i64 = d.parse().map_err(|_| bad("hg38 offset"))?;
                    let pos = hg19.map_or(d, |p| p as i64 + d);
                    if pos <= 0 {
                        return Err(bad("hg38 position below 1"));
                    }
                    Some((if c == "=" { f[1] } else { c }, pos as u64))
                }
            };
            match (assembly, hg19, hg38) {
                (Assembly::Hg19, Some(p), _) => {
                    idx.add(probe, chroms.number(f[1]), p, false, false)
                }
                (Assembly::Hg38, _, Some((c, p))) => {
                    idx.add(probe, chroms.number(c), p, false, false)
                }
                (Assembly::Hg19, None, Some((c, p))) => {
                    to_lift.push((probe, c.to_string(), p, false))
                }
                (Assembly::Hg38, Some(p), None) => {
                    to_lift.push((probe, f[1].to_string(), p, false))
                }
                _ => idx.unplaced += 1,
            }
            Ok(())
        })?;
        let name = "reference/coords/msa_only_hg38.tsv.gz";
        for_each_row(name, MSA_ONLY, 3, |line, f| {
            let bad = |m: &str| CoordError::new(name, Some(line), m.to_string());
            let probe = cg_number(f[0]).ok_or_else(|| bad("not a cg ID"))?;
            let p: u64 = f[2].parse().map_err(|_| bad("hg38_pos"))?;
            match assembly {
                Assembly::Hg38 => idx.add(probe, chroms.number(f[1]), p, false, true),
                Assembly::Hg19 => to_lift.push((probe, f[1].to_string(), p, true)),
            }
            Ok(())
        })?;
        if !to_lift.is_empty() {
            let lo = liftover(assembly.other())?;
            for (probe, c, pos, msa) in to_lift {
                match lo.lift_cpg(&c, pos) {
                    Some(l) => {
                        let n = chroms.number(&l.chrom);
                        idx.add(probe, n, l.pos, true, msa)
                    }
                    None => idx.unplaced += 1,
                }
            }
        }
        Ok(idx)
    }
}

/// Chromosome numbers of names, remembering the last one (tables are sorted by chromosome).
#[derive(Default)]
struct ChromNames {
    last: String,
    number: Option<u8>,
}

impl ChromNames {
    fn number(&mut self, name: &str) -> Option<u8> {
        if name != self.last {
            self.last.clear();
            self.last.push_str(name);
            self.number = chromosome_number(name);
        }
        self.number
    }
}

/// The probe index of `assembly`, built once per process.
pub fn probe_index(assembly: Assembly) -> Result<&'static ProbeIndex, CoordError> {
    static HG19: OnceLock<Result<ProbeIndex, CoordError>> = OnceLock::new();
    static HG38: OnceLock<Result<ProbeIndex, CoordError>> = OnceLock::new();
    let cell = match assembly {
        Assembly::Hg19 => HG19.get_or_init(|| ProbeIndex::build(Assembly::Hg19)),
        Assembly::Hg38 => HG38.get_or_init(|| ProbeIndex::build(Assembly::Hg38)),
    };
    cell.as_ref().map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_tables_read_and_index() {
        let t = hm450_table().unwrap();
        assert_eq!(t.len(), 482_421);
        // cg00000029: minfi hg19 chr16:53,468,112; sesame hg38 CpG_beg 53,434,199 (+1).
        let p = t.iter().find(|p| p.probe == "cg00000029").unwrap();
        assert_eq!(p.hg19, Some(("chr16".to_string(), 53_468_112)));
        assert_eq!(p.hg38, Some(("chr16".to_string(), 53_434_200)));
        assert_eq!(t.iter().filter(|p| p.hg38.is_none()).count(), 8);
        let hg19 = probe_index(Assembly::Hg19).unwrap();
        let i = hg19.get(16, 53_468_112).unwrap();
        assert_eq!(hg19.name(i), "cg00000029");
        let hg38 = probe_index(Assembly::Hg38).unwrap();
        let i = hg38.get(16, 53_434_200).unwrap();
        assert_eq!(hg38.name(i), "cg00000029");
        assert_eq!(
            cg_number("cg163784633").map(cg_name).as_deref(),
            Some("cg163784633")
        );
        assert_eq!(cg_number("cg00000029"), Some(29));
        assert_eq!(cg_number("ch.1.123"), None);
        // The MSA-only CpGs are lifted to hg19; the 8 unmapped 450K probes to hg38.
        assert!(hg19.n_lifted() > 140_000, "{}", hg19.n_lifted());
        assert!(hg38.n_lifted() <= 8);
        assert!(hg19.len() > 620_000 && hg38.len() > 620_000);
    }
}

#[cfg(test)]
mod provenance {
    use crate::core::checksum::sha256_hex;

    /// Every embedded file's sha256 is the one reference/coords/PROVENANCE.md lists.
    #[test]
    fn embedded_files_match_their_provenance_checksums() {
        let prov = crate::core::embedded::text(crate::core::embedded::COORDS, "PROVENANCE.md");
        for (name, bytes) in [
            ("hm450_coords.tsv.gz", super::HM450),
            ("msa_only_hg38.tsv.gz", super::MSA_ONLY),
            ("hg19ToHg38.over.chain.gz", super::HG19_TO_HG38),
            ("hg38ToHg19.over.chain.gz", super::HG38_TO_HG19),
        ] {
            let hex = sha256_hex(bytes);
            assert!(
                prov.contains(&format!("{hex}  {name}")),
                "{name}: sha256 {hex} not in PROVENANCE.md"
            );
        }
    }
}

#[cfg(test)]
mod liftover_agreement {
    use super::*;

    /// The chains against the tables on the 450K probes both tables place: hg19 → hg38 and
    /// hg38 → hg19, CpG by CpG. The counts are printed for the README.
    #[test]
    fn chains_agree_with_the_tables_on_probes_both_know() {
        let t = hm450_table().unwrap();
        for from in [Assembly::Hg19, Assembly::Hg38] {
            let lo = liftover(from).unwrap();
            let (mut both, mut same, mut off, mut elsewhere, mut none) =
                (0u64, 0u64, 0u64, 0u64, 0u64);
            for p in &t {
                let (Some(a), Some(b)) = (&p.hg19, &p.hg38) else {
                    continue;
                };
                let (src, dst) = if from == Assembly::Hg19 {
                    (a, b)
                } else {
                    (b, a)
                };
                both += 1;
                match lo.lift_cpg(&src.0, src.1) {
                    Some(l) if l.chrom == dst.0 && l.pos == dst.1 => same += 1,
                    Some(l) if l.chrom == dst.0 && l.pos.abs_diff(dst.1) == 1 => off += 1,
                    Some(_) => elsewhere += 1,
                    None => none += 1,
                }
            }
            eprintln!(
                "liftover {} → {}: {both} probes in both tables: {same} same position, {off} off by one, {elsewhere} elsewhere, {none} not lifted",
                from.as_str(),
                from.other().as_str()
            );
            assert_eq!(both, 482_413);
            assert!(same as f64 > 0.994 * both as f64, "{same} of {both}");
        }
    }
}
