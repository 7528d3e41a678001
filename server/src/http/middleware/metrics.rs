//! The in-process metrics registry, rendered by `GET /metrics` in the Prometheus
//! text exposition format (0.0.4). Requests are counted by method, matched route
//! template and status, and timed per route in a histogram with fixed
//! buckets; routes are templates such as `/v1/bookings/{id}` (never raw paths,
//! so ids cannot blow up the label set), and requests no route matched are
//! `unmatched`. Gauges are registered by name: set to a value, or read from a
//! function (e.g. a cheap store statistic). The functions are called with the
//! registry unlocked, at most once a second whatever the number of scrapes (a
//! [`Snapshot`]; `/metrics` is answered to anyone), so a function's gauge may
//! be up to a second old.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::http::snapshot::{SNAPSHOT_EVERY, Snapshot};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the request-duration histogram's buckets.
pub const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of requests no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

type GaugeFn = Arc<dyn Fn() -> f64 + Send + Sync>;

#[derive(Clone)]
enum GaugeValue {
    Set(f64),
    Read(GaugeFn),
}

#[derive(Clone)]
struct Gauge {
    help: &'static str,
    value: GaugeValue,
}

#[derive(Default)]
struct Histogram {
    buckets: [u64; DURATION_BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The registry: request counters, duration histograms and named gauges.
/// Shared by every request through [`AppState`](crate::http::AppState); cheap to update.
pub struct Metrics {
    started: Instant,
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
    gauges: Mutex<BTreeMap<&'static str, Gauge>>,
    /// The last values of the gauges read from a function, by name.
    readings: Snapshot<BTreeMap<&'static str, f64>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The method label: the standard methods by name, anything else `other`
/// (a client must not be able to add label values at will).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Escapes a label value: backslash, double quote and newline.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value as the exposition format writes it.
fn sample(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        value.to_string()
    }
}

/// Whether `name` is a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

impl Metrics {
    /// An empty registry; uptime counts from now.
    pub fn new() -> Self {
        Metrics {
            started: Instant::now(),
            requests: Mutex::new(BTreeMap::new()),
            durations: Mutex::new(BTreeMap::new()),
            gauges: Mutex::new(BTreeMap::new()),
            readings: Snapshot::new(SNAPSHOT_EVERY),
        }
    }

    /// Counts one answered request and times it under its route template.
    pub fn observe_request(
        &self,
        method: &axum::http::Method,
        route: &str,
        status: u16,
        elapsed: Duration,
    ) {
        *lock(&self.requests)
            .entry((method_label(method), route.to_owned(), status))
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        let mut durations = lock(&self.durations);
        let histogram = durations.entry(route.to_owned()).or_default();
        for (count, bound) in histogram.buckets.iter_mut().zip(DURATION_BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// Sets gauge `name` to `value`, registering it on first use. The name
    /// must match `[a-zA-Z_:][a-zA-Z0-9_:]*`; an invalid one is ignored.
    pub fn set_gauge(&self, name: &'static str, help: &'static str, value: f64) {
        self.put_gauge(name, help, GaugeValue::Set(value));
    }

    /// Registers gauge `name`, read from `read` by a scrape at most once a
    /// second (scrapes run off the async threads, and call `read` with the
    /// registry unlocked, so `read` may do cheap blocking work such as a
    /// store lookup). Replaces an earlier gauge of that name.
    pub fn gauge_fn(
        &self,
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        self.put_gauge(name, help, GaugeValue::Read(Arc::new(read)));
    }

    fn put_gauge(&self, name: &'static str, help: &'static str, value: GaugeValue) {
        if !valid_name(name) {
            tracing::warn!(name, "ignoring a gauge with an invalid metric name");
            return;
        }
        let reads = matches!(value, GaugeValue::Read(_));
        lock(&self.gauges).insert(name, Gauge { help, value });
        if reads {
            // The next scrape reads the new function rather than an old reading.
            self.readings.clear();
        }
    }

    /// Every metric in the text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_requests(&mut out);
        self.render_durations(&mut out);
        let uptime = self.started.elapsed().as_secs_f64();
        write_gauge_head(
            &mut out,
            "process_uptime_seconds",
            "Seconds since the service started.",
        );
        let _ = writeln!(out, "process_uptime_seconds {}", sample(uptime));
        write_gauge_head(
            &mut out,
            "droply_build_info",
            "The running build: always 1, labelled with the version.",
        );
        let _ = writeln!(
            out,
            "droply_build_info{{version=\"{}\"}} 1",
            escape_label(env!("CARGO_PKG_VERSION"))
        );
        // Copied out, so that no function runs with the registry locked.
        let gauges: Vec<(&'static str, Gauge)> = lock(&self.gauges)
            .iter()
            .map(|(name, gauge)| (*name, gauge.clone()))
            .collect();
        let readings = self.readings.get(|| read_gauges(&gauges));
        for (name, gauge) in &gauges {
            let value = match &gauge.value {
                GaugeValue::Set(value) => *value,
                // Registered since the last reading (and before `clear`): read it now.
                GaugeValue::Read(read) => readings.get(name).copied().unwrap_or_else(|| read()),
            };
            write_gauge_head(&mut out, name, gauge.help);
            let _ = writeln!(out, "{name} {}", sample(value));
        }
        out
    }

    fn render_requests(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP http_requests_total HTTP requests answered, by method, route template and status."
        );
        let _ = writeln!(out, "# TYPE http_requests_total counter");
        for ((method, route, status), count) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape_label(route)
            );
        }
    }

    fn render_durations(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP http_request_duration_seconds Time to answer a request, by route template."
        );
        let _ = writeln!(out, "# TYPE http_request_duration_seconds histogram");
        for (route, histogram) in lock(&self.durations).iter() {
            let route = escape_label(route);
            for (count, bound) in histogram.buckets.iter().zip(DURATION_BUCKETS) {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                sample(histogram.sum)
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
    }
}

/// Calls every gauge function of `gauges`, by name.
fn read_gauges(gauges: &[(&'static str, Gauge)]) -> BTreeMap<&'static str, f64> {
    gauges
        .iter()
        .filter_map(|(name, gauge)| match &gauge.value {
            GaugeValue::Set(_) => None,
            GaugeValue::Read(read) => Some((*name, read())),
        })
        .collect()
}

fn write_gauge_head(out: &mut String, name: &str, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// Registers the gauges the state can provide cheaply.
pub(crate) fn register_state_gauges(metrics: &Metrics, store: &droply_engine::Store) {
    let store = store.clone();
    metrics.gauge_fn(
        "droply_store_last_change_seq",
        "Sequence number of the store's last committed change.",
        move || store.last_seq() as f64,
    );
}

/// Registers the gauges of the request limits: requests in flight and the
/// clients the rate limiters remember.
pub(crate) fn register_limit_gauges(
    metrics: &Metrics,
    budget: &Arc<super::RequestBudget>,
    rate_limits: &Arc<super::RateLimiters>,
) {
    let budget = Arc::clone(budget);
    metrics.gauge_fn(
        "droply_requests_in_flight",
        "Requests being handled now (health, readiness and metrics not counted).",
        move || budget.in_flight() as f64,
    );
    let rate_limits = Arc::clone(rate_limits);
    metrics.gauge_fn(
        "droply_rate_limit_keys",
        "Client addresses and accounts the rate limiters remember.",
        move || rate_limits.tracked() as f64,
    );
}

/// Registers the engine's gauges of its sign-in limits: password hashes
/// running and (client, email) pairs the sign-in throttle remembers.
pub(crate) fn register_engine_gauges(metrics: &Metrics, engine: &droply_engine::Engine) {
    let hashing = engine.clone();
    metrics.gauge_fn(
        "droply_password_hashes_running",
        "Password hashes (sign-up, sign-in) running now.",
        move || hashing.password_hashes_running() as f64,
    );
    let throttle = engine.clone();
    metrics.gauge_fn(
        "droply_login_throttle_pairs",
        "(client, email) pairs the sign-in throttle remembers.",
        move || throttle.login_throttle_tracked() as f64,
    );
}

/// Registers the connection gauges of the accept loop's cap: connections
/// open, and those refused or closed to make room since start.
pub(crate) fn register_connection_gauges(
    metrics: &Metrics,
    slots: &Arc<crate::connection_slots::ConnectionSlots>,
) {
    let open = Arc::clone(slots);
    metrics.gauge_fn(
        "droply_connections_open",
        "Connections open now.",
        move || open.open() as f64,
    );
    let refused = Arc::clone(slots);
    metrics.gauge_fn(
        "droply_connections_refused",
        "Connections closed at once since start because every connection was handling a request.",
        move || refused.refused() as f64,
    );
    let evicted = Arc::clone(slots);
    metrics.gauge_fn(
        "droply_connections_evicted",
        "Idle connections closed since start to make room for new ones.",
        move || evicted.evicted() as f64,
    );
}

/// Registers the search index's gauges: the last store change it reflects and the
/// experts it holds. They read the index through a weak reference, so the registry
/// does not keep a shut-down index alive (and reads 0 once it is gone).
pub(crate) fn register_search_gauges(metrics: &Metrics, index: &Arc<droply_engine::SearchIndex>) {
    let applied = Arc::downgrade(index);
    metrics.gauge_fn(
        "droply_search_applied_seq",
        "Last store change both search indexes reflect.",
        move || {
            applied
                .upgrade()
                .map_or(0.0, |index| index.applied_seq() as f64)
        },
    );
    let indexed = Arc::downgrade(index);
    metrics.gauge_fn(
        "droply_search_indexed_experts",
        "Experts in the text search index.",
        move || {
            indexed
                .upgrade()
                .map_or(0.0, |index| index.status().text_documents as f64)
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_by_route() {
        let metrics = Metrics::new();
        let get = axum::http::Method::GET;
        metrics.observe_request(&get, "/v1/x/{id}", 200, Duration::from_millis(3));
        metrics.observe_request(&get, "/v1/x/{id}", 200, Duration::from_millis(30));
        metrics.set_gauge("answer", "The answer.", 42.0);
        metrics.set_gauge("bad name", "Ignored.", 1.0);
        let text = metrics.render();
        assert!(text.contains(
            "http_requests_total{method=\"GET\",route=\"/v1/x/{id}\",status=\"200\"} 2\n"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{route=\"/v1/x/{id}\",le=\"0.005\"} 1\n"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{route=\"/v1/x/{id}\",le=\"0.05\"} 2\n"
        ));
        assert!(text.contains("\nanswer 42\n"));
        assert!(!text.contains("bad name"));
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(sample(f64::INFINITY), "+Inf");
    }

    /// A gauge read the store with the registry locked, so concurrent
    /// scrapes queued on the lock while each read the store again.
    #[test]
    fn a_gauge_is_read_with_the_registry_unlocked() {
        let metrics = Arc::new(Metrics::new());
        let registry = Arc::downgrade(&metrics);
        metrics.gauge_fn(
            "registry_unlocked",
            "1 when the registry is unlocked.",
            move || {
                let unlocked = registry
                    .upgrade()
                    .is_some_and(|metrics| metrics.gauges.try_lock().is_ok());
                f64::from(u8::from(unlocked))
            },
        );
        let text = metrics.render();
        assert!(text.contains("\nregistry_unlocked 1\n"), "{text}");
    }

    #[test]
    fn a_burst_of_scrapes_reads_each_gauge_once_per_interval() {
        let metrics = Arc::new(Metrics::new());
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&reads);
        metrics.gauge_fn("store_reads", "Reads of the store.", move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) as f64 + 1.0
        });
        let scrapes: Vec<_> = (0..8)
            .map(|_| {
                let metrics = Arc::clone(&metrics);
                std::thread::spawn(move || metrics.render())
            })
            .collect();
        for scrape in scrapes {
            let text = scrape.join().expect("scrape");
            assert!(text.contains("\nstore_reads 1\n"), "{text}");
        }
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        // A gauge set to a value is never stale.
        metrics.set_gauge("answer", "The answer.", 41.0);
        metrics.set_gauge("answer", "The answer.", 42.0);
        assert!(metrics.render().contains("\nanswer 42\n"));
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
