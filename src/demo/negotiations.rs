//! Negotiated lots in today's demo market (product section H): on eight of
//! today's lots a buyer's offer ends accepted (after a seller counter; the
//! order awaits payment), declined, expired, or stands open after being
//! countered twice. Written through the offers code itself at historic times,
//! under Idempotency-Keys derived from the seed, so a second run replays
//! instead of offering again.

use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::scenario::{LotPlan, Person, Scenario};
use crate::accounts::AuthUser;
use crate::db::ids::UserId;
use crate::idempotency::{self, KeyUse};
use crate::offers::actions::{self, Move};
use crate::offers::make::{self, Made};
use crate::offers::model::{MakeOffer, ThreadRow};
use crate::offers::terms::Terms;
use crate::offers::OfferExpiry;
use crate::orders::model::{PaymentMethod, ShippingAddress};
use crate::orders::OrderContext;

/// How a demo negotiation ends, or stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Accepted,
    Declined,
    Expired,
    CounteredTwice,
}

impl Ending {
    pub fn name(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::CounteredTwice => "countered twice",
        }
    }
}

pub struct NegotiationPlan {
    pub key: String,
    /// Index into `Scenario::lots`.
    pub lot: usize,
    pub buyer: usize,
    pub quantity: i32,
    pub started_at: DateTime<Utc>,
    pub ending: Ending,
}

/// Two negotiations of each ending on today's lots with units to spare.
pub fn plan(scenario: &Scenario, now: DateTime<Utc>) -> Vec<NegotiationPlan> {
    let endings = [Ending::Accepted, Ending::Declined, Ending::Expired, Ending::CounteredTwice];
    let todays = scenario.lots.iter().enumerate().filter(|(_, lot)| is_todays(lot) && units_left(lot) >= 3);
    todays
        .take(8)
        .enumerate()
        .map(|(n, (index, lot))| {
            let ending = endings[n % endings.len()];
            let hours_ago = match ending {
                Ending::Accepted => 10,
                Ending::Declined => 30,
                Ending::Expired => 60,
                Ending::CounteredTwice => 6,
            };
            NegotiationPlan {
                key: format!("demo-offer-{n:02}"),
                lot: index,
                // Buyers other than the lot's own order's.
                buyer: (lot.orders[0].buyer + 1 + n) % scenario.buyers.len(),
                quantity: 1 + (n as i32 % 3).min(units_left(lot) - 1),
                started_at: now - Duration::hours(hours_ago),
                ending,
            }
        })
        .collect()
}

fn is_todays(lot: &LotPlan) -> bool {
    lot.orders.first().is_some_and(|o| o.key.starts_with("demo-now-"))
}

fn units_left(lot: &LotPlan) -> i32 {
    lot.quantity - lot.orders.iter().map(|o| o.quantity).sum::<i32>()
}

fn address(person: &Person) -> ShippingAddress {
    ShippingAddress {
        name: person.display_name.clone(),
        line1: "7 Transformer Yard".into(),
        line2: None,
        city: person.city.into(),
        postal_code: "100002".into(),
        country: person.country.into(),
        phone: "+1 512 555 0101".into(),
    }
}

fn terms(
    quantity: i32,
    unit_price_cents: i64,
    message: &str,
    expires_in: Option<i64>,
    ship_by: DateTime<Utc>,
) -> Terms {
    Terms {
        quantity,
        unit_price_cents,
        doa_allowance_pct: Some(2),
        ship_by: Some(ship_by),
        message: Some(message.to_string()),
        expires_in,
    }
}

/// Writes one negotiation in one transaction; `None` when its key was already
/// used (an earlier run) or the lot could not take it.
pub async fn write(
    conn: &mut AsyncPgConnection,
    ctx: &OrderContext,
    plan: &NegotiationPlan,
    lot: &LotPlan,
    buyer: &AuthUser,
    buyer_person: &Person,
    seller_id: UserId,
) -> anyhow::Result<Option<ThreadRow>> {
    conn.transaction(async |conn| {
        let Some(listing) = crate::listings::queries::find(conn, lot.id).await? else { return Ok(None) };
        let price = |pct: i64| listing.unit_price_cents * pct / 100;
        let at = |hours: i64| plan.started_at + Duration::hours(hours);
        let ship_by = plan.started_at + Duration::days(14);
        let q = plan.quantity;
        let body = MakeOffer {
            terms: terms(q, price(85), "The lot as it stands, shipped within two weeks.", None, ship_by),
            payment_method: PaymentMethod::Wire,
            shipping_address: address(buyer_person),
        };
        let route = format!("{} {}", make::ROUTE, listing.id);
        let hash = idempotency::request_hash(&route, &body);
        let key = KeyUse { user: buyer.id(), key: &plan.key, request_hash: &hash };
        let thread = match make::make(ctx, conn, buyer, listing.id, key, &body, plan.started_at).await {
            Ok(Made::New(thread)) => *thread,
            Ok(Made::Replayed(_)) => return Ok(None),
            Err(err) => {
                tracing::debug!(offer.key = %plan.key, error = %err, "demo offer refused");
                return Ok(None);
            }
        };
        let act = async |conn: &mut AsyncPgConnection, user: UserId, mv: Move, now| {
            actions::act(ctx, conn, thread.id, user, mv, now)
                .await
                .map_err(|err| anyhow::anyhow!("demo negotiation {}: {err}", plan.key))
        };
        let counter = |pct: i64, message: &str| Move::Counter(terms(q, price(pct), message, None, ship_by));
        let done = match plan.ending {
            Ending::Accepted => {
                act(conn, seller_id, counter(93, "93 % and it is yours."), at(1)).await?;
                act(conn, buyer.id(), Move::Accept, at(2)).await?
            }
            Ending::Declined => {
                let reason = "Below what the hosting contract lets me take.".to_string();
                act(conn, seller_id, Move::Decline(Some(reason)), at(1)).await?
            }
            Ending::Expired => {
                let expiry = OfferExpiry { thread_id: thread.id, n: thread.latest_n };
                crate::offers::timers::expire(conn, expiry, thread.expires_at).await?;
                crate::offers::queries::find(conn, thread.id).await?.ok_or(diesel::NotFound)?
            }
            Ending::CounteredTwice => {
                act(conn, seller_id, counter(96, "I can come down a little."), at(1)).await?;
                act(conn, buyer.id(), counter(90, "Meet me at 90 %?"), at(2)).await?
            }
        };
        Ok(Some(done))
    })
    .await
}
