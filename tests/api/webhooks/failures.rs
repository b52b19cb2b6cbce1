//! When receivers fail: the retry schedule under the test clock, a receiver
//! that answers 500 or times out and then 200 (it gets the message again, then
//! no more), Retry-After, 410, and three days of failures.

use chrono::Duration;
use serde_json::{json, Value};

use super::{create_endpoint, deliveries, id_of, secret_of, send_test, Receiver};
use crate::orders::party;
use crate::support::listings::{get_as, subjects_for};
use crate::support::TestApp;

/// Moves the clock to the delivery's next attempt (keeping the receiver's
/// timestamp check on the same clock) and runs it.
async fn next_attempt(app: &TestApp, receiver: &Receiver, secret: &str, delivery: &Value) {
    let at: chrono::DateTime<chrono::Utc> = delivery["next_attempt_at"].as_str().unwrap().parse().unwrap();
    app.clock.advance(at - app.clock.now());
    receiver.control(&[secret], Some(at)).await;
    app.drain_jobs().await;
}

async fn only_delivery(app: &TestApp, token: &str, endpoint: &str) -> Value {
    let [delivery] = deliveries(app, token, endpoint).await.try_into().unwrap();
    delivery
}

#[tokio::test]
async fn a_500_then_200_is_retried_on_the_schedule_and_then_stops() {
    let app = TestApp::builder().allow_private_webhooks().spawn().await;
    let receiver = Receiver::start();
    let owner = party(&app, "integrator").await;
    let endpoint = create_endpoint(&app, &owner.token, &receiver.url("/reply/500,500,200"), &["order.paid"]).await;
    let (id, secret) = (id_of(&endpoint), secret_of(&endpoint));
    receiver.control(&[&secret], Some(app.clock.now())).await;
    let start = app.clock.now();
    send_test(&app, &owner.token, &id).await;
    app.drain_jobs().await;
    let delivery = only_delivery(&app, &owner.token, &id).await;
    assert_eq!((delivery["status"].clone(), delivery["attempts"].clone()), (json!("pending"), json!(1)));
    assert_eq!(delivery["response_status"], 500);
    assert_eq!(delivery["response_body"], "answer 500");
    let due: chrono::DateTime<chrono::Utc> = delivery["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due - start, Duration::seconds(5), "the second attempt 5 s later");

    app.clock.advance(Duration::seconds(4));
    assert_eq!(app.drain_jobs().await, 0, "not before it is due");
    next_attempt(&app, &receiver, &secret, &delivery).await;
    let delivery = only_delivery(&app, &owner.token, &id).await;
    let due: chrono::DateTime<chrono::Utc> = delivery["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due - start, Duration::seconds(5 + 300), "the third 5 min after the second");
    next_attempt(&app, &receiver, &secret, &delivery).await;
    let delivery = only_delivery(&app, &owner.token, &id).await;
    assert_eq!((delivery["status"].clone(), delivery["attempts"].clone()), (json!("succeeded"), json!(3)));

    app.clock.advance(Duration::days(4));
    app.drain_jobs().await;
    let log = receiver.log().await;
    assert_eq!(log.len(), 3, "no attempt after the success");
    assert!(log.iter().all(|r| r["webhook_id"] == log[0]["webhook_id"] && r["verified"] == json!([true])));
    let (_, shown) = get_as(&app, &format!("/v1/me/webhooks/{id}"), Some(&owner.token)).await;
    assert_eq!(shown["enabled"], true);
}

#[tokio::test]
async fn a_receiver_that_times_out_gets_the_message_again() {
    let app = TestApp::builder().allow_private_webhooks().spawn().await;
    let receiver = Receiver::start();
    let owner = party(&app, "integrator").await;
    let endpoint = create_endpoint(&app, &owner.token, &receiver.url("/reply/hang20,200"), &["order.paid"]).await;
    let (id, secret) = (id_of(&endpoint), secret_of(&endpoint));
    receiver.control(&[&secret], Some(app.clock.now())).await;
    send_test(&app, &owner.token, &id).await;
    app.drain_jobs().await; // gives up after 15 s
    let delivery = only_delivery(&app, &owner.token, &id).await;
    assert!(delivery["last_error"].as_str().unwrap().contains("timed out"), "{delivery}");
    assert_eq!(delivery["response_status"], Value::Null);
    assert_eq!(delivery["status"], "pending");
    next_attempt(&app, &receiver, &secret, &delivery).await;
    let delivery = only_delivery(&app, &owner.token, &id).await;
    assert_eq!((delivery["status"].clone(), delivery["attempts"].clone()), (json!("succeeded"), json!(2)));
    let log = receiver.log().await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["webhook_id"], log[1]["webhook_id"], "the same message id on the retry");
}

#[tokio::test]
async fn retry_after_on_429_replaces_the_scheduled_wait() {
    let app = TestApp::builder().allow_private_webhooks().spawn().await;
    let receiver = Receiver::start();
    let owner = party(&app, "integrator").await;
    let endpoint = create_endpoint(&app, &owner.token, &receiver.url("/reply/429ra120,200"), &["order.paid"]).await;
    let id = id_of(&endpoint);
    receiver.control(&[&secret_of(&endpoint)], Some(app.clock.now())).await;
    send_test(&app, &owner.token, &id).await;
    app.drain_jobs().await;
    let delivery = only_delivery(&app, &owner.token, &id).await;
    let due: chrono::DateTime<chrono::Utc> = delivery["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due - app.clock.now(), Duration::seconds(120), "{delivery}");
}

#[tokio::test]
async fn a_410_disables_the_endpoint_at_once_and_tells_the_owner() {
    let app = TestApp::builder().allow_private_webhooks().with_smtp().spawn().await;
    let receiver = Receiver::start();
    let owner = party(&app, "integrator").await;
    let endpoint = create_endpoint(&app, &owner.token, &receiver.url("/reply/410"), &["order.paid"]).await;
    let id = id_of(&endpoint);
    receiver.control(&[&secret_of(&endpoint)], Some(app.clock.now())).await;
    send_test(&app, &owner.token, &id).await;
    app.drain_jobs().await;
    let delivery = only_delivery(&app, &owner.token, &id).await;
    assert_eq!((delivery["status"].clone(), delivery["next_attempt_at"].clone()), (json!("failed"), Value::Null));
    let (_, shown) = get_as(&app, &format!("/v1/me/webhooks/{id}"), Some(&owner.token)).await;
    assert_eq!((shown["enabled"].clone(), shown["disabled_reason"].clone()), (json!(false), json!("gone")));
    assert!(subjects_for(&app, &owner.email).iter().any(|s| s.starts_with("Webhook endpoint disabled")));
    app.clock.advance(Duration::days(4));
    app.drain_jobs().await;
    assert_eq!(receiver.log().await.len(), 1, "nothing more is sent");
}

#[tokio::test]
async fn three_days_of_failures_disable_the_endpoint_and_email_the_owner() {
    let app = TestApp::builder().allow_private_webhooks().with_smtp().spawn().await;
    let receiver = Receiver::start();
    let owner = party(&app, "integrator").await;
    let endpoint = create_endpoint(&app, &owner.token, &receiver.url("/reply/500"), &["order.paid"]).await;
    let (id, secret) = (id_of(&endpoint), secret_of(&endpoint));
    receiver.control(&[&secret], Some(app.clock.now())).await;
    let start = app.clock.now();
    send_test(&app, &owner.token, &id).await;
    app.drain_jobs().await;
    let mut delivery = only_delivery(&app, &owner.token, &id).await;
    while delivery["status"] == "pending" {
        next_attempt(&app, &receiver, &secret, &delivery).await;
        delivery = only_delivery(&app, &owner.token, &id).await;
    }
    let sent_at: Vec<i64> =
        receiver.log().await.iter().map(|r| r["webhook_timestamp"].as_str().unwrap().parse().unwrap()).collect();
    let offsets: Vec<i64> = sent_at.iter().map(|t| t - start.timestamp()).collect();
    assert_eq!(
        offsets,
        [0, 5, 305, 2_105, 9_305, 27_305, 63_305, 113_705, 185_705, 272_105],
        "now, 5 s, 5 m, 30 m, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h"
    );
    assert_eq!((delivery["status"].clone(), delivery["attempts"].clone()), (json!("failed"), json!(10)));
    let (_, shown) = get_as(&app, &format!("/v1/me/webhooks/{id}"), Some(&owner.token)).await;
    assert_eq!((shown["enabled"].clone(), shown["disabled_reason"].clone()), (json!(false), json!("failing")));
    app.drain_jobs().await;
    assert!(subjects_for(&app, &owner.email).iter().any(|s| s.starts_with("Webhook endpoint disabled")));

    // Fixed and enabled again, it receives what is sent next.
    let enabled = app.patch_json(&format!("/v1/me/webhooks/{id}"), Some(&owner.token), &json!({"enabled": true})).await;
    assert_eq!(enabled.status(), 200);
}
