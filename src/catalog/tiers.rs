//! Efficiency tiers (Hashrate Index's bands) and hashrate pricing. No I/O:
//! everything here is unit-tested directly.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const HS_PER_TH: i128 = 1_000_000_000_000;

/// Hashrate Index's current efficiency bands in J/TH; lower bounds inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EfficiencyTier {
    #[serde(rename = "under19")]
    Under19,
    #[serde(rename = "19to25")]
    From19To25,
    #[serde(rename = "25to38")]
    From25To38,
    #[serde(rename = "38to68")]
    From38To68,
    #[serde(rename = "above68")]
    Above68,
}

impl EfficiencyTier {
    pub const ALL: [EfficiencyTier; 5] =
        [Self::Under19, Self::From19To25, Self::From25To38, Self::From38To68, Self::Above68];

    pub fn key(self) -> &'static str {
        match self {
            Self::Under19 => "under19",
            Self::From19To25 => "19to25",
            Self::From25To38 => "25to38",
            Self::From38To68 => "38to68",
            Self::Above68 => "above68",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.key() == key)
    }

    pub fn band(self) -> TierBand {
        TierBand::parse(self.key()).expect("current tier keys are valid bands")
    }

    /// The tier of a rig, compared in integers so a 38.0 J/TH rig is exactly `38to68`.
    pub fn of(hashrate_hs: i64, power_w: i32) -> Self {
        Self::ALL.into_iter().find(|t| t.band().contains(hashrate_hs, power_w)).unwrap_or(Self::Above68)
    }
}

/// An efficiency band `[min, max)` in J/TH, named like `under38`, `25to38` or
/// `above68`. Historical tier series use bands that differ from today's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierBand {
    pub key: String,
    pub min_j_per_th: i32,
    pub max_j_per_th: Option<i32>,
}

impl TierBand {
    pub fn parse(key: &str) -> Option<Self> {
        let number = |s: &str| s.parse::<i32>().ok().filter(|n| (1..=100_000).contains(n));
        let (min, max) = if let Some(max) = key.strip_prefix("under") {
            (0, Some(number(max)?))
        } else if let Some(min) = key.strip_prefix("above") {
            (number(min)?, None)
        } else {
            let (min, max) = key.split_once("to")?;
            let (min, max) = (number(min)?, number(max)?);
            if min >= max {
                return None;
            }
            (min, Some(max))
        };
        Some(Self { key: key.to_string(), min_j_per_th: min, max_j_per_th: max })
    }

    /// Whether a rig's efficiency (power / hashrate) falls in this band.
    pub fn contains(&self, hashrate_hs: i64, power_w: i32) -> bool {
        let joules = i128::from(power_w) * HS_PER_TH;
        let at_least_min = i128::from(self.min_j_per_th) * i128::from(hashrate_hs) <= joules;
        let below_max = self.max_j_per_th.is_none_or(|max| joules < i128::from(max) * i128::from(hashrate_hs));
        at_least_min && below_max
    }
}

pub fn efficiency_j_per_th(hashrate_hs: i64, power_w: i32) -> f64 {
    f64::from(power_w) * 1e12 / hashrate_hs as f64
}

/// USD cents for `hashrate_hs` at `cents_per_th`, rounded half up.
pub fn cents_for_hashrate(cents_per_th: i64, hashrate_hs: i64) -> i64 {
    let product = i128::from(cents_per_th) * i128::from(hashrate_hs);
    ((product + HS_PER_TH / 2) / HS_PER_TH) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const TH: i64 = 1_000_000_000_000;

    #[test]
    fn tiers_of_seeded_models_match_their_published_efficiency() {
        assert_eq!(EfficiencyTier::of(200 * TH, 3500), EfficiencyTier::Under19); // S21, 17.5
        assert_eq!(EfficiencyTier::of(140 * TH, 3010), EfficiencyTier::From19To25); // S19 XP, 21.5
        assert_eq!(EfficiencyTier::of(110 * TH, 3250), EfficiencyTier::From25To38); // S19 Pro, 29.5
        assert_eq!(EfficiencyTier::of(130 * TH, 3250), EfficiencyTier::From25To38); // A1366, exactly 25.0
        assert_eq!(EfficiencyTier::of(88 * TH, 3344), EfficiencyTier::From38To68); // M30S, exactly 38.0
        assert_eq!(EfficiencyTier::of(27 * TH / 2, 1323), EfficiencyTier::Above68);
        // S9, 98
    }

    #[test]
    fn bands_parse_from_current_and_historical_keys() {
        let under38 = TierBand::parse("under38").unwrap();
        assert_eq!((under38.min_j_per_th, under38.max_j_per_th), (0, Some(38)));
        assert!(under38.contains(110 * TH, 3250));
        assert!(!under38.contains(88 * TH, 3344));
        assert_eq!(TierBand::parse("above68").unwrap().max_j_per_th, None);
        for bad in ["", "under", "38to25", "38to38", "abovex", "19-25", "under-5"] {
            assert!(TierBand::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn hashrate_pricing_rounds_half_up() {
        assert_eq!(cents_for_hashrate(11925, 110 * TH), 1_311_750); // $119.25/TH x 110 TH
        assert_eq!(cents_for_hashrate(1, TH / 2), 1); // 0.5 cent rounds up
        assert_eq!(cents_for_hashrate(1, TH / 2 - 1), 0);
    }
}
