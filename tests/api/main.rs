//! Black-box tests of the HTTP API against the real local PostgreSQL; one module per resource.
mod helpers;

mod attendance;
mod audit;
mod authority;
mod budgets;
mod cli;
mod config;
mod demo;
mod elections;
mod email;
mod foundation;
mod harness;
mod health_rules;
mod imports;
mod meetings;
mod metrics;
mod migrations;
mod openapi;
mod operations;
mod regions;
mod reports;
mod semantics;
mod venues;
