//! What the workspace's tests share: rows with every field set
//! ([`fixtures`]), a temporary store, a store on either backend
//! ([`fixtures::StorePlace`]) and PostgreSQL databases ([`postgres`]), a
//! deterministic stand-in for the sentence model ([`hash_embedder`]), and
//! Stripe on loopback ([`stripe`]:
//! localstripe, a Connect fake in front of it, a PaymentIntents fake that
//! holds creations, signed webhook deliveries),
//! Daily.co on loopback ([`daily_fake`]), and Google's OAuth and Calendar
//! endpoints faked in process ([`google_fake`]).
//! A dev-dependency only; nothing here ships in the binary.

pub mod daily_fake;
pub mod fixtures;
pub mod google_fake;
pub mod hash_embedder;
mod loopback;
pub mod postgres;
pub mod stripe;
