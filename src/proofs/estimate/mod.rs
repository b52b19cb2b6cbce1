//! The verdict math of a hashrate proof.
//!
//! Owns the hashrate estimate from accepted shares (`N * D * 2^32 / t`), its exact
//! Poisson (Garwood) confidence interval, the verified/failed rule, and the choice
//! of share difficulty that makes a proof window yield enough shares to be precise.
//!
//! Accepted shares at a fixed difficulty arrive as a Poisson process whose rate is
//! proportional to the hashrate, so everything here is inference on a Poisson count.
//! Whether a proof expired because nothing connected is the caller's call; this
//! module only judges the shares it is given. No I/O, no environment variables.

use statrs::distribution::{ChiSquared, ContinuousCDF};
use thiserror::Error;

use super::share::{Difficulty, InvalidDifficulty};

#[cfg(test)]
mod tests;

/// Expected hashes per share at difficulty 1. The exact figure is `2^256 / (0xFFFF << 208)
/// = 2^32 * 65536/65535`; pools and miners all use `2^32`, and so do we, to report the
/// same numbers (the difference is 0.0015 %).
pub const HASHES_PER_DIFF1_SHARE: f64 = 4_294_967_296.0;

/// Shares a proof window should yield. The 95 % interval of a Poisson count `N` is
/// about `N ± 1.96 * sqrt(N)`, a relative half-width of `1.96 / sqrt(N)`; at
/// `N = 1600` that is `1.96 / 40 = 4.9 %`, the product's "±5 % at 95 %" (the exact
/// Garwood interval for 1600 is -4.8 % / +5.0 %).
pub const DEFAULT_TARGET_SHARES: f64 = 1600.0;

/// Fewer accepted shares than this never verify, however small the claim: with a
/// handful of shares the interval is too wide to say anything about a rig.
pub const DEFAULT_MIN_SHARES: u64 = 100;

/// A proof verifies when the interval's upper bound reaches this fraction of the
/// claim, leaving room for the rigs' normal shortfall against their nameplate.
pub const VERIFY_FRACTION_OF_CLAIM: f64 = 0.9;

/// Why an estimate could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum EstimateError {
    #[error("{name} must be finite and greater than zero, got {value}")]
    NotPositive { name: &'static str, value: f64 },
    #[error("confidence must lie strictly between 0 and 1, got {0}")]
    ConfidenceOutOfRange(f64),
    #[error(transparent)]
    Difficulty(#[from] InvalidDifficulty),
}

/// A two-sided confidence level strictly between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Confidence(f64);

impl Confidence {
    pub const NINETY_FIVE: Self = Self(0.95);

    pub fn new(level: f64) -> Result<Self, EstimateError> {
        if level > 0.0 && level < 1.0 {
            Ok(Self(level))
        } else {
            Err(EstimateError::ConfidenceOutOfRange(level))
        }
    }

    pub fn level(self) -> f64 {
        self.0
    }

    /// Probability left in each tail: `alpha / 2`.
    fn tail(self) -> f64 {
        (1.0 - self.0) / 2.0
    }
}

/// Outcome of a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictStatus {
    Verified,
    Failed,
}

/// A proof's verdict; hashrates in H/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub status: VerdictStatus,
    pub estimate: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
    /// `estimate / claimed`.
    pub ratio_to_claim: f64,
}

/// Estimated hashrate in H/s: `shares * difficulty * 2^32 / seconds`. Plain formula:
/// `seconds` must be positive ([`verdict`] checks it).
pub fn estimate_hashrate(shares: u64, difficulty: Difficulty, seconds: f64) -> f64 {
    shares as f64 * hashes_per_share(difficulty) / seconds
}

