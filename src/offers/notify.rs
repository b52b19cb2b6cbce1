//! What every change to a thread tells its parties: a domain event (the inbox,
//! the live stream and webhooks hear of it: `offer.made`, `offer.countered` ...)
//! and an email to the other party (both parties when the platform made the
//! change: an auto-decline, an expiry, a void). Both are written in the
//! transaction of the change (the outbox), so they exist if and only if the
//! change commits.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;

use super::model::ThreadRow;
use super::state::{Party, ThreadStatus};
use crate::events::EventKind;
use crate::mail::PlainNotice;
use crate::orders::notify::money;

/// A change to a thread, as its parties hear of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferChange {
    /// A buyer's first version.
    Offered,
    Countered,
    Accepted,
    /// Accepted at the listing's auto-accept price.
    AutoAccepted,
    /// The seller declined.
    Declined,
    /// Declined at once: below the listing's floor.
    BelowFloor,
    Withdrawn,
    Expired,
    /// The listing left `active`, or its units left cannot meet the thread.
    Voided,
}

impl OfferChange {
    /// The status a thread closed by this change ends in (`None`: it stays open
    /// or closes with an order).
    pub fn closing_status(self) -> Option<ThreadStatus> {
        match self {
            Self::Declined | Self::BelowFloor => Some(ThreadStatus::Declined),
            Self::Withdrawn => Some(ThreadStatus::Withdrawn),
            Self::Expired => Some(ThreadStatus::Expired),
            Self::Voided => Some(ThreadStatus::Voided),
            Self::Offered | Self::Countered | Self::Accepted | Self::AutoAccepted => None,
        }
    }

    /// The thread's `close_reason` for the changes that close it without an
    /// order (a void names its own: `listing_closed`, `units_gone`).
    pub fn close_reason(self) -> &'static str {
        match self {
            Self::Declined => "declined",
            Self::BelowFloor => "below_floor",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
            Self::Voided => "voided",
            Self::Offered | Self::Countered | Self::Accepted | Self::AutoAccepted => "",
        }
    }

    pub fn event_kind(self) -> EventKind {
        match self {
            Self::Offered => EventKind::OfferMade,
            Self::Countered => EventKind::OfferCountered,
            Self::Accepted | Self::AutoAccepted => EventKind::OfferAccepted,
            Self::Declined | Self::BelowFloor => EventKind::OfferDeclined,
            Self::Withdrawn => EventKind::OfferWithdrawn,
            Self::Expired => EventKind::OfferExpired,
            Self::Voided => EventKind::OfferVoided,
        }
    }

    /// Who hears of it by email when `by` (a party, or the platform when
    /// `None`) made it: the other party; both for the platform's changes and
    /// for an acceptance (the buyer must now pay, the seller prepare to ship).
    pub fn recipients(self, by: Option<Party>) -> Vec<Party> {
        match (self, by) {
            (Self::Accepted | Self::AutoAccepted, _) | (_, None) => vec![Party::Buyer, Party::Seller],
            (_, Some(party)) => vec![party.other()],
        }
    }
}

/// What happened, in a subject line.
pub fn headline(thread: &ThreadRow, change: OfferChange) -> String {
    let terms = format!("{} unit(s) at {} each", thread.quantity, money(thread.unit_price_cents));
    match change {
        OfferChange::Offered => format!("New offer: {terms}"),
        OfferChange::Countered => format!("Counter-offer: {terms}"),
        OfferChange::Accepted => format!("Offer accepted: {terms}; the order is placed"),
        OfferChange::AutoAccepted => format!("Offer accepted automatically: {terms}; the order is placed"),
        OfferChange::Declined => "Offer declined".to_string(),
        OfferChange::BelowFloor => "Offer declined automatically: below the seller's floor".to_string(),
        OfferChange::Withdrawn => "Offer withdrawn".to_string(),
        OfferChange::Expired => "Offer expired".to_string(),
        OfferChange::Voided => "Offer closed".to_string(),
    }
}

/// Records `change` on `thread` (made by `by`, or by the platform when `None`)
/// as a domain event for both parties, and emails its recipients.
pub async fn tell(
    conn: &mut AsyncPgConnection,
    thread: &ThreadRow,
    change: OfferChange,
    by: Option<Party>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let data = json!({
        "offer_id": thread.id,
        "listing_id": thread.listing_id,
        "status": thread.status,
        "version": thread.latest_n,
        "by": by,
        "quantity": thread.quantity,
        "unit_price_cents": thread.unit_price_cents,
        "close_reason": thread.close_reason,
        "order_id": thread.order_id,
    });
    let parties = [thread.buyer_id, thread.seller_id];
    crate::events::record(conn, change.event_kind(), thread.id, &parties, data, now).await?;

    let title =
        crate::listings::titles(conn, &[thread.listing_id]).await?.remove(&thread.listing_id).unwrap_or_default();
    let subject = headline(thread, change);
    let mut text = format!("{subject}.\n\nListing: {title}\nOffer: {}\nStatus: {}", thread.id, thread.status.as_str());
    if let Some(note) = &thread.close_note {
        text.push_str(&format!("\nReason: {note}"));
    }
    if thread.status == ThreadStatus::Open {
        text.push_str(&format!("\nAnswer by: {}", thread.expires_at.format("%Y-%m-%d %H:%M UTC")));
    }
    if let Some(order_id) = thread.order_id {
        text.push_str(&format!("\nOrder: {order_id}"));
    }
    for party in change.recipients(by) {
        let email = crate::accounts::email_of(conn, thread.user_of(party)).await?;
        let notice = PlainNotice { subject: subject.clone(), text: text.clone() };
        crate::mail::enqueue(conn, &email, &notice, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_closing_change_names_its_status_reason_and_event() {
        let closing = [
            (OfferChange::Declined, ThreadStatus::Declined, "declined", "offer.declined"),
            (OfferChange::BelowFloor, ThreadStatus::Declined, "below_floor", "offer.declined"),
            (OfferChange::Withdrawn, ThreadStatus::Withdrawn, "withdrawn", "offer.withdrawn"),
            (OfferChange::Expired, ThreadStatus::Expired, "expired", "offer.expired"),
            (OfferChange::Voided, ThreadStatus::Voided, "voided", "offer.voided"),
        ];
        for (change, status, reason, event) in closing {
            assert_eq!(change.closing_status(), Some(status), "{change:?}");
            assert_eq!(change.close_reason(), reason);
            assert_eq!(change.event_kind().as_str(), event);
        }
        for change in [OfferChange::Offered, OfferChange::Countered, OfferChange::Accepted, OfferChange::AutoAccepted] {
            assert_eq!(change.closing_status(), None, "{change:?}");
        }
        assert_eq!(OfferChange::AutoAccepted.event_kind().as_str(), "offer.accepted");
    }

    #[test]
    fn a_party_s_change_emails_the_other_and_the_platform_s_or_an_acceptance_both() {
        assert_eq!(OfferChange::Countered.recipients(Some(Party::Seller)), vec![Party::Buyer]);
        assert_eq!(OfferChange::Withdrawn.recipients(Some(Party::Buyer)), vec![Party::Seller]);
        assert_eq!(OfferChange::Expired.recipients(None), vec![Party::Buyer, Party::Seller]);
        assert_eq!(OfferChange::Accepted.recipients(Some(Party::Seller)), vec![Party::Buyer, Party::Seller]);
    }
}
