//! Registering endpoints: the secret shown once and sealed at rest, the event
//! type catalog, validation, ownership, rotation, and every refused address.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};

use super::{create_endpoint, id_of, secret_of};
use crate::orders::party;
use crate::support::listings::{delete_as, get_as, post_empty};
use crate::support::{assert_problem, TestApp};

#[tokio::test]
async fn the_event_type_catalog_lists_every_type_with_a_description() {
    let app = TestApp::builder().spawn().await;
    let (status, body) = app.get_json("/v1/webhook-event-types").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for expected in [
        "order.placed",
        "order.paid",
        "order.shipped",
        "order.disputed",
        "proof.verified",
        "listing.approved",
        "offer.accepted",
        "unit.rejected",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    assert!(body.as_array().unwrap().iter().all(|t| !t["description"].as_str().unwrap().is_empty()));
}

#[tokio::test]
async fn an_endpoint_shows_its_secret_once_and_stores_it_sealed() {
    let app = TestApp::builder().allow_private_webhooks().spawn().await;
    let owner = party(&app, "integrator").await;
    let created =
        create_endpoint(&app, &owner.token, "http://127.0.0.1:9/hook", &["order.paid", "order.paid", "order.shipped"])
            .await;
    let secret = secret_of(&created);
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(created["event_types"], json!(["order.paid", "order.shipped"]), "repeats are dropped");
    assert_eq!(created["enabled"], true);
    let id = id_of(&created);

    let (status, shown) = get_as(&app, &format!("/v1/me/webhooks/{id}"), Some(&owner.token)).await;
    assert_eq!(status, 200);
    assert!(shown.get("secret").is_none(), "the secret is shown only once: {shown}");
    let (_, listed) = get_as(&app, "/v1/me/webhooks", Some(&owner.token)).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["items"][0].get("secret").is_none());

    use rigmarket::db::schema::webhook_endpoints;
    let sealed: Vec<u8> =
        webhook_endpoints::table.select(webhook_endpoints::secret_sealed).first(&mut *app.conn().await).await.unwrap();
    let key = &secret["whsec_".len()..];
    assert!(!String::from_utf8_lossy(&sealed).contains(key), "the secret is not stored in clear");

    // Somebody else's endpoint does not exist for them.
    let other = party(&app, "other").await;
    let (status, _) = get_as(&app, &format!("/v1/me/webhooks/{id}"), Some(&other.token)).await;
    assert_eq!(status, 404);
    assert_problem(
        delete_as(&app, &format!("/v1/me/webhooks/{id}"), &other.token).await,
        404,
        "webhook_endpoint_not_found",
    )
    .await;

    // Changes, then deletion.
    let patched = app
        .patch_json(
            &format!("/v1/me/webhooks/{id}"),
            Some(&owner.token),
            &json!({"enabled": false, "event_types": ["listing.approved"], "description": "ERP"}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!((patched["enabled"].clone(), patched["description"].clone()), (json!(false), json!("ERP")));
    assert_eq!(patched["event_types"], json!(["listing.approved"]));
    assert_eq!(delete_as(&app, &format!("/v1/me/webhooks/{id}"), &owner.token).await.status(), 204);
    let (status, _) = get_as(&app, &format!("/v1/me/webhooks/{id}"), Some(&owner.token)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_input_is_refused_with_its_field() {
    let app = TestApp::builder().allow_private_webhooks().spawn().await;
    let owner = party(&app, "integrator").await;
    for (body, field) in [
        (json!({"url": "http://127.0.0.1:9/", "event_types": []}), "event_types"),
        (json!({"url": "http://127.0.0.1:9/", "event_types": ["order.exploded"]}), "event_types"),
        (json!({"url": "not a url", "event_types": ["order.paid"]}), "url"),
        (json!({"url": "ftp://127.0.0.1/", "event_types": ["order.paid"]}), "url"),
        (json!({"url": "http://user:pw@127.0.0.1/", "event_types": ["order.paid"]}), "url"),
        (
            json!({"url": "http://127.0.0.1:9/", "event_types": ["order.paid"], "description": "x".repeat(201)}),
            "description",
        ),
    ] {
        let response = app.post_json("/v1/me/webhooks", Some(&owner.token), &body).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    assert_eq!(get_as(&app, "/v1/me/webhooks", Some(&owner.token)).await.1["items"], json!([]), "nothing written");
}

#[tokio::test]
async fn rotation_answers_a_new_secret_and_keeps_the_old_one_for_a_day() {
    let app = TestApp::builder().allow_private_webhooks().spawn().await;
    let owner = party(&app, "integrator").await;
    let created = create_endpoint(&app, &owner.token, "http://127.0.0.1:9/hook", &["order.paid"]).await;
    let id = id_of(&created);
    let rotated: Value = post_empty(&app, &format!("/v1/me/webhooks/{id}/rotate-secret"), Some(&owner.token))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(secret_of(&rotated), secret_of(&created));
    let until = (app.clock.now() + chrono::Duration::hours(24)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    assert_eq!(rotated["previous_secret_expires_at"], json!(until), "{rotated}");
}

/// Every class of address the issue names, as literals and as a name that
/// resolves to loopback, and plain http: refused without private addresses allowed.
#[tokio::test]
async fn every_private_address_class_and_plain_http_are_refused() {
    let app = TestApp::builder().spawn().await;
    let owner = party(&app, "integrator").await;
    for url in [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.1/",
        "https://172.16.5.4/",
        "https://192.168.1.1/",
        "https://169.254.10.10/",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/",
        "https://224.0.0.1/",
        "https://0.0.0.0/",
        "https://[::1]/",
        "https://[::]/",
        "https://[fe80::1]/",
        "https://[fd00:ec2::254]/",
        "https://[ff02::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:169.254.169.254]/",
    ] {
        let response = app
            .post_json("/v1/me/webhooks", Some(&owner.token), &json!({"url": url, "event_types": ["order.paid"]}))
            .await;
        let problem = assert_problem(response, 422, "webhook_url_refused").await;
        assert!(problem["detail"].as_str().unwrap().contains("address"), "{url}: {problem}");
    }
    let plain = app
        .post_json(
            "/v1/me/webhooks",
            Some(&owner.token),
            &json!({"url": "http://93.184.216.34/", "event_types": ["order.paid"]}),
        )
        .await;
    let problem = assert_problem(plain, 422, "validation_failed").await;
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("https"), "{problem}");
    // A public address is accepted (nothing is sent until an event happens).
    let created = create_endpoint(&app, &owner.token, "https://93.184.216.34/hook", &["order.paid"]).await;

    // DNS can change after registration: delivery checks again and never connects.
    use rigmarket::db::schema::webhook_endpoints;
    let receiver = super::Receiver::start();
    diesel::update(webhook_endpoints::table)
        .set(webhook_endpoints::url.eq(format!("https://localhost:{}/reply/200", receiver.port)))
        .execute(&mut *app.conn().await)
        .await
        .unwrap();
    super::send_test(&app, &owner.token, &id_of(&created)).await;
    app.drain_jobs().await;
    let [delivery] = super::deliveries(&app, &owner.token, &id_of(&created)).await.try_into().unwrap();
    assert!(delivery["last_error"].as_str().unwrap().contains("loopback"), "{delivery}");
    assert_eq!(delivery["response_status"], Value::Null);
    assert!(receiver.log().await.is_empty(), "no connection was made");
}
