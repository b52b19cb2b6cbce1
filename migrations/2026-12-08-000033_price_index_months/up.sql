-- Fresh price series read a key's month in one row, in few bytes (issue 17).
--
-- A three-year daily series of 31 models is 34,000 bucket rows, about 8 MB on the
-- wire: PostgreSQL spent most of a fresh answer's time producing and sending them,
-- and the service receiving (a wake-up per 8 KiB) and decoding them field by
-- field. `price_index_months` holds the same buckets by key and calendar month of
-- `bucket_start`, one row per key and month, each answer's measures packed into
-- one `bytea` of fixed-size records in `bucket_start` order:
--
--   prices        (80 bytes a bucket): the bucket's start in days since 1970-01-01,
--                 observations, fire_sales, discounted (4-byte integers), then
--                 p25_lo, p25_hi, p50_lo, p50_hi, p75_lo, p75_hi, discount_p50_lo,
--                 discount_p50_hi (8-byte integers);
--   new_listings  (48 bytes): the start, new_listings, new_fire_sales,
--                 new_discounted, then new_discount_p50_lo, new_discount_p50_hi,
--                 new_fire_discount_p50_lo, new_fire_discount_p50_hi.
--
-- Integers are big-endian (PostgreSQL's own int4send/int8send), NULL is the
-- smallest 8-byte integer (no price or discount can be). The same series is then
-- about 1,100 rows and 2.7 MB; `price_index::queries` reads them.
--
-- The packed rows are kept equal to `price_index_materialized` by statement-level
-- triggers on it, in the writer's transaction: whatever a fold, a rebuild or a
-- test writes there, the months of the keys it touched are repacked from the
-- table, so a reader sees the two agree in any snapshot. Readers still take the
-- buckets with pending observations from `price_index_buckets` (computed live),
-- packed on the fly by the same functions: months before the month of the
-- oldest dirty day come from here, the rest from the view, in one statement.
CREATE FUNCTION price_index_pack_prices(
    bucket_start DATE, observations INTEGER, fire_sales INTEGER, discounted INTEGER,
    p25_lo BIGINT, p25_hi BIGINT, p50_lo BIGINT, p50_hi BIGINT, p75_lo BIGINT, p75_hi BIGINT,
    discount_p50_lo BIGINT, discount_p50_hi BIGINT
) RETURNS BYTEA LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT int4send(bucket_start - DATE '1970-01-01') || int4send(observations) || int4send(fire_sales)
           || int4send(discounted)
           || int8send(COALESCE(p25_lo, -9223372036854775808)) || int8send(COALESCE(p25_hi, -9223372036854775808))
           || int8send(COALESCE(p50_lo, -9223372036854775808)) || int8send(COALESCE(p50_hi, -9223372036854775808))
           || int8send(COALESCE(p75_lo, -9223372036854775808)) || int8send(COALESCE(p75_hi, -9223372036854775808))
           || int8send(COALESCE(discount_p50_lo, -9223372036854775808))
           || int8send(COALESCE(discount_p50_hi, -9223372036854775808));
$$;

CREATE FUNCTION price_index_pack_new_listings(
    bucket_start DATE, new_listings INTEGER, new_fire_sales INTEGER, new_discounted INTEGER,
    new_discount_p50_lo BIGINT, new_discount_p50_hi BIGINT,
    new_fire_discount_p50_lo BIGINT, new_fire_discount_p50_hi BIGINT
) RETURNS BYTEA LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT int4send(bucket_start - DATE '1970-01-01') || int4send(new_listings) || int4send(new_fire_sales)
           || int4send(new_discounted)
           || int8send(COALESCE(new_discount_p50_lo, -9223372036854775808))
           || int8send(COALESCE(new_discount_p50_hi, -9223372036854775808))
           || int8send(COALESCE(new_fire_discount_p50_lo, -9223372036854775808))
           || int8send(COALESCE(new_fire_discount_p50_hi, -9223372036854775808));
$$;

CREATE TABLE price_index_months (
    id           BIGSERIAL PRIMARY KEY,
    basis        TEXT NOT NULL,
    period       TEXT NOT NULL,
    cell         TEXT NOT NULL,
    country      TEXT,
    tier         TEXT,
    rig_model_id UUID,
    -- The first day of the calendar month the packed buckets start in.
    month        DATE NOT NULL,
    prices       BYTEA NOT NULL,
    new_listings BYTEA NOT NULL,
    CONSTRAINT price_index_months_key UNIQUE NULLS NOT DISTINCT
        (basis, period, cell, country, tier, rig_model_id, month)
);

-- Repacks, from `price_index_materialized`, every key and month that the rows in
-- the transition table `changed` belong to (a month left with no bucket goes).
-- One pass per cell, because the cell says which key columns are NULL: the
-- statements then compare keys with `=` and `IS NULL`, which the cell index
-- answers with one short range per key and month, where `IS NOT DISTINCT FROM`
-- would walk the cell's whole range for each.
CREATE FUNCTION price_index_months_repack() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cell_name TEXT;
    same_key TEXT;
BEGIN
    FOR cell_name IN SELECT DISTINCT cell FROM changed LOOP
        same_key := concat_ws(' AND ',
            CASE WHEN cell_name IN ('country', 'tier_country', 'model_country')
                 THEN 'x.country = c.country' ELSE 'x.country IS NULL' END,
            CASE WHEN cell_name IN ('tier', 'tier_country') THEN 'x.tier = c.tier' ELSE 'x.tier IS NULL' END,
            CASE WHEN cell_name IN ('model', 'model_country')
                 THEN 'x.rig_model_id = c.rig_model_id' ELSE 'x.rig_model_id IS NULL' END);
        EXECUTE format(
            'DELETE FROM price_index_months x
              USING (SELECT DISTINCT basis, period, cell, country, tier, rig_model_id,
                            date_trunc(''month'', bucket_start::TIMESTAMP)::DATE AS month
                       FROM changed WHERE cell = %1$L) c
              WHERE x.basis = c.basis AND x.period = c.period AND x.cell = c.cell AND %2$s AND x.month = c.month',
            cell_name, same_key);
        EXECUTE format(
            'INSERT INTO price_index_months
                (basis, period, cell, country, tier, rig_model_id, month, prices, new_listings)
            SELECT c.basis, c.period, c.cell, c.country, c.tier, c.rig_model_id, c.month,
                   string_agg(price_index_pack_prices(x.bucket_start, x.observations, x.fire_sales, x.discounted,
                       x.p25_lo, x.p25_hi, x.p50_lo, x.p50_hi, x.p75_lo, x.p75_hi,
                       x.discount_p50_lo, x.discount_p50_hi), ''''::BYTEA ORDER BY x.bucket_start),
                   string_agg(price_index_pack_new_listings(x.bucket_start, x.new_listings, x.new_fire_sales, x.new_discounted,
                       x.new_discount_p50_lo, x.new_discount_p50_hi,
                       x.new_fire_discount_p50_lo, x.new_fire_discount_p50_hi), ''''::BYTEA ORDER BY x.bucket_start)
              FROM (SELECT DISTINCT basis, period, cell, country, tier, rig_model_id,
                           date_trunc(''month'', bucket_start::TIMESTAMP)::DATE AS month
                      FROM changed WHERE cell = %1$L) c
              JOIN price_index_materialized x
                ON x.basis = c.basis AND x.period = c.period AND x.cell = c.cell AND %2$s
               AND x.bucket_start >= c.month AND x.bucket_start < (c.month::TIMESTAMP + INTERVAL ''1 month'')::DATE
             GROUP BY c.basis, c.period, c.cell, c.country, c.tier, c.rig_model_id, c.month',
            cell_name, same_key);
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE FUNCTION price_index_months_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE price_index_months;
    RETURN NULL;
END;
$$;

-- A transition table belongs to one event, hence one trigger per event.
CREATE TRIGGER price_index_months_on_insert AFTER INSERT ON price_index_materialized
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION price_index_months_repack();
CREATE TRIGGER price_index_months_on_update AFTER UPDATE ON price_index_materialized
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION price_index_months_repack();
CREATE TRIGGER price_index_months_on_delete AFTER DELETE ON price_index_materialized
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION price_index_months_repack();
CREATE TRIGGER price_index_months_on_truncate AFTER TRUNCATE ON price_index_materialized
    FOR EACH STATEMENT EXECUTE FUNCTION price_index_months_clear();

INSERT INTO price_index_months (basis, period, cell, country, tier, rig_model_id, month, prices, new_listings)
SELECT m.basis, m.period, m.cell, m.country, m.tier, m.rig_model_id,
       date_trunc('month', m.bucket_start::TIMESTAMP)::DATE,
       string_agg(price_index_pack_prices(m.bucket_start, m.observations, m.fire_sales, m.discounted,
           m.p25_lo, m.p25_hi, m.p50_lo, m.p50_hi, m.p75_lo, m.p75_hi,
           m.discount_p50_lo, m.discount_p50_hi), ''::BYTEA ORDER BY m.bucket_start),
       string_agg(price_index_pack_new_listings(m.bucket_start, m.new_listings, m.new_fire_sales, m.new_discounted,
           m.new_discount_p50_lo, m.new_discount_p50_hi,
           m.new_fire_discount_p50_lo, m.new_fire_discount_p50_hi), ''::BYTEA ORDER BY m.bucket_start)
  FROM price_index_materialized m
 GROUP BY 1, 2, 3, 4, 5, 6, 7;
