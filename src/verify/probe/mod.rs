//! Real packets between lab namespaces, all from one process: `send` puts one probe on the
//! wire from a namespace and says whether its reply came back; `Observers` watch namespaces
//! with raw sockets and say where a probe arrived and with which addresses and ports, as NAT
//! left them. A probe is recognised everywhere by its key, carried in the payload (ICMP,
//! UDP) or in the source port (TCP), because NAT rewrites addresses and ports but not data.
//!
//! Each socket is created on a thread that joined the namespace (`netns`); sockets keep
//! their namespace, so nothing else in the process changes namespace.

mod netns;
mod observe;
mod packet;
mod send;

pub use observe::Observers;
pub use send::send;

pub use crate::lab::probe::{Observation, ProbeProtocol, SendOutcome, source_port};

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// One packet to send. `key` is unique within a run (1..=20000) and is how observations are
/// matched to probes even through NAT: ICMP echo payload and UDP payload carry the token
/// `natc-probe-{key}`; the ICMP echo id is `key as u16`; TCP and UDP senders bind source
/// port `source_port(key)` (NAT keeps source ports when they do not clash).
#[derive(Debug, Clone)]
pub struct Probe {
    pub key: u32,
    /// The sender's namespace file (`/run/netns/NAME`), so a probe leaves from a lab host.
    pub netns: PathBuf,
    pub protocol: ProbeProtocol,
    pub to: Ipv4Addr,
    /// Needed for TCP and UDP; ignored for ICMP.
    pub port: Option<u16>,
    /// How long to wait for the reply: a silent drop is only a drop after this long.
    pub timeout: Duration,
}

/// Where to watch. `listen`: also run TCP listeners and UDP echo servers on the ports given
/// to `Observers::start` (lab hosts) so that senders get replies; false = observe only
/// (gateways: a listener there would change what the gateway's input filter is tested
/// against).
#[derive(Debug, Clone)]
pub struct Watch {
    pub node: String,
    pub netns: PathBuf,
    pub listen: bool,
}
