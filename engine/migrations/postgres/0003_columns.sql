-- Droply's store on PostgreSQL, version 3: every field a column.
--
-- Version 1 kept each row as its serde JSON (`body`) with real columns
-- generated from it only where the database enforced or people queried
-- something. Now every field of every entity is a real, typed column:
-- ids as bigint, instants as timestamptz, money as `droply_money`
-- (integer minor units plus an ISO 4217 code), names, codes and states as
-- text, counts as integers, lists of names as arrays; only nested
-- structures (a review's rating totals, file facts, refunds, busy spans,
-- match reasons, what a payment is for, sealed tokens) stay jsonb. Fields
-- that are not optional are NOT NULL. The engine writes a row as its JSON
-- through `jsonb_populate_record` and reads it back with `to_jsonb`, so
-- each column's type checks what it is given. Existing rows are converted
-- here; the columns version 1 generated become plain columns holding the
-- same values, with their unique indexes, foreign keys and the booking
-- exclusion constraint kept. Generated from the engine's record types.

CREATE TYPE droply_money AS (amount_minor bigint, currency text);

-- user (User)
ALTER TABLE "user"
  ALTER COLUMN "username" DROP EXPRESSION,
  ALTER COLUMN "email" DROP EXPRESSION,
  ALTER COLUMN "referral_code" DROP EXPRESSION,
  ALTER COLUMN "created_at" DROP EXPRESSION,
  ADD COLUMN "password_hash" text,
  ADD COLUMN "full_name" text,
  ADD COLUMN "phone" text,
  ADD COLUMN "bio" text,
  ADD COLUMN "industry" text,
  ADD COLUMN "profession" text,
  ADD COLUMN "location" text,
  ADD COLUMN "skills" text,
  ADD COLUMN "skills_1" text,
  ADD COLUMN "skills_2" text,
  ADD COLUMN "skills_3" text,
  ADD COLUMN "specialty_tags" text[],
  ADD COLUMN "profile_picture" text,
  ADD COLUMN "background_color" text,
  ADD COLUMN "primary_color" text,
  ADD COLUMN "secondary_color" text,
  ADD COLUMN "font_family" text,
  ADD COLUMN "font_size" smallint,
  ADD COLUMN "profile_layout" text,
  ADD COLUMN "hourly_rate" droply_money,
  ADD COLUMN "currency" text,
  ADD COLUMN "rating" jsonb,
  ADD COLUMN "is_available" boolean,
  ADD COLUMN "is_featured_user" boolean,
  ADD COLUMN "stripe_account_id" text,
  ADD COLUMN "stripe_account_status" text,
  ADD COLUMN "payout_enabled" boolean,
  ADD COLUMN "payout_schedule" text,
  ADD COLUMN "total_earnings" droply_money,
  ADD COLUMN "total_payouts" droply_money,
  ADD COLUMN "pending_balance" droply_money,
  ADD COLUMN "linkedin_url" text,
  ADD COLUMN "twitter_url" text,
  ADD COLUMN "github_url" text,
  ADD COLUMN "instagram_url" text,
  ADD COLUMN "facebook_url" text,
  ADD COLUMN "youtube_url" text,
  ADD COLUMN "snapchat_url" text,
  ADD COLUMN "website_url" text,
  ADD COLUMN "service_description" text,
  ADD COLUMN "session_duration" integer,
  ADD COLUMN "content_description" text,
  ADD COLUMN "content_categories" bigint[],
  ADD COLUMN "google_calendar_connected" boolean,
  ADD COLUMN "google_calendar_token" text,
  ADD COLUMN "google_calendar_refresh_token" text,
  ADD COLUMN "google_calendar_id" text,
  ADD COLUMN "referred_by" bigint,
  ADD COLUMN "total_referral_earnings" droply_money,
  ADD COLUMN "referral_count" bigint,
  ADD COLUMN "language" text,
  ADD COLUMN "timezone" text,
  ADD COLUMN "email_notifications" boolean,
  ADD COLUMN "updated_at" timestamptz;
UPDATE "user" AS t SET ("password_hash", "full_name", "phone", "bio", "industry", "profession", "location", "skills", "skills_1", "skills_2", "skills_3", "specialty_tags", "profile_picture", "background_color", "primary_color", "secondary_color", "font_family", "font_size", "profile_layout", "hourly_rate", "currency", "rating", "is_available", "is_featured_user", "stripe_account_id", "stripe_account_status", "payout_enabled", "payout_schedule", "total_earnings", "total_payouts", "pending_balance", "linkedin_url", "twitter_url", "github_url", "instagram_url", "facebook_url", "youtube_url", "snapchat_url", "website_url", "service_description", "session_duration", "content_description", "content_categories", "google_calendar_connected", "google_calendar_token", "google_calendar_refresh_token", "google_calendar_id", "referred_by", "total_referral_earnings", "referral_count", "language", "timezone", "email_notifications", "updated_at") = (
  SELECT r."password_hash", r."full_name", r."phone", r."bio", r."industry", r."profession", r."location", r."skills", r."skills_1", r."skills_2", r."skills_3", r."specialty_tags", r."profile_picture", r."background_color", r."primary_color", r."secondary_color", r."font_family", r."font_size", r."profile_layout", r."hourly_rate", r."currency", r."rating", r."is_available", r."is_featured_user", r."stripe_account_id", r."stripe_account_status", r."payout_enabled", r."payout_schedule", r."total_earnings", r."total_payouts", r."pending_balance", r."linkedin_url", r."twitter_url", r."github_url", r."instagram_url", r."facebook_url", r."youtube_url", r."snapchat_url", r."website_url", r."service_description", r."session_duration", r."content_description", r."content_categories", r."google_calendar_connected", r."google_calendar_token", r."google_calendar_refresh_token", r."google_calendar_id", r."referred_by", r."total_referral_earnings", r."referral_count", r."language", r."timezone", r."email_notifications", r."updated_at"
  FROM jsonb_populate_record(NULL::"user", t.body) AS r);
