//! Admin: finding accounts, suspending and reinstating them, the audit log and
//! its append-only guarantee, and the role grant from the CLI.

use std::collections::HashSet;

use chrono::Duration;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::accounts::{
    audit_entries, audit_entries_for, get_bearer, get_with_key, login, login_ok, mails_for, refresh, register,
    register_and_verify, text_of, user_id, PASSWORD,
};
use crate::support::{assert_problem, spawn_app, TestApp};

async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let response = get_bearer(app, path, token).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn emails(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_string()).collect()
}

async fn suspend(app: &TestApp, admin: &str, id: Uuid, reason: &str) -> reqwest::Response {
    app.post_json(&format!("/v1/admin/users/{id}/suspend"), Some(admin), &json!({ "reason": reason })).await
}

async fn reinstate(app: &TestApp, admin: &str, id: Uuid) -> reqwest::Response {
    app.post_json(&format!("/v1/admin/users/{id}/reinstate"), Some(admin), &json!({})).await
}

#[tokio::test]
async fn only_admins_list_users_searching_by_email_and_status() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, active) = app.create_user("alice@rigmarket.test", &[]).await;
    let (banned, _) = app.create_user("bruno@rigmarket.test", &[]).await;
    assert_eq!(register(&app, "carol@rigmarket.test", PASSWORD, "Carol").await.status().as_u16(), 201);
    assert_eq!(suspend(&app, &admin, banned, "spam").await.status().as_u16(), 200);

    assert_problem(get_bearer(&app, "/v1/admin/users", &active).await, 403, "admin_required").await;
    assert_problem(app.get("/v1/admin/users").await, 401, "authentication_required").await;

    let all = get_json(&app, "/v1/admin/users", &admin).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4, "{all}");
    let alice = get_json(&app, "/v1/admin/users?email=ALICE", &admin).await;
    assert_eq!(emails(&alice), ["alice@rigmarket.test"]);
    assert_eq!(alice["items"][0]["email_verified"], true);
    assert_eq!(alice["items"][0]["roles"], json!([]));
    assert_eq!(
        emails(&get_json(&app, "/v1/admin/users?email=%25", &admin).await),
        Vec::<String>::new(),
        "% is literal"
    );
    assert_eq!(emails(&get_json(&app, "/v1/admin/users?status=unverified", &admin).await), ["carol@rigmarket.test"]);
    let suspended = get_json(&app, "/v1/admin/users?status=suspended", &admin).await;
    assert_eq!(emails(&suspended), ["bruno@rigmarket.test"]);
    assert_eq!(suspended["items"][0]["suspension_reason"], "spam");
    assert!(suspended["items"][0]["suspended_at"].is_string());
    let active_users: HashSet<_> =
        emails(&get_json(&app, "/v1/admin/users?status=active", &admin).await).into_iter().collect();
    assert!(active_users.contains("alice@rigmarket.test"), "{active_users:?}");
    assert!(!active_users.contains("bruno@rigmarket.test") && !active_users.contains("carol@rigmarket.test"));
    assert_eq!(active_users.len(), 2, "alice and the admin: {active_users:?}");
    let combined = get_json(&app, "/v1/admin/users?email=rigmarket&status=suspended", &admin).await;
    assert_eq!(emails(&combined), ["bruno@rigmarket.test"]);

    let bad = get_bearer(&app, "/v1/admin/users?status=banned", &admin).await;
    assert_eq!(bad.status().as_u16(), 400);

    // limit=1 pages through every account once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/admin/users?limit=1&cursor={c}"),
            None => "/v1/admin/users?limit=1".to_string(),
        };
        let page = get_json(&app, &path, &admin).await;
        assert!(page["items"].as_array().unwrap().len() <= 1);
        seen.extend(emails(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(seen.len() < 10, "pagination does not end: {seen:?}");
    }
    assert_eq!(seen, emails(&all));
}

