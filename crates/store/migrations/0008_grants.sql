-- Rights granted outside Google Play: bought on another platform (App Store, Stripe…) or
-- given as a promotion. Listed with Play's entitlements; revoked, never deleted.
CREATE TABLE grants (
    grant_id TEXT PRIMARY KEY,
    package_name TEXT NOT NULL,
    user_id TEXT NOT NULL,
    entitlement TEXT NOT NULL,
    source TEXT NOT NULL,               -- app_store, stripe, promotional, ... (never google_play)
    expires_at BIGINT,                  -- null: until revoked
    note TEXT,
    granted_by TEXT NOT NULL,           -- the admin key's name
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_by TEXT
);
CREATE INDEX grants_user ON grants (package_name, user_id);
