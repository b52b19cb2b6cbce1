-- The queue of a hot lot's buyers (issue 17). Placement reserves units with one
-- UPDATE of the listing's row; with that condition last in its WHERE, buyers of
-- one lot wait here, on a transaction-scoped advisory lock, before they touch
-- the row. At each commit PostgreSQL grants such a lock to the next waiter
-- alone. Waiting on the row lock instead, every waiter wakes at every commit,
-- re-reads the row, finds it taken again and sleeps: with thirty buyers, most
-- of the database's CPU went to that herd. Evaluated again on the newest row
-- version when the row changed meanwhile; taking a lock this transaction
-- already holds just counts it twice until the commit.
CREATE FUNCTION listing_stock_queue(listing uuid) RETURNS boolean
    LANGUAGE sql VOLATILE
    AS $$ SELECT true FROM pg_advisory_xact_lock(hashtextextended('listing_stock:' || listing::text, 0)) $$;
