//! Our own tiny PRNG and hash, so the same `(seed, index)` gives the same bytes forever.
//!
//! The `rand` crate makes no promise that a seeded generator's stream stays the same across
//! versions (and its `StdRng` explicitly may change). SplitMix64 is ten lines, fixed by its
//! published constants, fast, and good enough for pictures.

/// SplitMix64 (Steele, Lea, Flood 2014; the constants of Vigna's reference implementation).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The generator for one item of a set: depends only on `(seed, index)`.
    pub fn for_item(seed: u64, index: u64) -> SplitMix64 {
        let mut s = SplitMix64::new(seed);
        let base = s.next_u64();
        SplitMix64::new(base ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn range_f64(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// Uniform in lo..=hi (a multiply-shift, no modulo bias worth the name for small ranges).
    pub fn range_u32(&mut self, lo: u32, hi: u32) -> u32 {
        let span = u64::from(hi - lo) + 1;
        lo + (((self.next_u64() >> 32) * span) >> 32) as u32
    }
}

/// The 64-bit FNV-1a hash of `bytes` (the manifest's file fingerprint).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference() {
        // First output of Vigna's splitmix64.c for a zero state.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn items_are_independent_and_repeatable() {
        let mut x = SplitMix64::for_item(2020, 7);
        let mut y = SplitMix64::for_item(2020, 7);
        let mut z = SplitMix64::for_item(2020, 8);
        let (x1, y1, z1) = (x.next_u64(), y.next_u64(), z.next_u64());
        assert_eq!(x1, y1);
        assert_ne!(x1, z1);
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = SplitMix64::new(1);
        for _ in 0..10_000 {
            let v = r.range_u32(1000, 2500);
            assert!((1000..=2500).contains(&v));
            let f = r.range_f64(1.0, 1.35);
            assert!((1.0..1.35).contains(&f));
        }
    }

    #[test]
    fn fnv1a64_test_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
