-- Droply's store on PostgreSQL, version 12: a drop-in pass names the
-- sign-in session its participant joined with (`signed_in_with`, no
-- foreign key: a sign-out deletes that row, and the pass is then refused);
-- passes issued before, and guests', have none. Drop-in participants get
-- an index by user (`idx_participants_by_user`, keyed by the user's id and
-- then the row's, both big-endian as the engine keys them), filled here
-- with the rows already held; guests' rows have no entry. Sled's schema
-- 10 does the same.
ALTER TABLE "dropin_pass" ADD COLUMN "signed_in_with" bigint;
CREATE TABLE "idx_participants_by_user" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "dropin_participant" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO "idx_participants_by_user" (key, id)
  SELECT int8send("user_id") || int8send(id), id FROM "dropin_participant"
  WHERE "user_id" IS NOT NULL;
