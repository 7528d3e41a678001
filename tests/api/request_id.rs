//! `x-request-id` on every answer: a sane client id is echoed, anything
//! else is replaced by a fresh one.

use crate::app::{TestApp, spawn_app};

fn id_for(app: &TestApp, path: &str, sent: Option<&str>) -> String {
    let headers: Vec<(&str, &str)> = sent.map(|id| ("X-Request-Id", id)).into_iter().collect();
    let response = app.send("GET", path, None, None, &headers);
    response
        .header("x-request-id")
        .unwrap_or_else(|| panic!("no x-request-id on {path}: {}", response.head))
        .to_owned()
}

fn is_generated(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn every_answer_carries_a_request_id() {
    let app = spawn_app();
    let first = id_for(&app, "/health", None);
    let second = id_for(&app, "/health", None);
    assert!(
        is_generated(&first) && is_generated(&second),
        "{first} {second}"
    );
    assert_ne!(first, second);
    // Errors too: the fallback, a rejected token, a bad parameter.
    for path in ["/v1/nope", "/v1/users/me", "/v1/experts/xyz"] {
        assert!(is_generated(&id_for(&app, path, None)), "{path}");
    }
}

#[test]
fn a_sane_client_request_id_is_echoed() {
    let app = spawn_app();
    for sent in ["abc-123_X.y", "7", &"a".repeat(64)] {
        assert_eq!(id_for(&app, "/health", Some(sent)), sent);
    }
    assert_eq!(id_for(&app, "/v1/nope", Some("trace-1")), "trace-1");
}

#[test]
fn a_bad_client_request_id_is_replaced() {
    let app = spawn_app();
    let too_long = "a".repeat(65);
    for sent in [
        "has space",
        "semi;colon",
        "quote\"d",
        "<script>",
        too_long.as_str(),
    ] {
        let got = id_for(&app, "/health", Some(sent));
        assert_ne!(got, sent);
        assert!(is_generated(&got), "{sent:?} -> {got}");
    }
}
