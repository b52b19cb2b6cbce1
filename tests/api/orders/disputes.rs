//! Disputes end to end: opened during inspection (or for non-delivery once
//! shipped) with evidence uploaded to a real S3 server through presigned URLs,
//! settled by a seller's offer the buyer accepts or by an admin's split, with
//! the conversation between parties and admins and its signed evidence links.

use rigmarket::ledger::Account;
use serde_json::json;

use super::*;
use crate::support::accounts::mails_for;
use crate::support::assert_problem;
use crate::support::listings::get_as;
use crate::support::pages::{items, walk_one_by_one};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn jpeg() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01];
    bytes.extend((0..2000u32).map(|i| (i * 7 % 251) as u8));
    bytes.extend([0xFF, 0xD9]);
    bytes
}

async fn dispute_market() -> Market {
    Market::open(TestApp::builder().with_smtp().with_s3(), json!({})).await
}

fn path(order: &Value, rest: &str) -> String {
    format!("/v1/orders/{}{rest}", oid(order))
}

/// Starts an evidence upload as `token`: `(evidence_id, upload_url)`.
async fn start_upload(app: &TestApp, token: &str, order: &Value, content_type: &str, size: usize) -> (String, String) {
    let body = json!({"content_type": content_type, "size_bytes": size});
    let started = json_with_status(act(app, token, &path(order, "/evidence"), Some(body)).await, 201).await;
    (started["evidence_id"].as_str().unwrap().into(), started["upload_url"].as_str().unwrap().into())
}

async fn put_bytes(app: &TestApp, url: &str, content_type: &str, bytes: &[u8]) {
    let response = app.client.put(url).header("content-type", content_type).body(bytes.to_vec()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "PUT to S3: {}", response.text().await.unwrap_or_default());
}

async fn complete(app: &TestApp, token: &str, order: &Value, evidence: &str) -> reqwest::Response {
    act(app, token, &path(order, &format!("/evidence/{evidence}/complete")), None).await
}

/// Uploads `bytes` through the presigned URL and completes it: the evidence id.
async fn upload_evidence(app: &TestApp, token: &str, order: &Value, content_type: &str, bytes: &[u8]) -> String {
    let (id, url) = start_upload(app, token, order, content_type, bytes.len()).await;
    assert!(!url.starts_with(&app.address), "the bytes go straight to S3: {url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    put_bytes(app, &url, content_type, bytes).await;
    let view = json_with_status(complete(app, token, order, &id).await, 200).await;
    assert_eq!(view["id"], id.as_str());
    assert_eq!(view["content_type"], content_type);
    assert_eq!(view["size_bytes"], bytes.len());
    id
}

async fn download(app: &TestApp, url: &str) -> Vec<u8> {
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "GET {url}");
    response.bytes().await.unwrap().to_vec()
}

async fn open_dispute(market: &Market, order: &Value, reason: &str, evidence: &[&str]) -> reqwest::Response {
    let body =
        json!({"reason": reason, "description": "Two hashboards are dead on arrival.", "evidence_ids": evidence});
    act(&market.app, &market.buyer.token, &path(order, "/disputes"), Some(body)).await
}

async fn disputed_order(market: &Market, quantity: i32) -> Value {
    let order = delivered_order(market, quantity).await;
    json_with_status(open_dispute(market, &order, "not_as_described", &[]).await, 200).await
}

async fn offer(market: &Market, order: &Value, refund_cents: i64) -> reqwest::Response {
    let body = json!({"refund_cents": refund_cents, "message": "One unit is weak; I refund part."});
    act(&market.app, &market.seller.token, &path(order, "/settlement-offers"), Some(body)).await
}

async fn resolve(market: &Market, admin: &str, order: &Value, refund_cents: i64) -> reqwest::Response {
    let body = json!({"refund_cents": refund_cents, "note": "Split after reviewing the evidence."});
    act(&market.app, admin, &format!("/v1/admin/orders/{}/resolve", oid(order)), Some(body)).await
}

/// The fee on what is released: 2 %, rounded half up to the cent.
fn fee_of(released: i64) -> i64 {
    (released * 2 + 50) / 100
}

/// `(buyer_refund, seller_payable, platform_fees)` balances.
async fn balances(market: &Market) -> (i64, i64, i64) {
    (
        balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await,
        balance(&market.app, Account::SellerPayable(market.seller.id.into())).await,
        balance(&market.app, Account::PlatformFees).await,
    )
}

