ALTER TABLE orders DROP COLUMN offer_thread_id, DROP COLUMN agreed_ship_by, DROP COLUMN doa_allowance_pct;
DROP TABLE offer_versions;
DROP TABLE offer_threads;
ALTER TABLE listings
    DROP CONSTRAINT listings_one_offer_floor,
    DROP COLUMN auto_accept_unit_price_cents,
    DROP COLUMN offer_floor_discount_pct,
    DROP COLUMN offer_floor_unit_price_cents,
    DROP COLUMN offers_enabled;
