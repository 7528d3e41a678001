//! The Google Calendar flags of `droply serve`: the OAuth client (id and
//! secret; neither: calendar sync is off and the calendar routes answer
//! `calendar_not_configured`), Google's endpoints (tests point them at a
//! fake on loopback), the key tokens are encrypted with, and how often the
//! sync runs. The client secret and the key are read into secret values
//! (`--help`, debug output and parse errors never show them); the key is
//! checked at start.

use std::time::Duration;

use clap::Args;
use droply_engine::calendar::{
    CalendarConfig, GOOGLE_API_BASE, GOOGLE_AUTH_URL, GOOGLE_REVOKE_URL, GOOGLE_TOKEN_URL,
    GoogleConfig, SecretKey,
};
use secrecy::{ExposeSecret, SecretString};

use super::limits::parse_interval;
use super::secret_values::secret;
use super::urls::{parse_service_url, url_flag};
use crate::{Error, Result};

/// The calendar flags.
#[derive(Debug, Clone, Args)]
pub struct CalendarArgs {
    /// Google OAuth client id; with the secret it turns calendar sync on.
    #[arg(long, env = "DROPLY_GOOGLE_CLIENT_ID")]
    pub google_client_id: Option<String>,
    /// Google OAuth client secret.
    #[arg(long, env = "DROPLY_GOOGLE_CLIENT_SECRET", hide_env_values = true, value_parser = secret())]
    pub google_client_secret: Option<SecretString>,
    /// Google's consent page.
    #[arg(long, env = "DROPLY_GOOGLE_AUTH_URL", default_value = GOOGLE_AUTH_URL, value_parser = url_flag(parse_service_url))]
    pub google_auth_url: String,
    /// Google's token endpoint.
    #[arg(long, env = "DROPLY_GOOGLE_TOKEN_URL", default_value = GOOGLE_TOKEN_URL, value_parser = url_flag(parse_service_url))]
    pub google_token_url: String,
    /// Google's token revocation endpoint.
    #[arg(long, env = "DROPLY_GOOGLE_REVOKE_URL", default_value = GOOGLE_REVOKE_URL, value_parser = url_flag(parse_service_url))]
    pub google_revoke_url: String,
    /// The Calendar API's base URL.
    #[arg(long, env = "DROPLY_GOOGLE_API_BASE", default_value = GOOGLE_API_BASE, value_parser = url_flag(parse_service_url))]
    pub google_api_base: String,
    /// Where Google sends the browser back after consent (the callback route).
    #[arg(
        long,
        env = "DROPLY_GOOGLE_REDIRECT_URL",
        default_value = "http://localhost:8080/v1/calendar/google/callback"
    )]
    pub google_redirect_url: String,
    /// The key tokens are encrypted with: 32 bytes as 64 hex digits or base64.
    #[arg(long, env = "DROPLY_SECRET_KEY", hide_env_values = true, value_parser = secret())]
    pub secret_key: Option<SecretString>,
    /// How often busy times are read and calendar events written.
    #[arg(long, env = "DROPLY_CALENDAR_SYNC_EVERY", default_value = "5m", value_parser = parse_interval)]
    pub calendar_sync_every: Duration,
}

impl CalendarArgs {
    /// The engine's calendar configuration; a client id without a secret
    /// (or the reverse), Google without a key, or a malformed key is a
    /// configuration error.
    pub fn config(&self) -> Result<CalendarConfig> {
        let secret_key = self
            .secret_key
            .as_ref()
            .map(|key| SecretKey::parse(key.expose_secret()))
            .transpose()?;
        let google = match (&self.google_client_id, &self.google_client_secret) {
            (Some(id), Some(secret)) => Some(GoogleConfig {
                auth_url: self.google_auth_url.clone(),
                token_url: self.google_token_url.clone(),
                revoke_url: self.google_revoke_url.clone(),
                api_base: self.google_api_base.clone(),
                redirect_url: self.google_redirect_url.clone(),
                ..GoogleConfig::new(id.clone(), secret.clone())
            }),
            (None, None) => None,
            _ => {
                return Err(Error::Config(
                    "set both DROPLY_GOOGLE_CLIENT_ID and DROPLY_GOOGLE_CLIENT_SECRET, or neither"
                        .to_owned(),
                ));
            }
        };
        let config = CalendarConfig {
            google,
            secret_key,
            sync_every: Some(self.calendar_sync_every),
            ..CalendarConfig::default()
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        calendar: CalendarArgs,
    }

    /// Regression: Google's endpoints took plain http to any host, so the
    /// client secret and people's tokens could cross the network in clear.
    #[test]
    fn google_urls_over_plain_http_to_another_host_are_refused() {
        for flag in [
            "--google-auth-url",
            "--google-token-url",
            "--google-revoke-url",
            "--google-api-base",
        ] {
            let err = Flags::try_parse_from(["droply", flag, "http://google.internal/x"])
                .expect_err(flag)
                .to_string();
            assert!(err.contains(flag), "{err}");
            Flags::try_parse_from(["droply", flag, "http://127.0.0.1:9/x"]).expect(flag);
        }
        let defaults = Flags::try_parse_from(["droply"])
            .expect("defaults")
            .calendar;
        assert_eq!(defaults.google_api_base, GOOGLE_API_BASE);
    }
}
