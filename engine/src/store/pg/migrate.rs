//! The PostgreSQL schema: versioned SQL files in `engine/migrations/postgres`,
//! compiled into the binary and applied in order when a store opens. Each
//! applied version is recorded in `schema_migrations`; nodes starting at the
//! same time take turns on an advisory lock, so each file runs once. A
//! version whose change needs the engine's own rules (version 6: email keys;
//! version 10: the payments sweep's lists, keyed as the engine keys them;
//! version 13: the connected Stripe accounts' keys)
//! has a Rust step, run after its file in the same transaction.

use droply_models::{Email, PayoutStatus, Timestamp};
use postgres::{Client, Transaction};

use super::super::tree_id::IndexName;
use super::super::txn::index_key;
use crate::payments::{IntentCancel, PaymentRefund, payment_call_entries, payout_call_entry};
use crate::{Error, Result};

/// A step in Rust that completes a migration's SQL.
type Step = fn(&mut Transaction<'_>) -> Result<()>;

/// Every migration, in version order.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        include_str!("../../../migrations/postgres/0001_store.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/postgres/0002_shared_files.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/postgres/0003_columns.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/postgres/0004_referral_earnings.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/postgres/0005_dropin_seats.sql"),
    ),
    (
        6,
        include_str!("../../../migrations/postgres/0006_email_keys.sql"),
    ),
    (
        7,
        include_str!("../../../migrations/postgres/0007_email_index.sql"),
    ),
    (
        8,
        include_str!("../../../migrations/postgres/0008_payment_intent_cancel.sql"),
    ),
    (
        9,
        include_str!("../../../migrations/postgres/0009_calendar_revocations.sql"),
    ),
    (
        10,
        include_str!("../../../migrations/postgres/0010_payment_sweep_lists.sql"),
    ),
    (
        11,
        include_str!("../../../migrations/postgres/0011_throttle_and_view_counts.sql"),
    ),
    (
        12,
        include_str!("../../../migrations/postgres/0012_dropin_pass_sign_in.sql"),
    ),
    (
        13,
        include_str!("../../../migrations/postgres/0013_stripe_account_keys.sql"),
    ),
    (
        14,
        include_str!("../../../migrations/postgres/0014_seated_participants.sql"),
    ),
    (
        15,
        include_str!("../../../migrations/postgres/0015_payout_idempotency.sql"),
    ),
];

/// The Rust steps, by the version they complete.
const STEPS: &[(i32, Step)] = &[
    (6, rekey_emails),
    (10, list_sweep_work),
    (13, key_stripe_accounts),
];

/// The advisory lock migrations run under.
const MIGRATION_LOCK: i64 = 0x6472_6f70_6c79_0001;

/// The latest schema version this build knows.
pub(crate) const LATEST: i32 = 15;

/// Applies every migration the database has not seen; returns the version it is at.
pub(crate) fn run(client: &mut Client) -> Result<i32> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
           version integer PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    let applied: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )?
        .get(0);
    if applied > LATEST {
        return Err(crate::Error::SchemaTooNew {
            found: u32::try_from(applied).unwrap_or(u32::MAX),
            supported: u32::try_from(LATEST).unwrap_or(0),
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > applied) {
        tracing::info!(version, "applying PostgreSQL migration");
        tx.batch_execute(sql)?;
        for (_, step) in STEPS.iter().filter(|(of, _)| of == version) {
            step(&mut tx)?;
        }
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )?;
    }
    tx.commit()?;
    Ok(LATEST)
}

/// Moves each email key stored under another spelling than its address's
/// now (`crate::records::email_rekeys`).
fn rekey_emails(tx: &mut Transaction<'_>) -> Result<()> {
    let rows = tx.query(
        "SELECT k.id, k.key, u.email FROM uniq_email AS k JOIN \"user\" AS u ON u.id = k.id",
        &[],
    )?;
    let mut held = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.get(0);
        let email = Email::parse(row.get::<_, &str>(2))?;
        held.push((id.cast_unsigned(), row.get::<_, Vec<u8>>(1), email));
    }
    for rekey in crate::records::email_rekeys(&held) {
        tx.execute("DELETE FROM uniq_email WHERE key = $1", &[&rekey.old])?;
        tx.execute(
            "INSERT INTO uniq_email (key, id) VALUES ($1, $2)",
            &[&rekey.new, &rekey.user.cast_signed()],
        )?;
    }
    Ok(())
}

