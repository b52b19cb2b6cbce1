//! Every move refused: each action, by each kind of caller, on an order in each
//! status. The expected answer is written out here from the rules (PRODUCT.md
//! section E), not read from the code: outsiders never learn an order exists
//! (404), the wrong party is 403, the wrong status is 409 with a code. Nothing
//! a refused request touches changes.

use chrono::Duration;
use serde_json::json;

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Buyer,
    Seller,
    Admin,
    Outsider,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    AwaitingPayment,
    Paid,
    Shipped,
    Delivered,
    Disputed,
    Completed,
    Resolved,
    Cancelled,
    Expired,
    Refunded,
}

use Caller::*;
use Status::*;

const ALL_STATUSES: [Status; 10] =
    [AwaitingPayment, Paid, Shipped, Delivered, Disputed, Completed, Resolved, Cancelled, Expired, Refunded];

struct Action {
    name: &'static str,
    path: &'static str,
    admin_route: bool,
    /// Who may do it (for admin routes: admins).
    actors: &'static [Caller],
    /// The statuses it is allowed from.
    from: &'static [Status],
}

const ACTIONS: [Action; 11] = [
    Action {
        name: "cancel",
        path: "/v1/orders/{id}/cancel",
        admin_route: false,
        actors: &[Buyer],
        from: &[AwaitingPayment],
    },
    Action { name: "ship", path: "/v1/orders/{id}/ship", admin_route: false, actors: &[Seller], from: &[Paid] },
    Action {
        name: "confirm-delivery",
        path: "/v1/orders/{id}/confirm-delivery",
        admin_route: false,
        actors: &[Buyer],
        from: &[Shipped],
    },
    Action { name: "accept", path: "/v1/orders/{id}/accept", admin_route: false, actors: &[Buyer], from: &[Delivered] },
    Action {
        name: "dispute",
        path: "/v1/orders/{id}/disputes",
        admin_route: false,
        actors: &[Buyer],
        from: &[Delivered],
    },
    Action {
        name: "offer",
        path: "/v1/orders/{id}/settlement-offers",
        admin_route: false,
        actors: &[Seller],
        from: &[Disputed],
    },
    Action {
        name: "review",
        path: "/v1/orders/{id}/review",
        admin_route: false,
        actors: &[Buyer, Seller],
        from: &[Completed, Resolved],
    },
    Action {
        name: "delivery-proof",
        path: "/v1/orders/{id}/hashrate-proofs",
        admin_route: false,
        actors: &[Buyer],
        from: &[Delivered],
    },
    Action {
        name: "confirm-payment",
        path: "/v1/admin/orders/{id}/confirm-payment",
        admin_route: true,
        actors: &[Admin],
        from: &[AwaitingPayment],
    },
    Action {
        name: "resolve",
        path: "/v1/admin/orders/{id}/resolve",
        admin_route: true,
        actors: &[Admin],
        from: &[Disputed],
    },
    Action {
        name: "admin-cancel",
        path: "/v1/admin/orders/{id}/cancel",
        admin_route: true,
        actors: &[Admin],
        from: &[AwaitingPayment, Paid, Shipped, Delivered, Disputed],
    },
];

fn body_for(action: &Action, order: &Value, now: chrono::DateTime<chrono::Utc>) -> Option<Value> {
    match action.name {
        "ship" => Some(shipment()),
        "dispute" => Some(json!({"reason": "damaged", "description": "Cracked hashboard on unit 1"})),
        "offer" => Some(json!({"refund_cents": 100, "message": "a token refund"})),
        "review" => Some(json!({"rating": 5, "comment": "fine"})),
        "delivery-proof" => Some(json!({})),
        "confirm-payment" => Some(json!({"amount_cents": order["total_cents"], "received_at": now, "note": "wire in"})),
        "resolve" => Some(json!({"refund_cents": 0, "note": "seller is right"})),
        "admin-cancel" => Some(json!({"note": "fraud"})),
        _ => None,
    }
}

