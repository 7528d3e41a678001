//! Encryption at rest for what Droply must keep of an outside account (the
//! Google tokens, a PKCE verifier): AES-256-GCM under the service's secret
//! key (`DROPLY_SECRET_KEY`, 32 bytes written as hex or base64, checked at
//! start), a fresh random 96-bit nonce per encryption, stored before the
//! ciphertext. Each sealed value is bound to what it is for (the
//! associated data names the row and the field), so a value copied into
//! another row or field does not open. Neither the key nor an opened value
//! ever prints: [`SecretKey`]'s `Debug` is redacted and opened values are
//! [`SecretString`]s.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::RngCore;
use secrecy::SecretString;

use crate::{Error, Result};

/// Bytes of the nonce stored in front of every ciphertext.
const NONCE_LEN: usize = 12;

/// The 256-bit key sealed values are encrypted with.
#[derive(Clone)]
pub struct SecretKey(Box<[u8; 32]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// The key from exactly 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(Box::new(bytes))
    }

    /// Reads a key written as 64 hex digits or as base64 (standard or
    /// URL-safe, padded or not) of 32 bytes; anything else is a
    /// [`Error::Config`] that never repeats the value.
    pub fn parse(text: &str) -> Result<SecretKey> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            decode_base64(text)
        };
        let bytes: [u8; 32] = bytes
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| {
                Error::Config(
                    "the secret key must be 32 bytes written as 64 hex digits or as base64"
                        .to_owned(),
                )
            })?;
        Ok(SecretKey::from_bytes(bytes))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.0.as_slice()))
    }

    /// Encrypts `plain` for the purpose `aad` names: a fresh nonce, then
    /// the ciphertext with its tag.
    pub fn seal(&self, plain: &str, aad: &str) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| Error::Corrupt("a value could not be encrypted".to_owned()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`SecretKey::seal`] made for the same `aad`; a wrong
    /// key, another purpose or altered bytes is [`Error::Corrupt`].
    pub fn open(&self, sealed: &[u8], aad: &str) -> Result<SecretString> {
        let refused = || Error::Corrupt("a sealed value does not open with this key".to_owned());
        if sealed.len() < NONCE_LEN {
            return Err(refused());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let plain = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| refused())?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| refused())
    }
}

/// Standard or URL-safe base64, padding optional; `None` when malformed.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// URL-safe base64 without padding (RFC 4648 §5), as OAuth's `state`
/// and PKCE's verifier and challenge are written.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = (n >> (18 - 6 * i)) & 63;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_bytes([byte; 32])
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_purpose() {
        let sealed = key(7).seal("ya29.access", "user:3:access").expect("seal");
        assert!(!sealed.windows(5).any(|w| w == b"ya29."), "no plain text");
        let opened = key(7).open(&sealed, "user:3:access").expect("open");
        assert_eq!(opened.expose_secret(), "ya29.access");
    }

    #[test]
    fn a_wrong_key_another_purpose_or_altered_bytes_do_not_open() {
        let sealed = key(7).seal("refresh", "user:3:refresh").expect("seal");
        assert!(key(8).open(&sealed, "user:3:refresh").is_err());
        assert!(key(7).open(&sealed, "user:4:refresh").is_err());
        let mut altered = sealed.clone();
        if let Some(last) = altered.last_mut() {
            *last ^= 1;
        }
        assert!(key(7).open(&altered, "user:3:refresh").is_err());
        assert!(key(7).open(&sealed[..5], "user:3:refresh").is_err());
    }

    #[test]
    fn every_encryption_takes_a_fresh_nonce() {
        let a = key(1).seal("same", "x").expect("seal");
        let b = key(1).seal("same", "x").expect("seal");
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn keys_are_read_from_hex_or_base64_and_never_printed() {
        let hex_key = "00".repeat(31) + "ff";
        let from_hex = SecretKey::parse(&hex_key).expect("hex");
        assert_eq!(from_hex.0[31], 0xff);
        let b64 = base64url(&[0xab; 32]);
        let from_b64 = SecretKey::parse(&b64).expect("base64url");
        assert_eq!(*from_b64.0, [0xab; 32]);
        let standard = "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=";
        assert_eq!(*SecretKey::parse(standard).expect("standard").0, [0xab; 32]);
        let bad_keys = [
            String::new(),
            "abc".to_owned(),
            "0".repeat(62),
            "not base64 at all!!".to_owned(),
            base64url(&[1; 31]),
        ];
        for bad in &bad_keys {
            let err = SecretKey::parse(bad).expect_err(bad);
            assert!(matches!(err, Error::Config(_)));
        }
        assert_eq!(format!("{from_hex:?}"), "SecretKey(..)");
    }

    #[test]
    fn base64url_matches_rfc_4648() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }
}
