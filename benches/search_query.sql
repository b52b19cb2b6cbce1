-- The main query of GET /v1/listings?tier=25to38&country=KZ&sort=usd_per_th_asc&limit=20
-- as the API issues it (diesel's SQL, with literals instead of binds), for
-- pgbench and EXPLAIN.
SELECT listings.* FROM listings
WHERE listings.status = 'active'
  AND NOT EXISTS (SELECT users.id FROM users WHERE users.id = listings.seller_id AND users.suspended_at IS NOT NULL)
  AND listings.model_tier = '25to38'
  AND listings.country = 'KZ'
ORDER BY listings.usd_per_th_cents ASC, listings.id ASC
LIMIT 21;
