//! Every transition of a thread, the order an acceptance makes, the timers and
//! the emails.

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::orders::{advance, confirm_delivery, confirm_wire, get_order, oid, ship};
use crate::support::listings::subjects_for;
use crate::support::TestApp;

#[tokio::test]
async fn a_lot_countered_twice_becomes_an_order_that_carries_its_terms_to_settlement() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({"quantity": 20})).await;
    let app = &market.app;
    let now = app.clock.now();
    let ship_by = now + Duration::days(4);
    let mut first = offer(10, 80_000);
    first["doa_allowance_pct"] = json!(2);
    first["ship_by"] = json!(ship_by);
    first["message"] = json!("  The whole lot if you ship this week.  ");
    let thread = make_ok(&market, &first).await;
    assert_eq!(thread["status"], "open");
    assert_eq!(thread["versions"][0]["by"], "buyer");
    assert_eq!(thread["versions"][0]["message"], "The whole lot if you ship this week.");
    assert_eq!(thread["expires_at"], json!(now + Duration::hours(48)), "48 h by default");
    assert_eq!(thread["order_id"], Value::Null);

    app.clock.advance(Duration::hours(1));
    let countered = json!({"quantity": 10, "unit_price_cents": 88_000, "doa_allowance_pct": 1, "expires_in": 7200});
    let thread = move_ok(app, &market.seller.token, &thread, "counter", Some(countered)).await;
    assert_eq!(thread["versions"].as_array().unwrap().len(), 2);
    assert_eq!(thread["versions"][1]["by"], "seller");
    assert_eq!(thread["expires_at"], json!(app.clock.now() + Duration::hours(2)), "a counter resets the expiry");

    let back = json!({"quantity": 10, "unit_price_cents": 85_000, "doa_allowance_pct": 1, "ship_by": ship_by});
    let thread = move_ok(app, &market.buyer.token, &thread, "counter", Some(back)).await;
    assert_eq!(thread["versions"][2]["by"], "buyer");
    let accepted = move_ok(app, &market.seller.token, &thread, "accept", None).await;
    assert_eq!(accepted["status"], "accepted");
    let order_id = accepted["order_id"].as_str().expect("the offer shows its order").to_string();
    assert_eq!(units(app, &market.listing).await, (10, 10, 0));

    let (status, order) = get_order(app, &market.buyer.token, &order_id).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["status"], "awaiting_payment");
    assert_eq!((order["quantity"].as_i64(), order["unit_price_cents"].as_i64()), (Some(10), Some(85_000)));
    assert_eq!(order["total_cents"], 850_000);
    assert_eq!(order["doa_allowance_pct"], 1);
    assert_eq!(order["agreed_ship_by"], json!(ship_by));
    assert_eq!(order["offer_id"], accepted["id"]);

    // The agreed date (4 days) comes before the 7-day ship window: it is the deadline.
    let paid = confirm_wire(&market, &order).await;
    assert_eq!(paid["deadlines"]["ship_by"], json!(ship_by));
    ship(&market, &order).await;
    confirm_delivery(&market, &order).await;
    let done =
        crate::orders::act_ok(app, &market.buyer.token, &format!("/v1/orders/{}/accept", oid(&order)), None).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(settled_prices(app).await, vec![85_000], "the index records what was paid");

    app.drain_jobs().await;
    let to_seller = subjects_for(app, &market.seller.email);
    assert!(to_seller.iter().any(|s| s.starts_with("New offer: 10 unit(s) at 800.00 USD")), "{to_seller:?}");
    assert!(to_seller.iter().any(|s| s.starts_with("Counter-offer: 10 unit(s) at 850.00 USD")), "{to_seller:?}");
    let to_buyer = subjects_for(app, &market.buyer.email);
    assert!(to_buyer.iter().any(|s| s.starts_with("Counter-offer: 10 unit(s) at 880.00 USD")), "{to_buyer:?}");
    assert!(to_buyer.iter().any(|s| s.starts_with("Offer accepted")), "{to_buyer:?}");
    crate::orders::assert_ledger_sound(app).await;

    // Each change is a domain event in both parties' inboxes, oldest last.
    for token in [&market.buyer.token, &market.seller.token] {
        let inbox = crate::notifications::inbox_of(app, token, "?limit=100").await;
        let offer_events: Vec<String> = inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["subject_id"] == accepted["id"])
            .map(|n| n["type"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(offer_events, ["offer.accepted", "offer.countered", "offer.countered", "offer.made"]);
    }
}

async fn settled_prices(app: &TestApp) -> Vec<i64> {
    use rigmarket::db::schema::price_observations as o;
    o::table.filter(o::basis.eq("settled")).select(o::unit_price_cents).load(&mut *app.conn().await).await.unwrap()
}

