//! Signed webhook deliveries: what pays, what is refused, replayed, underpaid,
//! expired, paid late, partly or over; each checked against the Greenfield API.

use super::*;

/// An `InvoiceExpired` delivery that says part of the amount was paid.
fn partially_paid_expiry(invoice: &str) -> String {
    let mut body: Value = serde_json::from_str(&webhook_body("InvoiceExpired", invoice, &new_delivery_id())).unwrap();
    body["partiallyPaid"] = json!(true);
    serde_json::to_string_pretty(&body).unwrap()
}

#[tokio::test]
async fn a_signed_settlement_paid_in_full_pays_the_order_and_both_parties_hear_of_it() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 2).await;
    let invoice = invoice_of(&market, &order);
    let external_before = balance(&market.app, Account::External).await;

    mock(&market).settle(&invoice);
    assert_eq!(settled_webhook(&market, &invoice).await, "paid");

    let (_, paid) = get_order(&market.app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payment"]["paid_amount_cents"], 190_000);
    assert!(paid["payment"]["paid_at"].is_string(), "{paid}");
    assert!(paid["deadlines"]["ship_by"].is_string(), "the ship clock starts: {paid}");
    let history = events(&market.app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(
        history.last().unwrap(),
        &(json!("awaiting_payment"), "paid".to_string(), "paid".to_string(), "btcpay".to_string())
    );
    assert_eq!(ledger_of(&market, &order).await, (vec!["payment".to_string()], 190_000));
    assert_eq!(balance(&market.app, Account::External).await, external_before - 190_000);
    assert_eq!(balance(&market.app, Account::Escrow(oid(&order).parse().unwrap())).await, 190_000);
    assert_eq!(order_mails(&market, &order, &market.buyer.email, "paid").await, 1);
    assert_eq!(order_mails(&market, &order, &market.seller.email, "paid").await, 1);
    assert_eq!(units(&market.app, &market.listing).await, (8, 2, 0), "paid units stay reserved");
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn deliveries_with_a_bad_signature_are_refused_and_change_nothing() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 1).await;
    let invoice = invoice_of(&market, &order);
    mock(&market).settle(&invoice);
    let body = webhook_body("InvoiceSettled", &invoice, &new_delivery_id());
    let good = sign(WEBHOOK_SECRET, &body);

    let tampered = body.replacen(&invoice, &invoice.to_uppercase(), 1);
    assert_ne!(tampered, body);
    let wrong_secret = sign("not-the-webhook-secret", &body);
    let bare_hex = good.trim_start_matches("sha256=").to_string();
    let attempts: Vec<(&str, &str, Option<&str>)> = vec![
        ("wrong secret", &body, Some(&wrong_secret)),
        ("tampered body", &tampered, Some(&good)),
        ("missing header", &body, None),
        ("no sha256= scheme", &body, Some(&bare_hex)),
        ("empty header", &body, Some("")),
    ];
    for (what, sent, signature) in attempts {
        let response = post_webhook(&market.app, sent, signature).await;
        assert_eq!(response.status().as_u16(), 401, "{what}");
        assert_problem(response, 401, "invalid_signature").await;
    }
    assert_eq!(status_of(&market, &order).await, "awaiting_payment");
    assert_eq!(deliveries_recorded(&market.app).await, 0, "a refused delivery is not recorded");
    assert_eq!(ledger_of(&market, &order).await, (vec![], 0));
    assert_eq!(events(&market.app, &market.buyer.token, &oid(&order)).await.len(), 1, "only `placed`");

    // The very same body, correctly signed, was payable all along.
    let response = post_webhook(&market.app, &body, Some(&good)).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(status_of(&market, &order).await, "paid");
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn replayed_and_redelivered_settlements_pay_once() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 1).await;
    let invoice = invoice_of(&market, &order);
    mock(&market).settle(&invoice);
    let first = new_delivery_id();
    let body = webhook_body("InvoiceSettled", &invoice, &first);

    assert_eq!(outcome_of(&market.app, &body).await, "paid");
    assert_eq!(outcome_of(&market.app, &body).await, "duplicate", "the same delivery again");
    let redelivery = redelivery_body("InvoiceSettled", &invoice, &new_delivery_id(), &first);
    assert_eq!(outcome_of(&market.app, &redelivery).await, "duplicate", "a redelivery of the first");
    // A distinct delivery about the same invoice (a second webhook on the store) does not pay twice either.
    assert_eq!(settled_webhook(&market, &invoice).await, "duplicate");

    assert_eq!(ledger_of(&market, &order).await, (vec!["payment".to_string()], 95_000));
    let paid_events: Vec<_> = events(&market.app, &market.buyer.token, &oid(&order))
        .await
        .into_iter()
        .filter(|(_, to, reason, _)| to == "paid" && reason == "paid")
        .collect();
    assert_eq!(paid_events.len(), 1, "{paid_events:?}");
    assert_eq!(order_mails(&market, &order, &market.buyer.email, "paid").await, 1, "one email, not one per delivery");
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn underpaid_invoices_do_not_pay_and_the_buyer_is_told() {
    let market = btcpay_market().await;
    let half_paid = place_btcpay(&market, 1).await;
    let marked = place_btcpay(&market, 1).await;
    mock(&market).underpay(&invoice_of(&market, &half_paid));
    mock(&market).mark_settled_but_due(&invoice_of(&market, &marked));

    for order in [&half_paid, &marked] {
        assert_eq!(settled_webhook(&market, &invoice_of(&market, order)).await, "underpaid");
        assert_eq!(status_of(&market, order).await, "awaiting_payment");
        assert_eq!(ledger_of(&market, order).await, (vec![], 0));
        assert_eq!(order_mails(&market, order, &market.buyer.email, "payment incomplete").await, 1);
        assert_eq!(order_mails(&market, order, &market.buyer.email, "paid").await, 0);
        let history = events(&market.app, &market.buyer.token, &oid(order)).await;
        assert_eq!(history.last().unwrap().2, "btcpay_underpaid", "{history:?}");
    }
    assert_eq!(balance(&market.app, Account::External).await, 0, "no money was taken in");
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn a_settled_claim_is_checked_against_the_greenfield_api() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 1).await;
    let invoice = invoice_of(&market, &order);
    assert_eq!(mock(&market).invoice(&invoice).unwrap().status, "New");

    // Correctly signed, but BTCPay itself says nobody paid yet.
    assert_ne!(settled_webhook(&market, &invoice).await, "paid");
    assert_eq!(status_of(&market, &order).await, "awaiting_payment");
    assert_eq!(ledger_of(&market, &order).await, (vec![], 0));

    // Paid but unconfirmed is not paid either.
    mock(&market).process(&invoice);
    assert_ne!(settled_webhook(&market, &invoice).await, "paid");
    assert_eq!(status_of(&market, &order).await, "awaiting_payment");
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn settlements_of_invoices_that_are_not_ours_are_acknowledged_and_ignored() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 1).await;
    // An invoice of the same store that no order made (the store's own point of sale, say).
    let foreign: Value = market
        .app
        .client
        .post(format!("{}/api/v1/stores/{}/invoices", mock(&market).base_url, btcpay::STORE_ID))
        .header("Authorization", format!("token {}", btcpay::API_KEY))
        .json(&json!({"amount": "950.00", "currency": "USD"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let foreign = foreign["id"].as_str().unwrap().to_string();
    mock(&market).settle(&foreign);
    assert_eq!(settled_webhook(&market, &foreign).await, "unknown_invoice");
    // An invoice BTCPay itself no longer knows (archived, or another store's).
    assert_eq!(settled_webhook(&market, "NoSuchInvoiceAnywhere").await, "unknown_invoice");
    // A delivery about another store is none of ours.
    let other_store = webhook_body("InvoiceSettled", &invoice_of(&market, &order), &new_delivery_id())
        .replace(btcpay::STORE_ID, "SomeOtherStore");
    assert_eq!(outcome_of(&market.app, &other_store).await, "ignored");

    assert_eq!(status_of(&market, &order).await, "awaiting_payment");
    assert_eq!(balance(&market.app, Account::External).await, 0);
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn btcpay_down_during_the_check_answers_503_and_a_redelivery_pays() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 1).await;
    let invoice = invoice_of(&market, &order);
    mock(&market).settle(&invoice);
    let first = new_delivery_id();
    let body = webhook_body("InvoiceSettled", &invoice, &first);

    mock(&market).fail_next(1);
    let response = post_webhook(&market.app, &body, Some(&sign(WEBHOOK_SECRET, &body))).await;
    assert_problem(response, 503, "service_unavailable").await;
    assert_eq!(status_of(&market, &order).await, "awaiting_payment");
    assert_eq!(deliveries_recorded(&market.app).await, 0, "nothing recorded, so the redelivery is not a duplicate");

    let redelivery = redelivery_body("InvoiceSettled", &invoice, &new_delivery_id(), &first);
    assert_eq!(outcome_of(&market.app, &redelivery).await, "paid");
    assert_eq!(outcome_of(&market.app, &body).await, "duplicate");
    assert_eq!(ledger_of(&market, &order).await, (vec!["payment".to_string()], 95_000));
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn an_expired_invoice_expires_the_order_and_releases_its_units() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 3).await;
    let invoice = invoice_of(&market, &order);
    assert_eq!(units(&market.app, &market.listing).await, (7, 3, 0));

    mock(&market).expire(&invoice);
    let first = new_delivery_id();
    assert_eq!(outcome_of(&market.app, &webhook_body("InvoiceExpired", &invoice, &first)).await, "expired");
    assert_eq!(status_of(&market, &order).await, "expired");
    assert_eq!(units(&market.app, &market.listing).await, (10, 0, 0));
    let history = events(&market.app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(
        history.last().unwrap(),
        &(json!("awaiting_payment"), "expired".to_string(), "btcpay_invoice_expired".to_string(), "system".into())
    );
    assert_eq!(order_mails(&market, &order, &market.buyer.email, "expired").await, 1);
    assert_eq!(order_mails(&market, &order, &market.seller.email, "expired").await, 1);

    let redelivery = redelivery_body("InvoiceExpired", &invoice, &new_delivery_id(), &first);
    assert_eq!(outcome_of(&market.app, &redelivery).await, "duplicate");
    assert_eq!(outcome_of(&market.app, &webhook_body("InvoiceInvalid", &invoice, &new_delivery_id())).await, "noted");
    assert_eq!(status_of(&market, &order).await, "expired");
    assert_eq!(units(&market.app, &market.listing).await, (10, 0, 0), "released once");

    // The payment deadline later finds nothing to do.
    advance(&market.app, chrono::Duration::hours(49)).await;
    assert_eq!(status_of(&market, &order).await, "expired");
    assert_eq!(order_mails(&market, &order, &market.buyer.email, "expired").await, 1);
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn a_settlement_after_the_order_expired_does_not_pay_it_and_is_owed_back() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 1).await;
    let invoice = invoice_of(&market, &order);
    advance(&market.app, chrono::Duration::hours(48)).await;
    assert_eq!(status_of(&market, &order).await, "expired", "the payment deadline passed");

    mock(&market).settle(&invoice);
    assert_eq!(settled_webhook(&market, &invoice).await, "late_payment_refundable");
    assert_eq!(status_of(&market, &order).await, "expired");
    assert_eq!(units(&market.app, &market.listing).await, (10, 0, 0), "the units stay released");
    assert_eq!(ledger_of(&market, &order).await, (vec!["late_payment".to_string()], 0));
    assert_eq!(balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await, 95_000);
    assert_eq!(order_mails(&market, &order, &market.buyer.email, "late payment").await, 1);
    assert_ledger_sound(&market.app).await;

    // Another delivery about the same late payment owes nothing more.
    let (status, answer) = deliver(&market.app, &webhook_body("InvoiceSettled", &invoice, &new_delivery_id())).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("duplicate")), "{answer}");
    assert_eq!(balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await, 95_000);
    assert_eq!(order_mails(&market, &order, &market.buyer.email, "late payment").await, 1);

    // The buyer's balance shows it, and an admin can record the return.
    let (_, balances) =
        crate::support::listings::get_as(&market.app, "/v1/me/balances", Some(&market.buyer.token)).await;
    assert_eq!(balances["buyer_refund_cents"], 95_000);
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn an_overpaid_invoice_pays_the_order_and_owes_the_excess_back() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 2).await;
    let invoice = invoice_of(&market, &order);

    mock(&market).overpay(&invoice);
    assert_eq!(settled_webhook(&market, &invoice).await, "paid");

    // The mock took 10 % more bitcoin than the invoice asked, at 100,000 USD per BTC.
    let excess = total(&order) / 10;
    let (_, paid) = get_order(&market.app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payment"]["paid_amount_cents"], total(&order) + excess, "what BTCPay received");
    assert_eq!(ledger_of(&market, &order).await, (vec!["payment".to_string(), "overpayment".to_string()], 190_000));
    assert_eq!(balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await, excess);
    assert_eq!(balance(&market.app, Account::External).await, -(total(&order) + excess));
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn part_of_the_amount_paid_before_the_invoice_expired_is_owed_back() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 2).await;
    let invoice = invoice_of(&market, &order);
    mock(&market).underpay(&invoice);

    // BTCPay's settlement claim is refused, then the invoice expires half paid.
    assert_eq!(settled_webhook(&market, &invoice).await, "underpaid");
    assert_eq!(outcome_of(&market.app, &partially_paid_expiry(&invoice)).await, "expired");

    assert_eq!(status_of(&market, &order).await, "expired");
    assert_eq!(units(&market.app, &market.listing).await, (10, 0, 0));
    let half = total(&order) / 2;
    assert_eq!(ledger_of(&market, &order).await, (vec!["late_payment".to_string()], 0));
    assert_eq!(balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await, half);
    let mails =
        mails_for(&market.app, &market.buyer.email, &format!("Order {}: late payment", reference_of(&order))).await;
    assert_eq!(mails.len(), 1);
    assert!(text_of(&mails[0]).contains("950.00 USD"), "{}", text_of(&mails[0]));
    // Delivered again under another id: owed once.
    assert_eq!(outcome_of(&market.app, &partially_paid_expiry(&invoice)).await, "duplicate");
    assert_eq!(balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await, half);
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn a_partial_payment_reported_after_the_deadline_expired_the_order_is_owed_back() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 1).await;
    let invoice = invoice_of(&market, &order);
    advance(&market.app, chrono::Duration::hours(48)).await;
    assert_eq!(status_of(&market, &order).await, "expired");

    mock(&market).underpay(&invoice);
    assert_eq!(outcome_of(&market.app, &partially_paid_expiry(&invoice)).await, "late_payment_refundable");
    assert_eq!(balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await, total(&order) / 2);
    // An expiry with nothing paid owes nothing.
    let other = place_btcpay(&market, 1).await;
    let other_invoice = invoice_of(&market, &other);
    mock(&market).expire(&other_invoice);
    assert_eq!(outcome_of(&market.app, &partially_paid_expiry(&other_invoice)).await, "expired");
    assert_eq!(ledger_of(&market, &other).await, (vec![], 0));
    assert_eq!(balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await, total(&order) / 2);
    assert_ledger_sound(&market.app).await;
}

