//! Acceptance by unit on a lot sold by serial: the buyer rejects units during
//! inspection, the seller accepts (a partial refund beyond the DOA allowance,
//! in one balanced transaction), contests (a dispute), or lets 72 h pass; the
//! rejected units are then returned or written off, and the price index counts
//! the order at what the seller received per accepted unit.

use chrono::Duration;
use rigmarket::ledger::Account;

use super::units::{serial_market_with, ship_with, units_of};
use super::*;
use crate::support::assert_problem;

const UNIT_PRICE: i64 = 100_000;

/// A delivered order of `quantity` units (`LOT-0001`..) from a lot of 20 with
/// a `doa_allowance_pct` allowance.
async fn delivered_serial_order(doa_allowance_pct: i32, quantity: usize) -> (Market, Value) {
    let overrides = json!({"unit_price_cents": UNIT_PRICE, "doa_allowance_pct": doa_allowance_pct});
    let market = serial_market_with(TestApp::builder().with_smtp(), 20, overrides).await;
    let order = place_ok(&market, quantity as i32).await;
    assert_eq!(order["doa_allowance_pct"], doa_allowance_pct, "the order snapshots the lot's allowance");
    confirm_wire(&market, &order).await;
    let serials: Vec<String> = (1..=quantity).map(|i| format!("LOT-{i:04}")).collect();
    json_with_status(ship_with(&market, &order, Some(json!(serials))).await, 200).await;
    let order = confirm_delivery(&market, &order).await;
    (market, order)
}

fn rejections_path(order: &Value) -> String {
    format!("/v1/orders/{}/unit-rejections", oid(order))
}

fn item(serial: &str, reason: &str) -> Value {
    json!({"serial": serial, "reason": reason, "note": format!("{serial}: {reason}")})
}

async fn reject(market: &Market, order: &Value, items: Vec<Value>) -> reqwest::Response {
    act(&market.app, &market.buyer.token, &rejections_path(order), Some(json!({ "items": items }))).await
}

fn statuses(order: &Value, status: &str) -> Vec<String> {
    units_of(order).into_iter().filter(|(_, s)| s == status).map(|(serial, _)| serial).collect()
}

/// The settled price observation the order left in the index: `(units, unit price)`.
async fn settled_observation(app: &TestApp, order: &Value) -> Option<(i32, i64)> {
    use rigmarket::db::schema::price_observations as obs;
    let id: Uuid = oid(order).parse().unwrap();
    obs::table
        .filter(obs::order_id.eq(id))
        .select((obs::units, obs::unit_price_cents))
        .first(&mut *app.conn().await)
        .await
        .optional()
        .unwrap()
}

