-- High-water marks of periodic syncs with Google, e.g. the voided-purchases sync per app.
CREATE TABLE sync_marks (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
