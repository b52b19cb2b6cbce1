-- Observation writes at the cost of an insert (issue 17).
--
-- Until now the insert trigger recomputed the ten buckets an observation falls in
-- (2 periods x 5 cells) from their observations, under each bucket's row lock: a
-- write cost ~50x a bare insert, grew with the bucket (an ISO week of one tier) and
-- serialised every writer of a bucket until commit.
--
-- Now the trigger only records which buckets went stale: one row per observation in
-- `price_index_pending`, a plain INSERT (no unique key, so no writer ever waits for
-- another). Buckets live in `price_index_materialized`, and `price_index_buckets`
-- becomes a view with the same columns and the same exact answers:
--   - a bucket with no pending observation is read from its materialized row;
--   - a bucket with one is computed from its observations in the reader's snapshot
--     (`price_index_bucket`, the same covering-index read the trigger used to make).
-- A periodic job calls `price_index_materialize`, which takes a batch of pending
-- rows, recomputes their buckets once each, upserts them and deletes the rows, in one
-- statement. So a bucket costs one recomputation per job run, however many writes it
-- took, and a read stays one index range scan plus the few buckets written since the
-- job's last run.
--
-- Why a reader is always exact: a pending row commits with its observation. If a
-- reader's snapshot sees no pending row of a bucket, every observation of it that the
-- snapshot sees had its pending row deleted by a materializer that committed before
-- the snapshot, and whose own snapshot saw that observation. Materializers run one at
-- a time (a transaction-scoped advisory lock, taken before the statement whose
-- snapshot counts), so the last one to write the bucket saw all of them.

-- The old trigger kept the table exact, so nothing is pending to begin with.
ALTER TABLE price_index_buckets RENAME TO price_index_materialized;
ALTER TABLE price_index_materialized RENAME CONSTRAINT price_index_buckets_pkey TO price_index_materialized_pkey;
ALTER TABLE price_index_materialized RENAME CONSTRAINT price_index_buckets_cell_key TO price_index_materialized_cell_key;
ALTER TABLE price_index_materialized RENAME CONSTRAINT price_index_buckets_cell_shape TO price_index_materialized_cell_shape;
ALTER SEQUENCE price_index_buckets_id_seq RENAME TO price_index_materialized_id_seq;

-- The buckets of these observations are stale in `price_index_materialized`. The key
-- columns are copied from the observation so that the view and the job never join
-- back to it.
CREATE TABLE price_index_pending (
    id           BIGSERIAL PRIMARY KEY,
    basis        TEXT NOT NULL,
    tier         TEXT NOT NULL,
    country      TEXT NOT NULL,
    rig_model_id UUID NOT NULL,
    -- The observation's UTC day.
    day          DATE NOT NULL
);
CREATE INDEX price_index_pending_day_idx ON price_index_pending (day);

-- The ten bucket keys of an observation: each period x each cell.
CREATE FUNCTION price_index_keys(p_tier TEXT, p_country TEXT, p_model UUID, p_day DATE)
RETURNS TABLE (period TEXT, cell TEXT, country TEXT, tier TEXT, rig_model_id UUID, bucket_start DATE)
LANGUAGE sql IMMUTABLE AS $$
    SELECT p.period, c.cell,
           CASE WHEN c.cell IN ('country', 'tier_country', 'model_country') THEN p_country END,
           CASE WHEN c.cell IN ('tier', 'tier_country') THEN p_tier END,
           CASE WHEN c.cell IN ('model', 'model_country') THEN p_model END,
           -- ISO week: back to Monday.
           CASE p.period WHEN 'day' THEN p_day ELSE p_day - (EXTRACT(ISODOW FROM p_day)::INTEGER - 1) END
      FROM (VALUES ('day'), ('week')) AS p (period)
     CROSS JOIN (VALUES ('tier'), ('country'), ('model'), ('tier_country'), ('model_country')) AS c (cell);
$$;

