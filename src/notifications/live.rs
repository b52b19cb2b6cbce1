//! The live event fan-out of one process: ONE `LISTEN` connection (direct to
//! the primary, never through PgBouncer) hears every `<user>:<seq>` pointer
//! `events::inbox` sends at commit, from any instance, and wakes the local
//! streams of that user. A wake carries nothing: the stream reads the rows
//! after its last id from the `notifications` table, so a missed or coalesced
//! wake never loses an event, and pointers stay pointers.
//!
//! The listener starts with the first subscriber and reconnects with a pause
//! after any failure; each (re)connection wakes every stream, because pointers
//! sent while nobody listened are gone but their rows are not. It ends when
//! the process drops its `LiveEvents`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::db::ids::UserId;
use crate::events::inbox::CHANNEL;

/// Streams being opened at once (authenticated, joined, replayed up to now),
/// per process. Ten thousand clients reconnect together after a restart; the
/// rest wait their turn holding only their socket, so the memory the opening
/// work needs for a moment is that of this many streams, not of all of them.
pub const OPENING_AT_ONCE: usize = 64;
/// Pause before connecting again after the listener's connection failed.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);
/// How often an idle listener checks whether its process still wants it.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// The process's live streams (cheap to clone; one listener behind all clones).
#[derive(Clone)]
pub struct LiveEvents {
    inner: Arc<Inner>,
}

/// One stream's subscription id and its wake-up.
type Waker = (u64, Arc<Notify>);

struct Inner {
    direct_url: String,
    /// Each user's streams on this process.
    streams: Mutex<HashMap<Uuid, Vec<Waker>>>,
    next_id: AtomicU64,
    listening: AtomicBool,
    stopping: watch::Sender<bool>,
    opening: Arc<Semaphore>,
}

/// One stream's place in the fan-out; leaves it when dropped.
pub struct Subscription {
    inner: Arc<Inner>,
    user: Uuid,
    id: u64,
    /// Woken when the user may have new rows (and on listener reconnects).
    pub wake: Arc<Notify>,
    /// The stream's turn to open ([`LiveEvents::admit`]), held until its
    /// first read of the table.
    opening: Option<OwnedSemaphorePermit>,
}

impl Subscription {
    /// Holds `turn` until [`Subscription::replayed`].
    pub fn opening_with(mut self, turn: OpeningTurn) -> Self {
        self.opening = Some(turn.0);
        self
    }

    /// The stream has read what it had to replay: the next one may open.
    pub fn replayed(&mut self) {
        self.opening = None;
    }
}

/// One of [`OPENING_AT_ONCE`] turns to open a stream.
pub struct OpeningTurn(OwnedSemaphorePermit);

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut streams = self.inner.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = streams.get_mut(&self.user) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                streams.remove(&self.user);
            }
        }
    }
}

impl LiveEvents {
    /// `direct_url`: the primary without a pooler (`db::pooling::direct_url`).
    pub fn new(direct_url: String) -> Self {
        let (stopping, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                direct_url,
                streams: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                listening: AtomicBool::new(false),
                stopping,
                opening: Arc::new(Semaphore::new(OPENING_AT_ONCE)),
            }),
        }
    }

    /// Joins the fan-out for `user` (starting the listener on first use). Read
    /// the table only after this, so nothing committed in between is missed.
    pub fn subscribe(&self, user: UserId) -> Subscription {
        if !self.inner.listening.swap(true, Ordering::SeqCst) {
            tokio::spawn(listen(Arc::downgrade(&self.inner)));
        }
        let wake = Arc::new(Notify::new());
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut streams = self.inner.streams.lock().unwrap_or_else(|e| e.into_inner());
        streams.entry(user.0).or_default().push((id, wake.clone()));
        Subscription { inner: self.inner.clone(), user: user.0, id, wake, opening: None }
    }

    /// Waits for a turn to open a stream (see [`OPENING_AT_ONCE`]).
    pub async fn admit(&self) -> OpeningTurn {
        let turn = self.inner.opening.clone().acquire_owned().await;
        OpeningTurn(turn.expect("the opening semaphore is never closed"))
    }

    /// Flips when the process stops: every stream ends.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.inner.stopping.subscribe()
    }

    /// Ends every stream (graceful shutdown; clients reconnect elsewhere).
    pub fn stop(&self) {
        self.inner.stopping.send_replace(true);
    }

    /// Streams open on this process.
    pub fn stream_count(&self) -> usize {
        self.inner.streams.lock().unwrap_or_else(|e| e.into_inner()).values().map(Vec::len).sum()
    }
}

