-- Saved searches and their alerts (the `alerts` capability), and the tickets
-- browsers' EventSource uses to open the live event stream (`notifications`).

-- A search a user keeps: `query` holds the filters exactly as GET /v1/listings
-- takes them (checked by the same parser on every write). `match_key` and
-- `max_price_cents` are copied out of it so that matching one listing reads
-- only the candidate searches through an index (an inverted structure: each
-- search sits in one bucket, a listing probes three), and the exact filter
-- is then checked in Rust with the search's own parser.
CREATE TABLE saved_searches (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    query jsonb NOT NULL,
    alert text NOT NULL CHECK (alert IN ('instant', 'daily', 'off')),
    on_new_match boolean NOT NULL,
    on_price_drop boolean NOT NULL,
    -- `discount_at_least`: the discount (basis points) a listing must reach.
    discount_at_least_bps bigint CHECK (discount_at_least_bps BETWEEN 1 AND 9999),
    -- `model:<uuid>`, `tier:<key>` or `any`: the most selective indexed filter.
    match_key text NOT NULL,
    max_price_cents bigint,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX saved_searches_user ON saved_searches (user_id, created_at DESC, id DESC);
CREATE INDEX saved_searches_candidates ON saved_searches (match_key, max_price_cents) WHERE alert <> 'off';

-- Each alert fires once per (search, listing, trigger): the primary key is the
-- guard, taken with ON CONFLICT DO NOTHING by whichever worker (of any
-- instance, before or after a restart) gets there first.
CREATE TABLE saved_search_alerts (
    saved_search_id uuid NOT NULL REFERENCES saved_searches (id) ON DELETE CASCADE,
    listing_id uuid NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    trigger text NOT NULL CHECK (trigger IN ('new_match', 'price_drop', 'discount_at_least')),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The search's alert mode when it fired: `daily` ones wait for the digest.
    alert text NOT NULL CHECK (alert IN ('instant', 'daily')),
    unit_price_cents bigint NOT NULL,
    discount_bps bigint,
    fired_at timestamptz NOT NULL,
    digested_at timestamptz,
    PRIMARY KEY (saved_search_id, listing_id, trigger)
);
CREATE INDEX saved_search_alerts_listing ON saved_search_alerts (listing_id);
CREATE INDEX saved_search_alerts_user ON saved_search_alerts (user_id, fired_at);
CREATE INDEX saved_search_alerts_waiting ON saved_search_alerts (fired_at)
    WHERE alert = 'daily' AND digested_at IS NULL;

-- One digest per user per day, whichever worker sends it.
CREATE TABLE alert_digests (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day date NOT NULL,
    alerts integer NOT NULL,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, day)
);

-- The one-click unsubscribe tokens of sent alert emails, stored as SHA-256
-- digests. A digest's token names every search it reported (one row each).
CREATE TABLE alert_unsubscribe_tokens (
    token_digest bytea NOT NULL,
    saved_search_id uuid NOT NULL REFERENCES saved_searches (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (token_digest, saved_search_id)
);
CREATE INDEX alert_unsubscribe_tokens_search ON alert_unsubscribe_tokens (saved_search_id);

-- Short-lived, single-use tickets for `GET /v1/me/events?ticket=` (EventSource
-- cannot send an Authorization header), stored as SHA-256 digests.
CREATE TABLE event_stream_tickets (
    ticket_digest bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX event_stream_tickets_user ON event_stream_tickets (user_id);
