//! The double-entry ledger behind escrow. Every movement of money is one
//! transaction of entries that sum to zero (the database re-checks this at
//! commit and refuses UPDATE/DELETE), so a balance is always the sum of an
//! account's entries and no cent can appear or vanish.
//!
//! Sign convention: an entry adds to its account's balance. Money arriving from
//! a buyer is `external -X, escrow:<order> +X`; a payout is
//! `seller_payable:<user> -X, external +X`. So `external` is minus what the
//! platform holds for others, and every other balance is what it holds.

mod book;
mod handlers;
mod payouts;
mod verify;

pub use book::{
    balance, has_transaction, post, transactions_where, Account, EntryView, Posting, TransactionKind, TransactionView,
};
pub use handlers::configure;
pub use verify::{order_flows, verify_book, OrderFlow, Violation};
