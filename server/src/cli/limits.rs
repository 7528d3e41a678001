//! The limit flags of `droply serve`: the server's edge [`Limits`]
//! (connections, header and request timeouts, requests in flight, rate
//! limits) and the engine's sign-in limits (password-hashing permits, the
//! sign-in throttle). Each flag has a `DROPLY_...` variable; durations are
//! written like `500ms`, `10s`, `15m` or `1h`; a rate of 0 turns that rate
//! limit off (except `--live-message-rate`, which is at least 1). The
//! combinations a server cannot run under are refused by
//! [`LimitArgs::validate`]. Every interval flag (`--*-every`: how often a job or a ping
//! runs) is read by [`parse_interval`], the one rule that keeps it at
//! [`MIN_INTERVAL`] or more.

use std::time::Duration;

use clap::Args;
use droply_engine::EngineConfig;
use droply_engine::accounts::{HashingLimits, LoginThrottleConfig};

use crate::Error;
use crate::limits::{Limits, LiveLimits, Rate};

/// The limit flags.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Connections served at once (at least 1); when all are taken, the connection idle
    /// longest is closed to make room, or the new one when none is idle.
    #[arg(long, env = "DROPLY_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// How long a connection may take to send a request's headers.
    #[arg(long, env = "DROPLY_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// How long a request may take (body included) before `503 request_timeout`.
    #[arg(long, env = "DROPLY_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// How long a content upload may take (instead of the request timeout).
    #[arg(long, env = "DROPLY_UPLOAD_TIMEOUT", default_value = "15m", value_parser = parse_duration)]
    pub upload_timeout: Duration,
    /// Requests handled at once (at least 1); more are answered `503 overloaded`.
    #[arg(long, env = "DROPLY_MAX_IN_FLIGHT", default_value_t = Limits::default().max_in_flight)]
    pub max_in_flight: usize,
    /// Sign-ups and sign-ins a minute per client address (0: no limit).
    #[arg(long, env = "DROPLY_AUTH_RATE", default_value_t = Limits::DEFAULT_AUTH_RATE.per_minute)]
    pub auth_rate: u32,
    /// Sign-ups and sign-ins in one burst per client address.
    #[arg(long, env = "DROPLY_AUTH_BURST", default_value_t = Limits::DEFAULT_AUTH_RATE.burst)]
    pub auth_burst: u32,
    /// Searches (search, matches, similar, recommendations) a minute per
    /// client address (0: no limit).
    #[arg(long, env = "DROPLY_SEARCH_RATE", default_value_t = Limits::DEFAULT_SEARCH_RATE.per_minute)]
    pub search_rate: u32,
    /// Searches in one burst per client address.
    #[arg(long, env = "DROPLY_SEARCH_BURST", default_value_t = Limits::DEFAULT_SEARCH_RATE.burst)]
    pub search_burst: u32,
    /// Other writes (POST, PUT, PATCH, DELETE) a minute per client address (0: no limit).
    #[arg(long, env = "DROPLY_WRITE_RATE", default_value_t = Limits::DEFAULT_WRITE_RATE.per_minute)]
    pub write_rate: u32,
    /// Other writes in one burst per client address.
    #[arg(long, env = "DROPLY_WRITE_BURST", default_value_t = Limits::DEFAULT_WRITE_RATE.burst)]
    pub write_burst: u32,
    /// Other writes a minute per signed-in account (0: no limit).
    #[arg(long, env = "DROPLY_ACCOUNT_WRITE_RATE", default_value_t = Limits::DEFAULT_ACCOUNT_WRITE_RATE.per_minute)]
    pub account_write_rate: u32,
    /// Other writes in one burst per signed-in account.
    #[arg(long, env = "DROPLY_ACCOUNT_WRITE_BURST", default_value_t = Limits::DEFAULT_ACCOUNT_WRITE_RATE.burst)]
    pub account_write_burst: u32,
    /// Drop-in joins a minute per client address (0: no limit).
    #[arg(long, env = "DROPLY_JOIN_RATE", default_value_t = Limits::DEFAULT_JOIN_RATE.per_minute)]
    pub join_rate: u32,
    /// Drop-in joins in one burst per client address.
    #[arg(long, env = "DROPLY_JOIN_BURST", default_value_t = Limits::DEFAULT_JOIN_RATE.burst)]
    pub join_burst: u32,
    /// Live connections (drop-in rooms, signal relays) open at once.
    #[arg(long, env = "DROPLY_LIVE_MAX_CONNECTIONS", default_value_t = LiveLimits::default().max_connections)]
    pub live_max_connections: usize,
    /// Drop-in rooms and signal relays with someone connected, at once.
    #[arg(long, env = "DROPLY_LIVE_MAX_ROOMS", default_value_t = LiveLimits::default().max_rooms)]
    pub live_max_rooms: usize,
    /// The largest live message a client may send, in bytes.
    #[arg(long, env = "DROPLY_LIVE_MAX_FRAME_BYTES", default_value_t = LiveLimits::default().max_frame_bytes)]
    pub live_max_frame_bytes: usize,
    /// Live messages a minute per participant (at least 1: always limited).
    #[arg(long, env = "DROPLY_LIVE_MESSAGE_RATE", default_value_t = LiveLimits::default().message_rate.per_minute)]
    pub live_message_rate: u32,
    /// Live messages in one burst per participant.
    #[arg(long, env = "DROPLY_LIVE_MESSAGE_BURST", default_value_t = LiveLimits::default().message_rate.burst)]
    pub live_message_burst: u32,
    /// How often an idle live connection is pinged.
    #[arg(long, env = "DROPLY_LIVE_PING_EVERY", default_value = "20s", value_parser = parse_interval)]
    pub live_ping_every: Duration,
    /// A live connection silent this long (not even a pong) is closed;
    /// longer than `--live-ping-every`.
    #[arg(long, env = "DROPLY_LIVE_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub live_idle_timeout: Duration,
    /// Messages buffered for one slow live client before it is disconnected.
    #[arg(long, env = "DROPLY_LIVE_SEND_BUFFER", default_value_t = LiveLimits::default().send_buffer)]
    pub live_send_buffer: usize,
    /// Password hashes (sign-up, sign-in) running at once [default: twice the cores].
    #[arg(long, env = "DROPLY_HASH_PERMITS")]
    pub hash_permits: Option<usize>,
    /// How long a sign-up or sign-in waits for a hashing permit before `503 overloaded`.
    #[arg(long, env = "DROPLY_HASH_WAIT", default_value = "1s", value_parser = parse_duration)]
    pub hash_wait: Duration,
    /// Failed sign-ins allowed per (client address, email) within the login window.
    #[arg(long, env = "DROPLY_LOGIN_FAILURES", default_value_t = LoginThrottleConfig::default().max_failures)]
    pub login_failures: usize,
    /// How long a failed sign-in counts.
    #[arg(long, env = "DROPLY_LOGIN_WINDOW", default_value = "15m", value_parser = parse_duration)]
    pub login_window: Duration,
    /// (client address, email) pairs the sign-in throttle remembers at most.
    #[arg(long, env = "DROPLY_LOGIN_TRACKED", default_value_t = LoginThrottleConfig::default().max_tracked)]
    pub login_tracked: usize,
    /// Reverse proxies (IP addresses, comma-separated) whose
    /// `X-Forwarded-For` names the client; without any, forwarded headers
    /// are ignored and the peer address is the client.
    #[arg(long, env = "DROPLY_TRUST_FORWARDED_FOR", value_delimiter = ',')]
    pub trust_forwarded_for: Vec<std::net::IpAddr>,
}

