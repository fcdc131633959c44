//! Pure domain rules: no I/O, unit-tested.
pub mod assessment;
pub mod attendance;
pub mod campaign;
pub mod capacity;
pub mod values;
