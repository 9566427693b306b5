//! TelomereHunter-compatible telomere content (Feuerbach et al. 2019, *BMC Bioinformatics*
//! 20:272, doi:10.1186/s12859-019-2851-0), reproducing telomerehunter2 1.0.12 (F. Popp, DKFZ).
//!
//! * Reads considered: every record except secondary and supplementary ones and records with no
//!   stored sequence; duplicates are kept unless asked otherwise; unmapped and QC-fail reads count.
//! * Repeat threshold: one per sample, from the first 1,000 primary records: for each distinct
//!   read length `L`, `round(6 × L / 100)` (half to even); if those differ, their average weighted
//!   by read count, rounded; at least 4. 50 bp → 4, 76 bp → 5, 100 bp → 6, 150 bp → 9.
//! * Telomeric read: on either strand, at least `threshold` non-overlapping, leftmost matches of
//!   the repeat types TTAGGG, TGAGGG, TCAGGG, TTGGGG, TTCGGG, TTTGGG (reverse complements on the
//!   other strand); strands are not added together.
//! * GC normaliser: over all considered reads with at most 20 % N, GC % = round((C+G)/(non-N
//!   bases) × 100) (half to even); reads with 48 ≤ GC % ≤ 52.
//! * Classes: a telomeric read is "unmapped" when unmapped, MAPQ < 8, or on a contig outside
//!   chromosomes 1–22, X, Y; "subtelomeric" when its 0-based start is at most the end of its
//!   chromosome's first cytoband or beyond the end of its second-to-last band; otherwise
//!   "interior". Telomeric reads sharing a name are classified as a pair:
//!   both unmapped → both intratelomeric; one unmapped + one subtelomeric → both junction-spanning;
//!   both subtelomeric → both subtelomeric; one subtelomeric → it subtelomeric, the other
//!   intrachromosomal; anything else → intrachromosomal. Single reads: unmapped → intratelomeric,
//!   subtelomeric → subtelomeric, interior → intrachromosomal.
//! * Telomere content = intratelomeric reads × 10⁶ / reads with 48–52 % GC.
//!
//! Cytobands come from the UCSC tables (hg19, hg38, T2T-CHM13 v2.0), chosen from the build the
//! BAM header shows, so no cytoband file is needed; see `reference/telomere/`. This is
//! telomerehunter2's banded mode (`-b hg19|hg38`): its unbanded default takes the last row of an
//! unordered table instead of the intratelomeric count (a defect we do not reproduce).

use crate::core::embedded;
use std::collections::HashMap;

use crate::core::build::{chromosome_number, Build};

/// Repeats per 100 bp.
pub const REPEATS_PER_100_BP: f64 = 6.0;
/// Smallest automatic threshold.
pub const MIN_THRESHOLD: u32 = 4;
/// Records used to find the read length.
pub const LENGTH_SAMPLE: usize = 1000;
/// MAPQ below which a read counts as unmapped.
pub const MAPQ_THRESHOLD: u8 = 8;

const BANDS_TSV: &str = embedded::text(embedded::TELOMERE, "subtelomeric_bands.tsv");

/// Where a telomeric read lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Unmapped, MAPQ < 8, or on a non-chromosome contig.
    Unmapped,
    /// In the first or last cytoband of a chromosome.
    Subtelomeric,
    /// Elsewhere on a chromosome.
    Interior,
}

/// The four TelomereHunter fractions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fractions {
    /// Intratelomeric reads.
    pub intratelomeric: u64,
    /// Junction-spanning reads.
    pub junction_spanning: u64,
    /// Subtelomeric reads.
    pub subtelomeric: u64,
    /// Intrachromosomal reads.
    pub intrachromosomal: u64,
}

/// A read that passed the candidate floor, kept until the threshold is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    /// Hash of the read name (pairs share it).
    pub name_hash: u64,
    /// `flags & 0xC0`: first/last segment, for ordering mates as a name sort does.
    pub mate_order: u8,
    /// 1-based record number (ties after name and mate order).
    pub record: u64,
    /// Greedy forward-repeat count.
    pub fwd: u32,
    /// Greedy reverse-complement count.
    pub rev: u32,
    /// Where the read lies.
    pub place: PlaceKey,
}

/// `Place` prepared at observation time, without the build (resolved at the end).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PlaceKey {
    /// Unmapped flag set or MAPQ below 8.
    pub unmapped: bool,
    /// Reference index.
    pub tid: Option<u32>,
    /// 0-based position.
    pub pos: u64,
}