impl Inner {
    fn wake(&self, user: Option<Uuid>) {
        let streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let woken: Box<dyn Iterator<Item = &Waker>> = match user {
            Some(user) => Box::new(streams.get(&user).into_iter().flatten()),
            None => Box::new(streams.values().flatten()),
        };
        for (_, notify) in woken {
            // Stores a permit when the stream is busy: wakes coalesce, never pile up.
            notify.notify_one();
        }
    }
}

/// The user a `<user>:<seq>` payload points at.
pub fn pointed_user(payload: &str) -> Option<Uuid> {
    let (user, seq) = payload.split_once(':')?;
    seq.parse::<i64>().ok()?;
    user.parse().ok()
}

/// The listener task: holds only a weak reference, so it ends with the process's
/// `LiveEvents` (or when the process stops).
async fn listen(inner: Weak<Inner>) {
    loop {
        let Some((url, mut stopping)) = inner.upgrade().map(|i| (i.direct_url.clone(), i.stopping.subscribe())) else {
            return;
        };
        if *stopping.borrow() {
            return;
        }
        match AsyncPgConnection::establish(&url).await {
            Ok(mut conn) => match diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn).await {
                Ok(_) => {
                    tracing::info!("live events: listening");
                    if let Some(inner) = inner.upgrade() {
                        inner.wake(None);
                    }
                    let mut notifications = std::pin::pin!(conn.notifications_stream());
                    loop {
                        tokio::select! {
                            next = tokio::time::timeout(IDLE_CHECK, notifications.next()) => match next {
                                Ok(Some(Ok(notification))) => {
                                    let Some(inner) = inner.upgrade() else { return };
                                    match pointed_user(&notification.payload) {
                                        Some(user) => inner.wake(Some(user)),
                                        None => tracing::warn!(payload = %notification.payload, "live events: bad pointer"),
                                    }
                                }
                                Ok(Some(Err(error))) => {
                                    tracing::warn!(%error, "live events: the listener connection failed");
                                    break;
                                }
                                Ok(None) => {
                                    tracing::warn!("live events: the listener connection closed");
                                    break;
                                }
                                Err(_) if inner.strong_count() == 0 => return,
                                Err(_) => {}
                            },
                            _ = stopping.changed() => return,
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "live events: LISTEN failed"),
            },
            Err(error) => tracing::warn!(%error, "live events: cannot connect to the primary"),
        }
        tokio::time::sleep(RECONNECT_PAUSE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_name_a_user_and_a_sequence() {
        let user = Uuid::now_v7();
        assert_eq!(pointed_user(&format!("{user}:42")), Some(user));
        assert_eq!(pointed_user(&format!("{user}:x")), None);
        assert_eq!(pointed_user("nobody:1"), None);
        assert_eq!(pointed_user(""), None);
    }

    #[tokio::test]
    async fn a_wake_reaches_only_that_users_streams_and_a_dropped_stream_leaves() {
        let live = LiveEvents {
            inner: Arc::new(Inner {
                direct_url: String::new(),
                streams: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                // No listener in a unit test.
                listening: AtomicBool::new(true),
                stopping: watch::channel(false).0,
                opening: Arc::new(Semaphore::new(OPENING_AT_ONCE)),
            }),
        };
        let (alice, bob) = (UserId::new(), UserId::new());
        let a = live.subscribe(alice);
        let b = live.subscribe(bob);
        assert_eq!(live.stream_count(), 2);
        live.inner.wake(Some(alice.0));
        tokio::time::timeout(Duration::from_secs(1), a.wake.notified()).await.expect("alice woken");
        assert!(tokio::time::timeout(Duration::from_millis(50), b.wake.notified()).await.is_err(), "bob not woken");
        drop(a);
        assert_eq!(live.stream_count(), 1);
    }

    #[tokio::test]
    async fn streams_open_a_bounded_number_at_a_time_and_a_first_read_frees_a_turn() {
        let live = LiveEvents::new(String::new());
        live.inner.listening.store(true, Ordering::SeqCst);
        let user = UserId::new();
        let mut open = Vec::new();
        for _ in 0..OPENING_AT_ONCE {
            open.push(live.subscribe(user).opening_with(live.admit().await));
        }
        let next = tokio::spawn({
            let live = live.clone();
            async move { live.admit().await }
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!next.is_finished(), "every turn is taken");
        open[0].replayed();
        tokio::time::timeout(Duration::from_secs(1), next).await.expect("a turn freed").unwrap();
    }
}
