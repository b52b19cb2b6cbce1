//! Scale-out settings: streaming replicas for lag-tolerant reads, their health
//! limits, and how the service reaches PostgreSQL through PgBouncer.
//!
//! Reads `RIGMARKET_DATABASE_REPLICA_URLS` (comma-separated), `RIGMARKET_REPLICA_MAX_LAG`
//! (default 5s), `RIGMARKET_REPLICA_HEALTH_INTERVAL` (default 1s), `RIGMARKET_DB_PGBOUNCER`
//! (`off`, `transaction` or `auto`) and `RIGMARKET_MIGRATION_DATABASE_URL` (a direct
//! connection to the primary for the migrations' advisory lock and for `LISTEN`).

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::values::Span;

/// How the service's connections reach PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolerMode {
    /// Straight to PostgreSQL (or a session-mode pooler, which behaves the same).
    Direct,
    /// PgBouncer in transaction pooling mode: consecutive transactions of one
    /// client connection may run on different server connections.
    Transaction,
    /// Decide at start-up: when the port PostgreSQL says it listens on
    /// (`inet_server_port()`) is not the port of `DATABASE_URL`, something sits in
    /// between, and the service assumes transaction pooling (safe in any mode).
    Detect,
}

#[derive(Debug, Clone)]
pub struct ScaleOutSettings {
    /// Streaming replicas that answer lag-tolerant reads (`RIGMARKET_DATABASE_REPLICA_URLS`).
    pub replica_urls: Vec<SecretString>,
    /// A replica further behind than this is skipped until it catches up.
    pub replica_max_lag: Duration,
    /// How often each replica's replay position is checked.
    pub replica_health_interval: Duration,
    pub pooler: PoolerMode,
    /// A direct (not pooled by PgBouncer) URL of the primary, for session-level
    /// work: the migrations' advisory lock and `LISTEN`. `None`: `DATABASE_URL`.
    pub migration_database_url: Option<SecretString>,
}

impl Default for ScaleOutSettings {
    /// The variables' defaults: no replicas, no PgBouncer.
    fn default() -> Self {
        Self {
            replica_urls: Vec::new(),
            replica_max_lag: Duration::from_secs(5),
            replica_health_interval: Duration::from_secs(1),
            pooler: PoolerMode::Direct,
            migration_database_url: None,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ScaleOutVars {
    #[serde(rename = "RIGMARKET_DATABASE_REPLICA_URLS")]
    replica_urls: Option<String>,
    #[serde(rename = "RIGMARKET_REPLICA_MAX_LAG")]
    replica_max_lag: Span,
    #[serde(rename = "RIGMARKET_REPLICA_HEALTH_INTERVAL")]
    replica_health_interval: Span,
    #[serde(rename = "RIGMARKET_DB_PGBOUNCER")]
    pgbouncer: String,
    #[serde(rename = "RIGMARKET_MIGRATION_DATABASE_URL")]
    migration_database_url: Option<SecretString>,
}

impl ScaleOutVars {
    /// A bad value comes back as (variable, message) for the caller to report.
    pub(super) fn into_settings(self) -> Result<ScaleOutSettings, (&'static str, String)> {
        let mut replica_urls = Vec::new();
        for url in self.replica_urls.iter().flat_map(|list| list.split(',')).map(str::trim).filter(|u| !u.is_empty()) {
            url::Url::parse(url).map_err(|e| ("RIGMARKET_DATABASE_REPLICA_URLS", format!("not a URL: {e}")))?;
            replica_urls.push(SecretString::from(url.to_string()));
        }
        let pooler = match self.pgbouncer.to_ascii_lowercase().as_str() {
            "off" | "false" | "0" | "none" => PoolerMode::Direct,
            "transaction" => PoolerMode::Transaction,
            "auto" => PoolerMode::Detect,
            _ => return Err(("RIGMARKET_DB_PGBOUNCER", "expected off, transaction or auto".into())),
        };
        let std = |span: chrono::Duration| span.to_std().unwrap_or(Duration::from_secs(1));
        Ok(ScaleOutSettings {
            replica_urls,
            replica_max_lag: std(self.replica_max_lag.0),
            replica_health_interval: std(self.replica_health_interval.0),
            pooler,
            migration_database_url: self.migration_database_url,
        })
    }
}
