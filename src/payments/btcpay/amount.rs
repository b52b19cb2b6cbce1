//! Amounts as BTCPay writes them: decimal strings ("1234.50"), converted to and
//! from the integer cents the rest of rigmarket uses. No floats anywhere, so a
//! price never drifts by a cent on the way to BTCPay and back.

use crate::decimal::parse_scaled_decimal;

/// `123450` -> `"1234.50"`. Negative values keep their sign so that BTCPay, not
/// this formatter, is the one to refuse them.
pub fn cents_to_decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `"1234.50"` -> `123450`. Accepts "100", "0.01", "1234.5" and extra trailing
/// zeros ("10.000", which BTCPay may print for a decimal with a larger scale);
/// refuses anything that is not an exact, non-negative number of cents
/// ("1.005", "-1", "1e3", "").
pub fn decimal_to_cents(text: &str) -> Option<i64> {
    let text = text.trim();
    let normalized = match text.split_once('.') {
        // Zeros past the cents do not change the value; anything else would.
        Some((whole, fraction)) => format!("{whole}.{}", fraction.trim_end_matches('0')),
        None => text.to_string(),
    };
    parse_scaled_decimal(&normalized, 2)
}

/// Whether a decimal string of any scale (crypto amounts carry 8 or more
/// decimals) is greater than zero: `"0.00001000"` -> true, `"0"`, `"0.000"` and
/// `"-0.5"` -> false. `None` when it is not a plain decimal number.
pub fn decimal_is_positive(text: &str) -> Option<bool> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let well_formed = !(whole.is_empty() && fraction.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return None;
    }
    let nonzero = whole.bytes().chain(fraction.bytes()).any(|b| b != b'0');
    Some(nonzero && !negative)
}

/// How far past the amount due a payment went, in whole cents of the invoice
/// currency: `due` is a payment method's remainder in its own currency
/// (negative when overpaid) and `rate` the invoice currency per unit of it.
/// Rounded down, so an excess owed back is never more than what arrived and a
/// shortfall counts in full: `"-0.00095000"` at `"100000.00"` -> `9500`,
/// `"0.00095000"` -> `-9500`. `None` when either is not a plain decimal or the
/// product does not fit.
pub fn cents_beyond_due(due: &str, rate: &str) -> Option<i64> {
    let (due, due_scale) = decimal_parts(due)?;
    let (rate, rate_scale) = decimal_parts(rate)?;
    let scaled = due.checked_neg()?.checked_mul(rate)?.checked_mul(100)?;
    let divisor = 10_i128.checked_pow(due_scale.checked_add(rate_scale)?)?;
    i64::try_from(scaled.div_euclid(divisor)).ok()
}

/// `"-12.3400"` -> `(-123400, 4)`: the digits as one integer and the number of decimals.
fn decimal_parts(text: &str) -> Option<(i128, u32)> {
    decimal_is_positive(text)?;
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let scale = u32::try_from(fraction.len()).ok()?;
    let mantissa: i128 = format!("0{whole}{fraction}").parse().ok()?;
    Some((if negative { -mantissa } else { mantissa }, scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_format_with_two_decimals() {
        assert_eq!(cents_to_decimal(123_450), "1234.50");
        assert_eq!(cents_to_decimal(1), "0.01");
        assert_eq!(cents_to_decimal(10_000), "100.00");
        assert_eq!(cents_to_decimal(0), "0.00");
        assert_eq!(cents_to_decimal(-5), "-0.05");
        assert_eq!(cents_to_decimal(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn decimals_parse_to_exact_cents() {
        assert_eq!(decimal_to_cents("1234.50"), Some(123_450));
        assert_eq!(decimal_to_cents("1234.5"), Some(123_450));
        assert_eq!(decimal_to_cents("0.01"), Some(1));
        assert_eq!(decimal_to_cents("100"), Some(10_000));
        assert_eq!(decimal_to_cents("10.000"), Some(1_000));
        assert_eq!(decimal_to_cents(" 7.25 "), Some(725));
    }

    #[test]
    fn decimals_that_are_not_whole_cents_are_refused() {
        for bad in ["1.005", "-1", "-0.01", "abc", "", ".", "1e3", "1,50", "+1", "1.2.3", "１"] {
            assert_eq!(decimal_to_cents(bad), None, "{bad:?}");
        }
        assert_eq!(decimal_to_cents("99999999999999999999"), None, "overflow");
    }

    #[test]
    fn round_trips_are_exact() {
        for cents in [0, 1, 9, 10, 99, 100, 101, 123_450, 999_999_999, i64::MAX / 100 * 100] {
            assert_eq!(decimal_to_cents(&cents_to_decimal(cents)), Some(cents), "{cents}");
        }
    }

    #[test]
    fn positivity_of_any_scale() {
        assert_eq!(decimal_is_positive("0.00001000"), Some(true));
        assert_eq!(decimal_is_positive("12"), Some(true));
        assert_eq!(decimal_is_positive("0"), Some(false));
        assert_eq!(decimal_is_positive("0.00000000"), Some(false));
        assert_eq!(decimal_is_positive("-0.00050000"), Some(false));
        assert_eq!(decimal_is_positive(""), None);
        assert_eq!(decimal_is_positive("-"), None);
        assert_eq!(decimal_is_positive("1e-8"), None);
    }

    #[test]
    fn payments_beyond_the_due_amount_convert_to_cents_rounded_down() {
        assert_eq!(cents_beyond_due("-0.00095000", "100000.00"), Some(9_500), "overpaid");
        assert_eq!(cents_beyond_due("0.00095000", "100000.00"), Some(-9_500), "still due");
        assert_eq!(cents_beyond_due("0", "100000.00"), Some(0));
        assert_eq!(cents_beyond_due("0.00000000", "64321.5"), Some(0));
        // One satoshi at 64,321.50 is 0.064 cents: owed back, nothing; still due, a whole cent.
        assert_eq!(cents_beyond_due("-0.00000001", "64321.50"), Some(0));
        assert_eq!(cents_beyond_due("0.00000001", "64321.50"), Some(-1));
        assert_eq!(cents_beyond_due("lots", "1"), None);
        assert_eq!(cents_beyond_due("1", ""), None);
        assert_eq!(cents_beyond_due("99999999999999999999999999999", "99999999999"), None, "overflow");
    }
}
