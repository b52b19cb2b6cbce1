-- The notifications inbox: one row per party of every domain event, written by
-- events::record in the transaction of the event (so an inbox entry exists if
-- and only if the change commits). `seq` is the id clients see, the SSE event
-- id and the pagination key.
CREATE TABLE notifications (
    seq bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The domain_events row it reports. No foreign key: this migration's
    -- prefix sorts before the one creating domain_events (000020).
    event_id uuid NOT NULL,
    type text NOT NULL,
    subject_id uuid NOT NULL,
    data jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    read_at timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, seq DESC);
CREATE INDEX notifications_unread ON notifications (user_id, seq DESC) WHERE read_at IS NULL;

-- Per-user email preferences: the event types whose email the user turned off
-- (they still land in the inbox). No row = every email on.
CREATE TABLE notification_settings (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email_muted text[] NOT NULL,
    updated_at timestamptz NOT NULL
);
