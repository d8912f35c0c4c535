-- Play Console financial reports imported from the reports bucket: each file once per
-- generation (a rewritten file replaces its lines), and its lines per app and month.
CREATE TABLE report_files (
    bucket TEXT NOT NULL,
    name TEXT NOT NULL,
    generation BIGINT NOT NULL,
    report TEXT NOT NULL,                   -- earnings | sales
    month TEXT NOT NULL,                    -- YYYY-MM
    lines BIGINT NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (bucket, name)
);

CREATE TABLE report_lines (
    bucket TEXT NOT NULL,
    name TEXT NOT NULL,
    line BIGINT NOT NULL,
    package_name TEXT NOT NULL,
    report TEXT NOT NULL,
    month TEXT NOT NULL,
    order_id TEXT NOT NULL,
    kind TEXT NOT NULL,                     -- charge | fee | tax | refund | fee_refund | tax_refund | other
    full_refund BIGINT NOT NULL,
    currency TEXT NOT NULL,
    amount_micros BIGINT NOT NULL,
    PRIMARY KEY (bucket, name, line)
);
CREATE INDEX report_lines_app ON report_lines (package_name, month);
