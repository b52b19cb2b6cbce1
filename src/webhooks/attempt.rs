//! Running one [`DeliverWebhook`] job: sign, send, and record what happened,
//! then queue the next attempt on the schedule, or stop: 2xx is success, 410
//! disables the endpoint at once, and an endpoint failing for three days is
//! disabled and its owner emailed.
//!
//! The job runs in the transaction that claimed it and holds its delivery row
//! locked during the request, so no other worker makes the same attempt; a
//! crash mid-request rolls the attempt back and the job is due again (the
//! receiver may then get the message twice, with the same `webhook-id`).
//! Each endpoint gets at most `slots` requests at a time (advisory locks). An
//! attempt that finds them held waits briefly (a fast receiver frees a slot in
//! milliseconds); if that is not enough the receiver is hanging, the endpoint
//! is marked slow for the 15 s timeout and its other attempts are deferred
//! without touching it, so a hanging receiver holds one worker and the others
//! keep delivering elsewhere.

use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::deliveries::{self, AttemptRecord, DeliverWebhook};
use super::emails::EndpointDisabled;
use super::endpoints;
use super::model::{status, DeliveryRow, EndpointRow};
use super::schedule;
use super::secrets::Sealer;
use super::sender::{self, Answer, Outgoing};
use super::signature::signature_header;
use crate::jobs;

/// How long a worker waits for a busy endpoint's slot before deferring.
const SLOT_WAIT_MS: u64 = 200;

/// What an attempt needs besides the database.
#[derive(Clone)]
pub struct Deliverer {
    pub sealer: Sealer,
    pub allow_private: bool,
    pub jitter: bool,
    /// Concurrent requests per endpoint.
    pub slots: i64,
}

pub async fn run(
    conn: &mut AsyncPgConnection,
    deliverer: &Deliverer,
    job: DeliverWebhook,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Some(delivery) = deliveries::lock(conn, job.delivery_id).await? else {
        return Ok(());
    };
    if delivery.status != status::PENDING || delivery.attempts != job.attempt {
        return Ok(());
    }
    let Some(endpoint) = endpoints::find(conn, delivery.endpoint_id).await? else {
        return Ok(());
    };
    if !endpoint.enabled && delivery.event_type != "webhook.test" {
        deliveries::fail_pending(conn, endpoint.id).await?;
        return Ok(());
    }
    if let Some(until) = endpoint.slow_until.filter(|until| *until > now) {
        jobs::enqueue(conn, &job, until).await?;
        return Ok(());
    }
    if !take_slot(conn, &endpoint, deliverer.slots).await? {
        // The slot is held by a request that is taking long: let the endpoint's
        // other attempts wait out the timeout instead of queueing for it.
        let until = now + Duration::from_std(sender::TIMEOUT).expect("15 s");
        endpoints::mark_slow(conn, endpoint.id, until).await?;
        jobs::enqueue(conn, &job, until).await?;
        return Ok(());
    }
    let keys = endpoints::signing_keys(&deliverer.sealer, &endpoint, now)?;
    let message_id = delivery.message_id();
    let signature = signature_header(&message_id, now.timestamp(), &delivery.body, &keys);
    let outgoing = Outgoing {
        url: &endpoint.url,
        message_id: &message_id,
        timestamp: now.timestamp(),
        signature: &signature,
        body: &delivery.body,
    };
    let answer = sender::send(&outgoing, deliverer.allow_private).await;
    tracing::info!(
        webhook.delivery_id = %delivery.id, webhook.endpoint_id = %endpoint.id, webhook.attempt = delivery.attempts + 1,
        http.status = answer.status, error = answer.error.as_deref(), "webhook attempt"
    );
    settle(conn, deliverer, &endpoint, &delivery, answer, now).await
}

