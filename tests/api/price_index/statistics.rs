//! Every statistic the API serves against the same statistic computed here from
//! the raw observations: across UTC day and ISO week boundaries, with `from`/`to`
//! given in non-UTC offsets near midnight, with empty buckets and keys that have
//! observations only outside the range; CSV against JSON; the trigger against a
//! full rebuild.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel_async::RunQueryDsl;
use serde_json::Value;

use super::{
    bucket_starts, bucketed, close, date, get_json_with_key, get_with_key, insert, percentile, random_observations,
    Fixture, Obs,
};
use crate::support::listings::at;
use crate::support::TestApp;

const FROM: &str = "2021-06-01T02:30:00+03:00"; // 2021-05-31T23:30Z: a Monday's bucket starts the range
const TO: &str = "2021-06-20T00:00:00-04:00"; // 2021-06-20T04:00Z: the Sunday June 20 is in

async fn market(app: &TestApp) -> (Fixture, Vec<Obs>) {
    let fixture = Fixture::new(app).await;
    let mut observations =
        random_observations(&fixture.models, &["CN", "KZ", "US"], 500, date("2021-05-24"), 35, date("2021-06-09"), 7);
    // Canada trades only before the range: it must not appear.
    let mut canada = random_observations(&fixture.models, &["CA"], 12, date("2021-05-20"), 10, date("2021-05-31"), 8);
    canada.retain(|o| o.at < at("2021-05-31T00:00:00Z"));
    observations.extend(canada);
    insert(app, fixture.listing, &observations).await;
    (fixture, observations)
}

struct Expected<'a> {
    basis: &'a str,
    interval: &'a str,
    group_by: &'a str,
    tier: Option<&'a str>,
    model: Option<uuid::Uuid>,
    country: Option<&'a str>,
}

impl Expected<'_> {
    fn query(&self) -> String {
        let mut query = format!(
            "group_by={}&basis={}&interval={}&from={}&to={}",
            self.group_by,
            self.basis,
            self.interval,
            urlencode(FROM),
            urlencode(TO)
        );
        if let Some(tier) = self.tier {
            query.push_str(&format!("&tier={tier}"));
        }
        if let Some(model) = self.model {
            query.push_str(&format!("&rig_model_id={model}"));
        }
        if let Some(country) = self.country {
            query.push_str(&format!("&country={country}"));
        }
        query
    }

    fn keeps(&self, o: &Obs) -> bool {
        self.tier.is_none_or(|t| o.tier == t)
            && self.model.is_none_or(|m| o.model == m)
            && self.country.is_none_or(|c| o.country == c)
    }

    fn key(&self, o: &Obs) -> String {
        match self.group_by {
            "tier" => o.tier.clone(),
            "model" => o.model.to_string(),
            _ => o.country.to_string(),
        }
    }

    /// Observations grouped by key and bucket, only buckets the range covers.
    fn buckets<'o>(&self, observations: &'o [Obs], only: impl Fn(&Obs) -> bool) -> Grouped<'o> {
        let starts = bucket_starts(self.interval, at("2021-05-31T23:30:00Z"), at("2021-06-20T04:00:00Z"));
        let mut grouped =
            bucketed(observations.iter().filter(|o| self.keeps(o) && only(o)), self.interval, |o| self.key(o));
        for buckets in grouped.values_mut() {
            buckets.retain(|start, _| starts.contains(start));
        }
        grouped.retain(|_, buckets| !buckets.is_empty());
        (starts, grouped)
    }
}

type Grouped<'o> = (Vec<NaiveDate>, BTreeMap<String, BTreeMap<NaiveDate, Vec<&'o Obs>>>);

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

fn bucket_start(point: &Value) -> NaiveDate {
    let start: DateTime<Utc> = point["bucket_start"].as_str().unwrap().parse().unwrap();
    assert_eq!(start, start.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc(), "buckets start at 00:00 UTC");
    start.date_naive()
}

fn cents(values: Vec<i64>, p: f64) -> Option<f64> {
    percentile(&values, p).map(|c| c / 100.0)
}

