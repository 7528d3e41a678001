//! Loading rows from JSON lines: one row per line, `{"kind": "user", "row": {...}}`,
//! written under the ids they carry (so relations in the file hold), in
//! transactions of a few hundred rows. A bad line, or a row whose id is taken
//! already, stops the import with its line number; the rows committed before
//! it stay. Imported balances get
//! opening ledger rows, so they agree with the ledger.

use std::io::BufRead;

use droply_models::{
    AiMatch, AvailabilityException, AvailabilityRule, Booking, Category, Content, ContentPurchase,
    DropinMessage, DropinParticipant, DropinSession, Favorite, Payout, Referral, ReferralReward,
    User, UserInteraction,
};
use serde::{Deserialize, Serialize};

use crate::store::{EntityKind, Record, RecordId, Store, Txn};
use crate::{Error, Result};

/// Rows committed per transaction.
const CHUNK: usize = 500;

/// One line of an import file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "row", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum ImportRow {
    /// A user or expert.
    User(User),
    /// A booking.
    Booking(Booking),
    /// A favorite.
    Favorite(Favorite),
    /// An interaction.
    Interaction(UserInteraction),
    /// A weekly availability rule.
    AvailabilityRule(AvailabilityRule),
    /// An availability exception.
    AvailabilityException(AvailabilityException),
    /// A payout.
    Payout(Payout),
    /// A referral.
    Referral(Referral),
    /// A referral reward.
    ReferralReward(ReferralReward),
    /// A piece of content.
    Content(Content),
    /// A content purchase.
    ContentPurchase(ContentPurchase),
    /// A drop-in session.
    DropinSession(DropinSession),
    /// A drop-in participant.
    DropinParticipant(DropinParticipant),
    /// A drop-in message.
    DropinMessage(DropinMessage),
    /// An AI match.
    AiMatch(AiMatch),
    /// A category.
    Category(Category),
}

impl ImportRow {
    /// The kind of row this line holds.
    pub fn kind(&self) -> EntityKind {
        match self {
            ImportRow::User(_) => EntityKind::User,
            ImportRow::Booking(_) => EntityKind::Booking,
            ImportRow::Favorite(_) => EntityKind::Favorite,
            ImportRow::Interaction(_) => EntityKind::Interaction,
            ImportRow::AvailabilityRule(_) => EntityKind::AvailabilityRule,
            ImportRow::AvailabilityException(_) => EntityKind::AvailabilityException,
            ImportRow::Payout(_) => EntityKind::Payout,
            ImportRow::Referral(_) => EntityKind::Referral,
            ImportRow::ReferralReward(_) => EntityKind::ReferralReward,
            ImportRow::Content(_) => EntityKind::Content,
            ImportRow::ContentPurchase(_) => EntityKind::ContentPurchase,
            ImportRow::DropinSession(_) => EntityKind::DropinSession,
            ImportRow::DropinParticipant(_) => EntityKind::DropinParticipant,
            ImportRow::DropinMessage(_) => EntityKind::DropinMessage,
            ImportRow::AiMatch(_) => EntityKind::AiMatch,
            ImportRow::Category(_) => EntityKind::Category,
        }
    }

    /// Writes the row under its own id; `Invalid` when a row of its kind
    /// holds that id already (an import adds rows, it never replaces one:
    /// a replaced row's money would no longer agree with the ledger).
    pub fn put(self, txn: &mut Txn<'_>) -> Result<()> {
        match self {
            ImportRow::User(row) => put_new(txn, row),
            ImportRow::Booking(row) => {
                // A confirmed session still ahead gets its video room, as
                // one confirmed here does.
                let room = crate::video::wants_room(&row, txn.now()).then(|| row.clone());
                put_new(txn, row)?;
                room.map_or(Ok(()), |row| crate::video::enqueue_room(txn, &row))
            }
            ImportRow::Favorite(row) => put_new(txn, row),
            ImportRow::Interaction(row) => put_new(txn, row),
            ImportRow::AvailabilityRule(row) => put_new(txn, row),
            ImportRow::AvailabilityException(row) => put_new(txn, row),
            ImportRow::Payout(row) => put_new(txn, row),
            ImportRow::Referral(row) => put_new(txn, row),
            ImportRow::ReferralReward(row) => put_new(txn, row),
            ImportRow::Content(row) => put_new(txn, row),
            ImportRow::ContentPurchase(row) => put_new(txn, row),
            ImportRow::DropinSession(row) => put_new(txn, row),
            ImportRow::DropinParticipant(row) => put_new(txn, row),
            ImportRow::DropinMessage(row) => put_new(txn, row),
            ImportRow::AiMatch(row) => put_new(txn, row),
            ImportRow::Category(row) => put_new(txn, row),
        }
    }
}

