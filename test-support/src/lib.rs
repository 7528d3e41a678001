//! What the workspace's tests share: rows with every field set
//! ([`fixtures`]), a temporary store, and a deterministic stand-in for the
//! sentence model ([`hash_embedder`]). A dev-dependency only; nothing here
//! ships in the binary.

pub mod fixtures;
pub mod hash_embedder;
