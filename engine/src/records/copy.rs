//! Copying a whole store into another, empty one (`droply migrate`): sled
//! into PostgreSQL to move past one machine, or back. Every row keeps its id
//! (relations refer to ids) and is written with its index and unique
//! entries and a feed entry, in batches, entity by entity in
//! [`for_every_entity`]'s order so that rows never point ahead. Then every
//! row is read back from the copy and compared, byte for byte in the
//! engine's codec, with the original.
//!
//! Four metadata values move with the rows, each through the function
//! that owns its key: the instance key, so Stripe keeps recognising this
//! store's objects; the store's secret key, before any row is written, in
//! place of any key the target made of its own, so the sign-in throttle's
//! and the counted views' rows, keyed under it, still match in the copy;
//! and, once the rows are in, the import marker as it is, so an import cut
//! short before the copy resumes against the copy, and the record of
//! completed imports, so a file imported before is recognised by the copy.

use super::{EntityVisitor, for_every_entity};
use crate::import::{ImportProgress, carry_completed_imports, carry_import_marker};
use crate::store::{Record, RecordId};
use crate::{Error, Result, Store};

/// Rows written per transaction.
const BATCH: usize = 500;

/// What a copy did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Rows copied, per entity, in copy order.
    pub rows: Vec<(&'static str, usize)>,
    /// Rows read back from the copy and found equal to the original.
    pub checked: usize,
    /// The source's import marker, carried into the copy as it was: an
    /// unfinished one is finished by running the same `droply import`
    /// against the copy. `None` when the source had none.
    pub import: Option<ImportProgress>,
}

impl CopyReport {
    /// Rows copied, all entities together.
    pub fn total(&self) -> usize {
        self.rows.iter().map(|(_, rows)| rows).sum()
    }
}

/// Copies every row of `from` into `to`, which must hold none, then checks
/// the copy row by row; `to` ends with `from`'s instance key, secret key and
/// import marker. Run it before `to` is served: a holder of `to` that read
/// its secret key before the copy keeps the key it read.
pub fn copy_store(from: &Store, to: &Store) -> Result<CopyReport> {
    let mut empty = Emptiness { store: to, rows: 0 };
    for_every_entity(&mut empty)?;
    if empty.rows > 0 {
        return Err(Error::Invalid(format!(
            "the target store already holds {} rows; copy into an empty one",
            empty.rows
        )));
    }
    to.adopt_instance_key(&from.instance_key()?)?;
    // Before any row: the throttle's and the views' rows are keyed under it.
    to.adopt_secret_key_of(from)?;
    let mut copy = Copy {
        from,
        to,
        report: CopyReport::default(),
    };
    for_every_entity(&mut copy)?;
    // After the rows: the marker counts rows the copy now holds.
    copy.report.import = carry_import_marker(from, to)?;
    carry_completed_imports(from, to)?;
    Ok(copy.report)
}

/// Counts the rows a store holds.
struct Emptiness<'s> {
    store: &'s Store,
    rows: usize,
}

impl EntityVisitor for Emptiness<'_> {
    fn visit<R: Record>(&mut self) -> Result<()> {
        self.rows += self.store.try_count::<R>()?;
        Ok(())
    }
}

/// Copies, then checks, one entity at a time.
struct Copy<'s> {
    from: &'s Store,
    to: &'s Store,
    report: CopyReport,
}

impl EntityVisitor for Copy<'_> {
    fn visit<R: Record>(&mut self) -> Result<()> {
        let mut batch: Vec<R> = Vec::with_capacity(BATCH);
        let mut copied = 0;
        for row in self.from.iter::<R>() {
            batch.push(row?);
            if batch.len() == BATCH {
                copied += write_batch(self.to, &mut batch)?;
            }
        }
        copied += write_batch(self.to, &mut batch)?;
        for row in self.from.iter::<R>() {
            let row = row?;
            let copy: Option<R> = self.to.get(row.id())?;
            let same = match copy {
                Some(copy) => copy.encode()? == row.encode()?,
                None => false,
            };
            if !same {
                return Err(Error::Corrupt(format!(
                    "{} {} differs in the copy",
                    R::KIND.name(),
                    row.id().raw()
                )));
            }
            self.report.checked += 1;
        }
        let in_copy = self.to.try_count::<R>()?;
        if in_copy != copied {
            return Err(Error::Corrupt(format!(
                "{} rows: {copied} copied, {in_copy} in the copy",
                R::KIND.name()
            )));
        }
        self.report.rows.push((R::KIND.name(), copied));
        Ok(())
    }
}

