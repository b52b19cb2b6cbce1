DROP FUNCTION listing_stock_queue(uuid);
