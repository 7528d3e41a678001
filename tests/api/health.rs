//! Probes and the error format of unknown routes.

use crate::app::{error_code, spawn_app};

#[test]
fn health_and_ready_answer() {
    let app = spawn_app();
    let health = app.get("/health");
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "ok");
    let ready = app.get("/ready");
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "ready");
}

/// `/ready` is answered to anyone: it told them how many users the store holds.
#[test]
fn ready_does_not_publish_the_user_count() {
    let app = spawn_app();
    app.register("carl");
    let ready = app.get("/ready");
    assert_eq!(ready.status, 200, "{}", ready.raw);
    assert!(ready.body.get("users").is_none(), "{}", ready.raw);
}

#[test]
fn unknown_routes_get_the_error_format() {
    let app = spawn_app();
    let response = app.get("/v1/nope");
    assert_eq!(response.status, 404);
    assert_eq!(error_code(&response), "route_not_found");
}
