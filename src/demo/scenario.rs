//! The demo market as data, with no I/O: the May-July 2021 China exodus drawn
//! from a fixed seed. Sellers in CN and KZ whose hosting contracts end in June or
//! July 2021, buyers in US, CA and KZ, lots across the catalog whose asks slide
//! from the May 7 2021 tier highs (deeper as a seller's deadline nears), price
//! cuts, hashrate proofs and orders that end in every terminal status; then a
//! small market of today (relative to `now`) with orders in every open status.
//! Every id and key is derived from the seed, so a second run names the same
//! things and can skip them.

use crate::db::ids::{ListingId, UserId};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

pub const SEED: u64 = 20_210_507;

#[derive(Debug, Clone)]
pub struct Person {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub company: Option<String>,
    pub country: &'static str,
    pub city: &'static str,
}

#[derive(Debug, Clone)]
pub struct Hosting {
    pub facility: String,
    pub country: &'static str,
    pub contract_ends_on: NaiveDate,
    pub power_off_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Seller {
    pub person: Person,
    pub region: &'static str,
    pub hosting: Option<Hosting>,
}

/// How an order ends (historic orders) or where it stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    /// A dispute settled by an admin with this refund share (bps of the total).
    Resolved {
        refund_bps: i64,
    },
    Cancelled,
    Expired,
    /// Paid, then never shipped: refunded by an admin.
    Refunded,
    AwaitingPayment,
    Paid,
    Shipped,
    Delivered,
    Disputed,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Resolved { .. } => "resolved",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Refunded => "refunded",
            Self::AwaitingPayment => "awaiting_payment",
            Self::Paid => "paid",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Disputed => "disputed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct OrderPlan {
    /// The Idempotency-Key the order is placed with.
    pub key: String,
    pub buyer: usize,
    pub quantity: i32,
    pub placed_at: DateTime<Utc>,
    pub outcome: Outcome,
    /// Gaps between the steps, in hours (payment, shipping, delivery, acceptance or dispute).
    pub step_hours: [i64; 4],
}

#[derive(Debug, Clone)]
pub struct LotPlan {
    pub id: ListingId,
    pub seller: usize,
    pub model: &'static str,
    pub quantity: i32,
    pub published_at: DateTime<Utc>,
    /// Ask below the reference at publication, basis points.
    pub discount_bps: i64,
    /// Later price cuts: when, and by how much of the current price (bps).
    pub cuts: Vec<(DateTime<Utc>, i64)>,
    /// Measured / nominal hashrate of a verified proof before publication.
    pub proof_ratio: Option<f64>,
    pub orders: Vec<OrderPlan>,
    /// Withdrawn by the seller at the end instead of expiring or selling out.
    pub withdrawn: bool,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub admin: Person,
    pub analyst: Person,
    /// The analyst's API key (deterministic: demo data only ever goes to local databases).
    pub analyst_key: String,
    pub sellers: Vec<Seller>,
    pub buyers: Vec<Person>,
    pub lots: Vec<LotPlan>,
}

impl Scenario {
    /// Everyone with a demo account.
    pub fn people(&self) -> impl Iterator<Item = &Person> {
        [&self.admin, &self.analyst]
            .into_iter()
            .chain(self.sellers.iter().map(|seller| &seller.person))
            .chain(&self.buyers)
    }
}

pub fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("a valid demo date")
}

/// The day the May 2021 tier highs were set: the market opens here.
pub fn opening() -> DateTime<Utc> {
    utc(2021, 5, 7, 8)
}

/// Models of 2021 or before that CN and KZ farms sold off.
const HISTORIC_MODELS: [&str; 14] = [
    "Antminer S9",
    "Antminer S17",
    "Antminer S17 Pro",
    "Antminer T17",
    "Antminer S19",
    "Antminer S19 Pro",
    "Antminer S19j",
    "Antminer T19",
    "Whatsminer M20S 62T",
    "Whatsminer M21S",
    "Whatsminer M30S 88T",
    "Whatsminer M31S+ 80T",
    "AvalonMiner 1066",
    "AvalonMiner 1166 Pro",
];
const CURRENT_MODELS: [&str; 6] = [
    "Antminer S19j Pro 100T",
    "Antminer S19 XP",
    "Antminer S21",
    "Whatsminer M50",
    "Avalon A1366",
    "Whatsminer M30S++ 106T",
];

