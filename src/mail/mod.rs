//! Outgoing email through an outbox: callers render a template and enqueue a
//! `send_email` job in their own transaction; the worker sends it with lettre over
//! SMTP (`RIGMARKET_SMTP_URL`) or writes an `.eml` file (`RIGMARKET_MAIL_DIR`).
//!
//! A failed send is retried with backoff and never dropped. Each message gets its
//! Message-ID when it is enqueued, so the rare resend after a crash between the
//! SMTP acknowledgement and the job's commit carries the same id and receivers
//! de-duplicate it.
//!
//! Without SMTP, `mailbox` reads the `.eml` files back decoded (`rigmarket mail
//! list|show`).

mod mailbox;
mod outbox;
mod templates;
mod transport;

pub use mailbox::{MailDir, MailSummary, ShownMail, LATEST};
pub use outbox::{add_to, enqueue, register_jobs, suppressed_for};
pub use templates::{escape, EmailTemplate, OutgoingEmail, PlainNotice};
pub use transport::Mailer;
