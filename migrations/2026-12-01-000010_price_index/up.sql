-- The price index (issue 7).
--
-- `price_observations` (append-only) holds one row per listing publication, asking
-- price change and settled order. A trigger keeps `price_index_buckets` in the same
-- transaction: one row per (basis, period, cell, key, bucket) with counts and, for
-- every quantile the API serves, the two order statistics around it,
-- x_i and x_{i+1} with i = floor(p * (n - 1)). The API interpolates
-- percentile_cont(p) = x_i + (p * (n - 1) - i) * (x_{i+1} - x_i) from one row, so a
-- series costs one index range scan over its buckets, whatever the number of
-- observations behind them. Values stay integers (USD cents per TH, discount basis
-- points) in storage.
--
-- On insert, the trigger locks each bucket the observation falls in (fixed order:
-- period, then cell) and recomputes its statistics from that bucket's observations
-- through a covering index. The write cost grows with the size of the largest
-- bucket touched (an ISO week of one tier); docs/BENCHMARKS.md measures it.
--
-- Periods: UTC day and ISO week (Monday 00:00 UTC). Cells: tier, country, model,
-- tier x country, model x country. Asking buckets also carry the statistics of the
-- publications alone (`new_*`: the fire-sale share of new listings).

CREATE TABLE price_observations (
    id                          BIGSERIAL PRIMARY KEY,
    basis                       TEXT        NOT NULL CHECK (basis IN ('asking', 'settled')),
    event                       TEXT        NOT NULL CHECK (event IN ('published', 'price_changed', 'order_settled')),
    listing_id                  UUID        NOT NULL REFERENCES listings (id),
    -- The settled order (no foreign key here: orders have their own migration). One
    -- observation per order, so recording a settlement twice is harmless.
    order_id                    UUID UNIQUE,
    rig_model_id                UUID        NOT NULL REFERENCES rig_models (id),
    tier                        TEXT        NOT NULL,
    country                     TEXT        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    units                       INTEGER     NOT NULL CHECK (units > 0),
    unit_price_cents            BIGINT      NOT NULL CHECK (unit_price_cents > 0),
    hashrate_hs                 BIGINT      NOT NULL CHECK (hashrate_hs > 0),
    usd_per_th_cents            BIGINT      NOT NULL,
    -- Measured hashrate per unit while a verified proof is valid, and the price per verified TH.
    verified_hashrate_hs        BIGINT,
    usd_per_verified_th_cents   BIGINT,
    reference_unit_price_cents  BIGINT,
    discount_bps                BIGINT,
    fire_sale                   BOOLEAN     NOT NULL,
    observed_at                 TIMESTAMPTZ NOT NULL,
    CONSTRAINT price_observations_event_fits_basis CHECK ((basis = 'settled') = (event = 'order_settled')),
    CONSTRAINT price_observations_settled_has_order CHECK ((basis = 'settled') = (order_id IS NOT NULL)),
    CONSTRAINT price_observations_fire_sale_has_discount CHECK (NOT fire_sale OR discount_bps IS NOT NULL)
);
CREATE INDEX price_observations_listing_id_idx ON price_observations (listing_id, observed_at);
-- One covering index per leading key of a cell: bucket recomputation (and the 7-day
-- `latest` window per tier) read only the index.
CREATE INDEX price_observations_by_tier_idx ON price_observations (basis, tier, observed_at)
    INCLUDE (country, event, usd_per_th_cents, discount_bps, fire_sale);
CREATE INDEX price_observations_by_country_idx ON price_observations (basis, country, observed_at)
    INCLUDE (event, usd_per_th_cents, discount_bps, fire_sale);
CREATE INDEX price_observations_rig_model_id_idx ON price_observations (rig_model_id, basis, observed_at)
    INCLUDE (country, event, usd_per_th_cents, discount_bps, fire_sale);

