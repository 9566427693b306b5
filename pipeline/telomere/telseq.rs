//! TelSeq-compatible telomere length (Ding et al. 2014, *Nucleic Acids Research* 42:e75,
//! doi:10.1093/nar/gku181).
//!
//! For each read, `n = max(#TTAGGG, #CCCTAA)` (non-overlapping occurrences on the stored
//! sequence). Reads are tallied in a histogram `TEL0..TEL16` by `n`, and in GC bins of 2 %
//! between 40 % and 60 % by `(C+G) / length` (N counts in the length). With `k` = 7:
//!
//! ```text
//! LENGTH_ESTIMATE [kb] = (Σ_{n≥k} TEL_n / GC_tel) × 332,720,800 / 1,000 / 46
//! ```
//!
//! where `GC_tel` is the number of reads in the bins (48 %, 50 %] and (50 %, 52 %], 332,720,800 bp
//! is the length of the reference genome in 48–52 % GC windows TelSeq was calibrated on, and 46 is
//! the number of telomere ends. No read-length scaling is applied: TelSeq's constant assumes
//! ~100 bp reads (zd1/telseq#19, #33), so agemark warns when reads are much longer or shorter.
//!
//! Two modes:
//! * default ("right"): primary records only (no secondary/supplementary copies of a read),
//!   each read counted once, `TEL16` holds every read with 16 or more repeats, GC bins in exact
//!   arithmetic (48 % < GC ≤ 52 % is the normaliser), length in double precision;
//! * `--telseq-compat`: reproduces the numbers of the TelSeq 0.0.1 binary (`telseq -u`): every
//!   record counts (secondary, supplementary, unmapped, duplicates), reads with more than 16
//!   repeats are dropped from both histograms (but kept in the total), GC binning with TelSeq's
//!   `float` constants, the estimate in single precision, and the last record counted twice (a
//!   loop bug in TelSeq: its total is records + 1).

/// Histogram size: `TEL0..=TEL16`.
pub const TEL_BINS: usize = 17;
/// GC bins of 2 % from 40 % to 60 %.
pub const GC_BINS: usize = 10;
/// Reference genome length in 48–52 % GC windows (TelSeq's `GENOME_LENGTH_AT_TEL_GC`).
pub const GENOME_LENGTH_AT_TEL_GC: f64 = 332_720_800.0;
/// kb.
pub const LENGTH_UNIT: f64 = 1000.0;
/// Telomere ends of a diploid human genome (TelSeq's `TELOMERE_ENDS`).
pub const TELOMERE_ENDS: f64 = 46.0;

/// TelSeq counters for one group of reads (a read group, or the whole sample).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelseqCounts {
    /// Reads counted.
    pub total: u64,
    /// Of which mapped (flag 0x4 clear).
    pub mapped: u64,
    /// Of which flagged duplicates (0x400).
    pub duplicates: u64,
    /// `TEL0..TEL16`.
    pub tel: [u64; TEL_BINS],
    /// `GC0..GC9`.
    pub gc: [u64; GC_BINS],
}

impl Default for TelseqCounts {
    fn default() -> Self {
        TelseqCounts {
            total: 0,
            mapped: 0,
            duplicates: 0,
            tel: [0; TEL_BINS],
            gc: [0; GC_BINS],
        }
    }
}

impl TelseqCounts {
    /// Adds another group's counts.
    pub fn add(&mut self, o: &TelseqCounts) {
        self.total += o.total;
        self.mapped += o.mapped;
        self.duplicates += o.duplicates;
        for (a, b) in self.tel.iter_mut().zip(o.tel.iter()) {
            *a += b;
        }
        for (a, b) in self.gc.iter_mut().zip(o.gc.iter()) {
            *a += b;
        }
    }

    /// Tallies one read: `repeats` = max of the two motif counts; `gc`, `len` in bases.
    pub fn observe(&mut self, repeats: u32, gc: u32, len: u32, flags: u16, compat: bool) {
        self.total += 1;
        if flags & 0x4 == 0 {
            self.mapped += 1;
        }
        if flags & 0x400 != 0 {
            self.duplicates += 1;
        }
        let r = repeats as usize;
        if compat {
            if r >= TEL_BINS {
                return; // TelSeq drops such reads from both histograms.
            }
            self.tel[r] += 1;
            if let Some(b) = gc_bin_compat(gc, len) {
                self.gc[b] += 1;
            }
        } else {
            self.tel[r.min(TEL_BINS - 1)] += 1;
            if let Some(b) = gc_bin_exact(gc, len) {
                self.gc[b] += 1;
            }
        }
    }

