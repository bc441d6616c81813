//! The vocabulary every stage shares, and the bottom of the module graph: it imports no
//! other module of natc, and every module may import it. Only words and values live here,
//! never a pass: limits and the schema version, target kinds and profiles, diagnostic
//! codes, the intent's enumerated words, ports, the origin every record carries, and the
//! spelling suggestion that picks among words.

pub mod codes;
pub mod ipsec;
pub mod limits;
pub mod log;
pub mod origin;
pub mod ports;
pub mod prefix;
pub mod suggest;
pub mod targets;
pub mod words;

pub use codes::{CODES, Code};
pub use ipsec::{IkeId, TcpMss};
pub use log::{LOG_BURST, LOG_PREFIX_MAX, LOG_RATE_MAX, Log, LogRate, RateUnit};
pub use origin::{At, Kind, Origin, Span};
pub use ports::{PortRange, PortSet};
pub use targets::{
    FIREWALLD_VERSIONS, FirewalldVersion, IptablesShape, RTX_MODELS, RtxModel, SpecError, TargetKind, TargetProfile,
    TargetSpec, VYOS_VERSIONS, VyosVersion,
};
pub use words::{Chain, Claim, DpdAction, Protocol, Verdict};