CREATE TABLE price_index_buckets (
    id                        BIGSERIAL PRIMARY KEY,
    basis                     TEXT    NOT NULL CHECK (basis IN ('asking', 'settled')),
    period                    TEXT    NOT NULL CHECK (period IN ('day', 'week')),
    cell                      TEXT    NOT NULL CHECK (cell IN ('tier', 'country', 'model', 'tier_country', 'model_country')),
    -- NULL where the cell does not group by that dimension.
    country                   TEXT,
    tier                      TEXT,
    rig_model_id              UUID,
    bucket_start              DATE    NOT NULL,
    observations              INTEGER NOT NULL,
    fire_sales                INTEGER NOT NULL,
    -- Observations with a reference price, hence a discount.
    discounted                INTEGER NOT NULL,
    -- Order statistics (lo = x_i, hi = x_{i+1}) of USD cents per nominal TH ...
    p25_lo BIGINT, p25_hi BIGINT,
    p50_lo BIGINT, p50_hi BIGINT,
    p75_lo BIGINT, p75_hi BIGINT,
    -- ... and of the discount in basis points, over `discounted`.
    discount_p50_lo BIGINT, discount_p50_hi BIGINT,
    -- Publications only (asking buckets): the new listings of the bucket.
    new_listings              INTEGER NOT NULL,
    new_fire_sales            INTEGER NOT NULL,
    new_discounted            INTEGER NOT NULL,
    new_discount_p50_lo BIGINT, new_discount_p50_hi BIGINT,
    new_fire_discount_p50_lo BIGINT, new_fire_discount_p50_hi BIGINT,
    CONSTRAINT price_index_buckets_cell_key UNIQUE NULLS NOT DISTINCT
        (basis, period, cell, country, tier, rig_model_id, bucket_start),
    CONSTRAINT price_index_buckets_cell_shape CHECK (
        (country IS NOT NULL) = (cell IN ('country', 'tier_country', 'model_country'))
        AND (tier IS NOT NULL) = (cell IN ('tier', 'tier_country'))
        AND (rig_model_id IS NOT NULL) = (cell IN ('model', 'model_country')))
);

-- x_i of a sorted array for the quantile num/den (1-based arrays), and x_{i+1}
-- (x_i again when i is the last index).
CREATE FUNCTION price_index_lo(sorted BIGINT[], num INTEGER, den INTEGER) RETURNS BIGINT
LANGUAGE sql IMMUTABLE AS $$
    SELECT sorted[1 + (num::BIGINT * (cardinality(sorted) - 1)) / den];
$$;
CREATE FUNCTION price_index_hi(sorted BIGINT[], num INTEGER, den INTEGER) RETURNS BIGINT
LANGUAGE sql IMMUTABLE AS $$
    SELECT sorted[LEAST(cardinality(sorted), 2 + (num::BIGINT * (cardinality(sorted) - 1)) / den)];
$$;

-- The sorted values and counts of one bucket's observations.
CREATE TYPE price_index_sample AS (
    observations INTEGER, fire_sales INTEGER,
    usd BIGINT[], discounts BIGINT[],
    new_listings INTEGER, new_fire_sales INTEGER,
    new_discounts BIGINT[], new_fire_discounts BIGINT[]
);

-- Reads a bucket's observations through the covering index that leads with the
-- cell's first key (static statements, so each keeps its own plan).
CREATE FUNCTION price_index_sample(
    p_basis TEXT, p_cell TEXT, p_country TEXT, p_tier TEXT, p_model UUID, p_from TIMESTAMPTZ, p_to TIMESTAMPTZ
) RETURNS price_index_sample LANGUAGE plpgsql STABLE AS $$
DECLARE
    s price_index_sample;
