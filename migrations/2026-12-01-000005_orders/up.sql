-- Escrow orders: the order itself (price, fee and reference snapshotted at
-- placement), its append-only event history, a double-entry ledger that the
-- database keeps immutable and balanced, idempotency keys for placement, BTCPay
-- webhook deliveries, dispute offers, messages with evidence files, and reviews.

CREATE TABLE orders (
    id                          UUID PRIMARY KEY,
    listing_id                  UUID        NOT NULL REFERENCES listings (id),
    buyer_id                    UUID        NOT NULL REFERENCES users (id),
    seller_id                   UUID        NOT NULL REFERENCES users (id),
    status                      TEXT        NOT NULL CHECK (status IN ('awaiting_payment', 'paid', 'shipped',
        'delivered', 'completed', 'disputed', 'resolved', 'cancelled', 'expired', 'refunded')),
    quantity                    INTEGER     NOT NULL CHECK (quantity > 0),
    unit_price_cents            BIGINT      NOT NULL CHECK (unit_price_cents > 0),
    subtotal_cents              BIGINT      NOT NULL CHECK (subtotal_cents = unit_price_cents * quantity),
    -- The buyer pays total_cents; the platform fee is taken from the seller's
    -- side at release (fee_bps of what is released), so it is not added here.
    total_cents                 BIGINT      NOT NULL CHECK (total_cents = subtotal_cents),
    fee_bps                     INTEGER     NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
    fee_cents                   BIGINT      NOT NULL CHECK (fee_cents >= 0),
    currency                    TEXT        NOT NULL DEFAULT 'USD' CHECK (currency = 'USD'),
    reference_unit_price_cents  BIGINT      CHECK (reference_unit_price_cents > 0),
    discount_bps                BIGINT,
    payment_method              TEXT        NOT NULL CHECK (payment_method IN ('wire', 'btcpay')),
    -- Quoted by the buyer on the wire transfer; unique so a receipt names one order.
    payment_reference           TEXT        NOT NULL UNIQUE,
    btcpay_invoice_id           TEXT        UNIQUE,
    btcpay_checkout_url         TEXT,
    shipping_address            JSONB       NOT NULL,
    inspection_days             INTEGER     NOT NULL CHECK (inspection_days BETWEEN 1 AND 14),
    carrier                     TEXT,
    tracking_number             TEXT,
    pay_by                      TIMESTAMPTZ NOT NULL,
    ship_by                     TIMESTAMPTZ,
    auto_refund_at              TIMESTAMPTZ,
    auto_delivery_at            TIMESTAMPTZ,
    inspect_until               TIMESTAMPTZ,
    paid_at                     TIMESTAMPTZ,
    paid_amount_cents           BIGINT,
    shipped_at                  TIMESTAMPTZ,
    delivered_at                TIMESTAMPTZ,
    disputed_at                 TIMESTAMPTZ,
    closed_at                   TIMESTAMPTZ,
    -- Set when the order closes with money moved: what went back to the buyer and
    -- what the seller was credited (after the fee).
    refund_cents                BIGINT      CHECK (refund_cents BETWEEN 0 AND total_cents),
    seller_credit_cents         BIGINT      CHECK (seller_credit_cents >= 0),
    platform_fee_cents          BIGINT      CHECK (platform_fee_cents >= 0),
    dispute_reason              TEXT        CHECK (dispute_reason IN
        ('not_delivered', 'not_as_described', 'hashrate_shortfall', 'damaged', 'other')),
    dispute_description         TEXT,
    created_at                  TIMESTAMPTZ NOT NULL,
    updated_at                  TIMESTAMPTZ NOT NULL
);
CREATE INDEX orders_listing_id_idx ON orders (listing_id);
CREATE INDEX orders_buyer_id_idx ON orders (buyer_id, id DESC);
CREATE INDEX orders_seller_id_idx ON orders (seller_id, id DESC);
-- Seller reputation (completed sales) is counted on every listing page.
CREATE INDEX orders_seller_status_idx ON orders (seller_id, status);
CREATE INDEX orders_status_idx ON orders (status, id DESC);

-- Every transition, in order. Nobody may rewrite history.
CREATE TABLE order_events (
    id           BIGSERIAL PRIMARY KEY,
    order_id     UUID        NOT NULL REFERENCES orders (id),
    actor_id     UUID REFERENCES users (id),
    actor_role   TEXT        NOT NULL CHECK (actor_role IN ('buyer', 'seller', 'admin', 'system', 'btcpay')),
    from_status  TEXT,
    to_status    TEXT        NOT NULL,
    reason       TEXT        NOT NULL,
    details      JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX order_events_order_id_idx ON order_events (order_id, id);
CREATE INDEX order_events_actor_id_idx ON order_events (actor_id);

-- Double-entry ledger. A transaction's entries sum to zero (checked at commit by
-- a deferred constraint trigger); accounts are `external`, `escrow:<order>`,
-- `seller_payable:<user>`, `buyer_refund:<user>`, `platform_fees`. A balance is
-- the sum of an account's amounts.
CREATE TABLE ledger_transactions (
    id           UUID PRIMARY KEY,
    order_id     UUID REFERENCES orders (id),
    kind         TEXT        NOT NULL CHECK (kind IN ('payment', 'release', 'refund', 'settlement', 'payout',
        'overpayment', 'late_payment')),
    memo         TEXT        NOT NULL,
    reference    TEXT,
    created_by   UUID REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL
);
-- An order is paid once and closed once, whatever races above this.
CREATE UNIQUE INDEX ledger_transactions_once_per_order ON ledger_transactions (order_id, kind)
    WHERE kind IN ('payment', 'release', 'refund', 'settlement', 'overpayment', 'late_payment');
