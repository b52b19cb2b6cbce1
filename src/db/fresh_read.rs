//! One small read shared by every caller that arrives while it waits to start.
//!
//! A hot read whose answer rarely changes (the catalog's version, asked by
//! every rig-model page) still has to be fresh: no caller may get an answer
//! from a read that began before the caller arrived, or it could miss a change
//! committed just before its request. [`FreshRead`] keeps at most one read
//! running and at most one queued: a caller joins the queued read when there
//! is one, or queues a new one, and the queued read starts when the running one
//! ends. Each caller's answer therefore comes from a read that started after it
//! arrived, and a burst of N callers costs about two reads instead of N.
//!
//! A failure is every joined caller's failure (they were all waiting on the
//! same round trip); the next caller queues a new read. Reads that answer
//! requests use [`FreshRead::answer`]: the failure is shared behind an `Arc`
//! and each caller gets its own copy ([`Replay`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures_util::future::{BoxFuture, FutureExt, Shared};

/// The shared outcome of one read.
type Queued<T> = Shared<BoxFuture<'static, T>>;

/// See the module docs. Cheap to clone; clones share the reads.
pub struct FreshRead<T: Clone> {
    queued: Arc<Mutex<Option<Queued<T>>>>,
    /// Held by the read that is running.
    running: Arc<tokio::sync::Mutex<()>>,
}

impl<T: Clone> Clone for FreshRead<T> {
    fn clone(&self) -> Self {
        Self { queued: self.queued.clone(), running: self.running.clone() }
    }
}

impl<T: Clone> Default for FreshRead<T> {
    fn default() -> Self {
        Self { queued: Arc::default(), running: Arc::default() }
    }
}

impl<T: Clone + Send + Sync + 'static> FreshRead<T> {
    /// The outcome of a read that starts after this call: the queued one, or
    /// `read` queued now when none is.
    pub async fn after_now<F, Fut>(&self, read: F) -> T
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let joined = {
            let mut queued = self.queued.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match &*queued {
                Some(next) => next.clone(),
                None => {
                    let next = self.queue(read);
                    *queued = Some(next.clone());
                    next
                }
            }
        };
        joined.await
    }

    fn queue<F, Fut>(&self, read: F) -> Queued<T>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let (queued, running) = (self.queued.clone(), self.running.clone());
        async move {
            let _running = running.lock().await;
            // From here on, arrivals queue the next read: this one starts now,
            // after every caller that joined it.
            *queued.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
            read().await
        }
        .boxed()
        .shared()
    }
}

/// An error that each caller of a shared read can have as its own.
pub trait Replay {
    /// The same error again.
    fn replay(&self) -> Self;
}

/// What a read that answers requests shares: its value, or its failure.
pub type Answer<T, E> = Result<T, Arc<E>>;

impl<T, E> FreshRead<Answer<T, E>>
where
    T: Clone + Send + Sync + 'static,
    E: Replay + Send + Sync + 'static,
{
    /// [`FreshRead::after_now`] for a fallible read: the value, or the
    /// failure as this caller's own error.
    pub async fn answer<F, Fut>(&self, read: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let shared = move || async move { read().await.map_err(Arc::new) };
        self.after_now(shared).await.map_err(|failure| failure.replay())
    }
}

/// A [`FreshRead`] per key (a read target, a query string). Keys are the
/// callers' to choose, so at most [`FreshReads::MAX_KEYS`] are kept and a full
/// map starts over: a read already joined still answers its callers, and the
/// next caller of its key queues a new one. Cheap to clone.
pub struct FreshReads<T: Clone> {
    reads: Arc<Mutex<HashMap<String, FreshRead<T>>>>,
}

impl<T: Clone> Clone for FreshReads<T> {
    fn clone(&self) -> Self {
        Self { reads: self.reads.clone() }
    }
}

impl<T: Clone> Default for FreshReads<T> {
    fn default() -> Self {
        Self { reads: Arc::default() }
    }
}

impl<T: Clone> FreshReads<T> {
    pub const MAX_KEYS: usize = 1_024;

