//! A stand-in for BTCPay Server, which cannot run here: a real HTTP server on a
//! loopback port speaking the Greenfield subset rigmarket uses, for one store.
//!
//! `POST /api/v1/stores/{storeId}/invoices`, `GET .../invoices/{invoiceId}` and
//! `GET .../invoices/{invoiceId}/payment-methods`, with `Authorization: token
//! <key>` enforced (401 otherwise) and Greenfield-shaped answers and errors.
//! Tests move invoices through their life (`settle`, `underpay`, `expire`, ...),
//! make the next answers fail (`fail_next`), read what the app sent
//! (`created`), and build signed webhook deliveries (`webhook_body`, `sign`).
//!
//! Amounts: the mock accepts only exact cents ("1234.50"), stricter than BTCPay,
//! so a test fails if the app ever sends a fraction of a cent. It prices BTC at
//! 100,000 units of the invoice currency, so one cent is ten satoshis and every
//! crypto amount it reports is exact.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use rigmarket::payments::btcpay::BtcpayConfig;
use serde_json::{json, Value};
use sha2::Sha256;

pub const STORE_ID: &str = "MockStore7QhX2v";
pub const API_KEY: &str = "mock-greenfield-api-key-0123456789";
pub const WEBHOOK_ID: &str = "MockWebhookK3nD";
/// The webhook secret `TestApp::builder().with_btcpay()` configures.
pub const WEBHOOK_SECRET: &str = "test-webhook-secret-6f1d2a";
const SATS_PER_CENT: i64 = 10;
const DEFAULT_EXPIRATION_MINUTES: i64 = 15;

/// One invoice as the mock holds it.
#[derive(Debug, Clone)]
pub struct MockInvoice {
    pub id: String,
    pub amount_cents: i64,
    pub currency: String,
    pub metadata: Value,
    pub checkout: Value,
    pub status: &'static str,
    pub additional_status: &'static str,
    pub paid_sats: i64,
    pub created_time: i64,
    pub expiration_time: i64,
}

impl MockInvoice {
    fn amount_sats(&self) -> i64 {
        self.amount_cents * SATS_PER_CENT
    }

    fn to_json(&self, base_url: &str) -> Value {
        json!({
            "id": self.id,
            "storeId": STORE_ID,
            "amount": cents(self.amount_cents),
            "currency": self.currency,
            "type": "Standard",
            "checkoutLink": format!("{base_url}/i/{}", self.id),
            "createdTime": self.created_time,
            "expirationTime": self.expiration_time,
            "monitoringExpiration": self.expiration_time + 3600,
            "status": self.status,
            "additionalStatus": self.additional_status,
            "availableStatusesForManualMarking": [],
            "archived": false,
            "metadata": self.metadata,
            "checkout": self.checkout,
            "receipt": {},
        })
    }

    fn payment_methods_json(&self) -> Value {
        let paid = btc(self.paid_sats);
        let payments: Vec<Value> = if self.paid_sats > 0 {
            vec![json!({
                "id": format!("{}-0", self.id),
                "receivedDate": self.created_time + 60,
                "value": paid,
                "fee": "0.00000000",
                "status": if self.status == "Settled" { "Settled" } else { "Processing" },
                "destination": "bcrt1qmockdestination",
            })]
        } else {
            vec![]
        };
        json!([{
            "activated": true,
            "paymentMethod": "BTC-CHAIN",
            "cryptoCode": "BTC",
            "destination": "bcrt1qmockdestination",
            "paymentLink": format!("bitcoin:bcrt1qmockdestination?amount={}", btc(self.amount_sats())),
            "rate": "100000.00",
            "paymentMethodPaid": paid,
            "totalPaid": paid,
            // Negative when overpaid, as BTCPay reports it.
            "due": btc(self.amount_sats() - self.paid_sats),
            "amount": btc(self.amount_sats()),
            "networkFee": "0.00000000",
            "payments": payments,
        }])
    }
}

#[derive(Default)]
struct State {
    invoices: HashMap<String, MockInvoice>,
    created: Vec<Value>,
    fail_next: usize,
}

struct Shared {
    base_url: String,
    state: Mutex<State>,
}

pub struct BtcpayMock {
    pub base_url: String,
    shared: Arc<Shared>,
    handle: ServerHandle,
}

