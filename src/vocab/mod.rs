//! The vocabulary every stage shares, and the bottom of the module graph: it imports no
//! other module of natc, and every module may import it. Only words and numbers live here
//! (limits, the schema version, target kinds and profiles, diagnostic codes, and the
//! spelling suggestion that picks among words), never a pass.

pub mod codes;
pub mod limits;
pub mod suggest;
pub mod targets;

pub use codes::{CODES, Code};
pub use targets::{RTX_MODELS, SpecError, TargetKind, TargetSpec, VYOS_VERSIONS};
