//! How rows are written to disk: one format-version byte, then the row encoded
//! by bincode's serde mode. The version byte lets a row's layout evolve: a
//! reader meeting an older version asks the record type to upgrade it.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes `value` behind the `format` byte.
pub fn encode<T: Serialize>(format: u8, value: &T) -> Result<Vec<u8>> {
    let mut out = vec![format];
    bincode::serde::encode_into_std_write(value, &mut out, config())
        .map_err(|err| Error::Corrupt(format!("cannot encode row: {err}")))?;
    Ok(out)
}

/// Splits a stored value into its format byte and payload.
pub fn split(bytes: &[u8]) -> Result<(u8, &[u8])> {
    match bytes.split_first() {
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