impl BtcpayMock {
    pub async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared { base_url: base_url.clone(), state: Mutex::default() });
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/api/v1/stores/{store_id}/invoices", web::post().to(create_invoice))
                .route("/api/v1/stores/{store_id}/invoices/{invoice_id}", web::get().to(get_invoice))
                .route(
                    "/api/v1/stores/{store_id}/invoices/{invoice_id}/payment-methods",
                    web::get().to(payment_methods),
                )
                .default_service(web::to(|| async { greenfield_error(404, "not-found", "Not found") }))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { base_url, shared, handle }
    }

    /// A config pointing at this mock with its store and API key.
    pub fn config(&self, webhook_secret: &str) -> BtcpayConfig {
        BtcpayConfig {
            url: self.base_url.parse().unwrap(),
            store_id: STORE_ID.into(),
            api_key: API_KEY.to_string().into(),
            webhook_secret: webhook_secret.to_string().into(),
        }
    }

    /// The bodies of the create-invoice requests that got past authentication.
    pub fn created(&self) -> Vec<Value> {
        self.state().created.clone()
    }

    pub fn invoice(&self, id: &str) -> Option<MockInvoice> {
        self.state().invoices.get(id).cloned()
    }

    /// The next `n` requests are answered 503 before anything else is looked at.
    pub fn fail_next(&self, n: usize) {
        self.state().fail_next = n;
    }

    /// Paid in full and confirmed.
    pub fn settle(&self, id: &str) {
        self.update(id, |i| (i.paid_sats, i.status, i.additional_status) = (i.amount_sats(), "Settled", "None"));
    }

    /// Paid 10% more than asked, confirmed.
    pub fn overpay(&self, id: &str) {
        self.update(id, |i| {
            (i.paid_sats, i.status, i.additional_status) = (i.amount_sats() * 11 / 10, "Settled", "PaidOver")
        });
    }

    /// Paid in full, waiting for confirmations.
    pub fn process(&self, id: &str) {
        self.update(id, |i| (i.paid_sats, i.status, i.additional_status) = (i.amount_sats(), "Processing", "None"));
    }

    /// Half paid, then the invoice expired.
    pub fn underpay(&self, id: &str) {
        self.update(id, |i| {
            (i.paid_sats, i.status, i.additional_status) = (i.amount_sats() / 2, "Expired", "PaidPartial")
        });
    }

    /// Expired with nothing paid.
    pub fn expire(&self, id: &str) {
        self.update(id, |i| (i.status, i.additional_status) = ("Expired", "None"));
    }

    /// Invalid (e.g. the payment was double-spent or never confirmed).
    pub fn invalidate(&self, id: &str) {
        self.update(id, |i| (i.status, i.additional_status) = ("Invalid", "None"));
    }

    /// An admin marked it settled by hand while nothing (or not enough) arrived.
    pub fn mark_settled_but_due(&self, id: &str) {
        self.update(id, |i| (i.status, i.additional_status) = ("Settled", "Marked"));
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut MockInvoice)) {
        let mut state = self.state();
        let invoice = state.invoices.get_mut(id).unwrap_or_else(|| panic!("the mock has no invoice {id}"));
        change(invoice);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }
}

impl Drop for BtcpayMock {
    fn drop(&mut self) {
        // Sends the stop command now; the returned future only waits for it.
        drop(self.handle.stop(false));
    }
}

/// A Greenfield-shaped delivery of `kind` about `invoice_id`, as BTCPay writes
/// it (indented JSON, camelCase, the per-type flags set to false).
pub fn webhook_body(kind: &str, invoice_id: &str, delivery_id: &str) -> String {
    delivery(kind, invoice_id, delivery_id, None)
}

/// A redelivery: a new `deliveryId` carrying the first one as `originalDeliveryId`.
pub fn redelivery_body(kind: &str, invoice_id: &str, delivery_id: &str, original_delivery_id: &str) -> String {
    delivery(kind, invoice_id, delivery_id, Some(original_delivery_id))
}

fn delivery(kind: &str, invoice_id: &str, delivery_id: &str, original: Option<&str>) -> String {
    let mut body = json!({
        "deliveryId": delivery_id,
        "webhookId": WEBHOOK_ID,
        "originalDeliveryId": original,
        "isRedelivery": original.is_some(),
        "type": kind,
        "timestamp": chrono::Utc::now().timestamp(),
        "storeId": STORE_ID,
        "invoiceId": invoice_id,
        "metadata": {},
    });
    let flags: &[&str] = match kind {
        "InvoiceSettled" => &["manuallyMarked", "overPaid"],
        "InvoiceInvalid" => &["manuallyMarked"],
        "InvoiceProcessing" => &["overPaid"],
        "InvoiceExpired" => &["partiallyPaid"],
        "InvoiceReceivedPayment" | "InvoicePaymentSettled" => &["afterExpiration"],
        _ => &[],
    };
    for flag in flags {
        body[*flag] = json!(false);
    }
    serde_json::to_string_pretty(&body).unwrap()
}

