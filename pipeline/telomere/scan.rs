//! One scan of a read's bases that serves both telomere estimators.
//!
//! A rolling 2-bit code of the last six bases (12 bits) indexes a 4,096-entry table that says
//! whether the 6-mer is TelSeq's `TTAGGG` / `CCCTAA` or one of TelomereHunter's forward or
//! reverse repeat types. N (and every non-ACGT symbol) breaks the window. The same pass counts
//! G+C and N bases.
//!
//! `TTAGGG` and `CCCTAA` have no self-overlap, so counting every occurrence equals TelSeq's
//! non-overlapping search. TelomereHunter counts non-overlapping leftmost matches of an
//! alternation of six 6-mers (a greedy scan); the total number of occurrences bounds that count
//! from above, so the greedy re-scan runs only on reads that could reach the threshold.
//!
//! Packed BAM bases are scanned without unpacking ([`scan_packed`]), on x86-64 bit-parallel:
//! the positions of A, C, G and T become bit sets and each repeat set a few `and`s of shifted
//! words, counted with `popcnt`.

use crate::reads::view::{BASE_C, BASE_G};

/// TelSeq's forward motif.
pub const TELSEQ_MOTIF: &[u8; 6] = b"TTAGGG";
/// TelomereHunter's repeat types (telomerehunter2 1.0.12 defaults), forward strand.
pub const TH_REPEATS: [&[u8; 6]; 6] = [
    b"TTAGGG", b"TGAGGG", b"TCAGGG", b"TTGGGG", b"TTCGGG", b"TTTGGG",
];

const TELSEQ_FWD: u8 = 1;
const TELSEQ_REV: u8 = 2;
const TH_FWD: u8 = 4;
const TH_REV: u8 = 8;

fn code_of(kmer: &[u8; 6]) -> usize {
    kmer.iter().fold(0usize, |acc, &b| {
        let c = match b {
            b'A' => 0,
            b'C' => 1,
            b'G' => 2,
            _ => 3,
        };
        (acc << 2) | c
    })
}

fn reverse_complement(kmer: &[u8; 6]) -> [u8; 6] {
    let mut out = [0u8; 6];
    for (i, &b) in kmer.iter().rev().enumerate() {
        out[i] = match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            _ => b'A',
        };
    }
    out
}

/// The 6-mer class table.
fn table() -> &'static [u8; 4096] {
    static TABLE: std::sync::OnceLock<[u8; 4096]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0u8; 4096];
        t[code_of(TELSEQ_MOTIF)] |= TELSEQ_FWD;
        t[code_of(&reverse_complement(TELSEQ_MOTIF))] |= TELSEQ_REV;
        for r in TH_REPEATS {
            t[code_of(r)] |= TH_FWD;
            t[code_of(&reverse_complement(r))] |= TH_REV;
        }
        t
    })
}

/// What one scan of a read finds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadScan {
    /// Bases in the read.
    pub len: u32,
    /// G and C bases.
    pub gc: u32,
    /// N (and other non-ACGT) bases.
    pub n: u32,
    /// Occurrences of `TTAGGG`.
    pub telseq_fwd: u32,
    /// Occurrences of `CCCTAA`.
    pub telseq_rev: u32,
    /// Occurrences of any TelomereHunter forward repeat (upper bound of the greedy count).
    pub th_fwd_hits: u32,
    /// Occurrences of any TelomereHunter reverse-complement repeat.
    pub th_rev_hits: u32,
}

impl ReadScan {
    /// TelSeq's per-read repeat count: the larger of the two strands.
    pub fn telseq_repeats(&self) -> u32 {
        self.telseq_fwd.max(self.telseq_rev)
    }
}

/// Scans a read given as base codes (0..=4).
///
/// G+C and N are counted in loops the compiler vectorises. A read without N (the rule) then
/// takes one table lookup per base with a one-instruction update of the 2-bit code (the mask is
/// applied only when indexing); a read with N falls back to [`scan_rolling`], which tracks where
/// the window is broken. The tests check the two agree on random reads.
#[inline]
pub fn scan(seq: &[u8]) -> ReadScan {
    let n: u32 = seq.iter().map(|&b| u32::from(b > 3)).sum();
    if n > 0 {
        return scan_rolling(seq);
    }
    let t = table();
    let mut s = ReadScan {
        len: seq.len() as u32,
        ..ReadScan::default()
    };
    s.gc = seq
        .iter()
        .map(|&b| u32::from(b == BASE_C || b == BASE_G))
        .sum();
    if seq.len() >= 6 {
        let mut code = seq[..5]
            .iter()
            .fold(0u32, |acc, &b| (acc << 2) | u32::from(b));
        for &b in &seq[5..] {
            code = (code << 2) | u32::from(b);
            let c = t[(code & 0xfff) as usize];
            if c != 0 {
                s.telseq_fwd += u32::from(c & TELSEQ_FWD != 0);
                s.telseq_rev += u32::from(c & TELSEQ_REV != 0);
                s.th_fwd_hits += u32::from(c & TH_FWD != 0);
                s.th_rev_hits += u32::from(c & TH_REV != 0);
            }
        }
    }
    s
}

