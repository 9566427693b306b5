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
        writeln!(w, "@SYNTHETIC.{}", i + 1)?;
        w.write_all(&read)?;
        w.write_all(b"\n+\n")?;
        w.write_all(&qual)?;
        w.write_all(b"\n")?;
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
}
