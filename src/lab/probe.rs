//! What a probe is and what it can see, as both `natc verify` (real packets, verify/probe/)
//! and `natc trace` (the simulation) speak of it, so that their verdicts compare.

use std::net::Ipv4Addr;

/// The protocols a NAT rule can match that a probe can exercise end to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeProtocol {
    Icmp,
    Tcp,
    Udp,
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
