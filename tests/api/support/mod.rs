//! The test harness: every test gets its own database, its own app on a loopback
//! port (in this process), a manual clock, and, when asked, a real SMTP listener
//! and a real S3-compatible server.

pub mod access_log;
pub mod accounts;
pub mod btcpay;
pub mod contract;
pub mod database;
mod jobs;
pub mod listings;
pub mod pages;
pub mod proxy;
pub mod s3;
pub mod smtp;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use diesel_async::RunQueryDsl;
use rigmarket::clock::Clock;
use rigmarket::config::Config;
use rigmarket::{AppState, Application, Instance, Roles};
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

pub use database::DatabaseGuard;
pub use smtp::SmtpServer;

/// 2026-01-05 09:00 UTC: a fixed "now" so date-dependent answers are stable.
pub fn default_now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-05T09:00:00Z").unwrap().with_timezone(&Utc)
}

pub fn base_config(database_url: &str) -> Config {
    let mut vars = HashMap::from([
        ("DATABASE_URL".to_string(), database_url.to_string()),
        ("RIGMARKET_HTTP_ADDR".to_string(), "127.0.0.1:0".to_string()),
        ("RIGMARKET_STRATUM_ADDR".to_string(), "127.0.0.1:0".to_string()),
        ("RIGMARKET_PUBLIC_URL".to_string(), "http://127.0.0.1:0".to_string()),
        ("RIGMARKET_CORS_ORIGINS".to_string(), "https://app.rigmarket.test".to_string()),
        ("RIGMARKET_DB_POOL_SIZE".to_string(), "4".to_string()),
    ]);
    vars.insert("RIGMARKET_JSON_LIMIT_BYTES".into(), (64 * 1024).to_string());
    // Tests assert exact retry times.
    vars.insert("RIGMARKET_JOB_RETRY_JITTER".into(), "false".into());
    Config::from_vars(&vars).expect("test config is valid")
}

#[derive(Default)]
pub struct TestAppBuilder {
    smtp: bool,
    s3: bool,
    worker: bool,
    stratum: bool,
    btcpay: bool,
    now: Option<DateTime<Utc>>,
    database_port: Option<u16>,
    web_url: Option<url::Url>,
    webhooks_allow_private: bool,
}