impl LimitArgs {
    /// The server's edge limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections,
            header_read_timeout: self.header_read_timeout,
            request_timeout: self.request_timeout,
            upload_timeout: self.upload_timeout,
            max_in_flight: self.max_in_flight,
            auth_rate: Rate::new(self.auth_rate, self.auth_burst),
            search_rate: Rate::new(self.search_rate, self.search_burst),
            write_rate: Rate::new(self.write_rate, self.write_burst),
            account_write_rate: Rate::new(self.account_write_rate, self.account_write_burst),
            join_rate: Rate::new(self.join_rate, self.join_burst),
            live: LiveLimits {
                max_connections: self.live_max_connections,
                max_rooms: self.live_max_rooms,
                max_frame_bytes: self.live_max_frame_bytes,
                message_rate: Rate::new(self.live_message_rate, self.live_message_burst)
                    .unwrap_or(LiveLimits::default().message_rate),
                ping_every: self.live_ping_every,
                idle_timeout: self.live_idle_timeout,
                send_buffer: self.live_send_buffer,
                ..LiveLimits::default()
            },
            trusted_proxies: self.trust_forwarded_for.clone(),
        }
    }

    /// Refuses, naming the flag, the limits a server cannot run under: no
    /// connection, request, send-buffer or hashing slot (`--max-connections`,
    /// `--max-in-flight`, `--live-send-buffer`, `--hash-permits` 0), a burst
    /// of 0 under a rate that is on (`--*-burst`), a zero timeout (`--header-read-timeout`, `--request-timeout`,
    /// `--upload-timeout`), live messages that cannot be sent
    /// (`--live-max-frame-bytes` 0; `--live-message-rate` 0: live messages
    /// are always rate-limited, so 0 does not mean "no limit" there), and an
    /// `--live-idle-timeout` not longer than `--live-ping-every` (a quiet
    /// connection would be closed at its first tick, before it was pinged).
    /// `droply serve` calls it before it binds its address.
    pub fn validate(&self) -> Result<(), Error> {
        let refuse = |rule: String| -> Result<(), Error> { Err(Error::Config(rule)) };
        for (flag, count) in [
            ("--max-connections", self.max_connections),
            ("--max-in-flight", self.max_in_flight),
            ("--live-max-frame-bytes", self.live_max_frame_bytes),
            ("--live-send-buffer", self.live_send_buffer),
            ("--hash-permits", self.hash_permits.unwrap_or(1)),
        ] {
            if count == 0 {
                return refuse(format!("{flag} must be at least 1"));
            }
        }
        for (flag, rate, burst) in [
            ("--auth-burst", self.auth_rate, self.auth_burst),
            ("--search-burst", self.search_rate, self.search_burst),
            ("--write-burst", self.write_rate, self.write_burst),
            (
                "--account-write-burst",
                self.account_write_rate,
                self.account_write_burst,
            ),
            ("--join-burst", self.join_rate, self.join_burst),
            (
                "--live-message-burst",
                self.live_message_rate,
                self.live_message_burst,
            ),
        ] {
            if rate > 0 && burst == 0 {
                return refuse(format!(
                    "{flag} must be at least 1 while its rate is on (0 would refuse every request)"
                ));
            }
        }
        for (flag, timeout) in [
            ("--header-read-timeout", self.header_read_timeout),
            ("--request-timeout", self.request_timeout),
            ("--upload-timeout", self.upload_timeout),
        ] {
            if timeout.is_zero() {
                return refuse(format!("{flag} must be longer than 0"));
            }
        }
        if self.live_message_rate == 0 {
            return refuse(
                "--live-message-rate must be at least 1 a minute: live messages are always \
                 rate-limited (0 turns off the other rate limits, not this one)"
                    .to_owned(),
            );
        }
        if self.live_idle_timeout <= self.live_ping_every {
            return refuse(format!(
                "--live-idle-timeout ({:?}) must be longer than --live-ping-every ({:?}): \
                 a quiet live connection would be closed before it was pinged",
                self.live_idle_timeout, self.live_ping_every
            ));
        }
        Ok(())
    }

    /// `config` with the engine's sign-in limits set from the flags.
    pub fn apply_to(&self, config: EngineConfig) -> EngineConfig {
        EngineConfig {
            password_hashing: HashingLimits {
                permits: self
                    .hash_permits
                    .unwrap_or_else(HashingLimits::default_permits),
                wait: self.hash_wait,
            },
            login_throttle: LoginThrottleConfig {
                max_failures: self.login_failures,
                window: self.login_window,
                max_tracked: self.login_tracked,
            },
            ..config
        }
    }
}

