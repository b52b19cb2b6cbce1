//! The serial registry: public look-ups, stolen reports (audit-logged, lots
//! held back) and serials resold within 90 days flagged for review.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rigmarket::db::schema::units;

use super::*;
use crate::support::accounts::audit_entries_for;
use crate::support::listings::{approve, delete_as, ok_json, publish, submit};

async fn report(app: &TestApp, token: &str, serial: &str, note: &str) -> reqwest::Response {
    app.post_json(&format!("/v1/admin/serials/{serial}/stolen"), Some(token), &json!({ "note": note })).await
}

/// Marks a unit sold `days_ago`, as an accepted order will.
async fn mark_sold(app: &TestApp, serial: &str, days_ago: i64) {
    let at = Utc::now() - Duration::days(days_ago);
    diesel::update(units::table.filter(units::serial.eq(serial)))
        .set((
            units::status.eq("accepted"),
            units::in_open_lot.eq(false),
            units::sold_at.eq(Some(at)),
            units::updated_at.eq(at),
        ))
        .execute(&mut *app.conn().await)
        .await
        .unwrap();
}

#[tokio::test]
async fn anyone_can_look_a_serial_up_and_drafts_stay_private() {
    let app = TestApp::builder().at(Utc::now()).spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let unknown = lookup(&app, "never-seen").await;
    assert_eq!((unknown["status"].as_str(), unknown["serial"].as_str()), (Some("unknown"), Some("NEVER-SEEN")));
    assert!(unknown["last_seen_at"].is_null() && unknown.get("listing_id").is_none());
    assert_problem(app.get(&format!("/v1/serials/{}", "x".repeat(65))).await, 422, "validation_failed").await;

    let lot = draft_lot(&app, &seller, 2).await;
    added(&app, &seller, &lot, &units("REG-", 2)).await;
    assert_eq!(lookup(&app, "reg-0001").await["status"], "unknown", "a draft is nobody's business");
    publish(&app, &seller, &admin, &lot).await;
    let listed = lookup(&app, "reg-0001").await;
    assert_eq!((listed["status"].as_str(), listed["listing_id"].as_str()), (Some("listed"), Some(lot.as_str())));
    assert!(listed["last_seen_at"].is_string());

    mark_sold(&app, "REG-0002", 3).await;
    let sold = lookup(&app, "REG-0002").await;
    assert_eq!((sold["status"].as_str(), sold["listing_id"].as_str()), (Some("sold"), Some(lot.as_str())));
}