#[tokio::test]
async fn suspension_ends_sessions_blocks_login_and_keys_and_emails_the_user_until_reinstated() {
    let app = TestApp::builder().with_smtp().spawn().await;
    let admin = app.admin_token().await;
    let tokens = register_and_verify(&app, "mallory@rigmarket.test").await;
    let id = user_id(&app, "mallory@rigmarket.test").await;
    let key = app.post_json("/v1/me/api-keys", Some(&tokens.access_token), &json!({"name": "bot"})).await;
    let key: Value = key.json().await.unwrap();
    let key = key["key"].as_str().unwrap().to_string();
    assert_eq!(get_with_key(&app, "/v1/me", &key).await.status().as_u16(), 200);

    let response = suspend(&app, &admin, id, "Listings with stolen photos").await;
    assert_eq!(response.status().as_u16(), 200);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["id"], id.to_string());
    assert_eq!(view["suspension_reason"], "Listings with stolen photos");
    assert!(view["suspended_at"].is_string(), "{view}");

    assert_problem(get_bearer(&app, "/v1/me", &tokens.access_token).await, 401, "session_revoked").await;
    let renewed = refresh(&app, &tokens.refresh_token).await.status().as_u16();
    assert!(renewed == 401 || renewed == 403, "a suspended session cannot be refreshed: {renewed}");
    assert_problem(login(&app, "mallory@rigmarket.test", PASSWORD).await, 403, "account_suspended").await;
    assert_problem(get_with_key(&app, "/v1/me", &key).await, 403, "account_suspended").await;

    let mails = mails_for(&app, "mallory@rigmarket.test", "Your rigmarket account was suspended").await;
    assert_eq!(mails.len(), 1);
    assert!(text_of(&mails[0]).contains("Listings with stolen photos"), "{}", text_of(&mails[0]));

    assert_problem(suspend(&app, &admin, id, "again").await, 409, "already_suspended").await;
    let events = audit_entries_for(&app, "admin.user_suspended").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].target_id.as_deref(), Some(id.to_string().as_str()));
    assert_eq!(events[0].details["reason"], "Listings with stolen photos");
    let admin_id = events[0].actor_id.expect("the admin is the actor");
    assert_ne!(admin_id, id.into());

    let response = reinstate(&app, &admin, id).await;
    assert_eq!(response.status().as_u16(), 200);
    let view: Value = response.json().await.unwrap();
    assert_eq!((&view["suspended_at"], &view["suspension_reason"]), (&Value::Null, &Value::Null), "{view}");
    let fresh = login_ok(&app, "mallory@rigmarket.test", PASSWORD).await;
    assert_eq!(get_bearer(&app, "/v1/me", &fresh.access_token).await.status().as_u16(), 200);
    assert_eq!(get_with_key(&app, "/v1/me", &key).await.status().as_u16(), 200);
    assert_problem(get_bearer(&app, "/v1/me", &tokens.access_token).await, 401, "session_revoked").await;
    assert_problem(reinstate(&app, &admin, id).await, 409, "not_suspended").await;
    let reinstated = audit_entries_for(&app, "admin.user_reinstated").await;
    assert_eq!((reinstated.len(), reinstated[0].actor_id), (1, Some(admin_id)));
}

#[tokio::test]
async fn admins_cannot_suspend_themselves_and_non_admins_cannot_suspend_anyone() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.create_user("root@rigmarket.test", &["admin"]).await;
    let (victim, user) = app.create_user("user@rigmarket.test", &[]).await;

    assert_problem(suspend(&app, &admin, admin_id, "oops").await, 409, "cannot_suspend_self").await;
    assert_problem(suspend(&app, &user, victim, "self").await, 403, "admin_required").await;
    assert_problem(suspend(&app, &user, admin_id, "coup").await, 403, "admin_required").await;
    assert_problem(reinstate(&app, &user, victim).await, 403, "admin_required").await;
    assert_problem(suspend(&app, &admin, Uuid::now_v7(), "ghost").await, 404, "user_not_found").await;
    let body = assert_problem(suspend(&app, &admin, victim, "   ").await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "reason");
    let bad = app.post_json("/v1/admin/users/not-a-uuid/suspend", Some(&admin), &json!({"reason": "x"})).await;
    assert_eq!(bad.status().as_u16(), 400);
    // Nothing happened to either account.
    assert_eq!(get_bearer(&app, "/v1/me", &admin).await.status().as_u16(), 200);
    assert_eq!(get_bearer(&app, "/v1/me", &user).await.status().as_u16(), 200);
    assert!(audit_entries_for(&app, "admin.user_suspended").await.is_empty());
}

