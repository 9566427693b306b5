//! Genome builds and contig names, recognised from a header's reference sequences.
//!
//! Builds are told apart by the length of chromosome 1 (GRCh37/hg19 249,250,621 bp; GRCh38
//! 248,956,422 bp; T2T-CHM13 248,387,328 bp) and by the naming style (`1`, `chr1`,
//! `NC_000001.10/.11`, CHM13's `NC_060925.1`). hg19 and GRCh37 share chromosome lengths; they
//! differ in naming and in the mitochondrion: hg19's `chrM` is 16,571 bp (not the rCRS), while
//! GRCh37/hs37d5 `MT` and GRCh38 `chrM` are the 16,569 bp rCRS.

use crate::core::embedded;

/// A reference build as written in the `reference_build` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// GRCh37 with 1000 Genomes naming (`1`, `MT`), including hs37d5.
    Grch37,
    /// UCSC hg19 (`chr1`, 16,571 bp `chrM`).
    Hg19,
    /// GRCh38 / hg38.
    Grch38,
    /// T2T-CHM13 (v1.x / v2.0).
    T2tChm13,
    /// Aligned, but to something we do not recognise.
    Unknown,
    /// No alignment at all (FASTQ, or a header without reference sequences).
    Unaligned,
}

impl Build {
    /// The word written in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Build::Grch37 => "GRCh37",
            Build::Hg19 => "hg19",
            Build::Grch38 => "GRCh38",
            Build::T2tChm13 => "T2T-CHM13",
            Build::Unknown => "unknown",
            Build::Unaligned => "unaligned",
        }
    }
}

const ALIASES_TSV: &str = embedded::text(embedded::CONTIGS, "aliases.tsv");

fn alias_table() -> &'static std::collections::HashMap<String, u8> {
    static TABLE: std::sync::OnceLock<std::collections::HashMap<String, u8>> =
        std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = std::collections::HashMap::new();
        for line in ALIASES_TSV.lines().skip(1) {
            let mut f = line.split('\t');
            let (Some(canonical), Some(alias)) = (f.next(), f.next()) else {
                continue;
            };
            let number = match canonical {
                "X" => 23,
                "Y" => 24,
                "MT" => 25,
                n => match n.parse::<u8>() {
                    Ok(v) => v,
                    Err(_) => continue,
                },
            };
            t.insert(alias.to_string(), number);
        }
        t
    })
}

/// Chromosome number (1..=22 autosomes, 23 = X, 24 = Y, 25 = mitochondrion) of a contig
/// name in any naming style listed in `reference/contigs/aliases.tsv` (`1`, `chr1`,
/// `NC_000001.11`, `CM000663.2`, `NC_060925.1`, `MT`, `chrM`, `NC_012920.1`, …), or `None`.
/// Accession version suffixes (`.11`) are ignored.
pub fn chromosome_number(name: &str) -> Option<u8> {
    let t = alias_table();
    if let Some(&n) = t.get(name) {
        return Some(n);
    }
    let (base, version) = name.rsplit_once('.')?;
    if !version.is_empty()
        && version.bytes().all(|b| b.is_ascii_digit())
        && base.contains('_') | base.starts_with("CM") | base.starts_with('J')
    {
        return t.get(base).copied();
    }
    None
}

/// Whether a contig is the mitochondrial genome.
pub fn is_mitochondrial(name: &str) -> bool {
    chromosome_number(name) == Some(25)
}

/// Whether a contig is an autosome (1–22).
pub fn is_autosome(name: &str) -> bool {
    matches!(chromosome_number(name), Some(1..=22))
}

/// Recognises the build from `(name, length)` pairs of the reference sequences.
pub fn detect_build<'a, I>(contigs: I) -> Build
where
    I: IntoIterator<Item = (&'a str, usize)>,
{
    let mut saw_any = false;
    let mut chr1: Option<(&str, usize)> = None;
    let mut mito_len = None;
    for (name, len) in contigs {
        saw_any = true;
        match chromosome_number(name) {
            Some(1) if chr1.is_none() => chr1 = Some((name, len)),
            Some(25) => mito_len = Some(len),
            _ => {}
        }
    }
    if !saw_any {
        return Build::Unaligned;
    }
    match chr1 {
        Some((name, 249_250_621)) => {
            if name.starts_with("chr") || mito_len == Some(16_571) {
                Build::Hg19
            } else {
                Build::Grch37
            }
        }
        Some((_, 248_956_422)) => Build::Grch38,
        Some((_, 248_387_328)) => Build::T2tChm13,
        _ => Build::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromosome_names_in_every_style() {
        assert_eq!(chromosome_number("1"), Some(1));
        assert_eq!(chromosome_number("chr22"), Some(22));
        assert_eq!(chromosome_number("chrM"), Some(25));
        assert_eq!(chromosome_number("MT"), Some(25));
        assert_eq!(chromosome_number("chrMT"), Some(25));
        assert_eq!(chromosome_number("NC_012920.1"), Some(25));
        assert_eq!(chromosome_number("NC_000001.11"), Some(1));
        assert_eq!(chromosome_number("NC_060925.1"), Some(1));
        assert_eq!(chromosome_number("NC_060948.1"), Some(24));
        assert_eq!(chromosome_number("chrUn_gl000220"), None);
        assert_eq!(chromosome_number("GL000192.1"), None);
        assert_eq!(chromosome_number("01"), None);
        assert_eq!(chromosome_number("CM000663.2"), Some(1));
        assert_eq!(chromosome_number("J01415.2"), Some(25));
        assert_eq!(chromosome_number("chr1_KI270706v1_random"), None);
        assert!(is_mitochondrial("chrM") && is_mitochondrial("MT") && !is_mitochondrial("chrX"));
        assert!(is_autosome("22") && !is_autosome("X") && !is_autosome("chrM"));
        assert_eq!(chromosome_number("hs37d5"), None);
    }

    #[test]
    fn builds_from_chr1_length_and_naming() {
        assert_eq!(
            detect_build([("1", 249_250_621), ("MT", 16_569)]),
            Build::Grch37
        );
        assert_eq!(
            detect_build([("chr1", 249_250_621), ("chrM", 16_571)]),
            Build::Hg19
        );
        assert_eq!(detect_build([("chr1", 248_956_422)]), Build::Grch38);
        assert_eq!(detect_build([("chr1", 248_387_328)]), Build::T2tChm13);
        assert_eq!(detect_build([("fwd:", 197)]), Build::Unknown);
        assert_eq!(detect_build(std::iter::empty()), Build::Unaligned);
    }
}
