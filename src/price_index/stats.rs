//! The price index's arithmetic, with no I/O: exact `percentile_cont` from the two
//! order statistics a bucket stores, UTC day / ISO week buckets, the time range of
//! a request, and unit conversions.

use chrono::{DateTime, Datelike, Days, Duration, DurationRound, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A quantile `num / den` (exact, so the interpolation fraction is exact too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantile {
    num: i64,
    den: i64,
}

impl Quantile {
    pub const P25: Quantile = Quantile { num: 1, den: 4 };
    pub const MEDIAN: Quantile = Quantile { num: 1, den: 2 };
    pub const P75: Quantile = Quantile { num: 3, den: 4 };

    /// `i = floor(p * (n - 1))`, the 0-based order statistic at or below the quantile.
    pub fn lower_index(self, n: i64) -> i64 {
        self.num * (n - 1) / self.den
    }

    /// `p * (n - 1) - i`, in [0, 1).
    pub fn fraction(self, n: i64) -> f64 {
        (self.num * (n - 1) % self.den) as f64 / self.den as f64
    }
}

/// PostgreSQL's `percentile_cont(p)` over `n` values, from `lo = x_i` and
/// `hi = x_{i+1}` (0-based, sorted, `i = floor(p * (n - 1))`): linear
/// interpolation between the two. `None` for an empty set.
pub fn percentile_cont(n: i64, quantile: Quantile, lo: Option<i64>, hi: Option<i64>) -> Option<f64> {
    let (lo, hi) = (lo?, hi?);
    if n <= 0 {
        return None;
    }
    // The same expression PostgreSQL evaluates, so results agree to the bit.
    Some(lo as f64 + (hi - lo) as f64 * quantile.fraction(n))
}

/// Cents (per TH) as dollars for JSON.
pub fn cents_to_dollars(cents: f64) -> f64 {
    cents / 100.0
}

/// Basis points as percent for JSON.
pub fn bps_to_pct(bps: f64) -> f64 {
    bps / 100.0
}

/// `part / whole`, `None` when the whole is empty.
pub fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// USD cents per nominal TH/s for a unit price, rounded half up (the same as the
/// `listings.usd_per_th_cents` column).
pub fn cents_per_th(unit_price_cents: i64, hashrate_hs: i64) -> i64 {
    let hashrate = i128::from(hashrate_hs.max(1));
    let scaled = i128::from(unit_price_cents) * 1_000_000_000_000;
    ((2 * scaled + hashrate) / (2 * hashrate)) as i64
}

/// Bucket width: a UTC day, or an ISO week starting Monday 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    #[default]
    Day,
    Week,
}

impl Interval {
    /// The `period` column of `price_index_buckets`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
        }
    }

    /// Days in one bucket.
    pub fn days(self) -> u64 {
        match self {
            Self::Day => 1,
            Self::Week => 7,
        }
    }

    pub fn length(self) -> Days {
        Days::new(self.days())
    }

    /// The start (a UTC date) of the bucket holding `at`.
    pub fn floor(self, at: DateTime<Utc>) -> NaiveDate {
        let day = at.date_naive();
        match self {
            Self::Day => day,
            Self::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
        }
    }

    /// Every bucket overlapping `[from, to)`, oldest first.
    pub fn buckets(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<NaiveDate> {
        let mut starts = Vec::new();
        let mut start = self.floor(from);
        while midnight(start) < to {
            starts.push(start);
            start = start + self.length();
        }
        starts
    }
}

pub fn midnight(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN))
}

/// The longest range a series may cover.
pub const MAX_RANGE_MONTHS: u32 = 36;
/// The default range of a series.
pub const DEFAULT_RANGE_DAYS: i64 = 90;

/// "Now" as the index answers it: to the minute, so the same question asked
/// twice within a minute gets the same answer (and ETag), and a polling
/// consumer revalidates with 304 instead of downloading it again.
pub fn to_the_minute(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(Duration::minutes(1)).unwrap_or(now)
}

/// A request's half-open time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeError {
    /// The named parameter is neither RFC 3339 nor `YYYY-MM-DD`.
    Unparseable(&'static str),
    Empty,
    TooLong,
}

/// Which end of the range a bound is: a plain date means that whole UTC day, so
/// `to=2021-06-30` includes June 30.
#[derive(Debug, Clone, Copy)]
enum Bound {
    From,
    To,
}

fn parse_bound(text: &str, bound: Bound) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    match bound {
        Bound::From => Some(midnight(date)),
        Bound::To => date.checked_add_days(Days::new(1)).map(midnight),
    }
}

