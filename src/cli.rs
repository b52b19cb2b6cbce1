//! The command line: `serve`, `worker`, `migrate`, admin and import commands.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::{ExposeSecret, SecretString};

use crate::catalog::{csv_import, seed};
use crate::clock::Clock;
use crate::config::{Config, DEFAULT_DATABASE_URL};
use crate::db::local_cluster::LocalCluster;
use crate::{Application, Roles};

#[derive(Parser)]
#[command(name = "rigmarket", version, about = "Marketplace backend for secondhand ASIC mining rigs")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API and the job workers (each can be switched off).
    Serve {
        /// Do not serve HTTP (run only the other parts).
        #[arg(long)]
        no_http: bool,
        /// Do not run job workers in this process.
        #[arg(long)]
        no_worker: bool,
        /// Do not run the Stratum V1 listener for hashrate proofs.
        #[arg(long)]
        no_stratum: bool,
    },
    /// Run only the job workers.
    Worker,
    /// Run only the Stratum V1 listener for hashrate proofs.
    Stratum,
    /// Apply pending database migrations and seed reference data, then exit.
    Migrate,
    /// Administrative actions.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// The rig model catalog.
    Catalog {
        #[command(subcommand)]
        action: ImportAction,
    },
    /// Reference prices: per model (`manufacturer,model,date,basis,amount_usd,note`)
    /// or per efficiency tier (`date,tier,usd_per_th,source`).
    ReferencePrices {
        #[command(subcommand)]
        action: ImportAction,
    },
    /// Units of a lot, by serial.
    Units {
        #[command(subcommand)]
        action: UnitsAction,
    },
    /// Load the demo market (the May-July 2021 China exodus, from a fixed seed);
    /// idempotent, local deployments only.
    SeedDemo,
    /// Inspect and retry dead jobs.
    Jobs {
        #[command(subcommand)]
        action: JobsAction,
    },
    /// The escrow ledger.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// Print the OpenAPI document generated from the code.
    Openapi,
    /// Read the mail written as `.eml` files when no SMTP server is set
    /// (`RIGMARKET_MAIL_DIR`), decoded.
    Mail {
        #[command(subcommand)]
        action: MailAction,
    },
}

#[derive(Subcommand)]
enum MailAction {
    /// Newest first, one per line: id, date, recipient, subject.
    List {
        /// Only mail to this address (or part of it).
        #[arg(long)]
        to: Option<String>,
        /// At most this many messages.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One message: headers, the decoded text, then its links one per line.
    Show {
        /// An id from `mail list` (or its unique prefix), or `latest`.
        #[arg(default_value = crate::mail::LATEST)]
        id: String,
        /// With `latest`: the newest mail to this address.
        #[arg(long)]
        to: Option<String>,
    },
}

#[derive(Subcommand)]
enum LedgerAction {
    /// Check every ledger invariant; exits 1 and names each order that breaks one.
    Verify,
}

#[derive(Subcommand)]
enum AdminAction {
    /// Give the account with this email the admin role.
    Grant { email: String },
}

#[derive(Subcommand)]
enum ImportAction {
    /// Import a CSV file: every row is validated first; any bad row rejects the
    /// whole file and nothing is written.
    Import {
        file: PathBuf,
        /// Validate and report without writing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum UnitsAction {
    /// Register a lot's units from a CSV file (header `serial,mac,
    /// hashboard_serials,psu_serial,grade,hashboards_working,notes`; only
    /// `serial` is required, hashboard serials are separated by `;`). Every row
    /// is checked first; any bad row rejects the whole file, nothing written.
    Import {
        /// The lot (listing id); the units are registered for its seller.
        #[arg(long)]
        listing: uuid::Uuid,
        file: PathBuf,
        /// Check every row, the lot and the serial registry without writing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum JobsAction {
    /// List jobs that exhausted their retries.
    Dead,
    /// Put a dead job back in the queue.
    Retry { id: i64 },
}

impl Cli {
    /// Long-running processes log their work; one-shot commands print their
    /// result and log only warnings (unless `RUST_LOG` says otherwise).
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Serve { .. } | Command::Worker | Command::Stratum => "info,actix_server=warn",
            _ => "warn",
        }
    }
}

/// Runs the CLI; the returned code is the process exit status.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    if let Command::Openapi = cli.command {
        print!("{}", crate::app::openapi::spec_json());
        return Ok(0);
    }
    let mut config = Config::from_env()?;
    let cluster = match cli.command {
        Command::Serve { .. } | Command::Worker | Command::Stratum | Command::Migrate | Command::SeedDemo => {
            maybe_private_cluster(&mut config).await?
        }
        _ => None,
    };
    let result = dispatch(cli.command, config).await;
    if let Some(cluster) = cluster {
        cluster.stop();
    }
    result
}