CREATE INDEX ledger_transactions_order_id_idx ON ledger_transactions (order_id, created_at);
CREATE INDEX ledger_transactions_created_by_idx ON ledger_transactions (created_by);

CREATE TABLE ledger_entries (
    id              BIGSERIAL PRIMARY KEY,
    transaction_id  UUID        NOT NULL REFERENCES ledger_transactions (id),
    account         TEXT        NOT NULL CHECK (account ~ '^(external|platform_fees|escrow:[0-9a-f-]{36}|seller_payable:[0-9a-f-]{36}|buyer_refund:[0-9a-f-]{36})$'),
    amount_cents    BIGINT      NOT NULL CHECK (amount_cents <> 0)
);
CREATE INDEX ledger_entries_transaction_id_idx ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account);

CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only';
END;
$$;
CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER order_events_immutable BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();

CREATE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total NUMERIC;
BEGIN
    SELECT coalesce(sum(amount_cents), 0) INTO total FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (sum %)', NEW.transaction_id, total;
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();

-- Placement idempotency: the key row is written in the transaction that creates
-- the order, so it exists exactly when the order does.
CREATE TABLE idempotency_keys (
    user_id          UUID        NOT NULL REFERENCES users (id),
    key              TEXT        NOT NULL,
    request_hash     BYTEA       NOT NULL,
    response_status  INTEGER     NOT NULL,
    response_body    JSONB       NOT NULL,
    order_id         UUID REFERENCES orders (id),
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_order_id_idx ON idempotency_keys (order_id);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- BTCPay webhook deliveries already processed (replays are no-ops).
CREATE TABLE btcpay_deliveries (
    delivery_id  TEXT PRIMARY KEY,
    event_type   TEXT        NOT NULL,
    invoice_id   TEXT,
    order_id     UUID REFERENCES orders (id),
    outcome      TEXT        NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX btcpay_deliveries_order_id_idx ON btcpay_deliveries (order_id);

CREATE TABLE settlement_offers (
    id            UUID PRIMARY KEY,
    order_id      UUID        NOT NULL REFERENCES orders (id),
    offered_by    UUID        NOT NULL REFERENCES users (id),
    refund_cents  BIGINT      NOT NULL CHECK (refund_cents >= 0),
    message       TEXT        NOT NULL,
    status        TEXT        NOT NULL CHECK (status IN ('open', 'accepted', 'superseded', 'void')),
    created_at    TIMESTAMPTZ NOT NULL,
    decided_at    TIMESTAMPTZ
);
CREATE INDEX settlement_offers_order_id_idx ON settlement_offers (order_id, created_at);
CREATE INDEX settlement_offers_offered_by_idx ON settlement_offers (offered_by);
CREATE UNIQUE INDEX settlement_offers_one_open ON settlement_offers (order_id) WHERE status = 'open';

-- Files attached to an order's conversation or dispute, uploaded straight to
-- object storage through presigned URLs.
CREATE TABLE order_evidence (
    id            UUID PRIMARY KEY,
    order_id      UUID        NOT NULL REFERENCES orders (id),
    uploaded_by   UUID        NOT NULL REFERENCES users (id),
    object_key    TEXT        NOT NULL UNIQUE,
    content_type  TEXT        NOT NULL,
    size_bytes    BIGINT      NOT NULL,
    status        TEXT        NOT NULL CHECK (status IN ('pending', 'attached')),
    created_at    TIMESTAMPTZ NOT NULL,
    attached_at   TIMESTAMPTZ
);
CREATE INDEX order_evidence_order_id_idx ON order_evidence (order_id, created_at);
CREATE INDEX order_evidence_uploaded_by_idx ON order_evidence (uploaded_by);

CREATE TABLE order_messages (
    id            UUID PRIMARY KEY,
    order_id      UUID        NOT NULL REFERENCES orders (id),
    author_id     UUID REFERENCES users (id),
    author_role   TEXT        NOT NULL CHECK (author_role IN ('buyer', 'seller', 'admin', 'system')),
    body          TEXT        NOT NULL,
    evidence_ids  UUID[]      NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX order_messages_order_id_idx ON order_messages (order_id, created_at, id);
CREATE INDEX order_messages_author_id_idx ON order_messages (author_id);

CREATE TABLE order_reviews (
    order_id     UUID        NOT NULL REFERENCES orders (id),
    author_id    UUID        NOT NULL REFERENCES users (id),
    subject_id   UUID        NOT NULL REFERENCES users (id),
    author_role  TEXT        NOT NULL CHECK (author_role IN ('buyer', 'seller')),
    rating       SMALLINT    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment      TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (order_id, author_id)
);
CREATE INDEX order_reviews_author_id_idx ON order_reviews (author_id);
CREATE INDEX order_reviews_subject_id_idx ON order_reviews (subject_id, author_role);

-- Delivery proofs belong to an order.
ALTER TABLE hashrate_proofs ADD COLUMN order_id UUID REFERENCES orders (id);
CREATE INDEX hashrate_proofs_order_id_idx ON hashrate_proofs (order_id);
ALTER TABLE hashrate_proofs ADD CONSTRAINT hashrate_proofs_delivery_has_order
    CHECK ((purpose = 'delivery') = (order_id IS NOT NULL));
