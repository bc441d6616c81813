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

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// The protocols a NAT rule can match that a probe can exercise end to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeProtocol {
    Icmp,
    Tcp,
    Udp,
}

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

/// The source port a TCP or UDP probe binds, so observers can match a TCP SYN (which carries
/// no payload) to its probe. Ports 40000..60000 stay clear of the well-known ports the lab
/// serves.
pub fn source_port(key: u32) -> u16 {
    (40000 + key % 20000) as u16
}

/// What the sender learned, which is all a host outside the lab could learn too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The reply came back (ICMP echo reply carrying our token from `to`; TCP connect
    /// succeeded and the listener's answer was read; UDP echo came back).
    Reply,
    /// TCP RST / ICMP port unreachable (ECONNREFUSED).
    Refused,
    /// An ICMP error came back (host/net unreachable, admin prohibited...). `from`: who sent
    /// it if known; `what`: short human text e.g. "admin prohibited".
    Unreachable { from: Option<Ipv4Addr>, what: String },
    /// Nothing within the timeout.
    Timeout,
    /// The probe could not even be sent (socket error etc.), with the OS error text.
    Error(String),
}

/// What one namespace saw arrive for it (locally delivered packets only), with the addresses
/// and ports as they were after the namespace's own NAT, which is what a verdict compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub node: String,
    pub protocol: ProbeProtocol,
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
    pub source_port: Option<u16>,
    pub destination_port: Option<u16>,
    /// From the payload token (ICMP, UDP); for TCP only when a listener here read the token,
    /// otherwise match TCP by `source_port`.
    pub key: Option<u32>,
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
