-- Acceptance by unit (product section G): a lot's DOA allowance, the buyer's
-- rejections of single units during inspection, the seller's answer, returns
-- and write-offs of rejected units, and per-unit verdicts of hashrate proofs on
-- lots sold by serial.

-- The share of a lot's units the buyer accepts dead on arrival without a
-- refund; orders snapshot it (orders.doa_allowance_pct, from issue 18).
ALTER TABLE listings ADD COLUMN doa_allowance_pct INTEGER NOT NULL DEFAULT 0
    CHECK (doa_allowance_pct BETWEEN 0 AND 10);

-- The seller answers the buyer's rejections by this time, or they count as
-- accepted (the inspection extension).
ALTER TABLE orders ADD COLUMN rejections_answer_by TIMESTAMPTZ;
-- A seller who contests the buyer's unit rejections opens a dispute.
ALTER TABLE orders DROP CONSTRAINT orders_dispute_reason_check;
ALTER TABLE orders ADD CONSTRAINT orders_dispute_reason_check CHECK (dispute_reason IN
    ('not_delivered', 'not_as_described', 'hashrate_shortfall', 'damaged', 'other', 'unit_rejections_contested'));

CREATE TABLE unit_rejections (
    id              UUID PRIMARY KEY,
    order_id        UUID        NOT NULL REFERENCES orders (id),
    unit_id         UUID        NOT NULL REFERENCES units (id),
    serial          TEXT        NOT NULL,
    reason          TEXT        NOT NULL CHECK (reason IN
        ('dead_on_arrival', 'hashboard_missing', 'under_hashrate', 'not_as_described')),
    evidence_ids    UUID[]      NOT NULL DEFAULT '{}',
    -- The delivery proof whose verdict puts the unit under 90 % (under_hashrate).
    proof_id        UUID        REFERENCES hashrate_proofs (id),
    note            TEXT        NOT NULL,
    -- pending: waits for the seller; accepted: the seller (or the deadline)
    -- agreed; contested: in a dispute; upheld / overruled: the dispute's outcome.
    status          TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'accepted', 'contested', 'upheld', 'overruled')),
    created_at      TIMESTAMPTZ NOT NULL,
    decided_at      TIMESTAMPTZ,
    -- A unit is rejected once per order.
    UNIQUE (order_id, unit_id),
    CHECK (reason <> 'under_hashrate' OR proof_id IS NOT NULL),
    CHECK ((status IN ('pending', 'contested')) = (decided_at IS NULL))
);
CREATE INDEX unit_rejections_unit_id_idx ON unit_rejections (unit_id);
CREATE INDEX unit_rejections_proof_id_idx ON unit_rejections (proof_id);

-- A rejected unit on its way back to the seller.
ALTER TABLE units
    ADD COLUMN return_carrier TEXT,
    ADD COLUMN return_tracking_number TEXT,
    ADD COLUMN returned_at TIMESTAMPTZ,
    ADD CONSTRAINT units_returned_has_tracking
        CHECK (status <> 'returned' OR (return_tracking_number IS NOT NULL AND returned_at IS NOT NULL));

-- The units a proof on a lot sold by serial expects (snapshotted when it is
-- issued: the lot's units for a listing proof, the order's for a delivery
-- proof), and each one's verdict once the proof is decided.
CREATE TABLE proof_units (
    proof_id                UUID    NOT NULL REFERENCES hashrate_proofs (id),
    serial                  TEXT    NOT NULL,
    shares_accepted         BIGINT,
    estimated_hashrate_hs   DOUBLE PRECISION,
    ci95_low_hs             DOUBLE PRECISION,
    ci95_high_hs            DOUBLE PRECISION,
    status                  TEXT    CHECK (status IN ('ok', 'under_90', 'not_connected')),
    PRIMARY KEY (proof_id, serial)
);
