//! The consent step of OAuth 2.0 with PKCE (RFC 7636, S256): a random
//! `state` bound to the signed-in expert, stored only as its SHA-256 with
//! the PKCE verifier sealed beside it, valid for a few minutes and used at
//! most once (the callback deletes it in the transaction that reads it),
//! one per expert (a new consent replaces the one before);
//! the consent URL carries the state and the verifier's S256 challenge.

use droply_models::{Timestamp, UserId};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::config::{GOOGLE_SCOPES, GoogleConfig};
use super::crypto::base64url;
use crate::store::{EntityKind, IndexEntry, IndexName, Record, UniqueEntry, UniqueName};
use crate::{Error, Result};

engine_record_id! {
    /// Identifies an [`OAuthState`].
    pub struct OAuthStateId;
}

/// A consent in progress.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthState {
    /// Primary key.
    pub id: OAuthStateId,
    /// Hex SHA-256 of the `state` sent to Google (unique).
    pub state_hash: String,
    /// Who asked to connect.
    pub user_id: UserId,
    /// The PKCE verifier, sealed.
    pub verifier: Vec<u8>,
    /// When the state stops being accepted.
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthState")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Record for OAuthState {
    type Id = OAuthStateId;
    const KIND: EntityKind = EntityKind::OAuthState;

    fn id(&self) -> OAuthStateId {
        self.id
    }
    fn set_id(&mut self, id: OAuthStateId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn owner(&self) -> Option<u64> {
        Some(self.user_id.get())
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry::owner_at(
            IndexName::OAuthStatesByUser,
            self.user_id.get(),
            self.expires_at,
        )]
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::OAuthState,
            key: self.state_hash.as_bytes().to_vec(),
            shown: "state".to_owned(),
        }]
    }
}

/// 32 random bytes, URL-safe base64 (43 characters).
pub(crate) fn random_token() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(base64url(&bytes))
}

/// The hex SHA-256 a `state` is stored and looked up by.
pub(crate) fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// The S256 challenge of a PKCE `verifier`.
pub fn pkce_challenge(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

/// The associated data of a sealed verifier: bound to its state.
pub(crate) fn verifier_aad(state_hash: &str) -> String {
    format!("droply:google:pkce:{state_hash}")
}

/// Google's consent URL for `state` and `verifier`'s challenge; offline
/// access (a refresh token) and the consent screen every time, so a
/// reconnect gets a fresh refresh token.
pub(crate) fn consent_url(
    google: &GoogleConfig,
    state: &SecretString,
    verifier: &SecretString,
) -> Result<String> {
    let challenge = pkce_challenge(verifier.expose_secret());
    let url = reqwest::Url::parse_with_params(
        &google.auth_url,
        &[
            ("response_type", "code"),
            ("client_id", google.client_id.as_str()),
            ("redirect_uri", google.redirect_url.as_str()),
            ("scope", GOOGLE_SCOPES),
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("include_granted_scopes", "true"),
            ("state", state.expose_secret()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .map_err(|err| Error::Config(format!("the Google auth URL: {err}")))?;
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_tokens_differ_and_are_url_safe() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret().len(), 43);
        assert!(
            a.expose_secret()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
