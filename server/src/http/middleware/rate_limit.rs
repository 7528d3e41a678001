//! Rate limits per client: each request is sorted into a [`RouteClass`] by
//! its method and matched route, and the sign-in, search and write classes
//! each have a limit per client address (GCRA, from the `governor` crate).
//! Writes by a signed-in account also count against a limit per account,
//! checked where the bearer token is recognised
//! ([`RateLimiters::check_account_write`]). A request over a limit is
//! answered `429 rate_limited` with `Retry-After`.
//!
//! The client address is the one [`super::client_ip`] resolved: the
//! connection's peer, or behind trusted proxies the forwarded address. IPv6
//! clients are limited per /64, since one host may hold a
//! whole /64. Limiters forget clients that are back to a full burst about
//! once a minute, so their memory follows the active clients: the first
//! request of each minute hands that sweep, a walk over every remembered
//! client, to the blocking pool and goes on without waiting for it.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use droply_models::UserId;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client_ip::ResolvedClient;

use crate::http::error::{ApiError, ErrorCode};
use crate::limits::{Limits, Rate};

/// How often limiters drop the clients they no longer need to remember.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    /// Signing up, signing in and changing a password, by the API or a page:
    /// they hash passwords.
    Auth,
    /// Search, matches, similar experts and recommendations: they run the matcher.
    Search,
    /// `POST /v1/dropins/join`: join codes are short, so joins are few.
    Join,
    /// Every other `POST`, `PUT`, `PATCH` and `DELETE`.
    Write,
    /// Everything else: not rate limited.
    Read,
}

impl RouteClass {
    /// The class of a request for `route` (the matched template, if any).
    pub fn of(method: &Method, route: Option<&str>) -> RouteClass {
        match (method, route) {
            (
                &Method::POST,
                Some(
                    "/v1/auth/register"
                    | "/v1/auth/login"
                    | "/v1/users/me/password"
                    | "/signup"
                    | "/signin"
                    | "/account/password",
                ),
            ) => RouteClass::Auth,
            (&Method::POST, Some("/v1/search" | "/v1/matches"))
            | (&Method::GET, Some("/"))
            | (&Method::GET, Some("/v1/experts/{id}/similar" | "/v1/recommendations")) => {
                RouteClass::Search
            }
            (&Method::POST, Some("/v1/dropins/join" | "/d/{code}/join")) => RouteClass::Join,
            // Stripe's and Daily's deliveries: verified by their signature,
            // never throttled (a refused burst could get the webhook disabled).
            (&Method::POST, Some("/v1/webhooks/stripe" | "/v1/webhooks/daily")) => RouteClass::Read,
            (&Method::POST | &Method::PUT | &Method::PATCH | &Method::DELETE, _) => {
                RouteClass::Write
            }
            _ => RouteClass::Read,
        }
    }
}

/// One keyed limiter and its rate.
#[derive(Debug)]
struct Limiter<K: Hash + Eq + Clone> {
    what: &'static str,
    limiter: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(what: &'static str, rate: Option<Rate>) -> Option<Self> {
        let rate = rate?;
        let per_minute = NonZeroU32::new(rate.per_minute)?;
        let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
        Some(Limiter {
            what,
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
        })
    }

    /// `429 rate_limited` with the wait when `key` is over the limit.
    fn check(&self, key: &K) -> Result<(), ApiError> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::new(
                ErrorCode::RateLimited,
                format!("too many {} requests; try again in {secs} s", self.what),
            )
            .with_retry_after(secs.max(1))
        })
    }

    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.limiter.len()
    }
}

/// The rate limiters of one server, from its [`Limits`].
#[derive(Debug)]
pub struct RateLimiters {
    auth: Option<Limiter<IpAddr>>,
    search: Option<Limiter<IpAddr>>,
    write: Option<Limiter<IpAddr>>,
    join: Option<Limiter<IpAddr>>,
    account_write: Option<Limiter<UserId>>,
    created: Instant,
    /// Seconds after `created` of the last sweep.
    swept_at: AtomicU64,
    /// How often the limiters are swept.
    sweep_every: Duration,
}

