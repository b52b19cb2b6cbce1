-- Accounts and access: profiles, sessions with rotating refresh tokens, single-use
-- email tokens, API keys, shared rate-limit and login-throttle state, audit log.
-- Every secret is stored as a SHA-256 digest of a 256-bit random token.

ALTER TABLE users
    ADD COLUMN country TEXT CHECK (country ~ '^[A-Z]{2}$'),
    ADD COLUMN company TEXT,
    ADD COLUMN payout_details TEXT,
    ADD COLUMN password_changed_at TIMESTAMPTZ;

-- One row per login. Access tokens name their session, so revoking it (logout,
-- password change, suspension, refresh-token reuse) kills them at once.
CREATE TABLE sessions (
    id                 UUID PRIMARY KEY,
    user_id            UUID        NOT NULL REFERENCES users (id),
    created_at         TIMESTAMPTZ NOT NULL,
    last_refreshed_at  TIMESTAMPTZ NOT NULL,
    expires_at         TIMESTAMPTZ NOT NULL,
    revoked_at         TIMESTAMPTZ,
    revoked_reason     TEXT,
    ip                 TEXT,
    user_agent         TEXT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_user_id_all_idx ON sessions (user_id);

-- The refresh tokens a session has issued: only the newest (replaced_at IS NULL)
-- is live; presenting a replaced one revokes the session.
CREATE TABLE refresh_tokens (
    token_hash   BYTEA PRIMARY KEY,
    session_id   UUID        NOT NULL REFERENCES sessions (id),
    issued_at    TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    replaced_at  TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

CREATE TABLE email_tokens (
    token_hash  BYTEA PRIMARY KEY,
    user_id     UUID        NOT NULL REFERENCES users (id),
    purpose     TEXT        NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX email_tokens_user_id_idx ON email_tokens (user_id, purpose);

CREATE TABLE api_keys (
    id                   UUID PRIMARY KEY,
    user_id              UUID        NOT NULL REFERENCES users (id),
    name                 TEXT        NOT NULL,
    prefix               TEXT        NOT NULL,
    key_hash             BYTEA       NOT NULL UNIQUE,
    requests_per_minute  INTEGER     NOT NULL CHECK (requests_per_minute > 0),
    created_at           TIMESTAMPTZ NOT NULL,
    last_used_at         TIMESTAMPTZ,
    revoked_at           TIMESTAMPTZ
);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

-- Fixed-window request counters shared by every instance.
CREATE TABLE rate_limit_windows (
    bucket        TEXT        NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    hits          INTEGER     NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limit_windows_start_idx ON rate_limit_windows (window_start);

-- Consecutive login failures per account email and per client IP.
CREATE TABLE login_throttle (
    key              TEXT PRIMARY KEY,
    failures         INTEGER     NOT NULL,
    last_failure_at  TIMESTAMPTZ NOT NULL,
    blocked_until    TIMESTAMPTZ
);

CREATE TABLE audit_log (
    id           BIGSERIAL PRIMARY KEY,
    occurred_at  TIMESTAMPTZ NOT NULL,
    actor_id     UUID REFERENCES users (id),
    action       TEXT        NOT NULL,
    target_type  TEXT,
    target_id    TEXT,
    ip           TEXT,
    details      JSONB       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_actor_id_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_occurred_at_idx ON audit_log (occurred_at);

-- The audit log is append-only, enforced by the database itself.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
