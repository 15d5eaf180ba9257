//! conform: executable contracts for four cloud deletion APIs, a harness that replays them
//! against any endpoint, and built-in emulators of those APIs.
//!
//! Pipeline: [`spec`] and [`case`] (models and loading) → [`run`] (HTTP, signing, provider
//! states, scheduling) → [`check`] → [`report`]. The [`emulator`] stands apart and shares only
//! [`spec`] and [`auth`].

pub mod auth;
pub mod case;
pub mod check;
pub mod command;
pub mod coverage;
pub mod diag;
pub mod emulator;
pub mod files;
pub mod harness;
pub mod located;
pub mod mutate;
pub mod parity;
pub mod report;
pub mod run;
pub mod spec;
