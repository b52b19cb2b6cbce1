-- Back to the per-row trigger that recomputes each bucket (migration 000010).
-- Pending observations are folded in first, so the table is exact again.
SELECT price_index_materialize(2147483647);
DROP VIEW price_index_buckets;
DROP TABLE price_index_generation;
DROP FUNCTION price_index_materialize(INTEGER);
DROP FUNCTION price_index_bucket(TEXT, TEXT, TEXT, TEXT, TEXT, UUID, DATE);
DROP FUNCTION price_index_keys(TEXT, TEXT, UUID, DATE);
DROP TRIGGER price_observations_maintain_index ON price_observations;
DROP TABLE price_index_pending;
ALTER SEQUENCE price_index_materialized_id_seq RENAME TO price_index_buckets_id_seq;
ALTER TABLE price_index_materialized RENAME CONSTRAINT price_index_materialized_cell_shape TO price_index_buckets_cell_shape;
ALTER TABLE price_index_materialized RENAME CONSTRAINT price_index_materialized_cell_key TO price_index_buckets_cell_key;
ALTER TABLE price_index_materialized RENAME CONSTRAINT price_index_materialized_pkey TO price_index_buckets_pkey;
ALTER TABLE price_index_materialized RENAME TO price_index_buckets;

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

CREATE OR REPLACE FUNCTION price_index_observe() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION price_index_rebuild() RETURNS BIGINT LANGUAGE plpgsql AS $$
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
