//! The BTCPay Greenfield client against the in-process mock: what it sends, how
//! it reads answers and failures, and when it says an invoice is paid in full.

use std::time::{Duration, Instant};

use rigmarket::payments::btcpay::{
    parse_webhook, verify_signature, BtcpayClient, BtcpayConfig, BtcpayError, InvoiceRequest, InvoiceStatus,
    WebhookEventType,
};
use serde_json::json;
use uuid::Uuid;

use crate::support::btcpay::{redelivery_body, sign, webhook_body, BtcpayMock, STORE_ID, WEBHOOK_ID};

const WEBHOOK_SECRET: &str = "mock-webhook-secret";

async fn mock_and_client() -> (BtcpayMock, BtcpayClient) {
    let mock = BtcpayMock::start().await;
    let client = BtcpayClient::new(&mock.config(WEBHOOK_SECRET)).expect("client");
    (mock, client)
}

fn order_request(amount_cents: i64) -> InvoiceRequest {
    InvoiceRequest {
        order_id: Uuid::now_v7().into(),
        amount_cents,
        currency: "USD".into(),
        buyer_email: None,
        expiration_minutes: None,
        redirect_url: None,
    }
}

#[tokio::test]
async fn create_invoice_sends_the_order_and_reads_the_answer() {
    let (mock, client) = mock_and_client().await;
    let request = InvoiceRequest {
        buyer_email: Some("buyer@rigmarket.test".into()),
        expiration_minutes: Some(30),
        redirect_url: Some("https://app.rigmarket.test/orders/1".into()),
        ..order_request(123_450)
    };
    let before = chrono::Utc::now();

    let invoice = client.create_invoice(&request).await.expect("invoice created");

    assert_eq!(
        mock.created(),
        vec![json!({
            "amount": "1234.50",
            "currency": "USD",
            "metadata": { "orderId": request.order_id.to_string(), "buyerEmail": "buyer@rigmarket.test" },
            "checkout": { "redirectURL": "https://app.rigmarket.test/orders/1", "expirationMinutes": 30 },
        })]
    );
    assert_eq!(invoice.amount_cents, 123_450);
    assert_eq!(invoice.currency, "USD");
    assert_eq!(invoice.status, "New");
    assert_eq!(invoice.checkout_link, format!("{}/i/{}", mock.base_url, invoice.id));
    let expires_in = invoice.expires_at.expect("expiration") - before;
    assert!((29..=31).contains(&expires_in.num_minutes()), "{expires_in}");
    assert_eq!(mock.invoice(&invoice.id).expect("stored").amount_cents, 123_450);
}

#[tokio::test]
async fn optional_invoice_fields_are_left_out() {
    let (mock, client) = mock_and_client().await;
    let request = order_request(1);
    client.create_invoice(&request).await.unwrap();
    assert_eq!(
        mock.created(),
        vec![json!({
            "amount": "0.01",
            "currency": "USD",
            "metadata": { "orderId": request.order_id.to_string() },
            "checkout": {},
        })]
    );
}

#[tokio::test]
async fn get_invoice_reads_back_what_was_created() {
    let (_mock, client) = mock_and_client().await;
    let created = client.create_invoice(&order_request(10_000)).await.unwrap();
    let read = client.get_invoice(&created.id).await.unwrap();
    assert_eq!(read, created);
}

#[tokio::test]
async fn wrong_api_key_is_rejected_with_401() {
    let mock = BtcpayMock::start().await;
    let mut config = mock.config(WEBHOOK_SECRET);
    config.api_key = "not-the-key".to_string().into();
    let client = BtcpayClient::new(&config).unwrap();

    let err = client.create_invoice(&order_request(5_000)).await.unwrap_err();

    assert!(matches!(err, BtcpayError::Rejected { status: 401, .. }), "{err:?}");
    assert!(mock.created().is_empty(), "nothing got past authentication");
}

#[tokio::test]
async fn validation_failures_and_unknown_invoices_are_rejected() {
    let (_mock, client) = mock_and_client().await;
    let err = client.create_invoice(&order_request(-100)).await.unwrap_err();
    assert!(matches!(err, BtcpayError::Rejected { status: 422, ref body } if body.contains("amount")), "{err:?}");

    let err = client.payment_check("NoSuchInvoice").await.unwrap_err();
    assert!(matches!(err, BtcpayError::Rejected { status: 404, .. }), "{err:?}");
}

#[tokio::test]
async fn server_errors_are_unavailable_and_pass() {
    let (mock, client) = mock_and_client().await;
    mock.fail_next(1);

    let err = client.create_invoice(&order_request(5_000)).await.unwrap_err();
    assert!(matches!(err, BtcpayError::Unavailable(_)), "{err:?}");

    client.create_invoice(&order_request(5_000)).await.expect("the next request goes through");
}