/// The straightforward scanner: a rolling 2-bit code of the last six bases looked up at every
/// position. Kept as the reference the fast [`scan`] is tested against.
pub fn scan_rolling(seq: &[u8]) -> ReadScan {
    let t = table();
    let mut s = ReadScan {
        len: seq.len() as u32,
        ..ReadScan::default()
    };
    let mut code = 0usize;
    let mut valid = 0u32;
    for &b in seq {
        if b > 3 {
            s.n += 1;
            valid = 0;
            continue;
        }
        s.gc += u32::from(b == BASE_C || b == BASE_G);
        code = ((code << 2) | b as usize) & 0xfff;
        valid += 1;
        if valid >= 6 {
            let c = t[code];
            if c != 0 {
                s.telseq_fwd += u32::from(c & TELSEQ_FWD != 0);
                s.telseq_rev += u32::from(c & TELSEQ_REV != 0);
                s.th_fwd_hits += u32::from(c & TH_FWD != 0);
                s.th_rev_hits += u32::from(c & TH_REV != 0);
            }
        }
    }
    s
}

/// Nibble of a packed BAM base (`=ACMGRSVTWYHKDBN`) → 2-bit code for A, C, G, T; 0xff otherwise.
const NIBBLE_2BIT: [u8; 16] = {
    let mut t = [0xffu8; 16];
    t[1] = 0;
    t[2] = 1;
    t[4] = 2;
    t[8] = 3;
    t
};

/// One packed byte (two bases) → `pair | gc << 8 | non_acgt << 40`, where `pair` is the two
/// bases' 2-bit codes (first base high) when both are A, C, G or T.
static PACKED_BYTE: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let (hi, lo) = (NIBBLE_2BIT[b >> 4], NIBBLE_2BIT[b & 0xf]);
        let gc = (hi == 1 || hi == 2) as u64 + (lo == 1 || lo == 2) as u64;
        let n = (hi == 0xff) as u64 + (lo == 0xff) as u64;
        let pair = if hi == 0xff || lo == 0xff {
            0
        } else {
            ((hi as u64) << 2) | lo as u64
        };
        t[b] = pair | (gc << 8) | (n << 40);
        b += 1;
    }
    t
};

/// The 6-mer classes of both windows ending in one packed byte: indexed by the 2-bit codes of
/// the last seven bases (14 bits), the low nibble holds the class of the window ending at the
/// last base, the high nibble the class of the window ending one base earlier.
fn pair_table() -> &'static [u8; 1 << 14] {
    static TABLE: std::sync::OnceLock<[u8; 1 << 14]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let t = table();
        let mut p = [0u8; 1 << 14];
        for (code, v) in p.iter_mut().enumerate() {
            *v = t[code & 0xfff] | (t[code >> 2] << 4);
        }
        p
    })
}

/// Adds the hits of one class byte (see [`table`]) to a scan.
#[inline(always)]
fn add_hits(s: &mut ReadScan, c: u8) {
    s.telseq_fwd += u32::from(c & TELSEQ_FWD != 0);
    s.telseq_rev += u32::from(c & TELSEQ_REV != 0);
    s.th_fwd_hits += u32::from(c & TH_FWD != 0);
    s.th_rev_hits += u32::from(c & TH_REV != 0);
}