    /// Reads with at least `k` repeats.
    pub fn reads_ge(&self, k: u32) -> u64 {
        self.tel.iter().skip(k as usize).sum()
    }

    /// Reads in the telomeric GC bins (GC4 + GC5).
    pub fn gc_tel(&self) -> u64 {
        self.gc[4] + self.gc[5]
    }
}

/// Exact GC bin: bin `b` holds `(40 + 2b) % < GC ≤ (42 + 2b) %`.
pub fn gc_bin_exact(gc: u32, len: u32) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let x = 100 * u64::from(gc);
    let l = u64::from(len);
    if x <= 40 * l || x > 60 * l {
        return None;
    }
    // smallest b with x <= (42 + 2b) l
    let b = (x - 40 * l).div_ceil(2 * l) - 1;
    Some(b as usize)
}

/// TelSeq's own GC binning: `gc` as a double, bounds and bin size as `float` constants
/// widened to double, `floor((gc - 0.4f) / 0.02f)` for `0.4f <= gc <= 0.6f`.
pub fn gc_bin_compat(gc: u32, len: u32) -> Option<usize> {
    if len == 0 {
        return None; // 0/0 is NaN in TelSeq and never binned.
    }
    let g = f64::from(gc) / f64::from(len);
    let lo = f64::from(0.4f32);
    let hi = f64::from(0.6f32);
    let size = f64::from(0.02f32);
    if g >= lo && g <= hi {
        let b = ((g - lo) / size).floor() as usize;
        (b < GC_BINS).then_some(b)
    } else {
        None
    }
}

/// LENGTH_ESTIMATE in kb (double precision). `None` when there are no reads in the GC bins.
pub fn length_kb(acc: u64, gc_tel: u64) -> Option<f64> {
    if gc_tel == 0 {
        return None;
    }
    Some(acc as f64 / gc_tel as f64 * GENOME_LENGTH_AT_TEL_GC / LENGTH_UNIT / TELOMERE_ENDS)
}

/// LENGTH_ESTIMATE as TelSeq computes it: every step in `float`.
pub fn length_kb_compat(tel: &[u64; TEL_BINS], k: u32, gc_tel: u64) -> Option<f64> {
    if gc_tel == 0 {
        return None;
    }
    let mut acc = 0f32;
    for &t in tel.iter().skip(k as usize) {
        acc += t as f32;
    }
    let mut x = acc / gc_tel as f32;
    x *= GENOME_LENGTH_AT_TEL_GC as f32;
    x /= LENGTH_UNIT as f32;
    x /= TELOMERE_ENDS as f32;
    Some(f64::from(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_bins_are_half_open_from_below() {
        assert_eq!(gc_bin_exact(24, 50), Some(3)); // exactly 48 % is in GC3, not in the normaliser
        assert_eq!(gc_bin_exact(20, 50), None); // 40 % excluded
        assert_eq!(gc_bin_exact(21, 50), Some(0)); // 42 %
        assert_eq!(gc_bin_exact(25, 50), Some(4)); // 50 %
        assert_eq!(gc_bin_exact(26, 50), Some(5)); // 52 %
        assert_eq!(gc_bin_exact(30, 50), Some(9)); // 60 %
        assert_eq!(gc_bin_exact(31, 50), None);
        assert_eq!(gc_bin_exact(0, 0), None);
        assert_eq!(gc_bin_exact(49, 100), Some(4));
    }

    #[test]
    fn compat_bins_follow_float_rounding() {
        // 0.48 as a double is just below 0.48f widened: lands in GC3, as in TelSeq.
        assert_eq!(gc_bin_compat(48, 100), Some(3));
        assert_eq!(gc_bin_compat(52, 100), Some(5));
        assert_eq!(gc_bin_compat(50, 100), Some(4)); // 4.9999998 after float widening
        assert_eq!(gc_bin_compat(40, 100), None);
    }

    #[test]
    fn length_formula() {
        // One telomeric read per GC read → 7233.06 kb.
        let l = length_kb(1, 1).unwrap();
        assert!((l - 7233.0608695652).abs() < 1e-6, "{l}");
        assert_eq!(length_kb(5, 0), None);
        let mut tel = [0u64; TEL_BINS];
        tel[7] = 1;
        let c = length_kb_compat(&tel, 7, 1).unwrap();
        assert!((c - l).abs() < 1e-3);
    }
}
