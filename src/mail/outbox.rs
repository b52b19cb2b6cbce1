//! The outbox: a rendered email is a job, enqueued in the transaction of the
//! change it reports and sent by a worker.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::templates::{self, EmailTemplate, OutgoingEmail};
use super::transport::Mailer;
use crate::jobs::{self, Job, JobRegistry};

tokio::task_local! {
    /// Addresses the current task sends no mail to (see [`suppressed_for`]).
    static SUPPRESSED: Arc<HashSet<String>>;
}

/// Runs `work` with mail to `recipients` suppressed: inside it, [`enqueue`] for
/// one of them queues nothing. For accounts that stand for nobody (the demo
/// market's), whose synthetic history must not become mail. Scoped to the task
/// running `work`, so a worker or request elsewhere in the process mails as usual.
pub async fn suppressed_for<F: Future>(recipients: impl IntoIterator<Item = String>, work: F) -> F::Output {
    let recipients = recipients.into_iter().map(|address| address.to_lowercase()).collect();
    SUPPRESSED.scope(Arc::new(recipients), work).await
}

fn is_suppressed(to: &str) -> bool {
    SUPPRESSED.try_with(|suppressed| suppressed.contains(&to.to_lowercase())).unwrap_or(false)
}

/// Renders `template` for `to` and enqueues it in the caller's transaction; the
/// job's id, or `None` when mail to `to` is suppressed here.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    to: &str,
    template: &impl EmailTemplate,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<i64>> {
    if is_suppressed(to) {
        return Ok(None);
    }
    let email = templates::render(to, template);
    Ok(Some(jobs::enqueue(conn, &email, now).await?))
}

/// Renders `template` for `to` into `batch`, which the caller enqueues with the
/// rest of its jobs (nothing when mail to `to` is suppressed here).
pub fn add_to(
    batch: &mut jobs::Batch,
    to: &str,
    template: &impl EmailTemplate,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if is_suppressed(to) {
        return Ok(());
    }
    batch.add(&templates::render(to, template), now)
}

/// A rendered email waiting in the outbox is a job.
impl Job for OutgoingEmail {
    const KIND: &'static str = "send_email";
}

/// Sends outbox emails through `mailer`.
pub fn register_jobs(registry: &mut JobRegistry, mailer: Mailer) {
    registry.on(move |_conn, email: OutgoingEmail| {
        let mailer = mailer.clone();
        Box::pin(async move {
            mailer.send(&email).await?;
            tracing::info!(mail.message_id = %email.message_id, "email sent");
            Ok(())
        })
    });
}
