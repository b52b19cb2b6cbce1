-- pgbench: one asking observation in the last month of the bench data (buckets
-- at full size), rolled back so repeated runs leave the data set unchanged.
-- benches/price_index.sh runs it with the trigger (the real write path) and with
-- session_replication_role = replica (the bare insert) to isolate the trigger.
\set lot random(1, 1550)
\set minute random(0, 44639)
BEGIN;
INSERT INTO price_observations (basis, event, listing_id, rig_model_id, tier, country, units, unit_price_cents,
                                hashrate_hs, usd_per_th_cents, reference_unit_price_cents, discount_bps, fire_sale,
                                observed_at)
SELECT 'asking', 'price_changed', l.id, l.rig_model_id, l.model_tier, l.country, 1, 100000, l.model_hashrate_hs,
       round(100000::numeric * 1000000000000 / l.model_hashrate_hs)::bigint, 120000, 1667, false,
       timestamptz '2023-12-01' + :minute * interval '1 minute'
  FROM bench_lots l WHERE l.n = :lot;
ROLLBACK;
