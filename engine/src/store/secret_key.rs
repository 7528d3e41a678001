//! The store's secret key: 32 random bytes made once, on first use, and kept
//! in the store's metadata, so that every node sharing a PostgreSQL store
//! holds the same key and a restart keeps it. Unlike the instance key
//! (`instance.rs`, which Stripe sees and `<data-dir>/store-instance` names),
//! it never leaves the store: it keys the hashes the store keeps in place of
//! what must not be kept in clear (a sign-in's client network and email, a
//! content viewer), so that the rows alone do not let anyone test guesses
//! against them, as a plain hash of an address and an email would.
//! `droply migrate` carries it ([`Store::adopt_secret_key_of`]), in place
//! of any key the copy made of its own, so the rows keyed under it go on
//! matching in the copy.

use std::sync::{Arc, OnceLock};

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::{Backend, Store, TreeId};
use crate::{Error, Result};

const META_SECRET_KEY: &str = "secret_key";

/// The store's secret key; its `Debug` shows none of it.
#[derive(Clone)]
pub(crate) struct StoreSecret(Arc<[u8; 32]>);

impl std::fmt::Debug for StoreSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreSecret(..)")
    }
}

impl StoreSecret {
    /// HMAC-SHA256 under this key of `label` (what the hash is for, so that
    /// hashes made for one purpose never match another's) and then each of
    /// `parts`, each preceded by its length (so that no two lists of parts
    /// run together into the same bytes), as 64 lower-case hex digits.
    pub(crate) fn keyed_hash(&self, label: &str, parts: &[&[u8]]) -> Result<String> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.as_slice())
            .map_err(|_| Error::Corrupt("the store's secret key cannot key an HMAC".to_owned()))?;
        for part in std::iter::once(label.as_bytes()).chain(parts.iter().copied()) {
            mac.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            mac.update(part);
        }
        Ok(hex::encode(mac.finalize().into_bytes()))
    }
}

/// The store's secret key, read from the store once and kept by its holder
/// (the key never changes once made).
#[derive(Debug, Default)]
pub(crate) struct SecretKeyCell(OnceLock<StoreSecret>);

impl SecretKeyCell {
    /// The key of `store`, made on the store's first use of it.
    pub(crate) fn get(&self, store: &Store) -> Result<&StoreSecret> {
        if let Some(secret) = self.0.get() {
            return Ok(secret);
        }
        let secret = store.secret_key()?;
        Ok(self.0.get_or_init(|| secret))
    }
}

impl Store {
    /// This store's secret key; made and saved durably on first use, the
    /// same ever after and on every node.
    pub(crate) fn secret_key(&self) -> Result<StoreSecret> {
        let mut fresh = [0_u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        let kept = match &self.inner.backend {
            Backend::Postgres(pg) => {
                super::pg::off_runtime(|| pg.meta_or_insert(META_SECRET_KEY, &fresh))?
            }
            Backend::Sled(trees) => {
                let meta = trees.tree(TreeId::Meta);
                let key = META_SECRET_KEY.as_bytes();
                match meta.get(key)? {
                    Some(kept) => kept.to_vec(),
                    None => {
                        // Two first callers race: the first write wins, both read it back.
                        let fresh: &[u8] = &fresh;
                        let _ = meta.compare_and_swap(key, None as Option<&[u8]>, Some(fresh))?;
                        self.flush()?;
                        meta.get(key)?
                            .ok_or_else(|| {
                                Error::Corrupt("the store's secret key vanished".to_owned())
                            })?
                            .to_vec()
                    }
                }
            }
        };
        let key: [u8; 32] = kept
            .try_into()
            .map_err(|_| Error::Corrupt("the store's secret key is not 32 bytes".to_owned()))?;
        Ok(StoreSecret(Arc::new(key)))
    }

    /// Takes `source`'s secret key as this store's, in place of any this
    /// store made of its own (made in `source` first when it has none, as
    /// [`Store::secret_key`] makes it): for a copy of `source` (`droply
    /// migrate`), whose rows keyed under that key must go on matching. The
    /// key goes from store to store and nowhere else. Take it before this
    /// store is used: a holder that read this store's key before
    /// ([`SecretKeyCell`]) keeps the key it read.
    pub(crate) fn adopt_secret_key_of(&self, source: &Store) -> Result<()> {
        let secret = source.secret_key()?;
        self.write(|txn| {
            txn.put_meta(META_SECRET_KEY, secret.0.as_slice().to_vec());
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_kept_and_never_shown() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hash = |store: &Store| {
            store
                .secret_key()
                .expect("key")
                .keyed_hash("test", &[b"a", b"b"])
                .expect("hash")
        };
        let first = {
            let store = Store::open(dir.path()).expect("open");
            let first = hash(&store);
            assert_eq!(hash(&store), first, "the same key each time");
            let secret = store.secret_key().expect("key");
            assert_eq!(format!("{secret:?}"), "StoreSecret(..)");
            let instance = store.instance_key().expect("instance key");
            assert_ne!(
                hex::encode(secret.0.as_slice()).get(..32),
                Some(instance.as_str()),
                "not the instance key"
            );
            first
        };
        assert_eq!(first.len(), 64);
        let reopened = Store::open(dir.path()).expect("reopen");
        assert_eq!(hash(&reopened), first, "kept across a restart");
        let other = Store::open_temporary().expect("other");
        assert_ne!(hash(&other), first, "another store, another key");
    }

    #[test]
    fn an_adopted_key_replaces_the_one_the_store_made() {
        let source = Store::open_temporary().expect("source");
        let target = Store::open_temporary().expect("target");
        let own = target.secret_key().expect("the target's own key");
        target.adopt_secret_key_of(&source).expect("adopt");
        let adopted = target.secret_key().expect("the adopted key");
        // Compared without printing a key.
        assert!(adopted.0 == source.secret_key().expect("the source's key").0);
        assert!(adopted.0 != own.0, "the target's own key is gone");
    }

    #[test]
    fn parts_do_not_run_together_and_labels_keep_purposes_apart() {
        let secret = StoreSecret(Arc::new([7; 32]));
        let hash = |label: &str, parts: &[&[u8]]| secret.keyed_hash(label, parts).expect("hash");
        assert_ne!(hash("x", &[b"ab", b"c"]), hash("x", &[b"a", b"bc"]));
        assert_ne!(hash("x", &[b"a"]), hash("y", &[b"a"]));
        assert_eq!(hash("x", &[b"a"]), hash("x", &[b"a"]));
    }
}
