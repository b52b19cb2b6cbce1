-- Hashrate proofs: a rig mines Stratum V1 shares against a challenge issued for
-- the proof; every accepted share is kept (its header hash also rejects
-- duplicates across connections and restarts), and the verdict is stored.

CREATE TABLE hashrate_proofs (
    id                     UUID PRIMARY KEY,
    listing_id             UUID        NOT NULL REFERENCES listings (id),
    requested_by           UUID        NOT NULL REFERENCES users (id),
    purpose                TEXT        NOT NULL CHECK (purpose IN ('listing', 'delivery')),
    -- SHA-256 of the proof token that miners send as the first part of their username.
    token_hash             BYTEA       NOT NULL UNIQUE,
    status                 TEXT        NOT NULL CHECK (status IN
        ('awaiting_shares', 'collecting', 'verified', 'failed', 'expired')),
    units                  INTEGER     NOT NULL CHECK (units > 0),
    claimed_hashrate_hs    BIGINT      NOT NULL CHECK (claimed_hashrate_hs > 0),
    share_difficulty       DOUBLE PRECISION NOT NULL CHECK (share_difficulty > 0),
    duration_secs          INTEGER     NOT NULL CHECK (duration_secs BETWEEN 60 AND 3600),
    -- Random bytes carried in every coinbase of this proof: no share can be mined
    -- before the proof exists or reused from another one.
    challenge              BYTEA       NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    connect_deadline       TIMESTAMPTZ NOT NULL,
    started_at             TIMESTAMPTZ,
    ends_at                TIMESTAMPTZ,
    ended_at               TIMESTAMPTZ,
    shares_accepted        BIGINT      NOT NULL DEFAULT 0,
    shares_rejected        JSONB       NOT NULL DEFAULT '{}'::jsonb,
    estimated_hashrate_hs  DOUBLE PRECISION,
    ci95_low_hs            DOUBLE PRECISION,
    ci95_high_hs           DOUBLE PRECISION,
    ratio_to_claim         DOUBLE PRECISION,
    valid_until            TIMESTAMPTZ
);
CREATE INDEX hashrate_proofs_listing_id_idx ON hashrate_proofs (listing_id, created_at DESC);
CREATE INDEX hashrate_proofs_requested_by_idx ON hashrate_proofs (requested_by);

CREATE TABLE proof_shares (
    proof_id     UUID        NOT NULL REFERENCES hashrate_proofs (id),
    header_hash  BYTEA       NOT NULL,
    worker       TEXT        NOT NULL,
    accepted_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (proof_id, header_hash)
);
CREATE INDEX proof_shares_worker_idx ON proof_shares (proof_id, worker);

-- Jobs handed to relays (`GET /v1/hashrate-proofs/{id}/job`) for rigs that cannot
-- reach the stratum port; shares posted later are checked against them.
CREATE TABLE relay_jobs (
    proof_id     UUID        NOT NULL REFERENCES hashrate_proofs (id),
    job_id       TEXT        NOT NULL,
    extranonce1  BYTEA       NOT NULL,
    prevhash     BYTEA       NOT NULL,
    ntime        BIGINT      NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (proof_id, job_id)
);
