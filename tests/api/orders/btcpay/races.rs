//! Races on one order: deliveries against each other, against an admin
//! confirmation or cancel, and against the payment deadline; each pays once.

use super::*;

#[tokio::test]
async fn an_admin_confirms_a_btcpay_order_only_when_btcpay_reports_it_settled() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 1).await;
    let invoice = invoice_of(&market, &order);
    let body = json!({"amount_cents": 95_000, "received_at": market.app.clock.now(), "note": "webhook looks stuck"});
    let path = format!("/v1/admin/orders/{}/confirm-payment", oid(&order));
    assert_problem(act(&market.app, &market.admin, &path, Some(body.clone())).await, 422, "payment_not_settled").await;
    mock(&market).underpay(&invoice);
    assert_problem(act(&market.app, &market.admin, &path, Some(body.clone())).await, 422, "payment_not_settled").await;
    assert_eq!(ledger_of(&market, &order).await, (vec![], 0));

    let other = place_btcpay(&market, 1).await;
    let other_invoice = invoice_of(&market, &other);
    mock(&market).settle(&other_invoice);
    let path = format!("/v1/admin/orders/{}/confirm-payment", oid(&other));
    let paid = act_ok(&market.app, &market.admin, &path, Some(body)).await;
    assert_eq!(paid["status"], "paid");
    let last = events(&market.app, &market.admin, &oid(&other)).await.pop().unwrap();
    assert_eq!((last.2.as_str(), last.3.as_str()), ("paid", "admin"));
    // The webhook arriving afterwards is about the same money: nothing more is recorded.
    assert_eq!(settled_webhook(&market, &other_invoice).await, "duplicate");
    assert_eq!(payments_and_paid_events(&market, &other).await, (1, 1));
    assert_eq!(balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await, 0);
    assert_ledger_sound(&market.app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_and_an_admin_confirmation_racing_on_one_order_pay_it_once() {
    let market = btcpay_market().await;
    let mut admin_won = 0;
    for round in 0..10 {
        let order = place_btcpay(&market, 1).await;
        let invoice = invoice_of(&market, &order);
        mock(&market).settle(&invoice);
        let webhook = webhook_body("InvoiceSettled", &invoice, &new_delivery_id());
        let path = format!("/v1/admin/orders/{}/confirm-payment", oid(&order));
        let body = json!({"amount_cents": 95_000, "received_at": market.app.clock.now(), "note": "seen in BTCPay"});

        let ((hook_status, hook), admin) =
            tokio::join!(deliver(&market.app, &webhook), act(&market.app, &market.admin, &path, Some(body)));
        let admin_status = admin.status().as_u16();
        let admin_body: Value = admin.json().await.unwrap_or(Value::Null);

        assert_eq!(hook_status, 200, "round {round}: {hook}");
        match (hook["outcome"].as_str(), admin_status) {
            (Some("paid"), 409) => assert_eq!(admin_body["code"], "invalid_order_status", "round {round}"),
            (Some("duplicate"), 200) => admin_won += 1,
            other => panic!("round {round}: webhook {hook}, admin {admin_status} {admin_body}: {other:?}"),
        }
        assert_eq!(payments_and_paid_events(&market, &order).await, (1, 1), "round {round}");
        assert_eq!(ledger_of(&market, &order).await.1, 95_000, "round {round}");
    }
    assert_eq!(balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await, 0, "no money counted twice");
    assert_ledger_sound(&market.app).await;
    println!("the admin won {admin_won} of 10 rounds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deliveries_racing_on_one_invoice_pay_it_once() {
    let market = btcpay_market().await;
    for round in 0..10 {
        let order = place_btcpay(&market, 1).await;
        let invoice = invoice_of(&market, &order);
        mock(&market).settle(&invoice);
        let a = webhook_body("InvoiceSettled", &invoice, &new_delivery_id());
        let b = webhook_body("InvoiceSettled", &invoice, &new_delivery_id());

        let (first, second) = tokio::join!(deliver(&market.app, &a), deliver(&market.app, &b));

        let mut outcomes = vec![first.1["outcome"].clone(), second.1["outcome"].clone()];
        outcomes.sort_by_key(|o| o.to_string());
        assert_eq!((first.0, second.0), (200, 200), "round {round}: {first:?} {second:?}");
        assert_eq!(outcomes, vec![json!("duplicate"), json!("paid")], "round {round}");
        assert_eq!(payments_and_paid_events(&market, &order).await, (1, 1), "round {round}");
        assert_eq!(ledger_of(&market, &order).await.1, 95_000, "round {round}");
    }
    assert_ledger_sound(&market.app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_delivery_racing_itself_pays_once() {
    let market = btcpay_market().await;
    for round in 0..10 {
        let order = place_btcpay(&market, 1).await;
        let invoice = invoice_of(&market, &order);
        mock(&market).settle(&invoice);
        let first = new_delivery_id();
        let original = webhook_body("InvoiceSettled", &invoice, &first);
        let redelivery = redelivery_body("InvoiceSettled", &invoice, &new_delivery_id(), &first);

        let (a, b) = tokio::join!(deliver(&market.app, &original), deliver(&market.app, &redelivery));

        let mut outcomes = vec![a.1["outcome"].clone(), b.1["outcome"].clone()];
        outcomes.sort_by_key(|o| o.to_string());
        assert_eq!(outcomes, vec![json!("duplicate"), json!("paid")], "round {round}: {a:?} {b:?}");
        assert_eq!(payments_and_paid_events(&market, &order).await, (1, 1), "round {round}");
    }
    assert_ledger_sound(&market.app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settlement_racing_an_admin_cancel_ends_one_consistent_way() {
    let market = btcpay_market().await;
    let mut owed = 0;
    for round in 0..10 {
        let order = place_btcpay(&market, 1).await;
        let invoice = invoice_of(&market, &order);
        mock(&market).settle(&invoice);
        let body = webhook_body("InvoiceSettled", &invoice, &new_delivery_id());
        let cancel_path = format!("/v1/admin/orders/{}/cancel", oid(&order));
        let note = json!({"note": "buyer asked to cancel"});

        let ((hook_status, hook), cancel) =
            tokio::join!(deliver(&market.app, &body), act(&market.app, &market.admin, &cancel_path, Some(note)));

        let cancel_status = cancel.status().as_u16();
        let cancelled: Value = cancel.json().await.unwrap();
        assert_eq!((hook_status, cancel_status), (200, 200), "round {round}: {hook} {cancelled}");
        let (kinds, escrow) = ledger_of(&market, &order).await;
        match hook["outcome"].as_str().unwrap() {
            // The webhook won: paid, then the cancel refunded the escrow.
            "paid" => {
                assert_eq!(cancelled["status"], "refunded", "round {round}");
                assert_eq!(kinds, vec!["payment", "refund"], "round {round}");
            }
            // The cancel won: the money arrived for a closed order and is owed back.
            "late_payment_refundable" => {
                assert_eq!(cancelled["status"], "cancelled", "round {round}");
                assert_eq!(kinds, vec!["late_payment"], "round {round}");
            }
            other => panic!("round {round}: unexpected outcome {other}"),
        }
        assert_eq!(escrow, 0, "round {round}");
        owed += 95_000;
        assert_eq!(balance(&market.app, Account::BuyerRefund(market.buyer.id.into())).await, owed, "round {round}");
        assert!(payments_and_paid_events(&market, &order).await.0 <= 1);
    }
    assert_eq!(units(&market.app, &market.listing).await, (10, 0, 0), "every unit back on sale");
    assert_ledger_sound(&market.app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settlement_racing_the_payment_deadline_ends_one_consistent_way() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 1).await;
    let invoice = invoice_of(&market, &order);
    mock(&market).settle(&invoice);
    market.app.clock.advance(chrono::Duration::hours(48));
    let body = webhook_body("InvoiceSettled", &invoice, &new_delivery_id());

    let ((status, hook), _) = tokio::join!(deliver(&market.app, &body), market.app.drain_jobs());

    assert_eq!(status, 200, "{hook}");
    let (kinds, escrow) = ledger_of(&market, &order).await;
    match hook["outcome"].as_str().unwrap() {
        "paid" => {
            assert_eq!(status_of(&market, &order).await, "paid");
            assert_eq!((kinds, escrow), (vec!["payment".to_string()], 95_000));
        }
        "late_payment_refundable" => {
            assert_eq!(status_of(&market, &order).await, "expired");
            assert_eq!((kinds, escrow), (vec!["late_payment".to_string()], 0));
        }
        other => panic!("unexpected outcome {other}"),
    }
    assert_ledger_sound(&market.app).await;
}