#[tokio::test]
async fn the_seller_accepts_rejections_and_refunds_only_the_units_beyond_the_allowance() {
    // 10 units at 10 %: one dead unit is the buyer's risk, the next ones are refunded.
    let (market, order) = delivered_serial_order(10, 10).await;
    let app = &market.app;
    let summary = json_with_status(
        reject(
            &market,
            &order,
            vec![
                item("lot-0002", "dead_on_arrival"),
                item("LOT-0005", "hashboard_missing"),
                item("LOT-0007", "not_as_described"),
            ],
        )
        .await,
        201,
    )
    .await;
    assert_eq!(summary["allowance_units"], 1);
    assert_eq!(summary["rejected_units"], 3);
    assert_eq!(summary["refunded_units"], 2);
    assert_eq!(summary["refund_cents"], 2 * UNIT_PRICE);
    let serials: Vec<_> = summary["items"].as_array().unwrap().iter().map(|r| r["serial"].as_str().unwrap()).collect();
    assert_eq!(serials, ["LOT-0002", "LOT-0005", "LOT-0007"], "normalised serials");
    assert!(summary["answer_by"].is_string(), "{summary}");
    let (_, pending) = get_order(app, &market.buyer.token, &oid(&order)).await;
    assert!(pending["deadlines"]["rejections_answer_by"].is_string(), "{pending}");
    assert!(!crate::support::accounts::mails_for(app, &market.seller.email, "units rejected").await.is_empty());

    // While the seller has not answered, the buyer cannot accept the order.
    let accept = act(app, &market.buyer.token, &format!("/v1/orders/{}/accept", oid(&order)), None).await;
    assert_problem(accept, 409, "unit_rejections_pending").await;
    let as_buyer = act(app, &market.buyer.token, &format!("{}/accept", rejections_path(&order)), None).await;
    assert_problem(as_buyer, 403, "order_action_forbidden").await;

    let escrow = || Account::Escrow(oid(&order).parse().unwrap());
    assert_eq!(balance(app, escrow()).await, 10 * UNIT_PRICE);
    let closed = act_ok(app, &market.seller.token, &format!("{}/accept", rejections_path(&order)), None).await;
    assert_eq!(closed["status"], "completed");
    assert_eq!(closed["settlement"]["refund_cents"], 2 * UNIT_PRICE);
    let released = 8 * UNIT_PRICE;
    let fee = closed["settlement"]["platform_fee_cents"].as_i64().unwrap();
    assert_eq!(closed["settlement"]["seller_credit_cents"].as_i64().unwrap() + fee, released);
    assert_eq!(statuses(&closed, "rejected"), ["LOT-0002", "LOT-0005", "LOT-0007"]);
    assert_eq!(statuses(&closed, "accepted").len(), 7);
    assert_eq!(units(app, &market.listing).await, (10, 0, 10), "all ten left the lot");
    assert_eq!(balance(app, escrow()).await, 0, "the escrow is empty");
    assert_ledger_sound(app).await;
    // The index counts the seven working units at what was kept for all ten.
    assert_eq!(settled_observation(app, &order).await, Some((7, (2 * released + 7) / 14)));
    let (status, _) = crate::support::listings::get_as(app, &rejections_path(&order), None).await;
    assert_eq!(status, 401);
    let (_, after) = crate::support::listings::get_as(app, &rejections_path(&order), Some(&market.seller.token)).await;
    assert!(after["items"].as_array().unwrap().iter().all(|r| r["status"] == "accepted"), "{after}");
    assert!(after["answer_by"].is_null());

    // Too late to reject more.
    assert_problem(reject(&market, &order, vec![item("LOT-0001", "dead_on_arrival")]).await, 409, "inspection_over")
        .await;

    // Rejected units go back (buyer) or are written off (seller); nothing else can.
    let returns = format!("/v1/orders/{}/unit-returns", oid(&order));
    let write_offs = format!("/v1/orders/{}/unit-write-offs", oid(&order));
    let shipment = json!({"serials": ["LOT-0002"], "carrier": "DHL Freight", "tracking_number": "JD0146000062"});
    let accepted_unit = json!({"serials": ["LOT-0001"], "carrier": "DHL Freight", "tracking_number": "JD0146000062"});
    assert_problem(act(app, &market.buyer.token, &returns, Some(accepted_unit)).await, 409, "unit_not_rejected").await;
    assert_problem(
        act(app, &market.seller.token, &returns, Some(shipment.clone())).await,
        403,
        "order_action_forbidden",
    )
    .await;
    let returned = act_ok(app, &market.buyer.token, &returns, Some(shipment)).await;
    assert_eq!(statuses(&returned, "returned"), ["LOT-0002"]);
    let written_off = act_ok(app, &market.seller.token, &write_offs, Some(json!({"serials": ["LOT-0005"]}))).await;
    assert_eq!(statuses(&written_off, "written_off"), ["LOT-0005"]);
    assert_problem(
        act(app, &market.seller.token, &write_offs, Some(json!({"serials": ["LOT-0002"]}))).await,
        409,
        "unit_not_rejected",
    )
    .await;
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn bad_rejections_are_refused_with_codes_and_write_nothing() {
    let (market, order) = delivered_serial_order(0, 4).await;
    let app = &market.app;
    let cases = [
        (json!({"items": []}), 422, "validation_failed"),
        (
            json!({"items": [item("LOT-0001", "dead_on_arrival"), item("lot-0001", "hashboard_missing")]}),
            422,
            "validation_failed",
        ),
        (
            json!({"items": [{"serial": "LOT-0001", "reason": "dead_on_arrival", "note": "  "}]}),
            422,
            "validation_failed",
        ),
        (json!({"items": [item("LOT-0001", "under_hashrate")]}), 422, "validation_failed"),
        (json!({"items": [item("LOT-0001", "tired")]}), 422, "invalid_body"),
        (
            json!({"items": [item("LOT-0001", "dead_on_arrival"), item("LOT-0009", "dead_on_arrival")]}),
            422,
            "unit_not_in_order",
        ),
        (
            json!({"items": [{"serial": "LOT-0001", "reason": "dead_on_arrival", "note": "x", "evidence_ids": [Uuid::new_v4()]}]}),
            422,
            "validation_failed",
        ),
        (
            json!({"items": [{"serial": "LOT-0001", "reason": "under_hashrate", "note": "slow", "proof_id": Uuid::new_v4()}]}),
            422,
            "proof_does_not_show_shortfall",
        ),
    ];
    for (body, status, code) in cases {
        let response = act(app, &market.buyer.token, &rejections_path(&order), Some(body.clone())).await;
        assert_eq!(response.status(), status, "{body}");
        assert_problem(response, status, code).await;
    }
    let body = json!({"items": [item("LOT-0001", "dead_on_arrival")]});
    let as_seller = act(app, &market.seller.token, &rejections_path(&order), Some(body)).await;
    assert_problem(as_seller, 403, "order_action_forbidden").await;
    let (_, nothing) = crate::support::listings::get_as(app, &rejections_path(&order), Some(&market.buyer.token)).await;
    assert_eq!(nothing["items"], json!([]), "nothing written: {nothing}");

    json_with_status(reject(&market, &order, vec![item("LOT-0001", "dead_on_arrival")]).await, 201).await;
    assert_problem(
        reject(&market, &order, vec![item("LOT-0001", "hashboard_missing")]).await,
        409,
        "unit_already_rejected",
    )
    .await;
    let accept_twice = format!("{}/accept", rejections_path(&order));
    act_ok(app, &market.seller.token, &accept_twice, None).await;
    assert_problem(act(app, &market.seller.token, &accept_twice, None).await, 409, "invalid_order_status").await;

    // A lot sold as a count has no units to reject.
    let plain = Market::open(TestApp::builder(), json!({"quantity": 3})).await;
    let order = delivered_order(&plain, 1).await;
    let body = json!({"items": [item("A1", "dead_on_arrival")]});
    let response = act(&plain.app, &plain.buyer.token, &rejections_path(&order), Some(body)).await;
    assert_problem(response, 409, "not_sold_by_serial").await;
}

#[tokio::test]
async fn unanswered_rejections_inside_the_allowance_complete_the_order_after_72_hours_once() {
    // 20 units at 10 %: two rejected units are inside the allowance, nothing is refunded.
    let (market, order) = delivered_serial_order(10, 20).await;
    let app = &market.app;
    json_with_status(reject(&market, &order, vec![item("LOT-0003", "dead_on_arrival")]).await, 201).await;
    advance(app, Duration::hours(24)).await;
    // A second batch gives the seller a fresh 72 hours.
    let summary = json_with_status(reject(&market, &order, vec![item("LOT-0004", "dead_on_arrival")]).await, 201).await;
    assert_eq!((summary["rejected_units"].as_i64(), summary["refund_cents"].as_i64()), (Some(2), Some(0)));

    // The inspection (3 days from delivery) ends first: the order waits for the answer.
    advance(app, Duration::hours(60)).await;
    assert_eq!(get_order(app, &market.buyer.token, &oid(&order)).await.1["status"], "delivered");

    // Two instances drain the queue when the answer deadline passes: it fires once.
    let other = app.another_instance().await;
    app.clock.advance(Duration::hours(13));
    let (mine, theirs) = tokio::join!(app.instance.drain_jobs(), other.drain_jobs());
    mine.unwrap();
    theirs.unwrap();
    let (_, closed) = get_order(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(closed["status"], "completed", "{closed}");
    assert_eq!(closed["settlement"]["refund_cents"], 0);
    assert_eq!(statuses(&closed, "rejected"), ["LOT-0003", "LOT-0004"]);
    let history = events(app, &market.buyer.token, &oid(&order)).await;
    let closings: Vec<_> = history.iter().filter(|e| e.1 == "completed").map(|e| (e.2.clone(), e.3.clone())).collect();
    assert_eq!(closings, [("rejections_answer_deadline_passed".to_string(), "system".to_string())]);
    assert_eq!(settled_observation(app, &order).await, Some((18, (2 * 20 * UNIT_PRICE + 18) / 36)));
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn contested_rejections_open_a_dispute_and_the_decision_settles_the_units() {
    let (market, order) = delivered_serial_order(0, 5).await;
    let app = &market.app;
    json_with_status(
        reject(&market, &order, vec![item("LOT-0001", "dead_on_arrival"), item("LOT-0002", "not_as_described")]).await,
        201,
    )
    .await;
    let contest = format!("{}/contest", rejections_path(&order));
    assert_problem(
        act(app, &market.seller.token, &contest, Some(json!({"reason": " "}))).await,
        422,
        "validation_failed",
    )
    .await;
    let disputed =
        act_ok(app, &market.seller.token, &contest, Some(json!({"reason": "Both hashed fine in our test video."})))
            .await;
    assert_eq!(disputed["status"], "disputed");
    assert_eq!(disputed["dispute"]["reason"], "unit_rejections_contested");
    let (_, messages) = crate::support::listings::get_as(
        app,
        &format!("/v1/orders/{}/messages", oid(&order)),
        Some(&market.buyer.token),
    )
    .await;
    let first = &messages["items"].as_array().unwrap().last().unwrap()["body"];
    assert!(first.as_str().unwrap().contains("LOT-0001 (dead_on_arrival)"), "{messages}");
    let (_, contested) =
        crate::support::listings::get_as(app, &rejections_path(&order), Some(&market.buyer.token)).await;
    assert!(contested["items"].as_array().unwrap().iter().all(|r| r["status"] == "contested"), "{contested}");
    assert_problem(
        act(app, &market.seller.token, &format!("{}/accept", rejections_path(&order)), None).await,
        409,
        "invalid_order_status",
    )
    .await;

    // The admin refunds one unit: the rejections stand.
    let resolve = format!("/v1/admin/orders/{}/resolve", oid(&order));
    let body = json!({"refund_cents": UNIT_PRICE, "note": "One unit is dead on the video."});
    let resolved = act_ok(app, &market.admin, &resolve, Some(body)).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(statuses(&resolved, "rejected"), ["LOT-0001", "LOT-0002"]);
    assert_eq!(statuses(&resolved, "accepted").len(), 3);
    let (_, upheld) = crate::support::listings::get_as(app, &rejections_path(&order), Some(&market.buyer.token)).await;
    assert!(upheld["items"].as_array().unwrap().iter().all(|r| r["status"] == "upheld"), "{upheld}");
    assert_eq!(settled_observation(app, &order).await.map(|o| o.0), Some(3));
    assert_ledger_sound(app).await;
}

/// A delivery proof of an order by serial judges each shipped unit; an
/// `under_hashrate` rejection must cite a unit that proof put under 90 %.
#[tokio::test]
async fn an_under_hashrate_rejection_cites_the_delivery_proofs_verdict_on_that_unit() {
    use crate::proofs::{mine_together, port_of, Miner};
    const RIG_HS: i64 = 5_000;
    let app = TestApp::builder().with_stratum().with_smtp().spawn().await;
    let seller = party(&app, "seller").await;
    let buyer = party(&app, "buyer").await;
    let admin = party_with_roles(&app, "admin", &["admin"]).await.token;
    let model = json!({"manufacturer": "rigmarket", "name": "Slow CPU rig", "hashrate_hs": RIG_HS, "power_w": 10});
    let model = json_with_status(app.post_json("/v1/admin/rig-models", Some(&admin), &model).await, 201).await;
    let overrides = json!({"rig_model_id": model["id"], "quantity": 3, "unit_price_cents": 1_000});
    let listing = id_of(&crate::support::listings::create_listing(&app, &seller.token, overrides).await);
    let units = json!({"units": [{"serial": "RIG-A"}, {"serial": "RIG-B"}, {"serial": "RIG-C"}]});
    json_with_status(app.post_json(&format!("/v1/listings/{listing}/units"), Some(&seller.token), &units).await, 201)
        .await;
    crate::support::listings::publish(&app, &seller.token, &admin, &listing).await;
    let market = Market { app, seller, buyer, admin, listing };
    let app = &market.app;
    let order = place_ok(&market, 2).await;
    confirm_wire(&market, &order).await;
    json_with_status(ship_with(&market, &order, Some(json!(["RIG-A", "RIG-C"]))).await, 200).await;
    confirm_delivery(&market, &order).await;

    let path = format!("/v1/orders/{}/hashrate-proofs", oid(&order));
    let ticket =
        json_with_status(act(app, &market.buyer.token, &path, Some(json!({"duration_secs": 60}))).await, 201).await;
    assert_eq!(ticket["claimed_hashrate_hs"], 2 * RIG_HS, "the two shipped units");
    let token = ticket["username"].as_str().unwrap().trim_end_matches(".worker").to_string();
    let mut rigs = Vec::new();
    for (serial, rate) in [("RIG-A", RIG_HS as u32), ("RIG-C", (RIG_HS / 2) as u32)] {
        let username = format!("{token}.{serial}");
        rigs.push((Miner::start(port_of(&ticket), &username).await, username, rate));
    }
    mine_together(app, &mut rigs, 60).await;
    app.drain_jobs().await;
    let (_, proof) = app.get_json(&format!("/v1/hashrate-proofs/{}", oid(&ticket))).await;
    let unit_status: Vec<_> = proof["unit_verdicts"].as_array().unwrap().iter().map(|u| u["status"].clone()).collect();
    assert_eq!(unit_status, [json!("ok"), json!("under_90")], "{proof}");
    let (_, still) = get_order(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(still["status"], "delivered", "by serial, a shortfall is rejected unit by unit, not disputed");

    let cite = |serial: &str| json!({"serial": serial, "reason": "under_hashrate", "proof_id": ticket["id"], "note": "slow in the proof"});
    assert_problem(reject(&market, &order, vec![cite("RIG-A")]).await, 422, "proof_does_not_show_shortfall").await;
    let summary = json_with_status(reject(&market, &order, vec![cite("RIG-C")]).await, 201).await;
    assert_eq!(summary["items"][0]["proof_id"], ticket["id"]);
    assert_eq!(summary["refund_cents"], 1_000);
}
