//! SYNTHETIC whole-genome-like reads for the demo and tests — not real data.
//!
//! The real demo files are small subsets of real runs, so their telomere estimates are not
//! biologically meaningful. This generator makes an unaligned single-end FASTQ whose
//! composition resembles human whole-genome sequencing where it matters to both estimators:
//!
//! * background reads: per-read GC fraction drawn from a normal distribution around 41 %
//!   (sd 7 %), bases drawn independently with that GC, and 0.1 % N;
//! * telomeric reads: `(TTAGGG)n` from a random phase on a random strand, 6 % of repeats replaced
//!   by a variant (TCAGGG, TGAGGG, TTGGGG), 0.5 % base errors;
//! * the number of telomeric reads is set so that TelSeq's estimate lands near a chosen length:
//!   `T = L × G / (7233.06 − L)` with `G` the background reads in TelSeq's 48–52 % GC bins (the
//!   telomeric reads, 50 % GC, join that normaliser).
//!
//! Random numbers come from [`SplitMix64`], so the same seed gives the same reads on every
//! platform and every future version.

use std::io::{self, Write};

use crate::core::rng::SplitMix64;

/// What to generate.
#[derive(Clone, Debug)]
pub struct SyntheticSpec {
    /// Background reads.
    pub reads: usize,
    /// Read length.
    pub read_length: usize,
    /// TelSeq length the sample should show, in kb.
    pub target_telseq_kb: f64,
    /// Seed.
    pub seed: u64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        SyntheticSpec {
            reads: 200_000,
            read_length: 100,
            target_telseq_kb: 6.5,
            seed: 20_261_122,
        }
    }
}

/// What was generated, counted independently of agemark's scanner.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyntheticTruth {
    /// All reads written.
    pub reads: u64,
    /// Telomeric reads inserted.
    pub telomeric_inserted: u64,
    /// Reads with ≥ 7 `TTAGGG` or ≥ 7 `CCCTAA` (plain substring counts).
    pub telseq_ge7: u64,
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn in_telseq_gc_bins(read: &[u8]) -> bool {
    let gc = read.iter().filter(|&&b| b == b'G' || b == b'C').count() as u64;
    let l = read.len() as u64;
    48 * l < 100 * gc && 100 * gc <= 52 * l
}

fn background_read(rng: &mut SplitMix64, len: usize) -> Vec<u8> {
    let gc = rng.normal(0.41, 0.07).clamp(0.2, 0.75);
    (0..len)
        .map(|_| {
            let u = rng.unit();
            if u < 0.001 {
                b'N'
            } else if rng.unit() < gc {
                if rng.unit() < 0.5 {
                    b'G'
                } else {
                    b'C'
                }
            } else if rng.unit() < 0.5 {
                b'A'
            } else {
                b'T'
            }
        })
        .collect()
}

fn telomeric_read(rng: &mut SplitMix64, len: usize) -> Vec<u8> {
    const VARIANTS: [&[u8; 6]; 3] = [b"TCAGGG", b"TGAGGG", b"TTGGGG"];
    let mut s = Vec::with_capacity(len + 12);
    while s.len() < len + 6 {
        if rng.unit() < 0.06 {
            s.extend_from_slice(VARIANTS[(rng.next() % 3) as usize]);
        } else {
            s.extend_from_slice(b"TTAGGG");
        }
    }
    let phase = (rng.next() % 6) as usize;
    let mut read: Vec<u8> = s[phase..phase + len].to_vec();
    for b in read.iter_mut() {
        if rng.unit() < 0.005 {
            *b = b"ACGT"[(rng.next() % 4) as usize];
        }
    }
    if rng.unit() < 0.5 {
        read.reverse();
        for b in read.iter_mut() {
            *b = match *b {
                b'A' => b'T',
                b'C' => b'G',
                b'G' => b'C',
                b'T' => b'A',
                x => x,
            };
        }
    }
    read
}

/// Writes the synthetic sample as FASTQ to `w`; returns what was written.
pub fn write_fastq<W: Write>(w: &mut W, spec: &SyntheticSpec) -> io::Result<SyntheticTruth> {
    generate(spec, |i, _tel, read, qual| {
        writeln!(w, "@SYNTHETIC.{}", i + 1)?;
        w.write_all(read)?;
        w.write_all(b"\n+\n")?;
        w.write_all(qual)?;
        w.write_all(b"\n")
    })
}