/// With no `DATABASE_URL` set and nothing answering at the default, starts the
/// private cluster under `./var/postgres` instead of failing.
async fn maybe_private_cluster(config: &mut Config) -> anyhow::Result<Option<LocalCluster>> {
    if std::env::var_os("DATABASE_URL").is_some() || postgres_answers(DEFAULT_DATABASE_URL).await {
        return Ok(None);
    }
    tracing::warn!("no PostgreSQL at {DEFAULT_DATABASE_URL}; starting a private cluster under ./var/postgres");
    let cluster = tokio::task::spawn_blocking(|| LocalCluster::start(std::path::Path::new("var"))).await??;
    config.database_url = SecretString::from(LocalCluster::database_url());
    Ok(Some(cluster))
}

async fn postgres_answers(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else { return false };
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let port = parsed.port().unwrap_or(5432);
    tokio::time::timeout(std::time::Duration::from_secs(2), tokio::net::TcpStream::connect((host, port)))
        .await
        .is_ok_and(|r| r.is_ok())
}

async fn dispatch(command: Command, config: Config) -> anyhow::Result<i32> {
    match command {
        Command::Serve { no_http, no_worker, no_stratum } => {
            serve(config, Roles { http: !no_http, worker: !no_worker, stratum: !no_stratum }).await?;
        }
        Command::Worker => serve(config, Roles { http: false, worker: true, stratum: false }).await?,
        Command::Stratum => serve(config, Roles { http: false, worker: false, stratum: true }).await?,
        Command::Migrate => {
            crate::prepare_database(&config).await?;
            println!("database is migrated and the catalog is seeded");
        }
        Command::SeedDemo => println!("{}", crate::demo::seed(config).await?),
        Command::Admin { action: AdminAction::Grant { email } } => {
            let state = crate::state::AppState::new(config, Clock::system()).await?;
            let mut conn = state.pool.get().await?;
            match crate::accounts::grant_admin(&mut conn, &email, state.clock.now()).await? {
                Some(account) => println!("{} ({}) is now an admin", account.email, account.id),
                None => {
                    eprintln!("no account has the email {email}");
                    return Ok(1);
                }
            }
        }
        Command::Catalog { action: ImportAction::Import { file, dry_run } } => {
            return import_catalog(config, file, dry_run).await
        }
        Command::ReferencePrices { action: ImportAction::Import { file, dry_run } } => {
            return import_reference_prices(config, file, dry_run).await
        }
        Command::Units { action: UnitsAction::Import { listing, file, dry_run } } => {
            return import_units(config, listing, file, dry_run).await
        }
        Command::Jobs { action } => {
            let state = crate::state::AppState::new(config, Clock::system()).await?;
            let mut conn = state.pool.get().await?;
            match action {
                JobsAction::Dead => {
                    for job in crate::jobs::queue::list_dead(&mut conn, 100).await? {
                        println!(
                            "{}\t{}\tattempts={}\t{}\t{}",
                            job.id,
                            job.kind,
                            job.attempts,
                            job.updated_at.to_rfc3339(),
                            job.last_error.unwrap_or_default()
                        );
                    }
                }
                JobsAction::Retry { id } => {
                    if !crate::jobs::queue::retry_dead(&mut conn, id, state.clock.now()).await? {
                        eprintln!("no dead job {id}");
                        return Ok(1);
                    }
                    println!("job {id} queued again");
                }
            }
        }
        Command::Ledger { action: LedgerAction::Verify } => return verify_ledger(config).await,
        Command::Openapi => unreachable!("handled before configuration is read"),
        Command::Mail { action } => return read_mail(&config, action),
    }
    Ok(0)
}