/// Writes `batch` (emptying it) in one transaction; returns how many rows.
fn write_batch<R: Record>(to: &Store, batch: &mut Vec<R>) -> Result<usize> {
    if batch.is_empty() {
        return Ok(0);
    }
    let rows = std::mem::take(batch);
    let count = rows.len();
    to.write(|txn| {
        for row in rows {
            txn.put(row)?;
        }
        Ok(())
    })?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use droply_models::{Content, ContentId, ContentType, Currency, Money, Timestamp, UserId};
    use droply_test_support::fixtures::full_user;

    use super::*;
    use crate::accounts::{LoginThrottle, LoginThrottleConfig};
    use crate::content::{NewContent, ViewCounter, Viewer, create};
    use crate::import::{
        BATCH_ROWS, ImportRow, already_imported, complete_import, import_lines, unfinished_import,
    };

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    const EMAIL: &str = "ann@example.com";

    /// An empty store that made a secret key of its own, as one does on
    /// first use (a node that served it, a sign-in that was forgotten).
    fn target_with_a_key_of_its_own() -> Store {
        let to = Store::open_temporary().expect("target");
        to.secret_key().expect("the target's own key");
        to
    }

    /// A hash under `store`'s secret key (a key itself is never shown).
    fn keyed(store: &Store) -> String {
        store
            .secret_key()
            .expect("key")
            .keyed_hash("copy test", &[b"probe"])
            .expect("hash")
    }

    /// A throttle over `store` that refuses a pair's second attempt.
    fn strict_throttle(store: &Store) -> LoginThrottle {
        let config = LoginThrottleConfig {
            max_failures: 1,
            ..LoginThrottleConfig::default()
        };
        LoginThrottle::new(config, store.clone())
    }

    /// Regression: the copy made a secret key of its own, so the rows keyed
    /// under the source's matched nothing in it.
    #[test]
    fn the_copy_ends_with_the_source_secret_key_not_its_own() {
        let from = Store::open_temporary().expect("source");
        let to = target_with_a_key_of_its_own();
        assert_ne!(keyed(&to), keyed(&from), "two stores, two keys");
        copy_store(&from, &to).expect("copy");
        assert_eq!(keyed(&to), keyed(&from));
    }

    /// Regression: a pair throttled in the source got fresh attempts in the
    /// copy, its row keyed under a key the copy did not have.
    #[test]
    fn a_sign_in_throttled_before_a_copy_stays_throttled_in_it() {
        let from = Store::open_temporary().expect("source");
        let _failed = strict_throttle(&from)
            .begin(Some(CLIENT), EMAIL)
            .expect("the first attempt");
        let to = target_with_a_key_of_its_own();
        let report = copy_store(&from, &to).expect("copy");
        assert_eq!(report.total(), 1, "the pair's row");
        let again = strict_throttle(&to).begin(Some(CLIENT), EMAIL);
        assert!(
            matches!(again, Err(Error::TooManyAttempts { .. })),
            "the copied attempt is not found: {again:?}"
        );
        let _other = strict_throttle(&to)
            .begin(Some(CLIENT), "bea@example.com")
            .expect("another pair has its attempts");
    }

    /// A guide of a creator, in `store`.
    fn a_guide(store: &Store) -> ContentId {
        store
            .write(|txn| {
                let ann = txn.create(crate::test_rows::user("ann", ""))?;
                let guide = NewContent {
                    title: "A guide".to_owned(),
                    description: String::new(),
                    content_type: ContentType::Document,
                    price: Money::zero(Currency::EUR),
                    category_id: None,
                };
                Ok(create(txn, ann.id, guide)?.id)
            })
            .expect("a guide")
    }

    /// Regression: a view counted in the source counted again in the copy,
    /// its row keyed under a key the copy did not have.
    #[test]
    fn a_view_counted_before_a_copy_is_not_counted_again_in_it() {
        let from = Store::open_temporary().expect("source");
        let guide = a_guide(&from);
        let noon = Timestamp::parse_rfc3339("2026-11-30T12:00:00Z").expect("noon");
        let viewer = Viewer::Address(CLIENT);
        let counted = ViewCounter::new(from.clone(), 100)
            .count(guide, viewer, noon)
            .expect("count");
        assert_eq!(counted.map(|row| row.views), Some(1));
        let to = target_with_a_key_of_its_own();
        copy_store(&from, &to).expect("copy");
        let again = ViewCounter::new(to.clone(), 100)
            .count(guide, viewer, noon.plus_minutes(60))
            .expect("count in the copy");
        assert!(again.is_none(), "counted twice: {again:?}");
        assert_eq!(to.require::<Content>(guide).expect("guide").views, 1);
    }

    /// An import file of `users` users, ids 1 up.
    fn import_file(users: u64) -> String {
        (1..=users)
            .map(|id| {
                let mut user = full_user(&format!("user{id:04}"));
                user.id = UserId::new(id);
                serde_json::to_string(&ImportRow::User(user)).expect("json")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Regression: the copy left the import marker behind, so an import cut
    /// short before the copy could not be taken up against the copy (its
    /// rerun failed on the rows already there).
    #[test]
    fn an_import_cut_short_before_a_copy_resumes_against_it() {
        let batch = BATCH_ROWS as u64;
        let text = import_file(batch + 1);
        let from = Store::open_temporary().expect("source");
        let broken = format!("{text}\n{{\"kind\": \"user\", \"row\": ");
        let broke = import_lines(&from, "rows.jsonl", broken.as_bytes(), |_| {})
            .expect_err("the last line is broken");
        assert!(matches!(broke, Error::Invalid(_)), "{broke}");
        let unfinished = unfinished_import(&from).expect("read").expect("unfinished");
        assert_eq!(unfinished.rows_done, batch);

        let to = target_with_a_key_of_its_own();
        let report = copy_store(&from, &to).expect("copy");
        assert_eq!(report.import.as_ref(), Some(&unfinished));
        assert_eq!(unfinished_import(&to).expect("read"), Some(unfinished));

        let stats = import_lines(&to, "rows.jsonl", text.as_bytes(), |_| {}).expect("resumed");
        assert_eq!((stats.skipped, stats.rows), (batch, 1));
        assert_eq!(
            to.try_count::<droply_models::User>().expect("count"),
            BATCH_ROWS + 1
        );
    }

    /// Every file imported into the source is recognised by the copy as
    /// already imported, not only the last one (whose marker is carried).
    #[test]
    fn files_imported_before_a_copy_are_recognised_by_it() {
        let first = import_file(2);
        let second: String = (3..=4)
            .map(|id| {
                let mut user = full_user(&format!("user{id:04}"));
                user.id = UserId::new(id);
                serde_json::to_string(&ImportRow::User(user)).expect("json")
            })
            .collect::<Vec<_>>()
            .join("\n");
        let from = Store::open_temporary().expect("source");
        for (name, text) in [("first.jsonl", &first), ("second.jsonl", &second)] {
            let stats = import_lines(&from, name, text.as_bytes(), |_| {}).expect("imported");
            complete_import(&from, &stats).expect("completed");
        }
        let to = Store::open_temporary().expect("target");
        copy_store(&from, &to).expect("copy");
        for text in [&first, &second] {
            assert!(
                already_imported(&to, text.as_bytes())
                    .expect("check")
                    .is_some(),
                "{text}"
            );
        }
    }

    /// A store without a marker leaves the copy without one.
    #[test]
    fn no_marker_in_the_source_leaves_none_in_the_copy() {
        let from = Store::open_temporary().expect("source");
        let to = Store::open_temporary().expect("target");
        let report = copy_store(&from, &to).expect("copy");
        assert_eq!(report.import, None);
        assert_eq!(unfinished_import(&to).expect("read"), None);
    }
}
