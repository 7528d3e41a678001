//! Content through the API: drafts seen only by their creator, uploads
//! typed from their bytes and bounded in size with nothing left behind
//! when refused, the lifecycle, views counted once a day per viewer, and
//! the creator's and anonymous callers' views of it.

use std::path::PathBuf;

use droply_engine::content::MAX_CONTENT_PER_CREATOR;
use droply_models::{
    Content, ContentId, ContentStatus, ContentType, Currency, Money, Timestamp, UserId,
};
use serde_json::{Value, json};

use crate::app::{TestApp, error_code, spawn_app, spawn_app_with};
use crate::file_client::Framing;

/// A PDF of `size` bytes: the magic number, then varied bytes.
pub fn pdf(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let mut state: u32 = 0x2545_4446;
    while bytes.len() < size {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        bytes.push((state >> 24) as u8);
    }
    bytes.truncate(size);
    bytes
}

/// A PNG's first bytes, enough to be typed.
pub fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend(std::iter::repeat_n(7u8, 4_000));
    bytes
}

/// Creates content as the holder of `token`; its id.
pub fn create(app: &TestApp, token: &str, body: Value) -> u64 {
    let made = app.authed("POST", "/v1/content", token, Some(&body.to_string()));
    assert_eq!(made.status, 201, "{}", made.raw);
    made.body["id"].as_u64().expect("id")
}

/// A free guide with a 3 MiB PDF, published by the holder of `token`.
pub fn published_guide(app: &TestApp, token: &str, title: &str, price_minor: i64) -> u64 {
    let id = create(
        app,
        token,
        json!({"title": title, "description": "Everything in one guide.", "content_type": "document",
               "price": {"amount_minor": price_minor, "currency": "USD"}}),
    );
    let file = pdf(3 << 20);
    let uploaded = app.upload(
        &format!("/v1/content/{id}/file"),
        token,
        &file,
        Framing::Length,
    );
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
    let published = app.authed("POST", &format!("/v1/content/{id}/publish"), token, None);
    assert_eq!(published.status, 200, "{}", published.raw);
    id
}

/// `count` free drafts of `creator` written straight to the store in one
/// write, a minute apart and all before now (so before anything made over
/// the API next): what creating them one by one would leave.
fn drafts_in_store(app: &TestApp, creator: u64, count: usize) {
    let oldest = Timestamp::now().plus_minutes(-(count as i64) - 1);
    app.store
        .write(|txn| {
            for n in 0..count {
                let at = oldest.plus_minutes(n as i64);
                txn.create(Content {
                    id: ContentId::new(0),
                    user_id: UserId::new(creator),
                    title: format!("Draft {n}"),
                    description: String::new(),
                    content_type: ContentType::Document,
                    price: Money::zero(Currency::USD),
                    file_path: String::new(),
                    file_size: 0,
                    thumbnail_path: None,
                    preview_available: false,
                    preview_path: None,
                    status: ContentStatus::Draft,
                    views: 0,
                    purchases: 0,
                    earnings: Money::zero(Currency::USD),
                    created_at: at,
                    updated_at: at,
                    category_id: None,
                    file_meta: None,
                    preview_meta: None,
                })?;
            }
            Ok(())
        })
        .expect("drafts written");
}

