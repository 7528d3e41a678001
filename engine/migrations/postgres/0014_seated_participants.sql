-- Droply's store on PostgreSQL, version 14: the drop-in participants still
-- seated (`idx_seated_participants`: active, still in their room), keyed by
-- the session's id and then the row's, both big-endian as the engine keys
-- them. A participant leaves it in the write that makes them leave, so a
-- full room's take-back of lapsed seats reads its seats, not every row the
-- session ever had (departed rows stay: their messages name them). Filled
-- here with the participants active now. Sled's schema 12 does the same.
CREATE TABLE "idx_seated_participants" (
  key bytea PRIMARY KEY,
  id bigint NOT NULL REFERENCES "dropin_participant" (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO "idx_seated_participants" (key, id)
  SELECT int8send("session_id") || int8send(id), id FROM "dropin_participant"
  WHERE "is_active";
