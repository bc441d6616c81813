//! What the checks need to know about one gateway's surroundings, indexed once: its
//! connected subnets, the addresses it owns, where a destination leaves it, and what the
//! intent's `[lab]` says the hosts around it do.

use super::index::PrefixIndex;
use crate::diag::Span;
use crate::model::{At, Claim, Dnat, Gateway, Kind, LabHost, Model, Netmap, Nexthop, Route, Snat, Tunnel};
use crate::plan::{NetmapHalf, Translation};
use ipnet::Ipv4Net;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
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
    /// Interface name → the addresses declared on it, in the intent's order.
    declared: FxHashMap<&'a str, Vec<&'a At<Ipv4Net>>>,
    /// Interface addresses, `[[gateway.address]]` and loopback claims.
    pub own: FxHashSet<Ipv4Addr>,
    /// `claim = "proxy-arp"` destinations, with the interface the gateway answers ARP on.
    proxy_arp: PrefixIndex<&'a str>,
    routes: PrefixIndex<&'a Route>,
    /// VTI interface name → its tunnel.
    pub vti: FxHashMap<&'a str, &'a Tunnel>,
    /// The lab's hosts (`None`: no lab).
    lab: Option<Vec<&'a LabHost>>,
    /// The lab's hosts by the addresses of their interfaces (a host under each of its own).
    lab_addresses: BTreeMap<Ipv4Addr, Vec<&'a LabHost>>,
    dnats: FxHashMap<&'a str, &'a Dnat>,
    snats: FxHashMap<&'a str, &'a Snat>,
    netmaps: FxHashMap<&'a str, &'a Netmap>,
}

