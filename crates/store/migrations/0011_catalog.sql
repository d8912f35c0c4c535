-- Google's catalog, mirrored: one row per in-app product, one-time product, subscription
-- (with its base plans) and subscription offer, as Google answered it (JSON). A sync
-- replaces an app's rows, so what Google removed is removed here.
CREATE TABLE catalog_items (
    package_name TEXT NOT NULL,
    item_id TEXT NOT NULL,                  -- inapp:SKU | onetime:ID | subscription:ID | offer:ID/PLAN/OFFER
    kind TEXT NOT NULL,                     -- inapp | onetime | subscription | offer
    body TEXT NOT NULL,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (package_name, item_id)
);
