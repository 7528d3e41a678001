-- Droply's store on PostgreSQL, version 8: `payment.intent_cancel`, whether
-- the PaymentIntent of a booking or purchase given up unpaid is to be, or
-- was, cancelled at Stripe (`Wanted`, `Requested`, `Cancelled`, `Refused`;
-- `payments::intent_cancel`). Payments made before are `Wanted`: one given
-- up before this version stays payable, and is refunded as a late payment
-- if it is paid, as it was.
ALTER TABLE "payment" ADD COLUMN "intent_cancel" text NOT NULL DEFAULT 'Wanted';
ALTER TABLE "payment" ALTER COLUMN "intent_cancel" DROP DEFAULT;