impl TimeRange {
    /// `from`/`to` as sent (RFC 3339 with any offset, or a plain UTC date); the
    /// defaults are the last 90 days up to `now`. At most 36 months.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: DateTime<Utc>) -> Result<Self, RangeError> {
        let to = match to {
            Some(text) => parse_bound(text, Bound::To).ok_or(RangeError::Unparseable("to"))?,
            None => to_the_minute(now),
        };
        let from = match from {
            Some(text) => parse_bound(text, Bound::From).ok_or(RangeError::Unparseable("from"))?,
            None => to - Duration::days(DEFAULT_RANGE_DAYS),
        };
        if from >= to {
            return Err(RangeError::Empty);
        }
        let earliest = to.checked_sub_months(Months::new(MAX_RANGE_MONTHS)).ok_or(RangeError::TooLong)?;
        if from < earliest {
            return Err(RangeError::TooLong);
        }
        Ok(Self { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// percentile_cont straight from its definition over a sorted slice.
    fn by_definition(sorted: &[i64], p: f64) -> f64 {
        let position = p * (sorted.len() - 1) as f64;
        let (i, fraction) = (position.floor() as usize, position - position.floor());
        let next = sorted.get(i + 1).copied().unwrap_or(sorted[i]);
        sorted[i] as f64 + (next - sorted[i]) as f64 * fraction
    }

    #[test]
    fn interpolates_like_percentile_cont_for_every_size() {
        let values: Vec<i64> = (0..40).map(|k| (k * 7919 % 103) * 3 - 50).collect();
        for n in 1..=values.len() {
            let mut sorted = values[..n].to_vec();
            sorted.sort();
            for (quantile, p) in [(Quantile::P25, 0.25), (Quantile::MEDIAN, 0.5), (Quantile::P75, 0.75)] {
                let i = quantile.lower_index(n as i64) as usize;
                let lo = sorted[i];
                let hi = sorted.get(i + 1).copied().unwrap_or(lo);
                let got = percentile_cont(n as i64, quantile, Some(lo), Some(hi)).unwrap();
                assert_eq!(got, by_definition(&sorted, p), "n={n} p={p}");
            }
        }
    }

    #[test]
    fn small_sets_have_known_quartiles() {
        // [10, 20, 30, 40]: p25 at 0.75 -> 17.5, median 25, p75 at 2.25 -> 32.5.
        assert_eq!(percentile_cont(4, Quantile::P25, Some(10), Some(20)), Some(17.5));
        assert_eq!(percentile_cont(4, Quantile::MEDIAN, Some(20), Some(30)), Some(25.0));
        assert_eq!(percentile_cont(4, Quantile::P75, Some(30), Some(40)), Some(32.5));
        assert_eq!(percentile_cont(1, Quantile::P75, Some(7), Some(7)), Some(7.0));
        assert_eq!(percentile_cont(0, Quantile::MEDIAN, None, None), None);
    }

    #[test]
    fn weeks_start_on_monday_utc() {
        assert_eq!(Interval::Week.floor(at("2021-06-06T23:59:59Z")), date("2021-05-31")); // a Sunday
        assert_eq!(Interval::Week.floor(at("2021-06-07T00:00:00Z")), date("2021-06-07"));
        // 01:30 on a Monday in Almaty is still Sunday in UTC.
        assert_eq!(Interval::Week.floor(at("2021-06-07T01:30:00+06:00")), date("2021-05-31"));
        assert_eq!(Interval::Day.floor(at("2021-06-07T01:30:00+06:00")), date("2021-06-06"));
    }

    #[test]
    fn buckets_cover_the_half_open_range() {
        let days = Interval::Day.buckets(at("2021-06-01T12:00:00Z"), at("2021-06-04T00:00:00Z"));
        assert_eq!(days, vec![date("2021-06-01"), date("2021-06-02"), date("2021-06-03")]);
        let weeks = Interval::Week.buckets(at("2021-06-02T00:00:00Z"), at("2021-06-14T00:00:01Z"));
        assert_eq!(weeks, vec![date("2021-05-31"), date("2021-06-07"), date("2021-06-14")]);
    }

    #[test]
    fn ranges_take_offsets_and_dates_and_refuse_long_or_empty_ones() {
        let now = at("2021-07-01T10:00:00Z");
        let default = TimeRange::parse(None, None, now).unwrap();
        assert_eq!((default.from, default.to), (at("2021-04-02T10:00:00Z"), now));
        let mid_minute = at("2021-07-01T10:00:59.999999999Z");
        let aligned = TimeRange::parse(None, None, mid_minute).unwrap();
        assert_eq!(
            (aligned.from, aligned.to),
            (at("2021-04-02T10:00:00Z"), now),
            "the default window ends on the minute"
        );
        let offset = TimeRange::parse(Some("2021-06-01T01:00:00+03:00"), Some("2021-06-30"), now).unwrap();
        assert_eq!((offset.from, offset.to), (at("2021-05-31T22:00:00Z"), at("2021-07-01T00:00:00Z")));
        assert_eq!(TimeRange::parse(Some("2021-06-02"), Some("2021-06-01"), now), Err(RangeError::Empty));
        let three_years = TimeRange::parse(Some("2018-06-01"), Some("2021-05-31"), now).unwrap();
        assert_eq!((three_years.from, three_years.to), (at("2018-06-01T00:00:00Z"), at("2021-06-01T00:00:00Z")));
        assert_eq!(TimeRange::parse(Some("2018-05-31T23:59:59Z"), Some("2021-05-31"), now), Err(RangeError::TooLong));
        assert_eq!(TimeRange::parse(Some("yesterday"), None, now), Err(RangeError::Unparseable("from")));
        assert_eq!(TimeRange::parse(None, Some("2021-13-01"), now), Err(RangeError::Unparseable("to")));
    }

    #[test]
    fn conversions() {
        assert_eq!(cents_per_th(95_000, 110_000_000_000_000), 864); // $950 / 110 TH = $8.636
        assert_eq!(cents_per_th(1, 2_000_000_000_000), 1, "half a cent rounds up");
        assert_eq!(share(1, 4), Some(0.25));
        assert_eq!(share(0, 0), None);
        assert_eq!(cents_to_dollars(1234.5), 12.345);
        assert_eq!(bps_to_pct(2150.0), 21.5);
    }
}
