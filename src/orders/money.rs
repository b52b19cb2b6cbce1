//! How escrowed money is split when an order closes, in integer cents.
//!
//! The platform fee (`RIGMARKET_PLATFORM_FEE_BPS`) is taken from what is released
//! to the seller, rounded half up to the cent; the buyer pays the subtotal and
//! gets back exactly the refund. The three parts always add up to the total.

/// The fee on `released_cents`, rounded half up.
pub fn fee_on(released_cents: i64, fee_bps: i32) -> i64 {
    let scaled = i128::from(released_cents) * i128::from(fee_bps);
    ((scaled + 5_000) / 10_000) as i64
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub refund_cents: i64,
    pub seller_credit_cents: i64,
    pub fee_cents: i64,
}

impl Split {
    /// Everything goes back to the buyer.
    pub fn full_refund(total_cents: i64) -> Self {
        Self { refund_cents: total_cents, seller_credit_cents: 0, fee_cents: 0 }
    }
}

/// Splits `total_cents` into a refund of `refund_cents` and a release of the rest
/// to the seller minus the fee. `None` when the refund is outside `0..=total`.
pub fn split(total_cents: i64, refund_cents: i64, fee_bps: i32) -> Option<Split> {
    if !(0..=total_cents).contains(&refund_cents) {
        return None;
    }
    let released = total_cents - refund_cents;
    let fee_cents = fee_on(released, fee_bps);
    Some(Split { refund_cents, seller_credit_cents: released - fee_cents, fee_cents })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_pays_the_seller_the_total_less_two_percent() {
        let split = split(1_900_000, 0, 200).unwrap();
        assert_eq!(split, Split { refund_cents: 0, seller_credit_cents: 1_862_000, fee_cents: 38_000 });
    }

    #[test]
    fn the_fee_rounds_half_up_to_the_cent() {
        assert_eq!(fee_on(25, 200), 1, "0.5 cent rounds up");
        assert_eq!(fee_on(24, 200), 0);
        assert_eq!(fee_on(0, 200), 0);
        assert_eq!(fee_on(i64::MAX / 10_000, 10_000), i64::MAX / 10_000, "no overflow at the edges");
    }

    #[test]
    fn every_split_adds_up_to_the_total() {
        for total in [1_i64, 99, 12_345, 9_500_000] {
            for refund in [0, 1, total / 3, total / 2, total - 1, total] {
                for bps in [0, 1, 200, 999, 10_000] {
                    let s = split(total, refund, bps).unwrap();
                    assert_eq!(s.refund_cents + s.seller_credit_cents + s.fee_cents, total);
                    assert!(s.seller_credit_cents >= 0 && s.fee_cents >= 0);
                }
            }
        }
    }

    #[test]
    fn refunds_outside_the_escrow_are_refused() {
        assert_eq!(split(100, -1, 200), None);
        assert_eq!(split(100, 101, 200), None);
        assert_eq!(split(100, 100, 200), Some(Split::full_refund(100)));
    }
}
