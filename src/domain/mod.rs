//! Pure domain rules: no I/O, unit-tested.
pub mod assessment;
pub mod campaign;
pub mod capacity;
pub mod values;
