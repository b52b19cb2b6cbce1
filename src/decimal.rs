//! Exact decimal text to scaled integers, used for money and percentages: `119.25`
//! at scale 2 is `11925` cents, `20` percent at scale 2 is `2000` basis points. No
//! floats, so a price never drifts by a cent between its text and the database.

/// Parses a non-negative decimal such as `4.73` or `119.25` into an integer
/// scaled by `10^scale` exactly (no floats), rejecting extra precision.
pub fn parse_scaled_decimal(text: &str, scale: u32) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > scale as usize
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let padded = format!("{fraction:0<width$}", width = scale as usize);
    let fraction: i64 = if padded.is_empty() { 0 } else { padded.parse().ok()? };
    whole.checked_mul(10_i64.checked_pow(scale)?)?.checked_add(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(parse_scaled_decimal("4.73", 12), Some(4_730_000_000_000));
        assert_eq!(parse_scaled_decimal("119.25", 2), Some(11925));
        assert_eq!(parse_scaled_decimal("43.2", 2), Some(4320));
        assert_eq!(parse_scaled_decimal("28", 2), Some(2800));
        assert_eq!(parse_scaled_decimal(".5", 2), Some(50));
        for bad in ["", ".", "1.234", "-1", "1e3", "abc", "1.2.3"] {
            assert_eq!(parse_scaled_decimal(bad, 2), None, "{bad}");
        }
    }
}
