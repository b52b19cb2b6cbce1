-- The view as migration 2026-12-07-000030 created it.
CREATE OR REPLACE VIEW price_index_buckets AS
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
