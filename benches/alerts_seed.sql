-- 100,000 saved searches (benches/alerts.sh), :'owner' owning them all (the
-- 50-per-user limit is the API's; matching does not care whose a search is).
-- A third by rig model, a third by tier, a third in the `any` bucket; most with
-- a maximum price, some with a country, a discount floor or a full-text query,
-- as a market's searches would be.
INSERT INTO saved_searches (id, user_id, name, query, alert, on_new_match, on_price_drop, discount_at_least_bps,
                            match_key, max_price_cents, created_at, updated_at)
SELECT gen_random_uuid(), :'owner', 'bench ' || n, q.query, CASE WHEN n % 10 = 0 THEN 'daily' ELSE 'instant' END,
       true, n % 2 = 0, CASE WHEN n % 3 = 0 THEN 2500 END, q.match_key, q.max_price, now(), now()
  FROM generate_series(1, :searches) AS n
  CROSS JOIN LATERAL (
      SELECT m.id AS model_id, m.tier,
             CASE WHEN n % 5 = 0 THEN NULL ELSE 50000 + (n * 7919) % 400000 END AS max_price
        FROM rig_models m ORDER BY m.id OFFSET (n % (SELECT count(*) FROM rig_models)) LIMIT 1
  ) AS pick
  CROSS JOIN LATERAL (
      SELECT CASE n % 3 WHEN 0 THEN 'model:' || pick.model_id WHEN 1 THEN 'tier:' || pick.tier ELSE 'any' END AS match_key,
             pick.max_price,
             jsonb_strip_nulls(jsonb_build_object(
                 'rig_model_id', CASE WHEN n % 3 = 0 THEN pick.model_id END,
                 'tier', CASE WHEN n % 3 = 1 THEN pick.tier END,
                 'max_price_cents', pick.max_price,
                 'country', CASE WHEN n % 7 = 0 THEN 'US' WHEN n % 11 = 0 THEN 'KZ' END,
                 'min_discount_pct', CASE WHEN n % 13 = 0 THEN 20 END,
                 'q', CASE WHEN n % 17 = 0 THEN 'immersion' WHEN n % 19 = 0 THEN 'antminer' END)) AS query
  ) AS q;
ANALYZE saved_searches;
