//! Account helpers: register over HTTP, read the emailed link from the SMTP
//! listener and click it, log in, read the audit log, and start a second
//! instance of the app on the same database.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rigmarket::audit::AuditEntry;
use rigmarket::clock::Clock;
use rigmarket::db::schema::{audit_log, users};
use rigmarket::{Application, Roles};
use serde_json::{json, Value};
use tokio::sync::watch;
use uuid::Uuid;

use super::smtp::ReceivedMail;
use super::TestApp;

/// A password that satisfies the policy.
pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
}

impl TokenPair {
    pub fn from_json(body: &Value) -> Self {
        Self {
            access_token: body["access_token"].as_str().unwrap_or_else(|| panic!("no access_token: {body}")).into(),
            refresh_token: body["refresh_token"].as_str().unwrap_or_else(|| panic!("no refresh_token: {body}")).into(),
        }
    }
}

pub async fn register(app: &TestApp, email: &str, password: &str, display_name: &str) -> reqwest::Response {
    app.post_json(
        "/v1/auth/register",
        None,
        &json!({"email": email, "password": password, "display_name": display_name}),
    )
    .await
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_json("/v1/auth/login", None, &json!({"email": email, "password": password})).await
}

/// Logs in and expects success.
pub async fn login_ok(app: &TestApp, email: &str, password: &str) -> TokenPair {
    let response = login(app, email, password).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "login of {email}: {body}");
    TokenPair::from_json(&body)
}

pub async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.post_json("/v1/auth/refresh", None, &json!({"refresh_token": refresh_token})).await
}

/// `GET path` with `Authorization: Bearer token`.
pub async fn get_bearer(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client.get(app.url(path)).bearer_auth(token).send().await.expect("request sent")
}

/// `GET path` with `X-Api-Key: key`.
pub async fn get_with_key(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.client.get(app.url(path)).header("x-api-key", key).send().await.expect("request sent")
}

/// The status of `GET /v1/me` with this access token.
pub async fn me_status(app: &TestApp, token: &str) -> u16 {
    get_bearer(app, "/v1/me", token).await.status().as_u16()
}

/// Runs the outbox, then returns every message delivered to `address` whose
/// subject contains `subject` (oldest first). Needs `with_smtp()`.
pub async fn mails_for(app: &TestApp, address: &str, subject: &str) -> Vec<ReceivedMail> {
    let smtp = app.smtp.as_ref().expect("build the app with_smtp() to read mail");
    app.drain_jobs().await;
    smtp.received_for(address)
        .into_iter()
        .filter(|m| m.header("Subject").unwrap_or_default().contains(subject))
        .collect()
}

/// The decoded text/plain part of a message.
pub fn text_of(mail: &ReceivedMail) -> String {
    mail.part("text/plain").unwrap_or_else(|| panic!("no text/plain part in:\n{}", mail.data))
}

/// The `token` query parameter of the first link to `path` (e.g. `/verify-email`)
/// in the message's text part.
pub fn link_token(mail: &ReceivedMail, path: &str) -> String {
    let text = text_of(mail);
    let link = text
        .split_whitespace()
        .filter(|word| word.starts_with("http"))
        .filter_map(|word| url::Url::parse(word).ok())
        .find(|url| url.path() == path)
        .unwrap_or_else(|| panic!("no {path} link in:\n{text}"));
    link.query_pairs()
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no token in {link}"))
}

/// The token of the newest verification email sent to `email`.
pub async fn verification_token(app: &TestApp, email: &str) -> String {
    let mails = mails_for(app, email, "Confirm your email").await;
    link_token(mails.last().unwrap_or_else(|| panic!("no verification email for {email}")), "/verify-email")
}

/// The token of the newest password reset email sent to `email`.
pub async fn reset_token(app: &TestApp, email: &str) -> String {
    let mails = mails_for(app, email, "Reset your rigmarket password").await;
    link_token(mails.last().unwrap_or_else(|| panic!("no reset email for {email}")), "/reset-password")
}

pub async fn verify_email(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/v1/auth/verify-email", None, &json!({"token": token})).await
}

/// Registers `email` (password [`PASSWORD`]) over HTTP, clicks the link in the
/// verification email and logs in. Needs `with_smtp()`.
pub async fn register_and_verify(app: &TestApp, email: &str) -> TokenPair {
    let display_name = email.split('@').next().unwrap();
    let response = register(app, email, PASSWORD, display_name).await;
    assert_eq!(response.status().as_u16(), 201, "register {email}: {}", response.text().await.unwrap_or_default());
    let token = verification_token(app, email).await;
    let response = verify_email(app, &token).await;
    assert_eq!(response.status().as_u16(), 204, "verify {email}: {}", response.text().await.unwrap_or_default());
    login_ok(app, email, PASSWORD).await
}

/// The id of the account with this email.
pub async fn user_id(app: &TestApp, email: &str) -> Uuid {
    users::table
        .filter(users::email.eq(email.to_lowercase()))
        .select(users::id)
        .first(&mut *app.conn().await)
        .await
        .unwrap_or_else(|e| panic!("no account for {email}: {e}"))
}

pub async fn count_users(app: &TestApp) -> i64 {
    users::table.count().get_result(&mut *app.conn().await).await.unwrap()
}

/// Every audit entry, oldest first.
pub async fn audit_entries(app: &TestApp) -> Vec<AuditEntry> {
    audit_log::table
        .select(AuditEntry::as_select())
        .order(audit_log::id.asc())
        .load(&mut *app.conn().await)
        .await
        .unwrap()
}

/// Audit entries with this action, oldest first.
pub async fn audit_entries_for(app: &TestApp, action: &str) -> Vec<AuditEntry> {
    audit_entries(app).await.into_iter().filter(|e| e.action == action).collect()
}

/// The JSON payload of a JWT, decoded without checking anything.
pub fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

pub fn jwt_header(token: &str) -> Value {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).expect("base64url header");
    serde_json::from_slice(&bytes).expect("JSON header")
}

/// Another `serve` process of the same deployment: its own HTTP port, pool and
/// (manual) clock, the same database.
pub struct SecondInstance {
    pub address: String,
    pub clock: Clock,
    stop: watch::Sender<bool>,
    running: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _temp: tempfile::TempDir,
}

impl SecondInstance {
    pub async fn start(app: &TestApp, now: DateTime<Utc>) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let mut config = super::base_config(&app.direct_database_url);
        // One deployment, one public URL: tokens issued by either instance are valid on both.
        config.public_url = app.state.config.public_url.clone();
        config.mail.transport = rigmarket::config::MailTransportConfig::Files { dir: temp.path().join("mail") };
        config.storage = rigmarket::config::StorageConfig::Local { dir: temp.path().join("storage") };
        let clock = Clock::manual(now);
        let instance = Application::build(config, clock.clone(), Roles { http: true, worker: false, stratum: false })
            .await
            .expect("build the second instance");
        let address = format!("http://127.0.0.1:{}", instance.http_port().unwrap());
        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn(instance.run_until_stopped(stopped));
        Self { address, clock, stop, running: Some(running), _temp: temp }
    }

    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(running) = self.running.take() {
            running.await.unwrap().unwrap();
        }
    }
}

impl Drop for SecondInstance {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(running) = self.running.take() {
            running.abort();
        }
    }
}
