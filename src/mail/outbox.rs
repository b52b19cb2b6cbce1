//! The outbox: a rendered email is a job, enqueued in the transaction of the
//! change it reports and sent by a worker.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::templates::{self, EmailTemplate, OutgoingEmail};
use super::transport::Mailer;
use crate::jobs::{self, Job, JobRegistry};

/// Renders `template` for `to` and enqueues it in the caller's transaction.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    to: &str,
    template: &impl EmailTemplate,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let email = templates::render(to, template);
    jobs::enqueue(conn, &email, now).await
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
