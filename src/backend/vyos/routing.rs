//! Static routes (`protocols static route`) and BGP (`protocols bgp system-as`, one
//! instance per box).

use super::{Block, NAME, Written, interfaces};
use crate::backend::cannot_express;
use crate::diag::Diagnostic;
use crate::plan::{GatewayPlan, Nexthop};

pub fn static_routes(gw: &GatewayPlan, findings: &mut Vec<Diagnostic>) -> Vec<Written> {
    let mut blocks = Vec::new();
    for r in &gw.routes {
        let path = format!("protocols static route {}", r.to);
        let mut b = Block::new(r.origin.describe(), (0, format!("{path} {}", r.origin.describe())));
        match &r.nexthop {
            Nexthop::Via(v) => b.node(format!("{path} next-hop {v}")),
            Nexthop::Interface(i) if interfaces::classify(i).is_some() => b.node(format!("{path} interface {i}")),
            Nexthop::Interface(i) => {
                findings.push(cannot_express(
                    NAME,
                    &r.origin,
                    &format!("`{i}` is not a VyOS interface name"),
                    "route through an interface with a VyOS name (ethN, vtiN, ...)",
                ));
                continue;
            }
        }
        blocks.push(b.written());
    }
    blocks
}

pub fn bgp(gw: &GatewayPlan, findings: &mut Vec<Diagnostic>) -> Vec<Written> {
    let Some(bgp) = &gw.bgp else { return Vec::new() };
    let mut b = Block::new(bgp.origin.describe(), (0, String::new()));
    b.leaf("protocols bgp system-as", bgp.asn.value);
    for n in &bgp.networks {
        b.node(format!("protocols bgp address-family ipv4-unicast network {}", n.value));
    }
    for n in &bgp.neighbors {
        let path = format!("protocols bgp neighbor {}", n.address.value);
        b.leaf(format!("{path} remote-as"), n.remote_as.value);
        // VyOS runs FRR with `no bgp default ipv4-unicast`: a neighbour exchanges IPv4
        // routes only once the address family is set on it.
        b.node(format!("{path} address-family ipv4-unicast"));
        match (n.holdtime, n.keepalive) {
            (Some(h), Some(k)) => {
                b.leaf(format!("{path} timers holdtime"), h);
                b.leaf(format!("{path} timers keepalive"), k);
            }
            (None, None) => {}
            _ => findings.push(
                cannot_express(
                    NAME,
                    &bgp.origin,
                    &format!(
                        "neighbour {} sets only one of holdtime and keepalive, and VyOS applies BGP timers only when both are set",
                        n.address.value
                    ),
                    "give the neighbour both holdtime and keepalive (e.g. 90 and 30), or neither",
                )
                .label(n.address.span.clone(), "this neighbour"),
            ),
        }
    }
    vec![b.written()]
}
