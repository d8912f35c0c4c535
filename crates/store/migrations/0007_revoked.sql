-- A voided (refunded, charged back) subscription: access ends at once and for good, even
-- while Google's own read still says ACTIVE for a while (reference 2.6).
ALTER TABLE purchases ADD COLUMN revoked_at BIGINT;
