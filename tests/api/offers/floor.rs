//! The listing's floor (absolute, or a discount against the price index's tier
//! median) and its auto-accept price.

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::support::listings::{create_active, id_of};
use crate::support::{assert_problem, TestApp};

async fn set_offers(market: &Market, listing: &str, settings: Value) {
    let path = format!("/v1/listings/{listing}");
    let body = json!({"offers": settings});
    json_with_status(market.app.patch_json(&path, Some(&market.seller.token), &body).await, 200).await;
}

#[tokio::test]
async fn an_offer_below_an_absolute_floor_is_declined_at_once_with_the_floor_shown() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({})).await;
    set_offers(&market, &market.listing, json!({"floor_unit_price_cents": 75_000})).await;
    let declined = make_ok(&market, &offer(2, 74_999)).await;
    assert_eq!(
        (declined["status"].as_str(), declined["close_reason"].as_str()),
        (Some("declined"), Some("below_floor"))
    );
    assert_eq!(declined["close_note"], "The seller declines offers below 750.00 USD per unit.");
    let open = make_ok(&market, &offer(2, 75_000)).await;
    assert_eq!(open["status"], "open");
    // A buyer's counter meets the floor too.
    let low = json!({"quantity": 2, "unit_price_cents": 70_000});
    let seller_counter = json!({"quantity": 2, "unit_price_cents": 90_000});
    let app = &market.app;
    let countered = move_ok(app, &market.seller.token, &open, "counter", Some(seller_counter)).await;
    let back = move_ok(app, &market.buyer.token, &countered, "counter", Some(low)).await;
    assert_eq!(back["close_reason"], "below_floor");
    app.drain_jobs().await;
    let subjects = crate::support::listings::subjects_for(app, &market.buyer.email);
    assert!(subjects.iter().any(|s| s.contains("below the seller's floor")), "{subjects:?}");
}

#[tokio::test]
async fn the_discount_floor_follows_the_price_index_tier_median() {
    let market = Market::open(TestApp::builder(), json!({"unit_price_cents": 95_000})).await;
    let app = &market.app;
    // The listing's own publication is the tier's only asking observation:
    // 95,000 / 110 TH/s = 863 cents per TH/s, so 30 % off is about 66,451 per unit.
    set_offers(&market, &market.listing, json!({"floor_discount_pct": 30})).await;
    app.clock.advance(Duration::minutes(2));
    let low = make_ok(&market, &offer(1, 60_000)).await;
    assert_eq!(low["close_reason"], "below_floor");
    assert!(low["close_note"].as_str().unwrap().contains("30 % under the price index's"), "{low}");
    // A cheaper S19 Pro lot is published: the median drops and 60,000 clears the floor.
    let other = crate::orders::party(app, "other-seller").await;
    create_active(app, &other.token, &market.admin, json!({"unit_price_cents": 50_000})).await;
    app.clock.advance(Duration::minutes(2));
    let now_open = make_ok(&market, &offer(1, 60_000)).await;
    assert_eq!(now_open["status"], "open", "{now_open}");
}

#[tokio::test]
async fn an_offer_at_the_auto_accept_price_is_accepted_at_once_and_the_order_placed() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    set_offers(&market, &market.listing, json!({"auto_accept_unit_price_cents": 90_000})).await;
    let (_, listing) = crate::support::listings::get_as(app, &format!("/v1/listings/{}", market.listing), None).await;
    assert!(listing["offers"].get("auto_accept_unit_price_cents").is_none(), "the auto-accept price stays private");
    let below = make_ok(&market, &offer(4, 89_999)).await;
    assert_eq!(below["status"], "open");
    move_ok(app, &market.buyer.token, &below, "withdraw", None).await;
    let accepted = make_ok(&market, &offer(4, 90_000)).await;
    assert_eq!(accepted["status"], "accepted");
    let order_id = accepted["order_id"].as_str().unwrap();
    let (_, order) = crate::orders::get_order(app, &market.buyer.token, order_id).await;
    assert_eq!((order["unit_price_cents"].as_i64(), order["quantity"].as_i64()), (Some(90_000), Some(4)));
    assert_eq!(units(app, &market.listing).await, (6, 4, 0));
    // A second listing of the same seller keeps its own settings.
    let plain = id_of(&create_active(app, &market.seller.token, &market.admin, json!({})).await);
    let open = json_with_status(make(app, &market.buyer.token, &plain, &offer(1, 95_000)).await, 201).await;
    assert_eq!(open["status"], "open");
    assert_problem(move_on(app, &market.buyer.token, &open, "accept", None).await, 409, "offer_not_your_turn").await;
}
