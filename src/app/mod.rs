//! The composition root: builds one process (kernel services, the capabilities'
//! extra services, the job registry), wires the capabilities together where one
//! must cause something in another (`jobs.rs`, `hooks.rs`), serves HTTP
//! (`server.rs`) and Stratum, and shuts down in order. Nothing imports this
//! module but `lib.rs`, the CLI and the demo.

mod jobs;
pub mod openapi;
mod server;
mod spec_rules;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use crate::accounts::password::DummyHash;
use crate::accounts::{ReputationSource, Reputations};
use crate::catalog::events::SpecFollowers;
use crate::catalog::page_cache::CatalogPages;
use crate::clock::Clock;
use crate::config::Config;
use crate::jobs::JobRunner;
use crate::listings::ListingRenderer;
use crate::listings::SearchRuns;
use crate::notifications::LiveEvents;
use crate::orders::OrderContext;
use crate::payments::Payments;
use crate::price_index::IndexAnswers;
use crate::proofs::ShareWriter;
use crate::state::AppState;

/// Everything one process runs on: the kernel state handlers extract, the
/// services only some capabilities need, and the job runner. Cheap to clone.
#[derive(Clone)]
pub struct Instance {
    pub state: AppState,
    pub dummy_hash: DummyHash,
    /// The orders' settings, payment providers and storage.
    pub orders: OrderContext,
    /// Reputations (the orders') for profiles and listing pages.
    pub reputations: ReputationSource,
    /// Listing pages, decorated with reputations and proofs.
    pub listing_pages: ListingRenderer,
    /// Who follows a rig model's specs (the listings).
    pub spec_followers: SpecFollowers,
    /// Rendered rig-model pages, shared by the HTTP workers.
    pub catalog_pages: CatalogPages,
    /// Identical searches' shared runs, across the HTTP workers.
    pub search_runs: SearchRuns,
    /// Rendered price-index series, reused while their data is unchanged.
    pub index_answers: IndexAnswers,
    pub jobs: JobRunner,
    /// This process's group-commit writer of proof shares (stratum and relay).
    pub shares: ShareWriter,
    /// This process's live event streams and their one LISTEN connection.
    pub live: LiveEvents,
}

impl Instance {
    pub async fn new(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let state = AppState::new(config, clock).await?;
        let payments = Payments::from_config(&state.config).context("setting up the BTCPay client")?;
        let dummy_hash = DummyHash::generate().await?;
        let reputations: Arc<dyn Reputations> = Arc::new(crate::orders::OrderReputations);
        let listing_pages = ListingRenderer::new(
            reputations.as_ref(),
            &crate::proofs::ListingProofs,
            state.storage.clone(),
            state.config.fire_sale_threshold_bps,
        );
        let orders = OrderContext::new(&state.config, payments, state.storage.clone());
        let jobs = jobs::runner(&state, &orders, &listing_pages);
        let spec_followers = SpecFollowers(Arc::new(crate::listings::FollowCatalog));
        let reputations = ReputationSource(reputations);
        let settings = &state.config.stratum;
        let shares =
            ShareWriter::start(state.pool.clone(), state.clock.clone(), settings.share_queue, settings.share_batch_max);
        let live = LiveEvents::new(crate::db::pooling::direct_url(&state.config));
        let catalog_pages = CatalogPages::default();
        let search_runs = SearchRuns::default();
        let index_answers = IndexAnswers::default();
        Ok(Self {
            state,
            dummy_hash,
            orders,
            reputations,
            listing_pages,
            spec_followers,
            catalog_pages,
            search_runs,
            index_answers,
            jobs,
            shares,
            live,
        })
    }

    /// Runs every due job now (tests move the clock, then drain).
    pub async fn drain_jobs(&self) -> anyhow::Result<usize> {
        self.jobs.drain().await
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
/// All of it on a direct connection (`RIGMARKET_MIGRATION_DATABASE_URL` when
/// set): a session-level advisory lock means nothing through PgBouncer in
/// transaction mode.
pub async fn prepare_database(config: &Config) -> anyhow::Result<()> {
    let direct = crate::db::pooling::direct_url(config);
    let url = direct.as_str();
    crate::db::create_database_if_missing(url).await?;
    let applied = crate::db::run_migrations(url).await?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    let mut conn = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(url)
        .await
        .context("connecting to seed the catalog")?;
    let seeded = crate::catalog::seed::seed_reference_data(&mut conn).await?;
    if seeded.any() {
        tracing::info!(?seeded, "seeded reference data");
    }
    Ok(())
}

pub struct Application {
    instance: Instance,
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
        let instance = Instance::new(config, clock).await?;
        Ok(Self { instance, roles, http_listener, stratum_listener })
    }

    pub fn http_port(&self) -> Option<u16> {
        self.http_listener.as_ref().and_then(|l| l.local_addr().ok()).map(|a| a.port())
    }

    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    pub fn state(&self) -> &AppState {
        &self.instance.state
    }

    /// Serves until `stop` becomes true (wired to SIGTERM/SIGINT by the CLI),
    /// then drains: HTTP stops accepting and finishes in-flight requests, stratum
    /// sends `client.reconnect` to its miners, the share writer commits what it
    /// holds, workers finish the job they are running.
    pub async fn run_until_stopped(self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let state = self.instance.state.clone();
        let (workers_stop_tx, workers_stop_rx) = watch::channel(false);
        let mut workers = Vec::new();
        if self.roles.worker {
            self.instance.jobs.register_periodic().await.context("registering periodic jobs")?;
            for index in 0..state.config.worker_concurrency {
                let runner = self.instance.jobs.clone();
                workers.push(tokio::spawn(runner.run_worker(index, workers_stop_rx.clone())));
            }
        }
        let stratum = match self.stratum_listener {
            Some(listener) => Some(tokio::spawn(crate::proofs::stratum::serve(
                state.clone(),
                self.instance.shares.clone(),
                tokio::net::TcpListener::from_std(listener)?,
                workers_stop_rx.clone(),
            ))),
            None => None,
        };
        let server = match self.http_listener {
            Some(listener) => {
                let server = server::http_server(self.instance.clone(), listener)?;
                let handle = server.handle();
                Some((tokio::spawn(server), handle))
            }
            None => None,
        };
        tracing::info!(
            http = ?state.config.http_addr,
            stratum = ?self.roles.stratum.then_some(state.config.stratum_addr),
            workers = workers.len(),
            mail = state.mailer.describe(),
            storage = state.storage.describe(),
            "rigmarket is ready"
        );

        let _ = stop.wait_for(|stopped| *stopped).await;
        tracing::info!("shutting down: no new connections, finishing in-flight work");
        let _ = workers_stop_tx.send(true);
        // Live streams never end by themselves: close them so the HTTP stop
        // does not wait for them.
        self.instance.live.stop();
        if let Some((task, handle)) = server {
            handle.stop(true).await;
            task.await.context("HTTP server task")??;
        }
        if let Some(stratum) = stratum {
            // The listener stops accepting, tells miners `client.reconnect` and
            // waits for every answer in flight.
            let _ = stratum.await;
        }
        // Nothing a miner or relay heard "accepted" is left uncommitted.
        self.instance.shares.flush().await;
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
