//! Placing an order: in one transaction, claim the Idempotency-Key, reserve the
//! units under the listing's row lock, snapshot price, reference, discount and
//! fee, and write the order with its event, emails and payment timers. A BTCPay
//! invoice is created right after the commit (never while the listing is locked),
//! with a timer as the fallback when BTCPay is unreachable.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rand::Rng;

use super::context::OrderContext;
use super::deadlines;
use super::input::PlaceOrder;
use super::model::{NewOrder, OrderRow, PaymentMethod};
use super::money::fee_on;
use super::queries::{self, Actor, NewEvent};
use super::schedule::{self, Timer};
use super::state::{ActorRole, OrderStatus};
use super::view;
use crate::accounts::{AuthUser, Contact};
use crate::catalog::discount::discount_bps;
use crate::config::OrderSettings;
use crate::db::ids::OrderId;
use crate::error::ApiError;
use crate::idempotency::{self, KeyUse, Replay};
use crate::listings::lifecycle::ListingStatus;
use crate::listings::model::ListingRow;
use crate::listings::stock::{self, ReserveRefusal};

/// Orders need this much time before the listing's ship cutoff.
pub(super) const MIN_TIME_BEFORE_CUTOFF: chrono::Duration = chrono::Duration::hours(1);
/// The invoice timer gives the inline attempt a head start.
const INVOICE_RETRY_AFTER: chrono::Duration = chrono::Duration::seconds(30);

pub const ROUTE: &str = "POST /v1/orders";

/// A reference a human can copy onto a wire transfer: `RM-XXXX-XXXX` in
/// Crockford base32 (no I, L, O, U).
pub fn payment_reference() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    let mut part = || (0..4).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect::<String>();
    format!("RM-{}-{}", part(), part())
}

pub(super) fn refusal(refusal: ReserveRefusal, quantity: i32) -> ApiError {
    match refusal {
        ReserveRefusal::NotFound => crate::listings::listing_not_found(),
        ReserveRefusal::NotBuyable => {
            ApiError::conflict("listing_not_buyable", "This listing is not on sale (it may be sold out or closed).")
        }
        ReserveRefusal::Insufficient { available } => ApiError::conflict(
            "insufficient_quantity",
            format!("Only {available} unit(s) are available; {quantity} were asked for."),
        ),
        ReserveRefusal::PriceChanged => {
            ApiError::conflict("listing_changed", "The listing's price changed while ordering; review it and retry.")
        }
    }
}

/// The answer to `POST /v1/orders`: a new order with the answer stored for its
/// key, or the stored answer to a replay.
pub enum Placed {
    New { order: Box<OrderRow>, answer: serde_json::Value },
    Replayed(Replay),
}

pub async fn place(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    buyer: &AuthUser,
    key: KeyUse<'_>,
    body: &PlaceOrder,
    now: DateTime<Utc>,
) -> Result<Placed, ApiError> {
    conn.transaction(async |conn| {
        if let Some(replay) = idempotency::claim(conn, key).await? {
            return Ok(Placed::Replayed(replay));
        }
        let (listing, seller) = buyable_listing(conn, buyer, body, now).await?;
        let terms = OrderTerms::asking(body, &listing);
        let addresses = Addresses { buyer: &buyer.account.email, seller: &seller.email };
        let order = insert_order(&ctx.settings, conn, buyer.id(), &terms, &listing, addresses, now).await?;
        // Last, the steps whose locks are held to the commit, so that orders
        // queue on them only for a few statements: the listing's row (every buyer
        // of a hot lot), then each party's inbox (a seller's is shared by all of
        // their lots). Always in that order, as every order transition takes them.
        // A refusal here rolls back everything above.
        let lot = stock::reserve(conn, listing.id, body.quantity, listing.unit_price_cents, now)
            .await?
            .map_err(|r| refusal(r, body.quantity))?;
        // A lot sold by serial reserves that many of its units too, under the same lock.
        let units = if lot.sold_by_serial() {
            crate::units::allocation::reserve(conn, lot.id, order.id, body.quantity, now).await?;
            crate::units::allocation::of_orders(conn, &[order.id]).await?.remove(&order.id)
        } else {
            None
        };
        let labels = view::Labels {
            listing_title: &listing.title,
            buyer_name: &buyer.account.display_name,
            seller_name: &seller.display_name,
        };
        let answer = serde_json::to_value(view::view_of(ctx, &order, labels, units)).map_err(anyhow::Error::from)?;
        // The event (with the inbox locks) and the stored answer are independent:
        // sent together, pipelined, they cost the locked section one round trip.
        let shared: &AsyncPgConnection = conn;
        futures_util::try_join!(
            async {
                let placed = OrderStatus::AwaitingPayment;
                super::published::record(shared, &order, None, placed, "placed", now).await.map_err(ApiError::from)
            },
            async { Ok(idempotency::store(shared, key, 201, &answer, Some(order.id), now).await?) },
        )?;
        tracing::info!(order.id = %order.id, listing.id = %listing.id, quantity = order.quantity, "order placed");
        Ok(Placed::New { order: Box::new(order), answer })
    })
    .await
}

