//! RFC 8058 one-click unsubscribe: a POST of `List-Unsubscribe=One-Click` to
//! the link of an alert email turns that search's alerts off, with no session,
//! as often as a mail provider retries it.

use serde_json::json;

use super::{fired, save_ok, unsubscribe_url, Watchers};
use crate::orders::json_with_status;
use crate::support::accounts::{get_bearer, mails_for};
use crate::support::{assert_problem, TestApp};

async fn one_click(app: &TestApp, url: &str, body: &'static str) -> reqwest::Response {
    app.client.post(url).header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap()
}

#[tokio::test]
async fn one_click_turns_the_searchs_alerts_off_without_a_session_and_is_idempotent() {
    let w = Watchers::open(TestApp::builder().with_smtp()).await;
    let app = &w.app;
    let token = w.buyer.token.as_str();
    let id =
        save_ok(app, token, json!({"name": "All", "query": {}, "alert": "instant", "triggers": ["new_match"]})).await;
    let kept =
        save_ok(app, token, json!({"name": "Kept", "query": {}, "alert": "daily", "triggers": ["new_match"]})).await;
    w.publish(json!({})).await;
    let mails = mails_for(app, &w.buyer.email, "New match").await;
    assert_eq!(mails.len(), 1);
    let url = unsubscribe_url(&mails[0]);

    assert_problem(one_click(app, &url, "").await, 400, "one_click_body_required").await;
    for _ in 0..2 {
        let response = one_click(app, &url, "List-Unsubscribe=One-Click").await;
        assert_eq!(response.status().as_u16(), 204);
    }
    let search = json_with_status(get_bearer(app, &format!("/v1/me/saved-searches/{id}"), token).await, 200).await;
    assert_eq!(search["alert"], "off");
    let other = json_with_status(get_bearer(app, &format!("/v1/me/saved-searches/{kept}"), token).await, 200).await;
    assert_eq!(other["alert"], "daily", "only the search the email reported");

    // Off means off: the next listing alerts only the other search.
    let second = w.publish(json!({})).await;
    app.drain_jobs().await;
    let now_fired: Vec<_> = fired(app).await.into_iter().filter(|(_, listing, _)| *listing == second).collect();
    assert_eq!(now_fired, [(kept.clone(), second.clone(), "new_match".to_string())]);
    assert_eq!(mails_for(app, &w.buyer.email, "New match").await.len(), 1, "no new instant email");

    let base = url.split("?token=").next().unwrap().to_string();
    for bad in ["rmu_nope", "", "not-a-token"] {
        let response = one_click(app, &format!("{base}?token={bad}"), "List-Unsubscribe=One-Click").await;
        assert_problem(response, 400, "invalid_unsubscribe_token").await;
    }
    assert_problem(one_click(app, &base, "List-Unsubscribe=One-Click").await, 400, "invalid_query").await;

    // Deleting the search ends its links.
    let response = crate::support::listings::delete_as(app, &format!("/v1/me/saved-searches/{id}"), token).await;
    assert_eq!(response.status().as_u16(), 204);
    assert_problem(one_click(app, &url, "List-Unsubscribe=One-Click").await, 400, "invalid_unsubscribe_token").await;
}
