//! The store's instance key: 16 random bytes made once when first asked for
//! and kept in the metadata tree. Outside services see it where our ids
//! alone would not be unique: Stripe idempotency keys (two stores both have a
//! booking 1) and the tag on objects we create there, so a store never acts
//! on another store's events.

use rand::RngCore;

use super::{Backend, Store, TreeId};
use crate::{Error, Result};

const META_INSTANCE_KEY: &[u8] = b"instance_key";

impl Store {
    /// This store's instance key as 32 lower-case hex characters; made and
    /// saved durably on first use, the same ever after.
    pub fn instance_key(&self) -> Result<String> {
        let mut fresh = [0_u8; 16];
        rand::rng().fill_bytes(&mut fresh);
        self.instance_key_or(&fresh)
    }

    /// Takes `key` (32 hex characters) as this store's instance key: for a
    /// copy of a store, which must go on being the same store to Stripe.
    /// Refused when this store already has another.
    pub fn adopt_instance_key(&self, key: &str) -> Result<()> {
        let bytes = hex::decode(key)
            .ok()
            .filter(|bytes| bytes.len() == 16)
            .ok_or_else(|| Error::Invalid("an instance key is 32 hex characters".to_owned()))?;
        if self.instance_key_or(&bytes)? != key.to_ascii_lowercase() {
            return Err(Error::Invalid(
                "the target store already has an instance key of its own".to_owned(),
            ));
        }
        Ok(())
    }

    /// The instance key, set to `fresh` first when there is none.
    fn instance_key_or(&self, fresh: &[u8]) -> Result<String> {
        let trees = match &self.inner.backend {
            Backend::Sled(trees) => trees,
            Backend::Postgres(pg) => {
                let key = super::pg::off_runtime(|| pg.meta_or_insert("instance_key", fresh))?;
                return Ok(hex::encode(key));
            }
        };
        let meta = trees.tree(TreeId::Meta);
        if let Some(key) = meta.get(META_INSTANCE_KEY)? {
            return Ok(hex::encode(key));
        }
        // Two first callers race: the first write wins, both read it back.
        let _ = meta.compare_and_swap(META_INSTANCE_KEY, None as Option<&[u8]>, Some(fresh))?;
        self.flush()?;
        let key = meta
            .get(META_INSTANCE_KEY)?
            .ok_or_else(|| Error::Corrupt("the instance key vanished".to_owned()))?;
        Ok(hex::encode(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = {
            let store = Store::open(dir.path()).expect("open");
            let key = store.instance_key().expect("key");
            assert_eq!(store.instance_key().expect("again"), key);
            key
        };
        assert_eq!(first.len(), 32);
        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(store.instance_key().expect("reopened"), first);
        let other = Store::open_temporary().expect("other");
        assert_ne!(other.instance_key().expect("other key"), first);
    }
}
