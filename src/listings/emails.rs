//! The emails listings send: moderation verdicts and hosting deadlines.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::db::ids::UserId;
use crate::mail::{self, escape, EmailTemplate};

/// The seller hears about every moderation decision.
pub struct ListingReviewed {
    pub title: String,
    pub approved: bool,
    pub reason: Option<String>,
}

impl ListingReviewed {
    /// Queues the verdict for the listing's seller in the caller's transaction
    /// (the mail outbox), so it is sent only if the decision commits.
    pub async fn send_to_seller(
        &self,
        conn: &mut AsyncPgConnection,
        seller_id: UserId,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        // An approval only informs, so the seller may keep it to the inbox; a
        // rejection asks them to act and is always emailed.
        let kind = crate::events::EventKind::ListingApproved;
        if self.approved && !crate::notifications::emails_wanted(conn, seller_id, kind).await? {
            return Ok(());
        }
        let email = crate::accounts::email_of(conn, seller_id).await?;
        mail::enqueue(conn, &email, self, now).await?;
        Ok(())
    }

    /// Records the decision as a domain event (`listing.approved` or
    /// `listing.rejected`) for the seller's subscribers, in the caller's transaction.
    pub async fn publish(
        &self,
        conn: &mut AsyncPgConnection,
        listing_id: crate::db::ids::ListingId,
        seller_id: UserId,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        use crate::events::EventKind;
        let kind = if self.approved { EventKind::ListingApproved } else { EventKind::ListingRejected };
        let facts = serde_json::json!({ "listing_id": listing_id, "reason": self.reason });
        crate::events::record(conn, kind, listing_id, &[seller_id], facts, now).await?;
        Ok(())
    }
}

impl EmailTemplate for ListingReviewed {
    fn subject(&self) -> String {
        if self.approved {
            format!("Your listing is live: {}", self.title)
        } else {
            format!("Your listing was not approved: {}", self.title)
        }
    }
    fn text(&self) -> String {
        match (&self.reason, self.approved) {
            (_, true) => format!("\"{}\" passed review and is now visible to buyers.", self.title),
            (Some(reason), false) => {
                format!("\"{}\" was not approved. Reason: {reason}\n\nEdit it and submit it again.", self.title)
            }
            (None, false) => format!("\"{}\" was not approved. Edit it and submit it again.", self.title),
        }
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text()).replace('\n', "<br>"))
    }
}

/// Sent 7 days and 1 day before a hosting deadline expires a listing.
pub struct PowerOffReminder {
    pub title: String,
    pub power_off_at: chrono::DateTime<chrono::Utc>,
}

impl EmailTemplate for PowerOffReminder {
    fn subject(&self) -> String {
        format!("Hosting deadline {}: {}", self.power_off_at.format("%Y-%m-%d %H:%M UTC"), self.title)
    }
    fn text(&self) -> String {
        format!(
            "Your listing \"{}\" expires at {} when the rigs must be powered off. Adjust the price or the \
             hosting details if you still want to sell before then.",
            self.title,
            self.power_off_at.format("%Y-%m-%d %H:%M UTC")
        )
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text()))
    }
}

pub struct ListingExpired {
    pub title: String,
}

impl EmailTemplate for ListingExpired {
    fn subject(&self) -> String {
        format!("Listing expired: {}", self.title)
    }
    fn text(&self) -> String {
        format!("\"{}\" expired: its hosting power-off time has passed.", self.title)
    }
    fn html_body(&self) -> String {
        format!("<p>{}</p>", escape(&self.text()))
    }
}
