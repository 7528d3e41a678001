//! Codes people read aloud and type: referral codes and drop-in session
//! codes, drawn from one alphabet of upper-case letters and digits without
//! the look-alikes (no `I`, `O`, `0` or `1`), so a code copied by hand
//! still works.

use rand::Rng;

/// The letters and digits a code is made of.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random code of `len` characters from [`CODE_ALPHABET`].
pub fn random_code(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_alphabet_only() {
        for _ in 0..100 {
            let code = random_code(8);
            assert_eq!(code.len(), 8);
            assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
        }
        assert_ne!(random_code(12), random_code(12));
    }
}
