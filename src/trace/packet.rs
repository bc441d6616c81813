//! The packets `trace` moves around: a 5-tuple (what conntrack and NAT look at), what
//! kind of packet it is (what the receiver does with it), and its TTL.

use crate::lab::probe::ProbeProtocol;
use ipnet::Ipv4Net;
use std::fmt;
use std::net::Ipv4Addr;

/// A fresh packet's TTL (Linux's default), and so the most hops it can make.
pub const INITIAL_TTL: u8 = 64;

/// What conntrack tracks a flow by. ICMP echo has no ports here: each simulation has one
/// flow per probe, so addresses and protocol tell flows apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tuple {
    pub protocol: ProbeProtocol,
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
    pub source_port: Option<u16>,
    pub destination_port: Option<u16>,
}

impl Tuple {
    /// The same flow seen from the other end: what its reply looks like.
    pub fn inverted(&self) -> Tuple {
        Tuple {
            protocol: self.protocol,
            source: self.destination,
            destination: self.source,
            source_port: self.destination_port,
            destination_port: self.source_port,
        }
    }
}

impl Tuple {
    /// `192.168.72.4 → 192.168.82.70:22`, as verify reports what a receiver saw: the
    /// destination port only.
    pub fn seen(&self) -> String {
        match self.destination_port {
            Some(port) => format!("{} → {}:{port}", self.source, self.destination),
            None => format!("{} → {}", self.source, self.destination),
        }
    }
}

/// `192.168.72.4:50001 → 192.168.82.70:22`, both ports when there are ports.
impl fmt::Display for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = |a: Ipv4Addr, p: Option<u16>| p.map_or_else(|| a.to_string(), |p| format!("{a}:{p}"));
        write!(f, "{} → {}", end(self.source, self.source_port), end(self.destination, self.destination_port))
    }
}

/// An ICMP error natc's lab can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A router has no route (type 3 code 0).
    NetUnreachable,
    /// Nothing listens on a UDP port (type 3 code 3).
    PortUnreachable,
    /// The TTL ran out (type 11): a routing loop.
    TtlExceeded,
}

impl ErrorKind {
    /// The words `natc verify` reports for it (verify/probe/packet.rs).
    pub fn text(self) -> &'static str {
        match self {
            ErrorKind::NetUnreachable => "net unreachable",
            ErrorKind::PortUnreachable => "port unreachable",
            ErrorKind::TtlExceeded => "ttl exceeded",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    EchoRequest,
    EchoReply,
    Syn,
    SynAck,
    Rst,
    /// A UDP probe.
    Datagram,
    /// A UDP echo server's answer.
    Answer,
    /// An ICMP error quoting the header of the packet it is about, as that packet was
    /// where the error was raised (conntrack rewrites the quote on the way back).
    Error {
        what: ErrorKind,
        about: Tuple,
    },
}

impl Kind {
    /// The first packet of a probe of this protocol.
    pub fn request(protocol: ProbeProtocol) -> Kind {
        match protocol {
            ProbeProtocol::Icmp => Kind::EchoRequest,
            ProbeProtocol::Tcp => Kind::Syn,
            ProbeProtocol::Udp => Kind::Datagram,
        }
    }

    /// Can this packet start a flow in conntrack? A reply without its flow is INVALID.
    pub fn can_start_flow(self) -> bool {
        matches!(self, Kind::EchoRequest | Kind::Syn | Kind::Datagram | Kind::Answer)
    }

    pub fn describe(self) -> String {
        match self {
            Kind::EchoRequest => "icmp echo request".into(),
            Kind::EchoReply => "icmp echo reply".into(),
            Kind::Syn => "tcp SYN".into(),
            Kind::SynAck => "tcp SYN-ACK".into(),
            Kind::Rst => "tcp RST".into(),
            Kind::Datagram => "udp".into(),
            Kind::Answer => "udp answer".into(),
            Kind::Error { what, about } => format!("icmp {} about {about}", what.text()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    pub tuple: Tuple,
    pub kind: Kind,
    pub ttl: u8,
}

impl Packet {
    pub fn new(tuple: Tuple, kind: Kind) -> Packet {
        Packet { tuple, kind, ttl: INITIAL_TTL }
    }

    /// An ICMP error from `source` about this packet, sent back to its source.
    pub fn error(&self, what: ErrorKind, source: Ipv4Addr) -> Packet {
        let tuple = Tuple {
            protocol: ProbeProtocol::Icmp,
            source,
            destination: self.tuple.source,
            source_port: None,
            destination_port: None,
        };
        Packet::new(tuple, Kind::Error { what, about: self.tuple })
    }
}

/// `192.168.72.4 → 192.168.82.70:22  tcp SYN`
impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  {}", self.tuple, self.kind.describe())
    }
}

/// NETMAP: keep the host part, take the network part of `into`.
pub fn shift(address: Ipv4Addr, into: Ipv4Net) -> Ipv4Addr {
    let mask = u32::from(into.netmask());
    Ipv4Addr::from((u32::from(into.network()) & mask) | (u32::from(address) & !mask))
}

/// `192.168.82.70 → 192.168.150.195`: the addresses (and ports) that changed.
pub fn change(before: &Tuple, after: &Tuple) -> String {
    let end = |a: Ipv4Addr, p: Option<u16>, show_port: bool| match p {
        Some(p) if show_port => format!("{a}:{p}"),
        _ => a.to_string(),
    };
    let mut parts = Vec::new();
    let dport = before.destination_port != after.destination_port;
    if before.destination != after.destination || dport {
        parts.push(format!(
            "destination {} → {}",
            end(before.destination, before.destination_port, dport),
            end(after.destination, after.destination_port, dport)
        ));
    }
    let sport = before.source_port != after.source_port;
    if before.source != after.source || sport {
        parts.push(format!(
            "source {} → {}",
            end(before.source, before.source_port, sport),
            end(after.source, after.source_port, sport)
        ));
    }
    if parts.is_empty() { "unchanged".into() } else { parts.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverting_swaps_addresses_and_ports() {
        let t = Tuple {
            protocol: ProbeProtocol::Tcp,
            source: Ipv4Addr::new(10, 0, 0, 1),
            destination: Ipv4Addr::new(10, 0, 0, 2),
            source_port: Some(50001),
            destination_port: Some(22),
        };
        let r = t.inverted();
        assert_eq!(
            (r.source, r.destination, r.source_port, r.destination_port),
            (t.destination, t.source, Some(22), Some(50001))
        );
        assert_eq!(r.inverted(), t);
        assert_eq!(t.to_string(), "10.0.0.1:50001 → 10.0.0.2:22");
        assert_eq!(t.seen(), "10.0.0.1 → 10.0.0.2:22");
    }

    #[test]
    fn an_error_goes_back_to_the_source_and_quotes_the_packet() {
        let t = Tuple {
            protocol: ProbeProtocol::Icmp,
            source: Ipv4Addr::new(10, 0, 0, 1),
            destination: Ipv4Addr::new(10, 9, 0, 2),
            source_port: None,
            destination_port: None,
        };
        let e = Packet::new(t, Kind::EchoRequest).error(ErrorKind::NetUnreachable, Ipv4Addr::new(10, 0, 0, 254));
        assert_eq!(e.tuple.destination, t.source);
        assert_eq!(e.tuple.source, Ipv4Addr::new(10, 0, 0, 254));
        assert_eq!(e.kind, Kind::Error { what: ErrorKind::NetUnreachable, about: t });
        assert!(!e.kind.can_start_flow() && !Kind::SynAck.can_start_flow() && Kind::Datagram.can_start_flow());
    }
}
