//! The emails of negotiation: every change to a thread tells the other party
//! (both parties when the platform made it: an auto-decline, an expiry, a void).
//! Enqueued in the transaction of the change (the outbox), so a mail goes out
//! if and only if the change commits.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::model::ThreadRow;
use super::state::Party;
use crate::mail::PlainNotice;
use crate::orders::notify::money;

/// What happened, in a subject line.
pub fn headline(thread: &ThreadRow, event: &str) -> String {
    let terms = format!("{} unit(s) at {} each", thread.quantity, money(thread.unit_price_cents));
    match event {
        "offered" => format!("New offer: {terms}"),
        "countered" => format!("Counter-offer: {terms}"),
        "accepted" => format!("Offer accepted: {terms}; the order is placed"),
        "auto_accepted" => format!("Offer accepted automatically: {terms}; the order is placed"),
        "declined" => "Offer declined".to_string(),
        "below_floor" => "Offer declined automatically: below the seller's floor".to_string(),
        "withdrawn" => "Offer withdrawn".to_string(),
        "expired" => "Offer expired".to_string(),
        _ => "Offer closed".to_string(),
    }
}

/// Tells `to` (one party, or both when `None`) about `event` on `thread`.
pub async fn tell(
    conn: &mut AsyncPgConnection,
    thread: &ThreadRow,
    event: &str,
    to: Option<Party>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let title =
        crate::listings::titles(conn, &[thread.listing_id]).await?.remove(&thread.listing_id).unwrap_or_default();
    let subject = headline(thread, event);
    let mut text = format!("{subject}.\n\nListing: {title}\nOffer: {}\nStatus: {}", thread.id, thread.status.as_str());
    if let Some(note) = &thread.close_note {
        text.push_str(&format!("\nReason: {note}"));
    }
    if thread.status == super::state::ThreadStatus::Open {
        text.push_str(&format!("\nAnswer by: {}", thread.expires_at.format("%Y-%m-%d %H:%M UTC")));
    }
    if let Some(order_id) = thread.order_id {
        text.push_str(&format!("\nOrder: {order_id}"));
    }
    let parties = match to {
        Some(party) => vec![party],
        None => vec![Party::Buyer, Party::Seller],
    };
    for party in parties {
        let email = crate::accounts::email_of(conn, thread.user_of(party)).await?;
        let notice = PlainNotice { subject: subject.clone(), text: text.clone() };
        crate::mail::enqueue(conn, &email, &notice, now).await?;
    }
    Ok(())
}
