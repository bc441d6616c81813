//! IPsec tunnels as `natc verify`'s lab runs them: one charon per gateway with
//! strongSwan's userspace ESP (libipsec). For each policy-based tunnel charon installs a
//! route for the remote selectors into the TUN device `ipsec0` (table 220, consulted
//! before the main table: `net.rs`). A packet routed there after POSTROUTING (SNAT done)
//! is taken by the tunnel whose selectors hold its (source, destination); it travels as
//! an outer packet, ESP in UDP 4500 (libipsec always encapsulates, NAT or not), walked
//! through the lab like any packet (NAT and conntrack on the way included), and comes out
//! at the far end's `ipsec0`, where its netfilter walk goes on.
//!
//! Before any probe the tunnels are brought up (or found down) by walking IKE (`ike.rs`);
//! only an up tunnel's routes are installed (`install_routes`), and one that is down is
//! noted where a packet would have taken it. Nothing here guesses: what the lab does not
//! show trace (a tunnel inside a tunnel, several tunnels taking one packet) is "not
//! modelled".

use super::conntrack::Conntrack;
use super::lab::{End, Lab};
use super::net::Net;
use super::packet::{Kind, Packet, Tuple};
use super::render::Recorder;
use crate::plan::{GatewayPlan, Tunnel, TunnelMode};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// libipsec's TUN device: where tunnel traffic leaves and comes in, in the lab.
pub const TUN: &str = "ipsec0";

/// One policy-based tunnel of a gateway node.
#[derive(Debug, Clone)]
pub struct TunnelEnd<'a> {
    pub node: usize,
    pub tunnel: &'a Tunnel,
    pub local: Vec<Ipv4Net>,
    pub remote: Vec<Ipv4Net>,
    /// Its security association, once up.
    pub sa: Option<Sa>,
}

#[derive(Debug, Clone, Copy)]
pub struct Sa {
    /// The far end (an index into `Tunnels::ends`).
    pub peer: usize,
    /// The outer packet as this end sends it: udp local:4500 → remote:4500.
    pub sends: Tuple,
    /// The same packet as the far end receives it, after any NAT on the way.
    pub arrives: Tuple,
}

impl Sa {
    pub(super) fn behind_nat(&self) -> bool {
        self.sends != self.arrives
    }
}

#[derive(Debug, Clone, Default)]
pub struct Tunnels<'a> {
    pub ends: Vec<TunnelEnd<'a>>,
    /// One line per tunnel pair or end, for the report's head: `TUNNEL UP …`,
    /// `TUNNEL DOWN …`, `TUNNEL ?  …`.
    pub summary: Vec<String>,
    /// Tunnels that certainly do not come up (the lab's packets still walk, without them).
    pub down: Vec<String>,
    /// Tunnels trace cannot tell about (what IKE makes of a disagreement): every
    /// expectation fails with them.
    pub unsure: Vec<String>,
    /// The lab's conntrack after the IKE exchanges: every expectation starts from it.
    pub conntrack: Vec<Conntrack>,
}

impl<'a> Tunnels<'a> {
    /// The tunnel on `node` whose selectors take this packet: the policy libipsec looks up
    /// for what reaches `ipsec0`.
    fn taking(&self, node: usize, t: &Tuple) -> Vec<usize> {
        (0..self.ends.len())
            .filter(|&i| {
                let e = &self.ends[i];
                e.node == node
                    && e.local.iter().any(|n| n.contains(&t.source))
                    && e.remote.iter().any(|n| n.contains(&t.destination))
            })
            .collect()
    }
}

/// An arrival expectation whose destination lies in a policy-based tunnel's remote
/// selectors: only a tunnel may carry it, so verify's tunnel control (the packet filters
/// loaded, no charon) must not pass it. verify/tunnels.rs `crossing`, word for word.
pub fn crossing(plan: &crate::plan::Plan, e: &crate::plan::Expect) -> bool {
    matches!(e.outcome, crate::plan::Outcome::Arrives { .. })
        && plan.gateways.iter().flat_map(|g| &g.tunnels).any(|t| match &t.mode {
            TunnelMode::Policy { remote, .. } => remote.iter().any(|n| n.value.contains(&e.to.value)),
            TunnelMode::Vti(_) => false,
        })
}

/// `utm-a tunnel/to-utm-b`
pub(super) fn describe(e: &TunnelEnd) -> String {
    e.tunnel.origin.describe()
}

/// `utm-a/to-utm-b`, as verify's tunnel lines name an end.
pub(super) fn short(e: &TunnelEnd) -> String {
    format!("{}/{}", e.tunnel.origin.gateway, e.tunnel.origin.name)
}

/// Routes of tunnels that are up go live (charon installs them with the CHILD_SA); the
/// others stay idle, noted when a packet would have taken them.
pub fn install_routes(lab: &mut Lab) {
    for e in lab.tunnels.ends.iter().filter(|e| e.sa.is_some()) {
        let net = &mut lab.nodes[e.node].net;
        let (live, idle): (Vec<_>, Vec<_>) = std::mem::take(&mut net.idle_tunnel_routes)
            .into_iter()
            .partition(|(name, _)| *name == e.tunnel.origin.name);
        net.idle_tunnel_routes = idle;
        net.tunnel_routes.extend(live.into_iter().map(|(_, r)| r));
    }
}

