//! A UCSC **chain-file liftover** of single positions (hg19 ↔ hg38), written for agemark.
//!
//! Chain format (UCSC Genome Browser, "Chain Format",
//! <https://genome.ucsc.edu/goldenPath/help/chain.html>): a file of chains, each a header line
//!
//! ```text
//! chain score tName tSize tStrand tStart tEnd qName qSize qStrand qStart qEnd id
//! ```
//!
//! followed by alignment lines `size dt dq` (an ungapped block of `size` bases, then `dt` bases
//! only in the target — the build lifted *from* — and `dq` only in the query — the build lifted
//! *to*) and a last line with `size` alone; a blank line ends the chain. Positions are 0-based,
//! half-open. `tStrand` is always `+`; when `qStrand` is `-`, query positions count from the
//! end of the reverse-complemented query chromosome: the + strand position is
//! `qSize - 1 - q`.
//!
//! A position lifts when it falls inside an ungapped block: `q = qStart_block + (x -
//! tStart_block)`. When several chains cover it (rare in UCSC `over.chain` files, which come
//! from nets), the highest-scoring chain wins, as the chains are listed by descending score.
//! A position in a gap, or on a chromosome the file lacks, does not lift.
//!
//! For a CpG, [`Liftover::lift_cpg`] lifts the C of the + strand; when the chain maps it to
//! the reverse strand, the CpG's + strand C in the other build is where the G lifts to.

use std::io::{BufRead, BufReader, Read};

use super::CoordError;

/// One ungapped block of a chain.
#[derive(Clone, Copy, Debug)]
struct Block {
    /// 0-based start in the source build.
    t_start: u64,
    /// Length.
    size: u64,
    /// 0-based start in the query as the chain counts it (reverse strand when `chain` says so).
    q_start: u64,
    /// Index into `Liftover::chains`.
    chain: u32,
}

#[derive(Clone, Debug)]
struct ChainInfo {
    score: f64,
    q_name: String,
    q_size: u64,
    q_reverse: bool,
}

/// Blocks of one source chromosome, sorted by start, with the running maximum block end
/// (to stop a backward scan).
#[derive(Clone, Debug, Default)]
struct ChromBlocks {
    blocks: Vec<Block>,
    max_end: Vec<u64>,
}

/// A parsed chain file: lifts positions from its target build to its query build.
#[derive(Clone, Debug, Default)]
pub struct Liftover {
    chains: Vec<ChainInfo>,
    by_chrom: std::collections::HashMap<String, ChromBlocks>,
}

/// Where a position lifted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lifted {
    /// Chromosome in the other build.
    pub chrom: String,
    /// 1-based position in the other build (+ strand).
    pub pos: u64,
    /// The chain maps this position to the reverse strand.
    pub reverse: bool,
}

