//! `GET /v1/me/notifications` and `POST /v1/me/notifications/read`.

use serde_json::json;

use super::{inbox_of, types};
use crate::orders::{confirm_wire, json_with_status, oid, place_ok, ship, Market};
use crate::support::{assert_problem, TestApp};

#[tokio::test]
async fn every_party_finds_each_order_transition_newest_first_with_cursor_pages_and_an_unread_count() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let order = place_ok(&market, 2).await;
    confirm_wire(&market, &order).await;
    ship(&market, &order).await;

    let buyer = inbox_of(app, &market.buyer.token, "").await;
    assert_eq!(types(&buyer), ["order.shipped", "order.paid", "order.placed"]);
    assert_eq!(buyer["unread_count"], 3);
    assert!(buyer["next_cursor"].is_null());
    let first = &buyer["items"][0];
    assert_eq!(first["subject_id"], oid(&order));
    assert!(first["read_at"].is_null() && first["created_at"].is_string(), "{first}");
    let ids: Vec<i64> = buyer["items"].as_array().unwrap().iter().map(|n| n["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "ids decrease: {ids:?}");

    // The seller also heard of the moderation decision that opened the listing.
    let seller = inbox_of(app, &market.seller.token, "").await;
    assert_eq!(types(&seller), ["order.shipped", "order.paid", "order.placed", "listing.approved"]);

    // Cursor pages cover the inbox exactly once.
    let page1 = inbox_of(app, &market.seller.token, "?limit=3").await;
    assert_eq!(types(&page1).len(), 3);
    let cursor = page1["next_cursor"].as_str().expect("a second page");
    let page2 = inbox_of(app, &market.seller.token, &format!("?limit=3&cursor={cursor}")).await;
    assert_eq!(types(&page2), ["listing.approved"]);
    assert!(page2["next_cursor"].is_null());
    assert_eq!(page2["unread_count"], 4, "the count is the whole inbox's");

    // Nobody else sees them.
    let stranger = market.another_buyer("stranger").await;
    let theirs = inbox_of(app, &stranger.token, "").await;
    assert_eq!(theirs["items"], json!([]));
    assert_eq!(theirs["unread_count"], 0);
}

#[tokio::test]
async fn marking_read_by_ids_or_up_to_an_id_is_idempotent_and_touches_only_the_callers_entries() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let order = place_ok(&market, 1).await;
    confirm_wire(&market, &order).await;
    ship(&market, &order).await;
    let buyer = inbox_of(app, &market.buyer.token, "").await;
    let id = |i: usize| buyer["items"][i]["id"].as_i64().unwrap();
    let (shipped, paid, placed) = (id(0), id(1), id(2));
    let seller_entry = inbox_of(app, &market.seller.token, "").await["items"][0]["id"].as_i64().unwrap();

    let token = market.buyer.token.as_str();
    let read = |body: serde_json::Value| read_ok(app, token, body);
    // Another user's id is ignored, not an error and not marked.
    let answer = read(json!({"ids": [paid, seller_entry]})).await;
    assert_eq!(answer, json!({"marked": 1, "unread_count": 2}));
    assert_eq!(read(json!({"ids": [paid]})).await, json!({"marked": 0, "unread_count": 2}), "idempotent");
    assert_eq!(inbox_of(app, &market.seller.token, "").await["unread_count"], 4);

    let unread = inbox_of(app, &market.buyer.token, "?unread_only=true").await;
    assert_eq!(types(&unread), ["order.shipped", "order.placed"]);
    let all = inbox_of(app, &market.buyer.token, "").await;
    assert!(all["items"][1]["read_at"].is_string(), "{all}");

    assert_eq!(read(json!({"up_to": placed})).await, json!({"marked": 1, "unread_count": 1}));
    assert_eq!(read(json!({"up_to": shipped})).await, json!({"marked": 1, "unread_count": 0}));
    assert_eq!(inbox_of(app, &market.buyer.token, "?unread_only=true").await["items"], json!([]));

    for bad in [json!({}), json!({"ids": [1], "up_to": 2}), json!({"ids": (0..101).collect::<Vec<_>>()})] {
        let response = app.post_json("/v1/me/notifications/read", Some(&market.buyer.token), &bad).await;
        assert_problem(response, 422, "validation_failed").await;
    }
    let response = crate::support::accounts::get_bearer(app, "/v1/me/notifications?cursor=nope", &market.buyer.token);
    assert_problem(response.await, 422, "validation_failed").await;
    let anonymous = app.get("/v1/me/notifications").await;
    assert_eq!(anonymous.status().as_u16(), 401);
}

async fn read_ok(app: &TestApp, token: &str, body: serde_json::Value) -> serde_json::Value {
    json_with_status(app.post_json("/v1/me/notifications/read", Some(token), &body).await, 200).await
}
