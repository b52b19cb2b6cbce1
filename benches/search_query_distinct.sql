-- The page query of benches/search_distinct.lua's requests, as the API sends it:
-- prepared with the price cap bound (a different value each time), so
-- PostgreSQL plans each execution for its value, as it does for the API's
-- searches. (benches/search_query.sql has no parameter, so pgbench plans it
-- once.) The status and the other filters are bound by the API too; here they
-- stay literals, which only makes this baseline cheaper.
\set cap random(1000000000001, 1001000000000)
SELECT listings.* FROM listings
WHERE listings.status = 'active'
  AND NOT EXISTS (SELECT users.id FROM users WHERE users.id = listings.seller_id AND users.suspended_at IS NOT NULL)
  AND listings.model_tier = '25to38'
  AND listings.country = 'KZ'
  AND listings.unit_price_cents <= :cap
ORDER BY listings.usd_per_th_cents ASC, listings.id ASC
LIMIT 21;
