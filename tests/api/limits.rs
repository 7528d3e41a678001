//! The limits at the edge, each proven with a small configured value: the
//! header read timeout closes half-open and quiet connections, the
//! connection cap makes room by closing idle connections and refuses new
//! ones when every connection is busy, the in-flight limit answers
//! `503 overloaded`, the request timeout `503 request_timeout`, the rate
//! limits `429 rate_limited` per client address and per account, password
//! hashing is bounded, and the sign-in throttle counts attempts before
//! checking them, per (client address, email), forgetting old ones.
//! Requests "from elsewhere" come from 127.0.0.2.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

use droply_engine::EngineConfig;
use droply_engine::accounts::{HashingLimits, LoginThrottleConfig};
use droply_server::limits::{Limits, Rate};

use crate::app::{TestApp, error_code, parse_response, spawn_app_limited, test_limits};

const ELSEWHERE: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));

fn login_body(email: &str, password: &str) -> String {
    format!(r#"{{"email":"{email}","password":"{password}"}}"#)
}

fn login_from(app: &TestApp, from: Option<IpAddr>, email: &str, password: &str) -> (u16, String) {
    let response = app.send_from(
        from,
        "POST",
        "/v1/auth/login",
        Some(&login_body(email, password)),
        None,
        &[],
    );
    let code = if response.status == 200 {
        String::new()
    } else {
        error_code(&response)
    };
    (response.status, code)
}

/// Whether the server closes `stream` within `within` (end of stream or a
/// reset), reading and ignoring whatever it sends first.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).expect("read timeout");
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// A sign-in whose body never fully arrives: the request is being handled
/// (its handler waits for the body) until the connection goes.
fn start_slow_request(app: &TestApp) -> TcpStream {
    let mut stream = app.connect(None);
    stream
        .write_all(
            b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
        )
        .expect("send");
    stream
}

/// Sends `GET /health` on the kept-alive `stream` and waits for the start of
/// its answer: proof that the server has accepted the connection, and the
/// moment its request ended (its slot's last activity) is past.
fn answer_health(stream: &mut TcpStream) {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let mut first = [0u8; 12];
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    stream.read_exact(&mut first).expect("answer");
    assert_eq!(&first, b"HTTP/1.1 200");
}

/// The gauge `name` as `/metrics` reports it now (0 when absent).
fn gauge(app: &TestApp, name: &str) -> f64 {
    app.get("/metrics")
        .raw
        .lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0)
}

/// Waits, with a deadline generous for a loaded machine, until `/metrics`
/// (always answered) counts at least `want` requests in flight.
fn wait_for_in_flight(app: &TestApp, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = gauge(app, "droply_requests_in_flight");
        if now >= want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{now} requests in flight, not {want}, after 15 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_answer(stream: &mut TcpStream) -> crate::app::Response {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    parse_response(&raw)
}

#[test]
fn a_half_open_connection_is_closed_within_the_header_timeout() {
    let app = spawn_app_limited(
        Limits {
            header_read_timeout: Duration::from_secs(1),
            ..test_limits()
        },
        |config| config,
    );
    let started = Instant::now();
    let mut half_open = app.connect(None);
    half_open
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .expect("send");
    let mut silent = app.connect(None);
    assert!(closed_within(&mut half_open, Duration::from_secs(4)));
    assert!(closed_within(&mut silent, Duration::from_secs(4)));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );

    // A kept-alive connection that goes quiet after a request is closed too.
    let mut kept = app.connect(None);
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let mut first = [0u8; 12];
    kept.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    kept.read_exact(&mut first).expect("answer");
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(closed_within(&mut kept, Duration::from_secs(4)));
}

