//! The lab both `natc trace` and `natc verify` run an intent's expectations in: its
//! topology (nodes, ports, segments), the probe vocabulary, the judge that turns what a probe
//! saw into a judgement, and the table of results. trace simulates the lab over the plan;
//! verify builds it from network namespaces; both judge with the same code.

pub mod judge;
pub mod probe;
pub mod report;
pub mod topology;

pub use judge::Judgement;
pub use report::{ExpectResult, Report, TunnelResult};
