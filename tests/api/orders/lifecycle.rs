//! Every transition of an order, walked with the test clock: the happy path,
//! the payment, ship, delivery and inspection timers, cancellations and
//! refunds, with units, ledger, events and emails checked at each step.

use chrono::{DateTime, Duration, Utc};
use rigmarket::ledger::Account;
use serde_json::json;

use super::*;
use crate::support::accounts::mails_for;
use crate::support::{assert_problem, default_now, listings::at};

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap_or_else(|| panic!("not a time: {value}")).parse().unwrap()
}

/// Subjects of the order emails `address` received, oldest first.
async fn order_subjects(app: &TestApp, address: &str) -> Vec<String> {
    mails_for(app, address, "Order RM-")
        .await
        .iter()
        .map(|m| m.header("Subject").unwrap_or_default())
        .map(|s| s.rsplit(": ").next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_wire_order_walks_from_placement_to_release_and_every_party_hears_of_each_step() {
    let market =
        Market::open(TestApp::builder().with_smtp(), json!({"quantity": 10, "unit_price_cents": 95_000})).await;
    let app = &market.app;
    let now = default_now();

    let order = place_ok(&market, 4).await;
    assert_eq!(order["status"], "awaiting_payment");
    assert_eq!(order["listing_id"], market.listing.as_str());
    assert_eq!(order["buyer"]["id"], market.buyer.id.to_string());
    assert_eq!(order["seller"]["id"], market.seller.id.to_string());
    assert_eq!(order["quantity"], 4);
    assert_eq!(order["unit_price_cents"], 95_000);
    assert_eq!(order["subtotal_cents"], 380_000);
    assert_eq!(order["total_cents"], 380_000, "the buyer pays the subtotal; the fee comes from the seller's side");
    assert_eq!(order["fee_cents"], 7_600, "2 % of the subtotal");
    assert_eq!(order["currency"], "USD");
    let reference = order["reference_unit_price_cents"].as_i64().expect("the S19 Pro has a tier reference");
    let expected_discount = rigmarket::catalog::discount::discount_bps(95_000, Some(reference)).unwrap() as f64 / 100.0;
    assert_eq!(order["discount_pct"].as_f64(), Some(expected_discount));
    assert_eq!(order["payment"]["method"], "wire");
    let payment_reference = order["payment"]["reference"].as_str().unwrap();
    assert!(order["payment"]["instructions"].as_str().unwrap().contains(payment_reference), "{order}");
    assert_eq!(time(&order["deadlines"]["pay_by"]), now + Duration::hours(48));
    assert!(order["deadlines"].get("ship_by").is_none(), "{order}");
    assert_eq!(order["shipping_address"]["city"], "Ekibastuz");
    assert_eq!(units(app, &market.listing).await, (6, 4, 0));

    let paid = confirm_wire(&market, &order).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payment"]["paid_amount_cents"], 380_000);
    assert_eq!(time(&paid["deadlines"]["ship_by"]), now + Duration::days(7));
    assert_eq!(time(&paid["deadlines"]["auto_refund_at"]), now + Duration::days(14));
    let id = oid(&order);
    let escrow = Account::Escrow(id.parse().unwrap());
    assert_eq!(balance(app, escrow).await, 380_000);

    app.clock.advance(Duration::days(2));
    let shipped = ship(&market, &order).await;
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(shipped["shipment"]["tracking_number"], "JD014600006281234567");
    assert_eq!(time(&shipped["deadlines"]["auto_delivery_at"]), now + Duration::days(23));

    app.clock.advance(Duration::days(5));
    let delivered = confirm_delivery(&market, &order).await;
    assert_eq!(delivered["status"], "delivered");
    assert_eq!(time(&delivered["deadlines"]["inspect_until"]), now + Duration::days(10), "3 days of inspection");

    let completed = act_ok(app, &market.buyer.token, &format!("/v1/orders/{id}/accept"), None).await;
    assert_eq!(completed["status"], "completed");
    assert_eq!(
        completed["settlement"],
        json!({"refund_cents": 0, "seller_credit_cents": 372_400, "platform_fee_cents": 7_600})
    );
    assert_eq!(units(app, &market.listing).await, (6, 0, 4));
    assert_eq!(balance(app, escrow).await, 0);
    assert_eq!(balance(app, Account::SellerPayable(market.seller.id.into())).await, 372_400);
    assert_eq!(balance(app, Account::PlatformFees).await, 7_600);
    assert_ledger_sound(app).await;

    let history = events(app, &market.buyer.token, &id).await;
    let steps: Vec<(&str, &str, &str)> =
        history.iter().map(|(_, to, reason, actor)| (to.as_str(), reason.as_str(), actor.as_str())).collect();
    assert_eq!(
        steps,
        vec![
            ("awaiting_payment", "placed", "buyer"),
            ("paid", "paid", "admin"),
            ("shipped", "shipped", "seller"),
            ("delivered", "delivery_confirmed", "buyer"),
            ("completed", "accepted", "buyer"),
        ]
    );
    assert_eq!(history[0].0, Value::Null, "placement has no previous status");
    assert_eq!(history[2].0, json!("paid"));

    let expected = vec!["awaiting payment", "paid", "shipped", "delivered", "completed"];
    assert_eq!(order_subjects(app, &market.buyer.email).await, expected);
    assert_eq!(order_subjects(app, &market.seller.email).await, expected);
    let (status, ledger) =
        crate::support::listings::get_as(app, &format!("/v1/orders/{id}/ledger"), Some(&market.seller.token)).await;
    assert_eq!(status, 200);
    let kinds: Vec<&str> =
        ledger["transactions"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["payment", "release"]);
    for transaction in ledger["transactions"].as_array().unwrap() {
        let sum: i64 =
            transaction["entries"].as_array().unwrap().iter().map(|e| e["amount_cents"].as_i64().unwrap()).sum();
        assert_eq!(sum, 0, "{transaction}");
    }
}

#[tokio::test]
async fn an_unpaid_order_is_reminded_then_expires_at_its_deadline_and_releases_the_units() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({"quantity": 10})).await;
    let app = &market.app;
    let order = place_ok(&market, 10).await;
    let (status, listing) =
        crate::support::listings::get_as(app, &format!("/v1/listings/{}", market.listing), None).await;
    assert_eq!((status, listing["status"].as_str()), (200, Some("sold_out")), "all units are reserved");

    advance(app, Duration::hours(23)).await;
    assert!(mails_for(app, &market.buyer.email, "Reminder").await.is_empty(), "too early for the reminder");
    advance(app, Duration::hours(1)).await;
    let reminders = mails_for(app, &market.buyer.email, "Reminder").await;
    assert_eq!(reminders.len(), 1, "one reminder a day before the payment deadline");

    advance(app, Duration::hours(23)).await;
    assert_eq!(get_order(app, &market.buyer.token, &oid(&order)).await.1["status"], "awaiting_payment");
    advance(app, Duration::hours(1)).await;
    let (_, expired) = get_order(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(expired["status"], "expired");
    assert_eq!(units(app, &market.listing).await, (10, 0, 0));
    let (_, listing) = crate::support::listings::get_as(app, &format!("/v1/listings/{}", market.listing), None).await;
    assert_eq!(listing["status"], "active", "back on sale");
    let last = events(app, &market.buyer.token, &oid(&order)).await.pop().unwrap();
    assert_eq!((last.1.as_str(), last.2.as_str(), last.3.as_str()), ("expired", "payment_deadline_passed", "system"));
    assert!(order_subjects(app, &market.seller.email).await.contains(&"expired".to_string()));
    // The timer fired once: running the queue again changes nothing.
    advance(app, Duration::days(3)).await;
    assert_eq!(events(app, &market.buyer.token, &oid(&order)).await.len(), 2);
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn a_missed_ship_deadline_lets_the_buyer_cancel_for_a_refund_and_refunds_automatically_a_week_later() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({"quantity": 10})).await;
    let app = &market.app;
    let cancelled_by_buyer = place_ok(&market, 2).await;
    let left_alone = place_ok(&market, 3).await;
    confirm_wire(&market, &cancelled_by_buyer).await;
    confirm_wire(&market, &left_alone).await;
    let cancel = |order: &Value| format!("/v1/orders/{}/cancel", oid(order));

    let early = act(app, &market.buyer.token, &cancel(&cancelled_by_buyer), None).await;
    assert_problem(early, 409, "ship_deadline_not_passed").await;

    advance(app, Duration::days(6)).await;
    assert_eq!(mails_for(app, &market.seller.email, "Ship the rigs").await.len(), 2, "a reminder per order");
    advance(app, Duration::days(1)).await;
    let missed = mails_for(app, &market.buyer.email, "Order RM-").await;
    assert!(
        missed.iter().filter(|m| crate::support::accounts::text_of(m).contains("did not ship")).count() == 2,
        "the buyer is told the deadline passed, for each order"
    );
    let refunded = act_ok(app, &market.buyer.token, &cancel(&cancelled_by_buyer), None).await;
    assert_eq!(refunded["status"], "refunded");
    assert_eq!(refunded["settlement"]["refund_cents"], refunded["total_cents"]);
    assert_eq!(balance(app, Account::BuyerRefund(market.buyer.id.into())).await, 2 * 95_000);
    assert_eq!(units(app, &market.listing).await, (7, 3, 0), "units never shipped go back on sale");

    advance(app, Duration::days(6)).await;
    assert_eq!(get_order(app, &market.buyer.token, &oid(&left_alone)).await.1["status"], "paid");
    assert_eq!(mails_for(app, &market.seller.email, "or the buyer is refunded").await.len(), 1);
    advance(app, Duration::days(1)).await;
    let (_, auto) = get_order(app, &market.buyer.token, &oid(&left_alone)).await;
    assert_eq!(auto["status"], "refunded");
    let last = events(app, &market.buyer.token, &oid(&left_alone)).await.pop().unwrap();
    assert_eq!((last.2.as_str(), last.3.as_str()), ("not_shipped_in_time", "system"));
    assert_eq!(balance(app, Account::BuyerRefund(market.buyer.id.into())).await, 5 * 95_000);
    assert_eq!(units(app, &market.listing).await, (10, 0, 0));
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn shipped_orders_count_as_delivered_after_21_days_and_complete_when_inspection_ends() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({"quantity": 10, "inspection_days": 7})).await;
    let app = &market.app;
    let order = place_ok(&market, 1).await;
    confirm_wire(&market, &order).await;
    ship(&market, &order).await;
    let shipped_at = app.clock.now();

    advance(app, Duration::days(20)).await;
    assert_eq!(mails_for(app, &market.buyer.email, "Confirm delivery").await.len(), 1);
    assert_eq!(get_order(app, &market.buyer.token, &oid(&order)).await.1["status"], "shipped");
    advance(app, Duration::days(1)).await;
    let (_, delivered) = get_order(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(delivered["status"], "delivered");
    assert_eq!(time(&delivered["deadlines"]["inspect_until"]), shipped_at + Duration::days(28), "the listing's 7 days");

    advance(app, Duration::days(6)).await;
    assert_eq!(mails_for(app, &market.buyer.email, "Accept the rigs").await.len(), 1);
    advance(app, Duration::days(1)).await;
    let (_, completed) = get_order(app, &market.buyer.token, &oid(&order)).await;
    assert_eq!(completed["status"], "completed");
    let reasons: Vec<(String, String)> =
        events(app, &market.buyer.token, &oid(&order)).await.into_iter().map(|e| (e.2, e.3)).collect();
    assert_eq!(reasons[3], ("delivery_assumed".into(), "system".into()));
    assert_eq!(reasons[4], ("inspection_ended".into(), "system".into()));
    assert_eq!(balance(app, Account::SellerPayable(market.seller.id.into())).await, 95_000 - 1_900);
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn the_ship_deadline_is_clamped_to_two_days_before_the_hosting_power_off() {
    let now = default_now();
    let power_off = now + Duration::days(5);
    let hosting = json!({"facility": "Sichuan Hydro 3", "country": "CN", "power_off_at": power_off});
    let market = Market::open(TestApp::builder(), json!({"quantity": 10, "hosting": hosting})).await;
    let app = &market.app;
    let order = place_ok(&market, 1).await;
    assert_eq!(time(&order["deadlines"]["pay_by"]), now + Duration::hours(48));
    app.clock.advance(Duration::hours(12));
    let paid = confirm_wire(&market, &order).await;
    assert_eq!(time(&paid["deadlines"]["ship_by"]), power_off - Duration::hours(48), "not a week after payment");

    // Close to the cutoff, payment must come before it; past it, no order.
    app.clock.advance(Duration::hours(12));
    let late = place_ok(&market, 1).await;
    assert_eq!(time(&late["deadlines"]["pay_by"]), power_off - Duration::hours(48));
    app.clock.advance(Duration::hours(47) + Duration::minutes(30));
    let body = order_body(&market.listing, 1, "wire");
    let refused = place(app, &market.buyer.token, Some("too-late"), &body).await;
    assert_problem(refused, 409, "hosting_deadline_too_close").await;
}

#[tokio::test]
async fn cancellations_close_unpaid_orders_and_refund_paid_ones() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({"quantity": 10})).await;
    let app = &market.app;
    let unpaid = place_ok(&market, 1).await;
    let cancelled = act_ok(app, &market.buyer.token, &format!("/v1/orders/{}/cancel", oid(&unpaid)), None).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["settlement"], Value::Null, "no money moved");

    let admin_unpaid = place_ok(&market, 1).await;
    let admin_paid = place_ok(&market, 2).await;
    let admin_shipped = place_ok(&market, 3).await;
    confirm_wire(&market, &admin_paid).await;
    confirm_wire(&market, &admin_shipped).await;
    ship(&market, &admin_shipped).await;
    let note = json!({"note": "fraud report confirmed by the bank"});
    let admin_cancel = |order: &Value| format!("/v1/admin/orders/{}/cancel", oid(order));
    let closed = act_ok(app, &market.admin, &admin_cancel(&admin_unpaid), Some(note.clone())).await;
    assert_eq!(closed["status"], "cancelled");
    let refunded = act_ok(app, &market.admin, &admin_cancel(&admin_paid), Some(note.clone())).await;
    assert_eq!(refunded["status"], "refunded");
    let after_shipping = act_ok(app, &market.admin, &admin_cancel(&admin_shipped), Some(note.clone())).await;
    assert_eq!(after_shipping["status"], "refunded");
    assert_eq!(balance(app, Account::BuyerRefund(market.buyer.id.into())).await, 5 * 95_000);
    assert_eq!(units(app, &market.listing).await, (7, 0, 3), "shipped units stay sold; the rest are back");
    let last = events(app, &market.admin, &oid(&admin_paid)).await.pop().unwrap();
    assert_eq!((last.2.as_str(), last.3.as_str()), ("cancelled_by_admin", "admin"));
    let missing_note =
        act(app, &market.admin, &admin_cancel(&place_ok(&market, 1).await), Some(json!({"note": ""}))).await;
    assert_problem(missing_note, 422, "validation_failed").await;
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn wire_payments_are_taken_only_in_full_and_an_excess_is_owed_back() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 10})).await;
    let app = &market.app;
    let order = place_ok(&market, 2).await;
    let path = format!("/v1/admin/orders/{}/confirm-payment", oid(&order));
    let now = app.clock.now();
    let short =
        act(app, &market.admin, &path, Some(json!({"amount_cents": 189_999, "received_at": now, "note": "partial"})))
            .await;
    assert_problem(short, 422, "payment_short").await;
    assert_eq!(get_order(app, &market.buyer.token, &oid(&order)).await.1["status"], "awaiting_payment");
    let future = json!({"amount_cents": 190_000, "received_at": now + Duration::days(1), "note": "x"});
    assert_problem(act(app, &market.admin, &path, Some(future)).await, 422, "validation_failed").await;

    let paid =
        act_ok(app, &market.admin, &path, Some(json!({"amount_cents": 200_000, "received_at": now, "note": "over"})))
            .await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payment"]["paid_amount_cents"], 200_000);
    assert_eq!(balance(app, Account::Escrow(oid(&order).parse().unwrap())).await, 190_000);
    assert_eq!(balance(app, Account::BuyerRefund(market.buyer.id.into())).await, 10_000, "the excess is owed back");
    assert_ledger_sound(app).await;
    let again =
        act(app, &market.admin, &path, Some(json!({"amount_cents": 190_000, "received_at": now, "note": "dup"}))).await;
    assert_problem(again, 409, "invalid_order_status").await;
}

