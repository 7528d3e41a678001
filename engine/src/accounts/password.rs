//! Password hashing with argon2id (PHC strings) and the length rules.
//!
//! Hashing and checking work in a caller's [`HashMemory`]: the 19 MiB of
//! blocks argon2 fills, kept and reused from one hash to the next (each
//! hashing permit owns one), so the memory password hashing takes is
//! allocated once per permit instead of once per sign-in. Left to the
//! allocator, 19 MiB blocks freed on many threads stay in per-thread arenas:
//! a flood of sign-ins then grows the process by about a gigabyte even with
//! few hashes running at once.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::{Error, Result};

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest accepted password, in characters (bounds the hashing work).
pub const MAX_PASSWORD_LEN: usize = 128;

/// The blocks argon2 hashes in, reused from hash to hash; grown to the
/// parameters' size on first use.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl std::fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashMemory({} KiB)", self.0.len())
    }
}

impl HashMemory {
    /// `count` blocks: this memory's own when `count` is at most the default
    /// parameters' (growing it once), else a one-off allocation.
    fn with_blocks<T>(&mut self, count: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        if count > Params::default().block_count() {
            return work(&mut vec![Block::default(); count]);
        }
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        work(&mut self.0[..count])
    }
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

fn hashing_failed(err: impl std::fmt::Display) -> Error {
    Error::Storage(format!("password hashing failed: {err}"))
}

/// The argon2id PHC string of `password` (default parameters) with a fresh
/// random salt, hashed in `memory`.
pub(super) fn hash_password(password: &str, memory: &mut HashMemory) -> Result<String> {
    let mut salt_bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(hashing_failed)?;
    let params = Params::default();
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    memory
        .with_blocks(params.block_count(), |blocks| {
            hasher.hash_password_into_with_memory(
                password.as_bytes(),
                &salt_bytes,
                &mut out,
                blocks,
            )
        })
        .map_err(hashing_failed)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(hashing_failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(hashing_failed)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string, checked in `memory`
/// (the comparison takes constant time); a malformed hash never matches.
pub(super) fn verify_password(password: &str, stored: &str, memory: &mut HashMemory) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let Ok(version) = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let hasher = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let hashed = memory.with_blocks(params.block_count(), |blocks| {
        hasher.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
    });
    hashed.is_ok() && Output::new(&out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let mut memory = HashMemory::default();
        let hash = hash_password("correct horse", &mut memory).expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse", &hash, &mut memory));
        assert!(!verify_password("wrong horse", &hash, &mut memory));
        assert!(!verify_password("correct horse", "not a hash", &mut memory));
    }

    #[test]
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        let mut memory = HashMemory::default();
        let ours = hash_password("correct horse", &mut memory).expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_password("battery staple", &theirs, &mut memory));
        assert!(!verify_password("battery stapler", &theirs, &mut memory));
    }

    #[test]
    fn length_rules() {
        assert!(check_password("short").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"x".repeat(129)).is_err());
    }
}
