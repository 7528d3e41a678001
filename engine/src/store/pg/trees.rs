//! The store's trees as PostgreSQL tables (see `engine/migrations/postgres`):
//! an entity's rows keyed by `id`, a column per field, a relationship index
//! or unique key keyed by the engine's byte key. A row travels as its serde
//! JSON: written through `jsonb_populate_record` into the table's columns
//! (so each column's type checks its value) and read back with `to_jsonb`.
//! Reads take byte-key bounds as sled does; bytea sorts byte-wise, and ids,
//! being below 2^63, sort as bigints the way their big-endian bytes do.
//! Writes apply a transaction's staged keys.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use postgres::types::ToSql;

use super::super::backend::KeyBounds;
use super::super::key::{read_u64, trailing_u64};
use super::super::page::Order;
use super::super::tree_id::{EntityKind, TreeId};
use super::super::txn::Staged;
use super::session::Session;
use crate::{Error, Result};

/// The upsert of each entity table, built from the columns the schema gives
/// it (every one but the generated ones), once per store.
pub(crate) struct RowWrites {
    upserts: HashMap<String, String>,
}

impl RowWrites {
    /// Reads the entity tables' columns from the catalog.
    pub(crate) fn load(session: &mut impl Session) -> Result<RowWrites> {
        let rows = session.rows(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND is_generated = 'NEVER'
             ORDER BY table_name, ordinal_position",
            &[],
        )?;
        let mut columns: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows {
            columns.entry(row.get(0)).or_default().push(row.get(1));
        }
        let upserts = EntityKind::ALL
            .iter()
            .filter_map(|kind| {
                let columns = columns.get(kind.name())?;
                Some((kind.name().to_owned(), upsert(kind.name(), columns)))
            })
            .collect();
        Ok(RowWrites { upserts })
    }

    fn upsert(&self, kind: EntityKind) -> Result<&str> {
        self.upserts
            .get(kind.name())
            .map(String::as_str)
            .ok_or_else(|| Error::Storage(format!("no table for {} rows", kind.name())))
    }
}

