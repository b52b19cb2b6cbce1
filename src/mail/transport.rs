//! Delivering a rendered email: lettre over SMTP, or an `.eml` file.

use std::sync::Arc;

use anyhow::Context;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::templates::OutgoingEmail;
use crate::config::{MailConfig, MailTransportConfig};

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
        let mut builder = Message::builder();
        for (name, value) in &email.headers {
            let name = HeaderName::new_from_ascii(name.clone()).context("a header name is not ASCII")?;
            // One line only: a newline in a value would start a header of its own.
            builder = builder.raw_header(HeaderValue::new(name, value.replace(['\r', '\n'], " ")));
        }
        let message = builder
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
