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
//! [`FreshBatch`] is the same queue for reads that differ by caller but cost
//! little more for many callers than for one (the decorations of a page of
//! listings: one statement for the ids of eight pages costs PostgreSQL about a
//! fifth of eight statements). Each caller adds its input to the queued read,
//! which runs once for all of them; [`FreshRead`] is the batch whose callers
//! bring nothing.
//!
//! A failure is every joined caller's failure (they were all waiting on the
//! same round trip); the next caller queues a new read. Reads that answer
//! requests use [`FreshRead::answer`]: the failure is shared behind an `Arc`
//! and each caller gets its own copy ([`Replay`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::future::{BoxFuture, FutureExt, Shared};

/// The shared outcome of one read.
type Queued<T> = Shared<BoxFuture<'static, T>>;

/// The read waiting to start, and the inputs of the callers that joined it.
struct Joinable<I, T: Clone> {
    inputs: Arc<Mutex<Vec<I>>>,
    outcome: Queued<T>,
}

fn locked<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// See the module docs. Cheap to clone; clones share the reads.
pub struct FreshBatch<I, T: Clone> {
    queued: Arc<Mutex<Option<Joinable<I, T>>>>,
    /// Held by the read that is running.
    running: Arc<tokio::sync::Mutex<()>>,
}

impl<I, T: Clone> Clone for FreshBatch<I, T> {
    fn clone(&self) -> Self {
        Self { queued: self.queued.clone(), running: self.running.clone() }
    }
}

impl<I, T: Clone> Default for FreshBatch<I, T> {
    fn default() -> Self {
        Self { queued: Arc::default(), running: Arc::default() }
    }
}

impl<I: Send + 'static, T: Clone + Send + Sync + 'static> FreshBatch<I, T> {
    /// The outcome of a read that starts after this call and has `input`
    /// among its inputs: the queued read, or `read` queued now when none is.
    /// The read gets the inputs of every caller that joined it, in order. A
    /// `read` not queued is dropped before waiting (with whatever it holds,
    /// such as a connection).
    pub async fn join<F, Fut>(&self, input: I, read: F) -> T
    where
        F: FnOnce(Vec<I>) -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let joined = {
            let mut queued = locked(&self.queued);
            match &*queued {
                // Under the lock the read starts by taking: it cannot have
                // taken its inputs yet.
                Some(next) => {
                    locked(&next.inputs).push(input);
                    drop(read);
                    next.outcome.clone()
                }
                None => {
                    let inputs = Arc::new(Mutex::new(vec![input]));
                    let outcome = self.queue(inputs.clone(), read);
                    *queued = Some(Joinable { inputs, outcome: outcome.clone() });
                    outcome
                }
            }
        };
        joined.await
    }

    fn queue<F, Fut>(&self, inputs: Arc<Mutex<Vec<I>>>, read: F) -> Queued<T>
    where
        F: FnOnce(Vec<I>) -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let (queued, running) = (self.queued.clone(), self.running.clone());
        async move {
            let _running = running.lock().await;
            // From here on, arrivals queue the next read: this one starts now,
            // after every caller that joined it.
            let batch = {
                let mut queued = locked(&queued);
                *queued = None;
                std::mem::take(&mut *locked(&inputs))
            };
            read(batch).await
        }
        .boxed()
        .shared()
    }
}

/// A [`FreshBatch`] whose callers bring nothing but their arrival: one read
/// answers them all. Cheap to clone; clones share the reads.
pub struct FreshRead<T: Clone>(FreshBatch<(), T>);

impl<T: Clone> Clone for FreshRead<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Clone> Default for FreshRead<T> {
    fn default() -> Self {
        Self(FreshBatch::default())
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
        self.0.join((), move |_| read()).await
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

/// The [`FreshRead`]s of each key (a read target, a query string).
pub type FreshReads<T> = PerKey<FreshRead<T>>;

/// A value per key, made on first use: the reads or batches of each key
/// (a read target, a query string). Keys are the callers' to choose, so at
/// most [`PerKey::MAX_KEYS`] are kept and a full map starts over: a read
/// already joined still answers its callers, and the next caller of its key
/// queues a new one. Cheap to clone.
pub struct PerKey<R> {
    reads: Arc<Mutex<HashMap<String, R>>>,
}

impl<R> Clone for PerKey<R> {
    fn clone(&self) -> Self {
        Self { reads: self.reads.clone() }
    }
}

impl<R> Default for PerKey<R> {
    fn default() -> Self {
        Self { reads: Arc::default() }
    }
}

impl<R: Clone + Default> PerKey<R> {
    pub const MAX_KEYS: usize = 1_024;

    /// The value of `key`.
    pub fn of(&self, key: &str) -> R {
        let mut reads = locked(&self.reads);
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
        assert!(Arc::ptr_eq(&a.0.queued, &reads.of("a").0.queued));
        assert!(!Arc::ptr_eq(&a.0.queued, &b.0.queued));
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

    /// A batch joined with `input`, running (it has taken its inputs) until
    /// the returned sender fires, then answering `answer(inputs)`.
    async fn running_batch<I: Send + 'static, T: Clone + Send + Sync + 'static>(
        batches: &FreshBatch<I, T>,
        input: I,
        answer: fn(Vec<I>) -> T,
    ) -> (tokio::task::JoinHandle<T>, oneshot::Sender<()>) {
        let (release, released) = oneshot::channel::<()>();
        let (started, running) = oneshot::channel::<()>();
        let batches = batches.clone();
        let batch = tokio::spawn(async move {
            batches
                .join(input, move |inputs| async move {
                    started.send(()).unwrap();
                    released.await.unwrap();
                    answer(inputs)
                })
                .await
        });
        running.await.unwrap();
        (batch, release)
    }

    #[tokio::test]
    async fn a_batch_reads_the_inputs_of_every_caller_that_joined_it_and_no_later_one() {
        let batches = FreshBatch::<u32, Vec<u32>>::default();
        let (first, release) = running_batch(&batches, 0, |inputs| inputs).await;
        // The first batch is under way: these join the next one, whichever
        // caller's read it turns out to be.
        let callers: Vec<_> = (1..=20)
            .map(|n| {
                let batches = batches.clone();
                async move { batches.join(n, |inputs| async move { inputs }).await }
            })
            .collect();
        let rest = tokio::spawn(futures_util::future::join_all(callers));
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), vec![0], "the running batch took no later input");
        let answers = rest.await.unwrap();
        let all: Vec<u32> = (1..=20).collect();
        assert!(answers.iter().all(|answer| *answer == all), "one batch of the twenty, in order: {answers:?}");
        assert_eq!(batches.join(21, |inputs| async move { inputs }).await, vec![21], "an idle batch runs at once");
    }

    #[tokio::test]
    async fn a_caller_that_joins_gives_up_its_read_before_waiting() {
        let batches = FreshBatch::<u8, u8>::default();
        let (first, release) = running_batch(&batches, 1, |_| 1).await;
        // The second queues a read; the third joins it, and its own read (and
        // what it holds, say a connection) is let go while it waits.
        let second = tokio::spawn({
            let batches = batches.clone();
            async move { batches.join(2, |_| async { 2 }).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let held = Arc::new(());
        let third = tokio::spawn({
            let (batches, held) = (batches.clone(), held.clone());
            async move {
                batches
                    .join(3, move |_| async move {
                        drop(held);
                        3
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!third.is_finished());
        assert_eq!(Arc::strong_count(&held), 1, "the joined caller's read was dropped");
        release.send(()).unwrap();
        assert_eq!((first.await.unwrap(), second.await.unwrap(), third.await.unwrap()), (1, 2, 2));
    }
}