fn read_mail(config: &Config, action: MailAction) -> anyhow::Result<i32> {
    let crate::config::MailTransportConfig::Files { dir } = &config.mail.transport else {
        eprintln!("mail goes over SMTP (RIGMARKET_SMTP_URL is set); read it in that mailbox");
        return Ok(1);
    };
    let mail_dir = crate::mail::MailDir::new(dir);
    match action {
        MailAction::List { to, limit } => {
            let mails = mail_dir.list(to.as_deref())?;
            if mails.is_empty() {
                eprintln!("no mail in {}", mail_dir.path().display());
            }
            for mail in mails.iter().take(limit) {
                println!("{mail}");
            }
        }
        MailAction::Show { id, to } => print!("{}", mail_dir.show(&id, to.as_deref())?),
    }
    Ok(0)
}

async fn verify_ledger(config: Config) -> anyhow::Result<i32> {
    let mut conn = connect(&config).await?;
    let violations = crate::orders::verify_ledger(&mut conn).await?;
    if violations.is_empty() {
        println!("ledger verified: every transaction balances, escrow matches every order");
        return Ok(0);
    }
    for violation in &violations {
        eprintln!("{violation}");
    }
    eprintln!("{} ledger violation(s)", violations.len());
    Ok(1)
}

async fn serve(config: Config, roles: Roles) -> anyhow::Result<()> {
    crate::prepare_database(&config).await?;
    if config.webhooks.secret_key.is_none() && !config.is_local() {
        tracing::warn!(
            "RIGMARKET_WEBHOOK_SECRET_KEY is unset: webhook secrets are sealed with a key derived from \
             RIGMARKET_JWT_SECRET, and rotating that secret would make them unreadable"
        );
    }
    let app = Application::build(config, Clock::system(), roles).await?;
    app.run_until_stopped(crate::shutdown_signal()).await
}

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

struct BarProgress(ProgressBar);

impl seed::Progress for BarProgress {
    fn advance(&mut self) {
        self.0.inc(1);
    }
}

fn report_rejection(file: &std::path::Path, errors: &[csv_import::RowError]) -> i32 {
    eprintln!("{} rejected, nothing was written ({} problem(s)):", file.display(), errors.len());
    for error in errors {
        eprintln!("  {error}");
    }
    2
}

async fn connect(config: &Config) -> anyhow::Result<diesel_async::AsyncPgConnection> {
    use diesel_async::AsyncConnection;
    crate::prepare_database(config).await?;
    diesel_async::AsyncPgConnection::establish(config.database_url.expose_secret())
        .await
        .context("connecting to the database")
}

async fn import_catalog(config: Config, file: PathBuf, dry_run: bool) -> anyhow::Result<i32> {
    let contents = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
    let specs = match csv_import::parse_models(contents) {
        Ok(specs) => specs,
        Err(errors) => return Ok(report_rejection(&file, &errors)),
    };
    if dry_run {
        println!("{}: {} valid model row(s); dry run, nothing written", file.display(), specs.len());
        return Ok(0);
    }
    let mut conn = connect(&config).await?;
    let bar = BarProgress(progress_bar(specs.len()));
    let mut progress = bar;
    let counts = seed::import_models(&mut conn, &specs, &mut progress).await?;
    progress.0.finish_and_clear();
    println!("imported {} model row(s) from {}: {counts}", specs.len(), file.display());
    Ok(0)
}

