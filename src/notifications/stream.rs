//! The body of `GET /v1/me/events`: Server-Sent Events, one per inbox entry
//! (`id:` its seq, `event:` its type, `data:` its JSON), read from the
//! `notifications` table after the last id sent whenever the user's
//! [`Subscription`] is woken, with a `retry:` line first and a comment every
//! 15 s so proxies keep the connection.
//!
//! The frames go to a [`FrameSink`]: a channel that actix-web's response body
//! drains ([`body`]), or the socket itself (`notifications::direct`).
//!
//! Memory per stream is bounded: a sink holds at most [`OUT_FRAMES`] frames
//! (the channel) or one (the socket, beside the kernel's buffer); a reader that
//! takes none for [`SLOW_READER`] is dropped (it reconnects with
//! `Last-Event-ID` and loses nothing), and one read takes at most [`BATCH`]
//! rows. An idle stream keeps no room for its database read: the read is boxed
//! while it runs.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::sync::{mpsc, watch};

use super::live::Subscription;
use super::model::NotificationView;
use crate::db::ids::UserId;
use crate::db::DbPool;
use crate::events::inbox::{self, Notification};

/// Frames a stream holds for a reader that is behind.
pub const OUT_FRAMES: usize = 32;
/// How long a full buffer may stay full before the reader is dropped.
pub const SLOW_READER: Duration = Duration::from_secs(5);
/// Rows read from the table at a time.
pub const BATCH: i64 = 100;
/// The comment that keeps idle connections open.
pub const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);
/// What EventSource waits before reconnecting, in milliseconds.
pub const RETRY_MS: u32 = 3_000;

/// The response headers of a stream, on either server.
pub const RESPONSE_HEADERS: &[(&str, &str)] = &[
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache"),
    // Never compressed: each event must leave when it is written.
    ("content-encoding", "identity"),
    ("x-accel-buffering", "no"),
];

/// Where a stream's frames go.
pub trait FrameSink: Send {
    /// Sends one frame; false when the reader is gone or took nothing for
    /// [`SLOW_READER`]: the stream ends.
    fn offer(&mut self, frame: Bytes) -> impl Future<Output = bool> + Send;
}

/// The frames of actix-web's response body.
struct ChannelSink(mpsc::Sender<Bytes>);

impl FrameSink for ChannelSink {
    async fn offer(&mut self, frame: Bytes) -> bool {
        self.0.send_timeout(frame, SLOW_READER).await.is_ok()
    }
}

/// A byte stream as a sink (the socket, on the direct path): one frame at a
/// time, the rest waits in the kernel's buffer.
pub struct WriterSink<W>(pub W);

impl<W: tokio::io::AsyncWrite + Unpin + Send> FrameSink for WriterSink<W> {
    async fn offer(&mut self, frame: Bytes) -> bool {
        use tokio::io::AsyncWriteExt;
        matches!(tokio::time::timeout(SLOW_READER, self.0.write_all(&frame)).await, Ok(Ok(())))
    }
}

/// One inbox entry as an event.
pub fn frame(entry: &NotificationView) -> String {
    // serde_json writes one line (newlines inside strings are escaped), as `data:` needs.
    let data = serde_json::to_string(entry).unwrap_or_else(|_| "{}".to_string());
    format!("id: {}\nevent: {}\ndata: {data}\n\n", entry.id, entry.kind)
}

/// Where a stream starts.
pub struct StreamStart {
    pub user: UserId,
    /// Entries after this seq are sent (replayed, then live).
    pub after: i64,
}

/// The response body: frames produced by a task of their own, which ends
/// when the client goes, is too slow, or the process stops.
pub fn body(
    pool: DbPool,
    subscription: Subscription,
    start: StreamStart,
    stopping: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let (tx, rx) = mpsc::channel::<Bytes>(OUT_FRAMES);
    let gone = {
        let tx = tx.clone();
        async move { tx.closed().await }
    };
    tokio::spawn(pump(pool, subscription, start, ChannelSink(tx), gone, stopping));
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|frame| (Ok(frame), rx)) })
}

/// Sends the `retry:` line, then the user's entries after `start.after`
/// whenever the subscription is woken, and a keep-alive comment when idle;
/// returns when the reader is `gone` (or too slow) or the process is stopping.
pub async fn pump<S: FrameSink>(
    pool: DbPool,
    mut subscription: Subscription,
    start: StreamStart,
    mut sink: S,
    gone: impl Future<Output = ()>,
    mut stopping: watch::Receiver<bool>,
) {
    let StreamStart { user, mut after } = start;
    if !sink.offer(Bytes::from(format!("retry: {RETRY_MS}\n\n"))).await {
        return;
    }
    let mut gone = std::pin::pin!(gone);
    let mut keep_alive = tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE_EVERY, KEEP_ALIVE_EVERY);
    let mut due = true;
    loop {
        if due {
            // Boxed: the read's state exists only while it runs.
            match Box::pin(send_after(&pool, &mut subscription, user, &mut after, &mut sink)).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(user.id = %user, "live stream dropped: the reader left or fell behind");
                    return;
                }
                // The next wake reads again from the same id: nothing is lost.
                Err(error) => tracing::warn!(%error, user.id = %user, "live stream: reading the inbox failed"),
            }
        }
        due = false;
        let keep_alive_due = tokio::select! {
            _ = subscription.wake.notified() => { due = true; false }
            _ = keep_alive.tick() => true,
            _ = &mut gone => return,
            _ = stopping.changed() => return,
        };
        if keep_alive_due && !sink.offer(Bytes::from_static(b": keep-alive\n\n")).await {
            return;
        }
    }
}

/// Sends the user's entries after `*after`, advancing it; false when the
/// reader is gone or too slow.
async fn send_after<S: FrameSink>(
    pool: &DbPool,
    subscription: &mut Subscription,
    user: UserId,
    after: &mut i64,
    sink: &mut S,
) -> anyhow::Result<bool> {
    loop {
        let read = async {
            let mut conn = pool.get().await?;
            anyhow::Ok(inbox::after(&mut conn, user, *after, BATCH).await?)
        };
        let rows: Vec<Notification> = read.await.inspect_err(|_| subscription.replayed())?;
        // What a stream opening needs at once is done: a reader slow to take
        // the frames holds no turn.
        subscription.replayed();
        let full = rows.len() as i64 == BATCH;
        for row in rows {
            let seq = row.seq;
            if !sink.offer(Bytes::from(frame(&NotificationView::from(row)))).await {
                return Ok(false);
            }
            *after = seq;
        }
        if !full {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_one_event_with_its_id_type_and_one_line_of_json() {
        let entry = NotificationView {
            id: 42,
            kind: "order.paid".into(),
            subject_id: uuid::Uuid::nil(),
            data: serde_json::json!({"note": "two\nlines"}),
            created_at: chrono::DateTime::UNIX_EPOCH,
            read_at: None,
        };
        let text = frame(&entry);
        assert!(text.starts_with("id: 42\nevent: order.paid\ndata: {"), "{text}");
        assert!(text.ends_with("}\n\n"));
        assert_eq!(text.matches('\n').count(), 4, "the data is one line: {text}");
    }
}
