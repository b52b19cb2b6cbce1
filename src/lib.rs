//! rigmarket: a marketplace backend for secondhand ASIC mining rigs.
//!
//! `Application::build` wires configuration, the database pool, mail and storage
//! into an [`AppState`]; `Application::run_until_stopped` serves HTTP and runs job
//! workers until SIGTERM/SIGINT, then shuts down in order (stop accepting, finish
//! in-flight requests and running jobs).

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod decimal;
pub mod demo;
pub mod error;
pub mod geo;
pub mod http;
pub mod index;
pub mod jobs;
pub mod ledger;
pub mod listings;
pub mod mail;
pub mod orders;
pub mod payments;
pub mod proofs;
pub mod ratelimit;
pub mod storage;
pub mod telemetry;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::DbPool;
use crate::http::metrics::Metrics;
use crate::mail::Mailer;
use crate::storage::ObjectStore;

/// Everything a handler or a job needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: DbPool,
    pub clock: Clock,
    pub mailer: Mailer,
    pub storage: ObjectStore,
    pub metrics: Metrics,
    /// The BTCPay Server client, when `RIGMARKET_BTCPAY_*` are set.
    pub btcpay: Option<payments::btcpay::BtcpayClient>,
    /// A real argon2id hash of a random password, verified against when a login
    /// names an unknown email so that it costs the same time as a wrong password.
    pub dummy_password_hash: Arc<str>,
}

impl AppState {
    /// The port miners connect to (the bound one when configured as port 0).
    pub fn stratum_port(&self) -> u16 {
        self.config.stratum_addr.port()
    }

    pub async fn new(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let pool =
            db::build_pool(config.database_url.expose_secret(), config.db_pool_size, config.db_statement_timeout)?;
        let mailer = Mailer::new(&config.mail)?;
        let btcpay = config
            .btcpay
            .as_ref()
            .map(payments::btcpay::BtcpayClient::new)
            .transpose()
            .context("setting up the BTCPay client")?;
        let storage = ObjectStore::from_config(&config.storage, &config.public_url, &config.jwt_secret)
            .await
            .context("setting up object storage")?;
        let dummy_password_hash = tokio::task::spawn_blocking(|| {
            accounts::password::hash_blocking(&accounts::secret_token::issue("dummy-").plaintext)
        })
        .await??;
        Ok(Self {
            config: Arc::new(config),
            pool,
            clock,
            mailer,
            storage,
            metrics: Metrics::new(),
            btcpay,
            dummy_password_hash: dummy_password_hash.into(),
        })
    }
}

/// Which parts a process runs; `serve` runs all of them by default.
#[derive(Debug, Clone, Copy)]
pub struct Roles {
    pub http: bool,
    pub worker: bool,
    pub stratum: bool,
}

/// Prepares the database for this version of the code: creates it when missing,
/// applies migrations under an advisory lock and seeds the reference data.
pub async fn prepare_database(config: &Config) -> anyhow::Result<()> {
    let url = config.database_url.expose_secret();
    db::create_database_if_missing(url).await?;
    let applied = db::run_migrations(url).await?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    let mut conn = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(url)
        .await
        .context("connecting to seed the catalog")?;
    let seeded = catalog::seed::seed_reference_data(&mut conn).await?;
    if seeded.any() {
        tracing::info!(?seeded, "seeded reference data");
    }
    Ok(())
}

pub struct Application {
    state: AppState,
    roles: Roles,
    http_listener: Option<TcpListener>,
    stratum_listener: Option<TcpListener>,
}

impl Application {
    /// Binds the listeners (port 0 picks a free port) without serving yet.
    pub async fn build(mut config: Config, clock: Clock, roles: Roles) -> anyhow::Result<Self> {
        let http_listener = if roles.http {
            let listener =
                TcpListener::bind(config.http_addr).with_context(|| format!("binding HTTP on {}", config.http_addr))?;
            listener.set_nonblocking(true)?;
            // With port 0 the public URL learns the port the OS picked.
            if config.public_url.port() == Some(0) {
                let _ = config.public_url.set_port(Some(listener.local_addr()?.port()));
            }
            Some(listener)
        } else {
            None
        };
        let stratum_listener = if roles.stratum {
            let listener = TcpListener::bind(config.stratum_addr)
                .with_context(|| format!("binding stratum on {}", config.stratum_addr))?;
            listener.set_nonblocking(true)?;
            // With port 0, proof tickets must name the port the OS picked.
            config.stratum_addr = listener.local_addr()?;
            Some(listener)
        } else {
            None
        };
        let state = AppState::new(config, clock).await?;
        Ok(Self { state, roles, http_listener, stratum_listener })
    }

    pub fn http_port(&self) -> Option<u16> {
        self.http_listener.as_ref().and_then(|l| l.local_addr().ok()).map(|a| a.port())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `stop` becomes true (wired to SIGTERM/SIGINT by the CLI),
    /// then drains: HTTP stops accepting and finishes in-flight requests, workers
    /// finish the job they are running.
    pub async fn run_until_stopped(self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let (workers_stop_tx, workers_stop_rx) = watch::channel(false);
        let mut workers = Vec::new();
        if self.roles.worker {
            jobs::register_periodic(&self.state).await.context("registering periodic jobs")?;
            for index in 0..self.state.config.worker_concurrency {
                workers.push(tokio::spawn(jobs::run_worker(self.state.clone(), index, workers_stop_rx.clone())));
            }
        }

        let stratum = match self.stratum_listener {
            Some(listener) => Some(tokio::spawn(proofs::stratum::serve(
                self.state.clone(),
                tokio::net::TcpListener::from_std(listener)?,
                workers_stop_rx.clone(),
            ))),
            None => None,
        };
        let server = match self.http_listener {
            Some(listener) => {
                let server = http::server(self.state.clone(), listener)?;
                let handle = server.handle();
                Some((tokio::spawn(server), handle))
            }
            None => None,
        };
        tracing::info!(
            http = ?self.state.config.http_addr,
            stratum = ?self.roles.stratum.then_some(self.state.config.stratum_addr),
            workers = workers.len(),
            mail = self.state.mailer.describe(),
            storage = self.state.storage.describe(),
            "rigmarket is ready"
        );

        let _ = stop.wait_for(|stopped| *stopped).await;
        tracing::info!("shutting down: no new connections, finishing in-flight work");
        let _ = workers_stop_tx.send(true);
        if let Some((task, handle)) = server {
            handle.stop(true).await;
            task.await.context("HTTP server task")??;
        }
        if let Some(stratum) = stratum {
            let _ = stratum.await;
        }
        for worker in workers {
            let _ = tokio::time::timeout(Duration::from_secs(60), worker).await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Flips to true on SIGTERM or Ctrl-C.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        let _ = tx.send(true);
    });
    rx
}