#[tokio::test]
async fn test_deliveries_malformed_bodies_and_invoices_for_another_amount_pay_nothing() {
    let market = btcpay_market().await;
    let app = &market.app;
    let order = place_btcpay(&market, 1).await;
    let invoice = invoice_of(&market, &order);
    mock(&market).settle(&invoice);

    // Signed, but not a delivery.
    let garbage = r#"{"hello": "world"}"#;
    assert_problem(post_webhook(app, garbage, Some(&sign(WEBHOOK_SECRET, garbage))).await, 400, "malformed_webhook")
        .await;
    // BTCPay's "send test webhook" button.
    let test = webhook_body("InvoiceSettled", "__test__b1d2__test__", &new_delivery_id());
    assert_eq!(outcome_of(app, &test).await, "ignored");
    assert_eq!(status_of(&market, &order).await, "awaiting_payment");

    // The order's invoice replaced by one for another amount and order (as a
    // mix-up at BTCPay would): settled, it still does not pay the order.
    let other: Value = app
        .client
        .post(format!("{}/api/v1/stores/{}/invoices", mock(&market).base_url, btcpay::STORE_ID))
        .header("Authorization", format!("token {}", btcpay::API_KEY))
        .json(&json!({"amount": "1.00", "currency": "USD", "metadata": {"orderId": Uuid::now_v7().to_string()}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = other["id"].as_str().unwrap().to_string();
    {
        use rigmarket::db::schema::orders;
        let id: Uuid = oid(&order).parse().unwrap();
        diesel::update(orders::table.find(id))
            .set(orders::btcpay_invoice_id.eq(&other))
            .execute(&mut *app.conn().await)
            .await
            .unwrap();
    }
    mock(&market).settle(&other);
    assert_eq!(settled_webhook(&market, &other).await, "mismatch");
    assert_eq!(status_of(&market, &order).await, "awaiting_payment");
    assert_eq!(ledger_of(&market, &order).await, (vec![], 0));
    let history = events(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(history.last().unwrap().2, "btcpay_invoice_mismatch");
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn a_paid_order_whose_payment_btcpay_marks_invalid_warns_both_parties_not_to_ship() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 1).await;
    let invoice = invoice_of(&market, &order);
    mock(&market).settle(&invoice);
    assert_eq!(settled_webhook(&market, &invoice).await, "paid");
    let invalid = webhook_body("InvoiceInvalid", &invoice, &new_delivery_id());
    assert_eq!(outcome_of(&market.app, &invalid).await, "noted");
    assert_eq!(status_of(&market, &order).await, "paid", "escrow holds; an admin decides");
    for address in [&market.buyer.email, &market.seller.email] {
        assert_eq!(order_mails(&market, &order, address, "payment marked invalid").await, 1, "{address}");
    }
    let last = events(&market.app, &market.admin, &oid(&order)).await.pop().unwrap();
    assert_eq!((last.2.as_str(), last.3.as_str()), ("btcpay_payment_invalid", "btcpay"));
}