impl<'a> Facts<'a> {
    pub fn new(model: &'a Model, gw: &'a Gateway) -> Self {
        let mut connected = PrefixIndex::default();
        let mut own = FxHashSet::default();
        let mut declared: FxHashMap<&str, Vec<&At<Ipv4Net>>> = FxHashMap::default();
        for i in &gw.interfaces {
            declared.entry(i.name.as_str()).or_default().extend(&i.addresses);
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
        let mut proxy_arp = PrefixIndex::default();
        for d in gw.dnats.iter().filter(|d| d.claim.value == Claim::ProxyArp) {
            if let Some(i) = &d.in_interface {
                proxy_arp.insert(d.destination.value, i.value.as_str());
            }
        }
        let mut routes = PrefixIndex::default();
        for r in &gw.routes {
            routes.insert(r.to.value, r);
        }
        let vti = gw.tunnels.iter().filter_map(|t| t.vti().map(|v| (v.name.value.as_str(), t))).collect();
        let lab: Option<Vec<&LabHost>> = model.lab.as_ref().map(|l| l.hosts.iter().collect());
        let mut lab_addresses: BTreeMap<Ipv4Addr, Vec<&LabHost>> = BTreeMap::new();
        for h in lab.iter().flatten() {
            for i in &h.interfaces {
                lab_addresses.entry(i.address.value.addr()).or_default().push(h);
            }
        }
        let dnats = gw.dnats.iter().map(|d| (d.origin.name.as_str(), d)).collect();
        let snats = gw.snats.iter().map(|s| (s.origin.name.as_str(), s)).collect();
        let netmaps = gw.netmaps.iter().map(|n| (n.origin.name.as_str(), n)).collect();
        Facts { gw, connected, declared, own, proxy_arp, routes, vti, lab, lab_addresses, dnats, snats, netmaps }
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
            Kind::Netmap => self.netmaps.get(name).map(|n| match t.half {
                Some(NetmapHalf::Dnat) => (n.local_as.span.clone(), n.local.span.clone()),
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

    /// Does the gateway answer for every address of `net` on `interface`'s segment: it owns
    /// the address (an interface address or `[[gateway.address]]`), or a DNAT claims it
    /// with proxy ARP on that interface? Then hosts there deliver those addresses to the
    /// gateway, and the local route delivers them to the gateway's translation.
    /// Prefixes wider than /16 are not walked (no gateway answers for 65 536 spares).
    pub fn answers_for(&self, net: Ipv4Net, interface: &str) -> bool {
        let proxied = |a: Ipv4Addr| self.proxy_arp.containing(Ipv4Net::from(a)).any(|(_, i)| *i == interface);
        let (first, last) = (u32::from(net.network()), u32::from(net.broadcast()));
        net.prefix_len() >= 16 && (first..=last).map(Ipv4Addr::from).all(|a| self.own.contains(&a) || proxied(a))
    }

    /// The user-written route that carries `addr`, if no connected subnet does.
    pub fn route_for(&self, addr: Ipv4Addr) -> Option<&'a Route> {
        self.routes.longest_match(Ipv4Net::from(addr)).map(|(_, r)| *r)
    }

    /// The interface a packet for `addr` leaves through: a connected subnet, else the longest
    /// route (its `interface`, or the connected subnet of its `via`). `None`: not known.
    pub fn egress(&self, addr: Ipv4Addr) -> Option<&str> {
        if let Some(c) = self.subnet_of(addr) {
            return Some(c.interface);
        }
        match &self.route_for(addr)?.nexthop {
            Nexthop::Interface(i) => Some(i.value.as_str()),
            Nexthop::Via(v) => self.subnet_of(v.value).map(|c| c.interface),
        }
    }

    /// A route's exit: its interface, or the interface of its next hop's subnet, or the next
    /// hop itself when no subnet holds it.
    pub fn route_exit(&self, r: &Route) -> String {
        match &r.nexthop {
            Nexthop::Interface(i) => i.value.clone(),
            Nexthop::Via(v) => {
                self.subnet_of(v.value).map_or_else(|| format!("via {}", v.value), |c| c.interface.into())
            }
        }
    }

    /// How to name an exit in a message: a VTI is its tunnel.
    pub fn describe_exit(&self, exit: &str) -> String {
        match self.vti.get(exit) {
            Some(t) => format!("tunnel `{}`", t.origin.name),
            None if exit.starts_with("via ") => exit.to_string(),
            None => format!("interface `{exit}`"),
        }
    }

    /// The addresses declared on `interface` (an interface of the gateway), in the intent's
    /// order; a look-up, not a scan of the interfaces.
    pub fn declared_on(&self, interface: &str) -> impl Iterator<Item = &'a At<Ipv4Net>> + '_ {
        self.declared.get(interface).into_iter().flatten().copied()
    }

    /// The gateway's addresses on `interface`.
    fn addresses_on(&self, interface: &str) -> Vec<Ipv4Addr> {
        let vti = self.vti.get(interface).and_then(|t| t.vti()).map(|v| &v.address);
        self.declared_on(interface).chain(vti).map(|a| a.value.addr()).collect()
    }

    /// Does a lab host on `interface`'s segment route `destination` to the gateway with a
    /// route more specific than its own subnet (so that it does not ARP for it)?
    pub fn lab_routes_here(&self, interface: &str, destination: Ipv4Net) -> bool {
        let mine = self.addresses_on(interface);
        self.lab.iter().flatten().any(|h| {
            h.routes.iter().any(|(to, via)| {
                mine.contains(&via.value)
                    && to.value.contains(&destination)
                    && h.interfaces.iter().all(|i| {
                        !i.address.value.contains(&destination.network())
                            || to.value.prefix_len() > i.address.value.prefix_len()
                    })
            })
        })
    }

    /// Does the lab host that owns an address of `real` send its replies for `clients` back
    /// through this gateway (its default gateway, or a route covering the clients, is one of
    /// the gateway's addresses)? `clients` empty: replies to anywhere.
    pub fn lab_returns_here(&self, real: Ipv4Net, clients: &[Ipv4Net]) -> bool {
        // The hosts with an address in `real`: a range of the address index, not a scan of
        // every host for every DNAT.
        let owners = self.lab_addresses.range(real.network()..=real.broadcast()).flat_map(|(_, hosts)| hosts);
        owners.copied().any(|h| {
            let via_me = |a: &Ipv4Addr| self.own.contains(a);
            h.gateway.as_ref().is_some_and(|g| via_me(&g.value))
                || h.routes.iter().any(|(to, via)| {
                    via_me(&via.value)
                        && (if clients.is_empty() {
                            to.value.prefix_len() == 0
                        } else {
                            clients.iter().all(|c| to.value.contains(c))
                        })
                })
        })
    }
}
