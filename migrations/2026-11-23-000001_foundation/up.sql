-- Foundation: job queue, periodic schedule, accounts core, rig model catalog and
-- reference prices. Expand/contract only: later migrations add, never rewrite.

CREATE TABLE jobs (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT        NOT NULL,
    payload       JSONB       NOT NULL DEFAULT '{}'::jsonb,
    -- 'queued' jobs wait for run_at; 'dead' jobs exhausted their attempts and are kept
    -- for inspection. Finished jobs are deleted in the transaction that ran them.
    status        TEXT        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'dead')),
    run_at        TIMESTAMPTZ NOT NULL,
    attempts      INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts  INTEGER     NOT NULL DEFAULT 8 CHECK (max_attempts > 0),
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX jobs_ready_idx ON jobs (run_at, id) WHERE status = 'queued';
CREATE INDEX jobs_dead_idx ON jobs (updated_at) WHERE status = 'dead';

-- One row per periodic task: whoever advances next_run_at enqueues the run, so N
-- workers fire each period exactly once.
CREATE TABLE periodic_tasks (
    name           TEXT PRIMARY KEY,
    interval_secs  INTEGER     NOT NULL CHECK (interval_secs > 0),
    next_run_at    TIMESTAMPTZ NOT NULL,
    last_run_at    TIMESTAMPTZ
);

CREATE TABLE users (
    id                 UUID PRIMARY KEY,
    email              TEXT        NOT NULL,
    password_hash      TEXT,
    display_name       TEXT        NOT NULL,
    roles              TEXT[]      NOT NULL DEFAULT '{}',
    email_verified_at  TIMESTAMPTZ,
    suspended_at       TIMESTAMPTZ,
    suspension_reason  TEXT,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT users_email_lowercase CHECK (email = lower(email))
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE manufacturers (
    id          UUID PRIMARY KEY,
    name        TEXT        NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE rig_models (
    id               UUID PRIMARY KEY,
    manufacturer_id  UUID        NOT NULL REFERENCES manufacturers (id),
    name             TEXT        NOT NULL,
    algorithm        TEXT        NOT NULL,
    hashrate_hs      BIGINT      NOT NULL CHECK (hashrate_hs > 0),
    power_w          INTEGER     NOT NULL CHECK (power_w > 0),
    release_year     SMALLINT    CHECK (release_year BETWEEN 2009 AND 2100),
    source           TEXT,
    -- Derived, so they can never disagree with hashrate and power. Tiers follow
    -- Hashrate Index's bands, lower bound inclusive, compared exactly in NUMERIC.
    efficiency_j_per_th DOUBLE PRECISION NOT NULL GENERATED ALWAYS AS
        (power_w::double precision * 1e12 / hashrate_hs::double precision) STORED,
    tier             TEXT NOT NULL GENERATED ALWAYS AS (
        CASE
            WHEN power_w::numeric * 1000000000000 < 19 * hashrate_hs::numeric THEN 'under19'
            WHEN power_w::numeric * 1000000000000 < 25 * hashrate_hs::numeric THEN '19to25'
            WHEN power_w::numeric * 1000000000000 < 38 * hashrate_hs::numeric THEN '25to38'
            WHEN power_w::numeric * 1000000000000 < 68 * hashrate_hs::numeric THEN '38to68'
            ELSE 'above68'
        END) STORED,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (manufacturer_id, name)
);
CREATE INDEX rig_models_listing_order_idx ON rig_models (name, id);
CREATE INDEX rig_models_tier_idx ON rig_models (tier);

CREATE TABLE reference_prices (
    id            UUID PRIMARY KEY,
    rig_model_id  UUID        NOT NULL REFERENCES rig_models (id),
    priced_on     DATE        NOT NULL,
    -- 'unit': amount_cents is the price of one rig; 'th': the price of one nominal TH/s.
    basis         TEXT        NOT NULL CHECK (basis IN ('unit', 'th')),
    amount_cents  BIGINT      NOT NULL CHECK (amount_cents > 0),
    currency      TEXT        NOT NULL DEFAULT 'USD' CHECK (currency = 'USD'),
    source        TEXT        NOT NULL CHECK (source IN ('manual', 'import', 'tier_index')),
    note          TEXT,
    created_by    UUID REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (rig_model_id, priced_on, source)
);
CREATE INDEX reference_prices_created_by_idx ON reference_prices (created_by);

-- USD per nominal TH/s for an efficiency band on a date. The band is stored with the
-- key so historical bands (Hashrate Index's older `under38`) stay usable.
CREATE TABLE tier_reference_prices (
    id                UUID PRIMARY KEY,
    tier              TEXT        NOT NULL,
    min_j_per_th      INTEGER     NOT NULL CHECK (min_j_per_th >= 0),
    max_j_per_th      INTEGER,
    priced_on         DATE        NOT NULL,
    usd_per_th_cents  BIGINT      NOT NULL CHECK (usd_per_th_cents > 0),
    source            TEXT        NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tier, priced_on)
);
CREATE INDEX tier_reference_prices_on_idx ON tier_reference_prices (priced_on);
