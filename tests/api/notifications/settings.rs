//! `GET/PATCH /v1/me/notification-settings`: informational emails can be kept
//! to the inbox; the ones a party must act on cannot.

use serde_json::{json, Value};

use super::{inbox_of, types};
use crate::orders::{confirm_wire, json_with_status, place_ok, ship, Market};
use crate::support::accounts::{get_bearer, mails_for};
use crate::support::{assert_problem, TestApp};

fn setting<'a>(settings: &'a Value, kind: &str) -> &'a Value {
    settings["email"].as_array().unwrap().iter().find(|s| s["type"] == kind).unwrap_or_else(|| panic!("{kind}"))
}

#[tokio::test]
async fn a_muted_email_is_not_sent_but_the_event_still_lands_in_the_inbox() {
    let market = Market::open(TestApp::builder().with_smtp(), json!({"quantity": 10})).await;
    let app = &market.app;
    let token = &market.buyer.token;

    let defaults = json_with_status(get_bearer(app, "/v1/me/notification-settings", token).await, 200).await;
    assert_eq!(setting(&defaults, "order.shipped"), &json!({"type": "order.shipped", "email": true, "can_mute": true}));
    assert_eq!(setting(&defaults, "order.paid"), &json!({"type": "order.paid", "email": true, "can_mute": false}));

    let body = json!({"email": {"order.shipped": false, "order.message_posted": false}});
    let updated = json_with_status(app.patch_json("/v1/me/notification-settings", Some(token), &body).await, 200).await;
    assert_eq!(setting(&updated, "order.shipped")["email"], false);
    assert_eq!(setting(&updated, "order.message_posted")["email"], false);
    assert_eq!(setting(&updated, "order.delivered")["email"], true);
    let again = json_with_status(get_bearer(app, "/v1/me/notification-settings", token).await, 200).await;
    assert_eq!(again, updated);

    let order = place_ok(&market, 1).await;
    confirm_wire(&market, &order).await;
    ship(&market, &order).await;
    let subjects = |mails: Vec<crate::support::smtp::ReceivedMail>| {
        mails.iter().map(|m| m.header("Subject").unwrap_or_default()).collect::<Vec<_>>()
    };
    let buyer_mail = subjects(mails_for(app, &market.buyer.email, "Order RM-").await);
    assert!(buyer_mail.iter().any(|s| s.ends_with(": paid")), "{buyer_mail:?}");
    assert!(!buyer_mail.iter().any(|s| s.ends_with(": shipped")), "muted: {buyer_mail:?}");
    let seller_mail = subjects(mails_for(app, &market.seller.email, "Order RM-").await);
    assert!(seller_mail.iter().any(|s| s.ends_with(": shipped")), "the seller did not mute it: {seller_mail:?}");
    assert_eq!(types(&inbox_of(app, token, "").await)[0], "order.shipped", "the inbox still has it");

    // Turned on again, it is emailed again.
    let body = json!({"email": {"order.shipped": true}});
    let on = json_with_status(app.patch_json("/v1/me/notification-settings", Some(token), &body).await, 200).await;
    assert_eq!(setting(&on, "order.shipped")["email"], true);
    assert_eq!(setting(&on, "order.message_posted")["email"], false, "untouched types keep their setting");
}

#[tokio::test]
async fn unknown_types_and_emails_that_must_be_sent_are_refused_without_a_partial_write() {
    let market = Market::open(TestApp::builder(), json!({})).await;
    let app = &market.app;
    let token = &market.buyer.token;
    let body = json!({"email": {"order.shipped": false, "order.paid": false, "order.nope": false}});
    let problem = assert_problem(
        app.patch_json("/v1/me/notification-settings", Some(token), &body).await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<_> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, [json!("email.order.nope"), json!("email.order.paid")]);
    let settings = json_with_status(get_bearer(app, "/v1/me/notification-settings", token).await, 200).await;
    assert_eq!(setting(&settings, "order.shipped")["email"], true, "nothing was saved");
    for bad in [json!({}), json!({"email": {"order.shipped": "no"}}), json!({"email": {}, "sms": {}})] {
        let response = app.patch_json("/v1/me/notification-settings", Some(token), &bad).await;
        assert_eq!(response.status().as_u16() / 100, 4, "{bad}");
    }
}
