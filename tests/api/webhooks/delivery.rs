//! Deliveries as a receiver sees them: signed so the reference library verifies
//! them, the event's resource in `data`, only to the parties' subscribed
//! endpoints, both secrets during a rotation, and no attempt made twice by two
//! instances.

use serde_json::{json, Value};

use super::{create_endpoint, deliver, deliveries, id_of, secret_of, send_test, Receiver};
use crate::orders::{party, place_ok, Market};
use crate::support::listings::{create_listing, id_of as listing_id, post_empty, submit};
use crate::support::TestApp;

#[tokio::test]
async fn the_reference_library_verifies_deliveries_and_refuses_tampering_and_old_timestamps() {
    let app = TestApp::builder().allow_private_webhooks().spawn().await;
    let receiver = Receiver::start();
    let owner = party(&app, "integrator").await;
    let endpoint = create_endpoint(&app, &owner.token, &receiver.url("/reply/200"), &["order.paid"]).await;
    let secret = secret_of(&endpoint);
    receiver.control(&[&secret], Some(app.clock.now())).await;

    let queued = send_test(&app, &owner.token, &id_of(&endpoint)).await;
    assert_eq!(queued["status"], "pending");
    app.drain_jobs().await;
    let log = receiver.log().await;
    let [received] = log.as_slice() else { panic!("one request: {log:?}") };
    assert_eq!(received["verified"], json!([true]), "{received}");
    assert_eq!(received["webhook_id"], queued["message_id"]);
    assert_eq!(received["webhook_timestamp"], app.clock.now().timestamp().to_string());
    let body: Value = serde_json::from_str(received["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], "webhook.test");
    assert!(body["id"].is_string() && body["created_at"].is_string() && body["data"].is_object(), "{body}");
    let [delivery] = deliveries(&app, &owner.token, &id_of(&endpoint)).await.try_into().unwrap();
    assert_eq!((delivery["status"].clone(), delivery["attempts"].clone()), (json!("succeeded"), json!(1)));
    assert_eq!(delivery["response_status"], 200);
    assert_eq!(delivery["response_body"], "answer 200");
    assert_eq!(delivery["next_attempt_at"], Value::Null);

    // The same headers over another body, and the same request five minutes
    // and more later: the library refuses both.
    let id = received["webhook_id"].as_str().unwrap();
    let timestamp = received["webhook_timestamp"].as_str().unwrap();
    let signature = received["webhook_signature"].as_str().unwrap();
    let original = received["body"].as_str().unwrap();
    receiver.post_raw(id, timestamp, signature, &original.replace("webhook.test", "webhook.evil")).await;
    receiver.control(&[&secret], Some(app.clock.now() + chrono::Duration::minutes(6))).await;
    receiver.post_raw(id, timestamp, signature, original).await;
    receiver.control(&[&secret], Some(app.clock.now())).await;
    receiver.post_raw(id, timestamp, signature, original).await;
    let log = receiver.log().await;
    let verdicts: Vec<&Value> = log[1..].iter().map(|r| &r["verified"][0]).collect();
    assert!(verdicts[0].as_str().is_some_and(|e| e.contains("signature")), "tampered body: {verdicts:?}");
    assert!(verdicts[1].as_str().is_some_and(|e| e.contains("old")), "old timestamp: {verdicts:?}");
    assert_eq!(verdicts[2], &json!(true), "the untouched request still verifies");
}

#[tokio::test]
async fn an_event_reaches_the_subscribed_endpoints_of_its_parties_with_the_resource() {
    let market = Market::open(TestApp::builder().allow_private_webhooks(), json!({})).await;
    let app = &market.app;
    let receiver = Receiver::start();
    let buyer_hook = create_endpoint(app, &market.buyer.token, &receiver.url("/buyer"), &["order.placed"]).await;
    let seller_hook =
        create_endpoint(app, &market.seller.token, &receiver.url("/seller"), &["order.placed", "order.paid"]).await;
    let bystander = party(app, "bystander").await;
    create_endpoint(app, &bystander.token, &receiver.url("/bystander"), &["order.placed"]).await;
    let _unsubscribed =
        create_endpoint(app, &market.buyer.token, &receiver.url("/shipped-only"), &["order.shipped"]).await;
    receiver.control(&[&secret_of(&buyer_hook), &secret_of(&seller_hook)], Some(app.clock.now())).await;
    deliver(app).await; // what happened before the endpoints existed is not theirs

    let order = place_ok(&market, 1).await;
    deliver(app).await;
    let mut paths: Vec<String> = receiver.log().await.iter().map(|r| r["path"].as_str().unwrap().to_string()).collect();
    paths.sort();
    assert_eq!(paths, ["/buyer", "/seller"], "parties only, subscribed types only");
    for received in receiver.log().await {
        assert!(received["verified"].as_array().unwrap().contains(&json!(true)), "{received}");
        let body: Value = serde_json::from_str(received["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["type"], "order.placed");
        assert_eq!(body["data"]["id"], order["id"], "the order as the API renders it: {body}");
        assert_eq!(body["data"]["status"], "awaiting_payment");
        assert_eq!(body["data"]["total_cents"], order["total_cents"]);
    }
    assert_eq!(deliver(app).await, 1, "an event is fanned out once (only the fan-out job runs)");

    // A moderation decision reaches the seller's listing subscribers.
    let _listings_hook =
        create_endpoint(app, &market.seller.token, &receiver.url("/listings"), &["listing.approved"]).await;
    let draft = create_listing(app, &market.seller.token, json!({})).await;
    submit(app, &market.seller.token, &listing_id(&draft)).await;
    crate::support::listings::approve(app, &market.admin, &listing_id(&draft)).await;
    deliver(app).await;
    let log = receiver.log().await;
    let listing_event = log.iter().find(|r| r["path"] == "/listings").expect("listing.approved delivered");
    let body: Value = serde_json::from_str(listing_event["body"].as_str().unwrap()).unwrap();
    assert_eq!((body["type"].clone(), body["data"]["id"].clone()), (json!("listing.approved"), draft["id"].clone()));
    assert_eq!(body["data"]["status"], "active");
}

#[tokio::test]
async fn during_a_rotation_deliveries_carry_both_signatures_for_a_day() {
    let app = TestApp::builder().allow_private_webhooks().spawn().await;
    let receiver = Receiver::start();
    let owner = party(&app, "integrator").await;
    let endpoint = create_endpoint(&app, &owner.token, &receiver.url("/reply/200"), &["order.paid"]).await;
    let id = id_of(&endpoint);
    let old = secret_of(&endpoint);
    let rotated: Value = post_empty(&app, &format!("/v1/me/webhooks/{id}/rotate-secret"), Some(&owner.token))
        .await
        .json()
        .await
        .unwrap();
    let new = secret_of(&rotated);
    receiver.control(&[&old, &new], Some(app.clock.now())).await;
    send_test(&app, &owner.token, &id).await;
    app.drain_jobs().await;
    let received = receiver.log().await.remove(0);
    assert_eq!(received["verified"], json!([true, true]), "a receiver with either secret accepts it");
    assert_eq!(received["webhook_signature"].as_str().unwrap().split(' ').count(), 2);

    app.clock.advance(chrono::Duration::hours(24));
    receiver.control(&[&old, &new], Some(app.clock.now())).await;
    send_test(&app, &owner.token, &id).await;
    app.drain_jobs().await;
    let received = receiver.log().await.remove(1);
    assert_eq!(received["verified"][1], true, "the new secret signs");
    assert!(received["verified"][0].is_string(), "the old one no longer does: {received}");
    assert_eq!(received["webhook_signature"].as_str().unwrap().split(' ').count(), 1);
}

#[tokio::test]
async fn two_instances_never_make_the_same_attempt_twice() {
    let app = TestApp::builder().allow_private_webhooks().spawn().await;
    let other = app.another_instance().await;
    let receiver = Receiver::start();
    let owner = party(&app, "integrator").await;
    let mut endpoints = Vec::new();
    for name in ["a", "b", "c"] {
        endpoints.push(create_endpoint(&app, &owner.token, &receiver.url(&format!("/{name}")), &["order.paid"]).await);
    }
    let mut expected = Vec::new();
    for _ in 0..8 {
        for endpoint in &endpoints {
            expected.push(send_test(&app, &owner.token, &id_of(endpoint)).await["message_id"].clone());
        }
    }
    // Both drain at once; an attempt deferred because its endpoint was busy
    // comes back a second later.
    for _ in 0..30 {
        let (a, b) = tokio::join!(app.instance.drain_jobs(), other.drain_jobs());
        a.unwrap();
        b.unwrap();
        if receiver.log().await.len() >= expected.len() {
            break;
        }
        app.clock.advance(chrono::Duration::seconds(1));
    }
    let mut received: Vec<Value> = receiver.log().await.iter().map(|r| r["webhook_id"].clone()).collect();
    received.sort_by_key(|v| v.to_string());
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(received, expected, "every message exactly once");
}

#[tokio::test]
async fn offer_events_carry_the_thread_as_the_api_renders_it() {
    use crate::offers::{make_ok, move_ok, offer};
    let market = Market::open(TestApp::builder().allow_private_webhooks(), json!({})).await;
    let app = &market.app;
    let receiver = Receiver::start();
    let seller_hook = create_endpoint(app, &market.seller.token, &receiver.url("/seller"), &["offer.made"]).await;
    let buyer_hook = create_endpoint(app, &market.buyer.token, &receiver.url("/buyer"), &["offer.accepted"]).await;
    receiver.control(&[&secret_of(&seller_hook), &secret_of(&buyer_hook)], Some(app.clock.now())).await;

    let thread = make_ok(&market, &offer(3, 90_000)).await;
    let accepted = move_ok(app, &market.seller.token, &thread, "accept", None).await;
    deliver(app).await;
    let log = receiver.log().await;
    let body_at = |path: &str| -> Value {
        let received = log.iter().find(|r| r["path"] == path).unwrap_or_else(|| panic!("nothing at {path}: {log:?}"));
        assert!(received["verified"].as_array().unwrap().contains(&json!(true)), "{received}");
        serde_json::from_str(received["body"].as_str().unwrap()).unwrap()
    };
    let made = body_at("/seller");
    assert_eq!(made["type"], "offer.made");
    assert_eq!(made["data"]["id"], thread["id"]);
    assert_eq!(made["data"]["versions"][0]["unit_price_cents"], 90_000);
    let taken = body_at("/buyer");
    assert_eq!(taken["type"], "offer.accepted");
    assert_eq!(
        (taken["data"]["status"].clone(), taken["data"]["order_id"].clone()),
        (json!("accepted"), accepted["order_id"].clone())
    );
    assert_eq!(log.len(), 2, "subscribed types only: {log:?}");
}
