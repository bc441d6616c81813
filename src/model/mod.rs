//! The resolved intent: names looked up, addresses parsed, defaults applied, every value
//! still carrying its span. Checks and lowering read this; nothing after it reads TOML, and
//! nothing after lowering reads this. Records the intent states and no pass rewrites
//! (interfaces, tunnels, BGP, accepts, the lab) are the plan's own types, built here.

mod address;
mod gateway;
mod hairpin;
mod lab;
mod log;
mod names;
mod ports;
mod resolve;
mod rules;
mod subnets;
mod targets;
mod text;
mod tunnel;

pub use address::{Networks, inner as inner_span};
pub use ports::{PortRange, PortSet};
pub use resolve::resolve;
pub use subnets::{Routes, Subnets};

use crate::diag::Span;
pub use crate::vocab::words::{Chain, Claim, DpdAction, Protocol, Verdict};
use crate::vocab::{FirewalldVersion, RtxModel, TargetSpec, VyosVersion};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

pub use crate::plan::{Accept, Bgp, BgpNeighbor, Dpd, Esp, Ike, Interface, SecretRef, Tunnel, TunnelMode, Vti};
pub use crate::vocab::origin::{At, Kind, Origin};

#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    /// Free text with its span: headers carry it, targets check its length (backend/limits.rs).
    pub description: Option<At<String>>,
    pub networks: Networks,
    pub gateways: Vec<Gateway>,
    pub lab: Option<Lab>,
    pub expects: Vec<Expect>,
}

pub use lab::{Attachment, Expect, Lab, LabHost, LabInterface, LabLink, Outcome};

#[derive(Debug, Clone)]
pub struct Gateway {
    pub name: String,
    pub span: Span,
    /// Default targets for `natc build` without `--target` (model/targets.rs parsed them).
    pub targets: Vec<At<TargetSpec>>,
    pub forwarding: bool,
    /// Where `forwarding` was written, if it was.
    pub forwarding_span: Option<Span>,
    /// `counters = true`, where it was written (absent or false: `None`).
    pub counters: Option<Span>,
    pub firewalld: Option<At<FirewalldVersion>>,
    pub vyos: Option<At<VyosVersion>>,
    pub rtx: Option<At<RtxModel>>,
    pub description: Option<At<String>>,
    pub interfaces: Vec<Interface>,
    pub addresses: Vec<OwnedAddress>,
    pub dnats: Vec<Dnat>,
    pub snats: Vec<Snat>,
    pub netmaps: Vec<Netmap>,
    pub allows: Vec<Allow>,
    pub policy: Policy,
    pub routes: Vec<Route>,
    pub tunnels: Vec<Tunnel>,
    pub bgp: Option<Bgp>,
    /// Every `accept` entry of the gateway and its items, in file order.
    pub accepts: Vec<Accept>,
}

#[derive(Debug, Clone)]
pub struct OwnedAddress {
    pub origin: Origin,
    pub interface: At<String>,
    pub address: At<Ipv4Net>,
}

#[derive(Debug, Clone)]
pub struct Dnat {
    pub origin: Origin,
    pub destination: At<Ipv4Net>,
    pub to: At<Ipv4Net>,
    pub in_interface: Option<At<String>>,
    pub source: Option<At<Ipv4Net>>,
    /// `None` means any protocol (`"any"` is normalised to `None`).
    pub protocol: Option<At<Protocol>>,
    pub ports: Option<At<PortSet>>,
    pub to_port: Option<At<PortRange>>,
    pub claim: At<Claim>,
    /// `return_route = true`: `to` routes its replies back through this gateway.
    pub return_route: Option<At<bool>>,
    /// `hairpin = true`, resolved to the inside interface (model/hairpin.rs).
    pub hairpin: Option<Box<Hairpin>>,
    /// `log = true` (docs/intent.md#logging).
    pub log: Option<Box<crate::vocab::Log>>,
    pub description: Option<Box<At<String>>>,
}

/// A DNAT's hairpin: the interface on which its `to` is connected, and that subnet.
#[derive(Debug, Clone)]
pub struct Hairpin {
    pub span: Span,
    pub interface: String,
    pub subnet: Ipv4Net,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnatTo {
    Masquerade,
    Address(Ipv4Addr),
    /// A 1:1 block map: same length as `source`.
    Prefix(Ipv4Net),
}

#[derive(Debug, Clone)]
pub struct Snat {
    pub origin: Origin,
    pub out_interface: Option<At<String>>,
    pub source: Option<At<Ipv4Net>>,
    pub destination: Option<At<Ipv4Net>>,
    pub protocol: Option<At<Protocol>>,
    pub ports: Option<At<PortSet>>,
    pub to: At<SnatTo>,
    pub except_ipsec: bool,
    /// `log = true` (docs/intent.md#logging).
    pub log: Option<Box<crate::vocab::Log>>,
    pub description: Option<Box<At<String>>>,
}

#[derive(Debug, Clone)]
pub struct Netmap {
    pub origin: Origin,
    pub local: At<Ipv4Net>,
    pub local_as: At<Ipv4Net>,
    pub remote_as: At<Ipv4Net>,
    pub interface: At<String>,
    /// `log = true` (docs/intent.md#logging).
    pub log: Option<Box<crate::vocab::Log>>,
    pub description: Option<Box<At<String>>>,
}

#[derive(Debug, Clone)]
pub struct Allow {
    pub origin: Origin,
    pub from: Option<At<Ipv4Net>>,
    pub to: Option<At<Ipv4Net>>,
    pub protocol: Option<At<Protocol>>,
    pub ports: Option<At<PortSet>>,
    pub in_interface: Option<At<String>>,
    pub out_interface: Option<At<String>>,
    pub chain: Chain,
    pub stateful: bool,
    pub description: Option<Box<At<String>>>,
    /// `log = true` (docs/intent.md#logging).
    pub log: Option<Box<crate::vocab::Log>>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub forward: At<Verdict>,
    pub input: At<Verdict>,
    /// `log = true`: log what a closing policy drops or rejects.
    pub log: Option<crate::vocab::Log>,
}

#[derive(Debug, Clone)]
pub enum Nexthop {
    Via(At<Ipv4Addr>),
    Interface(At<String>),
}

#[derive(Debug, Clone)]
pub struct Route {
    pub origin: Origin,
    pub to: At<Ipv4Net>,
    pub nexthop: Nexthop,
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    /// A 100k-mapping intent holds 100k of these at once, next to the parsed intent (the
    /// peak of a build, BENCHMARKS.md): a field most items leave empty (a log, a
    /// description, a hairpin) is boxed, so it costs 8 bytes in each item rather than its
    /// full size. A new field that pushes an item past its budget should be boxed too.
    #[test]
    fn rule_items_stay_small() {
        use crate::model::{Allow, Dnat, Netmap, Snat};
        use std::mem::size_of;
        let sizes = [
            ("Dnat", size_of::<Dnat>(), 360),
            ("Snat", size_of::<Snat>(), 288),
            ("Netmap", size_of::<Netmap>(), 200),
            ("Allow", size_of::<Allow>(), 304),
        ];
        for (item, size, budget) in sizes {
            assert!(size <= budget, "model::{item} takes {size} bytes, over its budget of {budget}");
        }
    }
}