BEGIN
    IF p_cell IN ('tier', 'tier_country') THEN
        SELECT count(*), count(*) FILTER (WHERE o.fire_sale),
               array_agg(o.usd_per_th_cents ORDER BY o.usd_per_th_cents),
               array_agg(o.discount_bps ORDER BY o.discount_bps) FILTER (WHERE o.discount_bps IS NOT NULL),
               count(*) FILTER (WHERE o.event = 'published'),
               count(*) FILTER (WHERE o.event = 'published' AND o.fire_sale),
               array_agg(o.discount_bps ORDER BY o.discount_bps)
                   FILTER (WHERE o.event = 'published' AND o.discount_bps IS NOT NULL),
               array_agg(o.discount_bps ORDER BY o.discount_bps) FILTER (WHERE o.event = 'published' AND o.fire_sale)
          INTO s
          FROM price_observations o
         WHERE o.basis = p_basis AND o.tier = p_tier AND o.observed_at >= p_from AND o.observed_at < p_to
           AND (p_country IS NULL OR o.country = p_country);
    ELSIF p_cell IN ('model', 'model_country') THEN
        SELECT count(*), count(*) FILTER (WHERE o.fire_sale),
               array_agg(o.usd_per_th_cents ORDER BY o.usd_per_th_cents),
               array_agg(o.discount_bps ORDER BY o.discount_bps) FILTER (WHERE o.discount_bps IS NOT NULL),
               count(*) FILTER (WHERE o.event = 'published'),
               count(*) FILTER (WHERE o.event = 'published' AND o.fire_sale),
               array_agg(o.discount_bps ORDER BY o.discount_bps)
                   FILTER (WHERE o.event = 'published' AND o.discount_bps IS NOT NULL),
               array_agg(o.discount_bps ORDER BY o.discount_bps) FILTER (WHERE o.event = 'published' AND o.fire_sale)
          INTO s
          FROM price_observations o
         WHERE o.rig_model_id = p_model AND o.basis = p_basis AND o.observed_at >= p_from AND o.observed_at < p_to
           AND (p_country IS NULL OR o.country = p_country);
    ELSE
        SELECT count(*), count(*) FILTER (WHERE o.fire_sale),
               array_agg(o.usd_per_th_cents ORDER BY o.usd_per_th_cents),
               array_agg(o.discount_bps ORDER BY o.discount_bps) FILTER (WHERE o.discount_bps IS NOT NULL),
               count(*) FILTER (WHERE o.event = 'published'),
               count(*) FILTER (WHERE o.event = 'published' AND o.fire_sale),
               array_agg(o.discount_bps ORDER BY o.discount_bps)
                   FILTER (WHERE o.event = 'published' AND o.discount_bps IS NOT NULL),
               array_agg(o.discount_bps ORDER BY o.discount_bps) FILTER (WHERE o.event = 'published' AND o.fire_sale)
          INTO s
          FROM price_observations o
         WHERE o.basis = p_basis AND o.country = p_country AND o.observed_at >= p_from AND o.observed_at < p_to;
    END IF;
    RETURN s;
END;
$$;

-- Recomputes one bucket (created on first use) under its row lock, so concurrent
-- observations of one bucket apply one after the other and the last to commit
-- has counted every committed observation.
CREATE FUNCTION price_index_refresh_bucket(
    p_basis TEXT, p_period TEXT, p_cell TEXT, p_country TEXT, p_tier TEXT, p_model UUID, p_start DATE
) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    bucket_id BIGINT;
    s price_index_sample;
    from_at TIMESTAMPTZ := p_start::TIMESTAMP AT TIME ZONE 'UTC';
