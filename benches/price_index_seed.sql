-- Bulk observations for benches/price_index.sh: :observations price observations
-- over 2021-01-01 .. 2023-12-31 across the seeded catalog and ten countries, with
-- unit prices in whole $10 steps around a per-tier $/TH curve (as sellers price),
-- 60 % price changes, 25 % publications, 15 % settled orders. Inserted with
-- triggers off (session_replication_role = replica, which needs a superuser),
-- then the aggregates are built in one pass by price_index_rebuild().
\set ON_ERROR_STOP 1
SELECT setseed(0.20210507);

INSERT INTO users (id, email, display_name, email_verified_at)
VALUES ('00000000-0000-4000-8000-00000000be01', 'bench-seller@rigmarket.test', 'bench seller', now())
ON CONFLICT DO NOTHING;

-- Five lots per model and country.
INSERT INTO listings (id, seller_id, rig_model_id, manufacturer_id, title, status, quantity, unit_price_cents,
                      country, model_hashrate_hs, model_efficiency_j_per_th, model_tier, created_at, updated_at,
                      published_at)
SELECT gen_random_uuid(), '00000000-0000-4000-8000-00000000be01', m.id, m.manufacturer_id, 'bench lot', 'active',
       100, 100000, c.country, m.hashrate_hs, m.efficiency_j_per_th, m.tier, '2021-01-01', '2021-01-01', '2021-01-01'
  FROM rig_models m
 CROSS JOIN unnest(ARRAY['CN', 'KZ', 'US', 'CA', 'RU', 'IR', 'MY', 'PY', 'NO', 'SE']) c(country)
 CROSS JOIN generate_series(1, 5)
 WHERE NOT EXISTS (SELECT 1 FROM listings WHERE title = 'bench lot');

-- Kept (not temporary): benches/price_index_write.sql picks lots from it.
DROP TABLE IF EXISTS bench_lots;
CREATE TABLE bench_lots AS
SELECT row_number() OVER (ORDER BY l.id) AS n, l.id, l.rig_model_id, l.model_tier, l.country, l.model_hashrate_hs,
       -- A tier's $/TH in cents on 2021-01-01.
       CASE l.model_tier WHEN 'under19' THEN 9000 WHEN '19to25' THEN 8000 WHEN '25to38' THEN 7000
                         WHEN '38to68' THEN 5500 ELSE 3000 END AS base_cents_per_th
  FROM listings l WHERE l.title = 'bench lot';
CREATE UNIQUE INDEX ON bench_lots (n);

-- Bulk load: the covering indexes are rebuilt afterwards (much faster than
-- maintaining them row by row), the trigger is off (session_replication_role).
DROP INDEX price_observations_by_tier_idx, price_observations_by_country_idx, price_observations_rig_model_id_idx;
SET session_replication_role = replica;
INSERT INTO price_observations (basis, event, listing_id, order_id, rig_model_id, tier, country, units,
                                unit_price_cents, hashrate_hs, usd_per_th_cents, reference_unit_price_cents,
                                discount_bps, fire_sale, observed_at)
SELECT CASE WHEN s.kind < 0.15 THEN 'settled' ELSE 'asking' END,
       CASE WHEN s.kind < 0.15 THEN 'order_settled' WHEN s.kind < 0.40 THEN 'published' ELSE 'price_changed' END,
       l.id, CASE WHEN s.kind < 0.15 THEN gen_random_uuid() END, l.rig_model_id, l.model_tier, l.country, 1 + s.units,
       p.unit_price_cents, l.model_hashrate_hs,
       round(p.unit_price_cents::numeric * 1000000000000 / l.model_hashrate_hs)::bigint,
       r.reference_cents,
       10000 - round(p.unit_price_cents::numeric * 10000 / r.reference_cents)::bigint,
       10000 - round(p.unit_price_cents::numeric * 10000 / r.reference_cents)::bigint >= 2000,
       s.at
  FROM (SELECT 1 + floor(random() * (SELECT count(*) FROM bench_lots))::int AS lot,
               random() AS kind, floor(random() * 20)::int AS units, random() AS noise,
               -- 0.7 % land in the week before now, so `latest` has a window to aggregate.
               CASE WHEN random() < 0.007 THEN now() - random() * interval '7 days'
                    ELSE timestamptz '2021-01-01' + random() * interval '1095 days' END AS at
          FROM generate_series(1, :observations)) s
  JOIN bench_lots l ON l.n = s.lot
 -- The reference slides 60 % over three years (then stays); asks scatter -10 % .. +40 % below it.
 CROSS JOIN LATERAL (SELECT greatest(1, (l.base_cents_per_th
                             * greatest(0.4, 1 - 0.6 * extract(epoch FROM s.at - '2021-01-01') / (1095 * 86400))
                             * l.model_hashrate_hs / 1e12 / 1000)::bigint) * 1000 AS reference_cents) r
 CROSS JOIN LATERAL (SELECT greatest(1000, (r.reference_cents * (1.1 - 0.5 * s.noise) / 1000)::bigint * 1000)
                            AS unit_price_cents) p;
SET session_replication_role = DEFAULT;
CREATE INDEX price_observations_by_tier_idx ON price_observations (basis, tier, observed_at)
    INCLUDE (country, event, usd_per_th_cents, discount_bps, fire_sale);
CREATE INDEX price_observations_by_country_idx ON price_observations (basis, country, observed_at)
    INCLUDE (event, usd_per_th_cents, discount_bps, fire_sale);
CREATE INDEX price_observations_rig_model_id_idx ON price_observations (rig_model_id, basis, observed_at)
    INCLUDE (country, event, usd_per_th_cents, discount_bps, fire_sale);

\timing on
SELECT price_index_rebuild() AS buckets;
VACUUM (ANALYZE) price_observations;
ANALYZE price_index_materialized;
