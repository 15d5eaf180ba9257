//! Specs: the four operations as data, loaded and cross-checked into a [`Catalog`].

mod catalog;
pub mod items;
pub mod model;
mod protocol;

pub use catalog::{Catalog, Operation, Service};
