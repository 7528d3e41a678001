//! The `Engine` facade: opened from one config (the data directory's
//! layout, search on or off, background jobs), a request checked before the
//! search index is asked, a model that cannot load reported with the fix, the
//! session sweep running in the background, a clean shutdown (saving the cached
//! expert stats for the next start), and the
//! interactions a client may record.

use std::sync::Arc;
use std::time::{Duration, Instant};

use droply_engine::accounts::{AuthSession, AuthSessionId, CLIENT_INTERACTIONS, Registration};
use droply_engine::matching::{RankedHit, SearchRequest};
use droply_engine::search_index::SearchIndexConfig;
use droply_engine::{Engine, EngineConfig, Error, SearchSetup};
use droply_models::{Currency, InteractionType, Money, Timestamp, UserInteraction};
use droply_test_support::fixtures::full_user;
use droply_test_support::hash_embedder::HashEmbedder;
use serde_json::json;

fn registration(name: &str) -> Registration {
    Registration {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        password: format!("password-{name}"),
        full_name: format!("{name} Person"),
        currency: None,
        timezone: None,
        language: None,
        referral_code: None,
    }
}

#[test]
fn open_lays_out_the_data_dir_and_serves_accounts_without_search() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("nested").join("data");
    let engine = Engine::open(EngineConfig::new(&root)).expect("open");
    assert!(
        engine.data_dir().store().is_dir(),
        "the store lives in <data-dir>/store"
    );
    assert_eq!(engine.data_dir().search(), root.join("search"));

    let (user, token) = engine.register(&registration("ann")).expect("register");
    assert_eq!(engine.authenticate(&token.token).expect("token"), user.id);
    let readiness = engine.readiness().expect("ready");
    assert_eq!(readiness.search, None);
    assert_eq!(engine.store().users().count(), 1);
    assert!(matches!(
        engine.search(SearchRequest::default(), None),
        Err(Error::SearchUnavailable(_))
    ));
    engine.shutdown().expect("shutdown");
    engine.shutdown().expect("a second shutdown is harmless");
}

#[test]
fn a_bad_request_is_refused_before_search_is_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(EngineConfig::new(dir.path())).expect("open");
    let bad_filter = SearchRequest {
        filter: Some(json!("price >= 5")),
        ..SearchRequest::default()
    };
    assert!(matches!(
        engine.search(bad_filter, None),
        Err(Error::InvalidFilter(_))
    ));
    let bad_limit = SearchRequest {
        limit: Some(0),
        ..SearchRequest::default()
    };
    assert!(matches!(
        engine.create_matches(bad_limit, droply_models::UserId::new(1)),
        Err(Error::Invalid(_))
    ));
    // Regression: one call could store 100 matches (200 rows).
    let too_many = SearchRequest {
        limit: Some(21),
        ..SearchRequest::default()
    };
    assert!(matches!(
        engine.create_matches(too_many, droply_models::UserId::new(1)),
        Err(Error::Invalid(m)) if m.contains("at most 20")
    ));
}

