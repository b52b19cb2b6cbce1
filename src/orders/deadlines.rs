//! Order deadlines and their reminders, as plain functions of the configured
//! windows and the listing's hosting power-off time.

use chrono::{DateTime, Duration, Utc};

/// Rigs must be shipped this long before the hosting facility powers them off.
pub const POWER_OFF_MARGIN: Duration = Duration::hours(48);
/// Reminders go out this long before a deadline (or half-way for shorter windows).
pub const REMINDER_LEAD: Duration = Duration::hours(24);

/// The latest moment the seller can still ship before the power-off.
pub fn ship_cutoff(power_off_at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    power_off_at.map(|at| at - POWER_OFF_MARGIN)
}

/// When an unpaid order expires: the payment window, but never after the ship
/// cutoff (a payment after it would leave the seller no time to ship).
pub fn pay_by(now: DateTime<Utc>, window: Duration, power_off_at: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let by = now + window;
    ship_cutoff(power_off_at).map_or(by, |cutoff| by.min(cutoff))
}

/// The ship deadline: the ship window after payment, clamped to the cutoff (and
/// never before the payment itself).
pub fn ship_by(paid_at: DateTime<Utc>, window: Duration, power_off_at: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let by = paid_at + window;
    ship_cutoff(power_off_at).map_or(by, |cutoff| by.min(cutoff).max(paid_at))
}

/// The ship deadline of an order whose terms set a latest ship date (an offer's
/// `ship_by`): the earlier of the two, never before the payment.
pub fn within_agreed(ship_by: DateTime<Utc>, agreed: Option<DateTime<Utc>>, paid_at: DateTime<Utc>) -> DateTime<Utc> {
    agreed.map_or(ship_by, |agreed| ship_by.min(agreed).max(paid_at))
}

/// When to remind someone of `deadline` in a window that opened at `opened`:
/// [`REMINDER_LEAD`] before it, or half-way through windows shorter than twice
/// that; `None` for windows under two minutes.
pub fn reminder_at(opened: DateTime<Utc>, deadline: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let window = deadline - opened;
    if window < Duration::minutes(2) {
        None
    } else if window >= REMINDER_LEAD * 2 {
        Some(deadline - REMINDER_LEAD)
    } else {
        Some(opened + window / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_ship_deadline_is_clamped_to_two_days_before_power_off() {
        let paid = at("2021-06-01T00:00:00Z");
        assert_eq!(ship_by(paid, Duration::days(7), None), at("2021-06-08T00:00:00Z"));
        let power_off = at("2021-06-05T12:00:00Z");
        assert_eq!(ship_by(paid, Duration::days(7), Some(power_off)), at("2021-06-03T12:00:00Z"));
        let far = at("2021-07-01T00:00:00Z");
        assert_eq!(ship_by(paid, Duration::days(7), Some(far)), at("2021-06-08T00:00:00Z"));
        assert_eq!(ship_by(paid, Duration::days(7), Some(at("2021-06-01T06:00:00Z"))), paid, "never before payment");
    }

    #[test]
    fn an_agreed_ship_date_can_only_bring_the_deadline_forward() {
        let paid = at("2021-06-01T00:00:00Z");
        let window_end = at("2021-06-08T00:00:00Z");
        assert_eq!(within_agreed(window_end, None, paid), window_end);
        assert_eq!(within_agreed(window_end, Some(at("2021-06-04T00:00:00Z")), paid), at("2021-06-04T00:00:00Z"));
        assert_eq!(within_agreed(window_end, Some(at("2021-06-20T00:00:00Z")), paid), window_end);
        assert_eq!(within_agreed(window_end, Some(at("2021-05-30T00:00:00Z")), paid), paid);
    }

    #[test]
    fn payment_must_arrive_before_the_ship_cutoff() {
        let now = at("2021-06-01T00:00:00Z");
        assert_eq!(pay_by(now, Duration::hours(48), None), at("2021-06-03T00:00:00Z"));
        assert_eq!(pay_by(now, Duration::hours(48), Some(at("2021-06-04T00:00:00Z"))), at("2021-06-02T00:00:00Z"));
    }

    #[test]
    fn reminders_come_a_day_ahead_or_half_way() {
        let opened = at("2021-06-01T00:00:00Z");
        assert_eq!(reminder_at(opened, at("2021-06-03T00:00:00Z")), Some(at("2021-06-02T00:00:00Z")));
        assert_eq!(reminder_at(opened, at("2021-06-08T00:00:00Z")), Some(at("2021-06-07T00:00:00Z")));
        assert_eq!(reminder_at(opened, at("2021-06-01T10:00:00Z")), Some(at("2021-06-01T05:00:00Z")));
        assert_eq!(reminder_at(opened, at("2021-06-01T00:01:00Z")), None);
    }
}
