//! Cases: the declarative case files, loaded and cross-checked against the specs into a
//! [`Suite`].

mod load;
pub mod model;
pub mod pattern;
pub mod vars;

pub use load::{LoadedFile, Suite};
