//! Concurrency with two app instances on one database: no oversold unit, one
//! order per Idempotency-Key, each timer fired once.

use std::collections::HashMap;

use chrono::Duration;
use futures_util::future::join_all;
use serde_json::json;

use super::*;
use crate::support::accounts::SecondInstance;

async fn place_at(client: &reqwest::Client, base: &str, token: &str, key: &str, body: &Value) -> (u16, Value) {
    let response = client
        .post(format!("{base}/v1/orders"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn fifty_buyers_racing_for_the_last_ten_units_on_two_instances_get_exactly_ten() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 12})).await;
    let app = &market.app;
    place_ok(&market, 2).await;
    assert_eq!(units(app, &market.listing).await, (10, 2, 0));
    let second = SecondInstance::start(app, app.clock.now()).await;
    let mut buyers = Vec::new();
    for i in 0..50 {
        buyers.push(party(app, &format!("racer{i}")).await);
    }
    let body = order_body(&market.listing, 1, "wire");
    let answers = join_all(buyers.iter().enumerate().map(|(i, buyer)| {
        let base = if i % 2 == 0 { app.address.clone() } else { second.address.clone() };
        let (client, body) = (app.client.clone(), body.clone());
        async move { place_at(&client, &base, &buyer.token, &format!("race-{i}"), &body).await }
    }))
    .await;

    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for (status, body) in &answers {
        *by_status.entry(*status).or_default() += 1;
        match status {
            201 => assert_eq!(body["quantity"], 1),
            409 => assert_eq!(body["code"], "insufficient_quantity", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(by_status.get(&201), Some(&10), "{by_status:?}");
    assert_eq!(by_status.get(&409), Some(&40), "{by_status:?}");
    assert_eq!(units(app, &market.listing).await, (0, 12, 0));
    assert_eq!(order_count(app).await, 11);
    let (_, listing) = crate::support::listings::get_as(app, &format!("/v1/listings/{}", market.listing), None).await;
    assert_eq!(listing["status"], "sold_out");
    second.shutdown().await;
}

#[tokio::test]
async fn the_same_idempotency_key_fired_twenty_times_at_once_creates_one_order() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 50})).await;
    let app = &market.app;
    let second = SecondInstance::start(app, app.clock.now()).await;
    let body = order_body(&market.listing, 3, "wire");
    let answers = join_all((0..20).map(|i| {
        let base = if i % 2 == 0 { app.address.clone() } else { second.address.clone() };
        let (client, body, token) = (app.client.clone(), body.clone(), market.buyer.token.clone());
        async move { place_at(&client, &base, &token, "one-key", &body).await }
    }))
    .await;
    let created: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 201).map(|(_, b)| b).collect();
    assert!(!created.is_empty(), "{answers:?}");
    assert!(created.iter().all(|b| b["id"] == created[0]["id"]), "every 201 is the same order");
    for (status, body) in &answers {
        assert!(*status == 201 || (*status == 409 && body["code"] == "idempotency_key_in_use"), "{status} {body}");
    }
    assert_eq!(order_count(app).await, 1);
    assert_eq!(units(app, &market.listing).await, (47, 3, 0));
    second.shutdown().await;
}

#[tokio::test]
async fn two_instances_draining_the_queue_together_fire_each_timer_once() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({"quantity": 40})).await;
    let app = &market.app;
    let mut orders = Vec::new();
    for _ in 0..20 {
        orders.push(place_ok(&market, 2).await);
    }
    let other = app.another_instance().await;
    app.drain_jobs().await; // the placement emails
    let smtp = app.smtp.as_ref().unwrap();
    let mails_before = smtp.received().len();

    app.clock.advance(Duration::hours(48));
    let (mine, theirs) = tokio::join!(app.instance.drain_jobs(), other.drain_jobs());
    let ran = mine.unwrap() + theirs.unwrap();
    // Per order: a reminder and an expiry, then the reminder mail and two expiry mails.
    assert!(ran >= 20 * 5, "{ran} jobs ran");
    for order in &orders {
        let history = events(app, &market.buyer.token, &oid(order)).await;
        let expiries = history.iter().filter(|e| e.1 == "expired").count();
        assert_eq!(expiries, 1, "order {} expired {expiries} times", oid(order));
    }
    assert_eq!(units(app, &market.listing).await, (40, 0, 0), "each reservation released once");
    let mails = smtp.received().len() - mails_before;
    assert_eq!(mails, 20 * 3, "one reminder and one expiry notice per party, per order");
    assert_eq!(other.drain_jobs().await.unwrap(), 0, "nothing left to fire");
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn a_price_change_while_an_order_is_being_placed_refuses_the_order_instead_of_deadlocking() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let market = Market::open(TestApp::builder(), json!({"quantity": 10, "unit_price_cents": 95_000})).await;
    let app = &market.app;
    // Hold the placement for a moment after it wrote the order, before it reserves.
    let mut admin = AsyncPgConnection::establish(&app.direct_database_url).await.unwrap();
    for statement in [
        "CREATE FUNCTION placement_pause() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM pg_sleep(1.5); RETURN NULL; END $$",
        "CREATE TRIGGER placement_pause AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION placement_pause()",
    ] {
        diesel::sql_query(statement).execute(&mut admin).await.unwrap();
    }
    let placing = {
        let (client, url, token) = (app.client.clone(), app.url("/v1/orders"), market.buyer.token.clone());
        let body = order_body(&market.listing, 2, "wire");
        tokio::spawn(async move {
            let response =
                client.post(url).bearer_auth(token).header("Idempotency-Key", "during-edit").json(&body).send().await;
            let response = response.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // The seller cuts the price meanwhile; the edit is not blocked by the placement.
    let edit = app
        .patch_json(
            &format!("/v1/listings/{}", market.listing),
            Some(&market.seller.token),
            &json!({"unit_price_cents": 80_000}),
        )
        .await;
    assert_eq!(edit.status(), 200);
    assert!(!placing.is_finished(), "the edit went through while the placement was still running");
    let (status, body) = placing.await.unwrap();
    assert_eq!((status, body["code"].as_str()), (409, Some("listing_changed")), "{body}");
    diesel::sql_query("DROP TRIGGER placement_pause ON orders").execute(&mut admin).await.unwrap();
    assert_eq!(order_count(app).await, 0);
    assert_eq!(units(app, &market.listing).await, (10, 0, 0));
    let order = place_ok(&market, 2).await;
    assert_eq!(order["unit_price_cents"], 80_000, "a fresh attempt gets the new price");
}