/// Keys each user's connected Stripe account to them
/// (`crate::records::stripe_account_holders`: where two users hold one, the
/// first keeps it and the others are logged). Only the column the key
/// depends on is read.
fn key_stripe_accounts(tx: &mut Transaction<'_>) -> Result<()> {
    let rows = tx.query(
        "SELECT id, stripe_account_id FROM \"user\"
         WHERE stripe_account_id IS NOT NULL ORDER BY id",
        &[],
    )?;
    let held: Vec<(u64, String)> = rows
        .iter()
        .map(|row| {
            (
                row.get::<_, i64>(0).cast_unsigned(),
                row.get::<_, String>(1),
            )
        })
        .collect();
    for (key, user) in crate::records::stripe_account_holders(&held) {
        tx.execute(
            "INSERT INTO uniq_stripe_account (key, id) VALUES ($1, $2)",
            &[&key, &user.cast_signed()],
        )?;
    }
    Ok(())
}

/// Enters the payments owing Stripe a call and the payouts not sent into
/// the payments sweep's lists (`crate::payments::due_calls`), with the
/// keys the engine writes. Only the columns the lists depend on are read,
/// so columns added to these tables later cannot trouble it.
fn list_sweep_work(tx: &mut Transaction<'_>) -> Result<()> {
    let unreadable = |what: &str, err: serde_json::Error| Error::Corrupt(format!("{what}: {err}"));
    let payments = tx.query(
        r#"SELECT id, intent_cancel, intent_id IS NOT NULL, refunds::text FROM payment
           WHERE intent_cancel = 'Requested' OR refunds @> '[{"state": "Requested"}]'"#,
        &[],
    )?;
    for row in payments {
        let id: i64 = row.get(0);
        let cancel: IntentCancel = serde_json::from_value(serde_json::Value::String(row.get(1)))
            .map_err(|err| unreadable("a payment's intent_cancel", err))?;
        let refunds: Vec<PaymentRefund> = serde_json::from_str(row.get::<_, &str>(3))
            .map_err(|err| unreadable("a payment's refunds", err))?;
        for entry in payment_call_entries(cancel, row.get(2), &refunds) {
            enter(tx, entry.index, &entry.prefix, id)?;
        }
    }
    let payouts = tx.query(
        "SELECT id, status, to_jsonb(created_at)::text FROM payout WHERE status = 'pending'",
        &[],
    )?;
    for row in payouts {
        let id: i64 = row.get(0);
        let status: PayoutStatus = serde_json::from_value(serde_json::Value::String(row.get(1)))
            .map_err(|err| unreadable("a payout's status", err))?;
        let created_at: Timestamp = serde_json::from_str(row.get::<_, &str>(2))
            .map_err(|err| unreadable("a payout's created_at", err))?;
        if let Some(entry) = payout_call_entry(status, created_at) {
            enter(tx, entry.index, &entry.prefix, id)?;
        }
    }
    Ok(())
}

