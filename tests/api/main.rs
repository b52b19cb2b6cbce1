//! The one integration-test binary. Each module covers a capability; the harness
//! lives in `support/`.

mod support;

mod accounts;
mod admin_users;
mod api_keys;
mod architecture;
mod btcpay;
mod catalog;
mod cli;
mod db;
mod demo;
mod errors;
mod health;
mod jobs;
mod listings;
mod mail;
mod openapi;
mod orders;
mod photos;
mod price_index;
mod proofs;
mod resilience;
mod search;
mod storage;
