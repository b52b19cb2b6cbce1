-- A listing that leaves `active` raises `listing_left_active` (the job
-- `listings::jobs::ListingLeftActive`) in the transaction that moves it, on
-- every path: a withdrawal, a takedown, a sell-out, the hosting deadline, a
-- stolen serial's hold for review, and any path added later. Whoever must react
-- registers the job's handler (offers void the listing's open threads); the
-- listings need not know who listens. The job is due at the change's own
-- `updated_at` (the application's clock), so it runs at once.
CREATE FUNCTION listing_left_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO jobs (kind, payload, run_at)
    VALUES ('listing_left_active', jsonb_build_object('listing_id', NEW.id), NEW.updated_at);
    RETURN NULL;
END
$$;

CREATE TRIGGER listings_left_active
    AFTER UPDATE OF status ON listings
    FOR EACH ROW
    WHEN (OLD.status = 'active' AND NEW.status <> 'active')
    EXECUTE FUNCTION listing_left_active();

-- The five-minute sweep this replaces.
DELETE FROM periodic_tasks WHERE name = 'void_offers_on_closed_listings';
DELETE FROM jobs WHERE kind = 'void_offers_on_closed_listings';
