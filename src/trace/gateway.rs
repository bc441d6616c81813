//! One node's handling of one packet, in netfilter order. For a gateway that is natc's
//! rules as the Linux targets render them: prerouting (conntrack, else the first matching
//! DNAT), the routing decision (local → input filter; else forwarding → the most specific
//! route → TTL → forward filter), postrouting (conntrack, else the first matching SNAT).
//! Filters are `plan::Filters::lines`, the very lines the targets write. A lab host
//! has no netfilter: it delivers, forwards or drops.

use super::conntrack::{self, Class, Conntrack, Direction};
use super::net::{Lookup, Net};
use super::packet::{ErrorKind, Packet, change};
use super::render::Recorder;
use crate::plan::{FilterChain, GatewayPlan};
use std::net::Ipv4Addr;

/// A node of the simulation: its IP state, and natc's rules if it is a gateway.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub name: String,
    pub net: Net,
    pub plan: Option<&'a GatewayPlan>,
}

/// What the node does with the packet.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Delivered to a local socket (after the input filter), as the node sees it.
    Deliver(Packet),
    /// Out of `dev`, to the MAC address of `next_hop`.
    Send { packet: Packet, dev: String, next_hop: Ipv4Addr },
    /// Silently dropped (a filter, forwarding off, a martian); the step says why.
    Drop,
    /// The node answers with an ICMP error about the packet (as it is now).
    Error { about: Packet, what: ErrorKind },
    /// A packet this node originates has no route: the sending socket gets ENETUNREACH.
    NoRoute,
}

/// The conntrack view of the packet on this node, and the flow it created if it is new.
#[derive(Debug, Clone, Copy)]
pub(super) struct State {
    pub(super) class: Class,
    pub(super) new_entry: Option<usize>,
}

