-- :searches saved searches (benches/alerts.sh; 100,000 by default), :'owner'
-- owning them all (the 50-per-user limit is the API's; matching does not care
-- whose a search is).
--
-- Why they look like this: a saved search is a buyer waiting for a rig they
-- cannot find today, so it says what they want, and the seed follows what the
-- filters of GET /v1/listings let a buyer say:
-- - What: 70 % name a rig model ("S19j Pro under $X"), 20 % only an
--   efficiency tier, 10 % neither (`any`: a $/TH cap, a fire sale, words).
--   Models are picked by how much of the second-hand market they are: the
--   S19 / M30 generation (2020-2021) weighs 4, newer rigs 3, 2019 ones 2,
--   older ones 1. A tier search takes the tier of a model picked that way.
-- - Price: 90 % of model and tier searches cap the unit price, uniformly from
--   55 % to 110 % of the picked model's reference price (the catalog's own
--   reference, computed as `catalog::queries::effective_reference` does:
--   the model's latest price, else its tier band's latest $/TH x hashrate),
--   rounded to $10: a buyer hunting a deal sets the cap at or below the
--   market. `any` searches cap $/TH instead (60 %: 50-110 % of the picked
--   model's reference $/TH) or the price (30 %).
-- - Where: 70 % name the country the rigs must be in (import duties, freight
--   and hosting make a rig abroad a different purchase), spread over the
--   mining and hosting countries: US 30 %, RU 15 %, KZ 10 %, CA 10 %, PY 7 %,
--   ET 6 %, AE 5 %, NO 5 %, MY 4 %, GE 4 %, AR 4 %.
-- - How cheap: 35 % ask a minimum discount against the reference (10-39 %),
--   5 % only fire sales, 3 % full-text words.
-- - Alerts: 75 % instant, 18 % daily, 7 % off; every search fires on a new
--   match, half also on price drops, a quarter on a discount of 20-35 %.
-- Nothing here is chosen for the benchmark's lots (S19 Pro in KZ); whatever
-- share of searches a lot matches follows from the spreads above.
--
-- Each draw is a deterministic hash of (search number, draw number), so that
-- two runs seed the same searches and the draws are independent.
CREATE TEMPORARY TABLE seed_models AS
WITH refs AS (
    SELECT m.id, m.tier, m.hashrate_hs,
           CASE WHEN m.release_year BETWEEN 2020 AND 2021 THEN 4
                WHEN m.release_year >= 2022 THEN 3
                WHEN m.release_year = 2019 THEN 2
                ELSE 1 END AS weight,
           coalesce(
               (SELECT CASE p.basis WHEN 'th' THEN round(p.amount_cents::numeric * m.hashrate_hs / 1e12)
                                    ELSE p.amount_cents END
                  FROM reference_prices p
                 WHERE p.rig_model_id = m.id AND p.priced_on <= current_date
                 ORDER BY p.priced_on DESC, p.created_at DESC LIMIT 1),
               (SELECT round(t.usd_per_th_cents::numeric * m.hashrate_hs / 1e12)
                  FROM tier_reference_prices t
                 WHERE t.priced_on <= current_date
                   AND t.min_j_per_th::numeric * m.hashrate_hs <= m.power_w::numeric * 1e12
                   AND (t.max_j_per_th IS NULL OR m.power_w::numeric * 1e12 < t.max_j_per_th::numeric * m.hashrate_hs)
                 ORDER BY t.priced_on DESC, coalesce(t.max_j_per_th, 1000000) - t.min_j_per_th LIMIT 1)
           )::bigint AS reference_cents
      FROM rig_models m
)
SELECT id, tier, reference_cents,
       -- $/TH of the reference, in dollars (the `max_usd_per_th` filter's unit).
       reference_cents / (hashrate_hs / 1e12) / 100 AS reference_usd_per_th,
       (sum(weight) OVER (ORDER BY id) - weight)::float8 / sum(weight) OVER () AS from_share,
       sum(weight) OVER (ORDER BY id)::float8 / sum(weight) OVER () AS to_share
  FROM refs
 WHERE reference_cents > 0;

CREATE TEMPORARY TABLE seed_countries (code text, from_share float8, to_share float8);
INSERT INTO seed_countries
SELECT code, (sum(share) OVER (ORDER BY ord) - share) / 100.0, sum(share) OVER (ORDER BY ord) / 100.0
  FROM (VALUES (1, 'US', 30), (2, 'RU', 15), (3, 'KZ', 10), (4, 'CA', 10), (5, 'PY', 7), (6, 'ET', 6),
               (7, 'AE', 5), (8, 'NO', 5), (9, 'MY', 4), (10, 'GE', 4), (11, 'AR', 4)) AS c (ord, code, share);

-- draw(n, k): a uniform number in [0, 1), the k-th draw of search n.
CREATE FUNCTION pg_temp.draw(n bigint, k bigint) RETURNS float8 IMMUTABLE LANGUAGE sql
    AS $$ SELECT (hashint8extended(n, k) & 2147483647)::float8 / 2147483648 $$;

INSERT INTO saved_searches (id, user_id, name, query, alert, on_new_match, on_price_drop, discount_at_least_bps,
                            match_key, max_price_cents, country, min_discount_bps, created_at, updated_at)
SELECT gen_random_uuid(), :'owner', 'bench ' || n, f.query,
       CASE WHEN pg_temp.draw(n, 10) < 0.75 THEN 'instant' WHEN pg_temp.draw(n, 10) < 0.93 THEN 'daily' ELSE 'off' END,
       true, pg_temp.draw(n, 11) < 0.5,
       CASE WHEN pg_temp.draw(n, 12) < 0.25 THEN 2000 + floor(pg_temp.draw(n, 13) * 1500)::bigint END,
       CASE s.kind WHEN 'model' THEN 'model:' || s.model_id WHEN 'tier' THEN 'tier:' || s.tier ELSE 'any' END,
       s.max_price, s.country, s.min_discount_pct * 100, now(), now()
  FROM generate_series(1, :searches) AS n
  CROSS JOIN LATERAL (
      SELECT CASE WHEN pg_temp.draw(n, 0) < 0.70 THEN 'model' WHEN pg_temp.draw(n, 0) < 0.90 THEN 'tier' ELSE 'any' END AS kind,
             m.id AS model_id, m.tier, m.reference_cents, m.reference_usd_per_th,
             (SELECT code FROM seed_countries c
               WHERE pg_temp.draw(n, 4) < 0.70 AND pg_temp.draw(n, 5) >= c.from_share AND pg_temp.draw(n, 5) < c.to_share)
                 AS country,
             CASE WHEN pg_temp.draw(n, 6) < 0.35 THEN 10 + floor(pg_temp.draw(n, 7) * 30)::bigint END AS min_discount_pct
        FROM seed_models m
       WHERE pg_temp.draw(n, 1) >= m.from_share AND pg_temp.draw(n, 1) < m.to_share
  ) AS pick
  CROSS JOIN LATERAL (
      SELECT pick.*,
             CASE WHEN pick.kind <> 'any' AND pg_temp.draw(n, 2) < 0.90
                    OR pick.kind = 'any' AND pg_temp.draw(n, 2) >= 0.60 AND pg_temp.draw(n, 2) < 0.90
                  THEN round(pick.reference_cents * (0.55 + 0.55 * pg_temp.draw(n, 3)) / 1000)::bigint * 1000 END
                 AS max_price,
             CASE WHEN pick.kind = 'any' AND pg_temp.draw(n, 2) < 0.60
                  THEN round((pick.reference_usd_per_th * (0.5 + 0.6 * pg_temp.draw(n, 3)))::numeric, 2) END
                 AS max_usd_per_th
  ) AS s
  CROSS JOIN LATERAL (
      SELECT jsonb_strip_nulls(jsonb_build_object(
                 'rig_model_id', CASE WHEN s.kind = 'model' THEN s.model_id END,
                 'tier', CASE WHEN s.kind = 'tier' THEN s.tier END,
                 'max_price_cents', s.max_price,
                 'max_usd_per_th', s.max_usd_per_th,
                 'country', s.country,
                 'min_discount_pct', s.min_discount_pct,
                 'fire_sale', CASE WHEN pg_temp.draw(n, 8) < 0.05 THEN true END,
                 'q', CASE WHEN pg_temp.draw(n, 9) < 0.015 THEN 'immersion'
                           WHEN pg_temp.draw(n, 9) < 0.03 THEN 'hydro' END)) AS query
  ) AS f;
ANALYZE saved_searches;

-- What the seed came to (printed by the script).
SELECT split_part(match_key, ':', 1) AS bucket, count(*) AS searches,
       round(100.0 * count(country) / count(*)) AS pct_with_country,
       round(100.0 * count(max_price_cents) / count(*)) AS pct_with_max_price,
       round(100.0 * count(min_discount_bps) / count(*)) AS pct_with_discount_floor
  FROM saved_searches GROUP BY 1 ORDER BY 2 DESC;
