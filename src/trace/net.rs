//! One node's IP state as the kernel would hold it: its addresses, which destinations are
//! local, its routing table, forwarding and proxy ARP. A gateway's comes from the plan
//! (interfaces, then what natc's setup script adds: sysctls, owned addresses, routes with
//! `ip route replace`); a lab host's from the lab (docs/verify.md).

use super::tunnel::TUN;
use crate::lab::topology::{Node, Port};
use crate::plan::{GatewayPlan, Nexthop, TunnelMode};
use ipnet::Ipv4Net;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// Addresses a packet is delivered to locally (the kernel's `local` table).
#[derive(Debug, Clone)]
pub struct Local {
    /// A host (`/32`), or a whole prefix on `lo` (Linux makes every address of it local).
    pub net: Ipv4Net,
    /// `address of eth0`, `natgw dnat/aix-tmgw01`.
    pub why: String,
}

#[derive(Debug, Clone)]
pub struct RouteEntry {
    pub to: Ipv4Net,
    pub dev: String,
    pub via: Option<Ipv4Addr>,
    /// The preferred source of a connected route (the interface address).
    pub source: Option<Ipv4Addr>,
    /// `connected`, `natgw route/1`, `default route`.
    pub why: String,
}

impl RouteEntry {
    /// Where the frame goes on the wire: the gateway, or the destination itself.
    pub fn next_hop(&self, destination: Ipv4Addr) -> Ipv4Addr {
        self.via.unwrap_or(destination)
    }

    /// `192.168.200.0/24 dev eth1 (connected)`, `0.0.0.0/0 via 192.168.82.1 dev eth0 (natgw route/1)`
    pub fn describe(&self) -> String {
        match self.via {
            Some(via) => format!("{} via {via} dev {} ({})", self.to, self.dev, self.why),
            None => format!("{} dev {} ({})", self.to, self.dev, self.why),
        }
    }
}

