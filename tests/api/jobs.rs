//! The job queue as an operator sees it: the outbox only delivers what committed,
//! failures back off and end up dead (visible in metrics, retryable), periodic
//! tasks fire once per period however many instances run, and concurrent workers
//! never run a job twice.

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rigmarket::db::schema::jobs;
use rigmarket::jobs::{periodic, queue, Job, PruneDeadJobs, QueuedJob, RunOutcome};
use rigmarket::mail::EmailTemplate;
use rigmarket::Instance;
use serde_json::json;

use crate::support::{spawn_app, TestApp};

/// A minimal email so tests can enqueue many distinguishable messages.
struct Note {
    n: usize,
}

impl EmailTemplate for Note {
    fn subject(&self) -> String {
        format!("Note {}", self.n)
    }
    fn text(&self) -> String {
        format!("This is note {}.", self.n)
    }
    fn html_body(&self) -> String {
        format!("<p>This is note {}.</p>", self.n)
    }
}

async fn load_job(app: &TestApp, id: i64) -> Option<QueuedJob> {
    jobs::table.find(id).select(QueuedJob::as_select()).first(&mut *app.conn().await).await.optional().unwrap()
}

async fn jobs_of_kind(app: &TestApp, kind: &str) -> Vec<QueuedJob> {
    jobs::table.filter(jobs::kind.eq(kind)).select(QueuedJob::as_select()).load(&mut *app.conn().await).await.unwrap()
}

