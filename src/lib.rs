//! voter-meetings: plan voter-contact meetings inside public-health capacity rules.
pub mod attendance;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod email;
pub mod error;
pub mod idempotency;
pub mod metrics;
pub mod pagination;
pub mod planning;
pub mod routes;
pub mod startup;
