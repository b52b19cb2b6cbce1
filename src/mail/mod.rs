//! Outgoing email through an outbox: callers render a template and enqueue a
//! `send_email` job in their own transaction; the worker sends it with lettre over
//! SMTP (`RIGMARKET_SMTP_URL`) or writes an `.eml` file (`RIGMARKET_MAIL_DIR`).
//!
//! A failed send is retried with backoff and never dropped. Each message gets its
//! Message-ID when it is enqueued, so the rare resend after a crash between the
//! SMTP acknowledgement and the job's commit carries the same id and receivers
//! de-duplicate it.

pub mod templates;

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::{MailConfig, MailTransportConfig};
use crate::jobs::{self, Job, JobRegistry};
pub use templates::EmailTemplate;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Arc<Transport>,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn new(config: &MailConfig) -> anyhow::Result<Self> {
        let from: Mailbox = config.from.parse().context("RIGMARKET_MAIL_FROM is not a mailbox")?;
        let transport = match &config.transport {
            MailTransportConfig::Smtp { url } => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .context("RIGMARKET_SMTP_URL is not a valid SMTP URL")?
                    .timeout(Some(std::time::Duration::from_secs(10)))
                    .build(),
            ),
            MailTransportConfig::Files { dir } => {
                std::fs::create_dir_all(dir).with_context(|| format!("creating mail directory {}", dir.display()))?;
                Transport::Files(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
        };
        Ok(Self { from, transport: Arc::new(transport) })
    }

    pub fn describe(&self) -> &'static str {
        match *self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Files(_) => "files",
        }
    }

    pub async fn send(&self, email: &OutgoingEmail) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(email.to.parse().context("recipient is not a valid address")?)
            .subject(&email.subject)
            .message_id(Some(email.message_id.clone()))
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(email.text.clone()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(email.html.clone())),
            )
            .context("building the message")?;
        match &*self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await.context("SMTP delivery failed")?;
            }
            Transport::Files(files) => {
                files.send(message).await.context("writing the .eml file failed")?;
            }
        }
        Ok(())
    }
}

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
