//! The access log operators read: one line per request, successful or not,
//! naming the route pattern, status, latency, request id and problem code.

use crate::support::access_log::{records_for, warning_targets, AccessRecord};
use crate::support::spawn_app;

fn request_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"].to_str().unwrap().to_string()
}

/// The one record of this request (it is written before the response is sent).
fn the_record_of(response: &reqwest::Response) -> AccessRecord {
    let id = request_id(response);
    let records = records_for(&id);
    assert_eq!(records.len(), 1, "exactly one access line for request {id}: {records:?}");
    records.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_successful_request_is_logged_once_with_its_route_pattern_status_and_latency() {
    let app = spawn_app().await;
    let (_, models) = app.get_json("/v1/rig-models?limit=1").await;
    let id = models["items"][0]["id"].as_str().expect("the seeded catalog has a model").to_string();

    let response = app.get(&format!("/v1/rig-models/{id}")).await;
    assert_eq!(response.status(), 200);
    let record = the_record_of(&response);
    assert_eq!(record.method, "GET");
    assert_eq!(record.route.as_deref(), Some("/v1/rig-models/{id}"), "the pattern, not the path");
    assert_eq!(record.status, 200);
    assert_eq!(record.code, None);
    assert!(record.latency_ms.is_finite() && record.latency_ms >= 0.0, "{record:?}");
}

#[tokio::test]
async fn a_problem_answer_is_logged_once_with_its_code_and_nothing_else_warns() {
    let app = spawn_app().await;
    let warnings_before = warning_targets().len();

    let response = app.get(&format!("/v1/rig-models/{}", uuid::Uuid::new_v4())).await;
    let record = the_record_of(&response);
    let body = crate::support::assert_problem(response, 404, "rig_model_not_found").await;
    assert_eq!(record.route.as_deref(), Some("/v1/rig-models/{id}"));
    assert_eq!(record.status, 404);
    assert_eq!(record.code.as_deref(), body["code"].as_str());
    assert!(record.latency_ms.is_finite() && record.latency_ms >= 0.0, "{record:?}");
    let warnings: Vec<String> = warning_targets().split_off(warnings_before);
    assert!(warnings.is_empty(), "a client error is the access line only, no second warning: {warnings:?}");
}

#[tokio::test]
async fn an_unmatched_path_has_no_route_and_a_refusal_by_middleware_is_logged_too() {
    let app = spawn_app().await;

    let response = app.get("/v1/no-such-thing/42").await;
    let record = the_record_of(&response);
    assert_eq!(record.route, None, "no pattern matched: {record:?}");
    assert_eq!((record.status, record.code.as_deref()), (404, Some("route_not_found")));

    // Refused by the input screen before any handler runs.
    let response = app.get("/v1/listings?q=a%00b").await;
    let record = the_record_of(&response);
    assert_eq!((record.status, record.code.as_deref()), (422, Some("invalid_characters")));
    assert_eq!(record.route.as_deref(), Some("/v1/listings"));
}
