//! The video flags of `droply serve`: Daily.co's API key, API base and
//! webhook secret (no key: Daily is off and every meeting uses the WebRTC
//! fallback), how often the room job runs, and when a meeting opens before
//! its start. Secrets are read into secret values (`--help`, debug output
//! and parse errors never show them).

use std::time::Duration;

use clap::Args;
use droply_engine::video::{DAILY_API_BASE, DailyConfig, VideoConfig};
use secrecy::SecretString;

use super::limits::{parse_duration, parse_interval};
use super::secret_values::{ice_servers, secret};
use super::urls::{parse_service_url, url_flag};
use crate::{Error, Result};

/// The video flags.
#[derive(Debug, Clone, Args)]
pub struct VideoArgs {
    /// Daily.co API key; without it meetings use the WebRTC fallback.
    #[arg(long, env = "DROPLY_DAILY_API_KEY", hide_env_values = true, value_parser = secret())]
    pub daily_api_key: Option<SecretString>,
    /// Daily's API base URL: https, or plain http to a loopback host only
    /// (tests point it at a fake there).
    #[arg(long, env = "DROPLY_DAILY_API_BASE", default_value = DAILY_API_BASE, value_parser = url_flag(parse_service_url))]
    pub daily_api_base: String,
    /// Daily's webhook signing secret (base64, as Daily shows it); without
    /// it `POST /v1/webhooks/daily` answers `video_not_configured`.
    #[arg(long, env = "DROPLY_DAILY_WEBHOOK_SECRET", hide_env_values = true, value_parser = secret())]
    pub daily_webhook_secret: Option<SecretString>,
    /// How often the room job makes the rooms that are due.
    #[arg(long, env = "DROPLY_VIDEO_SWEEP_EVERY", default_value = "15s", value_parser = parse_interval)]
    pub video_sweep_every: Duration,
    /// How long before its start a meeting may be joined.
    #[arg(long, env = "DROPLY_MEETING_OPENS_BEFORE", default_value = "10m", value_parser = parse_duration)]
    pub meeting_opens_before: Duration,
    /// The ICE servers of the WebRTC fallback's call page, as the JSON
    /// array `RTCPeerConnection` takes (`[{"urls": "stun:stun.example.org"}]`);
    /// a TURN server's credentials reach the parties' browsers, so give it
    /// short-lived ones. Empty: host candidates only (one network).
    #[arg(
        long,
        env = "DROPLY_WEBRTC_ICE_SERVERS",
        hide_env_values = true,
        default_value = "[]",
        value_parser = ice_servers()
    )]
    pub webrtc_ice_servers: String,
}

impl VideoArgs {
    /// The engine's video configuration; a webhook secret without a key or
    /// that is not base64 is a configuration error (the API base was
    /// checked when the flags were read).
    pub fn config(&self) -> Result<VideoConfig> {
        let daily = match (&self.daily_api_key, &self.daily_webhook_secret) {
            (Some(key), secret) => Some(DailyConfig {
                api_base: self.daily_api_base.trim().to_owned(),
                webhook_secret: secret.clone(),
                ..DailyConfig::new(key.clone())
            }),
            (None, None) => None,
            (None, Some(_)) => {
                return Err(Error::Config(
                    "DROPLY_DAILY_WEBHOOK_SECRET is set without DROPLY_DAILY_API_KEY".to_owned(),
                ));
            }
        };
        if let Some(daily) = &daily {
            daily
                .check()
                .map_err(|err| Error::Config(err.to_string()))?;
        }
        Ok(VideoConfig {
            daily,
            sweep_every: Some(self.video_sweep_every),
            open_before: self.meeting_opens_before,
            ..VideoConfig::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        video: VideoArgs,
    }

    fn flags(args: &[&str]) -> VideoArgs {
        let mut argv = vec!["droply"];
        argv.extend_from_slice(args);
        Flags::try_parse_from(argv).expect("flags").video
    }

    #[test]
    fn without_a_key_daily_is_off_and_the_defaults_hold() {
        let config = flags(&[]).config().expect("config");
        assert!(config.daily.is_none());
        assert_eq!(config.sweep_every, Some(Duration::from_secs(15)));
        assert_eq!(config.open_before, Duration::from_secs(600));
    }

    #[test]
    fn a_key_turns_daily_on_and_no_secret_shows_in_debug() {
        let args = flags(&[
            "--daily-api-key",
            "daily-key-123",
            "--daily-webhook-secret",
            "c2VjcmV0LXh5eg==",
            "--daily-api-base",
            "http://127.0.0.1:9/v1",
            "--meeting-opens-before",
            "5m",
        ]);
        let config = args.config().expect("config");
        let daily = config.daily.as_ref().expect("daily on");
        assert_eq!(daily.api_base, "http://127.0.0.1:9/v1");
        assert!(daily.webhook_secret.is_some());
        assert_eq!(config.open_before, Duration::from_secs(300));
        for debug in [format!("{args:?}"), format!("{config:?}")] {
            assert!(!debug.contains("daily-key-123"), "{debug}");
            assert!(!debug.contains("c2VjcmV0LXh5eg=="), "{debug}");
        }
    }

    #[test]
    fn a_secret_without_a_key_or_a_bad_base_is_refused() {
        assert!(
            flags(&["--daily-webhook-secret", "c2VjcmV0"])
                .config()
                .is_err()
        );
        for base in ["ftp://x", "http://api.daily.example/v1"] {
            let argv = ["droply", "--daily-api-key", "k", "--daily-api-base", base];
            let err = Flags::try_parse_from(argv).expect_err(base).to_string();
            assert!(err.contains("--daily-api-base"), "{err}");
        }
        assert!(
            flags(&[
                "--daily-api-key",
                "k",
                "--daily-webhook-secret",
                "not base64!"
            ])
            .config()
            .is_err()
        );
    }
}
