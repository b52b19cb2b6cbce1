-- Farms by serial: the units of a lot, registered by serial, and the serial
-- registry (reports of stolen serials). A serial is in one open lot at a time:
-- `units.in_open_lot` is true while the unit can still be sold from its lot
-- (available, reserved or shipped in a lot that is not closed), and a partial
-- unique index holds it. The flag is flipped in the same transaction as the
-- status that ends it (accepted, rejected ...), and a unit left behind in a
-- closed lot (withdrawn, expired) is let go under the lot's lock when its
-- serial is registered again.

CREATE TABLE units (
    id                  UUID PRIMARY KEY,
    listing_id          UUID        NOT NULL REFERENCES listings (id),
    seller_id           UUID        NOT NULL REFERENCES users (id),
    serial              TEXT        NOT NULL CHECK (serial ~ '^[A-Z0-9][A-Z0-9._/-]{0,63}$'),
    mac                 TEXT        CHECK (mac ~ '^([0-9A-F]{2}:){5}[0-9A-F]{2}$'),
    hashboard_serials   TEXT[]      NOT NULL DEFAULT '{}',
    psu_serial          TEXT,
    grade               TEXT        CHECK (grade IN ('A', 'B', 'C', 'D')),
    hashboards_working  INTEGER     CHECK (hashboards_working BETWEEN 0 AND 16),
    notes               TEXT,
    status              TEXT        NOT NULL DEFAULT 'available' CHECK (status IN
        ('available', 'reserved', 'shipped', 'accepted', 'rejected', 'returned', 'written_off')),
    in_open_lot         BOOLEAN     NOT NULL DEFAULT TRUE,
    order_id            UUID        REFERENCES orders (id),
    sold_at             TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (listing_id, serial),
    -- Only units still for sale may hold their serial.
    CHECK (NOT in_open_lot OR status IN ('available', 'reserved', 'shipped'))
);
CREATE UNIQUE INDEX units_one_open_lot_per_serial ON units (serial) WHERE in_open_lot;
CREATE UNIQUE INDEX units_mac_per_lot ON units (listing_id, mac) WHERE mac IS NOT NULL;
CREATE INDEX units_listing_status_idx ON units (listing_id, status, serial);
CREATE INDEX units_serial_idx ON units (serial, updated_at DESC);
CREATE INDEX units_seller_id_idx ON units (seller_id);
CREATE INDEX units_order_id_idx ON units (order_id);

CREATE TABLE serial_reports (
    id            UUID PRIMARY KEY,
    serial        TEXT        NOT NULL,
    note          TEXT        NOT NULL,
    reported_by   UUID        NOT NULL REFERENCES users (id),
    reported_at   TIMESTAMPTZ NOT NULL,
    revoked_by    UUID        REFERENCES users (id),
    revoked_at    TIMESTAMPTZ,
    CHECK ((revoked_by IS NULL) = (revoked_at IS NULL))
);
-- One standing report per serial.
CREATE UNIQUE INDEX serial_reports_standing_idx ON serial_reports (serial) WHERE revoked_at IS NULL;
CREATE INDEX serial_reports_reported_by_idx ON serial_reports (reported_by);
CREATE INDEX serial_reports_revoked_by_idx ON serial_reports (revoked_by);

-- How many units are registered to a lot (kept by the units, under the lot's
-- lock); a lot with units is sold by serial.
ALTER TABLE listings ADD COLUMN serial_units INTEGER NOT NULL DEFAULT 0 CHECK (serial_units >= 0);

-- Flags the platform raises itself (no reporter): a serial also in another
-- seller's open lot, a serial resold within 90 days, a serial reported stolen.
ALTER TABLE listing_flags ALTER COLUMN reporter_id DROP NOT NULL;
ALTER TABLE listing_flags DROP CONSTRAINT listing_flags_reason_check;
ALTER TABLE listing_flags ADD CONSTRAINT listing_flags_reason_check CHECK (reason IN
    ('misleading', 'counterfeit', 'prohibited', 'duplicate', 'scam', 'other',
     'duplicate_serial', 'resold_serial', 'stolen_serial'));
ALTER TABLE listing_flags ADD COLUMN serial TEXT;
ALTER TABLE listing_flags ADD COLUMN related_listing_id UUID REFERENCES listings (id);
ALTER TABLE listing_flags ADD CONSTRAINT listing_flags_system_has_serial
    CHECK (reporter_id IS NOT NULL OR serial IS NOT NULL);
CREATE INDEX listing_flags_related_listing_id_idx ON listing_flags (related_listing_id);
-- One open platform flag per lot, reason and serial.
CREATE UNIQUE INDEX listing_flags_open_serial_idx ON listing_flags (listing_id, reason, serial)
    WHERE status = 'open' AND serial IS NOT NULL;
