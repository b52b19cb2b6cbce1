//! What the parties do to an existing thread: accept, counter, decline,
//! withdraw. Each is one transaction on the locked thread (after the listing's
//! lock, for the moves that may place an order).

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::ThreadRow;
use super::notify::OfferChange;
use super::state::{Action, Party};
use super::terms::Terms;
use super::{flow, queries};
use crate::db::ids::UserId;
use crate::error::ApiError;
use crate::listings::lifecycle::ListingStatus;
use crate::listings::model::ListingRow;
use crate::orders::OrderContext;

pub fn offer_not_found() -> ApiError {
    ApiError::not_found("offer_not_found", "No such offer (or it is not yours).")
}

/// The thread, if `user` is one of its parties, and the part they play.
pub async fn find_for(conn: &mut AsyncPgConnection, id: Uuid, user: UserId) -> Result<(ThreadRow, Party), ApiError> {
    let thread = queries::find(conn, id).await?.ok_or_else(offer_not_found)?;
    let party = thread.party_of(user).ok_or_else(offer_not_found)?;
    Ok((thread, party))
}

pub enum Move {
    Accept,
    Counter(Terms),
    Decline(Option<String>),
    Withdraw,
}

pub async fn act(
    ctx: &OrderContext,
    conn: &mut AsyncPgConnection,
    id: Uuid,
    user: UserId,
    mv: Move,
    now: DateTime<Utc>,
) -> Result<ThreadRow, ApiError> {
    conn.transaction(async |conn| {
        let (peek, party) = find_for(conn, id, user).await?;
        match mv {
            Move::Accept => {
                lock_listing(conn, &peek).await?;
                let thread = lock_thread(conn, id).await?;
                flow::accept(ctx, conn, &thread, party, false, now).await
            }
            Move::Counter(terms) => {
                let listing = lock_listing(conn, &peek).await?;
                let thread = lock_thread(conn, id).await?;
                if listing.status() != ListingStatus::Active {
                    flow::check(&thread, party, Action::Counter, now)?;
                    return Err(ApiError::conflict("listing_not_buyable", "This listing is not on sale."));
                }
                let countered = flow::counter(conn, &listing, &thread, party, &terms, now).await?;
                match party {
                    Party::Buyer => super::make::on_buyer_price(ctx, conn, &listing, countered, now).await,
                    Party::Seller => Ok(countered),
                }
            }
            Move::Decline(reason) => {
                let thread = lock_thread(conn, id).await?;
                flow::check(&thread, party, Action::Decline, now)?;
                let note = reason.unwrap_or_else(|| "The seller declined the offer.".to_string());
                flow::close(conn, &thread, OfferChange::Declined, Some(party), Some(note), now).await
            }
            Move::Withdraw => {
                let thread = lock_thread(conn, id).await?;
                flow::check(&thread, party, Action::Withdraw, now)?;
                flow::close(conn, &thread, OfferChange::Withdrawn, Some(party), None, now).await
            }
        }
    })
    .await
}

/// The thread's listing, locked first (see the lock order in `flow.rs`).
async fn lock_listing(conn: &mut AsyncPgConnection, thread: &ThreadRow) -> Result<ListingRow, ApiError> {
    crate::listings::queries::lock(conn, thread.listing_id).await?.ok_or_else(crate::listings::listing_not_found)
}

async fn lock_thread(conn: &mut AsyncPgConnection, id: Uuid) -> Result<ThreadRow, ApiError> {
    queries::lock(conn, id).await?.ok_or_else(offer_not_found)
}
