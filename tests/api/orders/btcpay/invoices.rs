//! Invoices: created through the Greenfield API at placement, or by the
//! invoice timer when BTCPay was down, and their checkout link emailed.

use super::*;

#[tokio::test]
async fn placing_a_btcpay_order_creates_its_invoice_for_the_total() {
    let market = btcpay_market().await;
    let order = place_btcpay(&market, 2).await;

    assert_eq!(order["status"], "awaiting_payment");
    assert_eq!(order["total_cents"], 190_000);
    assert_eq!(order["payment"]["method"], "btcpay");
    assert!(order["payment"].get("instructions").is_none(), "no wire instructions for BTCPay: {order}");
    let created = mock(&market).created();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["amount"], "1900.00", "the total as a decimal string of whole cents");
    assert_eq!(created[0]["currency"], "USD");
    assert_eq!(created[0]["metadata"]["orderId"], oid(&order));
    assert_eq!(created[0]["metadata"]["buyerEmail"], market.buyer.email);
    assert_eq!(created[0]["checkout"]["expirationMinutes"], 48 * 60, "the invoice lives as long as the order waits");
    let invoice = invoice_of(&market, &order);
    let stored = mock(&market).invoice(&invoice).expect("the invoice exists at BTCPay");
    assert_eq!((stored.amount_cents, stored.currency.as_str()), (190_000, "USD"));

    let (_, read) = get_order(&market.app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(read["payment"]["invoice_url"], order["payment"]["invoice_url"]);
    assert_eq!(units(&market.app, &market.listing).await, (8, 2, 0));
    assert_eq!(ledger_of(&market, &order).await, (vec![], 0), "nothing is paid yet");
    let link = order["payment"]["invoice_url"].as_str().unwrap();
    let mails = mails_for(&market.app, &market.buyer.email, "your BTCPay invoice").await;
    assert_eq!(mails.len(), 1, "the buyer can pay from the email too");
    assert!(text_of(&mails[0]).contains(link), "{}", text_of(&mails[0]));

    // The invoice timer finds the invoice already there and creates no second one.
    advance(&market.app, chrono::Duration::minutes(5)).await;
    assert_eq!(mock(&market).created().len(), 1);
    assert_eq!(mails_for(&market.app, &market.buyer.email, "your BTCPay invoice").await.len(), 1);
}

#[tokio::test]
async fn btcpay_orders_are_refused_when_btcpay_is_not_configured() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let body = order_body(&market.listing, 1, "btcpay");
    let response = place(&market.app, &market.buyer.token, Some("no-btcpay-here"), &body).await;
    assert_problem(response, 422, "payment_method_unavailable").await;
    assert_eq!(order_count(&market.app).await, 0);
    assert_eq!(units(&market.app, &market.listing).await, (10, 0, 0));

    // The webhook endpoint has nothing to verify against either.
    let body = webhook_body("InvoiceSettled", "SomeInvoice", &new_delivery_id());
    let response = post_webhook(&market.app, &body, Some(&sign(WEBHOOK_SECRET, &body))).await;
    assert_problem(response, 404, "btcpay_not_configured").await;
}

#[tokio::test]
async fn an_invoice_btcpay_could_not_create_at_placement_comes_from_the_timer_and_is_emailed() {
    let market = btcpay_market().await;
    mock(&market).fail_next(1);

    let body = order_body(&market.listing, 1, "btcpay");
    let order =
        json_with_status(place(&market.app, &market.buyer.token, Some("pending-invoice"), &body).await, 201).await;
    assert_eq!(order["status"], "awaiting_payment");
    assert!(order["payment"].get("invoice_url").is_none(), "no invoice yet: {order}");
    assert!(mock(&market).created().is_empty());

    advance(&market.app, chrono::Duration::seconds(29)).await;
    assert!(mock(&market).created().is_empty(), "the timer waits 30 s");

    // Still down at the first timer run: the job is retried later.
    mock(&market).fail_next(1);
    advance(&market.app, chrono::Duration::seconds(1)).await;
    assert!(mock(&market).created().is_empty());
    let (_, read) = get_order(&market.app, &market.buyer.token, &oid(&order)).await;
    assert!(read["payment"].get("invoice_url").is_none(), "{read}");

    advance(&market.app, chrono::Duration::seconds(10)).await;
    let created = mock(&market).created();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["amount"], "950.00");
    assert_eq!(created[0]["metadata"]["orderId"], oid(&order));
    let (_, read) = get_order(&market.app, &market.buyer.token, &oid(&order)).await;
    let invoice = invoice_of(&market, &read);
    let link = read["payment"]["invoice_url"].as_str().unwrap().to_string();
    assert!(mock(&market).invoice(&invoice).is_some());

    let mails = mails_for(&market.app, &market.buyer.email, "your BTCPay invoice").await;
    assert_eq!(mails.len(), 1);
    assert!(text_of(&mails[0]).contains(&link), "the email carries the checkout link:\n{}", text_of(&mails[0]));
    // A retry of the placement now answers with the invoice as well.
    let replay =
        json_with_status(place(&market.app, &market.buyer.token, Some("pending-invoice"), &body).await, 201).await;
    assert_eq!(replay["id"], order["id"]);
    assert_eq!(replay["payment"]["invoice_url"], link.as_str());

    // And the invoice it made pays the order.
    mock(&market).settle(&invoice);
    assert_eq!(settled_webhook(&market, &invoice).await, "paid");
    assert_eq!(status_of(&market, &order).await, "paid");
    assert_ledger_sound(&market.app).await;
}