pub enum Lookup<'a> {
    Local(&'a Local),
    Route(&'a RouteEntry),
    Unreachable,
}

#[derive(Debug, Clone, Default)]
pub struct Net {
    /// Interfaces other than `lo`, with their addresses in the order they were added.
    pub interfaces: Vec<(String, Vec<Ipv4Net>)>,
    pub locals: Vec<Local>,
    pub routes: Vec<RouteEntry>,
    /// The routes charon installs for policy-based tunnels that are up (table 220,
    /// consulted before the main table): each remote selector, into libipsec's TUN device.
    pub tunnel_routes: Vec<RouteEntry>,
    /// The same routes of tunnels that are not up: charon installed none (`tunnel.rs`).
    /// Each with the tunnel's name.
    pub idle_tunnel_routes: Vec<(String, RouteEntry)>,
    pub forwarding: bool,
    /// Interfaces with `proxy_arp = 1`.
    pub proxy_arp: Vec<String>,
    /// What this node relies on that trace does not model; a packet that passes the node
    /// makes its verdict "cannot tell".
    pub unmodelled: Vec<String>,
    /// Prefix → its route in `routes`, so that building a table with many routes (one per
    /// proxy-ARP claim) stays linear.
    by_prefix: HashMap<Ipv4Net, usize>,
}

impl Net {
    /// A gateway after natc's setup ran: interfaces as declared, then the sysctls, owned
    /// addresses and routes of the plan, in the setup script's order.
    pub fn gateway(plan: &GatewayPlan) -> Net {
        let mut net = Net::default();
        for iface in plan.interfaces.iter().filter(|i| i.name != "lo") {
            net.interfaces.push((iface.name.clone(), Vec::new()));
            for a in &iface.addresses {
                net.add_address(&iface.name, a.value, format!("address of {}", iface.name));
            }
        }
        for s in &plan.sysctls {
            let proxy = s.key.strip_prefix("net.ipv4.conf.").and_then(|k| k.strip_suffix(".proxy_arp"));
            match (s.key.as_str(), proxy, s.value.as_str()) {
                ("net.ipv4.ip_forward", _, value) => net.forwarding = value == "1",
                (_, Some(iface), "1") => net.proxy_arp.push(iface.to_string()),
                _ => net.unmodelled.push(format!("sysctl {} = {} ({})", s.key, s.value, s.origin.describe())),
            }
        }
        for owned in &plan.owned {
            net.add_address(&owned.interface, owned.address, owned.origin.describe());
        }
        for r in &plan.routes {
            let why = r.origin.describe();
            match &r.nexthop {
                Nexthop::Via(via) => net.add_route_via(r.to, *via, why),
                Nexthop::Interface(dev) if net.has_interface(dev) => {
                    net.replace_route(RouteEntry { to: r.to, dev: dev.clone(), via: None, source: None, why });
                }
                Nexthop::Interface(dev) => {
                    net.unmodelled.push(format!("route {} dev {dev} ({why}): no such interface in the lab", r.to));
                }
            }
        }
        for t in &plan.tunnels {
            match &t.mode {
                // Idle until the tunnel comes up (`Tunnels::establish`).
                TunnelMode::Policy { remote, .. } => net.idle_tunnel_routes.extend(remote.iter().map(|r| {
                    let why = format!("{}: charon's route, table 220", t.origin.describe());
                    (t.origin.name.clone(), RouteEntry { to: r.value, dev: TUN.into(), via: None, source: None, why })
                })),
                TunnelMode::Vti(_) => net.unmodelled.push(format!(
                    "route-based IPsec tunnel {} (an XFRM interface: libipsec in the lab carries only policy-based tunnels)",
                    t.origin.describe()
                )),
            }
        }
        if let Some(b) = &plan.bgp {
            net.unmodelled.push(format!("BGP ({})", b.origin.describe()));
        }
        net
    }

    /// A lab host as `natc verify` wires it: its ports' addresses, its routes, default route
    /// and forwarding.
    pub fn host(node: &Node, ports: &[&Port]) -> Net {
        let mut net = Net { forwarding: node.forwarding, ..Net::default() };
        for port in ports {
            net.interfaces.push((port.interface.clone(), Vec::new()));
            for a in &port.addresses {
                net.add_address(&port.interface, *a, format!("address of {}", port.interface));
            }
        }
        for (to, via) in &node.routes {
            net.add_route_via(*to, *via, "route".into());
        }
        if let Some(via) = node.default_route {
            net.add_route_via(Ipv4Net::default(), via, "default route".into());
        }
        net
    }

    fn has_interface(&self, name: &str) -> bool {
        self.interfaces.iter().any(|(n, _)| n == name)
    }

    /// `ip address add`: the address is local; on `lo` its whole prefix is. Elsewhere its
    /// subnet becomes a connected route (once: a second address in a subnet adds none).
    fn add_address(&mut self, iface: &str, address: Ipv4Net, why: String) {
        if iface == "lo" {
            self.locals.push(Local { net: address.trunc(), why });
            return;
        }
        match self.interfaces.iter_mut().find(|(n, _)| n == iface) {
            Some((_, addresses)) => addresses.push(address),
            None => self.interfaces.push((iface.to_string(), vec![address])),
        }
        let host = Ipv4Net::new(address.addr(), 32).unwrap_or_default();
        self.locals.push(Local { net: host, why });
        let subnet = address.trunc();
        if subnet.prefix_len() < 32 && !self.by_prefix.contains_key(&subnet) {
            self.replace_route(RouteEntry {
                to: subnet,
                dev: iface.to_string(),
                via: None,
                source: Some(address.addr()),
                why: "connected".into(),
            });
        }
    }

    /// A route via a gateway leaves through the interface whose subnet holds the gateway;
    /// the kernel refuses one whose gateway is on no subnet of the box.
    fn add_route_via(&mut self, to: Ipv4Net, via: Ipv4Addr, why: String) {
        let dev = self
            .interfaces
            .iter()
            .find(|(_, addresses)| addresses.iter().any(|a| a.prefix_len() < 32 && a.trunc().contains(&via)))
            .map(|(name, _)| name.clone());
        match dev {
            Some(dev) => self.replace_route(RouteEntry { to, dev, via: Some(via), source: None, why }),
            None => self.unmodelled.push(format!(
                "route {to} via {via} ({why}): {via} is on none of the node's subnets, the kernel refuses the route"
            )),
        }
    }

    /// `ip route replace`: a route to the same prefix (even the connected one) is replaced.
    fn replace_route(&mut self, route: RouteEntry) {
        match self.by_prefix.get(&route.to) {
            Some(&i) => self.routes[i] = route,
            None => {
                self.by_prefix.insert(route.to, self.routes.len());
                self.routes.push(route);
            }
        }
    }

    /// Is `address` on one of `dev`'s subnets?
    pub fn on_link(&self, dev: &str, address: Ipv4Addr) -> bool {
        self.interfaces.iter().filter(|(n, _)| n == dev).flat_map(|(_, a)| a).any(|a| a.trunc().contains(&address))
    }

    pub fn local(&self, address: Ipv4Addr) -> Option<&Local> {
        self.locals.iter().find(|l| l.net.contains(&address))
    }

    /// The kernel's lookup: local addresses first (rule 0, table local), then the most
    /// specific of charon's tunnel routes (rule 220, table 220), then the most specific
    /// route of the main table.
    pub fn lookup(&self, destination: Ipv4Addr) -> Lookup<'_> {
        if let Some(local) = self.local(destination) {
            return Lookup::Local(local);
        }
        most_specific(&self.tunnel_routes, destination)
            .or_else(|| most_specific(&self.routes, destination))
            .map_or(Lookup::Unreachable, Lookup::Route)
    }

    /// The source address the kernel picks for a packet leaving by `dev` towards
    /// `next_hop`: the address of `dev` on the next hop's subnet, else its first address,
    /// else any address of the node (also what MASQUERADE uses).
    pub fn source_towards(&self, dev: &str, next_hop: Ipv4Addr) -> Option<Ipv4Addr> {
        let on_dev = self.interfaces.iter().find(|(n, _)| n == dev).map(|(_, a)| a.as_slice()).unwrap_or_default();
        on_dev
            .iter()
            .find(|a| a.trunc().contains(&next_hop))
            .or_else(|| on_dev.first())
            .map(|a| a.addr())
            .or_else(|| self.interfaces.iter().flat_map(|(_, a)| a).next().map(|a| a.addr()))
            .or_else(|| self.locals.first().map(|l| l.net.addr()))
    }

    /// The source of a packet this node originates along `route` to `destination`.
    pub fn source_for(&self, route: &RouteEntry, destination: Ipv4Addr) -> Option<Ipv4Addr> {
        route.source.or_else(|| self.source_towards(&route.dev, route.next_hop(destination)))
    }

    /// Does this node answer an ARP request for `target` arriving on `iface`? Linux
    /// (arp_ignore = 0) answers for every local address, whatever interface has it; with
    /// proxy ARP on `iface` and forwarding on, also for an address it routes out of
    /// another interface.
    pub fn answers_arp(&self, iface: &str, target: Ipv4Addr) -> Option<String> {
        if let Some(local) = self.local(target) {
            return Some(format!("its own address ({})", local.why));
        }
        if self.forwarding
            && self.proxy_arp.iter().any(|p| p == iface)
            && let Lookup::Route(r) = self.lookup(target)
            && r.dev != iface
        {
            return Some(format!("proxy ARP on {iface}: {target} is routed out of {}", r.dev));
        }
        None
    }

    /// Destinations trace does not model: broadcast, multicast, loopback, 0.0.0.0.
    pub fn special(&self, destination: Ipv4Addr) -> Option<String> {
        if destination.is_broadcast() || destination.is_multicast() || destination.is_unspecified() {
            return Some(format!("{destination} is a broadcast, multicast or unspecified address"));
        }
        if destination.is_loopback() {
            return Some(format!("{destination} is a loopback address"));
        }
        let broadcast = self
            .interfaces
            .iter()
            .flat_map(|(_, a)| a)
            .find(|a| a.prefix_len() < 31 && (a.broadcast() == destination || a.network() == destination));
        broadcast.map(|a| format!("{destination} is the network or broadcast address of {a}"))
    }
}

