//! How calendar sync is set up: Google's OAuth client (id and secret; none:
//! Google is off and the calendar routes answer `CalendarNotConfigured`),
//! the endpoints (configurable, so tests point them at a fake on loopback),
//! the key tokens are encrypted with, the sync's timing, and how long a
//! revocation that Google did not take is tried again. The client secret is
//! a [`SecretString`] and the key a [`SecretKey`]: neither prints.

use std::time::Duration;

use secrecy::SecretString;

use super::crypto::SecretKey;
use crate::video::RetryPolicy;
use crate::{Error, Result};

/// Google's consent page.
pub const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
/// Google's token endpoint (code exchange and refresh).
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Google's token revocation endpoint.
pub const GOOGLE_REVOKE_URL: &str = "https://oauth2.googleapis.com/revoke";
/// The base of Google's Calendar API (`/calendar/v3/...` follows).
pub const GOOGLE_API_BASE: &str = "https://www.googleapis.com";
/// What Droply asks to read and write: free/busy and events.
pub const GOOGLE_SCOPES: &str = "https://www.googleapis.com/auth/calendar.freebusy https://www.googleapis.com/auth/calendar.events";

/// The Google OAuth client and where Google's endpoints are.
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    /// The OAuth client id (`DROPLY_GOOGLE_CLIENT_ID`).
    pub client_id: String,
    /// The OAuth client secret (`DROPLY_GOOGLE_CLIENT_SECRET`).
    pub client_secret: SecretString,
    /// The consent page.
    pub auth_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The revocation endpoint.
    pub revoke_url: String,
    /// The Calendar API's base, without a trailing slash.
    pub api_base: String,
    /// Where Google sends the browser back: the callback route.
    pub redirect_url: String,
    /// How long one request to Google may take.
    pub timeout: Duration,
}

impl GoogleConfig {
    /// Google's endpoints with this client; the redirect is the local
    /// service's callback.
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        GoogleConfig {
            client_id: client_id.into(),
            client_secret,
            auth_url: GOOGLE_AUTH_URL.to_owned(),
            token_url: GOOGLE_TOKEN_URL.to_owned(),
            revoke_url: GOOGLE_REVOKE_URL.to_owned(),
            api_base: GOOGLE_API_BASE.to_owned(),
            redirect_url: "http://localhost:8080/v1/calendar/google/callback".to_owned(),
            timeout: Duration::from_secs(20),
        }
    }
}

/// Everything calendar sync needs.
#[derive(Debug, Clone)]
pub struct CalendarConfig {
    /// Google, or `None`: calendar sync is off.
    pub google: Option<GoogleConfig>,
    /// The key tokens are encrypted with; required with Google.
    pub secret_key: Option<SecretKey>,
    /// How often busy times are read and calendar events written in the
    /// background (`None`: never; the binary sets it, tests run a sync by
    /// hand).
    pub sync_every: Option<Duration>,
    /// An access token expiring within this margin is refreshed before use.
    pub refresh_margin: Duration,
    /// How far ahead busy times are read.
    pub busy_window_days: u32,
    /// How long a consent's `state` stays valid.
    pub state_ttl: Duration,
    /// How many times a calendar event operation is tried before it is
    /// given up (logged).
    pub max_attempts: u32,
    /// When a revocation Google did not take (unreachable, 5xx, 429) is
    /// sent again by the sync, and after how many attempts it is given up
    /// (logged).
    pub revoke_retry: RetryPolicy,
    /// A revocation still failing this long after the disconnect is given
    /// up (logged) at its next failed attempt, whatever its count.
    pub revoke_max_age: Duration,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig {
            google: None,
            secret_key: None,
            sync_every: None,
            refresh_margin: Duration::from_secs(5 * 60),
            busy_window_days: 90,
            state_ttl: Duration::from_secs(10 * 60),
            max_attempts: 8,
            // 1, 2, 4, ... minutes, then hourly: about 12 hours in all.
            revoke_retry: RetryPolicy {
                first_delay: Duration::from_secs(60),
                max_delay: Duration::from_secs(3600),
                max_attempts: 18,
            },
            revoke_max_age: Duration::from_secs(3 * 24 * 3600),
        }
    }
}

impl CalendarConfig {
    /// When a failed calendar event operation is tried again: after a
    /// minute, doubling, at most an hour apart; given up after
    /// `max_attempts`.
    pub fn event_retry(&self) -> RetryPolicy {
        RetryPolicy {
            first_delay: Duration::from_secs(60),
            max_delay: Duration::from_secs(3600),
            max_attempts: self.max_attempts,
        }
    }

    /// Checks that Google comes with a key and with usable URLs.
    pub fn validate(&self) -> Result<()> {
        let Some(google) = &self.google else {
            return Ok(());
        };
        if self.secret_key.is_none() {
            return Err(Error::Config(
                "Google Calendar needs DROPLY_SECRET_KEY (32 bytes, hex or base64) to encrypt tokens"
                    .to_owned(),
            ));
        }
        if google.client_id.trim().is_empty() {
            return Err(Error::Config("the Google client id is empty".to_owned()));
        }
        for (name, url) in [
            ("auth", &google.auth_url),
            ("token", &google.token_url),
            ("revoke", &google.revoke_url),
            ("API base", &google.api_base),
            ("redirect", &google.redirect_url),
        ] {
            let parsed = reqwest::Url::parse(url)
                .map_err(|err| Error::Config(format!("the Google {name} URL {url:?}: {err}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(Error::Config(format!(
                    "the Google {name} URL {url:?} is not http(s)"
                )));
            }
        }
        Ok(())
    }
}
