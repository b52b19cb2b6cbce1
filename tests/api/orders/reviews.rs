//! After the sale: reviews (once per party, only once an order completed or was
//! resolved), the seller reputation they add up to on profiles and listings,
//! balances, and the payouts admins record against them.

use rigmarket::ledger::Account;
use serde_json::json;

use super::*;
use crate::support::assert_problem;
use crate::support::listings::get_as;

fn path(order: &Value, rest: &str) -> String {
    format!("/v1/orders/{}{rest}", oid(order))
}

async fn review(app: &TestApp, token: &str, order: &Value, rating: i64, comment: &str) -> reqwest::Response {
    act(app, token, &path(order, "/review"), Some(json!({"rating": rating, "comment": comment}))).await
}

async fn completed_order(market: &Market, quantity: i32) -> Value {
    let order = delivered_order(market, quantity).await;
    act_ok(&market.app, &market.buyer.token, &path(&order, "/accept"), None).await
}

/// A dispute the admin resolved with `refund_cents` back to the buyer.
async fn resolved_order(market: &Market, quantity: i32, refund_cents: i64) -> Value {
    let order = delivered_order(market, quantity).await;
    let dispute = json!({"reason": "not_as_described", "description": "Older firmware than listed."});
    act_ok(&market.app, &market.buyer.token, &path(&order, "/disputes"), Some(dispute)).await;
    let decision = json!({"refund_cents": refund_cents, "note": "partial refund"});
    act_ok(&market.app, &market.admin, &format!("/v1/admin/orders/{}/resolve", oid(&order)), Some(decision)).await
}

fn fee_of(released: i64) -> i64 {
    (released * 2 + 50) / 100
}

#[tokio::test]
async fn reviews_open_once_an_order_completes_and_each_party_reviews_once() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let order = delivered_order(&market, 1).await;

    let early = review(app, &market.buyer.token, &order, 5, "Arrived fine.").await;
    assert_problem(early, 409, "invalid_order_status").await;
    let order = act_ok(app, &market.buyer.token, &path(&order, "/accept"), None).await;
    assert_eq!(order["status"], "completed");

    for rating in [0, 6, -1] {
        let body =
            assert_problem(review(app, &market.buyer.token, &order, rating, "x").await, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "rating", "{body}");
    }
    assert_problem(review(app, &market.buyer.token, &order, 70_000, "x").await, 422, "invalid_body").await;
    assert_problem(review(app, &market.buyer.token, &order, 5, "  ").await, 422, "validation_failed").await;

    let by_buyer =
        json_with_status(review(app, &market.buyer.token, &order, 5, " All 1 unit hashed at spec. ").await, 201).await;
    assert_eq!(by_buyer["author_id"], market.buyer.id.to_string());
    assert_eq!(by_buyer["subject_id"], market.seller.id.to_string());
    assert_eq!(by_buyer["author_role"], "buyer");
    assert_eq!(
        (by_buyer["rating"].as_i64(), by_buyer["comment"].as_str()),
        (Some(5), Some("All 1 unit hashed at spec."))
    );
    // A minute later, so "oldest first" decides the order of the list below.
    app.clock.advance(chrono::Duration::minutes(1));
    let by_seller = json_with_status(review(app, &market.seller.token, &order, 4, "Paid promptly.").await, 201).await;
    assert_eq!(by_seller["subject_id"], market.buyer.id.to_string());

    let again = review(app, &market.buyer.token, &order, 1, "Changed my mind.").await;
    assert_problem(again, 409, "already_reviewed").await;
    assert_problem(review(app, &market.seller.token, &order, 1, "Again.").await, 409, "already_reviewed").await;
    assert_problem(review(app, &market.admin, &order, 3, "Admin view.").await, 403, "order_action_forbidden").await;
    let outsider = market.another_buyer("outsider").await;
    assert_problem(review(app, &outsider.token, &order, 1, "Never bought.").await, 404, "order_not_found").await;

    let reviews =
        crate::support::pages::walk_one_by_one(app, &path(&order, "/reviews"), Some(&market.seller.token)).await;
    let ratings: Vec<_> = reviews.iter().map(|r| (r["author_role"].clone(), r["rating"].clone())).collect();
    assert_eq!(ratings, vec![(json!("buyer"), json!(5)), (json!("seller"), json!(4))]);
}

