//! `daily` searches: the day's matches go out in one digest email per user,
//! after the day ends (UTC), and never twice.

use chrono::Duration;
use serde_json::json;

use super::{save_ok, unsubscribe_url, Watchers};
use crate::support::accounts::{mails_for, text_of};
use crate::support::TestApp;

#[tokio::test]
async fn a_digest_collects_a_day_of_matches_in_one_email() {
    // 2026-01-05 09:00 UTC.
    let w = Watchers::open(TestApp::builder().with_smtp()).await;
    let app = &w.app;
    app.register_periodic().await;
    let token = w.buyer.token.as_str();
    save_ok(
        app,
        token,
        json!({"name": "Any S19 Pro", "query": {"rig_model_id": w.s19}, "alert": "daily", "triggers": ["new_match"]}),
    )
    .await;
    save_ok(
        app,
        token,
        json!({"name": "Kazakhstan", "query": {"country": "KZ"}, "alert": "daily", "triggers": ["new_match"]}),
    )
    .await;

    w.publish(json!({"title": "Morning lot of S19 Pro"})).await;
    app.clock.advance(Duration::hours(3));
    w.publish(json!({"title": "Noon lot of S19 Pro"})).await;
    app.clock.advance(Duration::hours(3));
    assert!(mails_for(app, &w.buyer.email, "daily").await.is_empty(), "the day is not over");

    // Past midnight: one digest with the day's four matches.
    app.clock.advance(Duration::hours(10));
    let digests = mails_for(app, &w.buyer.email, "daily").await;
    assert_eq!(digests.len(), 1);
    let text = text_of(&digests[0]);
    assert!(text.contains("4 match(es)"), "{text}");
    for expected in ["Morning lot of S19 Pro", "Noon lot of S19 Pro", "\"Any S19 Pro\"", "\"Kazakhstan\""] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    unsubscribe_url(&digests[0]);

    // Later runs that day send nothing more; the next day's matches wait for the next digest.
    w.publish(json!({"title": "Evening lot"})).await;
    app.clock.advance(Duration::hours(2));
    assert_eq!(mails_for(app, &w.buyer.email, "daily").await.len(), 1);
    app.clock.advance(Duration::days(1));
    let digests = mails_for(app, &w.buyer.email, "daily").await;
    assert_eq!(digests.len(), 2);
    assert!(text_of(&digests[1]).contains("Evening lot"));
    assert!(!text_of(&digests[1]).contains("Morning lot"), "reported once");
}