#[test]
fn a_model_that_cannot_load_is_a_config_error_that_says_how_to_fetch_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("damaged-model");
    std::fs::create_dir_all(&model).expect("model dir");
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::write(model.join(file), b"not a model").expect("file");
    }
    let config = EngineConfig {
        search: SearchSetup::Model(Some(model)),
        ..EngineConfig::new(dir.path())
    };
    match Engine::open(config) {
        Err(Error::Config(message)) => {
            assert!(message.contains("droply model fetch"), "{message}")
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn the_session_sweep_runs_in_the_background_until_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig {
        session_sweep_every: Some(Duration::from_millis(20)),
        ..EngineConfig::new(dir.path())
    };
    let engine = Engine::open(config).expect("open");
    let (user, _) = engine.register(&registration("bea")).expect("register");
    let now = Timestamp::now();
    engine
        .store()
        .write(|txn| {
            txn.create(AuthSession {
                id: AuthSessionId::new(0),
                user_id: user.id,
                token_hash: "0".repeat(64),
                created_at: now.plus_days(-31),
                expires_at: now.plus_days(-1),
            })
        })
        .expect("an expired session");
    // The sweep may already have run (every 20 ms): wait for one session left.
    let started = Instant::now();
    while engine.store().count::<AuthSession>() != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the expired session was never swept"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    engine.shutdown().expect("shutdown stops the job");
}

#[test]
fn with_search_the_engine_finds_a_new_expert() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig {
        search: SearchSetup::Embedder(Arc::new(HashEmbedder::default())),
        search_index: SearchIndexConfig {
            poll_interval: Duration::from_millis(20),
            ..SearchIndexConfig::default()
        },
        ..EngineConfig::new(dir.path())
    };
    let engine = Engine::open(config.clone()).expect("open");
    let mut expert = full_user("tax");
    expert.profession = "Tax Advisor".to_owned();
    expert.hourly_rate = Some(Money::new(9_000, Currency::EUR));
    let expert = engine.store().users().create(expert).expect("expert");
    let index = engine.search_index().expect("search is on");
    assert!(index.wait_until_applied(engine.store().last_seq(), Duration::from_secs(10)));
    let (query, results) = engine
        .search(
            SearchRequest {
                q: Some("tax advisor".to_owned()),
                ..SearchRequest::default()
            },
            None,
        )
        .expect("search");
    assert_eq!(query.text, "tax advisor");
    assert_eq!(
        results.hits.first().and_then(|hit| match hit {
            RankedHit::Expert(hit) => Some(hit.expert.id),
            RankedHit::Content(_) | RankedHit::Dropin(_) => None,
        }),
        Some(expert.id)
    );
    assert!(engine.readiness().expect("ready").search.is_some());
    engine.shutdown().expect("shutdown");
    drop(engine);

    // The expert's stats, read for that search, are saved at shutdown and warm the
    // next start.
    assert!(dir.path().join("search").join("stats.bin").is_file());
    let engine = Engine::open(config).expect("reopen");
    let index = engine.search_index().expect("search is on");
    assert!(index.wait_until_applied(engine.store().last_seq(), Duration::from_secs(10)));
    assert_eq!(engine.matcher().expect("matcher").cached_stats(), 1);
    engine.shutdown().expect("shutdown");
}

#[test]
fn a_client_cannot_record_book_or_favorite_interactions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(EngineConfig::new(dir.path())).expect("open");
    let (client, _) = engine.register(&registration("carl")).expect("register");
    let make_expert = |name: &str| {
        let (user, _) = engine.register(&registration(name)).expect("register");
        engine
            .store()
            .users()
            .modify(user.id, |row| {
                row.profession = "Tax Advisor".to_owned();
                Ok(())
            })
            .expect("an expert")
    };
    let expert = make_expert("grace");
    // Only experts have profiles to act on.
    assert!(matches!(
        engine.record_interaction(expert.id, client.id, InteractionType::View),
        Err(Error::NotFound { .. })
    ));
    for kind in [
        InteractionType::Book,
        InteractionType::Favorite,
        InteractionType::Unfavorite,
        InteractionType::SearchImpression,
    ] {
        match engine.record_interaction(client.id, expert.id, kind) {
            Err(Error::Model(droply_models::Error::Invalid { field, reason })) => {
                assert_eq!(field, "interaction_type");
                assert!(reason.contains("view, click, share or message"), "{reason}");
            }
            other => panic!("{kind} recorded by a client: {other:?}"),
        }
    }
    // The kinds a client may record are recorded once a day each.
    for kind in CLIENT_INTERACTIONS {
        let (first, created) = engine
            .record_interaction(client.id, expert.id, kind)
            .expect("record");
        assert!(created, "{kind}");
        let (again, created) = engine
            .record_interaction(client.id, expert.id, kind)
            .expect("repeat");
        assert!(!created, "{kind}");
        assert_eq!(again.id, first.id);
    }
    assert_eq!(
        engine.store().count::<UserInteraction>(),
        CLIENT_INTERACTIONS.len()
    );
    // Another target is another interaction.
    let other = make_expert("hana");
    let (_, created) = engine
        .record_interaction(client.id, other.id, InteractionType::View)
        .expect("record");
    assert!(created);
}
