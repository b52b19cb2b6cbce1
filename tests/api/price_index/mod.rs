//! The price index: observations recorded by the listing and order paths, series,
//! fire sales and latest values checked against statistics the tests compute
//! themselves from the raw observations (sorted, interpolated by the definition
//! of percentile_cont, bucketed by UTC day or ISO week), CSV against JSON, and
//! access: keys, quotas, ETags, bad input.

mod access;
mod answers;
mod demo;
mod materialize;
mod recording;
mod statistics;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rigmarket::db::schema::{price_observations, rig_models};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::listings::{create_listing, id_of};
use crate::support::TestApp;

/// A raw observation as the tests know it.
#[derive(Debug, Clone)]
pub struct Obs {
    pub basis: &'static str,
    pub event: &'static str,
    pub model: Uuid,
    pub tier: String,
    pub country: &'static str,
    pub usd_cents: i64,
    pub discount_bps: Option<i64>,
    pub fire_sale: bool,
    pub at: DateTime<Utc>,
}

pub struct Fixture {
    pub listing: Uuid,
    /// (model id, catalog tier): two models of 25to38, one of above68, one of 19to25.
    pub models: Vec<(Uuid, String)>,
    pub key: String,
}

impl Fixture {
    pub async fn new(app: &TestApp) -> Self {
        let (_, seller) = app.create_user("index-seller@rigmarket.test", &[]).await;
        let listing = create_listing(app, &seller, json!({})).await;
        let mut conn = app.conn().await;
        let mut models = Vec::new();
        for name in ["Antminer S19 Pro", "Avalon A1346", "Antminer S9", "Antminer S19 XP"] {
            let model: (Uuid, String) = rig_models::table
                .filter(rig_models::name.eq(name))
                .select((rig_models::id, rig_models::tier))
                .first(&mut *conn)
                .await
                .unwrap_or_else(|e| panic!("seeded model {name}: {e}"));
            models.push(model);
        }
        let tiers: std::collections::HashSet<_> = models.iter().map(|m| m.1.clone()).collect();
        assert_eq!(tiers.len(), 3, "the fixture models span three tiers: {models:?}");
        drop(conn);
        let (_, reader) = app.create_user("index-reader@rigmarket.test", &[]).await;
        Self { listing: id_of(&listing).parse().unwrap(), models, key: api_key(app, &reader, 6000).await }
    }
}

pub async fn api_key(app: &TestApp, token: &str, requests_per_minute: i32) -> String {
    let body = json!({"name": "index desk", "requests_per_minute": requests_per_minute});
    let response = app.post_json("/v1/me/api-keys", Some(token), &body).await;
    assert_eq!(response.status().as_u16(), 201);
    response.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_string()
}

pub async fn insert(app: &TestApp, listing: Uuid, observations: &[Obs]) {
    let mut conn = app.conn().await;
    insert_on(&mut conn, listing, observations).await;
}

/// [`insert`] on a connection of the caller's (in its open transaction, if any).
pub async fn insert_on(conn: &mut diesel_async::AsyncPgConnection, listing: Uuid, observations: &[Obs]) {
    for o in observations {
        diesel::insert_into(price_observations::table)
            .values((
                price_observations::basis.eq(o.basis),
                price_observations::event.eq(o.event),
                price_observations::listing_id.eq(listing),
                price_observations::order_id.eq((o.basis == "settled").then(Uuid::new_v4)),
                price_observations::rig_model_id.eq(o.model),
                price_observations::tier.eq(&o.tier),
                price_observations::country.eq(o.country),
                price_observations::units.eq(1),
                price_observations::unit_price_cents.eq(100_000),
                price_observations::hashrate_hs.eq(100_000_000_000_000_i64),
                price_observations::usd_per_th_cents.eq(o.usd_cents),
                price_observations::discount_bps.eq(o.discount_bps),
                price_observations::fire_sale.eq(o.fire_sale),
                price_observations::observed_at.eq(o.at),
            ))
            .execute(conn)
            .await
            .expect("insert an observation");
    }
}

