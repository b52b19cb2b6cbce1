//! The escrow state machine, with no I/O: which move an actor may make from which
//! status, and where it leads. Handlers and timers ask here first; the database
//! row lock makes the answer stick.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::text_enum;

// Where an order is in escrow (stored in `orders.status`); no doc comment,
// which would become the schema's description in the committed spec.
text_enum! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum OrderStatus {
        AwaitingPayment = "awaiting_payment",
        Paid = "paid",
        Shipped = "shipped",
        Delivered = "delivered",
        Completed = "completed",
        Disputed = "disputed",
        Resolved = "resolved",
        Cancelled = "cancelled",
        Expired = "expired",
        Refunded = "refunded",
    }
}

impl OrderStatus {
    /// Nothing moves out of a terminal status, and its escrow must be empty.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Resolved | Self::Cancelled | Self::Expired | Self::Refunded)
    }

    /// The buyer's money is held in escrow in this status.
    pub fn holds_funds(self) -> bool {
        matches!(self, Self::Paid | Self::Shipped | Self::Delivered | Self::Disputed)
    }

    /// The units have left the seller: closing the order keeps them sold.
    pub fn units_shipped(self) -> bool {
        matches!(self, Self::Shipped | Self::Delivered | Self::Disputed)
    }
}

/// Who makes a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorRole {
    Buyer,
    Seller,
    Admin,
    /// Timers and automatic rules.
    System,
    /// A BTCPay Server webhook, confirmed against its API.
    Btcpay,
}

impl ActorRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buyer => "buyer",
            Self::Seller => "seller",
            Self::Admin => "admin",
            Self::System => "system",
            Self::Btcpay => "btcpay",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Pay,
    Expire,
    /// The buyer walks away: before payment, or after a missed ship deadline.
    BuyerCancel,
    AdminCancel,
    AutoRefund,
    Ship,
    ConfirmDelivery,
    AutoDeliver,
    Accept,
    AutoAccept,
    OpenDispute,
    AcceptOffer,
    Resolve,
    /// The seller agrees to the buyer's unit rejections (or lets the answer deadline pass).
    AcceptRejections,
    /// The seller disputes the buyer's unit rejections.
    ContestRejections,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This actor may never make this move.
    Actor(&'static [ActorRole]),
    /// The move exists for this actor but not from this status.
    Status,
}

use ActorRole::*;
use OrderStatus::*;

/// Who may make each move.
fn actors(mv: Move) -> &'static [ActorRole] {
    match mv {
        Move::Pay => &[Admin, Btcpay],
        Move::Expire | Move::AutoRefund | Move::AutoDeliver | Move::AutoAccept => &[System],
        Move::BuyerCancel | Move::ConfirmDelivery | Move::Accept | Move::AcceptOffer => &[Buyer],
        // A delivery proof's shortfall opens a dispute for the buyer automatically.
        Move::OpenDispute => &[Buyer, System],
        Move::AdminCancel | Move::Resolve => &[Admin],
        Move::Ship => &[Seller],
        Move::AcceptRejections => &[Seller, System],
        Move::ContestRejections => &[Seller],
    }
}

