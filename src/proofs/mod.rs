//! Hashrate proofs: a rig mines Stratum V1 shares on a challenge the server issues,
//! every share is verified, and the measured hashrate is stated with an exact 95 %
//! interval.
//!
//! - [`share`]: share verification (header rebuild, exact share targets, reject
//!   reasons with stable codes and Stratum error numbers).
//! - [`estimate`]: the verdict statistics (estimate, Garwood interval, choice of
//!   share difficulty).
//!
//! Both are pure: no I/O, no clock. The stratum listener and the proof records
//! build on them.

pub mod estimate;
pub mod share;
