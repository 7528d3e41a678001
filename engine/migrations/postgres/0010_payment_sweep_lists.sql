-- Droply's store on PostgreSQL, version 10: the payments sweep's work
-- lists (`payments::due_calls`), so that a sweep reads only the rows that
-- owe Stripe a call instead of every payment and payout ever made.
-- `idx_payment_calls_due` lists a payment while its given-up PaymentIntent
-- is to be cancelled or a refund of it is requested and unanswered;
-- `idx_pending_payouts` a payout while its transfer is unsent. A settled
-- row has no entry. The engine builds the keys: the Rust step after this
-- file (`migrate.rs`) enters the rows already owing a call, in the same
-- transaction; sled's schema 9 does the same.
CREATE TABLE "idx_payment_calls_due" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "payment" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_pending_payouts" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "payout" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
