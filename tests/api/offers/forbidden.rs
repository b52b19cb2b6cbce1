//! Bad input and forbidden moves: 4xx problem+json with a stable code, and
//! nothing written.

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::support::listings::{create_listing, id_of};
use crate::support::{assert_problem, TestApp};

#[tokio::test]
async fn bad_terms_are_refused_with_their_fields_and_nothing_is_written() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let now = app.clock.now();
    let cases = [
        (json!({"unit_price_cents": 0}), 422, "validation_failed", Some("unit_price_cents")),
        (json!({"unit_price_cents": -5}), 422, "validation_failed", Some("unit_price_cents")),
        (json!({"quantity": 0}), 422, "validation_failed", Some("quantity")),
        (json!({"expires_in": 3599}), 422, "validation_failed", Some("expires_in")),
        (json!({"expires_in": 7 * 24 * 3600 + 1}), 422, "validation_failed", Some("expires_in")),
        (json!({"doa_allowance_pct": 11}), 422, "validation_failed", Some("doa_allowance_pct")),
        (json!({"ship_by": now - Duration::hours(1)}), 422, "validation_failed", Some("ship_by")),
        (
            json!({"shipping_address": {"name": "", "line1": "x", "city": "y", "postal_code": "1", "country": "XX",
                                     "phone": "1"}}),
            422,
            "validation_failed",
            Some("shipping_address.country"),
        ),
        (json!({"quantity": 11}), 409, "insufficient_quantity", None),
    ];
    for (overrides, status, code, field) in cases {
        let body = crate::support::listings::merged(offer(5, 80_000), &overrides);
        let problem = assert_problem(make(app, &market.buyer.token, &market.listing, &body).await, status, code).await;
        if let Some(field) = field {
            let fields: Vec<&str> =
                problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert!(fields.contains(&field), "{overrides}: {problem}");
        }
    }
    assert_eq!(counts(app).await, (0, 0));
}

#[tokio::test]
async fn drafts_own_listings_disabled_offers_and_unverified_buyers_are_refused() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let draft = id_of(&create_listing(app, &market.seller.token, json!({})).await);
    assert_problem(make(app, &market.buyer.token, &draft, &offer(1, 80_000)).await, 404, "listing_not_found").await;
    assert_problem(make(app, &market.seller.token, &market.listing, &offer(1, 80_000)).await, 403, "own_listing").await;

    let off = json!({"offers": {"enabled": false}});
    let patched = app.patch_json(&format!("/v1/listings/{}", market.listing), Some(&market.seller.token), &off).await;
    let listing = json_with_status(patched, 200).await;
    assert_eq!(listing["offers"]["enabled"], false);
    assert_problem(make(app, &market.buyer.token, &market.listing, &offer(1, 80_000)).await, 409, "offers_disabled")
        .await;

    let on = json!({"offers": {"enabled": true}});
    json_with_status(
        app.patch_json(&format!("/v1/listings/{}", market.listing), Some(&market.seller.token), &on).await,
        200,
    )
    .await;
    crate::support::listings::unverify(app, market.buyer.id).await;
    assert_problem(make(app, &market.buyer.token, &market.listing, &offer(1, 80_000)).await, 403, "email_not_verified")
        .await;
    assert_eq!(counts(app).await, (0, 0));
}

#[tokio::test]
async fn bad_offer_settings_on_a_listing_are_refused() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let both = json!({"offers": {"floor_unit_price_cents": 50_000, "floor_discount_pct": 20}});
    let path = format!("/v1/listings/{}", market.listing);
    let problem =
        assert_problem(app.patch_json(&path, Some(&market.seller.token), &both).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "offers.floor_discount_pct");
    let auto_below = json!({"offers": {"floor_unit_price_cents": 50_000, "auto_accept_unit_price_cents": 40_000}});
    assert_problem(app.patch_json(&path, Some(&market.seller.token), &auto_below).await, 422, "validation_failed")
        .await;
    let (_, listing) = crate::support::listings::get_as(app, &path, None).await;
    assert_eq!(listing["offers"], json!({"enabled": true, "floor_unit_price_cents": null, "floor_discount_pct": null}));
}

