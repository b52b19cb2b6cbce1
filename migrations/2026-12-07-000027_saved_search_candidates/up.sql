-- A selective candidate look-up for saved-search alerts (issue 19). With only
-- the bucket (model, tier or `any`) and the maximum price indexed, a listing
-- read every search of its three buckets that could afford it, and each
-- stored query was parsed again in memory. Two more facts of the query are
-- copied out, so that the index also decides where the lot is and how cheap
-- it is against its reference:
--   country           the `country` filter (upper case, as the parser keeps it); NULL: anywhere
--   min_discount_bps  the `min_discount_pct` filter in basis points; NULL: no floor
-- The search's own parser sets them on every write (`alerts::rules::IndexedFacts`);
-- the exact check (`Filters::admits`) stays the final word, so the index only
-- has to be a superset of the matches, never a subset.
ALTER TABLE saved_searches
    ADD COLUMN country text CHECK (country ~ '^[A-Z]{2}$'),
    ADD COLUMN min_discount_bps bigint;

-- Backfill from the stored queries. The country is taken only when it reads
-- as a code once trimmed (the parser accepted nothing else); anything odd is
-- left NULL (anywhere), which can only widen the candidates. The floor is
-- rounded down, never up (the parser rounds the percentage half away from
-- zero): a floor one basis point low widens the candidates, one high could
-- lose a match.
UPDATE saved_searches
   SET country = CASE WHEN upper(btrim(query ->> 'country')) ~ '^[A-Z]{2}$'
                      THEN upper(btrim(query ->> 'country')) END,
       min_discount_bps = floor((query ->> 'min_discount_pct')::numeric * 100)::bigint
 WHERE query ? 'country' OR query ? 'min_discount_pct';

-- One index scan per listing: the three buckets x (its country, anywhere),
-- searches whose maximum price it is within, and (checked in the index, not
-- on the heap) whose discount floor it reaches. The missing values are
-- written as the bounds that let everything through, so that each condition
-- is a plain comparison the B-tree can use; `candidates` in
-- src/alerts/searches.rs repeats these expressions verbatim.
DROP INDEX saved_searches_candidates;
CREATE INDEX saved_searches_candidates ON saved_searches (
    match_key,
    (coalesce(country, '')),
    (coalesce(max_price_cents, 9223372036854775807)),
    (coalesce(min_discount_bps, '-9223372036854775808'::bigint))
) WHERE alert <> 'off';
