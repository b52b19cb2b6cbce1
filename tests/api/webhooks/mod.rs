//! Outbound webhooks end to end: endpoints over HTTP, deliveries verified by a
//! receiver that uses the Standard Webhooks reference library (`receiver.py`,
//! PyPI `standardwebhooks`, in a venv `venv.sh` creates once), retries under
//! the test clock, disabling, rotation, SSRF refusals, two instances, and a
//! worker killed with SIGKILL mid-delivery.

mod crash;
mod delivery;
mod endpoints;
mod failures;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::support::TestApp;

/// The Python interpreter of the venv with `standardwebhooks` (created on first use).
fn venv_python() -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/webhooks/venv.sh");
    let output = Command::new("bash").arg(script).output().expect("run venv.sh");
    assert!(output.status.success(), "venv.sh failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A receiver process on a free loopback port; stopped when dropped.
pub struct Receiver {
    child: Child,
    pub port: u16,
    client: reqwest::Client,
}

impl Receiver {
    pub fn start() -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/webhooks/receiver.py");
        let mut child = Command::new(venv_python())
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("the receiver's port");
        let port = line.trim().parse().unwrap_or_else(|_| panic!("receiver printed {line:?}"));
        Self { child, port, client: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The secrets it verifies with and the time its timestamp check uses.
    pub async fn control(&self, secrets: &[&str], now: Option<chrono::DateTime<chrono::Utc>>) {
        let body = json!({ "secrets": secrets, "now": now.map(|n| n.timestamp()) });
        let answer = self.client.post(self.url("/_control")).json(&body).send().await.unwrap();
        assert_eq!(answer.status(), 204);
    }

    /// Every request received so far.
    pub async fn log(&self) -> Vec<Value> {
        self.client.get(self.url("/_log")).send().await.unwrap().json().await.unwrap()
    }

    /// Sends a request as a sender would (to test the verification itself).
    pub async fn post_raw(&self, id: &str, timestamp: &str, signature: &str, body: &str) {
        self.client
            .post(self.url("/raw"))
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp)
            .header("webhook-signature", signature)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Registers an endpoint; returns its JSON (with the secret).
pub async fn create_endpoint(app: &TestApp, token: &str, url: &str, types: &[&str]) -> Value {
    let response = app.post_json("/v1/me/webhooks", Some(token), &json!({ "url": url, "event_types": types })).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

pub fn secret_of(endpoint: &Value) -> String {
    endpoint["secret"].as_str().expect("a secret").to_string()
}

pub fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_string()
}

/// Fans the recorded events out and runs every due job (deliveries included).
pub async fn deliver(app: &TestApp) -> usize {
    use rigmarket::events::FanOutEvents;
    let mut conn = app.conn().await;
    rigmarket::jobs::enqueue(&mut conn, &FanOutEvents::default(), app.clock.now()).await.unwrap();
    drop(conn);
    app.drain_jobs().await
}

/// The endpoint's delivery log (first page).
pub async fn deliveries(app: &TestApp, token: &str, endpoint: &str) -> Vec<Value> {
    let response =
        app.client.get(app.url(&format!("/v1/me/webhooks/{endpoint}/deliveries"))).bearer_auth(token).send().await;
    let body: Value = response.unwrap().json().await.unwrap();
    body["items"].as_array().unwrap_or_else(|| panic!("no items in {body}")).clone()
}

pub async fn send_test(app: &TestApp, token: &str, endpoint: &str) -> Value {
    let response =
        crate::support::listings::post_empty(app, &format!("/v1/me/webhooks/{endpoint}/test"), Some(token)).await;
    assert_eq!(response.status(), 202);
    response.json().await.unwrap()
}
