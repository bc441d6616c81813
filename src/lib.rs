//! natc: a NAT config compiler. One TOML intent file is loaded, resolved, lowered into a
//! per-gateway IR and checked, then rendered for each target:
//! `load → resolve → lower → check → render → emit`. ARCHITECTURE.md maps the modules and
//! the one-way order among them that tests/layering.rs enforces.

pub mod backend;
pub mod check;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod error;
pub mod import;
pub mod intent;
pub mod lab;
pub mod lower;
pub mod model;
pub mod package;
pub mod pipeline;
pub mod plan;
pub mod schema;
pub mod trace;
pub mod verify;
pub mod vocab;

pub use error::Error;
pub use pipeline::{Artifact, BuildOptions, Compiled, build, check_declared_targets, compile};
