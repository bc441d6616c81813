//! The lab and its expectations (docs/verify.md): resolve (model/lab.rs) builds these
//! records, lower copies them into the plan, and `natc trace` and `natc verify` (through
//! lab/) give them their meaning.

use crate::vocab::{At, Protocol, Span};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

#[derive(Debug, Clone)]
pub struct Lab {
    pub hosts: Vec<LabHost>,
    pub links: Vec<LabLink>,
}

#[derive(Debug, Clone)]
pub struct LabHost {
    pub name: At<String>,
    /// eth0, eth1, … in this order.
    pub interfaces: Vec<LabInterface>,
    pub routes: Vec<(At<Ipv4Net>, At<Ipv4Addr>)>,
    pub gateway: Option<At<Ipv4Addr>>,
    pub forwarding: bool,
}

#[derive(Debug, Clone)]
pub struct LabInterface {
    pub address: At<Ipv4Net>,
    /// What the interface is wired to (see [`Attachment`]).
    pub attach: At<Attachment>,
}

/// The far end of a lab wire: a gateway interface, or a named segment (a switch).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attachment {
    GatewayInterface { gateway: String, interface: String },
    Segment(String),
}

impl std::fmt::Display for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attachment::GatewayInterface { gateway, interface } => write!(f, "{gateway}.{interface}"),
            Attachment::Segment(name) => f.write_str(name),
        }
    }
}

/// A wire joining gateway interfaces and segments into one layer-2 segment.
#[derive(Debug, Clone)]
pub struct LabLink {
    pub ends: Vec<At<Attachment>>,
}

#[derive(Debug, Clone)]
pub struct Expect {
    pub name: At<String>,
    pub from: At<String>,
    pub to: At<Ipv4Addr>,
    pub protocol: Protocol,
    /// Set for tcp and udp, never for icmp.
    pub port: Option<u16>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// The packet arrives at `host`, as the receiver sees it, and the reply comes back.
    Arrives {
        host: At<String>,
        seen_source: Option<At<Ipv4Net>>,
        seen_destination: Option<At<Ipv4Net>>,
        seen_port: Option<At<u16>>,
    },
    /// No lab host receives it and no reply comes back.
    Blocked { span: Span },
}
