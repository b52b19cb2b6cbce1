//! Discount against the reference price and the fire-sale flag, in integer basis
//! points so comparisons with the threshold are exact.

/// `1 - price / reference` in basis points, rounded half away from zero; `None`
/// without a reference. Matches the `discount_bps` column's definition.
pub fn discount_bps(unit_price_cents: i64, reference_unit_price_cents: Option<i64>) -> Option<i64> {
    let reference = reference_unit_price_cents.filter(|r| *r > 0)?;
    let scaled = i128::from(unit_price_cents) * 10_000;
    let reference = i128::from(reference);
    let quotient = (2 * scaled + reference) / (2 * reference); // round(price*10000/ref) for positive values
    Some((10_000 - quotient) as i64)
}

/// Basis points as a percentage number for JSON (2000 -> 20.0).
pub fn bps_to_pct(bps: i64) -> f64 {
    bps as f64 / 100.0
}

pub fn is_fire_sale(discount_bps: Option<i64>, threshold_bps: i64) -> bool {
    discount_bps.is_some_and(|d| d >= threshold_bps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discount_is_one_minus_price_over_reference() {
        // S19 Pro at $1,000 against the $1,728.10 tier reference: 42.13 %.
        assert_eq!(discount_bps(100_000, Some(172_810)), Some(4213));
        assert_eq!(discount_bps(80_000, Some(100_000)), Some(2000));
        assert_eq!(discount_bps(120_000, Some(100_000)), Some(-2000), "above reference is negative");
        assert_eq!(discount_bps(100_000, None), None);
    }

    #[test]
    fn fire_sale_starts_exactly_at_the_threshold() {
        assert!(is_fire_sale(Some(2000), 2000));
        assert!(!is_fire_sale(Some(1999), 2000));
        assert!(!is_fire_sale(None, 0), "no reference, never a fire sale");
        assert_eq!(bps_to_pct(4213), 42.13);
    }
}