/// `count` observations between `first_day` and `first_day + days`, seeded, with
/// many on the edges of UTC midnight and repeated values. No observation at all
/// falls on `skip_day`.
pub fn random_observations(
    models: &[(Uuid, String)],
    countries: &[&'static str],
    count: usize,
    first_day: NaiveDate,
    days: u64,
    skip_day: NaiveDate,
    seed: u64,
) -> Vec<Obs> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let day = first_day + Days::new(rng.random_range(0..days));
        if day == skip_day {
            continue;
        }
        let midnight = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
        let at = match rng.random_range(0..4) {
            0 => midnight,
            1 => midnight + chrono::Duration::milliseconds(86_400_000 - 1),
            _ => midnight + chrono::Duration::seconds(rng.random_range(0..86_400)),
        };
        let (model, tier) = models[rng.random_range(0..models.len())].clone();
        let (basis, event) = match rng.random_range(0..20) {
            0..=4 => ("settled", "order_settled"),
            5..=11 => ("asking", "published"),
            _ => ("asking", "price_changed"),
        };
        // Few distinct values, so ties are common.
        let usd_cents =
            if rng.random_bool(0.6) { 3000 + 25 * rng.random_range(0..8) } else { rng.random_range(800..9000) };
        let discount_bps = rng.random_bool(0.8).then(|| rng.random_range(-500..4500));
        out.push(Obs {
            basis,
            event,
            model,
            tier,
            country: countries[rng.random_range(0..countries.len())],
            usd_cents,
            discount_bps,
            fire_sale: discount_bps.is_some_and(|d| d >= 2000),
            at,
        });
    }
    out
}

/// percentile_cont by its definition: linear interpolation between the order
/// statistics around p * (n - 1).
pub fn percentile(values: &[i64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let position = p * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let lo = sorted[below] as f64;
    Some(lo + (sorted[above] as f64 - lo) * (position - below as f64))
}

pub fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

pub fn day_of(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

pub fn week_of(at: DateTime<Utc>) -> NaiveDate {
    let day = at.date_naive();
    day - Days::new(day.weekday().num_days_from_monday() as u64)
}

/// Every bucket start overlapping [from, to).
pub fn bucket_starts(interval: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<NaiveDate> {
    let (mut start, step) = if interval == "week" { (week_of(from), 7) } else { (day_of(from), 1) };
    let mut starts = Vec::new();
    while start.and_hms_opt(0, 0, 0).unwrap().and_utc() < to {
        starts.push(start);
        start = start + Days::new(step);
    }
    starts
}

/// Observations grouped by series key and bucket.
pub fn bucketed<'a>(
    observations: impl Iterator<Item = &'a Obs>,
    interval: &str,
    key: impl Fn(&Obs) -> String,
) -> BTreeMap<String, BTreeMap<NaiveDate, Vec<&'a Obs>>> {
    let mut out: BTreeMap<String, BTreeMap<NaiveDate, Vec<&Obs>>> = BTreeMap::new();
    for o in observations {
        let start = if interval == "week" { week_of(o.at) } else { day_of(o.at) };
        out.entry(key(o)).or_default().entry(start).or_default().push(o);
    }
    out
}

pub fn close(actual: &Value, expected: Option<f64>, what: &str) {
    match expected {
        None => assert!(actual.is_null(), "{what}: expected null, got {actual}"),
        Some(expected) => {
            let actual = actual.as_f64().unwrap_or_else(|| panic!("{what}: expected {expected}, got {actual}"));
            assert!((actual - expected).abs() < 1e-9, "{what}: expected {expected}, got {actual}");
        }
    }
}

pub async fn get_with_key(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.client.get(app.url(path)).header("x-api-key", key).send().await.expect("request sent")
}

pub async fn get_json_with_key(app: &TestApp, path: &str, key: &str) -> Value {
    let response = get_with_key(app, path, key).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}
