//! The domain events outbox: every business fact integrators or users may hear
//! about (an order paid, a proof verified, a listing approved) is one
//! `domain_events` row, written by [`record`] in the transaction of the change,
//! so it exists if and only if the change commits.
//!
//! The catalog of event types lives in [`catalog`] (one place; `GET
//! /v1/webhook-event-types` lists it). A consumer does not poll this table
//! itself: the periodic [`FanOutEvents`] job, wired by the composition root,
//! claims the events not fanned out yet ([`claim_waiting`], `SKIP LOCKED`, so
//! two workers never take the same one), hands each to every consumer
//! (webhooks today, a notifications inbox later) in the same transaction, and
//! marks it fanned out. A crash before the commit leaves the events waiting.
//!
//! Every party of an event also gets an inbox entry ([`inbox`]) in the same
//! transaction; the `notifications` capability serves the inbox.
//!
//! `data` holds the facts the recorder knows in its transaction (ids, the old
//! and new status, a reason). Consumers that show "the resource as the API
//! renders it" render it when they fan the event out (see `webhooks::fan_out`),
//! because rendering needs services of the capabilities above this layer.

pub mod catalog;
pub mod inbox;
mod outbox;

pub use catalog::{EventKind, EVENT_KINDS};
pub use outbox::{claim_waiting, find, mark_fanned_out, record, DomainEvent, FanOutEvents};
