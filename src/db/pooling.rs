//! How pooled connections are made, directly or through PgBouncer in
//! transaction pooling mode, and the direct connection for session-level work.
//!
//! Through PgBouncer in transaction mode two consecutive transactions of one
//! client connection may run on two server connections, so nothing may outlive
//! a transaction on the server: the prepared-statement cache is off (every
//! statement is prepared, run and closed in turn), the `statement_timeout`
//! startup option is not sent (PgBouncer refuses unknown startup parameters;
//! set it on the role instead: `ALTER ROLE rigmarket SET statement_timeout =
//! '10s'`), settings are changed only with `SET LOCAL`, and the session-level
//! advisory lock of the migrations and `LISTEN` use [`direct_url`].

use std::time::Duration;

use anyhow::Context;
use diesel::connection::CacheSize;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::FutureExt;
use secrecy::ExposeSecret;
use url::Url;

use crate::config::{Config, PoolerMode};

pub use diesel_async::pooled_connection::deadpool::PoolError;

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

/// How long a request waits for a pooled connection (or a new one) before the
/// service answers 503.
const POOL_WAIT: Duration = Duration::from_secs(3);

/// Adds the per-connection settings to a database URL. Values are %-encoded by
/// hand: tokio-postgres does not read `+` in a query string as a space.
pub fn connection_url(database_url: &str, statement_timeout: Duration, app_name: &str) -> anyhow::Result<String> {
    let url = Url::parse(database_url).context("DATABASE_URL is not a valid URL")?;
    let has = |key: &str| url.query_pairs().any(|(k, _)| k == key);
    let mut extra = Vec::new();
    if !has("application_name") {
        extra.push(format!("application_name={app_name}"));
    }
    if !has("options") {
        extra.push(format!("options=-c%20statement_timeout%3D{}", statement_timeout.as_millis()));
    }
    if !has("connect_timeout") {
        extra.push("connect_timeout=3".to_string());
    }
    let query = url.query().into_iter().map(str::to_string).chain(extra).collect::<Vec<_>>().join("&");
    let mut url = url;
    url.set_query(Some(&query));
    Ok(url.to_string())
}

/// A pool straight to PostgreSQL (see [`build_pool_for`] for PgBouncer).
pub fn build_pool(database_url: &str, max_size: usize, statement_timeout: Duration) -> anyhow::Result<DbPool> {
    build_pool_for(database_url, max_size, statement_timeout, "rigmarket", false)
}

/// Builds a pool; with `transaction_pooling` its connections keep no state
/// between transactions (see the module docs).
pub fn build_pool_for(
    database_url: &str,
    max_size: usize,
    statement_timeout: Duration,
    app_name: &str,
    transaction_pooling: bool,
) -> anyhow::Result<DbPool> {
    let url = if transaction_pooling {
        connection_url_without_options(database_url, app_name)?
    } else {
        connection_url(database_url, statement_timeout, app_name)?
    };
    let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
    // No `SELECT 1` per checkout (a round trip on every request): a connection
    // goes back into use unless it is broken, i.e. in a failed transaction or
    // its socket closed (tokio-postgres ends the connection task when the
    // server goes away, so a restart evicts every connection at once). A
    // server that vanished silently fails the first query on each connection,
    // which answers 503 and breaks the connection, so the pool replaces it.
    manager_config.recycling_method = RecyclingMethod::Fast;
    if transaction_pooling {
        manager_config.custom_setup = Box::new(|url| {
            async move {
                let mut conn = AsyncPgConnection::establish(url).await?;
                conn.set_prepared_statement_cache_size(CacheSize::Disabled);
                Ok(conn)
            }
            .boxed()
        });
    }
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, manager_config);
    Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(POOL_WAIT))
        .recycle_timeout(Some(POOL_WAIT))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the database pool")
}

fn connection_url_without_options(database_url: &str, app_name: &str) -> anyhow::Result<String> {
    let mut url = Url::parse(database_url).context("DATABASE_URL is not a valid URL")?;
    let kept: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != "options").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let has = |key: &str| kept.iter().any(|(k, _)| k == key);
    let mut pairs = url.query_pairs_mut();
    pairs.clear();
    for (k, v) in &kept {
        pairs.append_pair(k, v);
    }
    if !has("application_name") {
        pairs.append_pair("application_name", app_name);
    }
    if !has("connect_timeout") {
        pairs.append_pair("connect_timeout", "3");
    }
    drop(pairs);
    Ok(url.to_string())
}

/// The primary without PgBouncer in between: `RIGMARKET_MIGRATION_DATABASE_URL`,
/// or `DATABASE_URL` when that is already direct.
pub fn direct_url(config: &Config) -> String {
    config
        .scale_out
        .migration_database_url
        .as_ref()
        .map(|url| url.expose_secret().to_string())
        .unwrap_or_else(|| config.database_url.expose_secret().to_string())
}

/// A connection of its own for session-level work (`LISTEN`, session advisory
/// locks), never from the pool, so it is never shared by PgBouncer.
pub async fn direct_connection(config: &Config) -> anyhow::Result<AsyncPgConnection> {
    AsyncPgConnection::establish(&direct_url(config)).await.context("connecting directly to the primary")
}

#[derive(diesel::QueryableByName)]
struct ServerPort {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    port: Option<i32>,
}

/// Whether the pool must be safe for transaction pooling: as configured, or,
/// for `auto`, when the server's own port differs from the one dialled (a
/// pooler in between; assuming transaction mode is safe in every mode).
pub async fn uses_transaction_pooling(config: &Config) -> bool {
    match config.scale_out.pooler {
        PoolerMode::Direct => false,
        PoolerMode::Transaction => true,
        PoolerMode::Detect => {
            let url = config.database_url.expose_secret();
            let dialled = Url::parse(url).ok().and_then(|u| u.port()).unwrap_or(5432);
            let Ok(mut conn) = AsyncPgConnection::establish(url).await else {
                return true;
            };
            let answered =
                diesel::sql_query("SELECT inet_server_port() AS port").get_result::<ServerPort>(&mut conn).await;
            let detected = !matches!(answered, Ok(ServerPort { port: Some(port) }) if port == i32::from(dialled));
            tracing::info!(pgbouncer.detected = detected, "database pooler detection");
            detected
        }
    }
}
