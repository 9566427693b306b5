//! Genome builds and contig names, recognised from a header's reference sequences.
//!
//! Builds are told apart by the length of chromosome 1 (GRCh37/hg19 249,250,621 bp; GRCh38
//! 248,956,422 bp; T2T-CHM13 248,387,328 bp) and by the naming style (`1`, `chr1`,
//! `NC_000001.10/.11`, CHM13's `NC_060925.1`). hg19 and GRCh37 share chromosome lengths; they
//! differ in naming and in the mitochondrion: hg19's `chrM` is 16,571 bp (not the rCRS), while
//! GRCh37/hs37d5 `MT` and GRCh38 `chrM` are the 16,569 bp rCRS.

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

/// Chromosome number (1..=22 autosomes, 23 = X, 24 = Y, 25 = mitochondrion) of a contig
/// name in any of the recognised naming styles, or `None`.
pub fn chromosome_number(name: &str) -> Option<u8> {
    let bare = name.strip_prefix("chr").unwrap_or(name);
    match bare {
        "X" => return Some(23),
        "Y" => return Some(24),
        "M" | "MT" => return Some(25),
        _ => {}
    }
    if let Ok(n) = bare.parse::<u8>() {
        if (1..=22).contains(&n) && !bare.starts_with('0') {
            return Some(n);
        }
    }
    refseq_chromosome(name)
}

/// RefSeq accessions: GRCh37 `NC_0000NN.*`, GRCh38 `NC_0000NN.*`, rCRS `NC_012920.1`,
/// T2T-CHM13 `NC_060925.1`..`NC_060948.1` (chr1..22, X, Y in order).
fn refseq_chromosome(name: &str) -> Option<u8> {
    let acc = name.strip_prefix("NC_")?;
    let (num, _version) = acc.split_once('.').unwrap_or((acc, ""));
    let n: u32 = num.parse().ok()?;
    match n {
        1..=24 => Some(n as u8),
        12920 => Some(25),
        60925..=60948 => Some((n - 60925 + 1) as u8),
        _ => None,
    }
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