/// The GRCh38 primary assembly: chromosome names and lengths (the header of an aligned
/// synthetic sample; `core::build` recognises it as GRCh38).
pub const GRCH38: [(&str, u64); 25] = [
    ("chr1", 248_956_422),
    ("chr2", 242_193_529),
    ("chr3", 198_295_559),
    ("chr4", 190_214_555),
    ("chr5", 181_538_259),
    ("chr6", 170_805_979),
    ("chr7", 159_345_973),
    ("chr8", 145_138_636),
    ("chr9", 138_394_717),
    ("chr10", 133_797_422),
    ("chr11", 135_086_622),
    ("chr12", 133_275_309),
    ("chr13", 114_364_328),
    ("chr14", 107_043_718),
    ("chr15", 101_991_189),
    ("chr16", 90_338_345),
    ("chr17", 83_257_441),
    ("chr18", 80_373_285),
    ("chr19", 58_617_616),
    ("chr20", 64_444_167),
    ("chr21", 46_709_983),
    ("chr22", 50_818_468),
    ("chrX", 156_040_895),
    ("chrY", 57_227_415),
    ("chrM", 16_569),
];

/// What an aligned synthetic sample carries besides its reads.
#[derive(Clone, Copy, Debug)]
pub struct AlignedSpec {
    /// XY (one X, one Y) or XX.
    pub male: bool,
    /// Mitochondrial genomes per diploid nuclear genome.
    pub mtdna_cn: f64,
}

/// Writes the synthetic sample as SAM aligned to [`GRCH38`]: the same reads as
/// [`write_fastq`]; each background read placed uniformly on the genome in proportion to
/// copies × length (autosomes 2, chrX 1 or 2, chrY 1 or 0, chrM `mtdna_cn`), so that
/// `2 × chrM depth / autosomal depth` is `mtdna_cn` in expectation and the chrX and chrY depths
/// follow the sex; telomeric reads unmapped, as most are in real whole-genome data.
pub fn write_sam<W: Write>(
    w: &mut W,
    spec: &SyntheticSpec,
    aligned: AlignedSpec,
) -> io::Result<SyntheticTruth> {
    writeln!(w, "@HD\tVN:1.6\tSO:unsorted")?;
    let mut weights = Vec::with_capacity(GRCH38.len());
    for (name, len) in GRCH38 {
        writeln!(w, "@SQ\tSN:{name}\tLN:{len}")?;
        let copies = match name {
            "chrX" if aligned.male => 1.0,
            "chrY" if aligned.male => 1.0,
            "chrY" => 0.0,
            "chrM" => aligned.mtdna_cn,
            _ => 2.0,
        };
        weights.push(copies * len as f64);
    }
    writeln!(
        w,
        "@CO\tSYNTHETIC reads made by agemark (pipeline/synthetic.rs), not real data"
    )?;
    let total: f64 = weights.iter().sum();
    let cumulative: Vec<f64> = weights
        .iter()
        .scan(0.0, |acc, x| {
            *acc += x / total;
            Some(*acc)
        })
        .collect();
    // A second stream for placement, so the reads stay those of `write_fastq`.
    let mut place = SplitMix64(spec.seed ^ 0x5EED_A11C_0000_0001);
    let len = spec.read_length as u64;
    generate(spec, |i, tel, read, qual| {
        write!(w, "SYNTHETIC.{}\t", i + 1)?;
        if tel {
            w.write_all(b"4\t*\t0\t0\t*\t*\t0\t0\t")?;
        } else {
            let u = place.unit();
            let c = cumulative
                .iter()
                .position(|&x| u < x)
                .unwrap_or(GRCH38.len() - 1);
            let (name, clen) = GRCH38[c];
            let pos = 1 + place.next() % (clen - len);
            let flag = if place.unit() < 0.5 { 0 } else { 16 };
            write!(w, "{flag}\t{name}\t{pos}\t60\t{len}M\t*\t0\t0\t")?;
        }
        w.write_all(read)?;
        w.write_all(b"\t")?;
        w.write_all(qual)?;
        w.write_all(b"\n")
    })
}