#[tokio::test]
async fn orders_that_closed_without_a_sale_cannot_be_reviewed_and_resolved_ones_can() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let cancelled = place_ok(&market, 1).await;
    let cancelled = act_ok(app, &market.buyer.token, &path(&cancelled, "/cancel"), None).await;
    assert_eq!(cancelled["status"], "cancelled");
    let refunded = place_ok(&market, 1).await;
    confirm_wire(&market, &refunded).await;
    let refunded =
        act_ok(app, &market.admin, &format!("/v1/admin/orders/{}/cancel", oid(&refunded)), Some(json!({"note": "x"})))
            .await;
    assert_eq!(refunded["status"], "refunded");
    for order in [&cancelled, &refunded] {
        assert_problem(review(app, &market.buyer.token, order, 1, "No rigs.").await, 409, "invalid_order_status").await;
    }

    let resolved = resolved_order(&market, 1, 20_000).await;
    assert_eq!(resolved["status"], "resolved");
    json_with_status(review(app, &market.buyer.token, &resolved, 2, "Firmware was old.").await, 201).await;
    json_with_status(review(app, &market.seller.token, &resolved, 3, "Fair dispute.").await, 201).await;
}

#[tokio::test]
async fn a_sellers_reputation_adds_up_on_the_profile_and_in_listing_json() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let profile = format!("/v1/users/{}", market.seller.id);
    let listing = format!("/v1/listings/{}", market.listing);
    let no_reputation = json!({"average_rating": null, "review_count": 0, "completed_sales": 0});
    assert_eq!(app.get_json(&profile).await.1["reputation"], no_reputation);

    let second_buyer = market.another_buyer("second").await;
    let mut rated = Vec::new();
    for rating in [5, 5, 4] {
        let order = completed_order(&market, 1).await;
        json_with_status(review(app, &market.buyer.token, &order, rating, "Good lot.").await, 201).await;
        // The seller's review of the buyer is about the buyer, not the seller.
        json_with_status(review(app, &market.seller.token, &order, 1, "Slow to confirm.").await, 201).await;
        rated.push(rating);
    }
    completed_order(&market, 1).await; // a sale nobody reviewed
    let resolved = resolved_order(&market, 1, 50_000).await;
    json_with_status(review(app, &market.buyer.token, &resolved, 1, "Not as described.").await, 201).await;
    rated.push(1);
    // Another seller's sale to the same buyer counts for that seller only.
    let key = Uuid::new_v4().to_string();
    let elsewhere = crate::support::listings::id_of(
        &crate::support::listings::create_active(app, &second_buyer.token, &market.admin, json!({})).await,
    );
    let order =
        json_with_status(place(app, &market.buyer.token, Some(&key), &order_body(&elsewhere, 1, "wire")).await, 201)
            .await;
    confirm_wire(&market, &order).await;
    act_ok(app, &second_buyer.token, &path(&order, "/ship"), Some(shipment())).await;
    confirm_delivery(&market, &order).await;
    let order = act_ok(app, &market.buyer.token, &path(&order, "/accept"), None).await;
    json_with_status(review(app, &market.buyer.token, &order, 2, "Meh.").await, 201).await;

    let average = (rated.iter().sum::<i64>() as f64 / rated.len() as f64 * 100.0).round() / 100.0;
    assert_eq!(average, 3.75);
    // Sales: the four completed orders and the dispute resolved with money to the seller.
    let expected = json!({"average_rating": average, "review_count": rated.len(), "completed_sales": 5});
    let (status, body) = app.get_json(&profile).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reputation"], expected, "{body}");
    let (status, body) = get_as(app, &listing, Some(&market.buyer.token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["seller"]["reputation"], expected, "{body}");
    assert_eq!(
        app.get_json(&format!("/v1/users/{}", second_buyer.id)).await.1["reputation"],
        json!({"average_rating": 2.0, "review_count": 1, "completed_sales": 1})
    );

    // Two more fives: 25 / 6 = 4.1666..., shown as 4.17.
    for _ in 0..2 {
        let order = completed_order(&market, 1).await;
        json_with_status(review(app, &market.buyer.token, &order, 5, "Back to form.").await, 201).await;
        rated.push(5);
    }
    let average = (rated.iter().sum::<i64>() as f64 / rated.len() as f64 * 100.0).round() / 100.0;
    assert_eq!(average, 4.17);
    assert_eq!(
        app.get_json(&profile).await.1["reputation"],
        json!({"average_rating": average, "review_count": 6, "completed_sales": 7})
    );
    let (_, body) = get_as(app, &listing, None).await;
    assert_eq!(body["seller"]["reputation"]["review_count"], 6, "public listing JSON: {body}");
    assert_ledger_sound(app).await;
}

