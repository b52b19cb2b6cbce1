-- Fresh price series read a key's month in one row (issue 17).
--
-- A three-year daily series of 31 models is 34,000 bucket rows: PostgreSQL spent
-- most of a fresh answer's time producing and sending them one tuple at a time,
-- and the service decoding them field by field. `price_index_months` holds the
-- same buckets packed by key and calendar month of `bucket_start`: one row per
-- key and month, one array per column, elements in `bucket_start` order. The
-- same series is then about 1,100 rows.
--
-- The packed rows are kept equal to `price_index_materialized` by statement-level
-- triggers on it, in the writer's transaction: whatever a fold, a rebuild or a
-- test writes there, the months of the keys it touched are repacked from the
-- table, so a reader sees the two agree in any snapshot. Readers still take the
-- buckets with pending observations from `price_index_buckets` (computed live):
-- months before the month of the oldest dirty day come packed, the rest from the
-- view, in one statement (one snapshot).
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
    bucket_starts            DATE[]    NOT NULL,
    observations             INTEGER[] NOT NULL,
    fire_sales               INTEGER[] NOT NULL,
    discounted               INTEGER[] NOT NULL,
    p25_lo BIGINT[] NOT NULL, p25_hi BIGINT[] NOT NULL,
    p50_lo BIGINT[] NOT NULL, p50_hi BIGINT[] NOT NULL,
    p75_lo BIGINT[] NOT NULL, p75_hi BIGINT[] NOT NULL,
    discount_p50_lo BIGINT[] NOT NULL, discount_p50_hi BIGINT[] NOT NULL,
    new_listings             INTEGER[] NOT NULL,
    new_fire_sales           INTEGER[] NOT NULL,
    new_discounted           INTEGER[] NOT NULL,
    new_discount_p50_lo BIGINT[] NOT NULL, new_discount_p50_hi BIGINT[] NOT NULL,
    new_fire_discount_p50_lo BIGINT[] NOT NULL, new_fire_discount_p50_hi BIGINT[] NOT NULL,
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
                (basis, period, cell, country, tier, rig_model_id, month, bucket_starts,
                 observations, fire_sales, discounted, p25_lo, p25_hi, p50_lo, p50_hi, p75_lo, p75_hi,
                 discount_p50_lo, discount_p50_hi, new_listings, new_fire_sales, new_discounted,
                 new_discount_p50_lo, new_discount_p50_hi, new_fire_discount_p50_lo, new_fire_discount_p50_hi)
            SELECT c.basis, c.period, c.cell, c.country, c.tier, c.rig_model_id, c.month,
                   array_agg(x.bucket_start ORDER BY x.bucket_start),
                   array_agg(x.observations ORDER BY x.bucket_start), array_agg(x.fire_sales ORDER BY x.bucket_start),
                   array_agg(x.discounted ORDER BY x.bucket_start),
                   array_agg(x.p25_lo ORDER BY x.bucket_start), array_agg(x.p25_hi ORDER BY x.bucket_start),
                   array_agg(x.p50_lo ORDER BY x.bucket_start), array_agg(x.p50_hi ORDER BY x.bucket_start),
                   array_agg(x.p75_lo ORDER BY x.bucket_start), array_agg(x.p75_hi ORDER BY x.bucket_start),
                   array_agg(x.discount_p50_lo ORDER BY x.bucket_start),
                   array_agg(x.discount_p50_hi ORDER BY x.bucket_start),
                   array_agg(x.new_listings ORDER BY x.bucket_start), array_agg(x.new_fire_sales ORDER BY x.bucket_start),
                   array_agg(x.new_discounted ORDER BY x.bucket_start),
                   array_agg(x.new_discount_p50_lo ORDER BY x.bucket_start),
                   array_agg(x.new_discount_p50_hi ORDER BY x.bucket_start),
                   array_agg(x.new_fire_discount_p50_lo ORDER BY x.bucket_start),
                   array_agg(x.new_fire_discount_p50_hi ORDER BY x.bucket_start)
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

INSERT INTO price_index_months
    (basis, period, cell, country, tier, rig_model_id, month, bucket_starts,
     observations, fire_sales, discounted, p25_lo, p25_hi, p50_lo, p50_hi, p75_lo, p75_hi,
     discount_p50_lo, discount_p50_hi, new_listings, new_fire_sales, new_discounted,
     new_discount_p50_lo, new_discount_p50_hi, new_fire_discount_p50_lo, new_fire_discount_p50_hi)
SELECT m.basis, m.period, m.cell, m.country, m.tier, m.rig_model_id, date_trunc('month', m.bucket_start::TIMESTAMP)::DATE,
       array_agg(m.bucket_start ORDER BY m.bucket_start),
       array_agg(m.observations ORDER BY m.bucket_start), array_agg(m.fire_sales ORDER BY m.bucket_start),
       array_agg(m.discounted ORDER BY m.bucket_start),
       array_agg(m.p25_lo ORDER BY m.bucket_start), array_agg(m.p25_hi ORDER BY m.bucket_start),
       array_agg(m.p50_lo ORDER BY m.bucket_start), array_agg(m.p50_hi ORDER BY m.bucket_start),
       array_agg(m.p75_lo ORDER BY m.bucket_start), array_agg(m.p75_hi ORDER BY m.bucket_start),
       array_agg(m.discount_p50_lo ORDER BY m.bucket_start), array_agg(m.discount_p50_hi ORDER BY m.bucket_start),
       array_agg(m.new_listings ORDER BY m.bucket_start), array_agg(m.new_fire_sales ORDER BY m.bucket_start),
       array_agg(m.new_discounted ORDER BY m.bucket_start),
       array_agg(m.new_discount_p50_lo ORDER BY m.bucket_start),
       array_agg(m.new_discount_p50_hi ORDER BY m.bucket_start),
       array_agg(m.new_fire_discount_p50_lo ORDER BY m.bucket_start),
       array_agg(m.new_fire_discount_p50_hi ORDER BY m.bucket_start)
  FROM price_index_materialized m
 GROUP BY 1, 2, 3, 4, 5, 6, 7;
