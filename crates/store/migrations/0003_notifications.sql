-- Real-time developer notifications (issue 4).

-- A newer token replaced this one (its linkedPurchaseToken names it): it never grants again.
ALTER TABLE purchases ADD COLUMN superseded_by TEXT;
CREATE INDEX purchases_linked ON purchases (package_name, linked_purchase_token);

-- Every Pub/Sub message taken in, once per messageId: the durable inbox. A message is
-- answered 2xx (or acked) only once it is here; it is processed from here, with retries.
CREATE TABLE rtdn_messages (
    message_id TEXT PRIMARY KEY,        -- Pub/Sub's id: duplicates stop here
    subscription TEXT NOT NULL,
    package_name TEXT NOT NULL,
    notification TEXT NOT NULL,         -- the decoded DeveloperNotification, JSON
    published_at TEXT,                  -- Pub/Sub's publishTime
    received_at BIGINT NOT NULL,
    state TEXT NOT NULL,                -- pending | done
    attempts BIGINT NOT NULL,
    last_error TEXT,
    processed_at BIGINT
);
CREATE INDEX rtdn_messages_pending ON rtdn_messages (state, received_at);

-- Bodies that can never succeed (bad JSON, bad base64, an app we do not serve): answered
-- 2xx so Pub/Sub stops retrying, kept whole for an operator to read and replay.
CREATE TABLE rtdn_quarantine (
    quarantine_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,               -- push | pull
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    replayed_at BIGINT
);

-- Tokens Google told us about whose user is not known yet (no verification, no known
-- predecessor). They are reconsidered when their predecessor gets an owner.
CREATE TABLE orphan_tokens (
    package_name TEXT NOT NULL,
    purchase_token TEXT NOT NULL,
    kind TEXT NOT NULL,
    linked_purchase_token TEXT,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (package_name, purchase_token)
);
CREATE INDEX orphan_tokens_linked ON orphan_tokens (package_name, linked_purchase_token);
