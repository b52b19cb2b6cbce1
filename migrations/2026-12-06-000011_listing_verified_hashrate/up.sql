-- Listings keep the measured hashrate per unit of their latest verified proof,
-- beside `hashrate_verified_until`, so the price index can record $/verified-TH
-- from the listing alone (proofs report each verdict to listings).
ALTER TABLE listings ADD COLUMN verified_unit_hashrate_hs BIGINT
    CHECK (verified_unit_hashrate_hs IS NULL OR verified_unit_hashrate_hs >= 1);

UPDATE listings l
   SET verified_unit_hashrate_hs = latest.per_unit
  FROM (SELECT DISTINCT ON (listing_id) listing_id,
               round(estimated_hashrate_hs / greatest(units, 1))::bigint AS per_unit
          FROM hashrate_proofs
         WHERE purpose = 'listing' AND status = 'verified' AND estimated_hashrate_hs >= greatest(units, 1)
         ORDER BY listing_id, ended_at DESC) latest
 WHERE latest.listing_id = l.id AND l.hashrate_verified_until IS NOT NULL;