#[tokio::test]
async fn the_audit_log_is_newest_first_paginated_by_cursor_and_filterable() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.create_user("auditor@rigmarket.test", &["admin"]).await;
    let (_, plain) = app.create_user("plain@rigmarket.test", &[]).await;
    let registered: Value = register(&app, "nora@rigmarket.test", PASSWORD, "Nora").await.json().await.unwrap();
    let nora: Uuid = registered["id"].as_str().unwrap().parse().unwrap();
    app.clock.advance(Duration::minutes(10));
    let later = app.clock.now();
    assert_eq!(login(&app, "nora@rigmarket.test", "wrong password").await.status().as_u16(), 401);
    login_ok(&app, "nora@rigmarket.test", PASSWORD).await;
    assert_eq!(suspend(&app, &admin, nora, "testing").await.status().as_u16(), 200);
    assert_eq!(reinstate(&app, &admin, nora).await.status().as_u16(), 200);

    assert_problem(get_bearer(&app, "/v1/admin/audit-log", &plain).await, 403, "admin_required").await;

    let full = get_json(&app, "/v1/admin/audit-log?limit=100", &admin).await;
    let items = full["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["admin.user_reinstated", "admin.user_suspended", "auth.login_succeeded", "auth.login_failed", "user.register"],
        "newest first"
    );
    let ids: Vec<i64> = items.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let failed = &items[3];
    assert_eq!(failed["actor_id"], Value::Null);
    assert_eq!(failed["ip"], "127.0.0.1");
    assert_eq!(failed["details"]["email"], "nora@rigmarket.test");
    let suspended = &items[1];
    assert_eq!(suspended["actor_id"], admin_id.to_string());
    assert_eq!((&suspended["target_type"], &suspended["target_id"]), (&json!("user"), &json!(nora.to_string())));
    assert!(suspended["occurred_at"].is_string());

    // limit=2 pages through everything once, in the same order.
    let mut paged = Vec::new();
    let mut path = "/v1/admin/audit-log?limit=2".to_string();
    loop {
        let page = get_json(&app, &path, &admin).await;
        let page_items = page["items"].as_array().unwrap();
        assert!(page_items.len() <= 2, "{page}");
        paged.extend(page_items.iter().map(|e| e["id"].as_i64().unwrap()));
        let Some(cursor) = page["next_cursor"].as_str() else { break };
        path = format!("/v1/admin/audit-log?limit=2&cursor={cursor}");
        assert!(paged.len() <= ids.len(), "pagination does not end: {paged:?}");
    }
    assert_eq!(paged, ids, "every entry once, no duplicates");

    let only_failed = get_json(&app, "/v1/admin/audit-log?action=auth.login_failed", &admin).await;
    let only_failed = only_failed["items"].as_array().unwrap();
    assert_eq!(only_failed.len(), 1);
    assert_eq!(only_failed[0]["action"], "auth.login_failed");

    let by_admin = get_json(&app, &format!("/v1/admin/audit-log?actor_id={admin_id}"), &admin).await;
    let by_admin: Vec<&str> =
        by_admin["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(by_admin, ["admin.user_reinstated", "admin.user_suspended"]);

    let since = later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let recent = get_json(&app, &format!("/v1/admin/audit-log?from={since}"), &admin).await;
    let recent: Vec<&str> = recent["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(!recent.contains(&"user.register") && recent.contains(&"auth.login_failed"), "{recent:?}");
    let before = get_json(&app, &format!("/v1/admin/audit-log?to={since}"), &admin).await;
    assert_eq!(before["items"].as_array().unwrap().len(), 1, "{before}");

    let bad_cursor = get_bearer(&app, "/v1/admin/audit-log?cursor=garbage", &admin).await;
    assert_problem(bad_cursor, 422, "validation_failed").await;
}

#[tokio::test]
async fn the_audit_log_refuses_update_delete_and_truncate() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (victim, _) = app.create_user("evidence@rigmarket.test", &[]).await;
    assert_eq!(suspend(&app, &admin, victim, "evidence").await.status().as_u16(), 200);
    let before = audit_entries(&app).await;
    assert!(!before.is_empty());

    for statement in [
        "UPDATE audit_log SET action = 'nothing.happened'",
        "UPDATE audit_log SET details = '{}'::jsonb WHERE action = 'admin.user_suspended'",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE action = 'admin.user_suspended'",
        "TRUNCATE audit_log",
    ] {
        let result = diesel::sql_query(statement).execute(&mut *app.conn().await).await;
        let err = result.expect_err(statement).to_string();
        assert!(err.contains("append-only"), "{statement}: {err}");
    }
    let after = audit_entries(&app).await;
    assert_eq!(
        after.iter().map(|e| (e.id, e.action.clone(), e.details.clone())).collect::<Vec<_>>(),
        before.iter().map(|e| (e.id, e.action.clone(), e.details.clone())).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn granting_admin_is_audited_and_takes_effect_on_the_existing_session() {
    let app = spawn_app().await;
    let (id, token) = app.create_user("promoted@rigmarket.test", &[]).await;
    assert_problem(get_bearer(&app, "/v1/admin/users", &token).await, 403, "admin_required").await;

    rigmarket::accounts::grant_admin(&mut *app.conn().await, "Promoted@RigMarket.test", app.clock.now())
        .await
        .unwrap()
        .expect("the account exists");
    let granted = audit_entries_for(&app, "admin.role_granted").await;
    assert_eq!(granted.len(), 1, "{granted:?}");
    assert_eq!(granted[0].target_type.as_deref(), Some("user"));
    assert_eq!(granted[0].target_id.as_deref(), Some(id.to_string().as_str()));
    assert_eq!(granted[0].details["role"], "admin");

    assert_eq!(get_bearer(&app, "/v1/admin/users", &token).await.status().as_u16(), 200, "roles are read per request");
    let me = get_json(&app, "/v1/me", &token).await;
    assert_eq!(me["roles"], json!(["admin"]));

    // Granting again changes nothing and is not logged twice.
    rigmarket::accounts::grant_admin(&mut *app.conn().await, "promoted@rigmarket.test", app.clock.now()).await.unwrap();
    assert_eq!(audit_entries_for(&app, "admin.role_granted").await.len(), 1);
}
