-- playbill's first schema. Portable SQL: the same file runs on SQLite and PostgreSQL
-- through sqlx's Any driver, so: TEXT, BIGINT only; times are epoch milliseconds;
-- flags are BIGINT 0/1; ids are UUIDv7 strings made by the application (time-ordered).

-- Apps playbill serves, mirrored from configuration at start-up.
CREATE TABLE apps (
    package_name TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- Users, by the app's own account id; rights are per app and user, whatever the device.
CREATE TABLE users (
    package_name TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (package_name, user_id)
);

-- One row per Google purchase token, bound to exactly one user for life.
CREATE TABLE purchases (
    purchase_id TEXT PRIMARY KEY,
    package_name TEXT NOT NULL,
    purchase_token TEXT NOT NULL,
    kind TEXT NOT NULL,                 -- one_time | subscription
    user_id TEXT NOT NULL,
    product_id TEXT NOT NULL,           -- the product the app verified
    state TEXT NOT NULL,                -- Google's state, e.g. PURCHASED, ACTIVE, CANCELED
    acknowledged BIGINT NOT NULL,       -- acknowledged at Google (0/1)
    consumed BIGINT NOT NULL,           -- consumed at Google (0/1)
    quantity BIGINT NOT NULL,
    order_id TEXT,
    linked_purchase_token TEXT,         -- the token this one replaced (upgrade, re-signup)
    expires_at BIGINT,                  -- subscriptions: latest line-item expiry
    auto_renewing BIGINT NOT NULL,
    test_purchase BIGINT NOT NULL,      -- license tester: no money moved
    started_at BIGINT,
    google_raw TEXT NOT NULL,           -- Google's last answer, verbatim, for audit and replay
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT purchases_token_unique UNIQUE (package_name, purchase_token)
);
CREATE INDEX purchases_user ON purchases (package_name, user_id);

-- Named rights, one per (purchase, entitlement name, product). Inactive rows are kept.
CREATE TABLE entitlements (
    entitlement_id TEXT PRIMARY KEY,
    package_name TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    product_id TEXT NOT NULL,
    source TEXT NOT NULL,               -- google_play (other platforms later)
    purchase_id TEXT NOT NULL,
    state TEXT NOT NULL,                -- active | consumed | inactive
    expires_at BIGINT,
    auto_renewing BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    test_purchase BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT entitlements_grant_unique UNIQUE (purchase_id, name, product_id)
);
CREATE INDEX entitlements_user ON entitlements (package_name, user_id);

-- Append-only history of everything that happened to a token, failures included.
-- Nothing in playbill updates or deletes these rows.
CREATE TABLE purchase_events (
    event_id TEXT PRIMARY KEY,
    package_name TEXT NOT NULL,
    purchase_token TEXT NOT NULL,
    purchase_id TEXT,                   -- null when no purchase was stored (failed verification)
    user_id TEXT,
    kind TEXT NOT NULL,                 -- verified, verification_failed, acknowledged, ...
    detail TEXT NOT NULL,               -- JSON
    created_at BIGINT NOT NULL
);
CREATE INDEX purchase_events_token ON purchase_events (package_name, purchase_token);
