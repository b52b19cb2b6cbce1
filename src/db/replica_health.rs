//! How far behind one streaming replica is, measured against the primary's WAL
//! position rather than `now() - pg_last_xact_replay_timestamp()`, which grows
//! on an idle primary although the replica has replayed everything.
//!
//! Each check samples the primary's `pg_current_wal_lsn()` first and then the
//! replica's `pg_last_wal_replay_lsn()`. A replica that has replayed the
//! primary's position as of a sample is at most `now - sample time` behind; the
//! newest such sample bounds its lag. Samples it has not replayed yet are kept
//! (at most [`MAX_SAMPLES`]) until it has.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Enough for minutes of history at a one-second interval; beyond that a
/// replica is far past any sensible `RIGMARKET_REPLICA_MAX_LAG` anyway.
const MAX_SAMPLES: usize = 1024;

/// What a check saw: the replica's replay position and, when it has not
/// replayed the newest sample, how long ago it last had.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub replay_lsn: i64,
    pub lag: Duration,
}

#[derive(Debug, Default)]
pub struct LagTracker {
    /// Primary positions not yet replayed, oldest first, each with when it was read.
    pending: VecDeque<(Instant, i64)>,
    /// When the replica was last seen to have replayed a sampled position.
    caught_up_at: Option<Instant>,
}

impl LagTracker {
    /// Records one check: the primary's position read at `sampled_at`, then the
    /// replica's replay position (and, for a replica that was never seen caught
    /// up, how old its last replayed transaction is, as a fallback bound).
    pub fn observe(
        &mut self,
        sampled_at: Instant,
        primary_lsn: i64,
        replay_lsn: i64,
        replay_age: Option<Duration>,
        now: Instant,
    ) -> Observation {
        self.pending.push_back((sampled_at, primary_lsn));
        while let Some(&(at, lsn)) = self.pending.front() {
            if lsn > replay_lsn {
                break;
            }
            self.caught_up_at = Some(at);
            self.pending.pop_front();
        }
        while self.pending.len() > MAX_SAMPLES {
            self.pending.pop_front();
        }
        let lag = if self.pending.is_empty() {
            Duration::ZERO
        } else {
            match self.caught_up_at {
                Some(at) => now.saturating_duration_since(at),
                // Never seen caught up: at least as old as the oldest unreplayed
                // sample, and the last replayed transaction's age if larger.
                None => {
                    let oldest = self.pending.front().map(|&(at, _)| now.saturating_duration_since(at));
                    oldest.unwrap_or_default().max(replay_age.unwrap_or_default())
                }
            }
        };
        Observation { replay_lsn, lag }
    }

    /// After the replica was unreachable: its old samples say nothing now.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.caught_up_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_that_replayed_the_primary_position_has_no_lag_even_when_the_primary_is_idle() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        for second in 0..10 {
            let at = start + Duration::from_secs(second);
            let seen = tracker.observe(at, 500, 500, Some(Duration::from_secs(3600)), at);
            assert_eq!(seen.lag, Duration::ZERO);
        }
    }

    #[test]
    fn lag_counts_from_the_last_sample_the_replica_had_replayed() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let mut tracker = LagTracker::default();
        assert_eq!(tracker.observe(at(0), 100, 100, None, at(0)).lag, Duration::ZERO);
        // Replay stops at 100 while the primary moves on.
        assert_eq!(tracker.observe(at(1), 200, 100, None, at(1)).lag, Duration::from_secs(1));
        assert_eq!(tracker.observe(at(7), 300, 100, None, at(7)).lag, Duration::from_secs(7));
        // It replays up to the second sample: behind since then.
        assert_eq!(tracker.observe(at(8), 300, 250, None, at(8)).lag, Duration::from_secs(7));
        assert_eq!(tracker.observe(at(9), 300, 300, None, at(9)).lag, Duration::ZERO);
    }

    #[test]
    fn a_replica_never_seen_caught_up_is_as_late_as_its_last_replayed_transaction() {
        let start = Instant::now();
        let mut tracker = LagTracker::default();
        let seen = tracker.observe(start, 900, 100, Some(Duration::from_secs(30)), start);
        assert_eq!(seen.lag, Duration::from_secs(30));
        tracker.reset();
        assert_eq!(tracker.observe(start, 900, 900, None, start).lag, Duration::ZERO);
    }
}
