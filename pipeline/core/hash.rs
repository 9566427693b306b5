//! A fast hash for the CpG-id maps of the methylation readers and the probe tables.

/// FNV-1a: a fast hasher for the short probe-name keys looked up once per row or per model
/// CpG (the keys come from the bundled tables and the input's probe names).
#[derive(Clone, Copy, Debug, Default)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A hash map with the [`Fnv`] hasher.
pub type FastMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;