/// Records the answer and decides what comes next.
async fn settle(
    conn: &mut AsyncPgConnection,
    deliverer: &Deliverer,
    endpoint: &EndpointRow,
    delivery: &DeliveryRow,
    answer: Answer,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut record = AttemptRecord {
        status: status::FAILED,
        response_status: answer.status.map(i32::from),
        response_body: answer.body,
        duration_ms: i32::try_from(answer.duration.as_millis()).unwrap_or(i32::MAX),
        error: answer.error,
        next_attempt_at: None,
    };
    match answer.status {
        Some(200..=299) => {
            record.status = status::SUCCEEDED;
            deliveries::record_attempt(conn, delivery, record, now).await?;
            endpoints::note_success(conn, endpoint).await?;
        }
        Some(410) => {
            deliveries::record_attempt(conn, delivery, record, now).await?;
            disable(conn, endpoint, "gone", now).await?;
        }
        code => {
            let failing_since = endpoints::note_failure(conn, endpoint, now).await?;
            if now - failing_since >= schedule::DISABLE_AFTER {
                deliveries::record_attempt(conn, delivery, record, now).await?;
                return disable(conn, endpoint, "failing", now).await;
            }
            let attempts = delivery.attempts + 1;
            let asked = match (code, &answer.retry_after) {
                (Some(429 | 503), Some(value)) => schedule::retry_after(value, now),
                _ => None,
            };
            let wait = asked.or_else(|| schedule::retry_wait(attempts, schedule::spread(deliverer.jitter)));
            if let Some(wait) = wait.filter(|_| attempts < schedule::MAX_ATTEMPTS) {
                record.status = status::PENDING;
                record.next_attempt_at = Some(now + wait);
                jobs::enqueue(conn, &DeliverWebhook { delivery_id: delivery.id, attempt: attempts }, now + wait)
                    .await?;
            }
            deliveries::record_attempt(conn, delivery, record, now).await?;
        }
    }
    Ok(())
}

/// Stops deliveries to the endpoint, fails its pending ones and tells its owner.
async fn disable(
    conn: &mut AsyncPgConnection,
    endpoint: &EndpointRow,
    reason: &'static str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    endpoints::disable(conn, endpoint.id, reason, now).await?;
    deliveries::fail_pending(conn, endpoint.id).await?;
    let email = crate::accounts::email_of(conn, endpoint.user_id).await?;
    crate::mail::enqueue(conn, &email, &EndpointDisabled { url: endpoint.url.clone(), reason }, now).await?;
    tracing::warn!(webhook.endpoint_id = %endpoint.id, reason, "webhook endpoint disabled");
    Ok(())
}

/// Takes one of the endpoint's request slots for the rest of the transaction.
/// When all are taken it waits [`SLOT_WAIT_MS`] for the first: a fast receiver
/// frees it within that (so two workers share a busy endpoint without
/// deferring each other's attempts), a hanging one does not.
async fn take_slot(conn: &mut AsyncPgConnection, endpoint: &EndpointRow, slots: i64) -> anyhow::Result<bool> {
    #[derive(diesel::QueryableByName)]
    struct Taken {
        #[diesel(sql_type = Bool)]
        taken: bool,
    }
    let key = format!("webhook endpoint {}", endpoint.id);
    for slot in 0..slots.max(1) {
        let taken: Taken = diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtextextended($1, $2)) AS taken")
            .bind::<Text, _>(&key)
            .bind::<BigInt, _>(slot)
            .get_result(conn)
            .await?;
        if taken.taken {
            return Ok(true);
        }
    }
    // In a savepoint: a lock timeout rolls back only the wait (and its setting).
    let waited = conn
        .transaction(async |conn| {
            diesel::sql_query(format!("SET LOCAL lock_timeout = '{}ms'", SLOT_WAIT_MS)).execute(conn).await?;
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind::<Text, _>(&key)
                .execute(conn)
                .await?;
            diesel::sql_query("SET LOCAL lock_timeout = 0").execute(conn).await?;
            Ok::<_, diesel::result::Error>(())
        })
        .await;
    Ok(waited.is_ok())
}
