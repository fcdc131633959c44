//! Email, one module per job: what a mail is made of (model), how each language writes it
//! (locale), its calendars (ics) and bodies (render), when it is queued (notices), what one
//! attempt to deliver it does (delivery), how it leaves (transport), and the worker that
//! delivers the outbox (worker). Each uses only those before it in this list, but delivery
//! uses transport.
pub mod delivery;
pub mod ics;
pub mod locale;
pub mod model;
pub mod notices;
pub mod render;
pub mod transport;
pub mod worker;
