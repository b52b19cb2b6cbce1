//! Crash safety: a process that dies between any two steps of a transition
//! leaves no half-done order and no unbalanced ledger.
//!
//! A trigger pauses the transition's database session right after one of its
//! steps (a ledger row, the units, the order row, the event, the outbox), the
//! test then kills it there (the database session, or the whole `serve`
//! process with SIGKILL), and checks that nothing of the transition remains,
//! that `rigmarket ledger verify` passes, and that the retried move succeeds.

use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use diesel::sql_types::Integer;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use super::*;

const BINARY: &str = env!("CARGO_BIN_EXE_rigmarket");

/// Pauses every session that writes to `table` (INSERT or UPDATE) until killed.
async fn install_pause(app: &TestApp, table: &str) {
    let mut conn = AsyncPgConnection::establish(&app.direct_database_url).await.unwrap();
    diesel::sql_query(
        "CREATE OR REPLACE FUNCTION crash_pause() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM pg_sleep(8); RETURN NULL; END $$",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(format!(
        "CREATE TRIGGER crash_pause AFTER INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION crash_pause()"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
}

async fn remove_pause(app: &TestApp, table: &str) {
    let mut conn = AsyncPgConnection::establish(&app.direct_database_url).await.unwrap();
    diesel::sql_query(format!("DROP TRIGGER crash_pause ON {table}")).execute(&mut conn).await.unwrap();
}

/// The pid of the session sleeping in the pause, once it gets there.
async fn paused_backend(app: &TestApp) -> i32 {
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = Integer)]
        pid: i32,
    }
    let mut conn = AsyncPgConnection::establish(&app.direct_database_url).await.unwrap();
    for _ in 0..200 {
        let found: Vec<Pid> = diesel::sql_query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'",
        )
        .load(&mut conn)
        .await
        .unwrap();
        if let Some(found) = <[Pid]>::first(&found) {
            return found.pid;
        }
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
    panic!("no session reached the pause");
}

async fn terminate_backend(app: &TestApp, pid: i32) {
    let mut conn = AsyncPgConnection::establish(&app.direct_database_url).await.unwrap();
    diesel::sql_query("SELECT pg_terminate_backend($1)").bind::<Integer, _>(pid).execute(&mut conn).await.unwrap();
}

/// `rigmarket ledger verify` against the test database: exit code and stderr.
fn ledger_verify(app: &TestApp) -> (i32, String) {
    let output = Command::new(BINARY)
        .args(["ledger", "verify"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.direct_database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run rigmarket ledger verify");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Everything a transition could have written for `order`.
async fn footprint(app: &TestApp, token: &str, order: &str) -> (Value, usize, Value, (i32, i32, i32), i64) {
    use rigmarket::db::schema::jobs;
    let (_, row) = get_order(app, token, order).await;
    let history = events(app, token, order).await.len();
    let (_, ledger) = crate::support::listings::get_as(app, &format!("/v1/orders/{order}/ledger"), Some(token)).await;
    let listing = row["listing_id"].as_str().unwrap().to_string();
    let queued: i64 = jobs::table.count().get_result(&mut *app.conn().await).await.unwrap();
    (row, history, ledger, units(app, &listing).await, queued)
}

struct Move {
    name: &'static str,
    path: fn(&str) -> String,
    body: Option<Value>,
    token: fn(&Market) -> String,
}

#[tokio::test]
async fn a_transition_killed_between_any_two_steps_leaves_no_trace_and_can_be_retried() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 40})).await;
    let app = &market.app;
    let now = app.clock.now();
    let pay = Move {
        name: "pay",
        path: |id| format!("/v1/admin/orders/{id}/confirm-payment"),
        body: Some(json!({"amount_cents": 95_000, "received_at": now, "note": "wire"})),
        token: |m| m.admin.clone(),
    };
    let release = Move {
        name: "release",
        path: |id| format!("/v1/orders/{id}/accept"),
        body: None,
        token: |m| m.buyer.token.clone(),
    };
    let refund = Move {
        name: "refund",
        path: |id| format!("/v1/admin/orders/{id}/cancel"),
        body: Some(json!({"note": "fraud"})),
        token: |m| m.admin.clone(),
    };
    // Each step a transition writes, in the order it writes them.
    let steps: [(&Move, &[&str]); 3] = [
        (&pay, &["ledger_transactions", "ledger_entries", "orders", "order_events", "jobs"]),
        (&release, &["ledger_entries", "listings", "orders", "order_events", "jobs"]),
        (&refund, &["ledger_entries", "listings", "orders", "order_events", "jobs"]),
    ];
    let mut crashes = 0;
    for (mv, tables) in steps {
        for table in tables {
            let order = match mv.name {
                "pay" => place_ok(&market, 1).await,
                "release" => delivered_order(&market, 1).await,
                _ => {
                    let order = place_ok(&market, 1).await;
                    confirm_wire(&market, &order).await
                }
            };
            let id = oid(&order);
            let before = footprint(app, &market.admin, &id).await;
            install_pause(app, table).await;
            let request = {
                let (client, url, token, body) =
                    (app.client.clone(), app.url(&(mv.path)(&id)), (mv.token)(&market), mv.body.clone());
                tokio::spawn(async move {
                    let mut request = client.post(url).bearer_auth(token);
                    if let Some(body) = body {
                        request = request.json(&body);
                    }
                    request.send().await.unwrap().status().as_u16()
                })
            };
            terminate_backend(app, paused_backend(app).await).await;
            let status = request.await.unwrap();
            assert_eq!(status, 503, "{} killed after writing {table}: the client is told to retry", mv.name);
            remove_pause(app, table).await;

            let after = footprint(app, &market.admin, &id).await;
            assert_eq!(before, after, "{} killed after writing {table} left something behind", mv.name);
            assert_eq!(ledger_verify(app).0, 0, "ledger verify after {} died at {table}", mv.name);
            let retried = act(app, &(mv.token)(&market), &(mv.path)(&id), mv.body.clone()).await;
            assert_eq!(retried.status(), 200, "the retried {} succeeds", mv.name);
            crashes += 1;
        }
    }
    assert_eq!(crashes, 15);
    assert_ledger_sound(app).await;
}

