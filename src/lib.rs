//! conform: executable contracts for four cloud deletion APIs, a harness that replays them
//! against any endpoint, and built-in emulators of those APIs.
//!
//! Pipeline: [`spec`] and [`case`] (models and loading) → [`run`] (HTTP, signing, provider
//! states, scheduling) → [`check`] → [`report`]. The [`emulator`] stands apart and shares only
//! the model ([`spec`], [`auth`], [`credentials`]); [`embedded`] makes it a run target, and
//! [`mutate`] runs the suite against its mutants. `tests/layers.rs` keeps this direction.
//!
//! The default feature `emulator` brings the [`emulator`], [`mutate`] and the commands built on
//! them (`emulate`, `mutate`, the embedded target); without it the crate is the harness, the
//! checks, the loaders, `lint` and `coverage`, and needs no HTTP server.

pub mod auth;
pub mod case;
pub mod check;
pub mod command;
pub mod coverage;
pub mod credentials;
pub mod diag;
#[cfg(feature = "emulator")]
pub mod embedded;
/// Without the `emulator` feature there are no embedded emulators: a run needs a target.
#[cfg(not(feature = "emulator"))]
#[path = "embedded_none.rs"]
pub mod embedded;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod files;
pub mod harness;
pub mod located;
#[cfg(feature = "emulator")]
pub mod mutate;
pub mod parity;
pub mod report;
pub mod run;
pub mod spec;
