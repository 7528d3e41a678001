-- Droply's store on PostgreSQL, version 1.
--
-- One table per entity: the row as JSON (`body`, the serde form of the
-- engine's record) plus real columns generated from it for what the
-- database itself enforces or what people query: names, owners, times as
-- timestamptz, money as integer minor units plus currency. One table per
-- relationship index and per unique key (keys built by the engine, sorted
-- byte-wise like sled's trees), each entry pointing at its row by a foreign
-- key. The change feed is the `changes` outbox, written in the transaction
-- of each change. Generated from `engine/src/store/tree_id.rs`; a test
-- checks that every tree has its table.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- RFC 3339 text (always with an offset, as the engine writes it) to an
-- instant: immutable for that input, so generated columns may use it.
CREATE FUNCTION droply_instant(text) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN $1::timestamptz;

-- The writers' counters: the next row id and the last feed sequence.
CREATE TABLE store_counters (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  next_id bigint NOT NULL,
  last_seq bigint NOT NULL
);
INSERT INTO store_counters (next_id, last_seq) VALUES (1, 0);

-- Rows per entity, kept by every write, so counting is one read.
CREATE TABLE entity_rows (
  kind text PRIMARY KEY,
  row_count bigint NOT NULL CHECK (row_count >= 0)
);

-- Store metadata (the instance key).
CREATE TABLE meta (
  key text PRIMARY KEY,
  value bytea NOT NULL
);

-- The change feed: one entry per row changed, in commit order.
CREATE TABLE changes (
  seq bigint PRIMARY KEY,
  at timestamptz NOT NULL,
  kind smallint NOT NULL,
  row_id bigint NOT NULL,
  op smallint NOT NULL CHECK (op IN (0, 1)),
  owner bigint
);
-- Entities.
CREATE TABLE "user" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL,
  username text GENERATED ALWAYS AS (body->>'username') STORED,
  email text GENERATED ALWAYS AS (body->>'email') STORED,
  referral_code text GENERATED ALWAYS AS (body->>'referral_code') STORED,
  created_at timestamptz GENERATED ALWAYS AS (droply_instant(body->>'created_at')) STORED
);
INSERT INTO entity_rows (kind, row_count) VALUES ('user', 0);
CREATE TABLE "booking" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL,
  user_id bigint GENERATED ALWAYS AS ((body->>'user_id')::bigint) STORED REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  provider_id bigint GENERATED ALWAYS AS ((body->>'provider_id')::bigint) STORED REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  status text GENERATED ALWAYS AS (body->>'status') STORED,
  during tstzrange GENERATED ALWAYS AS (tstzrange(droply_instant(body->>'start_time'), droply_instant(body->>'end_time'))) STORED,
  amount_minor bigint GENERATED ALWAYS AS ((body->'payment_amount'->>'amount_minor')::bigint) STORED,
  currency text GENERATED ALWAYS AS (body->'payment_amount'->>'currency') STORED,
  CONSTRAINT booking_no_double_booking EXCLUDE USING gist (provider_id WITH =, during WITH &&) WHERE (status = 'confirmed') DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO entity_rows (kind, row_count) VALUES ('booking', 0);
CREATE TABLE "favorite" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL,
  user_id bigint GENERATED ALWAYS AS ((body->>'user_id')::bigint) STORED REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  favorited_user_id bigint GENERATED ALWAYS AS ((body->>'favorited_user_id')::bigint) STORED REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT favorite_pair_key UNIQUE (user_id, favorited_user_id)
);
INSERT INTO entity_rows (kind, row_count) VALUES ('favorite', 0);
CREATE TABLE "interaction" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('interaction', 0);
CREATE TABLE "availability_rule" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('availability_rule', 0);
CREATE TABLE "availability_exception" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('availability_exception', 0);
CREATE TABLE "payout" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('payout', 0);
CREATE TABLE "referral" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('referral', 0);
CREATE TABLE "referral_reward" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('referral_reward', 0);
CREATE TABLE "content" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('content', 0);
CREATE TABLE "content_purchase" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('content_purchase', 0);
CREATE TABLE "dropin_session" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL,
  session_code text GENERATED ALWAYS AS (body->>'session_code') STORED UNIQUE
);
INSERT INTO entity_rows (kind, row_count) VALUES ('dropin_session', 0);
CREATE TABLE "dropin_participant" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('dropin_participant', 0);
CREATE TABLE "dropin_message" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('dropin_message', 0);
CREATE TABLE "ai_match" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('ai_match', 0);
CREATE TABLE "category" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('category', 0);
CREATE TABLE "auth_session" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('auth_session', 0);
CREATE TABLE "booking_idempotency" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL,
  booker bigint GENERATED ALWAYS AS ((body->>'booker')::bigint) STORED,
  key text GENERATED ALWAYS AS (body->>'key') STORED,
  CONSTRAINT booking_idempotency_key UNIQUE (booker, key)
);
INSERT INTO entity_rows (kind, row_count) VALUES ('booking_idempotency', 0);
CREATE TABLE "payment" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL,
  intent_id text GENERATED ALWAYS AS (body->>'intent_id') STORED UNIQUE,
  amount_minor bigint GENERATED ALWAYS AS ((body->'amount'->>'amount_minor')::bigint) STORED,
  currency text GENERATED ALWAYS AS (body->'amount'->>'currency') STORED
);
INSERT INTO entity_rows (kind, row_count) VALUES ('payment', 0);
CREATE TABLE "ledger_entry" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL,
  account bigint GENERATED ALWAYS AS ((body->>'account')::bigint) STORED,
  amount_minor bigint GENERATED ALWAYS AS ((body->'amount'->>'amount_minor')::bigint) STORED,
  currency text GENERATED ALWAYS AS (body->'amount'->>'currency') STORED,
  created_at timestamptz GENERATED ALWAYS AS (droply_instant(body->>'created_at')) STORED
);
INSERT INTO entity_rows (kind, row_count) VALUES ('ledger_entry', 0);
CREATE TABLE "stripe_event" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL,
  event_id text GENERATED ALWAYS AS (body->>'event_id') STORED UNIQUE
);
INSERT INTO entity_rows (kind, row_count) VALUES ('stripe_event', 0);
CREATE TABLE "review" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('review', 0);
CREATE TABLE "dropin_pass" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('dropin_pass', 0);
CREATE TABLE "video_room" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('video_room', 0);
CREATE TABLE "daily_event" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL,
  event_id text GENERATED ALWAYS AS (body->>'event_id') STORED UNIQUE
);
INSERT INTO entity_rows (kind, row_count) VALUES ('daily_event', 0);
CREATE TABLE "recording" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('recording', 0);
CREATE TABLE "calendar_connection" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('calendar_connection', 0);
CREATE TABLE "oauth_state" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('oauth_state', 0);
CREATE TABLE "busy_times" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('busy_times', 0);
CREATE TABLE "calendar_op" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('calendar_op', 0);
CREATE TABLE "calendar_event" (
  id bigint PRIMARY KEY,
  body jsonb NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('calendar_event', 0);
CREATE UNIQUE INDEX user_username_key ON "user" (lower(username));
CREATE UNIQUE INDEX user_email_key ON "user" (lower(email));
CREATE UNIQUE INDEX user_referral_code_key ON "user" (referral_code);
CREATE INDEX booking_provider_during ON booking USING gist (provider_id, during);
CREATE INDEX ledger_entry_account ON ledger_entry (account, created_at);

-- Relationship indexes: the engine's key (owner, sort parts, row id) and the row.
CREATE TABLE "idx_bookings_by_booker" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "booking" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_bookings_by_provider" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "booking" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_favorites_by_user" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "favorite" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_favorites_by_target" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "favorite" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_interactions_by_user" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "interaction" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_interactions_by_target" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "interaction" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_rules_by_user" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "availability_rule" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_exceptions_by_user" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "availability_exception" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_payouts_by_user" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "payout" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_referrals_by_referrer" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "referral" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_referrals_by_referred" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "referral" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_rewards_by_booking" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "referral_reward" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_rewards_by_referrer" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "referral_reward" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_content_by_creator" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "content" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_purchases_by_buyer" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "content_purchase" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_purchases_by_content" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "content_purchase" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_dropins_by_host" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "dropin_session" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_participants_by_session" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "dropin_participant" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_messages_by_session" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "dropin_message" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_matches_by_user" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "ai_match" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_experts" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "user" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_sessions_by_user" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "auth_session" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_payments_by_booking" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "payment" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_ledger_by_user" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "ledger_entry" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_unpaid_holds" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "booking" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_reviews_by_expert" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "review" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_payments_by_purchase" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "payment" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_purchases_by_buyer_content" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "content_purchase" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_rewards_by_purchase" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "referral_reward" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_pending_rewards" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "referral_reward" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_open_dropins" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "dropin_session" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_video_rooms_due" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "video_room" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_recordings_by_booking" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "recording" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_oauth_states_by_user" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "oauth_state" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

-- Unique keys: the normalised value and the row holding it.
CREATE TABLE "uniq_username" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "user" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_email" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "user" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_referral_code" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "user" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_session_code" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "dropin_session" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_favorite" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "favorite" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_token_hash" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "auth_session" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_idempotency_key" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "booking_idempotency" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_payment_intent" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "payment" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_stripe_event" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "stripe_event" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_review" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "review" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_dropin_token" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "dropin_pass" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_video_room" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "video_room" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_daily_event" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "daily_event" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_recording" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "recording" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_oauth_state" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "oauth_state" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
