//! Registering units: whole or not at all, normalised, unique within a lot and
//! in one open lot at a time; a lot sold by serial publishes with units for its
//! whole quantity and moves its quantity with them once live.

use super::*;
use crate::support::listings::{approve, delete_as, ok_json, publish, submit};

#[tokio::test]
async fn units_are_registered_normalised_and_paged_by_serial() {
    let app = TestApp::builder().spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let lot = draft_lot(&app, &seller, 3).await;
    let body = added(
        &app,
        &seller,
        &lot,
        &[
            json!({"serial": " htm3x-0002 ", "mac": "a4-5e-60-12-34-56", "grade": "b", "hashboards_working": 3,
                   "hashboard_serials": ["hb1", "hb2", "hb3"], "psu_serial": "apw12-9", "notes": " fan replaced "}),
            json!({"serial": "HTM3X-0001"}),
            json!({"serial": "HTM3X-0003", "mac": "a45e60123457"}),
        ],
    )
    .await;
    assert_eq!(body["lot_units"], 3);
    let first = &body["items"][0];
    assert_eq!(first["serial"], "HTM3X-0002");
    assert_eq!(first["mac"], "A4:5E:60:12:34:56");
    assert_eq!(first["grade"], "B");
    assert_eq!(first["hashboard_serials"], json!(["HB1", "HB2", "HB3"]));
    assert_eq!(first["psu_serial"], "APW12-9");
    assert_eq!(first["notes"], "fan replaced");
    assert_eq!(first["status"], "available");

    let listed = all_units(&app, Some(&seller), &lot, "&limit=2").await;
    let serials: Vec<_> = listed.iter().map(|u| u["serial"].as_str().unwrap()).collect();
    assert_eq!(serials, ["HTM3X-0001", "HTM3X-0002", "HTM3X-0003"]);
    assert!(all_units(&app, Some(&seller), &lot, "&status=reserved").await.is_empty());
    let (status, _) = get_as(&app, &format!("/v1/listings/{lot}/units"), None).await;
    assert_eq!(status, 404, "a draft's units stay private");

    // The same serial or MAC again in this lot is a bad row.
    let again = assert_problem(
        add_units(
            &app,
            &seller,
            &lot,
            &[json!({"serial": "x1"}), json!({"serial": "htm3x-0001", "mac": "A4:5E:60:12:34:57"})],
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let rows: Vec<_> = again["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].clone(), e["field"].clone(), e["code"].clone()))
        .collect();
    assert_eq!(
        rows,
        [(json!(1), json!("serial"), json!("already_in_lot")), (json!(1), json!("mac"), json!("already_in_lot"))]
    );
    assert_eq!(unit_count(&app).await, 3);
}

#[tokio::test]
async fn a_batch_with_bad_rows_names_every_one_and_writes_nothing() {
    let app = TestApp::builder().spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let lot = draft_lot(&app, &seller, 10).await;
    let bad = [
        json!({"serial": "GOOD-1"}),
        json!({"serial": ""}),
        json!({"serial": "S".repeat(200)}),
        json!({"serial": "GOOD-2", "mac": "12:34"}),
        json!({"serial": "GOOD-3", "grade": "Z"}),
        json!({"serial": "good-1"}),
        json!({"serial": "GOOD-4", "hashboards_working": 40}),
    ];
    let problem = assert_problem(add_units(&app, &seller, &lot, &bad).await, 422, "validation_failed").await;
    let rows: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        (1, "serial", "serial_required"),
        (2, "serial", "serial_too_long"),
        (3, "mac", "mac_invalid"),
        (4, "grade", "grade_unknown"),
        (5, "serial", "serial_repeated"),
        (6, "hashboards_working", "out_of_range"),
    ];
    let expected: Vec<_> = expected.iter().map(|(r, f, c)| (*r as u64, f.to_string(), c.to_string())).collect();
    assert_eq!(rows, expected);
    assert!(problem["errors"][0]["message"].is_string());
    assert_eq!(unit_count(&app).await, 0);

    let too_many =
        assert_problem(add_units(&app, &seller, &lot, &units("U", 5_001)).await, 422, "validation_failed").await;
    assert_eq!(too_many["errors"][0]["field"], "units");
    assert_problem(add_units(&app, &seller, &lot, &[]).await, 422, "validation_failed").await;
    assert_problem(
        add_units(&app, &seller, &lot, &[json!({"serial": "A1", "colour": "red"})]).await,
        422,
        "invalid_body",
    )
    .await;
    assert_eq!(unit_count(&app).await, 0);
}

#[tokio::test]
async fn five_thousand_units_go_in_one_call() {
    let app = TestApp::builder().spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let lot = draft_lot(&app, &seller, 5_000).await;
    let many: Vec<Value> = (1..=5_000)
        .map(|i| json!({"serial": format!("S19JPRO-{i:06}"), "mac": format!("a4:5e:60:{:02x}:{:02x}:{:02x}", i / 65536, (i / 256) % 256, i % 256), "grade": "B"}))
        .collect();
    let body = added(&app, &seller, &lot, &many).await;
    assert_eq!(body["lot_units"], 5_000);
    assert_eq!(body["items"].as_array().unwrap().len(), 5_000);
    assert_eq!(unit_count(&app).await, 5_000);
}

#[tokio::test]
async fn a_lot_sold_by_serial_publishes_complete_and_moves_its_quantity_with_its_units() {
    let app = TestApp::builder().spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (_, other) = app.create_user("other@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let lot = draft_lot(&app, &seller, 3).await;
    added(&app, &seller, &lot, &units("FARM-", 2)).await;
    submit_problem(&app, &seller, &lot, "units_incomplete").await;
    assert_problem(add_units(&app, &other, &lot, &units("X", 1)).await, 404, "listing_not_found").await;
    added(&app, &seller, &lot, &[json!({"serial": "FARM-0003"})]).await;
    let live = publish(&app, &seller, &admin, &lot).await;
    assert_eq!((live["quantity"].as_i64(), live["quantity_available"].as_i64()), (Some(3), Some(3)));

    // Units added to a live lot raise its quantity; a removed one lowers it.
    added(&app, &seller, &lot, &units("MORE-", 2)).await;
    let (_, listing) = get_as(&app, &format!("/v1/listings/{lot}"), None).await;
    assert_eq!((listing["quantity"].as_i64(), listing["quantity_available"].as_i64()), (Some(5), Some(5)));
    let gone = delete_as(&app, &format!("/v1/listings/{lot}/units/more-0002"), &seller).await;
    assert_eq!(gone.status(), 204);
    let (_, listing) = get_as(&app, &format!("/v1/listings/{lot}"), None).await;
    assert_eq!(listing["quantity"], 4);
    assert_eq!(all_units(&app, None, &lot, "").await.len(), 4, "a live lot's units are public");
    assert_problem(
        app.patch_json(&format!("/v1/listings/{lot}"), Some(&seller), &json!({"quantity": 9})).await,
        422,
        "validation_failed",
    )
    .await;

    let changed = ok_json(
        app.patch_json(
            &format!("/v1/listings/{lot}/units/farm-0001"),
            Some(&seller),
            &json!({"grade": "c", "mac": null, "notes": "one board weak"}),
        )
        .await,
    )
    .await;
    assert_eq!((changed["grade"].as_str(), changed["notes"].as_str()), (Some("C"), Some("one board weak")));
    assert_problem(
        app.patch_json(&format!("/v1/listings/{lot}/units/farm-0001"), Some(&seller), &json!({"grade": "Q"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.patch_json(&format!("/v1/listings/{lot}/units/nope"), Some(&seller), &json!({"grade": "A"})).await,
        404,
        "unit_not_found",
    )
    .await;
    assert_problem(
        app.patch_json(&format!("/v1/listings/{lot}/units/farm-0001"), Some(&other), &json!({"grade": "A"})).await,
        403,
        "not_listing_owner",
    )
    .await;
    // A plain lot (no units) still publishes as before.
    let plain = draft_lot(&app, &seller, 7).await;
    submit(&app, &seller, &plain).await;
    approve(&app, &admin, &plain).await;
    assert_problem(add_units(&app, &seller, &plain, &units("LATE-", 1)).await, 409, "lot_not_sold_by_serial").await;
}

#[tokio::test]
async fn two_sellers_adding_one_serial_at_once_leave_it_in_one_lot_and_link_both() {
    let app = TestApp::builder().spawn().await;
    let (_, first) = app.create_user("first@rigmarket.test", &[]).await;
    let (_, second) = app.create_user("second@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let a = draft_lot(&app, &first, 50).await;
    let b = draft_lot(&app, &second, 50).await;
    let batch = units("DUP-", 50);
    let (left, right) = tokio::join!(add_units(&app, &first, &a, &batch), add_units(&app, &second, &b, &batch));
    let mut statuses = [left.status().as_u16(), right.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let (winner, loser) = if left.status() == 201 { (&a, &b) } else { (&b, &a) };
    let refusal: Value = if left.status() == 409 { left.json().await.unwrap() } else { right.json().await.unwrap() };
    assert_eq!(refusal["code"], "serial_in_open_lot");
    assert_eq!(unit_count(&app).await, 50, "exactly one lot holds the serials");
    assert_eq!(all_units(&app, Some(&admin), loser, "").await.len(), 0);
    assert_eq!(all_units(&app, Some(&admin), winner, "").await.len(), 50);

    let on_loser = open_flags_on(&app, &admin, loser).await;
    assert_eq!(on_loser.len(), 50, "{on_loser:?}");
    assert_eq!(on_loser[0], ("duplicate_serial".to_string(), "DUP-0001".to_string(), Some(winner.clone())));
    let on_winner = open_flags_on(&app, &admin, winner).await;
    assert_eq!(on_winner[0], ("duplicate_serial".to_string(), "DUP-0001".to_string(), Some(loser.clone())));

    // The same seller moving a serial between two open lots is refused, unflagged.
    let other_lot = draft_lot(&app, if winner == &a { &first } else { &second }, 1).await;
    let owner = if winner == &a { &first } else { &second };
    assert_problem(add_units(&app, owner, &other_lot, &units("DUP-", 1)).await, 409, "serial_in_open_lot").await;
    assert!(open_flags_on(&app, &admin, &other_lot).await.is_empty());

    // A withdrawn lot lets its serials go.
    post_empty(&app, &format!("/v1/listings/{winner}/withdraw"), Some(owner)).await;
    added(&app, owner, &other_lot, &units("DUP-", 1)).await;
}
