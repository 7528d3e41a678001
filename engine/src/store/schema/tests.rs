//! Tests of `schema`.

use droply_models::UserId;

use super::*;
use crate::store::PageRequest;
use crate::test_rows::user;

#[test]
fn opening_a_schema_1_store_indexes_its_experts_sessions_and_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let expert = {
        let store = Store::open(&path).expect("open");
        let expert = store
            .users()
            .create(user("ann", "Tax Advisor"))
            .expect("ann");
        let bob = store.users().create(user("bob", "")).expect("bob");
        let now = droply_models::Timestamp::now();
        store
            .write(|txn| {
                txn.create(AuthSession {
                    id: crate::accounts::AuthSessionId::new(0),
                    user_id: bob.id,
                    token_hash: "0".repeat(64),
                    created_at: now,
                    expires_at: now.plus_days(1),
                })
            })
            .expect("a session");
        let mut hold = crate::test_rows::booking(bob.id, expert.id);
        hold.status = droply_models::BookingStatus::PendingPayment;
        hold.payment_status = droply_models::PaymentStatus::Pending;
        let hold = store.bookings().create(hold).expect("an unpaid hold");
        assert!(crate::availability::awaits_payment(&hold));
        // What a schema-1 store looks like: none of the experts, the
        // sessions-by-user and the unpaid-holds indexes yet.
        for index in [
            IndexName::Experts,
            IndexName::SessionsByUser,
            IndexName::UnpaidHolds,
        ] {
            store
                .sled_tree(TreeId::Index(index))
                .clear()
                .expect("clear");
        }
        store
            .sled_tree(TreeId::Meta)
            .insert(META_SCHEMA, &1u32.to_be_bytes())
            .expect("schema 1");
        store.flush().expect("flush");
        assert!(
            store
                .users()
                .experts(&PageRequest::first(10))
                .expect("experts")
                .items
                .is_empty()
        );
        expert
    };
    let store = Store::open(&path).expect("reopen");
    assert_eq!(
        store.schema_version().expect("schema"),
        Some(CURRENT_SCHEMA)
    );
    let experts = store
        .users()
        .experts(&PageRequest::first(10))
        .expect("experts");
    let ids: Vec<UserId> = experts.items.iter().map(|u| u.id).collect();
    assert_eq!(ids, [expert.id]);
    let holds = store
        .bookings()
        .unpaid_holds(&PageRequest::first(10))
        .expect("holds");
    assert_eq!(holds.items.len(), 1, "the hold was indexed");
    let report = store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

#[test]
fn opening_a_schema_5_store_queues_rooms_for_confirmed_bookings_ahead() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let (ahead, cancelled) = {
        let store = Store::open(&path).expect("open");
        let ann = store
            .users()
            .create(user("ann", "Tax Advisor"))
            .expect("ann");
        let bob = store.users().create(user("bob", "")).expect("bob");
        // Ahead of the real clock, which the migration reads.
        let mut confirmed = crate::test_rows::booking_ahead(bob.id, ann.id);
        confirmed.status = droply_models::BookingStatus::Confirmed;
        let ahead = store.bookings().create(confirmed.clone()).expect("ahead");
        confirmed.status = droply_models::BookingStatus::Cancelled;
        confirmed.start_time = confirmed.start_time.plus_days(1);
        confirmed.end_time = confirmed.end_time.plus_days(1);
        let cancelled = store.bookings().create(confirmed).expect("cancelled");
        store
            .sled_tree(TreeId::Meta)
            .insert(META_SCHEMA, &5u32.to_be_bytes())
            .expect("schema 5");
        store.flush().expect("flush");
        (ahead, cancelled)
    };
    let store = Store::open(&path).expect("reopen");
    let rooms: Vec<crate::video::VideoRoom> = store
        .iter::<crate::video::VideoRoom>()
        .collect::<Result<_>>()
        .expect("rooms");
    assert_eq!(rooms.len(), 1, "{rooms:?}");
    assert_eq!(rooms[0].booking_id, ahead.id);
    assert_ne!(rooms[0].booking_id, cancelled.id);
    assert_eq!(rooms[0].state, crate::video::RoomState::Pending);
    assert!(store.verify_integrity().expect("verify").is_consistent());
}