#[tokio::test]
async fn the_seller_declines_with_a_reason_and_the_buyer_may_offer_again() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({})).await;
    let app = &market.app;
    let thread = make_ok(&market, &offer(5, 60_000)).await;
    let declined =
        move_ok(app, &market.seller.token, &thread, "decline", Some(json!({"reason": "Too low for S19 Pros."}))).await;
    assert_eq!((declined["status"].as_str(), declined["close_reason"].as_str()), (Some("declined"), Some("declined")));
    assert_eq!(declined["close_note"], "Too low for S19 Pros.");
    let again = make_ok(&market, &offer(5, 70_000)).await;
    assert_eq!(again["status"], "open", "a closed thread does not block a new one");
    app.drain_jobs().await;
    assert!(subjects_for(app, &market.buyer.email).contains(&"Offer declined".to_string()));
}

#[tokio::test]
async fn the_buyer_withdraws_even_after_a_seller_counter() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({})).await;
    let app = &market.app;
    let thread = make_ok(&market, &offer(5, 60_000)).await;
    let thread = move_ok(
        app,
        &market.seller.token,
        &thread,
        "counter",
        Some(json!({"quantity": 5, "unit_price_cents": 90_000})),
    )
    .await;
    let withdrawn = move_ok(app, &market.buyer.token, &thread, "withdraw", None).await;
    assert_eq!(withdrawn["status"], "withdrawn");
    app.drain_jobs().await;
    assert!(subjects_for(app, &market.seller.email).contains(&"Offer withdrawn".to_string()));
    let closed = move_on(app, &market.seller.token, &thread, "accept", None).await;
    crate::support::assert_problem(closed, 409, "offer_closed").await;
}

#[tokio::test]
async fn an_unanswered_version_expires_by_its_timer_and_a_countered_ones_timer_does_nothing() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({})).await;
    let app = &market.app;
    let mut body = offer(5, 60_000);
    body["expires_in"] = json!(3600);
    let thread = make_ok(&market, &body).await;
    app.clock.advance(Duration::minutes(30));
    let thread = move_ok(
        app,
        &market.seller.token,
        &thread,
        "counter",
        Some(json!({"quantity": 5, "unit_price_cents": 90_000})),
    )
    .await;
    // The first version's hour passes: its timer finds a newer version and does nothing.
    advance(app, Duration::minutes(31)).await;
    assert_eq!(get_thread(app, &market.buyer.token, &thread).await["status"], "open");
    // The counter's 48 hours pass.
    advance(app, Duration::hours(48)).await;
    let expired = get_thread(app, &market.buyer.token, &thread).await;
    assert_eq!((expired["status"].as_str(), expired["close_reason"].as_str()), (Some("expired"), Some("expired")));
    assert!(subjects_for(app, &market.buyer.email).contains(&"Offer expired".to_string()));
    assert!(subjects_for(app, &market.seller.email).contains(&"Offer expired".to_string()));
    let late = move_on(app, &market.buyer.token, &thread, "accept", None).await;
    crate::support::assert_problem(late, 409, "offer_closed").await;
}

#[tokio::test]
async fn a_listing_leaving_active_voids_its_open_threads() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({})).await;
    let app = &market.app;
    let other = market.another_buyer("other").await;
    let mine = make_ok(&market, &offer(5, 60_000)).await;
    let theirs = json_with_status(make(app, &other.token, &market.listing, &offer(2, 70_000)).await, 201).await;
    let withdraw = crate::support::listings::post_empty(
        app,
        &format!("/v1/listings/{}/withdraw", market.listing),
        Some(&market.seller.token),
    )
    .await;
    assert_eq!(withdraw.status().as_u16(), 200);
    // The withdrawal raised the job in its own transaction: it is due now, not
    // at some sweep's next round.
    app.drain_jobs().await;
    for (thread, token) in [(&mine, &market.buyer.token), (&theirs, &other.token)] {
        let voided = get_thread(app, token, thread).await;
        assert_eq!(voided["status"], "voided", "{voided}");
        assert_eq!(voided["close_reason"], "listing_closed");
        let inbox = crate::notifications::inbox_of(app, token, "").await;
        assert_eq!(inbox["items"][0]["type"], "offer.voided", "{inbox}");
        assert_eq!(inbox["items"][0]["subject_id"], voided["id"]);
    }
    assert_eq!(order_count(app).await, 0);
}

#[tokio::test]
async fn a_lot_expiring_at_its_hosting_deadline_voids_its_open_threads() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({})).await;
    let app = &market.app;
    app.register_periodic().await;
    let thread = make_ok(&market, &offer(5, 60_000)).await;
    let deadline = app.clock.now() + Duration::hours(3);
    set_power_off_at(app, &market.listing, deadline).await;
    // The hourly deadline sweep expires the lot; the void follows in the same drain.
    advance(app, Duration::hours(4)).await;
    let voided = get_thread(app, &market.buyer.token, &thread).await;
    assert_eq!((voided["status"].as_str(), voided["close_reason"].as_str()), (Some("voided"), Some("listing_closed")));
    assert!(voided["close_note"].as_str().unwrap().contains("expired"), "{voided}");
}

