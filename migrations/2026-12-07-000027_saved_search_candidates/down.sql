DROP INDEX saved_searches_candidates;
CREATE INDEX saved_searches_candidates ON saved_searches (match_key, max_price_cents) WHERE alert <> 'off';
ALTER TABLE saved_searches DROP COLUMN min_discount_bps, DROP COLUMN country;