/// Scans a read given as BAM packed bases (4 bits per base, two per byte, first base in the
/// high nibble) of `len` bases, without unpacking it: the same result as [`scan`] on the
/// unpacked codes (the tests check this on random reads of every length, with N and IUPAC codes).
///
/// On x86-64, reads of 32 to 256 bases of A, C, G and T (the rule for short-read WGS) are
/// scanned bit-parallel ([`scan_bits_core`]); the others go a byte at a time
/// ([`scan_packed_bytes`]): one table lookup per byte gives the two bases' 2-bit codes and their
/// G+C and non-ACGT counts; the rolling code then advances two bases at a time and a 16 Ki-entry
/// table ([`pair_table`]) classifies both 6-mer windows that end in the byte. A read holding a
/// non-ACGT base (rare) is unpacked into `scratch` and scanned by [`scan_rolling`].
pub fn scan_packed(packed: &[u8], len: usize, scratch: &mut Vec<u8>) -> ReadScan {
    #[cfg(target_arch = "x86_64")]
    if let Some(s) = scan_packed_bits(packed, len) {
        return s;
    }
    scan_packed_bytes(packed, len, scratch)
}

/// [`scan_packed`] a byte at a time (reads of other lengths or with non-ACGT bases, and CPUs
/// other than x86-64).
fn scan_packed_bytes(packed: &[u8], len: usize, scratch: &mut Vec<u8>) -> ReadScan {
    let full = len / 2;
    if len < 16 || packed.len() < len.div_ceil(2) {
        scratch.clear();
        crate::reads::view::unpack_bam_sequence(packed, len, scratch);
        return scan(scratch);
    }
    let pt = pair_table();
    let bytes = &packed[..full];
    let mut s = ReadScan {
        len: len as u32,
        ..ReadScan::default()
    };
    // `counts`: G+C in the low 32 bits, non-ACGT above.
    // Bases 0..6: the first window ends at base 5, in the third byte.
    let (e0, e1, e2) = (
        PACKED_BYTE[bytes[0] as usize],
        PACKED_BYTE[bytes[1] as usize],
        PACKED_BYTE[bytes[2] as usize],
    );
    let mut counts = (e0 >> 8) + (e1 >> 8) + (e2 >> 8);
    let mut code = (((e0 & 0xf) << 8) | ((e1 & 0xf) << 4) | (e2 & 0xf)) as u32;
    let c = pt[(code & 0x3fff) as usize] & 0xf;
    if c != 0 {
        add_hits(&mut s, c);
    }
    for &b in &bytes[3..] {
        let e = PACKED_BYTE[b as usize];
        counts += e >> 8;
        code = (code << 4) | (e & 0xf) as u32;
        let c = pt[(code & 0x3fff) as usize];
        if c != 0 {
            add_hits(&mut s, c >> 4);
            add_hits(&mut s, c & 0xf);
        }
    }
    if len % 2 == 1 {
        let hi = NIBBLE_2BIT[(packed[full] >> 4) as usize];
        if hi == 0xff {
            counts += 1 << 32;
        } else {
            counts += u64::from(hi == 1 || hi == 2);
            code = (code << 2) | u32::from(hi);
            let c = pt[(code & 0x3fff) as usize] & 0xf;
            if c != 0 {
                add_hits(&mut s, c);
            }
        }
    }
    if counts >> 32 != 0 {
        scratch.clear();
        crate::reads::view::unpack_bam_sequence(packed, len, scratch);
        return scan_rolling(scratch);
    }
    s.gc = counts as u32;
    s
}

/// Reads up to this many bases take the bit-parallel path of [`scan_packed`].
const BITS_MAX_LEN: usize = 256;
/// 64-bit words of a base-class bit set of [`BITS_MAX_LEN`] bases, plus one zero word so that
/// windows of the last word can read past it.
const BITS_WORDS: usize = BITS_MAX_LEN / 64 + 1;

/// Bit sets of where a read holds A, C, G and T (bit `i` of word `i / 64` = base `i`).
#[derive(Default)]
struct ClassBits {
    a: [u64; BITS_WORDS],
    c: [u64; BITS_WORDS],
    g: [u64; BITS_WORDS],
    t: [u64; BITS_WORDS],
}