/// The statement that writes rows (`$1` their ids, `$2` their JSON) into
/// `table`'s `columns`, replacing those already there.
fn upsert(table: &str, columns: &[String]) -> String {
    let quoted = |column: &String| format!("\"{column}\"");
    let list: Vec<String> = columns.iter().map(quoted).collect();
    let values: Vec<String> = columns
        .iter()
        .map(|column| match column.as_str() {
            "id" => "given.id".to_owned(),
            _ => format!("fields.{}", quoted(column)),
        })
        .collect();
    let updates: Vec<String> = columns
        .iter()
        .filter(|column| *column != "id")
        .map(|column| format!("{0} = EXCLUDED.{0}", quoted(column)))
        .collect();
    format!(
        "INSERT INTO \"{table}\" ({})
         SELECT {} FROM unnest($1::bigint[], $2::text[]) AS given (id, body),
              jsonb_populate_record(NULL::\"{table}\", given.body::jsonb) AS fields
         ON CONFLICT (id) DO UPDATE SET {}",
        list.join(", "),
        values.join(", "),
        updates.join(", ")
    )
}

/// How a tree's keys and values sit in its table.
enum Shape {
    /// `id bigint` and a column per field: an entity's rows.
    Rows,
    /// `key bytea`, `id bigint`: index entries (no value) or unique keys
    /// (the value is the row id).
    Keys {
        /// Whether the value is the id (unique keys) or empty (indexes).
        id_is_value: bool,
    },
}

/// The table of `tree` and its shape.
fn table(tree: TreeId) -> Result<(String, Shape)> {
    match tree {
        TreeId::Entity(kind) => Ok((format!("\"{}\"", kind.name()), Shape::Rows)),
        TreeId::Index(index) => Ok((
            format!("\"{}\"", index.name().replace('/', "_")),
            Shape::Keys { id_is_value: false },
        )),
        TreeId::Unique(unique) => Ok((
            format!("\"uniq_{}\"", unique.field()),
            Shape::Keys { id_is_value: true },
        )),
        TreeId::Changes | TreeId::Meta => Err(Error::Storage(format!(
            "{} is not a table of rows",
            tree.name()
        ))),
    }
}

/// The bigint id a row key stands for; `None` for an id past bigint's range, which no
/// row has (ids are handed out from 1 up, while typed ids parse any u64, so a client
/// may ask for one: the answer is that there is no such row, as on sled).
fn row_id(key: &[u8]) -> Result<Option<i64>> {
    read_u64(key)
        .map(|id| i64::try_from(id).ok())
        .ok_or_else(|| Error::Corrupt("a row key is not an id".to_owned()))
}

/// The bigint id of a row being written.
fn key_id(key: &[u8]) -> Result<i64> {
    row_id(key)?.ok_or_else(|| Error::Invalid("a row id must fit in a bigint".to_owned()))
}

/// The row key of a bigint id.
fn id_key(id: i64) -> Vec<u8> {
    (id as u64).to_be_bytes().to_vec()
}

/// `WHERE` conditions for `bounds` on `column`, with their parameters.
fn conditions(
    shape: &Shape,
    column: &str,
    bounds: &KeyBounds,
) -> Result<(String, Vec<Box<dyn ToSql + Sync>>)> {
    let mut clauses = Vec::new();
    let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    for (lower, bound, inclusive, exclusive) in
        [(true, &bounds.0, ">=", ">"), (false, &bounds.1, "<=", "<")]
    {
        let (op, key) = match bound {
            Bound::Included(key) => (inclusive, key),
            Bound::Excluded(key) => (exclusive, key),
            Bound::Unbounded => continue,
        };
        let param: Box<dyn ToSql + Sync> = match shape {
            Shape::Rows => match row_id(key)? {
                Some(id) => Box::new(id),
                // Past every row: nothing lies above it, everything below.
                None if lower => {
                    clauses.push("FALSE".to_owned());
                    continue;
                }
                None => continue,
            },
            Shape::Keys { .. } => Box::new(key.to_vec()),
        };
        params.push(param);
        clauses.push(format!("{column} {op} ${}", params.len()));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    Ok((sql, params))
}

fn refs(params: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// The text key of the `meta` table a metadata key stands for.
fn meta_key(key: &[u8]) -> Result<&str> {
    std::str::from_utf8(key).map_err(|_| Error::Invalid("a metadata key is text".to_owned()))
}

/// The value under `key` in `tree`.
pub(crate) fn get(session: &mut impl Session, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
    if tree == TreeId::Meta {
        let row = session.row_opt("SELECT value FROM meta WHERE key = $1", &[&meta_key(key)?])?;
        return Ok(row.map(|row| row.get::<_, Vec<u8>>(0)));
    }
    let (table, shape) = table(tree)?;
    let row = match shape {
        Shape::Rows => session.row_opt(
            &format!("SELECT to_jsonb(stored)::text FROM {table} AS stored WHERE id = $1"),
            &[&match row_id(key)? {
                Some(id) => id,
                None => return Ok(None),
            }],
        )?,
        Shape::Keys { .. } => {
            session.row_opt(&format!("SELECT id FROM {table} WHERE key = $1"), &[&key])?
        }
    };
    Ok(row.map(|row| match shape {
        Shape::Rows => row.get::<_, String>(0).into_bytes(),
        Shape::Keys { id_is_value: true } => id_key(row.get(0)),
        Shape::Keys { id_is_value: false } => Vec::new(),
    }))
}

/// Up to `limit` entries of `tree` within `bounds`, in `order`.
pub(crate) fn range(
    session: &mut impl Session,
    tree: TreeId,
    bounds: &KeyBounds,
    order: Order,
    limit: usize,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let (table, shape) = table(tree)?;
    let (column, select) = match shape {
        Shape::Rows => ("id", "id, to_jsonb(stored)::text"),
        Shape::Keys { .. } => ("key", "key, id"),
    };
    let (filter, params) = conditions(&shape, column, bounds)?;
    let direction = match order {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    };
    let (filter, mut params) = (filter, params);
    params.push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT {select} FROM {table} AS stored{filter} ORDER BY {column} {direction} LIMIT ${}",
        params.len()
    );
    let rows = session.rows(&sql, &refs(&params))?;
    Ok(rows
        .into_iter()
        .map(|row| match shape {
            Shape::Rows => (id_key(row.get(0)), row.get::<_, String>(1).into_bytes()),
            Shape::Keys { id_is_value } => {
                let key: Vec<u8> = row.get(0);
                let value = if id_is_value {
                    id_key(row.get(1))
                } else {
                    Vec::new()
                };
                (key, value)
            }
        })
        .collect())
}

/// How many entries of `tree` lie within `bounds`.
pub(crate) fn count_range(
    session: &mut impl Session,
    tree: TreeId,
    bounds: &KeyBounds,
) -> Result<usize> {
    let (table, shape) = table(tree)?;
    let column = match shape {
        Shape::Rows => "id",
        Shape::Keys { .. } => "key",
    };
    let (filter, params) = conditions(&shape, column, bounds)?;
    let row = session.row(
        &format!("SELECT count(*) FROM {table}{filter}"),
        &refs(&params),
    )?;
    Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// A staged key and its value.
type Entry<'a> = (&'a [u8], &'a [u8]);

/// Applies a transaction's staged keys, one statement per table and kind of
/// change: removals first, so that a value one row gives up and another
/// takes in the same transaction is free when the database's own unique
/// indexes look.
pub(crate) fn apply(session: &mut impl Session, staged: &Staged, rows: &RowWrites) -> Result<()> {
    let mut removed: BTreeMap<TreeId, Vec<&[u8]>> = BTreeMap::new();
    let mut written: BTreeMap<TreeId, Vec<Entry<'_>>> = BTreeMap::new();
    for ((tree, key), value) in staged {
        match value {
            None => removed.entry(*tree).or_default().push(key),
            Some(value) => written.entry(*tree).or_default().push((key, value)),
        }
    }
    for (tree, keys) in removed {
        if tree == TreeId::Meta {
            let keys = keys
                .into_iter()
                .map(meta_key)
                .collect::<Result<Vec<&str>>>()?;
            session.run("DELETE FROM meta WHERE key = ANY($1)", &[&keys])?;
            continue;
        }
        let (table, shape) = table(tree)?;
        match shape {
            Shape::Rows => {
                // An id past bigint names no row: there is nothing to remove.
                let ids: Vec<i64> = keys
                    .iter()
                    .map(|key| row_id(key))
                    .collect::<Result<Vec<_>>>()?
                    .into_iter()
                    .flatten()
                    .collect();
                session.run(&format!("DELETE FROM {table} WHERE id = ANY($1)"), &[&ids])?
            }
            Shape::Keys { .. } => session.run(
                &format!("DELETE FROM {table} WHERE key = ANY($1)"),
                &[&keys],
            )?,
        };
    }
    for (tree, entries) in written {
        if tree == TreeId::Meta {
            apply_meta(session, &entries)?;
            continue;
        }
        let (table, shape) = table(tree)?;
        match shape {
            Shape::Rows => {
                let mut ids = Vec::with_capacity(entries.len());
                let mut bodies = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    ids.push(key_id(key)?);
                    bodies.push(
                        std::str::from_utf8(value)
                            .map_err(|_| Error::Corrupt("a row is not JSON text".to_owned()))?,
                    );
                }
                let TreeId::Entity(kind) = tree else {
                    return Err(Error::Storage(format!("{table} holds no rows")));
                };
                session.run(rows.upsert(kind)?, &[&ids, &bodies])?;
            }
            Shape::Keys { id_is_value } => {
                let mut keys = Vec::with_capacity(entries.len());
                let mut ids = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let id = if id_is_value {
                        read_u64(value)
                    } else {
                        trailing_u64(key)
                    }
                    .and_then(|id| i64::try_from(id).ok())
                    .ok_or_else(|| Error::Corrupt(format!("malformed entry in {table}")))?;
                    keys.push(key);
                    ids.push(id);
                }
                session.run(
                    &format!(
                        "INSERT INTO {table} (key, id)
                         SELECT * FROM unnest($1::bytea[], $2::bigint[])
                         ON CONFLICT (key) DO UPDATE SET id = EXCLUDED.id"
                    ),
                    &[&keys, &ids],
                )?;
            }
        }
    }
    Ok(())
}

/// Writes staged metadata keys (an import's progress) into the `meta` table,
/// in the same database transaction as the rows they describe.
fn apply_meta(session: &mut impl Session, entries: &[Entry<'_>]) -> Result<()> {
    let mut keys = Vec::with_capacity(entries.len());
    let mut values = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        keys.push(meta_key(key)?);
        values.push(*value);
    }
    session.run(
        "INSERT INTO meta (key, value)
         SELECT * FROM unnest($1::text[], $2::bytea[])
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        &[&keys, &values],
    )?;
    Ok(())
}