ALTER TABLE "user"
  DROP COLUMN body,
  ALTER COLUMN "username" SET NOT NULL,
  ALTER COLUMN "email" SET NOT NULL,
  ALTER COLUMN "password_hash" SET NOT NULL,
  ALTER COLUMN "full_name" SET NOT NULL,
  ALTER COLUMN "bio" SET NOT NULL,
  ALTER COLUMN "industry" SET NOT NULL,
  ALTER COLUMN "profession" SET NOT NULL,
  ALTER COLUMN "location" SET NOT NULL,
  ALTER COLUMN "skills" SET NOT NULL,
  ALTER COLUMN "specialty_tags" SET NOT NULL,
  ALTER COLUMN "background_color" SET NOT NULL,
  ALTER COLUMN "primary_color" SET NOT NULL,
  ALTER COLUMN "secondary_color" SET NOT NULL,
  ALTER COLUMN "font_family" SET NOT NULL,
  ALTER COLUMN "font_size" SET NOT NULL,
  ALTER COLUMN "profile_layout" SET NOT NULL,
  ALTER COLUMN "currency" SET NOT NULL,
  ALTER COLUMN "rating" SET NOT NULL,
  ALTER COLUMN "is_available" SET NOT NULL,
  ALTER COLUMN "is_featured_user" SET NOT NULL,
  ALTER COLUMN "stripe_account_status" SET NOT NULL,
  ALTER COLUMN "payout_enabled" SET NOT NULL,
  ALTER COLUMN "payout_schedule" SET NOT NULL,
  ALTER COLUMN "total_earnings" SET NOT NULL,
  ALTER COLUMN "total_payouts" SET NOT NULL,
  ALTER COLUMN "pending_balance" SET NOT NULL,
  ALTER COLUMN "service_description" SET NOT NULL,
  ALTER COLUMN "session_duration" SET NOT NULL,
  ALTER COLUMN "content_description" SET NOT NULL,
  ALTER COLUMN "content_categories" SET NOT NULL,
  ALTER COLUMN "google_calendar_connected" SET NOT NULL,
  ALTER COLUMN "referral_code" SET NOT NULL,
  ALTER COLUMN "total_referral_earnings" SET NOT NULL,
  ALTER COLUMN "referral_count" SET NOT NULL,
  ALTER COLUMN "language" SET NOT NULL,
  ALTER COLUMN "timezone" SET NOT NULL,
  ALTER COLUMN "email_notifications" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL,
  ALTER COLUMN "updated_at" SET NOT NULL;
ALTER TABLE "user"
  ADD CONSTRAINT user_referred_by_fkey FOREIGN KEY ("referred_by") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- booking (Booking)
ALTER TABLE "booking" DROP CONSTRAINT booking_no_double_booking;
DROP INDEX booking_provider_during;
ALTER TABLE "booking"
  ALTER COLUMN "user_id" DROP EXPRESSION,
  ALTER COLUMN "provider_id" DROP EXPRESSION,
  ALTER COLUMN "status" DROP EXPRESSION,
  DROP COLUMN "during",
  DROP COLUMN "amount_minor",
  DROP COLUMN "currency",
  ADD COLUMN "start_time" timestamptz,
  ADD COLUMN "end_time" timestamptz,
  ADD COLUMN "duration" integer,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "payment_status" text,
  ADD COLUMN "payment_amount" droply_money,
  ADD COLUMN "stripe_payment_intent_id" text,
  ADD COLUMN "stripe_session_id" text,
  ADD COLUMN "client_name" text,
  ADD COLUMN "client_email" text,
  ADD COLUMN "client_message" text,
  ADD COLUMN "meeting_room_id" text,
  ADD COLUMN "meeting_url" text,
  ADD COLUMN "meeting_started_at" timestamptz,
  ADD COLUMN "meeting_ended_at" timestamptz,
  ADD COLUMN "meeting_duration" bigint,
  ADD COLUMN "recording_url" text,
  ADD COLUMN "rescheduled_from" bigint,
  ADD COLUMN "cancellation_reason" text;
UPDATE "booking" AS t SET ("start_time", "end_time", "duration", "created_at", "payment_status", "payment_amount", "stripe_payment_intent_id", "stripe_session_id", "client_name", "client_email", "client_message", "meeting_room_id", "meeting_url", "meeting_started_at", "meeting_ended_at", "meeting_duration", "recording_url", "rescheduled_from", "cancellation_reason") = (
  SELECT r."start_time", r."end_time", r."duration", r."created_at", r."payment_status", r."payment_amount", r."stripe_payment_intent_id", r."stripe_session_id", r."client_name", r."client_email", r."client_message", r."meeting_room_id", r."meeting_url", r."meeting_started_at", r."meeting_ended_at", r."meeting_duration", r."recording_url", r."rescheduled_from", r."cancellation_reason"
  FROM jsonb_populate_record(NULL::"booking", t.body) AS r);
ALTER TABLE "booking"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "provider_id" SET NOT NULL,
  ALTER COLUMN "start_time" SET NOT NULL,
  ALTER COLUMN "end_time" SET NOT NULL,
  ALTER COLUMN "duration" SET NOT NULL,
  ALTER COLUMN "status" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL,
  ALTER COLUMN "payment_status" SET NOT NULL,
  ALTER COLUMN "payment_amount" SET NOT NULL,
  ALTER COLUMN "client_name" SET NOT NULL,
  ALTER COLUMN "client_email" SET NOT NULL;