impl Node<'_> {
    /// A packet arriving on `in_iface`.
    pub fn receive(&self, ct: &mut Conntrack, mut p: Packet, in_iface: &str, rec: &mut Recorder) -> Decision {
        self.check_modelled(&p, rec);
        if self.net.locals.iter().any(|l| l.net.prefix_len() == 32 && l.net.addr() == p.tuple.source) {
            rec.step(&self.name, format!("martian source {} (its own address): dropped", p.tuple.source));
            return Decision::Drop;
        }
        let state = self.prerouting(ct, &mut p, Some(in_iface), rec);
        let destination = p.tuple.destination;
        super::tunnel::note_idle(&self.net, &self.name, destination, rec);
        let route = match self.net.lookup(destination) {
            Lookup::Local(local) => {
                if self.plan.is_some() {
                    rec.step(&self.name, format!("routing: {destination} is local ({})", local.why));
                }
                return self.input(ct, state, p, in_iface, rec);
            }
            _ if !self.net.forwarding => {
                rec.step(
                    &self.name,
                    format!("routing: {destination} is not local and forwarding is off (ip_forward = 0): dropped"),
                );
                return Decision::Drop;
            }
            Lookup::Unreachable => {
                rec.step(&self.name, format!("routing: no route to {destination}"));
                return Decision::Error { about: p, what: ErrorKind::NetUnreachable };
            }
            Lookup::Route(r) => r.clone(),
        };
        rec.step(&self.name, format!("routing: forward, {}", route.describe()));
        if p.ttl <= 1 {
            rec.step(&self.name, "TTL exhausted (a routing loop)");
            return Decision::Error { about: p, what: ErrorKind::TtlExceeded };
        }
        p.ttl -= 1;
        let source = p.tuple.source;
        if route.dev == in_iface
            && self.net.on_link(in_iface, source)
            && route.via.is_none_or(|via| self.net.on_link(in_iface, via))
        {
            // send_redirects = 1: Linux sends a redirect here (trace/redirect.rs).
            super::redirect::at_forward(self, ct, state, &p, in_iface, &route, rec);
        }
        if !self.filter(ct, state, FilterChain::Forward, &p.tuple, Some(in_iface), Some(&route.dev), rec) {
            return Decision::Drop;
        }
        self.postrouting(ct, state, &mut p, &route, rec)
    }

    /// A packet this node originates (a probe, an answer, an ICMP error), its source
    /// already chosen.
    pub fn output(&self, ct: &mut Conntrack, mut p: Packet, rec: &mut Recorder) -> Decision {
        self.check_modelled(&p, rec);
        let state = self.prerouting(ct, &mut p, None, rec);
        let destination = p.tuple.destination;
        super::tunnel::note_idle(&self.net, &self.name, destination, rec);
        match self.net.lookup(destination) {
            Lookup::Local(local) => {
                rec.step(&self.name, format!("routing: {destination} is local ({})", local.why));
                self.input(ct, state, p, "lo", rec)
            }
            Lookup::Unreachable => {
                rec.step(&self.name, format!("routing: no route to {destination}"));
                Decision::NoRoute
            }
            Lookup::Route(r) => {
                let route = r.clone();
                rec.step(&self.name, format!("routing: {}", route.describe()));
                if route.dev == super::tunnel::TUN {
                    // Its source would be the lab's address inside the local selectors.
                    rec.unmodelled(&self.name, "a packet the gateway itself sends into an IPsec tunnel");
                }
                self.postrouting(ct, state, &mut p, &route, rec)
            }
        }
    }

    /// The source this node gives a packet it originates towards `destination`.
    pub fn source_towards(&self, destination: Ipv4Addr) -> Option<Ipv4Addr> {
        match self.net.lookup(destination) {
            Lookup::Local(_) => Some(destination),
            Lookup::Route(r) => self.net.source_for(r, destination),
            Lookup::Unreachable => None,
        }
    }

    fn check_modelled(&self, p: &Packet, rec: &mut Recorder) {
        for what in &self.net.unmodelled {
            rec.unmodelled(&self.name, what);
        }
        if let Some(what) = self.net.special(p.tuple.destination) {
            rec.unmodelled(&self.name, &what);
        }
    }

    /// PREROUTING (or, for `in_iface = None`, OUTPUT): conntrack first; a new flow meets
    /// the DNAT rules, first match wins (natc writes no OUTPUT NAT rules).
    fn prerouting(&self, ct: &mut Conntrack, p: &mut Packet, in_iface: Option<&str>, rec: &mut Recorder) -> State {
        let Some(plan) = self.plan else { return State { class: Class::New, new_entry: None } };
        let class = ct.classify(p);
        let mut new_entry = None;
        match class {
            Class::Tracked { entry, direction } => {
                let before = p.tuple;
                conntrack::destination_of(&ct.entries[entry], direction, &mut p.tuple);
                if direction == Direction::Reply {
                    ct.entries[entry].replied = true;
                }
                let e = &ct.entries[entry];
                match (direction, &e.snat, &e.dnat) {
                    (Direction::Reply, Some(rule), _) => {
                        rec.step(
                            &self.name,
                            format!("conntrack: reply, de-SNAT {rule}: {}", change(&before, &p.tuple)),
                        );
                    }
                    (Direction::Original, _, Some(rule)) => {
                        rec.step(
                            &self.name,
                            format!("conntrack: known flow, DNAT {rule}: {}", change(&before, &p.tuple)),
                        );
                    }
                    (Direction::Reply, None, _) => rec.step(&self.name, "conntrack: reply of a known flow"),
                    (Direction::Original, _, None) => rec.step(&self.name, "conntrack: known flow"),
                }
            }
            Class::Related { entry, direction } => {
                let before = p.tuple;
                conntrack::related_destination(&ct.entries[entry], direction, p);
                if before == p.tuple {
                    rec.step(&self.name, "conntrack: related to a known flow");
                } else {
                    rec.step(&self.name, format!("conntrack: related to a known flow: {}", change(&before, &p.tuple)));
                }
            }
            Class::New => {
                let entry = ct.begin(p);
                new_entry = Some(entry);
                if let Some(in_iface) = in_iface {
                    ct.entries[entry].dnat = self.dnat(plan, p, in_iface, rec);
                    ct.entries[entry].translated = p.tuple;
                }
            }
            Class::Invalid => {
                rec.step(&self.name, format!("conntrack: INVALID ({} of no known flow): no NAT", p.kind.describe()))
            }
        }
        State { class, new_entry }
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::{Kind, Tuple, shift};
    use super::*;
    use crate::lab::probe::ProbeProtocol;
    use crate::vocab::Verdict;

    /// eth0 outside, eth1 servers, eth2 a link to a partner network.
    const EDGE: &str = r#"
natc = 1
name = "t"
[[gateway]]
name = "gw"
targets = ["nftables"]
[[gateway.interface]]
name = "eth0"
address = "10.0.0.1/24"
[[gateway.interface]]
name = "eth1"
address = "10.1.0.1/24"
[[gateway.interface]]
name = "eth2"
address = "10.2.0.1/24"
[[gateway.dnat]]
name = "web-a"
destination = "10.0.0.100"
protocol = "tcp"
port = 80
to = "10.1.0.10"
[[gateway.dnat]]
name = "web-b"
destination = "10.0.0.100"
to = "10.1.0.20"
[[gateway.dnat]]
name = "range"
destination = "10.0.0.101"
protocol = "tcp"
port = "8000-8099"
to = "10.1.0.30"
to_port = "9000-9099"
[[gateway.dnat]]
name = "self"
destination = "10.0.0.102"
to = "10.9.9.9"
claim = "loopback"
[[gateway.snat]]
name = "masq"
source = "10.0.0.0/24"
out_interface = "eth1"
to = "masquerade"
[[gateway.netmap]]
name = "partner"
local = "10.1.0.0/24"
local_as = "172.16.1.0/24"
remote_as = "172.16.2.0/24"
interface = "eth2"
[gateway.policy]
forward = "drop"
[[gateway.allow]]
name = "http"
to = "10.1.0.0/24"
protocol = "tcp"
port = 80
[[gateway.allow]]
name = "partner-in"
in_interface = "eth2"
[[gateway.allow]]
name = "shifted"
to = "10.1.0.30"
protocol = "tcp"
port = "9000-9099"
[[gateway.route]]
to = "172.16.2.0/24"
via = "10.2.0.254"
[[gateway.route]]
to = "10.9.0.0/16"
via = "10.2.0.254"
[[gateway.route]]
to = "10.9.5.0/24"
via = "10.1.0.254"
"#;

    fn compiled(text: &str) -> crate::Compiled {
        crate::compile(text).expect("a valid intent")
    }

    /// Loaded and lowered without the field checks: for boxes the checks refuse (N212) but
    /// whose kernel behaviour the simulator must still get right.
    fn unchecked(text: &str) -> crate::Compiled {
        let file = crate::intent::parse(text).expect("TOML");
        let model = crate::model::resolve(&file).expect("resolves");
        let plan = crate::lower::lower(&model).expect("lowers");
        crate::Compiled { plan, warnings: Vec::new() }
    }

    fn node(c: &crate::Compiled) -> Node<'_> {
        let plan = &c.plan.gateways[0];
        Node { name: plan.name.clone(), net: Net::gateway(plan), plan: Some(plan) }
    }

    fn packet(protocol: ProbeProtocol, source: &str, destination: &str, port: Option<u16>) -> Packet {
        let tuple = Tuple {
            protocol,
            source: source.parse().unwrap(),
            destination: destination.parse().unwrap(),
            source_port: port.map(|_| 50001),
            destination_port: port,
        };
        Packet::new(tuple, Kind::request(protocol))
    }

    /// The packet that leaves, and the steps' text.
    fn forward(n: &Node, ct: &mut Conntrack, p: Packet, in_iface: &str) -> (Option<(Tuple, String)>, String) {
        let mut rec = Recorder::default();
        let decision = n.receive(ct, p, in_iface, &mut rec);
        let text: Vec<String> = rec.steps.iter().map(|s| s.text.clone()).collect();
        let sent = match decision {
            Decision::Send { packet, dev, .. } => Some((packet.tuple, dev)),
            _ => None,
        };
        (sent, text.join("\n"))
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn the_first_matching_dnat_wins() {
        let c = compiled(EDGE);
        let n = node(&c);
        let (sent, steps) = forward(
            &n,
            &mut Conntrack::default(),
            packet(ProbeProtocol::Tcp, "10.0.0.50", "10.0.0.100", Some(80)),
            "eth0",
        );
        let (t, dev) = sent.expect("forwarded");
        assert_eq!((t.destination, dev.as_str()), (ip("10.1.0.10"), "eth1"), "{steps}");
        assert!(steps.contains("DNAT gw dnat/web-a: destination 10.0.0.100 → 10.1.0.10"), "{steps}");
        // tcp/443 does not match web-a's port: web-b takes it (and the filter then drops it).
        let mut rec = Recorder::default();
        let d = n.receive(
            &mut Conntrack::default(),
            packet(ProbeProtocol::Tcp, "10.0.0.50", "10.0.0.100", Some(443)),
            "eth0",
            &mut rec,
        );
        assert!(matches!(d, Decision::Drop));
        assert!(
            rec.steps.iter().any(|s| s.text == "DNAT gw dnat/web-b: destination 10.0.0.100 → 10.1.0.20"),
            "{rec:?}"
        );
        assert_eq!(rec.steps.last().map(|s| s.text.as_str()), Some("forward: drop (gw policy/forward)"));
    }

    #[test]
    fn a_port_range_is_shifted_one_to_one() {
        let c = compiled(EDGE);
        let (sent, steps) = forward(
            &node(&c),
            &mut Conntrack::default(),
            packet(ProbeProtocol::Tcp, "10.0.0.50", "10.0.0.101", Some(8042)),
            "eth0",
        );
        let (t, _) = sent.expect("forwarded");
        assert_eq!((t.destination, t.destination_port), (ip("10.1.0.30"), Some(9042)), "{steps}");
        assert!(steps.contains("forward: accept (gw allow/shifted)"), "the filter sees the new port: {steps}");
    }

    #[test]
    fn masquerade_takes_the_out_interfaces_address() {
        let c = compiled(EDGE);
        let (sent, steps) = forward(
            &node(&c),
            &mut Conntrack::default(),
            packet(ProbeProtocol::Tcp, "10.0.0.50", "10.0.0.100", Some(80)),
            "eth0",
        );
        let (t, _) = sent.expect("forwarded");
        assert_eq!(t.source, ip("10.1.0.1"), "{steps}");
        assert!(steps.contains("SNAT gw snat/masq: source 10.0.0.50 → 10.1.0.1 (masquerade)"), "{steps}");
    }

    #[test]
    fn a_netmap_maps_prefixes_host_by_host_both_ways() {
        let c = compiled(EDGE);
        let n = node(&c);
        let out = packet(ProbeProtocol::Icmp, "10.1.0.7", "172.16.2.9", None);
        let mut ct = Conntrack::default();
        let mut rec = Recorder::default();
        // Out: the forward filter drops it (no allow for eth1 → eth2), but the SNAT half is
        // what this test is about, so look at a copy with the policy accepting.
        let mut open = c.plan.gateways[0].clone();
        open.filters.forward.verdict = Verdict::Accept;
        let n_open = Node { plan: Some(&open), ..n.clone() };
        match n_open.receive(&mut ct, out, "eth1", &mut rec) {
            Decision::Send { packet, dev, next_hop } => {
                assert_eq!((packet.tuple.source, dev.as_str(), next_hop), (ip("172.16.1.7"), "eth2", ip("10.2.0.254")));
            }
            other => panic!("{other:?} {rec:?}"),
        }
        let (sent, steps) = forward(
            &n,
            &mut Conntrack::default(),
            packet(ProbeProtocol::Icmp, "172.16.2.9", "172.16.1.7", None),
            "eth2",
        );
        let (t, dev) = sent.expect("forwarded");
        assert_eq!((t.destination, dev.as_str()), (ip("10.1.0.7"), "eth1"), "{steps}");
        assert!(steps.contains("DNAT gw netmap/partner (dnat)"), "{steps}");
        assert_eq!(shift(ip("10.1.0.200"), "192.168.0.0/16".parse().unwrap()), ip("192.168.0.200"));
    }

    #[test]
    fn under_a_drop_policy_only_allowed_flows_and_their_replies_pass() {
        let c = compiled(EDGE);
        let n = node(&c);
        let mut ct = Conntrack::default();
        let (sent, _) = forward(&n, &mut ct, packet(ProbeProtocol::Tcp, "10.0.0.50", "10.0.0.100", Some(80)), "eth0");
        let (t, _) = sent.expect("allowed");
        // The server's SYN-ACK matches no allow (it comes from port 80), only the replies line.
        let reply = Packet::new(t.inverted(), Kind::SynAck);
        let (back, steps) = forward(&n, &mut ct, reply, "eth1");
        let (b, dev) = back.expect("the reply passes");
        assert!(steps.contains("forward: accept (gw policy/forward (replies))"), "{steps}");
        assert_eq!((b.source, b.destination, dev.as_str()), (ip("10.0.0.100"), ip("10.0.0.50"), "eth0"), "{steps}");
        // The same SYN-ACK without the flow is INVALID: no NAT, and dropped.
        let (none, steps) = forward(&n, &mut Conntrack::default(), reply, "eth1");
        assert!(none.is_none() && steps.contains("INVALID"), "{steps}");
        // Not allowed at all: icmp to the servers.
        let (none, steps) =
            forward(&n, &mut Conntrack::default(), packet(ProbeProtocol::Icmp, "10.0.0.50", "10.1.0.10", None), "eth0");
        assert!(none.is_none(), "{steps}");
    }

    #[test]
    fn routing_takes_the_most_specific_route_or_delivers_locally() {
        let c = compiled(EDGE);
        let n = node(&c);
        let via = |dst: &str| {
            let mut rec = Recorder::default();
            match n.receive(
                &mut Conntrack::default(),
                packet(ProbeProtocol::Icmp, "10.2.0.50", dst, None),
                "eth2",
                &mut rec,
            ) {
                Decision::Send { dev, next_hop, .. } => format!("{dev} {next_hop}"),
                other => format!("{other:?}"),
            }
        };
        assert_eq!(via("10.9.5.1"), "eth1 10.1.0.254");
        assert_eq!(via("10.9.6.1"), "eth2 10.2.0.254");
        let mut rec = Recorder::default();
        let d = n.receive(
            &mut Conntrack::default(),
            packet(ProbeProtocol::Icmp, "10.2.0.50", "10.1.0.1", None),
            "eth2",
            &mut rec,
        );
        assert!(matches!(d, Decision::Deliver(_)), "an interface address of another interface is local: {rec:?}");
        let d = n.receive(
            &mut Conntrack::default(),
            packet(ProbeProtocol::Icmp, "10.2.0.50", "192.0.2.1", None),
            "eth2",
            &mut rec,
        );
        assert!(matches!(d, Decision::Error { what: ErrorKind::NetUnreachable, .. }), "no route: an ICMP error");
    }

    #[test]
    fn sending_a_packet_back_where_it_came_from_is_flagged_as_a_redirect() {
        let c = compiled(
            &EDGE.replace("to = \"10.9.5.0/24\"\nvia = \"10.1.0.254\"", "to = \"10.9.5.0/24\"\nvia = \"10.0.0.254\""),
        );
        let n = node(&c);
        let mut rec = Recorder::default();
        // Linux sends it before the forward filter, which drops this packet; on a gateway
        // natc configures, the NAT hook drops the redirect of a flow's first packet
        // (trace/redirect.rs, which also has the cases trace does not model).
        n.receive(
            &mut Conntrack::default(),
            packet(ProbeProtocol::Icmp, "10.0.0.50", "10.9.5.1", None),
            "eth0",
            &mut rec,
        );
        assert!(rec.unmodelled.is_empty(), "{rec:?}");
        assert!(rec.steps.iter().any(|s| s.text.starts_with("ICMP redirect to 10.0.0.50 (use 10.0.0.254) dropped")));
        // From off-link (a routed source), Linux sends no redirect.
        let mut rec = Recorder::default();
        n.receive(
            &mut Conntrack::default(),
            packet(ProbeProtocol::Icmp, "10.7.0.50", "10.9.5.1", None),
            "eth0",
            &mut rec,
        );
        assert!(rec.unmodelled.is_empty(), "{rec:?}");
    }

    #[test]
    fn a_gateway_that_does_not_forward_drops_transit_traffic_silently() {
        let c =
            unchecked(&EDGE.replacen("targets = [\"nftables\"]", "targets = [\"nftables\"]\nforwarding = false", 1));
        let n = node(&c);
        assert!(!n.net.forwarding);
        let mut rec = Recorder::default();
        let d = n.receive(
            &mut Conntrack::default(),
            packet(ProbeProtocol::Tcp, "10.0.0.50", "10.0.0.100", Some(80)),
            "eth0",
            &mut rec,
        );
        assert!(matches!(d, Decision::Drop), "{rec:?}");
        assert!(rec.steps.last().is_some_and(|s| s.text.contains("forwarding is off")));
        // Its own addresses still answer: local delivery needs no forwarding.
        let d = n.receive(
            &mut Conntrack::default(),
            packet(ProbeProtocol::Icmp, "10.0.0.50", "10.1.0.1", None),
            "eth0",
            &mut rec,
        );
        assert!(matches!(d, Decision::Deliver(_)), "{rec:?}");
    }
}