/// A duration written as a number and a unit (`ms`, `s`, `m`, `h`), or a
/// bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 500ms, 10s, 15m or 1h"))?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        other => {
            return Err(format!(
                "unknown duration unit {other:?} (use ms, s, m or h)"
            ));
        }
    };
    Ok(Duration::from_millis(number.saturating_mul(unit_ms)))
}

/// The shortest interval an `--*-every` flag takes. A background job (the
/// payment, video and calendar sweeps, which call Stripe, Daily and Google)
/// or the live pings run at most once a second: at 0 a job ran again
/// without pausing.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// How often something runs: a [`parse_duration`] of at least
/// [`MIN_INTERVAL`].
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let every = parse_duration(text)?;
    if every < MIN_INTERVAL {
        return Err(format!(
            "{:?} is too short: an interval is at least 1s (0 would run the job without a pause)",
            text.trim()
        ));
    }
    Ok(every)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        limits: LimitArgs,
    }

    #[test]
    fn the_flag_defaults_are_the_default_limits() {
        let parsed = Command::try_parse_from(["droply"]).expect("parse");
        assert_eq!(parsed.limits.limits(), Limits::default());
        parsed.limits.validate().expect("the defaults are valid");
        let engine = parsed.limits.apply_to(EngineConfig::new("unused"));
        let defaults = EngineConfig::new("unused");
        assert_eq!(engine.login_throttle, defaults.login_throttle);
        assert_eq!(engine.password_hashing, defaults.password_hashing);
    }

    /// The limit flags `flags`, parsed and checked.
    fn validated(flags: &[&str]) -> Result<(), String> {
        let mut argv = vec!["droply"];
        argv.extend_from_slice(flags);
        let parsed = Command::try_parse_from(argv).expect("parse");
        parsed.limits.validate().map_err(|err| err.to_string())
    }

    /// Regression: `--live-idle-timeout 20s` with the default 20s ping (or
    /// any idle timeout not longer than the ping interval) was taken, and
    /// every quiet WebSocket was closed at its first tick, before its ping.
    #[test]
    fn an_idle_timeout_not_longer_than_the_ping_interval_is_refused_at_start() {
        let refused: [&[&str]; 4] = [
            &["--live-idle-timeout", "20s"],
            &["--live-idle-timeout", "5s"],
            &["--live-ping-every", "2m"],
            &["--live-idle-timeout", "0"],
        ];
        for flags in refused {
            let err = validated(flags).expect_err("refused");
            assert!(
                err.contains("--live-idle-timeout") && err.contains("--live-ping-every"),
                "{err}"
            );
        }
        validated(&["--live-ping-every", "5s", "--live-idle-timeout", "6s"]).expect("longer");
    }

    /// Regression: `--max-connections 0`, `--max-in-flight 0`,
    /// `--live-send-buffer 0` and `--hash-permits 0` were raised to 1
    /// without a word, and zero timeouts or a zero frame size were taken
    /// (every request timed out, every live message was too large).
    #[test]
    fn zero_slots_timeouts_and_frame_sizes_are_refused_at_start() {
        for flag in [
            "--max-connections",
            "--max-in-flight",
            "--live-max-frame-bytes",
            "--live-send-buffer",
            "--hash-permits",
            "--header-read-timeout",
            "--request-timeout",
            "--upload-timeout",
        ] {
            let err = validated(&[flag, "0"]).expect_err(flag);
            assert!(err.contains(flag), "{err}");
            validated(&[flag, "1"]).expect(flag);
        }
    }

    /// Regression: `--live-message-rate 0` silently became 60 a minute,
    /// while 0 turns the other rate limits off.
    #[test]
    fn a_live_message_rate_of_zero_is_refused_at_start() {
        let err = validated(&["--live-message-rate", "0"]).expect_err("refused");
        assert!(err.contains("--live-message-rate"), "{err}");
        validated(&["--live-message-rate", "1"]).expect("one a minute");
    }

    /// Regression: a burst of 0 (`--live-message-burst 0`, `--search-burst
    /// 0`, ...) was raised to 1 without a word.
    #[test]
    fn a_burst_of_zero_is_refused_while_its_rate_is_on() {
        for (rate, burst) in [
            ("--auth-rate", "--auth-burst"),
            ("--search-rate", "--search-burst"),
            ("--write-rate", "--write-burst"),
            ("--account-write-rate", "--account-write-burst"),
            ("--join-rate", "--join-burst"),
            ("--live-message-rate", "--live-message-burst"),
        ] {
            let err = validated(&[burst, "0"]).expect_err(burst);
            assert!(err.contains(burst), "{err}");
            validated(&[burst, "1"]).expect(burst);
            if rate != "--live-message-rate" {
                validated(&[rate, "0", burst, "0"]).expect("no limit, no burst");
            }
        }
    }

    #[test]
    fn a_rate_of_zero_is_no_limit() {
        let parsed = Command::try_parse_from([
            "droply",
            "--search-rate",
            "0",
            "--header-read-timeout",
            "1500ms",
        ])
        .expect("parse");
        let limits = parsed.limits.limits();
        assert_eq!(limits.search_rate, None);
        assert_eq!(limits.header_read_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn an_interval_is_at_least_a_second() {
        assert_eq!(parse_interval("1s"), Ok(MIN_INTERVAL));
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        for short in ["0", "0s", "0ms", "999ms"] {
            let err = parse_interval(short).expect_err(short);
            assert!(err.contains("at least 1s"), "{err}");
        }
    }

    /// Regression: `--payments-sweep-every 0` (and every other interval
    /// flag at 0) made its job run again and again without a pause.
    #[test]
    fn every_interval_flag_refuses_zero() {
        use crate::cli::Cli;
        for flag in [
            "--payments-sweep-every",
            "--video-sweep-every",
            "--calendar-sync-every",
            "--live-ping-every",
        ] {
            let err = Cli::try_parse_from(["droply", "serve", flag, "0"])
                .expect_err(flag)
                .to_string();
            assert!(err.contains(flag) && err.contains("at least 1s"), "{err}");
            Cli::try_parse_from(["droply", "serve", flag, "2s"]).expect(flag);
        }
    }
}
