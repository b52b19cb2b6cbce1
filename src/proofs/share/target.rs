//! Share difficulty and its target: the validated [`Difficulty`] type, the exact
//! conversion from a (possibly fractional) difficulty to a 256-bit target, and the
//! difficulty a hash achieved.

use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, Target};
use thiserror::Error;

/// The difficulty-1 target, `0xFFFF << 208` (Bitcoin's `Target::MAX`).
pub const DIFF1_TARGET: Target = Target::MAX;

/// The 16 significant bits of [`DIFF1_TARGET`]; the target is this times `2^208`.
const DIFF1_SIGNIFICAND: u64 = 0xFFFF;
const DIFF1_SHIFT: i32 = 208;

/// A share difficulty: finite and greater than zero, so every difficulty has a target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difficulty(f64);

impl Difficulty {
    pub fn new(value: f64) -> Result<Self, InvalidDifficulty> {
        if value.is_finite() && value > 0.0 {
            Ok(Self(value))
        } else {
            Err(InvalidDifficulty(value))
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

/// A difficulty that is zero, negative, infinite or NaN.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[error("share difficulty must be finite and greater than zero, got {0}")]
pub struct InvalidDifficulty(pub f64);

/// The share target `(0xFFFF << 208) / difficulty`, rounded down, computed exactly.
///
/// Method: every finite f64 is exactly `m * 2^e` with an integer `m < 2^53`, so
/// `target = floor(0xFFFF * 2^(208 - e) / m)`, a big integer divided by a 64-bit one,
/// which schoolbook long division does exactly. Dividing in floating point instead
/// would keep only the top 53 bits of the target, moving the accept/reject boundary
/// by up to one part in 2^53 (around 2^186 for difficulty 3e-05).
/// Rounding down is harmless: hashes are integers, so `hash <= floor(x)` exactly when
/// `hash <= x`. The difficulty used is the binary value of the f64 the caller holds
/// (3e-05 is not exactly representable in binary).
///
/// Difficulties below about 2.3e-10 give targets above `2^256 - 1`; those saturate,
/// since every hash meets them anyway.
pub fn share_target(difficulty: Difficulty) -> Target {
    // `Difficulty` is positive, so the mantissa (the divisor) is never zero.
    let (mantissa, exponent) = exact_binary_parts(difficulty.value());
    let quotient = divide_limbs(&diff1_scaled(DIFF1_SHIFT - exponent), mantissa);
    target_from_limbs(&quotient)
}

/// The difficulty a hash achieved: `DIFF1_TARGET / hash`, the hash read as a
/// little-endian 256-bit integer (the same reading the target comparison uses).
pub fn achieved_difficulty(hash: BlockHash) -> f64 {
    // A hash read as an integer is the hardest target it meets, so its difficulty
    // is that target's difficulty; rust-bitcoin converts the 256-bit value to f64
    // with correct rounding.
    Target::from_le_bytes(hash.to_byte_array()).difficulty_float()
}

/// `(m, e)` with `value == m * 2^e` exactly, for a finite positive `value`.
fn exact_binary_parts(value: f64) -> (u64, i32) {
    const FRACTION_BITS: u32 = 52;
    const EXPONENT_BIAS: i32 = 1023 + FRACTION_BITS as i32;
    let bits = value.to_bits();
    let fraction = bits & ((1 << FRACTION_BITS) - 1);
    // Masked to the 11 exponent bits, so the cast is lossless.
    let biased_exponent = ((bits >> FRACTION_BITS) & 0x7FF) as i32;
    if biased_exponent == 0 {
        // Subnormal: no implicit leading bit, smallest exponent.
        (fraction, 1 - EXPONENT_BIAS)
    } else {
        (fraction | (1 << FRACTION_BITS), biased_exponent - EXPONENT_BIAS)
    }
}

/// `floor(0xFFFF * 2^shift)` as little-endian 64-bit limbs. A negative `shift`
/// divides, which stays exact under the later floor division because
/// `floor(floor(a / 2^k) / m) == floor(a / (2^k * m))`.
fn diff1_scaled(shift: i32) -> Vec<u64> {
    match u32::try_from(shift) {
        Ok(left) => {
            let low_limb = (left / 64) as usize;
            let wide = u128::from(DIFF1_SIGNIFICAND) << (left % 64);
            let mut limbs = vec![0u64; low_limb + 2];
            // Truncating casts take the low and high halves of the 128-bit window.
            limbs[low_limb] = wide as u64;
            limbs[low_limb + 1] = (wide >> 64) as u64;
            limbs
        }
        Err(_) => vec![DIFF1_SIGNIFICAND.checked_shr(shift.unsigned_abs()).unwrap_or(0)],
    }
}

/// Schoolbook long division of little-endian limbs by a nonzero 64-bit divisor.
fn divide_limbs(dividend: &[u64], divisor: u64) -> Vec<u64> {
    let divisor = u128::from(divisor);
    let mut quotient = vec![0u64; dividend.len()];
    let mut remainder = 0u128;
    for (digit, &limb) in quotient.iter_mut().zip(dividend).rev() {
        let current = (remainder << 64) | u128::from(limb);
        // remainder < divisor, so current / divisor < 2^64 and the cast is lossless.
        *digit = (current / divisor) as u64;
        remainder = current % divisor;
    }
    quotient
}

/// The 256-bit target for little-endian limbs, saturating at `2^256 - 1`.
fn target_from_limbs(limbs: &[u64]) -> Target {
    if limbs.iter().skip(4).any(|&limb| limb != 0) {
        return Target::from_le_bytes([0xFF; 32]);
    }
    let mut bytes = [0u8; 32];
    for (chunk, limb) in bytes.chunks_exact_mut(8).zip(limbs) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    Target::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn difficulty(value: f64) -> Difficulty {
        Difficulty::new(value).expect("valid difficulty")
    }

    /// Expected values computed independently with Python's exact rationals:
    /// `floor(Fraction(0xFFFF << 208) / Fraction(d))`, `Fraction(float)` being exact.
    #[test]
    fn fractional_difficulty_targets_are_exact() {
        let cases = [
            (3e-05, "00008234d31fffffff124e3beb955557073fd947f00e35cb6ec6aead1b6476a1"),
            (1e-4, "0000270fd8efffffff791d46e3400001d1c6e73746fff9b79d29951ed415b1f5"),
            (0.0001234, "00001fa79aa3c93b55b847f812252d8e23ca916e9650fc80faf85315a168d797"),
            (0.002, "000001f3fe0bfffffffd1202ee0000000464fb9afffffff968869780000009e3"),
            (1.5, "00000000aaaa0000000000000000000000000000000000000000000000000000"),
            (1e6, "00000000000010c6e6d9be4cd74927913e81450efdc9c4da9003eea209aaa3ad"),
            (123456.789, "00000000000087e4b45ede50c6ef489a7e78e4308b2b8f81cdf0e652f3bcfe45"),
            (2f64.powi(-31), "7fff800000000000000000000000000000000000000000000000000000000000"),
            (1e300, "0000000000000000000000000000000000000000000000000000000000000000"),
        ];
        for (value, expected) in cases {
            let expected = Target::from_unprefixed_hex(expected).expect("hex");
            assert_eq!(share_target(difficulty(value)), expected, "difficulty {value}");
        }
    }

    #[test]
    fn tiny_difficulties_saturate_at_the_largest_target() {
        for value in [2f64.powi(-33), 1e-12, f64::from_bits(1)] {
            assert_eq!(share_target(difficulty(value)).to_le_bytes(), [0xFF; 32]);
        }
    }

    #[test]
    fn a_hash_equal_to_the_target_is_accepted_and_one_above_is_not() {
        let target = share_target(difficulty(3e-05));
        let at_target = BlockHash::from_byte_array(target.to_le_bytes());
        assert!(target.is_met_by(at_target));

        let mut above = target.to_le_bytes();
        above[0] += 1; // the target's lowest byte is 0xa1, so no carry
        assert!(!target.is_met_by(BlockHash::from_byte_array(above)));
    }

    #[test]
    fn invalid_difficulties_are_refused() {
        for value in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Difficulty::new(value).is_err(), "{value}");
        }
    }

    #[test]
    fn achieved_difficulty_of_the_diff1_target_is_one() {
        let hash = BlockHash::from_byte_array(DIFF1_TARGET.to_le_bytes());
        assert_eq!(achieved_difficulty(hash), 1.0);
    }
}