/// Generates the reads and calls `emit(index, telomeric, read, qualities)` for each, in file
/// order.
fn generate<F>(spec: &SyntheticSpec, mut emit: F) -> io::Result<SyntheticTruth>
where
    F: FnMut(usize, bool, &[u8], &[u8]) -> io::Result<()>,
{
    let mut rng = SplitMix64(spec.seed);
    let background: Vec<Vec<u8>> = (0..spec.reads)
        .map(|_| background_read(&mut rng, spec.read_length))
        .collect();
    let g = background.iter().filter(|r| in_telseq_gc_bins(r)).count() as f64;
    let l = spec.target_telseq_kb;
    let t = (l * g / (crate::telomere::telseq::GENOME_LENGTH_AT_TEL_GC / 1000.0 / 46.0 - l)).round()
        as usize;
    let total = spec.reads + t;
    // Spread the telomeric reads through the file.
    let mut is_tel = vec![false; total];
    let mut placed = 0;
    while placed < t {
        let i = (rng.next() % total as u64) as usize;
        if !is_tel[i] {
            is_tel[i] = true;
            placed += 1;
        }
    }
    let qual = vec![b'I'; spec.read_length];
    let mut truth = SyntheticTruth {
        reads: total as u64,
        telomeric_inserted: t as u64,
        telseq_ge7: 0,
    };
    let mut bg = background.into_iter();
    for (i, tel) in is_tel.into_iter().enumerate() {
        let read = if tel {
            telomeric_read(&mut rng, spec.read_length)
        } else {
            bg.next().unwrap_or_default()
        };
        if count(&read, b"TTAGGG").max(count(&read, b"CCCTAA")) >= 7 {
            truth.telseq_ge7 += 1;
        }
        emit(i, tel, &read, &qual)?;
    }
    Ok(truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_reads_and_planned_telomeric_fraction() {
        let spec = SyntheticSpec {
            reads: 20_000,
            ..SyntheticSpec::default()
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let ta = write_fastq(&mut a, &spec).unwrap();
        let tb = write_fastq(&mut b, &spec).unwrap();
        assert_eq!(a, b);
        assert_eq!(ta, tb);
        assert!(ta.telomeric_inserted > 0);
        assert!(ta.telseq_ge7 <= ta.telomeric_inserted + 1);
        assert!(ta.telseq_ge7 * 10 >= ta.telomeric_inserted * 8, "{ta:?}");
        assert_eq!(
            a.iter().filter(|&&c| c == b'\n').count() as u64,
            4 * ta.reads
        );
    }

    #[test]
    fn aligned_reads_are_the_fastq_reads_placed_by_copies_and_sex() {
        let spec = SyntheticSpec {
            reads: 50_000,
            ..SyntheticSpec::default()
        };
        let (mut fq, mut sam) = (Vec::new(), Vec::new());
        let t_fq = write_fastq(&mut fq, &spec).unwrap();
        let female = AlignedSpec {
            male: false,
            mtdna_cn: 4000.0,
        };
        let t_sam = write_sam(&mut sam, &spec, female).unwrap();
        assert_eq!(t_fq, t_sam);
        let sam = String::from_utf8(sam).unwrap();
        let records: Vec<Vec<&str>> = sam
            .lines()
            .filter(|l| !l.starts_with('@'))
            .map(|l| l.split('\t').collect())
            .collect();
        assert_eq!(records.len() as u64, t_sam.reads);
        // The same sequences in the same order as the FASTQ.
        let fq_seqs: Vec<&str> = std::str::from_utf8(&fq)
            .unwrap()
            .lines()
            .skip(1)
            .step_by(4)
            .collect();
        assert!(records.iter().zip(&fq_seqs).all(|(r, s)| r[9] == *s));
        let on = |c: &str| records.iter().filter(|r| r[2] == c).count() as f64;
        assert_eq!(on("chrY"), 0.0, "no chrY reads for XX");
        assert_eq!(on("*") as u64, t_sam.telomeric_inserted);
        // chrM share: CN × 16,569 of (2 × autosomes + 2 × chrX + CN × 16,569) bases.
        let auto: f64 = GRCH38[..22].iter().map(|c| c.1 as f64).sum();
        let want = 4000.0 * 16_569.0 / (2.0 * auto + 2.0 * 156_040_895.0 + 4000.0 * 16_569.0)
            * spec.reads as f64;
        assert!(
            (on("chrM") - want).abs() < 4.0 * want.sqrt(),
            "{} vs {want}",
            on("chrM")
        );
    }
}

/// A SYNTHETIC modBAM (as SAM) and its reference: CpGs at chosen positions of one contig, each
/// with a chosen methylated fraction, covered by long reads with `MM`/`ML` calls.
#[derive(Clone, Debug)]
pub struct ModbamSpec {
    /// Contig name.
    pub contig: String,
    /// Contig length.
    pub length: u64,
    /// CpGs: 0-based position of the + strand C, and the fraction of reads methylated there.
    pub sites: Vec<(u64, f64)>,
    /// Reads over each site (half of them reverse-strand records).
    pub reads_per_site: usize,
    /// Read length.
    pub read_length: u64,
    /// `ML` byte of a methylated call (the unmethylated call is `255 −` it).
    pub confidence: u8,
    /// Seed.
    pub seed: u64,
}

/// Writes the reference FASTA of a [`ModbamSpec`]: `T` everywhere but `CG` at the sites, so
/// the sites are the contig's only CpGs.
pub fn write_modbam_reference<W: Write>(w: &mut W, spec: &ModbamSpec) -> io::Result<()> {
    writeln!(w, ">{} SYNTHETIC reference made by agemark", spec.contig)?;
    let mut sites: Vec<u64> = spec.sites.iter().map(|s| s.0).collect();
    sites.sort_unstable();
    let mut line = Vec::with_capacity(80);
    let mut next = sites.iter().peekable();
    let mut pos = 0u64;
    while pos < spec.length {
        line.clear();
        let end = (pos + 60).min(spec.length);
        for p in pos..end {
            while next.peek().is_some_and(|&&s| s + 1 < p) {
                next.next();
            }
            let b = match next.peek() {
                Some(&&s) if s == p => b'C',
                Some(&&s) if s + 1 == p => b'G',
                _ => b'T',
            };
            line.push(b);
        }
        line.push(b'\n');
        w.write_all(&line)?;
        pos = end;
    }
    Ok(())
}

/// Writes the SYNTHETIC reads of a [`ModbamSpec`] as SAM (header first); returns, per site,
/// the methylated and total calls written (both strands).
pub fn write_modbam_sam<W: Write>(w: &mut W, spec: &ModbamSpec) -> io::Result<Vec<(u32, u32)>> {
    writeln!(w, "@HD\tVN:1.6\tSO:unsorted")?;
    writeln!(w, "@SQ\tSN:{}\tLN:{}", spec.contig, spec.length)?;
    writeln!(
        w,
        "@CO\tSYNTHETIC modBAM made by agemark (pipeline/synthetic.rs), not real data"
    )?;
    let mut rng = SplitMix64(spec.seed);
    let mut sorted: Vec<(u64, f64)> = spec.sites.clone();
    sorted.sort_by_key(|s| s.0);
    let frac_at = |p: u64| -> Option<f64> {
        sorted
            .binary_search_by_key(&p, |s| s.0)
            .ok()
            .map(|i| sorted[i].1)
    };
    let mut truth = vec![(0u32, 0u32); spec.sites.len()];
    let index_of: std::collections::HashMap<u64, usize> = spec
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.0, i))
        .collect();
    let mut n = 0u64;
    for &(site, _) in &spec.sites {
        for j in 0..spec.reads_per_site {
            let len = spec.read_length.min(spec.length);
            let lo = (site + 2).saturating_sub(len);
            let hi = site.min(spec.length - len);
            let start = lo + rng.below(hi - lo + 1);
            let end = start + len;
            let reverse = j % 2 == 1;
            // The read is the reference: a site's C and G where they fall inside it.
            let mut seq = vec![b'T'; len as usize];
            let mut plus = Vec::new();
            let mut minus = Vec::new();
            for &(p, _) in &sorted {
                if p >= start && p < end {
                    seq[(p - start) as usize] = b'C';
                    plus.push(p);
                }
                if p + 1 >= start && p + 1 < end {
                    seq[(p + 1 - start) as usize] = b'G';
                    minus.push(p);
                }
            }
            // Methylated at a site when this read's rank falls below the fraction: the same
            // read is methylated or not on both C's of a CpG.
            let rank = (j as f64 + 0.5) / spec.reads_per_site as f64;
            let mut probs = Vec::new();
            let mut skips = Vec::new();
            // Calls along the read as sequenced: + strand C's left to right, or − strand C's
            // (SEQ's G's) right to left for a reverse record.
            let order: Vec<u64> = if reverse {
                minus.iter().rev().copied().collect()
            } else {
                plus
            };
            for &p in &order {
                let methylated = frac_at(p).is_some_and(|f| rank < f);
                skips.push("0");
                probs.push(if methylated {
                    spec.confidence
                } else {
                    255 - spec.confidence
                });
                if let Some(&i) = index_of.get(&p) {
                    truth[i].0 += u32::from(methylated);
                    truth[i].1 += 1;
                }
            }
            let mm = if skips.is_empty() {
                "C+m?;".to_string()
            } else {
                format!("C+m?,{};", skips.join(","))
            };
            let ml: Vec<String> = probs.iter().map(|b| b.to_string()).collect();
            n += 1;
            writeln!(
                w,
                "read{n}\t{}\t{}\t{}\t60\t{len}M\t*\t0\t0\t{}\t*\tMM:Z:{mm}{}",
                if reverse { 16 } else { 0 },
                spec.contig,
                start + 1,
                String::from_utf8_lossy(&seq),
                if ml.is_empty() {
                    String::new()
                } else {
                    format!("\tML:B:C,{}", ml.join(","))
                },
            )?;
        }
    }
    Ok(truth)
}