async fn metrics(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

fn has_line(body: &str, line: &str) -> bool {
    body.lines().any(|l| l == line)
}

#[tokio::test]
async fn a_job_exists_only_if_its_transaction_commits_and_runs_once() {
    let app = TestApp::builder().with_smtp().spawn().await;
    let smtp = app.smtp.as_ref().unwrap();
    let now = app.clock.now();
    let mut conn = app.conn().await;

    let rolled_back: anyhow::Result<()> = conn
        .transaction(async move |conn| {
            rigmarket::mail::enqueue(conn, "rolled-back@rigmarket.test", &Note { n: 1 }, now).await?;
            anyhow::bail!("the use case failed after enqueueing")
        })
        .await;
    assert!(rolled_back.is_err());
    let committed: anyhow::Result<Option<i64>> = conn
        .transaction(async move |conn| {
            rigmarket::mail::enqueue(conn, "committed@rigmarket.test", &Note { n: 2 }, now).await
        })
        .await;
    let committed_id = committed.unwrap().expect("mail to this address is not suppressed");
    drop(conn);

    assert_eq!(app.drain_jobs().await, 1, "only the committed job is in the queue");
    assert_eq!(app.drain_jobs().await, 0, "a finished job does not run again");
    assert!(smtp.received_for("rolled-back@rigmarket.test").is_empty(), "a rolled-back email was sent");
    assert_eq!(smtp.received_for("committed@rigmarket.test").len(), 1);
    assert_eq!(smtp.received().len(), 1);
    assert!(load_job(&app, committed_id).await.is_none(), "a finished job is removed from the queue");
}

#[tokio::test]
async fn a_failing_job_backs_off_dies_after_max_attempts_and_can_be_retried() {
    let app = spawn_app().await;
    app.allow_stray_jobs();
    let start = app.clock.now();
    let id = queue::enqueue(&mut *app.conn().await, "no_such_kind", &json!({"n": 1}), start).await.unwrap();

    assert_eq!(app.drain_jobs().await, 1);
    let job = load_job(&app, id).await.expect("a failed job stays in the queue");
    assert_eq!(job.status, queue::STATUS_QUEUED);
    assert_eq!(job.attempts, 1);
    assert_eq!(job.max_attempts, 8);
    assert_eq!(job.run_at, start + Duration::seconds(10));
    assert!(job.last_error.as_deref().unwrap_or("").contains("no_such_kind"), "{:?}", job.last_error);

    assert_eq!(app.drain_jobs().await, 0, "not due again before its backoff");
    app.clock.advance(Duration::seconds(9));
    assert_eq!(app.drain_jobs().await, 0, "not due again before its backoff");
    app.clock.advance(Duration::seconds(1));
    assert_eq!(app.drain_jobs().await, 1, "due again once the backoff has passed");
    let job = load_job(&app, id).await.unwrap();
    assert_eq!(job.attempts, 2);
    assert_eq!(job.run_at, app.clock.now() + Duration::seconds(20), "the backoff doubles");

    for attempt in 3..=8 {
        app.clock.advance(queue::backoff(attempt - 1));
        assert_eq!(app.drain_jobs().await, 1, "attempt {attempt} runs when due");
    }
    let job = load_job(&app, id).await.expect("a dead job is kept for inspection");
    assert_eq!(job.status, queue::STATUS_DEAD);
    assert_eq!(job.attempts, 8);
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.drain_jobs().await, 0, "a dead job is not retried by itself");

    let dead = queue::list_dead(&mut *app.conn().await, 10).await.unwrap();
    assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    let body = metrics(&app).await;
    assert!(has_line(&body, "rigmarket_jobs_dead 1"), "{body}");
    assert!(has_line(&body, r#"rigmarket_jobs_finished_total{kind="no_such_kind",outcome="dead"} 1"#), "{body}");
    assert!(has_line(&body, r#"rigmarket_jobs_finished_total{kind="no_such_kind",outcome="retry"} 7"#), "{body}");

    assert!(queue::retry_dead(&mut *app.conn().await, id, app.clock.now()).await.unwrap());
    let job = load_job(&app, id).await.unwrap();
    assert_eq!((job.status.as_str(), job.attempts, job.run_at), (queue::STATUS_QUEUED, 0, app.clock.now()));
    assert!(queue::list_dead(&mut *app.conn().await, 10).await.unwrap().is_empty());
    assert!(has_line(&metrics(&app).await, "rigmarket_jobs_dead 0"));
    assert!(
        !queue::retry_dead(&mut *app.conn().await, id, app.clock.now()).await.unwrap(),
        "only dead jobs are retried"
    );
    assert_eq!(app.drain_jobs().await, 1, "a retried job runs at once");
    assert_eq!(load_job(&app, id).await.unwrap().attempts, 1, "with a fresh set of attempts");
}

/// Runs `enqueue_due` twice from each of two instances at the same moment and
/// returns every task name they enqueued, asserting no task fired twice.
async fn enqueue_due_from_both(first: &Instance, second: &Instance) -> Vec<String> {
    let now = first.state.clock.now();
    let (first, second) = (&first.state, &second.state);
    let (mut a, mut b) = (first.pool.get().await.unwrap(), second.pool.get().await.unwrap());
    let (mut c, mut d) = (first.pool.get().await.unwrap(), second.pool.get().await.unwrap());
    let (ra, rb, rc, rd) = tokio::join!(
        periodic::enqueue_due(&mut a, now),
        periodic::enqueue_due(&mut b, now),
        periodic::enqueue_due(&mut c, now),
        periodic::enqueue_due(&mut d, now),
    );
    let fired: Vec<String> = [ra, rb, rc, rd].into_iter().flat_map(|r| r.expect("enqueue_due")).collect();
    let distinct: HashSet<&String> = fired.iter().collect();
    assert_eq!(distinct.len(), fired.len(), "a periodic task fired more than once at {now}: {fired:?}");
    fired
}

fn fired_prune(fired: &[String]) -> usize {
    fired.iter().filter(|name| *name == PruneDeadJobs::KIND).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_periodic_task_fires_once_per_period_across_instances() {
    let app = spawn_app().await;
    let other = app.another_instance().await;
    app.register_periodic().await;
    other.jobs.register_periodic().await.unwrap();
    let registered_at = app.clock.now();

    assert_eq!(fired_prune(&enqueue_due_from_both(&app.instance, &other).await), 0, "not due before its first period");
    app.clock.advance(Duration::hours(23) + Duration::minutes(59));
    assert_eq!(fired_prune(&enqueue_due_from_both(&app.instance, &other).await), 0, "not due before its first period");
    app.drain_jobs().await;

    for period in 1..=2 {
        app.clock.advance(if period == 1 { Duration::minutes(1) } else { Duration::hours(24) });
        let fired = enqueue_due_from_both(&app.instance, &other).await;
        assert_eq!(fired_prune(&fired), 1, "period {period}: {fired:?}");
        let queued = jobs_of_kind(&app, PruneDeadJobs::KIND).await;
        assert_eq!(queued.len(), 1, "period {period}: exactly one run is queued");
        let due_at = registered_at + Duration::hours(24 * period);
        assert_eq!(queued[0].payload, json!({ "due_at": due_at }), "period {period}");

        app.drain_jobs().await;
        assert!(jobs_of_kind(&app, PruneDeadJobs::KIND).await.is_empty(), "period {period}");
        let ran = format!(r#"rigmarket_jobs_finished_total{{kind="prune_dead_jobs",outcome="ok"}} {period}"#);
        let body = metrics(&app).await;
        assert!(has_line(&body, &ran), "period {period}: expected {ran}\n{body}");
        assert_eq!(fired_prune(&enqueue_due_from_both(&app.instance, &other).await), 0, "period {period} fired twice");
    }
}

/// Runs jobs on `state` until none is left to claim; returns the ids it ran.
async fn work(instance: Instance) -> Vec<i64> {
    let mut ran = Vec::new();
    loop {
        match instance.jobs.run_next().await.expect("run_next") {
            RunOutcome::Idle => return ran,
            RunOutcome::Succeeded { job_id } => ran.push(job_id),
            RunOutcome::Failed { job_id, .. } => panic!("job {job_id} failed"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_run_each_of_fifty_jobs_exactly_once() {
    let app = TestApp::builder().with_smtp().spawn().await;
    let smtp = app.smtp.as_ref().unwrap();
    let other = app.another_instance().await;
    let now = app.clock.now();
    let mut conn = app.conn().await;
    for n in 0..50 {
        rigmarket::mail::enqueue(&mut conn, &format!("buyer-{n}@rigmarket.test"), &Note { n }, now).await.unwrap();
    }
    let expected_ids: HashSet<String> = jobs::table
        .select(jobs::payload)
        .load::<serde_json::Value>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|payload| payload["message_id"].as_str().unwrap().to_string())
        .collect();
    drop(conn);
    assert_eq!(expected_ids.len(), 50);

    let (first, second) = tokio::join!(tokio::spawn(work(app.instance.clone())), tokio::spawn(work(other)));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.len() + second.len(), 50, "first ran {}, second ran {}", first.len(), second.len());
    assert!(!first.is_empty() && !second.is_empty(), "both workers took jobs: {} / {}", first.len(), second.len());
    let ran: HashSet<i64> = first.iter().chain(&second).copied().collect();
    assert_eq!(ran.len(), 50, "a job was run by both workers");

    let received = smtp.received();
    let mut per_message_id: HashMap<String, usize> = HashMap::new();
    for mail in &received {
        *per_message_id.entry(mail.header("Message-ID").expect("a Message-ID")).or_default() += 1;
    }
    let duplicates: Vec<_> = per_message_id.iter().filter(|(_, count)| **count > 1).collect();
    assert!(duplicates.is_empty(), "delivered more than once: {duplicates:?}");
    assert_eq!(received.len(), 50);
    assert_eq!(per_message_id.keys().cloned().collect::<HashSet<_>>(), expected_ids);
    assert_eq!(jobs::table.count().get_result::<i64>(&mut *app.conn().await).await.unwrap(), 0);
}

#[tokio::test]
async fn the_daily_prune_removes_dead_jobs_older_than_thirty_days_only() {
    let app = spawn_app().await;
    app.allow_stray_jobs();
    app.register_periodic().await;
    let prune_at = app.clock.now() + Duration::hours(24);
    let mut conn = app.conn().await;
    let mut insert = async |status: &str, age: Duration| -> i64 {
        diesel::insert_into(jobs::table)
            .values((
                jobs::kind.eq("no_such_kind"),
                jobs::status.eq(status),
                jobs::attempts.eq(if status == queue::STATUS_DEAD { 8 } else { 0 }),
                // Not due: only the prune itself should run.
                jobs::run_at.eq(prune_at + Duration::days(365)),
                jobs::updated_at.eq(prune_at - age),
            ))
            .returning(jobs::id)
            .get_result(&mut conn)
            .await
            .unwrap()
    };
    let old_dead = insert(queue::STATUS_DEAD, Duration::days(30) + Duration::hours(1)).await;
    let very_old_dead = insert(queue::STATUS_DEAD, Duration::days(400)).await;
    let young_dead = insert(queue::STATUS_DEAD, Duration::days(30) - Duration::hours(1)).await;
    let old_queued = insert(queue::STATUS_QUEUED, Duration::days(90)).await;
    drop(conn);

    app.clock.advance(Duration::hours(24));
    app.drain_jobs().await;
    let body = metrics(&app).await;
    assert!(has_line(&body, r#"rigmarket_jobs_finished_total{kind="prune_dead_jobs",outcome="ok"} 1"#), "{body}");
    let left: HashSet<i64> =
        jobs::table.select(jobs::id).load::<i64>(&mut *app.conn().await).await.unwrap().into_iter().collect();
    assert!(!left.contains(&old_dead) && !left.contains(&very_old_dead), "old dead jobs remain: {left:?}");
    assert_eq!(left, HashSet::from([young_dead, old_queued]));
    let dead = queue::list_dead(&mut *app.conn().await, 10).await.unwrap();
    assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), vec![young_dead]);
}

/// The harness's teardown check is real: a test that leaves a job no handler
/// can run fails, as would one that leaves a failed job.
#[tokio::test]
#[should_panic(expected = "left unexpected jobs behind")]
async fn a_test_that_leaves_a_job_nobody_can_run_fails_at_teardown() {
    let app = spawn_app().await;
    let later = app.clock.now() + Duration::days(1);
    queue::enqueue(&mut *app.conn().await, "no_such_kind", &json!({}), later).await.unwrap();
}
