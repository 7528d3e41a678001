//! Sweeping expired sign-in sessions: every expired session goes, across
//! several batches, with its token-hash key; live sessions stay and still
//! authenticate.

use droply_engine::Error;
use droply_engine::accounts::{
    AuthSession, AuthSessionId, SWEEP_BATCH, authenticate, sweep_expired_sessions,
};
use droply_engine::store::UniqueName;
use droply_models::{Timestamp, UserId};
use sha2::{Digest, Sha256};

use crate::fixtures::*;

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn session(user: UserId, token: &str, expires_at: Timestamp) -> AuthSession {
    AuthSession {
        id: AuthSessionId::new(0),
        user_id: user,
        token_hash: token_hash(token),
        created_at: expires_at.plus_days(-30),
        expires_at,
    }
}

fn sweeping_deletes_expired_sessions_and_keeps_live_ones(place: &StorePlace) {
    let store = place.open();
    let (client, expert) = two_users(&store);
    let now = Timestamp::now();
    let expired = 2 * SWEEP_BATCH + 3;
    store
        .write(|txn| {
            for i in 0..expired {
                let ended = now.plus_minutes(-(i as i64) - 1);
                txn.create(session(client.id, &format!("expired-{i}"), ended))?;
            }
            // Ends exactly at `now`: no longer live, so swept.
            txn.create(session(expert.id, "ends-now", now))?;
            txn.create(session(client.id, "live-client", now.plus_days(1)))?;
            txn.create(session(expert.id, "live-expert", now.plus_minutes(1)))?;
            Ok(())
        })
        .expect("sessions");
    assert_eq!(store.count::<AuthSession>(), expired + 3);

    let deleted = sweep_expired_sessions(&store, now).expect("sweep");
    assert_eq!(deleted, expired + 1);
    assert_eq!(store.count::<AuthSession>(), 2);
    for token in ["expired-0", "expired-500", "expired-1002", "ends-now"] {
        let key = token_hash(token);
        assert_eq!(
            store
                .lookup_unique(UniqueName::TokenHash, key.as_bytes())
                .expect("lookup"),
            None,
            "{token} still has its key"
        );
        assert!(matches!(
            authenticate(&store, token),
            Err(Error::Unauthorized)
        ));
    }
    assert_eq!(
        authenticate(&store, "live-client").expect("live"),
        client.id
    );
    assert_eq!(
        authenticate(&store, "live-expert").expect("live"),
        expert.id
    );

    assert_eq!(sweep_expired_sessions(&store, now).expect("again"), 0);
    assert!(store.verify_integrity().expect("check").is_consistent());
}

fn sweeping_an_empty_store_deletes_nothing(place: &StorePlace) {
    let store = place.open();
    assert_eq!(
        sweep_expired_sessions(&store, Timestamp::now()).expect("sweep"),
        0
    );
}

droply_test_support::on_both_backends!(
    sweeping_deletes_expired_sessions_and_keeps_live_ones,
    sweeping_an_empty_store_deletes_nothing,
);