impl RateLimiters {
    /// The limiters `limits` asks for (none for a rate that is off).
    pub fn new(limits: &Limits) -> Self {
        RateLimiters {
            auth: Limiter::new("sign-in", limits.auth_rate),
            search: Limiter::new("search", limits.search_rate),
            write: Limiter::new("write", limits.write_rate),
            join: Limiter::new("drop-in join", limits.join_rate),
            account_write: Limiter::new("write", limits.account_write_rate),
            created: Instant::now(),
            swept_at: AtomicU64::new(0),
            sweep_every: SWEEP_EVERY,
        }
    }

    /// Counts a request of `class` from `client`; `429 rate_limited` when
    /// the client is over its limit.
    pub fn check_client(&self, class: RouteClass, client: IpAddr) -> Result<(), ApiError> {
        let limiter = match class {
            RouteClass::Auth => &self.auth,
            RouteClass::Search => &self.search,
            RouteClass::Write => &self.write,
            RouteClass::Join => &self.join,
            RouteClass::Read => &None,
        };
        match limiter {
            Some(limiter) => limiter.check(&client_key(client)),
            None => Ok(()),
        }
    }

    /// Counts the request of `parts` against the signed-in `user`'s write
    /// limit when it is a write, however the account signed in (a bearer
    /// token or the pages' session cookie); `429 rate_limited` when the
    /// account is over its limit.
    pub fn check_account_write(
        &self,
        parts: &axum::http::request::Parts,
        user: UserId,
    ) -> Result<(), ApiError> {
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        if RouteClass::of(&parts.method, route) != RouteClass::Write {
            return Ok(());
        }
        match &self.account_write {
            Some(limiter) => limiter.check(&user),
            None => Ok(()),
        }
    }

    /// Clients and accounts the limiters remember now.
    pub fn tracked(&self) -> usize {
        [&self.auth, &self.search, &self.write, &self.join]
            .into_iter()
            .flatten()
            .map(Limiter::len)
            .sum::<usize>()
            + self.account_write.as_ref().map_or(0, Limiter::len)
    }