#[test]
fn opening_a_schema_6_store_counts_the_referral_rewards_already_credited() {
    use crate::payments::ledger::{LedgerEntry, LedgerEntryId, LedgerKind};
    use droply_models::{Money, Timestamp};

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let rita = {
        let store = Store::open(&path).expect("open");
        let rita = store.users().create(user("rita", "")).expect("rita");
        let now = Timestamp::now();
        store
            .write(|txn| {
                for (account, kind, minor) in [
                    (Some(rita.id), LedgerKind::ReferralReward, 700),
                    (None, LedgerKind::ReferralCost, -700),
                    (Some(rita.id), LedgerKind::ReferralReward, -25),
                    (None, LedgerKind::ReferralCost, 25),
                ] {
                    txn.create(LedgerEntry {
                        id: LedgerEntryId::new(0),
                        account,
                        kind,
                        amount: Money::new(minor, rita.currency),
                        payment_id: None,
                        booking_id: None,
                        payout_id: None,
                        available_at: now,
                        created_at: now,
                    })?;
                }
                Ok(())
            })
            .expect("rows of a store before the cache");
        store
            .sled_tree(TreeId::Meta)
            .insert(META_SCHEMA, &6u32.to_be_bytes())
            .expect("schema 6");
        store.flush().expect("flush");
        rita.id
    };
    let store = Store::open(&path).expect("reopen");
    let row: User = store.require(rita).expect("rita");
    assert_eq!(row.total_referral_earnings.amount_minor, 675);
    assert_eq!(
        store.schema_version().expect("version"),
        Some(CURRENT_SCHEMA)
    );
}

#[test]
fn opening_a_schema_8_store_lists_what_the_payments_sweep_owes() {
    use crate::payments::{OwingRows, write_owing_rows};

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    {
        let store = Store::open(&path).expect("open");
        write_owing_rows(&store, None, 20);
        // What a schema-8 store holds: neither list yet.
        for index in [IndexName::PaymentCallsDue, IndexName::PendingPayouts] {
            store
                .sled_tree(TreeId::Index(index))
                .clear()
                .expect("clear");
            assert_eq!(store.count_index(index, &[]).expect("count"), 0);
        }
        store
            .sled_tree(TreeId::Meta)
            .insert(META_SCHEMA, &8u32.to_be_bytes())
            .expect("schema 8");
        store.flush().expect("flush");
    }
    let store = Store::open(&path).expect("reopen");
    assert_eq!(
        store.schema_version().expect("version"),
        Some(CURRENT_SCHEMA)
    );
    OwingRows::assert_listed(&store);
    let report = store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

/// Regression: an address stored before emails were kept in NFKC stayed
/// keyed by the spelling typed then, so its owner could not sign in.
#[test]
fn opening_a_schema_7_store_keys_each_email_by_its_unicode_form() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let address = droply_models::Email::parse("jos\u{e9}@example.com").expect("email");
    let jose = {
        let store = Store::open(&path).expect("open");
        let mut jose = user("jose", "");
        jose.email = address.clone();
        let jose = store.users().create(jose).expect("jose");
        // What schema 7 holds for an address typed with a combining
        // accent: the key in that spelling.
        let keys = store.sled_tree(TreeId::Unique(UniqueName::Email));
        keys.remove(address.normalized().as_bytes())
            .expect("remove");
        keys.insert("jose\u{301}@example.com", &jose.id.get().to_be_bytes())
            .expect("old key");
        store
            .sled_tree(TreeId::Meta)
            .insert(META_SCHEMA, &7u32.to_be_bytes())
            .expect("schema 7");
        store.flush().expect("flush");
        assert_eq!(store.users().by_email(&address).expect("lookup"), None);
        jose.id
    };
    let store = Store::open(&path).expect("reopen");
    let found = store.users().by_email(&address).expect("lookup");
    assert_eq!(found.map(|u| u.id), Some(jose));
    let report = store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

/// Regression: participant rows were found by reading every row of a
/// drop-in (or of all of them); a schema-9 store has no index by user,
/// so opening it must enter the rows it already holds.
#[test]
fn opening_a_schema_9_store_indexes_its_drop_in_participants_by_user() {
    use droply_models::{DropinParticipant, DropinParticipantId, DropinSessionId, Timestamp};

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let (ann, row) = {
        let store = Store::open(&path).expect("open");
        let ann = store.users().create(user("ann", "")).expect("ann").id;
        let participant = |user_id: Option<UserId>| DropinParticipant {
            id: DropinParticipantId::new(0),
            session_id: DropinSessionId::new(7),
            user_id,
            anonymous_name: user_id.is_none().then(|| "Guest".to_owned()),
            joined_at: Timestamp::now(),
            left_at: None,
            is_active: true,
        };
        let row = store
            .write(|txn| {
                txn.create(participant(None))?;
                txn.create(participant(Some(ann)))
            })
            .expect("rows")
            .id;
        // What a schema-9 store holds: no index by user.
        store
            .sled_tree(TreeId::Index(IndexName::ParticipantsByUser))
            .clear()
            .expect("clear");
        assert_eq!(
            store
                .count_index(IndexName::ParticipantsByUser, &ann.to_be_bytes())
                .expect("count"),
            0
        );
        store
            .sled_tree(TreeId::Meta)
            .insert(META_SCHEMA, &9u32.to_be_bytes())
            .expect("schema 9");
        store.flush().expect("flush");
        (ann, row)
    };
    let store = Store::open(&path).expect("reopen");
    assert_eq!(
        store.schema_version().expect("version"),
        Some(CURRENT_SCHEMA)
    );
    let found: Vec<DropinParticipant> = store
        .write(|txn| {
            txn.list_index::<DropinParticipant>(IndexName::ParticipantsByUser, &ann.to_be_bytes())
        })
        .expect("by user");
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![row]);
}

