-- Background jobs run once across every instance sharing the database: whoever holds a
-- job's lease (until it lapses) runs it.
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    held_until BIGINT NOT NULL
);
