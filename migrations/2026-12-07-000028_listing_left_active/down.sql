DROP TRIGGER listings_left_active ON listings;
DROP FUNCTION listing_left_active();
DELETE FROM jobs WHERE kind = 'listing_left_active';
