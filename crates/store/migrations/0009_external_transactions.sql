-- Alternative-billing transactions the app reported to us, to be reported to Google within
-- its 24 hours, and their refunds. Amounts are micros of one currency.
CREATE TABLE external_transactions (
    package_name TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    kind TEXT NOT NULL,                     -- one_time | recurring
    series_id TEXT NOT NULL,                -- the initial transaction of its series (itself for a first or one-time)
    currency TEXT NOT NULL,
    original_pre_tax_micros BIGINT NOT NULL,
    original_tax_micros BIGINT NOT NULL,
    current_pre_tax_micros BIGINT NOT NULL,
    current_tax_micros BIGINT NOT NULL,
    state TEXT NOT NULL,                    -- reported | canceled (fully refunded)
    transaction_time BIGINT NOT NULL,
    request TEXT NOT NULL,                  -- what the app sent us (JSON): a repeat must match it
    created_at BIGINT NOT NULL,
    PRIMARY KEY (package_name, transaction_id)
);

CREATE TABLE external_refunds (
    package_name TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    refund_id TEXT NOT NULL,                -- "full" for the full refund
    pre_tax_micros BIGINT NOT NULL,
    refund_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (package_name, transaction_id, refund_id)
);

-- What is still to be told to Google, durably: a report survives a restart and is retried
-- until Google takes it or its 24 hours pass. An item waits for earlier ones of its series.
CREATE TABLE external_outbox (
    outbox_id TEXT PRIMARY KEY,             -- time-ordered
    package_name TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    series_id TEXT NOT NULL,
    action TEXT NOT NULL,                   -- create | refund
    refund_id TEXT,
    body TEXT NOT NULL,                     -- Google's request body, JSON
    state TEXT NOT NULL,                    -- pending | delivered | failed
    attempts BIGINT NOT NULL,
    last_error TEXT,
    deadline BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX external_outbox_due ON external_outbox (state, next_attempt_at);
CREATE INDEX external_outbox_series ON external_outbox (package_name, series_id, state);