/// Exact (Garwood) confidence interval for the mean of a Poisson count `n`:
/// `low = chi2_inv(alpha/2, 2n) / 2` (0 when `n = 0`),
/// `high = chi2_inv(1 - alpha/2, 2n + 2) / 2`.
/// It inverts the Poisson tail probabilities directly, so it holds at small counts
/// where `n ± z * sqrt(n)` does not, and never covers less than the stated level.
pub fn garwood_interval(n: u64, confidence: Confidence) -> (f64, f64) {
    let tail = confidence.tail();
    let count = n as f64;
    let low = if n == 0 { 0.0 } else { chi_squared_quantile(tail, 2.0 * count) / 2.0 };
    let high = chi_squared_quantile(1.0 - tail, 2.0 * count + 2.0) / 2.0;
    (low, high)
}

/// The hashrate interval in H/s: the count interval scaled like the estimate.
/// `seconds` must be positive ([`verdict`] checks it).
pub fn hashrate_interval(shares: u64, difficulty: Difficulty, seconds: f64, confidence: Confidence) -> (f64, f64) {
    let (low, high) = garwood_interval(shares, confidence);
    let per_share = hashes_per_share(difficulty) / seconds;
    (low * per_share, high * per_share)
}

/// Judges a proof: `Verified` when at least `min_shares` were accepted (normally
/// [`DEFAULT_MIN_SHARES`]) and the 95 % interval's upper bound reaches
/// [`VERIFY_FRACTION_OF_CLAIM`] of `claimed_hs`. Using the upper bound gives an
/// honest rig the benefit of a bad-luck window; a real shortfall still fails.
pub fn verdict(
    shares: u64,
    difficulty: Difficulty,
    seconds: f64,
    claimed_hs: f64,
    min_shares: u64,
) -> Result<Verdict, EstimateError> {
    let seconds = positive("seconds", seconds)?;
    let claimed_hs = positive("claimed_hs", claimed_hs)?;
    let estimate = estimate_hashrate(shares, difficulty, seconds);
    let (ci95_low, ci95_high) = hashrate_interval(shares, difficulty, seconds, Confidence::NINETY_FIVE);
    // A NaN bound fails this comparison, so an impossible interval fails the proof.
    let verified = shares >= min_shares && ci95_high >= VERIFY_FRACTION_OF_CLAIM * claimed_hs;
    Ok(Verdict {
        status: if verified { VerdictStatus::Verified } else { VerdictStatus::Failed },
        estimate,
        ci95_low,
        ci95_high,
        ratio_to_claim: estimate / claimed_hs,
    })
}

/// The share difficulty that makes `window_secs` at `claimed_hs` yield about
/// `target_shares` shares (normally [`DEFAULT_TARGET_SHARES`]):
/// `D = claimed * t / (target * 2^32)`, but never below `min_difficulty`, the
/// server's budget floor on how many shares per second one proof may send.
pub fn choose_share_difficulty(
    claimed_hs: f64,
    window_secs: f64,
    target_shares: f64,
    min_difficulty: Difficulty,
) -> Result<Difficulty, EstimateError> {
    let claimed_hs = positive("claimed_hs", claimed_hs)?;
    let window_secs = positive("window_secs", window_secs)?;
    let target_shares = positive("target_shares", target_shares)?;
    let ideal = claimed_hs * window_secs / (target_shares * HASHES_PER_DIFF1_SHARE);
    if ideal <= min_difficulty.value() {
        return Ok(min_difficulty);
    }
    // Fails only if an absurd claim overflowed to infinity.
    Ok(Difficulty::new(ideal)?)
}

fn hashes_per_share(difficulty: Difficulty) -> f64 {
    difficulty.value() * HASHES_PER_DIFF1_SHARE
}

fn chi_squared_quantile(probability: f64, degrees_of_freedom: f64) -> f64 {
    // `ChiSquared::new` refuses only NaN or non-positive freedom and callers pass at
    // least 2; were that to change, NaN makes `verdict` fail the proof (fail closed).
    ChiSquared::new(degrees_of_freedom).map_or(f64::NAN, |chi2| chi2.inverse_cdf(probability))
}

fn positive(name: &'static str, value: f64) -> Result<f64, EstimateError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(EstimateError::NotPositive { name, value })
    }
}