#[tokio::test]
async fn only_the_party_whose_turn_it_is_may_move_and_closed_threads_do_not_move() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let thread = make_ok(&market, &offer(2, 80_000)).await;
    let terms = json!({"quantity": 2, "unit_price_cents": 85_000});
    let (buyer, seller) = (&market.buyer.token, &market.seller.token);
    assert_problem(move_on(app, buyer, &thread, "accept", None).await, 409, "offer_not_your_turn").await;
    assert_problem(move_on(app, buyer, &thread, "counter", Some(terms.clone())).await, 409, "offer_not_your_turn")
        .await;
    assert_problem(move_on(app, buyer, &thread, "decline", None).await, 403, "offer_action_forbidden").await;
    assert_problem(move_on(app, seller, &thread, "withdraw", None).await, 403, "offer_action_forbidden").await;
    let stranger = market.another_buyer("stranger").await;
    assert_problem(move_on(app, &stranger.token, &thread, "accept", None).await, 404, "offer_not_found").await;
    let zero = json!({"quantity": 2, "unit_price_cents": 0});
    assert_problem(move_on(app, seller, &thread, "counter", Some(zero)).await, 422, "validation_failed").await;
    let countered = move_ok(app, seller, &thread, "counter", Some(terms.clone())).await;
    assert_problem(move_on(app, seller, &countered, "accept", None).await, 409, "offer_not_your_turn").await;
    assert_problem(move_on(app, seller, &countered, "decline", None).await, 409, "offer_not_your_turn").await;
    assert_eq!(counts(app).await, (1, 2));
    move_ok(app, buyer, &countered, "withdraw", None).await;
    assert_problem(move_on(app, seller, &countered, "counter", Some(terms)).await, 409, "offer_closed").await;
    assert_problem(move_on(app, buyer, &countered, "withdraw", None).await, 409, "offer_closed").await;
    assert_eq!(counts(app).await, (1, 2), "no version was added");
    assert_eq!(order_count(app).await, 0);
}

#[tokio::test]
async fn one_open_thread_per_buyer_and_five_per_listing_in_thirty_days() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let first = make_ok(&market, &offer(1, 60_000)).await;
    assert_problem(make(app, &market.buyer.token, &market.listing, &offer(1, 61_000)).await, 409, "offer_already_open")
        .await;
    move_ok(app, &market.buyer.token, &first, "withdraw", None).await;
    for price in [62_000, 63_000, 64_000, 65_000] {
        let thread = make_ok(&market, &offer(1, price)).await;
        move_ok(app, &market.buyer.token, &thread, "withdraw", None).await;
    }
    assert_problem(make(app, &market.buyer.token, &market.listing, &offer(1, 66_000)).await, 429, "offer_limit").await;
    assert_eq!(counts(app).await.0, 5);
    app.clock.advance(Duration::days(30));
    assert_eq!(make_ok(&market, &offer(1, 66_000)).await["status"], "open", "the window moved on");
    // The timers of the withdrawn threads fire and do nothing.
    app.drain_jobs().await;
}

#[tokio::test]
async fn the_same_idempotency_key_answers_the_same_thread() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let body = offer(3, 70_000);
    let first =
        json_with_status(make_with_key(app, &market.buyer.token, &market.listing, &body, "k-1").await, 201).await;
    let again = make_with_key(app, &market.buyer.token, &market.listing, &body, "k-1").await;
    assert_eq!(again.headers().get("Idempotent-Replayed").unwrap(), "true");
    assert_eq!(json_with_status(again, 201).await["id"], first["id"]);
    let other = crate::support::listings::merged(body, &json!({"quantity": 4}));
    assert_problem(
        make_with_key(app, &market.buyer.token, &market.listing, &other, "k-1").await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(counts(app).await, (1, 1));
}
