-- Droply's store on PostgreSQL, version 9: `calendar_revocation`, the
-- Google grants still to be revoked after a disconnect
-- (`calendar::PendingRevocation`): written in the disconnecting
-- transaction, sent after it, and sent again by the calendar sync until
-- Google takes it or it is given up. `token` is the grant's token sealed
-- with the service's key (AES-GCM bytes as a JSON array, as
-- `calendar_connection`'s tokens are), never the token in clear. No
-- foreign key to `user`: a revocation outlives its connection and is
-- about a grant at Google, not a row here.
CREATE TABLE "calendar_revocation" (
  id bigint PRIMARY KEY,
  "user_id" bigint NOT NULL,
  "token" jsonb NOT NULL,
  "requested_at" timestamptz NOT NULL,
  "attempts" bigint NOT NULL,
  "not_before" timestamptz NOT NULL,
  "last_error" text
);
INSERT INTO entity_rows (kind, row_count) VALUES ('calendar_revocation', 0);
