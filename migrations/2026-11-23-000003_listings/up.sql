-- Listings: lots of one rig model, their condition reports, photos, price
-- history and user flags. Model specs and the effective reference price are
-- copied onto the listing so search filters and sorts on one table, through
-- partial indexes that cover only what buyers can see (status = 'active').

CREATE TABLE listings (
    id                         UUID PRIMARY KEY,
    seller_id                  UUID        NOT NULL REFERENCES users (id),
    rig_model_id               UUID        NOT NULL REFERENCES rig_models (id),
    manufacturer_id            UUID        NOT NULL REFERENCES manufacturers (id),
    title                      TEXT        NOT NULL,
    description                TEXT        NOT NULL DEFAULT '',
    status                     TEXT        NOT NULL CHECK (status IN
        ('draft', 'pending_review', 'active', 'sold_out', 'withdrawn', 'rejected', 'expired')),
    rejection_reason           TEXT,
    quantity                   INTEGER     NOT NULL CHECK (quantity > 0),
    quantity_reserved          INTEGER     NOT NULL DEFAULT 0 CHECK (quantity_reserved >= 0),
    quantity_sold              INTEGER     NOT NULL DEFAULT 0 CHECK (quantity_sold >= 0),
    quantity_available         INTEGER     NOT NULL GENERATED ALWAYS AS (quantity - quantity_reserved - quantity_sold) STORED,
    unit_price_cents           BIGINT      NOT NULL CHECK (unit_price_cents > 0),
    currency                   TEXT        NOT NULL DEFAULT 'USD' CHECK (currency = 'USD'),
    country                    TEXT        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    region                     TEXT,
    incoterm                   TEXT,
    lead_time_days             INTEGER,
    inspection_days            INTEGER     NOT NULL DEFAULT 3 CHECK (inspection_days BETWEEN 1 AND 14),
    serial_numbers             TEXT[]      NOT NULL DEFAULT '{}',
    hosting_facility           TEXT,
    hosting_country            TEXT,
    hosting_contract_ends_on   DATE,
    power_off_at               TIMESTAMPTZ,
    model_hashrate_hs          BIGINT      NOT NULL CHECK (model_hashrate_hs > 0),
    model_efficiency_j_per_th  DOUBLE PRECISION NOT NULL,
    model_tier                 TEXT        NOT NULL,
    -- USD cents per nominal TH/s, rounded.
    usd_per_th_cents           BIGINT      NOT NULL GENERATED ALWAYS AS
        (round(unit_price_cents::numeric * 1000000000000 / model_hashrate_hs)::bigint) STORED,
    reference_unit_price_cents BIGINT CHECK (reference_unit_price_cents > 0),
    -- 1 - price / reference, in basis points (2000 = 20 %); NULL without a reference.
    discount_bps               BIGINT GENERATED ALWAYS AS (CASE WHEN reference_unit_price_cents IS NULL THEN NULL
        ELSE 10000 - round(unit_price_cents::numeric * 10000 / reference_unit_price_cents)::bigint END) STORED,
    -- discount_bps with listings that have no reference last, for keyset sorting.
    discount_rank              BIGINT      NOT NULL GENERATED ALWAYS AS (CASE WHEN reference_unit_price_cents IS NULL
        THEN -1000000000 ELSE 10000 - round(unit_price_cents::numeric * 10000 / reference_unit_price_cents)::bigint END) STORED,
    published_reference_unit_price_cents BIGINT,
    published_discount_bps     BIGINT,
    latest_condition_grade     TEXT,
    -- Set by hashrate proofs: the latest verified proof is valid until then.
    hashrate_verified_until    TIMESTAMPTZ,
    search_document            TSVECTOR    NOT NULL GENERATED ALWAYS AS
        (setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', description), 'B')) STORED,
    power_off_reminder_7d_at   TIMESTAMPTZ,
    power_off_reminder_1d_at   TIMESTAMPTZ,
    created_at                 TIMESTAMPTZ NOT NULL,
    updated_at                 TIMESTAMPTZ NOT NULL,
    submitted_at               TIMESTAMPTZ,
    published_at               TIMESTAMPTZ,
    CONSTRAINT listings_units_fit CHECK (quantity_reserved + quantity_sold <= quantity),
    CONSTRAINT listings_active_is_published CHECK (status <> 'active' OR published_at IS NOT NULL)
);
CREATE INDEX listings_seller_id_idx ON listings (seller_id, created_at DESC);
CREATE INDEX listings_rig_model_id_idx ON listings (rig_model_id);
CREATE INDEX listings_manufacturer_id_idx ON listings (manufacturer_id);
CREATE INDEX listings_status_idx ON listings (status, submitted_at);
CREATE INDEX listings_power_off_idx ON listings (power_off_at) WHERE power_off_at IS NOT NULL
    AND status IN ('draft', 'pending_review', 'active');
-- One index per search sort, each over active listings only.
CREATE INDEX listings_search_newest_idx ON listings (published_at DESC, id DESC) WHERE status = 'active';
CREATE INDEX listings_search_price_idx ON listings (unit_price_cents, id) WHERE status = 'active';
CREATE INDEX listings_search_usd_per_th_idx ON listings (usd_per_th_cents, id) WHERE status = 'active';
CREATE INDEX listings_search_discount_idx ON listings (discount_rank DESC, id DESC) WHERE status = 'active';
CREATE INDEX listings_search_efficiency_idx ON listings (model_efficiency_j_per_th, id) WHERE status = 'active';
CREATE INDEX listings_search_text_idx ON listings USING GIN (search_document) WHERE status = 'active';

CREATE TABLE listing_price_changes (
    id                 BIGSERIAL PRIMARY KEY,
    listing_id         UUID        NOT NULL REFERENCES listings (id),
    old_price_cents    BIGINT      NOT NULL,
    new_price_cents    BIGINT      NOT NULL,
    changed_by         UUID        NOT NULL REFERENCES users (id),
    changed_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX listing_price_changes_listing_id_idx ON listing_price_changes (listing_id, id);
CREATE INDEX listing_price_changes_changed_by_idx ON listing_price_changes (changed_by);

-- Append-only, versioned per listing.
CREATE TABLE condition_reports (
    id                    UUID PRIMARY KEY,
    listing_id            UUID        NOT NULL REFERENCES listings (id),
    version               INTEGER     NOT NULL,
    author_id             UUID        NOT NULL REFERENCES users (id),
    author_role           TEXT        NOT NULL CHECK (author_role IN ('seller', 'inspector')),
    cosmetic_grade        TEXT        NOT NULL CHECK (cosmetic_grade IN ('A', 'B', 'C', 'D')),
    hashboards_total      INTEGER     NOT NULL,
    hashboards_working    INTEGER     NOT NULL,
    fans_total            INTEGER     NOT NULL,
    fans_working          INTEGER     NOT NULL,
    psu_included          BOOLEAN     NOT NULL,
    psu_model             TEXT,
    firmware              TEXT        NOT NULL CHECK (firmware IN ('stock', 'custom')),
    firmware_version      TEXT,
    cooling_history       TEXT        NOT NULL CHECK (cooling_history IN ('air', 'hydro', 'immersion')),
    operating_hours       INTEGER,
    last_hashrate_hs      BIGINT,
    last_power_w          INTEGER,
    max_chip_temp_c       INTEGER,
    repairs               TEXT,
    notes                 TEXT,
    created_at            TIMESTAMPTZ NOT NULL,
    UNIQUE (listing_id, version),
    CHECK (hashboards_working BETWEEN 0 AND hashboards_total),
    CHECK (fans_working BETWEEN 0 AND fans_total)
);
CREATE INDEX condition_reports_author_id_idx ON condition_reports (author_id);

CREATE TABLE listing_photos (
    id            UUID PRIMARY KEY,
    listing_id    UUID        NOT NULL REFERENCES listings (id),
    object_key    TEXT        NOT NULL UNIQUE,
    content_type  TEXT        NOT NULL,
    size_bytes    BIGINT      NOT NULL,
    sha256        TEXT,
    status        TEXT        NOT NULL CHECK (status IN ('pending', 'attached', 'deleted')),
    created_at    TIMESTAMPTZ NOT NULL,
    attached_at   TIMESTAMPTZ
);
CREATE INDEX listing_photos_listing_id_idx ON listing_photos (listing_id, created_at);

CREATE TABLE listing_flags (
    id               UUID PRIMARY KEY,
    listing_id       UUID        NOT NULL REFERENCES listings (id),
    reporter_id      UUID        NOT NULL REFERENCES users (id),
    reason           TEXT        NOT NULL CHECK (reason IN
        ('misleading', 'counterfeit', 'prohibited', 'duplicate', 'scam', 'other')),
    details          TEXT,
    status           TEXT        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'unpublished')),
    resolved_by      UUID REFERENCES users (id),
    resolved_at      TIMESTAMPTZ,
    resolution_note  TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (listing_id, reporter_id)
);
CREATE INDEX listing_flags_open_idx ON listing_flags (created_at) WHERE status = 'open';
CREATE INDEX listing_flags_reporter_id_idx ON listing_flags (reporter_id);
CREATE INDEX listing_flags_resolved_by_idx ON listing_flags (resolved_by);
