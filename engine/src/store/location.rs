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
    /// The scheme is read in any case; anything else that looks like a URL
    /// or a connection string (`postgress://…`, `host=… password=…`) is
    /// refused rather than taken for a directory to create.
    pub fn parse(text: &str) -> Result<StoreLocation> {
        let text = text.trim();
        let refused = || Error::Config("a store is `sled:DIR` or a `postgres://` URL".to_owned());
        if let Some((scheme, rest)) = text.split_once("://") {
            return match scheme.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" => {
                    Ok(StoreLocation::Postgres(format!("postgres://{rest}")))
                }
                _ => Err(refused()),
            };
        }
        if text.to_ascii_lowercase().contains("password=") {
            return Err(refused());
        }
        let dir = text.strip_prefix("sled:").unwrap_or(text);
        if dir.is_empty() {
            return Err(refused());
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
            StoreLocation::Postgres("postgres://u@127.0.0.1/droply".to_owned())
        );
        assert_eq!(
            StoreLocation::parse("POSTGRES://u@h/d").expect("pg"),
            StoreLocation::Postgres("postgres://u@h/d".to_owned())
        );
        assert!(StoreLocation::parse("sled:").is_err());
        // Regression: a mistyped URL or a connection string became a sled
        // directory named after it (the copy went there and exited 0).
        for typo in ["postgress://u:p@h/db", "mysql://h/db", "host=db password=x"] {
            assert!(StoreLocation::parse(typo).is_err(), "{typo}");
        }
        assert_eq!(
            format!(
                "{:?}",
                StoreLocation::parse("postgres://u:pw@h/d").expect("pg")
            ),
            "postgres://…"
        );
    }
}
