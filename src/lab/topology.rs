//! The lab as namespaces and wires, worked out before anything is created: which node
//! has which interfaces and addresses, and which interfaces share a layer-2 segment.

use crate::plan::GatewayPlan;
use crate::plan::{Attachment, Lab};
use ipnet::Ipv4Net;
use std::collections::HashMap;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Runs natc's generated config; observed but never answers probes.
    Gateway,
    /// A lab host: sends probes, answers them, and may route (`forwarding = true`).
    Host,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
    /// Host settings; a gateway takes forwarding and routes from natc's output.
    pub forwarding: bool,
    pub routes: Vec<(Ipv4Net, Ipv4Addr)>,
    pub default_route: Option<Ipv4Addr>,
}

/// One interface of a node, wired into a segment.
#[derive(Debug, Clone)]
pub struct Port {
    pub node: usize,
    pub interface: String,
    pub addresses: Vec<Ipv4Net>,
}

/// One switch: every port on it shares a layer-2 broadcast domain.
#[derive(Debug, Clone)]
pub struct Segment {
    /// What the intent calls it (its first attachment), for messages.
    pub name: String,
    pub ports: Vec<Port>,
}

#[derive(Debug, Clone)]
pub struct Topology {
    /// Gateways first, in intent order, then hosts.
    pub nodes: Vec<Node>,
    pub segments: Vec<Segment>,
}

impl Topology {
    /// Every gateway interface (except `lo`, which every namespace has) becomes a port; a
    /// host interface joins the segment of what it attaches to; a link merges segments.
    pub fn new(gateways: &[GatewayPlan], lab: &Lab) -> Topology {
        let mut nodes = Vec::new();
        let mut joins = Joins::default();
        let mut ports: Vec<(Attachment, Port)> = Vec::new();
        for gw in gateways {
            let node = nodes.len();
            nodes.push(Node {
                name: gw.name.clone(),
                kind: NodeKind::Gateway,
                forwarding: false,
                routes: Vec::new(),
                default_route: None,
            });
            for iface in gw.interfaces.iter().filter(|i| i.name != "lo") {
                let at = Attachment::GatewayInterface { gateway: gw.name.clone(), interface: iface.name.clone() };
                joins.key(&at);
                let addresses = iface.addresses.iter().map(|a| a.value).collect();
                ports.push((at, Port { node, interface: iface.name.clone(), addresses }));
            }
        }
        for host in &lab.hosts {
            let node = nodes.len();
            nodes.push(Node {
                name: host.name.value.clone(),
                kind: NodeKind::Host,
                forwarding: host.forwarding,
                routes: host.routes.iter().map(|(to, via)| (to.value, via.value)).collect(),
                default_route: host.gateway.as_ref().map(|g| g.value),
            });
            for (i, iface) in host.interfaces.iter().enumerate() {
                joins.key(&iface.attach.value);
                let port = Port { node, interface: format!("eth{i}"), addresses: vec![iface.address.value] };
                ports.push((iface.attach.value.clone(), port));
            }
        }
        for link in &lab.links {
            for pair in link.ends.windows(2) {
                joins.union(&pair[0].value, &pair[1].value);
            }
        }
        // Segments in the order their first port appears, so namespace wiring is stable.
        let mut segment_of_root: HashMap<usize, usize> = HashMap::new();
        let mut segments: Vec<Segment> = Vec::new();
        for (at, port) in ports {
            let root = joins.find_key(&at);
            let index = *segment_of_root.entry(root).or_insert_with(|| {
                segments.push(Segment { name: at.to_string(), ports: Vec::new() });
                segments.len() - 1
            });
            segments[index].ports.push(port);
        }
        Topology { nodes, segments }
    }

    pub fn node(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}

/// Union-find over attachments: near-linear however many links the lab has.
#[derive(Default)]
struct Joins {
    index: HashMap<Attachment, usize>,
    parent: Vec<usize>,
}

impl Joins {
    fn key(&mut self, at: &Attachment) -> usize {
        if let Some(&i) = self.index.get(at) {
            return i;
        }
        let i = self.parent.len();
        self.parent.push(i);
        self.index.insert(at.clone(), i);
        i
    }

    fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn find_key(&mut self, at: &Attachment) -> usize {
        let i = self.key(at);
        self.root(i)
    }

    fn union(&mut self, a: &Attachment, b: &Attachment) {
        let (ra, rb) = (self.find_key(a), self.find_key(b));
        if ra != rb {
            self.parent[rb] = ra;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(text: &str) -> Topology {
        let compiled = crate::compile(text).expect("valid intent");
        Topology::new(&compiled.plan.gateways, compiled.plan.lab.as_ref().expect("a lab"))
    }

    const TWO_GATEWAYS: &str = r#"
natc = 1
name = "t"
[[gateway]]
name = "a"
targets = ["nftables"]
[[gateway.interface]]
name = "eth0"
address = "10.0.1.1/24"
[[gateway.interface]]
name = "eth1"
address = "10.9.0.1/30"
[[gateway]]
name = "b"
targets = ["nftables"]
[[gateway.interface]]
name = "eth1"
address = "10.9.0.2/30"
[[lab.host]]
name = "h1"
address = "10.0.1.10/24"
attach = "a.eth0"
gateway = "10.0.1.1"
[[lab.host]]
name = "h2"
address = "10.0.1.11/24"
attach = "a.eth0"
[[lab.host]]
name = "r"
interfaces = [{ address = "10.0.2.1/24", attach = "lan" }, { address = "10.0.3.1/24", attach = "wan" }]
forwarding = true
[[lab.host]]
name = "h3"
address = "10.0.2.10/24"
attach = "lan"
[[lab.link]]
ends = ["a.eth1", "b.eth1"]
"#;

    fn members(t: &Topology, segment: &Segment) -> Vec<String> {
        segment.ports.iter().map(|p| format!("{}.{}", t.nodes[p.node].name, p.interface)).collect()
    }

    #[test]
    fn hosts_on_one_gateway_interface_share_its_segment_and_links_join_gateways() {
        let t = topology(TWO_GATEWAYS);
        let all: Vec<Vec<String>> = t.segments.iter().map(|s| members(&t, s)).collect();
        assert_eq!(
            all,
            vec![
                vec!["a.eth0", "h1.eth0", "h2.eth0"],
                vec!["a.eth1", "b.eth1"],
                vec!["r.eth0", "h3.eth0"],
                vec!["r.eth1"],
            ]
        );
        assert_eq!(t.segments[0].name, "a.eth0");
        assert_eq!(t.segments[2].name, "lan");
    }

    #[test]
    fn nodes_carry_their_addresses_routes_and_forwarding() {
        let t = topology(TWO_GATEWAYS);
        let names: Vec<&str> = t.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "h1", "h2", "r", "h3"]);
        assert_eq!(t.nodes[0].kind, NodeKind::Gateway);
        assert_eq!(t.nodes[2].default_route, Some("10.0.1.1".parse().unwrap()));
        assert!(t.nodes[4].forwarding && !t.nodes[5].forwarding);
        let r_wan = &t.segments[3].ports[0];
        assert_eq!(r_wan.addresses, vec!["10.0.3.1/24".parse::<Ipv4Net>().unwrap()]);
    }
}