#[test]
fn the_connection_cap_makes_room_by_closing_the_idlest_connection() {
    let app = spawn_app_limited(
        Limits {
            max_connections: 2,
            ..test_limits()
        },
        |config| config,
    );
    // Each connection answers a request before the next opens, so the server
    // has accepted it and the younger one was active strictly later.
    let mut oldest = app.connect(None);
    answer_health(&mut oldest);
    let mut younger = app.connect(None);
    answer_health(&mut younger);
    // Both slots hold idle connections: a new one is served in place of the oldest.
    let health = app.get("/health");
    assert_eq!(health.status, 200, "{}", health.raw);
    assert!(closed_within(&mut oldest, Duration::from_secs(2)));
}

#[test]
fn the_connection_cap_refuses_connections_when_every_one_is_busy() {
    let app = spawn_app_limited(
        Limits {
            max_connections: 2,
            ..test_limits()
        },
        |config| config,
    );
    // The first slow request is being handled once `/metrics` (on the other
    // slot, closed again after) counts it in flight.
    let first = start_slow_request(&app);
    wait_for_in_flight(&app, 1.0);
    // The second cannot be watched that way: with both slots taken, any probe
    // is the third connection. While its headers are still being read it is
    // idle, so the third connection takes its slot and is answered; then it
    // is opened again (a fresh slow request), until the deadline.
    let deadline = Instant::now() + Duration::from_secs(15);
    let (_second, answer, took) = loop {
        let second = start_slow_request(&app);
        let started = Instant::now();
        let mut refused = app.connect(None);
        let _ = refused.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut answer = Vec::new();
        refused
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        let _ = refused.read_to_end(&mut answer);
        let took = started.elapsed();
        if answer.is_empty() || Instant::now() >= deadline {
            break (second, answer, took);
        }
        drop(second);
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert!(took < Duration::from_secs(2), "closed at once: {took:?}");
    // Once a busy connection goes, new ones are served again.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut stream = app.connect(None);
        let _ = stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut raw = String::new();
        let _ = stream.read_to_string(&mut raw);
        if raw.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "no slot came free");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_saturated_server_answers_overloaded() {
    let app = spawn_app_limited(
        Limits {
            max_in_flight: 2,
            ..test_limits()
        },
        |config| config,
    );
    let _busy = [start_slow_request(&app), start_slow_request(&app)];
    wait_for_in_flight(&app, 2.0);
    let started = Instant::now();
    let refused = app.get("/v1/experts");
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (503, "overloaded"),
        "{}",
        refused.raw
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(started.elapsed() < Duration::from_secs(1), "not queued");
    // Probes still answer.
    assert_eq!(app.get("/health").status, 200);
    assert_eq!(app.get("/metrics").status, 200);
}

#[test]
fn a_request_over_the_request_timeout_answers_request_timeout() {
    let app = spawn_app_limited(
        Limits {
            request_timeout: Duration::from_secs(1),
            ..test_limits()
        },
        |config| config,
    );
    let started = Instant::now();
    let mut slow = start_slow_request(&app);
    let answer = read_answer(&mut slow);
    assert_eq!(
        (answer.status, error_code(&answer).as_str()),
        (503, "request_timeout"),
        "{}",
        answer.raw
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[test]
fn sign_ins_over_the_rate_limit_answer_rate_limited() {
    let app = spawn_app_limited(
        Limits {
            auth_rate: Rate::new(6, 3),
            ..test_limits()
        },
        |config| config,
    );
    for _ in 0..3 {
        let (status, _) = login_from(&app, None, "nobody@example.com", "password-x");
        assert_eq!(status, 401);
    }
    let limited = app.request(
        "POST",
        "/v1/auth/login",
        Some(&login_body("nobody@example.com", "password-x")),
    );
    assert_eq!(
        (limited.status, error_code(&limited).as_str()),
        (429, "rate_limited"),
        "{}",
        limited.raw
    );
    let retry_after: u64 = limited
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("Retry-After");
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    // Sign-ups count against the same limit; another address has its own.
    let register = app.request(
        "POST",
        "/v1/auth/register",
        Some(r#"{"username":"rita","email":"rita@example.com","password":"password-rita","full_name":"Rita"}"#),
    );
    assert_eq!(register.status, 429);
    let (status, _) = login_from(&app, ELSEWHERE, "nobody@example.com", "password-x");
    assert_eq!(status, 401);
    // Reads are not limited.
    assert_eq!(app.get("/v1/experts").status, 200);
}

#[test]
fn searches_over_the_rate_limit_answer_rate_limited() {
    let app = spawn_app_limited(
        Limits {
            search_rate: Rate::new(60, 2),
            ..test_limits()
        },
        |config| config,
    );
    // Without a search index the search routes answer 503; that still counts.
    for _ in 0..2 {
        let search = app.request("POST", "/v1/search", Some(r#"{"q":"tax"}"#));
        assert_eq!(search.status, 503, "{}", search.raw);
    }
    let limited = app.request("POST", "/v1/search", Some(r#"{"q":"tax"}"#));
    assert_eq!(
        (limited.status, error_code(&limited).as_str()),
        (429, "rate_limited")
    );
    assert!(limited.header("retry-after").is_some());
    let recommendations = app.get("/v1/recommendations?kind=trending");
    assert_eq!(recommendations.status, 429);
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let search = |app: &TestApp, forwarded: &str| {
        app.send(
            "POST",
            "/v1/search",
            Some(r#"{"q":"tax"}"#),
            None,
            &[("X-Forwarded-For", forwarded)],
        )
        .status
    };
    let limits = Limits {
        search_rate: Rate::new(60, 2),
        ..test_limits()
    };
    // Untrusted (the default): the header is ignored, everyone is 127.0.0.1.
    let open = spawn_app_limited(limits.clone(), |config| config);
    let statuses: Vec<u16> = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        .iter()
        .map(|client| search(&open, client))
        .collect();
    assert_eq!(
        statuses,
        [503, 503, 429],
        "a forged header buys no new bucket"
    );
    // Behind a trusted proxy (the test client at 127.0.0.1), the client is
    // the right-most forwarded address; what the client wrote left of it
    // does not count.
    let proxied = spawn_app_limited(
        Limits {
            trusted_proxies: vec!["127.0.0.1".parse().expect("ip")],
            ..limits
        },
        |config| config,
    );
    for _ in 0..2 {
        assert_eq!(search(&proxied, "198.51.100.9, 203.0.113.1"), 503);
    }
    assert_eq!(
        search(&proxied, "198.51.100.8, 203.0.113.1"),
        429,
        "the same client"
    );
    assert_eq!(search(&proxied, "203.0.113.2"), 503, "another client");
}

#[test]
fn writes_over_the_rate_limit_answer_rate_limited() {
    let app = spawn_app_limited(
        Limits {
            write_rate: Rate::new(60, 2),
            ..test_limits()
        },
        |config| config,
    );
    let body = r#"{"target_user_id":1,"interaction_type":"view"}"#;
    for _ in 0..2 {
        assert_eq!(
            app.request("POST", "/v1/interactions", Some(body)).status,
            401
        );
    }
    let limited = app.request("DELETE", "/v1/favorites/1", None);
    assert_eq!(
        (limited.status, error_code(&limited).as_str()),
        (429, "rate_limited")
    );
    assert!(limited.header("retry-after").is_some());
}

#[test]
fn an_account_over_its_write_limit_answers_rate_limited_from_anywhere() {
    let app = spawn_app_limited(
        Limits {
            account_write_rate: Rate::new(60, 2),
            ..test_limits()
        },
        |config| config,
    );
    let (_, token) = app.register("wes");
    let (expert, _) = app.register("xia");
    app.make_expert(expert, "UTC");
    // Two different kinds: a repeat of one kind the same day records nothing new.
    let view = format!(r#"{{"target_user_id":{expert},"interaction_type":"view"}}"#);
    for kind in ["view", "click"] {
        let body = format!(r#"{{"target_user_id":{expert},"interaction_type":"{kind}"}}"#);
        let write = app.authed("POST", "/v1/interactions", &token, Some(&body));
        assert_eq!(write.status, 201, "{}", write.raw);
    }
    let limited = app.send_from(
        ELSEWHERE,
        "POST",
        "/v1/interactions",
        Some(&view),
        Some(&token),
        &[],
    );
    assert_eq!(
        (limited.status, error_code(&limited).as_str()),
        (429, "rate_limited")
    );
    // Reads by the account, and another account's writes, go on.
    assert_eq!(app.authed("GET", "/v1/users/me", &token, None).status, 200);
    let own = app.register("yan").1;
    assert_eq!(
        app.authed("POST", "/v1/interactions", &own, Some(&view))
            .status,
        201
    );
}

#[test]
fn parallel_logins_beyond_the_hashing_permits_are_refused_quickly() {
    let app = spawn_app_limited(test_limits(), |config| EngineConfig {
        password_hashing: HashingLimits {
            permits: 1,
            wait: Duration::from_millis(20),
        },
        ..config
    });
    let started = Instant::now();
    let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..16)
            .map(|n| {
                let app = &app;
                scope.spawn(move || {
                    login_from(app, None, &format!("flood{n}@example.com"), "password-x")
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("worker"))
            .collect()
    });
    let elapsed = started.elapsed();
    let overloaded = answers
        .iter()
        .filter(|(status, code)| *status == 503 && code == "overloaded")
        .count();
    let refused = answers.iter().filter(|(status, _)| *status == 401).count();
    assert_eq!(overloaded + refused, answers.len(), "{answers:?}");
    assert!(overloaded >= 1, "{answers:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    // An overloaded attempt did not count against the throttle.
    assert!(app.engine.login_throttle_tracked() <= refused);
}

#[test]
fn concurrent_failed_logins_cannot_all_pass_the_throttle() {
    let app = spawn_app_limited(test_limits(), |config| config);
    app.register("cara");
    let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..20)
            .map(|_| {
                let app = &app;
                scope.spawn(move || login_from(app, None, "cara@example.com", "wrong-password"))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("worker"))
            .collect()
    });
    let checked = answers.iter().filter(|(status, _)| *status == 401).count();
    let throttled = answers
        .iter()
        .filter(|(status, code)| *status == 429 && code == "too_many_attempts")
        .count();
    assert_eq!(checked + throttled, 20, "{answers:?}");
    assert_eq!(
        checked,
        LoginThrottleConfig::default().max_failures,
        "{answers:?}"
    );
}

#[test]
fn a_stranger_cannot_lock_out_an_email_from_another_ip() {
    let app = spawn_app_limited(test_limits(), |config| config);
    app.register("owen");
    for _ in 0..5 {
        let (status, _) = login_from(&app, ELSEWHERE, "owen@example.com", "guess-guess");
        assert_eq!(status, 401);
    }
    assert_eq!(
        login_from(&app, ELSEWHERE, "owen@example.com", "password-owen"),
        (429, "too_many_attempts".to_owned())
    );
    assert_eq!(
        login_from(&app, None, "owen@example.com", "password-owen").0,
        200
    );
}

#[test]
fn the_login_throttle_forgets_old_entries() {
    let app = spawn_app_limited(test_limits(), |config| EngineConfig {
        login_throttle: LoginThrottleConfig {
            max_failures: 2,
            window: Duration::from_secs(1),
            max_tracked: 3,
        },
        ..config
    });
    app.register("fay");
    for _ in 0..2 {
        assert_eq!(
            login_from(&app, None, "fay@example.com", "wrong-password").0,
            401
        );
    }
    assert_eq!(
        login_from(&app, None, "fay@example.com", "wrong-password").0,
        429
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        login_from(&app, None, "fay@example.com", "wrong-password").0,
        401
    );
    // Many emails tried: the throttle remembers at most `max_tracked` pairs.
    for n in 0..10 {
        login_from(&app, None, &format!("someone{n}@example.com"), "password-x");
        assert!(app.engine.login_throttle_tracked() <= 3);
    }
}
