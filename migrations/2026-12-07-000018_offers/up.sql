-- Offers and counter-offers (product section H). A thread is one buyer's
-- negotiation on one listing; its versions are the offers and counters in turn.
-- The thread carries the latest version's terms and expiry so the voiding and
-- expiry queries need no join.

ALTER TABLE listings
    ADD COLUMN offers_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    ADD COLUMN offer_floor_unit_price_cents BIGINT CHECK (offer_floor_unit_price_cents > 0),
    ADD COLUMN offer_floor_discount_pct INTEGER CHECK (offer_floor_discount_pct BETWEEN 1 AND 95),
    ADD COLUMN auto_accept_unit_price_cents BIGINT CHECK (auto_accept_unit_price_cents > 0),
    -- One floor rule at a time: an absolute price or a discount against the index.
    ADD CONSTRAINT listings_one_offer_floor
        CHECK (offer_floor_unit_price_cents IS NULL OR offer_floor_discount_pct IS NULL);

CREATE TABLE offer_threads (
    id                  UUID PRIMARY KEY,
    listing_id          UUID        NOT NULL REFERENCES listings (id),
    buyer_id            UUID        NOT NULL REFERENCES users (id),
    seller_id           UUID        NOT NULL REFERENCES users (id),
    status              TEXT        NOT NULL CHECK (status IN ('open', 'accepted', 'declined', 'expired',
        'withdrawn', 'voided')),
    -- What the order needs when the thread is accepted (given with the first offer).
    payment_method      TEXT        NOT NULL CHECK (payment_method IN ('wire', 'btcpay')),
    shipping_address    JSONB       NOT NULL,
    -- The latest version: its number, author, terms and expiry.
    latest_n            INTEGER     NOT NULL CHECK (latest_n >= 1),
    latest_by           TEXT        NOT NULL CHECK (latest_by IN ('buyer', 'seller')),
    quantity            INTEGER     NOT NULL CHECK (quantity > 0),
    unit_price_cents    BIGINT      NOT NULL CHECK (unit_price_cents > 0),
    expires_at          TIMESTAMPTZ NOT NULL,
    -- Why a thread closed without an order (declined, below the floor, voided ...).
    close_reason        TEXT,
    -- The same in words, as the other party is shown it.
    close_note          TEXT,
    order_id            UUID REFERENCES orders (id),
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    closed_at           TIMESTAMPTZ,
    CHECK ((status = 'accepted') = (order_id IS NOT NULL)),
    CHECK ((status = 'open') = (closed_at IS NULL))
);
-- One open thread per buyer per listing, enforced where races cannot slip past it.
CREATE UNIQUE INDEX offer_threads_one_open_idx ON offer_threads (listing_id, buyer_id) WHERE status = 'open';
CREATE INDEX offer_threads_listing_id_idx ON offer_threads (listing_id, id DESC);
-- The 30-day quota counts a buyer's threads on a listing.
CREATE INDEX offer_threads_buyer_id_idx ON offer_threads (buyer_id, id DESC);
CREATE INDEX offer_threads_seller_id_idx ON offer_threads (seller_id, id DESC);
CREATE INDEX offer_threads_order_id_idx ON offer_threads (order_id);

CREATE TABLE offer_versions (
    thread_id           UUID        NOT NULL REFERENCES offer_threads (id),
    n                   INTEGER     NOT NULL CHECK (n >= 1),
    by_role             TEXT        NOT NULL CHECK (by_role IN ('buyer', 'seller')),
    quantity            INTEGER     NOT NULL CHECK (quantity > 0),
    unit_price_cents    BIGINT      NOT NULL CHECK (unit_price_cents > 0),
    doa_allowance_pct   INTEGER     NOT NULL CHECK (doa_allowance_pct BETWEEN 0 AND 10),
    ship_by             TIMESTAMPTZ,
    message             TEXT,
    expires_at          TIMESTAMPTZ NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (thread_id, n)
);

-- An order made from an offer snapshots its agreed terms. `offer_thread_id` has
-- no foreign key on purpose: offers sit above orders, and the link that
-- carries the constraint is `offer_threads.order_id`.
ALTER TABLE orders
    ADD COLUMN doa_allowance_pct INTEGER NOT NULL DEFAULT 0 CHECK (doa_allowance_pct BETWEEN 0 AND 10),
    ADD COLUMN agreed_ship_by TIMESTAMPTZ,
    ADD COLUMN offer_thread_id UUID;