ALTER TABLE "booking"
  ADD CONSTRAINT booking_rescheduled_from_fkey FOREIGN KEY ("rescheduled_from") REFERENCES "booking" (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE "booking"
  ADD COLUMN during tstzrange GENERATED ALWAYS AS (tstzrange("start_time", "end_time")) STORED,
  ADD CONSTRAINT booking_no_double_booking EXCLUDE USING gist (provider_id WITH =, during WITH &&)
    WHERE (status = 'confirmed') DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX booking_provider_during ON booking USING gist (provider_id, during);

-- favorite (Favorite)
ALTER TABLE "favorite"
  ALTER COLUMN "user_id" DROP EXPRESSION,
  ALTER COLUMN "favorited_user_id" DROP EXPRESSION,
  ADD COLUMN "created_at" timestamptz;
UPDATE "favorite" AS t SET ("created_at") = (
  SELECT r."created_at"
  FROM jsonb_populate_record(NULL::"favorite", t.body) AS r);
ALTER TABLE "favorite"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "favorited_user_id" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;

-- interaction (UserInteraction)
ALTER TABLE "interaction"
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "target_user_id" bigint,
  ADD COLUMN "interaction_type" text,
  ADD COLUMN "created_at" timestamptz;
UPDATE "interaction" AS t SET ("user_id", "target_user_id", "interaction_type", "created_at") = (
  SELECT r."user_id", r."target_user_id", r."interaction_type", r."created_at"
  FROM jsonb_populate_record(NULL::"interaction", t.body) AS r);
ALTER TABLE "interaction"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "target_user_id" SET NOT NULL,
  ALTER COLUMN "interaction_type" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;
ALTER TABLE "interaction"
  ADD CONSTRAINT interaction_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT interaction_target_user_id_fkey FOREIGN KEY ("target_user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- availability_rule (AvailabilityRule)
ALTER TABLE "availability_rule"
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "weekday" smallint,
  ADD COLUMN "start" text,
  ADD COLUMN "end" text,
  ADD COLUMN "is_active" boolean,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "updated_at" timestamptz;
UPDATE "availability_rule" AS t SET ("user_id", "weekday", "start", "end", "is_active", "created_at", "updated_at") = (
  SELECT r."user_id", r."weekday", r."start", r."end", r."is_active", r."created_at", r."updated_at"
  FROM jsonb_populate_record(NULL::"availability_rule", t.body) AS r);
ALTER TABLE "availability_rule"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "weekday" SET NOT NULL,
  ALTER COLUMN "start" SET NOT NULL,
  ALTER COLUMN "end" SET NOT NULL,
  ALTER COLUMN "is_active" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL,
  ALTER COLUMN "updated_at" SET NOT NULL;
ALTER TABLE "availability_rule"
  ADD CONSTRAINT availability_rule_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- availability_exception (AvailabilityException)
ALTER TABLE "availability_exception"
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "start" timestamptz,
  ADD COLUMN "end" timestamptz,
  ADD COLUMN "reason" text,
  ADD COLUMN "is_blocked" boolean,
  ADD COLUMN "created_at" timestamptz;
UPDATE "availability_exception" AS t SET ("user_id", "start", "end", "reason", "is_blocked", "created_at") = (
  SELECT r."user_id", r."start", r."end", r."reason", r."is_blocked", r."created_at"
  FROM jsonb_populate_record(NULL::"availability_exception", t.body) AS r);
ALTER TABLE "availability_exception"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "start" SET NOT NULL,
  ALTER COLUMN "end" SET NOT NULL,
  ALTER COLUMN "is_blocked" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;
ALTER TABLE "availability_exception"
  ADD CONSTRAINT availability_exception_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- payout (Payout)
ALTER TABLE "payout"
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "amount" droply_money,
  ADD COLUMN "stripe_transfer_id" text,
  ADD COLUMN "stripe_payout_id" text,
  ADD COLUMN "status" text,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "paid_at" timestamptz;
UPDATE "payout" AS t SET ("user_id", "amount", "stripe_transfer_id", "stripe_payout_id", "status", "created_at", "paid_at") = (
  SELECT r."user_id", r."amount", r."stripe_transfer_id", r."stripe_payout_id", r."status", r."created_at", r."paid_at"
  FROM jsonb_populate_record(NULL::"payout", t.body) AS r);
ALTER TABLE "payout"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "amount" SET NOT NULL,
  ALTER COLUMN "status" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;
ALTER TABLE "payout"
  ADD CONSTRAINT payout_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- referral (Referral)
ALTER TABLE "referral"
  ADD COLUMN "referrer_id" bigint,
  ADD COLUMN "referred_user_id" bigint,
  ADD COLUMN "referral_code" text,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "status" text;
UPDATE "referral" AS t SET ("referrer_id", "referred_user_id", "referral_code", "created_at", "status") = (
  SELECT r."referrer_id", r."referred_user_id", r."referral_code", r."created_at", r."status"
  FROM jsonb_populate_record(NULL::"referral", t.body) AS r);
ALTER TABLE "referral"
  DROP COLUMN body,
  ALTER COLUMN "referrer_id" SET NOT NULL,
  ALTER COLUMN "referred_user_id" SET NOT NULL,
  ALTER COLUMN "referral_code" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL,
  ALTER COLUMN "status" SET NOT NULL;
ALTER TABLE "referral"
  ADD CONSTRAINT referral_referrer_id_fkey FOREIGN KEY ("referrer_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT referral_referred_user_id_fkey FOREIGN KEY ("referred_user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- referral_reward (ReferralReward)
ALTER TABLE "referral_reward"
  ADD COLUMN "referrer_id" bigint,
  ADD COLUMN "referred_user_id" bigint,
  ADD COLUMN "booking_id" bigint,
  ADD COLUMN "reward_amount" droply_money,
  ADD COLUMN "reward_type" text,
  ADD COLUMN "status" text,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "paid_at" timestamptz,
  ADD COLUMN "content_purchase_id" bigint;
UPDATE "referral_reward" AS t SET ("referrer_id", "referred_user_id", "booking_id", "reward_amount", "reward_type", "status", "created_at", "paid_at", "content_purchase_id") = (
  SELECT r."referrer_id", r."referred_user_id", r."booking_id", r."reward_amount", r."reward_type", r."status", r."created_at", r."paid_at", r."content_purchase_id"
  FROM jsonb_populate_record(NULL::"referral_reward", t.body) AS r);
ALTER TABLE "referral_reward"
  DROP COLUMN body,
  ALTER COLUMN "referrer_id" SET NOT NULL,
  ALTER COLUMN "referred_user_id" SET NOT NULL,
  ALTER COLUMN "reward_amount" SET NOT NULL,
  ALTER COLUMN "reward_type" SET NOT NULL,
  ALTER COLUMN "status" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;
ALTER TABLE "referral_reward"
  ADD CONSTRAINT referral_reward_referrer_id_fkey FOREIGN KEY ("referrer_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT referral_reward_referred_user_id_fkey FOREIGN KEY ("referred_user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT referral_reward_booking_id_fkey FOREIGN KEY ("booking_id") REFERENCES "booking" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT referral_reward_content_purchase_id_fkey FOREIGN KEY ("content_purchase_id") REFERENCES "content_purchase" (id) DEFERRABLE INITIALLY DEFERRED;

-- content (Content)
ALTER TABLE "content"
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "title" text,
  ADD COLUMN "description" text,
  ADD COLUMN "content_type" text,
  ADD COLUMN "price" droply_money,
  ADD COLUMN "file_path" text,
  ADD COLUMN "file_size" bigint,
  ADD COLUMN "thumbnail_path" text,
  ADD COLUMN "preview_available" boolean,
  ADD COLUMN "preview_path" text,
  ADD COLUMN "status" text,
  ADD COLUMN "views" bigint,
  ADD COLUMN "purchases" bigint,
  ADD COLUMN "earnings" droply_money,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "updated_at" timestamptz,
  ADD COLUMN "category_id" bigint,
  ADD COLUMN "file_meta" jsonb,
  ADD COLUMN "preview_meta" jsonb;
UPDATE "content" AS t SET ("user_id", "title", "description", "content_type", "price", "file_path", "file_size", "thumbnail_path", "preview_available", "preview_path", "status", "views", "purchases", "earnings", "created_at", "updated_at", "category_id", "file_meta", "preview_meta") = (
  SELECT r."user_id", r."title", r."description", r."content_type", r."price", r."file_path", r."file_size", r."thumbnail_path", r."preview_available", r."preview_path", r."status", r."views", r."purchases", r."earnings", r."created_at", r."updated_at", r."category_id", r."file_meta", r."preview_meta"
  FROM jsonb_populate_record(NULL::"content", t.body) AS r);
ALTER TABLE "content"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "title" SET NOT NULL,
  ALTER COLUMN "description" SET NOT NULL,
  ALTER COLUMN "content_type" SET NOT NULL,
  ALTER COLUMN "price" SET NOT NULL,
  ALTER COLUMN "file_path" SET NOT NULL,
  ALTER COLUMN "file_size" SET NOT NULL,
  ALTER COLUMN "preview_available" SET NOT NULL,
  ALTER COLUMN "status" SET NOT NULL,
  ALTER COLUMN "views" SET NOT NULL,
  ALTER COLUMN "purchases" SET NOT NULL,
  ALTER COLUMN "earnings" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL,
  ALTER COLUMN "updated_at" SET NOT NULL;
ALTER TABLE "content"
  ADD CONSTRAINT content_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT content_category_id_fkey FOREIGN KEY ("category_id") REFERENCES "category" (id) DEFERRABLE INITIALLY DEFERRED;

-- content_purchase (ContentPurchase)
ALTER TABLE "content_purchase"
  ADD COLUMN "buyer_id" bigint,
  ADD COLUMN "content_id" bigint,
  ADD COLUMN "amount_paid" droply_money,
  ADD COLUMN "payment_status" text,
  ADD COLUMN "stripe_payment_intent_id" text,
  ADD COLUMN "created_at" timestamptz;
UPDATE "content_purchase" AS t SET ("buyer_id", "content_id", "amount_paid", "payment_status", "stripe_payment_intent_id", "created_at") = (
  SELECT r."buyer_id", r."content_id", r."amount_paid", r."payment_status", r."stripe_payment_intent_id", r."created_at"
  FROM jsonb_populate_record(NULL::"content_purchase", t.body) AS r);
ALTER TABLE "content_purchase"
  DROP COLUMN body,
  ALTER COLUMN "buyer_id" SET NOT NULL,
  ALTER COLUMN "content_id" SET NOT NULL,
  ALTER COLUMN "amount_paid" SET NOT NULL,
  ALTER COLUMN "payment_status" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;
ALTER TABLE "content_purchase"
  ADD CONSTRAINT content_purchase_buyer_id_fkey FOREIGN KEY ("buyer_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT content_purchase_content_id_fkey FOREIGN KEY ("content_id") REFERENCES "content" (id) DEFERRABLE INITIALLY DEFERRED;

-- dropin_session (DropinSession)
ALTER TABLE "dropin_session"
  ALTER COLUMN "session_code" DROP EXPRESSION,
  ADD COLUMN "host_id" bigint,
  ADD COLUMN "topic" text,
  ADD COLUMN "description" text,
  ADD COLUMN "max_participants" bigint,
  ADD COLUMN "current_participants" bigint,
  ADD COLUMN "is_active" boolean,
  ADD COLUMN "is_anonymous" boolean,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "started_at" timestamptz,
  ADD COLUMN "ended_at" timestamptz,
  ADD COLUMN "duration_minutes" bigint;
UPDATE "dropin_session" AS t SET ("host_id", "topic", "description", "max_participants", "current_participants", "is_active", "is_anonymous", "created_at", "started_at", "ended_at", "duration_minutes") = (
  SELECT r."host_id", r."topic", r."description", r."max_participants", r."current_participants", r."is_active", r."is_anonymous", r."created_at", r."started_at", r."ended_at", r."duration_minutes"
  FROM jsonb_populate_record(NULL::"dropin_session", t.body) AS r);
ALTER TABLE "dropin_session"
  DROP COLUMN body,
  ALTER COLUMN "host_id" SET NOT NULL,
  ALTER COLUMN "topic" SET NOT NULL,
  ALTER COLUMN "description" SET NOT NULL,
  ALTER COLUMN "max_participants" SET NOT NULL,
  ALTER COLUMN "current_participants" SET NOT NULL,
  ALTER COLUMN "is_active" SET NOT NULL,
  ALTER COLUMN "is_anonymous" SET NOT NULL,
  ALTER COLUMN "session_code" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL,
  ALTER COLUMN "duration_minutes" SET NOT NULL;
ALTER TABLE "dropin_session"
  ADD CONSTRAINT dropin_session_host_id_fkey FOREIGN KEY ("host_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- dropin_participant (DropinParticipant)
ALTER TABLE "dropin_participant"
  ADD COLUMN "session_id" bigint,
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "anonymous_name" text,
  ADD COLUMN "joined_at" timestamptz,
  ADD COLUMN "left_at" timestamptz,
  ADD COLUMN "is_active" boolean;
UPDATE "dropin_participant" AS t SET ("session_id", "user_id", "anonymous_name", "joined_at", "left_at", "is_active") = (
  SELECT r."session_id", r."user_id", r."anonymous_name", r."joined_at", r."left_at", r."is_active"
  FROM jsonb_populate_record(NULL::"dropin_participant", t.body) AS r);
ALTER TABLE "dropin_participant"
  DROP COLUMN body,
  ALTER COLUMN "session_id" SET NOT NULL,
  ALTER COLUMN "joined_at" SET NOT NULL,
  ALTER COLUMN "is_active" SET NOT NULL;
ALTER TABLE "dropin_participant"
  ADD CONSTRAINT dropin_participant_session_id_fkey FOREIGN KEY ("session_id") REFERENCES "dropin_session" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT dropin_participant_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- dropin_message (DropinMessage)
ALTER TABLE "dropin_message"
  ADD COLUMN "session_id" bigint,
  ADD COLUMN "participant_id" bigint,
  ADD COLUMN "message_type" text,
  ADD COLUMN "content" text,
  ADD COLUMN "is_anonymous" boolean,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "reply_to" bigint,
  ADD COLUMN "removed_at" timestamptz;
UPDATE "dropin_message" AS t SET ("session_id", "participant_id", "message_type", "content", "is_anonymous", "created_at", "reply_to", "removed_at") = (
  SELECT r."session_id", r."participant_id", r."message_type", r."content", r."is_anonymous", r."created_at", r."reply_to", r."removed_at"
  FROM jsonb_populate_record(NULL::"dropin_message", t.body) AS r);
ALTER TABLE "dropin_message"
  DROP COLUMN body,
  ALTER COLUMN "session_id" SET NOT NULL,
  ALTER COLUMN "participant_id" SET NOT NULL,
  ALTER COLUMN "message_type" SET NOT NULL,
  ALTER COLUMN "content" SET NOT NULL,
  ALTER COLUMN "is_anonymous" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;
ALTER TABLE "dropin_message"
  ADD CONSTRAINT dropin_message_session_id_fkey FOREIGN KEY ("session_id") REFERENCES "dropin_session" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT dropin_message_participant_id_fkey FOREIGN KEY ("participant_id") REFERENCES "dropin_participant" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT dropin_message_reply_to_fkey FOREIGN KEY ("reply_to") REFERENCES "dropin_message" (id) DEFERRABLE INITIALLY DEFERRED;

-- ai_match (AiMatch)
ALTER TABLE "ai_match"
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "matched_user_id" bigint,
  ADD COLUMN "query" text,
  ADD COLUMN "match_score" real,
  ADD COLUMN "match_reasons" jsonb,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "is_viewed" boolean,
  ADD COLUMN "is_acted_upon" boolean;
UPDATE "ai_match" AS t SET ("user_id", "matched_user_id", "query", "match_score", "match_reasons", "created_at", "is_viewed", "is_acted_upon") = (
  SELECT r."user_id", r."matched_user_id", r."query", r."match_score", r."match_reasons", r."created_at", r."is_viewed", r."is_acted_upon"
  FROM jsonb_populate_record(NULL::"ai_match", t.body) AS r);
ALTER TABLE "ai_match"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "matched_user_id" SET NOT NULL,
  ALTER COLUMN "query" SET NOT NULL,
  ALTER COLUMN "match_score" SET NOT NULL,
  ALTER COLUMN "match_reasons" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL,
  ALTER COLUMN "is_viewed" SET NOT NULL,
  ALTER COLUMN "is_acted_upon" SET NOT NULL;
ALTER TABLE "ai_match"
  ADD CONSTRAINT ai_match_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT ai_match_matched_user_id_fkey FOREIGN KEY ("matched_user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- category (Category)
ALTER TABLE "category"
  ADD COLUMN "name" text,
  ADD COLUMN "category_type" text,
  ADD COLUMN "is_active" boolean;
UPDATE "category" AS t SET ("name", "category_type", "is_active") = (
  SELECT r."name", r."category_type", r."is_active"
  FROM jsonb_populate_record(NULL::"category", t.body) AS r);
ALTER TABLE "category"
  DROP COLUMN body,
  ALTER COLUMN "name" SET NOT NULL,
  ALTER COLUMN "category_type" SET NOT NULL,
  ALTER COLUMN "is_active" SET NOT NULL;

-- auth_session (AuthSession)
ALTER TABLE "auth_session"
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "token_hash" text,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "expires_at" timestamptz;
UPDATE "auth_session" AS t SET ("user_id", "token_hash", "created_at", "expires_at") = (
  SELECT r."user_id", r."token_hash", r."created_at", r."expires_at"
  FROM jsonb_populate_record(NULL::"auth_session", t.body) AS r);
ALTER TABLE "auth_session"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "token_hash" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL,
  ALTER COLUMN "expires_at" SET NOT NULL;
ALTER TABLE "auth_session"
  ADD CONSTRAINT auth_session_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- booking_idempotency (BookingIdempotency)
ALTER TABLE "booking_idempotency"
  ALTER COLUMN "booker" DROP EXPRESSION,
  ALTER COLUMN "key" DROP EXPRESSION,
  ADD COLUMN "booking_id" bigint,
  ADD COLUMN "fingerprint" text;
UPDATE "booking_idempotency" AS t SET ("booking_id", "fingerprint") = (
  SELECT r."booking_id", r."fingerprint"
  FROM jsonb_populate_record(NULL::"booking_idempotency", t.body) AS r);
ALTER TABLE "booking_idempotency"
  DROP COLUMN body,
  ALTER COLUMN "booker" SET NOT NULL,
  ALTER COLUMN "key" SET NOT NULL,
  ALTER COLUMN "booking_id" SET NOT NULL;
ALTER TABLE "booking_idempotency"
  ADD CONSTRAINT booking_idempotency_booker_fkey FOREIGN KEY ("booker") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT booking_idempotency_booking_id_fkey FOREIGN KEY ("booking_id") REFERENCES "booking" (id) DEFERRABLE INITIALLY DEFERRED;

-- payment (Payment)
ALTER TABLE "payment"
  ALTER COLUMN "intent_id" DROP EXPRESSION,
  DROP COLUMN "amount_minor",
  DROP COLUMN "currency",
  ADD COLUMN "pays_for" jsonb,
  ADD COLUMN "payer" bigint,
  ADD COLUMN "payee" bigint,
  ADD COLUMN "amount" droply_money,
  ADD COLUMN "fee" droply_money,
  ADD COLUMN "status" text,
  ADD COLUMN "refunds" jsonb,
  ADD COLUMN "earning_available_at" timestamptz,
  ADD COLUMN "created_at" timestamptz;
UPDATE "payment" AS t SET ("pays_for", "payer", "payee", "amount", "fee", "status", "refunds", "earning_available_at", "created_at") = (
  SELECT r."pays_for", r."payer", r."payee", r."amount", r."fee", r."status", r."refunds", r."earning_available_at", r."created_at"
  FROM jsonb_populate_record(NULL::"payment", t.body) AS r);
ALTER TABLE "payment"
  DROP COLUMN body,
  ALTER COLUMN "pays_for" SET NOT NULL,
  ALTER COLUMN "payer" SET NOT NULL,
  ALTER COLUMN "payee" SET NOT NULL,
  ALTER COLUMN "amount" SET NOT NULL,
  ALTER COLUMN "fee" SET NOT NULL,
  ALTER COLUMN "status" SET NOT NULL,
  ALTER COLUMN "refunds" SET NOT NULL,
  ALTER COLUMN "earning_available_at" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;
ALTER TABLE "payment"
  ADD CONSTRAINT payment_payer_fkey FOREIGN KEY ("payer") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT payment_payee_fkey FOREIGN KEY ("payee") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- ledger_entry (LedgerEntry)
ALTER TABLE "ledger_entry"
  ALTER COLUMN "account" DROP EXPRESSION,
  ALTER COLUMN "created_at" DROP EXPRESSION,
  DROP COLUMN "amount_minor",
  DROP COLUMN "currency",
  ADD COLUMN "kind" text,
  ADD COLUMN "amount" droply_money,
  ADD COLUMN "payment_id" bigint,
  ADD COLUMN "booking_id" bigint,
  ADD COLUMN "payout_id" bigint,
  ADD COLUMN "available_at" timestamptz;
UPDATE "ledger_entry" AS t SET ("kind", "amount", "payment_id", "booking_id", "payout_id", "available_at") = (
  SELECT r."kind", r."amount", r."payment_id", r."booking_id", r."payout_id", r."available_at"
  FROM jsonb_populate_record(NULL::"ledger_entry", t.body) AS r);
ALTER TABLE "ledger_entry"
  DROP COLUMN body,
  ALTER COLUMN "kind" SET NOT NULL,
  ALTER COLUMN "amount" SET NOT NULL,
  ALTER COLUMN "available_at" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;
ALTER TABLE "ledger_entry"
  ADD CONSTRAINT ledger_entry_account_fkey FOREIGN KEY ("account") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT ledger_entry_payment_id_fkey FOREIGN KEY ("payment_id") REFERENCES "payment" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT ledger_entry_booking_id_fkey FOREIGN KEY ("booking_id") REFERENCES "booking" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT ledger_entry_payout_id_fkey FOREIGN KEY ("payout_id") REFERENCES "payout" (id) DEFERRABLE INITIALLY DEFERRED;

-- stripe_event (StripeEvent)
ALTER TABLE "stripe_event"
  ALTER COLUMN "event_id" DROP EXPRESSION,
  ADD COLUMN "kind" text,
  ADD COLUMN "outcome" text,
  ADD COLUMN "received_at" timestamptz;
UPDATE "stripe_event" AS t SET ("kind", "outcome", "received_at") = (
  SELECT r."kind", r."outcome", r."received_at"
  FROM jsonb_populate_record(NULL::"stripe_event", t.body) AS r);
ALTER TABLE "stripe_event"
  DROP COLUMN body,
  ALTER COLUMN "event_id" SET NOT NULL,
  ALTER COLUMN "kind" SET NOT NULL,
  ALTER COLUMN "outcome" SET NOT NULL,
  ALTER COLUMN "received_at" SET NOT NULL;

-- review (Review)
ALTER TABLE "review"
  ADD COLUMN "booking_id" bigint,
  ADD COLUMN "author_id" bigint,
  ADD COLUMN "expert_id" bigint,
  ADD COLUMN "author_name" text,
  ADD COLUMN "rating" smallint,
  ADD COLUMN "comment" text,
  ADD COLUMN "answer" text,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "answered_at" timestamptz;
UPDATE "review" AS t SET ("booking_id", "author_id", "expert_id", "author_name", "rating", "comment", "answer", "created_at", "answered_at") = (
  SELECT r."booking_id", r."author_id", r."expert_id", r."author_name", r."rating", r."comment", r."answer", r."created_at", r."answered_at"
  FROM jsonb_populate_record(NULL::"review", t.body) AS r);
ALTER TABLE "review"
  DROP COLUMN body,
  ALTER COLUMN "booking_id" SET NOT NULL,
  ALTER COLUMN "author_id" SET NOT NULL,
  ALTER COLUMN "expert_id" SET NOT NULL,
  ALTER COLUMN "author_name" SET NOT NULL,
  ALTER COLUMN "rating" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;
ALTER TABLE "review"
  ADD CONSTRAINT review_booking_id_fkey FOREIGN KEY ("booking_id") REFERENCES "booking" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT review_author_id_fkey FOREIGN KEY ("author_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT review_expert_id_fkey FOREIGN KEY ("expert_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- dropin_pass (DropinPass)
ALTER TABLE "dropin_pass"
  ADD COLUMN "session_id" bigint,
  ADD COLUMN "participant_id" bigint,
  ADD COLUMN "token_hash" text,
  ADD COLUMN "created_at" timestamptz;
UPDATE "dropin_pass" AS t SET ("session_id", "participant_id", "token_hash", "created_at") = (
  SELECT r."session_id", r."participant_id", r."token_hash", r."created_at"
  FROM jsonb_populate_record(NULL::"dropin_pass", t.body) AS r);
ALTER TABLE "dropin_pass"
  DROP COLUMN body,
  ALTER COLUMN "session_id" SET NOT NULL,
  ALTER COLUMN "participant_id" SET NOT NULL,
  ALTER COLUMN "token_hash" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL;
ALTER TABLE "dropin_pass"
  ADD CONSTRAINT dropin_pass_session_id_fkey FOREIGN KEY ("session_id") REFERENCES "dropin_session" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT dropin_pass_participant_id_fkey FOREIGN KEY ("participant_id") REFERENCES "dropin_participant" (id) DEFERRABLE INITIALLY DEFERRED;

-- video_room (VideoRoom)
ALTER TABLE "video_room"
  ADD COLUMN "booking_id" bigint,
  ADD COLUMN "state" text,
  ADD COLUMN "attempts" bigint,
  ADD COLUMN "next_attempt_at" timestamptz,
  ADD COLUMN "last_error" text,
  ADD COLUMN "daily_room_id" text,
  ADD COLUMN "created_at" timestamptz,
  ADD COLUMN "updated_at" timestamptz;
UPDATE "video_room" AS t SET ("booking_id", "state", "attempts", "next_attempt_at", "last_error", "daily_room_id", "created_at", "updated_at") = (
  SELECT r."booking_id", r."state", r."attempts", r."next_attempt_at", r."last_error", r."daily_room_id", r."created_at", r."updated_at"
  FROM jsonb_populate_record(NULL::"video_room", t.body) AS r);
ALTER TABLE "video_room"
  DROP COLUMN body,
  ALTER COLUMN "booking_id" SET NOT NULL,
  ALTER COLUMN "state" SET NOT NULL,
  ALTER COLUMN "attempts" SET NOT NULL,
  ALTER COLUMN "next_attempt_at" SET NOT NULL,
  ALTER COLUMN "created_at" SET NOT NULL,
  ALTER COLUMN "updated_at" SET NOT NULL;
ALTER TABLE "video_room"
  ADD CONSTRAINT video_room_booking_id_fkey FOREIGN KEY ("booking_id") REFERENCES "booking" (id) DEFERRABLE INITIALLY DEFERRED;

-- daily_event (DailyEvent)
ALTER TABLE "daily_event"
  ALTER COLUMN "event_id" DROP EXPRESSION,
  ADD COLUMN "kind" text,
  ADD COLUMN "outcome" text,
  ADD COLUMN "received_at" timestamptz;
UPDATE "daily_event" AS t SET ("kind", "outcome", "received_at") = (
  SELECT r."kind", r."outcome", r."received_at"
  FROM jsonb_populate_record(NULL::"daily_event", t.body) AS r);
ALTER TABLE "daily_event"
  DROP COLUMN body,
  ALTER COLUMN "event_id" SET NOT NULL,
  ALTER COLUMN "kind" SET NOT NULL,
  ALTER COLUMN "outcome" SET NOT NULL,
  ALTER COLUMN "received_at" SET NOT NULL;

-- recording (Recording)
ALTER TABLE "recording"
  ADD COLUMN "booking_id" bigint,
  ADD COLUMN "recording_id" text,
  ADD COLUMN "started_at" timestamptz,
  ADD COLUMN "duration_secs" bigint,
  ADD COLUMN "received_at" timestamptz;
UPDATE "recording" AS t SET ("booking_id", "recording_id", "started_at", "duration_secs", "received_at") = (
  SELECT r."booking_id", r."recording_id", r."started_at", r."duration_secs", r."received_at"
  FROM jsonb_populate_record(NULL::"recording", t.body) AS r);
ALTER TABLE "recording"
  DROP COLUMN body,
  ALTER COLUMN "booking_id" SET NOT NULL,
  ALTER COLUMN "recording_id" SET NOT NULL,
  ALTER COLUMN "received_at" SET NOT NULL;
ALTER TABLE "recording"
  ADD CONSTRAINT recording_booking_id_fkey FOREIGN KEY ("booking_id") REFERENCES "booking" (id) DEFERRABLE INITIALLY DEFERRED;

-- calendar_connection (CalendarConnection)
ALTER TABLE "calendar_connection"
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "state" text,
  ADD COLUMN "access_token" jsonb,
  ADD COLUMN "refresh_token" jsonb,
  ADD COLUMN "access_expires_at" timestamptz,
  ADD COLUMN "connected_at" timestamptz,
  ADD COLUMN "last_sync_at" timestamptz,
  ADD COLUMN "problem" text;
UPDATE "calendar_connection" AS t SET ("user_id", "state", "access_token", "refresh_token", "access_expires_at", "connected_at", "last_sync_at", "problem") = (
  SELECT r."user_id", r."state", r."access_token", r."refresh_token", r."access_expires_at", r."connected_at", r."last_sync_at", r."problem"
  FROM jsonb_populate_record(NULL::"calendar_connection", t.body) AS r);
ALTER TABLE "calendar_connection"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "state" SET NOT NULL,
  ALTER COLUMN "access_token" SET NOT NULL,
  ALTER COLUMN "access_expires_at" SET NOT NULL,
  ALTER COLUMN "connected_at" SET NOT NULL;
ALTER TABLE "calendar_connection"
  ADD CONSTRAINT calendar_connection_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- oauth_state (OAuthState)
ALTER TABLE "oauth_state"
  ADD COLUMN "state_hash" text,
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "verifier" jsonb,
  ADD COLUMN "expires_at" timestamptz;
UPDATE "oauth_state" AS t SET ("state_hash", "user_id", "verifier", "expires_at") = (
  SELECT r."state_hash", r."user_id", r."verifier", r."expires_at"
  FROM jsonb_populate_record(NULL::"oauth_state", t.body) AS r);
ALTER TABLE "oauth_state"
  DROP COLUMN body,
  ALTER COLUMN "state_hash" SET NOT NULL,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "verifier" SET NOT NULL,
  ALTER COLUMN "expires_at" SET NOT NULL;
ALTER TABLE "oauth_state"
  ADD CONSTRAINT oauth_state_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- busy_times (BusyTimes)
ALTER TABLE "busy_times"
  ADD COLUMN "user_id" bigint,
  ADD COLUMN "spans" jsonb,
  ADD COLUMN "synced_at" timestamptz;
UPDATE "busy_times" AS t SET ("user_id", "spans", "synced_at") = (
  SELECT r."user_id", r."spans", r."synced_at"
  FROM jsonb_populate_record(NULL::"busy_times", t.body) AS r);
ALTER TABLE "busy_times"
  DROP COLUMN body,
  ALTER COLUMN "user_id" SET NOT NULL,
  ALTER COLUMN "spans" SET NOT NULL,
  ALTER COLUMN "synced_at" SET NOT NULL;
ALTER TABLE "busy_times"
  ADD CONSTRAINT busy_times_user_id_fkey FOREIGN KEY ("user_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

-- calendar_op (CalendarOp)
ALTER TABLE "calendar_op"
  ADD COLUMN "booking_id" bigint,
  ADD COLUMN "expert_id" bigint,
  ADD COLUMN "kind" text,
  ADD COLUMN "replaces" bigint,
  ADD COLUMN "attempts" bigint,
  ADD COLUMN "not_before" timestamptz,
  ADD COLUMN "last_error" text;
UPDATE "calendar_op" AS t SET ("booking_id", "expert_id", "kind", "replaces", "attempts", "not_before", "last_error") = (
  SELECT r."booking_id", r."expert_id", r."kind", r."replaces", r."attempts", r."not_before", r."last_error"
  FROM jsonb_populate_record(NULL::"calendar_op", t.body) AS r);
ALTER TABLE "calendar_op"
  DROP COLUMN body,
  ALTER COLUMN "booking_id" SET NOT NULL,
  ALTER COLUMN "expert_id" SET NOT NULL,
  ALTER COLUMN "kind" SET NOT NULL,
  ALTER COLUMN "attempts" SET NOT NULL,
  ALTER COLUMN "not_before" SET NOT NULL;
ALTER TABLE "calendar_op"
  ADD CONSTRAINT calendar_op_booking_id_fkey FOREIGN KEY ("booking_id") REFERENCES "booking" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT calendar_op_expert_id_fkey FOREIGN KEY ("expert_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT calendar_op_replaces_fkey FOREIGN KEY ("replaces") REFERENCES "booking" (id) DEFERRABLE INITIALLY DEFERRED;

-- calendar_event (CalendarEvent)
ALTER TABLE "calendar_event"
  ADD COLUMN "booking_id" bigint,
  ADD COLUMN "expert_id" bigint,
  ADD COLUMN "event_id" text;
UPDATE "calendar_event" AS t SET ("booking_id", "expert_id", "event_id") = (
  SELECT r."booking_id", r."expert_id", r."event_id"
  FROM jsonb_populate_record(NULL::"calendar_event", t.body) AS r);
ALTER TABLE "calendar_event"
  DROP COLUMN body,
  ALTER COLUMN "booking_id" SET NOT NULL,
  ALTER COLUMN "expert_id" SET NOT NULL,
  ALTER COLUMN "event_id" SET NOT NULL;
ALTER TABLE "calendar_event"
  ADD CONSTRAINT calendar_event_booking_id_fkey FOREIGN KEY ("booking_id") REFERENCES "booking" (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT calendar_event_expert_id_fkey FOREIGN KEY ("expert_id") REFERENCES "user" (id) DEFERRABLE INITIALLY DEFERRED;

DROP FUNCTION droply_instant(text);
