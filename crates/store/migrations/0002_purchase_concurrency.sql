-- Several requests, notifications or instances may handle one purchase token at once.
-- When the Google read behind a row began (epoch ms): a save never replaces a fresher read.
ALTER TABLE purchases ADD COLUMN observed_at BIGINT NOT NULL DEFAULT 0;
-- An instance is acknowledging or consuming this purchase until then (epoch ms): one at a time.
ALTER TABLE purchases ADD COLUMN settle_claimed_until BIGINT;