-- One bucket's statistics, computed from its observations in the caller's snapshot.
CREATE FUNCTION price_index_bucket(
    p_basis TEXT, p_period TEXT, p_cell TEXT, p_country TEXT, p_tier TEXT, p_model UUID, p_start DATE
) RETURNS TABLE (
    observations INTEGER, fire_sales INTEGER, discounted INTEGER,
    p25_lo BIGINT, p25_hi BIGINT, p50_lo BIGINT, p50_hi BIGINT, p75_lo BIGINT, p75_hi BIGINT,
    discount_p50_lo BIGINT, discount_p50_hi BIGINT,
    new_listings INTEGER, new_fire_sales INTEGER, new_discounted INTEGER,
    new_discount_p50_lo BIGINT, new_discount_p50_hi BIGINT,
    new_fire_discount_p50_lo BIGINT, new_fire_discount_p50_hi BIGINT
) LANGUAGE sql STABLE AS $$
    SELECT s.observations, s.fire_sales, COALESCE(cardinality(s.discounts), 0),
           price_index_lo(s.usd, 1, 4), price_index_hi(s.usd, 1, 4),
           price_index_lo(s.usd, 1, 2), price_index_hi(s.usd, 1, 2),
           price_index_lo(s.usd, 3, 4), price_index_hi(s.usd, 3, 4),
           price_index_lo(s.discounts, 1, 2), price_index_hi(s.discounts, 1, 2),
           s.new_listings, s.new_fire_sales, COALESCE(cardinality(s.new_discounts), 0),
           price_index_lo(s.new_discounts, 1, 2), price_index_hi(s.new_discounts, 1, 2),
           price_index_lo(s.new_fire_discounts, 1, 2), price_index_hi(s.new_fire_discounts, 1, 2)
      FROM price_index_sample(p_basis, p_cell, p_country, p_tier, p_model,
                              p_start::TIMESTAMP AT TIME ZONE 'UTC',
                              (p_start + CASE p_period WHEN 'day' THEN 1 ELSE 7 END)::TIMESTAMP AT TIME ZONE 'UTC') AS s;
$$;

