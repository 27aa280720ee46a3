//! The two Java generators the tools draw payloads from, bit for bit, so that a run sends the
//! same bytes as Kafka's tool does: `java.util.SplittableRandom` (ProducerPerformance's
//! `--record-size` payloads, seeded 0) and `java.util.Random` (EndToEndLatency's messages,
//! seeded 0).

/// `java.util.SplittableRandom` (JDK 17): a SplitMix64 generator with the golden gamma.
#[derive(Debug, Clone)]
pub struct SplittableRandom {
    seed: u64,
}

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

impl SplittableRandom {
    pub fn new(seed: i64) -> Self {
        SplittableRandom { seed: seed as u64 }
    }

    fn next_seed(&mut self) -> u64 {
        self.seed = self.seed.wrapping_add(GOLDEN_GAMMA);
        self.seed
    }

    fn mix32(z: u64) -> i32 {
        let z = (z ^ (z >> 33)).wrapping_mul(0x62a9_d9ed_7997_05f5);
        ((z ^ (z >> 28)).wrapping_mul(0xcb24_d0a5_c88c_35b3) >> 32) as u32 as i32
    }

    /// `nextInt(bound)` for `bound > 0`.
    pub fn next_int(&mut self, bound: i32) -> i32 {
        let mut r = Self::mix32(self.next_seed());
        let m = bound - 1;
        if bound & m == 0 {
            return r & m;
        }
        let mut u = ((r as u32) >> 1) as i32;
        loop {
            r = u % bound;
            if u.wrapping_add(m).wrapping_sub(r) >= 0 {
                return r;
            }
            u = ((Self::mix32(self.next_seed()) as u32) >> 1) as i32;
        }
    }

    /// Fills `buf` with uppercase letters `A`-`Z`, one `nextInt(26)` each, as
    /// `ProducerPerformance.generateRandomPayload` does for `--record-size`.
    pub fn fill_letters(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = (self.next_int(26) + 65) as u8;
        }
    }
}

/// `java.util.Random`: the 48-bit linear congruential generator.
#[derive(Debug, Clone)]
pub struct JavaRandom {
    seed: u64,
}

const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const MASK: u64 = (1 << 48) - 1;

impl JavaRandom {
    pub fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed as u64 ^ MULTIPLIER) & MASK,
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(MULTIPLIER).wrapping_add(0xB)) & MASK;
        (self.seed >> (48 - bits)) as i64 as i32
    }

    /// `nextInt(bound)` for `bound > 0`.
    pub fn next_int(&mut self, bound: i32) -> i32 {
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_random_matches_the_jdk() {
        // Printed by JDK 17: new Random(0).nextInt(26) five times; new Random(42).nextInt(100)
        // twice.
        let mut r = JavaRandom::new(0);
        let got: Vec<i32> = (0..5).map(|_| r.next_int(26)).collect();
        assert_eq!(got, vec![18, 18, 23, 21, 13]);
        let mut r = JavaRandom::new(42);
        assert_eq!((r.next_int(100), r.next_int(100)), (30, 63));
    }

    #[test]
    fn splittable_random_matches_the_jdk() {
        // Printed by JDK 17: 32 x (char) (new SplittableRandom(0).nextInt(26) + 65).
        let mut r = SplittableRandom::new(0);
        let mut x = [0u8; 32];
        r.fill_letters(&mut x);
        assert_eq!(&x, b"YQHHNEBSEPDNSEIFGAMSUJXKOLTXSPLG");
    }

    #[test]
    fn splittable_random_letters_are_uppercase_and_deterministic() {
        let mut a = SplittableRandom::new(0);
        let mut b = SplittableRandom::new(0);
        let mut x = [0u8; 64];
        let mut y = [0u8; 64];
        a.fill_letters(&mut x);
        b.fill_letters(&mut y);
        assert_eq!(x, y);
        assert!(x.iter().all(u8::is_ascii_uppercase));
        // Not constant: the letters are spread over the alphabet.
        let distinct: std::collections::BTreeSet<u8> = x.iter().copied().collect();
        assert!(distinct.len() > 10);
    }
}
