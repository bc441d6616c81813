//! The lab as `natc verify` wires it (`verify::topology`), walked hop by hop: a node
//! decides (`gateway.rs`), the frame goes out of an interface to whoever answers ARP for
//! the next hop on that segment, and that node decides next — until the packet is
//! delivered, dropped, or answered with an ICMP error.

use super::conntrack::Conntrack;
use super::gateway::{Decision, Node};
use super::net::Net;
use super::packet::{ErrorKind, INITIAL_TTL, Packet};
use super::render::Recorder;
use super::tunnel::{TUN, Tunnels};
use crate::lab::topology::{NodeKind, Port, Topology};
use crate::plan::GatewayPlan;
use std::collections::HashMap;

/// More decisions than this and something loops even though TTLs run out (they cannot:
/// every forward decrements); a guard, not a model.
const MAX_STEPS: usize = 4 * INITIAL_TTL as usize;

pub struct Lab<'a> {
    pub nodes: Vec<Node<'a>>,
    pub kinds: Vec<NodeKind>,
    pub topology: Topology,
    /// (node, interface) → (segment, port on it).
    ports: HashMap<(usize, String), (usize, usize)>,
    /// The gateways' IPsec tunnels, brought up (or not) before any probe.
    pub tunnels: Tunnels<'a>,
}

/// Where a walk ended.
#[derive(Debug, Clone)]
pub enum End {
    /// Delivered locally at this node, as it sees the packet.
    Delivered { node: usize, packet: Packet },
    /// Dropped without a word (a filter, forwarding off, nobody answering ARP).
    Dropped,
    /// This node answers with an ICMP error about the packet.
    Error { node: usize, about: Packet, what: ErrorKind },
    /// The originating node has no route: the sender's socket fails at once.
    NoRoute,
}

impl<'a> Lab<'a> {
    /// The lab of an intent: `plans` are the gateways (with natc's config loaded, or
    /// stripped for the negative control), the hosts come from `[lab]`.
    pub fn new(plans: &'a [GatewayPlan], lab: &crate::plan::Lab) -> Lab<'a> {
        let mut lab = Lab::without_tunnels(plans, lab);
        lab.tunnels = Tunnels::establish(&lab);
        super::tunnel::install_routes(&mut lab);
        lab
    }

    /// The lab with natc's config loaded and no tunnel up (no charon runs): verify's
    /// tunnel control, and where `new` starts.
    pub fn without_tunnels(plans: &'a [GatewayPlan], lab: &crate::plan::Lab) -> Lab<'a> {
        let topology = Topology::new(plans, lab);
        let mut ports = HashMap::new();
        let mut by_node: Vec<Vec<&Port>> = vec![Vec::new(); topology.nodes.len()];
        for (s, segment) in topology.segments.iter().enumerate() {
            for (p, port) in segment.ports.iter().enumerate() {
                ports.entry((port.node, port.interface.clone())).or_insert((s, p));
                by_node[port.node].push(port);
            }
        }
        let nodes = topology
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| match n.kind {
                NodeKind::Gateway => Node { name: n.name.clone(), net: Net::gateway(&plans[i]), plan: Some(&plans[i]) },
                NodeKind::Host => {
                    let own = &mut by_node[i];
                    own.sort_by_key(|p| (p.interface.len(), p.interface.clone()));
                    Node { name: n.name.clone(), net: Net::host(n, own), plan: None }
                }
            })
            .collect();
        let kinds = topology.nodes.iter().map(|n| n.kind).collect();
        Lab { nodes, kinds, topology, ports, tunnels: Tunnels::default() }
    }

    /// The conntrack tables a probe starts with: empty, but for the flows of the IKE
    /// exchanges that brought the tunnels up.
    pub fn conntrack(&self) -> Vec<Conntrack> {
        if self.tunnels.conntrack.is_empty() {
            vec![Conntrack::default(); self.nodes.len()]
        } else {
            self.tunnels.conntrack.clone()
        }
    }

    pub fn node(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Walk a packet that node `start` originates (its source already chosen).
    pub fn walk(&self, ct: &mut [Conntrack], start: usize, p: Packet, rec: &mut Recorder) -> End {
        self.walk_at(ct, start, p, rec, 0)
    }

    /// `walk`, `depth` tunnels deep (the outer packet of a tunnel is walked at depth 1).
    pub(super) fn walk_at(
        &self,
        ct: &mut [Conntrack],
        start: usize,
        p: Packet,
        rec: &mut Recorder,
        depth: usize,
    ) -> End {
        let mut at = start;
        let mut decision = self.nodes[at].output(&mut ct[at], p, rec);
        for _ in 0..MAX_STEPS {
            let (packet, dev, next_hop) = match decision {
                Decision::Deliver(packet) => return End::Delivered { node: at, packet },
                Decision::Drop => return End::Dropped,
                Decision::Error { about, what } => return End::Error { node: at, about, what },
                Decision::NoRoute => return End::NoRoute,
                Decision::Send { packet, dev, next_hop } => (packet, dev, next_hop),
            };
            if dev == TUN && self.nodes[at].plan.is_some() {
                match self.through_tunnel(ct, at, packet, rec, depth) {
                    Ok((node, inner)) => {
                        at = node;
                        decision = self.nodes[at].receive(&mut ct[at], inner, TUN, rec);
                        continue;
                    }
                    Err(end) => return end,
                }
            }
            let name = &self.nodes[at].name;
            let Some(&(segment, port)) = self.ports.get(&(at, dev.clone())) else {
                rec.unmodelled(name, &format!("sending out of {dev}, which the lab does not wire"));
                return End::Dropped;
            };
            let Some((node, iface)) = self.arp(segment, port, next_hop, rec) else {
                rec.step(
                    name,
                    format!(
                        "ARP: nobody on {} answers for {next_hop}: dropped (the kernel reports host unreachable only after ~3 s, when the probe gave up)",
                        self.topology.segments[segment].name
                    ),
                );
                return End::Dropped;
            };
            let from_iface = &self.topology.segments[segment].ports[port].interface;
            rec.step(&format!("{name} → {}", self.nodes[node].name), format!("{packet}  ({from_iface} → {iface})"));
            rec.reached.push(node);
            at = node;
            decision = self.nodes[at].receive(&mut ct[at], packet, &iface, rec);
        }
        rec.unmodelled(&self.nodes[at].name, "a packet that keeps moving after every TTL ran out");
        End::Dropped
    }

    /// Who takes a frame for `target` on a segment: the node that answers ARP for it
    /// (never the sender itself). Two answering nodes are a race trace does not model.
    fn arp(
        &self,
        segment: usize,
        from: usize,
        target: std::net::Ipv4Addr,
        rec: &mut Recorder,
    ) -> Option<(usize, String)> {
        let seg = &self.topology.segments[segment];
        let sender = seg.ports[from].node;
        let mut answers = seg
            .ports
            .iter()
            .filter(|p| p.node != sender)
            .filter_map(|p| self.nodes[p.node].net.answers_arp(&p.interface, target).map(|why| (p, why)));
        let (port, why) = answers.next()?;
        if let Some((other, _)) = answers.find(|(p, _)| p.node != port.node) {
            rec.unmodelled(
                &self.nodes[sender].name,
                &format!(
                    "both {} and {} answer ARP for {target} on {}",
                    self.nodes[port.node].name, self.nodes[other.node].name, seg.name
                ),
            );
        }
        if why.starts_with("proxy ARP") {
            rec.step(&self.nodes[port.node].name, format!("answers ARP for {target}: {why}"));
        }
        Some((port.node, port.interface.clone()))
    }
}