async fn import_units(config: Config, listing: uuid::Uuid, file: PathBuf, dry_run: bool) -> anyhow::Result<i32> {
    use crate::units::{csv, register};
    let contents = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let rows = match csv::parse_units(&contents) {
        Ok(rows) => rows,
        Err(errors) => return Ok(report_unit_rejection(&file, &errors)),
    };
    let lines: Vec<usize> = rows.iter().map(|(line, _)| *line).collect();
    let inputs: Vec<_> = rows.into_iter().map(|(_, input)| input).collect();
    let row_of = |i: usize| lines[i];
    let new = match register::check_inputs(&inputs, row_of) {
        Ok(new) => new,
        Err(err) => return Ok(report_unit_problem(&file, err)),
    };
    let mut conn = connect(&config).await?;
    let bar = progress_bar(new.len());
    let ticker = bar.clone();
    let mut progress = move |written: usize| ticker.set_position(written as u64);
    let batch = register::Batch { seller: None, dry_run, progress: &mut progress };
    let count = new.len();
    let outcome =
        register::add_units(&mut conn, crate::db::ids::ListingId(listing), new, row_of, batch, chrono::Utc::now())
            .await;
    bar.finish_and_clear();
    match outcome {
        Ok(added) if dry_run => {
            println!("{}: {count} valid unit row(s) for listing {listing}; dry run, nothing written", file.display());
            let _ = added;
        }
        Ok(added) => println!(
            "imported {count} unit(s) from {} into listing {listing} ({} unit(s) in the lot)",
            file.display(),
            added.lot_units
        ),
        Err(err) => return Ok(report_unit_problem(&file, err)),
    }
    Ok(0)
}

/// The same row-level report as the API's `errors`, one line per problem.
fn report_unit_rejection(file: &std::path::Path, errors: &[crate::error::FieldError]) -> i32 {
    eprintln!("{} rejected, nothing was written ({} problem(s)):", file.display(), errors.len());
    for error in errors {
        let row = error.row.map(|r| format!("line {r}: ")).unwrap_or_default();
        let code = error.code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
        eprintln!("  {row}{}: {}{code}", error.field, error.message);
    }
    2
}

fn report_unit_problem(file: &std::path::Path, err: crate::error::ApiError) -> i32 {
    match err {
        crate::error::ApiError::Validation(errors) => report_unit_rejection(file, &errors),
        other => {
            let problem = other.to_problem();
            eprintln!("{} rejected, nothing was written: {} ({})", file.display(), problem.detail, problem.code);
            2
        }
    }
}

async fn import_reference_prices(config: Config, file: PathBuf, dry_run: bool) -> anyhow::Result<i32> {
    let contents = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let kind = csv_import::detect_price_file(&contents).context(
        "unrecognised header: expected `date,tier,usd_per_th,source` or `manufacturer,model,date,basis,amount_usd,note`",
    )?;
    match kind {
        csv_import::PriceFileKind::Tier => {
            let rows = match csv_import::parse_tier_prices(contents.as_bytes()) {
                Ok(rows) => rows,
                Err(errors) => return Ok(report_rejection(&file, &errors)),
            };
            if dry_run {
                println!("{}: {} valid tier price row(s); dry run, nothing written", file.display(), rows.len());
                return Ok(0);
            }
            let mut conn = connect(&config).await?;
            let mut progress = BarProgress(progress_bar(rows.len()));
            let written = seed::import_tier_prices(&mut conn, &rows, &mut progress).await?;
            progress.0.finish_and_clear();
            println!("imported {written} tier price(s) from {}", file.display());
        }
        csv_import::PriceFileKind::Model => {
            let (rows, syntax_errors) = csv_import::parse_model_prices(contents.as_bytes());
            let mut conn = connect(&config).await?;
            let today = chrono::Utc::now().date_naive();
            let (prices, unknown_models) = seed::resolve_model_prices(&mut conn, &rows, today).await?;
            let errors = csv_import::in_file_order(syntax_errors, unknown_models);
            if !errors.is_empty() {
                return Ok(report_rejection(&file, &errors));
            }
            if dry_run {
                println!("{}: {} valid reference price row(s); dry run, nothing written", file.display(), prices.len());
                return Ok(0);
            }
            let mut progress = BarProgress(progress_bar(prices.len()));
            let written = seed::import_model_prices(&mut conn, &prices, &mut progress).await?;
            progress.0.finish_and_clear();
            println!("imported {written} reference price(s) from {}", file.display());
        }
    }
    Ok(0)
}