/// Every file under `<data-dir>/content/` (the temporary ones included).
pub fn stored_files(app: &TestApp) -> Vec<PathBuf> {
    let root = app.engine.data_dir().path().join("content");
    let mut found = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_draft_is_its_creators_until_published_and_views_count_once_a_day() {
    let app = spawn_app();
    let (ann, ann_token) = app.register("ann");
    let (_, bob_token) = app.register("bob");
    let id = create(
        &app,
        &ann_token,
        json!({"title": "  Tax guide 2026 ", "content_type": "document", "price": {"amount_minor": 0, "currency": "EUR"}}),
    );
    let own = app.authed("GET", &format!("/v1/content/{id}"), &ann_token, None);
    assert_eq!(own.status, 200, "{}", own.raw);
    assert_eq!(own.body["status"], "draft");
    assert_eq!(own.body["title"], "Tax guide 2026");
    assert_eq!(own.body["file"], Value::Null);
    assert_eq!(own.body["creator"], json!({"id": ann, "name": "ann P."}));
    assert_eq!(
        own.body["earnings"]["amount_minor"], 0,
        "the creator sees earnings"
    );
    for token in [Some(bob_token.as_str()), None] {
        let hidden = app.send("GET", &format!("/v1/content/{id}"), None, token, &[]);
        assert_eq!(hidden.status, 404, "a draft is hidden: {}", hidden.raw);
        assert_eq!(error_code(&hidden), "not_found");
    }
    let early = app.authed(
        "POST",
        &format!("/v1/content/{id}/publish"),
        &ann_token,
        None,
    );
    assert_eq!(early.status, 409, "{}", early.raw);
    assert_eq!(error_code(&early), "invalid_state");
    let not_hers = app.authed(
        "POST",
        &format!("/v1/content/{id}/archive"),
        &bob_token,
        None,
    );
    assert_eq!(not_hers.status, 404, "{}", not_hers.raw);

    // A 3 MiB file: more than the JSON body limit, streamed.
    let file = pdf(3 << 20);
    let uploaded = app.upload(
        &format!("/v1/content/{id}/file"),
        &ann_token,
        &file,
        Framing::Chunked,
    );
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
    let body = uploaded.json();
    assert_eq!(
        body["file"],
        json!({"media_type": "application/pdf", "size": file.len()})
    );
    let published = app.authed(
        "POST",
        &format!("/v1/content/{id}/publish"),
        &ann_token,
        None,
    );
    assert_eq!(published.status, 200, "{}", published.raw);
    assert_eq!(published.body["status"], "published");
    let stolen = app.authed(
        "POST",
        &format!("/v1/content/{id}/unpublish"),
        &bob_token,
        None,
    );
    assert_eq!(stolen.status, 403, "visible but not hers: {}", stolen.raw);
    assert_eq!(error_code(&stolen), "forbidden");

    // Views: Bob twice, an anonymous caller twice, Ann (the creator) once.
    for _ in 0..2 {
        assert_eq!(
            app.authed("GET", &format!("/v1/content/{id}"), &bob_token, None)
                .status,
            200
        );
        let anonymous = app.get(&format!("/v1/content/{id}"));
        assert_eq!(anonymous.status, 200, "{}", anonymous.raw);
        assert!(
            anonymous.body.get("earnings").is_none(),
            "{}",
            anonymous.raw
        );
        assert_eq!(anonymous.body["can_download"], false);
    }
    let seen = app.authed("GET", &format!("/v1/content/{id}"), &ann_token, None);
    assert_eq!(seen.body["views"], 2, "{}", seen.raw);
    assert_eq!(seen.body["can_download"], true, "the creator may download");

    let listed = app.get(&format!("/v1/experts/{ann}/content"));
    assert_eq!(listed.status, 200, "{}", listed.raw);
    assert_eq!(listed.body["content"].as_array().map(Vec::len), Some(1));
    let draft = create(
        &app,
        &ann_token,
        json!({"title": "Unfinished", "content_type": "video", "price": {"amount_minor": 0, "currency": "EUR"}}),
    );
    let public = app.get(&format!("/v1/experts/{ann}/content"));
    assert_eq!(
        public.body["content"].as_array().map(Vec::len),
        Some(1),
        "{}",
        public.raw
    );
    let mine = app.authed(
        "GET",
        &format!("/v1/experts/{ann}/content"),
        &ann_token,
        None,
    );
    let ids: Vec<u64> = mine.body["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(|c| c["id"].as_u64())
        .collect();
    assert_eq!(ids, [id, draft], "the creator sees drafts too");
    app.assert_no_leaks();
}

#[test]
fn uploads_are_typed_from_their_bytes_bounded_and_leave_nothing_when_refused() {
    let app = spawn_app_with(|config| {
        config.content.max_file_bytes = 1 << 20;
        config.content.max_preview_bytes = 64 << 10;
    });
    let (_, token) = app.register("ann");
    let video = create(
        &app,
        &token,
        json!({"title": "Screencast", "content_type": "video", "price": {"amount_minor": 0, "currency": "EUR"}}),
    );
    let path = format!("/v1/content/{video}/file");
    // A script sent as a PDF is refused from its bytes.
    let script = b"<html><script>alert(1)</script></html>".repeat(100);
    let refused = app.upload(&path, &token, &script, Framing::Length);
    assert_eq!(refused.status, 415, "{:?}", refused.json());
    assert_eq!(refused.code(), "unsupported_media_type");
    // A real PDF is no video.
    let wrong_kind = app.upload(&path, &token, &pdf(10_000), Framing::Chunked);
    assert_eq!(wrong_kind.status, 415, "{:?}", wrong_kind.json());
    // Over the limit: announced, and found out while streaming.
    let mut mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0".to_vec();
    mp4.extend(pdf((1 << 20) + 10).into_iter().skip(16));
    for framing in [Framing::Length, Framing::Chunked] {
        let big = app.upload(&path, &token, &mp4, framing);
        assert_eq!(big.status, 413, "{framing:?}: {:?}", big.json());
        assert_eq!(big.code(), "payload_too_large");
    }
    assert!(
        stored_files(&app).is_empty(),
        "nothing left: {:?}",
        stored_files(&app)
    );
    let row = app.authed("GET", &format!("/v1/content/{video}"), &token, None);
    assert_eq!(
        row.body["file"],
        Value::Null,
        "no row points at a refused file"
    );

    // The right file, then a replacement: only the newest is kept.
    mp4.truncate(500_000);
    assert_eq!(app.upload(&path, &token, &mp4, Framing::Length).status, 200);
    mp4[20] ^= 0xff;
    assert_eq!(
        app.upload(&path, &token, &mp4, Framing::Chunked).status,
        200
    );
    let files = stored_files(&app);
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().and_then(|n| n.to_str()).expect("name");
    assert!(
        name.starts_with("file-") && name.ends_with(".mp4"),
        "{name}"
    );
    // Previews: no archives, a smaller limit.
    let preview = format!("/v1/content/{video}/preview");
    let zip = b"PK\x03\x04rest of an archive".to_vec();
    assert_eq!(
        app.upload(&preview, &token, &zip, Framing::Length).status,
        415
    );
    let mut large_png = png();
    large_png.extend(std::iter::repeat_n(0u8, 70 << 10));
    assert_eq!(
        app.upload(&preview, &token, &large_png, Framing::Length)
            .status,
        413
    );
    let ok = app.upload(&preview, &token, &png(), Framing::Length);
    assert_eq!(ok.status, 200, "{:?}", ok.json());
    assert_eq!(ok.json()["preview"]["media_type"], "image/png");
    assert_eq!(stored_files(&app).len(), 2);
    // Strangers cannot upload.
    let (_, bob) = app.register("bob");
    let theirs = app.upload(&path, &bob, &mp4, Framing::Length);
    assert_eq!(theirs.status, 404, "{:?}", theirs.json());
    assert_eq!(stored_files(&app).len(), 2);
    app.assert_no_leaks();
}

#[test]
fn bad_content_is_refused_clearly() {
    let app = spawn_app();
    let (_, token) = app.register("ann");
    for (body, code) in [
        (
            json!({"title": "", "content_type": "video", "price": {"amount_minor": 0, "currency": "EUR"}}),
            "invalid_input",
        ),
        (
            json!({"title": "x", "content_type": "hologram", "price": {"amount_minor": 0, "currency": "EUR"}}),
            "invalid_input",
        ),
        (
            json!({"title": "x", "content_type": "video", "price": {"amount_minor": -5, "currency": "EUR"}}),
            "invalid_input",
        ),
        (
            json!({"title": "x", "content_type": "video", "price": {"amount_minor": 5, "currency": "XXX"}}),
            "invalid_input",
        ),
        (
            json!({"title": "x", "content_type": "video", "price": {"amount_minor": 5, "currency": "USD"}, "category": 999}),
            "invalid_input",
        ),
        (
            json!({"title": "x", "content_type": "video", "price": {"amount_minor": 5, "currency": "USD"}, "file_path": "/etc/passwd"}),
            "invalid_input",
        ),
    ] {
        let answer = app.authed("POST", "/v1/content", &token, Some(&body.to_string()));
        assert_eq!(answer.status, 400, "{body}: {}", answer.raw);
        assert_eq!(error_code(&answer), code, "{body}");
    }
    let anonymous = app.request(
        "POST",
        "/v1/content",
        Some(r#"{"title":"x","content_type":"video","price":{"amount_minor":0,"currency":"EUR"}}"#),
    );
    assert_eq!(anonymous.status, 401);
    // A price needs a Stripe account before it goes on sale.
    let priced = create(
        &app,
        &token,
        json!({"title": "Paid guide", "content_type": "document", "price": {"amount_minor": 900, "currency": "USD"}}),
    );
    let uploaded = app.upload(
        &format!("/v1/content/{priced}/file"),
        &token,
        &pdf(2_000),
        Framing::Length,
    );
    assert_eq!(uploaded.status, 200);
    let publish = app.authed(
        "POST",
        &format!("/v1/content/{priced}/publish"),
        &token,
        None,
    );
    assert_eq!(publish.status, 409, "{}", publish.raw);
    assert_eq!(error_code(&publish), "payouts_not_enabled");
    for bad in ["/v1/content/abc", "/v1/content/0"] {
        let answer = app.get(bad);
        assert!(matches!(answer.status, 400 | 404), "{bad}: {}", answer.raw);
    }
}

#[test]
fn content_without_buyers_is_deleted_with_its_files() {
    let app = spawn_app();
    let (_, token) = app.register("ann");
    let id = published_guide(&app, &token, "Short-lived", 0);
    assert_eq!(stored_files(&app).len(), 1);
    let edited = app.authed(
        "PATCH",
        &format!("/v1/content/{id}"),
        &token,
        Some(r#"{"title":"Renamed","category":null}"#),
    );
    assert_eq!(edited.status, 200, "{}", edited.raw);
    assert_eq!(edited.body["title"], "Renamed");
    let deleted = app.authed("DELETE", &format!("/v1/content/{id}"), &token, None);
    assert_eq!(deleted.status, 204, "{}", deleted.raw);
    assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));
    assert_eq!(app.get(&format!("/v1/content/{id}")).status, 404);
}

/// Regression: a creator had no cap on content, so one account could write
/// drafts at the write rate limit (tens of thousands a day) that every list
/// of theirs then read through. At the cap a new draft is refused with 409
/// `limit_reached`, other creators are not, and deleting one makes room.
#[test]
fn a_creator_past_the_content_cap_is_refused() {
    let app = spawn_app();
    let (ann, ann_token) = app.register("ann");
    drafts_in_store(&app, ann, MAX_CONTENT_PER_CREATOR - 1);
    let body = json!({"title": "One more", "content_type": "document",
                      "price": {"amount_minor": 0, "currency": "USD"}});
    let last = create(&app, &ann_token, body.clone());
    let refused = app.authed("POST", "/v1/content", &ann_token, Some(&body.to_string()));
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (409, "limit_reached"),
        "{}",
        refused.raw
    );
    let (_, bob_token) = app.register("bob");
    create(&app, &bob_token, body.clone());
    let deleted = app.authed("DELETE", &format!("/v1/content/{last}"), &ann_token, None);
    assert_eq!(deleted.status, 204, "{}", deleted.raw);
    create(&app, &ann_token, body);
}
