//! A drop-in participant who joined signed in holds the room only as long
//! as that sign-in: once they sign out (`POST /v1/auth/logout`), the
//! participant token their join handed out opens nothing, while other
//! participants' tokens keep working.

use serde_json::json;

use crate::app::spawn_app;
use crate::dropin_live::live_path;
use crate::dropins::{expert, join, open};
use crate::live_client::{LiveClient, connect, runtime};

/// Regression: the participant token was not tied to the sign-in that
/// joined, so after a plain sign-out it still opened the live room (and
/// kept a seat, and posted) in the account's name.
#[test]
fn a_participant_token_is_refused_once_the_sign_in_that_joined_signs_out() {
    let app = spawn_app();
    let (_, host) = expert(&app, "hana");
    let session = open(
        &app,
        &host,
        json!({"topic": "Sign-out", "is_anonymous": false}),
    );
    let id = session["id"].as_u64().expect("id");
    let code = session["session_code"].as_str().expect("code");
    let (_, carl) = app.register("carl");
    let (_, dana) = app.register("dana");
    let pass_of = |token: &str| {
        let joined = join(&app, code, Some(token), None);
        assert_eq!(joined.status, 200, "{}", joined.raw);
        joined.body["token"].as_str().expect("token").to_owned()
    };
    let carl_pass = pass_of(&carl);
    let dana_pass = pass_of(&dana);
    let addr = app.addr;
    let rt = runtime();
    rt.block_on(async {
        let mut client = connect(addr, &live_path(id), Some(&carl_pass))
            .await
            .expect("carl's pass while signed in");
        client.next_kind("welcome").await;
        client.close().await;
    });

    let out = app.authed("POST", "/v1/auth/logout", &carl, None);
    assert_eq!(out.status, 204, "{}", out.raw);

    rt.block_on(async {
        let refused = |r: Result<LiveClient, (u16, String)>| r.err().expect("refused");
        assert_eq!(
            refused(connect(addr, &live_path(id), Some(&carl_pass)).await),
            (401, "unauthorized".to_owned()),
            "the pass of a signed-out participant opens nothing"
        );
        let mut dana_client = connect(addr, &live_path(id), Some(&dana_pass))
            .await
            .expect("another participant's pass still works");
        dana_client.next_kind("welcome").await;
        dana_client.close().await;
    });
}

/// A participant token is tied to the sign-in its join came with, not to
/// the account's newest: signing out another device leaves it working.
#[test]
fn signing_out_another_device_leaves_a_participant_token_working() {
    let app = spawn_app();
    let (_, host) = expert(&app, "hana");
    let session = open(
        &app,
        &host,
        json!({"topic": "Devices", "is_anonymous": false}),
    );
    let id = session["id"].as_u64().expect("id");
    let code = session["session_code"].as_str().expect("code");
    let (_, phone) = app.register("carl");
    let login = app.request(
        "POST",
        "/v1/auth/login",
        Some(r#"{"email":"carl@example.com","password":"password-carl"}"#),
    );
    assert_eq!(login.status, 200, "{}", login.raw);
    let laptop = login.body["token"].as_str().expect("token").to_owned();
    let joined = join(&app, code, Some(&phone), None);
    assert_eq!(joined.status, 200, "{}", joined.raw);
    let pass = joined.body["token"].as_str().expect("token").to_owned();

    let out = app.authed("POST", "/v1/auth/logout", &laptop, None);
    assert_eq!(out.status, 204, "{}", out.raw);
    let addr = app.addr;
    runtime().block_on(async {
        let mut client = connect(addr, &live_path(id), Some(&pass))
            .await
            .expect("the phone's sign-in still stands");
        client.next_kind("welcome").await;
        client.close().await;
    });

    let out = app.authed("POST", "/v1/auth/logout", &phone, None);
    assert_eq!(out.status, 204, "{}", out.raw);
    runtime().block_on(async {
        let refused = connect(addr, &live_path(id), Some(&pass)).await.err();
        assert_eq!(refused, Some((401, "unauthorized".to_owned())));
    });
}
