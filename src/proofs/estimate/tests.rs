//! Verdict math: reference values, a seeded calibration simulation, verdict rules.

use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SIMULATION_SEED: u64 = 0x7269_676d_6172_6b74; // "rigmarkt"
const WINDOW_SECS: f64 = 600.0;
const S19_PRO_HS: f64 = 110e12;

fn difficulty(value: f64) -> Difficulty {
    Difficulty::new(value).expect("valid difficulty")
}

fn assert_close(actual: f64, expected: f64, relative: f64, context: &str) {
    assert!(
        (actual - expected).abs() <= relative * expected.abs(),
        "{context}: {actual} is not within {relative} of {expected}"
    );
}

/// Reference bounds from mpmath (30 digits), solving the regularized incomplete
/// gamma equations P(n, low) = 0.025 and P(n + 1, high) = 0.975.
#[test]
fn garwood_interval_matches_reference_values() {
    let cases = [
        (0, 0.0, 3.688_879_454_11),
        (1, 0.025_317_807_984_3, 5.571_643_390_94),
        (10, 4.795_388_696_13, 18.390_356_042),
        (100, 81.363_991_250_9, 121.626_793_792),
        (1600, 1_522.552_849_5, 1_680.365_868_33),
    ];
    for (n, low, high) in cases {
        let (actual_low, actual_high) = garwood_interval(n, Confidence::NINETY_FIVE);
        assert_close(actual_low, low, 1e-9, &format!("low bound for n = {n}"));
        assert_close(actual_high, high, 1e-9, &format!("high bound for n = {n}"));
    }
}

#[test]
fn sixteen_hundred_shares_pin_the_rate_to_about_five_percent() {
    let (low, high) = garwood_interval(1600, Confidence::NINETY_FIVE);
    let below = 1.0 - low / 1600.0;
    let above = high / 1600.0 - 1.0;
    assert!((0.045..=0.0505).contains(&below), "{below}");
    assert!((0.045..=0.0505).contains(&above), "{above}");
}

#[test]
fn confidence_must_be_a_probability_strictly_inside_zero_and_one() {
    for level in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        assert!(Confidence::new(level).is_err(), "{level}");
    }
    assert_eq!(Confidence::new(0.95), Ok(Confidence::NINETY_FIVE));
}

#[test]
fn estimate_is_shares_times_difficulty_times_two_to_the_32_over_time() {
    let estimate = estimate_hashrate(1600, difficulty(2.0), 800.0);
    assert_eq!(estimate, 1600.0 * 2.0 * 4_294_967_296.0 / 800.0);
}

#[test]
fn difficulty_is_chosen_for_1600_shares_in_the_window() {
    let chosen = choose_share_difficulty(S19_PRO_HS, WINDOW_SECS, 1600.0, difficulty(1.0)).expect("valid inputs");
    let expected_shares = S19_PRO_HS * WINDOW_SECS / (chosen.value() * HASHES_PER_DIFF1_SHARE);
    assert_close(expected_shares, 1600.0, 1e-12, "expected shares");
    assert_close(chosen.value(), 9_604.264_050_722_122, 1e-12, "difficulty");
}

#[test]
fn chosen_difficulty_never_drops_below_the_server_floor() {
    let floor = difficulty(512.0);
    let chosen = choose_share_difficulty(1e9, WINDOW_SECS, 1600.0, floor).expect("valid");
    assert_eq!(chosen, floor);
}

#[test]
fn choosing_a_difficulty_refuses_nonsense_inputs() {
    let floor = difficulty(1.0);
    assert!(choose_share_difficulty(0.0, WINDOW_SECS, 1600.0, floor).is_err());
    assert!(choose_share_difficulty(S19_PRO_HS, f64::NAN, 1600.0, floor).is_err());
    assert!(choose_share_difficulty(S19_PRO_HS, WINDOW_SECS, -1.0, floor).is_err());
    assert!(choose_share_difficulty(1e308, 1e10, 1e-300, floor).is_err());
}

/// Shares found in `window_secs` by a Poisson process with the given rate, counted
/// from exponential inter-arrival times (inverse-CDF sampling).
fn simulated_share_count(rng: &mut ChaCha8Rng, shares_per_sec: f64, window_secs: f64) -> u64 {
    let mut elapsed = 0.0;
    let mut count = 0;
    loop {
        // 1 - U lies in (0, 1], so the logarithm is finite.
        elapsed += -(1.0 - rng.random::<f64>()).ln() / shares_per_sec;
        if elapsed > window_secs {
            return count;
        }
        count += 1;
    }
}

fn shares_per_sec(true_hs: f64, difficulty: Difficulty) -> f64 {
    true_hs / (difficulty.value() * HASHES_PER_DIFF1_SHARE)
}