/// The `BTCPay-Sig` header value for `body`: `sha256=<lowercase hex HMAC-SHA256>`.
pub fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn create_invoice(
    shared: web::Data<Shared>,
    request: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(refusal) = refusal(&shared, &request, &path) {
        return refusal;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return greenfield_error(400, "invalid-json", "The request body is not JSON");
    };
    shared.state.lock().unwrap().created.push(body.clone());
    let amount_cents = match body.get("amount").and_then(Value::as_str).map(parse_cents) {
        Some(Amount::Cents(cents)) => cents,
        Some(Amount::Negative) => return validation_error("amount", "The amount should be 0 or more."),
        Some(Amount::Invalid) | None => {
            return greenfield_error(400, "invalid-amount", "amount must be a decimal string of whole cents")
        }
    };
    let Some(currency) = body.get("currency").and_then(Value::as_str).filter(|c| !c.is_empty()) else {
        return validation_error("currency", "Currency is required");
    };
    let checkout = body.get("checkout").cloned().unwrap_or_else(|| json!({}));
    let expiration_minutes = match checkout.get("expirationMinutes") {
        None | Some(Value::Null) => DEFAULT_EXPIRATION_MINUTES,
        Some(minutes) => match minutes.as_i64() {
            Some(minutes) if minutes >= 1 => minutes,
            _ => return validation_error("checkout.expirationMinutes", "Expiration time must be at least 30 seconds"),
        },
    };
    let now = chrono::Utc::now().timestamp();
    let invoice = MockInvoice {
        id: uuid::Uuid::new_v4().simple().to_string()[..22].to_string(),
        amount_cents,
        currency: currency.to_string(),
        metadata: body.get("metadata").cloned().unwrap_or_else(|| json!({})),
        checkout,
        status: "New",
        additional_status: "None",
        paid_sats: 0,
        created_time: now,
        expiration_time: now + expiration_minutes * 60,
    };
    let answer = invoice.to_json(&shared.base_url);
    shared.state.lock().unwrap().invoices.insert(invoice.id.clone(), invoice);
    HttpResponse::Ok().json(answer)
}

async fn get_invoice(
    shared: web::Data<Shared>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (store_id, invoice_id) = path.into_inner();
    if let Some(refusal) = refusal(&shared, &request, &store_id) {
        return refusal;
    }
    match shared.state.lock().unwrap().invoices.get(&invoice_id) {
        Some(invoice) => HttpResponse::Ok().json(invoice.to_json(&shared.base_url)),
        None => greenfield_error(404, "invoice-not-found", "The invoice was not found"),
    }
}

async fn payment_methods(
    shared: web::Data<Shared>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (store_id, invoice_id) = path.into_inner();
    if let Some(refusal) = refusal(&shared, &request, &store_id) {
        return refusal;
    }
    match shared.state.lock().unwrap().invoices.get(&invoice_id) {
        Some(invoice) => HttpResponse::Ok().json(invoice.payment_methods_json()),
        None => greenfield_error(404, "invoice-not-found", "The invoice was not found"),
    }
}

/// The answer when a request does not get through: injected failures first,
/// then the API key, then the store, as BTCPay checks them.
fn refusal(shared: &Shared, request: &HttpRequest, store_id: &str) -> Option<HttpResponse> {
    {
        let mut state = shared.state.lock().unwrap();
        if state.fail_next > 0 {
            state.fail_next -= 1;
            return Some(HttpResponse::ServiceUnavailable().body("BTCPay Server is starting"));
        }
    }
    let authorization = request.headers().get("authorization").and_then(|v| v.to_str().ok());
    if authorization != Some(&format!("token {API_KEY}")) {
        return Some(greenfield_error(
            401,
            "unauthenticated",
            "Authentication is required for accessing this endpoint",
        ));
    }
    if store_id != STORE_ID {
        return Some(greenfield_error(404, "store-not-found", "The store was not found"));
    }
    None
}

fn greenfield_error(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(json!({ "code": code, "message": message }))
}

/// Greenfield validation failures: 422 with `[{path, message}]`.
fn validation_error(path: &str, message: &str) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(json!([{ "path": path, "message": message }]))
}

enum Amount {
    Cents(i64),
    Negative,
    Invalid,
}

fn parse_cents(text: &str) -> Amount {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let valid = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.len() <= 2
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && fraction.is_empty());
    match (valid, negative) {
        (false, _) => Amount::Invalid,
        (true, true) => Amount::Negative,
        (true, false) => {
            let fraction: i64 = format!("{fraction:0<2}").parse().unwrap();
            match whole.parse::<i64>().ok().and_then(|w| w.checked_mul(100)).and_then(|c| c.checked_add(fraction)) {
                Some(cents) => Amount::Cents(cents),
                None => Amount::Invalid,
            }
        }
    }
}

fn cents(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn btc(sats: i64) -> String {
    let sign = if sats < 0 { "-" } else { "" };
    format!("{sign}{}.{:08}", sats.abs() / 100_000_000, sats.abs() % 100_000_000)
}
