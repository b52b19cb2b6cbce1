//! The kernel services every handler may extract as `web::Data<AppState>`:
//! configuration, the database pool, the clock, the mail outbox's transport,
//! object storage and metrics. Capabilities take the pieces they need from it
//! and pass those (a connection, `now`, a config section) to their use cases;
//! what only one capability needs (the BTCPay client, say) is registered by
//! the composition root as its own `web::Data`.

use std::sync::Arc;

use anyhow::Context;
use secrecy::ExposeSecret;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, DbPool};
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::storage::ObjectStore;

/// Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: DbPool,
    pub clock: Clock,
    pub mailer: Mailer,
    pub storage: ObjectStore,
    pub metrics: Metrics,
}

impl AppState {
    pub async fn new(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let pool =
            db::build_pool(config.database_url.expose_secret(), config.db_pool_size, config.db_statement_timeout)?;
        let mailer = Mailer::new(&config.mail)?;
        let storage = ObjectStore::from_config(&config.storage, &config.public_url, &config.jwt_secret)
            .await
            .context("setting up object storage")?;
        Ok(Self { config: Arc::new(config), pool, clock, mailer, storage, metrics: Metrics::new() })
    }

    /// The port miners connect to (the bound one when configured as port 0).
    pub fn stratum_port(&self) -> u16 {
        self.config.stratum_addr.port()
    }
}
