//! Black-box tests of the HTTP API against the real local PostgreSQL; one module per resource.
mod helpers;

mod audit;
mod cli;
mod elections;
mod foundation;
mod migrations;
mod regions;
mod venues;
