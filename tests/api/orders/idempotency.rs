//! `Idempotency-Key` on placement: required, replayed for the same body, refused
//! for another body, 409 while the first request still runs, scoped per user.

use diesel_async::AsyncConnection;
use rigmarket::idempotency::{self, KeyUse};
use rigmarket::orders::input::PlaceOrder;
use serde_json::json;

use super::*;
use crate::support::assert_problem;

#[tokio::test]
async fn the_same_key_and_body_replay_the_first_answer_and_create_one_order() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let body = order_body(&market.listing, 2, "wire");
    let first = place(app, &market.buyer.token, Some("order-1"), &body).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    // The answer is rendered from what placement holds: it is the order as it reads back.
    assert_eq!(get_order(app, &market.buyer.token, &oid(&first)).await, (200, first.clone()));

    // Equal after normalisation (whitespace, case of the country) counts as the same body.
    let mut same = body.clone();
    same["shipping_address"]["country"] = json!("kz");
    same["shipping_address"]["city"] = json!("  Ekibastuz ");
    let again = place(app, &market.buyer.token, Some("order-1"), &same).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first answer, byte for byte");
    assert_eq!(order_count(app).await, 1);
    assert_eq!(units(app, &market.listing).await, (8, 2, 0), "reserved once");

    // The replay stays the first answer even after the order moved on.
    confirm_wire(&market, &first).await;
    let later: Value = place(app, &market.buyer.token, Some("order-1"), &body).await.json().await.unwrap();
    assert_eq!(later["status"], "awaiting_payment");
    assert_eq!(later["id"], first["id"]);

    let other_body = order_body(&market.listing, 3, "wire");
    assert_problem(place(app, &market.buyer.token, Some("order-1"), &other_body).await, 422, "idempotency_key_reused")
        .await;
    // Keys belong to their user: another buyer's "order-1" is a new order.
    let other = market.another_buyer("other").await;
    let theirs: Value = json_with_status(place(app, &other.token, Some("order-1"), &body).await, 201).await;
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(order_count(app).await, 2);
}

#[tokio::test]
async fn a_missing_or_unusable_key_is_refused_before_anything_is_written() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let body = order_body(&market.listing, 1, "wire");
    assert_problem(place(app, &market.buyer.token, None, &body).await, 400, "idempotency_key_required").await;
    let long = "k".repeat(256);
    assert_problem(place(app, &market.buyer.token, Some(&long), &body).await, 400, "invalid_idempotency_key").await;
    assert_problem(place(app, &market.buyer.token, Some("   "), &body).await, 400, "invalid_idempotency_key").await;
    assert_eq!(order_count(app).await, 0);
    assert_eq!(units(app, &market.listing).await, (10, 0, 0));
}

#[tokio::test]
async fn a_key_whose_first_request_is_still_running_is_409_and_free_again_if_that_request_dies() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let body = order_body(&market.listing, 1, "wire");
    let parsed: PlaceOrder = serde_json::from_value(body.clone()).unwrap();
    let hash = idempotency::request_hash(rigmarket::orders::place::ROUTE, &parsed.normalized());
    let key = KeyUse { user: market.buyer.id.into(), key: "slow-one", request_hash: &hash };

    // Another "request" holds the key inside its transaction, as a placement in flight does.
    let mut holder = diesel_async::AsyncPgConnection::establish(&app.direct_database_url).await.unwrap();
    holder.begin_test_transaction().await.unwrap();
    assert!(idempotency::claim(&mut holder, key).await.unwrap().is_none(), "nothing stored yet");
    assert_problem(place(app, &market.buyer.token, Some("slow-one"), &body).await, 409, "idempotency_key_in_use").await;
    assert_eq!(order_count(app).await, 0);

    // It dies without committing (its transaction rolls back): the key is free
    // and the retry places the order.
    diesel_async::RunQueryDsl::execute(diesel::sql_query("ROLLBACK"), &mut holder).await.unwrap();
    json_with_status(place(app, &market.buyer.token, Some("slow-one"), &body).await, 201).await;
    assert_eq!(order_count(app).await, 1);
}