/// Brings a live lot's hosting deadline forward (the API fixes it at
/// publication, and the market's lot has none).
async fn set_power_off_at(app: &TestApp, listing: &str, at: chrono::DateTime<chrono::Utc>) {
    use rigmarket::db::schema::listings as l;
    let id: uuid::Uuid = listing.parse().unwrap();
    diesel::update(l::table.filter(l::id.eq(id)))
        .set(l::power_off_at.eq(at))
        .execute(&mut *app.conn().await)
        .await
        .unwrap();
}

#[tokio::test]
async fn accepting_the_last_units_voids_the_threads_that_can_no_longer_be_met() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let small = market.another_buyer("small").await;
    let big = make_ok(&market, &offer(8, 80_000)).await;
    let two = json_with_status(make(app, &small.token, &market.listing, &offer(2, 80_000)).await, 201).await;
    let third = market.another_buyer("third").await;
    let three = json_with_status(make(app, &third.token, &market.listing, &offer(3, 80_000)).await, 201).await;
    let accepted = move_ok(app, &market.seller.token, &big, "accept", None).await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(get_thread(app, &small.token, &two).await["status"], "open", "2 units are still there");
    let voided = get_thread(app, &third.token, &three).await;
    assert_eq!((voided["status"].as_str(), voided["close_reason"].as_str()), (Some("voided"), Some("units_gone")));
    assert_eq!(voided["close_note"], "Only 2 unit(s) are left on this listing.");
}

#[tokio::test]
async fn units_taken_by_a_plain_order_answer_409_and_the_thread_stays_open() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let thread = make_ok(&market, &offer(8, 80_000)).await;
    crate::orders::place_ok(&market, 5).await;
    let refused = move_on(app, &market.seller.token, &thread, "accept", None).await;
    crate::support::assert_problem(refused, 409, "insufficient_quantity").await;
    let still = get_thread(app, &market.buyer.token, &thread).await;
    assert_eq!((still["status"].as_str(), still["order_id"].as_str()), (Some("open"), None));
    assert_eq!(units(app, &market.listing).await, (5, 5, 0));
    // The seller can counter with what is left.
    let smaller = json!({"quantity": 5, "unit_price_cents": 85_000});
    let countered = move_ok(app, &market.seller.token, &thread, "counter", Some(smaller)).await;
    let accepted = move_ok(app, &market.buyer.token, &countered, "accept", None).await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(units(app, &market.listing).await, (0, 10, 0));
}

#[tokio::test]
async fn lists_show_the_seller_every_thread_and_a_buyer_their_own() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let other = market.another_buyer("other").await;
    let mine = make_ok(&market, &offer(1, 60_000)).await;
    json_with_status(make(app, &other.token, &market.listing, &offer(2, 70_000)).await, 201).await;
    let path = format!("/v1/listings/{}/offers", market.listing);
    let all = crate::support::pages::items(app, &path, Some(&market.seller.token)).await;
    assert_eq!(all.len(), 2);
    let own = crate::support::pages::items(app, &path, Some(&market.buyer.token)).await;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["id"], mine["id"]);
    let selling =
        crate::support::pages::items(app, "/v1/me/offers?role=seller&status=open", Some(&market.seller.token)).await;
    assert_eq!(selling.len(), 2);
    let buying = crate::support::pages::items(app, "/v1/me/offers?role=buyer", Some(&market.buyer.token)).await;
    assert_eq!(buying.len(), 1);
    let none = crate::support::pages::items(app, "/v1/me/offers?role=seller", Some(&market.buyer.token)).await;
    assert!(none.is_empty());
    let (status, _) =
        crate::support::listings::get_as(app, &format!("/v1/offers/{}", tid(&mine)), Some(&other.token)).await;
    assert_eq!(status, 404, "a stranger does not see another buyer's thread");
}

#[tokio::test]
async fn an_offer_without_an_allowance_takes_the_listings_and_a_counter_keeps_the_latest() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 20, "doa_allowance_pct": 4})).await;
    let app = &market.app;
    let thread = make_ok(&market, &offer(10, 80_000)).await;
    assert_eq!(thread["versions"][0]["doa_allowance_pct"], 4, "the listing's allowance: {thread}");
    let counter = json!({"quantity": 10, "unit_price_cents": 85_000});
    let thread = move_ok(app, &market.seller.token, &thread, "counter", Some(counter)).await;
    assert_eq!(thread["versions"][1]["doa_allowance_pct"], 4, "a counter keeps the latest: {thread}");
    let order = move_ok(app, &market.buyer.token, &thread, "accept", None).await;
    let (_, order) = get_order(app, &market.buyer.token, order["order_id"].as_str().unwrap()).await;
    assert_eq!(order["doa_allowance_pct"], 4);
}
