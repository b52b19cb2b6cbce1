//! Escrow orders: a buyer reserves units of a listing and pays into escrow (wire
//! or BTCPay); the seller ships; the buyer confirms delivery and inspects (with a
//! delivery hashrate proof if they like); the money is released to the seller
//! minus the platform fee, or a dispute splits it. Timers move every stage on;
//! every movement of money is a balanced ledger transaction.
//!
//! - [`state`], [`money`], [`deadlines`], [`rejection_rules`]: the rules, pure and unit-tested.
//! - [`flow`]: transitions, each one database transaction on a locked order.
//! - [`place`], [`payins`], [`btcpay_events`], [`disputes`], [`timers`], [`delivery_proof`],
//!   [`messages`], [`reviews`], [`rejection_flow`] (acceptance by unit): the use cases around them.
//! - `handlers`: the HTTP API.
//!
//! Reads (through `Config`): `RIGMARKET_PLATFORM_FEE_BPS`,
//! `RIGMARKET_ORDER_PAYMENT_WINDOW`, `RIGMARKET_ORDER_SHIP_WINDOW`,
//! `RIGMARKET_ORDER_AUTO_REFUND_AFTER_SHIP_DEADLINE`,
//! `RIGMARKET_ORDER_AUTO_DELIVERY_AFTER`, `RIGMARKET_WIRE_INSTRUCTIONS` and the
//! `RIGMARKET_BTCPAY_*` settings.

mod access;
pub mod agreed;
mod context;
pub mod deadlines;
pub mod delivery_proof;
pub mod disputes;
pub mod evidence;
pub mod flow;
mod handlers;

pub mod btcpay_events;
pub mod input;
mod ledger_check;
pub mod messages;
pub mod model;
pub mod money;
pub mod notify;
pub mod payins;
pub mod place;
pub mod published;
pub mod queries;
pub mod rejection_flow;
pub mod rejection_rules;
pub mod rejections;
pub mod reviews;
mod schedule;
pub mod settled;
pub mod state;
pub mod timers;
pub mod view;

pub use access::order_not_found;
pub use context::OrderContext;
pub use disputes::record_shortfall;
pub use handlers::configure;
pub use ledger_check::verify_ledger;
pub use reviews::OrderReputations;
pub use schedule::OrderTimer;
pub use timers::register_jobs;
