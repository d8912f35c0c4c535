-- Users' refund requests Google asks us about (pendingRefundReviewNotification): our answer
-- (orders:reviewrefund) is due within 24 hours.
CREATE TABLE refund_reviews (
    package_name TEXT NOT NULL,
    order_id TEXT NOT NULL,
    pending_refund_token TEXT NOT NULL,
    purchase_token TEXT,                -- the purchase of the order, when we hold it
    received_at BIGINT NOT NULL,
    deadline BIGINT NOT NULL,
    preference TEXT,                    -- APPROVE | DECLINE | NEUTRAL, once decided
    decided_by TEXT,                    -- policy | operator
    answered_at BIGINT,                 -- when Google accepted the answer
    last_error TEXT,
    PRIMARY KEY (package_name, order_id, pending_refund_token)
);
