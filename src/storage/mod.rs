//! Object storage for photos and evidence: one interface over an S3-compatible
//! store (rust-s3, SigV4 presigned URLs) or a local directory (files served by the
//! API itself through HMAC-signed, expiring URLs with the same semantics).
//!
//! Large bodies never pass through handlers that parse JSON: clients PUT and GET
//! objects directly with the presigned URLs.

mod local;
mod object;
mod routes;
mod store;

pub use local::LocalStore;
pub use object::{is_valid_key, ObjectMeta};
pub use routes::local_routes;
pub use store::ObjectStore;