#[tokio::test]
async fn closed_port_is_unavailable_at_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = BtcpayClient::new(&BtcpayConfig {
        url: format!("http://127.0.0.1:{port}").parse().unwrap(),
        store_id: STORE_ID.into(),
        api_key: "key".to_string().into(),
        webhook_secret: WEBHOOK_SECRET.to_string().into(),
    })
    .unwrap();
    let started = Instant::now();

    let err = client.get_invoice("any").await.unwrap_err();

    assert!(matches!(err, BtcpayError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn settled_invoice_is_fully_paid() {
    let (mock, client) = mock_and_client().await;
    let request = order_request(250_000);
    let invoice = client.create_invoice(&request).await.unwrap();
    mock.settle(&invoice.id);

    let check = client.payment_check(&invoice.id).await.unwrap();

    assert!(check.fully_paid, "{check:?}");
    assert_eq!(check.status, InvoiceStatus::Settled);
    assert_eq!(check.additional_status, "None");
    assert_eq!(check.invoice_id, invoice.id);
    assert_eq!(check.order_id, Some(request.order_id));
    assert_eq!((check.amount_cents, check.currency.as_str()), (250_000, "USD"));
}

#[tokio::test]
async fn overpaid_invoice_counts_as_paid() {
    let (mock, client) = mock_and_client().await;
    let invoice = client.create_invoice(&order_request(99_999)).await.unwrap();
    mock.overpay(&invoice.id);
    let check = client.payment_check(&invoice.id).await.unwrap();
    assert!(check.fully_paid, "{check:?}");
    assert_eq!(check.additional_status, "PaidOver");
}

#[tokio::test]
async fn underpaid_invoice_is_not_paid() {
    let (mock, client) = mock_and_client().await;
    let invoice = client.create_invoice(&order_request(250_000)).await.unwrap();
    mock.underpay(&invoice.id);

    let check = client.payment_check(&invoice.id).await.unwrap();

    assert!(!check.fully_paid, "{check:?}");
    assert_eq!(check.status, InvoiceStatus::Expired);
    assert_eq!(check.additional_status, "PaidPartial");
}

#[tokio::test]
async fn settled_with_money_still_due_is_not_paid() {
    let (mock, client) = mock_and_client().await;
    let invoice = client.create_invoice(&order_request(250_000)).await.unwrap();
    mock.mark_settled_but_due(&invoice.id);

    let check = client.payment_check(&invoice.id).await.unwrap();

    assert_eq!(check.status, InvoiceStatus::Settled);
    assert!(!check.fully_paid, "marked settled but the payment methods show money due: {check:?}");
}

#[tokio::test]
async fn new_unconfirmed_expired_and_invalid_invoices_are_not_paid() {
    let (mock, client) = mock_and_client().await;
    let fresh = client.create_invoice(&order_request(1_000)).await.unwrap();
    let check = client.payment_check(&fresh.id).await.unwrap();
    assert_eq!((check.status, check.fully_paid), (InvoiceStatus::New, false));

    type Transition = fn(&BtcpayMock, &str);
    let transitions: [(Transition, InvoiceStatus); 3] = [
        (BtcpayMock::process, InvoiceStatus::Processing),
        (BtcpayMock::expire, InvoiceStatus::Expired),
        (BtcpayMock::invalidate, InvoiceStatus::Invalid),
    ];
    for (transition, status) in transitions {
        let invoice = client.create_invoice(&order_request(1_000)).await.unwrap();
        transition(&mock, &invoice.id);
        let check = client.payment_check(&invoice.id).await.unwrap();
        assert_eq!((check.status, check.fully_paid), (status, false), "{check:?}");
    }
}

#[tokio::test]
async fn mock_webhook_deliveries_verify_and_parse() {
    let body = webhook_body("InvoiceSettled", "Inv1", "Delivery1");
    let secret = WEBHOOK_SECRET.to_string().into();
    assert!(verify_signature(&secret, body.as_bytes(), Some(&sign(WEBHOOK_SECRET, &body))));
    assert!(!verify_signature(&secret, body.as_bytes(), Some(&sign("other-secret", &body))));

    let event = parse_webhook(body.as_bytes()).unwrap();
    assert_eq!(event.kind, WebhookEventType::InvoiceSettled);
    assert_eq!((event.invoice_id.as_deref(), event.delivery_id.as_str()), (Some("Inv1"), "Delivery1"));
    assert_eq!((event.store_id.as_str(), event.webhook_id.as_str()), (STORE_ID, WEBHOOK_ID));
    assert_eq!((event.manually_marked, event.over_paid), (Some(false), Some(false)));
    assert!(!event.is_redelivery);

    let again = parse_webhook(redelivery_body("InvoiceSettled", "Inv1", "Delivery2", "Delivery1").as_bytes()).unwrap();
    assert!(again.is_redelivery);
    assert_eq!(again.dedup_key(), event.dedup_key());

    let expired = parse_webhook(webhook_body("InvoiceExpired", "Inv1", "Delivery3").as_bytes()).unwrap();
    assert_eq!((expired.kind, expired.partially_paid), (WebhookEventType::InvoiceExpired, Some(false)));
}
