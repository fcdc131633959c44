//! The rules of SPEC §3, pure and unit-tested, one file per rule, and the typed values every
//! layer shares. No I/O here.
pub mod assessment;
pub mod attendance_report;
pub mod booking;
pub mod calendar_link;
pub mod campaign_window;
pub mod capacity;
pub mod check_in;
pub mod email_address;
pub mod fairness;
pub mod kinds;
pub mod problem;
pub mod reevaluation;
pub mod scope;
pub mod sealed;
pub mod search;
pub mod text;
pub mod values;
