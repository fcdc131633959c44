//! voter-meetings: plan voter-contact meetings inside public-health capacity rules, count
//! attendance, report it and email candidates their schedules. Layers, from the edge inwards
//! (a module uses only those below it): `cli` and `startup` → `http` → `app` → `email`, `db`
//! → `domain`; `config` is read by all.
pub mod app;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod domain;
pub mod email;
pub mod http;
pub mod startup;
