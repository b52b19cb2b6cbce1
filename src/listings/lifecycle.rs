//! The listing state machine, with no I/O: which status may move to which, and
//! what an owner may still edit in each status.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::text_enum;

// Where a listing is in its life (stored in `listings.status`); no doc comment,
// which would become the schema's description in the committed spec.
text_enum! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ListingStatus {
        Draft = "draft",
        PendingReview = "pending_review",
        Active = "active",
        SoldOut = "sold_out",
        Withdrawn = "withdrawn",
        Rejected = "rejected",
        Expired = "expired",
    }
}

impl ListingStatus {
    /// Visible to everyone (not only the seller and admins).
    pub fn is_public(self) -> bool {
        matches!(self, Self::Active | Self::SoldOut | Self::Expired)
    }

    /// Still open: the hosting deadline can expire it.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Draft | Self::PendingReview | Self::Active)
    }
}

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Seller,
    Admin,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Submit,
    Approve,
    Reject,
    Withdraw,
    Unpublish,
    Expire,
    SellOut,
    Restock,
    /// A live lot goes back to review (it holds a serial reported stolen).
    HoldForReview,
}

/// The status a transition leads to, or `None` when it is not allowed from
/// `from` for `actor`.
pub fn next_status(from: ListingStatus, transition: Transition, actor: Actor) -> Option<ListingStatus> {
    use ListingStatus::*;
    use Transition::*;
    match (transition, actor, from) {
        (Submit, Actor::Seller, Draft | Rejected) => Some(PendingReview),
        (Approve, Actor::Admin, PendingReview) => Some(Active),
        (Reject, Actor::Admin, PendingReview) => Some(Rejected),
        (Withdraw, Actor::Seller, Draft | PendingReview | Active | Rejected) => Some(Withdrawn),
        (Unpublish, Actor::Admin, PendingReview | Active) => Some(Rejected),
        (Expire, Actor::System, Draft | PendingReview | Active) => Some(Expired),
        (SellOut, Actor::System, Active) => Some(SoldOut),
        (Restock, Actor::System, SoldOut) => Some(Active),
        (HoldForReview, Actor::System, Active | SoldOut) => Some(PendingReview),
        _ => None,
    }
}

/// How much of a listing its owner may still change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editable {
    /// Drafts and rejected listings: everything.
    Everything,
    /// Live listings: price, quantity and description only.
    PriceQuantityDescription,
    Nothing,
}

pub fn editable(status: ListingStatus) -> Editable {
    match status {
        ListingStatus::Draft | ListingStatus::Rejected => Editable::Everything,
        ListingStatus::Active | ListingStatus::SoldOut => Editable::PriceQuantityDescription,
        _ => Editable::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::ListingStatus::*;
    use super::*;

    #[test]
    fn only_admins_publish_and_sellers_cannot_skip_review() {
        assert_eq!(next_status(Draft, Transition::Submit, Actor::Seller), Some(PendingReview));
        assert_eq!(next_status(PendingReview, Transition::Approve, Actor::Admin), Some(Active));
        assert_eq!(next_status(PendingReview, Transition::Approve, Actor::Seller), None);
        assert_eq!(next_status(Draft, Transition::Approve, Actor::Admin), None);
        assert_eq!(next_status(Rejected, Transition::Submit, Actor::Seller), Some(PendingReview));
    }

    #[test]
    fn terminal_statuses_do_not_move() {
        for transition in [Transition::Submit, Transition::Approve, Transition::Withdraw, Transition::Expire] {
            for actor in [Actor::Seller, Actor::Admin, Actor::System] {
                assert_eq!(next_status(Withdrawn, transition, actor), None);
                assert_eq!(next_status(Expired, transition, actor), None);
            }
        }
    }

    #[test]
    fn live_listings_edit_only_commercial_fields() {
        assert_eq!(editable(Draft), Editable::Everything);
        assert_eq!(editable(Active), Editable::PriceQuantityDescription);
        assert_eq!(editable(PendingReview), Editable::Nothing);
        assert_eq!(editable(Withdrawn), Editable::Nothing);
    }

    #[test]
    fn status_strings_round_trip() {
        for &status in ListingStatus::ALL {
            assert_eq!(ListingStatus::parse(status.as_str()), Some(status));
        }
    }
}
