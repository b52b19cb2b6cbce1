//! PostgreSQL access: the connection pools (direct or through PgBouncer,
//! `pooling`), lag-tolerant reads routed to streaming replicas (`reads`,
//! `replica_health`, `write_marks`), embedded migrations run under an advisory
//! lock on a direct connection, and database creation at start-up.
//!
//! Every pooled connection carries `statement_timeout` and `application_name`
//! (set through the connection string so they survive reconnects), and the pool
//! gives up quickly when PostgreSQL is down so handlers can answer 503 instead of
//! hanging.

pub mod fresh_read;
pub mod ids;
pub mod keyed_json;
pub mod local_cluster;
mod migrations;
pub mod pooling;
pub mod reads;
mod replica_health;
pub mod schema;
mod text_enums;
pub mod write_marks;

pub use migrations::{embedded_versions, migration_state, MigrationState, MIGRATIONS};
pub(crate) use text_enums::text_enum;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::MigrationHarness;
use url::Url;

pub use pooling::{build_pool, connection_url, DbConn, DbPool, PoolError};

/// Arbitrary but fixed: every rigmarket process serialises schema changes on it.
const MIGRATION_LOCK_KEY: i64 = 0x7269_676d_6b74; // "rigmkt"

/// Escapes `%`, `_` and `\` so user text matches literally in LIKE/ILIKE.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// True for errors that mean "the database is unreachable", which the API maps
/// to 503 rather than 500.
pub fn is_connection_error(err: &DieselError) -> bool {
    match err {
        // diesel-async reports a connection that died under it (no SQLSTATE) this way.
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => {
            true
        }
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let message = info.message().to_ascii_lowercase();
            message.contains("connection") || message.contains("timeout") || message.contains("terminating")
        }
        DieselError::BrokenTransactionManager => true,
        _ => false,
    }
}

/// Creates the database named in `database_url` when it does not exist yet.
/// Safe when several processes race: "already exists" is success.
pub async fn create_database_if_missing(database_url: &str) -> anyhow::Result<()> {
    let url = Url::parse(database_url).context("DATABASE_URL is not a valid URL")?;
    let name = url.path().trim_start_matches('/').to_string();
    anyhow::ensure!(!name.is_empty(), "DATABASE_URL names no database");
    if AsyncPgConnection::establish(database_url).await.is_ok() {
        return Ok(());
    }
    let mut maintenance_url = url.clone();
    maintenance_url.set_path("/postgres");
    let mut conn = AsyncPgConnection::establish(maintenance_url.as_str())
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(&url)))?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    match diesel::sql_query(format!("CREATE DATABASE {quoted}")).execute(&mut conn).await {
        Ok(_) => {
            tracing::info!(db.name = %name, "created database");
            Ok(())
        }
        // 42P04 duplicate_database, or a unique violation when two creators race.
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(DieselError::DatabaseError(_, info)) if info.message().contains("already exists") => Ok(()),
        Err(err) => Err(err).context("creating the database"),
    }
}

fn redact(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.to_string()
}

/// Runs pending migrations while holding a session-level advisory lock, so any
/// number of instances can start together and exactly one migrates.
pub async fn run_migrations(database_url: &str) -> anyhow::Result<Vec<String>> {
    let url = database_url.to_string();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
            .context("connecting to run migrations")?;
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(|v| v.to_string()).collect())
            .map_err(|e| anyhow::anyhow!("running migrations: {e}"));
        conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
        applied
    })
    .await
    .context("migration task panicked")?
}
