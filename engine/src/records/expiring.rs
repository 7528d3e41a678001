//! Rows that lapse at an instant ([`Expiring`]): each lists itself by that
//! instant in an index of its own with no owner part, so the rows that lapse
//! first are read first without reading the rest. A sweep removes the rows
//! already lapsed ([`sweep_lapsed`]); a table with a bound makes room by
//! removing the rows that lapse first, lapsed or not
//! ([`drop_first_lapsing`]). Both remove rows in writes of at most
//! [`LAPSE_BATCH`] and stop after the number they are given, so one run
//! never holds the writer for long and its work is bounded however many
//! rows piled up. Each row is looked at again inside the write that removes
//! it, so a row touched meanwhile (it lapses later now) stays.

use droply_models::Timestamp;

use crate::Result;
use crate::store::{IndexEntry, IndexName, KeyBuilder, PageRequest, Record, Store};

/// The most rows one write removes.
pub(crate) const LAPSE_BATCH: usize = 500;

/// The most rows one sweep of one kind removes, 10,000 (the rest wait for
/// the next run; the sweeps' docs and the README name the number).
pub(crate) const SWEEP_LIMIT: usize = 20 * LAPSE_BATCH;

/// A row that lapses at [`Expiring::expires_at`] and is listed by that
/// instant in [`Expiring::BY_EXPIRY`].
///
/// Contract: the row's [`Record::index_entries`] include
/// [`Expiring::expiry_entry`], and nothing else is listed in that index.
pub(crate) trait Expiring: Record {
    /// The index listing these rows by when they lapse, soonest first.
    const BY_EXPIRY: IndexName;

    /// When the row lapses: from then on it may be removed.
    fn expires_at(&self) -> Timestamp;

    /// The row's entry in [`Expiring::BY_EXPIRY`].
    fn expiry_entry(&self) -> IndexEntry {
        IndexEntry {
            index: Self::BY_EXPIRY,
            prefix: KeyBuilder::new().time(self.expires_at()).build(),
        }
    }
}

/// Removes the rows of `R` lapsed at `now`, soonest first, at most `limit`;
/// returns how many went.
pub(crate) fn sweep_lapsed<R: Expiring>(
    store: &Store,
    now: Timestamp,
    limit: usize,
) -> Result<usize> {
    remove_first::<R>(store, limit, Some(now))
}

/// Removes the `count` rows of `R` that lapse first, lapsed or not (the
/// least recently touched); returns how many went.
pub(crate) fn drop_first_lapsing<R: Expiring>(store: &Store, count: usize) -> Result<usize> {
    remove_first::<R>(store, count, None)
}

/// Removes up to `limit` of the rows of `R` that lapse first, only those
/// lapsed by `lapsed_by` when given.
fn remove_first<R: Expiring>(
    store: &Store,
    limit: usize,
    lapsed_by: Option<Timestamp>,
) -> Result<usize> {
    let removable = |row: &R| lapsed_by.is_none_or(|now| row.expires_at() <= now);
    let mut examined = 0;
    let mut removed = 0;
    while examined < limit {
        let want = (limit - examined).min(LAPSE_BATCH);
        let page = store.list_index::<R>(R::BY_EXPIRY, &[], &PageRequest::first(want))?;
        let ids: Vec<R::Id> = page
            .items
            .iter()
            .take_while(|row| removable(row))
            .map(|row| row.id())
            .collect();
        if ids.is_empty() {
            break;
        }
        examined += ids.len();
        removed += store.write(|txn| {
            let mut gone = 0;
            for id in &ids {
                if let Some(row) = txn.get::<R>(*id)?
                    && removable(&row)
                {
                    txn.delete::<R>(*id)?;
                    gone += 1;
                }
            }
            Ok(gone)
        })?;
        if ids.len() < want || page.next.is_none() {
            break;
        }
    }
    Ok(removed)
}

/// Makes each named `fn(&Store, Option<&str>)` two tests of the crate's
/// own, `NAME::sled` over a temporary sled store and `NAME::postgres` over
/// a fresh PostgreSQL database, whose URL it is also given (to read the
/// tables as the database holds them). The integration tests have
/// `droply_test_support::on_both_backends` instead, over the library's
/// types.
#[cfg(test)]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sled() {
                    let store = $crate::Store::open_temporary().expect("a sled store");
                    super::$name(&store, None);
                }

                #[test]
                fn postgres() {
                    let url = droply_test_support::postgres::fresh_database();
                    let store = $crate::Store::open_postgres(&url).expect("a PostgreSQL store");
                    super::$name(&store, Some(&url));
                }
            }
        )*
    };
}

#[cfg(test)]
pub(crate) use on_both_backends;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{LoginAttempts, LoginAttemptsId};

    fn lapsing_at(n: u8, expires_at: Timestamp) -> LoginAttempts {
        LoginAttempts {
            id: LoginAttemptsId::new(0),
            pair_key: format!("{n:064x}"),
            attempts: vec![expires_at.plus_minutes(-15)],
            expires_at,
        }
    }

    fn a_sweep_removes_the_first_lapsed_rows_up_to_its_limit(store: &Store, _: Option<&str>) {
        let now = Timestamp::now();
        store
            .write(|txn| {
                for n in 0..5 {
                    txn.create(lapsing_at(n, now.plus_minutes(-10 - i64::from(n))))?;
                }
                txn.create(lapsing_at(9, now.plus_minutes(1)))?;
                Ok(())
            })
            .expect("rows");
        assert_eq!(
            sweep_lapsed::<LoginAttempts>(store, now, 3).expect("sweep"),
            3
        );
        let left: Vec<Timestamp> = store
            .iter::<LoginAttempts>()
            .map(|row| row.expect("row").expires_at)
            .collect();
        assert_eq!(
            left,
            vec![
                now.plus_minutes(-10),
                now.plus_minutes(-11),
                now.plus_minutes(1)
            ],
            "the three that lapsed first went"
        );
        assert_eq!(
            sweep_lapsed::<LoginAttempts>(store, now, 100).expect("the rest"),
            2
        );
        assert_eq!(
            sweep_lapsed::<LoginAttempts>(store, now, 100).expect("again"),
            0,
            "a row still live stays"
        );
        assert_eq!(
            drop_first_lapsing::<LoginAttempts>(store, 5).expect("drop"),
            1,
            "making room takes live rows too"
        );
        assert!(store.verify_integrity().expect("verify").is_consistent());
    }

    on_both_backends!(a_sweep_removes_the_first_lapsed_rows_up_to_its_limit);
}
