//! The PostgreSQL schema: versioned SQL files in `engine/migrations/postgres`,
//! compiled into the binary and applied in order when a store opens. Each
//! applied version is recorded in `schema_migrations`; nodes starting at the
//! same time take turns on an advisory lock, so each file runs once.

use postgres::Client;

use crate::Result;

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
];

/// The advisory lock migrations run under.
const MIGRATION_LOCK: i64 = 0x6472_6f70_6c79_0001;

/// The latest schema version this build knows.
pub(crate) const LATEST: i32 = 5;

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
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )?;
    }
    tx.commit()?;
    Ok(LATEST)
}