/// Sets `bits` (all zero) to the class bit sets of a packed read of 32 to [`BITS_MAX_LEN`] bases, with SSE2 (part of
/// every x86-64 CPU). 16 packed bytes are split into 32 base nibbles, and since A, C, G and T
/// are the one-hot nibbles 1, 2, 4 and 8, each class's 32 bits are one byte shift and one
/// `movemask` away. The blocks are read straight from `packed`; the last one ends at the end
/// of the read and overlaps the one before (the overlapping bases set the same bits again).
/// Bits past `len` are cleared (the unused low nibble of an odd-length read's last byte may hold
/// anything). Non-ACGT codes (N = 15, IUPAC, `=`) set zero or several classes at one base, which
/// the caller detects.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn class_bits(bits: &mut ClassBits, packed: &[u8], len: usize) {
    use std::arch::x86_64::{
        _mm_and_si128, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8, _mm_slli_epi16,
        _mm_srli_epi16, _mm_unpackhi_epi8, _mm_unpacklo_epi8,
    };
    let nbytes = len.div_ceil(2);
    debug_assert!(nbytes >= 16 && nbytes <= packed.len() && len <= BITS_MAX_LEN);
    // SAFETY (every intrinsic below): SSE2 is part of the x86-64 baseline.
    let nibble = unsafe { _mm_set1_epi8(0x0f) };
    let mut offset = 0;
    loop {
        let block = &packed[offset..offset + 16];
        // SAFETY: `block` is 16 readable bytes; the load is unaligned.
        let v = unsafe { _mm_loadu_si128(block.as_ptr().cast()) };
        let (b0, b1) = unsafe {
            let hi = _mm_and_si128(_mm_srli_epi16::<4>(v), nibble);
            let lo = _mm_and_si128(v, nibble);
            // Bases in read order: byte i's high nibble is base 2i, its low nibble base 2i + 1.
            (_mm_unpacklo_epi8(hi, lo), _mm_unpackhi_epi8(hi, lo))
        };
        // Shifting a 16-bit lane left by 7 - k moves bit k of each byte to its top bit (a
        // nibble's spill into the next byte lands below that byte's top bit).
        macro_rules! class {
            ($shift:literal) => {{
                let (m0, m1) = unsafe {
                    (
                        _mm_movemask_epi8(_mm_slli_epi16::<$shift>(b0)) as u32 & 0xffff,
                        _mm_movemask_epi8(_mm_slli_epi16::<$shift>(b1)) as u32 & 0xffff,
                    )
                };
                u64::from(m0 | (m1 << 16))
            }};
        }
        let at = 2 * offset;
        let (word, shift) = (at / 64, at % 64);
        for (x, m) in [
            (&mut bits.a, class!(7)),
            (&mut bits.c, class!(6)),
            (&mut bits.g, class!(5)),
            (&mut bits.t, class!(4)),
        ] {
            x[word] |= m << shift;
            if shift > 32 {
                x[word + 1] |= m >> (64 - shift);
            }
        }
        if offset + 16 == nbytes {
            break;
        }
        offset = (offset + 16).min(nbytes - 16);
    }
    let words = len.div_ceil(64);
    let keep = if len.is_multiple_of(64) {
        u64::MAX
    } else {
        (1u64 << (len % 64)) - 1
    };
    for x in [&mut bits.a, &mut bits.c, &mut bits.g, &mut bits.t] {
        x[words - 1] &= keep;
        x[words] = 0;
    }
}

/// [`scan_packed`] for reads of 32 to [`BITS_MAX_LEN`] bases of A, C, G and T only (`None`
/// otherwise), bit-parallel: with the class bit sets of [`class_bits`], the windows starting
/// at each base that match the repeat sets are bit operations on shifted words, counted with
/// `popcount`. With `X_k` = "base `i + k` is X", a window starting at `i` is
///
/// - TelSeq forward `TTAGGG`: `T0 T1 A2 G3 G4 G5`; reverse `CCCTAA`: `C0 C1 C2 T3 A4 A5`;
/// - TelomereHunter forward (`T[TGC]AGGG`, `TT[GCT]GGG`): `T0 (T1 | A2 !A1) G3 G4 G5`;
/// - its reverse complement (`CCCT[ACG]A`, `CCC[CGA]AA`): `C0 C1 C2 (A4 | T3 !T4) A5`.
///
/// A window running past the read's end needs a base there and so never matches. The tests
/// check this path against [`scan`] on random reads.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn scan_bits_core(packed: &[u8], len: usize) -> Option<ReadScan> {
    if !(32..=BITS_MAX_LEN).contains(&len) || packed.len() < len.div_ceil(2) {
        return None;
    }
    let mut b = ClassBits::default();
    class_bits(&mut b, packed, len);
    let words = len.div_ceil(64);
    let mut s = ReadScan {
        len: len as u32,
        ..ReadScan::default()
    };
    let mut bad = 0u64;
    for w in 0..words {
        let (a, c, g, t) = (b.a[w], b.c[w], b.g[w], b.t[w]);
        let valid = if w + 1 == words && !len.is_multiple_of(64) {
            (1u64 << (len % 64)) - 1
        } else {
            u64::MAX
        };
        let multi = (a & (c | g | t)) | (c & (g | t)) | (g & t);
        bad |= (!(a | c | g | t) | multi) & valid;
        s.gc += (c | g).count_ones();
        // Bases `k` places on from each base of word `w`.
        let on = |x: &[u64; BITS_WORDS], k: u32| (x[w] >> k) | (x[w + 1] << (64 - k));
        let ggg = on(&b.g, 3) & on(&b.g, 4) & on(&b.g, 5);
        let fwd = t & ggg;
        if fwd != 0 {
            let (t1, a1, a2) = (on(&b.t, 1), on(&b.a, 1), on(&b.a, 2));
            s.telseq_fwd += (fwd & t1 & a2).count_ones();
            s.th_fwd_hits += (fwd & (t1 | (a2 & !a1))).count_ones();
        }
        let rev = c & on(&b.c, 1) & on(&b.c, 2) & on(&b.a, 5);
        if rev != 0 {
            let (t3, t4, a4) = (on(&b.t, 3), on(&b.t, 4), on(&b.a, 4));
            s.telseq_rev += (rev & t3 & a4).count_ones();
            s.th_rev_hits += (rev & (a4 | (t3 & !t4))).count_ones();
        }
    }
    (bad == 0).then_some(s)
}

