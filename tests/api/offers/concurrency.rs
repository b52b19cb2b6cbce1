//! Races on two instances of one database: each ends in exactly one outcome.

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::support::accounts::SecondInstance;
use crate::support::TestApp;

async fn post_at(app: &TestApp, base: &str, token: &str, path: &str) -> (u16, Value) {
    let response = app.client.post(format!("{base}{path}")).bearer_auth(token).send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_seller_accepting_while_the_buyer_withdraws_ends_one_way() {
    for round in 0..4 {
        let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
        let app = &market.app;
        let second = SecondInstance::start(app, app.clock.now()).await;
        let thread = make_ok(&market, &offer(3, 80_000)).await;
        let id = tid(&thread);
        let (accept_path, withdraw_path) = (format!("/v1/offers/{id}/accept"), format!("/v1/offers/{id}/withdraw"));
        let (accept, withdraw) = tokio::join!(
            post_at(app, &app.address, &market.seller.token, &accept_path),
            post_at(app, &second.address, &market.buyer.token, &withdraw_path),
        );
        let outcome = get_thread(app, &market.buyer.token, &thread).await;
        match (accept.0, withdraw.0) {
            (200, 409) => {
                assert_eq!(outcome["status"], "accepted");
                assert_eq!(withdraw.1["code"], "offer_closed");
                assert_eq!(order_count(app).await, 1);
                assert_eq!(units(app, &market.listing).await, (7, 3, 0));
            }
            (409, 200) => {
                assert_eq!(outcome["status"], "withdrawn");
                assert_eq!(accept.1["code"], "offer_closed");
                assert_eq!(order_count(app).await, 0);
                assert_eq!(units(app, &market.listing).await, (10, 0, 0));
            }
            other => panic!("round {round}: not exactly one outcome: {other:?} {accept:?} {withdraw:?}"),
        }
        second.shutdown().await;
    }
}

#[tokio::test]
async fn the_seller_accepting_two_threads_for_the_last_units_sells_them_once() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let second = SecondInstance::start(app, app.clock.now()).await;
    crate::orders::place_ok(&market, 6).await;
    let other = market.another_buyer("other").await;
    let mine = make_ok(&market, &offer(4, 80_000)).await;
    let theirs = json_with_status(make(app, &other.token, &market.listing, &offer(3, 82_000)).await, 201).await;
    let (path_a, path_b) = (format!("/v1/offers/{}/accept", tid(&mine)), format!("/v1/offers/{}/accept", tid(&theirs)));
    let (a, b) = tokio::join!(
        post_at(app, &app.address, &market.seller.token, &path_a),
        post_at(app, &second.address, &market.seller.token, &path_b),
    );
    let statuses = [a.0, b.0];
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{a:?} {b:?}");
    let loser = if a.0 == 200 { &b } else { &a };
    assert_eq!(loser.0, 409, "{loser:?}");
    assert_eq!(loser.1["code"], "offer_closed", "voided by the other acceptance: {loser:?}");
    let (available, reserved, _) = units(app, &market.listing).await;
    assert!(available >= 0 && reserved <= 10, "never oversold");
    assert_eq!(order_count(app).await, 2);
    let losing_thread = if a.0 == 200 { &theirs } else { &mine };
    let token = if a.0 == 200 { &other.token } else { &market.buyer.token };
    let voided = get_thread(app, token, losing_thread).await;
    assert_eq!((voided["status"].as_str(), voided["close_reason"].as_str()), (Some("voided"), Some("units_gone")));
    second.shutdown().await;
}

#[tokio::test]
async fn the_expiry_timer_racing_an_accept_ends_one_way() {
    for offset in [Duration::seconds(-1), Duration::zero()] {
        let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
        let app = &market.app;
        let mut body = offer(3, 80_000);
        body["expires_in"] = json!(3600);
        let thread = make_ok(&market, &body).await;
        let second = SecondInstance::start(app, app.clock.now()).await;
        let other = app.another_instance().await;
        // The clock stands at the expiry (or a second before it); the timer job
        // is due on the other worker while the seller accepts.
        let by = Duration::hours(1) + offset;
        app.clock.advance(by);
        second.clock.advance(by);
        let path = format!("/v1/offers/{}/accept", tid(&thread));
        let (accept, _) = tokio::join!(post_at(app, &second.address, &market.seller.token, &path), other.drain_jobs());
        // Whatever is still due runs once the clock passes the expiry.
        app.clock.advance(Duration::seconds(2));
        app.drain_jobs().await;
        let outcome = get_thread(app, &market.buyer.token, &thread).await;
        match accept.0 {
            200 => {
                assert_eq!(outcome["status"], "accepted", "the timer did not expire an accepted thread");
                assert_eq!(order_count(app).await, 1);
            }
            409 => {
                assert!(["offer_expired", "offer_closed"].contains(&accept.1["code"].as_str().unwrap()), "{accept:?}");
                assert_eq!(outcome["status"], "expired");
                assert_eq!(order_count(app).await, 0);
            }
            other => panic!("unexpected {other}: {accept:?}"),
        }
        if offset < Duration::zero() {
            assert_eq!(accept.0, 200, "a second before the expiry the seller is in time");
        } else {
            assert_eq!(accept.0, 409, "at the expiry the offer is gone");
        }
        second.shutdown().await;
    }
}
