//! Where a lag-tolerant read goes: a healthy streaming replica that has
//! replayed the caller's own last write, else the primary.
//!
//! Replicas (`RIGMARKET_DATABASE_REPLICA_URLS`) are checked every
//! `RIGMARKET_REPLICA_HEALTH_INTERVAL` ([`replica_health`](super::replica_health)
//! measures the lag); one that is down or more than `RIGMARKET_REPLICA_MAX_LAG`
//! behind is skipped until a later check finds it back, and one that fails a
//! checkout is skipped at once. Read-your-writes across instances: every
//! instance records a caller's write position in the primary's
//! `caller_write_lsns` ([`write_marks`](super::write_marks)); a read by that
//! caller goes to a replica only if the replica's replay position, as of its
//! last check, has reached it. Anonymous callers never wrote, so they cost
//! nothing; a signed-in caller costs one primary-key lookup per routed read.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Bool, Nullable};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::pooling::{DbConn, DbPool, PoolError};
use super::replica_health::LagTracker;
use super::write_marks;

/// Told about routing decisions and checks (the metrics implement it; the
/// database layer sits below them).
pub trait ReadObserver: Send + Sync {
    fn read_routed(&self, target: &str);
    fn replica_checked(&self, replica: &str, healthy: bool, lag: Option<Duration>);
}

/// Observes nothing (tools and tests that build a bare router).
pub struct NoObserver;

impl ReadObserver for NoObserver {
    fn read_routed(&self, _: &str) {}
    fn replica_checked(&self, _: &str, _: bool, _: Option<Duration>) {}
}

pub const PRIMARY: &str = "primary";

struct Replica {
    /// `host:port/database`, never the password: a label for logs and metrics.
    name: String,
    pool: DbPool,
    state: Mutex<ReplicaState>,
}

#[derive(Default)]
struct ReplicaState {
    /// False until the first check succeeds.
    healthy: bool,
    replay_lsn: i64,
    lag: Option<Duration>,
    tracker: LagTracker,
}

/// What one replica looked like at its last check.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaStatus {
    pub name: String,
    pub healthy: bool,
    pub lag: Option<Duration>,
}

pub struct ReadRouter {
    primary: DbPool,
    replicas: Vec<Replica>,
    max_lag: Duration,
    next: AtomicUsize,
    /// Reads routed, primary first, then each replica in order.
    routed: Vec<AtomicU64>,
    observer: Arc<dyn ReadObserver>,
}

/// A decided target; [`Routed::conn`] takes the connection.
#[derive(Clone)]
pub struct Routed {
    router: Arc<ReadRouter>,
    /// `None`: the primary.
    replica: Option<usize>,
}

impl ReadRouter {
    pub fn new(
        primary: DbPool,
        replicas: Vec<(String, DbPool)>,
        max_lag: Duration,
        observer: Arc<dyn ReadObserver>,
    ) -> Arc<Self> {
        let routed = (0..=replicas.len()).map(|_| AtomicU64::new(0)).collect();
        let replicas = replicas
            .into_iter()
            .map(|(name, pool)| Replica { name, pool, state: Mutex::new(ReplicaState::default()) })
            .collect();
        Arc::new(Self { primary, replicas, max_lag, next: AtomicUsize::new(0), routed, observer })
    }

    pub fn has_replicas(&self) -> bool {
        !self.replicas.is_empty()
    }

