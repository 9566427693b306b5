//! The uniform view of one read that every read stage sees, whatever the input format.

/// Base code of A in [`ReadView::seq`].
pub const BASE_A: u8 = 0;
/// Base code of C.
pub const BASE_C: u8 = 1;
/// Base code of G.
pub const BASE_G: u8 = 2;
/// Base code of T.
pub const BASE_T: u8 = 3;
/// Base code of N and every other symbol (IUPAC ambiguity codes, `=`, `.`).
pub const BASE_N: u8 = 4;

/// SAM flag bits used by the stages.
pub mod flags {
    /// Template has several segments.
    pub const PAIRED: u16 = 0x1;
    /// Segment unmapped.
    pub const UNMAPPED: u16 = 0x4;
    /// Mate unmapped.
    pub const MATE_UNMAPPED: u16 = 0x8;
    /// First segment.
    pub const READ1: u16 = 0x40;
    /// Last segment.
    pub const READ2: u16 = 0x80;
    /// Secondary alignment.
    pub const SECONDARY: u16 = 0x100;
    /// Not passing quality controls.
    pub const QC_FAIL: u16 = 0x200;
    /// PCR or optical duplicate.
    pub const DUPLICATE: u16 = 0x400;
    /// Supplementary alignment.
    pub const SUPPLEMENTARY: u16 = 0x800;
}

/// CIGAR operation kinds, numbered as in BAM (`MIDNSHP=X`).
pub mod cigar {
    /// Alignment match.
    pub const M: u8 = 0;
    /// Insertion.
    pub const I: u8 = 1;
    /// Deletion.
    pub const D: u8 = 2;
    /// Skipped region.
    pub const N: u8 = 3;
    /// Soft clip.
    pub const S: u8 = 4;
    /// Hard clip.
    pub const H: u8 = 5;
    /// Padding.
    pub const P: u8 = 6;
    /// Sequence match.
    pub const EQ: u8 = 7;
    /// Sequence mismatch.
    pub const X: u8 = 8;
}

/// One CIGAR operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CigarOp {
    /// Kind, see [`cigar`].
    pub kind: u8,
    /// Length.
    pub len: u32,
}

/// One read as the stages see it. Positions are 0-based.
#[derive(Clone, Copy, Debug)]
pub struct ReadView<'a> {
    /// 1-based number of the record in the input (for FASTQ pairs read from two files, records
    /// are numbered in the order R1, R2, R1, R2, …).
    pub record: u64,
    /// Read name (QNAME); a FASTQ `/1` or `/2` mate suffix is removed.
    pub name: &'a [u8],
    /// SAM flags (FASTQ reads are flagged unmapped, and paired/first/last where known).
    pub flags: u16,
    /// Reference sequence index, if placed.
    pub tid: Option<usize>,
    /// 0-based leftmost aligned position, if placed.
    pub pos: Option<u64>,
    /// Mapping quality (255 = not available).
    pub mapq: u8,
    /// Mate's reference sequence index.
    pub mate_tid: Option<usize>,
    /// Mate's 0-based position.
    pub mate_pos: Option<u64>,
    /// Index into the pass's read-group list.
    pub read_group: Option<usize>,
    /// Number of bases.
    pub len: usize,
    /// Bases as codes 0..=4 (A, C, G, T, N/other). Empty when the bases are in [`Self::packed`]
    /// instead; use [`Self::codes`] to get codes either way.
    pub seq: &'a [u8],
    /// BAM-packed bases (4-bit `=ACMGRSVTWYHKDBN` codes, two per byte, first base in the high
    /// nibble), given instead of [`Self::seq`] for BAM input when no stage of the pass asked for
    /// codes (see `ReadStage::needs_codes`); empty otherwise.
    pub packed: &'a [u8],
    /// CIGAR operations (empty when absent).
    pub cigar: &'a [CigarOp],
    /// The `MM` (or `Mm`) base-modification string, without its type; empty when absent or
    /// when no stage of the pass asked for it (`ReadStage::needs_mods`).
    pub mm: &'a [u8],
    /// The `ML` (or `Ml`) probability bytes; empty when absent or not asked for.
    pub ml: &'a [u8],
}