/// `None` when the move is allowed (it is not made here); otherwise the refusal.
fn expected_refusal(action: &Action, caller: Caller, status: Status) -> Option<(u16, &'static str)> {
    if action.admin_route {
        if caller != Admin {
            return Some((403, "admin_required"));
        }
    } else if caller == Outsider {
        return Some((404, "order_not_found"));
    } else if !action.actors.contains(&caller) {
        return Some((403, "order_action_forbidden"));
    }
    if action.from.contains(&status) {
        return None;
    }
    // Two refusals carry a more precise code than the status alone.
    match (action.name, status) {
        ("cancel", Paid) => Some((409, "ship_deadline_not_passed")),
        ("dispute", Shipped) => Some((409, "dispute_reason_not_allowed")),
        _ => Some((409, "invalid_order_status")),
    }
}

async fn order_in(market: &Market, status: Status) -> Value {
    let app = &market.app;
    let order = place_ok(market, 1).await;
    let id = oid(&order);
    let path = |suffix: &str| format!("/v1/orders/{id}/{suffix}");
    if status == AwaitingPayment {
        return order;
    }
    if status == Cancelled {
        return act_ok(app, &market.buyer.token, &path("cancel"), None).await;
    }
    confirm_wire(market, &order).await;
    if status == Refunded {
        let note = Some(json!({"note": "refund"}));
        return act_ok(app, &market.admin, &format!("/v1/admin/orders/{id}/cancel"), note).await;
    }
    if status == Paid {
        return order;
    }
    ship(market, &order).await;
    if status == Shipped {
        return order;
    }
    confirm_delivery(market, &order).await;
    match status {
        Delivered => order,
        Completed => act_ok(app, &market.buyer.token, &path("accept"), None).await,
        Disputed | Resolved => {
            let dispute = json!({"reason": "not_as_described", "description": "Stock firmware was promised"});
            let disputed = act_ok(app, &market.buyer.token, &path("disputes"), Some(dispute)).await;
            if status == Disputed {
                return disputed;
            }
            let resolution = Some(json!({"refund_cents": 20_000, "note": "partial refund"}));
            act_ok(app, &market.admin, &format!("/v1/admin/orders/{id}/resolve"), resolution).await
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn every_forbidden_move_is_refused_with_its_code_and_changes_nothing() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 30})).await;
    let app = &market.app;
    let outsider = market.another_buyer("outsider").await;

    // The expired order first: its clock move must not touch the others.
    let expired = place_ok(&market, 1).await;
    advance(app, Duration::hours(49)).await;
    let mut orders = vec![(Expired, expired)];
    for status in ALL_STATUSES.into_iter().filter(|s| *s != Expired) {
        orders.push((status, order_in(&market, status).await));
    }

    let mut checked = 0;
    for (status, order) in &orders {
        let id = oid(order);
        let (_, before) = get_order(app, &market.admin, &id).await;
        let history = events(app, &market.admin, &id).await.len();
        for action in &ACTIONS {
            for caller in [Buyer, Seller, Admin, Outsider] {
                let Some((code_status, code)) = expected_refusal(action, caller, *status) else { continue };
                let token = match caller {
                    Buyer => &market.buyer.token,
                    Seller => &market.seller.token,
                    Admin => &market.admin,
                    Outsider => &outsider.token,
                };
                let path = action.path.replace("{id}", &id);
                let response = act(app, token, &path, body_for(action, order, app.clock.now())).await;
                let answer = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                assert_eq!(
                    (answer, body["code"].as_str()),
                    (code_status, Some(code)),
                    "{} by {caller:?} on a {status:?} order: {body}",
                    action.name
                );
                checked += 1;
            }
        }
        let (_, after) = get_order(app, &market.admin, &id).await;
        assert_eq!(before, after, "a refused move changed the {status:?} order");
        assert_eq!(events(app, &market.admin, &id).await.len(), history, "a refused move wrote an event");
        assert_eq!(after["status"], status_name(*status));
    }
    assert!(checked > 300, "only {checked} refusals were checked");
    assert_ledger_sound(app).await;
}

