DROP TABLE listing_flags;
DROP TABLE listing_photos;
DROP TABLE condition_reports;
DROP TABLE listing_price_changes;
DROP TABLE listings;
