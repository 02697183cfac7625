//! A tiny deterministic generator (splitmix64) for ids, credentials and random faults.
//!
//! Nothing here is cryptographic: the fake only needs values that look random, never repeat within
//! a world, and are the same from one run to the next.

/// The splitmix64 generator: a 64-bit state advanced by a constant and mixed.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A uniform float in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        // 53 random bits: every value is exactly representable.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform index below `n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `len` characters drawn from `alphabet`.
    pub(crate) fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        let mut out = String::with_capacity(len);
        self.push(&mut out, alphabet, len);
        out
    }

    /// `len` characters drawn from `alphabet` (ASCII), appended to `out`.
    fn push(&mut self, out: &mut String, alphabet: &[u8], len: usize) {
        for _ in 0..len {
            out.push(char::from(alphabet[self.below(alphabet.len())]));
        }
    }

    /// `len` characters drawn from `alphabet`, several from each draw when the alphabet's size is
    /// a power of two (the bits of one draw serve ⌊64 / bits⌋ characters: a session token's 356
    /// characters take 36 draws, not 356). Other sizes draw once per character, as
    /// [`string`](Self::string).
    pub(crate) fn packed_string(&mut self, alphabet: &[u8], len: usize) -> String {
        let n = alphabet.len();
        if !n.is_power_of_two() || n < 2 {
            return self.string(alphabet, len);
        }
        let bits = n.trailing_zeros();
        let per_draw = 64 / bits;
        let mask = (1u64 << bits) - 1;
        let mut out = vec![0; len];
        let (mut word, mut left) = (0u64, 0);
        for byte in &mut out {
            if left == 0 {
                (word, left) = (self.next_u64(), per_draw);
            }
            *byte = alphabet[(word & mask) as usize];
            word >>= bits;
            left -= 1;
        }
        // The alphabets are ASCII; anything else is replaced rather than trusted.
        String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// `prefix`, `separator` and `len` characters drawn from `alphabet`, in one allocation
    /// (`AROA...`, `vpc-...`).
    pub(crate) fn prefixed(&mut self, prefix: &str, separator: &str, alphabet: &[u8], len: usize) -> String {
        let mut out = String::with_capacity(prefix.len() + separator.len() + len);
        out.push_str(prefix);
        out.push_str(separator);
        self.push(&mut out, alphabet, len);
        out
    }

    /// Hexadecimal digits in a UUID's groups of 8, 4, 4, 4 and 12, joined by `-`.
    pub(crate) fn uuid_shaped(&mut self) -> String {
        let mut out = String::with_capacity(36);
        for (i, len) in [8, 4, 4, 4, 12].into_iter().enumerate() {
            if i > 0 {
                out.push('-');
            }
            self.push(&mut out, HEX, len);
        }
        out
    }
}

/// The splitmix64 output function.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Upper-case letters and digits, as in IAM unique ids (`AROA...`) and access key ids (`ASIA...`).
pub(crate) const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Lower-case hexadecimal digits, as in EC2 ids (`vpc-0a1b...`) and KMS key ids.
pub(crate) const HEX: &[u8] = b"0123456789abcdef";
/// Lower-case letters and digits, as in spot request ids and RDS endpoint suffixes.
pub(crate) const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// The alphabet of secret access keys and session tokens.
pub(crate) const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_spread() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        let f = a.next_f64();
        assert!((0.0..1.0).contains(&f));
        let s = a.string(UPPER_ALNUM, 17);
        assert_eq!(s.len(), 17);
        assert!(s.bytes().all(|c| UPPER_ALNUM.contains(&c)));
        assert_ne!(SplitMix64::new(1).next_u64(), SplitMix64::new(2).next_u64());
    }

    #[test]
    fn packed_strings_use_every_character_of_a_power_of_two_alphabet() {
        let token = SplitMix64::new(7).packed_string(BASE64, 356);
        assert_eq!(token.len(), 356);
        assert!(token.bytes().all(|c| BASE64.contains(&c)));
        // Six bits a character, ten characters a draw: 356 characters see (nearly) every symbol.
        let seen: std::collections::BTreeSet<u8> = token.bytes().collect();
        assert!(seen.len() > 55, "{} symbols", seen.len());
        assert_eq!(SplitMix64::new(7).packed_string(BASE64, 356), token);
        assert_ne!(SplitMix64::new(8).packed_string(BASE64, 356), token);
        // Another size draws once per character, as `string` does.
        assert_eq!(SplitMix64::new(7).packed_string(LOWER_ALNUM, 16), SplitMix64::new(7).string(LOWER_ALNUM, 16));
    }
}