/// Subtelomeric band limits per chromosome number (1..=24).
#[derive(Clone, Debug, Default)]
pub struct Bands {
    limits: HashMap<u8, (u64, u64)>,
}

impl Bands {
    /// The bands of a build (`None` for builds without a cytoband table).
    pub fn for_build(build: Build) -> Option<Bands> {
        let key = match build {
            Build::Grch37 | Build::Hg19 => "hg19",
            Build::Grch38 => "hg38",
            Build::T2tChm13 => "T2T-CHM13",
            Build::Unknown | Build::Unaligned => return None,
        };
        let mut limits = HashMap::new();
        for line in BANDS_TSV.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() == 4 && f[0] == key {
                if let (Some(chr), Ok(a), Ok(b)) =
                    (chromosome_number(f[1]), f[2].parse(), f[3].parse())
                {
                    limits.insert(chr, (a, b));
                }
            }
        }
        Some(Bands { limits })
    }

    /// Where a read lies, given its contig name.
    pub fn place(&self, key: &PlaceKey, contig: Option<&str>) -> Place {
        if key.unmapped {
            return Place::Unmapped;
        }
        let Some(chr) = contig.and_then(chromosome_number) else {
            return Place::Unmapped;
        };
        let Some(&(first_end, last_after)) = self.limits.get(&chr) else {
            return Place::Unmapped;
        };
        if key.pos <= first_end || key.pos > last_after {
            Place::Subtelomeric
        } else {
            Place::Interior
        }
    }
}

/// Python's `round()` (half to even) of a double.
fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

/// The repeat threshold from the read lengths of the first primary records.
pub fn repeat_threshold(lengths: &[u32]) -> u32 {
    if lengths.is_empty() {
        return MIN_THRESHOLD;
    }
    let mut counts: Vec<(u32, u64)> = Vec::new();
    for &l in lengths {
        match counts.iter_mut().find(|(len, _)| *len == l) {
            Some((_, c)) => *c += 1,
            None => counts.push((l, 1)),
        }
    }
    let per_len: Vec<(f64, f64)> = counts
        .iter()
        .map(|&(l, c)| {
            (
                round_half_even(f64::from(l) * REPEATS_PER_100_BP / 100.0),
                c as f64,
            )
        })
        .collect();
    let first = per_len[0].0;
    let t = if per_len.iter().all(|(t, _)| *t == first) {
        first
    } else {
        let wsum: f64 = per_len.iter().map(|(_, w)| w).sum();
        round_half_even(per_len.iter().map(|(t, w)| t * w).sum::<f64>() / wsum)
    };
    (t as u32).max(MIN_THRESHOLD)
}

/// GC percentage bin of a read, or `None` when it has more than 20 % N or no called base.
pub fn gc_percent(gc: u32, n: u32, len: u32) -> Option<usize> {
    let non_n = len.saturating_sub(n);
    if non_n == 0 || f64::from(n) / f64::from(len) > 0.2 {
        return None;
    }
    Some(round_half_even(f64::from(gc) / f64::from(non_n) * 100.0) as usize)
}

/// Classifies telomeric reads into the four fractions.
///
/// `telomeric` must be sorted by (name hash, mate order, record); consecutive reads with the
/// same name form a pair.
pub fn classify(telomeric: &[Candidate], place_of: impl Fn(&PlaceKey) -> Place) -> Fractions {
    use Place::*;
    let mut f = Fractions::default();
    let mut i = 0;
    while i < telomeric.len() {
        if i + 1 < telomeric.len() && telomeric[i].name_hash == telomeric[i + 1].name_hash {
            match (
                place_of(&telomeric[i].place),
                place_of(&telomeric[i + 1].place),
            ) {
                (Unmapped, Unmapped) => f.intratelomeric += 2,
                (Unmapped, Subtelomeric) | (Subtelomeric, Unmapped) => f.junction_spanning += 2,
                (Subtelomeric, Subtelomeric) => f.subtelomeric += 2,
                (Subtelomeric, _) | (_, Subtelomeric) => {
                    f.subtelomeric += 1;
                    f.intrachromosomal += 1;
                }
                _ => f.intrachromosomal += 2,
            }
            i += 2;
        } else {
            match place_of(&telomeric[i].place) {
                Unmapped => f.intratelomeric += 1,
                Subtelomeric => f.subtelomeric += 1,
                Interior => f.intrachromosomal += 1,
            }
            i += 1;
        }
    }
    f
}