async fn payout(app: &TestApp, token: &str, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = app.client.post(app.url("/v1/admin/payouts")).bearer_auth(token).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.expect("request sent")
}

async fn my_balances(app: &TestApp, token: &str) -> (i64, i64) {
    let (status, body) = get_as(app, "/v1/me/balances", Some(token)).await;
    assert_eq!(status, 200, "{body}");
    (body["seller_payable_cents"].as_i64().unwrap(), body["buyer_refund_cents"].as_i64().unwrap())
}

#[tokio::test]
async fn payouts_spend_what_is_owed_once_per_idempotency_key() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    completed_order(&market, 2).await;
    resolved_order(&market, 1, 30_000).await;
    let owed = (190_000 - fee_of(190_000)) + (65_000 - fee_of(65_000));
    assert_eq!(my_balances(app, &market.seller.token).await, (owed, 0));
    assert_eq!(my_balances(app, &market.buyer.token).await, (0, 30_000));

    let body = json!({"user_id": market.seller.id, "amount_cents": 100_000, "reference": "SWIFT 2026-01-20 #4471"});
    assert_problem(payout(app, &market.admin, None, &body).await, 400, "idempotency_key_required").await;
    assert_problem(payout(app, &market.seller.token, Some("p-1"), &body).await, 403, "admin_required").await;
    let too_much = json!({"user_id": market.seller.id, "amount_cents": owed + 1, "reference": "too much"});
    assert_problem(payout(app, &market.admin, Some("p-0"), &too_much).await, 409, "insufficient_balance").await;
    for amount in [0, -5] {
        let bad = json!({"user_id": market.seller.id, "amount_cents": amount, "reference": "x"});
        assert_problem(payout(app, &market.admin, Some("p-bad"), &bad).await, 422, "validation_failed").await;
    }
    let nobody = json!({"user_id": Uuid::now_v7(), "amount_cents": 1, "reference": "x"});
    assert_problem(payout(app, &market.admin, Some("p-nobody"), &nobody).await, 404, "user_not_found").await;
    assert_eq!(my_balances(app, &market.seller.token).await, (owed, 0), "refusals move nothing");

    let first = json_with_status(payout(app, &market.admin, Some("p-1"), &body).await, 201).await;
    assert_eq!(first["kind"], "payout");
    assert_eq!(first["reference"], "SWIFT 2026-01-20 #4471");
    let entries: Vec<_> = first["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["account"].clone(), e["amount_cents"].clone()))
        .collect();
    assert_eq!(
        entries,
        vec![
            (json!(format!("seller_payable:{}", market.seller.id)), json!(-100_000)),
            (json!("external"), json!(100_000))
        ]
    );
    let replay = payout(app, &market.admin, Some("p-1"), &body).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay = json_with_status(replay, 201).await;
    assert_eq!(replay["id"], first["id"], "the same transaction, not a second payout");
    let reused = json!({"user_id": market.seller.id, "amount_cents": 1, "reference": "other"});
    assert_problem(payout(app, &market.admin, Some("p-1"), &reused).await, 422, "idempotency_key_reused").await;
    assert_eq!(my_balances(app, &market.seller.token).await, (owed - 100_000, 0));

    // The rest, and the buyer's refund, from its own account.
    let rest = json!({"user_id": market.seller.id, "amount_cents": owed - 100_000, "reference": "SWIFT #4472"});
    json_with_status(payout(app, &market.admin, Some("p-2"), &rest).await, 201).await;
    let refund = json!({"user_id": market.buyer.id, "amount_cents": 30_000, "reference": "SEPA back", "account": "buyer_refund"});
    assert_problem(
        payout(
            app,
            &market.admin,
            Some("p-3"),
            &json!({"user_id": market.buyer.id, "amount_cents": 1, "reference": "x"}),
        )
        .await,
        409,
        "insufficient_balance",
    )
    .await;
    json_with_status(payout(app, &market.admin, Some("p-4"), &refund).await, 201).await;
    assert_eq!(my_balances(app, &market.seller.token).await, (0, 0));
    assert_eq!(my_balances(app, &market.buyer.token).await, (0, 0));
    assert_eq!(
        balance(app, Account::PlatformFees).await,
        fee_of(190_000) + fee_of(65_000),
        "fees stay with the platform"
    );
    assert_ledger_sound(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_payouts_cannot_spend_the_same_balance_twice() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    completed_order(&market, 4).await;
    let mut owed = 380_000 - fee_of(380_000);

    for round in 0..5 {
        // Each alone fits; together they exceed what is owed.
        let amount = owed / 2 + 1;
        let body = json!({"user_id": market.seller.id, "amount_cents": amount, "reference": format!("round {round}")});
        let (key_a, key_b) = (format!("race-{round}-a"), format!("race-{round}-b"));
        let (a, b) = tokio::join!(
            payout(app, &market.admin, Some(&key_a), &body),
            payout(app, &market.admin, Some(&key_b), &body)
        );
        let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, vec![201, 409], "round {round}");
        owed -= amount;
        assert_eq!(my_balances(app, &market.seller.token).await.0, owed, "round {round}");
    }

    // The same key twice at once is one payout.
    let body = json!({"user_id": market.seller.id, "amount_cents": 1, "reference": "same key"});
    let (a, b) =
        tokio::join!(payout(app, &market.admin, Some("same"), &body), payout(app, &market.admin, Some("same"), &body));
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert!(statuses.contains(&201) && statuses.iter().all(|s| [201, 409].contains(s)), "{statuses:?}");
    assert_eq!(my_balances(app, &market.seller.token).await.0, owed - 1);
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn the_average_rating_rounds_half_up_to_two_decimals() {
    use diesel_async::RunQueryDsl;
    use rigmarket::db::schema::order_reviews;
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let order = completed_order(&market, 1).await;
    json_with_status(review(app, &market.buyer.token, &order, 5, "Great.").await, 201).await;
    // 39 more buyers' ratings (8 fives, 31 fours), written straight to the table
    // (40 real orders would say nothing more): 169 / 40 = 4.225, which is 4.23 to
    // two decimals; 4.225 as a double is a hair below, so float rounding says 4.22.
    let order_id: Uuid = oid(&order).parse().unwrap();
    for i in 0..39 {
        let (author, _) = app.create_user(&format!("rater-{i}@rigmarket.test"), &[]).await;
        diesel::insert_into(order_reviews::table)
            .values((
                order_reviews::order_id.eq(order_id),
                order_reviews::author_id.eq(author),
                order_reviews::subject_id.eq(market.seller.id),
                order_reviews::author_role.eq("buyer"),
                order_reviews::rating.eq(if i < 8 { 5_i16 } else { 4 }),
                order_reviews::comment.eq("Fine."),
                order_reviews::created_at.eq(app.clock.now()),
            ))
            .execute(&mut *app.conn().await)
            .await
            .unwrap();
    }
    let (_, profile) = app.get_json(&format!("/v1/users/{}", market.seller.id)).await;
    assert_eq!(profile["reputation"]["review_count"], 40);
    assert_eq!(profile["reputation"]["average_rating"], 4.23, "4.225 rounds half up: {profile}");
}