    /// Whether a sweep is due: true for one caller about once a minute,
    /// which then owes [`RateLimiters::sweep`]. Cheap: one atomic.
    fn sweep_due(&self) -> bool {
        let now = self.created.elapsed().as_secs();
        let last = self.swept_at.load(Ordering::Relaxed);
        now >= last + self.sweep_every.as_secs()
            && self
                .swept_at
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    /// Forgets the keys back to a full burst: a walk over every key, so it
    /// runs on the blocking pool ([`sweep_in_the_background`]), never inside
    /// a request.
    fn sweep(&self) {
        for limiter in [&self.auth, &self.search, &self.write, &self.join]
            .into_iter()
            .flatten()
        {
            limiter.sweep();
        }
        if let Some(limiter) = &self.account_write {
            limiter.sweep();
        }
    }
}

/// The key a client is limited by: its IPv4 address, or its IPv6 /64 (the
/// key of the engine's sign-in lockout too).
pub use droply_engine::accounts::client_network as client_key;

/// Hands the limiters' sweep to the blocking pool when one is due, without
/// waiting for it: the request that finds it due pays one atomic, not a walk
/// over every client address.
fn sweep_in_the_background(limiters: &Arc<RateLimiters>) {
    if limiters.sweep_due() {
        let limiters = Arc::clone(limiters);
        drop(tokio::task::spawn_blocking(move || limiters.sweep()));
    }
}

/// Checks the client's limit for the request's class before handling it.
/// Added with `Router::layer`, so it sees the matched route; a request
/// without a peer address (a router called directly) is not limited.
pub async fn limit_rate(
    State(limiters): State<Arc<RateLimiters>>,
    request: Request,
    next: Next,
) -> Response {
    sweep_in_the_background(&limiters);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let class = RouteClass::of(request.method(), route);
    let client = request
        .extensions()
        .get::<ResolvedClient>()
        .map(|ResolvedClient(client)| *client);
    if let Some(client) = client
        && let Err(refused) = limiters.check_client(class, client)
    {
        return refused.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_fall_into_classes() {
        let class = |method: Method, route: &str| RouteClass::of(&method, Some(route));
        assert_eq!(class(Method::POST, "/v1/auth/login"), RouteClass::Auth);
        assert_eq!(
            class(Method::POST, "/v1/users/me/password"),
            RouteClass::Auth
        );
        assert_eq!(class(Method::POST, "/account/password"), RouteClass::Auth);
        assert_eq!(class(Method::POST, "/v1/auth/logout"), RouteClass::Write);
        assert_eq!(class(Method::POST, "/v1/search"), RouteClass::Search);
        assert_eq!(
            class(Method::GET, "/v1/recommendations"),
            RouteClass::Search
        );
        assert_eq!(
            class(Method::DELETE, "/v1/favorites/{expert_id}"),
            RouteClass::Write
        );
        assert_eq!(
            class(Method::GET, "/v1/experts/{id}/slots"),
            RouteClass::Read
        );
        assert_eq!(RouteClass::of(&Method::POST, None), RouteClass::Write);
        for webhook in ["/v1/webhooks/stripe", "/v1/webhooks/daily"] {
            assert_eq!(class(Method::POST, webhook), RouteClass::Read, "{webhook}");
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(
            client_key(mapped),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn a_client_over_its_burst_is_told_when_to_come_back() {
        let limiters = RateLimiters::new(&Limits {
            auth_rate: Rate::new(6, 2),
            ..Limits::default()
        });
        let client: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!(limiters.check_client(RouteClass::Auth, client).is_ok());
        assert!(limiters.check_client(RouteClass::Auth, client).is_ok());
        let refused = limiters
            .check_client(RouteClass::Auth, client)
            .expect_err("over the burst");
        assert_eq!(refused.code(), ErrorCode::RateLimited);
        assert_eq!(refused.retry_after_secs(), Some(10));
        let elsewhere: IpAddr = "192.0.2.2".parse().expect("ip");
        assert!(limiters.check_client(RouteClass::Auth, elsewhere).is_ok());
        assert!(limiters.check_client(RouteClass::Read, client).is_ok());
    }

    /// The minute's sweep, a walk over every client address, ran inside
    /// whichever request came first, on an async thread.
    #[test]
    fn checking_a_client_never_sweeps_the_limiters() {
        // One request a millisecond: a client is back to a full burst at once.
        let limits = Limits {
            write_rate: Rate::new(60_000, 1),
            ..Limits::default()
        };
        assert!(
            !RateLimiters::new(&limits).sweep_due(),
            "no sweep before the first minute"
        );
        let limiters = RateLimiters {
            sweep_every: Duration::ZERO,
            ..RateLimiters::new(&limits)
        };
        let first: IpAddr = "192.0.2.1".parse().expect("ip");
        let second: IpAddr = "192.0.2.2".parse().expect("ip");
        assert!(limiters.check_client(RouteClass::Write, first).is_ok());
        std::thread::sleep(Duration::from_millis(20));
        assert!(limiters.check_client(RouteClass::Write, second).is_ok());
        assert_eq!(limiters.tracked(), 2, "the request swept");
        std::thread::sleep(Duration::from_millis(20));
        assert!(limiters.sweep_due());
        limiters.sweep();
        assert_eq!(limiters.tracked(), 0, "the sweep forgets idle clients");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_due_sweep_runs_on_the_blocking_pool() {
        let limits = Limits {
            write_rate: Rate::new(60_000, 1),
            ..Limits::default()
        };
        let limiters = Arc::new(RateLimiters {
            sweep_every: Duration::ZERO,
            ..RateLimiters::new(&limits)
        });
        let client: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!(limiters.check_client(RouteClass::Write, client).is_ok());
        tokio::time::sleep(Duration::from_millis(20)).await;
        sweep_in_the_background(&limiters);
        let started = Instant::now();
        while limiters.tracked() > 0 {
            assert!(started.elapsed() < Duration::from_secs(5), "never swept");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
