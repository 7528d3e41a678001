//! How rows are written to disk: a checksummed envelope around one
//! format-version byte and the row encoded by bincode's serde mode.
//!
//! `[ENVELOPE][crc32 of the rest, big-endian][format][payload]`: the checksum
//! turns a flipped bit on disk into a `Corrupt` error instead of a wrong row,
//! and decoding is bounded by [`MAX_ROW_BYTES`] so a damaged length prefix
//! cannot make the reader allocate what it says. The version byte lets a
//! row's layout evolve: a reader meeting an older version asks the record
//! type to upgrade it. Rows written before the envelope (a bare format byte,
//! always below [`ENVELOPE`]) are still read.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// The largest row, encoded, that a reader accepts (16 MiB).
pub const MAX_ROW_BYTES: usize = 16 * 1024 * 1024;

/// The first byte of a checksummed row; format bytes stay below it.
pub const ENVELOPE: u8 = 0xC5;

fn config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_ROW_BYTES>,
> {
    bincode::config::standard().with_limit::<MAX_ROW_BYTES>()
}

/// Encodes `value` behind the `format` byte, in the checksummed envelope.
pub fn encode<T: Serialize>(format: u8, value: &T) -> Result<Vec<u8>> {
    if format >= ENVELOPE {
        return Err(Error::Corrupt(format!("row format {format} is reserved")));
    }
    let mut out = vec![ENVELOPE, 0, 0, 0, 0, format];
    bincode::serde::encode_into_std_write(value, &mut out, config())
        .map_err(|err| Error::Corrupt(format!("cannot encode row: {err}")))?;
    if out.len() > MAX_ROW_BYTES {
        return Err(Error::Invalid(format!(
            "a row may hold at most {MAX_ROW_BYTES} bytes"
        )));
    }
    let crc = crc32fast::hash(&out[5..]);
    out[1..5].copy_from_slice(&crc.to_be_bytes());
    Ok(out)
}

/// Checks a stored value's envelope and splits it into its format byte and
/// payload; a value from before the envelope is taken as it is.
pub fn split(bytes: &[u8]) -> Result<(u8, &[u8])> {
    let body = match bytes.split_first() {
        Some((&ENVELOPE, rest)) => {
            let (crc, body) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| Error::Corrupt("row shorter than its envelope".to_owned()))?;
            if crc32fast::hash(body) != u32::from_be_bytes(*crc) {
                return Err(Error::Corrupt("row checksum mismatch".to_owned()));
            }
            body
        }
        _ => bytes,
    };
    match body.split_first() {
        Some((format, payload)) => Ok((*format, payload)),
        None => Err(Error::Corrupt("empty row".to_owned())),
    }
}

/// Decodes a payload written by [`encode`] (without its format byte).
pub fn decode_payload<T: DeserializeOwned>(payload: &[u8]) -> Result<T> {
    let (value, read) = bincode::serde::decode_from_slice(payload, config())
        .map_err(|err| Error::Corrupt(format!("cannot decode row: {err}")))?;
    if read != payload.len() {
        return Err(Error::Corrupt(format!(
            "row has {} trailing bytes",
            payload.len() - read
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Row {
        name: String,
        tags: Vec<String>,
    }

    fn row() -> Row {
        Row {
            name: "ann".to_owned(),
            tags: vec!["rust".to_owned(), "sql".to_owned()],
        }
    }

    fn decode(bytes: &[u8]) -> Result<Row> {
        let (format, payload) = split(bytes)?;
        assert_eq!(format, 3);
        decode_payload(payload)
    }

    #[test]
    fn rows_round_trip_in_their_envelope() {
        let bytes = encode(3, &row()).expect("encode");
        assert_eq!(bytes[0], ENVELOPE);
        assert_eq!(decode(&bytes).expect("decode"), row());
    }

    #[test]
    fn a_flipped_byte_is_a_corrupt_row_not_a_wrong_one() {
        let bytes = encode(3, &row()).expect("encode");
        for at in 1..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            assert!(
                matches!(decode(&damaged), Err(Error::Corrupt(_))),
                "byte {at}"
            );
        }
    }

    #[test]
    fn a_damaged_length_prefix_cannot_make_the_reader_allocate_it() {
        // A legacy row (no envelope) whose string claims 2^62 bytes.
        let mut bytes = vec![3u8, 0xFF];
        bytes.extend_from_slice(&(1u64 << 62).to_le_bytes());
        bytes.extend_from_slice(b"short");
        assert!(matches!(decode(&bytes), Err(Error::Corrupt(_))));
        // The same inside a valid envelope.
        let mut enveloped = vec![ENVELOPE, 0, 0, 0, 0];
        enveloped.extend_from_slice(&bytes);
        let crc = crc32fast::hash(&enveloped[5..]);
        enveloped[1..5].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(decode(&enveloped), Err(Error::Corrupt(_))));
    }

    #[test]
    fn rows_written_before_the_envelope_are_still_read() {
        let mut legacy = vec![3u8];
        bincode::serde::encode_into_std_write(row(), &mut legacy, bincode::config::standard())
            .expect("legacy");
        assert_eq!(decode(&legacy).expect("decode"), row());
    }
}
