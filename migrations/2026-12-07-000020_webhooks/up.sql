-- The domain events outbox: one row per business fact, written in the
-- transaction of the change. Consumers (webhook fan-out now; notifications
-- later) take rows whose `fanned_out_at` is still null.
CREATE TABLE domain_events (
    id uuid PRIMARY KEY,
    seq bigserial NOT NULL UNIQUE,
    type text NOT NULL,
    subject_id uuid NOT NULL,
    parties uuid[] NOT NULL,
    data jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    fanned_out_at timestamptz
);
CREATE INDEX domain_events_waiting ON domain_events (seq) WHERE fanned_out_at IS NULL;

CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url text NOT NULL,
    description text,
    event_types text[] NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text,
    -- AES-256-GCM: 12-byte nonce followed by ciphertext and tag.
    secret_sealed bytea NOT NULL,
    previous_secret_sealed bytea,
    previous_secret_until timestamptz,
    -- Start of the current run of failed attempts; null while deliveries succeed.
    failing_since timestamptz,
    -- Set when an attempt found the endpoint's request slot held past a short
    -- wait (a receiver that hangs): its other attempts wait until then.
    slow_until timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_user ON webhook_endpoints (user_id, created_at DESC, id DESC);
CREATE INDEX webhook_endpoints_types ON webhook_endpoints USING gin (event_types) WHERE enabled;

CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- The domain event delivered; null for a test delivery.
    event_id uuid REFERENCES domain_events (id) ON DELETE SET NULL,
    event_type text NOT NULL,
    -- The exact body sent on every attempt.
    body text NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_attempt_at timestamptz,
    response_status integer,
    response_body text,
    duration_ms integer,
    last_error text,
    next_attempt_at timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
