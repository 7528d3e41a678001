-- Droply's store on PostgreSQL, version 5: `dropin_seat`, how long a
-- drop-in participant's seat is held without a renewal (one row per
-- participant, keyed by its id). Seats are counted by presence: a join
-- holds its seat for a short grace, a live connection renews it, and a
-- full room takes back the lapsed ones.
CREATE TABLE "dropin_seat" (
  id bigint PRIMARY KEY,
  "participant_id" bigint NOT NULL,
  "session_id" bigint NOT NULL,
  "held_until" timestamptz NOT NULL
);
INSERT INTO entity_rows (kind, row_count) VALUES ('dropin_seat', 0);
ALTER TABLE "dropin_seat"
  ADD CONSTRAINT dropin_seat_participant_id_fkey FOREIGN KEY ("participant_id") REFERENCES "dropin_participant" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT dropin_seat_session_id_fkey FOREIGN KEY ("session_id") REFERENCES "dropin_session" (id) DEFERRABLE INITIALLY DEFERRED;
