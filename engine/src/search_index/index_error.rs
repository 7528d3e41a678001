//! Index failures as engine errors. The engine's error has no index variant yet, so a
//! damaged index maps to `Corrupt`, file trouble to `Io`, the rest to `Storage` (the
//! indexes are derived storage).

use crate::Error;

impl From<droply_index::Error> for Error {
    fn from(err: droply_index::Error) -> Self {
        match err {
            droply_index::Error::Io(io) => Error::Io(io),
            droply_index::Error::IndexCorrupt { .. } => Error::Corrupt(err.to_string()),
            droply_index::Error::Invalid(reason) => Error::Invalid(reason),
            other => Error::Storage(other.to_string()),
        }
    }
}