impl ReadView<'_> {
    /// Primary record: neither secondary nor supplementary.
    #[inline]
    pub fn is_primary(&self) -> bool {
        self.flags & (flags::SECONDARY | flags::SUPPLEMENTARY) == 0
    }

    /// The bases as codes 0..=4: [`Self::seq`], or [`Self::packed`] unpacked into `scratch`.
    pub fn codes<'b>(&'b self, scratch: &'b mut Vec<u8>) -> &'b [u8] {
        if self.packed.is_empty() {
            self.seq
        } else {
            scratch.clear();
            unpack_bam_sequence(self.packed, self.len, scratch);
            scratch
        }
    }

    /// Length of the reference span covered by the CIGAR (M, D, N, =, X).
    pub fn reference_span(&self) -> u64 {
        reference_span(self.cigar)
    }
}

/// Length of the reference span a CIGAR covers (M, D, N, =, X).
pub fn reference_span(ops: &[CigarOp]) -> u64 {
    ops.iter()
        .filter(|op| {
            matches!(
                op.kind,
                cigar::M | cigar::D | cigar::N | cigar::EQ | cigar::X
            )
        })
        .map(|op| u64::from(op.len))
        .sum()
}

/// ASCII → base code.
pub static ASCII_TO_CODE: [u8; 256] = {
    let mut t = [BASE_N; 256];
    t[b'A' as usize] = BASE_A;
    t[b'a' as usize] = BASE_A;
    t[b'C' as usize] = BASE_C;
    t[b'c' as usize] = BASE_C;
    t[b'G' as usize] = BASE_G;
    t[b'g' as usize] = BASE_G;
    t[b'T' as usize] = BASE_T;
    t[b't' as usize] = BASE_T;
    t
};

/// BAM 4-bit code (`=ACMGRSVTWYHKDBN`) → base code.
const NIBBLE_TO_CODE: [u8; 16] = {
    let mut t = [BASE_N; 16];
    t[1] = BASE_A;
    t[2] = BASE_C;
    t[4] = BASE_G;
    t[8] = BASE_T;
    t
};

/// One packed BAM byte (two bases) → two base codes, as a little-endian `u16`.
static PACKED_PAIR_TO_CODES: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [NIBBLE_TO_CODE[i >> 4], NIBBLE_TO_CODE[i & 0xf]];
        i += 1;
    }
    t
};

/// Appends the base codes of a BAM packed sequence of `len` bases to `dst`.
pub fn unpack_bam_sequence(packed: &[u8], len: usize, dst: &mut Vec<u8>) {
    let start = dst.len();
    let packed = &packed[..len.div_ceil(2).min(packed.len())];
    dst.resize(start + 2 * packed.len(), 0);
    for (out, &b) in dst[start..].chunks_exact_mut(2).zip(packed) {
        out.copy_from_slice(&PACKED_PAIR_TO_CODES[b as usize]);
    }
    dst.truncate(start + len);
}

/// Appends the base codes of an ASCII sequence to `dst`.
pub fn encode_ascii_sequence(ascii: &[u8], dst: &mut Vec<u8>) {
    dst.extend(ascii.iter().map(|&b| ASCII_TO_CODE[b as usize]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_and_ascii_agree() {
        // "ACGTN" packed: A=1 C=2 G=4 T=8 N=15 → 0x12 0x48 0xF0
        let mut a = Vec::new();
        unpack_bam_sequence(&[0x12, 0x48, 0xF0], 5, &mut a);
        let mut b = Vec::new();
        encode_ascii_sequence(b"ACGTN", &mut b);
        assert_eq!(a, b);
        assert_eq!(a, vec![0, 1, 2, 3, 4]);
        let mut c = Vec::new();
        encode_ascii_sequence(b"acgtRY.", &mut c);
        assert_eq!(c, vec![0, 1, 2, 3, 4, 4, 4]);
    }
}