fn check_price_series(body: &Value, expected: &Expected, observations: &[Obs]) {
    let (starts, grouped) = expected.buckets(observations, |o| o.basis == expected.basis);
    let series = body["series"].as_array().unwrap();
    let keys: Vec<&str> = series.iter().map(|s| s["key"].as_str().unwrap()).collect();
    let mut sorted_keys = keys.clone();
    sorted_keys.sort();
    assert_eq!(sorted_keys, grouped.keys().map(String::as_str).collect::<Vec<_>>(), "keys of {}", expected.query());
    for one in series {
        let key = one["key"].as_str().unwrap();
        let points = one["points"].as_array().unwrap();
        assert_eq!(points.iter().map(bucket_start).collect::<Vec<_>>(), starts, "{key}: every bucket, in order");
        for point in points {
            let start = bucket_start(point);
            let what = format!("{} {key} {start}", expected.query());
            let obs = grouped[key].get(&start).cloned().unwrap_or_default();
            let usd: Vec<i64> = obs.iter().map(|o| o.usd_cents).collect();
            let discounts: Vec<i64> = obs.iter().filter_map(|o| o.discount_bps).collect();
            assert_eq!(point["count"], obs.len(), "{what}");
            close(&point["median_usd_per_th"], cents(usd.clone(), 0.5), &format!("{what} median"));
            close(&point["p25"], cents(usd.clone(), 0.25), &format!("{what} p25"));
            close(&point["p75"], cents(usd, 0.75), &format!("{what} p75"));
            close(&point["median_discount_pct"], percentile(&discounts, 0.5).map(|b| b / 100.0), &what);
            let fire = obs.iter().filter(|o| o.fire_sale).count() as f64;
            close(&point["fire_sale_share"], (!obs.is_empty()).then(|| fire / obs.len() as f64), &what);
        }
    }
}

#[tokio::test]
async fn series_match_percentiles_computed_from_the_raw_observations() {
    let app = TestApp::builder().at(at("2021-07-01T12:00:00Z")).spawn().await;
    let (fixture, observations) = market(&app).await;
    let [(s19_pro, mid_tier), (_, _), (s9, _), _] = <[_; 4]>::try_from(fixture.models.clone()).unwrap();
    let mut checked_empty = false;
    for basis in ["asking", "settled"] {
        for interval in ["day", "week"] {
            for group_by in ["tier", "model", "country"] {
                let expected = Expected { basis, interval, group_by, tier: None, model: None, country: None };
                let body =
                    get_json_with_key(&app, &format!("/v1/price-index/series?{}", expected.query()), &fixture.key)
                        .await;
                assert_eq!((body["group_by"].as_str(), body["basis"].as_str()), (Some(group_by), Some(basis)));
                assert_eq!(body["interval"], interval);
                check_price_series(&body, &expected, &observations);
                if interval == "day" {
                    // June 9 has no observation at all: present, empty, null.
                    let point = body["series"][0]["points"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|p| bucket_start(p) == date("2021-06-09"))
                        .unwrap()
                        .clone();
                    assert_eq!(point["count"], 0, "{point}");
                    assert!(point["median_usd_per_th"].is_null() && point["fire_sale_share"].is_null(), "{point}");
                    checked_empty = true;
                }
            }
        }
    }
    assert!(checked_empty);

    let filtered = [
        Expected { basis: "asking", interval: "day", group_by: "tier", tier: None, model: None, country: Some("KZ") },
        Expected {
            basis: "asking",
            interval: "week",
            group_by: "country",
            tier: Some(mid_tier.as_str()),
            model: None,
            country: None,
        },
        Expected {
            basis: "settled",
            interval: "day",
            group_by: "model",
            tier: Some(mid_tier.as_str()),
            model: None,
            country: None,
        },
        Expected { basis: "asking", interval: "week", group_by: "model", tier: None, model: None, country: Some("CN") },
        Expected { basis: "asking", interval: "day", group_by: "country", tier: None, model: Some(s9), country: None },
        Expected {
            basis: "asking",
            interval: "week",
            group_by: "tier",
            tier: None,
            model: Some(s19_pro),
            country: Some("US"),
        },
    ];
    for expected in filtered {
        let body = get_json_with_key(&app, &format!("/v1/price-index/series?{}", expected.query()), &fixture.key).await;
        check_price_series(&body, &expected, &observations);
    }

    // Model series are labelled; a model filter in another tier matches nothing.
    let by_model =
        get_json_with_key(&app, "/v1/price-index/series?group_by=model&from=2021-06-01&to=2021-06-19", &fixture.key)
            .await;
    let label_of = |id: uuid::Uuid| {
        by_model["series"].as_array().unwrap().iter().find(|s| s["key"] == id.to_string()).unwrap()["label"].clone()
    };
    assert_eq!(label_of(s19_pro), "Bitmain Antminer S19 Pro");
    let mismatch = format!("/v1/price-index/series?tier=above68&rig_model_id={s19_pro}&from=2021-06-01&to=2021-06-19");
    assert_eq!(get_json_with_key(&app, &mismatch, &fixture.key).await["series"], serde_json::json!([]));
}