impl TestAppBuilder {
    /// Send mail over SMTP to an in-process listener (default: `.eml` files).
    pub fn with_smtp(mut self) -> Self {
        self.smtp = true;
        self
    }
    /// Store objects in a real S3-compatible server (default: a temp directory).
    pub fn with_s3(mut self) -> Self {
        self.s3 = true;
        self
    }
    /// Run job workers in the background (default: tests drain the queue).
    pub fn with_worker(mut self) -> Self {
        self.worker = true;
        self
    }
    /// Run the Stratum V1 listener on a free port.
    pub fn with_stratum(mut self) -> Self {
        self.stratum = true;
        self
    }
    /// Take BTCPay payments through an in-process mock of the Greenfield API
    /// (webhooks are signed with [`btcpay::WEBHOOK_SECRET`]).
    pub fn with_btcpay(mut self) -> Self {
        self.btcpay = true;
        self
    }
    /// Set `RIGMARKET_WEB_URL` (where email links point).
    pub fn web_url(mut self, url: &str) -> Self {
        self.web_url = Some(url.parse().unwrap());
        self
    }
    /// Let webhook endpoints be plain http on loopback (`RIGMARKET_WEBHOOK_ALLOW_PRIVATE`),
    /// where the tests' receivers listen.
    pub fn allow_private_webhooks(mut self) -> Self {
        self.webhooks_allow_private = true;
        self
    }
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }
    /// Connect to the test database through this local port (a proxy that a
    /// test can cut) instead of PostgreSQL's own.
    pub fn database_port(mut self, port: u16) -> Self {
        self.database_port = Some(port);
        self
    }

    pub async fn spawn(self) -> TestApp {
        access_log::install();
        let db_name = database::create_test_database().await;
        let direct_url = database::database_url(&db_name);
        let guard = DatabaseGuard(db_name);
        let app_url = match self.database_port {
            Some(port) => {
                let mut url = url::Url::parse(&direct_url).unwrap();
                url.set_port(Some(port)).unwrap();
                url.to_string()
            }
            None => direct_url.clone(),
        };
        let mut config = base_config(&app_url);
        config.web_url = self.web_url;
        config.webhooks.allow_private = self.webhooks_allow_private;
        let temp = tempfile::tempdir().unwrap();
        let smtp = if self.smtp {
            let server = SmtpServer::start().await;
            config.mail.transport = rigmarket::config::MailTransportConfig::Smtp { url: server.url().into() };
            Some(server)
        } else {
            config.mail.transport = rigmarket::config::MailTransportConfig::Files { dir: temp.path().join("mail") };
            None
        };
        let s3 = if self.s3 {
            let server = s3::S3Server::start().await;
            config.storage = rigmarket::config::StorageConfig::S3(rigmarket::config::S3Config {
                endpoint: server.endpoint.parse().unwrap(),
                bucket: s3::BUCKET.into(),
                region: "us-east-1".into(),
                access_key: s3::ACCESS_KEY.into(),
                secret_key: s3::SECRET_KEY.to_string().into(),
            });
            Some(server)
        } else {
            config.storage = rigmarket::config::StorageConfig::Local { dir: temp.path().join("storage") };
            None
        };
        let btcpay = if self.btcpay {
            let mock = btcpay::BtcpayMock::start().await;
            config.btcpay = Some(mock.config(btcpay::WEBHOOK_SECRET));
            Some(mock)
        } else {
            None
        };
        let clock = Clock::manual(self.now.unwrap_or_else(default_now));
        let app =
            Application::build(config, clock.clone(), Roles { http: true, worker: self.worker, stratum: self.stratum })
                .await
                .expect("build the app");
        let address = format!("http://127.0.0.1:{}", app.http_port().unwrap());
        let instance = app.instance().clone();
        let state = instance.state.clone();
        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn(app.run_until_stopped(stopped));
        TestApp {
            address,
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            state,
            instance,
            clock,
            direct_database_url: direct_url,
            smtp,
            btcpay,
            _s3: s3,
            stray_jobs_allowed: AtomicBool::new(false),
            stop,
            running: Some(running),
            _temp: temp,
            _guard: guard,
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// This app's process: its state, services and job runner.
    pub instance: Instance,
    pub clock: Clock,
    pub direct_database_url: String,
    pub smtp: Option<SmtpServer>,
    pub btcpay: Option<btcpay::BtcpayMock>,
    _s3: Option<s3::S3Server>,
    /// Set by the queue's own tests (see `allow_stray_jobs`).
    stray_jobs_allowed: AtomicBool,
    stop: watch::Sender<bool>,
    running: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _temp: tempfile::TempDir,
    // Declared last so the database is dropped after the app lets go of it.
    _guard: DatabaseGuard,
}

pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn patch_json(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self.client.patch(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn conn(&self) -> rigmarket::db::DbConn {
        self.state.pool.get().await.expect("pool connection")
    }

    /// Creates a verified account directly in the database and returns its id
    /// and an access token.
    pub async fn create_user(&self, email: &str, roles: &[&str]) -> (Uuid, String) {
        use diesel::ExpressionMethods;
        use rigmarket::db::schema::users;
        let id = Uuid::now_v7();
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        diesel::insert_into(users::table)
            .values((
                users::id.eq(id),
                users::email.eq(email.to_lowercase()),
                users::display_name.eq(email.split('@').next().unwrap()),
                users::roles.eq(&roles),
                users::email_verified_at.eq(Some(self.clock.now())),
            ))
            .execute(&mut self.conn().await)
            .await
            .expect("insert user");
        (id, self.session_for(email).await)
    }

    /// A new session (access token) for an existing account, as a login would.
    pub async fn session_for(&self, email: &str) -> String {
        use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
        use rigmarket::accounts::model::UserRow;
        use rigmarket::db::schema::users;
        let user: UserRow = users::table
            .filter(users::email.eq(email.to_lowercase()))
            .select(UserRow::as_select())
            .first(&mut *self.conn().await)
            .await
            .expect("load user");
        let config = &self.state.config;
        rigmarket::accounts::sessions::start(
            &mut *self.conn().await,
            config,
            &user,
            &Default::default(),
            self.clock.now(),
        )
        .await
        .expect("start a session")
        .access_token
    }

    /// A session opened 400 days ahead of the clock, for tests that move the
    /// clock through weeks of an order's life without logging in again (access
    /// token expiry itself is tested in `accounts::sessions`).
    pub async fn long_session_for(&self, email: &str) -> String {
        use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
        use rigmarket::accounts::model::UserRow;
        use rigmarket::db::schema::users;
        let user: UserRow = users::table
            .filter(users::email.eq(email.to_lowercase()))
            .select(UserRow::as_select())
            .first(&mut *self.conn().await)
            .await
            .expect("load user");
        let opened = self.clock.now() + chrono::Duration::days(400);
        rigmarket::accounts::sessions::start(
            &mut *self.conn().await,
            &self.state.config,
            &user,
            &Default::default(),
            opened,
        )
        .await
        .expect("start a session")
        .access_token
    }

    pub async fn admin_token(&self) -> String {
        self.create_user(&format!("admin-{}@rigmarket.test", Uuid::new_v4().simple()), &["admin"]).await.1
    }

    /// A second process of the same deployment (another `serve` or `worker`): its
    /// own pool and mailer, the same database, mail transport, storage and clock.
    pub async fn another_instance(&self) -> Instance {
        let mut config = (*self.state.config).clone();
        config.database_url = self.direct_database_url.clone().into();
        Instance::new(config, self.clock.clone()).await.expect("build a second instance")
    }

    /// Runs every due job now (the clock decides what is due).
    pub async fn drain_jobs(&self) -> usize {
        self.instance.drain_jobs().await.expect("drain jobs")
    }

    /// Registers the periodic schedule, as a worker does at start-up.
    pub async fn register_periodic(&self) {
        self.instance.jobs.register_periodic().await.expect("register the periodic schedule");
    }

    /// For the job queue's own tests, which plant jobs of kinds nobody handles
    /// and make them fail on purpose: skips the teardown check for stray jobs.
    pub fn allow_stray_jobs(&self) {
        AtomicBool::store(&self.stray_jobs_allowed, true, Ordering::Relaxed);
    }

    /// Stops the app as SIGTERM would and waits for it.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(running) = self.running.take() {
            running.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(running) = self.running.take() {
            running.abort();
        }
        if std::thread::panicking() {
            return;
        }
        let undocumented = contract::findings();
        assert!(
            undocumented.is_empty(),
            "answers the OpenAPI document does not describe:\n{}",
            undocumented.join("\n")
        );
        if AtomicBool::load(&self.stray_jobs_allowed, Ordering::Relaxed) {
            return;
        }
        let stray = jobs::stray_jobs(&self.direct_database_url, self.instance.jobs.clone());
        assert!(stray.is_empty(), "the test left unexpected jobs behind:\n{}", stray.join("\n"));
    }
}

/// Asserts a problem+json answer with this status and code; returns the body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status for expected code {code}");
    let content_type = response.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    body
}
