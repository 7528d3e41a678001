//! The limits the server enforces at its edge, in one struct with the
//! product's defaults: how many connections it serves at once and how long
//! one may take to send its request headers (the accept loop,
//! [`crate::serve_loop`]); how long a request may take and how many are
//! handled at once (the request budget); and how many requests one client
//! may send per minute to the sign-in, search and write routes (the rate
//! limits). `droply serve` sets every field from its flags; tests set them
//! in code. The live connections (drop-in rooms, the WebRTC signal relay)
//! have their own [`LiveLimits`]. The engine's own limits (password
//! hashing, the sign-in throttle) live in its `EngineConfig`.

use std::time::Duration;

/// A rate limit: `per_minute` requests a minute on average, and up to
/// `burst` at once after a quiet spell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed a minute, sustained (at least 1).
    pub per_minute: u32,
    /// Requests allowed in one burst (at least 1).
    pub burst: u32,
}

impl Rate {
    /// `per_minute` with bursts of `burst`; `None` (no limit) when
    /// `per_minute` is 0. A burst of 0 is taken as 1.
    pub fn new(per_minute: u32, burst: u32) -> Option<Rate> {
        (per_minute > 0).then(|| Rate {
            per_minute,
            burst: burst.max(1),
        })
    }
}

/// Every limit enforced at the server's edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once. When all are taken, a new connection
    /// replaces the one idle longest (no request being handled); when every
    /// one is handling a request, the new one is closed at once.
    pub max_connections: usize,
    /// How long a connection may take to send a request's headers, counted
    /// from when the server starts waiting for them (also between requests
    /// on a kept-alive connection); then it is closed.
    pub header_read_timeout: Duration,
    /// How long a request may take, body included, before it is answered
    /// `503 request_timeout`.
    pub request_timeout: Duration,
    /// How long a content file upload may take, body included (instead of
    /// `request_timeout`: 100 MiB needs minutes on a slow link).
    pub upload_timeout: Duration,
    /// Requests handled at once; more are answered `503 overloaded` with
    /// `Retry-After` (health, readiness and metrics are never refused).
    pub max_in_flight: usize,
    /// Sign-up and sign-in requests per client address.
    pub auth_rate: Option<Rate>,
    /// Search requests (search, matches, similar experts, recommendations)
    /// per client address.
    pub search_rate: Option<Rate>,
    /// Other writes (POST, PUT, PATCH, DELETE) per client address.
    pub write_rate: Option<Rate>,
    /// Other writes per signed-in account, wherever they come from.
    pub account_write_rate: Option<Rate>,
    /// Drop-in joins per client address (join codes are short: this is
    /// what makes guessing one hopeless).
    pub join_rate: Option<Rate>,
    /// The limits of live connections.
    pub live: LiveLimits,
    /// Reverse proxies whose `X-Forwarded-For` names the client (none: the
    /// peer address is the client, and forwarded headers are ignored).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Limits {
    /// The default sign-up and sign-in rate per client address.
    pub const DEFAULT_AUTH_RATE: Rate = Rate {
        per_minute: 10,
        burst: 20,
    };
    /// The default search rate per client address.
    pub const DEFAULT_SEARCH_RATE: Rate = Rate {
        per_minute: 600,
        burst: 100,
    };
    /// The default rate of other writes per client address.
    pub const DEFAULT_WRITE_RATE: Rate = Rate {
        per_minute: 120,
        burst: 60,
    };
    /// The default rate of other writes per signed-in account.
    pub const DEFAULT_ACCOUNT_WRITE_RATE: Rate = Rate {
        per_minute: 60,
        burst: 30,
    };
    /// The default drop-in join rate per client address.
    pub const DEFAULT_JOIN_RATE: Rate = Rate {
        per_minute: 20,
        burst: 10,
    };

    /// The limits without any rate limit (the connection and request limits
    /// stay at their defaults): for tests that send many requests from one
    /// address, and for load measurements.
    pub fn without_rate_limits() -> Limits {
        Limits {
            auth_rate: None,
            search_rate: None,
            write_rate: None,
            account_write_rate: None,
            join_rate: None,
            ..Limits::default()
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 2048,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(15 * 60),
            max_in_flight: 512,
            auth_rate: Some(Self::DEFAULT_AUTH_RATE),
            search_rate: Some(Self::DEFAULT_SEARCH_RATE),
            write_rate: Some(Self::DEFAULT_WRITE_RATE),
            account_write_rate: Some(Self::DEFAULT_ACCOUNT_WRITE_RATE),
            join_rate: Some(Self::DEFAULT_JOIN_RATE),
            live: LiveLimits::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// How long a content upload may go without sending a byte before it is
/// ended (`400 invalid_input`, nothing kept): a client trickling its body
/// would otherwise hold a worker thread for the whole upload timeout.
pub const UPLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Frames in a row a live connection may have refused, over its message
/// rate or invalid (not JSON, an unknown type, a binary frame), before it
/// is closed with 1008 (policy violation). Every data frame (text or
/// binary; not pings, pongs or closes) counts against the message rate
/// before it is read, so a flood of bad frames costs no more than good
/// ones and ends here; a frame taken (or refused for another reason, such
/// as a peer not yet connected) starts the run again.
pub const MAX_REFUSED_FRAMES_IN_A_ROW: u32 = 20;

/// The burst of a booking call's signal relay, in frames: a WebRTC client
/// trickles its ICE candidates one frame each, and a browser on a
/// multi-homed machine gathers 10 to 40 of them within a second, besides
/// its offer or answer, so the relay allows at least this many at once (or
/// `--live-message-burst`, when larger) at the same sustained rate as
/// drop-in rooms (`--live-message-rate`): a call's setup is never refused,
/// and a flood is still limited and closed.
pub const SIGNAL_RELAY_BURST: u32 = 64;

/// The limits of live WebSocket connections: drop-in rooms and the WebRTC
/// signal relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLimits {
    /// Live connections open at once, over all rooms; more are refused
    /// `503 overloaded` before the upgrade.
    pub max_connections: usize,
    /// Drop-in rooms (and signal relays) with someone connected at once.
    pub max_rooms: usize,
    /// Connections one member of a drop-in may hold open at once (a few
    /// tabs); a newer one replaces their oldest (closed with 4000), so one
    /// pass cannot take the connections every room shares.
    pub max_connections_per_member: usize,
    /// The largest message a client may send, in bytes; a larger one closes
    /// the connection (1009).
    pub max_frame_bytes: usize,
    /// Messages one participant may send, a minute and in one burst.
    pub message_rate: Rate,
    /// How often the server pings an idle connection.
    pub ping_every: Duration,
    /// A connection that sends nothing (not even a pong) this long is closed.
    pub idle_timeout: Duration,
    /// Messages waiting for one slow client; a client further behind is
    /// disconnected (it reconnects with the last id it saw), never stalling
    /// the room.
    pub send_buffer: usize,
    /// How long one send to a client may take before it is disconnected.
    pub send_timeout: Duration,
    /// How often a drop-in connection renews its member's seat (well within
    /// the seat's grace) and catches up from the store, which closes it
    /// once the session has ended by itself.
    pub seat_renew_every: Duration,
}

impl Default for LiveLimits {
    fn default() -> Self {
        LiveLimits {
            max_connections: 10_000,
            max_rooms: 1_000,
            max_connections_per_member: 3,
            max_frame_bytes: 16 * 1024,
            message_rate: Rate {
                per_minute: 60,
                burst: 20,
            },
            ping_every: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            send_buffer: 1024,
            send_timeout: Duration::from_secs(10),
            seat_renew_every: droply_engine::dropins::SEAT_RENEW_EVERY,
        }
    }
}
