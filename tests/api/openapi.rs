//! `GET /openapi.json` and `GET /docs`: the document covers exactly the
//! routes the router serves, marks exactly the routes that need a bearer
//! token, and its schemas match what the API really sends and accepts.
//!
//! Routes are registered only through utoipa-axum's `routes!`, which reads
//! each handler's `#[utoipa::path]`: a handler without one does not compile
//! into a router. What else could slip in (a plain axum route, a method one
//! `routes!` call routes on another handler's path, a path documented but
//! not routed) is caught here by walking the built router: every path of its
//! route table asked with every method, compared with the document.

use std::collections::BTreeSet;

use axum::Router;
use axum::routing::{get, post};
use droply_server::http::{AppState, api, router};
use droply_server::pages;
use serde_json::Value;

use crate::app::{TestApp, error_code, spawn_app, spawn_app_paying, spawn_router};
use crate::dates;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The path templates in `router`'s route table. axum lists them nowhere but
/// in its `Debug` output, whose path router names each one as a quoted
/// string (the fallback router, after it, holds only the catch-all); should
/// that output change, the callers' counts fail loudly.
fn route_table<S>(router: &Router<S>) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let start = debug
        .find("path_router:")
        .expect("axum's Debug names the path router");
    let end = debug
        .find("fallback_router:")
        .expect("and the fallback router");
    debug[start..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|text| text.starts_with('/'))
        .map(str::to_owned)
        .collect()
}

/// (METHOD, path) of every route `app` serves among the paths of `table`:
/// each path asked with every method, served unless answered 405 or
/// `route_not_found`. This walks the built router, not the document.
fn served_routes(app: &TestApp, table: &BTreeSet<String>) -> BTreeSet<(String, String)> {
    let mut served = BTreeSet::new();
    for path in table {
        let target = concrete(path);
        for method in METHODS {
            let method = method.to_uppercase();
            let response = app.request(&method, &target, body_for(&method));
            let refused =
                response.status == 405 || response.body["code"].as_str() == Some("route_not_found");
            if !refused {
                served.insert((method, path.clone()));
            }
        }
    }
    served
}

/// The API's route table: the router's paths less the web pages' (pages
/// are HTML for people, not operations of the API document).
fn api_route_table(app: &TestApp, router: &Router) -> BTreeSet<String> {
    let pages = route_table(&pages::router(&AppState::new(app.engine.clone())));
    route_table(router).difference(&pages).cloned().collect()
}

/// Every API route the real router serves, walked on `app` (which runs it).
fn routes_the_router_serves(app: &TestApp) -> BTreeSet<(String, String)> {
    let table = api_route_table(app, &router(AppState::new(app.engine.clone())));
    served_routes(app, &table)
}

fn document(app: &TestApp) -> Value {
    let response = app.get("/openapi.json");
    assert_eq!(response.status, 200, "{}", response.raw);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    );
    response.body
}

/// (METHOD, path, operation) of every operation in the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                out.push((method.to_uppercase(), path.clone(), operation.clone()));
            }
        }
    }
    out
}

/// A concrete path for a template: every `{param}` becomes `1`.
fn concrete(template: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in template.chars() {
        match c {
            '{' => inside = true,
            '}' => {
                inside = false;
                out.push('1');
            }
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

fn body_for(method: &str) -> Option<&'static str> {
    matches!(method, "POST" | "PATCH" | "PUT").then_some("{}")
}

#[test]
fn the_document_lists_exactly_the_routes_the_router_serves() {
    let app = spawn_app();
    let doc = document(&app);
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    assert!(
        doc["components"]["schemas"]
            .as_object()
            .is_some_and(|s| s.len() > 10)
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let served = routes_the_router_serves(&app);
    assert!(served.len() >= 30, "{served:?}");
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "routes missing from the document: {undocumented:?}; documented but not routed: {unserved:?}"
    );

    // Every documented operation reaches a handler; other methods on a
    // documented path are refused as such.
    let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
    for path in paths {
        let target = concrete(path);
        for method in METHODS {
            let method = method.to_uppercase();
            let response = app.request(&method, &target, body_for(&method));
            if documented.contains(&(method.clone(), path.clone())) {
                let code = response.body["code"].as_str().unwrap_or_default();
                assert!(
                    response.status != 405 && code != "route_not_found",
                    "{method} {target}: {} {}",
                    response.status,
                    response.raw
                );
            } else {
                assert_eq!(
                    (response.status, error_code(&response).as_str()),
                    (405, "method_not_allowed"),
                    "{method} {target} is served but not documented"
                );
            }
        }
    }
}

/// The real router with two routes added past the document: a new path, and
/// a new method on a documented path.
fn with_undocumented_routes(router: Router) -> Router {
    router
        .route("/v1/undocumented", get(|| async { "hidden" }))
        .route("/health", post(|| async { "hidden" }))
}

#[test]
fn a_route_added_without_documentation_is_caught() {
    let app = spawn_router(|state| with_undocumented_routes(router(state)));
    let documented: BTreeSet<(String, String)> = operations(&document(&app))
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let table = api_route_table(
        &app,
        &with_undocumented_routes(router(AppState::new(app.engine.clone()))),
    );
    let served = served_routes(&app, &table);
    let undocumented: BTreeSet<(String, String)> =
        served.difference(&documented).cloned().collect();
    let expected: BTreeSet<(String, String)> = [("GET", "/v1/undocumented"), ("POST", "/health")]
        .into_iter()
        .map(|(method, path)| (method.to_owned(), path.to_owned()))
        .collect();
    assert_eq!(undocumented, expected);
}

#[test]
fn the_registered_routes_and_their_document_are_the_ones_served() {
    let app = spawn_app();
    let doc = document(&app);
    let (routes, openapi) = api().split_for_parts();
    let registered = route_table(&routes);
    let documented_paths: BTreeSet<String> = openapi.paths.paths.keys().cloned().collect();
    assert!(registered.len() >= 25, "{registered:?}");
    assert_eq!(registered, documented_paths);
    let served_paths: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    assert_eq!(registered, served_paths);
    let registered_operations: BTreeSet<(String, String)> =
        operations(&serde_json::to_value(&openapi).expect("document"))
            .into_iter()
            .map(|(method, path, _)| (method, path))
            .collect();
    let served_operations: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    assert_eq!(registered_operations, served_operations);
}

#[test]
fn exactly_the_operations_that_need_a_token_declare_bearer_security() {
    let app = spawn_app();
    let doc = document(&app);
    for (method, path, operation) in operations(&doc) {
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        let response = app.request(&method, &concrete(&path), body_for(&method));
        let unauthorized = response.body["code"] == "unauthorized";
        assert_eq!(
            secured, unauthorized,
            "{method} {path}: security {secured}, answered {} without a token",
            response.raw
        );
        let responses = &operation["responses"];
        assert!(responses["500"].is_object(), "{method} {path}");
        if secured {
            assert!(responses["401"].is_object(), "{method} {path}");
        }
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path} has no summary"
        );
    }
}

fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {schema}"))
        .keys()
        .cloned()
        .collect()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().expect("object").keys().cloned().collect()
}

#[test]
fn the_schemas_match_what_the_api_sends_and_takes() {
    let app = spawn_app_paying();
    let doc = document(&app);

    let codes: BTreeSet<&str> = doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
        .as_array()
        .expect("error codes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for code in [
        "route_not_found",
        "unauthorized",
        "idempotency_key_reused",
        "slot_unavailable",
    ] {
        assert!(codes.contains(code), "{code}");
    }

    let (expert, token) =
        crate::availability::expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let me = app.authed("GET", "/v1/users/me", &token, None);
    assert_eq!(keys(&me.body), properties(&doc, "AccountView"));
    let rules = app.authed("GET", "/v1/availability/rules", &token, None);
    assert_eq!(
        keys(&rules.body["rules"][0]),
        properties(&doc, "AvailabilityRule")
    );
    let exception = app.authed(
        "POST",
        "/v1/availability/exceptions",
        &token,
        Some(&format!(
            r#"{{"start":"{}","end":"{}","is_blocked":true,"reason":"ski"}}"#,
            dates::at(28, "00:00"),
            dates::at(29, "00:00")
        )),
    );
    assert_eq!(exception.status, 201, "{}", exception.raw);
    assert_eq!(
        keys(&exception.body),
        properties(&doc, "AvailabilityException")
    );
    let profile = app.get(&format!("/v1/experts/{expert}"));
    assert_eq!(keys(&profile.body), properties(&doc, "PublicProfile"));
    assert_eq!(
        keys(&profile.body["hourly_rate"]),
        properties(&doc, "Money")
    );
    let (_, client) = app.register("carl");
    let booking = app.authed(
        "POST",
        "/v1/bookings",
        &client,
        Some(&format!(
            r#"{{"provider_id":{expert},"start_time":"{}","duration":60}}"#,
            dates::at(0, "09:00")
        )),
    );
    assert_eq!(booking.status, 201, "{}", booking.raw);
    let mut booked = keys(&booking.body);
    assert!(
        booked.remove("payment"),
        "a priced booking answers how to pay"
    );
    assert_eq!(booked, properties(&doc, "BookingView"));
    assert_eq!(
        keys(&booking.body["payment"]),
        properties(&doc, "PaymentView")
    );

    // The PATCH /v1/users/me schema is exactly the engine's allowlist, which
    // serde names when it refuses an unknown field.
    let refused = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(r#"{"zzz_unknown":1}"#),
    );
    assert_eq!(error_code(&refused), "invalid_input");
    let message = refused.body["message"].as_str().expect("message");
    let expected = message
        .split_once("expected one of")
        .expect("serde lists the allowed fields")
        .1;
    let allowlist: BTreeSet<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert_eq!(allowlist, properties(&doc, "ProfileUpdate"));
    app.assert_no_leaks();
}

#[test]
fn the_docs_page_renders_the_document_as_plain_html() {
    let app = spawn_app();
    let page = app.get("/docs");
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{}",
        page.head
    );
    for needle in [
        "<!DOCTYPE html>",
        "<code>/v1/bookings/{id}/reschedule</code>",
        "<code>/v1/auth/login</code>",
        "<code>/v1/experts/{id}/slots</code>",
        "<code>/metrics</code>",
        "idempotency_key_reused",
        "Authorization: Bearer &lt;token&gt;",
        "AvailabilityRule",
    ] {
        assert!(page.raw.contains(needle), "no {needle} in /docs");
    }
    for outside in ["<script", "src=\"http", "href=\"http", "cdn"] {
        assert!(!page.raw.contains(outside), "/docs refers to {outside}");
    }
}
