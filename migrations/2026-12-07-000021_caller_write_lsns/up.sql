-- Read-your-writes across instances: each signed-in caller's last write
-- position in the primary's WAL (pg_lsn - '0/0', as bigint). UNLOGGED: only
-- the primary reads it, so it need not replicate, and writing it costs no WAL.
-- After a crash it is empty; by then every replica has to reconnect and
-- catch up with the restarted primary before it counts as healthy again.
CREATE UNLOGGED TABLE caller_write_lsns (
    user_id    uuid PRIMARY KEY,
    lsn        bigint NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);
