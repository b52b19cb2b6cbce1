//! `kill -9` of a worker in the middle of a delivery loses nothing: the attempt
//! rolls back with the process, and the next worker sends the message again
//! with the same `webhook-id` (at least once).

use std::process::{Child, Command};
use std::time::Duration;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::{create_endpoint, id_of, secret_of, send_test, Receiver};
use crate::orders::party;
use crate::support::TestApp;

const BINARY: &str = env!("CARGO_BIN_EXE_rigmarket");

/// A real `rigmarket worker` on the test's database (system clock).
fn worker(app: &TestApp, dir: &std::path::Path) -> Child {
    Command::new(BINARY)
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.direct_database_url)
        .env("RIGMARKET_MAIL_DIR", dir.join("mail"))
        .env("RIGMARKET_STORAGE_DIR", dir.join("storage"))
        .env("RIGMARKET_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start rigmarket worker")
}

async fn wait_for_requests(receiver: &Receiver, count: usize) -> Vec<serde_json::Value> {
    for _ in 0..240 {
        let log = receiver.log().await;
        if log.len() >= count {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the receiver did not get {count} request(s) within a minute");
}

#[tokio::test]
async fn a_worker_killed_mid_delivery_loses_no_message() {
    let app = TestApp::builder().allow_private_webhooks().spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let owner = party(&app, "integrator").await;
    // The first request hangs (the worker is killed during it); later ones succeed.
    let endpoint = create_endpoint(&app, &owner.token, &receiver.url("/reply/hang60,200"), &["order.paid"]).await;
    receiver.control(&[&secret_of(&endpoint)], None).await; // the workers sign with the system clock
    let queued = send_test(&app, &owner.token, &id_of(&endpoint)).await;

    let mut first = worker(&app, dir.path());
    wait_for_requests(&receiver, 1).await;
    first.kill().expect("SIGKILL the worker"); // Child::kill is SIGKILL
    first.wait().unwrap();

    let mut second = worker(&app, dir.path());
    let log = wait_for_requests(&receiver, 2).await;
    use rigmarket::db::schema::webhook_deliveries;
    let mut status = String::new();
    for _ in 0..120 {
        status =
            webhook_deliveries::table.select(webhook_deliveries::status).first(&mut *app.conn().await).await.unwrap();
        if status == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(status, "succeeded");
    assert!(log.iter().all(|r| r["webhook_id"] == queued["message_id"]), "the same webhook-id: {log:?}");
    assert!(log.iter().all(|r| r["verified"] == serde_json::json!([true])), "{log:?}");
    app.allow_stray_jobs(); // the workers' periodic tasks stay queued
}
