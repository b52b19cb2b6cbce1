//! The source of "now" for business rules (deadlines, job schedules, expiries).
//!
//! Production uses the system clock; tests use a manual clock they advance, so
//! timers that span days run in milliseconds and deterministically.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that only moves when `advance` or `set` is called.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self { manual: Some(Arc::new(Mutex::new(start))) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.manual {
            Some(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
            None => Utc::now(),
        }
    }

    /// Moves a manual clock forward. Panics on the system clock: a test that tries
    /// to move real time has a bug.
    pub fn advance(&self, by: Duration) {
        let at = self.manual.as_ref().expect("advance() needs a manual clock");
        let mut at = at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *at += by;
    }

    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told_and_is_shared_by_clones() {
        let start = DateTime::parse_from_rfc3339("2021-05-07T00:00:00Z").unwrap().with_timezone(&Utc);
        let clock = Clock::manual(start);
        let clone = clock.clone();
        assert_eq!(clock.now(), start);
        clone.advance(Duration::hours(48));
        assert_eq!(clock.now(), start + Duration::hours(48));
    }
}