const CN_REGIONS: [(&str, &str); 4] =
    [("Sichuan", "Ya'an"), ("Xinjiang", "Changji"), ("Inner Mongolia", "Ordos"), ("Yunnan", "Kunming")];
const KZ_REGIONS: [(&str, &str); 3] = [("Pavlodar", "Ekibastuz"), ("Pavlodar", "Pavlodar"), ("Almaty", "Kapchagay")];
const BUYER_CITIES: [(&str, &str); 7] = [
    ("US", "Rockdale"),
    ("US", "Dalton"),
    ("US", "Massena"),
    ("CA", "Baie-Comeau"),
    ("CA", "Medicine Hat"),
    ("KZ", "Ekibastuz"),
    ("KZ", "Karaganda"),
];

fn uuid(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

fn person(
    rng: &mut ChaCha8Rng,
    email: String,
    name: String,
    company: Option<String>,
    place: (&'static str, &'static str),
) -> Person {
    Person { id: UserId(uuid(rng)), email, display_name: name, company, country: place.0, city: place.1 }
}

/// The share of the reference a seller under no pressure asks below it: 5 % on
/// May 7, deepening to 40 % by mid-July 2021.
pub fn market_discount_bps(at: DateTime<Utc>) -> i64 {
    let days = (at - opening()).num_days().clamp(0, 70);
    500 + days * 3500 / 70
}

/// The historic orders of a lot: mostly completed, some ending in every other
/// terminal status.
fn historic_orders(
    rng: &mut ChaCha8Rng,
    lot: usize,
    quantity: i32,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    buyers: usize,
) -> Vec<OrderPlan> {
    let mut left = quantity;
    let mut orders = Vec::new();
    let span_hours = (until - from).num_hours();
    if span_hours < 12 {
        return orders;
    }
    for n in 0..rng.random_range(0..=4) {
        let quantity = rng.random_range(5..=60).min(left);
        if quantity <= 0 {
            break;
        }
        let outcome = match rng.random_range(0..20) {
            0..=12 => Outcome::Completed,
            13..=14 => Outcome::Resolved { refund_bps: rng.random_range(1000..=3500) },
            15..=16 => Outcome::Cancelled,
            17..=18 => Outcome::Expired,
            _ => Outcome::Refunded,
        };
        if !matches!(outcome, Outcome::Cancelled | Outcome::Expired) {
            left -= quantity;
        }
        orders.push(OrderPlan {
            key: format!("demo-2021-lot{lot:03}-order{n}"),
            buyer: rng.random_range(0..buyers),
            quantity,
            placed_at: from + Duration::hours(rng.random_range(6..span_hours.max(7))),
            outcome,
            step_hours: [
                rng.random_range(2..=20),
                rng.random_range(20..=70),
                rng.random_range(280..=500),
                rng.random_range(20..=70),
            ],
        });
    }
    orders.sort_by_key(|o| o.placed_at);
    orders
}

pub fn build(now: DateTime<Utc>) -> Scenario {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let admin = person(&mut rng, "admin@demo.rigmarket.test".into(), "Demo moderator".into(), None, ("KZ", "Almaty"));
    let analyst = person(
        &mut rng,
        "analyst@demo.rigmarket.test".into(),
        "Hashprice Research".into(),
        Some("Hashprice Research LLC".into()),
        ("US", "New York"),
    );
    let key_bytes: [u8; 16] = rng.random();
    let analyst_key = format!("rmk_demo_{}", hex::encode(key_bytes));
    // The order of these calls is the seed's: changing it changes the market.
    let sellers = historic_sellers(&mut rng);
    let buyers = buyers(&mut rng);
    let mut lots = historic_lots(&mut rng, &sellers, buyers.len());
    lots.extend(todays_lots(&mut rng, now, buyers.len()));
    Scenario { admin, analyst, analyst_key, sellers, buyers, lots }
}

/// 18 sellers in China and 12 in Kazakhstan, each with a hosting contract
/// ending between June 1 and July 31, 2021.
fn historic_sellers(rng: &mut ChaCha8Rng) -> Vec<Seller> {
    let mut sellers = Vec::new();
    for n in 0..30 {
        let in_china = n < 18;
        let (region, city) = if in_china { CN_REGIONS[n % CN_REGIONS.len()] } else { KZ_REGIONS[n % KZ_REGIONS.len()] };
        let country = if in_china { "CN" } else { "KZ" };
        let ends_on = NaiveDate::from_ymd_opt(2021, 6, 1).expect("a date") + Duration::days(rng.random_range(0..61));
        // Rigs must be out the same day, at midnight local time (UTC+8 in China, UTC+6 in Kazakhstan).
        let power_off_at =
            ends_on.and_time(chrono::NaiveTime::MIN).and_utc() - Duration::hours(if in_china { 8 } else { 6 });
        let facility =
            format!("{city} {} #{}", if in_china { "hydro farm" } else { "data center" }, rng.random_range(1..9));
        sellers.push(Seller {
            person: person(
                rng,
                format!("seller{:02}@demo.rigmarket.test", n + 1),
                format!("{city} Mining {:02}", n + 1),
                Some(format!("{city} Hashpower Co. {:02}", n + 1)),
                (country, city),
            ),
            region,
            hosting: Some(Hosting { facility, country, contract_ends_on: ends_on, power_off_at }),
        });
    }
    sellers
}

fn buyers(rng: &mut ChaCha8Rng) -> Vec<Person> {
    (0..15)
        .map(|n| {
            let place = BUYER_CITIES[n % BUYER_CITIES.len()];
            person(
                rng,
                format!("buyer{:02}@demo.rigmarket.test", n + 1),
                format!("{} Digital {:02}", place.1, n + 1),
                Some(format!("{} Digital Infrastructure", place.1)),
                place,
            )
        })
        .collect()
}

/// Three to five lots per seller, published between May 7 and a week before
/// the seller's deadline, at deepening discounts, with price cuts and orders.
fn historic_lots(rng: &mut ChaCha8Rng, sellers: &[Seller], buyer_count: usize) -> Vec<LotPlan> {
    let mut lots = Vec::new();
    for (s, seller) in sellers.iter().enumerate() {
        let deadline = seller.hosting.as_ref().expect("historic sellers host").power_off_at;
        for _ in 0..rng.random_range(3..=5) {
            let window = (deadline - Duration::days(7) - opening()).num_hours().max(1);
            let published_at = opening() + Duration::hours(rng.random_range(0..window));
            let urgency = if (deadline - published_at).num_days() < 14 { 800 } else { 0 };
            let discount_bps =
                (market_discount_bps(published_at) + urgency + rng.random_range(-500..=500)).clamp(0, 6000);
            let cuts = price_cuts(rng, published_at, deadline);
            let quantity = rng.random_range(20..=300);
            let lot = lots.len();
            let orders = historic_orders(rng, lot, quantity, published_at, deadline - Duration::days(6), buyer_count);
            lots.push(LotPlan {
                id: ListingId(uuid(rng)),
                seller: s,
                model: HISTORIC_MODELS[rng.random_range(0..HISTORIC_MODELS.len())],
                quantity,
                published_at,
                discount_bps,
                cuts,
                proof_ratio: rng.random_bool(0.4).then(|| rng.random_range(0.95..1.03)),
                orders,
                withdrawn: rng.random_bool(0.1),
            });
        }
    }
    lots
}

/// Up to three cuts, two to ten days apart, none in the deadline's last three days.
fn price_cuts(rng: &mut ChaCha8Rng, published_at: DateTime<Utc>, deadline: DateTime<Utc>) -> Vec<(DateTime<Utc>, i64)> {
    let mut cuts = Vec::new();
    let mut at = published_at;
    for _ in 0..rng.random_range(0..=3) {
        at += Duration::hours(rng.random_range(48..=240));
        if at >= deadline - Duration::days(3) {
            break;
        }
        cuts.push((at, rng.random_range(500..=1500)));
    }
    cuts
}

/// Today's market: KZ sellers that stayed, one order each in every open status.
fn todays_lots(rng: &mut ChaCha8Rng, now: DateTime<Utc>, buyer_count: usize) -> Vec<LotPlan> {
    let open = [
        Outcome::AwaitingPayment,
        Outcome::Paid,
        Outcome::Shipped,
        Outcome::Delivered,
        Outcome::Disputed,
        Outcome::Completed,
    ];
    let mut lots = Vec::new();
    for n in 0..12 {
        let seller = 18 + n % 12;
        let published_at = now - Duration::hours(rng.random_range(30..=140));
        let outcome = open[n % open.len()];
        // Placed 12 h ago with short steps, so every order timer still lies ahead.
        let orders = vec![OrderPlan {
            key: format!("demo-now-lot{n:02}-order0"),
            buyer: rng.random_range(0..buyer_count),
            quantity: rng.random_range(2..=20),
            placed_at: now - Duration::hours(12),
            outcome,
            step_hours: [1, 2, 3, 2],
        }];
        lots.push(LotPlan {
            id: ListingId(uuid(rng)),
            seller,
            model: CURRENT_MODELS[n % CURRENT_MODELS.len()],
            quantity: rng.random_range(20..=120),
            published_at,
            discount_bps: rng.random_range(0..=3000),
            cuts: Vec::new(),
            proof_ratio: rng.random_bool(0.5).then(|| rng.random_range(0.96..1.02)),
            orders,
            withdrawn: false,
        });
    }
    lots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_builds_the_same_market() {
        let now = utc(2026, 12, 1, 12);
        let (a, b) = (build(now), build(now));
        assert_eq!(a.analyst_key, b.analyst_key);
        assert_eq!(a.lots.iter().map(|l| l.id).collect::<Vec<_>>(), b.lots.iter().map(|l| l.id).collect::<Vec<_>>());
        assert_eq!(a.sellers.len(), 30);
        assert_eq!(a.buyers.len(), 15);
    }

    #[test]
    fn sellers_are_in_cn_and_kz_with_deadlines_in_june_and_july_2021() {
        let scenario = build(utc(2026, 12, 1, 12));
        for seller in &scenario.sellers {
            assert!(["CN", "KZ"].contains(&seller.person.country));
            let hosting = seller.hosting.as_ref().unwrap();
            assert!((utc(2021, 5, 31, 0)..utc(2021, 8, 1, 0)).contains(&hosting.power_off_at), "{hosting:?}");
        }
        assert!(scenario.buyers.iter().all(|b| ["US", "CA", "KZ"].contains(&b.country)));
        for lot in scenario.lots.iter().filter(|l| l.published_at.date_naive().to_string().starts_with("2021")) {
            let deadline = scenario.sellers[lot.seller].hosting.as_ref().unwrap().power_off_at;
            assert!(lot.published_at >= opening() && lot.published_at < deadline - Duration::days(6), "{lot:?}");
            for order in &lot.orders {
                assert!(order.placed_at < deadline - Duration::days(6) + Duration::hours(1));
            }
        }
    }

    #[test]
    fn discounts_deepen_from_may_to_july() {
        assert_eq!(market_discount_bps(opening()), 500);
        assert!(market_discount_bps(utc(2021, 6, 10, 0)) > market_discount_bps(utc(2021, 5, 20, 0)));
        assert_eq!(market_discount_bps(utc(2021, 7, 20, 0)), 4000);
        let scenario = build(utc(2026, 12, 1, 12));
        let mean = |month: u32| {
            let lots: Vec<_> = scenario
                .lots
                .iter()
                .filter(|l| l.published_at.format("%Y-%m").to_string() == format!("2021-{month:02}"))
                .collect();
            lots.iter().map(|l| l.discount_bps).sum::<i64>() / lots.len() as i64
        };
        assert!(mean(5) < mean(6) && mean(6) < mean(7), "{} {} {}", mean(5), mean(6), mean(7));
    }

    #[test]
    fn orders_end_in_every_status() {
        let scenario = build(utc(2026, 12, 1, 12));
        let outcomes: std::collections::HashSet<&str> =
            scenario.lots.iter().flat_map(|l| l.orders.iter().map(|o| o.outcome.name())).collect();
        for status in [
            "completed",
            "resolved",
            "cancelled",
            "expired",
            "refunded",
            "awaiting_payment",
            "paid",
            "shipped",
            "delivered",
            "disputed",
        ] {
            assert!(outcomes.contains(status), "no {status} order");
        }
    }
}
