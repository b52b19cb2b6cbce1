//! The one integration-test binary. Each module covers a capability; the harness
//! lives in `support/`.

mod support;

mod catalog;
mod errors;
mod health;
