//! Where a store lives, as `droply serve --store` and `DROPLY_STORE` name it:
//! `sled:DIR` (or a bare directory) for the embedded store, or a
//! `postgres://` / `postgresql://` URL for a shared PostgreSQL database.

use std::path::PathBuf;

use crate::{Error, Result};

/// A store's place.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A sled database in this directory.
    Sled(PathBuf),
    /// A PostgreSQL database at this URL.
    Postgres(String),
}

impl StoreLocation {
    /// Reads `sled:DIR`, `postgres://…`, `postgresql://…` or a directory.
    pub fn parse(text: &str) -> Result<StoreLocation> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(StoreLocation::Postgres(text.to_owned()));
        }
        let dir = text.strip_prefix("sled:").unwrap_or(text);
        if dir.is_empty() {
            return Err(Error::Config(
                "a store is `sled:DIR` or a `postgres://` URL".to_owned(),
            ));
        }
        Ok(StoreLocation::Sled(PathBuf::from(dir)))
    }
}

impl std::str::FromStr for StoreLocation {
    type Err = Error;

    fn from_str(text: &str) -> Result<StoreLocation> {
        StoreLocation::parse(text)
    }
}

// Not derived: a URL may carry a password.
impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sled(dir) => write!(f, "sled:{}", dir.display()),
            StoreLocation::Postgres(_) => f.write_str("postgres://…"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_backends() {
        assert_eq!(
            StoreLocation::parse("sled:/var/lib/droply").expect("sled"),
            StoreLocation::Sled(PathBuf::from("/var/lib/droply"))
        );
        assert_eq!(
            StoreLocation::parse("data/store").expect("dir"),
            StoreLocation::Sled(PathBuf::from("data/store"))
        );
        assert_eq!(
            StoreLocation::parse("postgresql://u@127.0.0.1/droply").expect("pg"),
            StoreLocation::Postgres("postgresql://u@127.0.0.1/droply".to_owned())
        );
        assert!(StoreLocation::parse("sled:").is_err());
        assert_eq!(
            format!(
                "{:?}",
                StoreLocation::parse("postgres://u:pw@h/d").expect("pg")
            ),
            "postgres://…"
        );
    }
}