/// Telomere content: intratelomeric reads per million reads with 48–52 % GC.
pub fn telomere_content(intratelomeric: u64, gc_reads: u64) -> Option<f64> {
    (gc_reads > 0).then(|| intratelomeric as f64 / gc_reads as f64 * 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_telomerehunter2() {
        let t = |l: u32| repeat_threshold(&vec![l; 1000]);
        assert_eq!(t(50), 4);
        assert_eq!(t(75), 4); // 4.5 rounds to even
        assert_eq!(t(76), 5);
        assert_eq!(t(100), 6);
        assert_eq!(t(101), 6);
        assert_eq!(t(125), 8); // 7.5 → 8
        assert_eq!(t(150), 9);
        assert_eq!(t(175), 10); // 10.5 → 10
        assert_eq!(t(250), 15);
        // Mixed lengths with different thresholds: weighted average.
        let mut v = vec![100u32; 500];
        v.extend(vec![150u32; 500]);
        assert_eq!(repeat_threshold(&v), 8); // (6 + 9) / 2 = 7.5 → 8
        assert_eq!(repeat_threshold(&[]), 4);
    }

    #[test]
    fn gc_percent_rounds_half_to_even_and_drops_n_rich_reads() {
        assert_eq!(gc_percent(7, 0, 56), Some(12)); // 12.5 → 12
        assert_eq!(gc_percent(25, 0, 50), Some(50));
        assert_eq!(gc_percent(10, 11, 50), None); // 22 % N
        assert_eq!(gc_percent(10, 10, 50), Some(25)); // 20 % N is kept; 10/40
        assert_eq!(gc_percent(0, 5, 5), None);
    }

    fn cand(name: u64, order: u8, record: u64, unmapped: bool, pos: u64) -> Candidate {
        Candidate {
            name_hash: name,
            mate_order: order,
            record,
            fwd: 10,
            rev: 0,
            place: PlaceKey {
                unmapped,
                tid: Some(0),
                pos,
            },
        }
    }

    #[test]
    fn pairs_and_singles_are_classified_like_telomerehunter2() {
        let bands = Bands::for_build(Build::Grch37).unwrap();
        let place = |k: &PlaceKey| bands.place(k, Some("1"));
        // chr1 hg19: first band ends 2,300,000; second-to-last band ends 243,700,000.
        let mut reads = vec![
            cand(1, 0x40, 1, true, 0),
            cand(1, 0x80, 2, false, 100), // unmapped + subtelomeric → junction ×2
            cand(2, 0x40, 3, true, 0),
            cand(2, 0x80, 4, true, 0), // both unmapped → intratelomeric ×2
            cand(3, 0x40, 5, false, 2_300_000), // single, first band (≤ end) → subtelomeric
            cand(4, 0x40, 6, false, 2_300_001), // single interior → intrachromosomal
            cand(5, 0x40, 7, false, 243_700_001), // single last band → subtelomeric
            cand(6, 0x40, 8, false, 50_000_000),
            cand(6, 0x80, 9, false, 1_000), // interior + subtelomeric → 1 sub, 1 intra
            cand(7, 0x40, 10, true, 0),
            cand(7, 0x80, 11, false, 50_000_000), // unmapped + interior → intra ×2
        ];
        reads.sort();
        let f = classify(&reads, place);
        assert_eq!(
            f,
            Fractions {
                intratelomeric: 2,
                junction_spanning: 2,
                subtelomeric: 3,
                intrachromosomal: 4
            }
        );
        // Off-chromosome contigs count as unmapped.
        assert_eq!(
            bands.place(
                &PlaceKey {
                    unmapped: false,
                    tid: Some(0),
                    pos: 5
                },
                Some("MT")
            ),
            Place::Unmapped
        );
        assert_eq!(
            bands.place(
                &PlaceKey {
                    unmapped: false,
                    tid: Some(0),
                    pos: 5
                },
                Some("GL000192.1")
            ),
            Place::Unmapped
        );
    }

    #[test]
    fn content_per_million_gc_reads() {
        assert_eq!(telomere_content(746, 876).unwrap(), 746.0 / 876.0 * 1e6);
        assert_eq!(telomere_content(3, 0), None);
    }
}
