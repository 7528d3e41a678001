-- Droply's store on PostgreSQL, version 15: `payout_idempotency`
-- (`payments::PayoutIdempotency`), the `Idempotency-Key` an expert's client
-- sent with `POST /v1/payouts`, a fingerprint of the amount it asked for,
-- and the payout it made, written in the payout's transaction, so a
-- request sent again after its answer was lost returns that payout instead
-- of a second transfer. One per (requester, key) in
-- `uniq_payout_idempotency_key`. Sled keeps the same rows in a tree of
-- their own, made when the store opens.
CREATE TABLE "payout_idempotency" (
  id bigint PRIMARY KEY,
  "requester" bigint NOT NULL REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  "key" text NOT NULL,
  "payout_id" bigint NOT NULL REFERENCES "payout" (id) DEFERRABLE INITIALLY DEFERRED,
  "fingerprint" text NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('payout_idempotency', 0);
CREATE TABLE "uniq_payout_idempotency_key" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "payout_idempotency" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