-- Every bucket a pending observation can dirty starts on or after `oldest_dirty`
-- (a week bucket starts up to six days before its observation's day), so the
-- materialized rows before it, the whole history in practice, are read without
-- the anti-join.
CREATE VIEW price_index_buckets AS
WITH dirty AS (
    SELECT DISTINCT p.basis, k.period, k.cell, k.country, k.tier, k.rig_model_id, k.bucket_start
      FROM price_index_pending p
     CROSS JOIN LATERAL price_index_keys(p.tier, p.country, p.rig_model_id, p.day) AS k
), oldest_dirty AS (
    SELECT COALESCE(min(day) - 6, 'infinity'::DATE) AS day FROM price_index_pending
)
SELECT m.basis, m.period, m.cell, m.country, m.tier, m.rig_model_id, m.bucket_start,
       m.observations, m.fire_sales, m.discounted, m.p25_lo, m.p25_hi, m.p50_lo, m.p50_hi, m.p75_lo, m.p75_hi,
       m.discount_p50_lo, m.discount_p50_hi, m.new_listings, m.new_fire_sales, m.new_discounted,
       m.new_discount_p50_lo, m.new_discount_p50_hi, m.new_fire_discount_p50_lo, m.new_fire_discount_p50_hi
  FROM price_index_materialized m
 WHERE m.bucket_start < (SELECT day FROM oldest_dirty)
UNION ALL
SELECT m.basis, m.period, m.cell, m.country, m.tier, m.rig_model_id, m.bucket_start,
       m.observations, m.fire_sales, m.discounted, m.p25_lo, m.p25_hi, m.p50_lo, m.p50_hi, m.p75_lo, m.p75_hi,
       m.discount_p50_lo, m.discount_p50_hi, m.new_listings, m.new_fire_sales, m.new_discounted,
       m.new_discount_p50_lo, m.new_discount_p50_hi, m.new_fire_discount_p50_lo, m.new_fire_discount_p50_hi
  FROM price_index_materialized m
 WHERE m.bucket_start >= (SELECT day FROM oldest_dirty)
   AND NOT EXISTS (
        SELECT 1 FROM dirty d
         WHERE d.basis = m.basis AND d.period = m.period AND d.cell = m.cell AND d.bucket_start = m.bucket_start
           AND d.country IS NOT DISTINCT FROM m.country AND d.tier IS NOT DISTINCT FROM m.tier
           AND d.rig_model_id IS NOT DISTINCT FROM m.rig_model_id)
UNION ALL
SELECT d.basis, d.period, d.cell, d.country, d.tier, d.rig_model_id, d.bucket_start,
       b.observations, b.fire_sales, b.discounted, b.p25_lo, b.p25_hi, b.p50_lo, b.p50_hi, b.p75_lo, b.p75_hi,
       b.discount_p50_lo, b.discount_p50_hi, b.new_listings, b.new_fire_sales, b.new_discounted,
       b.new_discount_p50_lo, b.new_discount_p50_hi, b.new_fire_discount_p50_lo, b.new_fire_discount_p50_hi
  FROM dirty d
 CROSS JOIN LATERAL price_index_bucket(d.basis, d.period, d.cell, d.country, d.tier, d.rig_model_id, d.bucket_start) AS b;

-- Bumped by every fold and rebuild (never by an observation's writer, so writers
-- share no row). With the pending rows of a range, it tells a reader whether the
-- buckets of that range can have changed since it last read them: a fold
-- changes no answer but removes pending rows, an observation adds one.
CREATE TABLE price_index_generation (
    singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    generation BIGINT  NOT NULL
);
INSERT INTO price_index_generation (singleton, generation) VALUES (TRUE, 0);

-- Folds up to `max_pending` pending observations into the materialized buckets.
-- Returns how many it took, or NULL when another call is running (it holds the
-- lock until its transaction ends). Call it in READ COMMITTED: the statement after
-- the lock must take a snapshot of its own, newer than the previous call's commit.
CREATE FUNCTION price_index_materialize(max_pending INTEGER) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    taken_count INTEGER;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('price_index_materialize', 0)) THEN
        RETURN NULL;
    END IF;
    WITH taken AS (
        DELETE FROM price_index_pending
         WHERE id IN (SELECT id FROM price_index_pending ORDER BY id LIMIT max_pending)
        RETURNING basis, tier, country, rig_model_id, day
    ), stale AS (
        SELECT DISTINCT t.basis, k.period, k.cell, k.country, k.tier, k.rig_model_id, k.bucket_start
          FROM taken t
         CROSS JOIN LATERAL price_index_keys(t.tier, t.country, t.rig_model_id, t.day) AS k
    ), written AS (
        INSERT INTO price_index_materialized AS m
            (basis, period, cell, country, tier, rig_model_id, bucket_start,
             observations, fire_sales, discounted, p25_lo, p25_hi, p50_lo, p50_hi, p75_lo, p75_hi,
             discount_p50_lo, discount_p50_hi, new_listings, new_fire_sales, new_discounted,
             new_discount_p50_lo, new_discount_p50_hi, new_fire_discount_p50_lo, new_fire_discount_p50_hi)
        SELECT s.basis, s.period, s.cell, s.country, s.tier, s.rig_model_id, s.bucket_start, b.*
          FROM stale s
         CROSS JOIN LATERAL price_index_bucket(s.basis, s.period, s.cell, s.country, s.tier, s.rig_model_id,
                                               s.bucket_start) AS b
        ON CONFLICT (basis, period, cell, country, tier, rig_model_id, bucket_start) DO UPDATE SET
            observations = EXCLUDED.observations, fire_sales = EXCLUDED.fire_sales,
            discounted = EXCLUDED.discounted,
            p25_lo = EXCLUDED.p25_lo, p25_hi = EXCLUDED.p25_hi, p50_lo = EXCLUDED.p50_lo,
            p50_hi = EXCLUDED.p50_hi, p75_lo = EXCLUDED.p75_lo, p75_hi = EXCLUDED.p75_hi,
            discount_p50_lo = EXCLUDED.discount_p50_lo, discount_p50_hi = EXCLUDED.discount_p50_hi,
            new_listings = EXCLUDED.new_listings, new_fire_sales = EXCLUDED.new_fire_sales,
            new_discounted = EXCLUDED.new_discounted,
            new_discount_p50_lo = EXCLUDED.new_discount_p50_lo, new_discount_p50_hi = EXCLUDED.new_discount_p50_hi,
            new_fire_discount_p50_lo = EXCLUDED.new_fire_discount_p50_lo,
            new_fire_discount_p50_hi = EXCLUDED.new_fire_discount_p50_hi
        RETURNING 1
    )
    SELECT count(*) INTO taken_count FROM taken;
    IF taken_count > 0 THEN
        UPDATE price_index_generation SET generation = generation + 1;
    END IF;
    RETURN taken_count;
END;
$$;

-- One row per inserted observation, per statement (a bulk insert is one INSERT here).
CREATE OR REPLACE FUNCTION price_index_observe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO price_index_pending (basis, tier, country, rig_model_id, day)
    SELECT basis, tier, country, rig_model_id, (observed_at AT TIME ZONE 'UTC')::DATE FROM added;
    RETURN NULL;