BEGIN
    INSERT INTO price_index_buckets AS existing
        (basis, period, cell, country, tier, rig_model_id, bucket_start,
         observations, fire_sales, discounted, new_listings, new_fire_sales, new_discounted)
    VALUES (p_basis, p_period, p_cell, p_country, p_tier, p_model, p_start, 0, 0, 0, 0, 0, 0)
    ON CONFLICT (basis, period, cell, country, tier, rig_model_id, bucket_start)
        DO UPDATE SET observations = existing.observations
    RETURNING id INTO bucket_id;
    s := price_index_sample(p_basis, p_cell, p_country, p_tier, p_model, from_at,
                            from_at + CASE p_period WHEN 'day' THEN INTERVAL '1 day' ELSE INTERVAL '7 days' END);
    UPDATE price_index_buckets SET
        observations = s.observations, fire_sales = s.fire_sales,
        discounted = COALESCE(cardinality(s.discounts), 0),
        p25_lo = price_index_lo(s.usd, 1, 4), p25_hi = price_index_hi(s.usd, 1, 4),
        p50_lo = price_index_lo(s.usd, 1, 2), p50_hi = price_index_hi(s.usd, 1, 2),
        p75_lo = price_index_lo(s.usd, 3, 4), p75_hi = price_index_hi(s.usd, 3, 4),
        discount_p50_lo = price_index_lo(s.discounts, 1, 2), discount_p50_hi = price_index_hi(s.discounts, 1, 2),
        new_listings = s.new_listings, new_fire_sales = s.new_fire_sales,
        new_discounted = COALESCE(cardinality(s.new_discounts), 0),
        new_discount_p50_lo = price_index_lo(s.new_discounts, 1, 2),
        new_discount_p50_hi = price_index_hi(s.new_discounts, 1, 2),
        new_fire_discount_p50_lo = price_index_lo(s.new_fire_discounts, 1, 2),
        new_fire_discount_p50_hi = price_index_hi(s.new_fire_discounts, 1, 2)
     WHERE id = bucket_id;
END;
$$;

CREATE FUNCTION price_index_observe() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    period TEXT;
    start DATE;
    utc TIMESTAMP := NEW.observed_at AT TIME ZONE 'UTC';
BEGIN
    FOREACH period IN ARRAY ARRAY['day', 'week'] LOOP
        start := CASE period WHEN 'day' THEN utc::DATE ELSE date_trunc('week', utc)::DATE END;
        PERFORM price_index_refresh_bucket(NEW.basis, period, 'tier', NULL, NEW.tier, NULL, start);
        PERFORM price_index_refresh_bucket(NEW.basis, period, 'country', NEW.country, NULL, NULL, start);
        PERFORM price_index_refresh_bucket(NEW.basis, period, 'model', NULL, NULL, NEW.rig_model_id, start);
        PERFORM price_index_refresh_bucket(NEW.basis, period, 'tier_country', NEW.country, NEW.tier, NULL, start);
        PERFORM price_index_refresh_bucket(NEW.basis, period, 'model_country', NEW.country, NULL, NEW.rig_model_id, start);
    END LOOP;
    RETURN NULL;
END;
$$;
CREATE TRIGGER price_observations_maintain_index
    AFTER INSERT ON price_observations
    FOR EACH ROW EXECUTE FUNCTION price_index_observe();

-- The buckets assume observations are only ever added.
CREATE FUNCTION price_observations_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'price_observations is append-only';
END;
$$;
CREATE TRIGGER price_observations_append_only
    BEFORE UPDATE OR DELETE ON price_observations
    FOR EACH ROW EXECUTE FUNCTION price_observations_append_only();

-- Recomputes every bucket from the observations in set-based passes (one per
-- period and cell): for bulk loads, which insert with the trigger disabled, and
-- as an independent check of the trigger. Returns the number of buckets.
CREATE FUNCTION price_index_rebuild() RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    period TEXT;
    cell TEXT;
    total BIGINT;
BEGIN
    LOCK TABLE price_observations IN SHARE MODE;
    TRUNCATE price_index_buckets RESTART IDENTITY;
    FOREACH period IN ARRAY ARRAY['day', 'week'] LOOP
        FOREACH cell IN ARRAY ARRAY['tier', 'country', 'model', 'tier_country', 'model_country'] LOOP
            INSERT INTO price_index_buckets
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
    SELECT count(*) INTO total FROM price_index_buckets;
    RETURN total;
END;
$$;