/// Writes `row` under its own id, which no row of its kind may hold yet.
fn put_new<R: Record>(txn: &mut Txn<'_>, row: R) -> Result<()> {
    if txn.get::<R>(row.id())?.is_some() {
        return Err(Error::Invalid(format!(
            "{} {} already exists; an import only adds rows",
            R::KIND.name(),
            row.id().raw()
        )));
    }
    txn.put(row).map(drop)
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportStats {
    /// Rows written, per kind, in [`EntityKind::ALL`] order.
    pub rows_by_kind: Vec<(EntityKind, u64)>,
    /// Rows written in all.
    pub rows: u64,
    /// Input bytes read.
    pub bytes: u64,
}

impl ImportStats {
    fn count(&mut self, kind: EntityKind) {
        self.rows += 1;
        match self.rows_by_kind.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => self.rows_by_kind.push((kind, 1)),
        }
    }
}

/// Imports every line of `input`; `progress` is told the bytes read so far after each chunk.
/// A row that fails validation or clashes with a unique key is reported with its line.
pub fn import_lines(
    store: &Store,
    input: impl BufRead,
    mut progress: impl FnMut(u64),
) -> Result<ImportStats> {
    let mut stats = ImportStats::default();
    let mut chunk: Vec<(Option<usize>, ImportRow)> = Vec::with_capacity(CHUNK);
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        stats.bytes += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let row: ImportRow = serde_json::from_str(&line)
            .map_err(|err| Error::Invalid(format!("line {}: {err}", index + 1)))?;
        chunk.push((Some(index + 1), row));
        if chunk.len() == CHUNK {
            commit_chunk(store, &mut chunk, &mut stats)?;
            progress(stats.bytes);
        }
    }
    commit_chunk(store, &mut chunk, &mut stats)?;
    crate::payments::ledger::open_imported_balances(store)?;
    progress(stats.bytes);
    stats.rows_by_kind.sort_by_key(|(kind, _)| *kind);
    Ok(stats)
}

/// Imports rows already in memory (the demo marketplace); `progress` is told
/// the rows written so far after each chunk.
pub fn import_rows(
    store: &Store,
    rows: impl IntoIterator<Item = ImportRow>,
    mut progress: impl FnMut(u64),
) -> Result<ImportStats> {
    let mut stats = ImportStats::default();
    let mut chunk: Vec<(Option<usize>, ImportRow)> = Vec::with_capacity(CHUNK);
    for row in rows {
        chunk.push((None, row));
        if chunk.len() == CHUNK {
            commit_chunk(store, &mut chunk, &mut stats)?;
            progress(stats.rows);
        }
    }
    commit_chunk(store, &mut chunk, &mut stats)?;
    progress(stats.rows);
    crate::payments::ledger::open_imported_balances(store)?;
    stats.rows_by_kind.sort_by_key(|(kind, _)| *kind);
    Ok(stats)
}

/// Writes one chunk in one transaction; a row's user error names its input line.
fn commit_chunk(
    store: &Store,
    chunk: &mut Vec<(Option<usize>, ImportRow)>,
    stats: &mut ImportStats,
) -> Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    let rows = std::mem::take(chunk);
    let kinds: Vec<EntityKind> = rows.iter().map(|(_, row)| row.kind()).collect();
    store.write(|txn| {
        rows.into_iter().try_for_each(|(line, row)| {
            row.put(txn).map_err(|err| match line {
                Some(line) if err.is_user_error() => Error::Invalid(format!("line {line}: {err}")),
                _ => err,
            })
        })
    })?;
    kinds.into_iter().for_each(|kind| stats.count(kind));
    Ok(())
}