#[tokio::test]
async fn a_serve_process_killed_with_sigkill_mid_release_leaves_a_sound_ledger_after_restart() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 5})).await;
    let app = &market.app;
    let order = delivered_order(&market, 2).await;
    let id = oid(&order);
    let before = footprint(app, &market.admin, &id).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let temp = tempfile::tempdir().unwrap();
    let spawn_serve = || {
        Command::new(BINARY)
            .args(["serve", "--no-stratum", "--no-worker"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &app.direct_database_url)
            .env("RIGMARKET_HTTP_ADDR", format!("127.0.0.1:{port}"))
            // The same deployment as the test app, so its tokens are valid here.
            .env("RIGMARKET_PUBLIC_URL", app.state.config.public_url.as_str())
            .env("RIGMARKET_MAIL_DIR", temp.path().join("mail"))
            .env("RIGMARKET_STORAGE_DIR", temp.path().join("storage"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rigmarket serve")
    };
    let mut serve = spawn_serve();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..200 {
        if app.client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status() == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(ready, "serve did not become ready");

    install_pause(app, "ledger_entries").await;
    let request = {
        let (client, url, token) =
            (app.client.clone(), format!("{base}/v1/orders/{id}/accept"), market.buyer.token.clone());
        tokio::spawn(async move { client.post(url).bearer_auth(token).send().await.map(|r| r.status().as_u16()) })
    };
    paused_backend(app).await;
    serve.kill().expect("SIGKILL serve");
    serve.wait().unwrap();
    assert!(request.await.unwrap().is_err(), "the client saw the connection die");
    // PostgreSQL notices the dead client and rolls its transaction back.
    let mut gone = false;
    for _ in 0..200 {
        if footprint(app, &market.admin, &id).await == before {
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let sleeping: Count = diesel::sql_query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'",
            )
            .get_result(&mut *app.conn().await)
            .await
            .unwrap();
            if sleeping.n == 0 {
                gone = true;
                break;
            }
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(gone, "the killed process's transaction did not roll back");
    remove_pause(app, "ledger_entries").await;
    assert_eq!(ledger_verify(app), (0, String::new()), "ledger verify after the kill");

    // After a restart the buyer accepts again and the release happens once.
    let mut serve = spawn_serve();
    let mut accepted = None;
    for _ in 0..200 {
        let answer =
            app.client.post(format!("{base}/v1/orders/{id}/accept")).bearer_auth(&market.buyer.token).send().await;
        if let Ok(answer) = answer {
            accepted = Some(answer.status().as_u16());
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(accepted, Some(200));
    let _ = Command::new("kill").args(["-TERM", &serve.id().to_string()]).status();
    serve.wait().unwrap();
    assert_eq!(get_order(app, &market.buyer.token, &id).await.1["status"], "completed");
    assert_eq!(ledger_verify(app).0, 0);
}

#[tokio::test]
async fn ledger_verify_names_the_order_that_breaks_an_invariant() {
    let market = Market::open(TestApp::builder(), json!({"quantity": 5})).await;
    let app = &market.app;
    let completed = delivered_order(&market, 1).await;
    act_ok(app, &market.buyer.token, &format!("/v1/orders/{}/accept", oid(&completed)), None).await;
    let paid = place_ok(&market, 1).await;
    confirm_wire(&market, &paid).await;
    assert_eq!(ledger_verify(app), (0, String::new()));

    // The ledger refuses to be edited, even by a direct UPDATE or DELETE.
    let mut conn = AsyncPgConnection::establish(&app.direct_database_url).await.unwrap();
    for statement in ["UPDATE ledger_entries SET amount_cents = amount_cents + 1", "DELETE FROM ledger_transactions"] {
        let refused = diesel::sql_query(statement).execute(&mut conn).await.unwrap_err();
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }
    // An unbalanced transaction cannot even commit.
    let unbalanced = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::sql_query(format!(
                "INSERT INTO ledger_entries (transaction_id, account, amount_cents)
                 SELECT id, 'platform_fees', 1 FROM ledger_transactions WHERE order_id = '{}' LIMIT 1",
                oid(&paid)
            ))
            .execute(conn)
            .await?;
            Ok(())
        })
        .await;
    assert!(unbalanced.unwrap_err().to_string().contains("does not balance"));
    assert_eq!(ledger_verify(app).0, 0, "nothing of it remains");

    // A paid order whose row claims it is completed without a release, found by name.
    diesel::sql_query(format!("UPDATE orders SET status = 'completed' WHERE id = '{}'", oid(&paid)))
        .execute(&mut conn)
        .await
        .unwrap();
    let (code, stderr) = ledger_verify(app);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("order {}", oid(&paid))), "{stderr}");
    assert!(stderr.contains("escrow"), "{stderr}");
    assert!(!stderr.contains(&oid(&completed)), "the sound order is not named: {stderr}");
}

#[tokio::test]
async fn a_partial_acceptance_killed_between_any_two_steps_leaves_no_trace_and_can_be_retried() {
    use super::units::{serial_market_with, ship_with, units_of};
    let market = serial_market_with(TestApp::builder(), 20, json!({"unit_price_cents": 100_000})).await;
    let app = &market.app;
    // What the seller's accept writes, in order: the settlement posting, the
    // lot's counts, the units, the rejections, the order and its event.
    let tables = ["ledger_entries", "listings", "units", "unit_rejections", "orders", "order_events"];
    for table in tables {
        let order = place_ok(&market, 2).await;
        confirm_wire(&market, &order).await;
        let serials: Vec<String> = units_of(&order).into_iter().map(|(serial, _)| serial).collect();
        json_with_status(ship_with(&market, &order, Some(json!(serials))).await, 200).await;
        confirm_delivery(&market, &order).await;
        let id = oid(&order);
        let rejection = json!({"items": [{"serial": serials[0], "reason": "dead_on_arrival", "note": "dead"}]});
        json_with_status(
            act(app, &market.buyer.token, &format!("/v1/orders/{id}/unit-rejections"), Some(rejection)).await,
            201,
        )
        .await;
        let before = footprint(app, &market.admin, &id).await;
        install_pause(app, table).await;
        let request = {
            let (client, url, token) = (
                app.client.clone(),
                app.url(&format!("/v1/orders/{id}/unit-rejections/accept")),
                market.seller.token.clone(),
            );
            tokio::spawn(async move { client.post(url).bearer_auth(token).send().await.unwrap().status().as_u16() })
        };
        terminate_backend(app, paused_backend(app).await).await;
        assert_eq!(request.await.unwrap(), 503, "killed after writing {table}: the client is told to retry");
        remove_pause(app, table).await;
        let after = footprint(app, &market.admin, &id).await;
        assert_eq!(before, after, "the acceptance killed after writing {table} left something behind");
        assert_eq!(ledger_verify(app).0, 0, "ledger verify after the acceptance died at {table}");
        let retried = act_ok(app, &market.seller.token, &format!("/v1/orders/{id}/unit-rejections/accept"), None).await;
        assert_eq!(retried["status"], "completed", "the retried acceptance succeeds");
        assert_eq!(retried["settlement"]["refund_cents"], 100_000);
    }
    assert_ledger_sound(app).await;
}