#[tokio::test]
async fn a_stolen_serial_holds_its_lots_back_until_the_report_is_revoked() {
    let app = TestApp::builder().at(Utc::now()).spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (_, buyer) = app.create_user("buyer@rigmarket.test", &[]).await;
    let (admin_id, admin) = app.create_user("admin@rigmarket.test", &["admin"]).await;
    let lot = draft_lot(&app, &seller, 2).await;
    added(&app, &seller, &lot, &units("HOT-", 2)).await;
    publish(&app, &seller, &admin, &lot).await;

    assert_problem(report(&app, &buyer, "HOT-0001", "mine").await, 403, "admin_required").await;
    assert_problem(report(&app, &admin, "HOT-0001", "  ").await, 422, "validation_failed").await;
    let response = report(&app, &admin, "hot-0001", "Baton Rouge police case 24-1187").await;
    assert_eq!(response.status(), 201);
    let stolen: Value = response.json().await.unwrap();
    assert_eq!(
        (stolen["serial"].as_str(), stolen["reported_by"].as_str()),
        (Some("HOT-0001"), Some(admin_id.to_string().as_str()))
    );
    assert_problem(report(&app, &admin, "HOT-0001", "again").await, 409, "serial_already_reported").await;

    let entries = audit_entries_for(&app, "admin.serial_reported_stolen").await;
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].actor_id.map(|a| a.0), entries[0].target_id.as_deref()), (Some(admin_id), Some("HOT-0001")));
    assert_eq!(lookup(&app, "HOT-0001").await["status"], "reported_stolen");

    // The live lot is hidden (back to review), flagged, and cannot be published.
    let (_, held) = get_as(&app, &format!("/v1/listings/{lot}"), Some(&seller)).await;
    assert_eq!(held["status"], "pending_review");
    assert_eq!(get_as(&app, &format!("/v1/listings/{lot}"), None).await.0, 404);
    assert_eq!(open_flags_on(&app, &admin, &lot).await, [("stolen_serial".to_string(), "HOT-0001".to_string(), None)]);
    assert_problem(
        post_empty(&app, &format!("/v1/admin/listings/{lot}/approve"), Some(&admin)).await,
        409,
        "serial_reported_stolen",
    )
    .await;

    // A new lot taking the serial is flagged at once and cannot be submitted.
    let (_, fence) = app.create_user("fence@rigmarket.test", &[]).await;
    post_empty(&app, &format!("/v1/listings/{lot}/withdraw"), Some(&seller)).await;
    let other = draft_lot(&app, &fence, 1).await;
    added(&app, &fence, &other, &units("HOT-", 1)).await;
    submit_problem(&app, &fence, &other, "serial_reported_stolen").await;

    let revoked = ok_json(delete_as(&app, "/v1/admin/serials/HOT-0001/stolen", &admin).await).await;
    assert!(revoked["revoked_at"].is_string());
    assert_problem(delete_as(&app, "/v1/admin/serials/HOT-0001/stolen", &admin).await, 404, "serial_report_not_found")
        .await;
    assert_eq!(audit_entries_for(&app, "admin.serial_report_revoked").await.len(), 1);
    assert!(open_flags_on(&app, &admin, &other).await.is_empty());
    submit(&app, &fence, &other).await;
    approve(&app, &admin, &other).await;
    assert_eq!(lookup(&app, "HOT-0001").await["status"], "listed");
}

#[tokio::test]
async fn a_serial_sold_within_90_days_and_relisted_by_another_seller_waits_for_review() {
    let app = TestApp::builder().at(Utc::now()).spawn().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let (_, reseller) = app.create_user("reseller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let first = draft_lot(&app, &seller, 3).await;
    added(&app, &seller, &first, &units("SOLD-", 3)).await;
    mark_sold(&app, "SOLD-0001", 30).await;
    mark_sold(&app, "SOLD-0002", 120).await;
    mark_sold(&app, "SOLD-0003", 10).await;

    // The same seller relisting is not suspicious; another seller within 90 days is.
    let own = draft_lot(&app, &seller, 1).await;
    added(&app, &seller, &own, &[json!({"serial": "SOLD-0003"})]).await;
    assert!(open_flags_on(&app, &admin, &own).await.is_empty());

    let lot = draft_lot(&app, &reseller, 2).await;
    added(&app, &reseller, &lot, &[json!({"serial": "sold-0001"}), json!({"serial": "SOLD-0002"})]).await;
    let flags = open_flags_on(&app, &admin, &lot).await;
    assert_eq!(flags, [("resold_serial".to_string(), "SOLD-0001".to_string(), Some(first.clone()))]);
    submit(&app, &reseller, &lot).await;
    assert_problem(
        post_empty(&app, &format!("/v1/admin/listings/{lot}/approve"), Some(&admin)).await,
        409,
        "serial_under_review",
    )
    .await;
    let (_, queue) = get_as(&app, "/v1/admin/flags?limit=100", Some(&admin)).await;
    let flag = queue["items"].as_array().unwrap().iter().find(|f| f["listing_id"] == lot.as_str()).unwrap().clone();
    assert!(flag["reporter_id"].is_null());
    let resolved = app
        .post_json(
            &format!("/v1/admin/flags/{}/resolve", flag["id"].as_str().unwrap()),
            Some(&admin),
            &json!({"action": "dismiss", "note": "Invoice from the first buyer checked"}),
        )
        .await;
    assert_eq!(resolved.status(), 200);
    approve(&app, &admin, &lot).await;
}
