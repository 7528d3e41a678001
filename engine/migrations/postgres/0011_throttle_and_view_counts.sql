-- Droply's store on PostgreSQL, version 11: what the sign-in throttle and
-- the content view count kept in each node's memory, now shared by every
-- node (per node, two nodes gave a guesser twice the sign-in attempts and
-- counted a viewer once per node a day, and a restart forgot them).
-- `login_attempts` (`accounts::LoginAttempts`): one (client network,
-- email) pair's attempts still within the window. `counted_view`
-- (`content::CountedView`): a viewer's view of a content item already
-- counted today. Neither holds an address, an email or a user: each row is
-- keyed only by an HMAC-SHA256 (hex) of what it is about under a secret
-- kept in `meta` (`secret_key`, not the instance key), unique in
-- `uniq_login_pair` / `uniq_counted_view`. Each row lapses at
-- `expires_at` (the pair's last attempt leaving the window, the view's day
-- ending) and is listed by it, for the sweep, in
-- `idx_login_attempts_by_expiry` / `idx_counted_views_by_expiry`.
CREATE TABLE "login_attempts" (
  id bigint PRIMARY KEY,
  "pair_key" text NOT NULL,
  "attempts" timestamptz[] NOT NULL,
  "expires_at" timestamptz NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('login_attempts', 0);
CREATE TABLE "counted_view" (
  id bigint PRIMARY KEY,
  "view_key" text NOT NULL,
  "expires_at" timestamptz NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('counted_view', 0);
CREATE TABLE "idx_login_attempts_by_expiry" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "login_attempts" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "idx_counted_views_by_expiry" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "counted_view" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_login_pair" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "login_attempts" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE "uniq_counted_view" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "counted_view" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