/// 2,000 honest proofs at the product's settings: the 95 % interval must contain the
/// true hashrate in 93-97 % of them, with misses split between both sides.
#[test]
fn interval_covers_the_true_hashrate_95_percent_of_the_time() {
    const PROOFS: u32 = 2000;
    let mut rng = ChaCha8Rng::seed_from_u64(SIMULATION_SEED);
    let chosen = choose_share_difficulty(S19_PRO_HS, WINDOW_SECS, 1600.0, difficulty(1.0)).expect("valid inputs");
    let rate = shares_per_sec(S19_PRO_HS, chosen);

    let (mut below, mut above) = (0u32, 0u32);
    for _ in 0..PROOFS {
        let shares = simulated_share_count(&mut rng, rate, WINDOW_SECS);
        let (low, high) = hashrate_interval(shares, chosen, WINDOW_SECS, Confidence::NINETY_FIVE);
        if S19_PRO_HS < low {
            below += 1;
        } else if S19_PRO_HS > high {
            above += 1;
        }
    }
    let coverage = f64::from(PROOFS - below - above) / f64::from(PROOFS);
    assert!((0.93..=0.97).contains(&coverage), "coverage {coverage}");
    for (side, misses) in [("low", below), ("high", above)] {
        let share = f64::from(misses) / f64::from(PROOFS);
        assert!((0.01..=0.04).contains(&share), "{side} misses {share}");
    }
}

/// 1,000 simulated proofs each: honest rigs all verify, a 3x over-claim never does.
#[test]
fn honest_claims_verify_and_threefold_overclaims_fail() {
    let mut rng = ChaCha8Rng::seed_from_u64(SIMULATION_SEED + 1);
    for (claimed_hs, expected) in [(S19_PRO_HS, VerdictStatus::Verified), (3.0 * S19_PRO_HS, VerdictStatus::Failed)] {
        let chosen = choose_share_difficulty(claimed_hs, WINDOW_SECS, 1600.0, difficulty(1.0)).expect("valid inputs");
        let rate = shares_per_sec(S19_PRO_HS, chosen);
        for _ in 0..1000 {
            let shares = simulated_share_count(&mut rng, rate, WINDOW_SECS);
            let outcome = verdict(shares, chosen, WINDOW_SECS, claimed_hs, DEFAULT_MIN_SHARES).expect("valid inputs");
            assert_eq!(outcome.status, expected, "{shares} shares, claim {claimed_hs}");
        }
    }
}

#[test]
fn verdict_reports_estimate_interval_and_ratio() {
    let chosen = difficulty(9_604.264_050_722_122);
    let outcome = verdict(1600, chosen, WINDOW_SECS, S19_PRO_HS, DEFAULT_MIN_SHARES).expect("valid inputs");
    assert_eq!(outcome.status, VerdictStatus::Verified);
    assert_close(outcome.estimate, S19_PRO_HS, 1e-12, "estimate");
    assert_close(outcome.ratio_to_claim, 1.0, 1e-12, "ratio");
    let per_share = S19_PRO_HS / 1600.0;
    assert_close(outcome.ci95_low, 1_522.552_849_5 * per_share, 1e-9, "low");
    assert_close(outcome.ci95_high, 1_680.365_868_33 * per_share, 1e-9, "high");
}

#[test]
fn the_upper_bound_decides_at_ninety_percent_of_the_claim() {
    let chosen = difficulty(9_604.264_050_722_122);
    let per_share = S19_PRO_HS / 1600.0;
    // 1,366 shares: upper bound 1,440.41 shares, 90.03 % of the 1,600 claimed.
    // 1,365 shares: upper bound 1,439.38 shares, 89.96 %.
    for (shares, expected) in [(1366, VerdictStatus::Verified), (1365, VerdictStatus::Failed)] {
        let outcome = verdict(shares, chosen, WINDOW_SECS, S19_PRO_HS, DEFAULT_MIN_SHARES).expect("valid inputs");
        let upper_fraction = outcome.ci95_high / (1600.0 * per_share);
        assert_eq!(outcome.status, expected, "{shares}: upper at {upper_fraction}");
    }
}

#[test]
fn too_few_shares_never_verify() {
    // A tiny claim that 99 shares would cover many times over still fails.
    let chosen = difficulty(1.0);
    let claimed = 1e6;
    let short = verdict(99, chosen, WINDOW_SECS, claimed, DEFAULT_MIN_SHARES).expect("valid");
    assert!(short.ci95_high > claimed);
    assert_eq!(short.status, VerdictStatus::Failed);
    let enough = verdict(100, chosen, WINDOW_SECS, claimed, DEFAULT_MIN_SHARES).expect("valid");
    assert_eq!(enough.status, VerdictStatus::Verified);
}

#[test]
fn no_shares_fail_with_a_zero_estimate() {
    let outcome = verdict(0, difficulty(1.0), WINDOW_SECS, 1e6, DEFAULT_MIN_SHARES).expect("valid inputs");
    assert_eq!(outcome.status, VerdictStatus::Failed);
    assert_eq!((outcome.estimate, outcome.ci95_low), (0.0, 0.0));
}

#[test]
fn verdict_refuses_nonsense_windows_and_claims() {
    let chosen = difficulty(1.0);
    for (seconds, claimed) in [(0.0, 1e12), (f64::INFINITY, 1e12), (600.0, -1.0), (600.0, f64::NAN)] {
        assert!(verdict(1600, chosen, seconds, claimed, DEFAULT_MIN_SHARES).is_err());
    }
}
