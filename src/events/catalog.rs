//! Every event type, named `resource.event` in snake_case, with what it means.
//! Add a variant here (and a row in [`EVENT_KINDS`]) to publish a new one.

use serde::Serialize;
use utoipa::ToSchema;

/// One type of domain event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    OrderPlaced,
    OrderPaid,
    OrderShipped,
    OrderDelivered,
    OrderCompleted,
    OrderCancelled,
    OrderExpired,
    OrderRefunded,
    OrderDisputed,
    OrderSettlementOffered,
    OrderDisputeResolved,
    OrderShipDeadlineMissed,
    OrderMessagePosted,
    UnitRejected,
    UnitReturned,
    UnitWrittenOff,
    OfferMade,
    OfferCountered,
    OfferAccepted,
    OfferDeclined,
    OfferWithdrawn,
    OfferExpired,
    OfferVoided,
    ProofVerified,
    ProofFailed,
    ListingApproved,
    ListingRejected,
    SavedSearchMatched,
}

/// The catalog: every kind with its wire name and description, in the order
/// `GET /v1/webhook-event-types` lists them.
pub const EVENT_KINDS: &[(EventKind, &str, &str)] = &[
    (EventKind::OrderPlaced, "order.placed", "A buyer placed an order; it awaits payment."),
    (EventKind::OrderPaid, "order.paid", "The order's payment arrived in escrow; the seller must ship."),
    (EventKind::OrderShipped, "order.shipped", "The seller shipped the order (carrier and tracking number)."),
    (
        EventKind::OrderDelivered,
        "order.delivered",
        "Delivery was confirmed by the buyer or assumed; the inspection window opened.",
    ),
    (
        EventKind::OrderCompleted,
        "order.completed",
        "The buyer accepted or inspection ended: escrow was released to the seller.",
    ),
    (EventKind::OrderCancelled, "order.cancelled", "The order was cancelled (by the buyer or an admin)."),
    (EventKind::OrderExpired, "order.expired", "The order was not paid in time and expired."),
    (EventKind::OrderRefunded, "order.refunded", "The order was refunded in full to the buyer."),
    (EventKind::OrderDisputed, "order.disputed", "The buyer (or a failed delivery proof) opened a dispute."),
    (EventKind::OrderSettlementOffered, "order.settlement_offered", "The seller offered a settlement in a dispute."),
    (
        EventKind::OrderDisputeResolved,
        "order.dispute_resolved",
        "The dispute ended: a settlement was accepted or an admin decided.",
    ),
    (EventKind::OrderShipDeadlineMissed, "order.ship_deadline_missed", "A paid order was not shipped in time."),
    (EventKind::OrderMessagePosted, "order.message_posted", "A party or an admin posted a message on the order."),
    (
        EventKind::UnitRejected,
        "unit.rejected",
        "The buyer rejected units of an order by serial during inspection; the seller accepts or contests.",
    ),
    (EventKind::UnitReturned, "unit.returned", "The buyer sent rejected units back (carrier and tracking number)."),
    (EventKind::UnitWrittenOff, "unit.written_off", "The seller wrote rejected units off instead of taking them back."),
    (
        EventKind::OfferMade,
        "offer.made",
        "A buyer made an offer on a listing; the seller accepts, counters or declines it.",
    ),
    (EventKind::OfferCountered, "offer.countered", "A party countered the latest version; the other party answers it."),
    (
        EventKind::OfferAccepted,
        "offer.accepted",
        "An offer was accepted (by a party or at the listing's auto-accept price); its order is placed.",
    ),
    (EventKind::OfferDeclined, "offer.declined", "The seller declined an offer, or it fell below the listing's floor."),
    (EventKind::OfferWithdrawn, "offer.withdrawn", "The buyer withdrew an offer."),
    (EventKind::OfferExpired, "offer.expired", "Nobody answered an offer's latest version in time."),
    (
        EventKind::OfferVoided,
        "offer.voided",
        "An open offer was voided: its listing left sale, or the units left can no longer meet it.",
    ),
    (EventKind::ProofVerified, "proof.verified", "A hashrate proof ended and the rigs delivered the claimed hashrate."),
    (EventKind::ProofFailed, "proof.failed", "A hashrate proof ended short of the claimed hashrate."),
    (EventKind::ListingApproved, "listing.approved", "Moderation approved a listing; it is live."),
    (EventKind::ListingRejected, "listing.rejected", "Moderation rejected or took down a listing."),
    (
        EventKind::SavedSearchMatched,
        "saved_search.matched",
        "A listing was published, dropped its price or reached a discount that one of your saved searches watches.",
    ),
];

impl EventKind {
    /// The wire name (`order.paid`).
    pub fn as_str(self) -> &'static str {
        Self::describe(self).0
    }

    pub fn description(self) -> &'static str {
        Self::describe(self).1
    }

    fn describe(kind: Self) -> (&'static str, &'static str) {
        let (_, name, description) =
            EVENT_KINDS.iter().find(|(k, ..)| *k == kind).expect("every kind is in EVENT_KINDS");
        (name, description)
    }

    pub fn parse(name: &str) -> Option<Self> {
        EVENT_KINDS.iter().find(|(_, n, _)| *n == name).map(|(k, ..)| *k)
    }

    /// The resource the event is about: the part of the name before the dot.
    pub fn resource(self) -> &'static str {
        self.as_str().split('.').next().unwrap_or_default()
    }
}

/// An event type as the API lists it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": "order.paid", "description": "The order's payment arrived in escrow; the seller must ship."}))]
pub struct EventTypeView {
    #[schema(example = "order.paid")]
    pub name: &'static str,
    pub description: &'static str,
}

impl EventTypeView {
    pub fn all() -> Vec<Self> {
        EVENT_KINDS.iter().map(|(_, name, description)| Self { name, description }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_snake_case_resource_dot_event_and_round_trip() {
        let mut seen = HashSet::new();
        for (kind, name, description) in EVENT_KINDS {
            assert!(seen.insert(*name), "{name} twice");
            let (resource, event) = name.split_once('.').expect("resource.event");
            for part in [resource, event] {
                assert!(!part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}");
            }
            assert_eq!(EventKind::parse(name), Some(*kind));
            assert_eq!(kind.as_str(), *name);
            assert!(description.ends_with('.'), "{name}");
        }
        assert_eq!(EventKind::parse("order.unknown"), None);
        assert_eq!(EventKind::OrderPaid.resource(), "order");
    }
}
