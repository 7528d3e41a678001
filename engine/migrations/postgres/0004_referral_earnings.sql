-- Droply's store on PostgreSQL, version 4: a user's
-- `total_referral_earnings` is kept by the ledger (each credited or
-- taken-back referral reward adds to it). Stores written before had left it
-- at zero; it becomes the sum of the user's `referral_reward` rows in the
-- user's currency.
UPDATE "user" AS u
SET "total_referral_earnings" = ROW(s.total, u."currency")::droply_money
FROM (
  SELECT l."account", (l."amount")."currency" AS currency, sum((l."amount")."amount_minor")::bigint AS total
  FROM "ledger_entry" AS l
  WHERE l."kind" = 'referral_reward' AND l."account" IS NOT NULL
  GROUP BY l."account", (l."amount")."currency"
) AS s
WHERE s."account" = u.id AND s.currency = u."currency";
