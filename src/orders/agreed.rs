//! Orders made from an accepted offer: the same placement as `place.rs` (the
//! units reserved under the listing's row lock, the order, its event, emails
//! and payment timers), on terms the buyer and seller agreed instead of the
//! asking price (a BTCPay invoice comes from its timer: no call to BTCPay
//! while the listing is locked). Runs inside the caller's transaction, so the offer's
//! acceptance and the order commit or roll back together. The caller (the
//! offers capability) has already taken the listing's row lock.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::context::OrderContext;
use super::deadlines;
use super::model::{OrderRow, PaymentMethod, ShippingAddress};
use super::place::{insert_order, refusal, Addresses, OrderTerms, MIN_TIME_BEFORE_CUTOFF};
use super::state::OrderStatus;
use crate::db::ids::{ListingId, UserId};
use crate::error::ApiError;
use crate::listings::stock;

/// What a buyer and seller agreed.
#[derive(Debug, Clone)]
pub struct AgreedTerms {
    pub offer_thread_id: Uuid,
    pub listing_id: ListingId,
    pub buyer_id: UserId,
    pub quantity: i32,
    pub unit_price_cents: i64,
    pub doa_allowance_pct: i32,
    /// The seller ships by then at the latest (the hosting power-off may make it earlier).
    pub ship_by: Option<DateTime<Utc>>,
    pub payment_method: PaymentMethod,
    pub shipping_address: ShippingAddress,
}

/// Places the order for `terms`: 409 `insufficient_quantity` when the units are
/// gone, `listing_not_buyable` when the listing is closed,
/// `hosting_deadline_too_close` when the rigs are powered off too soon.
pub async fn place_agreed(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    terms: &AgreedTerms,
    now: DateTime<Utc>,
) -> Result<OrderRow, ApiError> {
    let listing =
        crate::listings::queries::lock(conn, terms.listing_id).await?.ok_or_else(crate::listings::listing_not_found)?;
    if deadlines::ship_cutoff(listing.power_off_at).is_some_and(|cutoff| cutoff <= now + MIN_TIME_BEFORE_CUTOFF) {
        return Err(ApiError::conflict(
            "hosting_deadline_too_close",
            "The rigs are powered off too soon for payment and shipping to complete safely.",
        ));
    }
    let order_terms = OrderTerms {
        quantity: terms.quantity,
        unit_price_cents: terms.unit_price_cents,
        payment_method: terms.payment_method,
        shipping_address: &terms.shipping_address,
        doa_allowance_pct: terms.doa_allowance_pct,
        agreed_ship_by: terms.ship_by,
        offer_thread_id: Some(terms.offer_thread_id),
    };
    // The listing's own price passes the reservation's price check: the agreed
    // price replaces it for this order only.
    stock::reserve(conn, listing.id, terms.quantity, listing.unit_price_cents, now)
        .await?
        .map_err(|r| refusal(r, terms.quantity))?;
    let emails = crate::accounts::emails_of(conn, &[terms.buyer_id, listing.seller_id]).await?;
    let email = |user| emails.get(&user).map(String::as_str).ok_or(diesel::NotFound);
    let addresses = Addresses { buyer: email(terms.buyer_id)?, seller: email(listing.seller_id)? };
    let order = insert_order(&ctx.settings, conn, terms.buyer_id, &order_terms, &listing, addresses, now).await?;
    super::published::record(conn, &order, None, OrderStatus::AwaitingPayment, "placed", now).await?;
    tracing::info!(order.id = %order.id, offer.id = %terms.offer_thread_id, quantity = order.quantity, "order placed from an offer");
    Ok(order)
}
