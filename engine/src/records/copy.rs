//! Copying a whole store into another, empty one (`droply migrate`): sled
//! into PostgreSQL to move past one machine, or back. Every row keeps its id
//! (relations refer to ids) and is written with its index and unique
//! entries and a feed entry, in batches, entity by entity in
//! [`for_every_entity`]'s order so that rows never point ahead. Then every
//! row is read back from the copy and compared, byte for byte in the
//! engine's codec, with the original.
//!
//! Five metadata values move with the rows, each through the function
//! that owns its key: the instance key, so Stripe keeps recognising this
//! store's objects; the store's secret key, before any row is written, in
//! place of any key the target made of its own, so the sign-in throttle's
//! and the counted views' rows, keyed under it, still match in the copy;
//! and, once the rows are in, the id counter, so that no id of a row the
//! source deleted (still named by Stripe's metadata, links, file names) is
//! given again, the import marker as it is, so an import cut short before
//! the copy resumes against the copy, and the record of completed imports,
//! so a file imported before is recognised by the copy.
//!
//! The source must stand still: a PostgreSQL source is refused while any
//! node runs on it (one holds the jobs lease; the copy then takes it and
//! keeps it for as long as the source's handle lives), and the copy fails
//! if the source's change feed moved between its start and its end. The
//! target carries an in-progress marker from the start to the end of the
//! copy ([`StoreCopy::finish`]): a copy cut short leaves it, and such a
//! store is refused to `serve` and to another copy
//! ([`refuse_unfinished_migration`]) until it is emptied.

use super::{EntityVisitor, for_every_entity};
use crate::import::{ImportProgress, carry_completed_imports, carry_import_marker};
use crate::store::{Record, RecordId};
use crate::{Error, Result, Store};

/// Rows written per transaction.
const BATCH: usize = 500;

/// The metadata key of the in-progress marker: the source's description
/// (a PostgreSQL URL without its password).
const META_MIGRATION: &str = "migration";

/// Why a PostgreSQL source whose jobs lease another node holds is refused.
const NODE_RUNNING: &str = "a node is running on this database; stop every node before migrating";

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
    /// The source's id counter, carried: the copy's next new row gets
    /// this id or a later one, never the id of a row the source deleted.
    pub next_id: u64,
}

impl CopyReport {
    /// Rows copied, all entities together.
    pub fn total(&self) -> usize {
        self.rows.iter().map(|(_, rows)| rows).sum()
    }
}

/// Copies every row of `from` into `to`, which must hold none, then checks
/// the copy row by row; `to` ends with `from`'s instance key, secret key,
/// id counter and import marker. Run it before `to` is served: a holder of
/// `to` that read its secret key before the copy keeps the key it read.
/// [`StoreCopy`] step by step, for a caller with more to copy (the content
/// files) before the copy is done.
pub fn copy_store(from: &Store, to: &Store) -> Result<CopyReport> {
    let copy = StoreCopy::start(from, to)?;
    let report = copy.copy_rows()?;
    copy.finish()?;
    Ok(report)
}

/// A copy under way: started ([`StoreCopy::start`]), its rows copied
/// ([`StoreCopy::copy_rows`]), then, once the caller copied what else goes
/// along, finished ([`StoreCopy::finish`]). A copy never finished leaves
/// its target marked as unfinished.
#[derive(Debug)]
pub struct StoreCopy<'s> {
    from: &'s Store,
    to: &'s Store,
    /// The source's change feed end when the copy started.
    source_seq: u64,
}

