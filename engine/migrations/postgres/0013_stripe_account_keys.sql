-- Droply's store on PostgreSQL, version 13: a connected Stripe account
-- belongs to one user. Its unique key (`uniq_stripe_account`, keyed by the
-- account's id as Stripe gave it) is what a bank payout's event finds the
-- account's holder by, rather than reading every expert. Users without an
-- account have no entry. The keys are filled by the engine's own rule, in
-- Rust, right after this file in the same transaction (`pg/migrate.rs`,
-- `key_stripe_accounts`): where two users hold one account (Stripe never
-- makes one for two), the lowest id keeps it and the others are logged.
-- Sled's schema 11 does the same.
CREATE TABLE "uniq_stripe_account" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "user" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
