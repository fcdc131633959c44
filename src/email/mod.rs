//! Email: what is written (model, locale, render, ics), when it is queued (notices), and how
//! it is delivered (transport, worker).
pub mod ics;
pub mod locale;
pub mod model;
pub mod notices;
pub mod render;
pub mod transport;
pub mod worker;