#[tokio::test]
async fn fire_sales_match_the_new_listings_of_each_bucket() {
    let app = TestApp::builder().at(at("2021-07-01T12:00:00Z")).spawn().await;
    let (fixture, observations) = market(&app).await;
    for (group_by, interval) in [("country", "week"), ("tier", "day")] {
        let expected = Expected { basis: "asking", interval, group_by, tier: None, model: None, country: None };
        let query = expected.query().replace("&basis=asking", "");
        let body = get_json_with_key(&app, &format!("/v1/price-index/fire-sales?{query}"), &fixture.key).await;
        let (starts, grouped) = expected.buckets(&observations, |o| o.event == "published");
        let series = body["series"].as_array().unwrap();
        assert_eq!(series.len(), grouped.len(), "{body}");
        for one in series {
            let key = one["key"].as_str().unwrap();
            let points = one["points"].as_array().unwrap();
            assert_eq!(points.len(), starts.len());
            for point in points {
                let start = bucket_start(point);
                let what = format!("{group_by} {key} {start}");
                let new = grouped[key].get(&start).cloned().unwrap_or_default();
                let fire: Vec<&&Obs> = new.iter().filter(|o| o.fire_sale).collect();
                assert_eq!(point["new_listings"], new.len(), "{what}");
                assert_eq!(point["fire_sales"], fire.len(), "{what}");
                close(
                    &point["fire_sale_share"],
                    (!new.is_empty()).then(|| fire.len() as f64 / new.len() as f64),
                    &what,
                );
                let discounts: Vec<i64> = new.iter().filter_map(|o| o.discount_bps).collect();
                close(&point["median_discount_pct"], percentile(&discounts, 0.5).map(|b| b / 100.0), &what);
                let fire_discounts: Vec<i64> = fire.iter().filter_map(|o| o.discount_bps).collect();
                close(
                    &point["fire_sale_median_discount_pct"],
                    percentile(&fire_discounts, 0.5).map(|b| b / 100.0),
                    &what,
                );
            }
        }
    }
    let default =
        get_json_with_key(&app, "/v1/price-index/fire-sales?from=2021-06-01&to=2021-06-19", &fixture.key).await;
    assert_eq!((default["group_by"].as_str(), default["interval"].as_str()), (Some("country"), Some("week")));
}

#[tokio::test]
async fn csv_parses_with_a_standard_reader_and_matches_the_json() {
    let app = TestApp::builder().at(at("2021-07-01T12:00:00Z")).spawn().await;
    let (fixture, _) = market(&app).await;
    let path = "/v1/price-index/series?group_by=country&interval=week&from=2021-05-20&to=2021-06-30";
    let json = get_json_with_key(&app, path, &fixture.key).await;
    let by_param = get_with_key(&app, &format!("{path}&format=csv"), &fixture.key).await;
    assert_eq!(by_param.headers()["content-type"], "text/csv; charset=utf-8");
    let by_accept = app
        .client
        .get(app.url(path))
        .header("x-api-key", &fixture.key)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    let text = by_param.text().await.unwrap();
    assert_eq!(by_accept.text().await.unwrap(), text, "Accept: text/csv gives the same CSV");

    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "key",
            "label",
            "bucket_start",
            "median_usd_per_th",
            "p25",
            "p75",
            "count",
            "median_discount_pct",
            "fire_sale_share"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let points: Vec<(&Value, &Value)> = json["series"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["points"].as_array().unwrap().iter().map(move |p| (s, p)))
        .collect();
    assert!(points.len() > 10 && points.iter().any(|(_, p)| p["count"] == 0), "non-trivial, with empty buckets");
    assert_eq!(rows.len(), points.len(), "one row per point");
    for (row, (series, point)) in rows.iter().zip(points) {
        assert_eq!(&row[0], series["key"].as_str().unwrap());
        assert_eq!(&row[1], series["label"].as_str().unwrap());
        assert_eq!(&row[2], point["bucket_start"].as_str().unwrap());
        assert_eq!(row[6].parse::<i64>().unwrap(), point["count"].as_i64().unwrap());
        for (column, field) in
            [(3, "median_usd_per_th"), (4, "p25"), (5, "p75"), (7, "median_discount_pct"), (8, "fire_sale_share")]
        {
            let cell = &row[column];
            match point[field].as_f64() {
                None => assert_eq!(cell, "", "{field}"),
                // serde_json's default float parser may be one ulp off; the text is the same number.
                Some(value) => assert!((cell.parse::<f64>().unwrap() - value).abs() <= 1e-12 * value.abs(), "{field}"),
            }
        }
    }
}