/// Where `mv` leads from `from`, or why it may not be made.
pub fn next_status(from: OrderStatus, mv: Move, actor: ActorRole) -> Result<OrderStatus, Refusal> {
    let allowed = actors(mv);
    if !allowed.contains(&actor) {
        return Err(Refusal::Actor(allowed));
    }
    let to = match (mv, from) {
        (Move::Pay, AwaitingPayment) => Paid,
        (Move::Expire, AwaitingPayment) => Expired,
        (Move::BuyerCancel, AwaitingPayment) => Cancelled,
        // Whether the ship deadline has passed is checked by the caller.
        (Move::BuyerCancel, Paid) => Refunded,
        (Move::AdminCancel, AwaitingPayment) => Cancelled,
        (Move::AdminCancel, Paid | Shipped | Delivered | Disputed) => Refunded,
        (Move::AutoRefund, Paid) => Refunded,
        (Move::Ship, Paid) => Shipped,
        (Move::ConfirmDelivery | Move::AutoDeliver, Shipped) => Delivered,
        (Move::Accept | Move::AutoAccept, Delivered) => Completed,
        // Whether rejections are pending is checked by the caller.
        (Move::AcceptRejections, Delivered) => Completed,
        (Move::ContestRejections, Delivered) => Disputed,
        // Non-delivery can be raised once shipped; anything else during inspection.
        (Move::OpenDispute, Shipped | Delivered) => Disputed,
        (Move::AcceptOffer | Move::Resolve, Disputed) => Resolved,
        _ => return Err(Refusal::Status),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOVES: [Move; 15] = [
        Move::Pay,
        Move::Expire,
        Move::BuyerCancel,
        Move::AdminCancel,
        Move::AutoRefund,
        Move::Ship,
        Move::ConfirmDelivery,
        Move::AutoDeliver,
        Move::Accept,
        Move::AutoAccept,
        Move::OpenDispute,
        Move::AcceptOffer,
        Move::Resolve,
        Move::AcceptRejections,
        Move::ContestRejections,
    ];
    const ACTORS: [ActorRole; 5] = [Buyer, Seller, Admin, System, Btcpay];

    #[test]
    fn the_happy_path_walks_from_payment_to_completion() {
        let mut status = AwaitingPayment;
        for (mv, actor) in
            [(Move::Pay, Btcpay), (Move::Ship, Seller), (Move::ConfirmDelivery, Buyer), (Move::Accept, Buyer)]
        {
            status = next_status(status, mv, actor).unwrap();
        }
        assert_eq!(status, Completed);
    }

    #[test]
    fn nothing_leaves_a_terminal_status() {
        for from in OrderStatus::ALL.iter().copied().filter(|s| s.is_terminal()) {
            for mv in MOVES {
                for actor in ACTORS {
                    assert!(next_status(from, mv, actor).is_err(), "{from:?} {mv:?} {actor:?}");
                }
            }
        }
    }

    #[test]
    fn the_wrong_actor_is_refused_before_the_status_is_looked_at() {
        assert_eq!(next_status(Paid, Move::Ship, Buyer), Err(Refusal::Actor(&[Seller])));
        assert_eq!(next_status(Completed, Move::Ship, Buyer), Err(Refusal::Actor(&[Seller])));
        assert_eq!(next_status(AwaitingPayment, Move::Pay, Buyer), Err(Refusal::Actor(&[Admin, Btcpay])));
        assert_eq!(next_status(Delivered, Move::Resolve, Seller), Err(Refusal::Actor(&[Admin])));
        assert_eq!(next_status(Shipped, Move::Ship, Seller), Err(Refusal::Status));
        assert_eq!(next_status(Delivered, Move::ContestRejections, Buyer), Err(Refusal::Actor(&[Seller])));
    }

    #[test]
    fn the_seller_answers_unit_rejections_during_inspection_only() {
        assert_eq!(next_status(Delivered, Move::AcceptRejections, Seller), Ok(Completed));
        assert_eq!(next_status(Delivered, Move::AcceptRejections, System), Ok(Completed));
        assert_eq!(next_status(Delivered, Move::ContestRejections, Seller), Ok(Disputed));
        for from in [Paid, Shipped, Disputed] {
            assert_eq!(next_status(from, Move::AcceptRejections, Seller), Err(Refusal::Status));
            assert_eq!(next_status(from, Move::ContestRejections, Seller), Err(Refusal::Status));
        }
    }

    #[test]
    fn money_held_statuses_refund_and_unpaid_ones_cancel() {
        assert_eq!(next_status(AwaitingPayment, Move::AdminCancel, Admin), Ok(Cancelled));
        for from in [Paid, Shipped, Delivered, Disputed] {
            assert!(from.holds_funds());
            assert_eq!(next_status(from, Move::AdminCancel, Admin), Ok(Refunded));
        }
        assert_eq!(next_status(Paid, Move::BuyerCancel, Buyer), Ok(Refunded));
        assert_eq!(next_status(Shipped, Move::BuyerCancel, Buyer), Err(Refusal::Status));
    }

    #[test]
    fn every_reachable_status_is_reached_by_some_move() {
        let mut reached = std::collections::HashSet::new();
        for &from in OrderStatus::ALL {
            for mv in MOVES {
                for actor in ACTORS {
                    if let Ok(to) = next_status(from, mv, actor) {
                        reached.insert(to);
                    }
                }
            }
        }
        for status in OrderStatus::ALL.iter().copied().filter(|s| *s != AwaitingPayment) {
            assert!(reached.contains(&status), "{status:?} is unreachable");
        }
    }

    #[test]
    fn status_strings_round_trip() {
        for &status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
    }
}
