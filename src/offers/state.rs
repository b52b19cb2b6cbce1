//! The offer thread's rules, with no I/O: the statuses a thread moves through,
//! and which party may accept, counter, decline or withdraw it. A thread has one
//! open version at a time; only the party that did not write it may accept or
//! counter it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::text_enum;

// Where a thread is (stored in `offer_threads.status`).
text_enum! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ThreadStatus {
        Open = "open",
        Accepted = "accepted",
        Declined = "declined",
        Expired = "expired",
        Withdrawn = "withdrawn",
        Voided = "voided",
    }
}

// Who wrote a version, or acts on a thread.
text_enum! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Party {
        Buyer = "buyer",
        Seller = "seller",
    }
}

impl Party {
    pub fn other(self) -> Self {
        match self {
            Self::Buyer => Self::Seller,
            Self::Seller => Self::Buyer,
        }
    }
}

/// What a party asks to do with an open thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Accept,
    Counter,
    Decline,
    Withdraw,
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The thread is no longer open.
    Closed(ThreadStatus),
    /// The latest version is the actor's own: the other party's move.
    NotYourTurn,
    /// Only this party may do it.
    OnlyBy(Party),
}

/// Where `action` by `actor` leads from a thread in `status` whose latest
/// version `latest_by` wrote.
pub fn next_status(
    status: ThreadStatus,
    latest_by: Party,
    actor: Party,
    action: Action,
) -> Result<ThreadStatus, Refusal> {
    if status != ThreadStatus::Open {
        return Err(Refusal::Closed(status));
    }
    match action {
        Action::Withdraw if actor != Party::Buyer => Err(Refusal::OnlyBy(Party::Buyer)),
        Action::Withdraw => Ok(ThreadStatus::Withdrawn),
        Action::Decline if actor != Party::Seller => Err(Refusal::OnlyBy(Party::Seller)),
        // A seller who wants out of their own counter lets it expire.
        Action::Decline | Action::Accept | Action::Counter if actor == latest_by => Err(Refusal::NotYourTurn),
        Action::Decline => Ok(ThreadStatus::Declined),
        Action::Accept => Ok(ThreadStatus::Accepted),
        Action::Counter => Ok(ThreadStatus::Open),
    }
}

#[cfg(test)]
mod tests {
    use super::Action::*;
    use super::Party::*;
    use super::ThreadStatus::*;
    use super::*;

    #[test]
    fn the_party_that_did_not_write_the_latest_version_accepts_or_counters() {
        assert_eq!(next_status(Open, Buyer, Seller, Accept), Ok(Accepted));
        assert_eq!(next_status(Open, Buyer, Seller, Counter), Ok(Open));
        assert_eq!(next_status(Open, Seller, Buyer, Accept), Ok(Accepted));
        assert_eq!(next_status(Open, Seller, Buyer, Counter), Ok(Open));
        assert_eq!(next_status(Open, Buyer, Buyer, Accept), Err(Refusal::NotYourTurn));
        assert_eq!(next_status(Open, Seller, Seller, Counter), Err(Refusal::NotYourTurn));
    }

    #[test]
    fn only_the_seller_declines_and_only_the_buyer_withdraws() {
        assert_eq!(next_status(Open, Buyer, Seller, Decline), Ok(Declined));
        assert_eq!(next_status(Open, Seller, Seller, Decline), Err(Refusal::NotYourTurn));
        assert_eq!(next_status(Open, Seller, Buyer, Decline), Err(Refusal::OnlyBy(Seller)));
        assert_eq!(next_status(Open, Seller, Buyer, Withdraw), Ok(Withdrawn));
        assert_eq!(next_status(Open, Buyer, Buyer, Withdraw), Ok(Withdrawn));
        assert_eq!(next_status(Open, Buyer, Seller, Withdraw), Err(Refusal::OnlyBy(Buyer)));
    }

    #[test]
    fn closed_threads_do_not_move() {
        for status in [Accepted, Declined, Expired, Withdrawn, Voided] {
            for action in [Accept, Counter, Decline, Withdraw] {
                for (latest, actor) in [(Buyer, Seller), (Seller, Buyer)] {
                    assert_eq!(next_status(status, latest, actor, action), Err(Refusal::Closed(status)));
                }
            }
        }
    }
}
