//! Email: rendering (templates, iCalendar), the outbox and its delivery worker.
pub mod ics;
pub mod outbox;
pub mod render;
pub mod transport;
pub mod worker;
