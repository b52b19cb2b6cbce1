//! The kernel services every handler may extract as `web::Data<AppState>`:
//! configuration, the database pool, the read router (replicas), the clock,
//! the mail outbox's transport, object storage and metrics. Capabilities take
//! the pieces they need from it and pass those (a connection, `now`, a config
//! section) to their use cases; what only one capability needs (the BTCPay
//! client, say) is registered by the composition root as its own `web::Data`.

use std::sync::Arc;

use anyhow::Context;
use secrecy::ExposeSecret;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::reads::ReadRouter;
use crate::db::{self, DbPool};
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::storage::ObjectStore;

/// Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// The primary: writes, locks, timers, the job queue and every read that
    /// must not lag.
    pub pool: DbPool,
    /// Lag-tolerant reads: a healthy replica that has the caller's writes, or
    /// the primary (`accounts::ReplicaReads` picks for a request).
    pub reads: Arc<ReadRouter>,
    pub clock: Clock,
    pub mailer: Mailer,
    pub storage: ObjectStore,
    pub metrics: Metrics,
}

impl AppState {
    pub async fn new(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let transaction_pooling = db::pooling::uses_transaction_pooling(&config).await;
        let timeout = config.db_statement_timeout;
        let pool = db::pooling::build_pool_for(
            config.database_url.expose_secret(),
            config.db_pool_size,
            timeout,
            "rigmarket",
            transaction_pooling,
        )?;
        let metrics = Metrics::new();
        let mut replicas = Vec::new();
        for url in &config.scale_out.replica_urls {
            let url = url.expose_secret();
            let pool =
                db::pooling::build_pool_for(url, config.db_pool_size, timeout, "rigmarket-read", transaction_pooling)
                    .context("building a replica pool")?;
            replicas.push((replica_label(url), pool));
        }
        let reads =
            ReadRouter::new(pool.clone(), replicas, config.scale_out.replica_max_lag, Arc::new(metrics.clone()));
        reads.start_health_checks(config.scale_out.replica_health_interval);
        let mailer = Mailer::new(&config.mail)?;
        let storage = ObjectStore::from_config(&config.storage, &config.public_url, &config.jwt_secret)
            .await
            .context("setting up object storage")?;
        Ok(Self { config: Arc::new(config), pool, reads, clock, mailer, storage, metrics })
    }

    /// The port miners connect to (the bound one when configured as port 0).
    pub fn stratum_port(&self) -> u16 {
        self.config.stratum_addr.port()
    }
}

/// `host:port/database` of a replica URL, without credentials, for logs and
/// metric labels.
fn replica_label(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => format!("{}:{}{}", url.host_str().unwrap_or("?"), url.port().unwrap_or(5432), url.path()),
        Err(_) => "replica".into(),
    }
}