async fn escrow_of(market: &Market, order: &Value) -> i64 {
    balance(&market.app, Account::Escrow(oid(order).parse().unwrap())).await
}

async fn mail_count(market: &Market, order: &Value, address: &str, what: &str) -> usize {
    let reference = order["payment"]["reference"].as_str().unwrap();
    mails_for(&market.app, address, &format!("Order {reference}: {what}")).await.len()
}

#[tokio::test]
async fn a_dispute_opened_during_inspection_carries_evidence_uploaded_to_s3() {
    let market = dispute_market().await;
    let app = &market.app;
    let order = delivered_order(&market, 2).await;
    let other = delivered_order(&market, 1).await;

    let photo = jpeg();
    let evidence = upload_evidence(app, &market.buyer.token, &order, "image/jpeg", &photo).await;
    let report = upload_evidence(app, &market.buyer.token, &order, "application/pdf", PDF).await;
    let (pending, _) = start_upload(app, &market.buyer.token, &order, "image/jpeg", 100).await;
    let foreign = upload_evidence(app, &market.buyer.token, &other, "application/pdf", PDF).await;

    // Completing before the bytes arrived, and a file that is not what it claims, are refused.
    assert_problem(complete(app, &market.buyer.token, &order, &pending).await, 422, "upload_missing").await;
    let (liar, url) = start_upload(app, &market.buyer.token, &order, "application/pdf", photo.len()).await;
    put_bytes(app, &url, "application/pdf", &photo).await;
    assert_problem(complete(app, &market.buyer.token, &order, &liar).await, 422, "upload_type_mismatch").await;
    let (short, url) = start_upload(app, &market.buyer.token, &order, "application/pdf", PDF.len() + 10).await;
    put_bytes(app, &url, "application/pdf", PDF).await;
    assert_problem(complete(app, &market.buyer.token, &order, &short).await, 422, "upload_size_mismatch").await;

    // Evidence that is pending, refused, or of another order cannot back the dispute.
    for bad in [&pending, &liar, &foreign] {
        let body =
            assert_problem(open_dispute(&market, &order, "damaged", &[&evidence, bad]).await, 422, "validation_failed")
                .await;
        assert_eq!(body["errors"][0]["field"], "evidence_ids[1]", "{body}");
    }
    assert_eq!(get_order(app, &market.buyer.token, &oid(&order)).await.1["status"], "delivered", "nothing changed");

    let disputed = json_with_status(open_dispute(&market, &order, "damaged", &[&evidence, &report]).await, 200).await;
    assert_eq!(disputed["status"], "disputed");
    assert_eq!(disputed["dispute"]["reason"], "damaged");
    assert_eq!(disputed["dispute"]["description"], "Two hashboards are dead on arrival.");
    assert!(disputed["dispute"]["opened_at"].is_string(), "{disputed}");
    let history = events(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(
        history.last().unwrap(),
        &(json!("delivered"), "disputed".to_string(), "dispute_opened".to_string(), "buyer".to_string())
    );
    assert_eq!(mail_count(&market, &order, &market.buyer.email, "disputed").await, 1);
    assert_eq!(mail_count(&market, &order, &market.seller.email, "disputed").await, 1);

    // The dispute is on the conversation, with its files behind signed URLs that serve them.
    let (status, messages) = get_as(app, &path(&order, "/messages"), Some(&market.seller.token)).await;
    assert_eq!(status, 200, "{messages}");
    let opening = &messages["items"][0];
    assert_eq!(opening["author_role"], "buyer");
    assert!(opening["body"].as_str().unwrap().contains("damaged"), "{opening}");
    let files = opening["evidence"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{opening}");
    assert_eq!(download(app, files[0]["url"].as_str().unwrap()).await, photo);
    assert_eq!(download(app, files[1]["url"].as_str().unwrap()).await, PDF);

    // A second dispute on the same order is refused.
    assert_problem(open_dispute(&market, &order, "other", &[]).await, 409, "invalid_order_status").await;

    // The end of inspection does not release a disputed order.
    advance(app, chrono::Duration::days(4)).await;
    let (_, still) = get_order(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(still["status"], "disputed");
    assert_eq!(escrow_of(&market, &order).await, 190_000);
    assert_eq!(
        balance(app, Account::SellerPayable(market.seller.id.into())).await,
        95_000 - fee_of(95_000),
        "only `other`"
    );
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn only_non_delivery_can_be_disputed_before_delivery() {
    let market = dispute_market().await;
    let order = place_ok(&market, 1).await;
    assert_problem(open_dispute(&market, &order, "not_delivered", &[]).await, 409, "invalid_order_status").await;
    confirm_wire(&market, &order).await;
    assert_problem(open_dispute(&market, &order, "not_delivered", &[]).await, 409, "invalid_order_status").await;
    ship(&market, &order).await;

    for reason in ["not_as_described", "hashrate_shortfall", "damaged", "other"] {
        assert_problem(open_dispute(&market, &order, reason, &[]).await, 409, "dispute_reason_not_allowed").await;
    }
    let unknown = open_dispute(&market, &order, "changed_my_mind", &[]).await;
    assert_problem(unknown, 422, "invalid_body").await;
    let by_seller = act(
        &market.app,
        &market.seller.token,
        &path(&order, "/disputes"),
        Some(json!({"reason": "not_delivered", "description": "x"})),
    )
    .await;
    assert_problem(by_seller, 403, "order_action_forbidden").await;
    assert_eq!(get_order(&market.app, &market.buyer.token, &oid(&order)).await.1["status"], "shipped");

    let disputed = json_with_status(open_dispute(&market, &order, "not_delivered", &[]).await, 200).await;
    assert_eq!(disputed["status"], "disputed");
    assert_eq!(disputed["dispute"]["reason"], "not_delivered");
    // Nor does the automatic delivery move it on.
    advance(&market.app, chrono::Duration::days(30)).await;
    assert_eq!(get_order(&market.app, &market.buyer.token, &oid(&order)).await.1["status"], "disputed");
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn a_seller_offer_the_buyer_accepts_resolves_the_dispute_with_an_exact_split() {
    let market = dispute_market().await;
    let app = &market.app;
    let order = disputed_order(&market, 2).await;
    let total = 190_000;

    assert_problem(offer(&market, &order, 0).await, 422, "validation_failed").await;
    assert_problem(offer(&market, &order, total + 1).await, 422, "validation_failed").await;
    let buyer_offer = act(
        app,
        &market.buyer.token,
        &path(&order, "/settlement-offers"),
        Some(json!({"refund_cents": 10, "message": "me"})),
    )
    .await;
    assert_problem(buyer_offer, 403, "order_action_forbidden").await;

    let first = json_with_status(offer(&market, &order, 50_000).await, 201).await;
    assert_eq!(first["status"], "open");
    // Refund 33,325 leaves 156,675 released: a fee of 3,133.50, rounded half up to 3,134.
    let second = json_with_status(offer(&market, &order, 33_325).await, 201).await;
    assert_eq!(second["status"], "open");
    let offers = walk_one_by_one(app, &path(&order, "/settlement-offers"), Some(&market.buyer.token)).await;
    let statuses: Vec<_> = offers.iter().map(|o| (o["id"].clone(), o["status"].clone())).collect();
    assert_eq!(statuses, vec![(first["id"].clone(), json!("superseded")), (second["id"].clone(), json!("open"))]);
    assert_eq!(mail_count(&market, &order, &market.buyer.email, "settlement offer").await, 2);

    let accept = |id: &Value| path(&order, &format!("/settlement-offers/{}/accept", id.as_str().unwrap()));
    assert_problem(act(app, &market.buyer.token, &accept(&first["id"]), None).await, 409, "offer_not_open").await;
    assert_problem(act(app, &market.seller.token, &accept(&second["id"]), None).await, 403, "order_action_forbidden")
        .await;
    let missing = path(&order, &format!("/settlement-offers/{}/accept", Uuid::now_v7()));
    assert_problem(act(app, &market.buyer.token, &missing, None).await, 404, "offer_not_found").await;

    let resolved = act_ok(app, &market.buyer.token, &accept(&second["id"]), None).await;
    let (refund, released) = (33_325, total - 33_325);
    let fee = fee_of(released);
    assert_eq!(fee, 3_134, "half a cent rounds up");
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(
        resolved["settlement"],
        json!({"refund_cents": refund, "seller_credit_cents": released - fee, "platform_fee_cents": fee})
    );
    assert_eq!(balances(&market).await, (refund, released - fee, fee));
    assert_eq!(escrow_of(&market, &order).await, 0);
    assert_eq!(units(app, &market.listing).await, (8, 0, 2), "the shipped units stay sold");
    let history = events(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(history.last().unwrap().2, "settlement_accepted");
    let walked = walk_one_by_one(app, &path(&order, "/events"), Some(&market.buyer.token)).await;
    assert_eq!(walked.len(), history.len());
    assert_eq!(mail_count(&market, &order, &market.buyer.email, "resolved").await, 1);
    assert_eq!(mail_count(&market, &order, &market.seller.email, "resolved").await, 1);
    let offers = items(app, &path(&order, "/settlement-offers"), Some(&market.seller.token)).await;
    assert_eq!(offers[1]["status"], "accepted");

    // Nothing moves a resolved order again.
    assert_problem(act(app, &market.buyer.token, &accept(&second["id"]), None).await, 409, "invalid_order_status")
        .await;
    assert_problem(offer(&market, &order, 1).await, 409, "invalid_order_status").await;
    assert_problem(resolve(&market, &market.admin, &order, 0).await, 409, "invalid_order_status").await;
    assert_eq!(balances(&market).await, (refund, released - fee, fee));
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn an_admin_resolves_with_any_split_of_the_escrow() {
    let market = dispute_market().await;
    let app = &market.app;
    let all_to_seller = disputed_order(&market, 1).await;
    let all_to_buyer = disputed_order(&market, 1).await;
    let split = disputed_order(&market, 2).await;
    json_with_status(offer(&market, &split, 40_000).await, 201).await;

    for refund in [-1, 190_001] {
        let body =
            assert_problem(resolve(&market, &market.admin, &split, refund).await, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "refund_cents", "{body}");
    }
    assert_problem(resolve(&market, &market.seller.token, &split, 0).await, 403, "admin_required").await;
    assert_eq!(escrow_of(&market, &split).await, 190_000, "nothing moved");

    let resolved = json_with_status(resolve(&market, &market.admin, &all_to_seller, 0).await, 200).await;
    assert_eq!(
        resolved["settlement"],
        json!({"refund_cents": 0, "seller_credit_cents": 95_000 - 1_900, "platform_fee_cents": 1_900})
    );
    let resolved = json_with_status(resolve(&market, &market.admin, &all_to_buyer, 95_000).await, 200).await;
    assert_eq!(
        resolved["settlement"],
        json!({"refund_cents": 95_000, "seller_credit_cents": 0, "platform_fee_cents": 0})
    );
    let resolved = json_with_status(resolve(&market, &market.admin, &split, 123_457).await, 200).await;
    let released = 190_000 - 123_457;
    assert_eq!(
        resolved["settlement"],
        json!({"refund_cents": 123_457, "seller_credit_cents": released - fee_of(released),
               "platform_fee_cents": fee_of(released)})
    );
    assert_eq!(resolved["status"], "resolved");
    let history = events(app, &market.buyer.token, &oid(&split)).await;
    assert_eq!(history.last().unwrap().2, "resolved_by_admin");
    assert_eq!(history.last().unwrap().3, "admin");
    let offers = items(app, &path(&split, "/settlement-offers"), Some(&market.buyer.token)).await;
    assert_eq!(offers[0]["status"], "void", "the admin's decision voids the open offer");

    let fees = 1_900 + fee_of(released);
    assert_eq!(
        balances(&market).await,
        (95_000 + 123_457, 95_000 - 1_900 + released - fee_of(released), fees),
        "(buyer refund, seller payable, fees)"
    );
    for order in [&all_to_seller, &all_to_buyer, &split] {
        assert_eq!(escrow_of(&market, order).await, 0);
    }
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn an_admin_who_is_a_party_cannot_decide_the_dispute() {
    let market = dispute_market().await;
    let app = &market.app;
    let admin_buyer = party_with_roles(app, "admin-buyer", &["admin"]).await;
    let key = Uuid::new_v4().to_string();
    let order = json_with_status(
        place(app, &admin_buyer.token, Some(&key), &order_body(&market.listing, 1, "wire")).await,
        201,
    )
    .await;
    confirm_wire(&market, &order).await;
    ship(&market, &order).await;
    act_ok(app, &admin_buyer.token, &path(&order, "/confirm-delivery"), None).await;
    let body = json!({"reason": "damaged", "description": "Cracked case."});
    act_ok(app, &admin_buyer.token, &path(&order, "/disputes"), Some(body)).await;

    assert_problem(resolve(&market, &admin_buyer.token, &order, 95_000).await, 403, "own_order").await;
    assert_eq!(get_order(app, &admin_buyer.token, &oid(&order)).await.1["status"], "disputed");
    assert_eq!(escrow_of(&market, &order).await, 95_000);

    // Another admin decides it.
    let resolved = json_with_status(resolve(&market, &market.admin, &order, 95_000).await, 200).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(balance(app, Account::BuyerRefund(admin_buyer.id.into())).await, 95_000);
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn parties_and_admins_talk_on_the_order_with_evidence_that_downloads() {
    let market = dispute_market().await;
    let app = &market.app;
    let order = disputed_order(&market, 1).await;
    let photo = jpeg();
    let evidence = upload_evidence(app, &market.seller.token, &order, "image/jpeg", &photo).await;

    let messages = path(&order, "/messages");
    let post = |token: String, body: Value| {
        let messages = messages.clone();
        async move { act(app, &token, &messages, Some(body)).await }
    };
    let from_seller = json_with_status(
        post(market.seller.token.clone(), json!({"body": "Here is the packing photo.", "evidence_ids": [evidence]}))
            .await,
        201,
    )
    .await;
    assert_eq!(from_seller["author_role"], "seller");
    assert_eq!(from_seller["author_id"], market.seller.id.to_string());
    assert_eq!(download(app, from_seller["evidence"][0]["url"].as_str().unwrap()).await, photo);
    json_with_status(post(market.buyer.token.clone(), json!({"body": "The boards were loose on arrival."})).await, 201)
        .await;
    json_with_status(
        post(market.admin.clone(), json!({"body": "Both of you: please send serial numbers."})).await,
        201,
    )
    .await;
    let pending = start_upload(app, &market.buyer.token, &order, "image/jpeg", 10).await.0;
    let refused = post(market.buyer.token.clone(), json!({"body": "see", "evidence_ids": [pending]})).await;
    assert_problem(refused, 422, "validation_failed").await;
    assert_problem(post(market.buyer.token.clone(), json!({"body": "   "})).await, 422, "validation_failed").await;

    for token in [&market.buyer.token, &market.seller.token, &market.admin] {
        let (status, page) = get_as(app, &path(&order, "/messages"), Some(token)).await;
        assert_eq!(status, 200, "{page}");
        let roles: Vec<_> = page["items"].as_array().unwrap().iter().map(|m| m["author_role"].clone()).collect();
        assert_eq!(roles, vec![json!("buyer"), json!("seller"), json!("buyer"), json!("admin")], "{page}");
        let url = page["items"][1]["evidence"][0]["url"].as_str().unwrap();
        assert_eq!(download(app, url).await, photo, "every reader gets a working signed link");
    }
    // The other side hears of each message; an admin's reaches both.
    assert_eq!(mail_count(&market, &order, &market.buyer.email, "new message").await, 2);
    assert_eq!(mail_count(&market, &order, &market.seller.email, "new message").await, 2);

    // Someone else sees nothing, not even that the order exists.
    let outsider = market.another_buyer("outsider").await;
    for route in ["", "/messages", "/events", "/ledger", "/settlement-offers", "/reviews"] {
        let (status, body) = get_as(app, &path(&order, route), Some(&outsider.token)).await;
        assert_eq!(status, 404, "GET {route}: {body}");
        assert_eq!(body["code"], "order_not_found", "{body}");
    }
    let writes = [
        ("/messages", Some(json!({"body": "hello"}))),
        ("/evidence", Some(json!({"content_type": "image/jpeg", "size_bytes": 10}))),
        (&*format!("/evidence/{evidence}/complete"), None),
        ("/disputes", Some(json!({"reason": "other", "description": "x"}))),
        ("/settlement-offers", Some(json!({"refund_cents": 1, "message": "x"}))),
    ];
    for (route, body) in writes {
        assert_problem(act(app, &outsider.token, &path(&order, route), body).await, 404, "order_not_found").await;
    }
    let (_, page) = get_as(app, &path(&order, "/messages"), Some(&market.buyer.token)).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 4, "the outsider wrote nothing");
}

#[tokio::test]
async fn an_admin_cancelling_a_disputed_order_refunds_it_and_voids_the_open_offer() {
    let market = dispute_market().await;
    let app = &market.app;
    let order = disputed_order(&market, 1).await;
    json_with_status(offer(&market, &order, 10_000).await, 201).await;
    let cancelled = act_ok(
        app,
        &market.admin,
        &format!("/v1/admin/orders/{}/cancel", oid(&order)),
        Some(json!({"note": "seller fraud"})),
    )
    .await;
    assert_eq!(cancelled["status"], "refunded");
    assert_eq!(cancelled["settlement"]["refund_cents"], 95_000);
    let offers = items(app, &path(&order, "/settlement-offers"), Some(&market.buyer.token)).await;
    assert_eq!(offers[0]["status"], "void");
    assert_eq!(escrow_of(&market, &order).await, 0);
    assert_ledger_sound(app).await;
}