END;
$$;
DROP TRIGGER price_observations_maintain_index ON price_observations;
CREATE TRIGGER price_observations_maintain_index
    AFTER INSERT ON price_observations
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION price_index_observe();
DROP FUNCTION price_index_refresh_bucket(TEXT, TEXT, TEXT, TEXT, TEXT, UUID, DATE);

-- The full rebuild now fills the materialized table and leaves nothing pending.
CREATE OR REPLACE FUNCTION price_index_rebuild() RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    period TEXT;
    cell TEXT;
    total BIGINT;
BEGIN
    LOCK TABLE price_observations IN SHARE MODE;
    TRUNCATE price_index_materialized, price_index_pending RESTART IDENTITY;
    FOREACH period IN ARRAY ARRAY['day', 'week'] LOOP
        FOREACH cell IN ARRAY ARRAY['tier', 'country', 'model', 'tier_country', 'model_country'] LOOP
            INSERT INTO price_index_materialized
                (basis, period, cell, country, tier, rig_model_id, bucket_start,
                 observations, fire_sales, discounted, p25_lo, p25_hi, p50_lo, p50_hi, p75_lo, p75_hi,
                 discount_p50_lo, discount_p50_hi, new_listings, new_fire_sales, new_discounted,
                 new_discount_p50_lo, new_discount_p50_hi, new_fire_discount_p50_lo, new_fire_discount_p50_hi)
            SELECT g.basis, period, cell, g.country, g.tier, g.rig_model_id, g.bucket_start,
                   g.observations, g.fire_sales, COALESCE(cardinality(g.discounts), 0),
                   price_index_lo(g.usd, 1, 4), price_index_hi(g.usd, 1, 4),
                   price_index_lo(g.usd, 1, 2), price_index_hi(g.usd, 1, 2),
                   price_index_lo(g.usd, 3, 4), price_index_hi(g.usd, 3, 4),
                   price_index_lo(g.discounts, 1, 2), price_index_hi(g.discounts, 1, 2),
                   g.new_listings, g.new_fire_sales, COALESCE(cardinality(g.new_discounts), 0),
                   price_index_lo(g.new_discounts, 1, 2), price_index_hi(g.new_discounts, 1, 2),
                   price_index_lo(g.new_fire_discounts, 1, 2), price_index_hi(g.new_fire_discounts, 1, 2)
              FROM (SELECT o.basis,
                           CASE WHEN cell IN ('country', 'tier_country', 'model_country') THEN o.country END AS country,
                           CASE WHEN cell IN ('tier', 'tier_country') THEN o.tier END AS tier,
                           CASE WHEN cell IN ('model', 'model_country') THEN o.rig_model_id END AS rig_model_id,
                           CASE period WHEN 'day' THEN (o.observed_at AT TIME ZONE 'UTC')::DATE
                                ELSE date_trunc('week', o.observed_at AT TIME ZONE 'UTC')::DATE END AS bucket_start,
                           count(*)::INTEGER AS observations,
                           (count(*) FILTER (WHERE o.fire_sale))::INTEGER AS fire_sales,
                           array_agg(o.usd_per_th_cents ORDER BY o.usd_per_th_cents) AS usd,
                           array_agg(o.discount_bps ORDER BY o.discount_bps)
                               FILTER (WHERE o.discount_bps IS NOT NULL) AS discounts,
                           (count(*) FILTER (WHERE o.event = 'published'))::INTEGER AS new_listings,
                           (count(*) FILTER (WHERE o.event = 'published' AND o.fire_sale))::INTEGER AS new_fire_sales,
                           array_agg(o.discount_bps ORDER BY o.discount_bps)
                               FILTER (WHERE o.event = 'published' AND o.discount_bps IS NOT NULL) AS new_discounts,
                           array_agg(o.discount_bps ORDER BY o.discount_bps)
                               FILTER (WHERE o.event = 'published' AND o.fire_sale) AS new_fire_discounts
                      FROM price_observations o
                     GROUP BY 1, 2, 3, 4, 5) g;
        END LOOP;
    END LOOP;
    UPDATE price_index_generation SET generation = generation + 1;
    SELECT count(*) INTO total FROM price_index_materialized;
    RETURN total;
END;
$$;
