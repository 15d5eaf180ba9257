//! Parity: record a target's answers as snapshots, and compare two implementations answer by
//! answer (`conform record`, `conform parity`).
//!
//! [`record`] runs trials with an observer and turns each step's exchange into a normalized,
//! redacted [`snapshot::StepSnapshot`]; [`compare`] compares two sets of snapshots; [`allow`]
//! reads the file of accepted differences; [`report`] writes the JSON and HTML reports.

pub mod allow;
pub mod compare;
pub mod normalize;
pub mod record;
pub mod report;
pub mod sent;
pub mod snapshot;

pub use compare::{compare, Comparison, Difference};
pub use record::{record, Recording};
pub use snapshot::{Snapshot, StepSnapshot};
