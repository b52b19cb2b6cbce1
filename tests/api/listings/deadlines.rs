//! The hosting-deadline sweep: reminders once each, then expiry.

use super::*;

#[tokio::test]
async fn hosting_deadlines_remind_the_seller_twice_then_expire_the_listing() {
    let app = TestApp::builder().with_smtp().spawn().await;
    // What a worker does when it starts: put the production schedule (with the
    // hourly `listing_deadlines` sweep) in place; `drain_jobs` then runs what is due.
    app.register_periodic().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let power_off_at = app.clock.now() + Duration::days(8);
    let hosted = create_active(
        &app,
        &seller,
        &admin,
        json!({"title": "Hosted S19 Pro lot",
               "hosting": {"facility": "DC-2", "country": "KZ", "contract_ends_on": "2026-01-31",
                           "power_off_at": power_off_at.to_rfc3339()}}),
    )
    .await;
    assert_eq!(time(&hosted["hosting"]["power_off_at"]), power_off_at);
    let unhosted = id_of(&create_active(&app, &seller, &admin, json!({"title": "Warehouse lot"})).await);
    let id = id_of(&hosted);
    app.drain_jobs().await;
    let reminder = "Hosting deadline 2026-01-13 09:00 UTC: Hosted S19 Pro lot";
    let live = |title: &str| format!("Your listing is live: {title}");
    let subjects = || subjects_for(&app, "seller@rigmarket.test");
    assert_eq!(subjects(), vec![live("Hosted S19 Pro lot"), live("Warehouse lot")]);

    // 6.5 days before the deadline: the 7-day reminder, once.
    app.clock.advance(Duration::hours(36));
    app.drain_jobs().await;
    assert_eq!(subjects()[2..], [reminder.to_string()]);
    app.clock.advance(Duration::hours(2));
    app.drain_jobs().await;
    assert_eq!(subjects().len(), 3, "{:?}", subjects());

    // 18 hours before: the 1-day reminder, once.
    app.clock.advance(Duration::hours(8 * 24 - 36 - 2 - 18));
    app.drain_jobs().await;
    assert_eq!(subjects()[2..], [reminder.to_string(), reminder.to_string()]);
    app.clock.advance(Duration::hours(2));
    app.drain_jobs().await;
    assert_eq!(subjects().len(), 4, "{:?}", subjects());
    assert_eq!(get_as(&app, &format!("/v1/listings/{id}"), None).await.1["status"], "active");

    // Past the deadline: expired, with an email.
    app.clock.advance(Duration::hours(17));
    app.drain_jobs().await;
    let (_, expired) = get_as(&app, &format!("/v1/listings/{id}"), None).await;
    assert_eq!(expired["status"], "expired");
    assert_eq!(subjects()[4..], ["Listing expired: Hosted S19 Pro lot".to_string()]);
    assert_eq!(search_ids(&app, "limit=100").await, vec![unhosted.clone()]);
    assert_eq!(get_as(&app, &format!("/v1/listings/{unhosted}"), None).await.1["status"], "active");

    app.clock.advance(Duration::days(2));
    app.drain_jobs().await;
    assert_eq!(subjects().len(), 5, "nothing more is sent: {:?}", subjects());
}

#[tokio::test]
async fn a_listing_already_within_a_day_of_its_deadline_gets_one_reminder_not_two() {
    let app = TestApp::builder().with_smtp().spawn().await;
    app.register_periodic().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let power_off_at = app.clock.now() + Duration::hours(12);
    let id = id_of(
        &create_active(
            &app,
            &seller,
            &admin,
            json!({"title": "Urgent lot",
                   "hosting": {"facility": "DC-2", "country": "KZ", "power_off_at": power_off_at.to_rfc3339()}}),
        )
        .await,
    );
    app.clock.advance(Duration::hours(1));
    app.drain_jobs().await;
    assert_eq!(
        subjects_for(&app, "seller@rigmarket.test"),
        vec!["Your listing is live: Urgent lot", "Hosting deadline 2026-01-05 21:00 UTC: Urgent lot"]
    );
    app.clock.advance(Duration::hours(12));
    app.drain_jobs().await;
    assert_eq!(get_as(&app, &format!("/v1/listings/{id}"), None).await.1["status"], "expired");
    assert_eq!(subjects_for(&app, "seller@rigmarket.test")[2..], ["Listing expired: Urgent lot".to_string()]);
}

#[tokio::test]
async fn sweeps_running_at_once_on_two_instances_send_each_reminder_once() {
    let app = TestApp::builder().with_smtp().spawn().await;
    app.register_periodic().await;
    let (_, seller) = app.create_user("seller@rigmarket.test", &[]).await;
    let admin = app.admin_token().await;
    let power_off_at = app.clock.now() + Duration::days(3);
    create_active(
        &app,
        &seller,
        &admin,
        json!({"title": "Contested lot",
               "hosting": {"facility": "DC-2", "country": "KZ", "power_off_at": power_off_at.to_rfc3339()}}),
    )
    .await;
    app.drain_jobs().await;
    // Besides the scheduled run, two stray sweeps (a retry, a manual run) are due.
    for _ in 0..2 {
        rigmarket::jobs::queue::enqueue(
            &mut *app.conn().await,
            <rigmarket::listings::SweepListingDeadlines as rigmarket::jobs::Job>::KIND,
            &json!({}),
            app.clock.now(),
        )
        .await
        .unwrap();
    }
    app.clock.advance(Duration::hours(1));
    let other = app.another_instance().await;
    let (here, there) = tokio::join!(app.drain_jobs(), other.drain_jobs());
    assert!(here + there.unwrap() >= 4, "three sweeps and the email ran");
    app.drain_jobs().await;
    assert_eq!(
        subjects_for(&app, "seller@rigmarket.test"),
        vec!["Your listing is live: Contested lot", "Hosting deadline 2026-01-08 09:00 UTC: Contested lot"]
    );
}
