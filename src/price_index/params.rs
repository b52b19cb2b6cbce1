//! The query strings of the price-index endpoints, validated into a
//! [`Selection`]: which bucket cell answers the request, with which filters, over
//! which buckets. Deciding the cell is pure and unit-tested.

use actix_web::HttpRequest;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::stats::{Interval, RangeError, TimeRange};
use crate::catalog::tiers::EfficiencyTier;
use crate::db::ids::RigModelId;
use crate::error::{ApiError, ApiResult};

/// Asking prices (publications and price changes of live listings) or settled
/// prices (what sellers were paid per unit on completed or resolved orders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    #[default]
    Asking,
    Settled,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asking => "asking",
            Self::Settled => "settled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Tier,
    Model,
    Country,
}

impl GroupBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tier => "tier",
            Self::Model => "model",
            Self::Country => "country",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Csv,
}

/// The aggregate rows that answer a request (the `cell` column of `price_index_buckets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Tier,
    Country,
    Model,
    TierCountry,
    ModelCountry,
}

impl Cell {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tier => "tier",
            Self::Country => "country",
            Self::Model => "model",
            Self::TierCountry => "tier_country",
            Self::ModelCountry => "model_country",
        }
    }

    pub fn has_tier(self) -> bool {
        matches!(self, Self::Tier | Self::TierCountry)
    }

    pub fn has_model(self) -> bool {
        matches!(self, Self::Model | Self::ModelCountry)
    }

    /// The narrowest cell that groups by `group_by` and can apply every filter
    /// given. A model implies its tier, so a model filter selects model cells and
    /// a tier filter on them is checked against the catalog.
    pub fn for_request(group_by: GroupBy, tier: bool, model: bool, country: bool) -> Self {
        let by_country = country || group_by == GroupBy::Country;
        if model || group_by == GroupBy::Model {
            return if by_country { Self::ModelCountry } else { Self::Model };
        }
        match (tier || group_by == GroupBy::Tier, by_country) {
            (true, true) => Self::TierCountry,
            (true, false) => Self::Tier,
            _ => Self::Country,
        }
    }
}

/// `GET /v1/price-index/series`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesParams {
    /// One series per efficiency tier (default), rig model or country.
    #[param(inline)]
    pub group_by: Option<GroupBy>,
    /// Only this efficiency tier.
    #[param(inline)]
    pub tier: Option<EfficiencyTier>,
    /// Only this rig model.
    #[param(value_type = Option<uuid::Uuid>)]
    pub rig_model_id: Option<RigModelId>,
    /// Only rigs located in this country (ISO 3166-1 alpha-2).
    #[param(example = "KZ")]
    pub country: Option<String>,
    /// `asking` (default) or `settled`.
    #[param(inline)]
    pub basis: Option<Basis>,
    /// `day` (default, UTC days) or `week` (ISO weeks from Monday 00:00 UTC).
    #[param(inline)]
    pub interval: Option<Interval>,
    /// Start: RFC 3339 with any offset, or `YYYY-MM-DD` (00:00 UTC). Default: 90 days before `to`.
    #[param(example = "2021-05-01")]
    pub from: Option<String>,
    /// End (exclusive): RFC 3339, or `YYYY-MM-DD` meaning the end of that UTC day. Default: now. At most 36 months after `from`.
    #[param(example = "2021-07-31")]
    pub to: Option<String>,
    /// `json` (default) or `csv` (also chosen by `Accept: text/csv`).
    #[param(inline)]
    pub format: Option<Format>,
}

/// `GET /v1/price-index/fire-sales`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FireSaleParams {
    /// One series per country (default), efficiency tier or rig model.
    #[param(inline)]
    pub group_by: Option<GroupBy>,
    #[param(inline)]
    pub tier: Option<EfficiencyTier>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub rig_model_id: Option<RigModelId>,
    #[param(example = "CN")]
    pub country: Option<String>,
    /// `week` (default) or `day`.
    #[param(inline)]
    pub interval: Option<Interval>,
    /// As for the series.
    pub from: Option<String>,
    pub to: Option<String>,
    #[param(inline)]
    pub format: Option<Format>,
}

/// `GET /v1/price-index/latest`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LatestParams {
    /// `asking` (default) or `settled`.
    #[param(inline)]
    pub basis: Option<Basis>,
}

/// A validated request for bucket rows.
#[derive(Debug, Clone)]
pub struct Selection {
    pub group_by: GroupBy,
    pub cell: Cell,
    pub tier: Option<EfficiencyTier>,
    pub rig_model_id: Option<RigModelId>,
    pub country: Option<String>,
    pub interval: Interval,
    pub range: TimeRange,
    /// Every bucket start overlapping the range, oldest first.
    pub buckets: Vec<NaiveDate>,
}

