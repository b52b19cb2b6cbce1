//! The kinds of value a configuration variable holds (address, URL, count,
//! duration, ...), each read from the variable's trimmed text by serde
//! (`try_from = "String"`). The error text is what the operator sees after the
//! variable's name.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::decimal::parse_scaled_decimal;

/// Longest accepted duration: a year, leap day included.
const MAX_DURATION: Duration = Duration::from_secs(366 * 86_400);

/// `90s`, `30m`, `48h`, `7d`, a bare number of seconds (`90`) or anything else
/// humantime reads (`1h 30m`, `2weeks`); more than zero and at most 366 days.
pub fn parse_duration(text: &str) -> Option<chrono::Duration> {
    let text = text.trim();
    // humantime wants a unit; a bare number has always meant seconds here.
    let duration = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(text.parse().ok()?)
    } else {
        humantime::parse_duration(text).ok()?
    };
    if duration.is_zero() || duration > MAX_DURATION {
        return None;
    }
    chrono::Duration::from_std(duration).ok()
}

/// A socket address: `127.0.0.1:8080`, `[::]:3333`.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Addr(pub(super) SocketAddr);

impl TryFrom<String> for Addr {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text.parse().map(Self).map_err(|e| format!("not a socket address: {e}"))
    }
}

/// An absolute URL.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Link(pub(super) Url);

impl TryFrom<String> for Link {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Url::parse(&text).map(Self).map_err(|e| e.to_string())
    }
}

/// A whole number, 0 or more (a few settings then raise it to a minimum).
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Count(pub(super) usize);

impl TryFrom<String> for Count {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse().map(Self).map_err(|_| "expected a positive integer")
    }
}

/// A duration, see [`parse_duration`].
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Span(pub(super) chrono::Duration);

impl TryFrom<String> for Span {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        parse_duration(&text).map(Self).ok_or("expected a duration such as 90s, 30m, 48h or 7d")
    }
}

/// A share of an amount in basis points, from 0 to 10000.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Bps(pub(super) i32);

impl TryFrom<String> for Bps {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let bps = text.parse::<i32>().ok().filter(|bps| (0..=10_000).contains(bps));
        bps.map(Self).ok_or("expected basis points from 0 to 10000")
    }
}

/// A percentage from 0 to 100 with at most two decimals (`20`, `12.5`), held in
/// basis points.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Percent(pub(super) i64);

impl TryFrom<String> for Percent {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let bps = parse_scaled_decimal(&text, 2).filter(|bps| *bps <= 10_000);
        bps.map(Self).ok_or("expected a percentage from 0 to 100")
    }
}

/// On for `true` or `1`; anything else is off (never an error).
#[derive(Deserialize)]
#[serde(from = "String")]
pub(super) struct Flag(pub(super) bool);

impl From<String> for Flag {
    fn from(text: String) -> Self {
        Self(text == "true" || text == "1")
    }
}

/// Comma-separated web origins, each without a trailing slash.
#[derive(Deserialize)]
#[serde(from = "String")]
pub(super) struct Origins(pub(super) Vec<String>);

impl From<String> for Origins {
    fn from(text: String) -> Self {
        let origins = text.split(',').map(|o| o.trim().trim_end_matches('/').to_string());
        Self(origins.filter(|o| !o.is_empty()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> Option<i64> {
        parse_duration(text).map(|d| d.num_seconds())
    }

    #[test]
    fn durations_take_bare_seconds_and_units() {
        assert_eq!(seconds("90"), Some(90));
        assert_eq!(seconds(" 90 "), Some(90));
        assert_eq!(seconds("90s"), Some(90));
        assert_eq!(seconds("30m"), Some(1800));
        assert_eq!(seconds("48h"), Some(48 * 3600));
        assert_eq!(seconds("48 h"), Some(48 * 3600));
        assert_eq!(seconds("7d"), Some(7 * 86_400));
        // humantime's other spellings.
        assert_eq!(seconds("1h 30m"), Some(5400));
        assert_eq!(seconds("2weeks"), Some(14 * 86_400));
        assert_eq!(seconds("10days"), Some(10 * 86_400));
    }

    #[test]
    fn durations_are_positive_and_at_most_366_days() {
        assert_eq!(seconds("366d"), Some(366 * 86_400));
        assert_eq!(seconds("31622400"), Some(366 * 86_400));
        for bad in ["0", "0s", "0h", "367d", "31622401", "1000d", "53w", "99999999999999999999999"] {
            assert_eq!(seconds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn durations_refuse_garbage() {
        for bad in ["", " ", "h", "-5h", "+5s", "48H", "soon", "7 fortnights", "1e3", "5s later"] {
            assert_eq!(seconds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn counts_percentages_and_basis_points() {
        assert_eq!(Count::try_from("0".to_string()).map(|c| c.0), Ok(0));
        for bad in ["-1", "1.5", "16 connections", "0x10"] {
            assert!(Count::try_from(bad.to_string()).is_err(), "{bad}");
        }
        assert_eq!(Percent::try_from("12.5".to_string()).map(|p| p.0), Ok(1250));
        assert_eq!(Percent::try_from("100".to_string()).map(|p| p.0), Ok(10_000));
        for bad in ["100.01", "-5", "20%", "12.345"] {
            assert!(Percent::try_from(bad.to_string()).is_err(), "{bad}");
        }
        assert_eq!(Bps::try_from("10000".to_string()).map(|b| b.0), Ok(10_000));
        for bad in ["-1", "10001", "1.5", "2 %"] {
            assert!(Bps::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_are_on_only_for_true_and_1() {
        for (text, on) in [("true", true), ("1", true), ("false", false), ("TRUE", false), ("yes", false)] {
            assert_eq!(Flag::from(text.to_string()).0, on, "{text}");
        }
    }

    #[test]
    fn origins_split_on_commas_without_trailing_slashes() {
        let origins = Origins::from("https://a.example/, ,http://localhost:5173".to_string()).0;
        assert_eq!(origins, ["https://a.example", "http://localhost:5173"]);
    }
}
