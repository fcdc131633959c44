//! Black-box tests of the HTTP API against the real local PostgreSQL; one module per resource.
mod helpers;

mod attendance;
mod audit;
mod auth_first;
mod cli;
mod config;
mod duplicates;
mod elections;
mod email;
mod exports;
mod faults;
mod foundation;
mod harness;
mod health_rules;
mod hostile;
mod imports;
mod meetings;
mod metrics;
mod migrations;
mod openapi;
mod operations;
mod regions;
mod reports;
mod settings;
mod validation;
mod venues;
