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
    assert_eq!(ready.body["users"], 0);
}

#[test]
fn unknown_routes_get_the_error_format() {
    let app = spawn_app();
    let response = app.get("/v1/nope");
    assert_eq!(response.status, 404);
    assert_eq!(error_code(&response), "route_not_found");
}
