//! Specs: the four operations as data, loaded and cross-checked into a [`Catalog`].

mod catalog;
pub mod items;
pub mod model;
mod protocol;
pub mod sources;

pub use catalog::{Catalog, LintedCatalog, Operation, Service};
