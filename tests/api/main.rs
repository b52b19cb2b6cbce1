//! The one integration-test binary. Each module covers a capability; the harness
//! lives in `support/`.

mod support;

mod accounts;
mod admin_users;
mod api_keys;
mod catalog;
mod cli;
mod db;
mod errors;
mod health;
mod jobs;
mod mail;
mod openapi;
mod resilience;
mod storage;
