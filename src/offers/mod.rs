//! Offers and counter-offers on lots (product section H): a buyer's thread of
//! versions on one listing (quantity, unit price, DOA allowance, ship-by date),
//! answered in turn until one party accepts (the escrow order is placed in the
//! same transaction, through `orders::agreed`), the seller declines, the buyer
//! withdraws, a version expires, or the listing leaves `active` and voids it.
//! A listing's floor (absolute, or a discount against the price index's tier
//! median) declines offers at once; its auto-accept price accepts them.
//!
//! - [`state`], [`terms`]: the rules, pure and unit-tested.
//! - [`flow`]: transitions, each inside one transaction on a locked thread.
//! - [`make`], [`actions`], [`schedule`]/[`timers`]: the use cases; [`notify`]: the emails.
//! - [`queries`]: the SQL; [`view`] and `handlers`: the HTTP API.
//!
//! Reads no settings of its own (the orders' settings apply to its orders).

pub mod actions;
pub mod flow;
mod handlers;
pub mod make;
pub mod model;
pub mod notify;
pub mod queries;
pub mod schedule;
pub mod state;
pub mod terms;
pub mod timers;
pub mod view;

pub use handlers::configure;
pub use schedule::OfferExpiry;
pub use timers::register_jobs;
