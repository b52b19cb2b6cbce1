//! The PostgreSQL job queue: typed background jobs, timers and periodic tasks.
//!
//! A job is a struct that implements [`Job`]: its `KIND` names it in the
//! `jobs` table and its fields are the JSON payload. Whoever causes a job
//! enqueues it with [`enqueue`] inside the transaction of the cause (the outbox
//! pattern); whoever can run it registers a handler in the [`JobRegistry`] the
//! composition root builds. A capability may thus record a job (an event) that
//! a capability above it handles, without importing it.
//!
//! The [`JobRunner`] claims a due job with `FOR UPDATE SKIP LOCKED` and runs it
//! inside the claiming transaction, in a savepoint: its database effects and the
//! job's removal commit together (so a timer's effect happens once even with N
//! workers), and a failure rolls back only the job's own writes before the retry
//! is recorded. A crash releases the row lock and the job becomes due again.

mod job;
pub mod periodic;
pub mod queue;
mod registry;
mod runner;

pub use job::{enqueue, Batch, Job, PeriodicJob};
pub use periodic::Tick;
pub use queue::{QueuedJob, RetryPolicy};
pub use registry::{JobFuture, JobRegistry};
pub use runner::{JobRunner, PruneDeadJobs, RunOutcome};
