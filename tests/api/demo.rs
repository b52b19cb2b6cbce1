//! `rigmarket seed-demo` next to a running service: a live job worker on the
//! same database fires whatever timers it can see while the demo is written, yet
//! the market comes out whole (every planned order in its planned status), no
//! job fails, no demo account is mailed about its historic events, and the URLs
//! printed come from the configured public URL.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rigmarket::db::schema::{jobs, orders};
use rigmarket::demo::scenario;

use crate::support::TestApp;

#[derive(diesel::QueryableByName)]
struct FarmOrder {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "string_agg")]
    rejection_statuses: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Int8>)]
    refund_cents: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    rejected: i64,
}

#[derive(diesel::QueryableByName)]
struct VerdictCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    n: i64,
}

/// Orders by status as the scenario plans them. An order that asks for more
/// units than its lot still has when it is placed is refused (the scenario
/// sizes orders before sorting them by time), so stock is followed here too:
/// the demo drives each order to its end before placing the next, and an order
/// that ends unshipped gives its units back.
fn planned_statuses() -> BTreeMap<String, i64> {
    use scenario::Outcome;
    let mut planned = BTreeMap::new();
    let now = chrono::Utc::now();
    let market = scenario::build(now);
    // Each accepted negotiation placed an order that awaits payment.
    let accepted = rigmarket::demo::negotiations::plan(&market, now)
        .iter()
        .filter(|plan| plan.ending == rigmarket::demo::negotiations::Ending::Accepted)
        .count() as i64;
    if accepted > 0 {
        planned.insert("awaiting_payment".to_string(), accepted);
    }
    for status in rigmarket::demo::farms::planned_statuses() {
        *planned.entry(status.to_string()).or_default() += 1;
    }
    for lot in market.lots {
        let mut available = lot.quantity;
        for order in &lot.orders {
            if order.quantity > available {
                continue;
            }
            if !matches!(order.outcome, Outcome::Cancelled | Outcome::Expired | Outcome::Refunded) {
                available -= order.quantity;
            }
            *planned.entry(order.outcome.name().to_string()).or_default() += 1;
        }
    }
    planned
}

async fn statuses(app: &TestApp) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> = orders::table
        .group_by(orders::status)
        .select((orders::status, diesel::dsl::count_star()))
        .load(&mut *app.conn().await)
        .await
        .unwrap();
    rows.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_demo_beside_a_live_worker_leaves_a_whole_market_and_mails_nobody() {
    // The worker's clock is today's, so every 2021 deadline the demo writes is due to it.
    let app = TestApp::builder().at(chrono::Utc::now()).with_worker().with_smtp().spawn().await;
    let mut config = (*app.state.config).clone();
    config.database_url = app.direct_database_url.clone().into();
    config.public_url = "http://rigs.localhost:9123/".parse().unwrap();

    let report = rigmarket::demo::seed(config).await.expect("seed the demo beside a live worker");

    let planned = planned_statuses();
    let seeded: BTreeMap<String, i64> =
        report.orders.iter().map(|(status, n)| (status.to_string(), *n as i64)).collect();
    assert_eq!(seeded, planned, "the seeding itself placed and moved every planned order");
    // Everything the worker can now see is due or in the future; run what is due.
    app.drain_jobs().await;
    assert_eq!(statuses(&app).await, planned, "no live timer moved a demo order off its planned status");
    let mut conn = app.conn().await;
    let violations = rigmarket::orders::verify_ledger(&mut conn).await.unwrap();
    assert!(violations.is_empty(), "{violations:?}");
    let failed: Vec<(String, Option<String>)> =
        jobs::table.filter(jobs::attempts.gt(0)).select((jobs::kind, jobs::last_error)).load(&mut *conn).await.unwrap();
    assert!(failed.is_empty(), "jobs failed beside the demo: {failed:?}");

    // Mail: the queue first, then the inbox, so a message the worker is sending
    // right now is seen in one or the other.
    let queued_mail: i64 =
        jobs::table.filter(jobs::kind.eq("send_email")).count().get_result(&mut *conn).await.unwrap();
    let sent = app.smtp.as_ref().unwrap().received();
    assert_eq!(queued_mail, 0, "the demo queued mail");
    assert!(
        sent.is_empty(),
        "the demo's historic events were mailed: {:?}",
        sent.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    drop(conn);

    // The farms: three lots sold by serial with per-unit proofs, one order whose
    // dead units fell inside the DOA allowance (settled, nothing refunded) and
    // one beyond it (three units' price owed once the seller answers).
    assert_eq!((report.farm_lots, report.farm_units), (3, 700));
    let rejections: Vec<(String, String, Option<i64>, i64)> = diesel::sql_query(
        "SELECT o.status, string_agg(DISTINCT r.status, ','), o.refund_cents, count(r.id) AS rejected
           FROM orders o JOIN unit_rejections r ON r.order_id = o.id GROUP BY o.id ORDER BY o.created_at",
    )
    .load::<FarmOrder>(&mut *app.conn().await)
    .await
    .unwrap()
    .into_iter()
    .map(|o| (o.status, o.rejection_statuses, o.refund_cents, o.rejected))
    .collect();
    assert_eq!(
        rejections,
        [
            ("completed".to_string(), "accepted".to_string(), Some(0), 2),
            ("delivered".to_string(), "pending".to_string(), None, 4)
        ]
    );
    let verdicts: Vec<(String, i64)> =
        diesel::sql_query("SELECT status, count(*) AS n FROM proof_units GROUP BY status ORDER BY status")
            .load::<VerdictCount>(&mut *app.conn().await)
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.status, v.n))
            .collect();
    assert_eq!(verdicts.iter().map(|v| v.1).sum::<i64>(), 700, "every unit has a verdict: {verdicts:?}");
    assert!(verdicts.iter().any(|v| v.0 == "under_90") && verdicts.iter().any(|v| v.0 == "ok"), "{verdicts:?}");

    let negotiated: Vec<(&str, usize)> = report.negotiations.iter().map(|(end, n)| (*end, *n)).collect();
    assert_eq!(
        negotiated,
        vec![("accepted", 2), ("countered twice", 2), ("declined", 2), ("expired", 2)],
        "negotiated lots in every ending"
    );
    let printed = report.to_string();
    assert!(printed.contains("http://rigs.localhost:9123/v1/price-index/latest"), "{printed}");
    assert!(printed.contains("'http://rigs.localhost:9123/v1/price-index/fire-sales?"), "{printed}");
    assert!(printed.contains("http://rigs.localhost:9123/docs/"), "{printed}");
    assert!(!printed.contains("127.0.0.1"), "{printed}");
}