/// Regression: a full drop-in's take-back read every participant row
/// the session ever had; a schema-11 store has no index of the seated
/// ones, so opening it must enter the participants still in their
/// room, and none who left.
#[test]
fn opening_a_schema_11_store_indexes_the_seated_drop_in_participants() {
    use droply_models::{DropinParticipant, DropinParticipantId, DropinSessionId, Timestamp};

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let session = DropinSessionId::new(7);
    let seated = {
        let store = Store::open(&path).expect("open");
        let participant = |is_active: bool| DropinParticipant {
            id: DropinParticipantId::new(0),
            session_id: session,
            user_id: None,
            anonymous_name: Some("Guest".to_owned()),
            joined_at: Timestamp::now(),
            left_at: (!is_active).then(Timestamp::now),
            is_active,
        };
        let seated = store
            .write(|txn| {
                txn.create(participant(false))?;
                let seated = txn.create(participant(true))?;
                txn.create(participant(false))?;
                Ok(seated)
            })
            .expect("rows")
            .id;
        // What a schema-11 store holds: no index of the seated.
        store
            .sled_tree(TreeId::Index(IndexName::SeatedParticipants))
            .clear()
            .expect("clear");
        assert_eq!(
            store
                .count_index(IndexName::SeatedParticipants, &session.to_be_bytes())
                .expect("count"),
            0
        );
        store
            .sled_tree(TreeId::Meta)
            .insert(META_SCHEMA, &11u32.to_be_bytes())
            .expect("schema 11");
        store.flush().expect("flush");
        seated
    };
    let store = Store::open(&path).expect("reopen");
    assert_eq!(
        store.schema_version().expect("version"),
        Some(CURRENT_SCHEMA)
    );
    let found = store
        .list_index::<DropinParticipant>(
            IndexName::SeatedParticipants,
            &session.to_be_bytes(),
            &PageRequest::first(10),
        )
        .expect("seated");
    assert_eq!(
        found.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![seated]
    );
}

/// Regression: a bank payout's event found its account's holder by
/// reading every expert (and missed a holder who was no longer one); a
/// schema-10 store has no key of connected accounts, so opening it must
/// key the accounts its users hold, and where two users hold one (which
/// Stripe never makes) keep the first's rather than refuse to open.
#[test]
fn opening_a_schema_10_store_keys_each_connected_account_to_its_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let (ann, fay) = {
        let store = Store::open(&path).expect("open");
        let mut ann = user("ann", "Tax Advisor");
        ann.stripe_account_id = Some("acct_ann".to_owned());
        let ann = store.users().create(ann).expect("ann");
        // A former expert: no profession, the account still theirs.
        let mut fay = user("fay", "");
        fay.stripe_account_id = Some("acct_fay".to_owned());
        let fay = store.users().create(fay).expect("fay");
        let mut bob = store.users().create(user("bob", "")).expect("bob");
        // What a schema-10 store can hold: no key of connected
        // accounts, and nothing that kept bob from holding ann's.
        bob.stripe_account_id = ann.stripe_account_id.clone();
        store
            .sled_tree(User::KIND.tree())
            .insert(bob.id.get().to_be_bytes(), bob.encode().expect("encode"))
            .expect("bob's row");
        store
            .sled_tree(TreeId::Unique(UniqueName::StripeAccount))
            .clear()
            .expect("clear");
        store
            .sled_tree(TreeId::Meta)
            .insert(META_SCHEMA, &10u32.to_be_bytes())
            .expect("schema 10");
        store.flush().expect("flush");
        (ann.id, fay.id)
    };
    let store = Store::open(&path).expect("reopen");
    assert_eq!(
        store.schema_version().expect("version"),
        Some(CURRENT_SCHEMA)
    );
    for (account, holder) in [("acct_ann", ann), ("acct_fay", fay)] {
        assert_eq!(
            store
                .lookup_unique(UniqueName::StripeAccount, account.as_bytes())
                .expect("lookup"),
            Some(holder.get()),
            "{account}"
        );
    }
    let report = store.verify_integrity().expect("verify");
    assert!(
        !report.problems.is_empty()
            && report
                .problems
                .iter()
                .all(|problem| problem.starts_with("stripe_account ")),
        "only the shared account is reported: {:?}",
        report.problems
    );
}