/// Writes the entry of row `id` under `prefix` into `index`'s table.
fn enter(tx: &mut Transaction<'_>, index: IndexName, prefix: &[u8], id: i64) -> Result<()> {
    let key = index_key(prefix, id.cast_unsigned());
    tx.execute(
        &format!(
            "INSERT INTO \"{}\" (key, id) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            index.name().replace('/', "_")
        ),
        &[&key, &id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use droply_models::Email;

    use crate::Store;

    /// SQL that takes a database at version 15 back to version 14's shape:
    /// the payout requests' idempotency keys, dropped.
    const UNDO_VERSION_15: &str = "DROP TABLE uniq_payout_idempotency_key, payout_idempotency;
         DELETE FROM entity_rows WHERE kind = 'payout_idempotency';";

    /// SQL that takes a database at version 14 back to version 13's shape
    /// (after [`UNDO_VERSION_15`]):
    /// the index of seated drop-in participants, dropped.
    const UNDO_VERSION_14: &str = "DROP TABLE idx_seated_participants;";

    /// SQL that takes a database at version 13 back to version 12's shape
    /// (after [`UNDO_VERSION_14`]):
    /// the unique key of connected Stripe accounts, dropped.
    const UNDO_VERSION_13: &str = "DROP TABLE uniq_stripe_account;";

    /// SQL that takes a database at version 12 back to version 11's shape
    /// (after [`UNDO_VERSION_13`]):
    /// the index of drop-in participants by user and the sign-in a pass
    /// names, dropped.
    const UNDO_VERSION_12: &str = "DROP TABLE idx_participants_by_user;
         ALTER TABLE dropin_pass DROP COLUMN signed_in_with;";

    /// SQL that takes a database at version 11 back to version 9's shape
    /// (after [`UNDO_VERSION_12`]): version 11's sign-in throttle and
    /// counted views, and version 10's lists of what the payments sweep
    /// owes, dropped.
    const UNDO_VERSIONS_10_AND_11: &str =
        "DROP TABLE idx_login_attempts_by_expiry, uniq_login_pair, login_attempts,
           idx_counted_views_by_expiry, uniq_counted_view, counted_view;
         DELETE FROM entity_rows WHERE kind IN ('login_attempts', 'counted_view');
         DROP TABLE idx_payment_calls_due;
         DROP TABLE idx_pending_payouts;";

    /// Takes the database `client` is connected to back to `version`: runs
    /// `undo` (SQL that drops what the later versions added), then forgets
    /// that they were applied.
    fn back_to_version(client: &mut postgres::Client, version: u32, undo: &str) {
        client
            .batch_execute(&format!(
                "{undo}\n DELETE FROM schema_migrations WHERE version > {version};"
            ))
            .unwrap_or_else(|e| panic!("back to version {version}: {e}"));
    }

    /// Regression: an address stored before emails were kept in NFKC stayed
    /// keyed by the spelling typed then, so its owner could not sign in.
    #[test]
    fn version_6_keys_each_email_by_its_unicode_form() {
        let url = droply_test_support::postgres::fresh_database();
        let address = Email::parse("jos\u{e9}@example.com").expect("email");
        let store = Store::open_postgres(&url).expect("open");
        let mut jose = crate::test_rows::user("jose", "");
        jose.email = address.clone();
        let jose = store.users().create(jose).expect("jose").id;
        // What version 5 holds for an address typed with a combining accent.
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        client
            .execute(
                "UPDATE uniq_email SET key = $1 WHERE id = $2",
                &[
                    &"jose\u{301}@example.com".as_bytes(),
                    &i64::try_from(jose.get()).expect("id"),
                ],
            )
            .expect("old key");
        // Back to version 5's shape: what versions 7 to 15 changed undone.
        let undo = format!(
            "{UNDO_VERSION_15}\n{UNDO_VERSION_14}
             {UNDO_VERSION_13}
             {UNDO_VERSION_12}
             {UNDO_VERSIONS_10_AND_11}
             DROP TABLE calendar_revocation;
             DELETE FROM entity_rows WHERE kind = 'calendar_revocation';
             ALTER TABLE payment DROP COLUMN intent_cancel;
             DROP INDEX user_email_key;
             CREATE UNIQUE INDEX user_email_key ON \"user\" (lower(email));"
        );
        back_to_version(&mut client, 5, &undo);
        assert_eq!(store.users().by_email(&address).expect("lookup"), None);
        drop(store);
        let store = Store::open_postgres(&url).expect("open at version 5");
        let found = store.users().by_email(&address).expect("lookup");
        assert_eq!(found.map(|u| u.id), Some(jose));
        let report = store.verify_integrity().expect("verify");
        assert!(report.is_consistent(), "{:?}", report.problems);
    }

    /// A database from before the payments sweep's lists gets them filled
    /// with the rows already owing Stripe a call, keyed as the engine keys
    /// them (the integrity check compares every key), and nothing settled.
    #[test]
    fn version_10_lists_what_the_payments_sweep_owes() {
        use crate::payments::{OwingRows, write_owing_rows};

        let url = droply_test_support::postgres::fresh_database();
        let store = Store::open_postgres(&url).expect("open");
        write_owing_rows(&store, None, 20);
        // Back to version 9's shape: neither list yet (nor version 11's tables).
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let undo = format!(
            "{UNDO_VERSION_15}\n{UNDO_VERSION_14}\n{UNDO_VERSION_13}\n{UNDO_VERSION_12}\n{UNDO_VERSIONS_10_AND_11}"
        );
        back_to_version(&mut client, 9, &undo);
        drop(store);
        let store = Store::open_postgres(&url).expect("open at version 9");
        OwingRows::assert_listed(&store);
        let report = store.verify_integrity().expect("verify");
        assert!(report.is_consistent(), "{:?}", report.problems);
    }

    /// Regression: participant rows were found by reading every row of a
    /// drop-in (or of all of them); a database from before the index by
    /// user gets it filled with the rows it already holds (the integrity
    /// check compares every key).
    #[test]
    fn version_12_indexes_drop_in_participants_by_user() {
        use droply_models::{DropinParticipant, DropinParticipantId, DropinSessionId, Timestamp};

        let url = droply_test_support::postgres::fresh_database();
        let store = Store::open_postgres(&url).expect("open");
        let host = store
            .users()
            .create(crate::test_rows::user("hana", "Tax advisor"))
            .expect("hana");
        let new = crate::dropins::NewDropin {
            topic: "Ask me".to_owned(),
            description: String::new(),
            max_participants: 10,
            is_anonymous: true,
            starts_at: None,
            duration_minutes: 60,
        };
        let session: DropinSessionId = crate::dropins::open_dropin(&store, host.id, &new)
            .expect("open")
            .id;
        let ann = store
            .users()
            .create(crate::test_rows::user("ann", ""))
            .expect("ann")
            .id;
        let row = store
            .write(|txn| {
                txn.create(DropinParticipant {
                    id: DropinParticipantId::new(0),
                    session_id: session,
                    user_id: Some(ann),
                    anonymous_name: None,
                    joined_at: Timestamp::now(),
                    left_at: None,
                    is_active: true,
                })
            })
            .expect("ann joins")
            .id;
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let undo =
            format!("{UNDO_VERSION_15}\n{UNDO_VERSION_14}\n{UNDO_VERSION_13}\n{UNDO_VERSION_12}");
        back_to_version(&mut client, 11, &undo);
        drop(store);
        let store = Store::open_postgres(&url).expect("open at version 11");
        let found: Vec<DropinParticipant> = store
            .write(|txn| {
                txn.list_index::<DropinParticipant>(
                    crate::store::IndexName::ParticipantsByUser,
                    &ann.to_be_bytes(),
                )
            })
            .expect("by user");
        assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![row]);
        let report = store.verify_integrity().expect("verify");
        assert!(report.is_consistent(), "{:?}", report.problems);
    }

    /// Regression: a bank payout's event found its account's holder by
    /// reading every expert; a database from before the unique key of
    /// connected accounts gets it filled with the accounts its users hold,
    /// an expert's and a former expert's alike, and where two users hold
    /// one (which Stripe never makes), the first keeps it and the upgrade
    /// still succeeds.
    #[test]
    fn version_13_keys_each_connected_account_to_its_holder() {
        use crate::store::UniqueName;

        let url = droply_test_support::postgres::fresh_database();
        let store = Store::open_postgres(&url).expect("open");
        let mut ann = crate::test_rows::user("ann", "Tax advisor");
        ann.stripe_account_id = Some("acct_ann".to_owned());
        let ann = store.users().create(ann).expect("ann").id;
        let mut fay = crate::test_rows::user("fay", "");
        fay.stripe_account_id = Some("acct_fay".to_owned());
        let fay = store.users().create(fay).expect("fay").id;
        let bob = store
            .users()
            .create(crate::test_rows::user("bob", ""))
            .expect("bob")
            .id;
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        back_to_version(
            &mut client,
            12,
            &format!("{UNDO_VERSION_15}\n{UNDO_VERSION_14}\n{UNDO_VERSION_13}"),
        );
        // Version 12 did not keep bob from holding ann's account.
        client
            .execute(
                "UPDATE \"user\" SET stripe_account_id = 'acct_ann' WHERE id = $1",
                &[&i64::try_from(bob.get()).expect("id")],
            )
            .expect("bob holds ann's account");
        drop(store);
        let store = Store::open_postgres(&url).expect("open at version 12");
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

    /// Regression: a full drop-in's take-back read every participant row
    /// the session ever had; a database from before the index of seated
    /// participants gets it filled with those still in their room and none
    /// who left (the integrity check compares every key).
    #[test]
    fn version_14_indexes_the_seated_drop_in_participants() {
        use droply_models::{DropinParticipant, DropinParticipantId, DropinSessionId, Timestamp};

        let url = droply_test_support::postgres::fresh_database();
        let store = Store::open_postgres(&url).expect("open");
        let host = store
            .users()
            .create(crate::test_rows::user("hana", "Tax advisor"))
            .expect("hana");
        let new = crate::dropins::NewDropin {
            topic: "Ask me".to_owned(),
            description: String::new(),
            max_participants: 10,
            is_anonymous: true,
            starts_at: None,
            duration_minutes: 60,
        };
        let session: DropinSessionId = crate::dropins::open_dropin(&store, host.id, &new)
            .expect("open")
            .id;
        let guest = |is_active: bool| DropinParticipant {
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
                txn.create(guest(false))?;
                txn.create(guest(true))
            })
            .expect("one guest left, one seated")
            .id;
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        back_to_version(
            &mut client,
            13,
            &format!("{UNDO_VERSION_15}\n{UNDO_VERSION_14}"),
        );
        drop(store);
        let store = Store::open_postgres(&url).expect("open at version 13");
        let found: Vec<DropinParticipantId> = store
            .list_index::<DropinParticipant>(
                crate::store::IndexName::SeatedParticipants,
                &session.to_be_bytes(),
                &crate::store::PageRequest::first(10),
            )
            .expect("seated")
            .items
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(found.len(), 2, "the host and the seated guest: {found:?}");
        assert!(found.contains(&seated));
        let report = store.verify_integrity().expect("verify");
        assert!(report.is_consistent(), "{:?}", report.problems);
    }
}
