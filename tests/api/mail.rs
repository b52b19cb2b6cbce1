//! Outgoing email: what the recipient receives, that a refusing SMTP server delays
//! but never loses or duplicates a message, and the `.eml` file transport.

use chrono::Duration;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rigmarket::config::MailTransportConfig;
use rigmarket::db::schema::{jobs, users};
use rigmarket::jobs::{queue, QueuedJob};

use crate::support::smtp::mime_part;
use crate::support::{spawn_app, TestApp};

const SUBJECT: &str = "You are now a rigmarket administrator";

async fn queued_jobs(app: &TestApp) -> Vec<QueuedJob> {
    jobs::table.select(QueuedJob::as_select()).load(&mut *app.conn().await).await.unwrap()
}

#[tokio::test]
async fn granting_admin_emails_the_account_owner_once_with_escaped_html() {
    let app = TestApp::builder().with_smtp().spawn().await;
    let smtp = app.smtp.as_ref().unwrap();
    let (user_id, _) = app.create_user("carol@rigmarket.test", &[]).await;
    diesel::update(users::table.find(user_id))
        .set(users::display_name.eq("Carol <b>Mining</b> & Co"))
        .execute(&mut *app.conn().await)
        .await
        .unwrap();

    let account = rigmarket::accounts::grant_admin(&mut *app.conn().await, " Carol@Rigmarket.TEST ", app.clock.now())
        .await
        .unwrap()
        .expect("the account exists");
    assert!(account.roles.iter().any(|r| r == "admin"), "{:?}", account.roles);
    assert!(smtp.received().is_empty(), "the email waits for the worker (outbox)");

    assert_eq!(app.drain_jobs().await, 1);
    let mails = smtp.received_for("carol@rigmarket.test");
    assert_eq!(mails.len(), 1, "{:?}", smtp.received());
    let mail = &mails[0];
    assert_eq!(mail.from, "no-reply@rigmarket.localhost");
    assert_eq!(mail.header("Subject").as_deref(), Some(SUBJECT));
    assert!(mail.header("To").unwrap_or_default().contains("carol@rigmarket.test"), "{}", mail.data);
    let content_type = mail.header("Content-Type").unwrap_or_default();
    assert!(content_type.starts_with("multipart/alternative"), "{content_type}");

    let text = mail.part("text/plain").expect("a text/plain part");
    assert!(text.contains("Hello Carol <b>Mining</b> & Co,"), "{text}");
    let html = mail.part("text/html").expect("a text/html part");
    assert!(html.contains("Hello Carol &lt;b&gt;Mining&lt;/b&gt; &amp; Co,"), "{html}");
    assert!(!html.contains("<b>Mining"), "the display name reached the HTML unescaped: {html}");
    assert!(html.contains(&format!("<title>{SUBJECT}</title>")), "{html}");

    // Granting again changes nothing and sends nothing.
    rigmarket::accounts::grant_admin(&mut *app.conn().await, "carol@rigmarket.test", app.clock.now()).await.unwrap();
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.drain_jobs().await, 0);
    assert_eq!(smtp.received().len(), 1);
    assert!(rigmarket::accounts::grant_admin(&mut *app.conn().await, "nobody@rigmarket.test", app.clock.now())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_refusing_smtp_server_delays_the_email_but_it_arrives_once_with_its_message_id() {
    let app = TestApp::builder().with_smtp().spawn().await;
    let smtp = app.smtp.as_ref().unwrap();
    app.create_user("dave@rigmarket.test", &[]).await;
    rigmarket::accounts::grant_admin(&mut *app.conn().await, "dave@rigmarket.test", app.clock.now()).await.unwrap();
    let [job] = queued_jobs(&app).await.try_into().expect("one send_email job");
    let message_id = job.payload["message_id"].as_str().expect("a Message-ID in the payload").to_string();
    smtp.refuse_next(2);

    for attempt in 1..=2 {
        assert_eq!(app.drain_jobs().await, 1, "attempt {attempt}");
        let [job] = queued_jobs(&app).await.try_into().expect("the job is kept for a retry");
        assert_eq!((job.status.as_str(), job.attempts), (queue::STATUS_QUEUED, attempt));
        let error = job.last_error.unwrap_or_default();
        assert!(error.contains("SMTP delivery failed") && error.contains("451"), "{error}");
        assert!(smtp.received().is_empty(), "attempt {attempt} was refused, nothing is delivered");
        assert_eq!(app.drain_jobs().await, 0, "not retried before the backoff");
        app.clock.advance(queue::backoff(attempt));
    }

    assert_eq!(app.drain_jobs().await, 1);
    let mails = smtp.received_for("dave@rigmarket.test");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].header("Message-ID"), Some(message_id));
    assert!(queued_jobs(&app).await.is_empty(), "a delivered email leaves the queue");
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.drain_jobs().await, 0);
    assert_eq!(smtp.received().len(), 1, "delivered exactly once");
}

#[tokio::test]
async fn without_smtp_each_email_is_written_as_one_eml_file() {
    let app = spawn_app().await;
    let MailTransportConfig::Files { dir } = &app.state.config.mail.transport else {
        panic!("the default transport writes files");
    };
    let eml_files = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == "eml"))
            .collect()
    };
    app.create_user("erin@rigmarket.test", &[]).await;
    rigmarket::accounts::grant_admin(&mut *app.conn().await, "erin@rigmarket.test", app.clock.now()).await.unwrap();
    let [job] = queued_jobs(&app).await.try_into().expect("one send_email job");
    assert!(eml_files().is_empty(), "nothing is written before the job runs");

    assert_eq!(app.drain_jobs().await, 1);
    let files = eml_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(raw.contains(&format!("Subject: {SUBJECT}")), "{raw}");
    assert!(raw.contains("To: erin@rigmarket.test"), "{raw}");
    assert!(raw.contains(&format!("Message-ID: {}", job.payload["message_id"].as_str().unwrap())), "{raw}");
    let text = mime_part(&raw, "text/plain").expect("a text/plain part");
    assert!(text.contains("Hello erin,"), "{text}");
    assert!(mime_part(&raw, "text/html").is_some());
}
