-- Sending bills (handlers.delivery): a replica claims a pending delivery for a while by moving
-- its next_attempt_at on (the lease) and naming its claim; only the holder of the current claim
-- records the outcome, so a resend asked for while a message is on its way is not lost.
-- Documents issued before this migration get no delivery row: deploying it must not e-mail
-- old bills (POST /api/invoices/{id}/deliveries/email/resend sends one on request).
ALTER TABLE delivery ADD COLUMN claim uuid;
