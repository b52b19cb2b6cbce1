-- Generates :listings active listings (default 100,000 via search.sh) spread over
-- the seeded catalog, 200 sellers and six countries, with prices of $5-30 per TH
-- and published times over the last 90 days. Deterministic (setseed).
SELECT setseed(0.42);

INSERT INTO users (id, email, display_name, email_verified_at, created_at, updated_at)
SELECT gen_random_uuid(), 'bench-seller-' || g || '@rigmarket.test', 'Bench seller ' || g, now(), now(), now()
FROM generate_series(1, 200) AS g
ON CONFLICT (email) DO NOTHING;

WITH models AS (
    SELECT m.*, (row_number() OVER (ORDER BY m.name) - 1) AS idx, count(*) OVER () AS n FROM rig_models m
), sellers AS (
    SELECT id, (row_number() OVER (ORDER BY email) - 1) AS idx FROM users WHERE email LIKE 'bench-seller-%'
), draws AS (
    SELECT g, random() AS r_price, random() AS r_age, random() AS r_qty, random() AS r_ref FROM generate_series(1, :listings) AS g
)
INSERT INTO listings (
    id, seller_id, rig_model_id, manufacturer_id, title, description, status, quantity, unit_price_cents, country,
    region, incoterm, inspection_days, model_hashrate_hs, model_efficiency_j_per_th, model_tier,
    reference_unit_price_cents, published_reference_unit_price_cents, latest_condition_grade,
    created_at, updated_at, submitted_at, published_at
)
SELECT
    gen_random_uuid(), s.id, m.id, m.manufacturer_id,
    (1 + (d.r_qty * 300)::int) || 'x ' || m.name || ' lot ' || d.g,
    'Bench listing ' || d.g || ': ' || m.name || ', air cooled, stock firmware, hosting contract ending soon.',
    'active',
    1 + (d.r_qty * 300)::int,
    greatest(1, round(m.hashrate_hs::numeric / 1e12 * (500 + d.r_price * 2500)))::bigint,
    (ARRAY['CN', 'KZ', 'US', 'CA', 'RU', 'PY'])[1 + d.g % 6],
    'Region ' || (d.g % 40), 'EXW', 3,
    m.hashrate_hs, m.efficiency_j_per_th, m.tier,
    CASE WHEN d.r_ref < 0.9 THEN round(m.hashrate_hs::numeric / 1e12 * 1600)::bigint END,
    CASE WHEN d.r_ref < 0.9 THEN round(m.hashrate_hs::numeric / 1e12 * 1600)::bigint END,
    (ARRAY['A', 'B', 'C', 'D'])[1 + d.g % 4],
    now() - d.r_age * interval '90 days', now(), now() - d.r_age * interval '90 days', now() - d.r_age * interval '90 days'
FROM draws d
JOIN models m ON m.idx = d.g % m.n
JOIN sellers s ON s.idx = d.g % 200;

ANALYZE;