fn status_name(status: Status) -> &'static str {
    match status {
        AwaitingPayment => "awaiting_payment",
        Paid => "paid",
        Shipped => "shipped",
        Delivered => "delivered",
        Disputed => "disputed",
        Completed => "completed",
        Resolved => "resolved",
        Cancelled => "cancelled",
        Expired => "expired",
        Refunded => "refunded",
    }
}

#[tokio::test]
async fn placement_is_refused_for_bad_input_own_listings_and_unavailable_stock_without_writing() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 3})).await;
    let app = &market.app;
    let key = Some("k");
    let refused = |response: reqwest::Response, status: u16, code: &'static str| async move {
        crate::support::assert_problem(response, status, code).await
    };
    refused(place(app, &market.seller.token, key, &order_body(&market.listing, 1, "wire")).await, 403, "own_listing")
        .await;
    refused(
        place(app, &market.buyer.token, key, &order_body(&market.listing, 4, "wire")).await,
        409,
        "insufficient_quantity",
    )
    .await;
    let body = refused(
        place(app, &market.buyer.token, key, &order_body(&market.listing, 0, "wire")).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "quantity");
    refused(
        place(app, &market.buyer.token, key, &order_body(&Uuid::now_v7().to_string(), 1, "wire")).await,
        404,
        "listing_not_found",
    )
    .await;
    refused(place(app, &market.buyer.token, key, &order_body("not-a-uuid", 1, "wire")).await, 422, "invalid_body")
        .await;
    refused(place(app, &market.buyer.token, key, &order_body(&market.listing, 1, "cash")).await, 422, "invalid_body")
        .await;
    refused(
        place(app, &market.buyer.token, key, &order_body(&market.listing, 1, "btcpay")).await,
        422,
        "payment_method_unavailable",
    )
    .await;
    let mut bad_address = order_body(&market.listing, 1, "wire");
    bad_address["shipping_address"]["country"] = json!("XX");
    bad_address["shipping_address"]["phone"] = json!("call me");
    let body = refused(place(app, &market.buyer.token, key, &bad_address).await, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["shipping_address.country", "shipping_address.phone"]);
    let mut extra = order_body(&market.listing, 1, "wire");
    extra["discount"] = json!(50);
    refused(place(app, &market.buyer.token, key, &extra).await, 422, "invalid_body").await;
    let malformed = app
        .client
        .post(app.url("/v1/orders"))
        .bearer_auth(&market.buyer.token)
        .header("Idempotency-Key", "m")
        .header("content-type", "application/json")
        .body("{\"listing_id\":")
        .send()
        .await
        .unwrap();
    refused(malformed, 400, "malformed_json").await;
    refused(place(app, "not-a-token", key, &order_body(&market.listing, 1, "wire")).await, 401, "invalid_token").await;

    // An unverified buyer may browse but not buy.
    crate::support::listings::unverify(app, market.buyer.id).await;
    refused(
        place(app, &market.buyer.token, key, &order_body(&market.listing, 1, "wire")).await,
        403,
        "email_not_verified",
    )
    .await;
    assert_eq!(order_count(app).await, 0);
    assert_eq!(units(app, &market.listing).await, (3, 0, 0));

    // A listing that is not on sale cannot be ordered.
    let other = market.another_buyer("other").await;
    let withdraw = crate::support::listings::post_empty(
        app,
        &format!("/v1/listings/{}/withdraw", market.listing),
        Some(&market.seller.token),
    )
    .await;
    assert_eq!(withdraw.status(), 200);
    refused(place(app, &other.token, key, &order_body(&market.listing, 1, "wire")).await, 409, "listing_not_buyable")
        .await;
}
