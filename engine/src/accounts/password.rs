//! Password hashing with argon2id (PHC strings) and the length rules.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::{Error, Result};

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest accepted password, in characters (bounds the hashing work).
pub const MAX_PASSWORD_LEN: usize = 128;

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Checks the length rules.
pub(super) fn check_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&chars) {
        return Err(droply_models::Error::invalid(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        )
        .into());
    }
    Ok(())
}

/// The argon2id PHC string of `password` with a fresh random salt.
pub(super) fn hash_password(password: &str) -> Result<String> {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|err| Error::Storage(format!("password salt failed: {err}")))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| Error::Storage(format!("password hashing failed: {err}")))
}

/// Whether `password` matches the stored PHC string; a malformed hash never matches.
pub(super) fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn length_rules() {
        assert!(check_password("short").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"x".repeat(129)).is_err());
    }
}
