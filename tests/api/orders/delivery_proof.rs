//! Delivery proofs: during inspection the buyer's rigs mine real shares against
//! the stratum listener (a CPU miner here, on a 20 kH/s test model); a result
//! whose interval's upper bound is below 90 % of the claim opens a
//! `hashrate_shortfall` dispute with the proof attached, and the inspection
//! waits for a proof still running.

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::proofs::{mine_window, port_of, Miner, RIG_HASHRATE_HS};
use crate::support::accounts::mails_for;
use crate::support::assert_problem;

/// A market of CPU "rigs" (20 kH/s each) with the stratum listener running.
async fn cpu_market() -> Market {
    let app = TestApp::builder().with_stratum().with_smtp().spawn().await;
    let seller = party(&app, "seller").await;
    let buyer = party(&app, "buyer").await;
    let admin = party_with_roles(&app, "admin", &["admin"]).await.token;
    let model =
        json!({"manufacturer": "rigmarket", "name": "CPU test rig", "hashrate_hs": RIG_HASHRATE_HS, "power_w": 65});
    let model = json_with_status(app.post_json("/v1/admin/rig-models", Some(&admin), &model).await, 201).await;
    let overrides = json!({"rig_model_id": model["id"], "quantity": 5, "unit_price_cents": 1_000});
    let listing = crate::support::listings::create_active(&app, &seller.token, &admin, overrides).await;
    Market { app, seller, buyer, admin, listing: oid(&listing) }
}

async fn request_proof(market: &Market, order: &Value) -> Value {
    let path = format!("/v1/orders/{}/hashrate-proofs", oid(order));
    json_with_status(act(&market.app, &market.buyer.token, &path, Some(json!({"duration_secs": 60}))).await, 201).await
}

/// Mines the 60-second window at `rate` hashes per (clock) second, then runs the jobs.
async fn run_proof(market: &Market, ticket: &Value, rate: u32) {
    let username = ticket["username"].as_str().unwrap().replace(".worker", ".unit-1");
    let mut miner = Miner::start(port_of(ticket), &username).await;
    mine_window(&market.app, &mut miner, &username, rate, 60).await;
    market.app.drain_jobs().await;
}

#[tokio::test]
async fn a_delivery_that_hashes_short_of_the_claim_opens_a_dispute_with_the_proof_attached() {
    let market = cpu_market().await;
    let app = &market.app;
    let order = delivered_order(&market, 2).await;
    let ticket = request_proof(&market, &order).await;
    assert_eq!(ticket["claimed_hashrate_hs"], 2 * RIG_HASHRATE_HS, "nominal times the units bought");
    assert_eq!(ticket["listing_id"], market.listing.as_str());

    // One unit's worth of work for two units sold.
    run_proof(&market, &ticket, RIG_HASHRATE_HS as u32).await;
    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", oid(&ticket))).await;
    assert_eq!(proof["status"], "failed", "{proof}");
    assert!(proof["ci95_high_hs"].as_f64().unwrap() < 0.9 * (2 * RIG_HASHRATE_HS) as f64, "{proof}");

    let (_, disputed) = get_order(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(disputed["status"], "disputed");
    assert_eq!(disputed["dispute"]["reason"], "hashrate_shortfall");
    let last = events(app, &market.buyer.token, &oid(&order)).await.pop().unwrap();
    assert_eq!((last.1.as_str(), last.2.as_str(), last.3.as_str()), ("disputed", "dispute_opened", "system"));
    let (_, messages) = crate::support::listings::get_as(
        app,
        &format!("/v1/orders/{}/messages", oid(&order)),
        Some(&market.seller.token),
    )
    .await;
    let system =
        messages["items"].as_array().unwrap().iter().find(|m| m["author_role"] == "system").expect("a system note");
    assert!(system["body"].as_str().unwrap().contains(&oid(&ticket)), "{system}");
    assert!(!mails_for(app, &market.seller.email, "disputed").await.is_empty(), "the seller hears of the dispute");

    // The inspection no longer completes the order.
    advance(app, Duration::days(4)).await;
    assert_eq!(get_order(app, &market.buyer.token, &oid(&order)).await.1["status"], "disputed");
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn an_honest_delivery_proof_verifies_and_the_inspection_completes_as_usual() {
    let market = cpu_market().await;
    let app = &market.app;
    let order = delivered_order(&market, 1).await;
    let ticket = request_proof(&market, &order).await;
    let again =
        act(app, &market.buyer.token, &format!("/v1/orders/{}/hashrate-proofs", oid(&order)), Some(json!({}))).await;
    assert_problem(again, 409, "proof_in_progress").await;
    run_proof(&market, &ticket, RIG_HASHRATE_HS as u32).await;
    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", oid(&ticket))).await;
    assert_eq!(proof["status"], "verified", "{proof}");
    assert_eq!(get_order(app, &market.buyer.token, &oid(&order)).await.1["status"], "delivered");
    advance(app, Duration::days(3)).await;
    assert_eq!(get_order(app, &market.buyer.token, &oid(&order)).await.1["status"], "completed");
    let seller_listing_proof = app.get_json(&format!("/v1/listings/{}", market.listing)).await.1;
    assert_eq!(seller_listing_proof["hashrate_proof"], Value::Null, "a delivery proof is not the listing's proof");
}

#[tokio::test]
async fn an_inspection_ending_while_a_proof_runs_waits_for_its_verdict() {
    let market = cpu_market().await;
    let app = &market.app;
    let order = delivered_order(&market, 2).await;
    app.clock.advance(Duration::days(3) - Duration::seconds(30));
    let ticket = request_proof(&market, &order).await;
    // The inspection ends 30 s into the 60 s window; the shortfall still counts.
    run_proof(&market, &ticket, RIG_HASHRATE_HS as u32).await;
    let (_, after) = get_order(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(after["status"], "disputed", "{after}");
    assert_eq!(after["dispute"]["reason"], "hashrate_shortfall");
}

#[tokio::test]
async fn only_the_buyer_runs_a_delivery_proof_and_only_during_inspection() {
    let market = cpu_market().await;
    let app = &market.app;
    let order = place_ok(&market, 1).await;
    let path = format!("/v1/orders/{}/hashrate-proofs", oid(&order));
    assert_problem(act(app, &market.buyer.token, &path, Some(json!({}))).await, 409, "invalid_order_status").await;
    confirm_wire(&market, &order).await;
    ship(&market, &order).await;
    confirm_delivery(&market, &order).await;
    assert_problem(act(app, &market.seller.token, &path, Some(json!({}))).await, 403, "order_action_forbidden").await;
    let short_window = act(app, &market.buyer.token, &path, Some(json!({"duration_secs": 10}))).await;
    assert_problem(short_window, 422, "validation_failed").await;
}