/// The listing and its seller, if it can be bought now (read without a lock;
/// the reservation re-checks under the lock). Refusing here spares a doomed
/// order its writes.
async fn buyable_listing(
    conn: &mut AsyncPgConnection,
    buyer: &AuthUser,
    body: &PlaceOrder,
    now: DateTime<Utc>,
) -> Result<(ListingRow, Contact), ApiError> {
    let listing =
        crate::listings::queries::find(conn, body.listing_id).await?.ok_or_else(crate::listings::listing_not_found)?;
    let seller = crate::accounts::contact(conn, listing.seller_id).await?;
    if seller.suspended {
        return Err(crate::listings::listing_not_found());
    }
    if listing.seller_id == buyer.id() {
        return Err(ApiError::forbidden("own_listing", "You cannot buy your own listing."));
    }
    if deadlines::ship_cutoff(listing.power_off_at).is_some_and(|cutoff| cutoff <= now + MIN_TIME_BEFORE_CUTOFF) {
        return Err(ApiError::conflict(
            "hosting_deadline_too_close",
            "The rigs are powered off too soon for payment and shipping to complete safely.",
        ));
    }
    match listing.status() {
        ListingStatus::Active if listing.quantity_available >= body.quantity => Ok((listing, seller)),
        ListingStatus::Active | ListingStatus::SoldOut => {
            Err(refusal(ReserveRefusal::Insufficient { available: listing.quantity_available.max(0) }, body.quantity))
        }
        _ => Err(refusal(ReserveRefusal::NotBuyable, body.quantity)),
    }
}

/// Where an order's emails go.
pub(super) struct Addresses<'a> {
    pub buyer: &'a str,
    pub seller: &'a str,
}

/// What an order is made on: the listing's asking price (placement) or the
/// terms agreed in an offer (`agreed.rs`).
pub(super) struct OrderTerms<'a> {
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub payment_method: PaymentMethod,
    pub shipping_address: &'a super::model::ShippingAddress,
    pub doa_allowance_pct: i32,
    pub agreed_ship_by: Option<DateTime<Utc>>,
    pub offer_thread_id: Option<uuid::Uuid>,
}

impl<'a> OrderTerms<'a> {
    fn asking(body: &'a PlaceOrder, listing: &ListingRow) -> Self {
        Self {
            quantity: body.quantity,
            unit_price_cents: listing.unit_price_cents,
            payment_method: body.payment_method,
            shipping_address: &body.shipping_address,
            doa_allowance_pct: listing.doa_allowance_pct,
            agreed_ship_by: None,
            offer_thread_id: None,
        }
    }
}

/// Writes the order with its snapshot of `listing` and `terms`, its history
/// entry, and its emails and timers (one insert). The caller records its
/// domain event (`published::record`) once it holds the listing's lock.
pub(super) async fn insert_order(
    settings: &OrderSettings,
    conn: &mut AsyncPgConnection,
    buyer_id: crate::db::ids::UserId,
    body: &OrderTerms<'_>,
    listing: &ListingRow,
    addresses: Addresses<'_>,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let subtotal = body
        .unit_price_cents
        .checked_mul(i64::from(body.quantity))
        .ok_or_else(|| ApiError::validation("quantity", "the total is too large"))?;
    let fee_bps = settings.platform_fee_bps;
    let pay_by = deadlines::pay_by(now, settings.payment_window, listing.power_off_at);
    let shipping_address = serde_json::to_value(body.shipping_address).map_err(anyhow::Error::from)?;
    let new_order = NewOrder {
        id: OrderId::new(),
        listing_id: listing.id,
        buyer_id,
        seller_id: listing.seller_id,
        status: OrderStatus::AwaitingPayment,
        quantity: body.quantity,
        unit_price_cents: body.unit_price_cents,
        subtotal_cents: subtotal,
        total_cents: subtotal,
        fee_bps,
        fee_cents: fee_on(subtotal, fee_bps),
        currency: &listing.currency,
        reference_unit_price_cents: listing.reference_unit_price_cents,
        discount_bps: discount_bps(body.unit_price_cents, listing.reference_unit_price_cents),
        payment_method: body.payment_method,
        payment_reference: payment_reference(),
        shipping_address,
        inspection_days: listing.inspection_days,
        pay_by,
        created_at: now,
        updated_at: now,
        doa_allowance_pct: body.doa_allowance_pct,
        agreed_ship_by: body.agreed_ship_by,
        offer_thread_id: body.offer_thread_id,
    };
    let order = queries::insert(conn, &new_order).await?;
    let actor = Actor::user(ActorRole::Buyer, buyer_id);
    let event = NewEvent {
        order_id: order.id,
        actor,
        from: None,
        to: OrderStatus::AwaitingPayment,
        reason: "placed",
        details: serde_json::json!({
            "quantity": order.quantity, "payment_method": order.payment_method, "offer_id": order.offer_thread_id
        }),
    };
    queries::append_event(conn, event, now).await?;
    let mut jobs = crate::jobs::Batch::default();
    super::notify::placed(&mut jobs, &order, &listing.title, addresses.buyer, addresses.seller, now)?;
    schedule::add_deadline(&mut jobs, order.id, Timer::PaymentReminder, Timer::PaymentDeadline, now, pay_by)?;
    if body.payment_method == PaymentMethod::Btcpay {
        schedule::add(&mut jobs, order.id, Timer::BtcpayInvoice, now + INVOICE_RETRY_AFTER)?;
    }
    jobs.enqueue(conn).await?;
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_references_are_readable_and_unambiguous() {
        let reference = payment_reference();
        assert_eq!(reference.len(), 12);
        assert!(reference.starts_with("RM-") && reference.as_bytes()[7] == b'-');
        assert!(!reference[3..].chars().any(|c| "ILOU".contains(c)), "{reference}");
        assert_ne!(payment_reference(), payment_reference());
    }
}