#[tokio::test]
async fn latest_covers_the_trailing_seven_days_per_tier() {
    let now = at("2021-07-01T12:00:40Z");
    let app = TestApp::builder().at(now).spawn().await;
    let fixture = Fixture::new(&app).await;
    let as_of = at("2021-07-01T12:00:00Z");
    let mut observations =
        random_observations(&fixture.models, &["KZ", "US"], 150, date("2021-06-22"), 10, date("2021-06-01"), 11);
    let (model, tier) = fixture.models[2].clone();
    let edge = |at: DateTime<Utc>, usd_cents: i64| Obs {
        basis: "asking",
        event: "published",
        model,
        tier: tier.clone(),
        country: "KZ",
        usd_cents,
        discount_bps: None,
        fire_sale: false,
        at,
    };
    observations.extend([
        edge(as_of - Duration::days(7), 1),
        edge(as_of - Duration::days(7) + Duration::milliseconds(1), 2),
        edge(as_of, 3),
        edge(as_of + Duration::seconds(20), 4),
    ]);
    insert(&app, fixture.listing, &observations).await;

    for basis in ["asking", "settled"] {
        let (status, body) = app.get_json(&format!("/v1/price-index/latest?basis={basis}")).await;
        assert_eq!(status, 200, "{body}");
        let tiers = body.as_array().unwrap();
        assert_eq!(
            tiers.iter().map(|t| t["tier"].as_str().unwrap()).collect::<Vec<_>>(),
            ["under19", "19to25", "25to38", "38to68", "above68"]
        );
        for entry in tiers {
            let tier = entry["tier"].as_str().unwrap();
            let window: Vec<i64> = observations
                .iter()
                .filter(|o| o.basis == basis && o.tier == tier && o.at > as_of - Duration::days(7) && o.at <= as_of)
                .map(|o| o.usd_cents)
                .collect();
            assert_eq!(entry["count"], window.len(), "{tier} {basis}");
            assert_eq!(entry["basis"], basis);
            assert_eq!(
                (entry["window_days"].as_i64(), entry["as_of"].as_str()),
                (Some(7), Some("2021-07-01T12:00:00Z"))
            );
            close(&entry["usd_per_th_median"], cents(window.clone(), 0.5), tier);
            close(&entry["usd_per_th_p25"], cents(window.clone(), 0.25), tier);
            close(&entry["usd_per_th_p75"], cents(window, 0.75), tier);
        }
        assert_eq!(tiers[0]["count"], 0, "no under19 model in the fixture");
        assert!(tiers[0]["usd_per_th_median"].is_null());
    }
}

#[tokio::test]
async fn the_trigger_agrees_with_a_full_rebuild() {
    let app = TestApp::builder().at(at("2021-07-01T12:00:00Z")).spawn().await;
    market(&app).await;
    #[derive(diesel::QueryableByName, PartialEq, Debug)]
    struct Digest {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        buckets: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        digest: String,
    }
    let snapshot = "SELECT count(*) AS buckets, md5(string_agg(b::text, '|' ORDER BY b::text)) AS digest
                      FROM (SELECT basis, period, cell, country, tier, rig_model_id, bucket_start, observations,
                                   fire_sales, discounted, p25_lo, p25_hi, p50_lo, p50_hi, p75_lo, p75_hi,
                                   discount_p50_lo, discount_p50_hi, new_listings, new_fire_sales, new_discounted,
                                   new_discount_p50_lo, new_discount_p50_hi, new_fire_discount_p50_lo,
                                   new_fire_discount_p50_hi FROM price_index_buckets) b";
    let mut conn = app.conn().await;
    let incremental: Digest = diesel::sql_query(snapshot).get_result(&mut *conn).await.unwrap();
    diesel::sql_query("SELECT price_index_rebuild()").execute(&mut *conn).await.unwrap();
    let rebuilt: Digest = diesel::sql_query(snapshot).get_result(&mut *conn).await.unwrap();
    assert!(incremental.buckets > 500, "{incremental:?}");
    assert_eq!(incremental, rebuilt);
}
