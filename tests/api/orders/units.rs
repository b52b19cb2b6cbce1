//! Orders on a lot sold by serial: placing reserves units, shipping names the
//! serials (swapping reservations), cancelling frees them, accepting sells them
//! (and the registry says so).

use super::*;
use crate::support::assert_problem;
use crate::support::listings::{create_listing, publish};

/// A live lot of `count` units `LOT-0001`...
async fn serial_market(count: usize) -> Market {
    serial_market_with(TestApp::builder(), count, json!({})).await
}

/// As [`serial_market`], on `builder`'s app, with listing fields overridden.
pub(super) async fn serial_market_with(builder: TestAppBuilder, count: usize, overrides: Value) -> Market {
    let app = builder.spawn().await;
    let seller = party(&app, "seller").await;
    let buyer = party(&app, "buyer").await;
    let admin = party_with_roles(&app, "admin", &["admin"]).await.token;
    let mut fields = json!({"quantity": count});
    fields.as_object_mut().unwrap().extend(overrides.as_object().unwrap().clone());
    let listing = id_of(&create_listing(&app, &seller.token, fields).await);
    let body = json!({"units": (1..=count).map(|i| json!({"serial": format!("LOT-{i:04}")})).collect::<Vec<_>>()});
    let added = app.post_json(&format!("/v1/listings/{listing}/units"), Some(&seller.token), &body).await;
    assert_eq!(added.status(), 201);
    publish(&app, &seller.token, &admin, &listing).await;
    Market { app, seller, buyer, admin, listing }
}

pub(super) fn units_of(order: &Value) -> Vec<(String, String)> {
    order["units"]
        .as_array()
        .unwrap_or_else(|| panic!("no units in {order}"))
        .iter()
        .map(|u| (u["serial"].as_str().unwrap().to_string(), u["status"].as_str().unwrap().to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(s, t)| (s.to_string(), t.to_string())).collect()
}

pub(super) async fn ship_with(market: &Market, order: &Value, serials: Option<Value>) -> reqwest::Response {
    let mut body = shipment();
    if let Some(serials) = serials {
        body["serials"] = serials;
    }
    act(&market.app, &market.seller.token, &format!("/v1/orders/{}/ship", oid(order)), Some(body)).await
}

#[tokio::test]
async fn an_order_reserves_units_ships_them_by_serial_and_sells_them_on_acceptance() {
    let market = serial_market(6).await;
    let app = &market.app;
    let order = place_ok(&market, 2).await;
    assert_eq!(units_of(&order), pairs(&[("LOT-0001", "reserved"), ("LOT-0002", "reserved")]));
    assert_eq!(units(app, &market.listing).await, (4, 2, 0));
    confirm_wire(&market, &order).await;

    assert_problem(ship_with(&market, &order, None).await, 422, "validation_failed").await;
    assert_problem(ship_with(&market, &order, Some(json!(["LOT-0002"]))).await, 422, "validation_failed").await;
    assert_problem(ship_with(&market, &order, Some(json!(["LOT-0002", "lot-0002"]))).await, 422, "validation_failed")
        .await;
    assert_problem(ship_with(&market, &order, Some(json!(["LOT-0002", "NOPE-1"]))).await, 409, "unit_not_allocatable")
        .await;

    // Another buyer holds LOT-0003..0006 until they cancel.
    let other = market.another_buyer("other").await;
    let key = uuid::Uuid::new_v4().to_string();
    let second =
        json_with_status(place(app, &other.token, Some(&key), &order_body(&market.listing, 4, "wire")).await, 201)
            .await;
    assert_eq!(units_of(&second).len(), 4);
    assert_problem(
        ship_with(&market, &order, Some(json!(["LOT-0002", "LOT-0005"]))).await,
        409,
        "unit_not_allocatable",
    )
    .await;
    act_ok(app, &other.token, &format!("/v1/orders/{}/cancel", oid(&second)), None).await;
    let (_, second) = get_order(app, &other.token, &oid(&second)).await;
    assert!(second.get("units").is_none(), "cancelled: its units went back: {second}");

    // A swap: LOT-0005 instead of the reserved LOT-0001, which is available again.
    let shipped = json_with_status(ship_with(&market, &order, Some(json!(["lot-0005", "LOT-0002"]))).await, 200).await;
    assert_eq!(units_of(&shipped), pairs(&[("LOT-0002", "shipped"), ("LOT-0005", "shipped")]));
    let (_, lot_units) =
        crate::support::listings::get_as(app, &format!("/v1/listings/{}/units?status=available", market.listing), None)
            .await;
    let available: Vec<_> =
        lot_units["items"].as_array().unwrap().iter().map(|u| u["serial"].as_str().unwrap()).collect();
    assert_eq!(available, ["LOT-0001", "LOT-0003", "LOT-0004", "LOT-0006"]);
    assert_eq!(units(app, &market.listing).await, (4, 2, 0));

    confirm_delivery(&market, &order).await;
    let accepted = act_ok(app, &market.buyer.token, &format!("/v1/orders/{}/accept", oid(&order)), None).await;
    assert_eq!(units_of(&accepted), pairs(&[("LOT-0002", "accepted"), ("LOT-0005", "accepted")]));
    assert_eq!(units(app, &market.listing).await, (4, 0, 2));
    let (_, sold) = app.get_json("/v1/serials/LOT-0005").await;
    assert_eq!(sold["status"], "sold");
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn a_plain_lot_ships_without_serials_and_refuses_them() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 3})).await;
    let order = place_ok(&market, 1).await;
    assert!(order.get("units").is_none());
    confirm_wire(&market, &order).await;
    assert_problem(ship_with(&market, &order, Some(json!(["A1"]))).await, 422, "validation_failed").await;
    ship(&market, &order).await;
}

#[tokio::test]
async fn a_placement_answers_with_its_units_and_a_replay_answers_the_same() {
    let market = serial_market(4).await;
    let app = &market.app;
    let body = order_body(&market.listing, 3, "wire");
    let first = json_with_status(place(app, &market.buyer.token, Some("serial-1"), &body).await, 201).await;
    assert_eq!(
        units_of(&first),
        pairs(&[("LOT-0001", "reserved"), ("LOT-0002", "reserved"), ("LOT-0003", "reserved")])
    );
    // The answer is rendered from what placement holds: it is the order as it reads back.
    let (status, read) = get_order(app, &market.buyer.token, &oid(&first)).await;
    assert_eq!(status, 200);
    assert_eq!(read, first);

    let replayed = place(app, &market.buyer.token, Some("serial-1"), &body).await;
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(json_with_status(replayed, 201).await, first, "the replay carries the units too");
    assert_eq!(units(app, &market.listing).await, (1, 3, 0), "reserved once");
}