    /// The reads of `key`.
    pub fn of(&self, key: &str) -> FreshRead<T> {
        let mut reads = self.reads.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(read) = reads.get(key) {
            return read.clone();
        }
        if reads.len() >= Self::MAX_KEYS {
            reads.clear();
        }
        reads.entry(key.to_string()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tokio::sync::oneshot;

    use super::*;

    #[tokio::test]
    async fn callers_arriving_during_a_read_share_the_next_one() {
        let reads = Arc::new(AtomicUsize::new(0));
        let fresh = FreshRead::<usize>::default();
        let (release, released) = oneshot::channel::<()>();
        let (started, first_started) = oneshot::channel::<()>();
        let first = tokio::spawn({
            let (fresh, reads) = (fresh.clone(), reads.clone());
            async move {
                fresh
                    .after_now(move || async move {
                        started.send(()).unwrap();
                        released.await.unwrap();
                        reads.fetch_add(1, Ordering::SeqCst) + 1
                    })
                    .await
            }
        });
        first_started.await.unwrap();
        let callers: Vec<_> = (0..50)
            .map(|_| {
                let (fresh, reads) = (fresh.clone(), reads.clone());
                async move { fresh.after_now(move || async move { reads.fetch_add(1, Ordering::SeqCst) + 1 }).await }
            })
            .collect();
        let rest = tokio::spawn(futures_util::future::join_all(callers));
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), 1);
        let answers = rest.await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 2, "one read for the fifty");
        assert!(answers.iter().all(|&answer| answer == 2), "{answers:?}");
    }

    #[tokio::test]
    async fn a_caller_arriving_during_a_read_gets_a_read_started_after_it() {
        let fresh = FreshRead::<&'static str>::default();
        let (release_first, first_may_end) = oneshot::channel::<()>();
        let (first_started, started) = oneshot::channel::<()>();
        let first = tokio::spawn({
            let fresh = fresh.clone();
            async move {
                fresh
                    .after_now(move || async move {
                        first_started.send(()).unwrap();
                        first_may_end.await.unwrap();
                        "begun before the second caller"
                    })
                    .await
            }
        });
        started.await.unwrap();
        // The first read is under way: the second caller must not share it.
        let second = tokio::spawn({
            let fresh = fresh.clone();
            async move { fresh.after_now(|| async { "begun after the second caller" }).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!second.is_finished(), "the second read waits for the running one");
        release_first.send(()).unwrap();
        assert_eq!(first.await.unwrap(), "begun before the second caller");
        assert_eq!(second.await.unwrap(), "begun after the second caller");
    }

    #[tokio::test]
    async fn a_failed_read_is_not_kept() {
        let fresh = FreshRead::<Result<u8, String>>::default();
        assert_eq!(fresh.after_now(|| async { Err("down".to_string()) }).await, Err("down".to_string()));
        assert_eq!(fresh.after_now(|| async { Ok(7) }).await, Ok(7));
    }

    #[tokio::test]
    async fn each_key_has_its_own_reads_and_the_keys_kept_are_capped() {
        let reads = FreshReads::<u8>::default();
        let (a, b) = (reads.of("a"), reads.of("b"));
        assert!(Arc::ptr_eq(&a.queued, &reads.of("a").queued));
        assert!(!Arc::ptr_eq(&a.queued, &b.queued));
        assert_eq!(b.after_now(|| async { 2 }).await, 2);
        for n in 0..FreshReads::<u8>::MAX_KEYS + 5 {
            reads.of(&format!("k{n}"));
        }
        assert!(reads.reads.lock().unwrap().len() <= FreshReads::<u8>::MAX_KEYS);
        assert_eq!(reads.of("a").after_now(|| async { 1 }).await, 1);
    }

    #[tokio::test]
    async fn callers_that_give_up_leave_no_read_stuck() {
        let fresh = FreshRead::<u8>::default();
        let abandoned = fresh.after_now(std::future::pending);
        assert!(tokio::time::timeout(Duration::from_millis(20), abandoned).await.is_err());
        assert_eq!(fresh.after_now(|| async { 3 }).await, 3);
    }
}
