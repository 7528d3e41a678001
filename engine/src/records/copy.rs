//! Copying a whole store into another, empty one (`droply migrate`): sled
//! into PostgreSQL to move past one machine, or back. Every row keeps its id
//! (relations refer to ids) and is written with its index and unique
//! entries and a feed entry, in batches, entity by entity in
//! [`for_every_entity`]'s order so that rows never point ahead. The
//! instance key moves too, so Stripe keeps recognising this store's objects.
//! Then every row is read back from the copy and compared, byte for byte in
//! the engine's codec, with the original.

use super::{EntityVisitor, for_every_entity};
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
}

impl CopyReport {
    /// Rows copied, all entities together.
    pub fn total(&self) -> usize {
        self.rows.iter().map(|(_, rows)| rows).sum()
    }
}

/// Copies every row of `from` into `to`, which must hold none, then checks
/// the copy row by row.
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
    let mut copy = Copy {
        from,
        to,
        report: CopyReport::default(),
    };
    for_every_entity(&mut copy)?;
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