    /// Checks the replicas now and then every `interval` while the router lives.
    pub fn start_health_checks(self: &Arc<Self>, interval: Duration) {
        if self.replicas.is_empty() {
            return;
        }
        let router: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(strong) = router.upgrade() else { break };
                strong.check_health().await;
                drop(strong);
                tokio::time::sleep(interval).await;
            }
        });
    }

    /// Where a read for this caller (`None`: anonymous) goes now.
    pub async fn route(self: &Arc<Self>, caller: Option<Uuid>) -> Routed {
        let candidates: Vec<(usize, i64)> = self
            .replicas
            .iter()
            .enumerate()
            .filter_map(|(index, replica)| {
                let state = replica.state.lock().unwrap_or_else(|e| e.into_inner());
                state.healthy.then_some((index, state.replay_lsn))
            })
            .collect();
        if candidates.is_empty() {
            return self.to_primary();
        }
        let needed = match caller {
            None => None,
            Some(user) => match self.primary.get().await {
                Ok(mut conn) => match write_marks::last_write_lsn(&mut conn, user).await {
                    Ok(lsn) => lsn,
                    // Unknown: the primary is the only safe answer.
                    Err(_) => return self.to_primary(),
                },
                Err(_) => return self.to_primary(),
            },
        };
        let fit: Vec<usize> = candidates
            .into_iter()
            .filter(|&(_, replayed)| needed.is_none_or(|lsn| replayed >= lsn))
            .map(|(index, _)| index)
            .collect();
        if fit.is_empty() {
            return self.to_primary();
        }
        let pick = fit[self.next.fetch_add(1, Ordering::Relaxed) % fit.len()];
        Routed { router: self.clone(), replica: Some(pick) }
    }

    /// The primary, for reads that must not lag.
    pub fn to_primary(self: &Arc<Self>) -> Routed {
        Routed { router: self.clone(), replica: None }
    }

    /// One health pass over every replica (what the loop runs each interval).
    pub async fn check_health(&self) {
        let sampled_at = Instant::now();
        let primary_lsn = match self.primary.get().await {
            Ok(mut conn) => write_marks::primary_lsn(&mut conn).await.ok(),
            Err(_) => None,
        };
        for replica in &self.replicas {
            let seen = match replica.pool.get().await {
                Ok(mut conn) => replay_position(&mut conn).await.ok(),
                Err(_) => None,
            };
            let mut state = replica.state.lock().unwrap_or_else(|e| e.into_inner());
            match (seen, primary_lsn) {
                (
                    Some(ReplayPosition { in_recovery: true, replay_lsn: Some(replayed), replay_age_ms }),
                    Some(primary),
                ) => {
                    let age = replay_age_ms.map(|ms| Duration::from_millis(ms.max(0) as u64));
                    let observed = state.tracker.observe(sampled_at, primary, replayed, age, Instant::now());
                    let healthy = observed.lag <= self.max_lag;
                    if healthy != state.healthy {
                        tracing::warn!(replica = %replica.name, healthy, lag_ms = observed.lag.as_millis() as u64, "replica health changed");
                    }
                    state.healthy = healthy;
                    state.replay_lsn = observed.replay_lsn;
                    state.lag = Some(observed.lag);
                }
                // Down, promoted, or no primary to compare with.
                _ => {
                    if state.healthy {
                        tracing::warn!(replica = %replica.name, "replica unreachable or not replaying; reads go elsewhere");
                    }
                    state.healthy = false;
                    state.lag = None;
                    state.tracker.reset();
                }
            }
            self.observer.replica_checked(&replica.name, state.healthy, state.lag);
        }
    }

    pub fn statuses(&self) -> Vec<ReplicaStatus> {
        self.replicas
            .iter()
            .map(|replica| {
                let state = replica.state.lock().unwrap_or_else(|e| e.into_inner());
                ReplicaStatus { name: replica.name.clone(), healthy: state.healthy, lag: state.lag }
            })
            .collect()
    }

    /// Reads routed so far by target name (`primary`, then each replica).
    pub fn reads_routed(&self) -> Vec<(String, u64)> {
        let names = std::iter::once(PRIMARY.to_string()).chain(self.replicas.iter().map(|r| r.name.clone()));
        names.zip(self.routed.iter().map(|count| count.load(Ordering::Relaxed))).collect()
    }

    fn mark_down(&self, index: usize) {
        let replica = &self.replicas[index];
        let mut state = replica.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.healthy {
            tracing::warn!(replica = %replica.name, "replica checkout failed; skipped until it recovers");
        }
        state.healthy = false;
        state.tracker.reset();
    }

    fn count(&self, slot: usize, name: &str) {
        self.routed[slot].fetch_add(1, Ordering::Relaxed);
        self.observer.read_routed(name);
    }
}

impl Routed {
    /// The chosen target's name (`primary` or a replica's).
    pub fn target(&self) -> &str {
        self.replica.map(|index| self.router.replicas[index].name.as_str()).unwrap_or(PRIMARY)
    }

    /// A connection to the chosen target; a replica that cannot hand one out
    /// is skipped from now on and the primary answers instead.
    pub async fn conn(&self) -> Result<DbConn, PoolError> {
        if let Some(index) = self.replica {
            let replica = &self.router.replicas[index];
            match replica.pool.get().await {
                Ok(conn) => {
                    self.router.count(index + 1, &replica.name);
                    return Ok(conn);
                }
                Err(_) => self.router.mark_down(index),
            }
        }
        let conn = self.router.primary.get().await?;
        self.router.count(0, PRIMARY);
        Ok(conn)
    }
}

#[derive(QueryableByName)]
struct ReplayPosition {
    #[diesel(sql_type = Bool)]
    in_recovery: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    replay_lsn: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    replay_age_ms: Option<i64>,
}

async fn replay_position(conn: &mut DbConn) -> diesel::QueryResult<ReplayPosition> {
    diesel::sql_query(
        "SELECT pg_is_in_recovery() AS in_recovery, \
                (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS replay_lsn, \
                (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint AS replay_age_ms",
    )
    .get_result(conn)
    .await
}