/// One gateway on its own (`natc trace --from/--to`): its policy tunnels' routes as if
/// they were up. Gives their names, if it has any.
pub fn assume_up(net: &mut Net) -> Option<String> {
    let mut names: Vec<String> = Vec::new();
    for (name, route) in std::mem::take(&mut net.idle_tunnel_routes) {
        if !names.contains(&name) {
            names.push(name);
        }
        net.tunnel_routes.push(route);
    }
    (!names.is_empty()).then(|| names.join(", "))
}

/// One gateway on its own: a packet it sends into `ipsec0` must be in a policy tunnel's
/// selectors, or charon drops it; the step names the tunnel (whose far end is not
/// walked) or says it is dropped.
pub fn taken_alone(plan: &GatewayPlan, t: &Tuple, rec: &mut Recorder) -> bool {
    let Some(route) = plan.tunnels.iter().find(|tunnel| match &tunnel.mode {
        TunnelMode::Policy { local, remote } => {
            local.iter().any(|n| n.value.contains(&t.source)) && remote.iter().any(|n| n.value.contains(&t.destination))
        }
        TunnelMode::Vti(_) => false,
    }) else {
        rec.step(&plan.name, format!("{TUN}: no tunnel's selectors take {t}: charon drops it"));
        return false;
    };
    let name = &route.origin.name;
    rec.step(
        &plan.name,
        format!("into tunnel {name} (its far end is not walked here: natc trace INTENT walks the lab)"),
    );
    true
}

/// A destination inside the remote selectors of a tunnel that is not up: charon
/// installed no route for it, which the step says (the packet goes by the main table).
pub fn note_idle(net: &Net, node: &str, destination: Ipv4Addr, rec: &mut Recorder) {
    if let Some((name, r)) = net.idle_tunnel_routes.iter().find(|(_, r)| r.to.contains(&destination))
        && !net.tunnel_routes.iter().any(|r| r.to.contains(&destination))
    {
        rec.step(node, format!("routing: tunnel {name} is not up, so charon's route for {} is not there", r.to));
    }
}

impl Lab<'_> {
    /// A packet `at` routed into `ipsec0`: the tunnel whose selectors take it carries it
    /// to its far end, where it comes in on `ipsec0`. Gives that node and the packet, or
    /// how the walk ends (a drop, said in a step).
    pub(super) fn through_tunnel(
        &self,
        ct: &mut [Conntrack],
        at: usize,
        p: Packet,
        rec: &mut Recorder,
        depth: usize,
    ) -> Result<(usize, Packet), End> {
        let name = &self.nodes[at].name;
        let taking = self.tunnels.taking(at, &p.tuple);
        let e = match taking.as_slice() {
            [] => {
                rec.step(name, format!("{TUN}: no tunnel's selectors take {}: charon drops it", p.tuple));
                return Err(End::Dropped);
            }
            [one] => &self.tunnels.ends[*one],
            several => {
                let names: Vec<String> = several.iter().map(|&i| describe(&self.tunnels.ends[i])).collect();
                rec.unmodelled(
                    name,
                    &format!("the selectors of several tunnels take {} ({})", p.tuple, names.join(", ")),
                );
                return Err(End::Dropped);
            }
        };
        let tunnel = &e.tunnel.origin.name;
        let Some(sa) = e.sa else {
            rec.step(name, format!("into tunnel {tunnel}: it is not up, the packet is lost"));
            return Err(End::Dropped);
        };
        if depth > 0 {
            rec.unmodelled(name, &format!("a tunnel's packet inside tunnel {tunnel}"));
            return Err(End::Dropped);
        }
        let how = if sa.behind_nat() {
            "NAT-T: NAT on the way"
        } else if e.tunnel.nat_traversal {
            "NAT-T"
        } else {
            "libipsec's UDP encapsulation"
        };
        rec.step(
            name,
            format!(
                "into tunnel {tunnel} (ESP in UDP 4500 {} → {}; {how}): {}",
                sa.sends.source, sa.sends.destination, p
            ),
        );
        let outer = Packet::new(sa.sends, Kind::Datagram);
        let far = &self.tunnels.ends[sa.peer];
        let far_name = &self.nodes[far.node].name;
        match self.walk_at(ct, at, outer, rec, depth + 1) {
            End::Delivered { node, packet } if node == far.node && packet.tuple == sa.arrives => {
                if !(far.remote.iter().any(|n| n.contains(&p.tuple.source))
                    && far.local.iter().any(|n| n.contains(&p.tuple.destination)))
                {
                    rec.step(
                        far_name,
                        format!("out of tunnel {}: not in its selectors, dropped", far.tunnel.origin.name),
                    );
                    return Err(End::Dropped);
                }
                rec.step(
                    far_name,
                    format!(
                        "out of tunnel {} (from {}): {} comes in on {TUN}",
                        far.tunnel.origin.name, packet.tuple.source, p
                    ),
                );
                rec.reached.push(node);
                Ok((node, p))
            }
            End::Delivered { node, packet } => {
                rec.unmodelled(
                    name,
                    &format!(
                        "tunnel {tunnel}'s outer packet arrives at {} as {}, not at {far_name} as {} (how its SA was set up)",
                        self.nodes[node].name, packet.tuple, sa.arrives
                    ),
                );
                Err(End::Dropped)
            }
            _ => {
                rec.step(name, format!("tunnel {tunnel}: the outer packet does not get through, {} is lost", p.tuple));
                Err(End::Dropped)
            }
        }
    }
}