impl<'s> StoreCopy<'s> {
    /// Checks that the copy may start and marks `to` as a copy under way.
    /// Refused: a store, either one, that an unfinished copy left; a
    /// PostgreSQL `from` on which a node runs (the copy takes the jobs
    /// lease instead, held until `from`'s last handle drops, so no node
    /// starts leading meanwhile); a `to` that holds rows.
    pub fn start(from: &'s Store, to: &'s Store) -> Result<StoreCopy<'s>> {
        refuse_unfinished_migration(from)?;
        refuse_unfinished_migration(to)?;
        if from.is_postgres() && !from.leads_jobs()? {
            return Err(Error::InvalidState(NODE_RUNNING.to_owned()));
        }
        let mut empty = Emptiness { store: to, rows: 0 };
        for_every_entity(&mut empty)?;
        if empty.rows > 0 {
            return Err(Error::Invalid(format!(
                "the target store already holds {} rows; copy into an empty one",
                empty.rows
            )));
        }
        let source_seq = from.stored_last_seq()?;
        let source = from.describe().into_bytes();
        to.write(|txn| {
            txn.put_meta(META_MIGRATION, source);
            Ok(())
        })?;
        Ok(StoreCopy {
            from,
            to,
            source_seq,
        })
    }

    /// Copies every row and the metadata that goes with them, then reads
    /// every row back and compares it; fails if the source moved meanwhile.
    pub fn copy_rows(&self) -> Result<CopyReport> {
        let (from, to) = (self.from, self.to);
        to.adopt_instance_key(&from.instance_key()?)?;
        // Before any row: the throttle's and the views' rows are keyed under it.
        to.adopt_secret_key_of(from)?;
        let mut copy = Copy {
            from,
            to,
            report: CopyReport::default(),
        };
        for_every_entity(&mut copy)?;
        // After the rows, which raised the counter to their largest id + 1:
        // the source's counter is past the ids of rows it deleted too.
        let next_id = from.next_id()?;
        to.adopt_next_id(next_id)?;
        copy.report.next_id = to.next_id()?;
        // After the rows: the marker counts rows the copy now holds.
        copy.report.import = carry_import_marker(from, to)?;
        carry_completed_imports(from, to)?;
        self.check_source_still()?;
        Ok(copy.report)
    }

    /// Ends the copy: checks that the source did not move since the start,
    /// then takes the in-progress marker off the target. Call it once
    /// everything that goes along is copied and checked.
    pub fn finish(self) -> Result<()> {
        self.check_source_still()?;
        self.to.write(|txn| {
            txn.remove_meta(META_MIGRATION);
            Ok(())
        })
    }

    /// [`Error::InvalidState`] if the source's change feed moved since the
    /// copy started: a write the copy may have missed, or kept when the
    /// source deleted the row.
    fn check_source_still(&self) -> Result<()> {
        let now = self.from.stored_last_seq()?;
        if now == self.source_seq {
            return Ok(());
        }
        Err(Error::InvalidState(format!(
            "the source store {} changed during the copy (its change feed moved from {} to \
             {now}): something wrote to it, so the copy may miss or keep rows. Stop every \
             process using it, empty the target ({}) and migrate again",
            self.from.describe(),
            self.source_seq,
            emptying(self.to)
        )))
    }
}

/// [`Error::InvalidState`] naming the way out when `store` carries the
/// in-progress marker of a copy that never finished (rows or content files
/// may be missing from it); `Ok` otherwise. `serve` and `droply migrate`
/// refuse such a store.
pub fn refuse_unfinished_migration(store: &Store) -> Result<()> {
    let Some(source) = store.write(|txn| txn.meta(META_MIGRATION))? else {
        return Ok(());
    };
    Err(Error::InvalidState(format!(
        "the store {} holds a copy that `droply migrate` (from {}) never finished: rows or \
         content files may be missing from it. Empty it ({}) and run `droply migrate` again",
        store.describe(),
        String::from_utf8_lossy(&source),
        emptying(store)
    )))
}

/// How to empty `store`, in words.
fn emptying(store: &Store) -> String {
    if store.is_postgres() {
        format!(
            "drop every table of the PostgreSQL database {}, or drop the database and create \
             it anew",
            store.describe()
        )
    } else {
        format!("delete the sled directory of {}", store.describe())
    }
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