/// [`scan_bits_core`] compiled with the `popcnt` instruction (x86-64 CPUs since 2008 have it;
/// the x86-64 baseline does not, and counts bits in a dozen instructions instead).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn scan_bits_popcnt(packed: &[u8], len: usize) -> Option<ReadScan> {
    scan_bits_core(packed, len)
}

/// The bit-parallel scan, with `popcnt` where the CPU has it.
#[cfg(target_arch = "x86_64")]
#[inline]
fn scan_packed_bits(packed: &[u8], len: usize) -> Option<ReadScan> {
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has `popcnt` (checked just above).
        unsafe { scan_bits_popcnt(packed, len) }
    } else {
        scan_bits_core(packed, len)
    }
}

/// TelomereHunter's count for one strand: non-overlapping leftmost matches of the repeat set,
/// i.e. scanning left to right, a match at `i` counts and the scan jumps to `i + 6`.
pub fn th_greedy_count(seq: &[u8], reverse: bool) -> u32 {
    let t = table();
    let flag = if reverse { TH_REV } else { TH_FWD };
    let mut count = 0;
    let mut i = 0;
    while i + 6 <= seq.len() {
        let w = &seq[i..i + 6];
        if w.iter().all(|&b| b <= 3) {
            let code = w.iter().fold(0usize, |acc, &b| (acc << 2) | b as usize);
            if t[code] & flag != 0 {
                count += 1;
                i += 6;
                continue;
            }
        }
        i += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reads::view::encode_ascii_sequence;

    fn codes(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        encode_ascii_sequence(s.as_bytes(), &mut v);
        v
    }

    /// Naive non-overlapping leftmost count of an alternation, as Python's `re.findall` does.
    fn naive_findall(seq: &str, pats: &[String]) -> u32 {
        let b = seq.as_bytes();
        let (mut i, mut n) = (0, 0);
        while i + 6 <= b.len() {
            if pats.iter().any(|p| &b[i..i + 6] == p.as_bytes()) {
                n += 1;
                i += 6;
            } else {
                i += 1;
            }
        }
        n
    }

    #[test]
    fn counts_motifs_gc_and_n() {
        let s = scan(&codes("TTAGGGTTAGGGNTTAGGGCCCTAA"));
        assert_eq!(s.len, 25);
        assert_eq!(s.n, 1);
        assert_eq!(s.telseq_fwd, 3);
        assert_eq!(s.telseq_rev, 1);
        assert_eq!(s.telseq_repeats(), 3);
        assert_eq!(s.gc, 3 * 3 + 3);
        // N breaks a window: TTAGG N G is not a motif.
        assert_eq!(scan(&codes("TTAGGNGTTAGG")).telseq_fwd, 0);
    }

    #[test]
    fn greedy_count_matches_regex_semantics() {
        let fwd: Vec<String> = TH_REPEATS
            .iter()
            .map(|r| String::from_utf8(r.to_vec()).unwrap())
            .collect();
        let rev: Vec<String> = TH_REPEATS
            .iter()
            .map(|r| String::from_utf8(reverse_complement(r).to_vec()).unwrap())
            .collect();
        // Overlapping variants: TTTGGGG holds TTTGGG and TTGGGG overlapping; greedy takes the first.
        let cases = [
            "TTTGGGGTTAGGG",
            "TTAGGGTTAGGGTCAGGGTGAGGGTTGGGGTTCGGG",
            "CCCTAACCCTAACCCAAACCCCAA",
            "ACGTTTTGGGGGTTTTGGGGG",
            "NNNNTTAGGGNTTAGGG",
            "",
        ];
        for c in cases {
            let v = codes(c);
            assert_eq!(th_greedy_count(&v, false), naive_findall(c, &fwd), "{c}");
            assert_eq!(th_greedy_count(&v, true), naive_findall(c, &rev), "{c}");
            let s = scan(&v);
            assert!(s.th_fwd_hits >= th_greedy_count(&v, false));
            assert!(s.th_rev_hits >= th_greedy_count(&v, true));
        }
        // Pseudo-random sequences over a telomere-rich alphabet.
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..2000 {
            let mut s = String::new();
            for _ in 0..60 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(b"TTAGGGCCCTAAN"[(x % 13) as usize] as char);
            }
            let v = codes(&s);
            assert_eq!(th_greedy_count(&v, false), naive_findall(&s, &fwd), "{s}");
            assert_eq!(th_greedy_count(&v, true), naive_findall(&s, &rev), "{s}");
            let sc = scan(&v);
            assert_eq!(sc, scan_rolling(&v), "{s}");
            assert_eq!(sc.telseq_fwd as usize, s.matches("TTAGGG").count());
            assert_eq!(sc.telseq_rev as usize, s.matches("CCCTAA").count());
        }
    }
}

