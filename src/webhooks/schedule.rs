//! When a failed delivery is tried again: about now, then 5 s, 5 min, 30 min,
//! 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after each failure (ten attempts over
//! about three days), each wait spread by up to ±10 % so that deliveries that
//! failed together (a receiver's outage) do not all come back together. A
//! `Retry-After` on a 429 or 503 replaces the scheduled wait.

use chrono::{DateTime, Duration, Utc};

/// The waits after the 1st, 2nd ... 9th failed attempt.
pub const RETRY_WAITS_SECS: [i64; 9] = [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400];
/// Attempts in all, the first included.
pub const MAX_ATTEMPTS: i32 = RETRY_WAITS_SECS.len() as i32 + 1;
/// An endpoint failing for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::days(3);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER_SECS: i64 = 86_400;

/// The wait after `attempts` failed attempts, or `None` when none is left.
/// `spread` in [-1, 1] scales the ±10 % jitter (0: exact).
pub fn retry_wait(attempts: i32, spread: f64) -> Option<Duration> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let secs = *RETRY_WAITS_SECS.get(index)?;
    let jitter = (secs as f64 * 0.1 * spread.clamp(-1.0, 1.0)).round() as i64;
    Some(Duration::seconds(secs + jitter))
}

/// A random spread for [`retry_wait`], or 0 without jitter.
pub fn spread(jitter: bool) -> f64 {
    if jitter {
        rand::random_range(-1.0..=1.0)
    } else {
        0.0
    }
}

/// Reads a `Retry-After` value (seconds or an HTTP date) as a wait from `now`,
/// at least a second and at most a day.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let secs = match value.parse::<i64>() {
        Ok(secs) => secs,
        Err(_) => (DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc) - now).num_seconds(),
    };
    Some(Duration::seconds(secs.clamp(1, MAX_RETRY_AFTER_SECS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_attempts_over_about_three_days() {
        let waits: Vec<i64> = (1..MAX_ATTEMPTS).map(|a| retry_wait(a, 0.0).unwrap().num_seconds()).collect();
        assert_eq!(waits, RETRY_WAITS_SECS);
        assert_eq!(retry_wait(MAX_ATTEMPTS, 0.0), None, "no attempt after the tenth");
        assert_eq!(retry_wait(0, 0.0), None);
        let total: i64 = waits.iter().sum();
        assert!(total > DISABLE_AFTER.num_seconds(), "the last attempt comes after three days of failures");
    }

    #[test]
    fn jitter_stays_within_ten_percent_and_varies() {
        assert_eq!(retry_wait(2, 1.0).unwrap(), Duration::seconds(330));
        assert_eq!(retry_wait(2, -1.0).unwrap(), Duration::seconds(270));
        let waits: Vec<Duration> = (0..100).map(|_| retry_wait(4, spread(true)).unwrap()).collect();
        assert!(waits.iter().all(|w| (6480..=7920).contains(&w.num_seconds())));
        assert!(waits.iter().any(|w| *w != waits[0]));
        assert_eq!(spread(false), 0.0);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_within_bounds() {
        let now = DateTime::parse_from_rfc3339("2026-01-05T09:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(retry_after("120", now), Some(Duration::seconds(120)));
        assert_eq!(retry_after("0", now), Some(Duration::seconds(1)));
        assert_eq!(retry_after("9999999", now), Some(Duration::days(1)));
        assert_eq!(retry_after("Mon, 05 Jan 2026 09:10:00 GMT", now), Some(Duration::minutes(10)));
        assert_eq!(retry_after("soon", now), None);
    }
}