#[tokio::test]
async fn orders_are_listed_by_role_and_status_and_hidden_from_outsiders() {
    let market = Market::open(TestApp::builder().at(at("2026-03-01T00:00:00Z")), json!({"quantity": 20})).await;
    let app = &market.app;
    let first = place_ok(&market, 1).await;
    let second = place_ok(&market, 1).await;
    confirm_wire(&market, &second).await;
    let list = |token: &str, query: &str| {
        let path = format!("/v1/orders?{query}");
        let token = token.to_string();
        async move { crate::support::listings::get_as(app, &path, Some(&token)).await }
    };
    let ids = |page: &Value| page["items"].as_array().unwrap().iter().map(oid).collect::<Vec<_>>();
    let (status, mine) = list(&market.buyer.token, "role=buyer").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&mine), vec![oid(&second), oid(&first)], "newest first");
    assert_eq!(ids(&list(&market.buyer.token, "role=seller").await.1), Vec::<String>::new());
    assert_eq!(ids(&list(&market.seller.token, "role=seller&status=paid").await.1), vec![oid(&second)]);
    let (_, page) = list(&market.seller.token, "limit=1").await;
    let (_, rest) =
        list(&market.seller.token, &format!("limit=1&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    assert_eq!([ids(&page), ids(&rest)].concat(), vec![oid(&second), oid(&first)]);
    assert!(list(&market.buyer.token, "status=shipping").await.0 == 400, "unknown status");

    let outsider = market.another_buyer("nosy").await;
    for path in ["", "/events", "/ledger", "/messages", "/settlement-offers", "/reviews"] {
        let response = crate::support::listings::get_response(
            app,
            &format!("/v1/orders/{}{path}", oid(&first)),
            Some(&outsider.token),
        )
        .await;
        assert_problem(response, 404, "order_not_found").await;
    }
    assert!(ids(&list(&outsider.token, "").await.1).is_empty());
    assert!(ids(&list(&market.admin, "").await.1).is_empty(), "`/v1/orders` lists the caller's own orders");
    let (status, seen) = get_order(app, &market.admin, &oid(&first)).await;
    assert_eq!((status, seen["id"].as_str()), (200, Some(oid(&first).as_str())), "admins read any order");
    let (status, queue) =
        crate::support::listings::get_as(app, "/v1/admin/orders?status=awaiting_payment", Some(&market.admin)).await;
    assert_eq!((status, ids(&queue)), (200, vec![oid(&first)]));
    let refused = crate::support::listings::get_response(app, "/v1/admin/orders", Some(&market.buyer.token)).await;
    assert_problem(refused, 403, "admin_required").await;
}
