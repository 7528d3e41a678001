//! How video is set up: Daily.co's API key, API base and webhook secret
//! (no key: Daily is off and every meeting uses the WebRTC fallback), how
//! often the room job runs, when a meeting opens before its start, how long
//! a room outlives its session, and the retry schedule of room creation.
//! Secrets are [`SecretString`]s: their `Debug` prints nothing, and they are
//! exposed only to build a request or key an HMAC.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};

use super::backoff::RetryPolicy;
use crate::{Error, Result};

/// Daily's REST API, where requests go unless configured otherwise.
pub const DAILY_API_BASE: &str = "https://api.daily.co/v1";

/// The Daily.co account rooms and meeting tokens are made with.
#[derive(Debug, Clone)]
pub struct DailyConfig {
    /// The API key (`DROPLY_DAILY_API_KEY`), sent as a bearer token.
    pub api_key: SecretString,
    /// The API's base URL without a trailing slash (`DROPLY_DAILY_API_BASE`;
    /// tests point it at a fake on loopback).
    pub api_base: String,
    /// The webhook signing secret, base64 as Daily shows it
    /// (`DROPLY_DAILY_WEBHOOK_SECRET`); without it `POST /v1/webhooks/daily`
    /// answers `video_not_configured`.
    pub webhook_secret: Option<SecretString>,
    /// How long one request to Daily may take.
    pub timeout: Duration,
}

impl DailyConfig {
    /// Daily with this key and the defaults for the rest.
    pub fn new(api_key: SecretString) -> Self {
        DailyConfig {
            api_key,
            api_base: DAILY_API_BASE.to_owned(),
            webhook_secret: None,
            timeout: Duration::from_secs(15),
        }
    }

    /// Checks what can be checked before the first call: an http(s) API
    /// base and a base64 webhook secret; [`Error::Config`] otherwise.
    pub fn check(&self) -> Result<()> {
        let base = self.api_base.trim();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(Error::Config(
                "the Daily API base must be an http(s) URL".to_owned(),
            ));
        }
        if let Some(secret) = &self.webhook_secret
            && STANDARD.decode(secret.expose_secret().trim()).is_err()
        {
            return Err(Error::Config(
                "the Daily webhook secret must be base64, as Daily shows it".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Everything about video calls the engine needs.
#[derive(Debug, Clone)]
pub struct VideoConfig {
    /// Daily, or `None`: every meeting answers the WebRTC fallback.
    pub daily: Option<DailyConfig>,
    /// How often the room job runs (`None`: never in the background; tests
    /// call [`crate::Engine::run_video_sweep`]).
    pub sweep_every: Option<Duration>,
    /// How long before its start a meeting may be joined.
    pub open_before: Duration,
    /// How long after its end a room (and a meeting token) stays valid.
    pub room_grace: Duration,
    /// When a failed room creation is tried again, and when it gives up.
    pub retry: RetryPolicy,
}

impl Default for VideoConfig {
    fn default() -> Self {
        VideoConfig {
            daily: None,
            sweep_every: None,
            open_before: Duration::from_secs(10 * 60),
            room_grace: Duration::from_secs(30 * 60),
            retry: RetryPolicy::default(),
        }
    }
}
