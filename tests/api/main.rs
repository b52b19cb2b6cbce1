//! The one integration-test binary. Each module covers a capability; the harness
//! lives in `support/`.

mod support;

mod access_log;
mod accounts;
mod admin_users;
mod alerts;
mod api_keys;
mod architecture;
mod btcpay;
mod catalog;
mod cli;
mod conditional;
mod db;
mod demo;
mod docs_links;
mod errors;
mod health;
mod jobs;
mod listings;
mod mail;
mod notifications;
mod offers;
mod openapi;
mod orders;
mod photos;
mod price_index;
mod proofs;
mod replicas;
mod resilience;
mod search;
mod storage;
mod units;
mod webhooks;