impl Liftover {
    /// Parses a chain file (plain text; decompress first). `name` is for error messages.
    pub fn parse<R: Read>(name: &str, reader: R) -> Result<Self, CoordError> {
        let mut lo = Liftover::default();
        let reader = BufReader::new(reader);
        // The chain being read: (source chrom, current t, current q, chain index).
        let mut current: Option<(String, u64, u64, u32)> = None;
        for (i, line) in reader.lines().enumerate() {
            let line_no = i as u64 + 1;
            let line =
                line.map_err(|e| CoordError::new(name, Some(line_no), format!("read: {e}")))?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what: &str| CoordError::new(name, Some(line_no), what.to_string());
            if let Some(rest) = line.strip_prefix("chain") {
                let f: Vec<&str> = rest.split_whitespace().collect();
                if f.len() < 11 {
                    return Err(bad("chain header with fewer than 12 fields"));
                }
                let num = |k: usize| -> Result<u64, CoordError> {
                    f[k].parse::<u64>()
                        .map_err(|_| bad(&format!("chain header field {}: not a number", k + 2)))
                };
                if f[3] != "+" {
                    return Err(bad("chain with a reverse target strand"));
                }
                let score: f64 = f[0]
                    .parse()
                    .map_err(|_| bad("chain header: score is not a number"))?;
                let t_start = num(4)?;
                let q_size = num(7)?;
                let q_start = num(9)?;
                let q_reverse = match f[8] {
                    "+" => false,
                    "-" => true,
                    _ => return Err(bad("chain header: query strand is not + or -")),
                };
                lo.chains.push(ChainInfo {
                    score,
                    q_name: f[6].to_string(),
                    q_size,
                    q_reverse,
                });
                current = Some((
                    f[1].to_string(),
                    t_start,
                    q_start,
                    (lo.chains.len() - 1) as u32,
                ));
                continue;
            }
            let Some((chrom, t, q, chain)) = current.as_mut() else {
                return Err(bad("alignment line before any chain header"));
            };
            let mut it = line.split_whitespace();
            let size: u64 = it
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("alignment line: block size is not a number"))?;
            lo.by_chrom
                .entry(chrom.clone())
                .or_default()
                .blocks
                .push(Block {
                    t_start: *t,
                    size,
                    q_start: *q,
                    chain: *chain,
                });
            *t += size;
            *q += size;
            match (it.next(), it.next()) {
                (Some(dt), Some(dq)) => {
                    let dt: u64 = dt.parse().map_err(|_| bad("alignment line: dt"))?;
                    let dq: u64 = dq.parse().map_err(|_| bad("alignment line: dq"))?;
                    *t += dt;
                    *q += dq;
                }
                (None, None) => current = None,
                _ => return Err(bad("alignment line with 2 fields (need 1 or 3)")),
            }
        }
        for cb in lo.by_chrom.values_mut() {
            cb.blocks.sort_by_key(|b| b.t_start);
            let mut m = 0;
            cb.max_end = cb
                .blocks
                .iter()
                .map(|b| {
                    m = m.max(b.t_start + b.size);
                    m
                })
                .collect();
        }
        Ok(lo)
    }

    /// Parses a gzip-compressed chain file held in memory.
    pub fn from_gz_bytes(name: &str, bytes: &[u8]) -> Result<Self, CoordError> {
        Self::parse(name, flate2::read::MultiGzDecoder::new(bytes))
    }

    /// Number of chains read.
    pub fn n_chains(&self) -> usize {
        self.chains.len()
    }

    /// Lifts one 1-based position of `chrom` (named as in the chain file, `chr1`).
    pub fn lift(&self, chrom: &str, pos: u64) -> Option<Lifted> {
        if pos == 0 {
            return None;
        }
        let x = pos - 1;
        let cb = self.by_chrom.get(chrom)?;
        let mut i = cb.blocks.partition_point(|b| b.t_start <= x);
        let mut best: Option<(f64, Lifted)> = None;
        while i > 0 {
            i -= 1;
            if cb.max_end[i] <= x {
                break;
            }
            let b = cb.blocks[i];
            if x < b.t_start + b.size {
                let c = &self.chains[b.chain as usize];
                let q = b.q_start + (x - b.t_start);
                let q_plus = if c.q_reverse { c.q_size - 1 - q } else { q };
                if best.as_ref().is_none_or(|(s, _)| c.score > *s) {
                    best = Some((
                        c.score,
                        Lifted {
                            chrom: c.q_name.clone(),
                            pos: q_plus + 1,
                            reverse: c.q_reverse,
                        },
                    ));
                }
            }
        }
        best.map(|(_, l)| l)
    }

    /// Lifts a CpG given by the 1-based position of its + strand C: the + strand C of the
    /// same CpG in the other build (through the G when the chain is reversed).
    pub fn lift_cpg(&self, chrom: &str, pos: u64) -> Option<Lifted> {
        let c = self.lift(chrom, pos)?;
        if !c.reverse {
            return Some(c);
        }
        let g = self.lift(chrom, pos + 1)?;
        (g.chrom == c.chrom && g.pos + 1 == c.pos).then_some(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A made-up two-chain file: chr1 [100, 110) → chrA [0, 10), gap 5/3, [115, 120) → [13, 18);
    // chr2 [0, 10) → chrB reverse strand of a 100-base chromosome at [20, 30).
    const CHAIN: &str = "chain 1000 chr1 1000 + 100 120 chrA 50 + 0 18 1\n10 5 3\n5\n\n\
chain 500 chr2 500 + 0 10 chrB 100 - 20 30 2\n10\n";

    #[test]
    fn lifts_blocks_gaps_and_reverse_strands() {
        let lo = Liftover::parse("t.chain", CHAIN.as_bytes()).unwrap();
        assert_eq!(lo.n_chains(), 2);
        // chr1:101 (0-based 100) → chrA:1.
        assert_eq!(lo.lift("chr1", 101).unwrap().pos, 1);
        assert_eq!(lo.lift("chr1", 110).unwrap().pos, 10);
        // 0-based 110..115 is the target-only gap.
        assert_eq!(lo.lift("chr1", 111), None);
        assert_eq!(lo.lift("chr1", 115), None);
        // 0-based 115 → 10 + 3 = 13 (0-based) → 14 (1-based).
        assert_eq!(lo.lift("chr1", 116).unwrap().pos, 14);
        assert_eq!(lo.lift("chr1", 121), None);
        assert_eq!(lo.lift("chr9", 5), None);
        // Reverse: 0-based 0 → q 20 → + strand 100 - 1 - 20 = 79 (0-based) → 80.
        let r = lo.lift("chr2", 1).unwrap();
        assert_eq!((r.chrom.as_str(), r.pos, r.reverse), ("chrB", 80, true));
        // A CpG at chr2:3-4 (+ C at 3): its G lifts to 78, the + strand C there.
        assert_eq!(lo.lift_cpg("chr2", 3).unwrap().pos, 77);
    }

    #[test]
    fn malformed_chains_are_errors_with_a_line() {
        let e = Liftover::parse("x.chain", "10 5 3\n".as_bytes()).unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = Liftover::parse("x.chain", "chain 1 chr1 10 + 0 5\n".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("x.chain: line 1"), "{e}");
        let e = Liftover::parse(
            "x.chain",
            "chain 1 chr1 10 + 0 5 chrA 10 + 0 5 1\n5 1\n".as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2));
    }
}
