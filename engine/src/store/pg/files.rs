//! Files kept in the database (`shared_file` and its 1 MiB chunks, from
//! migration 2), for what every node must serve: a file is written whole in
//! one transaction, read back chunk by chunk in order and checked against
//! its recorded size, and deleted with its chunks.

use std::io::{Read, Write};

use droply_models::Timestamp;

use super::PgStore;
use crate::{Error, Result};

/// Bytes per stored chunk.
const CHUNK: usize = 1 << 20;

impl PgStore {
    /// Stores `bytes` (`size` of them, hashing to `sha256`) as `path`,
    /// replacing what was there.
    pub(crate) fn put_file(
        &self,
        path: &str,
        bytes: &mut dyn Read,
        size: u64,
        sha256: &str,
    ) -> Result<()> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        tx.execute("DELETE FROM shared_file WHERE path = $1", &[&path])?;
        tx.execute(
            "INSERT INTO shared_file (path, size, sha256) VALUES ($1, $2, $3)",
            &[&path, &super::as_bigint(size)?, &sha256],
        )?;
        let insert =
            tx.prepare("INSERT INTO shared_file_chunk (path, chunk, bytes) VALUES ($1, $2, $3)")?;
        let mut buf = vec![0u8; CHUNK];
        let (mut chunk, mut written) = (0i32, 0u64);
        loop {
            let filled = fill(bytes, &mut buf)?;
            if filled == 0 {
                break;
            }
            tx.execute(&insert, &[&path, &chunk, &&buf[..filled]])?;
            chunk += 1;
            written += filled as u64;
        }
        if written != size {
            return Err(Error::Storage(format!(
                "{path}: {written} bytes read, {size} expected"
            )));
        }
        tx.commit()?;
        Ok(())
    }

    /// Writes the file at `path` into `out`; `false` when there is none.
    pub(crate) fn fetch_file(&self, path: &str, out: &mut dyn Write) -> Result<bool> {
        let mut client = self.client()?;
        // One snapshot for the size and every chunk.
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let Some(row) = tx.query_opt("SELECT size FROM shared_file WHERE path = $1", &[&path])?
        else {
            return Ok(false);
        };
        let size: i64 = row.get(0);
        let mut read: i64 = 0;
        // One chunk in memory at a time.
        let mut chunk = 0i32;
        while let Some(row) = tx.query_opt(
            "SELECT bytes FROM shared_file_chunk WHERE path = $1 AND chunk = $2",
            &[&path, &chunk],
        )? {
            let bytes: &[u8] = row.get(0);
            out.write_all(bytes)?;
            read += i64::try_from(bytes.len()).unwrap_or(i64::MAX);
            chunk += 1;
        }
        tx.commit()?;
        if read != size {
            return Err(Error::Corrupt(format!(
                "the stored file {path} has {read} bytes, {size} recorded"
            )));
        }
        Ok(true)
    }

    /// Deletes the file at `path`, if there is one.
    pub(crate) fn delete_file(&self, path: &str) -> Result<()> {
        self.client()?
            .execute("DELETE FROM shared_file WHERE path = $1", &[&path])?;
        Ok(())
    }

    /// The paths of files stored before `cutoff`.
    pub(crate) fn files_stored_before(&self, cutoff: Timestamp) -> Result<Vec<String>> {
        let rows = self.client()?.query(
            "SELECT path FROM shared_file WHERE stored_at < $1::text::timestamptz ORDER BY path",
            &[&cutoff.to_rfc3339()],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }
}

/// Reads into `buf` until it is full or `from` ends; how many bytes came.
fn fill(from: &mut dyn Read, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match from.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(filled)
}