#[cfg(test)]
mod equivalence {
    use super::*;
    use crate::reads::view::encode_ascii_sequence;

    /// The fast scanner equals the rolling one on random reads of every composition and length,
    /// including runs of G/C, N breaks and windows at both ends.
    #[test]
    fn fast_scan_equals_rolling_scan() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let alphabets: [&[u8]; 5] = [
            b"ACGT",
            b"GGGGCCCTTA",
            b"TTAGGGCCCTAA",
            b"GCN",
            b"TTAGGGTCAGGGTTGGGGCCCAAACCCGAAN",
        ];
        for round in 0..20_000 {
            let alphabet = alphabets[round % alphabets.len()];
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 160) as usize;
            let mut ascii = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ascii.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let mut v = Vec::new();
            encode_ascii_sequence(&ascii, &mut v);
            assert_eq!(
                scan(&v),
                scan_rolling(&v),
                "{}",
                String::from_utf8_lossy(&ascii)
            );
        }
    }

    /// The packed scanner equals the code scanner on random packed reads: every length from 0,
    /// telomere-rich and plain bases, N and the other BAM codes (`=`, IUPAC), and garbage in the
    /// unused low nibble of an odd-length read's last byte.
    #[test]
    fn packed_scan_equals_code_scan() {
        // BAM nibbles: A=1 C=2 G=4 T=8 N=15; others are IUPAC codes and `=`.
        let alphabets: [&[u8]; 5] = [
            &[1, 2, 4, 8],
            &[8, 8, 1, 4, 4, 4, 2, 2, 2, 8, 1, 1],
            &[8, 8, 1, 4, 4, 4, 8, 2, 1, 4, 4, 4, 8, 8, 4, 4, 4, 4, 15],
            &[2, 4, 15, 0, 3, 5, 9],
            &[4, 4, 4, 2, 2, 2, 8, 1, 1, 6, 10, 12],
        ];
        let mut rng = crate::core::rng::SplitMix64(11);
        let mut next = || rng.next();
        let mut scratch = Vec::new();
        for round in 0..40_000 {
            let alphabet = alphabets[round % alphabets.len()];
            let len = (next() % 300) as usize;
            let mut packed = vec![0u8; len.div_ceil(2)];
            for i in 0..len {
                let nib = alphabet[(next() % alphabet.len() as u64) as usize];
                packed[i / 2] |= if i % 2 == 0 { nib << 4 } else { nib };
            }
            if len % 2 == 1 && round % 3 == 0 {
                packed[len / 2] |= (next() % 16) as u8;
            }
            let mut codes = Vec::new();
            crate::reads::view::unpack_bam_sequence(&packed, len, &mut codes);
            assert_eq!(
                scan_packed(&packed, len, &mut scratch),
                scan(&codes),
                "len {len}: {packed:02x?}"
            );
        }
    }
}
