//! What the checks need to know about one gateway's surroundings, indexed once: its
//! connected subnets and the addresses it owns.

use super::index::PrefixIndex;
use crate::diag::Span;
use crate::model::{At, Claim, Dnat, Gateway, Kind, Netmap, Snat};
use crate::plan::Translation;
use ipnet::Ipv4Net;
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

/// A subnet the gateway is connected to: an interface address below /32.
pub struct Connected<'a> {
    pub interface: &'a str,
    pub address: &'a At<Ipv4Net>,
}

impl Connected<'_> {
    pub fn subnet(&self) -> Ipv4Net {
        self.address.value.trunc()
    }
}

pub struct Facts<'a> {
    pub gw: &'a Gateway,
    pub connected: PrefixIndex<Connected<'a>>,
    /// Interface addresses, `[[gateway.address]]` and loopback claims.
    pub own: HashSet<Ipv4Addr>,
    dnats: HashMap<&'a str, &'a Dnat>,
    snats: HashMap<&'a str, &'a Snat>,
    netmaps: HashMap<&'a str, &'a Netmap>,
}

impl<'a> Facts<'a> {
    pub fn new(gw: &'a Gateway) -> Self {
        let mut connected = PrefixIndex::default();
        let mut own = HashSet::new();
        for i in &gw.interfaces {
            for a in &i.addresses {
                own.insert(a.value.addr());
                if a.value.prefix_len() < 32 {
                    connected.insert(a.value.trunc(), Connected { interface: &i.name, address: a });
                }
            }
        }
        for t in &gw.tunnels {
            if let Some(v) = t.vti() {
                own.insert(v.address.value.addr());
                connected.insert(v.address.value.trunc(), Connected { interface: &v.name.value, address: &v.address });
            }
        }
        own.extend(gw.addresses.iter().map(|a| a.address.value.addr()));
        own.extend(
            gw.dnats
                .iter()
                .filter(|d| d.claim.value == Claim::Loopback && d.destination.value.prefix_len() == 32)
                .map(|d| d.destination.value.addr()),
        );
        let dnats = gw.dnats.iter().map(|d| (d.origin.name.as_str(), d)).collect();
        let snats = gw.snats.iter().map(|s| (s.origin.name.as_str(), s)).collect();
        let netmaps = gw.netmaps.iter().map(|n| (n.origin.name.as_str(), n)).collect();
        Facts { gw, connected, own, dnats, snats, netmaps }
    }

    /// Where a translation's matched address and its new address are written in the intent:
    /// (the address it rewrites, what it becomes). The item's header when not found.
    pub fn sides(&self, t: &Translation) -> (Span, Span) {
        let name = t.origin.name.as_str();
        let found = match t.origin.kind {
            Kind::Dnat => self.dnats.get(name).map(|d| (d.destination.span.clone(), d.to.span.clone())),
            Kind::Snat => self.snats.get(name).map(|s| {
                (s.source.as_ref().map_or_else(|| s.origin.span.clone(), |x| x.span.clone()), s.to.span.clone())
            }),
            Kind::Netmap => self.netmaps.get(name).map(|n| match t.part {
                Some("dnat") => (n.local_as.span.clone(), n.local.span.clone()),
                _ => (n.local.span.clone(), n.local_as.span.clone()),
            }),
            _ => None,
        };
        found.unwrap_or_else(|| (t.origin.span.clone(), t.origin.span.clone()))
    }

    /// The connected subnet containing `addr`, most specific first.
    pub fn subnet_of(&self, addr: Ipv4Addr) -> Option<&Connected<'a>> {
        self.connected.longest_match(Ipv4Net::from(addr)).map(|(_, c)| c)
    }

    /// Does the gateway own every address of `net` (a host it owns)?
    pub fn owns(&self, net: Ipv4Net) -> bool {
        net.prefix_len() == 32 && self.own.contains(&net.addr())
    }
}
