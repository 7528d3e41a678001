//! `GET /metrics`: Prometheus text that parses line by line, with request
//! counters labelled by route template (never the raw path) and status.

use std::collections::{BTreeMap, BTreeSet};

use crate::app::spawn_app;

/// One sample: metric name, labels and value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses `name{k="v",...} value`; panics on anything else.
fn parse_sample(line: &str) -> Sample {
    let (series, value) = line.rsplit_once(' ').expect("sample has a value");
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}")),
    };
    let (name, labels) = match series.split_once('{') {
        None => (series, BTreeMap::new()),
        Some((name, rest)) => {
            let body = rest.strip_suffix('}').expect("labels close");
            let mut labels = BTreeMap::new();
            let mut rest = body;
            while !rest.is_empty() {
                let (key, tail) = rest.split_once("=\"").expect("label key");
                let mut value = String::new();
                let mut chars = tail.char_indices();
                let end = loop {
                    match chars.next().expect("label value closes") {
                        (_, '\\') => {
                            let (_, escaped) = chars.next().expect("escape");
                            value.push(if escaped == 'n' { '\n' } else { escaped });
                        }
                        (at, '"') => break at,
                        (_, c) => value.push(c),
                    }
                };
                labels.insert(key.to_owned(), value);
                rest = tail[end + 1..]
                    .strip_prefix(',')
                    .unwrap_or(&tail[end + 1..]);
            }
            (name, labels)
        }
    };
    let valid_name = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    assert!(valid_name && !name.is_empty(), "bad metric name: {line}");
    (name.to_owned(), labels, value)
}

/// Parses a whole exposition: every sample belongs to a metric whose
/// `# HELP` and `# TYPE` came first.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut helped: BTreeSet<String> = BTreeSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("help text");
            assert!(!help.is_empty(), "{line}");
            helped.insert(name.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("type");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                typed.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{line}"
            );
        } else {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line: {line:?}"
            );
            let sample = parse_sample(line);
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    let base = sample.0.strip_suffix(suffix)?;
                    (typed.get(base).map(String::as_str) == Some("histogram"))
                        .then(|| base.to_owned())
                })
                .unwrap_or_else(|| sample.0.clone());
            assert!(typed.contains_key(&family), "no # TYPE before {line}");
            assert!(helped.contains(&family), "no # HELP before {line}");
            samples.push(sample);
        }
    }
    samples
}

fn value_of(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples
        .iter()
        .find(|(n, l, _)| n == name && *l == wanted)
        .map(|(_, _, v)| *v)
}

#[test]
fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app();
    for _ in 0..3 {
        assert_eq!(app.get("/health").status, 200);
    }
    assert_eq!(app.get("/v1/experts/4242").status, 404);
    assert_eq!(app.get("/v1/experts/4343").status, 404);
    assert_eq!(app.get("/v1/experts/nope").status, 400);
    assert_eq!(app.get("/v1/no/such/route").status, 404);
    assert_eq!(app.request("DELETE", "/health", None).status, 405);
    assert_eq!(app.get("/v1/users/me").status, 401);

    let response = app.get("/metrics");
    assert_eq!(response.status, 200);
    let content_type = response.header("content-type").expect("content type");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let samples = parse_exposition(&response.raw);
    let count = |method: &str, route: &str, status: &str| {
        value_of(
            &samples,
            "http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(count("GET", "/health", "200"), Some(3.0));
    assert_eq!(count("GET", "/v1/experts/{id}", "404"), Some(2.0));
    assert_eq!(count("GET", "/v1/experts/{id}", "400"), Some(1.0));
    assert_eq!(count("GET", "unmatched", "404"), Some(1.0));
    assert_eq!(count("DELETE", "/health", "405"), Some(1.0));
    assert_eq!(count("GET", "/v1/users/me", "401"), Some(1.0));
    // Raw paths never become labels.
    assert!(!response.raw.contains("4242") && !response.raw.contains("no/such"));

    let histogram = |suffix: &str, extra: &[(&str, &str)]| {
        let mut labels = vec![("route", "/v1/experts/{id}")];
        labels.extend_from_slice(extra);
        value_of(
            &samples,
            &format!("http_request_duration_seconds{suffix}"),
            &labels,
        )
    };
    assert_eq!(histogram("_count", &[]), Some(3.0));
    assert_eq!(histogram("_bucket", &[("le", "+Inf")]), Some(3.0));
    assert!(histogram("_sum", &[]).expect("sum") > 0.0);
    let buckets: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| {
            n == "http_request_duration_seconds_bucket"
                && l.get("route").map(String::as_str) == Some("/health")
        })
        .map(|(_, _, v)| *v)
        .collect();
    assert!(buckets.len() > 2, "{buckets:?}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");

    assert!(value_of(&samples, "process_uptime_seconds", &[]).expect("uptime") >= 0.0);
    assert_eq!(
        value_of(
            &samples,
            "droply_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    assert!(value_of(&samples, "droply_store_last_change_seq", &[]).is_some());

    // The scrape itself is counted for the next one.
    let again = parse_exposition(&app.get("/metrics").raw);
    assert_eq!(
        value_of(
            &again,
            "http_requests_total",
            &[("method", "GET"), ("route", "/metrics"), ("status", "200")]
        ),
        Some(1.0)
    );
}