impl Selection {
    /// Where the bucket starting at `start` sits in [`Self::buckets`], if the
    /// selection covers it: the buckets are consecutive, one interval apart.
    pub fn position(&self, start: NaiveDate) -> Option<usize> {
        let first = *self.buckets.first()?;
        let step = self.interval.days() as i64;
        let offset = (start - first).num_days();
        let at = usize::try_from(offset / step).ok()?;
        (offset % step == 0 && self.buckets.get(at) == Some(&start)).then_some(at)
    }
}

pub struct Filters<'a> {
    pub group_by: GroupBy,
    pub tier: Option<EfficiencyTier>,
    pub rig_model_id: Option<RigModelId>,
    pub country: Option<&'a str>,
    pub interval: Interval,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
}

impl Filters<'_> {
    pub fn select(self, now: DateTime<Utc>) -> ApiResult<Selection> {
        let country = match self.country.map(|c| c.trim().to_ascii_uppercase()) {
            Some(code) if !crate::geo::is_country_code(&code) => {
                return Err(ApiError::validation("country", "must be an ISO 3166-1 alpha-2 country code"))
            }
            other => other,
        };
        let range = TimeRange::parse(self.from, self.to, now).map_err(|err| match err {
            RangeError::Unparseable(field) => {
                ApiError::validation(field, "must be an RFC 3339 timestamp or a YYYY-MM-DD date")
            }
            RangeError::Empty => ApiError::unprocessable("invalid_time_range", "`from` must be before `to`."),
            RangeError::TooLong => ApiError::unprocessable(
                "time_range_too_long",
                format!("A series covers at most {} months.", super::stats::MAX_RANGE_MONTHS),
            ),
        })?;
        let cell =
            Cell::for_request(self.group_by, self.tier.is_some(), self.rig_model_id.is_some(), country.is_some());
        Ok(Selection {
            group_by: self.group_by,
            cell,
            tier: self.tier,
            rig_model_id: self.rig_model_id,
            country,
            interval: self.interval,
            buckets: self.interval.buckets(range.from, range.to),
            range,
        })
    }
}

/// CSV when asked by `format=csv`, or by `Accept: text/csv` without a `format`.
pub fn wants_csv(format: Option<Format>, req: &HttpRequest) -> bool {
    match format {
        Some(format) => format == Format::Csv,
        None => req
            .headers()
            .get(actix_web::http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.split(',').any(|kind| kind.trim().starts_with("text/csv"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_start_is_placed_only_where_the_selection_has_it() {
        let now = DateTime::parse_from_rfc3339("2021-07-01T00:00:00Z").unwrap().to_utc();
        let select = |interval| {
            let filters = Filters {
                group_by: GroupBy::Tier,
                tier: None,
                rig_model_id: None,
                country: None,
                interval,
                from: Some("2021-06-02"),
                to: Some("2021-06-20"),
            };
            filters.select(now).unwrap()
        };
        let date = |text: &str| text.parse::<NaiveDate>().unwrap();
        let days = select(Interval::Day);
        assert_eq!(days.position(date("2021-06-02")), Some(0));
        assert_eq!(days.position(date("2021-06-20")), Some(18));
        assert_eq!(days.position(date("2021-06-21")), None, "after the range");
        assert_eq!(days.position(date("2021-06-01")), None, "before it");
        let weeks = select(Interval::Week);
        assert_eq!(weeks.buckets.first(), Some(&date("2021-05-31")), "the Monday of June 2");
        assert_eq!(weeks.position(date("2021-06-14")), Some(2));
        assert_eq!(weeks.position(date("2021-06-15")), None, "not a week's start");
        assert_eq!(weeks.position(date("2021-05-24")), None);
    }

    #[test]
    fn the_cell_can_apply_every_filter() {
        use Cell::*;
        use GroupBy as G;
        let cell = Cell::for_request;
        assert_eq!(cell(G::Tier, false, false, false), Tier);
        assert_eq!(cell(G::Tier, true, false, false), Tier);
        assert_eq!(cell(G::Tier, false, false, true), TierCountry);
        assert_eq!(cell(G::Tier, false, true, false), Model);
        assert_eq!(cell(G::Tier, true, true, true), ModelCountry);
        assert_eq!(cell(G::Country, false, false, false), Country);
        assert_eq!(cell(G::Country, true, false, false), TierCountry);
        assert_eq!(cell(G::Country, false, true, false), ModelCountry);
        assert_eq!(cell(G::Country, false, false, true), Country);
        assert_eq!(cell(G::Model, false, false, false), Model);
        assert_eq!(cell(G::Model, true, false, false), Model);
        assert_eq!(cell(G::Model, false, false, true), ModelCountry);
        for cell in [Tier, Country, Model, TierCountry, ModelCountry] {
            assert!(!(cell.has_tier() && cell.has_model()), "{cell:?}");
        }
    }
}
