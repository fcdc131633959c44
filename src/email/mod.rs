//! Email: rendering (templates, iCalendar), the outbox and its delivery worker.
pub mod ics;
pub mod render;