fn most_specific(table: &[RouteEntry], destination: Ipv4Addr) -> Option<&RouteEntry> {
    let mut best: Option<&RouteEntry> = None;
    for r in table.iter().filter(|r| r.to.contains(&destination)) {
        if best.is_none_or(|b| r.to.prefix_len() > b.to.prefix_len()) {
            best = Some(r);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(addresses: &[(&str, &str)]) -> Net {
        let mut n = Net::default();
        for (iface, a) in addresses {
            n.add_address(iface, a.parse().unwrap(), format!("address of {iface}"));
        }
        n
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn the_most_specific_route_wins_and_locals_come_first() {
        let mut n = net(&[("eth0", "10.0.0.1/24"), ("eth1", "10.1.0.1/24"), ("lo", "10.9.0.0/24")]);
        n.add_route_via("0.0.0.0/0".parse().unwrap(), ip("10.0.0.254"), "default route".into());
        n.add_route_via("10.5.0.0/16".parse().unwrap(), ip("10.1.0.2"), "route".into());
        n.add_route_via("10.5.5.0/24".parse().unwrap(), ip("10.0.0.3"), "route".into());
        let dev = |d: &str| match n.lookup(ip(d)) {
            Lookup::Route(r) => r.describe(),
            Lookup::Local(l) => format!("local {}", l.why),
            Lookup::Unreachable => "unreachable".into(),
        };
        assert_eq!(dev("10.5.5.9"), "10.5.5.0/24 via 10.0.0.3 dev eth0 (route)");
        assert_eq!(dev("10.5.6.9"), "10.5.0.0/16 via 10.1.0.2 dev eth1 (route)");
        assert_eq!(dev("8.8.8.8"), "0.0.0.0/0 via 10.0.0.254 dev eth0 (default route)");
        assert_eq!(dev("10.1.0.77"), "10.1.0.0/24 dev eth1 (connected)");
        assert_eq!(dev("10.1.0.1"), "local address of eth1");
        assert_eq!(dev("10.9.0.77"), "local address of lo", "a prefix on lo is local as a whole");
    }

    #[test]
    fn a_route_whose_gateway_is_off_link_is_refused_and_replace_replaces() {
        let mut n = net(&[("eth0", "10.0.0.1/24")]);
        n.add_route_via("10.7.0.0/16".parse().unwrap(), ip("10.3.0.1"), "r".into());
        assert!(matches!(n.lookup(ip("10.7.0.1")), Lookup::Unreachable));
        assert_eq!(n.unmodelled.len(), 1);
        n.replace_route(RouteEntry {
            to: "10.0.0.0/24".parse().unwrap(),
            dev: "eth0".into(),
            via: Some(ip("10.0.0.9")),
            source: None,
            why: "r".into(),
        });
        assert!(matches!(n.lookup(ip("10.0.0.5")), Lookup::Route(r) if r.via == Some(ip("10.0.0.9"))));
    }

    #[test]
    fn proxy_arp_needs_forwarding_and_a_route_out_of_another_interface() {
        let mut n = net(&[("eth0", "10.1.0.1/24"), ("eth1", "10.2.0.1/24")]);
        n.replace_route(RouteEntry {
            to: "10.1.0.100/32".parse().unwrap(),
            dev: "eth1".into(),
            via: None,
            source: None,
            why: "fw dnat/x".into(),
        });
        n.proxy_arp.push("eth0".into());
        assert!(n.answers_arp("eth0", ip("10.1.0.100")).is_none(), "forwarding is off");
        n.forwarding = true;
        assert!(n.answers_arp("eth0", ip("10.1.0.100")).is_some());
        assert!(n.answers_arp("eth0", ip("10.1.0.101")).is_none(), "routed out of eth0 itself");
        assert!(n.answers_arp("eth1", ip("10.1.0.100")).is_none(), "no proxy ARP on eth1");
        assert!(n.answers_arp("eth1", ip("10.1.0.1")).is_some(), "own addresses on any interface");
    }

    #[test]
    fn the_source_is_the_address_on_the_next_hops_subnet() {
        let n = net(&[("eth0", "10.0.0.1/24"), ("eth0", "172.16.0.1/24")]);
        assert_eq!(n.source_towards("eth0", ip("172.16.0.9")), Some(ip("172.16.0.1")));
        assert_eq!(n.source_towards("eth0", ip("192.0.2.1")), Some(ip("10.0.0.1")));
        assert!(n.special(ip("10.0.0.255")).is_some() && n.special(ip("10.0.0.7")).is_none());
    }
}
